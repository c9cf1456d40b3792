//! Verification: one-time codes (or tap-to-verify links) sent by SMS, checked with attempt
//! limits, per-number lockouts, send caps and budgets. [`policy`] holds the rules (pure),
//! [`key`] the HMAC key ring that keeps codes off disk, [`template`] the texts, [`store`]
//! the sled trees, [`core`] the state machine over them, [`actor`] the thin actor that runs
//! it. docs/verification.md explains the policy and the standard behind each rule.

pub mod actor;
pub mod core;
pub mod key;
pub mod policy;
pub mod store;
pub mod template;
#[cfg(test)]
mod tests;
