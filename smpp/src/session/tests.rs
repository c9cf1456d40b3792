//! Every row of Table 2-1, for each role and each state, without sockets; the transitions;
//! and a property that no sequence of events breaks the session.

use super::*;
use crate::{Body, CommandId as C, CommandStatus as S};
use proptest::prelude::*;

const TX: BindMode = BindMode::Transmitter;
const RX: BindMode = BindMode::Receiver;
const TRX: BindMode = BindMode::Transceiver;

/// Every state, with a name patterns below can match.
const STATES: [(&str, State); 11] = [
    ("OPEN", State::Open),
    ("OUTBOUND", State::Outbound),
    (
        "BINDING",
        State::Binding {
            mode: TX,
            after_outbind: false,
        },
    ),
    (
        "BINDING_AFTER_OUTBIND",
        State::Binding {
            mode: RX,
            after_outbind: true,
        },
    ),
    ("BOUND_TX", State::Bound(TX)),
    ("BOUND_RX", State::Bound(RX)),
    ("BOUND_TRX", State::Bound(TRX)),
    ("UNBINDING_TX", State::Unbinding(TX)),
    ("UNBINDING_RX", State::Unbinding(RX)),
    ("UNBINDING_TRX", State::Unbinding(TRX)),
    ("CLOSED", State::Closed),
];

/// The requests of the specification.
const REQUESTS: [CommandId; 14] = [
    C::BindTransmitter,
    C::BindReceiver,
    C::BindTransceiver,
    C::Outbind,
    C::Unbind,
    C::SubmitSm,
    C::SubmitMulti,
    C::DataSm,
    C::DeliverSm,
    C::QuerySm,
    C::CancelSm,
    C::ReplaceSm,
    C::EnquireLink,
    C::AlertNotification,
];

fn at(role: Role, state: State) -> Session {
    Session { role, state }
}

/// An SMSC is never BINDING: it answers binds, it does not send them.
fn reachable(role: Role, state: State) -> bool {
    !(role == Role::Smsc && matches!(state, State::Binding { .. }))
}

/// `pattern` is a state name, or a prefix ending in `*`.
fn matches_name(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// The outcome a test expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Accept(Accepted),
    Refuse(CommandStatus),
    Ignore,
}

/// One receiving role and command: the outcome in the states the patterns name (first
/// match wins), and in all others.
struct Case {
    receiver: Role,
    command: CommandId,
    status: CommandStatus,
    cells: &'static [(&'static str, Expect)],
    otherwise: Expect,
}

const fn case(
    receiver: Role,
    command: CommandId,
    cells: &'static [(&'static str, Expect)],
    otherwise: Expect,
) -> Case {
    Case {
        receiver,
        command,
        status: S::ESME_ROK,
        cells,
        otherwise,
    }
}

use Expect::{Accept, Ignore, Refuse};
use Role::{Esme, Smsc};

