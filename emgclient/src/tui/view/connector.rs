//! One connector in full: configuration, each instance's session, failures by error code,
//! the latency histograms emgd keeps for `/metrics`, and its log.

use super::{detail, log, styles};
use crate::tui::state::{table::state_word, App};
use common::mgp::Latency;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Color;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

pub fn draw(f: &mut Frame, area: Rect, app: &App, name: &str) {
    let Some(c) = app.connectors.iter().find(|c| c.name == name) else {
        let p = Paragraph::new(format!("no connector {name} (yet)"))
            .block(Block::bordered().title(" connector "));
        f.render_widget(p, area);
        return;
    };
    let d = app.details.get(name);
    let wide = area.width >= super::WIDE;
    let sessions = session_lines(app, name);
    let errors = detail::error_lines(app, c);
    let stats = app.stats.get(name);
    let hist_h: u16 = if area.height >= 40 { 12 } else { 7 };
    let (top, log_area) = {
        let upper_h = if wide {
            (area.height * 3 / 5).max(12)
        } else {
            area.height
                .saturating_sub(6)
                .min(3 + 2 + sessions.len() as u16 + errors.len().min(4) as u16 + 1 + hist_h + 2)
        };
        let [u, l] =
            Layout::vertical([Constraint::Length(upper_h), Constraint::Min(3)]).areas(area);
        (u, l)
    };
    let block = Block::bordered()
        .title(Span::styled(format!(" {name} "), styles::title()))
        .border_style(styles::focused(true));
    let inner = block.inner(top);
    f.render_widget(block, top);
    let mut info = vec![Line::from(vec![
        Span::raw(format!("{} {} ", c.direction, c.protocol)),
        Span::styled(
            state_word(&c.states).to_string(),
            styles::state(state_word(&c.states)),
        ),
        Span::raw(format!(
            " {}/{} bound · queue {} · out {:.1}/s in {:.1}/s · failed {}",
            c.bound, c.instances, c.queued, c.rate_sent, c.rate_received, c.failed
        )),
    ])];
    if let Some(d) = d {
        let opt = |o: Option<String>| o.unwrap_or_else(|| "-".into());
        info.push(Line::styled(
            format!(
                "{} · {} · window {} · throughput {} · maxqueue {}",
                opt(d.address.clone()),
                d.mode,
                d.windowsize,
                opt(d.throughput.map(|t| format!("{t}/s"))),
                opt(d.maxqueuesize.map(|q| q.to_string())),
            ),
            styles::dim(),
        ));
    }
    let mut flags = Vec::new();
    if c.hold {
        flags.push("HOLD");
    }
    if c.forceclose {
        flags.push("FORCE-CLOSED");
    }
    if !flags.is_empty() {
        info.push(Line::styled(flags.join(" "), styles::flag()));
    }
    let mut left = info;
    left.push(Line::styled("sessions", styles::title()));
    left.extend(sessions);
    let since = stats
        .map(|_| "errors by code (final, last hour)")
        .unwrap_or("errors");
    left.push(Line::styled(since, styles::title()));
    left.extend(errors.into_iter().take(if wide { 12 } else { 4 }));
    let hist = |h: Option<&Latency>, what: &str, r: Rect, f: &mut Frame| {
        f.render_widget(
            Paragraph::new(histogram(what, h, r.height as usize, r.width)),
            r,
        );
    };
    if wide {
        let [l, r] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Min(30)]).areas(inner);
        f.render_widget(Paragraph::new(left), l);
        let [a, b] = Layout::vertical([Constraint::Fill(1); 2]).areas(r);
        hist(
            stats.and_then(|s| s.submit_response.as_ref()),
            "submit → response",
            a,
            f,
        );
        hist(
            stats.and_then(|s| s.accept_commit.as_ref()),
            "accept → commit",
            b,
            f,
        );
    } else {
        let [l, h] = Layout::vertical([
            Constraint::Min(3),
            Constraint::Length(hist_h.min(inner.height / 2)),
        ])
        .areas(inner);
        f.render_widget(Paragraph::new(left), l);
        let [a, b] = Layout::horizontal([Constraint::Fill(1); 2])
            .spacing(1)
            .areas(h);
        hist(
            stats.and_then(|s| s.submit_response.as_ref()),
            "submit → response",
            a,
            f,
        );
        hist(
            stats.and_then(|s| s.accept_commit.as_ref()),
            "accept → commit",
            b,
            f,
        );
    }
    log::draw(f, log_area, app, false);
}

