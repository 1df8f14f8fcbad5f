//! The captures of `examples/encap.rs`: one exchange in every link type, tag and tunnel of
//! `src/decode/encap.rs`. Each must tell the story plain Ethernet tells (TShark agrees on
//! every frame of every one: `../shared/tools/oracle`, then `conform`); frames synfin cannot
//! decode are counted by reason on stderr and in `synfin check`'s report.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn synfin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synfin"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("synfin runs")
}

/// The JSON records, without the capture's absolute times (an ERF record carries its own,
/// counted in 2^-32 s: relative times are compared to the microsecond).
fn records(path: &str) -> Vec<Value> {
    let out = synfin(&["--format", "jsonl", path]);
    assert_eq!(out.status.code(), Some(0), "{path}: {out:?}");
    assert!(out.stderr.is_empty(), "{path}: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("a JSON line");
            if let Some(o) = v.as_object_mut() {
                // The capture time, and the uid made of it.
                o.remove("ts");
                o.remove("uid");
                to_the_microsecond(o);
                let timeline = o.get_mut("timeline").and_then(Value::as_object_mut);
                for entries in timeline.into_iter().flat_map(|t| t.values_mut()) {
                    let entries = entries.as_array_mut().into_iter().flatten();
                    entries
                        .filter_map(Value::as_object_mut)
                        .for_each(to_the_microsecond);
                }
            }
            v
        })
        .collect()
}

fn to_the_microsecond(o: &mut serde_json::Map<String, Value>) {
    for key in ["time", "duration"] {
        if let Some(t) = o.get(key).and_then(Value::as_f64) {
            o.insert(key.into(), ((t * 1e6).round() / 1e6).into());
        }
    }
}

#[test]
fn every_encapsulation_tells_the_plain_story() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/encap");
    let plain = records("fixtures/encap/plain.pcap");
    assert_eq!(plain.len(), 10, "9 segments and 1 connection");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures/encap")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".pcap") && !n.ends_with("-fragments.pcap"))
        .collect();
    names.sort();
    assert!(names.len() >= 40, "only {} encapsulations", names.len());
    for name in names {
        let path = format!("fixtures/encap/{name}");
        assert_eq!(records(&path), plain, "{name}");
    }
}

#[test]
fn an_ipv6_datagram_in_fragments_is_one_segment_at_the_frame_that_completes_it() {
    let records = records("fixtures/encap/ipv6-fragments.pcap");
    let data: Vec<&Value> = records
        .iter()
        .filter(|r| r["type"] == "segment" && r["len"] == 14)
        .collect();
    // The data segment's two fragments are frames 4 (the second half, sent first) and 5.
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["frame"], 5);
    assert_eq!(data[0]["role"], "data");
    let conn = records.last().expect("a connection record");
    assert_eq!(conn["type"], "connection");
    assert_eq!(conn["handshake"], "complete");
    assert_eq!(conn["teardown"], "four-way");
    assert_eq!(conn["history"], "ShADaFf");
}

/// CAPWAP data fragments are reassembled as Wireshark does by default (by addresses and
/// fragment ID, the offset in 8-byte units): each segment comes in two fragments, the ones
/// with data in the other order, and is decoded at the frame that completes it.
#[test]
fn capwap_fragments_make_each_segment_at_the_frame_that_completes_it() {
    let story = |records: Vec<Value>| -> Vec<Vec<Value>> {
        records
            .iter()
            .filter(|r| r["type"] == "segment")
            .map(|r| {
                [
                    "role",
                    "step",
                    "seq",
                    "ack",
                    "len",
                    "client_state",
                    "server_state",
                ]
                .map(|k| r[k].clone())
                .to_vec()
            })
            .collect()
    };
    let records = records("fixtures/encap/capwap-fragments.pcap");
    let frames: Vec<u64> = records
        .iter()
        .filter(|r| r["type"] == "segment")
        .filter_map(|r| r["frame"].as_u64())
        .collect();
    assert_eq!(frames, (1..=9).map(|k| 2 * k).collect::<Vec<u64>>());
    assert_eq!(
        story(records),
        story(self::records("fixtures/encap/plain.pcap"))
    );
}

/// A capture of `frames`, each an Ethernet frame of the given EtherType and payload.
fn capture_of(dir: &Path, frames: &[(u16, Vec<u8>)]) -> String {
    let mut bytes = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    bytes.extend([0; 8]);
    bytes.extend(65_535u32.to_le_bytes());
    bytes.extend(1u32.to_le_bytes());
    for (k, (ether_type, payload)) in frames.iter().enumerate() {
        let mut frame = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
        frame.extend(ether_type.to_be_bytes());
        frame.extend(payload);
        bytes.extend((k as u32 + 1).to_le_bytes());
        bytes.extend(0u32.to_le_bytes());
        bytes.extend((frame.len() as u32).to_le_bytes());
        bytes.extend((frame.len() as u32).to_le_bytes());
        bytes.extend(frame);
    }
    let path = dir.join("mixed.pcap");
    std::fs::write(&path, bytes).expect("written");
    path.to_string_lossy().into_owned()
}

#[test]
fn frames_not_decoded_are_counted_by_reason_with_their_first_frame() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let plain = std::fs::read("fixtures/encap/plain.pcap").expect("plain.pcap");
    // The plain capture's first frame's IP packet, as a real segment among the others.
    let ip = plain
        .get(24 + 16 + 14..24 + 16 + 54)
        .expect("an IPv4 SYN")
        .to_vec();
    let path = capture_of(
        dir.path(),
        &[
            (0x88b5, vec![1, 2, 3, 4]), // a local experimental EtherType
            (0x0806, vec![0; 28]),      // ARP: not IP, nothing to say
            (0x0800, ip),
            (0x88b5, vec![5, 6, 7, 8]),
            (0x8864, vec![0x11, 0, 0, 1, 0, 2, 0x00, 0x2d]), // PPP's VJ-compressed TCP
        ],
    );
    let out = synfin(&["--summary", &path]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "skipped 3 of 5 frames: 2 EtherType 0x88b5 not decoded (first: frame 1), \
             1 PPP protocol 0x002d not decoded (first: frame 5)"
        ),
        "{err}"
    );
    // `synfin check` reports them too: on stderr, in its JSON lines and in JUnit.
    let junit = dir.path().join("junit.xml");
    let junit_arg = junit.to_string_lossy().into_owned();
    let out = synfin(&[
        "check", "--format", "jsonl", "--junit", &junit_arg, "--allow", "open", &path,
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2 EtherType 0x88b5 not decoded"), "{err}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let capture: Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["type"] == "capture")
        .expect("a capture line");
    assert!(
        capture["skipped"]
            .as_str()
            .is_some_and(|s| s.starts_with("skipped 3 of 5 frames")),
        "{capture}"
    );
    let xml = std::fs::read_to_string(&junit).expect("JUnit written");
    assert!(xml.contains("<system-err>skipped 3 of 5 frames:"), "{xml}");
}
