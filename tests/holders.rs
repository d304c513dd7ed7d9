//! Who held the lock: a capture whose holders the test encodes, read in
//! lltextract's layout and in time order, in both of its lock encodings;
//! the attribution must give back the intervals written here, ns for ns.

use serde_json::{Value, json};

use crate::fxt_encode::{
    CC_PIDS, CaptureBuilder, IDLE, Layout, Lock, LockEncoding, STATE_BLOCKED, STATE_RUNNING,
    STATE_SUSPENDED, Thread, seed_holders_builder, seed_samples,
};
use crate::util::{SEED, json_report, read, repo_path, run_with_stdin, scratch_dir};

const REAPER: Thread = Thread { pid: 0, tid: 10 };
const SOFTNET: Thread = Thread { pid: 0, tid: 20 };
const PAGEDAEMON: Thread = Thread { pid: 0, tid: 30 };
/// Two user threads of two processes both named `cc`.
const CC_A: Thread = Thread {
    pid: 40,
    tid: 100_040,
};
const CC_B: Thread = Thread {
    pid: 41,
    tid: 100_041,
};

fn lock(kind: &str, address: u64, symbol: &str, caller: &str) -> Lock {
    Lock {
        kind: kind.to_string(),
        address,
        symbol: symbol.to_string(),
        offset: 0,
        caller: Some(caller.to_string()),
    }
}

/// The story, on four CPUs from 0 to 10 000 ns; the reaper runs on CPU 0
/// throughout and waits six times:
/// 1. uvm_lock 500..1000: pagedaemon held it since before the capture,
///    running: 500 ns, begun before.
/// 2. kernel_lock 2500..3000: cc A holds it from 2000 (taken again at
///    2200: recursion) in syscall open: 500 ns running in syscall open.
/// 3. vmmaplk (rwlock) 4100..5000: cc B reads from 4000, softnet from
///    4200; B lets go at 4600 and is off the CPU (Stopped) 4300..4500:
///    B 100 + 200 (shared 4200..4600) = 300 ns, 100 of them off-CPU;
///    softnet 200 + 400 = 600 ns running.
/// 4. kernel_lock 6000..7000: cc A holds it 5800..7000 in syscall read
///    and waits on bufq 6200..6600, which softnet holds 6100..6600: 600
///    ns running in syscall read, 400 waiting on bufq held by softnet.
/// 5. vmmaplk 8500..9000 (aborted): pagedaemon took it at 8000, never let
///    go, and sleeps from 8200: 500 ns off-CPU (Sleeping), open at end.
/// 6. bufq 9500..9800: nobody known holds it: 300 ns unknown.
fn story() -> CaptureBuilder {
    story_with(CC_A)
}

/// The story with cc A as another thread (the same program in another
/// boot has other ids).
fn story_with(cc_a: Thread) -> CaptureBuilder {
    story_named(cc_a, "cc")
}

