//! contend on a real pseudo-terminal: what a user typing or pasting a dump
//! into it sees.

use std::io::{Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::util::{SEED, contend, pseudo_terminal, read};

/// Runs `contend ARGS` with a terminal as stdin, types `keys` into it, and
/// gives (exit code, stdout, stderr); None when it still waits for input
/// after 20 s (it is then killed).
fn typed_into(args: &[&str], keys: &[u8]) -> Option<(i32, String, String)> {
    let (mut controller, terminal) = pseudo_terminal();
    let mut child = contend()
        .args(args)
        .stdin(Stdio::from(terminal))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("contend starts");
    controller.write_all(keys).unwrap();
    // The terminal echoes what is typed: drained aside, so it never fills.
    let mut echo = controller.try_clone().unwrap();
    std::thread::spawn(move || {
        let mut sink = [0u8; 4096];
        while matches!(echo.read(&mut sink), Ok(n) if n > 0) {}
    });
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            child.wait().unwrap();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    Some((
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    ))
}

/// Ctrl-D, the terminal's end-of-file character by default.
const CTRL_D: u8 = 0x04;

#[test]
fn a_dump_pasted_on_a_terminal_ends_at_the_first_ctrl_d() {
    // The seed's last line has no line break: pasted, the user presses
    // Enter, then Ctrl-D on the empty line (a Ctrl-D after text only
    // sends the text, as for every program reading a terminal).
    let mut keys = read(SEED).into_bytes();
    keys.extend([b'\n', CTRL_D]);
    let (code, stdout, stderr) =
        typed_into(&["report", "--format", "json"], &keys).expect("one Ctrl-D ends the input");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr.lines().next(),
        Some("contend: reading from the terminal; end with Ctrl-D (or name a file: contend -h)")
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // The seed's 65.1 %, from every pasted line.
    let share = report["total"]["spin_share"].as_f64().unwrap();
    assert_eq!(format!("{:.1}", share * 100.0), "65.1");
    assert_eq!(report["inputs"][0]["samples"], 5);
}

#[test]
fn nothing_typed_ends_at_the_first_ctrl_d_too() {
    let (code, stdout, stderr) =
        typed_into(&["report"], &[CTRL_D]).expect("one Ctrl-D ends empty input");
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert_eq!(
        stderr,
        "contend: reading from the terminal; end with Ctrl-D (or name a file: contend -h)\n\
         contend: <stdin>: no lock table found: the input is empty\n"
    );
    // -q: no note, the error stays.
    let (_, _, quiet) = typed_into(&["-q", "report"], &[CTRL_D]).unwrap();
    assert_eq!(
        quiet,
        "contend: <stdin>: no lock table found: the input is empty\n"
    );
}

#[test]
fn warnings_are_yellow_on_a_terminal_and_plain_in_a_log() {
    // A sample whose 2 ms spin exceeds its 1 ms Running: one warning.
    let text = "Running\t1ms\n\ndur\tcategory\tsymbol\tcaller\n2000000\tkernel\tkernel_lock\tf\n";
    let warning = "contend: warning: stdin sample 1: spin 2.000 ms exceeds running 1.000 ms; \
                   check --spin/--sleep or the data";
    // stderr a terminal, stdout a pipe (`contend report | less`).
    let (mut controller, terminal) = pseudo_terminal();
    let mut child = contend()
        .args(["report", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(terminal))
        .spawn()
        .expect("contend starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    // Everything the terminal got: a read may return part of it (the
    // warning and its line end came as two writes); with no terminal
    // side left open, the end is an error (EIO) or 0.
    let mut shown = Vec::new();
    let mut buffer = [0u8; 4096];
    while let Ok(len @ 1..) = controller.read(&mut buffer) {
        shown.extend_from_slice(&buffer[..len]);
    }
    let shown = String::from_utf8_lossy(&shown);
    assert_eq!(shown, format!("\x1b[33m{warning}\x1b[0m\r\n"));
    // The report in the pipe has no colour.
    assert!(!String::from_utf8(output.stdout).unwrap().contains('\x1b'));
    // To a log: plain, unless asked for.
    let plain = crate::util::run_with_stdin(&["report", "-"], text.as_bytes());
    assert_eq!(plain.stderr, format!("{warning}\n"));
    let forced =
        crate::util::run_with_stdin(&["report", "--color", "always", "-"], text.as_bytes());
    assert_eq!(forced.stderr, format!("\x1b[33m{warning}\x1b[0m\n"));
}

/// Runs `contend ARGS` with stdout a terminal of `columns` x 24 (0: a
/// 0x0 pseudo-terminal) and `env`; gives what the terminal showed, line
/// ends as written (`\n`).
fn shown_on_terminal(args: &[&str], columns: u16, env: &[(&str, &str)]) -> String {
    let (mut controller, terminal) = pseudo_terminal();
    let size = libc::winsize {
        ws_row: if columns == 0 { 0 } else { 24 },
        ws_col: columns,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize from the pointer, which lives
    // through the call.
    let set = unsafe {
        libc::ioctl(
            std::os::fd::AsRawFd::as_raw_fd(&terminal),
            libc::TIOCSWINSZ,
            &size,
        )
    };
    assert_eq!(set, 0, "{}", std::io::Error::last_os_error());
    let mut command = contend();
    command.args(args).envs(env.iter().copied());
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::from(terminal))
        .stderr(Stdio::null())
        .spawn()
        .expect("contend starts");
    // The command keeps its copy of the terminal side open: dropped, so
    // that the terminal is gone when contend is.
    drop(command);
    let reader = std::thread::spawn(move || {
        let mut shown = Vec::new();
        // Until the terminal's last user, contend, is gone (EIO).
        let _ = controller.read_to_end(&mut shown);
        shown
    });
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(20), "contend hangs");
        std::thread::sleep(Duration::from_millis(20));
    }
    let shown = reader.join().unwrap();
    String::from_utf8(shown).unwrap().replace("\r\n", "\n")
}

/// The widest line's characters.
fn widest(text: &str) -> usize {
    text.lines()
        .map(|line| line.chars().count())
        .max()
        .unwrap_or(0)
}

#[test]
fn the_terminal_decides_width_and_colour() {
    let report = ["report", SEED];
    // An 80-column terminal: every line fits; the verdict is bold.
    let eighty = shown_on_terminal(&report, 80, &[]);
    let plain = eighty.replace("\x1b[1m", "").replace("\x1b[0m", "");
    assert!(widest(&plain) <= 80, "{eighty}");
    assert!(
        eighty.starts_with("\x1b[1mopenbsd-reaper-make-j32 (table)"),
        "{eighty}"
    );
    // A 0x0 terminal (a serial console, some containers) has no width:
    // every column kept, as without a terminal, not tables squeezed to
    // nothing.
    let no_size = shown_on_terminal(&report, 0, &[]);
    assert!(no_size.contains("cum %"), "{no_size}");
    assert!(!no_size.contains("ker…ck"));
    // COLUMNS=0 likewise.
    let zero = shown_on_terminal(&report, 0, &[("COLUMNS", "0")]);
    assert!(zero.contains("cum %"));
    // TERM=dumb: no escapes at all.
    let dumb = shown_on_terminal(&report, 80, &[("TERM", "dumb")]);
    assert!(!dumb.contains('\x1b'), "{dumb}");
    // NO_COLOR too.
    let no_color = shown_on_terminal(&report, 80, &[("NO_COLOR", "1")]);
    assert!(!no_color.contains('\x1b'));
}
