//! The DLR id normaliser: the keys under which a receipt finds its message.

use common::dlrid::{normalise as canon, receipt_candidates, stored_aliases, IdFormat};

/// The first byte picks the connector's `dlr_id_format`, the rest is the id as an SMSC sent it.
///
/// Properties: normalising is idempotent; the extra keys are distinct, differ from the key
/// itself and are normalised; and the two directions agree, so a receipt parked under one
/// spelling is found again when its message is stored under the other (and back).
pub fn normalise(data: &[u8]) {
    let Some((&f, id)) = data.split_first() else {
        return;
    };
    let format = IdFormat::ALL[usize::from(f) % IdFormat::ALL.len()].1;
    let id = String::from_utf8_lossy(id);
    let key = canon(&id, format);
    assert_eq!(
        canon(&key, format),
        key,
        "not idempotent for {id:?} ({format})"
    );
    for (what, keys, back) in [
        (
            "receipt candidate",
            receipt_candidates(&key, format),
            stored_aliases as fn(&str, IdFormat) -> Vec<String>,
        ),
        (
            "stored alias",
            stored_aliases(&key, format),
            receipt_candidates,
        ),
    ] {
        for (i, k) in keys.iter().enumerate() {
            assert_ne!(k, &key, "{what} equals the key");
            assert!(!keys[..i].contains(k), "{what} {k:?} twice");
            assert_eq!(&canon(k, format), k, "{what} {k:?} is not normalised");
            assert!(
                back(k, format).contains(&key),
                "{what} {k:?} does not lead back to {key:?} ({format})"
            );
        }
    }
}
