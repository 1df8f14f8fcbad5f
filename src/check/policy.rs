//! What `synfin check` expects of every connection. The default is what most users want:
//! a complete handshake, an orderly close (four-way, three-way or simultaneous), no RST, no
//! retransmission, nothing left open. A TOML file (`--policy`) and the command line relax or
//! tighten it; the command line wins.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

use crate::annotate::{Side, Teardown};

/// Something the default policy forbids and a user may allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Allowance {
    /// Connections ended by a RST.
    Reset,
    /// Connections still open at the end of the capture (long-lived ones).
    Open,
    /// Connections whose handshake precedes the capture.
    Midstream,
    /// Any number of retransmissions.
    Retransmission,
    /// No connection at all (by default at least one is expected).
    Empty,
}

impl Allowance {
    pub fn name(self) -> &'static str {
        match self {
            Allowance::Reset => "reset",
            Allowance::Open => "open",
            Allowance::Midstream => "midstream",
            Allowance::Retransmission => "retransmission",
            Allowance::Empty => "empty",
        }
    }
}

impl FromStr for Allowance {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "reset" => Ok(Allowance::Reset),
            "open" => Ok(Allowance::Open),
            "midstream" => Ok(Allowance::Midstream),
            "retransmission" | "retransmissions" => Ok(Allowance::Retransmission),
            "empty" => Ok(Allowance::Empty),
            _ => Err("one of reset, open, midstream, retransmission, empty".to_string()),
        }
    }
}

/// A number of connections: exactly `3`, or a range `2..5` (both ends included), `2..`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountRange {
    pub min: u64,
    pub max: Option<u64>,
}

impl CountRange {
    pub fn contains(self, n: u64) -> bool {
        n >= self.min && self.max.is_none_or(|max| n <= max)
    }
}

impl FromStr for CountRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = |_| format!("'{s}' is not a count (3) or a range (2..5, 2..)");
        match s.split_once("..") {
            None => {
                let n = s.trim().parse().map_err(bad)?;
                Ok(CountRange {
                    min: n,
                    max: Some(n),
                })
            }
            Some((lo, hi)) => {
                let min = if lo.trim().is_empty() {
                    0
                } else {
                    lo.trim().parse().map_err(bad)?
                };
                let max = if hi.trim().is_empty() {
                    None
                } else {
                    Some(hi.trim().trim_start_matches('=').parse().map_err(bad)?)
                };
                if max.is_some_and(|max| max < min) {
                    return Err(format!("'{s}': the range ends before it starts"));
                }
                Ok(CountRange { min, max })
            }
        }
    }
}

impl<'de> Deserialize<'de> for CountRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Count(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Count(n) => Ok(CountRange {
                min: n,
                max: Some(n),
            }),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// The teardowns a policy may expect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TeardownKind {
    FourWay,
    ThreeWay,
    Simultaneous,
    HalfClosed,
}

impl TeardownKind {
    fn matches(self, t: Teardown) -> bool {
        matches!(
            (self, t),
            (TeardownKind::FourWay, Teardown::FourWay)
                | (TeardownKind::ThreeWay, Teardown::ThreeWay)
                | (TeardownKind::Simultaneous, Teardown::Simultaneous)
                | (TeardownKind::HalfClosed, Teardown::HalfClosed)
        )
    }
    fn name(self) -> &'static str {
        match self {
            TeardownKind::FourWay => "four-way",
            TeardownKind::ThreeWay => "three-way",
            TeardownKind::Simultaneous => "simultaneous",
            TeardownKind::HalfClosed => "half-closed",
        }
    }
}

impl FromStr for TeardownKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "four-way" => Ok(TeardownKind::FourWay),
            "three-way" => Ok(TeardownKind::ThreeWay),
            "simultaneous" => Ok(TeardownKind::Simultaneous),
            "half-closed" => Ok(TeardownKind::HalfClosed),
            _ => Err("one of four-way, three-way, simultaneous, half-closed".to_string()),
        }
    }
}

/// The closer a policy may expect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Closer {
    Client,
    Server,
}

fn closer<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Side>, D::Error> {
    Ok(Option::<Closer>::deserialize(d)?.map(|c| match c {
        Closer::Client => Side::Client,
        Closer::Server => Side::Server,
    }))
}

/// The rules, as a policy file spells them (every key optional).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Policy {
    #[serde(default)]
    pub allow: Vec<Allowance>,
    pub expect_conns: Option<CountRange>,
    /// Only connections to these server ports are checked.
    #[serde(default)]
    pub port: Vec<u16>,
    #[serde(default, deserialize_with = "closer")]
    pub closed_by: Option<Side>,
    /// Accepted orderly closes; empty: four-way, three-way or simultaneous.
    #[serde(default)]
    pub teardown: Vec<TeardownKind>,
    pub max_rtt_ms: Option<f64>,
    pub max_retransmissions: Option<u64>,
    /// Longest stay of an endpoint in CLOSE_WAIT.
    pub max_close_wait_ms: Option<f64>,
    pub max_duration_ms: Option<f64>,
}

