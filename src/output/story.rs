//! What every format for people says of a connection in words: the heading over its table
//! or diagram, and the sentence of how it opened and closed.

use std::fmt;

use crate::annotate::{ConnectionRecord, Handshake, Side};
use crate::decode::Addr;

/// "Connection 3: client 127.0.0.1:50186 → server 127.0.0.1:40110", and which part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heading {
    pub conn: u64,
    /// Client and server, where known.
    pub ends: Option<(Addr, Addr)>,
    /// A part of the connection was shown before this one.
    pub continued: bool,
    pub part: Part,
}

/// Which part of a connection a table or diagram shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Up to the connection's end.
    Finished,
    /// A long connection's segments so far, shown before its end to bound memory.
    Open,
    /// Segments that came after the connection was reported.
    Late,
}

impl fmt::Display for Heading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Connection {}", self.conn)?;
        if let Some((client, server)) = self.ends {
            write!(f, ": client {client} → server {server}")?;
        }
        if self.continued {
            f.write_str(", continued")?;
        }
        f.write_str(match self.part {
            Part::Finished => "",
            Part::Open => " (open)",
            Part::Late => ", after it was reported",
        })
    }
}

/// Who closed, as the story says it.
pub fn closer(c: &ConnectionRecord) -> &'static str {
    match c.closed_by {
        Some(Side::Client) => "client",
        Some(Side::Server) => "server",
        None => "-",
    }
}

/// Zeek's view in one cell: `SF ShADafF`, empty when Zeek has none.
pub fn zeek(c: &ConnectionRecord) -> String {
    match (&c.conn_state, &c.history) {
        (Some(state), Some(history)) => format!("{state} {history}"),
        _ => String::new(),
    }
}

/// One sentence under a connection's table or diagram.
pub fn story_line(c: &ConnectionRecord) -> String {
    let handshake = match (c.handshake, c.handshake_rtt) {
        (Handshake::Complete, Some(rtt)) => format!("handshake complete (RTT {:.3} ms)", rtt * 1e3),
        (h, _) => format!("handshake {}", h.name()),
    };
    let teardown = match c.closed_by {
        Some(_) => format!("teardown {}, closed by {}", c.teardown.name(), closer(c)),
        None => format!("teardown {}", c.teardown.name()),
    };
    format!(
        "  {handshake}; {teardown}; final states: client {}, server {}",
        c.client_state.0.name(),
        c.server_state.0.name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heading_names_the_connection_its_ends_and_its_part() {
        let ends = Some((
            "127.0.0.1:50186".parse().expect("address"),
            "127.0.0.1:40110".parse().expect("address"),
        ));
        let heading = |ends, continued, part| Heading {
            conn: 3,
            ends,
            continued,
            part,
        };
        let pair = "Connection 3: client 127.0.0.1:50186 → server 127.0.0.1:40110";
        let cases = [
            (heading(ends, false, Part::Finished), pair.to_string()),
            (
                heading(ends, true, Part::Finished),
                format!("{pair}, continued"),
            ),
            (heading(ends, false, Part::Open), format!("{pair} (open)")),
            (
                heading(ends, true, Part::Open),
                format!("{pair}, continued (open)"),
            ),
            (
                heading(ends, true, Part::Late),
                format!("{pair}, continued, after it was reported"),
            ),
            (
                heading(None, false, Part::Late),
                "Connection 3, after it was reported".to_string(),
            ),
        ];
        for (heading, want) in cases {
            assert_eq!(heading.to_string(), want);
        }
    }
}
