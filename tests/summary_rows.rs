//! The summary's rows are kept on a thread of their own when a core is spare (a flood's or a
//! scan's million rows), and laid out by two threads at the end: its table and notes are
//! byte for byte those kept and laid out on the printer's own thread, whatever the width,
//! the order connections end in, the filter or the table's limit.

use std::time::Duration;

use etherparse::PacketBuilder;
use pcap_file::pcap::{PcapPacket, PcapWriter};
use synfin::annotate::{Handshake, Limits};
use synfin::capture::CaptureReader;
use synfin::output::{ConnPick, Filter, Format, Printer, Source, View};
use synfin::pipeline;

/// Connections in this test: past the rows a thread is started for (4,096), twice over,
/// and past those two threads lay out (8,192).
const CONNS: u16 = 10_000;

/// A pcap of Ethernet frames, one every 10 µs.
fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut writer = PcapWriter::new(Vec::new()).expect("a header");
    for (n, data) in frames.iter().enumerate() {
        let ts = Duration::from_micros(10 * n as u64);
        writer
            .write_packet(&PcapPacket::new(ts, data.len() as u32, data))
            .expect("written");
    }
    writer.into_writer()
}

/// A segment of connection `i`, from its client (`to_server`) or its server.
fn segment(i: u16, to_server: bool, seq: u32, ack: Option<u32>, flags: &str) -> Vec<u8> {
    let client = [10, 1, (i >> 8) as u8, i as u8];
    let server = [10, 0, 0, 1];
    let port = 1024 + i;
    let (src, dst, sport, dport) = if to_server {
        (client, server, port, 80)
    } else {
        (server, client, 80, port)
    };
    let mut tcp = PacketBuilder::ethernet2([0; 6], [0; 6])
        .ipv4(src, dst, 64)
        .tcp(sport, dport, seq, 1024);
    for flag in flags.chars() {
        tcp = match flag {
            'S' => tcp.syn(),
            'F' => tcp.fin(),
            'R' => tcp.rst(),
            _ => tcp,
        };
    }
    if let Some(ack) = ack {
        tcp = tcp.ack(ack);
    }
    let mut data = Vec::new();
    tcp.write(&mut data, &[]).expect("built");
    data
}

/// Four kinds of connection, in turn: a SYN alone; a SYN sent again; one refused; one
/// opened and closed. Answers come a few hundred connections later, so that connections
/// end out of their index order.
fn capture() -> Vec<u8> {
    let mut frames = Vec::new();
    let mut later: Vec<(u16, Vec<u8>)> = Vec::new();
    for i in 0..CONNS {
        let isn = u32::from(i) * 1000;
        frames.push(segment(i, true, isn, None, "S"));
        match i % 4 {
            1 => later.push((i + 300, segment(i, true, isn, None, "S"))),
            2 => later.push((i + 500, segment(i, false, 0, Some(isn + 1), "R"))),
            3 => {
                let (c, s) = (isn + 1, 77_000);
                frames.push(segment(i, false, s, Some(c), "S"));
                frames.push(segment(i, true, c, Some(s + 1), ""));
                later.push((i + 200, segment(i, true, c, Some(s + 1), "F")));
                later.push((i + 201, segment(i, false, s + 1, Some(c + 1), "F")));
                later.push((i + 202, segment(i, true, c + 1, Some(s + 2), "")));
            }
            _ => {}
        }
        later.sort_by_key(|(at, _)| *at);
        while later.first().is_some_and(|(at, _)| *at <= i) {
            frames.push(later.remove(0).1);
        }
    }
    frames.extend(later.into_iter().map(|(_, f)| f));
    pcap(&frames)
}

fn summary(capture: &[u8], view: View, limits: Limits) -> String {
    let reader =
        CaptureReader::new(Box::new(std::io::Cursor::new(capture.to_vec()))).expect("a capture");
    let mut printer = Printer::with_view(Format::Summary, Vec::new(), view);
    let source = Source {
        path: "many.pcap",
        bytes: None,
        several: false,
    };
    printer.begin(&source).expect("begins");
    pipeline::run(reader, limits, &mut printer).expect("runs");
    printer.end().expect("ends");
    String::from_utf8(printer.into_inner()).expect("UTF-8")
}

#[test]
fn rows_kept_on_a_thread_of_their_own_print_as_those_kept_in_line() {
    let capture = capture();
    let refused = Filter {
        connections: ConnPick {
            handshakes: vec![Handshake::Refused],
            ..ConnPick::default()
        },
        ..Filter::default()
    };
    // Width, filter, the connections it shows, the notes at least (half the connections
    // are still open at the end; none of those refused has a note).
    let all = usize::from(CONNS);
    let views = [
        (None, Filter::default(), all, all / 2),
        (Some(60), Filter::default(), all, all / 2),
        (None, refused, all / 4, 0),
    ];
    for (width, filter, rows, least_notes) in views {
        for limits in [
            Limits::default(),
            Limits {
                max_conns: 700,
                ..Limits::default()
            },
        ] {
            let view = |spare_core| View {
                width,
                filter: filter.clone(),
                spare_core,
                ..View::default()
            };
            let in_line = summary(&capture, view(false), limits);
            let on_a_thread = summary(&capture, view(true), limits);
            let what = format!("width {width:?}, max-conns {}", limits.max_conns);
            assert!(
                in_line == on_a_thread,
                "{what}: the summaries differ:\n{}",
                first_difference(&in_line, &on_a_thread)
            );
            // Every row is there, in index order, each note after the table.
            let lines: Vec<&str> = in_line.lines().collect();
            let table: Vec<u64> = lines
                .iter()
                .filter_map(|l| l.split_whitespace().next()?.parse().ok())
                .collect();
            let said = lines
                .iter()
                .find_map(|l| l.strip_prefix("Summary: ")?.split(' ').next()?.parse().ok());
            assert_eq!(Some(table.len()), said, "{what}");
            // A full table ends connections early: their later segments open others.
            if limits.max_conns == Limits::DEFAULT_MAX_CONNS {
                assert_eq!(table.len(), rows, "{what}");
            }
            assert!(table.is_sorted(), "{what}: rows in index order");
            let notes = lines.iter().filter(|l| l.starts_with("  conn ")).count();
            assert!(notes >= least_notes, "{what}: {notes} notes");
        }
    }
}

fn first_difference(a: &str, b: &str) -> String {
    a.lines().zip(b.lines()).find(|(x, y)| x != y).map_or_else(
        || format!("{} lines against {}", a.lines().count(), b.lines().count()),
        |(x, y)| format!("{x}\n{y}"),
    )
}
