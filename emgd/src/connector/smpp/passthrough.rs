//! The optional parameters (TLVs) a client or an SMSC sends that emgd does not act on but
//! carries with the message to the next SMPP hop: what the sender told the handset's side
//! (ports, references, callback number, privacy, language, display and ITS settings,
//! billing_identification). Those emgd acts on itself are not carried: the sar_* and
//! message_payload that the connectors rebuild, the receipt's own parameters, and those that
//! belong to one session or hop (more_messages_to_send, set_dpf; qos_time_to_live, which is
//! a data_sm's validity while it waits here).

use common::message::PassedTlv;
use common::smpp::{tlv, Tlv};

/// The tags carried through.
const CARRIED: &[u16] = &[
    tlv::DEST_ADDR_SUBUNIT,
    tlv::DEST_NETWORK_TYPE,
    tlv::DEST_BEARER_TYPE,
    tlv::DEST_TELEMATICS_ID,
    tlv::SOURCE_ADDR_SUBUNIT,
    tlv::SOURCE_NETWORK_TYPE,
    tlv::SOURCE_BEARER_TYPE,
    tlv::SOURCE_TELEMATICS_ID,
    tlv::PAYLOAD_TYPE,
    tlv::MS_MSG_WAIT_FACILITIES,
    tlv::PRIVACY_INDICATOR,
    tlv::SOURCE_SUBADDRESS,
    tlv::DEST_SUBADDRESS,
    tlv::USER_MESSAGE_REFERENCE,
    tlv::USER_RESPONSE_CODE,
    tlv::SOURCE_PORT,
    tlv::DESTINATION_PORT,
    tlv::LANGUAGE_INDICATOR,
    tlv::CALLBACK_NUM_PRES_IND,
    tlv::CALLBACK_NUM_ATAG,
    tlv::NUMBER_OF_MESSAGES,
    tlv::CALLBACK_NUM,
    tlv::USSD_SERVICE_OP,
    tlv::BILLING_IDENTIFICATION,
    tlv::DISPLAY_TIME,
    tlv::SMS_SIGNAL,
    tlv::MS_VALIDITY,
    tlv::ALERT_ON_MESSAGE_DELIVERY,
    tlv::ITS_REPLY_TYPE,
    tlv::ITS_SESSION_INFO,
];

/// The TLVs of `tlvs` to keep on the message, in the order received.
pub fn kept(tlvs: &[Tlv]) -> Vec<PassedTlv> {
    tlvs.iter()
        .filter(|t| CARRIED.contains(&t.tag))
        .map(|t| PassedTlv {
            tag: t.tag,
            value: t.value.to_vec(),
        })
        .collect()
}

/// The kept parameters as TLVs for the next hop.
pub fn to_send(kept: &[PassedTlv]) -> impl Iterator<Item = Tlv> + '_ {
    kept.iter().map(|p| Tlv::new(p.tag, p.value.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_emgd_acts_on_is_not_carried() {
        let tlvs = vec![
            Tlv::u16(tlv::USER_MESSAGE_REFERENCE, 7),
            Tlv::u16(tlv::SAR_MSG_REF_NUM, 1),
            Tlv::new(tlv::MESSAGE_PAYLOAD, b"x".to_vec()),
            Tlv::u16(tlv::SOURCE_PORT, 0x1234),
            Tlv::u8(tlv::MORE_MESSAGES_TO_SEND, 1),
            Tlv::new(tlv::BILLING_IDENTIFICATION, b"\x01abc".to_vec()),
        ];
        let k = kept(&tlvs);
        let tags: Vec<u16> = k.iter().map(|p| p.tag).collect();
        assert_eq!(
            tags,
            [
                tlv::USER_MESSAGE_REFERENCE,
                tlv::SOURCE_PORT,
                tlv::BILLING_IDENTIFICATION
            ]
        );
        let back: Vec<Tlv> = to_send(&k).collect();
        assert_eq!(back[1], Tlv::u16(tlv::SOURCE_PORT, 0x1234));
    }
}