/// A policy file that cannot be used: its path, and what is wrong (with the line).
#[derive(Debug)]
pub struct PolicyError(pub String);

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Policy {
    /// Reads a TOML policy file; unknown keys are an error naming the file, line and key.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| PolicyError(format!("{}: cannot read: {e}", path.display())))?;
        Policy::parse(&text).map_err(|e| PolicyError(format!("{}: {e}", path.display())))
    }

    /// Parses policy text; errors say the line and, for an unknown key, its name.
    pub fn parse(text: &str) -> Result<Policy, String> {
        toml::from_str(text).map_err(|e: toml::de::Error| {
            let line = e.span().map(|span| {
                text.get(..span.start)
                    .map_or(1, |t| t.matches('\n').count() + 1)
            });
            let message = e.message().trim().to_string();
            match line {
                Some(line) => format!("line {line}: {message}"),
                None => message,
            }
        })
    }

    /// Command-line rules on top of this policy: lists add up, single values replace.
    pub fn merge(mut self, other: Policy) -> Policy {
        self.allow.extend(other.allow);
        self.port.extend(other.port);
        self.teardown.extend(other.teardown);
        self.expect_conns = other.expect_conns.or(self.expect_conns);
        self.closed_by = other.closed_by.or(self.closed_by);
        self.max_rtt_ms = other.max_rtt_ms.or(self.max_rtt_ms);
        self.max_retransmissions = other.max_retransmissions.or(self.max_retransmissions);
        self.max_close_wait_ms = other.max_close_wait_ms.or(self.max_close_wait_ms);
        self.max_duration_ms = other.max_duration_ms.or(self.max_duration_ms);
        self
    }

    /// The number of connections expected: as set, else at least one (a gate over nothing
    /// is no gate), or any number with `allow = ["empty"]`.
    pub fn expected_conns(&self) -> CountRange {
        self.expect_conns.unwrap_or(CountRange {
            min: u64::from(!self.allows(Allowance::Empty)),
            max: None,
        })
    }

    pub fn allows(&self, a: Allowance) -> bool {
        self.allow.contains(&a)
    }

    pub fn max_retransmissions(&self) -> u64 {
        if self.allows(Allowance::Retransmission) {
            u64::MAX
        } else {
            self.max_retransmissions.unwrap_or(0)
        }
    }

    pub fn teardown_allowed(&self, t: Teardown) -> bool {
        if self.teardown.is_empty() {
            matches!(
                t,
                Teardown::FourWay | Teardown::ThreeWay | Teardown::Simultaneous
            )
        } else {
            self.teardown.iter().any(|k| k.matches(t))
        }
    }

    pub fn teardown_names(&self) -> Vec<&'static str> {
        if self.teardown.is_empty() {
            vec!["four-way", "three-way", "simultaneous"]
        } else {
            self.teardown.iter().map(|k| k.name()).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_file_reads_every_rule() {
        let p = Policy::parse(
            "allow = [\"reset\", \"open\"]\nexpect-conns = \"2..5\"\nport = [8080]\n\
             closed-by = \"client\"\nteardown = [\"four-way\"]\nmax-rtt-ms = 2.5\n\
             max-retransmissions = 1\nmax-close-wait-ms = 200\nmax-duration-ms = 1500\n",
        )
        .expect("a valid policy");
        assert_eq!(p.allow, [Allowance::Reset, Allowance::Open]);
        assert_eq!(
            p.expect_conns,
            Some(CountRange {
                min: 2,
                max: Some(5)
            })
        );
        assert_eq!(p.port, [8080]);
        assert_eq!(p.closed_by, Some(Side::Client));
        assert_eq!(p.teardown, [TeardownKind::FourWay]);
        assert_eq!(p.max_rtt_ms, Some(2.5));
        assert_eq!(p.max_retransmissions(), 1);
        assert_eq!(p.max_close_wait_ms, Some(200.0));
        assert_eq!(p.max_duration_ms, Some(1500.0));
        assert_eq!(
            Policy::parse("expect-conns = 3").map(|p| p.expect_conns),
            Ok(Some(CountRange {
                min: 3,
                max: Some(3)
            }))
        );
    }

    #[test]
    fn at_least_one_connection_is_expected_unless_empty_is_allowed() {
        let at_least_one = CountRange { min: 1, max: None };
        assert_eq!(Policy::default().expected_conns(), at_least_one);
        let empty = Policy::parse("allow = [\"empty\"]").expect("a valid policy");
        assert!(empty.expected_conns().contains(0));
        let set = Policy::parse("expect-conns = 0").expect("a valid policy");
        assert!(set.expected_conns().contains(0) && !set.expected_conns().contains(1));
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_line() {
        let err = Policy::parse("port = [80]\nmax-rtt = 3\n").expect_err("unknown key");
        assert!(err.starts_with("line 2: unknown field `max-rtt`"), "{err}");
        let err = Policy::parse("allow = [\"everything\"]").expect_err("bad value");
        assert!(err.starts_with("line 1:"), "{err}");
        let err = Policy::parse("expect-conns = \"5..2\"").expect_err("bad range");
        assert!(err.contains("ends before it starts"), "{err}");
    }

    #[test]
    fn ranges_parse_and_hold() {
        let r: CountRange = "2..".parse().expect("a range");
        assert!(r.contains(2) && r.contains(1000) && !r.contains(1));
        let r: CountRange = "..=3".parse().expect("a range");
        assert!(r.contains(0) && r.contains(3) && !r.contains(4));
        assert!("x".parse::<CountRange>().is_err());
    }
}
