#!/usr/bin/env python3
"""How often `contend diff` is wrong, measured through the binary.

For each size (samples before + after), TRIALS pairs of files are drawn
from one generator and compared with the release binary:

- no change (both sides from the same distribution): how often the gate
  `--fail-above 10` fails (spin_share regressed), how often any group is
  starred, and how often the watched metric's verdict is `same`;
- a 20 % shift (every kernel_lock wait of the after side x 1.2): how often
  kernel_lock_ns is significant and up (the test's power), and how often
  `--fail-above 10 --metric kernel_lock_ns` fails (the gate's power);
- the sample-size estimate's own check: at 12 + 12 with the 20 % shift,
  the median of `samples_needed` for a 20 % rise, then CHECKS pairs drawn
  with that many samples a side: the share in which the test detects the
  shift (the estimate aims at 80 %).

    benches/verdicts.py            # TRIALS=1000 (about 2 minutes on 2 cores)
    TRIALS=200 benches/verdicts.py

Deterministic (seeded); writes only under target/bench/verdicts.
"""
import json
import os
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "contend")
WORK = os.path.join(ROOT, "target", "bench", "verdicts")
TRIALS = int(os.environ.get("TRIALS", "1000"))
CHECKS = int(os.environ.get("CHECKS", "400"))
SIZES = [(3, 3), (5, 5), (8, 8), (12, 12), (30, 30), (5, 12), (9, 10), (8, 12), (12, 5)]


def sample(rng, kernel_lock_scale):
    """One sampling's table: Running 3-6 ms, kernel_lock 30-80 % of it,
    a mutex in half the samples, a rare lock in one in ten."""
    running = rng.randint(3_000_000, 6_000_000)
    rows = [(int(running * rng.uniform(0.3, 0.8) * kernel_lock_scale), "kernel", "kernel_lock", "reaper")]
    if rng.random() < 0.5:
        rows.append((rng.randint(10_000, 200_000), "mutex", "sched_lock", "sleep_setup"))
    if rng.random() < 0.1:
        rows.append((rng.randint(1_000, 50_000), "mutex", "uvm", "uvm_pmr_freepageq"))
    lines = [f"Stopped\t400ms\nRunning\t{running}ns\ndur\tcategory\tsymbol\tcaller"]
    lines += [f"{ns}\t{c}\t{s}\t{r}" for ns, c, s, r in rows]
    return "\n".join(lines) + "\n\n"


def build(rng, count, scale):
    return "".join(sample(rng, scale) for _ in range(count))


def run_diff(seed, n_before, n_after, scale, args):
    """Draws one pair with the seed, runs `contend diff --format json`;
    returns (exit code, JSON)."""
    rng = random.Random(seed)
    before = os.path.join(WORK, f"{seed}-before.txt")
    after = os.path.join(WORK, f"{seed}-after.txt")
    with open(before, "w") as f:
        f.write(build(rng, n_before, 1.0))
    with open(after, "w") as f:
        f.write(build(rng, n_after, scale))
    done = subprocess.run(
        [BINARY, "-q", "diff", "--format", "json", *args, before, after],
        capture_output=True, text=True, env={})
    os.remove(before)
    os.remove(after)
    if done.returncode not in (0, 1):
        sys.exit(f"contend failed: {done.stderr}")
    return done.returncode, json.loads(done.stdout)


def metric(diff, name):
    return next(m for m in diff["metrics"] if m["metric"] == name)


def many(seeds, n_before, n_after, scale, args):
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(pool.map(lambda s: run_diff(s, n_before, n_after, scale, args), seeds))


def percent(count, total):
    return f"{100.0 * count / total:.1f} %"


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "contend"], cwd=ROOT, check=True)
    os.makedirs(WORK, exist_ok=True)
    print(f"{TRIALS} pairs a size, alpha 0.05, --fail-above 10")
    print("| samples | gate fails, no change | any group starred, no change | spin_share `same`, no change "
          "| kernel_lock_ns detected, 20 % shift | gate fails on it, 20 % shift |")
    print("| --- | --- | --- | --- | --- | --- |")
    for index, (n1, n2) in enumerate(SIZES):
        seeds = range(index * 10 * TRIALS, index * 10 * TRIALS + TRIALS)
        null = many(seeds, n1, n2, 1.0, ["--fail-above", "10"])
        gate = sum(code == 1 for code, _ in null)
        starred = sum(any(g["significant"] for g in d["groups"]) for _, d in null)
        same = sum(metric(d, "spin_share")["verdict"] == "same" for _, d in null)
        seeds = range(index * 10 * TRIALS + 5 * TRIALS, index * 10 * TRIALS + 6 * TRIALS)
        shifted = many(seeds, n1, n2, 1.2, ["--fail-above", "10", "--metric", "kernel_lock_ns"])
        detected = sum(
            metric(d, "kernel_lock_ns")["significant"] and metric(d, "kernel_lock_ns")["direction"] == "up"
            for _, d in shifted)
        fails = sum(code == 1 for code, _ in shifted)
        print(f"| {n1}+{n2} | {percent(gate, TRIALS)} | {percent(starred, TRIALS)} | {percent(same, TRIALS)} "
              f"| {percent(detected, TRIALS)} | {percent(fails, TRIALS)} |")

    # The sample-size estimate's check.
    estimates = [d for _, d in many(range(900_000, 900_000 + 200), 12, 12, 1.2,
                                    ["--fail-above", "20", "--metric", "kernel_lock_ns"])]
    needed = sorted(metric(d, "kernel_lock_ns")["samples_needed"] or 0 for d in estimates)
    n = needed[len(needed) // 2]
    checks = many(range(950_000, 950_000 + CHECKS), n, n, 1.2, [])
    detected = sum(
        metric(d, "kernel_lock_ns")["significant"] and metric(d, "kernel_lock_ns")["direction"] == "up"
        for _, d in checks)
    print()
    print(f"samples_needed for a 20 % rise of kernel_lock_ns, from 200 pairs of 12 + 12 with a 20 % shift: "
          f"median {n} a side (quartiles {needed[len(needed) // 4]} .. {needed[3 * len(needed) // 4]})")
    print(f"check: {CHECKS} pairs of {n} + {n} with the 20 % shift: detected in {percent(detected, CHECKS)} "
          f"(aim 80 %, at least 75 %)")


if __name__ == "__main__":
    main()