const BOUND_AND_UNBINDING: &[(&str, Expect)] = &[
    ("BOUND_*", Accept(Accepted::Request)),
    ("UNBINDING_*", Accept(Accepted::Request)),
];
const SUBMITTERS: &[(&str, Expect)] = &[
    ("BOUND_TX", Accept(Accepted::Request)),
    ("BOUND_TRX", Accept(Accepted::Request)),
    ("UNBINDING_TX", Accept(Accepted::Request)),
    ("UNBINDING_TRX", Accept(Accepted::Request)),
];
const RECEIVERS: &[(&str, Expect)] = &[
    ("BOUND_RX", Accept(Accepted::Request)),
    ("BOUND_TRX", Accept(Accepted::Request)),
    ("UNBINDING_RX", Accept(Accepted::Request)),
    ("UNBINDING_TRX", Accept(Accepted::Request)),
];
const UNBIND: &[(&str, Expect)] = &[
    ("BOUND_*", Accept(Accepted::Unbind)),
    ("UNBINDING_*", Accept(Accepted::Unbind)),
];
const EVERY_STATE_BUT_CLOSED: &[(&str, Expect)] = &[("CLOSED", Refuse(S::ESME_RINVBNDSTS))];
const fn smsc_bind(mode: BindMode) -> [(&'static str, Expect); 4] {
    [
        ("OPEN", Accept(Accepted::Bind(mode))),
        ("OUTBOUND", Accept(Accepted::Bind(mode))),
        ("BOUND_*", Refuse(S::ESME_RALYBND)),
        ("UNBINDING_*", Refuse(S::ESME_RALYBND)),
    ]
}
const SMSC_BIND_TX: [(&str, Expect); 4] = smsc_bind(TX);
const SMSC_BIND_RX: [(&str, Expect); 4] = smsc_bind(RX);
const SMSC_BIND_TRX: [(&str, Expect); 4] = smsc_bind(TRX);
const RINVBNDSTS: Expect = Refuse(S::ESME_RINVBNDSTS);
const NACK_RINVCMDID: Expect = Refuse(S::ESME_RINVCMDID);
const REQUEST: Expect = Accept(Accepted::Request);

/// Table 2-1's request rows as each side receives them, written out per role.
const INBOUND_REQUESTS: &[Case] = &[
    // The SMSC receiving from an ESME.
    case(Smsc, C::BindTransmitter, &SMSC_BIND_TX, RINVBNDSTS),
    case(Smsc, C::BindReceiver, &SMSC_BIND_RX, RINVBNDSTS),
    case(Smsc, C::BindTransceiver, &SMSC_BIND_TRX, RINVBNDSTS),
    case(Smsc, C::Outbind, &[], NACK_RINVCMDID),
    case(Smsc, C::Unbind, UNBIND, RINVBNDSTS),
    case(Smsc, C::SubmitSm, SUBMITTERS, RINVBNDSTS),
    case(Smsc, C::SubmitMulti, SUBMITTERS, RINVBNDSTS),
    case(Smsc, C::DataSm, SUBMITTERS, RINVBNDSTS),
    case(Smsc, C::DeliverSm, &[], RINVBNDSTS),
    case(Smsc, C::QuerySm, SUBMITTERS, RINVBNDSTS),
    case(Smsc, C::CancelSm, SUBMITTERS, RINVBNDSTS),
    case(Smsc, C::ReplaceSm, SUBMITTERS, RINVBNDSTS),
    case(Smsc, C::EnquireLink, EVERY_STATE_BUT_CLOSED, REQUEST),
    case(Smsc, C::AlertNotification, &[], NACK_RINVCMDID),
    // The ESME receiving from an SMSC.
    case(Esme, C::BindTransmitter, &[], RINVBNDSTS),
    case(Esme, C::BindReceiver, &[], RINVBNDSTS),
    case(Esme, C::BindTransceiver, &[], RINVBNDSTS),
    case(
        Esme,
        C::Outbind,
        &[("OPEN", Accept(Accepted::Outbind))],
        NACK_RINVCMDID,
    ),
    case(Esme, C::Unbind, UNBIND, RINVBNDSTS),
    case(Esme, C::SubmitSm, &[], RINVBNDSTS),
    case(Esme, C::SubmitMulti, &[], RINVBNDSTS),
    case(Esme, C::DataSm, BOUND_AND_UNBINDING, RINVBNDSTS),
    case(Esme, C::DeliverSm, RECEIVERS, RINVBNDSTS),
    case(Esme, C::QuerySm, &[], RINVBNDSTS),
    case(Esme, C::CancelSm, &[], RINVBNDSTS),
    case(Esme, C::ReplaceSm, &[], RINVBNDSTS),
    case(Esme, C::EnquireLink, EVERY_STATE_BUT_CLOSED, REQUEST),
    case(
        Esme,
        C::AlertNotification,
        BOUND_AND_UNBINDING,
        NACK_RINVCMDID,
    ),
];

const RESPONSE: Expect = Accept(Accepted::Response);
const SUBMIT_RESPONSES: &[(&str, Expect)] = &[
    ("BOUND_TX", RESPONSE),
    ("BOUND_TRX", RESPONSE),
    ("UNBINDING_TX", RESPONSE),
    ("UNBINDING_TRX", RESPONSE),
];
const DELIVER_RESPONSES: &[(&str, Expect)] = &[
    ("BOUND_RX", RESPONSE),
    ("BOUND_TRX", RESPONSE),
    ("UNBINDING_RX", RESPONSE),
    ("UNBINDING_TRX", RESPONSE),
];
const ANY_BOUND_RESPONSE: &[(&str, Expect)] = &[("BOUND_*", RESPONSE), ("UNBINDING_*", RESPONSE)];
const UNBIND_RESP: &[(&str, Expect)] = &[("UNBINDING_*", Accept(Accepted::Unbound))];

/// The response rows as each side receives them (status ESME_ROK unless the case says).
const INBOUND_RESPONSES: &[Case] = &[
    // The ESME receiving from an SMSC. It is BINDING with bind_transmitter, or with
    // bind_receiver after an outbind.
    case(
        Esme,
        C::BindTransmitterResp,
        &[("BINDING", Accept(Accepted::Bound(TX)))],
        Ignore,
    ),
    case(
        Esme,
        C::BindReceiverResp,
        &[("BINDING_AFTER_OUTBIND", Accept(Accepted::Bound(RX)))],
        Ignore,
    ),
    case(Esme, C::BindTransceiverResp, &[], Ignore),
    Case {
        status: S::ESME_RINVCMDID,
        ..case(
            Esme,
            C::GenericNack,
            &[
                ("BINDING*", Accept(Accepted::BindRefused(S::ESME_RINVCMDID))),
                ("BOUND_*", RESPONSE),
                ("UNBINDING_*", RESPONSE),
            ],
            Ignore,
        )
    },
    case(Esme, C::UnbindResp, UNBIND_RESP, Ignore),
    case(Esme, C::SubmitSmResp, SUBMIT_RESPONSES, Ignore),
    case(Esme, C::SubmitMultiResp, SUBMIT_RESPONSES, Ignore),
    case(Esme, C::DataSmResp, SUBMIT_RESPONSES, Ignore),
    case(Esme, C::DeliverSmResp, &[], Ignore),
    case(Esme, C::QuerySmResp, SUBMIT_RESPONSES, Ignore),
    case(Esme, C::CancelSmResp, SUBMIT_RESPONSES, Ignore),
    case(Esme, C::ReplaceSmResp, SUBMIT_RESPONSES, Ignore),
    case(Esme, C::EnquireLinkResp, ANY_BOUND_RESPONSE, Ignore),
    // The SMSC receiving from an ESME.
    case(Smsc, C::BindTransmitterResp, &[], Ignore),
    case(Smsc, C::BindReceiverResp, &[], Ignore),
    case(Smsc, C::BindTransceiverResp, &[], Ignore),
    case(Smsc, C::GenericNack, ANY_BOUND_RESPONSE, Ignore),
    case(Smsc, C::UnbindResp, UNBIND_RESP, Ignore),
    case(Smsc, C::SubmitSmResp, &[], Ignore),
    case(Smsc, C::SubmitMultiResp, &[], Ignore),
    case(Smsc, C::DataSmResp, DELIVER_RESPONSES, Ignore),
    case(Smsc, C::DeliverSmResp, DELIVER_RESPONSES, Ignore),
    case(Smsc, C::QuerySmResp, &[], Ignore),
    case(Smsc, C::CancelSmResp, &[], Ignore),
    case(Smsc, C::ReplaceSmResp, &[], Ignore),
    case(Smsc, C::EnquireLinkResp, ANY_BOUND_RESPONSE, Ignore),
];

/// Where `accepted` leaves a session that was in `before`.
fn after(accepted: Accepted, before: State) -> State {
    match accepted {
        Accepted::Request | Accepted::Response | Accepted::Bind(_) => before,
        Accepted::Outbind => State::Outbound,
        Accepted::Unbind | Accepted::Unbound => State::Closed,
        Accepted::Bound(mode) => State::Bound(mode),
        Accepted::BindRefused(_) => match before {
            State::Binding {
                after_outbind: true,
                ..
            } => State::Outbound,
            _ => State::Open,
        },
    }
}

fn run_cases(cases: &[Case]) {
    for role in [Esme, Smsc] {
        let commands: Vec<_> = cases
            .iter()
            .filter(|c| c.receiver == role)
            .map(|c| c.command)
            .collect();
        let expected: Vec<_> = CommandId::ALL
            .iter()
            .copied()
            .filter(|c| commands.contains(c))
            .collect();
        assert_eq!(commands.len(), expected.len(), "{role}: a command twice");
    }
    for case in cases {
        for (name, state) in STATES {
            if !reachable(case.receiver, state) {
                continue;
            }
            let row = format!(
                "{} from the {} to an {} in {name}",
                case.command,
                case.receiver.peer(),
                case.receiver
            );
            let expect = case
                .cells
                .iter()
                .find(|(pattern, _)| matches_name(pattern, name))
                .map_or(case.otherwise, |(_, e)| *e);
            let mut s = at(case.receiver, state);
            let got = s.receive(case.command, case.status, 7);
            match expect {
                Accept(accepted) => {
                    assert_eq!(got, Inbound::Accept(accepted), "{row}");
                    assert_eq!(s.state(), after(accepted, state), "{row}: state after");
                }
                Refuse(status) => {
                    let Inbound::Refuse(pdu) = got else {
                        panic!("{row}: refused with {status:?} expected, got {got:?}");
                    };
                    assert_eq!(pdu.command_status, status, "{row}");
                    assert_eq!(pdu.sequence_number, 7, "{row}");
                    let body = case
                        .command
                        .response()
                        .and_then(Body::header_only)
                        .unwrap_or(Body::GenericNack);
                    assert_eq!(pdu.body, body, "{row}");
                    assert_eq!(s.state(), state, "{row}: a refusal changes nothing");
                }
                Ignore => {
                    assert_eq!(got, Inbound::Ignore, "{row}");
                    assert_eq!(s.state(), state, "{row}: ignoring changes nothing");
                }
            }
        }
    }
}

#[test]
fn every_request_row_of_table_2_1_for_each_role_and_state() {
    assert_eq!(INBOUND_REQUESTS.len(), 2 * REQUESTS.len());
    run_cases(INBOUND_REQUESTS);
}

#[test]
fn every_response_row_of_table_2_1_for_each_role_and_state() {
    assert_eq!(
        INBOUND_RESPONSES.len(),
        2 * (CommandId::ALL.len() - REQUESTS.len())
    );
    run_cases(INBOUND_RESPONSES);
}

/// What each role may send, per request: the states where it may (by name pattern), or
/// `None` for a request the role never issues.
const OUTBOUND_REQUESTS: &[(Role, CommandId, Option<&[&str]>)] = &[
    (Esme, C::BindTransmitter, Some(&["OPEN"])),
    (Esme, C::BindReceiver, Some(&["OPEN", "OUTBOUND"])),
    (Esme, C::BindTransceiver, Some(&["OPEN", "OUTBOUND"])),
    (Esme, C::Outbind, None),
    (Esme, C::Unbind, Some(&["BOUND_*"])),
    (Esme, C::SubmitSm, Some(&["BOUND_TX", "BOUND_TRX"])),
    (Esme, C::SubmitMulti, Some(&["BOUND_TX", "BOUND_TRX"])),
    (Esme, C::DataSm, Some(&["BOUND_TX", "BOUND_TRX"])),
    (Esme, C::DeliverSm, None),
    (Esme, C::QuerySm, Some(&["BOUND_TX", "BOUND_TRX"])),
    (Esme, C::CancelSm, Some(&["BOUND_TX", "BOUND_TRX"])),
    (Esme, C::ReplaceSm, Some(&["BOUND_TX", "BOUND_TRX"])),
    (Esme, C::EnquireLink, Some(&["BOUND_*"])),
    (Esme, C::AlertNotification, None),
    (Smsc, C::BindTransmitter, None),
    (Smsc, C::BindReceiver, None),
    (Smsc, C::BindTransceiver, None),
    (Smsc, C::Outbind, Some(&["OPEN"])),
    (Smsc, C::Unbind, Some(&["BOUND_*"])),
    (Smsc, C::SubmitSm, None),
    (Smsc, C::SubmitMulti, None),
    (Smsc, C::DataSm, Some(&["BOUND_RX", "BOUND_TRX"])),
    (Smsc, C::DeliverSm, Some(&["BOUND_RX", "BOUND_TRX"])),
    (Smsc, C::QuerySm, None),
    (Smsc, C::CancelSm, None),
    (Smsc, C::ReplaceSm, None),
    (Smsc, C::EnquireLink, Some(&["BOUND_*"])),
    (Smsc, C::AlertNotification, Some(&["BOUND_RX", "BOUND_TRX"])),
];

#[test]
fn what_each_role_may_send_in_each_state() {
    assert_eq!(OUTBOUND_REQUESTS.len(), 2 * REQUESTS.len());
    for &(role, command, allowed) in OUTBOUND_REQUESTS {
        for (name, state) in STATES {
            if !reachable(role, state) {
                continue;
            }
            let row = format!("{command} sent by the {role} in {name}");
            let got = at(role, state).may_send(command);
            match allowed {
                None => assert_eq!(
                    got,
                    Err(SessionError::NotIssuedBy { role, command }),
                    "{row}"
                ),
                Some(patterns) if patterns.iter().any(|p| matches_name(p, name)) => {
                    assert_eq!(got, Ok(()), "{row}")
                }
                Some(_) => assert_eq!(
                    got,
                    Err(SessionError::NotInState {
                        role,
                        command,
                        state
                    }),
                    "{row}"
                ),
            }
        }
    }
}

#[test]
fn responses_may_be_sent_in_every_state() {
    for role in [Esme, Smsc] {
        for (name, state) in STATES {
            for &command in CommandId::ALL.iter().filter(|c| c.is_response()) {
                let mut s = at(role, state);
                assert_eq!(s.send(command), Ok(()), "{command} by the {role} in {name}");
                assert_eq!(s.state(), state, "{command} by the {role} in {name}");
            }
        }
    }
}

#[test]
fn what_either_side_may_send_the_other_accepts() {
    let pairs = [
        (State::Open, State::Open),
        (State::Outbound, State::Outbound),
        (State::Bound(TX), State::Bound(TX)),
        (State::Bound(RX), State::Bound(RX)),
        (State::Bound(TRX), State::Bound(TRX)),
    ];
    for (esme_state, smsc_state) in pairs {
        for command in REQUESTS {
            for (sender, receiver) in [
                (at(Esme, esme_state), at(Smsc, smsc_state)),
                (at(Smsc, smsc_state), at(Esme, esme_state)),
            ] {
                if sender.may_send(command).is_ok() {
                    let mut receiver = receiver;
                    assert!(
                        matches!(
                            receiver.receive(command, S::ESME_ROK, 1),
                            Inbound::Accept(_)
                        ),
                        "{command} from the {} in {} refused by the {} in {}",
                        sender.role(),
                        sender.state(),
                        receiver.role(),
                        receiver.state()
                    );
                }
            }
        }
    }
}

// ---- the decisions named one by one ----

fn refusal(s: &mut Session, command: CommandId, seq: u32) -> Pdu<'static> {
    match s.receive(command, S::ESME_ROK, seq) {
        Inbound::Refuse(pdu) => pdu,
        other => panic!(
            "{command} in {}: refusal expected, got {other:?}",
            s.state()
        ),
    }
}

