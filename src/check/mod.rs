//! `synfin check`: a CI gate on captured traffic. Each connection is judged against a
//! policy (rules from the command line or a TOML file); the verdicts say which rule failed,
//! why, and at which frames.

pub mod golden;
pub mod policy;
pub mod report;

use std::collections::HashMap;
use std::fmt;
use std::io;

use crate::annotate::{Analysis, ConnectionRecord, Handshake, Record, Role, Side, Teardown};
use crate::pipeline::Sink;

pub use policy::{Allowance, CountRange, Policy, PolicyError};

/// A rule a connection (or the capture) failed, why, and the frames that show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub rule: &'static str,
    pub why: String,
    pub frames: Vec<u64>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rule, self.why)?;
        match self.frames.as_slice() {
            [] => Ok(()),
            [one] => write!(f, " (frame {one})"),
            many => {
                let list: Vec<String> = many.iter().map(u64::to_string).collect();
                write!(f, " (frames {})", list.join(", "))
            }
        }
    }
}

/// The verdict on one connection.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub conn: ConnectionRecord,
    pub failures: Vec<Failure>,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The verdicts on one capture, and what failed of the capture as a whole.
#[derive(Clone, Debug, Default)]
pub struct CaptureVerdict {
    pub connections: Vec<Verdict>,
    pub capture_failures: Vec<Failure>,
    /// The frames that could not be decoded, by reason (`skipped 2 of 9 frames: …`): not a
    /// failure, but a gate should say that it judged less than the capture held.
    pub skipped: Option<String>,
}

impl CaptureVerdict {
    pub fn failed(&self) -> usize {
        self.connections.iter().filter(|v| !v.passed()).count()
    }
    pub fn passed(&self) -> bool {
        self.failed() == 0 && self.capture_failures.is_empty()
    }
}

/// Frames worth naming per connection, kept while its segments go by.
#[derive(Default)]
struct Evidence {
    rst: Option<(u64, &'static str)>,
    retransmissions: Vec<u64>,
    retransmission_count: u64,
    /// Per direction: the number of its SYN, and whether it sent a SYN-ACK yet.
    syn: [Option<u32>; 2],
    syn_ack: [bool; 2],
}

/// Frames of each rule's evidence named in a message, at most.
const MAX_FRAMES_NAMED: usize = 5;

/// Takes the records of one capture and judges each connection as it finishes.
pub struct Judge<'p> {
    policy: &'p Policy,
    evidence: HashMap<u64, Evidence>,
    verdict: CaptureVerdict,
}

impl<'p> Judge<'p> {
    pub fn new(policy: &'p Policy) -> Self {
        Judge {
            policy,
            evidence: HashMap::new(),
            verdict: CaptureVerdict::default(),
        }
    }

    /// The verdicts, once the capture has been read.
    pub fn finish(mut self) -> CaptureVerdict {
        if let Some(range) = self.policy.expect_conns {
            let n = self.verdict.connections.len() as u64;
            if !range.contains(n) {
                let to = match self.policy.port.as_slice() {
                    [] => String::new(),
                    ports => {
                        let list: Vec<String> = ports.iter().map(u16::to_string).collect();
                        format!(" to port {}", list.join(" or "))
                    }
                };
                self.verdict.capture_failures.push(Failure {
                    rule: "expect-conns",
                    why: format!("expected {range} connection(s){to}, found {n}"),
                    frames: Vec::new(),
                });
            }
        }
        self.verdict
    }

    fn checked(&self, c: &ConnectionRecord) -> bool {
        self.policy.port.is_empty() || self.policy.port.contains(&c.server.0.port())
    }

