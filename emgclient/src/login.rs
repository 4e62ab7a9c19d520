//! Where to connect and as whom, and the login itself: the layer the command line and the
//! dashboard both stand on.
//!
//! Each setting is taken from the first of: the command line (EMG's `-host -port -username
//! -password` included, see [`crate::emg_args`]), the environment (`EMG_HOST`, `EMG_PORT`,
//! `EMG_USER`, `EMG_PASSWORD`, `EMG_SOCKET`), `~/.config/emgclient/config.toml`, EMG's
//! `EMGDIR/client.cfg`. When none names a host, emgclient uses emgd's local socket
//! (`/run/emg/mgp.sock`) if it exists, and logs in by peer credentials without a password;
//! else `127.0.0.1:7185`. The watchdog (`server`, `logs`) is found the same way, with its own
//! socket (`/run/emg/watchdog.sock`) and port (7186).

use crate::client::Client;
use crate::exit::Failure;
use crate::tls::TlsOptions;
use crate::{client_cfg, settings};
use clap::Args;
use common::mgp::{LoginOk, Op};
use std::fmt;
use std::path::{Path, PathBuf};

/// How long the login may take (Argon2 on emgd's side included).
const LOGIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

pub const EMGD_PORT: u16 = common::mgp::DEFAULT_PORT;
pub const WATCHDOG_PORT: u16 = 7186;
pub const EMGD_SOCKET: &str = "/run/emg/mgp.sock";
pub const WATCHDOG_SOCKET: &str = "/run/emg/watchdog.sock";

/// The options that say where to connect and as whom (global: they go before or after the
/// command).
#[derive(Args, Debug, Clone, Default)]
pub struct ConnectArgs {
    /// emgd's MGP address, HOST:PORT or HOST (EMG's -host) [default: from the settings file
    /// or EMGDIR/client.cfg, else emgd's local socket if it exists, else 127.0.0.1:7185].
    /// For `server` and `logs`, the watchdog's address (default port 7186).
    #[arg(long, global = true, value_name = "HOST[:PORT]", env = "EMG_HOST")]
    pub host: Option<String>,
    /// The port, when --host has none (EMG's -port) [default: 7185, or 7186 for the watchdog].
    #[arg(long, global = true, env = "EMG_PORT")]
    pub port: Option<u16>,
    /// Connect to this Unix socket of emgd (or of the watchdog) and log in as the local user
    /// you are, by peer credentials, without a password [default: /run/emg/mgp.sock
    /// (/run/emg/watchdog.sock) when no host is set anywhere and it exists].
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        env = "EMG_SOCKET",
        conflicts_with = "host"
    )]
    pub socket: Option<PathBuf>,
    /// Operator name (EMG's -username) [default: from the settings file or client.cfg, else
    /// admin]. Over a local socket, giving it logs in with a password instead of as yourself.
    #[arg(long, visible_alias = "username", global = true, env = "EMG_USER")]
    pub user: Option<String>,
    /// The password (EMG's -password) [default: from the settings file or client.cfg, else a
    /// prompt]. Other users of the host can read it in the process list: prefer EMG_PASSWORD
    /// or a file.
    #[arg(
        long,
        global = true,
        value_name = "PASSWORD",
        env = "EMG_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,
    /// Connect over TLS (emgd with mgp_tls_cert and mgp_tls_key) [default: `tls` in the
    /// settings file, else plain TCP]. emgd's certificate must chain to the system's trusted
    /// roots (SSL_CERT_FILE or SSL_CERT_DIR say where they are, if not in the usual place), or
    /// to --ca.
    #[arg(long, global = true)]
    pub tls: bool,
    /// Trust the certificates in this PEM file (a private CA, or emgd's self-signed
    /// certificate) instead of the system roots; implies --tls.
    #[arg(long, global = true, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// The name emgd's certificate must be valid for, when it is not the host of --host (e.g.
    /// when connecting by IP address); implies --tls.
    #[arg(long, global = true, value_name = "NAME")]
    pub tls_server_name: Option<String>,
}

/// Which server a command talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Emgd,
    Watchdog,
}

impl Endpoint {
    fn port(self) -> u16 {
        match self {
            Endpoint::Emgd => EMGD_PORT,
            Endpoint::Watchdog => WATCHDOG_PORT,
        }
    }
    fn socket(self) -> &'static Path {
        Path::new(match self {
            Endpoint::Emgd => EMGD_SOCKET,
            Endpoint::Watchdog => WATCHDOG_SOCKET,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `HOST:PORT`, over TLS when `tls` is set.
    Tcp {
        host: String,
        tls: Option<TlsOptions>,
    },
    Unix(PathBuf),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp { host, .. } => f.write_str(host),
            Target::Unix(path) => write!(f, "{}", path.display()),
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    Password {
        user: String,
        password: String,
    },
    /// The local user we are, proven by the socket's peer credentials.
    Peer,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Password { user, .. } => write!(f, "Password {{ user: {user:?} }}"),
            Auth::Peer => f.write_str("Peer"),
        }
    }
}

