//! Wires the layers for one capture: capture → decode → annotate → output.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::annotate::{Annotator, Flushed, Limits, Record};
use crate::capture::{CaptureError, CaptureReader, FrameNo, Timestamp, Warning};
use crate::decode::{self, Skip};
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
}

/// Where records go: a printer, or `synfin check`'s judge.
pub trait Sink {
    /// Whether segment records are wanted (a summary needs connection records only).
    fn wants_segments(&self) -> bool;
    fn record(&mut self, record: &Record) -> io::Result<()>;
}

impl<W: Write> Sink for Printer<W> {
    fn wants_segments(&self) -> bool {
        Printer::wants_segments(self)
    }
    fn record(&mut self, record: &Record) -> io::Result<()> {
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
    let mut outcome = Outcome::default();
    let mut annotator = if printer.wants_segments() {
        Annotator::new(limits)
    } else {
        Annotator::connections_only(limits)
    };
    let mut origin: Option<Timestamp> = None;
    let mut reassembler = decode::Reassembler::default();
    // Decoded in place, frame after frame: moving a segment costs more than it seems.
    let mut segment = decode::Segment::EMPTY;
    loop {
        let frame = match reader.next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(e) => {
                outcome.stopped_by = Some(e);
                break;
            }
        };
        outcome.frames += 1;
        let origin = *origin.get_or_insert(frame.ts);
        let decoded = match decode::decode_into(&frame, &mut segment) {
            // A fragment: its datagram is decoded at the frame that completes it; the
            // frames of datagrams never completed are counted at the end.
            Err(Skip::IpFragment) => match decode::fragment(&frame) {
                Some(piece) => match reassembler.add(&piece, frame.number) {
                    Some(packet) => decode::decode_ip(&packet).map(|whole| segment = whole),
                    None => continue,
                },
                None => Err(Skip::IpFragment),
            },
            other => other,
        };
        match decoded {
            Ok(()) => {
                outcome.segments += 1;
                annotator.segment(
                    frame.number,
                    frame.ts,
                    frame.ts.secs_since(origin),
                    &segment,
                    &mut |record| printer.record(record),
                )?;
            }
            Err(skip) => outcome.skipped.entry(skip).or_insert((0, frame.number)).0 += 1,
        }
    }
    let unfinished = reassembler.unfinished();
    if let Some(first) = unfinished.first {
        let entry = outcome
            .skipped
            .entry(Skip::IpFragment)
            .or_insert((0, first));
        entry.0 += unfinished.frames;
        entry.1 = entry.1.min(first);
    }
    annotator.finish(&mut |record| printer.record(record))?;
    outcome.warnings = reader.warnings().to_vec();
    outcome.flushed = annotator.flushed();
    Ok(outcome)
}
