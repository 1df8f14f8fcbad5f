//! `synfin check`: a CI gate on captured traffic. Each connection is judged against a
//! policy (rules from the command line or a TOML file); the verdicts say which rule failed,
//! why, and at which frames.

pub mod golden;
pub mod policy;
pub mod report;
mod why;

use std::collections::HashMap;
use std::fmt;
use std::io;

use crate::annotate::{Analysis, ConnectionRecord, Handshake, Record, Role, Side, Teardown};
use crate::output::words::{EN, Words, fill};
use crate::pipeline::Sink;

pub use policy::{Allowance, CountRange, Policy, PolicyError};
pub use why::Why;

/// A rule a connection (or the capture) failed, why, the frames that show it, and the
/// options that would allow it when a rule is there to be relaxed.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub rule: &'static str,
    pub why: Why,
    pub frames: Vec<u64>,
    /// Any one of these options allows it.
    pub allow: Vec<String>,
}

impl Failure {
    pub fn new(rule: &'static str, why: Why, frames: Vec<u64>) -> Failure {
        Failure {
            rule,
            why,
            frames,
            allow: Vec::new(),
        }
    }

    fn allowed_by(mut self, option: String) -> Failure {
        self.allow.push(option);
        self
    }

    /// The options that allow it, in English (`--allow reset`), as JSON carries them.
    pub fn allow_options(&self) -> Option<String> {
        (!self.allow.is_empty()).then(|| self.allow.join(EN.check.or))
    }

    /// `rule: why (frames …); allow with …`, in `w`'s words.
    pub fn text(&self, w: &Words) -> String {
        let c = &w.check;
        let mut text = format!("{}: {}", self.rule, self.why.text(w));
        match self.frames.as_slice() {
            [] => {}
            [one] => text.push_str(&fill(c.frame, &[("frame", one)])),
            many => {
                let list: Vec<String> = many.iter().map(u64::to_string).collect();
                text.push_str(&fill(c.frames, &[("list", &list.join(w.list_sep))]));
            }
        }
        if !self.allow.is_empty() {
            text.push_str(&fill(c.allow, &[("options", &self.allow.join(c.or))]));
        }
        text
    }
}

/// In English, as JUnit reports carry it.
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text(&EN))
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
    rst: Option<(u64, Side)>,
    /// The first FIN: the frame where a close begins.
    fin: Option<u64>,
    retransmissions: Vec<u64>,
    retransmission_count: u64,
    /// Per direction: the number of its SYN, and whether it sent a SYN-ACK yet.
    syn: [Option<u32>; 2],
    syn_ack: [bool; 2],
    /// Per side (client, server): since when (time, frame) it has been in CLOSE_WAIT.
    close_wait: [Option<(f64, u64)>; 2],
    /// The longest stay in CLOSE_WAIT so far.
    longest_close_wait: Option<CloseWait>,
    last_time: f64,
}

/// An endpoint's stay in CLOSE_WAIT: who, how long, from which frame to which.
#[derive(Clone, Copy)]
struct CloseWait {
    side: Side,
    secs: f64,
    from: u64,
    to: u64,
}

impl Evidence {
    /// Follows both ends in and out of CLOSE_WAIT after a segment.
    fn close_wait(&mut self, s: &crate::annotate::SegmentRecord) {
        use crate::track::State;
        let states = [
            (Side::Client, s.client_state.0),
            (Side::Server, s.server_state.0),
        ];
        for (i, (side, state)) in states.into_iter().enumerate() {
            let Some(since) = self.close_wait.get_mut(i) else {
                continue;
            };
            match (*since, state == State::CloseWait) {
                (None, true) => *since = Some((s.time, s.frame)),
                (Some((from_time, from)), false) => {
                    *since = None;
                    self.stayed(side, s.time - from_time, from, s.frame);
                }
                _ => {}
            }
        }
        self.last_time = s.time;
    }

    fn stayed(&mut self, side: Side, secs: f64, from: u64, to: u64) {
        if self.longest_close_wait.is_none_or(|l| secs > l.secs) {
            self.longest_close_wait = Some(CloseWait {
                side,
                secs,
                from,
                to,
            });
        }
    }

