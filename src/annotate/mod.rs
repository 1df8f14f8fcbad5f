//! Annotate layer: each segment's role and step, and each connection's story, as records.
//!
//! Records leave in frame order. The first FIN's step ("teardown 1/4" or "1/3") depends on
//! how the peer answers, so a FIN's record waits in the queue until that answer (or the
//! connection's end) is seen; everything behind it waits too, which keeps the order.

mod record;

pub use record::*;

use std::collections::VecDeque;

use smallvec::SmallVec;

use crate::capture::{FrameNo, Timestamp};
use crate::decode::Segment;
use crate::track::{Conn, Dir, Observation, Tracked, Tracker};

/// Closed connections stay known this long (2 MSL, RFC 9293) so that late segments keep
/// their connection index, then are forgotten.
const CLOSED_LINGER_NS: u64 = 240 * 1_000_000_000;
/// At most this many closed connections are remembered (for the indexes of late segments);
/// beyond it the first closed are forgotten, so memory follows live connections.
const MAX_CLOSED_KEPT: usize = 10_000;
/// How often (in capture time) to look for connections to forget.
const EXPIRE_EVERY_NS: u64 = 1_000_000_000;
/// A FIN's step is settled as a four-way close once this many records wait behind it.
const MAX_WAITING: usize = 100_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CloseKind {
    FourWay,
    ThreeWay,
    Simultaneous,
}

/// What annotation keeps per connection.
#[derive(Debug, Default)]
pub struct Story {
    first_frame: FrameNo,
    last_frame: FrameNo,
    start: f64,
    last: f64,
    packets: PerDir,
    bytes: PerDir,
    /// SYNs from the client: more than one were retransmitted.
    syns: u32,
    last_syn: Option<f64>,
    syn_ack_seen: bool,
    /// Directions that sent a SYN, and a SYN-ACK: both, in a simultaneous open.
    syn_from: [bool; 2],
    syn_ack_from: [bool; 2],
    handshake_rtt: Option<f64>,
    handshake_done: bool,
    refused: bool,
    closed_by: Option<Dir>,
    first_fin: Option<Dir>,
    close_kind: Option<CloseKind>,
    /// Queue positions of records whose teardown step waits for `close_kind` (a FIN, and
    /// rarely its retransmissions: inline, as nearly every connection has one).
    waiting: SmallVec<[u64; 2]>,
    closing_acks: u8,
    final_ack_seen: bool,
    data_after_fin: bool,
    rst_after_fin: bool,
    flushed: Option<Flush>,
    reported: bool,
    /// Second copies of packets (a capture on `any`).
    duplicates: u32,
}

/// Records in frame order, some of them still waiting for their teardown step.
#[derive(Debug, Default)]
struct Queue {
    records: VecDeque<Record>,
    /// Position of `records[0]` among all records ever queued.
    front: u64,
    waiting: usize,
}

impl Queue {
    fn push(&mut self, record: Record) -> u64 {
        if matches!(&record, Record::Segment(s) if s.step.is_some_and(Step::is_pending)) {
            self.waiting += 1;
        }
        self.records.push_back(record);
        self.front + self.records.len() as u64 - 1
    }

    fn settle(&mut self, positions: &mut SmallVec<[u64; 2]>, of: u8) {
        for pos in positions.drain(..) {
            let Some(index) = pos.checked_sub(self.front) else {
                continue;
            };
            if let Some(Record::Segment(s)) = self.records.get_mut(index as usize)
                && let Some(Step::Teardown { n, of: 0 }) = s.step
            {
                s.step = Some(Step::Teardown { n, of });
                self.waiting -= 1;
            }
        }
    }

    fn settle_all(&mut self) {
        for record in &mut self.records {
            if let Record::Segment(s) = record
                && let Some(Step::Teardown { n, of: 0 }) = s.step
            {
                s.step = Some(Step::Teardown { n, of: 4 });
            }
        }
        self.waiting = 0;
    }

    fn pop_ready(&mut self) -> Option<Record> {
        if self.records.len() > MAX_WAITING
            && let Some(Record::Segment(s)) = self.records.front_mut()
            && let Some(Step::Teardown { n, of: 0 }) = s.step
        {
            s.step = Some(Step::Teardown { n, of: 4 });
            self.waiting -= 1;
        }
        match self.records.front() {
            Some(Record::Segment(s)) if s.step.is_some_and(Step::is_pending) => None,
            Some(_) => {
                self.front += 1;
                self.records.pop_front()
            }
            None => None,
        }
    }
}

