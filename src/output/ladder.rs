//! The exchange as a sequence (ladder) diagram, the picture TCP textbooks draw: client on
//! the left, server on the right, one arrow per segment, each side's state beside its own
//! line when it changes. In the terminal (`--format ladder`) or as Mermaid
//! `sequenceDiagram` text (`--format mermaid`), which GitHub and most docs tools render.
//!
//! Runs of plain data and ACK segments (no step, no analysis flag, no state change) are
//! folded into one line unless `--full` is given, so that long transfers stay readable.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use crate::annotate::{ConnectionRecord, Record, Role, SegmentRecord};
use crate::track::{Dir, State};

/// Folded runs are at least this long; shorter runs are drawn in full.
const FOLD_MIN: usize = 4;
/// A connection's lines are drawn in parts of at most this many, so that memory stays
/// bounded on long connections drawn in full.
const MAX_LINES: usize = 1_000;
/// Width of the arrow between the two lifelines.
const ARROW: usize = 56;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Text,
    Mermaid,
    /// One SVG document with every connection's diagram, written at the end.
    Svg,
    /// One self-contained HTML page: each diagram, then the summary table.
    Html,
}

/// SVG kept for the document written at the end, at most this much; beyond it further
/// connections are left out, and the document says how many (`--conn` picks some).
const MAX_SVG_BYTES: usize = 64 << 20;
/// Summary rows of an HTML page, at most this many.
const MAX_HTML_ROWS: usize = 10_000;

/// Segments folded into one line.
#[derive(Clone, Debug, Default)]
pub(super) struct Fold {
    first: u64,
    last: u64,
    count: u64,
    data: [u64; 2],
    bytes: [u64; 2],
    acks: [u64; 2],
}

impl Fold {
    fn add(&mut self, s: &SegmentRecord) {
        if self.count == 0 {
            self.first = s.frame;
        }
        self.last = s.frame;
        self.count += 1;
        let d = s.dir.0.index();
        if let (Some(data), Some(bytes), Some(acks)) = (
            self.data.get_mut(d),
            self.bytes.get_mut(d),
            self.acks.get_mut(d),
        ) {
            if s.len > 0 {
                *data += 1;
                *bytes += u64::from(s.len);
            } else {
                *acks += 1;
            }
        }
    }

    pub(super) fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (dir, arrow) in [(0, "→"), (1, "←")] {
            let (data, bytes, acks) = (
                self.data.get(dir).copied().unwrap_or(0),
                self.bytes.get(dir).copied().unwrap_or(0),
                self.acks.get(dir).copied().unwrap_or(0),
            );
            if data > 0 {
                parts.push(format!(
                    "{data} data segment{} {arrow} ({})",
                    plural(data),
                    size(bytes)
                ));
            }
            if acks > 0 {
                parts.push(format!("{acks} ACK{} {arrow}", plural(acks)));
            }
        }
        format!(
            "… frames {}-{}: {} (--full shows them)",
            self.first,
            self.last,
            parts.join(", ")
        )
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 10 * 1024 * 1024 => format!("{} MB", b / (1024 * 1024)),
        b if b >= 10 * 1024 => format!("{} KB", b / 1024),
        b => format!("{b} B"),
    }
}

pub(super) enum Line {
    Segment(Box<SegmentRecord>),
    Fold(Fold),
}

/// What is drawn of one connection so far.
#[derive(Default)]
struct Drawing {
    lines: Vec<Line>,
    /// Plain segments not yet drawn: drawn one by one if the run stays short, else folded.
    run: Vec<SegmentRecord>,
    fold: Option<Fold>,
    /// The states last written beside each lifeline.
    shown: [Option<State>; 2],
    /// Parts of this connection already drawn.
    parts: u32,
}

