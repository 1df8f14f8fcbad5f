//! IEEE 802.11 and the headers radios and access points put before it (radiotap, PPI,
//! Prism, AVS, CAPWAP's data channel): only data frames carry IP, after their MAC header
//! and 802.2 LLC/SNAP. A frame whose body is encrypted is counted, never guessed at.

use super::link::{self, Next, be32, byte, cut, le16, le32, truncated};
use super::{Layer, Skip, Stop};

/// An 802.11 frame (a trailing FCS is harmless: the IP header's length bounds the data).
pub fn ieee80211(data: &[u8]) -> Result<Next<'_>, Skip> {
    frame(byte(data, 0)?, byte(data, 1)?, data)
}

/// An 802.11 frame whose two frame control bytes are swapped, as Cisco's controllers send
/// them in CAPWAP (and as Wireshark reads CAPWAP by default).
fn swapped(data: &[u8]) -> Result<Next<'_>, Skip> {
    frame(byte(data, 1)?, byte(data, 0)?, data)
}

/// An 802.11 frame, given its frame control byte and flags.
fn frame(fc: u8, flags: u8, data: &[u8]) -> Result<Next<'_>, Skip> {
    const DATA: u8 = 2;
    let (kind, subtype) = ((fc >> 2) & 0x03, fc >> 4);
    // Management and control frames, and data frames without a body (null, CF-ack/poll).
    if kind != DATA || subtype & 0x04 != 0 {
        return Err(Skip::NotIp);
    }
    let (to_ds, from_ds, protected, order) = (
        flags & 0x01 != 0,
        flags & 0x02 != 0,
        flags & 0x40 != 0,
        flags & 0x80 != 0,
    );
    let mut at = 24;
    if to_ds && from_ds {
        at += 6; // a fourth address
    }
    let qos = subtype & 0x08 != 0;
    if qos {
        if byte(data, at)? & 0x80 != 0 {
            return Err(Skip::unread(Stop::WifiAmsdu));
        }
        at += 2;
        if order {
            at += 4; // HT control
        }
    }
    if protected {
        return Err(Skip::unread(Stop::WifiEncrypted));
    }
    link::llc(cut(data, at)?)
}

/// Radiotap: its length in bytes 2-3 (little-endian), then 802.11.
pub fn radiotap(data: &[u8]) -> Result<Next<'_>, Skip> {
    let length = usize::from(truncated(le16(data, 2))?);
    if length < 8 {
        return Err(Skip::Malformed(Layer::Link));
    }
    ieee80211(cut(data, length)?)
}

/// PPI: its length in bytes 2-3 and the link type of what follows in bytes 4-7.
pub fn ppi(data: &[u8]) -> Result<Next<'_>, Skip> {
    let length = usize::from(truncated(le16(data, 2))?);
    let dlt = truncated(le32(data, 4))?;
    if length < 8 {
        return Err(Skip::Malformed(Layer::Link));
    }
    link::inner_link(dlt, cut(data, length)?)
}

/// The Prism capture header (its length at bytes 4-7, in the host's byte order); the same
/// link type also carries AVS headers, told by their magic.
pub fn prism(data: &[u8]) -> Result<Next<'_>, Skip> {
    if matches!(be32(data, 0), Some(0x8021_1001 | 0x8021_1002)) {
        return avs(data);
    }
    let length = truncated(le32(data, 4))?;
    let length = if length > 0xffff {
        length.swap_bytes()
    } else {
        length
    };
    ieee80211(cut(data, length as usize)?)
}

/// The AVS capture header: its length at bytes 4-7, big-endian.
pub fn avs(data: &[u8]) -> Result<Next<'_>, Skip> {
    let length = truncated(be32(data, 4))?;
    ieee80211(cut(data, usize::try_from(length).unwrap_or(usize::MAX))?)
}

/// CAPWAP's data channel (RFC 5415): a header of HLEN 4-byte words, then an 802.3 frame or,
/// with the T bit, a frame of the wireless binding (802.11, its frame control swapped).
/// A fragment goes to the reassembler (`capwap_fragment`); DTLS (encrypted) is counted.
pub fn capwap_data(data: &[u8]) -> Result<Next<'_>, Skip> {
    let header = capwap_header(data)?;
    if header.fragment {
        return Err(Skip::unread(Stop::CapwapFragment));
    }
    capwap_payload(header.kind, cut(data, header.len)?)
}

/// What a CAPWAP data payload holds, as `CapwapHeader::kind` says: an 802.3 frame, or an
/// 802.11 frame with its frame control swapped.
pub fn capwap_payload(kind: u32, payload: &[u8]) -> Result<Next<'_>, Skip> {
    match kind {
        CAPWAP_8023 => Ok(Next::Ethernet(payload)),
        CAPWAP_80211 => swapped(payload),
        other => Err(Skip::at(Stop::CapwapBinding, other & 0x1f)),
    }
}

/// A CAPWAP data fragment: its ID, where its piece goes (bytes), whether more follow, the
/// payload's kind, and the piece. Wireshark reassembles them by default, by addresses and
/// ID, and decodes the payload at the frame that completes it.
pub fn capwap_fragment(data: &[u8]) -> Option<(u16, u32, bool, u32, &[u8])> {
    let header = capwap_header(data).ok()?;
    let id = link::be16(data, 4)?;
    let offset = u32::from(link::be16(data, 6)? >> 3) * 8;
    let piece = data.get(header.len..)?;
    Some((id, offset, !header.last, header.kind, piece))
}

/// `CapwapHeader::kind`: the T bit (0x100, a frame of the wireless binding) and the binding
/// ID, as the header holds them; without the T bit, an 802.3 frame.
const CAPWAP_8023: u32 = 0;
const CAPWAP_80211: u32 = 0x100 | 1;

struct CapwapHeader {
    /// The header's length in bytes.
    len: usize,
    kind: u32,
    fragment: bool,
    last: bool,
}

fn capwap_header(data: &[u8]) -> Result<CapwapHeader, Skip> {
    let preamble = byte(data, 0)?;
    if preamble & 0x0f != 0 {
        return Err(Skip::unread(Stop::CapwapDtls));
    }
    let word = truncated(be32(data, 0))?;
    let (hlen, wbid, native) = ((word >> 19) & 0x1f, (word >> 9) & 0x1f, word & 0x100 != 0);
    Ok(CapwapHeader {
        len: hlen as usize * 4,
        kind: if native { 0x100 | wbid } else { CAPWAP_8023 },
        fragment: word & 0x80 != 0,
        last: word & 0x40 != 0,
    })
}
