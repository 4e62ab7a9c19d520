//! Per-connector logs in EMG's formats, written by one task.
//!
//! `connector.NAME`: `2015-04-28 21:25:42.104666 (0) CONNECT OK`
//! `pdu.NAME`:       `2015-04-29 03:03:59.473594 INFO  (smpp-out,0) Write op:0x00000009 ...`
//!
//! Sessions hand lines to a channel and never wait on the disk. The writer flushes whenever
//! the channel runs dry, and reopens every file on request (SIGHUP), so logrotate works.
//! A broadcast feed carries the same lines to live tails; a slow tail loses lines, a file never.

pub mod general;
pub mod history;

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write as _};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogKind {
    Connector,
    Pdu,
}

impl LogKind {
    fn file_prefix(self) -> &'static str {
        match self {
            LogKind::Connector => "connector",
            LogKind::Pdu => "pdu",
        }
    }
}

/// One line of a connector or PDU log, as written to its file (without the newline).
#[derive(Debug, Clone)]
pub struct LogLine {
    pub kind: LogKind,
    pub connector: Arc<str>,
    pub instance: u32,
    pub line: String,
}

enum Command {
    Line(Arc<LogLine>),
    Reopen,
    Flush(oneshot::Sender<()>),
}

/// Handle to the log writer; clone freely.
#[derive(Clone)]
pub struct Logs {
    tx: mpsc::UnboundedSender<Command>,
    feed: broadcast::Sender<Arc<LogLine>>,
    pdulog: bool,
}

/// EMG's timestamp: local time to the microsecond.
/// The instance of a connection that has not logged in yet: it holds none, and its lines show
/// `(-)` where a session's show its instance number.
pub const NO_INSTANCE: u32 = u32::MAX;

/// How an instance shows in a log line.
struct Shown(u32);

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            NO_INSTANCE => f.write_str("-"),
            n => write!(f, "{n}"),
        }
    }
}

fn shown(instance: u32) -> Shown {
    Shown(instance)
}

pub fn timestamp() -> String {
    chrono::Local::now()
        .format("%Y-%m-%d %H:%M:%S%.6f")
        .to_string()
}

impl Logs {
    /// Start the writer for files under `dir`. With `pdulog` false, PDU lines go only to live
    /// tails.
    pub fn start(dir: PathBuf, pdulog: bool) -> std::io::Result<Logs> {
        std::fs::create_dir_all(&dir)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let (feed, _) = broadcast::channel(4096);
        tokio::spawn(
            Writer {
                dir,
                files: HashMap::new(),
            }
            .run(rx),
        );
        Ok(Logs { tx, feed, pdulog })
    }

    /// `(instance) text` in `connector.NAME`.
    pub fn connector(&self, connector: &str, instance: u32, text: impl AsRef<str>) {
        let line = format!("{} ({}) {}", timestamp(), shown(instance), text.as_ref());
        self.emit(LogKind::Connector, connector, instance, line);
    }

    /// `LEVEL  (NAME,instance) text` in `pdu.NAME`.
    pub fn pdu(&self, connector: &str, instance: u32, text: impl AsRef<str>) {
        if !self.wants_pdu() {
            return;
        }
        let line = format!(
            "{} INFO  ({connector},{}) {}",
            timestamp(),
            shown(instance),
            text.as_ref()
        );
        self.emit(LogKind::Pdu, connector, instance, line);
    }

    /// Whether a PDU line would go anywhere (the PDU log, or someone tailing): callers check
    /// this before building the line, which costs more than the rest of handling a PDU.
    pub fn wants_pdu(&self) -> bool {
        self.pdulog || self.feed.receiver_count() > 0
    }

    fn emit(&self, kind: LogKind, connector: &str, instance: u32, line: String) {
        let entry = Arc::new(LogLine {
            kind,
            connector: Arc::from(connector),
            instance,
            line,
        });
        let _ = self.feed.send(entry.clone());
        if kind == LogKind::Pdu && !self.pdulog {
            return;
        }
        let _ = self.tx.send(Command::Line(entry));
    }

    /// Close and reopen every file (after logrotate moved them).
    pub fn reopen(&self) {
        let _ = self.tx.send(Command::Reopen);
    }

    /// Wait until every line sent so far is written out.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Command::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }

    /// Live feed of every line (for MGP tail).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LogLine>> {
        self.feed.subscribe()
    }
}

struct Writer {
    dir: PathBuf,
    files: HashMap<(LogKind, Arc<str>), BufWriter<File>>,
}

impl Writer {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        while let Some(cmd) = rx.recv().await {
            self.handle(cmd);
            while let Ok(cmd) = rx.try_recv() {
                self.handle(cmd);
            }
            self.flush_all();
        }
        self.flush_all();
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Line(l) => self.write(&l),
            Command::Reopen => {
                self.flush_all();
                self.files.clear();
            }
            Command::Flush(done) => {
                self.flush_all();
                let _ = done.send(());
            }
        }
    }

    fn write(&mut self, l: &LogLine) {
        let key = (l.kind, l.connector.clone());
        if !self.files.contains_key(&key) {
            let path = self
                .dir
                .join(format!("{}.{}", l.kind.file_prefix(), l.connector));
            match OpenOptions::new().create(true).append(true).open(&path) {
                Ok(f) => {
                    self.files.insert(key.clone(), BufWriter::new(f));
                }
                Err(e) => {
                    tracing::error!("cannot open log file {}: {e}", path.display());
                    return;
                }
            }
        }
        if let Some(f) = self.files.get_mut(&key) {
            if let Err(e) = writeln!(f, "{}", l.line) {
                tracing::error!("cannot write connector log {}: {e}", l.connector);
            }
        }
    }

    fn flush_all(&mut self) {
        for f in self.files.values_mut() {
            let _ = f.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_land_in_emg_format_and_survive_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let logs = Logs::start(dir.path().to_path_buf(), true).unwrap();
        logs.connector("smsc1", 0, "CONNECT OK");
        logs.pdu(
            "smsc1",
            2,
            "Write op:0x00000015 (ENQUIRE_LINK) status:0 trn:1 datalen:0",
        );
        logs.flush().await;
        let text = std::fs::read_to_string(dir.path().join("connector.smsc1")).unwrap();
        let line = text.lines().next().unwrap();
        // 2015-04-28 21:25:42.104666 (0) CONNECT OK
        assert_eq!(
            line.len(),
            "2015-04-28 21:25:42.104666 (0) CONNECT OK".len(),
            "{line}"
        );
        assert!(line.ends_with(" (0) CONNECT OK"), "{line}");
        let pdu = std::fs::read_to_string(dir.path().join("pdu.smsc1")).unwrap();
        assert!(
            pdu.trim_end().ends_with(
                " INFO  (smsc1,2) Write op:0x00000015 (ENQUIRE_LINK) status:0 trn:1 datalen:0"
            ),
            "{pdu}"
        );

        std::fs::rename(
            dir.path().join("connector.smsc1"),
            dir.path().join("connector.smsc1.1"),
        )
        .unwrap();
        logs.reopen();
        logs.connector("smsc1", 0, "CONNECT ERR (info=\"111\")");
        logs.flush().await;
        let fresh = std::fs::read_to_string(dir.path().join("connector.smsc1")).unwrap();
        assert_eq!(fresh.lines().count(), 1);
        assert!(fresh.contains("CONNECT ERR (info=\"111\")"));
    }
}
