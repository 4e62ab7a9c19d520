//! A dashboard in a known state, for the state and view tests.

use super::state::{App, Update};
use common::mgp::{ConnectorDetail, ConnectorInfo, Event, LogKind, Session, Status};

/// 2026-05-04 10:00:00 UTC, when the fixture's sessions bound.
pub const BOUND_AT_US: i64 = 1_777_888_800_000_000;
/// The fixture's clock: 3 minutes 12 seconds later.
pub const NOW_US: i64 = BOUND_AT_US + 192_000_000;

pub fn info(name: &str, dir: &str, proto: &str, states: &[&str]) -> ConnectorInfo {
    ConnectorInfo {
        name: name.into(),
        direction: dir.into(),
        protocol: proto.into(),
        bound: states.iter().filter(|s| **s == "BOUND").count(),
        states: states.iter().map(|s| s.to_string()).collect(),
        instances: states.len() as u32,
        hold: false,
        forceclose: false,
        queued: 0,
        sent: 0,
        received: 0,
        failed: 0,
        rate_sent: 0.0,
        rate_received: 0.0,
        rate_failed: 0.0,
        inflight: vec![0; states.len()],
        nodes: vec![],
    }
}

pub fn status(uptime_s: u64) -> Status {
    Status {
        version: "0.1.0".into(),
        uptime_s,
        node_id: 1,
        connectors: 5,
        total_queued: 0,
        sent: 0,
        received: 0,
        failed: 0,
    }
}

/// Five connectors, one of them held and one in trouble, two minutes of history.
pub fn connectors(t: u64) -> Vec<ConnectorInfo> {
    let wave = |base: f64, amp: f64| base + amp * ((t as f64) / 7.0).sin();
    let mut smpp_in = info(
        "smpp-in",
        "incoming",
        "smpp",
        &["BOUND", "BOUND", "IDLE", "IDLE"],
    );
    smpp_in.received = 120_000 + t * 850;
    smpp_in.rate_received = (wave(850.0, 120.0) * 10.0).round() / 10.0;
    smpp_in.inflight = vec![3, 1, 0, 0];
    let mut smsc1 = info("smsc1", "outgoing", "smpp", &["BOUND", "BOUND"]);
    smsc1.sent = 80_000 + t * 600;
    smsc1.rate_sent = (wave(600.0, 90.0) * 10.0).round() / 10.0;
    smsc1.queued = 40 + (t % 13) as usize;
    smsc1.failed = 12;
    smsc1.inflight = vec![7, 10];
    let mut smsc2 = info("smsc2", "outgoing", "smpp", &["CONNECTED"]);
    smsc2.hold = true;
    smsc2.queued = 1500 + t as usize * 25;
    let mut sim1 = info("sim1", "outgoing", "sim", &["BOUND"]);
    sim1.sent = 30_000 + t * 250;
    sim1.rate_sent = (wave(250.0, 40.0) * 10.0).round() / 10.0;
    sim1.queued = 3;
    let mut ucp = info("ucp-out", "outgoing", "smpp", &["ERROR"]);
    ucp.forceclose = true;
    ucp.failed = 311;
    ucp.rate_failed = 0.4;
    vec![smpp_in, smsc1, smsc2, sim1, ucp]
}

/// Its configuration, and a transceiver session to the SMSC on each BOUND instance.
pub fn detail(info: ConnectorInfo) -> ConnectorDetail {
    let sessions = info
        .states
        .iter()
        .enumerate()
        .filter(|(_, s)| *s == "BOUND")
        .map(|(i, _)| Session {
            instance: i as u32,
            peer: Some("10.1.2.3:2775".into()),
            bind: Some("transceiver".into()),
            user: Some("emg".into()),
            since_us: BOUND_AT_US + i as i64 * 61_000_000,
            inflight: 0,
        })
        .collect();
    ConnectorDetail {
        info,
        address: Some("10.1.2.3:2775".into()),
        mode: "both".into(),
        windowsize: 10,
        throughput: Some(800.0),
        maxqueuesize: Some(100_000),
        users: vec![],
        route: None,
        sessions,
    }
}

