//! esm_class (section 5.2.12): the messaging mode, the message type (a delivery receipt, an
//! intermediate notification, ...) and the GSM features (UDHI, reply path) of a message.

/// Bits 1-0: messaging mode mask (ESME -> SMSC only; ignored on deliver_sm).
pub const MODE_MASK: u8 = 0x03;
/// Bits 5-2: message type mask.
pub const TYPE_MASK: u8 = 0x3c;
/// Message type: SMSC delivery receipt (xx0001xx), on deliver_sm and data_sm.
pub const DELIVERY_RECEIPT: u8 = 0x04;
/// Message type: SME delivery acknowledgement (xx0010xx).
pub const DELIVERY_ACK: u8 = 0x08;
/// Message type: SME manual/user acknowledgement (xx0100xx).
pub const MANUAL_ACK: u8 = 0x10;
/// Message type: conversation abort (xx0110xx).
pub const CONVERSATION_ABORT: u8 = 0x18;
/// Message type: intermediate delivery notification (xx1000xx).
pub const INTERMEDIATE_NOTIFICATION: u8 = 0x20;
/// Bit 6: UDHI, the short_message (or message_payload) begins with a User Data Header
/// (`01xxxxxx`; 5.2.12 notes: whoever encodes a UDH must set it).
pub const UDHI: u8 = 0x40;
/// Bit 7: reply path.
pub const REPLY_PATH: u8 = 0x80;

/// True when esm_class marks a delivery receipt.
pub const fn is_delivery_receipt(esm_class: u8) -> bool {
    esm_class & TYPE_MASK == DELIVERY_RECEIPT
}

/// True when esm_class marks an intermediate delivery notification.
pub const fn is_intermediate_notification(esm_class: u8) -> bool {
    esm_class & TYPE_MASK == INTERMEDIATE_NOTIFICATION
}

/// True when the message reports on another one: a delivery receipt or an intermediate
/// notification, both read as Appendix B receipts.
pub const fn is_receipt(esm_class: u8) -> bool {
    is_delivery_receipt(esm_class) || is_intermediate_notification(esm_class)
}

/// True when esm_class has the UDHI bit: the message octets begin with a User Data Header.
pub const fn has_udhi(esm_class: u8) -> bool {
    esm_class & UDHI != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_type_ignores_mode_and_gsm_bits() {
        // UDHI, reply path and a messaging mode around the receipt type.
        assert!(is_delivery_receipt(0xC7));
        assert!(is_receipt(0xC7));
        assert!(is_intermediate_notification(0x23));
        assert!(is_receipt(0x20));
        assert!(!is_receipt(DELIVERY_ACK));
        assert!(!is_receipt(0x0c), "xx0011xx is reserved, not a receipt");
        assert!(has_udhi(0x44));
        assert!(!has_udhi(REPLY_PATH | DELIVERY_RECEIPT));
    }
}
