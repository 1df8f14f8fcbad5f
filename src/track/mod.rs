//! Track layer: segments → connections, numbered like Wireshark's `tcp.stream`, with
//! relative sequence numbers, window scaling and both endpoints' TCP states.
//!
//! Numbering follows `packet-tcp.c`: a new 4-tuple opens a new stream, and so does a SYN
//! whose sequence number differs from the base sequence number its direction already has
//! (the 4-tuple was reused).
//!
//! Three readings of each connection's sequence space live here side by side, each fed
//! every segment and each following its own reference exactly: synfin's own (relative
//! numbers, FINs and the RFC 9293 state machine of `state.rs`), Wireshark's (`wireshark.rs`:
//! the `tcp.analysis.*` flags) and Zeek's (`zeek.rs`: its endpoint states, `conn_state` and
//! `history`). They are kept apart because they disagree on purpose: Wireshark reads a raw
//! number 0 as "not yet known" and half the space ahead as "after", Zeek restarts an
//! endpoint's numbering on a SYN and trusts nothing after a RST; users compare synfin with
//! both tools, so each answers as its tool does. All three compare numbers through
//! `decode::Seq`.

mod state;
mod wireshark;
mod zeek;

use std::collections::VecDeque;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};

use foldhash::fast::RandomState;
use hashbrown::HashTable;

use crate::capture::Timestamp;
use crate::decode::{Addr, HeaderOnly, LinkDir, Segment, Seq, TcpFlags};
pub use state::{Ctl, Endpoints, Event, State};
pub use wireshark::{Analysis, Verdict};
pub use zeek::{History, Zeek, ZeekCounts};

use wireshark::{SeqInfo, Shared};

/// 0-based connection index (= `tcp.stream`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ConnId(pub u64);

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    C2S,
    S2C,
}

impl Dir {
    pub fn reverse(self) -> Dir {
        match self {
            Dir::C2S => Dir::S2C,
            Dir::S2C => Dir::C2S,
        }
    }
    /// 0 for client to server, 1 for server to client.
    pub fn index(self) -> usize {
        match self {
            Dir::C2S => 0,
            Dir::S2C => 1,
        }
    }
}

/// What is known of a direction's window scale (Wireshark's `win_scale`: -1, -2, shift).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WindowScale {
    #[default]
    Unknown,
    NotUsed,
    Shift(u8),
}

/// One direction of a connection, as the endpoint that sends it numbers it.
#[derive(Clone, Debug, Default)]
pub struct Flow {
    /// Relative numbers count from here: the ISN, or one before the first number seen.
    base: Option<Seq>,
    window_scale: WindowScale,
    /// Sequence number of the FIN this side sent.
    fin: Option<Seq>,
    /// Wireshark's view of this direction.
    seq_info: SeqInfo,
    /// The last segment sent, to tell a second copy of it.
    last_copy: Option<(Fingerprint, Timestamp, LinkDir)>,
}

impl Flow {
    pub fn sent_fin(&self) -> bool {
        self.fin.is_some()
    }

    /// Whether `seg` is a second copy of the last packet sent this way (and it becomes the
    /// last). A repeat within 10 ms is a copy when something tells it from a packet sent
    /// again (a retransmitted SYN-ACK, a duplicate ACK):
    /// - its IPv4 ID: stacks number their packets, and a copy keeps the number;
    /// - the link's direction (SLL, SLL2): it left, and now it arrives, whatever its ID
    ///   (also IPv6, which has none);
    /// - for IPv4 whose ID 0 numbers nothing (Linux's SYN-ACKs and RSTs, every DF packet of
    ///   macOS): the same instant, as a mirror port or a bridge stamps its copies.
    fn is_copy(&mut self, seg: &Segment, ts: Timestamp) -> bool {
        let print = fingerprint(seg);
        let ipv4 = seg.src.is_ipv4();
        let numbered = ipv4 && seg.copy_id >> 16 != 0;
        let copy = self.last_copy.is_some_and(|(last, at, last_dir)| {
            last == print
                && ts.0.saturating_sub(at.0) < COPY_WINDOW_NS
                && (numbered
                    || (last_dir == LinkDir::Outgoing && seg.link_dir == LinkDir::Incoming)
                    || (ipv4 && at == ts))
        });
        self.last_copy = Some((print, ts, seg.link_dir));
        copy
    }
}

/// A connection and what the layer above keeps for it (`A`).
#[derive(Debug)]
pub struct Conn<A> {
    pub id: ConnId,
    /// The two ends, in the key's order; `client_first` says which is the client.
    key: Key,
    client_first: bool,
    flows: [Flow; 2],
    ends: Endpoints,
    pub reset: bool,
    pub last_seen: Timestamp,
    analysis: Shared,
    /// Zeek's view of the connection.
    pub zeek: Zeek,
    pub data: A,
}

/// A segment's numbers relative to its connection's bases.
struct Numbers {
    seq: u32,
    ack: Option<u32>,
    /// A SYN-ACK with a new ISN restarted its direction's numbering.
    new_isn: bool,
}

impl<A> Conn<A> {
    pub fn client(&self) -> Addr {
        let [first, second] = self.key.0;
        if self.client_first { first } else { second }
    }
    pub fn server(&self) -> Addr {
        let [first, second] = self.key.0;
        if self.client_first { second } else { first }
    }
    /// Client and server are one socket (connected to itself).
    pub fn is_self_connected(&self) -> bool {
        let [first, second] = self.key.0;
        first == second
    }
    /// The direction of a segment whose source is (or is not) the key's first end.
    fn dir(&self, src_first: bool) -> Dir {
        if src_first == self.client_first {
            Dir::C2S
        } else {
            Dir::S2C
        }
    }
    pub fn flow(&self, dir: Dir) -> &Flow {
        &self.flows[dir.index()]
    }
    fn flow_mut(&mut self, dir: Dir) -> &mut Flow {
        &mut self.flows[dir.index()]
    }
    pub fn client_state(&self) -> State {
        self.ends.of(Dir::C2S)
    }
    pub fn server_state(&self) -> State {
        self.ends.of(Dir::S2C)
    }
    /// Both ends are ESTABLISHED.
    pub fn is_established(&self) -> bool {
        self.client_state() == State::Established && self.server_state() == State::Established
    }

    /// Reset, or both ends closed or in TIME-WAIT: nothing more is expected.
    pub fn is_closed(&self) -> bool {
        self.reset || (self.client_state().is_done() && self.server_state().is_done())
    }

    /// A new connection for the segment that opens it, numbered `id`.
    fn open(id: ConnId, seg: &Segment, key: Key, src_first: bool, ts: Timestamp) -> Self
    where
        A: Default,
    {
        let flags = seg.flags;
        // SPEC: the sender of a SYN, else the receiver of a SYN-ACK, else the higher port,
        // and on equal ports the sender of the first segment.
        let sender_is_client = if flags.syn() {
            !flags.ack()
        } else {
            seg.src.port() >= seg.dst.port()
        };
        Conn {
            id,
            key,
            client_first: src_first == sender_is_client,
            flows: [Flow::default(), Flow::default()],
            ends: Endpoints::default(),
            reset: false,
            last_seen: ts,
            analysis: Shared::default(),
            zeek: Zeek::default(),
            data: A::default(),
        }
    }

    /// The segment's relative numbers. They start at 0 on a SYN, else at 1; an ACK tells
    /// the peer's base; a SYN-ACK with a new ISN restarts its direction's numbering
    /// (Wireshark issue 16944).
    fn number(&mut self, dir: Dir, seg: &Segment) -> Numbers {
        let flags = seg.flags;
        let fwd = self.flow_mut(dir);
        let new_isn = flags.syn() && flags.ack() && fwd.base.is_some_and(|b| b != seg.seq);
        if new_isn {
            fwd.base = Some(seg.seq);
        }
        let first = if flags.syn() {
            seg.seq
        } else {
            seg.seq.minus(1)
        };
        let base = *fwd.base.get_or_insert(first);
        let rev_base = flags.ack().then(|| {
            *self
                .flow_mut(dir.reverse())
                .base
                .get_or_insert(seg.ack.minus(1))
        });
        Numbers {
            seq: seg.seq.since(base),
            ack: rev_base.map(|b| seg.ack.since(b)),
            new_isn,
        }
    }

