//! Table 2-1 (section 2.3) as one table: for every request, the session states in which
//! each side may issue it and the states in which the receiving side also accepts it.

use super::{BindMode, Role};
use crate::CommandId;

/// A set of session states as the table names them: the five of 2.2 (OPEN, BOUND_TX,
/// BOUND_RX, BOUND_TRX; CLOSED is in no set) and the two steps between them that the
/// session models (OUTBOUND after an outbind, BINDING while an ESME's bind is unanswered).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct States(u8);

impl States {
    /// No state.
    pub(super) const NONE: States = States(0);
    /// OPEN (2.2): connected, not bound.
    pub(super) const OPEN: States = States(1);
    /// OUTBOUND (2.2.1): after outbind, awaiting the ESME's bind.
    pub(super) const OUTBOUND: States = States(1 << 1);
    /// BINDING: the ESME sent a bind and awaits its response.
    pub(super) const BINDING: States = States(1 << 2);
    /// BOUND_TX.
    pub(super) const TX: States = States(1 << 3);
    /// BOUND_RX.
    pub(super) const RX: States = States(1 << 4);
    /// BOUND_TRX.
    pub(super) const TRX: States = States(1 << 5);

    /// BOUND_TX, BOUND_RX and BOUND_TRX.
    const BOUND: States = States::TX.or(States::RX).or(States::TRX);

    pub(super) const fn or(self, other: States) -> States {
        States(self.0 | other.0)
    }

    /// True when `state` (one state, or none) is in the set.
    pub(super) const fn contains(self, state: States) -> bool {
        self.0 & state.0 != 0
    }

    /// BOUND_TX, BOUND_RX or BOUND_TRX.
    pub(super) const fn bound(mode: BindMode) -> States {
        match mode {
            BindMode::Transmitter => States::TX,
            BindMode::Receiver => States::RX,
            BindMode::Transceiver => States::TRX,
        }
    }
}

/// One request's row of Table 2-1. A response has no row of its own: it is expected where
/// its request may have been sent (Table 2-1's `*_resp` rows mirror the request rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Row {
    /// Where an ESME may issue it ("Issued by ESME: Yes").
    esme: States,
    /// Where an SMSC may issue it ("Issued by SMSC: Yes").
    smsc: States,
    /// Where the receiving side accepts it although the sender should not have sent it
    /// there: be strict in what you send, tolerant in what you accept.
    pub(super) tolerated: States,
}

impl Row {
    const fn new(esme: States, smsc: States, tolerated: States) -> Option<Row> {
        Some(Row {
            esme,
            smsc,
            tolerated,
        })
    }

    /// Where `role` may issue the request; [`States::NONE`] when it never does.
    pub(super) const fn issued_by(&self, role: Role) -> States {
        match role {
            Role::Esme => self.esme,
            Role::Smsc => self.smsc,
        }
    }
}

/// The row of `request`; `None` for a response. Where it differs from the letter of
/// Table 2-1 (bind after outbind, data_sm, replace_sm, enquire_link, alert_notification), the
/// module documentation of [`super`] says why.
#[rustfmt::skip]
pub(super) const fn row(request: CommandId) -> Option<Row> {
    use CommandId as C;
    const NONE: States = States::NONE;
    const OPEN: States = States::OPEN;
    const OUTBOUND: States = States::OUTBOUND;
    const OPEN_OUTBOUND: States = States::OPEN.or(States::OUTBOUND);
    const NOT_YET_BOUND: States = States::OPEN.or(States::OUTBOUND).or(States::BINDING);
    const BOUND: States = States::BOUND;
    const TX: States = States::TX;
    const TX_TRX: States = States::TX.or(States::TRX);
    const RX_TRX: States = States::RX.or(States::TRX);
    match request {
        //                               issued by ESME  issued by SMSC  also accepted in
        C::BindTransmitter   => Row::new(OPEN,           NONE,           OUTBOUND),
        C::BindReceiver      => Row::new(OPEN_OUTBOUND,  NONE,           NONE),
        C::BindTransceiver   => Row::new(OPEN_OUTBOUND,  NONE,           NONE),
        C::Outbind           => Row::new(NONE,           OPEN,           NONE),
        C::Unbind            => Row::new(BOUND,          BOUND,          NONE),
        C::SubmitSm          => Row::new(TX_TRX,         NONE,           NONE),
        C::SubmitMulti       => Row::new(TX_TRX,         NONE,           NONE),
        C::DataSm            => Row::new(TX_TRX,         RX_TRX,         TX),
        C::DeliverSm         => Row::new(NONE,           RX_TRX,         NONE),
        C::QuerySm           => Row::new(TX_TRX,         NONE,           NONE),
        C::CancelSm          => Row::new(TX_TRX,         NONE,           NONE),
        C::ReplaceSm         => Row::new(TX_TRX,         NONE,           NONE),
        C::EnquireLink       => Row::new(BOUND,          BOUND,          NOT_YET_BOUND),
        C::AlertNotification => Row::new(NONE,           RX_TRX,         TX),
        C::GenericNack
        | C::BindReceiverResp
        | C::BindTransmitterResp
        | C::QuerySmResp
        | C::SubmitSmResp
        | C::DeliverSmResp
        | C::UnbindResp
        | C::ReplaceSmResp
        | C::CancelSmResp
        | C::BindTransceiverResp
        | C::EnquireLinkResp
        | C::SubmitMultiResp
        | C::DataSmResp => None,
    }
}

/// May `role` issue `request` on a session bound as `mode`?
pub(super) const fn issued_when_bound(request: CommandId, role: Role, mode: BindMode) -> bool {
    match row(request) {
        Some(row) => row.issued_by(role).contains(States::bound(mode)),
        None => false,
    }
}
