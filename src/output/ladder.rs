//! The exchange as a sequence (ladder) diagram in the terminal (`--format ladder`), the
//! picture TCP textbooks draw: client on the left, server on the right, one arrow per
//! segment, each side's state beside its own line when it changes.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::View;
use super::diagram::{self, Diagram, Line, Picture};
use super::story::story_line;
use crate::track::{Dir, State};

/// Width of the arrow between the two lifelines.
const ARROW: usize = 56;

pub struct Ladder<W: Write> {
    out: W,
    absolute: bool,
    /// Flagged segments in colour (ANSI escapes).
    color: bool,
}

impl<W: Write> Ladder<W> {
    pub fn new(out: W, view: &View) -> Self {
        Ladder {
            out,
            absolute: view.absolute,
            color: view.color,
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
    fn begin(&mut self, label: Option<&str>) -> io::Result<()> {
        if let Some(label) = label {
            writeln!(self.out, "=== {label} ===\n")?;
        }
        Ok(())
    }

    fn draw(&mut self, d: &Diagram<'_>) -> io::Result<()> {
        let mut out = String::new();
        let _ = writeln!(out, "{}", d.heading);
        let _ = writeln!(
            out,
            "{:>6}  {:<12} {:<w$} {:<12}",
            "frame",
            "client",
            "",
            "server",
            w = ARROW + 2
        );
        for line in &d.lines {
            match line {
                Line::Segment {
                    segment: s,
                    changed,
                } => {
                    let [client, server] =
                        changed.map(|st| st.map(State::name).unwrap_or_default());
                    let arrow = arrow(&diagram::label(s, self.absolute), s.dir.0);
                    let comment = diagram::comment(s);
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
        if let Some(c) = d.end {
            let _ = writeln!(out, "{}", story_line(c));
        }
        out.push('\n');
        self.out.write_all(out.as_bytes())
    }

    fn end(&mut self) -> io::Result<()> {
        self.out.flush()
    }
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
