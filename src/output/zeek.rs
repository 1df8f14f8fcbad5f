//! Zeek's conn.log (`--format zeek`, `zeek-json`): one row per connection, with the columns
//! Zeek computes from TCP alone and its semantics (base/protocols/conn/main.zeek); columns
//! that need its application analyzers or site configuration (`service`, `local_orig`,
//! `local_resp`, `tunnel_parents`) are unset.
//!
//! The ASCII log is written as Zeek's ASCII writer writes it: the `#` header, tab-separated
//! rows, `-` for an unset field, times and intervals with six decimals. The JSON log as its
//! JSON writer does: one object per line, unset fields left out, doubles at full precision.

use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use super::time::calendar;
use super::{Print, Source};
use crate::annotate::{ConnectionRecord, Record, ZeekCounts};
use crate::capture::Timestamp;
use crate::track::Dir;

/// The columns, in Zeek's order, and their types.
const FIELDS: [(&str, &str); 22] = [
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("proto", "enum"),
    ("service", "string"),
    ("duration", "interval"),
    ("orig_bytes", "count"),
    ("resp_bytes", "count"),
    ("conn_state", "string"),
    ("local_orig", "bool"),
    ("local_resp", "bool"),
    ("missed_bytes", "count"),
    ("history", "string"),
    ("orig_pkts", "count"),
    ("orig_ip_bytes", "count"),
    ("resp_pkts", "count"),
    ("resp_ip_bytes", "count"),
    ("tunnel_parents", "set[string]"),
    ("community_id", "string"),
];

/// One value of a row.
enum Value {
    Unset,
    Text(String),
    Count(u64),
    /// A time or an interval, in seconds.
    Seconds(f64),
}

pub struct ZeekPrinter<W: Write> {
    out: W,
    json: bool,
    /// The ASCII log's header is written once, before the first capture's rows.
    opened: bool,
    line: Vec<u8>,
}

impl<W: Write> ZeekPrinter<W> {
    pub fn new(out: W, json: bool) -> Self {
        ZeekPrinter {
            out,
            json,
            opened: false,
            line: Vec::with_capacity(512),
        }
    }

    pub fn writer(&mut self) -> &mut W {
        &mut self.out
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn header(&mut self) -> io::Result<()> {
        let names: Vec<&str> = FIELDS.iter().map(|(name, _)| *name).collect();
        let types: Vec<&str> = FIELDS.iter().map(|(_, kind)| *kind).collect();
        write!(
            self.out,
            "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n\
             #path\tconn\n#open\t{}\n#fields\t{}\n#types\t{}\n",
            wall_clock(),
            names.join("\t"),
            types.join("\t"),
        )
    }
}

impl<W: Write> Print for ZeekPrinter<W> {
    fn begin(&mut self, _source: &Source<'_>) -> io::Result<()> {
        if !self.json && !self.opened {
            self.header()?;
        }
        self.opened = true;
        Ok(())
    }

    fn record(&mut self, record: &Record) -> io::Result<()> {
        let Record::Connection(c) = record else {
            return Ok(());
        };
        // A connection Zeek never saw a packet of (none: every record has one) has no row.
        let Some(counts) = c.zeek else {
            return Ok(());
        };
        self.line.clear();
        let values = row(c, &counts);
        if self.json {
            json_row(&mut self.line, &values);
        } else {
            ascii_row(&mut self.line, &values);
        }
        self.out.write_all(&self.line)
    }