    /// Wireshark's analysis of the segment, made before its options are read (window
    /// scale), as Wireshark makes it.
    fn wireshark(&mut self, dir: Dir, seg: &Segment, ts: Timestamp) -> Verdict {
        let rev_scale = self.flow(dir.reverse()).window_scale;
        let [c2s, s2c] = &mut self.flows;
        let (fwd, rev) = match dir {
            Dir::C2S => (c2s, s2c),
            Dir::S2C => (s2c, c2s),
        };
        let verdict = wireshark::analyze(
            &mut fwd.seq_info,
            &mut rev.seq_info,
            rev_scale,
            &self.analysis,
            seg,
            ts,
        );
        self.analysis.observe(seg, ts);
        verdict
    }

    /// The segment's window after scaling; then what its options say of the scale, which
    /// is used only when both SYNs offer it.
    fn scale_window(&mut self, dir: Dir, seg: &Segment) -> u32 {
        let flags = seg.flags;
        let window = match self.flow(dir).window_scale {
            WindowScale::Shift(s) if !flags.syn() => u32::from(seg.window) << s,
            _ => u32::from(seg.window),
        };
        if let Some(shift) = seg.window_scale {
            // RFC 7323 §2.3: a shift above 14 is taken as 14.
            self.flow_mut(dir).window_scale = WindowScale::Shift(shift.min(14));
        }
        // What a SYN's options do not say, Wireshark reads only when they were not cut.
        if flags.syn() && !seg.header_cut {
            if self.flow(dir).window_scale == WindowScale::Unknown {
                self.flow_mut(dir).window_scale = WindowScale::NotUsed;
                self.flow_mut(dir.reverse()).window_scale = WindowScale::NotUsed;
            } else if flags.ack() && self.flow(dir.reverse()).window_scale == WindowScale::NotUsed {
                self.flow_mut(dir).window_scale = WindowScale::NotUsed;
            }
        }
        window
    }

    /// Notes where a FIN is (a socket connected to itself sent it to itself too); says
    /// whether the segment acknowledges the peer's FIN.
    fn note_fin(&mut self, dir: Dir, seg: &Segment) -> bool {
        if seg.flags.fin() {
            let fin = Some(seg.seq.plus(seg.len));
            self.flow_mut(dir).fin = fin;
            if self.is_self_connected() {
                self.flow_mut(dir.reverse()).fin = fin;
            }
        }
        seg.flags.ack()
            && self
                .flow(dir.reverse())
                .fin
                .is_some_and(|f| seg.ack.is_after(f))
    }

    /// Reads one segment of this connection (its source the key's first end or not):
    /// its numbers, Wireshark's and Zeek's readings, whether it is a copy, its window, its
    /// FIN, the states it leaves. `opened`: it opened the connection; `replaced`: it
    /// replaced another on the 4-tuple. Always inlined: `observe`, the per-packet path,
    /// then keeps it whole (the per-packet bench: 1,694 instructions a packet, 1,741 when the
    /// compiler chose); `rebuild`, rare, gets a copy.
    #[inline(always)]
    fn read(
        &mut self,
        seg: &Segment,
        ts: Timestamp,
        src_first: bool,
        opened: bool,
        replaced: bool,
    ) -> Observation {
        let dir = self.dir(src_first);
        self.last_seen = ts;

        let numbers = self.number(dir, seg);
        let mut verdict = self.wireshark(dir, seg, ts);
        self.zeek.segment(dir, seg, ts);
        if replaced || numbers.new_isn {
            verdict.flags.set(Analysis::PORT_REUSED);
        }
        if seg.header_cut {
            // Wireshark analyses the segment, then stops reading it at the cut, before it
            // shows what the analysis found (port reuse included).
            verdict = Verdict::default();
        }
        // A capture on Linux's `any` sees each loopback packet leave and arrive: the copy
        // is analysed as Wireshark analyses it, and otherwise left out.
        let duplicate = self.flow_mut(dir).is_copy(seg, ts);
        if duplicate {
            verdict.flags.set(Analysis::DUPLICATE);
        }
        let window = self.scale_window(dir, seg);
        let acks_peer_fin = self.note_fin(dir, seg);
        if !duplicate {
            self.change_state(dir, seg, acks_peer_fin);
        }
        Observation {
            conn: self.id,
            dir,
            rel_seq: numbers.seq,
            rel_ack: numbers.ack,
            window,
            acks_peer_fin,
            opened,
            port_reused: verdict.flags.has(Analysis::PORT_REUSED),
            verdict,
            duplicate,
        }
    }

    /// The segment moves both ends' states (`state.rs`).
    fn change_state(&mut self, dir: Dir, seg: &Segment, acks_peer_fin: bool) {
        let itself = self.is_self_connected();
        self.ends
            .segment(dir, Ctl::of(seg.flags, acks_peer_fin), itself);
        if seg.flags.rst() {
            self.reset = true;
        }
    }
}

/// What tracking learned from one segment.
#[derive(Clone, Copy, Debug)]
pub struct Observation {
    pub conn: ConnId,
    pub dir: Dir,
    pub rel_seq: u32,
    pub rel_ack: Option<u32>,
    /// Window after scaling, where the scale is known.
    pub window: u32,
    /// The ACK covers the FIN the other side sent.
    pub acks_peer_fin: bool,
    /// The segment opened this connection.
    pub opened: bool,
    /// A SYN or SYN-ACK with a new sequence number on a known 4-tuple.
    pub port_reused: bool,
    /// Wireshark's TCP analysis of the segment.
    pub verdict: Verdict,
    /// A second copy of a packet (the same header and checksum within 10 ms, and the same
    /// IPv4 ID or the arrival of the packet the link saw leave): it changes no state.
    pub duplicate: bool,
}

/// The unordered 4-tuple: its two ends, the lower first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key([Addr; 2]);

impl Hash for Key {
    /// Three integer writes; the derived hash writes every field and the array's length.
    fn hash<H: Hasher>(&self, state: &mut H) {
        let [a, b] = self.0;
        state.write_u128(a.bits());
        state.write_u128(b.bits());
        state.write_u64(u64::from(a.port_v6()) << 32 | u64::from(b.port_v6()));
    }
}

/// The key of a segment's 4-tuple, and whether its source is the key's first end. Which
/// end is lower is a coin toss from packet to packet, so the order is chosen without a
/// branch the processor would mispredict half the time.
fn key(src: Addr, dst: Addr) -> (Key, bool) {
    let (a, b) = ((src.bits(), src.port_v6()), (dst.bits(), dst.port_v6()));
    let src_first = (a.0 < b.0) | ((a.0 == b.0) & (a.1 <= b.1));
    let wide = u128::from(src_first).wrapping_neg();
    let narrow = u32::from(src_first).wrapping_neg();
    let first = Addr::from_bits(
        (a.0 & wide) | (b.0 & !wide),
        (a.1 & narrow) | (b.1 & !narrow),
    );
    let second = Addr::from_bits(
        (b.0 & wide) | (a.0 & !wide),
        (b.1 & narrow) | (a.1 & !narrow),
    );
    (Key([first, second]), src_first)
}

/// Two copies of one packet arrive this close together (10 ms).
const COPY_WINDOW_NS: u64 = 10_000_000;

/// What two copies of one packet share and a retransmission does not (its IP ID, and its
/// checksum, which covers its TCP timestamps): compared whole, no hashing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fingerprint {
    copy_id: u32,
    seq: u32,
    ack: u32,
    len: u32,
    flags: u16,
    window: u16,
}

