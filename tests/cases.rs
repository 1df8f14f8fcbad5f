//! The crafted cases of `examples/cases.rs`: each capture shows one Wireshark analysis flag,
//! one Zeek connection state or one reset cause, and exactly the flags, state and cause
//! listed here (checked
//! against TShark 4.0 with `../shared/tools/oracle` when they were made).

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;
use synfin::annotate::ResetCause;

fn records(path: &str) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_synfin"))
        .args(["--format", "jsonl", path])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("synfin runs");
    assert!(out.status.success(), "{path}: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// Frame → (flags, duplicate ACK number) of every segment that has flags.
fn flagged(path: &str) -> BTreeMap<u64, (Vec<String>, Option<u64>)> {
    records(path)
        .iter()
        .filter(|r| r["type"] == "segment")
        .filter_map(|r| {
            let flags: Vec<String> = r["analysis"]
                .as_array()?
                .iter()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect();
            let frame = r["frame"].as_u64()?;
            (!flags.is_empty()).then(|| (frame, (flags, r["dup_ack"].as_u64())))
        })
        .collect()
}

/// A frame, its flags, and its duplicate ACK number.
type Flagged = (u64, &'static [&'static str], Option<u64>);

#[test]
fn each_analysis_case_shows_its_flags_and_no_others() {
    let cases: &[(&str, &[Flagged])] = &[
        ("retransmission", &[(5, &["retransmission"], None)]),
        (
            "fast-retransmission",
            &[
                (7, &["dup-ack"], Some(1)),
                (8, &["dup-ack"], Some(2)),
                (9, &["dup-ack"], Some(3)),
                (10, &["retransmission", "fast-retransmission"], None),
            ],
        ),
        (
            "spurious-retransmission",
            &[(6, &["retransmission", "spurious-retransmission"], None)],
        ),
        (
            "out-of-order",
            &[
                (4, &["previous-segment-lost"], None),
                (5, &["out-of-order"], None),
            ],
        ),
        ("acked-unseen", &[(4, &["acked-unseen"], None)]),
        (
            "dup-ack",
            &[(6, &["dup-ack"], Some(1)), (7, &["dup-ack"], Some(2))],
        ),
        (
            "zero-window",
            &[
                (5, &["zero-window"], None),
                (6, &["zero-window-probe"], None),
                (7, &["zero-window", "zero-window-probe-ack"], None),
                (8, &["window-update"], None),
            ],
        ),
        ("window-full", &[(4, &["window-full"], None)]),
        (
            "keep-alive",
            &[(6, &["keep-alive"], None), (7, &["keep-alive-ack"], None)],
        ),
        ("window-update", &[(6, &["window-update"], None)]),
        ("port-reused", &[(8, &["port-reused"], None)]),
        // A reset, then the SYN again with its first ISN: TShark 4.0 reads the new
        // handshake and the same bytes again as retransmissions (Wireshark issue 17616
        // would bring the expected sequence number back; 4.0 predates it).
        (
            "syn-retry-same-isn",
            &[
                (7, &["retransmission"], None),
                (8, &["retransmission"], None),
                (10, &["retransmission"], None),
            ],
        ),
    ];
    for (name, want) in cases {
        let path = format!("fixtures/analysis/{name}.pcap");
        let want: BTreeMap<u64, (Vec<String>, Option<u64>)> = want
            .iter()
            .map(|(frame, flags, dup)| {
                (
                    *frame,
                    (flags.iter().map(|f| f.to_string()).collect(), *dup),
                )
            })
            .collect();
        assert_eq!(flagged(&path), want, "{path}");
    }
}

#[test]
fn port_reuse_is_flagged_on_the_syn_that_reuses() {
    let got = flagged("fixtures/reuse.pcap");
    let frames: Vec<u64> = got.keys().copied().collect();
    assert_eq!(frames, [9, 17], "{got:?}");
    assert!(got.values().all(|(f, _)| f == &["port-reused"]), "{got:?}");
}

#[test]
fn each_zeek_case_has_its_conn_state_and_history() {
    let cases = [
        ("zeek/S0", "S0", "S"),
        ("zeek/S1", "S1", "ShADa"),
        ("zeek/SF", "SF", "ShADaFf"),
        ("classic", "SF", "ShADafF"),
        ("zeek/REJ", "REJ", "Sr"),
        ("refused", "REJ", "Sr"),
        ("zeek/S2", "S2", "ShAF"),
        ("zeek/S3", "S3", "ShAf"),
        ("zeek/RSTO", "RSTO", "ShADaR"),
        ("reset", "RSTO", "ShADaR"),
        ("zeek/RSTR", "RSTR", "ShAr"),
        ("zeek/RSTOS0", "RSTOS0", "SR"),
        ("zeek/RSTRH", "RSTRH", "^hr"),
        ("zeek/SH", "SH", "SF"),
        ("zeek/SHR", "SHR", "^hf"),
        ("zeek/OTH", "OTH", "Da"),
        // The server acknowledges data never seen: a content gap in the client's data.
        ("analysis/acked-unseen", "S1", "ShAaG"),
    ];
    for (name, state, history) in cases {
        let path = format!("fixtures/{name}.pcap");
        let conns: Vec<(String, String)> = records(&path)
            .iter()
            .filter(|r| r["type"] == "connection")
            .map(|r| {
                (
                    r["conn_state"].as_str().unwrap_or("null").to_string(),
                    r["history"].as_str().unwrap_or("null").to_string(),
                )
            })
            .collect();
        assert_eq!(
            conns.first(),
            Some(&(state.to_string(), history.to_string())),
            "{path}"
        );
    }
}

