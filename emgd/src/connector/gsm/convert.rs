//! Between the gateway's [`Message`] and the PDUs a modem takes and gives: the SMS-SUBMITs
//! that carry a message (one per part of a long one), the message an SMS-DELIVER is, and the
//! id that ties a status report to the message it reports on.

use common::gsm::{decode_text, encode_text, is_gsm, Coding, Udh};
use common::message::{Address, Message, Origin};
use common::sms_pdu::{
    submit_parts, submit_text, Deliver, PduError, StatusReport, Submit, SubmitOptions, UserData,
    Validity,
};

/// The id a sent message's DLR entry is opened under: the recipient's digits and the TP-MR
/// the modem gave, which is what an SMS-STATUS-REPORT names (TP-RA, TP-MR). The MR alone
/// repeats every 256 messages; with the number it repeats only every 256 to one recipient.
pub fn remote_id(recipient: &str, mr: u8) -> String {
    let digits = recipient.strip_prefix('+').unwrap_or(recipient);
    format!("{digits}/{mr}")
}

/// The id a status report names, as [`remote_id`] made it.
pub fn report_id(r: &StatusReport) -> String {
    remote_id(&r.recipient.addr, r.message_ref)
}

/// The SMS-SUBMITs that carry `m`: a body that already holds a UDH (one part of a long
/// message, cut before it was queued) goes as one PDU with that header; anything else is cut
/// into as many concatenated parts as it needs. IA5 and Latin-1 text, which have no TP-DCS,
/// go as GSM 7-bit when every character fits and as UCS-2 otherwise. Only the last part asks
/// for a status report: its report is the message's.
pub fn submits(m: &Message, reference: u16) -> Result<Vec<Submit>, PduError> {
    let opts = SubmitOptions {
        status_report: false,
        validity: m
            .expires_us
            .map(|t| {
                let left = (t - crate::clock::now_us()).max(0) as u64 / 1_000_000;
                Validity::relative_at_least(left.max(300))
            })
            .unwrap_or(Validity::None),
        flash: false,
        reject_duplicates: false,
        pid: m.protocol_id,
    };
    let coding = Coding::from_data_coding(m.data_coding).ok_or(PduError::Invalid {
        field: "TP-DCS",
        why: "the message's data coding has no GSM equivalent",
    })?;
    let has_udh = m.esm_class & 0x40 != 0;
    let mut parts = if has_udh {
        let (udh, rest) = Udh::split(&m.body)?;
        let (coding, body) = as_gsm_coding(coding, m.data_coding, rest)?;
        let mut one = submit_parts(&m.dest, coding, &[], &opts, 0, false)?;
        let mut s = one.remove(0);
        s.user_data = UserData {
            udh: Some(udh),
            body,
        };
        vec![s]
    } else {
        match coding {
            Coding::Ia5 | Coding::Latin1 => {
                let text = decode_text(m.data_coding, &m.body).map_err(split_err)?;
                submit_text(&m.dest, &text, &opts, reference, false)?
            }
            _ => submit_parts(&m.dest, coding, &m.body, &opts, reference, false)?,
        }
    };
    if let Some(last) = parts.last_mut() {
        last.status_report_request = m.dlr_requested;
    }
    Ok(parts)
}

fn split_err(e: common::gsm::TextError) -> PduError {
    PduError::Split(common::concat::SplitError::from(e))
}

/// A body in IA5 or Latin-1 recoded for a PDU (GSM 7-bit, or UCS-2 when it does not fit).
fn as_gsm_coding(coding: Coding, dc: u8, body: &[u8]) -> Result<(Coding, Vec<u8>), PduError> {
    match coding {
        Coding::Ia5 | Coding::Latin1 => {
            let text = decode_text(dc, body).map_err(split_err)?;
            let to = if is_gsm(&text) {
                Coding::Gsm7
            } else {
                Coding::Ucs2
            };
            let body = encode_text(to.data_coding(), &text).map_err(split_err)?;
            Ok((to, body))
        }
        c => Ok((c, body.to_vec())),
    }
}

/// The message an SMS-DELIVER carries, as received on connector `name`: its UDH (a part of a
/// long message, a port) stays in front of the body as SMPP carries it. `destaddr` is the
/// modem's own number when the connector sets one (a PDU does not carry it).
pub fn message_of_deliver(d: &Deliver, name: &str, destaddr: Option<&str>) -> Message {
    let coding = d.coding();
    let mut body = Vec::new();
    let mut esm_class = 0;
    if let Some(udh) = &d.user_data.udh {
        if udh.write_to(&mut body).is_ok() {
            esm_class |= 0x40;
        } else {
            body.clear();
        }
    }
    body.extend_from_slice(&d.user_data.body);
    let mut source = d.origin.clone();
    if source.ton == 1 && !source.addr.starts_with('+') {
        source.addr = format!("+{}", source.addr);
    }
    Message {
        source,
        dest: Address::new(destaddr.unwrap_or_default()),
        data_coding: match coding {
            Coding::Ia5 | Coding::Latin1 => 0,
            c => c.data_coding(),
        },
        esm_class,
        protocol_id: d.pid,
        body,
        origin: Origin {
            connector: name.to_string(),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_message(text: &str) -> Message {
        let dc = common::gsm::choose_coding(text);
        Message {
            dest: Address::new("+46701234567"),
            data_coding: dc,
            body: encode_text(dc, text).unwrap(),
            dlr_requested: true,
            ..Default::default()
        }
    }

    #[test]
    fn a_long_text_becomes_concatenated_parts_and_only_the_last_asks_for_a_report() {
        let m = text_message(&"x".repeat(400));
        let parts = submits(&m, 7).unwrap();
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| p.user_data.udh.is_some()));
        let srr: Vec<bool> = parts.iter().map(|p| p.status_report_request).collect();
        assert_eq!(srr, [false, false, true]);
        let text: String = parts
            .iter()
            .map(|p| p.user_data.text(p.coding()).unwrap())
            .collect();
        assert_eq!(text, "x".repeat(400));
    }

    #[test]
    fn text_outside_the_gsm_alphabet_goes_as_ucs2() {
        let parts = submits(&text_message("Привет"), 0).unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].coding(), Coding::Ucs2);
        assert_eq!(parts[0].user_data.text(Coding::Ucs2).unwrap(), "Привет");
    }

    #[test]
    fn report_ids_match_the_ids_sent_messages_get() {
        assert_eq!(remote_id("+46701234567", 5), "46701234567/5");
        assert_eq!(remote_id("46701234567", 5), remote_id("+46701234567", 5));
    }
}
