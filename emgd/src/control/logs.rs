//! `loglevel` (the general log's level, at run time) and `logs` (a log file's history).

use super::server::{ok, OpResult};
use super::stream::{Sink, StreamTask};
use crate::logs::{general, history};
use common::mgp::{ErrorBody, Event, Loglevel};
use std::path::Path;

/// Show the level, or set it until the next reload or restart.
pub fn loglevel(user: &str, level: Option<&str>) -> OpResult {
    let Some(log) = general::handle() else {
        return Err(ErrorBody::refused(
            "this emgd does not manage its general log (it runs inside another program)",
        ));
    };
    let Some(level) = level else {
        let now = log.level();
        return ok(Loglevel {
            level: now.clone(),
            previous: now,
        });
    };
    let previous = log.set_level(level).map_err(ErrorBody::bad_request)?;
    tracing::info!(
        operator = user,
        "general log level {level} (was {previous})"
    );
    ok(Loglevel {
        level: log.level(),
        previous,
    })
}

/// `logs`: the file's lines from `since_us` on, at most `limit` (the latest), then `end`.
pub fn history(
    logdir: &Path,
    name: &str,
    since_us: Option<i64>,
    limit: Option<usize>,
) -> Result<StreamTask, ErrorBody> {
    let path = history::resolve(logdir, name).map_err(ErrorBody::not_found)?;
    let since = since_us.map(history::local_stamp);
    let limit = limit.unwrap_or(history::MAX_LINES);
    Ok(Box::new(move |mut sink: Sink| {
        Box::pin(async move {
            let read =
                tokio::task::spawn_blocking(move || history::read(&path, since.as_deref(), limit))
                    .await;
            let (lines, truncated) = match read {
                Ok(Ok(found)) => found,
                Ok(Err(e)) => {
                    tracing::warn!("logs: cannot read a log file: {e}");
                    (Vec::new(), false)
                }
                Err(_) => (Vec::new(), false),
            };
            let count = lines.len() as u64;
            for line in lines {
                if !sink.send(Event::Line { line }).await {
                    return;
                }
            }
            sink.send(Event::End {
                lines: count,
                truncated,
            })
            .await;
        })
    }))
}
