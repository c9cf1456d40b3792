//! The admin HTTP listener (axum, on an address of its own): the gateway's status as JSON,
//! carrier stop/start, reload through an injected hook, the Prometheus metrics and the
//! status page, behind Bearer tokens (a read-only one may look, a full one may act).
//!
//! | module | one job |
//! |---|---|
//! | [`auth`] | the `[[admin.tokens]]`, held as SHA-256, found in constant time |
//! | [`status`] | the snapshot `GET /status` answers |
//! | [`state`] | which carriers an operator stopped, in sled (so they stay stopped) |
//! | [`server`] | the routes, their typed JSON errors, the listener's thread |
//! | [`client`] | the CLI's side: `smsgate status`, `carrier stop|start`, `reload` |
//!
//! The endpoints, with curl examples: docs/operations.md.

pub mod auth;
pub mod client;
pub mod server;
pub mod state;
pub mod status;

pub use server::{AdminServer, AdminSettings, ReloadHook, ReloadRefused};
