//! Who is at the other end of an MGP connection, and peer authentication for the local
//! socket: as PostgreSQL's `peer` method, the kernel tells the user id of the process that
//! connected (SO_PEERCRED), so a local operator logs in without a password.
//!
//! The role is the highest that `mgp_local_groups` gives one of the user's groups (their
//! primary group, their supplementary groups from the group database, and the group the
//! connecting process runs as). Root and the user emgd itself runs as are admins: both can
//! read the configuration and the store anyway.

use common::mgp::{ErrorBody, ErrorCode, Role};
use config::OperatorRole;
use nix::unistd::{getgrouplist, Gid, Group, Uid, User};
use std::collections::BTreeMap;
use std::ffi::CString;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// The other end of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    Tcp(SocketAddr),
    /// A process on this host, over the Unix socket.
    Local {
        uid: u32,
        gid: u32,
        pid: Option<i32>,
    },
}

/// What failed logins are counted per (see `auth::Limiter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    Ip(IpAddr),
    Uid(u32),
}

impl Peer {
    pub fn origin(&self) -> Origin {
        match self {
            Peer::Tcp(a) => Origin::Ip(a.ip()),
            Peer::Local { uid, .. } => Origin::Uid(*uid),
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Tcp(a) => write!(f, "{a}"),
            Peer::Local {
                uid,
                pid: Some(pid),
                ..
            } => write!(f, "local uid {uid} pid {pid}"),
            Peer::Local { uid, .. } => write!(f, "local uid {uid}"),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Ip(ip) => write!(f, "{ip}"),
            Origin::Uid(uid) => write!(f, "local uid {uid}"),
        }
    }
}

/// The local user's name and role, or why they may not log in.
pub fn authenticate(
    peer: &Peer,
    groups: &BTreeMap<String, OperatorRole>,
) -> Result<(String, Role), ErrorBody> {
    let Peer::Local { uid, gid, .. } = *peer else {
        return Err(ErrorBody::new(
            ErrorCode::AuthFailed,
            "login_peer works on emgd's local socket only; over TCP, log in with a password",
        ));
    };
    let user = User::from_uid(Uid::from_raw(uid)).ok().flatten();
    let name = user
        .as_ref()
        .map_or_else(|| format!("uid{uid}"), |u| u.name.clone());
    if uid == 0 || uid == Uid::effective().as_raw() {
        return Ok((name, Role::Admin));
    }
    let mut gids = vec![Gid::from_raw(gid)];
    if let Some(u) = &user {
        gids.push(u.gid);
        if let Ok(cname) = CString::new(u.name.clone()) {
            gids.extend(getgrouplist(&cname, u.gid).unwrap_or_default());
        }
    }
    let member_of: Vec<String> = gids
        .iter()
        .filter_map(|g| Group::from_gid(*g).ok().flatten().map(|g| g.name))
        .collect();
    let role = member_of
        .iter()
        .filter_map(|g| groups.get(g))
        .max()
        .copied();
    match role {
        Some(r) => Ok((name, role_of(r))),
        None => {
            let allowed: Vec<&str> = groups.keys().map(String::as_str).collect();
            let which = if allowed.is_empty() {
                "mgp_local_groups names none, so only root and emgd's own user may log in here"
                    .to_string()
            } else {
                format!("it is in none of mgp_local_groups ({})", allowed.join(", "))
            };
            Err(ErrorBody::new(
                ErrorCode::AuthFailed,
                format!("local user {name} (uid {uid}) may not log in: {which}"),
            ))
        }
    }
}

pub fn role_of(r: OperatorRole) -> Role {
    match r {
        OperatorRole::Readonly => Role::Readonly,
        OperatorRole::Operator => Role::Operator,
        OperatorRole::Admin => Role::Admin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_peers_cannot_use_peer_login() {
        let tcp = Peer::Tcp("127.0.0.1:4000".parse().unwrap());
        let e = authenticate(&tcp, &BTreeMap::new()).unwrap_err();
        assert_eq!(e.code, ErrorCode::AuthFailed);
    }

    #[test]
    fn our_own_user_is_admin() {
        let me = Peer::Local {
            uid: Uid::effective().as_raw(),
            gid: Gid::effective().as_raw(),
            pid: None,
        };
        assert_eq!(authenticate(&me, &BTreeMap::new()).unwrap().1, Role::Admin);
        assert_eq!(me.to_string(), format!("local uid {}", Uid::effective()));
    }
}
