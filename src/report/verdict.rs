//! The one-sentence answer: spinning or working?

use super::human::{duration, percent};
use crate::engine::{Metrics, Warning};
use crate::parse::InputFormat;

/// The verdict for one input (or for all of them), e.g.
/// `reaper (table): running 21.776 ms in 5 samples: 65.1 % spinning on locks
/// (kernel_lock 60.9 %), 34.9 % other work; off-CPU 2.316 s, 1.1 % of it
/// waiting on sleep locks`.
///
/// `format` is the input format read, named after the label; None for the
/// verdict over all inputs. `kernel_lock` says whether the inputs can show
/// OpenBSD's big lock at all (Linux's cannot: no `kernel_lock 0 ns`).
pub fn verdict(
    label: &str,
    format: Option<InputFormat>,
    kernel_lock: bool,
    samples: usize,
    metrics: &Metrics,
) -> String {
    let label = match format {
        Some(format) => format!("{label} ({})", format.name()),
        None => label.to_string(),
    };
    let samples_word = if samples == 1 { "sample" } else { "samples" };
    let in_samples = format!("in {samples} {samples_word}");
    if let Some(text) = no_spin_verdict(&label, &in_samples, metrics) {
        return text;
    }
    let big_lock = |figure: compact_str::CompactString| {
        if kernel_lock {
            format!(" (kernel_lock {figure})")
        } else {
            String::new()
        }
    };
    let mut text = match (metrics.running_ns, metrics.spin_share) {
        (Some(running), Some(spin_share)) => format!(
            "{label}: running {} {in_samples}: {} spinning on locks{}, {} other work",
            duration(running),
            percent(Some(spin_share)),
            big_lock(percent(metrics.kernel_lock_share)),
            percent(metrics.work_share),
        ),
        _ => format!(
            "{label}: {} spinning on locks{} {in_samples}; no Running time to compare it \
             with ({})",
            duration(metrics.spin_ns),
            big_lock(duration(metrics.kernel_lock_ns)),
            missing_states_hint(format),
        ),
    };
    if let Some(off_cpu) = metrics.off_cpu_ns.filter(|&ns| ns > 0) {
        if metrics.sleep_wait_share.is_some_and(|share| share > 1.0) {
            // No share of a whole above the whole: a wait begun while the
            // thread still ran, or ended after it woke, outlasts its sleep.
            text.push_str(&format!(
                "; off-CPU {}, and {} waiting on sleep locks, longer than that: waits that \
                 began before the thread slept or ended after it woke",
                duration(off_cpu),
                duration(metrics.sleep_wait_ns)
            ));
        } else {
            text.push_str(&format!(
                "; off-CPU {}, {} of it waiting on sleep locks",
                duration(off_cpu),
                percent(metrics.sleep_wait_share)
            ));
        }
    } else if metrics.sleep_wait_ns > 0 {
        text.push_str(&format!(
            "; {} waiting on sleep locks",
            duration(metrics.sleep_wait_ns)
        ));
    }
    text
}

/// The verdict where there is nothing to weigh spinning by: lock waits
/// whose kinds are not known to spin or sleep (a `0.0 %` would be a
/// wrong answer), or hold times only.
fn no_spin_verdict(label: &str, in_samples: &str, metrics: &Metrics) -> Option<String> {
    if metrics.spin_ns > 0 || metrics.sleep_wait_ns > 0 {
        return None;
    }
    if metrics.other_wait_ns > 0 {
        return Some(format!(
            "{label}: {} of lock waits {in_samples}, none of a kind known to spin or to \
             sleep: no spin share to give; name the kinds (categories) with --spin or --sleep",
            duration(metrics.other_wait_ns)
        ));
    }
    (metrics.hold_ns > 0).then(|| {
        format!(
            "{label}: {} of lock hold time {in_samples} (--events hold): holds are not \
             waits, so no spin share",
            duration(metrics.hold_ns)
        )
    })
}

/// Where the thread states would come from, in the format read.
fn missing_states_hint(format: Option<InputFormat>) -> &'static str {
    format.map_or("no input has thread states", InputFormat::states_hint)
}

/// The most samples a warning's text names.
const SAMPLES_NAMED: usize = 10;

/// Examples given on the one line that stands for an input's samples
/// whose spin exceeds Running.
const EXCEEDING_SHOWN: usize = 3;

