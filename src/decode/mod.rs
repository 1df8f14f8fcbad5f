//! Decode layer: link header → IP → TCP, for the link types of loopback and LAN captures.
//!
//! `etherparse` reads Ethernet, VLAN tags, IPv4 with options and IPv6 with extension headers;
//! the link headers it has no lax entry point for (BSD NULL/LOOP, Linux SLL and SLL2) are
//! a few bytes each and are read here.

mod link;
mod seq;
mod tunnel;

pub use seq::Seq;

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use etherparse::{
    IpNumber, LaxNetSlice, LaxSlicedPacket, TcpOptionElement, TcpSlice, TransportSlice,
};

use crate::capture::{Frame, Linktype};
use link::Next;

/// TCP header flags, bit positions as on the wire (AE is the former NS bit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    pub const FIN: u16 = 0x001;
    pub const SYN: u16 = 0x002;
    pub const RST: u16 = 0x004;
    pub const PSH: u16 = 0x008;
    pub const ACK: u16 = 0x010;
    pub const URG: u16 = 0x020;
    pub const ECE: u16 = 0x040;
    pub const CWR: u16 = 0x080;
    pub const AE: u16 = 0x100;

    /// Names in the order of Wireshark's Info column.
    const NAMES: [(u16, &'static str); 9] = [
        (Self::FIN, "FIN"),
        (Self::SYN, "SYN"),
        (Self::RST, "RST"),
        (Self::PSH, "PSH"),
        (Self::ACK, "ACK"),
        (Self::URG, "URG"),
        (Self::ECE, "ECE"),
        (Self::CWR, "CWR"),
        (Self::AE, "AE"),
    ];

    pub fn has(self, flag: u16) -> bool {
        self.0 & flag != 0
    }
    pub fn syn(self) -> bool {
        self.has(Self::SYN)
    }
    pub fn ack(self) -> bool {
        self.has(Self::ACK)
    }
    pub fn fin(self) -> bool {
        self.has(Self::FIN)
    }
    pub fn rst(self) -> bool {
        self.has(Self::RST)
    }

    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .into_iter()
            .filter(move |(bit, _)| self.has(*bit))
            .map(|(_, name)| name)
    }
}

/// A TCP segment as seen on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: Seq,
    pub ack: Seq,
    pub flags: TcpFlags,
    /// Raw window field, before any scaling.
    pub window: u16,
    /// Shift count of a Window Scale option, when the segment carries one.
    pub window_scale: Option<u8>,
    /// Payload length the IP header claims, also when the snap length cut the bytes.
    pub len: u32,
}

/// Why a frame yields no segment. Each is counted; none stops the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Skip {
    /// IP, but not TCP (UDP, ICMP, …).
    NotTcp,
    /// Not IP at all (ARP, LLDP, …).
    NotIp,
    /// A fragment of a larger IP datagram: counted, not reassembled.
    IpFragment,
    UnsupportedLinktype(Linktype),
    /// The frame ends inside the named header.
    Truncated(Layer),
    /// The named header holds values no stack would send.
    Malformed(Layer),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    Link,
    Ip,
    Tcp,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Link => "link-layer",
            Layer::Ip => "IP",
            Layer::Tcp => "TCP",
        })
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::NotTcp => f.write_str("IP but not TCP"),
            Skip::NotIp => f.write_str("not IP"),
            Skip::IpFragment => f.write_str("IP fragments (not reassembled)"),
            Skip::UnsupportedLinktype(lt) => write!(f, "link type {lt} not supported"),
            Skip::Truncated(layer) => write!(f, "{layer} header cut short"),
            Skip::Malformed(layer) => write!(f, "malformed {layer} header"),
        }
    }
}

/// Encapsulations within encapsulations beyond this are taken for hostile input.
const MAX_NESTING: u8 = 16;
const IP_IN_IP: IpNumber = IpNumber(4);
const IPV6_IN_IP: IpNumber = IpNumber(41);

/// Decodes one frame down to its TCP segment.
pub fn decode(frame: &Frame<'_>) -> Result<Segment, Skip> {
    let mut next = link::strip(frame.linktype, frame.data)?;
    // Bytes the snap length cut off: an IP length may claim these, but no more.
    let missing = usize::try_from(frame.orig_len)
        .unwrap_or(usize::MAX)
        .saturating_sub(frame.data.len());
    for _ in 0..MAX_NESTING {
        let packet = match next {
            Next::Ethernet(data) => {
                LaxSlicedPacket::from_ethernet(data).map_err(|_| Skip::Truncated(Layer::Link))?
            }
            Next::Ether(ether_type, data) => LaxSlicedPacket::from_ether_type(ether_type, data),
            Next::Ip(data) => {
                LaxSlicedPacket::from_ip(data).map_err(|_| Skip::Truncated(Layer::Ip))?
            }
        };
        next = match inner(&packet, missing)? {
            Inner::Tcp(segment) => return Ok(segment),
            Inner::Next(n) => n,
        };
    }
    Err(Skip::Malformed(Layer::Link))
}

