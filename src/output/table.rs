use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use comfy_table::{
    Attribute, Cell, CellAlignment, Color, ContentArrangement, LineStyle, Table, TableStyle,
};

use super::order::{InOrder, MEMORY_LIMIT, Mode, Tape};
use super::overview::Overview;
use super::story::{Heading, Part, ZeekKey, closer, story_line, wrap, zeek};
use super::{Print, Source, TimeShown, View};
use crate::annotate::{ConnectionRecord, Record, SegmentRecord};
use crate::decode::Addr;
use crate::track::Dir;

const SUMMARY_HEADER: [&str; 9] = [
    "Conn",
    "Client",
    "Server",
    "Pkts",
    "Bytes",
    "Handshake",
    "Teardown",
    "Final states",
    "Zeek",
];

/// In a summary row kept for the end: between cells, and between notes.
const CELL: char = '\t';
const NOTE: char = '\u{1f}';

/// A rule under the header and around the table, none between rows: easy to scan.
const STYLE: TableStyle = TableStyle::new()
    .top_border(LineStyle::none().fill('─').junction('─'))
    .header_separator(LineStyle::none().fill('─').junction('─'))
    .bottom_border(LineStyle::none().fill('─').junction('─'));

/// Columns take their natural width: a wrapped cell ("ESTABLI/SHED") is harder to read
/// than a long line, which a terminal or pager wraps or scrolls anyway.
fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(STYLE)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
    table
}

/// Rows of a connection not yet printed, as cells (smaller than the records, and written
/// once), and how many tables of it were.
struct Open {
    rows: Grid,
    /// Client and server, from its first segment.
    ends: (Addr, Addr),
    tables: u32,
    /// The time of the last row, for `--time delta`.
    last: Option<f64>,
}

impl Open {
    fn new(ends: (Addr, Addr)) -> Self {
        Open {
            // Grown as rows come: most connections of a big capture are short.
            rows: Grid::new(SEGMENT_COLUMNS, 1),
            ends,
            tables: 0,
            last: None,
        }
    }
}

/// A segment table's columns, the analysis last (shown only if a row has one).
const SEGMENT_COLUMNS: usize = 12;

/// A long connection's rows are printed in tables of at most this many, so that memory
/// stays bounded on a long transfer.
const SEGMENT_ROWS: usize = 1_000;

/// Tables for people: each connection's segments once it is finished, then a summary.
/// Holds the segments of unfinished connections and one summary row per connection.
pub struct TablePrinter<W: Write> {
    out: W,
    summary_only: bool,
    /// Raw sequence and acknowledgement numbers instead of relative ones.
    absolute: bool,
    /// Analysis flags in colour (ANSI escapes).
    color: bool,
    time: TimeShown,
    /// The terminal's width, which tables are narrowed to; `None`: their natural width.
    width: Option<usize>,
    open: HashMap<u64, Open>,
    /// The summary's rows, one line each (cells, then notes), put in index order and kept
    /// for the capture's end: on a tape, which moves to a file when it grows.
    rows: InOrder<Tape>,
    widths: [usize; 9],
    /// The widest of Zeek's `conn_state` codes, for a narrowed summary.
    zeek_state: usize,
    overview: Overview,
    zeek_key: ZeekKey,
}

impl<W: Write> TablePrinter<W> {
    /// Each connection's segments, then the summary.
    pub fn new(out: W, view: &View) -> Self {
        TablePrinter {
            out,
            summary_only: false,
            absolute: view.absolute,
            color: view.color,
            time: view.time,
            width: view.width,
            open: HashMap::new(),
            rows: InOrder::new(Tape::new(MEMORY_LIMIT), Mode::Ordered),
            widths: SUMMARY_HEADER.map(str::len),
            zeek_state: 0,
            overview: Overview::default(),
            zeek_key: ZeekKey::default(),
        }
    }

    /// The summary alone.
    pub fn summary_only(out: W, view: &View) -> Self {
        TablePrinter {
            summary_only: true,
            ..Self::new(out, view)
        }
    }

    pub fn wants_segments(&self) -> bool {
        !self.summary_only
    }

