//! The summary's kept rows laid out at the capture's end, in blocks of rows. With a core
//! spare, every other block is laid out on a second thread while this one lays out the
//! next: a flood's million rows take half the time.

use std::io::{self, BufRead, Write};
use std::sync::mpsc::sync_channel;

use super::{Entries, next_entry, next_row, stopped};

/// What the second thread does, for the error if it stops.
const LAYING: &str = "laying out the summary's rows";

/// Rows in a block: a block's text (~200 KiB) is one write.
const BLOCK_ROWS: usize = 2048;

/// Appends a row's line (its cells: text, width).
pub(super) type Line<'l> = dyn Fn(&mut Vec<u8>, &[(&[u8], usize)]) -> io::Result<()> + Sync + 'l;

/// Lays out the rows on `tape` as `line` does and writes them to `out`, in their order;
/// on two threads if `two`.
pub(super) fn write_rows(
    out: &mut impl Write,
    tape: impl BufRead,
    line: &Line<'_>,
    two: bool,
) -> io::Result<()> {
    let mut rows = Entries::new(tape);
    let mut mine = Vec::new();
    if !two {
        while lay_out(&mut rows, &mut mine, line)? > 0 {
            out.write_all(&mine)?;
            mine.clear();
        }
        return Ok(());
    }
    std::thread::scope(|scope| {
        // Each block and its text go to the lane and come back, their room kept.
        let (to_lane, blocks) = sync_channel::<(Vec<u8>, Vec<u8>)>(1);
        let (lane_out, laid) = sync_channel::<io::Result<(Vec<u8>, Vec<u8>)>>(1);
        scope.spawn(move || {
            for (block, mut text) in blocks {
                text.clear();
                let done = lay_out(&mut Entries::new(block.as_slice()), &mut text, line);
                if lane_out.send(done.map(|_| (block, text))).is_err() {
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
            let n = lay_out(&mut rows, &mut mine, line)?;
            if with_lane {
                (block, text) = laid.recv().map_err(|_| stopped(LAYING))??;
                out.write_all(&text)?;
            }
            out.write_all(&mine)?;
            block.clear();
            if n == 0 || copy_block(&mut rows, &mut block)? == 0 {
                return Ok(());
            }
            to_lane
                .send((std::mem::take(&mut block), std::mem::take(&mut text)))
                .map_err(|_| stopped(LAYING))?;
            with_lane = true;
        }
    })
}

/// Lays out up to a block of rows into `text`; how many.
fn lay_out<R: BufRead>(
    rows: &mut Entries<R>,
    text: &mut Vec<u8>,
    line: &Line<'_>,
) -> io::Result<usize> {
    for n in 0..BLOCK_ROWS {
        let Some(cells) = next_row(rows)? else {
            return Ok(n);
        };
        line(text, &cells)?;
    }
    Ok(BLOCK_ROWS)
}

/// Copies up to a block of rows' entries as they are; how many.
fn copy_block<R: BufRead>(rows: &mut Entries<R>, block: &mut Vec<u8>) -> io::Result<usize> {
    for n in 0..BLOCK_ROWS {
        let Some(entry) = next_entry(rows)? else {
            return Ok(n);
        };
        block.extend_from_slice(entry);
    }
    Ok(BLOCK_ROWS)
}
