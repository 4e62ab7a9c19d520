//! Every connector keyword against every connector kind emgd runs (smpp, http, ucp, cimd2 and
//! smtp in and out, gsm, sim, mgp in, ebe out), through `emgd --check-config`: where a keyword applies the file is valid; where it
//! does not, it is refused with exactly the diagnostic in the table, at the keyword's place.
//! What each keyword then does where it applies is tested end to end elsewhere:
//! incoming_sessions.rs (instances, bind_timeout, keepalive, idletimeout, users), connector_
//! control.rs (mode, bounce, force-close), http_push.rs (mo_url, the OUT pipeline),
//! http_peer.rs and smpp_out_peer.rs (the HTTP and SMPP keywords), limits_and_routing.rs
//! (throughput, maxqueuesize).

mod support;

use std::process::Command;
use support::EMGD;

/// The connector kinds, as the lines after `[connector.c]`: type, protocol, address (line 4;
/// a comment for sim, which has none). The keyword under test is line 6.
const KINDS: &[(&str, &str)] = &[
    (
        "smpp in",
        "type = \"incoming\"\nprotocol = \"smpp\"\naddress = \"127.0.0.1:2775\"",
    ),
    (
        "smpp out",
        "type = \"outgoing\"\nprotocol = \"smpp\"\naddress = \"127.0.0.1:2775\"",
    ),
    (
        "http in",
        "type = \"incoming\"\nprotocol = \"http\"\naddress = \"127.0.0.1:8080\"",
    ),
    (
        "http out",
        "type = \"outgoing\"\nprotocol = \"http\"\naddress = \"http://127.0.0.1:9000/send\"",
    ),
    (
        "sim",
        "type = \"outgoing\"\nprotocol = \"sim\"\n# no address",
    ),
    (
        "ucp in",
        "type = \"incoming\"\nprotocol = \"ucp\"\naddress = \"127.0.0.1:5000\"",
    ),
    (
        "ucp out",
        "type = \"outgoing\"\nprotocol = \"ucp\"\naddress = \"127.0.0.1:5000\"",
    ),
    (
        "cimd2 in",
        "type = \"incoming\"\nprotocol = \"cimd2\"\naddress = \"127.0.0.1:9971\"",
    ),
    (
        "cimd2 out",
        "type = \"outgoing\"\nprotocol = \"cimd2\"\naddress = \"127.0.0.1:9971\"",
    ),
    (
        "smtp in",
        "type = \"incoming\"\nprotocol = \"smtp\"\naddress = \"127.0.0.1:2525\"",
    ),
    (
        "smtp out",
        "type = \"outgoing\"\nprotocol = \"smtp\"\naddress = \"127.0.0.1:25\"",
    ),
    (
        "gsm",
        "type = \"outgoing\"\nprotocol = \"gsm\"\naddress = \"/dev/ttyUSB0\"",
    ),
    (
        "mgp in",
        "type = \"incoming\"\nprotocol = \"mgp\"\naddress = \"127.0.0.1:8100\"",
    ),
    (
        "ebe out",
        "type = \"outgoing\"\nprotocol = \"ebe\"\naddress = \"/bin/true\"",
    ),
];

const STATIC_IN: &str =
    "only meaningful for outgoing connectors (an incoming one waits for its clients)";
const NO_TIMERS: &str = "`{p}` connectors have no session of their own to time; only `smpp`, `ucp`, `cimd2` and `mgp` connectors do";
const STATIC_OUT: &str = "an outgoing `{p}` connector keeps no session to connect at start; it sends each message by itself";
const WHOLE: &str = "an outgoing `{p}` connector sends each message whole; only `smpp`, `ucp` and `cimd2` connectors split long messages";
const HTTP_IN_WINDOW: &str = "an incoming `http` connector answers each request on its own; use `dlr_callback_window` for its callbacks";
const SMTP_IN_WINDOW: &str = "an incoming `smtp` connector answers each mail of a session in turn";
const SMTP_NO_RECEIPTS: &str = "an outgoing `smtp` connector gets no delivery receipts (a mail relay sends none), so no id to match";
const GSM_STATIC: &str =
    "a `gsm` connector opens its modem at start and keeps it open; there is nothing to connect later";
const GSM_NO_CREDS: &str =
    "a `gsm` connector talks to its modem and logs in nowhere (the SIM's PIN is `gsm_pin`)";
const EBE_NO_CREDS: &str = "an `ebe` connector runs a program and logs in nowhere";
const NEXT_HOP_DLR: &str =
    "only meaningful for outgoing `ebe` and `http` connectors, whose next hop may send no receipts";
