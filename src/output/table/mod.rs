use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Read;
use std::io::{self, Write};
use std::ops::Range;

use comfy_table::{
    Attribute, Cell, CellAlignment, Color, ContentArrangement, LineStyle, Table, TableStyle,
};

mod kept;
mod lanes;
mod layout;

use kept::Keeper;
use layout::{ANALYSIS, Fit, Grid, Layout, Places, SEGMENT_RIGHT, STEP, TEARDOWN, ZEEK};

use super::story::{Heading, Part, closer, columns, short_step, story_line, wrap};
use super::words::{Words, fill};
use super::{Print, Source, TimeShown, View};
use crate::annotate::{
    ConnectionRecord, Handshake, PerDir, Record, ResetCause, SegmentRecord, Side, StateName,
    Teardown,
};
use crate::decode::Addr;
use crate::decode::write_address;
use crate::track::Dir;

/// A summary row kept for the end is its cells' text one after the other, after a head
/// saying how long the text is and where each cell ends: read back without searching it.
/// The head: the text's length, then each cell's length and width in columns (counted
/// once, when the row is kept), each two bytes (little-endian).
const ROW_HEAD: usize = 2 + 9 * 4;
/// Rows from which a summary is laid out by two threads when a core is spare.
const TWO_LANES: u64 = 8192;

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

