//! The verdicts as people and CI systems read them: one line per failure, JUnit XML (one
//! test case per connection), JSON lines.

use std::fmt::{Display, Write as _};

use super::{CaptureVerdict, Verdict};
use crate::output::words::{EN, Words, fill};

/// `conn 3 127.0.0.1:50186 → 127.0.0.1:8080`, in `w`'s words.
pub fn connection_name(v: &Verdict, w: &Words) -> String {
    let c = &v.conn;
    let values = [
        ("conn", &c.conn as &dyn Display),
        ("client", &c.client.0),
        ("server", &c.server.0),
    ];
    fill(w.check.connection, &values)
}

/// One line per failed rule, naming capture, connection, rule, why and frames, in `w`'s
/// words.
pub fn failure_lines(capture: &str, verdict: &CaptureVerdict, w: &Words) -> Vec<String> {
    let mut lines = Vec::new();
    for v in &verdict.connections {
        for f in &v.failures {
            lines.push(format!(
                "{capture}: {}: {}",
                connection_name(v, w),
                f.text(w)
            ));
        }
    }
    for f in &verdict.capture_failures {
        lines.push(format!("{capture}: {}", f.text(w)));
    }
    if let Some(skipped) = &verdict.skipped {
        lines.push(format!("{capture}: {skipped}"));
    }
    lines
}

use crate::xml::escape as xml;

/// `<failure>` elements, one per failed rule.
fn failures(out: &mut String, failures: &[super::Failure]) {
    for f in failures {
        let _ = writeln!(
            out,
            "      <failure type=\"{}\" message=\"{}\">{}</failure>",
            f.rule,
            xml(&f.to_string()),
            xml(&f.to_string())
        );
    }
}

/// JUnit XML: a test suite per capture, a test case per connection, and one for the
/// capture's own expectations (the connection count).
pub fn junit(results: &[(String, CaptureVerdict)]) -> String {
    let tests: usize = results.iter().map(|(_, v)| v.connections.len() + 1).sum();
    let failed: usize = results
        .iter()
        .map(|(_, v)| v.failed() + usize::from(!v.capture_failures.is_empty()))
        .sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"synfin check\" tests=\"{tests}\" failures=\"{failed}\">"
    );
    for (capture, v) in results {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\">",
            xml(capture),
            v.connections.len() + 1,
            v.failed() + usize::from(!v.capture_failures.is_empty())
        );
        for c in &v.connections {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\"",
                xml(capture),
                xml(&connection_name(c, &EN))
            );
            if c.failures.is_empty() {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            failures(&mut out, &c.failures);
            out.push_str("    </testcase>\n");
        }
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"connections\"",
            xml(capture)
        );
        if v.capture_failures.is_empty() {
            out.push_str("/>\n");
        } else {
            out.push_str(">\n");
            failures(&mut out, &v.capture_failures);
            out.push_str("    </testcase>\n");
        }
        if let Some(skipped) = &v.skipped {
            let _ = writeln!(out, "    <system-err>{}</system-err>", xml(skipped));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// One JSON line per connection verdict and per capture expectation.
pub fn json_lines(capture: &str, verdict: &CaptureVerdict) -> Vec<String> {
    let failure = |f: &super::Failure| serde_json::json!({"rule": f.rule, "why": f.why.to_string(), "frames": f.frames, "allow": f.allow_options()});
    let mut lines = Vec::new();
    for v in &verdict.connections {
        lines.push(
            serde_json::json!({
                "type": "verdict",
                "capture": capture,
                "conn": v.conn.conn,
                "client": v.conn.client.0.to_string(),
                "server": v.conn.server.0.to_string(),
                "passed": v.passed(),
                "failures": v.failures.iter().map(failure).collect::<Vec<_>>(),
            })
            .to_string(),
        );
    }
    lines.push(
        serde_json::json!({
            "type": "capture",
            "capture": capture,
            "connections": verdict.connections.len(),
            "failed": verdict.failed(),
            "passed": verdict.passed(),
            "failures": verdict.capture_failures.iter().map(failure).collect::<Vec<_>>(),
            "skipped": verdict.skipped,
        })
        .to_string(),
    );
    lines
}