impl Drawing {
    fn add(&mut self, s: &SegmentRecord, full: bool) {
        let last = self.last_states();
        let plain = matches!(s.role, Role::Data | Role::Ack)
            && s.step.is_none()
            && s.analysis.is_empty()
            && last == Some((s.client_state.0, s.server_state.0));
        if full || !plain {
            self.end_run();
            self.lines.push(Line::Segment(Box::new(s.clone())));
            return;
        }
        match &mut self.fold {
            Some(fold) => fold.add(s),
            None => {
                self.run.push(s.clone());
                if self.run.len() >= FOLD_MIN {
                    let mut fold = Fold::default();
                    for r in self.run.drain(..) {
                        fold.add(&r);
                    }
                    self.fold = Some(fold);
                }
            }
        }
    }

    fn end_run(&mut self) {
        if let Some(fold) = self.fold.take() {
            self.lines.push(Line::Fold(fold));
        }
        for r in self.run.drain(..) {
            self.lines.push(Line::Segment(Box::new(r)));
        }
    }

    /// Both states after the last segment taken in.
    fn last_states(&self) -> Option<(State, State)> {
        let seg = self.run.last().or_else(|| {
            self.lines.iter().rev().find_map(|l| match l {
                Line::Segment(s) => Some(s.as_ref()),
                Line::Fold(_) => None,
            })
        });
        match (seg, &self.fold) {
            (Some(s), _) => Some((s.client_state.0, s.server_state.0)),
            (None, _) => None,
        }
    }
}

pub struct LadderPrinter<W: Write> {
    out: W,
    style: Style,
    full: bool,
    absolute: bool,
    /// Flagged segments in colour (ANSI escapes), in the terminal diagram.
    color: bool,
    open: HashMap<u64, Drawing>,
    /// SVG: diagrams (group, height) kept for the document, and how many were left out.
    svg: Vec<(String, u32)>,
    svg_bytes: usize,
    left_out: u64,
    /// HTML: whether the page has begun, the summary rows kept for the capture's end,
    /// and the number of the capture (for the anchors of its connections).
    page: bool,
    rows: Vec<ConnectionRecord>,
    captures: u32,
}

impl<W: Write> LadderPrinter<W> {
    pub fn new(out: W, style: Style, full: bool, absolute: bool, color: bool) -> Self {
        LadderPrinter {
            out,
            style,
            full,
            absolute,
            color,
            open: HashMap::new(),
            svg: Vec::new(),
            svg_bytes: 0,
            left_out: 0,
            page: false,
            rows: Vec::new(),
            captures: 0,
        }
    }

    pub fn begin(&mut self, label: Option<&str>) -> io::Result<()> {
        self.captures += 1;
        if self.style == Style::Html && !self.page {
            self.page = true;
            write!(
                self.out,
                "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>\
                 <title>synfin</title><style>{}\
                 body{{font-family:system-ui,sans-serif;margin:24px}}\
                 table{{border-collapse:collapse}}td,th{{padding:2px 10px;text-align:left;border-bottom:1px solid #ddd}}\
                 </style></head><body>\n\
                 <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"0\" height=\"0\" style=\"position:absolute\">{}</svg>\n",
                super::svg::STYLE,
                super::svg::DEFS
            )?;
        }
        if let Some(label) = label {
            match self.style {
                Style::Text => writeln!(self.out, "=== {label} ===\n")?,
                Style::Mermaid => writeln!(self.out, "%% {label}")?,
                Style::Html => writeln!(self.out, "<h1>{}</h1>", super::svg::xml(label))?,
                Style::Svg => {}
            }
        }
        Ok(())
    }