/// Bounds on the connections held at once, so that memory follows live connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A connection not established on both sides and silent this long (capture time, ns)
    /// is finished and reported.
    pub idle_timeout_ns: Option<u64>,
    /// Beyond this many connections the longest-silent are finished and reported.
    pub max_conns: usize,
}

impl Limits {
    pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 300;
    pub const DEFAULT_MAX_CONNS: usize = 100_000;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            idle_timeout_ns: Some(Self::DEFAULT_IDLE_TIMEOUT_SECS * 1_000_000_000),
            max_conns: Self::DEFAULT_MAX_CONNS,
        }
    }
}

/// Why a connection was reported before its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flush {
    Idle,
    TableFull,
}

/// Connections reported before their end, by cause.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flushed {
    pub idle: u64,
    pub table_full: u64,
}

/// Turns segments into records for one capture.
#[derive(Debug, Default)]
pub struct Annotator {
    tracker: Tracker<Story>,
    queue: Queue,
    last_expiry: Option<Timestamp>,
    limits: Limits,
    flushed: Flushed,
    /// Whether segment records are wanted (a summary needs only connection records).
    segments: bool,
}

impl Annotator {
    pub fn new(limits: Limits) -> Self {
        Annotator {
            limits,
            segments: true,
            ..Self::default()
        }
    }

    /// An annotator that reports connections only.
    pub fn connections_only(limits: Limits) -> Self {
        Annotator {
            segments: false,
            ..Self::new(limits)
        }
    }

    /// Connections reported before their end because of the limits.
    pub fn flushed(&self) -> Flushed {
        self.flushed
    }

    /// Annotates one segment; `time` is seconds since the capture's first frame. Every
    /// record that became final goes to `emit`, in frame order; the segment's own record is
    /// handed over by reference, without queueing, unless something before it still waits.
    pub fn segment<E>(
        &mut self,
        frame: FrameNo,
        ts: Timestamp,
        time: f64,
        seg: &Segment,
        emit: &mut impl FnMut(&Record) -> Result<(), E>,
    ) -> Result<(), E> {
        let Tracked {
            obs,
            conn,
            replaced,
        } = self.tracker.observe(seg, ts);
        if let Some(mut old) = replaced {
            report(&mut self.queue, &mut old);
        }
        let record = Record::Segment(annotate(conn, &obs, frame, time, seg));
        let story = &mut conn.data;
        if self.segments {
            let pending =
                matches!(&record, Record::Segment(s) if s.step.is_some_and(Step::is_pending));
            if pending || !self.queue.records.is_empty() {
                let pos = self.queue.push(record);
                if pending {
                    story.waiting.push(pos);
                }
            } else {
                self.queue.front += 1;
                emit(&record)?;
            }
        }
        if let Some(kind) = story.close_kind
            && !story.waiting.is_empty()
        {
            self.queue.settle(&mut story.waiting, denominator(kind));
        }
        if conn.is_closed() && !conn.data.reported {
            report(&mut self.queue, conn);
        }
        let queue = &mut self.queue;
        self.tracker
            .forget_closed(MAX_CLOSED_KEPT, |gone| report(queue, gone));
        self.expire(ts);
        while let Some(record) = self.queue.pop_ready() {
            emit(&record)?;
        }
        Ok(())
    }

    fn expire(&mut self, now: Timestamp) {
        let due = self
            .last_expiry
            .is_none_or(|last| now.0.saturating_sub(last.0) >= EXPIRE_EVERY_NS);
        if due {
            self.last_expiry = Some(now);
            let (queue, flushed) = (&mut self.queue, &mut self.flushed);
            self.tracker
                .expire(now, CLOSED_LINGER_NS, self.limits.idle_timeout_ns, |conn| {
                    if !conn.data.reported && !conn.is_closed() {
                        conn.data.flushed = Some(Flush::Idle);
                        flushed.idle += 1;
                    }
                    report(queue, conn);
                });
        }
        if self.tracker.len() > self.limits.max_conns {
            // Evict a tenth at a time so that the search for the oldest stays rare.
            let keep = self.limits.max_conns - self.limits.max_conns / 10;
            let (queue, flushed) = (&mut self.queue, &mut self.flushed);
            self.tracker.evict_oldest(keep, |conn| {
                if !conn.data.reported {
                    conn.data.flushed = Some(Flush::TableFull);
                    flushed.table_full += 1;
                }
                report(queue, conn);
            });
        }
    }

