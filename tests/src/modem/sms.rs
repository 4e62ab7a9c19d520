//! The SMS side: submits after `> `, stored messages (`+CMGL`, `+CMGR`, `+CMGD`), messages
//! arriving (injected by the test) and status reports.

use super::storage::{Slot, REC_READ, REC_UNREAD};
use super::{DueReport, Fail, Modem};
use common::concat::{split, Method};
use common::gsm::choose_coding;
use common::message::Address;
use common::sms_pdu::{
    decode_sca, encode_sca, from_hex, is_alphanumeric, to_hex, Deliver, StatusReport, Submit,
    Timestamp, UserData,
};
use serde_json::json;

/// An address as the test writes it: `+4670...` international, digits national/unknown,
/// anything else alphanumeric.
fn address(s: &str) -> Address {
    if is_alphanumeric(s) {
        return Address {
            ton: 5,
            npi: 0,
            addr: s.into(),
        };
    }
    match s.strip_prefix('+') {
        Some(d) => Address::new(d),
        None => Address {
            ton: 0,
            npi: 1,
            addr: s.into(),
        },
    }
}

/// How the events show an address: `+` for international.
fn shown(a: &Address) -> String {
    if a.ton == 1 {
        format!("+{}", a.addr)
    } else {
        a.addr.clone()
    }
}

impl Modem {
    fn sca_address(&self) -> Address {
        address(&self.sca)
    }

    /// SCA + TPDU for storing or for an unsolicited `+CMT`/`+CDS`.
    fn with_sca(&self, tpdu: &[u8]) -> Vec<u8> {
        let mut pdu = encode_sca(Some(&self.sca_address())).unwrap_or_else(|_| vec![0]);
        pdu.extend_from_slice(tpdu);
        pdu
    }

    /// The PDU typed after `> ` has ended with Ctrl-Z.
    pub(super) fn submit(&mut self, length: usize, hex: &[u8]) -> Result<(), Fail> {
        let hex = String::from_utf8_lossy(hex).to_string();
        let refuse = |m: &mut Modem, why: String| {
            m.event(json!({"event": "bad-submit", "why": why, "pdu": hex}));
            Err(Fail::Cms(304))
        };
        let Ok(bytes) = from_hex(&hex) else {
            return refuse(self, "not hex".into());
        };
        let tpdu = if self.opts.nosca {
            bytes.as_slice()
        } else {
            match decode_sca(&bytes) {
                Ok((_, tpdu)) => tpdu,
                Err(e) => return refuse(self, format!("SCA: {e}")),
            }
        };
        if tpdu.len() != length {
            let why = format!("AT+CMGS={length} but the TPDU has {} octets", tpdu.len());
            return refuse(self, why);
        }
        let submit = match Submit::decode(tpdu) {
            Ok(s) => s,
            Err(e) => return refuse(self, e.to_string()),
        };
        if let Some(code) = self.cms_errors.pop_front().flatten() {
            self.event(json!({"event": "refused", "code": code, "to": shown(&submit.dest)}));
            return Err(Fail::Cms(code));
        }
        let mr = self.next_mr;
        self.next_mr = self.next_mr.wrapping_add(1);
        let concat = submit
            .user_data
            .udh
            .as_ref()
            .and_then(|u| u.concat())
            .map(|c| json!([c.reference, c.total, c.seq]));
        let coding = submit.coding();
        let text = submit.user_data.text(coding);
        self.event(json!({
            "event": "sent",
            "mr": mr,
            "to": shown(&submit.dest),
            "text": text,
            "body": to_hex(&submit.user_data.body),
            "dcs": submit.dcs,
            "concat": concat,
            "status_report": submit.status_report_request,
        }));
        if submit.status_report_request {
            let now = Timestamp::from_unix(self.unix_now(), 4);
            let delay = self.opts.report_delay.as_millis() as u64;
            let done = Timestamp::from_unix(self.unix_now() + (delay / 1000) as i64, 4);
            self.reports.push(DueReport {
                due: self.now_ms + delay,
                report: StatusReport {
                    more_messages: false,
                    loop_prevention: false,
                    on_command: false,
                    message_ref: mr,
                    recipient: submit.dest.clone(),
                    scts: now,
                    discharge: done,
                    status: self.opts.report_status,
                    pid: None,
                    dcs: None,
                    user_data: None,
                },
            });
        }
        self.info(&format!("+CMGS: {mr}"));
        Ok(())
    }

