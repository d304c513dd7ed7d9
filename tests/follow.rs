//! `report --follow`: a line per sample while the input is still being
//! written, the whole report at its end or at Ctrl-C, `--alert` for a
//! watchdog. The input is fed by the test a sample at a time through a
//! pipe that stays open, and each line is awaited before the next sample
//! is written: the order shows the lines come before the input ends,
//! with no timing assumed.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

use crate::util::{
    SEED, contend, json_report, pseudo_terminal, read, run, run_with_stdin, spin_shares,
};

/// The seed cut where each sampling begins: its title, then five samples.
fn seed_pieces() -> Vec<String> {
    let text = read(SEED);
    let mut pieces: Vec<String> = Vec::new();
    for line in text.split_inclusive('\n') {
        if line.starts_with("Stopped") || pieces.is_empty() {
            pieces.push(String::new());
        }
        pieces.last_mut().expect("a piece").push_str(line);
    }
    assert_eq!(pieces.len(), 6, "the title and five samplings");
    pieces
}

struct Following {
    child: Child,
    input: ChildStdin,
    lines: BufReader<ChildStdout>,
}

impl Following {
    fn start(args: &[&str]) -> Following {
        let mut child = contend()
            .args(["report", "--follow"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("contend starts");
        let input = child.stdin.take().expect("stdin is piped");
        let lines = BufReader::new(child.stdout.take().expect("stdout is piped"));
        Following {
            child,
            input,
            lines,
        }
    }

    fn write(&mut self, text: &str) {
        self.input
            .write_all(text.as_bytes())
            .expect("contend reads on");
        self.input.flush().expect("flushed");
    }

    /// The next line contend prints: blocks until it is printed.
    fn next_line(&mut self) -> String {
        let mut line = String::new();
        self.lines.read_line(&mut line).expect("stdout is readable");
        line
    }
}

#[test]
fn each_samples_line_comes_before_the_input_ends() {
    let pieces = seed_pieces();
    let mut follow = Following::start(&["--ascii"]);
    // The title and the first sampling: nothing says it is complete yet.
    follow.write(&(pieces[0].clone() + &pieces[1]));
    let mut lines = Vec::new();
    for piece in &pieces[2..] {
        // The next sampling's first lines complete the one before.
        follow.write(piece);
        lines.push(follow.next_line());
    }
    drop(follow.input);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut follow.lines, &mut rest).expect("the report");
    let status = follow.child.wait().expect("contend exits");
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        lines[0],
        "sample 1: running 4.384 ms, spin 49.9 %, kernel_lock 39.9 %, sleep wait 12.418 ms, \
         top kernel_map_store 85.0 % of lock time  -\n"
    );
    assert_eq!(
        lines[3],
        "sample 4: running 7.508 ms, spin 87.6 %, kernel_lock 87.3 %, sleep wait 3.869 us, \
         top kernel_lock 99.6 % of lock time  -.+*\n"
            .replace("us,", "µs,")
    );
    // The last sample's line comes at the input's end, then the report.
    assert!(
        rest.starts_with("sample 5: running 2.780 ms, spin 68.7 %"),
        "{rest}"
    );
    assert!(
        rest.contains(
            "running 21.776 ms in 5 samples: 65.1 % spinning on locks (kernel_lock 60.9 %)"
        ),
        "{rest}"
    );
}

#[test]
fn the_lines_give_the_figures_the_report_gives_each_sample() {
    // The live figures are summed apart from the engine's, row by row: the
    // engine's per-sample JSON is their check.
    let text = read(SEED);
    let shares = spin_shares(&json_report(&["--samples", "all"], text.as_bytes()));
    let followed = run_with_stdin(&["report", "--follow"], text.as_bytes());
    assert_eq!(followed.code, 0, "{}", followed.stderr);
    let live: Vec<String> = followed
        .stdout
        .lines()
        .filter(|line| line.starts_with("sample "))
        .map(|line| {
            let spin = line.split(", spin ").nth(1).expect("a spin share");
            spin.split(' ').next().expect("a figure").to_string()
        })
        .collect();
    assert_eq!(live, shares);
    assert_eq!(live, ["49.9", "17.6", "75.8", "87.6", "68.7"]);
}

#[test]
fn with_json_the_lines_go_to_stderr_and_stdout_stays_one_document() {
    let followed = run_with_stdin(
        &["report", "--follow", "--format", "json"],
        read(SEED).as_bytes(),
    );
    assert_eq!(followed.code, 0, "{}", followed.stderr);
    let report: serde_json::Value = serde_json::from_str(&followed.stdout).expect("JSON");
    assert_eq!(report["samples"].as_array().expect("samples").len(), 5);
    let lines = followed
        .stderr
        .lines()
        .filter(|l| l.starts_with("sample "))
        .count();
    assert_eq!(lines, 5, "{}", followed.stderr);
}

