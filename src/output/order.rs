//! Connections in index order (`tcp.stream` order) for the formats people read.
//!
//! Connections finish in any order, and the printers write each one as it finishes. An
//! `InOrder` writer sits between a printer and its output: the bytes of the connection whose
//! turn it is go straight through, those of later connections wait until every connection
//! before them is done. What waits is held in memory up to a limit, then in a temporary
//! file, so memory follows the live connections, not the capture's size.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// Bytes held in memory for waiting connections before they go to a temporary file.
pub const MEMORY_LIMIT: usize = 32 * 1024 * 1024;

/// How an `InOrder` writer treats the bytes of connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Straight through, as they come (JSON lines stream).
    Stream,
    /// In index order; the connection whose turn it is goes straight through.
    Ordered,
    /// In index order, each connection held until it is done: it may yet be dropped (a
    /// filter on what is known at its record).
    Held,
    /// Each connection held until it is done, then written at once: in the order they
    /// finish (a live capture, where waiting for a long connection would hold all others).
    AsFinished,
}

/// A writer that puts the output of connections in the order of their index.
pub struct InOrder<W: Write> {
    out: W,
    mode: Mode,
    /// The lowest index not yet done: its bytes go straight through.
    head: u64,
    /// Whose bytes are written now; `None`: the output's own (headings, summaries).
    target: Option<u64>,
    waiting: BTreeMap<u64, Waiting>,
    spool: Spool,
}

#[derive(Default)]
struct Waiting {
    /// Where its bytes are, in order.
    chunks: Vec<Chunk>,
    done: bool,
}

impl Waiting {
    /// Bytes in memory.
    fn in_memory(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| match c {
                Chunk::Memory(bytes) => bytes.len(),
                Chunk::File(..) => 0,
            })
            .sum()
    }
}

enum Chunk {
    Memory(Vec<u8>),
    /// In the spool's file: offset and length.
    File(u64, u64),
}

impl<W: Write> InOrder<W> {
    pub fn new(out: W, mode: Mode) -> Self {
        Self::with_limit(out, mode, MEMORY_LIMIT)
    }

    pub fn with_limit(out: W, mode: Mode, limit: usize) -> Self {
        InOrder {
            out,
            mode,
            head: 0,
            target: None,
            waiting: BTreeMap::new(),
            spool: Spool::new(limit),
        }
    }

    /// The bytes written from now on belong to connection `conn` (`None`: to the output).
    pub fn to(&mut self, conn: Option<u64>) {
        self.target = conn;
    }

    /// Connection `conn` has written all it will (until the capture's end: a segment that
    /// comes after its record is written late, as the printers say); `keep`: its bytes are
    /// wanted (held ones are dropped otherwise).
    pub fn done(&mut self, conn: u64, keep: bool) -> io::Result<()> {
        if self.mode == Mode::AsFinished {
            let waiting = self.waiting.remove(&conn).unwrap_or_default();
            if keep {
                return self.release(waiting.chunks);
            }
            self.spool.in_memory -= waiting.in_memory();
            return Ok(());
        }
        if self.mode == Mode::Stream || conn < self.head {
            return Ok(());
        }
        if self.mode == Mode::Ordered && conn == self.head {
            // Its bytes went straight through, and nothing of it waits: the next turn.
            self.head += 1;
        } else {
            let waiting = self.waiting.entry(conn).or_default();
            waiting.done = true;
            if !keep {
                self.spool.in_memory -= waiting.in_memory();
                waiting.chunks.clear();
            }
        }
        while let Some(next) = self.waiting.remove(&self.head) {
            let done = next.done;
            if !done && self.mode == Mode::Held {
                self.waiting.insert(self.head, next);
                break;
            }
            self.release(next.chunks)?;
            if !done {
                // Its turn now: what it writes next goes straight through.
                break;
            }
            self.head += 1;
        }
        Ok(())
    }

    /// Whether connection `conn` is done (its record came).
    pub fn is_done(&self, conn: u64) -> bool {
        conn < self.head || self.waiting.get(&conn).is_some_and(|w| w.done)
    }

    /// Writes everything still waiting, in order, whether done or not (at a capture's end),
    /// and starts again from index 0 for the next capture.
    pub fn release_all(&mut self) -> io::Result<()> {
        let waiting = std::mem::take(&mut self.waiting);
        for (_, w) in waiting {
            self.release(w.chunks)?;
        }
        self.spool.clear()?;
        self.head = 0;
        self.target = None;
        Ok(())
    }

    /// The connection whose bytes written now must wait; `None`: they go straight
    /// through (streaming, the output's own, the connection whose turn it is, or one done).
    fn waits(&self) -> Option<u64> {
        match (self.mode, self.target) {
            (Mode::Ordered, Some(conn)) if conn > self.head => Some(conn),
            (Mode::Held, Some(conn)) if conn >= self.head => Some(conn),
            (Mode::AsFinished, Some(conn)) => Some(conn),
            _ => None,
        }
    }