/// The story with cc A named `name`.
fn story_named(cc_a: Thread, name: &str) -> CaptureBuilder {
    let mut capture = CaptureBuilder::new(4);
    capture.name(REAPER, "reaper");
    capture.name(SOFTNET, "softnet");
    capture.name(PAGEDAEMON, "pagedaemon");
    capture.name(cc_a, name);
    capture.name(CC_B, "cc");
    for (cpu, thread) in [REAPER, cc_a, SOFTNET, PAGEDAEMON].into_iter().enumerate() {
        capture.switch(0, cpu, STATE_BLOCKED, IDLE, thread);
    }
    let reaper_uvm = lock("mutex", 0x4000, "uvm_lock", "uvm_fault");
    let reaper_kernel = lock("kernel", 0x1000, "kernel_lock", "reaper");
    let reaper_map = lock("rwlock", 0x2000, "vmmaplk", "uvm_map");
    let reaper_bufq = lock("mutex", 0x3000, "bufq", "bufq_dequeue");
    let waits = [
        (500, 1000, &reaper_uvm, "acquired-exclusive"),
        (2500, 3000, &reaper_kernel, "acquired-exclusive"),
        (4100, 5000, &reaper_map, "acquired-exclusive"),
        (6000, 7000, &reaper_kernel, "acquired-exclusive"),
        (8500, 9000, &reaper_map, "acquire-abort"),
        (9500, 9800, &reaper_bufq, "acquired-exclusive"),
    ];
    for (start, end, lock, outcome) in waits {
        capture.lock_wait((start, 0), (end, 0), REAPER, outcome, lock);
        if outcome != "acquire-abort" {
            capture.lock_op(end + 100, 0, REAPER, "release-exclusive", lock);
        }
    }
    // 1: held since before the capture.
    let daemon_uvm = lock("mutex", 0x4000, "uvm_lock", "uvmpd_scan");
    capture.lock_op(1000, 3, PAGEDAEMON, "release-exclusive", &daemon_uvm);
    // 2: cc A in open, kernel_lock taken twice.
    let open_kernel = lock("kernel", 0x1000, "kernel_lock", "sys_open");
    capture.slice(1900, 1, cc_a, true, ("syscall", "open"));
    capture.lock_wait(
        (2000, 1),
        (2000, 1),
        cc_a,
        "acquired-exclusive",
        &open_kernel,
    );
    capture.lock_wait(
        (2200, 1),
        (2200, 1),
        cc_a,
        "acquired-exclusive",
        &open_kernel,
    );
    capture.lock_op(3000, 1, cc_a, "release-exclusive", &open_kernel);
    capture.slice(4000, 1, cc_a, false, ("syscall", "open"));
    // 3: two readers, one of them off the CPU for a while (on CPU 1 after
    // cc A).
    let b_map = lock("rwlock", 0x2000, "vmmaplk", "uvm_map_lookup");
    let softnet_map = lock("rwlock", 0x2000, "vmmaplk", "if_input");
    capture.switch(3900, 1, STATE_RUNNING, cc_a, CC_B);
    capture.lock_op(4000, 1, CC_B, "instant-shared", &b_map);
    capture.lock_op(4200, 2, SOFTNET, "instant-shared", &softnet_map);
    capture.switch(4300, 1, STATE_SUSPENDED, CC_B, IDLE);
    capture.switch(4500, 1, STATE_RUNNING, IDLE, CC_B);
    capture.lock_op(4600, 1, CC_B, "release-shared", &b_map);
    capture.lock_op(5000, 2, SOFTNET, "release-shared", &softnet_map);
    capture.switch(5500, 1, STATE_RUNNING, CC_B, cc_a);
    // 4: a chain: cc A, holding kernel_lock in read, waits on bufq.
    let read_kernel = lock("kernel", 0x1000, "kernel_lock", "sys_read");
    let a_bufq = lock("mutex", 0x3000, "bufq", "bufq_queue");
    let softnet_bufq = lock("mutex", 0x3000, "bufq", "if_start");
    capture.slice(5700, 1, cc_a, true, ("syscall", "read"));
    capture.lock_wait(
        (5800, 1),
        (5800, 1),
        cc_a,
        "acquired-exclusive",
        &read_kernel,
    );
    capture.lock_op(6100, 2, SOFTNET, "instant-exclusive", &softnet_bufq);
    capture.lock_wait((6200, 1), (6600, 1), cc_a, "acquired-exclusive", &a_bufq);
    capture.lock_op(6600, 2, SOFTNET, "release-exclusive", &softnet_bufq);
    capture.lock_op(6700, 1, cc_a, "release-exclusive", &a_bufq);
    capture.lock_op(7000, 1, cc_a, "release-exclusive", &read_kernel);
    capture.slice(7100, 1, cc_a, false, ("syscall", "read"));
    // 5: never let go, asleep while holding.
    let daemon_map = lock("rwlock", 0x2000, "vmmaplk", "uvmpd_balance");
    capture.lock_op(8000, 3, PAGEDAEMON, "instant-exclusive", &daemon_map);
    capture.switch(8200, 3, STATE_BLOCKED, PAGEDAEMON, IDLE);
    // The capture's last moment.
    capture.switch(10_000, 0, STATE_RUNNING, REAPER, IDLE);
    capture
}

