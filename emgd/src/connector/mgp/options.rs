//! EMG's MGP options by name (`emg-guide` §5.2: `DESTADDR`, `MESSAGE`, `UDH`, `VP`, `DLR`,
//! `MSGTYPE`, ...) to and from a [`Message`]: what an application submits on an incoming
//! `mgp` connector (and an operator with `emgclient send -o`), and what emgd delivers to it.
//! Free of I/O. The names and values a send takes are the HTTP API's (`/bin/send` takes the
//! same options), read by its [`SendRequest`]; this adds what only MGP has: `MSGTYPE`=5 with
//! `ORIGID` and `MESSAGESTATE` (a delivery report injected), `ROUTE`, and TON/NPI.

use crate::connector::http::convert::message_of;
use crate::connector::http::params::{normalise, to_hex, ParamError, Params};
use crate::connector::http::send::{Dialect, SendRequest};
use common::dlr::DlrStatus;
use common::message::{Message, MsgType, Origin};
use serde_json::{Map, Value};

/// The option names a submission takes, normalised (lower case, no `-` or `_`).
const KNOWN: &[&str] = &[
    "destaddr",
    "to",
    "sourceaddr",
    "from",
    "message",
    "text",
    "hexcontent",
    "udh",
    "coding",
    "dcs",
    "datacoding",
    "charcode",
    "charset",
    "vp",
    "validity",
    "validityperiod",
    "priority",
    "pid",
    "protocolid",
    "dlr",
    "dlrmask",
    "dlrlevel",
    "account",
    "msgtype",
    "origid",
    "messagestate",
    "route",
    "sourceaddrton",
    "sourceaddrnpi",
    "destaddrton",
    "destaddrnpi",
];

/// What a submission asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Submission {
    /// A message to accept: routed, or on `route` (EMG's `ROUTE`, a hard route).
    Message {
        message: Box<Message>,
        route: Option<String>,
    },
    /// `MSGTYPE`=5: the fate of the message `origid` names (its emg id or its next hop's id).
    Report { origid: String, status: DlrStatus },
}

/// The options as request parameters; an option emg does not take is refused by name.
pub fn params_of(options: &Map<String, Value>) -> Result<Params, ParamError> {
    if let Some(k) = options
        .keys()
        .find(|k| !KNOWN.contains(&normalise(k).as_str()))
    {
        return Err(ParamError::new(
            k.as_str(),
            "not an MGP option emg takes (see mgp(7))",
        ));
    }
    let mut p = Params::default();
    let body = serde_json::to_vec(options)
        .map_err(|e| ParamError::new("options", format!("cannot be read: {e}")))?;
    p.add_json(&body)?;
    Ok(p)
}

/// `MESSAGESTATE` of an injected report: EMG's `DELIVERED` or `FAILED`, or any receipt state.
fn message_state(w: &str, s: &str) -> Result<DlrStatus, ParamError> {
    if s.eq_ignore_ascii_case("failed") {
        return Ok(DlrStatus::Undeliverable);
    }
    s.parse().map_err(|_| {
        ParamError::new(
            w,
            format!("`{s}` is not a message state (DELIVERED, FAILED, or a receipt state such as EXPIRED, REJECTED, UNDELIVERABLE)"),
        )
    })
}

/// With `MSGTYPE`=5, the injected report's `ORIGID` and state; `None` for a message.
pub fn injection(p: &Params) -> Result<Option<(String, DlrStatus)>, ParamError> {
    let Some((w, t)) = p.text(&["msgtype"])? else {
        return Ok(None);
    };
    match t.to_ascii_lowercase().as_str() {
        "" | "1" | "sms" => return Ok(None),
        "5" | "dlr" => {}
        _ => {
            return Err(ParamError::new(
                w,
                format!("`{t}`: only 1 (SMS) and 5 (a delivery report injected) are taken"),
            ))
        }
    }
    let origid = match p.text(&["origid"])? {
        Some((_, s)) if !s.is_empty() => s,
        _ => {
            return Err(ParamError::new(
                "ORIGID",
                "missing (MSGTYPE=5 names the message it reports on)",
            ))
        }
    };
    let status = match p.text(&["messagestate"])? {
        Some((w, s)) => message_state(w, &s)?,
        None => {
            return Err(ParamError::new(
                "MESSAGESTATE",
                "missing (MSGTYPE=5 says DELIVERED or FAILED)",
            ))
        }
    };
    Ok(Some((origid, status)))
}

