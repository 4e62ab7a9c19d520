//! Mail addresses ↔ mobile numbers: `46701234567@sms.example.com` is the number 46701234567
//! when `sms.example.com` is one of the connector's domains, and a number goes out as mail
//! from `46701234567@sms.example.com`.

use crate::smtp::{Enhanced, Reply};

/// How recipient addresses map to numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressRules {
    /// Domains whose local parts are numbers, compared without case; empty takes any domain.
    pub domains: Vec<String>,
    /// Text the local part must start with, removed before the digits (e.g. `sms.`); empty
    /// for none.
    pub local_prefix: String,
    /// Characters dropped from the local part as separators (e.g. `-.`).
    pub separators: String,
    pub min_digits: usize,
    pub max_digits: usize,
}

impl Default for AddressRules {
    fn default() -> Self {
        AddressRules {
            domains: Vec::new(),
            local_prefix: String::new(),
            separators: "-.".into(),
            min_digits: 3,
            max_digits: 20,
        }
    }
}

/// Why an address is no number of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("<{0}>: not an address")]
    Syntax(String),
    #[error("<{0}>: domain not handled here")]
    Domain(String),
    #[error("<{0}>: not a mobile number")]
    NotANumber(String),
}

impl AddressError {
    /// The RCPT reply that refuses the address (permanent: retrying will not help).
    pub fn reply(&self) -> Reply {
        match self {
            AddressError::Syntax(_) => Reply::new(553, Enhanced(5, 1, 3), self.to_string()),
            AddressError::Domain(_) => Reply::new(550, Enhanced(5, 1, 2), self.to_string()),
            AddressError::NotANumber(_) => Reply::new(553, Enhanced(5, 1, 3), self.to_string()),
        }
    }
}

impl AddressRules {
    /// The number an address stands for. A leading `+` is allowed and dropped.
    pub fn number_of(&self, address: &str) -> Result<String, AddressError> {
        let Some((local, domain)) = address.rsplit_once('@') else {
            return Err(AddressError::Syntax(address.to_string()));
        };
        if !self.domains.is_empty() && !self.domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
        {
            return Err(AddressError::Domain(address.to_string()));
        }
        let not_a_number = || AddressError::NotANumber(address.to_string());
        let local = if self.local_prefix.is_empty() {
            local
        } else {
            let n = self.local_prefix.len();
            match local.get(..n) {
                Some(p) if p.eq_ignore_ascii_case(&self.local_prefix) => &local[n..],
                _ => return Err(not_a_number()),
            }
        };
        let local = local.strip_prefix('+').unwrap_or(local);
        let digits: String = local
            .chars()
            .filter(|c| !self.separators.contains(*c))
            .collect();
        if digits.len() < self.min_digits
            || digits.len() > self.max_digits
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(not_a_number());
        }
        Ok(digits)
    }

    /// The mail address a number writes from: prefix, number, `@`, the first domain (or
    /// `fallback_domain` when the rules take any domain).
    pub fn address_of(&self, number: &str, fallback_domain: &str) -> String {
        let domain = self.domains.first().map_or(fallback_domain, String::as_str);
        format!(
            "{}{}@{}",
            self.local_prefix,
            number.trim_start_matches('+'),
            domain
        )
    }
}

/// An address given as SOURCEADDR or DESTADDR: a mail address when it has an `@`.
pub fn is_mail_address(addr: &str) -> bool {
    addr.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_from_addresses() {
        let rules = AddressRules {
            domains: vec!["sms.example.com".into(), "sms.example.net".into()],
            ..AddressRules::default()
        };
        let table: &[(&str, Result<&str, u16>)] = &[
            ("46701234567@sms.example.com", Ok("46701234567")),
            ("+46701234567@SMS.Example.COM", Ok("46701234567")),
            ("46-70-123.4567@sms.example.net", Ok("46701234567")),
            ("46701234567@example.com", Err(550)),
            ("alice@sms.example.com", Err(553)),
            ("12@sms.example.com", Err(553)),
            ("123456789012345678901@sms.example.com", Err(553)),
            ("postmaster", Err(553)),
        ];
        for (addr, want) in table {
            let got = rules.number_of(addr).map_err(|e| e.reply().code);
            assert_eq!(got.as_deref().map_err(|c| *c), *want, "{addr}");
        }
        let prefixed = AddressRules {
            local_prefix: "sms.".into(),
            ..AddressRules::default()
        };
        assert_eq!(
            prefixed.number_of("sms.4670123@any.where").unwrap(),
            "4670123"
        );
        assert!(prefixed.number_of("4670123@any.where").is_err());
        assert_eq!(
            prefixed.address_of("+4670123", "gw.example"),
            "sms.4670123@gw.example"
        );
        assert_eq!(rules.address_of("4670123", "x"), "4670123@sms.example.com");
    }
}
