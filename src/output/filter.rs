//! Which records a user asked to see (`--conn`, `--port`, `--host`, `--role`), for every
//! format. Connections are kept or dropped whole; `--role` picks segments only. Each takes
//! what synfin prints: roles as the tables spell them, hosts as `ADDR:PORT`.

use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;

use crate::annotate::{
    Analysis, ConnectionRecord, Handshake, Record, Role, SegmentRecord, Side, Step, Teardown,
};
use crate::decode::Addr;

/// A role to show: one of SPEC.md's roles, or every step of the handshake or the teardown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RolePick {
    Role(Role),
    Handshake,
    Teardown,
}

impl RolePick {
    /// Every name `--role` takes: the roles' JSON names, then the two exchanges.
    pub fn names() -> impl Iterator<Item = &'static str> {
        Role::ALL
            .into_iter()
            .map(Role::name)
            .chain(["handshake", "teardown"])
    }

    /// A JSON name or a table's spelling, in any case (`syn-ack`, `SYN-ACK`, `final ACK`).
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim().to_ascii_lowercase().replace([' ', '_'], "-");
        match name.as_str() {
            "handshake" => Some(RolePick::Handshake),
            "teardown" => Some(RolePick::Teardown),
            _ => Role::ALL
                .into_iter()
                .find(|r| {
                    r.name() == name || r.label().to_ascii_lowercase().replace(' ', "-") == name
                })
                .map(RolePick::Role),
        }
    }

    fn picks(self, s: &SegmentRecord) -> bool {
        match self {
            // What users mean: every FIN (on Linux nearly all carry an ACK), every RST.
            RolePick::Role(Role::Fin) => matches!(s.role, Role::Fin | Role::FinAck),
            RolePick::Role(Role::Rst) => matches!(s.role, Role::Rst | Role::RstAck),
            RolePick::Role(role) => s.role == role,
            RolePick::Handshake => matches!(s.step, Some(Step::Handshake(_))),
            RolePick::Teardown => matches!(s.step, Some(Step::Teardown { .. })),
        }
    }
}

/// An end `--host` picks: an address or a prefix of them (`127.0.0.0/8`), and a port when
/// one is given (`127.0.0.1:50186`, `[::1]:80`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostPick {
    addr: IpAddr,
    prefix: u8,
    port: Option<u16>,
}

impl HostPick {
    /// `ADDR`, `ADDR/BITS`, `ADDR:PORT`, `[V6]`, `[V6]:PORT`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Ok(end) = text.parse::<SocketAddr>() {
            return Ok(Self::address(end.ip(), Some(end.port())));
        }
        let bare = text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(text);
        let (addr, bits) = match bare.split_once('/') {
            Some((addr, bits)) => (addr, Some(bits)),
            None => (bare, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| {
            format!("{text:?} is no address (ADDR, ADDR/BITS, ADDR:PORT or [IPv6]:PORT)")
        })?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match bits {
            None => max,
            Some(bits) => match bits.parse::<u8>() {
                Ok(b) if b <= max => b,
                _ => return Err(format!("{text:?}: a prefix is 0 to {max} bits")),
            },
        };
        Ok(HostPick {
            addr,
            prefix,
            port: None,
        })
    }

    fn address(addr: IpAddr, port: Option<u16>) -> Self {
        let prefix = if addr.is_ipv4() { 32 } else { 128 };
        HostPick { addr, prefix, port }
    }

    fn picks(&self, end: SocketAddr) -> bool {
        let within = match (self.addr, end.ip()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        };
        within && self.port.is_none_or(|p| p == end.port())
    }
}

/// `--conn`'s `3-7,12`: one index or an inclusive range.
pub fn conn_range(text: &str) -> Result<RangeInclusive<u64>, String> {
    let number = |t: &str| {
        t.trim()
            .parse::<u64>()
            .map_err(|_| format!("{text:?} is no connection index or range (N or N-M)"))
    };
    let (first, last) = match text.split_once('-') {
        Some((a, b)) => (number(a)?, number(b)?),
        None => (number(text)?, number(text)?),
    };
    if first > last {
        return Err(format!("{text:?}: a range goes up (N-M with N <= M)"));
    }
    Ok(first..=last)
}

