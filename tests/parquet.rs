//! `--format parquet -o DIR`: the files, their schema as Parquet records it, and what goes
//! wrong said as SPEC.md says (exit 2, naming the folder). What other tools read of them:
//! tests/readers.rs.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Output};

use parquet::file::reader::{FileReader, SerializedFileReader};

fn synfin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synfin"))
        .args(args)
        .output()
        .expect("synfin runs")
}

fn rows_and_schema(path: &Path) -> (i64, String) {
    let reader = SerializedFileReader::new(File::open(path).expect("the file")).expect("Parquet");
    let meta = reader.metadata();
    let mut schema = Vec::new();
    parquet::schema::printer::print_schema(&mut schema, meta.file_metadata().schema());
    (
        meta.file_metadata().num_rows(),
        String::from_utf8_lossy(&schema).into_owned(),
    )
}

#[test]
fn one_capture_makes_two_files_with_typed_columns() {
    let dir = tempfile::tempdir().expect("a folder");
    let out = dir.path().join("flows");
    let run = synfin(&[
        "--format",
        "parquet",
        "-o",
        out.to_str().expect("a path"),
        "fixtures/classic.pcap",
    ]);
    assert!(run.status.success(), "{run:?}");
    assert!(run.stdout.is_empty(), "nothing on stdout");
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .expect("the folder")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["connections.parquet", "segments.parquet"]);
    let (segments, schema) = rows_and_schema(&out.join("segments.parquet"));
    assert_eq!(segments, 9);
    // Times as Parquet timestamps (microseconds, UTC), counters as 64-bit integers, flags
    // and analysis as lists.
    for column in [
        "INT64 ts (TIMESTAMP(MICROS,true))",
        "INT64 frame;",
        "INT64 ack;",
        "BYTE_ARRAY role (STRING)",
        "LIST",
    ] {
        assert!(schema.contains(column), "{column} in\n{schema}");
    }
    let (connections, schema) = rows_and_schema(&out.join("connections.parquet"));
    assert_eq!(connections, 1);
    assert!(schema.contains("group packets"), "{schema}");
    assert!(schema.contains("BYTE_ARRAY uid (STRING)"), "{schema}");
}

#[test]
fn summary_writes_connections_only_and_several_captures_their_partitions() {
    let dir = tempfile::tempdir().expect("a folder");
    let out = dir.path().to_str().expect("a path");
    let run = synfin(&[
        "--format",
        "parquet",
        "--summary",
        "-o",
        out,
        "fixtures/classic.pcap",
        "fixtures/refused.pcap",
    ]);
    assert!(run.status.success(), "{run:?}");
    for (part, rows) in [
        ("capture=fixtures%2Fclassic.pcap", 1),
        ("capture=fixtures%2Frefused.pcap", 2),
    ] {
        let files: Vec<_> = std::fs::read_dir(dir.path().join(part))
            .expect("the partition")
            .map(|e| e.expect("an entry").file_name())
            .collect();
        assert_eq!(files, ["connections.parquet"]);
        let (n, _) = rows_and_schema(&dir.path().join(part).join("connections.parquet"));
        assert_eq!(n, rows, "{part}");
    }
}

#[test]
fn a_folder_that_cannot_be_written_is_exit_2_naming_it() {
    let dir = tempfile::tempdir().expect("a folder");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").expect("written");
    let inside = file.join("flows");
    let run = synfin(&[
        "--format",
        "parquet",
        "-o",
        inside.to_str().expect("a path"),
        "fixtures/classic.pcap",
    ]);
    assert_eq!(run.status.code(), Some(2));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains(&*inside.to_string_lossy()) && err.contains("cannot write"),
        "{err}"
    );
    let run = synfin(&["--format", "parquet", "fixtures/classic.pcap"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("-o DIR"));
    let run = synfin(&["-o", "x", "fixtures/classic.pcap"]);
    assert_eq!(run.status.code(), Some(2));
}
