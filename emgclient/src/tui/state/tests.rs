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

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn typed(app: &mut App, text: &str) -> Vec<Intent> {
    let mut out = Vec::new();
    for c in text.chars() {
        out.extend(app.on_key(key(c)));
    }
    out
}

fn page(rows: Vec<common::mgp::MessageRow>, more: bool) -> Fetched {
    Fetched::Messages(common::mgp::MessageList {
        messages: rows,
        more,
        stopped: None,
    })
}

#[test]
fn command_mode_completes_and_opens_views() {
    let mut app = fixture::app();
    assert_eq!(press(&mut app, ":"), []);
    assert_eq!(app.command, Some(CommandLine::default()));
    typed(&mut app, "qu");
    app.on_key(code(KeyCode::Tab));
    assert_eq!(
        app.command.as_ref().unwrap().candidates,
        ["queues", "queue", "quit"]
    );
    typed(&mut app, "e");
    app.on_key(code(KeyCode::Tab));
    assert_eq!(
        app.command.as_ref().unwrap().text,
        "queue",
        "queue and queues share it"
    );
    assert_eq!(
        app.command.as_ref().unwrap().candidates,
        ["queues", "queue"]
    );
    typed(&mut app, "s");
    app.on_key(code(KeyCode::Tab));
    assert_eq!(app.command.as_ref().unwrap().text, "queues ");
    assert_eq!(app.on_key(code(KeyCode::Enter)), []);
    assert_eq!(app.stack, [View::Queues]);
    assert_eq!(app.command, None);

    // `:queue sm<Tab>` completes connector names; Enter opens the queue and fetches it.
    typed(&mut app, ":queue smsc");
    app.on_key(code(KeyCode::Tab));
    assert_eq!(app.command.as_ref().unwrap().candidates, ["smsc1", "smsc2"]);
    typed(&mut app, "2");
    let intents = app.on_key(code(KeyCode::Enter));
    assert_eq!(
        intents,
        [Intent::Fetch(Fetch::Queue {
            name: "smsc2".into(),
            after: None
        })]
    );
    assert_eq!(app.stack, [View::Queues, View::Messages]);

    // `:messages dest=4670 since=10m` searches; an unknown command says what exists.
    typed(&mut app, ":m dest=4670 since=10m");
    let intents = app.on_key(code(KeyCode::Enter));
    let [Intent::Fetch(Fetch::Search {
        query,
        before: None,
    })] = intents.as_slice()
    else {
        panic!("{intents:?}")
    };
    assert_eq!(query.dest.as_deref(), Some("4670"));
    assert_eq!(query.since_us, Some(app.now_us - 600_000_000));
    assert_eq!(app.stack, [View::Messages], "a command starts a new trail");
    typed(&mut app, ":frobnicate");
    app.on_key(code(KeyCode::Enter));
    assert!(app
        .status
        .as_ref()
        .unwrap()
        .text
        .starts_with("no command `frobnicate` (commands: connectors, connector, queues"));
    typed(&mut app, ":m since=yesterday");
    app.on_key(code(KeyCode::Enter));
    assert_eq!(
        app.status.as_ref().unwrap().text,
        "`yesterday` is not a time: 10m, 2h, 1d (ago) or 2026-05-04T10:00"
    );
    // Esc leaves the command line; `:q` quits.
    typed(&mut app, ":con");
    app.on_key(code(KeyCode::Esc));
    assert_eq!(app.command, None);
    typed(&mut app, ":q");
    assert_eq!(app.on_key(code(KeyCode::Enter)), [Intent::Quit]);
}

#[test]
fn enter_drills_down_and_esc_comes_back() {
    let mut app = fixture::app();
    assert_eq!(
        app.on_key(code(KeyCode::Enter)),
        [Intent::Detail("smsc1".into())]
    );
    assert_eq!(
        app.stack,
        [View::Connectors, View::Connector("smsc1".into())]
    );
    assert_eq!(
        app.on_key(code(KeyCode::Enter)),
        [Intent::Fetch(Fetch::Queue {
            name: "smsc1".into(),
            after: None
        })]
    );
    assert_eq!(app.view(), &View::Messages);
    let rows = fixture::message_rows();
    app.on_update(Update::Fetched {
        fetch: Fetch::Queue {
            name: "smsc1".into(),
            after: None,
        },
        result: Ok(page(rows.clone(), false)),
    });
    press(&mut app, "jj");
    assert_eq!(
        app.on_key(code(KeyCode::Enter)),
        [Intent::Fetch(Fetch::History(rows[2].id))]
    );
    assert_eq!(
        app.stack,
        [
            View::Connectors,
            View::Connector("smsc1".into()),
            View::Messages,
            View::Message(rows[2].id)
        ]
    );
    // Back: the list is fetched again (it may have changed), then the connector, then the top.
    assert_eq!(
        app.on_key(code(KeyCode::Esc)),
        [Intent::Fetch(Fetch::Queue {
            name: "smsc1".into(),
            after: None
        })]
    );
    assert_eq!(
        app.on_key(code(KeyCode::Esc)),
        [Intent::Detail("smsc1".into())]
    );
    assert_eq!(app.on_key(code(KeyCode::Esc)), []);
    assert_eq!(app.stack, [View::Connectors]);
    assert_eq!(app.on_key(code(KeyCode::Esc)), [], "the top stays");
}

