//! What the terminal asks for: colour, width, UTF-8.

use std::io::IsTerminal;

use crate::cli::ColorChoice;

/// Whether to colour stdout: `--color`, then NO_COLOR, then "is it a
/// terminal".
pub fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            !no_color && std::io::stdout().is_terminal()
        }
    }
}

/// The width to fit tables to: `COLUMNS` when set, else the terminal's;
/// None when stdout is not a terminal.
pub fn output_width() -> Option<u16> {
    if let Some(columns) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(columns);
    }
    if std::io::stdout().is_terminal() {
        return comfy_table::Table::new().width();
    }
    None
}

/// Whether the terminal takes UTF-8: the first of LC_ALL, LC_CTYPE, LANG
/// that is set says so; none set counts as yes (today's default).
pub fn utf8_locale() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
        .is_none_or(|locale| {
            let lower = locale.to_ascii_lowercase();
            lower.contains("utf-8") || lower.contains("utf8")
        })
}
