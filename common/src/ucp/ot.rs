//! The operation types this codec speaks, and whether a frame is an operation or its result:
//! what the header of every frame says, so errors and frames alike build on it.

/// O or R.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Operation,
    Result,
}

impl Kind {
    pub fn letter(self) -> char {
        match self {
            Kind::Operation => 'O',
            Kind::Result => 'R',
        }
    }
}

/// The operation types this codec speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ot {
    CallInput,
    MultipleCallInput,
    CallInputSs,
    Transfer,
    Alert,
    Submit,
    Deliver,
    Notification,
    Modify,
    Inquiry,
    Delete,
    InquiryResponse,
    DeleteResponse,
    SessionManagement,
    ListManagement,
}

impl Ot {
    pub const ALL: [Ot; 15] = [
        Ot::CallInput,
        Ot::MultipleCallInput,
        Ot::CallInputSs,
        Ot::Transfer,
        Ot::Alert,
        Ot::Submit,
        Ot::Deliver,
        Ot::Notification,
        Ot::Modify,
        Ot::Inquiry,
        Ot::Delete,
        Ot::InquiryResponse,
        Ot::DeleteResponse,
        Ot::SessionManagement,
        Ot::ListManagement,
    ];

    pub fn code(self) -> u8 {
        match self {
            Ot::CallInput => 1,
            Ot::MultipleCallInput => 2,
            Ot::CallInputSs => 3,
            Ot::Transfer => 30,
            Ot::Alert => 31,
            Ot::Submit => 51,
            Ot::Deliver => 52,
            Ot::Notification => 53,
            Ot::Modify => 54,
            Ot::Inquiry => 55,
            Ot::Delete => 56,
            Ot::InquiryResponse => 57,
            Ot::DeleteResponse => 58,
            Ot::SessionManagement => 60,
            Ot::ListManagement => 61,
        }
    }

    pub fn from_code(ot: u8) -> Option<Ot> {
        Ot::ALL.into_iter().find(|o| o.code() == ot)
    }

    /// The name in PDU logs, upper case like EMG's SMPP command names.
    pub fn name(self) -> &'static str {
        match self {
            Ot::CallInput => "CALL_INPUT",
            Ot::MultipleCallInput => "MULTIPLE_ADDRESS_CALL_INPUT",
            Ot::CallInputSs => "CALL_INPUT_WITH_SUPPLEMENTARY_SERVICES",
            Ot::Transfer => "SMS_MESSAGE_TRANSFER",
            Ot::Alert => "SMT_ALERT",
            Ot::Submit => "SUBMIT_SHORT_MESSAGE",
            Ot::Deliver => "DELIVER_SHORT_MESSAGE",
            Ot::Notification => "DELIVER_NOTIFICATION",
            Ot::Modify => "MODIFY_MESSAGE",
            Ot::Inquiry => "INQUIRY_MESSAGE",
            Ot::Delete => "DELETE_MESSAGE",
            Ot::InquiryResponse => "RESPONSE_INQUIRY_MESSAGE",
            Ot::DeleteResponse => "RESPONSE_DELETE_MESSAGE",
            Ot::SessionManagement => "SESSION_MANAGEMENT",
            Ot::ListManagement => "PROVISIONING_ACTIONS",
        }
    }

    /// Whether the positive result carries MVP (`A/MVP/SM`) or not (`A/SM`).
    pub fn result_has_mvp(self) -> bool {
        matches!(self.code(), 30 | 51..=58)
    }
}
