//! The event log in batches: the events of one group (see [`super::group`]) are one sled
//! value, under the sequence number of the first.
//!
//! One key an event cost three sled inserts a message (queued, submitted, delivered), each
//! at the right edge of the tree, where sled splits a leaf every few inserts. A batch costs
//! one insert a group. A batch's value is its events one after the other, each as its
//! sequence number (8 bytes, big-endian), its length (4 bytes, big-endian) and its encoded
//! [`Event`](super::Event), behind a version byte.

use super::{printable_key, StoreError, Write};

/// The layout of a batch's value.
const BATCH_VERSION: u8 = 1;

/// The group's writes with its event puts (tree `events`) taken out and appended as one
/// batch (tree `batches`), keyed by the first event's sequence number. Every other write
/// keeps its place.
pub(super) fn batch_group(writes: Vec<Write>, events: u8, batches: u8) -> Vec<Write> {
    if !writes.iter().any(|w| w.tree == events && w.value.is_some()) {
        return writes;
    }
    let mut out = Vec::with_capacity(writes.len());
    let mut value = vec![BATCH_VERSION];
    let mut first = None;
    for w in writes {
        match (
            w.tree == events,
            w.value,
            <[u8; 8]>::try_from(w.key.as_slice()),
        ) {
            (true, Some(event), Ok(seq)) => {
                first.get_or_insert(seq);
                value.extend_from_slice(&seq);
                let len = u32::try_from(event.len()).unwrap_or(u32::MAX);
                value.extend_from_slice(&len.to_be_bytes());
                value.extend_from_slice(&event);
            }
            (_, value, _) => out.push(Write {
                tree: w.tree,
                key: w.key,
                value,
            }),
        }
    }
    if let Some(first) = first {
        out.push(Write {
            tree: batches,
            key: first.to_vec(),
            value: Some(value),
        });
    }
    out
}

/// A batch's events in order: each sequence number with its encoded event.
///
/// # Errors
/// [`StoreError::Decode`] or [`StoreError::Version`] for a value this build did not write.
pub(super) fn unbatch<'a>(key: &[u8], value: &'a [u8]) -> Result<Vec<(u64, &'a [u8])>, StoreError> {
    let bad = |reason: &str| StoreError::Decode {
        tree: "event_batches",
        key: printable_key(key),
        reason: reason.into(),
    };
    let mut rest = match value.split_first() {
        Some((&BATCH_VERSION, rest)) => rest,
        Some((&found, _)) => {
            return Err(StoreError::Version {
                tree: "event_batches",
                key: printable_key(key),
                found,
            })
        }
        None => return Err(bad("empty value")),
    };
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (head, tail) = rest.split_at(12.min(rest.len()));
        let (seq, len) = head.split_at(8.min(head.len()));
        let seq = <[u8; 8]>::try_from(seq)
            .map(u64::from_be_bytes)
            .map_err(|_| bad("an event is cut short"))?;
        let len = <[u8; 4]>::try_from(len)
            .map(u32::from_be_bytes)
            .map_err(|_| bad("an event is cut short"))?;
        let len = usize::try_from(len).map_err(|_| bad("an event is too long"))?;
        if tail.len() < len {
            return Err(bad("an event is cut short"));
        }
        let (event, tail) = tail.split_at(len);
        out.push((seq, event));
        rest = tail;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64, body: &[u8]) -> Write {
        Write {
            tree: 7,
            key: seq.to_be_bytes().to_vec(),
            value: Some(body.to_vec()),
        }
    }

    fn other(key: &[u8]) -> Write {
        Write {
            tree: 1,
            key: key.to_vec(),
            value: None,
        }
    }

    #[test]
    fn a_groups_events_become_one_batch_under_the_first_number_and_read_back() {
        let writes = vec![other(b"a"), event(41, b"x"), other(b"b"), event(42, b"")];
        let out = batch_group(writes, 7, 10);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0], other(b"a"));
        assert_eq!(out[1], other(b"b"));
        assert_eq!(out[2].tree, 10);
        assert_eq!(out[2].key, 41u64.to_be_bytes().to_vec());
        let value = out[2].value.clone().unwrap();
        assert_eq!(
            unbatch(&out[2].key, &value).unwrap(),
            vec![(41, &b"x"[..]), (42, &b""[..])]
        );
    }

    #[test]
    fn a_group_without_events_is_left_as_it_is() {
        let writes = vec![other(b"a"), other(b"b")];
        assert_eq!(batch_group(writes.clone(), 7, 10), writes);
    }

    #[test]
    fn a_damaged_batch_is_a_typed_error_not_a_panic() {
        let key = 1u64.to_be_bytes();
        let out = batch_group(vec![event(1, b"hello")], 7, 10);
        let value = out[0].value.clone().unwrap();
        for cut in 2..value.len() {
            assert!(
                matches!(unbatch(&key, &value[..cut]), Err(StoreError::Decode { .. })),
                "cut at {cut}"
            );
        }
        assert!(matches!(
            unbatch(&key, &[9, 0]),
            Err(StoreError::Version { found: 9, .. })
        ));
        assert!(matches!(unbatch(&key, &[]), Err(StoreError::Decode { .. })));
        assert_eq!(unbatch(&key, &[BATCH_VERSION]).unwrap(), vec![]);
    }
}
