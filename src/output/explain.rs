//! The story in words (`--format explain`), as the write-ups that teach TCP tell it: each
//! connection as numbered paragraphs in the order of the exchange, each saying who sends
//! what, where its numbers come from, what program call most likely caused it, and the
//! state each end enters; long data phases folded into one paragraph; then what was odd or
//! missing, Wireshark's completeness decomposed and the time spent in each state.
//!
//! Paragraphs are written as records arrive (the printer's `InOrder` keeps connections in
//! order), so memory holds a few numbers per open connection and at most `FOLD_MIN`
//! segments of a data phase not yet folded.

use std::collections::HashMap;
use std::fmt::Display;
use std::io::{self, Write};

use super::story::wrapping;
use super::time::duration;
use super::words::{Lang, Words, fill};
use super::{Print, Source, View};
use crate::annotate::{
    ConnectionRecord, Entered, Handshake, Record, ResetCause, Role, SegmentRecord, Step, Teardown,
    completeness_parts, decimal_seconds,
};
use crate::track::{Dir, State};

/// A data phase of at least this many segments is told as one paragraph.
const FOLD_MIN: usize = 4;
/// Paragraphs held after a RST until the record says why it came; beyond, they are
/// written without the cause (the closing paragraph still names it).
const MAX_HELD: usize = 1_000;
/// What the lines of a paragraph after its first, and the states under it, are indented by.
const INDENT: &str = "   ";
/// The place in a RST's paragraph where the record's cause goes.
const CAUSE: &str = "reset_cause";

pub struct Explain<W: Write> {
    out: W,
    width: Option<usize>,
    teller: Teller,
}

/// What the telling of one connection remembers.
#[derive(Default)]
struct Telling {
    /// Paragraphs told so far.
    told: u32,
    /// The last segment each way (client → server, server → client).
    last: [Option<Sent>; 2],
    /// Plain data segments and ACKs not yet told: told one by one if the run stays short,
    /// else folded.
    run: Vec<SegmentRecord>,
    fold: Option<Phase>,
    /// Each end's state as told last, and when it was entered.
    states: [Option<(State, f64)>; 2],
    /// The first frame of each part of Wireshark's completeness.
    parts: [Option<u64>; 6],
    client_syns: u32,
    fin_sent: [bool; 2],
    data_after_fin: bool,
    final_ack: bool,
    /// From the first RST on, paragraphs wait for the connection's record, which says why
    /// it was sent; at most `MAX_HELD`.
    held: Option<Vec<String>>,
    reset_told: bool,
    /// The first RST's sender and its port.
    reset_by: Option<(Dir, u16)>,
}

/// What a segment tells the peer's ACK.
#[derive(Clone, Copy)]
struct Sent {
    seq: u32,
    len: u32,
    syn: bool,
    fin: bool,
}

/// A folded data phase.
#[derive(Default)]
struct Phase {
    first: (u64, f64),
    last: (u64, f64),
    data: [u64; 2],
    bytes: [u64; 2],
    acks: u64,
    retransmissions: u64,
    /// The longest silence between two segments, and the frame after it.
    gap: Option<(f64, u64)>,
}

impl Phase {
    fn add(&mut self, s: &SegmentRecord) {
        if self.first.0 == 0 {
            self.first = (s.frame, s.time);
        } else {
            let silence = s.time - self.last.1;
            if self.gap.is_none_or(|(longest, _)| silence > longest) {
                self.gap = Some((silence, s.frame));
            }
        }
        self.last = (s.frame, s.time);
        let d = s.dir.0.index();
        if s.len > 0 {
            if let (Some(n), Some(b)) = (self.data.get_mut(d), self.bytes.get_mut(d)) {
                *n += 1;
                *b += u64::from(s.len);
            }
        } else {
            self.acks += 1;
        }
        if s.analysis.has(crate::annotate::Analysis::RETRANSMISSION) {
            self.retransmissions += 1;
        }
    }
}

/// What the telling says: a connection's heading, a paragraph, or the end of a connection.
pub enum Said {
    Heading(String),
    Paragraph(String),
    End,
}

/// Tells connections in words: records in, what they complete said out, in order.
pub struct Teller {
    words: &'static Words,
    open: HashMap<u64, Telling>,
}

