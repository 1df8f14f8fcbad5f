//! synfin: the story of every TCP connection in a capture.
//!
//! Layers follow the TCP/IP model, data flowing one way:
//! `capture` → `decode` → `track` → `annotate` → `output`.
#![forbid(unsafe_code)]

pub mod annotate;
pub mod capture;
pub mod decode;
pub mod output;
pub mod pipeline;
pub mod track;
