//! Bounded memory under floods: idle half-open connections and a full table are finished
//! early, and every one of them is still reported.

mod common;

use std::process::Command;

use etherparse::PacketBuilder;

/// A little-endian microsecond pcap of Ethernet frames: (seconds, frame bytes).
fn pcap(frames: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(0xa1b2_c3d4u32.to_le_bytes());
    out.extend(2u16.to_le_bytes());
    out.extend(4u16.to_le_bytes());
    out.extend([0; 8]);
    out.extend(262_144u32.to_le_bytes());
    out.extend(1u32.to_le_bytes());
    for (sec, data) in frames {
        out.extend(sec.to_le_bytes());
        out.extend(0u32.to_le_bytes());
        out.extend((data.len() as u32).to_le_bytes());
        out.extend((data.len() as u32).to_le_bytes());
        out.extend(data);
    }
    out
}

fn syn(port: u16) -> Vec<u8> {
    let mut data = Vec::new();
    PacketBuilder::ethernet2([0; 6], [0; 6])
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(port, 80, u32::from(port) * 7, 1024)
        .syn()
        .write(&mut data, &[])
        .expect("built");
    data
}

fn run(capture: &[u8], args: &[&str]) -> (Vec<serde_json::Value>, String, Option<i32>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("flood.pcap");
    std::fs::write(&path, capture).expect("written");
    let out = Command::new(env!("CARGO_BIN_EXE_synfin"))
        .args(["--format", "jsonl"])
        .args(args)
        .arg(&path)
        .output()
        .expect("runs");
    let records = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    (
        records,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

fn connections(records: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    records
        .iter()
        .filter(|r| r["type"] == "connection")
        .collect()
}

#[test]
fn a_full_table_reports_the_oldest_connections_early_and_loses_none() {
    let frames: Vec<(u32, Vec<u8>)> = (0..50).map(|i| (i, syn(1000 + i as u16))).collect();
    let (records, err, status) = run(&pcap(&frames), &["--max-conns", "10"]);
    assert_eq!(status, Some(0));
    let conns = connections(&records);
    assert_eq!(conns.len(), 50, "every connection is reported");
    let mut ids: Vec<u64> = conns.iter().filter_map(|c| c["conn"].as_u64()).collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..50).collect::<Vec<_>>());
    let early = conns
        .iter()
        .filter(|c| c["notes"].to_string().contains("connection table full"))
        .count();
    assert!(early >= 40, "{early} reported early");
    assert!(err.contains("over --max-conns"), "{err}");
    // The oldest go first: connection 0 is reported before the last SYN's segment.
    let first_conn = records
        .iter()
        .position(|r| r["type"] == "connection")
        .expect("one");
    let last_seg = records
        .iter()
        .rposition(|r| r["type"] == "segment")
        .expect("one");
    assert!(first_conn < last_seg);
    assert_eq!(records[first_conn]["conn"], 0);
}

#[test]
fn half_open_connections_idle_past_the_timeout_are_reported_early() {
    let frames: Vec<(u32, Vec<u8>)> = (0..5).map(|i| (i * 400, syn(2000 + i as u16))).collect();
    let (records, err, _) = run(&pcap(&frames), &["--idle-timeout", "300"]);
    let conns = connections(&records);
    assert_eq!(conns.len(), 5);
    let idle = conns
        .iter()
        .filter(|c| c["notes"].to_string().contains("idle"))
        .count();
    assert_eq!(idle, 4, "the last one ends with the capture instead");
    assert!(err.contains("4 idle past --idle-timeout"), "{err}");
    // Each is reported before the next SYN: records interleave.
    let kinds: Vec<&str> = records.iter().filter_map(|r| r["type"].as_str()).collect();
    assert_eq!(kinds[..4], ["segment", "segment", "connection", "segment"]);

    let (records, err, _) = run(&pcap(&frames), &["--idle-timeout", "0"]);
    assert_eq!(connections(&records).len(), 5);
    assert!(!err.contains("idle"), "timeout 0 never flushes: {err}");
}

#[test]
fn zero_connections_allowed_is_a_usage_error() {
    let (_, err, status) = run(&pcap(&[]), &["--max-conns", "0"]);
    assert_eq!(status, Some(2));
    assert!(err.contains("at least 1"), "{err}");
}

