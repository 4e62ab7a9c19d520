//! Per-connector message processing keywords: `mapping`, address rewriting, `masquerade` and
//! the SAT pool references. Read with the rest of a connector table, inherited like every
//! other connector keyword, and checked against the SAT pools and `masquerade_key`.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::context::Ctx;
use crate::mapping::{self, Mapping};
use crate::rewrite::{self, AddressRewrite};
use crate::suggest;
use crate::values::{self, Sp};

/// Connector keywords handled here.
pub(crate) const KEYWORDS: &[&str] = &[
    "mapping",
    "masquerade",
    "satpool_create",
    "satpool_create_in",
    "satpool_lookup",
    "satpool_lookup_in",
    "removeprefix",
    "removeprefix_in",
    "requireprefix",
    "requireprefix_in",
    "replaceprefix",
    "replaceprefix_in",
    "regexp_destaddr",
    "regexp_destaddr_in",
    "removesourceprefix",
    "removesourceprefix_in",
    "requiresourceprefix",
    "requiresourceprefix_in",
    "replacesourceprefix",
    "replacesourceprefix_in",
    "regexp_sourceaddr",
    "regexp_sourceaddr_in",
];

/// What a connector does to the messages it receives and sends, inheritance resolved.
#[derive(Debug, Clone, Default)]
pub struct Processing {
    /// `mapping`: the parsed mapping file.
    pub mapping: Option<Arc<Mapping>>,
    /// `masquerade`: obfuscate the subscriber's address on this connector (needs
    /// `masquerade_key`).
    pub masquerade: bool,
    /// `satpool_create`: on sending, replace the source with an address of this pool.
    pub satpool_create: Option<String>,
    /// `satpool_create_in`: the same on receipt.
    pub satpool_create_in: Option<String>,
    /// `satpool_lookup`: on sending, turn a pool address in the destination back into the
    /// address it replaced.
    pub satpool_lookup: Option<String>,
    /// `satpool_lookup_in`: the same on receipt.
    pub satpool_lookup_in: Option<String>,
    /// Destination rewriting on sending (`removeprefix`, `requireprefix`, `replaceprefix`,
    /// `regexp_destaddr`).
    pub dest_out: AddressRewrite,
    /// Destination rewriting on receipt (the `_in` forms).
    pub dest_in: AddressRewrite,
    /// Source rewriting on sending (`removesourceprefix`, `requiresourceprefix`,
    /// `replacesourceprefix`, `regexp_sourceaddr`).
    pub source_out: AddressRewrite,
    /// Source rewriting on receipt (the `_in` forms).
    pub source_in: AddressRewrite,
}

/// The processing keywords one connector table sets, before inheritance.
#[derive(Debug, Clone, Default)]
pub(crate) struct PartialProcess {
    mapping: Option<Option<Arc<Mapping>>>,
    masquerade: Option<Sp<bool>>,
    satpools: BTreeMap<&'static str, Sp<String>>,
    rewrites: BTreeMap<&'static str, Rewrite>,
}

/// One address-rewriting value.
#[derive(Debug, Clone)]
enum Rewrite {
    Remove(Vec<String>),
    Require(String),
    Replace(Vec<rewrite::PrefixPair>),
    Regexp(rewrite::RegexpRewrite),
}

impl PartialProcess {
    /// Reads one processing keyword (`key` is one of [`KEYWORDS`]).
    pub(crate) fn read(&mut self, ctx: &mut Ctx<'_>, key: &str, kw: &str, v: &values::Val<'_>) {
        let Some(&key) = KEYWORDS.iter().find(|k| **k == key) else {
            return;
        };
        if key == "masquerade" {
            if let Some(b) = values::boolean(&mut ctx.sink, kw, v) {
                self.masquerade = Some(Sp {
                    v: b,
                    span: v.span(),
                    kw: kw.to_string(),
                });
            }
            return;
        }
        let Some(s) = values::string(&mut ctx.sink, kw, v) else {
            return;
        };
        if key == "mapping" {
            // Set even when the file is bad, so a child does not silently inherit another.
            self.mapping = Some(mapping::read(ctx, &s).map(Arc::new));
            return;
        }
        if key.starts_with("satpool_") {
            self.satpools.insert(key, s);
            return;
        }
        let parsed = if key.starts_with("remove") {
            rewrite::parse_prefix_list(&s.v).map(Rewrite::Remove)
        } else if key.starts_with("require") {
            rewrite::parse_prefix(&s.v).map(Rewrite::Require)
        } else if key.starts_with("replace") {
            rewrite::parse_replaceprefix(&s.v).map(Rewrite::Replace)
        } else {
            rewrite::parse_regexp(&s.v).map(Rewrite::Regexp)
        };
        match parsed {
            Ok(r) => {
                self.rewrites.insert(key, r);
            }
            Err(msg) => ctx.sink.at(&s.span, kw, msg),
        }
    }

