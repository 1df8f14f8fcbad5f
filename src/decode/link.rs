//! Link-layer headers etherparse has no entry point for, each a few fixed bytes: what
//! follows them, as an EtherType, an Ethernet frame or an IP packet.

use etherparse::EtherType;

use super::{Layer, LinkDir, Skip};
use crate::capture::Linktype;

/// Where the next header starts, and what it is.
#[derive(Clone, Copy, Debug)]
pub enum Next<'a> {
    Ethernet(&'a [u8]),
    Ether(EtherType, &'a [u8]),
    /// An IP packet of either version, told by its first nibble.
    Ip(&'a [u8]),
}

pub const ETHERTYPE_TRANSPARENT_ETHERNET: u16 = 0x6558;
pub const ETHERTYPE_MPLS_UNICAST: u16 = 0x8847;
pub const ETHERTYPE_MPLS_MULTICAST: u16 = 0x8848;
pub const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
pub const ETHERTYPE_CISCO_FABRICPATH: u16 = 0x8903;

/// BSD address families meaning IPv4 and IPv6 in a NULL/LOOP header (IPv6: Linux, BSD,
/// FreeBSD, Darwin).
const AF_INET: u32 = 2;
const AF_INET6: [u32; 4] = [10, 24, 28, 30];

const LINKTYPE_PPP: Linktype = Linktype(9);
const LINKTYPE_FDDI: Linktype = Linktype(10);
const LINKTYPE_ARCNET_LINUX: Linktype = Linktype(129);
const LINKTYPE_JUNIPER_ETHER: Linktype = Linktype(178);
const LINKTYPE_NFLOG: Linktype = Linktype(239);

pub fn be16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

/// The bytes from `from` on, or a truncated link layer.
pub fn cut(data: &[u8], from: usize) -> Result<&[u8], Skip> {
    data.get(from..).ok_or(Skip::Truncated(Layer::Link))
}

/// Strips the frame's link header.
///
/// Always inlined: called out of line, its result comes back through memory and the
/// per-packet bench loses 12-14 ns a packet (82 ns against 68-71 ns, alternated).
#[inline(always)]
pub fn strip(linktype: Linktype, data: &[u8]) -> Result<Next<'_>, Skip> {
    Ok(match linktype {
        Linktype::ETHERNET => Next::Ethernet(data),
        Linktype::NULL | Linktype::LOOP => {
            let family: [u8; 4] = data
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .ok_or(Skip::Truncated(Layer::Link))?;
            let family = if linktype == Linktype::LOOP {
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
            match family {
                AF_INET => Next::Ether(EtherType::IPV4, cut(data, 4)?),
                f if AF_INET6.contains(&f) => Next::Ether(EtherType::IPV6, cut(data, 4)?),
                _ => return Err(Skip::NotIp),
            }
        }
        // Linux cooked v1: 16 bytes, the protocol (an EtherType) in the last two.
        Linktype::LINUX_SLL => Next::Ether(ether_type_at(data, 14)?, cut(data, 16)?),
        // Linux cooked v2: 20 bytes, the protocol (an EtherType) in the first two.
        Linktype::LINUX_SLL2 => Next::Ether(ether_type_at(data, 0)?, cut(data, 20)?),
        Linktype(12) | Linktype(14) | Linktype::RAW | Linktype::IPV4 | Linktype::IPV6 => {
            Next::Ip(data)
        }
        LINKTYPE_PPP => ppp(data)?,
        // Frame control, two addresses, then 802.2 LLC/SNAP.
        LINKTYPE_FDDI => llc_snap(cut(data, 13)?)?,
        LINKTYPE_ARCNET_LINUX => arcnet(data)?,
        LINKTYPE_JUNIPER_ETHER => juniper(data)?,
        LINKTYPE_NFLOG => nflog(data)?,
        other => return Err(Skip::UnsupportedLinktype(other)),
    })
}

/// The direction the link header records: Linux cooked headers carry the packet type
/// (`PACKET_OUTGOING` for what the host sent; host, broadcast, multicast or another host's
/// for what it received), at byte 0 of SLL (16 bits) and byte 10 of SLL2.
pub fn direction(linktype: Linktype, data: &[u8]) -> LinkDir {
    const PACKET_OUTGOING: u16 = 4;
    let packet_type = match linktype {
        Linktype::LINUX_SLL => be16(data, 0),
        Linktype::LINUX_SLL2 => data.get(10).map(|&t| u16::from(t)),
        _ => None,
    };
    match packet_type {
        Some(PACKET_OUTGOING) => LinkDir::Outgoing,
        Some(0..=3) => LinkDir::Incoming,
        _ => LinkDir::Unknown,
    }
}

fn ether_type_at(data: &[u8], at: usize) -> Result<EtherType, Skip> {
    be16(data, at)
        .map(EtherType)
        .ok_or(Skip::Truncated(Layer::Link))
}

/// PPP (RFC 1661), with or without the HDLC address and control bytes.
pub fn ppp(data: &[u8]) -> Result<Next<'_>, Skip> {
    let data = if data.starts_with(&[0xff, 0x03]) {
        cut(data, 2)?
    } else {
        data
    };
    let protocol = be16(data, 0).ok_or(Skip::Truncated(Layer::Link))?;
    let rest = cut(data, 2)?;
    match protocol {
        0x0021 => Ok(Next::Ether(EtherType::IPV4, rest)),
        0x0057 => Ok(Next::Ether(EtherType::IPV6, rest)),
        0x0281 => Ok(Next::Ether(EtherType(ETHERTYPE_MPLS_UNICAST), rest)),
        0x0283 => Ok(Next::Ether(EtherType(ETHERTYPE_MPLS_MULTICAST), rest)),
        _ => Err(Skip::NotIp),
    }
}

/// 802.2 LLC with a SNAP header carrying an EtherType.
fn llc_snap(data: &[u8]) -> Result<Next<'_>, Skip> {
    match data.get(..3) {
        Some([0xaa, 0xaa, 0x03]) => Ok(Next::Ether(ether_type_at(data, 6)?, cut(data, 8)?)),
        Some(_) => Err(Skip::NotIp),
        None => Err(Skip::Truncated(Layer::Link)),
    }
}