/// One segment from `from` to `to` (ports), flags as etherparse builds them.
fn segment(from: u16, to: u16, seq: u32, ack: Option<u32>, syn: bool, fin: bool) -> Vec<u8> {
    let (src, dst) = if from == 80 {
        ([10, 0, 0, 2], [10, 0, 0, 1])
    } else {
        ([10, 0, 0, 1], [10, 0, 0, 2])
    };
    let mut tcp = PacketBuilder::ethernet2([0; 6], [0; 6])
        .ipv4(src, dst, 64)
        .tcp(from, to, seq, 1024);
    if syn {
        tcp = tcp.syn();
    }
    if fin {
        tcp = tcp.fin();
    }
    if let Some(ack) = ack {
        tcp = tcp.ack(ack);
    }
    let mut data = Vec::new();
    tcp.write(&mut data, &[]).expect("built");
    data
}

/// A page of many connections draws the first 2,000 and, past them, the problem ones only,
/// and says how many it left out; its summary lists them all.
#[test]
fn a_big_page_draws_problem_connections_past_two_thousand() {
    let mut frames = Vec::new();
    for i in 0..2_100u16 {
        // Opened and closed cleanly: handshake, then FIN, FIN-ACK, ACK.
        let (port, c, s) = (10_000 + i, 1_000u32, 5_000u32);
        let sec = u32::from(i);
        frames.push((sec, segment(port, 80, c, None, true, false)));
        frames.push((sec, segment(80, port, s, Some(c + 1), true, false)));
        frames.push((sec, segment(port, 80, c + 1, Some(s + 1), false, false)));
        frames.push((sec, segment(port, 80, c + 1, Some(s + 1), false, true)));
        frames.push((sec, segment(80, port, s + 1, Some(c + 2), false, true)));
        frames.push((sec, segment(port, 80, c + 2, Some(s + 2), false, false)));
    }
    for port in 30_000..30_005u16 {
        frames.push((3_000, syn(port)));
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("many.pcap");
    std::fs::write(&path, pcap(&frames)).expect("written");
    let out = Command::new(env!("CARGO_BIN_EXE_synfin"))
        .args(["--format", "html"])
        .arg(&path)
        .output()
        .expect("runs");
    let page = String::from_utf8_lossy(&out.stdout);
    let drawn: Vec<u64> = page
        .split("<section id=\"c1-conn-")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect();
    let want: Vec<u64> = (0..2_000).chain(2_100..2_105).collect();
    assert_eq!(drawn, want);
    assert!(
        page.contains("100 diagrams of clean connections were left out"),
        "{}",
        page.get(..2_000).unwrap_or_default()
    );
    // Every row is kept; 2,100 of them clean; past the first 1,000, hidden until asked.
    assert_eq!(page.matches("\"><td data-v=").count(), 2_105);
    assert_eq!(page.matches("\" class=\"problem\"><td").count(), 5);
    assert_eq!(page.matches("<tr id=\"c1-row-").count(), 1_000);
    assert_eq!(
        page.matches("<tr hidden=\"hidden\" id=\"c1-row-").count(),
        1_105
    );
    in_a_browser(&page);
}

/// The same page in headless Chromium (when installed): 1,000 rows shown of 2,105, the
/// problems filter finds the five past them, "show all" shows every row, and the link from
/// a diagram to a row not shown shows it.
fn in_a_browser(page: &str) {
    let Some(browser) = common::browser() else {
        return;
    };
    let drive = r##"<script>
      const t = document.querySelector("table.summary");
      const bar = t.previousElementSibling;
      const visible = () => [...t.tBodies[0].rows].filter(r => !r.hidden).length;
      const first = [visible(), bar.querySelector("output").value];
      const row = document.getElementById("c1-row-2102");
      const before = row.hidden;
      document.querySelector("#c1-conn-2102 p.back a").click();
      const linked = row.hidden;
      const box = bar.querySelector("input[type=checkbox]");
      box.checked = true; box.dispatchEvent(new Event("change"));
      const problems = [visible(), bar.querySelector("output").value];
      box.checked = false; box.dispatchEvent(new Event("change"));
      bar.querySelector("button").click();
      const all = [visible(), bar.querySelector("output").value, bar.querySelector("button").hidden];
      const pre = document.createElement("pre");
      pre.id = "result";
      pre.textContent = JSON.stringify({first, before, linked, problems, all});
      document.body.append(pre);
    </script>"##;
    let result = common::drive(browser, page, drive);
    assert_eq!(
        result["first"],
        serde_json::json!([1000, "1000 of 2105 shown"])
    );
    assert_eq!(result["before"], true);
    assert_eq!(result["linked"], false);
    assert_eq!(result["problems"], serde_json::json!([5, "5 shown"]));
    assert_eq!(result["all"], serde_json::json!([2105, "2105 shown", true]));
}