    /// The longest stay, counting one still going at the connection's last segment.
    fn longest_close_wait(&mut self, last_frame: u64) -> Option<CloseWait> {
        let sides = [Side::Client, Side::Server];
        for (side, since) in sides.into_iter().zip(self.close_wait) {
            if let Some((from_time, from)) = since {
                self.stayed(side, self.last_time - from_time, from, last_frame);
            }
        }
        self.longest_close_wait
    }
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
        let range = self.policy.expected_conns();
        let n = self.verdict.connections.len() as u64;
        if !range.contains(n) {
            let why = Why::Conns {
                range,
                ports: self.policy.port.clone(),
                found: n,
            };
            let mut failure = Failure::new("expect-conns", why, Vec::new());
            if n == 0 && self.policy.expect_conns.is_none() {
                failure = failure.allowed_by("--allow empty".to_string());
            }
            self.verdict.capture_failures.push(failure);
        }
        self.verdict
    }

    fn checked(&self, c: &ConnectionRecord) -> bool {
        self.policy.port.is_empty() || self.policy.port.contains(&c.server.0.port())
    }

    fn judge(&self, c: &ConnectionRecord, ev: &mut Evidence) -> Vec<Failure> {
        let mut failures = Vec::new();
        self.opening_and_closing(c, ev, &mut failures);
        self.limits(c, ev, &mut failures);
        failures
    }

    /// The handshake, how the connection ended, and who ended it.
    fn opening_and_closing(&self, c: &ConnectionRecord, ev: &Evidence, out: &mut Vec<Failure>) {
        let p = self.policy;
        // The handshake: complete, or not seen at all when a capture may start midway.
        let handshake_ok = c.handshake == Handshake::Complete
            || (c.handshake == Handshake::NotSeen && p.allows(Allowance::Midstream));
        if !handshake_ok {
            let failure = Failure::new(
                "handshake",
                Why::Handshake(c.handshake),
                vec![c.first_frame],
            );
            out.push(match c.handshake {
                Handshake::NotSeen => failure.allowed_by(allow(Allowance::Midstream)),
                Handshake::Refused => Failure {
                    why: Why::Refused {
                        port: c.server.0.port(),
                    },
                    ..failure
                },
                _ => failure,
            });
        }
        // Where a close begins: the first FIN (or the RST), not the last segment.
        let close_frame = ev
            .fin
            .or(ev.rst.map(|(frame, _)| frame))
            .unwrap_or(c.last_frame);
        match c.teardown {
            // A refused opening is the handshake's failure, not a second one.
            Teardown::Reset if c.handshake == Handshake::Refused => {}
            Teardown::Reset if !p.allows(Allowance::Reset) => {
                let (frame, by) = match ev.rst {
                    Some((frame, from)) => (frame, Some(from)),
                    None => (c.last_frame, c.closed_by),
                };
                let why = Why::Reset {
                    by,
                    cause: c.reset_cause,
                };
                out.push(
                    Failure::new("no-reset", why, vec![frame]).allowed_by(allow(Allowance::Reset)),
                );
            }
            Teardown::Reset => {}
            Teardown::Open if !p.allows(Allowance::Open) => out.push(
                Failure::new("closed", Why::StillOpen, vec![c.last_frame])
                    .allowed_by(allow(Allowance::Open)),
            ),
            Teardown::Open => {}
            kind if !p.teardown_allowed(kind) => {
                let mut kinds = p.teardown_names();
                kinds.push(kind.name());
                out.push(
                    Failure::new(
                        "teardown",
                        Why::Teardown {
                            kind,
                            allowed: p.teardown_names(),
                        },
                        vec![close_frame],
                    )
                    .allowed_by(format!("--teardown {}", kinds.join(","))),
                );
            }
            _ => {}
        }
        if let Some(want) = p.closed_by
            && c.closed_by != Some(want)
            && c.teardown != Teardown::Open
        {
            out.push(Failure::new(
                "closed-by",
                Why::ClosedBy {
                    by: c.closed_by,
                    want,
                },
                vec![close_frame],
            ));
        }
    }

    /// Counts and times: retransmissions, handshake RTT, CLOSE_WAIT, duration.
    fn limits(&self, c: &ConnectionRecord, ev: &mut Evidence, out: &mut Vec<Failure>) {
        let p = self.policy;
        let max = p.max_retransmissions();
        let count = ev.retransmission_count;
        if count > max {
            out.push(
                Failure::new(
                    "retransmissions",
                    Why::Retransmissions { count, max },
                    ev.retransmissions.clone(),
                )
                .allowed_by(format!("--max-retransmissions {count}"))
                .allowed_by(allow(Allowance::Retransmission)),
            );
        }
        if let (Some(limit), Some(rtt)) = (p.max_rtt_ms, c.handshake_rtt)
            && rtt * 1e3 > limit
        {
            out.push(Failure::new(
                "max-rtt",
                Why::Rtt {
                    ms: rtt * 1e3,
                    limit,
                },
                vec![c.first_frame],
            ));
        }
        if let Some(limit) = p.max_close_wait_ms
            && let Some(stay) = ev.longest_close_wait(c.last_frame)
            && stay.secs * 1e3 > limit
        {
            out.push(Failure::new(
                "max-close-wait",
                Why::CloseWait {
                    side: stay.side,
                    ms: stay.secs * 1e3,
                    limit,
                },
                vec![stay.from, stay.to],
            ));
        }
        if let Some(limit) = p.max_duration_ms
            && c.duration * 1e3 > limit
        {
            out.push(Failure::new(
                "max-duration",
                Why::Duration {
                    ms: c.duration * 1e3,
                    limit,
                },
                vec![c.first_frame, c.last_frame],
            ));
        }
    }
}

fn allow(a: Allowance) -> String {
    format!("--allow {}", a.name())
}

impl Sink for Judge<'_> {
    fn wants_segments(&self) -> bool {
        true
    }

    fn record(&mut self, record: &mut Record) -> io::Result<()> {
        match record {
            Record::Segment(s) => {
                let ev = self.evidence.entry(s.conn).or_default();
                if ev.rst.is_none() && matches!(s.role, Role::Rst | Role::RstAck) {
                    ev.rst = Some((s.frame, Side::sending(s.dir.0)));
                }
                if ev.fin.is_none() && s.flags.0.fin() {
                    ev.fin = Some(s.frame);
                }
                ev.close_wait(s);
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
                let mut ev = self.evidence.remove(&c.conn).unwrap_or_default();
                if self.checked(c) {
                    let failures = self.judge(c, &mut ev);
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
