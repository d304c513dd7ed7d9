//! Tables drawn as text: box drawing for the terminal (UTF-8 or ASCII) and
//! Markdown pipes, in the layout of comfy-table's condensed presets.
//!
//! Drawn here rather than by comfy-table because a ranking may have 200 000
//! rows: comfy-table keeps a styled cell object per cell and took 1.1 GB
//! and 5 s for such a table; this is one pass over the cells into one
//! string. Tables are fitted to the terminal before they are drawn
//! ([`super::cells::TextTable::fit`]), so no cell is ever wrapped.

use std::borrow::Cow;

use super::cells::{Cell, TextTable, text_width};
use crate::printable;

/// The characters of one table style.
struct Glyphs {
    /// Left, middle and right of the top border; None for no border.
    top: Option<[char; 4]>,
    /// Left, middle and right of the line under the header, and its fill.
    header_rule: [char; 4],
    /// Left, middle and right of the bottom border; None for no border.
    bottom: Option<[char; 4]>,
    /// Left border, column separator, right border of a row.
    row: [char; 3],
}

/// comfy-table's `UTF8_FULL_CONDENSED`.
const UTF8: Glyphs = Glyphs {
    top: Some(['┌', '┬', '┐', '─']),
    header_rule: ['╞', '╪', '╡', '═'],
    bottom: Some(['└', '┴', '┘', '─']),
    row: ['│', '┆', '│'],
};

/// comfy-table's `ASCII_FULL_CONDENSED`: the header rule has no
/// intersections.
const ASCII: Glyphs = Glyphs {
    top: Some(['+', '+', '+', '-']),
    header_rule: ['+', '=', '+', '='],
    bottom: Some(['+', '+', '+', '-']),
    row: ['|', '|', '|'],
};

/// Markdown pipes (comfy-table's `ASCII_MARKDOWN`).
const MARKDOWN: Glyphs = Glyphs {
    top: None,
    header_rule: ['|', '|', '|', '-'],
    bottom: None,
    row: ['|', '|', '|'],
};

/// ANSI codes of the header (bold) and of highlighted rows (red, bold).
const HEADER_STYLE: &str = "\x1b[1m";
const HIGHLIGHT_STYLE: &str = "\x1b[38;5;9m\x1b[1m";
const RESET: &str = "\x1b[0m";

/// How to draw a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// Box drawing in UTF-8.
    Utf8,
    /// Box drawing in ASCII.
    Ascii,
    /// Markdown pipes.
    Markdown,
}

/// The table drawn, lines joined by newlines, without a last newline; with
/// `color`, the header bold and highlighted rows red and bold. Cells that
/// came from an input are shown escaped ([`crate::printable`]; for
/// Markdown also `|` and HTML), the columns measured as shown.
pub fn draw(table: &TextTable, look: Look, color: bool) -> String {
    fn escaped(cell: &str, look: Look) -> Cow<'_, str> {
        match look {
            Look::Markdown => printable::markdown(cell),
            _ => printable::printable(cell),
        }
    }
    let escape = |cell: &str| -> String { escaped(cell, look).into_owned() };
    let changes = |cell: &str| matches!(escaped(cell, look), Cow::Owned(_));
    let hostile = table.header.iter().any(|cell| changes(cell))
        || table.rows.iter().flatten().any(|cell| changes(cell));
    if !hostile {
        return draw_as_is(table, look, color);
    }
    // Rare (a key with a control character or a `|`): the table copied
    // with its cells escaped.
    let escaped = TextTable {
        header: table.header.iter().map(|cell| escape(cell)).collect(),
        rows: table
            .rows
            .iter()
            .map(|row| row.iter().map(|cell| Cell::from(escape(cell))).collect())
            .collect(),
        numeric: table.numeric.clone(),
        highlight: table.highlight.clone(),
    };
    draw_as_is(&escaped, look, color)
}

fn draw_as_is(table: &TextTable, look: Look, color: bool) -> String {
    let glyphs = match look {
        Look::Utf8 => &UTF8,
        Look::Ascii => &ASCII,
        Look::Markdown => &MARKDOWN,
    };
    let widths = table.column_widths();
    let line_bytes: usize = widths.iter().map(|w| w + 3).sum::<usize>() + 1;
    let mut out = String::with_capacity((table.rows.len() + 4) * line_bytes * 2);
    if let Some(top) = glyphs.top {
        rule(&mut out, &widths, top);
    }
    let header_style = color.then_some(HEADER_STYLE);
    row(
        &mut out,
        &table.header,
        table,
        &widths,
        glyphs,
        header_style,
    );
    rule(&mut out, &widths, glyphs.header_rule);
    let mut highlighted = vec![false; table.rows.len()];
    for &index in &table.highlight {
        if let Some(slot) = highlighted.get_mut(index) {
            *slot = true;
        }
    }
    for (cells, highlight) in table.rows.iter().zip(highlighted) {
        let style = (color && highlight).then_some(HIGHLIGHT_STYLE);
        row(&mut out, cells, table, &widths, glyphs, style);
    }
    if let Some(bottom) = glyphs.bottom {
        rule(&mut out, &widths, bottom);
    }
    out.pop();
    out
}

/// A horizontal line: `[left, middle, right, fill]`; ASCII's header rule
/// has its fill where the columns meet.
fn rule(out: &mut String, widths: &[usize], [left, middle, right, fill]: [char; 4]) {
    out.push(left);
    for (index, &width) in widths.iter().enumerate() {
        if index > 0 {
            out.push(middle);
        }
        out.extend(std::iter::repeat_n(fill, width + 2));
    }
    out.push(right);
    out.push('\n');
}

fn row<C: AsRef<str>>(
    out: &mut String,
    cells: &[C],
    table: &TextTable,
    widths: &[usize],
    glyphs: &Glyphs,
    style: Option<&str>,
) {
    let [left, separator, right] = glyphs.row;
    out.push(left);
    for (index, (cell, &width)) in cells.iter().zip(widths).enumerate() {
        let cell = cell.as_ref();
        if index > 0 {
            out.push(separator);
        }
        if let Some(style) = style {
            out.push_str(style);
        }
        let pad = width.saturating_sub(text_width(cell));
        out.push(' ');
        if table.numeric.get(index) == Some(&true) {
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(cell);
        } else {
            out.push_str(cell);
            out.extend(std::iter::repeat_n(' ', pad));
        }
        out.push(' ');
        if style.is_some() {
            out.push_str(RESET);
        }
    }
    out.push(right);
    out.push('\n');
}
