//! The IN and OUT pipelines: which transformation runs when, on which address.
//!
//! IN (a message received on a connector, before logging and routing):
//! 1. `mapping` IN rules on the text;
//! 2. `masquerade`: a masked destination is turned back into the real address;
//! 3. destination, then source rewriting (`…_in`: remove, require, replace prefix, regexp);
//! 4. `satpool_lookup_in`: a destination that is a pool address given to this sender becomes
//!    the address it stood for;
//! 5. the blacklist (REJECT refuses the message here, LOG notes it);
//! 6. `satpool_create_in`: the source is replaced by a pool address.
//!
//! OUT (just before sending, on a copy; the stored message stays as it was):
//! 1. `mapping` OUT rules; 2. `satpool_lookup`; 3. `satpool_create`;
//! 4. destination, then source rewriting; 5. `masquerade`: the source is masked.
//!
//! Masquerading hides the subscriber from the party on the masqueraded connector: what is sent
//! there carries the masked source, and what that party sends back is addressed to the mask, so
//! the destination of what arrives there is unmasked. Rewriting sits inside masquerading (after
//! unmasking, before masking) so masks are never rewritten, and outside SAT, so SAT entries hold
//! addresses in the gateway's own format. Delivery reports get mapping, rewriting and
//! masquerading but never create or resolve SAT entries.

use super::satpool::SatIndex;
use super::{blacklist, mapping, masquerade::Masquerade, prefix};
use crate::store::Write;
use common::message::{Message, MsgType};
use config::{AddressField, AddressRewrite, BlacklistAction};
use std::fmt;

/// What a pipeline needs besides the message.
pub struct Context<'a> {
    pub config: &'a config::Config,
    /// The connector the message arrived on or leaves by; `None` for messages from elsewhere
    /// (MGP), which only meet the blacklist.
    pub connector: Option<&'a config::Connector>,
    /// Built from `masquerade_key`, when set.
    pub masquerade: Option<&'a Masquerade>,
    pub now_us: i64,
}

/// The result of a pipeline.
#[derive(Debug)]
pub struct Processed {
    pub message: Message,
    /// Store writes to commit (SAT entries).
    pub writes: Vec<Write>,
    /// What happened, for the logs.
    pub notes: Vec<Note>,
    /// The blacklist refuses the message.
    pub refused: Option<Refused>,
}

/// A message the blacklist refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} {address} is blacklisted", field.keyword())]
pub struct Refused {
    pub field: AddressField,
    pub address: String,
}

/// One thing a pipeline did, for the logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// An address changed; `by` names the step (keyword family).
    Rewritten {
        field: AddressField,
        from: String,
        to: String,
        by: &'static str,
    },
    /// The text was changed by the mapping file's IN or OUT rules.
    Mapped { file: String },
    /// The blacklist listed an address with LOG.
    Listed {
        field: AddressField,
        address: String,
    },
    /// A SAT pool was full for a recipient and an older entry was taken over.
    SatEvicted {
        pool: String,
        address: String,
        previous: String,
    },
    /// A connector names a SAT pool the configuration no longer has (after a reload).
    UnknownPool(String),
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Rewritten {
                field,
                from,
                to,
                by,
            } => {
                write!(f, "{} {from:?} -> {to:?} ({by})", field.keyword())
            }
            Note::Mapped { file } => write!(f, "text mapped by {file}"),
            Note::Listed { field, address } => {
                write!(f, "{} {address} is blacklisted (LOG)", field.keyword())
            }
            Note::SatEvicted {
                pool,
                address,
                previous,
            } => write!(
                f,
                "SAT pool {pool} is full: {address} taken over from {previous}"
            ),
            Note::UnknownPool(p) => write!(f, "SAT pool {p} is not configured; skipped"),
        }
    }
}

struct Run<'a> {
    ctx: &'a Context<'a>,
    m: Message,
    writes: Vec<Write>,
    notes: Vec<Note>,
}

