//! The summary's rows, kept for the capture's end: on the printer's thread, or, once there
//! are many, on a thread of their own. A flood's or a scan's million connections cost as
//! much to keep as to track, and a second core keeps them while the first tracks.

use std::io::{self, Write};
use std::ops::Range;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use super::lanes;
use super::{
    ENDS, ROW_HEAD, SUMMARY_IN_MEMORY, Spelled, TEARDOWN, TailKey, bad_tape, cell_columns,
    short_teardown, stopped, summary_ends, summary_tail, too_long, two_bytes,
};
use crate::annotate::{ConnectionRecord, Note, Timeline};
use crate::output::order::{InOrder, Mode, Tape};
use crate::output::overview::Overview;
use crate::output::story::{ZeekKey, columns, wrap};
use crate::output::words::{Template, Words};
use crate::track::History;

/// What the summary gathers from the connections' records.
pub(super) struct Kept {
    /// The row being written.
    line: Vec<u8>,
    /// The rows, one entry each (`ROW_HEAD`), put in index order: on a tape, which moves
    /// to a file when it grows.
    pub(super) rows: InOrder<Tape>,
    /// The notes, in index order too: each connection's as its number, how many, and
    /// each note's code (`Note::code`), nine bytes where its line takes dozens; their
    /// words are written at the end (`write_notes`).
    pub(super) notes: InOrder<Tape>,
    note_line: Template<'static>,
    /// The notes being kept.
    note: Vec<u8>,
    /// The width the notes are wrapped to (`View::width`).
    width: Option<usize>,
    pub(super) widths: [usize; 9],
    /// The widest of Zeek's `conn_state` codes, for a narrowed summary.
    pub(super) zeek_state: usize,
    /// The widest teardown cell without its reset cause (a narrowed summary's).
    pub(super) teardown_short: usize,
    /// The last row's client and server, as spelled.
    ends: [Spelled; 2],
    /// The last row's cells after its ends: a flood's rows repeat them.
    tail: Option<Tail>,
    pub(super) overview: Overview,
    pub(super) zeek_key: ZeekKey,
    words: &'static Words,
}

impl Kept {
    pub(super) fn new(words: &'static Words, width: Option<usize>) -> Self {
        let tape = || InOrder::new(Tape::new(SUMMARY_IN_MEMORY), Mode::Ordered);
        Kept {
            line: Vec::new(),
            rows: tape(),
            notes: tape(),
            note_line: Template::new(words.notes.line, &["conn", "note"]),
            note: Vec::new(),
            width,
            widths: words.drawn.summary_columns.map(columns),
            zeek_state: 0,
            teardown_short: 0,
            ends: Default::default(),
            tail: None,
            overview: Overview::default(),
            zeek_key: ZeekKey::default(),
            words,
        }
    }

