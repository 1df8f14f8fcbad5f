//! Zeek's view of a connection: `conn_state` and `history` as conn.log writes them.
//!
//! Zeek keeps its own, simpler endpoint states (INACTIVE, SYN_SENT, SYN_ACK_SENT, PARTIAL,
//! ESTABLISHED, CLOSED, RESET) and its own originator: the sender of the first packet, or
//! its receiver when that packet is a SYN-ACK (history `^`). The rules below follow
//! `TCPSessionAdapter::Process` and `UpdateStateMachine` (src/packet_analysis/protocol/tcp/
//! TCPSessionAdapter.cc), `TCP_Endpoint` (src/analyzer/protocol/tcp/TCP_Endpoint.cc) and
//! `conn_state()` (scripts/base/protocols/conn/main.zeek); each says which.

use std::fmt;

use smallvec::SmallVec;

use super::Dir;
use crate::capture::Timestamp;
use crate::decode::{Segment, Seq};

/// Zeek's history letters (ASCII), inline up to 24: nearly every connection's history
/// ("ShADadFf") fits, so that it costs no allocation.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct History(SmallVec<[u8; 24]>);

// Copied as the bytes they are: `SmallVec`'s `Clone` clones them one by one.
impl Clone for History {
    fn clone(&self) -> Self {
        History(SmallVec::from_slice(&self.0))
    }
}

impl History {
    pub fn push(&mut self, letter: u8) {
        self.0.push(letter);
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are pushed, so this is every letter.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Zeek's `TCP_ENDPOINT_*` states.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum ZState {
    #[default]
    Inactive,
    SynSent,
    SynAckSent,
    Partial,
    Established,
    Closed,
    Reset,
}

/// Sequence numbers more than this apart are not trusted on a SYN or RST (TOO_LARGE_SEQ_DELTA).
const TOO_LARGE_SEQ_DELTA: i64 = 1_048_576;
/// Zeek records at most this much history; more would only repeat letters.
const MAX_HISTORY: usize = 128;

// Bits of `hist_seen` (Connection::CheckHistory), one set per endpoint.
const HIST_SYN_PKT: u32 = 0x1;
const HIST_FIN_PKT: u32 = 0x2;
const HIST_RST_PKT: u32 = 0x4;
const HIST_FIN_RST_PKT: u32 = 0x8;
const HIST_DATA_PKT: u32 = 0x10;
const HIST_ACK_PKT: u32 = 0x20;
const HIST_MULTI_FLAG_PKT: u32 = 0x40;

/// One endpoint as Zeek's `TCP_Endpoint` tracks it.
#[derive(Clone, Debug, Default)]
struct ZEndpoint {
    state: ZState,
    prev_state: ZState,
    start_seq: Seq,
    last_seq: Seq,
    ack_seq: Seq,
    fin_cnt: u16,
    hist_last_syn: u32,
    hist_last_fin: u32,
    hist_last_rst: u32,
    /// Retransmissions and zero windows, and the count at which the next letter is due
    /// (Connection::ScaledHistoryEntry: 1, 10, 100, …).
    rxmt: (u32, u32),
    win0: (u32, u32),
    gaps: (u32, u32),
    /// Data received without a hole up to here (the reassembler's position), and the
    /// number of the FIN, which an ACK covers without it being data.
    delivered: Seq,
    fin_at: Option<Seq>,
    /// Data that arrived beyond a hole, which the reassembler holds until the hole is
    /// filled or acknowledged; only connections that lost or reordered data have any.
    held: Option<Box<Held>>,
    /// Packets sent and their IP bytes, as the ConnSize analyzer counts them: every packet,
    /// retransmissions and copies included.
    pkts: u64,
    ip_bytes: u64,
}

/// Ranges of data held beyond a hole (`[start, end)`, unordered, none touching another),
/// at most `MAX_HELD`: beyond that, data is taken for lost (a gap once acknowledged), so
/// memory stays bounded.
#[derive(Clone, Debug, Default)]
struct Held(Vec<(Seq, Seq)>);

const MAX_HELD: usize = 64;

impl Held {
    /// Holds `[start, end)`, joined with every range it overlaps or touches: a long run of
    /// segments beyond one hole (a sender in loss recovery, its window wide) is one range,
    /// as it is one stretch of Zeek's reassembler, and never fills the bound.
    fn add(&mut self, mut start: Seq, mut end: Seq) {
        self.0.retain(|&(s, e)| {
            let apart = e.is_before(start) || s.is_after(end);
            if !apart {
                start = if s.is_before(start) { s } else { start };
                end = if e.is_after(end) { e } else { end };
            }
            apart
        });
        if self.0.len() < MAX_HELD {
            self.0.push((start, end));
        }
    }
}

impl ZEndpoint {
    fn set_state(&mut self, state: ZState) {
        self.prev_state = self.state;
        self.state = state;
    }

