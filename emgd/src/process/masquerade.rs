//! Address masquerading: a reversible obfuscation that is unique per address, as EMG's
//! `MASQUERADE`: an address of 1–9 digits becomes 10 digits, one of 10–18 digits becomes 20.
//!
//! The address is first numbered within its length class (shorter addresses first, so `046`
//! and `46` stay apart), then the number goes through a keyed Feistel permutation of all
//! 10-digit (or 20-digit) numbers: 8 rounds over two halves of 5 (or 10) digits, each round
//! adding HMAC-SHA256(key, round, half) to the other half. A permutation is a bijection, so
//! every address gets its own mask and unmasking is exact; without the key the mapping cannot
//! be inverted or predicted. No table is kept, so masks survive restarts and are the same on
//! every node sharing `masquerade_key`.
//!
//! Of all 10-digit numbers about 11 % unmask to a valid short address (and about 1 % of the
//! 20-digit ones to a long one): an unmasked number arriving on a masqueraded connector is taken
//! for a mask that often.

use ring::hmac;

const ROUNDS: u8 = 8;

/// One length class: addresses of `min..=max` digits masked to `width` digits.
#[derive(Debug, Clone, Copy)]
struct Class {
    min: u32,
    max: u32,
    width: u32,
    /// 10^(width/2): the size of each Feistel half.
    half: u128,
}

const SHORT: Class = Class {
    min: 1,
    max: 9,
    width: 10,
    half: 100_000,
};
const LONG: Class = Class {
    min: 10,
    max: 18,
    width: 20,
    half: 10_000_000_000,
};

/// Masks and unmasks addresses with one secret.
pub struct Masquerade {
    key: hmac::Key,
}

impl std::fmt::Debug for Masquerade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Masquerade { key: <secret> }")
    }
}

impl Masquerade {
    pub fn new(secret: &str) -> Masquerade {
        Masquerade {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()),
        }
    }

    /// The mask of `addr`: 10 digits for 1–9 digits, 20 for 10–18. `None` for anything else
    /// (letters, `+`, empty, too long), which is left as it is.
    pub fn mask(&self, addr: &str) -> Option<String> {
        let len = u32::try_from(addr.len()).ok()?;
        if !addr.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let class = [SHORT, LONG]
            .into_iter()
            .find(|c| (c.min..=c.max).contains(&len))?;
        let value: u128 = addr.parse().ok()?;
        let index = offset(class, len) + value;
        let masked = self.permute(class, index, false);
        Some(format!("{masked:0width$}", width = class.width as usize))
    }

    /// The address `masked` is the mask of, or `None` when it is not one (not 10 or 20
    /// digits, or not the image of any address).
    pub fn unmask(&self, masked: &str) -> Option<String> {
        if !masked.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let class = [SHORT, LONG]
            .into_iter()
            .find(|c| c.width as usize == masked.len())?;
        let index = self.permute(class, masked.parse().ok()?, true);
        // Which length the index falls in, then the value within it.
        let len = (class.min..=class.max)
            .rev()
            .find(|&l| index >= offset(class, l))?;
        let value = index - offset(class, len);
        if value >= 10u128.pow(len) {
            return None;
        }
        Some(format!("{value:0width$}", width = len as usize))
    }

    /// The Feistel permutation of `0..10^width` (or its inverse).
    fn permute(&self, class: Class, n: u128, inverse: bool) -> u128 {
        let m = class.half;
        let (mut l, mut r) = (n / m, n % m);
        if inverse {
            for round in (0..ROUNDS).rev() {
                let f = self.round(class, round, l);
                (l, r) = ((r + m - f) % m, l);
            }
        } else {
            for round in 0..ROUNDS {
                let f = self.round(class, round, r);
                (l, r) = (r, (l + f) % m);
            }
        }
        l * m + r
    }

    /// The round function: HMAC(key, width, round, half) reduced modulo the half size.
    fn round(&self, class: Class, round: u8, half: u128) -> u128 {
        let mut input = [0u8; 18];
        input[0] = class.width as u8;
        input[1] = round;
        input[2..].copy_from_slice(&half.to_be_bytes()[..16]);
        let tag = hmac::sign(&self.key, &input);
        let mut first = [0u8; 16];
        first.copy_from_slice(&tag.as_ref()[..16]);
        u128::from_be_bytes(first) % class.half
    }
}

/// How many addresses of the class are shorter than `len` digits.
fn offset(class: Class, len: u32) -> u128 {
    (class.min..len).map(|l| 10u128.pow(l)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn lengths_follow_emg() {
        let m = Masquerade::new("test key");
        let cases = [
            ("4", 10),
            ("123456789", 10),
            ("4670123456", 20),
            ("467012345678901234", 20),
        ];
        for (addr, width) in cases {
            let masked = m.mask(addr).unwrap();
            assert_eq!(masked.len(), width, "{addr} -> {masked}");
            assert!(masked.bytes().all(|b| b.is_ascii_digit()));
            assert_ne!(masked, addr);
            assert_eq!(m.unmask(&masked).as_deref(), Some(addr));
        }
        for not_masked in ["", "+4670", "emg", "4670123456789012345", "46a"] {
            assert_eq!(m.mask(not_masked), None, "{not_masked}");
        }
        for not_a_mask in ["123", "12345678901", "abcdefghij"] {
            assert_eq!(m.unmask(not_a_mask), None, "{not_a_mask}");
        }
    }

    #[test]
    fn round_trip_and_unique_over_many_addresses_of_both_lengths() {
        let m = Masquerade::new("installation secret");
        let mut seen = HashSet::new();
        let mut addrs: Vec<String> = (0..3000u64)
            .map(|i| format!("{}", 4_670_000 + i * 7))
            .collect();
        addrs.extend((0..3000u64).map(|i| format!("{}", 46_701_234_567u64 + i * 13)));
        // Leading zeros and lengths count: these are all different addresses.
        addrs
            .extend(["0", "00", "000", "1", "01", "0046701234567", "4670123456"].map(String::from));
        for a in &addrs {
            let masked = m.mask(a).unwrap();
            assert!(seen.insert(masked.clone()), "{a} collides");
            assert_eq!(m.unmask(&masked).as_deref(), Some(a.as_str()));
        }
    }

    #[test]
    fn the_key_matters_and_masks_are_stable() {
        let a = Masquerade::new("key one");
        let b = Masquerade::new("key two");
        assert_ne!(a.mask("46701234"), b.mask("46701234"));
        assert_eq!(
            a.mask("46701234"),
            Masquerade::new("key one").mask("46701234")
        );
        // Another key does not unmask to the original.
        let masked = a.mask("46701234").unwrap();
        assert_ne!(b.unmask(&masked).as_deref(), Some("46701234"));
    }
}
