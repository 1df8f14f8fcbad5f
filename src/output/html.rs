//! One self-contained HTML page (`--format html`): each connection's diagram as SVG, and
//! a capture's overview and summary table, shown above the diagrams, sortable and
//! filterable in the page (inline script, no network). Past `MAX_DIAGRAMS` connections only
//! the problem connections are drawn, so that a page of a big capture opens in seconds.

use std::collections::HashMap;
use std::fmt::Display;
use std::io::{self, BufRead, Write};

use super::diagram::{Diagram, Picture};
use super::explain::{Said, Teller};
use super::filter::is_problem;
use super::order::{InOrder, MEMORY_LIMIT, Mode, Tape};
use super::overview::Overview;
use super::story::zeek;
use super::svg::{self, DEFS, STYLE, WIDTH};
use super::time::utc;
use super::words::{Words, fill};
use super::{Lang, Source, TimeShown, View};
use crate::annotate::{ConnectionRecord, Record};
use crate::xml::escape as xml;

/// Connections drawn in full on a page; past them, problem connections only.
const MAX_DIAGRAMS: u64 = 2_000;

/// Summary rows shown at first (the rest a click away): a browser lays out every row shown,
/// and 50,000 rows took it 8 s.
const ROWS: usize = 1_000;

/// Sorting by a column's header and filtering rows by their text or by trouble.
const SCRIPT: &str = r#"
for (const t of document.querySelectorAll("table.summary")) {
  const body = t.tBodies[0];
  const bar = t.previousElementSibling;
  const text = bar.querySelector("input[type=search]");
  const trouble = bar.querySelector("input[type=checkbox]");
  const more = bar.querySelector("button");
  let limit = ROWS;
  const apply = () => {
    const q = text.value.toLowerCase();
    let shown = 0, matched = 0;
    for (const r of body.rows) {
      const words = [...r.cells].map(c => c.textContent).join("	").toLowerCase();
      const match = (!trouble.checked || r.classList.contains("problem")) && words.includes(q);
      matched += match;
      r.hidden = !(match && shown < limit);
      shown += !r.hidden;
    }
    const said = shown < matched ? bar.dataset.of : bar.dataset.shown;
    bar.querySelector("output").value = said.replace("{shown}", shown).replace("{matched}", matched);
    more.hidden = shown === matched;
  };
  t.querySelectorAll("th").forEach((th, i) => th.addEventListener("click", () => {
    const up = th.dataset.order !== "up";
    t.querySelectorAll("th").forEach(h => delete h.dataset.order);
    th.dataset.order = up ? "up" : "down";
    const key = r => r.cells[i].dataset.v ?? r.cells[i].textContent;
    const rows = [...body.rows].sort((a, b) => {
      const x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
      const c = (isNaN(nx) || isNaN(ny)) ? x.localeCompare(y) : nx - ny;
      return up ? c : -c;
    });
    body.append(...rows);
    apply();
  }));
  text.addEventListener("input", apply);
  trouble.addEventListener("change", apply);
  more.addEventListener("click", () => { limit = Infinity; apply(); });
  apply();
}
// A link to a row not shown (past the first rows) shows it.
document.addEventListener("click", e => {
  const a = e.target.closest("a[href^='#']");
  const row = a && document.getElementById(a.getAttribute("href").slice(1));
  if (row && row.hidden) row.hidden = false;
});
"#;

pub struct Html<W: Write> {
    out: W,
    absolute: bool,
    /// Whether the page has begun.
    page: bool,
    /// The summary rows, in index order, kept for the capture's end (memory, then a file).
    rows: InOrder<Tape>,
    overview: Overview,
    /// Connections drawn, and those left out past `MAX_DIAGRAMS`.
    drawn: u64,
    left_out: u64,
    /// The number of the capture, for the anchors of its connections, and its name when
    /// several share the page.
    captures: u32,
    label: Option<String>,
    /// The capture's name and size, for the heading.
    source: (String, Option<u64>),
    time: TimeShown,
    /// Each connection told in words, shown beside its diagram: what was said of the
    /// connections not yet drawn.
    teller: Teller,
    said: HashMap<u64, Vec<String>>,
    words: &'static Words,
    lang: Lang,
}

impl<W: Write> Html<W> {
    pub fn new(out: W, view: &View) -> Self {
        Html {
            out,
            absolute: view.absolute,
            page: false,
            rows: InOrder::new(Tape::new(MEMORY_LIMIT), Mode::Ordered),
            overview: Overview::default(),
            drawn: 0,
            left_out: 0,
            captures: 0,
            label: None,
            source: (String::new(), None),
            time: view.time,
            teller: Teller::new(view.lang),
            said: HashMap::new(),
            words: view.lang.words(),
            lang: view.lang,
        }
    }

