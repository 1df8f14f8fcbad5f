//! Golden mode: the annotation of a capture (its JSON lines) against a stored expectation.
//!
//! What is random by design differs on every capture of the same exchange, so by default it
//! is left out: the raw sequence numbers (both ISNs are random), the client's ephemeral
//! port, and the times (compared within a tolerance when one is given). Everything else
//! (frames, roles, steps, relative numbers, lengths, flags, states, connection records)
//! must be equal. `strict` compares everything. A field the expectation does not have is
//! not compared: fields are only ever added (SPEC.md), so an expectation written by an
//! earlier synfin stays valid.

use std::collections::HashMap;

use serde_json::Value;

/// Fields that hold times relative to the capture, in seconds.
const TIME_FIELDS: [&str; 4] = ["time", "start", "duration", "handshake_rtt"];
/// Fields that hold what each capture makes anew: raw numbers derived from the random
/// ISNs, the wall-clock capture time, and the names made of the time and the client's
/// ephemeral port (`uid`, `community_id`).
const RANDOM_FIELDS: [&str; 5] = ["abs_seq", "abs_ack", "ts", "uid", "community_id"];
/// Differences reported at most; the rest are counted.
const MAX_SHOWN: usize = 10;

/// How an annotation is compared with its expectation.
#[derive(Clone, Debug, Default)]
pub struct Compared {
    /// Times compared within this many seconds; `None`: not compared (unless strict).
    pub tolerance: Option<f64>,
    /// Everything compared: raw numbers, the client's port, times.
    pub strict: bool,
    /// Fields left out, by their JSON names.
    pub ignore: Vec<String>,
}

/// What differs, in words, the first few; empty when the annotation is as expected.
///
/// Connection records are matched by capture and number and told first: their differences
/// sum up their segments' (`teardown is "reset"`). Segments are matched in order.
pub fn compare(expected: &str, actual: &str, how: &Compared) -> Vec<String> {
    let mut diffs = Vec::new();
    let (want, got) = (
        parse(expected, "expected line", how, &mut diffs),
        parse(actual, "line", how, &mut diffs),
    );
    let (want_conns, want_segments) = split(&want);
    let (got_conns, got_segments) = split(&got);
    let mut unmatched: HashMap<String, &Value> =
        got_conns.iter().map(|(_, g)| (name(g), g)).collect();
    for (line, w) in &want_conns {
        match unmatched.remove(&name(w)) {
            Some(g) => record(*line, w, g, how, &mut diffs),
            None => diffs.push(format!("{} expected, not found", name(w))),
        }
    }
    for (_, g) in &got_conns {
        if unmatched.contains_key(&name(g)) {
            diffs.push(format!("{} found, not expected", name(g)));
        }
    }
    for ((line, w), (_, g)) in want_segments.iter().zip(&got_segments) {
        record(*line, w, g, how, &mut diffs);
    }
    if want_segments.len() != got_segments.len() {
        let first = got_segments
            .get(want_segments.len())
            .or(want_segments.get(got_segments.len()));
        diffs.push(format!(
            "{} segments expected, {} found{}",
            want_segments.len(),
            got_segments.len(),
            first.map_or_else(String::new, |(_, r)| format!(
                "; first unmatched: {}",
                name(r)
            ))
        ));
    }
    let n = diffs.len();
    if n > MAX_SHOWN {
        diffs.truncate(MAX_SHOWN);
        diffs.push(format!("… and {} more differences", n - MAX_SHOWN));
    }
    diffs
}

/// The records of JSON lines with their line numbers; lines that are not JSON are told.
/// Unless `how` is strict, each record's client port is masked as it is read.
fn parse(text: &str, what: &str, how: &Compared, diffs: &mut Vec<String>) -> Vec<(usize, Value)> {
    let mut records = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(mut record) => {
                if !how.strict {
                    mask(&mut record);
                }
                records.push((i + 1, record));
            }
            Err(e) => diffs.push(format!("{what} {} is not JSON: {e}", i + 1)),
        }
    }
    records
}

type Records<'a> = Vec<&'a (usize, Value)>;

/// Connection records, and the others (segments) in order.
fn split(records: &[(usize, Value)]) -> (Records<'_>, Records<'_>) {
    records.iter().partition(|(_, r)| r["type"] == "connection")
}

