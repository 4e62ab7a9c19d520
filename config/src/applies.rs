//! What emgd runs, and where each connector keyword does something: a configuration emgd
//! would refuse, or a keyword it would ignore, is refused here with its place, so
//! `--check-config`, the start and a reload all say the same.
//!
//! [`RUNS`] lists the connector kinds this build runs and [`BACKENDS`] the stores; a protocol
//! branch that adds a kind adds it there, and its keywords' rules to [`applies`] (a protocol
//! the rules do not name yet takes every keyword, since it is refused as a whole anyway).
//! The protocols' own keywords have their own checks (`crate::http`, `crate::smtp`,
//! `crate::gsm`, `crate::connector`).

use crate::context::Ctx;
use crate::kind::{Direction, Protocol};
use crate::model::Backend;
use crate::values::Sp;
use std::collections::BTreeMap;

/// The connector kinds this build of emgd runs.
pub const RUNS: &[(Protocol, Direction)] = &[
    (Protocol::Smpp, Direction::Incoming),
    (Protocol::Smpp, Direction::Outgoing),
    (Protocol::Http, Direction::Incoming),
    (Protocol::Http, Direction::Outgoing),
    (Protocol::Smtp, Direction::Incoming),
    (Protocol::Smtp, Direction::Outgoing),
    (Protocol::Ucp, Direction::Incoming),
    (Protocol::Ucp, Direction::Outgoing),
    (Protocol::Cimd2, Direction::Incoming),
    (Protocol::Cimd2, Direction::Outgoing),
    (Protocol::Gsm, Direction::Outgoing),
    (Protocol::Sim, Direction::Outgoing),
    (Protocol::Mgp, Direction::Incoming),
    (Protocol::Ebe, Direction::Outgoing),
];

/// The store backends this build runs.
pub const BACKENDS: &[Backend] = &[Backend::Sqlite, Backend::Postgres];

