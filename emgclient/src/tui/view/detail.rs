//! The selected connector: configuration summary, instances and their sessions, sparklines,
//! last errors.

use super::styles;
use crate::tui::state::{tail, App, Series};
use common::mgp::ConnectorInfo;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Color;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Sparkline};
use ratatui::Frame;

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let Some(c) = app.selected() else {
        let p = Paragraph::new("no connector selected").block(Block::bordered().title(" detail "));
        f.render_widget(p, area);
        return;
    };
    let block = Block::bordered().title(Span::styled(format!(" {} ", c.name), styles::title()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let empty = Series::default();
    let series = app.history.connectors.get(&c.name).unwrap_or(&empty);
    let errors = error_lines(app, c);
    if inner.height >= 14 {
        // Sessions get what is left once the errors have their title and one line.
        let room = inner.height.saturating_sub(12 + 2) as usize;
        let sessions = session_lines(app, room);
        let [summary, sess, out, inn, queue, errs] = Layout::vertical([
            Constraint::Length(3),
            Constraint::Length(sessions.len() as u16),
            Constraint::Length(3),
            Constraint::Length(3),
            Constraint::Length(3),
            Constraint::Min(1),
        ])
        .areas(inner);
        f.render_widget(Paragraph::new(summary_lines(app, c, true)), summary);
        f.render_widget(Paragraph::new(sessions), sess);
        spark(
            f,
            out,
            "out/s",
            &series.sent,
            rate(c.rate_sent),
            Color::Green,
        );
        spark(
            f,
            inn,
            "in/s",
            &series.received,
            rate(c.rate_received),
            Color::Cyan,
        );
        spark(
            f,
            queue,
            "queue",
            &series.queued,
            c.queued.to_string(),
            Color::Yellow,
        );
        let mut lines = vec![Line::styled("last errors", styles::title())];
        lines.extend(errors);
        f.render_widget(Paragraph::new(lines), errs);
    } else {
        let [summary, rates, queue, errs] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Min(0),
        ])
        .areas(inner);
        f.render_widget(Paragraph::new(summary_lines(app, c, false)), summary);
        let [out, inn] = Layout::horizontal([Constraint::Fill(1); 2])
            .spacing(2)
            .areas(rates);
        spark(
            f,
            out,
            "out/s",
            &series.sent,
            rate(c.rate_sent),
            Color::Green,
        );
        spark(
            f,
            inn,
            "in/s",
            &series.received,
            rate(c.rate_received),
            Color::Cyan,
        );
        spark(
            f,
            queue,
            "queue",
            &series.queued,
            c.queued.to_string(),
            Color::Yellow,
        );
        f.render_widget(Paragraph::new(errors), errs);
    }
}

fn rate(r: f64) -> String {
    format!("{r:.1}")
}

fn summary_lines<'a>(app: &'a App, c: &'a ConnectorInfo, tall: bool) -> Vec<Line<'a>> {
    let d = app.details.get(&c.name);
    let mut first = format!("{} {}", c.direction, c.protocol);
    if let Some(d) = d {
        if let Some(a) = &d.address {
            first.push_str(&format!(" · {a}"));
        }
        // The configured size per session, and what the sessions use of it now.
        let in_use: u32 = c.inflight.iter().sum();
        first.push_str(&format!(
            " · {} · window {} · in flight {in_use}",
            d.mode, d.windowsize
        ));
    }
    let mut inst = vec![Span::raw("instances ")];
    let sessions = d.map_or(&[][..], |d| d.sessions.as_slice());
    for (i, s) in c.states.iter().enumerate() {
        inst.push(Span::raw(format!("{i}:")));
        inst.push(Span::styled(s.clone(), styles::state(s)));
        // How long each bound instance has been up; the tall pane lists the rest.
        let up = matches!(s.as_str(), "BOUND" | "TERMINATING");
        if let Some(sess) = sessions.iter().find(|x| up && x.instance as usize == i) {
            inst.push(Span::raw(format!(" {}", app.session_age(sess))));
        }
        inst.push(Span::raw(" "));
    }
    inst.push(Span::styled(
        format!(
            "· sent {} recv {} failed {} ({:.1}/s)",
            c.sent, c.received, c.failed, c.rate_failed
        ),
        styles::dim(),
    ));
    let mut lines = vec![Line::from(first), Line::from(inst)];
    if tall {
        let opt = |o: Option<String>| o.unwrap_or_else(|| "-".into());
        let third = match d {
            Some(d) => format!(
                "throughput {} · maxqueue {} · users {} · route {}",
                opt(d.throughput.map(|t| format!("{t}/s"))),
                opt(d.maxqueuesize.map(|q| q.to_string())),
                if d.users.is_empty() {
                    "-".to_string()
                } else {
                    d.users.join(",")
                },
                opt(d.route.clone())
            ),
            None => String::new(),
        };
        lines.push(Line::styled(third, styles::dim()));
    }
    lines
}