/// `frame 7` or `conn 0`, with the capture when records carry one.
fn name(record: &Value) -> String {
    let what = match record["type"].as_str() {
        Some("segment") => format!("frame {}", record["frame"]),
        Some("connection") => format!("conn {}", record["conn"]),
        _ => format!("record {record}"),
    };
    match record["capture"].as_str() {
        Some(capture) => format!("{capture}: {what}"),
        None => what,
    }
}

/// Writes the record's client port, ephemeral and so new on every capture, as `*`.
fn mask(record: &mut Value) {
    let client_fields: &[&str] = match (record["type"].as_str(), record["dir"].as_str()) {
        (Some("segment"), Some("c2s")) => &["src"],
        (Some("segment"), Some("s2c")) => &["dst"],
        (Some("connection"), _) => &["client"],
        _ => &[],
    };
    for field in client_fields {
        if let Some(end) = record.get_mut(*field)
            && let Some((addr, _port)) = end.as_str().and_then(|e| e.rsplit_once(':'))
        {
            *end = Value::String(format!("{addr}:*"));
        }
    }
}

fn record(line: usize, want: &Value, got: &Value, how: &Compared, diffs: &mut Vec<String>) {
    let (Some(w), Some(g)) = (want.as_object(), got.as_object()) else {
        diffs.push(format!("line {line}: expected {want}, found {got}"));
        return;
    };
    if name(want) != name(got) {
        diffs.push(format!(
            "line {line}: expected {}, found {}",
            name(want),
            name(got)
        ));
        return;
    }
    // Segments sent the other way: their ends are swapped too, which says nothing more.
    let turned = !how.strict && w.get("dir") != g.get("dir");
    for key in w.keys() {
        let (a, b) = (w.get(key), g.get(key));
        if how.ignore.iter().any(|i| i == key)
            || (!how.strict && RANDOM_FIELDS.contains(&key.as_str()))
            || (turned && matches!(key.as_str(), "src" | "dst"))
        {
            continue;
        }
        if TIME_FIELDS.contains(&key.as_str()) {
            let tol = match (how.tolerance, how.strict) {
                (Some(tol), _) => tol,
                (None, true) => 0.0,
                (None, false) => continue,
            };
            let close = match (a.and_then(Value::as_f64), b.and_then(Value::as_f64)) {
                (Some(x), Some(y)) => (x - y).abs() <= tol,
                _ => a == b,
            };
            if !close {
                diffs.push(format!(
                    "{}: {key} is {}, expected {} (within {tol} s)",
                    name(want),
                    show(b),
                    show(a)
                ));
            }
        } else if !match (a, b) {
            (Some(a), Some(b)) => equal(key, a, b, how),
            _ => a == b,
        } {
            diffs.push(format!(
                "{}: {key} is {}, expected {}",
                name(want),
                show(b),
                show(a)
            ));
        }
    }
}

/// Whether two values are equal, times inside them (the timeline's) compared as the
/// record's own times are: within the tolerance, or not at all unless strict.
fn equal(key: &str, a: &Value, b: &Value, how: &Compared) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| equal(k, v, w, how)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| equal(key, v, w, how))
        }
        _ if TIME_FIELDS.contains(&key) => match (how.tolerance, how.strict) {
            (None, false) => true,
            (tolerance, _) => match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => (x - y).abs() <= tolerance.unwrap_or(0.0),
                _ => a == b,
            },
        },
        _ => a == b,
    }
}