/// Whether `keyword` does something on a `protocol` connector of `direction`; `Err` says
/// why not, after "keyword: ".
pub fn applies(keyword: &str, protocol: Protocol, direction: Direction) -> Result<(), String> {
    use Direction::{Incoming, Outgoing};
    use Protocol::{Cimd2, Ebe, Gsm, Http, Mgp, Sim, Smpp, Smtp, Ucp};
    let kind = (protocol, direction);
    // Windowed sessions of frames on the runtime (`framed`): timers, a window, a login.
    let framed = matches!(protocol, Smpp | Ucp | Cimd2 | Mgp);
    let named = matches!(
        protocol,
        Smpp | Http | Sim | Ucp | Cimd2 | Smtp | Gsm | Mgp | Ebe
    );
    let ok = !named
        || match keyword {
            // A session of its own to keep up, connected at start.
            "static" => framed && direction == Outgoing,
            // Sessions of frames: idle and keep-alive timers run on them.
            "idletimeout" | "keepalive" | "frame_timeout" => framed,
            // Clients that log in.
            "bind_timeout"
            | "users"
            | "max_connections"
            | "max_connections_per_ip"
            | "max_login_failures"
            | "login_block" => direction == Incoming && protocol != Sim,
            // What we log in with.
            "username" | "password" => {
                direction == Outgoing && !matches!(protocol, Sim | Gsm | Ebe)
            }
            // Requests in flight: outgoing calls, or deliveries on a session.
            "windowsize" => !matches!(kind, (Http | Smtp, Incoming) | (Gsm, _)),
            // Who may connect: incoming clients, or a provider posting DLRs and MO.
            "access" => direction == Incoming || kind == (Http, Outgoing),
            "address" => protocol != Sim,
            // Incoming: refused by the outgoing-only check already.
            "split" => direction == Incoming || framed,
            // Receipts whose ids are matched: a mail relay sends none.
            "dlr_id_format" => kind != (Smtp, Outgoing),
            // TLS on the sessions of frames and on incoming HTTP; an outgoing HTTP
            // connector's URL says https, and these set what it trusts and shows.
            "tls" | "tls_min_version" => framed || kind == (Http, Incoming),
            "tls_cert" | "tls_key" => framed || protocol == Http,
            "tls_client_ca" => direction == Incoming && (framed || protocol == Http),
            "tls_ca" => direction == Outgoing && (framed || protocol == Http),
            "tls_server_name" => direction == Outgoing && framed,
            // Clients that bind several sessions, each taking its receipts.
            "dlr_session" => framed && direction == Incoming,
            // Connectors whose next hop may send no receipts.
            "dlr_support" | "nodlr" => matches!(kind, (Ebe | Http, Outgoing)),
            "ebe_timeout" | "ebe_args" => protocol == Ebe,
            _ => true,
        };
    if ok {
        return Ok(());
    }
    Err(match keyword {
        "static" if direction == Incoming => {
            "only meaningful for outgoing connectors (an incoming one waits for its clients)".into()
        }
        "static" if protocol == Gsm => {
            "a `gsm` connector opens its modem at start and keeps it open; there is nothing to connect later".into()
        }
        "static" => format!(
            "an outgoing `{}` connector keeps no session to connect at start; it sends each message by itself",
            name(protocol)
        ),
        "idletimeout" | "keepalive" | "frame_timeout" => format!(
            "`{}` connectors have no session of their own to time; only `smpp`, `ucp`, `cimd2` and `mgp` connectors do",
            name(protocol)
        ),
        "bind_timeout" | "users" | "max_connections" | "max_connections_per_ip"
        | "max_login_failures" | "login_block"
            if protocol == Sim =>
        {
            "a `sim` connector runs inside emgd; no client logs in to it".into()
        }
        "bind_timeout" | "users" | "max_connections" | "max_connections_per_ip"
        | "max_login_failures" | "login_block" => {
            "only meaningful for incoming connectors (clients log in to them)".into()
        }
        "username" | "password" if protocol == Sim => {
            "a `sim` connector runs inside emgd and logs in nowhere".into()
        }
        "username" | "password" if protocol == Ebe => {
            "an `ebe` connector runs a program and logs in nowhere".into()
        }
        "username" | "password" if protocol == Gsm => {
            "a `gsm` connector talks to its modem and logs in nowhere (the SIM's PIN is `gsm_pin`)".into()
        }
        "username" | "password" => "only meaningful for outgoing connectors; clients of an incoming one log in as a [user.NAME]".into(),
        "windowsize" if protocol == Gsm => {
            "a `gsm` connector sends one message at a time through its modem".into()
        }
        "windowsize" if protocol == Smtp => {
            "an incoming `smtp` connector answers each mail of a session in turn".into()
        }
        "windowsize" => "an incoming `http` connector answers each request on its own; use `dlr_callback_window` for its callbacks".into(),
        "access" => "only meaningful where clients connect: incoming connectors, and outgoing `http` ones with `dlr_address`".into(),
        "address" => "a `sim` connector runs inside emgd and has no address".into(),
        "split" => format!(
            "an outgoing `{}` connector sends each message whole; only `smpp`, `ucp` and `cimd2` connectors split long messages",
            name(protocol)
        ),
        "dlr_support" | "nodlr" => "only meaningful for outgoing `ebe` and `http` connectors, whose next hop may send no receipts".into(),
        "ebe_timeout" => "only meaningful for `ebe` connectors (the program's time limit)".into(),
        "ebe_args" => "only meaningful for `ebe` connectors (the program's arguments)".into(),
        "dlr_id_format" => "an outgoing `smtp` connector gets no delivery receipts (a mail relay sends none), so no id to match".into(),
        k if k.starts_with("tls") && protocol == Smtp => {
            "`smtp` connectors encrypt with STARTTLS: use `smtp_starttls`, `smtp_tls_cert`, `smtp_tls_key` and `smtp_tls_ca`".into()
        }
        k if k.starts_with("tls") && matches!(protocol, Gsm | Sim) => format!(
            "a `{}` connector has no network link to encrypt",
            name(protocol)
        ),
        "tls" | "tls_min_version" => "an outgoing `http` connector speaks TLS when its `address` is an https:// URL, and checks the URL's host; `tls_ca`, `tls_cert` and `tls_key` set what it trusts and shows".into(),
        "tls_server_name" if direction == Outgoing => "an outgoing `http` connector checks the host of its https:// URL".into(),
        "tls_client_ca" => "only meaningful for incoming connectors (the CA their clients' certificates must be signed by); an outgoing one trusts `tls_ca`".into(),
        "tls_ca" | "tls_server_name" => "only meaningful for outgoing connectors (what they trust in the server they connect to); an incoming one names its clients' CA with `tls_client_ca`".into(),
        "dlr_session" => format!(
            "only meaningful for incoming `smpp`, `ucp` and `cimd2` connectors, whose clients bind sessions that take their receipts; this is {} `{}`",
            if direction == Incoming { "an incoming" } else { "an outgoing" },
            name(protocol)
        ),
        _ => "does not apply to this connector".into(),
    })
}

