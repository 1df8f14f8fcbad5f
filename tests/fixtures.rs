//! Runs the binary on every fixture and compares with the expected output beside it
//! (`tests/snapshots/`, reviewed with `cargo insta review`).

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

const FIXTURES: &[&str] = &[
    "classic.pcap",
    "client-close.pcap",
    "server-close.pcap",
    "refused.pcap",
    "reset.pcap",
    "half-close.pcap",
    "ipv6.pcap",
    "reuse.pcap",
    "midstream.pcap",
    "syn-retransmit.pcap",
    "classic-null.pcap",
    "simultaneous.pcap",
    "classic-sll2.pcap",
    "classic-raw.pcap",
    "classic.pcapng",
    "classic-be-nano.pcap",
    "classic.pcap.gz",
    "classic-any.pcap",
    "bulk.pcap",
    "self-connect.pcap",
    "classic-snap60.pcap",
];

fn fixture(name: &str) -> String {
    format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn synfin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synfin"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("synfin runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("output is UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn every_fixture_matches_its_expected_json_lines() {
    for name in FIXTURES {
        let out = synfin(&["--format", "jsonl", &format!("fixtures/{name}")]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{name} warns");
        insta::assert_snapshot!(format!("jsonl-{name}"), stdout(&out));
    }
}

/// Every capture under `fixtures/` (crafted analysis and Zeek cases included) has a stored
/// expectation in `tests/expected/`, and its annotation equals it: the gate CI runs
/// through `synfin check --expect`, here so that `cargo test` catches a drift too.
#[test]
fn every_fixture_equals_its_stored_expectation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for dir in [
        "fixtures",
        "fixtures/analysis",
        "fixtures/zeek",
        "fixtures/encap",
        "fixtures/difftest",
        "fixtures/reset",
    ] {
        let mut names: Vec<String> = std::fs::read_dir(root.join(dir))
            .expect("fixture folder")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".pcap") || n.ends_with(".pcapng") || n.ends_with(".gz"))
            .collect();
        names.sort();
        for name in names {
            let capture = format!("{dir}/{name}");
            let expected = format!("tests/expected/{}.jsonl", &capture["fixtures/".len()..]);
            assert!(root.join(&expected).exists(), "{capture} has no {expected}");
            let out = synfin(&["check", "--expect", &expected, &capture]);
            assert_eq!(out.status.code(), Some(0), "{capture}: {}", stderr(&out));
            checked += 1;
        }
    }
    assert!(checked > FIXTURES.len(), "only {checked} fixtures found");
}

#[test]
fn tables_read_like_the_story() {
    for name in [
        "classic.pcap",
        "classic-null.pcap",
        "midstream.pcap",
        "refused.pcap",
        "simultaneous.pcap",
        "self-connect.pcap",
    ] {
        let out = synfin(&[&format!("fixtures/{name}")]);
        assert_eq!(out.status.code(), Some(0));
        insta::assert_snapshot!(format!("table-{name}"), stdout(&out));
    }
    let out = synfin(&["--summary", "fixtures/reuse.pcap"]);
    insta::assert_snapshot!("summary-reuse.pcap", stdout(&out));
}

#[test]
fn link_type_and_container_variants_tell_the_same_story() {
    let strip = |s: String| -> Vec<String> {
        s.lines()
            .filter(|l| l.contains("\"segment\""))
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("JSON");
                format!(
                    "{} {} {} {} {} {}",
                    v["seq"], v["ack"], v["len"], v["role"], v["client_state"], v["server_state"]
                )
            })
            .collect()
    };
    let reference = strip(stdout(&synfin(&[
        "--format",
        "jsonl",
        "fixtures/classic.pcap",
    ])));
    assert_eq!(reference.len(), 9);
    for variant in [
        "classic-sll2.pcap",
        "classic-raw.pcap",
        "classic.pcapng",
        "classic-be-nano.pcap",
        "classic.pcap.gz",
    ] {
        let got = strip(stdout(&synfin(&[
            "--format",
            "jsonl",
            &format!("fixtures/{variant}"),
        ])));
        assert_eq!(got, reference, "{variant}");
    }
    // The same exchange captured with `tcpdump -s 60`, which cut the options off every
    // header: the same story, the lengths from the IP headers, no warning.
    let out = synfin(&["--format", "jsonl", "fixtures/classic-snap60.pcap"]);
    assert_eq!(stderr(&out), "");
    assert_eq!(strip(stdout(&out)), reference);
    // The SYNs' Window Scale options were cut too, so windows stay unscaled (as Wireshark
    // shows them): the handshake's ACK announces 64, where the full capture says 65536.
    let third = stdout(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["frame"] == 3)
        .map(|v| v["win"].clone());
    assert_eq!(third, Some(serde_json::json!(64)));
}