#[test]
fn a_page_at_a_time_and_stale_answers_are_dropped() {
    let mut app = fixture::messages_app();
    let rows = fixture::message_rows();
    // The cursor at the last row: Down asks for the next page, after the last id.
    press(&mut app, "G");
    let intents = press(&mut app, "j");
    assert_eq!(
        intents,
        [Intent::Fetch(Fetch::Queue {
            name: "smsc2".into(),
            after: Some(rows.last().unwrap().id)
        })]
    );
    assert_eq!(press(&mut app, "n"), [], "one page at a time");
    let mut more = rows.clone();
    for r in &mut more {
        r.id += 100;
    }
    app.on_update(Update::Fetched {
        fetch: Fetch::Queue {
            name: "smsc2".into(),
            after: Some(rows.last().unwrap().id),
        },
        result: Ok(page(more, false)),
    });
    let m = app.messages.as_ref().unwrap();
    assert_eq!(m.rows.len(), 24);
    assert!(!m.more && !m.loading);
    assert_eq!(press(&mut app, "n"), [], "nothing more to load");
    // An answer for another queue (a view left since) changes nothing.
    app.on_update(Update::Fetched {
        fetch: Fetch::Queue {
            name: "sim1".into(),
            after: None,
        },
        result: Ok(page(Vec::new(), false)),
    });
    assert_eq!(app.messages.as_ref().unwrap().rows.len(), 24);
}

#[test]
fn marked_messages_are_cancelled_together_with_a_progress_bar() {
    let mut app = fixture::messages_app();
    // Two marked already (402, 404); space marks the current row (403) and moves on.
    press(&mut app, " ");
    assert_eq!(
        app.messages
            .as_ref()
            .unwrap()
            .marked
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [1_000_402, 1_000_403, 1_000_404]
    );
    assert_eq!(press(&mut app, "c"), []);
    let want = Action::Bulk {
        kind: BulkKind::Cancel,
        ids: vec![1_000_402, 1_000_403, 1_000_404],
    };
    assert_eq!(app.popup, Some(Popup::Confirm(want.clone())));
    assert_eq!(press(&mut app, "y"), [Intent::Run(want.clone())]);
    assert!(matches!(
        app.popup,
        Some(Popup::Progress {
            total: 3,
            done: 0,
            ..
        })
    ));
    app.on_update(Update::Progress {
        done: 2,
        failed: 1,
        total: 3,
    });
    assert!(matches!(
        app.popup,
        Some(Popup::Progress {
            done: 2,
            failed: 1,
            ..
        })
    ));
    let intents = app.on_update(Update::Done {
        action: want,
        result: Err("1 of 3 done; 2 refused".into()),
    });
    assert_eq!(app.popup, None);
    assert!(app.messages.as_ref().unwrap().marked.is_empty());
    assert_eq!(
        intents,
        [Intent::Fetch(Fetch::Queue {
            name: "smsc2".into(),
            after: None
        })],
        "the list is fetched again"
    );
    // `a` marks every row shown, again unmarks them.
    press(&mut app, "a");
    assert_eq!(app.messages.as_ref().unwrap().marked.len(), 12);
    press(&mut app, "a");
    assert!(app.messages.as_ref().unwrap().marked.is_empty());
}

#[test]
fn one_message_moves_resends_and_gets_a_receipt() {
    let mut app = fixture::messages_app();
    app.messages.as_mut().unwrap().marked.clear();
    press(&mut app, "m");
    let Some(Popup::Pick(p)) = &app.popup else {
        panic!("{:?}", app.popup)
    };
    assert_eq!(
        p.options,
        ["smsc1", "sim1", "ucp-out"],
        "not its own connector"
    );
    press(&mut app, "j");
    app.on_key(code(KeyCode::Enter));
    let mv = Action::MsgMove {
        id: 1_000_403,
        to: "sim1".into(),
    };
    assert_eq!(app.popup, Some(Popup::Confirm(mv.clone())));
    assert_eq!(press(&mut app, "y"), [Intent::Run(mv)]);
    press(&mut app, "R");
    assert_eq!(
        app.popup,
        Some(Popup::Confirm(Action::MsgResend(1_000_403)))
    );
    app.on_key(code(KeyCode::Esc));
    press(&mut app, "d");
    let Some(Popup::Pick(p)) = &app.popup else {
        panic!("{:?}", app.popup)
    };
    assert_eq!(p.options[0], "ENROUTE");
    press(&mut app, "j");
    app.on_key(code(KeyCode::Enter));
    assert_eq!(
        app.popup,
        Some(Popup::Confirm(Action::DlrInject {
            id: 1_000_403,
            status: "DELIVRD".into()
        }))
    );
}