fn fingerprint(seg: &Segment) -> Fingerprint {
    Fingerprint {
        copy_id: seg.copy_id,
        seq: seg.seq.0,
        ack: seg.ack.0,
        len: seg.len,
        flags: seg.flags.0,
        window: seg.window,
    }
}

/// The layer above's part of a connection (`Conn::data`), and how it reads a connection's
/// opening SYN again when the tracker rebuilds the connection from it.
pub trait Above: Default {
    /// What the layer above needs, besides the SYN, to read it again as it read it first.
    type Seed: Copy + fmt::Debug;
    /// Reads the opening SYN `seg` (at `ts`), tracked as `obs`, into the fresh `conn`.
    fn reread(
        conn: &mut Conn<Self>,
        obs: &Observation,
        seg: &Segment,
        ts: Timestamp,
        seed: &Self::Seed,
    );
}

/// Nothing above (the tracker alone, as its tests use it).
impl Above for () {
    type Seed = ();
    fn reread(_: &mut Conn<()>, _: &Observation, _: &Segment, _: Timestamp, _: &()) {}
}

/// A connection that has sent nothing but its opening SYN, kept as that SYN: a fifth of a
/// connection's size, for the floods and scans whose SYNs are never answered. A connection
/// is a function of the segments it has seen, so reading the SYN again (`rebuild`) gives
/// back the very connection it was.
#[derive(Debug)]
struct Syn<S> {
    id: ConnId,
    seg: Segment,
    ts: Timestamp,
    seed: S,
}

/// A connection leaving the tracker: whole, or still kept as its opening SYN.
pub enum Leaving<'c, A: Above> {
    Whole(&'c mut Conn<A>),
    Syn(LoneSyn<'c, A::Seed>),
}

impl<A: Above> Leaving<'_, A> {
    pub fn id(&self) -> ConnId {
        match self {
            Leaving::Whole(conn) => conn.id,
            Leaving::Syn(syn) => syn.id(),
        }
    }
}

/// A connection that sent only its opening SYN, leaving as that SYN: the layer above
/// reads it again whole (`rebuild`), or tells it from the SYN alone.
pub struct LoneSyn<'s, S>(&'s Syn<S>);

impl<'s, S> LoneSyn<'s, S> {
    pub fn id(&self) -> ConnId {
        self.0.id
    }

    pub fn segment(&self) -> &'s Segment {
        &self.0.seg
    }

    pub fn ts(&self) -> Timestamp {
        self.0.ts
    }

    /// What the layer above kept to read the SYN again.
    pub fn seed(&self) -> &'s S {
        &self.0.seed
    }

    /// The connection it is, read again from its SYN as `observe` read it first.
    pub fn rebuild<A: Above<Seed = S>>(&self) -> Conn<A> {
        Tracker::<A>::rebuild(self.0)
    }
}

/// Connections held as their SYN, in slots that are reused. Their ages lie apart, in a
/// list a sixth the size, which the search for the oldest connections reads whole unless
/// the SYNs came oldest first (`arrivals`).
#[derive(Debug)]
struct Syns<S> {
    held: Vec<Option<(Segment, S)>>,
    /// (time, number) of each slot's SYN; `None`: the slot is free.
    ages: Vec<Option<(Timestamp, ConnId)>>,
    free: Vec<usize>,
    /// (number, slot) of the SYNs in the order they were held, while each was no younger
    /// than the one before (a capture's time runs forward): the oldest held are then the
    /// first here, and a flood's table, full, is searched for its oldest tenth without
    /// reading every age. SYNs gone since stay until passed over or swept out. Numbers past
    /// `u32::MAX` end the order: 8 bytes an entry.
    arrivals: VecDeque<(u32, u32)>,
    /// Whether `arrivals` lists every SYN held, oldest first; one SYN held out of order
    /// ends it until no SYN is held.
    in_order: bool,
    /// (time, number) of the SYN held last, while `in_order`.
    last: Option<(Timestamp, ConnId)>,
}

impl<S> Default for Syns<S> {
    fn default() -> Self {
        Syns {
            held: Vec::new(),
            ages: Vec::new(),
            free: Vec::new(),
            arrivals: VecDeque::new(),
            in_order: true,
            last: None,
        }
    }
}

impl<S> Syns<S> {
    /// Holds `syn`; returns its slot.
    fn put(&mut self, syn: Syn<S>) -> usize {
        let Syn { id, seg, ts, seed } = syn;
        if self.len() == 0 {
            self.arrivals.clear();
            (self.in_order, self.last) = (true, None);
        }
        let slot = self.place(seg, seed, (ts, id));
        self.arrive(ts, id, slot);
        slot
    }

    /// Puts a SYN and its age in a free slot, or a new one; returns the slot.
    fn place(&mut self, seg: Segment, seed: S, age: (Timestamp, ConnId)) -> usize {
        if let Some(slot) = self.free.pop()
            && let (Some(held), Some(aged)) = (self.held.get_mut(slot), self.ages.get_mut(slot))
        {
            *held = Some((seg, seed));
            *aged = Some(age);
            return slot;
        }
        self.held.push(Some((seg, seed)));
        self.ages.push(Some(age));
        self.held.len() - 1
    }

    /// The number of SYNs held.
    fn len(&self) -> usize {
        self.held.len().saturating_sub(self.free.len())
    }

    /// Lists the SYN just held in `slot` in `arrivals`, or ends the order it keeps.
    fn arrive(&mut self, ts: Timestamp, id: ConnId, slot: usize) {
        let arrival = u32::try_from(id.0).ok().zip(u32::try_from(slot).ok());
        match (self.in_order, arrival) {
            (true, Some(arrival)) if self.last.is_none_or(|last| last <= (ts, id)) => {
                self.last = Some((ts, id));
                // Swept rather than grown when a fifth are gone: memory follows the SYNs
                // held, and each sweep frees at least a fifth of what it reads.
                let full = self.arrivals.len() == self.arrivals.capacity();
                if full && self.arrivals.len() > self.len() + self.len() / 4 {
                    let ages = &self.ages;
                    self.arrivals
                        .retain(|&arrival| still_held(ages, arrival).is_some());
                }
                self.arrivals.push_back(arrival);
            }
            (true, _) => (self.arrivals, self.in_order) = (VecDeque::new(), false),
            (false, _) => {}
        }
    }

    /// (time, number, slot) of the `n` oldest SYNs held, oldest first, if they came in
    /// that order.
    fn oldest(&mut self, n: usize) -> Option<Vec<(Timestamp, ConnId, usize)>> {
        if !self.in_order {
            return None;
        }
        let ages = &self.ages;
        while let Some(&arrival) = self.arrivals.front()
            && still_held(ages, arrival).is_none()
        {
            self.arrivals.pop_front();
        }
        let held = self.arrivals.iter().filter_map(|&a| still_held(ages, a));
        let mut oldest = Vec::with_capacity(n.min(self.len()));
        oldest.extend(held.take(n));
        Some(oldest)
    }

    fn take(&mut self, slot: usize) -> Option<Syn<S>> {
        let (ts, id) = self.ages.get_mut(slot)?.take()?;
        let (seg, seed) = self.held.get_mut(slot)?.take()?;
        self.free.push(slot);
        Some(Syn { id, seg, ts, seed })
    }

    /// The SYN held in `slot`.
    fn seg(&self, slot: usize) -> Option<&Segment> {
        self.held.get(slot)?.as_ref().map(|(seg, _)| seg)
    }

    /// (time, number, slot) of every SYN held.
    fn ages(&self) -> impl Iterator<Item = (Timestamp, ConnId, usize)> + '_ {
        self.ages
            .iter()
            .enumerate()
            .filter_map(|(slot, age)| age.map(|(ts, id)| (ts, id, slot)))
    }
}

/// (time, number, slot) of the SYN an arrival (number, slot) names, if its slot of `ages`
/// still holds it.
fn still_held(
    ages: &[Option<(Timestamp, ConnId)>],
    (id, slot): (u32, u32),
) -> Option<(Timestamp, ConnId, usize)> {
    let slot = slot as usize;
    match ages.get(slot) {
        Some(&Some((ts, held))) if held.0 == u64::from(id) => Some((ts, held, slot)),
        _ => None,
    }
}

