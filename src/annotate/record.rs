//! The records synfin reports (SPEC.md: `segment` and `connection`).

use super::identity::Names;
use crate::capture::Timestamp;
use crate::decode::{Addr, Preview};
use std::fmt;

use serde::{Serialize, Serializer};
use smallvec::SmallVec;

use crate::decode::TcpFlags;
pub use crate::track::{Analysis, History, ZeekCounts};
use crate::track::{Dir, State};

/// Seconds as SPEC.md writes them: a decimal with at most 9 fractional digits, exact to the
/// nanosecond the time was computed from, never `0.0007419999999999999` or `2.7e-05`;
/// `None` for a time that is not finite.
pub fn decimal_seconds(secs: f64) -> Option<String> {
    let mut text = Vec::with_capacity(24);
    write_seconds(&mut text, secs).then(|| String::from_utf8_lossy(&text).into_owned())
}

/// Appends `decimal_seconds`'s text, without allocating; false (nothing written) for a
/// time that is not finite.
pub fn write_seconds(o: &mut Vec<u8>, secs: f64) -> bool {
    if !secs.is_finite() {
        return false;
    }
    // Times come from integer nanoseconds: rounding finds them again.
    write_nanos(o, (secs * 1e9).round() as i128);
    true
}

/// Appends `ns` nanoseconds as seconds: `decimal_seconds`'s text, exact.
pub fn write_nanos(o: &mut Vec<u8>, ns: i128) {
    if ns < 0 {
        o.push(b'-');
    }
    let ns = ns.unsigned_abs();
    let mut digits = itoa::Buffer::new();
    o.extend_from_slice(digits.format(ns / 1_000_000_000).as_bytes());
    o.push(b'.');
    // The fraction's nine digits, from a number with a leading 1 to keep its zeros.
    let fraction = digits.format(1_000_000_000 + ns % 1_000_000_000).as_bytes();
    let fraction = fraction.get(1..).unwrap_or_default();
    let kept = fraction
        .iter()
        .rposition(|&d| d != b'0')
        .map_or(1, |last| last + 1);
    o.extend_from_slice(fraction.get(..kept).unwrap_or(b"0"));
}

fn seconds<S: Serializer>(secs: &f64, s: S) -> Result<S::Ok, S::Error> {
    match decimal_seconds(*secs) {
        Some(text) => serde_json::value::RawValue::from_string(text)
            .map_err(serde::ser::Error::custom)?
            .serialize(s),
        None => s.serialize_none(),
    }
}

/// A capture time as seconds since the Unix epoch, exact to the nanosecond (an f64 would
/// round it to a few hundred).
fn epoch<S: Serializer>(ts: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    let mut text = Vec::with_capacity(24);
    write_nanos(&mut text, i128::from(ts.0));
    serde_json::value::RawValue::from_string(String::from_utf8_lossy(&text).into_owned())
        .map_err(serde::ser::Error::custom)?
        .serialize(s)
}

fn maybe_seconds<S: Serializer>(secs: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match secs {
        Some(secs) => seconds(secs, s),
        None => s.serialize_none(),
    }
}

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
    /// Every role, in SPEC.md's order.
    pub const ALL: [Role; 9] = [
        Role::Syn,
        Role::SynAck,
        Role::Rst,
        Role::RstAck,
        Role::Fin,
        Role::FinAck,
        Role::FinalAck,
        Role::Data,
        Role::Ack,
    ];

    /// A segment's role (SPEC.md): by its SYN, RST or FIN flag, with ACK or not; a segment
    /// with none of them is the final ACK where it acknowledges the last FIN (`final_ack`)
    /// and carries no data, else data or an ACK.
    pub fn of(flags: TcpFlags, len: u32, final_ack: bool) -> Role {
        if flags.syn() {
            if flags.ack() { Role::SynAck } else { Role::Syn }
        } else if flags.rst() {
            if flags.ack() { Role::RstAck } else { Role::Rst }
        } else if flags.fin() {
            if flags.ack() { Role::FinAck } else { Role::Fin }
        } else if final_ack && len == 0 {
            Role::FinalAck
        } else if len > 0 {
            Role::Data
        } else {
            Role::Ack
        }
    }

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
    /// Step `n` of a teardown of `of` segments. The first FIN's count waits for the
    /// peer's answer (`None`); records leave only once it is known.
    Teardown {
        n: u8,
        of: Option<u8>,
    },
}

