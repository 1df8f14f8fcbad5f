use std::io::{BufRead, BufReader, Read};

use pcap_file::pcap::PcapHeader;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgParser};
use pcap_file::{Endianness, PcapError, TsResolution};

use super::{CaptureError, Frame, FrameNo, Linktype, Timestamp, Warning};

/// Wireshark refuses pcap records larger than this (WTAP_MAX_PACKET_SIZE_STANDARD).
const MAX_PCAP_RECORD: u32 = 262_144;
/// A pcapng block longer than this is taken for a corrupt length field.
const MAX_PCAPNG_BLOCK: u32 = 16 * 1024 * 1024;
const READ_CHUNK: usize = 256 * 1024;
/// Bytes read first, to tell gzip and the capture formats apart by their magic numbers.
const PEEK: usize = 16;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// pcap's magic numbers, as the file's first four bytes: microseconds or nanoseconds, in
/// either byte order.
const PCAP_MAGIC: [[u8; 4]; 4] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
];

/// Whether a file that begins with `first` (its first four bytes) is one this reader
/// opens: pcap, pcapng (whose section header's type reads the same both ways), or gzip.
pub fn starts_like_capture(first: [u8; 4]) -> bool {
    PCAP_MAGIC.contains(&first) || first == PCAPNG_SHB.to_be_bytes() || first[..2] == GZIP_MAGIC
}
use super::options::{
    PCAPNG_BYTE_ORDER_MAGIC, PCAPNG_EPB, PCAPNG_IDB, PCAPNG_PB, PCAPNG_SHB, PCAPNG_SPB,
};
/// The pcapng blocks synfin reads something from.
const READ_BLOCKS: [u32; 5] = [PCAPNG_SHB, PCAPNG_IDB, PCAPNG_PB, PCAPNG_SPB, PCAPNG_EPB];

/// A pcapng block's type in either byte order (the types synfin reads are the same both
/// ways round or small).
fn block_kind(block: &[u8]) -> u32 {
    let bytes: [u8; 4] = block
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .unwrap_or_default();
    let (le, be) = (u32::from_le_bytes(bytes), u32::from_be_bytes(bytes));
    le.min(be)
}

/// Timestamp units of one pcapng interface.
#[derive(Clone, Copy, Debug)]
struct Interface {
    linktype: Linktype,
    /// `if_tsresol`: bit 7 clear, 10^-n seconds; set, 2^-n seconds.
    tsresol: u8,
    tsoffset_secs: i64,
}

impl Interface {
    fn timestamp(&self, ticks: u64) -> Timestamp {
        let exp = u32::from(self.tsresol & 0x7f);
        let ns = if self.tsresol & 0x80 == 0 {
            match 10u128.checked_pow(exp) {
                Some(per_sec) => u128::from(ticks) * 1_000_000_000 / per_sec,
                None => 0,
            }
        } else {
            (u128::from(ticks) * 1_000_000_000) >> exp.min(127)
        };
        let offset_ns = i128::from(self.tsoffset_secs) * 1_000_000_000;
        let total = (ns as i128)
            .saturating_add(offset_ns)
            .clamp(0, i128::from(u64::MAX));
        Timestamp(total as u64)
    }
}

enum Container {
    Pcap {
        header: PcapHeader,
        linktype: Linktype,
    },
    PcapNg {
        parser: PcapNgParser,
        interfaces: Vec<Interface>,
    },
}

/// Reads frames one at a time from any byte stream, holding at most one record in memory
/// beyond a fixed-size read buffer.
pub struct CaptureReader {
    src: Box<dyn Read>,
    buf: Vec<u8>,
    /// Unread bytes are `buf[pos..end]`; `offset` is the file offset of `buf[pos]`.
    pos: usize,
    end: usize,
    offset: u64,
    eof: bool,
    container: Container,
    frames: u64,
    warnings: Vec<Warning>,
}

impl CaptureReader {
    /// Opens a capture from a byte stream, detecting gzip and the format by magic number.
    pub fn new(src: Box<dyn Read>) -> Result<Self, CaptureError> {
        // Large enough for the magic numbers only: past them, reads bypass its buffer
        // and land in `buf` at once, not copied through it.
        let mut peek = BufReader::with_capacity(PEEK, src);
        let head = peek.fill_buf()?;
        if head.is_empty() {
            return Err(CaptureError::Empty);
        }
        let src: Box<dyn Read> = if head.starts_with(&GZIP_MAGIC) {
            Box::new(flate2::read::MultiGzDecoder::new(peek))
        } else {
            Box::new(peek)
        };
        let mut reader = CaptureReader {
            src,
            buf: vec![0; READ_CHUNK],
            pos: 0,
            end: 0,
            offset: 0,
            eof: false,
            container: Container::Pcap {
                header: PcapHeader::default(),
                linktype: Linktype::ETHERNET,
            },
            frames: 0,
            warnings: Vec::new(),
        };
        reader.open()?;
        Ok(reader)
    }

