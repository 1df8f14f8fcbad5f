//! Output layer: records → text. One printer per format, generic over the writer.

mod jsonl;
mod table;

pub use jsonl::JsonlPrinter;
pub use table::TablePrinter;

use std::io::{self, Write};

use crate::annotate::Record;

/// How records are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A table per connection, then the summary table.
    Table,
    /// Only the summary table.
    Summary,
    /// One JSON object per line (SPEC.md).
    Jsonl,
}

pub enum Printer<W: Write> {
    Table(TablePrinter<W>),
    Jsonl(JsonlPrinter<W>),
}

impl<W: Write> Printer<W> {
    pub fn new(format: Format, out: W) -> Self {
        match format {
            Format::Table => Printer::Table(TablePrinter::new(out, false)),
            Format::Summary => Printer::Table(TablePrinter::new(out, true)),
            Format::Jsonl => Printer::Jsonl(JsonlPrinter::new(out)),
        }
    }

    /// Whether segment records are shown (a summary shows connections only).
    pub fn wants_segments(&self) -> bool {
        match self {
            Printer::Table(p) => p.wants_segments(),
            Printer::Jsonl(_) => true,
        }
    }

    /// Starts a capture; `label` is set when several captures share the output.
    pub fn begin(&mut self, label: Option<&str>) -> io::Result<()> {
        match self {
            Printer::Table(p) => p.begin(label),
            Printer::Jsonl(p) => {
                p.begin(label);
                Ok(())
            }
        }
    }

    pub fn record(&mut self, record: &Record) -> io::Result<()> {
        match self {
            Printer::Table(p) => p.record(record),
            Printer::Jsonl(p) => p.record(record),
        }
    }

    /// Ends a capture: the table printer shows its summary here.
    pub fn end(&mut self) -> io::Result<()> {
        match self {
            Printer::Table(p) => p.end(),
            Printer::Jsonl(p) => p.end(),
        }
    }

    pub fn into_inner(self) -> W {
        match self {
            Printer::Table(p) => p.into_inner(),
            Printer::Jsonl(p) => p.into_inner(),
        }
    }
}
