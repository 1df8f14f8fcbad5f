//! IP reassembly, as Wireshark does it: the fragments of an IPv4 or IPv6 datagram are kept
//! until all have arrived, and the TCP segment inside is decoded at the frame of the
//! fragment that completes it. Memory is bounded: at most `MAX_PENDING` datagrams of at
//! most 64 KiB wait at once, the oldest given up first.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};

use crate::capture::FrameNo;

/// A piece of a fragmented datagram.
#[derive(Clone, Debug)]
pub struct Fragment<'a> {
    /// Whose datagram it is: addresses (IPv4's in the first 4 bytes), identification,
    /// protocol, and the IP version.
    pub key: Key,
    /// Where the piece starts in the datagram's payload, in bytes.
    pub offset: u32,
    pub more: bool,
    /// The fragment's IP header, for IPv6 without its extension headers and naming the
    /// protocol after the Fragment header (the first fragment's becomes the datagram's).
    pub header: Vec<u8>,
    pub payload: Cow<'a, [u8]>,
}

/// Addresses, identification, protocol, and the IP version (4, 6; `CAPWAP` for CAPWAP's
/// data fragments, whose identification holds the payload's kind above the fragment ID).
pub type Key = ([u8; 16], [u8; 16], u32, u8, u8);

/// The version field of a CAPWAP data fragment's key: its payload is a frame, not IP.
pub const CAPWAP: u8 = 0;

/// Datagrams waiting for their fragments, at most this many.
const MAX_PENDING: usize = 1_024;
/// An IPv4 datagram's payload is at most 65,535 bytes less its 20-byte header; an IPv6
/// payload length counts no header.
const MAX_PAYLOAD_V4: u32 = 65_535 - 20;
const MAX_PAYLOAD_V6: u32 = 65_535;

#[derive(Default)]
struct Datagram {
    header: Option<Vec<u8>>,
    /// Pieces by offset; overlapping bytes keep the first copy.
    pieces: Vec<(u32, Vec<u8>)>,
    /// The payload's length, once the last fragment is seen.
    total: Option<u32>,
    /// Frames that carried its pieces: how many, and the first.
    frames: Unfinished,
}

/// Frames whose fragments made no datagram: how many, and the first one's number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unfinished {
    pub frames: u64,
    pub first: Option<FrameNo>,
}

impl Unfinished {
    fn one(frame: FrameNo) -> Unfinished {
        Unfinished {
            frames: 1,
            first: Some(frame),
        }
    }

