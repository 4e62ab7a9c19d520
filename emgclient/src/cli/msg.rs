//! `msg show`, `msg cancel`, `send`, `dlr inject`.

use super::{MsgCommand, Out};
use crate::client::Client;
use crate::exit::Failure;
use common::mgp::{MessageInfo, MessageRef, Op};

/// Microseconds since the epoch as UTC `YYYY-MM-DD HH:MM:SS.ffffff`.
pub fn time_us(us: i64) -> String {
    if us <= 0 {
        return "-".into();
    }
    let secs = us.div_euclid(1_000_000);
    let micros = us.rem_euclid(1_000_000);
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{micros:06} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

pub async fn run(c: &mut Client, out: &Out, cmd: MsgCommand) -> Result<(), Failure> {
    match cmd {
        MsgCommand::Show { id } => {
            let (v, m) = c.call_as::<MessageInfo>(Op::MsgShow { id }).await?;
            if out.raw(&v) {
                return Ok(());
            }
            let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
            println!("id            {}", m.id);
            println!("state         {}", m.state);
            println!("type          {}", m.msgtype);
            println!("from          {}", m.source);
            println!("to            {}", m.dest);
            println!(
                "received on   {}{}",
                m.origin,
                m.origin_user
                    .as_ref()
                    .map(|u| format!(" (user {u})"))
                    .unwrap_or_default()
            );
            println!("route         {}", m.target);
            println!("received      {}", time_us(m.received_us));
            println!("updated       {}", time_us(m.updated_us));
            println!("attempts      {}", m.attempts);
            println!("remote id     {}", opt(&m.remote_id));
            println!("dlr requested {}", m.dlr_requested);
            println!("status        {}", opt(&m.status));
            println!("text          {}", opt(&m.text));
            if m.price.is_some() || m.cost.is_some() {
                println!("price         {}", opt(&m.price));
                println!("cost          {}", opt(&m.cost));
            }
        }
        MsgCommand::Cancel { id } => {
            let (v, r) = c.call_as::<MessageRef>(Op::MsgCancel { id }).await?;
            if !out.raw(&v) {
                println!("message {} cancelled (was queued on {})", r.id, r.target);
            }
        }
    }
    Ok(())
}

pub async fn send(c: &mut Client, out: &Out, op: Op) -> Result<(), Failure> {
    let (v, r) = c.call_as::<MessageRef>(op).await?;
    if !out.raw(&v) {
        println!("message {} queued on {}", r.id, r.target);
    }
    Ok(())
}

pub async fn dlr_inject(c: &mut Client, out: &Out, id: u64, status: String) -> Result<(), Failure> {
    let (v, r) = c
        .call_as::<MessageRef>(Op::DlrInject { id, status })
        .await?;
    if !out.raw(&v) {
        println!(
            "message {}: delivery report injected, now {}",
            r.id, r.state
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc_times() {
        assert_eq!(
            super::time_us(1_430_248_542_104_666),
            "2015-04-28 19:15:42.104666 UTC"
        );
        assert_eq!(super::time_us(0), "-");
    }
}
