//! Output layer: records → text. One printer per format, generic over the writer.

mod filter;
mod jsonl;
mod ladder;
mod svg;
mod table;

pub use filter::{Filter, RolePick};
pub use jsonl::JsonlPrinter;
pub use ladder::{LadderPrinter, Style};
pub use table::TablePrinter;

use std::io::{self, Write};

use crate::annotate::Record;

/// Text for XML (SVG, HTML, JUnit): markup characters escaped, control characters (not
/// allowed in XML 1.0) as spaces.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// How records are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A table per connection, then the summary table.
    Table,
    /// Only the summary table.
    Summary,
    /// One JSON object per line (SPEC.md).
    Jsonl,
    /// A sequence diagram per connection, in the terminal.
    Ladder,
    /// A Mermaid `sequenceDiagram` per connection.
    Mermaid,
    /// One SVG document with every connection's diagram.
    Svg,
    /// One self-contained HTML page: diagrams and the summary table.
    Html,
}

impl Format {
    /// Whether the output is one document for all captures (written in order, at the end).
    pub fn is_document(self) -> bool {
        matches!(self, Format::Svg | Format::Html)
    }
}

/// What to show of the records, whatever the format.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct View {
    pub filter: Filter,
    /// Raw sequence and acknowledgement numbers in tables (JSON lines carry both).
    pub absolute: bool,
    /// Diagrams draw every segment instead of folding runs of plain data and ACKs.
    pub full: bool,
    /// Terminal output marks Wireshark's analysis flags in colour.
    pub color: bool,
}

pub struct Printer<W: Write> {
    kind: Kind<W>,
    filter: Filter,
}

enum Kind<W: Write> {
    Table(TablePrinter<W>),
    Jsonl(JsonlPrinter<W>),
    Ladder(LadderPrinter<W>),
}

impl<W: Write> Printer<W> {
    pub fn new(format: Format, out: W) -> Self {
        Self::with_view(format, out, View::default())
    }

    pub fn with_view(format: Format, out: W, view: View) -> Self {
        let kind = match format {
            Format::Table => Kind::Table(TablePrinter::new(out, false, view.absolute, view.color)),
            Format::Summary => Kind::Table(TablePrinter::new(out, true, view.absolute, view.color)),
            Format::Jsonl => Kind::Jsonl(JsonlPrinter::new(out)),
            Format::Ladder => Kind::Ladder(LadderPrinter::new(
                out,
                Style::Text,
                view.full,
                view.absolute,
                view.color,
            )),
            Format::Mermaid => Kind::Ladder(LadderPrinter::new(
                out,
                Style::Mermaid,
                view.full,
                view.absolute,
                false,
            )),
            Format::Svg => Kind::Ladder(LadderPrinter::new(
                out,
                Style::Svg,
                view.full,
                view.absolute,
                false,
            )),
            Format::Html => Kind::Ladder(LadderPrinter::new(
                out,
                Style::Html,
                view.full,
                view.absolute,
                false,
            )),
        };
        Printer {
            kind,
            filter: view.filter,
        }
    }

    /// Whether segment records are shown (a summary shows connections only).
    pub fn wants_segments(&self) -> bool {
        match &self.kind {
            Kind::Table(p) => p.wants_segments(),
            Kind::Jsonl(_) | Kind::Ladder(_) => true,
        }
    }

    /// Starts a capture; `label` is set when several captures share the output.
    pub fn begin(&mut self, label: Option<&str>) -> io::Result<()> {
        match &mut self.kind {
            Kind::Table(p) => p.begin(label),
            Kind::Ladder(p) => p.begin(label),
            Kind::Jsonl(p) => {
                p.begin(label);
                Ok(())
            }
        }
    }

    pub fn record(&mut self, record: &Record) -> io::Result<()> {
        if !self.filter.keeps(record) {
            return Ok(());
        }
        match &mut self.kind {
            Kind::Table(p) => p.record(record),
            Kind::Jsonl(p) => p.record(record),
            Kind::Ladder(p) => p.record(record),
        }
    }

    /// Ends a capture: the table printer shows its summary here.
    pub fn end(&mut self) -> io::Result<()> {
        match &mut self.kind {
            Kind::Table(p) => p.end(),
            Kind::Jsonl(p) => p.end(),
            Kind::Ladder(p) => p.end(),
        }
    }

    /// Ends the output after the last capture (closes SVG and HTML documents).
    pub fn finish(&mut self) -> io::Result<()> {
        match &mut self.kind {
            Kind::Ladder(p) => p.finish(),
            Kind::Table(_) | Kind::Jsonl(_) => Ok(()),
        }
    }

    pub fn into_inner(self) -> W {
        match self.kind {
            Kind::Table(p) => p.into_inner(),
            Kind::Jsonl(p) => p.into_inner(),
            Kind::Ladder(p) => p.into_inner(),
        }
    }
}
