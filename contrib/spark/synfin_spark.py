#!/usr/bin/env python3
"""Analyse a folder of captures on Spark's executors with synfin, then query the dataset.

Each capture is one Spark task: the executor that takes it runs

    synfin --format parquet --partition -o DATASET CAPTURE

which writes the capture's own partition, DATASET/capture=NAME/{connections,segments}.parquet.
Partitions never overlap, so tasks need no coordination and a re-run task simply rewrites
its partition; the driver then reads DATASET as one table. Spark schedules, retries and
spreads the work; synfin does not. Every executor needs the synfin binary at the same
path, and DATASET (and the captures) on storage they all reach.

    spark-submit --master 'local[2]' contrib/spark/synfin_spark.py \\
        --synfin target/release/synfin CAPTURES_DIR DATASET_DIR

Prints each task's outcome, then three queries' answers.
"""
import argparse
import os
import subprocess
from pathlib import Path

from pyspark.sql import SparkSession

QUERIES = {
    "resets per server port": """
        SELECT regexp_extract(server, ':([0-9]+)$', 1) AS server_port, count(*) AS resets
        FROM connections WHERE teardown = 'reset'
        GROUP BY 1 ORDER BY resets DESC, server_port LIMIT 10""",
    "handshake RTT percentiles per client network (ms)": """
        SELECT regexp_extract(client, '^([0-9]+\\\\.[0-9]+\\\\.[0-9]+)\\\\.', 1) || '.0/24' AS client_net,
               count(*) AS handshakes,
               round(percentile_approx(handshake_rtt, 0.5) * 1000, 3) AS p50_ms,
               round(percentile_approx(handshake_rtt, 0.99) * 1000, 3) AS p99_ms
        FROM connections WHERE handshake_rtt IS NOT NULL AND client NOT LIKE '[%'
        GROUP BY 1 ORDER BY handshakes DESC, client_net LIMIT 10""",
    "connections stuck in CLOSE_WAIT": """
        SELECT capture, conn, client, server, ts
        FROM connections WHERE client_state = 'CLOSE_WAIT' OR server_state = 'CLOSE_WAIT'
        ORDER BY capture, conn LIMIT 20""",
}


# pcap (either byte order, micro- or nanoseconds), pcapng, gzip: what synfin takes for a
# capture when it searches a folder itself.
MAGIC = {bytes.fromhex(m) for m in ("d4c3b2a1", "a1b2c3d4", "4d3cb2a1", "a1b23c4d", "0a0d0d0a")}


def is_capture(path):
    with open(path, "rb") as f:
        head = f.read(4)
    return head in MAGIC or head[:2] == b"\x1f\x8b"


def captures_in(folder):
    """The folder's captures, recursively, hidden files left out, told by their first
    bytes as synfin tells them (never by their names)."""
    return sorted(str(p) for p in Path(folder).rglob("*")
                  if p.is_file() and not p.name.startswith(".") and is_capture(p))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--synfin", default="synfin", help="the synfin binary, at this path on every executor")
    ap.add_argument("captures")
    ap.add_argument("dataset")
    args = ap.parse_args()
    synfin = os.path.abspath(args.synfin) if os.path.exists(args.synfin) else args.synfin
    dataset = os.path.abspath(args.dataset)
    captures = [os.path.abspath(c) for c in captures_in(args.captures)]

    spark = SparkSession.builder.appName("synfin").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")

    def analyse(capture):
        run = subprocess.run([synfin, "--format", "parquet", "--partition", "-o", dataset, capture],
                             capture_output=True, text=True)
        return capture, run.returncode, run.stderr.strip()

    tasks = spark.sparkContext.parallelize(captures, max(1, len(captures))).map(analyse).collect()
    for capture, status, err in tasks:
        print(f"exit {status}: {capture}" + (f": {err.splitlines()[-1]}" if err else ""))

    # Each partition holds both tables: read one of them, the partitions as its `capture`.
    conns = spark.read.option("basePath", dataset).parquet(f"{dataset}/capture=*/connections.parquet")
    conns.createOrReplaceTempView("connections")
    print(f"{conns.count()} connections in {len(captures)} captures")
    for title, sql in QUERIES.items():
        print(f"-- {title}")
        spark.sql(sql).show(truncate=False)
    spark.stop()
    # Like synfin: 2 when a capture could not be read at all, 1 when one was cut short.
    return max([status for _, status, _ in tasks], default=0)


if __name__ == "__main__":
    raise SystemExit(main())
