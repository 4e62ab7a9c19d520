//! One GSM modem on its serial line: the AT dialogue, one command at a time. The line format
//! is `common::at` (sans-io); this module owns what that parser leaves to its user: which
//! command is outstanding, how long it may take, and what to do with the unsolicited result
//! codes (`+CMTI`, `+CDS`) that arrive between and inside answers.

use super::ModemError;
use crate::connector::runtime::link::Link;
use common::at::{Event, Final, Parser};
use common::sms_pdu::to_hex;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_serial::{SerialPortBuilderExt, SerialStream};

/// An open modem, set up for PDU mode.
pub struct Modem {
    port: SerialStream,
    parser: Parser,
    timeout: Duration,
    /// Unsolicited events seen while a command was outstanding, for the session to handle.
    pub unsolicited: Vec<Event>,
    /// The modem echoed a command after `ATE0`: it restarted, and has forgotten the set-up.
    pub was_reset: bool,
}

/// A message the modem holds in its memory.
#[derive(Debug, Clone)]
pub struct Stored {
    pub index: u32,
    pub pdu: Vec<u8>,
}

fn is_unsolicited(e: &Event) -> bool {
    matches!(
        e,
        Event::Stored { .. }
            | Event::ReportStored { .. }
            | Event::StatusReport { .. }
            | Event::Delivered { .. }
            | Event::Ring
    )
}

impl Modem {
    /// Opens `cfg.address` at the configured speed and flow control.
    pub fn open(cfg: &config::Connector) -> Result<Modem, ModemError> {
        let tty = cfg.address.clone().unwrap_or_default();
        let flow = match cfg.gsm.flowcontrol {
            config::FlowControl::None => tokio_serial::FlowControl::None,
            config::FlowControl::Hardware => tokio_serial::FlowControl::Hardware,
            config::FlowControl::Software => tokio_serial::FlowControl::Software,
        };
        let port = tokio_serial::new(&tty, cfg.gsm.speed)
            .flow_control(flow)
            .open_native_async()
            .map_err(|e| ModemError::Open {
                tty: tty.clone(),
                errno: match e.kind {
                    tokio_serial::ErrorKind::NoDevice => 2,
                    tokio_serial::ErrorKind::Io(k) => {
                        std::io::Error::from(k).raw_os_error().unwrap_or(5) as u32
                    }
                    _ => 5,
                },
                why: e.to_string(),
            })?;
        Ok(Modem {
            port,
            parser: Parser::new(),
            timeout: Duration::from_secs(cfg.gsm.timeout),
            unsolicited: Vec::new(),
            was_reset: false,
        })
    }

    /// Everything a session needs before the first message: reset, echo off, numeric
    /// errors, the init string, PIN, PDU mode, the service centre, memory and indications.
    pub async fn set_up(&mut self, cfg: &config::Connector, link: &Link) -> Result<(), ModemError> {
        // A modem left halfway through typing a PDU by an earlier session takes ESC as the
        // end of it; anything else in its buffer ends with the CR of the first command.
        self.port
            .write_all(b"\x1b\r")
            .await
            .map_err(ModemError::Io)?;
        self.drain_quietly().await;
        self.command("ATZ", link).await?;
        self.command("ATE0", link).await?;
        self.command("AT+CMEE=1", link).await?;
        if let Some(init) = &cfg.gsm.init {
            self.command(init, link).await?;
        }
        let pin = self.command("AT+CPIN?", link).await?;
        let state = pin.iter().find_map(|e| match e {
            Event::Pin(p) => Some(p.clone()),
            _ => None,
        });
        match state.as_deref() {
            Some("READY") | None => {}
            Some("SIM PIN") => match &cfg.gsm.pin {
                Some(code) => {
                    self.command(&format!("AT+CPIN=\"{code}\""), link).await?;
                }
                None => return Err(ModemError::PinNeeded),
            },
            Some(other) => return Err(ModemError::Sim(other.to_string())),
        }
        self.command("AT+CMGF=0", link).await?;
        if let Some(sca) = &cfg.gsm.sca {
            let toa = if sca.starts_with('+') { 145 } else { 129 };
            self.command(&format!("AT+CSCA=\"{sca}\",{toa}"), link)
                .await?;
        }
        if let Some(mem) = &cfg.gsm.memory {
            self.command(&format!("AT+CPMS=\"{mem}\",\"{mem}\",\"{mem}\""), link)
                .await?;
        }
        // New messages stored and announced (+CMTI), status reports routed to us (+CDS).
        self.command("AT+CNMI=2,1,0,1,0", link).await?;
        self.was_reset = false;
        Ok(())
    }

