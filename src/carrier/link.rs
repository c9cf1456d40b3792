//! One bind's protocol logic, ESME side, without a socket: what to send when the connection
//! opens, what each PDU from the SMSC means, which submits are in flight and which timed
//! out, when to probe the link with enquire_link and when to give it up. The Bind actor
//! moves bytes and timers and does what a [`Link`] says.
//!
//! The bind states and Table 2-1 are [`smpp::session`]'s (ESME role); this adds the window
//! of submits ([`Window`]), the deadlines of section 7.2 (the bind's response, enquire_link,
//! unbind) and the reading of deliveries (receipts and mobile-originated messages).

use super::window::{Window, WindowSizeError};
use secrecy::{ExposeSecret, SecretString};
use smpp::pdu::{Bind, DataSm, DataSmResp, DeliverSm, DeliverSmResp, SubmitSm};
use smpp::receipt::ReceiptError;
use smpp::session::{Accepted, BindMode, Inbound, Role, SequenceNumbers, Session, State};
use smpp::tlv::NetworkErrorCode;
use smpp::values::MessageState;
use smpp::{Body, CommandId, CommandStatus, DecodeError, Pdu};
use std::time::{Duration, Instant};

/// interface_version of the binds we send (5.2.4): SMPP 3.4.
pub const INTERFACE_VERSION: u8 = 0x34;

/// What a bind says about itself when it binds, and its timers.
#[derive(Clone)]
pub struct LinkSettings {
    /// Transmitter, receiver or transceiver.
    pub mode: BindMode,
    /// system_id (5.2.1).
    pub system_id: String,
    /// password (5.2.2); never printed.
    pub password: SecretString,
    /// system_type (5.2.3).
    pub system_type: String,
    /// addr_ton / addr_npi / address_range of the bind (5.2.5, 5.2.6, 5.2.7).
    pub addr_ton: u8,
    /// See `addr_ton`.
    pub addr_npi: u8,
    /// See `addr_ton`.
    pub address_range: String,
    /// Submits in flight at most.
    pub window: usize,
    /// How long a submit waits for its response (7.2 response_timer).
    pub response_timeout: Duration,
    /// How long the bind waits for its bind response.
    pub bind_timeout: Duration,
    /// Quiet time after which the link is probed with enquire_link (7.2 enquire_link_timer).
    pub enquire_interval: Duration,
    /// How long an enquire_link waits for its response before the link is given up.
    pub enquire_timeout: Duration,
    /// How long an unbind waits for unbind_resp before the connection is closed anyway.
    pub unbind_timeout: Duration,
}

impl std::fmt::Debug for LinkSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkSettings")
            .field("mode", &self.mode)
            .field("system_id", &self.system_id)
            .field("password", &"<redacted>")
            .field("system_type", &self.system_type)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

/// How a submit ended, as the bind saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitOutcome {
    /// submit_sm_resp with ESME_ROK and the SMSC's message_id (5.2.23), as received.
    Accepted {
        /// The SMSC's id of the message.
        message_id: String,
    },
    /// submit_sm_resp (or generic_nack) with an error status.
    Refused(CommandStatus),
    /// No response within the response timeout.
    TimedOut,
}

/// What a deliver_sm or data_sm from the SMSC carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// A delivery receipt (esm_class xx0001xx) or an intermediate notification.
    Receipt {
        /// The receipted message's id as the SMSC wrote it: the receipted_message_id TLV
        /// first, then the text's `id:` when that differs (some SMSCs write the two in
        /// different bases), so the matcher can try each.
        ids: Vec<String>,
        /// The state it reports; `None` when neither the TLV nor the text says.
        state: Option<MessageState>,
        /// network_error_code (5.3.2.31), when sent.
        network_error: Option<NetworkErrorCode>,
    },
    /// A receipt that names no message (no receipted_message_id and no readable text):
    /// nothing can be matched, but it is recorded, not dropped.
    Unreadable {
        /// Why it could not be read.
        reason: String,
        /// Its octets, hex, for the record.
        raw_hex: String,
    },
    /// A mobile-originated message.
    Mo {
        /// The handset.
        from: String,
        /// The number it was sent to.
        to: String,
        /// The text, decoded by its data_coding (lossy when the octets do not decode).
        text: String,
        /// data_coding (5.2.19).
        data_coding: u8,
    },
}

/// Why the connection must be closed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The SMSC refused the bind with this status.
    BindRefused(CommandStatus),
    /// No bind response within the bind timeout.
    BindTimeout,
    /// The SMSC unbound (answered with unbind_resp).
    UnbindReceived,
    /// Our unbind was answered.
    Unbound,
    /// Our unbind was not answered in time.
    UnbindTimeout,
    /// An enquire_link went unanswered: the link is dead.
    EnquireTimeout,
}

impl CloseReason {
    /// A short name for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::BindRefused(_) => "bind_refused",
            CloseReason::BindTimeout => "bind_timeout",
            CloseReason::UnbindReceived => "unbind_received",
            CloseReason::Unbound => "unbound",
            CloseReason::UnbindTimeout => "unbind_timeout",
            CloseReason::EnquireTimeout => "enquire_timeout",
        }
    }
}