    /// Keeps the connection's summary row for the end.
    fn keep(&mut self, c: &ConnectionRecord) -> io::Result<()> {
        self.overview.add(c);
        self.zeek_key.add(c);
        self.zeek_state = self.zeek_state.max(c.conn_state.map_or(0, str::len));
        let line = &mut self.line;
        line.clear();
        line.resize(ROW_HEAD, 0);
        let ends = summary_ends(line, c, &mut self.ends);
        let mut head = [0; ROW_HEAD];
        let (text_len, cell_heads) = head.split_at_mut(2);
        let (end_heads, tail_heads) = cell_heads.split_at_mut(4 * ENDS);
        cell_heads_into(end_heads, &mut self.widths, line, &ends)?;
        match &self.tail {
            Some(tail) if tail.is_of(c) => {
                line.extend_from_slice(&tail.text);
                tail_heads.copy_from_slice(&tail.heads);
            }
            _ => {
                let start = line.len();
                let cells = summary_tail(line, c, self.words);
                let tail_widths = self.widths.get_mut(ENDS..).unwrap_or_default();
                cell_heads_into(tail_heads, tail_widths, line, &cells)?;
                if let Some(teardown) = cells.get(TEARDOWN - ENDS) {
                    let short = line
                        .get(teardown.clone())
                        .map_or(0, |t| short_teardown(t).len());
                    let short = teardown.start..teardown.start + short;
                    self.teardown_short = self.teardown_short.max(cell_columns(line, &short));
                }
                let mut heads = [0; 4 * TAIL];
                heads.copy_from_slice(tail_heads);
                let text = line.get(start..).unwrap_or_default().to_vec();
                self.tail = Some(Tail {
                    key: TailKey::of(c),
                    history: c.history.clone(),
                    text,
                    heads,
                });
            }
        }
        text_len.copy_from_slice(&two_bytes(line.len() - ROW_HEAD)?);
        if let Some(at) = line.get_mut(..ROW_HEAD) {
            at.copy_from_slice(&head);
        }
        self.rows.to(Some(c.conn));
        self.rows.write_all(line)?;
        self.rows.to(None);
        if !c.notes.is_empty() {
            let note = &mut self.note;
            note.clear();
            note.extend_from_slice(&c.conn.to_le_bytes());
            note.push(u8::try_from(c.notes.len()).map_err(|_| too_long(c.notes.len()))?);
            for n in &c.notes {
                let (kind, n) = n.code();
                note.push(kind);
                note.extend_from_slice(&n.to_le_bytes());
            }
            self.notes.to(Some(c.conn));
            self.notes.write_all(note)?;
            self.notes.to(None);
        }
        Ok(())
    }

    /// Writes the notes' lines to `out`, in index order; on two threads if `two`.
    pub(super) fn write_notes(&mut self, out: &mut impl Write, two: bool) -> io::Result<()> {
        self.notes.release_all()?;
        let notes = NoteLines {
            line: &self.note_line,
            words: self.words,
            width: self.width,
        };
        lanes::write_lines(out, self.notes.get_mut().rewind()?, &notes, two)
    }

    fn done(&mut self, conn: u64, kept: bool) -> io::Result<()> {
        self.rows.done(conn, kept)?;
        self.notes.done(conn, kept)
    }

    /// Keeps a batch's rows and marks its connections done, in the order they came.
    fn take(&mut self, batch: &Batch) -> io::Result<()> {
        for step in &batch.steps {
            match *step {
                Step::Keep(i) => {
                    let c = batch.records.get(i).ok_or_else(|| stopped(KEEPING))?;
                    self.keep(c)?;
                }
                Step::Done(conn, kept) => self.done(conn, kept)?,
            }
        }
        Ok(())
    }
}

/// The cells of a row after its ends, as kept (`summary_tail`): what they are made of,
/// their text and their heads.
struct Tail {
    key: TailKey,
    history: Option<History>,
    text: Vec<u8>,
    heads: [u8; 4 * TAIL],
}

impl Tail {
    /// Whether `c`'s cells after its ends are these.
    fn is_of(&self, c: &ConnectionRecord) -> bool {
        self.key == TailKey::of(c) && self.history == c.history
    }
}

const TAIL: usize = 9 - ENDS;

/// Writes the heads (length, width) of `cells`, written into `line`, into `heads`, and
/// widens `widths` (theirs) to them.
fn cell_heads_into(
    heads: &mut [u8],
    widths: &mut [usize],
    line: &[u8],
    cells: &[Range<usize>],
) -> io::Result<()> {
    for ((w, cell), head) in widths.iter_mut().zip(cells).zip(heads.chunks_exact_mut(4)) {
        let width = cell_columns(line, cell);
        *w = (*w).max(width);
        let ([len_lo, len_hi], [width_lo, width_hi]) = (two_bytes(cell.len())?, two_bytes(width)?);
        head.copy_from_slice(&[len_lo, len_hi, width_lo, width_hi]);
    }
    Ok(())
}

/// A connection's notes on their tape: its number (eight bytes) and how many (one), then
/// each note's kind (one) and number (eight).
const NOTES_HEAD: usize = 9;
const NOTE: usize = 9;