#[test]
fn an_interrupt_ends_the_follow_with_the_report_of_what_was_read() {
    let pieces = seed_pieces();
    let mut follow = Following::start(&[]);
    follow.write(&(pieces[0].clone() + &pieces[1] + &pieces[2]));
    assert!(follow.next_line().starts_with("sample 1: "));
    // The tracer is still running (stdin stays open): Ctrl-C.
    let pid = follow.child.id() as libc::pid_t;
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let output = follow.child.wait_with_output().expect("contend exits");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut follow.lines, &mut rest).expect("the report");
    let stderr = String::from_utf8(output.stderr).expect("UTF-8");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        rest.starts_with("sample 2: running 3.236 ms, spin 17.6 %"),
        "{rest}"
    );
    assert!(
        rest.contains("stdin (table): running 7.620 ms in 2 samples"),
        "{rest}"
    );
    assert!(
        stderr.contains("contend: stdin: interrupted after 2 samples"),
        "{stderr}"
    );
    drop(follow.input);
}

#[test]
fn a_second_interrupt_quits_at_once_while_the_report_is_written() {
    // A sample of 20 000 locks: with --top 0 the report is far longer than
    // the pipe holds, and the test does not read it, so contend is still
    // writing it when the second Ctrl-C comes, whenever that is.
    let mut follow = Following::start(&["--top", "0"]);
    let mut sample = String::from("Stopped\t4ms\nRunning\t4ms\ndur\tcategory\tsymbol\tcaller\n");
    for lock in 0..20_000 {
        sample.push_str(&format!(
            "{}\tmutex\tlock_{lock}\tcaller_{lock}\n",
            lock + 1
        ));
    }
    // The next table's header ends the sample.
    follow.write(&(sample + "Stopped\t4ms\ndur\tcategory\tsymbol\tcaller\n"));
    assert!(follow.next_line().starts_with("sample 1: "));
    let pid = follow.child.id() as libc::pid_t;
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    // Half the pipe filled is the report begun (the live lines are
    // short): contend is past the first interrupt, and with megabytes of
    // report left and nobody reading, it cannot end before the second.
    let pipe = std::os::fd::AsRawFd::as_raw_fd(follow.lines.get_ref());
    // SAFETY: fcntl and ioctl on a descriptor this test owns.
    let capacity = unsafe { libc::fcntl(pipe, libc::F_GETPIPE_SZ) };
    assert!(capacity > 0);
    let filled = || {
        let mut waiting: libc::c_int = 0;
        // SAFETY: FIONREAD writes one int.
        assert_eq!(
            unsafe { libc::ioctl(pipe, libc::FIONREAD, &mut waiting) },
            0
        );
        waiting >= capacity / 2
    };
    let start = std::time::Instant::now();
    while !filled() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "the report never filled half the pipe"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    // Ignored, it would write on forever: a deadline, not a hang.
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = follow.child.try_wait().expect("contend's status") {
            break status;
        }
        if start.elapsed() > std::time::Duration::from_secs(60) {
            follow.child.kill().expect("contend is killed");
            panic!("a second interrupt did not quit");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(130));
    drop(follow.input);
}

#[test]
fn alerts_name_the_samples_past_the_threshold_and_exit_1() {
    let seed = read(SEED);
    let alerted = run_with_stdin(
        &["report", "--follow", "--alert", "spin_share>70%"],
        seed.as_bytes(),
    );
    assert_eq!(alerted.code, 1, "{}", alerted.stderr);
    let alerts: Vec<&str> = alerted
        .stderr
        .lines()
        .filter(|line| line.contains("alert"))
        .collect();
    assert_eq!(
        alerts,
        [
            "contend: stdin: alert: sample 3: spin_share is 75.8 % (spin_share>70%)",
            "contend: stdin: alert: sample 4: spin_share is 87.6 % (spin_share>70%)",
        ]
    );
    let quiet = run_with_stdin(
        &["report", "--follow", "--alert", "kernel_lock_ns>7ms"],
        seed.as_bytes(),
    );
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    assert!(!quiet.stderr.contains("alert"), "{}", quiet.stderr);
}