    /// A heading, then a table of a connection's rows.
    fn segments(&mut self, heading: &Heading, grid: &Grid) -> io::Result<()> {
        writeln!(self.out, "{}", wrap(&heading.to_string(), self.width))?;
        let mut header = vec![
            "Frame",
            self.time.heading(),
            "Dir",
            "Flags",
            "Role",
            "Step",
            "Seq",
            "Ack",
            "Len",
            "Client state",
            "Server state",
        ];
        // Wireshark's analysis flags get a column only where a segment has one.
        if grid.widths.get(ANALYSIS).is_some_and(|w| *w > 0) {
            header.push("Analysis");
        }
        let table = match self.width {
            Some(width) => {
                let (layout, fit) = Layout::fitting(&header, grid, width, self.color);
                layout.table(&header, grid, |i, text| match i {
                    STEP if fit.level >= 2 => short_step(text),
                    _ => text,
                })
            }
            None if self.color => format!("{}\n", coloured(&header, grid)),
            None => Layout::of(&header, grid, &SEGMENT_RIGHT).table(&header, grid, |_, t| t),
        };
        self.out.write_all(table.as_bytes())
    }

    /// Keeps the connection's summary row for the end.
    fn keep_row(&mut self, c: &ConnectionRecord) -> io::Result<()> {
        self.overview.add(c);
        self.zeek_key.add(c);
        self.zeek_state = self.zeek_state.max(c.conn_state.map_or(0, str::len));
        let cells = summary_row(c);
        for (w, cell) in self.widths.iter_mut().zip(&cells) {
            *w = (*w).max(cell.len());
        }
        let mut line = cells.join(&CELL.to_string());
        line.push(CELL);
        for (i, note) in c.notes.iter().enumerate() {
            if i > 0 {
                line.push(NOTE);
            }
            line.push_str(note);
        }
        line.push('\n');
        self.rows.to(Some(c.conn));
        self.rows.write_all(line.as_bytes())?;
        self.rows.to(None);
        Ok(())
    }

    /// The overview, then one summary table of every connection in index order, then the
    /// notes.
    fn summary(&mut self) -> io::Result<()> {
        self.rows.release_all()?;
        let n = self.overview.connections();
        let overview = self.overview.to_string();
        write!(self.out, "{}", wrap(&overview, self.width))?;
        self.overview = Overview::default();
        let fit = match self.width {
            Some(width) => Fit::first(
                width,
                &Fit::levels(Fit::SUMMARY_LEVELS, false).collect::<Vec<_>>(),
                |fit| {
                    fit.table_width(
                        fit.summary_columns(&self.widths, self.zeek_state)
                            .iter()
                            .map(|c| c.1),
                    )
                },
            ),
            None => Fit::WIDE,
        };
        let columns = fit.summary_columns(&self.widths, self.zeek_state);
        writeln!(
            self.out,
            "Summary: {n} connection{} ({}: client→server/server→client)",
            if n == 1 { "" } else { "s" },
            if fit.level >= 4 {
                "Bytes"
            } else {
                "Pkts and Bytes"
            }
        )?;
        let layout = Layout::new(columns.iter().map(|c| c.1).collect(), &[], fit);
        self.widths = SUMMARY_HEADER.map(str::len);
        // The cells of `columns`, Zeek's code as the fit has it.
        let pick = |cells: &[&'_ str]| -> Vec<String> {
            columns
                .iter()
                .map(|&(i, _)| {
                    let cell = cells.get(i).copied().unwrap_or_default();
                    match i {
                        ZEEK if fit.level >= 2 => cell.split(' ').next().unwrap_or_default(),
                        _ => cell,
                    }
                    .to_string()
                })
                .collect()
        };
        let line = |cells: &[&str]| layout.line(pick(cells).iter().map(String::as_str));
        writeln!(self.out, "{}", layout.rule)?;
        writeln!(self.out, "{}", line(&SUMMARY_HEADER))?;
        writeln!(self.out, "{}", layout.rule)?;
        let mut notes = Tape::new(MEMORY_LIMIT);
        for row in io::BufRead::lines(self.rows.get_mut().rewind()?) {
            let row = row?;
            let (cells, row_notes) = row.rsplit_once(CELL).unwrap_or((&row, ""));
            let cells: Vec<&str> = cells.split(CELL).collect();
            writeln!(self.out, "{}", line(&cells))?;
            let conn = cells.first().copied().unwrap_or_default();
            for note in row_notes.split(NOTE).filter(|n| !n.is_empty()) {
                let note = format!("  conn {conn}: {note}");
                writeln!(notes, "{}", wrap(&note, self.width))?;
            }
        }
        writeln!(self.out, "{}", layout.rule)?;
        if let Some(key) = std::mem::take(&mut self.zeek_key).line(fit.level < 2) {
            writeln!(self.out, "{}", wrap(&key, self.width))?;
        }
        io::copy(&mut notes.rewind()?, &mut self.out)?;
        Ok(())
    }