/// Places emptied together, one bit each, for the one pass that drops their index entries:
/// whole slots first, then the SYNs' slots.
struct Gone {
    bits: Vec<u64>,
    /// The number of whole slots: where the SYNs' bits begin.
    whole: usize,
}

impl Gone {
    fn new(whole: usize, syns: usize) -> Self {
        Gone {
            bits: vec![0; (whole + syns).div_ceil(64)],
            whole,
        }
    }

    /// The place's word and bit.
    fn bit(&self, place: Place) -> (usize, u64) {
        let n = match place {
            Place::Whole(slot) => slot,
            Place::Syn(slot) => self.whole + slot,
        };
        (n / 64, 1 << (n % 64))
    }

    fn add(&mut self, place: Place) {
        let (word, bit) = self.bit(place);
        if let Some(word) = self.bits.get_mut(word) {
            *word |= bit;
        }
    }

    fn has(&self, place: Place) -> bool {
        let (word, bit) = self.bit(place);
        self.bits.get(word).is_some_and(|w| w & bit != 0)
    }
}

/// Where a tracked connection lives: whole in `slots`, or as its SYN in `syns`. The index
/// holds it as one number, the top bit telling which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Whole(usize),
    Syn(usize),
}

impl Place {
    const SYN: u32 = 1 << 31;

    fn entry(self) -> u32 {
        match self {
            Place::Whole(slot) => slot as u32,
            Place::Syn(slot) => slot as u32 | Self::SYN,
        }
    }

    fn of(entry: u32) -> Place {
        if entry & Self::SYN == 0 {
            Place::Whole(entry as usize)
        } else {
            Place::Syn((entry & !Self::SYN) as usize)
        }
    }
}

/// The number of a connection that opens on `key`: the one an ICMP error reserved for it
/// (`Tracker::header_only`), else the next.
fn new_id(
    reserved: &mut hashbrown::HashMap<Key, ConnId, RandomState>,
    next_id: &mut u64,
    key: Key,
) -> ConnId {
    let quoted = (!reserved.is_empty())
        .then(|| reserved.remove(&key))
        .flatten();
    quoted.unwrap_or_else(|| {
        *next_id += 1;
        ConnId(*next_id - 1)
    })
}

/// A SYN with no ACK, FIN or RST: all a connection that sent only it is.
fn syn_alone(f: TcpFlags) -> bool {
    f.syn() && !f.ack() && !f.fin() && !f.rst()
}

/// The key of the connection at `place` in the slabs.
fn key_at<A, S>(slots: &[Option<Conn<A>>], syns: &Syns<S>, place: Place) -> Option<Key> {
    match place {
        Place::Whole(slot) => slots.get(slot)?.as_ref().map(|c| c.key),
        Place::Syn(slot) => syns.seg(slot).map(|s| key(s.src, s.dst).0),
    }
}

/// Connections keyed by their unordered 4-tuple. The map holds only slot numbers; the
/// connections live in slabs whose freed slots are reused, so that heavy churn (a SYN
/// flood) does not inflate the map's large entries.
#[derive(Debug)]
pub struct Tracker<A: Above> {
    /// Places, found by their connection's key: 4 bytes an entry, so that the index stays
    /// in cache. foldhash: fast, and seeded per run so that crafted 4-tuples cannot collide
    /// at will.
    index: HashTable<u32>,
    hasher: RandomState,
    slots: Vec<Option<Conn<A>>>,
    free: Vec<usize>,
    /// Connections kept as their SYN (`keep_as_syn`).
    syns: Syns<A::Seed>,
    /// The slot of the connection the last segment opened, while only its SYN is seen.
    fresh: Option<usize>,
    next_id: u64,
    /// Connections in the order they closed (slot, id), for `forget_closed`.
    closed: VecDeque<(usize, ConnId)>,
    /// The same connections with the time each closed, until `closed_before` hands them on.
    closing: VecDeque<(usize, ConnId, Timestamp)>,
    /// 4-tuples an ICMP error quoted before any segment of theirs: Wireshark numbered a
    /// conversation for each, which their first segment opens (at most `MAX_RESERVED`).
    reserved: hashbrown::HashMap<Key, ConnId, RandomState>,
}

const MAX_RESERVED: usize = 4_096;

/// Slots for whole connections reserved up front: growing the slab copies every
/// connection in it (784 bytes each), which cost the per-packet bench 27 instructions a
/// packet in a run of 2,000 connections; the memory is address space until used.
const WHOLE_SLOTS_RESERVED: usize = 4_096;

impl<A: Above> Default for Tracker<A> {
    fn default() -> Self {
        Tracker {
            index: HashTable::new(),
            hasher: RandomState::default(),
            slots: Vec::with_capacity(WHOLE_SLOTS_RESERVED),
            free: Vec::new(),
            syns: Syns::default(),
            fresh: None,
            next_id: 0,
            closed: VecDeque::new(),
            closing: VecDeque::new(),
            reserved: hashbrown::HashMap::default(),
        }
    }
}

/// The result of tracking one segment: its connection, and a connection that the segment
/// replaced on the same 4-tuple (the caller finishes that one; boxed, as it is rare and
/// this is returned for every segment).
pub struct Tracked<'t, A> {
    pub obs: Observation,
    pub conn: &'t mut Conn<A>,
    pub replaced: Option<Box<Conn<A>>>,
}

impl<A: Above> Tracker<A> {
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Takes the connection in `slot` out of the tracker.
    fn take(&mut self, slot: usize) -> Option<Conn<A>> {
        let conn = self.slots.get_mut(slot)?.take()?;
        self.release(Place::Whole(slot), conn.key);
        Some(conn)
    }

