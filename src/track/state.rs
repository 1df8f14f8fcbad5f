//! The TCP state machine (RFC 9293 §3.3.2), the whole of it: which event a segment is
//! (`Ctl::of`), one endpoint's step (`step`, one `match`), and both endpoints of a
//! connection moved by each segment (`Endpoints::segment`), every change through one
//! `set_state`. On loopback a capture sees each segment at the moment it is both sent and
//! received, so the sender takes `Send` and the receiver `Recv`; a socket connected to
//! itself takes both.

use std::fmt;

use super::Dir;
use crate::decode::TcpFlags;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// Nothing seen of this endpoint yet.
    Unknown,
    Closed,
    Listen,
    SynSent,
    SynRecv,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl State {
    pub const ALL: [State; 12] = [
        State::Unknown,
        State::Closed,
        State::Listen,
        State::SynSent,
        State::SynRecv,
        State::Established,
        State::FinWait1,
        State::FinWait2,
        State::CloseWait,
        State::Closing,
        State::LastAck,
        State::TimeWait,
    ];

    pub fn name(self) -> &'static str {
        match self {
            State::Unknown => "UNKNOWN",
            State::Closed => "CLOSED",
            State::Listen => "LISTEN",
            State::SynSent => "SYN_SENT",
            State::SynRecv => "SYN_RECV",
            State::Established => "ESTABLISHED",
            State::FinWait1 => "FIN_WAIT_1",
            State::FinWait2 => "FIN_WAIT_2",
            State::CloseWait => "CLOSE_WAIT",
            State::Closing => "CLOSING",
            State::LastAck => "LAST_ACK",
            State::TimeWait => "TIME_WAIT",
        }
    }

    /// No more segments are expected from this endpoint in this incarnation.
    pub fn is_done(self) -> bool {
        matches!(self, State::Closed | State::TimeWait)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a segment is, to a state machine. `acks_fin`: its ACK covers the receiver's FIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ctl {
    Syn,
    SynAck,
    Rst,
    Fin {
        acks_fin: bool,
    },
    Ack {
        acks_fin: bool,
    },
    /// No SYN, FIN, RST or ACK flag.
    Bare,
}

impl Ctl {
    /// What a segment with `flags` is to a state machine; `acks_fin`: its ACK covers the
    /// receiver's FIN. RST outranks SYN, SYN outranks FIN.
    #[inline]
    pub fn of(flags: TcpFlags, acks_fin: bool) -> Ctl {
        if flags.rst() {
            Ctl::Rst
        } else if flags.syn() {
            if flags.ack() { Ctl::SynAck } else { Ctl::Syn }
        } else if flags.fin() {
            Ctl::Fin { acks_fin }
        } else if flags.ack() {
            Ctl::Ack { acks_fin }
        } else {
            Ctl::Bare
        }
    }

    /// In the order of `index`.
    pub const ALL: [Ctl; 8] = [
        Ctl::Syn,
        Ctl::SynAck,
        Ctl::Rst,
        Ctl::Fin { acks_fin: false },
        Ctl::Fin { acks_fin: true },
        Ctl::Ack { acks_fin: false },
        Ctl::Ack { acks_fin: true },
        Ctl::Bare,
    ];
}

impl Ctl {
    /// Position in `ALL`.
    pub const fn index(self) -> usize {
        match self {
            Ctl::Syn => 0,
            Ctl::SynAck => 1,
            Ctl::Rst => 2,
            Ctl::Fin { acks_fin: false } => 3,
            Ctl::Fin { acks_fin: true } => 4,
            Ctl::Ack { acks_fin: false } => 5,
            Ctl::Ack { acks_fin: true } => 6,
            Ctl::Bare => 7,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    Send(Ctl),
    Recv(Ctl),
}

/// Both endpoints of a connection: the one that sends client to server, and the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoints([State; 2]);

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints([State::Unknown; 2])
    }
}

impl Endpoints {
    /// The state of the endpoint that sends in `dir`.
    #[inline]
    pub fn of(self, dir: Dir) -> State {
        self.0[dir.index()]
    }

    /// A segment sent in `dir` moves its sender (`Send`) and its receiver (`Recv`); a socket
    /// connected to itself is both, so it sends the segment and then receives it.
    #[inline]
    pub fn segment(&mut self, dir: Dir, ctl: Ctl, itself: bool) {
        let (sender, receiver) = (self.of(dir), self.of(dir.reverse()));
        if itself {
            let state = next(next(sender, Event::Send(ctl)), Event::Recv(ctl));
            self.set_state(dir, state);
            self.set_state(dir.reverse(), state);
        } else {
            self.set_state(dir, next(sender, Event::Send(ctl)));
            self.set_state(dir.reverse(), next(receiver, Event::Recv(ctl)));
        }
    }

