//! Wireshark's TCP sequence analysis (`tcp.analysis.*` in packet-tcp.c,
//! `tcp_analyze_sequence_number`, as TShark 4.0 applies it in its single pass): per
//! direction, the next expected sequence number, the last ACK and window sent, and the
//! flags of the last segment; each segment is judged against them. The checks and their
//! order are Wireshark's, quirks included (a raw sequence number of 0 reads as "not yet
//! known", as it does there), so that the flags match frame for frame.

use super::WindowScale;
use crate::capture::Timestamp;
use crate::decode::{Segment, Seq};
use smallvec::SmallVec;

/// Wireshark's TCP analysis flags (`tcp.analysis.*`) on one segment, as a bit set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Analysis(pub u16);

impl Analysis {
    pub const RETRANSMISSION: u16 = 1 << 0;
    pub const FAST_RETRANSMISSION: u16 = 1 << 1;
    pub const SPURIOUS_RETRANSMISSION: u16 = 1 << 2;
    pub const OUT_OF_ORDER: u16 = 1 << 3;
    pub const PREVIOUS_SEGMENT_LOST: u16 = 1 << 4;
    pub const ACKED_UNSEEN: u16 = 1 << 5;
    pub const DUP_ACK: u16 = 1 << 6;
    pub const ZERO_WINDOW: u16 = 1 << 7;
    pub const ZERO_WINDOW_PROBE: u16 = 1 << 8;
    pub const ZERO_WINDOW_PROBE_ACK: u16 = 1 << 9;
    pub const WINDOW_UPDATE: u16 = 1 << 10;
    pub const WINDOW_FULL: u16 = 1 << 11;
    pub const KEEP_ALIVE: u16 = 1 << 12;
    pub const KEEP_ALIVE_ACK: u16 = 1 << 13;
    pub const PORT_REUSED: u16 = 1 << 14;
    /// Not Wireshark's: a second copy of the packet before it (a capture on `any`).
    pub const DUPLICATE: u16 = 1 << 15;

