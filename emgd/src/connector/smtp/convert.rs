//! Between mail and the gateway's [`Message`]: a received mail becomes one message per
//! recipient (SMS text, or the mail whole as EMAIL with `default_msgtype = "email"`), and a
//! message leaving on an outgoing SMTP connector becomes a mail (envelope and MIME).

use crate::process::msgtype::{self, EMAIL_DATA_CODING};
use common::message::{Address, Message, MsgType, Origin};
use common::mime::{self, AddressRules, NewMail};
use common::smtp::{Envelope, Outgoing};
use config::DefaultMsgType;

/// The connector's rules between recipient addresses and numbers.
pub fn address_rules(cfg: &config::Connector) -> AddressRules {
    AddressRules {
        domains: cfg.smtp.domains.clone(),
        local_prefix: cfg.smtp.local_prefix.clone(),
        ..AddressRules::default()
    }
}

/// A mail address as a message's address: TON 5 (alphanumeric), as EMG gives e-mail senders;
/// SAT puts a pool number in its place where the message must be answerable.
pub fn mail_address(addr: &str) -> Address {
    Address {
        ton: 5,
        npi: 0,
        addr: addr.to_string(),
    }
}

/// The message options a mail's `X-EMG-Option-<name>` headers set, applied to `m`; the names
/// that mean nothing here are returned for the connector log.
fn apply_options(m: &mut Message, options: &[(String, String)]) -> (Vec<String>, Option<MsgType>) {
    let mut ignored = Vec::new();
    let mut wanted_type = None;
    for (name, value) in options {
        let v = value.trim();
        match name.to_ascii_uppercase().as_str() {
            "DLR" => m.dlr_requested = matches!(v, "1" | "yes" | "true"),
            "PRIORITY" => match v.parse() {
                Ok(p) => m.priority = p,
                Err(_) => ignored.push(format!("{name}={value}")),
            },
            "MSGTYPE" => match msgtype::parse(v).filter(|t| *t != MsgType::Dlr) {
                Some(t) => wanted_type = Some(t),
                None => ignored.push(format!("{name}={value}")),
            },
            "PROTOCOL_ID" | "PID" => match v.parse() {
                Ok(p) => m.protocol_id = p,
                Err(_) => ignored.push(format!("{name}={value}")),
            },
            _ => ignored.push(name.clone()),
        }
    }
    (ignored, wanted_type)
}

/// What a received mail gives every recipient's message.
pub struct Received {
    /// One message per recipient, in the envelope's order, with its recipient address.
    pub messages: Vec<(String, Message)>,
    /// Parts left out and options ignored, for the connector log.
    pub notes: Vec<String>,
}

/// The messages for a mail received on `cfg` in the transaction `envelope`: each recipient
/// is mapped to its number by `rules` (the session checked them at RCPT).
pub fn received(
    cfg: &config::Connector,
    envelope: &Envelope,
    content: &[u8],
    account: Option<String>,
    dlr: bool,
) -> Result<Received, mime::MailError> {
    let rules = address_rules(cfg);
    let mail = mime::read_mail(content)?;
    let sender = if envelope.from.is_empty() {
        mail.from.clone().unwrap_or_default()
    } else {
        envelope.from.clone()
    };
    let mut notes: Vec<String> = mail
        .discarded
        .iter()
        .map(|d| match &d.name {
            Some(n) => format!("discarded {} {n:?} ({} octets)", d.content_type, d.size),
            None => format!("discarded {} ({} octets)", d.content_type, d.size),
        })
        .collect();
    let mut template = Message {
        source: mail_address(&sender),
        dlr_requested: dlr && !sender.is_empty(),
        origin: Origin {
            connector: cfg.name.clone(),
            user: envelope.user.clone(),
            account: account.or_else(|| envelope.user.clone()),
            client_ref: mail.message_id.clone(),
            ..Default::default()
        },
        ..Default::default()
    };
    let (ignored, wanted_type) = apply_options(&mut template, &mail.options);
    if !ignored.is_empty() {
        notes.push(format!("ignored options {}", ignored.join(", ")));
    }
    // `X-EMG-Option-MSGTYPE` (EMG's option 25) chooses the type, else `default_msgtype`;
    // anything but SMS keeps the mail whole, to be read into text (EMAIL) or refused (MMS,
    // WAPPUSH) where it leaves.
    template.msgtype = wanted_type.unwrap_or(match cfg.smtp.default_msgtype {
        DefaultMsgType::Email => MsgType::Email,
        DefaultMsgType::Sms => MsgType::Sms,
    });
    if template.msgtype == MsgType::Sms {
        let text = msgtype::sms_text_of(&mail, cfg.smtp.quotedsubject);
        (template.data_coding, template.body) = msgtype::coded(&text);
    } else {
        template.data_coding = EMAIL_DATA_CODING;
        template.body = content.to_vec();
    }
    let messages = envelope
        .recipients
        .iter()
        .filter_map(|rcpt| {
            let number = rules.number_of(rcpt).ok()?;
            let mut m = template.clone();
            m.dest = Address::new(number);
            Some((rcpt.clone(), m))
        })
        .collect();
    Ok(Received { messages, notes })
}