    pub fn writer(&mut self) -> &mut W {
        &mut self.out
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> Print for TablePrinter<W> {
    fn begin(&mut self, source: &Source<'_>) -> io::Result<()> {
        let label = source.label();
        if let Some(label) = label {
            writeln!(self.out, "=== {label} ===\n")?;
        }
        Ok(())
    }

    fn record(&mut self, record: &Record) -> io::Result<()> {
        match record {
            Record::Segment(s) if !self.summary_only => {
                let open = self
                    .open
                    .entry(s.conn)
                    .or_insert_with(|| Open::new(s.ends()));
                row(
                    &mut open.rows,
                    s,
                    open.last.replace(s.time),
                    self.time,
                    self.absolute,
                );
                if open.rows.rows >= SEGMENT_ROWS {
                    let heading = Heading {
                        conn: s.conn,
                        ends: Some(open.ends),
                        continued: open.tables > 0,
                        part: Part::Open,
                    };
                    open.tables += 1;
                    let rows =
                        std::mem::replace(&mut open.rows, Grid::new(SEGMENT_COLUMNS, SEGMENT_ROWS));
                    self.segments(&heading, &rows)?;
                }
            }
            Record::Segment(_) => {}
            Record::Connection(c) => {
                let open = self.open.remove(&c.conn);
                if !self.summary_only {
                    let heading = Heading {
                        conn: c.conn,
                        ends: Some((c.client.0, c.server.0)),
                        continued: open.as_ref().is_some_and(|o| o.tables > 0),
                        part: Part::Finished,
                    };
                    let empty = Grid::new(SEGMENT_COLUMNS, 0);
                    self.segments(&heading, open.as_ref().map_or(&empty, |o| &o.rows))?;
                    writeln!(self.out, "{}\n", wrap(&story_line(c), self.width))?;
                }
                self.keep_row(c)?;
            }
        }
        Ok(())
    }

    fn done(&mut self, conn: u64, kept: bool) -> io::Result<()> {
        if !kept {
            self.open.remove(&conn);
        }
        self.rows.done(conn, kept)
    }

    fn end(&mut self) -> io::Result<()> {
        // Segments that came after their connection was reported (a retransmitted final
        // ACK, a second copy of one): shown, never dropped.
        let mut late: Vec<(u64, Open)> = self.open.drain().collect();
        late.sort_by_key(|(conn, _)| *conn);
        for (conn, open) in late {
            if open.rows.rows == 0 {
                continue;
            }
            let heading = Heading {
                conn,
                ends: Some(open.ends),
                continued: open.tables > 0,
                part: Part::Late,
            };
            self.segments(&heading, &open.rows)?;
            writeln!(self.out)?;
        }
        self.summary()?;
        self.out.flush()
    }
}

/// Appends segment `s` to its connection's rows; `before`: the time of the connection's
/// segment before it.
fn row(rows: &mut Grid, s: &SegmentRecord, before: Option<f64>, time: TimeShown, absolute: bool) {
    let mut digits = itoa::Buffer::new();
    rows.ascii_cell(digits.format(s.frame));
    time.write(&mut rows.text, s, before);
    rows.end_ascii_cell();
    rows.cell(match s.dir.0 {
        Dir::C2S => "→",
        Dir::S2C => "←",
    });
    rows.text.push('[');
    for (i, name) in s.flags.0.names().enumerate() {
        if i > 0 {
            rows.text.push_str(", ");
        }
        rows.text.push_str(name);
    }
    rows.ascii_cell("]");
    rows.ascii_cell(s.role.label());
    if let Some(step) = s.step {
        let _ = write!(rows.text, "{step}");
    }
    rows.end_ascii_cell();
    rows.ascii_cell(digits.format(if absolute { s.abs_seq } else { s.seq }));
    match if absolute { s.abs_ack } else { s.ack } {
        Some(ack) => rows.ascii_cell(digits.format(ack)),
        None => rows.end_ascii_cell(),
    }
    rows.ascii_cell(digits.format(s.len));
    rows.ascii_cell(s.client_state.0.name());
    rows.ascii_cell(s.server_state.0.name());
    if !s.analysis.is_empty() {
        write_analysis(&mut rows.text, s);
        if !s.analysis.troubling() {
            rows.harmless.push(rows.rows);
        }
    }
    rows.end_ascii_cell();
}

/// A summary row's cells.
fn summary_row(c: &ConnectionRecord) -> [String; 9] {
    let teardown = match c.closed_by {
        Some(_) => format!("{} ({})", c.teardown.name(), closer(c)),
        None => c.teardown.name().to_string(),
    };
    [
        c.conn.to_string(),
        c.client.0.to_string(),
        c.server.0.to_string(),
        format!("{}/{}", c.packets.c2s, c.packets.s2c),
        format!("{}/{}", c.bytes.c2s, c.bytes.s2c),
        c.handshake.name().to_string(),
        teardown,
        format!("{}/{}", c.client_state.0.name(), c.server_state.0.name()),
        zeek(c),
    ]
}

/// The columns of a segment table aligned right: frame, time, and the three numbers.
const SEGMENT_RIGHT: [usize; 5] = [0, 1, 6, 7, 8];

/// Columns of the segment table and of the summary that a narrowed table changes.
const FLAGS: usize = 3;
const ROLE: usize = 4;
const STEP: usize = 5;
const ANALYSIS: usize = 11;
const PKTS: usize = 3;
const FINAL_STATES: usize = 7;
const ZEEK: usize = 8;

/// A segment table through comfy-table, its analysis flags in colour (a terminal's output,
/// which is small).
fn coloured(header: &[&str], grid: &Grid) -> Table {
    let mut table = table(header);
    for (r, row) in grid.rows().enumerate() {
        let cells = row.take(header.len()).enumerate().map(|(i, (text, _))| {
            let cell = Cell::new(text);
            if i == ANALYSIS && !text.is_empty() && grid.troubling(r) {
                cell.fg(Color::Red).add_attribute(Attribute::Bold)
            } else {
                cell
            }
        });
        table.add_row(cells.collect::<Vec<_>>());
    }
    table.enforce_styling();
    for col in SEGMENT_RIGHT {
        if let Some(column) = table.column_mut(col) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 1));
    }
    table
}

