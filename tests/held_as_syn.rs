//! Connections held as their opening SYN (a flood's, a scan's) are read again when they send
//! again or leave: on every fixture and corpus capture, the JSON lines are byte for byte
//! those of connections held whole, with the table as large as it may be and small enough
//! that connections leave early, segments and connections (where a SYN is held without being
//! read whole first) and connections alone.

use std::fs::File;
use std::path::{Path, PathBuf};

use synfin::annotate::Limits;
use synfin::capture::CaptureReader;
use synfin::output::{Format, Printer, Source};
use synfin::pipeline;

/// Every capture under `dir`, in a stable order (what bench/same-output runs).
fn captures(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = ["pcap", "pcapng", "cap", "gz"]
        .iter()
        .flat_map(|ext| glob::glob(&format!("{}/**/*.{ext}", dir.display())).expect("a pattern"))
        .flatten()
        .collect();
    found.sort();
    found
}

fn jsonl(path: &Path, format: Format, limits: Limits) -> Option<Vec<u8>> {
    let reader = CaptureReader::new(Box::new(File::open(path).ok()?)).ok()?;
    let mut printer = Printer::new(format, Vec::new());
    let source = Source {
        path: &path.to_string_lossy(),
        bytes: None,
        several: false,
    };
    printer.begin(&source).ok()?;
    pipeline::run(reader, limits, &mut printer).ok()?;
    printer.end().ok()?;
    Some(printer.into_inner())
}

#[test]
fn every_capture_reads_the_same_with_connections_held_as_their_syn() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = captures(&root.join("fixtures"));
    paths.extend(captures(&root.join("../shared/captures")));
    assert!(
        paths.len() > 400,
        "fixtures and the corpus: {} captures",
        paths.len()
    );
    let (mut compared, mut held) = (0, 0);
    for path in &paths {
        for (format, max_conns) in [Format::Jsonl, Format::JsonlConnections]
            .into_iter()
            .flat_map(|f| [(f, Limits::DEFAULT_MAX_CONNS), (f, 3)])
        {
            let whole = Limits {
                max_conns,
                whole_up_to: usize::MAX,
                ..Limits::default()
            };
            let Some(want) = jsonl(path, format, whole) else {
                continue;
            };
            let got = jsonl(
                path,
                format,
                Limits {
                    whole_up_to: 0,
                    ..whole
                },
            );
            assert!(
                got.as_ref() == Some(&want),
                "{}, {format:?}, --max-conns {max_conns}: the JSON lines differ",
                path.display()
            );
            compared += 1;
            held +=
                usize::from(format == Format::Jsonl && want.windows(6).any(|w| w == b"\"SYN\"]"));
        }
    }
    assert!(compared > 1600, "{compared} runs compared");
    assert!(held > 100, "{held} runs with a SYN alone");
}
