//! What a send request says: EMG's MGP option names, Kannel's sendsms and Jasmin's /send
//! names alike, checked and turned into the message's addresses, coding, body and DLR
//! request. Free of I/O; each error names the parameter as the client spelled it.

use super::params::{from_hex, mask, ParamError, Params};
use common::concat::{limits_for_udh, split_encoded, Method};
use common::gsm::{encode_text, is_gsm, Coding};

/// Which gateway's conventions the request follows (its path says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// EMG's `/bin/send`: `coding` is an SMPP data_coding value; `DESTADDR` may repeat (one
    /// message each).
    Emg,
    /// Kannel's `/cgi-bin/sendsms`: `coding` 0 7-bit, 1 8-bit, 2 UCS-2; `to` is a list of
    /// numbers separated by spaces (a number with other characters is dropped, as smsbox
    /// does); `from` is required (Kannel without a `global-sender`); `text` may be missing
    /// (an empty message).
    Kannel,
    /// Jasmin's `/send`: `coding` as SMPP; one recipient; with a `coding` other than 0 the
    /// `content` is taken as the bytes sent (Jasmin forwards it as is).
    Jasmin,
}

impl Dialect {
    /// The dialect of a send path.
    pub fn of_path(path: &str) -> Dialect {
        if path.starts_with("/cgi-bin/") {
            Dialect::Kannel
        } else if path.starts_with("/bin/") {
            Dialect::Emg
        } else {
            Dialect::Jasmin
        }
    }
}

const TO: &[&str] = &["to", "destaddr"];
const FROM: &[&str] = &["from", "sourceaddr"];
const TEXT: &[&str] = &["text", "message", "content"];
const HEX: &[&str] = &["hexcontent"];
const UDH: &[&str] = &["udh"];
const CODING: &[&str] = &["coding"];
const DCS: &[&str] = &["dcs", "datacoding"];
const CHARCODE: &[&str] = &["charcode"];
const CHARSET: &[&str] = &["charset"];
const VALIDITY: &[&str] = &["validity", "validityperiod", "vp"];
const PRIORITY: &[&str] = &["priority"];
const PID: &[&str] = &["pid", "protocolid"];
const DLR: &[&str] = &["dlr"];
const DLR_MASK: &[&str] = &["dlrmask"];
const DLR_LEVEL: &[&str] = &["dlrlevel"];
const DLR_URL: &[&str] = &["dlrurl"];
const DLR_METHOD: &[&str] = &["dlrmethod"];
const ACCOUNT: &[&str] = &["account"];

/// A delivery report request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DlrRequest {
    pub url: Option<String>,
    /// `GET` or `POST`.
    pub method: String,
    /// Kannel dlr-mask bits of the reports wanted.
    pub mask: u8,
}

/// A validated send request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRequest {
    /// One message is made for each, in this order.
    pub to: Vec<String>,
    pub from: String,
    pub data_coding: u8,
    /// 0x40 when `body` starts with a UDH.
    pub esm_class: u8,
    pub body: Vec<u8>,
    /// Short messages the body takes.
    pub parts: usize,
    pub priority: u8,
    pub protocol_id: u8,
    pub validity_minutes: Option<u64>,
    pub dlr: Option<DlrRequest>,
    pub account: Option<String>,
}

/// A data_coding from a word (`gsm`, `ucs2`, ...).
fn coding_word(w: &str) -> Option<u8> {
    Some(
        match w.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "gsm" | "gsm7" | "7bit" | "default" => 0,
            "ia5" | "ascii" => 1,
            "latin1" | "iso88591" => 3,
            "binary" | "8bit" | "data" => 4,
            "ucs2" | "utf16" | "utf16be" | "unicode" => 8,
            _ => return None,
        },
    )
}

