//! Hostile paths, round two (issue 20): `-o` never destroys what is at its
//! path, stderr that cannot be written never panics, a byte-order mark or
//! a pzstd stream reads like any other input.

use std::os::unix::fs::FileTypeExt;
use std::process::Stdio;

use crate::util::{SEED, contend, json_report, read, repo_path, run, run_with_stdin, scratch_dir};

/// `contend export SEED -o PATH`.
fn export_to(path: &std::path::Path) -> crate::util::Run {
    run(&["export", SEED, "-o", path.to_str().unwrap()])
}

#[test]
fn output_to_a_device_writes_into_it_and_keeps_it() {
    let export = run(&["export", SEED, "-o", "/dev/null"]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    let meta = std::fs::metadata("/dev/null").unwrap();
    assert!(
        meta.file_type().is_char_device(),
        "/dev/null is still a device"
    );
    // A device that refuses the bytes fails the run, and stays a device.
    let full = run(&["export", SEED, "-o", "/dev/full"]);
    assert_eq!(full.code, 2);
    assert!(
        full.stderr.contains("No space left on device"),
        "{}",
        full.stderr
    );
    assert!(
        std::fs::metadata("/dev/full")
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

#[test]
fn output_dash_is_stdout() {
    let export = run(&["export", SEED, "-o", "-"]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert!(
        export
            .stdout
            .starts_with("input,sample,category,symbol,caller,dur_ns,events\n")
    );
    assert!(!repo_path("-").exists());
}

#[test]
fn output_through_a_symlink_and_a_fifo_writes_the_target() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch_dir("hostile_links");
    let target = dir.join("target.csv");
    std::fs::write(&target, "old\n").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    let link = dir.join("link.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    assert_eq!(export_to(&link).code, 0);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let written = std::fs::read_to_string(&target).unwrap();
    assert!(written.starts_with("input,sample,"), "{written}");
    // The mode of the file replaced is kept.
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    // A hard link keeps sharing the file.
    let other = dir.join("other-name.csv");
    std::fs::hard_link(&target, &other).unwrap();
    std::fs::write(&target, "old\n").unwrap();
    assert_eq!(export_to(&target).code, 0);
    assert_eq!(std::fs::read_to_string(&other).unwrap(), written);

    // A FIFO is written into, not replaced.
    let fifo = dir.join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let reader = std::thread::spawn({
        let fifo = fifo.clone();
        move || std::fs::read_to_string(fifo).unwrap()
    });
    assert_eq!(export_to(&fifo).code, 0);
    assert_eq!(reader.join().unwrap(), written);
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn read_only_targets_and_directories_are_refused_plainly() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch_dir("hostile_refused");
    let locked = dir.join("locked.csv");
    std::fs::write(&locked, "keep me\n").unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o444)).unwrap();
    let refused = export_to(&locked);
    assert_eq!(refused.code, 2);
    assert_eq!(
        refused.stderr,
        format!(
            "contend: -o {}: the file is read-only; contend will not replace it\n",
            locked.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&locked).unwrap(), "keep me\n");
    for path in [format!("{}/", dir.display()), ".".to_string()] {
        let run = run(&["export", SEED, "-o", &path]);
        assert_eq!(run.code, 2);
        assert_eq!(
            run.stderr,
            format!("contend: -o {path}: is a directory; -o takes a file name\n")
        );
    }
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(left.len(), 1, "no partial file left");
}

#[test]
fn stderr_that_cannot_be_written_never_panics() {
    let full = || std::fs::File::create("/dev/full").unwrap();
    // A note (the seed has prose around its tables) to a full stderr.
    let noted = contend()
        .args(["report", SEED])
        .stdout(Stdio::piped())
        .stderr(full())
        .output()
        .unwrap();
    assert_eq!(noted.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&noted.stdout).contains("65.1 %"));
    // An error to a full stderr: exit 2, not a panic's 101.
    let failed = contend()
        .args(["report", "missing.txt"])
        .stderr(full())
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(2));
    // A closed pipe on stderr.
    let mut child = contend()
        .args(["report", "missing.txt"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(2));
}

#[test]
fn a_byte_order_mark_is_no_part_of_the_first_line() {
    let seed = read(SEED);
    let mut with_mark = "\u{feff}".as_bytes().to_vec();
    with_mark.extend_from_slice(seed.as_bytes());
    let plain = json_report(&[SEED], b"");
    let marked = json_report(&[], &with_mark);
    assert_eq!(marked["inputs"][0]["total"], plain["inputs"][0]["total"]);
    // A table whose first line is its state line, and a perf lock file.
    let table = "\u{feff}Running\t2ms\ndur\tcategory\tsymbol\tcaller\n1000000\tkernel\tkernel_lock\treaper\n";
    let report = json_report(&[], table.as_bytes());
    assert_eq!(report["inputs"][0]["total"]["running_ns"], 2_000_000);
    assert_eq!(report["inputs"][0]["total"]["spin_ns"], 1_000_000);
    let perf = format!(
        "\u{feff}{}",
        read("fixtures/formats/linux-perf-lock-contention.txt")
    );
    let detected = run_with_stdin(&["report", "--format", "json"], perf.as_bytes());
    assert_eq!(detected.code, 0, "{}", detected.stderr);
    assert!(detected.stdout.contains("\"format\": \"perf-lock\""));
}

#[test]
fn a_zstd_stream_that_starts_with_a_skippable_frame_is_read() {
    let seed = read(SEED);
    // A skippable frame (magic 0x184D2A50, 4 bytes of payload), then the
    // compressed seed, as pzstd writes its streams.
    let mut bytes = vec![0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4];
    bytes.extend(zstd::encode_all(seed.as_bytes(), 3).unwrap());
    let report = json_report(&[], &bytes);
    assert_eq!(report["inputs"][0]["total"]["running_ns"], 21_776_000);
}

#[test]
fn a_csv_record_without_end_is_refused_before_memory_grows() {
    let run = run(&["report", "--input-format", "csv", "/dev/zero"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "contend: /dev/zero:1: a CSV record longer than 1 MiB begins here (a quote opened and \
         not closed, or no line breaks?); is this a CSV lock table?\n"
    );
}

#[test]
fn control_characters_in_capture_strings_never_reach_the_terminal() {
    use crate::fxt_encode::{Encoder, MAKE, REAPER, STATE_RUNNING, STATE_SUSPENDED};
    let mut fxt = Encoder::new(1_000_000_000);
    fxt.thread_name(REAPER, 0, "reaper\u{1b}]0;pwned\u{7}");
    fxt.switch(1_000, 0, STATE_RUNNING, MAKE, REAPER);
    fxt.lock_wait(
        1_100,
        1_300,
        (0, REAPER),
        "kernel",
        "kernel_lock\u{1b}[2J",
        "reaper",
    );
    fxt.switch(5_000, 0, STATE_SUSPENDED, REAPER, MAKE);
    let run = run_with_stdin(&["report", "--tid", &REAPER.to_string()], &fxt.bytes);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains('\u{1b}') && !run.stdout.contains('\u{7}'));
    assert!(
        run.stdout.contains("reaper\u{fffd}]0;pwned\u{fffd}"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("kernel_lock\u{fffd}[2J"),
        "{}",
        run.stdout
    );
}

#[test]
fn extra_columns_may_have_any_name_a_spreadsheet_gives() {
    let table = "dur\tcategory\tsymbol\tcaller\tcount(1)\tnoté\n\
                 1751151\tkernel\tkernel_lock\treaper\t1\tx\n";
    let report = json_report(&[], table.as_bytes());
    assert_eq!(report["inputs"][0]["format"], "table");
    assert_eq!(report["inputs"][0]["total"]["kernel_lock_ns"], 1_751_151);
}

#[test]
fn a_signal_during_export_leaves_no_partial_file() {
    for (signal, code) in [("-TERM", 143), ("-INT", 130), ("-HUP", 129), ("-QUIT", 131)] {
        let dir = scratch_dir(&format!("hostile_signal{signal}"));
        let out = dir.join("rows.csv");
        // Reading stdin that stays open: the run waits with its
        // temporary file made.
        let mut child = contend()
            .args(["export", "-o", out.to_str().unwrap()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let partial = || {
            std::fs::read_dir(&dir)
                .unwrap()
                .filter_map(Result::ok)
                .any(|entry| entry.file_name().to_string_lossy().ends_with(".partial"))
        };
        let started = std::time::Instant::now();
        while !partial() {
            assert!(
                started.elapsed().as_secs() < 20,
                "no temporary file appeared"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let killed = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        // Stdin stays open until the run has ended: its end would be
        // an (empty) input, not the signal's doing.
        let stdin = child.stdin.take();
        let status = child.wait().unwrap();
        drop(stdin);
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.code(), Some(code), "{signal}: {stderr}");
        assert!(!partial(), "{signal}: the partial file is gone");
        assert!(!out.exists());
    }
}

#[test]
fn flags_that_would_do_nothing_say_so() {
    // export --what rows streams rows: a ranking flag is refused, not ignored.
    for flag in [["--top", "5"], ["--sort", "max"]] {
        let run = run(&["export", flag[0], flag[1], SEED]);
        assert_eq!(run.code, 2);
        assert_eq!(
            run.stderr,
            "contend: --top and --sort rank groups; --what rows exports every row as read \
             (--what groups ranks them)\n"
        );
    }
    let groups = run(&["export", "--what", "groups", "--top", "2", SEED]);
    assert_eq!(groups.code, 0, "{}", groups.stderr);
    assert_eq!(groups.stdout.lines().count(), 3);
    // diff --metric without --fail-above: a note, and exit 0.
    let diff = run(&["diff", "--metric", "kernel_lock_ns", SEED, SEED]);
    assert_eq!(diff.code, 0);
    assert!(
        diff.stderr.starts_with(
            "contend: --metric names what --fail-above watches; without --fail-above nothing \
             fails\n"
        ),
        "{}",
        diff.stderr
    );
}
