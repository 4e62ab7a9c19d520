//! ACCESS lists: which client addresses may use a connector or a user.

use std::net::IpAddr;

/// True when `ip` matches an entry (an address, or `address/prefix-length`), or the list is
/// empty (no restriction). IPv4-mapped IPv6 peers match IPv4 entries.
pub fn allowed(list: &[String], ip: IpAddr) -> bool {
    if list.is_empty() {
        return true;
    }
    let ip = match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    list.iter().any(|entry| matches(entry, ip))
}

fn matches(entry: &str, ip: IpAddr) -> bool {
    let (addr, bits) = match entry.split_once('/') {
        Some((a, b)) => (a, b.parse::<u32>().ok()),
        None => (entry, None),
    };
    let Ok(net) = addr.trim().parse::<IpAddr>() else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => prefix_eq(
            u32::from(n) as u128,
            u32::from(i) as u128,
            bits.unwrap_or(32),
            32,
        ),
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            prefix_eq(u128::from(n), u128::from(i), bits.unwrap_or(128), 128)
        }
        _ => false,
    }
}

fn prefix_eq(net: u128, ip: u128, bits: u32, width: u32) -> bool {
    if bits > width {
        return false;
    }
    if bits == 0 {
        return true;
    }
    let shift = width - bits;
    (net >> shift) == (ip >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_blocks() {
        let list = vec![
            "10.1.0.0/16".to_string(),
            "127.0.0.1".to_string(),
            "::1".to_string(),
        ];
        assert!(allowed(&list, "10.1.200.3".parse().unwrap()));
        assert!(!allowed(&list, "10.2.0.1".parse().unwrap()));
        assert!(allowed(&list, "127.0.0.1".parse().unwrap()));
        assert!(allowed(&list, "::ffff:127.0.0.1".parse().unwrap()));
        assert!(allowed(&list, "::1".parse().unwrap()));
        assert!(!allowed(&list, "127.0.0.2".parse().unwrap()));
        assert!(allowed(&[], "192.0.2.1".parse().unwrap()));
        assert!(allowed(
            &["0.0.0.0/0".to_string()],
            "192.0.2.1".parse().unwrap()
        ));
    }
}