    /// It closed, by FIN or RST (`did_close`): no state leads out of these two.
    fn did_close(&self) -> bool {
        matches!(self.state, ZState::Closed | ZState::Reset)
    }

    fn init_seqs(&mut self, start: Seq, last: Seq) {
        self.start_seq = start;
        self.ack_seq = start;
        self.last_seq = last;
        self.delivered = start.plus(1);
        self.held = None;
    }

    /// DataSent and BlockInserted (TCP_Reassembler.cc): data in order is delivered,
    /// with the held data it now reaches; data beyond a hole is held.
    fn received(&mut self, start: Seq, end: Seq) {
        if end.is_at_or_before(self.delivered) {
            return;
        }
        if start.is_after(self.delivered) {
            self.held.get_or_insert_with(Box::default).add(start, end);
            return;
        }
        self.delivered = end;
        self.deliver_held();
    }

    /// Delivers the held ranges that begin where delivery stands (BlockInserted).
    fn deliver_held(&mut self) {
        let Some(held) = self.held.as_mut() else {
            return;
        };
        loop {
            let delivered = self.delivered;
            held.0.retain(|&(_, end)| end.is_after(delivered));
            let Some(i) = held
                .0
                .iter()
                .position(|&(s, _)| s.is_at_or_before(delivered))
            else {
                break;
            };
            let (_, end) = held.0.swap_remove(i);
            self.delivered = end;
        }
        if held.0.is_empty() {
            self.held = None;
        }
    }

    /// Undelivered (TCP_Reassembler.cc): the peer acknowledged data up to `upto`; returns
    /// the content gaps that reveals: one before each held range below `upto`, even an
    /// empty one before a range held right where delivery stands, as Zeek counts them, and
    /// one for what is missing up to `upto`.
    fn acknowledged(&mut self, upto: Seq) -> Gaps {
        let mut gaps = Gaps::default();
        if upto.is_at_or_before(self.delivered) {
            return gaps;
        }
        while let Some(held) = self.held.as_mut() {
            let delivered = self.delivered;
            held.0.retain(|&(_, end)| end.is_after(delivered));
            let lowest = held
                .0
                .iter()
                .enumerate()
                .filter(|&(_, &(s, _))| s.is_before(upto))
                .min_by_key(|&(_, &(s, _))| s.diff(delivered))
                .map(|(i, _)| i);
            let Some(i) = lowest else {
                break;
            };
            let (start, end) = held.0.swap_remove(i);
            // A range reaching back before the delivery point overlaps what was delivered:
            // only its rest is new, with no hole before it.
            if start.is_at_or_after(delivered) {
                gaps.add(start.since(delivered));
            }
            self.delivered = end;
            self.deliver_held();
        }
        if self.held.as_ref().is_some_and(|h| h.0.is_empty()) {
            self.held = None;
        }
        if upto.is_after(self.delivered) {
            gaps.add(upto.since(self.delivered));
            self.delivered = upto;
        }
        gaps
    }

