//! A flood's or a scan's SYNs, each told from the one before: a connection that sent only
//! its opening SYN is a function of that SYN, and two SYNs alike but for their ends, their
//! numbers, their copy marks and when they came make records alike but for those. The
//! record of the last such SYN read whole is kept; the next SYN of the same shape takes a
//! copy under its own names instead of being read whole again (a quarter of the printer's
//! thread's instructions on a flood). A property test, below, holds the two ways equal.

use super::{ConnectionRecord, Endpoint, Flush, Names, Reread, Story, in_room, summarize};
use crate::decode::{Addr, Segment, Seq};
use crate::track::LoneSyn;

/// The record of the last lone SYN read whole, and its shape.
#[derive(Debug, Default)]
pub(super) struct Lone {
    last: Option<(Shape, ConnectionRecord)>,
}

/// What a lone SYN's record depends on besides its names: the SYN without its ends, its
/// numbers and its copy marks; its ends' family and whether they are one; what its seed
/// says; why it leaves early, if it does.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Shape {
    seg: Segment,
    ipv4: bool,
    itself: bool,
    announced: bool,
    timeline: bool,
    flush: Option<Flush>,
}

impl Shape {
    fn of(syn: &LoneSyn<'_, Reread>, flush: Option<Flush>) -> Shape {
        let seg = syn.segment();
        let seed = syn.seed();
        Shape {
            seg: Segment {
                src: Addr::UNSPECIFIED,
                dst: Addr::UNSPECIFIED,
                seq: Seq(0),
                copy_id: 0,
                ..*seg
            },
            ipv4: seg.src.is_ipv4(),
            itself: seg.src == seg.dst,
            announced: seed.announced,
            timeline: seed.timeline,
            flush,
        }
    }
}

impl Lone {
    /// The record of the connection `syn` is, leaving early for `flush` if at all; made in
    /// `room` if there is one (`in_room`).
    pub(super) fn record(
        &mut self,
        syn: &LoneSyn<'_, Reread>,
        flush: Option<Flush>,
        room: Option<Box<ConnectionRecord>>,
    ) -> Box<ConnectionRecord> {
        let shape = Shape::of(syn, flush);
        if let Some((was, like)) = &self.last
            && *was == shape
        {
            let mut record = match room {
                Some(mut room) => {
                    room.copy_without_timeline(like);
                    room.timeline.0.extend_from_slice(&like.timeline.0);
                    room
                }
                None => Box::new(like.clone()),
            };
            name(&mut record, syn);
            return record;
        }
        let record = read_whole(syn, flush);
        self.last = Some((shape, record.clone()));
        in_room(room, record)
    }
}

/// The record of `syn` read whole, as every other connection's is made.
fn read_whole(syn: &LoneSyn<'_, Reread>, flush: Option<Flush>) -> ConnectionRecord {
    let mut conn = syn.rebuild::<Story>();
    conn.data.flushed = flush;
    summarize(&mut conn)
}

