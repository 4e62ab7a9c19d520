//! `tail` and `watch`: open a stream and print its events until interrupted, the connection
//! closes, or `--count` events were printed.

use super::connectors::table;
use super::Out;
use crate::client::Client;
use crate::exit::Failure;
use common::mgp::{Event, Op, StreamRef};
use std::io::Write;

async fn follow(
    c: &mut Client,
    out: &Out,
    op: Op,
    count: Option<u64>,
    mut print: impl FnMut(&Event) -> bool,
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
            println!("{}", serde_json::to_string(&ev.event).unwrap_or_default());
            true
        } else {
            print(&ev.event)
        };
        if counted {
            shown += 1;
        }
        let _ = std::io::stdout().flush();
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
    follow(c, out, Op::Tail { name, pdu }, count, |ev| match ev {
        Event::Log { line, .. } => {
            println!("{line}");
            true
        }
        _ => false,
    })
    .await
}

pub async fn watch(c: &mut Client, out: &Out, count: Option<u64>) -> Result<(), Failure> {
    follow(c, out, Op::Watch, count, |ev| match ev {
        Event::State { connector, states } => {
            println!("{connector}: {}", states.join(" "));
            true
        }
        Event::Counters {
            total_queued,
            connectors,
        } => {
            println!("queued {total_queued}");
            table(connectors).print();
            println!();
            true
        }
        _ => false,
    })
    .await
}