/// The summary's rows (and its notes) are read once, at the capture's end: past this many
/// bytes they wait in a temporary file, as cheap to write and read back as memory and no
/// part of the memory a flood's million connections take.
const SUMMARY_IN_MEMORY: usize = 1024 * 1024;

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
    /// Keyed by connection number: foldhash, as the tracker's index (each connection's
    /// record looks its number up, a flood's million included).
    open: HashMap<u64, Open, foldhash::fast::RandomState>,
    /// The summary's rows, kept for the capture's end.
    keeper: Keeper,
    /// Whether another core may keep them (`Keeper`).
    spare_core: bool,
    words: &'static Words,
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
            open: HashMap::default(),
            keeper: Keeper::new(view.lang.words(), view.width, view.spare_core),
            spare_core: view.spare_core,
            words: view.lang.words(),
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
        writeln!(
            self.out,
            "{}",
            wrap(&heading.text(self.words), self.width, self.words)
        )?;
        let [frame, rest @ .., analysis] = self.words.drawn.columns;
        let mut header = vec![frame, self.time.heading(self.words)];
        header.extend(rest);
        // Wireshark's analysis flags get a column only where a segment has one.
        if grid.widths.get(ANALYSIS).is_some_and(|w| *w > 0) {
            header.push(analysis);
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

    /// A connection's segments not yet shown and its story line, once its record comes.
    fn finished(&mut self, c: &ConnectionRecord) -> io::Result<()> {
        if self.summary_only {
            return Ok(());
        }
        let open = self.open.remove(&c.conn);
        let heading = Heading {
            conn: c.conn,
            ends: Some((c.client.0, c.server.0)),
            continued: open.as_ref().is_some_and(|o| o.tables > 0),
            part: Part::Finished,
        };
        let empty = Grid::new(SEGMENT_COLUMNS, 0);
        self.segments(&heading, open.as_ref().map_or(&empty, |o| &o.rows))?;
        let story = story_line(c, self.words);
        writeln!(self.out, "{}\n", wrap(&story, self.width, self.words))
    }

    /// The overview, then one summary table of every connection in index order, then the
    /// notes.
    fn summary(&mut self) -> io::Result<()> {
        let fresh = Keeper::new(self.words, self.width, self.spare_core);
        let mut kept = std::mem::replace(&mut self.keeper, fresh).finish()?;
        kept.rows.release_all()?;
        let n = kept.overview.connections();
        let overview = kept.overview.text(self.words);
        write!(self.out, "{}", wrap(&overview, self.width, self.words))?;
        let fit = match self.width {
            Some(width) => Fit::first(
                width,
                &Fit::levels(Fit::SUMMARY_LEVELS, false).collect::<Vec<_>>(),
                |fit| {
                    fit.table_width(
                        fit.summary_columns(&kept.widths, kept.zeek_state, kept.teardown_short)
                            .iter()
                            .map(|c| c.1),
                    )
                },
            ),
            None => Fit::WIDE,
        };
        let columns = fit.summary_columns(&kept.widths, kept.zeek_state, kept.teardown_short);
        let d = &self.words.drawn;
        let [one, many] = d.summary_title;
        let [both, bytes] = d.summary_what;
        let what = if fit.level >= 4 { bytes } else { both };
        let title = if n == 1 { one } else { many };
        writeln!(self.out, "{}", fill(title, &[("n", &n), ("what", &what)]))?;
        let layout = Layout::new(columns.iter().map(|c| c.1).collect(), &[], fit);
        let header = d.summary_columns;
        let rows = Rows {
            layout: &layout,
            // A row of ASCII cells is copied into place (`Places`); others go the general way.
            places: layout.places(),
            columns: &columns,
            fit,
        };
        let mut head = Vec::new();
        rows.line(
            &mut head,
            &header.map(|h| (h.as_bytes(), super::story::columns(h))),
        )?;
        writeln!(self.out, "{}", layout.rule)?;
        self.out.write_all(&head)?;
        writeln!(self.out, "{}", layout.rule)?;
        // Two threads lay the rows and the notes out when a core is spare and they are many.
        let two = self.spare_core && n >= TWO_LANES;
        lanes::write_lines(&mut self.out, kept.rows.get_mut().rewind()?, &rows, two)?;
        writeln!(self.out, "{}", layout.rule)?;
        if let Some(key) = kept.zeek_key.line(fit.level < 2, self.words) {
            writeln!(self.out, "{}", wrap(&key, self.width, self.words))?;
        }
        kept.write_notes(&mut self.out, two)
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
        if let Some(label) = source.label() {
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
                    (self.time, self.absolute, self.words),
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
                self.finished(c)?;
                self.keeper.keep(c)?;
            }
        }
        Ok(())
    }

    /// A connection's record is kept for the summary as it is, not copied.
    fn take_record(&mut self, record: &mut Record) -> io::Result<()> {
        match record {
            Record::Connection(c) => {
                self.finished(c)?;
                self.keeper.take(c)
            }
            Record::Segment(_) => self.record(record),
        }
    }

    fn done(&mut self, conn: u64, kept: bool) -> io::Result<()> {
        // A summary alone holds no segments.
        if !kept && !self.summary_only {
            self.open.remove(&conn);
        }
        self.keeper.done(conn, kept)
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
fn row(rows: &mut Grid, s: &SegmentRecord, before: Option<f64>, view: (TimeShown, bool, &Words)) {
    let (time, absolute, w) = view;
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
    rows.text.push_str(w.drawn.role(s.role));
    rows.end_cell();
    if let Some(step) = s.step {
        rows.text.push_str(&w.drawn.step(step));
    }
    rows.end_cell();
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

/// The summary's rows as a table lays them out.
struct Rows<'l> {
    layout: &'l Layout,
    places: Option<Places>,
    columns: &'l [(usize, usize)],
    fit: Fit,
}

impl Rows<'_> {
    /// Appends the summary line of `cells` (text, width; every column's) as `columns` and
    /// `fit` show them, and its newline: copied into place when its cells are ASCII
    /// (`Places`), else laid out by `line_into`.
    fn line(&self, out: &mut Vec<u8>, cells: &[(&[u8], usize)]) -> io::Result<()> {
        let shown = || {
            self.columns.iter().map(|&(i, _)| {
                let (cell, width) = cells.get(i).copied().unwrap_or_default();
                shown_cell(i, self.fit, cell, width)
            })
        };
        // A width to count (`None`) is no ASCII cell's: such a row goes the general way.
        let placed = shown().map(|(cell, width)| (cell, width.unwrap_or(usize::MAX)));
        if !self.places.as_ref().is_some_and(|p| p.line(out, placed)) {
            let mut strs = [("", 0); 9];
            for (s, (cell, width)) in strs.iter_mut().zip(shown()) {
                let cell = utf8(cell)?;
                *s = (cell, width.unwrap_or_else(|| super::story::columns(cell)));
            }
            let mut text = String::new();
            self.layout
                .line_into(&mut text, strs.into_iter().take(self.columns.len()), false);
            out.extend_from_slice(text.as_bytes());
        }
        out.push(b'\n');
        Ok(())
    }
}

impl lanes::Lines for Rows<'_> {
    type Lane = ();
    const HEAD: usize = ROW_HEAD;

    fn body(head: &[u8]) -> usize {
        from_two_bytes(head, 0)
    }

    fn lay_out(&self, _: &mut (), text: &mut Vec<u8>, entry: &[u8]) -> io::Result<()> {
        self.line(text, &row_cells(entry)?)
    }
}