    /// Keeps the connection's summary row for the end.
    fn keep_row(&mut self, c: &ConnectionRecord, drawn: bool) -> io::Result<()> {
        self.overview.add(c);
        let k = self.captures;
        let n = c.conn;
        let conn = if drawn {
            format!("<a href=\"#c{k}-conn-{n}\">{n}</a>")
        } else {
            n.to_string()
        };
        self.rows.to(Some(n));
        writeln!(
            self.rows,
            "<tr id=\"c{k}-row-{n}\"{problem}><td data-v=\"{n}\">{conn}</td><td>{}</td><td>{}</td><td data-v=\"{}\">{}/{}</td>\
             <td data-v=\"{}\">{}/{}</td><td>{}</td><td>{}</td><td>{}/{}</td><td>{}</td><td>{}</td></tr>",
            xml(&c.client.0.to_string()),
            xml(&c.server.0.to_string()),
            c.packets.c2s + c.packets.s2c,
            c.packets.c2s,
            c.packets.s2c,
            c.bytes.c2s + c.bytes.s2c,
            c.bytes.c2s,
            c.bytes.s2c,
            c.handshake.name(),
            c.teardown.name(),
            c.client_state.0.name(),
            c.server_state.0.name(),
            xml(&zeek(c)),
            xml(&notes(c, self.words)),
            problem = if is_problem(c) {
                " class=\"problem\""
            } else {
                ""
            },
        )?;
        self.rows.to(None);
        self.rows.done(n, true)
    }