impl Run<'_> {
    fn set(&mut self, field: AddressField, to: String, by: &'static str) {
        let addr = match field {
            AddressField::Source => &mut self.m.source.addr,
            AddressField::Dest => &mut self.m.dest.addr,
        };
        if *addr != to {
            let from = std::mem::replace(addr, to.clone());
            self.notes.push(Note::Rewritten {
                field,
                from,
                to,
                by,
            });
        }
    }

    fn rewrite(&mut self, field: AddressField, r: &AddressRewrite, by: &'static str) {
        let addr = match field {
            AddressField::Source => &self.m.source.addr,
            AddressField::Dest => &self.m.dest.addr,
        };
        let to = prefix::rewrite(r, addr);
        self.set(field, to, by);
    }

    fn map(&mut self, rules: &[config::MapRule], file: &std::path::Path) {
        if mapping::map_body(rules, &mut self.m) {
            self.notes.push(Note::Mapped {
                file: file.display().to_string(),
            });
        }
    }

    /// Whether pool `name` is configured (noted when it is not).
    fn known_pool(&mut self, name: &str) -> bool {
        let known = self.ctx.config.satpools.contains_key(name);
        if !known {
            self.notes.push(Note::UnknownPool(name.to_string()));
        }
        known
    }

    /// SAT lookup: a destination that is a pool address given for messages to the sender.
    fn sat_lookup(&mut self, sat: &SatIndex, pool: &str, by: &'static str) {
        if self.m.msgtype == MsgType::Dlr || !self.known_pool(pool) {
            return;
        }
        let found = sat.lookup(
            pool,
            &self.m.source.addr,
            &self.m.dest.addr,
            self.ctx.now_us,
        );
        if let Some(original) = found {
            self.m.dest.ton = original.ton;
            self.m.dest.npi = original.npi;
            self.set(AddressField::Dest, original.addr, by);
        }
    }

    /// SAT create: the source is replaced by a pool address.
    fn sat_create(&mut self, sat: &mut SatIndex, pool: &str, by: &'static str) {
        if self.m.msgtype == MsgType::Dlr || self.m.source.addr.is_empty() {
            return;
        }
        let config = self.ctx.config;
        let Some(pool) = config.satpools.get(pool) else {
            self.notes.push(Note::UnknownPool(pool.to_string()));
            return;
        };
        let created = sat.create(pool, &self.m.source, &self.m.dest.addr, self.ctx.now_us);
        if let Some(previous) = created.evicted {
            self.notes.push(Note::SatEvicted {
                pool: pool.name.clone(),
                address: created.address.addr.clone(),
                previous: previous.addr,
            });
        }
        self.writes.extend(created.writes);
        self.m.source.ton = created.address.ton;
        self.m.source.npi = created.address.npi;
        self.set(AddressField::Source, created.address.addr, by);
    }

    fn done(self, refused: Option<Refused>) -> Processed {
        Processed {
            message: self.m,
            writes: self.writes,
            notes: self.notes,
            refused,
        }
    }
}

/// The IN pipeline for a message received on `ctx.connector`.
pub fn inbound(ctx: &Context<'_>, sat: &mut SatIndex, message: Message) -> Processed {
    let mut run = Run {
        ctx,
        m: message,
        writes: Vec::new(),
        notes: Vec::new(),
    };
    let p = ctx.connector.map(|c| &c.process);
    if let Some(p) = p {
        if let Some(map) = &p.mapping {
            run.map(&map.inbound, &map.file);
        }
        if let (true, Some(mq)) = (p.masquerade, ctx.masquerade) {
            if let Some(real) = mq.unmask(&run.m.dest.addr) {
                run.set(AddressField::Dest, real, "masquerade");
            }
        }
        run.rewrite(AddressField::Dest, &p.dest_in, "destination rewriting _in");
        run.rewrite(AddressField::Source, &p.source_in, "source rewriting _in");
        if let Some(pool) = &p.satpool_lookup_in {
            run.sat_lookup(sat, pool, "satpool_lookup_in");
        }
    }
    if let Some(list) = &ctx.config.general.blacklist {
        for hit in blacklist::check(list, &run.m) {
            match hit.action {
                BlacklistAction::Reject => {
                    let refused = Refused {
                        field: hit.field,
                        address: hit.address,
                    };
                    return run.done(Some(refused));
                }
                BlacklistAction::Log => run.notes.push(Note::Listed {
                    field: hit.field,
                    address: hit.address,
                }),
            }
        }
    }
    if let Some(pool) = p.and_then(|p| p.satpool_create_in.as_ref()) {
        run.sat_create(sat, pool, "satpool_create_in");
    }
    run.done(None)
}

/// Whether the OUT pipeline of `c` would leave every message as it is.
pub fn outbound_is_noop(c: &config::Connector) -> bool {
    let p = &c.process;
    p.mapping.as_ref().is_none_or(|m| m.outbound.is_empty())
        && !p.masquerade
        && p.satpool_lookup.is_none()
        && p.satpool_create.is_none()
        && p.dest_out.is_empty()
        && p.source_out.is_empty()
}

/// The OUT pipeline for a message about to leave by `ctx.connector`: returns the copy to send.
pub fn outbound(ctx: &Context<'_>, sat: &mut SatIndex, message: &Message) -> Processed {
    let mut run = Run {
        ctx,
        m: message.clone(),
        writes: Vec::new(),
        notes: Vec::new(),
    };
    let Some(p) = ctx.connector.map(|c| &c.process) else {
        return run.done(None);
    };
    if let Some(map) = &p.mapping {
        run.map(&map.outbound, &map.file);
    }
    if let Some(pool) = &p.satpool_lookup {
        run.sat_lookup(sat, pool, "satpool_lookup");
    }
    if let Some(pool) = &p.satpool_create {
        run.sat_create(sat, pool, "satpool_create");
    }
    run.rewrite(AddressField::Dest, &p.dest_out, "destination rewriting");
    run.rewrite(AddressField::Source, &p.source_out, "source rewriting");
    if let (true, Some(mq)) = (p.masquerade, ctx.masquerade) {
        if let Some(masked) = mq.mask(&run.m.source.addr) {
            run.set(AddressField::Source, masked, "masquerade");
        }
    }
    run.done(None)
}
