//! Screens rendered to ratatui's TestBackend and compared with the snapshots checked in
//! under `snapshots/` (insta: a changed screen fails; review with `cargo insta review`, or
//! accept with `INSTA_UPDATE=always`).

use super::draw;
use crate::tui::fixture;
use crate::tui::state::{Action, App, Focus, Popup, SendForm, Update};
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ratatui::Terminal;
use std::time::Duration;

fn render(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| draw(f, app)).unwrap();
    t
}

macro_rules! screen {
    ($name:expr, $app:expr, $w:expr, $h:expr) => {
        insta::assert_snapshot!($name, render(&$app, $w, $h).backend())
    };
}

#[test]
fn dashboard_80x24() {
    screen!("dashboard_80x24", fixture::app(), 80, 24);
}

#[test]
fn dashboard_160x48() {
    screen!("dashboard_160x48", fixture::app(), 160, 48);
}

#[test]
fn dashboard_120x40_all_connectors_log() {
    let mut app = fixture::app();
    app.log.all = true;
    app.focus = Focus::Log;
    screen!("dashboard_120x40_all_log", app, 120, 40);
}

#[test]
fn help_80x24() {
    let mut app = fixture::app();
    app.popup = Some(Popup::Help);
    screen!("help_80x24", app, 80, 24);
}

#[test]
fn help_160x48() {
    let mut app = fixture::app();
    app.popup = Some(Popup::Help);
    screen!("help_160x48", app, 160, 48);
}

#[test]
fn confirm_forceclose_80x24() {
    let mut app = fixture::app();
    app.popup = Some(Popup::Confirm(Action::Forceclose("smsc1".into())));
    screen!("confirm_forceclose_80x24", app, 80, 24);
}

#[test]
fn move_target_80x24() {
    let mut app = fixture::app();
    app.popup = Some(Popup::MoveTarget {
        from: "smsc2".into(),
        targets: vec!["smsc1".into(), "sim1".into(), "ucp-out".into()],
        selected: 1,
    });
    screen!("move_target_80x24", app, 80, 24);
}

#[test]
fn send_form_80x24() {
    let mut app = fixture::app();
    app.popup = Some(Popup::Send(SendForm {
        fields: ["46701234567".into(), "emgclient".into(), "test".into()],
        focus: 2,
        via: Some("smsc1".into()),
    }));
    screen!("send_form_80x24", app, 80, 24);
}

#[test]
fn filtered_sorted_and_paused_80x24() {
    let mut app = fixture::app();
    app.table.filter = "sm".into();
    app.table.editing = true;
    app.table.sort = crate::tui::state::SortKey::Queue;
    app.log.paused = true;
    app.log.search = "LOGIN".into();
    screen!("filtered_sorted_paused_80x24", app, 80, 24);
}

#[test]
fn disconnected_after_a_restart_80x24() {
    let mut app = fixture::app();
    app.on_update(Update::Lost {
        reason: "emgd closed the connection".into(),
        attempt: 3,
        retry_in: Duration::from_secs(2),
    });
    screen!("disconnected_80x24", app, 80, 24);
    app.on_update(Update::Connected {
        status: fixture::status(1),
    });
    screen!("restarted_80x24", app, 80, 24);
}

#[test]
fn before_the_first_counters() {
    let app = App::new("127.0.0.1:7185", "admin");
    screen!("empty_80x24", app, 80, 24);
}

#[test]
fn tiny_terminal_does_not_panic() {
    let mut app = fixture::app();
    for (w, h) in [(1, 1), (20, 5), (40, 10), (79, 23)] {
        render(&app, w, h);
        app.popup = Some(Popup::Help);
        render(&app, w, h);
        app.popup = None;
    }
}

#[test]
fn states_are_coloured_and_flags_marked() {
    let t = render(&fixture::app(), 80, 24);
    let buf = t.backend().buffer();
    let find = |text: &str| {
        (0..buf.area.height)
            .find_map(|y| {
                let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
                line.find(text)
                    .map(|i| (line[..i].chars().count() as u16, y))
            })
            .unwrap_or_else(|| panic!("{text} not on screen"))
    };
    let (x, y) = find("ERROR");
    assert_eq!(buf[(x, y)].fg, Color::Red);
    let (x, y) = find("CONNECTED");
    assert_eq!(buf[(x, y)].fg, Color::Yellow);
    let (x, y) = find("HOLD");
    assert_eq!(buf[(x, y)].fg, Color::Yellow);
}

/// smpp-in selected with four client sessions: the wide pane lists what fits and counts
/// the rest; the instances line gives every bound instance its age.
#[test]
fn sessions_160x38() {
    let mut app = fixture::app();
    app.table.selected = Some("smpp-in".into());
    let mut d = fixture::detail(app.connectors[0].clone());
    d.address = Some("0.0.0.0:2775".into());
    d.sessions = ["transceiver", "transmitter", "receiver", "transceiver"]
        .iter()
        .enumerate()
        .map(|(i, bind)| common::mgp::Session {
            instance: i as u32,
            peer: Some(format!("127.0.0.1:{}", 40001 + i)),
            bind: Some(bind.to_string()),
            user: Some(if i == 2 { "acme" } else { "demo" }.into()),
            since_us: fixture::BOUND_AT_US - i as i64 * 3_600_000_000,
        })
        .collect();
    app.on_update(Update::Detail(d));
    screen!("sessions_160x38", app, 160, 38);
    let t = render(&app, 160, 38);
    let text: String = format!("{:?}", t.backend());
    assert!(text.contains("127.0.0.1:40001  transceiver  demo  up 3m12s"));
    assert!(text.contains("… 2 more"), "{text}");
    assert!(text.contains("0:BOUND 3m12s 1:BOUND 1h03m 2:IDLE 3:IDLE"));
}
