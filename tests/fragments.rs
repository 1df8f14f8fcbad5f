//! IPv4 fragments: a datagram is decoded at the frame that completes it, and only the
//! frames of datagrams never completed are reported as skipped.

use std::io::Write;
use std::process::{Command, Stdio};

use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};

/// An IPv4 fragment (raw IP link type): `payload` at byte `offset` of datagram `id`.
fn fragment(id: u16, offset: u16, more: bool, payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let flags_offset = (u16::from(more) << 13) | (offset / 8);
    let mut ip = vec![0x45, 0];
    ip.extend(total.to_be_bytes());
    ip.extend(id.to_be_bytes());
    ip.extend(flags_offset.to_be_bytes());
    ip.extend([64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 2]);
    ip.extend_from_slice(payload);
    ip
}

/// A TCP SYN from port 40000 to 80 with 16 bytes of data (a TCP Fast Open SYN).
fn tcp_syn_with_data() -> Vec<u8> {
    let mut tcp = vec![
        0x9c, 0x40, 0, 80, 0, 0, 0, 7, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
    ];
    tcp.extend(b"sixteen bytes!!!");
    tcp
}

#[test]
fn a_completed_datagram_is_one_segment_and_only_a_lone_fragment_is_skipped() {
    let tcp = tcp_syn_with_data();
    let (head, tail) = tcp.split_at(24);
    let frames = [
        fragment(1, 0, true, head),
        fragment(1, 24, false, tail),
        // Its datagram's other pieces never come.
        fragment(2, 0, true, head),
    ];
    let mut pcap = Vec::new();
    {
        let header = PcapHeader {
            datalink: DataLink::IPV4,
            ..PcapHeader::default()
        };
        let mut writer = PcapWriter::with_header(&mut pcap, header).expect("header");
        for (i, data) in frames.iter().enumerate() {
            let ts = std::time::Duration::from_millis(i as u64);
            writer
                .write_packet(&PcapPacket::new(ts, data.len() as u32, data))
                .expect("packet");
        }
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_synfin"))
        .args(["--format", "jsonl", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&pcap)
        .expect("written");
    let out = child.wait_with_output().expect("finishes");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let segments: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "segment")
        .collect();
    assert_eq!(segments.len(), 1, "{stdout}");
    let segment = segments.first().expect("one segment");
    assert_eq!(
        segment["frame"], 2,
        "decoded at the fragment that completes it"
    );
    assert_eq!(segment["len"], 16);
    assert_eq!(segment["role"], "syn");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "skipped 1 of 3 frames: 1 IP or CAPWAP fragments never completed (first: frame 3)"
        ),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}