/// The text of an SMS message (any coding), or `None` for binary data.
pub fn text_of(m: &Message) -> Option<String> {
    let body = if m.esm_class & 0x40 != 0 {
        common::gsm::Udh::split(&m.body).ok()?.1
    } else {
        &m.body[..]
    };
    common::gsm::decode_text(m.data_coding, body).ok()
}

/// The mail address a message's address stands for on `cfg`: as it is when it is a mail
/// address, else the number at the connector's first `smtp_domains` entry (or its
/// `smtp_hostname`).
pub fn address_for(cfg: &config::Connector, addr: &str) -> String {
    if mime::is_mail_address(addr) {
        addr.to_string()
    } else {
        address_rules(cfg).address_of(addr, &cfg.smtp.hostname)
    }
}

/// The mail that carries `m` out of `cfg`: SOURCEADDR as MAIL FROM and From, DESTADDR as
/// RCPT TO and To, an EMAIL message's mail as it is (its envelope from the message), any other
/// message's text as a UTF-8 text/plain body (QUOTEDSUBJECT gives the subject), with the
/// message options as `X-EMG-Option-<name>` headers.
/// `from` replaces the message's source as the mail's sender (the reports an incoming
/// connector mails come from its `smtp_dlr_from`).
pub fn mail_of(
    cfg: &config::Connector,
    m: &Message,
    date: &str,
    from: Option<&str>,
) -> Result<Outgoing, String> {
    let from = from.map_or_else(|| address_for(cfg, &m.source.addr), str::to_string);
    let to = address_for(cfg, &m.dest.addr);
    if m.msgtype == MsgType::Email {
        return Ok(Outgoing {
            from,
            recipients: vec![to],
            content: m.body.clone(),
        });
    }
    let (subject, body) = match &m.dlr {
        Some(d) if m.msgtype == MsgType::Dlr => report_text(m, d),
        _ => {
            let text = text_of(m).ok_or_else(|| {
                format!(
                    "message {} is binary (data_coding {}): no text to mail",
                    m.id, m.data_coding
                )
            })?;
            mime::split_subject(&text, cfg.smtp.quotedsubject)
        }
    };
    let mut options = vec![
        ("ID".to_string(), m.id.to_string()),
        ("MSGTYPE".to_string(), m.msgtype.code().to_string()),
    ];
    if m.msgtype == MsgType::Dlr {
        if let Some(d) = &m.dlr {
            options.push(("DLR_ID".into(), d.reported_id.clone()));
            options.push((
                "DLR_STATUS".into(),
                format!("{:?}", d.status).to_uppercase(),
            ));
        }
    }
    if m.priority != 0 {
        options.push(("PRIORITY".into(), m.priority.to_string()));
    }
    let message_id = format!("{}.{}@{}", m.id, m.received_us, cfg.smtp.hostname);
    let recipients = [to.clone()];
    let content = mime::build_mail(&NewMail {
        from: &from,
        from_name: None,
        to: &recipients,
        subject: subject.as_deref(),
        text: &body,
        date,
        message_id: &message_id,
        in_reply_to: None,
        options: &options,
    });
    Ok(Outgoing {
        from,
        recipients: vec![to],
        content,
    })
}

/// The subject and text of a report mail: what became of the message, when, and its first
/// words.
fn report_text(m: &Message, d: &common::message::DlrInfo) -> (Option<String>, String) {
    let status = d.status.stat_word();
    let done = chrono::DateTime::from_timestamp_micros(d.done_us)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default();
    let body = format!(
        "Your message {} to {} is {status} ({done}).\nError code: {}\nText: {}",
        d.reported_id, m.source.addr, d.error, d.text
    );
    (Some(format!("Delivery report: {status}")), body)
}

/// RFC 5322 date-time of now.
pub fn now_date() -> String {
    chrono::Utc::now()
        .format("%a, %-d %b %Y %H:%M:%S +0000")
        .to_string()
}
