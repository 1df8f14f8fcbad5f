//! Parquet (`--format parquet -o DIR`): `connections.parquet` and `segments.parquet`, their
//! columns the JSON records' fields, typed (SPEC.md's names; counters as 64-bit integers,
//! which Spark reads as well as DuckDB and Polars; times as Parquet timestamps in
//! microseconds, UTC, the finest all three read; the analysis flags and notes as lists).
//! Every row carries its capture's path as given (`capture`).
//!
//! Rows are written in batches and the row groups flushed as they fill, so memory stays
//! bounded whatever the capture's size. Each file is written under a hidden temporary name
//! and renamed when complete: a killed run leaves no file that looks whole.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{
    ArrayRef, Float64Array, Int64Array, ListArray, RecordBatch, StringArray, StructArray,
    TimestampMicrosecondArray,
};
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use super::{Print, Source};
use crate::annotate::{ConnectionRecord, Record, SegmentRecord, Texts};
use crate::capture::Timestamp;
use crate::decode::Addr;
use crate::decode::write_address;
use crate::track::Dir;

/// Rows gathered before they are handed to the writer (connection records are larger),
/// and rows per row group.
const BATCH: usize = 8_192;
const CONNECTION_BATCH: usize = 1_024;
/// A row group is also closed once its encoded columns pass this size, which bounds the
/// memory it holds.
const ROW_GROUP_BYTES: usize = 8 << 20;
/// Each column fills a page this large before encoding it: a record has some 40 columns.
const PAGE_BYTES: usize = 256 << 10;
const ROW_GROUP: usize = 64 * 1024;

pub struct ParquetPrinter {
    dir: PathBuf,
    segments: bool,
    /// Each capture in its own partition, even alone.
    partition: bool,
    /// The files of the capture being written.
    open: Option<Files>,
}

struct Files {
    connections: Table<ConnectionRecord>,
    segments: Option<Table<SegmentRecord>>,
}

/// One file being written: its rows wait for the next batch here, and a thread of its own
/// turns each batch into columns and encodes them, while the capture is read on.
struct Table<R> {
    rows: Vec<R>,
    to_writer: Option<SyncSender<Vec<R>>>,
    writer: Option<JoinHandle<Result<(), String>>>,
    partial: PathBuf,
    done: PathBuf,
}

impl ParquetPrinter {
    /// Writes into `dir` (which exists); `segments`: `segments.parquet` too; `partition`:
    /// into a capture's partition even when it is the only one.
    pub fn new(dir: &Path, segments: bool, partition: bool) -> Self {
        ParquetPrinter {
            dir: dir.to_path_buf(),
            segments,
            partition,
            open: None,
        }
    }

    pub fn wants_segments(&self) -> bool {
        self.segments
    }

    fn close(&mut self) -> io::Result<()> {
        let Some(files) = self.open.take() else {
            return Ok(());
        };
        files.connections.finish()?;
        if let Some(segments) = files.segments {
            segments.finish()?;
        }
        Ok(())
    }
}

impl Print for ParquetPrinter {
    fn begin(&mut self, source: &Source<'_>) -> io::Result<()> {
        self.close()?;
        let dir = match source.several || self.partition {
            true => self.dir.join(partition(source.path)),
            false => self.dir.clone(),
        };
        fs::create_dir_all(&dir).map_err(|e| named(&dir, e))?;
        let capture = source.path;
        self.open = Some(Files {
            connections: Table::create(&dir, "connections", connection_schema(), capture)?,
            segments: match self.segments {
                true => Some(Table::create(&dir, "segments", segment_schema(), capture)?),
                false => None,
            },
        });
        Ok(())
    }

    fn record(&mut self, record: &Record) -> io::Result<()> {
        let Some(files) = self.open.as_mut() else {
            return Ok(());
        };
        match record {
            Record::Connection(c) => files.connections.push(c.as_ref().clone()),
            Record::Segment(s) => match files.segments.as_mut() {
                Some(table) => table.push(s.clone()),
                None => Ok(()),
            },
        }
    }

    fn end(&mut self) -> io::Result<()> {
        self.close()
    }
}

