//! Output layer: records → text. One printer per format, generic over the writer: tables
//! and JSON lines; diagrams drawn from one model (`diagram.rs`) as a terminal ladder,
//! Mermaid, SVG or an HTML page; the words every format for people shares (`story.rs`).

mod diagram;
mod explain;
mod filter;
mod html;
mod jsonl;
mod ladder;
mod mermaid;
mod order;
mod overview;
mod parquet;
mod story;
mod svg;
mod table;
mod time;
pub mod words;
mod zeek;

pub use filter::{
    ConnPick, Filter, HostPick, RolePick, conn_range, flag, handshake, side, teardown,
};
pub use jsonl::JsonlPrinter;
pub use order::Tape;
pub use table::TablePrinter;
pub use time::TimeShown;
pub use words::Lang;

use std::collections::HashSet;
use std::io::{self, Write};

use crate::annotate::Record;
use diagram::Diagrams;
use explain::Explain;
use html::Html;
use ladder::Ladder;
use mermaid::Mermaid;
use order::{InOrder, Mode};
use parquet::ParquetPrinter;
use svg::Svg;
use zeek::ZeekPrinter;

/// How records are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A table per connection, then the summary table.
    Table,
    /// Only the summary table.
    Summary,
    /// One JSON object per line (SPEC.md).
    Jsonl,
    /// JSON lines of the connection records only (`--summary`).
    JsonlConnections,
    /// A sequence diagram per connection, in the terminal.
    Ladder,
    /// A Mermaid `sequenceDiagram` per connection.
    Mermaid,
    /// One SVG document with every connection's diagram.
    Svg,
    /// One self-contained HTML page: diagrams and the summary table.
    Html,
    /// The story in words, paragraph by paragraph.
    Explain,
    /// Zeek's conn.log, as its ASCII writer writes it.
    Zeek,
    /// Zeek's conn.log, as its JSON writer writes it.
    ZeekJson,
    /// Parquet files in the folder `View::output` names: connection and segment records.
    Parquet,
    /// Parquet: connection records only (`--summary`).
    ParquetConnections,
}

impl Format {
    /// Whether the output is one document for all captures (written in order, at the end).
    pub fn is_document(self) -> bool {
        matches!(self, Format::Svg | Format::Html)
    }
}

/// The capture a printer's records come from.
#[derive(Clone, Copy, Debug, Default)]
pub struct Source<'a> {
    /// Its path as given, `<stdin>` for the standard input.
    pub path: &'a str,
    /// Its size in bytes, where known.
    pub bytes: Option<u64>,
    /// Several captures share the output: each is headed with its path.
    pub several: bool,
}

impl Source<'_> {
    /// What a capture is headed with, when several share the output.
    pub fn label(&self) -> Option<&str> {
        self.several.then_some(self.path)
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
    /// How tables show a segment's time.
    pub time: TimeShown,
    /// The width tables and ladders are narrowed to (a terminal's); `None`: their natural
    /// width, as in a pipe.
    pub width: Option<usize>,
    /// A live capture: each connection is printed when it finishes, not in index order.
    pub live: bool,
    /// The language of the words for people (`--lang`).
    pub lang: Lang,
    /// Where formats that write files write them (`-o DIR`).
    pub output: Option<std::path::PathBuf>,
    /// Each capture into its own partition of that folder, even alone (`--partition`).
    pub partition: bool,
    /// A core is free for work beside the analysis (one capture at a time on several
    /// cores): a table's summary rows are then kept on a thread of their own.
    pub spare_core: bool,
}

pub struct Printer<W: Write> {
    format: Format,
    kind: Kind<W>,
    filter: Filter,
    /// Whether the filter drops anything: asking an empty one costs a flood's million
    /// records time for nothing.
    filtering: bool,
    /// Whether the filter picks connections by what they turned out to be.
    picking: bool,
    /// Then the connections it kept, so that a segment after its connection's record goes
    /// where the connection went.
    kept: HashSet<u64>,
    /// Records the filter kept in this capture: segments, connections.
    shown: (u64, u64),
}