    pub(super) fn list(&mut self, stat: u8) -> Result<(), Fail> {
        let m = self.set.cpms[0];
        let indexes: Vec<u32> = self.mems[m]
            .slots
            .iter()
            .filter(|(_, s)| stat == 4 || s.stat == stat)
            .map(|(&i, _)| i)
            .collect();
        for i in indexes {
            let slot = self.mems[m].slots.get_mut(&i).expect("listed");
            let line = format!("+CMGL: {i},{},,{}", slot.stat, slot.tpdu_len);
            let pdu = to_hex(&slot.pdu);
            if slot.stat == REC_UNREAD {
                slot.stat = REC_READ;
            }
            self.info(&line);
            self.out.extend_from_slice(pdu.as_bytes());
            self.out.extend_from_slice(b"\r\n");
        }
        Ok(())
    }

    pub(super) fn read(&mut self, index: u32) -> Result<(), Fail> {
        let m = self.set.cpms[0];
        if !self.mems[m].valid_index(index) {
            return Err(Fail::Cms(321));
        }
        // An empty slot answers just OK, as most modems do.
        let Some(slot) = self.mems[m].slots.get_mut(&index) else {
            return Ok(());
        };
        let line = format!("+CMGR: {},,{}", slot.stat, slot.tpdu_len);
        let pdu = to_hex(&slot.pdu);
        if slot.stat == REC_UNREAD {
            slot.stat = REC_READ;
        }
        self.info(&line);
        self.out.extend_from_slice(pdu.as_bytes());
        self.out.extend_from_slice(b"\r\n");
        Ok(())
    }

    pub(super) fn delete(&mut self, index: u32, delflag: u8) -> Result<(), Fail> {
        let m = self.set.cpms[0];
        if delflag == 0 && !self.mems[m].valid_index(index) {
            return Err(Fail::Cms(321));
        }
        let gone = self.mems[m].delete(index, delflag);
        for i in gone {
            self.event(json!({"event": "deleted", "mem": super::MEMORIES[m], "index": i}));
        }
        self.store_backlog();
        Ok(())
    }

    /// A text message arrives from `from`, in parts when it does not fit one.
    pub(super) fn inject_text(&mut self, from: &str, text: &str) {
        let dc = choose_coding(text);
        let reference = u16::from(self.next_concat_ref);
        self.next_concat_ref = self.next_concat_ref.wrapping_add(1).max(1);
        let parts = match split(text, dc, Method::Udh8, reference) {
            Ok(p) => p,
            Err(e) => {
                self.event(json!({"event": "bad-control", "why": e.to_string()}));
                return;
            }
        };
        let scts = Timestamp::from_unix(self.unix_now(), 4);
        for part in parts {
            let Ok(user_data) = UserData::from_part(&part) else {
                continue;
            };
            self.receive(Deliver {
                more_messages: false,
                loop_prevention: false,
                status_report_indication: false,
                reply_path: false,
                origin: address(from),
                pid: 0,
                dcs: if dc == 0 { 0x00 } else { 0x08 },
                scts,
                user_data,
            });
        }
    }

