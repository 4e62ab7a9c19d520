//! The engine on its own: hooks, verdicts, changes undone on failure, budgets, state.

use super::*;
use common::message::{Address, Origin};
use std::path::Path;

fn config(dir: &Path, script: &str, extra: &str) -> config::Config {
    std::fs::write(dir.join("p.lua"), script).unwrap();
    let text = format!(
        "[plugin.p]\nscript = \"p.lua\"\nglobal = true\n{extra}\n\
         [connector.in]\ntype = \"incoming\"\nprotocol = \"smpp\"\naddress = \"127.0.0.1:0\"\n"
    );
    config::parse_str(&text, &dir.join("emg.toml")).expect("valid config")
}

fn plugins(script: &str, extra: &str) -> Plugins {
    let dir = tempfile::tempdir().unwrap();
    Plugins::load(&config(dir.path(), script, extra), None).expect("compiles")
}

/// `run` on an owned message: the message as the hooks left it, with what they decided.
struct Ran {
    message: Message,
    verdict: Verdict,
    faults: Vec<Fault>,
}

fn run(p: &Plugins, hook: Hook, mut message: Message) -> Ran {
    let o = p.run(hook, &["in"], &mut message);
    Ran {
        message,
        verdict: o.verdict,
        faults: o.faults,
    }
}

