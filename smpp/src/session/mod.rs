//! The SMPP session state machine: the bind states of 2.2, which PDU each side may send in
//! each of them (Table 2-1, section 2.3), and the answer a refused PDU gets. Pure: no
//! sockets, no clock. The caller moves bytes and runs timers; this decides.
//!
//! ```text
//!                             connection made
//!                                    |
//!                                    v
//!                             +-------------+      bind_*_resp with an error,
//!                       +-----|    OPEN     |<---- or generic_nack (ESME) [5] -+
//!                       |     +-------------+                                  |
//!   outbind sent (SMSC) |         |      |                                     |
//!   or received (ESME)  |         |      | bind_* sent (ESME)                  |
//!                       v         |      v                                     |
//!                +----------+     |   +---------+                              |
//!                | OUTBOUND |-----|-->| BINDING |------------------------------+
//!                +----------+ [1] |   +---------+
//!                     |           |        |
//!                 [2] |       [3] |        | [4]
//!                     v           v        v
//!                +-----------------------------------------+
//!                |   BOUND_TX   |   BOUND_RX   |  BOUND_TRX  |
//!                +-----------------------------------------+
//!                      |                              |
//!          unbind sent |                              | unbind received
//!                      v                              | (answer unbind_resp)
//!                +-----------+                        |
//!                | UNBINDING |---- unbind received -->|
//!                +-----------+                        |
//!                      |                              |
//! unbind_resp received |                              |
//!                      v                              v
//!                +-----------------------------------------+
//!                |                 CLOSED                  |
//!                +-----------------------------------------+
//!
//! [1] bind_receiver or bind_transceiver sent (ESME)
//! [2] bind_receiver or bind_transceiver received and accepted (SMSC)
//! [3] bind_* received and accepted (SMSC)
//! [4] bind_*_resp OK (ESME)
//! [5] back to OUTBOUND instead when the refused bind followed an outbind
//! ```
//!
//! OPEN, BOUND_TX, BOUND_RX, BOUND_TRX and CLOSED are the states of 2.2. The others are the
//! steps between them that a session has to remember: OUTBOUND after an outbind (2.2.1,
//! 4.1.7), when only bind_receiver or bind_transceiver may follow; BINDING while an ESME's
//! bind awaits its response; UNBINDING while an unbind awaits unbind_resp (4.2), still
//! bound meanwhile, so the PDUs crossing it are served and answered.
//!
//! How each [`Role`] moves through it:
//! - **ESME**: [`Session::send`] of a bind takes OPEN (or OUTBOUND) to BINDING; the bind's
//!   response, [`Session::receive`]d, takes it to BOUND_* or, refused, back. An outbind
//!   received in OPEN leads to OUTBOUND, from where it may bind as a receiver or a
//!   transceiver.
//! - **SMSC**: never in BINDING: it answers the bind itself. [`Session::receive`] of a bind
//!   says whether the state allows one; the application authenticates it, then
//!   [`Session::admit_bind`] judges the mode and [`Session::bind_accepted`] records the
//!   verdict (BOUND_*). A refused bind leaves the state as it was, so the ESME may try again
//!   on the same connection. [`Session::send`] of an outbind leads to OUTBOUND.
//! - **Both**: sending unbind leads to UNBINDING and its unbind_resp to CLOSED; an unbind
//!   received while bound (or unbinding) is answered with unbind_resp and leads to CLOSED.
//!   A lost connection is not a transition: its session is dropped, and the next
//!   connection starts a new one in OPEN.
//!
//! Table 2-1 is read as written, except:
//! - bind_receiver and bind_transceiver also follow an outbind (2.2.1: "The ESME should
//!   respond with a bind_receiver request"; a transceiver receives too). A bind_transmitter
//!   after outbind is still taken to authentication, so that the SMSC answers bad
//!   credentials as such, and then refused with ESME_RBINDFAIL by [`Session::admit_bind`].
//! - data_sm from an ESME is a submission (4.7: "The ESME may use this command to request
//!   the SMSC to transfer a message to an MS"), so it needs a bind that may submit, not
//!   BOUND_RX, which 2.2 authorises to receive only. From the SMSC it is a delivery, sent to
//!   the binds that receive; an ESME still accepts one in BOUND_TX, as the table lists it,
//!   rather than refuse what may be a receipt.
//! - replace_sm is allowed in BOUND_TRX as well as BOUND_TX: the table lists BOUND_TX
//!   only, but 2.2 says a transceiver "supports the complete set of operations supported by
//!   a Transmitter ESME", and query_sm and cancel_sm, its siblings in 4.8 and 4.9, are
//!   listed for BOUND_TRX.
//! - enquire_link is answered in every state but CLOSED (4.11: the confidence check of the
//!   link between the two, which exists before the bind), but sent only once bound.
//! - alert_notification is accepted in BOUND_TX too: it follows a data_sm that set the
//!   delivery-pending flag (4.12), which a transmitter may have submitted, and it has no
//!   response, so refusing it would only send a generic_nack nobody awaits.
//!
//! Responses are not rows of their own: Table 2-1's `*_resp` rows mirror the request rows.
//! One received is expected only where this side may have sent its request, and ignored
//! elsewhere, unanswered (4.3). One sent is never judged by the table, since it answers a
//! request the session has already judged: a generic_nack may answer a garbled bind in
//! OPEN, and unbind_resp follows the move to CLOSED.
//!
//! A refused request gets its own response, header only, with ESME_RALYBND for a bind on a
//! session already bound and ESME_RINVBNDSTS otherwise, also when the sender's role never
//! issues it (deliver_sm from an ESME). outbind and alert_notification have no response of
//! their own: refused, they get a generic_nack with ESME_RINVCMDID (4.3).
//!
//! The caller keeps the timers of 7.2: the session_init_timer while [`Session::mode`] is
//! `None`, the deadline for unbind_resp while UNBINDING, the response_timer of each request
//! in its window (which also matches responses to requests by sequence number). Sequence
//! numbers for requests come from a [`SequenceNumbers`] per connection.

