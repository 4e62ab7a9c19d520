//! `msg show`, `msg cancel`, `send`, `dlr inject`.

use super::args::MsgCommand;
use super::out::{outln, Out};
use crate::client::Client;
use crate::exit::Failure;
use crate::format::time_us;
use common::mgp::{MessageInfo, MessageRef, Op};

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
            outln!("received      {}", time_us(m.received_us))?;
            outln!("updated       {}", time_us(m.updated_us))?;
            outln!("attempts      {}", m.attempts)?;
            outln!("remote id     {}", opt(&m.remote_id))?;
            outln!("dlr requested {}", m.dlr_requested)?;
            outln!("status        {}", opt(&m.status))?;
            outln!("text          {}", opt(&m.text))?;
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
    }
    Ok(())
}

pub async fn send(c: &mut Client, out: &Out, op: Op) -> Result<(), Failure> {
    let (v, r) = c.call_as::<MessageRef>(op).await?;
    if !out.raw(&v)? {
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
