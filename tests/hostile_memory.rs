//! Hostile paths, round three (issue 35), memory: an input that needs more
//! memory than the process may have ends in an error that names it and
//! says what to do (exit 2), never in an abort; run here under a 1 GiB
//! address space (setrlimit in the child, not a timing).

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::Stdio;

use crate::util::contend;

/// One GiB of address space.
const LIMIT: u64 = 1 << 30;

/// Runs `contend ARGS` under an address space of `limit` bytes, its stdin
/// fed by `feed` from another thread (the run may stop reading early).
fn run_limited(
    args: &[&str],
    limit: u64,
    feed: impl FnOnce(&mut dyn Write) -> std::io::Result<()> + Send + 'static,
) -> crate::util::Run {
    let mut command = contend();
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: only setrlimit, async-signal-safe, between fork and exec.
    unsafe {
        command.pre_exec(move || {
            let rlimit = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &rlimit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().expect("contend starts");
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, &mut stdin);
        // A run that stopped reading closes the pipe: not the test's error.
        let _ = feed(&mut out).and_then(|()| out.flush());
    });
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    crate::util::Run {
        code: output
            .status
            .code()
            .expect("exited, not killed by a signal"),
        stdout: String::new(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

#[test]
fn millions_of_distinct_keys_past_the_memory_limit_are_an_error_not_an_abort() {
    // 3 million distinct keys, about 200 MB of rows, through stdin.
    let run = run_limited(&["report", "-"], LIMIT, |out| {
        out.write_all(b"Stopped\t400ms\nRunning\t4ms\ndur\tcategory\tsymbol\tcaller\n")?;
        for i in 0..3_000_000u64 {
            writeln!(
                out,
                "{}\tmutex\tlock_{i}_abcdefghijklmnop\tcaller_{i}_qrstuvwxyz",
                i + 1
            )?;
        }
        Ok(())
    });
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("contend: <stdin>: out of memory (an allocation of "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.ends_with(
            "bytes failed): the input holds more distinct keys or samples than fit; keep fewer \
             with --match or --exclude, --by fewer keys, or --samples, or give contend more \
             memory\n"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}