    /// Ends the document (SVG, HTML) after the last capture.
    pub fn finish(&mut self) -> io::Result<()> {
        match self.style {
            Style::Text | Style::Mermaid => Ok(()),
            Style::Svg => {
                let mut height: u32 = 0;
                for (_, h) in &self.svg {
                    height = height.saturating_add(*h);
                }
                let note = if self.left_out > 0 { 30 } else { 0 };
                writeln!(
                    self.out,
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\
                     <style>{}</style>{}<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>",
                    super::svg::STYLE,
                    super::svg::DEFS,
                    w = super::svg::WIDTH,
                    h = height.saturating_add(note).max(40),
                )?;
                let mut y: u32 = 0;
                for (group, h) in std::mem::take(&mut self.svg) {
                    writeln!(self.out, "<g transform=\"translate(0,{y})\">{group}</g>")?;
                    y = y.saturating_add(h);
                }
                if self.left_out > 0 {
                    writeln!(
                        self.out,
                        "<text x=\"20\" y=\"{}\">{} more connections not drawn (--conn picks which)</text>",
                        y + 20,
                        self.left_out
                    )?;
                }
                writeln!(self.out, "</svg>")?;
                self.out.flush()
            }
            Style::Html => {
                if !self.page {
                    self.begin(None)?;
                }
                writeln!(self.out, "</body></html>")?;
                self.out.flush()
            }
        }
    }

    fn html_summary(&mut self) -> io::Result<()> {
        use super::svg::xml;
        writeln!(
            self.out,
            "<h2>Summary</h2><table><tr><th>Conn</th><th>Client</th><th>Server</th><th>Pkts</th>\
             <th>Bytes</th><th>Handshake</th><th>Teardown</th><th>Final states</th><th>Zeek</th><th>Notes</th></tr>"
        )?;
        let mut rows = std::mem::take(&mut self.rows);
        rows.sort_by_key(|c| c.conn);
        for c in rows {
            let zeek = match (&c.conn_state, &c.history) {
                (Some(state), Some(history)) => format!("{state} {history}"),
                _ => String::new(),
            };
            writeln!(
                self.out,
                "<tr><td><a href=\"#c{k}-conn-{n}\">{n}</a></td><td>{}</td><td>{}</td><td>{}/{}</td><td>{}/{}</td>\
                 <td>{}</td><td>{}</td><td>{}/{}</td><td>{}</td><td>{}</td></tr>",
                xml(&c.client.0.to_string()),
                xml(&c.server.0.to_string()),
                c.packets.c2s,
                c.packets.s2c,
                c.bytes.c2s,
                c.bytes.s2c,
                c.handshake.name(),
                c.teardown.name(),
                c.client_state.0.name(),
                c.server_state.0.name(),
                xml(&zeek),
                xml(&c.notes.join("; ")),
                n = c.conn,
                k = self.captures,
            )?;
        }
        writeln!(self.out, "</table>")
    }

    pub fn record(&mut self, record: &Record) -> io::Result<()> {
        match record {
            Record::Segment(s) => {
                let drawing = self.open.entry(s.conn).or_default();
                drawing.add(s, self.full);
                if drawing.lines.len() >= MAX_LINES {
                    let (client, server) = match s.dir.0 {
                        Dir::C2S => (s.src.0.socket(), s.dst.0.socket()),
                        Dir::S2C => (s.dst.0.socket(), s.src.0.socket()),
                    };
                    let title = format!(
                        "Connection {}: client {client} → server {server} (open)",
                        s.conn
                    );
                    let mut drawing = self.open.remove(&s.conn).unwrap_or_default();
                    self.draw(&title, &mut drawing, None)?;
                    self.open.insert(s.conn, drawing);
                }
            }
            Record::Connection(c) => {
                let mut drawing = self.open.remove(&c.conn).unwrap_or_default();
                drawing.end_run();
                let title = format!(
                    "Connection {}: client {} → server {}",
                    c.conn, c.client.0, c.server.0
                );
                self.draw(&title, &mut drawing, Some(c))?;
                if self.style == Style::Html && self.rows.len() < MAX_HTML_ROWS {
                    self.rows.push((**c).clone());
                }
            }
        }
        Ok(())
    }