    /// A raw SMS-DELIVER TPDU arrives. One that does not decode is stored as it is, as a
    /// real modem's memory can hold a damaged message, and announced with `+CMTI`.
    pub(super) fn inject_pdu(&mut self, tpdu: &[u8]) {
        match Deliver::decode(tpdu) {
            Ok(d) => self.receive(d),
            Err(e) => {
                let m = self.set.cpms[2];
                let slot = Slot {
                    stat: REC_UNREAD,
                    pdu: self.with_sca(tpdu),
                    tpdu_len: tpdu.len(),
                };
                let mem = super::MEMORIES[m];
                let Some(index) = self.mems[m].store(slot) else {
                    self.event(json!({"event": "memory-full", "mem": mem}));
                    return;
                };
                let why = e.to_string();
                self.event(json!({"event": "stored", "mem": mem, "index": index, "damaged": why}));
                if self.set.cnmi[0] > 0 && matches!(self.set.cnmi[1], 1 | 3) {
                    self.urc(format!("\r\n+CMTI: \"{mem}\",{index}\r\n").into_bytes());
                }
            }
        }
    }

    /// Routes an arriving message as `AT+CNMI` says: `+CMT` for mt 2, else stored in the
    /// receive memory with `+CMTI` when mt is 1 or 3.
    fn receive(&mut self, d: Deliver) {
        let Ok(tpdu) = d.encode() else {
            self.event(json!({"event": "bad-control", "why": "cannot encode"}));
            return;
        };
        let mt = self.set.cnmi[1];
        if mt == 2 && self.set.cnmi[0] > 0 {
            let pdu = self.with_sca(&tpdu);
            let urc = format!("\r\n+CMT: ,{}\r\n{}\r\n", tpdu.len(), to_hex(&pdu));
            self.event(json!({"event": "delivered", "from": shown(&d.origin)}));
            self.urc(urc.into_bytes());
            return;
        }
        self.backlog.push_back(d);
        self.store_backlog();
    }

    /// Stores waiting messages while the receive memory has room.
    pub(super) fn store_backlog(&mut self) {
        let m = self.set.cpms[2];
        while let Some(d) = self.backlog.front() {
            let Ok(tpdu) = d.encode() else {
                self.backlog.pop_front();
                continue;
            };
            let slot = Slot {
                stat: REC_UNREAD,
                pdu: self.with_sca(&tpdu),
                tpdu_len: tpdu.len(),
            };
            let Some(index) = self.mems[m].store(slot) else {
                self.event(json!({"event": "memory-full", "mem": super::MEMORIES[m]}));
                return;
            };
            let from = shown(&d.origin);
            self.backlog.pop_front();
            let mem = super::MEMORIES[m];
            self.event(json!({"event": "stored", "mem": mem, "index": index, "from": from}));
            if self.set.cnmi[0] > 0 && matches!(self.set.cnmi[1], 1 | 3) {
                self.urc(format!("\r\n+CMTI: \"{mem}\",{index}\r\n").into_bytes());
            }
        }
    }

    /// A status report is due: `+CDS` for ds 1, stored in "SR" with `+CDSI` for ds 2,
    /// dropped for ds 0 (TS 27.005: no reports routed to the TE).
    pub(super) fn deliver_report(&mut self, r: StatusReport) {
        let Ok(tpdu) = r.encode() else { return };
        let ds = self.set.cnmi[3];
        let ev = json!({"event": "report", "mr": r.message_ref, "to": shown(&r.recipient),
                        "status": r.status, "ds": ds});
        self.event(ev);
        let urcs = self.set.cnmi[0] > 0;
        match ds {
            1 if urcs => {
                let pdu = self.with_sca(&tpdu);
                let urc = format!("\r\n+CDS: {}\r\n{}\r\n", tpdu.len(), to_hex(&pdu));
                self.urc(urc.into_bytes());
            }
            2 => {
                let slot = Slot {
                    stat: REC_UNREAD,
                    pdu: self.with_sca(&tpdu),
                    tpdu_len: tpdu.len(),
                };
                match self.mems[2].store(slot) {
                    Some(index) if urcs => {
                        self.urc(format!("\r\n+CDSI: \"SR\",{index}\r\n").into_bytes())
                    }
                    Some(_) => {}
                    None => self.event(json!({"event": "memory-full", "mem": "SR"})),
                }
            }
            _ => {}
        }
    }
}
