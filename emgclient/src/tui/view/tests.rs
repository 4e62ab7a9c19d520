//! Screens rendered to ratatui's TestBackend and compared with the snapshots checked in
//! under `snapshots/` (insta: a changed screen fails; review with `cargo insta review`, or
//! accept with `INSTA_UPDATE=always`).

use super::draw;
use crate::tui::fixture;
use crate::tui::state::{Action, App, Focus, Pick, Popup, Purpose, SendForm, Update, View};
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
    app.popup = Some(Popup::Pick(Pick {
        title: " move the queue of smsc2 to ".into(),
        options: vec!["smsc1".into(), "sim1".into(), "ucp-out".into()],
        selected: 1,
        purpose: Purpose::QueueMove {
            from: "smsc2".into(),
        },
    }));
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
            inflight: i as u32,
        })
        .collect();
    app.on_update(Update::Detail(d));
    screen!("sessions_160x38", app, 160, 38);
    let t = render(&app, 160, 38);
    let text: String = format!("{:?}", t.backend());
    assert!(text.contains("127.0.0.1:40001  transceiver  demo  up 3m12s"));
    assert!(text.contains("… 3 more"), "{text}");
    assert!(text.contains("0:BOUND 3m12s 1:BOUND 1h03m 2:IDLE 3:IDLE"));
}

/// Every view at 80x24 and at 160x48 (the main views' captures for the note come from here).
macro_rules! both_sizes {
    ($name:literal, $app:expr) => {{
        let app = $app;
        screen!(concat!($name, "_80x24"), app, 80, 24);
        screen!(concat!($name, "_160x48"), app, 160, 48);
    }};
}

fn with_stats(mut app: App) -> App {
    fixture::stats(&mut app);
    app
}

#[test]
fn connectors_view_with_error_counts() {
    both_sizes!("view_connectors", with_stats(fixture::app()));
}

#[test]
fn connectors_view_in_a_cluster_has_a_node_column() {
    let mut app = with_stats(fixture::app());
    for (i, c) in app.connectors.iter_mut().enumerate() {
        c.nodes = (1..=3u16)
            .map(|node| common::mgp::NodeSessions {
                node_id: node,
                bound: (i + node as usize) % 3,
                users: vec![],
            })
            .collect();
    }
    let text = format!("{:?}", render(&app, 160, 48).backend());
    assert!(text.contains("NODES"), "{text}");
    assert!(text.contains("1:1 2:2 3:0"), "{text}");
    both_sizes!("view_connectors_cluster", app);
}

#[test]
fn connector_view() {
    let mut app = with_stats(fixture::app());
    app.stack.push(View::Connector("smsc1".into()));
    both_sizes!("view_connector", app);
}

#[test]
fn queues_view() {
    let mut app = fixture::app();
    app.stack = vec![View::Queues];
    app.queues.selected = 2;
    both_sizes!("view_queues", app);
}

#[test]
fn messages_view() {
    both_sizes!("view_messages", fixture::messages_app());
}

#[test]
fn message_view() {
    both_sizes!("view_message", fixture::message_app());
}

#[test]
fn users_view() {
    let mut app = fixture::app();
    fixture::lists(&mut app);
    app.stack = vec![View::Users];
    both_sizes!("view_users", app);
}

#[test]
fn routes_view() {
    let mut app = fixture::app();
    fixture::lists(&mut app);
    app.stack = vec![View::Routes];
    app.routes.selected = 1;
    both_sizes!("view_routes", app);
}

#[test]
fn nodes_view() {
    let mut app = fixture::app();
    app.stack = vec![View::Nodes];
    both_sizes!("view_nodes", app);
}

#[test]
fn logs_view() {
    let mut app = fixture::app();
    app.stack = vec![View::Logs];
    app.log.all = true;
    app.log.search = "OK".into();
    app.log.highlight_only = true;
    both_sizes!("view_logs", app);
}

#[test]
fn command_line_with_completions() {
    let mut app = fixture::app();
    app.command = Some(crate::tui::state::CommandLine {
        text: "co".into(),
        candidates: vec!["connectors".into(), "connector".into()],
    });
    screen!("command_80x24", app, 80, 24);
}

#[test]
fn bulk_progress_and_message_pick() {
    let mut app = fixture::messages_app();
    app.popup = Some(Popup::Progress {
        title: "cancel 40 messages".into(),
        done: 25,
        failed: 1,
        total: 40,
    });
    screen!("progress_80x24", app, 80, 24);
    app.popup = Some(Popup::Pick(Pick {
        title: " move 2 messages to ".into(),
        options: vec!["smsc1".into(), "sim1".into(), "ucp-out".into()],
        selected: 0,
        purpose: Purpose::MsgMove {
            ids: vec![1_000_402, 1_000_404],
        },
    }));
    screen!("pick_messages_80x24", app, 80, 24);
}

#[test]
fn help_of_a_read_only_operator_has_no_actions() {
    let mut app = fixture::messages_app();
    app.role = common::mgp::Role::Readonly;
    app.popup = Some(Popup::Help);
    screen!("help_messages_readonly_80x24", app, 80, 24);
    let text = format!("{:?}", render(&app, 80, 24).backend());
    assert!(!text.contains("cancel the message"), "{text}");
    assert!(text.contains("mark the message"), "{text}");
}

