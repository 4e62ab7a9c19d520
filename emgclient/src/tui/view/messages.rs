//! The messages view: a queue page by page, or a search's results; marks for acting on many.

use super::styles;
use crate::tui::state::{age, App, MessageSource};
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;

/// Columns: (header, width, from which terminal width it shows).
const COLUMNS: [(&str, u16, u16); 12] = [
    ("", 1, 0),
    ("ID", 10, 0),
    ("STATE", 10, 0),
    ("TO", 16, 0),
    ("FROM", 14, 0),
    ("TARGET", 10, 0),
    ("STATUS", 8, 100),
    ("ORIGIN", 10, 120),
    ("ACCOUNT", 10, 140),
    ("AGE", 7, 0),
    ("RECEIVED (UTC)", 18, 150),
    ("UPDATED (UTC)", 18, 150),
];

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let Some(m) = &app.messages else {
        let p = Paragraph::new("no messages view open: :messages or :queue NAME")
            .block(Block::bordered().title(" messages "));
        f.render_widget(p, area);
        return;
    };
    let rows = m.visible();
    let mut title = vec![Span::styled(
        format!(" messages · {} ", m.source.describe()),
        styles::title(),
    )];
    let loaded = if m.more {
        format!("{} shown, more: n ", rows.len())
    } else {
        format!("{} ", rows.len())
    };
    title.push(Span::raw(loaded));
    if !m.marked.is_empty() {
        title.push(Span::styled(
            format!("· {} marked ", m.marked.len()),
            styles::flag(),
        ));
    }
    if m.loading {
        title.push(Span::styled("· loading… ", styles::dim()));
    }
    if m.cursor.editing || !m.cursor.filter.is_empty() {
        let c = if m.cursor.editing { "█" } else { "" };
        title.push(Span::styled(
            format!("/{}{c} ", m.cursor.filter),
            styles::flag(),
        ));
    }
    let bottom = m
        .stopped
        .clone()
        .or(m.error.clone())
        .map(|s| Line::styled(format!(" {s} "), styles::flag()));
    // Which columns fit: the optional ones by terminal width, then the address columns shrink.
    let shown: Vec<usize> = (0..COLUMNS.len())
        .filter(|&i| area.width >= COLUMNS[i].2)
        .collect();
    let right_cols = [1, 9];
    let cells = |r: &common::mgp::MessageRow| -> Vec<Cell<'static>> {
        let all = [
            Cell::from(if m.marked.contains(&r.id) { "●" } else { " " }),
            Cell::from(Line::from(r.id.to_string()).right_aligned()),
            Cell::from(Span::styled(
                r.state.clone(),
                styles::message_state(&r.state),
            )),
            Cell::from(r.dest.clone()),
            Cell::from(r.source.clone()),
            Cell::from(r.target.clone().unwrap_or_else(|| "-".into())),
            Cell::from(r.status.clone().unwrap_or_default()),
            Cell::from(r.origin.clone()),
            Cell::from(r.account.clone().unwrap_or_default()),
            Cell::from(
                Line::from(if app.now_us > 0 {
                    age(((app.now_us - r.received_us).max(0) / 1_000_000) as u64)
                } else {
                    "-".into()
                })
                .right_aligned(),
            ),
            Cell::from(crate::format::short_time_us(r.received_us)),
            Cell::from(crate::format::short_time_us(r.updated_us)),
        ];
        shown.iter().map(|&i| all[i].clone()).collect()
    };
    let body: Vec<Row> = rows.iter().map(|r| Row::new(cells(r))).collect();
    let header = Row::new(shown.iter().map(|&i| {
        let h = COLUMNS[i].0;
        if right_cols.contains(&i) {
            Cell::from(Line::from(h).right_aligned())
        } else {
            Cell::from(h)
        }
    }))
    .style(styles::title());
    // Fixed widths, packed left; at 80 columns the addresses take what is left.
    let narrow = area.width < 100;
    let widths: Vec<Constraint> = shown
        .iter()
        .map(|&i| match i {
            3 | 4 if narrow => Constraint::Min(COLUMNS[i].1),
            _ => Constraint::Length(COLUMNS[i].1),
        })
        .collect();
    let mut block = Block::bordered()
        .title(Line::from(title))
        .border_style(styles::focused(true));
    if let Some(b) = bottom {
        block = block.title_bottom(b);
    } else if rows.is_empty() && !m.loading {
        let hint = match &m.source {
            MessageSource::Queue(n) => format!(" the queue of {n} is empty "),
            MessageSource::Search(_) => " nothing matches ".to_string(),
        };
        block = block.title_bottom(Line::styled(hint, styles::dim()));
    }
    let empty = body.is_empty();
    let table = Table::new(body, widths)
        .flex(ratatui::layout::Flex::Start)
        .header(header)
        .block(block)
        .row_highlight_style(styles::selected(true))
        .highlight_symbol("▶");
    let mut state = TableState::default().with_selected((!empty).then_some(m.cursor.selected));
    f.render_stateful_widget(table, area, &mut state);
    super::record_rows(app, area, state.offset());
}