/// The first connection record of a fixture.
fn connection(name: &str) -> Value {
    let path = format!("fixtures/{name}.pcap");
    records(&path)
        .into_iter()
        .find(|r| r["type"] == "connection")
        .unwrap_or_else(|| panic!("{path}: no connection record"))
}

#[test]
fn each_reset_case_has_its_cause_and_a_connection_without_rst_has_none() {
    // One crafted capture per cause SPEC.md names, in fixtures/reset/ under its name.
    for cause in ResetCause::ALL.map(ResetCause::name) {
        let record = connection(&format!("reset/{cause}"));
        assert_eq!(record["reset_cause"], cause, "reset/{cause}");
        assert_eq!(record["teardown"], "reset", "reset/{cause}");
    }
    // Captured on the real stack: a refused connect() and a close with SO_LINGER 0.
    assert_eq!(connection("refused")["reset_cause"], "refused");
    assert_eq!(connection("reset")["reset_cause"], "abortive-close");
    for clean in ["classic", "half-close", "simultaneous", "midstream"] {
        assert_eq!(connection(clean)["reset_cause"], Value::Null, "{clean}");
    }
}

/// Each endpoint's timeline lists the states it entered, with the frame that made it
/// enter them, as the segment records' state columns change.
#[test]
fn the_timeline_follows_the_state_columns() {
    for name in [
        "classic",
        "client-close",
        "simultaneous",
        "reset/data-after-close",
    ] {
        let path = format!("fixtures/{name}.pcap");
        let records = records(&path);
        let mut expected = [Vec::new(), Vec::new()];
        for s in records.iter().filter(|r| r["type"] == "segment") {
            for (line, column) in expected.iter_mut().zip(["client_state", "server_state"]) {
                let state = s[column].as_str().unwrap_or_default().to_string();
                if line.last().map(|(st, _)| st) != Some(&state) {
                    line.push((state, s["frame"].as_u64().unwrap_or_default()));
                }
            }
        }
        let record = connection(name);
        for (line, side) in expected.iter().zip(["client", "server"]) {
            let got: Vec<(String, u64)> = record["timeline"][side]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| {
                    let state = e["state"].as_str().unwrap_or_default().to_string();
                    (state, e["frame"].as_u64().unwrap_or_default())
                })
                .collect();
            assert_eq!(&got, line, "{path} {side}");
        }
    }
    let states = |name: &str| -> Vec<String> {
        connection(name)["timeline"]["client"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["state"].as_str().map(str::to_string))
            .collect()
    };
    // The server closes first in the classic exchange, the client in the write-up's.
    let classic = [
        "SYN_SENT",
        "ESTABLISHED",
        "CLOSE_WAIT",
        "LAST_ACK",
        "CLOSED",
    ];
    assert_eq!(states("classic"), classic);
    let client_first = [
        "SYN_SENT",
        "ESTABLISHED",
        "FIN_WAIT_1",
        "FIN_WAIT_2",
        "TIME_WAIT",
    ];
    assert_eq!(states("client-close"), client_first);
}

/// Zeek's history letters that no connection state shows, each as Zeek writes it
/// (update_history and ScaledHistoryEntry, TCPSessionAdapter.cc): `I` for a packet with
/// FIN and RST, `Q` for one with SYN and FIN, and the counted letters written again at the
/// 10th time (retransmissions `T`, zero windows `w`).
#[test]
fn zeek_history_letters_follow_its_rules() {
    let cases = [
        ("history-I", "ShAI"),
        ("history-Q", "Q"),
        ("history-T", "ShADTTa"),
        ("history-W", "ShADaww"),
        // The FIN 1 ms after the RST counts; the one 6 s later is past Zeek's record.
        ("history-after-reset", "ShARf"),
        // 10,000 bytes held beyond a hole, which the retransmission fills: no `G`.
        ("history-no-gap-after-recovery", "ShADaTFf"),
    ];
    for (name, history) in cases {
        let path = format!("fixtures/zeek/{name}.pcap");
        let got: Vec<String> = records(&path)
            .iter()
            .filter(|r| r["type"] == "connection")
            .filter_map(|r| Some(r["history"].as_str()?.to_string()))
            .collect();
        assert_eq!(got, [history], "{path}");
    }
}

