//! The live log pane.

use super::styles;
use crate::tui::state::{App, Focus};
use common::mgp::LogKind;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

/// The log pane, or with `full` the logs view (it has the focus).
pub fn draw(f: &mut Frame, area: Rect, app: &App, full: bool) {
    let log = &app.log;
    let selected = app.current_connector();
    let selected = selected.as_deref();
    let kind = match log.kind {
        LogKind::Connector => "connector log",
        LogKind::Pdu => "PDU log",
    };
    let scope = if log.all {
        "all connectors".to_string()
    } else {
        selected.unwrap_or("-").to_string()
    };
    let mut title = vec![
        Span::styled(format!(" {kind} "), styles::title()),
        Span::raw(format!("· {scope} ")),
    ];
    if log.paused {
        title.push(Span::styled("· PAUSED ", styles::flag()));
    } else if log.scroll > 0 {
        title.push(Span::styled(
            format!("· {} newer below ", log.scroll),
            styles::flag(),
        ));
    } else {
        title.push(Span::styled("· following ", styles::dim()));
    }
    if log.editing || !log.search.is_empty() {
        let cursor = if log.editing { "█" } else { "" };
        let how = if log.highlight_only {
            " (highlighted)"
        } else {
            ""
        };
        title.push(Span::styled(
            format!("/{}{cursor}{how} ", log.search),
            styles::flag(),
        ));
    }
    if log.lost > 0 {
        title.push(Span::styled(
            format!("· {} lost ", log.lost),
            styles::flag(),
        ));
    }
    let block = Block::bordered()
        .title(Line::from(title))
        .border_style(styles::focused(full || app.focus == Focus::Log));
    let height = block.inner(area).height as usize;
    let visible: Vec<_> = log.visible(selected).collect();
    let end = visible.len().saturating_sub(log.scroll);
    let start = end.saturating_sub(height);
    let lines: Vec<Line> = visible[start..end]
        .iter()
        .map(|l| {
            let mut spans = Vec::new();
            if log.all {
                spans.push(Span::styled(format!("{} ", l.connector), styles::key()));
            }
            spans.extend(highlight(&l.line, &log.search));
            Line::from(spans)
        })
        .collect();
    f.render_widget(Paragraph::new(lines).block(block), area);
}

fn highlight<'a>(line: &'a str, search: &str) -> Vec<Span<'a>> {
    if search.is_empty() {
        return vec![Span::raw(line)];
    }
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find(search) {
        out.push(Span::raw(&rest[..i]));
        out.push(Span::styled(&rest[i..i + search.len()], styles::matched()));
        rest = &rest[i + search.len()..];
    }
    out.push(Span::raw(rest));
    out
}
