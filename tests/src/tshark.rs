//! Wireshark's dissectors as the wire oracle: frames we encode go into a pcap (through
//! `text2pcap`, one TCP segment each) and `tshark` decodes them with the UCP or CIMD
//! dissector; the tests then compare every field tshark saw with what we sent. tshark and
//! text2pcap are test peers: a missing one fails the test, it never skips.
//!
//! The codec tests in `common/tests` include this file by path (common cannot depend on this
//! crate), so it needs nothing but std and serde_json.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

/// What tshark made of one packet.
#[derive(Debug, Default)]
pub struct Dissected {
    /// The Info column: shows "[checksum invalid]" / "invalid checksum" when tshark disagrees.
    pub info: String,
    /// Every field under the protocol's layer, flattened in order (`name`, shown value).
    pub fields: Vec<(String, String)>,
    /// Expert infos anywhere in the packet, and whether tshark flagged it malformed.
    pub expert: Vec<String>,
    pub malformed: bool,
}

impl Dissected {
    /// Values of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.all(name).first().copied()
    }
}

fn require(tool: &str) {
    let found = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{tool} is missing: the wire-oracle tests need Wireshark's command-line tools \
         (DEBIAN_FRONTEND=noninteractive apt-get install -y tshark; scripts/test installs it)"
    );
}

/// Decodes `packets` with the dissector `proto` ("ucp" or "cimd") on TCP port 5000.
pub fn dissect(proto: &str, packets: &[Vec<u8>]) -> Vec<Dissected> {
    require("tshark");
    require("text2pcap");
    let dir = ScratchDir::new();
    let (dump, pcap) = (dir.0.join("frames.txt"), dir.0.join("frames.pcap"));
    let mut text = String::new();
    for p in packets {
        for (i, chunk) in p.chunks(16).enumerate() {
            let _ = write!(text, "{:06x}", i * 16);
            for b in chunk {
                let _ = write!(text, " {b:02x}");
            }
            text.push('\n');
        }
        text.push('\n');
    }
    std::fs::write(&dump, text).expect("write the hex dump");
    run(
        "text2pcap",
        &[
            "-q",
            "-T",
            "40000,5000",
            "-4",
            "127.0.0.1,127.0.0.1",
            path(&dump),
            path(&pcap),
        ],
    );
    let decode_as = format!("tcp.port==5000,{proto}");
    let infos = run(
        "tshark",
        &[
            "-r",
            path(&pcap),
            "-d",
            &decode_as,
            "-T",
            "fields",
            "-e",
            "_ws.col.Info",
        ],
    );
    let json = run(
        "tshark",
        &[
            "-r",
            path(&pcap),
            "-d",
            &decode_as,
            "-T",
            "json",
            "--no-duplicate-keys",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&json).expect("tshark -T json gives JSON");
    let out: Vec<Dissected> = v
        .as_array()
        .expect("one element per packet")
        .iter()
        .zip(infos.lines())
        .map(|(pkt, info)| {
            let layers = &pkt["_source"]["layers"];
            let mut d = Dissected {
                info: info.to_string(),
                malformed: layers.get("_ws.malformed").is_some(),
                ..Dissected::default()
            };
            walk(&layers[proto], &mut d);
            if let Some(obj) = layers.as_object() {
                for (k, v) in obj {
                    if k != proto {
                        let mut other = Dissected::default();
                        walk(v, &mut other);
                        d.expert.extend(other.expert);
                    }
                }
            }
            d
        })
        .collect();
    assert_eq!(
        out.len(),
        packets.len(),
        "tshark saw a different number of packets"
    );
    out
}

/// A directory of our own under the system's temporary directory, removed on drop.
struct ScratchDir(std::path::PathBuf);

impl ScratchDir {
    fn new() -> ScratchDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("emg-tshark-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&p).expect("create a scratch directory");
        ScratchDir(p)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn walk(v: &serde_json::Value, d: &mut Dissected) {
    let Some(obj) = v.as_object() else { return };
    for (k, v) in obj {
        let mut push = |s: &serde_json::Value| match s {
            serde_json::Value::String(s) => {
                if k == "_ws.expert.message" {
                    d.expert.push(s.clone());
                }
                d.fields.push((k.clone(), s.clone()));
            }
            other => walk(other, d),
        };
        match v {
            serde_json::Value::Array(items) => items.iter().for_each(&mut push),
            other => push(other),
        }
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

fn run(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("tshark prints UTF-8")
}

/// How tshark shows a UCP time stamp (DDMMYYHHmm or DDMMYYhhmmss), e.g.
/// `Dec 30, 1996 12:12:00.000000000 UTC`.
pub fn ucp_time(t: &str) -> String {
    let n = |i: usize| t[i..i + 2].parse::<u32>().expect("digits");
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let year = n(4);
    let year = if year < 70 { 2000 + year } else { 1900 + year };
    let secs = if t.len() == 12 { n(10) } else { 0 };
    format!(
        "{} {:>2}, {year} {:02}:{:02}:{secs:02}.000000000 UTC",
        months[n(2) as usize - 1],
        n(0),
        n(6),
        n(8)
    )
}