/// "handshake 2/3" as "2/3": the role beside it and the row's place tell the phase.
fn short_step(step: &str) -> &str {
    step.rsplit(' ').next().unwrap_or(step)
}

/// How far a table is narrowed to fit a terminal: each level keeps the one before.
/// Segment tables: 1 drops the flags (the role names them), 2 shortens the steps, 3 puts
/// one space between columns; past that, the analysis goes on a line under its row. The
/// summary: 1 drops the final states (the teardown and the story line tell them), 2 keeps
/// Zeek's `conn_state` without its history, 3 as above.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fit {
    level: u8,
    /// The analysis under its row.
    below: bool,
}

impl Fit {
    const WIDE: Fit = Fit {
        level: 0,
        below: false,
    };
    /// A segment table's levels, and the summary's, which has one more: 4 drops the
    /// packet counts (the bytes stay).
    const LEVELS: u8 = 3;
    const SUMMARY_LEVELS: u8 = 4;

    fn tight(self) -> bool {
        self.level >= 3
    }

    /// The first of `fits` that is at most `width` wide, or the last.
    fn first(width: usize, fits: &[Fit], measure: impl Fn(Fit) -> usize) -> Fit {
        fits.iter()
            .copied()
            .find(|&fit| measure(fit) <= width)
            .or(fits.last().copied())
            .unwrap_or(Fit::WIDE)
    }

    fn levels(last: u8, below: bool) -> impl Iterator<Item = Fit> {
        (0..=last).map(move |level| Fit { level, below })
    }

