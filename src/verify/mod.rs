//! Verification: the key ring that seals codes and the SMS texts that carry them.

pub mod key;
pub mod template;