/// Summary cell `i` (its text and width) as `fit` shows it: Zeek's code without its
/// history, the teardown without its cause (`short_teardown`); a cut cell's width is its
/// length if it is ASCII, else `None`: to be counted.
fn shown_cell(i: usize, fit: Fit, cell: &[u8], width: usize) -> (&[u8], Option<usize>) {
    let shown = match i {
        ZEEK if fit.level >= 2 => cut_at(cell, b' '),
        TEARDOWN if fit.level >= 1 => short_teardown(cell),
        _ => return (cell, Some(width)),
    };
    match (shown.len() == cell.len(), cell.len() == width) {
        (true, _) => (cell, Some(width)),
        (false, true) => (shown, Some(shown.len())),
        (false, false) => (shown, None),
    }
}

/// A kept summary row read back: its cells (text, width).
type KeptRow<'r> = [(&'r [u8], usize); 9];

/// The cells (text, width) of a row `Kept::keep` wrote, as it lies on the tape. Bytes: an
/// ASCII row (nearly all) is laid out as it is, unchecked.
fn row_cells(entry: &[u8]) -> io::Result<KeptRow<'_>> {
    let (head, text) = entry.split_at_checked(ROW_HEAD).unwrap_or_default();
    let (mut cells, mut at) = ([(&[][..], 0); 9], 0);
    let cell_heads = head.get(2..).unwrap_or_default().chunks_exact(4);
    for (cell, cell_head) in cells.iter_mut().zip(cell_heads) {
        let end = at + from_two_bytes(cell_head, 0);
        let cell_text = text.get(at..end).ok_or_else(bad_tape)?;
        *cell = (cell_text, from_two_bytes(cell_head, 2));
        at = end;
    }
    Ok(cells)
}

/// A tape's entries read back in blocks, each entry a head of a known length and a body
/// whose length the head gives: read into a buffer of their own in large pieces, and lent
/// from it a block of whole entries at a time, which a lane takes in one copy.
struct Entries<R> {
    tape: R,
    buffer: Vec<u8>,
    /// The bytes read and not yet lent.
    start: usize,
    end: usize,
    /// The tape is read to its end.
    read_all: bool,
}

/// Bytes read from a tape at a time.
const TAPE_READ: usize = 64 * 1024;

impl<R: Read> Entries<R> {
    fn new(tape: R) -> Self {
        Entries {
            tape,
            buffer: Vec::new(),
            start: 0,
            end: 0,
            read_all: false,
        }
    }

    /// The next `n` entries (fewer at the tape's end, none past it), each head and body,
    /// one after the other.
    fn block(&mut self, n: usize, head: usize, body: impl Fn(&[u8]) -> usize) -> io::Result<&[u8]> {
        let (mut count, mut at) = (0, self.start);
        loop {
            while count < n {
                let whole = self.buffer.get(at..self.end).and_then(|rest| {
                    Some(head + body(rest.get(..head)?)).filter(|&len| len <= rest.len())
                });
                let Some(len) = whole else { break };
                (count, at) = (count + 1, at + len);
            }
            if count == n || self.read_all {
                break;
            }
            // More is needed: what is not yet lent moves to the front, and more is read
            // after it.
            self.buffer.copy_within(self.start..self.end, 0);
            (at, self.end, self.start) = (at - self.start, self.end - self.start, 0);
            if self.buffer.len() < self.end + TAPE_READ {
                self.buffer.resize(self.end + TAPE_READ, 0);
            }
            let free = self.buffer.get_mut(self.end..).unwrap_or_default();
            match self.tape.read(free) {
                Ok(0) => self.read_all = true,
                Ok(read) => self.end += read,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        // A piece of an entry at the tape's end: it was cut.
        if count < n && at != self.end {
            return Err(bad_tape());
        }
        let block = self.buffer.get(self.start..at).ok_or_else(bad_tape)?;
        self.start = at;
        Ok(block)
    }
}

/// The first entry of `entries` (whole entries one after the other), which it leaves.
fn split_entry<'e>(
    entries: &mut &'e [u8],
    head: usize,
    body: impl Fn(&[u8]) -> usize,
) -> Option<&'e [u8]> {
    let len = head + body(entries.get(..head)?);
    let (entry, rest) = entries.split_at_checked(len)?;
    *entries = rest;
    Some(entry)
}