/// The data_coding the request asks for, if any.
fn requested_coding(p: &Params, dialect: Dialect) -> Result<Option<u8>, ParamError> {
    if let Some((w, s)) = p.text(DCS)? {
        let dc = s
            .parse::<u8>()
            .ok()
            .filter(|dc| Coding::from_data_coding(*dc).is_some())
            .ok_or_else(|| ParamError::new(w, format!("unsupported data coding `{s}`")))?;
        return Ok(Some(dc));
    }
    if let Some((w, s)) = p.text(CHARCODE)? {
        // EMG's CHARCODE: 0 default and 32 UTF-8 leave the choice to us.
        return match s.as_str() {
            "0" | "32" => Ok(None),
            "1" => Ok(Some(0)),
            "2" => Ok(Some(4)),
            "3" => Ok(Some(3)),
            "4" => Ok(Some(8)),
            _ => Err(ParamError::new(
                w,
                format!("`{s}` is not a CHARCODE (0, 1, 2, 3, 4 or 32)"),
            )),
        };
    }
    let Some((w, s)) = p.text(CODING)? else {
        return Ok(None);
    };
    if let Some(dc) = coding_word(&s) {
        return Ok(Some(dc));
    }
    let dc = match (dialect, s.as_str()) {
        (Dialect::Kannel, "0") => Some(0),
        (Dialect::Kannel, "1") => Some(4),
        (Dialect::Kannel, "2") => Some(8),
        (Dialect::Kannel, _) => None,
        (Dialect::Emg | Dialect::Jasmin, n) => n
            .parse::<u8>()
            .ok()
            .filter(|dc| Coding::from_data_coding(*dc).is_some()),
    };
    let expected = match dialect {
        Dialect::Kannel => "0 (7-bit), 1 (8-bit), 2 (UCS-2)",
        Dialect::Emg | Dialect::Jasmin => "an SMPP data_coding such as 0, 1, 3, 4 or 8",
    };
    dc.map(Some).ok_or_else(|| {
        ParamError::new(
            w,
            format!("unknown coding `{s}` (expected {expected}, or gsm, latin1, ucs2, binary)"),
        )
    })
}

/// Hex when the value is hex digits, else the raw bytes (Kannel URL-encodes binary as is).
fn hex_or_raw(v: &[u8]) -> Vec<u8> {
    from_hex(v).unwrap_or_else(|| v.to_vec())
}

fn yes_no(w: &str, s: &str) -> Result<bool, ParamError> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" | "on" | "3" => Ok(true),
        "0" | "no" | "false" | "off" | "" => Ok(false),
        _ => Err(ParamError::new(w, format!("`{s}` is not yes/no or 0/1"))),
    }
}

fn check_address(w: &str, s: &str, alpha_ok: bool) -> Result<(), ParamError> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    let numeric =
        !digits.is_empty() && digits.len() <= 20 && digits.bytes().all(|b| b.is_ascii_digit());
    let alpha = alpha_ok && !s.is_empty() && s.chars().count() <= 11 && is_gsm(s);
    if numeric || alpha {
        Ok(())
    } else if alpha_ok {
        Err(ParamError::new(
            w,
            format!("`{s}` is neither a number of up to 20 digits nor up to 11 GSM characters"),
        ))
    } else {
        Err(ParamError::new(
            w,
            format!("`{s}` is not a phone number (up to 20 digits, optionally starting with +)"),
        ))
    }
}

/// Is `url` an absolute http:// or https:// URL?
pub fn check_url(w: &str, url: &str) -> Result<(), ParamError> {
    let ok = url
        .parse::<hyper::Uri>()
        .ok()
        .filter(|u| matches!(u.scheme_str(), Some("http") | Some("https")))
        .is_some_and(|u| u.authority().is_some());
    if ok {
        Ok(())
    } else {
        Err(ParamError::new(
            w,
            format!("`{url}` is not an http:// or https:// URL"),
        ))
    }
}

/// Characters of `text` the GSM alphabet cannot carry, for the error message.
fn first_unencodable(text: &str, dc: u8) -> Option<String> {
    encode_text(dc, text).err().map(|e| e.to_string())
}

/// The recipients, as the dialect lists them.
fn recipients(p: &Params, dialect: Dialect) -> Result<Vec<String>, ParamError> {
    let Some((tw, first)) = p.text(TO)? else {
        return Err(ParamError::new("to", "missing (the recipient's number)"));
    };
    let mut out: Vec<String> = Vec::new();
    match dialect {
        Dialect::Kannel => {
            if first.is_empty() {
                return Err(ParamError::new(tw, "empty (no recipient)"));
            }
            for n in first.split_whitespace() {
                if check_address(tw, n, false).is_ok() && !out.iter().any(|o| o == n) {
                    out.push(n.to_string());
                }
            }
            if out.is_empty() {
                return Err(ParamError::new(tw, format!("no valid number in `{first}`")));
            }
        }
        Dialect::Jasmin => {
            if p.count(TO) > 1 {
                return Err(ParamError::new(tw, "one recipient per request"));
            }
            check_address(tw, &first, false)?;
            out.push(first);
        }
        Dialect::Emg => {
            for (w, v) in p.all(TO) {
                let n = std::str::from_utf8(v)
                    .map_err(|_| ParamError::new(w, "not valid UTF-8"))?
                    .trim();
                check_address(w, n, false)?;
                out.push(n.to_string());
            }
        }
    }
    Ok(out)
}

