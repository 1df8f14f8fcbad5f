//! Why a rule failed, as values: said in the user's language on the failure line, and in
//! English (the JSON's and JUnit's) everywhere else.

use std::fmt::{self, Display};

use super::policy::CountRange;
use crate::annotate::{Handshake, ResetCause, Side, Teardown};
use crate::output::words::{Checks, EN, Words, fill, one_or_many};

/// What a failed rule found.
#[derive(Clone, Debug, PartialEq)]
pub enum Why {
    /// A connection count outside the expected range, counting those to `ports` (all when
    /// empty).
    Conns {
        range: CountRange,
        ports: Vec<u16>,
        found: u64,
    },
    Handshake(Handshake),
    /// The SYN answered by a RST: nothing listened on `port`.
    Refused {
        port: u16,
    },
    Reset {
        by: Option<Side>,
        cause: Option<ResetCause>,
    },
    StillOpen,
    /// A teardown of `kind` where only `allowed` ones are.
    Teardown {
        kind: Teardown,
        allowed: Vec<&'static str>,
    },
    ClosedBy {
        by: Option<Side>,
        want: Side,
    },
    Retransmissions {
        count: u64,
        max: u64,
    },
    Rtt {
        ms: f64,
        limit: f64,
    },
    CloseWait {
        side: Side,
        ms: f64,
        limit: f64,
    },
    Duration {
        ms: f64,
        limit: f64,
    },
    /// The command `check -- CMD` ran failed, `how` (its exit status or signal).
    Command {
        command: String,
        how: String,
    },
}

impl Why {
    /// The reason in `w`'s words.
    pub fn text(&self, w: &Words) -> String {
        let c = &w.check;
        let side = |s: Option<Side>| {
            let [client, server, neither] = c.sides;
            match s {
                Some(Side::Client) => client,
                Some(Side::Server) => server,
                None => neither,
            }
        };
        let ms = |v: f64| format!("{v:.3}");
        match self {
            Why::Conns {
                range,
                ports,
                found,
            } => {
                let to = match ports.as_slice() {
                    [] => String::new(),
                    ports => {
                        let list: Vec<String> = ports.iter().map(u16::to_string).collect();
                        fill(c.to_port, &[("ports", &list.join(c.or))])
                    }
                };
                let range = range_text(*range, c);
                let values = [("range", &range as &dyn Display), ("to", &to), ("n", found)];
                fill(c.conns, &values)
            }
            Why::Handshake(h) => fill(c.handshake, &[("kind", &w.drawn.handshakes.of(*h))]),
            Why::Refused { port } => fill(c.refused, &[("port", port)]),
            Why::Reset { by, cause: None } => fill(c.reset, &[("side", &side(*by))]),
            Why::Reset {
                by,
                cause: Some(cause),
            } => fill(
                c.reset_cause,
                &[("side", &side(*by)), ("cause", &w.drawn.cause(*cause))],
            ),
            Why::StillOpen => c.still_open.to_string(),
            Why::Teardown { kind, allowed } => fill(
                c.teardown,
                &[
                    ("kind", &kind.name() as &dyn Display),
                    ("kinds", &allowed.join(c.or)),
                ],
            ),
            Why::ClosedBy { by, want } => fill(
                c.closed_by,
                &[("side", &side(*by)), ("want", &side(Some(*want)))],
            ),
            Why::Retransmissions { count, max } => fill(
                one_or_many(&c.retransmissions, *count),
                &[("count", count), ("max", max)],
            ),
            Why::Rtt { ms: v, limit } => {
                fill(c.rtt, &[("ms", &ms(*v) as &dyn Display), ("limit", limit)])
            }
            Why::CloseWait {
                side: s,
                ms: v,
                limit,
            } => fill(
                c.close_wait,
                &[
                    ("side", &side(Some(*s)) as &dyn Display),
                    ("ms", &ms(*v)),
                    ("limit", limit),
                ],
            ),
            Why::Duration { ms: v, limit } => fill(
                c.duration,
                &[("ms", &ms(*v) as &dyn Display), ("limit", limit)],
            ),
            Why::Command { command, how } => fill(c.command, &[("command", command), ("how", how)]),
        }
    }
}

/// `3`, `2 to 5`, `at least 1`.
fn range_text(range: CountRange, c: &Checks) -> String {
    let [exact, between, open] = c.range;
    match range.max {
        Some(max) if max == range.min => fill(exact, &[("n", &max)]),
        Some(max) => fill(between, &[("min", &range.min), ("max", &max)]),
        None => fill(open, &[("min", &range.min)]),
    }
}

/// In English, as JSON verdicts and JUnit reports carry it.
impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text(&EN))
    }
}
