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
/// verdict over all inputs.
pub fn verdict(
    label: &str,
    format: Option<InputFormat>,
    samples: usize,
    metrics: &Metrics,
) -> String {
    let label = match format {
        Some(format) => format!("{label} ({})", format.name()),
        None => label.to_string(),
    };
    let samples_word = if samples == 1 { "sample" } else { "samples" };
    let mut text = match (metrics.running_ns, metrics.spin_share) {
        (Some(running), Some(spin_share)) => format!(
            "{label}: running {} in {samples} {samples_word}: {} spinning on locks \
             (kernel_lock {}), {} other work",
            duration(running),
            percent(Some(spin_share)),
            percent(metrics.kernel_lock_share),
            percent(metrics.work_share),
        ),
        _ => format!(
            "{label}: {} spinning on locks (kernel_lock {}) in {samples} {samples_word}; \
             no Running time to compare it with ({})",
            duration(metrics.spin_ns),
            duration(metrics.kernel_lock_ns),
            missing_states_hint(format),
        ),
    };
    if let Some(off_cpu) = metrics.off_cpu_ns.filter(|&ns| ns > 0) {
        text.push_str(&format!(
            "; off-CPU {}, {} of it waiting on sleep locks",
            duration(off_cpu),
            percent(metrics.sleep_wait_share)
        ));
    } else if metrics.sleep_wait_ns > 0 {
        text.push_str(&format!(
            "; {} waiting on sleep locks",
            duration(metrics.sleep_wait_ns)
        ));
    }
    text
}

/// Where the thread states would come from, in the format read.
fn missing_states_hint(format: Option<InputFormat>) -> &'static str {
    format.map_or("no input has thread states", InputFormat::states_hint)
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
        Warning::MissingRunning { input, without, of } => format!(
            "warning: {input}: {without} of {of} samples have no Running total; \
             shares cover the other {}",
            of - without
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_running_time_says_so() {
        let metrics = Metrics {
            spin_ns: 14_175_161,
            kernel_lock_ns: 13_260_228,
            sleep_wait_ns: 25_392_111,
            ..Metrics::default()
        };
        assert_eq!(
            verdict("x", Some(InputFormat::Table), 1, &metrics),
            "x (table): 14.175 ms spinning on locks (kernel_lock 13.260 ms) in 1 sample; no Running \
             time to compare it with (put the thread's state lines above each table); \
             25.392 ms waiting on sleep locks"
        );
    }
}