/// The warnings as lines of text: an input's samples whose spin exceeds
/// Running are one line, with a count and the first examples, unless
/// `every` (`-v`) asks for a line each (the JSON lists them all).
pub fn warning_lines(warnings: &[Warning], every: bool) -> Vec<String> {
    let mut lines = Vec::new();
    let mut inputs_done: Vec<&str> = Vec::new();
    for warning in warnings {
        let Warning::SpinExceedsRunning { input, .. } = warning else {
            lines.push(self::warning(warning));
            continue;
        };
        if every {
            lines.push(self::warning(warning));
        } else if !inputs_done.contains(&input.as_str()) {
            inputs_done.push(input);
            lines.push(exceeding_line(input, warnings));
        }
    }
    lines
}

/// One line for all of `input`'s samples whose spin exceeds Running.
fn exceeding_line(input: &str, warnings: &[Warning]) -> String {
    let samples: Vec<&Warning> = warnings
        .iter()
        .filter(|w| matches!(w, Warning::SpinExceedsRunning { input: i, .. } if i == input))
        .collect();
    if let [only] = samples[..] {
        return warning(only);
    }
    let examples: Vec<String> = samples
        .iter()
        .take(EXCEEDING_SHOWN)
        .filter_map(|w| match w {
            Warning::SpinExceedsRunning {
                sample,
                spin_ns,
                running_ns,
                ..
            } => Some(format!(
                "sample {sample}: spin {}, running {}",
                duration(*spin_ns),
                duration(*running_ns)
            )),
            Warning::MissingRunning { .. } => None,
        })
        .collect();
    let more = samples.len().saturating_sub(EXCEEDING_SHOWN);
    let more = if more > 0 {
        format!("; {more} more")
    } else {
        String::new()
    };
    format!(
        "warning: {input}: spin exceeds running in {} samples ({}{more}; -v says each); \
         check --spin/--sleep or the data",
        samples.len(),
        examples.join("; ")
    )
}

/// A warning as one line of text.
pub fn warning(warning: &Warning) -> String {
    match warning {
        Warning::SpinExceedsRunning {
            input,
            sample,
            spin_ns,
            running_ns,
        } => format!(
            "warning: {input} sample {sample}: spin {} exceeds running {}; \
             check --spin/--sleep or the data",
            duration(*spin_ns),
            duration(*running_ns),
        ),
        Warning::MissingRunning {
            input,
            without,
            of,
            samples,
        } => {
            let mut numbers: Vec<String> = samples
                .iter()
                .take(SAMPLES_NAMED)
                .map(u32::to_string)
                .collect();
            if samples.len() > SAMPLES_NAMED {
                numbers.push(format!("and {} more", samples.len() - SAMPLES_NAMED));
            }
            format!(
                "warning: {input}: {without} of {of} samples have no Running total (sample{} \
                 {}); the all row's spin, work and shares cover the other {}",
                if samples.len() == 1 { "" } else { "s" },
                numbers.join(", "),
                of - without
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_formats_leave_kernel_lock_out() {
        let metrics = Metrics {
            spin_ns: 426_152,
            sleep_wait_ns: 335_969,
            ..Metrics::default()
        };
        assert_eq!(
            verdict("x", Some(InputFormat::PerfLock), false, 1, &metrics),
            "x (perf-lock): 426.152 µs spinning on locks in 1 sample; no Running time to \
             compare it with (this format has no thread states); 335.969 µs waiting on sleep \
             locks"
        );
    }

    #[test]
    fn unknown_kinds_and_holds_give_no_spin_share() {
        let unknown = Metrics {
            other_wait_ns: 2_000,
            ..Metrics::default()
        };
        assert_eq!(
            verdict("x", None, false, 2, &unknown),
            "x: 2.000 µs of lock waits in 2 samples, none of a kind known to spin or to \
             sleep: no spin share to give; name the kinds (categories) with --spin or --sleep"
        );
        let holds = Metrics {
            hold_ns: 3_000,
            ..Metrics::default()
        };
        assert_eq!(
            verdict("x", None, false, 1, &holds),
            "x: 3.000 µs of lock hold time in 1 sample (--events hold): holds are not waits, \
             so no spin share"
        );
    }

    #[test]
    fn without_running_time_says_so() {
        let metrics = Metrics {
            spin_ns: 14_175_161,
            kernel_lock_ns: 13_260_228,
            sleep_wait_ns: 25_392_111,
            ..Metrics::default()
        };
        assert_eq!(
            verdict("x", Some(InputFormat::Table), true, 1, &metrics),
            "x (table): 14.175 ms spinning on locks (kernel_lock 13.260 ms) in 1 sample; no Running \
             time to compare it with (put the thread's state lines above each table); \
             25.392 ms waiting on sleep locks"
        );
    }
}