    /// Reads whatever is waiting (an old session's leftovers) for a moment, and forgets it.
    async fn drain_quietly(&mut self) {
        let mut buf = [0u8; 512];
        while let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(200), self.port.read(&mut buf)).await
        {
            if n == 0 {
                break;
            }
        }
        self.parser = Parser::new();
    }

    async fn write(&mut self, bytes: &[u8], link: &Link) -> Result<(), ModemError> {
        link.log_pdu(|| format!("Write \"{}\"", String::from_utf8_lossy(bytes).trim_end()));
        self.port.write_all(bytes).await.map_err(ModemError::Io)
    }

    /// Sends one command line and collects the events up to its final result code.
    pub async fn command(&mut self, line: &str, link: &Link) -> Result<Vec<Event>, ModemError> {
        self.parser.sent(line);
        self.write(format!("{line}\r").as_bytes(), link).await?;
        self.answer(line, link, false).await
    }

    /// Events until the final result code (or, with `prompt`, the `> ` prompt).
    async fn answer(
        &mut self,
        line: &str,
        link: &Link,
        prompt: bool,
    ) -> Result<Vec<Event>, ModemError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            let n = match tokio::time::timeout_at(deadline, self.port.read(&mut buf)).await {
                Err(_) => return Err(ModemError::Timeout(line.to_string())),
                Ok(Err(e)) => return Err(ModemError::Io(e)),
                Ok(Ok(0)) => return Err(ModemError::Closed),
                Ok(Ok(n)) => n,
            };
            for e in self.parser.feed(&buf[..n]) {
                link.log_pdu(|| format!("Read {e:?}"));
                match e {
                    Event::Final(f) if f.is_ok() => return Ok(got),
                    Event::Final(f) => return Err(ModemError::Refused(line.to_string(), f)),
                    Event::Prompt if prompt => return Ok(got),
                    Event::Echo(_) => self.was_reset = true,
                    e if is_unsolicited(&e) => self.unsolicited.push(e),
                    e => got.push(e),
                }
            }
        }
    }

    /// Sends one PDU with `AT+CMGS`: the length, the `> ` prompt, the hex and Ctrl-Z, then
    /// `+CMGS: <mr>`.
    pub async fn submit(
        &mut self,
        pdu: &[u8],
        tpdu_len: usize,
        link: &Link,
    ) -> Result<u8, ModemError> {
        let line = format!("AT+CMGS={tpdu_len}");
        self.parser.sent(&line);
        self.write(format!("{line}\r").as_bytes(), link).await?;
        self.answer(&line, link, true).await?;
        let mut body = to_hex(pdu).into_bytes();
        body.push(0x1A);
        self.write(&body, link).await?;
        let events = self.answer(&line, link, false).await?;
        events
            .iter()
            .find_map(|e| match e {
                Event::Sent { mr } => Some(*mr),
                _ => None,
            })
            .ok_or(ModemError::NoReference)
    }

    /// Every message in the selected memory (`AT+CMGL=4`).
    pub async fn list(&mut self, link: &Link) -> Result<Vec<Stored>, ModemError> {
        let events = self.command("AT+CMGL=4", link).await?;
        Ok(events
            .into_iter()
            .filter_map(|e| match e {
                Event::Listed { index, pdu, .. } => Some(Stored { index, pdu }),
                _ => None,
            })
            .collect())
    }

    /// One stored message (`AT+CMGR`), for a `+CMTI` that named it.
    pub async fn read(&mut self, index: u32, link: &Link) -> Result<Option<Stored>, ModemError> {
        let events = self.command(&format!("AT+CMGR={index}"), link).await?;
        Ok(events.into_iter().find_map(|e| match e {
            Event::Read { pdu, .. } => Some(Stored { index, pdu }),
            _ => None,
        }))
    }

    /// Deletes a stored message (`AT+CMGD`).
    pub async fn delete(&mut self, index: u32, link: &Link) -> Result<(), ModemError> {
        self.command(&format!("AT+CMGD={index}"), link)
            .await
            .map(|_| ())
    }

    /// Waits for unsolicited bytes while idle; `Ok(())` once some event arrived.
    pub async fn idle_read(&mut self, link: &Link) -> Result<(), ModemError> {
        let mut buf = [0u8; 1024];
        loop {
            let n = self.port.read(&mut buf).await.map_err(ModemError::Io)?;
            if n == 0 {
                return Err(ModemError::Closed);
            }
            let mut any = false;
            for e in self.parser.feed(&buf[..n]) {
                link.log_pdu(|| format!("Read {e:?}"));
                if is_unsolicited(&e) {
                    self.unsolicited.push(e);
                    any = true;
                }
            }
            if any {
                return Ok(());
            }
        }
    }
}

/// The `Final` of a refused command, as the retry scheme's error number.
pub fn error_number(f: &Final) -> u32 {
    match f {
        Final::CmsError(common::at::ErrorCode::Code(n))
        | Final::CmeError(common::at::ErrorCode::Code(n)) => u32::from(*n),
        _ => 500,
    }
}