    fn release(&mut self, chunks: Vec<Chunk>) -> io::Result<()> {
        for chunk in chunks {
            match chunk {
                Chunk::Memory(bytes) => {
                    self.spool.in_memory -= bytes.len();
                    self.out.write_all(&bytes)?;
                }
                Chunk::File(at, len) => self.spool.copy(at, len, &mut self.out)?,
            }
        }
        Ok(())
    }

    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> Write for InOrder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(conn) = self.waits() else {
            return self.out.write(buf);
        };
        let waiting = self.waiting.entry(conn).or_default();
        match waiting.chunks.last_mut() {
            Some(Chunk::Memory(bytes)) => bytes.extend_from_slice(buf),
            _ => waiting.chunks.push(Chunk::Memory(buf.to_vec())),
        }
        self.spool.in_memory += buf.len();
        if self.spool.in_memory > self.spool.limit {
            self.spool.take(&mut self.waiting)?;
        }
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        // Whole, as the writer beneath takes it (a buffered writer copies it at once).
        match self.waits() {
            Some(_) => self.write(buf).map(drop),
            None => self.out.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The temporary file that waiting bytes move to beyond the memory limit.
struct Spool {
    limit: usize,
    in_memory: usize,
    file: Option<File>,
    len: u64,
}

impl Spool {
    fn new(limit: usize) -> Self {
        Spool {
            limit,
            in_memory: 0,
            file: None,
            len: 0,
        }
    }

    /// Moves every waiting byte held in memory to the file.
    fn take(&mut self, waiting: &mut BTreeMap<u64, Waiting>) -> io::Result<()> {
        let file = match &mut self.file {
            Some(file) => file,
            None => self.file.insert(tempfile::tempfile()?),
        };
        file.seek(SeekFrom::Start(self.len))?;
        let mut out = io::BufWriter::new(&mut *file);
        for w in waiting.values_mut() {
            for chunk in &mut w.chunks {
                if let Chunk::Memory(bytes) = chunk {
                    out.write_all(bytes)?;
                    let len = bytes.len() as u64;
                    *chunk = Chunk::File(self.len, len);
                    self.len += len;
                }
            }
        }
        out.flush()?;
        self.in_memory = 0;
        Ok(())
    }

    fn copy(&mut self, at: u64, len: u64, out: &mut impl Write) -> io::Result<()> {
        let Some(file) = &mut self.file else {
            return Err(io::Error::other("spooled output lost its file"));
        };
        file.seek(SeekFrom::Start(at))?;
        let copied = io::copy(&mut (&mut *file).take(len), out)?;
        if copied != len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "spooled output cut short",
            ));
        }
        Ok(())
    }

    fn clear(&mut self) -> io::Result<()> {
        if let Some(file) = &mut self.file {
            file.set_len(0)?;
        }
        self.len = 0;
        self.in_memory = 0;
        Ok(())
    }
}

/// Bytes written once and read back at the end: in memory up to a limit, then in a
/// temporary file.
pub struct Tape {
    limit: usize,
    memory: Vec<u8>,
    file: Option<io::BufWriter<File>>,
}

/// A tape's file is written and read in blocks this large: a flood's summary is a hundred
/// megabytes, and each system call costs more than the copy.
const TAPE_BUFFER: usize = 64 * 1024;

impl Tape {
    pub fn new(limit: usize) -> Self {
        Tape {
            limit,
            memory: Vec::new(),
            file: None,
        }
    }

    /// Everything written so far, from the start, as often as asked; writing again is for
    /// after a read to the end (a file's reader and writer share its position).
    pub fn rewind(&mut self) -> io::Result<Box<dyn io::BufRead + '_>> {
        match &mut self.file {
            None => Ok(Box::new(self.memory.as_slice())),
            Some(file) => {
                file.flush()?;
                let mut file = file.get_ref();
                file.seek(SeekFrom::Start(0))?;
                Ok(Box::new(io::BufReader::with_capacity(TAPE_BUFFER, file)))
            }
        }
    }

    /// Forgets everything written (its file, if any, is removed).
    pub fn clear(&mut self) {
        self.memory = Vec::new();
        self.file = None;
    }
}

