//! The order work is taken in: per carrier, per priority class, one line per destination
//! holding its messages by id (acceptance order). Only a line's head may be sent; a later
//! message to the same destination waits until the head is submitted or ends, so it never
//! overtakes it. The lines whose head is ready are kept ordered by the head's id, so the
//! oldest ready work of the highest class is always found first.

use crate::store::{Class, MessageId};
use std::collections::{BTreeSet, HashMap};

/// The lines of one carrier and class.
#[derive(Debug, Default)]
struct ClassQueue {
    /// Destination → its messages not yet fully submitted, by id.
    lines: HashMap<String, BTreeSet<MessageId>>,
    /// Heads of the lines that have a segment ready to send, by id.
    ready: BTreeSet<MessageId>,
    /// Messages in the lines.
    depth: usize,
}

/// Every carrier's lines.
#[derive(Debug, Default)]
pub(crate) struct Queues {
    carriers: HashMap<String, [ClassQueue; 3]>,
}

/// Which line: carrier, class, destination.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    pub carrier: &'a str,
    pub class: Class,
    pub dest: &'a str,
}

impl Queues {
    fn class_queue(&self, carrier: &str, class: Class) -> Option<&ClassQueue> {
        self.carriers.get(carrier)?.get(class.rank())
    }

    fn class_queue_mut(&mut self, carrier: &str, class: Class) -> Option<&mut ClassQueue> {
        if !self.carriers.contains_key(carrier) {
            self.carriers.insert(carrier.to_owned(), Default::default());
        }
        self.carriers.get_mut(carrier)?.get_mut(class.rank())
    }

    /// Puts `id` in its line, at its place by id.
    pub fn add(&mut self, line: Line<'_>, id: MessageId) {
        if let Some(q) = self.class_queue_mut(line.carrier, line.class) {
            if q.lines.entry(line.dest.to_owned()).or_default().insert(id) {
                q.depth = q.depth.saturating_add(1);
            }
        }
    }

    /// Takes `id` out of its line (it was submitted, ended or moved to another carrier).
    pub fn remove(&mut self, line: Line<'_>, id: MessageId) {
        if let Some(q) = self.class_queue_mut(line.carrier, line.class) {
            q.ready.remove(&id);
            if let Some(l) = q.lines.get_mut(line.dest) {
                if l.remove(&id) {
                    q.depth = q.depth.saturating_sub(1);
                }
                if l.is_empty() {
                    q.lines.remove(line.dest);
                }
            }
        }
    }

    /// The first message of a line.
    pub fn head(&self, line: Line<'_>) -> Option<MessageId> {
        self.class_queue(line.carrier, line.class)?
            .lines
            .get(line.dest)?
            .first()
            .copied()
    }

    /// Lists the line's head as ready or not, as `ready` says of it.
    pub fn refresh(&mut self, line: Line<'_>, ready: impl Fn(MessageId) -> bool) {
        let head = self.head(line);
        if let (Some(head), Some(q)) = (head, self.class_queue_mut(line.carrier, line.class)) {
            if ready(head) {
                q.ready.insert(head);
            } else {
                q.ready.remove(&head);
            }
        }
    }

    /// Unlists `id` as ready (it turned out to have nothing to take).
    pub fn drop_ready(&mut self, carrier: &str, class: Class, id: MessageId) {
        if let Some(q) = self.class_queue_mut(carrier, class) {
            q.ready.remove(&id);
        }
    }

    /// The oldest ready head of a carrier's class.
    pub fn first_ready(&self, carrier: &str, class: Class) -> Option<MessageId> {
        self.class_queue(carrier, class)?.ready.first().copied()
    }

    /// Messages waiting in a carrier's class (in its lines).
    pub fn depth(&self, carrier: &str, class: Class) -> usize {
        self.class_queue(carrier, class).map_or(0, |q| q.depth)
    }

    /// Every line of a carrier: class, destination and its messages in order.
    pub fn lines(&self, carrier: &str) -> Vec<(Class, String, Vec<MessageId>)> {
        let mut out = Vec::new();
        for class in Class::BY_PRIORITY {
            if let Some(q) = self.class_queue(carrier, class) {
                for (dest, ids) in &q.lines {
                    out.push((class, dest.clone(), ids.iter().copied().collect()));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: &str = "docomo";

    fn line(class: Class, dest: &str) -> Line<'_> {
        Line {
            carrier: C,
            class,
            dest,
        }
    }

    #[test]
    fn only_heads_are_ready_and_the_oldest_comes_first() {
        let mut q = Queues::default();
        for (id, dest) in [(5, "a"), (3, "b"), (7, "a")] {
            q.add(line(Class::Bulk, dest), MessageId(id));
        }
        for dest in ["a", "b"] {
            q.refresh(line(Class::Bulk, dest), |_| true);
        }
        assert_eq!(q.first_ready(C, Class::Bulk), Some(MessageId(3)));
        q.remove(line(Class::Bulk, "b"), MessageId(3));
        assert_eq!(q.first_ready(C, Class::Bulk), Some(MessageId(5)));
        // 7 is behind 5 in line "a": not ready while 5 is there, even when 5 is not ready.
        q.refresh(line(Class::Bulk, "a"), |_| false);
        assert_eq!(q.first_ready(C, Class::Bulk), None);
        q.remove(line(Class::Bulk, "a"), MessageId(5));
        q.refresh(line(Class::Bulk, "a"), |_| true);
        assert_eq!(q.first_ready(C, Class::Bulk), Some(MessageId(7)));
        assert_eq!(q.depth(C, Class::Bulk), 1);
        assert_eq!(q.depth(C, Class::Otp), 0);
        // Adding what is there, or removing what is not, leaves the count as it is.
        q.add(line(Class::Bulk, "a"), MessageId(7));
        q.remove(line(Class::Bulk, "a"), MessageId(99));
        q.remove(line(Class::Bulk, "zz"), MessageId(7));
        assert_eq!(q.depth(C, Class::Bulk), 1);
    }

    #[test]
    fn a_message_put_back_takes_its_place_by_id() {
        let mut q = Queues::default();
        q.add(line(Class::Otp, "a"), MessageId(9));
        q.add(line(Class::Otp, "a"), MessageId(4));
        assert_eq!(q.head(line(Class::Otp, "a")), Some(MessageId(4)));
        assert_eq!(
            q.lines(C),
            vec![(Class::Otp, "a".to_owned(), vec![MessageId(4), MessageId(9)])]
        );
    }
}
