//! Writes synthetic captures, deterministic from a seed, for benchmarks and stress tests.
//!
//! ```text
//! cargo run --release --example gen -- [OPTIONS] OUTPUT
//!   --conns N         complete connections (default 1000)
//!   --data M          data segments per connection, each acknowledged (default 6)
//!   --payload BYTES   payload of each data segment (default 64)
//!   --concurrency C   connections open at a time, interleaved (default 100)
//!   --retransmit P    probability that a data segment is sent twice (default 0)
//!   --syn-flood N     instead: N SYNs to one port from distinct sources, never answered
//!   --linktype L      ethernet | null | raw (default ethernet)
//!   --pcapng          write pcapng instead of pcap
//!   --seed S          (default 1)
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::Duration;

use etherparse::PacketBuilder;
use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;
type Endpoint = ([u8; 4], u16);

#[derive(Clone, Copy, PartialEq)]
enum Link {
    Ethernet,
    Null,
    Raw,
}

struct Options {
    conns: u64,
    data: u32,
    payload: usize,
    concurrency: usize,
    retransmit: f64,
    syn_flood: Option<u64>,
    link: Link,
    pcapng: bool,
    seed: u64,
    output: String,
}

fn options() -> Result<Options> {
    let mut o = Options {
        conns: 1000,
        data: 6,
        payload: 64,
        concurrency: 100,
        retransmit: 0.0,
        syn_flood: None,
        link: Link::Ethernet,
        pcapng: false,
        seed: 1,
        output: String::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--conns" => o.conns = value()?.parse()?,
            "--data" => o.data = value()?.parse()?,
            "--payload" => o.payload = value()?.parse()?,
            "--concurrency" => o.concurrency = value()?.parse::<usize>()?.max(1),
            "--retransmit" => o.retransmit = value()?.parse()?,
            "--syn-flood" => o.syn_flood = Some(value()?.parse()?),
            "--linktype" => {
                o.link = match value()?.as_str() {
                    "ethernet" => Link::Ethernet,
                    "null" => Link::Null,
                    "raw" => Link::Raw,
                    other => return Err(format!("unknown link type {other}").into()),
                }
            }
            "--pcapng" => o.pcapng = true,
            "--seed" => o.seed = value()?.parse()?,
            out if !out.starts_with("--") => o.output = out.to_string(),
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    if o.output.is_empty() {
        return Err("usage: gen [OPTIONS] OUTPUT".into());
    }
    Ok(o)
}

/// xorshift64*: small, fast and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }
}

enum Sink {
    Pcap(PcapWriter<BufWriter<File>>),
    PcapNg(PcapNgWriter<BufWriter<File>>),
}

impl Sink {
    fn write(&mut self, ts: Duration, data: &[u8]) -> Result<()> {
        match self {
            Sink::Pcap(w) => {
                w.write_packet(&PcapPacket::new(ts, data.len() as u32, data))?;
            }
            Sink::PcapNg(w) => {
                w.write_pcapng_block(EnhancedPacketBlock {
                    interface_id: 0,
                    timestamp: ts,
                    original_len: data.len() as u32,
                    data: data.into(),
                    options: vec![],
                })?;
            }
        }
        Ok(())
    }
}

/// One segment of a scripted connection.
#[derive(Clone, Copy)]
struct Seg {
    from_client: bool,
    syn: bool,
    ack: bool,
    fin: bool,
    seq: u32,
    ack_no: u32,
    len: usize,
}

/// The segments of a complete connection: handshake, `data` acknowledged segments from the
/// client, a four-way close by the client.
fn script(c_isn: u32, s_isn: u32, data: u32, payload: usize) -> Vec<Seg> {
    let seg = |from_client, syn, ack, fin, seq, ack_no, len| Seg {
        from_client,
        syn,
        ack,
        fin,
        seq,
        ack_no,
        len,
    };
    let mut c = c_isn;
    let mut s = s_isn;
    let mut out = vec![seg(true, true, false, false, c, 0, 0)];
    c = c.wrapping_add(1);
    out.push(seg(false, true, true, false, s, c, 0));
    s = s.wrapping_add(1);
    out.push(seg(true, false, true, false, c, s, 0));
    for _ in 0..data {
        out.push(seg(true, false, true, false, c, s, payload));
        c = c.wrapping_add(payload as u32);
        out.push(seg(false, false, true, false, s, c, 0));
    }
    out.push(seg(true, false, true, true, c, s, 0));
    c = c.wrapping_add(1);
    out.push(seg(false, false, true, false, s, c, 0));
    out.push(seg(false, false, true, true, s, c, 0));
    s = s.wrapping_add(1);
    out.push(seg(true, false, true, false, c, s, 0));
    out
}

