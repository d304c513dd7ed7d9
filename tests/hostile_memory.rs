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
        .stdout(Stdio::piped())
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
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// Half a GiB of address space.
const HALF_LIMIT: u64 = 1 << 29;

#[test]
fn distinct_keys_past_the_memory_limit_are_an_error_not_an_abort() {
    // A million distinct keys of 600 bytes of names each: their text alone
    // passes half a GiB, through stdin.
    let run = run_limited(&["report", "-"], HALF_LIMIT, |out| {
        out.write_all(b"Stopped\t400ms\nRunning\t4ms\ndur\tcategory\tsymbol\tcaller\n")?;
        let (symbol, caller) = ("s".repeat(300), "c".repeat(300));
        for i in 0..1_000_000u64 {
            writeln!(
                out,
                "{}\tmutex\tlock_{i}_{symbol}\tcaller_{i}_{caller}",
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

/// Three million distinct keys, their names about 50 bytes: at 400
/// bytes a key beyond its text (a boxed string per name, a map entry per
/// key and name, a copy of each in the ranking) they passed 1 GiB; a key
/// now costs its text and about 150 bytes.
#[test]
fn three_million_distinct_keys_fit_and_are_ranked() {
    let run = run_limited(
        &["report", "--format", "json", "--top", "1", "-"],
        LIMIT,
        |out| {
            out.write_all(b"Stopped\t400ms\nRunning\t4ms\ndur\tcategory\tsymbol\tcaller\n")?;
            for i in 0..3_000_000u64 {
                writeln!(
                    out,
                    "{}\tmutex\tlock_{i}_abcdefghijklmnop\tcaller_{i}_qrstuvwxyz",
                    i + 1
                )?;
            }
            Ok(())
        },
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["groups_total"], 3_000_000);
    let top = &json["groups"][0];
    assert_eq!(top["symbol"], "lock_2999999_abcdefghijklmnop");
    assert_eq!(top["caller"], "caller_2999999_qrstuvwxyz");
    assert_eq!(top["total_ns"], 3_000_000);
    // 1 + 2 + ... + 3 000 000 ns of waits in all.
    assert_eq!(json["total"]["spin_ns"], 4_500_001_500_000u64);
}

/// Writes `samples` samples of the seed's layout with one row each: 4 ms
/// Running, 400 ms Stopped, and `spin_us` µs on kernel_lock.
fn one_row_samples(out: &mut dyn Write, samples: u64, spin_us: u64) -> std::io::Result<()> {
    for _ in 0..samples {
        write!(
            out,
            "Stopped\t400ms\nRunning\t4ms\ndur\tcategory\tsymbol\tcaller\n\
             {spin_us}us\tkernel\tkernel_lock\treaper\n\n"
        )?;
    }
    Ok(())
}

// Two million samples of one row each (160 MB): a sample's record costs
// tens of bytes, so they fit in 1 GiB with room to spare; at 1.4 KB a
// sample, they took 2.8 GB and ended out of memory.
const MANY_SAMPLES: u64 = 2_000_000;

#[test]
fn millions_of_one_row_samples_fit_in_memory_and_give_their_figures() {
    let run = run_limited(&["report", "-"], LIMIT, |out| {
        one_row_samples(out, MANY_SAMPLES, 2000)
    });
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with(
            "stdin (table): running 8000.000 s in 2000000 samples: 50.0 % spinning on locks \
             (kernel_lock 50.0 %), 50.0 % other work;"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("each mark the mean of 20000 samples"),
        "{}",
        run.stdout
    );
}

#[test]
fn millions_of_samples_export_one_record_each_within_the_limit() {
    let run = run_limited(&["export", "--what", "samples", "-"], LIMIT, |out| {
        one_row_samples(out, MANY_SAMPLES, 1000)
    });
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2_000_001);
    // input, sample, Running, Stopped, running, off-CPU, spin, sleep, work,
    // spin share, kernel_lock, its share, sleep share, work share.
    assert_eq!(
        lines[2_000_000],
        "stdin,2000000,4000000,400000000,4000000,400000000,1000000,0,3000000,0.25,1000000,\
         0.25,0,0.75"
    );
}

#[test]
fn a_diff_of_a_million_samples_a_side_fits_and_finds_the_rise() {
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("before.txt");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&before).unwrap());
    one_row_samples(&mut file, 1_000_000, 1000).unwrap();
    file.flush().unwrap();
    drop(file);
    let run = run_limited(
        &["diff", "--format", "json", before.to_str().unwrap(), "-"],
        LIMIT,
        |out| one_row_samples(out, 1_000_000, 2000),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let spin_share = json["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|metric| metric["metric"] == "spin_share")
        .unwrap();
    assert_eq!(spin_share["before_median"], 0.25);
    assert_eq!(spin_share["after_median"], 0.5);
    assert_eq!(spin_share["n_before"], 1_000_000);
    assert_eq!(spin_share["n_after"], 1_000_000);
    assert_eq!(spin_share["verdict"], "regressed");
}

#[test]
fn millions_of_state_lines_without_a_table_end_in_the_input_error_not_out_of_memory() {
    // Four million samples of two states each, and no table anywhere, in
    // a file: 430 bytes a sample took 1.7 GB; then 24 bytes a sample, twice
    // over (two chunks read at once, joined), did not fit in 192 MiB. Now
    // about 14 bytes a sample, the file read once, on one core.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("states.txt");
    std::fs::write(&path, "Running\t4ms\nStopped\t3ms\n".repeat(4_000_000)).unwrap();
    let run = run_limited(&["report", path.to_str().unwrap()], 3 << 26, |_| Ok(()));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        format!(
            "contend: {}: no lock table found (expected a header line such as \
             `dur category symbol caller`)\n",
            path.display()
        )
    );
}

#[test]
fn a_csv_of_200_state_columns_and_50000_samples_fits() {
    let run = run_limited(&["report", "--input-format", "csv", "-"], LIMIT, |out| {
        let others: Vec<String> = (1..200).map(|state| format!("state_s{state}_ns")).collect();
        writeln!(
            out,
            "sample,state_Running_ns,{},category,symbol,caller,dur_ns",
            others.join(",")
        )?;
        let times: Vec<&str> = vec!["1000"; 199];
        for sample in 1..=50_000 {
            writeln!(
                out,
                "{sample},4000,{},kernel,kernel_lock,reaper,1000",
                times.join(",")
            )?;
        }
        Ok(())
    });
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with(
            "stdin (csv): running 200.000 ms in 50000 samples: 25.0 % spinning on locks \
             (kernel_lock 25.0 %)"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn a_zstd_bomb_of_millions_of_samples_expands_within_the_limit() {
    // The bomb: millions of one-row samples in a few kilobytes of
    // zstd, read from a file (the decoder's window and the expansion).
    let mut text = Vec::new();
    one_row_samples(&mut text, MANY_SAMPLES, 2000).unwrap();
    let packed = zstd::encode_all(text.as_slice(), 19).unwrap();
    assert!(packed.len() < 100_000, "{} bytes", packed.len());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.txt.zst");
    std::fs::write(&path, packed).unwrap();
    let run = run_limited(&["report", path.to_str().unwrap()], LIMIT, |_| Ok(()));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with(
            "bomb (table): running 8000.000 s in 2000000 samples: 50.0 % spinning on locks \
             (kernel_lock 50.0 %), 50.0 % other work;"
        ),
        "{}",
        run.stdout
    );
}

/// lltextract's capture layout: every thread's events before the
/// scheduling records, so a reader keeps what each thread did until the
/// end. 36 M context switches between two threads (1.15 GB, the memory
/// bomb of 40 M identical ones in a few KB of zstd) took 1.2 GB kept in
/// memory; they are kept in a temporary file past 32 MiB.
#[test]
fn tens_of_millions_of_context_switches_are_replayed_within_the_limit() {
    use crate::fxt_encode::{Encoder, STATE_SUSPENDED};
    const SWITCHES: u64 = 36_000_000;
    const REAPER: (u64, u64) = (0, 7);
    let mut encoder = Encoder::new(1_000_000_000);
    encoder.thread_name(7, 7, "reaper");
    encoder.thread_name(8, 8, "make");
    encoder.lock_wait(100, 600, REAPER, "kernel", "kernel_lock", "reaper+0x1");
    let head = encoder.bytes;
    let run = run_limited(&["report", "--thread", "reaper", "-"], LIMIT, move |out| {
        out.write_all(&head)?;
        let mut chunk = Vec::with_capacity(1 << 20);
        for switch in 0..SWITCHES {
            // The reaper runs in even microseconds, make in odd ones.
            let (outgoing, incoming) = if switch % 2 == 0 { (8, 7) } else { (7, 8) };
            let header = 8 | (4 << 4) | (u64::from(STATE_SUSPENDED) << 36) | (1 << 60);
            for word in [header, switch * 1000, outgoing, incoming] {
                chunk.extend_from_slice(&u64::to_le_bytes(word));
            }
            if chunk.len() >= 1 << 20 {
                out.write_all(&chunk)?;
                chunk.clear();
            }
        }
        out.write_all(&chunk)
    });
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Running: 18 M even microseconds, 18 s; one wait of 500 ns.
    assert!(
        run.stdout
            .contains("running 18.000 s in 1 sample: 0.0 % spinning on locks (kernel_lock 0.0 %)"),
        "{}",
        run.stdout
    );
}

/// The format allows a string table of 32 767 strings of 32 KB (1.07 GB
/// kept by a reader); a capture's strings are names.
#[test]
fn a_string_table_of_maximal_strings_is_refused_at_16_mib() {
    use crate::fxt_encode::Encoder;
    let head = Encoder::new(1_000_000_000).bytes;
    let run = run_limited(&["report", "-"], LIMIT, move |out| {
        out.write_all(&head)?;
        let text = [b'x'; 32_000];
        for index in 1..=32_767u64 {
            let words = 1 + text.len() as u64 / 8;
            let header = 2 | (words << 4) | (index << 16) | ((text.len() as u64) << 32);
            out.write_all(&header.to_le_bytes())?;
            out.write_all(&text)?;
        }
        Ok(())
    });
    assert_eq!(run.code, 2, "{}", run.stderr);
    // 524 strings of 32 000 bytes fit in 16 MiB; the 525th is at byte
    // 24 + 524 x 32 008.
    assert_eq!(
        run.stderr,
        "contend: <stdin>: byte offset 16772216: the string table holds more than 16 MiB \
         (string 525 of 32000 bytes); a capture's strings are names, lltextract's take a \
         few hundred KB\n"
    );
}

/// Two million distinct keys exported as groups: every group was made at
/// once (1.41 GB a million, then 0.66 GB); the engine now hands them over
/// a page at a time.
#[test]
fn millions_of_groups_are_exported_within_the_limit() {
    const KEYS: u64 = 2_000_000;
    let run = run_limited(&["export", "--what", "groups", "-"], LIMIT, |out| {
        out.write_all(b"Stopped\t400ms\nRunning\t4ms\ndur\tcategory\tsymbol\tcaller\n")?;
        for i in 0..KEYS {
            writeln!(out, "{}\tmutex\tlock_{i}\tcaller_{i}", i + 1)?;
        }
        Ok(())
    });
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count() as u64, KEYS + 1);
    // Largest first: lock_1999999, 2 000 000 ns; the smallest last.
    let first = run.stdout.lines().nth(1).unwrap();
    assert!(
        first.starts_with("mutex,lock_1999999,caller_1999999,spin,2000000,1,1,"),
        "{first}"
    );
    let last = run.stdout.lines().last().unwrap();
    assert!(
        last.starts_with("mutex,lock_0,caller_0,spin,1,1,1,"),
        "{last}"
    );
}

/// 200 000 threads hold one rwlock shared at once while the reaper waits:
/// splitting each stretch over every holder would keep 2 * 10^10 members;
/// past 256 at once the holders are not told apart and the lock is named.
#[test]
fn two_hundred_thousand_readers_at_once_are_split_within_the_limit() {
    use crate::fxt_encode::Encoder;
    const READERS: u64 = 200_000;
    let mut encoder = Encoder::new(1_000_000_000);
    encoder.thread_name(7, 7, "reaper");
    let lock = [("symbol", "vmmaplk")];
    encoder.event(2, 5, (7, 7), "rwlock", "acquire-start", &lock, &[]);
    for reader in 0..READERS {
        encoder.thread_name(1000 + reader, 1000 + reader, "reader");
        let thread = (1000 + reader, 1000 + reader);
        let at = 10 + reader * 1000;
        encoder.event(0, at, thread, "rwlock", "instant-shared", &lock, &[]);
    }
    let end = 10 + READERS * 1000 + 100;
    encoder.event(
        0,
        end - 50,
        (1000, 1000),
        "rwlock",
        "release-shared",
        &lock,
        &[],
    );
    encoder.event(3, end, (7, 7), "rwlock", "acquired-exclusive", &lock, &[]);
    let bytes = encoder.bytes;
    let args = ["report", "--format", "json", "--thread", "reaper", "-"];
    let run = run_limited(&args, LIMIT, move |out| out.write_all(&bytes));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let input = &report["inputs"][0];
    assert_eq!(input["holders_crowded"], serde_json::json!(["vmmaplk"]));
    let holders = input["holders"].as_array().unwrap();
    let total: u64 = holders.iter().map(|h| h["wait_ns"].as_u64().unwrap()).sum();
    assert_eq!(total, end - 5);
    // Until the 257th reader came, each 1 µs stretch was split: 256
    // readers.
    assert_eq!(
        holders.iter().filter(|h| h["thread"] == "reader").count(),
        256
    );
}
