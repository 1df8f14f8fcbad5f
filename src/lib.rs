//! synfin: the story of every TCP connection in a capture.
//!
//! Layers follow the TCP/IP model, data flowing one way:
//! `capture` → `decode` → `track` → `annotate` → `output`.
//!
//! ```
//! use synfin::capture::CaptureReader;
//! use synfin::output::{Format, Printer};
//!
//! let file = std::fs::File::open("fixtures/classic.pcap")?;
//! let mut printer = Printer::new(Format::Jsonl, Vec::new());
//! let outcome = synfin::pipeline::run(CaptureReader::new(Box::new(file))?, Default::default(), &mut printer)?;
//! let json = String::from_utf8(printer.into_inner())?;
//! assert_eq!(outcome.segments, 9);
//! assert!(json.lines().last().unwrap_or_default().contains(r#""teardown":"four-way""#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod annotate;
pub mod capture;
pub mod check;
pub mod decode;
pub mod output;
pub mod pipeline;
pub mod track;
pub mod xml;
