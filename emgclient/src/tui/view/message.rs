//! One message: what the store holds about it, then its history step by step.

use super::styles;
use crate::format::short_time_us;
use crate::tui::state::App;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let Some(v) = &app.message else {
        return;
    };
    let block = Block::bordered()
        .title(Span::styled(format!(" message {} ", v.id), styles::title()))
        .border_style(styles::focused(true));
    let Some(h) = &v.history else {
        let text = match &v.error {
            Some(e) => Line::styled(e.clone(), styles::error()),
            None => Line::styled("loading…", styles::dim()),
        };
        f.render_widget(Paragraph::new(text).block(block), area);
        return;
    };
    let inner = block.inner(area);
    f.render_widget(block, area);
    let field = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<10}"), styles::dim()),
            Span::raw(v),
        ])
    };
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    let mut top = Vec::new();
    match &h.message {
        Some(m) => {
            top.push(Line::from(vec![
                Span::styled(format!("{:<10}", "state"), styles::dim()),
                Span::styled(m.state.clone(), styles::message_state(&m.state)),
                Span::raw(format!(
                    "  {}  attempts {}  dlr {}",
                    opt(&m.status),
                    m.attempts,
                    if m.dlr_requested { "requested" } else { "no" }
                )),
            ]));
            top.push(field("from → to", format!("{} → {}", m.source, m.dest)));
            top.push(field(
                "route",
                format!(
                    "{}{} → {}  remote id {}",
                    m.origin,
                    m.origin_user
                        .as_ref()
                        .map(|u| format!(" (user {u})"))
                        .unwrap_or_default(),
                    m.target,
                    opt(&m.remote_id)
                ),
            ));
            top.push(field("text", opt(&m.text)));
            if m.price.is_some() || m.cost.is_some() {
                top.push(field(
                    "price",
                    format!("{} (cost {})", opt(&m.price), opt(&m.cost)),
                ));
            }
        }
        None => top.push(Line::styled(
            "the message itself is purged (retention); the routelog still has its steps",
            styles::dim(),
        )),
    }
    let [t, steps] =
        Layout::vertical([Constraint::Length(top.len() as u16 + 1), Constraint::Min(1)])
            .areas(inner);
    f.render_widget(Paragraph::new(top).wrap(Wrap { trim: false }), t);
    let mut lines = vec![Line::styled("history (UTC)", styles::title())];
    for e in &h.events {
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", short_time_us(e.at_us)), styles::dim()),
            Span::styled(format!("{:<10}", e.what), styles::key()),
            Span::raw(e.detail.clone()),
        ]));
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((v.scroll as u16, 0)),
        steps,
    );
}
