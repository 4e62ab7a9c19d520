//! Valid configurations: inheritance, defaults, path resolution and retry schemes.

use std::path::Path;

use config::{Backend, Direction, Mode, Protocol, RuleKind};

const GOOD: &str = r#"
datadir = "var/data"
logdir = "/var/log/emg"
mgp_address = ""
maxtotalqueuesize = 100000
maxtotalqueuesize_soft = 50000
nodeid = 12
loglevel = "DEBUG"
retryscheme = "default.retry"
group_commit_max = 64

[connector.smpp-in]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:2775"
instances = 10
users = ["alice"]
access = ["127.0.0.1", "10.0.0.0/8", "::1"]
mode = "receive-only"

[connector.base]
virtual = true
type = "outgoing"
protocol = "sim"
windowsize = 50
dlr_delay_ms = 100
fail_share = 0.25
retryscheme = "sim.retry"

[connector.sim1]
inherit = "base"
dlr_delay_ms = 500

[connector.sim2]
inherit = "sim1"
windowsize = 5
dlr_status = "undeliv"
maxqueuesize = 7

[connector.template2]
inherit = "base"
virtual = true

[connector.smsc]
type = "OUTGOING"
protocol = "SMPP"
address = "[::1]:2776"
username = "emg"
password = "pw"
keepalive = 0
mode = "transmit"
throughput = 12.5

[user.alice]
password = "secret"
binds = ["Transmitter"]
throughput = 5

[user.bob]
password = "pw"
account = "acme"

[group.smscs]
members = ["sim1", "sim2"]

[[route]]
prefix = "+46"
account = "acme"
to = "smsc"

[[route]]
from = "smpp-in"
to = "smscs"

[[route]]
to = "sim1"
"#;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write test file");
}

#[test]
fn good_config_resolves_inheritance_and_defaults() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "emg.toml", GOOD);
    write(dir.path(), "default.retry", "C* * 10 5 600 0 0\n");
    write(dir.path(), "sim.retry", "M* 0x58 0 0 0 5 1\n");
    let cfg = match config::load(&dir.path().join("emg.toml")) {
        Ok(c) => c,
        Err(e) => panic!("unexpected diagnostics:\n{e}"),
    };

    let g = &cfg.general;
    assert_eq!(g.datadir, dir.path().join("var/data"));
    assert_eq!(g.logdir, Path::new("/var/log/emg"));
    assert_eq!(g.mgp_address, None);
    assert_eq!(g.backend, Backend::Sqlite);
    assert_eq!(g.nodeid, 12);
    assert_eq!(g.maxtotalqueuesize, Some(100_000));
    assert_eq!(g.maxtotalqueuesize_soft, Some(50_000));
    assert!(g.pdulog);
    assert_eq!(g.loglevel, "debug");
    assert_eq!(g.cmrexpire, 60);
    assert_eq!(g.group_commit_max, 64);
    assert_eq!(g.retryscheme.connector_rule(1, 1).maxsleep, 600);

    // virtual connectors (including a virtual child of a virtual) are left out
    let names: Vec<&str> = cfg.connectors.keys().map(String::as_str).collect();
    assert_eq!(names, ["sim1", "sim2", "smpp-in", "smsc"]);

    let sim1 = &cfg.connectors["sim1"];
    assert_eq!(sim1.direction, Direction::Outgoing);
    assert_eq!(sim1.protocol, Protocol::Sim);
    assert_eq!(sim1.inherit.as_deref(), Some("base"));
    assert_eq!(sim1.sim.dlr_delay_ms, 500, "child wins");
    assert_eq!(sim1.sim.fail_share, 0.25, "inherited");
    assert_eq!(sim1.sim.dlr_status, "DELIVRD");
    assert_eq!(sim1.sim.fail_error, 0x58);
    assert_eq!(sim1.windowsize, 50);
    assert_eq!(sim1.instances, 1);
    assert_eq!(sim1.address, None);
    assert_eq!(sim1.idletimeout, None);
    assert!(!sim1.is_static);
    let rule = sim1
        .retryscheme
        .message_rule(4, 0x58)
        .expect("inherited scheme");
    assert_eq!(
        (rule.kind, rule.holddelay, rule.flags),
        (RuleKind::Message, 5, 1)
    );

    // two-level chain: sim2 -> sim1 -> base
    let sim2 = &cfg.connectors["sim2"];
    assert_eq!(sim2.sim.dlr_delay_ms, 500);
    assert_eq!(sim2.sim.fail_share, 0.25);
    assert_eq!(sim2.sim.dlr_status, "UNDELIV");
    assert_eq!(sim2.windowsize, 5);
    assert_eq!(sim2.maxqueuesize, Some(7));

    let smsc = &cfg.connectors["smsc"];
    assert_eq!(smsc.protocol, Protocol::Smpp);
    assert_eq!(smsc.direction, Direction::Outgoing);
    assert_eq!(smsc.idletimeout, Some(30), "outgoing smpp default");
    assert_eq!(smsc.keepalive, None);
    assert_eq!(smsc.mode, Mode::TransmitOnly);
    assert_eq!(smsc.throughput, Some(12.5));
    assert_eq!(smsc.username.as_deref(), Some("emg"));
    // no own scheme: the general one
    assert_eq!(smsc.retryscheme, g.retryscheme);

    let inc = &cfg.connectors["smpp-in"];
    assert_eq!(inc.direction, Direction::Incoming);
    assert_eq!(inc.instances, 10);
    assert_eq!(inc.users, ["alice"]);
    assert_eq!(inc.access.len(), 3);
    assert_eq!(inc.mode, Mode::ReceiveOnly);
    // Incoming SMPP: asked after a quiet minute, let go after an idle hour.
    assert_eq!((inc.idletimeout, inc.keepalive), (Some(3600), Some(60)));
    assert_eq!(inc.bind_timeout, 10);
    assert_eq!(inc.windowsize, 10);

    let alice = &cfg.users["alice"];
    assert_eq!(alice.password, "secret");
    assert_eq!(alice.binds, ["transmitter"]);
    assert_eq!(alice.account, None);
    assert_eq!(alice.throughput, Some(5.0));
    let bob = &cfg.users["bob"];
    assert_eq!(bob.account.as_deref(), Some("acme"));
    assert_eq!(bob.binds, ["transmitter", "receiver", "transceiver"]);

    assert_eq!(cfg.groups["smscs"].members, ["sim1", "sim2"]);

    let to: Vec<&str> = cfg.routes.iter().map(|r| r.to.as_str()).collect();
    assert_eq!(to, ["smsc", "smscs", "sim1"], "file order");
    assert_eq!(cfg.routes[0].prefix.as_deref(), Some("+46"));
    assert_eq!(cfg.routes[0].account.as_deref(), Some("acme"));
    assert_eq!(cfg.routes[1].from.as_deref(), Some("smpp-in"));
    assert_eq!(cfg.routes[2].prefix, None);
}