    pub fn end(&mut self) -> io::Result<()> {
        // Segments that came after their connection was reported: drawn, never dropped.
        let mut late: Vec<(u64, Drawing)> = self.open.drain().collect();
        late.sort_by_key(|(conn, _)| *conn);
        for (conn, mut drawing) in late {
            drawing.end_run();
            if drawing.lines.is_empty() {
                continue;
            }
            let title = format!("Connection {conn}, after it was reported");
            self.draw(&title, &mut drawing, None)?;
        }
        if self.style == Style::Html {
            self.html_summary()?;
        }
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn draw(
        &mut self,
        title: &str,
        drawing: &mut Drawing,
        end: Option<&ConnectionRecord>,
    ) -> io::Result<()> {
        let title = if drawing.parts > 0 {
            format!("{title}, continued")
        } else {
            title.to_string()
        };
        drawing.parts += 1;
        let lines = std::mem::take(&mut drawing.lines);
        let text = match self.style {
            Style::Text => self.text(&title, &lines, &mut drawing.shown, end),
            Style::Mermaid => self.mermaid(&title, &lines, &mut drawing.shown, end),
            Style::Svg | Style::Html => {
                let label = |s: &SegmentRecord| self.label(s);
                let (group, height) = super::svg::connection(
                    &title,
                    endpoints(&lines, end),
                    &lines,
                    &mut drawing.shown,
                    &label,
                    &Self::comment,
                    end,
                );
                if self.style == Style::Svg {
                    if self.svg_bytes + group.len() > MAX_SVG_BYTES {
                        self.left_out += 1;
                    } else {
                        self.svg_bytes += group.len();
                        self.svg.push((group, height));
                    }
                    return Ok(());
                }
                let id = end.map_or(String::new(), |c| {
                    format!(" id=\"c{}-conn-{}\"", self.captures, c.conn)
                });
                format!(
                    "<section{id}><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" \
                     viewBox=\"0 0 {w} {height}\">{group}</svg></section>\n",
                    w = super::svg::WIDTH,
                )
            }
        };
        self.out.write_all(text.as_bytes())
    }

    fn label(&self, s: &SegmentRecord) -> String {
        let flags: Vec<&str> = s.flags.0.names().collect();
        let (seq, ack) = if self.absolute {
            (s.abs_seq, s.abs_ack)
        } else {
            (s.seq, s.ack)
        };
        let mut label = format!("[{}] Seq={seq}", flags.join(", "));
        if let Some(ack) = ack {
            let _ = write!(label, " Ack={ack}");
        }
        let _ = write!(label, " Len={}", s.len);
        label
    }

    /// What is said beside the arrow: the role, the step, Wireshark's flags.
    fn comment(s: &SegmentRecord) -> String {
        let mut parts = vec![s.role.label().to_string()];
        if let Some(step) = s.step {
            parts.push(step.to_string());
        }
        let flags: Vec<&str> = s.analysis.names().collect();
        if !flags.is_empty() {
            parts.push(flags.join(", "));
        }
        parts.join(", ")
    }

    fn text(
        &self,
        title: &str,
        lines: &[Line],
        shown: &mut [Option<State>; 2],
        end: Option<&ConnectionRecord>,
    ) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{title}");
        let _ = writeln!(
            out,
            "{:>6}  {:<12} {:<w$} {:<12}",
            "frame",
            "client",
            "",
            "server",
            w = ARROW + 2
        );
        for line in lines {
            match line {
                Line::Segment(s) => {
                    let [client, server] =
                        changed_states(s, shown).map(|st| st.map(State::name).unwrap_or_default());
                    let arrow = arrow(&self.label(s), s.dir.0);
                    let comment = Self::comment(s);
                    let (arrow, comment) = if self.color && !s.analysis.is_empty() {
                        (red(&arrow), red(&comment))
                    } else {
                        (arrow, comment)
                    };
                    let _ = writeln!(
                        out,
                        "{:>6}  {client:<12}│{arrow}│ {server:<12}  {comment}",
                        s.frame,
                    );
                }
                Line::Fold(fold) => {
                    let _ = writeln!(out, "{:>6}  {:<12}│{:^w$}│", "", "", "⋮", w = ARROW);
                    let _ = writeln!(out, "{:>6}  {:<12}  {}", "", "", fold.describe());
                }
            }
        }
        if let Some(c) = end {
            let _ = writeln!(out, "{}", super::table::story_line(c));
        }
        out.push('\n');
        out
    }