/// A protocol as `protocol =` spells it.
pub(crate) fn name(p: Protocol) -> &'static str {
    match p {
        Protocol::Smpp => "smpp",
        Protocol::Http => "http",
        Protocol::Smtp => "smtp",
        Protocol::Ucp => "ucp",
        Protocol::Cimd2 => "cimd2",
        Protocol::Mgp => "mgp",
        Protocol::Ebe => "ebe",
        Protocol::Gsm => "gsm",
        Protocol::Sim => "sim",
    }
}

/// The keywords of one connector (inherited ones at their place in the parent) that do not
/// apply to its kind, and the kind itself if this build does not run it.
pub(crate) fn check(
    ctx: &mut Ctx<'_>,
    written: &BTreeMap<String, Sp<()>>,
    protocol: Protocol,
    direction: Direction,
) {
    if !RUNS.contains(&(protocol, direction)) {
        if protocol == Protocol::Gsm {
            // `crate::gsm` already says what a gsm connector must be (outgoing, one modem).
            return;
        }
        let at = written.get("protocol").or_else(|| written.get("type"));
        if let Some(at) = at {
            let dir = match direction {
                Direction::Incoming => "incoming",
                Direction::Outgoing => "outgoing",
            };
            let built: Vec<String> = RUNS
                .iter()
                .filter(|(_, d)| *d == direction)
                .map(|(p, _)| format!("`{}`", name(*p)))
                .collect();
            ctx.sink.at(
                &at.span,
                &at.kw,
                format!(
                    "{dir} `{}` connectors are not available in this build of emgd (it runs {dir} {})",
                    name(protocol),
                    built.join(", ")
                ),
            );
        }
        return;
    }
    for (key, at) in written {
        if let Err(why) = applies(key, protocol, direction) {
            ctx.sink.at(&at.span, &at.kw, why);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_keywords_apply_only_to_sessions() {
        use Direction::*;
        use Protocol::*;
        assert!(applies("keepalive", Smpp, Incoming).is_ok());
        assert!(applies("keepalive", Http, Outgoing).is_err());
        assert!(applies("static", Smpp, Outgoing).is_ok());
        assert!(applies("static", Smpp, Incoming).is_err());
        assert!(applies("static", Sim, Outgoing).is_err());
        assert!(applies("users", Http, Incoming).is_ok());
        assert!(applies("password", Smpp, Incoming).is_err());
        assert!(applies("access", Http, Outgoing).is_ok());
        assert!(applies("access", Smpp, Outgoing).is_err());
        assert!(applies("keepalive", Ucp, Outgoing).is_ok());
        assert!(applies("keepalive", Smtp, Incoming).is_err());
        assert!(applies("static", Cimd2, Outgoing).is_ok());
        assert!(applies("static", Gsm, Outgoing).is_err());
        assert!(applies("windowsize", Smtp, Outgoing).is_ok());
        assert!(applies("instances", Sim, Outgoing).is_ok());
        assert!(applies("tls", Smpp, Incoming).is_ok());
        assert!(applies("tls", Ucp, Outgoing).is_ok());
        assert!(applies("tls", Http, Incoming).is_ok());
        assert!(applies("tls", Http, Outgoing).is_err());
        assert!(applies("tls_ca", Http, Outgoing).is_ok());
        assert!(applies("tls_ca", Smpp, Incoming).is_err());
        assert!(applies("tls_client_ca", Smpp, Incoming).is_ok());
        assert!(applies("tls_client_ca", Smpp, Outgoing).is_err());
        assert!(applies("tls_server_name", Cimd2, Outgoing).is_ok());
        assert!(applies("tls", Smtp, Incoming).is_err());
        assert!(applies("tls_cert", Gsm, Outgoing).is_err());
        assert!(applies("keepalive", Ebe, Outgoing).is_err());
        assert!(applies("keepalive", Mgp, Incoming).is_ok());
        assert!(applies("ebe_timeout", Ebe, Outgoing).is_ok());
        assert!(applies("ebe_timeout", Http, Outgoing).is_err());
        assert!(applies("dlr_support", Http, Outgoing).is_ok());
        assert!(applies("nodlr", Smpp, Outgoing).is_err());
        assert!(applies("password", Ebe, Outgoing).is_err());
    }
}
