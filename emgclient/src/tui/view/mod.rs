//! Drawing: a function of the [`App`] and the frame size, nothing else. One file per pane.
//!
//! Narrow terminals (80x24 is the floor) stack header, table, detail, log and status line;
//! from 140 columns the detail pane goes beside the table and everything grows.

mod detail;
mod header;
mod log;
mod popup;
pub mod styles;
mod table;

use crate::tui::state::App;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// Columns from which the detail pane sits beside the table.
pub const WIDE: u16 = 140;

pub fn draw(f: &mut Frame, app: &App) {
    let area = f.area();
    let [top, body, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    header::draw(f, top, app);
    let rows = app.rows().len() as u16;
    if area.width >= WIDE {
        let [upper, lower] =
            Layout::vertical([Constraint::Percentage(55), Constraint::Min(5)]).areas(body);
        let [t, d] = Layout::horizontal([Constraint::Min(60), Constraint::Length(area.width / 2)])
            .areas(upper);
        table::draw(f, t, app);
        detail::draw(f, d, app);
        log::draw(f, lower, app);
    } else {
        let detail_h = match body.height {
            36.. => 16,
            30.. => 10,
            _ => 7,
        };
        // The table gets what the detail pane and a log of 5 lines leave, up to its rows.
        let table_h = (rows + 3)
            .min(body.height.saturating_sub(detail_h + 5))
            .max(4);
        let [t, d, l] = Layout::vertical([
            Constraint::Length(table_h),
            Constraint::Length(detail_h),
            Constraint::Min(3),
        ])
        .areas(body);
        table::draw(f, t, app);
        detail::draw(f, d, app);
        log::draw(f, l, app);
    }
    status_line(f, bottom, app);
    if let Some(p) = &app.popup {
        popup::draw(f, area, p);
    }
}

fn status_line(f: &mut Frame, area: Rect, app: &App) {
    let hint = Line::from(vec![
        Span::styled("?", styles::key()),
        Span::raw(" help  "),
        Span::styled("q", styles::key()),
        Span::raw(" quit "),
    ]);
    let [l, r] = Layout::horizontal([Constraint::Min(0), Constraint::Length(hint.width() as u16)])
        .areas(area);
    let left = if app.table.editing {
        Line::from(format!(
            "filter connectors: {}█  (Enter keep · Esc clear)",
            app.table.filter
        ))
    } else if app.log.editing {
        Line::from(format!(
            "search the log: {}█  (Enter keep · Esc clear)",
            app.log.search
        ))
    } else if let Some(s) = &app.status {
        Line::styled(s.text.clone(), styles::level(s.level))
    } else {
        Line::default()
    };
    f.render_widget(Paragraph::new(left), l);
    f.render_widget(Paragraph::new(hint), r);
}

#[cfg(test)]
mod tests;
