//! A recording TCP relay between a third-party client (Kannel) and emgd, so the tests can put
//! every frame both sides wrote through Wireshark's dissectors: the client connects to
//! [`Recorder::port`], the relay connects to emgd and copies both ways, keeping each
//! connection's two byte streams. UCP and CIMD2 frames both run from STX to ETX.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// Bytes per (connection, direction): 'C' client to emgd, 'S' emgd to client.
type Streams = Arc<Mutex<Vec<(usize, char, Vec<u8>)>>>;

pub struct Recorder {
    pub port: u16,
    streams: Streams,
}

impl Recorder {
    /// Relays connections on a free port to 127.0.0.1:`target`.
    pub fn start(target: u16) -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let streams: Streams = Arc::default();
        let keep = streams.clone();
        std::thread::spawn(move || {
            for (conn, client) in listener.incoming().enumerate() {
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let _ = (client.set_nodelay(true), server.set_nodelay(true));
                copy(conn, 'C', &client, &server, keep.clone());
                copy(conn, 'S', &server, &client, keep.clone());
            }
        });
        Recorder { port, streams }
    }

    /// Every complete frame seen, with its direction.
    pub fn frames(&self) -> Vec<(char, Vec<u8>)> {
        let streams = self.streams.lock().unwrap();
        let mut out = Vec::new();
        for (_, dir, bytes) in streams.iter() {
            let mut start = None;
            for (i, &b) in bytes.iter().enumerate() {
                match b {
                    0x02 => start = Some(i),
                    0x03 => {
                        if let Some(s) = start.take() {
                            out.push((*dir, bytes[s..=i].to_vec()));
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }
}

fn copy(conn: usize, dir: char, from: &TcpStream, to: &TcpStream, streams: Streams) {
    let (mut from, mut to) = (from.try_clone().unwrap(), to.try_clone().unwrap());
    let at = {
        let mut s = streams.lock().unwrap();
        s.push((conn, dir, Vec::new()));
        s.len() - 1
    };
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    streams.lock().unwrap()[at].2.extend_from_slice(&buf[..n]);
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}
