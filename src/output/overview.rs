//! The overview of a capture's connections, for people: totals, how many ended how, Zeek's
//! `conn_state` codes, and the worst offenders. Built record by record, in constant memory.

use std::fmt;

use super::words::{EN, Words, fill, one_or_many};
use crate::annotate::{ConnectionRecord, Handshake, Teardown};

/// Offenders listed per kind.
const WORST: usize = 3;

#[derive(Debug, Default)]
pub struct Overview {
    connections: u64,
    segments: u64,
    bytes: u64,
    /// The first segment's time and the last one's, seconds since the first frame.
    span: Option<(f64, f64)>,
    /// The same, nanoseconds since the Unix epoch.
    epoch: Option<(u64, u64)>,
    complete: u64,
    refused: u64,
    reset: u64,
    half_open: u64,
    half_closed: u64,
    open: u64,
    /// Closed by FINs, its opening before the capture began.
    closed_unopened: u64,
    retransmitting: u64,
    /// Zeek's codes, as counted: the few there are, in the order first seen (sorted when
    /// written).
    conn_states: Vec<(&'static str, u64)>,
    most_retransmissions: Worst<u64>,
    slowest_handshakes: Worst<f64>,
    longest: Worst<f64>,
}

/// The connections with the largest values, largest first (the lower index on a tie).
#[derive(Debug)]
struct Worst<T>(Vec<(T, u64)>);

impl<T> Default for Worst<T> {
    fn default() -> Self {
        Worst(Vec::new())
    }
}

impl<T: PartialOrd + Copy> Worst<T> {
    fn offer(&mut self, value: T, conn: u64) {
        let at = self
            .0
            .iter()
            .position(|&(v, c)| value > v || (value == v && conn < c))
            .unwrap_or(self.0.len());
        if at < WORST {
            self.0.insert(at, (value, conn));
            self.0.truncate(WORST);
        }
    }
}

impl Overview {
    pub fn add(&mut self, c: &ConnectionRecord) {
        self.connections += 1;
        self.segments += c.packets.c2s + c.packets.s2c;
        self.bytes += c.bytes.c2s + c.bytes.s2c;
        let end = c.start + c.duration;
        self.span = Some(match self.span {
            None => (c.start, end),
            Some((first, last)) => (first.min(c.start), last.max(end)),
        });
        let (first, last) = (c.ts.0, c.ts.0.saturating_add((c.duration * 1e9) as u64));
        self.epoch = Some(match self.epoch {
            None => (first, last),
            Some((a, b)) => (a.min(first), b.max(last)),
        });
        let closed = matches!(
            c.teardown,
            Teardown::FourWay | Teardown::ThreeWay | Teardown::Simultaneous
        );
        match (c.handshake, c.teardown) {
            (Handshake::Refused, _) => self.refused += 1,
            (_, Teardown::Reset) => self.reset += 1,
            (Handshake::Complete, _) if closed => self.complete += 1,
            (Handshake::NotSeen, _) if closed => self.closed_unopened += 1,
            (Handshake::SynOnly | Handshake::Partial, _) => self.half_open += 1,
            (_, Teardown::HalfClosed) => self.half_closed += 1,
            (_, Teardown::Open) => self.open += 1,
            _ => {}
        }
        if c.retransmissions > 0 {
            self.retransmitting += 1;
            self.most_retransmissions.offer(c.retransmissions, c.conn);
        }
        if let Some(state) = c.conn_state {
            self.count_state(state);
        }
        if let Some(rtt) = c.handshake_rtt {
            self.slowest_handshakes.offer(rtt, c.conn);
        }
        self.longest.offer(c.duration, c.conn);
    }

    fn count_state(&mut self, state: &'static str) {
        match self.conn_states.iter_mut().find(|(s, _)| *s == state) {
            Some((_, n)) => *n += 1,
            None => self.conn_states.push((state, 1)),
        }
    }

    pub fn connections(&self) -> u64 {
        self.connections
    }

    /// The first segment's time and the last one's, nanoseconds since the Unix epoch.
    pub fn epoch_span(&self) -> Option<(u64, u64)> {
        self.epoch
    }
}

impl Overview {
    /// The overview in the language of `w`, a line each, each ended by a newline.
    pub fn text(&self, w: &Words) -> String {
        let o = &w.drawn.overview;
        let (first, last) = self.span.unwrap_or_default();
        let counted = |forms: &[&'static str; 2], n: u64| fill(one_or_many(forms, n), &[("n", &n)]);
        let mut lines = vec![fill(
            o.totals,
            &[
                ("connections", &counted(&o.connections, self.connections)),
                ("segments", &counted(&o.segments, self.segments)),
                ("bytes", &self.bytes),
                ("span", &format!("{:.6}", last - first)),
            ],
        )];
        let counts = [
            self.complete,
            self.refused,
            self.reset,
            self.half_open,
            self.half_closed,
            self.open,
            self.closed_unopened,
        ];
        let ends: Vec<String> = o
            .ends
            .iter()
            .zip(counts)
            .filter(|(_, n)| *n > 0)
            .map(|(name, n)| fill(o.item, &[("n", &n), ("name", name)]))
            .collect();
        if !ends.is_empty() {
            lines.push(fill(o.ended, &[("list", &ends.join(w.list_sep))]));
        }
        if self.retransmitting > 0 {
            lines.push(counted(&o.retransmitting, self.retransmitting));
        }
        if !self.conn_states.is_empty() {
            let mut counted = self.conn_states.clone();
            counted.sort_unstable();
            let states: Vec<String> = counted
                .iter()
                .map(|(state, n)| format!("{state} {n}"))
                .collect();
            lines.push(fill(o.conn_states, &[("list", &states.join(w.list_sep))]));
        }
        let [retransmissions, handshakes, longest] = o.worst_names;
        let secs = |(s, c): &(f64, u64)| {
            let secs = format!("{s:.6}");
            fill(o.worst_secs, &[("conn", c), ("secs", &secs)])
        };
        let lists = [
            (
                retransmissions,
                self.most_retransmissions
                    .0
                    .iter()
                    .map(|(n, c)| fill(o.worst_count, &[("conn", c), ("n", n)]))
                    .collect::<Vec<_>>(),
            ),
            (
                handshakes,
                self.slowest_handshakes.0.iter().map(secs).collect(),
            ),
            (
                longest,
                self.longest
                    .0
                    .iter()
                    .filter(|(s, _)| *s > 0.0)
                    .map(secs)
                    .collect(),
            ),
        ];
        // With one connection, its row says it all.
        if self.connections > 1 {
            for (name, list) in lists.iter().filter(|(_, list)| !list.is_empty()) {
                lines.push(fill(
                    o.worst,
                    &[("name", name), ("list", &list.join(w.list_sep))],
                ));
            }
        }
        let mut text = lines.join("\n");
        text.push('\n');
        text
    }
}

impl fmt::Display for Overview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text(&EN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_are_kept_largest_first_lower_index_on_a_tie() {
        let mut w = Worst::default();
        for (v, c) in [(1, 0), (5, 1), (3, 2), (5, 3), (9, 4), (2, 5)] {
            w.offer(v, c);
        }
        assert_eq!(w.0, vec![(9, 4), (5, 1), (5, 3)]);
    }
}