impl Teller {
    pub fn new(lang: Lang) -> Self {
        Teller {
            words: lang.words(),
            open: HashMap::new(),
        }
    }

    /// What a record completes of its connection's telling.
    pub fn record(&mut self, record: &Record) -> Vec<Said> {
        match record {
            Record::Segment(s) => self.segment(s),
            Record::Connection(c) => self.connection(c),
        }
    }

    /// A connection the filter dropped: its telling is dropped too.
    pub fn forget(&mut self, conn: u64) {
        self.open.remove(&conn);
    }

    /// At the capture's end: what was told of segments that came after their connection's
    /// record, by connection index.
    pub fn late(&mut self) -> Vec<Said> {
        let mut late: Vec<(u64, Telling)> = self.open.drain().collect();
        late.sort_by_key(|(conn, _)| *conn);
        let words = self.words;
        late.into_iter()
            .flat_map(|(_, mut telling)| telling.flush(words))
            .map(Said::Paragraph)
            .collect()
    }

    fn segment(&mut self, s: &SegmentRecord) -> Vec<Said> {
        let w = self.words;
        let mut said = Vec::new();
        let mut telling = self.open.remove(&s.conn).unwrap_or_else(|| {
            said = heading(w, s);
            Telling::default()
        });
        telling.note(s);
        let plain = matches!(s.role, Role::Data | Role::Ack)
            && s.step.is_none()
            && telling.states.map(|st| st.map(|(state, _)| state))
                == [Some(s.client_state.0), Some(s.server_state.0)];
        let mut texts = Vec::new();
        if !plain {
            texts = telling.flush(w);
            texts.extend(telling.tell(w, s));
        } else if let Some(phase) = &mut telling.fold {
            phase.add(s);
        } else {
            telling.run.push(s.clone());
            if telling.run.len() >= FOLD_MIN {
                let mut phase = Phase::default();
                for r in telling.run.drain(..) {
                    phase.add(&r);
                }
                telling.fold = Some(phase);
            }
        }
        said.extend(telling.hold(texts).into_iter().map(Said::Paragraph));
        self.open.insert(s.conn, telling);
        said
    }

    fn connection(&mut self, c: &ConnectionRecord) -> Vec<Said> {
        let w = self.words;
        let mut telling = self.open.remove(&c.conn).unwrap_or_default();
        let mut texts = telling.flush(w);
        texts.push(telling.summary(w, c));
        let mut texts = telling.hold(texts);
        // The first RST's paragraph waited for the record's cause.
        let cause = match (c.reset_cause, telling.reset_by) {
            (Some(cause), Some((dir, port))) => cause_text(w, cause, dir, port),
            _ => String::new(),
        };
        texts.splice(0..0, telling.held.take().unwrap_or_default());
        let mut said: Vec<Said> = texts
            .iter()
            .map(|text| Said::Paragraph(fill(text, &[(CAUSE, &cause)])))
            .collect();
        said.push(Said::End);
        said
    }
}

/// "Connection 0: client … → server …", and whether both ends are seen.
fn heading(w: &Words, s: &SegmentRecord) -> Vec<Said> {
    let (client, server) = s.ends();
    let loopback = |a: crate::decode::Addr| a.socket().ip().is_loopback();
    let captured = if loopback(client) && loopback(server) {
        w.loopback
    } else {
        w.network
    };
    vec![
        Said::Heading(fill(
            w.heading,
            &[("conn", &s.conn), ("client", &client), ("server", &server)],
        )),
        Said::Paragraph(captured.to_string()),
    ]
}

impl<W: Write> Explain<W> {
    pub fn new(out: W, view: &View) -> Self {
        Explain {
            out,
            width: view.width,
            teller: Teller::new(view.lang),
        }
    }

