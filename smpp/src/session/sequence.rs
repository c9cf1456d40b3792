//! Sequence numbers (section 5.1.4), the rule in one place: which values a request may
//! carry (the codec refuses to encode any other), the wrap from 0x7FFFFFFF back to 1, and
//! an allocator that hands them out in order.

/// The largest sequence_number the specification allows (section 5.1.4: "0x00000001 to
/// 0x7FFFFFFF").
pub const MAX_SEQUENCE_NUMBER: u32 = 0x7FFF_FFFF;

/// True when `sequence_number` may be carried by a request: 5.1.4 allows 0x00000001 to
/// 0x7FFFFFFF.
///
/// A response is not held to this: it echoes whatever its request carried ("The associated
/// SMPP response PDU must preserve this field", 5.1.4), and a generic_nack answering a PDU
/// that could not be decoded carries 0 (4.3).
#[inline]
pub const fn is_valid_request_sequence(sequence_number: u32) -> bool {
    sequence_number != 0 && sequence_number <= MAX_SEQUENCE_NUMBER
}

/// The sequence number after `n`, wrapping from 0x7FFFFFFF back to 1 (5.1.4); never 0.
pub const fn next_sequence_number(n: u32) -> u32 {
    if n >= MAX_SEQUENCE_NUMBER {
        1
    } else {
        n + 1
    }
}

/// Hands out the sequence numbers of the requests one side of a connection originates:
/// 1, 2, … 0x7FFFFFFF, then 1 again, never 0 (5.1.4). One allocator per connection and
/// direction, owned by whoever sends that side's requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceNumbers {
    /// The number the next request gets; always valid for a request.
    next: u32,
}

impl SequenceNumbers {
    /// An allocator whose first number is 1.
    pub const fn new() -> Self {
        SequenceNumbers { next: 1 }
    }

    /// An allocator whose first number is `first`, or 1 when `first` may not be carried by
    /// a request (0 or above 0x7FFFFFFF): for a connection that has already numbered some
    /// requests elsewhere.
    pub const fn starting_at(first: u32) -> Self {
        SequenceNumbers {
            next: if is_valid_request_sequence(first) {
                first
            } else {
                1
            },
        }
    }

    /// The number for the next request.
    pub fn allocate(&mut self) -> u32 {
        let n = self.next;
        self.next = next_sequence_number(n);
        n
    }
}

impl Default for SequenceNumbers {
    fn default() -> Self {
        SequenceNumbers::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn request_sequence_numbers_are_one_to_0x7fffffff() {
        assert!(!is_valid_request_sequence(0));
        assert!(is_valid_request_sequence(1));
        assert!(is_valid_request_sequence(0x7FFF_FFFF));
        assert!(!is_valid_request_sequence(0x8000_0000));
        assert!(!is_valid_request_sequence(u32::MAX));
    }

    #[test]
    fn sequence_numbers_wrap_inside_the_spec_range() {
        assert_eq!(next_sequence_number(1), 2);
        assert_eq!(next_sequence_number(MAX_SEQUENCE_NUMBER), 1);
        assert_eq!(next_sequence_number(u32::MAX), 1);
        assert_eq!(next_sequence_number(0), 1);
    }

    #[test]
    fn allocation_starts_at_one_and_counts_up() {
        let mut seq = SequenceNumbers::new();
        assert_eq!([seq.allocate(), seq.allocate(), seq.allocate()], [1, 2, 3]);
        assert_eq!(SequenceNumbers::default(), SequenceNumbers::new());
    }

    #[test]
    fn allocation_wraps_from_0x7fffffff_to_one_never_zero() {
        let mut seq = SequenceNumbers::starting_at(0x7FFF_FFFE);
        assert_eq!(
            [seq.allocate(), seq.allocate(), seq.allocate()],
            [0x7FFF_FFFE, 0x7FFF_FFFF, 1]
        );
    }

    #[test]
    fn an_invalid_start_begins_at_one() {
        for first in [0, 0x8000_0000, u32::MAX] {
            assert_eq!(
                SequenceNumbers::starting_at(first).allocate(),
                1,
                "{first:#x}"
            );
        }
        assert_eq!(SequenceNumbers::starting_at(42).allocate(), 42);
    }

    proptest! {
        #[test]
        fn every_allocated_number_is_valid_and_follows_the_last(
            first in prop_oneof![any::<u32>(), (MAX_SEQUENCE_NUMBER - 64)..=MAX_SEQUENCE_NUMBER],
            n in 1usize..128,
        ) {
            let mut seq = SequenceNumbers::starting_at(first);
            let mut last = seq.allocate();
            prop_assert!(is_valid_request_sequence(last));
            for _ in 0..n {
                let next = seq.allocate();
                prop_assert!(is_valid_request_sequence(next));
                prop_assert_eq!(next, if last == MAX_SEQUENCE_NUMBER { 1 } else { last + 1 });
                last = next;
            }
        }
    }
}
