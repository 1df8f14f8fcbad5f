//! Property tests: random segment sequences (any flags, any numbers, any order) through the
//! whole annotation path never panic, and keep the invariants below.

use std::collections::HashMap;
use std::net::SocketAddr;

use proptest::prelude::*;
use synfin::annotate::{Annotator, Limits, Record};
use synfin::capture::{FrameNo, Timestamp};
use synfin::decode::{Announced, LinkDir, Preview, Segment, Seq, TcpFlags};

/// A few endpoints, so that 4-tuples repeat and get reused.
fn endpoint() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        Just("127.0.0.1:1000"),
        Just("127.0.0.1:2000"),
        Just("127.0.0.1:3000"),
        Just("[::1]:1000"),
    ]
    .prop_map(|s| s.parse().expect("address"))
}

/// Sequence numbers near the edges that matter: 0, 2^31 and 2^32.
fn number() -> impl Strategy<Value = u32> {
    prop_oneof![
        any::<u32>(),
        0u32..64,
        (u32::MAX - 64)..=u32::MAX,
        (1u32 << 31) - 32..(1u32 << 31) + 32
    ]
}

fn segment() -> impl Strategy<Value = (Segment, u64)> {
    (
        endpoint(),
        endpoint(),
        number(),
        number(),
        0u16..0x200,
        any::<u16>(),
        prop::option::of(0u8..20),
        0u32..3000,
        0u64..400,
        0u8..3,
        // MPTCP options, now and then (DSS; MP_CAPABLE and DSS).
        prop::sample::select(vec![0u8, 0, 0, 0b100, 0b101]),
    )
        .prop_map(
            |(src, dst, seq, ack, flags, window, window_scale, len, gap, link, mptcp)| {
                let seg = Segment {
                    src: src.into(),
                    dst: dst.into(),
                    seq: Seq(seq),
                    ack: Seq(ack),
                    flags: TcpFlags(flags),
                    window,
                    window_scale,
                    mptcp,
                    len,
                    ip_len: len + 40,
                    preview: Preview::EMPTY,
                    announces: Announced::NOTHING,
                    copy_id: 0,
                    // Cooked captures say which way each frame went; others do not.
                    link_dir: match link {
                        0 => LinkDir::Unknown,
                        1 => LinkDir::Outgoing,
                        _ => LinkDir::Incoming,
                    },
                    header_cut: false,
                };
                (seg, gap)
            },
        )
}

fn run(segments: &[(Segment, u64)], limits: Limits) -> Vec<Record> {
    run_with(Annotator::new(limits), segments)
}

fn run_with(mut annotator: Annotator, segments: &[(Segment, u64)]) -> Vec<Record> {
    let mut records = Vec::new();
    let mut now = 0u64;
    for (i, (seg, gap)) in segments.iter().enumerate() {
        now += gap * 1_000_000_000;
        let mut keep = |r: &mut Record| -> Result<(), ()> {
            records.push(r.clone());
            Ok(())
        };
        let _ = annotator.segment(
            FrameNo(i as u64 + 1),
            Timestamp(now),
            now as f64 / 1e9,
            seg,
            &mut keep,
        );
    }
    let _ = annotator.finish(&mut |r: &mut Record| -> Result<(), ()> {
        records.push(r.clone());
        Ok(())
    });
    records
}