/// What a connection must be to be shown, known at its record: every list empty and
/// `problems` false shows all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnPick {
    /// Only connections that are not clean (`--problems`).
    pub problems: bool,
    /// Zeek `conn_state` codes (`--state`).
    pub states: Vec<String>,
    pub handshakes: Vec<Handshake>,
    pub teardowns: Vec<Teardown>,
    pub closed_by: Vec<Side>,
    /// Analysis flags, any of which a segment of the connection must have (`--flag`).
    pub flags: u16,
}

impl ConnPick {
    pub fn is_set(&self) -> bool {
        *self != ConnPick::default()
    }

    pub fn keeps(&self, c: &ConnectionRecord) -> bool {
        (!self.problems || is_problem(c))
            && (self.states.is_empty()
                || c.conn_state
                    .is_some_and(|s| self.states.iter().any(|p| p == s)))
            && (self.handshakes.is_empty() || self.handshakes.contains(&c.handshake))
            && (self.teardowns.is_empty() || self.teardowns.contains(&c.teardown))
            && (self.closed_by.is_empty()
                || c.closed_by.is_some_and(|s| self.closed_by.contains(&s)))
            && (self.flags == 0 || c.analysis.has(self.flags))
    }
}

/// Not clean: an opening not completed, a close other than by FINs both ways, an analysis
/// flag that says something went wrong, or a note.
pub fn is_problem(c: &ConnectionRecord) -> bool {
    let closed = matches!(
        c.teardown,
        Teardown::FourWay | Teardown::ThreeWay | Teardown::Simultaneous
    );
    c.handshake != Handshake::Complete || !closed || c.analysis.troubling() || !c.notes.is_empty()
}

/// `--handshake`'s names.
pub fn handshake(name: &str) -> Result<Handshake, String> {
    by_name(name, &Handshake::ALL, |h| h.name())
}

/// `--teardown`'s names.
pub fn teardown(name: &str) -> Result<Teardown, String> {
    by_name(name, &Teardown::ALL, |t| t.name())
}

/// `--closed-by`'s names.
pub fn side(name: &str) -> Result<Side, String> {
    by_name(name, &[Side::Client, Side::Server], |s| match s {
        Side::Client => "client",
        Side::Server => "server",
    })
}

/// `--flag`'s names: Wireshark's analysis flags as JSON writes them.
pub fn flag(name: &str) -> Result<u16, String> {
    Analysis::flag(name.trim()).ok_or_else(|| {
        let names: Vec<&str> = Analysis(u16::MAX).names().collect();
        format!("unknown flag; one of: {}", names.join(", "))
    })
}

fn by_name<T: Copy>(
    name: &str,
    all: &[T],
    name_of: impl Fn(T) -> &'static str,
) -> Result<T, String> {
    let name = name.trim();
    all.iter()
        .copied()
        .find(|&v| name_of(v) == name)
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|&v| name_of(v)).collect();
            format!("one of: {}", names.join(", "))
        })
}

/// Every list empty: everything is shown.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub conns: Vec<RangeInclusive<u64>>,
    pub ports: Vec<u16>,
    pub hosts: Vec<HostPick>,
    pub roles: Vec<RolePick>,
    pub connections: ConnPick,
}

impl Filter {
    /// Whether anything is to be left out.
    pub fn is_set(&self) -> bool {
        *self != Filter::default()
    }

    pub fn keeps(&self, record: &Record) -> bool {
        match record {
            Record::Segment(s) => {
                self.keeps_conn(s.conn, s.src.0, s.dst.0)
                    && (self.roles.is_empty() || self.roles.iter().any(|r| r.picks(s)))
            }
            Record::Connection(c) => {
                self.keeps_conn(c.conn, c.client.0, c.server.0) && self.connections.keeps(c)
            }
        }
    }

