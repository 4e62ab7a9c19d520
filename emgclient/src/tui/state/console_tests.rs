//! The console's keys beyond the connectors view: command mode, drilling down and back,
//! messages (pages, marks, actions), the read-only role, the keymap, filters, the logs view.

use super::*;
use crate::tui::fixture;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn press(app: &mut App, keys: &str) -> Vec<Intent> {
    keys.chars().flat_map(|c| app.on_key(key(c))).collect()
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