/// Every printer writes through `InOrder`: formats for people list connections in index
/// order; JSON lines stream as records come (SPEC.md), unless a filter on connections
/// holds each connection until its record.
enum Kind<W: Write> {
    // Boxed: one printer per output, and the table's and the page's are the largest.
    Table(Box<TablePrinter<InOrder<W>>>),
    Jsonl(JsonlPrinter<InOrder<W>>),
    Ladder(Diagrams<Ladder<InOrder<W>>>),
    Mermaid(Diagrams<Mermaid<InOrder<W>>>),
    Svg(Diagrams<Svg<InOrder<W>>>),
    Html(Box<Diagrams<Html<InOrder<W>>>>),
    Explain(Explain<InOrder<W>>),
    Zeek(ZeekPrinter<InOrder<W>>),
    // Writes files; the writer is kept only to be handed back.
    Parquet(Box<ParquetPrinter>, InOrder<W>),
}

/// What every printer does with the records of each capture.
pub trait Print {
    /// Starts a capture; `label` is set when several captures share the output.
    fn begin(&mut self, source: &Source<'_>) -> io::Result<()>;
    fn record(&mut self, record: &Record) -> io::Result<()>;
    /// `record`, which the printer may take, leaving another connection record in a
    /// connection record's place (`Sink::record`): a summary keeps a flood's million
    /// records without a copy each.
    fn take_record(&mut self, record: &mut Record) -> io::Result<()> {
        self.record(record)
    }
    /// Connection `conn` has had its record; `kept`: by the filter (if not, what the
    /// printer holds of it is dropped).
    fn done(&mut self, _conn: u64, _kept: bool) -> io::Result<()> {
        Ok(())
    }
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
        let full = view.full;
        // A filter on what a connection turns out to be holds each one until its record.
        let picking = view.filter.connections.is_set();
        let (people, programs) = match (view.live, picking) {
            (true, true) => (Mode::AsFinished, Mode::AsFinished),
            (true, false) => (Mode::AsFinished, Mode::Stream),
            (false, true) => (Mode::Held, Mode::Held),
            (false, false) => (Mode::Ordered, Mode::Stream),
        };
        let o = |out| InOrder::new(out, people);
        let kind = match format {
            Format::Jsonl => Kind::Jsonl(JsonlPrinter::new(InOrder::new(out, programs), true)),
            Format::JsonlConnections => {
                Kind::Jsonl(JsonlPrinter::new(InOrder::new(out, programs), false))
            }
            Format::Table => Kind::Table(Box::new(TablePrinter::new(o(out), &view))),
            Format::Summary => Kind::Table(Box::new(TablePrinter::summary_only(o(out), &view))),
            Format::Ladder => Kind::Ladder(Diagrams::new(Ladder::new(o(out), &view), full)),
            Format::Mermaid => Kind::Mermaid(Diagrams::new(Mermaid::new(o(out), &view), full)),
            Format::Svg => Kind::Svg(Diagrams::new(Svg::new(o(out), &view), full)),
            Format::Html => Kind::Html(Box::new(Diagrams::new(Html::new(o(out), &view), full))),
            Format::Explain => Kind::Explain(Explain::new(o(out), &view)),
            Format::Zeek | Format::ZeekJson => Kind::Zeek(ZeekPrinter::new(
                InOrder::new(out, programs),
                format == Format::ZeekJson,
            )),
            Format::Parquet | Format::ParquetConnections => {
                let dir = view.output.clone().unwrap_or_default();
                let segments = format == Format::Parquet;
                Kind::Parquet(
                    Box::new(ParquetPrinter::new(&dir, segments, view.partition)),
                    InOrder::new(out, programs),
                )
            }
        };
        Printer {
            format,
            kind,
            filtering: view.filter.is_set(),
            filter: view.filter,
            picking,
            kept: HashSet::new(),
            shown: (0, 0),
        }
    }