    pub fn writer(&mut self) -> &mut W {
        &mut self.out
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn say(&mut self, said: Vec<Said>) -> io::Result<()> {
        for said in said {
            match said {
                Said::Heading(text) | Said::Paragraph(text) => self.paragraph(&text)?,
                Said::End => writeln!(self.out)?,
            }
        }
        Ok(())
    }

    /// A paragraph, wrapped to the width where one is set: a numbered one's lines under
    /// its text, the states under it indented alike.
    fn paragraph(&mut self, text: &str) -> io::Result<()> {
        let Some(width) = self.width else {
            return writeln!(self.out, "{text}");
        };
        let body = text.trim_start_matches(' ');
        let indent = text.get(..text.len() - body.len()).unwrap_or_default();
        let numbered = body
            .split_once(". ")
            .is_some_and(|(n, _)| n.parse::<u32>().is_ok());
        let more = if numbered || !indent.is_empty() {
            INDENT
        } else {
            ""
        };
        let options = wrapping(width, self.teller.words)
            .initial_indent(indent)
            .subsequent_indent(more);
        writeln!(self.out, "{}", textwrap::fill(body, options))
    }
}

impl Telling {
    /// Paragraphs to write now: none while a RST's cause is awaited (they are held).
    fn hold(&mut self, texts: Vec<String>) -> Vec<String> {
        match &mut self.held {
            Some(held) if held.len() + texts.len() <= MAX_HELD => {
                held.extend(texts);
                Vec::new()
            }
            Some(_) => {
                let mut all = self.held.take().unwrap_or_default();
                all.extend(texts);
                for text in &mut all {
                    *text = fill(text, &[(CAUSE, &"")]);
                }
                all
            }
            None => texts,
        }
    }

    /// Takes note of what a segment tells before it is told or folded.
    fn note(&mut self, s: &SegmentRecord) {
        let flags = s.flags.0;
        // The parts as Wireshark's completeness counts them (annotate's own rule).
        let parts = completeness_parts(flags, s.len);
        for (bit, first) in self.parts.iter_mut().enumerate() {
            if parts & (1 << bit) != 0 {
                first.get_or_insert(s.frame);
            }
        }
        let d = s.dir.0.index();
        if flags.syn() && !flags.ack() && s.dir.0 == Dir::C2S {
            self.client_syns += 1;
        }
        let peer_fin = self.fin_sent.get(1 - d).copied().unwrap_or(false);
        if s.len > 0 && peer_fin && !flags.syn() {
            self.data_after_fin = true;
        }
        if s.role == Role::FinalAck {
            self.final_ack = true;
        }
    }

    /// What waits of a data phase, told: one paragraph per segment, or one for the fold.
    fn flush(&mut self, w: &Words) -> Vec<String> {
        let mut texts = Vec::new();
        if let Some(phase) = self.fold.take() {
            self.told += 1;
            texts.push(fold_text(w, self.told, &phase));
        }
        for s in std::mem::take(&mut self.run) {
            texts.extend(self.tell(w, &s));
        }
        texts
    }

    /// One segment told: its line, what it means and why, its flags, the states entered.
    fn tell(&mut self, w: &Words, s: &SegmentRecord) -> Vec<String> {
        self.told += 1;
        let flags = s.flags.0;
        let (who, peer, who_cap) = match s.dir.0 {
            Dir::C2S => (w.client, w.server, w.client_capital),
            Dir::S2C => (w.server, w.client, w.server_capital),
        };
        let (from, to) = match s.dir.0 {
            Dir::C2S => (w.client_end, w.server_end),
            Dir::S2C => (w.server_end, w.client_end),
        };
        let names: Vec<&str> = flags.names().collect();
        let mut label = format!("[{}] Seq={}", names.join(", "), s.seq);
        if let Some(ack) = s.ack {
            label.push_str(&format!(" Ack={ack}"));
        }
        label.push_str(&format!(" Len={}", s.len));
        let time = decimal_seconds(s.time).unwrap_or_default();
        let step = s.step.and_then(|step| step_name(w, step));
        let head: [(&str, &dyn Display); 6] = [
            ("n", &self.told),
            ("frame", &s.frame),
            ("time", &time),
            ("from", &from),
            ("to", &to),
            ("label", &label),
        ];
        let mut text = match step {
            Some(step) => {
                let mut values = head.to_vec();
                values.push(("step", &step));
                fill(w.segment, &values)
            }
            None => fill(w.segment_no_step, &head),
        };
        let peer_sent = self.last.get(1 - s.dir.0.index()).copied().flatten();
        let ack_from = s
            .ack
            .map(|ack| ack_text(w, ack, peer_sent, peer))
            .unwrap_or_default();
        let meaning = self.meaning(w, s, (who, peer, who_cap), &ack_from);
        for sentence in [meaning, flagged(w, s)].into_iter().flatten() {
            text.push_str(w.sentence_sep);
            text.push_str(&sentence);
        }
        let mut texts = vec![text];
        if let Some(states) = self.states_entered(w, s) {
            texts.push(format!(
                "{INDENT}{}",
                fill(w.states, &[("states", &states)])
            ));
        }
        if let Some(last) = self.last.get_mut(s.dir.0.index()) {
            *last = Some(Sent {
                seq: s.seq,
                len: s.len,
                syn: flags.syn(),
                fin: flags.fin(),
            });
        }
        if let Some(sent) = self.fin_sent.get_mut(s.dir.0.index()) {
            *sent |= flags.fin();
        }
        texts
    }

