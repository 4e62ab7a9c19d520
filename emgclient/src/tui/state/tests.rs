use super::*;
use crate::tui::fixture;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::time::Duration;

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn press(app: &mut App, keys: &str) -> Vec<Intent> {
    keys.chars().flat_map(|c| app.on_key(key(c))).collect()
}

fn names(app: &App) -> Vec<&str> {
    app.rows().iter().map(|c| c.name.as_str()).collect()
}

#[test]
fn quit_keys() {
    let mut app = fixture::app();
    assert_eq!(press(&mut app, "q"), [Intent::Quit]);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(app.on_key(ctrl_c), [Intent::Quit]);
}

#[test]
fn moving_the_selection_asks_for_the_new_connectors_detail() {
    let mut app = fixture::app();
    assert_eq!(app.table.selected.as_deref(), Some("smsc1"));
    assert_eq!(press(&mut app, "j"), [Intent::Detail("smsc2".into())]);
    assert_eq!(
        app.on_key(code(KeyCode::Up)),
        [Intent::Detail("smsc1".into())]
    );
    assert_eq!(press(&mut app, "G"), [Intent::Detail("ucp-out".into())]);
    assert_eq!(press(&mut app, "j"), [], "stays on the last row");
    assert_eq!(press(&mut app, "g"), [Intent::Detail("smpp-in".into())]);
    assert_eq!(press(&mut app, "k"), []);
}

#[test]
fn the_first_counters_select_the_first_row() {
    let mut app = App::new("h:1", "admin");
    app.on_update(Update::Connected {
        status: fixture::status(5),
    });
    let intents = app.on_update(Update::Event(Event::Counters {
        total_queued: 0,
        connectors: fixture::connectors(0),
    }));
    assert_eq!(intents, [Intent::Detail("smpp-in".into())]);
    assert_eq!(app.selected().unwrap().name, "smpp-in");
}

#[test]
fn filter_narrows_rows_and_keeps_the_selection_on_a_visible_row() {
    let mut app = fixture::app();
    let intents = press(&mut app, "/sim");
    assert!(app.table.editing);
    assert_eq!(names(&app), ["sim1"]);
    assert_eq!(intents.last(), Some(&Intent::Detail("sim1".into())));
    assert_eq!(app.table.selected.as_deref(), Some("sim1"));
    // Keys go to the filter while it is edited: 'q' does not quit.
    assert_eq!(press(&mut app, "q"), []);
    assert_eq!(app.table.filter, "simq");
    assert!(names(&app).is_empty());
    assert_eq!(app.selected(), None);
    app.on_key(code(KeyCode::Backspace));
    app.on_key(code(KeyCode::Enter));
    assert!(!app.table.editing);
    assert_eq!(app.table.filter, "sim");
    // Filter matches state and protocol too, case-insensitively.
    press(&mut app, "/");
    app.on_key(code(KeyCode::Esc));
    assert_eq!(app.table.filter, "");
    assert_eq!(names(&app).len(), 5);
    press(&mut app, "/error");
    assert_eq!(names(&app), ["ucp-out"]);
}

#[test]
fn sort_cycles_columns_and_reverses() {
    let mut app = fixture::app();
    assert_eq!(
        names(&app),
        ["smpp-in", "smsc1", "smsc2", "sim1", "ucp-out"]
    );
    press(&mut app, "s");
    assert_eq!(app.table.sort, SortKey::Name);
    assert_eq!(
        names(&app),
        ["sim1", "smpp-in", "smsc1", "smsc2", "ucp-out"]
    );
    press(&mut app, "s");
    assert_eq!(app.table.sort, SortKey::State);
    assert_eq!(names(&app)[0], "ucp-out", "trouble first");
    press(&mut app, "s");
    assert_eq!(app.table.sort, SortKey::Queue);
    assert_eq!(names(&app)[..2], ["smsc2", "smsc1"]);
    press(&mut app, "S");
    assert_eq!(names(&app)[4], "smsc2");
    press(&mut app, "Sss");
    assert_eq!(app.table.sort, SortKey::RateOut);
    assert_eq!(names(&app)[0], "smsc1");
    press(&mut app, "ss");
    assert_eq!(app.table.sort, SortKey::Config);
    assert_eq!(
        app.table.selected.as_deref(),
        Some("smsc1"),
        "the cursor follows its connector"
    );
}

