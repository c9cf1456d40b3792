//! smsgate, the library behind the `smsgate` binary: the command line ([`cli`]), the
//! storage seam ([`store`]), the outbox ([`outbox`]) and, as they land, the carrier
//! connector and the verification service. Tests drive the service through this crate in
//! process.

pub mod admin;
pub mod api;
pub mod bench;
pub mod carrier;
#[cfg(feature = "sim")]
pub mod chaos;
pub mod cli;
pub mod config;
pub mod gateway;
pub mod http_api;
pub mod outbox;
pub mod reload;
pub mod sim;
pub mod store;
pub mod telemetry;
pub mod verify;
pub mod webhook;
pub mod wiring;