impl Step {
    pub fn is_pending(self) -> bool {
        matches!(self, Step::Teardown { of: None, .. })
    }

    /// Appends the step as `Display` writes it, without `fmt`: the JSON lines and Parquet
    /// write one for every handshake and teardown segment.
    pub fn write_to(self, o: &mut Vec<u8>) {
        let (word, n, of): (&[u8], u8, Option<u8>) = match self {
            Step::Handshake(n) => (b"handshake ", n, Some(3)),
            Step::Teardown { n, of } => (b"teardown ", n, of),
        };
        let mut digits = itoa::Buffer::new();
        o.extend_from_slice(word);
        o.extend_from_slice(digits.format(n).as_bytes());
        o.push(b'/');
        match of {
            Some(of) => o.extend_from_slice(digits.format(of).as_bytes()),
            None => o.push(b'?'),
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Handshake(n) => write!(f, "handshake {n}/3"),
            Step::Teardown { n, of: Some(of) } => write!(f, "teardown {n}/{of}"),
            Step::Teardown { n, of: None } => write!(f, "teardown {n}/?"),
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
serialize_by!(History, |h, s| s.serialize_str(h.as_str()));
serialize_by!(DirName, |d, s| s.serialize_str(d.name()));

/// TCP flags, serialized as their names in Wireshark's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlagNames(pub TcpFlags);

impl Serialize for FlagNames {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.names())
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
pub struct Endpoint(pub Addr);
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirName(pub Dir);

impl DirName {
    /// The JSON name (SPEC.md).
    pub fn name(self) -> &'static str {
        match self.0 {
            Dir::C2S => "c2s",
            Dir::S2C => "s2c",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct SegmentRecord {
    pub frame: u64,
    #[serde(serialize_with = "seconds")]
    pub time: f64,
    /// The frame's capture time (SPEC.md: seconds since the Unix epoch).
    #[serde(serialize_with = "epoch")]
    pub ts: Timestamp,
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
    /// The number of a duplicate ACK in its run (Wireshark's `tcp.analysis.duplicate_ack_num`).
    pub dup_ack: Option<u32>,
    /// The payload's first bytes, for the explanations (not in the JSON: SPEC.md records no
    /// payload).
    #[serde(skip)]
    pub preview: Preview,
}

impl SegmentRecord {
    /// The connection's client and server, told by the segment's direction.
    pub fn ends(&self) -> (Addr, Addr) {
        match self.dir.0 {
            Dir::C2S => (self.src.0, self.dst.0),
            Dir::S2C => (self.dst.0, self.src.0),
        }
    }
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

impl Handshake {
    pub const ALL: [Handshake; 5] = [
        Handshake::Complete,
        Handshake::SynOnly,
        Handshake::Refused,
        Handshake::Partial,
        Handshake::NotSeen,
    ];

    /// The JSON name (SPEC.md).
    pub fn name(self) -> &'static str {
        match self {
            Handshake::Complete => "complete",
            Handshake::SynOnly => "syn-only",
            Handshake::Refused => "refused",
            Handshake::Partial => "partial",
            Handshake::NotSeen => "not-seen",
        }
    }
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

impl Teardown {
    pub const ALL: [Teardown; 6] = [
        Teardown::FourWay,
        Teardown::ThreeWay,
        Teardown::Simultaneous,
        Teardown::Reset,
        Teardown::HalfClosed,
        Teardown::Open,
    ];

    /// The JSON name (SPEC.md).
    pub fn name(self) -> &'static str {
        match self {
            Teardown::FourWay => "four-way",
            Teardown::ThreeWay => "three-way",
            Teardown::Simultaneous => "simultaneous",
            Teardown::Reset => "reset",
            Teardown::HalfClosed => "half-closed",
            Teardown::Open => "open",
        }
    }
}

/// Why a connection was reset (SPEC.md `reset_cause`), told from what came before its
/// first RST.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResetCause {
    /// The SYN was answered by a RST: nothing listens on that port.
    Refused,
    /// A RST (with ACK) instead of a FIN from an end that had sent none: a close with
    /// unread data, or `SO_LINGER` 0.
    AbortiveClose,
    /// A RST from an end that had sent its FIN, in answer to data the peer sent after it.
    DataAfterClose,
    /// A RST from an end that does not know the connection: the answer to a SYN-ACK it
    /// never asked for, or a RST without ACK to a segment of an established one (after a
    /// restart, RFC 9293 §3.10.7.1).
    HalfOpen,
    /// A RST after an orderly FIN.
    AfterFin,
    Other,
}

impl ResetCause {
    pub const ALL: [ResetCause; 6] = [
        ResetCause::Refused,
        ResetCause::AbortiveClose,
        ResetCause::DataAfterClose,
        ResetCause::HalfOpen,
        ResetCause::AfterFin,
        ResetCause::Other,
    ];

    /// The JSON name (SPEC.md).
    pub fn name(self) -> &'static str {
        match self {
            ResetCause::Refused => "refused",
            ResetCause::AbortiveClose => "abortive-close",
            ResetCause::DataAfterClose => "data-after-close",
            ResetCause::HalfOpen => "half-open",
            ResetCause::AfterFin => "after-fin",
            ResetCause::Other => "other",
        }
    }
}

/// Something incomplete or odd about a connection (SPEC.md `notes`). JSON carries it as
/// the English sentence its `Display` writes; tables and pages say it in `--lang`'s words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Note {
    Midstream,
    /// The client's SYN sent again, this many times.
    SynRetransmitted(u32),
    ConnectedToItself,
    /// This many segments seen twice.
    Duplicates(u32),
    /// The frame whose SYN Zeek takes for a new connection.
    ZeekSplit(u64),
    DataAfterFin,
    RstAfterFin,
    NoFinalAck,
    ReportedIdle,
    ReportedTableFull,
    StillOpen,
}

impl Note {
    /// Every kind of note, with a number where it takes one (for tests of each language).
    pub const ALL: [Note; 11] = [
        Note::Midstream,
        Note::SynRetransmitted(2),
        Note::ConnectedToItself,
        Note::Duplicates(1),
        Note::ZeekSplit(7),
        Note::DataAfterFin,
        Note::RstAfterFin,
        Note::NoFinalAck,
        Note::ReportedIdle,
        Note::ReportedTableFull,
        Note::StillOpen,
    ];
}

impl Note {
    /// The note as its kind (its place in `ALL`) and its number (0 for a kind without one):
    /// nine bytes to keep it in, read back by `from_code`.
    pub fn code(self) -> (u8, u64) {
        match self {
            Note::Midstream => (0, 0),
            Note::SynRetransmitted(n) => (1, n.into()),
            Note::ConnectedToItself => (2, 0),
            Note::Duplicates(n) => (3, n.into()),
            Note::ZeekSplit(frame) => (4, frame),
            Note::DataAfterFin => (5, 0),
            Note::RstAfterFin => (6, 0),
            Note::NoFinalAck => (7, 0),
            Note::ReportedIdle => (8, 0),
            Note::ReportedTableFull => (9, 0),
            Note::StillOpen => (10, 0),
        }
    }

    /// The note `code` gave `(kind, n)`; `None` for a pair it never gives.
    pub fn from_code(kind: u8, n: u64) -> Option<Note> {
        let count = u32::try_from(n).ok();
        let alone = |note| (n == 0).then_some(note);
        match kind {
            0 => alone(Note::Midstream),
            1 => count.map(Note::SynRetransmitted),
            2 => alone(Note::ConnectedToItself),
            3 => count.map(Note::Duplicates),
            4 => Some(Note::ZeekSplit(n)),
            5 => alone(Note::DataAfterFin),
            6 => alone(Note::RstAfterFin),
            7 => alone(Note::NoFinalAck),
            8 => alone(Note::ReportedIdle),
            9 => alone(Note::ReportedTableFull),
            10 => alone(Note::StillOpen),
            _ => None,
        }
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: u32| if n == 1 { "" } else { "s" };
        match *self {
            Note::Midstream => f.write_str("capture started mid-connection"),
            Note::SynRetransmitted(n) => write!(f, "SYN retransmitted {n} time{}", plural(n)),
            Note::ConnectedToItself => f.write_str(
                "a socket connected to itself (the same address and port at both ends): both state columns are that one socket, which receives each segment it sends",
            ),
            Note::Duplicates(n) => write!(
                f,
                "{n} segment{} seen twice (a capture on 'any' sees each loopback packet leave and arrive); the copies are marked 'duplicate' and change no state",
                plural(n)
            ),
            Note::ZeekSplit(frame) => write!(
                f,
                "Zeek takes the SYN of frame {frame} for a new connection on these ports: conn_state and history cover the frames before it"
            ),
            Note::DataAfterFin => f.write_str("data after FIN (half-close)"),
            Note::RstAfterFin => f.write_str("RST after FIN"),
            Note::NoFinalAck => f.write_str("no final ACK seen"),
            Note::ReportedIdle => {
                f.write_str("reported early: idle longer than --idle-timeout")
            }
            Note::ReportedTableFull => {
                f.write_str("reported early: connection table full (--max-conns)")
            }
            Note::StillOpen => f.write_str("still open at the end of the capture"),
        }
    }
}

impl Serialize for Note {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A state an endpoint entered: at which frame, and when (seconds since the capture's
/// first frame).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Entered {
    pub state: StateName,
    pub frame: u64,
    #[serde(serialize_with = "seconds")]
    pub time: f64,
}

/// Each endpoint's states in the order entered (SPEC.md `timeline`: `{"client": [...],
/// "server": [...]}`), kept as the one list the connection filled, in frame order, so that
/// reporting it takes no allocation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline(pub Vec<(Dir, Entered)>);

impl Timeline {
    /// The states the client (`Dir::C2S`) or the server (`Dir::S2C`) entered.
    pub fn of(&self, end: Dir) -> impl Iterator<Item = &Entered> {
        self.0
            .iter()
            .filter(move |(d, _)| *d == end)
            .map(|(_, entered)| entered)
    }
}

impl Serialize for Timeline {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct End<'a>(&'a Timeline, Dir);
        impl Serialize for End<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.of(self.1))
            }
        }
        let mut map = s.serialize_struct("Timeline", 2)?;
        map.serialize_field("client", &End(self, Dir::C2S))?;
        map.serialize_field("server", &End(self, Dir::S2C))?;
        map.end()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Client,
    Server,
}