    /// The JSON names (SPEC.md), in this order.
    const NAMES: [(u16, &'static str); 16] = [
        (Self::RETRANSMISSION, "retransmission"),
        (Self::FAST_RETRANSMISSION, "fast-retransmission"),
        (Self::SPURIOUS_RETRANSMISSION, "spurious-retransmission"),
        (Self::OUT_OF_ORDER, "out-of-order"),
        (Self::PREVIOUS_SEGMENT_LOST, "previous-segment-lost"),
        (Self::ACKED_UNSEEN, "acked-unseen"),
        (Self::DUP_ACK, "dup-ack"),
        (Self::ZERO_WINDOW, "zero-window"),
        (Self::ZERO_WINDOW_PROBE, "zero-window-probe"),
        (Self::ZERO_WINDOW_PROBE_ACK, "zero-window-probe-ack"),
        (Self::WINDOW_UPDATE, "window-update"),
        (Self::WINDOW_FULL, "window-full"),
        (Self::KEEP_ALIVE, "keep-alive"),
        (Self::KEEP_ALIVE_ACK, "keep-alive-ack"),
        (Self::PORT_REUSED, "port-reused"),
        (Self::DUPLICATE, "duplicate"),
    ];

    pub fn has(self, flag: u16) -> bool {
        self.0 & flag != 0
    }
    pub fn set(&mut self, flag: u16) {
        self.0 |= flag;
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// Flags that say nothing went wrong: a window opening, a keep-alive and its answer, a
    /// port used again for a new connection, the second copy of a packet on `any`.
    pub const HARMLESS: u16 = Self::WINDOW_UPDATE
        | Self::KEEP_ALIVE
        | Self::KEEP_ALIVE_ACK
        | Self::PORT_REUSED
        | Self::DUPLICATE;

    /// Whether a flag says something went wrong (a retransmission, a lost segment, a full
    /// window …).
    pub fn troubling(self) -> bool {
        self.0 & !Self::HARMLESS != 0
    }

    /// The flag a JSON name stands for.
    pub fn flag(name: &str) -> Option<u16> {
        Self::NAMES
            .into_iter()
            .find(|(_, n)| *n == name)
            .map(|(bit, _)| bit)
    }

    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .into_iter()
            .filter(move |(bit, _)| self.has(*bit))
            .map(|(_, name)| name)
    }
}

/// What one direction has sent so far, as the analysis needs it (Wireshark's
/// `tcp_analyze_seq_flow_info_t` and the window of `tcp_flow_t`).
#[derive(Clone, Debug)]
pub struct SeqInfo {
    /// Sequence number after the highest segment sent; `UNSET` while unknown.
    nextseq: Seq,
    nextseq_time: Timestamp,
    /// Highest sequence number sent without a gap before it; `UNSET` while unknown.
    maxseqtobeacked: Seq,
    /// Acknowledgement field of the last segment (raw, also without ACK set).
    lastack: Seq,
    lastack_time: Timestamp,
    /// Raw window field of the last segment; `u32::MAX` before any (as in Wireshark).
    window: u32,
    /// The last window came from a SYN, which is never scaled.
    window_from_syn: bool,
    lastsegmentflags: Analysis,
    /// Duplicate ACKs in a row; `u32::MAX` after an ACK of unseen data (Wireshark's -1).
    dupacknum: u32,
    /// `Shared::mptcp` as this direction's last segment found it.
    mptcp_seen: u8,
    unacked: Unacked,
}

impl Default for SeqInfo {
    fn default() -> Self {
        SeqInfo {
            nextseq: UNSET,
            nextseq_time: Timestamp::default(),
            maxseqtobeacked: UNSET,
            lastack: UNSET,
            lastack_time: Timestamp::default(),
            window: u32::MAX,
            window_from_syn: false,
            lastsegmentflags: Analysis::default(),
            dupacknum: 0,
            mptcp_seen: 0,
            unacked: Unacked::default(),
        }
    }
}

/// Wireshark keeps at most this many of a direction's segments waiting for their ACK
/// (`TCP_MAX_UNACKED_SEGMENTS`); see [`Unacked`].
const MAX_UNACKED: usize = 10_000;

/// The segments of one direction that wait for their ACK (Wireshark's `segments` list and
/// `segment_count`), kept as their ends in sequence order. Only the list's length shows
/// in the flags: a SYN or FIN that finds it full is not added, and Wireshark then does not
/// count the SYN's or FIN's sequence number in `nextseq`, so the peer's ACK of it reads as
/// an ACK of unseen data (a one-way bulk transfer of over 10,000 segments, say).
///
/// A few ends (a SYN, a request, a FIN) are kept inline; more, as in a bulk transfer, move
/// to the heap, at most `MAX_UNACKED` of them: memory stays bounded per connection.
#[derive(Clone, Debug, Default)]
struct Unacked(SmallVec<[Seq; 4]>);

impl Unacked {
    /// Adds a segment ending before `end` unless the list is full; says whether it did.
    #[inline]
    fn add(&mut self, end: Seq) -> bool {
        let ends = &mut self.0;
        if ends.len() >= MAX_UNACKED {
            return false;
        }
        match ends.last() {
            // A retransmission, below segments already listed.
            Some(&last) if end.is_before(last) => {
                let at = ends.partition_point(|&e| e.is_at_or_before(end));
                ends.insert(at, end);
            }
            _ => ends.push(end),
        }
        true
    }

