//! A table's cells and their layout, by hand: comfy-table's layout costs more than all the
//! rest of a table and needs every row at once, so segment tables are laid out here, held
//! by a test to what comfy-table lays out; and narrowed here to a terminal's width.

use crate::output::story::{columns, short_step};

/// The columns of a segment table aligned right: frame, time, and the three numbers.
pub(super) const SEGMENT_RIGHT: [usize; 5] = [0, 1, 6, 7, 8];

/// Columns of the segment table and of the summary that a narrowed table changes.
pub(super) const FLAGS: usize = 3;
pub(super) const ROLE: usize = 4;
pub(super) const STEP: usize = 5;
pub(super) const ANALYSIS: usize = 11;
pub(super) const PKTS: usize = 3;
pub(super) const TEARDOWN: usize = 6;
pub(super) const FINAL_STATES: usize = 7;
pub(super) const ZEEK: usize = 8;

/// How far a table is narrowed to fit a terminal: each level keeps the one before.
/// Segment tables: 1 drops the flags (the role names them), 2 shortens the steps, 3 puts
/// one space between columns; past that, the analysis goes on a line under its row. The
/// summary: 1 drops the final states (the teardown and the story line tell them) and the
/// reset cause (the story line tells it), 2 keeps
/// Zeek's `conn_state` without its history, 3 as above.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Fit {
    pub(super) level: u8,
    /// The analysis under its row.
    pub(super) below: bool,
}

impl Fit {
    pub(super) const WIDE: Fit = Fit {
        level: 0,
        below: false,
    };
    /// A segment table's levels, and the summary's, which has one more: 4 drops the
    /// packet counts (the bytes stay).
    pub(super) const LEVELS: u8 = 3;
    pub(super) const SUMMARY_LEVELS: u8 = 4;

    pub(super) fn tight(self) -> bool {
        self.level >= 3
    }

    /// The first of `fits` that is at most `width` wide, or the last.
    pub(super) fn first(width: usize, fits: &[Fit], measure: impl Fn(Fit) -> usize) -> Fit {
        fits.iter()
            .copied()
            .find(|&fit| measure(fit) <= width)
            .or(fits.last().copied())
            .unwrap_or(Fit::WIDE)
    }

    pub(super) fn levels(last: u8, below: bool) -> impl Iterator<Item = Fit> {
        (0..=last).map(move |level| Fit { level, below })
    }

    /// The width of a table whose columns are `widths` wide.
    pub(super) fn table_width(self, widths: impl Iterator<Item = usize>) -> usize {
        let (sum, n) = widths.fold((0, 0usize), |(sum, n), w| (sum + w, n + 1));
        if self.tight() {
            sum + n.saturating_sub(1)
        } else {
            sum + (2 * n).saturating_sub(1)
        }
    }

    /// A segment table's columns shown in each row, each with its width.
    pub(super) fn segment_columns(
        self,
        widths: &[usize],
        short_steps: usize,
    ) -> impl Iterator<Item = (usize, usize)> {
        widths
            .iter()
            .copied()
            .enumerate()
            .filter_map(move |(i, w)| match i {
                FLAGS if self.level >= 1 => None,
                STEP if self.level >= 2 => Some((i, short_steps)),
                ANALYSIS if self.below => None,
                _ => Some((i, w)),
            })
    }

    /// The summary's columns shown, each with its width; `zeek_state`: the widest
    /// `conn_state` in the table, `teardown_short`: the widest teardown without its reset
    /// cause.
    pub(super) fn summary_columns(
        self,
        widths: &[usize; 9],
        zeek_state: usize,
        teardown_short: usize,
    ) -> Vec<(usize, usize)> {
        widths
            .iter()
            .copied()
            .enumerate()
            .filter(|&(i, _)| {
                !(self.level >= 1 && i == FINAL_STATES || self.level >= 4 && i == PKTS)
            })
            .map(|(i, w)| match i {
                ZEEK if self.level >= 2 => (i, "Zeek".len().max(zeek_state)),
                TEARDOWN if self.level >= 1 => (i, "Teardown".len().max(teardown_short)),
                _ => (i, w),
            })
            .collect()
    }
}

/// A table laid out exactly as comfy-table lays it out without a width limit (`table`, one
/// space of padding right of each cell), by hand: comfy-table's layout costs more than all
/// the rest of a table, and needs every row at once. Cells are ASCII but for the arrows,
/// one column each, so characters are columns. Narrowed (`Fit`), it shows some columns,
/// without padding when tight, one of them on a line under its row.
pub(super) struct Layout {
    /// The grid's columns shown in a row, in order, and their widths.
    columns: Vec<usize>,
    widths: Vec<usize>,
    right: Vec<bool>,
    tight: bool,
    /// The column shown under its row, from where that line starts.
    below: Option<(usize, usize)>,
    /// The grid's column painted red (ANSI escapes).
    red: Option<usize>,
    /// The columns shown are the grid's first ones, in order.
    prefix: bool,
    pub(super) rule: String,
}