impl Side {
    /// The side that sends in `dir`.
    pub fn sending(dir: Dir) -> Side {
        match dir {
            Dir::C2S => Side::Client,
            Dir::S2C => Side::Server,
        }
    }
}

/// A connection's notes: most have none, and a flood's or a scan's each have one, kept
/// without an allocation of its own.
pub type Notes = SmallVec<[Note; 1]>;

#[derive(Clone, Debug, Serialize)]
pub struct ConnectionRecord {
    pub conn: u64,
    pub client: Endpoint,
    pub server: Endpoint,
    pub first_frame: u64,
    pub last_frame: u64,
    #[serde(serialize_with = "seconds")]
    pub start: f64,
    /// The first segment's capture time (SPEC.md: seconds since the Unix epoch).
    #[serde(serialize_with = "epoch")]
    pub ts: Timestamp,
    /// The connection's name across runs and captures (SPEC.md `uid`), and its 5-tuple's
    /// `community_id`, written when the record is.
    #[serde(flatten)]
    pub names: Names,
    #[serde(serialize_with = "seconds")]
    pub duration: f64,
    pub packets: PerDir,
    pub bytes: PerDir,
    pub handshake: Handshake,
    #[serde(serialize_with = "maybe_seconds")]
    pub handshake_rtt: Option<f64>,
    pub teardown: Teardown,
    pub closed_by: Option<Side>,
    pub client_state: StateName,
    pub server_state: StateName,
    pub conn_state: Option<&'static str>,
    pub history: Option<History>,
    /// The rest of Zeek's conn.log row (`--format zeek`), not part of the JSON record.
    #[serde(skip)]
    pub zeek: Option<ZeekCounts>,
    pub notes: Notes,
    /// Segments Wireshark flags as retransmissions (fast, spurious included).
    pub retransmissions: u64,
    /// Segments with any Wireshark analysis flag.
    pub flagged: u64,
    /// Every analysis flag any of its segments had.
    pub analysis: Analysis,
    /// Wireshark's `tcp.completeness`: 1 SYN, 2 SYN-ACK, 4 ACK, 8 data, 16 FIN, 32 RST.
    pub completeness: u8,
    pub reset_cause: Option<ResetCause>,
    pub timeline: Timeline,
}

