//! Track layer: segments → connections, numbered like Wireshark's `tcp.stream`, with
//! relative sequence numbers, window scaling and both endpoints' TCP states.
//!
//! Numbering follows `packet-tcp.c`: a new 4-tuple opens a new stream, and so does a SYN
//! whose sequence number differs from the base sequence number its direction already has
//! (the 4-tuple was reused).

pub mod state;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;

use crate::capture::Timestamp;
use crate::decode::{Segment, Seq};
pub use state::{Ctl, Event, State};

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
    fn index(self) -> usize {
        match self {
            Dir::C2S => 0,
            Dir::S2C => 1,
        }
    }
}

/// What is known of a direction's window scale (Wireshark's `win_scale`: -1, -2, shift).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowScale {
    Unknown,
    NotUsed,
    Shift(u8),
}

/// One direction of a connection, and the endpoint that sends it.
#[derive(Clone, Copy, Debug)]
pub struct Flow {
    /// Relative numbers count from here: the ISN, or one before the first number seen.
    base: Option<Seq>,
    window_scale: WindowScale,
    /// Sequence number of the FIN this side sent.
    fin: Option<Seq>,
    pub state: State,
}

impl Default for Flow {
    fn default() -> Self {
        Flow {
            base: None,
            window_scale: WindowScale::Unknown,
            fin: None,
            state: State::Unknown,
        }
    }
}

impl Flow {
    pub fn sent_fin(&self) -> bool {
        self.fin.is_some()
    }
}

/// A connection and what the layer above keeps for it (`A`).
#[derive(Debug)]
pub struct Conn<A> {
    pub id: ConnId,
    pub client: SocketAddr,
    pub server: SocketAddr,
    flows: [Flow; 2],
    pub reset: bool,
    pub last_seen: Timestamp,
    pub data: A,
}

impl<A> Conn<A> {
    pub fn flow(&self, dir: Dir) -> &Flow {
        &self.flows[dir.index()]
    }
    fn flow_mut(&mut self, dir: Dir) -> &mut Flow {
        &mut self.flows[dir.index()]
    }
    pub fn client_state(&self) -> State {
        self.flow(Dir::C2S).state
    }
    pub fn server_state(&self) -> State {
        self.flow(Dir::S2C).state
    }
    /// Reset, or both ends closed or in TIME-WAIT: nothing more is expected.
    pub fn is_closed(&self) -> bool {
        self.reset || (self.client_state().is_done() && self.server_state().is_done())
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
}

/// Connections keyed by their unordered 4-tuple.
#[derive(Debug)]
pub struct Tracker<A> {
    table: HashMap<(SocketAddr, SocketAddr), Conn<A>>,
    next_id: u64,
}

impl<A: Default> Default for Tracker<A> {
    fn default() -> Self {
        Tracker {
            table: HashMap::new(),
            next_id: 0,
        }
    }
}

/// The result of tracking one segment: its connection, and a connection that the segment
/// replaced on the same 4-tuple (the caller finishes that one).
pub struct Tracked<'t, A> {
    pub obs: Observation,
    pub conn: &'t mut Conn<A>,
    pub replaced: Option<Conn<A>>,
}

