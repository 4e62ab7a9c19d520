//! emg configuration: a TOML file modelled on EMG's `server.cfg`, validated up front.
//!
//! The file holds general options at the top level, then `[connector.NAME]`, `[user.NAME]`,
//! `[group.NAME]`, `[operator.NAME]` (MGP accounts), `[satpool.NAME]`, `[plugin.NAME]` tables and `[[route]]` entries (see [`Config`]). Keys are EMG keywords in lower
//! case. Connectors may `inherit` from another connector (chains allowed, the child's keywords
//! win); `virtual = true` marks a template that is never instantiated and is not inherited.
//! Relative paths (`datadir`, `logdir`, `retryscheme`, `mgp_tls_cert`, `mgp_tls_key`) are resolved against the directory of
//! the config file.
//!
//! Validation collects every problem instead of stopping at the first, each as a
//! [`Diagnostic`] with `file:line:col`, so an operator can fix a config in one pass. Diagnostic
//! keywords are dotted keys such as `connector.smsc1.instances`; route entries are numbered from
//! zero, e.g. `route[0].to`.
//!
//! ```toml
//! datadir = "data"
//! maxtotalqueuesize = 100000
//!
//! [connector.base]
//! virtual = true
//! type = "outgoing"
//! protocol = "sim"
//!
//! [connector.sim1]
//! inherit = "base"
//! dlr_delay_ms = 500
//!
//! [[route]]
//! prefix = "46"
//! to = "sim1"
//! ```

pub mod applies;
mod blacklist;
mod connector;
mod context;
mod daemon;
mod deliverable;
mod diagnostic;
mod dialup;
mod ebe;
pub mod emg;
mod file;
mod general;
mod gsm;
mod http;
mod inherit;
mod kind;
mod mapping;
mod model;
mod operator;
mod plugin;
mod price;
mod process;
pub mod retry;
mod rewrite;
mod satpool;
mod smtp;
mod suggest;
mod tls;
mod tls_keywords;
mod validate;
mod values;

use std::path::Path;

/// `node_lease`: a node that stopped renewing for 4 s has its queue taken over, so fail-over
/// (the lease plus at most one renewal interval) stays within 5 s.
pub const DEFAULT_NODE_LEASE: u64 = 4;
/// `group_commit_delay_us`: a small group waits up to half a millisecond for company.
pub const DEFAULT_GROUP_COMMIT_DELAY_US: u64 = 500;
/// `retention`: a week of finished messages.
pub const DEFAULT_RETENTION: u64 = 7 * 86_400;
/// `routelog_retention`: 90 days of routelog.
pub const DEFAULT_ROUTELOG_RETENTION: u64 = 90 * 86_400;
/// `dlr_expire`: two days, as long as SMSCs usually keep trying a message.
pub const DEFAULT_DLR_EXPIRE: u64 = 2 * 86_400;
/// `drain_timeout`: five minutes for a removed connector to send what it has queued.
pub const DEFAULT_DRAIN_TIMEOUT: u64 = 300;
/// Seconds a frame of a session (SMPP PDU, UCP or CIMD2 frame, MGP line) may take from its
/// first byte to its last (`frame_timeout`).
pub const DEFAULT_FRAME_TIMEOUT: u64 = 30;

pub use blacklist::{AddressField, Blacklist, BlacklistAction};
pub use diagnostic::{ConfigError, Diagnostic};
pub use dialup::DialupOptions;
pub use ebe::{expand as expand_ebe_arg, EBE_FIELDS};
pub use file::{read_bytes, read_text, MAX_FILE_BYTES};
pub use general::default_nodeid;
pub use gsm::{FlowControl, GsmOptions};
pub use http::{HttpBody, HttpMethod, HttpOptions, RemoteId, DLR_FIELDS, MO_FIELDS, PLACEHOLDERS};
pub use mapping::{MapRule, Mapping};
pub use model::{
    Backend, BindMode, Config, Connector, Daemon, Direction, DlrIdFormat, DlrParts, DlrSession,
    General, Group, LogFormat, Mode, Operator, OperatorRole, OperatorSecret, Protocol, Reassemble,
    RemovedQueue, Route, SimOptions, SplitMethod, StoreCheck, User, Watchdog, BIND_TYPES,
    DLR_STATUSES,
};
pub use plugin::{FailMode, OptionValue, Plugin, MAX_BUDGET_MS};
pub use price::{
    parse_amount, PriceEntry, PriceTable, RefundPolicy, AMOUNT_DECIMALS, DEFAULT_CURRENCY,
    DEFAULT_SUMMARY_PREFIX_LENGTH,
};
pub use process::Processing;
pub use retry::{RetryRule, RetryScheme, RuleKind};
pub use rewrite::{AddressRewrite, PrefixPair, RegexpRewrite};
pub use satpool::SatPool;
pub use smtp::{DefaultMsgType, SmtpAuth, SmtpOptions, StartTls};
pub use tls::ListenerTls;
pub use tls_keywords::{ConnectorTls, TlsVersion};

/// Reads, parses and validates the config file at `path`, including the retry-scheme files it
/// references.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    match file::read_text(path) {
        Ok(text) => parse_str(&text, path),
        Err(e) => Err(ConfigError {
            diagnostics: vec![Diagnostic {
                file: path.to_path_buf(),
                line: 1,
                col: 1,
                keyword: "config".to_string(),
                message: format!("cannot read config file: {e}"),
            }],
        }),
    }
}

/// Parses and validates config text. `path` names the file in diagnostics and is the base for
/// relative paths (they are relative to its directory); referenced retry-scheme files are read.
pub fn parse_str(text: &str, path: &Path) -> Result<Config, ConfigError> {
    validate::build(text, path).map_err(|diagnostics| ConfigError { diagnostics })
}
