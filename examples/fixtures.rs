//! Builds the derived fixtures from the real captures that `fixtures/capture.sh` records:
//! link-type and container variants of the classic exchange, a capture that starts
//! mid-connection, a retransmitted SYN, and the macOS-style exchange on BSD loopback, built
//! packet by packet. `cargo run --example fixtures` (writes into fixtures/).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::Ipv4Addr;
use std::time::Duration;

use etherparse::PacketBuilder;
use flate2::Compression;
use flate2::write::GzEncoder;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::{DataLink, Endianness, TsResolution};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A packet: timestamp and link-layer bytes.
#[derive(Clone)]
struct Packet {
    ts: Duration,
    data: Vec<u8>,
}

const ETHERNET_HEADER: usize = 14;

fn read(path: &str) -> Result<Vec<Packet>> {
    let mut reader = PcapReader::new(File::open(path)?)?;
    let mut packets = Vec::new();
    while let Some(p) = reader.next_packet() {
        let p = p?;
        packets.push(Packet {
            ts: p.timestamp,
            data: p.data.into_owned(),
        });
    }
    Ok(packets)
}

fn write_pcap(path: &str, header: PcapHeader, packets: &[Packet]) -> Result<()> {
    let mut writer = PcapWriter::with_header(BufWriter::new(File::create(path)?), header)?;
    for p in packets {
        writer.write_packet(&PcapPacket::new(p.ts, p.data.len() as u32, &p.data))?;
    }
    writer.into_writer().flush()?;
    Ok(())
}

fn header(datalink: DataLink) -> PcapHeader {
    PcapHeader {
        datalink,
        endianness: Endianness::Little,
        snaplen: 262_144,
        ..PcapHeader::default()
    }
}

/// The IP packet inside an Ethernet frame.
fn ip_of(p: &Packet) -> Vec<u8> {
    p.data.get(ETHERNET_HEADER..).unwrap_or_default().to_vec()
}

fn main() -> Result<()> {
    let classic = read("fixtures/classic.pcap")?;

    // Raw IP (LINKTYPE_RAW, 101).
    let raw: Vec<Packet> = classic
        .iter()
        .map(|p| Packet {
            ts: p.ts,
            data: ip_of(p),
        })
        .collect();
    write_pcap("fixtures/classic-raw.pcap", header(DataLink::RAW), &raw)?;

    // Linux cooked capture v2 (276): protocol, reserved, ifindex, ARPHRD_LOOPBACK, packet
    // type (host), address length, address.
    let sll2: Vec<Packet> = classic
        .iter()
        .map(|p| {
            let mut data = vec![
                0x08, 0x00, 0, 0, 0, 0, 0, 1, 0x03, 0x04, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0,
            ];
            data.extend(ip_of(p));
            Packet { ts: p.ts, data }
        })
        .collect();
    write_pcap(
        "fixtures/classic-sll2.pcap",
        header(DataLink::LINUX_SLL2),
        &sll2,
    )?;

    // Captured on Linux's `any`: Linux cooked v1 (113), each loopback packet twice, on
    // its way out (packet type 4) and in (0), a microsecond apart.
    let any: Vec<Packet> = classic
        .iter()
        .flat_map(|p| {
            [(4u8, 0u64), (0, 1)].map(|(kind, later)| {
                let mut data = vec![
                    0, kind, 0x03, 0x04, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00,
                ];
                data.extend(ip_of(p));
                Packet {
                    ts: p.ts + Duration::from_micros(later),
                    data,
                }
            })
        })
        .collect();
    write_pcap(
        "fixtures/classic-any.pcap",
        header(DataLink::LINUX_SLL),
        &any,
    )?;

    // Big-endian pcap with nanosecond timestamps.
    let be_nano = PcapHeader {
        endianness: Endianness::Big,
        ts_resolution: TsResolution::NanoSecond,
        ..header(DataLink::ETHERNET)
    };
    write_pcap("fixtures/classic-be-nano.pcap", be_nano, &classic)?;

    // gzip-compressed pcap, as tshark reads it.
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    {
        let mut writer = PcapWriter::with_header(&mut gz, header(DataLink::ETHERNET))?;
        for p in &classic {
            writer.write_packet(&PcapPacket::new(p.ts, p.data.len() as u32, &p.data))?;
        }
    }
    std::fs::write("fixtures/classic.pcap.gz", gz.finish()?)?;

    // pcapng with two interfaces: Ethernet in nanoseconds and raw IP in microseconds; the
    // packets alternate between them.
    let mut ng = PcapNgWriter::new(BufWriter::new(File::create("fixtures/classic.pcapng")?))?;
    ng.write_pcapng_block(InterfaceDescriptionBlock {
        linktype: DataLink::ETHERNET,
        snaplen: 262_144,
        options: vec![InterfaceDescriptionOption::IfTsResol(9)],
    })?;
    ng.write_pcapng_block(InterfaceDescriptionBlock {
        linktype: DataLink::RAW,
        snaplen: 262_144,
        options: vec![],
    })?;
    for (i, p) in classic.iter().enumerate() {
        let (interface_id, data, ticks) = if i % 2 == 0 {
            (0, p.data.clone(), p.ts.as_nanos() as u64)
        } else {
            (1, ip_of(p), p.ts.as_micros() as u64)
        };
        ng.write_pcapng_block(EnhancedPacketBlock {
            interface_id,
            // pcap-file stores this count of interface units as it is.
            timestamp: Duration::from_nanos(ticks),
            original_len: data.len() as u32,
            data: data.into(),
            options: vec![],
        })?;
    }
    ng.into_inner().flush()?;

    // Started mid-connection: the handshake is not in the capture.
    write_pcap(
        "fixtures/midstream.pcap",
        header(DataLink::ETHERNET),
        classic.get(3..).unwrap_or_default(),
    )?;

    // The first SYN went unanswered; Linux retransmits it after one second.
    let mut retransmit = Vec::new();
    if let Some(syn) = classic.first() {
        retransmit.push(syn.clone());
        for p in &classic {
            retransmit.push(Packet {
                ts: p.ts + Duration::from_secs(1),
                data: p.data.clone(),
            });
        }
    }
    write_pcap(
        "fixtures/syn-retransmit.pcap",
        header(DataLink::ETHERNET),
        &retransmit,
    )?;

    write_pcap(
        "fixtures/classic-null.pcap",
        header(DataLink::NULL),
        &macos_exchange()?,
    )?;
    write_pcap(
        "fixtures/simultaneous.pcap",
        header(DataLink::RAW),
        &simultaneous()?,
    )?;
    Ok(())
}