    /// The peer's ACK (`seg`, which this endpoint receives): init_peer numbers an endpoint
    /// not yet seen as though its SYN had been; update_ack_seq takes an ACK ahead, unless
    /// with a RST, or 0 far ahead, which is taken for a broken one.
    fn acked(&mut self, seg: &Segment) {
        let ack = seg.ack;
        if self.state == ZState::Inactive {
            self.init_seqs(ack.minus(1), ack.minus(1));
        } else if !seg.flags.rst() {
            let delta = ack.diff(self.ack_seq);
            if !(ack == Seq(0) && delta > TOO_LARGE_SEQ_DELTA) && delta > 0 {
                self.ack_seq = ack;
            }
        }
    }

    /// Where this endpoint's FIN is, and its data as the reassembler takes it.
    fn sent(&mut self, seg: &Segment) {
        let (seq, len) = (seg.seq, seg.len);
        if seg.flags.fin() {
            self.fin_at = Some(seq.plus(len));
        }
        if len > 0 && !seg.flags.rst() {
            let start = seq.plus(u32::from(seg.flags.syn()));
            self.received(start, start.plus(len));
        }
    }

    /// Bytes sent, from the sequence space (TCP_Endpoint::Size), SYN and FIN excluded;
    /// none for a half-open connection's end that was reset after its SYN, whose numbers
    /// say nothing of data.
    fn size(&self, peer: &ZEndpoint) -> u64 {
        if self.prev_state == ZState::SynSent
            && self.state == ZState::Reset
            && peer.state == ZState::Inactive
            && !self.no_data_acked()
        {
            return 0;
        }
        let last = u64::from(self.last_seq.since(self.start_seq));
        let acked = u64::from(self.ack_seq.since(self.start_seq));
        let size = last.max(acked).saturating_sub(1);
        if self.fin_cnt > 0 {
            size.saturating_sub(1)
        } else {
            size
        }
    }

    /// NoDataAcked: the peer acknowledged nothing beyond this end's SYN.
    fn no_data_acked(&self) -> bool {
        self.ack_seq == self.start_seq || self.ack_seq == self.start_seq.plus(1)
    }

    /// `established_or_cleanly_closing`'s test of one end (TCP_Reassembler.cc).
    fn is_clean(&self) -> bool {
        self.state == ZState::Established
            || (self.state == ZState::Closed && self.prev_state == ZState::Established)
    }
}

/// The content gaps one acknowledgement reveals: how many, and their bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Gaps {
    count: u32,
    bytes: u64,
}

impl Gaps {
    fn add(&mut self, len: u32) {
        self.count += 1;
        self.bytes += u64::from(len);
    }
}

/// What Zeek's conn.log says of a connection beyond its state and history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZeekCounts {
    /// Which of synfin's directions Zeek's originator sends.
    pub orig: Dir,
    /// The last packet of Zeek's connection that counts in its `duration` (which runs from
    /// the first, the record's `ts`, Zeek's as synfin's).
    pub last: Timestamp,
    /// `orig_bytes`, `resp_bytes`: from the sequence numbers (TCP_Endpoint::Size).
    pub bytes: [u64; 2],
    /// `orig_pkts`, `resp_pkts` and `orig_ip_bytes`, `resp_ip_bytes` (ConnSize).
    pub pkts: [u64; 2],
    pub ip_bytes: [u64; 2],
    /// `missed_bytes`: the content gaps' bytes, both ways.
    pub missed: u64,
}

/// Zeek's view of one connection.
#[derive(Clone, Debug, Default)]
pub struct Zeek {
    /// Which of synfin's directions Zeek's originator sends.
    orig: Option<Dir>,
    /// [originator, responder].
    ends: [ZEndpoint; 2],
    hist_seen: u32,
    history: History,
    /// A SYN reused the 4-tuple: Zeek's connection ended there, and what follows is
    /// another's.
    ended: bool,
    /// The last packet that counts in its duration.
    last: Timestamp,
    missed: u64,
}