    /// The width of a table whose columns are `widths` wide.
    fn table_width(self, widths: impl Iterator<Item = usize>) -> usize {
        let (sum, n) = widths.fold((0, 0usize), |(sum, n), w| (sum + w, n + 1));
        if self.tight() {
            sum + n.saturating_sub(1)
        } else {
            sum + (2 * n).saturating_sub(1)
        }
    }

    /// A segment table's columns shown in each row, each with its width.
    fn segment_columns(
        self,
        widths: &[usize],
        short_steps: usize,
    ) -> impl Iterator<Item = (usize, usize)> {
        widths
            .iter()
            .copied()
            .enumerate()
            .filter_map(move |(i, w)| match i {
                FLAGS if self.level >= 1 => None,
                STEP if self.level >= 2 => Some((i, short_steps)),
                ANALYSIS if self.below => None,
                _ => Some((i, w)),
            })
    }

    /// The summary's columns shown, each with its width; `zeek_state`: the widest
    /// `conn_state` in the table.
    fn summary_columns(self, widths: &[usize; 9], zeek_state: usize) -> Vec<(usize, usize)> {
        widths
            .iter()
            .copied()
            .enumerate()
            .filter(|&(i, _)| {
                !(self.level >= 1 && i == FINAL_STATES || self.level >= 4 && i == PKTS)
            })
            .map(|(i, w)| match i {
                ZEEK if self.level >= 2 => (i, "Zeek".len().max(zeek_state)),
                _ => (i, w),
            })
            .collect()
    }
}

/// A table laid out exactly as comfy-table lays it out without a width limit (`table`, one
/// space of padding right of each cell), by hand: comfy-table's layout costs more than all
/// the rest of a table, and needs every row at once. Cells are ASCII but for the arrows,
/// one column each, so characters are columns. Narrowed (`Fit`), it shows some columns,
/// without padding when tight, one of them on a line under its row.
struct Layout {
    /// The grid's columns shown in a row, in order, and their widths.
    columns: Vec<usize>,
    widths: Vec<usize>,
    right: Vec<bool>,
    tight: bool,
    /// The column shown under its row, from where that line starts.
    below: Option<(usize, usize)>,
    /// The grid's column painted red (ANSI escapes).
    red: Option<usize>,
    /// The columns shown are the grid's first ones, in order.
    prefix: bool,
    rule: String,
}

impl Layout {
    /// A layout of `widths.len()` columns.
    fn new(widths: Vec<usize>, right_aligned: &[usize], fit: Fit) -> Self {
        Layout::of_columns(widths.into_iter().enumerate(), right_aligned, fit)
    }

    fn of_columns(
        columns: impl Iterator<Item = (usize, usize)>,
        right_aligned: &[usize],
        fit: Fit,
    ) -> Self {
        let (columns, widths): (Vec<usize>, Vec<usize>) = columns.unzip();
        let prefix = columns.iter().enumerate().all(|(i, c)| i == *c);
        // Each column has one space of padding, and a separator stands between columns.
        let natural = fit.table_width(widths.iter().copied());
        Layout {
            right: columns.iter().map(|i| right_aligned.contains(i)).collect(),
            columns,
            widths,
            tight: fit.tight(),
            below: None,
            red: None,
            prefix,
            rule: "─".repeat(natural),
        }
    }

    /// Each column's width for `header` and `grid`.
    fn natural(header: &[&str], grid: &Grid) -> Vec<usize> {
        header
            .iter()
            .zip(&grid.widths)
            .map(|(h, w)| h.chars().count().max(*w))
            .collect()
    }

    /// The layout that fits `header` and `grid` at their natural width.
    fn of(header: &[&str], grid: &Grid, right_aligned: &[usize]) -> Self {
        Layout::new(Layout::natural(header, grid), right_aligned, Fit::WIDE)
    }