fn check(segments: &[(Segment, u64)], records: &[Record]) -> Result<(), TestCaseError> {
    let segs: Vec<_> = records
        .iter()
        .filter_map(|r| {
            if let Record::Segment(s) = r {
                Some(s)
            } else {
                None
            }
        })
        .collect();
    // Every segment is reported once, in frame order.
    prop_assert_eq!(segs.len(), segments.len());
    for (i, s) in segs.iter().enumerate() {
        prop_assert_eq!(s.frame, i as u64 + 1);
        prop_assert!(
            s.step.is_none_or(|st| !st.is_pending()),
            "a step left unsettled"
        );
    }
    // Connection indexes are dense and first appear in increasing order.
    let mut next = 0;
    for s in &segs {
        prop_assert!(s.conn <= next);
        if s.conn == next {
            next += 1;
        }
    }
    // Each connection is reported exactly once.
    let mut reports: HashMap<u64, usize> = HashMap::new();
    for r in records {
        if let Record::Connection(c) = r {
            *reports.entry(c.conn).or_default() += 1;
        }
    }
    prop_assert_eq!(reports.len() as u64, next);
    prop_assert!(reports.values().all(|&n| n == 1));
    // Relative numbers are absolute ones less a base fixed per direction; only a SYN-ACK
    // with a new ISN moves it (as in Wireshark).
    let mut bases: HashMap<(u64, String), u32> = HashMap::new();
    for (s, (seg, _)) in segs.iter().zip(segments) {
        prop_assert_eq!(s.abs_seq, seg.seq.0);
        let base = s.abs_seq.wrapping_sub(s.seq);
        let key = (s.conn, format!("{:?}", s.dir));
        let moved_by_syn_ack = seg.flags.syn() && seg.flags.ack();
        if let Some(old) = bases.insert(key, base) {
            prop_assert!(
                old == base || moved_by_syn_ack,
                "base moved from {old} to {base}"
            );
        }
        prop_assert_eq!(s.ack.is_some(), seg.flags.ack());
        if let (Some(rel), Some(abs)) = (s.ack, s.abs_ack) {
            let peer = (s.conn, format!("{:?}", s.dir.0.reverse()));
            if let Some(peer_base) = bases.get(&peer) {
                prop_assert_eq!(abs.wrapping_sub(rel), *peer_base);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_segments_keep_the_invariants(segments in prop::collection::vec(segment(), 0..60)) {
        let records = run(&segments, Limits::default());
        check(&segments, &records)?;
    }

    #[test]
    fn tight_limits_keep_them_too(segments in prop::collection::vec(segment(), 0..60)) {
        let records = run(&segments, Limits { idle_timeout_ns: Some(100_000_000_000), max_conns: 2, ..Limits::default() });
        check(&segments, &records)?;
    }

    /// A connection held as its SYN is read again when it sends again or leaves: every
    /// record, and every field behind the JSON, is as if it had been held whole; with
    /// segment records wanted, and without them (where a SYN is held without being read
    /// whole first).
    #[test]
    fn connections_held_as_their_syn_are_reported_as_if_held_whole(
        segments in prop::collection::vec(segment(), 0..60),
        max_conns in 1usize..5,
    ) {
        let whole = Limits { max_conns, whole_up_to: usize::MAX, ..Limits::default() };
        let syns = Limits { whole_up_to: 0, ..whole };
        for annotator in [Annotator::new, Annotator::connections_only] {
            let (whole, syns) = (run_with(annotator(whole), &segments), run_with(annotator(syns), &segments));
            prop_assert_eq!(format!("{whole:#?}"), format!("{syns:#?}"));
        }
        let alone = run_with(Annotator::connections_only(whole), &segments);
        prop_assert!(alone.iter().all(|r| matches!(r, Record::Connection(_))));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Records made without timelines (for a table) are the records made with them, but
    /// for their empty timelines; held whole or as their SYN, with segment records or not.
    #[test]
    fn records_without_timelines_differ_only_by_them(
        segments in prop::collection::vec(segment(), 0..60),
        max_conns in 1usize..5,
        whole_up_to in prop::sample::select(vec![0usize, usize::MAX]),
    ) {
        let limits = Limits { max_conns, whole_up_to, ..Limits::default() };
        for annotator in [Annotator::new, Annotator::connections_only] {
            let mut want = run_with(annotator(limits), &segments);
            let got = run_with(annotator(limits).without_timelines(), &segments);
            let mut timelines = 0;
            for record in &mut want {
                if let Record::Connection(c) = record {
                    timelines += usize::from(c.timeline != Default::default());
                    c.timeline = Default::default();
                }
            }
            prop_assert_eq!(format!("{want:#?}"), format!("{got:#?}"));
            let connections = want.iter().filter(|r| matches!(r, Record::Connection(_))).count();
            prop_assert!(connections == 0 || timelines > 0, "no timeline to leave out");
        }
    }
}

/// serde_json's line for `record`, with `capture` after its fields when given: what the
/// JSON-lines printer's hand-written lines are held to.
fn serde_line(record: &Record, capture: Option<&str>) -> String {
    let mut value = serde_json::to_string(record).expect("serializes");
    if let Some(capture) = capture {
        value.pop();
        value.push_str(",\"capture\":");
        value.push_str(&serde_json::to_string(capture).expect("serializes"));
        value.push('}');
    }
    value + "\n"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The JSON-lines printer writes every connection record, by hand, exactly as
    /// serde_json serializes it: whatever the handshake, teardown, notes, analysis and
    /// timeline; times that are not finite; with a capture's path or without.
    #[test]
    fn connection_lines_are_serde_jsons(
        segments in prop::collection::vec(segment(), 0..60),
        max_conns in 1usize..5,
    ) {
        use synfin::output::{JsonlPrinter, Print, Source};
        let limits = Limits { max_conns, ..Limits::default() };
        let mut records = run(&segments, limits);
        // And one whose times are not finite.
        if let Some(Record::Connection(c)) = records.last().cloned() {
            let mut odd = c.clone();
            odd.start = f64::NAN;
            odd.duration = f64::INFINITY;
            odd.handshake_rtt = Some(f64::NAN);
            records.push(Record::Connection(odd));
        }
        let mut connections = 0;
        for record in records.iter().filter(|r| matches!(r, Record::Connection(_))) {
            connections += 1;
            for capture in [None, Some("dir/odd \"name\"\t.pcap")] {
                let mut printer = JsonlPrinter::new(Vec::new(), false);
                printer
                    .begin(&Source {
                        path: capture.unwrap_or_default(),
                        bytes: None,
                        several: capture.is_some(),
                    })
                    .expect("in memory");
                printer.record(record).expect("in memory");
                let ours = String::from_utf8(printer.into_inner()).expect("UTF-8");
                prop_assert_eq!(ours, serde_line(record, capture));
            }
        }
        prop_assert!(segments.is_empty() || connections > 0, "no connection record");
    }
}
