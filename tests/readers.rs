//! DuckDB and Polars, the tools analysts load flow records into, read synfin's Parquet
//! (one capture; a folder of captures analysed in parallel into partitions) and its Zeek
//! conn.log: row counts, a join of segments to connections, and times equal to the JSON
//! lines'. The checks are in tests/readers.py; `.ci/run` installs the two packages.

use std::process::Command;

#[test]
fn duckdb_and_polars_read_what_synfin_writes() {
    let have = Command::new("python3")
        .args(["-c", "import duckdb, polars"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        eprintln!(
            "NOTICE: python3 with duckdb and polars is absent (pip install duckdb polars); the readers test is skipped"
        );
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("python3")
        .arg(format!("{root}/tests/readers.py"))
        .arg(env!("CARGO_BIN_EXE_synfin"))
        .arg(format!("{root}/fixtures"))
        .output()
        .expect("python3 runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    assert!(said.contains("the join finds every connection"), "{said}");
}
