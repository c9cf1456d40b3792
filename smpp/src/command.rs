//! Command identifiers (section 5.1.2.1) and command status codes (section 5.1.3).

use std::fmt;

macro_rules! command_ids {
    ($( $(#[$doc:meta])* $variant:ident = $value:expr, $name:literal; )*) => {
        /// The `command_id` of a PDU (SMPP 3.4 section 5.1.2.1, table 5-1).
        ///
        /// Response ids are the request id with bit 31 set. An id not in the table is not a
        /// variant: decoding reports it as [`crate::DecodeError::UnknownCommand`] so that a
        /// session can answer `generic_nack` with `ESME_RINVCMDID`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u32)]
        pub enum CommandId {
            $( $(#[$doc])* $variant = $value, )*
        }

        impl CommandId {
            /// Every command id of the specification.
            pub const ALL: &'static [CommandId] = &[$(CommandId::$variant,)*];

            /// The id for a wire value, or `None` for a value the specification does not define.
            pub const fn from_u32(value: u32) -> Option<CommandId> {
                match value {
                    $( $value => Some(CommandId::$variant), )*
                    _ => None,
                }
            }

            /// The name the specification gives the command, e.g. `"submit_sm_resp"`.
            pub const fn name(self) -> &'static str {
                match self {
                    $( CommandId::$variant => $name, )*
                }
            }

            /// The id named as in the specification (`"submit_sm"`), if any.
            pub fn from_name(name: &str) -> Option<CommandId> {
                match name {
                    $( $name => Some(CommandId::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

command_ids! {
    /// generic_nack (4.3.1).
    GenericNack = 0x8000_0000, "generic_nack";
    /// bind_receiver (4.1.3).
    BindReceiver = 0x0000_0001, "bind_receiver";
    /// bind_receiver_resp (4.1.4).
    BindReceiverResp = 0x8000_0001, "bind_receiver_resp";
    /// bind_transmitter (4.1.1).
    BindTransmitter = 0x0000_0002, "bind_transmitter";
    /// bind_transmitter_resp (4.1.2).
    BindTransmitterResp = 0x8000_0002, "bind_transmitter_resp";
    /// query_sm (4.8.1).
    QuerySm = 0x0000_0003, "query_sm";
    /// query_sm_resp (4.8.2).
    QuerySmResp = 0x8000_0003, "query_sm_resp";
    /// submit_sm (4.4.1).
    SubmitSm = 0x0000_0004, "submit_sm";
    /// submit_sm_resp (4.4.2).
    SubmitSmResp = 0x8000_0004, "submit_sm_resp";
    /// deliver_sm (4.6.1).
    DeliverSm = 0x0000_0005, "deliver_sm";
    /// deliver_sm_resp (4.6.2).
    DeliverSmResp = 0x8000_0005, "deliver_sm_resp";
    /// unbind (4.2.1).
    Unbind = 0x0000_0006, "unbind";
    /// unbind_resp (4.2.2).
    UnbindResp = 0x8000_0006, "unbind_resp";
    /// replace_sm (4.10.1).
    ReplaceSm = 0x0000_0007, "replace_sm";
    /// replace_sm_resp (4.10.2).
    ReplaceSmResp = 0x8000_0007, "replace_sm_resp";
    /// cancel_sm (4.9.1).
    CancelSm = 0x0000_0008, "cancel_sm";
    /// cancel_sm_resp (4.9.2).
    CancelSmResp = 0x8000_0008, "cancel_sm_resp";
    /// bind_transceiver (4.1.5).
    BindTransceiver = 0x0000_0009, "bind_transceiver";
    /// bind_transceiver_resp (4.1.6).
    BindTransceiverResp = 0x8000_0009, "bind_transceiver_resp";
    /// outbind (4.1.7.1).
    Outbind = 0x0000_000B, "outbind";
    /// enquire_link (4.11.1).
    EnquireLink = 0x0000_0015, "enquire_link";
    /// enquire_link_resp (4.11.2).
    EnquireLinkResp = 0x8000_0015, "enquire_link_resp";
    /// submit_multi (4.5.1).
    SubmitMulti = 0x0000_0021, "submit_multi";
    /// submit_multi_resp (4.5.2).
    SubmitMultiResp = 0x8000_0021, "submit_multi_resp";
    /// alert_notification (4.12.1).
    AlertNotification = 0x0000_0102, "alert_notification";
    /// data_sm (4.7.1).
    DataSm = 0x0000_0103, "data_sm";
    /// data_sm_resp (4.7.2).
    DataSmResp = 0x8000_0103, "data_sm_resp";
}

impl CommandId {
    /// The wire value.
    pub const fn as_u32(self) -> u32 {
        self as u32
    }

    /// True for a response (`*_resp` and `generic_nack`): bit 31 of the id is set.
    pub const fn is_response(self) -> bool {
        (self as u32) & 0x8000_0000 != 0
    }

    /// The response that answers this request, or `None` for a response itself and for the
    /// requests the specification gives no response (outbind, alert_notification).
    pub const fn response(self) -> Option<CommandId> {
        if self.is_response() {
            return None;
        }
        match self {
            CommandId::Outbind | CommandId::AlertNotification => None,
            _ => CommandId::from_u32(self as u32 | 0x8000_0000),
        }
    }

    /// The request this response answers, or `None` for a request itself and for
    /// generic_nack, which may answer any request (section 4.3).
    pub const fn request(self) -> Option<CommandId> {
        if !self.is_response() {
            return None;
        }
        // generic_nack's id without bit 31 is 0, which names no command.
        CommandId::from_u32(self as u32 & !0x8000_0000)
    }
}

impl fmt::Display for CommandId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

macro_rules! statuses {
    ($( $name:ident = $value:expr, $text:literal; )*) => {
        impl CommandStatus {
            $(
                #[doc = concat!("`", stringify!($name), "` — ", $text, ".")]
                pub const $name: CommandStatus = CommandStatus($value);
            )*

            /// Every status code the specification names.
            pub const NAMED: &'static [CommandStatus] = &[$(CommandStatus::$name,)*];

            /// The specification's name (`"ESME_RTHROTTLED"`), or `None` for a reserved or
            /// vendor-specific value.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some(stringify!($name)), )*
                    _ => None,
                }
            }

            /// The specification's description of the code.
            pub const fn description(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some($text), )*
                    _ => None,
                }
            }

            /// The status named as in the specification, if any.
            pub fn from_name(name: &str) -> Option<CommandStatus> {
                match name {
                    $( stringify!($name) => Some(CommandStatus::$name), )*
                    _ => None,
                }
            }
        }
    };
}

/// A `command_status` value (section 5.1.3, table 5-2).
///
/// A newtype rather than an enum: SMSCs send reserved and vendor-specific codes
/// (0x0400–0x04FF) and those are kept as they came, not rejected.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct CommandStatus(pub u32);

statuses! {
    ESME_ROK = 0x0000_0000, "No Error";
    ESME_RINVMSGLEN = 0x0000_0001, "Message Length is invalid";
    ESME_RINVCMDLEN = 0x0000_0002, "Command Length is invalid";
    ESME_RINVCMDID = 0x0000_0003, "Invalid Command ID";
    ESME_RINVBNDSTS = 0x0000_0004, "Incorrect BIND Status for given command";
    ESME_RALYBND = 0x0000_0005, "ESME Already in Bound State";
    ESME_RINVPRTFLG = 0x0000_0006, "Invalid Priority Flag";
    ESME_RINVREGDLVFLG = 0x0000_0007, "Invalid Registered Delivery Flag";
    ESME_RSYSERR = 0x0000_0008, "System Error";
    ESME_RINVSRCADR = 0x0000_000A, "Invalid Source Address";
    ESME_RINVDSTADR = 0x0000_000B, "Invalid Dest Addr";
    ESME_RINVMSGID = 0x0000_000C, "Message ID is invalid";
    ESME_RBINDFAIL = 0x0000_000D, "Bind Failed";
    ESME_RINVPASWD = 0x0000_000E, "Invalid Password";
    ESME_RINVSYSID = 0x0000_000F, "Invalid System ID";
    ESME_RCANCELFAIL = 0x0000_0011, "Cancel SM Failed";
    ESME_RREPLACEFAIL = 0x0000_0013, "Replace SM Failed";
    ESME_RMSGQFUL = 0x0000_0014, "Message Queue Full";
    ESME_RINVSERTYP = 0x0000_0015, "Invalid Service Type";
    ESME_RINVNUMDESTS = 0x0000_0033, "Invalid number of destinations";
    ESME_RINVDLNAME = 0x0000_0034, "Invalid Distribution List name";
    ESME_RINVDESTFLAG = 0x0000_0040, "Destination flag is invalid (submit_multi)";
    ESME_RINVSUBREP = 0x0000_0042, "Invalid 'submit with replace' request";
    ESME_RINVESMCLASS = 0x0000_0043, "Invalid esm_class field data";
    ESME_RCNTSUBDL = 0x0000_0044, "Cannot Submit to Distribution List";
    ESME_RSUBMITFAIL = 0x0000_0045, "submit_sm or submit_multi failed";
    ESME_RINVSRCTON = 0x0000_0048, "Invalid Source address TON";
    ESME_RINVSRCNPI = 0x0000_0049, "Invalid Source address NPI";
    ESME_RINVDSTTON = 0x0000_0050, "Invalid Destination address TON";
    ESME_RINVDSTNPI = 0x0000_0051, "Invalid Destination address NPI";
    ESME_RINVSYSTYP = 0x0000_0053, "Invalid system_type field";
    ESME_RINVREPFLAG = 0x0000_0054, "Invalid replace_if_present flag";
    ESME_RINVNUMMSGS = 0x0000_0055, "Invalid number of messages";
    ESME_RTHROTTLED = 0x0000_0058, "Throttling error (ESME has exceeded allowed message limits)";
    ESME_RINVSCHED = 0x0000_0061, "Invalid Scheduled Delivery Time";
    ESME_RINVEXPIRY = 0x0000_0062, "Invalid message validity period (Expiry time)";
    ESME_RINVDFTMSGID = 0x0000_0063, "Predefined Message Invalid or Not Found";
    ESME_RX_T_APPN = 0x0000_0064, "ESME Receiver Temporary App Error Code";
    ESME_RX_P_APPN = 0x0000_0065, "ESME Receiver Permanent App Error Code";
    ESME_RX_R_APPN = 0x0000_0066, "ESME Receiver Reject Message Error Code";
    ESME_RQUERYFAIL = 0x0000_0067, "query_sm request failed";
    ESME_RINVOPTPARSTREAM = 0x0000_00C0, "Error in the optional part of the PDU Body";
    ESME_ROPTPARNOTALLWD = 0x0000_00C1, "Optional Parameter not allowed";
    ESME_RINVPARLEN = 0x0000_00C2, "Invalid Parameter Length";
    ESME_RMISSINGOPTPARAM = 0x0000_00C3, "Expected Optional Parameter missing";
    ESME_RINVOPTPARAMVAL = 0x0000_00C4, "Invalid Optional Parameter Value";
    ESME_RDELIVERYFAILURE = 0x0000_00FE, "Delivery Failure (used for data_sm_resp)";
    ESME_RUNKNOWNERR = 0x0000_00FF, "Unknown Error";
}

impl CommandStatus {
    /// True for `ESME_ROK`.
    pub const fn is_ok(self) -> bool {
        self.0 == 0
    }

    /// True for the codes a sender should retry later rather than give up on: throttling,
    /// a full queue, a system error and the ESME receiver's temporary error.
    pub const fn is_transient(self) -> bool {
        matches!(self.0, 0x08 | 0x14 | 0x58 | 0x64)
    }

    /// True for the range 0x0400–0x04FF that the specification leaves to SMSC vendors.
    pub const fn is_vendor_specific(self) -> bool {
        self.0 >= 0x0400 && self.0 <= 0x04FF
    }
}

impl fmt::Debug for CommandStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name}"),
            None => write!(f, "CommandStatus(0x{:08x})", self.0),
        }
    }
}

impl fmt::Display for CommandStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} (0x{:08x})", self.0),
            None => write!(f, "0x{:08x}", self.0),
        }
    }
}

