//! A minimal MGP client for the benchmark: log in once, then hold, release and read queue
//! sizes over the same session (one Argon2 check per run, not one per poll, so the control
//! traffic does not show up in emgd's CPU figures).

use anyhow::{anyhow, bail, Context};
use bytes::BytesMut;
use common::mgp::{decode_line, encode, Frame, Op, Outcome, QueueList, Request, MAX_LINE};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A connector's queue size and flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueState {
    pub queued: usize,
    pub hold: bool,
    pub forceclose: bool,
}

pub struct Mgp {
    stream: TcpStream,
    rbuf: BytesMut,
    next_id: u64,
}

impl Mgp {
    /// Connect to 127.0.0.1:`port` and log in.
    pub async fn login(port: u16, user: &str, password: &str) -> anyhow::Result<Mgp> {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .with_context(|| format!("cannot connect to MGP on port {port}"))?;
        let mut m = Mgp {
            stream,
            rbuf: BytesMut::new(),
            next_id: 0,
        };
        m.call(Op::Login {
            user: user.into(),
            password: password.into(),
        })
        .await
        .context("MGP login")?;
        Ok(m)
    }

    /// Send one request and wait for its answer (stream events are skipped).
    pub async fn call(&mut self, op: Op) -> anyhow::Result<Value> {
        self.next_id += 1;
        let id = self.next_id;
        let name = op.name();
        self.stream.write_all(&encode(&Request { id, op })).await?;
        loop {
            match decode_line(&mut self.rbuf, MAX_LINE).map_err(|e| anyhow!("MGP: {e}"))? {
                Some(Frame::Response(r)) if r.id == Some(id) => {
                    return match r.outcome {
                        Outcome::Ok(v) => Ok(v),
                        Outcome::Error(e) => bail!("MGP {name}: {} ({:?})", e.message, e.code),
                    }
                }
                Some(_) => continue,
                None => {}
            }
            if self.stream.read_buf(&mut self.rbuf).await? == 0 {
                bail!("MGP connection closed during {name}");
            }
        }
    }

    pub async fn hold(&mut self, connector: &str) -> anyhow::Result<()> {
        self.call(Op::Hold {
            name: connector.into(),
        })
        .await
        .map(drop)
    }

    pub async fn release(&mut self, connector: &str) -> anyhow::Result<()> {
        self.call(Op::Release {
            name: connector.into(),
        })
        .await
        .map(drop)
    }

    /// Close the connector's sessions and keep them closed, across a restart too.
    pub async fn forceclose_persist(&mut self, connector: &str) -> anyhow::Result<()> {
        self.call(Op::Forceclose {
            name: connector.into(),
            persist: true,
        })
        .await
        .map(drop)
    }

    pub async fn forceclose_clear(&mut self, connector: &str) -> anyhow::Result<()> {
        self.call(Op::ForcecloseClear {
            name: connector.into(),
        })
        .await
        .map(drop)
    }

    /// Give `account` a prepaid balance of `amount` (a decimal), so its messages are charged.
    pub async fn set_balance(&mut self, account: &str, amount: &str) -> anyhow::Result<()> {
        self.call(Op::BalanceSet {
            account: account.into(),
            amount: amount.into(),
            postpaid_limit: None,
        })
        .await
        .map(drop)
    }

    /// Messages queued or in flight on `connector`, and whether it is held or force-closed.
    pub async fn queued(&mut self, connector: &str) -> anyhow::Result<QueueState> {
        let v = self
            .call(Op::QueueList {
                name: Some(connector.into()),
                limit: Some(0),
            })
            .await?;
        let list: QueueList = serde_json::from_value(v)?;
        let queued = list
            .queues
            .first()
            .map(|q| q.queued)
            .ok_or_else(|| anyhow!("MGP queue_list: no queue {connector}"))?;
        let detail = self
            .call(Op::Connector {
                name: connector.into(),
            })
            .await?;
        Ok(QueueState {
            queued,
            hold: detail["hold"].as_bool().unwrap_or(false),
            forceclose: detail["forceclose"].as_bool().unwrap_or(false),
        })
    }
}
