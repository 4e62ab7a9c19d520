//! Drawing: a function of the [`App`] and the frame size, nothing else (but for the rows'
//! positions it leaves in [`App::hits`] for the mouse). One file per view or pane.
//!
//! Every view has the two header lines and a status line; 80x24 is the floor and columns
//! that do not fit are dropped, the essential ones last. The connectors view stacks table,
//! detail and log below 140 columns; from 140 the detail pane goes beside the table.

mod connector;
mod detail;
mod header;
mod lists;
mod log;
mod message;
mod messages;
mod popup;
pub mod styles;
mod table;

use crate::tui::state::command::COMMANDS;
use crate::tui::state::{App, Hits, View};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// Columns from which the detail pane sits beside the table.
pub const WIDE: u16 = 140;

pub fn draw(f: &mut Frame, app: &App) {
    let area = f.area();
    let [top, body, bottom] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    app.hits.set(Hits::default());
    header::draw(f, top, app);
    match app.view() {
        View::Connectors => connectors(f, body, app),
        View::Connector(name) => connector::draw(f, body, app, name),
        View::Queues => lists::queues(f, body, app),
        View::Messages => messages::draw(f, body, app),
        View::Message(_) => message::draw(f, body, app),
        View::Users => lists::users(f, body, app),
        View::Routes => lists::routes(f, body, app),
        View::Nodes => lists::nodes(f, body, app),
        View::Logs => log::draw(f, body, app, true),
    }
    status_line(f, bottom, app);
    if let Some(p) = &app.popup {
        popup::draw(f, area, app, p);
    }
}

/// Table, detail and log of the connectors view.
fn connectors(f: &mut Frame, body: Rect, app: &App) {
    let rows = app.rows().len() as u16;
    if body.width >= WIDE {
        let [upper, lower] =
            Layout::vertical([Constraint::Percentage(55), Constraint::Min(5)]).areas(body);
        let [t, d] = Layout::horizontal([Constraint::Min(60), Constraint::Length(body.width / 2)])
            .areas(upper);
        table::draw(f, t, app);
        detail::draw(f, d, app);
        log::draw(f, lower, app, false);
    } else {
        let detail_h = match body.height {
            36.. => 16,
            30.. => 10,
            _ => 7,
        };
        // The table gets what the detail pane and a log of 4 lines leave, up to its rows.
        let table_h = (rows + 3)
            .min(body.height.saturating_sub(detail_h + 4))
            .max(4);
        let [t, d, l] = Layout::vertical([
            Constraint::Length(table_h),
            Constraint::Length(detail_h),
            Constraint::Min(3),
        ])
        .areas(body);
        table::draw(f, t, app);
        detail::draw(f, d, app);
        log::draw(f, l, app, false);
    }
}

/// Remember where a bordered table with a header row drew its rows (for clicks).
pub(crate) fn record_rows(app: &App, area: Rect, offset: usize) {
    app.hits.set(Hits {
        top: area.y + 2,
        height: area.height.saturating_sub(3),
        offset,
    });
}

fn status_line(f: &mut Frame, area: Rect, app: &App) {
    let hint = Line::from(vec![
        Span::styled(":", styles::key()),
        Span::raw(" command  "),
        Span::styled("?", styles::key()),
        Span::raw(" help "),
    ]);
    let [l, r] = Layout::horizontal([Constraint::Min(0), Constraint::Length(hint.width() as u16)])
        .areas(area);
    let left = if let Some(c) = &app.command {
        let mut spans = vec![
            Span::styled(":", styles::key()),
            Span::raw(format!("{}█", c.text)),
        ];
        if !c.candidates.is_empty() {
            spans.push(Span::styled(
                format!("  {}", c.candidates.join(" ")),
                styles::dim(),
            ));
        } else if c.text.is_empty() {
            let names: Vec<&str> = COMMANDS.iter().take(9).map(|c| c.0).collect();
            spans.push(Span::styled(
                format!("  {} (Tab completes)", names.join(" ")),
                styles::dim(),
            ));
        }
        Line::from(spans)
    } else if let Some(text) = editing_text(app) {
        Line::from(format!("{text}█  (Enter keep · Esc clear)"))
    } else if let Some(s) = &app.status {
        Line::styled(s.text.clone(), styles::level(s.level))
    } else {
        Line::default()
    };
    f.render_widget(Paragraph::new(left), l);
    f.render_widget(Paragraph::new(hint), r);
}

/// The `/` line being typed, with what it filters.
fn editing_text(app: &App) -> Option<String> {
    app.editing()?;
    let (what, text) = match app.view() {
        View::Connectors if app.table.editing => ("filter connectors", &app.table.filter),
        View::Queues => ("filter queues", &app.queues.filter),
        View::Messages => ("filter messages", &app.messages.as_ref()?.cursor.filter),
        View::Users => ("filter users", &app.users.filter),
        View::Routes => ("filter routes", &app.routes.filter),
        _ => ("search the log", &app.log.search),
    };
    Some(format!("{what}: {text}"))
}

#[cfg(test)]
mod tests;