/// A capture's partition: `capture=NAME`, its path as given with the characters a folder
/// name cannot hold escaped as Hive escapes them (`%2F` for `/`), which Spark, DuckDB and
/// Polars read back as the path.
fn partition(path: &str) -> String {
    let mut name = String::from("capture=");
    for c in path.chars() {
        match c {
            '/' | '\\' | '=' | '%' | ':' | '"' | '#' | '?' | '*' | '\'' | '[' | ']' | '{' | '}'
            | '^' => name.push_str(&format!("%{:02X}", c as u32)),
            c if c.is_control() => name.push_str(&format!("%{:02X}", c as u32)),
            c => name.push(c),
        }
    }
    name
}

fn named(path: &Path, e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("{}: {e}", path.display()))
}

/// What makes a batch of rows of one kind.
trait Rows: Sized {
    const BATCH: usize;
    fn batch(schema: &SchemaRef, capture: &str, rows: &[Self]) -> Result<RecordBatch, String>;
}

impl<R: Rows + Send + 'static> Table<R> {
    fn create(dir: &Path, name: &str, schema: SchemaRef, capture: &str) -> io::Result<Self> {
        let done = dir.join(format!("{name}.parquet"));
        let partial = dir.join(format!(".{name}.parquet.partial"));
        let file = File::create(&partial).map_err(|e| named(&partial, e))?;
        let props = properties(&schema);
        let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props))
            .map_err(|e| named(&partial, e))?;
        // Two batches in flight at most: memory stays bounded if encoding falls behind.
        let (to_writer, batches) = sync_channel::<Vec<R>>(2);
        let capture = capture.to_string();
        let writer = std::thread::spawn(move || {
            for rows in batches {
                let batch = R::batch(&schema, &capture, &rows)?;
                writer.write(&batch).map_err(|e| e.to_string())?;
            }
            writer.close().map(drop).map_err(|e| e.to_string())
        });
        Ok(Table {
            rows: Vec::with_capacity(R::BATCH),
            to_writer: Some(to_writer),
            writer: Some(writer),
            partial,
            done,
        })
    }

    fn push(&mut self, row: R) -> io::Result<()> {
        self.rows.push(row);
        if self.rows.len() >= R::BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let rows = std::mem::replace(&mut self.rows, Vec::with_capacity(R::BATCH));
        let sent = self
            .to_writer
            .as_ref()
            .is_some_and(|w| w.send(rows).is_ok());
        if sent { Ok(()) } else { self.join() }
    }

    /// Ends the writer thread; its error, if it had one.
    fn join(&mut self) -> io::Result<()> {
        self.to_writer = None;
        match self.writer.take().map(JoinHandle::join) {
            None | Some(Ok(Ok(()))) => Ok(()),
            Some(Ok(Err(e))) => Err(named(&self.partial, e)),
            Some(Err(_)) => Err(named(&self.partial, "the writer stopped")),
        }
    }

    /// Writes what waits, closes the file and gives it its name.
    fn finish(mut self) -> io::Result<()> {
        self.flush()?;
        self.join()?;
        fs::rename(&self.partial, &self.done).map_err(|e| named(&self.done, e))
    }
}

/// Snappy, row groups of `ROW_GROUP` rows (at most `ROW_GROUP_BYTES`); statistics per
/// column chunk (enough to skip row groups, without the cost of one per page) for the
/// numbers and times, which queries select ranges of, and none for the text, whose min and
/// max in a row group of thousands of connections span nearly every value (comparing every
/// value for them was an eighth of the segments' encoding); dictionaries for the columns
/// of few values (roles, states, flags), which Parquet's dictionary encoding stores once
/// per page, and none for addresses, numbers and identifiers, which seldom repeat; integers
/// and times as deltas, which frame numbers, times and sequence numbers nearly always are
/// small.
fn properties(schema: &Schema) -> WriterProperties {
    let mut props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .set_max_row_group_bytes(Some(ROW_GROUP_BYTES))
        .set_data_page_size_limit(PAGE_BYTES)
        .set_dictionary_page_size_limit(PAGE_BYTES)
        .set_statistics_enabled(EnabledStatistics::None);
    for field in schema.fields() {
        let column = ColumnPath::from(field.name().as_str());
        match field.data_type() {
            DataType::Int64 | DataType::Timestamp(..) => {
                props = props
                    .set_column_statistics_enabled(column.clone(), EnabledStatistics::Chunk)
                    .set_column_dictionary_enabled(column.clone(), false)
                    .set_column_encoding(column, Encoding::DELTA_BINARY_PACKED);
            }
            DataType::Float64 => {
                props = props
                    .set_column_statistics_enabled(column.clone(), EnabledStatistics::Chunk)
                    .set_column_dictionary_enabled(column, false)
            }
            DataType::Utf8 if FEW_VALUES.contains(&field.name().as_str()) => {}
            DataType::Utf8 => props = props.set_column_dictionary_enabled(column, false),
            _ => {}
        }
    }
    props.build()
}