#[test]
fn submit_sm_from_esme_in_bound_rx_is_refused_with_rinvbndsts() {
    let pdu = refusal(&mut at(Smsc, State::Bound(RX)), C::SubmitSm, 9);
    assert_eq!(
        pdu,
        Pdu::with_status(9, S::ESME_RINVBNDSTS, Body::SubmitSmResp(None))
    );
}

#[test]
fn submit_sm_from_esme_in_open_is_refused_with_rinvbndsts() {
    let pdu = refusal(&mut at(Smsc, State::Open), C::SubmitSm, 2);
    assert_eq!(
        pdu,
        Pdu::with_status(2, S::ESME_RINVBNDSTS, Body::SubmitSmResp(None))
    );
}

#[test]
fn enquire_link_in_open_is_answered_by_both_roles_but_not_sent() {
    for role in [Esme, Smsc] {
        let mut s = Session::new(role);
        assert_eq!(
            s.receive(C::EnquireLink, S::ESME_ROK, 1),
            Inbound::Accept(Accepted::Request)
        );
        assert!(s.may_send(C::EnquireLink).is_err(), "{role}");
    }
}

#[test]
fn unbind_in_open_is_refused_with_rinvbndsts() {
    let pdu = refusal(&mut Session::new(Smsc), C::Unbind, 3);
    assert_eq!(
        pdu,
        Pdu::with_status(3, S::ESME_RINVBNDSTS, Body::UnbindResp)
    );
}

