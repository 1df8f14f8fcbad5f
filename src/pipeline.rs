//! Wires the layers for one capture: read, decode, track and annotate, print.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::annotate::{Annotator, Flushed, Limits, Record};
use crate::capture::{CaptureError, CaptureReader, FrameNo, Timestamp, Warning};
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
    let mut decoder = Decoder::default();
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
        match decoder.decode(&frame) {
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
    }
    let unfinished = decoder.finish();
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
