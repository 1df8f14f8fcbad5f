//! The model every diagram format draws (the terminal ladder, Mermaid, SVG, the HTML page):
//! a connection's segments as lines between the client's and the server's lifelines, each
//! with the states it leaves where they changed, runs of plain data and ACKs folded into
//! one line, and the connection's record at the end.
//!
//! A run of plain segments (data or ACK, no step, no analysis flag, no state change) of at
//! least `FOLD_MIN` is folded unless `--full` is given, so that long transfers stay
//! readable. A connection is drawn in parts of at most `MAX_LINES` lines, so that memory
//! stays bounded on long connections drawn in full.

use std::collections::HashMap;
use std::fmt::{Display, Write as _};
use std::io;

use crate::annotate::{ConnectionRecord, Record, Role, SegmentRecord};
use crate::track::State;

use super::story::{Heading, Part, short_step};
use super::time::duration;
use super::words::{Words, fill, one_or_many};
use super::{Print, Source};

/// Folded runs are at least this long; shorter runs are drawn in full.
const FOLD_MIN: usize = 4;
/// A connection's lines are drawn in parts of at most this many.
const MAX_LINES: usize = 1_000;

/// One part of a connection's diagram, ready to draw.
pub struct Diagram<'r> {
    /// Its client and server among the rest: from the connection's record, else from its
    /// first segment drawn.
    pub heading: Heading,
    pub lines: Vec<Line>,
    /// The connection's record, when this part ends the connection.
    pub end: Option<&'r ConnectionRecord>,
}

pub enum Line {
    /// A segment, and the states it leaves at the client and the server where they differ
    /// from those shown last, and at each end that changed, the state it left and the seconds
    /// spent in it (when its entry was drawn).
    Segment {
        segment: Box<SegmentRecord>,
        changed: [Option<State>; 2],
        left: [Option<(State, f64)>; 2],
    },
    Fold(Fold),
}

/// Segments folded into one line: per direction, data segments, their bytes, and ACKs.
#[derive(Clone, Debug, Default)]
pub struct Fold {
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

    /// "… frames 12-80: 34 data segments → (2 KB), 34 ACKs ← (--full shows them)"
    pub fn describe(&self, w: &Words) -> String {
        let d = &w.drawn;
        let mut parts = Vec::new();
        for (dir, arrow) in [(0, "→"), (1, "←")] {
            let (data, bytes, acks) = (
                self.data.get(dir).copied().unwrap_or(0),
                self.bytes.get(dir).copied().unwrap_or(0),
                self.acks.get(dir).copied().unwrap_or(0),
            );
            if data > 0 {
                let size = size(bytes);
                let values: [(&str, &dyn Display); 3] =
                    [("n", &data), ("arrow", &arrow), ("size", &size)];
                parts.push(fill(one_or_many(&d.fold_data, data), &values));
            }
            if acks > 0 {
                let values: [(&str, &dyn Display); 2] = [("n", &acks), ("arrow", &arrow)];
                parts.push(fill(one_or_many(&d.fold_acks, acks), &values));
            }
        }
        let values: [(&str, &dyn Display); 3] = [
            ("first", &self.first),
            ("last", &self.last),
            ("parts", &parts.join(w.list_sep)),
        ];
        fill(d.fold, &values)
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 10 * 1024 * 1024 => format!("{} MB", b / (1024 * 1024)),
        b if b >= 10 * 1024 => format!("{} KB", b / 1024),
        b => format!("{b} B"),
    }
}

