//! A small SMPP client over our codec: bind, submit with a window, collect receipts.

use anyhow::{anyhow, bail, Context};
use bytes::BytesMut;
use common::smpp::{
    command, decode, encode, status, tlv, Bind, Body, Pdu, Receipt, Sm, SmppAddr,
    DEFAULT_MAX_PDU_LEN,
};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Client {
    stream: TcpStream,
    rbuf: BytesMut,
    seq: u32,
    /// Our message ids the gateway acknowledged, in order.
    pub accepted: Vec<String>,
    /// Refusal status per submit that was refused.
    pub refused: Vec<u32>,
    /// Receipted message ids seen (deliver_sm with esm_class 0x04).
    pub receipts: HashSet<String>,
    /// Receipt texts by receipted id.
    pub receipt_texts: HashMap<String, String>,
    outstanding: usize,
}

impl Client {
    /// Connect and bind as a transceiver; returns the bind status on refusal.
    pub async fn bind(
        port: u16,
        user: &str,
        password: &str,
    ) -> anyhow::Result<Result<Client, u32>> {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .context("connect")?;
        stream.set_nodelay(true)?;
        let mut c = Client {
            stream,
            rbuf: BytesMut::new(),
            seq: 0,
            accepted: Vec::new(),
            refused: Vec::new(),
            receipts: HashSet::new(),
            receipt_texts: HashMap::new(),
            outstanding: 0,
        };
        let bind = Body::Bind(Bind {
            system_id: user.into(),
            password: password.into(),
            interface_version: 0x34,
            ..Default::default()
        });
        let seq = c.next_seq();
        c.send(&Pdu::new(command::BIND_TRANSCEIVER, seq, bind))
            .await?;
        let resp = c
            .read_pdu()
            .await?
            .ok_or_else(|| anyhow!("closed during bind"))?;
        if resp.command_id != command::BIND_TRANSCEIVER_RESP {
            bail!("unexpected answer to bind: {}", resp.name());
        }
        if resp.status != status::ESME_ROK {
            return Ok(Err(resp.status));
        }
        Ok(Ok(c))
    }

    fn next_seq(&mut self) -> u32 {
        self.seq += 1;
        self.seq
    }

    async fn send(&mut self, pdu: &Pdu) -> anyhow::Result<()> {
        let mut out = BytesMut::new();
        encode(pdu, &mut out);
        self.stream.write_all(&out).await?;
        Ok(())
    }

    async fn read_pdu(&mut self) -> anyhow::Result<Option<Pdu>> {
        loop {
            if let Some(p) =
                decode(&mut self.rbuf, DEFAULT_MAX_PDU_LEN).map_err(|e| anyhow!("{e}"))?
            {
                return Ok(Some(p));
            }
            if self.stream.read_buf(&mut self.rbuf).await? == 0 {
                return Ok(None);
            }
        }
    }

    /// Handle one incoming PDU: responses to our submits, receipts, enquire_link.
    async fn absorb(&mut self, pdu: Pdu) -> anyhow::Result<()> {
        match pdu.command_id {
            command::SUBMIT_SM_RESP => {
                self.outstanding = self.outstanding.saturating_sub(1);
                match (&pdu.body, pdu.status) {
                    (Body::SubmitSmResp { message_id, .. }, 0) => {
                        self.accepted.push(message_id.clone())
                    }
                    (_, s) => self.refused.push(s),
                }
            }
            command::DELIVER_SM => {
                if let Body::DeliverSm(sm) = &pdu.body {
                    if sm.esm_class & 0x04 != 0 {
                        let text = String::from_utf8_lossy(&sm.short_message).to_string();
                        let id = sm
                            .tlv(tlv::RECEIPTED_MESSAGE_ID)
                            .map(|v| {
                                String::from_utf8_lossy(v)
                                    .trim_end_matches('\0')
                                    .to_string()
                            })
                            .or_else(|| Receipt::parse(&sm.short_message).map(|r| r.id))
                            .unwrap_or_default();
                        self.receipt_texts.insert(id.clone(), text);
                        self.receipts.insert(id);
                    }
                }
                let resp = pdu.response(
                    0,
                    Body::DeliverSmResp {
                        message_id: String::new(),
                        tlvs: vec![],
                    },
                );
                self.send(&resp).await?;
            }
            command::ENQUIRE_LINK => self.send(&pdu.response(0, Body::Empty)).await?,
            _ => {}
        }
        Ok(())
    }

    /// Submit `count` messages keeping at most `window` unanswered; `on_ack` runs after each
    /// answer with the number accepted so far and may stop the run by returning false.
    pub async fn submit(
        &mut self,
        count: usize,
        window: usize,
        dest: &str,
        dlr: bool,
        mut on_ack: impl FnMut(usize) -> bool,
    ) -> anyhow::Result<()> {
        let mut sent = 0;
        while sent < count || self.outstanding > 0 {
            while sent < count && self.outstanding < window {
                let sm = Sm {
                    source: SmppAddr::new(1, 1, "4610000"),
                    dest: SmppAddr::new(1, 1, dest),
                    registered_delivery: u8::from(dlr),
                    short_message: format!("load {sent}").into_bytes().into(),
                    ..Default::default()
                };
                let seq = self.next_seq();
                self.send(&Pdu::new(command::SUBMIT_SM, seq, Body::SubmitSm(sm)))
                    .await?;
                self.outstanding += 1;
                sent += 1;
            }
            let pdu = self
                .read_pdu()
                .await?
                .ok_or_else(|| anyhow!("connection closed"))?;
            let was_resp = pdu.command_id == command::SUBMIT_SM_RESP;
            self.absorb(pdu).await?;
            if was_resp && !on_ack(self.accepted.len()) {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Send one request and read until its response (handling receipts meanwhile); returns
    /// the response. For PDUs `submit` does not make: data_sm, odd validity periods...
    pub async fn request(&mut self, command_id: u32, body: Body) -> anyhow::Result<Pdu> {
        let seq = self.next_seq();
        self.send(&Pdu::new(command_id, seq, body)).await?;
        loop {
            let pdu = self
                .read_pdu()
                .await?
                .ok_or_else(|| anyhow!("connection closed"))?;
            if pdu.sequence == seq && pdu.command_id & command::RESPONSE_BIT != 0 {
                return Ok(pdu);
            }
            self.absorb(pdu).await?;
        }
    }

    /// Read until every id in `wanted` has a receipt, or `timeout` passes.
    pub async fn await_receipts(
        &mut self,
        wanted: &HashSet<String>,
        timeout: Duration,
    ) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        while !wanted.is_subset(&self.receipts) {
            let pdu = match tokio::time::timeout_at(deadline, self.read_pdu()).await {
                Ok(p) => p?.ok_or_else(|| anyhow!("connection closed"))?,
                Err(_) => return Ok(()),
            };
            self.absorb(pdu).await?;
        }
        Ok(())
    }

    /// Our end of the connection, as the gateway sees its peer.
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.stream.local_addr()
    }

    /// Unbind politely (ignores a peer that already closed).
    pub async fn unbind(mut self) {
        let seq = self.next_seq();
        if self
            .send(&Pdu::new(command::UNBIND, seq, Body::Empty))
            .await
            .is_ok()
        {
            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                while let Ok(Some(p)) = self.read_pdu().await {
                    if p.command_id == command::UNBIND_RESP {
                        break;
                    }
                    let _ = self.absorb(p).await;
                }
            })
            .await;
        }
    }
}