/// The notes' lines, worded from their codes.
struct NoteLines<'n> {
    line: &'n Template<'static>,
    words: &'static Words,
    /// The width the lines are wrapped to.
    width: Option<usize>,
}

impl lanes::Lines for NoteLines<'_> {
    /// The last note's code and its line around its connection's number: a flood's
    /// million notes say one or two things.
    type Lane = Option<(Vec<u8>, [String; 2])>;
    const HEAD: usize = NOTES_HEAD;

    fn body(head: &[u8]) -> usize {
        NOTE * usize::from(head.get(8).copied().unwrap_or(0))
    }

    fn lay_out(&self, apart: &mut Self::Lane, text: &mut Vec<u8>, entry: &[u8]) -> io::Result<()> {
        let (conn, codes) = entry.split_at_checked(NOTES_HEAD).ok_or_else(bad_tape)?;
        let mut digits = itoa::Buffer::new();
        let conn = digits.format(u64::from_le_bytes(eight(conn)?));
        for code in codes.chunks_exact(NOTE) {
            let (&kind, n) = code.split_first().ok_or_else(bad_tape)?;
            let note = Note::from_code(kind, u64::from_le_bytes(eight(n)?));
            let note = note.ok_or_else(bad_tape)?;
            // Lines wrapped to a width are worded each (the number counts).
            if self.width.is_none() {
                if apart.as_ref().is_none_or(|(was, _)| *was != code) {
                    *apart =
                        line_apart(self.line, self.words, note).map(|parts| (code.to_vec(), parts));
                }
                if let Some((_, [before, after])) = apart {
                    for piece in [before, conn, after, "\n"] {
                        text.extend_from_slice(piece.as_bytes());
                    }
                    continue;
                }
            }
            let mut line = String::new();
            self.line
                .fill_into(&mut line, &[conn, &self.words.note(note)]);
            text.extend_from_slice(wrap(&line, self.width, self.words).as_bytes());
            text.push(b'\n');
        }
        Ok(())
    }
}

/// `note`'s line (`line` filled) before and after its connection's number, if the line has
/// one place for it.
fn line_apart(line: &Template<'_>, words: &Words, note: Note) -> Option<[String; 2]> {
    const PLACE: &str = "\u{0}";
    let mut text = String::new();
    line.fill_into(&mut text, &[PLACE, &words.note(note)]);
    let (before, after) = text.split_once(PLACE)?;
    (!after.contains(PLACE)).then(|| [before.to_owned(), after.to_owned()])
}

/// The first eight bytes of `bytes`, which a kept entry holds.
fn eight(bytes: &[u8]) -> io::Result<[u8; 8]> {
    bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(bad_tape)
}

/// What the thread does, for the error if it stops.
const KEEPING: &str = "keeping the summary's rows";

/// Rows kept on the printer's thread before the rest go to a thread of their own: a
/// thread is worth starting only for many.
const HERE: u64 = 4096;
/// Rows sent to the thread at a time, and batches waiting for it at most (the printer
/// waits beyond: memory stays bounded when the thread falls behind). A full table lets a
/// tenth of its connections go at once (10,000 at the default `--max-conns`): room for as
/// many rows keeps both threads busy, where with room for a fifth of them each waited on
/// the other a third of the time (a flood: 0.49 s -> 0.40 s, 2 MiB more at the peak).
const BATCH: usize = 1024;
const WAITING: usize = 10;

/// What the thread is sent: records taken from the annotator, each for one of an earlier
/// batch's, in boxes that go round (no allocation, no copy), and the order of the steps.
#[derive(Default)]
struct Batch {
    /// The records; those past `used` are an earlier batch's. Boxed: each box is swapped
    /// with the annotator's.
    #[allow(clippy::vec_box)]
    records: Vec<Box<ConnectionRecord>>,
    used: usize,
    steps: Vec<Step>,
}

