//! Text from an input made safe for the outputs people read (terminal,
//! Markdown, SVG, notes and errors on stderr): characters that would act
//! on the terminal or hide or reorder the text around them are shown
//! escaped, `\r` or `\u{202e}`. Machine outputs (CSV, JSON, Parquet) keep
//! the exact text.

use std::borrow::Cow;

/// Whether `c` must not reach a reader's terminal as it is: C0 controls
/// (a carriage return rewrites the line, ESC starts a sequence), DEL, C1
/// controls (U+009B is an 8-bit CSI), the bidirectional controls (U+202E
/// reverses the rest of a row, figures included) and the invisible format
/// characters (U+200B hides where a name differs).
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{ad}'
        | '\u{61c}'
        | '\u{180e}'
        | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}'
        | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}'
        | '\u{e0000}'..='\u{e007f}'
    )
}

/// `text` with every [`is_unsafe`] character escaped: `\t`, `\n`, `\r`
/// by name, the others as `\u{..}` in lower-case hex. Borrowed when
/// nothing needs it (the common case, checked byte by byte for ASCII).
pub fn printable(text: &str) -> Cow<'_, str> {
    let needs = if text.is_ascii() {
        text.bytes().any(|b| b < 0x20 || b == 0x7f)
    } else {
        text.chars().any(is_unsafe)
    };
    if !needs {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `text` for a Markdown table cell or line: [`printable`], and `|`
/// (which would end the cell), the start of an HTML tag or comment and of
/// an entity escaped, as GitHub's table syntax needs. `<0.001` stays as it
/// is: no tag starts with a digit.
pub fn markdown(text: &str) -> Cow<'_, str> {
    let shown = printable(text);
    let special = |at: usize, c: char| match c {
        '|' => true,
        '<' => shown[at + 1..]
            .chars()
            .next()
            .is_some_and(|next| next.is_ascii_alphabetic() || matches!(next, '/' | '!' | '?')),
        '&' => shown[at + 1..]
            .chars()
            .next()
            .is_some_and(|next| next.is_ascii_alphanumeric() || next == '#'),
        _ => false,
    };
    if !shown.char_indices().any(|(at, c)| special(at, c)) {
        return shown;
    }
    let mut out = String::with_capacity(shown.len() + 8);
    for (at, c) in shown.char_indices() {
        match c {
            '|' if special(at, c) => out.push_str("\\|"),
            '<' if special(at, c) => out.push_str("&lt;"),
            '&' if special(at, c) => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_would_act_on_a_terminal_is_shown_escaped() {
        assert_eq!(printable("kernel_lock\rEVIL"), "kernel_lock\\rEVIL");
        assert_eq!(printable("\u{1b}]0;pwned\u{7}"), "\\u{1b}]0;pwned\\u{7}");
        assert_eq!(printable("a\u{9b}31mb"), "a\\u{9b}31mb");
        assert_eq!(printable("lock\u{202e}321"), "lock\\u{202e}321");
        assert_eq!(printable("sched\u{200b}_lock"), "sched\\u{200b}_lock");
        assert_eq!(printable("tab\there"), "tab\\there");
        assert_eq!(printable("\u{7f}"), "\\u{7f}");
        // Ordinary text, UTF-8 included, is borrowed as it is.
        for text in [
            "kernel_lock",
            "uvm_map_entry_kmem_pool",
            "µs",
            "ロック",
            "x+0x1c",
        ] {
            assert!(matches!(printable(text), Cow::Borrowed(_)), "{text}");
        }
        // Escaping is idempotent: its output has nothing left to escape.
        let once = printable("a\r\u{202e}b").into_owned();
        assert_eq!(printable(&once), once);
    }

    #[test]
    fn markdown_cells_keep_their_columns_and_show_html_as_text() {
        assert_eq!(markdown("a|b"), "a\\|b");
        assert_eq!(
            markdown("<img src=x onerror=y>"),
            "&lt;img src=x onerror=y>"
        );
        assert_eq!(markdown("</td>"), "&lt;/td>");
        assert_eq!(markdown("<!-- x -->"), "&lt;!-- x -->");
        assert_eq!(markdown("&lt;"), "&amp;lt;");
        assert_eq!(markdown("<0.001"), "<0.001");
        assert_eq!(markdown("a & b"), "a & b");
        assert_eq!(markdown("x\r|"), "x\\r\\|");
    }
}
