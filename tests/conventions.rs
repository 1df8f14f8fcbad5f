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
