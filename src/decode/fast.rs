//! The frames nearly every capture is made of — IPv4 or IPv6 straight after the link
//! header, TCP straight after IP, complete and unfragmented — read with etherparse's header
//! slices alone. Slicing the whole packet generically costs several times more, mostly in
//! copying its large result around. Anything else returns `None` and takes the general way,
//! which gives the same answer for these frames (tested below and by `tests/properties.rs`).

use etherparse::{EtherType, IpNumber, Ipv4HeaderSlice, Ipv6HeaderSlice};

use super::link::{Next, be16};
use super::{Addr, Segment, Skip, tcp_segment};

pub fn plain(next: Next<'_>, out: &mut Segment) -> Option<Result<(), Skip>> {
    match next {
        Next::Ethernet(frame) => {
            let ether_type = EtherType(be16(frame, 12)?);
            ip(ether_type, frame.get(14..)?, out)
        }
        Next::Ether(ether_type, packet) => ip(ether_type, packet, out),
        Next::Ip(packet) => match packet.first()? >> 4 {
            4 => ip(EtherType::IPV4, packet, out),
            6 => ip(EtherType::IPV6, packet, out),
            _ => None,
        },
        Next::Link(..) => None,
    }
}

fn ip(ether_type: EtherType, packet: &[u8], out: &mut Segment) -> Option<Result<(), Skip>> {
    let (src, dst, ip_id, payload) = match ether_type {
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
            )
        }
        _ => return None,
    };
    Some(tcp_segment(src, dst, ip_id, payload, payload.len(), out))
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
        let next = link::strip(linktype, data).ok()?;
        let mut segment = Segment::EMPTY;
        let fast = plain(next, &mut segment)?.map(|()| segment);
        Some((fast, general(next, 0)))
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

        /// Wherever the fast path answers, it answers as the general way does.
        #[test]
        fn agrees_with_the_general_way(
            v6 in any::<bool>(),
            edits in proptest::collection::vec((0usize..80, any::<u8>()), 0..6),
            len in 0usize..80,
        ) {
            let mut frame = if v6 { IPV6.to_vec() } else { IPV4.to_vec() };
            for (at, byte) in edits {
                if let Some(b) = frame.get_mut(at) {
                    *b = byte;
                }
            }
            frame.truncate(len);
            if let Some((fast, general)) = both(Linktype::ETHERNET, &frame) {
                prop_assert_eq!(fast, general);
            }
        }
    }
}
