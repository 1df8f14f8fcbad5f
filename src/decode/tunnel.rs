//! What Ethernet, GRE, UDP and IP carry besides a plain IP packet: tags, labels and
//! tunnels, each named by `encap`'s table. Connections inside a tunnel are keyed by their
//! inner 4-tuple, as Wireshark keys them.

use etherparse::EtherType;

use super::link::{self, Next, be16, byte, cut, truncated};
use super::{Layer, Skip, Stop, encap};

/// What follows an EtherType that etherparse does not look into.
pub fn ether_payload(ether_type: EtherType, payload: &[u8]) -> Result<Next<'_>, Skip> {
    encap::ether_type(ether_type.0, payload).unwrap_or(Err(Skip::at(Stop::EtherType, ether_type.0)))
}

/// What a UDP datagram between these ports carries: the lower port is tried first.
pub fn udp(src_port: u16, dst_port: u16, payload: &[u8]) -> Result<Next<'_>, Skip> {
    let (low, high) = (src_port.min(dst_port), src_port.max(dst_port));
    encap::udp_port(low, payload)
        .or_else(|| encap::udp_port(high, payload))
        .unwrap_or(Err(Skip::NotTcp))
}

/// What an IP packet of this protocol carries, when it is not TCP.
pub fn ip_payload(protocol: u8, payload: &[u8]) -> Result<Next<'_>, Skip> {
    encap::ip_protocol(protocol, payload).unwrap_or(Err(Skip::NotTcp))
}

/// IPComp: the decoder inflates the payload itself, as it needs the IP header around it
/// (`Skip::Compressed`).
pub fn ipcomp(_: &[u8]) -> Result<Next<'_>, Skip> {
    Err(Skip::Compressed)
}

/// An IP packet of either version (told by its first nibble) follows at once.
pub fn ip(data: &[u8]) -> Result<Next<'_>, Skip> {
    Ok(Next::Ip(data))
}

pub fn ethernet(data: &[u8]) -> Result<Next<'_>, Skip> {
    Ok(Next::Ethernet(data))
}

/// A protocol that carries no IP (ARP, LLDP, PPP's control protocols, …).
pub fn not_ip(_: &[u8]) -> Result<Next<'_>, Skip> {
    Err(Skip::NotIp)
}

/// A VLAN tag beyond the ones etherparse reads: 2 bytes of tag, then the EtherType.
pub fn vlan(data: &[u8]) -> Result<Next<'_>, Skip> {
    Ok(Next::Ether(
        EtherType(truncated(be16(data, 2))?),
        cut(data, 4)?,
    ))
}

/// Cisco FabricPath: a 2-byte tag after the outer header, then the inner frame.
pub fn fabricpath(data: &[u8]) -> Result<Next<'_>, Skip> {
    Ok(Next::Ethernet(cut(data, 2)?))
}

/// 802.1ah: a 4-byte I-TAG, then the customer's Ethernet frame.
pub fn pbb(data: &[u8]) -> Result<Next<'_>, Skip> {
    Ok(Next::Ethernet(cut(data, 4)?))
}

/// 802.1BR: a 6-byte E-Tag, then the EtherType.
pub fn etag(data: &[u8]) -> Result<Next<'_>, Skip> {
    Ok(Next::Ether(
        EtherType(truncated(be16(data, 6))?),
        cut(data, 8)?,
    ))
}

/// Cisco VN-Tag: 4 bytes, then the EtherType.
pub fn vntag(data: &[u8]) -> Result<Next<'_>, Skip> {
    Ok(Next::Ether(
        EtherType(truncated(be16(data, 4))?),
        cut(data, 6)?,
    ))
}

/// RFC 3032 label stack; what follows the bottom label is guessed from its first nibble
/// as Wireshark does: IPv4, IPv6, else a pseudowire (control word when 0) with Ethernet.
pub fn mpls(data: &[u8]) -> Result<Next<'_>, Skip> {
    let mut at = 0;
    loop {
        let entry = truncated(data.get(at..at + 4))?;
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

/// GRE (RFC 2784/2890, and PPTP's version 1 of RFC 2637): the protocols of GRE's own are
/// in the table; the rest are EtherTypes.
pub fn gre(data: &[u8]) -> Result<Next<'_>, Skip> {
    let header = GreHeader::read(data)?;
    encap::gre_protocol(header.protocol, data)
        .unwrap_or(Ok(Next::Ether(EtherType(header.protocol), header.payload)))
}