    fn judge(&self, c: &ConnectionRecord, ev: &Evidence) -> Vec<Failure> {
        let p = self.policy;
        let mut failures = Vec::new();
        let side = |s: Option<Side>| match s {
            Some(Side::Client) => "client",
            Some(Side::Server) => "server",
            None => "neither end",
        };
        // The handshake: complete, or not seen at all when a capture may start midway.
        let handshake_ok = c.handshake == Handshake::Complete
            || (c.handshake == Handshake::NotSeen && p.allows(Allowance::Midstream));
        if !handshake_ok {
            failures.push(Failure {
                rule: "handshake",
                why: format!("handshake {}, not complete", c.handshake.name()),
                frames: vec![c.first_frame],
            });
        }
        match c.teardown {
            Teardown::Reset if !p.allows(Allowance::Reset) => {
                let (frame, from) = ev.rst.unwrap_or((c.last_frame, side(c.closed_by)));
                failures.push(Failure {
                    rule: "no-reset",
                    why: format!("reset by the {from}"),
                    frames: vec![frame],
                });
            }
            Teardown::Reset => {}
            Teardown::Open if !p.allows(Allowance::Open) => failures.push(Failure {
                rule: "closed",
                why: "still open at the end of the capture (no FIN or RST)".to_string(),
                frames: vec![c.last_frame],
            }),
            Teardown::Open => {}
            kind => {
                if !p.teardown_allowed(kind) {
                    failures.push(Failure {
                        rule: "teardown",
                        why: format!(
                            "teardown {}, expected {}",
                            kind.name(),
                            p.teardown_names().join(" or ")
                        ),
                        frames: vec![c.last_frame],
                    });
                }
            }
        }
        if let Some(want) = p.closed_by
            && c.closed_by != Some(want)
            && c.teardown != Teardown::Open
        {
            failures.push(Failure {
                rule: "closed-by",
                why: format!(
                    "closed by the {}, expected the {}",
                    side(c.closed_by),
                    side(Some(want))
                ),
                frames: vec![c.last_frame],
            });
        }
        let max = p.max_retransmissions();
        if ev.retransmission_count > max {
            failures.push(Failure {
                rule: "retransmissions",
                why: format!(
                    "{} retransmission{}, at most {max} allowed",
                    ev.retransmission_count,
                    if ev.retransmission_count == 1 {
                        ""
                    } else {
                        "s"
                    }
                ),
                frames: ev.retransmissions.clone(),
            });
        }
        if let (Some(limit), Some(rtt)) = (p.max_rtt_ms, c.handshake_rtt)
            && rtt * 1e3 > limit
        {
            failures.push(Failure {
                rule: "max-rtt",
                why: format!("handshake RTT {:.3} ms, above {limit} ms", rtt * 1e3),
                frames: vec![c.first_frame],
            });
        }
        failures
    }
}

impl Sink for Judge<'_> {
    fn wants_segments(&self) -> bool {
        true
    }

    fn record(&mut self, record: &Record) -> io::Result<()> {
        match record {
            Record::Segment(s) => {
                let ev = self.evidence.entry(s.conn).or_default();
                if ev.rst.is_none() && matches!(s.role, Role::Rst | Role::RstAck) {
                    let from = match s.dir.0 {
                        crate::track::Dir::C2S => "client",
                        crate::track::Dir::S2C => "server",
                    };
                    ev.rst = Some((s.frame, from));
                }
                let d = s.dir.0.index();
                let syn = s.flags.0.syn();
                // In a simultaneous open (or a socket connected to itself) each end answers
                // its own SYN's number with a SYN-ACK, which Wireshark calls a
                // retransmission: it is the handshake, not a loss.
                let answers_own_syn = syn
                    && s.flags.0.ack()
                    && !ev.syn_ack.get(d).copied().unwrap_or(true)
                    && ev.syn.get(d).copied().flatten() == Some(s.abs_seq);
                if syn && let (Some(own), Some(acked)) = (ev.syn.get_mut(d), ev.syn_ack.get_mut(d))
                {
                    if s.flags.0.ack() {
                        *acked = true;
                    } else {
                        *own = Some(s.abs_seq);
                    }
                }
                let retransmitted = s.analysis.has(
                    Analysis::RETRANSMISSION
                        | Analysis::FAST_RETRANSMISSION
                        | Analysis::SPURIOUS_RETRANSMISSION,
                ) && !s.analysis.has(Analysis::DUPLICATE)
                    && !answers_own_syn;
                if retransmitted {
                    ev.retransmission_count += 1;
                    if ev.retransmissions.len() < MAX_FRAMES_NAMED {
                        ev.retransmissions.push(s.frame);
                    }
                }
            }
            Record::Connection(c) => {
                let ev = self.evidence.remove(&c.conn).unwrap_or_default();
                if self.checked(c) {
                    let failures = self.judge(c, &ev);
                    self.verdict.connections.push(Verdict {
                        conn: (**c).clone(),
                        failures,
                    });
                }
            }
        }
        Ok(())
    }
}
