//! SMPP 3.4 codec: every PDU of the specification as typed structs, optional parameters
//! (TLVs), the text encodings, long-message segmentation and delivery receipts.
//!
//! The crate is sans-IO: it turns bytes into PDUs and PDUs into bytes and knows nothing of
//! sockets, actors or storage. Decoding borrows from the input frame ([`Pdu<'a>`]) and makes
//! no heap allocation; [`Pdu::into_owned`] detaches a PDU from its buffer when it must
//! outlive it. The optional `tokio-codec` feature adds [`codec::SmppCodec`]; `serde` the
//! JSON shapes; `fixtures` the annotated-hex loader of the test fixtures.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod command;
pub mod error;
pub mod header;
pub mod octets;
pub mod pdu;
pub mod receipt;
pub mod session;
pub mod text;
pub mod time;
pub mod tlv;
pub mod values;

#[cfg(feature = "fixtures")]
pub mod fixtures;

#[cfg(feature = "tokio-codec")]
pub mod codec;

pub use command::{CommandId, CommandStatus};
pub use error::{DecodeError, EncodeError, FieldErrorKind};
pub use header::{Header, DEFAULT_MAX_PDU_LEN, HEADER_LEN};
pub use octets::Octets;
pub use pdu::{Body, Pdu};
pub use tlv::{Tag, Tlv, Tlvs};
