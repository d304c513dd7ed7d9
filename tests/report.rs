//! `contend report` on the seed samplings, in every shape they arrive in.

use crate::util::{
    SEED, SEED_MAIL, json_report, read, repo_path, run, run_with_stdin, scratch_dir, spin_shares,
};

const SEED_SHARES: [&str; 5] = ["49.9", "17.6", "75.8", "87.6", "68.7"];
const SEED_VERDICT: &str = "openbsd-reaper-make-j32 (table): running 21.776 ms in 5 samples: \
    65.1 % spinning on locks (kernel_lock 60.9 %), 34.9 % other work; \
    off-CPU 2.316 s, 1.1 % of it waiting on sleep locks";

/// Asserts the seed's reference figures on a JSON report.
fn assert_seed_figures(report: &serde_json::Value) {
    let total = &report["total"];
    assert_eq!(total["running_ns"], 21_776_000);
    assert_eq!(total["spin_ns"], 14_175_161);
    assert_eq!(total["kernel_lock_ns"], 13_260_228);
    assert_eq!(total["work_ns"], 7_600_839);
    assert_eq!(total["off_cpu_ns"], 2_315_700_000u64);
    assert_eq!(total["sleep_wait_ns"], 25_392_111);
    assert_eq!(
        format!("{:.1}", total["spin_share"].as_f64().unwrap() * 100.0),
        "65.1"
    );
    assert_eq!(spin_shares(report), SEED_SHARES);
}

#[test]
fn terminal_report_answers_the_thread() {
    let run = run(&["report", SEED]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().next(), Some(SEED_VERDICT));
    for share in SEED_SHARES {
        assert!(
            run.stdout.contains(&format!("{share} %")),
            "no {share} % in\n{}",
            run.stdout
        );
    }
    // The prose around the tables is what a pasted mail has: no note unless
    // asked for with -v; -q silences every note.
    assert_eq!(run.stderr, "");
    let verbose = crate::util::run(&["report", "-v", SEED]);
    assert_eq!(
        verbose.stderr,
        "contend: openbsd-reaper-make-j32: skipped 2 lines that are not part of a table \
         (first: line 1); --strict to fail instead\n"
    );
    assert_eq!(verbose.stdout, run.stdout);
    let quiet = crate::util::run(&[
        "report",
        "-q",
        "fixtures/real/lockstat-freebsd-man-ex2-hold.txt",
    ]);
    assert_eq!(quiet.code, 0);
    assert_eq!(quiet.stderr, "");
    let noted = crate::util::run(&["report", "fixtures/real/lockstat-freebsd-man-ex2-hold.txt"]);
    assert!(noted.stderr.contains("set apart 20 rows of lock hold time"));
}

#[test]
fn terminal_report_snapshot() {
    let run = run(&["report", SEED]);
    insta::assert_snapshot!("seed_terminal_report", run.stdout);
}