#[test]
fn destructive_actions_wait_for_confirmation() {
    let mut app = fixture::app();
    assert_eq!(press(&mut app, "h"), []);
    assert_eq!(
        app.popup,
        Some(Popup::Confirm(Action::Hold("smsc1".into())))
    );
    assert_eq!(
        press(&mut app, "x"),
        [],
        "other keys leave the question open"
    );
    assert!(app.popup.is_some());
    assert_eq!(
        press(&mut app, "y"),
        [Intent::Run(Action::Hold("smsc1".into()))]
    );
    assert_eq!(app.popup, None);

    press(&mut app, "f");
    assert_eq!(press(&mut app, "n"), []);
    assert_eq!(app.popup, None);
    assert_eq!(
        app.status.as_ref().unwrap().text,
        "cancelled: force-close smsc1"
    );

    press(&mut app, "b");
    assert_eq!(
        app.on_key(code(KeyCode::Enter)),
        [Intent::Run(Action::Bounce("smsc1".into()))]
    );
    // Release and clearing force-close undo things: no question asked.
    assert_eq!(
        press(&mut app, "r"),
        [Intent::Run(Action::Release("smsc1".into()))]
    );
    assert_eq!(
        press(&mut app, "F"),
        [Intent::Run(Action::ForcecloseClear("smsc1".into()))]
    );
}

#[test]
fn queue_move_picks_a_target_then_confirms() {
    let mut app = fixture::app();
    press(&mut app, "m");
    let Some(Popup::Pick(Pick {
        options: targets,
        purpose: Purpose::QueueMove { from },
        ..
    })) = &app.popup
    else {
        panic!("{:?}", app.popup)
    };
    assert_eq!(from, "smsc1");
    assert_eq!(
        targets,
        &["smsc2", "sim1", "ucp-out"],
        "outgoing, not itself"
    );
    press(&mut app, "jjjk");
    assert_eq!(app.on_key(code(KeyCode::Enter)), []);
    let want = Action::QueueMove {
        from: "smsc1".into(),
        to: "sim1".into(),
    };
    assert_eq!(app.popup, Some(Popup::Confirm(want.clone())));
    assert_eq!(press(&mut app, "y"), [Intent::Run(want)]);
}

#[test]
fn test_message_form() {
    let mut app = fixture::app();
    press(&mut app, "t");
    assert!(matches!(&app.popup, Some(Popup::Send(f)) if f.via.as_deref() == Some("smsc1")));
    for _ in 0.."46700000000".len() {
        app.on_key(code(KeyCode::Backspace));
    }
    press(&mut app, "4612");
    app.on_key(code(KeyCode::Tab));
    app.on_key(code(KeyCode::Tab));
    press(&mut app, "!");
    let intents = app.on_key(code(KeyCode::Enter));
    assert_eq!(
        intents,
        [Intent::Run(Action::Send {
            to: "4612".into(),
            from: "emgclient".into(),
            text: "test!".into(),
            via: Some("smsc1".into()),
        })]
    );
    // On an incoming connector the message is routed.
    press(&mut app, "g");
    press(&mut app, "t");
    assert!(matches!(&app.popup, Some(Popup::Send(f)) if f.via.is_none()));
    app.on_key(code(KeyCode::Esc));
    assert_eq!(app.popup, None);
}

#[test]
fn actions_need_a_selection_and_report_their_result() {
    let mut app = App::new("h:1", "admin");
    assert_eq!(press(&mut app, "h"), []);
    assert_eq!(app.status.as_ref().unwrap().text, "no connector selected");
    let mut app = fixture::app();
    app.on_update(Update::Done {
        action: Action::Hold("smsc1".into()),
        result: Ok("smsc1: done; hold on, force-close off".into()),
    });
    assert_eq!(app.status.as_ref().unwrap().level, Level::Ok);
    app.on_update(Update::Done {
        action: Action::Bounce("ucp-out".into()),
        result: Err("connector ucp-out is force-closed".into()),
    });
    let s = app.status.as_ref().unwrap();
    assert_eq!(s.level, Level::Error);
    assert_eq!(
        s.text,
        "bounce ucp-out failed: connector ucp-out is force-closed"
    );
}

#[test]
fn results_are_summarized_from_the_answer() {
    let flags =
        serde_json::json!({"connector":"sim1","hold":true,"forceclose":false,"persisted":false});
    assert_eq!(
        summarize(&Action::Hold("sim1".into()), &flags),
        "sim1: done; hold on, force-close off"
    );
    let moved = serde_json::json!({"from":"a","to":"b","moved":12});
    let mv = Action::QueueMove {
        from: "a".into(),
        to: "b".into(),
    };
    assert_eq!(summarize(&mv, &moved), "moved 12 messages from a to b");
}

