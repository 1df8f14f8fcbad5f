//! The summary's rows, kept for the capture's end: on the printer's thread, or, once there
//! are many, on a thread of their own. A flood's or a scan's million connections cost as
//! much to keep as to track, and a second core keeps them while the first tracks.

use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use super::lanes;
use super::{
    ROW_HEAD, SUMMARY_IN_MEMORY, Spelled, TEARDOWN, bad_tape, cell_columns, short_teardown,
    stopped, summary_row, too_long, two_bytes,
};
use crate::annotate::{ConnectionRecord, Note, Timeline};
use crate::output::order::{InOrder, Mode, Tape};
use crate::output::overview::Overview;
use crate::output::story::{ZeekKey, columns, wrap};
use crate::output::words::{Template, Words};

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
        let cells = summary_row(line, c, self.words, &mut self.ends);
        let mut head = [0; ROW_HEAD];
        let (text_len, cell_heads) = head.split_at_mut(2);
        for ((w, cell), cell_head) in self
            .widths
            .iter_mut()
            .zip(&cells)
            .zip(cell_heads.chunks_exact_mut(4))
        {
            let width = cell_columns(line, cell);
            *w = (*w).max(width);
            let ([len_lo, len_hi], [width_lo, width_hi]) =
                (two_bytes(cell.len())?, two_bytes(width)?);
            cell_head.copy_from_slice(&[len_lo, len_hi, width_lo, width_hi]);
        }
        if let Some(teardown) = cells.get(TEARDOWN) {
            let short = line
                .get(teardown.clone())
                .map_or(0, |t| short_teardown(t).len());
            let short = teardown.start..teardown.start + short;
            self.teardown_short = self.teardown_short.max(cell_columns(line, &short));
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
