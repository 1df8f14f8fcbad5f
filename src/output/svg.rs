//! The ladder diagram as SVG: one standalone document with every connection's diagram
//! (`--format svg`), which a browser opens and docs embed; its groups are also the body of
//! the HTML page (`html.rs`).

use std::fmt::Write as _;
use std::io::{self, Write};

use super::diagram::{self, Diagram, Fold, Line, Picture};
use super::story::story_line;
use super::words::Words;
use super::{Source, TimeShown, View};
use crate::annotate::SegmentRecord;
use crate::track::{Dir, State};
use crate::xml::escape as xml;

pub const WIDTH: u32 = 1320;
const CLIENT_X: u32 = 200;
const SERVER_X: u32 = 780;
const ROW: u32 = 30;
const TOP: u32 = 76;

/// SVG kept for the document written at the end, at most this much; beyond it further
/// connections are left out, and the document says how many (`--conn` picks some).
const MAX_SVG_BYTES: usize = 64 << 20;

/// Styles shared by every diagram, for the standalone SVG and the page.
pub const STYLE: &str = "\
text{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;fill:#222}\
.title{font-size:14px;font-weight:bold}\
.who{font-weight:bold}\
.life{stroke:#888;stroke-width:1.5}\
.seg{stroke:#1f5fa8;stroke-width:1.5}\
.flagged{stroke:#c0392b}\
text.flagged{fill:#c0392b;stroke:none}\
.state{fill:#2e7d32}\
.fold{fill:#666;font-style:italic}\
.frame{fill:#888}\
.time{fill:#888;font-size:10px}";

/// Arrowheads, defined once per document.
pub const DEFS: &str = "<defs>\
<marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"#1f5fa8\"/></marker>\
<marker id=\"head-flagged\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"#c0392b\"/></marker>\
</defs>";

/// The standalone document: every diagram kept (up to `MAX_SVG_BYTES`), written at the end.
pub struct Svg<W: Write> {
    out: W,
    absolute: bool,
    time: TimeShown,
    /// Diagrams as (capture, connection, group, height), their size, and how many were
    /// left out. The height of the document goes first, so they wait for the end; they
    /// are put in index order there.
    groups: Vec<(u32, u64, String, u32)>,
    captures: u32,
    bytes: usize,
    left_out: u64,
    words: &'static Words,
}

impl<W: Write> Svg<W> {
    pub fn new(out: W, view: &View) -> Self {
        Svg {
            out,
            absolute: view.absolute,
            time: view.time,
            words: view.lang.words(),
            groups: Vec::new(),
            captures: 0,
            bytes: 0,
            left_out: 0,
        }
    }