mod mode;
mod sequence;
mod table;
#[cfg(test)]
mod tests;

pub use mode::BindMode;
pub use sequence::{
    is_valid_request_sequence, next_sequence_number, SequenceNumbers, MAX_SEQUENCE_NUMBER,
};

use crate::{CommandId, CommandStatus, Pdu};
use std::fmt;
use table::States;

/// Which end of the session this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The External Short Message Entity: binds, submits, receives deliveries.
    Esme,
    /// The Short Message Service Centre: accepts binds, delivers, may send outbind.
    Smsc,
}

impl Role {
    /// The other end.
    pub const fn peer(self) -> Role {
        match self {
            Role::Esme => Role::Smsc,
            Role::Smsc => Role::Esme,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Esme => "ESME",
            Role::Smsc => "SMSC",
        })
    }
}

/// Where a session is (see the diagram in the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// OPEN (2.2): connected, not bound.
    Open,
    /// After outbind (2.2.1, 4.1.7): awaiting a bind_receiver or bind_transceiver.
    Outbound,
    /// An ESME's bind is sent and unanswered.
    Binding {
        /// The mode it asked for.
        mode: BindMode,
        /// It followed an outbind: a refusal leads back to OUTBOUND rather than OPEN.
        after_outbind: bool,
    },
    /// BOUND_TX, BOUND_RX or BOUND_TRX (2.2).
    Bound(BindMode),
    /// This side sent unbind and awaits unbind_resp; still bound in this mode meanwhile.
    Unbinding(BindMode),
    /// CLOSED (2.2): unbound; the connection is to be closed. Nothing more is accepted.
    Closed,
}

impl State {
    /// The mode of the bind while it lasts (bound or unbinding); `None` before the bind and
    /// once closed.
    pub const fn mode(self) -> Option<BindMode> {
        match self {
            State::Bound(mode) | State::Unbinding(mode) => Some(mode),
            _ => None,
        }
    }

