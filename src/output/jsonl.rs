use std::io::{self, Write};
use std::net::SocketAddr;

#[cfg(test)]
use serde::Serialize;

use super::{Print, Source};
use crate::annotate::{
    ConnectionRecord, PerDir, Record, SegmentRecord, write_nanos, write_seconds,
};
use crate::decode::write_address;
use crate::track::{Dir, State};

/// SPEC.md's JSON lines: one record per line, `"capture"` added when several captures run.
///
/// Segment records, one per packet, are written field by field with `itoa` (what
/// serde_json itself uses for numbers): their strings are fixed ASCII tokens and addresses
/// that need no escaping, and this is most of the time of a run. Connection records go
/// through serde_json.
pub struct JsonlPrinter<W: Write> {
    out: W,
    capture: Option<String>,
    /// `,"capture":"…"` as JSON, once per capture.
    capture_field: Vec<u8>,
    line: Vec<u8>,
    /// Whether segment records are written (`--summary` writes connections only).
    segments: bool,
}

/// A record with its capture's path, as serde_json writes it: what the hand-written lines
/// are held to.
#[cfg(test)]
#[derive(Serialize)]
struct Labelled<'a> {
    #[serde(flatten)]
    record: &'a Record,
    capture: &'a str,
}

impl<W: Write> JsonlPrinter<W> {
    pub fn new(out: W, segments: bool) -> Self {
        JsonlPrinter {
            out,
            segments,
            capture: None,
            capture_field: Vec::new(),
            line: Vec::with_capacity(512),
        }
    }

    pub fn wants_segments(&self) -> bool {
        self.segments
    }