#[test]
fn data_sm_from_esme_in_bound_rx_is_refused_with_rinvbndsts() {
    let pdu = refusal(&mut at(Smsc, State::Bound(RX)), C::DataSm, 4);
    assert_eq!(
        pdu,
        Pdu::with_status(4, S::ESME_RINVBNDSTS, Body::DataSmResp(None))
    );
    assert!(at(Esme, State::Bound(RX)).may_send(C::DataSm).is_err());
}

#[test]
fn data_sm_from_smsc_in_bound_tx_is_accepted_by_the_esme_but_not_sent_there() {
    let mut esme = at(Esme, State::Bound(TX));
    assert_eq!(
        esme.receive(C::DataSm, S::ESME_ROK, 5),
        Inbound::Accept(Accepted::Request)
    );
    assert!(at(Smsc, State::Bound(TX)).may_send(C::DataSm).is_err());
}

#[test]
fn replace_sm_from_esme_in_bound_trx_is_accepted() {
    let mut smsc = at(Smsc, State::Bound(TRX));
    assert_eq!(
        smsc.receive(C::ReplaceSm, S::ESME_ROK, 6),
        Inbound::Accept(Accepted::Request)
    );
    assert_eq!(at(Esme, State::Bound(TRX)).may_send(C::ReplaceSm), Ok(()));
}