    /// Drops every segment that `ack` covers, as Wireshark does for each segment the peer
    /// sends (with the raw acknowledgement field, also when ACK is not set).
    #[inline]
    fn acknowledge(&mut self, ack: Seq) {
        let covered = self
            .0
            .iter()
            .take_while(|&&e| e.is_at_or_before(ack))
            .count();
        if covered > 0 {
            self.0.drain(..covered);
        }
    }
}

/// What the analysis keeps for the whole connection rather than per direction: the
/// handshake's times (the initial RTT bounds how late an out-of-order segment may be), and
/// the kinds of MPTCP option seen.
#[derive(Clone, Copy, Debug, Default)]
pub struct Shared {
    /// Most recent SYN (without ACK), when `saw_syn`: not an `Option`, whose tag would
    /// take a word of its own; the flag packs with `mptcp`, and a connection stays within
    /// eleven cache lines.
    mru_syn: Timestamp,
    saw_syn: bool,
    /// From that SYN to the first ACK of the handshake; 0 while unknown.
    first_rtt_ns: u64,
    /// The MPTCP subtypes any segment carried so far, as `Segment::mptcp` (Wireshark's
    /// `mp_operations`).
    mptcp: u8,
}

impl Shared {
    /// Notes the handshake's times (Wireshark's `ts_mru_syn`, `ts_first_rtt`) and the MPTCP
    /// options, which Wireshark reads after its analysis of the segment.
    pub fn observe(&mut self, seg: &Segment, ts: Timestamp) {
        self.mptcp |= seg.mptcp;
        let flags = seg.flags;
        if flags.syn() && !flags.ack() {
            (self.mru_syn, self.saw_syn) = (ts, true);
        } else if flags.ack() && !flags.syn() && self.first_rtt_ns == 0 && self.saw_syn {
            self.first_rtt_ns = ts.0.saturating_sub(self.mru_syn.0);
        }
    }
}

/// A segment's analysis: its flags, and its number in a run of duplicate ACKs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    pub flags: Analysis,
    pub dup_ack: Option<u32>,
}

/// A retransmission this soon after the peer's duplicate ACKs is a fast one.
const FAST_RETRANSMISSION_NS: u64 = 20_000_000;
/// Out-of-order bound while the initial RTT is unknown: 3 ms.
const OUT_OF_ORDER_DEFAULT_NS: u64 = 3_000_000;

/// Wireshark reads a raw sequence or acknowledgement number of 0 as "not yet known".
const UNSET: Seq = Seq(0);

/// Judges the segment `seg`, sent by the direction `fwd`, at `ts`. `rev_scale` is the
/// peer's window scale as known before this segment's own options.
pub fn analyze(
    fwd: &mut SeqInfo,
    rev: &mut SeqInfo,
    rev_scale: WindowScale,
    shared: &Shared,
    seg: &Segment,
    ts: Timestamp,
) -> Verdict {
    let flags = seg.flags;
    let mut verdict = against_own(fwd, rev, rev_scale, shared, seg);
    if seg.ack != fwd.lastack {
        fwd.dupacknum = 0;
    }
    let a = &mut verdict.flags;
    if acks_unseen(rev, seg) {
        a.set(Analysis::ACKED_UNSEEN);
    }
    if (seg.len > 0 || flags.syn() || flags.fin()) && !a.has(Analysis::KEEP_ALIVE) {
        retransmission_kind(a, fwd, rev, shared, seg, ts);
    }
    remember(fwd, rev, *a, seg, ts);
    fwd.mptcp_seen = shared.mptcp;
    verdict
}

