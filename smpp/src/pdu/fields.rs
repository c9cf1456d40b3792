//! The field types of a PDU body (section 3.1) behind one trait, [`Field`], and
//! [`pdu_struct!`], which declares a body from its fields in wire order.
//!
//! Each type's impl lives beside the type: Integer (`u8`), C-Octet String and short_message
//! (both [`Octets`](crate::octets::Octets)) in `octets.rs`, the dest_address and
//! unsuccess_sme lists in `submit.rs`, the optional part in `tlv.rs`.

use crate::error::{EncodeError, PResult};
use crate::tlv::Tlvs;
use bytes::BufMut;

/// A body field: how it is parsed, sized, checked, written and detached from its frame.
///
/// `Form` tells apart the wire forms of one Rust type: `Octets` is a C-Octet String
/// ([`COctetString`]) or a short_message ([`ShortMessage`]); the other types have one form,
/// the default `()`.
pub(crate) trait Field<'a, Form = ()>: Sized {
    /// The field detached from the frame: `Self` with `'a` made `'static`.
    type Owned;

    /// Parses the field from the front of `input`; errors name `name` (or the wire field
    /// at fault, for a field made of several).
    fn parse(input: &'a [u8], name: &'static str) -> PResult<'a, Self>;

    /// Octets the field takes on the wire.
    fn encoded_len(&self) -> usize;

    /// Checks the field against its limits before anything is written; errors name `name`.
    #[inline(always)]
    fn check(&self, _name: &'static str) -> Result<(), EncodeError> {
        Ok(())
    }

    /// Writes the field (once [`Field::check`] passed).
    fn write<B: BufMut>(&self, out: &mut Writer<'_, B>);

    /// Detaches the field from the frame it was borrowed from.
    fn into_owned(self) -> Self::Owned;

    /// The optional parameters, when this field is the optional part.
    #[inline(always)]
    fn tlvs(&self) -> Option<&Tlvs<'a>> {
        None
    }

    /// The optional parameters, to change, when this field is the optional part.
    #[inline(always)]
    fn tlvs_mut(&mut self) -> Option<&mut Tlvs<'a>> {
        None
    }
}

/// The form of a C-Octet String of at most `MAX` octets, NUL included (section 3.1).
pub(crate) enum COctetString<const MAX: usize> {}

/// The form of short_message: sm_length, then that many octets (sections 5.2.21, 5.2.22).
pub(crate) enum ShortMessage {}

/// Where a body's fields are written. Fixed-size octets (Integers, a C-Octet String's NUL,
/// sm_length) wait in a register and go out in one `put_slice` when a string's octets or
/// the end of the body come, so a submit_sm's nineteen fields cost five capacity checks of
/// the buffer, not nineteen.
///
/// Inlined into a body's writer, the number waiting is known at compile time at every
/// step, so each run compiles to a few stores and one fixed-size copy. They wait in an
/// integer rather than an array so that the compiler keeps them in registers: indexing an
/// array by the count kept the writer in memory, and the count with it, and cost encode
/// about a third more instructions (see `smpp/BENCHMARKS.md`).
pub(crate) struct Writer<'b, B> {
    /// The buffer the PDU goes into.
    buf: &'b mut B,
    /// Fixed-size octets not written yet, the first in the lowest octet.
    run: u128,
    /// How many octets `run` holds.
    len: usize,
}

impl<'b, B: BufMut> Writer<'b, B> {
    /// Octets `run` can hold.
    const RUN: usize = 16;

    /// A writer appending to `buf`.
    #[inline(always)]
    pub(crate) fn new(buf: &'b mut B) -> Self {
        Writer {
            buf,
            run: 0,
            len: 0,
        }
    }

    /// One fixed-size octet.
    #[inline(always)]
    pub(crate) fn octet(&mut self, octet: u8) {
        if self.len == Self::RUN {
            self.flush();
        }
        self.run |= u128::from(octet) << (8 * self.len);
        self.len += 1;
    }

    /// A 4-octet Integer, most significant octet first.
    #[inline(always)]
    pub(crate) fn u32(&mut self, value: u32) {
        for octet in value.to_be_bytes() {
            self.octet(octet);
        }
    }