enum Step {
    /// Keep the row of `records[i]`.
    Keep(usize),
    /// Connection `conn` is done, kept by the filter or not.
    Done(u64, bool),
}

impl Batch {
    /// Takes `c`, leaving an earlier batch's record in its place (or a copy of it while
    /// the batches are new).
    fn take(&mut self, c: &mut Box<ConnectionRecord>) {
        match self.records.get_mut(self.used) {
            Some(place) => std::mem::swap(place, c),
            None => self.records.push(Box::new(ConnectionRecord {
                timeline: Timeline::default(),
                ..(**c).clone()
            })),
        }
        self.steps.push(Step::Keep(self.used));
        self.used += 1;
    }

    fn clear(&mut self) {
        self.used = 0;
        self.steps.clear();
    }
}

/// Where the rows are kept.
pub(super) enum Keeper {
    /// On the printer's thread; `spare`: whether another core may take them once there
    /// are `HERE`.
    Here {
        kept: Box<Kept>,
        spare: bool,
        rows: u64,
    },
    Away(Away),
}

pub(super) struct Away {
    batch: Batch,
    to: SyncSender<Batch>,
    /// Batches the thread has kept, to be filled again.
    back: Receiver<Batch>,
    /// `None` once waited for.
    thread: Option<JoinHandle<io::Result<Kept>>>,
}

impl Keeper {
    pub(super) fn new(words: &'static Words, width: Option<usize>, spare: bool) -> Self {
        Keeper::Here {
            kept: Box::new(Kept::new(words, width)),
            spare,
            rows: 0,
        }
    }

    pub(super) fn keep(&mut self, c: &ConnectionRecord) -> io::Result<()> {
        match self {
            Keeper::Here { kept, spare, rows } => {
                kept.keep(c)?;
                *rows += 1;
                if *spare && *rows >= HERE {
                    let kept = std::mem::replace(kept, Box::new(Kept::new(kept.words, kept.width)));
                    *self = Keeper::Away(Away::start(*kept)?);
                }
                Ok(())
            }
            Keeper::Away(_) => self.take(&mut Box::new(c.clone())),
        }
    }

    /// Keeps `c`'s row, taking the record itself when a thread keeps the rows: what is
    /// left in its place is an earlier record, room for the annotator's next.
    pub(super) fn take(&mut self, c: &mut Box<ConnectionRecord>) -> io::Result<()> {
        match self {
            Keeper::Here { .. } => self.keep(c),
            Keeper::Away(away) => {
                away.batch.take(c);
                away.sent()
            }
        }
    }

    pub(super) fn done(&mut self, conn: u64, kept: bool) -> io::Result<()> {
        match self {
            Keeper::Here { kept: k, .. } => k.done(conn, kept),
            Keeper::Away(away) => {
                away.batch.steps.push(Step::Done(conn, kept));
                away.sent()
            }
        }
    }

    /// Everything kept, the thread's work waited for.
    pub(super) fn finish(self) -> io::Result<Kept> {
        match self {
            Keeper::Here { kept, .. } => Ok(*kept),
            Keeper::Away(away) => away.finish(),
        }
    }
}

impl Away {
    fn start(mut kept: Kept) -> io::Result<Away> {
        let (to, from) = sync_channel::<Batch>(WAITING);
        let (kept_back, back) = sync_channel(WAITING);
        let thread = std::thread::Builder::new()
            .name("summary rows".into())
            .spawn(move || {
                for mut batch in from {
                    kept.take(&batch)?;
                    batch.clear();
                    // Handed back to be filled again, unless enough wait already.
                    let _ = kept_back.try_send(batch);
                }
                Ok(kept)
            })?;
        Ok(Away {
            batch: Batch::default(),
            to,
            back,
            thread: Some(thread),
        })
    }