impl Layout {
    /// A layout of `widths.len()` columns.
    pub(super) fn new(widths: Vec<usize>, right_aligned: &[usize], fit: Fit) -> Self {
        Layout::of_columns(widths.into_iter().enumerate(), right_aligned, fit)
    }

    pub(super) fn of_columns(
        columns: impl Iterator<Item = (usize, usize)>,
        right_aligned: &[usize],
        fit: Fit,
    ) -> Self {
        let (columns, widths): (Vec<usize>, Vec<usize>) = columns.unzip();
        let prefix = columns.iter().enumerate().all(|(i, c)| i == *c);
        // Each column has one space of padding, and a separator stands between columns.
        let natural = fit.table_width(widths.iter().copied());
        Layout {
            right: columns.iter().map(|i| right_aligned.contains(i)).collect(),
            columns,
            widths,
            tight: fit.tight(),
            below: None,
            red: None,
            prefix,
            rule: "─".repeat(natural),
        }
    }

    /// Each column's width for `header` and `grid`.
    pub(super) fn natural(header: &[&str], grid: &Grid) -> Vec<usize> {
        header
            .iter()
            .zip(&grid.widths)
            .map(|(h, w)| columns(h).max(*w))
            .collect()
    }

    /// The layout that fits `header` and `grid` at their natural width.
    pub(super) fn of(header: &[&str], grid: &Grid, right_aligned: &[usize]) -> Self {
        Layout::new(Layout::natural(header, grid), right_aligned, Fit::WIDE)
    }

    /// The layout of a segment table narrowed to fit `width`, and how it was narrowed.
    pub(super) fn fitting(header: &[&str], grid: &Grid, width: usize, color: bool) -> (Self, Fit) {
        let widths = Layout::natural(header, grid);
        let short_steps = grid
            .rows()
            .filter_map(|mut row| row.nth(STEP))
            .map(|(step, _)| columns(short_step(step)))
            .fold(header.get(STEP).map_or(0, |h| columns(h)), usize::max);
        let fits: Vec<Fit> = Fit::levels(Fit::LEVELS, false)
            .chain(Fit::levels(Fit::LEVELS, true).filter(|_| widths.len() > ANALYSIS))
            .collect();
        let fit = Fit::first(width, &fits, |fit| {
            fit.table_width(fit.segment_columns(&widths, short_steps).map(|(_, w)| w))
        });
        let mut layout = Layout::of_columns(
            fit.segment_columns(&widths, short_steps),
            &SEGMENT_RIGHT,
            fit,
        );
        if fit.below {
            // Under the role: the analysis says what is odd about it.
            let gap = if fit.tight() { 1 } else { 2 };
            let indent = layout
                .columns
                .iter()
                .zip(&layout.widths)
                .take_while(|(i, _)| **i < ROLE)
                .map(|(_, w)| w + gap)
                .sum();
            layout.below = Some((ANALYSIS, indent));
        }
        layout.red = color.then_some(ANALYSIS);
        (layout, fit)
    }

    /// Appends a line of `cells` (text, width), one per shown column, without its newline;
    /// `trouble`: the red column is painted.
    pub(super) fn line_into<'a>(
        &self,
        text: &mut String,
        cells: impl Iterator<Item = (&'a str, usize)>,
        trouble: bool,
    ) {
        for (i, (((cell, width), w), right)) in cells.zip(&self.widths).zip(&self.right).enumerate()
        {
            if i > 0 {
                text.push(' ');
            }
            let fill = w.saturating_sub(width);
            if *right {
                spaces(text, fill);
            }
            match self.red {
                Some(red) if self.columns.get(i) == Some(&red) => {
                    paint(text, cell, trouble && !cell.is_empty());
                }
                _ => text.push_str(cell),
            }
            if !*right {
                spaces(text, fill);
            }
            if !self.tight {
                text.push(' ');
            }
        }
    }

    /// Where `line_into` puts each cell of a line of ASCII cells, for `Places::line`; `None`
    /// for a layout that paints a column.
    pub(super) fn places(&self) -> Option<Places> {
        if self.red.is_some() {
            return None;
        }
        let (mut at, mut end) = (Vec::with_capacity(self.widths.len()), 0);
        for (i, (&width, &right)) in self.widths.iter().zip(&self.right).enumerate() {
            end += usize::from(i > 0);
            at.push((end, width, right));
            end += width + usize::from(!self.tight);
        }
        Some(Places {
            blank: vec![b' '; end],
            at,
        })
    }