/// What the Bind actor must do, in the order given.
#[derive(Debug)]
pub enum Action<T> {
    /// Write this PDU.
    Send(Pdu<'static>),
    /// The bind is up in this mode.
    Bound(BindMode),
    /// A submit ended: hand `key` back to the outbox with the outcome.
    Submitted {
        /// The caller's key of the submit.
        key: T,
        /// When it was sent (for the latency metric).
        sent_at: Instant,
        /// How it ended.
        outcome: SubmitOutcome,
    },
    /// The SMSC delivered something: record it, then answer with [`Link::answer`].
    Delivered {
        /// The request's sequence number, for the answer.
        sequence_number: u32,
        /// deliver_sm or data_sm: the answer is its response.
        command: CommandId,
        /// What it carries.
        delivery: Delivery,
    },
    /// A response that answered nothing in flight (a late response to a submit that timed
    /// out, or an SMSC bug): counted, nothing else.
    UnexpectedResponse {
        /// Its command.
        command: CommandId,
        /// Its sequence number.
        sequence_number: u32,
    },
    /// Close the connection now; then [`Link::drain`] what was in flight.
    Close(CloseReason),
}

/// A submit [`Link::submit`] could not send, handed back whole.
#[derive(Debug)]
pub struct NotSent<T> {
    /// Why.
    pub reason: NotSentReason,
    /// The caller's key.
    pub key: T,
    /// The submit.
    pub submit: SubmitSm<'static>,
}

/// Why a submit was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotSentReason {
    /// The session is not bound to submit (not yet bound, unbinding, or a receiver).
    NotBound,
    /// The window is full.
    WindowFull,
}

/// An in-flight submit.
#[derive(Debug)]
struct InFlight<T> {
    key: T,
    sent_at: Instant,
}

/// One bind's protocol state (ESME role); see the module documentation.
pub struct Link<T> {
    settings: LinkSettings,
    session: Session,
    sequence: SequenceNumbers,
    window: Window<InFlight<T>>,
    /// Bind sent, response awaited until then.
    bind_deadline: Option<Instant>,
    /// Unbind sent, unbind_resp awaited until then.
    unbind_deadline: Option<Instant>,
    /// The enquire_link in flight: its sequence number and deadline.
    enquire: Option<(u32, Instant)>,
    /// When the SMSC last sent anything: the link is probed after `enquire_interval` of
    /// silence.
    last_heard: Instant,
}

impl<T> Link<T> {
    /// A link for a new connection, in OPEN.
    pub fn new(settings: LinkSettings, now: Instant) -> Result<Link<T>, WindowSizeError> {
        let window = Window::new(settings.window, settings.response_timeout)?;
        Ok(Link {
            settings,
            session: Session::new(Role::Esme),
            sequence: SequenceNumbers::new(),
            window,
            bind_deadline: None,
            unbind_deadline: None,
            enquire: None,
            last_heard: now,
        })
    }

    /// The bind's mode once bound.
    pub fn mode(&self) -> Option<BindMode> {
        self.session.mode()
    }

    /// True when bound and not unbinding: submits may be sent (if the mode allows).
    pub fn may_submit(&self) -> bool {
        self.session.may_send(CommandId::SubmitSm).is_ok()
    }

    /// Submits in flight.
    pub fn in_flight(&self) -> usize {
        self.window.len()
    }

    /// Room in the window.
    pub fn room(&self) -> usize {
        self.window.room()
    }

    /// The connection is open: the bind to send first (4.1).
    pub fn connected(&mut self, now: Instant, out: &mut Vec<Action<T>>) {
        let mode = self.settings.mode;
        if self.session.send(mode.bind_command()).is_err() {
            return;
        }
        let bind = Bind {
            system_id: self.settings.system_id.clone().into(),
            password: self.settings.password.expose_secret().to_owned().into(),
            system_type: self.settings.system_type.clone().into(),
            interface_version: INTERFACE_VERSION,
            addr_ton: self.settings.addr_ton,
            addr_npi: self.settings.addr_npi,
            address_range: self.settings.address_range.clone().into(),
        };
        let body = match mode {
            BindMode::Transmitter => Body::BindTransmitter(bind),
            BindMode::Receiver => Body::BindReceiver(bind),
            BindMode::Transceiver => Body::BindTransceiver(bind),
        };
        self.bind_deadline = now.checked_add(self.settings.bind_timeout);
        self.last_heard = now;
        out.push(Action::Send(Pdu::new(self.sequence.allocate(), body)));
    }

