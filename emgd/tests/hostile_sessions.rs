//! Hostile clients on the incoming session protocols (issue 23): for SMPP, UCP, CIMD2, MGP
//! applications and SMTP, a frame (or line) over its size limit gets the protocol's error and
//! ends the session; a half-written frame followed by silence is closed after `frame_timeout`
//! (`smtp_timeout` for SMTP) and gives its instance back, so a later client logs in on the
//! connector's one instance; and wrong passwords in a burst are braked (`max_login_failures`),
//! the right password from the braked address refused too, while a `password_hash` user logs
//! in from another address. The attacks are raw sockets from 127.0.0.2; the clients that must
//! get through are python smpplib, smtplib and tests/peers/crash_client.py (python sockets
//! speaking UCP, CIMD2 and MGP) from 127.0.0.1.

mod support;

use argon2::password_hash::{PasswordHasher, SaltString};
use common::smpp::{command, decode, encode, status, Bind, Body, Pdu, DEFAULT_MAX_PDU_LEN};
use serde_json::Value;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::peers::{wait_for, wait_port};
use support::{smpplib, Setup};
use tests::daemon::free_port;

/// The password of the `hashed` user, stored as an Argon2 hash (as `emgclient passwd` prints).
const HASHED_PASSWORD: &str = "H4sh3d!x";

fn argon2_hash(password: &str) -> String {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

struct Ports {
    ucp: u16,
    cimd: u16,
    mgp: u16,
    smtp: u16,
}

/// A gateway whose smpp-in and every other incoming session connector have one instance, a
/// `frame_timeout` of 2 s and a brake after 3 failed logins; users `client` (plain password)
/// and `hashed` (Argon2).
fn gateway() -> (Setup, Ports) {
    let p = Ports {
        ucp: free_port(),
        cimd: free_port(),
        mgp: free_port(),
        smtp: free_port(),
    };
    let limits = "instances = 1\nframe_timeout = 2\nmax_login_failures = 3";
    let extra = format!(
        r#"
[connector.ucp-in]
type = "incoming"
protocol = "ucp"
address = "127.0.0.1:{ucp}"
users = ["client", "hashed"]
{limits}

[connector.cimd-in]
type = "incoming"
protocol = "cimd2"
address = "127.0.0.1:{cimd}"
users = ["client", "hashed"]
{limits}

[connector.apps]
type = "incoming"
protocol = "mgp"
address = "127.0.0.1:{mgp}"
users = ["client", "hashed"]
{limits}

[connector.mail-in]
type = "incoming"
protocol = "smtp"
address = "127.0.0.1:{smtp}"
users = ["client", "hashed"]
smtp_domains = ["sms.example.com"]
smtp_auth_plaintext = true
smtp_timeout = 2
instances = 1
max_login_failures = 3

[user.client]
password = "secret"

[user.hashed]
password_hash = "{hash}"
"#,
        ucp = p.ucp,
        cimd = p.cimd,
        mgp = p.mgp,
        smtp = p.smtp,
        hash = argon2_hash(HASHED_PASSWORD),
    );
    let s = Setup::new("", "", &extra);
    let text = std::fs::read_to_string(&s.config).unwrap().replacen(
        "instances = 4\n",
        &format!("{limits}\n"),
        1,
    );
    std::fs::write(&s.config, text).unwrap();
    (s, p)
}

/// A connection to 127.0.0.1:`port` from the local address `from`, blocking, 30 s reads.
fn connect_from(from: &str, port: u16) -> TcpStream {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let s = rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket
            .bind(format!("{from}:0").parse::<SocketAddr>().unwrap())
            .unwrap();
        socket
            .connect(SocketAddr::from(([127, 0, 0, 1], port)))
            .await
            .unwrap()
            .into_std()
            .unwrap()
    });
    s.set_nonblocking(false).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

/// Reads until the other end closes, for at most `within`: how long that took, or `None`.
fn closed_after(s: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    while started.elapsed() < within {
        s.set_read_timeout(Some(
            within
                .saturating_sub(started.elapsed())
                .max(Duration::from_millis(10)),
        ))
        .unwrap();
        match s.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return Some(started.elapsed()),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("read: {e}"),
            Ok(_) => {}
        }
    }
    None
}

/// The text between STX and ETX of the next UCP or CIMD2 frame; `None` once closed.
fn read_stx_etx(s: &mut TcpStream) -> Option<String> {
    let mut frame = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match s.read(&mut byte) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return None,
            Err(e) => panic!("read: {e}"),
        }
        match byte[0] {
            0x02 => frame.clear(),
            0x03 => return Some(String::from_utf8_lossy(&frame).into_owned()),
            b => frame.push(b),
        }
    }
}

