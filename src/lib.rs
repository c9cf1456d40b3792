//! smsgate, the library behind the `smsgate` binary: the command line ([`cli`]) and, as they
//! land, the carrier connector, the outbox and the verification service. Tests drive the
//! service through this crate in process.

pub mod carrier;
pub mod cli;
pub mod config;
pub mod telemetry;
