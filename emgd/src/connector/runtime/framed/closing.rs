//! How a session ends: closing gracefully (stop taking messages, wait for the answers in
//! flight, log out) and, at the end, recording every outcome and disconnecting.

use super::{End, Sent, Session, CLOSE_WAIT};
use crate::connector::runtime::driver::Driver;
use crate::connector::runtime::state::ConnState;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

impl<D, S> Session<D, S>
where
    D: Driver,
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    /// The end when the peer goes: the reason we were closing for, if we were.
    pub(super) fn closing_or(&mut self, why: &str) -> End {
        self.closing
            .take()
            .map_or_else(|| End::Closed(why.to_string()), |c| c.0)
    }

    pub(super) fn begin_close(&mut self, why: End) {
        if self.bound {
            self.link.set_state(ConnState::Terminating);
        }
        self.closing = Some((why, Instant::now() + CLOSE_WAIT));
    }

    /// Once closing and nothing is in flight: log out (or, without a logout, end now).
    pub(super) fn close_when_drained(&mut self) -> Option<End> {
        if self.closing.is_none() || self.logout_sent {
            return None;
        }
        let drained =
            self.parts_waiting == 0 && !self.outbox.has_backlog() && self.outbox.staged() == 0;
        if !self.bound {
            return self.closing.take().map(|c| c.0);
        }
        if !drained {
            return None;
        }
        let logout = self
            .window
            .next_seq()
            .and_then(|seq| self.driver.logout(seq).map(|f| (seq, f)));
        match logout {
            Some((seq, frame)) => {
                self.writer.write(&self.link, &frame);
                self.window.sent(seq, Sent::Logout);
                self.logout_sent = true;
                None
            }
            None => self.closing.take().map(|c| c.0),
        }
    }

    /// Record every outcome already known, answer what is done, put back what has no answer,
    /// and disconnect.
    pub(super) async fn finish(mut self, end: End) -> End {
        while let Some(done) = self.work.join_next().await {
            if let Ok(Some(frame)) = done {
                self.writer.write(&self.link, &frame);
            }
        }
        if !self.writer.out.is_empty() {
            let _ = self.stream.write_all(&self.writer.out).await;
        }
        let _ = self.window.drain().count();
        self.outbox.close().await;
        let _ = self.stream.shutdown().await;
        if !matches!(end, End::LoginRefused(_)) {
            self.link
                .log(format!("DISCONNECT (info=\"{}\")", end.reason()));
        }
        if self.claim.instance().is_some() {
            // IDLE before the instance is free for the next login.
            self.link.set_state(ConnState::Idle);
        }
        end
    }
}
