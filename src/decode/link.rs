//! Link-layer headers: what a capture's link type puts before the first header etherparse
//! reads, each a few bytes. Every function here is named by `encap`'s table; each says what
//! follows its header.

use etherparse::EtherType;

use super::{Layer, LinkDir, Skip, Stop, encap};
use crate::capture::Linktype;

/// Where the next header starts, and what it is.
#[derive(Clone, Copy, Debug)]
pub enum Next<'a> {
    Ethernet(&'a [u8]),
    Ether(EtherType, &'a [u8]),
    /// An IP packet of either version, told by its first nibble.
    Ip(&'a [u8]),
    /// An 802.11 frame (tunnelled by access points).
    Wifi(&'a [u8]),
}

/// A frame of the link type a header names (PKTAP's and PPI's), never one of those two
/// again: their nesting is bounded without a counter. (The link type is not a `Next`
/// variant: a 4-byte field among `Next`'s slices makes the compiler write the Ethernet
/// variant's pointer in two halves and read it whole, a stall that cost the per-packet
/// loop 11 ns a frame in the bench.)
pub fn inner_link(linktype: u32, data: &[u8]) -> Result<Next<'_>, Skip> {
    const PPI: u32 = 192;
    const PKTAP: u32 = 258;
    if linktype == PPI || linktype == PKTAP {
        return Err(Skip::Malformed(Layer::Link));
    }
    encap::link_type(linktype, data).unwrap_or(Err(Skip::at(Stop::LinkType, linktype)))
}

/// BSD address families meaning IPv4 and IPv6 in a NULL/LOOP header (IPv6: Linux, BSD,
/// FreeBSD, Darwin).
const AF_INET: u32 = 2;
const AF_INET6: [u32; 4] = [10, 24, 28, 30];

pub fn be16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

pub fn le16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

pub fn le32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

pub fn be32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

/// The bytes from `from` on, or a truncated link layer.
pub fn cut(data: &[u8], from: usize) -> Result<&[u8], Skip> {
    data.get(from..).ok_or(Skip::Truncated(Layer::Link))
}

/// A byte of the link header, or a truncated link layer.
pub fn byte(data: &[u8], at: usize) -> Result<u8, Skip> {
    data.get(at).copied().ok_or(Skip::Truncated(Layer::Link))
}

pub fn truncated<T>(value: Option<T>) -> Result<T, Skip> {
    value.ok_or(Skip::Truncated(Layer::Link))
}

/// Strips the frame's link header (the common ones are read faster by `fast`).
pub fn strip(linktype: Linktype, data: &[u8]) -> Result<Next<'_>, Skip> {
    encap::link_type(linktype.0, data).unwrap_or(Err(Skip::at(Stop::LinkType, linktype.0)))
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

/// The EtherType of a BSD address family's packets, when they are IP.
pub fn family_ether_type(family: u32) -> Option<EtherType> {
    match family {
        AF_INET => Some(EtherType::IPV4),
        f if AF_INET6.contains(&f) => Some(EtherType::IPV6),
        _ => None,
    }
}

/// An IP packet after a BSD address family.
fn family(family: u32, rest: &[u8]) -> Result<Next<'_>, Skip> {
    match family_ether_type(family) {
        Some(ether_type) => Ok(Next::Ether(ether_type, rest)),
        None => Err(Skip::at(Stop::Family, family)),
    }
}

/// The address family of a BSD NULL header (in the capturing host's byte order) or an
/// OpenBSD LOOP one (in network byte order).
pub fn bsd_family(linktype: Linktype, data: &[u8]) -> Option<u32> {
    if linktype == Linktype::LOOP {
        return be32(data, 0);
    }
    let v = le32(data, 0)?;
    Some(if v & 0xffff_0000 != 0 {
        v.swap_bytes()
    } else {
        v
    })
}

/// BSD NULL: the family in the capturing host's byte order.
pub fn null(data: &[u8]) -> Result<Next<'_>, Skip> {
    family(truncated(bsd_family(Linktype::NULL, data))?, cut(data, 4)?)
}

/// OpenBSD LOOP: the family in network byte order.
pub fn loop_(data: &[u8]) -> Result<Next<'_>, Skip> {
    family(truncated(bsd_family(Linktype::LOOP, data))?, cut(data, 4)?)
}

/// Linux cooked v1: 16 bytes, the protocol (an EtherType) in the last two.
pub fn sll(data: &[u8]) -> Result<Next<'_>, Skip> {
    Ok(Next::Ether(
        EtherType(truncated(be16(data, 14))?),
        cut(data, 16)?,
    ))
}

