//! Message types on the way out (EMG's MSGTYPE): what a connector can send of each.
//!
//! - SMS and DLR: every connector.
//! - EMAIL (a mail kept whole, `default_msgtype = "email"` on the SMTP connector it came in
//!   on): an SMTP connector mails it as it is; any other connector gets it read into SMS text
//!   here, at the latest point, as EMG does (its subject in the QUOTEDSUBJECT quotes of the
//!   connector it came in on).
//! - MMS and WAPPUSH: carried, stored and routed like any message, but no connector of this
//!   build can send them: they fail on the connector they were routed to, with a reason that
//!   says so (and a failed report to their sender).
//!
//! Pure: the gateway runs it on the copy that leaves, before the OUT pipeline.

use crate::plugin::{Refusal, RefusalKind};
use common::message::{Message, MsgType};
use common::mime;
use config::Protocol;
use std::borrow::Cow;

/// The data coding an EMAIL message's body (the whole RFC 5322 mail) is stored with.
pub const EMAIL_DATA_CODING: u8 = 4;

/// The name refusals are given in logs and reports.
pub const REFUSER: &str = "msgtype";

/// `m` as `connector` sends it, or why it cannot.
pub fn for_connector<'m>(
    cfg: &config::Config,
    connector: &config::Connector,
    m: &'m Message,
) -> Result<Cow<'m, Message>, Refusal> {
    match m.msgtype {
        MsgType::Sms | MsgType::Dlr => Ok(Cow::Borrowed(m)),
        MsgType::Email if connector.protocol == Protocol::Smtp => Ok(Cow::Borrowed(m)),
        MsgType::Email => {
            let quotes = cfg
                .connectors
                .get(&m.origin.connector)
                .and_then(|c| c.smtp.quotedsubject);
            Ok(Cow::Owned(email_as_sms(m, quotes)))
        }
        MsgType::Mms | MsgType::WapPush => Err(Refusal {
            plugin: REFUSER.into(),
            reason: format!(
                "message {} is of type {t}, which connector {} ({:?}) cannot send; no connector of this build sends {t}",
                m.id,
                connector.name,
                connector.protocol,
                t = name(m.msgtype),
            ),
            kind: RefusalKind::Refused,
        }),
    }
}

/// EMG's name of a message type.
pub fn name(t: MsgType) -> &'static str {
    match t {
        MsgType::Sms => "SMS",
        MsgType::Dlr => "DLR",
        MsgType::Email => "EMAIL",
        MsgType::Mms => "MMS",
        MsgType::WapPush => "WAPPUSH",
    }
}

/// The type a number or name (`X-EMG-Option-MSGTYPE`, EMG's option 25) stands for.
pub fn parse(s: &str) -> Option<MsgType> {
    match s.trim().to_ascii_uppercase().as_str() {
        "1" | "SMS" => Some(MsgType::Sms),
        "5" | "DLR" => Some(MsgType::Dlr),
        "6" | "EMAIL" => Some(MsgType::Email),
        "7" | "MMS" => Some(MsgType::Mms),
        "9" | "WAPPUSH" => Some(MsgType::WapPush),
        _ => None,
    }
}

/// The SMS text of a mail: its subject (in the QUOTEDSUBJECT quotes, else on a line of its
/// own) and its text parts.
pub fn sms_text_of(mail: &mime::MailText, quotes: Option<(char, char)>) -> String {
    mime::sms_text(mail.subject.as_deref(), &mail.text, quotes)
}

/// Text as an SMS carries it: the GSM alphabet when it can, else UCS-2.
pub fn coded(text: &str) -> (u8, Vec<u8>) {
    let dc = common::gsm::choose_coding(text);
    match common::gsm::encode_text(dc, text) {
        Ok(body) => (dc, body),
        Err(_) => (8, common::gsm::encode_text(8, text).unwrap_or_default()),
    }
}

/// An EMAIL message's mail read into SMS text; the message is otherwise the same.
pub fn email_as_sms(m: &Message, quotes: Option<(char, char)>) -> Message {
    let text = match mime::read_mail(&m.body) {
        Ok(mail) => sms_text_of(&mail, quotes),
        Err(_) => String::from_utf8_lossy(&m.body).into_owned(),
    };
    let (data_coding, body) = coded(&text);
    Message {
        msgtype: MsgType::Sms,
        data_coding,
        esm_class: m.esm_class & !0x40,
        body,
        ..m.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connector(protocol: &str) -> config::Config {
        let text = format!(
            r#"
[connector.mail-in]
type = "incoming"
protocol = "smtp"
address = "127.0.0.1:2525"
quotedsubject = "[]"

[connector.out]
type = "outgoing"
protocol = "{protocol}"
address = "127.0.0.1:2775"
"#
        );
        config::parse_str(&text, std::path::Path::new("t.toml")).unwrap_or_else(|e| panic!("{e}"))
    }

    fn email() -> Message {
        Message {
            msgtype: MsgType::Email,
            data_coding: EMAIL_DATA_CODING,
            body: b"From: a@b.c\r\nSubject: Hej\r\n\r\nR\xc3\xa4ksm\xc3\xb6rg\xc3\xa5s\r\n"
                .to_vec(),
            origin: common::message::Origin {
                connector: "mail-in".into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn email_leaves_as_sms_except_on_smtp_and_mms_is_refused() {
        let cfg = connector("smpp");
        let out = &cfg.connectors["out"];
        let m = email();
        let sms = for_connector(&cfg, out, &m).unwrap().into_owned();
        assert_eq!(sms.msgtype, MsgType::Sms);
        assert_eq!(sms.data_coding, 0);
        assert_eq!(
            common::gsm::decode_text(0, &sms.body).unwrap(),
            "[Hej] Räksmörgås"
        );
        let cfg = connector("smtp");
        let out = &cfg.connectors["out"];
        assert!(matches!(
            for_connector(&cfg, out, &m).unwrap(),
            Cow::Borrowed(_)
        ));
        let mut mms = m.clone();
        mms.msgtype = MsgType::Mms;
        let why = for_connector(&cfg, out, &mms).unwrap_err();
        assert!(why.reason.contains("type MMS"), "{}", why.reason);
        assert!(why.reason.contains("no connector of this build sends MMS"));
        assert_eq!(parse("wappush"), Some(MsgType::WapPush));
        assert_eq!(parse("7"), Some(MsgType::Mms));
        assert_eq!(parse("8"), None);
    }
}