/// One line per instance: its state, and its session when bound.
fn session_lines(app: &App, name: &str) -> Vec<Line<'static>> {
    let Some(c) = app.connectors.iter().find(|c| c.name == name) else {
        return Vec::new();
    };
    let sessions = app
        .details
        .get(name)
        .map(|d| d.sessions.clone())
        .unwrap_or_default();
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    c.states
        .iter()
        .enumerate()
        .map(|(i, st)| {
            let mut spans = vec![
                Span::styled(format!("{i:>2} "), styles::dim()),
                Span::styled(format!("{st:<11}"), styles::state(st)),
            ];
            if let Some(s) = sessions.iter().find(|s| s.instance as usize == i) {
                spans.push(Span::raw(format!("{}  ", opt(&s.peer))));
                spans.push(Span::styled(
                    format!("{}  ", opt(&s.bind)),
                    styles::fg(Color::Cyan),
                ));
                spans.push(Span::raw(format!("{}  ", opt(&s.user))));
                spans.push(Span::styled(
                    format!("since {}", app.session_age(s)),
                    styles::dim(),
                ));
                // In use (from the pushed list, the freshest) of the configured size.
                let in_use = c.inflight.get(i).copied().unwrap_or(s.inflight);
                if let Some(d) = app.details.get(name) {
                    spans.push(Span::styled(
                        format!("  window {in_use}/{}", d.windowsize),
                        styles::dim(),
                    ));
                }
            }
            Line::from(spans)
        })
        .collect()
}

/// The bound under which a share `q` of the observations fall (seconds).
pub fn quantile(h: &Latency, q: f64) -> Option<f64> {
    let want = (h.count as f64 * q).ceil() as u64;
    let mut seen = 0;
    for (bound, n) in &h.buckets {
        seen += n;
        if seen >= want && want > 0 {
            return Some(*bound);
        }
    }
    None
}

fn ms(s: f64) -> String {
    if s >= 1.0 {
        return format!("{s}s");
    }
    // Bucket bounds such as 0.5 ms and 2.5 ms keep their decimal; means round to 0.1 ms.
    let v = (s * 10_000.0).round() / 10.0;
    if v.fract() == 0.0 {
        format!("{v}ms")
    } else {
        format!("{v:.1}ms")
    }
}

/// `what` as a title with its count, mean and p50/p99, then one bar per bucket that has any,
/// in at most `height` lines (the buckets around the fullest when they do not all fit).
pub fn histogram(what: &str, h: Option<&Latency>, height: usize, width: u16) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled(what.to_string(), styles::title())];
    let Some(h) = h.filter(|h| h.count > 0) else {
        lines.push(Line::styled("no observations yet", styles::dim()));
        return lines;
    };
    let q = |x| quantile(h, x).map_or("-".to_string(), |b| format!("≤{}", ms(b)));
    lines.push(Line::styled(
        format!(
            "n {} mean {} p50 {} p99 {}",
            h.count,
            ms(h.sum_s / h.count as f64),
            q(0.5),
            q(0.99)
        ),
        styles::dim(),
    ));
    let used: Vec<&(f64, u64)> = h.buckets.iter().filter(|(_, n)| *n > 0).collect();
    let max = used.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    let bar_w = (width as usize).saturating_sub(18).max(4);
    // Too many buckets for the lines: those around the fullest one.
    let room = height.saturating_sub(2).max(1);
    let peak = used.iter().position(|(_, n)| *n == max).unwrap_or(0);
    let start = peak
        .saturating_sub(room / 2)
        .min(used.len().saturating_sub(room));
    for (bound, n) in used.iter().skip(start).take(room) {
        let len = ((*n as f64 / max as f64) * bar_w as f64).ceil() as usize;
        lines.push(Line::from(vec![
            Span::styled(format!("≤{:>6} ", ms(*bound)), styles::dim()),
            Span::styled("█".repeat(len.max(1)), styles::fg(Color::Cyan)),
            Span::raw(format!(" {n}")),
        ]));
    }
    lines
}