#[test]
fn alert_notification_from_esme_gets_generic_nack_rinvcmdid() {
    let pdu = refusal(&mut at(Smsc, State::Bound(TRX)), C::AlertNotification, 7);
    assert_eq!(pdu, Pdu::generic_nack(7, S::ESME_RINVCMDID));
}

#[test]
fn alert_notification_in_bound_tx_is_accepted_by_the_esme() {
    assert_eq!(
        at(Esme, State::Bound(TX)).receive(C::AlertNotification, S::ESME_ROK, 8),
        Inbound::Accept(Accepted::Request)
    );
}

#[test]
fn outbind_from_esme_gets_generic_nack_rinvcmdid() {
    let pdu = refusal(&mut Session::new(Smsc), C::Outbind, 1);
    assert_eq!(pdu, Pdu::generic_nack(1, S::ESME_RINVCMDID));
}

#[test]
fn deliver_sm_from_esme_gets_deliver_sm_resp_rinvbndsts() {
    for state in [State::Open, State::Bound(RX), State::Bound(TRX)] {
        let pdu = refusal(&mut at(Smsc, state), C::DeliverSm, 11);
        assert_eq!(
            pdu,
            Pdu::with_status(11, S::ESME_RINVBNDSTS, Body::DeliverSmResp(None)),
            "{state}"
        );
    }
}

#[test]
fn bind_while_bound_or_unbinding_is_refused_with_ralybnd() {
    for state in [State::Bound(TX), State::Unbinding(TRX)] {
        let pdu = refusal(&mut at(Smsc, state), C::BindTransceiver, 12);
        assert_eq!(
            pdu,
            Pdu::with_status(12, S::ESME_RALYBND, Body::BindTransceiverResp(None)),
            "{state}"
        );
    }
}

#[test]
fn refusals_echo_any_sequence_number_and_encode() {
    for seq in [0, 1, 0x7FFF_FFFF, u32::MAX] {
        for command in [C::SubmitSm, C::Outbind] {
            let pdu = refusal(&mut Session::new(Smsc), command, seq);
            assert_eq!(pdu.sequence_number, seq);
            assert_eq!(pdu.to_bytes().map(|b| b.len()), Ok(16), "{command} {seq}");
        }
    }
}

#[test]
fn esme_may_send_only_a_bind_in_open() {
    let s = Session::new(Esme);
    let allowed: Vec<_> = REQUESTS
        .into_iter()
        .filter(|&c| s.may_send(c).is_ok())
        .collect();
    assert_eq!(
        allowed,
        [C::BindTransmitter, C::BindReceiver, C::BindTransceiver]
    );
}

