//! `msg show`, `msg cancel`, `msg history`, `msg move`, `msg resend`, `msg search`, `send`,
//! `dlr inject`.

use super::args::MsgCommand;
use super::out::{outln, Out};
use super::table::Table;
use crate::client::Client;
use crate::exit::Failure;
use crate::format::time_us;
use common::mgp::{MessageHistory, MessageInfo, MessageList, MessageRef, Op};

pub async fn run(c: &mut Client, out: &Out, cmd: MsgCommand) -> Result<(), Failure> {
    match cmd {
        MsgCommand::Show { id } => {
            let (v, m) = c.call_as::<MessageInfo>(Op::MsgShow { id }).await?;
            if out.raw(&v)? {
                return Ok(());
            }
            let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
            outln!("id            {}", m.id)?;
            outln!("state         {}", m.state)?;
            outln!("type          {}", m.msgtype)?;
            outln!("from          {}", m.source)?;
            outln!("to            {}", m.dest)?;
            outln!(
                "received on   {}{}",
                m.origin,
                m.origin_user
                    .as_ref()
                    .map(|u| format!(" (user {u})"))
                    .unwrap_or_default()
            )?;
            outln!("route         {}", m.target)?;
            if let Some(entry) = &m.route_entry {
                outln!("route entry   {entry}")?;
            }
            outln!("received      {}", time_us(m.received_us))?;
            outln!("updated       {}", time_us(m.updated_us))?;
            outln!("attempts      {}", m.attempts)?;
            outln!("remote id     {}", opt(&m.remote_id))?;
            outln!("dlr requested {}", m.dlr_requested)?;
            outln!("status        {}", opt(&m.status))?;
            outln!("text          {}", opt(&m.text))?;
            if !m.tlvs.is_empty() {
                outln!("tlvs          {}", m.tlvs.join(" "))?;
            }
            if m.price.is_some() || m.cost.is_some() {
                outln!("price         {}", opt(&m.price))?;
                outln!("cost          {}", opt(&m.cost))?;
            }
        }
        MsgCommand::Cancel { id } => {
            let (v, r) = c.call_as::<MessageRef>(Op::MsgCancel { id }).await?;
            if !out.raw(&v)? {
                outln!("message {} cancelled (was queued on {})", r.id, r.target)?;
            }
        }
        MsgCommand::History { id } => {
            let (v, h) = c.call_as::<MessageHistory>(Op::MsgHistory { id }).await?;
            if out.raw(&v)? {
                return Ok(());
            }
            if h.message.is_none() {
                outln!("(message {id} itself is purged; the routelog still has its steps)")?;
            }
            let mut t = Table::new(&["TIME", "STEP", "DETAIL"]);
            for e in &h.events {
                t.row(vec![time_us(e.at_us), e.what.clone(), e.detail.clone()]);
            }
            t.print()?;
        }
        MsgCommand::Move { id, to } => {
            let (v, r) = c.call_as::<MessageRef>(Op::MsgMove { id, to }).await?;
            if !out.raw(&v)? {
                outln!("message {} moved to {}", r.id, r.target)?;
            }
        }
        MsgCommand::Resend { id, via } => {
            let (v, r) = c.call_as::<MessageRef>(Op::MsgResend { id, via }).await?;
            if !out.raw(&v)? {
                outln!("message {id} resent as {}, queued on {}", r.id, r.target)?;
            }
        }
        MsgCommand::Search {
            dest,
            from,
            account,
            connector,
            since,
            until,
            before,
            limit,
        } => {
            let now = now_us();
            let time = |t: Option<String>| -> Result<Option<i64>, Failure> {
                t.map(|t| crate::tui::state::command::parse_time(&t, now).map_err(Failure::Usage))
                    .transpose()
            };
            let op = Op::MsgSearch {
                message_id: None,
                source: from,
                dest,
                account,
                connector,
                since_us: time(since)?,
                until_us: time(until)?,
                before_id: before,
                limit: Some(limit),
            };
            let (v, l) = c.call_as::<MessageList>(op).await?;
            if out.raw(&v)? {
                return Ok(());
            }
            let mut t = Table::new(&[
                ">ID", "STATE", "FROM", "TO", "ORIGIN", "TARGET", "STATUS", "RECEIVED",
            ]);
            let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
            for m in &l.messages {
                t.row(vec![
                    m.id.to_string(),
                    m.state.clone(),
                    m.source.clone(),
                    m.dest.clone(),
                    m.origin.clone(),
                    opt(&m.target),
                    opt(&m.status),
                    time_us(m.received_us),
                ]);
            }
            t.print()?;
            if let Some(s) = &l.stopped {
                outln!("({s})")?;
            }
            if l.more {
                if let Some(last) = l.messages.last() {
                    outln!("(more: --before {})", last.id)?;
                }
            }
        }
    }
    Ok(())
}

pub(super) fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

pub async fn send(c: &mut Client, out: &Out, op: Op) -> Result<(), Failure> {
    let (v, r) = c.call_as::<MessageRef>(op).await?;
    if out.raw(&v)? {
        return Ok(());
    }
    if r.target.is_empty() {
        // An injected delivery report (MSGTYPE=5) names no queue.
        outln!(
            "message {}: delivery report injected, now {}",
            r.id,
            r.state
        )?;
    } else {
        outln!("message {} queued on {}", r.id, r.target)?;
    }
    Ok(())
}

pub async fn dlr_inject(c: &mut Client, out: &Out, id: u64, status: String) -> Result<(), Failure> {
    let (v, r) = c
        .call_as::<MessageRef>(Op::DlrInject { id, status })
        .await?;
    if !out.raw(&v)? {
        outln!(
            "message {}: delivery report injected, now {}",
            r.id,
            r.state
        )?;
    }
    Ok(())
}