enum Inner<'a> {
    Tcp(Segment),
    Next(Next<'a>),
}

/// The TCP segment in a sliced packet, or the encapsulated packet to look into next.
fn inner<'a>(packet: &LaxSlicedPacket<'a>, missing: usize) -> Result<Inner<'a>, Skip> {
    if packet.net.is_none()
        && let Some(ether) = packet.ether_payload()
        && packet.stop_err.is_none()
    {
        return tunnel::ether_payload(ether.ether_type, ether.payload).map(Inner::Next);
    }
    let Some(payload) = packet.ip_payload() else {
        return tcp_in(packet, missing).map(Inner::Tcp);
    };
    if payload.fragmented {
        return Err(Skip::IpFragment);
    }
    match payload.ip_number {
        IpNumber::TCP => tcp_in(packet, missing).map(Inner::Tcp),
        IpNumber::UDP => match &packet.transport {
            Some(TransportSlice::Udp(udp)) => {
                match tunnel::udp(udp.source_port(), udp.destination_port(), udp.payload()) {
                    Some(next) => next.map(Inner::Next),
                    None => Err(Skip::NotTcp),
                }
            }
            _ => Err(Skip::NotTcp),
        },
        IpNumber::GRE => tunnel::gre(payload.payload).map(Inner::Next),
        IP_IN_IP | IPV6_IN_IP => Ok(Inner::Next(Next::Ip(payload.payload))),
        _ => Err(Skip::NotTcp),
    }
}

fn tcp_in(packet: &LaxSlicedPacket<'_>, missing: usize) -> Result<Segment, Skip> {
    // Addresses, and the payload length the IP header claims (used when the bytes were cut).
    let (src_ip, dst_ip, header_claim): (IpAddr, IpAddr, usize) = match &packet.net {
        Some(LaxNetSlice::Ipv4(ip)) => {
            let h = ip.header();
            let claim = usize::from(h.total_len()).saturating_sub(h.slice().len());
            (h.source_addr().into(), h.destination_addr().into(), claim)
        }
        Some(LaxNetSlice::Ipv6(ip)) => {
            let h = ip.header();
            let claim =
                usize::from(h.payload_length()).saturating_sub(ip.extensions().slice().len());
            (h.source_addr().into(), h.destination_addr().into(), claim)
        }
        Some(LaxNetSlice::Arp(_)) => return Err(Skip::NotIp),
        None => {
            return Err(match &packet.stop_err {
                Some((_, etherparse::err::Layer::Ethernet2Header)) => Skip::Truncated(Layer::Link),
                Some((etherparse::err::packet::SliceError::Len(_), _)) => {
                    Skip::Truncated(Layer::Ip)
                }
                Some(_) => Skip::Malformed(Layer::Ip),
                None => Skip::NotIp,
            });
        }
    };
    let Some(payload) = packet.ip_payload() else {
        return Err(Skip::NotIp);
    };
    let claimed_len = if payload.incomplete {
        header_claim
    } else {
        payload.payload.len()
    };
    // Like Wireshark, trust the IP length only as far as the frame on the wire reached.
    let claimed_len = claimed_len.min(payload.payload.len().saturating_add(missing));
    if payload.ip_number != IpNumber::TCP {
        return Err(Skip::NotTcp);
    }
    if payload.fragmented {
        return Err(Skip::IpFragment);
    }
    let tcp = TcpSlice::from_slice(payload.payload).map_err(|e| match e {
        etherparse::err::tcp::HeaderSliceError::Len(_) => Skip::Truncated(Layer::Tcp),
        etherparse::err::tcp::HeaderSliceError::Content(_) => Skip::Malformed(Layer::Tcp),
    })?;
    let header_len = tcp.header_slice().len();
    let window_scale = tcp.options_iterator().find_map(|opt| match opt {
        Ok(TcpOptionElement::WindowScale(shift)) => Some(shift),
        _ => None,
    });
    let raw = tcp.header_slice();
    let flags = raw
        .get(12..14)
        .map(|b| u16::from_be_bytes([b[0], b[1]]) & 0x01ff)
        .unwrap_or_default();
    Ok(Segment {
        src: SocketAddr::new(src_ip, tcp.source_port()),
        dst: SocketAddr::new(dst_ip, tcp.destination_port()),
        seq: Seq(tcp.sequence_number()),
        ack: Seq(tcp.acknowledgment_number()),
        flags: TcpFlags(flags),
        window: tcp.window_size(),
        window_scale,
        len: u32::try_from(claimed_len.saturating_sub(header_len)).unwrap_or(u32::MAX),
    })
}