#[test]
fn empty_config_gets_defaults() {
    let cfg = config::parse_str("", Path::new("/etc/emg/emg.toml")).expect("empty is valid");
    let g = &cfg.general;
    assert_eq!(g.datadir, Path::new("/var/lib/emg"), "FHS under /etc");
    assert_eq!(g.logdir, Path::new("/var/log/emg"));
    assert_eq!(
        g.daemon.mgp_socket.as_deref(),
        Some(Path::new("/run/emg/mgp.sock"))
    );
    assert_eq!(g.mgp_address.as_deref(), Some("127.0.0.1:7185"));
    assert_eq!(g.backend, Backend::Sqlite);
    assert_eq!(g.database_url, None);
    assert_eq!(g.nodeid, 0);
    assert_eq!(g.maxtotalqueuesize, None);
    assert!(g.pdulog);
    assert_eq!(g.loglevel, "info");
    assert_eq!(g.cmrexpire, 60);
    assert_eq!(g.group_commit_max, 4096);
    assert!(g.retryscheme.rules.is_empty());
    assert!(cfg.connectors.is_empty() && cfg.users.is_empty() && cfg.routes.is_empty());
    assert_eq!(cfg.path, Path::new("/etc/emg/emg.toml"));
}

#[test]
fn postgres_with_url_and_aliases() {
    let text = r#"
backend = "postgres"
database_url = "postgres://emg@localhost/emg"

[connector.u]
type = "outgoing"
protocol = "emi"
address = "smsc.example.com:5000"
idletimeout = 0

[connector.h]
type = "outgoing"
protocol = "http"
address = "https://example.com/send"
"#;
    // Read (`emi` is UCP, which this build runs); without `nodeid` a PostgreSQL node takes
    // the number its host name ends with, else 1.
    let cfg = config::parse_str(text, Path::new("emg.toml")).expect("postgres is accepted");
    assert_eq!(cfg.general.backend, config::Backend::Postgres);
    assert_eq!(
        cfg.general.database_url.as_deref(),
        Some("postgres://emg@localhost/emg")
    );
    assert!(cfg.general.nodeid <= 8999);
    let cfg = config::parse_str(&format!("nodeid = 7\n{text}"), Path::new("emg.toml")).unwrap();
    assert_eq!(cfg.general.nodeid, 7);
}