#[test]
fn errors_name_the_command_the_role_and_the_state() {
    let e = at(Esme, State::Bound(RX))
        .may_send(C::SubmitSm)
        .expect_err("receivers do not submit");
    assert_eq!(
        e.to_string(),
        "an ESME may not send submit_sm in the BOUND_RX state (Table 2-1)"
    );
    assert_eq!(e.command(), C::SubmitSm);
    let e = at(Esme, State::Bound(TRX))
        .may_send(C::DeliverSm)
        .expect_err("an ESME never delivers");
    assert_eq!(
        e.to_string(),
        "deliver_sm is never sent by an ESME (Table 2-1)"
    );
    let e = at(Esme, State::Unbinding(TX))
        .may_send(C::Unbind)
        .expect_err("one unbind");
    assert_eq!(
        e.to_string(),
        "an ESME may not send unbind in the UNBINDING (from BOUND_TX) state (Table 2-1)"
    );
    let e = at(
        Esme,
        State::Binding {
            mode: TRX,
            after_outbind: false,
        },
    )
    .may_send(C::EnquireLink)
    .expect_err("nothing while binding");
    assert_eq!(
        e.to_string(),
        "an ESME may not send enquire_link in the BINDING (bind_transceiver sent) state (Table 2-1)"
    );
}

// ---- transitions ----

#[test]
fn esme_bind_answered_ok_binds_in_each_mode() {
    for mode in BindMode::ALL {
        let mut s = Session::new(Esme);
        assert_eq!(s.send(mode.bind_command()), Ok(()));
        assert_eq!(
            s.state(),
            State::Binding {
                mode,
                after_outbind: false
            }
        );
        assert_eq!(s.mode(), None);
        assert_eq!(
            s.receive(mode.resp_command(), S::ESME_ROK, 1),
            Inbound::Accept(Accepted::Bound(mode))
        );
        assert_eq!(s.state(), State::Bound(mode));
        assert_eq!(s.mode(), Some(mode));
        assert_eq!(s.may_send(C::SubmitSm).is_ok(), mode.can_submit());
    }
}

#[test]
fn esme_bind_resp_with_an_error_returns_to_open_and_may_bind_again() {
    let mut s = Session::new(Esme);
    s.send(C::BindTransmitter).expect("bind in OPEN");
    assert_eq!(
        s.receive(C::BindTransmitterResp, S::ESME_RINVPASWD, 1),
        Inbound::Accept(Accepted::BindRefused(S::ESME_RINVPASWD))
    );
    assert_eq!(s.state(), State::Open);
    assert_eq!(s.send(C::BindTransceiver), Ok(()));
}

#[test]
fn esme_generic_nack_to_the_bind_refuses_it_with_its_status() {
    // 4.1: an SMSC without bind_transceiver answers ESME_RINVCMDID; sequence 0 when it
    // could not decode the bind (4.3).
    let mut s = Session::new(Esme);
    s.send(C::BindTransceiver).expect("bind in OPEN");
    assert_eq!(
        s.receive(C::GenericNack, S::ESME_RINVCMDID, 0),
        Inbound::Accept(Accepted::BindRefused(S::ESME_RINVCMDID))
    );
    assert_eq!(s.state(), State::Open);
}

#[test]
fn esme_bind_resp_for_another_mode_is_ignored() {
    let mut s = Session::new(Esme);
    s.send(C::BindReceiver).expect("bind in OPEN");
    assert_eq!(
        s.receive(C::BindTransmitterResp, S::ESME_ROK, 1),
        Inbound::Ignore
    );
    assert!(matches!(s.state(), State::Binding { mode: RX, .. }));
}

#[test]
fn esme_outbind_received_allows_only_receiver_binds_and_a_refusal_returns_to_outbound() {
    let mut s = Session::new(Esme);
    assert_eq!(
        s.receive(C::Outbind, S::ESME_ROK, 1),
        Inbound::Accept(Accepted::Outbind)
    );
    assert_eq!(s.state(), State::Outbound);
    assert!(matches!(
        s.may_send(C::BindTransmitter),
        Err(SessionError::NotInState {
            state: State::Outbound,
            ..
        })
    ));
    assert_eq!(s.may_send(C::BindTransceiver), Ok(()));
    s.send(C::BindReceiver)
        .expect("bind_receiver after outbind");
    assert_eq!(
        s.state(),
        State::Binding {
            mode: RX,
            after_outbind: true
        }
    );
    assert_eq!(
        s.receive(C::BindReceiverResp, S::ESME_RBINDFAIL, 1),
        Inbound::Accept(Accepted::BindRefused(S::ESME_RBINDFAIL))
    );
    assert_eq!(s.state(), State::Outbound);
    s.send(C::BindReceiver).expect("again");
    assert_eq!(
        s.receive(C::BindReceiverResp, S::ESME_ROK, 2),
        Inbound::Accept(Accepted::Bound(RX))
    );
}