/// Linux ARCnet: source, destination, two offset bytes, then the protocol id; RFC 1201
/// adds a split flag and a sequence number.
fn arcnet(data: &[u8]) -> Result<Next<'_>, Skip> {
    match data.get(4) {
        Some(0xf0) => Ok(Next::Ether(EtherType::IPV4, cut(data, 5)?)),
        Some(0xd4) => Ok(Next::Ether(EtherType::IPV4, cut(data, 8)?)),
        Some(_) => Err(Skip::NotIp),
        None => Err(Skip::Truncated(Layer::Link)),
    }
}

/// Juniper's "MGC" pseudo-header: magic, flags, optional extensions, then Ethernet.
fn juniper(data: &[u8]) -> Result<Next<'_>, Skip> {
    if !data.starts_with(b"MGC") {
        return Err(Skip::Malformed(Layer::Link));
    }
    let flags = *data.get(3).ok_or(Skip::Truncated(Layer::Link))?;
    let mut at = 4;
    if flags & 0x80 != 0 {
        at += 2 + usize::from(be16(data, 4).ok_or(Skip::Truncated(Layer::Link))?);
    }
    // JUNIPER_FLAG_NO_L2: an IP packet follows at once.
    if flags & 0x02 != 0 {
        return Ok(Next::Ip(cut(data, at)?));
    }
    Ok(Next::Ethernet(cut(data, at)?))
}

/// Linux NFLOG: a 4-byte header, then type-length-value attributes (lengths in host byte
/// order, padded to 4); type 9 holds the packet.
fn nflog(data: &[u8]) -> Result<Next<'_>, Skip> {
    const NFULA_PAYLOAD: u16 = 9;
    let family = *data.first().ok_or(Skip::Truncated(Layer::Link))?;
    let mut at = 4;
    while let (Some(len), Some(kind)) = (data.get(at..at + 2), data.get(at + 2..at + 4)) {
        let len = usize::from(u16::from_le_bytes([len[0], len[1]]));
        let kind = u16::from_le_bytes([kind[0], kind[1]]);
        if len < 4 {
            return Err(Skip::Malformed(Layer::Link));
        }
        if kind == NFULA_PAYLOAD {
            let payload = data
                .get(at + 4..at + len)
                .ok_or(Skip::Truncated(Layer::Link))?;
            return match u32::from(family) {
                AF_INET => Ok(Next::Ether(EtherType::IPV4, payload)),
                f if AF_INET6.contains(&f) => Ok(Next::Ether(EtherType::IPV6, payload)),
                _ => Err(Skip::NotIp),
            };
        }
        at += len.div_ceil(4) * 4;
    }
    Err(Skip::NotIp)
}