    /// Where Table 2-1 places this state for what this side sends: nowhere while a bind or
    /// an unbind is unanswered, or once closed (nothing new is sent then).
    const fn sending(self) -> States {
        match self {
            State::Open => States::OPEN,
            State::Outbound => States::OUTBOUND,
            State::Bound(mode) => States::bound(mode),
            State::Binding { .. } | State::Unbinding(_) | State::Closed => States::NONE,
        }
    }

    /// Where Table 2-1 places this state for what this side receives: an unbinding session
    /// is still bound; a closed one is nowhere.
    const fn receiving(self) -> States {
        match self {
            State::Open => States::OPEN,
            State::Outbound => States::OUTBOUND,
            State::Binding { .. } => States::BINDING,
            State::Bound(mode) | State::Unbinding(mode) => States::bound(mode),
            State::Closed => States::NONE,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bound = |mode: &BindMode| match mode {
            BindMode::Transmitter => "BOUND_TX",
            BindMode::Receiver => "BOUND_RX",
            BindMode::Transceiver => "BOUND_TRX",
        };
        match self {
            State::Open => f.write_str("OPEN"),
            State::Outbound => f.write_str("OUTBOUND"),
            State::Binding { mode, .. } => write!(f, "BINDING ({} sent)", mode.bind_command()),
            State::Bound(mode) => f.write_str(bound(mode)),
            State::Unbinding(mode) => write!(f, "UNBINDING (from {})", bound(mode)),
            State::Closed => f.write_str("CLOSED"),
        }
    }
}

/// A request that Table 2-1 does not allow: refused before it is sent, or found in what
/// the peer sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The role never issues this command, in any state (an ESME sending deliver_sm).
    #[error("{command} is never sent by an {role} (Table 2-1)")]
    NotIssuedBy {
        /// The side that sent or would send it.
        role: Role,
        /// The request.
        command: CommandId,
    },
    /// The role issues this command, but not in this state (an ESME bound as a receiver
    /// sending submit_sm).
    #[error("an {role} may not send {command} in the {state} state (Table 2-1)")]
    NotInState {
        /// The side that sent or would send it.
        role: Role,
        /// The request.
        command: CommandId,
        /// The session's state at the time.
        state: State,
    },
}

impl SessionError {
    /// The request refused.
    pub const fn command(&self) -> CommandId {
        match *self {
            SessionError::NotIssuedBy { command, .. }
            | SessionError::NotInState { command, .. } => command,
        }
    }

    /// The command_status its receiver answers the refused request with:
    /// - ESME_RINVCMDID in a generic_nack for outbind and alert_notification, which have no
    ///   response of their own (4.3);
    /// - ESME_RALYBND for a bind on a session already bound (4.1, 5.1.3);
    /// - ESME_RBINDFAIL for a bind_transmitter after outbind (2.2.1 asks for a receiver);
    /// - ESME_RINVBNDSTS, "Incorrect BIND Status for given command" (5.1.3), for the rest,
    ///   including a request the sender's role never issues (deliver_sm from an ESME).
    pub const fn command_status(&self) -> CommandStatus {
        if self.command().response().is_none() {
            return CommandStatus::ESME_RINVCMDID;
        }
        match *self {
            SessionError::NotInState { command, state, .. }
                if BindMode::from_bind_command(command).is_some() =>
            {
                match state {
                    State::Bound(_) | State::Unbinding(_) => CommandStatus::ESME_RALYBND,
                    State::Outbound => CommandStatus::ESME_RBINDFAIL,
                    _ => CommandStatus::ESME_RINVBNDSTS,
                }
            }
            _ => CommandStatus::ESME_RINVBNDSTS,
        }
    }
}

/// What to do with a PDU the peer sent, as [`Session::receive`] decides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// Act on it; what it did to the session, if anything, is said.
    Accept(Accepted),
    /// Send this refusal and do nothing else: the request's own header-only response (or a
    /// generic_nack for a request that has none) carrying the status of
    /// [`SessionError::command_status`] and the request's sequence number.
    Refuse(Pdu<'static>),
    /// A response that answers nothing this side could have sent here: no answer (a
    /// response is never answered, 4.3) and no effect.
    Ignore,
}