/// Every way lltextract may have written the story.
fn writings() -> Vec<(String, Vec<u8>)> {
    let capture = story();
    let mut out = Vec::new();
    for layout in [Layout::Lltextract, Layout::TimeOrder] {
        for encoding in [LockEncoding::Durations, LockEncoding::Instants] {
            let name = format!("{layout:?} {encoding:?}");
            out.push((name, capture.write(layout, encoding)));
        }
    }
    out
}

/// Holder summaries without their hold times (checked apart).
fn without_holds(holders: &Value) -> Value {
    let mut holders = holders.clone();
    for holder in holders.as_array_mut().unwrap() {
        holder.as_object_mut().unwrap().remove("holds");
    }
    holders
}

fn holder(thread: &str, tid: u64, pid: Option<u64>) -> Value {
    let mut value = json!({"thread": thread, "tid": tid});
    if let Some(pid) = pid {
        // A user thread: lltextract names its process, whose name the
        // thread shows.
        value["pid"] = json!(pid);
        value["process"] = json!(thread);
    }
    value
}

/// One expected summary line: lock, holder (None: unknown), where it
/// was taken, whether partial, and the wait by doing (largest first).
fn line(
    lock: [&str; 2],
    who: Option<Value>,
    taken_in: &str,
    partial: bool,
    doings: &[(&str, &str, u64)],
) -> Value {
    let wait_ns: u64 = doings.iter().map(|d| d.2).sum();
    let off_cpu_ns: u64 = doings
        .iter()
        .filter(|d| d.0 == "off_cpu")
        .map(|d| d.2)
        .sum();
    let mut value = json!({
        "category": lock[0],
        "symbol": lock[1],
        "wait_ns": wait_ns,
        "holding_state": doings[0].0,
        "doing": doings[0].1,
        "off_cpu_ns": off_cpu_ns,
        "taken_in": taken_in,
        "partial": partial,
        "doings": doings
            .iter()
            .map(|(state, doing, ns)| json!({"holding_state": state, "doing": doing, "wait_ns": ns}))
            .collect::<Vec<_>>(),
    });
    if let Some(who) = who {
        for (key, field) in who.as_object().unwrap() {
            value[key] = field.clone();
        }
    }
    value
}

fn expected_holders() -> Value {
    let cc_a = || Some(holder("cc", 100_040, Some(40)));
    let cc_b = || Some(holder("cc", 100_041, Some(41)));
    let softnet = || Some(holder("softnet", 20, None));
    let daemon = || Some(holder("pagedaemon", 30, None));
    let kernel = ["kernel", "kernel_lock"];
    let map = ["rwlock", "vmmaplk"];
    json!([
        line(
            kernel,
            cc_a(),
            "sys_read",
            false,
            &[
                ("running", "running in syscall read", 600),
                ("running", "running in syscall open", 500),
                ("waiting", "waiting on bufq held by softnet (tid 20)", 400),
            ]
        ),
        line(
            map,
            softnet(),
            "if_input",
            false,
            &[("running", "running", 600)]
        ),
        line(
            map,
            daemon(),
            "uvmpd_balance",
            true,
            &[("off_cpu", "off-CPU (Sleeping) while holding", 500),]
        ),
        line(
            map,
            cc_b(),
            "uvm_map_lookup",
            false,
            &[
                ("running", "running", 200),
                ("off_cpu", "off-CPU (Stopped) while holding", 100),
            ]
        ),
        line(
            ["mutex", "uvm_lock"],
            daemon(),
            "uvmpd_scan",
            true,
            &[("running", "running", 500)]
        ),
        line(
            ["mutex", "bufq"],
            None,
            "",
            false,
            &[("unknown", "not known", 300)]
        ),
    ])
}

