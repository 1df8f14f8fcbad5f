//! Builds, packet by packet, one capture per encapsulation of `src/decode/encap.rs`
//! (`fixtures/encap/`): the same short connection — handshake, 14 bytes, four-way close,
//! IPv4 — wrapped in that link type, tag or tunnel, so that each must tell the story that
//! `fixtures/encap/plain.pcap` (plain Ethernet) tells. `ipv6-fragments.pcap` is the same
//! exchange over IPv6 with the data segment in two fragments. `cargo run --example encap`
//! (writes into fixtures/encap/). `tests/encap.rs` checks them; TShark agrees on every frame
//! (`../shared/tools/oracle`, then `conform`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use etherparse::{IpNumber, Ipv4Header, PacketBuilder};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, Endianness};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const CLIENT: [u8; 4] = [10, 0, 0, 1];
const SERVER: [u8; 4] = [10, 0, 0, 2];
const CLIENT6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const SERVER6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const PAYLOAD: &[u8] = b"I'm TCP client";

/// ERF records written so far (their own timestamps count them).
static ERF_RECORDS: AtomicU64 = AtomicU64::new(0);

/// (from client, flags, seq, ack, payload) with numbers relative to each side's ISN.
type Line = (bool, &'static str, u32, u32, &'static [u8]);

const SCRIPT: [Line; 9] = [
    (true, "S", 0, 0, b""),
    (false, "SA", 0, 1, b""),
    (true, "A", 1, 1, b""),
    (true, "PA", 1, 1, PAYLOAD),
    (false, "A", 1, 15, b""),
    (true, "FA", 15, 1, b""),
    (false, "A", 1, 16, b""),
    (false, "FA", 1, 16, b""),
    (true, "A", 16, 2, b""),
];

/// The TCP segment of a line, and who sent it.
fn tcp(line: &Line, v6: bool) -> Result<(bool, Vec<u8>)> {
    let (from_client, flags, seq, ack, payload) = *line;
    let (sport, dport, isn, peer_isn) = if from_client {
        (40_000, 80, 1_000u32, 5_000u32)
    } else {
        (80, 40_000, 5_000, 1_000)
    };
    let builder = if v6 {
        let (src, dst) = if from_client {
            (CLIENT6, SERVER6)
        } else {
            (SERVER6, CLIENT6)
        };
        PacketBuilder::ipv6(src, dst, 64)
    } else {
        let (src, dst) = if from_client {
            (CLIENT, SERVER)
        } else {
            (SERVER, CLIENT)
        };
        PacketBuilder::ipv4(src, dst, 64)
    };
    let mut b = builder.tcp(sport, dport, isn.wrapping_add(seq), 6_379);
    for f in flags.chars() {
        b = match f {
            'S' => b.syn(),
            'A' => b.ack(peer_isn.wrapping_add(ack)),
            'F' => b.fin(),
            'P' => b.psh(),
            _ => return Err(format!("unknown flag {f}").into()),
        };
    }
    let mut packet = Vec::new();
    b.write(&mut packet, payload)?;
    Ok((from_client, packet))
}

