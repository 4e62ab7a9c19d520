//! The top two lines: the connection, node, uptime, node-wide rates and queue; then the
//! breadcrumbs of the views walked into, with who is logged in where. Narrow terminals get
//! the short forms, so nothing that matters is cut off at 80 columns.

use super::styles;
use crate::format::duration;
use crate::tui::state::{App, ConnStatus};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Color;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// From this width the header spells things out.
const ROOMY: u16 = 110;

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let [top, crumbs] = Layout::vertical([Constraint::Length(1); 2]).areas(area);
    let roomy = area.width >= ROOMY;
    let sep = || Span::styled(" │ ", styles::dim());
    let mut spans = match &app.conn {
        ConnStatus::Connected => vec![Span::styled("● connected", styles::fg(Color::Green))],
        ConnStatus::Connecting { attempt } => vec![Span::styled(
            format!("◌ connecting (attempt {})", attempt + 1),
            styles::fg(Color::Yellow),
        )],
        ConnStatus::Lost {
            reason,
            attempt,
            retry_in_s,
        } => vec![Span::styled(
            if roomy {
                format!("✖ disconnected: {reason}; retry {attempt} in {retry_in_s}s")
            } else {
                format!("✖ disconnected; retry {attempt} in {retry_in_s}s")
            },
            styles::fg(Color::Red),
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
            styles::fg(Color::Yellow),
        ));
    }
    if roomy {
        if let Some(s) = &app.server {
            spans.push(sep());
            spans.push(Span::styled(format!("emgd {}", s.version), styles::dim()));
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)), top);

    // Breadcrumbs left, user@host (and the role when it limits) right.
    let mut who = format!("{}@{}", app.user, app.host);
    if !app.may_act() {
        who.push_str(" (read-only)");
    }
    let right = Line::styled(format!(" {who}"), styles::dim()).right_aligned();
    let mut left = vec![Span::styled("emg", styles::dim())];
    let n = app.stack.len();
    for (i, v) in app.stack.iter().enumerate() {
        left.push(Span::styled(" ▸ ", styles::dim()));
        let style = if i + 1 == n {
            styles::key()
        } else {
            styles::title()
        };
        left.push(Span::styled(v.crumb(), style));
    }
    let left = Line::from(left);
    let want = left.width() as u16 + 2;
    let [l, r] = Layout::horizontal([
        Constraint::Min(want.min(crumbs.width)),
        Constraint::Length((right.width() as u16).min(crumbs.width.saturating_sub(want))),
    ])
    .areas(crumbs);
    f.render_widget(Paragraph::new(left), l);
    f.render_widget(Paragraph::new(right), r);
}