impl SendRequest {
    /// Validate and convert the parameters of a send request.
    pub fn parse(p: &Params, dialect: Dialect) -> Result<SendRequest, ParamError> {
        let to = recipients(p, dialect)?;
        let from = match p.text(FROM)? {
            Some((w, s)) if !s.is_empty() => {
                check_address(w, &s, true)?;
                s
            }
            _ if dialect == Dialect::Kannel => {
                return Err(ParamError::new(
                    "from",
                    "missing (Kannel's sendsms needs a sender)",
                ))
            }
            _ => String::new(),
        };
        if let Some((w, s)) = p.text(CHARSET)? {
            if !matches!(s.to_ascii_lowercase().as_str(), "utf-8" | "utf8" | "") {
                return Err(ParamError::new(
                    w,
                    format!("`{s}`: only UTF-8 text is taken"),
                ));
            }
        }
        let coding = requested_coding(p, dialect)?;
        let udh = match p.get(UDH) {
            Some((w, v)) if !v.is_empty() => {
                let udh = hex_or_raw(v);
                if udh.len() < 2 || usize::from(udh[0]) + 1 != udh.len() {
                    return Err(ParamError::new(
                        w,
                        "not a user data header (its first octet must be the length of the rest)",
                    ));
                }
                if let Err(e) = common::gsm::Udh::parse(&udh) {
                    return Err(ParamError::new(w, format!("not a user data header: {e}")));
                }
                Some(udh)
            }
            _ => None,
        };
        let (data_coding, payload) = Self::payload(p, coding, dialect)?;
        let parts = Self::count_parts(p, data_coding, &payload, udh.as_deref())?;
        let (esm_class, body) = match udh {
            Some(mut u) => {
                u.extend_from_slice(&payload);
                (0x40, u)
            }
            None => (0, payload),
        };
        let priority = p.number::<u8>(PRIORITY, 0, 3)?.unwrap_or(0);
        let protocol_id = p.number::<u8>(PID, 0, 255)?.unwrap_or(0);
        let validity_minutes = p.number::<u64>(VALIDITY, 1, 525_600)?;
        let account = p.text(ACCOUNT)?.map(|(_, s)| s).filter(|s| !s.is_empty());
        Ok(SendRequest {
            to,
            from,
            data_coding,
            esm_class,
            body,
            parts,
            priority,
            protocol_id,
            validity_minutes,
            dlr: Self::dlr(p)?,
            account,
        })
    }

    /// The body in its data coding, from `text` or `hex-content`.
    fn payload(
        p: &Params,
        coding: Option<u8>,
        dialect: Dialect,
    ) -> Result<(u8, Vec<u8>), ParamError> {
        if let Some((w, v)) = p.get(HEX) {
            let bytes = from_hex(v).ok_or_else(|| ParamError::new(w, "not hex digits"))?;
            if p.get(TEXT).is_some() {
                return Err(ParamError::new(
                    w,
                    "give either text or hex-content, not both",
                ));
            }
            let dc = coding.unwrap_or(4);
            if Coding::from_data_coding(dc) == Some(Coding::Ucs2) && !bytes.len().is_multiple_of(2)
            {
                return Err(ParamError::new(
                    w,
                    "UCS-2 content needs an even number of octets",
                ));
            }
            return Ok((dc, bytes));
        }
        let Some((w, raw)) = p.get(TEXT) else {
            if dialect == Dialect::Kannel {
                return Ok((coding.unwrap_or(0), Vec::new()));
            }
            return Err(ParamError::new("text", "missing (or give hex-content)"));
        };
        if coding.and_then(Coding::from_data_coding) == Some(Coding::Binary) {
            return Ok((coding.unwrap_or(4), hex_or_raw(raw)));
        }
        if let Some(dc) = coding.filter(|dc| dialect == Dialect::Jasmin && *dc != 0) {
            if Coding::from_data_coding(dc) == Some(Coding::Ucs2) && !raw.len().is_multiple_of(2) {
                return Err(ParamError::new(
                    w,
                    "UCS-2 content needs an even number of octets",
                ));
            }
            return Ok((dc, raw.to_vec()));
        }
        let text = std::str::from_utf8(raw)
            .map_err(|_| ParamError::new(w, "not valid UTF-8 (send binary data as hex)"))?;
        let dc = coding.unwrap_or_else(|| common::gsm::choose_coding(text));
        match encode_text(dc, text) {
            Ok(body) => Ok((dc, body)),
            Err(_) => Err(ParamError::new(
                w,
                first_unencodable(text, dc).unwrap_or_else(|| "cannot be encoded".into()),
            )),
        }
    }

