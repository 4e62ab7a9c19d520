//! TP-UDL and TP-UD (TS 23.040 §9.2.3.16, §9.2.3.24): the user data with its optional header.
//!
//! For GSM 7-bit the length counts septets, header included (the header is padded with fill
//! bits to a septet boundary, [`udh_fill_bits`]); for 8-bit and UCS-2 it counts octets. The body
//! is kept the way the rest of emg keeps it: unpacked septets for GSM 7-bit, octets otherwise.

use super::{reader::Reader, PduError, MAX_USER_DATA};
use crate::concat::Part;
use crate::gsm::{decode_text, pack_septets, udh_fill_bits, unpack_septets, Coding, Udh, UdhError};

/// Septets that fit 140 octets.
const MAX_SEPTETS: usize = MAX_USER_DATA * 8 / 7;

/// User data: header (when TP-UDHI is set) and body.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct UserData {
    pub udh: Option<Udh>,
    /// Unpacked septets (GSM 7-bit) or octets (8-bit data, UTF-16BE for UCS-2).
    pub body: Vec<u8>,
}

/// Septets a header of `udh_len` octets (UDHL included) takes, fill bits included.
fn header_septets(udh_len: usize) -> usize {
    (udh_len * 8).div_ceil(7)
}

impl UserData {
    /// Text without a header.
    pub fn plain(body: Vec<u8>) -> UserData {
        UserData { udh: None, body }
    }

    /// The user data of one planned part of a long message ([`crate::concat::split_encoded`]).
    pub fn from_part(part: &Part) -> Result<UserData, UdhError> {
        if !part.udhi {
            return Ok(UserData::plain(part.body.clone()));
        }
        let (udh, text) = Udh::split(&part.body)?;
        Ok(UserData {
            udh: Some(udh),
            body: text.to_vec(),
        })
    }

    /// The body as text, `None` for 8-bit data.
    pub fn text(&self, coding: Coding) -> Option<String> {
        decode_text(coding.data_coding(), &self.body).ok()
    }

    /// Appends TP-UDL and TP-UD.
    pub fn write(&self, coding: Coding, out: &mut Vec<u8>) -> Result<(), PduError> {
        let udh = match &self.udh {
            Some(u) => u.encode()?,
            None => Vec::new(),
        };
        if coding == Coding::Gsm7 {
            let septets = header_septets(udh.len()) + self.body.len();
            if septets > MAX_SEPTETS {
                return Err(PduError::UserDataTooLong((septets * 7).div_ceil(8)));
            }
            out.push(septets as u8);
            out.extend_from_slice(&udh);
            out.extend_from_slice(&pack_septets(&self.body, udh_fill_bits(udh.len())));
        } else {
            let octets = udh.len() + self.body.len();
            if octets > MAX_USER_DATA {
                return Err(PduError::UserDataTooLong(octets));
            }
            out.push(octets as u8);
            out.extend_from_slice(&udh);
            out.extend_from_slice(&self.body);
        }
        Ok(())
    }

    /// Reads TP-UDL and TP-UD; `udhi` is the TP-UDHI bit of the first octet.
    pub fn read(r: &mut Reader<'_>, coding: Coding, udhi: bool) -> Result<UserData, PduError> {
        let udl = usize::from(r.u8("TP-UDL")?);
        let too_long = PduError::Invalid {
            field: "TP-UDL",
            why: "over 140 octets of user data",
        };
        let octets = if coding == Coding::Gsm7 {
            if udl > MAX_SEPTETS {
                return Err(too_long);
            }
            (udl * 7).div_ceil(8)
        } else {
            if udl > MAX_USER_DATA {
                return Err(too_long);
            }
            udl
        };
        let ud = r.take(octets, "TP-UD")?;
        let (udh, header_len) = match udhi {
            true => {
                let (udh, n) = Udh::parse(ud)?;
                (Some(udh), n)
            }
            false => (None, 0),
        };
        let after = ud.get(header_len..).unwrap_or_default();
        let body = if coding == Coding::Gsm7 {
            let septets = udl
                .checked_sub(header_septets(header_len))
                .ok_or(PduError::Invalid {
                    field: "TP-UDL",
                    why: "shorter than the user data header",
                })?;
            unpack_septets(after, udh_fill_bits(header_len), septets)
        } else {
            after.to_vec()
        };
        Ok(UserData { udh, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gsm::{encode_gsm, Concat};

    fn round_trip(ud: &UserData, coding: Coding) -> Vec<u8> {
        let mut out = Vec::new();
        ud.write(coding, &mut out).unwrap();
        let mut r = Reader::new(&out);
        let back = UserData::read(&mut r, coding, ud.udh.is_some()).unwrap();
        assert!(r.rest().is_empty(), "{out:02X?}");
        assert_eq!(&back, ud);
        out
    }

    #[test]
    fn gsm_text_is_packed_and_counted_in_septets() {
        let ud = UserData::plain(encode_gsm("hellohello").unwrap());
        assert_eq!(
            round_trip(&ud, Coding::Gsm7),
            [0x0A, 0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37]
        );
    }

    #[test]
    fn a_concat_header_pads_gsm_text_with_one_fill_bit() {
        let udh = Udh::with_concat(Concat {
            reference: 0x42,
            total: 2,
            seq: 1,
            wide_ref: false,
        });
        let ud = UserData {
            udh: Some(udh),
            body: encode_gsm("Hi").unwrap(),
        };
        // 6 header octets = 7 septets (48 bits + 1 fill bit), then 2 septets of text.
        let out = round_trip(&ud, Coding::Gsm7);
        assert_eq!(out[0], 9);
        assert_eq!(&out[1..7], [0x05, 0x00, 0x03, 0x42, 0x02, 0x01]);
        assert_eq!(&out[7..], [0x90, 0x69]); // 'H' after one fill bit, then 'i'
                                             // 16-bit reference: 7 octets = 8 septets exactly, no fill bits.
        let wide = UserData {
            udh: Some(Udh::with_concat(Concat {
                reference: 0x1234,
                total: 2,
                seq: 2,
                wide_ref: true,
            })),
            body: encode_gsm("Hi").unwrap(),
        };
        let out = round_trip(&wide, Coding::Gsm7);
        assert_eq!(out[0], 10);
        assert_eq!(&out[8..], [0xC8, 0x34]);
    }

    #[test]
    fn octet_codings_count_octets() {
        let ud = UserData {
            udh: Some(Udh::with_concat(Concat {
                reference: 7,
                total: 3,
                seq: 3,
                wide_ref: false,
            })),
            body: vec![0x00, 0xE5, 0x00, 0x41],
        };
        let out = round_trip(&ud, Coding::Ucs2);
        assert_eq!(out[0], 10);
        round_trip(&UserData::plain(vec![0xFF; 140]), Coding::Binary);
    }

    #[test]
    fn too_much_user_data_is_refused() {
        let full = UserData::plain(vec![0x41; 160]);
        let mut out = Vec::new();
        full.write(Coding::Gsm7, &mut out).unwrap();
        assert_eq!(out.len(), 141);
        let over = UserData::plain(vec![0x41; 161]);
        assert!(over.write(Coding::Gsm7, &mut Vec::new()).is_err());
        let over = UserData::plain(vec![0x41; 141]);
        assert!(over.write(Coding::Binary, &mut Vec::new()).is_err());
        for bad in [&[161u8][..], &[5, 0x41], &[2, 0x05, 0x00]] {
            let udhi = bad.len() == 3;
            assert!(
                UserData::read(&mut Reader::new(bad), Coding::Gsm7, udhi).is_err(),
                "{bad:?}"
            );
        }
    }
}
