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
    let mut smsc1 = info("smsc1", "outgoing", "smpp", &["BOUND", "BOUND"]);
    smsc1.sent = 80_000 + t * 600;
    smsc1.rate_sent = (wave(600.0, 90.0) * 10.0).round() / 10.0;
    smsc1.queued = 40 + (t % 13) as usize;
    smsc1.failed = 12;
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