#[test]
fn a_read_only_operator_is_refused_before_anything_is_asked() {
    let mut app = fixture::messages_app();
    app.role = common::mgp::Role::Readonly;
    for k in ["c", "m", "R", "d"] {
        assert_eq!(typed(&mut app, k), [], "{k}");
        assert_eq!(app.popup, None, "{k}");
    }
    assert_eq!(
        app.status.as_ref().unwrap().text,
        "operator admin is read-only: that key changes nothing here"
    );
    let mut app = fixture::app();
    app.role = common::mgp::Role::Readonly;
    for k in ["h", "r", "b", "f", "F", "m", "C", "t"] {
        assert_eq!(typed(&mut app, k), [], "{k}");
        assert_eq!(app.popup, None, "{k}");
    }
    assert_eq!(app.on_key(ctrl('r')), []);
    assert_eq!(app.popup, None);
    // Looking is allowed.
    assert_eq!(press(&mut app, "j"), [Intent::Detail("smsc2".into())]);
}

#[test]
fn keys_are_configurable_and_conflicts_refused() {
    let cfg = |pairs: &[(&str, &[&str])]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect::<std::collections::BTreeMap<String, Vec<String>>>()
    };
    let map = Keymap::with(&cfg(&[("hold", &["H"]), ("cancel", &["x", "delete"])])).unwrap();
    let mut app = fixture::app();
    app.keymap = map;
    assert_eq!(press(&mut app, "h"), [], "h no longer holds");
    assert_eq!(app.popup, None);
    press(&mut app, "H");
    assert_eq!(
        app.popup,
        Some(Popup::Confirm(Action::Hold("smsc1".into())))
    );
    let help = app.keymap.help(&View::Messages, true);
    assert!(help.contains(&("x delete".to_string(), "cancel the message(s) (asks)")));

    assert_eq!(
        Keymap::with(&cfg(&[("hold", &["b"])])).unwrap_err(),
        "[keys] `b` is bound to both hold and bounce in the connectors view"
    );
    assert_eq!(
        Keymap::with(&cfg(&[("hodl", &["x"])]))
            .unwrap_err()
            .split(" (actions:")
            .next(),
        Some("[keys] hodl: no such action")
    );
    assert!(Keymap::with(&cfg(&[("hold", &["ctrl-"])]))
        .unwrap_err()
        .starts_with("[keys] hold: `ctrl-` is not a key"));
    // The same key in views that never meet is fine: space marks and pauses.
    assert!(Keymap::with(&cfg(&[("mark", &["p"])])).is_ok());
}

#[test]
fn a_filter_in_every_list_view() {
    let mut app = fixture::messages_app();
    typed(&mut app, "/4507");
    app.on_key(code(KeyCode::Enter));
    let m = app.messages.as_ref().unwrap();
    assert_eq!(m.visible().len(), 1);
    assert_eq!(m.current().unwrap().dest, "46701234507");
    let mut app = fixture::app();
    fixture::lists(&mut app);
    app.stack = vec![View::Routes];
    typed(&mut app, "/sim");
    assert_eq!(app.route_rows().len(), 1);
    app.on_key(code(KeyCode::Esc));
    assert_eq!(app.route_rows().len(), 4, "Esc clears it");
    app.stack = vec![View::Users];
    typed(&mut app, "/ltd");
    app.on_key(code(KeyCode::Enter));
    assert_eq!(app.user_rows().len(), 1);
    let intents = app.on_key(code(KeyCode::Enter));
    let [Intent::Fetch(Fetch::Search { query, .. })] = intents.as_slice() else {
        panic!("{intents:?}")
    };
    assert_eq!(
        query.account.as_deref(),
        Some("demo-ltd"),
        "a user's messages"
    );
    app.stack = vec![View::Queues];
    typed(&mut app, "/sim");
    assert_eq!(app.queue_rows().len(), 1);
}

#[test]
fn the_logs_view_searches_highlights_and_saves() {
    let mut app = fixture::app();
    typed(&mut app, ":logs");
    app.on_key(code(KeyCode::Enter));
    assert_eq!(app.stack, [View::Logs]);
    assert!(app.log.all);
    typed(&mut app, "/LOGIN");
    app.on_key(code(KeyCode::Enter));
    assert_eq!(app.log.visible(None).count(), 2);
    press(&mut app, "H");
    assert!(app.log.highlight_only);
    assert_eq!(
        app.log.visible(None).count(),
        7,
        "every line, matches highlighted"
    );
    let intents = press(&mut app, "w");
    let [Intent::Save { path, text }] = intents.as_slice() else {
        panic!("{intents:?}")
    };
    assert!(
        path.starts_with("emgclient-log-") && path.ends_with(".txt"),
        "{path}"
    );
    assert_eq!(text.lines().count(), 7);
    press(&mut app, " ");
    assert!(app.log.paused);
}

#[test]
fn the_shown_connectors_counts_are_fetched_again_every_ten_seconds() {
    let mut app = fixture::app();
    assert_eq!(app.every_second(9), []);
    assert_eq!(app.every_second(10), [Intent::Detail("smsc1".into())]);
    app.stack = vec![View::Queues];
    assert_eq!(app.every_second(20), [], "not shown: not fetched");
}
