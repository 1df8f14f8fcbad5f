//! What every format for people says of a connection in words: the heading over its table
//! or diagram, and the sentence of how it opened and closed.

use std::borrow::Cow;
use std::fmt;

use super::words::{EN, Words, fill};
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

impl Heading {
    /// The heading in the language of `w`.
    pub fn text(&self, w: &Words) -> String {
        let mut text = match self.ends {
            Some((client, server)) => fill(
                w.heading,
                &[
                    ("conn", &self.conn),
                    ("client", &client),
                    ("server", &server),
                ],
            ),
            None => fill(w.drawn.heading_bare, &[("conn", &self.conn)]),
        };
        if self.continued {
            text.push_str(w.drawn.continued);
        }
        text.push_str(match self.part {
            Part::Finished => "",
            Part::Open => w.drawn.open,
            Part::Late => w.drawn.late,
        });
        text
    }
}

impl fmt::Display for Heading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text(&EN))
    }
}

/// Who closed, as the story says it.
pub fn closer(c: &ConnectionRecord, w: &Words) -> &'static str {
    match c.closed_by {
        Some(Side::Client) => w.client_end,
        Some(Side::Server) => w.server_end,
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

/// Zeek's `conn_state` codes, in the order the key lists them (and `ZeekCodes::states`
/// describes them).
const CONN_STATES: [&str; 13] = [
    "S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH",
];

/// Zeek's history letters (upper case the originator's, lower case the responder's), in
/// `ZeekCodes::letters`' order.
const HISTORY: [u8; 13] = *b"SHADFRCGTWIQ^";

/// A one-line key to the Zeek codes a table shows: each `conn_state` met, then each
/// history letter met.
#[derive(Debug, Default)]
pub struct ZeekKey {
    states: Vec<&'static str>,
    /// Bit i: `HISTORY[i]` met.
    letters: u32,
}

impl ZeekKey {
    pub fn add(&mut self, c: &ConnectionRecord) {
        if let Some(state) = c.conn_state
            && !self.states.contains(&state)
        {
            self.states.push(state);
        }
        if let Some(history) = &c.history {
            for &letter in history.as_bytes() {
                let upper = letter.to_ascii_uppercase();
                if let Some(i) = HISTORY.iter().position(|l| *l == upper) {
                    self.letters |= 1 << i;
                }
            }
        }
    }

    /// The key, with the history letters if `history` (they are shown).
    pub fn line(&self, history: bool, w: &Words) -> Option<String> {
        let k = &w.drawn.zeek_key;
        let states: Vec<String> = CONN_STATES
            .iter()
            .zip(k.states)
            .filter(|(code, _)| self.states.contains(code))
            .map(|(code, what)| fill(k.item, &[("code", code), ("what", &what)]))
            .collect();
        if states.is_empty() {
            return None;
        }
        let mut key = fill(k.line, &[("states", &states.join(w.list_sep))]);
        if history && self.letters != 0 {
            let letters: Vec<String> = HISTORY
                .iter()
                .zip(k.letters)
                .enumerate()
                .filter(|(i, _)| self.letters & (1 << i) != 0)
                .map(|(_, (letter, what))| {
                    fill(k.item, &[("code", &char::from(*letter)), ("what", &what)])
                })
                .collect();
            key.push_str(&fill(k.history, &[("letters", &letters.join(w.list_sep))]));
        }
        Some(key)
    }
}

/// "handshake 2/3" as "2/3", for narrow output: the role beside it and its place tell the
/// phase.
pub fn short_step(step: &str) -> &str {
    step.rsplit(' ').next().unwrap_or(step)
}

/// One sentence under a connection's table or diagram.
pub fn story_line(c: &ConnectionRecord, w: &Words) -> String {
    let d = &w.drawn;
    let handshake = match (c.handshake, c.handshake_rtt) {
        (Handshake::Complete, Some(rtt)) => {
            fill(d.handshake_rtt, &[("rtt", &format!("{:.3}", rtt * 1e3))])
        }
        (h, _) => fill(d.handshake_kind, &[("kind", &d.handshakes.of(h))]),
    };
    let kind = d.teardowns.of(c.teardown);
    let side = closer(c, w);
    let teardown = match (c.closed_by, c.reset_cause) {
        (Some(_), Some(cause)) => fill(
            d.teardown_cause,
            &[("kind", &kind), ("cause", &d.cause(cause)), ("side", &side)],
        ),
        (Some(_), None) => fill(d.teardown_closed, &[("kind", &kind), ("side", &side)]),
        (None, _) => fill(d.teardown_kind, &[("kind", &kind)]),
    };
    fill(
        d.story,
        &[
            ("handshake", &handshake),
            ("teardown", &teardown),
            ("client", &c.client_state.0.name()),
            ("server", &c.server_state.0.name()),
        ],
    )
}

/// The columns `text` takes on a terminal: a character each, two for a CJK one (the
/// Chinese words of `--lang zh`); ASCII, nearly every cell, counted by its length.
pub fn columns(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        textwrap::core::display_width(text)
    }
}

/// How prose in `w`'s language wraps to `width`: English at spaces; Chinese, which has
/// none between words, between any two characters where Unicode's line-breaking rules
/// allow it (UAX #14), never before a closing mark such as "，" or "）".
pub fn wrapping<'a>(width: usize, w: &Words) -> textwrap::Options<'a> {
    let options = textwrap::Options::new(width);
    if w.breaks_between_characters {
        options.word_separator(textwrap::WordSeparator::UnicodeBreakProperties)
    } else {
        options
    }
}

/// Prose for people (story lines, the overview, keys, notes) wrapped to `width` when
/// output is narrowed: each line keeps its indent, and its continuation lines are indented
/// two more spaces.
pub fn wrap<'a>(text: &'a str, width: Option<usize>, w: &Words) -> Cow<'a, str> {
    let Some(width) = width else {
        return Cow::Borrowed(text);
    };
    if text
        .lines()
        .all(|line| textwrap::core::display_width(line) <= width)
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let body = line.trim_start_matches(' ');
        let indent = line.get(..line.len() - body.len()).unwrap_or_default();
        let more = format!("{indent}  ");
        let options = wrapping(width, w)
            .initial_indent(indent)
            .subsequent_indent(&more);
        out.push_str(&textwrap::fill(body, options));
    }
    Cow::Owned(out)
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
