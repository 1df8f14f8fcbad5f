//! The command line's manners (issue 15): what users of tshark and ripgrep type works.

use std::process::{Command, Output};

fn synfin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synfin"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("synfin runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const CLASSIC: &str = "fixtures/classic.pcap";

#[test]
fn read_with_r_as_tshark_takes_it_and_the_last_format_wins() {
    let plain = synfin(&["--format", "jsonl", CLASSIC]);
    let r = synfin(&["--format", "table", "--format", "jsonl", "-r", CLASSIC]);
    assert!(r.status.success(), "{}", text(&r.stderr));
    assert_eq!(r.stdout, plain.stdout);
    assert!(text(&plain.stdout).starts_with("{\"type\":\"segment\""));
}

#[test]
fn summary_means_connection_records_in_json_and_is_refused_for_diagrams() {
    let out = synfin(&["--summary", "--format", "jsonl", "fixtures/reuse.pcap"]);
    let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("{\"type\":\"connection\"")),
        "{lines:?}"
    );
    let out = synfin(&["--summary", "--format", "ladder", CLASSIC]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--summary is for the table and jsonl formats"));
    assert!(out.stdout.is_empty());
}

#[test]
fn a_filter_that_keeps_nothing_says_so() {
    let out = synfin(&["--problems", CLASSIC]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stderr),
        "synfin: fixtures/classic.pcap: no connection matches the filter\n"
    );
    let out = synfin(&["--role", "rst", CLASSIC]);
    assert_eq!(
        text(&out.stderr),
        "synfin: fixtures/classic.pcap: no segment matches --role\n"
    );
    assert!(synfin(&["--role", "fin", CLASSIC]).stderr.is_empty());
    assert!(synfin(&[CLASSIC]).stderr.is_empty());
}

#[test]
fn completions_and_the_manual_are_built_in() {
    for shell in ["bash", "zsh", "fish"] {
        let out = synfin(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let script = text(&out.stdout);
        assert!(
            script.contains("synfin") && script.contains("problems"),
            "{shell}"
        );
    }
    let man = synfin(&["man"]);
    assert!(man.status.success());
    let page = text(&man.stdout);
    assert!(page.contains(".TH synfin 1"), "{page}");
    assert!(page.contains("problems"), "{page}");
    assert_eq!(synfin(&["completions", "cmd.exe"]).status.code(), Some(2));
}

#[test]
fn times_as_tshark_shows_them_and_epoch_times_in_json() {
    let abs = text(&synfin(&["--time", "abs", CLASSIC]).stdout);
    assert!(abs.contains("Time (UTC)"), "{abs}");
    // `date -u -d @1795561953.380343 "+%F %T.%6N"`: the first frame's pcap timestamp.
    assert!(abs.contains("   1  2026-11-24 23:12:33.380343  →"), "{abs}");
    let json = text(&synfin(&["--format", "jsonl", CLASSIC]).stdout);
    assert!(
        json.starts_with(
            "{\"type\":\"segment\",\"frame\":1,\"time\":0.0,\"ts\":1795561953.380343,"
        )
    );
    assert!(
        json.contains("\"start\":0.0,\"ts\":1795561953.380343,"),
        "{json}"
    );
    // Delta: each segment's time less the one before it in its connection.
    let times: Vec<f64> = json
        .lines()
        .filter(|l| l.contains("\"segment\""))
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            v["time"].as_f64()
        })
        .collect();
    let delta = text(&synfin(&["--time", "delta", CLASSIC]).stdout);
    // The connection's table, before the summary.
    let table = delta.split("\n\n").next().unwrap_or_default();
    let cells: Vec<String> = table
        .lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .filter_map(|l| l.split_whitespace().nth(1).map(String::from))
        .collect();
    let want: Vec<String> = times
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{:.6}", if i == 0 { 0.0 } else { t - times[i - 1] }))
        .collect();
    assert_eq!(cells, want);
}

/// A long run on a terminal shows its progress on stderr, then clears it; in a pipe, never.
/// The terminal is `script`'s (util-linux); the capture comes through a pipe that stalls
/// for two seconds halfway.
#[test]
fn long_runs_on_a_terminal_show_progress_and_pipes_never() {
    let bin = env!("CARGO_BIN_EXE_synfin");
    let slow =
        format!("(head -c 600 {CLASSIC}; sleep 2; tail -c +601 {CLASSIC}) | {bin} --summary -");
    let Ok(on_terminal) = Command::new("script")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["-qec", &slow, "/dev/null"])
        .output()
    else {
        eprintln!("NOTICE: script (util-linux) is absent; progress test skipped");
        return;
    };
    let seen = text(&on_terminal.stdout);
    assert!(seen.contains(" B read"), "{seen}");
    // Cleared before the output: the overview starts a fresh line.
    assert!(seen.contains("\u{1b}[2KOverview: 1 connection"), "{seen}");
    let piped = Command::new("sh")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["-c", &slow])
        .output()
        .expect("sh runs");
    assert!(piped.stderr.is_empty(), "{}", text(&piped.stderr));
    assert!(text(&piped.stdout).starts_with("Overview: 1 connection"));
}
