//! The frames nearly every capture is made of — a loopback or LAN link header (Ethernet,
//! BSD NULL/LOOP, Linux SLL and SLL2, raw IP), IPv4 or IPv6 straight after it, TCP straight
//! after IP, complete and unfragmented — read with etherparse's header slices alone.
//! Slicing the whole packet generically costs several times more, mostly in copying its
//! large result around; and going through `encap`'s table, whose `Result` the compiler
//! writes in pieces and reads whole, costs 11-18 ns a frame more (bench and whole runs,
//! alternated). Anything else returns `None` and takes the general way, which gives the
//! same answer for these frames (tested below and by `tests/properties.rs`).

use etherparse::{EtherType, IpNumber, Ipv4HeaderSlice, Ipv6HeaderSlice};

use super::link::{self, be16};
use super::{Addr, Segment, Skip, tcp_segment};
use crate::capture::Linktype;

pub fn plain(linktype: Linktype, frame: &[u8], out: &mut Segment) -> Option<Result<(), Skip>> {
    let (ether_type, packet) = match linktype {
        Linktype::ETHERNET => (EtherType(be16(frame, 12)?), frame.get(14..)?),
        Linktype::NULL | Linktype::LOOP => {
            let family = link::bsd_family(linktype, frame)?;
            (link::family_ether_type(family)?, frame.get(4..)?)
        }
        Linktype::LINUX_SLL => (EtherType(be16(frame, 14)?), frame.get(16..)?),
        Linktype::LINUX_SLL2 => (EtherType(be16(frame, 0)?), frame.get(20..)?),
        Linktype::RAW | Linktype::IPV4 | Linktype::IPV6 => match frame.first()? >> 4 {
            4 => (EtherType::IPV4, frame),
            6 => (EtherType::IPV6, frame),
            _ => return None,
        },
        _ => return None,
    };
    ip(ether_type, packet, out)
}

fn ip(ether_type: EtherType, packet: &[u8], out: &mut Segment) -> Option<Result<(), Skip>> {
    let (src, dst, ip_id, payload, ip_len) = match ether_type {
        EtherType::IPV4 => {
            let h = Ipv4HeaderSlice::from_slice(packet).ok()?;
            if h.protocol() != IpNumber::TCP || h.is_fragmenting_payload() {
                return None;
            }
            let payload = packet.get(h.slice().len()..usize::from(h.total_len()))?;
            (
                Addr::v4(h.source(), 0),
                Addr::v4(h.destination(), 0),
                h.identification(),
                payload,
                h.total_len().into(),
            )
        }
        EtherType::IPV6 => {
            let h = Ipv6HeaderSlice::from_slice(packet).ok()?;
            // A zero payload length means a jumbogram, for the general way.
            if h.next_header() != IpNumber::TCP || h.payload_length() == 0 {
                return None;
            }
            let payload = packet.get(40..40 + usize::from(h.payload_length()))?;
            (
                Addr::v6(h.source(), 0),
                Addr::v6(h.destination(), 0),
                0,
                payload,
                40 + u32::from(h.payload_length()),
            )
        }
        _ => return None,
    };
    let result = tcp_segment(src, dst, ip_id, payload, payload.len(), out);
    out.ip_len = ip_len;
    Some(result)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::{general, link};
    use super::*;
    use crate::capture::Linktype;

    /// Ethernet + IPv4 + TCP with a Window Scale option and 5 bytes of data.
    const IPV4: &[u8] = &[
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00, // Ethernet
        0x45, 0, 0, 49, 0, 1, 0x40, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 2, // IPv4
        0x30, 0x39, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 7, 0x60, 0x12, 0xff, 0xff, 0, 0, 0, 0, //
        1, 3, 3, 7, // NOP, Window Scale 7
        b'h', b'e', b'l', b'l', b'o', 0, 0, // data, then Ethernet padding
    ];

    /// Ethernet + IPv6 + TCP, no data.
    const IPV6: &[u8] = &[
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x86, 0xdd, // Ethernet
        0x60, 0, 0, 0, 0, 20, 6, 64, // IPv6: payload 20, next header TCP
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // ::1
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // ::1
        0x30, 0x39, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
    ];

    fn both(
        linktype: Linktype,
        data: &[u8],
    ) -> Option<(Result<Segment, Skip>, Result<Segment, Skip>)> {
        let mut segment = Segment::EMPTY;
        let fast = plain(linktype, data, &mut segment)?.map(|()| segment);
        let general = link::strip(linktype, data).and_then(|next| general(next, 0));
        Some((fast, general))
    }

    #[test]
    fn takes_the_plain_frames() {
        for frame in [IPV4, IPV6] {
            let (fast, general) = both(Linktype::ETHERNET, frame).expect("fast path taken");
            assert!(fast.is_ok());
            assert_eq!(fast, general);
        }
        let (fast, _) = both(Linktype::ETHERNET, IPV4).expect("fast path taken");
        let segment = fast.expect("a segment");
        assert_eq!((segment.len, segment.window_scale), (5, Some(7)));
        // Raw IP: the same packet without its Ethernet header.
        let raw = IPV4.get(14..).expect("an IP packet");
        assert_eq!(both(Linktype::RAW, raw).map(|(f, _)| f), Some(Ok(segment)));
    }

    #[test]
    fn leaves_the_rest_to_the_general_way() {
        let mut vlan = IPV4.to_vec();
        vlan.splice(12..12, [0x81, 0x00, 0, 1]);
        let mut fragment = IPV4.to_vec();
        fragment[20] = 0x20; // more fragments
        let mut cut = IPV4.to_vec();
        cut.truncate(40);
        let mut udp = IPV4.to_vec();
        udp[23] = 17;
        for frame in [vlan, fragment, cut, udp] {
            assert!(both(Linktype::ETHERNET, &frame).is_none());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

        /// Wherever the fast path answers, it answers as the general way does, under every
        /// link header it reads.
        #[test]
        fn agrees_with_the_general_way(
            v6 in any::<bool>(),
            link in 0usize..6,
            edits in proptest::collection::vec((0usize..80, any::<u8>()), 0..6),
            len in 0usize..80,
        ) {
            let ethernet = if v6 { IPV6 } else { IPV4 };
            let ip = ethernet.get(14..).unwrap_or_default();
            let family: u32 = if v6 { 30 } else { 2 };
            let ether_type = if v6 { [0x86, 0xdd] } else { [0x08, 0x00] };
            let (linktype, header): (Linktype, Vec<u8>) = match link {
                0 => (Linktype::ETHERNET, ethernet.get(..14).unwrap_or_default().to_vec()),
                1 => (Linktype::NULL, family.to_le_bytes().to_vec()),
                2 => (Linktype::LOOP, family.to_be_bytes().to_vec()),
                3 => (Linktype::LINUX_SLL, [&[0; 14][..], &ether_type].concat()),
                4 => (Linktype::LINUX_SLL2, [&ether_type[..], &[0; 18]].concat()),
                _ => (Linktype::RAW, Vec::new()),
            };
            let mut frame = [header, ip.to_vec()].concat();
            for (at, byte) in edits {
                if let Some(b) = frame.get_mut(at) {
                    *b = byte;
                }
            }
            frame.truncate(len);
            if let Some((fast, general)) = both(linktype, &frame) {
                prop_assert_eq!(fast, general);
            }
        }
    }
}