    /// Takes every keyword not set here from `parent` (child wins).
    pub(crate) fn inherit_from(&mut self, parent: &PartialProcess) {
        if self.mapping.is_none() {
            self.mapping = parent.mapping.clone();
        }
        if self.masquerade.is_none() {
            self.masquerade = parent.masquerade.clone();
        }
        for (k, v) in &parent.satpools {
            self.satpools.entry(k).or_insert_with(|| v.clone());
        }
        for (k, v) in &parent.rewrites {
            self.rewrites.entry(k).or_insert_with(|| v.clone());
        }
    }

    /// The finished settings.
    pub(crate) fn finish(&self) -> Processing {
        let pool = |k: &str| self.satpools.get(k).map(|s| s.v.clone());
        Processing {
            mapping: self.mapping.clone().flatten(),
            masquerade: self.masquerade.as_ref().is_some_and(|m| m.v),
            satpool_create: pool("satpool_create"),
            satpool_create_in: pool("satpool_create_in"),
            satpool_lookup: pool("satpool_lookup"),
            satpool_lookup_in: pool("satpool_lookup_in"),
            dest_out: self.address("", "prefix", "regexp_destaddr", ""),
            dest_in: self.address("", "prefix", "regexp_destaddr", "_in"),
            source_out: self.address("source", "prefix", "regexp_sourceaddr", ""),
            source_in: self.address("source", "prefix", "regexp_sourceaddr", "_in"),
        }
    }

    /// Collects `remove{which}{prefix}{suffix}` and friends into one [`AddressRewrite`].
    fn address(&self, which: &str, prefix: &str, regexp: &str, suffix: &str) -> AddressRewrite {
        let get = |verb: &str| {
            self.rewrites
                .get(format!("{verb}{which}{prefix}{suffix}").as_str())
        };
        let mut out = AddressRewrite::default();
        if let Some(Rewrite::Remove(v)) = get("remove") {
            out.removeprefix = v.clone();
        }
        if let Some(Rewrite::Require(v)) = get("require") {
            out.requireprefix = Some(v.clone());
        }
        if let Some(Rewrite::Replace(v)) = get("replace") {
            out.replaceprefix = v.clone();
        }
        if let Some(Rewrite::Regexp(v)) = self.rewrites.get(format!("{regexp}{suffix}").as_str()) {
            out.regexp = Some(v.clone());
        }
        out
    }
}

/// Checks what processing keywords refer to: SAT pools must exist, and `masquerade` needs the
/// general `masquerade_key`. Reported where each is written.
pub(crate) fn check_refs<'a>(
    ctx: &mut Ctx<'_>,
    connectors: impl IntoIterator<Item = &'a PartialProcess>,
    pool_names: &[&str],
    has_masquerade_key: bool,
) {
    for proc in connectors {
        for s in proc.satpools.values() {
            if !pool_names.contains(&s.v.as_str()) {
                let hint = suggest::hint(&s.v, pool_names.iter().copied());
                ctx.sink.at(
                    &s.span,
                    &s.kw,
                    format!(
                        "unknown SAT pool `{}`{hint} (define it in a [satpool.NAME] table)",
                        s.v
                    ),
                );
            }
        }
        if let (Some(m), false) = (&proc.masquerade, has_masquerade_key) {
            if m.v {
                ctx.sink.at(
                    &m.span,
                    &m.kw,
                    "masquerading needs `masquerade_key` in the general options (a secret of at least 8 characters, the same on every node)",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_processing_keyword_is_a_connector_keyword() {
        for k in KEYWORDS {
            assert!(crate::connector::keywords().contains(k), "{k}");
        }
    }
}
