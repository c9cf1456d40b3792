//! The dispatcher's records, in the outbox's sled database (the same group commit): its
//! own trees and its own journal key, written by the dispatcher alone, a step at a time,
//! all or nothing (see [`crate::store::Journal`]).
//!
//! | tree | key | value |
//! |---|---|---|
//! | `webhook_pending` | delivery id (u64 BE) | [`Delivery`] not yet acknowledged |
//! | `webhook_dead` | delivery id (u64 BE) | [`Delivery`] given up on (dead letters) |
//! | `webhook_meta` | `cursor` | the last event of the log turned into deliveries (u64 BE) |

use super::delivery::Delivery;
use crate::store::{decode, encode, io_error, CommitWait, Journal, SharedDb, StoreError, Write};

const PENDING: u8 = 0;
const DEAD: u8 = 1;
const META: u8 = 2;
const CURSOR: &[u8] = b"cursor";

/// The writes of one step of the dispatcher.
#[derive(Debug, Default)]
pub struct Step(Vec<Write>);

impl Step {
    fn put(&mut self, tree: u8, key: Vec<u8>, value: Option<Vec<u8>>) {
        self.0.push(Write { tree, key, value });
    }

    /// Stores a delivery as pending (new, or its next attempt).
    ///
    /// # Errors
    /// [`StoreError::Encode`].
    pub fn pending(&mut self, d: &Delivery) -> Result<(), StoreError> {
        self.put(
            PENDING,
            d.id.to_be_bytes().to_vec(),
            Some(encode("webhook_delivery", d)?),
        );
        Ok(())
    }

    /// Removes a pending delivery (acknowledged, or moved to the dead letters).
    pub fn done(&mut self, id: u64) {
        self.put(PENDING, id.to_be_bytes().to_vec(), None);
    }

    /// Stores a dead letter (and removes it from pending).
    ///
    /// # Errors
    /// [`StoreError::Encode`].
    pub fn dead(&mut self, d: &Delivery) -> Result<(), StoreError> {
        self.done(d.id);
        self.put(
            DEAD,
            d.id.to_be_bytes().to_vec(),
            Some(encode("webhook_delivery", d)?),
        );
        Ok(())
    }

    /// Makes a dead letter pending again.
    ///
    /// # Errors
    /// [`StoreError::Encode`].
    pub fn revive(&mut self, d: &Delivery) -> Result<(), StoreError> {
        self.put(DEAD, d.id.to_be_bytes().to_vec(), None);
        self.pending(d)
    }

    /// Moves the event cursor.
    pub fn cursor(&mut self, seq: u64) {
        self.put(META, CURSOR.to_vec(), Some(seq.to_be_bytes().to_vec()));
    }

    /// Whether it writes nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The dispatcher's trees.
pub struct WebhookStore {
    db: SharedDb,
    trees: [sled::Tree; 3],
    journal: Journal,
}

impl WebhookStore {
    /// Opens (or creates) the trees in the outbox's database and completes a step a crash
    /// cut short.
    ///
    /// # Errors
    /// [`StoreError`] from sled or a journal that cannot be read.
    pub fn open(db: SharedDb) -> Result<WebhookStore, StoreError> {
        let trees = [
            db.tree("webhook_pending")?,
            db.tree("webhook_dead")?,
            db.tree("webhook_meta")?,
        ];
        let journal = db.journal(b"webhook");
        let store = WebhookStore { db, trees, journal };
        if store.journal.replay(&store.refs())? {
            store.db.flush_now()?;
        }
        Ok(store)
    }

    fn refs(&self) -> [&sled::Tree; 3] {
        [&self.trees[0], &self.trees[1], &self.trees[2]]
    }

    /// Applies a step, all or none.
    ///
    /// # Errors
    /// [`StoreError`] from sled.
    pub fn apply(&self, step: Step) -> Result<(), StoreError> {
        self.journal.apply(&self.refs(), &step.0)
    }