fn ton_npi(p: &Params, name: &str) -> Result<Option<u8>, ParamError> {
    match p.text(&[name])? {
        None => Ok(None),
        Some((w, s)) => match s.parse::<u8>() {
            Ok(n) if n <= 18 => Ok(Some(n)),
            _ => Err(ParamError::new(
                w,
                format!("`{s}` is not a TON/NPI (0..=18)"),
            )),
        },
    }
}

/// Read a submission from `origin` (its connector, user and account).
pub fn submission(options: &Map<String, Value>, origin: Origin) -> Result<Submission, ParamError> {
    let p = params_of(options)?;
    if let Some((origid, status)) = injection(&p)? {
        return Ok(Submission::Report { origid, status });
    }
    let req = SendRequest::parse(&p, Dialect::Emg)?;
    let to = match req.to.as_slice() {
        [one] => one.clone(),
        _ => {
            return Err(ParamError::new(
                "DESTADDR",
                "an MGP submission has exactly one recipient",
            ))
        }
    };
    let route = p
        .text(&["route"])?
        .map(|(_, s)| s)
        .filter(|s| !s.is_empty());
    let mut m = message_of(&origin.connector, "", "", &req, &to);
    let mask = m.origin.callback_mask;
    m.origin = Origin {
        callback_mask: mask,
        ..origin
    };
    if let Some(t) = ton_npi(&p, "sourceaddrton")? {
        m.source.ton = t;
    }
    if let Some(n) = ton_npi(&p, "sourceaddrnpi")? {
        m.source.npi = n;
    }
    if let Some(t) = ton_npi(&p, "destaddrton")? {
        m.dest.ton = t;
    }
    if let Some(n) = ton_npi(&p, "destaddrnpi")? {
        m.dest.npi = n;
    }
    Ok(Submission::Message {
        message: Box::new(m),
        route,
    })
}

/// The long name of a state, as EMG's `MESSAGESTATE` spells it.
pub fn state_name(s: DlrStatus) -> &'static str {
    match s {
        DlrStatus::Enroute => "ENROUTE",
        DlrStatus::Delivered => "DELIVERED",
        DlrStatus::Expired => "EXPIRED",
        DlrStatus::Deleted => "DELETED",
        DlrStatus::Undeliverable => "UNDELIVERABLE",
        DlrStatus::Accepted => "ACCEPTED",
        DlrStatus::Unknown => "UNKNOWN",
        DlrStatus::Rejected => "REJECTED",
        DlrStatus::Skipped => "SKIPPED",
    }
}

