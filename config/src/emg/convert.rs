//! The conversion itself: EMG's document, line by line, into emg.toml lines that remember
//! where they came from (see [`super::out`]).
//!
//! (Over 600 lines for a reason: one converter, [`Conv`], whose methods (general keywords,
//! connectors, SAT pools, users and operators, routing) share its state and warnings; the
//! file formats it copies live in `files.rs`, the keyword tables in `keywords.rs`.)

use super::files::{self, Match, UserEntry};
use super::keywords::*;
use super::out::{key, Origin, Out, Warning};
use super::syntax::{Document, Item, Line, Section};
use crate::kind::Direction;
use crate::model::Protocol;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Value;

pub(super) struct Conv<'a> {
    emgdir: PathBuf,
    pub(super) out_dir: PathBuf,
    available: &'a [(Protocol, Direction)],
    pub(super) out: Out,
    pub(super) warnings: Vec<Warning>,
    /// Source file -> name of its copy in `out_dir`.
    pub(super) copied: BTreeMap<PathBuf, String>,
    /// `[user.NAME]` from the users files of SMPP/HTTP connectors.
    users: BTreeMap<String, UserEntry>,
    /// `[operator.NAME]` from the users file of the MGP connector.
    operators: BTreeMap<String, UserEntry>,
    /// Groups made for routing entries with several targets.
    groups: Vec<(String, Vec<String>, Origin)>,
    /// Connectors not imported as connectors (commented out, or the MGP control listener).
    skipped: std::collections::BTreeSet<String>,
    /// Users of connectors with EMG's ALLOWROUTE: `allowroute = true` on their `[user.NAME]`.
    allowroute: std::collections::BTreeSet<String>,
    /// The connector being converted has ALLOWROUTE (set for each section).
    section_allowroute: bool,
    /// The connector being converted names a USERS file.
    section_users: bool,
}

fn origin(file: &Path, item: &Item) -> Origin {
    Origin {
        file: file.to_path_buf(),
        line: item.line,
        keyword: item.key.clone(),
    }
}

fn items(lines: &[Line]) -> impl Iterator<Item = &Item> {
    lines.iter().filter_map(|l| match l {
        Line::Item(i) => Some(i),
        Line::Comment(_) => None,
    })
}

fn value_of<'s>(s: &'s Section, key: &str) -> Option<&'s str> {
    items(&s.lines)
        .find(|i| i.key == key)
        .and_then(|i| i.value.as_deref())
}