    /// Registers for the next group-commit flush.
    pub fn commit(&self) -> CommitWait {
        self.db.commit()
    }

    /// The last event turned into deliveries (0: none yet).
    ///
    /// # Errors
    /// [`StoreError`] from sled, or a cursor that is not a u64.
    pub fn cursor(&self) -> Result<Option<u64>, StoreError> {
        let Some(v) = self.trees[usize::from(META)]
            .get(CURSOR)
            .map_err(io_error("read the webhook cursor"))?
        else {
            return Ok(None);
        };
        <[u8; 8]>::try_from(v.as_ref())
            .map(u64::from_be_bytes)
            .map(Some)
            .map_err(|_| StoreError::Decode {
                tree: "webhook_meta",
                key: "cursor".into(),
                reason: "not a u64".into(),
            })
    }

    fn all(&self, tree: u8, name: &'static str) -> Result<Vec<Delivery>, StoreError> {
        let mut out = Vec::new();
        for item in self.trees[usize::from(tree)].iter() {
            let (k, v) = item.map_err(io_error("read webhook deliveries"))?;
            out.push(decode(name, &k, &v)?);
        }
        Ok(out)
    }

    /// Every pending delivery, oldest first.
    ///
    /// # Errors
    /// [`StoreError`] from sled or a record that cannot be read.
    pub fn pending(&self) -> Result<Vec<Delivery>, StoreError> {
        self.all(PENDING, "webhook_pending")
    }

    /// Every dead letter, oldest first.
    ///
    /// # Errors
    /// [`StoreError`] from sled or a record that cannot be read.
    pub fn dead_letters(&self) -> Result<Vec<Delivery>, StoreError> {
        self.all(DEAD, "webhook_dead")
    }

    /// One dead letter.
    ///
    /// # Errors
    /// [`StoreError`] from sled or a record that cannot be read.
    pub fn dead_letter(&self, id: u64) -> Result<Option<Delivery>, StoreError> {
        let key = id.to_be_bytes();
        match self.trees[usize::from(DEAD)]
            .get(key)
            .map_err(io_error("read a dead letter"))?
        {
            Some(v) => decode("webhook_dead", &key, &v).map(Some),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SledStore;

    fn delivery(id: u64) -> Delivery {
        Delivery::new(
            id,
            format!("message.{id}.delivered"),
            "shop".into(),
            "{}".into(),
            10,
        )
    }

    #[test]
    fn deliveries_dead_letters_and_the_cursor_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let outbox = SledStore::open(dir.path()).unwrap();
            let store = WebhookStore::open(outbox.shared()).unwrap();
            assert_eq!(store.cursor().unwrap(), None);
            let mut step = Step::default();
            step.pending(&delivery(3)).unwrap();
            step.pending(&delivery(5)).unwrap();
            step.cursor(9);
            store.apply(step).unwrap();
            let mut dead = delivery(3);
            dead.dead_at = Some(20);
            let mut step = Step::default();
            step.dead(&dead).unwrap();
            store.apply(step).unwrap();
            store.commit().wait_blocking().unwrap();
        }
        let outbox = SledStore::open(dir.path()).unwrap();
        let store = WebhookStore::open(outbox.shared()).unwrap();
        assert_eq!(store.cursor().unwrap(), Some(9));
        assert_eq!(store.pending().unwrap(), vec![delivery(5)]);
        let letters = store.dead_letters().unwrap();
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].dead_at, Some(20));
        assert_eq!(store.dead_letter(3).unwrap(), Some(letters[0].clone()));
        assert_eq!(store.dead_letter(4).unwrap(), None);
        // Revived: pending again, no longer dead; done: gone.
        let mut revived = letters[0].clone();
        revived.revive(30);
        let mut step = Step::default();
        step.revive(&revived).unwrap();
        step.done(5);
        store.apply(step).unwrap();
        assert_eq!(store.pending().unwrap(), vec![revived]);
        assert!(store.dead_letters().unwrap().is_empty());
    }
}