#[test]
fn macos_client_close_reads_as_in_the_classic_write_up() {
    let out = stdout(&synfin(&[
        "--format",
        "jsonl",
        "fixtures/classic-null.pcap",
    ]));
    let close: Vec<String> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "segment" && v["frame"].as_u64() >= Some(6))
        .map(|v| {
            format!(
                "{} Seq={} Ack={}",
                v["role"].as_str().unwrap_or(""),
                v["seq"],
                v["ack"]
            )
        })
        .collect();
    assert_eq!(
        close,
        [
            "fin-ack Seq=15 Ack=1",
            "ack Seq=1 Ack=16",
            "fin-ack Seq=1 Ack=16",
            "final-ack Seq=16 Ack=2"
        ]
    );
    assert!(out.contains("\"client_state\":\"TIME_WAIT\",\"server_state\":\"CLOSED\""));
}

#[test]
fn stdin_reads_like_a_file() {
    let file = std::fs::read(fixture("classic.pcap.gz")).expect("fixture");
    let mut child = Command::new(env!("CARGO_BIN_EXE_synfin"))
        .args(["--format", "jsonl", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("synfin runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&file)
        .expect("written");
    let out = child.wait_with_output().expect("finished");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        stdout(&synfin(&["--format", "jsonl", "fixtures/classic.pcap"]))
    );
}

#[test]
fn several_captures_are_analysed_each_on_its_own_and_labelled() {
    let out = synfin(&[
        "--format",
        "jsonl",
        "fixtures/refused.pcap",
        "fixtures/classic.pcap",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let records: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(records.len(), 4 + 2 + 9 + 1);
    assert!(
        records[..6]
            .iter()
            .all(|r| r["capture"] == "fixtures/refused.pcap")
    );
    assert!(
        records[6..]
            .iter()
            .all(|r| r["capture"] == "fixtures/classic.pcap")
    );
    // Frame numbers, times and connection indexes start afresh.
    assert_eq!(records[6]["frame"], 1);
    assert_eq!(records[6]["conn"], 0);
    assert_eq!(records[6]["time"], 0.0);
}

#[test]
fn a_capture_cut_short_reports_every_frame_before_the_cut() {
    let whole = std::fs::read(fixture("classic.pcap")).expect("fixture");
    let dir = tempfile::tempdir().expect("temp dir");
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &whole[..whole.len() - 10]).expect("written");
    let out = synfin(&["--format", "jsonl", cut.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("cut.pcap") && err.contains("cut short") && err.contains("frame 9"),
        "{err}"
    );
    let frames: Vec<u64> = stdout(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["frame"].as_u64())
        .collect();
    assert_eq!(frames, (1..=8).collect::<Vec<_>>());
    assert!(
        stdout(&out).contains("\"type\":\"connection\""),
        "the open connection is still summarised"
    );
}

#[test]
fn unreadable_input_is_one_clear_line_and_status_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let empty = dir.path().join("empty.pcap");
    std::fs::write(&empty, b"").expect("written");
    let cases = [
        ("Cargo.toml".to_string(), "not a pcap or pcapng capture"),
        (empty.to_str().expect("path").to_string(), "empty file"),
        ("fixtures/no-such-file.pcap".to_string(), "cannot read"),
    ];
    for (path, says) in cases {
        let out = synfin(&[&path]);
        assert_eq!(out.status.code(), Some(2), "{path}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("synfin: {path}: ")) && err.contains(says),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn fixtures_are_present() {
    for name in FIXTURES {
        assert!(
            Path::new(&fixture(name)).is_file(),
            "{name} missing: run fixtures/capture.sh"
        );
    }
}

#[test]
fn several_captures_in_parallel_print_in_the_order_given_with_their_messages() {
    let paths = [
        "fixtures/reuse.pcap",
        "fixtures/no-such.pcap",
        "fixtures/classic.pcap",
        "Cargo.toml",
        "fixtures/ipv6.pcap",
    ];
    for mode in [&["--summary"][..], &[][..]] {
        let out = synfin(&[mode, &paths[..]].concat());
        assert_eq!(out.status.code(), Some(2), "the worst status wins");
        let mut want = String::new();
        for path in paths {
            let one = synfin(&[mode, &[path][..]].concat());
            if one.status.code() == Some(0) {
                want.push_str(&format!("=== {path} ===\n\n{}", stdout(&one)));
            }
        }
        assert_eq!(stdout(&out), want);
        let err = stderr(&out);
        let no_such = err.find("no-such.pcap").expect("named");
        let cargo = err.find("Cargo.toml").expect("named");
        assert!(no_such < cargo, "messages in the order given: {err}");
    }
}

#[test]
fn filters_pick_connections_and_roles_in_every_format() {
    let frames = |args: &[&str]| -> Vec<(String, u64)> {
        let out = synfin(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"))
            .map(|r| {
                let id = r["frame"]
                    .as_u64()
                    .or(r["conn"].as_u64())
                    .unwrap_or(u64::MAX);
                (r["type"].as_str().unwrap_or_default().to_string(), id)
            })
            .collect()
    };
    let seg = |n: u64| ("segment".to_string(), n);
    let conn = |n: u64| ("connection".to_string(), n);
    // reuse.pcap: connections 0, 1 and 2 on one 4-tuple, frames 1-8, 9-16 and 17-24.
    let reuse = "fixtures/reuse.pcap";
    let got = frames(&["--format", "jsonl", "--conn", "1", reuse]);
    assert_eq!(got, (9..=16).map(seg).chain([conn(1)]).collect::<Vec<_>>());
    let got = frames(&["--format", "jsonl", "--conn", "0,2", "--role", "syn", reuse]);
    assert_eq!(got, [seg(1), conn(0), seg(17), conn(2)]);
    // classic.pcap: the handshake and teardown steps, not the data and its ACK.
    let classic = "fixtures/classic.pcap";
    let got = frames(&["--format", "jsonl", "--role", "handshake,teardown", classic]);
    let want: Vec<_> = [1, 2, 3, 6, 7, 8, 9]
        .into_iter()
        .map(seg)
        .chain([conn(0)])
        .collect();
    assert_eq!(got, want);
    assert_eq!(frames(&["--format", "jsonl", "--port", "9", classic]), []);
    assert_eq!(frames(&["--format", "jsonl", "--host", "::1", classic]), []);
    assert_eq!(
        frames(&[
            "--format",
            "jsonl",
            "--host",
            "127.0.0.1",
            "--port",
            "40110",
            classic
        ])
        .len(),
        10
    );
    // What users type: every FIN (here both are FIN-ACKs), the tables' spellings, an end
    // as synfin prints it, a prefix, a range of connections.
    let fins = frames(&["--format", "jsonl", "--role", "fin", classic]);
    assert_eq!(fins, [seg(6), seg(8), conn(0)]);
    let spelled = frames(&["--format", "jsonl", "--role", "SYN-ACK,final ACK", classic]);
    assert_eq!(spelled, [seg(2), seg(9), conn(0)]);
    let end = frames(&["--format", "jsonl", "--host", "127.0.0.1:50186", classic]);
    assert_eq!(end.len(), 10);
    assert_eq!(
        frames(&["--format", "jsonl", "--host", "127.0.0.1:1", classic]),
        []
    );
    let prefix = frames(&["--format", "jsonl", "--host", "127.0.0.0/8", classic]);
    assert_eq!(prefix.len(), 10);
    let got = frames(&["--format", "jsonl", "--conn", "1-2", "--role", "syn", reuse]);
    assert_eq!(got, [seg(9), conn(1), seg(17), conn(2)]);
    for bad in [["--conn", "2-1"], ["--host", "localhost"]] {
        let out = synfin(&[bad[0], bad[1], classic]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
    // Tables: only the chosen rows, and raw numbers with --abs.
    let table = stdout(&synfin(&["--role", "syn-ack", "--abs", classic]));
    assert!(table.contains("3825414791  2530228194"), "{table}");
    assert!(!table.contains("[PSH, ACK]"), "{table}");
    let out = synfin(&["--role", "synack", classic]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown role"), "{}", stderr(&out));
}

#[test]
fn diagrams_draw_the_exchange_and_fold_long_runs() {
    for (name, args) in [
        (
            "ladder-classic.pcap",
            &["--format", "ladder", "fixtures/classic.pcap"][..],
        ),
        (
            "ladder-bulk.pcap",
            &["--format", "ladder", "fixtures/bulk.pcap"],
        ),
        (
            "ladder-full-bulk.pcap",
            &["--format", "ladder", "--full", "fixtures/bulk.pcap"],
        ),
        (
            "mermaid-classic.pcap",
            &["--format", "mermaid", "fixtures/classic.pcap"],
        ),
        (
            "mermaid-bulk.pcap",
            &["--format", "mermaid", "fixtures/bulk.pcap"],
        ),
    ] {
        let out = synfin(args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        insta::assert_snapshot!(name, stdout(&out));
    }
    // Folded: one line for frames 4-23; in full: one arrow per segment.
    let folded = stdout(&synfin(&["--format", "ladder", "fixtures/bulk.pcap"]));
    assert!(folded.contains("… frames 4-23: 10 data segments → (10000 B), 10 ACKs ←"));
    let full = stdout(&synfin(&[
        "--format",
        "ladder",
        "--full",
        "fixtures/bulk.pcap",
    ]));
    assert_eq!(full.matches('▶').count() + full.matches('◀').count(), 27);
    // Mermaid: a diagram per connection, every line a statement Mermaid knows.
    let mermaid = stdout(&synfin(&["--format", "mermaid", "fixtures/reuse.pcap"]));
    assert_eq!(mermaid.matches("sequenceDiagram").count(), 3);
    for line in mermaid.lines().filter(|l| !l.is_empty()) {
        let t = line.trim_start();
        assert!(
            t == "sequenceDiagram"
                || ["title ", "participant ", "Note ", "C->>S: ", "S->>C: "]
                    .iter()
                    .any(|p| t.starts_with(p)),
            "{line}"
        );
        assert!(!t.contains(';'), "{line}");
    }
}

/// Every `<text>` of an SVG or XHTML document, after parsing it as XML.
fn texts(doc: &str) -> Vec<String> {
    let xml = doc.trim_start_matches("<!DOCTYPE html>");
    let tree = roxmltree::Document::parse(xml).expect("well-formed XML");
    tree.descendants()
        .filter(|n| n.has_tag_name("text") || n.has_tag_name("td"))
        .map(|n| {
            n.descendants()
                .filter(|d| d.is_text())
                .filter_map(|d| d.text())
                .collect::<String>()
        })
        .collect()
}

#[test]
fn svg_and_html_are_well_formed_and_labelled() {
    let out = synfin(&[
        "--format",
        "svg",
        "fixtures/classic.pcap",
        "fixtures/refused.pcap",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let svg = stdout(&out);
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    let labels = texts(&svg);
    for want in [
        "Connection 0: client 127.0.0.1:50186 → server 127.0.0.1:40110",
        "client 127.0.0.1:50186",
        "server 127.0.0.1:40110",
        "[SYN] Seq=0 Len=0",
        "[SYN, ACK] Seq=0 Ack=1 Len=0",
        "final ACK, teardown 4/4",
        "TIME_WAIT",
        "RST-ACK",
    ] {
        assert!(labels.iter().any(|l| l == want), "{want} not in {labels:?}");
    }
    // A state's tooltip says how long its end stayed in the state it left.
    let tree = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let tooltips: Vec<&str> = tree
        .descendants()
        .filter(|n| n.has_tag_name("title"))
        .filter_map(|n| n.text())
        .collect();
    assert!(
        tooltips.contains(&"client left SYN_SENT after 173 µs"),
        "{tooltips:?}"
    );
    // One document for both captures: three connections, three titles.
    assert_eq!(
        labels
            .iter()
            .filter(|l| l.starts_with("Connection "))
            .count(),
        3
    );

    let out = synfin(&["--format", "html", "fixtures/bulk.pcap"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let html = stdout(&out);
    assert!(html.starts_with("<!DOCTYPE html>"));
    let cells = texts(&html);
    for want in [
        "… frames 4-23: 10 data segments → (10000 B), 10 ACKs ← (--full shows them)",
        "complete",
        "four-way",
        "SF ShADaFf",
        "TIME_WAIT/CLOSED",
    ] {
        assert!(cells.iter().any(|l| l == want), "{want} not in {cells:?}");
    }
}

/// Renders the page in headless Chromium when it is installed: it must load and draw
/// without a console error.
#[test]
fn html_page_loads_in_a_browser() {
    let Some(browser) = common::browser() else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let page = dir.path().join("page.html");
    let out = synfin(&[
        "--format",
        "html",
        "fixtures/classic.pcap",
        "fixtures/bulk.pcap",
    ]);
    std::fs::write(&page, stdout(&out)).expect("written");
    let run = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
        ])
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("the browser runs");
    assert!(run.status.success(), "{run:?}");
    let dom = String::from_utf8_lossy(&run.stdout);
    assert!(dom.contains("<svg"), "the page has no diagram: {dom}");
    assert!(dom.contains("Summary"), "{dom}");
    let log = String::from_utf8_lossy(&run.stderr);
    assert!(!log.contains("CONSOLE"), "console messages: {log}");
}

/// The README's first table and ladder are what synfin prints (the ladder narrowed to 80
/// columns, as the README says).
#[test]
fn the_readme_shows_what_synfin_prints() {
    let readme = std::fs::read_to_string(fixture("../README.md")).expect("README.md");
    let blocks: Vec<&str> = readme
        .split("```text\n")
        .skip(1)
        .filter_map(|b| b.split("\n```").next())
        .collect();
    let table = stdout(&synfin(&["fixtures/classic.pcap"]));
    let ladder = stdout(&synfin(&[
        "--width",
        "80",
        "--format",
        "ladder",
        "fixtures/classic.pcap",
    ]));
    assert_eq!(
        blocks.first().copied(),
        Some(table.trim_end()),
        "README table"
    );
    assert_eq!(
        blocks.get(1).copied(),
        Some(ladder.trim_end()),
        "README ladder"
    );
}

#[test]
fn the_svg_in_the_docs_is_what_synfin_draws() {
    let out = synfin(&["--format", "svg", "fixtures/classic.pcap"]);
    let docs = std::fs::read_to_string(fixture("../docs/classic.svg")).expect("docs/classic.svg");
    assert_eq!(
        stdout(&out),
        docs,
        "regenerate: synfin --format svg fixtures/classic.pcap > docs/classic.svg"
    );
}

#[test]
fn analysis_flags_are_coloured_only_when_asked_or_on_a_terminal() {
    let capture = "fixtures/analysis/retransmission.pcap";
    for format in ["table", "ladder"] {
        let always = stdout(&synfin(&["--format", format, "--color", "always", capture]));
        assert!(always.contains("\x1b["), "{format}: {always}");
        // Only the flagged segment is marked.
        assert_eq!(
            always.lines().filter(|l| l.contains("\x1b[")).count(),
            1,
            "{format}: {always}"
        );
        for args in [&["--color", "never"][..], &[]] {
            let mut all = vec!["--format", format];
            all.extend_from_slice(args);
            all.push(capture);
            // Not a terminal here: `auto` is off too.
            assert!(!stdout(&synfin(&all)).contains('\x1b'), "{format} {args:?}");
        }
    }
}

#[test]
fn a_capture_on_any_tells_the_copies_apart_and_keeps_the_story() {
    let records = |path: &str| -> Vec<serde_json::Value> {
        stdout(&synfin(&["--format", "jsonl", path]))
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON"))
            .collect()
    };
    let classic = records("fixtures/classic.pcap");
    let any = records("fixtures/classic-any.pcap");
    let segments = |r: &[serde_json::Value]| -> Vec<serde_json::Value> {
        r.iter()
            .filter(|r| r["type"] == "segment")
            .cloned()
            .collect()
    };
    let (classic_segs, any_segs) = (segments(&classic), segments(&any));
    assert_eq!(any_segs.len(), 2 * classic_segs.len());
    for (original, pair) in classic_segs.iter().zip(any_segs.chunks(2)) {
        let [first, copy] = pair else { panic!("pairs") };
        // The first copy tells the story exactly as the classic capture does.
        for key in ["role", "step", "seq", "ack", "client_state", "server_state"] {
            assert_eq!(
                first[key], original[key],
                "{key} of frame {}",
                first["frame"]
            );
        }
        // The second is marked, changes no state and is no step.
        let flags = copy["analysis"].as_array().expect("flags");
        assert!(flags.iter().any(|f| f == "duplicate"), "{copy}");
        assert_eq!(copy["step"], serde_json::Value::Null, "{copy}");
        for key in ["client_state", "server_state"] {
            assert_eq!(copy[key], first[key], "{copy}");
        }
    }
    let conn = any
        .iter()
        .find(|r| r["type"] == "connection")
        .expect("a connection");
    assert_eq!(conn["teardown"], "four-way");
    assert!(
        conn["notes"][0]
            .as_str()
            .is_some_and(|n| n.starts_with("9 segments seen twice")),
        "{conn}"
    );
}

#[test]
fn a_socket_connected_to_itself_is_one_socket() {
    let out = stdout(&synfin(&[
        "--format",
        "jsonl",
        "fixtures/self-connect.pcap",
    ]));
    let records: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let states: Vec<(&str, &str)> = records
        .iter()
        .filter(|r| r["type"] == "segment")
        .map(|r| {
            (
                r["client_state"].as_str().unwrap_or_default(),
                r["server_state"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    // Its own SYN makes it SYN-RECEIVED, its own SYN-ACK ESTABLISHED; its FIN, received as
    // it is sent, CLOSING; the ACK of that FIN, TIME-WAIT (RFC 9293 §3.5, §3.6).
    let want = [
        "SYN_RECV",
        "ESTABLISHED",
        "ESTABLISHED",
        "ESTABLISHED",
        "ESTABLISHED",
        "CLOSING",
        "TIME_WAIT",
    ];
    assert_eq!(states, want.map(|s| (s, s)));
    let conn = records
        .iter()
        .find(|r| r["type"] == "connection")
        .expect("a connection");
    assert_eq!(conn["teardown"], "simultaneous");
    assert_eq!(conn["notes"].as_array().map(Vec::len), Some(1), "{conn}");
    assert!(
        conn["notes"][0]
            .as_str()
            .is_some_and(|n| n.contains("connected to itself"))
    );
}

/// The JSON records of one type that synfin writes for a capture, in their order.
fn json_lines(capture: &str, kind: &str) -> Vec<serde_json::Value> {
    stdout(&synfin(&["--format", "jsonl", capture]))
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a JSON line"))
        .filter(|r| r["type"] == kind)
        .collect()
}

#[test]
fn summaries_list_connections_by_index_whatever_order_they_finish_in() {
    // interleaved.pcap: connection 1 closes (frame 11) before connection 0 is reset
    // (frame 12). JSON lines stream each record when its connection finishes; the summary
    // tables (terminal and HTML) read by index.
    let capture = "fixtures/interleaved.pcap";
    let finished: Vec<serde_json::Value> = json_lines(capture, "connection")
        .iter()
        .map(|c| c["conn"].clone())
        .collect();
    assert_eq!(finished, [1, 0], "{finished:?}");

    let summary = stdout(&synfin(&["--summary", capture]));
    let rows: Vec<&str> = summary
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|first| first.parse::<u64>().is_ok())
        .collect();
    assert_eq!(rows, ["0", "1"], "{summary}");

    let html = stdout(&synfin(&["--format", "html", capture]));
    let links: Vec<usize> = ["#c1-conn-0\"", "#c1-conn-1\""]
        .iter()
        .filter_map(|anchor| html.rfind(anchor))
        .collect();
    assert_eq!(links.len(), 2, "{html}");
    assert!(links[0] < links[1], "summary rows out of order:\n{html}");
}

#[test]
fn fast_open_data_rides_in_the_syn_and_is_numbered_as_wireshark_numbers_it() {
    // fast-open.pcap (Linux, lo): the first connection asks for a cookie and sends its
    // 14 bytes after the handshake; the second sends them in its SYN, with the cookie.
    let segments = json_lines("fixtures/fast-open.pcap", "segment");
    let frame = |n: u64| {
        segments
            .iter()
            .find(|s| s["frame"] == n)
            .unwrap_or_else(|| panic!("frame {n}"))
    };
    let syn = frame(9);
    assert_eq!(
        (&syn["role"], &syn["step"], &syn["len"], &syn["seq"]),
        (
            &"syn".into(),
            &"handshake 1/3".into(),
            &14.into(),
            &0.into()
        )
    );
    // The SYN-ACK acknowledges the SYN and its data; the client's ACK starts after both.
    assert_eq!(
        (&frame(10)["role"], &frame(10)["ack"]),
        (&"syn-ack".into(), &15.into())
    );
    assert_eq!(
        (&frame(11)["step"], &frame(11)["seq"]),
        (&"handshake 3/3".into(), &15.into())
    );
    // Without a cookie the request follows the handshake, on its third segment.
    assert_eq!(
        (&frame(1)["len"], &frame(3)["len"]),
        (&0.into(), &14.into())
    );
    assert_eq!(frame(3)["step"], "handshake 3/3");
}

/// Issue 14: the heading over a connection's table or diagram is written once, so every
/// format names a part alike; a FIN sent again 6 s after the connection was reset comes
/// after its record (Zeek's 5 s), in a part of its own.
#[test]
fn every_format_heads_each_part_of_a_connection_alike() {
    let capture = fixture("zeek/history-after-reset.pcap");
    let lines = |format: &str, pick: &dyn Fn(&str) -> Option<String>| -> Vec<String> {
        let out = synfin(&["--format", format, "--color", "never", &capture]);
        stdout(&out).lines().filter_map(pick).collect()
    };
    let heading = |l: &str| l.starts_with("Connection ").then(|| l.to_string());
    let table = lines("table", &heading);
    assert_eq!(
        table,
        [
            "Connection 0: client 127.0.0.1:42108 → server 127.0.0.1:42109",
            "Connection 0: client 127.0.0.1:42108 → server 127.0.0.1:42109, after it was reported",
        ]
    );
    assert_eq!(lines("ladder", &heading), table);
    let mermaid = lines("mermaid", &|l: &str| {
        l.strip_prefix("    title ").map(str::to_string)
    });
    assert_eq!(mermaid, table);
    let svg = stdout(&synfin(&["--format", "svg", &capture]));
    let titles: Vec<String> = texts(&svg)
        .into_iter()
        .filter(|t| t.starts_with("Connection "))
        .collect();
    assert_eq!(titles, table);
}

/// Every connection record names its 5-tuple by its Community ID and itself by a `uid`:
/// reuse.pcap's three connections on one 5-tuple share the one and not the other, and the
/// same exchange read from pcap and pcapng keeps both.
#[test]
fn connections_carry_a_community_id_and_a_uid_of_their_own() {
    let names = |capture: &str| -> Vec<(String, String)> {
        let out = synfin(&["--format", "jsonl", "--summary", capture]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|line| {
                let record: serde_json::Value = serde_json::from_str(line).expect("JSON");
                let field = |k: &str| record[k].as_str().unwrap_or_default().to_string();
                (field("community_id"), field("uid"))
            })
            .collect()
    };
    let reuse = names("fixtures/reuse.pcap");
    assert_eq!(reuse.len(), 3);
    for (id, uid) in &reuse {
        assert_eq!(id, &reuse[0].0);
        assert!(id.starts_with("1:") && id.len() == 30, "{id}");
        assert!(uid.starts_with('C') && uid.len() == 18, "{uid}");
    }
    assert!(reuse[0].1 != reuse[1].1 && reuse[1].1 != reuse[2].1 && reuse[0].1 != reuse[2].1);
    assert_eq!(
        names("fixtures/classic.pcap"),
        names("fixtures/classic.pcapng")
    );
    assert_ne!(
        names("fixtures/classic.pcap"),
        names("fixtures/client-close.pcap")
    );
}