impl<'a> Conv<'a> {
    pub(super) fn new(
        emgdir: PathBuf,
        out_dir: PathBuf,
        available: &'a [(Protocol, Direction)],
    ) -> Conv<'a> {
        Conv {
            emgdir,
            out_dir,
            available,
            out: Out::default(),
            warnings: Vec::new(),
            copied: BTreeMap::new(),
            users: BTreeMap::new(),
            operators: BTreeMap::new(),
            groups: Vec::new(),
            skipped: Default::default(),
            allowroute: Default::default(),
            section_allowroute: false,
            section_users: false,
        }
    }

    fn warn(&mut self, origin: Origin, message: impl Into<String>) {
        self.warnings.push(Warning {
            origin,
            message: message.into(),
        });
    }

    pub(super) fn document(&mut self, doc: &Document) {
        let connectors: BTreeMap<&str, &Section> = doc
            .sections
            .iter()
            .filter(|s| s.kind == "CONNECTOR")
            .map(|s| (s.name.as_str(), s))
            .collect();
        // The first real incoming MGP connector is emg's control listener.
        let mgp = doc.sections.iter().find(|s| {
            s.kind == "CONNECTOR"
                && !items(&s.lines).any(|i| i.key == "VIRTUAL")
                && effective(&connectors, s, "PROTOCOL").and_then(protocol_of)
                    == Some(Protocol::Mgp)
                && effective(&connectors, s, "TYPE")
                    .is_some_and(|t| t.eq_ignore_ascii_case("incoming"))
        });
        for s in doc.sections.iter().filter(|s| s.kind == "CONNECTOR") {
            let is_mgp = mgp.is_some_and(|m| std::ptr::eq(m, s));
            let runnable = runs(
                self.available,
                effective(&connectors, s, "PROTOCOL"),
                effective(&connectors, s, "TYPE"),
            );
            if is_mgp || !runnable {
                self.skipped.insert(s.name.clone());
            }
        }
        let masquerades = doc
            .sections
            .iter()
            .any(|s| s.kind == "CONNECTOR" && items(&s.lines).any(|i| i.key == "MASQUERADE"));

        self.out
            .comment("Imported from EMG's configuration by emgd --import-emg; what could not be");
        self.out
            .comment("carried is listed in the import's warnings (and commented out below).");
        self.general(doc, masquerades);
        if let Some(m) = mgp {
            if let Some(addr) = effective(&connectors, m, "ADDRESS") {
                let line = items(&m.lines)
                    .find(|i| i.key == "ADDRESS")
                    .map_or(m.line, |i| i.line);
                let loopback = ["127.", "[::1]:", "localhost:"]
                    .iter()
                    .any(|p| addr.starts_with(p));
                if !loopback {
                    self.warn(
                        Origin {
                            file: doc.file.clone(),
                            line,
                            keyword: "ADDRESS".into(),
                        },
                        format!(
                            "mgp_address = \"{addr}\" is reachable from other hosts, and \
                             operators' passwords cross it in clear text: set mgp_tls_cert \
                             and mgp_tls_key, or listen on 127.0.0.1 (local operators use the \
                             socket)"
                        ),
                    );
                }
                let line = items(&m.lines)
                    .find(|i| i.key == "ADDRESS")
                    .map_or(m.line, |i| i.line);
                self.out.kv(
                    "mgp_address",
                    Value::String(addr.to_string()),
                    Some(Origin {
                        file: doc.file.clone(),
                        line,
                        keyword: "ADDRESS".into(),
                    }),
                    None,
                );
            }
        }
        for s in &doc.sections {
            let at = Origin {
                file: doc.file.clone(),
                line: s.line,
                keyword: format!("{} {}", s.kind, s.name),
            };
            if s.kind != "CONNECTOR" || mgp.is_some_and(|m| std::ptr::eq(m, s)) {
                for c in &s.leading {
                    self.out.comment(c);
                }
            }
            match s.kind.as_str() {
                "CONNECTOR" if mgp.is_some_and(|m| std::ptr::eq(m, s)) => self.mgp(&doc.file, s, at),
                "CONNECTOR" => {
                    let protocol = effective(&connectors, s, "PROTOCOL");
                    let ty = effective(&connectors, s, "TYPE");
                    self.connector(&doc.file, s, at, protocol, ty);
                }
                "SATPOOL" => self.satpool(&doc.file, s, at),
                "DB" => self.warn(at, "EMG's database (accounts, routing log, configuration tables) is not used by emg; messages, delivery reports and the routelog are in emg's own store"),
                "PLUGIN" => self.warn(at, "Perl plugins do not run in emg; rewrite it as a Lua [plugin.NAME] (emg-plugins(7)) and attach it to connectors with plugins = [\"NAME:string\"] (EMG's PLUGIN=NAME:string)"),
                other => self.warn(at, format!("section type {other} is not known to emg; not imported")),
            }
        }
        self.users_and_operators();
        let routing = self.emgdir.join("routing");
        if routing.is_file() {
            self.routing(&routing);
        }
    }

    fn general(&mut self, doc: &Document, masquerades: bool) {
        let mut pdulog = false;
        for line in &doc.general {
            let item = match line {
                Line::Comment(c) => {
                    self.out.comment(c);
                    continue;
                }
                Line::Item(i) => i,
            };
            let at = origin(&doc.file, item);
            let k = item.key.as_str();
            if let Some((_, why)) = GENERAL_NOT_CARRIED.iter().find(|(n, _)| *n == k) {
                self.warn(at, format!("{why}; not imported"));
                continue;
            }
            if GENERAL_ALWAYS.contains(&k) {
                self.out.comment(&format!("{k}: emg always does this"));
                continue;
            }
            match (k, item.value.as_deref()) {
                ("PDULOG" | "LOGPDU", _) => {
                    pdulog = true;
                    self.out.kv("pdulog", Value::Boolean(true), Some(at), None);
                }
                ("LOGLEVEL", Some(v)) => {
                    let level = match v.to_ascii_lowercase().as_str() {
                        "debug2" => "trace".to_string(),
                        "warning" => "warn".to_string(),
                        "critical" | "fatal" => "error".to_string(),
                        other => other.to_string(),
                    };
                    self.out
                        .kv("loglevel", Value::String(level), Some(at), None);
                }
                ("BLACKLIST", Some(v)) => self.file_kv("blacklist", v, at),
                (
                    "CMREXPIRE" | "MAXTOTALQUEUESIZE" | "MAXTOTALQUEUESIZE_SOFT" | "NODEID",
                    Some(v),
                ) => {
                    self.out
                        .kv(&k.to_ascii_lowercase(), number(v), Some(at), None);
                }
                (_, value) => {
                    let lower = k.to_ascii_lowercase();
                    if crate::general::GENERAL_KEYWORDS.contains(&lower.as_str()) {
                        self.out.kv(&lower, guess(value), Some(at), None);
                    } else {
                        self.warn(at, "keyword not known to emg; not imported");
                    }
                }
            }
        }
        if !pdulog {
            self.out
                .comment("EMG writes no PDU log unless PDULOG is set; emg would by default.");
            self.out.kv("pdulog", Value::Boolean(false), None, None);
        }
        if masquerades {
            self.out.comment(
                "emg's masking is its own, keyed by this secret: EMG's masks are not emg's.",
            );
            self.out
                .kv("masquerade_key", Value::String(random_key()), None, None);
        }
    }

    /// Copy `value` (relative to EMGDIR) beside the output and write `k = "copy"`.
    fn file_kv(&mut self, k: &str, value: &str, at: Origin) {
        let src = self.emgdir.join(value);
        let name = match self.copied.get(&src) {
            Some(n) => n.clone(),
            None => {
                let base = src
                    .file_name()
                    .map_or_else(|| k.to_string(), |n| n.to_string_lossy().into_owned());
                let mut name = base.clone();
                let mut n = 2;
                while self.copied.values().any(|v| *v == name) || name == "emg.toml" {
                    name = format!("{n}-{base}");
                    n += 1;
                }
                if let Err(e) = std::fs::copy(&src, self.out_dir.join(&name)) {
                    self.warn(
                        at,
                        format!("cannot copy {}: {e}; not imported", src.display()),
                    );
                    return;
                }
                self.copied.insert(src, name.clone());
                name
            }
        };
        let dest = self.out_dir.join(&name);
        self.out.kv(k, Value::String(name), Some(at), Some(dest));
    }

    fn mgp(&mut self, file: &Path, s: &Section, at: Origin) {
        self.warn(
            at,
            "incoming MGP is emg's control listener (mgp_address, emgclient); its users \
             become operators; applications that submit messages over MGP need an incoming \
             connector with protocol = \"mgp\" on another address (mgp(7), APPLICATIONS)",
        );
        for item in items(&s.lines) {
            let here = origin(file, item);
            match (item.key.as_str(), item.value.as_deref()) {
                ("TYPE" | "PROTOCOL" | "ADDRESS", _) => {}
                ("USERS", Some(v)) => {
                    for u in self.read_users(v, here) {
                        self.operators.entry(u.name.clone()).or_insert(u);
                    }
                }
                _ => self.warn(here, "not used by emg's control listener; not imported"),
            }
        }
    }

    fn read_users(&mut self, value: &str, at: Origin) -> Vec<UserEntry> {
        let path = self.emgdir.join(value);
        match files::users(&path, &mut self.warnings) {
            Ok(u) => u,
            Err(e) => {
                self.warn(
                    at,
                    format!(
                        "cannot read the users file {}: {e}; not imported",
                        path.display()
                    ),
                );
                Vec::new()
            }
        }
    }

    fn connector(
        &mut self,
        file: &Path,
        s: &Section,
        at: Origin,
        protocol: Option<&str>,
        ty: Option<&str>,
    ) {
        if !runs(self.available, protocol, ty) {
            let p = protocol.unwrap_or("?").to_ascii_uppercase();
            self.warn(at, format!("protocol {p} is not available in this build of emg; the connector is written commented out"));
            self.out.blank();
            for c in &s.leading {
                self.out.comment(c);
            }
            self.out.comment(&format!(
                "CONNECTOR {} < (protocol {p} is not available in this build)",
                s.name
            ));
            for l in &s.lines {
                match l {
                    Line::Comment(c) => self.out.comment(&format!("  # {c}")),
                    Line::Item(i) => match &i.value {
                        Some(v) => self.out.comment(&format!("  {}={v}", i.key)),
                        None => self.out.comment(&format!("  {}", i.key)),
                    },
                }
            }
            self.out.comment(">");
            return;
        }
        self.out.table(
            &format!("connector.{}", key(&s.name)),
            false,
            Some(at),
            &s.leading,
        );
        let direction = s.lines.iter().find_map(|l| match l {
            Line::Item(i) if i.key.eq_ignore_ascii_case("TYPE") => {
                direction_of(i.value.as_deref()?)
            }
            _ => None,
        });
        let kind = protocol.and_then(protocol_of).zip(direction);
        self.section_users = items(&s.lines).any(|i| i.key == "USERS" && i.value.is_some());
        self.section_allowroute = items(&s.lines)
            .any(|i| i.key == "ALLOWROUTE" && i.value.as_deref().is_none_or(|v| v.trim() != "0"));
        for l in &s.lines {
            let item = match l {
                Line::Comment(c) => {
                    self.out.comment(c);
                    continue;
                }
                Line::Item(i) => i,
            };
            self.connector_item(file, item, kind);
        }
    }

    /// One keyword of a connector of `kind` (protocol and direction, when known): carried, or
    /// left out with a warning (also when it does nothing on that kind of connector in emg).
    fn connector_item(&mut self, file: &Path, item: &Item, kind: Option<(Protocol, Direction)>) {
        let at = origin(file, item);
        let k = item.key.as_str();
        let v = item.value.as_deref();
        if let Some((_, why)) = CONNECTOR_NOT_CARRIED.iter().find(|(n, _)| *n == k) {
            self.warn(at, format!("{why}; not imported"));
            return;
        }
        if k == "ALLOWROUTE" {
            self.allow_route(item, kind, at);
            return;
        }
        let protocol = kind.map(|(p, _)| p);
        let ours = PROTOCOL_RENAMED
            .iter()
            .find(|(p, n, _)| Some(*p) == protocol && *n == k)
            .map(|(_, _, o)| *o)
            .or_else(|| {
                CONNECTOR_RENAMED
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, o)| *o)
            })
            .map_or_else(|| k.to_ascii_lowercase(), str::to_string);
        if let Some((p, d)) = kind {
            if let Err(why) = crate::applies::applies(&ours, p, d) {
                self.warn(at, format!("{why}; not imported"));
                return;
            }
        }
        match (ours.as_str(), v) {
            ("note", Some(v)) => self.out.comment(&format!("NOTE: {v}")),
            // DLR_TO_SAME_IP, a flag: reports go back to a session from the submitter's address.
            ("dlr_session", v) if v.is_none_or(|v| v != "0") => {
                let policy = Value::String("same_ip".into());
                self.out.kv("dlr_session", policy, Some(at), None);
            }
            ("dlr_session", _) => {}
            ("route", Some(v)) if self.skipped.contains(v) => {
                self.warn(
                    at,
                    format!("connector {v} is not imported (see its warning); not imported"),
                );
            }
            ("users", Some(v)) => {
                let names: Vec<Value> = self
                    .read_users(v, at.clone())
                    .into_iter()
                    .map(|u| {
                        let name = Value::String(u.name.clone());
                        if u.admin {
                            self.warnings.push(Warning {
                                origin: u.origin.clone(),
                                message: "the ADMIN flag: users of a connector have no admin role in emg; \
                                          emgclient's operators are [operator.NAME] tables; not \
                                          imported"
                                    .into(),
                            });
                        }
                        if self.section_allowroute {
                            self.allowroute.insert(u.name.clone());
                        }
                        if let Some(old) = self.users.get(&u.name) {
                            if old.password != u.password {
                                self.warnings.push(Warning {
                                    origin: u.origin.clone(),
                                    message: format!(
                                        "user {} has another password in {}; the first one is kept",
                                        u.name,
                                        old.origin.file.display()
                                    ),
                                });
                            }
                        } else {
                            self.users.insert(u.name.clone(), u);
                        }
                        name
                    })
                    .collect();
                self.out.kv("users", Value::Array(names), Some(at), None);
            }
            ("access", Some(v)) => {
                let list = v
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|a| !a.is_empty())
                    .map(|a| Value::String(a.to_string()))
                    .collect();
                self.out.kv("access", Value::Array(list), Some(at), None);
            }
            ("windowsize", Some(w)) if w.eq_ignore_ascii_case("auto") => {
                self.warn(at, "emg's window does not grow and shrink by itself; give the size as a number; not imported");
            }
            (f, Some(v)) if SECONDS_TO_MILLIS.contains(&f) => {
                self.out.kv(f, millis(v), Some(at), None)
            }
            (t, Some(v)) if TEXT_KEYWORDS.contains(&t) => {
                self.out.kv(t, Value::String(v.to_string()), Some(at), None)
            }
            (f, Some(v)) if FILE_KEYWORDS.contains(&f) => self.file_kv(f, v, at),
            (n, Some(v)) if INTEGER_KEYWORDS.contains(&n) => {
                self.out.kv(n, number(v), Some(at), None)
            }
            ("throughput", Some(v)) => self.out.kv("throughput", number(v), Some(at), None),
            // EMG's DLR_SUPPORT=0|1.
            ("dlr_support", Some(v)) => {
                let on = !matches!(v.trim(), "0" | "" | "no" | "false");
                self.out
                    .kv("dlr_support", Value::Boolean(on), Some(at), None);
            }
            ("type" | "protocol" | "mode" | "http_method", Some(v)) => {
                self.out
                    .kv(&ours, Value::String(v.to_ascii_lowercase()), Some(at), None);
            }
            (other, Some(v)) if crate::process::KEYWORDS.contains(&other) => {
                self.out
                    .kv(other, Value::String(v.to_string()), Some(at), None);
            }
            (other, value) => {
                if crate::connector::keywords().contains(&other) {
                    self.out.kv(other, guess(value), Some(at), None);
                } else {
                    self.warn(at, "keyword not known to emg; not imported");
                }
            }
        }
    }

    /// EMG's ALLOWROUTE on a connector: emg grants the choice of route per user
    /// (`allowroute` on `[user.NAME]`), so this connector's users (its USERS file) get it;
    /// emg takes a ROUTE from an application over MGP only, which the warning says when the
    /// connector speaks something else.
    fn allow_route(&mut self, item: &Item, kind: Option<(Protocol, Direction)>, at: Origin) {
        if item.value.as_deref().is_some_and(|v| v.trim() == "0") {
            return;
        }
        let users = self.section_users;
        let message = match kind {
            _ if !users => "emg grants the choice of route per user (allowroute = true on \
                            [user.NAME]), and this connector names no USERS file, so no user \
                            gets it; not imported"
                .to_string(),
            Some((Protocol::Mgp, _)) => return,
            other => format!(
                "allowroute = true is set on this connector's users: in emg a user names the \
                 connector of its messages (ROUTE) only when it submits over an incoming mgp \
                 connector{}",
                match other {
                    Some((p, _)) => format!(", not over {}", format!("{p:?}").to_uppercase()),
                    None => String::new(),
                }
            ),
        };
        self.warn(at, message);
    }

    fn satpool(&mut self, file: &Path, s: &Section, at: Origin) {
        self.out.table(
            &format!("satpool.{}", key(&s.name)),
            false,
            Some(at),
            &s.leading,
        );
        let mut addresses = Vec::new();
        let mut addresses_at = None;
        for item in items(&s.lines) {
            let here = origin(file, item);
            match (item.key.as_str(), item.value.as_deref()) {
                ("ADDRESS" | "ADDRESSES" | "RANGE" | "ADDRESSRANGE", Some(v)) => {
                    addresses.extend(
                        v.split(|c: char| c == ',' || c.is_whitespace())
                            .filter(|a| !a.is_empty())
                            .map(|a| Value::String(a.to_string())),
                    );
                    addresses_at.get_or_insert(here);
                }
                ("THREADED", None) => {
                    self.out
                        .kv("threaded", Value::Boolean(true), Some(here), None)
                }
                ("EXPIRE", Some(v)) => self.out.kv("expire", number(v), Some(here), None),
                ("TON" | "NPI", Some(v)) => {
                    self.out
                        .kv(&item.key.to_ascii_lowercase(), number(v), Some(here), None)
                }
                _ => self.warn(here, "SAT pool keyword not known to emg; not imported"),
            }
        }
        if let Some(a) = addresses_at {
            self.out
                .kv("addresses", Value::Array(addresses), Some(a), None);
        }
    }

    fn users_and_operators(&mut self) {
        for (name, u) in std::mem::take(&mut self.users) {
            self.out.table(
                &format!("user.{}", key(&name)),
                false,
                Some(u.origin.clone()),
                &[],
            );
            self.out.kv(
                "password",
                Value::String(u.password.clone()),
                Some(u.origin.clone()),
                None,
            );
            if self.allowroute.contains(&name) {
                self.out.kv(
                    "allowroute",
                    Value::Boolean(true),
                    Some(u.origin.clone()),
                    None,
                );
            }
        }
        for (name, u) in std::mem::take(&mut self.operators) {
            let role = if u.admin { "admin" } else { "readonly" };
            self.warn(
                u.origin.clone(),
                format!(
                    "operator {name} (role {role}): its password is written in plain text; \
                     replace it with password_hash (made by `emgclient passwd`)"
                ),
            );
            self.out.table(
                &format!("operator.{}", key(&name)),
                false,
                Some(u.origin.clone()),
                &[],
            );
            self.out.kv(
                "password",
                Value::String(u.password.clone()),
                Some(u.origin.clone()),
                None,
            );
            self.out.kv(
                "role",
                Value::String(role.into()),
                Some(u.origin.clone()),
                None,
            );
        }
    }

    fn routing(&mut self, path: &Path) {
        let entries = match files::routing(path, &mut self.warnings) {
            Ok(e) => e,
            Err(e) => {
                let at = Origin {
                    file: path.to_path_buf(),
                    line: 1,
                    keyword: "routing".into(),
                };
                self.warn(
                    at,
                    format!("cannot read the routing table: {e}; not imported"),
                );
                return;
            }
        };
        for mut e in entries {
            let from_skipped = matches!(&e.matches, Match::From(f) if self.skipped.contains(f));
            let gone: Vec<String> = e
                .targets
                .iter()
                .filter(|t| self.skipped.contains(*t))
                .cloned()
                .collect();
            e.targets.retain(|t| !self.skipped.contains(t));
            if from_skipped || e.targets.is_empty() {
                let c = match &e.matches {
                    Match::From(f) if from_skipped => f.clone(),
                    _ => gone.join(", "),
                };
                self.warn(
                    e.origin.clone(),
                    format!("connector {c} is not imported (see its warning); the route is not imported"),
                );
                continue;
            }
            if !gone.is_empty() {
                self.warn(
                    e.origin.clone(),
                    format!(
                        "connector {} is not imported (see its warning); the route goes to the others",
                        gone.join(", ")
                    ),
                );
            }
            let to = match &e.targets[..] {
                [one] => one.clone(),
                many => {
                    let name = format!("routing-{}", e.origin.line);
                    self.warn(
                        e.origin.clone(),
                        format!(
                            "several targets become group {name}, served round robin over those \
                             available; a fail-over order between them is not kept"
                        ),
                    );
                    if !self.groups.iter().any(|(n, _, _)| *n == name) {
                        self.groups
                            .push((name.clone(), many.to_vec(), e.origin.clone()));
                    }
                    name
                }
            };
            self.out.table("route", true, Some(e.origin.clone()), &[]);
            match &e.matches {
                Match::From(c) => self.out.kv(
                    "from",
                    Value::String(c.clone()),
                    Some(e.origin.clone()),
                    None,
                ),
                Match::Prefix(p) => self.out.kv(
                    "prefix",
                    Value::String(p.clone()),
                    Some(e.origin.clone()),
                    None,
                ),
                Match::Anything => {}
            }
            self.out
                .kv("to", Value::String(to), Some(e.origin.clone()), None);
        }
        for (name, members, at) in std::mem::take(&mut self.groups) {
            self.out.table(
                &format!("group.{}", key(&name)),
                false,
                Some(at.clone()),
                &[],
            );
            let m = members.into_iter().map(Value::String).collect();
            self.out.kv("members", Value::Array(m), Some(at), None);
        }
    }
}

