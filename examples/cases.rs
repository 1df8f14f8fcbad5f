//! Builds, packet by packet, one small capture per Wireshark TCP analysis flag
//! (`fixtures/analysis/`) and per Zeek connection state (`fixtures/zeek/`), each the
//! shortest exchange that shows it. `cargo run --example cases` (writes into fixtures/).
//! What each must show is checked by `tests/cases.rs`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::Ipv4Addr;
use std::time::Duration;

use etherparse::{IpHeaders, IpNumber, Ipv4Header, PacketBuilder, PacketBuilderStep, TcpHeader};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, Endianness};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const CLIENT_ISN: u32 = 1_000;
const SERVER_ISN: u32 = 5_000;
const WINDOW: u16 = 6_379;

/// (µs, from client, flags, seq, ack, window, payload length); seq and ack count from
/// the sender's and the receiver's ISN.
type Line = (u64, bool, &'static str, u32, u32, u16, usize);

/// SYN, SYN-ACK, ACK, 100 µs from SYN to ACK (Wireshark's initial RTT).
const HANDSHAKE: [Line; 3] = [
    (0, true, "S", 0, 0, WINDOW, 0),
    (50, false, "SA", 0, 1, WINDOW, 0),
    (100, true, "A", 1, 1, WINDOW, 0),
];

fn with_handshake(rest: &[Line]) -> Vec<Line> {
    HANDSHAKE.iter().chain(rest).copied().collect()
}

/// Each case as `DIR/NAME.pcap`, the first on client port `first_port`, each next two up.
fn write_cases(dir: &str, first_port: u16, cases: &[(&str, Vec<Line>)]) -> Result<()> {
    for (port, (name, script)) in (first_port..).step_by(2).zip(cases) {
        write(&format!("{dir}/{name}.pcap"), port, script)?;
    }
    Ok(())
}

fn write(path: &str, port: u16, script: &[Line]) -> Result<()> {
    write_all(path, &[(port, script)])
}

/// Several connections in one capture, each on its own client port, their lines merged by
/// time.
/// An Ethernet pcap file at `path`, its header written.
fn ethernet_pcap(path: &str) -> Result<PcapWriter<BufWriter<File>>> {
    let header = PcapHeader {
        datalink: DataLink::ETHERNET,
        endianness: Endianness::Little,
        snaplen: 262_144,
        ..PcapHeader::default()
    };
    Ok(PcapWriter::with_header(
        BufWriter::new(File::create(path)?),
        header,
    )?)
}

fn write_all(path: &str, conns: &[(u16, &[Line])]) -> Result<()> {
    let mut writer = ethernet_pcap(path)?;
    let lo = Ipv4Addr::LOCALHOST.octets();
    let mut lines: Vec<(usize, Line)> = conns
        .iter()
        .enumerate()
        .flat_map(|(k, (_, script))| script.iter().map(move |&line| (k, line)))
        .collect();
    lines.sort_by_key(|&(k, line)| (line.0, k));
    // Each end numbers its packets (IPv4 identification), as real stacks do.
    let mut ids = vec![[0x4000u16, 0x8000]; conns.len()];
    for (k, (us, from_client, flags, seq, ack, window, len)) in lines {
        let port = conns[k].0;
        let (client, server) = (port, port + 1);
        let id = &mut ids[k][usize::from(!from_client)];
        *id = id.wrapping_add(1);
        let mut ip = Ipv4Header::new(0, 64, IpNumber::TCP, lo, lo)?;
        ip.identification = *id;
        ip.dont_fragment = true;
        let (sport, dport, isn, peer_isn) = if from_client {
            (client, server, CLIENT_ISN, SERVER_ISN)
        } else {
            (server, client, SERVER_ISN, CLIENT_ISN)
        };
        let tcp = PacketBuilder::ethernet2([0; 6], [0; 6])
            .ip(IpHeaders::Ipv4(ip, Default::default()))
            .tcp(sport, dport, isn.wrapping_add(seq), window);
        let tcp = with_flags(tcp, flags, peer_isn.wrapping_add(ack))?;
        let mut data = Vec::new();
        tcp.write(&mut data, &payload(flags, len))?;
        let ts = Duration::from_secs(1_700_000_000) + Duration::from_micros(us);
        writer.write_packet(&PcapPacket::new(ts, data.len() as u32, &data))?;
    }
    writer.into_writer().flush()?;
    Ok(())
}

fn main() -> Result<()> {
    std::fs::create_dir_all("fixtures/analysis")?;
    std::fs::create_dir_all("fixtures/zeek")?;
    std::fs::create_dir_all("fixtures/reset")?;
    let c = true;
    let s = false;
    let analysis: [(&str, Vec<Line>); 12] = [
        // The same 100 bytes again 200 ms later, long after the initial RTT.
        (
            "retransmission",
            with_handshake(&[
                (1_000, c, "PA", 1, 1, WINDOW, 100),
                (201_000, c, "PA", 1, 1, WINDOW, 100),
                (201_100, s, "A", 1, 101, WINDOW, 0),
            ]),
        ),
        // Three segments, three ACKs still asking for the first (duplicate ACKs #1-#3),
        // and the first sent again at once.
        (
            "fast-retransmission",
            with_handshake(&[
                (1_000, c, "A", 1, 1, WINDOW, 100),
                (1_010, c, "A", 101, 1, WINDOW, 100),
                (1_020, c, "A", 201, 1, WINDOW, 100),
                (1_100, s, "A", 1, 1, WINDOW, 0),
                (1_110, s, "A", 1, 1, WINDOW, 0),
                (1_120, s, "A", 1, 1, WINDOW, 0),
                (1_200, c, "A", 1, 1, WINDOW, 100),
                (1_300, s, "A", 1, 301, WINDOW, 0),
            ]),
        ),
        // Data sent again after the peer acknowledged it.
        (
            "spurious-retransmission",
            with_handshake(&[
                (1_000, c, "PA", 1, 1, WINDOW, 100),
                (1_100, s, "A", 1, 101, WINDOW, 0),
                (201_000, c, "PA", 1, 1, WINDOW, 100),
            ]),
        ),
        // The second segment first (the first is missing: previous segment lost), then the
        // first within the initial RTT: out of order.
        (
            "out-of-order",
            with_handshake(&[
                (1_000, c, "A", 101, 1, WINDOW, 100),
                (1_050, c, "A", 1, 1, WINDOW, 100),
                (1_200, s, "A", 1, 201, WINDOW, 0),
            ]),
        ),
        // The server acknowledges 100 bytes the capture never saw.
        (
            "acked-unseen",
            with_handshake(&[(1_000, s, "A", 1, 101, WINDOW, 0)]),
        ),
        // Two more ACKs of the same data, same window: duplicate ACKs #1 and #2.
        (
            "dup-ack",
            with_handshake(&[
                (1_000, c, "PA", 1, 1, WINDOW, 10),
                (1_100, s, "A", 1, 11, WINDOW, 0),
                (1_200, s, "A", 1, 11, WINDOW, 0),
                (1_300, s, "A", 1, 11, WINDOW, 0),
            ]),
        ),
        // The server's window closes; a 1-byte probe, its answer, then the window opens.
        (
            "zero-window",
            with_handshake(&[
                (1_000, c, "PA", 1, 1, WINDOW, 100),
                (1_100, s, "A", 1, 101, 0, 0),
                (300_000, c, "A", 101, 1, WINDOW, 1),
                (300_100, s, "A", 1, 101, 0, 0),
                (400_000, s, "A", 1, 101, WINDOW, 0),
                (400_100, c, "PA", 101, 1, WINDOW, 100),
            ]),
        ),
        // A SYN-ACK offering 300 bytes, and 300 bytes at once.
        (
            "window-full",
            vec![
                (0, c, "S", 0, 0, WINDOW, 0),
                (50, s, "SA", 0, 1, 300, 0),
                (100, c, "A", 1, 1, WINDOW, 0),
                (1_000, c, "PA", 1, 1, WINDOW, 300),
            ],
        ),
        // A minute of silence, then a keep-alive (one before the next number) and its ACK.
        (
            "keep-alive",
            with_handshake(&[
                (1_000, c, "PA", 1, 1, WINDOW, 10),
                (1_100, s, "A", 1, 11, WINDOW, 0),
                (60_001_000, c, "A", 10, 1, WINDOW, 0),
                (60_001_100, s, "A", 1, 11, WINDOW, 0),
            ]),
        ),
        // The server's window grows, nothing else changes: a window update.
        (
            "window-update",
            with_handshake(&[
                (1_000, c, "PA", 1, 1, WINDOW, 10),
                (1_100, s, "A", 1, 11, WINDOW, 0),
                (2_000, s, "A", 1, 11, 2 * WINDOW, 0),
            ]),
        ),
        // A four-way close, then a new SYN on the same 4-tuple with another ISN a second
        // later: the ports are reused, and a new connection begins.
        (
            "port-reused",
            with_handshake(&[
                (1_000, c, "FA", 1, 1, WINDOW, 0),
                (1_100, s, "A", 1, 2, WINDOW, 0),
                (1_200, s, "FA", 1, 2, WINDOW, 0),
                (1_300, c, "A", 2, 2, WINDOW, 0),
                (1_001_000, c, "S", 100_000, 0, WINDOW, 0),
                (1_001_050, s, "SA", 50_000, 100_001, WINDOW, 0),
                (1_001_100, c, "A", 100_001, 50_001, WINDOW, 0),
            ]),
        ),
        // 100 bytes, a reset, then a SYN sent again with the original ISN a second later,
        // and the same 100 bytes again (Wireshark issue 17616).
        (
            "syn-retry-same-isn",
            with_handshake(&[
                (1_000, c, "PA", 1, 1, WINDOW, 100),
                (1_100, s, "A", 1, 101, WINDOW, 0),
                (2_000, c, "R", 101, 0, WINDOW, 0),
                (1_002_000, c, "S", 0, 0, WINDOW, 0),
                (1_002_050, s, "SA", 0, 1, WINDOW, 0),
                (1_002_100, c, "A", 1, 1, WINDOW, 0),
                (1_003_000, c, "PA", 1, 1, WINDOW, 100),
                (1_003_100, s, "A", 1, 101, WINDOW, 0),
            ]),
        ),
    ];
    write_cases("fixtures/analysis", 41_000, &analysis)?;

    let zeek: [(&str, Vec<Line>); 13] = [
        // A SYN, unanswered.
        ("S0", vec![(0, c, "S", 0, 0, WINDOW, 0)]),
        // Established, data both ways, never closed.
        (
            "S1",
            with_handshake(&[
                (1_000, c, "PA", 1, 1, WINDOW, 10),
                (1_100, s, "A", 1, 11, WINDOW, 0),
            ]),
        ),
        // Established; the originator's FIN only.
        ("S2", with_handshake(&[(1_000, c, "FA", 1, 1, WINDOW, 0)])),
        // Established; the responder's FIN only.
        ("S3", with_handshake(&[(1_000, s, "FA", 1, 1, WINDOW, 0)])),
        // Established, then the responder resets.
        ("RSTR", with_handshake(&[(1_000, s, "RA", 1, 1, WINDOW, 0)])),
        // A SYN, then the originator's own RST.
        (
            "RSTOS0",
            vec![
                (0, c, "S", 0, 0, WINDOW, 0),
                (1_000, c, "R", 1, 0, WINDOW, 0),
            ],
        ),
        // Only the responder is seen: its SYN-ACK, then its RST.
        (
            "RSTRH",
            vec![
                (0, s, "SA", 0, 1, WINDOW, 0),
                (1_000, s, "R", 1, 0, WINDOW, 0),
            ],
        ),
        // A SYN, then the originator's FIN, never answered.
        (
            "SH",
            vec![
                (0, c, "S", 0, 0, WINDOW, 0),
                (1_000, c, "F", 1, 0, WINDOW, 0),
            ],
        ),
        // Only the responder is seen: its SYN-ACK, then its FIN.
        (
            "SHR",
            vec![
                (0, s, "SA", 0, 1, WINDOW, 0),
                (1_000, s, "FA", 1, 1, WINDOW, 0),
            ],
        ),
        // Midstream, one data segment and its ACK: neither a handshake nor a close.
        (
            "OTH",
            vec![
                (0, c, "PA", 1, 1, WINDOW, 10),
                (100, s, "A", 1, 11, WINDOW, 0),
            ],
        ),
        // Handshake, data, and a close from both sides: the normal connection.
        (
            "SF",
            with_handshake(&[
                (1_000, c, "PA", 1, 1, WINDOW, 10),
                (1_100, s, "A", 1, 11, WINDOW, 0),
                (2_000, c, "FA", 11, 1, WINDOW, 0),
                (2_100, s, "FA", 1, 12, WINDOW, 0),
                (2_200, c, "A", 12, 2, WINDOW, 0),
            ]),
        ),
        // A SYN answered by a RST: the connection attempt is rejected.
        (
            "REJ",
            vec![(0, c, "S", 0, 0, WINDOW, 0), (50, s, "RA", 0, 1, 0, 0)],
        ),
        // Established, then the originator resets.
        (
            "RSTO",
            with_handshake(&[
                (1_000, c, "PA", 1, 1, WINDOW, 10),
                (1_100, s, "A", 1, 11, WINDOW, 0),
                (2_000, c, "RA", 11, 1, WINDOW, 0),
            ]),
        ),
    ];
    // Zeek's history letters that no state case shows (update_history and
    // ScaledHistoryEntry in TCPSessionAdapter.cc): FIN and RST in one packet (`I`), SYN
    // and FIN in one packet (`Q`), and letters counted on a scale, written at the 1st,
    // 10th, 100th … time: ten retransmissions (`T` twice) and ten zero windows (`w` twice).
    let mut retransmitted = with_handshake(&[(1_000, c, "PA", 1, 1, WINDOW, 100)]);
    let mut zero_windows = with_handshake(&[(1_000, c, "PA", 1, 1, WINDOW, 100)]);
    for k in 1..=10u64 {
        retransmitted.push((1_000 + k * 200_000, c, "PA", 1, 1, WINDOW, 100));
        zero_windows.push((1_000 + k * 200_000, s, "A", 1, 101, 0, 0));
    }
    retransmitted.push((2_100_000, s, "A", 1, 101, WINDOW, 0));
    // A segment lost on the way (not captured), the 100 after it answered by duplicate
    // ACKs, then the loss sent again: Zeek's reassembler holds the 10,000 bytes beyond the
    // hole as one stretch, so the retransmission fills it and the ACK reveals no gap (no
    // `G`; the retransmission is a `T`).
    let mut recovered = with_handshake(&[
        (1_000, c, "PA", 1, 1, WINDOW, 100),
        (1_100, s, "A", 1, 101, WINDOW, 0),
    ]);
    for k in 0..100u32 {
        let t = 2_000 + u64::from(k) * 10;
        recovered.push((t, c, "A", 201 + 100 * k, 1, WINDOW, 100));
        recovered.push((t + 5, s, "A", 1, 101, WINDOW, 0));
    }
    recovered.extend([
        (10_000, c, "A", 101, 1, WINDOW, 100),
        (10_100, s, "A", 1, 10_201, WINDOW, 0),
        (20_000, c, "FA", 10_201, 1, WINDOW, 0),
        (20_100, s, "FA", 1, 10_202, WINDOW, 0),
        (20_200, c, "A", 10_202, 2, WINDOW, 0),
    ]);
    let history = [
        (
            "history-I",
            with_handshake(&[(1_000, c, "FRA", 1, 1, WINDOW, 0)]),
        ),
        ("history-Q", vec![(0, c, "SF", 0, 0, WINDOW, 0)]),
        ("history-T", retransmitted),
        ("history-W", zero_windows),
        // Zeek keeps a reset connection 5 s (tcp_reset_delay): the responder's FIN 1 ms
        // after the originator's RST still counts in its record (`f`); the same FIN again
        // 6 s later comes after the record was written.
        (
            "history-after-reset",
            with_handshake(&[
                (1_000, c, "RA", 1, 1, WINDOW, 0),
                (2_000, s, "FA", 1, 1, WINDOW, 0),
                (6_002_000, s, "FA", 1, 1, WINDOW, 0),
            ]),
        ),
        ("history-no-gap-after-recovery", recovered),
    ];
    write_cases("fixtures/zeek", 42_100, &history)?;
    // A transfer of ten 1000-byte segments, each acknowledged, then a four-way close:
    // what a diagram folds.
    let mut bulk = HANDSHAKE.to_vec();
    for k in 0..10u32 {
        let t = 1_000 + u64::from(k) * 100;
        bulk.push((t, c, "A", 1 + 1_000 * k, 1, WINDOW, 1_000));
        bulk.push((t + 50, s, "A", 1, 1 + 1_000 * (k + 1), WINDOW, 0));
    }
    bulk.extend([
        (3_000, c, "FA", 10_001, 1, WINDOW, 0),
        (3_050, s, "A", 1, 10_002, WINDOW, 0),
        (3_100, s, "FA", 1, 10_002, WINDOW, 0),
        (3_150, c, "A", 10_002, 2, WINDOW, 0),
    ]);
    write("fixtures/bulk.pcap", 43_000, &bulk)?;

    // Two connections at once: the second opens later and closes first, the first is reset
    // after it, more than Zeek's 5 s later, so their records finish in the other order than
    // their indexes.
    let first = with_handshake(&[
        (1_000, c, "PA", 1, 1, WINDOW, 10),
        (1_100, s, "A", 1, 11, WINDOW, 0),
        (6_000_000, c, "RA", 11, 1, WINDOW, 0),
    ]);
    let second: Vec<Line> = with_handshake(&[
        (1_000, c, "FA", 1, 1, WINDOW, 0),
        (1_100, s, "FA", 1, 2, WINDOW, 0),
        (1_200, c, "A", 2, 2, WINDOW, 0),
    ])
    .into_iter()
    .map(|(us, from_client, flags, seq, ack, window, len)| {
        (us + 500, from_client, flags, seq, ack, window, len)
    })
    .collect();
    write_all(
        "fixtures/interleaved.pcap",
        &[(43_100, &first), (43_200, &second)],
    )?;

    write_cases("fixtures/zeek", 42_000, &zeek)?;
    write_cases("fixtures/reset", 44_000, &reset_causes())?;
    // An abortive close whose RST says why in words, as some stacks and middleboxes do.
    write(
        "fixtures/reset/rst-text.pcap",
        44_100,
        &with_handshake(&[
            (1_000, c, "PA", 1, 1, WINDOW, 10),
            (1_100, s, "A", 1, 11, WINDOW, 0),
            (2_000, c, "RA", 11, 1, WINDOW, RST_TEXT.len()),
        ]),
    )?;
    icmp_quotes("fixtures/analysis/icmp-quoted.pcap")?;
    header_lengths("fixtures/analysis/header-lengths.pcap")?;
    mptcp_options("fixtures/analysis/mptcp-options.pcap")?;
    ftp_passive("fixtures/analysis/ftp-passive.pcap")?;
    Ok(())
}

/// One connection per reset cause (SPEC.md `reset_cause`), each ending in the RST that
/// the cause names.
/// A RST carries words (RFC 9293 §3.5.3 lets it carry diagnostic text); data is `x`s.
const RST_TEXT: &[u8] = b"aborted: data unread";

fn payload(flags: &str, len: usize) -> Vec<u8> {
    match RST_TEXT.get(..len) {
        Some(text) if flags.contains('R') => text.to_vec(),
        _ => vec![b'x'; len],
    }
}

fn reset_causes() -> [(&'static str, Vec<Line>); 6] {
    let (c, s) = (true, false);
    [
        // The SYN answered by a RST: nothing listens on the port.
        (
            "refused",
            vec![(0, c, "S", 0, 0, WINDOW, 0), (50, s, "RA", 0, 1, 0, 0)],
        ),
        // The client sends, then resets instead of closing: its RST acknowledges what it
        // had received (`SO_LINGER` 0, or unread data at close).
        (
            "abortive-close",
            with_handshake(&[
                (1_000, c, "PA", 1, 1, WINDOW, 10),
                (1_100, s, "A", 1, 11, WINDOW, 0),
                (2_000, c, "RA", 11, 1, WINDOW, 0),
            ]),
        ),
        // The server closes; the client still sends, and the server, closed, resets with
        // the sequence number the data acknowledged and no ACK (as Linux does).
        (
            "data-after-close",
            with_handshake(&[
                (1_000, s, "FA", 1, 1, WINDOW, 0),
                (1_100, c, "A", 1, 2, WINDOW, 0),
                (2_000, c, "PA", 1, 2, WINDOW, 10),
                (2_100, s, "R", 2, 0, 0, 0),
            ]),
        ),
        // The server restarted and no longer knows the connection: the client's data is
        // answered by a RST without ACK (RFC 9293 §3.10.7.1).
        (
            "half-open",
            with_handshake(&[
                (1_000, c, "PA", 1, 1, WINDOW, 10),
                (1_100, s, "R", 1, 0, 0, 0),
            ]),
        ),
        // Both FINs, then a RST where the final ACK would be.
        (
            "after-fin",
            with_handshake(&[
                (1_000, c, "FA", 1, 1, WINDOW, 0),
                (1_100, s, "FA", 1, 2, WINDOW, 0),
                (1_200, c, "RA", 2, 2, WINDOW, 0),
            ]),
        ),
        // The client gives up its own SYN: none of the causes above.
        (
            "other",
            vec![(0, c, "S", 0, 0, WINDOW, 0), (1_000, c, "R", 1, 0, 0, 0)],
        ),
    ]
}

/// A handshake, an ICMP port unreachable quoting a whole TCP header of a 4-tuple not yet
/// seen (Wireshark gives it a `tcp.stream`), one quoting only 8 bytes of another (it does
/// not), then handshakes on a new 4-tuple and on the quoted one, which takes the number
/// the quote took.
fn icmp_quotes(path: &str) -> Result<()> {
    let syn = |port: u16| segment_frame((port, port + 1), CLIENT_ISN, 0, "S", 0);
    let frames = [
        handshake_frames(44_000, CLIENT_ISN, SERVER_ISN)?,
        vec![
            icmp_unreachable(&syn(44_100)?, 20)?,
            icmp_unreachable(&syn(44_200)?, 8)?,
        ],
        handshake_frames(44_300, CLIENT_ISN, SERVER_ISN)?,
        handshake_frames(44_100, CLIENT_ISN, SERVER_ISN)?,
    ];
    write_frames(path, &frames.concat())
}

/// TCP headers whose length field is impossible, read as Wireshark 4.0 reads them (TShark
/// agrees on every frame). A header longer than its datagram gives no segment but does
/// give a conversation: a SYN with a new ISN on a closed 4-tuple opens the next
/// connection, which the real handshake then joins (no port reuse), and on an unseen
/// 4-tuple it reserves a number. A header shorter than 20 bytes is a segment as any other,
/// its length the datagram's rest: here 8 bytes at Seq=1, so that the 4 bytes sent there
/// next are out of order. An ICMP error quoting a SYN with a new ISN on a closed
/// 4-tuple opens the next connection as the long header does.
fn header_lengths(path: &str) -> Result<()> {
    // The frame with its TCP header's length field set to `words` 4-byte words.
    let with_length = |mut frame: Vec<u8>, words: u8| -> Vec<u8> {
        if let Some(byte) = frame.get_mut(14 + 20 + 12) {
            *byte = words << 4 | (*byte & 0x0f);
        }
        frame
    };
    let (isn, peer_isn, new_isn, new_peer_isn) = (CLIENT_ISN, SERVER_ISN, 9_000, 7_000);
    let fin_close = |c: u16| -> Result<Vec<Vec<u8>>> {
        Ok(vec![
            segment_frame((c, c + 1), isn + 1, peer_isn + 1, "FA", 0)?,
            segment_frame((c + 1, c), peer_isn + 1, isn + 2, "FA", 0)?,
            segment_frame((c, c + 1), isn + 2, peer_isn + 2, "A", 0)?,
        ])
    };
    let (a, b, c, d, e) = (44_400, 44_500, 44_600, 44_700, 44_800);
    let frames = [
        handshake_frames(a, isn, peer_isn)?,
        fin_close(a)?,
        vec![with_length(
            segment_frame((a, a + 1), new_isn, 0, "S", 0)?,
            15,
        )],
        handshake_frames(a, new_isn, new_peer_isn)?,
        handshake_frames(b, isn, peer_isn)?,
        vec![
            with_length(segment_frame((b, b + 1), isn + 1, peer_isn + 1, "A", 4)?, 4),
            segment_frame((b, b + 1), isn + 1, peer_isn + 1, "A", 4)?,
        ],
        handshake_frames(c, isn, peer_isn)?,
        vec![
            segment_frame((c, c + 1), isn + 1, peer_isn + 1, "RA", 0)?,
            icmp_unreachable(&segment_frame((c, c + 1), new_isn, 0, "S", 0)?, 20)?,
        ],
        handshake_frames(c, new_isn, new_peer_isn)?,
        vec![with_length(segment_frame((d, d + 1), isn, 0, "S", 0)?, 15)],
        handshake_frames(e, isn, peer_isn)?,
        handshake_frames(d, isn, peer_isn)?,
    ];
    write_frames(path, &frames.concat())
}

/// MPTCP options as Wireshark 4.0 reads them (TShark agrees on every frame). A SYN whose
/// 3-byte DSS option ends before its flags stops Wireshark's dissection, so the same SYN
/// sent again shows no retransmission. Then, on a handshake without MPTCP, three equal
/// ACKs that carry a DSS option: the first is a duplicate ACK (options are read after the
/// analysis), the second is not (MPTCP tolerates duplicate ACKs once a new kind of option
/// appeared), the third is duplicate #2.
fn mptcp_options(path: &str) -> Result<()> {
    const MSS_AND_SHORT_DSS: [u8; 8] = [2, 4, 0x40, 0x0c, 30, 3, 0x20, 0];
    const DSS_DATA_ACK: [u8; 8] = [30, 8, 0x20, 0x01, 0, 0, 0, 1];
    let (p, q) = (44_900, 45_000);
    let short_syn = segment_with_options((p, p + 1), CLIENT_ISN, 0, "S", 0, &MSS_AND_SHORT_DSS)?;
    let dss_ack = segment_with_options(
        (q, q + 1),
        CLIENT_ISN + 1,
        SERVER_ISN + 1,
        "A",
        0,
        &DSS_DATA_ACK,
    )?;
    let frames = [
        vec![short_syn.clone(), short_syn],
        handshake_frames(q, CLIENT_ISN, SERVER_ISN)?,
        vec![dss_ack.clone(), dss_ack.clone(), dss_ack],
    ];
    write_frames(path, &frames.concat())
}

/// One segment between ports on 127.0.0.1 in an Ethernet frame: raw numbers, flags as in
/// `Line`, `ack` only with 'A', `len` bytes of payload.
fn segment_frame(
    ports: (u16, u16),
    seq: u32,
    ack: u32,
    flags: &str,
    len: usize,
) -> Result<Vec<u8>> {
    segment_with_options(ports, seq, ack, flags, len, &[])
}

/// `segment_frame` with raw TCP `options` (a multiple of 4 bytes).
fn segment_with_options(
    ports: (u16, u16),
    seq: u32,
    ack: u32,
    flags: &str,
    len: usize,
    options: &[u8],
) -> Result<Vec<u8>> {
    segment_carrying(ports, (seq, ack), flags, options, &vec![b'x'; len])
}

/// A segment as `segment_with_options` writes it, carrying `payload`.
fn segment_carrying(
    ports: (u16, u16),
    (seq, ack): (u32, u32),
    flags: &str,
    options: &[u8],
    payload: &[u8],
) -> Result<Vec<u8>> {
    let lo = Ipv4Addr::LOCALHOST.octets();
    let b = PacketBuilder::ethernet2([0; 6], [0; 6])
        .ipv4(lo, lo, 64)
        .tcp(ports.0, ports.1, seq, WINDOW)
        .options_raw(options)?;
    let mut frame = Vec::new();
    with_flags(b, flags, ack)?.write(&mut frame, payload)?;
    Ok(frame)
}

/// An FTP session on port 21 whose server announces two data connections, one by each
/// passive-mode reply (`227`, RFC 959; `229`, RFC 2428), each then opened, used and closed:
/// Wireshark's FTP dissector sets up their conversations before their SYNs, which its
/// completeness then never counts (30, where the control connection's is 31).
fn ftp_passive(path: &str) -> Result<()> {
    let (client, control) = (45_000, 21);
    let (ctl, srv) = ((client, control), (control, client));
    let (c, s) = (CLIENT_ISN, SERVER_ISN);
    let replies: [&[u8]; 2] = [
        b"227 Entering Passive Mode (127,0,0,1,176,0)\r\n",
        b"229 Entering Extended Passive Mode (|||45001|)\r\n",
    ];
    let mut frames = handshake_frames_between(ctl, c, s)?;
    let mut sent = 1;
    for (k, reply) in replies.iter().enumerate() {
        let n = reply.len() as u32;
        frames.push(segment_carrying(srv, (s + sent, c + 1), "PA", &[], reply)?);
        frames.push(segment_frame(ctl, c + 1, s + sent + n, "A", 0)?);
        sent += n;
        // The data connection, from a port of the client's to the one announced.
        let data = (46_000 + k as u16, if k == 0 { 176 * 256 } else { 45_001 });
        let back = (data.1, data.0);
        frames.extend(handshake_frames_between(data, c, s)?);
        frames.extend([
            segment_frame(back, s + 1, c + 1, "PA", 100)?,
            segment_frame(data, c + 1, s + 101, "A", 0)?,
            segment_frame(back, s + 101, c + 1, "FA", 0)?,
            segment_frame(data, c + 1, s + 102, "FA", 0)?,
            segment_frame(back, s + 102, c + 2, "A", 0)?,
        ]);
    }
    frames.extend([
        segment_frame(ctl, c + 1, s + sent, "FA", 0)?,
        segment_frame(srv, s + sent, c + 2, "FA", 0)?,
        segment_frame(ctl, c + 2, s + sent + 1, "A", 0)?,
    ]);
    write_frames(path, &frames)
}

/// The TCP header being built with the flags `flags` names, as `Line` writes them, and the
/// raw acknowledgement number `ack` with 'A'.
fn with_flags(
    mut tcp: PacketBuilderStep<TcpHeader>,
    flags: &str,
    ack: u32,
) -> Result<PacketBuilderStep<TcpHeader>> {
    for f in flags.chars() {
        tcp = match f {
            'S' => tcp.syn(),
            'A' => tcp.ack(ack),
            'F' => tcp.fin(),
            'P' => tcp.psh(),
            'R' => tcp.rst(),
            _ => return Err(format!("unknown flag {f}").into()),
        };
    }
    Ok(tcp)
}

/// SYN, SYN-ACK and ACK from client port `port` to `port + 1`, with the ISNs given.
fn handshake_frames(port: u16, isn: u32, peer_isn: u32) -> Result<Vec<Vec<u8>>> {
    handshake_frames_between((port, port + 1), isn, peer_isn)
}

/// SYN, SYN-ACK and ACK from the first of `ports` to the second.
fn handshake_frames_between(ports: (u16, u16), isn: u32, peer_isn: u32) -> Result<Vec<Vec<u8>>> {
    let back = (ports.1, ports.0);
    Ok(vec![
        segment_frame(ports, isn, 0, "S", 0)?,
        segment_frame(back, peer_isn, isn + 1, "SA", 0)?,
        segment_frame(ports, isn + 1, peer_isn + 1, "A", 0)?,
    ])
}

/// An ICMP port unreachable quoting the IPv4 header and the first `keep` bytes of TCP of
/// `frame` (an Ethernet frame from `segment_frame`).
fn icmp_unreachable(frame: &[u8], keep: usize) -> Result<Vec<u8>> {
    let lo = Ipv4Addr::LOCALHOST.octets();
    let mut message = vec![3, 3, 0, 0, 0, 0, 0, 0];
    message.extend(frame.get(14..14 + 20 + keep).ok_or("short frame")?);
    let ip = Ipv4Header::new(message.len() as u16, 64, IpNumber::ICMP, lo, lo)?;
    let mut out = vec![0; 12];
    out.extend(0x0800u16.to_be_bytes());
    out.extend(ip.to_bytes());
    out.extend(message);
    Ok(out)
}

/// The frames as an Ethernet pcap file, 100 µs apart.
fn write_frames(path: &str, frames: &[Vec<u8>]) -> Result<()> {
    let mut writer = ethernet_pcap(path)?;
    for (k, data) in frames.iter().enumerate() {
        let ts = Duration::from_secs(1_700_000_000) + Duration::from_micros(100 * k as u64);
        writer.write_packet(&PcapPacket::new(ts, data.len() as u32, data))?;
    }
    writer.into_writer().flush()?;
    Ok(())
}
