//! `server status|start|stop|restart`: the watchdog's control of emgd.

use super::args::ServerCommand;
use super::out::{outln, Out};
use crate::client::Client;
use crate::exit::Failure;
use crate::format::{duration, time_us};
use common::mgp::{Op, ServerStatus};

pub async fn run(c: &mut Client, out: &Out, cmd: ServerCommand) -> Result<(), Failure> {
    let op = match cmd {
        ServerCommand::Status => Op::ServerStatus,
        ServerCommand::Start => Op::ServerStart,
        ServerCommand::Stop => Op::ServerStop,
        ServerCommand::Restart => Op::ServerRestart,
    };
    let (v, s) = c.call_as::<ServerStatus>(op).await?;
    if out.raw(&v)? {
        return Ok(());
    }
    let opt = |o: Option<String>| o.unwrap_or_else(|| "-".into());
    outln!("state         {}", s.state)?;
    outln!("pid           {}", opt(s.pid.map(|p| p.to_string())))?;
    let since = s.since_us.map(|us| {
        let now = chrono::Utc::now().timestamp_micros();
        let up = u64::try_from((now - us) / 1_000_000).unwrap_or(0);
        format!("{} (up {})", time_us(us), duration(up))
    });
    outln!("since         {}", opt(since))?;
    outln!("restarts      {}", s.restarts)?;
    outln!("last exit     {}", opt(s.last_exit))?;
    for d in &s.disks {
        outln!(
            "disk          {:.0}% used of {} (alert above {:.0}%)",
            d.used_percent,
            d.path,
            d.limit_percent
        )?;
    }
    Ok(())
}
