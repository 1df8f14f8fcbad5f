//! Wireshark's `tcp.completeness` (SPEC.md): which parts of a connection were seen, as its
//! two-pass analysis leaves the value on the stream's last frame.
//!
//! In its first pass a 4-tuple's first segment counts only as a SYN (with data: Fast Open)
//! and a SYN that reuses the ports starts a stream at SYN alone; every later segment adds
//! its bit. The second pass adds every segment's bit again, first ones included, but a
//! frame shows the value from before its own: the last frame's value has all but its own.
//!
//! A connection whose endpoint an FTP passive-mode reply announced (`Announcements`) is a
//! conversation Wireshark's FTP dissector set up before its SYN: that SYN counts nothing.

use std::collections::VecDeque;

use crate::decode::{Addr, TcpFlags};

const SYN: u8 = 1;
const SYN_ACK: u8 = 2;
const ACK: u8 = 4;
const DATA: u8 = 8;
const FIN: u8 = 16;
const RST: u8 = 32;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Completeness {
    /// The value after the first pass.
    first_pass: u8,
    /// The bits the second pass adds before the last segment so far.
    second_pass: u8,
    /// The bits the last segment so far adds in the second pass.
    last: u8,
    /// An application announced the connection before its first segment.
    announced: bool,
}

impl Completeness {
    /// Adds a segment; `opened`: it opened the stream, `port_reused`: a SYN that did so on
    /// a 4-tuple already known.
    #[inline]
    pub fn add(&mut self, flags: TcpFlags, len: u32, opened: bool, port_reused: bool) {
        let bits = bits(flags, len);
        let pure_syn = flags.syn() && !flags.ack();
        self.first_pass = match (opened, port_reused) {
            (true, false) if self.announced => 0,
            (true, false) if pure_syn && len > 0 => SYN | DATA,
            (true, _) if pure_syn => SYN,
            (true, false) => 0,
            _ => self.first_pass | bits,
        };
        self.second_pass |= self.last;
        self.last = bits;
    }

    /// The connection was announced before it opened (`Announcements::has`): its first
    /// segment, the SYN, counts nothing.
    pub fn announced(&mut self) {
        self.announced = true;
    }

    /// The bitmask: 1 SYN, 2 SYN-ACK, 4 ACK, 8 data, 16 FIN, 32 RST.
    pub fn value(&self) -> u8 {
        self.first_pass | self.second_pass
    }
}

/// The endpoints FTP passive-mode replies announced, the latest few.
#[derive(Debug, Default)]
pub struct Announcements(VecDeque<Addr>);

/// Announcements kept: a data connection opens right after its reply.
const ANNOUNCEMENTS_KEPT: usize = 64;

impl Announcements {
    pub fn remember(&mut self, endpoint: Addr) {
        if self.0.len() == ANNOUNCEMENTS_KEPT {
            self.0.pop_front();
        }
        self.0.push_back(endpoint);
    }

    /// Whether a connection to `endpoint` was announced.
    #[inline]
    pub fn has(&self, endpoint: Addr) -> bool {
        self.0.contains(&endpoint)
    }
}

/// Which parts of a connection (completeness bits) a segment is, whatever its place in
/// the stream: a SYN, or the bits it sets once its stream is known.
pub fn parts(flags: TcpFlags, len: u32) -> u8 {
    let syn = if flags.syn() && !flags.ack() { SYN } else { 0 };
    syn | bits(flags, len)
}

/// The bits a segment sets once its stream is known: a SYN-ACK, a pure ACK, an ACK with
/// data, a FIN with ACK, any RST (a SYN, a FIN without ACK, data without ACK set none).
/// Looked up, as every segment passes here: by SYN, ACK, FIN and RST, and data or not.
#[inline]
fn bits(flags: TcpFlags, len: u32) -> u8 {
    let index = usize::from(flags.0 & LOOKED_AT) | usize::from(len > 0) << 5;
    BITS.get(index).copied().unwrap_or(0)
}

const LOOKED_AT: u16 = TcpFlags::SYN | TcpFlags::ACK | TcpFlags::FIN | TcpFlags::RST;

