//! Decode layer: link header → IP → TCP, for the link types of loopback and LAN captures.
//!
//! `etherparse` reads Ethernet, VLAN tags, IPv4 with options and IPv6 with extension headers;
//! the link headers it has no lax entry point for (BSD NULL/LOOP, Linux SLL and SLL2) are
//! a few bytes each and are read here.

mod seq;

pub use seq::Seq;

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use etherparse::{EtherType, IpNumber, LaxNetSlice, LaxSlicedPacket, TcpOptionElement, TcpSlice};

use crate::capture::{Frame, Linktype};

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

/// BSD address families that mean IPv6 in a NULL/LOOP header (Linux, BSD, FreeBSD, Darwin).
const AF_INET: u32 = 2;
const AF_INET6: [u32; 4] = [10, 24, 28, 30];

/// Decodes one frame down to its TCP segment.
pub fn decode(frame: &Frame<'_>) -> Result<Segment, Skip> {
    let data = frame.data;
    let packet = match frame.linktype {
        Linktype::ETHERNET => {
            LaxSlicedPacket::from_ethernet(data).map_err(|_| Skip::Truncated(Layer::Link))?
        }
        Linktype::NULL | Linktype::LOOP => {
            let family: [u8; 4] = data
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .ok_or(Skip::Truncated(Layer::Link))?;
            let family = if frame.linktype == Linktype::LOOP {
                u32::from_be_bytes(family)
            } else {
                // Written in the capturing host's byte order.
                let v = u32::from_le_bytes(family);
                if v & 0xffff_0000 != 0 {
                    v.swap_bytes()
                } else {
                    v
                }
            };
            let ether_type = match family {
                AF_INET => EtherType::IPV4,
                f if AF_INET6.contains(&f) => EtherType::IPV6,
                _ => return Err(Skip::NotIp),
            };
            LaxSlicedPacket::from_ether_type(ether_type, data.get(4..).unwrap_or_default())
        }
        // Linux cooked v1: 16-byte header, protocol (an EtherType) in the last two bytes.
        Linktype::LINUX_SLL => from_ether_type_at(data, 14, 16)?,
        // Linux cooked v2: 20-byte header, protocol (an EtherType) in the first two bytes.
        Linktype::LINUX_SLL2 => from_ether_type_at(data, 0, 20)?,
        Linktype(12) | Linktype(14) | Linktype::RAW | Linktype::IPV4 | Linktype::IPV6 => {
            LaxSlicedPacket::from_ip(data).map_err(|_| Skip::Truncated(Layer::Ip))?
        }
        other => return Err(Skip::UnsupportedLinktype(other)),
    };
    tcp_in(&packet)
}

fn from_ether_type_at(
    data: &[u8],
    at: usize,
    header_len: usize,
) -> Result<LaxSlicedPacket<'_>, Skip> {
    let proto: [u8; 2] = data
        .get(at..at + 2)
        .and_then(|b| b.try_into().ok())
        .ok_or(Skip::Truncated(Layer::Link))?;
    let payload = data.get(header_len..).ok_or(Skip::Truncated(Layer::Link))?;
    Ok(LaxSlicedPacket::from_ether_type(
        EtherType(u16::from_be_bytes(proto)),
        payload,
    ))
}

fn tcp_in(packet: &LaxSlicedPacket<'_>) -> Result<Segment, Skip> {
    let (src_ip, dst_ip, payload, claimed_len): (IpAddr, IpAddr, _, usize) = match &packet.net {
        Some(LaxNetSlice::Ipv4(ip)) => {
            let h = ip.header();
            let payload = ip.payload();
            let claimed = if payload.incomplete {
                usize::from(h.total_len()).saturating_sub(h.slice().len())
            } else {
                payload.payload.len()
            };
            (
                h.source_addr().into(),
                h.destination_addr().into(),
                payload,
                claimed,
            )
        }
        Some(LaxNetSlice::Ipv6(ip)) => {
            let h = ip.header();
            let payload = ip.payload();
            let claimed = if payload.incomplete {
                usize::from(h.payload_length()).saturating_sub(ip.extensions().slice().len())
            } else {
                payload.payload.len()
            };
            (
                h.source_addr().into(),
                h.destination_addr().into(),
                payload,
                claimed,
            )
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
