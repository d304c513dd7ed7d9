//! Outputs other people produced (fixtures/real: mails, manuals, tools'
//! examples), each read with the figures its producing tool meant. The
//! figures are in `NAME.expected`, written from the fixture's text by a
//! reader that never ran contend (fixtures/real/README.md).

use crate::util::{repo_path, run};

/// What a `.expected` file says.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    /// Extra arguments contend is run with (`args` line).
    args: Vec<String>,
    refused: bool,
    samples: usize,
    /// Per sample: spin and sleep wait, ns.
    sample_waits: Vec<(u64, u64)>,
    /// class, category, symbol, caller, total, count, max (`-`: no time,
    /// a count() map's).
    groups: Vec<GroupRow>,
    hold_rows: u64,
    hold_ns: u64,
    profiling_rows: u64,
    /// `# points:` comment lines: contention points, counted, not ranked.
    contention_points: u64,
    /// Lock holders (perf lock `-o`): name, tid (`-` unknown), wait caused.
    holders: Vec<(String, String, u64)>,
}

fn number(field: &str) -> u64 {
    field.parse().expect("a number in .expected")
}

/// A time in .expected: `-` where the figure does not exist.
fn time(field: &str) -> Option<u64> {
    (field != "-").then(|| number(field))
}

fn parse_expected(text: &str) -> Expected {
    let mut expected = Expected {
        contention_points: text
            .lines()
            .filter(|line| line.starts_with("# points:"))
            .count() as u64,
        ..Expected::default()
    };
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields[0] {
            "args" => expected.args = fields[1..].iter().map(|f| f.to_string()).collect(),
            "refused" => expected.refused = true,
            "samples" => expected.samples = number(fields[1]) as usize,
            "sample" => expected
                .sample_waits
                .push((number(fields[2]), number(fields[3]))),
            "group" => expected.groups.push((
                fields[1].to_string(),
                fields[2].to_string(),
                fields[3].to_string(),
                fields[4].to_string(),
                time(fields[5]),
                number(fields[6]),
                time(fields[7]),
            )),
            "set_apart" => {
                expected.hold_rows = number(fields[2]);
                expected.hold_ns = number(fields[3]);
            }
            "skipped" => expected.profiling_rows = number(fields[2]),
            "holder" => expected.holders.push((
                fields[1].to_string(),
                fields[2].to_string(),
                number(fields[3]),
            )),
            other => panic!("unknown .expected line kind {other:?}"),
        }
    }
    expected
}

/// The same figures, as contend's JSON report gives them.
fn read_by_contend(fixture: &str, args: &[String]) -> Expected {
    let mut all = vec!["report", "--format", "json", "--top", "0"];
    all.extend(args.iter().map(String::as_str));
    all.push(fixture);
    let run = run(&all);
    if run.code == 2 {
        assert!(run.stdout.is_empty(), "{fixture}: refused, yet wrote");
        assert!(run.stderr.starts_with("contend: "), "{}", run.stderr);
        return Expected {
            args: args.to_vec(),
            refused: true,
            ..Expected::default()
        };
    }
    assert_eq!(run.code, 0, "{fixture}: {}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let input = &json["inputs"][0];
    let text = |value: &serde_json::Value| value.as_str().expect("a string").to_string();
    let int = |value: &serde_json::Value| value.as_u64().expect("an integer");
    let mut groups: Vec<_> = json["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|group| {
            (
                text(&group["class"]),
                text(&group["category"]),
                text(&group["symbol"]),
                text(&group["caller"]),
                group["total_ns"].as_u64(),
                int(&group["rows"]),
                group["max_ns"].as_u64(),
            )
        })
        .collect();
    sort_groups(&mut groups);
    let mut holders: Vec<(String, String, u64)> = Vec::new();
    for holder in input["holders"].as_array().into_iter().flatten() {
        let name = holder["thread"].as_str().unwrap_or("").to_string();
        let tid = holder["tid"]
            .as_u64()
            .map_or("-".to_string(), |t| t.to_string());
        match holders.iter_mut().find(|h| h.0 == name && h.1 == tid) {
            Some(known) => known.2 += int(&holder["wait_ns"]),
            None => holders.push((name, tid, int(&holder["wait_ns"]))),
        }
    }
    holders.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| (&a.0, &a.1).cmp(&(&b.0, &b.1))));
    Expected {
        args: args.to_vec(),
        refused: false,
        samples: int(&input["samples"]) as usize,
        sample_waits: json["samples"]
            .as_array()
            .expect("samples")
            .iter()
            .map(|sample| (int(&sample["spin_ns"]), int(&sample["sleep_wait_ns"])))
            .collect(),
        groups,
        hold_rows: int(&input["hold_rows"]),
        hold_ns: int(&input["hold_ns"]),
        profiling_rows: int(&input["profiling_rows"]),
        contention_points: int(&input["contention_point_rows"]),
        holders,
    }
}

