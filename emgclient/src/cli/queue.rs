//! `queue list`, `queue move`, `queue clear`.

use super::args::QueueCommand;
use super::out::{outln, Out};
use super::table::Table;
use crate::client::Client;
use crate::exit::Failure;
use crate::format::duration;
use common::mgp::{Op, QueueCleared, QueueList, QueueMoved};

pub async fn run(c: &mut Client, out: &Out, cmd: QueueCommand) -> Result<(), Failure> {
    match cmd {
        QueueCommand::List { name, limit } => {
            let one = name.is_some();
            let (v, l) = c
                .call_as::<QueueList>(Op::QueueList {
                    name,
                    limit: Some(limit),
                })
                .await?;
            if out.raw(&v)? {
                return Ok(());
            }
            let mut t = Table::new(&["CONNECTOR", ">QUEUED", ">WAITING"]);
            for q in &l.queues {
                t.row(vec![
                    q.connector.clone(),
                    q.queued.to_string(),
                    q.waiting.to_string(),
                ]);
            }
            t.print()?;
            if one && !l.messages.is_empty() {
                outln!("")?;
                let mut t = Table::new(&[">ID", "SOURCE", "DEST", ">ATTEMPTS", ">AGE"]);
                for m in &l.messages {
                    t.row(vec![
                        m.id.to_string(),
                        m.source.clone(),
                        m.dest.clone(),
                        m.attempts.to_string(),
                        duration(m.age_s),
                    ]);
                }
                t.print()?;
            }
        }
        QueueCommand::Move {
            from,
            to,
            dest_prefix,
        } => {
            let (v, m) = c
                .call_as::<QueueMoved>(Op::QueueMove {
                    from,
                    to,
                    dest_prefix,
                })
                .await?;
            if !out.raw(&v)? {
                outln!("moved {} messages from {} to {}", m.moved, m.from, m.to)?;
            }
        }
        QueueCommand::Clear { name } => {
            let (v, m) = c.call_as::<QueueCleared>(Op::QueueClear { name }).await?;
            if !out.raw(&v)? {
                outln!("cancelled {} messages queued on {}", m.cleared, m.connector)?;
            }
        }
    }
    Ok(())
}
