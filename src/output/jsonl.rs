use std::io::{self, Write};

use serde::Serialize;

use crate::annotate::Record;

/// SPEC.md's JSON lines: one record per line, `"capture"` added when several captures run.
pub struct JsonlPrinter<W: Write> {
    out: W,
    capture: Option<String>,
}

#[derive(Serialize)]
struct Labelled<'a> {
    #[serde(flatten)]
    record: &'a Record,
    capture: &'a str,
}

impl<W: Write> JsonlPrinter<W> {
    pub fn new(out: W) -> Self {
        JsonlPrinter { out, capture: None }
    }

    pub fn begin(&mut self, label: Option<&str>) {
        self.capture = label.map(str::to_string);
    }

    pub fn record(&mut self, record: &Record) -> io::Result<()> {
        match &self.capture {
            Some(capture) => serde_json::to_writer(&mut self.out, &Labelled { record, capture })?,
            None => serde_json::to_writer(&mut self.out, record)?,
        }
        self.out.write_all(b"\n")
    }

    pub fn end(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}