fn msg(dest: &str, text: &str) -> Message {
    Message {
        source: Address::new("4670000001"),
        dest: Address::new(dest),
        body: text.as_bytes().to_vec(),
        origin: Origin {
            connector: "in".into(),
            user: Some("alice".into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[test]
fn reject_with_reason_and_kind() {
    let p = plugins(
        r#"function before_receive(msg)
             if msg.message:find("casino") then return false, "no gambling", "destination" end
           end"#,
        "",
    );
    let o = run(&p, Hook::BeforeReceive, msg("46701", "hello"));
    assert_eq!(o.verdict, Verdict::Go);
    let o = run(&p, Hook::BeforeReceive, msg("46701", "win at the casino"));
    assert_eq!(
        o.verdict,
        Verdict::Refused(Refusal {
            plugin: "p".into(),
            reason: "no gambling".into(),
            kind: RefusalKind::Destination
        })
    );
}

#[test]
fn rewrite_price_and_state_across_calls() {
    let p = plugins(
        r#"local n = 0
           function before_receive(msg)
             n = n + 1
             msg.destaddr = "+" .. msg.destaddr
             msg.message = msg.message .. " #" .. n
             msg.charge = options.price
             msg.cost = 0.01
           end"#,
        "options = { price = \"0.05\" }",
    );
    let o = run(&p, Hook::BeforeReceive, msg("46701", "hi"));
    let o2 = run(&p, Hook::BeforeReceive, o.message.clone());
    assert!(o.faults.is_empty(), "{:?}", o.faults);
    assert_eq!(o.message.dest.addr, "+46701");
    assert_eq!(o.message.body, b"hi #1");
    assert_eq!(o.message.price.unwrap().to_string(), "0.05");
    assert_eq!(o.message.cost.unwrap().to_string(), "0.01");
    assert_eq!(o2.message.body, b"hi #1 #2");
}

#[test]
fn route_names_a_connector() {
    let p = plugins(
        r#"function route(msg) if msg.destaddr:sub(1, 2) == "44" then return "uk" end end"#,
        "on_error = \"closed\"",
    );
    assert_eq!(run(&p, Hook::Route, msg("4670", "x")).verdict, Verdict::Go);
    assert_eq!(
        run(&p, Hook::Route, msg("4420", "x")).verdict,
        Verdict::Route {
            plugin: "p".into(),
            target: "uk".into(),
            on_error: FailMode::Closed
        }
    );
}

#[test]
fn a_failing_hook_is_undone_and_fails_open_or_closed() {
    let script = r#"function before_receive(msg)
                      msg.destaddr = "changed"
                      msg.nosuchoption = 1
                    end"#;
    let open = plugins(script, "");
    let o = run(&open, Hook::BeforeReceive, msg("46701", "x"));
    assert_eq!(o.verdict, Verdict::Go);
    assert_eq!(o.message.dest.addr, "46701", "changes undone");
    assert_eq!(o.faults.len(), 1);
    let err = o.faults[0].error.to_string();
    assert!(
        err.contains("p.lua:3:") && err.contains("unknown message option `nosuchoption`"),
        "{err}"
    );
    let closed = plugins(script, "on_error = \"closed\"");
    let o = run(&closed, Hook::BeforeReceive, msg("46701", "x"));
    match o.verdict {
        Verdict::Refused(r) => assert_eq!(r.kind, RefusalKind::Temporary),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_endless_loop_is_cut_at_its_budget_and_the_state_lives_on() {
    let p = plugins(
        r#"calls = 0
           function before_receive(msg)
             calls = calls + 1
             if msg.destaddr == "loop" then while true do end end
             msg.priority = calls
           end"#,
        "budget_ms = 20",
    );
    let started = std::time::Instant::now();
    let o = run(&p, Hook::BeforeReceive, msg("loop", "x"));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    match &o.faults[..] {
        [Fault {
            error: ScriptError::Budget { at, budget_ms: 20 },
            ..
        }] => assert!(at.ends_with("p.lua:4"), "{at}"),
        other => panic!("{other:?}"),
    }
    let o = run(&p, Hook::BeforeReceive, msg("46701", "x"));
    assert!(o.faults.is_empty(), "{:?}", o.faults);
    assert_eq!(o.message.priority, 2, "the state survived the cut");
}

#[test]
fn syntax_errors_name_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "function before_receive(msg)\n  if msg.destaddr = \"x\" then end\nend\n",
        "",
    );
    let err = Plugins::load(&cfg, None).err().expect("refused");
    let d = &err[0];
    assert_eq!((d.line, d.col), (2, 19), "{d}");
    assert_eq!(d.keyword, "plugin.p");
    assert_eq!(d.message, "syntax error: 'then' expected near '='");
}

#[test]
fn the_sandbox_has_no_io() {
    let p = plugins(
        r#"function before_receive(msg) return io == nil and os.execute == nil and load == nil end"#,
        "",
    );
    let o = run(&p, Hook::BeforeReceive, msg("1", "x"));
    assert_eq!(o.verdict, Verdict::Go, "{:?}", o.faults);
    assert!(o.faults.is_empty());
}

#[test]
fn an_unchanged_plugin_keeps_its_state_over_a_reload() {
    let dir = tempfile::tempdir().unwrap();
    let script = "n = 0\nfunction before_receive(msg) n = n + 1; msg.priority = n end\n";
    let cfg = config(dir.path(), script, "");
    let first = Plugins::load(&cfg, None).unwrap();
    run(&first, Hook::BeforeReceive, msg("1", "x"));
    let again = Plugins::load(&cfg, Some(&first)).unwrap();
    let o = run(&again, Hook::BeforeReceive, msg("1", "x"));
    assert_eq!(o.message.priority, 2);
    let changed = config(dir.path(), &format!("{script}-- changed\n"), "");
    let fresh = Plugins::load(&changed, Some(&again)).unwrap();
    let o = run(&fresh, Hook::BeforeReceive, msg("1", "x"));
    assert_eq!(o.message.priority, 1);
}

/// What one hook call costs in-process (not a check: run it by hand, in release, to see):
/// `cargo test --release -p emgd --lib plugin::tests::cost_of_a_trivial_hook -- --ignored --nocapture`
#[test]
#[ignore]
fn cost_of_a_trivial_hook() {
    let p = plugins(
        r#"function before_receive(msg) if msg.destaddr == "" then return false, "none" end end
           function before_send(msg) local _ = msg.dcs end"#,
        "",
    );
    let n: usize = std::env::var("COST_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let mut m = msg("4670123456", "hello");
    let started = std::time::Instant::now();
    for _ in 0..n {
        p.run(Hook::BeforeReceive, &["in"], &mut m);
    }
    let receive = started.elapsed();
    let started = std::time::Instant::now();
    for _ in 0..n {
        p.run(Hook::BeforeSend, &["in"], &mut m);
    }
    let send = started.elapsed();
    let started = std::time::Instant::now();
    for _ in 0..n {
        p.run(Hook::OnDlr, &["in"], &mut m);
    }
    let undefined = started.elapsed();
    let ns = |d: std::time::Duration| d.as_nanos() / n as u128;
    println!(
        "before_receive {} ns, before_send {} ns, an undefined hook {} ns per call",
        ns(receive),
        ns(send),
        ns(undefined)
    );
}

#[test]
fn a_script_past_its_memory_limit_fails_the_call_not_emgd() {
    let p = plugins(
        r#"function before_receive(msg)
             if msg.destaddr == "big" then local s = string.rep("x", 64 * 1024 * 1024) end
             msg.priority = 1
           end"#,
        "memory_kb = 1024",
    );
    let o = run(&p, Hook::BeforeReceive, msg("big", "x"));
    match &o.faults[..] {
        [Fault {
            error: ScriptError::Runtime(e),
            ..
        }] => assert!(e.contains("memory_kb"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(o.verdict, Verdict::Go, "fails open");
    let o = run(&p, Hook::BeforeReceive, msg("small", "x"));
    assert!(o.faults.is_empty(), "{:?}", o.faults);
    assert_eq!(o.message.priority, 1);
}
