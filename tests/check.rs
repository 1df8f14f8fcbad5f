//! `synfin check`: every rule on a capture that keeps it and on one that breaks it, exit
//! codes, the text of the messages, JUnit XML parsed back, JSON verdicts, golden mode.

use std::process::{Command, Output};

fn check(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synfin"))
        .arg("check")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("synfin runs")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Passes: exit 0, the verdict line, nothing on stderr.
fn passes(args: &[&str], verdict: &str) {
    let o = check(args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}{}", out(&o), err(&o));
    assert_eq!(out(&o).trim(), verdict, "{args:?}");
    assert_eq!(err(&o), "", "{args:?}");
}

/// Fails: exit 1, the verdict line, and exactly these lines on stderr.
fn fails(args: &[&str], verdict: &str, lines: &[&str]) {
    let o = check(args);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {}{}", out(&o), err(&o));
    assert_eq!(out(&o).trim(), verdict, "{args:?}");
    let stderr = err(&o);
    let got: Vec<&str> = stderr.lines().collect();
    let want: Vec<String> = lines.iter().map(|l| format!("synfin check: {l}")).collect();
    assert_eq!(got, want, "{args:?}");
}

const ONE_OK: &str = "check: 1 connection, 1 passed, 0 failed";
const ONE_FAILED: &str = "check: 1 connection, 0 passed, 1 failed";

#[test]
fn the_default_policy_passes_clean_exchanges() {
    for f in [
        "classic",
        "client-close",
        "server-close",
        "ipv6",
        "half-close",
        "simultaneous",
        "self-connect",
        "classic-any",
        "bulk",
    ] {
        passes(&[&format!("fixtures/{f}.pcap")], ONE_OK);
    }
    passes(
        &["fixtures/classic.pcap", "fixtures/reuse.pcap"],
        "check: 4 connections, 4 passed, 0 failed",
    );
}

#[test]
fn handshake_must_be_complete_unless_the_capture_starts_midway() {
    fails(
        &["fixtures/midstream.pcap"],
        ONE_FAILED,
        &[
            "fixtures/midstream.pcap: conn 0 127.0.0.1:50186 → 127.0.0.1:40110: handshake: handshake not-seen, not complete (frame 1); allow with --allow midstream",
        ],
    );
    passes(&["--allow", "midstream", "fixtures/midstream.pcap"], ONE_OK);
}

#[test]
fn a_reset_fails_unless_allowed() {
    fails(
        &["fixtures/reset.pcap"],
        ONE_FAILED,
        &[
            "fixtures/reset.pcap: conn 0 127.0.0.1:53952 → 127.0.0.1:40150: no-reset: reset by the client: abortive-close (frame 6); allow with --allow reset",
        ],
    );
    passes(&["--allow", "reset", "fixtures/reset.pcap"], ONE_OK);
    // A refused connection fails its handshake; its RST is that refusal, not a second
    // failure, and allowing resets does not allow it.
    for allow in [&["--allow", "reset"][..], &[]] {
        let args: Vec<&str> = allow
            .iter()
            .copied()
            .chain(["fixtures/refused.pcap"])
            .collect();
        fails(
            &args,
            "check: 2 connections, 0 passed, 2 failed",
            &[
                "fixtures/refused.pcap: conn 0 127.0.0.1:47214 → 127.0.0.1:40140: handshake: refused: the SYN was answered by a RST (nothing listening on port 40140) (frame 1)",
                "fixtures/refused.pcap: conn 1 127.0.0.1:47218 → 127.0.0.1:40140: handshake: refused: the SYN was answered by a RST (nothing listening on port 40140) (frame 3)",
            ],
        );
    }
}

#[test]
fn zero_connections_fail_unless_empty_is_allowed() {
    // The wrong port: nothing is checked, and a gate over nothing is no gate.
    fails(
        &["--port", "9", "fixtures/classic.pcap"],
        "check: 0 connections, 0 passed, 0 failed, 1 capture expectation(s) not met",
        &[
            "fixtures/classic.pcap: expect-conns: expected at least 1 connection(s) to port 9, found 0; allow with --allow empty",
        ],
    );
    passes(
        &["--port", "9", "--allow", "empty", "fixtures/classic.pcap"],
        "check: 0 connections, 0 passed, 0 failed",
    );
    passes(
        &[
            "--port",
            "9",
            "--expect-conns",
            "0",
            "fixtures/classic.pcap",
        ],
        "check: 0 connections, 0 passed, 0 failed",
    );
}

#[test]
fn time_in_close_wait_and_the_duration_are_checked() {
    // classic.pcap: the server closes first (frame 6, 0.000347 s); the client, in
    // CLOSE_WAIT, closes 50.094 ms later (frame 8, 0.050441 s). The whole: 50.461 ms.
    passes(&["--max-close-wait", "60", "fixtures/classic.pcap"], ONE_OK);
    fails(
        &["--max-close-wait", "50", "fixtures/classic.pcap"],
        ONE_FAILED,
        &[
            "fixtures/classic.pcap: conn 0 127.0.0.1:50186 → 127.0.0.1:40110: max-close-wait: the client sat in CLOSE_WAIT 50.094 ms, above 50 ms: its peer had closed and its application was slow to close (frames 6, 8)",
        ],
    );
    passes(&["--max-duration", "51", "fixtures/classic.pcap"], ONE_OK);
    fails(
        &["--max-duration", "50", "fixtures/classic.pcap"],
        ONE_FAILED,
        &[
            "fixtures/classic.pcap: conn 0 127.0.0.1:50186 → 127.0.0.1:40110: max-duration: lasted 50.461 ms, above 50 ms (frames 1, 9)",
        ],
    );
    // The same rules from a policy file.
    let dir = tempfile::tempdir().expect("a temporary folder");
    let policy = dir.path().join("synfin.toml");
    std::fs::write(&policy, "max-close-wait-ms = 50\nmax-duration-ms = 50\n").expect("written");
    let o = check(&[
        "--policy",
        policy.to_str().expect("UTF-8"),
        "fixtures/classic.pcap",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = err(&o);
    assert!(
        e.contains("max-close-wait:") && e.contains("max-duration:"),
        "{e}"
    );
}

#[test]
fn a_verdict_that_cannot_be_written_is_exit_2() {
    if std::path::Path::new("/dev/full").exists() {
        for args in [
            &["fixtures/classic.pcap"][..],
            &["--format", "jsonl", "fixtures/reset.pcap"],
            &[
                "--expect",
                "tests/expected/classic.pcap.jsonl",
                "fixtures/classic.pcap",
            ],
        ] {
            let full = std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .expect("/dev/full opens");
            let o = Command::new(env!("CARGO_BIN_EXE_synfin"))
                .arg("check")
                .args(args)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .stdout(full)
                .output()
                .expect("synfin runs");
            assert_eq!(o.status.code(), Some(2), "{args:?}: {}", err(&o));
            assert!(
                err(&o).contains("synfin check: writing the verdict: No space left on device"),
                "{args:?}: {}",
                err(&o)
            );
        }
    }
    let o = check(&[
        "--junit",
        "/no/such/folder/report.xml",
        "fixtures/classic.pcap",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("/no/such/folder/report.xml: cannot write"),
        "{}",
        err(&o)
    );
}

#[test]
fn connections_left_open_fail_unless_allowed() {
    fails(
        &["fixtures/zeek/S1.pcap"],
        ONE_FAILED,
        &[
            "fixtures/zeek/S1.pcap: conn 0 127.0.0.1:42002 → 127.0.0.1:42003: closed: still open at the end of the capture (no FIN or RST) (frame 5); allow with --allow open",
        ],
    );
    passes(&["--allow", "open", "fixtures/zeek/S1.pcap"], ONE_OK);
}

#[test]
fn the_teardown_kind_is_checked() {
    fails(
        &["fixtures/zeek/S2.pcap"],
        ONE_FAILED,
        &[
            "fixtures/zeek/S2.pcap: conn 0 127.0.0.1:42004 → 127.0.0.1:42005: teardown: teardown half-closed, expected four-way or three-way or simultaneous (frame 4); allow with --teardown four-way,three-way,simultaneous,half-closed",
        ],
    );
    passes(
        &["--teardown", "half-closed", "fixtures/zeek/S2.pcap"],
        ONE_OK,
    );
    fails(
        &["--teardown", "three-way", "fixtures/classic.pcap"],
        ONE_FAILED,
        &[
            "fixtures/classic.pcap: conn 0 127.0.0.1:50186 → 127.0.0.1:40110: teardown: teardown four-way, expected three-way (frame 6); allow with --teardown three-way,four-way",
        ],
    );
    passes(
        &["--teardown", "four-way,three-way", "fixtures/classic.pcap"],
        ONE_OK,
    );
}

#[test]
fn the_closer_is_checked() {
    passes(&["--closed-by", "server", "fixtures/classic.pcap"], ONE_OK);
    fails(
        &["--closed-by", "client", "fixtures/classic.pcap"],
        ONE_FAILED,
        &[
            "fixtures/classic.pcap: conn 0 127.0.0.1:50186 → 127.0.0.1:40110: closed-by: closed by the server, expected the client (frame 6)",
        ],
    );
}

#[test]
fn the_handshake_rtt_is_checked() {
    passes(&["--max-rtt", "1", "fixtures/classic.pcap"], ONE_OK);
    fails(
        &["--max-rtt", "0.1", "fixtures/classic.pcap"],
        ONE_FAILED,
        &[
            "fixtures/classic.pcap: conn 0 127.0.0.1:50186 → 127.0.0.1:40110: max-rtt: handshake RTT 0.191 ms, above 0.1 ms (frame 1)",
        ],
    );
}

#[test]
fn retransmissions_fail_beyond_the_allowance() {
    let line = "fixtures/syn-retransmit.pcap: conn 0 127.0.0.1:50186 → 127.0.0.1:40110: retransmissions: 1 retransmission, at most 0 allowed (frame 2); allow with --max-retransmissions 1 or --allow retransmission";
    fails(&["fixtures/syn-retransmit.pcap"], ONE_FAILED, &[line]);
    passes(
        &["--max-retransmissions", "1", "fixtures/syn-retransmit.pcap"],
        ONE_OK,
    );
    passes(
        &["--allow", "retransmission", "fixtures/syn-retransmit.pcap"],
        ONE_OK,
    );
    fails(
        &[
            "--allow",
            "open",
            "fixtures/analysis/fast-retransmission.pcap",
        ],
        ONE_FAILED,
        &[
            "fixtures/analysis/fast-retransmission.pcap: conn 0 127.0.0.1:41002 → 127.0.0.1:41003: retransmissions: 1 retransmission, at most 0 allowed (frame 10); allow with --max-retransmissions 1 or --allow retransmission",
        ],
    );
}

#[test]
fn the_connection_count_and_port_are_checked() {
    passes(
        &["--expect-conns", "3", "fixtures/reuse.pcap"],
        "check: 3 connections, 3 passed, 0 failed",
    );
    passes(
        &[
            "--expect-conns",
            "2..4",
            "--port",
            "40180",
            "fixtures/reuse.pcap",
        ],
        "check: 3 connections, 3 passed, 0 failed",
    );
    fails(
        &["--expect-conns", "2", "fixtures/reuse.pcap"],
        "check: 3 connections, 3 passed, 0 failed, 1 capture expectation(s) not met",
        &["fixtures/reuse.pcap: expect-conns: expected 2 connection(s), found 3"],
    );
    // Only connections to the port are checked: the reset elsewhere does not count.
    fails(
        &[
            "--port",
            "9",
            "--expect-conns",
            "1..",
            "fixtures/reset.pcap",
        ],
        "check: 0 connections, 0 passed, 0 failed, 1 capture expectation(s) not met",
        &[
            "fixtures/reset.pcap: expect-conns: expected at least 1 connection(s) to port 9, found 0",
        ],
    );
}

#[test]
fn a_policy_file_holds_the_same_rules_and_rejects_unknown_keys() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let policy = dir.path().join("synfin.toml");
    std::fs::write(
        &policy,
        "allow = [\"reset\"]\nexpect-conns = 1\nclosed-by = \"client\"\nmax-rtt-ms = 5\n",
    )
    .expect("written");
    let p = policy.to_str().expect("UTF-8 path");
    passes(&["--policy", p, "fixtures/reset.pcap"], ONE_OK);
    // The command line overrides the file.
    fails(
        &[
            "--policy",
            p,
            "--closed-by",
            "server",
            "fixtures/reset.pcap",
        ],
        ONE_FAILED,
        &[
            "fixtures/reset.pcap: conn 0 127.0.0.1:53952 → 127.0.0.1:40150: closed-by: closed by the client, expected the server (frame 6)",
        ],
    );
    std::fs::write(&policy, "allow = [\"reset\"]\n\nmax-retransmits = 2\n").expect("written");
    let o = check(&["--policy", p, "fixtures/classic.pcap"]);
    assert_eq!(o.status.code(), Some(2));
    let e = err(&o);
    assert!(
        e.starts_with(&format!(
            "synfin check: {p}: line 3: unknown field `max-retransmits`"
        )),
        "{e}"
    );
}

#[test]
fn usage_and_input_errors_exit_2() {
    let o = check(&["fixtures/no-such.pcap"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("fixtures/no-such.pcap: cannot read"),
        "{}",
        err(&o)
    );
    assert_eq!(
        check(&["--allow", "anything", "fixtures/classic.pcap"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        check(&["--expect-conns", "5..2", "fixtures/classic.pcap"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(check(&[]).status.code(), Some(2));
}

#[test]
fn junit_xml_has_a_case_per_connection_and_parses_back() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let report = dir.path().join("report.xml");
    let r = report.to_str().expect("UTF-8 path");
    let o = check(&["--junit", r, "fixtures/classic.pcap", "fixtures/reset.pcap"]);
    assert_eq!(o.status.code(), Some(1));
    let xml = std::fs::read_to_string(&report).expect("the report");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("4"));
    assert_eq!(root.attribute("failures"), Some("1"));
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 4);
    let failed: Vec<_> = cases
        .iter()
        .filter(|c| c.children().any(|f| f.has_tag_name("failure")))
        .collect();
    assert_eq!(failed.len(), 1);
    let failure = failed[0]
        .children()
        .find(|f| f.has_tag_name("failure"))
        .expect("a failure");
    assert_eq!(failure.attribute("type"), Some("no-reset"));
    assert_eq!(
        failure.attribute("message"),
        Some("no-reset: reset by the client: abortive-close (frame 6); allow with --allow reset")
    );
    assert_eq!(
        failed[0].attribute("name"),
        Some("conn 0 127.0.0.1:53952 → 127.0.0.1:40150")
    );
}

#[test]
fn verdicts_as_json_lines() {
    let o = check(&["--format", "jsonl", "fixtures/reset.pcap"]);
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["type"], "verdict");
    assert_eq!(lines[0]["passed"], false);
    assert_eq!(lines[0]["failures"][0]["rule"], "no-reset");
    assert_eq!(lines[0]["failures"][0]["frames"][0], 6);
    assert_eq!(lines[2]["type"], "check");
    assert_eq!(lines[2]["failed"], 1);
}

#[test]
fn golden_mode_compares_the_annotation_and_bless_writes_it() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let expected = dir.path().join("classic.jsonl");
    let e = expected.to_str().expect("UTF-8 path");
    let o = check(&["--expect", e, "--bless", "fixtures/classic.pcap"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    // The same exchange in another container matches; times are left out.
    for same in [
        "fixtures/classic.pcap",
        "fixtures/classic.pcapng",
        "fixtures/classic-sll2.pcap",
    ] {
        let o = check(&["--expect", e, same]);
        assert_eq!(o.status.code(), Some(0), "{same}: {}", err(&o));
        assert_eq!(out(&o).trim(), format!("check: annotation matches {e}"));
    }
    // A different story does not; the first differences are named, the connection's
    // first (who closed, and how), then the segments'.
    let o = check(&["--expect", e, "fixtures/client-close.pcap"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        out(&o).trim(),
        format!("check: annotation differs from {e}")
    );
    assert!(err(&o).lines().count() <= 11, "{}", err(&o));
    assert!(err(&o).starts_with("synfin check: conn 0: "), "{}", err(&o));
    assert!(
        err(&o).contains("synfin check: conn 0: closed_by is \"client\", expected \"server\""),
        "{}",
        err(&o)
    );
    // Times within a tolerance.
    let o = check(&[
        "--expect",
        e,
        "--time-tolerance",
        "0",
        "fixtures/classic-be-nano.pcap",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    // A missing expectation is an input error that says how to make one.
    let o = check(&["--expect", "no/such.jsonl", "fixtures/classic.pcap"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--bless writes it"), "{}", err(&o));
}