    /// The layout of a segment table narrowed to fit `width`, and how it was narrowed.
    fn fitting(header: &[&str], grid: &Grid, width: usize, color: bool) -> (Self, Fit) {
        let widths = Layout::natural(header, grid);
        let short_steps = grid
            .rows()
            .filter_map(|mut row| row.nth(STEP))
            .map(|(step, _)| short_step(step).len())
            .fold("Step".len(), usize::max);
        let fits: Vec<Fit> = Fit::levels(Fit::LEVELS, false)
            .chain(Fit::levels(Fit::LEVELS, true).filter(|_| widths.len() > ANALYSIS))
            .collect();
        let fit = Fit::first(width, &fits, |fit| {
            fit.table_width(fit.segment_columns(&widths, short_steps).map(|(_, w)| w))
        });
        let mut layout = Layout::of_columns(
            fit.segment_columns(&widths, short_steps),
            &SEGMENT_RIGHT,
            fit,
        );
        if fit.below {
            // Under the role: the analysis says what is odd about it.
            let gap = if fit.tight() { 1 } else { 2 };
            let indent = layout
                .columns
                .iter()
                .zip(&layout.widths)
                .take_while(|(i, _)| **i < ROLE)
                .map(|(_, w)| w + gap)
                .sum();
            layout.below = Some((ANALYSIS, indent));
        }
        layout.red = color.then_some(ANALYSIS);
        (layout, fit)
    }

