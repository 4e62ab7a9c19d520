//! A real PostgreSQL 15 server for the tests (Debian's `postgresql-15`): `initdb` into a
//! temporary directory as a non-root user, `postgres` on a free loopback port, one database
//! per test ([`PgServer::database`]).
//!
//! One server per test process ([`PgServer::shared`]), started on first use by a thread that
//! lives as long as the process: the postmaster gets SIGQUIT (immediate shutdown) when that
//! thread goes, so nothing is left running after the tests; the data directory of a process
//! that is gone is removed by the next start. A missing server is a failure, never a skip.
//!
//! `EMG_TEST_BACKEND=postgres` makes [`crate::daemon::Daemon::start`] run every emgd of the
//! end-to-end tests on this server ([`use_for_config`]).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Where Debian's `postgresql-15` installs the server.
pub const BIN: &str = "/usr/lib/postgresql/15/bin";
/// The user the server runs as when the tests run as root (initdb refuses root).
pub const TEST_USER: &str = "emgtest";

pub struct PgServer {
    pub port: u16,
    pub dir: PathBuf,
    /// The postmaster (it ends with the process, by its parent-death signal).
    postmaster: std::process::Child,
}

/// Whether the end-to-end tests run emgd on PostgreSQL (`EMG_TEST_BACKEND=postgres`).
pub fn wanted() -> bool {
    std::env::var("EMG_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

impl PgServer {
    /// This process's server, started on first use.
    pub fn shared() -> &'static PgServer {
        static SERVER: OnceLock<PgServer> = OnceLock::new();
        SERVER.get_or_init(|| {
            let (tx, rx) = std::sync::mpsc::channel();
            // The postmaster's parent-death signal follows this thread: it never ends.
            std::thread::Builder::new()
                .name("postgres-parent".into())
                .spawn(move || {
                    tx.send(PgServer::start())
                        .expect("the test waits for its server");
                    loop {
                        std::thread::park();
                    }
                })
                .expect("start the postgres thread");
            rx.recv().expect("the postgres thread answers")
        })
    }

    /// A server of its own with the server's durability as shipped (`fsync` on): for the
    /// benchmark. Stopped and removed when dropped.
    pub fn start_durable() -> PgServer {
        PgServer::start_with(true)
    }

    /// The postmaster's process id.
    pub fn pid(&self) -> u32 {
        self.postmaster.id()
    }

    fn start() -> PgServer {
        PgServer::start_with(false)
    }

    fn start_with(fsync: bool) -> PgServer {
        let initdb = Path::new(BIN).join("initdb");
        assert!(
            initdb.exists(),
            "{} is missing: install Debian's postgresql-15 (scripts/test does: apt-get install postgresql-15)",
            initdb.display()
        );
        remove_stale_dirs();
        static STARTED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("emg-pg-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the postgres directory");
        let user = server_user();
        if let Some((uid, _)) = user {
            chown(&dir, uid);
        }
        let data = dir.join("data");
        let out = as_user(Command::new(&initdb), user)
            .args(["-D"])
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ])
            .stdin(Stdio::null())
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = crate::ports::free_port();
        let log = std::fs::File::create(dir.join("server.log")).expect("server log");
        let mut postgres = as_user(Command::new(Path::new(BIN).join("postgres")), user);
        postgres
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(&dir)
            .args(["-p", &port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            // The tests kill emgd, never the server: its own fsync only slows them down.
            .args(["-c", if fsync { "fsync=on" } else { "fsync=off" }])
            .args(["-c", "max_connections=200"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        unsafe {
            postgres.pre_exec(|| {
                // After the uid change, which clears it.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT);
                Ok(())
            });
        }
        let postmaster = postgres.spawn().expect("start postgres");
        let server = PgServer {
            port,
            dir,
            postmaster,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !server
            .psql("postgres", "SELECT 1")
            .is_ok_and(|o| o.status.success())
        {
            assert!(
                Instant::now() < deadline,
                "postgres did not start within 60 s:\n{}",
                std::fs::read_to_string(server.dir.join("server.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn psql(&self, db: &str, sql: &str) -> std::io::Result<std::process::Output> {
        Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .args(["-d", db, "-v", "ON_ERROR_STOP=1", "-qAtc", sql])
            .stdin(Stdio::null())
            .output()
    }

    /// Run `sql` in database `db`; its output (unaligned, tuples only).
    pub fn query(&self, db: &str, sql: &str) -> String {
        let out = self.psql(db, sql).expect("run psql");
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// The URL of database `name`, created empty if it does not exist yet.
    pub fn database(&self, name: &str) -> String {
        let exists = self.query(
            "postgres",
            &format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
        );
        if exists.is_empty() {
            self.query("postgres", &format!("CREATE DATABASE \"{name}\""));
        }
        self.url(name)
    }

    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// A new database of its own for one test.
    pub fn fresh_database(&self, prefix: &str) -> (String, String) {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("{prefix}_{}_{n}", std::process::id());
        (self.database(&name), name)
    }
}

impl Drop for PgServer {
    /// (Only servers of their own are dropped: the shared one lives in a static.)
    fn drop(&mut self) {
        unsafe {
            libc::kill(self.postmaster.id() as i32, libc::SIGQUIT);
        }
        let _ = self.postmaster.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Point the emgd configuration at `config` at a database of its own on this process's
/// server (`backend`, `database_url` added at its top), once; the same database on every
/// restart. A configuration that names its backend is left alone.
pub fn use_for_config(config: &Path) {
    let text = std::fs::read_to_string(config).expect("read the emgd configuration");
    if text.lines().any(|l| l.trim_start().starts_with("backend")) {
        return;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in config.to_string_lossy().bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    let url = PgServer::shared().database(&format!("emg_{h:016x}"));
    std::fs::write(
        config,
        format!("backend = \"postgres\"\ndatabase_url = \"{url}\"\n{text}"),
    )
    .expect("write the emgd configuration");
}

/// `(uid, gid)` of [`TEST_USER`] when running as root (created if missing), else `None`.
fn server_user() -> Option<(u32, u32)> {
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let id = |flag: &str| {
        Command::new("id")
            .args([flag, TEST_USER])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
    };
    if id("-u").is_none() {
        let status = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                TEST_USER,
            ])
            .status()
            .expect("run useradd");
        assert!(
            status.success() || id("-u").is_some(),
            "useradd {TEST_USER} failed"
        );
    }
    Some((
        id("-u").expect("the test user's uid"),
        id("-g").expect("the test user's gid"),
    ))
}

fn as_user(mut cmd: Command, user: Option<(u32, u32)>) -> Command {
    if let Some((uid, gid)) = user {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

fn chown(dir: &Path, uid: u32) {
    let status = Command::new("chown")
        .arg("-R")
        .arg(uid.to_string())
        .arg(dir)
        .status()
        .expect("run chown");
    assert!(status.success(), "chown {}", dir.display());
}

/// Data directories of test processes that are gone.
fn remove_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        // `emg-pg-PID-N`: the process that made it, then its count of servers.
        let Some(pid) = name
            .strip_prefix("emg-pg-")
            .and_then(|p| p.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}