/// What emgd delivers to an application: a delivery report (`MSGTYPE` 5, `ORIGID` the id its
/// submit was answered with, `MESSAGESTATE`) or an MO message (`MSGTYPE` 1), as MGP options.
pub fn deliver_options(m: &Message) -> Map<String, Value> {
    let mut o = Map::new();
    let mut put = |k: &str, v: String| {
        o.insert(k.to_string(), Value::String(v));
    };
    put("ID", m.id.to_string());
    put("SOURCEADDR", m.source.addr.clone());
    put("SOURCEADDRTON", m.source.ton.to_string());
    put("SOURCEADDRNPI", m.source.npi.to_string());
    put("DESTADDR", m.dest.addr.clone());
    put("DESTADDRTON", m.dest.ton.to_string());
    put("DESTADDRNPI", m.dest.npi.to_string());
    if let (MsgType::Dlr, Some(d)) = (m.msgtype, &m.dlr) {
        put("MSGTYPE", "5".into());
        put("ORIGID", d.reported_id.clone());
        put("MESSAGESTATE", state_name(d.status).into());
        put("STATUS", d.status.stat_word().into());
        if d.error != 0 {
            put("ERROR", d.error.to_string());
        }
        return o;
    }
    put("MSGTYPE", "1".into());
    put("DCS", m.data_coding.to_string());
    let (udh, payload) = match m.body.first() {
        Some(&n) if m.esm_class & 0x40 != 0 && usize::from(n) < m.body.len() => {
            m.body.split_at(usize::from(n) + 1)
        }
        _ => (&[][..], &m.body[..]),
    };
    if !udh.is_empty() {
        put("UDH", to_hex(udh));
    }
    match common::gsm::decode_text(m.data_coding, payload) {
        Ok(text) if !matches!(m.data_coding & 0x0f, 2 | 4) => put("MESSAGE", text),
        _ => {
            put("CHARCODE", "2".into());
            put("MESSAGE", to_hex(payload));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn origin() -> Origin {
        Origin {
            connector: "mgp-in".into(),
            user: Some("app".into()),
            account: Some("acme".into()),
            ..Default::default()
        }
    }

    fn opts(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_submission_takes_emg_names_with_route_and_ton() {
        let s = submission(
            &opts(
                json!({"DESTADDR":"4670123","SOURCEADDR":"emg","MESSAGE":"hi","DLR":"1",
                          "ROUTE":"smsc2","VP":"60","DESTADDRTON":"1","UDH":"050003010201"}),
            ),
            origin(),
        )
        .unwrap();
        let Submission::Message { message, route } = s else {
            panic!("{s:?}")
        };
        assert_eq!(route.as_deref(), Some("smsc2"));
        assert!(message.dlr_requested);
        assert_eq!(message.dest.ton, 1);
        assert_eq!(message.origin.user.as_deref(), Some("app"));
        assert_eq!(message.esm_class, 0x40);
        assert_eq!(&message.body[..6], [5, 0, 3, 1, 2, 1]);
        assert!(message.expires_us.is_some());
    }

    #[test]
    fn msgtype_5_is_an_injected_report() {
        let s = submission(
            &opts(json!({"MSGTYPE":5,"ORIGID":"77","MESSAGESTATE":"FAILED"})),
            origin(),
        )
        .unwrap();
        assert_eq!(
            s,
            Submission::Report {
                origid: "77".into(),
                status: DlrStatus::Undeliverable
            }
        );
        let e = submission(&opts(json!({"MSGTYPE":"5","ORIGID":"77"})), origin()).unwrap_err();
        assert_eq!(e.name, "MESSAGESTATE");
        let e = submission(&opts(json!({"MSGTYPE":"7","DESTADDR":"1"})), origin()).unwrap_err();
        assert_eq!(e.name, "MSGTYPE");
    }

    #[test]
    fn unknown_and_bad_options_are_named() {
        let e = submission(&opts(json!({"DESTADR":"4670","MESSAGE":"x"})), origin()).unwrap_err();
        assert_eq!(e.name, "DESTADR");
        let e = submission(&opts(json!({"DESTADDR":"46a","MESSAGE":"x"})), origin()).unwrap_err();
        assert_eq!(e.name, "DESTADDR");
    }

    #[test]
    fn reports_and_mo_are_delivered_as_options() {
        let mut m = Message {
            id: 9,
            msgtype: MsgType::Dlr,
            dlr: Some(common::message::DlrInfo {
                message_id: 5,
                reported_id: "5".into(),
                status: DlrStatus::Delivered,
                error: 0,
                submit_us: 0,
                done_us: 0,
                text: String::new(),
            }),
            ..Default::default()
        };
        let o = deliver_options(&m);
        assert_eq!(o["MSGTYPE"], "5");
        assert_eq!(o["ORIGID"], "5");
        assert_eq!(o["MESSAGESTATE"], "DELIVERED");
        m.msgtype = MsgType::Sms;
        m.dlr = None;
        m.body = b"hello".to_vec();
        let o = deliver_options(&m);
        assert_eq!(
            (o["MSGTYPE"].as_str(), o["MESSAGE"].as_str()),
            (Some("1"), Some("hello"))
        );
    }
}
