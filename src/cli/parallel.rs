//! Several captures analysed at once on all cores, their output written in the order given.
//!
//! Each capture's output goes to a spool (memory, then an anonymous temporary file past
//! `SPOOL_MEMORY`); the main thread copies the spools out in order. Workers start a capture
//! only a little ahead of the one being written, so memory stays bounded however many
//! captures there are.

use std::io::{self, Write};
use std::sync::{Condvar, Mutex, MutexGuard};

use synfin::output::Tape;

/// Bytes of a capture's output held in memory before the rest goes to a temporary file.
const SPOOL_MEMORY: usize = 1 << 20;

/// One capture's result: its output, its messages for stderr, its exit status.
type Done = (Tape, String, io::Result<u8>);

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
    work: impl Fn(&str, Tape) -> Done + Sync,
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
                    let done = work(
                        captures.get(i).map_or("", String::as_str),
                        Tape::new(SPOOL_MEMORY),
                    );
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
                let (mut spool, err, result) = {
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
                let copied = spool
                    .rewind()
                    .and_then(|mut back| io::copy(&mut back, &mut *out));
                if let Err(e) = copied.and_then(|_| out.flush()) {
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
