//! Wires the layers for one capture: read, decode, track and annotate, print.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::annotate::{Annotator, Flushed, Limits, Record};
use crate::capture::{CaptureError, CaptureReader, Frame, FrameNo, Linktype, Timestamp, Warning};
use crate::decode::{Decoded, Decoder, Skip};
use crate::output::Printer;

/// What a finished run over one capture has to say besides its records.
#[derive(Debug, Default)]
pub struct Outcome {
    pub frames: u64,
    pub segments: u64,
    /// Frames skipped, by reason: how many, and the first one's number.
    pub skipped: BTreeMap<Skip, (u64, FrameNo)>,
    pub warnings: Vec<Warning>,
    /// Connections reported before their end because of the limits.
    pub flushed: Flushed,
    /// The fault that stopped reading early, if any; everything before it was reported.
    pub stopped_by: Option<CaptureError>,
}

impl Outcome {
    /// Frames that could not be decoded (as opposed to frames that are simply not TCP).
    pub fn undecodable(&self) -> impl Iterator<Item = (&Skip, &(u64, FrameNo))> {
        self.skipped
            .iter()
            .filter(|(skip, _)| !matches!(skip, Skip::NotTcp | Skip::NotIp))
    }

    /// `skipped 3 of 120 frames: 3 EtherType 0x88b5 not decoded (first: frame 7)`, when
    /// any frame could not be decoded.
    pub fn skipped_summary(&self) -> Option<String> {
        let reasons: Vec<String> = self
            .undecodable()
            .map(|(skip, (n, first))| format!("{n} {skip} (first: frame {first})"))
            .collect();
        (!reasons.is_empty()).then(|| {
            let total: u64 = self.undecodable().map(|(_, (n, _))| n).sum();
            format!(
                "skipped {total} of {} frames: {}",
                self.frames,
                reasons.join(", ")
            )
        })
    }
}

/// Where records go: a printer, or `synfin check`'s judge.
pub trait Sink {
    /// Whether segment records are wanted (a summary needs connection records only).
    fn wants_segments(&self) -> bool;
    /// Whether connection records need their timelines (a table shows none).
    fn wants_timelines(&self) -> bool {
        true
    }
    /// `record`, which a sink may take: it then leaves another connection record in a
    /// connection record's place, which the annotator reuses as room.
    fn record(&mut self, record: &mut Record) -> io::Result<()>;
}

impl<W: Write> Sink for Printer<W> {
    fn wants_segments(&self) -> bool {
        Printer::wants_segments(self)
    }
    fn wants_timelines(&self) -> bool {
        Printer::wants_timelines(self)
    }
    fn record(&mut self, record: &mut Record) -> io::Result<()> {
        Printer::record(self, record)
    }
}

/// Runs one capture through every layer into `printer`. Only output errors are returned;
/// input faults end up in the outcome.
pub fn run(
    mut reader: CaptureReader,
    limits: Limits,
    printer: &mut impl Sink,
) -> io::Result<Outcome> {
    let mut layers = Layers::new(limits, printer);
    loop {
        let frame = match reader.next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(e) => {
                layers.outcome.stopped_by = Some(e);
                break;
            }
        };
        layers.frame(&frame, printer)?;
    }
    layers.finish(reader.warnings(), printer)
}

/// A frame read from a live capture, owned to cross from the reading thread.
struct LiveFrame {
    number: FrameNo,
    ts: Timestamp,
    linktype: Linktype,
    data: Vec<u8>,
    orig_len: u32,
}

enum Read {
    Frame(LiveFrame),
    /// The stream ended, by a fault or not, with the reader's warnings.
    End(Option<CaptureError>, Vec<Warning>),
}

/// How often a quiet live capture's clock moves on without a segment.
const TICK: Duration = Duration::from_millis(500);
/// Frames read ahead of the layers, at most: a bounded queue, so memory stays bounded.
const READ_AHEAD: usize = 4096;

