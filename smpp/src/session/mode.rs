//! The three ways an ESME binds (section 4.1): transmitter, receiver, transceiver.

use super::table;
use crate::CommandId;

/// How a session is bound (4.1): which bind PDU opened it, and so what it may carry.
///
/// With the `serde` feature it is written in snake case (`"transmitter"`, `"receiver"`,
/// `"transceiver"`), as configuration files name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum BindMode {
    /// bind_transmitter (4.1.1): the ESME submits; BOUND_TX.
    Transmitter,
    /// bind_receiver (4.1.3): the SMSC delivers; BOUND_RX.
    Receiver,
    /// bind_transceiver (4.1.5): both over one connection; BOUND_TRX.
    Transceiver,
}

impl BindMode {
    /// The three modes.
    pub const ALL: [BindMode; 3] = [
        BindMode::Transmitter,
        BindMode::Receiver,
        BindMode::Transceiver,
    ];

    /// May an ESME bound this way submit (submit_sm, submit_multi, data_sm, and query,
    /// cancel or replace what it submitted)? Read from Table 2-1's submit_sm row.
    pub const fn can_submit(self) -> bool {
        table::issued_when_bound(CommandId::SubmitSm, super::Role::Esme, self)
    }

    /// May the SMSC deliver to an ESME bound this way (deliver_sm, data_sm)? Read from
    /// Table 2-1's deliver_sm row.
    pub const fn can_receive(self) -> bool {
        table::issued_when_bound(CommandId::DeliverSm, super::Role::Smsc, self)
    }

    /// The bind request that asks for this mode.
    pub const fn bind_command(self) -> CommandId {
        match self {
            BindMode::Transmitter => CommandId::BindTransmitter,
            BindMode::Receiver => CommandId::BindReceiver,
            BindMode::Transceiver => CommandId::BindTransceiver,
        }
    }

    /// The response that answers [`BindMode::bind_command`].
    pub const fn resp_command(self) -> CommandId {
        match self {
            BindMode::Transmitter => CommandId::BindTransmitterResp,
            BindMode::Receiver => CommandId::BindReceiverResp,
            BindMode::Transceiver => CommandId::BindTransceiverResp,
        }
    }

    /// The mode a bind request asks for; `None` for any other command (its response
    /// included).
    pub const fn from_bind_command(command: CommandId) -> Option<BindMode> {
        match command {
            CommandId::BindTransmitter => Some(BindMode::Transmitter),
            CommandId::BindReceiver => Some(BindMode::Receiver),
            CommandId::BindTransceiver => Some(BindMode::Transceiver),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transmitter_and_transceiver_submit_receiver_and_transceiver_receive() {
        assert!(BindMode::Transmitter.can_submit());
        assert!(!BindMode::Transmitter.can_receive());
        assert!(!BindMode::Receiver.can_submit());
        assert!(BindMode::Receiver.can_receive());
        assert!(BindMode::Transceiver.can_submit());
        assert!(BindMode::Transceiver.can_receive());
    }

    #[test]
    fn bind_commands_and_their_responses_pair_up() {
        for mode in BindMode::ALL {
            assert_eq!(BindMode::from_bind_command(mode.bind_command()), Some(mode));
            assert_eq!(mode.bind_command().response(), Some(mode.resp_command()));
            assert_eq!(BindMode::from_bind_command(mode.resp_command()), None);
        }
        assert_eq!(BindMode::from_bind_command(CommandId::Outbind), None);
    }

    #[cfg(feature = "serde")]
    #[test]
    fn modes_are_written_in_snake_case_as_configuration_names_them() {
        let json = serde_json::to_string(&BindMode::ALL).expect("serialises");
        assert_eq!(json, r#"["transmitter","receiver","transceiver"]"#);
        let back: Vec<BindMode> = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, BindMode::ALL);
        assert!(serde_json::from_str::<BindMode>(r#""Transmitter""#).is_err());
    }
}
