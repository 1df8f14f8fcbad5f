//! Several captures analysed at once on all cores, their output written in the order given.
//!
//! Each capture's output goes to a spool (memory, then an anonymous temporary file past
//! `SPOOL_MEMORY`); the main thread copies the spools out in order. Workers start a capture
//! only a little ahead of the one being written, so memory stays bounded however many
//! captures there are.

use std::fs::File;
use std::io::{self, BufWriter, Seek, Write};
use std::sync::{Condvar, Mutex, MutexGuard};

/// Bytes of a capture's output held in memory before the rest goes to a temporary file.
const SPOOL_MEMORY: usize = 1 << 20;

/// A capture's output, in memory while small.
#[derive(Default)]
pub struct Spool {
    memory: Vec<u8>,
    file: Option<BufWriter<File>>,
}

impl Write for Spool {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.file.is_none() && self.memory.len() + buf.len() > SPOOL_MEMORY {
            let mut file = BufWriter::with_capacity(1 << 16, tempfile::tempfile()?);
            file.write_all(&self.memory)?;
            self.memory = Vec::new();
            self.file = Some(file);
        }
        match &mut self.file {
            Some(file) => file.write(buf),
            None => {
                self.memory.extend_from_slice(buf);
                Ok(buf.len())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

impl Spool {
    fn copy_to(self, out: &mut dyn Write) -> io::Result<()> {
        match self.file {
            Some(file) => {
                let mut file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
                file.rewind()?;
                io::copy(&mut file, out)?;
            }
            None => out.write_all(&self.memory)?,
        }
        Ok(())
    }
}

/// One capture's result: its output, its messages for stderr, its exit status.
type Done = (Spool, String, io::Result<u8>);

struct State {
    next: usize,
    written: usize,
    done: Vec<Option<Done>>,
    stop: bool,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `work` on every capture with `workers` threads; returns the highest exit status.
pub fn run(
    captures: &[String],
    workers: usize,
    work: impl Fn(&str, Spool) -> Done + Sync,
    mut out: Box<dyn Write>,
) -> io::Result<u8> {
    let n = captures.len();
    let ahead = workers * 2;
    let state = Mutex::new(State {
        next: 0,
        written: 0,
        done: (0..n).map(|_| None).collect(),
        stop: false,
    });
    let changed = Condvar::new();
    std::thread::scope(|scope| {
        for _ in 0..workers.min(n) {
            scope.spawn(|| {
                loop {
                    let i = {
                        let mut st = lock(&state);
                        while !st.stop && st.next < n && st.next >= st.written + ahead {
                            st = changed
                                .wait(st)
                                .unwrap_or_else(|poisoned| poisoned.into_inner());
                        }
                        if st.stop || st.next >= n {
                            break;
                        }
                        st.next += 1;
                        st.next - 1
                    };
                    let done = work(captures.get(i).map_or("", String::as_str), Spool::default());
                    if let Some(slot) = lock(&state).done.get_mut(i) {
                        *slot = Some(done);
                    }
                    changed.notify_all();
                }
            });
        }
        let result = (|| {
            let mut status = 0;
            for i in 0..n {
                let (spool, err, result) = {
                    let mut st = lock(&state);
                    loop {
                        if let Some(done) = st.done.get_mut(i).and_then(Option::take) {
                            break done;
                        }
                        st = changed
                            .wait(st)
                            .unwrap_or_else(|poisoned| poisoned.into_inner());
                    }
                };
                if let Err(e) = spool.copy_to(&mut *out).and_then(|()| out.flush()) {
                    // Nobody reads any more: stop at once, as a single capture would.
                    if e.kind() == io::ErrorKind::BrokenPipe {
                        std::process::exit(0);
                    }
                    return Err(e);
                }
                eprint!("{err}");
                status = status.max(result?);
                lock(&state).written = i + 1;
                changed.notify_all();
            }
            Ok(status)
        })();
        // On an output error, let the workers finish what they hold and start nothing more.
        lock(&state).stop = true;
        changed.notify_all();
        result
    })
}