#[test]
fn what_follow_cannot_do_is_refused() {
    let unknown = run(&["report", "--follow", "--alert", "spin>60%", SEED]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown
            .stderr
            .contains("no metric \"spin\" to alert on; metrics: spin_share"),
        "{}",
        unknown.stderr
    );
    let without_follow = run(&["report", "--alert", "spin_share>60%", SEED]);
    assert_eq!(without_follow.code, 2);
    assert!(
        without_follow.stderr.contains("--follow"),
        "{}",
        without_follow.stderr
    );
    let two = run(&["report", "--follow", SEED, SEED]);
    assert_eq!(two.code, 2);
    assert!(
        two.stderr.contains("--follow reads one input"),
        "{}",
        two.stderr
    );
    let capture = run(&["report", "--follow", "fixtures/fxt/reaper-make-j32.fxt"]);
    assert_eq!(capture.code, 2);
    assert!(
        capture.stderr.contains("a capture is read whole"),
        "{}",
        capture.stderr
    );
    let missing = run(&["report", "--follow", "no-such-trace.txt"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .starts_with("contend: no-such-trace.txt: cannot open"),
        "{}",
        missing.stderr
    );
}

#[test]
fn a_reader_that_goes_away_ends_the_follow_quietly() {
    let pieces = seed_pieces();
    let mut follow = Following::start(&[]);
    follow.write(&(pieces[0].clone() + &pieces[1] + &pieces[2]));
    assert!(follow.next_line().starts_with("sample 1: "));
    // `| head -1`: the reader is gone; the tracer writes on.
    drop(follow.lines);
    for piece in &pieces[3..] {
        let _ = follow.input.write_all(piece.as_bytes());
    }
    drop(follow.input);
    let output = follow.child.wait_with_output().expect("contend exits");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

#[test]
fn last_keeps_the_report_to_the_last_samples() {
    let followed = run_with_stdin(
        &["report", "--follow", "--last", "2"],
        read(SEED).as_bytes(),
    );
    assert_eq!(followed.code, 0, "{}", followed.stderr);
    // Samples 4 and 5: 7.508 + 2.780 ms running, 6.575 + 1.911 ms spin.
    assert!(
        followed
            .stdout
            .contains("running 10.288 ms in 2 samples: 82.5 % spinning on locks"),
        "{}",
        followed.stdout
    );
    assert!(
        followed
            .stderr
            .contains("--last 2: the report covers samples 4..5 of the 5 read, numbered from 1"),
        "{}",
        followed.stderr
    );
    let all = run_with_stdin(
        &["report", "--follow", "--last", "5"],
        read(SEED).as_bytes(),
    );
    assert!(
        all.stdout.contains("in 5 samples: 65.1 % spinning"),
        "{}",
        all.stdout
    );
    assert!(!all.stderr.contains("--last"), "{}", all.stderr);
}

/// The peak resident memory, in KiB, of `contend report --follow --last
/// LAST` once it has read `samples` one-row samples through a pipe: the
/// kernel's high-water mark of the process's own memory (VmHWM), read
/// while the process still waits for more input. (Not wait4's ru_maxrss:
/// that counts the test runner's memory the child was forked from.)
fn peak_kib_following(last: &str, samples: u32) -> u64 {
    let mut child = contend()
        .args(["report", "--follow", "--input-format", "table"])
        .args(["--last", last, "--alert", "spin_ns>1s"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("contend starts");
    let input = child.stdin.take().expect("stdin is piped");
    let feeder = std::thread::spawn(move || {
        let mut input = std::io::BufWriter::new(input);
        for sample in 0..samples {
            // The last sample but one alone crosses the alert: its line says
            // every sample before the last was read.
            let dur = if sample + 2 == samples {
                2_000_000_000
            } else {
                1_000 + sample % 5_000
            };
            let text = format!(
                "Running\t4ms\ndur\tcategory\tsymbol\tcaller\n{dur}\tkernel\tkernel_lock\treaper\n"
            );
            input.write_all(text.as_bytes()).expect("contend reads on");
        }
        input.into_inner().expect("flushed")
    });
    let mut notes = BufReader::new(child.stderr.take().expect("stderr is piped"));
    let mut line = String::new();
    while !line.contains("alert") {
        line.clear();
        assert!(
            notes.read_line(&mut line).expect("stderr") > 0,
            "no alert line"
        );
    }
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).expect("status");
    let peak = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kib| kib.trim().trim_end_matches(" kB").parse().ok())
        .expect("VmHWM");
    drop(feeder.join().expect("fed"));
    assert_eq!(
        child.wait().expect("contend exits").code(),
        Some(1),
        "the alert's exit"
    );
    peak
}

/// The samples the memory test keeps.
const LAST: &str = "100";

#[test]
fn last_keeps_memory_flat_however_long_the_tracer_runs() {
    let short = peak_kib_following(LAST, 200_000);
    let long = peak_kib_following(LAST, 1_000_000);
    // Without --last, 800 000 more samples would keep about 60 MB more.
    assert!(
        long < short + 8 * 1024,
        "peak {short} KiB after 200 000 samples, {long} KiB after 1 000 000"
    );
}

#[test]
fn on_a_terminal_the_view_redraws_in_place_within_its_height() {
    // Six rows: the title, the header, three samples, the cursor's.
    let shown = followed_on_a_terminal(&[("LINES", "6"), ("COLUMNS", "100")], None);
    // The last view: back up over the five rows drawn before, then the
    // title, the header and the three latest samples.
    let redraw = "\x1b[5A\r\x1b[J";
    let last = &shown[shown.rfind(redraw).expect("the view redrawn") + redraw.len()..];
    let rows: Vec<&str> = last.split("\r\n").take(5).collect();
    assert_eq!(
        rows,
        [
            "following stdin: 5 samples, spin share -.+*+ (Ctrl-C ends it and reports)",
            "sample    running       spin kernel_lock sleep wait  top lock",
            "     3   3.868 ms     75.8 %      75.3 %     684 ns  kernel_lock 99.3 %",
            "     4   7.508 ms     87.6 %      87.3 %   3.869 µs  kernel_lock 99.6 %",
            "     5   2.780 ms     68.7 %      66.8 %  25.029 µs  kernel_lock 96.0 %",
        ]
    );
    assert!(
        shown.contains("in 5 samples: 65.1 % spinning on locks"),
        "{shown}"
    );
    assert!(
        !shown.contains("sample 1: running"),
        "no log lines on a terminal"
    );
}

#[test]
fn a_real_perf_lock_output_followed_names_locks_as_the_ranking_does() {
    // Three `perf lock contention` runs from an LKML thread, piped in.
    let mail = read("fixtures/real/perf-lock-contention-lkml-traceiter-before-after.txt");
    let followed = run_with_stdin(&["report", "--follow"], mail.as_bytes());
    assert_eq!(followed.code, 0, "{}", followed.stderr);
    let first = followed.stdout.lines().next().expect("a line");
    assert_eq!(
        first,
        "sample 1: spin 4.847 s, sleep wait 63.367 ms, top __traceiter_contention_begin 98.7 % \
         of lock time"
    );
    // The ranking of that sample alone says the same, by its own path.
    let ranked = json_report(&["--samples", "1", "--by", "caller"], mail.as_bytes());
    let top = &ranked["groups"][0];
    assert_eq!(top["caller"], "__traceiter_contention_begin");
    let share = top["share_of_lock_time"].as_f64().expect("a share");
    assert_eq!(format!("{:.1}", share * 100.0), "98.7");
    let kept = run_with_stdin(&["report", "--follow", "--keep-offsets"], mail.as_bytes());
    assert!(
        kept.stdout.starts_with(
            "sample 1: spin 4.847 s, sleep wait 63.367 ms, top \
             __traceiter_contention_begin+0x44 98.7 %"
        ),
        "{}",
        kept.stdout
    );
}

#[test]
fn on_a_terminal_the_view_takes_the_terminals_own_height() {
    // No LINES: the seven rows come from the terminal itself.
    let shown = followed_on_a_terminal(&[], Some(7));
    // Seven rows: the title, the header and four samples, then the cursor.
    let redraw = "\x1b[6A\r\x1b[J";
    let last = &shown[shown.rfind(redraw).expect("the view redrawn") + redraw.len()..];
    let rows: Vec<&str> = last.split("\r\n").take(6).collect();
    assert!(
        rows[0].starts_with("following stdin: 5 samples"),
        "{rows:?}"
    );
    let samples: Vec<&str> = rows[2..]
        .iter()
        .map(|row| row.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(samples, ["2", "3", "4", "5"]);
}

/// What `contend report --follow --ascii` shows on a pseudo-terminal
/// (of `rows` rows when given) with `env`, fed the seed through a pipe:
/// everything written to the terminal until it exits (exit 0).
fn followed_on_a_terminal(env: &[(&str, &str)], rows: Option<u16>) -> String {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    let (mut controller, terminal) = pseudo_terminal();
    if let Some(rows) = rows {
        let size = libc::winsize {
            ws_row: rows,
            ws_col: 100,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads one winsize, which lives across the call.
        let set = unsafe { libc::ioctl(terminal.as_raw_fd(), libc::TIOCSWINSZ, &size) };
        assert_eq!(set, 0);
    }
    let mut command = contend();
    command
        .args(["report", "--follow", "--ascii"])
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::from(terminal))
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("contend starts");
    // The terminal side is the child's alone now: its exit ends our reads.
    drop(command);
    let mut input = child.stdin.take().expect("stdin is piped");
    input
        .write_all(read(SEED).as_bytes())
        .expect("contend reads");
    drop(input);
    let mut shown = Vec::new();
    // EIO once the child has exited and closed the terminal.
    let _ = controller.read_to_end(&mut shown);
    assert_eq!(child.wait().expect("contend exits").code(), Some(0));
    String::from_utf8(shown).expect("UTF-8")
}
