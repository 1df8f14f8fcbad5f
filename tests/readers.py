#!/usr/bin/env python3
"""What DuckDB and Polars read of synfin's Parquet and Zeek logs (run by tests/readers.rs).

Usage: tests/readers.py SYNFIN FIXTURES_DIR
Fails (an assertion, exit 1) where a reader disagrees with synfin's JSON lines.
"""
import json
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import polars as pl

SYNFIN, FIXTURES = sys.argv[1], Path(sys.argv[2])


def synfin(*args, ok=(0,)):
    run = subprocess.run([SYNFIN, *map(str, args)], capture_output=True, text=True)
    assert run.returncode in ok, f"{args}: exit {run.returncode}: {run.stderr}"
    return run.stdout


def jsonl(*captures):
    return [json.loads(l) for l in synfin("--format", "jsonl", *captures).splitlines()]


def micros(ts):
    """A JSON `ts` (exact decimal seconds) as the microseconds Parquet keeps."""
    secs, _, frac = str(ts).partition(".")
    return int(secs) * 1_000_000 + int((frac + "000000")[:6])


def epoch_micros(dt):
    return round((dt - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds() * 1e6)


def one_capture(tmp):
    cap = FIXTURES / "bulk.pcap"
    out = tmp / "one"
    synfin("--format", "parquet", "-o", out, cap)
    assert sorted(p.name for p in out.iterdir()) == ["connections.parquet", "segments.parquet"]
    records = jsonl(cap)
    segs = [r for r in records if r["type"] == "segment"]
    conns = [r for r in records if r["type"] == "connection"]
    db = duckdb.connect()
    # Every text column beside the numbers: addresses and steps are written by hand.
    texts = ["dir", "src", "dst", "role", "step", "client_state", "server_state"]
    got = db.sql(f"select frame, conn, seq, ack, {', '.join(texts)}, flags, analysis, epoch_us(ts) "
                 f"from '{out}/segments.parquet' order by frame").fetchall()
    want = [(s["frame"], s["conn"], s["seq"], s["ack"], *(s[t] for t in texts), s["flags"], s["analysis"],
             micros(s["ts"])) for s in segs]
    assert got == want, (got[:3], want[:3])
    assert any(s["step"] is None for s in segs) and any(s["step"] for s in segs), "steps both null and set"
    got = db.sql(f"select conn, client, server, uid, community_id, history, notes "
                 f"from '{out}/connections.parquet' order by conn").fetchall()
    assert got == [(c["conn"], c["client"], c["server"], c["uid"], c["community_id"], c["history"], c["notes"])
                   for c in conns], got[:3]
    # Polars: the same rows, the same times.
    frame = pl.read_parquet(out / "segments.parquet").sort("frame")
    assert frame.height == len(segs)
    assert [epoch_micros(t) for t in frame["ts"]] == [micros(s["ts"]) for s in segs]
    assert str(frame.schema["ts"]) == "Datetime(time_unit='us', time_zone='UTC')", frame.schema["ts"]
    c = pl.read_parquet(out / "connections.parquet")
    assert c.height == len(conns)
    assert c["uid"].to_list() == [r["uid"] for r in conns]
    assert c["packets"].struct.field("c2s").to_list() == [r["packets"]["c2s"] for r in conns]
    print(f"one capture: {len(segs)} segments, {len(conns)} connections, as the JSON lines say")


def many_captures(tmp):
    """A folder of captures in subfolders, analysed in parallel into partitions."""
    src = tmp / "captures"
    for i, f in enumerate(sorted((FIXTURES / "zeek").glob("*.pcap")) + sorted(FIXTURES.glob("*.pcap"))):
        dest = src / f"batch{i % 3}" / f.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, dest)
    (src / "README.txt").write_text("not a capture: left out")
    out = tmp / "dataset"
    # Some fixtures are cut short on purpose (exit 1); the rest go on.
    synfin("--format", "parquet", "--jobs", "2", "-o", out, src, ok=(0, 1))
    captures = sorted(str(p) for p in src.rglob("*.pcap"))
    parts = sorted(p.name for p in out.iterdir())
    assert len(parts) == len(captures), (len(parts), len(captures))
    assert all(p.startswith("capture=") for p in parts)
    assert not list(out.rglob(".*")), "no partial file left"
    records = jsonl(*captures)
    want_conns = sorted((r["capture"], r["conn"], r["uid"]) for r in records if r["type"] == "connection")
    want_segs = sum(r["type"] == "segment" for r in records)
    db = duckdb.connect()
    got = sorted(db.sql(f"select capture, conn, uid from read_parquet('{out}/**/connections.parquet')").fetchall())
    assert got == want_conns, (got[:3], want_conns[:3])
    n = db.sql(f"select count(*) from read_parquet('{out}/**/segments.parquet')").fetchall()[0][0]
    assert n == want_segs, (n, want_segs)
    # Every segment finds its connection, and none comes before it (one may come after its
    # record: a FIN after a RST).
    orphans, outside = db.sql(f"""
        select count(*) filter (where c.uid is null),
               count(*) filter (where c.uid is not null and (s.ts < c.ts or s.frame < c.first_frame))
        from read_parquet('{out}/**/segments.parquet') s
        left join read_parquet('{out}/**/connections.parquet') c using (capture, conn)""").fetchall()[0]
    assert (orphans, outside) == (0, 0), (orphans, outside)
    lazy = pl.scan_parquet(f"{out}/**/connections.parquet").select(pl.len()).collect().item()
    assert lazy == len(want_conns)
    print(f"{len(captures)} captures: {len(want_conns)} connections, {want_segs} segments; the join finds every connection")


def zeek_log(tmp):
    """The conn.log through DuckDB's CSV reader, typed by the log's own #types line."""
    log = tmp / "conn.log"
    log.write_text(synfin("--format", "zeek", FIXTURES / "bulk.pcap", FIXTURES / "refused.pcap"))
    lines = log.read_text().splitlines()
    fields = next(l for l in lines if l.startswith("#fields")).split("\t")[1:]
    types = next(l for l in lines if l.startswith("#types")).split("\t")[1:]
    sql = {"time": "DOUBLE", "interval": "DOUBLE", "count": "UBIGINT", "port": "USMALLINT",
           "addr": "VARCHAR", "string": "VARCHAR", "enum": "VARCHAR",
           "bool": "BOOLEAN", "set[string]": "VARCHAR"}
    columns = {f: sql[t] for f, t in zip(fields, types)}
    db = duckdb.connect()
    rows = db.sql(f"""select "id.resp_p", conn_state, orig_pkts, duration, service
        from read_csv('{log}', delim='\t', comment='#', header=false, nullstr='-', auto_detect=false,
                      columns={columns!r})""").fetchall()
    assert [r[1] for r in rows] == ["SF", "REJ", "REJ"], rows
    assert all(isinstance(r[0], int) and isinstance(r[2], int) for r in rows), rows
    assert isinstance(rows[0][3], float) and rows[1][3] is not None and rows[0][4] is None, rows
    print(f"conn.log: {len(rows)} rows read back typed")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        one_capture(tmp)
        many_captures(tmp)
        zeek_log(tmp)


if __name__ == "__main__":
    main()
