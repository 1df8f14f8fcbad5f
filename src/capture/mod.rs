//! Capture layer: files and formats (pcap, pcapng, gzip), frame numbers and timestamps.
//!
//! `pcap-file` parses headers and blocks; this layer adds what a lenient reader needs on
//! top: bounded buffering from any `Read`, per-interface link types and timestamp
//! resolutions, and records that Wireshark reads but the crate rejects (lengths beyond the
//! snap length, nanosecond fields of 10^9 or more), each kind reported once as a warning.

pub mod live;
mod options;
mod reader;

pub use reader::{CaptureReader, starts_like_capture};

use std::fmt;

/// 1-based frame number counting every packet record of the file (= `frame.number`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FrameNo(pub u64);

impl fmt::Display for FrameNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A link-layer header type (`LINKTYPE_*`), open to values this tool does not know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Linktype(pub u32);

impl Linktype {
    pub const NULL: Linktype = Linktype(0);
    pub const ETHERNET: Linktype = Linktype(1);
    pub const RAW: Linktype = Linktype(101);
    pub const LOOP: Linktype = Linktype(108);
    pub const LINUX_SLL: Linktype = Linktype(113);
    pub const IPV4: Linktype = Linktype(228);
    pub const IPV6: Linktype = Linktype(229);
    pub const LINUX_SLL2: Linktype = Linktype(276);
    pub const ERF: Linktype = Linktype(197);
}

impl fmt::Display for Linktype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Time of capture in nanoseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// Seconds from `origin` to `self`; negative when the capture's clock went backwards.
    pub fn secs_since(self, origin: Timestamp) -> f64 {
        (i128::from(self.0) - i128::from(origin.0)) as f64 / 1e9
    }
}

/// One packet record, borrowed from the reader's buffer.
#[derive(Debug)]
pub struct Frame<'a> {
    pub number: FrameNo,
    pub ts: Timestamp,
    pub linktype: Linktype,
    pub data: &'a [u8],
    /// Length of the packet on the wire; more than `data.len()` when the snap length cut it.
    pub orig_len: u32,
}

impl Frame<'_> {
    /// An Endace ERF record carries its own time, which Wireshark shows instead of the
    /// record header's: seconds in the high 32 bits of a little-endian 64-bit field, a
    /// binary fraction in the low 32 (rounded to the nearest nanosecond).
    fn with_link_time(mut self) -> Self {
        if self.linktype == Linktype::ERF
            && let Some(field) = self.data.get(..8).and_then(|b| b.try_into().ok())
        {
            let erf = u64::from_le_bytes(field);
            let fraction = (erf & 0xffff_ffff) * 1_000_000_000;
            let nanos = (fraction + ((fraction & 0x8000_0000) << 1)) >> 32;
            self.ts = Timestamp((erf >> 32) * 1_000_000_000 + nanos);
        }
        self
    }
}

/// A fault that stops reading the file. Frames before it have been delivered.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("empty file")]
    Empty,
    #[error("not a pcap or pcapng capture (magic number {0:02x?})")]
    NotACapture(Vec<u8>),
    #[error("capture cut short: frame {frame} at byte {offset} is incomplete")]
    Truncated { frame: FrameNo, offset: u64 },
    #[error("frame {frame} at byte {offset}: {what}")]
    Malformed {
        frame: FrameNo,
        offset: u64,
        what: String,
    },
}

impl CaptureError {
    /// A cut capture is an expected outcome (exit status 1); other faults are input errors.
    pub fn is_truncation(&self) -> bool {
        matches!(self, CaptureError::Truncated { .. })
    }
}

/// Something odd in the file that did not stop reading, reported once per kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Warning {
    LongerThanSnaplen,
    NanosecondsOverflow,
    UnknownInterface,
    BadOptionText,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Warning::LongerThanSnaplen => "records longer than the file's snap length (read anyway, as Wireshark does)",
            Warning::NanosecondsOverflow => "records whose sub-second field is 10^9 or more (carried into seconds, as Wireshark does)",
            Warning::UnknownInterface => "packet blocks naming an interface that was never described (skipped)",
            Warning::BadOptionText => "pcapng text that is not UTF-8 in options or name blocks (left out; the frames after it are read)",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn erf_frame(data: &[u8]) -> Frame<'_> {
        Frame {
            number: FrameNo(1),
            ts: Timestamp(7),
            linktype: Linktype::ERF,
            data,
            orig_len: data.len() as u32,
        }
    }

    #[test]
    fn an_erf_record_keeps_its_own_time_rounded_to_the_nanosecond() {
        // 1.5 s and 0x8000_0000 / 2^32 s; and one tick (0.23 ns) after 2 s.
        let half = (1u64 << 32 | 0x8000_0000).to_le_bytes();
        assert_eq!(
            erf_frame(&half).with_link_time().ts,
            Timestamp(1_500_000_000)
        );
        let tick = (2u64 << 32 | 1).to_le_bytes();
        assert_eq!(
            erf_frame(&tick).with_link_time().ts,
            Timestamp(2_000_000_000)
        );
        // Three ticks are 0.698 ns: rounded up.
        let three = (2u64 << 32 | 3).to_le_bytes();
        assert_eq!(
            erf_frame(&three).with_link_time().ts,
            Timestamp(2_000_000_001)
        );
        // Other link types, and records too short to hold the field, keep the record's.
        assert_eq!(erf_frame(&[1, 2, 3]).with_link_time().ts, Timestamp(7));
        let mut ethernet = erf_frame(&half);
        ethernet.linktype = Linktype::ETHERNET;
        assert_eq!(ethernet.with_link_time().ts, Timestamp(7));
    }
}