pub fn log(connector: &str, line: &str) -> Update {
    Update::Event(Event::Log {
        kind: LogKind::Connector,
        connector: connector.into(),
        instance: 0,
        line: line.into(),
    })
}

/// Connected for two minutes, smsc1 selected with its detail, a few log lines.
pub fn app() -> App {
    let mut app = App::new("127.0.0.1:7185", "admin");
    app.on_update(Update::Connected {
        status: status(3 * 3600 + 120),
    });
    for t in 0..120 {
        let list = connectors(t);
        let total_queued = list.iter().map(|c| c.queued).sum();
        app.on_update(Update::Event(Event::Counters {
            total_queued,
            connectors: list,
        }));
    }
    app.tick(std::time::Duration::from_secs(125));
    app.now_us = NOW_US;
    app.table.selected = Some("smsc1".into());
    let d = detail(app.connectors[1].clone());
    app.on_update(Update::Detail(d));
    for (c, l) in [
        ("smsc1", "2026-05-04 10:00:00.000001 (0) CONNECT OK"),
        (
            "smsc1",
            "2026-05-04 10:00:00.000120 (0) LOGIN OK (system_id=SMSC)",
        ),
        ("smsc1", "2026-05-04 10:00:00.000130 (1) CONNECT OK"),
        (
            "smsc1",
            "2026-05-04 10:00:00.000210 (1) LOGIN OK (system_id=SMSC)",
        ),
        (
            "ucp-out",
            "2026-05-04 10:00:01.000000 (0) CONNECT ERR (info=\"111\")",
        ),
        (
            "smsc1",
            "2026-05-04 10:01:07.512001 (1) SUBMIT ERR (status=0x58, throttled)",
        ),
        (
            "smsc1",
            "2026-05-04 10:01:09.000000 (0) WINDOW FULL, waiting",
        ),
    ] {
        app.on_update(log(c, l));
    }
    app
}

/// A page of smsc2's queue (held, so it grows) with two rows marked.
pub fn message_rows() -> Vec<common::mgp::MessageRow> {
    (0..12)
        .map(|i| common::mgp::MessageRow {
            id: 1_000_400 + i,
            state: if i == 0 { "submitting" } else { "queued" }.into(),
            source: "ACME".into(),
            dest: format!("4670123{:04}", 4500 + i),
            origin: "smpp-in".into(),
            account: Some(if i % 3 == 0 { "acme" } else { "demo" }.into()),
            target: Some("smsc2".into()),
            route_entry: None,
            status: None,
            received_us: NOW_US - (95 - i as i64 * 7) * 1_000_000,
            updated_us: NOW_US - 60_000_000,
        })
        .collect()
}

/// The console on smsc2's queue (connectors ▸ smsc2 ▸ messages), rows 2 and 4 marked.
pub fn messages_app() -> App {
    use super::state::{views::MessagesState, MessageSource, View};
    let mut app = app();
    app.stack = vec![
        View::Connectors,
        View::Connector("smsc2".into()),
        View::Messages,
    ];
    let mut m = MessagesState::new(MessageSource::Queue("smsc2".into()));
    m.rows = message_rows();
    m.loading = false;
    m.more = true;
    m.cursor.selected = 3;
    m.marked.extend([1_000_402, 1_000_404]);
    app.messages = Some(m);
    app
}