/// The text columns whose values repeat.
const FEW_VALUES: [&str; 11] = [
    "capture",
    "dir",
    "role",
    "step",
    "client_state",
    "server_state",
    "handshake",
    "teardown",
    "closed_by",
    "conn_state",
    "reset_cause",
];

fn utc_micros() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn strings() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}

/// `packets` and `bytes`: `{c2s, s2c}`.
fn per_dir() -> Fields {
    Fields::from(vec![
        Field::new("c2s", DataType::Int64, false),
        Field::new("s2c", DataType::Int64, false),
    ])
}

/// A state an end entered: `{state, frame, time}`.
fn entered() -> Fields {
    Fields::from(vec![
        Field::new("state", DataType::Utf8, false),
        Field::new("frame", DataType::Int64, false),
        Field::new("time", DataType::Float64, false),
    ])
}

/// An item of a timeline's list.
fn entered_item() -> Arc<Field> {
    Arc::new(Field::new("item", DataType::Struct(entered()), true))
}

/// `timeline`: `{client, server}`, each a list of the states entered.
fn timeline() -> Fields {
    let list = DataType::List(entered_item());
    Fields::from(vec![
        Field::new("client", list.clone(), false),
        Field::new("server", list, false),
    ])
}

fn segment_schema() -> SchemaRef {
    use DataType::{Float64, Int64, Utf8};
    let f = |name: &str, kind: DataType, nullable: bool| Field::new(name, kind, nullable);
    Arc::new(Schema::new(vec![
        f("capture", Utf8, false),
        f("frame", Int64, false),
        f("time", Float64, false),
        f("ts", utc_micros(), false),
        f("conn", Int64, false),
        f("dir", Utf8, false),
        f("src", Utf8, false),
        f("dst", Utf8, false),
        f("flags", strings(), false),
        f("seq", Int64, false),
        f("ack", Int64, true),
        f("abs_seq", Int64, false),
        f("abs_ack", Int64, true),
        f("len", Int64, false),
        f("win", Int64, false),
        f("role", Utf8, false),
        f("step", Utf8, true),
        f("client_state", Utf8, false),
        f("server_state", Utf8, false),
        f("analysis", strings(), false),
        f("dup_ack", Int64, true),
    ]))
}

fn connection_schema() -> SchemaRef {
    use DataType::{Float64, Int64, Utf8};
    let f = |name: &str, kind: DataType, nullable: bool| Field::new(name, kind, nullable);
    Arc::new(Schema::new(vec![
        f("capture", Utf8, false),
        f("conn", Int64, false),
        f("client", Utf8, false),
        f("server", Utf8, false),
        f("first_frame", Int64, false),
        f("last_frame", Int64, false),
        f("start", Float64, false),
        f("ts", utc_micros(), false),
        f("uid", Utf8, false),
        f("community_id", Utf8, false),
        f("duration", Float64, false),
        f("packets", DataType::Struct(per_dir()), false),
        f("bytes", DataType::Struct(per_dir()), false),
        f("handshake", Utf8, false),
        f("handshake_rtt", Float64, true),
        f("teardown", Utf8, false),
        f("closed_by", Utf8, true),
        f("client_state", Utf8, false),
        f("server_state", Utf8, false),
        f("conn_state", Utf8, true),
        f("history", Utf8, true),
        f("notes", strings(), false),
        f("retransmissions", Int64, false),
        f("flagged", Int64, false),
        f("analysis", strings(), false),
        f("completeness", Int64, false),
        f("reset_cause", Utf8, true),
        f("timeline", DataType::Struct(timeline()), false),
    ]))
}

/// Counters as Parquet's signed 64-bit integers (Spark has no unsigned ones); none of
/// these comes near 2^63.
fn int(n: impl Into<u64>) -> i64 {
    i64::try_from(n.into()).unwrap_or(i64::MAX)
}

fn micros(ts: Timestamp) -> i64 {
    int(ts.0 / 1_000)
}

fn ints<'a, R: 'a>(rows: &'a [R], get: impl Fn(&R) -> i64) -> ArrayRef {
    Arc::new(Int64Array::from_iter_values(rows.iter().map(get)))
}

