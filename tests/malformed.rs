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

/// Fuzzing (pipeline target): a SYN+RST closes the connection (once reported at once); its
/// later FIN waited for a teardown step that nothing settled, and the FIN's record was lost.
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

/// Segment records without their teardown step, which may depend on frames after a cut.
fn segments_without_steps(jsonl: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(jsonl)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "segment")
        .map(|mut v| {
            if let Some(o) = v.as_object_mut() {
                o.remove("step");
            }
            v
        })
        .collect()
}

/// Runs the library on bytes: the JSON lines, and whether reading stopped early.
fn analyse(bytes: &[u8]) -> Option<(Vec<u8>, bool)> {
    use synfin::output::{Format, Printer};
    let reader =
        synfin::capture::CaptureReader::new(Box::new(std::io::Cursor::new(bytes.to_vec()))).ok()?;
    let mut printer = Printer::new(Format::Jsonl, Vec::new());
    let outcome =
        synfin::pipeline::run(reader, Default::default(), &mut printer).expect("in memory");
    Some((printer.into_inner(), outcome.stopped_by.is_some()))
}

#[test]
fn every_fixture_cut_at_every_byte_prints_a_prefix_of_its_story() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
    let mut cuts = 0;
    for entry in std::fs::read_dir(dir).expect("fixtures") {
        let path = entry.expect("entry").path();
        if !path.is_file() || path.extension().is_some_and(|e| e == "sh") {
            continue;
        }
        let whole = std::fs::read(&path).expect("fixture");
        let (full, stopped) = analyse(&whole).expect("fixtures open");
        assert!(!stopped, "{} is whole", path.display());
        let full = segments_without_steps(&full);
        for len in 0..whole.len() {
            cuts += 1;
            let Some((out, stopped)) = analyse(&whole[..len]) else {
                continue;
            };
            let got = segments_without_steps(&out);
            assert!(
                got.len() <= full.len() && got[..] == full[..got.len()],
                "{} cut at {len}",
                path.display()
            );
            // A cut inside the file stops reading early, unless it falls between records.
            if !stopped {
                assert!(
                    got.len() < full.len() || len == whole.len(),
                    "{} cut at {len}",
                    path.display()
                );
            }
        }
    }
    assert!(cuts > 10_000, "{cuts} cuts");
}

#[test]
fn the_binary_exits_0_at_a_record_boundary_1_inside_a_record_2_inside_the_header() {
    let whole = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/reuse.pcap"))
        .expect("fixture");
    // Record boundaries of this little-endian pcap.
    let mut boundaries = vec![24];
    while let Some(&at) = boundaries.last() {
        let Some(len) = whole.get(at + 8..at + 12) else {
            break;
        };
        let next = at + 16 + u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
        if next > whole.len() {
            break;
        }
        boundaries.push(next);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cut.pcap");
    for len in (0..whole.len()).step_by(7) {
        std::fs::write(&path, &whole[..len]).expect("written");
        let (_, err, status) = synfin(path.to_str().expect("path"), &[]);
        let expected = if len < 24 {
            2
        } else if boundaries.contains(&len) {
            0
        } else {
            1
        };
        assert_eq!(status, Some(expected), "cut at {len}: {err}");
        assert!(!err.contains("panicked"));
    }
}

/// A pcapng option whose text is not UTF-8 (an interface name, a comment, the section's
/// OS) is left out with one warning; its block and every frame after it are read, as
/// Wireshark reads them. Built from the classic pcapng fixture by putting such an option
/// first in every section header, interface and packet block.
#[test]
fn pcapng_options_with_text_that_is_not_utf8_are_left_out_not_the_frames() {
    let clean = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/classic.pcapng"
    ))
    .expect("fixture");
    let u32_at = |b: &[u8], at: usize| -> usize {
        u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes")) as usize
    };
    let mut bad = Vec::new();
    let mut at = 0;
    let mut touched = 0;
    while at < clean.len() {
        let (kind, len) = (u32_at(&clean, at), u32_at(&clean, at + 4));
        let block = &clean[at..at + len];
        // Where the block's options start, and a text option of its kind.
        let options = match kind {
            0x0A0D_0D0A => Some((24, 3u16)),
            1 => Some((16, 2)),
            6 => Some((28 + u32_at(block, 20).div_ceil(4) * 4, 1)),
            _ => None,
        };
        match options {
            Some((start, code)) => {
                let mut option = code.to_le_bytes().to_vec();
                option.extend(2u16.to_le_bytes());
                option.extend([0xff, 0xfe, 0, 0]);
                let new_len = u32::try_from(len + option.len()).expect("small");
                let mut out = block[..start].to_vec();
                out.extend(&option);
                out.extend(&block[start..len - 4]);
                out.extend(new_len.to_le_bytes());
                out[4..8].copy_from_slice(&new_len.to_le_bytes());
                bad.extend(out);
                touched += 1;
            }
            None => bad.extend(block),
        }
        at += len;
    }
    assert_eq!(
        touched, 12,
        "a section header, two interfaces, nine packets"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bad-text.pcapng");
    std::fs::write(&path, &bad).expect("written");
    let (want, _, _) = synfin("fixtures/classic.pcapng", &[]);
    let (got, err, status) = synfin(path.to_str().expect("path"), &[]);
    assert_eq!(status, Some(0), "{err}");
    assert_eq!(frames(&got), (1..=9).collect::<Vec<u64>>(), "{err}");
    assert_eq!(got, want);
    assert_eq!(err.matches("not UTF-8").count(), 1, "{err}");
}

/// A name resolution block whose name is not UTF-8 (synfin reads nothing from it) is
/// skipped with the same warning, and the frames after it are read.
#[test]
fn a_name_block_with_text_that_is_not_utf8_is_skipped() {
    let clean = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/classic.pcapng"
    ))
    .expect("fixture");
    // An IPv4 record naming 127.0.0.1 with bytes that are not UTF-8, then the end record.
    let mut records = 1u16.to_le_bytes().to_vec();
    records.extend(7u16.to_le_bytes());
    records.extend([127, 0, 0, 1, 0xff, 0xfe, 0, 0]);
    records.extend([0; 4]);
    let len = u32::try_from(12 + records.len()).expect("small");
    let mut nrb = 4u32.to_le_bytes().to_vec();
    nrb.extend(len.to_le_bytes());
    nrb.extend(&records);
    nrb.extend(len.to_le_bytes());
    // After the section header and the two interfaces (28 + 32 + 20 bytes).
    let mut bad = clean[..80].to_vec();
    bad.extend(&nrb);
    bad.extend(&clean[80..]);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bad-name.pcapng");
    std::fs::write(&path, &bad).expect("written");
    let (want, _, _) = synfin("fixtures/classic.pcapng", &[]);
    let (got, err, status) = synfin(path.to_str().expect("path"), &[]);
    assert_eq!(status, Some(0), "{err}");
    assert_eq!(got, want);
    assert_eq!(err.matches("not UTF-8").count(), 1, "{err}");
}