    fn mermaid(
        &self,
        title: &str,
        lines: &[Line],
        shown: &mut [Option<State>; 2],
        end: Option<&ConnectionRecord>,
    ) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "sequenceDiagram");
        let _ = writeln!(out, "    title {}", mermaid_text(title));
        if let Some(Line::Segment(s)) = lines.first() {
            let (client, server) = match s.dir.0 {
                Dir::C2S => (s.src.0.socket(), s.dst.0.socket()),
                Dir::S2C => (s.dst.0.socket(), s.src.0.socket()),
            };
            let _ = writeln!(
                out,
                "    participant C as client {}",
                mermaid_text(&client.to_string())
            );
            let _ = writeln!(
                out,
                "    participant S as server {}",
                mermaid_text(&server.to_string())
            );
        } else {
            let _ = writeln!(out, "    participant C as client");
            let _ = writeln!(out, "    participant S as server");
        }
        for line in lines {
            match line {
                Line::Segment(s) => {
                    let (from, to) = match s.dir.0 {
                        Dir::C2S => ("C", "S"),
                        Dir::S2C => ("S", "C"),
                    };
                    let _ = writeln!(
                        out,
                        "    {from}->>{to}: {} {} ({})",
                        s.frame,
                        mermaid_text(&self.label(s)),
                        mermaid_text(&Self::comment(s))
                    );
                    let changed = changed_states(s, shown);
                    for ((who, side), state) in [("C", "left of"), ("S", "right of")]
                        .into_iter()
                        .zip(changed)
                    {
                        if let Some(state) = state {
                            let _ = writeln!(out, "    Note {side} {who}: {}", state.name());
                        }
                    }
                }
                Line::Fold(fold) => {
                    let _ = writeln!(out, "    Note over C,S: {}", mermaid_text(&fold.describe()));
                }
            }
        }
        if let Some(c) = end {
            let _ = writeln!(
                out,
                "    Note over C,S: {}",
                mermaid_text(&format!(
                    "handshake {}, teardown {}",
                    c.handshake.name(),
                    c.teardown.name()
                ))
            );
        }
        out.push('\n');
        out
    }
}

/// The states a segment leaves at each end, where they differ from those last shown (which
/// become them); `None` where a side's state is unchanged.
pub(super) fn changed_states(
    s: &SegmentRecord,
    shown: &mut [Option<State>; 2],
) -> [Option<State>; 2] {
    let mut changed = [None; 2];
    for ((slot, out), state) in shown
        .iter_mut()
        .zip(changed.iter_mut())
        .zip([s.client_state.0, s.server_state.0])
    {
        if *slot != Some(state) {
            *slot = Some(state);
            *out = Some(state);
        }
    }
    changed
}

/// Client and server of a drawing: from its connection record, else its first segment.
fn endpoints(lines: &[Line], end: Option<&ConnectionRecord>) -> Option<(String, String)> {
    if let Some(c) = end {
        return Some((c.client.0.to_string(), c.server.0.to_string()));
    }
    lines.iter().find_map(|l| match l {
        Line::Segment(s) => Some(match s.dir.0 {
            Dir::C2S => (s.src.0.to_string(), s.dst.0.to_string()),
            Dir::S2C => (s.dst.0.to_string(), s.src.0.to_string()),
        }),
        Line::Fold(_) => None,
    })
}

/// Mermaid message text: `;` ends a statement and `#` starts an entity, so both are
/// written as entity codes.
fn mermaid_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            c => out.push(c),
        }
    }
    out
}

fn red(text: &str) -> String {
    format!("\x1b[1;31m{text}\x1b[0m")
}

/// `──label──▶` or `◀──label──`, ARROW columns wide.
fn arrow(label: &str, dir: Dir) -> String {
    let width = label.chars().count() + 4;
    let fill = ARROW.saturating_sub(width);
    match dir {
        Dir::C2S => format!("─ {label} {}▶", "─".repeat(fill + 1)),
        Dir::S2C => format!("◀{} {label} ─", "─".repeat(fill + 1)),
    }
}