#[test]
fn a_second_outbind_is_refused() {
    let mut s = Session::new(Esme);
    s.receive(C::Outbind, S::ESME_ROK, 1);
    assert_eq!(
        refusal(&mut s, C::Outbind, 2),
        Pdu::generic_nack(2, S::ESME_RINVCMDID)
    );
    let mut smsc = Session::new(Smsc);
    smsc.send(C::Outbind).expect("outbind in OPEN");
    assert!(smsc.may_send(C::Outbind).is_err());
}

#[test]
fn smsc_bind_accepted_binds_in_each_mode() {
    for mode in BindMode::ALL {
        let mut s = Session::new(Smsc);
        assert_eq!(
            s.receive(mode.bind_command(), S::ESME_ROK, 1),
            Inbound::Accept(Accepted::Bind(mode))
        );
        assert_eq!(s.state(), State::Open, "the verdict is the application's");
        assert_eq!(s.admit_bind(mode), Ok(()));
        assert_eq!(s.bind_accepted(mode), Ok(()));
        assert_eq!(s.state(), State::Bound(mode));
        assert_eq!(s.may_send(C::DeliverSm).is_ok(), mode.can_receive());
    }
}

#[test]
fn smsc_refused_bind_leaves_open_for_another_attempt() {
    let mut s = Session::new(Smsc);
    assert_eq!(
        s.receive(C::BindTransmitter, S::ESME_ROK, 1),
        Inbound::Accept(Accepted::Bind(TX))
    );
    // The application refuses (bad password): nothing to record.
    assert_eq!(
        s.receive(C::BindTransmitter, S::ESME_ROK, 2),
        Inbound::Accept(Accepted::Bind(TX))
    );
    assert_eq!(s.bind_accepted(TX), Ok(()));
}

#[test]
fn smsc_outbind_then_bind_receiver_or_transceiver_binds() {
    for mode in [RX, TRX] {
        let mut s = Session::new(Smsc);
        assert_eq!(s.send(C::Outbind), Ok(()));
        assert_eq!(s.state(), State::Outbound);
        assert_eq!(
            s.receive(mode.bind_command(), S::ESME_ROK, 1),
            Inbound::Accept(Accepted::Bind(mode))
        );
        assert_eq!(s.bind_accepted(mode), Ok(()));
        assert_eq!(s.state(), State::Bound(mode));
    }
}

#[test]
fn bind_transmitter_after_outbind_is_authenticated_then_refused_with_rbindfail() {
    let mut s = Session::new(Smsc);
    s.send(C::Outbind).expect("outbind in OPEN");
    assert_eq!(
        s.receive(C::BindTransmitter, S::ESME_ROK, 1),
        Inbound::Accept(Accepted::Bind(TX))
    );
    let e = s.admit_bind(TX).expect_err("2.2.1 wants a receiver");
    assert_eq!(e.command_status(), S::ESME_RBINDFAIL);
    assert_eq!(s.bind_accepted(TX), Err(e));
    assert_eq!(s.state(), State::Outbound);
}

#[test]
fn bind_accepted_is_refused_where_admit_bind_refuses() {
    let mut bound = at(Smsc, State::Bound(RX));
    let e = bound.bind_accepted(TRX).expect_err("already bound");
    assert_eq!(e.command_status(), S::ESME_RALYBND);
    assert_eq!(bound.state(), State::Bound(RX));
    let mut esme = Session::new(Esme);
    assert_eq!(
        esme.bind_accepted(TX),
        Err(SessionError::NotIssuedBy {
            role: Smsc,
            command: C::BindTransmitter
        })
    );
    assert_eq!(esme.state(), State::Open);
    let closed = at(Smsc, State::Closed);
    assert_eq!(
        closed.admit_bind(RX).map_err(|e| e.command_status()),
        Err(S::ESME_RINVBNDSTS)
    );
}

#[test]
fn unbind_sent_then_unbind_resp_closes_for_both_roles() {
    for role in [Esme, Smsc] {
        let mut s = at(role, State::Bound(TRX));
        assert_eq!(s.send(C::Unbind), Ok(()));
        assert_eq!(s.state(), State::Unbinding(TRX));
        assert_eq!(s.mode(), Some(TRX), "still bound until unbind_resp");
        assert!(s.may_send(C::SubmitSm).is_err(), "{role}: nothing new");
        assert!(s.may_send(C::Unbind).is_err(), "{role}: one unbind");
        assert_eq!(
            s.receive(C::UnbindResp, S::ESME_ROK, 1),
            Inbound::Accept(Accepted::Unbound)
        );
        assert_eq!(s.state(), State::Closed);
        assert_eq!(s.mode(), None);
    }
}

#[test]
fn unbind_resp_closes_whatever_its_sequence_number_and_status() {
    let mut s = at(Smsc, State::Unbinding(RX));
    assert_eq!(
        s.receive(C::UnbindResp, S::ESME_RINVBNDSTS, 0x1234),
        Inbound::Accept(Accepted::Unbound)
    );
    assert_eq!(s.state(), State::Closed);
}

#[test]
fn unbind_resp_while_bound_is_ignored() {
    let mut s = at(Esme, State::Bound(TX));
    assert_eq!(s.receive(C::UnbindResp, S::ESME_ROK, 1), Inbound::Ignore);
    assert_eq!(s.state(), State::Bound(TX));
}