impl Write for Tape {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(file) = &mut self.file {
            return file.write(buf);
        }
        self.memory.extend_from_slice(buf);
        if self.memory.len() > self.limit {
            let mut file = io::BufWriter::with_capacity(TAPE_BUFFER, tempfile::tempfile()?);
            file.write_all(&self.memory)?;
            self.memory = Vec::new();
            self.file = Some(file);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `text` for `conn`, marking it done when `done`.
    fn say(o: &mut InOrder<Vec<u8>>, conn: u64, text: &str, done: bool) {
        o.to(Some(conn));
        o.write_all(text.as_bytes()).expect("in memory");
        o.to(None);
        if done {
            o.done(conn, true).expect("in memory");
        }
    }

    fn run(limit: usize) -> String {
        let mut o = InOrder::with_limit(Vec::new(), Mode::Ordered, limit);
        say(&mut o, 0, "0a ", false);
        say(&mut o, 2, "2a ", false);
        say(&mut o, 1, "1a ", false);
        say(&mut o, 2, "2b ", true);
        say(&mut o, 0, "0b ", false);
        // Not 1's turn yet: waits.
        say(&mut o, 3, "3 ", true);
        say(&mut o, 0, "0c ", true);
        // 1 is the head now: straight through, and 2 and 3 follow it once it is done.
        say(&mut o, 1, "1b ", true);
        say(&mut o, 5, "5 ", true);
        o.to(None);
        o.write_all(b"| ").expect("in memory");
        o.release_all().expect("in memory");
        // A late segment of a connection already written goes straight through.
        say(&mut o, 0, "0 again", false);
        String::from_utf8(o.into_inner()).expect("text")
    }

    #[test]
    fn connections_come_out_by_index() {
        let want = "0a 0b 0c 1a 1b 2a 2b 3 | 5 0 again";
        assert_eq!(run(MEMORY_LIMIT), want);
    }

    #[test]
    fn waiting_bytes_spill_to_a_file_and_come_back_alike() {
        // A limit of one byte puts every waiting chunk in the file.
        assert_eq!(run(1), run(MEMORY_LIMIT));
        let mut o = InOrder::with_limit(Vec::new(), Mode::Ordered, 4);
        say(&mut o, 1, "waiting long", true);
        assert!(o.spool.file.is_some() && o.spool.in_memory == 0);
        say(&mut o, 0, "first ", true);
        assert_eq!(o.into_inner(), b"first waiting long");
    }

    #[test]
    fn held_connections_wait_for_their_end_and_dropped_ones_vanish() {
        for limit in [1, MEMORY_LIMIT] {
            let mut o = InOrder::with_limit(Vec::new(), Mode::Held, limit);
            say(&mut o, 0, "0a ", false);
            say(&mut o, 1, "1 ", false);
            assert!(o.get_mut().is_empty(), "the head is held too");
            say(&mut o, 0, "0b ", false);
            o.done(1, false).expect("in memory");
            assert!(o.is_done(1) && !o.is_done(0));
            o.done(0, true).expect("in memory");
            say(&mut o, 2, "2 ", false);
            o.done(2, true).expect("in memory");
            assert_eq!(o.spool.in_memory, 0);
            assert_eq!(o.into_inner(), b"0a 0b 2 ");
        }
    }

    #[test]
    fn live_output_comes_connection_by_connection_as_each_finishes() {
        for limit in [1, 1 << 20] {
            let mut o = InOrder::with_limit(Vec::new(), Mode::AsFinished, limit);
            say(&mut o, 0, "0a ", false);
            say(&mut o, 1, "1a ", false);
            say(&mut o, 2, "2 ", false);
            say(&mut o, 0, "0b ", false);
            // Connection 1 finishes first: it does not wait for 0; 2 is dropped.
            o.done(1, true).expect("written");
            o.done(2, false).expect("dropped");
            o.done(0, true).expect("written");
            assert_eq!(o.spool.in_memory, 0);
            assert_eq!(o.into_inner(), b"1a 0a 0b ");
        }
    }

    #[test]
    fn streaming_writes_as_it_comes() {
        let mut o = InOrder::new(Vec::new(), Mode::Stream);
        say(&mut o, 2, "2 ", true);
        say(&mut o, 0, "0", true);
        assert_eq!(o.into_inner(), b"2 0");
    }

    #[test]
    fn a_tape_reads_back_what_was_written_from_memory_or_its_file() {
        for limit in [1, 1 << 20] {
            let mut tape = Tape::new(limit);
            tape.write_all(b"one\n").expect("written");
            tape.write_all(b"two\n").expect("written");
            assert_eq!(tape.file.is_some(), limit == 1);
            let back = |tape: &mut Tape| {
                let mut back = String::new();
                tape.rewind()
                    .expect("rewound")
                    .read_to_string(&mut back)
                    .expect("read");
                back
            };
            // Read back twice (the table's rows, then its notes), then written to again.
            assert_eq!(back(&mut tape), "one\ntwo\n");
            assert_eq!(back(&mut tape), "one\ntwo\n");
            tape.write_all(b"three\n").expect("written");
            assert_eq!(back(&mut tape), "one\ntwo\nthree\n");
            tape.clear();
            tape.write_all(b"four\n").expect("written");
            assert_eq!(back(&mut tape), "four\n");
        }
    }
}