/// Names `record`, a copy of a lone SYN's of `syn`'s shape, as `syn`'s: its number, its
/// ends, its frame and its times.
fn name(record: &mut ConnectionRecord, syn: &LoneSyn<'_, Reread>) {
    let (seg, seed, ts) = (syn.segment(), syn.seed(), syn.ts());
    for (_, entered) in &mut record.timeline.0 {
        (entered.frame, entered.time) = (seed.frame.0, seed.time);
    }
    // The sender of a SYN alone is the client.
    record.conn = syn.id().0;
    (record.client, record.server) = (Endpoint(seg.src), Endpoint(seg.dst));
    (record.first_frame, record.last_frame) = (seed.frame.0, seed.frame.0);
    (record.start, record.ts) = (seed.time, ts);
    record.names = Names {
        ends: (seg.src, seg.dst),
        first: ts,
    };
    // Zeek's duration runs to its one packet.
    if let Some(zeek) = &mut record.zeek {
        zeek.last = ts;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::capture::{FrameNo, Timestamp};
    use crate::decode::{LinkDir, Preview, TcpFlags};
    use crate::track::{Leaving, Tracker};

    /// A SYN alone (with any other flag but ACK, FIN and RST) and every field a decoder
    /// fills, arbitrary.
    fn shape() -> impl Strategy<Value = Segment> {
        let flags = (0u16..0x200).prop_map(|f| {
            TcpFlags(f & !(TcpFlags::ACK | TcpFlags::FIN | TcpFlags::RST) | TcpFlags::SYN)
        });
        let payload = prop::collection::vec(any::<u8>(), 0..40);
        (
            (
                flags,
                any::<u32>(),
                any::<u16>(),
                prop::option::of(0u8..20),
                any::<u8>(),
            ),
            (0u32..3000, 0u32..70_000, payload),
            (0usize..3, any::<bool>()),
        )
            .prop_map(
                |((flags, ack, window, scale, mptcp), (len, ip_len, payload), (dir, cut))| {
                    Segment {
                        ack: Seq(ack),
                        flags,
                        window,
                        window_scale: scale,
                        mptcp,
                        len,
                        ip_len,
                        preview: Preview::of(&payload),
                        link_dir: [LinkDir::Unknown, LinkDir::Outgoing, LinkDir::Incoming][dir],
                        header_cut: cut,
                        ..Segment::EMPTY
                    }
                },
            )
    }

    /// A SYN's names: its ends (of one family, maybe one end), its number, its copy marks,
    /// when it came, its frame, and how many connections opened before it.
    type Names = (Addr, Addr, u32, u32, u64, u64, u16);

    fn names(ipv4: bool) -> impl Strategy<Value = Names> {
        let addr = move || {
            (any::<[u8; 16]>(), any::<u16>()).prop_map(move |(ip, port)| match ip {
                [a, b, c, d, ..] if ipv4 => Addr::v4([a, b, c, d], port),
                ip => Addr::v6(ip, port),
            })
        };
        (
            (addr(), addr(), any::<bool>()),
            (any::<u32>(), any::<u32>()),
            (0u64..1 << 40, 1u64..1 << 32, 0u16..5),
        )
            .prop_map(|((src, dst, itself), (seq, copy), (ns, frame, before))| {
                let dst = if itself { src } else { dst };
                (src, dst, seq, copy, ns, frame, before)
            })
    }

    /// `seg` under `names`, held as a SYN and let go, to `leave`; `seed`'s announcement
    /// and timeline as given.
    fn leaving<R>(
        seg: Segment,
        (src, dst, seq, copy_id, ns, frame, before): Names,
        (announced, timeline): (bool, bool),
        leave: impl FnOnce(&LoneSyn<'_, Reread>) -> R,
    ) -> R {
        let mut tracker = Tracker::<Story>::default();
        let seed = |n: u64| Reread {
            frame: FrameNo(n),
            time: n as f64 / 7.0,
            announced,
            timeline,
        };
        // Connections opened before it, on other ports: its number is not its first.
        for n in 0..u64::from(before) {
            let other = Segment {
                src: Addr::v4([192, 0, 2, 1], 1 + n as u16),
                dst: Addr::v4([192, 0, 2, 2], 9),
                flags: TcpFlags(TcpFlags::SYN),
                ..Segment::EMPTY
            };
            assert!(tracker.hold_syn(&other, Timestamp(n), || seed(n)));
        }
        let seg = Segment {
            src,
            dst,
            seq: Seq(seq),
            copy_id,
            ..seg
        };
        assert!(tracker.hold_syn(&seg, Timestamp(ns), || seed(frame)));
        let (mut leave, mut left) = (Some(leave), None);
        let drained: Result<(), ()> = tracker.drain(|gone| {
            if let Leaving::Syn(syn) = gone
                && *syn.segment() == seg
            {
                left = leave.take().map(|leave| leave(&syn));
            }
            Ok(())
        });
        assert!(drained.is_ok());
        left.expect("the SYN held leaves as its SYN")
    }

    proptest! {
        #[test]
        fn a_lone_syn_named_from_another_is_the_one_read_whole(
            (seg, first, second) in any::<bool>().prop_flat_map(|ipv4| (shape(), names(ipv4), names(ipv4))),
            seed in (any::<bool>(), any::<bool>()),
            flush in prop::option::of(prop_oneof![Just(Flush::Idle), Just(Flush::TableFull)]),
        ) {
            let mut lone = Lone::default();
            let room = leaving(seg, first, seed, |syn| lone.record(syn, flush, None));
            let (alike, told, whole) = leaving(seg, second, seed, |syn| {
                let alike = lone.last.as_ref().is_some_and(|(was, _)| *was == Shape::of(syn, flush));
                // Made in the first's room, as a flood's are.
                (alike, lone.record(syn, flush, Some(room)), read_whole(syn, flush))
            });
            // Told from the first whenever their ends are alike (one end each, or one end
            // for both), and always as read whole.
            prop_assert_eq!(alike, (first.0 == first.1) == (second.0 == second.1));
            prop_assert_eq!(format!("{told:?}"), format!("{whole:?}"));
        }
    }
}
