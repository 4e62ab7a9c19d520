//! The brake on failed logins of an incoming connector (SMPP binds, UCP and CIMD2 logins,
//! HTTP passwords, SMTP AUTH, MGP application logins), like MGP's on operators: after
//! `max_login_failures` failures from one source address within `login_block` seconds, every
//! login from it is refused for `login_block` seconds after the last failure, whatever its
//! password; after five times as many failures for one user name (from any addresses), that
//! user's logins are refused the same way. A refused login is not a password check, so it does
//! not count: an attacker on one address locks out that address, not the user it attacks.
//! [`crate::connector::runtime::link::Link::authenticate`] checks a login behind it. The table is bounded ([`MAX_TRACKED`]); stale entries are dropped first.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Addresses or users whose recent failures are remembered, at most (each table).
pub const MAX_TRACKED: usize = 10_000;
/// A user is refused after this many times `max_login_failures` failures.
pub const USER_FACTOR: u32 = 5;

#[derive(Default)]
pub struct Logins {
    by_ip: Mutex<Table<IpAddr>>,
    by_user: Mutex<Table<String>>,
}

/// Why a login is refused before its password is looked at.
#[derive(Debug, Clone, PartialEq)]
pub enum Blocked {
    Address(IpAddr, Duration),
    User(String, Duration),
}

impl Blocked {
    /// How long until it may try again (at least a second).
    pub fn retry_after(&self) -> Duration {
        let (Blocked::Address(_, d) | Blocked::User(_, d)) = self;
        (*d).max(Duration::from_secs(1))
    }
}

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.retry_after().as_secs();
        match self {
            Blocked::Address(ip, _) => {
                write!(f, "too many failed logins from {ip}; blocked for {secs} s")
            }
            Blocked::User(u, _) => write!(
                f,
                "too many failed logins for user {u}; blocked for {secs} s"
            ),
        }
    }
}

struct Table<K> {
    failures: HashMap<K, VecDeque<Instant>>,
}

impl<K> Default for Table<K> {
    fn default() -> Self {
        Table {
            failures: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq + Clone> Table<K> {
    /// How long `key` stays refused, if it is.
    fn blocked(&mut self, key: &K, max: u32, window: Duration, now: Instant) -> Option<Duration> {
        let times = self.failures.get_mut(key)?;
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            times.pop_front();
        }
        if times.is_empty() {
            self.failures.remove(key);
            return None;
        }
        let last = *times.back()?;
        (times.len() >= max as usize).then(|| window.saturating_sub(now.duration_since(last)))
    }

    fn failed(&mut self, key: &K, max: u32, window: Duration, now: Instant) {
        if !self.failures.contains_key(key) && self.failures.len() >= MAX_TRACKED {
            self.failures
                .retain(|_, t| t.back().is_some_and(|l| now.duration_since(*l) < window));
            if self.failures.len() >= MAX_TRACKED {
                return;
            }
        }
        let times = self.failures.entry(key.clone()).or_default();
        times.push_back(now);
        while times.len() > max as usize {
            times.pop_front();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn limits(cfg: &config::Connector) -> (u32, u32, Duration) {
    let max = cfg.max_login_failures.max(1);
    (
        max,
        max.saturating_mul(USER_FACTOR),
        Duration::from_secs(cfg.login_block),
    )
}

impl Logins {
    /// `Err` while logins from `ip` or for `user` are refused on `cfg`'s limits.
    pub fn check(&self, cfg: &config::Connector, ip: IpAddr, user: &str) -> Result<(), Blocked> {
        let (per_ip, per_user, window) = limits(cfg);
        let now = Instant::now();
        if let Some(d) = lock(&self.by_ip).blocked(&ip, per_ip, window, now) {
            return Err(Blocked::Address(ip, d));
        }
        if let Some(d) = lock(&self.by_user).blocked(&user.to_string(), per_user, window, now) {
            return Err(Blocked::User(user.to_string(), d));
        }
        Ok(())
    }

    /// A login from `ip` as `user` was checked and refused.
    pub fn failed(&self, cfg: &config::Connector, ip: IpAddr, user: &str) {
        let (per_ip, per_user, window) = limits(cfg);
        let now = Instant::now();
        lock(&self.by_ip).failed(&ip, per_ip, window, now);
        lock(&self.by_user).failed(&user.to_string(), per_user, window, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(max: u32) -> config::Connector {
        let toml = "datadir = \"d\"\nlogdir = \"l\"\n[connector.in]\ntype = \"incoming\"\nprotocol = \"smpp\"\naddress = \"127.0.0.1:1\"\n";
        let all = config::parse_str(toml, std::path::Path::new("/nonexistent/emg.toml")).unwrap();
        let mut c = all.connectors["in"].clone();
        c.max_login_failures = max;
        c
    }

    #[test]
    fn an_address_is_refused_after_its_failures_and_others_are_not() {
        let (l, c) = (Logins::default(), cfg(3));
        let (bad, good): (IpAddr, IpAddr) =
            ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..3 {
            assert!(l.check(&c, bad, "demo").is_ok());
            l.failed(&c, bad, "demo");
        }
        let refused = l.check(&c, bad, "demo").unwrap_err();
        assert!(matches!(refused, Blocked::Address(ip, _) if ip == bad));
        assert!(refused.retry_after() <= Duration::from_secs(60));
        assert!(
            l.check(&c, good, "demo").is_ok(),
            "the user is not locked out by one address"
        );
    }

    #[test]
    fn a_user_is_refused_after_five_times_as_many_failures_from_anywhere() {
        let (l, c) = (Logins::default(), cfg(2));
        for i in 0..10u8 {
            let ip = IpAddr::from([10, 0, 1, i]);
            l.failed(&c, ip, "demo");
        }
        let other = IpAddr::from([10, 0, 2, 1]);
        assert!(matches!(l.check(&c, other, "demo"), Err(Blocked::User(..))));
        assert!(l.check(&c, other, "someone").is_ok());
    }
}