    /// Sends a submit: the PDU to write, with its sequence number, and the key kept in the
    /// window until its response or its timeout.
    pub fn submit(
        &mut self,
        key: T,
        submit: SubmitSm<'static>,
        now: Instant,
    ) -> Result<Pdu<'static>, Box<NotSent<T>>> {
        let refuse = |reason, key, submit| {
            Err(Box::new(NotSent {
                reason,
                key,
                submit,
            }))
        };
        if !self.may_submit() {
            return refuse(NotSentReason::NotBound, key, submit);
        }
        if self.window.room() == 0 {
            return refuse(NotSentReason::WindowFull, key, submit);
        }
        let seq = self.sequence.allocate();
        match self.window.insert(seq, InFlight { key, sent_at: now }, now) {
            Ok(()) => Ok(Pdu::new(seq, Body::SubmitSm(submit))),
            // A sequence number still in flight after a full wrap of 2^31 numbers; the
            // window is far smaller, so this does not happen, but nothing is lost if it does.
            Err(e) => refuse(NotSentReason::WindowFull, e.into_payload().key, submit),
        }
    }

    /// A PDU the SMSC sent.
    pub fn received(&mut self, pdu: &Pdu<'_>, now: Instant, out: &mut Vec<Action<T>>) {
        self.last_heard = now;
        let command = pdu.command_id();
        let seq = pdu.sequence_number;
        match self.session.receive(command, pdu.command_status, seq) {
            // Table 2-1 has no deliver_sm or data_sm in BINDING, but an SMSC that has
            // accepted the bind may send one before its bind_resp reaches us. Refused with
            // ESME_RINVBNDSTS, a receipt would be dropped by an SMSC that takes any other
            // status than a temporary one as final (5.1.3): refused for now instead, so
            // that it comes again once we are bound.
            Inbound::Refuse(_)
                if matches!(command, CommandId::DeliverSm | CommandId::DataSm)
                    && matches!(self.session.state(), State::Binding { mode, .. } if mode.can_receive()) =>
            {
                out.push(Action::Send(Pdu::refusal(
                    command,
                    seq,
                    CommandStatus::ESME_RX_T_APPN,
                )));
            }
            Inbound::Refuse(refusal) => out.push(Action::Send(refusal)),
            Inbound::Ignore => out.push(Action::UnexpectedResponse {
                command,
                sequence_number: seq,
            }),
            Inbound::Accept(accepted) => self.accepted(accepted, pdu, out),
        }
    }

    fn accepted(&mut self, accepted: Accepted, pdu: &Pdu<'_>, out: &mut Vec<Action<T>>) {
        let seq = pdu.sequence_number;
        match accepted {
            Accepted::Bound(mode) => {
                self.bind_deadline = None;
                out.push(Action::Bound(mode));
            }
            Accepted::BindRefused(status) => {
                self.bind_deadline = None;
                out.push(Action::Close(CloseReason::BindRefused(status)));
            }
            Accepted::Unbind => {
                // 4.2.2: answer, then the session is over.
                out.push(Action::Send(Pdu::new(seq, Body::UnbindResp)));
                out.push(Action::Close(CloseReason::UnbindReceived));
            }
            Accepted::Unbound => {
                self.unbind_deadline = None;
                out.push(Action::Close(CloseReason::Unbound));
            }
            Accepted::Response => self.response(pdu, out),
            Accepted::Request => self.request(pdu, out),
            // An ESME neither authenticates binds nor, here, takes outbinds (the session
            // refuses an outbind unless OPEN; we always send our bind first).
            Accepted::Bind(_) | Accepted::Outbind => {
                out.push(Action::Send(Pdu::refusal(
                    pdu.command_id(),
                    seq,
                    CommandStatus::ESME_RINVCMDID,
                )));
            }
        }
    }

    /// A response settles the request it echoes (5.1.4).
    fn response(&mut self, pdu: &Pdu<'_>, out: &mut Vec<Action<T>>) {
        let seq = pdu.sequence_number;
        let command = pdu.command_id();
        if command == CommandId::EnquireLinkResp
            || (command == CommandId::GenericNack && self.enquire.is_some_and(|(s, _)| s == seq))
        {
            if self.enquire.is_some_and(|(s, _)| s == seq) {
                self.enquire = None;
            }
            return;
        }
        let settles_submit = matches!(command, CommandId::SubmitSmResp | CommandId::GenericNack);
        let entry = if settles_submit {
            self.window.complete(seq)
        } else {
            None
        };
        let Some(entry) = entry else {
            out.push(Action::UnexpectedResponse {
                command,
                sequence_number: seq,
            });
            return;
        };
        let outcome = match (&pdu.body, pdu.command_status) {
            (Body::SubmitSmResp(Some(resp)), status) if status.is_ok() => SubmitOutcome::Accepted {
                message_id: resp.message_id.to_string_lossy().into_owned(),
            },
            // 4.4.2: an accepted submit_sm_resp always carries a message_id; without a body
            // there is nothing to match its receipts to, which the outbox treats as any
            // refusal (ESME_RUNKNOWNERR is not retried blindly).
            (Body::SubmitSmResp(None), status) if status.is_ok() => {
                SubmitOutcome::Refused(CommandStatus::ESME_RUNKNOWNERR)
            }
            (_, status) if status.is_ok() => {
                // generic_nack with ESME_ROK is meaningless; treat it as a refusal.
                SubmitOutcome::Refused(CommandStatus::ESME_RUNKNOWNERR)
            }
            (_, status) => SubmitOutcome::Refused(status),
        };
        out.push(Action::Submitted {
            key: entry.key,
            sent_at: entry.sent_at,
            outcome,
        });
    }

    /// A request from the SMSC, already allowed by Table 2-1.
    fn request(&mut self, pdu: &Pdu<'_>, out: &mut Vec<Action<T>>) {
        let seq = pdu.sequence_number;
        match &pdu.body {
            // 4.11.2: enquire_link is always answered.
            Body::EnquireLink => out.push(Action::Send(Pdu::new(seq, Body::EnquireLinkResp))),
            Body::DeliverSm(d) => out.push(Action::Delivered {
                sequence_number: seq,
                command: CommandId::DeliverSm,
                delivery: read_deliver_sm(d),
            }),
            Body::DataSm(d) => out.push(Action::Delivered {
                sequence_number: seq,
                command: CommandId::DataSm,
                delivery: read_data_sm(d),
            }),
            // 4.12: alert_notification has no response; the gateway has nothing pending
            // for a handset to become available for.
            Body::AlertNotification(_) => {}
            // Anything else the table lets an SMSC send us that we do not serve.
            _ => out.push(Action::Send(Pdu::refusal(
                pdu.command_id(),
                seq,
                CommandStatus::ESME_RINVCMDID,
            ))),
        }
    }

    /// A frame that did not decode (3.2, 4.3): a response is settled by its header (a
    /// garbled error response still says its status); a request gets its refusal.
    pub fn undecodable(&mut self, error: &DecodeError, now: Instant, out: &mut Vec<Action<T>>) {
        if let Some((command, status, seq)) = error.response_header() {
            if let Some(body) = Body::header_only(command) {
                self.received(&Pdu::with_status(seq, status, body), now, out);
            }
            return;
        }
        self.last_heard = now;
        let seq = error.sequence_number().unwrap_or(0);
        let status = error.command_status();
        let refusal = match error.command() {
            Some(command) if status != CommandStatus::ESME_RINVCMDLEN => {
                Pdu::refusal(command, seq, status)
            }
            _ => Pdu::generic_nack(seq, status),
        };
        out.push(Action::Send(refusal));
    }

    /// The answer to a delivery once it is recorded (ESME_ROK) or could not be
    /// (ESME_RX_T_APPN, so that the SMSC tries again later, 5.1.3).
    pub fn answer(
        &self,
        command: CommandId,
        sequence_number: u32,
        status: CommandStatus,
    ) -> Pdu<'static> {
        let body = match command {
            CommandId::DataSm => Body::DataSmResp(Some(DataSmResp::default())),
            _ => Body::DeliverSmResp(Some(DeliverSmResp::default())),
        };
        if status.is_ok() {
            Pdu::new(sequence_number, body)
        } else {
            Pdu::refusal(command, sequence_number, status)
        }
    }

    /// Starts an orderly unbind (4.2): the unbind to send, or nothing when not bound
    /// (then close at once).
    pub fn unbind(&mut self, now: Instant, out: &mut Vec<Action<T>>) {
        if self.unbind_deadline.is_some() {
            return;
        }
        match self.session.send(CommandId::Unbind) {
            Ok(()) => {
                self.unbind_deadline = now.checked_add(self.settings.unbind_timeout);
                out.push(Action::Send(Pdu::new(
                    self.sequence.allocate(),
                    Body::Unbind,
                )));
            }
            Err(_) => out.push(Action::Close(CloseReason::Unbound)),
        }
    }

    /// The timers: submits past their response timeout, the bind and unbind deadlines,
    /// and the enquire_link probe. Call at [`Link::next_deadline`] (or any time).
    pub fn poll(&mut self, now: Instant, out: &mut Vec<Action<T>>) {
        if self.bind_deadline.is_some_and(|d| now >= d) {
            self.bind_deadline = None;
            out.push(Action::Close(CloseReason::BindTimeout));
            return;
        }
        if self.unbind_deadline.is_some_and(|d| now >= d) {
            self.unbind_deadline = None;
            out.push(Action::Close(CloseReason::UnbindTimeout));
            return;
        }
        for (_, entry) in self.window.expired(now) {
            out.push(Action::Submitted {
                key: entry.key,
                sent_at: entry.sent_at,
                outcome: SubmitOutcome::TimedOut,
            });
        }
        match self.enquire {
            Some((_, deadline)) if now >= deadline => {
                self.enquire = None;
                out.push(Action::Close(CloseReason::EnquireTimeout));
            }
            Some(_) => {}
            None => {
                let quiet = now.saturating_duration_since(self.last_heard);
                if quiet >= self.settings.enquire_interval
                    && self.session.may_send(CommandId::EnquireLink).is_ok()
                {
                    let seq = self.sequence.allocate();
                    self.enquire = now
                        .checked_add(self.settings.enquire_timeout)
                        .map(|deadline| (seq, deadline));
                    out.push(Action::Send(Pdu::new(seq, Body::EnquireLink)));
                }
            }
        }
    }

    /// When [`Link::poll`] next has something to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        let enquire = match self.enquire {
            Some((_, deadline)) => Some(deadline),
            None if self.session.may_send(CommandId::EnquireLink).is_ok() => {
                self.last_heard.checked_add(self.settings.enquire_interval)
            }
            None => None,
        };
        [
            self.bind_deadline,
            self.unbind_deadline,
            self.window.next_deadline(),
            enquire,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The connection is gone: every submit still in flight, in the order it was sent, for
    /// the outbox to queue again (the SMSC may or may not have taken it).
    pub fn drain(&mut self) -> Vec<(T, Instant)> {
        self.window
            .drain()
            .map(|(_, entry)| (entry.key, entry.sent_at))
            .collect()
    }
}

