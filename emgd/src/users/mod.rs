//! Authentication of `[user.NAME]` entries on incoming connectors, shared by every protocol
//! (SMPP binds, HTTP requests): the same password, `users` and `access` rules everywhere.

pub mod hash;

use std::net::IpAddr;

/// The user `name` with `password` may use `connector` from `ip`: the password matches, the
/// connector's `users` list (empty = everyone) names the user, and both the user's and the
/// connector's `access` lists allow the address. `None` for any refusal, without saying which,
/// as EMG answers every one of them the same way.
pub fn authenticate<'a>(
    cfg: &'a config::Config,
    connector: &config::Connector,
    name: &str,
    password: &str,
    ip: IpAddr,
) -> Option<&'a config::User> {
    let user = cfg.users.get(name)?;
    let ok = password_matches(user, password)
        && (connector.users.is_empty() || connector.users.contains(&user.name))
        && crate::access::allowed(&user.access, ip)
        && crate::access::allowed(&connector.access, ip);
    ok.then_some(user)
}

/// `password` against the user's `password_hash` (Argon2, see [`hash`]) or its `password`.
fn password_matches(user: &config::User, password: &str) -> bool {
    match &user.password_hash {
        Some(h) => hash::verify(&user.name, h, password),
        None => user.password == password,
    }
}

/// The account a user's messages are charged to: its `account`, else its name.
pub fn account_of(user: &config::User) -> String {
    user.account.clone().unwrap_or_else(|| user.name.clone())
}