    fn line<'a>(&self, cells: impl Iterator<Item = &'a str>) -> String {
        let mut text = String::new();
        self.line_into(&mut text, cells.map(|c| (c, columns(c))), false);
        text
    }

    /// Appends a line of `cells` (text, width), one per shown column, without its newline;
    /// `trouble`: the red column is painted.
    fn line_into<'a>(
        &self,
        text: &mut String,
        cells: impl Iterator<Item = (&'a str, usize)>,
        trouble: bool,
    ) {
        for (i, (((cell, width), w), right)) in cells.zip(&self.widths).zip(&self.right).enumerate()
        {
            if i > 0 {
                text.push(' ');
            }
            let fill = w.saturating_sub(width);
            if *right {
                spaces(text, fill);
            }
            match self.red {
                Some(red) if self.columns.get(i) == Some(&red) => {
                    paint(text, cell, trouble && !cell.is_empty());
                }
                _ => text.push_str(cell),
            }
            if !*right {
                spaces(text, fill);
            }
            if !self.tight {
                text.push(' ');
            }
        }
    }

    /// The whole table: rule, header, rule, rows, rule. `cell` rewrites a grid's cell
    /// (by column) for a narrowed table.
    fn table<'g>(
        &self,
        header: &[&'g str],
        grid: &'g Grid,
        cell: impl Fn(usize, &'g str) -> &'g str,
    ) -> String {
        let rows = grid.rows.max(1);
        // Rules are three bytes a column; a line is at most its width and a few arrows.
        let width = self.rule.len() / 3 + 8;
        let mut out = String::with_capacity((rows + 1) * width + 3 * self.rule.len() + 8);
        out.push_str(&self.rule);
        out.push('\n');
        let header = header.iter().map(|h| (*h, columns(h)));
        self.line_into(&mut out, self.pick(header, &cell), false);
        out.push('\n');
        out.push_str(&self.rule);
        out.push('\n');
        for (r, row) in grid.rows().enumerate() {
            let trouble = grid.troubling(r);
            let row: Vec<(&str, usize)> = if self.below.is_some() || !self.prefix {
                row.collect()
            } else {
                self.line_into(&mut out, row, trouble);
                out.push('\n');
                continue;
            };
            self.line_into(&mut out, self.pick(row.iter().copied(), &cell), trouble);
            out.push('\n');
            if let Some((column, indent)) = self.below
                && let Some((text, _)) = row.get(column).filter(|t| !t.0.is_empty())
            {
                spaces(&mut out, indent);
                paint(&mut out, text, trouble && self.red == Some(column));
                out.push('\n');
            }
        }
        out.push_str(&self.rule);
        out.push('\n');
        out
    }

    /// The cells of the shown columns.
    fn pick<'a, 'g>(
        &'a self,
        cells: impl Iterator<Item = (&'g str, usize)> + 'a,
        cell: &'a impl Fn(usize, &'g str) -> &'g str,
    ) -> impl Iterator<Item = (&'g str, usize)> + 'a {
        let mut shown = self.columns.iter().peekable();
        cells
            .enumerate()
            .filter(move |(i, _)| shown.next_if(|&&c| c == *i).is_some())
            .map(|(i, (text, width))| {
                let shown = cell(i, text);
                (shown, if shown == text { width } else { columns(shown) })
            })
    }
}

/// Appends `text`, in bold red if `red`.
fn paint(out: &mut String, text: &str, red: bool) {
    if red {
        out.push_str("\x1b[1;31m");
        out.push_str(text);
        out.push_str("\x1b[0m");
    } else {
        out.push_str(text);
    }
}

/// Appends `n` spaces (a slice at a time: a char at a time was a tenth of a table's time).
fn spaces(text: &mut String, mut n: usize) {
    const SPACES: &str = "                                                                ";
    while n > 0 {
        let k = n.min(SPACES.len());
        text.push_str(SPACES.get(..k).unwrap_or_default());
        n -= k;
    }
}

/// The columns `text` takes: its characters (cells are ASCII but for the arrows), counted
/// as the bytes that start one.
fn columns(text: &str) -> usize {
    text.bytes().filter(|b| b & 0xC0 != 0x80).count()
}

/// A table's cells, row after row, in one string: a cell per column, each ended where
/// `cells` says, with its width (one allocation for a whole table, not one per cell).
struct Grid {
    columns: usize,
    rows: usize,
    text: String,
    /// Where each cell ends in `text`, and its width in columns (32 bits: a table is at most
    /// `SEGMENT_ROWS` rows, and held for every open connection).
    cells: Vec<(u32, u32)>,
    /// The column of the next cell.
    column: usize,
    /// Each column's widest cell.
    widths: Vec<usize>,
    /// Rows whose analysis signals trouble (painted red); a port reused or a window update
    /// is no retransmission.
    harmless: Vec<usize>,
}

impl Grid {
    fn new(columns: usize, rows: usize) -> Self {
        Grid {
            columns: columns.max(1),
            rows: 0,
            text: String::with_capacity(rows * columns * 8),
            cells: Vec::with_capacity(rows * columns),
            column: 0,
            widths: vec![0; columns],
            harmless: Vec::new(),
        }
    }

    /// Whether row `r`'s analysis, if any, signals trouble.
    fn troubling(&self, r: usize) -> bool {
        self.harmless.binary_search(&r).is_err()
    }

    /// Where the last cell ended.
    fn last_end(&self) -> usize {
        self.cells.last().map_or(0, |c| c.0 as usize)
    }

    /// Ends the cell written so far into `text` with `tail`.
    fn cell(&mut self, tail: &str) {
        self.text.push_str(tail);
        self.end_cell();
    }

    fn end_cell(&mut self) {
        let width = self.text.get(self.last_end()..).map_or(0, columns);
        self.end_cell_of(width);
    }

    /// Ends an ASCII cell: as wide as it is long.
    fn end_ascii_cell(&mut self) {
        self.end_cell_of(self.text.len().saturating_sub(self.last_end()));
    }

    fn ascii_cell(&mut self, tail: &str) {
        self.text.push_str(tail);
        self.end_ascii_cell();
    }

    fn end_cell_of(&mut self, width: usize) {
        if let Some(w) = self.widths.get_mut(self.column) {
            *w = (*w).max(width);
        }
        let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        self.cells.push((narrow(self.text.len()), narrow(width)));
        self.column += 1;
        if self.column == self.columns {
            self.column = 0;
            self.rows += 1;
        }
    }

    /// Each row's cells: text and width.
    fn rows(&self) -> impl Iterator<Item = impl Iterator<Item = (&str, usize)>> {
        self.cells
            .chunks(self.columns)
            .enumerate()
            .map(move |(r, cells)| {
                let start = r
                    .checked_mul(self.columns)
                    .and_then(|i| i.checked_sub(1))
                    .and_then(|i| self.cells.get(i))
                    .map_or(0, |c| c.0 as usize);
                cells.iter().scan(start, move |from, &(to, width)| {
                    let to = to as usize;
                    let cell = self.text.get(*from..to).unwrap_or_default();
                    *from = to;
                    Some((cell, width as usize))
                })
            })
    }
}

/// Appends the analysis flags of a segment, a duplicate ACK with its number as Wireshark
/// shows it.
fn write_analysis(text: &mut String, s: &SegmentRecord) {
    for (i, name) in s.analysis.names().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str(name);
        if let ("dup-ack", Some(n)) = (name, s.dup_ack) {
            let _ = write!(text, " #{n}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same rows through comfy-table, set up as the segment tables are.
    fn comfy(rows: &[[String; 9]]) -> String {
        let mut t = table(&SUMMARY_HEADER);
        for row in rows {
            t.add_row(row.to_vec());
        }
        t.force_no_tty();
        for column in t.column_iter_mut() {
            column.set_padding((0, 1));
        }
        format!("{t}\n")
    }

    #[test]
    fn segment_tables_laid_out_by_hand_are_what_comfy_table_lays_out() {
        let header = [
            "Frame", "Time", "Dir", "Flags", "Role", "Step", "Seq", "Ack", "Len", "Client",
            "Server", "Analysis",
        ];
        let row = |cells: [&str; 12]| cells.map(str::to_string).to_vec();
        let rows = vec![
            row([
                "1",
                "0.000000",
                "→",
                "[SYN]",
                "SYN",
                "handshake 1/3",
                "0",
                "",
                "0",
                "SYN_SENT",
                "SYN_RECV",
                "",
            ]),
            row([
                "123456",
                "12.000173",
                "←",
                "[FIN, PSH, ACK]",
                "FIN-ACK",
                "teardown 2/4",
                "4294967295",
                "1",
                "65535",
                "ESTABLISHED",
                "FIN_WAIT_1",
                "retransmission, dup-ack #3",
            ]),
        ];
        for rows in [rows.clone(), rows[..1].to_vec(), vec![]] {
            let mut t = table(&header);
            for r in &rows {
                t.add_row(r.clone());
            }
            t.force_no_tty();
            for col in SEGMENT_RIGHT {
                if let Some(column) = t.column_mut(col) {
                    column.set_cell_alignment(CellAlignment::Right);
                }
            }
            for column in t.column_iter_mut() {
                column.set_padding((0, 1));
            }
            let mut grid = Grid::new(header.len(), rows.len());
            for cell in rows.iter().flatten() {
                grid.cell(cell);
            }
            let ours = Layout::of(&header, &grid, &SEGMENT_RIGHT).table(&header, &grid, |_, t| t);
            assert_eq!(ours, format!("{t}\n"), "{rows:?}");
        }
    }

    #[test]
    fn the_summary_laid_out_by_hand_is_what_comfy_table_lays_out() {
        let row = |cells: [&str; 9]| cells.map(str::to_string);
        let tables = [
            vec![],
            vec![row([
                "0",
                "127.0.0.1:50186",
                "127.0.0.1:40110",
                "5/4",
                "14/0",
                "complete",
                "four-way (server)",
                "CLOSED/TIME_WAIT",
                "SF ShADafF",
            ])],
            vec![
                row([
                    "7",
                    "[::1]:1",
                    "[2001:db8::1]:443",
                    "1/0",
                    "0/0",
                    "syn-only",
                    "open",
                    "SYN_SENT/SYN_RECV",
                    "",
                ]),
                row([
                    "12345",
                    "10.0.0.1:2",
                    "10.0.0.2:80",
                    "123456/7",
                    "99999999/0",
                    "not-seen",
                    "reset (client)",
                    "CLOSED/CLOSED",
                    "RSTO ^dR",
                ]),
            ],
        ];
        for rows in tables {
            let mut widths = SUMMARY_HEADER.map(str::len);
            for row in &rows {
                for (w, cell) in widths.iter_mut().zip(row) {
                    *w = (*w).max(cell.len());
                }
            }
            let layout = Layout::new(widths.to_vec(), &[], Fit::WIDE);
            let mut ours = format!(
                "{rule}\n{}\n{rule}\n",
                layout.line(SUMMARY_HEADER.iter().copied()),
                rule = layout.rule
            );
            for row in &rows {
                ours.push_str(&layout.line(row.iter().map(String::as_str)));
                ours.push('\n');
            }
            ours.push_str(&layout.rule);
            ours.push('\n');
            assert_eq!(ours, comfy(&rows), "{rows:?}");
        }
    }
}