/// `n` as two bytes of a row's head; a cell or a row too long for them (65,535 bytes: none
/// is near it) is an error, never a row read back wrong.
#[inline]
fn two_bytes(n: usize) -> io::Result<[u8; 2]> {
    u16::try_from(n)
        .map(u16::to_le_bytes)
        .map_err(|_| too_long(n))
}

/// What `two_bytes` wrote at `at` in `head` (0 where `head` is too short, which only a
/// damaged tape could be: its bodies then read back wrong or short, never out of bounds).
#[inline]
fn from_two_bytes(head: &[u8], at: usize) -> usize {
    match head.get(at..) {
        Some(&[lo, hi, ..]) => usize::from(u16::from_le_bytes([lo, hi])),
        _ => 0,
    }
}

#[cold]
fn too_long(n: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("a summary row of {n} bytes, over 65,535"),
    )
}

/// A thread of the summary's that stopped before its work was done (`doing`: that work).
fn stopped(doing: &str) -> io::Error {
    io::Error::other(format!("the thread {doing} stopped"))
}

/// A summary tape that does not read back as it was written (its temporary file changed
/// under it).
fn bad_tape() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "the summary's temporary rows read back wrong",
    )
}

fn utf8(bytes: &[u8]) -> io::Result<&str> {
    std::str::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// A teardown cell without its reset cause: `reset (client)` of `reset (client): abortive-close`.
fn short_teardown(cell: &[u8]) -> &[u8] {
    cut_at(cell, b':')
}

/// `cell` up to the first `byte` (ASCII), or all of it.
fn cut_at(cell: &[u8], byte: u8) -> &[u8] {
    let end = cell.iter().position(|&b| b == byte);
    end.and_then(|end| cell.get(..end)).unwrap_or(cell)
}

/// An address as `write_address` last spelled it: a flood's rows share their server, a
/// scan's their client, and spelling an address costs more than copying it.
#[derive(Default)]
struct Spelled(Option<Addr>, Vec<u8>);

impl Spelled {
    fn write(&mut self, line: &mut Vec<u8>, addr: Addr) {
        if self.0 != Some(addr) {
            self.1.clear();
            write_address(&mut self.1, addr.socket());
            self.0 = Some(addr);
        }
        line.extend_from_slice(&self.1);
    }
}

/// Writes connection `c`'s first summary cells, its number and its ends, into `line`; their
/// places. `ends`: the client and the server as last spelled.
fn summary_ends(
    line: &mut Vec<u8>,
    c: &ConnectionRecord,
    ends: &mut [Spelled; 2],
) -> [Range<usize>; ENDS] {
    let start = line.len();
    line.extend_from_slice(itoa::Buffer::new().format(c.conn).as_bytes());
    let conn = start..line.len();
    let [client_text, server_text] = ends;
    client_text.write(line, c.client.0);
    let client = conn.end..line.len();
    server_text.write(line, c.server.0);
    let server = client.end..line.len();
    [conn, client, server]
}

/// The summary cells before the tail (`summary_tail`).
const ENDS: usize = 3;

/// What the summary cells after a connection's ends are made of (`summary_tail`), but
/// Zeek's history, which is compared where it lies rather than copied for every row: a flood's or a scan's rows, alike in these, share those cells.
#[derive(Clone, Copy, Debug, PartialEq)]
struct TailKey {
    packets: PerDir,
    bytes: PerDir,
    handshake: Handshake,
    teardown: Teardown,
    closed_by: Option<Side>,
    reset_cause: Option<ResetCause>,
    states: [StateName; 2],
    conn_state: Option<&'static str>,
}

impl TailKey {
    fn of(c: &ConnectionRecord) -> TailKey {
        // Every field named: one added to the record is placed here or below on purpose.
        let ConnectionRecord {
            packets,
            bytes,
            handshake,
            teardown,
            closed_by,
            reset_cause,
            client_state,
            server_state,
            conn_state,
            history: _,
            conn: _,
            client: _,
            server: _,
            first_frame: _,
            last_frame: _,
            start: _,
            ts: _,
            names: _,
            duration: _,
            handshake_rtt: _,
            zeek: _,
            notes: _,
            retransmissions: _,
            flagged: _,
            analysis: _,
            completeness: _,
            timeline: _,
        } = c;
        TailKey {
            packets: *packets,
            bytes: *bytes,
            handshake: *handshake,
            teardown: *teardown,
            closed_by: *closed_by,
            reset_cause: *reset_cause,
            states: [*client_state, *server_state],
            conn_state: *conn_state,
        }
    }
}

/// Writes the summary cells of `c` after its ends into `line`, in `w`'s words (SPEC.md's
/// values, which the filters take, and who closed); their places. What they read is
/// `TailKey`'s and the history.
fn summary_tail(line: &mut Vec<u8>, c: &ConnectionRecord, w: &Words) -> [Range<usize>; 6] {
    let mut digits = itoa::Buffer::new();
    let mut start = line.len();
    // Ends the cell written since the last one: its place.
    let mut end = |line: &mut Vec<u8>| {
        let cell = start..line.len();
        start = line.len();
        cell
    };
    pair(line, &mut digits, c.packets);
    let packets = end(line);
    pair(line, &mut digits, c.bytes);
    let bytes = end(line);
    line.extend_from_slice(c.handshake.name().as_bytes());
    let handshake = end(line);
    line.extend_from_slice(c.teardown.name().as_bytes());
    // Pieces appended as they are, without formatting machinery: a flood's million rows.
    let put = |line: &mut Vec<u8>, pieces: &[&str]| {
        for piece in pieces {
            line.extend_from_slice(piece.as_bytes());
        }
    };
    if c.closed_by.is_some() {
        put(line, &[" (", closer(c, w), ")"]);
        // A refused connection's cause is its handshake's, one column before. Narrowed,
        // the cell loses the cause (`short_teardown`).
        if let Some(cause) = c.reset_cause.filter(|cause| *cause != ResetCause::Refused) {
            put(line, &[": ", cause.name()]);
        }
    }
    let teardown = end(line);
    let states = [c.client_state.0.name(), "/", c.server_state.0.name()];
    put(line, &states);
    let states = end(line);
    if let (Some(state), Some(history)) = (&c.conn_state, &c.history) {
        put(line, &[state, " "]);
        line.extend_from_slice(history.as_bytes());
    }
    let zeek = end(line);
    [packets, bytes, handshake, teardown, states, zeek]
}

/// `c2s/s2c`.
fn pair(line: &mut Vec<u8>, digits: &mut itoa::Buffer, n: PerDir) {
    count(line, digits, n.c2s);
    line.push(b'/');
    count(line, digits, n.s2c);
}

/// A count in decimal; a single digit (a flood's and a scan's every count) pushed as it is.
#[inline]
fn count(line: &mut Vec<u8>, digits: &mut itoa::Buffer, n: u64) {
    match u8::try_from(n) {
        Ok(digit @ 0..=9) => line.push(b'0' + digit),
        _ => line.extend_from_slice(digits.format(n).as_bytes()),
    }
}

/// The text of a cell `summary_row` wrote into `line`.
fn cell_text<'a>(line: &'a [u8], cell: &Range<usize>) -> &'a str {
    line.get(cell.clone())
        .and_then(|bytes| std::str::from_utf8(bytes).ok())
        .unwrap_or_default()
}

