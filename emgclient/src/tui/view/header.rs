//! The top line: connection, node, uptime, node-wide rates and queue.

use super::styles;
use crate::format::duration;
use crate::tui::state::{App, ConnStatus};
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let sep = || Span::styled(" │ ", styles::dim());
    let mut spans = match &app.conn {
        ConnStatus::Connected => vec![Span::styled("● connected", Style::new().fg(Color::Green))],
        ConnStatus::Connecting { attempt } => vec![Span::styled(
            format!("◌ connecting (attempt {})", attempt + 1),
            Style::new().fg(Color::Yellow),
        )],
        ConnStatus::Lost {
            reason,
            attempt,
            retry_in_s,
        } => vec![Span::styled(
            format!("✖ disconnected: {reason}; retry {attempt} in {retry_in_s}s"),
            Style::new().fg(Color::Red),
        )],
    };
    if let Some(s) = &app.server {
        spans.push(sep());
        spans.push(Span::styled(format!("node {}", s.node_id), styles::title()));
        spans.push(Span::raw(format!(" up {}", duration(s.uptime_s))));
    }
    let (sent, received) = app.connectors.iter().fold((0.0, 0.0), |(s, r), c| {
        (s + c.rate_sent, r + c.rate_received)
    });
    spans.push(sep());
    spans.push(Span::raw(format!("in {received:.1}/s out {sent:.1}/s")));
    spans.push(sep());
    spans.push(Span::raw(format!("queue {}", app.total_queued)));
    if app.restarts > 0 {
        spans.push(sep());
        spans.push(Span::styled(
            format!("restarted ×{}", app.restarts),
            Style::new().fg(Color::Yellow),
        ));
    }
    spans.push(sep());
    let version = app
        .server
        .as_ref()
        .map(|s| format!(" emgd {}", s.version))
        .unwrap_or_default();
    spans.push(Span::styled(
        format!("{}@{}{version}", app.user, app.host),
        styles::dim(),
    ));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