/// A GRE header's fields that decide what its payload is.
struct GreHeader<'a> {
    protocol: u16,
    sequenced: bool,
    payload: &'a [u8],
}

impl GreHeader<'_> {
    fn read(data: &[u8]) -> Result<GreHeader<'_>, Skip> {
        let flags = truncated(be16(data, 0))?;
        let protocol = truncated(be16(data, 2))?;
        let (checksum, key, seq, ack) = (
            flags & 0x8000 != 0,
            flags & 0x2000 != 0,
            flags & 0x1000 != 0,
            flags & 0x0080 != 0,
        );
        let version = flags & 0x0007;
        let words = [checksum, key, seq, version == 1 && ack]
            .into_iter()
            .filter(|&present| present)
            .count();
        Ok(GreHeader {
            protocol,
            sequenced: seq,
            payload: cut(data, 4 + 4 * words)?,
        })
    }
}

pub fn gre_ppp(data: &[u8]) -> Result<Next<'_>, Skip> {
    link::ppp(GreHeader::read(data)?.payload)
}

/// ERSPAN type I has no header of its own (and no GRE sequence number); type II has 8 bytes.
pub fn erspan2(data: &[u8]) -> Result<Next<'_>, Skip> {
    let gre = GreHeader::read(data)?;
    if gre.sequenced {
        Ok(Next::Ethernet(cut(gre.payload, 8)?))
    } else {
        Ok(Next::Ethernet(gre.payload))
    }
}

/// ERSPAN type III: 12 bytes, and 8 more with the platform-specific subheader (O flag).
pub fn erspan3(data: &[u8]) -> Result<Next<'_>, Skip> {
    let inner = GreHeader::read(data)?.payload;
    let optional = inner.get(11).is_some_and(|b| b & 0x01 != 0);
    Ok(Next::Ethernet(cut(inner, if optional { 20 } else { 12 })?))
}

/// WCCP redirection adds 4 bytes unless the IPv4 header follows at once.
pub fn wccp(data: &[u8]) -> Result<Next<'_>, Skip> {
    let inner = GreHeader::read(data)?.payload;
    if inner.first().is_some_and(|b| b >> 4 == 4) {
        Ok(Next::Ether(EtherType::IPV4, inner))
    } else {
        Ok(Next::Ether(EtherType::IPV4, cut(inner, 4)?))
    }
}

/// Aruba's access points tunnel 802.11 frames in GRE, protocols 0x8200 to 0x8370 in steps
/// of 0x10.
pub fn aruba(data: &[u8]) -> Result<Next<'_>, Skip> {
    let gre = GreHeader::read(data)?;
    if gre.protocol & 0x000f != 0 {
        return Err(Skip::at(Stop::EtherType, gre.protocol));
    }
    Ok(Next::Wifi(gre.payload))
}

/// RFC 7348: 8 bytes (flags, VNI), then an Ethernet frame.
pub fn vxlan(data: &[u8]) -> Result<Next<'_>, Skip> {
    Ok(Next::Ethernet(cut(data, 8)?))
}

/// VXLAN-GPE: 8 bytes, the next protocol in the fourth.
pub fn vxlan_gpe(data: &[u8]) -> Result<Next<'_>, Skip> {
    let inner = cut(data, 8)?;
    match byte(data, 3)? {
        1 | 2 => Ok(Next::Ip(inner)),
        3 => Ok(Next::Ethernet(inner)),
        5 => mpls(inner),
        p => Err(Skip::at(Stop::VxlanGpeProtocol, p)),
    }
}

/// RFC 8926: 8 bytes plus options (length in 4-byte words), protocol as an EtherType.
pub fn geneve(data: &[u8]) -> Result<Next<'_>, Skip> {
    let opt_words = usize::from(byte(data, 0)? & 0x3f);
    let protocol = truncated(be16(data, 2))?;
    Ok(Next::Ether(
        EtherType(protocol),
        cut(data, 8 + opt_words * 4)?,
    ))
}

