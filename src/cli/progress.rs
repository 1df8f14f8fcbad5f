//! A progress line on stderr for long runs on a terminal: bytes read of the total, rate and
//! time left (a spinner when the size is unknown, as on stdin), shown after a second of
//! work, never when stderr is a pipe or a file.

use std::io::{self, IsTerminal, Read};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Work shorter than this shows no progress line.
const QUIET_FOR: Duration = Duration::from_secs(1);

/// Counts the bytes read through it into a progress bar, which it shows once `QUIET_FOR`
/// has passed.
pub struct Counted<R> {
    inner: R,
    bar: ProgressBar,
    started: Instant,
    shown: bool,
}

impl<R: Read> Counted<R> {
    /// `total`: the input's size, when known. The bar is returned too, to clear it at the
    /// end.
    pub fn new(inner: R, total: Option<u64>) -> (Self, ProgressBar) {
        let bar = match total {
            Some(total) => ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden())
                .with_style(style(
                    "{spinner} {bytes}/{total_bytes} {bytes_per_sec}, {eta} left {wide_msg}",
                )),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
                .with_style(style("{spinner} {bytes} read, {bytes_per_sec} {wide_msg}")),
        };
        let counted = Counted {
            inner,
            bar: bar.clone(),
            started: Instant::now(),
            shown: false,
        };
        (counted, bar)
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        if !self.shown && self.started.elapsed() >= QUIET_FOR {
            self.shown = true;
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        Ok(n)
    }
}

/// Whether a progress line may be drawn: only on a terminal, and only where it draws over
/// no output: standard output goes elsewhere, or the format writes only at the end.
pub fn wanted(writes_at_end: bool) -> bool {
    io::stderr().is_terminal() && (writes_at_end || !io::stdout().is_terminal())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_read_is_counted_and_nothing_shows_at_first() {
        let data = vec![7u8; 100_000];
        let (mut counted, bar) = Counted::new(&data[..], Some(100_000));
        let mut sink = Vec::new();
        io::copy(&mut counted, &mut sink).expect("read");
        assert_eq!(sink, data);
        assert_eq!(bar.position(), 100_000);
        assert!(!counted.shown, "a run under a second shows nothing");
        assert!(bar.is_hidden());
    }
}