    /// A string's octets, after the fixed-size ones before them. An empty one (most
    /// optional fields) skips the copy altogether.
    #[inline(always)]
    pub(crate) fn octets(&mut self, octets: &[u8]) {
        self.flush();
        if !octets.is_empty() {
            self.buf.put_slice(octets);
        }
    }

    /// Writes the octets held back; the last call on a body.
    #[inline(always)]
    pub(crate) fn flush(&mut self) {
        if self.len > 0 {
            if let Some(run) = self.run.to_le_bytes().get(..self.len) {
                self.buf.put_slice(run);
            }
            self.run = 0;
            self.len = 0;
        }
    }
}

/// Declares a PDU body struct from its fields in wire order, each `name: Type` or, for a
/// type with several wire forms, `name: Type as Form`; and writes its parser, length,
/// checks, writer and `into_owned` from that one list, so they can never disagree.
macro_rules! pdu_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident<'a> {
            $( $(#[$fmeta:meta])* $field:ident: $ty:ty $(as $form:ty)? ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
        pub struct $name<'a> {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl<'a> $name<'a> {
            /// Parses the fields from the front of `input`.
            #[inline]
            pub(crate) fn parse(input: &'a [u8]) -> $crate::error::PResult<'a, Self> {
                use $crate::pdu::fields::Field;
                $( let (input, $field) =
                    <$ty as Field<'a $(, $form)?>>::parse(input, stringify!($field))?; )*
                Ok((input, Self { $($field,)* }))
            }

            /// Octets the fields take on the wire.
            #[inline]
            pub(crate) fn encoded_len(&self) -> usize {
                use $crate::pdu::fields::Field;
                0 $( + <$ty as Field<'a $(, $form)?>>::encoded_len(&self.$field) )*
            }

            /// Checks every field, in wire order, and returns the octets the fields take:
            /// the checks and the length in one pass, before anything is written.
            #[inline]
            pub(crate) fn checked_len(&self) -> Result<usize, $crate::error::EncodeError> {
                use $crate::pdu::fields::Field;
                let len = 0;
                $(
                    <$ty as Field<'a $(, $form)?>>::check(&self.$field, stringify!($field))?;
                    let len = len + <$ty as Field<'a $(, $form)?>>::encoded_len(&self.$field);
                )*
                Ok(len)
            }

            /// Writes the fields.
            #[inline]
            pub(crate) fn write<B: bytes::BufMut>(&self, buf: &mut B) {
                use $crate::pdu::fields::Field;
                let mut out = $crate::pdu::fields::Writer::new(buf);
                $( <$ty as Field<'a $(, $form)?>>::write(&self.$field, &mut out); )*
                out.flush();
            }

            /// Detaches from the frame the fields were borrowed from.
            pub fn into_owned(self) -> $name<'static> {
                use $crate::pdu::fields::Field;
                $name { $( $field: <$ty as Field<'a $(, $form)?>>::into_owned(self.$field), )* }
            }

            /// The optional parameters, for a body that takes them.
            pub(crate) fn tlvs_ref(&self) -> Option<&$crate::tlv::Tlvs<'a>> {
                use $crate::pdu::fields::Field;
                None $( .or(<$ty as Field<'a $(, $form)?>>::tlvs(&self.$field)) )*
            }

            /// The optional parameters, for a body that takes them, to change.
            pub(crate) fn tlvs_mut(&mut self) -> Option<&mut $crate::tlv::Tlvs<'a>> {
                use $crate::pdu::fields::Field;
                None $( .or(<$ty as Field<'a $(, $form)?>>::tlvs_mut(&mut self.$field)) )*
            }
        }
    };
}
pub(crate) use pdu_struct;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writer_holds_fixed_octets_back_until_a_string_or_the_end() {
        let mut buf = Vec::new();
        let mut out = Writer::new(&mut buf);
        out.octet(1);
        out.u32(0x0203_0405);
        out.octets(b"");
        out.octet(6);
        out.octets(b"ab");
        out.octet(0);
        out.flush();
        assert_eq!(buf, [1, 2, 3, 4, 5, 6, b'a', b'b', 0]);
    }

    #[test]
    fn a_writer_writes_a_run_longer_than_it_holds() {
        let mut buf = Vec::new();
        let mut out = Writer::new(&mut buf);
        for octet in 0..40 {
            out.octet(octet);
        }
        out.flush();
        assert_eq!(buf, (0..40).collect::<Vec<u8>>());
    }
}