#[test]
fn unbind_received_while_bound_or_unbinding_closes_for_both_roles() {
    for role in [Esme, Smsc] {
        for state in [State::Bound(TX), State::Bound(RX), State::Unbinding(TRX)] {
            let mut s = at(role, state);
            assert_eq!(
                s.receive(C::Unbind, S::ESME_ROK, 5),
                Inbound::Accept(Accepted::Unbind),
                "{role} {state}"
            );
            assert_eq!(s.state(), State::Closed, "{role} {state}");
            assert_eq!(
                s.may_send(C::UnbindResp),
                Ok(()),
                "the answer still goes out"
            );
        }
    }
}

#[test]
fn pdus_crossing_an_unbind_are_still_served_and_settled() {
    let mut smsc = at(Smsc, State::Bound(TRX));
    smsc.send(C::Unbind).expect("bound");
    assert_eq!(
        smsc.receive(C::SubmitSm, S::ESME_ROK, 3),
        Inbound::Accept(Accepted::Request)
    );
    assert_eq!(
        smsc.receive(C::DeliverSmResp, S::ESME_ROK, 4),
        Inbound::Accept(Accepted::Response)
    );
    let mut esme = at(Esme, State::Bound(RX));
    esme.send(C::Unbind).expect("bound");
    assert_eq!(
        esme.receive(C::DeliverSm, S::ESME_ROK, 9),
        Inbound::Accept(Accepted::Request)
    );
}

#[test]
fn closed_refuses_every_request_ignores_every_response_and_sends_no_request() {
    for role in [Esme, Smsc] {
        let mut s = at(role, State::Closed);
        for &command in CommandId::ALL {
            let got = s.receive(command, S::ESME_ROK, 1);
            if command.is_response() {
                assert_eq!(got, Inbound::Ignore, "{role}: {command}");
            } else {
                assert!(matches!(got, Inbound::Refuse(_)), "{role}: {command}");
                assert!(s.may_send(command).is_err(), "{role}: {command}");
            }
            assert_eq!(s.state(), State::Closed);
        }
    }
}

// ---- no sequence of events breaks a session ----

#[derive(Debug, Clone)]
enum Event {
    Receive(CommandId, CommandStatus, u32),
    Send(CommandId),
    Admit(BindMode),
    Accepted(BindMode),
}

fn event() -> impl Strategy<Value = Event> {
    let command = proptest::sample::select(CommandId::ALL);
    let mode = proptest::sample::select(BindMode::ALL.to_vec());
    let status = proptest::sample::select(vec![
        S::ESME_ROK,
        S::ESME_RINVCMDID,
        S::ESME_RBINDFAIL,
        S(0x0400),
    ]);
    prop_oneof![
        4 => (command.clone(), status, any::<u32>()).prop_map(|(c, s, n)| Event::Receive(c, s, n)),
        3 => command.prop_map(Event::Send),
        1 => mode.clone().prop_map(Event::Admit),
        1 => mode.prop_map(Event::Accepted),
    ]
}

proptest! {
    #[test]
    fn no_sequence_of_events_breaks_a_session(
        esme in any::<bool>(),
        events in proptest::collection::vec(event(), 0..64),
    ) {
        let role = if esme { Esme } else { Smsc };
        let mut s = Session::new(role);
        for e in events {
            let before = s.state();
            match e {
                Event::Receive(command, status, seq) => match s.receive(command, status, seq) {
                    Inbound::Refuse(pdu) => {
                        prop_assert!(!command.is_response());
                        prop_assert_eq!(pdu.sequence_number, seq);
                        prop_assert!(pdu.command_id().is_response());
                        prop_assert_eq!(pdu.to_bytes().map(|b| b.len()), Ok(16));
                        prop_assert_eq!(s.state(), before);
                    }
                    Inbound::Ignore => {
                        prop_assert!(command.is_response());
                        prop_assert_eq!(s.state(), before);
                    }
                    Inbound::Accept(accepted) => {
                        prop_assert_eq!(s.state(), after(accepted, before));
                    }
                },
                Event::Send(command) => {
                    let allowed = s.may_send(command);
                    prop_assert_eq!(s.send(command), allowed);
                    if allowed.is_err() || command.is_response() {
                        prop_assert_eq!(s.state(), before);
                    }
                }
                Event::Admit(mode) => {
                    let admitted = s.admit_bind(mode);
                    prop_assert_eq!(s.state(), before);
                    prop_assert_eq!(s.clone().bind_accepted(mode), admitted);
                }
                Event::Accepted(mode) => match s.bind_accepted(mode) {
                    Ok(()) => prop_assert_eq!(s.state(), State::Bound(mode)),
                    Err(_) => prop_assert_eq!(s.state(), before),
                },
            }
            prop_assert!(reachable(role, s.state()), "{} in {}", role, s.state());
            if before == State::Closed {
                prop_assert_eq!(s.state(), State::Closed);
            }
        }
    }
}