impl Zeek {
    /// Feeds one segment, sent in direction `dir` at `ts`.
    pub fn segment(&mut self, dir: Dir, seg: &Segment, ts: Timestamp) {
        self.ended = self.ended || self.reused(seg);
        if self.ended {
            return;
        }
        let flags = seg.flags;
        let is_orig = dir == self.originator(dir, seg);
        let [o, r] = &mut self.ends;
        let (endpoint, peer) = if is_orig { (o, r) } else { (r, o) };
        endpoint.pkts += 1;
        endpoint.ip_bytes += u64::from(seg.ip_len);
        let one_past = seg.seq.plus(sequence_span(seg));
        init_endpoint(endpoint, flags.syn(), seg.seq, one_past);
        let rel_seq = seg.seq.since(endpoint.start_seq);

        let mut letters = Letters::default();
        update_history(
            &mut letters,
            &mut self.hist_seen,
            is_orig,
            endpoint,
            seg,
            rel_seq,
        );
        // update_window: a zero window, unless with or after a RST, or after the peer's FIN.
        if seg.window == 0
            && !flags.rst()
            && peer.state != ZState::Closed
            && endpoint.state != ZState::Reset
        {
            scaled(&mut letters, &mut endpoint.win0, b'W', is_orig);
        }
        // The connection's time stops once both ends closed (`SetLastTime` in
        // TCPSessionAdapter::Process), though its packets are still counted.
        if !(endpoint.did_close() && peer.did_close()) {
            self.last = ts;
        }
        if flags.fin() {
            endpoint.fin_cnt = endpoint.fin_cnt.saturating_add(1);
        }
        if flags.ack() {
            peer.acked(seg);
        }
        update_last_seq(&mut letters, is_orig, endpoint, seg, one_past);
        endpoint.sent(seg);
        let peer_was_active = peer.state != ZState::Inactive;
        update_state(is_orig, endpoint, peer, seg);
        // TCP_Reassembler::AckReceived: an ACK beyond the peer's data received without a
        // hole reveals content gaps in what the peer sent (history `G`).
        if flags.ack() && !flags.rst() && peer_was_active {
            let upto = match peer.fin_at {
                Some(fin) if seg.ack.is_after(fin) => fin,
                _ => seg.ack,
            };
            let gaps = peer.acknowledged(upto);
            // TCP_Reassembler::Gap: counted (history and content_gap) only while both ends
            // are established or closing cleanly.
            if peer.is_clean() && endpoint.is_clean() {
                for _ in 0..gaps.count {
                    scaled(&mut letters, &mut peer.gaps, b'G', !is_orig);
                }
                self.missed += gaps.bytes;
            }
        }

        for c in letters.iter() {
            if self.history.len() < MAX_HISTORY {
                self.history.push(c);
            }
        }
    }

    /// Whether a SYN ended Zeek's connection (`reused`): later segments are another's.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Whether Zeek takes the SYN `seg` for a new connection on this 4-tuple
    /// (TCPSessionAdapter::IsReuse): any SYN once either end closed, and before that one
    /// whose number is not the originator's first (unless it answers a SYN-ACK that came
    /// first); a SYN-ACK only while the originator has sent nothing. Wireshark starts a new
    /// connection only for a SYN whose number differs from its own direction's first, so
    /// a SYN sent again after a reset (same ISN) stays in synfin's connection, but no
    /// longer in Zeek's.
    fn reused(&self, seg: &Segment) -> bool {
        let flags = seg.flags;
        if self.orig.is_none() || !flags.syn() {
            return false;
        }
        let [o, r] = &self.ends;
        let conn_orig = match flags.ack() {
            true if o.state != ZState::Inactive => return false,
            true => r,
            false => o,
        };
        if o.did_close() || r.did_close() {
            return true;
        }
        let flipped = !flags.ack()
            && conn_orig.state == ZState::SynAckSent
            && r.state == ZState::Inactive
            && seg.seq == r.start_seq;
        seg.seq != conn_orig.start_seq && !flipped
    }

    /// The direction Zeek's originator sends, chosen at the connection's first packet.
    fn originator(&mut self, dir: Dir, seg: &Segment) -> Dir {
        *self.orig.get_or_insert_with(|| {
            if flips(seg) {
                self.history.push(b'^');
                dir.reverse()
            } else {
                dir
            }
        })
    }

