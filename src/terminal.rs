//! What the terminal asks for: colour, width, UTF-8.

use std::io::IsTerminal;

/// Whether to colour stdout: `--color`, then NO_COLOR, then
/// CLICOLOR_FORCE (colour into a pipe), then "is it a terminal that is not
/// `TERM=dumb`".
pub fn use_color(choice: ColorChoice) -> bool {
    color_on(choice, std::io::stdout().is_terminal())
}

/// Whether the warnings on stderr are coloured: as [`use_color`], for
/// stderr (a report piped on, its warnings still on the terminal).
pub fn use_color_on_stderr(choice: ColorChoice) -> bool {
    color_on(choice, std::io::stderr().is_terminal())
}

/// The colour decision for a stream that is a terminal or not.
fn color_on(choice: ColorChoice, terminal: bool) -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if set("NO_COLOR") => false,
        ColorChoice::Auto if set("CLICOLOR_FORCE") => true,
        ColorChoice::Auto => {
            let dumb = std::env::var_os("TERM").is_some_and(|term| term == "dumb");
            !dumb && terminal
        }
    }
}

/// The width to fit tables to: `--width`, else `COLUMNS` when set, else
/// the terminal's: stdout's, or when stdout is a pipe (`| less`, `| head`)
/// the controlling terminal's; None without any (a CI job, cron).
pub fn output_width(asked: Option<u16>) -> Option<u16> {
    if asked.is_some() {
        return asked;
    }
    // A width of 0 (COLUMNS=0, a 0x0 pseudo-terminal) is no width: as
    // without a terminal, not tables squeezed to nothing.
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<u16>().ok());
    if let Some(columns) = columns.filter(|&c| c > 0) {
        return Some(columns);
    }
    if std::io::stdout().is_terminal() {
        return comfy_table::Table::new().width().filter(|&w| w > 0);
    }
    controlling_terminal_width()
}

/// The rows of stdout's terminal: `LINES` when set, else the terminal's;
/// None when stdout is no terminal or says no size (a 0x0 one).
pub fn output_height() -> Option<u16> {
    let lines = std::env::var("LINES")
        .ok()
        .and_then(|l| l.parse::<u16>().ok());
    if let Some(lines) = lines.filter(|&l| l > 0) {
        return Some(lines);
    }
    if !std::io::stdout().is_terminal() {
        return None;
    }
    window_size(&std::io::stdout())
        .map(|size| size.ws_row)
        .filter(|&rows| rows > 0)
}

/// Whether stdout is a terminal that takes cursor movement (not
/// `TERM=dumb`): a live view can redraw in place there.
pub fn stdout_redraws() -> bool {
    let dumb = std::env::var_os("TERM").is_some_and(|term| term == "dumb");
    !dumb && std::io::stdout().is_terminal()
}

/// The window size of the terminal open on `fd`.
fn window_size(fd: &impl std::os::fd::AsRawFd) -> Option<libc::winsize> {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize into `size`, which lives
    // across the call; the descriptor is open for the call's length.
    let read = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut size) };
    (read == 0).then_some(size)
}

/// The columns of the controlling terminal (`/dev/tty`), if there is one.
#[cfg(unix)]
fn controlling_terminal_width() -> Option<u16> {
    let tty = std::fs::File::open("/dev/tty").ok()?;
    window_size(&tty)
        .map(|size| size.ws_col)
        .filter(|&columns| columns > 0)
}

#[cfg(not(unix))]
fn controlling_terminal_width() -> Option<u16> {
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

/// When to use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    /// When stdout is a terminal and NO_COLOR is not set.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}
