//! Hostile clients on the operators' MGP listener (`mgp_address`, issue 23): 1,000
//! connections from one address are not all kept (`mgp_max_connections_per_ip`), every
//! address together is capped (`mgp_max_connections`), a connection that does not log in is
//! closed after `mgp_login_timeout`, and failed operator logins in a burst are braked, while
//! the real emgclient, from another address, still works. The attacks are raw sockets from
//! 127.0.0.2 and up; emgclient connects from 127.0.0.1.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use support::client::Operator;
use support::peers::wait_port;
use support::Setup;
use tests::daemon::free_port;

fn gateway(limits: &str) -> (Setup, u16) {
    let mgp = free_port();
    let general = format!("mgp_address = \"127.0.0.1:{mgp}\"\n{limits}");
    let extra = "\n[operator.admin]\npassword = \"secret\"\nrole = \"admin\"\n";
    (Setup::new(&general, "", extra), mgp)
}

fn raise_nofile() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain system calls on a local struct.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
    }
}

fn connect_from(from: &str, port: u16) -> TcpStream {
    let socket = socket_from(from);
    let s = tokio_rt().block_on(async {
        socket
            .connect(SocketAddr::from(([127, 0, 0, 1], port)))
            .await
            .unwrap()
            .into_std()
            .unwrap()
    });
    s.set_nonblocking(false).unwrap();
    s
}

fn socket_from(from: &str) -> tokio::net::TcpSocket {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind(format!("{from}:0").parse::<SocketAddr>().unwrap())
        .unwrap();
    socket
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Whether the other end has closed `s` (or closes it within `within`).
fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
            Ok(_) if Instant::now() > deadline => return false,
            Ok(_) => {}
        }
    }
}

fn emgclient_works(mgp: u16) {
    let status = Operator { mgp }.json(&["status"]);
    assert!(status.is_object(), "{status}");
}

#[test]
fn a_thousand_connections_are_not_all_kept_and_silent_ones_are_closed_after_mgp_login_timeout() {
    raise_nofile();
    let (setup, mgp) =
        gateway("mgp_login_timeout = 5\nmgp_max_connections = 40\nmgp_max_connections_per_ip = 20");
    let _d = setup.start();
    wait_port(mgp);
    let mut flood: Vec<TcpStream> = (0..1000).map(|_| connect_from("127.0.0.2", mgp)).collect();
    std::thread::sleep(Duration::from_secs(1));
    // Twenty are kept (until mgp_login_timeout); the others were closed at once.
    let mut held = Vec::new();
    for c in flood.iter_mut() {
        if !closed_within(c, Duration::from_millis(20)) {
            held.push(c);
        }
    }
    assert!(
        (1..=20).contains(&held.len()),
        "{} of 1000 held",
        held.len()
    );
    emgclient_works(mgp);
    let started = Instant::now();
    for c in held {
        assert!(
            closed_within(c, Duration::from_secs(8)),
            "a silent connection outlived mgp_login_timeout"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(8));

    // All addresses together: 20 from each of two fill the 40 places; a third is refused.
    let mut two: Vec<TcpStream> = ["127.0.0.3", "127.0.0.4"]
        .iter()
        .flat_map(|a| (0..20).map(move |_| *a))
        .map(|a| connect_from(a, mgp))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut third = connect_from("127.0.0.5", mgp);
    assert!(closed_within(&mut third, Duration::from_secs(2)));
    assert!(two
        .iter_mut()
        .all(|c| !closed_within(c, Duration::from_millis(1))));
    drop(two);

    let general = setup.log("general");
    for said in [
        "MGP connection refused: 20 connections open from 127.0.0.2 (mgp_max_connections_per_ip)",
        "MGP connection refused: 40 connections open (mgp_max_connections)",
        "not logged in within 5 s (mgp_login_timeout)",
    ] {
        assert!(general.contains(said), "{said}: {general}");
    }
}

#[test]
fn failed_operator_logins_are_braked_and_emgclient_still_logs_in_from_another_address() {
    let (setup, mgp) = gateway("");
    let _d = setup.start();
    wait_port(mgp);
    let mut s = connect_from("127.0.0.2", mgp);
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut answers = Vec::new();
    let mut reader = std::io::BufReader::new(s.try_clone().unwrap());
    for id in 1..=10 {
        let login = format!(
            "{{\"id\":{id},\"op\":\"login\",\"user\":\"admin\",\"password\":\"wrong{id}\"}}\n"
        );
        s.write_all(login.as_bytes()).unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
        answers.push(line);
    }
    // The right password from the braked address is refused as well.
    s.write_all(b"{\"id\":11,\"op\":\"login\",\"user\":\"admin\",\"password\":\"secret\"}\n")
        .unwrap();
    let mut right = String::new();
    std::io::BufRead::read_line(&mut reader, &mut right).unwrap();
    assert!(
        answers[..5]
            .iter()
            .all(|a| a.contains("wrong user or password")),
        "{answers:?}"
    );
    assert!(
        answers[5..]
            .iter()
            .all(|a| a.contains("too many failed logins from 127.0.0.2")),
        "{answers:?}"
    );
    assert!(right.contains("too many failed logins"), "{right}");
    emgclient_works(mgp);
    assert!(setup
        .log("general")
        .contains("MGP login refused: too many failures from this address"));
}