    /// Zeek's `conn_state` (conn_state() in base/protocols/conn/main.zeek).
    pub fn conn_state(&self) -> Option<&'static str> {
        self.orig?;
        let [o, r] = &self.ends;
        let (os, rs) = (o.state, r.state);
        let o_inactive = matches!(os, ZState::Inactive | ZState::Partial);
        let r_inactive = matches!(rs, ZState::Inactive | ZState::Partial);
        Some(if rs == ZState::Reset {
            if matches!(os, ZState::SynSent | ZState::SynAckSent)
                || (os == ZState::Reset && o.size(r) == 0 && r.size(o) == 0)
            {
                "REJ"
            } else if o_inactive {
                "RSTRH"
            } else {
                "RSTR"
            }
        } else if os == ZState::Reset {
            if !r_inactive {
                "RSTO"
            } else if syn_then_reset(self.history.as_bytes()) {
                "RSTOS0"
            } else {
                "OTH"
            }
        } else if rs == ZState::Closed && os == ZState::Closed {
            "SF"
        } else if os == ZState::Closed {
            if r_inactive { "SH" } else { "S2" }
        } else if rs == ZState::Closed {
            if o_inactive { "SHR" } else { "S3" }
        } else if os == ZState::SynSent && rs == ZState::Inactive {
            "S0"
        } else if os == ZState::Established && rs == ZState::Established {
            "S1"
        } else {
            "OTH"
        })
    }

    /// conn.log's counts, once a packet was seen.
    pub fn counts(&self) -> Option<ZeekCounts> {
        let [o, r] = &self.ends;
        Some(ZeekCounts {
            orig: self.orig?,
            last: self.last,
            bytes: [o.size(r), r.size(o)],
            pkts: [o.pkts, r.pkts],
            ip_bytes: [o.ip_bytes, r.ip_bytes],
            missed: self.missed,
        })
    }

    /// The history, leaving this one empty.
    pub fn take_history(&mut self) -> Option<History> {
        self.orig.map(|_| std::mem::take(&mut self.history))
    }
}

/// get_segment_len: the numbers a segment takes; SYN and FIN one each, a RST's data none
/// (it is not in the stream).
fn sequence_span(seg: &Segment) -> u32 {
    let flags = seg.flags;
    let data = if flags.rst() { 0 } else { seg.len };
    data.wrapping_add(u32::from(flags.syn()))
        .wrapping_add(u32::from(flags.fin()))
}

/// Whether Zeek's originator is the receiver of the first packet (history `^`): when that
/// packet is a SYN-ACK, and (TCPAnalyzer::WantConnection) when a connection first seen
/// without its SYN comes from the end that looks like the server by its port.
fn flips(seg: &Segment) -> bool {
    let flags = seg.flags;
    if flags.syn() {
        return flags.ack();
    }
    let (src, dst) = (seg.src.port(), seg.dst.port());
    if !likely_server_port(src) {
        false
    } else if likely_server_port(dst) {
        // Both plausible: the lower port is taken for the server.
        src < dst
    } else {
        true
    }
}

/// Zeek's `likely_server_ports` over TCP: the ports its default analyzers register for
/// (the `ports` sets of base/protocols/*/main.zeek).
fn likely_server_port(port: u16) -> bool {
    matches!(
        port,
        21 | 22 | 23 | 25 | 53 | 80 | 81 | 88 | 110 | 135 | 139 | 143 | 389 | 443 | 445
            | 502 | 513 | 514 | 563 | 585 | 587 | 614 | 631 | 636 | 989 | 990 | 992 | 993
            | 995 | 1080 | 1883 | 2811 | 3128 | 3268 | 3306 | 3389 | 5222 | 5223 | 5269
            | 5432 | 5900..=5907 | 6379 | 6666..=6669 | 8000 | 8080 | 8888 | 20000
    )
}

/// `/\^?S[^HAFGIQ]*R.*/`: the originator's SYN, then its RST before any answer.
fn syn_then_reset(history: &[u8]) -> bool {
    let h = history.strip_prefix(b"^").unwrap_or(history);
    let Some(rest) = h.strip_prefix(b"S") else {
        return false;
    };
    for c in rest {
        match c {
            b'R' => return true,
            b'H' | b'A' | b'F' | b'G' | b'I' | b'Q' => return false,
            _ => {}
        }
    }
    false
}