/// Where to connect and as whom; resolved once, so that the dashboard can reconnect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creds {
    pub target: Target,
    pub auth: Auth,
}

/// Resolve the target and credentials for `endpoint`, reading the settings file and
/// `client.cfg`, prompting for a password when needed and possible.
pub fn credentials(args: &ConnectArgs, endpoint: Endpoint) -> Result<Creds, Failure> {
    let file = settings::load_file()?;
    let cfg = client_cfg::load()?;
    for w in &cfg.warnings {
        eprintln!("emgclient: {w}");
    }
    resolve(
        args,
        &file,
        &cfg,
        endpoint,
        |p| p.exists(),
        settings::prompt_password,
    )
}

/// [`credentials`] without the file system: `exists` says whether a socket is there, `prompt`
/// asks for a password.
pub fn resolve(
    args: &ConnectArgs,
    file: &settings::FileSettings,
    cfg: &client_cfg::ClientCfg,
    endpoint: Endpoint,
    exists: impl Fn(&Path) -> bool,
    prompt: impl FnOnce(&str, &str) -> Result<String, Failure>,
) -> Result<Creds, Failure> {
    let port = endpoint.port();
    let with_port = |host: &str, p: Option<u16>| join_port(host, p.unwrap_or(port));
    let file_host = match endpoint {
        Endpoint::Emgd => file.host.as_deref(),
        Endpoint::Watchdog => file.watchdog_host.as_deref(),
    };
    // client.cfg describes emgd only.
    let cfg_host = (endpoint == Endpoint::Emgd)
        .then_some(cfg.host.as_deref())
        .flatten();
    if let Some(socket) = &args.socket {
        return Ok(Creds {
            target: Target::Unix(socket.clone()),
            auth: socket_auth(args, file, cfg, socket, prompt)?,
        });
    }
    let host = if let Some(h) = &args.host {
        Some(explicit_port(h, args.port, port)?)
    } else if let Some(h) = file_host {
        Some(explicit_port(h, args.port, port)?)
    } else if let Some(h) = cfg_host {
        Some(with_port(h, args.port.or(cfg.port)))
    } else if args.port.is_some() {
        Some(with_port("127.0.0.1", args.port))
    } else {
        None
    };
    let Some(host) = host else {
        let socket = endpoint.socket();
        if exists(socket) {
            return Ok(Creds {
                target: Target::Unix(socket.to_path_buf()),
                auth: socket_auth(args, file, cfg, socket, prompt)?,
            });
        }
        return tcp(args, file, cfg, with_port("127.0.0.1", None), prompt);
    };
    tcp(args, file, cfg, host, prompt)
}

fn tcp(
    args: &ConnectArgs,
    file: &settings::FileSettings,
    cfg: &client_cfg::ClientCfg,
    host: String,
    prompt: impl FnOnce(&str, &str) -> Result<String, Failure>,
) -> Result<Creds, Failure> {
    let file_tls = file
        .tls
        .unwrap_or(file.ca.is_some() || file.tls_server_name.is_some());
    let tls =
        (args.tls || args.ca.is_some() || args.tls_server_name.is_some() || file_tls).then(|| {
            TlsOptions {
                ca: args.ca.clone().or_else(|| file.ca_path()),
                server_name: args
                    .tls_server_name
                    .clone()
                    .or(file.tls_server_name.clone()),
            }
        });
    let auth = password_auth(args, file, cfg, &host, prompt)?;
    Ok(Creds {
        target: Target::Tcp { host, tls },
        auth,
    })
}

/// Over a local socket: as yourself, unless a user is named on the command line.
fn socket_auth(
    args: &ConnectArgs,
    file: &settings::FileSettings,
    cfg: &client_cfg::ClientCfg,
    socket: &Path,
    prompt: impl FnOnce(&str, &str) -> Result<String, Failure>,
) -> Result<Auth, Failure> {
    if args.user.is_none() {
        return Ok(Auth::Peer);
    }
    password_auth(args, file, cfg, &socket.display().to_string(), prompt)
}

fn password_auth(
    args: &ConnectArgs,
    file: &settings::FileSettings,
    cfg: &client_cfg::ClientCfg,
    host: &str,
    prompt: impl FnOnce(&str, &str) -> Result<String, Failure>,
) -> Result<Auth, Failure> {
    let user = args
        .user
        .clone()
        .or(file.user.clone())
        .or(cfg.username.clone())
        .unwrap_or_else(|| settings::DEFAULT_USER.to_string());
    let password = match args
        .password
        .clone()
        .filter(|p| !p.is_empty())
        .or(file.password.clone())
        .or(cfg.password.clone())
    {
        Some(p) => p,
        None => prompt(&user, host)?,
    };
    Ok(Auth::Password { user, password })
}

/// `host` with `port` appended, IPv6 addresses in brackets.
fn join_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Whether `host` (`name`, `name:port`, `[v6]`, `[v6]:port`, bare `v6`) names a port.
fn has_port(host: &str) -> bool {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.contains("]:");
    }
    matches!(host.split_once(':'), Some((_, p)) if !p.contains(':'))
}