#[test]
fn help_opens_and_any_key_closes_it() {
    let mut app = fixture::app();
    press(&mut app, "?");
    assert_eq!(app.popup, Some(Popup::Help));
    assert_eq!(press(&mut app, "q"), [], "q closes help, does not quit");
    assert_eq!(app.popup, None);
}

/// The help of the connectors view, exactly: every key of it, what it does, in order.
#[test]
fn the_connectors_help_lists_exactly_its_keys() {
    let help = Keymap::default().help(&View::Connectors, true);
    let keys: Vec<&str> = help.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "↑ k  ↓ j  PgUp  PgDn  Home g  End G",
            "Enter",
            "Esc",
            ":",
            "/",
            "Tab",
            "s  S",
            "h  r",
            "b",
            "f  F",
            "m",
            "C",
            "t",
            "Ctrl-R",
            "Ctrl-L",
            "space",
            "l",
            "p",
            "?",
            "q Ctrl-C"
        ]
    );
    let find = |k: &str| help.iter().find(|(key, _)| key == k).map(|(_, w)| *w);
    assert_eq!(find("h  r"), Some("hold the connector (asks) / release it"));
    assert_eq!(
        find("C"),
        Some("clear its queue: cancel every waiting message (asks)")
    );
    // A read-only operator is shown no key that changes anything.
    let readonly = Keymap::default().help(&View::Connectors, false);
    let keys: Vec<&str> = readonly.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "↑ k  ↓ j  PgUp  PgDn  Home g  End G",
            "Enter",
            "Esc",
            ":",
            "/",
            "Tab",
            "s  S",
            "Ctrl-L",
            "space",
            "l",
            "p",
            "?",
            "q Ctrl-C"
        ]
    );
}

#[test]
fn reconnect_after_a_restart_is_reported() {
    let mut app = fixture::app();
    assert_eq!(app.server.as_ref().unwrap().uptime_s, 3 * 3600 + 120 + 125);
    app.on_update(Update::Lost {
        reason: "emgd closed the connection".into(),
        attempt: 1,
        retry_in: Duration::from_millis(500),
    });
    assert_eq!(
        app.conn,
        ConnStatus::Lost {
            reason: "emgd closed the connection".into(),
            attempt: 1,
            retry_in_s: 1
        }
    );
    assert_eq!(app.status.as_ref().unwrap().level, Level::Error);
    app.on_update(Update::Connecting { attempt: 1 });
    assert_eq!(app.conn, ConnStatus::Connecting { attempt: 1 });
    let intents = app.on_update(Update::Connected {
        status: fixture::status(2),
    });
    assert_eq!(app.conn, ConnStatus::Connected);
    assert_eq!(app.restarts, 1);
    assert!(app
        .status
        .as_ref()
        .unwrap()
        .text
        .starts_with("emgd restarted"));
    assert_eq!(
        intents,
        [Intent::Detail("smsc1".into())],
        "detail fetched again"
    );
    app.tick(Duration::from_secs(10));
    assert_eq!(app.server.as_ref().unwrap().uptime_s, 12);
    // A dropped connection to an emgd that kept running is not a restart.
    app.on_update(Update::Connected {
        status: fixture::status(30),
    });
    assert_eq!(app.restarts, 1);
    assert_eq!(app.status.as_ref().unwrap().text, "reconnected to emgd");
}

#[test]
fn history_is_bounded() {
    let mut app = fixture::app();
    assert_eq!(app.history.connectors["smsc1"].len(), 120);
    for t in 0..(HISTORY_LEN as u64 + 50) {
        app.on_update(Update::Event(Event::Counters {
            total_queued: 0,
            connectors: fixture::connectors(t),
        }));
    }
    let s = &app.history.connectors["smsc1"];
    assert_eq!(s.sent.len(), HISTORY_LEN);
    assert_eq!(s.queued.len(), HISTORY_LEN);
    assert_eq!(app.history.total.len(), HISTORY_LEN);
    assert_eq!(
        *s.sent.back().unwrap(),
        (fixture::connectors(HISTORY_LEN as u64 + 49)[1].rate_sent * 10.0).round() as u64
    );
    // A connector removed by a reload is forgotten.
    app.on_update(Update::Event(Event::Counters {
        total_queued: 0,
        connectors: fixture::connectors(0)[..2].to_vec(),
    }));
    assert_eq!(app.history.connectors.len(), 2);
    assert_eq!(tail(&app.history.connectors["smsc1"].sent, 3).len(), 3);
}

