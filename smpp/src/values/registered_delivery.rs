//! registered_delivery (section 5.2.17): whether an SMSC delivery receipt, SME
//! acknowledgements and an intermediate notification are asked for.

use crate::values::MessageState;

/// Bits 1-0: SMSC delivery receipt mask.
pub const RECEIPT_MASK: u8 = 0x03;
/// No SMSC delivery receipt.
pub const NO_RECEIPT: u8 = 0x00;
/// A receipt on final outcome, success or failure.
pub const RECEIPT_FINAL: u8 = 0x01;
/// A receipt only on failure.
pub const RECEIPT_ON_FAILURE: u8 = 0x02;
/// Bits 3-2: SME originated acknowledgement mask.
pub const SME_ACK_MASK: u8 = 0x0c;
/// SME delivery acknowledgement requested.
pub const SME_DELIVERY_ACK: u8 = 0x04;
/// SME manual/user acknowledgement requested.
pub const SME_MANUAL_ACK: u8 = 0x08;
/// Both SME delivery and manual/user acknowledgement requested.
pub const SME_BOTH_ACKS: u8 = 0x0c;
/// Bit 4: intermediate notification requested (the spec's table heads it "bit 5",
/// counting from 1; the value is `xxx1xxxx`).
pub const INTERMEDIATE_NOTIFICATION: u8 = 0x10;

/// Whether `registered_delivery` asks for an SMSC delivery receipt of a message that reached
/// the final state `outcome` (bits 1-0): `01` for every final outcome, `10` for a failure
/// only (any state but DELIVERED), `00` and the reserved `11` for none.
pub const fn receipt_requested(registered_delivery: u8, outcome: MessageState) -> bool {
    match registered_delivery & RECEIPT_MASK {
        RECEIPT_FINAL => true,
        RECEIPT_ON_FAILURE => !matches!(outcome, MessageState::Delivered),
        _ => false,
    }
}

/// Whether `registered_delivery` asks for an intermediate notification (bit 4).
pub const fn intermediate_requested(registered_delivery: u8) -> bool {
    registered_delivery & INTERMEDIATE_NOTIFICATION != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_bits_decide_per_outcome() {
        for state in MessageState::ALL.into_iter().filter(|s| s.is_final()) {
            let failed = state != MessageState::Delivered;
            assert!(receipt_requested(RECEIPT_FINAL, state));
            assert_eq!(receipt_requested(RECEIPT_ON_FAILURE, state), failed);
            assert!(!receipt_requested(NO_RECEIPT, state));
            assert!(!receipt_requested(0x03, state), "11 is reserved");
            // The other bits do not change the receipt request.
            assert_eq!(
                receipt_requested(
                    RECEIPT_ON_FAILURE | SME_BOTH_ACKS | INTERMEDIATE_NOTIFICATION,
                    state
                ),
                failed
            );
        }
        assert!(intermediate_requested(0x11));
        assert!(!intermediate_requested(RECEIPT_FINAL | SME_BOTH_ACKS));
    }
}