/// An accepted PDU and what it means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// A request to serve and answer with its response (alert_notification has none, 4.12).
    Request,
    /// A response (or generic_nack) to settle against the request it echoes by sequence
    /// number (5.1.4), in the caller's window; one that echoes nothing there is dropped.
    Response,
    /// SMSC: a bind the state allows. Authenticate it, then [`Session::admit_bind`] and
    /// [`Session::bind_accepted`], or answer it with the refusal's status.
    Bind(BindMode),
    /// ESME: the SMSC sent outbind (4.1.7, no response); the session is OUTBOUND. Send
    /// bind_receiver or bind_transceiver, or close the connection to decline (2.2.1).
    Outbind,
    /// The peer unbound: answer unbind_resp, then close the connection. The session is
    /// CLOSED.
    Unbind,
    /// ESME: the bind's response granted it; the session is bound in this mode.
    Bound(BindMode),
    /// ESME: the bind was refused with this status (its response's, or a generic_nack's:
    /// ESME_RINVCMDID there means the SMSC lacks that bind, 4.1, and another mode may be
    /// tried). The session is OPEN again, or OUTBOUND when the bind followed an outbind.
    BindRefused(CommandStatus),
    /// The unbind this side sent is answered: close the connection. The session is CLOSED.
    Unbound,
}

/// One SMPP session seen from one end: its role and its state. Built per connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Which end this is; fixed for the session.
    role: Role,
    /// Where the session is.
    state: State,
}

impl Session {
    /// A session in OPEN: the connection is made, nothing sent yet.
    pub const fn new(role: Role) -> Session {
        Session {
            role,
            state: State::Open,
        }
    }

    /// Which end this is.
    pub const fn role(&self) -> Role {
        self.role
    }

    /// Where the session is.
    pub const fn state(&self) -> State {
        self.state
    }

    /// The mode of the bind while it lasts (bound or unbinding).
    pub const fn mode(&self) -> Option<BindMode> {
        self.state.mode()
    }

    /// May this side send `command` now? Strict: only where Table 2-1 (with the readings
    /// listed in the module documentation) lets this role issue it, and nothing new while a
    /// bind or an unbind is unanswered or once closed. A response is always allowed: it
    /// answers a request the session has already judged (a generic_nack may answer a
    /// garbled PDU in any state, and unbind_resp follows the move to CLOSED).
    pub fn may_send(&self, command: CommandId) -> Result<(), SessionError> {
        if command.is_response() {
            return Ok(());
        }
        check(self.role, command, self.state, self.state.sending(), false)
    }

    /// Records that this side is about to send `command`, after [`Session::may_send`]:
    /// a bind leads to BINDING, an unbind to UNBINDING, an outbind to OUTBOUND.
    pub fn send(&mut self, command: CommandId) -> Result<(), SessionError> {
        self.may_send(command)?;
        self.state = match (command, self.state) {
            (CommandId::Outbind, _) => State::Outbound,
            (CommandId::Unbind, State::Bound(mode)) => State::Unbinding(mode),
            (_, state) => match BindMode::from_bind_command(command) {
                Some(mode) => State::Binding {
                    mode,
                    after_outbind: matches!(state, State::Outbound),
                },
                None => state,
            },
        };
        Ok(())
    }

    /// Decides what to do with a PDU the peer sent, from its header: accept it (and the
    /// transition it makes), refuse it with the response it gets, or ignore it. Tolerant:
    /// a request is accepted wherever the sender may send it and where the table tolerates
    /// it (enquire_link before the bind, for one). The sequence number of a request is
    /// echoed in its refusal, whatever it is; a response is matched by command, not by
    /// sequence number, to the one bind or unbind this side may have outstanding.
    pub fn receive(
        &mut self,
        command: CommandId,
        command_status: CommandStatus,
        sequence_number: u32,
    ) -> Inbound {
        if command.is_response() {
            return self.receive_response(command, command_status);
        }
        if let Err(e) = check(
            self.role.peer(),
            command,
            self.state,
            self.state.receiving(),
            true,
        ) {
            return Inbound::Refuse(Pdu::refusal(command, sequence_number, e.command_status()));
        }
        Inbound::Accept(match command {
            CommandId::Unbind => {
                self.state = State::Closed;
                Accepted::Unbind
            }
            CommandId::Outbind => {
                self.state = State::Outbound;
                Accepted::Outbind
            }
            _ => match BindMode::from_bind_command(command) {
                Some(mode) => Accepted::Bind(mode),
                None => Accepted::Request,
            },
        })
    }

