//! TP-DCS, the data coding scheme (TS 23.038 §4): which alphabet the user data is in.
//!
//! Only the alphabet matters to the codec, because it decides whether TP-UDL counts septets or
//! octets. The SMPP `data_coding` values of the rest of emg overlap with TP-DCS only in part
//! (SMPP 1 is IA5, 3 Latin-1; TP-DCS 1 and 3 are GSM 7-bit with a message class), so this
//! mapping is separate from [`Coding::from_data_coding`].

use crate::gsm::Coding;

/// The alphabet a TP-DCS selects: [`Coding::Gsm7`], [`Coding::Binary`] (8-bit data) or
/// [`Coding::Ucs2`]. Compressed user data is octets, so it reads as binary; the reserved
/// groups read as GSM 7-bit, as TS 23.038 tells a receiver to assume.
pub fn coding_of_dcs(dcs: u8) -> Coding {
    let by_bits = |dcs: u8| match (dcs >> 2) & 0b11 {
        0b01 => Coding::Binary,
        0b10 => Coding::Ucs2,
        _ => Coding::Gsm7,
    };
    match dcs >> 4 {
        // General data coding and automatic deletion groups; bit 5 is "compressed".
        0x0..=0x7 if dcs & 0x20 != 0 => Coding::Binary,
        0x0..=0x7 => by_bits(dcs),
        // Message waiting, discard or store; 0xE stores UCS-2.
        0xC | 0xD => Coding::Gsm7,
        0xE => Coding::Ucs2,
        // Data coding / message class: bit 2 is 8-bit data.
        0xF if dcs & 0x04 != 0 => Coding::Binary,
        _ => Coding::Gsm7,
    }
}

/// The TP-DCS for an alphabet, with message class 0 (flash: shown, not stored) when `flash`.
/// IA5 and Latin-1 have no TP-DCS of their own; they are sent as GSM 7-bit and 8-bit.
pub fn dcs_for_coding(coding: Coding, flash: bool) -> u8 {
    let alphabet = match coding {
        Coding::Gsm7 | Coding::Ia5 => 0x00,
        Coding::Binary | Coding::Latin1 => 0x04,
        Coding::Ucs2 => 0x08,
    };
    if flash {
        0x10 | alphabet
    } else {
        alphabet
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dcs_groups_select_the_alphabet() {
        let cases = [
            (0x00, Coding::Gsm7),
            (0x01, Coding::Gsm7),
            (0x04, Coding::Binary),
            (0x08, Coding::Ucs2),
            (0x10, Coding::Gsm7),
            (0x18, Coding::Ucs2),
            (0x24, Coding::Binary), // compressed
            (0x48, Coding::Ucs2),   // automatic deletion group
            (0x80, Coding::Gsm7),   // reserved
            (0xC8, Coding::Gsm7),
            (0xD1, Coding::Gsm7),
            (0xE0, Coding::Ucs2),
            (0xF0, Coding::Gsm7),
            (0xF4, Coding::Binary),
            (0xF6, Coding::Binary),
        ];
        for (dcs, coding) in cases {
            assert_eq!(coding_of_dcs(dcs), coding, "{dcs:#04x}");
        }
        for dcs in 0..=255u8 {
            let c = coding_of_dcs(dcs);
            assert_eq!(coding_of_dcs(dcs_for_coding(c, false)), c);
            assert_eq!(coding_of_dcs(dcs_for_coding(c, true)), c);
        }
    }
}