/// `NO_COLOR`: no cell has a colour, the selection is still reversed.
#[test]
fn monochrome_has_no_colour() {
    super::styles::set_monochrome(true);
    for app in [
        fixture::app(),
        fixture::messages_app(),
        with_stats(fixture::app()),
    ] {
        let t = render(&app, 80, 24);
        let buf = t.backend().buffer();
        for cell in buf.content() {
            assert!(
                matches!(cell.fg, Color::Reset) && matches!(cell.bg, Color::Reset),
                "coloured cell {cell:?}"
            );
        }
        assert!(
            buf.content()
                .iter()
                .any(|c| c.modifier.contains(ratatui::style::Modifier::REVERSED)),
            "the selection shows"
        );
    }
    super::styles::set_monochrome(false);
}

#[test]
fn a_click_selects_the_row_under_it_and_the_wheel_scrolls() {
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    let mut app = fixture::messages_app();
    render(&app, 80, 24);
    // Header 2 lines, the border, the column titles: the first row is on line 4.
    let click = |row| MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 10,
        row,
        modifiers: KeyModifiers::NONE,
    };
    app.on_mouse(click(4 + 6));
    assert_eq!(app.messages.as_ref().unwrap().cursor.selected, 6);
    let wheel = MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 10,
        row: 10,
        modifiers: KeyModifiers::NONE,
    };
    app.on_mouse(wheel);
    assert_eq!(app.messages.as_ref().unwrap().cursor.selected, 7);
    // On the connectors table a click selects a connector and asks for its detail.
    let mut app = fixture::app();
    render(&app, 80, 24);
    let intents = app.on_mouse(click(4 + 3));
    assert_eq!(app.table.selected.as_deref(), Some("sim1"));
    assert_eq!(intents, [crate::tui::state::Intent::Detail("sim1".into())]);
}

/// Which colours a screen uses, foreground and background.
fn colours_of(app: &App) -> std::collections::HashSet<Color> {
    let t = render(app, 80, 24);
    let buf = t.backend().buffer();
    buf.content()
        .iter()
        .flat_map(|c| [c.fg, c.bg])
        .filter(|c| *c != Color::Reset)
        .collect()
}

/// Each palette draws the same screen in its own kind of colour, and only in it: basic ANSI
/// names on 16 colours, xterm cube indexes on 256, RGB on truecolor, none in monochrome.
#[test]
fn each_palette_draws_in_its_own_colours() {
    use super::styles::{set_palette, Palette};
    let kinds = |p: Palette| {
        set_palette(p);
        let mut all = colours_of(&fixture::app());
        all.extend(colours_of(&fixture::messages_app()));
        all.extend(colours_of(&with_stats(fixture::app())));
        set_palette(Palette::Basic16);
        all
    };
    assert!(kinds(Palette::Monochrome).is_empty());
    let basic = kinds(Palette::Basic16);
    assert!(basic.contains(&Color::Green), "{basic:?}");
    assert!(
        basic
            .iter()
            .all(|c| !matches!(c, Color::Indexed(_) | Color::Rgb(..))),
        "{basic:?}"
    );
    let indexed = kinds(Palette::Indexed256);
    assert!(
        indexed.contains(&Color::Indexed(71)),
        "BOUND's green: {indexed:?}"
    );
    assert!(
        indexed.iter().all(|c| matches!(c, Color::Indexed(_))),
        "{indexed:?}"
    );
    assert_eq!(indexed.len(), basic.len(), "one shade per basic colour");
    let rgb = kinds(Palette::TrueColor);
    assert!(rgb.contains(&Color::Rgb(95, 175, 95)), "{rgb:?}");
    assert!(rgb.iter().all(|c| matches!(c, Color::Rgb(..))), "{rgb:?}");
    assert_eq!(rgb.len(), basic.len());
}

#[test]
fn the_palette_follows_no_color_colorterm_and_term() {
    use super::styles::Palette;
    let env = |pairs: &[(&str, &str)]| {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Palette::detect(move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    };
    assert_eq!(env(&[("TERM", "xterm")]), Palette::Basic16);
    assert_eq!(env(&[]), Palette::Basic16);
    assert_eq!(env(&[("TERM", "xterm-256color")]), Palette::Indexed256);
    assert_eq!(env(&[("TERM", "tmux-256color")]), Palette::Indexed256);
    assert_eq!(
        env(&[("TERM", "xterm-256color"), ("COLORTERM", "truecolor")]),
        Palette::TrueColor
    );
    assert_eq!(env(&[("COLORTERM", "24bit")]), Palette::TrueColor);
    assert_eq!(env(&[("TERM", "dumb")]), Palette::Monochrome);
    // NO_COLOR wins over everything; an empty one does not count.
    assert_eq!(
        env(&[("NO_COLOR", "1"), ("COLORTERM", "truecolor")]),
        Palette::Monochrome
    );
    assert_eq!(
        env(&[("NO_COLOR", ""), ("TERM", "xterm-256color")]),
        Palette::Indexed256
    );
    // The override, for terminals that say less than they can do.
    assert_eq!(
        env(&[("EMGCLIENT_COLORS", "256"), ("TERM", "screen")]),
        Palette::Indexed256
    );
    assert_eq!(
        env(&[("EMGCLIENT_COLORS", "16"), ("COLORTERM", "truecolor")]),
        Palette::Basic16
    );
}