type GroupRow = (
    String,
    String,
    String,
    String,
    Option<u64>,
    u64,
    Option<u64>,
);

/// By total, largest first, then by keys: the order `.expected` lists.
fn sort_groups(groups: &mut [GroupRow]) {
    groups.sort_by(|a, b| {
        b.4.cmp(&a.4)
            .then_with(|| (&a.1, &a.2, &a.3).cmp(&(&b.1, &b.2, &b.3)))
    });
}

/// Every fixture of fixtures/real, by name.
fn fixtures() -> Vec<String> {
    crate::util::files_in("fixtures/real")
        .into_iter()
        .filter(|name| !name.ends_with(".SOURCE") && !name.ends_with(".expected"))
        .filter(|name| name != "README.md")
        .collect()
}

#[test]
fn every_real_output_gives_the_figures_its_tool_meant() {
    let names = fixtures();
    assert!(names.len() >= 40, "{} real outputs", names.len());
    let mut wrong = Vec::new();
    for name in &names {
        let path = format!("fixtures/real/{name}");
        let expected_text = std::fs::read_to_string(repo_path(&format!("{path}.expected")))
            .unwrap_or_else(|_| panic!("{name} has no .expected"));
        let mut expected = parse_expected(&expected_text);
        sort_groups(&mut expected.groups);
        let got = read_by_contend(&path, &expected.args);
        if got != expected {
            wrong.push(format!(
                "{name}:\n  expected {expected:?}\n  got      {got:?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {}:\n{}",
        wrong.len(),
        names.len(),
        wrong.join("\n")
    );
}

/// `contend report FIXTURE`'s first line and its notes on stderr.
fn verdict_and_notes(fixture: &str, extra: &[&str]) -> (String, String) {
    let mut args = vec!["report"];
    args.extend(extra);
    let path = format!("fixtures/real/{fixture}");
    args.push(&path);
    let run = run(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let first = run.stdout.lines().next().unwrap_or("").to_string();
    (first, run.stderr)
}

#[test]
fn a_quoted_mail_with_two_runs_is_two_samples_and_says_how_it_was_read() {
    let (verdict, notes) = verdict_and_notes(
        "perf-lock-contention-lkml-task-mode-before-after-qp.txt",
        &[],
    );
    // perf lock -t names tasks, not lock kinds: no spin share, and no
    // kernel_lock (Linux has none).
    assert_eq!(
        verdict,
        "perf-lock-contention-lkml-task-mode-before-after-qp (perf-lock): 4.532 s of lock \
         waits in 2 samples, none of a kind known to spin or to sleep: no spin share to give; \
         name the kinds (categories) with --spin or --sleep"
    );
    let label = "contend: perf-lock-contention-lkml-task-mode-before-after-qp";
    assert!(notes.contains(&format!(
        "{label}: read as a mail: read 47 lines without their `>` quote marks and joined 5 \
         soft line breaks (first: line 1)\n"
    )));
    assert!(notes.contains(&format!(
        "{label}: 2 tables, each read as a sample of its own (the second's header: line 35)\n"
    )));
}

#[test]
fn linux_verdicts_leave_kernel_lock_out() {
    let (verdict, notes) =
        verdict_and_notes("perf-lock-contention-lkml-owner-stack-quoted.txt", &[]);
    assert_eq!(
        verdict,
        "perf-lock-contention-lkml-owner-stack-quoted (perf-lock): 0 ns spinning on locks in \
         1 sample; no Running time to compare it with (this format has no thread states); \
         1.795 ms waiting on sleep locks"
    );
    assert!(notes.contains(
        "read 1 row of `=== owner stack trace ===` (first: line 27) as what the lock owners \
         were doing (their stacks), not as waits: under \"Who held it\" and in the JSON's \
         holders\n"
    ));
}

#[test]
fn perf_lock_owner_stacks_are_what_the_owners_were_doing() {
    // The mail's `=== owner stack trace ===` row: 3 waits, 31.24 µs, on
    // mutexes whose owners were in pipe_read+0x348, the five frames under
    // it innermost first.
    let path = "fixtures/real/perf-lock-contention-lkml-owner-stack-quoted.txt";
    let run = run(&["report", "--format", "json", path]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let holders = json["inputs"][0]["holders"].as_array().unwrap();
    assert_eq!(holders.len(), 1);
    let owners = &holders[0];
    assert_eq!(owners["category"], "mutex");
    assert_eq!(owners["wait_ns"], 31_240);
    assert!(owners.get("thread").is_none(), "{owners}");
    assert_eq!(
        owners["doings"][0]["stack"],
        serde_json::json!([
            "pipe_read+0x348",
            "vfs_read+0x332",
            "ksys_read+0xbb",
            "do_syscall_64+0x82",
            "entry_SYSCALL_64_after_hwframe+0x76"
        ])
    );
    // The three waits' figures do not move.
    assert_eq!(json["groups_total"], 3);
    assert_eq!(json["total"]["sleep_wait_ns"], 1_794_930);
    let text = crate::util::run(&["report", path]);
    assert!(
        text.stdout.contains(
            "    100.0 %  owners not named: in pipe_read+0x348 < vfs_read+0x332 < \
             ksys_read+0xbb < ... 100.0 %\n"
        ),
        "{}",
        text.stdout
    );
}

#[test]
fn threads_that_share_a_name_under_perf_lock_t_stay_apart_and_are_noted() {
    // perf printed three EventManager_De threads, pids 316167 (945.20 µs),
    // 316170 (92.47 µs) and 316165 (59.56 µs): the second and third rows
    // (lines 6 and 12) name a thread by a name an earlier row gave another
    // pid.
    let (_, notes) = verdict_and_notes("perf-lock-contention-lkml-threads-eventmanager.txt", &[]);
    assert!(
        notes.contains(
            "contend: perf-lock-contention-lkml-threads-eventmanager: 2 rows of perf lock -t \
             name a thread by a name an earlier row gave another pid (first: line 6): perf \
             printed each thread apart, so each is keyed name[pid], not merged by name\n"
        ),
        "{notes}"
    );
}

#[test]
fn hold_times_are_set_apart_and_ranked_on_request() {
    let (verdict, notes) = verdict_and_notes("lockstat-freebsd-man-ex2-hold.txt", &[]);
    assert_eq!(
        verdict,
        "lockstat-freebsd-man-ex2-hold (lockstat): no lock waits: its 20 rows are lock hold \
         times, set apart (--events hold ranks them)"
    );
    assert!(notes.contains(
        "set apart 20 rows of lock hold time (first: line 6): holds are not waits; --events \
         hold ranks them\n"
    ));
    let (verdict, _) =
        verdict_and_notes("lockstat-freebsd-man-ex2-hold.txt", &["--events", "hold"]);
    assert_eq!(
        verdict,
        "lockstat-freebsd-man-ex2-hold (lockstat): 96.720 ms of lock hold time in 1 sample \
         (--events hold): holds are not waits, so no spin share"
    );
    let (verdict, _) = verdict_and_notes("klockstat-libbpf-pr3984-per-thread.txt", &[]);
    assert_eq!(
        verdict,
        "klockstat-libbpf-pr3984-per-thread (klockstat): 0 ns spinning on locks in 1 sample; \
         no Running time to compare it with (this format has no thread states); 6.660 ms \
         waiting on sleep locks"
    );
}

#[test]
fn profiling_and_untitled_lockstat_tables_are_named() {
    let (_, notes) = verdict_and_notes("lockstat-illumos-man-ex6-module-three-sections.txt", &[]);
    assert!(
        notes.contains("skipped 7 rows of profiling interrupts (first: line 32): not lock data\n")
    );
    let (verdict, notes) = verdict_and_notes("lockstat-openzfs-arc-blog-before.txt", &[]);
    assert!(notes.contains(
        "1 table without a section title (first: line 1): read as lock events of unknown \
         kind, category `(no title)`; --spin '(no title)' or --sleep '(no title)' says which\n"
    ));
    assert!(verdict.contains("593.879 s of lock waits in 1 sample, none of a kind known"));
    // Told the kind (here: one that spins), the table counts as spinning.
    let (verdict, _) = verdict_and_notes(
        "lockstat-openzfs-arc-blog-before.txt",
        &["--spin", "(no title)"],
    );
    assert!(
        verdict.starts_with("lockstat-openzfs-arc-blog-before (lockstat): 593.879 s spinning"),
        "{verdict}"
    );
}

#[test]
fn refused_real_outputs_say_what_they_are() {
    let refusal = |fixture: &str| {
        let path = format!("fixtures/real/{fixture}");
        let run = run(&["report", &path]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        run.stderr
            .strip_prefix(&format!("contend: {path}: "))
            .expect("names the file")
            .trim_end()
            .to_string()
    };
    assert_eq!(
        refusal("bpftrace-lkml-contention-tracepoints-kstack-hist.txt"),
        "no btrace map with values found, only 3 histograms (`hist()`: counts per bucket, not \
         wait time; print wait sums, `@w[...] = sum(...)`)"
    );
    assert!(
        refusal("perfetto-csv-thread-executing-span-rwsem-blocked-function.csv").starts_with(
            "no lock table found: a CSV header with a dur column but no category, symbol or \
             caller column to group by (11 columns: ts, dur, tid, pid, thread_name, \
             process_name, ...)"
        )
    );
}

/// A perf lock row: its last word, contended, total wait and avg wait
/// (each in ns, with the rounding it was printed with).
type PerfRow = (String, u64, (f64, f64), (f64, f64));

/// A perf lock duration as printed: `28.99 us`; with half its last
/// digit's worth, the rounding perf did.
fn perf_duration(number: &str, unit: &str) -> Option<(f64, f64)> {
    let scale = match unit {
        "ns" => 1.0,
        "us" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        _ => return None,
    };
    let decimals = number.split_once('.').map_or(0, |(_, d)| d.len());
    let value: f64 = number.parse().ok()?;
    Some((value * scale, 0.5 * scale / 10f64.powi(decimals as i32)))
}

/// perf lock's `avg wait` is its total over `contended`, computed from
/// unrounded figures: contend's mean per event, from the rounded total,
/// must agree with it to the precision both were printed with.
#[test]
fn mean_per_event_agrees_with_perf_locks_own_avg_wait_column() {
    let row = regex::Regex::new(
        r"^\s*(\d+)\s+([\d.]+) (ns|us|ms|s)\s+([\d.]+) (ns|us|ms|s)\s+([\d.]+) (ns|us|ms|s)\s+(.*\S)\s*$",
    )
    .unwrap();
    let mut checked = 0;
    for name in fixtures()
        .into_iter()
        .filter(|name| name.starts_with("perf-lock-contention"))
    {
        let path = format!("fixtures/real/{name}");
        let text = std::fs::read_to_string(repo_path(&path)).unwrap();
        // Each row's last word (caller, comm or lock) with its figures.
        let mut rows: Vec<PerfRow> = Vec::new();
        for line in text.lines() {
            let Some(found) = row.captures(line.trim_start_matches(['>', ' '])) else {
                continue;
            };
            let (Some(total), Some(avg)) = (
                perf_duration(&found[2], &found[3]),
                perf_duration(&found[6], &found[7]),
            ) else {
                continue;
            };
            // `-t` rows are keyed `comm[pid]`.
            let tail: Vec<&str> = found[8].split_whitespace().collect();
            let key = match tail.as_slice() {
                [pid, comm @ ..] if !comm.is_empty() && pid.parse::<i64>().is_ok() => {
                    format!("{}[{pid}]", comm.join(" "))
                }
                _ => tail.last().unwrap().to_string(),
            };
            rows.push((key, found[1].parse().unwrap(), total, avg));
        }
        let once = |key: &str| rows.iter().filter(|r| r.0 == key).count() == 1;
        let run = run(&[
            "report",
            "--format",
            "json",
            "--top",
            "0",
            "--keep-offsets",
            &path,
        ]);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let groups = json["groups"].as_array().unwrap();
        for (key, contended, total, avg) in rows.iter().filter(|r| once(&r.0)) {
            let named: Vec<&serde_json::Value> = groups
                .iter()
                .filter(|g| {
                    ["category", "symbol", "caller"]
                        .iter()
                        .any(|k| g[k] == **key)
                })
                .collect();
            let [group] = named[..] else { continue };
            assert_eq!(group["events"], *contended, "{name}: {key}");
            let mean = group["mean_per_event_ns"].as_f64().unwrap();
            // The mean of a rounded total is off by at most its rounding
            // over the count, plus the avg column's own rounding.
            let slack = total.1 / *contended as f64 + avg.1 + 1.0;
            assert!(
                (mean - avg.0).abs() <= slack,
                "{name}: {key}: mean/event {mean} ns, perf's avg wait {} ns",
                avg.0
            );
            checked += 1;
        }
    }
    assert!(checked >= 55, "only {checked} rows checked");
}

/// perf lock, lockstat, klockstat and btrace `count()` maps count the
/// waits in each row; a btrace `sum()` map and perf lock's `-F` without
/// `contended` do not: their events are unknown, never the number of rows
/// passed off as waits.
#[test]
fn events_are_known_where_the_tool_counts_them() {
    let mut checked = 0;
    for name in fixtures() {
        let tools = [
            "perf-lock-contention",
            "lockstat-",
            "klockstat-",
            "bpftrace-",
        ];
        if !tools.iter().any(|prefix| name.starts_with(prefix)) {
            continue;
        }
        let path = format!("fixtures/real/{name}");
        let expected = parse_expected(
            &std::fs::read_to_string(repo_path(&format!("{path}.expected"))).unwrap(),
        );
        let mut args = vec!["report", "--format", "json", "--top", "0"];
        args.extend(expected.args.iter().map(String::as_str));
        args.push(&path);
        let run = run(&args);
        if run.code != 0 {
            continue;
        }
        let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let sums = name.starts_with("bpftrace-") && json["inputs"][0]["counted_events"] == 0;
        // perf lock -F with a field list without `contended`: sums too.
        let text = std::fs::read_to_string(repo_path(&path)).unwrap();
        let some_uncounted = text
            .lines()
            .any(|line| line.contains("# output:") && !line.contains("contended"));
        for group in json["groups"].as_array().unwrap() {
            if some_uncounted && group["events"].is_null() {
                assert_eq!(
                    group["mean_per_event_ns"],
                    serde_json::Value::Null,
                    "{name}"
                );
            } else if sums {
                assert_eq!(group["events"], serde_json::Value::Null, "{name}: {group}");
                assert_eq!(
                    group["mean_per_event_ns"],
                    serde_json::Value::Null,
                    "{name}"
                );
            } else {
                assert_eq!(group["events"], group["rows"], "{name}: {group}");
            }
            assert_eq!(group["p50_ns"], serde_json::Value::Null, "{name}: {group}");
        }
        checked += 1;
    }
    // No real sum() printout is among the fixtures: all count or hist.
    assert!(checked >= 40, "{checked} fixtures");
    let btrace_sums = run(&[
        "report",
        "--format",
        "json",
        "fixtures/formats/reaper-btrace.txt",
    ]);
    let json: serde_json::Value = serde_json::from_str(&btrace_sums.stdout).unwrap();
    assert_eq!(json["inputs"][0]["counted_events"], 0);
    for group in json["groups"].as_array().unwrap() {
        assert_eq!(group["events"], serde_json::Value::Null, "{group}");
    }
}
