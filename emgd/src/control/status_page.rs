//! Kannel's bearerbox status page (`status.txt`, `status.xml`), drawn from MGP's `status` and
//! `connector` answers, so that the greps and XML paths of Kannel monitoring scripts work on
//! emgd: each connector shows as Kannel shows an SMSC connection. The layout follows the page
//! of Kannel 1.4.5 recorded in `tests/fixtures/http-dialects/kannel-status.{txt,xml}`.
//! Kannel 1.4.5 has no JSON page; `status.json` is the XML's tree as JSON.
//!
//! What emgd has no figure for shows as Kannel shows an unused one: WDP 0, `No boxes connected`, DLR
//! counts 0 (emgd counts receipts as messages received). Kannel's three rates are its 1-minute,
//! 5-minute and whole-uptime loads; emgd shows its current rate (last 10 s) for the first two
//! and the mean since its start for the third. Free of I/O.

use common::mgp::{ConnectorDetail, Status};

/// Which page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Xml,
    Json,
}

impl Format {
    /// From the path (`/status`, `/status.txt`, `/status.xml`, `/status.json`) and an optional
    /// `format=` parameter, which wins.
    pub fn of(path: &str, format: Option<&str>) -> Option<Format> {
        let word = format.map(str::to_ascii_lowercase).unwrap_or_else(|| {
            path.rsplit_once('.')
                .map_or("txt".to_string(), |(_, ext)| ext.to_ascii_lowercase())
        });
        match word.as_str() {
            "txt" | "text" | "plain" => Some(Format::Text),
            "xml" => Some(Format::Xml),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain",
            Format::Xml => "text/xml",
            Format::Json => "application/json",
        }
    }
}