/// Runs a live capture's pcap stream through every layer into `printer`, as frames arrive.
/// When no frame comes, the capture's clock follows the wall clock, so that connections
/// are reported when they finish, not when the next frame comes.
pub fn run_live(
    src: impl io::Read + Send + 'static,
    limits: Limits,
    printer: &mut impl Sink,
) -> io::Result<Outcome> {
    let (tx, frames) = mpsc::sync_channel(READ_AHEAD);
    std::thread::spawn(move || {
        let mut reader = match CaptureReader::new(Box::new(src)) {
            Ok(reader) => reader,
            Err(e) => {
                let _ = tx.send(Read::End(Some(e), Vec::new()));
                return;
            }
        };
        let stopped = loop {
            match reader.next_frame() {
                Ok(Some(f)) => {
                    let frame = LiveFrame {
                        number: f.number,
                        ts: f.ts,
                        linktype: f.linktype,
                        data: f.data.to_vec(),
                        orig_len: f.orig_len,
                    };
                    if tx.send(Read::Frame(frame)).is_err() {
                        return;
                    }
                }
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        let _ = tx.send(Read::End(stopped, reader.warnings().to_vec()));
    });
    let mut layers = Layers::new(limits, printer);
    // The wall clock when the last frame came, and that frame's capture time.
    let mut last: Option<(Instant, Timestamp)> = None;
    let warnings = loop {
        match frames.recv_timeout(TICK) {
            Ok(Read::Frame(f)) => {
                last = Some((Instant::now(), f.ts));
                let frame = Frame {
                    number: f.number,
                    ts: f.ts,
                    linktype: f.linktype,
                    data: &f.data,
                    orig_len: f.orig_len,
                };
                layers.frame(&frame, printer)?;
            }
            Ok(Read::End(stopped, warnings)) => {
                layers.outcome.stopped_by = stopped;
                break warnings;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Some((at, ts)) = last {
                    let quiet = u64::try_from(at.elapsed().as_nanos()).unwrap_or(u64::MAX);
                    let now = Timestamp(ts.0.saturating_add(quiet));
                    layers.annotator.tick(now, &mut |r| printer.record(r))?;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break Vec::new(),
        }
    };
    layers.finish(&warnings, printer)
}

/// The layers below the printer for one capture, fed a frame at a time.
struct Layers {
    outcome: Outcome,
    annotator: Annotator,
    origin: Option<Timestamp>,
    decoder: Decoder,
}

impl Layers {
    /// The layers for what `printer` wants.
    fn new(limits: Limits, printer: &impl Sink) -> Layers {
        let annotator = if printer.wants_segments() {
            Annotator::new(limits)
        } else {
            Annotator::connections_only(limits)
        };
        Layers {
            outcome: Outcome::default(),
            annotator: if printer.wants_timelines() {
                annotator
            } else {
                annotator.without_timelines()
            },
            origin: None,
            decoder: Decoder::default(),
        }
    }

    // Always inlined: this is the per-packet path, and a call here costs measurably.
    #[inline(always)]
    fn frame(&mut self, frame: &Frame, printer: &mut impl Sink) -> io::Result<()> {
        let outcome = &mut self.outcome;
        let annotator = &mut self.annotator;
        outcome.frames += 1;
        let origin = *self.origin.get_or_insert(frame.ts);
        match self.decoder.decode(frame) {
            Decoded::Segment(segment) => {
                outcome.segments += 1;
                annotator.segment(
                    frame.number,
                    frame.ts,
                    frame.ts.secs_since(origin),
                    segment,
                    &mut |record| printer.record(record),
                )?;
            }
            // Counted at the end, with the others never completed.
            Decoded::Held => {}
            Decoded::Skipped(skip) => {
                outcome.skipped.entry(skip).or_insert((0, frame.number)).0 += 1;
            }
            Decoded::HeaderOnly(header) => {
                annotator.header_only(&header, &mut |record| printer.record(record))?;
                let skipped = outcome.skipped.entry(header.skip);
                skipped.or_insert((0, frame.number)).0 += 1;
            }
        }
        Ok(())
    }

    fn finish(mut self, warnings: &[Warning], printer: &mut impl Sink) -> io::Result<Outcome> {
        let unfinished = self.decoder.finish();
        if let Some(first) = unfinished.first {
            let entry = self
                .outcome
                .skipped
                .entry(Skip::IpFragment)
                .or_insert((0, first));
            entry.0 += unfinished.frames;
            entry.1 = entry.1.min(first);
        }
        self.annotator
            .finish(&mut |record| printer.record(record))?;
        self.outcome.warnings = warnings.to_vec();
        self.outcome.flushed = self.annotator.flushed();
        Ok(self.outcome)
    }
}