/// History letters of one segment, in the order Zeek adds them.
#[derive(Default)]
struct Letters {
    buf: [u8; 8],
    n: usize,
}

impl Letters {
    fn push(&mut self, c: u8, is_orig: bool) {
        if let Some(slot) = self.buf.get_mut(self.n) {
            *slot = if is_orig { c } else { c.to_ascii_lowercase() };
            self.n += 1;
        }
    }
    fn iter(&self) -> impl Iterator<Item = u8> + '_ {
        self.buf.iter().take(self.n).copied()
    }
}

/// Connection::CheckHistory: the letter the first time this endpoint shows `mask`; true
/// when it had shown it before.
fn check(letters: &mut Letters, seen: &mut u32, mask: u32, c: u8, is_orig: bool) -> bool {
    let mask = if is_orig { mask } else { mask << 16 };
    if *seen & mask == 0 {
        *seen |= mask;
        letters.push(c, is_orig);
        false
    } else {
        true
    }
}

/// Connection::ScaledHistoryEntry: the letter at counts 1, 10, 100, …
fn scaled(letters: &mut Letters, (count, threshold): &mut (u32, u32), c: u8, is_orig: bool) {
    *count = count.saturating_add(1);
    if *threshold == 0 {
        *threshold = 1;
    }
    if *count == *threshold {
        letters.push(c, is_orig);
        *threshold = threshold.saturating_mul(10);
    }
}

/// init_endpoint: where an endpoint's numbering starts, and when it restarts.
fn init_endpoint(endpoint: &mut ZEndpoint, syn: bool, seq: Seq, one_past: Seq) {
    match endpoint.state {
        ZState::Inactive => {
            if syn {
                endpoint.init_seqs(seq, one_past);
            } else {
                // As though a SYN had been seen, and the first packet is not a duplicate.
                endpoint.init_seqs(seq.minus(1), seq);
            }
        }
        ZState::SynSent | ZState::SynAckSent => {
            if syn && seq != endpoint.start_seq {
                endpoint.init_seqs(seq, one_past);
            }
        }
        ZState::Established | ZState::Partial => {
            if syn {
                endpoint.init_seqs(seq, one_past);
            }
        }
        ZState::Reset => {
            if syn && endpoint.prev_state == ZState::Inactive {
                endpoint.init_seqs(seq, one_past);
            }
        }
        ZState::Closed => {}
    }
}

/// update_history (TCPSessionAdapter.cc): SYN, SYN-ACK, FIN and RST each time they come
/// with a new number, data and pure ACKs once per endpoint.
fn update_history(
    letters: &mut Letters,
    seen: &mut u32,
    is_orig: bool,
    endpoint: &mut ZEndpoint,
    seg: &Segment,
    rel_seq: u32,
) {
    let flags = seg.flags;
    let bits = u8::from(flags.syn()) + u8::from(flags.fin()) + u8::from(flags.rst());
    if bits > 1 {
        if flags.fin() && flags.rst() {
            check(letters, seen, HIST_FIN_RST_PKT, b'I', is_orig);
        } else {
            check(letters, seen, HIST_MULTI_FLAG_PKT, b'Q', is_orig);
        }
    } else if bits == 1 {
        if flags.syn() {
            let c = if flags.ack() { b'H' } else { b'S' };
            if check(letters, seen, HIST_SYN_PKT, c, is_orig) && rel_seq != endpoint.hist_last_syn {
                letters.push(c, is_orig);
            }
            endpoint.hist_last_syn = rel_seq;
        }
        if flags.fin() {
            // A FIN's number is at the end of its data.
            let at = rel_seq.wrapping_add(seg.len);
            if check(letters, seen, HIST_FIN_PKT, b'F', is_orig) && at != endpoint.hist_last_fin {
                letters.push(b'F', is_orig);
            }
            endpoint.hist_last_fin = at;
        }
        if flags.rst() {
            if check(letters, seen, HIST_RST_PKT, b'R', is_orig)
                && rel_seq != endpoint.hist_last_rst
            {
                letters.push(b'R', is_orig);
            }
            endpoint.hist_last_rst = rel_seq;
        }
    } else if seg.len > 0 {
        check(letters, seen, HIST_DATA_PKT, b'D', is_orig);
    } else if flags.ack() {
        check(letters, seen, HIST_ACK_PKT, b'A', is_orig);
    }
}