/// The width of a cell `summary_row` wrote into `line`, in columns.
#[inline]
fn cell_columns(line: &[u8], cell: &Range<usize>) -> usize {
    match line.get(cell.clone()) {
        Some(bytes) if bytes.is_ascii() => bytes.len(),
        _ => columns(cell_text(line, cell)),
    }
}

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
    segment_columns(&mut table);
    table
}

/// A segment table's columns as comfy-table lays them out here: numbers and times aligned
/// right, one space of padding right of each cell.
fn segment_columns(table: &mut Table) {
    for col in SEGMENT_RIGHT {
        if let Some(column) = table.column_mut(col) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 1));
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
    use crate::output::words::EN;

    /// The same rows through comfy-table, set up as the segment tables are.
    fn comfy(rows: &[[String; 9]]) -> String {
        let mut t = table(&EN.drawn.summary_columns);
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
            segment_columns(&mut t);
            let mut grid = Grid::new(header.len(), rows.len());
            for cell in rows.iter().flatten() {
                grid.cell(cell);
            }
            let ours = Layout::of(&header, &grid, &SEGMENT_RIGHT).table(&header, &grid, |_, t| t);
            assert_eq!(ours, format!("{t}\n"), "{rows:?}");
        }
    }

    /// A narrowed summary's cells are cut as on text: Zeek's code before its first space,
    /// the teardown before its first colon, each cut cell as wide as its text.
    #[test]
    fn narrowed_cells_are_cut_as_their_text_is() {
        let cells = [
            "SF ShADadfF",
            "S0",
            "reset (client): abortive-close",
            "重置（客户端）: 异常关闭",
            "four-way (服务器)",
            "",
        ];
        for level in 0..=Fit::SUMMARY_LEVELS {
            let fit = Fit {
                level,
                below: false,
            };
            for i in [TEARDOWN, ZEEK, 0] {
                for cell in cells {
                    let want = match i {
                        ZEEK if level >= 2 => cell.split(' ').next().unwrap_or_default(),
                        TEARDOWN if level >= 1 => cell.split_once(':').map_or(cell, |c| c.0),
                        _ => cell,
                    };
                    let (shown, width) = shown_cell(i, fit, cell.as_bytes(), columns(cell));
                    assert_eq!(shown, want.as_bytes(), "{i} {level} {cell:?}");
                    let width = width.unwrap_or_else(|| columns(want));
                    assert_eq!(width, columns(want), "{i} {level} {cell:?}");
                }
            }
        }
    }

    proptest::proptest! {
        /// A pair of counts is written as `Display` writes them, single digits included.
        #[test]
        fn pairs_are_written_as_display_writes_them(
            c2s in proptest::prop_oneof![0..=11u64, proptest::num::u64::ANY],
            s2c in proptest::prop_oneof![0..=11u64, proptest::num::u64::ANY],
        ) {
            let mut line = b"x".to_vec();
            pair(&mut line, &mut itoa::Buffer::new(), PerDir { c2s, s2c });
            proptest::prop_assert_eq!(String::from_utf8_lossy(&line), format!("x{c2s}/{s2c}"));
        }
    }

    /// A tape that gives at most `most` bytes a read, as a file or a pipe may.
    struct Trickle<'t> {
        tape: &'t [u8],
        most: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.most).min(self.tape.len());
            let (given, rest) = self.tape.split_at(n);
            buf[..n].copy_from_slice(given);
            self.tape = rest;
            Ok(n)
        }
    }

    /// Entries read back whole in blocks of every size, from reads of every size from one
    /// byte up; a tape cut inside an entry is an error, never an entry read short.
    #[test]
    fn entries_read_back_as_written_in_blocks_across_reads() {
        let bodies: [&[u8]; 5] = [b"", b"a", b"conn 7", &[b'x'; 300], b"\xff\x00tail"];
        let mut tape = Vec::new();
        for body in bodies {
            tape.extend_from_slice(&two_bytes(body.len()).expect("short"));
            tape.extend_from_slice(body);
        }
        let length = |head: &[u8]| from_two_bytes(head, 0);
        for most in 1..=tape.len() + 1 {
            for n in 1..=bodies.len() + 1 {
                let mut entries = Entries::new(Trickle { tape: &tape, most });
                let mut read = Vec::new();
                loop {
                    let mut block = entries.block(n, 2, length).expect("read");
                    if block.is_empty() {
                        break;
                    }
                    let mut in_block = 0;
                    while let Some(entry) = split_entry(&mut block, 2, length) {
                        read.push(entry.get(2..).expect("head").to_vec());
                        in_block += 1;
                    }
                    assert!(
                        block.is_empty() && in_block <= n,
                        "reads of {most}, blocks of {n}"
                    );
                }
                assert_eq!(
                    read,
                    bodies.map(<[u8]>::to_vec),
                    "reads of {most}, blocks of {n}"
                );
            }
            let cut = &tape[..tape.len() - 1];
            let mut entries = Entries::new(Trickle { tape: cut, most });
            let outcome = (0..bodies.len()).try_for_each(|_| entries.block(1, 2, length).map(drop));
            assert!(outcome.is_err(), "a cut tape read in reads of {most}");
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
            let mut widths = EN.drawn.summary_columns.map(str::len);
            for row in &rows {
                for (w, cell) in widths.iter_mut().zip(row) {
                    *w = (*w).max(cell.len());
                }
            }
            let layout = Layout::new(widths.to_vec(), &[], Fit::WIDE);
            let line = |cells: &[&str]| {
                let mut text = String::new();
                layout.line_into(&mut text, cells.iter().map(|c| (*c, c.len())), false);
                text
            };
            let mut ours = format!(
                "{rule}\n{}\n{rule}\n",
                line(&EN.drawn.summary_columns),
                rule = layout.rule
            );
            for row in &rows {
                ours.push_str(&line(&row.each_ref().map(String::as_str)));
                ours.push('\n');
            }
            ours.push_str(&layout.rule);
            ours.push('\n');
            assert_eq!(ours, comfy(&rows), "{rows:?}");
        }
    }
}