fn key(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

impl<A: Default> Tracker<A> {
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    fn open(&mut self, seg: &Segment, ts: Timestamp) -> Conn<A> {
        let flags = seg.flags;
        // SPEC: the sender of a SYN, else the receiver of a SYN-ACK, else the higher port,
        // and on equal ports the sender of the first segment.
        let sender_is_client = if flags.syn() {
            !flags.ack()
        } else {
            seg.src.port() >= seg.dst.port()
        };
        let (client, server) = if sender_is_client {
            (seg.src, seg.dst)
        } else {
            (seg.dst, seg.src)
        };
        let id = ConnId(self.next_id);
        self.next_id += 1;
        Conn {
            id,
            client,
            server,
            flows: [Flow::default(); 2],
            reset: false,
            last_seen: ts,
            data: A::default(),
        }
    }

    pub fn observe(&mut self, seg: &Segment, ts: Timestamp) -> Tracked<'_, A> {
        let k = key(seg.src, seg.dst);
        let flags = seg.flags;
        let mut replaced = None;
        let mut opened = false;
        let mut port_reused = false;
        if let Some(conn) = self.table.get(&k) {
            let dir = if seg.src == conn.client {
                Dir::C2S
            } else {
                Dir::S2C
            };
            let base = conn.flow(dir).base;
            if flags.syn() && !flags.ack() && base.is_some_and(|b| b != seg.seq) {
                replaced = self.table.remove(&k);
                port_reused = true;
            }
        }
        if !self.table.contains_key(&k) {
            let conn = self.open(seg, ts);
            self.table.insert(k, conn);
            opened = true;
        }
        let Some(conn) = self.table.get_mut(&k) else {
            unreachable!("inserted above")
        };
        let dir = if seg.src == conn.client {
            Dir::C2S
        } else {
            Dir::S2C
        };
        conn.last_seen = ts;

        // A SYN-ACK with a new ISN restarts its direction's numbering (Wireshark issue 16944).
        let fwd_base = conn.flow(dir).base;
        if flags.syn() && flags.ack() && fwd_base.is_some_and(|b| b != seg.seq) {
            conn.flow_mut(dir).base = Some(seg.seq);
            port_reused = true;
        }
        // Relative numbers start at 0 on a SYN, else at 1; an ACK tells the peer's base.
        let fwd = conn.flow_mut(dir);
        let base = *fwd.base.get_or_insert(if flags.syn() {
            seg.seq
        } else {
            seg.seq.plus(u32::MAX)
        });
        let rev_base = if flags.ack() {
            Some(
                *conn
                    .flow_mut(dir.reverse())
                    .base
                    .get_or_insert(seg.ack.plus(u32::MAX)),
            )
        } else {
            None
        };

        let window = match conn.flow(dir).window_scale {
            WindowScale::Shift(s) if !flags.syn() => u32::from(seg.window) << s,
            _ => u32::from(seg.window),
        };
        if let Some(shift) = seg.window_scale {
            // RFC 7323 §2.3: a shift above 14 is taken as 14.
            conn.flow_mut(dir).window_scale = WindowScale::Shift(shift.min(14));
        }
        if flags.syn() {
            // Scaling is on only when both SYNs offer it.
            if conn.flow(dir).window_scale == WindowScale::Unknown {
                conn.flow_mut(dir).window_scale = WindowScale::NotUsed;
                conn.flow_mut(dir.reverse()).window_scale = WindowScale::NotUsed;
            } else if flags.ack() && conn.flow(dir.reverse()).window_scale == WindowScale::NotUsed {
                conn.flow_mut(dir).window_scale = WindowScale::NotUsed;
            }
        }

        if flags.fin() {
            conn.flow_mut(dir).fin = Some(seg.seq.plus(seg.len));
        }
        let acks_peer_fin = flags.ack()
            && conn
                .flow(dir.reverse())
                .fin
                .is_some_and(|f| seg.ack.is_after(f));
        let ctl = if flags.rst() {
            Ctl::Rst
        } else if flags.syn() {
            if flags.ack() { Ctl::SynAck } else { Ctl::Syn }
        } else if flags.fin() {
            Ctl::Fin {
                acks_fin: acks_peer_fin,
            }
        } else if flags.ack() {
            Ctl::Ack {
                acks_fin: acks_peer_fin,
            }
        } else {
            Ctl::Bare
        };
        let sender = conn.flow(dir).state;
        let receiver = conn.flow(dir.reverse()).state;
        conn.flow_mut(dir).state = state::step(sender, Event::Send(ctl));
        conn.flow_mut(dir.reverse()).state = state::step(receiver, Event::Recv(ctl));
        if flags.rst() {
            conn.reset = true;
        }

        let obs = Observation {
            conn: conn.id,
            dir,
            rel_seq: seg.seq.since(base),
            rel_ack: rev_base.map(|b| seg.ack.since(b)),
            window,
            acks_peer_fin,
            opened,
            port_reused,
        };
        Tracked {
            obs,
            conn,
            replaced,
        }
    }

    /// Removes connections closed for more than `closed_linger` ns, and, with an idle
    /// limit, connections silent for longer than it; oldest first.
    pub fn expire(
        &mut self,
        now: Timestamp,
        closed_linger: u64,
        idle: Option<u64>,
    ) -> Vec<Conn<A>> {
        let mut gone: Vec<Conn<A>> = self
            .table
            .extract_if(|_, conn| {
                let quiet = now.0.saturating_sub(conn.last_seen.0);
                (conn.is_closed() && quiet > closed_linger)
                    || idle.is_some_and(|limit| quiet > limit)
            })
            .map(|(_, c)| c)
            .collect();
        gone.sort_by_key(|c| c.id);
        gone
    }

    /// Every connection still held, oldest first.
    pub fn drain(&mut self) -> Vec<Conn<A>> {
        let mut all: Vec<Conn<A>> = self.table.drain().map(|(_, c)| c).collect();
        all.sort_by_key(|c| c.id);
        all
    }
}
