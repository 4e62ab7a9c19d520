//! `[operator.NAME]`: the accounts that may log in over MGP (emgclient), each with a role.
//!
//! ```toml
//! [operator.alice]
//! password_hash = "$argon2id$v=19$m=19456,t=2,p=1$..."   # emgclient passwd
//! role = "operator"                                        # readonly | operator | admin
//!
//! [operator.test]
//! password = "test"        # plain text: for tests and first steps only
//! ```
//!
//! The hash is only checked for its shape here (an Argon2 PHC string); emgd verifies
//! passwords against it.

use toml::de::DeTable;

use crate::context::Ctx;
use crate::model::{Operator, OperatorRole, OperatorSecret};
use crate::suggest;
use crate::values::{self, Span};

const OPERATOR_KEYWORDS: &[&str] = &["password_hash", "password", "role"];
const ROLES: [&str; 3] = ["readonly", "operator", "admin"];

pub(crate) fn read(
    ctx: &mut Ctx<'_>,
    name: &str,
    header: Span,
    t: &DeTable<'_>,
) -> Option<Operator> {
    let prefix = format!("operator.{name}");
    let mut hash = None;
    let mut plain = None;
    let mut role = OperatorRole::Readonly;
    let mut ok = true;
    for (key, kw, v) in values::known_keys(&mut ctx.sink, &prefix, t, OPERATOR_KEYWORDS) {
        let sink = &mut ctx.sink;
        let Some(s) = values::string(sink, &kw, v) else {
            ok = false;
            continue;
        };
        match key {
            "password_hash" => {
                if let Err(msg) = check_phc(&s.v) {
                    sink.at(&s.span, &kw, msg);
                    ok = false;
                } else {
                    hash = Some(s);
                }
            }
            "password" => {
                if s.v.is_empty() {
                    sink.at(&s.span, &kw, "password must not be empty");
                    ok = false;
                } else {
                    plain = Some(s);
                }
            }
            _ => match s.v.as_str() {
                "readonly" => role = OperatorRole::Readonly,
                "operator" => role = OperatorRole::Operator,
                "admin" => role = OperatorRole::Admin,
                other => {
                    let hint = suggest::hint(other, ROLES);
                    sink.at(
                        &s.span,
                        &kw,
                        format!(
                            "unknown role `{other}`{hint} (expected one of: {})",
                            ROLES.join(", ")
                        ),
                    );
                    ok = false;
                }
            },
        }
    }
    let secret = match (hash, plain) {
        (Some(h), Some(p)) => {
            let _ = h;
            ctx.sink.at(
                &p.span,
                &format!("{prefix}.password"),
                "give either `password_hash` or `password`, not both",
            );
            return None;
        }
        (Some(h), None) => OperatorSecret::Hash(h.v),
        (None, Some(p)) => OperatorSecret::Plain(p.v),
        (None, None) => {
            if ok {
                ctx.sink.at(
                    &header,
                    &format!("{prefix}.password_hash"),
                    "required keyword is missing (make one with `emgclient passwd`; \
                     `password` in plain text is for tests only)",
                );
            }
            return None;
        }
    };
    ok.then(|| Operator {
        name: name.to_string(),
        secret,
        role,
    })
}

/// An Argon2 PHC string: `$argon2id$v=19$m=...,t=...,p=...$salt$hash`.
pub(crate) fn check_phc(s: &str) -> Result<(), String> {
    let parts: Vec<&str> = s.split('$').collect();
    let algo_ok = matches!(parts.get(1), Some(&("argon2id" | "argon2i" | "argon2d")));
    if parts.len() == 6
        && parts[0].is_empty()
        && algo_ok
        && parts.iter().skip(2).all(|p| !p.is_empty())
    {
        Ok(())
    } else {
        Err(
            "not an Argon2 hash (expected `$argon2id$v=19$m=...,t=...,p=...$SALT$HASH`, \
             as `emgclient passwd` prints)"
                .to_string(),
        )
    }
}
