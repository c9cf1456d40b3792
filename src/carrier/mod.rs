//! The carrier side of the connector, as pure parts: the in-flight window of a bind, the
//! backoff, the token buckets and the throttling reaction, the carrier's message-id forms,
//! phone numbers and the router. The `Bind` and `Pool` actors own sockets, timers and
//! mailboxes and call into these; none of them does I/O, reads a clock or draws a random
//! number of its own (the caller passes `now` and the RNG).
//!
//! | module | one job |
//! |---|---|
//! | [`link`] | one bind's protocol logic (ESME side of [`smpp::session`]): the bind, submits in flight, deliveries, enquire_link and the deadlines of 7.2 |
//! | [`window`] | sequence number → in-flight payload and deadline, one bind's window (5.1.4, 7.2 `response_timer`) |
//! | [`backoff`] | exponential backoff with jitter: reconnects, bind refusals (backed off harder), message retries |
//! | [`throttle`] | token buckets (carrier and bind) and the [`throttle::Pacer`]: ESME_RTHROTTLED and ESME_RMSGQFUL slow a bind down, success recovers it |
//! | [`msgid`] | the key a carrier message id is indexed and looked up by (as is, hex→decimal, decimal→hex, learnt) |
//! | [`number`] | numbers normalised to E.164 under a numbering plan, and written E.164 or national with a carrier's TON/NPI |
//! | [`router`] | portability table, then longest prefix: the carriers of a number in failover order |
//! | [`retry`] | a carrier's retry policy: which submit_sm_resp statuses are retried, failed over or final |
//!
//! How a bind uses them, in outline: a submit leaves when [`throttle::Pacer::admit`] says
//! [`throttle::Admit::Go`] (tokens from the carrier's bucket and the bind's, room in the
//! effective window, no pause); its sequence number goes into the [`window::Window`]; the
//! response takes it out again (`complete`) and tells the pacer (`on_success`,
//! `on_throttled`, `on_queue_full`); one timer at [`window::Window::next_deadline`] collects
//! what timed out; a lost bind drains the window back to the outbox in send order and
//! reconnects after [`backoff::Backoff::failed`].

pub mod backoff;
pub mod bind;
pub mod link;
pub mod msgid;
pub mod number;
pub mod pool;
pub mod retry;
pub mod router;
pub mod throttle;
pub mod window;