    fn end(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        if !self.json && self.opened {
            writeln!(self.out, "#close\t{}", wall_clock())?;
        }
        self.out.flush()
    }
}

/// A connection's values, in `FIELDS`' order.
fn row(c: &ConnectionRecord, z: &ZeekCounts) -> [Value; 22] {
    let (orig, resp) = match z.orig {
        Dir::C2S => (c.client.0, c.server.0),
        Dir::S2C => (c.server.0, c.client.0),
    };
    let (orig, resp) = (orig.socket(), resp.socket());
    let (community_id, uid) = c.names.strings();
    // Zeek reads times as doubles of microseconds (libpcap's `timeval`) and subtracts them.
    let duration = seconds(z.last) - seconds(c.ts);
    // Sizes only where the connection lasted (set_conn: `if ( c$duration > 0secs )`).
    let lasted = duration > 0.0;
    let size = |bytes| {
        if lasted {
            Value::Count(bytes)
        } else {
            Value::Unset
        }
    };
    let text = |s: Option<&str>| match s {
        Some(s) if !s.is_empty() => Value::Text(s.to_string()),
        _ => Value::Unset,
    };
    [
        Value::Seconds(seconds(c.ts)),
        Value::Text(uid),
        Value::Text(orig.ip().to_string()),
        Value::Count(orig.port().into()),
        Value::Text(resp.ip().to_string()),
        Value::Count(resp.port().into()),
        Value::Text("tcp".to_string()),
        Value::Unset,
        if lasted {
            Value::Seconds(duration)
        } else {
            Value::Unset
        },
        size(z.bytes[0]),
        size(z.bytes[1]),
        text(c.conn_state),
        Value::Unset,
        Value::Unset,
        Value::Count(z.missed),
        text(c.history.as_ref().map(|h| h.as_str())),
        Value::Count(z.pkts[0]),
        Value::Count(z.ip_bytes[0]),
        Value::Count(z.pkts[1]),
        Value::Count(z.ip_bytes[1]),
        Value::Unset,
        Value::Text(community_id),
    ]
}

/// A capture time as Zeek holds it: a double of whole microseconds.
fn seconds(ts: Timestamp) -> f64 {
    let micros = ts.0 / 1_000;
    (micros / 1_000_000) as f64 + (micros % 1_000_000) as f64 / 1e6
}

/// A row of the ASCII log: tab-separated, `-` unset, six decimals for times (`%.6f`).
fn ascii_row(o: &mut Vec<u8>, values: &[Value]) {
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            o.push(b'\t');
        }
        let _ = match value {
            Value::Unset => write!(o, "-"),
            Value::Text(s) => write!(o, "{}", escaped(s)),
            Value::Count(n) => write!(o, "{n}"),
            Value::Seconds(s) => write!(o, "{s:.6}"),
        };
    }
    o.push(b'\n');
}

/// A line of the JSON log: unset fields left out; doubles in their shortest exact form, as
/// rapidjson writes them (`0.1638200283050537`, `3.0`).
fn json_row(o: &mut Vec<u8>, values: &[Value]) {
    o.push(b'{');
    let mut first = true;
    for ((name, _), value) in FIELDS.iter().zip(values) {
        if let Value::Unset = value {
            continue;
        }
        if !first {
            o.push(b',');
        }
        first = false;
        let _ = write!(o, "\"{name}\":");
        let _ = match value {
            Value::Unset => Ok(()),
            Value::Text(s) => serde_json::to_writer(&mut *o, s).map_err(io::Error::other),
            Value::Count(n) => write!(o, "{n}"),
            Value::Seconds(s) if s.fract() == 0.0 => write!(o, "{s:.1}"),
            Value::Seconds(s) => write!(o, "{s}"),
        };
    }
    o.extend_from_slice(b"}\n");
}

/// A string as the ASCII writer escapes it: its separator, and a lone `-` or `(empty)`
/// that would read as unset or empty. Only `uid` and `community_id` are free text here,
/// and neither holds these; kept so a future column cannot break the log.
fn escaped(s: &str) -> String {
    match s {
        "-" => "\\x2d".to_string(),
        "(empty)" => "\\x28empty)".to_string(),
        _ => s.replace('\t', "\\x09"),
    }
}

/// The `#open` and `#close` stamps: the wall clock, as Zeek's ASCII writer takes it, in UTC
/// (Zeek's is local time; UTC reads the same on every machine).
fn wall_clock() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    stamp(secs)
}

/// `2026-12-02-22-17-35`: Zeek's `%Y-%m-%d-%H-%M-%S`.
fn stamp(secs: u64) -> String {
    let [year, month, day, hour, minute, second] = calendar(secs);
    format!("{year:04}-{month:02}-{day:02}-{hour:02}-{minute:02}-{second:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_zeeks_format() {
        assert_eq!(stamp(0), "1970-01-01-00-00-00");
        assert_eq!(stamp(1_559_917_844), "2019-06-07-14-30-44");
    }

    #[test]
    fn times_are_doubles_of_microseconds() {
        // 1258531221.486539123 s: libpcap's timeval drops the nanoseconds.
        let t = Timestamp(1_258_531_221_486_539_123);
        assert_eq!(format!("{:.6}", seconds(t)), "1258531221.486539");
        let mut o = Vec::new();
        json_row(
            &mut o,
            &[
                Value::Seconds(seconds(t)),
                Value::Text("C".into()),
                Value::Unset,
                Value::Count(7),
                Value::Unset,
                Value::Unset,
                Value::Unset,
                Value::Unset,
                Value::Seconds(3.0),
            ],
        );
        assert_eq!(
            String::from_utf8_lossy(&o),
            "{\"ts\":1258531221.486539,\"uid\":\"C\",\"id.orig_p\":7,\"duration\":3.0}\n"
        );
    }
}
