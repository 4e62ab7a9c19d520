//! `tail` and `watch`: open a stream and print its events until interrupted, the connection
//! closes, the reader of our output goes away, or `--count` events were printed.

use super::connectors::table;
use super::out::{self, outln, Out};
use crate::client::Client;
use crate::exit::Failure;
use common::mgp::{Event, Op, StreamRef};

/// Print the events of the stream `op` opens; `print` says whether it printed one (so that it
/// counts).
async fn follow(
    c: &mut Client,
    out: &Out,
    op: Op,
    count: Option<u64>,
    mut print: impl FnMut(&Event) -> Result<bool, Failure>,
) -> Result<(), Failure> {
    let (_, s) = c.call_as::<StreamRef>(op).await?;
    let mut shown = 0;
    while count.is_none_or(|n| shown < n) {
        let Some(ev) = c.next_event().await? else {
            return Err(Failure::Other("emgd closed the connection".into()));
        };
        if ev.stream != s.stream {
            continue;
        }
        if let Event::Lost { count } = ev.event {
            eprintln!("emgclient: {count} events lost (reading too slowly)");
            continue;
        }
        let counted = if out.json {
            outln!("{}", serde_json::to_string(&ev.event).unwrap_or_default())?;
            true
        } else {
            print(&ev.event)?
        };
        if counted {
            shown += 1;
        }
        out::flush()?;
    }
    Ok(())
}

pub async fn tail(
    c: &mut Client,
    out: &Out,
    name: Option<String>,
    pdu: bool,
    count: Option<u64>,
) -> Result<(), Failure> {
    follow(
        c,
        out,
        Op::Tail {
            name,
            pdu,
            backlog: None,
        },
        count,
        |ev| match ev {
            Event::Log { line, .. } => outln!("{line}").map(|()| true),
            _ => Ok(false),
        },
    )
    .await
}

pub async fn watch(c: &mut Client, out: &Out, count: Option<u64>) -> Result<(), Failure> {
    follow(c, out, Op::Watch, count, |ev| match ev {
        Event::State { connector, states } => {
            outln!("{connector}: {}", states.join(" "))?;
            Ok(true)
        }
        Event::Counters {
            total_queued,
            connectors,
        } => {
            outln!("queued {total_queued}")?;
            table(connectors).print()?;
            outln!("")?;
            Ok(true)
        }
        _ => Ok(false),
    })
    .await
}
