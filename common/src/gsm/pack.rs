//! 7-bit packing of septets into octets (TS 23.038 §6.1.2.1.1).
//!
//! SMPP usually carries septets unpacked, but modems, raw TPDUs and some SMSCs want them packed,
//! and a UDH in front of packed text forces *fill bits* so the first septet starts on a septet
//! boundary counted from the start of the user data. Bits are packed least significant first.

/// Fill bits needed after a UDH of `udh_len` octets (UDHL included) so the text that follows
/// starts on a septet boundary: 1 for the usual 6-octet concat UDH, 0 for a 7-octet one.
pub fn udh_fill_bits(udh_len: usize) -> u8 {
    ((7 - (udh_len * 8) % 7) % 7) as u8
}

/// Octets needed for `septets` septets after `fill_bits` (clamped to 0..=7) leading fill bits.
pub fn packed_len(septets: usize, fill_bits: u8) -> usize {
    (usize::from(fill_bits.min(7)) + 7 * septets).div_ceil(8)
}

/// Packs septets (top bit of each input octet ignored) after `fill_bits` zero bits.
///
/// The output has no UDH: put the UDH octets in front and pass [`udh_fill_bits`] of their
/// length. When the last octet has 7 spare bits a receiver may read an extra `@`; carry the
/// septet count (UDL) alongside, or append a CR as TS 23.038 suggests.
pub fn pack_septets(septets: &[u8], fill_bits: u8) -> Vec<u8> {
    let fill = usize::from(fill_bits.min(7));
    let mut out = vec![0u8; packed_len(septets.len(), fill_bits)];
    for (i, &s) in septets.iter().enumerate() {
        let bit = fill + 7 * i;
        let v = u16::from(s & 0x7F) << (bit % 8);
        if let Some(o) = out.get_mut(bit / 8) {
            *o |= v as u8;
        }
        if v > 0xFF {
            if let Some(o) = out.get_mut(bit / 8 + 1) {
                *o |= (v >> 8) as u8;
            }
        }
    }
    out
}

/// Unpacks up to `septet_count` septets that start after `fill_bits` bits (clamped to 0..=7).
/// Stops early, without error, when the octets run out: the count comes from a header field
/// (UDL) that a peer can get wrong.
pub fn unpack_septets(octets: &[u8], fill_bits: u8, septet_count: usize) -> Vec<u8> {
    let fill = usize::from(fill_bits.min(7));
    let available = (octets.len() * 8).saturating_sub(fill) / 7;
    let n = septet_count.min(available);
    (0..n)
        .map(|i| {
            let bit = fill + 7 * i;
            let lo = u16::from(octets.get(bit / 8).copied().unwrap_or(0));
            let hi = u16::from(octets.get(bit / 8 + 1).copied().unwrap_or(0));
            (((hi << 8 | lo) >> (bit % 8)) & 0x7F) as u8
        })
        .collect()
}
