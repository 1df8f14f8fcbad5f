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

/// Lines longer than `width` columns (characters; ANSI escapes and carriage returns
/// dropped).
fn too_wide(out: &str, width: usize) -> Vec<String> {
    let plain = out.replace('\r', "");
    let mut lines = Vec::new();
    for line in plain.lines() {
        let mut visible = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                // An SGR escape: ESC [ … m.
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                visible.push(c);
            }
        }
        if visible.chars().count() > width {
            lines.push(visible);
        }
    }
    lines
}

/// `--width 80`: the loopback fixtures' tables and ladders fit 80 columns by the compact
/// layout, which keeps every fact: the state columns headed as states, the flags named by
/// the role, steps as "2/3", the analysis under its row, and the prose wrapped.
#[test]
fn narrowed_tables_and_ladders_fit_eighty_columns() {
    let mut captures = vec![
        CLASSIC.to_string(),
        "fixtures/refused.pcap".into(),
        "fixtures/reset.pcap".into(),
        "fixtures/simultaneous.pcap".into(),
        "fixtures/self-connect.pcap".into(),
        "fixtures/ipv6.pcap".into(),
    ];
    for entry in std::fs::read_dir("fixtures/analysis").expect("fixtures/analysis") {
        let path = entry.expect("an entry").path();
        captures.push(path.to_string_lossy().into_owned());
    }
    for capture in &captures {
        for format in ["table", "ladder"] {
            let out = synfin(&["--width", "80", "--format", format, capture]);
            assert!(out.status.success(), "{capture}: {}", text(&out.stderr));
            let wide = too_wide(&text(&out.stdout), 80);
            assert!(wide.is_empty(), "{capture} {format}: {wide:#?}");
        }
    }
    let table = text(&synfin(&["--width", "80", CLASSIC]).stdout);
    assert!(table.contains("Client state Server state"), "{table}");
    assert!(!table.contains("[SYN, ACK]"), "{table}");
    assert!(table.contains(" SYN-ACK   2/3 "), "{table}");
    let ladder = text(&synfin(&["--width", "80", "--format", "ladder", CLASSIC]).stdout);
    assert!(ladder.contains("│ SYN_RECV    SYN 1/3\n"), "{ladder}");
    // Analysis flags that do not fit go under their row.
    let lossy = text(&synfin(&["--width", "80", "fixtures/analysis/retransmission.pcap"]).stdout);
    assert!(
        lossy.lines().any(|l| l.trim() == "retransmission"),
        "{lossy}"
    );
    // Piped, the natural layout: every column, whole words.
    let piped = text(&synfin(&[CLASSIC]).stdout);
    assert!(
        piped.contains("[SYN, ACK]  SYN-ACK    handshake 2/3"),
        "{piped}"
    );
    assert!(
        piped.contains("Zeek: SF opened and closed normally; history S SYN, H SYN-ACK"),
        "{piped}"
    );
}

/// On a terminal (`script`'s, set to 80 columns and 24 rows) the width is the terminal's.
#[test]
fn on_a_terminal_tables_fit_its_width() {
    let bin = env!("CARGO_BIN_EXE_synfin");
    let run = format!("stty rows 24 cols 80; {bin} {CLASSIC}");
    let Ok(on_terminal) = Command::new("script")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["-qec", &run, "/dev/null"])
        .output()
    else {
        eprintln!("NOTICE: script (util-linux) is absent; terminal width test skipped");
        return;
    };
    let seen = text(&on_terminal.stdout);
    assert!(seen.contains("Client state Server state"), "{seen}");
    let wide = too_wide(&seen, 80);
    assert!(wide.is_empty(), "{wide:#?}");
}

/// In colour, red marks trouble only: a retransmission is red in tables and ladders, at
/// full width and narrowed; a port reused after a close or a window update is not.
#[test]
fn colour_marks_trouble_only() {
    for (capture, red) in [
        ("fixtures/analysis/retransmission.pcap", true),
        ("fixtures/analysis/port-reused.pcap", false),
        ("fixtures/analysis/window-update.pcap", false),
    ] {
        for args in [
            &["--color", "always"][..],
            &["--color", "always", "--width", "80"],
            &["--color", "always", "--format", "ladder"],
        ] {
            let out = synfin(&[args, &[capture]].concat());
            let shown = text(&out.stdout);
            let flags = shown.contains("retransmission")
                || shown.contains("port-reused")
                || shown.contains("window-update");
            assert!(flags, "{capture} {args:?}: {shown}");
            assert_eq!(
                shown.contains("\u{1b}["),
                red,
                "{capture} {args:?}: {shown}"
            );
        }
    }
}

/// Output into a pipe widens the pipe to 1 MiB (a flood's summary is 166 MB); the output
/// through it is the output into a file.
#[cfg(target_os = "linux")]
#[test]
fn output_into_a_pipe_widens_the_pipe() {
    use std::io::Read;
    use std::process::Stdio;

    let mut child = Command::new(env!("CARGO_BIN_EXE_synfin"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--summary", CLASSIC])
        .stdout(Stdio::piped())
        .spawn()
        .expect("synfin runs");
    let mut pipe = child.stdout.take().expect("piped");
    let mut through = Vec::new();
    pipe.read_to_end(&mut through).expect("read");
    assert!(child.wait().expect("waited").success());
    // The pipe outlives the writer while its reader holds it.
    let size = rustix::pipe::fcntl_getpipe_size(&pipe).expect("a pipe");
    assert_eq!(size, 1 << 20);
    assert_eq!(through, synfin(&["--summary", CLASSIC]).stdout);
}