const EBE_ONLY: &str = "only meaningful for `ebe` connectors (the program's time limit)";
const EBE_ARGS: &str = "only meaningful for `ebe` connectors (the program's arguments)";
const GSM_WINDOW: &str = "a `gsm` connector sends one message at a time through its modem";
/// Refused by the gsm connector's own check, at the table's header rather than the keyword.
const GSM_ONE: &str = "@2:1: connector.c.instances: a `gsm` connector has one instance (one modem on one tty): set `instances = 1`";
const LOGIN_IN: &str = "only meaningful for incoming connectors (clients log in to them)";
const SIM_NO_LOGIN: &str = "a `sim` connector runs inside emgd; no client logs in to it";
const LOGIN_OUT: &str =
    "only meaningful for outgoing connectors; clients of an incoming one log in as a [user.NAME]";
const SIM_NO_CREDS: &str = "a `sim` connector runs inside emgd and logs in nowhere";
const ACCESS: &str = "only meaningful where clients connect: incoming connectors, and outgoing `http` ones with `dlr_address`";
const OUT_ONLY: &str = "only meaningful for outgoing connectors";
const SIM_ONLY: &str = "only meaningful for protocol `sim`, not";
const SMPP_OUT: &str = "only meaningful for outgoing `smpp` connectors";
const HTTP_IN: &str = "only meaningful for incoming `http` connectors";
const HTTP_OUT: &str = "only meaningful for outgoing `http` connectors";

/// A connector kind of [`KINDS`], as the rows decide on it.
struct Kind {
    incoming: bool,
    protocol: &'static str,
}

impl Kind {
    fn of(head: &'static str) -> Kind {
        let protocol = head
            .split("protocol = \"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap();
        Kind {
            incoming: head.starts_with("type = \"incoming\""),
            protocol,
        }
    }

    fn is(&self, protocol: &str) -> bool {
        self.protocol == protocol
    }

    /// A protocol with sessions of its own (windowed request/response).
    fn windowed(&self) -> bool {
        matches!(self.protocol, "smpp" | "ucp" | "cimd2" | "mgp")
    }
}

/// Where a keyword applies: `None`, or the message that refuses it on `kind`. `{p}` in a
/// message is the kind's protocol; a message starting with `@` is the whole expected line,
/// for a check that reports elsewhere than at the keyword.
type Applies = fn(&Kind) -> Option<&'static str>;

fn everywhere(_: &Kind) -> Option<&'static str> {
    None
}

/// Refused with `msg` except on kinds where `applies` holds.
fn only(applies: bool, msg: &'static str) -> Option<&'static str> {
    (!applies).then_some(msg)
}

fn timers(k: &Kind) -> Option<&'static str> {
    only(k.windowed(), NO_TIMERS)
}

fn logging_in(k: &Kind) -> Option<&'static str> {
    if k.is("sim") {
        return Some(SIM_NO_LOGIN);
    }
    only(k.incoming, LOGIN_IN)
}

fn credentials(k: &Kind) -> Option<&'static str> {
    match k.protocol {
        "sim" => Some(SIM_NO_CREDS),
        "gsm" => Some(GSM_NO_CREDS),
        "ebe" => Some(EBE_NO_CREDS),
        _ => only(!k.incoming, LOGIN_OUT),
    }
}

fn http_in(k: &Kind) -> Option<&'static str> {
    only(k.incoming && k.is("http"), HTTP_IN)
}

fn r(line: &'static str, applies: Applies) -> (&'static str, Applies) {
    (line, applies)
}