fn show(v: Option<&Value>) -> String {
    v.map_or_else(|| "absent".to_string(), Value::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEG: &str = r#"{"type":"segment","frame":7,"time":0.5,"role":"ack","step":null}"#;

    fn within(tolerance: f64) -> Compared {
        Compared {
            tolerance: Some(tolerance),
            ..Compared::default()
        }
    }

    const STRICT: Compared = Compared {
        tolerance: None,
        strict: true,
        ignore: Vec::new(),
    };

    #[test]
    fn times_inside_the_timeline_are_compared_as_the_record_s_times() {
        let conn = |t: f64, state: &str| {
            format!(
                r#"{{"type":"connection","conn":0,"timeline":{{"client":[{{"state":"{state}","frame":1,"time":{t}}}],"server":[]}}}}"#
            )
        };
        let loose = Compared::default();
        assert!(compare(&conn(0.5, "SYN_SENT"), &conn(0.9, "SYN_SENT"), &loose).is_empty());
        let diffs = compare(&conn(0.5, "SYN_SENT"), &conn(0.5, "CLOSED"), &loose);
        assert_eq!(diffs.len(), 1, "{diffs:?}");
        assert!(diffs[0].starts_with("conn 0: timeline is"), "{diffs:?}");
        let within = |tol| Compared {
            tolerance: Some(tol),
            ..Compared::default()
        };
        assert!(
            compare(
                &conn(0.5, "SYN_SENT"),
                &conn(0.55, "SYN_SENT"),
                &within(0.1)
            )
            .is_empty()
        );
        assert_eq!(
            compare(&conn(0.5, "SYN_SENT"), &conn(0.9, "SYN_SENT"), &within(0.1)).len(),
            1
        );
        let strict = Compared {
            strict: true,
            ..Compared::default()
        };
        assert_eq!(
            compare(&conn(0.5, "SYN_SENT"), &conn(0.9, "SYN_SENT"), &strict).len(),
            1
        );
    }

    #[test]
    fn equal_annotations_have_no_differences_whatever_the_times() {
        let later = SEG.replace("0.5", "0.9");
        assert!(compare(SEG, &later, &Compared::default()).is_empty());
        assert!(compare(SEG, &later, &within(0.5)).is_empty());
        assert_eq!(
            compare(SEG, &later, &within(0.1)),
            ["frame 7: time is 0.9, expected 0.5 (within 0.1 s)"]
        );
        assert_eq!(
            compare(SEG, &later, &STRICT),
            ["frame 7: time is 0.9, expected 0.5 (within 0 s)"]
        );
    }

    #[test]
    fn a_recapture_differs_only_in_what_is_random_by_design() {
        let first = r#"{"type":"segment","frame":2,"dir":"s2c","src":"127.0.0.1:8080","dst":"127.0.0.1:50186","seq":0,"abs_seq":3825414791,"abs_ack":2530228194,"ts":1795561953.38,"role":"syn-ack"}"#;
        let again = r#"{"type":"segment","frame":2,"dir":"s2c","src":"127.0.0.1:8080","dst":"127.0.0.1:41002","seq":0,"abs_seq":11,"abs_ack":12,"ts":1795562000.1,"role":"syn-ack"}"#;
        assert!(compare(first, again, &Compared::default()).is_empty());
        assert_eq!(compare(first, again, &STRICT).len(), 4);
        // The server's port is not random: a change there is a difference.
        let elsewhere = again.replace(":8080", ":8081");
        assert_eq!(
            compare(first, &elsewhere, &Compared::default()),
            ["frame 2: src is \"127.0.0.1:8081\", expected \"127.0.0.1:8080\""]
        );
        let conn = r#"{"type":"connection","conn":0,"client":"[::1]:50186","server":"[::1]:80","teardown":"four-way"}"#;
        let reset = conn.replace("50186", "40000").replace("four-way", "reset");
        assert_eq!(
            compare(conn, &reset, &Compared::default()),
            ["conn 0: teardown is \"reset\", expected \"four-way\""]
        );
        let ignored = Compared {
            ignore: vec!["teardown".to_string()],
            ..Compared::default()
        };
        assert!(compare(conn, &reset, &ignored).is_empty());
    }

    #[test]
    fn fields_the_expectation_lacks_are_not_compared_but_missing_ones_are() {
        let newer = SEG.replace("}", r#","retransmissions":0}"#);
        assert!(compare(SEG, &newer, &Compared::default()).is_empty());
        assert_eq!(
            compare(&newer, SEG, &Compared::default()),
            ["frame 7: retransmissions is absent, expected 0"]
        );
    }

    #[test]
    fn differences_name_the_record_and_the_field() {
        let other = SEG.replace("\"ack\"", "\"final-ack\"");
        assert_eq!(
            compare(SEG, &other, &Compared::default()),
            ["frame 7: role is \"final-ack\", expected \"ack\""]
        );
        let two = format!("{SEG}\n{}", SEG.replace("7", "8"));
        let diffs = compare(&two, SEG, &Compared::default());
        assert_eq!(
            diffs,
            ["2 segments expected, 1 found; first unmatched: frame 8"]
        );
    }
}