/// One delivered message with its history.
pub fn message_app() -> App {
    use super::state::{views::MessageView, View};
    use common::mgp::{HistoryEvent, MessageHistory, MessageInfo};
    let mut app = messages_app();
    app.stack.push(View::Message(1_000_377));
    let at = |s: i64| NOW_US - 120_000_000 + s * 1000;
    let ev = |t, what: &str, detail: &str| HistoryEvent {
        at_us: at(t),
        what: what.into(),
        detail: detail.into(),
    };
    app.message = Some(MessageView {
        id: 1_000_377,
        history: Some(MessageHistory {
            id: 1_000_377,
            message: Some(MessageInfo {
                id: 1_000_377,
                state: "done".into(),
                msgtype: "sms".into(),
                source: "ACME".into(),
                dest: "46701234567".into(),
                origin: "smpp-in".into(),
                origin_user: Some("acme".into()),
                target: "smsc1".into(),
                route_entry: None,
                received_us: at(0),
                updated_us: at(4200),
                remote_id: Some("0F4241".into()),
                status: Some("DELIVRD".into()),
                dlr_requested: true,
                attempts: 2,
                text: Some("Your code is 4711".into()),
                price: Some("0.05".into()),
                cost: Some("0.031".into()),
                tlvs: vec![],
            }),
            events: vec![
                ev(
                    0,
                    "received",
                    "on smpp-in from user acme (account acme), ACME -> 46701234567",
                ),
                ev(0, "routed", "to smsc1"),
                ev(12, "submit", "on smsc1 (0): RETRY, error 0x00000058"),
                ev(1012, "submit", "on smsc1 (1): OK, remote id 0F4241"),
                ev(4190, "receipt", "DELIVRD from smsc1, remote id 0F4241"),
                ev(4200, "final", "DELIVRD"),
                ev(4200, "price", "charged 0.05, cost 0.031"),
                ev(4230, "callback", "on smpp-in (2): OK"),
            ],
        }),
        error: None,
        scroll: 0,
    });
    app
}

/// Two users and four routes, as `users` and `routes` answer.
pub fn lists(app: &mut App) {
    use common::mgp::{RouteInfo, UserInfo};
    app.lists.users = Some(vec![
        UserInfo {
            name: "acme".into(),
            account: "acme".into(),
            access: vec!["10.0.0.0/8".into()],
            binds: vec!["transceiver".into()],
            throughput: Some(200.0),
            connectors: vec!["smpp-in".into()],
        },
        UserInfo {
            name: "demo".into(),
            account: "demo-ltd".into(),
            access: vec![],
            binds: vec![
                "transmitter".into(),
                "receiver".into(),
                "transceiver".into(),
            ],
            throughput: None,
            connectors: vec!["smpp-in".into()],
        },
    ]);
    let r = |order, prefix: Option<&str>, account: Option<&str>, to: &str| RouteInfo {
        order,
        name: format!("emg.toml:{}", 40 + order * 4),
        prefix: prefix.map(Into::into),
        account: account.map(Into::into),
        from: None,
        to: to.into(),
    };
    app.lists.routes = Some(vec![
        r(1, Some("4670"), Some("acme"), "smsc1"),
        r(2, Some("4670"), None, "smsc2"),
        r(3, Some("47"), None, "sim1"),
        r(4, None, None, "ucp-out"),
    ]);
}

/// smsc1's failures by code and its latency histograms.
pub fn stats(app: &mut App) {
    use common::mgp::{ConnectorStats, ErrorCount, Latency};
    let bounds = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    ];
    let hist = |counts: [u64; 15]| Latency {
        buckets: bounds.iter().copied().zip(counts).collect(),
        count: counts.iter().sum(),
        sum_s: counts
            .iter()
            .zip(bounds)
            .map(|(n, b)| *n as f64 * b * 0.7)
            .sum(),
    };
    app.stats.insert(
        "smsc1".into(),
        ConnectorStats {
            connector: "smsc1".into(),
            since_us: NOW_US - 3_600_000_000,
            errors: vec![
                ErrorCount {
                    status: "REJECTD".into(),
                    error: Some("0x00000058".into()),
                    count: 1904,
                    last_us: NOW_US - 5_000_000,
                },
                ErrorCount {
                    status: "UNDELIV".into(),
                    error: Some("0x00000045".into()),
                    count: 12,
                    last_us: NOW_US - 600_000_000,
                },
            ],
            submit_response: Some(hist([
                0, 120, 5400, 22000, 9100, 2300, 410, 35, 4, 1, 0, 0, 0, 0, 0,
            ])),
            accept_commit: None,
        },
    );
}
