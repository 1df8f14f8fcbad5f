//! The summary's kept entries (its rows, then its notes) laid out at the capture's end, in
//! blocks. With a core spare, every other block is laid out on a second thread while this
//! one lays out the next: a flood's million rows and million notes take half the time.

use std::io::{self, Read, Write};
use std::sync::mpsc::sync_channel;

use super::{Entries, bad_tape, split_entry, stopped};

/// What the second thread does, for the error if it stops.
const LAYING: &str = "laying out the summary";

/// Entries in a block: a block's text (~200 KiB of rows) is one write.
const BLOCK: usize = 2048;

/// A tape's entries, each laid out as text on its own: in order, by either thread.
pub(super) trait Lines: Sync {
    /// What a thread keeps from one entry to the next (a cache of its words).
    type Lane: Default;
    /// The length of an entry's head, and the length of its body that the head gives.
    const HEAD: usize;
    fn body(head: &[u8]) -> usize;
    /// Appends the text of `entry` (head and body).
    fn lay_out(&self, lane: &mut Self::Lane, text: &mut Vec<u8>, entry: &[u8]) -> io::Result<()>;
}

/// Lays out the entries on `tape` as `lines` does and writes them to `out`, in their
/// order; on two threads if `two`.
pub(super) fn write_lines<L: Lines>(
    out: &mut impl Write,
    tape: impl Read,
    lines: &L,
    two: bool,
) -> io::Result<()> {
    let mut tape = Entries::new(tape);
    let (mut mine, mut lane) = (Vec::new(), L::Lane::default());
    if !two {
        loop {
            let block = tape.block(BLOCK, L::HEAD, L::body)?;
            if block.is_empty() {
                return Ok(());
            }
            lay_out(block, &mut mine, lines, &mut lane)?;
            out.write_all(&mine)?;
            mine.clear();
        }
    }
    std::thread::scope(|scope| {
        // Each block and its text go to the lane and come back, their room kept.
        let (to_lane, blocks) = sync_channel::<(Vec<u8>, Vec<u8>)>(1);
        let (lane_out, laid) = sync_channel::<io::Result<(Vec<u8>, Vec<u8>)>>(1);
        scope.spawn(move || {
            let mut lane = L::Lane::default();
            for (block, mut text) in blocks {
                text.clear();
                let done = lay_out(&block, &mut text, lines, &mut lane);
                if lane_out.send(done.map(|()| (block, text))).is_err() {
                    break;
                }
            }
        });
        // Blocks alternate: this thread lays out one while the lane lays out the one
        // before it, whose text is written first.
        let (mut block, mut text) = (Vec::new(), Vec::new());
        let mut with_lane = false;
        loop {
            mine.clear();
            let mine_block = tape.block(BLOCK, L::HEAD, L::body)?;
            let last = mine_block.is_empty();
            lay_out(mine_block, &mut mine, lines, &mut lane)?;
            if with_lane {
                (block, text) = laid.recv().map_err(|_| stopped(LAYING))??;
                out.write_all(&text)?;
            }
            out.write_all(&mine)?;
            block.clear();
            let next = if last {
                &[][..]
            } else {
                tape.block(BLOCK, L::HEAD, L::body)?
            };
            if next.is_empty() {
                return Ok(());
            }
            block.extend_from_slice(next);
            to_lane
                .send((std::mem::take(&mut block), std::mem::take(&mut text)))
                .map_err(|_| stopped(LAYING))?;
            with_lane = true;
        }
    })
}

/// Lays out a block of whole entries into `text`.
fn lay_out<L: Lines>(
    mut block: &[u8],
    text: &mut Vec<u8>,
    lines: &L,
    lane: &mut L::Lane,
) -> io::Result<()> {
    while let Some(entry) = split_entry(&mut block, L::HEAD, L::body) {
        lines.lay_out(lane, text, entry)?;
    }
    if block.is_empty() {
        Ok(())
    } else {
        Err(bad_tape())
    }
}
