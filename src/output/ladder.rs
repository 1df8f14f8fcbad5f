//! The exchange as a sequence (ladder) diagram in the terminal (`--format ladder`), the
//! picture TCP textbooks draw: client on the left, server on the right, one arrow per
//! segment, each side's state beside its own line when it changes.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::diagram::{self, Diagram, Line, Picture};
use super::story::{columns, story_line, wrap};
use super::words::Words;
use super::{Source, View};
use crate::track::{Dir, State};

/// Width of the arrow between the two lifelines.
const ARROW: usize = 56;

pub struct Ladder<W: Write> {
    out: W,
    absolute: bool,
    /// Flagged segments in colour (ANSI escapes).
    color: bool,
    /// The terminal's width, which diagrams are narrowed to.
    width: Option<usize>,
    words: &'static Words,
}

impl<W: Write> Ladder<W> {
    pub fn new(out: W, view: &View) -> Self {
        Ladder {
            out,
            absolute: view.absolute,
            color: view.color,
            width: view.width,
            words: view.lang.words(),
        }
    }

    pub fn writer(&mut self) -> &mut W {
        &mut self.out
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> Picture for Ladder<W> {
    fn begin(&mut self, source: &Source<'_>) -> io::Result<()> {
        if let Some(label) = source.label() {
            writeln!(self.out, "=== {label} ===\n")?;
        }
        Ok(())
    }

    fn draw(&mut self, d: &Diagram<'_>) -> io::Result<()> {
        let w = self.words;
        let rows: Vec<Row> = d
            .lines
            .iter()
            .map(|line| match line {
                Line::Segment {
                    segment,
                    changed,
                    left,
                } => Row::Segment {
                    frame: segment.frame,
                    states: changed.map(|st| st.map(State::name).unwrap_or_default()),
                    label: diagram::label(segment, self.absolute),
                    comment: with_stays(diagram::comment(segment, w), left, false, w),
                    short: with_stays(diagram::short_comment(segment, w), left, true, w),
                    dir: segment.dir.0,
                    flagged: segment.analysis.troubling(),
                },
                Line::Fold(fold) => Row::Fold(fold.describe(w)),
            })
            .collect();
        let shape = Shape::fitting(&rows, self.width, w);
        let mut out = String::new();
        let _ = writeln!(out, "{}", wrap(&d.heading.text(w), self.width, w));
        let _ = writeln!(
            out,
            "{}{:g$}{} {:a$} {}",
            padded(w.drawn.frame, shape.frame, true),
            "",
            padded(w.client_end, shape.states[0], false),
            "",
            padded(w.server_end, shape.states[1], false),
            g = shape.gap,
            a = shape.arrow + 2
        );
        for row in &rows {
            match row {
                Row::Segment {
                    frame,
                    states: [client, server],
                    label,
                    comment,
                    short,
                    dir,
                    flagged,
                } => {
                    let arrow = arrow(label, *dir, shape.arrow);
                    let comment = if shape.short { short } else { comment };
                    let room = self.width.map(|w| w.saturating_sub(shape.comment_column()));
                    let paint = |text: &str| {
                        if self.color && *flagged {
                            red(text)
                        } else {
                            text.to_string()
                        }
                    };
                    let (beside, below) = split(comment, room, shape.arrow.saturating_sub(1));
                    let _ = writeln!(
                        out,
                        "{frame:>f$}{:g$}{client:<c$}│{}│ {server:<s$}{:g$}{}",
                        "",
                        paint(&arrow),
                        "",
                        paint(&beside),
                        f = shape.frame,
                        g = shape.gap,
                        c = shape.states[0],
                        s = shape.states[1],
                    );
                    // What did not fit beside the arrow goes under it, between the lifelines.
                    for line in below {
                        let _ = writeln!(
                            out,
                            "{:left$}│ {}{:fill$}│",
                            "",
                            paint(&line),
                            "",
                            left = shape.lifeline(),
                            fill = shape.arrow.saturating_sub(columns(&line)),
                        );
                    }
                }
                Row::Fold(describe) => {
                    let left = shape.lifeline();
                    let _ = writeln!(out, "{:left$}│{:^w$}│", "", "⋮", w = shape.arrow);
                    let text = format!("{:left$}  {describe}", "");
                    let _ = writeln!(out, "{}", wrap(&text, self.width, w));
                }
            }
        }
        if let Some(c) = d.end {
            let _ = writeln!(out, "{}", wrap(&story_line(c, w), self.width, w));
        }
        out.push('\n');
        self.out.write_all(out.as_bytes())
    }

    fn end(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The comment, then the time each end spent in the state it left: the ladder's states
/// say when each end moved, these how long it stayed.
fn with_stays(
    mut comment: String,
    left: &[Option<(State, f64)>; 2],
    short: bool,
    w: &Words,
) -> String {
    for stay in diagram::stays(left, short, w) {
        comment.push_str(", ");
        comment.push_str(&stay);
    }
    comment
}

/// `text` padded with spaces to `width` columns, on the left if `right` (aligned right).
fn padded(text: &str, width: usize, right: bool) -> String {
    let fill = " ".repeat(width.saturating_sub(columns(text)));
    if right {
        format!("{fill}{text}")
    } else {
        format!("{text}{fill}")
    }
}

fn red(text: &str) -> String {
    format!("\x1b[1;31m{text}\x1b[0m")
}

/// `comment` beside the arrow as far as it fits in `room` (all of it when nothing is
/// narrowed); the rest broken after its commas into lines of at most `corridor` columns,
/// to go under the arrow.
fn split(comment: &str, room: Option<usize>, corridor: usize) -> (String, Vec<String>) {
    let Some(room) = room.filter(|&room| columns(comment) > room) else {
        return (comment.to_string(), Vec::new());
    };
    let mut pieces = comment.split(", ").peekable();
    let mut beside = String::new();
    while let Some(piece) = pieces.next_if(|p| {
        let sep = if beside.is_empty() { 0 } else { 2 };
        columns(&beside) + sep + columns(p) <= room
    }) {
        if !beside.is_empty() {
            beside.push_str(", ");
        }
        beside.push_str(piece);
    }
    let mut below: Vec<String> = Vec::new();
    for piece in pieces {
        match below.last_mut() {
            Some(line) if columns(line) + 2 + columns(piece) <= corridor => {
                line.push_str(", ");
                line.push_str(piece);
            }
            _ => below.push(piece.to_string()),
        }
    }
    (beside, below)
}

/// One line of a diagram, as text.
enum Row {
    Segment {
        frame: u64,
        /// The client's and the server's state, where it changed.
        states: [&'static str; 2],
        label: String,
        comment: String,
        short: String,
        dir: Dir,
        flagged: bool,
    },
    Fold(String),
}

/// The columns of a diagram: as wide as always in a pipe; on a terminal narrowed until the
/// lines fit, first the arrows to the longest label, then the frame and state columns to
/// what they hold and the comments to the role and step's numbers.
struct Shape {
    frame: usize,
    /// Spaces after the frame number, and before the comment.
    gap: usize,
    states: [usize; 2],
    arrow: usize,
    short: bool,
}

impl Shape {
    /// Where the client's lifeline stands.
    fn lifeline(&self) -> usize {
        self.frame + self.gap + self.states[0]
    }

    /// Where a line's comment starts.
    fn comment_column(&self) -> usize {
        self.lifeline() + self.arrow + 4 + self.states[1] + self.gap
    }

    const WIDE: Shape = Shape {
        frame: 6,
        gap: 2,
        states: [12, 12],
        arrow: ARROW,
        short: false,
    };

    fn fitting(rows: &[Row], width: Option<usize>, w: &Words) -> Shape {
        let Some(width) = width else {
            return Shape::WIDE;
        };
        let mut widest = (0, 0, 0, [0, 0]);
        for row in rows {
            if let Row::Segment {
                states,
                label,
                comment,
                short,
                ..
            } = row
            {
                let (label_w, comment_w, short_w, state_w) = &mut widest;
                *label_w = (*label_w).max(columns(label));
                *comment_w = (*comment_w).max(columns(comment));
                // Narrowed, a comment's analysis flags and stays may go on lines of their
                // own, under the arrow.
                let mut pieces = short.split(", ");
                let role = pieces.next().unwrap_or_default();
                *short_w = (*short_w).max(columns(role));
                let below = pieces.map(|p| columns(p) + 1).max().unwrap_or(0);
                *label_w = (*label_w).max(below.saturating_sub(4));
                for (w, state) in state_w.iter_mut().zip(states) {
                    *w = (*w).max(state.len());
                }
            }
        }
        let (label, comment, short, states) = widest;
        let line = |s: &Shape, comment: usize| s.comment_column() + comment;
        // An arrow holds its label and at least four strokes around it.
        let shortest = label + 4;
        let mut shape = Shape::WIDE;
        let room = width.saturating_sub(line(
            &Shape {
                arrow: 0,
                ..Shape::WIDE
            },
            comment,
        ));
        shape.arrow = room.min(ARROW).max(shortest);
        if line(&shape, comment) <= width {
            return shape;
        }
        let frames = rows.iter().filter_map(|r| match r {
            Row::Segment { frame, .. } => Some(frame.checked_ilog10().unwrap_or(0) as usize + 1),
            Row::Fold(_) => None,
        });
        shape.frame = frames.fold(columns(w.drawn.frame), usize::max);
        // A space between the client's state and its lifeline.
        let [client, server] = states;
        shape.states = [
            client.max(columns(w.client_end)) + 1,
            server.max(columns(w.server_end)),
        ];
        shape.gap = 1;
        shape.short = true;
        let room = width.saturating_sub(line(&Shape { arrow: 0, ..shape }, short));
        shape.arrow = room.min(ARROW).max(shortest);
        shape
    }
}

/// `──label──▶` or `◀──label──`, `span` columns wide.
fn arrow(label: &str, dir: Dir, span: usize) -> String {
    let width = columns(label) + 4;
    let fill = span.saturating_sub(width);
    match dir {
        Dir::C2S => format!("─ {label} {}▶", "─".repeat(fill + 1)),
        Dir::S2C => format!("◀{} {label} ─", "─".repeat(fill + 1)),
    }
}
