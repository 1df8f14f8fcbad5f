//! `--format zeek` and `zeek-json`: Zeek's conn.log, read back as a Zeek log reader reads it
//! (`zeek-cut`: the `#fields` and `#types` header, tab-separated values, `-` unset).
//! Its values equal Zeek's own on the corpus (tests/conformance.rs, `conform --with
//! zeeklog`); here: the log's form, its types, and ASCII and JSON saying the same.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn synfin(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_synfin"))
        .args(args)
        .output()
        .expect("synfin runs");
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// A conn.log's rows, each value checked against its column's `#types` entry and read into
/// JSON as Zeek's JSON writer would write it (unset values left out).
fn read_ascii(log: &str) -> Vec<BTreeMap<String, Value>> {
    let header = |name: &str| -> Vec<&str> {
        let lines: Vec<&str> = log
            .lines()
            .filter(|l| l.starts_with(&format!("#{name}")))
            .collect();
        assert_eq!(lines.len(), 1, "one #{name} line:\n{log}");
        lines[0].split('\t').skip(1).collect()
    };
    assert_eq!(log.lines().next(), Some("#separator \\x09"));
    assert_eq!(header("path"), ["conn"]);
    assert_eq!(header("unset_field"), ["-"]);
    let stamp = |s: &str| {
        let parts: Vec<&str> = s.split('-').collect();
        parts.len() == 6 && parts.iter().all(|p| p.parse::<u32>().is_ok())
    };
    assert!(stamp(header("open")[0]), "{log}");
    assert!(
        log.lines()
            .last()
            .is_some_and(|l| l.starts_with("#close\t")),
        "{log}"
    );
    let (fields, types) = (header("fields"), header("types"));
    assert_eq!(fields.len(), types.len());
    log.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|line| {
            let values: Vec<&str> = line.split('\t').collect();
            assert_eq!(values.len(), fields.len(), "{line}");
            let mut row = BTreeMap::new();
            for ((name, kind), text) in fields.iter().zip(&types).zip(values) {
                if text == "-" {
                    continue;
                }
                let value = match *kind {
                    "time" | "interval" => {
                        let (_, decimals) = text.split_once('.').expect("a decimal");
                        assert_eq!(decimals.len(), 6, "{name} {text}");
                        Value::from(text.parse::<f64>().expect("a number"))
                    }
                    "count" => Value::from(text.parse::<u64>().expect("a count")),
                    "port" => Value::from(text.parse::<u16>().expect("a port")),
                    "addr" => {
                        text.parse::<IpAddr>().expect("an address");
                        Value::from(text)
                    }
                    "string" | "enum" => Value::from(text),
                    other => panic!("{name}: a value of type {other}: {text}"),
                };
                row.insert(name.to_string(), value);
            }
            row
        })
        .collect()
}

fn read_json(log: &str) -> Vec<BTreeMap<String, Value>> {
    log.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect()
}

/// The ASCII and JSON logs of `captures` hold the same rows (times to the microsecond the
/// ASCII log keeps).
fn both(captures: &[&str]) -> Vec<BTreeMap<String, Value>> {
    let ascii = read_ascii(&synfin(&[&["--format", "zeek"], captures].concat()));
    let json = read_json(&synfin(&[&["--format", "zeek-json"], captures].concat()));
    assert_eq!(ascii.len(), json.len());
    for (a, j) in ascii.iter().zip(&json) {
        assert_eq!(
            a.keys().collect::<Vec<_>>(),
            j.keys().collect::<Vec<_>>(),
            "{a:?}\n{j:?}"
        );
        for (key, value) in a {
            match (value.as_f64(), j[key].as_f64(), value.is_u64()) {
                (Some(x), Some(y), false) => assert!((x - y).abs() < 5e-7, "{key}: {x} {y}"),
                _ => assert_eq!(value, &j[key], "{key}"),
            }
        }
    }
    ascii
}

#[test]
fn the_classic_connection_is_one_row_with_zeeks_counts() {
    let rows = both(&["fixtures/classic.pcap"]);
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    let text = |k: &str| row[k].as_str().unwrap_or_default().to_string();
    let count = |k: &str| row[k].as_u64();
    assert_eq!(text("id.orig_h"), "127.0.0.1");
    assert_eq!(count("id.orig_p"), Some(50186));
    assert_eq!(count("id.resp_p"), Some(40110));
    assert_eq!(text("proto"), "tcp");
    assert_eq!(text("conn_state"), "SF");
    assert_eq!(text("history"), "ShADafF");
    // 14 bytes of data one way, none back; 5 packets (SYN with its options, 60 bytes of IP;
    // then 52-byte headers and the data) and 4 back.
    assert_eq!(
        (count("orig_bytes"), count("resp_bytes")),
        (Some(14), Some(0))
    );
    assert_eq!(
        (count("orig_pkts"), count("orig_ip_bytes")),
        (Some(5), Some(282))
    );
    assert_eq!(
        (count("resp_pkts"), count("resp_ip_bytes")),
        (Some(4), Some(216))
    );
    assert_eq!(count("missed_bytes"), Some(0));
    // To the second FIN: the final ACK after it is counted, but Zeek's clock for the
    // connection stops once both ends closed (the JSON record's duration is 0.050461).
    assert_eq!(row["duration"].as_f64(), Some(0.050441));
    // Unset: what needs Zeek's application analyzers or its site configuration.
    for unset in ["service", "local_orig", "local_resp", "tunnel_parents"] {
        assert!(!row.contains_key(unset), "{unset}");
    }
    // The same uid and Community ID as the JSON lines' connection record.
    let record: Value = synfin(&["--format", "jsonl", "--summary", "fixtures/classic.pcap"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .next()
        .expect("a record");
    assert_eq!(row["uid"], record["uid"]);
    assert_eq!(row["community_id"], record["community_id"]);
    assert_eq!(
        row["ts"].as_f64(),
        record["ts"].as_f64().map(|t| (t * 1e6).floor() / 1e6)
    );
}

#[test]
fn several_captures_make_one_log() {
    let rows = both(&["fixtures/classic.pcap", "fixtures/refused.pcap"]);
    let states: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["conn_state"].as_str())
        .collect();
    // The refused capture tries twice.
    assert_eq!(states, ["SF", "REJ", "REJ"]);
}

/// A corpus capture with IPv6 and passive-mode FTP data connections, and one whose data
/// had gaps (missed bytes, history `G`).
#[test]
fn corpus_logs_read_back_with_their_types() {
    let shared = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/captures"));
    if !shared.is_dir() {
        eprintln!("NOTICE: ../shared is absent; the corpus log test is skipped");
        return;
    }
    let ipv6 = shared.join("zeek/ftp/ipv6.pcap");
    let rows = both(&[ipv6.to_str().expect("a path")]);
    assert!(rows.len() >= 5, "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r["id.orig_h"].as_str().is_some_and(|h| h.contains(':')))
    );
    let gaps = shared.join("zeek/tcp/miss_end_data.pcap");
    let rows = both(&[gaps.to_str().expect("a path")]);
    assert!(
        rows.iter().any(|r| r["missed_bytes"].as_u64() > Some(0)),
        "{rows:?}"
    );
}