    /// End of input: every connection not yet reported is, oldest first, one at a time,
    /// so that the queue does not hold them all at once; every record goes to `emit`.
    pub fn finish<E>(&mut self, emit: &mut impl FnMut(&Record) -> Result<(), E>) -> Result<(), E> {
        let queue = &mut self.queue;
        self.tracker.drain(|conn| {
            while let Some(record) = queue.pop_ready() {
                emit(&record)?;
            }
            report(queue, conn);
            Ok(())
        })?;
        loop {
            while let Some(record) = self.queue.pop_ready() {
                emit(&record)?;
            }
            if self.queue.records.is_empty() {
                return Ok(());
            }
            // Only records waiting on connections that are gone: settle them.
            self.queue.settle_all();
        }
    }
}

fn denominator(kind: CloseKind) -> u8 {
    match kind {
        CloseKind::ThreeWay => 3,
        CloseKind::FourWay | CloseKind::Simultaneous => 4,
    }
}

fn annotate(
    conn: &mut Conn<Story>,
    obs: &Observation,
    frame: FrameNo,
    time: f64,
    seg: &Segment,
) -> SegmentRecord {
    let flags = seg.flags;
    let dir = obs.dir;
    let both_fins = conn.flow(Dir::C2S).sent_fin() && conn.flow(Dir::S2C).sent_fin();
    let peer_sent_fin = conn.flow(dir.reverse()).sent_fin();
    let story = &mut conn.data;
    if obs.opened {
        story.first_frame = frame;
        story.start = time;
    }
    story.last_frame = frame;
    story.last = time;
    story.packets.add(dir, 1);
    story.bytes.add(dir, u64::from(seg.len));

    let plain = !flags.syn() && !flags.fin() && !flags.rst();
    // SPEC: the final ACK acknowledges the last FIN once both sides sent one; the last FIN
    // is the peer's when this side sent the first.
    let final_ack =
        plain && seg.len == 0 && both_fins && obs.acks_peer_fin && story.first_fin == Some(dir);
    let role = if flags.syn() {
        if flags.ack() { Role::SynAck } else { Role::Syn }
    } else if flags.rst() {
        if flags.ack() { Role::RstAck } else { Role::Rst }
    } else if flags.fin() {
        if flags.ack() { Role::FinAck } else { Role::Fin }
    } else if final_ack {
        Role::FinalAck
    } else if seg.len > 0 {
        Role::Data
    } else {
        Role::Ack
    };

    if obs.duplicate {
        story.duplicates += 1;
    } else if role == Role::FinalAck {
        story.final_ack_seen = true;
    }
    if seg.len > 0 && peer_sent_fin && !flags.syn() && !obs.duplicate {
        story.data_after_fin = true;
    }
    // A second copy of a packet is no step of the story.
    let step = if obs.duplicate {
        None
    } else {
        handshake_step(story, dir, obs, seg, time)
            .or_else(|| teardown_step(story, dir, obs, seg, role))
    };

    SegmentRecord {
        frame: frame.0,
        time,
        conn: obs.conn.0,
        dir: DirName(dir),
        src: Endpoint(seg.src),
        dst: Endpoint(seg.dst),
        flags: FlagNames(flags),
        seq: obs.rel_seq,
        ack: obs.rel_ack,
        abs_seq: seg.seq.0,
        abs_ack: flags.ack().then_some(seg.ack.0),
        len: seg.len,
        win: obs.window,
        role,
        step,
        client_state: StateName(conn.client_state()),
        server_state: StateName(conn.server_state()),
        analysis: obs.verdict.flags,
        dup_ack: obs.verdict.dup_ack,
    }
}

