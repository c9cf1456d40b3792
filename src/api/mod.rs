//! The internal TCP API (docs/api.md): newline-delimited JSON over TCP (TLS optional) for
//! backends and the CLI. [`proto`] is the wire format, [`auth`] the tokens, [`session`] one
//! connection's rules, [`ops`] the operations against the gateway ([`verify`] the
//! verification ones), [`server`] the socket glue and [`client`] the Rust client the CLI
//! uses.

pub mod auth;
pub mod client;
pub mod ops;
pub mod proto;
pub mod server;
pub mod session;
pub mod verify;
