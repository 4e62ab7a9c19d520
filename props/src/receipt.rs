//! The delivery receipt text inside deliver_sm (`id:... stat:... err:... text:...`).

use arbitrary::{Result, Unstructured};
use common::dlr::DlrStatus;
use common::smpp::Receipt;

/// What the writer makes of a receipt: `err` defaults to `000` and `text` keeps its first 20
/// characters; the parser then trims the text.
fn written(r: &Receipt) -> Receipt {
    let mut w = r.clone();
    if w.err.is_empty() {
        w.err = "000".into();
    }
    w.text = w
        .text
        .chars()
        .take(20)
        .collect::<String>()
        .trim()
        .to_string();
    w
}

/// Decoder property: a receipt the parser accepts has an id without blanks, and writing it
/// out and parsing that again gives the same receipt (the parser's reading is stable).
pub fn parse(data: &[u8]) {
    let Some(r) = Receipt::parse(data) else {
        return;
    };
    assert!(
        !r.id.is_empty() && !r.id.contains(char::is_whitespace),
        "{r:?}"
    );
    let text = r.to_text();
    assert_eq!(
        Receipt::parse(text.as_bytes()),
        Some(written(&r)),
        "{text:?}"
    );
}

/// Round-trip property: a receipt written by [`Receipt::to_text`] parses back to itself.
pub fn roundtrip(data: &[u8]) {
    let Some(r) = crate::generate(data, receipt) else {
        return;
    };
    let text = r.to_text();
    assert_eq!(
        Receipt::parse(text.as_bytes()),
        Some(written(&r)),
        "{text:?}"
    );
}

/// A value as SMSCs write them: one word, no blanks, no `:` (so it cannot read as a key).
fn word(u: &mut Unstructured, max: usize) -> Result<String> {
    crate::string(u, max, |c| !c.is_whitespace() && c != ':')
}

/// A receipt whose fields the text format can carry.
pub fn receipt(u: &mut Unstructured) -> Result<Receipt> {
    let mut id = word(u, 64)?;
    if id.is_empty() {
        id.push('0');
    }
    Ok(Receipt {
        id,
        sub: u.arbitrary()?,
        dlvrd: u.arbitrary()?,
        submit_date: word(u, 12)?,
        done_date: word(u, 12)?,
        stat: *u.choose(&DlrStatus::ALL)?,
        err: word(u, 3)?,
        text: crate::string(u, 80, |_| true)?,
    })
}
