use std::collections::HashMap;
use std::io::{self, Write};

use comfy_table::{
    Attribute, Cell, CellAlignment, Color, ContentArrangement, LineStyle, Table, TableStyle,
};

use super::order::{InOrder, MEMORY_LIMIT, Mode, Tape};
use super::overview::Overview;
use super::story::{Heading, Part, closer, story_line, zeek};
use super::{Print, TimeShown, View};
use crate::annotate::{ConnectionRecord, Record, SegmentRecord};
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

/// Rows of a connection not yet printed, and how many tables of it were.
#[derive(Default)]
struct Open {
    rows: Vec<SegmentRecord>,
    tables: u32,
    /// The time of the last row printed, for `--time delta`.
    last: Option<f64>,
}

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
    open: HashMap<u64, Open>,
    /// The summary's rows, one line each (cells, then notes), put in index order and kept
    /// for the capture's end: on a tape, which moves to a file when it grows.
    rows: InOrder<Tape>,
    widths: [usize; 9],
    overview: Overview,
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
            open: HashMap::new(),
            rows: InOrder::new(Tape::new(MEMORY_LIMIT), Mode::Ordered),
            widths: SUMMARY_HEADER.map(str::len),
            overview: Overview::default(),
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

    /// A heading, then a table of segments.
    /// `before`: the time of the connection's segment before these, if printed.
    fn segments(
        &mut self,
        heading: &Heading,
        segments: &[SegmentRecord],
        mut before: Option<f64>,
    ) -> io::Result<()> {
        writeln!(self.out, "{heading}")?;
        // Wireshark's analysis flags get a column only where a segment has one.
        let flagged = segments.iter().any(|s| !s.analysis.is_empty());
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
            "Client",
            "Server",
        ];
        if flagged {
            header.push("Analysis");
        }
        let rows: Vec<Vec<String>> = segments
            .iter()
            .map(|s| {
                let mut row = vec![
                    s.frame.to_string(),
                    self.time.cell(s, before.replace(s.time)),
                    match s.dir.0 {
                        Dir::C2S => "→",
                        Dir::S2C => "←",
                    }
                    .to_string(),
                    format!("[{}]", s.flags.0.names().collect::<Vec<_>>().join(", ")),
                    s.role.label().to_string(),
                    s.step.map(|st| st.to_string()).unwrap_or_default(),
                    if self.absolute { s.abs_seq } else { s.seq }.to_string(),
                    if self.absolute { s.abs_ack } else { s.ack }
                        .map(|a| a.to_string())
                        .unwrap_or_default(),
                    s.len.to_string(),
                    s.client_state.0.name().to_string(),
                    s.server_state.0.name().to_string(),
                ];
                if flagged {
                    row.push(analysis_cell(s));
                }
                row
            })
            .collect();
        if self.color {
            writeln!(self.out, "{}", coloured(&header, &rows))
        } else {
            self.out.write_all(
                Layout::of(&header, &rows, &SEGMENT_RIGHT)
                    .table(&header, &rows)
                    .as_bytes(),
            )
        }
    }

    /// Keeps the connection's summary row for the end.
    fn keep_row(&mut self, c: &ConnectionRecord) -> io::Result<()> {
        self.overview.add(c);
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
        write!(self.out, "{}", self.overview)?;
        self.overview = Overview::default();
        writeln!(
            self.out,
            "Summary: {n} connection{} (Pkts and Bytes: client→server/server→client)",
            if n == 1 { "" } else { "s" }
        )?;
        let layout = Layout::new(self.widths.to_vec(), &[]);
        self.widths = SUMMARY_HEADER.map(str::len);
        writeln!(self.out, "{}", layout.rule)?;
        writeln!(self.out, "{}", layout.line(SUMMARY_HEADER.iter().copied()))?;
        writeln!(self.out, "{}", layout.rule)?;
        let mut notes = Tape::new(MEMORY_LIMIT);
        for line in io::BufRead::lines(self.rows.get_mut().rewind()?) {
            let line = line?;
            let (cells, row_notes) = line.rsplit_once(CELL).unwrap_or((&line, ""));
            writeln!(self.out, "{}", layout.line(cells.split(CELL)))?;
            let conn = cells.split(CELL).next().unwrap_or_default();
            for note in row_notes.split(NOTE).filter(|n| !n.is_empty()) {
                writeln!(notes, "  conn {conn}: {note}")?;
            }
        }
        writeln!(self.out, "{}", layout.rule)?;
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
    fn begin(&mut self, label: Option<&str>) -> io::Result<()> {
        if let Some(label) = label {
            writeln!(self.out, "=== {label} ===\n")?;
        }
        Ok(())
    }

    fn record(&mut self, record: &Record) -> io::Result<()> {
        match record {
            Record::Segment(s) if !self.summary_only => {
                let open = self.open.entry(s.conn).or_default();
                open.rows.push(s.clone());
                if open.rows.len() >= SEGMENT_ROWS {
                    let rows = std::mem::take(&mut open.rows);
                    let heading = Heading {
                        conn: s.conn,
                        ends: Some(s.ends()),
                        continued: open.tables > 0,
                        part: Part::Open,
                    };
                    open.tables += 1;
                    let before = open.last;
                    open.last = rows.last().map(|r| r.time);
                    self.segments(&heading, &rows, before)?;
                }
            }
            Record::Segment(_) => {}
            Record::Connection(c) => {
                let open = self.open.remove(&c.conn).unwrap_or_default();
                if !self.summary_only {
                    let heading = Heading {
                        conn: c.conn,
                        ends: Some((c.client.0, c.server.0)),
                        continued: open.tables > 0,
                        part: Part::Finished,
                    };
                    self.segments(&heading, &open.rows, open.last)?;
                    writeln!(self.out, "{}\n", story_line(c))?;
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
            let Some(first) = open.rows.first() else {
                continue;
            };
            let heading = Heading {
                conn,
                ends: Some(first.ends()),
                continued: open.tables > 0,
                part: Part::Late,
            };
            self.segments(&heading, &open.rows, open.last)?;
            writeln!(self.out)?;
        }
        self.summary()?;
        self.out.flush()
    }
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

/// A segment table through comfy-table, its analysis flags in colour (a terminal's output,
/// which is small).
fn coloured(header: &[&str], rows: &[Vec<String>]) -> Table {
    let mut table = table(header);
    for row in rows {
        let cells = row.iter().enumerate().map(|(i, text)| {
            let cell = Cell::new(text);
            if i == ANALYSIS && !text.is_empty() {
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

/// The analysis column of a segment table.
const ANALYSIS: usize = 11;

/// A table laid out exactly as comfy-table lays it out without a width limit (`table`, one
/// space of padding right of each cell), by hand: comfy-table's layout costs more than all
/// the rest of a table, and needs every row at once. Cells are ASCII but for the arrows,
/// one column each, so characters are columns.
struct Layout {
    widths: Vec<usize>,
    right: Vec<bool>,
    rule: String,
}

impl Layout {
    fn new(widths: Vec<usize>, right_aligned: &[usize]) -> Self {
        // Each column has one space of padding, and a separator stands between columns.
        let natural = widths.iter().map(|w| w + 1).sum::<usize>() + widths.len().saturating_sub(1);
        let right = (0..widths.len())
            .map(|i| right_aligned.contains(&i))
            .collect();
        Layout {
            widths,
            right,
            rule: "─".repeat(natural),
        }
    }

    /// The layout that fits `header` and `rows`.
    fn of(header: &[&str], rows: &[Vec<String>], right_aligned: &[usize]) -> Self {
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for row in rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        Layout::new(widths, right_aligned)
    }

    fn line<'a>(&self, cells: impl Iterator<Item = &'a str>) -> String {
        let mut text = String::new();
        for (i, ((cell, w), right)) in cells.zip(&self.widths).zip(&self.right).enumerate() {
            if i > 0 {
                text.push(' ');
            }
            let fill = std::iter::repeat_n(' ', w.saturating_sub(cell.chars().count()));
            if *right {
                text.extend(fill);
                text.push_str(cell);
            } else {
                text.push_str(cell);
                text.extend(fill);
            }
            text.push(' ');
        }
        text
    }

    /// The whole table: rule, header, rule, rows, rule.
    fn table(&self, header: &[&str], rows: &[Vec<String>]) -> String {
        let mut out = format!(
            "{rule}\n{}\n{rule}\n",
            self.line(header.iter().copied()),
            rule = self.rule
        );
        for row in rows {
            out.push_str(&self.line(row.iter().map(String::as_str)));
            out.push('\n');
        }
        out.push_str(&self.rule);
        out.push('\n');
        out
    }
}

/// The analysis flags of a segment, a duplicate ACK with its number as Wireshark shows it.
fn analysis_cell(s: &SegmentRecord) -> String {
    s.analysis
        .names()
        .map(|name| match (name, s.dup_ack) {
            ("dup-ack", Some(n)) => format!("dup-ack #{n}"),
            _ => name.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
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
            let ours = Layout::of(&header, &rows, &SEGMENT_RIGHT).table(&header, &rows);
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
            let layout = Layout::new(widths.to_vec(), &[]);
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
