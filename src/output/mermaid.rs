//! The exchange as Mermaid `sequenceDiagram` text (`--format mermaid`), which GitHub and
//! most documentation tools render.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::diagram::{self, Diagram, Line, Picture};
use super::words::{Words, fill};
use super::{Source, View};
use crate::track::Dir;

pub struct Mermaid<W: Write> {
    out: W,
    absolute: bool,
    words: &'static Words,
}

impl<W: Write> Mermaid<W> {
    pub fn new(out: W, view: &View) -> Self {
        Mermaid {
            out,
            absolute: view.absolute,
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

impl<W: Write> Picture for Mermaid<W> {
    fn begin(&mut self, source: &Source<'_>) -> io::Result<()> {
        if let Some(label) = source.label() {
            writeln!(self.out, "%% {label}")?;
        }
        Ok(())
    }

    fn draw(&mut self, d: &Diagram<'_>) -> io::Result<()> {
        let w = self.words;
        let (client_end, server_end) = (w.client_end, w.server_end);
        let mut out = String::new();
        let _ = writeln!(out, "sequenceDiagram");
        let _ = writeln!(out, "    title {}", text(&d.heading.text(w)));
        if let Some((client, server)) = d.heading.ends {
            let _ = writeln!(
                out,
                "    participant C as {client_end} {}",
                text(&client.to_string())
            );
            let _ = writeln!(
                out,
                "    participant S as {server_end} {}",
                text(&server.to_string())
            );
        } else {
            let _ = writeln!(out, "    participant C as {client_end}");
            let _ = writeln!(out, "    participant S as {server_end}");
        }
        for line in &d.lines {
            match line {
                Line::Segment {
                    segment: s,
                    changed,
                    ..
                } => {
                    let (from, to) = match s.dir.0 {
                        Dir::C2S => ("C", "S"),
                        Dir::S2C => ("S", "C"),
                    };
                    let _ = writeln!(
                        out,
                        "    {from}->>{to}: {} {} ({})",
                        s.frame,
                        text(&diagram::label(s, self.absolute)),
                        text(&diagram::comment(s, w))
                    );
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
                    let _ = writeln!(out, "    Note over C,S: {}", text(&fold.describe(w)));
                }
            }
        }
        if let Some(c) = d.end {
            let _ = writeln!(
                out,
                "    Note over C,S: {}",
                text(&format!(
                    "{}, {}",
                    fill(
                        w.drawn.handshake_kind,
                        &[("kind", &w.drawn.handshakes.of(c.handshake))]
                    ),
                    fill(
                        w.drawn.teardown_kind,
                        &[("kind", &w.drawn.teardowns.of(c.teardown))]
                    ),
                ))
            );
        }
        out.push('\n');
        self.out.write_all(out.as_bytes())
    }

    fn end(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Mermaid message text: `;` ends a statement and `#` starts an entity, so both are
/// written as entity codes.
fn text(text: &str) -> String {
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