    pub fn writer(&mut self) -> &mut W {
        &mut self.out
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> Picture for Svg<W> {
    fn begin(&mut self, _source: &Source<'_>) -> io::Result<()> {
        self.captures += 1;
        Ok(())
    }

    fn forget(&mut self, conn: u64) -> io::Result<()> {
        let capture = self.captures;
        self.groups.retain(|g| {
            let gone = (g.0, g.1) == (capture, conn);
            if gone {
                self.bytes -= g.2.len();
            }
            !gone
        });
        Ok(())
    }

    fn draw(&mut self, d: &Diagram<'_>) -> io::Result<()> {
        let (group, height) = group(d, self.absolute, self.time, self.words);
        if self.bytes + group.len() > MAX_SVG_BYTES {
            self.left_out += 1;
        } else {
            self.bytes += group.len();
            self.groups
                .push((self.captures, d.heading.conn, group, height));
        }
        Ok(())
    }

    fn end(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        let mut height: u32 = 0;
        for (.., h) in &self.groups {
            height = height.saturating_add(*h);
        }
        // Stable: a connection's parts stay in their order.
        self.groups
            .sort_by_key(|&(capture, conn, ..)| (capture, conn));
        let note = if self.left_out > 0 { 30 } else { 0 };
        writeln!(
            self.out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\
             <style>{STYLE}</style>{DEFS}<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>",
            w = WIDTH,
            h = height.saturating_add(note).max(40),
        )?;
        let mut y: u32 = 0;
        for (.., group, h) in std::mem::take(&mut self.groups) {
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
}

/// One diagram as an SVG group, and its height. Each arrow's frame number and time stand
/// at its left: the diagram's time axis.
pub fn group(d: &Diagram<'_>, absolute: bool, time: TimeShown, w: &Words) -> (String, u32) {
    let mut g = String::new();
    let _ = write!(
        g,
        "<text class=\"title\" x=\"20\" y=\"22\">{}</text>",
        xml(&d.heading.text(w))
    );
    let (client, server) = d
        .heading
        .ends
        .map(|(c, s)| (c.to_string(), s.to_string()))
        .unwrap_or_default();
    let _ = write!(
        g,
        "<text class=\"who\" x=\"{CLIENT_X}\" y=\"50\" text-anchor=\"middle\">{} {}</text>\
         <text class=\"who\" x=\"{SERVER_X}\" y=\"50\" text-anchor=\"middle\">{} {}</text>",
        w.client_end,
        xml(&client),
        w.server_end,
        xml(&server)
    );
    let _ = write!(
        g,
        "<text class=\"time\" x=\"20\" y=\"50\">{} / {}</text>",
        w.drawn.frame,
        time.heading(w).to_lowercase()
    );
    let mut y = TOP;
    let mut before = None;
    for line in &d.lines {
        y += ROW;
        match line {
            Line::Segment {
                segment,
                changed,
                left,
            } => {
                arrow(&mut g, segment, (*changed, *left), y, absolute, w);
                let mut when = String::new();
                time.write(&mut when, segment, before.replace(segment.time));
                let _ = write!(
                    g,
                    "<text class=\"time\" x=\"20\" y=\"{}\">{when}</text>",
                    y + 16
                );
            }
            Line::Fold(fold) => folded(&mut g, fold, y, w),
        }
    }
    let bottom = y + ROW / 2;
    let _ = write!(
        g,
        "<line class=\"life\" x1=\"{CLIENT_X}\" y1=\"58\" x2=\"{CLIENT_X}\" y2=\"{bottom}\"/>\
         <line class=\"life\" x1=\"{SERVER_X}\" y1=\"58\" x2=\"{SERVER_X}\" y2=\"{bottom}\"/>"
    );
    let mut height = bottom + 12;
    if let Some(c) = d.end {
        height += 16;
        let _ = write!(
            g,
            "<text x=\"20\" y=\"{}\">{}</text>",
            bottom + 22,
            xml(story_line(c, w).trim())
        );
    }
    (g, height + 12)
}

/// A segment's arrow, its label and comment, and the states it leads to (`states`: those
/// entered and those left with the time spent in them, the latter as a tooltip).
fn arrow(g: &mut String, s: &SegmentRecord, states: States, y: u32, absolute: bool, w: &Words) {
    let (changed, left) = states;
    // Red for trouble only: a port used again or a window update is no retransmission.
    let flagged = s.analysis.troubling();
    let class = if flagged { "seg flagged" } else { "seg" };
    let head = if flagged { "head-flagged" } else { "head" };
    let (x1, x2) = match s.dir.0 {
        Dir::C2S => (CLIENT_X, SERVER_X),
        Dir::S2C => (SERVER_X, CLIENT_X),
    };
    let _ = write!(
        g,
        "<line class=\"{class}\" x1=\"{x1}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" marker-end=\"url(#{head})\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\
         <text class=\"frame\" x=\"20\" y=\"{}\">{}</text>",
        (CLIENT_X + SERVER_X) / 2,
        y - 5,
        xml(&diagram::label(s, absolute)),
        y + 4,
        s.frame
    );
    let text_class = if flagged { "flagged" } else { "" };
    let _ = write!(
        g,
        "<text class=\"{text_class}\" x=\"{}\" y=\"{}\">{}</text>",
        SERVER_X + 120,
        y + 4,
        xml(&diagram::comment(s, w))
    );
    let mut stays = diagram::stays(&left, false, w);
    for (((x, anchor), state), left) in [(CLIENT_X - 8, "end"), (SERVER_X + 8, "start")]
        .into_iter()
        .zip(changed)
        .zip(left)
    {
        if let Some(state) = state {
            // A tooltip (`<title>`, first child of a group) keeps the text itself the state.
            let (open, close) = match left.and(stays.next()) {
                Some(stay) => (format!("<g><title>{}</title>", xml(&stay)), "</g>"),
                None => (String::new(), ""),
            };
            let _ = write!(
                g,
                "{open}<text class=\"state\" x=\"{x}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>{close}",
                y + 4,
                state.name()
            );
        }
    }
}

type States = ([Option<State>; 2], [Option<(State, f64)>; 2]);

fn folded(g: &mut String, fold: &Fold, y: u32, w: &Words) {
    let _ = write!(
        g,
        "<text class=\"fold\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
        (CLIENT_X + SERVER_X) / 2,
        y,
        xml(&fold.describe(w))
    );
}
