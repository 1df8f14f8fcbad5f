//! Conformance with Wireshark's (and our SPEC's) answers on the shared corpus of real
//! captures, through `../shared/tools/conform`.

use std::path::Path;
use std::process::Command;

/// Captures of the whole corpus that must pass each group; raised as more pass.
const MIN_PASSING: usize = 429;
const MIN_PASSING_ANALYSIS: usize = 431;
const MIN_PASSING_ZEEK: usize = 427;
/// The connection record's `completeness` equals Wireshark's two-pass value everywhere but
/// in two captures where a stream sends again after its record was written (SPEC.md: a
/// record leaves once its connection is finished). FTP data connections, which Wireshark's
/// FTP dissector sets up before their SYN, count no SYN, as there.
const MIN_PASSING_RECORD: usize = 435;
/// `--format zeek`'s conn.log rows equal Zeek's own, column by column, in every capture but
/// one: Zeek's GridFTP analyzer stops following a data connection of
/// `zeek/globus-url-copy.pcap` before its FINs (`skip_further_processing`), so Zeek counts
/// fewer packets there than TCP holds.
const MIN_PASSING_ZEEKLOG: usize = 436;

fn shared() -> Option<&'static Path> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared"));
    if dir.join("tools/conform").is_file() {
        Some(dir)
    } else {
        eprintln!("NOTICE: ../shared is absent; conformance tests skipped");
        None
    }
}

fn conform(shared: &Path, skip: &str, with: &str, target: &str) -> (String, bool) {
    let out = Command::new("python3")
        .arg(shared.join("tools/conform"))
        .args([
            "--bin",
            env!("CARGO_BIN_EXE_synfin"),
            "--show",
            "3",
            "--skip",
            skip,
            "--with",
            with,
        ])
        .arg(shared.join(target))
        .output()
        .expect("python3 runs conform");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.success(),
    )
}

fn passed(report: &str) -> usize {
    report
        .lines()
        .find_map(|l| l.strip_prefix("captures: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("conform prints its 'captures: N passed' line")
}

#[test]
fn loopback_captures_match_wireshark_and_spec_on_every_frame() {
    let Some(shared) = shared() else { return };
    let (report, ok) = conform(shared, "", "", "captures/loopback");
    assert!(ok, "loopback captures differ:\n{report}");
    assert!(passed(&report) >= 15, "{report}");
}

/// Runs one group (the others skipped) on the whole corpus: at least `min` captures pass,
/// and every loopback capture does.
fn group_passes(skip: &str, with: &str, min: usize) {
    let Some(shared) = shared() else { return };
    let (report, _) = conform(shared, skip, with, "captures");
    let failing_loopback: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("FAIL") && l.contains("/loopback/"))
        .collect();
    assert!(failing_loopback.is_empty(), "loopback failures:\n{report}");
    let n = passed(&report);
    assert!(
        n >= min,
        "only {n} captures pass, fewer than {min}:\n{report}"
    );
}

#[test]
fn corpus_core_fields_match_wireshark_on_enough_captures() {
    group_passes("analysis,roles,conns", "", MIN_PASSING);
}

#[test]
fn corpus_analysis_flags_match_wireshark_on_enough_captures() {
    group_passes("core,roles,conns", "", MIN_PASSING_ANALYSIS);
}

#[test]
fn corpus_connection_states_match_zeek_on_enough_captures() {
    group_passes("core,analysis,roles", "", MIN_PASSING_ZEEK);
}

#[test]
fn corpus_completeness_matches_wireshark_on_enough_captures() {
    group_passes("core,analysis,roles,conns", "record", MIN_PASSING_RECORD);
}

#[test]
fn corpus_conn_log_rows_match_zeek_on_enough_captures() {
    group_passes("core,analysis,roles,conns", "zeeklog", MIN_PASSING_ZEEKLOG);
}
