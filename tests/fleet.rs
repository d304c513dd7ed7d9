//! A fleet's dataset: `export --dataset DIR`, `report DIR`, and the
//! warehouse SQL of docs/fleet.md run through polars' SQL engine against
//! the report.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use polars::prelude::{Column, DataFrame};
use polars::sql::SQLContext;
use polars_io::SerReader;
use polars_io::parquet::read::ParquetReader;
use polars_lazy::frame::IntoLazy;
use serde_json::Value;

use crate::util::{SEED, run, scratch_dir};

/// The locks of the generated hosts: category, symbol, caller, and the
/// scale of their waits in ns.
const LOCKS: [(&str, &str, &str, u64); 6] = [
    ("kernel", "kernel_lock", "reaper", 900_000),
    ("kernel", "kernel_lock", "intr_handler", 40_000),
    ("mutex", "sched_lock", "sleep_setup", 150_000),
    ("mutex", "uvm", "uvm_pmr_freepageq", 20_000),
    ("rwlock", "kernel_map_store", "vm_map_lock_ln", 9_000_000),
    ("rwlock", "vfs_lock", "vn_lock", 300_000),
];

/// A small deterministic generator (xorshift), so the fleet is the same
/// on every run.
struct Draws(u64);

impl Draws {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

/// Host `index`'s dump in the seed's layout: a few samples, each with its
/// Stopped and Running totals and a lock table. Host 17 spins on
/// kernel_lock far more than the others; host 5's second sample has no
/// Running line (its waits must stay out of every spin share).
fn host_dump(index: u64) -> String {
    host_dump_scaled(index, 1)
}

/// [`host_dump`] with its kernel_lock waits in reaper times `factor`.
fn host_dump_scaled(index: u64, factor: u64) -> String {
    let mut draws = Draws(0x9e37_79b9_7f4a_7c15 ^ ((index + 1) * 0x2545_f491));
    let mut text = String::from("dur is duration in nanoseconds.\n\n");
    for sample in 0..2 + draws.next(4) {
        let running_us = 3_000 + draws.next(4_000);
        writeln!(
            text,
            "Stopped\t{}.{}ms",
            300 + draws.next(200),
            draws.next(10)
        )
        .unwrap();
        if !(index == 5 && sample == 1) {
            writeln!(text, "Running\t{running_us}us").unwrap();
        }
        text.push_str("dur\tcategory\tsymbol\tcaller\n");
        for (at, (category, symbol, caller, scale)) in LOCKS.iter().enumerate() {
            // Not every host waits on every lock.
            if draws.next(7) == 0 && at != 0 {
                continue;
            }
            let mut ns = scale / 2 + draws.next(*scale);
            if index == 17 && *symbol == "kernel_lock" && *caller == "reaper" {
                ns = running_us * 800;
            }
            if *caller == "reaper" {
                ns *= factor;
            }
            writeln!(text, "{ns}\t{category}\t{symbol}\t{caller}").unwrap();
        }
        text.push('\n');
    }
    text
}

/// Writes `hosts` dumps into `dir/dumps/BUILD/` and exports them as a
/// dataset at `dir/fleet`; returns the dataset's folder.
fn fleet_of(dir: &Path, hosts: u64, build: &str) -> PathBuf {
    let dumps = dir.join("dumps").join(build);
    fs::create_dir_all(&dumps).unwrap();
    let mut args: Vec<String> = ["export", "--format", "parquet", "--dataset"]
        .map(String::from)
        .to_vec();
    let dataset = dir.join("fleet");
    args.push(dataset.display().to_string());
    for index in 0..hosts {
        let file = dumps.join(format!("host{index:03}.txt"));
        fs::write(&file, host_dump(index)).unwrap();
        args.push(file.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let export = run(&args);
    assert_eq!(export.code, 0, "{}", export.stderr);
    dataset
}

/// `contend export --format parquet --dataset DATASET ARGS...`.
fn export_into(dataset: &str, args: &[&str]) -> crate::util::Run {
    let mut all = vec!["export", "--format", "parquet", "--dataset", dataset];
    all.extend(args);
    run(&all)
}

fn json_of(args: &[&str]) -> Value {
    let report = run(args);
    assert_eq!(report.code, 0, "{}", report.stderr);
    serde_json::from_str(&report.stdout).unwrap()
}

/// The dataset as one table, `host` and `build` from each file's path as
/// a Hive reader takes them.
fn dataset_table(dataset: &Path) -> DataFrame {
    let mut files = Vec::new();
    collect_parquet(dataset, &mut files);
    files.sort();
    let mut table: Option<DataFrame> = None;
    for file in files {
        let relative = file.strip_prefix(dataset).unwrap();
        let parts: Vec<String> = relative
            .iter()
            .map(|part| part.to_string_lossy().into_owned())
            .collect();
        let value = |key: &str| {
            let prefix = format!("{key}=");
            parts
                .iter()
                .find_map(|p| p.strip_prefix(&prefix).map(String::from))
                .unwrap()
        };
        let mut frame = ParquetReader::new(fs::File::open(&file).unwrap())
            .finish()
            .unwrap();
        let height = frame.height();
        frame
            .with_column(Column::new("host".into(), vec![value("host"); height]))
            .unwrap();
        frame
            .with_column(Column::new("build".into(), vec![value("build"); height]))
            .unwrap();
        match &mut table {
            Some(table) => {
                table.vstack_mut(&frame).unwrap();
            }
            None => table = Some(frame),
        }
    }
    table.unwrap()
}

fn collect_parquet(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_parquet(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "parquet") {
            files.push(path);
        }
    }
}

/// The ```sql blocks of docs/fleet.md, in order.
fn documented_sql() -> Vec<String> {
    let doc =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/fleet.md")).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match (&mut current, line) {
            (None, "```sql") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), line) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

fn run_sql(table: &DataFrame, sql: &str) -> DataFrame {
    let mut context = SQLContext::new();
    context.register("contend", table.clone().lazy());
    context
        .execute(sql)
        .unwrap_or_else(|err| panic!("{err}\n{sql}"))
        .collect()
        .unwrap_or_else(|err| panic!("{err}\n{sql}"))
}

fn text_at(frame: &DataFrame, column: &str, row: usize) -> String {
    frame
        .column(column)
        .unwrap()
        .str()
        .unwrap()
        .get(row)
        .unwrap()
        .to_string()
}

fn number_at(frame: &DataFrame, column: &str, row: usize) -> f64 {
    let value = frame.column(column).unwrap().get(row).unwrap();
    value
        .extract::<f64>()
        .unwrap_or_else(|| panic!("{column}: {value:?}"))
}

fn close(a: f64, b: &Value) -> bool {
    (a - b.as_f64().unwrap()).abs() <= 1e-12 * a.abs().max(1.0)
}

#[test]
fn the_documented_sql_equals_the_fleet_report_on_200_hosts() {
    let dir = scratch_dir("fleet_sql");
    let dataset = fleet_of(&dir, 200, "v7.6");
    let report = json_of(&[
        "report",
        dataset.to_str().unwrap(),
        "--format",
        "json",
        "--top",
        "0",
    ]);
    let table = dataset_table(&dataset);
    let [per_host, over_fleet, top_locks] = documented_sql().try_into().unwrap();

    let hosts = run_sql(&table, &per_host);
    let reported = report["hosts"].as_array().unwrap();
    assert_eq!(hosts.height(), 200);
    assert_eq!(reported.len(), 200);
    for (row, host) in reported.iter().enumerate() {
        assert_eq!(text_at(&hosts, "host", row), host["host"].as_str().unwrap());
        assert_eq!(text_at(&hosts, "build", row), "v7.6");
        assert_eq!(
            number_at(&hosts, "running_ns", row),
            host["running_ns"].as_f64().unwrap()
        );
        for share in ["spin_share", "kernel_lock_share"] {
            assert!(
                close(number_at(&hosts, share, row), &host[share]),
                "{share} of {host}"
            );
        }
    }

    let fleet = run_sql(&table, &over_fleet);
    for figure in ["running_ns", "spin_share", "kernel_lock_share"] {
        assert!(
            close(number_at(&fleet, figure, 0), &report["fleet"][figure]),
            "{figure}"
        );
    }

    let locks = run_sql(&table, &top_locks);
    assert_eq!(locks.height(), 5);
    for (row, lock) in report["locks"].as_array().unwrap()[..5].iter().enumerate() {
        for key in ["category", "symbol", "caller"] {
            assert_eq!(text_at(&locks, key, row), lock[key].as_str().unwrap());
        }
        for figure in ["total_ns", "spin_ns", "hosts_seen"] {
            assert_eq!(
                number_at(&locks, figure, row),
                lock[figure].as_f64().unwrap(),
                "{figure}"
            );
        }
    }

    // Host 17 spins on kernel_lock at 80 % of its Running; the others
    // near 20 %: it alone stands out, in the verdict and for the lock.
    let standouts = report["fleet"]["standouts"].as_array().unwrap();
    assert_eq!(standouts.len(), 1, "{standouts:?}");
    assert_eq!(standouts[0]["host"], "host017");
    let reaper = report["locks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|lock| lock["caller"] == "reaper")
        .unwrap();
    assert_eq!(reaper["standouts"][0]["host"], "host017");
    assert_eq!(reaper["hosts_seen"], 200);
}

#[test]
fn the_seed_reads_the_same_through_a_dataset() {
    let dir = scratch_dir("fleet_seed");
    let build = dir.join("v1");
    fs::create_dir_all(&build).unwrap();
    for host in ["alpha", "beta"] {
        fs::copy(SEED, build.join(format!("{host}.txt"))).unwrap();
    }
    let dataset = dir.join("fleet");
    let export = export_into(
        dataset.to_str().unwrap(),
        &[
            build.join("alpha.txt").to_str().unwrap(),
            build.join("beta.txt").to_str().unwrap(),
        ],
    );
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert_eq!(
        export.stderr,
        format!(
            "contend: {} is host=alpha build=v1: the host from its name, the build from its \
             folder (and likewise the other input); --host and --build name them\n",
            build.join("alpha.txt").display()
        )
    );
    let fleet = json_of(&["report", dataset.to_str().unwrap(), "--format", "json"]);
    let seed = json_of(&["report", SEED, "--format", "json"]);
    // The seed's 65.1 % and 60.9 %, from the fleet as from the dump.
    assert_eq!(fleet["fleet"]["spin_share"], seed["total"]["spin_share"]);
    assert_eq!(
        fleet["fleet"]["kernel_lock_share"],
        seed["total"]["kernel_lock_share"]
    );
    assert_eq!(
        format!("{:.3}", fleet["fleet"]["spin_share"].as_f64().unwrap()),
        "0.651"
    );
    assert_eq!(fleet["fleet"]["hosts"], 2);
    assert_eq!(fleet["hosts"][1]["host"], "beta");
    let running = seed["total"]["running_ns"].as_u64().unwrap();
    assert_eq!(fleet["fleet"]["running_ns"].as_u64(), Some(2 * running));
    // Every lock's total is twice the dump's.
    for group in seed["groups"].as_array().unwrap() {
        let lock = fleet["locks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|lock| lock["symbol"] == group["symbol"] && lock["caller"] == group["caller"])
            .unwrap();
        assert_eq!(
            lock["total_ns"].as_u64(),
            group["total_ns"].as_u64().map(|ns| 2 * ns)
        );
        assert_eq!(lock["hosts_seen"], 2);
    }
    let terminal = run(&["report", dataset.to_str().unwrap()]);
    assert!(
        terminal.stdout.starts_with(
            "Fleet of 2 hosts (build v1): spin is 65.1 % of Running, kernel_lock 60.9 %.\n"
        ),
        "{}",
        terminal.stdout
    );
}

#[test]
fn percentiles_merge_across_hosts_as_across_inputs() {
    let dir = scratch_dir("fleet_waits");
    let captures = [
        "fixtures/fxt/reaper-make-j32.fxt",
        "fixtures/fxt/reaper-holders.fxt",
    ];
    let dataset = dir.join("fleet");
    for (host, capture) in ["a", "b"].iter().zip(captures) {
        let export = export_into(
            dataset.to_str().unwrap(),
            &["--host", host, "--build", "x", capture],
        );
        assert_eq!(export.code, 0, "{}", export.stderr);
    }
    let fleet = json_of(&[
        "report",
        dataset.to_str().unwrap(),
        "--format",
        "json",
        "--top",
        "0",
    ]);
    let both = json_of(&[
        "report",
        captures[0],
        captures[1],
        "--format",
        "json",
        "--top",
        "0",
    ]);
    let groups = both["groups"].as_array().unwrap();
    let locks = fleet["locks"].as_array().unwrap();
    assert_eq!(locks.len(), groups.len());
    let mut with_waits = 0;
    for group in groups {
        let lock = locks
            .iter()
            .find(|lock| {
                ["category", "symbol", "caller"]
                    .iter()
                    .all(|key| lock[key] == group[key])
            })
            .unwrap();
        for figure in ["total_ns", "events", "max_ns", "p50_ns", "p90_ns", "p99_ns"] {
            assert_eq!(lock[figure], group[figure], "{figure} of {group}");
        }
        with_waits += usize::from(!lock["p50_ns"].is_null());
    }
    assert!(with_waits >= 5, "{with_waits}");
}

#[test]
fn a_failed_export_leaves_the_dataset_as_it_was() {
    let dir = scratch_dir("fleet_failed");
    let dataset = dir.join("fleet");
    let bad = dir.join("bad.txt");
    fs::write(
        &bad,
        "Running 1ms\ndur category symbol caller\n12x4 kernel kernel_lock reaper\n",
    )
    .unwrap();
    let export = export_into(
        dataset.to_str().unwrap(),
        &["--build", "b", SEED, bad.to_str().unwrap()],
    );
    assert_eq!(export.code, 2);
    assert!(export.stderr.contains("bad.txt:3:"), "{}", export.stderr);
    // The folder this run made is gone again: no partition, no staging.
    assert!(!dataset.exists());

    // A partition already there is refused before anything is read.
    let first = export_into(dataset.to_str().unwrap(), &["--build", "b", SEED]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let part = dataset.join("host=openbsd-reaper-make-j32/build=b/part-0.parquet");
    let before = fs::read(&part).unwrap();
    let again = export_into(dataset.to_str().unwrap(), &["--build", "b", SEED]);
    assert_eq!(again.code, 2);
    assert_eq!(
        again.stderr,
        format!(
            "contend: --dataset {}: {} is there already (host openbsd-reaper-make-j32, build \
             b); contend adds a host's build once, so that its waits are not counted twice: \
             remove that folder, or name another --build\n",
            dataset.display(),
            dataset
                .join("host=openbsd-reaper-make-j32/build=b")
                .display()
        )
    );
    assert_eq!(fs::read(&part).unwrap(), before);
}

#[test]
fn dataset_flags_that_cannot_apply_are_refused() {
    let dir = scratch_dir("fleet_flags");
    let dataset = dir.join("fleet");
    let dataset = dataset.to_str().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &["export", "--dataset", dataset, SEED],
            "--dataset writes Parquet files: give --format parquet",
        ),
        (
            &[
                "export",
                "--format",
                "parquet",
                "--dataset",
                dataset,
                "--top",
                "3",
                SEED,
            ],
            "--top or --sort does not go with --dataset: a dataset keeps every group, for the \
             fleet's ranking",
        ),
        (
            &[
                "export",
                "--format",
                "parquet",
                "--dataset",
                dataset,
                "--build",
                "b",
            ],
            "--dataset needs --host H to name the host of standard input (a file's host is its \
             name)",
        ),
        (
            &["report", "fixtures/fxt", "--spin", "rwlock"],
            "--spin or --sleep does not go with a dataset folder: the dataset's waits were read \
             and classed when it was exported: give it to `contend export --dataset`",
        ),
        (
            &[
                "export",
                "--format",
                "parquet",
                "--dataset",
                dataset,
                "-o",
                "x.parquet",
                SEED,
            ],
            "-o does not go with --dataset: the files go to DIR/host=H/build=B/",
        ),
        (
            &["report", "fixtures/fxt", "--by", "symbol,holder"],
            "--by holder does not go with a dataset folder: a dataset keeps no lock holders",
        ),
    ];
    for (args, message) in cases {
        let refused = run(args);
        assert_eq!(refused.code, 2, "{args:?}: {}", refused.stderr);
        assert_eq!(refused.stderr, format!("contend: {message}\n"), "{args:?}");
        assert!(!Path::new(dataset).exists(), "{args:?} made the dataset");
    }
}

#[test]
fn a_parquet_file_that_is_not_a_dataset_part_is_named() {
    let dir = scratch_dir("fleet_foreign");
    let folder = dir.join("fleet/host=a/build=b");
    fs::create_dir_all(&folder).unwrap();
    let part = folder.join("part-0.parquet");
    // A Parquet export of samples: Parquet, but not the dataset's schema.
    let export = run(&[
        "export",
        "--what",
        "samples",
        "--format",
        "parquet",
        "-o",
        part.to_str().unwrap(),
        SEED,
    ]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    let report = run(&["report", dir.join("fleet").to_str().unwrap()]);
    assert_eq!(report.code, 2);
    assert!(
        report.stderr.starts_with(&format!(
            "contend: {}: not a Parquet file of a contend dataset: ",
            part.display()
        )),
        "{}",
        report.stderr
    );
    assert!(report.stdout.is_empty());
}

/// The median of values, the mean of the middle two for an even count.
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 0 {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    }
}

#[test]
fn two_builds_compare_across_hosts_with_hosts_as_samples() {
    let dir = scratch_dir("fleet_split");
    let dataset = dir.join("fleet");
    // 40 hosts on each build; on v2 the reaper's kernel_lock waits double.
    for (build, factor) in [("v1", 1), ("v2", 2)] {
        let dumps = dir.join(build);
        fs::create_dir_all(&dumps).unwrap();
        let mut args: Vec<String> = ["export", "--format", "parquet", "--dataset"]
            .map(String::from)
            .to_vec();
        args.push(dataset.display().to_string());
        for index in 20..60 {
            let file = dumps.join(format!("host{index:03}.txt"));
            fs::write(&file, host_dump_scaled(index, factor)).unwrap();
            args.push(file.display().to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let export = run(&args);
        assert_eq!(export.code, 0, "{}", export.stderr);
    }
    let dir_arg = dataset.to_str().unwrap();
    let fleet = json_of(&["report", dir_arg, "--format", "json"]);
    assert_eq!(fleet["builds"], serde_json::json!(["v1", "v2"]));
    let shares = |build: &str| -> Vec<f64> {
        fleet["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|host| host["build"] == build)
            .map(|host| host["spin_share"].as_f64().unwrap())
            .collect()
    };
    let diff = run(&[
        "diff",
        dir_arg,
        "--split",
        "build=v1,v2",
        "--format",
        "json",
        "--fail-above",
        "5pt",
    ]);
    assert_eq!(
        diff.code, 1,
        "a doubled kernel_lock must fail the gate: {}",
        diff.stderr
    );
    let diff: Value = serde_json::from_str(&diff.stdout).unwrap();
    assert_eq!(diff["before"]["label"], "v1");
    assert_eq!(diff["before"]["samples"], 40);
    assert_eq!(diff["after"]["samples"], 40);
    let spin = diff["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|metric| metric["metric"] == "spin_share")
        .unwrap();
    // Each host is a sample: the medians are those of the hosts' shares.
    assert!(
        close(median(&mut shares("v1")), &spin["before_median"]),
        "{spin}"
    );
    assert!(
        close(median(&mut shares("v2")), &spin["after_median"]),
        "{spin}"
    );
    assert_eq!(spin["verdict"], "regressed", "{spin}");
    assert_eq!(diff["regressions"], serde_json::json!(["spin_share"]));

    // Swapped, the same change is an improvement, and the gate passes.
    let swapped = run(&[
        "diff",
        dir_arg,
        "--split",
        "build=v2,v1",
        "--format",
        "json",
        "--fail-above",
        "5pt",
    ]);
    assert_eq!(swapped.code, 0, "{}", swapped.stderr);
    let swapped: Value = serde_json::from_str(&swapped.stdout).unwrap();
    let back = swapped["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|metric| metric["metric"] == "spin_share")
        .unwrap();
    assert_eq!(back["before_median"], spin["after_median"]);
    assert_eq!(back["verdict"], "improved", "{back}");

    let missing = run(&["diff", dir_arg, "--split", "build=v1,v3"]);
    assert_eq!(missing.code, 2);
    assert_eq!(
        missing.stderr,
        format!("contend: {dir_arg}: no host of build v3 (its builds: v1, v2)\n")
    );
}

#[test]
fn hosts_named_with_control_characters_reach_no_terminal_raw() {
    let dir = scratch_dir("fleet_hostile");
    let dataset = dir.join("fleet");
    let host = "evil\x1b]0;pwned\x07";
    let export = export_into(
        dataset.to_str().unwrap(),
        &["--host", host, "--build", "b|1", SEED],
    );
    assert_eq!(export.code, 0, "{}", export.stderr);
    // One path component, escaped as Hive escapes it.
    assert!(
        dataset
            .join("host=evil%1B%5D0%3Bpwned%07/build=b%7C1/part-0.parquet")
            .is_file()
    );
    let terminal = run(&["report", dataset.to_str().unwrap()]);
    assert!(
        terminal.stdout.contains("evil\\u{1b}]0;pwned\\u{7}"),
        "{}",
        terminal.stdout
    );
    assert!(!terminal.stdout.contains('\x1b') && !terminal.stdout.contains('\x07'));
    let markdown = run(&["report", dataset.to_str().unwrap(), "--format", "markdown"]);
    assert!(
        markdown
            .stdout
            .starts_with("**Fleet of 1 host (build b\\|1): spin is 65.1 %"),
        "{}",
        markdown.stdout
    );
    assert!(
        markdown.stdout.contains("| b\\|1  |"),
        "{}",
        markdown.stdout
    );
    // JSON keeps the exact text.
    let json = json_of(&["report", dataset.to_str().unwrap(), "--format", "json"]);
    assert_eq!(json["hosts"][0]["host"], host);
    assert_eq!(json["builds"][0], "b|1");
}

#[test]
fn real_perf_lock_outputs_make_a_fleet_without_running() {
    let dir = scratch_dir("fleet_real");
    let dataset = dir.join("fleet");
    let dataset = dataset.to_str().unwrap();
    let outputs = [
        "fixtures/real/perf-lock-contention-lkml-cgroup-aggr.txt",
        "fixtures/real/perf-lock-contention-lkml-csv-x-comma.txt",
        "fixtures/real/perf-lock-contention-lkml-csv-x-lock-addr.txt",
        "fixtures/real/perf-lock-contention-lkml-csv-x-reply-quoted-qp.txt",
    ];
    let mut args = vec!["--build", "v6"];
    args.extend(outputs);
    let export = export_into(dataset, &args);
    assert_eq!(export.code, 0, "{}", export.stderr);
    let terminal = run(&["report", dataset]);
    assert!(
        terminal.stdout.starts_with(
            "Fleet of 4 hosts (build v6): no host has Running totals (thread states), so no \
             share of the CPU is known: the locks are ranked by their wait.\n"
        ),
        "{}",
        terminal.stdout
    );
    // Each lock's wait over the fleet is the sum of what each output's
    // own report gives it.
    let fleet = json_of(&["report", dataset, "--format", "json", "--top", "0"]);
    let mut expected: std::collections::BTreeMap<String, u64> = Default::default();
    for output in outputs {
        let one = json_of(&["report", output, "--format", "json", "--top", "0"]);
        for group in one["groups"].as_array().unwrap() {
            let key = format!(
                "{}|{}|{}",
                group["category"], group["symbol"], group["caller"]
            );
            *expected.entry(key).or_default() += group["total_ns"].as_u64().unwrap_or(0);
        }
    }
    let locks = fleet["locks"].as_array().unwrap();
    assert_eq!(locks.len(), expected.len());
    for lock in locks {
        let key = format!("{}|{}|{}", lock["category"], lock["symbol"], lock["caller"]);
        assert_eq!(
            lock["total_ns"].as_u64().unwrap_or(0),
            expected[&key],
            "{key}"
        );
    }
    assert!(fleet["fleet"]["spin_share"].is_null());
}