    pub fn writer(&mut self) -> &mut W {
        &mut self.out
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    /// The capture's overview and summary; the page's style shows them above its
    /// diagrams.
    fn summary(&mut self) -> io::Result<()> {
        self.rows.release_all()?;
        let page = &self.words.page;
        let (name, bytes) = &self.source;
        let mut about = Vec::new();
        if let Some(bytes) = bytes {
            about.push(size(*bytes));
        }
        if let Some((first, last)) = self.overview.epoch_span() {
            let secs = format!("{:.6}", last.saturating_sub(first) as f64 / 1e9);
            let span = [
                ("first", &utc(first) as &dyn Display),
                ("last", &utc(last)),
                ("secs", &secs),
            ];
            about.push(fill(page.span, &span));
        }
        writeln!(
            self.out,
            "<section class=\"summary\"><h1>{}</h1><p class=\"capture\">{}</p><h2>{}</h2><pre>{}</pre>",
            xml(name),
            xml(&about.join(self.words.list_sep)),
            xml(page.overview),
            xml(&self.overview.text(self.words))
        )?;
        self.overview = Overview::default();
        let left_out = std::mem::take(&mut self.left_out);
        self.drawn = 0;
        if left_out > 0 {
            let command = "<code>synfin --format html --conn N</code>";
            let values = [
                ("max", &MAX_DIAGRAMS as &dyn Display),
                ("n", &left_out),
                ("command", &command),
            ];
            let note = fill(&xml(page.left_out), &values);
            writeln!(self.out, "<p class=\"note\">{note}</p>")?;
        }
        let red = format!("<span class=\"flagged\">{}</span>", xml(page.red));
        let header: String = self
            .words
            .drawn
            .summary_columns
            .iter()
            .chain([&page.notes])
            .map(|column| format!("<th>{}</th>", xml(column)))
            .collect();
        writeln!(
            self.out,
            "<p class=\"legend\">{}</p>\
             <h2>{}</h2><p class=\"bar\" data-shown=\"{}\" data-of=\"{}\"><input type=\"search\" placeholder=\"{}\"/> \
             <label><input type=\"checkbox\"/> {}</label> <output></output> \
             <button hidden=\"hidden\">{}</button></p>\
             <table class=\"summary\"><thead><tr>{header}</tr></thead><tbody>",
            fill(&xml(page.legend), &[("red", &red)]),
            xml(page.summary),
            xml(page.shown),
            xml(page.shown_of),
            xml(page.filter),
            xml(page.problems_only),
            xml(page.show_all),
        )?;
        let rows = self.rows.get_mut().rewind()?;
        for (i, line) in rows.lines().enumerate() {
            let line = line?;
            // Past the first rows, hidden until asked for (the page's script pages them).
            match line.strip_prefix("<tr ") {
                Some(rest) if i >= ROWS => writeln!(self.out, "<tr hidden=\"hidden\" {rest}")?,
                _ => writeln!(self.out, "{line}")?,
            }
        }
        // The next capture's table starts empty.
        self.rows.get_mut().clear();
        writeln!(self.out, "</tbody></table></section>")
    }
}

impl<W: Write> Picture for Html<W> {
    fn begin(&mut self, source: &Source<'_>) -> io::Result<()> {
        let label = source.label();
        self.captures += 1;
        self.label = label.map(str::to_string);
        // Named as the user named it, without the directories.
        let name = source.path.rsplit('/').next().unwrap_or(source.path);
        self.source = (name.to_string(), source.bytes);
        if !self.page {
            self.page = true;
            write!(
                self.out,
                "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"/>\
                 <title>synfin: {}</title><style>{STYLE}\
                 body{{font-family:system-ui,sans-serif;margin:24px}}\
                 table{{border-collapse:collapse}}td,th{{padding:2px 10px;text-align:left;border-bottom:1px solid #ddd}}\
                 th{{cursor:pointer}}th[data-order=up]::after{{content:\" ▲\"}}th[data-order=down]::after{{content:\" ▼\"}}\
                 tr.problem td:first-child{{border-left:3px solid #c0392b}}span.flagged{{color:#c0392b;font-weight:bold}}\
                 body{{display:flex;flex-direction:column}}section.summary{{order:-1}}section[id]{{content-visibility:auto;contain-intrinsic-size:auto 420px}}\
                 section[id]{{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}}section[id] p.back{{flex-basis:100%}}\
                 details.explain{{flex:1 1 24em;max-width:46em;font-size:14px;line-height:1.45}}details.explain p{{margin:0 0 6px}}details.explain p.states{{margin-left:1.5em;color:#555}}\
                 </style></head><body>\n\
                 <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"0\" height=\"0\" style=\"position:absolute\">{DEFS}</svg>\n",
                self.lang.code(),
                xml(&self.source.0),
            )?;
        }
        if let Some(label) = label {
            writeln!(self.out, "<h1>{}</h1>", xml(label))?;
        }
        Ok(())
    }

    fn draw(&mut self, d: &Diagram<'_>) -> io::Result<()> {
        // Past the first connections, the clean ones are left out (their parts before the
        // end are drawn only while under the bound).
        let wanted = self.drawn < MAX_DIAGRAMS || d.end.is_some_and(is_problem);
        if let Some(c) = d.end {
            self.keep_row(c, wanted)?;
            if wanted {
                self.drawn += 1;
            } else {
                self.left_out += 1;
            }
        }
        if !wanted {
            if let Some(c) = d.end {
                self.said.remove(&c.conn);
            }
            return Ok(());
        }
        let (group, height) = svg::group(d, self.absolute, self.time, self.lang.words());
        // The connection in words, once it is finished, beside its diagram.
        let words = d
            .end
            .and_then(|c| self.said.remove(&c.conn))
            .map(|said| {
                // The states under a segment's paragraph are indented in the text.
                let paragraph = |p: &String| match p.strip_prefix(' ') {
                    Some(states) => format!("<p class=\"states\">{}</p>", xml(states.trim_start())),
                    None => format!("<p>{}</p>", xml(p)),
                };
                let paragraphs: String = said.iter().map(paragraph).collect();
                format!(
                    "<details class=\"explain\" open=\"open\"><summary>{}</summary>{paragraphs}</details>",
                    xml(self.words.in_words)
                )
            })
            .unwrap_or_default();
        let k = self.captures;
        let (id, back) = d.end.map_or((String::new(), String::new()), |c| {
            (
                format!(" id=\"c{k}-conn-{}\"", c.conn),
                format!(
                    "<p class=\"back\"><a href=\"#c{k}-row-{}\">{}</a></p>",
                    c.conn,
                    xml(&fill(self.words.page.back, &[("n", &c.conn)]))
                ),
            )
        });
        writeln!(
            self.out,
            "<section{id}>{back}<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
             viewBox=\"0 0 {WIDTH} {height}\">{group}</svg>{words}</section>",
        )?;
        Ok(())
    }

    fn take(&mut self, record: &Record) {
        for said in self.teller.record(record) {
            if let Said::Paragraph(text) = said {
                let conn = match record {
                    Record::Segment(s) => s.conn,
                    Record::Connection(c) => c.conn,
                };
                self.said.entry(conn).or_default().push(text);
            }
        }
    }

    fn forget(&mut self, conn: u64) -> io::Result<()> {
        self.teller.forget(conn);
        self.said.remove(&conn);
        self.rows.done(conn, false)
    }

    fn end(&mut self) -> io::Result<()> {
        // What came after a connection was drawn is not told on the page.
        self.teller.late();
        self.said.clear();
        self.summary()?;
        self.out.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        if !self.page {
            self.begin(&Source::default())?;
        }
        // In a CDATA section for XML readers; to a browser, the markers are comments.
        writeln!(
            self.out,
            "<script>//<![CDATA[\nconst ROWS = {ROWS};{SCRIPT}//]]></script></body></html>"
        )?;
        self.out.flush()
    }
}

/// A connection's notes in the page's language, one after another.
fn notes(c: &ConnectionRecord, w: &Words) -> String {
    let said: Vec<String> = c.notes.iter().map(|n| w.note(*n).into_owned()).collect();
    said.join(w.state_sep)
}

/// A file's size as people read it: `812 B`, `14.2 kB`, `3.1 MB` (powers of 1000).
fn size(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    match (unit, units.get(unit)) {
        (0, _) => format!("{bytes} B"),
        (_, Some(u)) => format!("{value:.1} {u}"),
        (_, None) => format!("{bytes} B"),
    }
}