    /// What the segment means and which call most likely caused it.
    fn meaning(
        &mut self,
        w: &Words,
        s: &SegmentRecord,
        (who, peer, who_cap): (&str, &str, &str),
        ack_from: &str,
    ) -> Option<String> {
        let flags = s.flags.0;
        let base: [(&str, &dyn Display); 5] = [
            ("who", &who),
            ("peer", &peer),
            ("Who", &who_cap),
            ("seq", &s.seq),
            ("ack_from", &ack_from),
        ];
        let with = |template: &str, more: &[(&str, &dyn Display)]| {
            let mut values = base.to_vec();
            values.extend_from_slice(more);
            fill(template, &values)
        };
        if flags.rst() {
            if self.reset_told {
                return Some(w.rst_again.to_string());
            }
            self.reset_told = true;
            self.held = Some(Vec::new());
            self.reset_by = Some((s.dir.0, s.src.0.port()));
            let carried = match s.len {
                0 => String::new(),
                len => with(
                    w.rst_payload,
                    &[("len", &len), ("text", &shown(s.preview.bytes(), s.len))],
                ),
            };
            return Some(format!("{{{CAUSE}}}{carried}"));
        }
        let sent_before = self.last.get(s.dir.0.index()).copied().flatten();
        let retransmitted = s.analysis.has(crate::annotate::Analysis::RETRANSMISSION);
        let text = match (s.role, s.step) {
            (Role::Syn, _) if retransmitted || sent_before.is_some_and(|p| p.syn) => {
                w.syn_again.to_string()
            }
            (Role::Syn, _) => with(w.syn, &[("isn", &s.abs_seq)]),
            (Role::SynAck, _) => with(w.syn_ack, &[("isn", &s.abs_seq)]),
            (_, Some(Step::Handshake(3))) => with(w.handshake_done, &[]),
            (Role::Fin | Role::FinAck, Some(Step::Teardown { n: 1, .. })) => {
                if sent_before.is_some_and(|p| p.fin) {
                    with(w.fin_again, &[])
                } else {
                    with(w.first_fin, &[])
                }
            }
            (Role::Fin | Role::FinAck, Some(Step::Teardown { n: 2, of: Some(3) })) => {
                with(w.second_fin_three_way, &[])
            }
            (Role::Fin | Role::FinAck, Some(Step::Teardown { n: 2, .. })) => {
                with(w.second_fin_simultaneous, &[])
            }
            (Role::Fin | Role::FinAck, _) => with(w.second_fin, &[]),
            (_, Some(Step::Teardown { n: 2, .. })) => with(w.fin_acked, &[]),
            (Role::FinalAck, _) => with(w.final_ack, &[]),
            (_, Some(Step::Teardown { .. })) => with(w.ack, &[]),
            (Role::Data, _) => {
                // Relative numbers count the SYN where the handshake was seen.
                let handshake = self.parts.iter().take(2).any(Option::is_some);
                let seq_from = match s.seq.checked_sub(1) {
                    Some(0) if handshake => with(w.data_seq_first, &[]),
                    Some(before) if handshake => with(w.data_seq, &[("before", &before)]),
                    _ => String::new(),
                };
                let whole = s.preview.bytes().len() as u64 == u64::from(s.len);
                let payload = match s.preview.bytes() {
                    [] => String::new(),
                    _ if whole => with(w.payload, &[("text", &shown(s.preview.bytes(), s.len))]),
                    _ => with(
                        w.payload_start,
                        &[("text", &shown(s.preview.bytes(), s.len))],
                    ),
                };
                let values: [(&str, &dyn Display); 3] = [
                    ("len", &s.len),
                    ("payload", &payload),
                    ("seq_from", &seq_from),
                ];
                with(w.data, &values)
            }
            _ if s.ack.is_some() => with(w.ack, &[]),
            _ => return None,
        };
        Some(text.trim_end().to_string())
    }

