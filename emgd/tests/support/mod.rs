//! Shared by emgd's end-to-end tests: a temporary gateway with an incoming SMPP connector and
//! a simulated SMSC, started as the real binary.

#![allow(dead_code)]

pub mod client;
pub mod kannel_in;
pub mod loop_ext4;
pub mod mgp;
pub mod modem;
pub mod peers;
pub mod smsc;
pub mod ucp_sim;
pub mod wire;

use std::path::{Path, PathBuf};
use std::process::Command;
use tests::daemon::{free_port, Daemon};

pub const EMGD: &str = env!("CARGO_BIN_EXE_emgd");

/// A temporary directory with a config for one test.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub smpp_port: u16,
    pub config: PathBuf,
}

impl Setup {
    /// `general` is added at the top, `extra` (connectors, users, routes) at the end of a base
    /// configuration: incoming SMPP `smpp-in` (users `demo`/`demo`, `other`/`pw`), sim `sim1`
    /// routed for every destination starting with 4.
    pub fn new(general: &str, sim: &str, extra: &str) -> Setup {
        let dir = tempfile::tempdir().expect("temp dir");
        let smpp_port = free_port();
        // MGP off unless the test asks for it: parallel tests must not share its port.
        let mgp = if general.contains("mgp_address") {
            ""
        } else {
            "mgp_address = \"\""
        };
        let text = format!(
            r#"datadir = "data"
logdir = "log"
{mgp}
{general}

[connector.smpp-in]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:{smpp_port}"
instances = 4

[connector.sim1]
type = "outgoing"
protocol = "sim"
{sim}

[user.demo]
password = "demo"

[user.other]
password = "pw"

[[route]]
prefix = "4"
to = "sim1"
{extra}
"#
        );
        let config = dir.path().join("emg.toml");
        std::fs::write(&config, text).expect("write config");
        Setup {
            dir,
            smpp_port,
            config,
        }
    }

    pub fn start(&self) -> Daemon {
        Daemon::start(Path::new(EMGD), &self.config, self.smpp_port).expect("emgd starts")
    }

    pub fn store(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.dir.path().join("data/emg.sqlite")).expect("open store")
    }

    /// The store emgd runs on, read beside it: the SQLite file, or (`EMG_TEST_BACKEND=postgres`)
    /// its database on the test PostgreSQL server. Call it after the first start.
    pub fn db(&self) -> StoreDb {
        StoreDb::of(&self.config)
    }

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join("log").join(name)).unwrap_or_default()
    }
}

/// A gateway's store, whichever backend it is on. SQL that both speak: a boolean column is
/// tested as itself (`charged`, `NOT charged`), not against 0 and 1.
pub enum StoreDb {
    Sqlite(rusqlite::Connection),
    /// A database of the test server (`tests::postgres::PgServer::shared`).
    Postgres(String),
}

impl StoreDb {
    /// The store of the gateway whose configuration is `config` (started at least once), its
    /// SQLite file beside it as `data/emg.sqlite` unless the configuration names a database_url.
    pub fn of(config: &Path) -> StoreDb {
        let text = std::fs::read_to_string(config).expect("read the configuration");
        let url = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("database_url"))
            .map(|rest| rest.trim().trim_start_matches('=').trim().trim_matches('"'));
        match url {
            Some(url) => StoreDb::Postgres(url.rsplit('/').next().unwrap_or(url).to_string()),
            None => {
                let file = config
                    .parent()
                    .expect("the configuration's directory")
                    .join("data/emg.sqlite");
                StoreDb::Sqlite(rusqlite::Connection::open(file).expect("open store"))
            }
        }
    }

    /// The rows `sql` selects, each column as text (NULL as the empty string).
    pub fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        self.byte_rows(sql)
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|c| String::from_utf8_lossy(&c).into_owned())
                    .collect()
            })
            .collect()
    }

    /// The rows `sql` selects, each column as bytes: a record (`messages.data`, BLOB in
    /// SQLite, bytea in PostgreSQL) as stored, anything else as its text.
    pub fn byte_rows(&self, sql: &str) -> Vec<Vec<Vec<u8>>> {
        match self {
            StoreDb::Sqlite(conn) => {
                use rusqlite::types::ValueRef;
                let mut stmt = conn.prepare(sql).expect("prepare");
                let n = stmt.column_count();
                let rows = stmt
                    .query_map([], |r| {
                        (0..n)
                            .map(|i| {
                                Ok(match r.get_ref(i)? {
                                    ValueRef::Null => Vec::new(),
                                    ValueRef::Integer(v) => v.to_string().into_bytes(),
                                    ValueRef::Real(v) => v.to_string().into_bytes(),
                                    ValueRef::Text(t) | ValueRef::Blob(t) => t.to_vec(),
                                })
                            })
                            .collect::<rusqlite::Result<Vec<Vec<u8>>>>()
                    })
                    .expect("query");
                rows.map(|r| r.expect("row")).collect()
            }
            // psql prints bytea as `\x` and hex (bytea_output's default).
            StoreDb::Postgres(db) => tests::postgres::PgServer::shared()
                .query(db, sql)
                .lines()
                .map(|l| l.split('|').map(bytea_or_text).collect())
                .collect(),
        }
    }

    /// The one value `sql` selects, as text.
    pub fn text(&self, sql: &str) -> String {
        let rows = self.rows(sql);
        assert_eq!(rows.len(), 1, "{sql}: {rows:?}");
        rows[0][0].clone()
    }

    /// The one integer `sql` selects.
    pub fn number(&self, sql: &str) -> i64 {
        let text = self.text(sql);
        text.parse()
            .unwrap_or_else(|_| panic!("{sql}: {text:?} is not a number"))
    }
}

/// A column psql printed: bytea (`\\x` and hex) decoded, anything else as its text.
fn bytea_or_text(column: &str) -> Vec<u8> {
    let hex = column
        .strip_prefix("\\x")
        .filter(|h| h.len() % 2 == 0 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    match hex {
        Some(h) => (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex"))
            .collect(),
        None => column.as_bytes().to_vec(),
    }
}

/// Run the python smpplib client (a third-party SMPP implementation) and parse its report.
/// Fails loudly when python or smpplib is missing: CI installs them, nothing is skipped.
pub fn smpplib(port: u16, args: &[&str]) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/smpplib_client.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg("--port")
        .arg(port.to_string())
        .args(args)
        .output()
        .expect(
            "python3 runs (install the test peers: pip install -r tests/peers/requirements.txt)",
        );
    assert!(
        out.status.success(),
        "smpplib client failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "smpplib client printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}
