//! Captures with many connections, as a new user meets them (issue 15): every format for
//! people lists connections by index, one summary table after one overview.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn capture(name: &str) -> Option<PathBuf> {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/captures")).join(name);
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("NOTICE: {} is absent; test skipped", path.display());
        None
    }
}

fn synfin(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_synfin"))
        .args(args)
        .output()
        .expect("synfin runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The connection numbers of the lines that start with `prefix`, in order.
fn numbers(text: &str, prefix: &str) -> Vec<u64> {
    text.lines()
        .filter_map(|l| l.strip_prefix(prefix))
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect()
}

#[test]
fn every_format_for_people_lists_echo_connections_by_index() {
    let Some(path) = capture("zeek/echo-connections.pcap") else {
        return;
    };
    let path = path.to_str().expect("path");
    let all: Vec<u64> = (0..500).collect();

    let table = synfin(&[path]);
    assert_eq!(numbers(&table, "Connection "), all);
    // One summary, after one overview, its rows in order.
    assert_eq!(table.matches("Summary").count(), 1);
    assert_eq!(table.matches("Overview: ").count(), 1);
    assert!(table.contains("Overview: 500 connections, "), "{table}");
    assert!(table.contains("Zeek conn_state: SF 500"), "{table}");
    let summary = table.split("Summary: ").nth(1).expect("a summary");
    assert!(summary.starts_with("500 connections"), "{summary}");
    let rows: Vec<u64> = summary
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    assert_eq!(rows, all);

    let ladder = synfin(&["--format", "ladder", path]);
    assert_eq!(numbers(&ladder, "Connection "), all);
    let mermaid = synfin(&["--format", "mermaid", path]);
    assert_eq!(numbers(&mermaid, "    title Connection "), all);
    for format in ["svg", "html"] {
        let page = synfin(&["--format", format, path]);
        let titles: Vec<u64> = page
            .split(">Connection ")
            .skip(1)
            .filter_map(|rest| rest.split(':').next()?.parse().ok())
            .collect();
        assert_eq!(titles, all, "{format}");
    }
}

/// The connection numbers of a run's JSON connection records, and whether every segment
/// record came right before its own connection's record.
fn connections(args: &[&str]) -> (Vec<u64>, bool) {
    let out = synfin(&[&["--format", "jsonl"], args].concat());
    let mut conns = Vec::new();
    let mut grouped = true;
    let mut current = None;
    for line in out.lines() {
        let record: serde_json::Value = serde_json::from_str(line).expect("JSON");
        let conn = record["conn"].as_u64();
        match record["type"].as_str() {
            Some("segment") => {
                grouped &= current.is_none_or(|c| Some(c) == conn);
                current = conn;
            }
            _ => {
                grouped &= current.is_none_or(|c| Some(c) == conn);
                current = None;
                conns.extend(conn);
            }
        }
    }
    (conns, grouped)
}

#[test]
fn problems_and_connection_properties_pick_whole_connections() {
    let Some(path) = capture("zeek/echo-connections.pcap") else {
        return;
    };
    let path = path.to_str().expect("path");
    // Every echo connection closes cleanly; those with a retransmission are the problems.
    let (problems, grouped) = connections(&["--problems", path]);
    let (retransmitting, _) = connections(&["--flag", "retransmission", path]);
    assert_eq!(problems.len(), 158);
    assert_eq!(problems, retransmitting);
    assert!(grouped, "each connection's segments come with it");
    let table = synfin(&["--problems", path]);
    let shown: Vec<u64> = numbers(&table, "Connection ");
    assert_eq!(shown, problems);
    assert!(table.contains("Overview: 158 connections"), "{table}");
    assert_eq!(connections(&["--state", "SF", path]).0.len(), 500);
    assert_eq!(connections(&["--state", "REJ", path]).0, Vec::<u64>::new());
    assert_eq!(
        connections(&["--teardown", "three-way", "--closed-by", "client", path])
            .0
            .len(),
        500
    );
    assert_eq!(
        connections(&["--closed-by", "server", path]).0,
        Vec::<u64>::new()
    );
}

#[test]
fn clean_captures_have_no_problems_and_refusals_are_problems() {
    let fixture = |name: &str| format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    assert_eq!(
        connections(&["--problems", &fixture("classic.pcap")]).0,
        Vec::<u64>::new()
    );
    assert_eq!(
        connections(&["--problems", &fixture("refused.pcap")]).0,
        [0, 1]
    );
    let ladder = synfin(&[
        "--format",
        "ladder",
        "--handshake",
        "refused",
        &fixture("refused.pcap"),
    ]);
    assert_eq!(numbers(&ladder, "Connection "), [0, 1]);
    let out = Command::new(env!("CARGO_BIN_EXE_synfin"))
        .args(["--teardown", "sideways", &fixture("classic.pcap")])
        .output()
        .expect("synfin runs");
    assert_eq!(out.status.code(), Some(2));
}

/// The page of a big capture in headless Chromium (when installed): its summary sorts by a
/// clicked column and filters by text and by trouble, in the browser's own script engine.
#[test]
fn the_html_summary_sorts_and_filters_in_a_browser() {
    let Some(path) = capture("zeek/echo-connections.pcap") else {
        return;
    };
    let Some(browser) = common::browser() else {
        return;
    };
    let page = synfin(&["--format", "html", path.to_str().expect("path")]);
    // What a user does, then what the page shows, written where --dump-dom reads it.
    let drive = r##"<script>
      const t = document.querySelector("table.summary");
      const bar = t.previousElementSibling;
      const conn = () => [...t.tBodies[0].rows].filter(r => !r.hidden).map(r => r.cells[0].textContent);
      const th = t.querySelectorAll("th");
      th[0].click(); th[0].click();
      const descending = conn().slice(0, 2);
      th[3].click();
      const fewest = conn()[0];
      const search = bar.querySelector("input[type=search]");
      search.value = "37512"; search.dispatchEvent(new Event("input"));
      const found = conn();
      search.value = ""; search.dispatchEvent(new Event("input"));
      const box = bar.querySelector("input[type=checkbox]");
      box.checked = true; box.dispatchEvent(new Event("change"));
      const problems = conn().length;
      const back = document.querySelector("#c1-conn-5 p.back a").getAttribute("href");
      const row = document.querySelector(back);
      const roundTrip = [row.cells[0].textContent, row.cells[0].querySelector("a").getAttribute("href")];
      const heading = [document.querySelector("h1").textContent, document.querySelector("p.capture").textContent];
      const axis = [document.querySelectorAll("#c1-conn-5 text.time").length,
        document.querySelectorAll("#c1-conn-5 line.seg").length];
      const pre = document.createElement("pre");
      pre.id = "result";
      pre.textContent = JSON.stringify({descending, fewest, found, problems, roundTrip, heading, axis,
        shown: bar.querySelector("output").value});
      document.body.append(pre);
    </script>"##;
    let result = common::drive(browser, &page, drive);
    assert_eq!(result["descending"], serde_json::json!(["499", "498"]));
    // The fewest packets: 3 + 57 = 60 less than the others' (conn 12 has 106/57).
    let fewest = result["fewest"].as_str().expect("a row");
    let table = synfin(&["--summary", path.to_str().expect("path")]);
    let fewest_row = table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(fewest))
        .expect("in the summary");
    let pkts = |row: &str| -> u64 {
        row.split_whitespace()
            .nth(3)
            .and_then(|p| p.split_once('/'))
            .map(|(a, b)| a.parse::<u64>().unwrap_or(0) + b.parse::<u64>().unwrap_or(0))
            .unwrap_or(0)
    };
    let least = table
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .map(pkts)
        .min();
    assert_eq!(Some(pkts(fewest_row)), least);
    assert_eq!(result["found"], serde_json::json!(["1"]));
    assert_eq!(result["problems"], 158);
    assert_eq!(result["shown"], "158 shown");
    // A diagram links back to its row, which links to the diagram.
    assert_eq!(result["roundTrip"], serde_json::json!(["5", "#c1-conn-5"]));
    // The heading names the capture, its size and its time span.
    assert_eq!(result["heading"][0], "echo-connections.pcap");
    // The file is 6,833,698 bytes; its first and last frames as a pcap reader reads them.
    assert_eq!(
        result["heading"][1],
        "6.8 MB, 2021-07-25 14:57:00.686470 to 2021-07-25 14:57:07.180797 UTC (6.494327 s)"
    );
    // The time axis: a time beside each arrow, and the axis' heading.
    let axis = &result["axis"];
    assert!(axis[1].as_u64() > Some(0), "{axis}");
    assert_eq!(axis[0].as_u64(), axis[1].as_u64().map(|n| n + 1), "{axis}");
}

/// The same page in Chinese (`--lang zh`): the filter's count, the heading's time span and
/// the page's own words are Chinese, the cells that filters take stay SPEC.md's values.
#[test]
fn the_html_page_speaks_chinese_in_a_browser() {
    let Some(path) = capture("zeek/echo-connections.pcap") else {
        return;
    };
    let Some(browser) = common::browser() else {
        return;
    };
    let page = synfin(&[
        "--format",
        "html",
        "--lang",
        "zh",
        path.to_str().expect("path"),
    ]);
    let drive = r##"<script>
      const t = document.querySelector("table.summary");
      const bar = t.previousElementSibling;
      const box = bar.querySelector("input[type=checkbox]");
      box.checked = true; box.dispatchEvent(new Event("change"));
      const problems = bar.querySelector("output").value;
      const search = bar.querySelector("input[type=search]");
      const words = [document.documentElement.lang, bar.querySelector("label").textContent.trim(),
        search.placeholder, [...t.querySelectorAll("th")].map(th => th.textContent).join(" "),
        document.querySelector("p.capture").textContent,
        document.querySelector("#c1-conn-5 p.back a").textContent];
      const pre = document.createElement("pre");
      pre.id = "result";
      pre.textContent = JSON.stringify({problems, words});
      document.body.append(pre);
    </script>"##;
    let result = common::drive(browser, &page, drive);
    assert_eq!(result["problems"], "显示 158 行");
    assert_eq!(
        result["words"],
        serde_json::json!([
            "zh",
            "只看有问题的",
            "筛选行",
            "连接 客户端 服务器 包数 字节数 握手 挥手 最终状态 Zeek 备注",
            "6.8 MB，2021-07-25 14:57:00.686470 至 2021-07-25 14:57:07.180797 UTC（6.494327 秒）",
            "↑ 汇总中的连接 5"
        ])
    );
}

/// Several captures in one run: each capture's summary holds its own connections' rows,
/// none of the captures before it (the rows wait on a tape, read twice, then cleared).
#[test]
fn each_capture_of_several_summarises_its_own_connections() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/analysis");
    let paths = ["dup-ack.pcap", "acked-unseen.pcap", "dup-ack.pcap"].map(|f| format!("{dir}/{f}"));
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    let per_capture: Vec<usize> = paths
        .iter()
        .map(|p| {
            synfin(&["--format", "jsonl", "--summary", p])
                .lines()
                .count()
        })
        .collect();
    assert!(per_capture.iter().all(|n| *n > 0), "{per_capture:?}");

    let page = synfin(&[&["--format", "html"][..], &paths].concat());
    let rows: Vec<&str> = page
        .split("<tr id=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|id| id.contains("-row-"))
        .collect();
    assert_eq!(rows.len(), per_capture.iter().sum::<usize>(), "{rows:?}");
    let mut unique = rows.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), rows.len(), "{rows:?}");

    let table = synfin(&[&["--summary"][..], &paths].concat());
    let tables: Vec<usize> = table
        .split("Summary: ")
        .skip(1)
        .map(|summary| {
            // Rows: the lines between the header's rule and the closing rule.
            let lines: Vec<&str> = summary.lines().collect();
            let rules: Vec<usize> = (0..lines.len())
                .filter(|&i| lines.get(i).is_some_and(|l| l.starts_with('─')))
                .collect();
            match rules.as_slice() {
                [_, after_header, end, ..] => end - after_header - 1,
                _ => 0,
            }
        })
        .collect();
    assert_eq!(tables, per_capture, "{table}");
}
