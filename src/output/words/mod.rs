//! The words synfin's explanations say, one table per language. Each message is a template
//! whose `{name}` places are filled from the capture (`fill`); a message missing from a
//! language does not compile. JSON field and value names never change with the language.

use std::borrow::Cow;
use std::fmt::{Display, Write as _};

use crate::annotate::{Handshake, Note, ResetCause, Role, Step, Teardown};

mod en;
mod zh;

pub use en::EN;
pub use zh::ZH;

/// The language people-facing text is written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    /// The language a locale names (`zh_CN.UTF-8` → Chinese); English for any other.
    pub fn from_locale(locale: &str) -> Lang {
        if locale.to_ascii_lowercase().starts_with("zh") {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    /// The user's language as the environment says it (`LC_ALL`, then `LC_MESSAGES`, then
    /// `LANG`, as POSIX orders them).
    pub fn from_env() -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|name| std::env::var(name).ok())
            .find(|value| !value.is_empty())
            .map_or(Lang::En, |locale| Lang::from_locale(&locale))
    }

    /// The language's code, as HTML's `lang` attribute takes it.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    pub fn words(self) -> &'static Words {
        match self {
            Lang::En => &EN,
            Lang::Zh => &ZH,
        }
    }
}

/// The first form for one, the second for any other number.
pub fn one_or_many(forms: &[&'static str; 2], n: u64) -> &'static str {
    let [one, many] = *forms;
    if n == 1 { one } else { many }
}

/// `template` with each `{name}` replaced by its value; a place without a value stays.
pub fn fill(template: &str, values: &[(&str, &dyn Display)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    for (text, place) in pieces(template) {
        out.push_str(text);
        if let Some(name) = place {
            let _ = match values.iter().find(|(n, _)| *n == name) {
                Some((_, value)) => write!(out, "{value}"),
                None => write!(out, "{{{name}}}"),
            };
        }
    }
    out
}

/// A template cut at its places once, to be filled many times (a flood's million notes):
/// each piece of text, then the place after it as an index into the names it was cut for.
pub struct Template<'t> {
    pieces: Vec<(&'t str, Option<Result<usize, &'t str>>)>,
}

impl<'t> Template<'t> {
    /// `template`, whose places are looked up among `names` (a place without a name stays).
    pub fn new(template: &'t str, names: &[&str]) -> Self {
        let pieces = pieces(template)
            .map(|(text, place)| {
                let place = place.map(|name| names.iter().position(|n| *n == name).ok_or(name));
                (text, place)
            })
            .collect();
        Template { pieces }
    }

    /// The template, each place replaced by the `values` of its name, appended to `out`.
    pub fn fill_into(&self, out: &mut String, values: &[&str]) {
        for (text, place) in &self.pieces {
            out.push_str(text);
            match place {
                Some(Ok(i)) => out.push_str(values.get(*i).copied().unwrap_or_default()),
                Some(Err(name)) => {
                    let _ = write!(out, "{{{name}}}");
                }
                None => {}
            }
        }
    }
}

/// `template` cut into (text, the name of the place after it): `{name}` is a place (a name
/// has no braces), and a `{` that opens none is text.
fn pieces(template: &str) -> impl Iterator<Item = (&str, Option<&str>)> {
    let mut rest = Some(template);
    std::iter::from_fn(move || {
        let text = rest?;
        let mut from = 0;
        loop {
            let Some(open) = text.get(from..).and_then(|t| t.find('{')).map(|i| i + from) else {
                rest = None;
                return Some((text, None));
            };
            let after = text.get(open + 1..).unwrap_or_default();
            match after
                .find(['{', '}'])
                .filter(|&end| after.get(end..).is_some_and(|t| t.starts_with('}')))
            {
                Some(end) => {
                    rest = after.get(end + 1..);
                    let name = after.get(..end).unwrap_or_default();
                    return Some((text.get(..open).unwrap_or_default(), Some(name)));
                }
                None => from = open + 1,
            }
        }
    })
}

/// Every message of the explanation. Places: `{who}` and `{peer}` are the sender and the
/// receiver ("the client"), `{Who}` capitalised where a sentence starts with it.
pub struct Words {
    /// Lines may break between any two characters (Chinese), not only at spaces.
    pub breaks_between_characters: bool,
    pub client: &'static str,
    pub server: &'static str,
    pub client_capital: &'static str,
    pub server_capital: &'static str,
    /// The ends as a diagram names them: "client", "server".
    pub client_end: &'static str,
    pub server_end: &'static str,
    /// Wireshark's completeness parts: SYN, SYN-ACK, ACK, data, FIN, RST.
    pub parts: [&'static str; 6],
    /// "Connection {conn}: client {client} → server {server}"
    pub heading: &'static str,
    /// Over a connection's explanation on the HTML page.
    pub in_words: &'static str,
    pub loopback: &'static str,
    pub network: &'static str,
    /// A segment's first line: `{n}` paragraph, `{frame}`, `{time}`, `{who}`, `{peer}`,
    /// `{label}` ("[SYN] Seq=0 Len=0"), `{step}`.
    pub segment: &'static str,
    pub segment_no_step: &'static str,
    pub handshake_step: [&'static str; 3],
    pub teardown_step: [&'static str; 4],
    pub syn: &'static str,
    pub syn_again: &'static str,
    pub syn_ack: &'static str,
    pub handshake_done: &'static str,
    pub data: &'static str,
    pub data_seq: &'static str,
    pub data_seq_first: &'static str,
    pub ack: &'static str,
    pub ack_of_syn_or_fin: &'static str,
    pub ack_of_data: &'static str,
    pub ack_next: &'static str,
    pub first_fin: &'static str,
    pub fin_acked: &'static str,
    pub second_fin: &'static str,
    pub second_fin_three_way: &'static str,
    pub second_fin_simultaneous: &'static str,
    pub fin_again: &'static str,
    pub final_ack: &'static str,
    pub rst_refused: &'static str,
    pub rst_abortive: &'static str,
    pub rst_data_after_close: &'static str,
    pub rst_half_open: &'static str,
    pub rst_after_fin: &'static str,
    pub rst_other: &'static str,
    pub rst_again: &'static str,
    /// What a payload holds (`{text}`: quoted text, or hex bytes), whole or its start.
    pub payload: &'static str,
    pub payload_start: &'static str,
    /// What a RST carries (`{len}` bytes, `{text}`).
    pub rst_payload: &'static str,
    pub flagged: &'static str,
    /// The states a segment leads to, under its paragraph.
    pub states: &'static str,
    pub state_sep: &'static str,
    pub entered: &'static str,
    pub moved: &'static str,
    /// A run of data folded: `{n}`, `{first}`, `{last}`, `{duration}`, `{parts}`,
    /// `{gap}`, `{gap_frame}`.
    pub fold: &'static str,
    pub fold_data: &'static str,
    pub fold_acks: &'static str,
    pub fold_retransmissions: &'static str,
    pub fold_gap: &'static str,
    pub list_sep: &'static str,
    /// Between two sentences: a space, or nothing in Chinese.
    pub sentence_sep: &'static str,
    pub sentence_end: &'static str,
    /// The closing paragraph.
    pub summary: &'static str,
    pub handshake: Handshakes,
    pub teardown: Teardowns,
    /// "Why it reset: {cause} (reset_cause {name})."
    pub reset_cause: &'static str,
    /// Each reset cause in words, in `ResetCause::ALL`'s order.
    pub causes: [&'static str; 6],
    pub completeness: &'static str,
    pub completeness_missing: &'static str,
    pub completeness_whole: &'static str,
    /// Parts seen but not in Wireshark's value: `{parts}` with their frames.
    pub completeness_uncounted: &'static str,
    pub frame_ref: &'static str,
    pub no_final_ack: &'static str,
    pub syn_sent_times: &'static str,
    pub data_after_fin: &'static str,
    pub midstream: &'static str,
    pub still_open: &'static str,
    pub times: &'static str,
    pub time_in_state: &'static str,
    pub time_last: &'static str,
    /// The words of the tables and diagrams.
    pub drawn: Drawn,
    /// Each note about a connection (`Note`); in English, the JSON's own sentence.
    pub notes: Notes,
    pub page: Page,
    pub check: Checks,
}

/// What tables and diagrams (ladder, SVG, Mermaid, HTML) say, beyond flags and numbers.
/// Places as in `Words`; English keeps SPEC.md's value names (`four-way`, `syn-only`).
pub struct Drawn {
    /// "Connection {conn}", when the ends are not known.
    pub heading_bare: &'static str,
    pub continued: &'static str,
    pub open: &'static str,
    pub late: &'static str,
    pub frame: &'static str,
    /// Each role's label (`Role::ALL`'s order) and the steps: `{n}`, `{of}`.
    pub roles: [&'static str; 9],
    pub handshake_step: &'static str,
    pub teardown_step: &'static str,
    /// The time an end spent in the state it left: `{end}`, `{state}`, `{duration}`.
    pub left: &'static str,
    pub left_short: &'static str,
    /// A folded run: `{first}`, `{last}`, `{parts}`; each part one or many (`{n}`,
    /// `{arrow}`, `{size}`).
    pub fold: &'static str,
    pub fold_data: [&'static str; 2],
    pub fold_acks: [&'static str; 2],
    /// The sentence under a connection: `{handshake}`, `{teardown}`, `{client}`, `{server}`.
    pub story: &'static str,
    pub handshake_rtt: &'static str,
    pub handshake_kind: &'static str,
    pub teardown_kind: &'static str,
    pub teardown_closed: &'static str,
    pub teardown_cause: &'static str,
    pub handshakes: Handshakes,
    pub teardowns: Teardowns,
    /// Each reset cause, briefly, in `ResetCause::ALL`'s order.
    pub causes: [&'static str; 6],
    /// A segment table's columns: frame, direction, flags, role, step, Seq, Ack, Len, the
    /// client's and the server's state, the analysis.
    pub columns: [&'static str; 11],
    /// The time column, as `--time` shows it: relative, UTC, delta.
    pub times: [&'static str; 3],
    /// The summary table's columns, and its title for one connection and for many
    /// (`{n}`, `{what}`: packets and bytes, or bytes alone when narrowed).
    pub summary_columns: [&'static str; 9],
    pub summary_title: [&'static str; 2],
    pub summary_what: [&'static str; 2],
    pub overview: Overviews,
    pub zeek_key: ZeekCodes,
}

/// The overview over a summary: `{connections}` and `{segments}` are counts said with
/// their one-or-many forms (`{n}`), `{bytes}`, `{span}` seconds.
pub struct Overviews {
    pub totals: &'static str,
    pub connections: [&'static str; 2],
    pub segments: [&'static str; 2],
    /// `{list}` of `item`s (`{n}`, `{name}`), each way of ending in `ends`' order:
    /// complete, refused, reset, half-open, half-closed, still open, closed without an
    /// opening seen.
    pub ended: &'static str,
    pub item: &'static str,
    pub ends: [&'static str; 7],
    pub retransmitting: [&'static str; 2],
    pub conn_states: &'static str,
    /// The worst offenders: `{name}`, `{list}` of connections (`{conn}`, `{n}` or `{secs}`).
    pub worst: &'static str,
    pub worst_names: [&'static str; 3],
    pub worst_count: &'static str,
    pub worst_secs: &'static str,
}

/// The notes a connection record carries (`Note`), each one's place in `Note::ALL`'s
/// order; the counted ones in their one-or-many forms (`{n}`), the split at `{frame}`.
pub struct Notes {
    /// A note under the summary: `{conn}`, `{note}`.
    pub line: &'static str,
    pub midstream: &'static str,
    pub syn_retransmitted: [&'static str; 2],
    pub connected_to_itself: &'static str,
    pub duplicates: [&'static str; 2],
    pub zeek_split: &'static str,
    pub data_after_fin: &'static str,
    pub rst_after_fin: &'static str,
    pub no_final_ack: &'static str,
    pub reported_idle: &'static str,
    pub reported_table_full: &'static str,
    pub still_open: &'static str,
}

/// The key to the Zeek codes under a summary: `{states}` as `item`s (`{code}`, `{what}`),
/// then `history` with its `{letters}`. `states` in `story::CONN_STATES`' order, `letters`
/// in `story::HISTORY`'s.
pub struct ZeekCodes {
    pub line: &'static str,
    pub history: &'static str,
    pub item: &'static str,
    pub states: [&'static str; 13],
    pub letters: [&'static str; 13],
}

/// The HTML page's own words, around its tables and diagrams.
pub struct Page {
    pub overview: &'static str,
    pub summary: &'static str,
    /// The summary's last column, after `Drawn::summary_columns`.
    pub notes: &'static str,
    /// The capture's time span: `{first}`, `{last}`, `{secs}`.
    pub span: &'static str,
    /// `{max}` connections drawn at most, `{n}` left out, `{command}` drawing one.
    pub left_out: &'static str,
    /// `{red}` is the word `red`, coloured.
    pub legend: &'static str,
    pub red: &'static str,
    pub filter: &'static str,
    pub problems_only: &'static str,
    pub show_all: &'static str,
    /// How many rows the filter shows: `{shown}`, of `{matched}` when not all.
    pub shown: &'static str,
    pub shown_of: &'static str,
    /// Under a diagram, back to its row: `{n}`.
    pub back: &'static str,
}

/// What `synfin check` says of a failure. Rule names and option values (`no-reset`,
/// `--allow reset`, `four-way`) stay as the policy spells them.
pub struct Checks {
    /// `{conn}`, `{client}`, `{server}`.
    pub connection: &'static str,
    pub frame: &'static str,
    pub frames: &'static str,
    pub allow: &'static str,
    pub or: &'static str,
    /// The client, the server, neither end.
    pub sides: [&'static str; 3],
    /// A count expected: exactly `{n}`, `{min}` to `{max}`, at least `{min}`.
    pub range: [&'static str; 3],
    /// `{range}`, `{to}` (`to_port` with its `{ports}`, or nothing), `{n}` found.
    pub conns: &'static str,
    pub to_port: &'static str,
    /// `{kind}`: the handshake as the tables name it.
    pub handshake: &'static str,
    pub refused: &'static str,
    /// `{side}`, and `{cause}` as the tables name it.
    pub reset: &'static str,
    pub reset_cause: &'static str,
    pub still_open: &'static str,
    /// `{kind}` and the `{kinds}` allowed.
    pub teardown: &'static str,
    /// `{side}` and the side `{want}`ed.
    pub closed_by: &'static str,
    /// `{count}` and `{max}`.
    pub retransmissions: [&'static str; 2],
    /// `{ms}` and `{limit}`; `{side}` for CLOSE_WAIT.
    pub rtt: &'static str,
    pub close_wait: &'static str,
    pub duration: &'static str,
    /// The command under `check -- CMD` failed: `{command}`, `{how}`.
    pub command: &'static str,
    /// The last line: `{n}` connections, `{passed}`, `{failed}`; then `{n}` expectations.
    pub verdict: [&'static str; 2],
    pub expectations: &'static str,
}

impl Words {
    /// A note about a connection, in this language.
    pub fn note(&self, note: Note) -> Cow<'static, str> {
        let n = &self.notes;
        let said = match note {
            Note::Midstream => n.midstream,
            Note::SynRetransmitted(times) => {
                let form = one_or_many(&n.syn_retransmitted, times.into());
                return Cow::Owned(fill(form, &[("n", &times)]));
            }
            Note::ConnectedToItself => n.connected_to_itself,
            Note::Duplicates(count) => {
                let form = one_or_many(&n.duplicates, count.into());
                return Cow::Owned(fill(form, &[("n", &count)]));
            }
            Note::ZeekSplit(frame) => return Cow::Owned(fill(n.zeek_split, &[("frame", &frame)])),
            Note::DataAfterFin => n.data_after_fin,
            Note::RstAfterFin => n.rst_after_fin,
            Note::NoFinalAck => n.no_final_ack,
            Note::ReportedIdle => n.reported_idle,
            Note::ReportedTableFull => n.reported_table_full,
            Note::StillOpen => n.still_open,
        };
        Cow::Borrowed(said)
    }
}

/// How each kind of opening and closing is named.
pub struct Handshakes {
    pub complete: &'static str,
    pub syn_only: &'static str,
    pub refused: &'static str,
    pub partial: &'static str,
    pub not_seen: &'static str,
}

impl Handshakes {
    pub fn of(&self, h: Handshake) -> &'static str {
        match h {
            Handshake::Complete => self.complete,
            Handshake::SynOnly => self.syn_only,
            Handshake::Refused => self.refused,
            Handshake::Partial => self.partial,
            Handshake::NotSeen => self.not_seen,
        }
    }
}

impl Teardowns {
    pub fn of(&self, t: Teardown) -> &'static str {
        match t {
            Teardown::FourWay => self.four_way,
            Teardown::ThreeWay => self.three_way,
            Teardown::Simultaneous => self.simultaneous,
            Teardown::Reset => self.reset,
            Teardown::HalfClosed => self.half_closed,
            Teardown::Open => self.open,
        }
    }
}

impl Drawn {
    pub fn role(&self, role: Role) -> &'static str {
        let [
            syn,
            syn_ack,
            rst,
            rst_ack,
            fin,
            fin_ack,
            final_ack,
            data,
            ack,
        ] = self.roles;
        match role {
            Role::Syn => syn,
            Role::SynAck => syn_ack,
            Role::Rst => rst,
            Role::RstAck => rst_ack,
            Role::Fin => fin,
            Role::FinAck => fin_ack,
            Role::FinalAck => final_ack,
            Role::Data => data,
            Role::Ack => ack,
        }
    }

    /// "handshake 2/3", "teardown 1/?" while the close's length is not known.
    pub fn step(&self, step: Step) -> String {
        match step {
            Step::Handshake(n) => fill(self.handshake_step, &[("n", &n), ("of", &3)]),
            Step::Teardown { n, of } => {
                let of: &dyn Display = match &of {
                    Some(of) => of,
                    None => &"?",
                };
                fill(self.teardown_step, &[("n", &n), ("of", of)])
            }
        }
    }

    pub fn cause(&self, cause: ResetCause) -> &'static str {
        let place = ResetCause::ALL.iter().position(|c| *c == cause);
        place
            .and_then(|i| self.causes.get(i))
            .copied()
            .unwrap_or_default()
    }
}

pub struct Teardowns {
    pub four_way: &'static str,
    pub three_way: &'static str,
    pub simultaneous: &'static str,
    pub reset: &'static str,
    pub half_closed: &'static str,
    pub open: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_each_named_place_and_leaves_others() {
        assert_eq!(
            fill(
                "Ack={ack}: {peer}'s {x}",
                &[("ack", &16), ("peer", &"the client")]
            ),
            "Ack=16: the client's {x}"
        );
        assert_eq!(fill("{", &[]), "{");
        assert_eq!(fill("a{b", &[("b", &1)]), "a{b");
        assert_eq!(fill("{a{b}", &[("b", &1)]), "{a1");
        assert_eq!(fill("{{b}}", &[("b", &1)]), "{1}");
        assert_eq!(fill("{}{b", &[("b", &1)]), "{}{b");
    }

    /// A template cut once fills as `fill` does, every catalogue note line included.
    #[test]
    fn a_template_cut_once_fills_as_fill_does() {
        let names = ["b", "conn", "note"];
        let values = ["1", "7", "still open"];
        let mut templates = vec![
            "Ack={b}: {x}",
            "{",
            "a{b",
            "{a{b}",
            "{{b}}",
            "{}{b",
            "{b}{b}",
            "",
        ];
        templates.extend([Lang::En, Lang::Zh].map(|l| l.words().notes.line));
        for template in templates {
            let named: Vec<(&str, &dyn Display)> = names
                .iter()
                .zip(&values)
                .map(|(n, v)| (*n, v as &dyn Display))
                .collect();
            let mut out = String::new();
            Template::new(template, &names).fill_into(&mut out, &values);
            assert_eq!(out, fill(template, &named), "{template:?}");
        }
    }

    /// English notes are the JSON's sentences (SPEC.md `notes`), word for word.
    #[test]
    fn english_notes_are_the_json_notes() {
        for note in Note::ALL
            .into_iter()
            .chain([Note::SynRetransmitted(1), Note::Duplicates(9)])
        {
            assert_eq!(EN.note(note), note.to_string());
            assert!(!ZH.note(note).is_empty());
        }
    }

    #[test]
    fn a_chinese_locale_chooses_chinese() {
        assert_eq!(Lang::from_locale("zh_CN.UTF-8"), Lang::Zh);
        assert_eq!(Lang::from_locale("zh_TW"), Lang::Zh);
        assert_eq!(Lang::from_locale("C.UTF-8"), Lang::En);
        assert_eq!(Lang::from_locale("en_US.UTF-8"), Lang::En);
    }
}