    /// The states each end entered with this segment, and how long it stayed in the one it
    /// left; `None` when neither changed.
    fn states_entered(&mut self, w: &Words, s: &SegmentRecord) -> Option<String> {
        let now = [s.client_state.0, s.server_state.0];
        let sides = [w.client_end, w.server_end];
        let mut sentences = Vec::new();
        for ((told, state), side) in self.states.iter_mut().zip(now).zip(sides) {
            let section = section(state, s.flags.0.rst());
            let sentence = match *told {
                Some((before, _)) if before == state => continue,
                _ if state == State::Unknown => continue,
                Some((before, since)) => fill(
                    w.moved,
                    &[
                        ("side", &side),
                        ("from", &before.name()),
                        ("state", &state.name()),
                        ("duration", &duration(s.time - since)),
                        ("section", &section),
                    ],
                ),
                None => fill(
                    w.entered,
                    &[
                        ("side", &side),
                        ("state", &state.name()),
                        ("section", &section),
                    ],
                ),
            };
            *told = Some((state, s.time));
            sentences.push(sentence);
        }
        (!sentences.is_empty()).then(|| sentences.join(w.state_sep))
    }

    /// The closing paragraph: how it opened and closed, why it reset, what is odd or
    /// missing, Wireshark's completeness decomposed, the time in each state.
    fn summary(&self, w: &Words, c: &ConnectionRecord) -> String {
        let (handshake, teardown) = (w.handshake.of(c.handshake), w.teardown.of(c.teardown));
        let mut sentences = vec![fill(
            w.summary,
            &[("handshake", &handshake), ("teardown", &teardown)],
        )];
        if let Some(cause) = c.reset_cause {
            let place = ResetCause::ALL.iter().position(|c| *c == cause);
            let words = place.and_then(|i| w.causes.get(i)).copied();
            sentences.push(fill(
                w.reset_cause,
                &[
                    ("cause", &words.unwrap_or_default()),
                    ("name", &cause.name()),
                ],
            ));
        }
        let clean_close = matches!(
            c.teardown,
            Teardown::FourWay | Teardown::ThreeWay | Teardown::Simultaneous
        );
        if clean_close && !self.final_ack {
            sentences.push(w.no_final_ack.to_string());
        }
        if self.client_syns > 1 {
            sentences.push(fill(w.syn_sent_times, &[("times", &self.client_syns)]));
        }
        if self.data_after_fin {
            sentences.push(w.data_after_fin.to_string());
        }
        if c.handshake == Handshake::NotSeen {
            sentences.push(w.midstream.to_string());
        }
        if c.teardown == Teardown::Open {
            sentences.push(w.still_open.to_string());
        }
        sentences.extend(self.completeness(w, c.completeness));
        for (side, end) in [(w.client, Dir::C2S), (w.server, Dir::S2C)] {
            let line: Vec<&Entered> = c.timeline.of(end).collect();
            let list: Vec<String> = line
                .iter()
                .enumerate()
                .map(|(i, e)| match line.get(i + 1) {
                    Some(next) => fill(
                        w.time_in_state,
                        &[
                            ("state", &e.state.0.name()),
                            ("duration", &duration(next.time - e.time)),
                        ],
                    ),
                    None => fill(w.time_last, &[("state", &e.state.0.name())]),
                })
                .collect();
            if !list.is_empty() {
                sentences.push(fill(
                    w.times,
                    &[("side", &side), ("list", &list.join(w.list_sep))],
                ));
            }
        }
        sentences.join(w.sentence_sep)
    }

