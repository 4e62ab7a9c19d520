//! The simple list views: queues, users, routes, nodes.

use super::styles;
use crate::format::duration;
use crate::tui::state::{App, ConnStatus, Cursor};
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;

/// What a list view draws: its title, cursor, columns and rows.
struct ListTable<'a> {
    title: String,
    cursor: &'a Cursor,
    header: Vec<&'a str>,
    widths: Vec<Constraint>,
    rows: Vec<Row<'a>>,
}

/// A bordered table with the filter shown, rows selectable.
fn table(f: &mut Frame, area: Rect, app: &App, t: ListTable) {
    let ListTable {
        title,
        cursor,
        header,
        widths,
        rows,
    } = t;
    let mut t = vec![Span::styled(title, styles::title())];
    if cursor.editing || !cursor.filter.is_empty() {
        let c = if cursor.editing { "█" } else { "" };
        t.push(Span::styled(
            format!("/{}{c} ", cursor.filter),
            styles::flag(),
        ));
    }
    let empty = rows.is_empty();
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(styles::title()))
        .block(
            Block::bordered()
                .title(Line::from(t))
                .border_style(styles::focused(true)),
        )
        .row_highlight_style(styles::selected(true))
        .highlight_symbol("▶ ");
    let mut state = TableState::default().with_selected((!empty).then_some(cursor.selected));
    f.render_stateful_widget(table, area, &mut state);
    super::record_rows(app, area, state.offset());
}

fn right(s: String) -> Cell<'static> {
    Cell::from(Line::from(s).right_aligned())
}

pub fn queues(f: &mut Frame, area: Rect, app: &App) {
    let rows = app.queue_rows();
    let wide = area.width >= 100;
    let body: Vec<Row> = rows
        .iter()
        .map(|c| {
            let mut flags = Vec::new();
            if c.hold {
                flags.push("HOLD");
            }
            if c.forceclose {
                flags.push("FC");
            }
            let mut cells = vec![
                Cell::from(c.name.clone()),
                Cell::from(if c.direction == "incoming" {
                    "in"
                } else {
                    "out"
                }),
                right(c.queued.to_string()),
                right(format!("{:.1}", c.rate_sent)),
                right(c.failed.to_string()),
                Cell::from(Span::styled(flags.join(" "), styles::flag())),
            ];
            if wide {
                let series = app.history.connectors.get(&c.name);
                let trend = series
                    .map(|s| {
                        let q = crate::tui::state::tail(&s.queued, 2);
                        match q.as_slice() {
                            [a, b] if b > a => "growing",
                            [a, b] if b < a => "draining",
                            _ => "steady",
                        }
                    })
                    .unwrap_or("-");
                cells.push(Cell::from(trend));
            }
            Row::new(cells)
        })
        .collect();
    let mut header = vec!["NAME", "DIR", "QUEUED", "OUT/S", "ERR", "FLAGS"];
    let mut widths = vec![
        Constraint::Min(12),
        Constraint::Length(3),
        Constraint::Length(9),
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Length(8),
    ];
    if wide {
        header.push("TREND");
        widths.push(Constraint::Length(9));
    }
    let title = format!(" queues {}/{} ", rows.len(), app.connectors.len());
    table(
        f,
        area,
        app,
        ListTable {
            title,
            cursor: &app.queues,
            header,
            widths,
            rows: body,
        },
    );
}