    fn print(&mut self) -> &mut dyn Print {
        match &mut self.kind {
            Kind::Table(p) => p.as_mut(),
            Kind::Jsonl(p) => p,
            Kind::Ladder(p) => p,
            Kind::Mermaid(p) => p,
            Kind::Svg(p) => p,
            Kind::Html(p) => p.as_mut(),
            Kind::Explain(p) => p,
            Kind::Zeek(p) => p,
            Kind::Parquet(p, _) => p.as_mut(),
        }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// The writer that orders (or holds) connections.
    fn in_order(&mut self) -> &mut InOrder<W> {
        match &mut self.kind {
            Kind::Table(p) => p.writer(),
            Kind::Jsonl(p) => p.writer(),
            Kind::Ladder(p) => p.picture().writer(),
            Kind::Mermaid(p) => p.picture().writer(),
            Kind::Svg(p) => p.picture().writer(),
            Kind::Html(p) => p.picture().writer(),
            Kind::Explain(p) => p.writer(),
            Kind::Zeek(p) => p.writer(),
            Kind::Parquet(_, out) => out,
        }
    }

    /// Whether connection records need their timelines: JSON lines, Parquet and the
    /// explanations (the HTML page's too) show them; tables, the other diagrams and Zeek's
    /// log do not.
    pub fn wants_timelines(&self) -> bool {
        match &self.kind {
            Kind::Jsonl(_) | Kind::Parquet(..) | Kind::Explain(_) | Kind::Html(_) => true,
            Kind::Table(_) | Kind::Zeek(_) | Kind::Ladder(_) | Kind::Mermaid(_) | Kind::Svg(_) => {
                false
            }
        }
    }

    /// Whether segment records are shown (a summary shows connections only).
    pub fn wants_segments(&self) -> bool {
        match &self.kind {
            Kind::Table(p) => p.wants_segments(),
            Kind::Jsonl(p) => p.wants_segments(),
            Kind::Zeek(_) => false,
            Kind::Parquet(p, _) => p.wants_segments(),
            Kind::Ladder(_)
            | Kind::Mermaid(_)
            | Kind::Svg(_)
            | Kind::Html(_)
            | Kind::Explain(_) => true,
        }
    }

    /// Starts a capture; `label` is set when several captures share the output.
    pub fn begin(&mut self, source: &Source<'_>) -> io::Result<()> {
        self.shown = (0, 0);
        self.print().begin(source)
    }

    /// `record`, which the printer may take (`Print::take_record`).
    pub fn record(&mut self, record: &mut Record) -> io::Result<()> {
        let conn = match record {
            Record::Segment(s) => s.conn,
            Record::Connection(c) => c.conn,
        };
        // What the printer writes now is this connection's (until the next record, or the
        // capture's end, where everything waiting is written first).
        let picking = self.picking;
        let order = self.in_order();
        order.to(Some(conn));
        if picking && order.is_done(conn) && !self.kept.contains(&conn) {
            // A segment after the record of a connection the filter dropped.
            return Ok(());
        }
        let keeps = !self.filtering || self.filter.keeps(record);
        if keeps {
            match record {
                Record::Segment(_) => self.shown.0 += 1,
                Record::Connection(_) => self.shown.1 += 1,
            }
            self.print().take_record(record)?;
        }
        // Every connection is done at its record, whether the filter kept it or not.
        if let Record::Connection(_) = record {
            self.print().done(conn, keeps)?;
            self.in_order().done(conn, keeps)?;
            if picking && keeps {
                self.kept.insert(conn);
            }
        }
        Ok(())
    }

    /// After a capture's end: what a filter that kept nothing of it says, if so.
    pub fn filtered_out(&self) -> Option<&'static str> {
        let (segments, connections) = self.shown;
        if !self.filtering {
            None
        } else if connections == 0 {
            Some("no connection matches the filter")
        } else if !self.filter.roles.is_empty() && segments == 0 && self.wants_segments() {
            Some("no segment matches --role")
        } else {
            None
        }
    }

    /// Ends a capture: what waits is written in order, then the table printer's summary.
    pub fn end(&mut self) -> io::Result<()> {
        self.in_order().release_all()?;
        self.kept.clear();
        self.print().end()
    }

    /// Ends the output after the last capture (closes SVG and HTML documents).
    pub fn finish(&mut self) -> io::Result<()> {
        self.print().finish()
    }

    pub fn into_inner(self) -> W {
        match self.kind {
            Kind::Table(p) => (*p).into_inner().into_inner(),
            Kind::Jsonl(p) => p.into_inner().into_inner(),
            Kind::Ladder(p) => p.into_picture().into_inner().into_inner(),
            Kind::Mermaid(p) => p.into_picture().into_inner().into_inner(),
            Kind::Svg(p) => p.into_picture().into_inner().into_inner(),
            Kind::Html(p) => (*p).into_picture().into_inner().into_inner(),
            Kind::Explain(p) => p.into_inner().into_inner(),
            Kind::Zeek(p) => p.into_inner().into_inner(),
            Kind::Parquet(_, out) => out.into_inner(),
        }
    }
}