/// Linux cooked v2: 20 bytes, the protocol (an EtherType) in the first two.
pub fn sll2(data: &[u8]) -> Result<Next<'_>, Skip> {
    Ok(Next::Ether(
        EtherType(truncated(be16(data, 0))?),
        cut(data, 20)?,
    ))
}

/// Apple's PKTAP: a header whose length is its first field, then a frame of the link type
/// (a DLT) it names; only packet records carry one.
pub fn pktap(data: &[u8]) -> Result<Next<'_>, Skip> {
    const PTH_TYPE_PACKET: u32 = 1;
    let length = truncated(le32(data, 0))?;
    if truncated(le32(data, 4))? != PTH_TYPE_PACKET {
        return Err(Skip::NotIp);
    }
    let dlt = truncated(le32(data, 8))?;
    let length = usize::try_from(length).map_err(|_| Skip::Malformed(Layer::Link))?;
    if length < 12 {
        return Err(Skip::Malformed(Layer::Link));
    }
    inner_link(dlt, cut(data, length)?)
}

/// PPP (RFC 1661), with or without the HDLC address and control bytes, its protocol field
/// two bytes or, compressed, one (an odd first byte).
pub fn ppp(data: &[u8]) -> Result<Next<'_>, Skip> {
    let data = if data.starts_with(&[0xff, 0x03]) {
        cut(data, 2)?
    } else {
        data
    };
    let (protocol, rest) = if byte(data, 0)? & 0x01 != 0 {
        (u16::from(byte(data, 0)?), cut(data, 1)?)
    } else {
        (truncated(be16(data, 0))?, cut(data, 2)?)
    };
    encap::ppp_protocol(protocol, rest).unwrap_or(Err(Skip::at(Stop::PppProtocol, protocol)))
}

/// Cisco HDLC: address (unicast or multicast), control, then an EtherType.
pub fn chdlc(data: &[u8]) -> Result<Next<'_>, Skip> {
    Ok(Next::Ether(
        EtherType(truncated(be16(data, 2))?),
        cut(data, 4)?,
    ))
}

/// The PPP link type also holds Cisco HDLC frames, told by their address byte.
pub fn ppp_or_chdlc(data: &[u8]) -> Result<Next<'_>, Skip> {
    match byte(data, 0)? {
        0x0f | 0x8f => chdlc(data),
        _ => ppp(data),
    }
}

pub fn ppp_with_dir(data: &[u8]) -> Result<Next<'_>, Skip> {
    ppp_or_chdlc(cut(data, 1)?)
}

/// RFC 2516: 6 bytes of PPPoE, then the PPP protocol.
pub fn pppoe(data: &[u8]) -> Result<Next<'_>, Skip> {
    ppp(cut(data, 6)?)
}

/// Frame Relay: a Q.922 address (its last byte has the low bit set), then either RFC 2427's
/// UI control byte and NLPID (IP, or SNAP) or Cisco's EtherType.
pub fn frame_relay(data: &[u8]) -> Result<Next<'_>, Skip> {
    let mut at = 0;
    while byte(data, at)? & 0x01 == 0 {
        at += 1;
        if at >= 4 {
            return Err(Skip::Malformed(Layer::Link));
        }
    }
    at += 1;
    if byte(data, at)? != 0x03 {
        return Ok(Next::Ether(
            EtherType(truncated(be16(data, at))?),
            cut(data, at + 2)?,
        ));
    }
    at += 1;
    if byte(data, at)? == 0x00 {
        at += 1; // padding before the NLPID
    }
    match byte(data, at)? {
        0xcc | 0x8e => Ok(Next::Ip(cut(data, at + 1)?)),
        0x80 => snap(cut(data, at + 1)?),
        // Q.933 signalling (0x08) and the rest.
        nlpid => Err(Skip::at(Stop::FrameRelayNlpid, nlpid)),
    }
}

/// 802.2 LLC: SNAP carries an EtherType; SAP 6 carries IPv4 itself.
pub fn llc(data: &[u8]) -> Result<Next<'_>, Skip> {
    match (byte(data, 0)?, byte(data, 1)?) {
        (0xaa, 0xaa) if byte(data, 2)? == 0x03 => snap(cut(data, 3)?),
        (0x06, 0x06) => Ok(Next::Ip(cut(data, 3)?)),
        // Spanning tree, IPX (and Novell's raw 802.3), NetBIOS, OSI: no IP inside.
        (0x42 | 0xe0 | 0xff | 0xf0 | 0xfe, _) => Err(Skip::NotIp),
        (sap, _) => Err(Skip::at(Stop::LlcSap, sap)),
    }
}