    /// Hands the connection at `place` to `leave`, then forgets it: a whole connection is
    /// handed where it lies, never moved out (it is large, and most leave this way); one
    /// kept as its SYN is rebuilt first.
    fn remove<R>(&mut self, place: Place, leave: impl FnOnce(Leaving<'_, A>) -> R) -> Option<R> {
        let (result, key) = self.hand_over(place, leave)?;
        self.release(place, key);
        Some(result)
    }

    /// `remove` for each of `places`, oldest first, stopping at the first error; many at
    /// once leave the index in one pass over it rather than a lookup each, which misses the
    /// cache as often as the index outgrows it.
    fn remove_all<E>(
        &mut self,
        places: &[Place],
        mut leave: impl FnMut(Leaving<'_, A>) -> Result<(), E>,
    ) -> Result<(), E> {
        if places.len() < self.index.len() / 64 {
            for &place in places {
                self.remove(place, &mut leave).transpose()?;
            }
            return Ok(());
        }
        let mut gone = Gone::new(self.slots.len(), self.syns.held.len());
        let mut result = Ok(());
        for &place in places {
            match self.hand_over(place, &mut leave) {
                Some((left, _)) => {
                    gone.add(place);
                    if let Place::Whole(slot) = place {
                        self.free.push(slot);
                    }
                    if left.is_err() {
                        result = left;
                        break;
                    }
                }
                None => continue,
            }
        }
        self.index.retain(|e| !gone.has(Place::of(*e)));
        result
    }

    /// Takes the connection at `place` out of its slab and hands it to `leave`; the index
    /// still holds it, and a whole slot is not yet free.
    fn hand_over<R>(
        &mut self,
        place: Place,
        leave: impl FnOnce(Leaving<'_, A>) -> R,
    ) -> Option<(R, Key)> {
        match place {
            Place::Whole(slot) => {
                let place = self.slots.get_mut(slot)?;
                let conn = place.as_mut()?;
                let key = conn.key;
                let result = leave(Leaving::Whole(conn));
                *place = None;
                Some((result, key))
            }
            Place::Syn(slot) => {
                let syn = self.syns.take(slot)?;
                let key = key(syn.seg.src, syn.seg.dst).0;
                Some((leave(Leaving::Syn(LoneSyn(&syn))), key))
            }
        }
    }

    /// Drops the index entry of an emptied place and makes the place free.
    fn release(&mut self, place: Place, key: Key) {
        let hash = self.hasher.hash_one(key);
        if let Ok(entry) = self.index.find_entry(hash, |&e| e == place.entry()) {
            entry.remove();
        }
        if let Place::Whole(slot) = place {
            self.free.push(slot);
        }
    }

    /// Places of the connections `pred` picks (whole ones) or `pred_syn` picks (by the time
    /// of their SYN), oldest first; `room`: how many to make room for at once (all of them,
    /// to drain: the list then never grows past them).
    fn pick(
        &self,
        pred: impl Fn(&Conn<A>) -> bool,
        pred_syn: impl Fn(Timestamp) -> bool,
        room: usize,
    ) -> Vec<Place> {
        // Sorted as (id, index entry) pairs: moving the connections themselves costs far
        // more, and at the end of a flood this list holds a full table.
        let whole = self.slots.iter().enumerate().filter_map(|(i, c)| {
            c.as_ref()
                .filter(|c| pred(c))
                .map(|c| (c.id, Place::Whole(i).entry()))
        });
        let syns = self
            .syns
            .ages()
            .filter(|&(ts, ..)| pred_syn(ts))
            .map(|(_, id, slot)| (id, Place::Syn(slot).entry()));
        let mut picked: Vec<(ConnId, u32)> = Vec::with_capacity(room);
        picked.extend(whole.chain(syns));
        picked.sort_unstable_by_key(|&(id, _)| id);
        picked
            .into_iter()
            .map(|(_, entry)| Place::of(entry))
            .collect()
    }

    /// The slot of the segment's connection, and the connection it replaces: a new 4-tuple
    /// opens a connection, and so does a SYN whose number differs from the base its
    /// direction already has (packet-tcp.c: the 4-tuple was reused). One lookup per
    /// segment; a reused 4-tuple (rare) costs a second.
    fn find_or_open(
        &mut self,
        seg: &Segment,
        key: Key,
        src_first: bool,
    ) -> (usize, Option<Box<Conn<A>>>) {
        let hash = self.hasher.hash_one(key);
        let existing = self.find(hash, key);
        let reused = seg.flags.syn()
            && !seg.flags.ack()
            && existing.is_some_and(|slot| self.reuses(slot, src_first, seg.seq));
        match existing {
            Some(slot) if !reused => (slot, None),
            _ => {
                let replaced = existing.and_then(|slot| self.take(slot)).map(Box::new);
                (self.new_slot(hash), replaced)
            }
        }
    }

    /// Whether a SYN numbered `isn` reuses the 4-tuple of the connection in `slot`: its
    /// direction began with another number (packet-tcp.c).
    fn reuses(&self, slot: usize, src_first: bool, isn: Seq) -> bool {
        self.slots
            .get(slot)
            .and_then(Option::as_ref)
            .is_some_and(|conn| {
                conn.flow(conn.dir(src_first))
                    .base
                    .is_some_and(|b| b != isn)
            })
    }

    /// The slot of the connection tracked under `key` (whose hash is `hash`), made whole if
    /// it was kept as its SYN: everything but leaving reads a whole connection.
    fn find(&mut self, hash: u64, key: Key) -> Option<usize> {
        match self.place_of(hash, key)? {
            Place::Whole(slot) => Some(slot),
            Place::Syn(slot) => self.make_whole(hash, slot),
        }
    }

    /// Where the connection tracked under `key` (whose hash is `hash`) lies, as it lies.
    fn place_of(&self, hash: u64, key: Key) -> Option<Place> {
        let (slots, syns) = (&self.slots, &self.syns);
        let entry = self
            .index
            .find(hash, |&e| key_at(slots, syns, Place::of(e)) == Some(key))?;
        Some(Place::of(*entry))
    }

    /// Rebuilds the connection kept as its SYN in `syn_slot` into a whole slot, indexed in
    /// its stead (`hash`: its key's).
    #[cold]
    #[inline(never)]
    fn make_whole(&mut self, hash: u64, syn_slot: usize) -> Option<usize> {
        let syn = self.syns.take(syn_slot)?;
        let conn = Self::rebuild(&syn);
        let slot = self.free_slot();
        *self.slots.get_mut(slot)? = Some(conn);
        self.repoint(hash, Place::Syn(syn_slot), Place::Whole(slot));
        Some(slot)
    }

    /// A free slot for a whole connection.
    fn free_slot(&mut self) -> usize {
        self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        })
    }

    /// The index entry of the connection at `was` (its key's hash: `hash`) now says `now`.
    fn repoint(&mut self, hash: u64, was: Place, now: Place) {
        if let Some(entry) = self.index.find_mut(hash, |&e| e == was.entry()) {
            *entry = now.entry();
        }
    }

    /// The connection `syn` was, read again from its SYN as `observe` read it first.
    #[cold]
    #[inline(never)]
    fn rebuild(syn: &Syn<A::Seed>) -> Conn<A> {
        let (key, src_first) = key(syn.seg.src, syn.seg.dst);
        let mut conn = Conn::open(syn.id, &syn.seg, key, src_first, syn.ts);
        let obs = conn.read(&syn.seg, syn.ts, src_first, true, false);
        A::reread(&mut conn, &obs, &syn.seg, syn.ts, &syn.seed);
        conn
    }

    /// Keeps the connection the last segment opened as that segment, if it is a SYN and
    /// nothing else yet (`seg`, `ts`: that segment; `seed`: what the layer above needs to
    /// read it again, asked for only if the connection is kept). Its number, time and every
    /// reading are as they were.
    #[cold]
    #[inline(never)]
    pub fn keep_as_syn(&mut self, seg: &Segment, ts: Timestamp, seed: impl FnOnce() -> A::Seed) {
        let Some(slot) = self.fresh.take() else {
            return;
        };
        let (key, _) = key(seg.src, seg.dst);
        let Some(conn) = self
            .slots
            .get_mut(slot)
            .and_then(|c| c.take_if(|c| c.key == key))
        else {
            return;
        };
        self.free.push(slot);
        let syn = Syn {
            id: conn.id,
            seg: *seg,
            ts,
            seed: seed(),
        };
        let at = self.syns.put(syn);
        self.repoint(
            self.hasher.hash_one(key),
            Place::Whole(slot),
            Place::Syn(at),
        );
    }

    /// A header read only as far as its 4-tuple (`HeaderOnly`): a 4-tuple not tracked gets
    /// the next number, as Wireshark's conversation for it does, and keeps it for its first
    /// segment (past `MAX_RESERVED` such 4-tuples, the number is only skipped). A SYN that
    /// reuses a tracked 4-tuple does the same, and returns the connection it replaces.
    pub fn header_only(&mut self, header: &HeaderOnly) -> Option<Box<Conn<A>>> {
        let (key, src_first) = key(header.src, header.dst);
        let replaced = match self.find(self.hasher.hash_one(key), key) {
            Some(slot)
                if header
                    .syn
                    .is_some_and(|isn| self.reuses(slot, src_first, isn)) =>
            {
                self.take(slot).map(Box::new)
            }
            Some(_) => return None,
            None if self.reserved.contains_key(&key) => return None,
            None => None,
        };
        if self.reserved.len() < MAX_RESERVED {
            self.reserved.insert(key, ConnId(self.next_id));
        }
        self.next_id += 1;
        replaced
    }

    /// An empty slot, indexed under `hash`, for a connection about to open.
    fn new_slot(&mut self, hash: u64) -> usize {
        let slot = self.free_slot();
        // Growing the index rehashes the entries already in it, never this one, so the
        // slot may stay empty until the connection is opened in it.
        self.insert(hash, Place::Whole(slot));
        slot
    }

    /// Indexes `place` under `hash`, a key not yet indexed.
    fn insert(&mut self, hash: u64, place: Place) {
        let (slots, syns, hasher) = (&self.slots, &self.syns, &self.hasher);
        let rehash = |&e: &u32| key_at(slots, syns, Place::of(e)).map_or(0, |k| hasher.hash_one(k));
        // At most half full: under churn (a flood's connections opening and leaving) a
        // fuller table fills with the marks of removed entries, and every lookup probes
        // through them.
        if self.index.capacity() <= 2 * self.index.len() {
            self.index.reserve(self.index.len() + 1, rehash);
        }
        self.index.insert_unique(hash, place.entry(), rehash);
    }

    /// Holds the connection that `seg`, a SYN alone on a 4-tuple not tracked, opens as that
    /// SYN at once, without opening it whole first (`keep_as_syn` after `observe`): for a
    /// layer above that wants no record of the segment. False, and nothing done, for any
    /// other segment. `seed` is asked for only if the SYN is held.
    pub fn hold_syn(
        &mut self,
        seg: &Segment,
        ts: Timestamp,
        seed: impl FnOnce() -> A::Seed,
    ) -> bool {
        if !syn_alone(seg.flags) {
            return false;
        }
        let (key, _) = key(seg.src, seg.dst);
        let hash = self.hasher.hash_one(key);
        if self.place_of(hash, key).is_some() {
            return false;
        }
        let id = new_id(&mut self.reserved, &mut self.next_id, key);
        let at = self.syns.put(Syn {
            id,
            seg: *seg,
            ts,
            seed: seed(),
        });
        self.insert(hash, Place::Syn(at));
        self.fresh = None;
        true
    }

    /// Tracks one segment: its connection found or opened, its numbers, Wireshark's and
    /// Zeek's readings, whether it is a copy, its window, its FIN, the states it leaves.
    pub fn observe(&mut self, seg: &Segment, ts: Timestamp) -> Tracked<'_, A> {
        let (key, src_first) = key(seg.src, seg.dst);
        let (slot, replaced) = self.find_or_open(seg, key, src_first);
        // Slot numbers come from this slab's own bookkeeping, never from capture data.
        let place = &mut self.slots[slot];
        let opened = place.is_none();
        let (reserved, next_id) = (&mut self.reserved, &mut self.next_id);
        let conn = place.get_or_insert_with(|| {
            Conn::open(new_id(reserved, next_id, key), seg, key, src_first, ts)
        });
        let was_closed = conn.is_closed();
        let obs = conn.read(seg, ts, src_first, opened, replaced.is_some());
        if !was_closed && conn.is_closed() {
            self.closed.push_back((slot, conn.id));
            self.closing.push_back((slot, conn.id, ts));
        }
        // A SYN alone may be kept as itself (`keep_as_syn`): it is all the connection is.
        self.fresh = (opened && syn_alone(seg.flags) && replaced.is_none()).then_some(slot);
        Tracked {
            obs,
            conn,
            replaced,
        }
    }