impl ConnectionRecord {
    /// Makes this record `from` without its timeline, the one part that is allocated:
    /// what a summary row reads, copied into a reused record for a thread that keeps the
    /// rows.
    pub fn copy_without_timeline(&mut self, from: &ConnectionRecord) {
        let ConnectionRecord {
            conn,
            client,
            server,
            first_frame,
            last_frame,
            start,
            ts,
            names,
            duration,
            packets,
            bytes,
            handshake,
            handshake_rtt,
            teardown,
            closed_by,
            client_state,
            server_state,
            conn_state,
            history,
            zeek,
            notes,
            retransmissions,
            flagged,
            analysis,
            completeness,
            reset_cause,
            timeline: _,
        } = from;
        self.conn = *conn;
        self.client = *client;
        self.server = *server;
        self.first_frame = *first_frame;
        self.last_frame = *last_frame;
        self.start = *start;
        self.ts = *ts;
        self.names = *names;
        self.duration = *duration;
        self.packets = *packets;
        self.bytes = *bytes;
        self.handshake = *handshake;
        self.handshake_rtt = *handshake_rtt;
        self.teardown = *teardown;
        self.closed_by = *closed_by;
        self.client_state = *client_state;
        self.server_state = *server_state;
        self.conn_state = *conn_state;
        self.history.clone_from(history);
        self.zeek = *zeek;
        self.notes = Notes::from_slice(notes);
        self.retransmissions = *retransmissions;
        self.flagged = *flagged;
        self.analysis = *analysis;
        self.completeness = *completeness;
        self.reset_cause = *reset_cause;
        self.timeline.0.clear();
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Record {
    Segment(SegmentRecord),
    // Boxed: connection records are rare, and every record moves through a queue.
    Connection(Box<ConnectionRecord>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_read_back_from_its_code_is_the_note() {
        for note in Note::ALL {
            let (kind, n) = note.code();
            assert_eq!(
                usize::from(kind),
                Note::ALL.iter().position(|&k| k == note).unwrap_or(99)
            );
            assert_eq!(Note::from_code(kind, n), Some(note));
            let numbered = matches!(
                note,
                Note::SynRetransmitted(_) | Note::Duplicates(_) | Note::ZeekSplit(_)
            );
            assert_eq!(Note::from_code(kind, 1).is_some(), numbered, "{note:?}");
        }
        assert_eq!(Note::from_code(1, u64::from(u32::MAX) + 1), None);
        assert_eq!(Note::from_code(Note::ALL.len() as u8, 0), None);
    }

    #[test]
    fn steps_are_written_as_display_writes_them() {
        for n in 0..=u8::MAX {
            let mut steps = vec![Step::Handshake(n), Step::Teardown { n, of: None }];
            steps.extend((0..=u8::MAX).map(|of| Step::Teardown { n, of: Some(of) }));
            for step in steps {
                let mut written = Vec::new();
                step.write_to(&mut written);
                assert_eq!(String::from_utf8(written).ok(), Some(step.to_string()));
            }
        }
    }

    #[test]
    fn seconds_are_exact_decimals_never_binary_noise_or_exponents() {
        for (secs, text) in [
            (0.0, "0.0"),
            (0.000_742_000_000_000_1, "0.000742"),
            (0.000_741_999_999_999_999_9, "0.000742"),
            (0.000_019_999_999_999_999_998, "0.00002"),
            (2.7e-05, "0.000027"),
            (1e-9, "0.000000001"),
            (1.050461, "1.050461"),
            (-0.25, "-0.25"),
            (3.0, "3.0"),
        ] {
            assert_eq!(decimal_seconds(secs).as_deref(), Some(text), "{secs:e}");
        }
        assert_eq!(decimal_seconds(f64::NAN), None);
    }

    #[test]
    fn every_role_is_listed_once() {
        // A new role fails to compile here until it is given a place in `Role::ALL`.
        let place = |r: Role| match r {
            Role::Syn => 0,
            Role::SynAck => 1,
            Role::Rst => 2,
            Role::RstAck => 3,
            Role::Fin => 4,
            Role::FinAck => 5,
            Role::FinalAck => 6,
            Role::Data => 7,
            Role::Ack => 8,
        };
        for (i, role) in Role::ALL.into_iter().enumerate() {
            assert_eq!(place(role), i, "{role:?}");
            assert_eq!(serde_json::to_value(role).ok(), Some(role.name().into()));
        }
    }

    /// The names tables and checks print are the JSON names.
    #[test]
    fn names_are_the_json_names() {
        for h in Handshake::ALL {
            assert_eq!(serde_json::to_value(h).ok(), Some(h.name().into()));
        }
        for t in Teardown::ALL {
            assert_eq!(serde_json::to_value(t).ok(), Some(t.name().into()));
        }
        for c in ResetCause::ALL {
            assert_eq!(serde_json::to_value(c).ok(), Some(c.name().into()));
        }
    }
}