/// `host` as given, or with `--port` (or the endpoint's port) when it names none.
fn explicit_port(host: &str, flag: Option<u16>, default: u16) -> Result<String, Failure> {
    match (has_port(host), flag) {
        (true, Some(_)) => Err(Failure::Usage(format!(
            "--port conflicts with the port in --host {host}: give one of them"
        ))),
        (true, None) => Ok(host.to_string()),
        (false, p) => Ok(join_port(host, p.unwrap_or(default))),
    }
}

/// Connect and log in; the server's account of who we are.
pub async fn connect(c: &Creds) -> Result<(Client, LoginOk), Failure> {
    let (mut client, op) = match &c.target {
        Target::Tcp { host, tls } => (Client::connect(host, tls.as_ref()).await?, login_op(c)),
        Target::Unix(path) => (Client::connect_unix(path).await?, login_op(c)),
    };
    let login = client.call_as::<LoginOk>(op);
    // A server that is not emgd, or speaks TLS and neither answers nor closes, would hang here.
    let (_, who) = tokio::time::timeout(LOGIN_TIMEOUT, login)
        .await
        .map_err(|_| Failure::Connect {
            host: c.target.to_string(),
            reason: format!(
                "no answer to login within {} s (is it emgd's MGP port? with or without --tls?)",
                LOGIN_TIMEOUT.as_secs()
            ),
        })??;
    Ok((client, who))
}

fn login_op(c: &Creds) -> Op {
    match &c.auth {
        Auth::Password { user, password } => Op::Login {
            user: user.clone(),
            password: password.clone(),
        },
        Auth::Peer => Op::LoginPeer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve_with(
        args: ConnectArgs,
        file: settings::FileSettings,
        cfg: client_cfg::ClientCfg,
        endpoint: Endpoint,
        socket_exists: bool,
    ) -> Result<Creds, Failure> {
        resolve(
            &args,
            &file,
            &cfg,
            endpoint,
            |_| socket_exists,
            |_, _| Ok("prompted".into()),
        )
    }

    fn tcp_host(c: &Creds) -> &str {
        match &c.target {
            Target::Tcp { host, .. } => host,
            Target::Unix(_) => panic!("not tcp: {c:?}"),
        }
    }

    #[test]
    fn emg_host_and_port_combine() {
        let args = ConnectArgs {
            host: Some("gw1".into()),
            port: Some(7000),
            user: Some("alice".into()),
            password: Some("pw".into()),
            ..Default::default()
        };
        let c = resolve_with(
            args,
            Default::default(),
            Default::default(),
            Endpoint::Emgd,
            true,
        )
        .unwrap();
        assert_eq!(tcp_host(&c), "gw1:7000");
        assert_eq!(
            c.auth,
            Auth::Password {
                user: "alice".into(),
                password: "pw".into()
            }
        );
    }

    #[test]
    fn client_cfg_fills_what_is_missing_and_options_win() {
        let cfg = client_cfg::ClientCfg {
            host: Some("::1".into()),
            port: Some(7001),
            username: Some("emguser".into()),
            password: Some("cfgpw".into()),
            warnings: vec![],
        };
        let c = resolve_with(
            Default::default(),
            Default::default(),
            cfg.clone(),
            Endpoint::Emgd,
            true,
        )
        .unwrap();
        assert_eq!(
            tcp_host(&c),
            "[::1]:7001",
            "client.cfg's host wins over the socket"
        );
        assert_eq!(
            c.auth,
            Auth::Password {
                user: "emguser".into(),
                password: "cfgpw".into()
            }
        );
        let file = settings::FileSettings {
            host: Some("gw2:7185".into()),
            ..Default::default()
        };
        let c = resolve_with(Default::default(), file, cfg, Endpoint::Emgd, true).unwrap();
        assert_eq!(
            tcp_host(&c),
            "gw2:7185",
            "the personal file wins over client.cfg"
        );
    }

    #[test]
    fn nothing_set_means_the_local_socket_as_yourself() {
        let c = resolve_with(
            Default::default(),
            Default::default(),
            Default::default(),
            Endpoint::Emgd,
            true,
        )
        .unwrap();
        assert_eq!(c.target, Target::Unix(EMGD_SOCKET.into()));
        assert_eq!(c.auth, Auth::Peer);
        let c = resolve_with(
            Default::default(),
            Default::default(),
            Default::default(),
            Endpoint::Watchdog,
            false,
        )
        .unwrap();
        assert_eq!(tcp_host(&c), "127.0.0.1:7186");
        assert_eq!(
            c.auth,
            Auth::Password {
                user: "admin".into(),
                password: "prompted".into()
            }
        );
    }

    #[test]
    fn a_port_given_twice_is_refused() {
        let args = ConnectArgs {
            host: Some("gw1:7185".into()),
            port: Some(7000),
            ..Default::default()
        };
        let e = resolve_with(
            args,
            Default::default(),
            Default::default(),
            Endpoint::Emgd,
            false,
        )
        .unwrap_err();
        assert_eq!(e.code(), crate::exit::INVALID_ARGUMENT);
        assert!(has_port("[::1]:7185") && !has_port("[::1]") && !has_port("::1"));
    }
}
