//! The files `server.cfg` points at that are read rather than copied: users files (`USERS=`)
//! and the routing table (`routing` beside server.cfg).
//!
//! EMG's guides do not print either line syntax, so what is read is the plain shape its
//! examples and the database schema imply, and the importer says so in its warnings when a
//! line does not fit:
//! - users: `NAME PASSWORD [ADMIN]` (fields separated by tabs, spaces or `:`);
//! - routing: `FIRST TARGET [TARGET ...]`, where FIRST is a receiving connector, `>PREFIX` or
//!   `%PREFIX` (destination prefix), `<PREFIX` (source prefix), `@FILE` (a file of destination
//!   prefixes, one a line) or `*` (anything), and several targets share the traffic.

use super::out::{Origin, Warning};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntry {
    pub name: String,
    pub password: String,
    /// EMG's administrator flag (full queue views in emgclient).
    pub admin: bool,
    pub origin: Origin,
}

fn lines(path: &Path) -> std::io::Result<Vec<(usize, String)>> {
    Ok(crate::file::read_text(path)?
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim().to_string()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .collect())
}

fn fields(line: &str) -> Vec<&str> {
    line.split(|c: char| c == ':' || c.is_whitespace())
        .filter(|f| !f.is_empty())
        .collect()
}

/// The users of a users file; lines that do not fit become warnings.
pub fn users(path: &Path, warnings: &mut Vec<Warning>) -> std::io::Result<Vec<UserEntry>> {
    let mut out = Vec::new();
    for (n, line) in lines(path)? {
        let origin = |keyword: &str| Origin {
            file: path.to_path_buf(),
            line: n,
            keyword: keyword.to_string(),
        };
        let f = fields(&line);
        let [name, password, flags @ ..] = &f[..] else {
            warnings.push(Warning {
                origin: origin("users"),
                message: format!("`{line}` is not NAME PASSWORD [ADMIN]; not imported"),
            });
            continue;
        };
        let mut admin = false;
        for flag in flags {
            if flag.eq_ignore_ascii_case("admin") {
                admin = true;
            } else {
                warnings.push(Warning {
                    origin: origin(name),
                    message: format!("flag {flag} is not known to emg; not imported"),
                });
            }
        }
        out.push(UserEntry {
            name: name.to_string(),
            password: password.to_string(),
            admin,
            origin: origin(name),
        });
    }
    Ok(out)
}

/// What a routing entry matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// Messages received on this connector.
    From(String),
    /// Destination prefix.
    Prefix(String),
    Anything,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteEntry {
    pub matches: Match,
    pub targets: Vec<String>,
    pub origin: Origin,
}

/// The entries of a routing file (a `@FILE` entry becomes one entry per prefix).
pub fn routing(path: &Path, warnings: &mut Vec<Warning>) -> std::io::Result<Vec<RouteEntry>> {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut out = Vec::new();
    for (n, line) in lines(path)? {
        let f: Vec<&str> = line
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|f| !f.is_empty())
            .collect();
        let origin = Origin {
            file: path.to_path_buf(),
            line: n,
            keyword: f[0].to_string(),
        };
        let [first, targets @ ..] = &f[..] else {
            continue;
        };
        if targets.is_empty() {
            warnings.push(Warning {
                origin,
                message: "no target connector; not imported".into(),
            });
            continue;
        }
        let targets: Vec<String> = targets.iter().map(|t| t.to_string()).collect();
        let entry = |matches| RouteEntry {
            matches,
            targets: targets.clone(),
            origin: origin.clone(),
        };
        match first.chars().next() {
            Some('>' | '%') => out.push(entry(Match::Prefix(first[1..].to_string()))),
            Some('<') => warnings.push(Warning {
                origin: origin.clone(),
                message: "routing on the sender's address prefix is not available in emg; not \
                          imported"
                    .into(),
            }),
            Some('@') => {
                let file: PathBuf = dir.join(&first[1..]);
                match lines(&file) {
                    Ok(prefixes) => {
                        for (_, p) in prefixes {
                            out.push(entry(Match::Prefix(p)));
                        }
                    }
                    Err(e) => warnings.push(Warning {
                        origin: origin.clone(),
                        message: format!(
                            "cannot read the prefix file {}: {e}; not imported",
                            file.display()
                        ),
                    }),
                }
            }
            _ if *first == "*" => out.push(entry(Match::Anything)),
            _ => out.push(entry(Match::From(first.to_string()))),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_and_routes_in_their_plain_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let u = dir.path().join("users");
        std::fs::write(
            &u,
            "# name password flags\nalice\tsecret\nbob:pw:ADMIN\ncarol x QUOTA=5\nlonely\n",
        )
        .unwrap();
        let mut w = Vec::new();
        let users = users(&u, &mut w).unwrap();
        assert_eq!(users.len(), 3);
        assert!(!users[0].admin && users[1].admin);
        assert_eq!(users[1].password, "pw");
        let w: Vec<String> = w.iter().map(|w| w.message.clone()).collect();
        assert_eq!(
            w,
            [
                "flag QUOTA=5 is not known to emg; not imported",
                "`lonely` is not NAME PASSWORD [ADMIN]; not imported"
            ]
        );

        let r = dir.path().join("routing");
        std::fs::write(dir.path().join("nordic"), "45\n47\n").unwrap();
        std::fs::write(
            &r,
            "smpp-in1 smsc1\n>46 smsc1, smsc2\n<4670 smsc1\n@nordic smsc2\n* smsc1\n",
        )
        .unwrap();
        let mut w = Vec::new();
        let routes = routing(&r, &mut w).unwrap();
        assert_eq!(routes.len(), 5);
        assert_eq!(routes[0].matches, Match::From("smpp-in1".into()));
        assert_eq!(routes[1].targets, ["smsc1", "smsc2"]);
        assert_eq!(routes[2].matches, Match::Prefix("45".into()));
        assert_eq!(routes[4].matches, Match::Anything);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].origin.line, 3);
    }
}