    /// Warnings met so far, each kind once, in the order first met.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    fn warn(&mut self, warning: Warning) {
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    fn available(&self) -> &[u8] {
        self.buf.get(self.pos..self.end).unwrap_or_default()
    }

    /// Makes at least `want` unread bytes available unless the input ends first.
    fn fill(&mut self, want: usize) -> Result<bool, CaptureError> {
        while self.end - self.pos < want && !self.eof {
            if self.pos > 0 {
                self.buf.copy_within(self.pos..self.end, 0);
                self.end -= self.pos;
                self.pos = 0;
            }
            if self.buf.len() < want {
                self.buf.resize(want.max(READ_CHUNK), 0);
            }
            let space = self.buf.get_mut(self.end..).unwrap_or_default();
            match self.src.read(space) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(self.end - self.pos >= want)
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
        self.offset += n as u64;
    }

    fn open(&mut self) -> Result<(), CaptureError> {
        self.fill(24)?;
        let magic = self.available().get(..4).unwrap_or_default().to_vec();
        if magic.len() < 4 {
            return Err(CaptureError::NotACapture(magic));
        }
        if magic == PCAPNG_SHB.to_be_bytes() {
            let len = self.pcapng_block_len()?;
            if !self.fill(len)? {
                return Err(self.truncated());
            }
            let parser = match PcapNgParser::new(self.available()) {
                Ok((_, parser)) => parser,
                Err(e @ (PcapError::Utf8Error(_) | PcapError::FromUtf8Error(_))) => {
                    let block = self.available().get(..len).unwrap_or_default();
                    // The section header's byte order is its own (read from the block).
                    let clean = super::options::without_bad_text(block, Endianness::Little)
                        .filter(|(_, dropped)| *dropped > 0)
                        .and_then(|(clean, _)| PcapNgParser::new(&clean).ok().map(|(_, p)| p));
                    let Some(parser) = clean else {
                        return Err(self.malformed(e));
                    };
                    self.warn(Warning::BadOptionText);
                    parser
                }
                Err(e) => return Err(self.malformed(e)),
            };
            // The parser read the first block, the section header.
            self.consume(len);
            self.container = Container::PcapNg {
                parser,
                interfaces: Vec::new(),
            };
            return Ok(());
        }
        match PcapHeader::from_slice(self.available()) {
            Ok((rest, header)) => {
                let used = self.available().len() - rest.len();
                self.consume(used);
                // The upper bits carry FCS-length flags; the link type is the low 16.
                let linktype = Linktype(u32::from(header.datalink) & 0xffff);
                self.container = Container::Pcap { header, linktype };
                Ok(())
            }
            Err(pcap_file::PcapError::IncompleteBuffer) => Err(self.truncated()),
            Err(_) => Err(CaptureError::NotACapture(magic)),
        }
    }

    fn truncated(&self) -> CaptureError {
        CaptureError::Truncated {
            frame: FrameNo(self.frames + 1),
            offset: self.offset,
        }
    }

    fn malformed(&self, what: impl std::fmt::Display) -> CaptureError {
        CaptureError::Malformed {
            frame: FrameNo(self.frames + 1),
            offset: self.offset,
            what: what.to_string(),
        }
    }

    fn read_u32(&self, at: usize, endianness: Endianness) -> Option<u32> {
        let bytes: [u8; 4] = self.available().get(at..at + 4)?.try_into().ok()?;
        Some(match endianness {
            Endianness::Big => u32::from_be_bytes(bytes),
            Endianness::Little => u32::from_le_bytes(bytes),
        })
    }

    /// Total length of the pcapng block at the read position, checked for sanity.
    fn pcapng_block_len(&mut self) -> Result<usize, CaptureError> {
        if !self.fill(12)? {
            return Err(self.truncated());
        }
        let block_type = self.read_u32(0, Endianness::Big).unwrap_or_default();
        let endianness = if block_type == PCAPNG_SHB {
            match self.read_u32(8, Endianness::Big) {
                Some(PCAPNG_BYTE_ORDER_MAGIC) => Endianness::Big,
                Some(m) if m.swap_bytes() == PCAPNG_BYTE_ORDER_MAGIC => Endianness::Little,
                _ => return Err(self.malformed("section header with an unknown byte-order magic")),
            }
        } else {
            match &self.container {
                Container::PcapNg { parser, .. } => parser.section().endianness,
                Container::Pcap { .. } => Endianness::Big,
            }
        };
        let len = self.read_u32(4, endianness).unwrap_or_default();
        if len < 12 || !len.is_multiple_of(4) || len > MAX_PCAPNG_BLOCK {
            return Err(self.malformed(format!("pcapng block length {len} is impossible")));
        }
        Ok(len as usize)
    }

    /// The next frame, `None` at the clean end of the input.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        let frame = match self.container {
            Container::Pcap { .. } => self.next_pcap(),
            Container::PcapNg { .. } => self.next_pcapng(),
        }?;
        Ok(frame.map(Frame::with_link_time))
    }

    fn at_clean_end(&mut self) -> Result<bool, CaptureError> {
        Ok(!self.fill(1)? && self.available().is_empty())
    }

    fn next_pcap(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        let Container::Pcap { header, linktype } = &self.container else {
            return Ok(None);
        };
        let (endianness, resolution, snaplen, linktype) = (
            header.endianness,
            header.ts_resolution,
            header.snaplen,
            *linktype,
        );
        if self.at_clean_end()? {
            return Ok(None);
        }
        if !self.fill(16)? {
            return Err(self.truncated());
        }
        let incl_len = self.read_u32(8, endianness).unwrap_or_default();
        if incl_len > MAX_PCAP_RECORD {
            return Err(self.malformed(format!(
                "record claims {incl_len} bytes, more than the {MAX_PCAP_RECORD} any capture tool writes"
            )));
        }
        let total = 16 + incl_len as usize;
        if !self.fill(total)? {
            return Err(self.truncated());
        }
        let field = |at| self.read_u32(at, endianness).unwrap_or_default();
        let (ts_sec, ts_frac, orig_len) = (field(0), field(4), field(12));
        let mut warnings = Vec::new();
        let per_frac = match resolution {
            TsResolution::MicroSecond => 1_000,
            TsResolution::NanoSecond => 1,
        };
        if u64::from(ts_frac) * per_frac >= 1_000_000_000 {
            warnings.push(Warning::NanosecondsOverflow);
        }
        // An original length beyond the snap length is what a snap length means; only
        // captured bytes beyond it are odd (pcap-file refuses both).
        if snaplen != 0 && incl_len > snaplen {
            warnings.push(Warning::LongerThanSnaplen);
        }
        for w in warnings {
            self.warn(w);
        }
        let ts = Timestamp(u64::from(ts_sec) * 1_000_000_000 + u64::from(ts_frac) * per_frac);
        self.frames += 1;
        let number = FrameNo(self.frames);
        self.consume(total);
        let start = self.pos - total + 16;
        let data = self.buf.get(start..self.pos).unwrap_or_default();
        Ok(Some(Frame {
            number,
            ts,
            linktype,
            data,
            orig_len,
        }))
    }

    fn next_pcapng(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        loop {
            if self.at_clean_end()? {
                return Ok(None);
            }
            let len = self.pcapng_block_len()?;
            if !self.fill(len)? {
                return Err(self.truncated());
            }
            let Container::PcapNg { parser, interfaces } = &mut self.container else {
                return Ok(None);
            };
            let slice = self.buf.get(self.pos..self.pos + len).unwrap_or_default();
            let cleaned: Vec<u8>;
            let mut bad_text = false;
            let parsed = match parser.next_block(slice) {
                Ok((_, block)) => Some(block),
                Err(e @ (PcapError::Utf8Error(_) | PcapError::FromUtf8Error(_))) => {
                    let what = e.to_string();
                    bad_text = true;
                    match super::options::without_bad_text(slice, parser.section().endianness) {
                        Some((clean, dropped)) if dropped > 0 => {
                            cleaned = clean;
                            match parser.next_block(&cleaned) {
                                Ok((_, block)) => Some(block),
                                Err(_) => return Err(self.malformed(what)),
                            }
                        }
                        // A block synfin reads nothing from (names, statistics): skipped.
                        None if !READ_BLOCKS.contains(&block_kind(slice)) => None,
                        _ => return Err(self.malformed(what)),
                    }
                }
                Err(e) => {
                    let what = e.to_string();
                    return Err(self.malformed(what));
                }
            };
            let Some(block) = parsed else {
                self.warn(Warning::BadOptionText);
                self.consume(len);
                continue;
            };
            let packet = match block {
                Block::SectionHeader(_) => {
                    interfaces.clear();
                    None
                }
                Block::InterfaceDescription(idb) => {
                    let mut iface = Interface {
                        linktype: Linktype(u32::from(idb.linktype)),
                        tsresol: 6,
                        tsoffset_secs: 0,
                    };
                    for opt in &idb.options {
                        match opt {
                            InterfaceDescriptionOption::IfTsResol(r) => iface.tsresol = *r,
                            InterfaceDescriptionOption::IfTsOffset(o) => {
                                iface.tsoffset_secs = *o as i64
                            }
                            _ => {}
                        }
                    }
                    interfaces.push(iface);
                    None
                }
                Block::EnhancedPacket(epb) => {
                    let ticks = u64::try_from(epb.timestamp.as_nanos()).unwrap_or(u64::MAX);
                    Some((
                        epb.interface_id,
                        Some(ticks),
                        epb.original_len,
                        epb.data.len(),
                    ))
                }
                Block::Packet(pb) => Some((
                    u32::from(pb.interface_id),
                    Some(pb.timestamp),
                    pb.original_len,
                    pb.data.len(),
                )),
                Block::SimplePacket(spb) => Some((0, None, spb.original_len, spb.data.len())),
                _ => None,
            };
            if bad_text && !self.warnings.contains(&Warning::BadOptionText) {
                self.warnings.push(Warning::BadOptionText);
            }
            let Some((iface_id, ticks, orig_len, caplen)) = packet else {
                self.consume(len);
                continue;
            };
            self.frames += 1;
            let number = FrameNo(self.frames);
            let iface = interfaces.get(iface_id as usize).copied();
            let Some(iface) = iface else {
                self.warn(Warning::UnknownInterface);
                self.consume(len);
                continue;
            };
            let ts = ticks.map(|t| iface.timestamp(t)).unwrap_or_default();
            // Packet data follows the fixed fields of its block type.
            let body_start = match self.read_u32(0, parser_endianness(&self.container)) {
                Some(PCAPNG_EPB) | Some(PCAPNG_PB) => 28,
                Some(PCAPNG_SPB) => 12,
                _ => 28,
            };
            self.consume(len);
            let start = self.pos - len + body_start;
            let data = self.buf.get(start..start + caplen).unwrap_or_default();
            return Ok(Some(Frame {
                number,
                ts,
                linktype: iface.linktype,
                data,
                orig_len,
            }));
        }
    }
}

