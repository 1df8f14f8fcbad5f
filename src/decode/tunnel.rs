//! Encapsulations Wireshark looks into: what each carries. Connections inside a tunnel are
//! keyed by their inner 4-tuple, as Wireshark keys them.

use etherparse::EtherType;

use super::link::{self, Next, be16, cut};
use super::{Layer, Skip};

pub const UDP_VXLAN: u16 = 4789;
pub const UDP_GENEVE: u16 = 6081;
pub const UDP_GTP_U: u16 = 2152;
pub const UDP_AYIYA: u16 = 5072;
const UDP_TEREDO: u16 = 3544;

/// The payload of a UDP datagram between these ports, when it is a known tunnel.
pub fn udp(src_port: u16, dst_port: u16, payload: &[u8]) -> Option<Result<Next<'_>, Skip>> {
    let port = |p| src_port == p || dst_port == p;
    if port(UDP_VXLAN) {
        // RFC 7348: 8 bytes (flags, VNI), then an Ethernet frame.
        Some(cut(payload, 8).map(Next::Ethernet))
    } else if port(UDP_GENEVE) {
        Some(geneve(payload))
    } else if port(UDP_GTP_U) {
        Some(gtp_u(payload))
    } else if port(UDP_AYIYA) {
        Some(ayiya(payload))
    } else if port(UDP_TEREDO) {
        teredo(payload).map(Ok)
    } else {
        None
    }
}

/// Teredo (RFC 4380): an IPv6 packet after an optional authentication header and an
/// optional origin indication; anything else on the port is not a tunnel.
fn teredo(data: &[u8]) -> Option<Next<'_>> {
    let mut rest = data;
    if be16(rest, 0) == Some(0x0001) {
        // Client identifier and authentication value, then an 8-byte nonce and a byte.
        let id = usize::from(*rest.get(2)?);
        let auth = usize::from(*rest.get(3)?);
        rest = rest.get(4 + id + auth + 9..)?;
    }
    if be16(rest, 0) == Some(0x0000) {
        rest = rest.get(8..)?;
    }
    (rest.first()? >> 4 == 6).then_some(Next::Ip(rest))
}

/// RFC 8926: 8 bytes plus options (length in 4-byte words), protocol as an EtherType.
fn geneve(data: &[u8]) -> Result<Next<'_>, Skip> {
    let opt_words = usize::from(*data.first().ok_or(Skip::Truncated(Layer::Link))? & 0x3f);
    let protocol = be16(data, 2).ok_or(Skip::Truncated(Layer::Link))?;
    let inner = cut(data, 8 + opt_words * 4)?;
    Ok(ether(protocol, inner))
}

/// GTPv1-U (3GPP TS 29.281): a G-PDU carries an IP packet after the header and any
/// extension headers.
fn gtp_u(data: &[u8]) -> Result<Next<'_>, Skip> {
    const G_PDU: u8 = 0xff;
    let flags = *data.first().ok_or(Skip::Truncated(Layer::Link))?;
    if flags >> 5 != 1 || data.get(1) != Some(&G_PDU) {
        return Err(Skip::NotIp);
    }
    let mut at = 8;
    if flags & 0x07 != 0 {
        // Sequence number, N-PDU number, next extension header type.
        let mut next = *data.get(11).ok_or(Skip::Truncated(Layer::Link))?;
        at = 12;
        while next != 0 {
            let words = usize::from(*data.get(at).ok_or(Skip::Truncated(Layer::Link))?);
            if words == 0 {
                return Err(Skip::Malformed(Layer::Link));
            }
            at += words * 4;
            next = *data.get(at - 1).ok_or(Skip::Truncated(Layer::Link))?;
        }
    }
    Ok(Next::Ip(cut(data, at)?))
}

/// AYIYA (draft-massar-v6ops-ayiya): 8 bytes, identity and signature, then the packet
/// named by the next-header byte.
fn ayiya(data: &[u8]) -> Result<Next<'_>, Skip> {
    let (Some(id), Some(sig), Some(next)) = (data.first(), data.get(1), data.get(3)) else {
        return Err(Skip::Truncated(Layer::Link));
    };
    let id_len = 1usize << (id >> 4);
    let sig_len = usize::from(sig >> 4) * 4;
    let inner = cut(data, 8 + id_len + sig_len)?;
    match next {
        4 => Ok(Next::Ether(EtherType::IPV4, inner)),
        41 => Ok(Next::Ether(EtherType::IPV6, inner)),
        _ => Err(Skip::NotIp),
    }
}