impl From<u32> for CommandStatus {
    fn from(value: u32) -> Self {
        CommandStatus(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_id_round_trips_through_its_wire_value_and_name() {
        for &id in CommandId::ALL {
            assert_eq!(CommandId::from_u32(id.as_u32()), Some(id));
            assert_eq!(CommandId::from_name(id.name()), Some(id));
        }
        assert_eq!(CommandId::ALL.len(), 27);
    }

    #[test]
    fn responses_pair_with_requests() {
        assert_eq!(
            CommandId::SubmitSm.response(),
            Some(CommandId::SubmitSmResp)
        );
        assert_eq!(CommandId::DataSm.response(), Some(CommandId::DataSmResp));
        assert_eq!(CommandId::Outbind.response(), None);
        assert_eq!(CommandId::AlertNotification.response(), None);
        assert_eq!(CommandId::GenericNack.response(), None);
        assert!(CommandId::GenericNack.is_response());
    }

    #[test]
    fn every_response_but_generic_nack_names_its_request() {
        for &id in CommandId::ALL {
            if let Some(resp) = id.response() {
                assert_eq!(resp.request(), Some(id), "{resp}");
            }
        }
        assert_eq!(CommandId::GenericNack.request(), None);
        assert_eq!(CommandId::SubmitSm.request(), None);
        assert_eq!(
            CommandId::ALL
                .iter()
                .filter(|id| id.request().is_some())
                .count(),
            12
        );
    }

    #[test]
    fn unknown_status_is_kept_and_printed_in_hex() {
        let vendor = CommandStatus(0x0000_0401);
        assert_eq!(vendor.name(), None);
        assert!(vendor.is_vendor_specific());
        assert_eq!(vendor.to_string(), "0x00000401");
        assert_eq!(
            CommandStatus::ESME_RTHROTTLED.to_string(),
            "ESME_RTHROTTLED (0x00000058)"
        );
        assert_eq!(CommandStatus::NAMED.len(), 48);
    }
}