fn maybe_ints<'a, R: 'a>(rows: &'a [R], get: impl Fn(&R) -> Option<i64>) -> ArrayRef {
    Arc::new(rows.iter().map(get).collect::<Int64Array>())
}

fn floats<'a, R: 'a>(rows: &'a [R], get: impl Fn(&R) -> f64) -> ArrayRef {
    Arc::new(Float64Array::from_iter_values(rows.iter().map(get)))
}

fn texts<'a, R: 'a, S: AsRef<str>>(rows: &'a [R], get: impl Fn(&R) -> S) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(rows.iter().map(get)))
}

/// Addresses as `ip:port` (`[v6]:port`), written without `fmt` for IPv4.
fn addresses<'a, R: 'a>(rows: &'a [R], get: impl Fn(&R) -> Addr) -> Result<ArrayRef, String> {
    written(rows, |row, o| {
        write_address(o, get(row).socket());
        Some(())
    })
}

/// A text column whose values `write` appends and ends with `Some`, or, appending
/// nothing, leaves null. Written into one buffer, checked as UTF-8 once for the batch
/// rather than value by value.
fn written<'a, R: 'a>(
    rows: &'a [R],
    write: impl Fn(&R, &mut Vec<u8>) -> Option<()>,
) -> Result<ArrayRef, String> {
    let mut text = Vec::with_capacity(rows.len() * 16);
    let mut ends = Vec::with_capacity(rows.len() + 1);
    let mut valid = Vec::with_capacity(rows.len());
    ends.push(0);
    for row in rows {
        valid.push(write(row, &mut text).is_some());
        ends.push(i32::try_from(text.len()).map_err(|e| e.to_string())?);
    }
    let nulls = valid.contains(&false).then(|| NullBuffer::from(valid));
    let offsets = OffsetBuffer::new(ScalarBuffer::from(ends));
    let column = StringArray::try_new(offsets, Buffer::from_vec(text), nulls);
    Ok(Arc::new(column.map_err(|e| e.to_string())?))
}

fn maybe_texts<'a, R: 'a, S: AsRef<str>>(
    rows: &'a [R],
    get: impl Fn(&'a R) -> Option<S>,
) -> ArrayRef {
    Arc::new(rows.iter().map(get).collect::<StringArray>())
}

fn times<'a, R: 'a>(rows: &'a [R], get: impl Fn(&R) -> Timestamp) -> ArrayRef {
    let values = rows.iter().map(|r| micros(get(r)));
    Arc::new(TimestampMicrosecondArray::from_iter_values(values).with_timezone("UTC"))
}

fn lists<'a, R: 'a, I, S>(rows: &'a [R], get: impl Fn(&R) -> I) -> ArrayRef
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let items = StringBuilder::with_capacity(rows.len(), rows.len() * 4);
    let mut list = ListBuilder::with_capacity(items, rows.len());
    for row in rows {
        for item in get(row) {
            list.values().append_value(item);
        }
        list.append(true);
    }
    Arc::new(list.finish())
}

/// The `notes` column: each note as its `Display` writes it, straight into the list.
fn notes(rows: &[ConnectionRecord]) -> ArrayRef {
    let items = StringBuilder::with_capacity(rows.len(), rows.len() * 32);
    let mut list = ListBuilder::with_capacity(items, rows.len());
    for row in rows {
        for note in &row.notes {
            // Written into the value being built; appending "" ends it.
            let _ = write!(list.values(), "{note}");
            list.values().append_value("");
        }
        list.append(true);
    }
    Arc::new(list.finish())
}

fn capture_column(capture: &str, n: usize) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
        capture, n,
    )))
}