#[test]
fn postgres_without_database_url_is_refused_at_the_backend() {
    let err =
        config::parse_str("\nbackend = \"postgres\"\n", Path::new("emg.toml")).expect_err("no url");
    let lines: Vec<String> = err.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        lines,
        ["emg.toml:2:11: backend: backend `postgres` needs `database_url` to be set"]
    );
}

#[test]
fn the_default_nodeid_is_the_number_a_host_name_ends_with() {
    use config::default_nodeid;
    assert_eq!(default_nodeid("emg3"), 3);
    assert_eq!(default_nodeid("node-12.example.com"), 12);
    assert_eq!(default_nodeid("gateway"), 1);
    assert_eq!(default_nodeid("host99999"), 1);
    assert_eq!(default_nodeid(""), 1);
}

#[test]
fn missing_config_file_is_a_diagnostic() {
    let err = config::load(Path::new("/nonexistent/emg.toml")).expect_err("missing file");
    assert_eq!(err.diagnostics.len(), 1);
    assert!(err
        .to_string()
        .starts_with("/nonexistent/emg.toml:1:1: config: cannot read"));
}

#[test]
fn arbitrary_input_never_panics() {
    let samples = [
        "[[connector]]\n",
        "connector = 5\nuser = []\ngroup = \"x\"\nroute = {}\n",
        "route = [1, \"x\"]\n",
        "[connector.a]\ninherit = 5\nvirtual = \"yes\"\nusers = \"alice\"\n",
        "[connector.\"\"]\ntype = \"incoming\"\nprotocol = \"smpp\"\naddress = \"\"\n",
        "[group.g]\nmembers = [[1]]\n",
        "nodeid = 0x7fffffffffffffff\ncmrexpire = 1e400\nthroughput = nan\n",
        "[connector.a]\nfail_share = nan\nthroughput = inf\ntype = \"outgoing\"\nprotocol = \"sim\"\n",
        "a = \"\u{e9}\u{e9}\" \u{e9}\n",
        "\u{feff}x = 1",
    ];
    for s in samples {
        let r = config::parse_str(s, Path::new("x.toml"));
        assert!(r.is_err(), "{s:?} should be rejected");
    }
}

#[test]
fn outgoing_smpp_bind_and_dlr_keywords() {
    let text = r#"
[connector.a]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:2775"

[connector.b]
inherit = "a"
bindmode = "Receiver"
interface_version = "3.3"
system_type = "VMA"
dlr_id_format = "hex"
dlr_park_seconds = 5
"#;
    let cfg = config::parse_str(text, Path::new("/etc/emg/emg.toml")).expect("valid");
    let a = &cfg.connectors["a"];
    assert_eq!(a.bindmode, config::BindMode::Transceiver);
    assert_eq!(a.interface_version, 0x34);
    assert_eq!(a.system_type, "");
    assert_eq!(a.dlr_id_format, config::DlrIdFormat::Auto);
    assert_eq!(a.dlr_park_seconds, 10);
    let b = &cfg.connectors["b"];
    assert_eq!(b.bindmode, config::BindMode::Receiver);
    assert_eq!(b.interface_version, 0x33);
    assert_eq!(b.system_type, "VMA");
    assert_eq!(b.dlr_id_format, config::DlrIdFormat::Hex);
    assert_eq!(b.dlr_park_seconds, 5);
}

#[test]
fn a_dial_up_ucp_connector_needs_no_address_and_inherits_its_modem() {
    let text = r#"
[connector.pool]
type = "outgoing"
protocol = "ucp"
phone = "+46705550100"
tty = "/dev/ttyUSB1"
dial_init = "AT&K0"
dial_messages = 2
dial_sourceaddr = "4610000"

[connector.pool-night]
inherit = "pool"
dial_opdelay_ms = 250

[connector.tcp]
type = "outgoing"
protocol = "ucp"
address = "127.0.0.1:5000"
"#;
    let cfg = config::parse_str(text, Path::new("/etc/emg/emg.toml")).expect("valid");
    let pool = cfg.connectors["pool"].dialup.clone().expect("dials");
    assert_eq!(
        pool,
        config::DialupOptions {
            phone: "+46705550100".into(),
            tty: "/dev/ttyUSB1".into(),
            speed: 9600,
            init: Some("AT&K0".into()),
            timeout: 60,
            connect_delay_ms: 0,
            op_delay_ms: 0,
            messages: 2,
            sourceaddr: Some("4610000".into()),
        }
    );
    let night = cfg.connectors["pool-night"]
        .dialup
        .clone()
        .expect("inherited");
    assert_eq!((night.op_delay_ms, night.messages), (250, 2));
    assert!(cfg.connectors["pool"].address.is_none());
    assert!(cfg.connectors["tcp"].dialup.is_none());
}