    /// Wireshark's completeness: which parts are present (with the first frame of each)
    /// and which are missing.
    fn completeness(&self, w: &Words, value: u8) -> Vec<String> {
        let mut present = Vec::new();
        let mut missing = Vec::new();
        let mut uncounted = Vec::new();
        for (bit, (part, first)) in w.parts.iter().zip(self.parts).enumerate() {
            let at = |frame: u64| fill(w.frame_ref, &[("part", part), ("frame", &frame)]);
            match (value & (1 << bit) != 0, first) {
                (true, Some(frame)) => present.push(at(frame)),
                (true, None) => present.push(part.to_string()),
                (false, Some(frame)) => uncounted.push(at(frame)),
                (false, None) => missing.push(*part),
            }
        }
        let mut sentences = vec![fill(
            w.completeness,
            &[("value", &value), ("present", &present.join(" + "))],
        )];
        if value & 31 == 31 {
            sentences.push(w.completeness_whole.to_string());
        } else if !missing.is_empty() {
            sentences.push(fill(
                w.completeness_missing,
                &[("missing", &missing.join(w.list_sep))],
            ));
        }
        if !uncounted.is_empty() {
            sentences.push(fill(
                w.completeness_uncounted,
                &[("parts", &uncounted.join(w.list_sep))],
            ));
        }
        sentences
    }
}

/// Where the ACK number comes from: the peer's last segment, when the number follows it.
fn ack_text(w: &Words, ack: u32, peer: Option<Sent>, peer_name: &str) -> String {
    let next = |p: &Sent| {
        p.seq
            .wrapping_add(p.len)
            .wrapping_add(u32::from(p.syn) + u32::from(p.fin))
    };
    match peer {
        Some(p) if next(&p) == ack && (p.syn || p.fin) && p.len == 0 => fill(
            w.ack_of_syn_or_fin,
            &[
                ("ack", &ack),
                ("peer", &peer_name),
                ("what", &if p.syn { "SYN" } else { "FIN" }),
                ("seq", &p.seq),
            ],
        ),
        Some(p) if next(&p) == ack && p.len > 0 && !p.syn && !p.fin => fill(
            w.ack_of_data,
            &[
                ("ack", &ack),
                ("peer", &peer_name),
                ("seq", &p.seq),
                ("len", &p.len),
            ],
        ),
        _ => fill(w.ack_next, &[("ack", &ack), ("peer", &peer_name)]),
    }
}

/// What a RST means, by its cause; `dir`: the RST's direction, `port`: its source port.
fn cause_text(w: &Words, cause: ResetCause, dir: Dir, port: u16) -> String {
    let (who, who_cap) = match dir {
        Dir::C2S => (w.client, w.client_capital),
        Dir::S2C => (w.server, w.server_capital),
    };
    let template = match cause {
        ResetCause::Refused => w.rst_refused,
        ResetCause::AbortiveClose => w.rst_abortive,
        ResetCause::DataAfterClose => w.rst_data_after_close,
        ResetCause::HalfOpen => w.rst_half_open,
        ResetCause::AfterFin => w.rst_after_fin,
        ResetCause::Other => w.rst_other,
    };
    fill(
        template,
        &[("who", &who), ("Who", &who_cap), ("port", &port)],
    )
}

fn flagged(w: &Words, s: &SegmentRecord) -> Option<String> {
    let names: Vec<&str> = s.analysis.names().collect();
    (!names.is_empty()).then(|| fill(w.flagged, &[("flags", &names.join(w.list_sep))]))
}

fn step_name(w: &Words, step: Step) -> Option<&'static str> {
    match step {
        Step::Handshake(n) => w
            .handshake_step
            .get(usize::from(n).checked_sub(1)?)
            .copied(),
        Step::Teardown { n, .. } => w.teardown_step.get(usize::from(n).checked_sub(1)?).copied(),
    }
}

/// The section of RFC 9293 whose rule puts an end in `state`.
fn section(state: State, reset: bool) -> &'static str {
    match state {
        State::Closed | State::Listen if reset => "3.5.3",
        State::Unknown => "3.3.2",
        State::Listen | State::SynSent | State::SynRecv | State::Established => "3.5",
        State::FinWait1
        | State::FinWait2
        | State::CloseWait
        | State::Closing
        | State::LastAck
        | State::TimeWait
        | State::Closed => "3.6",
    }
}

