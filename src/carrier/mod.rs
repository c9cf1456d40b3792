//! The carrier side of the connector, as pure parts: the in-flight window of a bind, the
//! backoff, the token buckets and the throttling reaction, the carrier's message-id forms
//! and the router. The `Bind` and `Pool` actors own sockets and timers and call into these.

pub mod backoff;
pub mod msgid;
pub mod number;
pub mod router;
pub mod throttle;
pub mod window;
