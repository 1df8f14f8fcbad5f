//! The words synfin's explanations say, one table per language. Each message is a template
//! whose `{name}` places are filled from the capture (`fill`); a message missing from a
//! language does not compile. JSON field and value names never change with the language.

use std::fmt::Display;

use crate::annotate::{Handshake, ResetCause, Role, Step, Teardown};

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
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let (before, after) = rest.split_at(open);
        out.push_str(before);
        let name_end = after.find('}');
        let value = name_end.and_then(|end| {
            let name = after.get(1..end)?;
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (end, v))
        });
        match value {
            Some((end, v)) => {
                out.push_str(&v.to_string());
                rest = after.get(end + 1..).unwrap_or_default();
            }
            None => {
                out.push('{');
                rest = after.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every message of the explanation. Places: `{who}` and `{peer}` are the sender and the
/// receiver ("the client"), `{Who}` capitalised where a sentence starts with it.
pub struct Words {
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

pub static EN: Words = Words {
    client: "the client",
    server: "the server",
    client_capital: "The client",
    server_capital: "The server",
    client_end: "client",
    server_end: "server",
    parts: ["SYN", "SYN-ACK", "ACK", "data", "FIN", "RST"],
    heading: "Connection {conn}: client {client} → server {server}",
    in_words: "The story in words",
    loopback: "Captured on loopback: each segment is seen as it is both sent and received, so both ends' states are known.",
    network: "Captured on a network: synfin sees what passed the wire, so each end's state is an inference from the segments it sent and received.",
    segment: "{n}. Frame {frame}, {time} s, {from} → {to}: {label}: {step}.",
    segment_no_step: "{n}. Frame {frame}, {time} s, {from} → {to}: {label}.",
    handshake_step: [
        "the handshake's first step",
        "the handshake's second step",
        "the handshake's third step",
    ],
    teardown_step: [
        "the close's first step",
        "the close's second step",
        "the close's third step",
        "the close's fourth step",
    ],
    syn: "{Who}'s connect() most likely sent it: a SYN asks to open the connection and carries {who}'s initial sequence number (ISN {isn}); relative numbers count from it, so this is Seq=0.",
    syn_again: "The SYN is sent again: no SYN-ACK came back in time (a slow or busy server, a SYN or its answer lost, a firewall dropping it), so the kernel retries with a longer timeout each time.",
    syn_ack: "{Who}'s listening socket answers on its own, before any accept(): the SYN carries {who}'s ISN ({isn}), the ACK accepts {peer}'s SYN. {ack_from}",
    handshake_done: "{Who} acknowledges the SYN-ACK. {ack_from} The three-way handshake is complete: connect() returns, and the connection waits in the server's accept queue until accept() takes it.",
    data: "{Who} sends {len} bytes, most likely a send() or write(). {payload}{seq_from}",
    data_seq: "Seq={seq}: {who} sent {before} bytes before these, and its SYN counts as one.",
    data_seq_first: "Seq=1: its first byte, as its SYN counted as one.",
    ack: "{Who} acknowledges. {ack_from}",
    ack_of_syn_or_fin: "Ack={ack}: {peer}'s {what} had Seq={seq}, and a {what} counts as one.",
    ack_of_data: "Ack={ack}: {peer}'s data had Seq={seq} and Len={len}, {seq}+{len}={ack}, the next byte it expects.",
    ack_next: "Ack={ack}: the next byte it expects from {peer}.",
    first_fin: "{Who} closes its side, most likely close() or shutdown(SHUT_WR): a FIN says it will send no more data, and takes one sequence number (Seq={seq}).",
    fin_acked: "{Who}'s kernel acknowledges the FIN at once. {ack_from} Its application has not closed yet: {who} stays in CLOSE_WAIT until it calls close().",
    second_fin: "{Who} closes too, its close(): a FIN (Seq={seq}).",
    second_fin_three_way: "{Who} closes at once: its FIN also acknowledges the first one, so the close takes three segments instead of four. {ack_from}",
    second_fin_simultaneous: "{Who} closes at the same moment: the two FINs crossed, a simultaneous close, and both ends pass through CLOSING.",
    fin_again: "{Who}'s FIN is sent again.",
    final_ack: "{Who} acknowledges the last FIN: the final ACK. {ack_from} Having closed first, {who} now waits in TIME_WAIT (2 MSL), in case this ACK is lost and the FIN comes again.",
    rst_refused: "Nothing listens on port {port}: {who}'s kernel refuses the SYN with a RST, and connect() fails with ECONNREFUSED. No server socket ever existed: the SYN_RECV shown before is synfin's assumption of a listener.",
    rst_abortive: "{Who} resets instead of closing: an abortive close, most likely close() with data still unread, or SO_LINGER set to 0. Data not yet sent or read is thrown away.",
    rst_data_after_close: "{Who} had closed, and data still came: its kernel answers with a RST, as no application can read it any more.",
    rst_half_open: "{Who} does not know this connection (it restarted, or forgot the connection): it answers with a RST (RFC 9293 §3.10.7.1).",
    rst_after_fin: "A RST after the FINs: {who} abandons what was left of the close (close() with data unread, or SO_LINGER 0).",
    rst_other: "{Who} resets the connection.",
    rst_again: "Another RST.",
    payload: "They read {text}. ",
    payload_start: "They begin {text}. ",
    rst_payload: " The RST carries {len} bytes, some stacks' reason in words: {text}.",
    flagged: "Wireshark flags it: {flags}.",
    states: "States: {states}.",
    state_sep: "; ",
    entered: "{side} enters {state} (RFC 9293 §{section})",
    moved: "{side} {from} → {state} after {duration} in {from} (RFC 9293 §{section})",
    fold: "{n}. Frames {first}-{last}, {duration}: the data. {parts}",
    fold_data: "{segments} segments with {bytes} bytes from {who}",
    fold_acks: "{acks} pure ACKs",
    fold_retransmissions: "{count} retransmitted",
    fold_gap: "the longest silence {gap}, before frame {frame}",
    list_sep: ", ",
    sentence_sep: " ",
    sentence_end: ".",
    summary: "In short: handshake {handshake}; close {teardown}.",
    handshake: Handshakes {
        complete: "complete",
        syn_only: "a SYN without answer",
        refused: "refused",
        partial: "partial",
        not_seen: "not in the capture",
    },
    teardown: Teardowns {
        four_way: "four-way",
        three_way: "three-way (a FIN carried the ACK of the other)",
        simultaneous: "simultaneous",
        reset: "by a reset",
        half_closed: "half-closed (one FIN only)",
        open: "not seen (still open)",
    },
    reset_cause: "Why it reset: {cause} (reset_cause {name}).",
    causes: [
        "refused, nothing listened on the port",
        "an abortive close",
        "data came after the close",
        "a half-open connection, one end no longer knew it",
        "a RST after the FINs",
        "none of the known causes",
    ],
    completeness: "Wireshark's completeness is {value}: {present}.",
    completeness_missing: "Missing: {missing}.",
    completeness_whole: "Every part of a clean connection is there (31).",
    frame_ref: "{part} (frame {frame})",
    no_final_ack: "No final ACK was seen: the capture ended, or it was lost.",
    syn_sent_times: "The SYN was sent {times} times: the first went unanswered.",
    data_after_fin: "Data came after a FIN: a half-close (one side's shutdown(SHUT_WR) while the other still sends).",
    midstream: "The capture started mid-connection: the handshake is not in it, and both ends start in ESTABLISHED.",
    still_open: "The connection is still open at the end of the capture.",
    times: "Time in each state, {side}: {list}.",
    time_in_state: "{state} {duration}",
    time_last: "{state} (at the end)",
    drawn: Drawn {
        heading_bare: "Connection {conn}",
        continued: ", continued",
        open: " (open)",
        late: ", after it was reported",
        frame: "frame",
        roles: [
            "SYN",
            "SYN-ACK",
            "RST",
            "RST-ACK",
            "FIN",
            "FIN-ACK",
            "final ACK",
            "data",
            "ACK",
        ],
        handshake_step: "handshake {n}/{of}",
        teardown_step: "teardown {n}/{of}",
        left: "{end} left {state} after {duration}",
        left_short: "{end} {duration} in {state}",
        fold: "… frames {first}-{last}: {parts} (--full shows them)",
        fold_data: [
            "{n} data segment {arrow} ({size})",
            "{n} data segments {arrow} ({size})",
        ],
        fold_acks: ["{n} ACK {arrow}", "{n} ACKs {arrow}"],
        story: "  {handshake}; {teardown}; final states: client {client}, server {server}",
        handshake_rtt: "handshake complete (RTT {rtt} ms)",
        handshake_kind: "handshake {kind}",
        teardown_kind: "teardown {kind}",
        teardown_closed: "teardown {kind}, closed by {side}",
        teardown_cause: "teardown {kind} ({cause}), closed by {side}",
        handshakes: Handshakes {
            complete: "complete",
            syn_only: "syn-only",
            refused: "refused",
            partial: "partial",
            not_seen: "not-seen",
        },
        teardowns: Teardowns {
            four_way: "four-way",
            three_way: "three-way",
            simultaneous: "simultaneous",
            reset: "reset",
            half_closed: "half-closed",
            open: "open",
        },
        causes: [
            "refused",
            "abortive-close",
            "data-after-close",
            "half-open",
            "after-fin",
            "other",
        ],
        columns: [
            "Frame",
            "Dir",
            "Flags",
            "Role",
            "Step",
            "Seq",
            "Ack",
            "Len",
            "Client state",
            "Server state",
            "Analysis",
        ],
        times: ["Time", "Time (UTC)", "Delta"],
        summary_columns: [
            "Conn",
            "Client",
            "Server",
            "Pkts",
            "Bytes",
            "Handshake",
            "Teardown",
            "Final states",
            "Zeek",
        ],
        summary_title: [
            "Summary: {n} connection ({what}: client→server/server→client)",
            "Summary: {n} connections ({what}: client→server/server→client)",
        ],
        summary_what: ["Pkts and Bytes", "Bytes"],
        overview: Overviews {
            totals: "Overview: {connections}, {segments}, {bytes} payload bytes, {span} s from the first segment to the last",
            connections: ["{n} connection", "{n} connections"],
            segments: ["{n} segment", "{n} segments"],
            ended: "  Ended: {list}",
            item: "{n} {name}",
            ends: [
                "complete",
                "refused",
                "reset",
                "half-open",
                "half-closed",
                "still open",
                "closed, opened before the capture",
            ],
            retransmitting: [
                "  Retransmitting: {n} connection",
                "  Retransmitting: {n} connections",
            ],
            conn_states: "  Zeek conn_state: {list}",
            worst: "  {name}: {list}",
            worst_names: ["Most retransmissions", "Slowest handshakes", "Longest"],
            worst_count: "conn {conn} ({n})",
            worst_secs: "conn {conn} ({secs} s)",
        },
    },
};

pub static ZH: Words = Words {
    client: "客户端",
    server: "服务器",
    client_capital: "客户端",
    server_capital: "服务器",
    client_end: "客户端",
    server_end: "服务器",
    parts: ["SYN", "SYN-ACK", "ACK", "数据", "FIN", "RST"],
    heading: "连接 {conn}：客户端 {client} → 服务器 {server}",
    in_words: "文字讲解",
    loopback: "在回环接口上抓包：每个报文段发出的同时即被接收，所以两端的状态都是确知的。",
    network: "在网络上抓包：synfin 只看到线路上经过的报文，所以每一端的状态都是根据它收发的报文推断的。",
    segment: "{n}. 第 {frame} 帧，{time} 秒，{from} → {to}：{label}：{step}。",
    segment_no_step: "{n}. 第 {frame} 帧，{time} 秒，{from} → {to}：{label}。",
    handshake_step: ["第一次握手", "第二次握手", "第三次握手"],
    teardown_step: ["第一次挥手", "第二次挥手", "第三次挥手", "第四次挥手"],
    syn: "很可能是{who}调用 connect() 发出的：SYN 请求建立连接，并携带{who}的初始序列号（ISN {isn}）；相对序号从它算起，所以这里 Seq=0。",
    syn_again: "SYN 被重传：没有及时收到 SYN-ACK（服务器慢或忙、SYN 或其应答丢失、被防火墙丢弃），内核每次以更长的超时重试。",
    syn_ack: "{who}的监听套接字由内核自动应答，此时应用还没有调用 accept()：SYN 携带{who}的 ISN（{isn}），ACK 确认{peer}的 SYN。{ack_from}",
    handshake_done: "{who}确认 SYN-ACK。{ack_from}三次握手完成：connect() 返回，连接在服务器的全连接队列中等待 accept() 取走。",
    data: "{who}发送 {len} 字节数据，很可能来自 send() 或 write()。{payload}{seq_from}",
    data_seq: "Seq={seq}：{who}此前已发送 {before} 字节，SYN 另占一个序号。",
    data_seq_first: "Seq=1：这是第一个字节，因为 SYN 占了一个序号。",
    ack: "{who}确认收到。{ack_from}",
    ack_of_syn_or_fin: "Ack={ack}：{peer}的 {what} 的 Seq={seq}，而 {what} 占一个序号（每次一方返回 ACK 时，Ack = 对方传来的 Seq + 1）。",
    ack_of_data: "Ack={ack}：{peer}的数据 Seq={seq}、Len={len}，{seq}+{len}={ack}，即期望收到的下一个字节。",
    ack_next: "Ack={ack}：期望收到{peer}的下一个字节。",
    first_fin: "{who}关闭自己的发送方向，很可能调用了 close() 或 shutdown(SHUT_WR)：FIN 表示不再发送数据，并占用一个序号（Seq={seq}）。",
    fin_acked: "{who}的内核立即确认这个 FIN。{ack_from}它的应用还没有关闭：在调用 close() 之前，{who}一直处于 CLOSE_WAIT。",
    second_fin: "{who}也关闭了（调用 close()）：发送 FIN（Seq={seq}）。",
    second_fin_three_way: "{who}立即关闭：它的 FIN 同时确认了对方的 FIN，所以挥手只用了三个报文而不是四个。{ack_from}",
    second_fin_simultaneous: "{who}在同一时刻关闭：两个 FIN 交错而过，即同时关闭，两端都经过 CLOSING。",
    fin_again: "{who}重传了 FIN。",
    final_ack: "{who}确认最后一个 FIN，即最后的 ACK。{ack_from}{who}先关闭，所以现在进入 TIME_WAIT，等待 2MSL，以防这个 ACK 丢失而对方重发 FIN。",
    rst_refused: "端口 {port} 上没有程序监听：{who}的内核用 RST 拒绝了这个 SYN，connect() 返回 ECONNREFUSED。服务器端从未有过套接字：前面显示的 SYN_RECV 只是 synfin 假设存在监听者。",
    rst_abortive: "{who}没有正常关闭，而是发送 RST：异常关闭，很可能是还有未读数据时调用了 close()，或把 SO_LINGER 设为 0。尚未发送或读取的数据都被丢弃。",
    rst_data_after_close: "{who}已经关闭，却仍收到数据：应用已无法读取，内核以 RST 回应。",
    rst_half_open: "{who}不认识这个连接（重启过，或早已忘记它）：它用 RST 回应（RFC 9293 §3.10.7.1）。",
    rst_after_fin: "FIN 之后出现 RST：{who}放弃了剩下的关闭过程（还有未读数据时 close()，或 SO_LINGER 为 0）。",
    rst_other: "{who}重置了连接。",
    rst_again: "又一个 RST。",
    payload: "数据内容是 {text}。",
    payload_start: "数据开头是 {text}。",
    rst_payload: "这个 RST 携带 {len} 字节，有些协议栈在这里用文字说明原因：{text}。",
    flagged: "Wireshark 标记：{flags}。",
    states: "状态：{states}。",
    state_sep: "；",
    entered: "{side}进入 {state}（RFC 9293 §{section}）",
    moved: "{side} {from} → {state}，在 {from} 停留 {duration}（RFC 9293 §{section}）",
    fold: "{n}. 第 {first}-{last} 帧，{duration}：数据传输。{parts}",
    fold_data: "{who}发送 {segments} 个报文段共 {bytes} 字节",
    fold_acks: "{acks} 个纯 ACK",
    fold_retransmissions: "{count} 个重传",
    fold_gap: "最长的静默 {gap}，在第 {frame} 帧之前",
    list_sep: "，",
    sentence_sep: "",
    sentence_end: "。",
    summary: "小结：握手{handshake}；挥手{teardown}。",
    handshake: Handshakes {
        complete: "完成",
        syn_only: "只有 SYN，没有应答",
        refused: "被拒绝",
        partial: "不完整",
        not_seen: "不在抓包中",
    },
    teardown: Teardowns {
        four_way: "为四次挥手",
        three_way: "为三次挥手（一个 FIN 同时确认了另一个）",
        simultaneous: "为同时关闭",
        reset: "由 RST 重置",
        half_closed: "为半关闭（只有一个 FIN）",
        open: "未出现（连接仍打开）",
    },
    reset_cause: "重置原因：{cause}（reset_cause {name}）。",
    causes: [
        "连接被拒绝，端口上没有程序监听",
        "异常关闭",
        "关闭之后仍收到数据",
        "半开连接，一端已不认识这个连接",
        "FIN 之后的 RST",
        "不属于已知的原因",
    ],
    completeness: "Wireshark 的 completeness 为 {value}：{present}。",
    completeness_missing: "缺少：{missing}。",
    completeness_whole: "一个正常的连接所需的部分都在（31）。",
    frame_ref: "{part}（第 {frame} 帧）",
    no_final_ack: "没有看到最后的 ACK：抓包已结束，或它丢失了。",
    syn_sent_times: "SYN 发送了 {times} 次：第一次没有得到应答。",
    data_after_fin: "FIN 之后还有数据：半关闭（一方 shutdown(SHUT_WR) 后，另一方仍在发送）。",
    midstream: "抓包从连接中途开始：其中没有握手，两端都从 ESTABLISHED 开始。",
    still_open: "抓包结束时连接仍然打开。",
    times: "各状态停留时间，{side}：{list}。",
    time_in_state: "{state} {duration}",
    time_last: "{state}（至结束）",
    drawn: Drawn {
        heading_bare: "连接 {conn}",
        continued: "（续）",
        open: "（未结束）",
        late: "，在它报告之后",
        frame: "帧",
        roles: [
            "SYN",
            "SYN-ACK",
            "RST",
            "RST-ACK",
            "FIN",
            "FIN-ACK",
            "最后的 ACK",
            "数据",
            "ACK",
        ],
        handshake_step: "握手 {n}/{of}",
        teardown_step: "挥手 {n}/{of}",
        left: "{end}在 {state} 停留 {duration}",
        left_short: "{end} {state} {duration}",
        fold: "… 第 {first}-{last} 帧：{parts}（--full 全部显示）",
        fold_data: [
            "{n} 个数据段 {arrow}（{size}）",
            "{n} 个数据段 {arrow}（{size}）",
        ],
        fold_acks: ["{n} 个 ACK {arrow}", "{n} 个 ACK {arrow}"],
        story: "  {handshake}；{teardown}；最终状态：客户端 {client}，服务器 {server}",
        handshake_rtt: "握手完成（RTT {rtt} ms）",
        handshake_kind: "握手{kind}",
        teardown_kind: "挥手{kind}",
        teardown_closed: "挥手{kind}，由{side}发起",
        teardown_cause: "挥手{kind}（{cause}），由{side}发起",
        handshakes: Handshakes {
            complete: "完成",
            syn_only: "只有 SYN",
            refused: "被拒绝",
            partial: "不完整",
            not_seen: "未抓到",
        },
        teardowns: Teardowns {
            four_way: "为四次挥手",
            three_way: "为三次挥手",
            simultaneous: "为同时关闭",
            reset: "由 RST 重置",
            half_closed: "为半关闭",
            open: "未发生",
        },
        causes: [
            "被拒绝",
            "异常关闭",
            "关闭后仍有数据",
            "半开连接",
            "FIN 之后",
            "其他",
        ],
        columns: [
            "帧",
            "方向",
            "标志",
            "角色",
            "步骤",
            "Seq",
            "Ack",
            "Len",
            "客户端状态",
            "服务器状态",
            "分析",
        ],
        times: ["时间", "时间 (UTC)", "间隔"],
        summary_columns: [
            "连接",
            "客户端",
            "服务器",
            "包数",
            "字节数",
            "握手",
            "挥手",
            "最终状态",
            "Zeek",
        ],
        summary_title: [
            "汇总：{n} 个连接（{what}：客户端→服务器/服务器→客户端）",
            "汇总：{n} 个连接（{what}：客户端→服务器/服务器→客户端）",
        ],
        summary_what: ["包数和字节数", "字节数"],
        overview: Overviews {
            totals: "概览：{connections}，{segments}，载荷 {bytes} 字节，从第一个报文段到最后一个共 {span} 秒",
            connections: ["{n} 个连接", "{n} 个连接"],
            segments: ["{n} 个报文段", "{n} 个报文段"],
            ended: "  结束方式：{list}",
            item: "{name} {n}",
            ends: [
                "完整",
                "被拒绝",
                "被重置",
                "半开",
                "半关闭",
                "仍打开",
                "已关闭（打开在抓包之前）",
            ],
            retransmitting: ["  有重传：{n} 个连接", "  有重传：{n} 个连接"],
            conn_states: "  Zeek conn_state：{list}",
            worst: "  {name}：{list}",
            worst_names: ["重传最多", "握手最慢", "持续最长"],
            worst_count: "连接 {conn}（{n}）",
            worst_secs: "连接 {conn}（{secs} 秒）",
        },
    },
};

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
    }

    #[test]
    fn a_chinese_locale_chooses_chinese() {
        assert_eq!(Lang::from_locale("zh_CN.UTF-8"), Lang::Zh);
        assert_eq!(Lang::from_locale("zh_TW"), Lang::Zh);
        assert_eq!(Lang::from_locale("C.UTF-8"), Lang::En);
        assert_eq!(Lang::from_locale("en_US.UTF-8"), Lang::En);
    }
}