#[test]
fn state_events_update_the_row() {
    let mut app = fixture::app();
    app.on_update(Update::Event(Event::State {
        connector: "smsc2".into(),
        states: vec!["BOUND".into()],
    }));
    let c = app.connectors.iter().find(|c| c.name == "smsc2").unwrap();
    assert_eq!(
        (c.bound, c.states.as_slice()),
        (1, &["BOUND".to_string()][..])
    );
}

#[test]
fn log_follows_the_selected_connector_pauses_scrolls_and_searches() {
    let mut app = fixture::app();
    let visible = |app: &App| {
        app.log
            .visible(app.table.selected.as_deref())
            .map(|l| l.line.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(visible(&app).len(), 6, "smsc1's lines only");
    press(&mut app, "l");
    assert_eq!(visible(&app).len(), 7, "every connector's");
    press(&mut app, "l");
    // Errors are remembered per connector.
    assert_eq!(app.errors["smsc1"].len(), 1);
    assert_eq!(app.errors["ucp-out"].len(), 1);

    press(&mut app, " ");
    assert!(app.log.paused);
    app.on_update(fixture::log("smsc1", "new one"));
    app.on_update(fixture::log("sim1", "other connector"));
    assert_eq!(app.log.scroll, 1, "the paused view stays put");
    press(&mut app, " ");
    assert_eq!(app.log.scroll, 0, "following again");

    app.on_key(code(KeyCode::Tab));
    assert_eq!(app.focus, Focus::Log);
    press(&mut app, "kkk");
    assert_eq!(app.log.scroll, 3);
    app.on_key(code(KeyCode::PageUp));
    assert_eq!(app.log.scroll, 6, "clamped to the lines there are");
    press(&mut app, "G");
    assert_eq!(app.log.scroll, 0);

    press(&mut app, "/LOGIN");
    app.on_key(code(KeyCode::Enter));
    assert_eq!(app.log.search, "LOGIN");
    assert_eq!(visible(&app).len(), 2);
    assert_eq!(app.focus, Focus::Log);
}

#[test]
fn log_buffer_is_bounded_and_pdu_switch_asks_for_a_new_tail() {
    let mut app = fixture::app();
    for i in 0..MAX_LOG_LINES + 10 {
        app.on_update(fixture::log("smsc1", &format!("line {i}")));
    }
    assert_eq!(app.log.lines.len(), MAX_LOG_LINES);
    assert_eq!(press(&mut app, "p"), [Intent::Tail(LogKind::Pdu)]);
    assert!(app.log.lines.is_empty());
    app.on_update(fixture::log("smsc1", "a connector log line"));
    assert!(app.log.lines.is_empty(), "not shown in the PDU log");
    assert_eq!(app.errors["smsc1"].len(), 1, "but still checked for errors");
    app.on_update(Update::Event(Event::Lost { count: 7 }));
    assert_eq!(app.log.lost, 7);
    assert_eq!(press(&mut app, "p"), [Intent::Tail(LogKind::Connector)]);
}

#[test]
fn sessions_of_the_selection_with_ages_refreshed_on_state_changes() {
    let mut app = fixture::app();
    let listed: Vec<_> = app
        .sessions()
        .iter()
        .map(|s| (s.instance, s.peer.as_deref(), app.session_age(s)))
        .collect();
    assert_eq!(
        listed,
        vec![
            (0, Some("10.1.2.3:2775"), "3m12s".to_string()),
            (1, Some("10.1.2.3:2775"), "2m11s".to_string()),
        ]
    );
    // The clock moves the ages on.
    app.now_us += 3600 * 1_000_000;
    assert_eq!(app.session_age(&app.sessions()[0]), "1h03m");
    // A state change of the selected connector asks for its sessions again; others don't.
    let state = |c: &str| {
        Update::Event(Event::State {
            connector: c.into(),
            states: vec!["BOUND".into(), "IDLE".into()],
        })
    };
    assert_eq!(
        app.on_update(state("smsc1")),
        vec![Intent::Detail("smsc1".into())]
    );
    assert_eq!(app.on_update(state("smsc2")), vec![]);
    // No detail yet, or no clock yet: nothing to list, no age to tell.
    app.table.selected = Some("sim1".into());
    assert!(app.sessions().is_empty());
    app.now_us = 0;
    assert_eq!(
        app.session_age(&fixture::detail(app.connectors[1].clone()).sessions[0]),
        "-"
    );
}

#[test]
fn ages_read_at_a_glance() {
    assert_eq!(
        [0, 45, 192, 3600 + 5 * 60, 3 * 86400 + 4 * 3600]
            .map(age)
            .to_vec(),
        ["0s", "45s", "3m12s", "1h05m", "3d04h"]
    );
}