/// `bits` for each index: the flags `LOOKED_AT`, and 32 where the segment carries data.
const BITS: [u8; 64] = {
    let mut table = [0; 64];
    let mut index = 0;
    while index < 64 {
        let flags = TcpFlags(index as u16 & LOOKED_AT);
        table[index] = rule(flags, index >= 32);
        index += 1;
    }
    table
};

/// The rule `BITS` is made from.
const fn rule(flags: TcpFlags, data: bool) -> u8 {
    let (syn, ack) = (flags.0 & TcpFlags::SYN != 0, flags.0 & TcpFlags::ACK != 0);
    let mut bits = match (syn, ack) {
        (true, true) => SYN_ACK,
        (false, true) if data => DATA,
        (false, true) => ACK,
        (_, false) => 0,
    };
    if flags.0 & TcpFlags::FIN != 0 && ack {
        bits |= FIN;
    }
    if flags.0 & TcpFlags::RST != 0 {
        bits |= RST;
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u16 = TcpFlags::SYN;
    const A: u16 = TcpFlags::ACK;
    const F: u16 = TcpFlags::FIN;
    const R: u16 = TcpFlags::RST;

    /// Segments as (flags, payload length); the first opens the stream.
    fn of(segments: &[(u16, u32)], port_reused: bool) -> u8 {
        let mut c = Completeness::default();
        for (i, &(flags, len)) in segments.iter().enumerate() {
            c.add(TcpFlags(flags), len, i == 0, port_reused);
        }
        c.value()
    }

    #[test]
    fn a_whole_connection_is_31_and_a_reset_one_adds_32() {
        let classic = [
            (S, 0),
            (S | A, 0),
            (A, 0),
            (A, 14),
            (A, 0),
            (F | A, 0),
            (A, 0),
            (F | A, 0),
            (A, 0),
        ];
        assert_eq!(of(&classic, false), 31);
        assert_eq!(of(&[(S, 0), (R | A, 0)], false), 1 | 4 | 32);
    }

    #[test]
    fn a_first_segment_counts_only_as_a_syn_and_the_last_only_in_the_first_pass() {
        // One data segment: nothing (its bits would come from the second pass, before it).
        assert_eq!(of(&[(A, 100)], false), 0);
        assert_eq!(of(&[(R, 0)], false), 0);
        // Two: the first pass counts the second, the second pass the first.
        assert_eq!(of(&[(A, 100), (A, 0)], false), 8 | 4);
        // A Fast Open SYN carries data.
        assert_eq!(of(&[(S, 10)], false), 1 | 8);
        // A SYN reusing the ports starts at SYN, its data uncounted.
        assert_eq!(of(&[(S, 10)], true), 1);
        // A stream seen from its SYN-ACK: the SYN-ACK only in the second pass.
        assert_eq!(of(&[(S | A, 0), (A, 0), (A, 0)], false), 2 | 4);
    }

    #[test]
    fn an_announced_connection_counts_no_syn() {
        let mut c = Completeness::default();
        c.announced();
        for (i, (flags, len)) in [(S, 0), (S | A, 0), (A, 0), (A, 10), (F | A, 0), (A, 0)]
            .into_iter()
            .enumerate()
        {
            c.add(TcpFlags(flags), len, i == 0, false);
        }
        assert_eq!(c.value(), 2 | 4 | 8 | 16);
        let mut kept = Announcements::default();
        let at = |port| Addr::v4([10, 0, 0, 1], port);
        assert!(!kept.has(at(5000)));
        for port in 0..=ANNOUNCEMENTS_KEPT as u16 {
            kept.remember(at(port));
        }
        assert!(kept.has(at(1)) && kept.has(at(ANNOUNCEMENTS_KEPT as u16)));
        assert!(!kept.has(at(0)), "the oldest is forgotten");
    }

    #[test]
    fn a_fin_without_ack_and_data_on_a_syn_ack_set_nothing() {
        assert_eq!(of(&[(S, 0), (F, 0)], false), 1);
        assert_eq!(of(&[(S, 0), (A, 0), (F, 0), (R, 0)], false), 1 | 4 | 32);
        assert_eq!(of(&[(S, 0), (S | A, 5), (A, 0)], false), 1 | 2 | 4);
    }
}