#[test]
fn json_matches_the_contract_and_the_seed() {
    let report = json_report(&[SEED], b"");
    assert_seed_figures(&report);
    let input = &report["inputs"][0];
    assert_eq!(input["label"], "openbsd-reaper-make-j32");
    assert_eq!(input["samples"], 5);
    assert_eq!(input["rows"], 30);
    assert_eq!(input["skipped_lines"], 2);

    let sample = &report["samples"][0];
    assert_eq!(sample["input"], "openbsd-reaper-make-j32");
    assert_eq!(sample["sample"], 1);
    assert_eq!(sample["states_ns"]["Running"], 4_384_000);
    assert_eq!(sample["states_ns"]["Stopped"], 496_600_000);
    assert_eq!(sample["running_ns"], 4_384_000);
    assert_eq!(sample["off_cpu_ns"], 496_600_000);
    assert_eq!(sample["spin_ns"], 2_188_295);
    assert_eq!(sample["kernel_lock_ns"], 1_751_151);
    assert_eq!(sample["sleep_wait_ns"], 12_417_639);
    assert_eq!(sample["work_ns"], 4_384_000 - 2_188_295);

    let top = &report["groups"][0];
    assert_eq!(top["category"], "rwlock");
    assert_eq!(top["symbol"], "kernel_map_store");
    assert_eq!(top["caller"], "vm_map_lock_ln");
    assert_eq!(top["class"], "sleep");
    assert_eq!(top["total_ns"], 25_392_111);
    assert_eq!(top["rows"], 5);
    assert_eq!(top["samples_seen"], 5);
    assert_eq!(top["max_ns"], 12_944_890);
    assert!(top["share_of_running"].is_null());
    let lock_total = 39_567_272.0;
    let share = top["share_of_lock_time"].as_f64().unwrap();
    assert!((share - 25_392_111.0 / lock_total).abs() < 1e-12);

    let reaper = &report["groups"][1];
    assert_eq!(reaper["symbol"], "kernel_lock");
    assert_eq!(reaper["caller"], "reaper");
    assert_eq!(reaper["total_ns"], 13_095_905);
    let share = reaper["share_of_running"].as_f64().unwrap();
    assert!((share - 13_095_905.0 / 21_776_000.0).abs() < 1e-12);

    let groups = report["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 9);
    let sum: u64 = groups.iter().map(|g| g["total_ns"].as_u64().unwrap()).sum();
    assert_eq!(sum, 39_567_272);
    let last = groups.last().unwrap()["cumulative_share"].as_f64().unwrap();
    assert!((last - 1.0).abs() < 1e-12);
}

#[test]
fn json_field_names_are_the_contract() {
    let report = json_report(&[SEED], b"");
    let keys = |value: &serde_json::Value| -> Vec<String> {
        value.as_object().unwrap().keys().cloned().collect()
    };
    let sample_fields = [
        "input",
        "sample",
        "states_ns",
        "running_ns",
        "off_cpu_ns",
        "spin_ns",
        "sleep_wait_ns",
        "work_ns",
        "spin_share",
        "kernel_lock_ns",
    ];
    for field in ["inputs", "samples", "total", "groups"] {
        assert!(report.get(field).is_some(), "no {field}");
    }
    for field in ["label", "samples", "rows", "skipped_lines"] {
        assert!(
            keys(&report["inputs"][0]).contains(&field.to_string()),
            "inputs lacks {field}"
        );
    }
    for field in sample_fields {
        assert!(
            keys(&report["samples"][0]).contains(&field.to_string()),
            "sample lacks {field}"
        );
    }
    for field in &sample_fields[2..] {
        assert!(
            keys(&report["total"]).contains(&field.to_string()),
            "total lacks {field}"
        );
    }
    let group_fields = [
        "category",
        "symbol",
        "caller",
        "class",
        "total_ns",
        "rows",
        "samples_seen",
        "mean_ns",
        "max_ns",
        "share_of_lock_time",
        "share_of_running",
        "cumulative_share",
    ];
    for field in group_fields {
        assert!(
            keys(&report["groups"][0]).contains(&field.to_string()),
            "group lacks {field}"
        );
    }
}

#[test]
fn the_whole_mail_on_stdin_gives_the_same_figures() {
    let report = json_report(&[], read(SEED_MAIL).as_bytes());
    assert_seed_figures(&report);
    assert_eq!(report["inputs"][0]["label"], "stdin");
    assert_eq!(report["inputs"][0]["skipped_lines"], 290);
    let dash = json_report(&["-"], read(SEED_MAIL).as_bytes());
    assert_eq!(dash["total"], report["total"]);
}

#[test]
fn crlf_line_ends_give_the_same_figures() {
    let crlf = read(SEED).replace('\n', "\r\n");
    let path = scratch_dir("crlf").join("reaper-crlf.txt");
    std::fs::write(&path, crlf).unwrap();
    let report = json_report(&[path.to_str().unwrap()], b"");
    assert_seed_figures(&report);
    assert_eq!(report["inputs"][0]["label"], "reaper-crlf");
}

#[test]
fn spaces_instead_of_tabs_give_the_same_figures() {
    let spaced = read(SEED).replace('\t', "   ");
    assert!(!spaced.contains('\t'));
    assert_seed_figures(&json_report(&[], spaced.as_bytes()));
}

#[test]
fn key_columns_in_another_order_give_the_same_figures() {
    // dur stays first; the keys come as caller, category, symbol, with
    // Perfetto's newer escaping of arg columns.
    let reordered: String = read(SEED)
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() == 4 && (fields[0] == "dur" || fields[0].parse::<u64>().is_ok()) {
                let fields = if fields[0] == "dur" {
                    vec![
                        "dur",
                        "arg__set__id_91caller_93",
                        "category",
                        "arg__set__id_91symbol_93",
                    ]
                } else {
                    vec![fields[0], fields[3], fields[1], fields[2]]
                };
                fields.join("\t") + "\n"
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    assert!(reordered.contains("dur\targ__set__id_91caller_93\tcategory"));
    let report = json_report(&[], reordered.as_bytes());
    assert_seed_figures(&report);
    assert_eq!(report["groups"][0]["caller"], "vm_map_lock_ln");
}

#[test]
fn file_argument_and_stdin_agree() {
    let from_file = json_report(&[SEED], b"");
    let from_stdin = json_report(
        &["--label", "openbsd-reaper-make-j32"],
        read(SEED).as_bytes(),
    );
    assert_eq!(from_file, from_stdin);
}

#[test]
fn by_top_and_sort_shape_the_ranking() {
    let report = json_report(&[SEED, "--by", "symbol", "--top", "2"], b"");
    let groups = report["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(report["groups_total"], 5);
    assert_eq!(groups[0]["symbol"], "kernel_map_store");
    assert_eq!(groups[1]["symbol"], "kernel_lock");
    assert_eq!(groups[1]["total_ns"], 13_260_228);
    assert!(groups[0].get("category").is_none());
    assert!(groups[0].get("caller").is_none());

    let report = json_report(
        &[SEED, "--by", "caller", "--sort", "rows", "--top", "0"],
        b"",
    );
    let groups = report["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 9);
    // reaper: 5 rows of kernel_lock; ties (5 rows) break by caller name.
    let first: Vec<&str> = groups[..3]
        .iter()
        .map(|g| g["caller"].as_str().unwrap())
        .collect();
    assert_eq!(first, ["reaper", "uvm_pmr_freepageq", "vm_map_lock_ln"]);
    assert_eq!(groups[0]["class"], "spin");

    let report = json_report(&[SEED, "--by", "category", "--sort", "max"], b"");
    assert_eq!(report["groups"][0]["category"], "rwlock");
    assert_eq!(report["groups"][0]["max_ns"], 12_944_890);
}

#[test]
fn grouping_without_category_marks_mixed_classes() {
    // The same symbol under two categories has no single class.
    let text = "Running 1ms\ndur category symbol caller\n100 mutex foo a\n50 rwlock foo b\n";
    let report = json_report(&["--by", "symbol"], text.as_bytes());
    assert_eq!(report["groups"][0]["class"], "mixed");
    let share = report["groups"][0]["share_of_running"].as_f64().unwrap();
    assert!((share - 100.0 / 1_000_000.0).abs() < 1e-15);
}

#[test]
fn spin_and_sleep_flags_move_categories() {
    let report = json_report(&[SEED, "--spin", "rwlock", "--sleep", "mutex"], b"");
    let total = &report["total"];
    assert_eq!(total["spin_ns"], 13_260_228 + 25_392_111);
    assert_eq!(total["sleep_wait_ns"], 39_567_272 - 13_260_228 - 25_392_111);
}

#[test]
fn spin_over_running_is_a_warning_naming_the_sample() {
    let text = "Running 1ms\ndur category symbol caller\n2000000 kernel kernel_lock reaper\n";
    let run = run_with_stdin(&["report"], text.as_bytes());
    assert_eq!(run.code, 0);
    // On stderr, where a note goes: stdout stays the report.
    assert_eq!(
        run.stderr,
        "contend: warning: stdin sample 1: spin 2.000 ms exceeds running 1.000 ms; \
         check --spin/--sleep or the data\n"
    );
    assert!(!run.stdout.contains("warning"), "{}", run.stdout);
    let report = json_report(&[], text.as_bytes());
    assert_eq!(report["samples"][0]["work_ns"], -1_000_000);
    assert_eq!(
        report["warnings"],
        serde_json::json!([{"kind": "spin_exceeds_running", "input": "stdin", "sample": 1,
            "spin_ns": 2_000_000, "running_ns": 1_000_000}])
    );
}

#[test]
fn samples_without_states_have_null_shares() {
    let text = "dur category symbol caller\n100 kernel kernel_lock reaper\n";
    let report = json_report(&[], text.as_bytes());
    assert!(report["total"]["running_ns"].is_null());
    assert!(report["total"]["spin_share"].is_null());
    assert!(report["samples"][0]["work_ns"].is_null());
    assert!(report["groups"][0]["share_of_running"].is_null());
    let run = run_with_stdin(&["report"], text.as_bytes());
    assert!(run.stdout.starts_with(
        "stdin (table): 100 ns spinning on locks (kernel_lock 100 ns) in 1 sample; no Running \
         time to compare it with (put the thread's state lines above each table)"
    ));
}

#[test]
fn csv_format_is_the_ranking() {
    let run = run(&["report", SEED, "--format", "csv"]);
    assert_eq!(run.code, 0);
    let mut lines = run.stdout.lines();
    assert_eq!(
        lines.next(),
        Some(
            "category,symbol,caller,class,total_ns,rows,samples_seen,mean_ns,max_ns,\
             share_of_lock_time,share_of_running,cumulative_share,share_of_off_cpu,events,\
             mean_per_event_ns,p50_ns,p90_ns,p99_ns"
        )
    );
    let first = lines.next().unwrap();
    assert_eq!(
        first,
        "rwlock,kernel_map_store,vm_map_lock_ln,sleep,25392111,5,5,5078422,12944890,\
         0.6417453040482548,,0.6417453040482548,0.010965198859955953,,,,,"
    );
    assert_eq!(lines.count(), 8);
}

#[test]
fn sort_running_ranks_spinning_locks_by_cpu_then_sleeping_ones() {
    let report = json_report(&["--sort", "running", SEED], b"");
    let groups = report["groups"].as_array().unwrap();
    let order: Vec<(&str, &str)> = groups
        .iter()
        .map(|g| (g["caller"].as_str().unwrap(), g["class"].as_str().unwrap()))
        .collect();
    // The spinning kernel_lock of reaper burns 60.1 % of Running: first.
    assert_eq!(order[0], ("reaper", "spin"));
    assert_eq!(
        format!("{:.3}", groups[0]["share_of_running"].as_f64().unwrap()),
        "0.601"
    );
    assert_eq!(order[1], ("sleep_setup", "spin"));
    // The off-CPU rwlock, largest by total, comes after every spinning
    // lock, ranked by its share of off-CPU time: 25.392 ms of 2.316 s.
    assert_eq!(order[8], ("vm_map_lock_ln", "sleep"));
    assert_eq!(
        format!("{:.4}", groups[8]["share_of_off_cpu"].as_f64().unwrap()),
        "0.0110"
    );
    assert!(groups[0]["share_of_off_cpu"].is_null());
    // The terminal ranks this way by default; JSON keeps total.
    let by_default = json_report(&[SEED], b"");
    assert_eq!(by_default["groups"][0]["caller"], "vm_map_lock_ln");
    let text = run(&["report", SEED]);
    assert!(
        text.stdout.contains("│ 1 ┆ kernel   ┆ kernel_lock "),
        "{}",
        text.stdout
    );
}

#[test]
fn markdown_format_pastes_into_a_mail() {
    let run = run(&["report", SEED, "--format", "markdown"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout
            .starts_with(&format!("**{SEED_VERDICT}**\n\n### Samples\n\n"))
    );
    assert!(run.stdout.contains("| sample | "));
    assert!(
        run.stdout.contains("|    all | 21.776 ms |"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("### Lock waits by category, symbol, caller: 9 groups, by share of Running")
    );
}

#[test]
fn several_inputs_each_keep_their_label() {
    let run = run(&["report", SEED, SEED, "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["inputs"][1]["label"], "openbsd-reaper-make-j32#2");
    assert_eq!(report["samples"].as_array().unwrap().len(), 10);
    assert_eq!(report["total"]["running_ns"], 2 * 21_776_000);
    assert_eq!(report["inputs"][1]["total"]["spin_ns"], 14_175_161);
    let table = crate::util::run(&["report", SEED, SEED]);
    assert!(
        table
            .stdout
            .contains("all inputs: running 43.552 ms in 10 samples: 65.1 %")
    );
}

#[test]
fn color_only_when_asked() {
    let plain = run(&["report", SEED]);
    assert!(!plain.stdout.contains('\x1b'));
    let colored = run(&["report", SEED, "--color", "always"]);
    assert!(
        colored
            .stdout
            .starts_with("\x1b[1mopenbsd-reaper-make-j32 (table): running")
    );
}

#[test]
fn closed_stdout_ends_quietly() {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = crate::util::contend()
        .args(["report", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before contend writes, as `head -1` does.
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(read(SEED).as_bytes()).unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
}

#[test]
fn help_shows_examples() {
    let run = run(&["report", "--help"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout
            .contains("contend report fixtures/openbsd-reaper-make-j32.txt")
    );
    assert!(repo_path(SEED).exists());
}

/// stdout of `contend ARGS` with `COLUMNS` set, as a terminal would.
fn run_with_columns(columns: &str, args: &[&str]) -> String {
    let output = crate::util::contend()
        .env("COLUMNS", columns)
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "{args:?}");
    String::from_utf8(output.stdout).unwrap()
}

fn widest_line(text: &str) -> usize {
    text.lines()
        .map(|line| line.chars().count())
        .max()
        .unwrap_or(0)
}

#[test]
fn eighty_columns_fit_and_keep_the_answer() {
    for args in [
        vec!["report", SEED],
        vec!["report", SEED, "fixtures/formats/reaper.csv"],
        vec!["report", "fixtures/formats/freebsd-lockstat.txt"],
        vec![
            "report",
            "--per-input",
            SEED,
            "fixtures/formats/linux-perf-lock-contention.txt",
        ],
        vec![
            "diff",
            "fixtures/diff/reaper-before.txt",
            "fixtures/diff/reaper-after.txt",
        ],
    ] {
        let out = run_with_columns("80", &args);
        assert!(widest_line(&out) <= 80, "{args:?}:\n{out}");
    }
    let narrow = run_with_columns("80", &["report", SEED]);
    // The verdict is wrapped, not cut: the whole answer is there.
    assert!(narrow.starts_with("openbsd-reaper-make-j32 (table): running 21.776 ms in 5 samples:"));
    assert!(
        narrow.contains("65.1 % spinning\n  on locks (kernel_lock 60.9 %)"),
        "{narrow}"
    );
    // Columns a narrow terminal can spare go first; the keys, the total,
    // the share of running time and the class (why the largest wait, a
    // sleep lock, ranks last) stay, each cell on one line, names too long
    // cut in their middle to a like length, never wrapped.
    assert!(
        narrow.contains(
            "│ 1 ┆ kernel   ┆ kernel_lock  ┆ reaper       ┆ spin  ┆  13.096 ms ┆    60.1 % │"
        ),
        "{narrow}"
    );
    assert!(
        narrow.contains(
            "│ 9 ┆ rwlock   ┆ kernel…store ┆ vm_map…ck_ln ┆ sleep ┆  25.392 ms ┆         - │"
        ),
        "{narrow}"
    );
    assert!(narrow.contains("┆ uvm_ma…_pool ┆ pool_get "), "{narrow}");
    assert!(!narrow.contains("cum %"));
    // The samples table keeps the verdict's figures (spin, kernel_lock,
    // work, spin %) and gives up the bar, Stopped and sleep wait first.
    assert!(
        narrow.contains("│    all ┆ 21.776 ms ┆  14.175 ms ┆   13.260 ms ┆   7.601 ms ┆ 65.1 % │"),
        "{narrow}"
    );
    assert!(!narrow.contains("Stopped") && !narrow.contains("Running: lock"));
    // 120 columns keep the sleep lock's share of off-CPU time too.
    let medium = run_with_columns("120", &["report", SEED]);
    assert!(
        medium.contains(
            "│ 9 ┆ rwlock   ┆ kernel_map_store        ┆ vm_map_lock_ln    ┆ sleep ┆  25.392 ms ┆  \
             64.2 % ┆         - ┆     1.1 % │"
        ),
        "{medium}"
    );
    // A diff at 80 keeps q, which decides `*` and `~`, before p, and says
    // nothing of the `±` it dropped.
    let diff = run_with_columns(
        "80",
        &[
            "diff",
            "fixtures/diff/reaper-before.txt",
            "fixtures/diff/reaper-after.txt",
        ],
    );
    assert!(
        diff.contains(
            "│ * ┆ kernel   ┆ kernel_lock ┆ reaper       ┆   1.127 ms ┆ -59.1 % ┆ <0.001 │"
        ),
        "{diff}"
    );
    assert!(
        diff.contains("┆  change ┆     q │") && !diff.contains("┆     p │"),
        "{diff}"
    );
    assert!(!diff.contains("± : how far"), "{diff}");
    // A wide terminal keeps every column.
    let wide = run_with_columns("250", &["report", SEED]);
    assert!(wide.contains("cum %") && wide.contains("sleep wait") && wide.contains("Stopped"));
    assert!(widest_line(&wide) <= 250);
}

#[test]
fn no_color_and_never_turn_colour_off() {
    let forced = crate::util::contend()
        .env("NO_COLOR", "1")
        .args(["report", SEED, "--color", "auto"])
        .output()
        .unwrap();
    assert!(!String::from_utf8(forced.stdout).unwrap().contains('\x1b'));
    let never = run(&["report", SEED, "--color", "never"]);
    assert!(!never.stdout.contains('\x1b'));
    // --color always wins over NO_COLOR.
    let always = crate::util::contend()
        .env("NO_COLOR", "1")
        .args(["report", SEED, "--color", "always"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8(always.stdout)
            .unwrap()
            .contains("\x1b[1m")
    );
}

#[test]
fn bars_show_where_running_time_goes() {
    let out = run(&["report", SEED]).stdout;
    // Sample 4: kernel_lock 87.3 % of Running (17 of 20 cells), spin
    // 87.6 % (18), work the rest; sample 2 mostly works.
    let bar_of = |sample: &str| -> String {
        out.lines()
            .find(|line| line.starts_with(&format!("│      {sample} ┆")))
            .unwrap_or_else(|| panic!("sample {sample} in {out}"))
            .rsplit('┆')
            .next()
            .unwrap()
            .trim_matches(|c: char| c == ' ' || c == '│')
            .to_string()
    };
    assert_eq!(bar_of("4"), format!("{}▓░░", "█".repeat(17)));
    assert_eq!(bar_of("2"), format!("█▓▓▓{}", "░".repeat(16)));
    assert!(out.contains("bars: █ kernel_lock spin, ▓ other spin, ░ work"));
    // The ranking's bar: the rwlock group is 64.2 % of lock time, 13 cells.
    let rwlock = out
        .lines()
        .find(|l| l.contains("kernel_map_store"))
        .unwrap();
    assert!(
        rwlock.contains(&format!("┆ {} ", "█".repeat(13))),
        "{rwlock}"
    );

    // ASCII: asked for, or a locale that is not UTF-8.
    let ascii = run(&["report", "--ascii", SEED]).stdout;
    assert!(ascii.is_ascii(), "{ascii}");
    assert!(ascii.contains(&format!("{}+..", "#".repeat(17))));
    assert!(ascii.contains("569.547 us"));
    // The bar column's header does not draw borders of its own.
    assert!(ascii.contains("| Running: lock / spin / work |"), "{ascii}");
    let c_locale = crate::util::contend()
        .env("LANG", "C")
        .args(["report", SEED])
        .output()
        .unwrap();
    assert!(String::from_utf8(c_locale.stdout).unwrap().is_ascii());
    // Without Running time there is nothing to split: no bar column.
    let no_states = run(&["report", "fixtures/formats/freebsd-lockstat.txt"]).stdout;
    assert!(!no_states.contains("Running: lock"));
}

#[test]
fn tables_fit_the_terminal_even_when_piped_and_width_overrides() {
    // --width, without any terminal.
    let fitted = crate::util::run(&["report", "--width", "80", SEED]);
    assert_eq!(fitted.code, 0);
    assert!(widest_line(&fitted.stdout) <= 80, "{}", fitted.stdout);
    // Without a terminal or --width (a CI log): every column, no fitting.
    let wide = crate::util::run(&["report", SEED]);
    assert!(wide.stdout.contains("cum %") && widest_line(&wide.stdout) > 150);
    // In a terminal of 80 columns, with stdout piped (`| less`): the
    // controlling terminal's width, asked of /dev/tty.
    let command = format!(
        "stty cols 80 rows 24; {} report {SEED} | cat",
        env!("CARGO_BIN_EXE_contend")
    );
    let output = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("script(1) runs a pseudo-terminal");
    assert!(output.status.success());
    let shown = String::from_utf8_lossy(&output.stdout).replace('\r', "");
    assert!(shown.contains("65.1 % spinning"), "{shown}");
    let table_lines = shown
        .lines()
        .filter(|line| line.starts_with(['│', '┌', '└', '╞']));
    assert!(table_lines.clone().count() > 10, "{shown}");
    assert!(
        table_lines
            .map(|line| line.chars().count())
            .all(|w| w <= 80),
        "{shown}"
    );
}

#[test]
fn the_all_row_adds_up_when_a_sample_has_no_states() {
    // The seed with sample 3's state lines cut: its lock waits have no
    // Running time to be a share of.
    let seed = crate::util::read(SEED);
    let cut = seed.replacen("Stopped\t388.9ms\nRunning\t3.868ms\n", "", 1);
    assert_ne!(cut, seed);
    let run = crate::util::run_with_stdin(&["report", "--width", "200"], cut.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let all = run
        .stdout
        .lines()
        .find(|line| line.contains(" all "))
        .expect("an all row");
    let cells: Vec<&str> = all
        .split('┆')
        .map(|cell| cell.trim_matches(['│', ' ']))
        .collect();
    // Running, Stopped, spin, kernel_lock, work, spin %: 14.175 ms of spin
    // less sample 3's 2.931 ms, so that spin + work = Running.
    assert_eq!(
        &cells[1..7],
        [
            "17.908 ms",
            "1.927 s",
            "11.244 ms",
            "10.349 ms",
            "6.664 ms",
            "62.8 %"
        ]
    );
    assert!(
        run.stderr.contains(
            "warning: stdin: 1 of 5 samples have no Running total (sample 3); the all row's \
             spin, work and shares cover the other 4"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn filters_pick_rows_and_samples_before_the_ranking() {
    // Samples 2 and 3 of the seed, kernel_lock only: 187.535 µs and
    // 2.911 ms of it, and the samples keep their numbers.
    let report = json_report(
        &["--samples", "2..3", "--match", "symbol=^kernel_lock$", SEED],
        b"",
    );
    let samples: Vec<(u64, u64)> = report["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["sample"].as_u64().unwrap(),
                s["kernel_lock_ns"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(samples, [(2, 187_535), (3, 2_911_007)]);
    let groups = report["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0]["caller"], "reaper");
    assert_eq!(groups[0]["total_ns"], 155_688 + 2_911_007);
    assert_eq!(report["inputs"][0]["rows"], 3);
    // --exclude leaves out what matches, every other sample stays.
    let report = json_report(&["--exclude", "category=rwlock", SEED], b"");
    assert_eq!(report["inputs"][0]["samples"], 5);
    assert_eq!(report["total"]["sleep_wait_ns"], 0);
    assert_eq!(report["total"]["spin_ns"], 14_175_161);
}

#[test]
fn a_filter_that_picks_nothing_is_an_error_naming_it() {
    for (args, message) in [
        (
            vec!["report", "--match", "caller=nosuch", SEED],
            "contend: --match caller=nosuch matches no row\n",
        ),
        (
            vec!["report", "--exclude", "caller=nosuch", SEED],
            "contend: --exclude caller=nosuch matches no row\n",
        ),
        (
            vec!["report", "--samples", "9", SEED],
            "contend: --samples 9 picks none of the 5 samples of openbsd-reaper-make-j32\n",
        ),
        // An empty pattern matches every row: nothing is left to report
        // (it gave a "0.0 % spinning" verdict, exit 0).
        (
            vec!["report", "--exclude", "symbol=", SEED],
            "contend: --exclude symbol= leaves no row: every row read is filtered out\n",
        ),
        (
            vec![
                "export",
                "--match",
                "category=mutex",
                "--exclude",
                "symbol=sched",
                SEED,
                "--exclude",
                "symbol=uvm",
            ],
            "contend: --match category=mutex --exclude symbol=sched --exclude symbol=uvm leave \
             no row: every row read is filtered out\n",
        ),
        (
            vec!["export", "--what", "rows", "--match", "symbol=nosuch", SEED],
            "contend: --match symbol=nosuch matches no row\n",
        ),
    ] {
        let run = run(&args);
        assert_eq!(run.code, 2, "{args:?}");
        assert_eq!(run.stderr, message, "{args:?}");
    }
    let bad = run(&["report", "--match", "lock=x", SEED]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("\"lock\" is not a key: category, symbol or caller")
    );
}

#[test]
fn many_samples_are_a_sparkline_of_the_spin_share() {
    // The seed five times over: 25 samples, above the 20 a table shows.
    let seed = read(SEED);
    let many = [seed.as_str(); 5].join("\n");
    let run = run_with_stdin(&["report", "--width", "100", "-"], many.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    // 49.9 %, 17.6 %, 75.8 %, 87.6 %, 68.7 % in eighths: 4, 2, 6, 7, 6.
    assert!(
        run.stdout.contains(
            "stdin: spin share of Running in 25 samples, each mark a sample (▁ 0 % .. █ 100 %):\n\
             ▄▂▆▇▆▄▂▆▇▆▄▂▆▇▆▄▂▆▇▆▄▂▆▇▆\n"
        ),
        "{}",
        run.stdout
    );
    // The table keeps only the total.
    assert!(
        run.stdout.contains("│    all ┆ 108.880 ms ┆"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("│     25 ┆"));
    // Narrower than the samples: each mark averages several.
    let narrow = run_with_stdin(
        &["report", "--width", "20", "--ascii", "-"],
        many.as_bytes(),
    );
    assert!(
        narrow.stdout.contains("each mark the mean of 2 samples"),
        "{}",
        narrow.stdout
    );
    // --samples all keeps a row per sample.
    let all = run_with_stdin(
        &["report", "--samples", "all", "--width", "200", "-"],
        many.as_bytes(),
    );
    assert!(all.stdout.contains("│     25 ┆"), "{}", all.stdout);
    assert!(!all.stdout.contains("spin share of Running in"));
}

/// Ten waits on kernel_lock in reaper, 1 to 10 µs, and a count-less
/// summed row: a slice list as `select ts, dur, ... from slice` gives it.
const SLICE_LIST: &str = "ts,dur,category,name,caller\n\
    100,1000,kernel,kernel_lock,reaper\n200,2000,kernel,kernel_lock,reaper\n\
    300,3000,kernel,kernel_lock,reaper\n400,4000,kernel,kernel_lock,reaper\n\
    500,5000,kernel,kernel_lock,reaper\n600,6000,kernel,kernel_lock,reaper\n\
    700,7000,kernel,kernel_lock,reaper\n800,8000,kernel,kernel_lock,reaper\n\
    900,9000,kernel,kernel_lock,reaper\n1000,10000,kernel,kernel_lock,reaper\n\
    1100,500,mutex,sched_lock,wakeup_n\n";

#[test]
fn a_slice_list_with_start_times_gives_wait_distributions() {
    let report = json_report(&["--histogram"], SLICE_LIST.as_bytes());
    let reaper = &report["groups"][0];
    assert_eq!(reaper["caller"], "reaper");
    assert_eq!(reaper["events"], 10);
    assert_eq!(reaper["mean_per_event_ns"], 5_500);
    // Nearest rank: the 5th, the 9th and the 10th of ten, each alone in
    // its bucket.
    assert_eq!(reaper["p50_ns"], 5_000);
    assert_eq!(reaper["p90_ns"], 9_000);
    assert_eq!(reaper["p99_ns"], 10_000);
    assert_eq!(reaper["max_ns"], 10_000);
    let octaves: Vec<(u64, u64)> = reaper["histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["from_ns"].as_u64().unwrap(), o["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        octaves,
        [(512, 1), (1024, 1), (2048, 2), (4096, 4), (8192, 2)]
    );
    // Without --histogram the field is absent; the percentiles stay.
    let report = json_report(&[], SLICE_LIST.as_bytes());
    assert!(report["groups"][0].get("histogram").is_none());
    assert_eq!(report["groups"][0]["p99_ns"], 10_000);

    let text = run_with_stdin(
        &["report", "--histogram", "--width", "120"],
        SLICE_LIST.as_bytes(),
    );
    assert_eq!(text.code, 0, "{}", text.stderr);
    let section = "\
#1 kernel kernel_lock reaper: 10 waits, mean 5.500 µs, p50 5.000 µs, p90 9.000 µs, p99 10.000 µs, max 10.000 µs
      nsec ------ Time Distribution ------ count
       512 |@@@                            1
      1024 |@@@                            1
      2048 |@@@@@@                         2
      4096 |@@@@@@@@@@@@                   4
      8192 |@@@@@@                         2
";
    assert!(text.stdout.contains(section), "{}", text.stdout);
}

#[test]
fn rows_are_waits_reads_a_list_without_start_times_as_single_waits() {
    let without_ts: String = SLICE_LIST
        .lines()
        .map(|line| line.split_once(',').unwrap().1)
        .map(|line| format!("{line}\n"))
        .collect();
    // Without a ts column the rows are sums of unknown counts.
    let sums = json_report(&[], without_ts.as_bytes());
    for field in ["events", "mean_per_event_ns", "p50_ns"] {
        assert_eq!(sums["groups"][0][field], serde_json::Value::Null, "{field}");
    }
    assert_eq!(sums["groups"][0]["rows"], 10);
    let waits = json_report(&["--rows-are-waits"], without_ts.as_bytes());
    let with_ts = json_report(&[], SLICE_LIST.as_bytes());
    assert_eq!(waits["groups"], with_ts["groups"]);
    assert_eq!(waits["groups"][0]["p50_ns"], 5_000);
}

#[test]
fn a_pivot_table_says_its_distributions_are_not_available() {
    let text = run(&["report", "--histogram", "--width", "200", SEED]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.ends_with(
            "Wait distributions: single waits by power of two, as lockstat -h\nnot available: \
             openbsd-reaper-make-j32: its rows are sums (a pivot table); a list of single waits \
             has a ts column, or say so with --rows-are-waits\n"
        ),
        "{}",
        text.stdout
    );
    // Events are unknown on every row: the ranking leaves the column out
    // (the JSON has them as null), and shows no percentiles.
    assert!(!text.stdout.contains("┆ events ┆"), "{}", text.stdout);
    assert!(!text.stdout.contains("p50"), "{}", text.stdout);
    let report = json_report(&["--histogram", SEED], b"");
    for group in report["groups"].as_array().unwrap() {
        assert_eq!(group["histogram"], serde_json::Value::Null);
        assert_eq!(group["events"], serde_json::Value::Null);
    }
    let markdown = run(&["report", "--format", "markdown", "--histogram", SEED]);
    assert!(
        markdown
            .stdout
            .ends_with("```\nWait distributions: single waits by power of two, as lockstat -h\nnot available: openbsd-reaper-make-j32: its rows are sums (a pivot table); a list of single waits has a ts column, or say so with --rows-are-waits\n```\n"),
        "{}",
        markdown.stdout
    );
}

#[test]
fn inputs_without_running_time_rank_by_total_wait() {
    // perf lock: rwsem:W's 58.2 ms ranked after the 8.3 µs spin lock, by
    // a share of Running there is none of. By total wait, as perf prints
    // it, and said so.
    let run = run(&[
        "report",
        "--width",
        "250",
        "fixtures/formats/linux-perf-lock-contention.txt",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    assert!(
        out.contains("6 groups, by total wait (no input has Running time to take shares of)"),
        "{out}"
    );
    let order: Vec<&str> = out
        .lines()
        .skip_while(|line| !line.starts_with("Lock waits"))
        .filter(|line| line.starts_with("│ ") && line.contains(" ┆ "))
        .skip(1)
        .filter_map(|line| line.split(" ┆ ").nth(3).map(str::trim))
        .collect();
    assert_eq!(
        order,
        [
            "_raw_spin_lock",
            "down_write",
            "__mutex_lock.constprop.0",
            "_raw_read_lock",
            "down_read",
            "_raw_spin_lock_irqsave"
        ],
        "{out}"
    );
    // No thread states: no `% running` or `% off-CPU` column of dashes.
    assert!(
        !out.contains("% running") && !out.contains("% off-CPU"),
        "{out}"
    );
}

/// `samples` samples of the seed's layout, each with `running` and 1 ms
/// on kernel_lock; `None` leaves the Running line out.
pub fn samples_text(samples: usize, running: impl Fn(usize) -> Option<&'static str>) -> String {
    let mut text = String::new();
    for sample in 0..samples {
        text.push_str("Stopped\t10ms\n");
        if let Some(running) = running(sample) {
            text.push_str(&format!("Running\t{running}\n"));
        }
        text.push_str("dur\tcategory\tsymbol\tcaller\n1ms\tkernel\tkernel_lock\treaper\n\n");
    }
    text
}

#[test]
fn warnings_about_many_samples_are_one_line_each_kind() {
    // 25 samples without Running, then 12 whose 1 ms spin exceeds their
    // 0.5 ms Running, then one sound one.
    let text = samples_text(38, |sample| match sample {
        0..25 => None,
        25..37 => Some("500us"),
        _ => Some("4ms"),
    });
    let run = run_with_stdin(&["report", "-"], text.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "contend: warning: stdin: spin exceeds running in 12 samples (sample 26: spin \
             1.000 ms, running 500.000 µs; sample 27: spin 1.000 ms, running 500.000 µs; \
             sample 28: spin 1.000 ms, running 500.000 µs; 9 more; -v says each); check \
             --spin/--sleep or the data",
            "contend: warning: stdin: 25 of 38 samples have no Running total (samples 1, 2, 3, \
             4, 5, 6, 7, 8, 9, 10, and 15 more); the all row's spin, work and shares cover the \
             other 13",
        ],
        "{}",
        run.stderr
    );
    // -v says each sample.
    let every = run_with_stdin(&["report", "-v", "-"], text.as_bytes());
    let exceeding: Vec<&str> = every
        .stderr
        .lines()
        .filter(|line| line.contains("exceeds running"))
        .collect();
    assert_eq!(exceeding.len(), 12, "{}", every.stderr);
    assert_eq!(
        exceeding[11],
        "contend: warning: stdin sample 37: spin 1.000 ms exceeds running 500.000 µs; check \
         --spin/--sleep or the data"
    );
    // The JSON keeps every one.
    let json = json_report(&["-"], text.as_bytes());
    let warnings = json["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 13);
    assert_eq!(warnings[12]["samples"].as_array().unwrap().len(), 25);
}

#[test]
fn a_note_met_in_several_inputs_is_one_line() {
    // Both sides of a diff strip the same offsets: one line names both;
    // -v gives each input its own.
    let sides = [
        "fixtures/diff/reaper-before.txt",
        "fixtures/diff/reaper-after.txt",
    ];
    let diff = run(&["diff", sides[0], sides[1]]);
    assert_eq!(
        diff.stderr,
        "contend: reaper-before: read 2 symbols and callers without the +0x offset (e.g. \
         `reaper+0x1c` as `reaper`): call sites in one function are one group; --keep-offsets \
         keeps them apart (likewise in reaper-after; -v says each)\n"
    );
    let verbose = run(&["diff", "-v", sides[0], sides[1]]);
    assert_eq!(
        verbose
            .stderr
            .lines()
            .filter(|line| line.contains("without the +0x offset"))
            .count(),
        2,
        "{}",
        verbose.stderr
    );
    // Five inputs: the first three others are named, the rest counted.
    let five = [sides[0], sides[1], sides[0], sides[1], sides[0]];
    let mut args = vec!["report", "--format", "json"];
    args.extend(five);
    let report = run(&args);
    assert_eq!(report.code, 0, "{}", report.stderr);
    assert!(
        report.stderr.contains(
            "(likewise in reaper-after, reaper-before#2, reaper-after#2 and 1 more; -v says each)"
        ),
        "{}",
        report.stderr
    );
}

#[test]
fn two_inputs_of_many_samples_keep_each_inputs_all_row() {
    let dir = scratch_dir("two_inputs_of_many_samples");
    let (before, after) = (dir.join("before.txt"), dir.join("after.txt"));
    std::fs::write(&before, samples_text(25, |_| Some("4ms"))).unwrap();
    std::fs::write(&after, samples_text(30, |_| Some("2ms"))).unwrap();
    let run = run(&["report", before.to_str().unwrap(), after.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows: Vec<&str> = run
        .stdout
        .lines()
        .filter(|line| line.contains("┆    all ┆"))
        .collect();
    assert_eq!(rows.len(), 2, "{}", run.stdout);
    assert!(
        rows[0].starts_with("│ before ┆    all ┆ 100.000 ms ┆ 250.000 ms ┆ 25.000 ms ┆"),
        "{}",
        rows[0]
    );
    assert!(
        rows[1].starts_with("│ after  ┆    all ┆  60.000 ms ┆ 300.000 ms ┆ 30.000 ms ┆"),
        "{}",
        rows[1]
    );
}

/// `--samples 4..` reads from sample 4 to the end, `..2` up to 2; a list
/// that names samples an input does not have says so (it dropped 7 of
/// `2..4,7` on a 5-sample input without a word; issue 36, item 13).
#[test]
fn open_sample_ranges_read_to_either_end_and_samples_past_the_last_are_named() {
    let spin = |args: &[&str]| -> (Vec<String>, String) {
        let mut all = vec!["report", "--format", "json"];
        all.extend(args);
        all.push(SEED);
        let run = crate::util::run(&all);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        (crate::util::spin_shares(&json), run.stderr)
    };
    let (every, _) = spin(&[]);
    let (from_four, quiet) = spin(&["--samples", "4.."]);
    assert_eq!(from_four, every[3..]);
    assert_eq!(quiet, "");
    let (to_two, _) = spin(&["--samples", "..2"]);
    assert_eq!(to_two, every[..2]);
    let (some, note) = spin(&["--samples", "2..4,7"]);
    assert_eq!(some, every[1..4]);
    assert_eq!(
        note,
        "contend: openbsd-reaper-make-j32: --samples 2..4,7 names samples past its last, 5: \
         those are left out\n"
    );
}

/// Each command's own options sit under their own headings, not under the
/// "Ranking:" of the flattened ranking options before them (`export -h`
/// listed --what, --format and -o as ranking options; issue 36, item 13).
#[test]
fn help_lists_output_options_under_output_not_ranking() {
    let heading_of = |command: &str, option: &str| -> String {
        let run = crate::util::run(&[command, "-h"]);
        let mut heading = String::new();
        for line in run.stdout.lines() {
            if !line.starts_with(' ') && line.ends_with(':') {
                heading = line.trim_end_matches(':').to_string();
            }
            if line.trim_start().starts_with(option) || line.contains(&format!(", {option}")) {
                return heading;
            }
        }
        panic!("{command} -h has no {option}")
    };
    for option in ["--what", "--format", "--output", "--raw-text"] {
        assert_eq!(heading_of("export", option), "Output", "export {option}");
    }
    assert_eq!(heading_of("diff", "--fail-above"), "Verdicts");
    assert_eq!(heading_of("diff", "--width"), "Output");
    assert_eq!(heading_of("plot", "--size"), "Output");
    assert_eq!(heading_of("report", "--top"), "Ranking");
}

/// Width and colour from the environment (issue 36, item 9): COLUMNS=0
/// and a 0x0 pseudo-terminal are no width, not tables squeezed to
/// `ker…ck`; TERM=dumb gets no escapes; CLICOLOR_FORCE colours a pipe.
#[test]
fn width_and_colour_follow_the_environment() {
    let bold = "\x1b[1m";
    let env_run = |vars: &[(&str, &str)]| {
        let output = crate::util::contend()
            .args(["report", SEED])
            .envs(vars.iter().copied())
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap()
    };
    let plain = env_run(&[]);
    assert_eq!(env_run(&[("COLUMNS", "0")]), plain);
    assert!(env_run(&[("CLICOLOR_FORCE", "1")]).starts_with(bold));
    assert!(!env_run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains(bold));
    assert!(!env_run(&[("CLICOLOR_FORCE", "0")]).contains(bold));
    // In pseudo-terminals: TERM=dumb, and one of 0 x 0.
    let in_pty = |setup: &str, term: &str| {
        let command = format!("{setup}; {} report {SEED}", env!("CARGO_BIN_EXE_contend"));
        let output = std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("TERM", term)
            .output()
            .expect("script(1) runs a pseudo-terminal");
        assert!(output.status.success());
        String::from_utf8_lossy(&output.stdout).replace('\r', "")
    };
    let dumb = in_pty("stty cols 200 rows 50", "dumb");
    assert!(
        dumb.contains("65.1 % spinning") && !dumb.contains(bold),
        "{dumb}"
    );
    let xterm = in_pty("stty cols 200 rows 50", "xterm");
    assert!(xterm.contains(bold), "{xterm}");
    let zero = in_pty("stty cols 0 rows 0", "xterm");
    assert!(
        zero.contains("kernel_lock") && !zero.contains("ker…"),
        "{zero}"
    );
}