pub fn users(f: &mut Frame, area: Rect, app: &App) {
    if app.lists.users.is_none() {
        return loading(f, area, " users ", app.lists.error.as_deref());
    }
    let rows = app.user_rows();
    let wide = area.width >= 100;
    let opt = |v: &[String]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(",")
        }
    };
    let body: Vec<Row> = rows
        .iter()
        .map(|u| {
            let mut cells = vec![
                Cell::from(u.name.clone()),
                Cell::from(u.account.clone()),
                Cell::from(opt(&u.connectors)),
                right(u.throughput.map_or("-".into(), |t| format!("{t}/s"))),
            ];
            if wide {
                cells.push(Cell::from(opt(&u.binds)));
                cells.push(Cell::from(opt(&u.access)));
            }
            Row::new(cells)
        })
        .collect();
    let mut header = vec!["USER", "ACCOUNT", "CONNECTORS", "LIMIT"];
    let mut widths = vec![
        Constraint::Min(10),
        Constraint::Min(10),
        Constraint::Min(12),
        Constraint::Length(9),
    ];
    if wide {
        header.extend(["BINDS", "ACCESS"]);
        widths.extend([Constraint::Min(20), Constraint::Min(14)]);
    }
    let n = app.lists.users.as_ref().map_or(0, Vec::len);
    let title = format!(" users {}/{n} · Enter: their messages ", rows.len());
    table(
        f,
        area,
        app,
        ListTable {
            title,
            cursor: &app.users,
            header,
            widths,
            rows: body,
        },
    );
}

pub fn routes(f: &mut Frame, area: Rect, app: &App) {
    if app.lists.routes.is_none() {
        return loading(f, area, " routes ", app.lists.error.as_deref());
    }
    let rows = app.route_rows();
    let any = |o: &Option<String>| o.clone().unwrap_or_else(|| "*".into());
    let body: Vec<Row> = rows
        .iter()
        .map(|r| {
            Row::new(vec![
                right(r.order.to_string()),
                Cell::from(any(&r.prefix)),
                Cell::from(any(&r.account)),
                Cell::from(any(&r.from)),
                Cell::from(Span::styled(r.to.clone(), styles::key())),
            ])
        })
        .collect();
    let header = vec!["#", "PREFIX", "ACCOUNT", "FROM", "TO"];
    let widths = vec![
        Constraint::Length(3),
        Constraint::Min(10),
        Constraint::Min(10),
        Constraint::Min(10),
        Constraint::Min(10),
    ];
    let n = app.lists.routes.as_ref().map_or(0, Vec::len);
    let title = format!(" routes {}/{n} · first match wins ", rows.len());
    table(
        f,
        area,
        app,
        ListTable {
            title,
            cursor: &app.routes,
            header,
            widths,
            rows: body,
        },
    );
}

pub fn nodes(f: &mut Frame, area: Rect, app: &App) {
    let Some(s) = &app.server else {
        return loading(f, area, " nodes ", None);
    };
    let state = match &app.conn {
        ConnStatus::Connected => Span::styled("up", styles::state("BOUND")),
        _ => Span::styled("unreachable", styles::state("ERROR")),
    };
    let bound: usize = app.connectors.iter().map(|c| c.bound).sum();
    let instances: u32 = app.connectors.iter().map(|c| c.instances).sum();
    let row = Row::new(vec![
        right(s.node_id.to_string()),
        Cell::from(app.host.clone()),
        Cell::from(state),
        Cell::from(s.version.clone()),
        right(duration(s.uptime_s)),
        right(format!("{bound}/{instances}")),
        right(app.total_queued.to_string()),
        right(app.restarts.to_string()),
    ]);
    let header = vec![
        "NODE", "ADDRESS", "STATE", "VERSION", "UPTIME", "BOUND", "QUEUE", "RESTARTS",
    ];
    let widths = vec![
        Constraint::Length(4),
        Constraint::Min(14),
        Constraint::Length(11),
        Constraint::Length(8),
        Constraint::Length(12),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(8),
    ];
    let cursor = Cursor::default();
    let title = " nodes 1 · Enter: its connectors ".to_string();
    table(
        f,
        area,
        app,
        ListTable {
            title,
            cursor: &cursor,
            header,
            widths,
            rows: vec![row],
        },
    );
}

fn loading(f: &mut Frame, area: Rect, title: &str, error: Option<&str>) {
    let text = match error {
        Some(e) => Line::styled(format!("cannot load: {e}"), styles::error()),
        None => Line::styled("loading…", styles::dim()),
    };
    f.render_widget(
        Paragraph::new(text)
            .block(Block::bordered().title(Span::styled(title.to_string(), styles::title()))),
        area,
    );
}
