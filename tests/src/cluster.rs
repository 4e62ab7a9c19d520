//! Several emgd nodes on one PostgreSQL database: a cluster for the tests of leases, claims
//! and fail-over. Each node has a directory, an incoming SMPP port, an MGP port and a `nodeid` of its own;
//! the configuration after the common part (outgoing connectors, routes) is given per node,
//! so each node can bind its own SMSC peer. The database is a fresh one on this process's
//! test server ([`crate::postgres::PgServer::shared`]).

use crate::daemon::{free_port, Daemon};
use crate::postgres::PgServer;
use std::path::{Path, PathBuf};

/// One node: its directory and configuration, and the process while it runs.
pub struct Node {
    pub nodeid: u16,
    pub smpp_port: u16,
    /// Its MGP listener (operator `admin`, password `secret`).
    pub mgp_port: u16,
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub daemon: Option<Daemon>,
}

impl Node {
    pub fn stderr_text(&self) -> String {
        self.daemon
            .as_ref()
            .map(|d| d.stderr_text())
            .or_else(|| std::fs::read_to_string(self.config.with_extension("stderr")).ok())
            .unwrap_or_default()
    }

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join("log").join(name)).unwrap_or_default()
    }
}

pub struct Cluster {
    pub binary: PathBuf,
    pub database_url: String,
    pub nodes: Vec<Node>,
}

impl Cluster {
    /// Write the configurations of `extra.len()` nodes (nodeids 1, 2, ...) sharing a new
    /// database: `general` at the top of each, `extra[i]` at the end of node i's. Each has
    /// `smpp-in` (incoming SMPP, users `demo`/`demo`). Nothing is started yet.
    pub fn new(binary: &Path, general: &str, extra: &[String]) -> Cluster {
        let (database_url, _) = PgServer::shared().fresh_database("emg_cluster");
        let nodes = extra
            .iter()
            .enumerate()
            .map(|(i, extra)| {
                let dir = tempfile::tempdir().expect("temp dir");
                let smpp_port = free_port();
                let mgp_port = free_port();
                let nodeid = i as u16 + 1;
                let text = format!(
                    r#"backend = "postgres"
database_url = "{database_url}"
nodeid = {nodeid}
datadir = "data"
logdir = "log"
mgp_address = "127.0.0.1:{mgp_port}"
{general}

[connector.smpp-in]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:{smpp_port}"
instances = 4

[user.demo]
password = "demo"

[operator.admin]
password = "secret"
role = "admin"
{extra}
"#
                );
                let config = dir.path().join("emg.toml");
                std::fs::write(&config, text).expect("write config");
                Node {
                    nodeid,
                    smpp_port,
                    mgp_port,
                    dir,
                    config,
                    daemon: None,
                }
            })
            .collect();
        Cluster {
            binary: binary.to_path_buf(),
            database_url,
            nodes,
        }
    }

    /// Start node `i` (again) and wait for its SMPP listener.
    pub fn start(&mut self, i: usize) -> &mut Node {
        let node = &mut self.nodes[i];
        let d = Daemon::start(&self.binary, &node.config, node.smpp_port)
            .unwrap_or_else(|e| panic!("node {} starts: {e}", node.nodeid));
        node.daemon = Some(d);
        node
    }

    pub fn start_all(&mut self) {
        for i in 0..self.nodes.len() {
            self.start(i);
        }
    }

    /// SIGKILL node `i`: nothing flushed, its lease left to run out.
    pub fn kill9(&mut self, i: usize) {
        if let Some(d) = self.nodes[i].daemon.as_mut() {
            d.kill9();
        }
    }

    /// Give node `i` a database role of its own (a superuser, like the others' `postgres`),
    /// so it alone can be cut from the server ([`Cluster::cut`]). Before it starts.
    pub fn own_role(&mut self, i: usize) -> String {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let role = format!("emg_node_{}_{n}", std::process::id());
        self.query(&format!("CREATE ROLE {role} LOGIN SUPERUSER"));
        let node = &self.nodes[i];
        let text = std::fs::read_to_string(&node.config).expect("read config");
        let url =
            self.database_url
                .replacen("postgres://postgres@", &format!("postgres://{role}@"), 1);
        std::fs::write(&node.config, text.replace(&self.database_url, &url)).expect("write config");
        role
    }

    /// Close every server connection of node `i` (`pg_terminate_backend`, found by the
    /// `application_name` emgd gives its connections: `emgd-node-N`); how many.
    pub fn drop_connections(&self, i: usize) -> usize {
        self.query(&format!(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE application_name = 'emgd-node-{}'",
            self.nodes[i].nodeid
        ))
        .parse()
        .expect("a count")
    }

    /// Cut node `i` (with a role of its own, [`Cluster::own_role`]) from the server: it may
    /// not log in, and its connections are closed. [`Cluster::mend`] ends the cut.
    pub fn cut(&self, i: usize, role: &str) -> usize {
        self.query(&format!("ALTER ROLE {role} NOLOGIN"));
        self.drop_connections(i)
    }

    pub fn mend(&self, role: &str) {
        self.query(&format!("ALTER ROLE {role} LOGIN"));
    }

    /// Send `sig` to node `i` (SIGSTOP: a stalled node; SIGCONT wakes it).
    pub fn signal(&self, i: usize, sig: i32) {
        if let Some(d) = self.nodes[i].daemon.as_ref() {
            d.signal(sig);
        }
    }

    /// A query on the cluster's database (`psql`): its output, trimmed.
    pub fn query(&self, sql: &str) -> String {
        let name = self
            .database_url
            .rsplit('/')
            .next()
            .expect("database name")
            .to_string();
        PgServer::shared().query(&name, sql)
    }
}