    /// The ends are made addresses only for a host to pick (every record passes here).
    fn keeps_conn(&self, conn: u64, a: Addr, b: Addr) -> bool {
        (self.conns.is_empty() || self.conns.iter().any(|r| r.contains(&conn)))
            && (self.ports.is_empty() || self.ports.iter().any(|&p| p == a.port() || p == b.port()))
            && (self.hosts.is_empty() || {
                let (a, b) = (a.socket(), b.socket());
                self.hosts.iter().any(|h| h.picks(a) || h.picks(b))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_name_parses_back() {
        let names: Vec<&str> = RolePick::names().collect();
        assert_eq!(names.len(), Role::ALL.len() + 2);
        for name in names {
            let pick = RolePick::parse(name).expect("a role");
            if let RolePick::Role(role) = pick {
                assert_eq!(role.name(), name);
            }
        }
        assert_eq!(RolePick::parse("synack"), None);
        // As the tables spell them.
        assert_eq!(
            RolePick::parse("SYN-ACK"),
            Some(RolePick::Role(Role::SynAck))
        );
        assert_eq!(
            RolePick::parse("final ACK"),
            Some(RolePick::Role(Role::FinalAck))
        );
        assert_eq!(
            RolePick::parse("Final_Ack"),
            Some(RolePick::Role(Role::FinalAck))
        );
    }

    #[test]
    fn hosts_are_taken_as_synfin_prints_them_and_as_prefixes() {
        let end = |t: &str| t.parse::<SocketAddr>().expect("an end");
        let picks = |pick: &str, e: &str| HostPick::parse(pick).expect(pick).picks(end(e));
        assert!(picks("127.0.0.1:50186", "127.0.0.1:50186"));
        assert!(!picks("127.0.0.1:50186", "127.0.0.1:40110"));
        assert!(picks("127.0.0.1", "127.0.0.1:40110"));
        assert!(picks("127.0.0.0/8", "127.4.5.6:1"));
        assert!(!picks("127.0.0.0/8", "10.0.0.1:1"));
        assert!(picks("0.0.0.0/0", "10.0.0.1:1"));
        assert!(picks("[::1]", "[::1]:80"));
        assert!(picks("[::1]:80", "[::1]:80"));
        assert!(!picks("[::1]:80", "[::1]:81"));
        assert!(picks("2001:db8::/32", "[2001:db8::7]:443"));
        assert!(!picks("::1", "127.0.0.1:80"));
        for bad in ["localhost", "127.0.0.1/33", "::1/129", "1.2.3"] {
            assert!(HostPick::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn connections_are_taken_one_by_one_or_in_ranges() {
        assert_eq!(conn_range("3-7"), Ok(3..=7));
        assert_eq!(conn_range("12"), Ok(12..=12));
        assert!(conn_range("7-3").is_err());
        assert!(conn_range("x").is_err());
    }

    #[test]
    fn fin_and_rst_take_their_ack_forms() {
        use crate::annotate::{Analysis, DirName, Endpoint, FlagNames, StateName};
        use crate::decode::TcpFlags;
        use crate::track::{Dir, State};
        let seg = |role| SegmentRecord {
            frame: 1,
            time: 0.0,
            ts: crate::capture::Timestamp(0),
            conn: 0,
            dir: DirName(Dir::C2S),
            src: Endpoint("127.0.0.1:1".parse().expect("address")),
            dst: Endpoint("127.0.0.1:2".parse().expect("address")),
            flags: FlagNames(TcpFlags(0)),
            seq: 0,
            ack: None,
            abs_seq: 0,
            abs_ack: None,
            len: 0,
            win: 0,
            role,
            step: None,
            client_state: StateName(State::Established),
            server_state: StateName(State::Established),
            analysis: Analysis::default(),
            dup_ack: None,
            preview: crate::decode::Preview::EMPTY,
        };
        let fin = RolePick::parse("fin").expect("fin");
        assert!(fin.picks(&seg(Role::Fin)) && fin.picks(&seg(Role::FinAck)));
        let rst = RolePick::parse("rst").expect("rst");
        assert!(rst.picks(&seg(Role::Rst)) && rst.picks(&seg(Role::RstAck)));
        let fin_ack = RolePick::parse("fin-ack").expect("fin-ack");
        assert!(!fin_ack.picks(&seg(Role::Fin)));
    }
}
