//! `command_status` values (SMPP 3.4 §5.1.3, SMPP 5.0 §4.7.6).
//!
//! Kept as plain `u32` constants rather than an enum: peers send codes outside the spec
//! (vendor ranges 0x400..=0x4FF and plain garbage) and we must log and pass them through unchanged.

macro_rules! codes {
    ($($name:ident = $val:expr),* $(,)?) => {
        $(#[allow(missing_docs)] pub const $name: u32 = $val;)*

        /// Every code this module names, for tables and tests.
        pub const ALL: &[u32] = &[$($name),*];

        /// The spec name of a status code (`"ESME_RINVPASWD"`), or `"UNKNOWN"`.
        pub fn name(code: u32) -> &'static str {
            match code {
                $($name => stringify!($name),)*
                _ => "UNKNOWN",
            }
        }
    };
}

codes! {
    ESME_ROK = 0x0000_0000,
    ESME_RINVMSGLEN = 0x0000_0001,
    ESME_RINVCMDLEN = 0x0000_0002,
    ESME_RINVCMDID = 0x0000_0003,
    ESME_RINVBNDSTS = 0x0000_0004,
    ESME_RALYBND = 0x0000_0005,
    ESME_RINVPRTFLG = 0x0000_0006,
    ESME_RINVREGDLVFLG = 0x0000_0007,
    ESME_RSYSERR = 0x0000_0008,
    ESME_RINVSRCADR = 0x0000_000A,
    ESME_RINVDSTADR = 0x0000_000B,
    ESME_RINVMSGID = 0x0000_000C,
    ESME_RBINDFAIL = 0x0000_000D,
    ESME_RINVPASWD = 0x0000_000E,
    ESME_RINVSYSID = 0x0000_000F,
    ESME_RCANCELFAIL = 0x0000_0011,
    ESME_RREPLACEFAIL = 0x0000_0013,
    ESME_RMSGQFUL = 0x0000_0014,
    ESME_RINVSERTYP = 0x0000_0015,
    ESME_RINVNUMDESTS = 0x0000_0033,
    ESME_RINVDLNAME = 0x0000_0034,
    ESME_RINVDESTFLAG = 0x0000_0040,
    ESME_RINVSUBREP = 0x0000_0042,
    ESME_RINVESMCLASS = 0x0000_0043,
    ESME_RCNTSUBDL = 0x0000_0044,
    ESME_RSUBMITFAIL = 0x0000_0045,
    ESME_RINVSRCTON = 0x0000_0048,
    ESME_RINVSRCNPI = 0x0000_0049,
    ESME_RINVDSTTON = 0x0000_0050,
    ESME_RINVDSTNPI = 0x0000_0051,
    ESME_RINVSYSTYP = 0x0000_0053,
    ESME_RINVREPFLAG = 0x0000_0054,
    ESME_RINVNUMMSGS = 0x0000_0055,
    ESME_RTHROTTLED = 0x0000_0058,
    ESME_RINVSCHED = 0x0000_0061,
    ESME_RINVEXPIRY = 0x0000_0062,
    ESME_RINVDFTMSGID = 0x0000_0063,
    ESME_RX_T_APPN = 0x0000_0064,
    ESME_RX_P_APPN = 0x0000_0065,
    ESME_RX_R_APPN = 0x0000_0066,
    ESME_RQUERYFAIL = 0x0000_0067,
    ESME_RINVOPTPARSTREAM = 0x0000_00C0,
    ESME_ROPTPARNOTALLWD = 0x0000_00C1,
    ESME_RINVPARLEN = 0x0000_00C2,
    ESME_RMISSINGOPTPARAM = 0x0000_00C3,
    ESME_RINVOPTPARAMVAL = 0x0000_00C4,
    ESME_RDELIVERYFAILURE = 0x0000_00FE,
    ESME_RUNKNOWNERR = 0x0000_00FF,
    // SMPP 5.0 additions.
    ESME_RSERTYPUNAUTH = 0x0000_0100,
    ESME_RPROHIBITED = 0x0000_0101,
    ESME_RSERTYPUNAVAIL = 0x0000_0102,
    ESME_RSERTYPDENIED = 0x0000_0103,
    ESME_RINVDCS = 0x0000_0104,
    ESME_RINVSRCADDRSUBUNIT = 0x0000_0105,
    ESME_RINVDSTADDRSUBUNIT = 0x0000_0106,
    ESME_RINVBCASTFREQINT = 0x0000_0107,
    ESME_RINVBCASTALIAS_NAME = 0x0000_0108,
    ESME_RINVBCASTAREAFMT = 0x0000_0109,
    ESME_RINVNUMBCAST_AREAS = 0x0000_010A,
    ESME_RINVBCASTCNTTYPE = 0x0000_010B,
    ESME_RINVBCASTMSGCLASS = 0x0000_010C,
    ESME_RBCASTFAIL = 0x0000_010D,
    ESME_RBCASTQUERYFAIL = 0x0000_010E,
    ESME_RBCASTCANCELFAIL = 0x0000_010F,
    ESME_RINVBCAST_REP = 0x0000_0110,
    ESME_RINVBCASTSRVGRP = 0x0000_0111,
    ESME_RINVBCASTCHANIND = 0x0000_0112,
}

// SMPP 5.0 renamed the 0xC0..=0xC4 codes from OPTPAR to TLV. Both spellings compile so code
// written against either spec works; `name` reports the 3.4 spelling, which is what EMG logs.
#[allow(missing_docs)]
pub const ESME_RINVTLVSTREAM: u32 = ESME_RINVOPTPARSTREAM;
#[allow(missing_docs)]
pub const ESME_RTLVNOTALLWD: u32 = ESME_ROPTPARNOTALLWD;
#[allow(missing_docs)]
pub const ESME_RINVTLVLEN: u32 = ESME_RINVPARLEN;
#[allow(missing_docs)]
pub const ESME_RMISSINGTLV: u32 = ESME_RMISSINGOPTPARAM;
#[allow(missing_docs)]
pub const ESME_RINVTLVVAL: u32 = ESME_RINVOPTPARAMVAL;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(name(ESME_ROK), "ESME_ROK");
        assert_eq!(name(0x0e), "ESME_RINVPASWD");
        assert_eq!(name(ESME_RINVTLVLEN), "ESME_RINVPARLEN");
        assert_eq!(name(0x4242), "UNKNOWN");
        assert!(ALL.iter().all(|&c| name(c) != "UNKNOWN"));
    }
}
