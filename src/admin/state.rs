//! Which carriers an operator stopped, kept in the gateway's sled database (tree
//! `carrier_admin`: carrier name → nothing), so a stopped link stays stopped across a
//! restart until it is started again. One key per carrier: each change is one sled write,
//! made durable by the group commit before the stop or start is answered.

use crate::store::{SharedDb, StoreError};
use std::collections::BTreeSet;

/// The tree of stopped carriers.
const TREE: &str = "carrier_admin";

/// The stopped carriers on disk.
#[derive(Clone)]
pub struct AdminStore {
    db: SharedDb,
    tree: sled::Tree,
}

impl AdminStore {
    /// Opens (or creates) the tree.
    ///
    /// # Errors
    /// [`StoreError::Io`] from sled.
    pub fn open(db: SharedDb) -> Result<AdminStore, StoreError> {
        let tree = db.tree(TREE)?;
        Ok(AdminStore { db, tree })
    }

    /// The carriers stopped now.
    ///
    /// # Errors
    /// [`StoreError::Io`] from sled.
    pub fn stopped(&self) -> Result<BTreeSet<String>, StoreError> {
        let mut out = BTreeSet::new();
        for entry in self.tree.iter() {
            let (key, _) = entry.map_err(crate::store::io_error("read carrier_admin"))?;
            out.insert(String::from_utf8_lossy(&key).into_owned());
        }
        Ok(out)
    }

    /// Records `carrier` as stopped (or not) and waits until that is on disk.
    ///
    /// # Errors
    /// [`StoreError::Io`] from sled or the flush.
    pub async fn set_stopped(&self, carrier: &str, stopped: bool) -> Result<(), StoreError> {
        let io = crate::store::io_error("write carrier_admin");
        if stopped {
            self.tree.insert(carrier.as_bytes(), &[]).map_err(io)?;
        } else {
            self.tree.remove(carrier.as_bytes()).map_err(io)?;
        }
        self.db.commit().await
    }
}