/// `0d 0h 3m 14s`.
fn uptime(s: u64) -> String {
    format!(
        "{}d {}h {}m {}s",
        s / 86_400,
        s % 86_400 / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// Kannel's `(now,5min,total)` triple.
fn loads(now: f64, total: u64, uptime_s: u64) -> String {
    let mean = total as f64 / uptime_s.max(1) as f64;
    format!("{now:.2},{now:.2},{mean:.2}")
}

/// One connector as Kannel's SMSC entry.
struct Smsc {
    /// `SMPP:127.0.0.1:2775`.
    name: String,
    id: String,
    /// `online 180s`, `connecting`, `re-connecting`, `dead`.
    status: String,
    failed: u64,
    queued: usize,
    received: u64,
    sent: u64,
    inbound: String,
    outbound: String,
}

fn smsc(c: &ConnectorDetail, uptime_s: u64, now_us: i64) -> Smsc {
    let i = &c.info;
    let status = if i.forceclose {
        "dead".to_string()
    } else if i.bound > 0 {
        let since = c
            .sessions
            .iter()
            .map(|s| s.since_us)
            .min()
            .unwrap_or(now_us);
        format!("online {}s", (now_us - since).max(0) / 1_000_000)
    } else if i.states.iter().any(|s| s == "ERROR") {
        "re-connecting".to_string()
    } else if i.states.iter().all(|s| s == "DEAD") {
        "dead".to_string()
    } else {
        "connecting".to_string()
    };
    let address = c.address.as_deref().unwrap_or("in-process");
    Smsc {
        name: format!("{}:{address}", i.protocol.to_ascii_uppercase()),
        id: i.name.clone(),
        status,
        failed: i.failed,
        queued: i.queued,
        received: i.received,
        sent: i.sent,
        inbound: loads(i.rate_received, i.received, uptime_s),
        outbound: loads(i.rate_sent, i.sent, uptime_s),
    }
}

const NO_LOAD: &str = "0.00,0.00,0.00";

/// The page for `status` and every connector's detail, at `now_us`.
pub fn render(
    format: Format,
    status: &Status,
    connectors: &[ConnectorDetail],
    now_us: i64,
) -> String {
    let up = status.uptime_s;
    let smscs: Vec<Smsc> = connectors.iter().map(|c| smsc(c, up, now_us)).collect();
    let rate = |f: fn(&ConnectorDetail) -> f64| connectors.iter().map(f).sum::<f64>();
    let inbound = loads(rate(|c| c.info.rate_received), status.received, up);
    let outbound = loads(rate(|c| c.info.rate_sent), status.sent, up);
    let version = format!("emgd version `{}'.", status.version);
    match format {
        Format::Text => text(status, &smscs, &version, &inbound, &outbound),
        Format::Xml => xml(status, &smscs, &version, &inbound, &outbound),
        Format::Json => json(status, &smscs, &version, &inbound, &outbound),
    }
}

fn text(s: &Status, smscs: &[Smsc], version: &str, inbound: &str, outbound: &str) -> String {
    let mut out = format!(
        "{version}\n\n\nStatus: running, uptime {}\n\n\
         WDP: received 0 (0 queued), sent 0 (0 queued)\n\n\
         SMS: received {} (0 queued), sent {} ({} queued), store size {}\n\
         SMS: inbound ({inbound}) msg/sec, outbound ({outbound}) msg/sec\n\n\
         DLR: received 0, sent 0\n\
         DLR: inbound ({NO_LOAD}) msg/sec, outbound ({NO_LOAD}) msg/sec\n\
         DLR: 0 queued, using emgd storage\n\n\
         No boxes connected\n\n\
         SMSC connections:\n",
        uptime(s.uptime_s),
        s.received,
        s.sent,
        s.total_queued,
        s.total_queued,
    );
    for c in smscs {
        out.push_str(&format!(
            "    {id}[{id}]    {name} ({status}, rcvd: sms {rcvd} ({inb}) / dlr 0 ({NO_LOAD}), \
             sent: sms {sent} ({outb}) / dlr 0 ({NO_LOAD}), failed {failed}, queued {queued} msgs)\n",
            id = c.id,
            name = c.name,
            status = c.status,
            rcvd = c.received,
            inb = c.inbound,
            sent = c.sent,
            outb = c.outbound,
            failed = c.failed,
            queued = c.queued,
        ));
    }
    out.push('\n');
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn xml(s: &Status, smscs: &[Smsc], version: &str, inbound: &str, outbound: &str) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\"?>\n<gateway>\n<version>{}</version>\n\
         <status>running, uptime {}</status>\n\
         \t<wdp>\n\t\t<received><total>0</total><queued>0</queued></received>\n\
         \t\t<sent><total>0</total><queued>0</queued></sent>\n\t</wdp>\n\
         \t<sms>\n\t\t<received><total>{}</total><queued>0</queued></received>\n\
         \t\t<sent><total>{}</total><queued>{}</queued></sent>\n\
         \t\t<storesize>{}</storesize>\n\
         \t\t<inbound>{inbound}</inbound>\n\t\t<outbound>{outbound}</outbound>\n\t\t</sms>\n\
         \t<dlr>\n\t\t<received><total>0</total></received>\n\t\t<sent><total>0</total></sent>\n\
         \t\t<inbound>{NO_LOAD}</inbound>\n\t\t<outbound>{NO_LOAD}</outbound>\n\
         \t\t<queued>0</queued>\n\t\t<storage>emgd</storage>\n\t</dlr>\n\
         <boxes>\n\t</boxes>\n<smscs><count>{}</count>\n",
        esc(version),
        uptime(s.uptime_s),
        s.received,
        s.sent,
        s.total_queued,
        s.total_queued,
        smscs.len(),
    );
    for c in smscs {
        out.push_str(&format!(
            "\t<smsc>\n\t\t<name>{}</name>\n\t\t<admin-id>{id}</admin-id>\n\t\t<id>{id}</id>\n\
             \t\t<status>{}</status>\n\t\t<failed>{}</failed>\n\t\t<queued>{}</queued>\n\
             \t\t<sms>\n\t\t\t<received>{}</received>\n\t\t\t<sent>{}</sent>\n\
             \t\t\t<inbound>{}</inbound>\n\t\t\t<outbound>{}</outbound>\n\t\t</sms>\n\
             \t\t<dlr>\n\t\t\t<received>0</received>\n\t\t\t<sent>0</sent>\n\
             \t\t\t<inbound>{NO_LOAD}</inbound>\n\t\t\t<outbound>{NO_LOAD}</outbound>\n\t\t</dlr>\n\
             \t</smsc>\n",
            esc(&c.name),
            c.status,
            c.failed,
            c.queued,
            c.received,
            c.sent,
            c.inbound,
            c.outbound,
            id = esc(&c.id),
        ));
    }
    out.push_str("</smscs>\n</gateway>\n");
    out
}

fn json(s: &Status, smscs: &[Smsc], version: &str, inbound: &str, outbound: &str) -> String {
    use serde_json::json;
    let smsc: Vec<serde_json::Value> = smscs
        .iter()
        .map(|c| {
            json!({
                "name": c.name, "admin-id": c.id, "id": c.id, "status": c.status,
                "failed": c.failed, "queued": c.queued,
                "sms": {"received": c.received, "sent": c.sent, "inbound": c.inbound, "outbound": c.outbound},
                "dlr": {"received": 0, "sent": 0, "inbound": NO_LOAD, "outbound": NO_LOAD},
            })
        })
        .collect();
    let v = json!({"gateway": {
        "version": version,
        "status": format!("running, uptime {}", uptime(s.uptime_s)),
        "wdp": {"received": {"total": 0, "queued": 0}, "sent": {"total": 0, "queued": 0}},
        "sms": {
            "received": {"total": s.received, "queued": 0},
            "sent": {"total": s.sent, "queued": s.total_queued},
            "storesize": s.total_queued,
            "inbound": inbound,
            "outbound": outbound,
        },
        "dlr": {
            "received": {"total": 0}, "sent": {"total": 0},
            "inbound": NO_LOAD, "outbound": NO_LOAD, "queued": 0, "storage": "emgd",
        },
        "boxes": [],
        "smscs": {"count": smscs.len(), "smsc": smsc},
    }});
    format!("{v}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::mgp::{ConnectorInfo, Session};

    fn detail(name: &str, states: &[&str], since_us: Option<i64>) -> ConnectorDetail {
        ConnectorDetail {
            info: ConnectorInfo {
                name: name.into(),
                direction: "outgoing".into(),
                protocol: "smpp".into(),
                states: states.iter().map(|s| s.to_string()).collect(),
                bound: states.iter().filter(|s| **s == "BOUND").count(),
                instances: states.len() as u32,
                hold: false,
                forceclose: false,
                queued: 3,
                sent: 120,
                received: 6,
                failed: 1,
                rate_sent: 2.5,
                rate_received: 0.0,
                rate_failed: 0.0,
                inflight: vec![],
                nodes: vec![],
            },
            address: Some("127.0.0.1:2775".into()),
            mode: "both".into(),
            windowsize: 10,
            throughput: None,
            maxqueuesize: None,
            users: vec![],
            route: None,
            sessions: since_us
                .map(|since_us| Session {
                    instance: 0,
                    peer: None,
                    bind: None,
                    user: None,
                    since_us,
                    inflight: 0,
                })
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn connectors_show_as_kannel_smscs() {
        let status = Status {
            version: "1.0".into(),
            uptime_s: 3 * 60 + 14,
            node_id: 0,
            connectors: 2,
            total_queued: 3,
            sent: 120,
            received: 6,
            failed: 1,
        };
        let cs = [
            detail("smsc1", &["BOUND"], Some(0)),
            detail("smsc2", &["ERROR"], None),
        ];
        let t = render(Format::Text, &status, &cs, 180_000_000);
        assert!(t.contains("Status: running, uptime 0d 0h 3m 14s\n"), "{t}");
        assert!(t.contains(
            "    smsc1[smsc1]    SMPP:127.0.0.1:2775 (online 180s, rcvd: sms 6 (0.00,0.00,0.03) / dlr 0 (0.00,0.00,0.00), sent: sms 120 (2.50,2.50,0.62) / dlr 0 (0.00,0.00,0.00), failed 1, queued 3 msgs)\n"
        ), "{t}");
        assert!(
            t.contains("smsc2[smsc2]    SMPP:127.0.0.1:2775 (re-connecting, "),
            "{t}"
        );
        let x = render(Format::Xml, &status, &cs, 180_000_000);
        assert!(x.contains("<smscs><count>2</count>"), "{x}");
        assert!(x.contains("<admin-id>smsc1</admin-id>"), "{x}");
        let j: serde_json::Value =
            serde_json::from_str(&render(Format::Json, &status, &cs, 0)).unwrap();
        assert_eq!(j["gateway"]["smscs"]["smsc"][1]["status"], "re-connecting");
        assert_eq!(Format::of("/status", Some("XML")), Some(Format::Xml));
        assert_eq!(Format::of("/status.json", None), Some(Format::Json));
        assert_eq!(Format::of("/status", None), Some(Format::Text));
        assert_eq!(Format::of("/status.html", None), None);
    }
}
