//! Captures with many connections, as a new user meets them (issue 15): every format for
//! people lists connections by index, one summary table after one overview.

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