/// A duration as people read it: `191 µs`, `50.461 ms`, `2.5 s`.
/// The first bytes of a segment's payload as people read them: quoted text where they are
/// text (`"GET / HTTP/1.1\r\n"`), else hex (`16 03 01 02 00 …`); `…` where more followed.
fn shown(bytes: &[u8], len: u32) -> String {
    let more = if (bytes.len() as u64) < u64::from(len) {
        "…"
    } else {
        ""
    };
    match std::str::from_utf8(bytes) {
        Ok(text)
            if !text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\r' | '\n' | '\t')) =>
        {
            format!("\"{}\"{more}", escaped(text))
        }
        // Text cut inside a character is still text.
        Err(e) if e.error_len().is_none() && e.valid_up_to() > 0 => {
            let text = String::from_utf8_lossy(bytes.get(..e.valid_up_to()).unwrap_or_default());
            format!("\"{}\"…", escaped(&text))
        }
        _ => {
            let hex: Vec<String> = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
            let more = if bytes.len() > 16 || !more.is_empty() {
                " …"
            } else {
                ""
            };
            format!("{}{more}", hex.join(" "))
        }
    }
}

/// Text as a string literal shows it: line ends, tabs, quotes and backslashes escaped.
fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn fold_text(w: &Words, n: u32, phase: &Phase) -> String {
    let mut parts = Vec::new();
    for (d, who) in [w.client, w.server].into_iter().enumerate() {
        let (segments, bytes) = (
            phase.data.get(d).copied().unwrap_or(0),
            phase.bytes.get(d).copied().unwrap_or(0),
        );
        if segments > 0 {
            parts.push(fill(
                w.fold_data,
                &[("segments", &segments), ("bytes", &bytes), ("who", &who)],
            ));
        }
    }
    if phase.acks > 0 {
        parts.push(fill(w.fold_acks, &[("acks", &phase.acks)]));
    }
    if phase.retransmissions > 0 {
        parts.push(fill(
            w.fold_retransmissions,
            &[("count", &phase.retransmissions)],
        ));
    }
    if let Some((gap, frame)) = phase.gap {
        parts.push(fill(
            w.fold_gap,
            &[("gap", &duration(gap)), ("frame", &frame)],
        ));
    }
    let mut text = fill(
        w.fold,
        &[
            ("n", &n),
            ("first", &phase.first.0),
            ("last", &phase.last.0),
            ("duration", &duration(phase.last.1 - phase.first.1)),
            ("parts", &parts.join(w.list_sep)),
        ],
    );
    text.push_str(w.sentence_end);
    text
}

impl<W: Write> Print for Explain<W> {
    fn begin(&mut self, source: &Source<'_>) -> io::Result<()> {
        if let Some(label) = source.label() {
            writeln!(self.out, "=== {label} ===\n")?;
        }
        Ok(())
    }

    fn record(&mut self, record: &Record) -> io::Result<()> {
        let said = self.teller.record(record);
        self.say(said)
    }

    fn done(&mut self, conn: u64, kept: bool) -> io::Result<()> {
        if !kept {
            self.teller.forget(conn);
        }
        Ok(())
    }

    fn end(&mut self) -> io::Result<()> {
        let late = self.teller.late();
        self.say(late)
    }
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn a_payload_is_shown_as_text_where_it_is_text_else_as_hex() {
        assert_eq!(shown(b"GET / HTTP/1.1\r\n", 16), r#""GET / HTTP/1.1\r\n""#);
        assert_eq!(
            shown(b"say \"hi\"", 40),
            r#""say \"hi\"""#.to_string() + "…"
        );
        // Cut inside a character: still text.
        assert_eq!(
            shown("héé".as_bytes().get(..4).unwrap_or_default(), 5),
            "\"hé\"…"
        );
        assert_eq!(shown(&[0x16, 0x03, 0x01, 0x02], 4), "16 03 01 02");
        assert_eq!(shown(&[0; 20], 20), format!("{} …", ["00"; 16].join(" ")));
        assert_eq!(shown(&[1, 2], 300), "01 02 …");
    }
}
