//! Zeek's conn.log (`--format zeek`, `zeek-json`): one row per connection, with the columns
//! Zeek computes from TCP alone and its semantics (base/protocols/conn/main.zeek); columns
//! that need its application analyzers or site configuration (`service`, `local_orig`,
//! `local_resp`, `tunnel_parents`) are unset.
//!
//! The ASCII log is written as Zeek's ASCII writer writes it: the `#` header, tab-separated
//! rows, `-` for an unset field, times and intervals with six decimals. The JSON log as its
//! JSON writer does: one object per line, unset fields left out, doubles at full precision.

use std::io::{self, Write};
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use super::time::calendar;
use super::{Print, Source};
use crate::annotate::{ConnectionRecord, Record, ZeekCounts};
use crate::capture::Timestamp;
use crate::decode::write_ip;
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
enum Value<'a> {
    Unset,
    Text(&'a str),
    Ip(IpAddr),
    Count(u64),
    /// A capture's time.
    Time(Timestamp),
    /// An interval, in seconds.
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
        let names = c.names.texts();
        let values = row(c, &counts, names.uid(), names.community_id());
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

/// A connection's values, in `FIELDS`' order (`uid`, `community_id`: its names).
fn row<'a>(
    c: &'a ConnectionRecord,
    z: &ZeekCounts,
    uid: &'a str,
    community_id: &'a str,
) -> [Value<'a>; 22] {
    let (orig, resp) = match z.orig {
        Dir::C2S => (c.client.0, c.server.0),
        Dir::S2C => (c.server.0, c.client.0),
    };
    let (orig, resp) = (orig.socket(), resp.socket());
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
    let text = |s: Option<&'a str>| match s {
        Some(s) if !s.is_empty() => Value::Text(s),
        _ => Value::Unset,
    };
    [
        Value::Time(c.ts),
        Value::Text(uid),
        Value::Ip(orig.ip()),
        Value::Count(orig.port().into()),
        Value::Ip(resp.ip()),
        Value::Count(resp.port().into()),
        Value::Text("tcp"),
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
/// Written by hand but for intervals: a flood's or a scan's million rows went through `fmt`.
fn ascii_row(o: &mut Vec<u8>, values: &[Value]) {
    let mut digits = itoa::Buffer::new();
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            o.push(b'\t');
        }
        match value {
            Value::Unset => o.push(b'-'),
            Value::Text(s) => escape(o, s),
            Value::Ip(ip) => write_ip(o, *ip),
            Value::Count(n) => o.extend_from_slice(digits.format(*n).as_bytes()),
            Value::Time(ts) => write_time(o, *ts),
            Value::Seconds(s) => {
                let _ = write!(o, "{s:.6}");
            }
        }
    }
    o.push(b'\n');
}

/// A capture's time as `%.6f` writes `seconds(ts)`: its whole microseconds. Below 2^32
/// seconds the double is within 2^-22 s of them, so six decimals round back to them
/// exactly; beyond, the double is formatted.
fn write_time(o: &mut Vec<u8>, ts: Timestamp) {
    let micros = ts.0 / 1_000;
    let (secs, fraction) = (micros / 1_000_000, micros % 1_000_000);
    if secs >= 1 << 32 {
        let _ = write!(o, "{:.6}", seconds(ts));
        return;
    }
    let mut digits = itoa::Buffer::new();
    o.extend_from_slice(digits.format(secs).as_bytes());
    // `fraction + 1_000_000` has seven digits: the first is dropped for the dot.
    let padded = digits.format(fraction + 1_000_000).as_bytes();
    o.push(b'.');
    o.extend_from_slice(padded.get(1..).unwrap_or_default());
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
        o.push(b'"');
        o.extend_from_slice(name.as_bytes());
        o.extend_from_slice(b"\":");
        let _ = match *value {
            Value::Unset => Ok(()),
            Value::Text(s) => serde_json::to_writer(&mut *o, s).map_err(io::Error::other),
            Value::Ip(ip) => {
                o.push(b'"');
                write_ip(o, ip);
                o.push(b'"');
                Ok(())
            }
            Value::Count(n) => {
                o.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
                Ok(())
            }
            Value::Time(ts) => json_double(o, seconds(ts)),
            Value::Seconds(s) => json_double(o, s),
        };
    }
    o.extend_from_slice(b"}\n");
}

/// A double as Zeek's JSON writer (rapidjson) writes it: shortest exact form, `3.0` whole.
fn json_double(o: &mut Vec<u8>, s: f64) -> io::Result<()> {
    if s.fract() == 0.0 {
        write!(o, "{s:.1}")
    } else {
        write!(o, "{s}")
    }
}

/// Appends a string as the ASCII writer escapes it: its separator, and a lone `-` or
/// `(empty)` that would read as unset or empty. Only `uid` and `community_id` are free
/// text here, and neither holds these; kept so a future column cannot break the log.
fn escape(o: &mut Vec<u8>, s: &str) {
    match s {
        "-" => o.extend_from_slice(b"\\x2d"),
        "(empty)" => o.extend_from_slice(b"\\x28empty)"),
        _ => {
            for (i, part) in s.split('\t').enumerate() {
                if i > 0 {
                    o.extend_from_slice(b"\\x09");
                }
                o.extend_from_slice(part.as_bytes());
            }
        }
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
    use proptest::prelude::*;

    fn written(write: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut o = Vec::new();
        write(&mut o);
        String::from_utf8_lossy(&o).into_owned()
    }

    proptest! {
        /// A capture's time by hand is `%.6f` of the double Zeek holds, below 2^32 seconds
        /// and beyond.
        #[test]
        fn times_are_written_as_six_decimals_of_the_double(
            nanos in prop_oneof![0..(1u64 << 32) * 1_000_000_000, any::<u64>()],
        ) {
            let ts = Timestamp(nanos);
            prop_assert_eq!(written(|o| write_time(o, ts)), format!("{:.6}", seconds(ts)));
        }
    }

    #[test]
    fn times_at_the_edges() {
        for secs in [
            0,
            1,
            1_258_531_221,
            (1 << 32) - 1,
            1 << 32,
            u64::MAX / 1_000_000_000,
        ] {
            for micros in [0, 1, 500_000, 999_999] {
                let ts = Timestamp(
                    secs.saturating_mul(1_000_000_000)
                        .saturating_add(micros * 1_000 + 999),
                );
                assert_eq!(
                    written(|o| write_time(o, ts)),
                    format!("{:.6}", seconds(ts))
                );
            }
        }
    }

    #[test]
    fn text_is_escaped_as_zeeks_ascii_writer_escapes_it() {
        for (text, want) in [
            ("-", "\\x2d"),
            ("(empty)", "\\x28empty)"),
            ("a\tb\t", "a\\x09b\\x09"),
            ("CHhAvVGS1DHFjwGM9", "CHhAvVGS1DHFjwGM9"),
            ("--", "--"),
        ] {
            assert_eq!(written(|o| escape(o, text)), want);
        }
    }

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
                Value::Text("C"),
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