/// update_last_seq: the highest number sent; data that does not advance it is a
/// retransmission (`T`).
fn update_last_seq(
    letters: &mut Letters,
    is_orig: bool,
    endpoint: &mut ZEndpoint,
    seg: &Segment,
    one_past: Seq,
) {
    let flags = seg.flags;
    let delta = one_past.diff(endpoint.last_seq);
    if (flags.syn() || flags.rst())
        && !(-TOO_LARGE_SEQ_DELTA..=TOO_LARGE_SEQ_DELTA).contains(&delta)
    {
        // Not trusted.
    } else if flags.fin() && endpoint.last_seq == endpoint.start_seq.plus(1) {
        endpoint.last_seq = one_past;
    } else if endpoint.state == ZState::Reset {
        // Nothing after a RST is trusted.
    } else if delta > 0 {
        endpoint.last_seq = one_past;
    } else if seg.len > 0 {
        scaled(letters, &mut endpoint.rxmt, b'T', is_orig);
    }
}

/// UpdateStateMachine (TCPSessionAdapter.cc), by the sending endpoint's state.
fn update_state(is_orig: bool, endpoint: &mut ZEndpoint, peer: &mut ZEndpoint, seg: &Segment) {
    let flags = seg.flags;
    match endpoint.state {
        ZState::Inactive => update_inactive(is_orig, endpoint, peer, seg),
        // UpdateSYN_SentState
        ZState::SynSent | ZState::SynAckSent => {
            if flags.fin() {
                endpoint.set_state(ZState::Closed);
            }
            if flags.rst() {
                endpoint.set_state(ZState::Reset);
            }
        }
        // UpdateEstablishedState
        ZState::Established | ZState::Partial => {
            if flags.syn()
                && endpoint.state == ZState::Partial
                && peer.state == ZState::Inactive
                && !flags.ack()
            {
                endpoint.set_state(ZState::SynSent);
            }
            if flags.fin() && !flags.rst() {
                endpoint.set_state(ZState::Closed);
                if peer.state == ZState::Reset && peer.prev_state == ZState::Closed {
                    // The peer's FIN then RST was a normal close after all.
                    peer.set_state(ZState::Closed);
                }
            }
            if flags.rst() {
                endpoint.set_state(ZState::Reset);
            }
        }
        // UpdateClosedState: a RST after both FINs changes nothing.
        ZState::Closed => {
            if flags.rst() && peer.state != ZState::Closed {
                endpoint.set_state(ZState::Reset);
            }
        }
        // UpdateResetState: nothing changes after a RST.
        ZState::Reset => {}
    }
}