fn read_line(s: &mut TcpStream) -> Option<String> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match s.read(&mut byte) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return None,
            Err(e) => panic!("read: {e}"),
        }
        if byte[0] == b'\n' {
            return Some(String::from_utf8_lossy(&line).into_owned());
        }
        line.push(byte[0]);
    }
}

// --- the protocols, as the raw clients speak them ------------------------------------------

fn smpp_bind(seq: u32, user: &str, password: &str) -> Vec<u8> {
    let bind = Body::Bind(Bind {
        system_id: user.into(),
        password: password.into(),
        interface_version: 0x34,
        ..Default::default()
    });
    let mut out = bytes::BytesMut::new();
    encode(&Pdu::new(command::BIND_TRANSCEIVER, seq, bind), &mut out);
    out.to_vec()
}

fn smpp_read(s: &mut TcpStream) -> Option<Pdu> {
    let mut buf = bytes::BytesMut::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(p) = decode(&mut buf, DEFAULT_MAX_PDU_LEN).unwrap() {
            return Some(p);
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A UCP frame as tests/peers/crash_client.py builds it.
fn ucp_frame(trn: u8, kind: &str, ot: u8, fields: &[&str]) -> Vec<u8> {
    let rest = format!("{kind}/{ot:02}/{}/", fields.join("/"));
    let len = 2 + 1 + 5 + 1 + rest.len() + 2;
    let body = format!("{trn:02}/{len:05}/{rest}");
    let cs = body.bytes().map(u32::from).sum::<u32>() % 256;
    format!("\x02{body}{cs:02X}\x03").into_bytes()
}

fn ucp_login(user: &str, password: &str) -> Vec<u8> {
    let pwd = password
        .bytes()
        .map(|b| format!("{b:02X}"))
        .collect::<String>();
    ucp_frame(
        1,
        "O",
        60,
        &[user, "6", "5", "1", &pwd, "", "0100", "", "", "", "", ""],
    )
}

/// Whether a UCP result is positive (`A`).
fn ucp_positive(text: &str) -> bool {
    text.split('/').nth(4) == Some("A")
}

fn cimd_packet(op: u8, number: u8, params: &[(u16, &str)]) -> Vec<u8> {
    let mut body = format!("\x02{op:02}:{number:03}\t");
    for (code, value) in params {
        body.push_str(&format!("{code:03}:{value}\t"));
    }
    let cs = body.bytes().map(u32::from).sum::<u32>() % 256;
    format!("{body}{cs:02X}\x03").into_bytes()
}

/// Whether a CIMD2 login response carries no error code (900).
fn cimd_login_ok(text: &str) -> bool {
    text.starts_with("51:") && !text.contains("\t900:")
}

/// A python client's run (tests/peers/crash_client.py, no kill): its JSON report.
fn crash_client(proto: &str, port: u16, user: &str, password: &str) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/crash_client.py");
    let out = Command::new("python3")
        .arg(&script)
        .args([
            "--proto",
            proto,
            "--port",
            &port.to_string(),
            "--count",
            "3",
        ])
        .args([
            "--dest",
            "4670000001",
            "--user",
            user,
            "--password",
            password,
        ])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "crash_client.py {proto} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn three_acknowledged(proto: &str, port: u16, user: &str, password: &str) {
    let r = crash_client(proto, port, user, password);
    assert_eq!(
        r["acknowledged"].as_array().map(Vec::len),
        Some(3),
        "{proto} as {user}: {r}"
    );
}

fn smtplib_auth(port: u16, user: &str, password: &str) -> Value {
    let out = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/smtplib_send.py"))
        .args(["--port", &port.to_string(), "--kind", "plain"])
        .args(["--auth", &format!("{user}:{password}")])
        .args(["--to", "4670000002@sms.example.com"])
        .output()
        .expect("python3 runs");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "smtplib_send.py: {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn smtp_auth_plain(user: &str, password: &str) -> String {
    use base64::Engine as _;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
    format!("AUTH PLAIN {token}\r\n")
}

/// Sends `line` and reads the SMTP reply (its last line).
fn smtp_command(s: &mut TcpStream, line: &str) -> String {
    s.write_all(line.as_bytes()).unwrap();
    loop {
        let l = read_line(s).unwrap_or_default();
        if l.len() < 4 || l.as_bytes()[3] != b'-' {
            return l;
        }
    }
}

// --- half-written frames ---------------------------------------------------------------------

/// Logs in on a raw connection, writes the start of a frame and goes silent: the session
/// must close within `frame_timeout` (2 s) plus a margin, not at once.
fn assert_half_frame_closed(name: &str, s: &mut TcpStream, partial: &[u8]) {
    s.write_all(partial).unwrap();
    let after = closed_after(s, Duration::from_secs(8));
    let after = after.unwrap_or_else(|| panic!("{name}: a half-written frame kept the session"));
    assert!(
        after >= Duration::from_millis(1500),
        "{name}: closed after {after:?}, before frame_timeout"
    );
}

#[test]
fn half_written_frames_are_closed_after_frame_timeout_and_the_instance_is_freed() {
    let (setup, p) = gateway();
    let _d = setup.start();
    wait_port(p.mgp);
    wait_port(p.smtp);

    // SMPP: bound, then 10 octets of a 100-octet PDU.
    let mut s = connect_from("127.0.0.2", setup.smpp_port);
    s.write_all(&smpp_bind(1, "demo", "demo")).unwrap();
    assert_eq!(smpp_read(&mut s).map(|p| p.status), Some(status::ESME_ROK));
    assert_half_frame_closed("SMPP", &mut s, &[0, 0, 0, 100, 0, 0, 0, 4, 0, 0]);
    let r = smpplib(setup.smpp_port, &["--bind-only"]);
    assert_eq!(r["bound"], true, "the one instance is free again: {r}");

    // UCP: logged in, then the header of an operation and no more.
    let mut s = connect_from("127.0.0.2", p.ucp);
    s.write_all(&ucp_login("client", "secret")).unwrap();
    assert!(read_stx_etx(&mut s).is_some_and(|t| ucp_positive(&t)));
    assert_half_frame_closed("UCP", &mut s, b"\x0202/00100/O/51/4670");
    three_acknowledged("ucp", p.ucp, "client", "secret");

    // CIMD2.
    let mut s = connect_from("127.0.0.2", p.cimd);
    s.write_all(&cimd_packet(1, 1, &[(10, "client"), (11, "secret")]))
        .unwrap();
    assert!(read_stx_etx(&mut s).is_some_and(|t| cimd_login_ok(&t)));
    assert_half_frame_closed("CIMD2", &mut s, b"\x0203:003\t021:4670");
    three_acknowledged("cimd2", p.cimd, "client", "secret");

    // MGP applications: half a JSON line.
    let mut s = connect_from("127.0.0.2", p.mgp);
    s.write_all(b"{\"id\":1,\"op\":\"login\",\"user\":\"client\",\"password\":\"secret\"}\n")
        .unwrap();
    let answer = read_line(&mut s).unwrap();
    assert!(answer.contains("\"ok\""), "{answer}");
    assert_half_frame_closed("MGP", &mut s, b"{\"id\":2,\"op\":\"sub");
    three_acknowledged("mgp", p.mgp, "client", "secret");

    for (connector, what) in [
        ("connector.smpp-in", "frame timeout: 10 octets"),
        ("connector.ucp-in", "frame timeout"),
        ("connector.cimd-in", "frame timeout"),
        ("connector.apps", "frame timeout"),
    ] {
        let log = setup.log(connector);
        assert!(
            log.contains(&format!("PDU ERR (info=\"{what}")),
            "{connector}: {log}"
        );
    }

    // SMTP: half a command line; `smtp_timeout` (2 s) answers 421 and closes.
    let mut s = connect_from("127.0.0.2", p.smtp);
    assert!(read_line(&mut s).unwrap().starts_with("220"));
    assert!(smtp_command(&mut s, "EHLO raw.test\r\n").starts_with("250"));
    s.write_all(b"MAIL FROM:<half@exa").unwrap();
    let started = Instant::now();
    let reply = read_line(&mut s).unwrap_or_default();
    assert!(reply.starts_with("421"), "{reply}");
    assert!(closed_after(&mut s, Duration::from_secs(5)).is_some());
    assert!(started.elapsed() >= Duration::from_millis(1500));
    let r = smtplib_auth(p.smtp, "client", "secret");
    assert_eq!(r["code"], 250, "{r}");
}

// --- oversized frames ------------------------------------------------------------------------

#[test]
fn oversized_frames_get_the_protocol_error_and_close_the_session() {
    let (setup, p) = gateway();
    let _d = setup.start();
    wait_port(p.mgp);

    // SMPP: a command_length of 2 GB is answered generic_nack ESME_RINVCMDLEN at once.
    let mut s = connect_from("127.0.0.2", setup.smpp_port);
    s.write_all(&[0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1])
        .unwrap();
    let nack = smpp_read(&mut s).expect("a generic_nack");
    assert_eq!(
        (nack.command_id, nack.status),
        (command::GENERIC_NACK, status::ESME_RINVCMDLEN)
    );
    assert!(closed_after(&mut s, Duration::from_secs(2)).is_some());

    // UCP and CIMD2: 8 KB without ETX (the bound is 4096 octets).
    for port in [p.ucp, p.cimd] {
        let mut s = connect_from("127.0.0.2", port);
        let mut endless = vec![0x02u8];
        endless.extend(std::iter::repeat_n(b'7', 8192));
        let _ = s.write_all(&endless);
        assert!(
            closed_after(&mut s, Duration::from_secs(2)).is_some(),
            "{port}: an endless frame kept the session"
        );
    }

    // MGP applications: a line over 1 MiB is answered with an error and closes.
    let mut s = connect_from("127.0.0.2", p.mgp);
    let _ = s.write_all(&vec![b' '; (1 << 20) + 10]);
    let answer = read_line(&mut s).unwrap_or_default();
    assert!(answer.contains("\"error\""), "{answer}");
    assert!(closed_after(&mut s, Duration::from_secs(2)).is_some());

    for connector in [
        "connector.smpp-in",
        "connector.ucp-in",
        "connector.cimd-in",
        "connector.apps",
    ] {
        // The connector log is written behind the session: wait for its line.
        let logged = wait_for(Duration::from_secs(5), || {
            setup.log(connector).contains("PDU ERR (info=\"")
        });
        assert!(logged, "{connector}: {}", setup.log(connector));
    }
    // Each connector still takes its clients.
    let r = smpplib(setup.smpp_port, &["--bind-only"]);
    assert_eq!(r["bound"], true, "{r}");
    three_acknowledged("ucp", p.ucp, "client", "secret");
    three_acknowledged("cimd2", p.cimd, "client", "secret");
    three_acknowledged("mgp", p.mgp, "client", "secret");
}

// --- wrong passwords in a burst --------------------------------------------------------------

/// One login attempt per new connection from 127.0.0.2: whether it was accepted.
fn attempt(proto: &str, port: u16, user: &str, password: &str) -> bool {
    let mut s = connect_from("127.0.0.2", port);
    match proto {
        "ucp" => {
            s.write_all(&ucp_login(user, password)).unwrap();
            read_stx_etx(&mut s).is_some_and(|t| ucp_positive(&t))
        }
        "cimd2" => {
            s.write_all(&cimd_packet(1, 1, &[(10, user), (11, password)]))
                .unwrap();
            read_stx_etx(&mut s).is_some_and(|t| cimd_login_ok(&t))
        }
        "mgp" => {
            let login = format!(
                "{{\"id\":1,\"op\":\"login\",\"user\":\"{user}\",\"password\":\"{password}\"}}\n"
            );
            s.write_all(login.as_bytes()).unwrap();
            read_line(&mut s).is_some_and(|l| l.contains("\"ok\""))
        }
        "smtp" => {
            let _greeting = read_line(&mut s);
            smtp_command(&mut s, "EHLO raw.test\r\n");
            smtp_command(&mut s, &smtp_auth_plain(user, password)).starts_with("235")
        }
        _ => unreachable!(),
    }
}

#[test]
fn wrong_logins_in_a_burst_are_braked_and_a_hashed_user_logs_in_from_another_address() {
    let (setup, p) = gateway();
    let _d = setup.start();
    wait_port(p.mgp);
    wait_port(p.smtp);
    for (proto, port, connector) in [
        ("ucp", p.ucp, "connector.ucp-in"),
        ("cimd2", p.cimd, "connector.cimd-in"),
        ("mgp", p.mgp, "connector.apps"),
        ("smtp", p.smtp, "connector.mail-in"),
    ] {
        let started = Instant::now();
        let burst: Vec<bool> = (0..10)
            .map(|_| attempt(proto, port, "hashed", "wrong"))
            .collect();
        assert!(burst.iter().all(|ok| !ok), "{proto}: {burst:?}");
        // Braked: the right password from the same address is refused too.
        assert!(
            !attempt(proto, port, "hashed", HASHED_PASSWORD),
            "{proto}: the right password got through the brake"
        );
        eprintln!("{proto}: 11 refused logins in {:?}", started.elapsed());
        let log = setup.log(connector);
        assert!(
            log.contains("LOGIN ERR (info=\"127.0.0.2: too many failed logins from 127.0.0.2"),
            "{proto}: {log}"
        );
        // The user is not locked out: from 127.0.0.1 its hashed password logs in.
        match proto {
            "smtp" => {
                let r = smtplib_auth(port, "hashed", HASHED_PASSWORD);
                assert_eq!(r["code"], 250, "{r}");
            }
            _ => three_acknowledged(proto, port, "hashed", HASHED_PASSWORD),
        }
    }
}