#[test]
fn each_wait_is_split_over_the_holders_the_capture_records() {
    let dir = scratch_dir("holders_story");
    for (name, bytes) in writings() {
        let path = dir.join("story.fxt");
        std::fs::write(&path, &bytes).unwrap();
        let report = json_report(&["--thread", "reaper", path.to_str().unwrap()], b"");
        let input = &report["inputs"][0];
        assert_eq!(input["total"]["spin_ns"], 500 + 500 + 1000 + 300, "{name}");
        assert_eq!(
            without_holds(&input["holders"]),
            expected_holders(),
            "{name}"
        );
        // lockstat -H's figures: cc A's two kernel_lock holds (1000 and
        // 1200 ns), the readers' one each; incomplete holds not counted.
        let holds = |index: usize| &input["holders"][index]["holds"];
        assert_eq!(
            (
                &holds(0)["count"],
                &holds(0)["total_ns"],
                &holds(0)["max_ns"]
            ),
            (&json!(2), &json!(2200), &json!(1200)),
            "{name}"
        );
        let median = holds(0)["p50_ns"].as_u64().unwrap();
        assert!((1000..=1200).contains(&median), "{name}: {median}");
        assert_eq!(
            (&holds(1)["count"], &holds(1)["total_ns"]),
            (&json!(1), &json!(800))
        );
        assert_eq!(holds(2), &Value::Null, "open at the end: no complete hold");
        assert_eq!(
            (&holds(3)["count"], &holds(3)["total_ns"]),
            (&json!(1), &json!(600))
        );
        assert_eq!(input["holders_unknown_for"], json!([]), "{name}");
        // The group of the reaper's kernel_lock waits has the same holder.
        let kernel = report["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["symbol"] == "kernel_lock")
            .unwrap();
        assert_eq!(
            without_holds(&kernel["holders"])[0],
            expected_holders()[0],
            "{name}"
        );
        assert_eq!(kernel["holders"][0]["holds"]["total_ns"], 2200, "{name}");
    }
}

#[test]
fn a_capture_that_records_no_releases_leaves_every_holder_unknown_and_says_why() {
    // The seed capture records waits, no releases: make's uvm acquisitions
    // must not be stretched into holds up to its next one.
    let report = json_report(
        &["--thread", "reaper", "fixtures/fxt/reaper-make-j32.fxt"],
        b"",
    );
    let input = &report["inputs"][0];
    assert_eq!(input["total"]["spin_ns"], 14_175_161);
    assert_eq!(
        input["holders_unknown_for"],
        json!(["kernel", "mutex", "rwlock"])
    );
    let holders = input["holders"].as_array().unwrap();
    assert!(
        holders
            .iter()
            .all(|h| h["holding_state"] == "unknown" && h.get("tid").is_none())
    );
    let kernel: u64 = holders
        .iter()
        .filter(|h| h["symbol"] == "kernel_lock")
        .map(|h| h["wait_ns"].as_u64().unwrap())
        .sum();
    assert_eq!(kernel, 13_260_228);
}

#[test]
fn inputs_without_holders_have_no_holders_field() {
    let report = json_report(&["fixtures/openbsd-reaper-make-j32.txt"], b"");
    assert!(report["inputs"][0].get("holders").is_none());
    assert!(report["groups"][0].get("holders").is_none());
}

/// The seed with holders (tests/fxt_encode.rs, `seed_holders_builder`).
const HOLDERS_CAPTURE: &str = "fixtures/fxt/reaper-holders.fxt";

#[test]
fn the_shipped_holders_capture_is_the_encoders() {
    let bytes = seed_holders_builder(&seed_samples(&read(SEED)))
        .write(Layout::Lltextract, LockEncoding::Durations);
    if std::env::var_os("CONTEND_WRITE_FIXTURES").is_some() {
        std::fs::write(repo_path(HOLDERS_CAPTURE), &bytes).expect("fixture written");
    }
    let shipped = std::fs::read(repo_path(HOLDERS_CAPTURE)).expect("holders fixture");
    assert!(
        shipped == bytes,
        "{HOLDERS_CAPTURE} is stale: CONTEND_WRITE_FIXTURES=1 cargo test shipped_holders"
    );
}

#[test]
fn who_held_kernel_lock_while_the_reaper_spun_in_the_seed() {
    let report = json_report(
        &["--thread", "reaper", "--window", "700ms", HOLDERS_CAPTURE],
        b"",
    );
    let input = &report["inputs"][0];
    // The seed's figures do not move.
    assert_eq!(input["total"]["spin_ns"], 14_175_161);
    assert_eq!(input["total"]["kernel_lock_ns"], 13_260_228);
    assert_eq!(input["holders_unknown_for"], json!([]));
    // Each window's kernel_lock and rwlock waits, summed by the cc that
    // holds the locks in it (window i: cc number i % 3), from the seed's
    // own rows; the rwlock holder sleeps the middle half of each hold.
    let samples = seed_samples(&read(SEED));
    let mut kernel = [0u64; 3];
    let mut map = [0u64; 3];
    let mut map_off_cpu = [0u64; 3];
    for (window, sample) in samples.iter().enumerate() {
        for (dur, category, _, _) in &sample.rows {
            match category.as_str() {
                "kernel" => kernel[window % 3] += dur,
                "rwlock" => {
                    map[window % 3] += dur;
                    map_off_cpu[window % 3] += dur * 3 / 4 - dur / 4;
                }
                _ => {}
            }
        }
    }
    assert_eq!(kernel.iter().sum::<u64>(), 13_260_228);
    let holders = input["holders"].as_array().unwrap();
    let find = |symbol: &str, pid: u64| {
        holders
            .iter()
            .find(|h| h["symbol"] == symbol && h["pid"] == pid)
            .unwrap_or_else(|| panic!("{symbol} held by pid {pid}"))
    };
    for (index, pid) in CC_PIDS.into_iter().enumerate() {
        let held = find("kernel_lock", pid);
        assert_eq!(held["wait_ns"], kernel[index], "kernel_lock, cc {pid}");
        assert_eq!(held["doing"], "running in syscall open");
        assert_eq!(held["taken_in"], "sys_open");
        let held = find("kernel_map_store", pid);
        assert_eq!(held["wait_ns"], map[index], "kernel_map_store, cc {pid}");
        assert_eq!(held["off_cpu_ns"], map_off_cpu[index], "cc {pid}");
    }
    // The mutex waits: no holder recorded, their whole time unknown.
    let unknown: u64 = holders
        .iter()
        .filter(|h| h["category"] == "mutex")
        .map(|h| {
            assert!(h.get("tid").is_none(), "{h}");
            h["wait_ns"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(unknown, 14_175_161 - 13_260_228);
    // The verdict names the top holder of the top spin lock.
    let run = run_with_stdin(
        &[
            "report",
            "--thread",
            "reaper",
            "--window",
            "700ms",
            HOLDERS_CAPTURE,
        ],
        b"",
    );
    let top = (0..3).max_by_key(|&i| kernel[i]).unwrap();
    let share = format!("{:.1} %", kernel[top] as f64 * 100.0 / 13_260_228.0);
    let clause = format!(
        "kernel_lock held by cc (tid {}, pid {}) for {share} of the wait, running in syscall open",
        100_000 + CC_PIDS[top],
        CC_PIDS[top]
    );
    let verdict = run.stdout.lines().next().unwrap().to_string();
    assert!(
        run.stdout.replace("\n  ", " ").contains(&clause),
        "{verdict}\n{clause}"
    );
}

#[test]
fn holders_are_worked_out_for_named_threads_unless_asked_not_to() {
    let every_thread = json_report(&["--window", "700ms", HOLDERS_CAPTURE], b"");
    assert!(every_thread["inputs"][0].get("holders").is_none());
    let named = [
        "--thread",
        "reaper",
        "--no-holders",
        "--window",
        "700ms",
        HOLDERS_CAPTURE,
    ];
    let report = json_report(&named, b"");
    assert!(report["inputs"][0].get("holders").is_none());
    // The figures are the same without them.
    assert_eq!(report["inputs"][0]["total"]["kernel_lock_ns"], 13_260_228);
}

/// The story's waits as `--by symbol,holder` groups them: (symbol,
/// holder, wait ns, waits), from the story's own account above.
fn story_by_holder(cc_a: &str) -> Vec<(String, String, u64, u64)> {
    let groups = [
        ("kernel_lock", cc_a, 500 + 1000, 2),
        ("vmmaplk", "softnet (tid 20)", 200 + 400, 1),
        ("uvm_lock", "pagedaemon (tid 30)", 500, 1),
        ("vmmaplk", "pagedaemon (tid 30)", 500, 1),
        ("vmmaplk", "cc (tid 100041, pid 41)", 100 + 200, 1),
        ("bufq", "unknown", 300, 1),
    ];
    let mut groups: Vec<_> = groups
        .into_iter()
        .map(|(symbol, holder, ns, waits)| (symbol.to_string(), holder.to_string(), ns, waits))
        .collect();
    groups.sort();
    groups
}

/// Groups of a report or a diff as (symbol, holder, and two of their
/// figures), sorted.
fn groups_by_holder(groups: &Value, figures: [&str; 2]) -> Vec<(String, String, u64, u64)> {
    let mut groups: Vec<_> = groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["symbol"].as_str().unwrap().to_string(),
                g["holder"].as_str().unwrap().to_string(),
                g[figures[0]].as_u64().unwrap(),
                g[figures[1]].as_u64().unwrap(),
            )
        })
        .collect();
    groups.sort();
    groups
}

#[test]
fn by_holder_ranks_each_lock_by_the_thread_that_held_it() {
    let dir = scratch_dir("holders_by_holder");
    for (name, bytes) in writings() {
        let path = dir.join("story.fxt");
        std::fs::write(&path, &bytes).unwrap();
        let args = ["--thread", "reaper", "--by", "symbol,holder"];
        let report = json_report(&[&args[..], &[path.to_str().unwrap()]].concat(), b"");
        assert_eq!(
            groups_by_holder(&report["groups"], ["total_ns", "events"]),
            story_by_holder("cc (tid 100040, pid 40)"),
            "{name}"
        );
        // Each group's holders are its own holder's alone.
        for group in report["groups"].as_array().unwrap() {
            let holders = group["holders"].as_array().unwrap();
            assert_eq!(holders.len(), 1, "{name}: {group}");
            assert_eq!(holders[0]["wait_ns"], group["total_ns"], "{name}");
        }
        // The spin share does not move: a wait split is a wait still.
        assert_eq!(
            report["inputs"][0]["total"]["spin_ns"],
            500 + 500 + 1000 + 300
        );
    }
}

/// `export --what rows` as (sample, symbol, holder, dur_ns, events);
/// `holder` empty without `--by holder`.
fn exported_rows(args: &[&str]) -> Vec<(u64, String, String, u64, u64)> {
    let export = ["export", "--what", "rows", "--format", "tsv"];
    let run = run_with_stdin(&[&export[..], args].concat(), b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut lines = run.stdout.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let column = |name: &str| header.iter().position(|c| *c == name);
    let (sample, symbol, dur, events) = (
        column("sample").unwrap(),
        column("symbol").unwrap(),
        column("dur_ns").unwrap(),
        column("events").unwrap(),
    );
    let holder = column("holder");
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            (
                fields[sample].parse().unwrap(),
                fields[symbol].to_string(),
                holder.map_or(String::new(), |at| fields[at].to_string()),
                fields[dur].parse().unwrap(),
                fields[events].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn rows_are_split_by_holder_window_by_window() {
    let dir = scratch_dir("holders_rows");
    let path = dir.join("story.fxt");
    std::fs::write(
        &path,
        story().write(Layout::Lltextract, LockEncoding::Instants),
    )
    .unwrap();
    let path = path.to_str().unwrap();
    let mut rows = exported_rows(&[
        "--thread", "reaper", "--window", "5us", "--by", "holder", path,
    ]);
    rows.sort();
    let cc_a = "cc (tid 100040, pid 40)";
    let expected: Vec<(u64, &str, &str, u64, u64)> = vec![
        // Window 1, 0..5000 ns: waits 1, 2 and 3.
        (1, "kernel_lock", cc_a, 500, 1),
        (1, "uvm_lock", "pagedaemon (tid 30)", 500, 1),
        (1, "vmmaplk", "cc (tid 100041, pid 41)", 300, 1),
        (1, "vmmaplk", "softnet (tid 20)", 600, 1),
        // Window 2: waits 4, 5 and 6.
        (2, "bufq", "unknown", 300, 1),
        (2, "kernel_lock", cc_a, 1000, 1),
        (2, "vmmaplk", "pagedaemon (tid 30)", 500, 1),
    ];
    let expected: Vec<_> = expected
        .into_iter()
        .map(|(s, symbol, holder, ns, n)| (s, symbol.to_string(), holder.to_string(), ns, n))
        .collect();
    assert_eq!(rows, expected);
    // Without --by holder: one row a key, no holder column, the same sums.
    let whole = exported_rows(&["--thread", "reaper", "--window", "5us", path]);
    let mut sums: Vec<(u64, String, u64)> = Vec::new();
    for (sample, symbol, _, ns, _) in &rows {
        match sums.iter_mut().find(|(s, y, _)| s == sample && y == symbol) {
            Some((_, _, sum)) => *sum += ns,
            None => sums.push((*sample, symbol.clone(), *ns)),
        }
    }
    let mut whole: Vec<_> = whole
        .into_iter()
        .map(|(sample, symbol, holder, ns, _)| {
            assert_eq!(holder, "");
            (sample, symbol, ns)
        })
        .collect();
    whole.sort();
    sums.sort();
    assert_eq!(sums, whole);
}

#[test]
fn each_window_of_the_seed_names_the_cc_that_held_kernel_lock() {
    let rows = exported_rows(&[
        "--thread",
        "reaper",
        "--window",
        "700ms",
        "--by",
        "holder",
        HOLDERS_CAPTURE,
    ]);
    // The seed's own rows, window by window: window i's locks are held by
    // cc number i % 3 (kernel_lock, kernel_map_store); its mutexes by
    // nobody recorded.
    let samples = seed_samples(&read(SEED));
    for (window, sample) in samples.iter().enumerate() {
        let pid = CC_PIDS[window % 3];
        let cc = format!("cc (tid {}, pid {pid})", 100_000 + pid);
        let seed_sum = |category: &str| -> u64 {
            let rows = sample.rows.iter().filter(|(_, c, _, _)| c == category);
            rows.map(|(dur, ..)| dur).sum()
        };
        let held_sum = |symbol: &str, holder: &str| -> u64 {
            rows.iter()
                .filter(|(s, y, h, _, _)| *s == window as u64 + 1 && y == symbol && h == holder)
                .map(|(_, _, _, ns, _)| ns)
                .sum()
        };
        assert_eq!(
            held_sum("kernel_lock", &cc),
            seed_sum("kernel"),
            "window {}",
            window + 1
        );
        assert_eq!(held_sum("kernel_map_store", &cc), seed_sum("rwlock"));
        let window_rows = rows.iter().filter(|row| row.0 == window as u64 + 1);
        let held_by_others = window_rows
            .filter(|(_, _, h, _, _)| *h != cc && h != "unknown")
            .count();
        assert_eq!(held_by_others, 0, "window {}", window + 1);
        assert_eq!(held_sum_of_unknown(&rows, window), seed_sum("mutex"));
    }
}

fn held_sum_of_unknown(rows: &[(u64, String, String, u64, u64)], window: usize) -> u64 {
    rows.iter()
        .filter(|(s, _, h, _, _)| *s == window as u64 + 1 && h == "unknown")
        .map(|(_, _, _, ns, _)| ns)
        .sum()
}

#[test]
fn diff_compares_waits_per_holder_by_the_holders_name() {
    let dir = scratch_dir("holders_diff");
    let before = dir.join("before.fxt");
    let after = dir.join("after.fxt");
    let elsewhere = Thread {
        pid: 77,
        tid: 100_077,
    };
    std::fs::write(
        &before,
        story().write(Layout::Lltextract, LockEncoding::Instants),
    )
    .unwrap();
    let after_bytes = story_with(elsewhere).write(Layout::Lltextract, LockEncoding::Instants);
    std::fs::write(&after, after_bytes).unwrap();
    let run = run_with_stdin(
        &[
            "diff",
            "--format",
            "json",
            "--thread",
            "reaper",
            "--window",
            "1us",
            "--by",
            "symbol,holder",
            before.to_str().unwrap(),
            after.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("holders are compared by thread name: a thread's ids differ"),
        "{}",
        run.stderr
    );
    let diff: Value = serde_json::from_str(&run.stdout).unwrap();
    let groups = groups_by_holder(&diff["groups"], ["before_total_ns", "after_total_ns"]);
    // Names only: the cc of the two captures is one holder, and the two
    // cc of one capture (on two locks) are apart only by lock.
    let expected: Vec<(String, String, u64, u64)> = story_by_holder("cc")
        .into_iter()
        .map(|(symbol, holder, ns, _)| {
            let name = holder.split(" (tid ").next().unwrap().to_string();
            (symbol, name, ns, ns)
        })
        .collect();
    assert_eq!(groups, expected);
}

#[test]
fn perf_lock_owners_rank_as_holders_with_their_pids_apart() {
    let report = json_report(
        &[
            "--by",
            "holder",
            "fixtures/real/perf-lock-contention-lkml-owner-sched-pipe.txt",
        ],
        b"",
    );
    // The output's own rows (pid, owner, contended, total wait).
    let mut groups: Vec<(String, u64, u64)> = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["holder"].as_str().unwrap().to_string(),
                g["total_ns"].as_u64().unwrap(),
                g["events"].as_u64().unwrap(),
            )
        })
        .collect();
    groups.sort();
    assert_eq!(
        groups,
        [
            ("chrome (tid 5068)".to_string(), 2_030, 1),
            ("sched-pipe (tid 1583144)".to_string(), 8_250, 1),
            ("sched-pipe (tid 1583145)".to_string(), 27_990, 4),
            ("unknown".to_string(), 565_320, 403),
        ]
    );
}

#[test]
fn inputs_without_holders_put_every_wait_under_unknown_and_say_so() {
    let by_category = json_report(&["--by", "category", SEED], b"");
    let all: u64 = by_category["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["total_ns"].as_u64().unwrap())
        .sum();
    let run = run_with_stdin(&["report", "--format", "json", "--by", "holder", SEED], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let groups = report["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["holder"], "unknown");
    assert_eq!(groups[0]["total_ns"], all);
    assert!(
        run.stderr.contains(
            "no lock holders recorded, so its waits are all under holder `unknown` (captures \
             read with --thread record them, and perf lock contention -o)"
        ),
        "{}",
        run.stderr
    );
    // The rows export says so too, and writes the holder column.
    let run = run_with_stdin(&["export", "--what", "rows", "--by", "holder", SEED], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("no lock holders recorded"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout
            .starts_with("input,sample,category,symbol,caller,dur_ns,events,holder\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .lines()
            .skip(1)
            .all(|line| line.ends_with(",unknown"))
    );
}

#[test]
fn a_holder_named_to_attack_the_terminal_is_shown_escaped() {
    let dir = scratch_dir("holders_hostile_name");
    let path = dir.join("story.fxt");
    let name = "cc\u{1b}]0;pwned\u{7}\u{202e}";
    let bytes = story_named(CC_A, name).write(Layout::Lltextract, LockEncoding::Instants);
    std::fs::write(&path, bytes).unwrap();
    let path = path.to_str().unwrap();
    let args = ["--thread", "reaper", "--by", "symbol,holder"];
    let run = run_with_stdin(&[&["report"][..], &args, &[path]].concat(), b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    for raw in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(!run.stdout.contains(raw), "{raw:?} raw in {}", run.stdout);
    }
    assert!(run.stdout.contains("\\u{202e}"), "{}", run.stdout);
    // Machine outputs keep the text as read: a capture's strings have
    // their control characters as U+FFFD (docs/formats.md), the rest
    // exact.
    let report = json_report(&[&args[..], &[path]].concat(), b"");
    let exact = "cc\u{fffd}]0;pwned\u{fffd}\u{202e} (tid 100040, pid 40)";
    let groups = groups_by_holder(&report["groups"], ["total_ns", "events"]);
    assert!(
        groups
            .iter()
            .any(|(symbol, holder, ns, _)| symbol == "kernel_lock"
                && holder == exact
                && *ns == 1500),
        "{groups:?}"
    );
}