/// An ICMP error quoting 16 bytes or more of a TCP header of a 4-tuple not yet seen takes
/// a connection number, as Wireshark's conversation for it takes a `tcp.stream` (TShark 4.0
/// agrees on every frame); the 4-tuple's first segments use it. One quoting 8 bytes does not.
#[test]
fn an_icmp_error_quoting_an_unseen_tcp_header_takes_a_connection_number() {
    let conns: Vec<(u64, u64)> = records("fixtures/analysis/icmp-quoted.pcap")
        .iter()
        .filter(|r| r["type"] == "segment")
        .filter_map(|r| Some((r["frame"].as_u64()?, r["conn"].as_u64()?)))
        .collect();
    assert_eq!(
        conns,
        [
            (1, 0),
            (2, 0),
            (3, 0),
            (6, 2),
            (7, 2),
            (8, 2),
            (9, 1),
            (10, 1),
            (11, 1)
        ]
    );
}

/// TCP headers whose length field is impossible, read as Wireshark 4.0 reads them (TShark
/// agrees on every frame). Frame 7, a SYN with a new ISN whose header is longer than its
/// datagram, gives no segment but opens connection 1, which the handshake after it joins
/// without a port-reuse flag; frame 14, whose header claims 16 bytes, is a segment of 8
/// bytes, after which frame 15's 4 bytes at the same number are out of order; frame 20, an
/// ICMP error quoting a SYN with a new ISN, opens connection 4 as frame 7 did; frame 24, a
/// long header on an unseen 4-tuple, reserves connection 5 for it.
#[test]
fn impossible_tcp_header_lengths_number_as_wireshark_does() {
    let records = records("fixtures/analysis/header-lengths.pcap");
    let segments: Vec<&serde_json::Value> =
        records.iter().filter(|r| r["type"] == "segment").collect();
    let conn_of = |frame: u64| {
        segments
            .iter()
            .find(|r| r["frame"] == frame)
            .and_then(|r| r["conn"].as_u64())
    };
    let frames: Vec<u64> = segments
        .iter()
        .filter_map(|r| r["frame"].as_u64())
        .collect();
    assert!(!frames.contains(&7) && !frames.contains(&20) && !frames.contains(&24));
    let want = [
        (6, 0),
        (8, 1),
        (10, 1),
        (14, 2),
        (15, 2),
        (19, 3),
        (21, 4),
        (25, 6),
        (28, 5),
        (30, 5),
    ];
    for (frame, conn) in want {
        assert_eq!(conn_of(frame), Some(conn), "frame {frame}");
    }
    let seg = |frame: u64| segments.iter().find(|r| r["frame"] == frame).copied();
    let analysis = |frame: u64| seg(frame).map(|r| r["analysis"].clone());
    assert_eq!(seg(14).map(|r| r["len"].clone()), Some(8.into()));
    assert_eq!(analysis(14), Some(serde_json::json!([])));
    assert_eq!(analysis(15), Some(serde_json::json!(["out-of-order"])));
    for frame in [8, 21, 28] {
        assert_eq!(
            analysis(frame),
            Some(serde_json::json!([])),
            "frame {frame}"
        );
    }
}

/// MPTCP options as Wireshark 4.0 reads them (TShark agrees on every frame): a SYN whose
/// DSS option ends before its flags stops Wireshark's dissection, so its copy shows no
/// retransmission; of three equal ACKs carrying a DSS option, the second is no duplicate
/// ACK, as MPTCP tolerates one when a new kind of option appeared.
#[test]
fn mptcp_options_are_read_as_wireshark_reads_them() {
    let dup_acks: Vec<(u64, Value, Value)> = records("fixtures/analysis/mptcp-options.pcap")
        .iter()
        .filter(|r| r["type"] == "segment")
        .filter_map(|r| {
            Some((
                r["frame"].as_u64()?,
                r["analysis"].clone(),
                r["dup_ack"].clone(),
            ))
        })
        .collect();
    let none = serde_json::json!([]);
    let dup = serde_json::json!(["dup-ack"]);
    assert_eq!(
        dup_acks,
        [
            (1, none.clone(), Value::Null),
            (2, none.clone(), Value::Null),
            (3, none.clone(), Value::Null),
            (4, none.clone(), Value::Null),
            (5, none.clone(), Value::Null),
            (6, dup.clone(), 1.into()),
            (7, none, Value::Null),
            (8, dup, 2.into()),
        ]
    );
}

/// FTP's passive mode as Wireshark's completeness reads it: the data connections that a
/// `227` and a `229` reply announced count no SYN (30); the control connection counts its
/// own (31).
#[test]
fn ftp_data_connections_announced_in_passive_mode_count_no_syn() {
    let completeness: BTreeMap<String, u64> = records("fixtures/analysis/ftp-passive.pcap")
        .iter()
        .filter(|r| r["type"] == "connection")
        .map(|r| {
            let server = r["server"].as_str().unwrap_or_default().to_string();
            (server, r["completeness"].as_u64().unwrap_or(0))
        })
        .collect();
    let expected = [
        ("127.0.0.1:21", 31),
        ("127.0.0.1:45001", 30),
        ("127.0.0.1:45056", 30),
    ];
    assert_eq!(
        completeness,
        expected.map(|(end, n)| (end.to_string(), n)).into()
    );
}
