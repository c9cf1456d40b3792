//! The values of the mandatory parameters that are bit fields or enumerations (section 5.2),
//! one file per family: what each bit or number means, written once and used by the PDUs,
//! the text layer, the receipts, the simulator and the connector.

pub mod data_coding;
pub mod esm_class;
pub mod message_state;
pub mod registered_delivery;

pub use message_state::MessageState;
