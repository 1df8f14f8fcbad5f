//! Captures that once broke synfin (found by fuzzing), kept as regression fixtures, and
//! every fixture cut at every byte.

use std::process::Command;

fn synfin(path: &str, args: &[&str]) -> (String, String, Option<i32>) {
    let out = Command::new(env!("CARGO_BIN_EXE_synfin"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--format", "jsonl"])
        .args(args)
        .arg(path)
        .output()
        .expect("runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

fn frames(jsonl: &str) -> Vec<u64> {
    jsonl
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["frame"].as_u64())
        .collect()
}

/// Fuzzing (pipeline target): a SYN+RST reports the connection at once; its later FIN
/// waited for a teardown step that nothing settled, and the FIN's record was lost.
#[test]
fn a_fin_after_the_connection_was_reported_is_still_printed() {
    for args in [&[][..], &["--max-conns", "4", "--idle-timeout", "1"][..]] {
        let (out, err, status) = synfin("fixtures/malformed/fin-after-reported-reset.pcap", args);
        assert_eq!(status, Some(1), "{err}");
        assert_eq!(frames(&out), [1, 2, 3, 4, 5, 6]);
        assert!(err.contains("frame 7 at byte 398"), "{err}");
    }
}

#[test]
fn every_malformed_fixture_ends_with_a_status_not_a_panic() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/malformed");
    for entry in std::fs::read_dir(dir).expect("fixtures/malformed") {
        let path = entry.expect("entry").path();
        let (_, err, status) = synfin(path.to_str().expect("path"), &[]);
        assert!(
            matches!(status, Some(0..=2)),
            "{}: {status:?} {err}",
            path.display()
        );
        assert!(!err.contains("panicked"), "{}: {err}", path.display());
    }
}
