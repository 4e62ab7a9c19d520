//! How many connections an incoming connector keeps open: at most `max_connections` in all
//! (logged in or not; `instances` + 64 by default) and `max_connections_per_ip` from one
//! source address. A connection over either is closed at once, before a byte is read, so
//! memory stays bounded however many an attacker opens; the caller logs the refusal.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Connections not yet logged in beyond `instances` that the default `max_connections`
/// allows.
pub const LOGGING_IN: u32 = 64;

#[derive(Default, Debug)]
pub struct Admission {
    open: Mutex<Open>,
}

#[derive(Default, Debug)]
struct Open {
    total: u32,
    by_ip: HashMap<IpAddr, u32>,
}

/// One admitted connection; counted until dropped.
#[derive(Debug)]
pub struct Admitted {
    ip: IpAddr,
    admission: Arc<Admission>,
}

/// The connection limit in force on `cfg`.
pub fn max_connections(cfg: &config::Connector) -> u32 {
    cfg.max_connections
        .unwrap_or_else(|| cfg.instances.saturating_add(LOGGING_IN))
}

impl Admission {
    /// Count a connection from `ip` on `cfg`'s limits, or say (for the connector log) why not.
    pub fn admit(
        self: &Arc<Self>,
        ip: IpAddr,
        cfg: &config::Connector,
    ) -> Result<Admitted, String> {
        self.admit_within(
            ip,
            (max_connections(cfg), "max_connections"),
            (cfg.max_connections_per_ip, "max_connections_per_ip"),
        )
    }

    /// Count a connection from `ip` if fewer than `total.0` are open in all and fewer than
    /// `per_ip.0` from `ip`; else say why, naming the keyword of the limit reached.
    pub fn admit_within(
        self: &Arc<Self>,
        ip: IpAddr,
        total: (u32, &str),
        per_ip: (u32, &str),
    ) -> Result<Admitted, String> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if open.total >= total.0 {
            return Err(format!("{} connections open ({})", total.0, total.1));
        }
        let from_ip = open.by_ip.get(&ip).copied().unwrap_or(0);
        if from_ip >= per_ip.0 {
            return Err(format!(
                "{from_ip} connections open from {ip} ({})",
                per_ip.1
            ));
        }
        open.total += 1;
        *open.by_ip.entry(ip).or_insert(0) += 1;
        Ok(Admitted {
            ip,
            admission: self.clone(),
        })
    }

    /// Connections open now.
    pub fn open(&self) -> u32 {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).total
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self
            .admission
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.by_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(total: Option<u32>, per_ip: u32) -> config::Connector {
        let toml = "datadir = \"d\"\nlogdir = \"l\"\n[connector.in]\ntype = \"incoming\"\nprotocol = \"smpp\"\naddress = \"127.0.0.1:1\"\n";
        let all = config::parse_str(toml, std::path::Path::new("/nonexistent/emg.toml")).unwrap();
        let mut c = all.connectors["in"].clone();
        c.max_connections = total;
        c.max_connections_per_ip = per_ip;
        c
    }

    #[test]
    fn connections_are_counted_per_address_and_in_all() {
        let a = Arc::new(Admission::default());
        let (one, two): (IpAddr, IpAddr) =
            ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let c = cfg(Some(3), 2);
        let x = a.admit(one, &c).unwrap();
        let _y = a.admit(one, &c).unwrap();
        assert!(a
            .admit(one, &c)
            .unwrap_err()
            .contains("max_connections_per_ip"));
        let _z = a.admit(two, &c).unwrap();
        assert!(a.admit(two, &c).unwrap_err().contains("(max_connections)"));
        drop(x);
        assert_eq!(a.open(), 2);
        assert!(a.admit(one, &c).is_ok());
    }

    #[test]
    fn the_default_total_is_instances_plus_64() {
        let mut c = cfg(None, 32);
        c.instances = 10;
        assert_eq!(max_connections(&c), 74);
    }
}