fn ethernet(ether_type: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    f.extend(ether_type.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An outer IPv4 packet (192.0.2.1 → 192.0.2.2) of `protocol` around `payload`.
fn outer_ip(protocol: u8, payload: &[u8]) -> Vec<u8> {
    let mut header = Ipv4Header::new(
        payload.len() as u16,
        64,
        IpNumber(protocol),
        [192, 0, 2, 1],
        [192, 0, 2, 2],
    )
    .expect("a short payload");
    header.header_checksum = header.calc_header_checksum();
    let mut packet = header.to_bytes().to_vec();
    packet.extend_from_slice(payload);
    packet
}

/// Ethernet, IPv4 and UDP from port 50000 to `port`, around `payload`.
fn outer_udp(port: u16, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::new();
    PacketBuilder::ethernet2([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1])
        .ipv4([192, 0, 2, 1], [192, 0, 2, 2], 64)
        .udp(50_000, port)
        .write(&mut frame, payload)
        .expect("a short payload");
    frame
}

/// The IPv4 packet with its TCP segment compressed (IPComp, RFC 3173: next header TCP,
/// DEFLATE), behind the same addresses.
fn ipcomp(ip: &[u8]) -> Vec<u8> {
    let (mut header, tcp) = Ipv4Header::from_slice(ip).expect("an IPv4 packet");
    let mut deflater =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    deflater.write_all(tcp).expect("in memory");
    let deflated = deflater.finish().expect("in memory");
    let payload = [&[6, 0, 0, 2][..], &deflated].concat();
    header.protocol = IpNumber(108);
    header
        .set_payload_len(payload.len())
        .expect("a short payload");
    header.header_checksum = header.calc_header_checksum();
    [header.to_bytes().to_vec(), payload].concat()
}

/// LLC/SNAP naming IPv4.
fn snap_ipv4(ip: &[u8]) -> Vec<u8> {
    let mut f = vec![0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];
    f.extend_from_slice(ip);
    f
}

/// An 802.11 data frame (to or from the access point), then LLC/SNAP and the packet;
/// `qos` makes it a QoS data frame.
fn wifi(ip: &[u8], from_client: bool, qos: bool) -> Vec<u8> {
    let fc0 = if qos { 0x88 } else { 0x08 };
    let fc1 = if from_client { 0x01 } else { 0x02 }; // to DS, from DS
    let mut f = vec![fc0, fc1, 0x2c, 0x00];
    f.extend([0x02, 0, 0, 0, 0, 0x0a]); // BSSID or destination
    f.extend([0x02, 0, 0, 0, 0, 0x01]);
    f.extend([0x02, 0, 0, 0, 0, 0x02]);
    f.extend([0x10, 0x00]); // sequence control
    if qos {
        f.extend([0x00, 0x00]);
    }
    f.extend(snap_ipv4(ip));
    f
}

fn radiotap(body: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 0, 8, 0, 0, 0, 0, 0];
    f.extend_from_slice(body);
    f
}

fn gre(protocol: u16, payload: &[u8]) -> Vec<u8> {
    let mut g = vec![0, 0];
    g.extend(protocol.to_be_bytes());
    g.extend_from_slice(payload);
    g
}

/// A case: file name, link type, and how a packet (from the client or not) is framed.
type Wrap = fn(&[u8], bool) -> Vec<u8>;

const CASES: &[(&str, u32, Wrap)] = &[
    ("plain", 1, |ip, _| ethernet(0x0800, ip)),
    // Cisco HDLC: unicast address, control 0, EtherType.
    ("chdlc", 104, |ip, _| [&[0x0f, 0, 0x08, 0][..], ip].concat()),
    ("chdlc-under-ppp", 9, |ip, _| {
        [&[0x0f, 0, 0x08, 0][..], ip].concat()
    }),
    ("ppp-with-dir", 204, |ip, c| {
        [&[u8::from(c), 0xff, 0x03, 0, 0x21][..], ip].concat()
    }),
    // PPPoE whose PPP protocol field is compressed to one byte (RFC 1661).
    ("pppoe-short-protocol", 1, |ip, _| {
        let ppp = [&[0x21][..], ip].concat();
        let mut session = vec![0x11, 0x00, 0x00, 0x01];
        session.extend((ppp.len() as u16).to_be_bytes());
        ethernet(0x8864, &[session, ppp].concat())
    }),
    ("ppp-ether", 51, |ip, _| {
        let mut session = vec![0x11, 0x00, 0x00, 0x01];
        session.extend((ip.len() as u16 + 2).to_be_bytes());
        [session, vec![0x00, 0x21], ip.to_vec()].concat()
    }),
    ("frame-relay", 107, |ip, _| {
        [&[0x18, 0x41, 0x03, 0xcc][..], ip].concat()
    }),
    ("atm-rfc1483", 100, |ip, _| snap_ipv4(ip)),
    ("llc-snap", 1, |ip, _| {
        let llc = snap_ipv4(ip);
        let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
        f.extend((llc.len() as u16).to_be_bytes());
        f.extend(llc);
        f
    }),
    ("pbb", 1, |ip, _| {
        let inner = ethernet(0x0800, ip);
        ethernet(0x88e7, &[&[0, 0, 0, 100][..], &inner].concat())
    }),
    ("etag", 1, |ip, _| {
        ethernet(0x893f, &[&[0, 0, 0, 5, 0, 0, 0x08, 0x00][..], ip].concat())
    }),
    ("vntag", 1, |ip, _| {
        ethernet(
            0x8926,
            &[&[0x80, 0x01, 0x00, 0x02, 0x08, 0x00][..], ip].concat(),
        )
    }),
    // A unicast destination address header (its first two bytes 0), then RFC 4391's.
    ("ipoib", 242, |ip, _| {
        [&[0; 40][..], &[0x08, 0x00, 0, 0], ip].concat()
    }),
    ("netanalyzer", 240, |ip, _| {
        // Status 0, version 1, the frame's length with its FCS.
        let frame = [ethernet(0x0800, ip), vec![0; 4]].concat();
        let length = (frame.len() as u16).to_le_bytes();
        [&[0, 0x04, length[0], length[1]][..], &frame].concat()
    }),
    ("ieee1394", 138, |ip, _| {
        [&[1; 16][..], &[0x08, 0x00], ip].concat()
    }),
    ("ipnet", 226, |ip, _| {
        // Version 1, AF_INET, hook, then the data length.
        let mut h = vec![1, 2, 0, 0];
        h.extend((ip.len() as u32).to_be_bytes());
        h.resize(24, 0);
        [h, ip.to_vec()].concat()
    }),
    ("pflog", 117, |ip, _| {
        // A 61-byte header, padded to 64: length, family, action, reason, names, …
        let mut h = vec![61, 2];
        h.resize(64, 0);
        [h, ip.to_vec()].concat()
    }),
    ("enc", 109, |ip, _| {
        [&[2, 0, 0, 0][..], &[0; 8], ip].concat()
    }),
    ("erf-ethernet", 197, |ip, _| {
        // The frame with its FCS, as ERF records hold it.
        let frame = [ethernet(0x0800, ip), vec![0; 4]].concat();
        let rlen = (16 + 2 + frame.len()) as u16;
        // The record's own time, which Wireshark shows: an hour after the pcap header's,
        // 100 µs apart in 2^-32 s ticks (so that rounding to nanoseconds shows).
        let k = ERF_RECORDS.fetch_add(1, Ordering::Relaxed);
        let ts = (1_700_003_600u64 << 32) + k * 429_497;
        let mut h = ts.to_le_bytes().to_vec();
        h.extend([2, 0x04]); // type ETH, flags (varying record length)
        h.extend(rlen.to_be_bytes());
        h.extend([0, 0]); // loss counter
        h.extend((frame.len() as u16).to_be_bytes());
        h.extend([0, 0]); // offset, pad
        [h, frame].concat()
    }),
    ("pktap", 258, |ip, _| {
        // pth_length, pth_type_next (packet), pth_dlt (NULL), the interface's name, …
        let mut h = Vec::new();
        h.extend(108u32.to_le_bytes());
        h.extend(1u32.to_le_bytes());
        h.extend(0u32.to_le_bytes());
        h.extend(b"lo0");
        h.resize(108, 0);
        [h, 2u32.to_le_bytes().to_vec(), ip.to_vec()].concat()
    }),
    ("ieee802-11", 105, |ip, c| wifi(ip, c, false)),
    ("radiotap", 127, |ip, c| radiotap(&wifi(ip, c, true))),
    ("ppi", 192, |ip, c| {
        [&[0, 0, 8, 0, 105, 0, 0, 0][..], &wifi(ip, c, false)].concat()
    }),
    ("aruba-gre", 1, |ip, c| {
        ethernet(0x0800, &outer_ip(47, &gre(0x8200, &wifi(ip, c, false))))
    }),
    ("capwap-80211", 1, |ip, c| {
        // Preamble, HLEN 2 words, wireless binding 1 (802.11), T bit; the 802.11 frame
        // control bytes swapped, as Cisco's controllers send them.
        let header = [0x00, 0x10, 0x03, 0x00, 0, 0, 0, 0];
        let mut frame = wifi(ip, c, false);
        frame.swap(0, 1);
        outer_udp(5247, &[&header[..], &frame].concat())
    }),
    ("capwap-8023", 1, |ip, _| {
        let header = [0x00, 0x10, 0x02, 0x00, 0, 0, 0, 0];
        outer_udp(5247, &[&header[..], &ethernet(0x0800, ip)].concat())
    }),
    ("l2tp", 1, |ip, _| {
        // Data message, version 2, tunnel 1, session 2, then PPP.
        let header = [0x00, 0x02, 0, 1, 0, 2, 0xff, 0x03, 0x00, 0x21];
        outer_udp(1701, &[&header[..], ip].concat())
    }),
    ("gre-in-udp", 1, |ip, _| outer_udp(4754, &gre(0x0800, ip))),
    ("ipcomp", 1, |ip, _| ethernet(0x0800, &ipcomp(ip))),
    ("vxlan-gpe", 1, |ip, _| {
        outer_udp(4790, &[&[0x0c, 0, 0, 0x01, 0, 0, 1, 0][..], ip].concat())
    }),
    ("tzsp", 1, |ip, _| {
        // Version 1, received, Ethernet, end of fields.
        let header = [0x01, 0x00, 0x00, 0x01, 0x01];
        outer_udp(37008, &[&header[..], &ethernet(0x0800, ip)].concat())
    }),
    ("etherip", 1, |ip, _| {
        ethernet(
            0x0800,
            &outer_ip(97, &[&[0x30, 0][..], &ethernet(0x0800, ip)].concat()),
        )
    }),
    ("mpls-in-ip", 1, |ip, _| {
        ethernet(
            0x0800,
            &outer_ip(137, &[&[0, 0, 0x11, 64][..], ip].concat()),
        )
    }),
    ("loop", 108, |ip, _| [&2u32.to_be_bytes()[..], ip].concat()),
    ("ppp-hdlc", 50, |ip, _| {
        [&[0xff, 0x03, 0x00, 0x21][..], ip].concat()
    }),
    // Access control, frame control (an LLC frame), two addresses, then LLC/SNAP.
    ("token-ring", 6, |ip, _| {
        let mut f = vec![0x10, 0x40];
        f.extend([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
        [f, snap_ipv4(ip)].concat()
    }),
    // Source, destination, RFC 1051's protocol id for IP.
    ("arcnet-bsd", 7, |ip, _| {
        [&[0x01, 0x02, 0xf0][..], ip].concat()
    }),
    ("ip-over-fc", 122, |ip, _| {
        [&[0x10; 16][..], &snap_ipv4(ip)].concat()
    }),
    ("docsis", 143, |ip, _| {
        // A packet PDU without extended header: FC, MAC_PARM, LEN, HCS; the frame has its CRC.
        let frame = [ethernet(0x0800, ip), vec![0; 4]].concat();
        let mut h = vec![0x00, 0x00];
        h.extend((frame.len() as u16).to_be_bytes());
        h.extend(crc16_x25(&h).to_le_bytes());
        [h, frame].concat()
    }),
    ("prism", 119, |ip, c| {
        // Message code and length (144, little-endian), device name, ten 12-byte items.
        let mut h = Vec::new();
        h.extend(0x44u32.to_le_bytes());
        h.extend(144u32.to_le_bytes());
        h.extend(b"wlan0");
        h.resize(144, 0);
        [h, wifi(ip, c, false)].concat()
    }),
    ("avs", 163, |ip, c| {
        // Version 1 magic and the header's length (64), big-endian.
        let mut h = Vec::new();
        h.extend(0x8021_1001u32.to_be_bytes());
        h.extend(64u32.to_be_bytes());
        h.resize(64, 0);
        [h, wifi(ip, c, false)].concat()
    }),
    ("erf-ipv4", 197, |ip, _| {
        let k = ERF_RECORDS.fetch_add(1, Ordering::Relaxed);
        let ts = (1_700_003_600u64 << 32) + k * 429_497;
        let mut h = ts.to_le_bytes().to_vec();
        h.extend([22, 0x04]); // type IPv4
        h.extend(((16 + ip.len()) as u16).to_be_bytes());
        h.extend([0, 0]);
        h.extend((ip.len() as u16).to_be_bytes());
        [h, ip.to_vec()].concat()
    }),
    ("lisp", 1, |ip, _| {
        outer_udp(4341, &[&[0x80, 0, 0, 1, 0, 0, 0, 1][..], ip].concat())
    }),
    ("tzsp-80211", 1, |ip, c| {
        let header = [0x01, 0x00, 0x00, 0x12, 0x01];
        outer_udp(37008, &[&header[..], &wifi(ip, c, false)].concat())
    }),
    ("ethernet-in-ip", 1, |ip, _| {
        ethernet(0x0800, &outer_ip(143, &ethernet(0x0800, ip)))
    }),
];

/// DOCSIS's header checksum: CRC-16/X-25, written little-endian.
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

fn write(path: &str, linktype: u32, frames: &[Vec<u8>]) -> Result<()> {
    let header = PcapHeader {
        datalink: DataLink::from(linktype),
        endianness: Endianness::Little,
        snaplen: 262_144,
        ..PcapHeader::default()
    };
    let mut writer = PcapWriter::with_header(BufWriter::new(File::create(path)?), header)?;
    for (k, data) in frames.iter().enumerate() {
        let ts = Duration::from_secs(1_700_000_000) + Duration::from_micros(100 * k as u64);
        writer.write_packet(&PcapPacket::new(ts, data.len() as u32, data))?;
    }
    writer.into_writer().flush()?;
    Ok(())
}

/// The IPv6 exchange, its data segment in two fragments (a Fragment header, 8-byte
/// aligned offsets), the second sent first: the segment belongs to the frame that
/// completes it.
fn ipv6_fragments() -> Result<Vec<Vec<u8>>> {
    let mut frames = Vec::new();
    for line in &SCRIPT {
        let (_, packet) = tcp(line, true)?;
        if line.4.is_empty() {
            frames.push(ethernet(0x86dd, &packet));
            continue;
        }
        let (header, tcp) = packet.split_at(40);
        let cut = 16; // bytes of the TCP segment in the first fragment
        let fragment = |offset: usize, more: bool, bytes: &[u8]| {
            let mut ip = header.to_vec();
            ip[6] = 44; // next header: Fragment
            ip[4..6].copy_from_slice(&((8 + bytes.len()) as u16).to_be_bytes());
            let field = (offset as u16) | u16::from(more);
            ip.extend([6, 0]);
            ip.extend(field.to_be_bytes());
            ip.extend(0x0bad_cafe_u32.to_be_bytes());
            ip.extend_from_slice(bytes);
            ethernet(0x86dd, &ip)
        };
        frames.push(fragment(cut, false, &tcp[cut..]));
        frames.push(fragment(0, true, &tcp[..cut]));
    }
    Ok(frames)
}

/// The exchange as CAPWAP data carrying 802.3 frames, each in two fragments (Wireshark
/// reassembles them by default): the first 32 bytes, then the rest (offset 4 in 8-byte
/// units), sent in the other order for segments with data, so that the first fragment
/// completes those.
fn capwap_fragments() -> Result<Vec<Vec<u8>>> {
    let mut frames = Vec::new();
    for (id, line) in (1u16..).zip(&SCRIPT) {
        let (_, ip) = tcp(line, false)?;
        let frame = ethernet(0x0800, &ip);
        let (first, rest) = frame.split_at(32);
        // Preamble, HLEN 2 words, binding 1, F (fragment) and, for the last, L.
        let fragment = |last: bool, units: u16, bytes: &[u8]| {
            let flags = if last { 0xc0 } else { 0x80 };
            let mut header = vec![0x00, 0x10, 0x02, flags];
            header.extend(id.to_be_bytes());
            header.extend((units << 3).to_be_bytes());
            outer_udp(5247, &[&header[..], bytes].concat())
        };
        let pieces = [fragment(false, 0, first), fragment(true, 4, rest)];
        if line.4.is_empty() {
            frames.extend(pieces);
        } else {
            frames.extend(pieces.into_iter().rev());
        }
    }
    Ok(frames)
}

fn main() -> Result<()> {
    std::fs::create_dir_all("fixtures/encap")?;
    for (name, linktype, wrap) in CASES {
        let frames: Vec<Vec<u8>> = SCRIPT
            .iter()
            .map(|line| tcp(line, false).map(|(c, ip)| wrap(&ip, c)))
            .collect::<Result<_>>()?;
        write(&format!("fixtures/encap/{name}.pcap"), *linktype, &frames)?;
    }
    write("fixtures/encap/ipv6-fragments.pcap", 1, &ipv6_fragments()?)?;
    write(
        "fixtures/encap/capwap-fragments.pcap",
        1,
        &capwap_fragments()?,
    )?;
    Ok(())
}