    /// Removes connections closed for more than `closed_linger` ns, and, with an idle
    /// limit, connections not established on both sides (half-open, closing) and silent
    /// for longer than it; oldest first. Like a TCP stack, an established connection
    /// never times out: only the table's size limit removes it early.
    pub fn expire<E>(
        &mut self,
        now: Timestamp,
        closed_linger: u64,
        idle: Option<u64>,
        leave: impl FnMut(Leaving<'_, A>) -> Result<(), E>,
    ) -> Result<(), E> {
        let idle_since =
            |last: Timestamp| idle.is_some_and(|limit| now.0.saturating_sub(last.0) > limit);
        let picked = self.pick(
            |conn| {
                let quiet = now.0.saturating_sub(conn.last_seen.0);
                (conn.is_closed() && quiet > closed_linger)
                    || (idle_since(conn.last_seen) && !conn.is_established())
            },
            // A SYN alone is neither closed nor established.
            idle_since,
            0,
        );
        self.remove_all(&picked, leave)
    }

    /// Removes the connections silent the longest until `keep` remain; oldest first; stops
    /// at the first error.
    pub fn evict_oldest<E>(
        &mut self,
        keep: usize,
        leave: impl FnMut(Leaving<'_, A>) -> Result<(), E>,
    ) -> Result<(), E> {
        let excess = self.len().saturating_sub(keep);
        if excess == 0 {
            return Ok(());
        }
        // Places as their 4-byte index entries: this list holds every whole connection and
        // the SYNs held that may be among the oldest (all of them if they came out of
        // order), and a full table is searched for its oldest tenth each time it fills.
        // A SYN with `excess` older ones held is not among the `excess` oldest.
        let oldest = self.syns.oldest(excess);
        let syns = oldest.as_ref().map_or(self.syns.len(), Vec::len);
        let mut by_age: Vec<(Timestamp, ConnId, u32)> = Vec::with_capacity(self.slots.len() + syns);
        by_age.extend((self.slots.iter().enumerate()).filter_map(|(i, c)| {
            c.as_ref()
                .map(|c| (c.last_seen, c.id, Place::Whole(i).entry()))
        }));
        let syn_entry = |(ts, id, slot)| (ts, id, Place::Syn(slot).entry());
        match oldest {
            Some(oldest) => by_age.extend(oldest.into_iter().map(syn_entry)),
            None => by_age.extend(self.syns.ages().map(syn_entry)),
        }
        let excess = excess.min(by_age.len());
        if excess == 0 {
            return Ok(());
        }
        // All of them when the SYNs came in order and no whole connection is held (a
        // flood's): they are then in order of number too, which the sort below finds at once.
        if excess < by_age.len() {
            by_age.select_nth_unstable_by_key(excess - 1, |&(ts, id, _)| (ts, id));
        }
        let mut picked: Vec<(ConnId, u32)> = by_age
            .iter()
            .take(excess)
            .map(|&(_, id, entry)| (id, entry))
            .collect();
        drop(by_age);
        picked.sort_unstable_by_key(|&(id, _)| id);
        let picked: Vec<Place> = picked
            .into_iter()
            .map(|(_, entry)| Place::of(entry))
            .collect();
        self.remove_all(&picked, leave)
    }

    /// Forgets the connections that closed first until at most `keep` closed ones remain,
    /// so that memory does not grow with the number of finished connections.
    pub fn forget_closed(&mut self, keep: usize, mut leave: impl FnMut(&mut Conn<A>)) {
        while self.closed.len() > keep {
            let Some((slot, id)) = self.closed.pop_front() else {
                break;
            };
            let still = self
                .slots
                .get(slot)
                .and_then(Option::as_ref)
                .is_some_and(|c| c.id == id && c.is_closed());
            if still {
                self.remove(Place::Whole(slot), |gone| {
                    if let Leaving::Whole(conn) = gone {
                        leave(conn);
                    }
                });
            }
        }
        // Both lists run in the order of closing: what `closing` holds beyond the last
        // `keep` was just forgotten.
        while self.closing.len() > keep {
            self.closing.pop_front();
        }
    }

    /// Hands each connection that closed at `delay` ns or more before `now`, and is still
    /// tracked and closed, to `leave`, once, in the order they closed; it stays tracked.
    pub fn closed_before(
        &mut self,
        now: Timestamp,
        delay: u64,
        mut leave: impl FnMut(&mut Conn<A>),
    ) {
        while let Some(&(slot, id, at)) = self.closing.front() {
            if at.0.saturating_add(delay) > now.0 {
                break;
            }
            self.closing.pop_front();
            let conn = self.slots.get_mut(slot).and_then(Option::as_mut);
            if let Some(conn) = conn.filter(|c| c.id == id && c.is_closed()) {
                leave(conn);
            }
        }
    }

    /// Hands every connection still held to `leave`, oldest first, and forgets it; stops
    /// at the first error.
    pub fn drain<E>(
        &mut self,
        leave: impl FnMut(Leaving<'_, A>) -> Result<(), E>,
    ) -> Result<(), E> {
        let all = self.pick(|_| true, |_| true, self.len());
        self.remove_all(&all, leave)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::TcpFlags;

    const A: &str = "127.0.0.1:50000";
    const B: &str = "127.0.0.1:80";

    fn seg(from: &str, to: &str, flags: u16, seq: u32, ack: u32, len: u32) -> Segment {
        Segment {
            src: from.parse().expect("address"),
            dst: to.parse().expect("address"),
            seq: Seq(seq),
            ack: Seq(ack),
            flags: TcpFlags(flags),
            window: 100,
            len,
            ..Segment::EMPTY
        }
    }

    const SYN: u16 = TcpFlags::SYN;
    const SYN_ACK: u16 = TcpFlags::SYN | TcpFlags::ACK;
    const ACK: u16 = TcpFlags::ACK;
    const FIN_ACK: u16 = TcpFlags::FIN | TcpFlags::ACK;

    fn observe(t: &mut Tracker<()>, s: Segment) -> Observation {
        t.observe(&s, Timestamp(0)).obs
    }

    #[test]
    fn relative_numbers_cross_the_32_bit_wrap() {
        let mut t = Tracker::<()>::default();
        let c_isn = u32::MAX - 5;
        observe(&mut t, seg(A, B, SYN, c_isn, 0, 0));
        let o = observe(&mut t, seg(B, A, SYN_ACK, 7, c_isn.wrapping_add(1), 0));
        assert_eq!((o.rel_seq, o.rel_ack), (0, Some(1)));
        let o = observe(&mut t, seg(A, B, ACK, c_isn.wrapping_add(1), 8, 100));
        assert_eq!((o.rel_seq, o.rel_ack), (1, Some(1)));
        let o = observe(&mut t, seg(B, A, ACK, 8, c_isn.wrapping_add(101), 0));
        assert_eq!(o.rel_ack, Some(101), "ack after the wrap");
        let o = observe(&mut t, seg(A, B, FIN_ACK, c_isn.wrapping_add(101), 8, 0));
        assert_eq!(o.rel_seq, 101);
        let o = observe(&mut t, seg(B, A, ACK, 8, c_isn.wrapping_add(102), 0));
        assert!(
            o.acks_peer_fin,
            "the FIN at 2^32 + 95 is acknowledged by 96"
        );
    }

    #[test]
    fn isn_of_all_ones_starts_at_zero() {
        let mut t = Tracker::<()>::default();
        observe(&mut t, seg(A, B, SYN, u32::MAX, 0, 0));
        let o = observe(&mut t, seg(A, B, ACK, 0, 1, 3));
        assert_eq!(o.rel_seq, 1);
    }

    #[test]
    fn mid_connection_numbers_start_at_one_both_ways() {
        let mut t = Tracker::<()>::default();
        let o = observe(&mut t, seg(B, A, ACK, 1000, 5000, 10));
        assert_eq!((o.rel_seq, o.rel_ack), (1, Some(1)));
        let o = observe(&mut t, seg(A, B, ACK, 5000, 1010, 0));
        assert_eq!((o.rel_seq, o.rel_ack), (1, Some(11)));
        let conn = t.slots.iter().flatten().next().expect("one connection");
        assert_eq!(
            conn.client(),
            A.parse::<Addr>().expect("address"),
            "the higher port is the client"
        );
        assert_eq!(
            (conn.client_state(), conn.server_state()),
            (State::Established, State::Established)
        );
    }

    #[test]
    fn a_syn_with_a_new_isn_opens_a_new_stream_and_a_retransmitted_one_does_not() {
        let mut t = Tracker::<()>::default();
        assert_eq!(observe(&mut t, seg(A, B, SYN, 100, 0, 0)).conn, ConnId(0));
        let again = observe(&mut t, seg(A, B, SYN, 100, 0, 0));
        assert_eq!((again.conn, again.port_reused), (ConnId(0), false));
        let reused = observe(&mut t, seg(A, B, SYN, 9_000, 0, 0));
        assert_eq!(
            (reused.conn, reused.port_reused, reused.opened),
            (ConnId(1), true, true)
        );
        assert_eq!(
            observe(&mut t, seg(B, A, SYN_ACK, 1, 9_001, 0)).conn,
            ConnId(1)
        );
        assert_eq!(
            observe(&mut t, seg("10.0.0.1:1", B, SYN, 1, 0, 0)).conn,
            ConnId(2)
        );
    }

    #[test]
    fn windows_scale_only_when_both_syns_offer_it() {
        let mut t = Tracker::<()>::default();
        let mut syn = seg(A, B, SYN, 1, 0, 0);
        syn.window_scale = Some(7);
        assert_eq!(
            observe(&mut t, syn).window,
            100,
            "SYN windows are never scaled"
        );
        let mut syn_ack = seg(B, A, SYN_ACK, 1, 2, 0);
        syn_ack.window_scale = Some(2);
        observe(&mut t, syn_ack);
        assert_eq!(observe(&mut t, seg(A, B, ACK, 2, 2, 0)).window, 100 << 7);
        assert_eq!(observe(&mut t, seg(B, A, ACK, 2, 2, 0)).window, 100 << 2);

        let mut t = Tracker::<()>::default();
        let mut syn = seg(A, B, SYN, 1, 0, 0);
        syn.window_scale = Some(7);
        observe(&mut t, syn);
        observe(&mut t, seg(B, A, SYN_ACK, 1, 2, 0));
        assert_eq!(
            observe(&mut t, seg(A, B, ACK, 2, 2, 0)).window,
            100,
            "the peer declined scaling"
        );
    }

    /// The connections `expire` lets go, by number.
    fn expired(t: &mut Tracker<()>, now: Timestamp, linger: u64, idle: Option<u64>) -> Vec<u64> {
        let mut gone = Vec::new();
        let kept: Result<(), ()> = t.expire(now, linger, idle, |c| {
            gone.push(c.id().0);
            Ok(())
        });
        assert!(kept.is_ok());
        gone
    }

    /// The connections `forget_closed` lets go, by number.
    fn forgotten(t: &mut Tracker<()>, keep: usize) -> Vec<u64> {
        let mut gone = Vec::new();
        t.forget_closed(keep, |c| gone.push(c.id.0));
        gone
    }

    #[test]
    fn closed_connections_are_forgotten_after_the_linger_time() {
        let mut t = Tracker::<()>::default();
        observe(&mut t, seg(A, B, SYN, 1, 0, 0));
        t.observe(&seg(B, A, TcpFlags::RST | ACK, 0, 2, 0), Timestamp(10));
        assert_eq!(expired(&mut t, Timestamp(15), 10, None), Vec::<u64>::new());
        assert_eq!(expired(&mut t, Timestamp(21), 10, None), [0]);
        assert!(t.is_empty());
    }

    #[test]
    fn idle_expiry_spares_established_connections_and_eviction_takes_the_oldest() {
        let mut t = Tracker::<()>::default();
        t.observe(&seg(A, B, ACK, 1, 1, 10), Timestamp(0)); // mid-connection: established
        t.observe(&seg("127.0.0.1:50001", B, SYN, 1, 0, 0), Timestamp(5)); // half-open
        assert_eq!(expired(&mut t, Timestamp(1_000), 10, Some(100)), [1]);
        assert_eq!(t.len(), 1);

        for (i, port) in (50010..50015).enumerate() {
            t.observe(
                &seg(&format!("127.0.0.1:{port}"), B, SYN, 1, 0, 0),
                Timestamp(2_000 + i as u64),
            );
        }
        let mut gone = Vec::new();
        let kept: Result<(), ()> = t.evict_oldest(2, |c| {
            gone.push(c.id().0);
            Ok(())
        });
        assert!(kept.is_ok());
        assert_eq!(gone, [0, 2, 3, 4]);
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn eviction_finds_the_oldest_whether_or_not_the_syns_held_came_in_order() {
        for (run, disorder) in [(1u64, false), (2, false), (3, true), (4, true)] {
            let mut rng = run.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let mut next = move |n: u64| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng % n
            };
            let mut t = Tracker::<()>::default();
            // The model: each connection held, by number: (last seen, its client).
            let mut live: std::collections::BTreeMap<u64, (u64, String)> = Default::default();
            let (mut now, mut opened, mut most, mut orders) = (1_000u64, 0u64, 0usize, 0);
            for step in 0..2_000 {
                match next(100) {
                    0..80 => {
                        now = if disorder && next(20) == 0 {
                            now.saturating_sub(next(50))
                        } else {
                            now + next(3)
                        };
                        let client = format!("10.0.{}.{}:{}", step / 250, step % 250, 1024 + step);
                        let s = seg(&client, B, SYN, 1, 0, 0);
                        assert!(t.hold_syn(&s, Timestamp(now), || ()));
                        live.insert(opened, (now, client));
                        opened += 1;
                    }
                    // A SYN answered: made whole, last seen now.
                    80..88 if !live.is_empty() => {
                        let nth = next(live.len() as u64) as usize;
                        let Some((&id, (seen, client))) = live.iter_mut().nth(nth) else {
                            continue;
                        };
                        *seen = now;
                        t.observe(&seg(B, client, SYN | ACK, 7, 2, 0), Timestamp(now));
                        assert_eq!(t.slots.iter().flatten().filter(|c| c.id.0 == id).count(), 1);
                    }
                    _ => {
                        // Now and then every one, so that the order can begin again.
                        let keep = if next(10) == 0 { 0 } else { live.len() / 2 };
                        let mut oldest: Vec<(u64, u64)> =
                            live.iter().map(|(&id, &(seen, _))| (seen, id)).collect();
                        oldest.sort_unstable();
                        let mut want: Vec<u64> = (oldest.iter())
                            .take(live.len() - keep)
                            .map(|&(_, id)| id)
                            .collect();
                        want.sort_unstable();
                        let mut gone = Vec::new();
                        let kept: Result<(), ()> = t.evict_oldest(keep, |c| {
                            gone.push(c.id().0);
                            Ok(())
                        });
                        assert!(kept.is_ok());
                        assert_eq!(gone, want, "run {run}, step {step}");
                        live.retain(|id, _| !want.contains(id));
                    }
                }
                assert_eq!(t.len(), live.len());
                most = most.max(live.len());
                // 0: in order throughout; 1: the order ended; 2: and began again.
                orders = match (orders, t.syns.in_order) {
                    (0, false) => 1,
                    (1, true) => 2,
                    (n, _) => n,
                };
            }
            // SYNs gone stay listed only until swept: memory follows the SYNs held.
            assert!(
                t.syns.arrivals.capacity() <= 3 * most + 8,
                "run {run}: room for {} arrivals, at most {most} held",
                t.syns.arrivals.capacity()
            );
            // Both searches were made: SYNs in order keep it; out of order, it ended and began
            // again.
            assert_eq!(orders, if disorder { 2 } else { 0 }, "run {run}");
        }
    }

    #[test]
    fn syns_answered_behind_one_never_answered_are_swept_from_the_arrivals() {
        let mut t = Tracker::<()>::default();
        assert!(t.hold_syn(&seg(A, B, SYN, 1, 0, 0), Timestamp(0), || ()));
        for port in 1_024..3_024u16 {
            let client = format!("10.0.0.1:{port}");
            let ts = Timestamp(u64::from(port));
            assert!(t.hold_syn(&seg(&client, B, SYN, 1, 0, 0), ts, || ()));
            t.observe(&seg(B, &client, SYN | ACK, 7, 2, 0), ts);
        }
        assert_eq!(t.syns.len(), 1);
        assert!(t.syns.in_order);
        let room = t.syns.arrivals.capacity();
        assert!(room <= 16, "room for {room} arrivals, with one SYN held");
    }

    #[test]
    fn only_so_many_closed_connections_are_remembered_first_closed_first_forgotten() {
        let mut t = Tracker::<()>::default();
        for port in 50_100..50_105u16 {
            let client = format!("127.0.0.1:{port}");
            observe(&mut t, seg(&client, B, SYN, 1, 0, 0));
            observe(&mut t, seg(B, &client, TcpFlags::RST | ACK, 0, 2, 0));
        }
        observe(&mut t, seg("127.0.0.1:50200", B, SYN, 1, 0, 0)); // still open
        assert_eq!(forgotten(&mut t, 2), [0, 1, 2]);
        assert_eq!(t.len(), 3, "two closed and the open one remain");
        assert_eq!(forgotten(&mut t, 2), Vec::<u64>::new());
    }

    /// Whether each of `segments` (link direction, IPv4 ID, µs) of one ACK is taken for a
    /// copy of the one before it.
    fn copies(from: &str, to: &str, segments: &[(LinkDir, u16, u64)]) -> Vec<bool> {
        let mut t = Tracker::<()>::default();
        t.observe(&seg(from, to, SYN, 1, 0, 0), Timestamp(0));
        segments
            .iter()
            .map(|&(link_dir, id, us)| {
                let s = Segment {
                    copy_id: u32::from(id) << 16 | 0xabcd,
                    link_dir,
                    ..seg(from, to, ACK, 2, 9, 0)
                };
                t.observe(&s, Timestamp(1_000_000 + us * 1_000))
                    .obs
                    .duplicate
            })
            .collect()
    }

    #[test]
    fn a_copy_is_the_arrival_of_a_packet_seen_leaving() {
        use LinkDir::{Incoming as In, Outgoing as Out};
        // A capture on `any`: each packet leaves, then arrives. A SYN-ACK sent again with
        // ID 0 leaves again and is no copy; its arrival is.
        let got = copies(A, B, &[(Out, 0, 0), (In, 0, 1), (Out, 0, 40), (In, 0, 41)]);
        assert_eq!(got, [false, true, false, true]);
        // Without a number, two arrivals or two departures tell nothing.
        assert_eq!(copies(A, B, &[(In, 0, 0), (In, 0, 1)]), [false, false]);
        assert_eq!(copies(A, B, &[(Out, 0, 0), (Out, 0, 1)]), [false, false]);
        // With one, a packet seen on two interfaces the same way (through a bridge) is a
        // copy, as where the link says nothing.
        assert_eq!(
            copies(A, B, &[(In, 7, 0), (In, 7, 1), (Out, 7, 2)]),
            [false, true, true]
        );
        // IPv6 has no ID: the link's direction alone tells.
        let (a6, b6) = ("[::1]:50000", "[::1]:80");
        assert_eq!(copies(a6, b6, &[(Out, 0, 0), (In, 0, 1)]), [false, true]);
        assert_eq!(copies(a6, b6, &[(In, 0, 0), (In, 0, 0)]), [false, false]);
    }

    #[test]
    fn where_the_link_does_not_say_the_ip_id_tells_a_copy_from_a_repeat() {
        use LinkDir::Unknown;
        let (a6, b6) = ("[::1]:50000", "[::1]:80");
        // (from, to, two (IPv4 ID, µs), whether the second is a copy)
        type Case = (&'static str, &'static str, [(u16, u64); 2], bool);
        let cases: [Case; 5] = [
            // Numbered packets: the same ID within 10 ms is a copy, later it is a repeat.
            (A, B, [(7, 0), (7, 46)], true),
            (A, B, [(7, 0), (7, 20_000)], false),
            // ID 0 numbers nothing: a SYN-ACK or ACK sent again 46 µs later is a repeat;
            // only the same instant makes a copy.
            (A, B, [(0, 0), (0, 46)], false),
            (A, B, [(0, 5), (0, 5)], true),
            // IPv6 without the link's word: never.
            (a6, b6, [(0, 5), (0, 5)], false),
        ];
        for (from, to, [(id1, us1), (id2, us2)], copy) in cases {
            let got = copies(from, to, &[(Unknown, id1, us1), (Unknown, id2, us2)]);
            assert_eq!(
                got,
                [false, copy],
                "{from} IDs {id1}, {id2} at {us1}, {us2} µs"
            );
        }
    }
}