fn parser_endianness(container: &Container) -> Endianness {
    match container {
        Container::PcapNg { parser, .. } => parser.section().endianness,
        Container::Pcap { header, .. } => header.endianness,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pcap file: header with `snaplen`, then records of (seconds, fraction, data, orig).
    fn pcap(
        big_endian: bool,
        nano: bool,
        snaplen: u32,
        records: &[(u32, u32, &[u8], u32)],
    ) -> Vec<u8> {
        let w32 = |v: u32| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let w16 = |v: u16| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut out = Vec::new();
        out.extend(w32(if nano { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }));
        out.extend(w16(2));
        out.extend(w16(4));
        out.extend(w32(0));
        out.extend(w32(0));
        out.extend(w32(snaplen));
        out.extend(w32(1));
        for (sec, frac, data, orig) in records {
            out.extend(w32(*sec));
            out.extend(w32(*frac));
            out.extend(w32(data.len() as u32));
            out.extend(w32(*orig));
            out.extend_from_slice(data);
        }
        out
    }

    fn reader(bytes: Vec<u8>) -> CaptureReader {
        CaptureReader::new(Box::new(std::io::Cursor::new(bytes))).expect("a capture")
    }

    #[test]
    fn both_byte_orders_and_resolutions_give_nanoseconds() {
        for big in [false, true] {
            for nano in [false, true] {
                let frac = if nano { 123_456_789 } else { 123_456 };
                let mut r = reader(pcap(big, nano, 65535, &[(7, frac, &[1, 2, 3], 3)]));
                let f = r.next_frame().expect("frame").expect("one frame");
                let want = if nano { 7_123_456_789 } else { 7_123_456_000 };
                assert_eq!(
                    (f.ts.0, f.data, f.number),
                    (want, &[1u8, 2, 3][..], FrameNo(1))
                );
                assert!(r.next_frame().expect("clean end").is_none());
            }
        }
    }

    #[test]
    fn records_wireshark_reads_but_the_crate_refuses_are_read_and_warned_once() {
        let bytes = pcap(
            false,
            true,
            4,
            &[
                (1, 2_000_000_000, &[0; 8], 8),
                (1, 1, &[0; 8], 8),
                (2, 5, &[0; 2], 2),
            ],
        );
        let mut r = reader(bytes);
        let first = r.next_frame().expect("read").expect("frame");
        assert_eq!(
            first.ts.0, 3_000_000_000,
            "an overflowing fraction carries into seconds"
        );
        assert_eq!(r.next_frame().expect("read").expect("frame").data.len(), 8);
        assert_eq!(
            r.next_frame().expect("read").expect("frame").number,
            FrameNo(3)
        );
        assert_eq!(
            r.warnings(),
            &[Warning::NanosecondsOverflow, Warning::LongerThanSnaplen]
        );
    }

    #[test]
    fn a_snap_length_cut_is_no_warning() {
        // `tcpdump -s 60`: 60 bytes kept of a 74-byte frame.
        let bytes = pcap(false, false, 60, &[(1, 0, &[0; 60], 74)]);
        let mut r = reader(bytes);
        let frame = r.next_frame().expect("read").expect("frame");
        assert_eq!((frame.data.len(), frame.orig_len), (60, 74));
        assert_eq!(r.warnings(), &[]);
    }

    #[test]
    fn a_record_claiming_gigabytes_stops_reading_without_allocating_it() {
        let mut bytes = pcap(false, false, 65535, &[(1, 0, &[9; 4], 4)]);
        bytes.extend(0u32.to_le_bytes());
        bytes.extend(0u32.to_le_bytes());
        bytes.extend(0xF000_0000u32.to_le_bytes());
        bytes.extend(0xF000_0000u32.to_le_bytes());
        let mut r = reader(bytes);
        assert!(r.next_frame().expect("first frame").is_some());
        match r.next_frame() {
            Err(CaptureError::Malformed { frame, offset, .. }) => {
                assert_eq!((frame, offset), (FrameNo(2), 44))
            }
            other => panic!("expected a malformed record, got {other:?}"),
        }
    }

    #[test]
    fn a_file_cut_inside_a_record_names_the_frame_and_offset() {
        let mut bytes = pcap(
            false,
            false,
            65535,
            &[(1, 0, &[9; 4], 4), (2, 0, &[9; 40], 40)],
        );
        bytes.truncate(bytes.len() - 1);
        let mut r = reader(bytes);
        assert!(r.next_frame().expect("first frame").is_some());
        let err = r.next_frame().expect_err("cut");
        assert!(err.is_truncation());
        assert_eq!(
            err.to_string(),
            "capture cut short: frame 2 at byte 44 is incomplete"
        );
    }

    #[test]
    fn not_a_capture_and_empty_input_are_refused_at_open() {
        let open = |b: &[u8]| CaptureReader::new(Box::new(std::io::Cursor::new(b.to_vec())));
        assert!(matches!(open(b""), Err(CaptureError::Empty)));
        assert!(matches!(
            open(b"hello, this is text, not a capture"),
            Err(CaptureError::NotACapture(_))
        ));
        assert!(matches!(
            open(&[0xd4, 0xc3, 0xb2]),
            Err(CaptureError::NotACapture(_))
        ));
    }

    #[test]
    fn pcapng_timestamps_follow_each_interface_resolution() {
        let ns = Interface {
            linktype: Linktype::ETHERNET,
            tsresol: 9,
            tsoffset_secs: 0,
        };
        let us = Interface { tsresol: 6, ..ns };
        let binary = Interface {
            tsresol: 0x80 | 10,
            ..ns
        };
        assert_eq!(ns.timestamp(1_500).0, 1_500);
        assert_eq!(us.timestamp(1_500).0, 1_500_000);
        assert_eq!(binary.timestamp(1024).0, 1_000_000_000);
        assert_eq!(
            Interface { tsresol: 200, ..ns }.timestamp(5).0,
            0,
            "absurd resolutions never panic"
        );
    }

    /// A little-endian pcapng block: type, body, lengths (the trailing one as given).
    fn block(kind: u32, body: &[u8], trailer: Option<u32>) -> Vec<u8> {
        let len = 12 + body.len() as u32;
        let mut b = kind.to_le_bytes().to_vec();
        b.extend(len.to_le_bytes());
        b.extend_from_slice(body);
        b.extend(trailer.unwrap_or(len).to_le_bytes());
        b
    }

    fn shb() -> Vec<u8> {
        let mut body = PCAPNG_BYTE_ORDER_MAGIC.to_le_bytes().to_vec();
        body.extend(1u16.to_le_bytes());
        body.extend(0u16.to_le_bytes());
        body.extend((-1i64).to_le_bytes());
        block(PCAPNG_SHB, &body, None)
    }

    fn idb(linktype: u16) -> Vec<u8> {
        let mut body = linktype.to_le_bytes().to_vec();
        body.extend(0u16.to_le_bytes());
        body.extend(65535u32.to_le_bytes());
        block(1, &body, None)
    }

    fn epb(interface: u32, data: &[u8], trailer: Option<u32>) -> Vec<u8> {
        let mut body = interface.to_le_bytes().to_vec();
        body.extend(0u32.to_le_bytes());
        body.extend(1_000_000u32.to_le_bytes());
        body.extend((data.len() as u32).to_le_bytes());
        body.extend((data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        body.resize(body.len().div_ceil(4) * 4, 0);
        block(PCAPNG_EPB, &body, trailer)
    }

    #[test]
    fn pcapng_frames_carry_their_interface_link_type_and_time() {
        let bytes = [
            shb(),
            idb(1),
            idb(101),
            epb(1, &[0x45; 8], None),
            epb(0, &[1; 3], None),
        ]
        .concat();
        let mut r = reader(bytes);
        let f = r.next_frame().expect("read").expect("frame");
        assert_eq!(
            (f.linktype, f.ts.0, f.data.len()),
            (Linktype::RAW, 1_000_000_000, 8)
        );
        let f = r.next_frame().expect("read").expect("frame");
        assert_eq!((f.linktype, f.number), (Linktype::ETHERNET, FrameNo(2)));
        assert!(r.next_frame().expect("clean end").is_none());
    }

    #[test]
    fn a_packet_on_an_undescribed_interface_is_skipped_and_warned() {
        let bytes = [shb(), idb(1), epb(7, &[1; 4], None), epb(0, &[2; 4], None)].concat();
        let mut r = reader(bytes);
        let f = r.next_frame().expect("read").expect("the next good frame");
        assert_eq!((f.number, f.data), (FrameNo(2), &[2u8; 4][..]));
        assert_eq!(r.warnings(), &[Warning::UnknownInterface]);
    }

    #[test]
    fn a_wrong_trailing_length_stops_reading_at_that_frame() {
        let bytes = [
            shb(),
            idb(1),
            epb(0, &[1; 4], None),
            epb(0, &[2; 4], Some(999)),
        ]
        .concat();
        let offset = (shb().len() + idb(1).len() + epb(0, &[1; 4], None).len()) as u64;
        let mut r = reader(bytes);
        assert!(r.next_frame().expect("first frame").is_some());
        match r.next_frame() {
            Err(CaptureError::Malformed {
                frame, offset: at, ..
            }) => assert_eq!((frame, at), (FrameNo(2), offset)),
            other => panic!("expected a malformed block, got {other:?}"),
        }
    }

    #[test]
    fn pcapng_lengths_claiming_gigabytes_or_an_unknown_byte_order_are_refused() {
        let mut giant = [shb(), idb(1)].concat();
        giant.extend(PCAPNG_EPB.to_le_bytes());
        giant.extend(0xFFFF_FFF0u32.to_le_bytes());
        giant.extend([0; 64]);
        let mut r = reader(giant);
        assert!(matches!(
            r.next_frame(),
            Err(CaptureError::Malformed { .. })
        ));

        let mut odd = shb();
        odd[8..12].copy_from_slice(&[1, 2, 3, 4]);
        assert!(matches!(
            CaptureReader::new(Box::new(std::io::Cursor::new(odd))),
            Err(CaptureError::Malformed { .. })
        ));
    }

    #[test]
    fn a_new_section_brings_its_own_interfaces() {
        let bytes = [
            shb(),
            idb(1),
            epb(0, &[1; 4], None),
            shb(),
            idb(113),
            epb(0, &[2; 4], None),
        ]
        .concat();
        let mut r = reader(bytes);
        assert_eq!(
            r.next_frame().expect("read").expect("frame").linktype,
            Linktype::ETHERNET
        );
        let f = r.next_frame().expect("read").expect("frame");
        assert_eq!((f.linktype, f.number), (Linktype::LINUX_SLL, FrameNo(2)));
        assert!(r.warnings().is_empty());
    }
}
