//! Terminal events, read on a thread of their own (crossterm's reader blocks) and handed to
//! the main loop over a channel.

use crossterm::event::{self, Event};
use std::time::Duration;
use tokio::sync::mpsc;

/// Start the reader; it stops when the receiver is dropped.
pub fn spawn() -> mpsc::Receiver<Event> {
    let (tx, rx) = mpsc::channel(64);
    std::thread::spawn(move || loop {
        if tx.is_closed() {
            return;
        }
        match event::poll(Duration::from_millis(200)) {
            Ok(true) => match event::read() {
                Ok(ev) => {
                    if tx.blocking_send(ev).is_err() {
                        return;
                    }
                }
                Err(_) => return,
            },
            Ok(false) => {}
            Err(_) => return,
        }
    });
    rx
}