    /// Every state change passes here.
    #[inline]
    fn set_state(&mut self, dir: Dir, state: State) {
        // By index, not by a match: the direction changes from segment to segment, and a
        // branch on it would be mispredicted half the time.
        self.0[dir.index()] = state;
    }
}

/// `step`'s answer for every state (by discriminant) and event (sent, then received, each
/// by `Ctl::index`), worked out at compile time from the match below.
const STEPS: [[State; 16]; 12] = {
    let mut table = [[State::Unknown; 16]; 12];
    let mut s = 0;
    while s < State::ALL.len() {
        let mut c = 0;
        while c < Ctl::ALL.len() {
            table[s][c] = step(State::ALL[s], Event::Send(Ctl::ALL[c]));
            table[s][8 + c] = step(State::ALL[s], Event::Recv(Ctl::ALL[c]));
            c += 1;
        }
        s += 1;
    }
    table
};

/// The same answer as `step`, looked up: every segment moves both of its ends, and a
/// lookup costs one load where the match costs a chain of branches.
pub fn next(state: State, event: Event) -> State {
    let column = match event {
        Event::Send(ctl) => ctl.index(),
        Event::Recv(ctl) => 8 + ctl.index(),
    };
    STEPS[state as usize][column]
}

/// The state after `event`. Segments a real stack would ignore leave the state as it is.
pub const fn step(state: State, event: Event) -> State {
    use Ctl::*;
    use Event::*;
    use State::*;
    match (state, event) {
        // §3.10.7.4: a RST aborts; a passive open in SYN-RECEIVED goes back to LISTEN.
        (SynRecv, Recv(Rst)) => Listen,
        // §3.10.7.2: a listener ignores a RST.
        (Listen, Recv(Rst)) => Listen,
        (
            Unknown | Closed | SynSent | Established | FinWait1 | FinWait2 | CloseWait | Closing
            | LastAck | TimeWait,
            Recv(Rst),
        ) => Closed,
        // §3.10.7: the sender of a RST deletes its TCB.
        (_, Send(Rst)) => Closed,

        // §3.10.1: an active OPEN sends a SYN (again, when retransmitting).
        (Unknown | Closed | Listen | SynSent | TimeWait, Send(Syn)) => SynSent,
        // Simultaneous open: our SYN retransmitted after the peer's SYN arrived.
        (SynRecv, Send(Syn)) => SynRecv,
        (Established | FinWait1 | FinWait2 | CloseWait | Closing | LastAck, Send(Syn)) => state,
        // §3.10.7.2: LISTEN answers a SYN; §3.10.7.3: SYN-SENT getting a bare SYN is a
        // simultaneous open; TIME-WAIT may accept a new SYN (RFC 6191).
        (Unknown | Closed | Listen | SynSent | SynRecv | TimeWait, Recv(Syn)) => SynRecv,
        // §3.10.7.4: a SYN in a synchronized state only draws a challenge ACK.
        (Established | FinWait1 | FinWait2 | CloseWait | Closing | LastAck, Recv(Syn)) => state,

        // The SYN-ACK is sent from SYN-RECEIVED (also in a simultaneous open).
        (Unknown | Closed | Listen | SynSent | SynRecv, Send(SynAck)) => SynRecv,
        (
            Established | FinWait1 | FinWait2 | CloseWait | Closing | LastAck | TimeWait,
            Send(SynAck),
        ) => state,
        // §3.10.7.3: SYN-SENT with an acceptable ACK and a SYN is established; so is
        // SYN-RECEIVED when the peer's SYN-ACK acknowledges our SYN.
        (Unknown | SynSent | SynRecv, Recv(SynAck)) => Established,
        (
            Closed | Listen | Established | FinWait1 | FinWait2 | CloseWait | Closing | LastAck
            | TimeWait,
            Recv(SynAck),
        ) => state,

        // §3.10.4 CLOSE: ESTABLISHED (or SYN-RECEIVED) sends FIN to FIN-WAIT-1, CLOSE-WAIT
        // to LAST-ACK; a capture that starts mid-connection counts as ESTABLISHED.
        (Unknown | SynRecv | Established, Send(Fin { .. })) => FinWait1,
        (CloseWait, Send(Fin { acks_fin: true })) => LastAck,
        // §3.6 simultaneous close: a FIN that does not acknowledge the peer's FIN crossed it,
        // so this end was in FIN-WAIT-1 when the peer's FIN arrived.
        (CloseWait, Send(Fin { acks_fin: false })) => Closing,
        // A retransmitted FIN changes nothing.
        (
            Closed | Listen | SynSent | FinWait1 | FinWait2 | Closing | LastAck | TimeWait,
            Send(Fin { .. }),
        ) => state,
        // §3.10.7.4 eighth check: a FIN moves ESTABLISHED to CLOSE-WAIT, FIN-WAIT-1 to
        // TIME-WAIT when it also acknowledges our FIN (else CLOSING), FIN-WAIT-2 to TIME-WAIT.
        (Unknown | SynRecv | Established, Recv(Fin { .. })) => CloseWait,
        (FinWait1, Recv(Fin { acks_fin: true })) => TimeWait,
        (FinWait1, Recv(Fin { acks_fin: false })) => Closing,
        (FinWait2, Recv(Fin { .. })) => TimeWait,
        (Closing, Recv(Fin { acks_fin: true })) => TimeWait,
        (LastAck, Recv(Fin { acks_fin: true })) => Closed,
        // §3.10.7.3: SYN-SENT does not process a FIN; others see a retransmission.
        (Closed | Listen | SynSent | CloseWait | TimeWait, Recv(Fin { .. })) => state,
        (Closing | LastAck, Recv(Fin { acks_fin: false })) => state,

        // Sending an ACK or data changes nothing, except that the first segment of a
        // connection caught mid-stream shows it ESTABLISHED.
        (Unknown, Send(Ack { .. } | Bare)) => Established,
        (
            Closed | Listen | SynSent | SynRecv | Established | FinWait1 | FinWait2 | CloseWait
            | Closing | LastAck | TimeWait,
            Send(Ack { .. } | Bare),
        ) => state,
        // §3.10.7.4 fifth check: an acceptable ACK moves SYN-RECEIVED to ESTABLISHED,
        // FIN-WAIT-1 to FIN-WAIT-2, CLOSING to TIME-WAIT and LAST-ACK to CLOSED.
        (Unknown | SynRecv, Recv(Ack { .. })) => Established,
        (FinWait1, Recv(Ack { acks_fin: true })) => FinWait2,
        (Closing, Recv(Ack { acks_fin: true })) => TimeWait,
        (LastAck, Recv(Ack { acks_fin: true })) => Closed,
        (FinWait1 | Closing | LastAck, Recv(Ack { acks_fin: false })) => state,
        (
            Closed | Listen | SynSent | Established | FinWait2 | CloseWait | TimeWait,
            Recv(Ack { .. }),
        ) => state,
        // §3.10.7.4 fifth check: a segment without ACK is dropped.
        (Unknown, Recv(Bare)) => Established,
        (
            Closed | Listen | SynSent | SynRecv | Established | FinWait1 | FinWait2 | CloseWait
            | Closing | LastAck | TimeWait,
            Recv(Bare),
        ) => state,
    }
}