    pub fn writer(&mut self) -> &mut W {
        &mut self.out
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> Print for JsonlPrinter<W> {
    fn begin(&mut self, source: &Source<'_>) -> io::Result<()> {
        let label = source.label();
        self.capture = label.map(str::to_string);
        self.capture_field.clear();
        if let Some(label) = label {
            self.capture_field.extend_from_slice(b",\"capture\":");
            // Paths are the one string from outside: serde_json escapes them.
            if serde_json::to_writer(&mut self.capture_field, label).is_err() {
                self.capture_field.extend_from_slice(b"null");
            }
        }
        Ok(())
    }

    fn record(&mut self, record: &Record) -> io::Result<()> {
        match (record, &self.capture) {
            (Record::Segment(s), _) => {
                self.line.clear();
                segment(&mut self.line, s, &self.capture_field);
                self.out.write_all(&self.line)?;
            }
            (Record::Connection(c), _) => {
                self.line.clear();
                connection(&mut self.line, c, &self.capture_field);
                self.out.write_all(&self.line)?;
            }
        }
        self.out.write_all(b"\n")
    }

    fn end(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Appends a connection record as serde_json would serialize it: its fixed tokens,
/// numbers, times and addresses by hand (through serde_json, a flood's million records
/// spent most of their time in its map of flattened fields, escaping keys and checking
/// each time's raw text again); its enums and notes through serde_json, which names them.
fn connection(o: &mut Vec<u8>, c: &ConnectionRecord, capture_field: &[u8]) {
    let value = |o: &mut Vec<u8>, key: &[u8], v: &dyn erased::Value| {
        o.extend_from_slice(key);
        v.write(o);
    };
    int(o, b"{\"type\":\"connection\",\"conn\":", c.conn);
    address(o, b",\"client\":", c.client.0.socket());
    address(o, b",\"server\":", c.server.0.socket());
    int(o, b",\"first_frame\":", c.first_frame);
    int(o, b",\"last_frame\":", c.last_frame);
    seconds(o, b",\"start\":", Some(c.start));
    o.extend_from_slice(b",\"ts\":");
    write_nanos(o, i128::from(c.ts.0));
    // Base62 and base64 text: nothing to escape.
    let names = c.names.texts();
    o.extend_from_slice(b",\"uid\":\"");
    o.extend_from_slice(names.uid().as_bytes());
    o.extend_from_slice(b"\",\"community_id\":\"");
    o.extend_from_slice(names.community_id().as_bytes());
    o.push(b'"');
    seconds(o, b",\"duration\":", Some(c.duration));
    per_dir(o, b",\"packets\":", &c.packets);
    per_dir(o, b",\"bytes\":", &c.bytes);
    value(o, b",\"handshake\":", &c.handshake);
    seconds(o, b",\"handshake_rtt\":", c.handshake_rtt);
    value(o, b",\"teardown\":", &c.teardown);
    value(o, b",\"closed_by\":", &c.closed_by);
    states(o, c.client_state.0, c.server_state.0);
    value(o, b",\"conn_state\":", &c.conn_state);
    value(o, b",\"history\":", &c.history);
    value(o, b",\"notes\":", &c.notes);
    int(o, b",\"retransmissions\":", c.retransmissions);
    int(o, b",\"flagged\":", c.flagged);
    list(o, b",\"analysis\":", c.analysis.names());
    int(o, b",\"completeness\":", u64::from(c.completeness));
    value(o, b",\"reset_cause\":", &c.reset_cause);
    o.extend_from_slice(b",\"timeline\":{");
    for (key, end) in [
        (&b"\"client\":["[..], Dir::C2S),
        (b",\"server\":[", Dir::S2C),
    ] {
        o.extend_from_slice(key);
        for (i, entered) in c.timeline.of(end).enumerate() {
            o.extend_from_slice(if i == 0 {
                b"{\"state\":\""
            } else {
                b",{\"state\":\""
            });
            o.extend_from_slice(entered.state.0.name().as_bytes());
            o.push(b'"');
            int(o, b",\"frame\":", entered.frame);
            seconds(o, b",\"time\":", Some(entered.time));
            o.push(b'}');
        }
        o.push(b']');
    }
    o.push(b'}');
    o.extend_from_slice(capture_field);
    o.push(b'}');
}

/// Appends `key` and a number.
fn int(o: &mut Vec<u8>, key: &[u8], v: u64) {
    o.extend_from_slice(key);
    o.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Appends `key` and a number or `null`.
fn maybe_int(o: &mut Vec<u8>, key: &[u8], v: Option<u64>) {
    match v {
        Some(v) => int(o, key, v),
        None => {
            o.extend_from_slice(key);
            o.extend_from_slice(b"null");
        }
    }
}

/// Appends `key` and seconds as an exact decimal, or `null` (none, or not finite).
fn seconds(o: &mut Vec<u8>, key: &[u8], secs: Option<f64>) {
    o.extend_from_slice(key);
    if !secs.is_some_and(|secs| write_seconds(o, secs)) {
        o.extend_from_slice(b"null");
    }
}

/// Appends `key` and a socket address in quotes: digits, dots, colons and brackets,
/// nothing to escape.
fn address(o: &mut Vec<u8>, key: &[u8], addr: SocketAddr) {
    o.extend_from_slice(key);
    o.push(b'"');
    write_address(o, addr);
    o.push(b'"');
}

/// Appends `key` and a count per direction.
fn per_dir(o: &mut Vec<u8>, key: &[u8], p: &PerDir) {
    o.extend_from_slice(key);
    int(o, b"{\"c2s\":", p.c2s);
    int(o, b",\"s2c\":", p.s2c);
    o.push(b'}');
}

/// Appends both ends' states.
fn states(o: &mut Vec<u8>, client: State, server: State) {
    o.extend_from_slice(b",\"client_state\":\"");
    o.extend_from_slice(client.name().as_bytes());
    o.extend_from_slice(b"\",\"server_state\":\"");
    o.extend_from_slice(server.name().as_bytes());
    o.push(b'"');
}

/// Appends `key` and a list of names (flags' and analyses', fixed ASCII: nothing to escape).
fn list(o: &mut Vec<u8>, key: &[u8], names: impl Iterator<Item = &'static str>) {
    o.extend_from_slice(key);
    o.push(b'[');
    for (i, name) in names.enumerate() {
        o.extend_from_slice(if i == 0 { b"\"" } else { b",\"" });
        o.extend_from_slice(name.as_bytes());
        o.push(b'"');
    }
    o.push(b']');
}

/// A field's value written by serde_json, through one function rather than one copy of
/// the writer for each type.
mod erased {
    pub(super) trait Value {
        fn write(&self, o: &mut Vec<u8>);
    }

    impl<T: serde::Serialize> Value for T {
        fn write(&self, o: &mut Vec<u8>) {
            if serde_json::to_writer(&mut *o, self).is_err() {
                o.extend_from_slice(b"null");
            }
        }
    }
}

/// Appends a segment record as serde_json would serialize it.
fn segment(o: &mut Vec<u8>, s: &SegmentRecord, capture_field: &[u8]) {
    o.extend_from_slice(b"{\"type\":\"segment\"");
    int(o, b",\"frame\":", s.frame);
    seconds(o, b",\"time\":", Some(s.time));
    o.extend_from_slice(b",\"ts\":");
    write_nanos(o, i128::from(s.ts.0));
    int(o, b",\"conn\":", s.conn);
    o.extend_from_slice(match s.dir.0 {
        Dir::C2S => b",\"dir\":\"c2s\"",
        Dir::S2C => b",\"dir\":\"s2c\"",
    });
    address(o, b",\"src\":", s.src.0.socket());
    address(o, b",\"dst\":", s.dst.0.socket());
    list(o, b",\"flags\":", s.flags.0.names());
    int(o, b",\"seq\":", u64::from(s.seq));
    maybe_int(o, b",\"ack\":", s.ack.map(u64::from));
    int(o, b",\"abs_seq\":", u64::from(s.abs_seq));
    maybe_int(o, b",\"abs_ack\":", s.abs_ack.map(u64::from));
    int(o, b",\"len\":", u64::from(s.len));
    int(o, b",\"win\":", u64::from(s.win));
    o.extend_from_slice(b",\"role\":\"");
    o.extend_from_slice(s.role.name().as_bytes());
    o.push(b'"');
    match s.step {
        Some(step) => {
            o.extend_from_slice(b",\"step\":\"");
            step.write_to(o);
            o.push(b'"');
        }
        None => o.extend_from_slice(b",\"step\":null"),
    }
    states(o, s.client_state.0, s.server_state.0);
    list(o, b",\"analysis\":", s.analysis.names());
    maybe_int(o, b",\"dup_ack\":", s.dup_ack.map(u64::from));
    o.extend_from_slice(capture_field);
    o.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annotate::{Analysis, DirName, Endpoint, FlagNames, Role, StateName, Step};
    use crate::decode::TcpFlags;
    use crate::track::{Dir, State};

    /// The hand-written line equals serde_json's for records of every shape.
    #[test]
    fn segments_are_written_exactly_as_serde_json_writes_them() {
        let base = SegmentRecord {
            frame: 7,
            time: 1.5e-5,
            ts: crate::capture::Timestamp(1_764_625_752_123_456_789),
            conn: 3,
            dir: DirName(Dir::S2C),
            src: Endpoint("[::1]:80".parse().expect("address")),
            dst: Endpoint("[::1]:50000".parse().expect("address")),
            flags: FlagNames(TcpFlags(0x1ff)),
            seq: u32::MAX,
            ack: Some(0),
            abs_seq: 1,
            abs_ack: Some(2),
            len: 14,
            win: 65536,
            role: Role::FinalAck,
            step: Some(Step::Teardown { n: 4, of: Some(4) }),
            client_state: StateName(State::TimeWait),
            server_state: StateName(State::Closed),
            analysis: Analysis(Analysis::PORT_REUSED | Analysis::DUP_ACK),
            dup_ack: Some(3),
            // Never in the JSON, by either writer.
            preview: crate::decode::Preview::of(b"payload"),
        };
        let bare = SegmentRecord {
            time: 0.0,
            dir: DirName(Dir::C2S),
            src: Endpoint("127.0.0.1:1".parse().expect("address")),
            flags: FlagNames(TcpFlags(0)),
            ack: None,
            abs_ack: None,
            step: None,
            analysis: Analysis::default(),
            dup_ack: None,
            ..base.clone()
        };
        let v4 = SegmentRecord {
            src: Endpoint("255.255.255.255:65535".parse().expect("address")),
            dst: Endpoint("0.0.0.0:0".parse().expect("address")),
            step: Some(Step::Handshake(2)),
            ..bare.clone()
        };
        let scoped = SegmentRecord {
            src: Endpoint("[fe80::1%2]:443".parse().expect("address")),
            dst: Endpoint("[::ffff:10.0.0.1]:8080".parse().expect("address")),
            step: Some(Step::Teardown { n: 1, of: Some(3) }),
            ..base.clone()
        };
        for s in [base, bare, v4, scoped] {
            for label in [None, Some("dir/odd \"name\".pcap")] {
                let record = Record::Segment(s.clone());
                let mut ours = JsonlPrinter::new(Vec::new(), true);
                ours.begin(&Source {
                    path: label.unwrap_or_default(),
                    bytes: None,
                    several: label.is_some(),
                })
                .expect("writing to memory");
                ours.record(&record).expect("in memory");
                let mut want = match label {
                    Some(capture) => serde_json::to_vec(&Labelled {
                        record: &record,
                        capture,
                    }),
                    None => serde_json::to_vec(&record),
                }
                .expect("serializes");
                want.push(b'\n');
                assert_eq!(
                    String::from_utf8_lossy(&ours.into_inner()),
                    String::from_utf8_lossy(&want)
                );
            }
        }
    }
}
