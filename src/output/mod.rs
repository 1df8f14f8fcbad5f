//! Output layer: records → text. One printer per format, generic over the writer: tables
//! and JSON lines; diagrams drawn from one model (`diagram.rs`) as a terminal ladder,
//! Mermaid, SVG or an HTML page; the words every format for people shares (`story.rs`).

mod diagram;
mod filter;
mod html;
mod jsonl;
mod ladder;
mod mermaid;
mod story;
mod svg;
mod table;

pub use filter::{Filter, RolePick};
pub use jsonl::JsonlPrinter;
pub use table::TablePrinter;

use std::io::{self, Write};

use crate::annotate::Record;
use diagram::Diagrams;
use html::Html;
use ladder::Ladder;
use mermaid::Mermaid;
use svg::Svg;

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
    Ladder(Diagrams<Ladder<W>>),
    Mermaid(Diagrams<Mermaid<W>>),
    Svg(Diagrams<Svg<W>>),
    Html(Diagrams<Html<W>>),
}

/// What every printer does with the records of each capture.
pub trait Print {
    /// Starts a capture; `label` is set when several captures share the output.
    fn begin(&mut self, label: Option<&str>) -> io::Result<()>;
    fn record(&mut self, record: &Record) -> io::Result<()>;
    /// Ends a capture: tables show their summary here.
    fn end(&mut self) -> io::Result<()>;
    /// Ends the output after the last capture (closes SVG and HTML documents).
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Printer<W> {
    pub fn new(format: Format, out: W) -> Self {
        Self::with_view(format, out, View::default())
    }

    pub fn with_view(format: Format, out: W, view: View) -> Self {
        let kind = match format {
            Format::Table => Kind::Table(TablePrinter::new(out, &view)),
            Format::Summary => Kind::Table(TablePrinter::summary_only(out, &view)),
            Format::Jsonl => Kind::Jsonl(JsonlPrinter::new(out)),
            Format::Ladder => Kind::Ladder(Diagrams::new(Ladder::new(out, &view), view.full)),
            Format::Mermaid => Kind::Mermaid(Diagrams::new(Mermaid::new(out, &view), view.full)),
            Format::Svg => Kind::Svg(Diagrams::new(Svg::new(out, &view), view.full)),
            Format::Html => Kind::Html(Diagrams::new(Html::new(out, &view), view.full)),
        };
        Printer {
            kind,
            filter: view.filter,
        }
    }

    fn print(&mut self) -> &mut dyn Print {
        match &mut self.kind {
            Kind::Table(p) => p,
            Kind::Jsonl(p) => p,
            Kind::Ladder(p) => p,
            Kind::Mermaid(p) => p,
            Kind::Svg(p) => p,
            Kind::Html(p) => p,
        }
    }

    /// Whether segment records are shown (a summary shows connections only).
    pub fn wants_segments(&self) -> bool {
        match &self.kind {
            Kind::Table(p) => p.wants_segments(),
            Kind::Jsonl(_) | Kind::Ladder(_) | Kind::Mermaid(_) | Kind::Svg(_) | Kind::Html(_) => {
                true
            }
        }
    }

    /// Starts a capture; `label` is set when several captures share the output.
    pub fn begin(&mut self, label: Option<&str>) -> io::Result<()> {
        self.print().begin(label)
    }

    pub fn record(&mut self, record: &Record) -> io::Result<()> {
        if !self.filter.keeps(record) {
            return Ok(());
        }
        self.print().record(record)
    }

    /// Ends a capture: the table printer shows its summary here.
    pub fn end(&mut self) -> io::Result<()> {
        self.print().end()
    }

    /// Ends the output after the last capture (closes SVG and HTML documents).
    pub fn finish(&mut self) -> io::Result<()> {
        self.print().finish()
    }

    pub fn into_inner(self) -> W {
        match self.kind {
            Kind::Table(p) => p.into_inner(),
            Kind::Jsonl(p) => p.into_inner(),
            Kind::Ladder(p) => p.into_picture().into_inner(),
            Kind::Mermaid(p) => p.into_picture().into_inner(),
            Kind::Svg(p) => p.into_picture().into_inner(),
            Kind::Html(p) => p.into_picture().into_inner(),
        }
    }
}
