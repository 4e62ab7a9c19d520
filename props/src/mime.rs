//! Mail to SMS: reading a MIME message into the text an SMS carries.

/// Any bytes are a mail or refused; the text read from a mail is already tidy (tidying it
/// again changes nothing).
pub fn read(data: &[u8]) {
    let Ok(mail) = common::mime::read_mail(data) else {
        return;
    };
    assert_eq!(common::mime::tidy(&mail.text), mail.text, "{mail:?}");
}