    fn add(&mut self, other: Unfinished) {
        self.frames += other.frames;
        self.first = match (self.first, other.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

impl Datagram {
    /// The payload, when every byte of it has arrived.
    fn payload(&self) -> Option<Vec<u8>> {
        let total = self.total?;
        let mut pieces: Vec<&(u32, Vec<u8>)> = self.pieces.iter().collect();
        pieces.sort_by_key(|(offset, _)| *offset);
        let mut out = Vec::with_capacity(total as usize);
        for (offset, bytes) in pieces {
            let have = out.len() as u32;
            if *offset > have {
                return None;
            }
            let skip = (have - offset) as usize;
            out.extend_from_slice(bytes.get(skip..).unwrap_or_default());
        }
        (out.len() as u32 >= total).then(|| {
            out.truncate(total as usize);
            out
        })
    }
}

#[derive(Default)]
pub struct Reassembler {
    pending: HashMap<Key, Datagram>,
    order: VecDeque<Key>,
    /// Frames of datagrams given up (crowded out, flooded, or beyond 64 KiB).
    abandoned: Unfinished,
}

impl Reassembler {
    /// Takes the fragment that `frame` carries; returns the whole datagram (an IP packet,
    /// or CAPWAP's payload) when it completes it.
    pub fn add(&mut self, f: &Fragment<'_>, frame: FrameNo) -> Option<Vec<u8>> {
        let version = f.key.4;
        let max = if version == 4 {
            MAX_PAYLOAD_V4
        } else {
            MAX_PAYLOAD_V6
        };
        let end = f
            .offset
            .checked_add(f.payload.len() as u32)
            .filter(|&end| end <= max);
        let Some(end) = end else {
            self.abandoned.add(Unfinished::one(frame));
            return None;
        };
        let key = f.key;
        if !self.pending.contains_key(&key) {
            if self.pending.len() >= MAX_PENDING
                && let Some(oldest) = self.order.pop_front()
                && let Some(gone) = self.pending.remove(&oldest)
            {
                self.abandoned.add(gone.frames);
            }
            self.order.push_back(key);
        }
        let datagram = self.pending.entry(key).or_default();
        datagram.frames.add(Unfinished::one(frame));
        if f.offset == 0 {
            datagram.header = Some(f.header.clone());
        }
        if !f.more {
            datagram.total = Some(end);
        }
        let held: usize = datagram.pieces.iter().map(|(_, b)| b.len()).sum();
        if held + f.payload.len() > 2 * max as usize {
            // Pieces repeated without end: given up.
            if let Some(gone) = self.pending.remove(&key) {
                self.abandoned.add(gone.frames);
            }
            self.order.retain(|k| *k != key);
            return None;
        }
        datagram.pieces.push((f.offset, f.payload.to_vec()));
        let payload = datagram.payload()?;
        let mut packet = datagram.header.take()?;
        self.pending.remove(&key);
        self.order.retain(|k| *k != key);
        // The header as if never fragmented: IPv4's whole length, no offset, no more flag;
        // IPv6's payload length. CAPWAP's payload has none (its header is empty).
        match version {
            CAPWAP => {}
            6 => {
                let payload_len = u16::try_from(payload.len()).ok()?;
                packet
                    .get_mut(4..6)?
                    .copy_from_slice(&payload_len.to_be_bytes());
            }
            _ => {
                let total_len = u16::try_from(packet.len() + payload.len()).ok()?;
                packet
                    .get_mut(2..4)?
                    .copy_from_slice(&total_len.to_be_bytes());
                packet.get_mut(6..8)?.copy_from_slice(&[0x40, 0]);
            }
        }
        packet.extend_from_slice(&payload);
        Some(packet)
    }

    /// The frames whose fragments made no datagram: those given up, and those still
    /// waiting (at the end of a capture, they never will be completed).
    pub fn unfinished(&self) -> Unfinished {
        let mut all = self.abandoned;
        for datagram in self.pending.values() {
            all.add(datagram.frames);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: [u8; 20] = [
        0x45, 0, 0, 0, 0x12, 0x34, 0x20, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];

    fn piece(offset: u32, more: bool, payload: &[u8]) -> Fragment<'_> {
        piece_of(0x1234, offset, more, payload)
    }

    fn piece_of(id: u32, offset: u32, more: bool, payload: &[u8]) -> Fragment<'_> {
        let mut src = [0; 16];
        src[..4].copy_from_slice(&[10, 0, 0, 1]);
        let mut dst = [0; 16];
        dst[..4].copy_from_slice(&[10, 0, 0, 2]);
        Fragment {
            key: (src, dst, id, 6, 4),
            offset,
            more,
            header: HEADER.to_vec(),
            payload: Cow::Borrowed(payload),
        }
    }

    #[test]
    fn fragments_in_any_order_make_the_datagram_once() {
        let data: Vec<u8> = (0..40).collect();
        let mut r = Reassembler::default();
        assert!(r.add(&piece(24, false, &data[24..]), FrameNo(1)).is_none());
        assert!(r.add(&piece(0, true, &data[..16]), FrameNo(2)).is_none());
        assert_eq!(
            r.unfinished(),
            Unfinished {
                frames: 2,
                first: Some(FrameNo(1))
            }
        );
        let packet = r
            .add(&piece(16, true, &data[16..24]), FrameNo(3))
            .expect("complete");
        assert_eq!(packet.get(2..4), Some(&[0u8, 60][..]));
        assert_eq!(packet.get(6..8), Some(&[0x40u8, 0][..]));
        assert_eq!(packet.get(20..), Some(&data[..]));
        assert_eq!(
            r.unfinished(),
            Unfinished::default(),
            "completed: nothing unfinished"
        );
        // Done: a repeat of a piece starts afresh and completes nothing.
        assert!(r.add(&piece(16, true, &data[16..24]), FrameNo(4)).is_none());
        assert_eq!(
            r.unfinished(),
            Unfinished {
                frames: 1,
                first: Some(FrameNo(4))
            }
        );
    }

    #[test]
    fn holes_and_floods_are_bounded_and_counted() {
        let mut r = Reassembler::default();
        assert!(r.add(&piece(0, true, &[0; 8]), FrameNo(1)).is_none());
        assert!(r.add(&piece(16, false, &[0; 8]), FrameNo(2)).is_none());
        let others = MAX_PENDING as u16 + 10;
        for id in 0..others {
            let f = piece_of(u32::from(id), 0, true, &[0; 8]);
            assert!(r.add(&f, FrameNo(3 + u64::from(id))).is_none());
        }
        assert!(r.pending.len() <= MAX_PENDING);
        let past_64k = FrameNo(3 + u64::from(others));
        assert!(r.add(&piece(65_528, false, &[0; 16]), past_64k).is_none());
        // Every frame is counted once, whether its datagram was crowded out, is still
        // waiting, or could never fit.
        assert_eq!(
            r.unfinished(),
            Unfinished {
                frames: 2 + u64::from(others) + 1,
                first: Some(FrameNo(1))
            }
        );
    }
}