impl Rows for SegmentRecord {
    const BATCH: usize = BATCH;
    fn batch(schema: &SchemaRef, capture: &str, rows: &[Self]) -> Result<RecordBatch, String> {
        let columns = vec![
            capture_column(capture, rows.len()),
            ints(rows, |s| int(s.frame)),
            floats(rows, |s| s.time),
            times(rows, |s| s.ts),
            ints(rows, |s| int(s.conn)),
            texts(rows, |s| s.dir.name()),
            addresses(rows, |s| s.src.0)?,
            addresses(rows, |s| s.dst.0)?,
            lists(rows, |s| s.flags.0.names()),
            ints(rows, |s| int(s.seq)),
            maybe_ints(rows, |s| s.ack.map(int)),
            ints(rows, |s| int(s.abs_seq)),
            maybe_ints(rows, |s| s.abs_ack.map(int)),
            ints(rows, |s| int(s.len)),
            ints(rows, |s| int(s.win)),
            texts(rows, |s| s.role.name()),
            written(rows, |s, o| s.step.map(|step| step.write_to(o)))?,
            texts(rows, |s| s.client_state.0.name()),
            texts(rows, |s| s.server_state.0.name()),
            lists(rows, |s| s.analysis.names()),
            maybe_ints(rows, |s| s.dup_ack.map(int)),
        ];
        RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())
    }
}

impl Rows for ConnectionRecord {
    const BATCH: usize = CONNECTION_BATCH;
    fn batch(schema: &SchemaRef, capture: &str, rows: &[Self]) -> Result<RecordBatch, String> {
        let names: Vec<_> = rows.iter().map(|c| c.names.texts()).collect();
        let per_dir = |get: fn(&ConnectionRecord) -> (u64, u64)| -> ArrayRef {
            Arc::new(StructArray::new(
                per_dir(),
                vec![ints(rows, |c| int(get(c).0)), ints(rows, |c| int(get(c).1))],
                None,
            ))
        };
        let columns = vec![
            capture_column(capture, rows.len()),
            ints(rows, |c| int(c.conn)),
            addresses(rows, |c| c.client.0)?,
            addresses(rows, |c| c.server.0)?,
            ints(rows, |c| int(c.first_frame)),
            ints(rows, |c| int(c.last_frame)),
            floats(rows, |c| c.start),
            times(rows, |c| c.ts),
            Arc::new(StringArray::from_iter_values(names.iter().map(Texts::uid))),
            Arc::new(StringArray::from_iter_values(
                names.iter().map(Texts::community_id),
            )),
            floats(rows, |c| c.duration),
            per_dir(|c| (c.packets.c2s, c.packets.s2c)),
            per_dir(|c| (c.bytes.c2s, c.bytes.s2c)),
            texts(rows, |c| c.handshake.name()),
            Arc::new(
                rows.iter()
                    .map(|c| c.handshake_rtt)
                    .collect::<Float64Array>(),
            ),
            texts(rows, |c| c.teardown.name()),
            maybe_texts(rows, |c| {
                c.closed_by.map(|side| match side {
                    crate::annotate::Side::Client => "client",
                    crate::annotate::Side::Server => "server",
                })
            }),
            texts(rows, |c| c.client_state.0.name()),
            texts(rows, |c| c.server_state.0.name()),
            maybe_texts(rows, |c| c.conn_state),
            maybe_texts(rows, |c| c.history.as_ref().map(|h| h.as_str())),
            notes(rows),
            ints(rows, |c| int(c.retransmissions)),
            ints(rows, |c| int(c.flagged)),
            lists(rows, |c| c.analysis.names()),
            ints(rows, |c| int(c.completeness)),
            maybe_texts(rows, |c| c.reset_cause.map(|r| r.name())),
            timelines(rows),
        ];
        RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())
    }
}

/// The `timeline` column: each end's list of `{state, frame, time}`.
fn timelines(rows: &[ConnectionRecord]) -> ArrayRef {
    let end = |dir: Dir| -> ArrayRef {
        let entries: Vec<_> = rows
            .iter()
            .flat_map(|c| c.timeline.of(dir).copied())
            .collect();
        let values = StructArray::new(
            entered(),
            vec![
                texts(&entries, |e| e.state.0.name()),
                ints(&entries, |e| int(e.frame)),
                floats(&entries, |e| e.time),
            ],
            None,
        );
        let lengths = rows.iter().map(|c| c.timeline.of(dir).count());
        Arc::new(ListArray::new(
            entered_item(),
            OffsetBuffer::from_lengths(lengths),
            Arc::new(values),
            None,
        ))
    };
    Arc::new(StructArray::new(
        timeline(),
        vec![end(Dir::C2S), end(Dir::S2C)],
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_escape_what_a_folder_name_cannot_hold() {
        assert_eq!(partition("a.pcap"), "capture=a.pcap");
        assert_eq!(partition("caps/x=1.pcap"), "capture=caps%2Fx%3D1.pcap");
        assert_eq!(partition("50%.pcap"), "capture=50%25.pcap");
    }
}