    /// Sends the batch if it is full.
    fn sent(&mut self) -> io::Result<()> {
        if self.batch.steps.len() < BATCH {
            return Ok(());
        }
        let next = self.back.try_recv().unwrap_or_default();
        let full = std::mem::replace(&mut self.batch, next);
        match self.to.send(full) {
            Ok(()) => Ok(()),
            // The thread stopped at an error: its result says which.
            Err(_) => Err(match self.thread.take().map(JoinHandle::join) {
                Some(Ok(Err(e))) => e,
                _ => stopped(KEEPING),
            }),
        }
    }

    fn finish(self) -> io::Result<Kept> {
        let Away {
            batch, to, thread, ..
        } = self;
        // Sent if the thread still takes it; if not, its result is the error.
        let _ = to.send(batch);
        drop(to);
        thread
            .ok_or_else(|| stopped(KEEPING))?
            .join()
            .map_err(|_| stopped(KEEPING))?
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::annotate::{Limits, Record, Side};
    use crate::capture::CaptureReader;
    use crate::output::order::Tape;
    use crate::output::words::EN;
    use crate::pipeline::{self, Sink};

    /// Every connection record of the repo's fixtures.
    fn records() -> Vec<ConnectionRecord> {
        struct Gather(Vec<ConnectionRecord>);
        impl Sink for Gather {
            fn wants_segments(&self) -> bool {
                false
            }
            fn record(&mut self, record: &mut Record) -> io::Result<()> {
                if let Record::Connection(c) = record {
                    self.0.push((**c).clone());
                }
                Ok(())
            }
        }
        let mut gather = Gather(Vec::new());
        // Every capture under fixtures/, its folders included.
        let mut paths = Vec::new();
        let mut folders = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures"
        ))];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(folder).expect("fixtures").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    folders.push(path);
                } else if path
                    .extension()
                    .is_some_and(|x| x == "pcap" || x == "pcapng")
                {
                    paths.push(path);
                }
            }
        }
        paths.sort();
        for path in paths {
            let file = std::fs::File::open(&path).expect("fixture");
            // Malformed fixtures included: what they hold is kept.
            if let Ok(reader) = CaptureReader::new(Box::new(file) as Box<dyn Read>) {
                pipeline::run(reader, Limits::default(), &mut gather).expect("runs");
            }
        }
        gather.0
    }

    /// The row `c` is kept as, after `before` (if any) was kept by the same `Kept`.
    fn row_after(before: Option<&ConnectionRecord>, c: &ConnectionRecord) -> Vec<u8> {
        let mut kept = Kept::new(&EN, None);
        if let Some(before) = before {
            kept.keep(before).expect("kept");
        }
        kept.rows = InOrder::new(Tape::new(1 << 20), Mode::Stream);
        kept.keep(c).expect("kept");
        let mut row = Vec::new();
        let mut tape = kept.rows.get_mut().rewind().expect("in memory");
        tape.read_to_end(&mut row).expect("in memory");
        row
    }

    #[test]
    fn a_row_whose_tail_is_the_last_ones_is_the_row_kept_alone() {
        // The fixtures' records, and each with the other closers: a closer goes with the
        // states in a real capture, but the cells read it on its own.
        let records: Vec<ConnectionRecord> = records()
            .into_iter()
            .flat_map(|c| {
                [None, Some(Side::Client), Some(Side::Server)].map(|closed_by| ConnectionRecord {
                    closed_by,
                    ..c.clone()
                })
            })
            .collect();
        assert!(records.len() > 50, "{} records", records.len());
        let (mut shared, mut apart) = (0, 0);
        for before in &records {
            for c in &records {
                assert_eq!(
                    row_after(Some(before), c),
                    row_after(None, c),
                    "conn {} after conn {}",
                    c.conn,
                    before.conn
                );
                if TailKey::of(before) == TailKey::of(c) && before.history == c.history {
                    shared += 1;
                } else {
                    apart += 1;
                }
            }
        }
        // Both ways are taken: the tail shared, and written anew.
        assert!(
            shared > records.len() && apart > 0,
            "{shared} shared, {apart} apart"
        );
    }
}
