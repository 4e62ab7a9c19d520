//! Receipts the DLR book misses, looked up in a store several nodes share: the receipt may be
//! for a message another node sent (SMSCs send receipts on any bound session). Lookups are
//! batched: one task takes every key asked for while the previous query ran and asks the store
//! once for all of them, so a burst of receipts costs a few round trips, not one each.
//!
//! A store one node writes alone is never asked: its book is complete.

use super::dlr_book::DlrKey;
use crate::store::{OpenDlr, Store};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};

/// Most keys in one query.
const BATCH_MAX: usize = 1_000;

/// The rows found for one key (every entry of its message), or the store's error.
type Answer = Result<Vec<OpenDlr>, String>;
type Ask = (DlrKey, oneshot::Sender<Answer>);

/// The batching lookup, its task started on first use.
#[derive(Default)]
pub struct StoreLookup {
    tx: OnceLock<mpsc::UnboundedSender<Ask>>,
}

impl StoreLookup {
    /// The open entries of the message that has the entry `key`, as the store holds them.
    pub async fn find(&self, store: &Arc<dyn Store>, key: DlrKey) -> Answer {
        let tx = self.tx.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(run(store.clone(), rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        tx.send((key, reply))
            .map_err(|_| "the DLR lookup task has stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the DLR lookup task has stopped".to_string())?
    }
}

/// Answer the asks in batches until the gateway is gone.
async fn run(store: Arc<dyn Store>, mut rx: mpsc::UnboundedReceiver<Ask>) {
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, BATCH_MAX).await > 0 {
        let keys: Vec<DlrKey> = batch.iter().map(|(k, _)| k.clone()).collect();
        match store.open_dlrs(keys).await {
            Ok(rows) => {
                let by_key = split(rows);
                for (key, reply) in batch.drain(..) {
                    let _ = reply.send(Ok(by_key.get(&key).cloned().unwrap_or_default()));
                }
            }
            Err(e) => {
                let e = e.to_string();
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// Each key found, with every entry of its message.
fn split(rows: Vec<OpenDlr>) -> HashMap<DlrKey, Vec<OpenDlr>> {
    let mut of_message: HashMap<u64, Vec<OpenDlr>> = HashMap::new();
    for r in rows {
        of_message.entry(r.message_id).or_default().push(r);
    }
    let mut out = HashMap::new();
    for entries in of_message.values() {
        for e in entries {
            out.insert((e.connector.clone(), e.remote_id.clone()), entries.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(connector: &str, remote: &str, id: u64) -> OpenDlr {
        OpenDlr {
            connector: connector.into(),
            remote_id: remote.into(),
            message_id: id,
            part_done: None,
            created_us: 1,
        }
    }

    #[test]
    fn every_key_gets_all_the_entries_of_its_message() {
        let by_key = split(vec![row("c", "a", 1), row("c", "b", 1), row("c", "z", 2)]);
        let key = |r: &str| ("c".to_string(), r.to_string());
        assert_eq!(by_key[&key("a")].len(), 2);
        assert_eq!(by_key[&key("b")].len(), 2);
        assert_eq!(by_key[&key("z")], vec![row("c", "z", 2)]);
        assert!(!by_key.contains_key(&key("q")));
    }
}
