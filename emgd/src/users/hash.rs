//! `[user.NAME]` passwords stored as Argon2 hashes (`password_hash`): verified off the async
//! threads, and remembered once verified so that a hot bind or HTTP path does not pay Argon2
//! (tens of milliseconds of CPU) per request.
//!
//! The memo keeps, per user and hash, an HMAC-SHA256 of the password that verified, under a
//! key drawn at start and never written anywhere (not the password itself); a later request
//! with the same password costs one HMAC. A reload that changes a user's hash makes its entry
//! useless (the hash is part of the key); failures are never remembered.

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use ring::hmac;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Verified (user, hash) pairs at most remembered; past it the memo starts over.
const MAX_REMEMBERED: usize = 10_000;

struct Memo {
    key: hmac::Key,
    verified: Mutex<HashMap<(String, String), hmac::Tag>>,
}

fn memo() -> &'static Memo {
    static MEMO: OnceLock<Memo> = OnceLock::new();
    MEMO.get_or_init(|| Memo {
        key: hmac::Key::generate(hmac::HMAC_SHA256, &ring::rand::SystemRandom::new())
            .expect("the system's random generator works"),
        verified: Mutex::new(HashMap::new()),
    })
}

/// Whether `password` is the one `hash` (a PHC string, checked at load) was made from.
pub fn verify(user: &str, hash: &str, password: &str) -> bool {
    let memo = memo();
    let pair = (user.to_string(), hash.to_string());
    let known = memo
        .verified
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&pair)
        .map(|tag| hmac::verify(&memo.key, password.as_bytes(), tag.as_ref()).is_ok());
    if let Some(ok) = known {
        if ok {
            return true;
        }
    }
    if !off_the_runtime(|| argon2_verify(hash, password)) {
        return false;
    }
    let tag = hmac::sign(&memo.key, password.as_bytes());
    let mut verified = memo.verified.lock().unwrap_or_else(|p| p.into_inner());
    if verified.len() >= MAX_REMEMBERED {
        verified.clear();
    }
    verified.insert(pair, tag);
    true
}

fn argon2_verify(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .and_then(|h| Argon2::default().verify_password(password.as_bytes(), &h))
        .is_ok()
}

/// `f` (Argon2's CPU) without stalling the tasks of the worker thread that runs it: on the
/// multi-threaded runtime (emgd's) the worker hands its other tasks to the others first;
/// outside a runtime, or on a single-threaded one (some unit tests), it just runs.
fn off_the_runtime<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

#[cfg(test)]
mod tests {
    use super::verify;
    use argon2::password_hash::{PasswordHasher, SaltString};
    use std::time::Instant;

    fn hash(password: &str) -> String {
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .unwrap()
            .to_string()
    }

    #[test]
    fn right_password_verifies_wrong_ones_never_and_the_second_time_is_cheap() {
        let h = hash("s3cret");
        assert!(!verify("memo-u", &h, "wrong"));
        let first = Instant::now();
        assert!(verify("memo-u", &h, "s3cret"));
        let argon = first.elapsed();
        let again = Instant::now();
        for _ in 0..100 {
            assert!(verify("memo-u", &h, "s3cret"));
        }
        let memo = again.elapsed() / 100;
        // Remembered: a wrong password still fails (and is checked in full).
        assert!(!verify("memo-u", &h, "s3cret "));
        assert!(!verify("memo-u", &h, ""));
        // Another user with the same hash is not let in by the first one's memo.
        assert!(!verify("memo-v", &h, "wrong"));
        assert!(
            memo * 50 < argon,
            "remembered verify {memo:?} vs Argon2 {argon:?}"
        );
        eprintln!("argon2 verify {argon:?}, remembered {memo:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn runs_on_the_runtime_without_panicking() {
        let h = hash("pw");
        assert!(verify("rt-u", &h, "pw"));
        assert!(!verify("rt-u", &h, "nope"));
    }
}
