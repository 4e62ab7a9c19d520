//! Windows over the dashboard: help, confirmation, queue target, test message.

use super::styles;
use crate::tui::state::keys::KEYS;
use crate::tui::state::{Popup, SendForm};
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, List, ListState, Paragraph};
use ratatui::Frame;

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [h] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    h
}

pub fn draw(f: &mut Frame, area: Rect, popup: &Popup) {
    match popup {
        Popup::Help => help(f, area),
        Popup::Confirm(action) => {
            let text = format!("{}?", action.describe());
            let r = centered(area, (text.len() as u16 + 6).max(30), 5);
            f.render_widget(Clear, r);
            let lines = vec![
                Line::from(text),
                Line::from(""),
                Line::from(vec![
                    Span::styled("y", styles::key()),
                    Span::raw(" yes   "),
                    Span::styled("n", styles::key()),
                    Span::raw(" no"),
                ]),
            ];
            let block = Block::bordered().title(Span::styled(" confirm ", styles::flag()));
            f.render_widget(Paragraph::new(lines).centered().block(block), r);
        }
        Popup::MoveTarget {
            from,
            targets,
            selected,
        } => {
            let title = format!(" move the queue of {from} to ");
            let r = centered(area, title.len() as u16 + 4, targets.len() as u16 + 3);
            f.render_widget(Clear, r);
            let list = List::new(targets.iter().map(String::as_str))
                .block(
                    Block::bordered()
                        .title(Span::styled(title, styles::title()))
                        .title_bottom(" Enter pick · Esc cancel "),
                )
                .highlight_symbol("▶ ")
                .highlight_style(styles::selected(true));
            let mut state = ListState::default().with_selected(Some(*selected));
            f.render_stateful_widget(list, r, &mut state);
        }
        Popup::Send(form) => send(f, area, form),
    }
}

fn send(f: &mut Frame, area: Rect, form: &SendForm) {
    let r = centered(area, 50, 7);
    f.render_widget(Clear, r);
    let mut lines: Vec<Line> = SendForm::LABELS
        .iter()
        .zip(&form.fields)
        .enumerate()
        .map(|(i, (label, value))| {
            let cursor = if i == form.focus { "█" } else { "" };
            let style = styles::selected(i == form.focus);
            Line::from(vec![
                Span::raw(format!("{label:>5}  ")),
                Span::styled(format!("{value}{cursor}"), style),
            ])
        })
        .collect();
    lines.push(Line::from(format!(
        "  via  {}",
        form.via.as_deref().unwrap_or("routing")
    )));
    let block = Block::bordered()
        .title(Span::styled(" send a test message ", styles::title()))
        .title_bottom(" Tab next field · Enter send · Esc cancel ");
    f.render_widget(Paragraph::new(lines).block(block), r);
}

fn help(f: &mut Frame, area: Rect) {
    let r = centered(area, 76, KEYS.len() as u16 + 2);
    f.render_widget(Clear, r);
    let lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {k:<15}"), styles::key()),
                Span::raw(*what),
            ])
        })
        .collect();
    let block = Block::bordered()
        .title(Span::styled(" keys ", styles::title()))
        .title_bottom(" any key closes ");
    f.render_widget(Paragraph::new(lines).block(block), r);
}