fn read_deliver_sm(d: &DeliverSm<'_>) -> Delivery {
    if d.is_receipt() {
        return receipt(d.delivery_report(), d.message().payload());
    }
    let message = d.message();
    Delivery::Mo {
        from: d.source_addr.to_string_lossy().into_owned(),
        to: d.destination_addr.to_string_lossy().into_owned(),
        text: mo_text(message.data_coding, message.payload(), message.has_udhi()),
        data_coding: message.data_coding,
    }
}

fn read_data_sm(d: &DataSm<'_>) -> Delivery {
    if d.is_receipt() {
        let payload = d.tlvs.message_payload().unwrap_or(&[]);
        return receipt(d.delivery_report(), payload);
    }
    let payload = d.tlvs.message_payload().unwrap_or(&[]);
    Delivery::Mo {
        from: d.source_addr.to_string_lossy().into_owned(),
        to: d.destination_addr.to_string_lossy().into_owned(),
        text: mo_text(
            d.data_coding,
            payload,
            smpp::values::esm_class::has_udhi(d.esm_class),
        ),
        data_coding: d.data_coding,
    }
}

/// The ids, state and error of a receipt.
fn receipt(report: Result<smpp::pdu::DeliveryReport, ReceiptError>, raw: &[u8]) -> Delivery {
    match report {
        Ok(report) => {
            let mut ids = vec![report.message_id.clone()];
            if let Some(text) = &report.text {
                if text.id != report.message_id && !text.id.is_empty() {
                    ids.push(text.id.clone());
                }
            }
            Delivery::Receipt {
                ids,
                state: report.state,
                network_error: report.network_error,
            }
        }
        Err(e) => Delivery::Unreadable {
            reason: e.to_string(),
            raw_hex: smpp::octets::to_hex(before_text(raw)),
        },
    }
}

