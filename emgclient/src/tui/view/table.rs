//! The connector table.

use super::styles;
use crate::tui::state::table::{state_word, SortKey};
use crate::tui::state::{App, Focus};
use ratatui::layout::{Constraint, Flex, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Row, Table, TableState};
use ratatui::Frame;

const HEADER: [&str; 11] = [
    "NAME", "DIR", "PROTO", "STATE", "B/T", "FLAGS", "QUEUE", "IN/S", "OUT/S", "ERR", "NODES",
];

/// The sessions bound on each node of a cluster (`1:4 2:4 3:0`), empty on a single node.
pub fn per_node(c: &common::mgp::ConnectorInfo) -> String {
    c.nodes
        .iter()
        .map(|n| format!("{}:{}", n.node_id, n.bound))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let rows = app.rows();
    let focus = app.focus == Focus::Table;
    let mut title = vec![Span::styled(
        format!(" connectors {}/{} ", rows.len(), app.connectors.len()),
        styles::title(),
    )];
    if app.table.sort != SortKey::Config || app.table.reverse {
        let arrow = if app.table.reverse { "▲" } else { "▼" };
        title.push(Span::raw(format!(
            "sort {} {arrow} ",
            app.table.sort.label()
        )));
    }
    if app.table.editing || !app.table.filter.is_empty() {
        let cursor = if app.table.editing { "█" } else { "" };
        title.push(Span::styled(
            format!("/{}{cursor} ", app.table.filter),
            styles::flag(),
        ));
    }
    let right = |s: String| Cell::from(Line::from(s).right_aligned());
    // Wide enough for the longest name; the spare width goes to the right.
    let name_w = rows
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(8, 32) as u16;
    // The sessions per node, when the node shares its store with others (a cluster).
    let nodes_w = rows
        .iter()
        .map(|c| per_node(c).chars().count())
        .max()
        .unwrap_or(0)
        .clamp(5, 24) as u16;
    let clustered = rows.iter().any(|c| !c.nodes.is_empty());
    // Columns that do not fit go, least needed first: protocol, direction, bound/total,
    // nodes.
    let all_w: [u16; 11] = [name_w, 3, 5, 11, 5, 7, 6, 7, 7, 6, nodes_w];
    let mut keep = [true; 11];
    keep[10] = clustered;
    let room = area.width.saturating_sub(4);
    let need = |keep: &[bool; 11]| -> u16 {
        let cols: Vec<u16> = all_w
            .iter()
            .zip(keep)
            .filter(|(_, k)| **k)
            .map(|(w, _)| *w)
            .collect();
        cols.iter().sum::<u16>() + cols.len() as u16 - 1
    };
    for drop in [2, 1, 4, 10] {
        if need(&keep) <= room {
            break;
        }
        keep[drop] = false;
    }
    let pick = |cells: Vec<Cell<'static>>| -> Vec<Cell<'static>> {
        cells
            .into_iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(c, _)| c)
            .collect()
    };
    let body = rows.iter().map(|c| {
        let word = state_word(&c.states);
        let mut flags = Vec::new();
        if c.hold {
            flags.push("HOLD");
        }
        if c.forceclose {
            flags.push("FC");
        }
        Row::new(pick(vec![
            Cell::from(c.name.clone()),
            Cell::from(if c.direction == "incoming" {
                "in"
            } else {
                "out"
            }),
            Cell::from(c.protocol.clone()),
            Cell::from(Span::styled(word.to_string(), styles::state(word))),
            right(format!("{}/{}", c.bound, c.instances)),
            Cell::from(Span::styled(flags.join(" "), styles::flag())),
            right(c.queued.to_string()),
            right(format!("{:.1}", c.rate_received)),
            right(format!("{:.1}", c.rate_sent)),
            right(c.failed.to_string()),
            Cell::from(per_node(c)),
        ]))
    });
    let widths: Vec<Constraint> = all_w
        .iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(w, _)| Constraint::Length(*w))
        .collect();
    let header = Row::new(pick(
        HEADER
            .iter()
            .enumerate()
            .map(|(i, h)| {
                if i >= 4 && i != 5 && i != 10 {
                    right(h.to_string())
                } else {
                    Cell::from(*h)
                }
            })
            .collect(),
    ))
    .style(styles::title());
    let table = Table::new(body, widths)
        .header(header)
        .block(
            Block::bordered()
                .title(Line::from(title))
                .border_style(styles::focused(focus)),
        )
        .flex(Flex::Start)
        .row_highlight_style(styles::selected(focus))
        .highlight_symbol("▶ ");
    let mut state = TableState::default().with_selected(app.selected_index());
    f.render_stateful_widget(table, area, &mut state);
    super::record_rows(app, area, state.offset());
}