    fn count_parts(
        p: &Params,
        dc: u8,
        payload: &[u8],
        udh: Option<&[u8]>,
    ) -> Result<usize, ParamError> {
        let name = p
            .get(TEXT)
            .or_else(|| p.get(HEX))
            .map_or("text", |(w, _)| w)
            .to_string();
        let coding = Coding::from_data_coding(dc)
            .ok_or_else(|| ParamError::new(&name, format!("data coding {dc} is not supported")))?;
        if let Some(udh) = udh {
            // A message with its own UDH is not split: it must fit one short message.
            let room = limits_for_udh(coding, udh.len()).per_part;
            if payload.len() > room {
                return Err(ParamError::new(
                    name,
                    format!(
                        "too long for one message with a UDH ({} > {room})",
                        payload.len()
                    ),
                ));
            }
            return Ok(1);
        }
        split_encoded(payload, dc, Method::Udh8, 0)
            .map(|parts| parts.len())
            .map_err(|e| ParamError::new(name, e.to_string()))
    }

    fn dlr(p: &Params) -> Result<Option<DlrRequest>, ParamError> {
        let url = match p.text(DLR_URL)? {
            Some((w, u)) if !u.is_empty() => {
                check_url(w, &u)?;
                Some(u)
            }
            _ => None,
        };
        let mut wanted = url.is_some();
        let mut mask_bits = 0;
        if let Some((w, s)) = p.text(DLR)? {
            wanted |= yes_no(w, &s)?;
            if s == "3" {
                mask_bits = mask::FINAL | mask::BUFFERED;
            }
        }
        if let Some(m) = p.number::<u8>(DLR_MASK, 0, 31)? {
            wanted |= m != 0;
            mask_bits = m;
        }
        if let Some((w, s)) = p.text(DLR_LEVEL)? {
            mask_bits = match s.as_str() {
                "1" => mask::BUFFERED | mask::REJECTED,
                "2" => mask::FINAL,
                "3" => mask::FINAL | mask::BUFFERED,
                _ => return Err(ParamError::new(w, format!("`{s}` is not 1, 2 or 3"))),
            };
        }
        let method = match p.text(DLR_METHOD)? {
            None => "POST".to_string(),
            Some((w, s)) => match s.to_ascii_uppercase().as_str() {
                m @ ("GET" | "POST") => m.to_string(),
                _ => return Err(ParamError::new(w, format!("`{s}` is not GET or POST"))),
            },
        };
        Ok(wanted.then_some(DlrRequest {
            url,
            method,
            mask: if mask_bits == 0 {
                mask::FINAL
            } else {
                mask_bits
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str, d: Dialect) -> Result<SendRequest, ParamError> {
        let mut p = Params::default();
        p.add_urlencoded(q.as_bytes());
        SendRequest::parse(&p, d)
    }

    #[test]
    fn names_of_every_dialect_are_one() {
        let a = parse("to=4670&from=emg&text=hi&dlr-url=http://h/x", Dialect::Emg).unwrap();
        let b = parse(
            "DESTADDR=4670&SOURCEADDR=emg&MESSAGE=hi&dlr_url=http://h/x",
            Dialect::Emg,
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.dlr.unwrap().mask, mask::FINAL);
    }

    #[test]
    fn text_picks_gsm_or_ucs2_and_counts_parts() {
        let r = parse("to=4670&text=hello+%E2%82%AC", Dialect::Emg).unwrap();
        assert_eq!(
            (r.data_coding, r.parts),
            (0, 1),
            "the euro sign is in GSM's extension"
        );
        assert_eq!(r.body, b"hello \x1be");
        let r = parse("to=4670&text=%D0%B6", Dialect::Emg).unwrap();
        assert_eq!((r.data_coding, r.body.clone()), (8, vec![0x04, 0x36]));
        let long = format!("to=4670&text={}", "a".repeat(161));
        assert_eq!(parse(&long, Dialect::Emg).unwrap().parts, 2);
    }

    #[test]
    fn kannel_and_smpp_codings_differ_only_in_numbers() {
        let k = parse("to=4670&from=1&text=hi&coding=2", Dialect::Kannel).unwrap();
        assert_eq!(k.data_coding, 8);
        let s = parse("to=4670&text=4142&coding=2", Dialect::Emg).unwrap();
        assert_eq!((s.data_coding, s.body), (2, vec![0x41, 0x42]));
        let w = parse("to=4670&from=1&text=hi&coding=ucs2", Dialect::Kannel).unwrap();
        assert_eq!(w.data_coding, 8);
    }

    #[test]
    fn udh_as_hex_or_raw() {
        let hex = parse(
            "to=4670&udh=0605040B8423F0&coding=binary&text=C0FE",
            Dialect::Emg,
        )
        .unwrap();
        assert_eq!(hex.esm_class, 0x40);
        assert_eq!(hex.body, [6, 5, 4, 0x0B, 0x84, 0x23, 0xF0, 0xC0, 0xFE]);
        let raw = parse(
            "to=4670&from=1&udh=%06%05%04%0B%84%23%F0&coding=1&text=%C0%FE",
            Dialect::Kannel,
        )
        .unwrap();
        assert_eq!(raw.body, hex.body);
        assert_eq!(raw.data_coding, 4);
    }

    #[test]
    fn bad_parameters_are_named_as_written() {
        let cases = [
            ("from=x&text=hi", "to"),
            ("to=46a70&text=hi", "to"),
            ("TO=4670", "text"),
            ("to=4670&text=hi&Priority=9", "Priority"),
            ("to=4670&text=hi&coding=7", "coding"),
            ("to=4670&text=%D0%B6&coding=0", "text"),
            ("to=4670&text=hi&dlr-url=ftp://x", "dlr-url"),
            ("to=4670&text=hi&udh=0302", "udh"),
            ("to=4670&text=hi&udh=0300051B", "udh"),
            ("to=4670&text=hi&validity=0", "validity"),
            ("to=4670&text=%FF", "text"),
            ("to=4670&hex-content=xyz", "hex-content"),
            ("to=4670&text=hi&dlr-method=PUT", "dlr-method"),
        ];
        for (q, name) in cases {
            let e = parse(q, Dialect::Emg).unwrap_err();
            assert_eq!(e.name, name, "{q}: {e}");
        }
    }

    #[test]
    fn recipients_as_each_dialect_lists_them() {
        let to = |q: &str, d| parse(q, d).map(|r| r.to);
        assert_eq!(
            to("DESTADDR=4670&DESTADDR=4671&text=hi", Dialect::Emg).unwrap(),
            ["4670", "4671"]
        );
        assert_eq!(
            to("DESTADDR=4670&DESTADDR=46x&text=hi", Dialect::Emg)
                .unwrap_err()
                .name,
            "DESTADDR"
        );
        // Kannel: one `to`, spaces (`+`) between numbers, bad ones dropped, each once.
        assert_eq!(
            to("to=4670+abc+4671+4670&from=1&text=hi", Dialect::Kannel).unwrap(),
            ["4670", "4671"]
        );
        assert!(to("to=abc+x&from=1&text=hi", Dialect::Kannel).is_err());
        assert_eq!(
            to("to=4670&text=hi", Dialect::Kannel).unwrap_err().name,
            "from",
            "Kannel needs a sender"
        );
        assert_eq!(
            parse("to=4670&from=1", Dialect::Kannel).unwrap().body,
            b"",
            "Kannel sends an empty message"
        );
        // Jasmin: one recipient.
        assert!(to("to=4670&to=4671&content=hi", Dialect::Jasmin).is_err());
    }

    #[test]
    fn jasmin_content_with_a_coding_is_taken_as_it_is() {
        let r = parse("to=4670&content=%06%23%061&coding=8", Dialect::Jasmin).unwrap();
        assert_eq!((r.data_coding, r.body), (8, vec![6, 0x23, 6, 0x31]));
        let e = parse("to=4670&content=%06&coding=8", Dialect::Jasmin).unwrap_err();
        assert_eq!(e.name, "content");
    }

    #[test]
    fn json_bodies_read_like_forms() {
        let mut p = Params::default();
        p.add_json(br#"{"to":"4670","text":"hi","dlr-mask":3,"priority":1}"#)
            .unwrap();
        let r = SendRequest::parse(&p, Dialect::Emg).unwrap();
        assert_eq!(r.priority, 1);
        assert_eq!(r.dlr.unwrap().mask, 3);
        assert_eq!(
            Params::default().add_json(b"[1]").unwrap_err().name,
            "body".to_string()
        );
    }
}