/// What the arrow carries: flags and numbers, raw ones with `--abs`.
pub fn label(s: &SegmentRecord, absolute: bool) -> String {
    let flags: Vec<&str> = s.flags.0.names().collect();
    let (seq, ack) = if absolute {
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
pub fn comment(s: &SegmentRecord, w: &Words) -> String {
    let mut parts = vec![w.drawn.role(s.role).to_string()];
    if let Some(step) = s.step {
        parts.push(w.drawn.step(step));
    }
    let flags: Vec<&str> = s.analysis.names().collect();
    if !flags.is_empty() {
        parts.push(flags.join(", "));
    }
    parts.join(", ")
}

/// The comment narrowed: "SYN-ACK 2/3" (the arrow's place tells the phase).
pub fn short_comment(s: &SegmentRecord, w: &Words) -> String {
    let mut text = w.drawn.role(s.role).to_string();
    if let Some(step) = s.step {
        text.push(' ');
        text.push_str(short_step(&w.drawn.step(step)));
    }
    let flags: Vec<&str> = s.analysis.names().collect();
    if !flags.is_empty() {
        text.push_str(", ");
        text.push_str(&flags.join(", "));
    }
    text
}

/// "client left SYN_SENT after 237 µs" (`short`: "client 237 µs in SYN_SENT"): the time
/// each end spent in the state it left.
pub fn stays<'a>(
    left: &'a [Option<(State, f64)>; 2],
    short: bool,
    w: &'a Words,
) -> impl Iterator<Item = String> + 'a {
    [w.client_end, w.server_end]
        .into_iter()
        .zip(left)
        .filter_map(move |(end, left)| {
            let (state, secs) = (*left)?;
            let template = if short {
                w.drawn.left_short
            } else {
                w.drawn.left
            };
            let values: [(&str, &dyn Display); 3] = [
                ("end", &end),
                ("state", &state.name()),
                ("duration", &duration(secs)),
            ];
            Some(fill(template, &values))
        })
}

/// What is drawn of one connection so far.
#[derive(Default)]
struct Drawing {
    lines: Vec<Line>,
    /// Plain segments not yet drawn: drawn one by one if the run stays short, else folded.
    run: Vec<SegmentRecord>,
    fold: Option<Fold>,
    /// The states last shown beside each lifeline, and when they were entered.
    shown: [Option<State>; 2],
    since: [Option<f64>; 2],
    /// Parts of this connection already drawn.
    parts: u32,
}

impl Drawing {
    fn add(&mut self, s: &SegmentRecord, full: bool) {
        let plain = matches!(s.role, Role::Data | Role::Ack)
            && s.step.is_none()
            && s.analysis.is_empty()
            && self.last_states() == Some((s.client_state.0, s.server_state.0));
        if full || !plain {
            self.end_run();
            self.push(s.clone());
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

    /// Both states after the last segment of this part taken in (a fold's segments have
    /// those of the line before them).
    fn last_states(&self) -> Option<(State, State)> {
        let seg = self.run.last().or_else(|| {
            self.lines.iter().rev().find_map(|l| match l {
                Line::Segment { segment, .. } => Some(segment.as_ref()),
                Line::Fold(_) => None,
            })
        });
        seg.map(|s| (s.client_state.0, s.server_state.0))
    }

    /// A segment drawn as a line of its own, with the states it shows anew.
    fn push(&mut self, segment: SegmentRecord) {
        let (mut changed, mut left) = ([None; 2], [None; 2]);
        let states = [segment.client_state.0, segment.server_state.0];
        let ends = self.shown.iter_mut().zip(&mut self.since);
        let marks = changed.iter_mut().zip(&mut left);
        for (((shown, since), (change, leaves)), state) in ends.zip(marks).zip(states) {
            if *shown != Some(state) {
                *leaves = shown.zip(*since).map(|(old, t)| (old, segment.time - t));
                *shown = Some(state);
                *since = Some(segment.time);
                *change = Some(state);
            }
        }
        self.lines.push(Line::Segment {
            segment: Box::new(segment),
            changed,
            left,
        });
    }

    fn end_run(&mut self) {
        if let Some(fold) = self.fold.take() {
            self.lines.push(Line::Fold(fold));
        }
        let run = std::mem::take(&mut self.run);
        for r in run {
            self.push(r);
        }
    }

    /// The lines so far, as the next part of connection `conn`.
    fn part<'r>(
        &mut self,
        conn: u64,
        part: Part,
        end: Option<&'r ConnectionRecord>,
    ) -> Diagram<'r> {
        let lines = std::mem::take(&mut self.lines);
        let ends = end.map(|c| (c.client.0, c.server.0)).or_else(|| {
            lines.iter().find_map(|l| match l {
                Line::Segment { segment, .. } => Some(segment.ends()),
                Line::Fold(_) => None,
            })
        });
        let continued = self.parts > 0;
        self.parts += 1;
        Diagram {
            heading: Heading {
                conn,
                ends,
                continued,
                part,
            },
            lines,
            end,
        }
    }
}