/// The checks of a segment against what its own direction sent before and the peer's
/// window, in packet-tcp.c's order; the last ones end the checks early there ("goto
/// finished_fwd"). A duplicate ACK is counted here.
fn against_own(
    fwd: &mut SeqInfo,
    rev: &SeqInfo,
    rev_scale: WindowScale,
    shared: &Shared,
    seg: &Segment,
) -> Verdict {
    let flags = seg.flags;
    let (seq, ack, seglen, window) = (seg.seq, seg.ack, seg.len, u32::from(seg.window));
    let syn_fin_rst = flags.syn() || flags.fin() || flags.rst();
    let mut a = Analysis::default();
    if seglen == 1 && seq == fwd.nextseq && rev.window == 0 {
        a.set(Analysis::ZERO_WINDOW_PROBE);
        return Verdict {
            flags: a,
            dup_ack: None,
        };
    }
    if window == 0 && !syn_fin_rst {
        a.set(Analysis::ZERO_WINDOW);
    }
    if fwd.nextseq != UNSET && seq.wireshark_after(fwd.nextseq) && !flags.rst() {
        a.set(Analysis::PREVIOUS_SEGMENT_LOST);
    }
    if seglen <= 1 && seq == fwd.nextseq.minus(1) && !syn_fin_rst {
        a.set(Analysis::KEEP_ALIVE);
    }
    let repeats = seglen == 0 && seq == fwd.nextseq && ack == fwd.lastack && !syn_fin_rst;
    if repeats && window != 0 && window != fwd.window {
        a.set(Analysis::WINDOW_UPDATE);
    }
    if seglen > 0 && rev_scale != WindowScale::Unknown && !syn_fin_rst {
        let shift = match rev_scale {
            WindowScale::Shift(s) if !rev.window_from_syn => s,
            _ => 0,
        };
        let edge = rev.lastack.plus(rev.window.wrapping_shl(u32::from(shift)));
        if seq.plus(seglen) == edge {
            a.set(Analysis::WINDOW_FULL);
        }
    }
    let same_window = window == fwd.window;
    if repeats && window != 0 && same_window && rev.lastsegmentflags.has(Analysis::KEEP_ALIVE) {
        a.set(Analysis::KEEP_ALIVE_ACK);
    } else if repeats
        && window == 0
        && same_window
        && rev.lastsegmentflags.has(Analysis::ZERO_WINDOW_PROBE)
    {
        a.set(Analysis::ZERO_WINDOW_PROBE_ACK);
    } else if repeats && window != 0 && same_window {
        // MPTCP tolerates duplicate ACKs (RFC 8684 §4): Wireshark ignores one when a kind
        // of MPTCP option appeared since this direction's last segment.
        if shared.mptcp != fwd.mptcp_seen {
            return Verdict {
                flags: a,
                dup_ack: None,
            };
        }
        // After an ACK of data not seen (-1, below), a run starts again at 1.
        fwd.dupacknum = match fwd.dupacknum {
            u32::MAX => 1,
            n => n.wrapping_add(1),
        };
        a.set(Analysis::DUP_ACK);
        return Verdict {
            flags: a,
            dup_ack: Some(fwd.dupacknum),
        };
    }
    Verdict {
        flags: a,
        dup_ack: None,
    }
}

/// Whether the segment acknowledges what the peer was not seen to send (its segments went
/// uncaptured), reported once per gap.
fn acks_unseen(rev: &mut SeqInfo, seg: &Segment) -> bool {
    let ack = seg.ack;
    if rev.maxseqtobeacked == UNSET || !ack.wireshark_after(rev.maxseqtobeacked) || !seg.flags.ack()
    {
        return false;
    }
    if rev.maxseqtobeacked.is_before(rev.nextseq) {
        // The peer sent more since: move the mark up to it, so that this gap is reported
        // once.
        rev.maxseqtobeacked = rev.nextseq;
        return true;
    }
    // Report a run of ACKs past the same gap once. Wireshark stores -1 in its unsigned
    // counter, which then also reads as "two duplicate ACKs or more".
    let first = rev.dupacknum == 0;
    rev.dupacknum = u32::MAX;
    first
}

/// What the direction has sent after this segment (flagged `a`), and what the peer's
/// unacknowledged segments are after its ACK.
fn remember(fwd: &mut SeqInfo, rev: &mut SeqInfo, a: Analysis, seg: &Segment, ts: Timestamp) {
    let flags = seg.flags;
    let mut nextseq = seg.seq.plus(seg.len);
    // A SYN or FIN takes one number, which Wireshark counts only for a segment it could list.
    let ctl = u32::from(flags.syn() || flags.fin());
    if (seg.len > 0 || ctl == 1) && fwd.unacked.add(nextseq.plus(ctl)) {
        nextseq = nextseq.plus(ctl);
    }
    let probe = a.has(Analysis::ZERO_WINDOW_PROBE);
    if (nextseq.wireshark_after(fwd.nextseq) || fwd.nextseq == UNSET) && !probe {
        fwd.nextseq = nextseq;
        fwd.nextseq_time = ts;
    }
    if (seg.seq == fwd.maxseqtobeacked || fwd.maxseqtobeacked == UNSET) && !probe {
        fwd.maxseqtobeacked = fwd.nextseq;
    }
    fwd.window = u32::from(seg.window);
    fwd.window_from_syn = flags.syn();
    fwd.lastack = seg.ack;
    fwd.lastack_time = ts;
    fwd.lastsegmentflags = a;
    rev.unacked.acknowledge(seg.ack);
}

