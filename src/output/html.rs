//! One self-contained HTML page (`--format html`): each connection's diagram as SVG, then
//! the summary table with links to the diagrams.

use std::io::{self, Write};

use super::View;
use super::diagram::{Diagram, Picture};
use super::story::zeek;
use super::svg::{self, DEFS, STYLE, WIDTH};
use crate::annotate::ConnectionRecord;
use crate::xml::escape as xml;

/// Summary rows of a page, at most this many.
const MAX_ROWS: usize = 10_000;

pub struct Html<W: Write> {
    out: W,
    absolute: bool,
    /// Whether the page has begun.
    page: bool,
    /// The summary rows kept for the capture's end.
    rows: Vec<ConnectionRecord>,
    /// The number of the capture, for the anchors of its connections.
    captures: u32,
}

impl<W: Write> Html<W> {
    pub fn new(out: W, view: &View) -> Self {
        Html {
            out,
            absolute: view.absolute,
            page: false,
            rows: Vec::new(),
            captures: 0,
        }
    }

    pub fn writer(&mut self) -> &mut W {
        &mut self.out
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn summary(&mut self) -> io::Result<()> {
        writeln!(
            self.out,
            "<h2>Summary</h2><table><tr><th>Conn</th><th>Client</th><th>Server</th><th>Pkts</th>\
             <th>Bytes</th><th>Handshake</th><th>Teardown</th><th>Final states</th><th>Zeek</th><th>Notes</th></tr>"
        )?;
        let mut rows = std::mem::take(&mut self.rows);
        rows.sort_by_key(|c| c.conn);
        for c in rows {
            writeln!(
                self.out,
                "<tr><td><a href=\"#c{k}-conn-{n}\">{n}</a></td><td>{}</td><td>{}</td><td>{}/{}</td><td>{}/{}</td>\
                 <td>{}</td><td>{}</td><td>{}/{}</td><td>{}</td><td>{}</td></tr>",
                xml(&c.client.0.to_string()),
                xml(&c.server.0.to_string()),
                c.packets.c2s,
                c.packets.s2c,
                c.bytes.c2s,
                c.bytes.s2c,
                c.handshake.name(),
                c.teardown.name(),
                c.client_state.0.name(),
                c.server_state.0.name(),
                xml(&zeek(&c)),
                xml(&c.notes.join("; ")),
                n = c.conn,
                k = self.captures,
            )?;
        }
        writeln!(self.out, "</table>")
    }
}

impl<W: Write> Picture for Html<W> {
    fn begin(&mut self, label: Option<&str>) -> io::Result<()> {
        self.captures += 1;
        if !self.page {
            self.page = true;
            write!(
                self.out,
                "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>\
                 <title>synfin</title><style>{STYLE}\
                 body{{font-family:system-ui,sans-serif;margin:24px}}\
                 table{{border-collapse:collapse}}td,th{{padding:2px 10px;text-align:left;border-bottom:1px solid #ddd}}\
                 </style></head><body>\n\
                 <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"0\" height=\"0\" style=\"position:absolute\">{DEFS}</svg>\n",
            )?;
        }
        if let Some(label) = label {
            writeln!(self.out, "<h1>{}</h1>", xml(label))?;
        }
        Ok(())
    }

    fn draw(&mut self, d: &Diagram<'_>) -> io::Result<()> {
        let (group, height) = svg::group(d, self.absolute);
        let id = d.end.map_or(String::new(), |c| {
            format!(" id=\"c{}-conn-{}\"", self.captures, c.conn)
        });
        writeln!(
            self.out,
            "<section{id}><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
             viewBox=\"0 0 {WIDTH} {height}\">{group}</svg></section>",
        )?;
        if let Some(c) = d.end
            && self.rows.len() < MAX_ROWS
        {
            self.rows.push(c.clone());
        }
        Ok(())
    }

    fn end(&mut self) -> io::Result<()> {
        self.summary()?;
        self.out.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        if !self.page {
            self.begin(None)?;
        }
        writeln!(self.out, "</body></html>")?;
        self.out.flush()
    }
}