fn handshake_step(
    story: &mut Story,
    dir: Dir,
    obs: &Observation,
    seg: &Segment,
    time: f64,
) -> Option<Step> {
    let flags = seg.flags;
    if flags.syn() && !flags.ack() && !flags.rst() {
        if dir == Dir::C2S {
            story.syns += 1;
        }
        story.last_syn = Some(time);
        story.syn_from[dir.index()] = true;
        return (!story.handshake_done).then_some(Step::Handshake(1));
    }
    if flags.syn() && flags.ack() && !flags.rst() {
        story.syn_ack_seen = true;
        story.syn_ack_from[dir.index()] = true;
        let step = (!story.handshake_done).then_some(Step::Handshake(2));
        // RFC 9293 §3.5: in a simultaneous open each SYN-ACK completes one side, so the
        // second one completes the handshake.
        if story.syn_from == [true; 2] && story.syn_ack_from == [true; 2] && !story.handshake_done {
            story.handshake_done = true;
            story.handshake_rtt = story.last_syn.map(|syn| time - syn);
        }
        return step;
    }
    if flags.rst() {
        if dir == Dir::S2C && story.syns > 0 && !story.syn_ack_seen {
            story.refused = true;
        }
        if story.closed_by.is_none() {
            story.closed_by = Some(dir);
        }
        if story.first_fin.is_some() {
            story.rst_after_fin = true;
        }
        return None;
    }
    if !story.handshake_done
        && story.syn_ack_seen
        && dir == Dir::C2S
        && flags.ack()
        && obs.rel_ack == Some(1)
    {
        story.handshake_done = true;
        // Wireshark's initial RTT: from the most recent SYN to the handshake's ACK.
        story.handshake_rtt = story.last_syn.map(|syn| time - syn);
        return Some(Step::Handshake(3));
    }
    None
}

fn teardown_step(
    story: &mut Story,
    dir: Dir,
    obs: &Observation,
    seg: &Segment,
    role: Role,
) -> Option<Step> {
    let flags = seg.flags;
    if flags.syn() || flags.rst() {
        return None;
    }
    let step = |n, kind: Option<CloseKind>| {
        Some(Step::Teardown {
            n,
            of: kind.map_or(0, denominator),
        })
    };
    if flags.fin() {
        let Some(first) = story.first_fin else {
            story.first_fin = Some(dir);
            story.closed_by.get_or_insert(dir);
            return step(1, None);
        };
        if first == dir {
            return step(1, story.close_kind);
        }
        let kind = *story.close_kind.get_or_insert(if obs.acks_peer_fin {
            CloseKind::ThreeWay
        } else {
            CloseKind::Simultaneous
        });
        return match kind {
            CloseKind::FourWay => step(3, Some(kind)),
            CloseKind::ThreeWay | CloseKind::Simultaneous => step(2, Some(kind)),
        };
    }
    let first = story.first_fin?;
    match story.close_kind {
        // The peer acknowledges the first FIN without a FIN of its own: a four-way close.
        None if first != dir && obs.acks_peer_fin => {
            story.close_kind = Some(CloseKind::FourWay);
            step(2, story.close_kind)
        }
        None => None,
        Some(kind @ (CloseKind::FourWay | CloseKind::ThreeWay)) if role == Role::FinalAck => {
            story.final_ack_seen = true;
            step(denominator(kind), Some(kind))
        }
        Some(CloseKind::Simultaneous)
            if obs.acks_peer_fin && seg.len == 0 && story.closing_acks < 2 =>
        {
            story.closing_acks += 1;
            if role == Role::FinalAck {
                story.final_ack_seen = true;
            }
            step(2 + story.closing_acks, story.close_kind)
        }
        Some(_) => None,
    }
}

/// Queues the connection record, settling any step still waiting.
fn report(queue: &mut Queue, conn: &mut Conn<Story>) {
    // A connection may be reported and still send (a FIN after a RST): whatever waits for
    // it is settled when it leaves, reported or not.
    queue.settle(&mut conn.data.waiting, 4);
    if conn.data.reported {
        return;
    }
    let story = &mut conn.data;
    story.reported = true;
    let record = summarize(conn);
    queue.push(Record::Connection(Box::new(record)));
}