/// A keyword line, and where it applies.
fn rows() -> Vec<(&'static str, Applies)> {
    vec![
        r("instances = 2", |k| only(!k.is("gsm"), GSM_ONE)),
        r("mode = \"transmit\"", everywhere),
        r("throughput = 10", everywhere),
        r("maxqueuesize = 100", everywhere),
        r("ignoremaxtotalqueuesize = true", everywhere),
        r("route = \"sink\"", everywhere),
        r("replaceprefix = \"0:46\"", everywhere),
        r("static = true", |k| match (k.incoming, k.protocol) {
            (true, _) => Some(STATIC_IN),
            (false, "gsm") => Some(GSM_STATIC),
            _ => only(k.windowed(), STATIC_OUT),
        }),
        r("idletimeout = 30", timers),
        r("keepalive = 30", timers),
        r("bind_timeout = 5", logging_in),
        r("users = [\"demo\"]", logging_in),
        r("max_connections = 100", logging_in),
        r("max_connections_per_ip = 10", logging_in),
        r("max_login_failures = 5", logging_in),
        r("login_block = 30", logging_in),
        r("username = \"me\"", credentials),
        r("password = \"pw\"", credentials),
        r("access = [\"127.0.0.1\"]", |k| {
            only(k.incoming || k.is("http"), ACCESS)
        }),
        r("windowsize = 5", |k| match (k.incoming, k.protocol) {
            (true, "http") => Some(HTTP_IN_WINDOW),
            (true, "smtp") => Some(SMTP_IN_WINDOW),
            (_, "gsm") => Some(GSM_WINDOW),
            _ => None,
        }),
        r("dlr_id_format = \"hex\"", |k| {
            match (k.incoming, k.protocol) {
                (true, _) => Some(OUT_ONLY),
                (false, "smtp") => Some(SMTP_NO_RECEIPTS),
                _ => None,
            }
        }),
        r("split = \"udh16\"", |k| {
            if k.incoming {
                Some(OUT_ONLY)
            } else {
                only(k.windowed(), WHOLE)
            }
        }),
        r("dlr_delay_ms = 5", |k| only(k.is("sim"), SIM_ONLY)),
        r("bindmode = \"receiver\"", |k| {
            only(!k.incoming && k.is("smpp"), SMPP_OUT)
        }),
        r("dlr_callback_window = 5", http_in),
        r("mo_url = \"http://app/mo\"", http_in),
        r("http_header_timeout = 5", http_in),
        r("http_max_header_size = 32768", http_in),
        r("http_max_headers = 50", http_in),
        r("http_max_body = 65536", http_in),
        r("http_timeout = 5", |k| {
            only(!k.incoming && k.is("http"), HTTP_OUT)
        }),
        r("dlr_support = true", |k| {
            only(!k.incoming && (k.is("ebe") || k.is("http")), NEXT_HOP_DLR)
        }),
        r("ebe_timeout = 5", |k| only(k.is("ebe"), EBE_ONLY)),
        r("ebe_args = [\"-d\", \"%DESTADDR%\"]", |k| {
            only(k.is("ebe"), EBE_ARGS)
        }),
    ]
}

fn check(text: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.toml");
    std::fs::write(&path, text).unwrap();
    let out = Command::new(EMGD)
        .args(["--check-config", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).replace(&format!("{}:", path.display()), "");
    (out.status.success(), stderr)
}

#[test]
fn every_connector_keyword_applies_or_is_refused_at_its_place() {
    let mut wrong = Vec::new();
    for (line, applies) in rows() {
        let key = line.split(" = ").next().unwrap();
        for (kind, head) in KINDS {
            let want = applies(&Kind::of(head));
            let protocol = Kind::of(head).protocol;
            let text = format!(
                "mgp_address = \"\"\n[connector.c]\n{head}\n{line}\n\n[user.demo]\npassword = \"x\"\n\n\
                 [connector.sink]\ntype = \"outgoing\"\nprotocol = \"sim\"\n"
            );
            let (ok, stderr) = check(&text);
            let col = key.len() + 4;
            match want {
                None if ok => {}
                None => wrong.push(format!("{kind}: `{line}` refused:\n{stderr}")),
                Some(msg) => {
                    let msg = msg.replace("{p}", protocol);
                    let mut expected = match msg.strip_prefix('@') {
                        Some(line) => line.to_string(),
                        None => format!("6:{col}: connector.c.{key}: {msg}"),
                    };
                    if msg == SIM_ONLY {
                        expected.push_str(&format!(" `{protocol}`"));
                    }
                    if ok || stderr.trim_end() != expected {
                        wrong.push(format!(
                            "{kind}: `{line}`\n  expected {expected}\n  got      {}",
                            stderr.trim_end()
                        ));
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn what_this_build_does_not_run_is_refused_at_its_place() {
    let (ok, stderr) = check(
        "backend = \"postgres\"\nmgp_address = \"\"\n\
         [connector.u]\ntype = \"outgoing\"\nprotocol = \"mgp\"\naddress = \"127.0.0.1:3000\"\n\
         [connector.s]\ntype = \"incoming\"\nprotocol = \"sim\"\n",
    );
    assert!(!ok);
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [
            "1:11: backend: backend `postgres` needs `database_url` to be set",
            "5:12: connector.u.protocol: outgoing `mgp` connectors are not available in this build of emgd (it runs outgoing `smpp`, `http`, `smtp`, `ucp`, `cimd2`, `gsm`, `sim`, `ebe`)",
            "9:12: connector.s.protocol: incoming `sim` connectors are not available in this build of emgd (it runs incoming `smpp`, `http`, `smtp`, `ucp`, `cimd2`, `mgp`)",
        ]
    );
}