/// (microseconds, from client, flags, seq, ack, payload)
type Line<'a> = (u64, bool, &'a str, u32, u32, &'a [u8]);

/// IPv4 packets between 127.0.0.1 ports `c` and `s`, each after `link` header bytes.
fn scripted(c: u16, s: u16, link: &[u8], script: &[Line]) -> Result<Vec<Packet>> {
    let lo = Ipv4Addr::LOCALHOST.octets();
    let mut packets = Vec::new();
    for &(us, from_client, flags, seq, ack, payload) in script {
        let (sport, dport) = if from_client { (c, s) } else { (s, c) };
        let mut tcp = PacketBuilder::ipv4(lo, lo, 64).tcp(sport, dport, seq, 6379);
        for f in flags.chars() {
            tcp = match f {
                'S' => tcp.syn(),
                'A' => tcp.ack(ack),
                'F' => tcp.fin(),
                'P' => tcp.psh(),
                _ => tcp,
            };
        }
        let mut data = link.to_vec();
        tcp.write(&mut data, payload)?;
        packets.push(Packet {
            ts: Duration::from_secs(1_700_000_000) + Duration::from_micros(us),
            data,
        });
    }
    Ok(packets)
}

/// Both ends open at once (two SYNs, two SYN-ACKs) and close at once: the FINs cross, so
/// neither acknowledges the other and both ends pass through CLOSING (RFC 9293 §3.5, §3.6).
fn simultaneous() -> Result<Vec<Packet>> {
    const A: u32 = 1_000;
    const B: u32 = 5_000;
    let ping: &[u8] = b"ping";
    let script: [Line; 10] = [
        (0, true, "S", A, 0, &[]),
        (10, false, "S", B, 0, &[]),
        (20, true, "SA", A, B + 1, &[]),
        (30, false, "SA", B, A + 1, &[]),
        (40, true, "PA", A + 1, B + 1, ping),
        (50, false, "A", B + 1, A + 5, &[]),
        (60, true, "FA", A + 5, B + 1, &[]),
        (70, false, "FA", B + 1, A + 5, &[]),
        (80, true, "A", A + 6, B + 2, &[]),
        (90, false, "A", B + 2, A + 6, &[]),
    ];
    scripted(40_001, 40_002, &[], &script)
}

/// The classic exchange as macOS shows it on lo0 (BSD NULL link type): the client closes
/// first, the server acknowledges the FIN on its own, then sends its FIN.
fn macos_exchange() -> Result<Vec<Packet>> {
    const C: u16 = 59_561;
    const S: u16 = 12_345;
    const C_ISN: u32 = 0xFFFF_FFF0; // the relative numbers cross 2^32
    const S_ISN: u32 = 1_029_414_513;
    let msg: &[u8] = b"I'm TCP client";
    let script: [Line; 9] = [
        (0, true, "S", C_ISN, 0, &[]),
        (95, false, "SA", S_ISN, C_ISN.wrapping_add(1), &[]),
        (120, true, "A", C_ISN.wrapping_add(1), S_ISN + 1, &[]),
        (180, true, "PA", C_ISN.wrapping_add(1), S_ISN + 1, msg),
        (200, false, "A", S_ISN + 1, C_ISN.wrapping_add(15), &[]),
        (260, true, "FA", C_ISN.wrapping_add(15), S_ISN + 1, &[]),
        (280, false, "A", S_ISN + 1, C_ISN.wrapping_add(16), &[]),
        (350, false, "FA", S_ISN + 1, C_ISN.wrapping_add(16), &[]),
        (400, true, "A", C_ISN.wrapping_add(16), S_ISN + 2, &[]),
    ];
    // BSD NULL header: the address family in the capturing host's (little-endian) order.
    scripted(C, S, &2u32.to_le_bytes(), &script)
}
