//! The records synfin reports (SPEC.md: `segment` and `connection`).

use std::fmt;
use std::net::SocketAddr;

use serde::{Serialize, Serializer};

use crate::decode::TcpFlags;
use crate::track::{Dir, State};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Syn,
    SynAck,
    Rst,
    RstAck,
    Fin,
    FinAck,
    FinalAck,
    Data,
    Ack,
}

impl Role {
    /// The JSON name (SPEC.md).
    pub fn name(self) -> &'static str {
        match self {
            Role::Syn => "syn",
            Role::SynAck => "syn-ack",
            Role::Rst => "rst",
            Role::RstAck => "rst-ack",
            Role::Fin => "fin",
            Role::FinAck => "fin-ack",
            Role::FinalAck => "final-ack",
            Role::Data => "data",
            Role::Ack => "ack",
        }
    }

    /// The name people read in tables.
    pub fn label(self) -> &'static str {
        match self {
            Role::Syn => "SYN",
            Role::SynAck => "SYN-ACK",
            Role::Rst => "RST",
            Role::RstAck => "RST-ACK",
            Role::Fin => "FIN",
            Role::FinAck => "FIN-ACK",
            Role::FinalAck => "final ACK",
            Role::Data => "data",
            Role::Ack => "ACK",
        }
    }
}

/// A step of the opening or closing exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Handshake(u8),
    /// Step `n` of a teardown of `of` segments; `of` is 0 while not yet known.
    Teardown {
        n: u8,
        of: u8,
    },
}

impl Step {
    pub fn is_pending(self) -> bool {
        matches!(self, Step::Teardown { of: 0, .. })
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Handshake(n) => write!(f, "handshake {n}/3"),
            Step::Teardown { n, of } => write!(f, "teardown {n}/{of}"),
        }
    }
}

/// Serializes a type as a string, written straight into the output.
macro_rules! serialize_by {
    ($ty:ty, |$v:ident, $s:ident| $how:expr) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, $s: S) -> Result<S::Ok, S::Error> {
                let $v = self;
                $how
            }
        }
    };
}
serialize_by!(Role, |r, s| s.serialize_str(r.name()));
serialize_by!(Step, |st, s| s.collect_str(st));
serialize_by!(StateName, |st, s| s.serialize_str(st.0.name()));
serialize_by!(Endpoint, |e, s| s.collect_str(&e.0));
serialize_by!(DirName, |d, s| s.serialize_str(match d.0 {
    Dir::C2S => "c2s",
    Dir::S2C => "s2c",
}));

/// TCP flags, serialized as their names in Wireshark's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlagNames(pub TcpFlags);

impl Serialize for FlagNames {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.names())
    }
}

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

    /// The JSON names (SPEC.md), in this order.
    const NAMES: [(u16, &'static str); 15] = [
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
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .into_iter()
            .filter(move |(bit, _)| self.has(*bit))
            .map(|(_, name)| name)
    }
}

impl Serialize for Analysis {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.names())
    }
}

/// A state as SPEC.md spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateName(pub State);
/// `127.0.0.1:50784`, `[::1]:12345`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint(pub SocketAddr);
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirName(pub Dir);

#[derive(Clone, Debug, Serialize)]
pub struct SegmentRecord {
    pub frame: u64,
    pub time: f64,
    pub conn: u64,
    pub dir: DirName,
    pub src: Endpoint,
    pub dst: Endpoint,
    pub flags: FlagNames,
    pub seq: u32,
    pub ack: Option<u32>,
    pub abs_seq: u32,
    pub abs_ack: Option<u32>,
    pub len: u32,
    pub win: u32,
    pub role: Role,
    pub step: Option<Step>,
    pub client_state: StateName,
    pub server_state: StateName,
    pub analysis: Analysis,
}

#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct PerDir {
    pub c2s: u64,
    pub s2c: u64,
}

impl PerDir {
    pub fn add(&mut self, dir: Dir, n: u64) {
        match dir {
            Dir::C2S => self.c2s += n,
            Dir::S2C => self.s2c += n,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Handshake {
    Complete,
    SynOnly,
    Refused,
    Partial,
    NotSeen,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Teardown {
    FourWay,
    ThreeWay,
    Simultaneous,
    Reset,
    HalfClosed,
    Open,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Client,
    Server,
}

#[derive(Clone, Debug, Serialize)]
pub struct ConnectionRecord {
    pub conn: u64,
    pub client: Endpoint,
    pub server: Endpoint,
    pub first_frame: u64,
    pub last_frame: u64,
    pub start: f64,
    pub duration: f64,
    pub packets: PerDir,
    pub bytes: PerDir,
    pub handshake: Handshake,
    pub handshake_rtt: Option<f64>,
    pub teardown: Teardown,
    pub closed_by: Option<Side>,
    pub client_state: StateName,
    pub server_state: StateName,
    pub conn_state: Option<String>,
    pub history: Option<String>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Record {
    Segment(SegmentRecord),
    // Boxed: connection records are rare, and every record moves through a queue.
    Connection(Box<ConnectionRecord>),
}
