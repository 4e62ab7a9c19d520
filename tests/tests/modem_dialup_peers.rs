//! emgmodem's data calls (the far end of emgd's UCP over a dial-up modem) proven against
//! real software: ppp's chat(8) dials (`ATZ`, `ATE0`, `ATD`, waiting for CONNECT) and later
//! hangs up (`+++` between guard times, `ATH`) on the pty, and in between Kannel's EMI client
//! (`smsc = emi`, Kannel-proven against emgucpsmsc in ucp_smsc_kannel.rs) logs in, submits and
//! gets its delivery notifications over the call: Kannel -> TCP -> socat -> pty -> emgmodem
//! -> TCP -> emgucpsmsc. Every UCP frame that crossed the call is decoded by our codec.

use common::ucp::decode_frame;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tests::daemon::free_port;
use tests::http_sink::HttpSink;
use tests::kannel::{is_listening, Kannel};
use tests::pty::{wait_until, PtyPair, Simulator};
use tests::ucp_smsc_process::UcpSmscProcess;

const EMGMODEM: &str = env!("CARGO_BIN_EXE_emgmodem");
const EMGUCPSMSC: &str = env!("CARGO_BIN_EXE_emgucpsmsc");
const CHAT: &str = "/usr/sbin/chat";
const PHONE: &str = "0705550100";
const WAIT: Duration = Duration::from_secs(60);

/// Runs a chat(8) script on the pty (chat talks to the modem on its stdin and stdout).
fn chat(tty: &Path, script: &[&str]) {
    assert!(
        Path::new(CHAT).exists(),
        "{CHAT} is not installed: apt-get install ppp (scripts/test does)"
    );
    let line = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(tty)
        .unwrap();
    let out = Command::new("timeout")
        .args(["60", CHAT, "-v", "-s", "-t", "20"])
        .args(script)
        .stdin(line.try_clone().unwrap())
        .stdout(line)
        .stderr(Stdio::piped())
        .output()
        .expect("chat runs");
    assert!(
        out.status.success(),
        "chat {script:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// socat carrying one TCP connection on `port` to the tty and back.
struct Bridge(Child);

impl Bridge {
    fn start(port: u16, tty: &Path) -> Bridge {
        let child = Command::new("socat")
            .arg(format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr"))
            .arg(format!("FILE:{},raw,echo=0", tty.display()))
            .stdin(Stdio::null())
            .spawn()
            .expect("socat runs");
        assert!(
            wait_until(Duration::from_secs(20), || is_listening(port)),
            "socat does not listen on {port}"
        );
        Bridge(child)
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn chat_dials_kannel_speaks_ucp_over_the_call_and_chat_hangs_up() {
    let dir = tempfile::tempdir().unwrap();
    let smsc = UcpSmscProcess::start(
        Path::new(EMGUCPSMSC),
        dir.path(),
        &[
            "--user",
            "emg",
            "--password",
            "secret",
            "--notify-delay-ms",
            "200",
        ],
    )
    .unwrap();
    let pty = PtyPair::new(dir.path()).expect("socat pty pair");
    let dial = format!("{PHONE}=127.0.0.1:{}", smsc.port);
    let mut modem =
        Simulator::start(Path::new(EMGMODEM), &pty.modem, &["--dial", &dial]).expect("emgmodem");

    // chat dials and leaves the modem on line.
    chat(
        &pty.host,
        &[
            "",
            "ATZ",
            "OK",
            "ATE0",
            "OK",
            &format!("ATD{PHONE}"),
            "CONNECT",
        ],
    );
    modem
        .wait_for("the call", WAIT, |e| e["event"] == "connected")
        .unwrap();

    // Kannel's EMI client over the call.
    let sink = HttpSink::start(dir.path()).unwrap();
    let port = free_port();
    let bridge = Bridge::start(port, &pty.host);
    let group = format!(
        "smsc = emi\nsmsc-id = pool\nhost = 127.0.0.1\nport = {port}\n\
         smsc-username = emg\nsmsc-password = secret\nkeepalive = 30\nwindow = 1\n\
         flow-control = 0\nreconnect-delay = 1"
    );
    let kannel = Kannel::start(dir.path(), &[group], &sink.url("/mo?text=%a")).unwrap();
    kannel.wait_online("pool", WAIT).unwrap();
    let n = 5;
    for i in 0..n {
        let dlr_url = sink.url(&format!("/dlr?n={i}&type=%d"));
        let answer = kannel
            .send(
                Some("pool"),
                "4242",
                &format!("4670123{i:04}"),
                &format!("over the line {i}"),
                Some((3, &dlr_url)),
            )
            .unwrap();
        assert!(
            answer.contains("Accepted") || answer.contains("Queued"),
            "{answer}"
        );
    }
    let dlrs = sink.wait_for("/dlr", n as usize, WAIT).unwrap();
    let ids: BTreeSet<u64> = dlrs.iter().map(|r| r.query["n"].parse().unwrap()).collect();
    assert_eq!(ids, (0..n).collect::<BTreeSet<_>>());
    assert!(dlrs.iter().all(|r| r.query["type"] == "1"), "{dlrs:?}");
    let s = smsc
        .wait_for("every notification acknowledged", WAIT, |s| {
            s.notifications_acked >= n
        })
        .unwrap();
    assert_eq!(
        (s.sessions, s.logins, s.accepted),
        (1, 1, n),
        "{}",
        s.line()
    );
    for (dir, frame) in smsc.frames() {
        decode_frame(&frame)
            .unwrap_or_else(|e| panic!("{dir} {}: {e}", String::from_utf8_lossy(&frame)));
    }

    // Kannel goes; chat hangs up: a second of silence, +++, a second, OK, ATH, OK.
    drop(kannel);
    drop(bridge);
    chat(&pty.host, &["", "\\d\\d+++\\d\\d\\c", "OK", "ATH", "OK"]);
    let hung = modem
        .wait_for("the hang-up", WAIT, |e| e["event"] == "hung-up")
        .unwrap();
    assert_eq!(hung["why"], "ATH", "{}", modem.transcript());
    modem.drain();
    assert!(modem.seen.iter().any(|e| e["event"] == "escaped"));
    // The SMSC saw its client go when the modem hung up.
    assert!(wait_until(WAIT, || smsc.stats().sessions == 1));
}
