//! The whole pipeline, from bytes to JSON lines, tables and diagrams, with tight limits so that
//! eviction paths run too, and every connection that has sent only its SYN held as that SYN.
#![no_main]

use libfuzzer_sys::fuzz_target;
use synfin::annotate::Limits;
use synfin::capture::CaptureReader;
use synfin::output::{Format, Printer, Source};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        idle_timeout_ns: Some(1_000_000_000),
        max_conns: 4,
        whole_up_to: 0,
    };
    for format in [Format::Jsonl, Format::Table, Format::Ladder, Format::Mermaid] {
        let Ok(reader) = CaptureReader::new(Box::new(std::io::Cursor::new(data.to_vec()))) else {
            return;
        };
        let mut printer = Printer::new(format, Vec::new());
        let _ = printer.begin(&Source::default());
        let outcome = synfin::pipeline::run(reader, limits, &mut printer).expect("writing to memory");
        let _ = printer.end();
        let out = String::from_utf8(printer.into_inner()).expect("UTF-8 output");
        if format == Format::Jsonl {
            let mut segments = 0;
            for line in out.lines() {
                assert!(line.starts_with("{\"type\":"), "{line}");
                segments += usize::from(line.starts_with("{\"type\":\"segment\""));
            }
            assert_eq!(segments as u64, outcome.segments, "every segment is reported once");
        }
    }
});