/// `sessions` and one line per bound session (instance, peer, bind, user, age), in at most
/// `room` lines; none when there is no room or no detail yet.
fn session_lines(app: &App, room: usize) -> Vec<Line<'static>> {
    let Some(d) = app.current_connector().and_then(|n| app.details.get(&n)) else {
        return Vec::new();
    };
    if room < 2 {
        return Vec::new();
    }
    if d.sessions.is_empty() {
        return vec![Line::from(vec![
            Span::styled("sessions ", styles::title()),
            Span::styled("none bound", styles::dim()),
        ])];
    }
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    let mut lines = vec![Line::styled("sessions", styles::title())];
    let fits = if d.sessions.len() < room {
        d.sessions.len()
    } else {
        room - 2
    };
    for s in &d.sessions[..fits] {
        lines.push(Line::from(vec![
            Span::styled(format!("{:>2} ", s.instance), styles::dim()),
            Span::raw(format!("{}  ", opt(&s.peer))),
            Span::styled(format!("{}  ", opt(&s.bind)), styles::fg(Color::Cyan)),
            Span::raw(format!("{}  ", opt(&s.user))),
            Span::styled(format!("up {}", app.session_age(s)), styles::dim()),
        ]));
    }
    if fits < d.sessions.len() {
        lines.push(Line::styled(
            format!("   … {} more", d.sessions.len() - fits),
            styles::dim(),
        ));
    }
    lines
}

/// `label ▁▂▅▇ value`: the label and value take a line each side, the graph the rest.
fn spark(
    f: &mut Frame,
    area: Rect,
    label: &str,
    data: &std::collections::VecDeque<u64>,
    now: String,
    color: Color,
) {
    let [l, g, v] = Layout::horizontal([
        Constraint::Length(6),
        Constraint::Min(1),
        Constraint::Length(now.len().max(5) as u16 + 1),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(label.to_string()).style(styles::dim()), l);
    let points = tail(data, g.width as usize);
    f.render_widget(
        Sparkline::default().data(&points).style(styles::fg(color)),
        g,
    );
    f.render_widget(Paragraph::new(Line::from(now).right_aligned()), v);
}

/// The connector's failures by status and error code (from emgd's routelog, last hour), then
/// the error lines its log showed while we watched.
pub fn error_lines(app: &App, c: &ConnectorInfo) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if let Some(st) = app.stats.get(&c.name) {
        for e in &st.errors {
            let when = crate::format::short_time_us(e.last_us);
            let clock = when.get(6..14).unwrap_or(&when).to_string();
            lines.push(Line::from(vec![
                Span::styled(format!("{:>6}× ", e.count), styles::flag()),
                Span::styled(
                    format!("{} {}", e.status, e.error.as_deref().unwrap_or("-")),
                    styles::error(),
                ),
                Span::styled(format!("  last {clock}"), styles::dim()),
            ]));
        }
    }
    if let Some(e) = app.errors.get(&c.name) {
        lines.extend(
            e.iter()
                .rev()
                .map(|l| Line::styled(l.clone(), styles::error())),
        );
    }
    if lines.is_empty() {
        let text = match (c.failed, app.stats.contains_key(&c.name)) {
            (0, _) => "no errors seen".to_string(),
            (n, true) => format!("{n} failed submits, none final in the last hour"),
            (n, false) => format!("{n} failed submits (counts by code not loaded yet)"),
        };
        lines.push(Line::styled(text, styles::dim()));
    }
    lines
}
