//! Golden mode: the annotation of a capture (its JSON lines) against a stored expectation.
//! Times are left out of the comparison, or compared within a tolerance; everything else
//! (frames, roles, steps, numbers, states, connection records) must be equal. A field the
//! expectation does not have is not compared: fields are only ever added (SPEC.md), so an
//! expectation written by an earlier synfin stays valid.

use serde_json::Value;

/// Fields that hold times, in seconds.
const TIME_FIELDS: [&str; 4] = ["time", "start", "duration", "handshake_rtt"];
/// Differences reported at most; the rest are counted.
const MAX_SHOWN: usize = 10;

/// What differs, in words, the first few; empty when the annotation is as expected.
pub fn compare(expected: &str, actual: &str, tolerance: Option<f64>) -> Vec<String> {
    let parse = |text: &str| -> Vec<Result<Value, String>> {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(|e| e.to_string()))
            .collect()
    };
    let (want, got) = (parse(expected), parse(actual));
    let mut diffs = Vec::new();
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        let line = i + 1;
        match (w, g) {
            (Err(e), _) => diffs.push(format!("expected line {line} is not JSON: {e}")),
            (_, Err(e)) => diffs.push(format!("line {line} is not JSON: {e}")),
            (Ok(w), Ok(g)) => record(line, w, g, tolerance, &mut diffs),
        }
    }
    if want.len() != got.len() {
        diffs.push(format!(
            "{} records expected, {} found{}",
            want.len(),
            got.len(),
            match got.get(want.len()).or(want.get(got.len())) {
                Some(Ok(first)) => format!("; first unmatched: {}", name(first)),
                _ => String::new(),
            }
        ));
    }
    let n = diffs.len();
    if n > MAX_SHOWN {
        diffs.truncate(MAX_SHOWN);
        diffs.push(format!("… and {} more differences", n - MAX_SHOWN));
    }
    diffs
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

fn record(line: usize, want: &Value, got: &Value, tolerance: Option<f64>, diffs: &mut Vec<String>) {
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
    for key in w.keys() {
        let (a, b) = (w.get(key), g.get(key));
        if TIME_FIELDS.contains(&key.as_str()) {
            let Some(tol) = tolerance else { continue };
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
        } else if a != b {
            diffs.push(format!(
                "{}: {key} is {}, expected {}",
                name(want),
                show(b),
                show(a)
            ));
        }
    }
}

fn show(v: Option<&Value>) -> String {
    v.map_or_else(|| "absent".to_string(), Value::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEG: &str = r#"{"type":"segment","frame":7,"time":0.5,"role":"ack","step":null}"#;

    #[test]
    fn equal_annotations_have_no_differences_whatever_the_times() {
        let later = SEG.replace("0.5", "0.9");
        assert!(compare(SEG, &later, None).is_empty());
        assert!(compare(SEG, &later, Some(0.5)).is_empty());
        assert_eq!(
            compare(SEG, &later, Some(0.1)),
            ["frame 7: time is 0.9, expected 0.5 (within 0.1 s)"]
        );
    }

    #[test]
    fn fields_the_expectation_lacks_are_not_compared_but_missing_ones_are() {
        let newer = SEG.replace("}", r#","retransmissions":0}"#);
        assert!(compare(SEG, &newer, None).is_empty());
        assert_eq!(
            compare(&newer, SEG, None),
            ["frame 7: retransmissions is absent, expected 0"]
        );
    }

    #[test]
    fn differences_name_the_record_and_the_field() {
        let other = SEG.replace("\"ack\"", "\"final-ack\"");
        assert_eq!(
            compare(SEG, &other, None),
            ["frame 7: role is \"final-ack\", expected \"ack\""]
        );
        let two = format!("{SEG}\n{}", SEG.replace("7", "8"));
        let diffs = compare(&two, SEG, None);
        assert_eq!(
            diffs,
            ["2 records expected, 1 found; first unmatched: frame 8"]
        );
    }
}
