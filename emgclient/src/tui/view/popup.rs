//! Windows over the console: help, confirmations, pick lists, the test message, progress.

use super::styles;
use crate::tui::state::{App, Pick, Popup, SendForm};
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Gauge, List, ListState, Paragraph};
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

pub fn draw(f: &mut Frame, area: Rect, app: &App, popup: &Popup) {
    match popup {
        Popup::Help => help(f, area, app),
        Popup::ConfirmForceclose(name) => {
            let text = format!("force-close {name}?");
            let r = centered(area, 50, 6);
            f.render_widget(Clear, r);
            let lines = vec![
                Line::from(text),
                Line::from(""),
                Line::from(vec![
                    Span::styled("y", styles::key()),
                    Span::raw(" until cleared   "),
                    Span::styled("p", styles::key()),
                    Span::raw(" and across restarts   "),
                    Span::styled("n", styles::key()),
                    Span::raw(" no"),
                ]),
            ];
            let block = Block::bordered().title(Span::styled(" confirm ", styles::flag()));
            f.render_widget(Paragraph::new(lines).centered().block(block), r);
        }
        Popup::Progress {
            title,
            done,
            failed,
            total,
        } => {
            let r = centered(area, 60, 5);
            f.render_widget(Clear, r);
            let ratio = if *total == 0 {
                1.0
            } else {
                (*done as f64 / *total as f64).min(1.0)
            };
            let label = format!(
                "{done}/{total}{}",
                if *failed > 0 {
                    format!(", {failed} refused")
                } else {
                    String::new()
                }
            );
            let gauge = Gauge::default()
                .block(
                    Block::bordered()
                        .title(Span::styled(format!(" {title} "), styles::title()))
                        .title_bottom(" Esc hides this (it goes on) "),
                )
                .gauge_style(styles::key())
                .ratio(ratio)
                .label(label);
            f.render_widget(gauge, r);
        }
        Popup::Pick(pick) => pick_list(f, area, pick),
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

fn pick_list(f: &mut Frame, area: Rect, pick: &Pick) {
    let w = pick
        .options
        .iter()
        .map(|o| o.chars().count())
        .max()
        .unwrap_or(0)
        .max(pick.title.chars().count())
        .max(24) as u16
        + 4;
    let r = centered(area, w, pick.options.len() as u16 + 3);
    f.render_widget(Clear, r);
    let list = List::new(pick.options.iter().map(String::as_str))
        .block(
            Block::bordered()
                .title(Span::styled(pick.title.clone(), styles::title()))
                .title_bottom(" Enter pick · Esc cancel "),
        )
        .highlight_symbol("▶ ")
        .highlight_style(styles::selected(true));
    let mut state = ListState::default().with_selected(Some(pick.selected));
    f.render_stateful_widget(list, r, &mut state);
}

/// The keys of the view on screen, as the keymap in force has them (an operator who may not
/// act sees none of the actions).
fn help(f: &mut Frame, area: Rect, app: &App) {
    let entries = app.keymap.help(app.view(), app.may_act());
    // Keys longer than the column (the movement keys) get a line of their own.
    const KEY_W: usize = 10;
    let lines: Vec<Line> = entries
        .iter()
        .flat_map(|(k, what)| {
            if k.chars().count() > KEY_W {
                vec![
                    Line::styled(format!(" {k}"), styles::key()),
                    Line::from(format!(" {:KEY_W$} {what}", "")),
                ]
            } else {
                vec![Line::from(vec![
                    Span::styled(format!(" {k:<KEY_W$} "), styles::key()),
                    Span::raw(*what),
                ])]
            }
        })
        .collect();
    let entries = lines;
    let line = |l: &Line<'static>| l.clone();
    // One column when it fits the height, else two side by side.
    let rows = entries.len() as u16;
    let two = rows + 2 > area.height && area.width >= 100;
    let height = if two { rows.div_ceil(2) } else { rows } + 2;
    let r = centered(area, if two { area.width.min(160) } else { 80 }, height);
    f.render_widget(Clear, r);
    let block = Block::bordered()
        .title(Span::styled(
            format!(" keys · {} ", app.view().crumb_kind()),
            styles::title(),
        ))
        .title_bottom(" any key closes ");
    let inner = block.inner(r);
    f.render_widget(block, r);
    if two {
        let half = entries.len().div_ceil(2);
        let [a, b] = Layout::horizontal([Constraint::Fill(1); 2]).areas(inner);
        f.render_widget(
            Paragraph::new(entries[..half].iter().map(line).collect::<Vec<_>>()),
            a,
        );
        f.render_widget(
            Paragraph::new(entries[half..].iter().map(line).collect::<Vec<_>>()),
            b,
        );
    } else {
        // Too low for all: scrolls with the first lines shown; the man page has them all.
        f.render_widget(
            Paragraph::new(entries.iter().map(line).collect::<Vec<_>>()),
            inner,
        );
    }
}