#[cfg(test)]
mod tests {
    use super::Ctl::*;
    use super::Event::*;
    use super::State::*;
    use super::*;

    /// Applies a segment to both ends, as a loopback capture sees it.
    fn both(sender: State, receiver: State, ctl: Ctl) -> (State, State) {
        (step(sender, Send(ctl)), step(receiver, Recv(ctl)))
    }

    #[test]
    fn the_table_answers_as_the_match() {
        for (i, state) in State::ALL.into_iter().enumerate() {
            assert_eq!(state as usize, i, "State::ALL is in discriminant order");
            for (j, ctl) in Ctl::ALL.into_iter().enumerate() {
                assert_eq!(ctl.index(), j, "Ctl::ALL is in index order");
                for event in [Send(ctl), Recv(ctl)] {
                    assert_eq!(
                        next(state, event),
                        step(state, event),
                        "{state:?} {event:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn three_way_handshake() {
        let (client, server) = both(Unknown, Unknown, Syn);
        assert_eq!((client, server), (SynSent, SynRecv));
        let (server, client) = both(server, client, SynAck);
        assert_eq!((client, server), (Established, SynRecv));
        let (client, server) = both(client, server, Ack { acks_fin: false });
        assert_eq!((client, server), (Established, Established));
    }

    #[test]
    fn four_way_close_leaves_the_closer_in_time_wait() {
        let (a, b) = both(Established, Established, Fin { acks_fin: false });
        assert_eq!((a, b), (FinWait1, CloseWait));
        let (b, a) = both(b, a, Ack { acks_fin: true });
        assert_eq!((a, b), (FinWait2, CloseWait));
        let (b, a) = both(b, a, Fin { acks_fin: true });
        assert_eq!((a, b), (TimeWait, LastAck));
        let (a, b) = both(a, b, Ack { acks_fin: true });
        assert_eq!((a, b), (TimeWait, Closed));
    }

    #[test]
    fn three_way_close_skips_fin_wait_2() {
        let (a, b) = both(Established, Established, Fin { acks_fin: false });
        let (b, a) = both(b, a, Fin { acks_fin: true });
        assert_eq!((a, b), (TimeWait, LastAck));
    }

    #[test]
    fn simultaneous_close_passes_through_closing() {
        let (a, b) = (
            step(Established, Send(Fin { acks_fin: false })),
            step(Established, Send(Fin { acks_fin: false })),
        );
        assert_eq!((a, b), (FinWait1, FinWait1));
        let a = step(a, Recv(Fin { acks_fin: false }));
        let b = step(b, Recv(Fin { acks_fin: false }));
        assert_eq!((a, b), (Closing, Closing));
        assert_eq!(step(a, Recv(Ack { acks_fin: true })), TimeWait);
    }

    #[test]
    fn simultaneous_open_meets_in_syn_recv() {
        assert_eq!(step(SynSent, Recv(Syn)), SynRecv);
        assert_eq!(step(SynRecv, Recv(SynAck)), Established);
    }

    #[test]
    fn reset_closes_both_ends_but_a_listener_survives() {
        let (a, b) = both(Established, Established, Rst);
        assert_eq!((a, b), (Closed, Closed));
        assert_eq!(step(SynRecv, Recv(Rst)), Listen);
        assert_eq!(step(Listen, Recv(Rst)), Listen);
    }

    #[test]
    fn retransmissions_are_the_same_step() {
        assert_eq!(step(SynSent, Send(Syn)), SynSent);
        assert_eq!(step(SynRecv, Recv(Syn)), SynRecv);
        assert_eq!(step(FinWait1, Send(Fin { acks_fin: false })), FinWait1);
        assert_eq!(step(CloseWait, Recv(Fin { acks_fin: false })), CloseWait);
        assert_eq!(step(TimeWait, Recv(Fin { acks_fin: true })), TimeWait);
    }

    #[test]
    fn mid_connection_capture_starts_established() {
        assert_eq!(step(Unknown, Send(Ack { acks_fin: false })), Established);
        assert_eq!(step(Unknown, Recv(Ack { acks_fin: false })), Established);
        assert_eq!(step(Unknown, Send(Fin { acks_fin: false })), FinWait1);
        assert_eq!(step(Unknown, Recv(Fin { acks_fin: false })), CloseWait);
    }

    /// Every (state, event) pair: the expected result, written out as a table so that a
    /// change to any arm shows up here.
    #[test]
    fn every_state_event_pair() {
        #[rustfmt::skip]
        let table: [(State, [State; 16]); 12] = [
            // columns: Send(Syn, SynAck, Rst, Fin-, Fin+, Ack-, Ack+, Bare), Recv(same order)
            (Unknown,     [SynSent, SynRecv, Closed, FinWait1, FinWait1, Established, Established, Established,
                           SynRecv, Established, Closed, CloseWait, CloseWait, Established, Established, Established]),
            (Closed,      [SynSent, SynRecv, Closed, Closed, Closed, Closed, Closed, Closed,
                           SynRecv, Closed, Closed, Closed, Closed, Closed, Closed, Closed]),
            (Listen,      [SynSent, SynRecv, Closed, Listen, Listen, Listen, Listen, Listen,
                           SynRecv, Listen, Listen, Listen, Listen, Listen, Listen, Listen]),
            (SynSent,     [SynSent, SynRecv, Closed, SynSent, SynSent, SynSent, SynSent, SynSent,
                           SynRecv, Established, Closed, SynSent, SynSent, SynSent, SynSent, SynSent]),
            (SynRecv,     [SynRecv, SynRecv, Closed, FinWait1, FinWait1, SynRecv, SynRecv, SynRecv,
                           SynRecv, Established, Listen, CloseWait, CloseWait, Established, Established, SynRecv]),
            (Established, [Established, Established, Closed, FinWait1, FinWait1, Established, Established, Established,
                           Established, Established, Closed, CloseWait, CloseWait, Established, Established, Established]),
            (FinWait1,    [FinWait1, FinWait1, Closed, FinWait1, FinWait1, FinWait1, FinWait1, FinWait1,
                           FinWait1, FinWait1, Closed, Closing, TimeWait, FinWait1, FinWait2, FinWait1]),
            (FinWait2,    [FinWait2, FinWait2, Closed, FinWait2, FinWait2, FinWait2, FinWait2, FinWait2,
                           FinWait2, FinWait2, Closed, TimeWait, TimeWait, FinWait2, FinWait2, FinWait2]),
            (CloseWait,   [CloseWait, CloseWait, Closed, Closing, LastAck, CloseWait, CloseWait, CloseWait,
                           CloseWait, CloseWait, Closed, CloseWait, CloseWait, CloseWait, CloseWait, CloseWait]),
            (Closing,     [Closing, Closing, Closed, Closing, Closing, Closing, Closing, Closing,
                           Closing, Closing, Closed, Closing, TimeWait, Closing, TimeWait, Closing]),
            (LastAck,     [LastAck, LastAck, Closed, LastAck, LastAck, LastAck, LastAck, LastAck,
                           LastAck, LastAck, Closed, LastAck, Closed, LastAck, Closed, LastAck]),
            (TimeWait,    [SynSent, TimeWait, Closed, TimeWait, TimeWait, TimeWait, TimeWait, TimeWait,
                           SynRecv, TimeWait, Closed, TimeWait, TimeWait, TimeWait, TimeWait, TimeWait]),
        ];
        for (state, expected) in table {
            let events = Ctl::ALL
                .iter()
                .map(|c| Send(*c))
                .chain(Ctl::ALL.iter().map(|c| Recv(*c)));
            for (event, want) in events.zip(expected) {
                assert_eq!(step(state, event), want, "{state} + {event:?}");
            }
        }
    }

    #[test]
    fn flags_make_events_rst_first_then_syn_then_fin() {
        use crate::decode::TcpFlags as F;
        let cases = [
            (F::SYN, false, Syn),
            (F::SYN | F::ACK, false, SynAck),
            (F::SYN | F::RST, false, Rst),
            (F::SYN | F::FIN, false, Syn),
            (F::RST | F::ACK, true, Rst),
            (F::FIN | F::ACK, true, Fin { acks_fin: true }),
            (F::FIN, false, Fin { acks_fin: false }),
            (F::ACK | F::PSH, true, Ack { acks_fin: true }),
            (F::PSH, false, Bare),
        ];
        for (flags, acks_fin, want) in cases {
            assert_eq!(Ctl::of(F(flags), acks_fin), want, "{flags:#x}");
        }
    }

    #[test]
    fn a_segment_moves_its_sender_and_its_receiver() {
        let mut ends = Endpoints::default();
        ends.segment(Dir::C2S, Syn, false);
        assert_eq!((ends.of(Dir::C2S), ends.of(Dir::S2C)), (SynSent, SynRecv));
        ends.segment(Dir::S2C, SynAck, false);
        assert_eq!(
            (ends.of(Dir::C2S), ends.of(Dir::S2C)),
            (Established, SynRecv)
        );
    }

    #[test]
    fn a_socket_connected_to_itself_sends_then_receives() {
        let mut ends = Endpoints::default();
        // Its SYN: SYN-SENT, then its own SYN arrives: a simultaneous open's SYN-RECEIVED.
        ends.segment(Dir::C2S, Syn, true);
        assert_eq!((ends.of(Dir::C2S), ends.of(Dir::S2C)), (SynRecv, SynRecv));
        ends.segment(Dir::C2S, SynAck, true);
        assert_eq!(ends.of(Dir::S2C), Established);
        // Its one FIN crosses itself: FIN-WAIT-1, then CLOSING.
        ends.segment(Dir::C2S, Fin { acks_fin: false }, true);
        assert_eq!((ends.of(Dir::C2S), ends.of(Dir::S2C)), (Closing, Closing));
    }

    #[test]
    fn every_state_is_reachable_from_unknown() {
        let mut seen = vec![Unknown];
        let mut frontier = vec![Unknown];
        while let Some(s) = frontier.pop() {
            for c in Ctl::ALL {
                for e in [Send(c), Recv(c)] {
                    let next = step(s, e);
                    if !seen.contains(&next) {
                        seen.push(next);
                        frontier.push(next);
                    }
                }
            }
        }
        for s in State::ALL {
            assert!(seen.contains(&s), "{s} unreachable");
        }
    }
}