/// Retransmission, fast retransmission, spurious retransmission or out-of-order, for a
/// segment that carries data, a SYN or a FIN.
fn retransmission_kind(
    a: &mut Analysis,
    fwd: &SeqInfo,
    rev: &SeqInfo,
    shared: &Shared,
    seg: &Segment,
    ts: Timestamp,
) {
    let flags = seg.flags;
    let (seq, seglen) = (seg.seq, seg.len);
    let mut not_advanced = fwd.nextseq != UNSET && seq.is_before(fwd.nextseq);
    // One byte short of the next number but longer than one byte: new data after a
    // zero-window probe, not a retransmission.
    if seglen > 1 && fwd.nextseq.minus(1) == seq {
        not_advanced = false;
    }
    // Data the peer has already acknowledged.
    if seglen > 0 && rev.lastack != UNSET && seq.plus(seglen).is_at_or_before(rev.lastack) {
        a.set(Analysis::SPURIOUS_RETRANSMISSION | Analysis::RETRANSMISSION);
        return;
    }
    let since_dup_acks = ts.0.wrapping_sub(rev.lastack_time.0);
    if not_advanced
        && rev.dupacknum >= 2
        && rev.lastack == seq
        && since_dup_acks < FAST_RETRANSMISSION_NS
    {
        a.set(Analysis::FAST_RETRANSMISSION | Analysis::RETRANSMISSION);
        return;
    }
    let since_highest = ts.0.wrapping_sub(fwd.nextseq_time.0);
    let bound = match shared.first_rtt_ns {
        0 => OUT_OF_ORDER_DEFAULT_NS,
        rtt => rtt,
    };
    let end = seq.plus(seglen).plus(u32::from(flags.syn() || flags.fin()));
    if not_advanced && since_highest < bound && fwd.nextseq != end {
        a.set(Analysis::OUT_OF_ORDER);
        return;
    }
    if not_advanced {
        a.set(Analysis::RETRANSMISSION);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::TcpFlags;

    fn segment(flags: u16, seq: u32, ack: u32, len: u32) -> Segment {
        Segment {
            seq: Seq(seq),
            ack: Seq(ack),
            flags: TcpFlags(flags),
            window: 512,
            len,
            ..Segment::EMPTY
        }
    }

    /// Sends `seg` from `fwd` to `rev` at `us` µs and returns its flags.
    fn send(fwd: &mut SeqInfo, rev: &mut SeqInfo, seg: Segment, us: u64) -> Analysis {
        let shared = Shared::default();
        let ts = Timestamp(us * 1_000);
        analyze(fwd, rev, WindowScale::NotUsed, &shared, &seg, ts).flags
    }

    const ACK: u16 = TcpFlags::ACK;
    const FIN_ACK: u16 = TcpFlags::FIN | TcpFlags::ACK;

    /// A client (ISN 100) and a server (ISN 900) after the three-way handshake, at 20 µs.
    fn handshake() -> (SeqInfo, SeqInfo) {
        let (mut client, mut server) = (SeqInfo::default(), SeqInfo::default());
        send(
            &mut client,
            &mut server,
            segment(TcpFlags::SYN, 100, 0, 0),
            0,
        );
        let syn_ack = segment(TcpFlags::SYN | ACK, 900, 101, 0);
        send(&mut server, &mut client, syn_ack, 10);
        send(&mut client, &mut server, segment(ACK, 101, 901, 0), 20);
        (client, server)
    }

    /// A client sends `segments` segments of 10 bytes that the server never acknowledges,
    /// then a FIN, which the server acknowledges; returns the flags of that ACK.
    fn ack_of_fin_after(segments: u32) -> Analysis {
        let (mut client, mut server) = handshake();
        let mut seq = 101;
        for n in 0..segments {
            let data = segment(ACK, seq, 901, 10);
            send(&mut client, &mut server, data, 30 + u64::from(n));
            seq += 10;
        }
        let fin = segment(FIN_ACK, seq, 901, 0);
        send(&mut client, &mut server, fin, 1_000_000);
        send(
            &mut server,
            &mut client,
            segment(ACK, 901, seq + 1, 0),
            1_000_010,
        )
    }

    /// packet-tcp.c: a direction whose data the peer acknowledged unseen holds -1 in its
    /// duplicate-ACK counter; its next duplicate ACK is then #1, not #0.
    #[test]
    fn a_duplicate_ack_run_after_an_ack_of_unseen_data_starts_at_one() {
        let (mut client, mut server) = handshake();
        send(&mut client, &mut server, segment(ACK, 101, 901, 10), 30);
        // The server acknowledges 10 bytes more than the client was seen to send.
        let unseen = send(&mut server, &mut client, segment(ACK, 901, 121, 0), 40);
        assert!(unseen.has(Analysis::ACKED_UNSEEN));
        let shared = Shared::default();
        let dup = segment(ACK, 111, 901, 0);
        let verdict = analyze(
            &mut client,
            &mut server,
            WindowScale::NotUsed,
            &shared,
            &dup,
            Timestamp(50_000),
        );
        assert!(verdict.flags.has(Analysis::DUP_ACK));
        assert_eq!(verdict.dup_ack, Some(1));
    }

    /// packet-tcp.c: MPTCP tolerates duplicate ACKs (RFC 8684 §4), so Wireshark ignores one
    /// when a kind of MPTCP option appeared since the direction's last segment; the next
    /// counts again.
    #[test]
    fn a_duplicate_ack_after_a_new_kind_of_mptcp_option_is_ignored() {
        const DSS: u8 = 1 << 2;
        let (mut client, mut server) = handshake();
        let mut shared = Shared::default();
        let mut ack = |shared: &mut Shared, us: u64| {
            let seg = Segment {
                mptcp: DSS,
                ..segment(ACK, 101, 901, 0)
            };
            let ts = Timestamp(us * 1_000);
            let verdict = analyze(
                &mut client,
                &mut server,
                WindowScale::NotUsed,
                shared,
                &seg,
                ts,
            );
            shared.observe(&seg, ts);
            verdict
        };
        // The first ACK with a DSS option repeats the handshake's ACK: a duplicate, as its
        // options are read after the analysis; the next finds the DSS new since this
        // direction's last segment and is ignored; then the run goes on.
        assert_eq!(ack(&mut shared, 30).dup_ack, Some(1));
        assert_eq!(ack(&mut shared, 40).dup_ack, None);
        assert_eq!(ack(&mut shared, 50).dup_ack, Some(2));
    }

    #[test]
    fn a_fin_beyond_ten_thousand_unacknowledged_segments_is_not_counted() {
        // Wireshark's list holds 10,000 segments: the SYN left it at the SYN-ACK, so 9,999
        // data segments leave room for the FIN, 10,000 do not, and then the ACK of the FIN
        // acknowledges a number Wireshark never saw sent.
        assert!(!ack_of_fin_after(9_999).has(Analysis::ACKED_UNSEEN));
        assert!(ack_of_fin_after(10_000).has(Analysis::ACKED_UNSEEN));
    }

    #[test]
    fn acknowledged_segments_leave_the_list_also_out_of_order() {
        let mut list = Unacked::default();
        // In order, then a retransmission below the last, then more than fit inline.
        for end in [10, 20, 15, 30, 40] {
            assert!(list.add(Seq(end)));
        }
        assert!(list.0.spilled(), "five ends should have moved to the heap");
        list.acknowledge(Seq(15));
        assert_eq!(list.0.as_slice(), [Seq(20), Seq(30), Seq(40)]);
        list.acknowledge(Seq(40));
        assert!(list.0.is_empty());

        let mut inline = Unacked::default();
        for end in [u32::MAX - 5, 3, u32::MAX - 10] {
            assert!(inline.add(Seq(end)));
        }
        // Ordered across the wrap of the sequence space; an ACK past the wrap takes the
        // two below it.
        inline.acknowledge(Seq(1));
        assert!(!inline.0.spilled());
        assert_eq!(inline.0.as_slice(), [Seq(3)]);
    }

    #[test]
    fn the_list_stops_at_ten_thousand() {
        let mut list = Unacked::default();
        for end in 0..10_000u32 {
            assert!(list.add(Seq(end * 10 + 10)));
        }
        assert!(!list.add(Seq(100_010)));
        list.acknowledge(Seq(10));
        assert!(list.add(Seq(100_010)));
    }
}