    /// The whole table: rule, header, rule, rows, rule. `cell` rewrites a grid's cell
    /// (by column) for a narrowed table.
    pub(super) fn table<'g>(
        &self,
        header: &[&'g str],
        grid: &'g Grid,
        cell: impl Fn(usize, &'g str) -> &'g str,
    ) -> String {
        let rows = grid.rows.max(1);
        // Rules are three bytes a column; a line is at most its width and a few arrows.
        let width = self.rule.len() / 3 + 8;
        let mut out = String::with_capacity((rows + 1) * width + 3 * self.rule.len() + 8);
        out.push_str(&self.rule);
        out.push('\n');
        let header = header.iter().map(|h| (*h, columns(h)));
        self.line_into(&mut out, self.pick(header, &cell), false);
        out.push('\n');
        out.push_str(&self.rule);
        out.push('\n');
        for (r, row) in grid.rows().enumerate() {
            let trouble = grid.troubling(r);
            let row: Vec<(&str, usize)> = if self.below.is_some() || !self.prefix {
                row.collect()
            } else {
                self.line_into(&mut out, row, trouble);
                out.push('\n');
                continue;
            };
            self.line_into(&mut out, self.pick(row.iter().copied(), &cell), trouble);
            out.push('\n');
            if let Some((column, indent)) = self.below
                && let Some((text, _)) = row.get(column).filter(|t| !t.0.is_empty())
            {
                spaces(&mut out, indent);
                paint(&mut out, text, trouble && self.red == Some(column));
                out.push('\n');
            }
        }
        out.push_str(&self.rule);
        out.push('\n');
        out
    }

    /// The cells of the shown columns.
    pub(super) fn pick<'a, 'g>(
        &'a self,
        cells: impl Iterator<Item = (&'g str, usize)> + 'a,
        cell: &'a impl Fn(usize, &'g str) -> &'g str,
    ) -> impl Iterator<Item = (&'g str, usize)> + 'a {
        let mut shown = self.columns.iter().peekable();
        cells
            .enumerate()
            .filter(move |(i, _)| shown.next_if(|&&c| c == *i).is_some())
            .map(|(i, (text, width))| {
                let shown = cell(i, text);
                (shown, if shown == text { width } else { columns(shown) })
            })
    }
}

/// A line of spaces, and where each column's cell goes in it (start, width, aligned right):
/// a line of ASCII cells is that line with each cell copied into place, a copy a cell
/// instead of `line_into`'s appends (a flood's million summary rows).
pub(super) struct Places {
    blank: Vec<u8>,
    at: Vec<(usize, usize, bool)>,
}

impl Places {
    /// Appends the line of `cells` (text, width) as `line_into` writes it, if each is ASCII
    /// (its width is its length) and fits its column; otherwise appends nothing and says so.
    pub(super) fn line<'a>(
        &self,
        out: &mut Vec<u8>,
        cells: impl Iterator<Item = (&'a [u8], usize)>,
    ) -> bool {
        let base = out.len();
        out.extend_from_slice(&self.blank);
        let mut placed = 0;
        for ((cell, width), &(start, column, right)) in cells.zip(&self.at) {
            placed += 1;
            let start = base
                + start
                + if right {
                    column.saturating_sub(width)
                } else {
                    0
                };
            let place = out.get_mut(start..start + cell.len());
            match place {
                Some(place) if cell.len() == width && width <= column => {
                    place.copy_from_slice(cell);
                }
                _ => {
                    out.truncate(base);
                    return false;
                }
            }
        }
        if placed != self.at.len() {
            out.truncate(base);
            return false;
        }
        true
    }
}

/// Appends `text`, in bold red if `red`.
pub(super) fn paint(out: &mut String, text: &str, red: bool) {
    if red {
        out.push_str("\x1b[1;31m");
        out.push_str(text);
        out.push_str("\x1b[0m");
    } else {
        out.push_str(text);
    }
}

/// Appends `n` spaces (a slice at a time: a char at a time was a tenth of a table's time).
pub(super) fn spaces(text: &mut String, mut n: usize) {
    const SPACES: &str = "                                                                ";
    while n > 0 {
        let k = n.min(SPACES.len());
        text.push_str(SPACES.get(..k).unwrap_or_default());
        n -= k;
    }
}

/// A table's cells, row after row, in one string: a cell per column, each ended where
/// `cells` says, with its width (one allocation for a whole table, not one per cell).
pub(super) struct Grid {
    pub(super) columns: usize,
    pub(super) rows: usize,
    pub(super) text: String,
    /// Where each cell ends in `text`, and its width in columns (32 bits: a table is at most
    /// `SEGMENT_ROWS` rows, and held for every open connection).
    pub(super) cells: Vec<(u32, u32)>,
    /// The column of the next cell.
    pub(super) column: usize,
    /// Each column's widest cell.
    pub(super) widths: Vec<usize>,
    /// Rows whose analysis signals trouble (painted red); a port reused or a window update
    /// is no retransmission.
    pub(super) harmless: Vec<usize>,
}

impl Grid {
    pub(super) fn new(columns: usize, rows: usize) -> Self {
        Grid {
            columns: columns.max(1),
            rows: 0,
            text: String::with_capacity(rows * columns * 8),
            cells: Vec::with_capacity(rows * columns),
            column: 0,
            widths: vec![0; columns],
            harmless: Vec::new(),
        }
    }

    /// Whether row `r`'s analysis, if any, signals trouble.
    pub(super) fn troubling(&self, r: usize) -> bool {
        self.harmless.binary_search(&r).is_err()
    }

    /// Where the last cell ended.
    pub(super) fn last_end(&self) -> usize {
        self.cells.last().map_or(0, |c| c.0 as usize)
    }

    /// Ends the cell written so far into `text` with `tail`.
    pub(super) fn cell(&mut self, tail: &str) {
        self.text.push_str(tail);
        self.end_cell();
    }

    pub(super) fn end_cell(&mut self) {
        let width = self.text.get(self.last_end()..).map_or(0, columns);
        self.end_cell_of(width);
    }

    /// Ends an ASCII cell: as wide as it is long.
    pub(super) fn end_ascii_cell(&mut self) {
        self.end_cell_of(self.text.len().saturating_sub(self.last_end()));
    }

    pub(super) fn ascii_cell(&mut self, tail: &str) {
        self.text.push_str(tail);
        self.end_ascii_cell();
    }

    pub(super) fn end_cell_of(&mut self, width: usize) {
        if let Some(w) = self.widths.get_mut(self.column) {
            *w = (*w).max(width);
        }
        let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        self.cells.push((narrow(self.text.len()), narrow(width)));
        self.column += 1;
        if self.column == self.columns {
            self.column = 0;
            self.rows += 1;
        }
    }

    /// Each row's cells: text and width.
    pub(super) fn rows(&self) -> impl Iterator<Item = impl Iterator<Item = (&str, usize)>> {
        self.cells
            .chunks(self.columns)
            .enumerate()
            .map(move |(r, cells)| {
                let start = r
                    .checked_mul(self.columns)
                    .and_then(|i| i.checked_sub(1))
                    .and_then(|i| self.cells.get(i))
                    .map_or(0, |c| c.0 as usize);
                cells.iter().scan(start, move |from, &(to, width)| {
                    let to = to as usize;
                    let cell = self.text.get(*from..to).unwrap_or_default();
                    *from = to;
                    Some((cell, width as usize))
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// A line placed (`Places::line`) is the line `line_into` writes, wherever the cells
        /// are ASCII and fit; where one is not or does not, nothing is placed.
        #[test]
        fn placed_lines_are_the_lines_line_into_writes(
            cells in proptest::collection::vec(("[ -~]{0,6}|é", 0usize..8, any::<bool>()), 1..6),
            tight in any::<bool>(),
            fewer in any::<bool>(),
        ) {
            let widths: Vec<usize> = cells.iter().map(|(_, w, _)| *w).collect();
            let right: Vec<usize> = (0..cells.len()).filter(|&i| cells[i].2).collect();
            let fit = Fit { level: if tight { 3 } else { 0 }, below: false };
            let layout = Layout::new(widths, &right, fit);
            let shown = cells.len() - usize::from(fewer);
            let texts = cells.iter().take(shown).map(|(t, ..)| (t.as_str(), columns(t)));
            let mut want = String::from("x");
            layout.line_into(&mut want, texts.clone(), false);
            let mut placed = b"x".to_vec();
            let places = layout.places().expect("nothing painted");
            let fits = cells.iter().all(|(t, w, _)| t.is_ascii() && t.len() <= *w);
            let done = places.line(&mut placed, texts.map(|(t, w)| (t.as_bytes(), w)));
            prop_assert_eq!(done, fits && !fewer);
            if done {
                prop_assert_eq!(String::from_utf8_lossy(&placed), want);
            } else {
                prop_assert_eq!(placed, b"x".to_vec());
            }
        }
    }
}