/// A SNAP header: an OUI, then what it names. OUI 0 (and 00-00-f8) name an EtherType;
/// 802.1's (00-80-c2) carries bridged Ethernet, with or without its FCS, after 2 pad bytes.
fn snap(data: &[u8]) -> Result<Next<'_>, Skip> {
    let oui: [u8; 3] = truncated(data.get(..3).and_then(|b| b.try_into().ok()))?;
    let pid = truncated(be16(data, 3))?;
    match (oui, pid) {
        ([0, 0, 0] | [0, 0, 0xf8], _) => Ok(Next::Ether(EtherType(pid), cut(data, 5)?)),
        ([0, 0x80, 0xc2], 0x0001 | 0x0007) => Ok(Next::Ethernet(cut(data, 7)?)),
        // Cisco's (CDP, VTP, DTP, PVST): no IP inside.
        ([0, 0, 0x0c], _) => Err(Skip::NotIp),
        ([a, b, c], _) => Err(Skip::at(Stop::SnapOui, u32::from_be_bytes([0, a, b, c]))),
    }
}

/// Frame control, two addresses, then 802.2 LLC.
pub fn fddi(data: &[u8]) -> Result<Next<'_>, Skip> {
    llc(cut(data, 13)?)
}

/// Access and frame control, two addresses, a source route when the source's top bit says
/// so, then 802.2 LLC; MAC frames carry no IP.
pub fn token_ring(data: &[u8]) -> Result<Next<'_>, Skip> {
    if byte(data, 1)? & 0xc0 != 0x40 {
        return Err(Skip::NotIp);
    }
    let route = if byte(data, 8)? & 0x80 != 0 {
        usize::from(byte(data, 14)? & 0x1f)
    } else {
        0
    };
    llc(cut(data, 14 + route)?)
}

/// ARCnet's protocol id at `at`: RFC 1051 IP follows it at once; RFC 1201 adds a split flag
/// and a sequence number.
fn arcnet(data: &[u8], at: usize) -> Result<Next<'_>, Skip> {
    match byte(data, at)? {
        0xf0 => Ok(Next::Ether(EtherType::IPV4, cut(data, at + 1)?)),
        0xd4 => Ok(Next::Ether(EtherType::IPV4, cut(data, at + 4)?)),
        _ => Err(Skip::NotIp),
    }
}

/// BSD ARCnet: source, destination, then the protocol id.
pub fn arcnet_bsd(data: &[u8]) -> Result<Next<'_>, Skip> {
    arcnet(data, 2)
}

/// Linux ARCnet: source, destination, two offset bytes, then the protocol id.
pub fn arcnet_linux(data: &[u8]) -> Result<Next<'_>, Skip> {
    arcnet(data, 4)
}

/// RFC 2625: two 8-byte Network_Headers, then 802.2 LLC/SNAP.
pub fn ip_over_fc(data: &[u8]) -> Result<Next<'_>, Skip> {
    llc(cut(data, 16)?)
}

/// Apple's IP over FireWire: two EUI-64s, then an EtherType.
pub fn ieee1394(data: &[u8]) -> Result<Next<'_>, Skip> {
    Ok(Next::Ether(
        EtherType(truncated(be16(data, 16))?),
        cut(data, 18)?,
    ))
}

/// DOCSIS: a packet PDU's MAC header (6 bytes and its extended header) before an Ethernet
/// frame; other frame types are the cable MAC's own. A header whose checksum (HCS) is wrong
/// is not trusted, as Wireshark does not trust it.
pub fn docsis(data: &[u8]) -> Result<Next<'_>, Skip> {
    let fc = byte(data, 0)?;
    if fc >> 6 != 0 {
        return Err(Skip::NotIp);
    }
    let extended = if fc & 0x01 != 0 {
        usize::from(byte(data, 1)?)
    } else {
        0
    };
    let checked = truncated(data.get(..4 + extended))?;
    if le16(data, 4 + extended) != Some(crc16_x25(checked)) {
        return Err(Skip::Malformed(Layer::Link));
    }
    Ok(Next::Ethernet(cut(data, 6 + extended)?))
}