fn frame(
    link: Link,
    client: ([u8; 4], u16),
    server: ([u8; 4], u16),
    seg: &Seg,
    buf: &mut Vec<u8>,
) -> Result<()> {
    let ((src, sport), (dst, dport)) = if seg.from_client {
        (client, server)
    } else {
        (server, client)
    };
    buf.clear();
    let ip = match link {
        Link::Ethernet => PacketBuilder::ethernet2([0; 6], [0; 6]).ipv4(src, dst, 64),
        Link::Null => {
            buf.extend(2u32.to_le_bytes());
            PacketBuilder::ipv4(src, dst, 64)
        }
        Link::Raw => PacketBuilder::ipv4(src, dst, 64),
    };
    let mut tcp = ip.tcp(sport, dport, seg.seq, 512);
    if seg.syn {
        tcp = tcp.syn();
    }
    if seg.ack {
        tcp = tcp.ack(seg.ack_no);
    }
    if seg.fin {
        tcp = tcp.fin();
    }
    if seg.len > 0 {
        tcp = tcp.psh();
    }
    static ZEROS: [u8; 65_536] = [0; 65_536];
    tcp.write(buf, ZEROS.get(..seg.len).unwrap_or_default())?;
    Ok(())
}

fn main() -> Result<()> {
    let o = options()?;
    let datalink = match o.link {
        Link::Ethernet => DataLink::ETHERNET,
        Link::Null => DataLink::NULL,
        Link::Raw => DataLink::RAW,
    };
    let file = BufWriter::with_capacity(1 << 20, File::create(&o.output)?);
    let mut sink = if o.pcapng {
        let mut w = PcapNgWriter::new(file)?;
        w.write_pcapng_block(InterfaceDescriptionBlock {
            linktype: datalink,
            snaplen: 262_144,
            options: vec![InterfaceDescriptionOption::IfTsResol(9)],
        })?;
        Sink::PcapNg(w)
    } else {
        let header = PcapHeader {
            datalink,
            snaplen: 262_144,
            endianness: pcap_file::Endianness::Little,
            ..PcapHeader::default()
        };
        Sink::Pcap(PcapWriter::with_header(file, header)?)
    };
    let mut rng = Rng(o.seed.max(1));
    let mut buf = Vec::with_capacity(2048);
    let mut ts = Duration::from_secs(1_700_000_000);
    let step = Duration::from_micros(10);
    let server = ([10, 0, 0, 1], 80);
    let mut packets = 0u64;

    if let Some(n) = o.syn_flood {
        for i in 0..n {
            let client = (
                [10, 1 + (i >> 16) as u8, (i >> 8) as u8, i as u8],
                1024 + (i % 60_000) as u16,
            );
            let syn = Seg {
                from_client: true,
                syn: true,
                ack: false,
                fin: false,
                seq: rng.next() as u32,
                ack_no: 0,
                len: 0,
            };
            frame(o.link, client, server, &syn, &mut buf)?;
            sink.write(ts, &buf)?;
            ts += Duration::from_micros(1);
            packets += 1;
        }
    } else {
        // Open connections: client endpoint, script, position in it.
        let mut open: Vec<(Endpoint, Vec<Seg>, usize)> = Vec::new();
        let mut started = 0u64;
        loop {
            while open.len() < o.concurrency && started < o.conns {
                let client = (
                    [
                        10,
                        2 + (started >> 16) as u8,
                        (started >> 8) as u8,
                        started as u8,
                    ],
                    1024 + (started % 60_000) as u16,
                );
                open.push((
                    client,
                    script(rng.next() as u32, rng.next() as u32, o.data, o.payload),
                    0,
                ));
                started += 1;
            }
            if open.is_empty() {
                break;
            }
            let pick = (rng.next() % open.len() as u64) as usize;
            let Some((client, segs, at)) = open.get_mut(pick) else {
                break;
            };
            let Some(seg) = segs.get(*at).copied() else {
                break;
            };
            frame(o.link, *client, server, &seg, &mut buf)?;
            sink.write(ts, &buf)?;
            packets += 1;
            ts += step;
            if seg.len > 0 && rng.chance(o.retransmit) {
                sink.write(ts, &buf)?;
                packets += 1;
                ts += step;
            }
            *at += 1;
            if *at == segs.len() {
                open.swap_remove(pick);
            }
        }
    }
    match sink {
        Sink::Pcap(w) => w.into_writer().flush()?,
        Sink::PcapNg(w) => w.into_inner().flush()?,
    }
    eprintln!("{}: {packets} packets", o.output);
    Ok(())
}
