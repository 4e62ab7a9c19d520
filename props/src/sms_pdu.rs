//! GSM SMS PDUs (TS 23.040): SMS-DELIVER, SMS-SUBMIT and SMS-STATUS-REPORT as modems hand
//! them over.

use common::sms_pdu::{decode_with_sca, Direction, Tpdu};

/// The first byte says which way the PDU travels (bit 0) and whether an SCA comes first
/// (bit 1), the rest is the PDU. A TPDU that decodes encodes again, to one that decodes to the
/// same TPDU.
pub fn decode(data: &[u8]) {
    let Some((&how, pdu)) = data.split_first() else {
        return;
    };
    let dir = if how & 1 == 0 {
        Direction::ToMs
    } else {
        Direction::FromMs
    };
    let decoded = if how & 2 == 0 {
        Tpdu::decode(pdu, dir)
    } else {
        decode_with_sca(pdu, dir).map(|(_, t)| t)
    };
    let Ok(tpdu) = decoded else {
        return;
    };
    let again = tpdu
        .encode()
        .unwrap_or_else(|e| panic!("decoded but cannot encode ({e}): {tpdu:?}"));
    assert_eq!(
        Tpdu::decode(&again, dir).as_ref(),
        Ok(&tpdu),
        "{again:02X?}"
    );
}