    fn receive_response(&mut self, command: CommandId, command_status: CommandStatus) -> Inbound {
        let accepted = match self.state {
            // The bind is the only request an ESME has outstanding while BINDING, so its
            // response, or a generic_nack (4.3: perhaps with sequence number 0, if the SMSC
            // could not decode the bind), answers it whatever sequence number it carries.
            State::Binding {
                mode,
                after_outbind,
            } if command == mode.resp_command() || command == CommandId::GenericNack => {
                if command == mode.resp_command() && command_status.is_ok() {
                    self.state = State::Bound(mode);
                    Accepted::Bound(mode)
                } else {
                    self.state = if after_outbind {
                        State::Outbound
                    } else {
                        State::Open
                    };
                    Accepted::BindRefused(command_status)
                }
            }
            // 4.2: one unbind is outstanding; its unbind_resp ends the session whatever its
            // sequence number or status: waiting for the deadline would only delay a close
            // both sides want.
            State::Unbinding(_) if command == CommandId::UnbindResp => {
                self.state = State::Closed;
                Accepted::Unbound
            }
            State::Bound(mode) | State::Unbinding(mode) if self.expects(command, mode) => {
                Accepted::Response
            }
            _ => return Inbound::Ignore,
        };
        Inbound::Accept(accepted)
    }

    /// Could `response` answer a request this side sent while bound as `mode`? A
    /// generic_nack may answer any; unbind_resp only the unbind of UNBINDING; any other
    /// response the request Table 2-1 lets this role send in `mode`.
    fn expects(&self, response: CommandId, mode: BindMode) -> bool {
        match response {
            CommandId::GenericNack => true,
            CommandId::UnbindResp => false,
            _ => match response.request() {
                Some(request) => table::issued_when_bound(request, self.role, mode),
                None => false,
            },
        }
    }

    /// SMSC: the session's half of admitting a bind of `mode` that the application has
    /// authenticated. Strict: after an outbind only bind_receiver or bind_transceiver
    /// (2.2.1); the error's [`SessionError::command_status`] is the bind response's status.
    /// Changes nothing; call it before committing anything the bind would need undone.
    pub fn admit_bind(&self, mode: BindMode) -> Result<(), SessionError> {
        check(
            self.role.peer(),
            mode.bind_command(),
            self.state,
            self.state.receiving(),
            false,
        )
    }

    /// SMSC: the bind of `mode` is accepted (its response goes out with ESME_ROK): the
    /// session is bound. Refused as [`Session::admit_bind`] refuses.
    pub fn bind_accepted(&mut self, mode: BindMode) -> Result<(), SessionError> {
        self.admit_bind(mode)?;
        self.state = State::Bound(mode);
        Ok(())
    }
}

/// The one lookup in Table 2-1: may `sender` issue `request` in `state` (placed in the
/// table as `here`)? `tolerant` adds the states where the receiving side accepts it anyway.
fn check(
    sender: Role,
    request: CommandId,
    state: State,
    here: States,
    tolerant: bool,
) -> Result<(), SessionError> {
    let not_issued = SessionError::NotIssuedBy {
        role: sender,
        command: request,
    };
    let Some(row) = table::row(request) else {
        return Err(not_issued);
    };
    let issued = row.issued_by(sender);
    if issued == States::NONE {
        return Err(not_issued);
    }
    let allowed = if tolerant {
        issued.or(row.tolerated)
    } else {
        issued
    };
    if allowed.contains(here) {
        Ok(())
    } else {
        Err(SessionError::NotInState {
            role: sender,
            command: request,
            state,
        })
    }
}