/// GTPv1-U (3GPP TS 29.281): a G-PDU carries an IP packet after the header and any
/// extension headers.
pub fn gtp_u(data: &[u8]) -> Result<Next<'_>, Skip> {
    const G_PDU: u8 = 0xff;
    let flags = byte(data, 0)?;
    if flags >> 5 != 1 || data.get(1) != Some(&G_PDU) {
        return Err(Skip::NotIp);
    }
    let mut at = 8;
    if flags & 0x07 != 0 {
        // Sequence number, N-PDU number, next extension header type.
        let mut next = byte(data, 11)?;
        at = 12;
        while next != 0 {
            let words = usize::from(byte(data, at)?);
            if words == 0 {
                return Err(Skip::Malformed(Layer::Link));
            }
            at += words * 4;
            next = byte(data, at - 1)?;
        }
    }
    Ok(Next::Ip(cut(data, at)?))
}

/// L2TPv2 (RFC 2661): flags and version, an optional length, tunnel and session ids,
/// optional sequence numbers and offset, then PPP; control messages carry no IP.
pub fn l2tp(data: &[u8]) -> Result<Next<'_>, Skip> {
    let flags = truncated(be16(data, 0))?;
    let (control, length, sequence, offset) = (
        flags & 0x8000 != 0,
        flags & 0x4000 != 0,
        flags & 0x0800 != 0,
        flags & 0x0200 != 0,
    );
    if flags & 0x000f != 2 {
        return Err(Skip::unread(Stop::L2tpv3));
    }
    if control {
        return Err(Skip::NotIp);
    }
    let mut at = 2 + 4;
    if length {
        at += 2;
    }
    if sequence {
        at += 4;
    }
    if offset {
        at += 2 + usize::from(truncated(be16(data, at))?);
    }
    link::ppp(cut(data, at)?)
}

/// AYIYA (draft-massar-v6ops-ayiya): 8 bytes, identity and signature, then the packet
/// named by the next-header byte.
pub fn ayiya(data: &[u8]) -> Result<Next<'_>, Skip> {
    let (id, sig, next) = (byte(data, 0)?, byte(data, 1)?, byte(data, 3)?);
    let id_len = 1usize << (id >> 4);
    let sig_len = usize::from(sig >> 4) * 4;
    let inner = cut(data, 8 + id_len + sig_len)?;
    match next {
        4 => Ok(Next::Ether(EtherType::IPV4, inner)),
        41 => Ok(Next::Ether(EtherType::IPV6, inner)),
        _ => Err(Skip::NotIp),
    }
}

/// Teredo (RFC 4380): an IPv6 packet after an optional authentication header and an
/// optional origin indication; anything else on the port is not a tunnel.
pub fn teredo(data: &[u8]) -> Result<Next<'_>, Skip> {
    fn inner(data: &[u8]) -> Option<Next<'_>> {
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
    inner(data).ok_or(Skip::NotTcp)
}

/// LISP's data plane (RFC 9300): 8 bytes, then the inner IP packet.
pub fn lisp_data(data: &[u8]) -> Result<Next<'_>, Skip> {
    Ok(Next::Ip(cut(data, 8)?))
}

/// TZSP: version, type, encapsulation, then tagged fields up to the end tag (1); padding
/// tags (0) have no length.
pub fn tzsp(data: &[u8]) -> Result<Next<'_>, Skip> {
    const ETHERNET: u16 = 1;
    const IEEE_802_11: u16 = 18;
    let encapsulation = truncated(be16(data, 2))?;
    let mut at = 4;
    loop {
        match byte(data, at)? {
            0 => at += 1,
            1 => break,
            _ => at += 2 + usize::from(byte(data, at + 1)?),
        }
    }
    let frame = cut(data, at + 1)?;
    match encapsulation {
        ETHERNET => Ok(Next::Ethernet(frame)),
        IEEE_802_11 => Ok(Next::Wifi(frame)),
        other => Err(Skip::at(Stop::TzspEncapsulation, other)),
    }
}

/// EtherIP (RFC 3378): a 2-byte header, then an Ethernet frame.
pub fn etherip(data: &[u8]) -> Result<Next<'_>, Skip> {
    Ok(Next::Ethernet(cut(data, 2)?))
}