/// UpdateInactiveState: the first segment an endpoint sends.
fn update_inactive(is_orig: bool, endpoint: &mut ZEndpoint, peer: &mut ZEndpoint, seg: &Segment) {
    let flags = seg.flags;
    if flags.syn() {
        if is_orig {
            endpoint.set_state(if flags.ack() {
                ZState::SynAckSent
            } else {
                ZState::SynSent
            });
        } else {
            if !flags.ack() && peer.state == ZState::SynAckSent && seg.seq == endpoint.start_seq {
                // A SYN answering the originator's SYN-ACK: Zeek flips the roles;
                // synfin keeps its own and only establishes the peer.
                peer.set_state(ZState::Established);
            }
            if peer.state == ZState::SynSent {
                peer.set_state(ZState::Established);
            }
            endpoint.set_state(ZState::Established);
        }
    }
    if flags.fin() {
        endpoint.set_state(ZState::Closed);
    }
    if flags.rst() {
        endpoint.set_state(ZState::Reset);
    }
    if endpoint.state == ZState::Inactive {
        if !is_orig && seg.len == 0 && peer.state == ZState::SynSent {
            // An ACK of the SYN before the SYN-ACK: not yet a partial connection.
        } else if flags.ack() && peer.state == ZState::Established {
            // The originator's SYN was missed, its peer's SYN-ACK was not.
            endpoint.set_state(ZState::Established);
        } else {
            endpoint.set_state(ZState::Partial);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An endpoint whose data starts at 1 (its SYN took 0), nothing delivered yet.
    fn gaps(count: u32, bytes: u64) -> Gaps {
        Gaps { count, bytes }
    }

    fn endpoint() -> ZEndpoint {
        let mut e = ZEndpoint::default();
        e.init_seqs(Seq(0), Seq(1));
        e
    }

    #[test]
    fn reordered_data_is_no_gap() {
        let mut e = endpoint();
        e.received(Seq(1), Seq(101));
        e.received(Seq(201), Seq(301));
        e.received(Seq(101), Seq(201));
        assert_eq!(e.delivered, Seq(301), "the late range joins the held one");
        assert_eq!(e.acknowledged(Seq(301)), gaps(0, 0));
        assert!(e.held.is_none());
    }

    #[test]
    fn each_hole_below_the_ack_is_a_gap() {
        let mut e = endpoint();
        e.received(Seq(1), Seq(101));
        e.received(Seq(401), Seq(501));
        e.received(Seq(201), Seq(301));
        assert_eq!(
            e.acknowledged(Seq(501)),
            gaps(2, 200),
            "[101, 201) and [301, 401)"
        );
        assert_eq!(e.delivered, Seq(501));
        assert_eq!(
            e.acknowledged(Seq(601)),
            gaps(1, 100),
            "[501, 601), never seen"
        );
        assert_eq!(e.acknowledged(Seq(601)), gaps(0, 0), "nothing new");
    }

    #[test]
    fn a_range_held_where_delivery_stands_counts_an_empty_gap() {
        let mut e = endpoint();
        e.received(Seq(1), Seq(101));
        e.received(Seq(201), Seq(301));
        // The ACK stops where the held range begins: the hole before it is the gap, and
        // the range stays held (Undelivered does not deliver it) ...
        assert_eq!(e.acknowledged(Seq(201)), gaps(1, 100));
        assert_eq!(e.delivered, Seq(201));
        // ... until the next ACK beyond, which counts an empty gap before it, as Zeek does.
        assert_eq!(e.acknowledged(Seq(301)), gaps(1, 0));
        assert_eq!(e.delivered, Seq(301));
    }

    #[test]
    fn a_long_run_beyond_a_hole_is_held_whole_and_is_no_gap_once_the_hole_fills() {
        // A segment lost, then 200 more before the sender retransmits it, the receiver's
        // ACKs stopping at the hole: nothing beyond it is taken for lost.
        let mut e = endpoint();
        e.received(Seq(1), Seq(101));
        for k in 2..=201u32 {
            e.received(Seq(1 + 100 * k), Seq(101 + 100 * k));
        }
        assert_eq!(e.held.as_ref().map(|h| h.0.len()), Some(1));
        assert_eq!(
            e.acknowledged(Seq(101)),
            gaps(0, 0),
            "the ACK stops at the hole"
        );
        e.received(Seq(101), Seq(201));
        assert_eq!(e.delivered, Seq(20_201));
        assert_eq!(e.acknowledged(Seq(20_201)), gaps(0, 0));
    }

    #[test]
    fn held_data_is_bounded() {
        let mut e = endpoint();
        for k in 0..(MAX_HELD as u32 + 50) {
            e.received(Seq(1001 + 200 * k), Seq(1101 + 200 * k));
        }
        assert_eq!(e.held.as_ref().map(|h| h.0.len()), Some(MAX_HELD));
        assert_eq!(e.delivered, Seq(1), "nothing in order yet");
    }
}