/// GRE (RFC 2784/2890, and PPTP's version 1 of RFC 2637).
pub fn gre(data: &[u8]) -> Result<Next<'_>, Skip> {
    const PPP: u16 = 0x880b;
    const ERSPAN_2: u16 = 0x88be;
    const ERSPAN_3: u16 = 0x22eb;
    const WCCP: u16 = 0x883e;
    let flags = be16(data, 0).ok_or(Skip::Truncated(Layer::Link))?;
    let protocol = be16(data, 2).ok_or(Skip::Truncated(Layer::Link))?;
    let (checksum, key, seq, ack) = (
        flags & 0x8000 != 0,
        flags & 0x2000 != 0,
        flags & 0x1000 != 0,
        flags & 0x0080 != 0,
    );
    let version = flags & 0x0007;
    let mut at = 4;
    for present in [checksum, key, seq] {
        if present {
            at += 4;
        }
    }
    if version == 1 && ack {
        at += 4;
    }
    let inner = cut(data, at)?;
    Ok(match protocol {
        PPP => link::ppp(inner)?,
        // ERSPAN type I has no header of its own; type II has 8 bytes.
        ERSPAN_2 if !seq => Next::Ethernet(inner),
        ERSPAN_2 => Next::Ethernet(cut(inner, 8)?),
        // Type III: 12 bytes, and 8 more with the platform-specific subheader (O flag).
        ERSPAN_3 => {
            let optional = inner.get(11).is_some_and(|b| b & 0x01 != 0);
            Next::Ethernet(cut(inner, if optional { 20 } else { 12 })?)
        }
        // WCCP redirection adds 4 bytes unless the IPv4 header follows at once.
        WCCP if inner.first().is_some_and(|b| b >> 4 == 4) => Next::Ether(EtherType::IPV4, inner),
        WCCP => Next::Ether(EtherType::IPV4, cut(inner, 4)?),
        other => ether(other, inner),
    })
}

fn ether(protocol: u16, inner: &[u8]) -> Next<'_> {
    if protocol == link::ETHERTYPE_TRANSPARENT_ETHERNET {
        Next::Ethernet(inner)
    } else {
        Next::Ether(EtherType(protocol), inner)
    }
}

/// An EtherType that etherparse does not look into, when it carries something that can.
pub fn ether_payload(ether_type: EtherType, payload: &[u8]) -> Result<Next<'_>, Skip> {
    match ether_type.0 {
        link::ETHERTYPE_MPLS_UNICAST | link::ETHERTYPE_MPLS_MULTICAST => mpls(payload),
        // RFC 2516: 6 bytes of PPPoE, then the PPP protocol.
        link::ETHERTYPE_PPPOE_SESSION => link::ppp(cut(payload, 6)?),
        // Cisco FabricPath: a 2-byte tag after the outer header, then the inner frame.
        link::ETHERTYPE_CISCO_FABRICPATH => Ok(Next::Ethernet(cut(payload, 2)?)),
        link::ETHERTYPE_TRANSPARENT_ETHERNET => Ok(Next::Ethernet(payload)),
        // VLAN tags beyond the ones etherparse reads: 2 bytes of tag, then the EtherType.
        0x8100 | 0x88a8 | 0x9100 => {
            let inner = be16(payload, 2).ok_or(Skip::Truncated(Layer::Link))?;
            Ok(Next::Ether(EtherType(inner), cut(payload, 4)?))
        }
        _ => Err(Skip::NotIp),
    }
}

/// RFC 3032 label stack; what follows the bottom label is guessed from its first nibble
/// as Wireshark does: IPv4, IPv6, else a pseudowire (control word when 0) with Ethernet.
fn mpls(data: &[u8]) -> Result<Next<'_>, Skip> {
    let mut at = 0;
    loop {
        let entry = data.get(at..at + 4).ok_or(Skip::Truncated(Layer::Link))?;
        at += 4;
        if entry.get(2).is_some_and(|b| b & 0x01 != 0) {
            break;
        }
    }
    let inner = cut(data, at)?;
    Ok(match inner.first().map(|b| b >> 4) {
        Some(4 | 6) => Next::Ip(inner),
        Some(0) => Next::Ethernet(cut(inner, 4)?),
        _ => Next::Ethernet(inner),
    })
}