// The value of `key` on connector `s` or the connector it inherits from.
/// EMG's `TYPE` as a direction.
fn direction_of(ty: &str) -> Option<Direction> {
    match ty.to_ascii_lowercase().as_str() {
        "incoming" => Some(Direction::Incoming),
        "outgoing" => Some(Direction::Outgoing),
        _ => None,
    }
}

/// Whether a connector of EMG's `protocol` and `ty` (`TYPE`) is one of the kinds `available`
/// (a connector without a `PROTOCOL` is written as it is, for validation to judge; without a
/// known `TYPE`, any direction of the protocol counts).
fn runs(available: &[(Protocol, Direction)], protocol: Option<&str>, ty: Option<&str>) -> bool {
    let Some(p) = protocol else { return true };
    let Some(p) = protocol_of(p) else {
        return false;
    };
    match ty.and_then(direction_of) {
        Some(d) => available.contains(&(p, d)),
        None => available.iter().any(|(q, _)| *q == p),
    }
}

fn effective<'s>(all: &BTreeMap<&str, &'s Section>, s: &'s Section, key: &str) -> Option<&'s str> {
    let mut cur = s;
    for _ in 0..all.len() + 1 {
        if let Some(v) = value_of(cur, key) {
            return Some(v);
        }
        cur = all.get(value_of(cur, "INHERIT")?)?;
    }
    None
}
