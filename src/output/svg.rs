//! The ladder diagram as SVG: a standalone file a browser opens and docs embed
//! (`--format svg`), and the body of the self-contained page of `--format html`.

use std::fmt::Write as _;

use super::ladder::{Fold, Line};
use crate::annotate::{ConnectionRecord, SegmentRecord};
use crate::track::{Dir, State};

pub const WIDTH: u32 = 1320;
const CLIENT_X: u32 = 200;
const SERVER_X: u32 = 780;
const ROW: u32 = 30;
const TOP: u32 = 76;

pub use super::xml_escape as xml;

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
.frame{fill:#888}";

/// Arrowheads, defined once per document.
pub const DEFS: &str = "<defs>\
<marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"#1f5fa8\"/></marker>\
<marker id=\"head-flagged\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"#c0392b\"/></marker>\
</defs>";

/// One connection's diagram as a group, and its height.
pub fn connection(
    title: &str,
    endpoints: Option<(String, String)>,
    lines: &[Line],
    shown: &mut [Option<State>; 2],
    label: &dyn Fn(&SegmentRecord) -> String,
    comment: &dyn Fn(&SegmentRecord) -> String,
    end: Option<&ConnectionRecord>,
) -> (String, u32) {
    let mut g = String::new();
    let _ = write!(
        g,
        "<text class=\"title\" x=\"20\" y=\"22\">{}</text>",
        xml(title)
    );
    let (client, server) = endpoints.unwrap_or_default();
    let _ = write!(
        g,
        "<text class=\"who\" x=\"{CLIENT_X}\" y=\"50\" text-anchor=\"middle\">client {}</text>\
         <text class=\"who\" x=\"{SERVER_X}\" y=\"50\" text-anchor=\"middle\">server {}</text>",
        xml(&client),
        xml(&server)
    );
    let mut y = TOP;
    for line in lines {
        y += ROW;
        match line {
            Line::Segment(s) => segment(&mut g, s, y, shown, label, comment),
            Line::Fold(fold) => folded(&mut g, fold, y),
        }
    }
    let bottom = y + ROW / 2;
    let _ = write!(
        g,
        "<line class=\"life\" x1=\"{CLIENT_X}\" y1=\"58\" x2=\"{CLIENT_X}\" y2=\"{bottom}\"/>\
         <line class=\"life\" x1=\"{SERVER_X}\" y1=\"58\" x2=\"{SERVER_X}\" y2=\"{bottom}\"/>"
    );
    let mut height = bottom + 12;
    if let Some(c) = end {
        height += 16;
        let _ = write!(
            g,
            "<text x=\"20\" y=\"{}\">{}</text>",
            bottom + 22,
            xml(super::table::story_line(c).trim())
        );
    }
    (g, height + 12)
}

fn segment(
    g: &mut String,
    s: &SegmentRecord,
    y: u32,
    shown: &mut [Option<State>; 2],
    label: &dyn Fn(&SegmentRecord) -> String,
    comment: &dyn Fn(&SegmentRecord) -> String,
) {
    let flagged = !s.analysis.is_empty();
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
        xml(&label(s)),
        y + 4,
        s.frame
    );
    let text_class = if flagged { "flagged" } else { "" };
    let _ = write!(
        g,
        "<text class=\"{text_class}\" x=\"{}\" y=\"{}\">{}</text>",
        SERVER_X + 120,
        y + 4,
        xml(&comment(s))
    );
    let changed = super::ladder::changed_states(s, shown);
    for ((x, anchor), state) in [(CLIENT_X - 8, "end"), (SERVER_X + 8, "start")]
        .into_iter()
        .zip(changed)
    {
        if let Some(state) = state {
            let _ = write!(
                g,
                "<text class=\"state\" x=\"{x}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
                y + 4,
                state.name()
            );
        }
    }
}

fn folded(g: &mut String, fold: &Fold, y: u32) {
    let _ = write!(
        g,
        "<text class=\"fold\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
        (CLIENT_X + SERVER_X) / 2,
        y,
        xml(&fold.describe())
    );
}