/// CRC-16/X-25 (reflected CCITT polynomial, initial and final 0xffff), as DOCSIS's HCS.
fn crc16_x25(data: &[u8]) -> u16 {
    let mut crc = 0xffff_u16;
    for &b in data {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x8408
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Juniper's "MGC" pseudo-header: magic, flags, optional extensions, then Ethernet.
pub fn juniper_ether(data: &[u8]) -> Result<Next<'_>, Skip> {
    if !data.starts_with(b"MGC") {
        return Err(Skip::Malformed(Layer::Link));
    }
    let flags = byte(data, 3)?;
    let mut at = 4;
    if flags & 0x80 != 0 {
        at += 2 + usize::from(truncated(be16(data, 4))?);
    }
    // JUNIPER_FLAG_NO_L2: an IP packet follows at once.
    if flags & 0x02 != 0 {
        return Ok(Next::Ip(cut(data, at)?));
    }
    Ok(Next::Ethernet(cut(data, at)?))
}

/// Endace ERF: a 16-byte record header and its extension headers (8 bytes each, chained
/// by their top bit), then the record: Ethernet after 2 bytes of offset and pad, IP, or
/// HDLC (PPP or Cisco HDLC).
pub fn erf(data: &[u8]) -> Result<Next<'_>, Skip> {
    let kind = byte(data, 8)?;
    let mut at = 16;
    if kind & 0x80 != 0 {
        loop {
            let more = byte(data, at)? & 0x80 != 0;
            at += 8;
            if !more {
                break;
            }
        }
    }
    let record = cut(data, at)?;
    match kind & 0x7f {
        2 | 11 | 16 | 20 => Ok(Next::Ethernet(cut(record, 2)?)),
        22 | 23 => Ok(Next::Ip(record)),
        1 | 10 | 15 | 19 => ppp_or_chdlc(record),
        other => Err(Skip::at(Stop::ErfType, other)),
    }
}

/// OpenBSD enc: family, SPI and flags (12 bytes), then the IP packet.
pub fn enc(data: &[u8]) -> Result<Next<'_>, Skip> {
    Ok(Next::Ip(cut(data, 12)?))
}

/// OpenBSD pflog: the header's length (rounded up to 4 bytes) is its first byte, the
/// family its second.
pub fn pflog(data: &[u8]) -> Result<Next<'_>, Skip> {
    let length = usize::from(byte(data, 0)?).div_ceil(4) * 4;
    family(u32::from(byte(data, 1)?), cut(data, length)?)
}

/// Solaris ipnet: 24 bytes, the family (IPv4 2, IPv6 26) in the second.
pub fn ipnet(data: &[u8]) -> Result<Next<'_>, Skip> {
    match byte(data, 1)? {
        2 => Ok(Next::Ether(EtherType::IPV4, cut(data, 24)?)),
        26 => Ok(Next::Ether(EtherType::IPV6, cut(data, 24)?)),
        f => Err(Skip::at(Stop::Family, f)),
    }
}

/// Linux NFLOG: a 4-byte header, then type-length-value attributes (lengths in host byte
/// order, padded to 4); type 9 holds the packet.
pub fn nflog(data: &[u8]) -> Result<Next<'_>, Skip> {
    const NFULA_PAYLOAD: u16 = 9;
    let family_byte = byte(data, 0)?;
    let mut at = 4;
    while let (Some(len), Some(kind)) = (le16(data, at), le16(data, at + 2)) {
        let len = usize::from(len);
        if len < 4 {
            return Err(Skip::Malformed(Layer::Link));
        }
        if kind == NFULA_PAYLOAD {
            return family(
                u32::from(family_byte),
                truncated(data.get(at + 4..at + len))?,
            );
        }
        at += len.div_ceil(4) * 4;
    }
    Err(Skip::NotIp)
}

/// Hilscher netANALYZER: a 4-byte little-endian status header, then Ethernet. Version 1
/// headers, and version 2 ones of type 0, hold a frame; GPIO events, buffer states and
/// time ticks do not. (Its transparent mode, with the preamble kept, Wireshark shows as
/// raw bytes: not in the table.)
pub fn netanalyzer(data: &[u8]) -> Result<Next<'_>, Skip> {
    let header = truncated(le32(data, 0))?;
    let gpio = header & 0x100 != 0;
    let (version, kind) = ((header >> 10) & 0x0f, header >> 28);
    match (gpio, version, kind) {
        (false, 1, _) | (false, 2, 0) => Ok(Next::Ethernet(cut(data, 4)?)),
        (false, 1..=2, _) | (true, ..) => Err(Skip::NotIp),
        _ => Err(Skip::Malformed(Layer::Link)),
    }
}

/// libpcap's IP over InfiniBand: a 40-byte address header (a GRH, or the destination's
/// address), then RFC 4391's 4 bytes: an EtherType, then reserved.
pub fn ipoib(data: &[u8]) -> Result<Next<'_>, Skip> {
    Ok(Next::Ether(
        EtherType(truncated(be16(data, 40))?),
        cut(data, 44)?,
    ))
}