fn summarize(conn: &mut Conn<Story>) -> ConnectionRecord {
    let itself = conn.is_self_connected();
    let fins = [Dir::C2S, Dir::S2C].map(|d| conn.flow(d).sent_fin());
    let (client_state, server_state) = (conn.client_state(), conn.server_state());
    let (client, server) = (conn.client(), conn.server());
    // Zeek's state reads its history, which the record then takes: reported once.
    let conn_state = conn.zeek.conn_state();
    let history = conn.zeek.take_history();
    let story = &mut conn.data;
    let handshake = match (story.syns > 0, story.syn_ack_seen) {
        (true, true) if story.handshake_done => Handshake::Complete,
        (true, false) if story.refused => Handshake::Refused,
        (true, false) if story.packets.s2c == 0 => Handshake::SynOnly,
        (false, false) => Handshake::NotSeen,
        _ => Handshake::Partial,
    };
    let teardown = if conn.reset {
        Teardown::Reset
    } else if itself && fins == [true, true] {
        // Its one FIN is both ends' FIN, received as it is sent: a simultaneous close.
        Teardown::Simultaneous
    } else {
        match (fins, story.close_kind) {
            ([true, true], Some(CloseKind::ThreeWay)) => Teardown::ThreeWay,
            ([true, true], Some(CloseKind::Simultaneous)) => Teardown::Simultaneous,
            ([true, true], _) => Teardown::FourWay,
            ([true, false] | [false, true], _) => Teardown::HalfClosed,
            ([false, false], _) => Teardown::Open,
        }
    };
    let side = |d: Dir| match d {
        Dir::C2S => Side::Client,
        Dir::S2C => Side::Server,
    };
    let mut notes = Vec::new();
    if handshake == Handshake::NotSeen {
        notes.push("capture started mid-connection".to_string());
    }
    if story.syns > 1 {
        let n = story.syns - 1;
        notes.push(format!(
            "SYN retransmitted {n} time{}",
            if n == 1 { "" } else { "s" }
        ));
    }
    if itself {
        notes.push(
            "a socket connected to itself (the same address and port at both ends): both state columns are that one socket, which receives each segment it sends".to_string(),
        );
    }
    if story.duplicates > 0 {
        notes.push(format!(
            "{} segment{} seen twice (a capture on 'any' sees each loopback packet leave and arrive); the copies are marked 'duplicate' and change no state",
            story.duplicates,
            if story.duplicates == 1 { "" } else { "s" }
        ));
    }
    if story.data_after_fin {
        notes.push("data after FIN (half-close)".to_string());
    }
    if story.rst_after_fin {
        notes.push("RST after FIN".to_string());
    }
    if matches!(
        teardown,
        Teardown::FourWay | Teardown::ThreeWay | Teardown::Simultaneous
    ) && !story.final_ack_seen
    {
        notes.push("no final ACK seen".to_string());
    }
    match story.flushed {
        Some(Flush::Idle) => {
            notes.push("reported early: idle longer than --idle-timeout".to_string())
        }
        Some(Flush::TableFull) => {
            notes.push("reported early: connection table full (--max-conns)".to_string())
        }
        None if teardown == Teardown::Open => {
            notes.push("still open at the end of the capture".to_string())
        }
        None => {}
    }
    ConnectionRecord {
        conn: conn.id.0,
        client: Endpoint(client),
        server: Endpoint(server),
        first_frame: story.first_frame.0,
        last_frame: story.last_frame.0,
        start: story.start,
        duration: story.last - story.start,
        packets: story.packets,
        bytes: story.bytes,
        handshake,
        handshake_rtt: story.handshake_rtt,
        teardown,
        closed_by: story.closed_by.map(side),
        client_state: StateName(client_state),
        server_state: StateName(server_state),
        conn_state,
        history,
        notes,
    }
}
#[cfg(test)]
mod size {
    use std::mem::size_of;

    /// The table holds up to `--max-conns` connections and every record passes through the
    /// queue, so their sizes are memory and copying per connection and per packet: growing
    /// them should be a decision (raise the bound here), never an accident.
    #[test]
    fn a_connection_a_record_and_a_segment_stay_small() {
        let conn = size_of::<crate::track::Conn<super::Story>>();
        assert!(
            conn <= 704,
            "a connection is {conn} bytes, over eleven cache lines"
        );
        let record = size_of::<super::Record>();
        assert!(
            record <= 128,
            "a record is {record} bytes, over two cache lines"
        );
        let segment = size_of::<crate::decode::Segment>();
        assert!(segment <= 72, "a segment is {segment} bytes");
    }
}