/// A receipt's octets up to its `text:` field: carriers echo the start of the message
/// there, which for a verification SMS is its code, and an unreadable receipt is logged.
fn before_text(raw: &[u8]) -> &[u8] {
    raw.windows(5)
        .position(|w| w.eq_ignore_ascii_case(b"text:"))
        .map_or(raw, |at| &raw[..at])
}

/// An MO's text: the UDH (if any) skipped, the octets decoded by data_coding, lossy.
fn mo_text(data_coding: u8, payload: &[u8], udhi: bool) -> String {
    let body = if udhi {
        match smpp::text::Udh::split(payload) {
            Ok((_, rest)) => rest,
            Err(_) => payload,
        }
    } else {
        payload
    };
    smpp::text::decode(data_coding, body)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use smpp::pdu::{BindResp, SubmitSmResp};
    use smpp::tlv::{Tlv, Tlvs};
    use smpp::values::esm_class;

    fn settings(mode: BindMode) -> LinkSettings {
        LinkSettings {
            mode,
            system_id: "smsgate".into(),
            password: SecretString::from("secret"),
            system_type: String::new(),
            addr_ton: 0,
            addr_npi: 0,
            address_range: String::new(),
            window: 2,
            response_timeout: Duration::from_secs(10),
            bind_timeout: Duration::from_secs(5),
            enquire_interval: Duration::from_secs(30),
            enquire_timeout: Duration::from_secs(5),
            unbind_timeout: Duration::from_secs(2),
        }
    }

    fn secs(t0: Instant, s: u64) -> Instant {
        t0 + Duration::from_secs(s)
    }

    /// A link bound as a transceiver at `t0`, and the bind's sequence number.
    fn bound(t0: Instant) -> Link<u32> {
        let mut link = Link::new(settings(BindMode::Transceiver), t0).unwrap();
        let mut out = Vec::new();
        link.connected(t0, &mut out);
        let Some(Action::Send(bind)) = out.pop() else {
            panic!("no bind sent")
        };
        let resp = Pdu::new(
            bind.sequence_number,
            Body::BindTransceiverResp(Some(BindResp {
                system_id: "smsc".into(),
                tlvs: Tlvs::new(),
            })),
        );
        link.received(&resp, t0, &mut out);
        assert!(matches!(
            out.as_slice(),
            [Action::Bound(BindMode::Transceiver)]
        ));
        link
    }

    fn submit_resp(seq: u32, status: CommandStatus, id: &str) -> Pdu<'static> {
        let body = if status.is_ok() {
            Body::SubmitSmResp(Some(SubmitSmResp {
                message_id: id.to_owned().into(),
                tlvs: Tlvs::new(),
            }))
        } else {
            Body::SubmitSmResp(None)
        };
        Pdu::with_status(seq, status, body)
    }

    fn sent(pdu: Result<Pdu<'static>, Box<NotSent<u32>>>) -> u32 {
        match pdu {
            Ok(pdu) => {
                assert_eq!(pdu.command_id(), CommandId::SubmitSm);
                pdu.sequence_number
            }
            Err(e) => panic!("not sent: {:?}", e.reason),
        }
    }

    #[test]
    fn connecting_sends_the_configured_bind_and_its_response_binds() {
        let t0 = Instant::now();
        let mut link: Link<u32> = Link::new(settings(BindMode::Transmitter), t0).unwrap();
        let mut out = Vec::new();
        link.connected(t0, &mut out);
        let [Action::Send(pdu)] = out.as_slice() else {
            panic!("expected the bind: {out:?}")
        };
        let Body::BindTransmitter(b) = &pdu.body else {
            panic!("not bind_transmitter: {pdu:?}")
        };
        assert_eq!(b.system_id, "smsgate");
        assert_eq!(b.password, "secret");
        assert_eq!(b.interface_version, 0x34);
        assert!(!link.may_submit(), "not bound yet");
        assert!(link.mode().is_none());
    }

    #[test]
    fn a_submit_before_the_bind_is_handed_back_not_lost() {
        let t0 = Instant::now();
        let mut link: Link<u32> = Link::new(settings(BindMode::Transceiver), t0).unwrap();
        let err = link.submit(7, SubmitSm::default(), t0).unwrap_err();
        assert_eq!(err.reason, NotSentReason::NotBound);
        assert_eq!(err.key, 7);
    }

    #[test]
    fn a_receiver_bind_may_not_submit() {
        let t0 = Instant::now();
        let mut link: Link<u32> = Link::new(settings(BindMode::Receiver), t0).unwrap();
        let mut out = Vec::new();
        link.connected(t0, &mut out);
        let Some(Action::Send(bind)) = out.pop() else {
            panic!()
        };
        link.received(
            &Pdu::new(
                bind.sequence_number,
                Body::BindReceiverResp(Some(BindResp::default())),
            ),
            t0,
            &mut out,
        );
        assert_eq!(link.mode(), Some(BindMode::Receiver));
        let err = link.submit(1, SubmitSm::default(), t0).unwrap_err();
        assert_eq!(err.reason, NotSentReason::NotBound);
    }

    #[test]
    fn a_refused_bind_closes_with_its_status() {
        let t0 = Instant::now();
        let mut link: Link<u32> = Link::new(settings(BindMode::Transceiver), t0).unwrap();
        let mut out = Vec::new();
        link.connected(t0, &mut out);
        let Some(Action::Send(bind)) = out.pop() else {
            panic!()
        };
        link.received(
            &Pdu::with_status(
                bind.sequence_number,
                CommandStatus::ESME_RINVPASWD,
                Body::BindTransceiverResp(None),
            ),
            t0,
            &mut out,
        );
        assert!(matches!(
            out.as_slice(),
            [Action::Close(CloseReason::BindRefused(
                CommandStatus::ESME_RINVPASWD
            ))]
        ));
    }

    #[test]
    fn an_unanswered_bind_times_out() {
        let t0 = Instant::now();
        let mut link: Link<u32> = Link::new(settings(BindMode::Transceiver), t0).unwrap();
        let mut out = Vec::new();
        link.connected(t0, &mut out);
        out.clear();
        assert_eq!(link.next_deadline(), Some(secs(t0, 5)));
        link.poll(secs(t0, 4), &mut out);
        assert!(out.is_empty());
        link.poll(secs(t0, 5), &mut out);
        assert!(matches!(
            out.as_slice(),
            [Action::Close(CloseReason::BindTimeout)]
        ));
    }

    #[test]
    fn submit_sm_resp_settles_its_submit_with_the_message_id() {
        let t0 = Instant::now();
        let mut link = bound(t0);
        let seq = sent(link.submit(42, SubmitSm::default(), t0));
        assert_eq!(link.in_flight(), 1);
        let mut out = Vec::new();
        link.received(
            &submit_resp(seq, CommandStatus::ESME_ROK, "ab12"),
            secs(t0, 1),
            &mut out,
        );
        let [Action::Submitted {
            key: 42,
            sent_at,
            outcome: SubmitOutcome::Accepted { message_id },
        }] = out.as_slice()
        else {
            panic!("{out:?}")
        };
        assert_eq!(message_id, "ab12");
        assert_eq!(*sent_at, t0);
        assert_eq!(link.in_flight(), 0);
    }

    #[test]
    fn an_error_status_and_a_garbled_error_response_are_refusals() {
        let t0 = Instant::now();
        let mut link = bound(t0);
        let a = sent(link.submit(1, SubmitSm::default(), t0));
        let b = sent(link.submit(2, SubmitSm::default(), t0));
        let mut out = Vec::new();
        link.received(
            &submit_resp(a, CommandStatus::ESME_RTHROTTLED, ""),
            t0,
            &mut out,
        );
        // A throttle response with a body that does not decode: its header still counts.
        let mut garbled = submit_resp(b, CommandStatus::ESME_RMSGQFUL, "")
            .to_bytes()
            .unwrap();
        garbled.extend_from_slice(b"x");
        garbled[3] += 1;
        let err = Pdu::decode(&garbled).unwrap_err();
        link.undecodable(&err, t0, &mut out);
        let outcomes: Vec<_> = out
            .iter()
            .map(|a| match a {
                Action::Submitted { key, outcome, .. } => (*key, outcome.clone()),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            outcomes,
            [
                (1, SubmitOutcome::Refused(CommandStatus::ESME_RTHROTTLED)),
                (2, SubmitOutcome::Refused(CommandStatus::ESME_RMSGQFUL)),
            ]
        );
    }

    #[test]
    fn generic_nack_settles_the_submit_it_echoes() {
        let t0 = Instant::now();
        let mut link = bound(t0);
        let seq = sent(link.submit(9, SubmitSm::default(), t0));
        let mut out = Vec::new();
        link.received(
            &Pdu::generic_nack(seq, CommandStatus::ESME_RINVCMDLEN),
            t0,
            &mut out,
        );
        assert!(matches!(
            out.as_slice(),
            [Action::Submitted {
                key: 9,
                outcome: SubmitOutcome::Refused(CommandStatus::ESME_RINVCMDLEN),
                ..
            }]
        ));
    }

    #[test]
    fn a_response_to_nothing_in_flight_is_reported_not_applied() {
        let t0 = Instant::now();
        let mut link = bound(t0);
        let mut out = Vec::new();
        link.received(&submit_resp(77, CommandStatus::ESME_ROK, "1"), t0, &mut out);
        assert!(matches!(
            out.as_slice(),
            [Action::UnexpectedResponse {
                command: CommandId::SubmitSmResp,
                sequence_number: 77
            }]
        ));
    }

    #[test]
    fn the_window_refuses_beyond_its_size_and_hands_the_submit_back() {
        let t0 = Instant::now();
        let mut link = bound(t0);
        sent(link.submit(1, SubmitSm::default(), t0));
        sent(link.submit(2, SubmitSm::default(), t0));
        assert_eq!(link.room(), 0);
        let err = link
            .submit(
                3,
                SubmitSm {
                    destination_addr: "819012345678".into(),
                    ..SubmitSm::default()
                },
                t0,
            )
            .unwrap_err();
        assert_eq!(err.reason, NotSentReason::WindowFull);
        assert_eq!(
            (err.key, err.submit.destination_addr.as_bytes()),
            (3, &b"819012345678"[..])
        );
    }

    #[test]
    fn an_unanswered_submit_times_out_at_its_deadline() {
        let t0 = Instant::now();
        let mut link = bound(t0);
        sent(link.submit(5, SubmitSm::default(), t0));
        assert_eq!(link.next_deadline(), Some(secs(t0, 10)));
        let mut out = Vec::new();
        link.poll(secs(t0, 9), &mut out);
        assert!(out.is_empty());
        link.poll(secs(t0, 10), &mut out);
        assert!(matches!(
            out.as_slice(),
            [Action::Submitted {
                key: 5,
                outcome: SubmitOutcome::TimedOut,
                ..
            }]
        ));
        assert_eq!(link.in_flight(), 0);
    }

    #[test]
    fn a_quiet_link_is_probed_and_given_up_when_the_probe_goes_unanswered() {
        let t0 = Instant::now();
        let mut link = bound(t0);
        let mut out = Vec::new();
        assert_eq!(link.next_deadline(), Some(secs(t0, 30)));
        link.poll(secs(t0, 30), &mut out);
        let [Action::Send(probe)] = out.as_slice() else {
            panic!("{out:?}")
        };
        assert_eq!(probe.command_id(), CommandId::EnquireLink);
        out.clear();
        assert_eq!(link.next_deadline(), Some(secs(t0, 35)));
        link.poll(secs(t0, 35), &mut out);
        assert!(matches!(
            out.as_slice(),
            [Action::Close(CloseReason::EnquireTimeout)]
        ));
    }

    #[test]
    fn an_answered_probe_keeps_the_link_and_traffic_postpones_the_next() {
        let t0 = Instant::now();
        let mut link = bound(t0);
        let mut out = Vec::new();
        link.poll(secs(t0, 30), &mut out);
        let Some(Action::Send(probe)) = out.pop() else {
            panic!()
        };
        link.received(
            &Pdu::new(probe.sequence_number, Body::EnquireLinkResp),
            secs(t0, 31),
            &mut out,
        );
        assert!(out.is_empty(), "{out:?}");
        link.poll(secs(t0, 40), &mut out);
        assert!(out.is_empty(), "no close after the answer: {out:?}");
        assert_eq!(link.next_deadline(), Some(secs(t0, 61)));
    }

    #[test]
    fn an_enquire_link_from_the_smsc_is_answered() {
        let t0 = Instant::now();
        let mut link = bound(t0);
        let mut out = Vec::new();
        link.received(&Pdu::new(300, Body::EnquireLink), t0, &mut out);
        let [Action::Send(resp)] = out.as_slice() else {
            panic!("{out:?}")
        };
        assert_eq!(
            (resp.command_id(), resp.sequence_number),
            (CommandId::EnquireLinkResp, 300)
        );
    }

    #[test]
    fn an_unbind_from_the_smsc_is_answered_and_what_was_in_flight_drains_in_order() {
        let t0 = Instant::now();
        let mut link = bound(t0);
        sent(link.submit(1, SubmitSm::default(), t0));
        sent(link.submit(2, SubmitSm::default(), secs(t0, 1)));
        let mut out = Vec::new();
        link.received(&Pdu::new(500, Body::Unbind), t0, &mut out);
        let [Action::Send(resp), Action::Close(CloseReason::UnbindReceived)] = out.as_slice()
        else {
            panic!("{out:?}")
        };
        assert_eq!(
            (resp.command_id(), resp.sequence_number),
            (CommandId::UnbindResp, 500)
        );
        let drained: Vec<u32> = link.drain().into_iter().map(|(k, _)| k).collect();
        assert_eq!(drained, [1, 2]);
        assert!(!link.may_submit());
    }

    #[test]
    fn our_unbind_closes_on_its_response_or_at_its_deadline() {
        let t0 = Instant::now();
        let mut link = bound(t0);
        let mut out = Vec::new();
        link.unbind(t0, &mut out);
        let Some(Action::Send(unbind)) = out.pop() else {
            panic!()
        };
        assert_eq!(unbind.command_id(), CommandId::Unbind);
        assert!(!link.may_submit(), "nothing new while unbinding");
        link.received(
            &Pdu::new(unbind.sequence_number, Body::UnbindResp),
            t0,
            &mut out,
        );
        assert!(matches!(
            out.as_slice(),
            [Action::Close(CloseReason::Unbound)]
        ));

        let mut link = bound(t0);
        out.clear();
        link.unbind(t0, &mut out);
        out.clear();
        link.poll(secs(t0, 2), &mut out);
        assert!(matches!(
            out.as_slice(),
            [Action::Close(CloseReason::UnbindTimeout)]
        ));
    }

    #[test]
    fn unbinding_an_unbound_link_closes_at_once() {
        let t0 = Instant::now();
        let mut link: Link<u32> = Link::new(settings(BindMode::Transceiver), t0).unwrap();
        let mut out = Vec::new();
        link.unbind(t0, &mut out);
        assert!(matches!(
            out.as_slice(),
            [Action::Close(CloseReason::Unbound)]
        ));
    }

    #[test]
    fn a_receipt_gives_every_id_it_carries_and_its_state() {
        let t0 = Instant::now();
        let mut link = bound(t0);
        // The TLV in hex, the text in decimal: both are offered to the matcher.
        let deliver = DeliverSm {
            esm_class: esm_class::DELIVERY_RECEIPT,
            short_message: "id:3054 sub:001 dlvrd:001 submit date:2611251200 done date:2611251201 stat:DELIVRD err:000 text:".into(),
            tlvs: Tlvs::new()
                .with(Tlv::ReceiptedMessageId("bee".into()))
                .and_then(|t| t.with(Tlv::MessageState(2)))
                .unwrap(),
            ..DeliverSm::default()
        };
        let mut out = Vec::new();
        link.received(&Pdu::new(600, Body::DeliverSm(deliver)), t0, &mut out);
        let [Action::Delivered {
            sequence_number: 600,
            command: CommandId::DeliverSm,
            delivery: Delivery::Receipt { ids, state, .. },
        }] = out.as_slice()
        else {
            panic!("{out:?}")
        };
        assert_eq!(ids, &["bee".to_owned(), "3054".to_owned()]);
        assert_eq!(*state, Some(MessageState::Delivered));
        let answer = link.answer(CommandId::DeliverSm, 600, CommandStatus::ESME_ROK);
        assert_eq!(answer.command_id(), CommandId::DeliverSmResp);
        assert_eq!(answer.sequence_number, 600);
        assert!(answer.command_status.is_ok());
        let refused = link.answer(CommandId::DataSm, 601, CommandStatus::ESME_RX_T_APPN);
        assert_eq!(
            (refused.command_id(), refused.command_status),
            (CommandId::DataSmResp, CommandStatus::ESME_RX_T_APPN)
        );
    }

    #[test]
    fn a_delivery_before_the_bind_resp_is_refused_for_now_not_for_good() {
        let t0 = Instant::now();
        let deliver = || {
            Body::DeliverSm(DeliverSm {
                esm_class: esm_class::DELIVERY_RECEIPT,
                ..DeliverSm::default()
            })
        };
        for (mode, status) in [
            (BindMode::Transceiver, CommandStatus::ESME_RX_T_APPN),
            (BindMode::Receiver, CommandStatus::ESME_RX_T_APPN),
            // A transmitter takes no delivery in any state (Table 2-1).
            (BindMode::Transmitter, CommandStatus::ESME_RINVBNDSTS),
        ] {
            let mut link: Link<u32> = Link::new(settings(mode), t0).unwrap();
            let mut out = Vec::new();
            link.connected(t0, &mut out);
            out.clear();
            link.received(&Pdu::new(5, deliver()), t0, &mut out);
            let [Action::Send(answer)] = out.as_slice() else {
                panic!("{mode:?}: {out:?}")
            };
            assert_eq!(
                (
                    answer.command_id(),
                    answer.sequence_number,
                    answer.command_status
                ),
                (CommandId::DeliverSmResp, 5, status),
                "{mode:?}"
            );
        }
        // Before any bind is sent (OPEN), the table's refusal stands.
        let mut link: Link<u32> = Link::new(settings(BindMode::Transceiver), t0).unwrap();
        let mut out = Vec::new();
        link.received(&Pdu::new(6, deliver()), t0, &mut out);
        let [Action::Send(answer)] = out.as_slice() else {
            panic!("{out:?}")
        };
        assert_ne!(answer.command_status, CommandStatus::ESME_RX_T_APPN);
    }

    #[test]
    fn an_unreadable_receipt_is_reported_with_its_octets() {
        let t0 = Instant::now();
        let mut link = bound(t0);
        let deliver = DeliverSm {
            esm_class: esm_class::DELIVERY_RECEIPT,
            short_message: "garbage".into(),
            ..DeliverSm::default()
        };
        let mut out = Vec::new();
        link.received(&Pdu::new(7, Body::DeliverSm(deliver)), t0, &mut out);
        let [Action::Delivered {
            delivery: Delivery::Unreadable { raw_hex, .. },
            ..
        }] = out.as_slice()
        else {
            panic!("{out:?}")
        };
        assert_eq!(raw_hex, &smpp::octets::to_hex(b"garbage"));
        // An unreadable receipt that echoes the message (a code) is logged without it.
        let deliver = DeliverSm {
            esm_class: esm_class::DELIVERY_RECEIPT,
            short_message: "garbled text:code 123456".into(),
            ..DeliverSm::default()
        };
        let mut out = Vec::new();
        link.received(&Pdu::new(8, Body::DeliverSm(deliver)), t0, &mut out);
        let [Action::Delivered {
            delivery: Delivery::Unreadable { raw_hex, .. },
            ..
        }] = out.as_slice()
        else {
            panic!("{out:?}")
        };
        assert_eq!(raw_hex, &smpp::octets::to_hex(b"garbled "));
    }

    #[test]
    fn a_mobile_originated_message_is_decoded_by_its_data_coding() {
        let t0 = Instant::now();
        let mut link = bound(t0);
        let text: Vec<u8> = "はい"
            .encode_utf16()
            .flat_map(|u| u.to_be_bytes())
            .collect();
        let deliver = DeliverSm {
            source_addr: "819012345678".into(),
            destination_addr: "00051234".into(),
            data_coding: 0x08,
            short_message: text.into(),
            ..DeliverSm::default()
        };
        let mut out = Vec::new();
        link.received(&Pdu::new(8, Body::DeliverSm(deliver)), t0, &mut out);
        let [Action::Delivered {
            delivery: Delivery::Mo { from, to, text, .. },
            ..
        }] = out.as_slice()
        else {
            panic!("{out:?}")
        };
        assert_eq!(
            (from.as_str(), to.as_str(), text.as_str()),
            ("819012345678", "00051234", "はい")
        );
    }

    #[test]
    fn a_request_an_esme_never_receives_is_refused() {
        let t0 = Instant::now();
        let mut link = bound(t0);
        let mut out = Vec::new();
        link.received(
            &Pdu::new(9, Body::SubmitSm(SubmitSm::default())),
            t0,
            &mut out,
        );
        let [Action::Send(refusal)] = out.as_slice() else {
            panic!("{out:?}")
        };
        assert_eq!(refusal.command_id(), CommandId::SubmitSmResp);
        assert_eq!(refusal.command_status, CommandStatus::ESME_RINVBNDSTS);
    }

    #[test]
    fn the_password_never_shows_in_debug() {
        let s = settings(BindMode::Transceiver);
        assert!(!format!("{s:?}").contains("secret"));
    }
}
