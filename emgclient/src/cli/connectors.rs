//! `status`, `connectors`, `connector`, `hold`, `release`, `bounce`, `forceclose`.

use super::out::{outln, Out};
use super::table::Table;
use crate::client::Client;
use crate::exit::Failure;
use crate::format::{duration, time_us};
use common::mgp::{ConnectorDetail, ConnectorInfo, ConnectorList, Flags, Op, Session, Status};

pub async fn status(c: &mut Client, out: &Out) -> Result<(), Failure> {
    let (v, s) = c.call_as::<Status>(Op::Status).await?;
    if out.raw(&v)? {
        return Ok(());
    }
    outln!("version       {}", s.version)?;
    outln!("uptime        {}", duration(s.uptime_s))?;
    outln!("node id       {}", s.node_id)?;
    outln!("connectors    {}", s.connectors)?;
    outln!("queued        {}", s.total_queued)?;
    outln!("received      {}", s.received)?;
    outln!("sent          {}", s.sent)?;
    outln!("failed        {}", s.failed)?;
    Ok(())
}

/// `BOUND` when every instance agrees, else `BOUND:2 IDLE:2`.
pub fn states(st: &[String]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for s in st {
        match counts.iter_mut().find(|(n, _)| n == s) {
            Some((_, k)) => *k += 1,
            None => counts.push((s, 1)),
        }
    }
    if counts.len() == 1 {
        return counts[0].0.to_string();
    }
    counts
        .iter()
        .map(|(n, k)| format!("{n}:{k}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn flag(on: bool, name: &str) -> &str {
    if on {
        name
    } else {
        "-"
    }
}

/// The connector list; on a node sharing its store with others (a cluster) with a NODES
/// column: the sessions bound on each live node (`1:4 2:4 3:0`).
pub fn table(list: &[ConnectorInfo]) -> Table {
    let clustered = list.iter().any(|i| !i.nodes.is_empty());
    let mut header = vec![
        "NAME", "DIR", "PROTO", "STATE", ">BOUND", "HOLD", "FC", ">QUEUE", ">SENT", ">RECV",
        ">FAIL", ">SENT/S", ">RECV/S",
    ];
    if clustered {
        header.push("NODES");
    }
    let mut t = Table::new(&header);
    for i in list {
        let mut row = vec![
            i.name.clone(),
            if i.direction == "incoming" {
                "in"
            } else {
                "out"
            }
            .to_string(),
            i.protocol.clone(),
            states(&i.states),
            format!("{}/{}", i.bound, i.instances),
            flag(i.hold, "hold").to_string(),
            flag(i.forceclose, "fc").to_string(),
            i.queued.to_string(),
            i.sent.to_string(),
            i.received.to_string(),
            i.failed.to_string(),
            format!("{:.1}", i.rate_sent),
            format!("{:.1}", i.rate_received),
        ];
        if clustered {
            row.push(per_node(i));
        }
        t.row(row);
    }
    t
}

/// `1:4 2:4 3:0`: node id and sessions bound there, for each live node.
fn per_node(i: &ConnectorInfo) -> String {
    i.nodes
        .iter()
        .map(|n| format!("{}:{}", n.node_id, n.bound))
        .collect::<Vec<_>>()
        .join(" ")
}

pub async fn list(c: &mut Client, out: &Out) -> Result<(), Failure> {
    let (v, l) = c.call_as::<ConnectorList>(Op::Connectors).await?;
    if !out.raw(&v)? {
        table(&l.connectors).print()?;
    }
    Ok(())
}

pub async fn detail(c: &mut Client, out: &Out, name: String) -> Result<(), Failure> {
    let (v, d) = c.call_as::<ConnectorDetail>(Op::Connector { name }).await?;
    if out.raw(&v)? {
        return Ok(());
    }
    let i = &d.info;
    let opt = |o: Option<String>| o.unwrap_or_else(|| "-".into());
    outln!("name          {}", i.name)?;
    outln!("type          {} {}", i.direction, i.protocol)?;
    outln!("address       {}", opt(d.address.clone()))?;
    outln!("instances     {} bound of {}", i.bound, i.instances)?;
    outln!("states        {}", i.states.join(" "))?;
    outln!("hold          {}", i.hold)?;
    outln!("forceclose    {}", i.forceclose)?;
    outln!("queued        {}", i.queued)?;
    outln!("sent          {} ({:.1}/s)", i.sent, i.rate_sent)?;
    outln!("received      {} ({:.1}/s)", i.received, i.rate_received)?;
    outln!("failed        {} ({:.1}/s)", i.failed, i.rate_failed)?;
    outln!("mode          {}", d.mode)?;
    outln!("windowsize    {}", d.windowsize)?;
    outln!("throughput    {}", opt(d.throughput.map(|t| t.to_string())))?;
    outln!(
        "maxqueuesize  {}",
        opt(d.maxqueuesize.map(|t| t.to_string()))
    )?;
    outln!(
        "users         {}",
        if d.users.is_empty() {
            "-".into()
        } else {
            d.users.join(", ")
        }
    )?;
    outln!("route         {}", opt(d.route.clone()))?;
    if d.sessions.is_empty() {
        outln!("sessions      none")?;
    } else {
        outln!("")?;
        sessions(&d.sessions).print()?;
    }
    Ok(())
}

/// The bound sessions: INSTANCE PEER BIND USER SINCE (UTC, to the second) INFLIGHT (the
/// messages awaiting their answer: the window in use).
pub fn sessions(list: &[Session]) -> Table {
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    let mut t = Table::new(&[">INSTANCE", "PEER", "BIND", "USER", "SINCE", ">INFLIGHT"]);
    for s in list {
        let mut since = time_us(s.since_us);
        if let Some(dot) = since.find('.') {
            since.replace_range(dot..dot + 7, "");
        }
        t.row(vec![
            s.instance.to_string(),
            opt(&s.peer),
            opt(&s.bind),
            opt(&s.user),
            since,
            s.inflight.to_string(),
        ]);
    }
    t
}

/// `hold`, `release`, `bounce`, `forceclose [--persist|--clear]`: print the flags now.
pub async fn flags(c: &mut Client, out: &Out, op: Op) -> Result<(), Failure> {
    let (v, f) = c.call_as::<Flags>(op).await?;
    if out.raw(&v)? {
        return Ok(());
    }
    let on = |b| if b { "on" } else { "off" };
    outln!(
        "{}: hold {}, forceclose {}{}",
        f.connector,
        on(f.hold),
        on(f.forceclose),
        if f.persisted { " (persisted)" } else { "" }
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use common::mgp::Session;

    #[test]
    fn sessions_table() {
        let list = vec![
            Session {
                instance: 0,
                peer: Some("127.0.0.1:40001".into()),
                bind: Some("transceiver".into()),
                user: Some("demo".into()),
                since_us: 1_430_248_542_104_666,
                inflight: 7,
            },
            Session {
                instance: 11,
                peer: Some("in-process".into()),
                bind: Some("sim".into()),
                user: None,
                since_us: 1_430_248_600_000_000,
                inflight: 0,
            },
        ];
        assert_eq!(
            super::sessions(&list).render(),
            "INSTANCE  PEER             BIND         USER  SINCE                    INFLIGHT\n\
             \x20      0  127.0.0.1:40001  transceiver  demo  2015-04-28 19:15:42 UTC         7\n\
             \x20     11  in-process       sim          -     2015-04-28 19:16:40 UTC         0\n"
        );
    }
}
