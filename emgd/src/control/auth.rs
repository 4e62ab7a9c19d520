//! Operator logins: accounts from `[operator.NAME]`, Argon2 verification off the async
//! threads, and a per-origin brake on failures.
//!
//! After [`FREE_FAILURES`] failed logins from one IP address (or, on the local socket, one
//! user id), that origin is refused for a delay that doubles with each further failure (1 s,
//! 2 s, 4 s ... up to [`MAX_BLOCK`]); a success forgets its failures. Every failure is logged
//! with user and peer.

use super::peer::{role_of, Origin, Peer};
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use common::mgp::{ErrorBody, ErrorCode, Role};
use config::{Operator, OperatorSecret};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed from one address before logins from it are delayed.
pub const FREE_FAILURES: u32 = 5;
/// Longest refusal period.
pub const MAX_BLOCK: Duration = Duration::from_secs(300);

#[derive(Default)]
pub struct Limiter {
    by_origin: Mutex<HashMap<Origin, Failures>>,
}

struct Failures {
    count: u32,
    blocked_until: Option<Instant>,
}

impl Limiter {
    /// `Err(wait)` while `ip` is refused.
    fn check(&self, ip: Origin) -> Result<(), Duration> {
        let map = self.by_origin.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&ip).and_then(|f| f.blocked_until) {
            Some(until) if until > Instant::now() => Err(until - Instant::now()),
            _ => Ok(()),
        }
    }

    fn failed(&self, ip: Origin) {
        let mut map = self.by_origin.lock().unwrap_or_else(|p| p.into_inner());
        let f = map.entry(ip).or_insert(Failures {
            count: 0,
            blocked_until: None,
        });
        f.count += 1;
        if f.count >= FREE_FAILURES {
            let exp = (f.count - FREE_FAILURES).min(16);
            let block = Duration::from_secs(1u64 << exp).min(MAX_BLOCK);
            f.blocked_until = Some(Instant::now() + block);
        }
    }

    fn succeeded(&self, ip: Origin) {
        self.by_origin
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&ip);
    }
}

/// Check `user`/`password` against `operators`; the role on success.
pub async fn login(
    operators: &BTreeMap<String, Operator>,
    limiter: &Limiter,
    peer: &Peer,
    user: &str,
    password: &str,
) -> Result<Role, ErrorBody> {
    let ip = peer.origin();
    if let Err(wait) = limiter.check(ip) {
        tracing::warn!(user, %peer, "MGP login refused: too many failures from this address");
        return Err(ErrorBody::new(
            ErrorCode::AuthFailed,
            format!(
                "too many failed logins from {ip}; try again in {} s",
                wait.as_secs().max(1)
            ),
        ));
    }
    let account = operators.get(user).cloned();
    let verified = match &account {
        None => false,
        Some(a) => match &a.secret {
            OperatorSecret::Plain(p) => constant_time_eq(p.as_bytes(), password.as_bytes()),
            OperatorSecret::Hash(h) => {
                let (h, pw) = (h.clone(), password.to_string());
                tokio::task::spawn_blocking(move || verify_hash(&h, &pw))
                    .await
                    .unwrap_or(false)
            }
        },
    };
    match (verified, account) {
        (true, Some(a)) => {
            limiter.succeeded(ip);
            tracing::info!(user, %peer, "MGP login");
            Ok(role_of(a.role))
        }
        _ => {
            limiter.failed(ip);
            tracing::warn!(user, %peer, "MGP login failed: wrong user or password");
            Err(ErrorBody::new(
                ErrorCode::AuthFailed,
                format!("login failed for user {user}: wrong user or password"),
            ))
        }
    }
}

/// Verify `password` against an Argon2 PHC string.
pub fn verify_hash(phc: &str, password: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(e) => {
            tracing::error!("an operator's password_hash cannot be parsed: {e}");
            false
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_block_an_address_with_a_growing_delay() {
        let l = Limiter::default();
        let ip = Origin::Ip("192.0.2.1".parse().unwrap());
        for _ in 0..FREE_FAILURES - 1 {
            l.failed(ip);
            assert!(l.check(ip).is_ok());
        }
        l.failed(ip);
        let first = l.check(ip).unwrap_err();
        assert!(first <= Duration::from_secs(1) && first > Duration::from_millis(500));
        l.failed(ip);
        let second = l.check(ip).unwrap_err();
        assert!(second > Duration::from_millis(1500), "{second:?}");
        assert!(
            l.check(Origin::Ip("192.0.2.2".parse().unwrap())).is_ok(),
            "per address"
        );
        assert!(l.check(Origin::Uid(1000)).is_ok(), "per local user");
        l.succeeded(ip);
        assert!(l.check(ip).is_ok());
    }

    #[test]
    fn argon2_hashes_verify() {
        use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
        let salt = SaltString::generate(&mut OsRng);
        let phc = Argon2::default()
            .hash_password(b"s3cret", &salt)
            .unwrap()
            .to_string();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_hash(&phc, "s3cret"));
        assert!(!verify_hash(&phc, "s3cre"));
        assert!(!verify_hash("garbage", "s3cret"));
    }
}