/// Sorts records into each connection's diagram and hands over each part once it is
/// complete: at the connection's end, when it reaches `MAX_LINES` lines, and, at the
/// capture's end, the segments that came after their connection was reported.
pub struct Sketcher {
    full: bool,
    open: HashMap<u64, Drawing>,
}

impl Sketcher {
    /// `full`: every segment a line of its own (`--full`).
    pub fn new(full: bool) -> Self {
        Sketcher {
            full,
            open: HashMap::new(),
        }
    }

    /// Takes a record; returns the part of a diagram it completes, if any.
    pub fn record<'r>(&mut self, record: &'r Record) -> Option<Diagram<'r>> {
        match record {
            Record::Segment(s) => {
                let drawing = self.open.entry(s.conn).or_default();
                drawing.add(s, self.full);
                (drawing.lines.len() >= MAX_LINES).then(|| drawing.part(s.conn, Part::Open, None))
            }
            Record::Connection(c) => {
                let mut drawing = self.open.remove(&c.conn).unwrap_or_default();
                drawing.end_run();
                Some(drawing.part(c.conn, Part::Finished, Some(c)))
            }
        }
    }

    /// At the capture's end: the segments that came after their connection was reported,
    /// drawn by connection index, never dropped.
    pub fn late(&mut self) -> Vec<Diagram<'static>> {
        let mut late: Vec<(u64, Drawing)> = self.open.drain().collect();
        late.sort_by_key(|(conn, _)| *conn);
        late.into_iter()
            .filter_map(|(conn, mut drawing)| {
                drawing.end_run();
                (!drawing.lines.is_empty()).then(|| drawing.part(conn, Part::Late, None))
            })
            .collect()
    }
}

/// A diagram format: how it draws one part, and what it writes around the parts.
pub trait Picture {
    /// Every record, before it is drawn (a page tells each connection in words too).
    fn take(&mut self, _record: &Record) {}
    /// Starts a capture.
    fn begin(&mut self, _source: &Source<'_>) -> io::Result<()> {
        Ok(())
    }
    fn draw(&mut self, diagram: &Diagram<'_>) -> io::Result<()>;
    /// Connection `conn` was dropped by the filter after parts of it were drawn.
    fn forget(&mut self, _conn: u64) -> io::Result<()> {
        Ok(())
    }
    /// Ends a capture, after its last diagram.
    fn end(&mut self) -> io::Result<()>;
    /// Ends the output, after the last capture.
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Diagrams in one format: records in, each part drawn once it is complete.
pub struct Diagrams<P> {
    sketch: Sketcher,
    picture: P,
}

impl<P: Picture> Diagrams<P> {
    pub fn new(picture: P, full: bool) -> Self {
        Diagrams {
            sketch: Sketcher::new(full),
            picture,
        }
    }

    pub fn picture(&mut self) -> &mut P {
        &mut self.picture
    }

    pub fn into_picture(self) -> P {
        self.picture
    }
}

impl<P: Picture> Print for Diagrams<P> {
    fn begin(&mut self, source: &Source<'_>) -> io::Result<()> {
        self.picture.begin(source)
    }

    fn record(&mut self, record: &Record) -> io::Result<()> {
        self.picture.take(record);
        match self.sketch.record(record) {
            Some(diagram) => self.picture.draw(&diagram),
            None => Ok(()),
        }
    }

    fn done(&mut self, conn: u64, kept: bool) -> io::Result<()> {
        if !kept {
            self.sketch.open.remove(&conn);
            self.picture.forget(conn)?;
        }
        Ok(())
    }

    fn end(&mut self) -> io::Result<()> {
        for diagram in self.sketch.late() {
            self.picture.draw(&diagram)?;
        }
        self.picture.end()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.picture.finish()
    }
}
