//! `report --follow`'s line per sample: what a watcher needs while the
//! trace runs (Running, the spin and kernel_lock shares, sleep wait, the
//! top lock) and a sparkline of the spin share so far.

use crate::engine::live::{Alert, LiveSample};
use crate::printable::printable;
use crate::report::human::{duration, percent};
use crate::report::spark::share_mark;

/// The sparkline keeps this many of the latest samples.
const SPARK_SAMPLES: usize = 40;

/// The spin shares seen so far, for the sparkline.
#[derive(Debug, Default)]
pub struct LiveView {
    marks: std::collections::VecDeque<char>,
    /// How many marks: the last samples kept (`--last`), at most 40.
    width: usize,
    ascii: bool,
    kernel_lock: bool,
    any_running: bool,
}

impl LiveView {
    /// A view with no sample yet; `ascii`: marks without block characters;
    /// `kernel_lock`: the input's format can show kernel_lock.
    pub fn new(ascii: bool, kernel_lock: bool) -> Self {
        LiveView {
            width: SPARK_SAMPLES,
            ascii,
            kernel_lock,
            ..LiveView::default()
        }
    }

    /// The marks cover at most the last `samples` samples.
    pub fn keeping(mut self, samples: usize) -> Self {
        self.width = samples.clamp(1, SPARK_SAMPLES);
        self
    }

    /// The line for a sample that just completed:
    /// `sample 3: running 3.868 ms, spin 75.8 %, kernel_lock 75.3 %, sleep
    /// wait 684 ns, top kernel_lock 99.3 % of lock time  ▄▂▆`; without
    /// Running time, the spin and kernel_lock waits themselves and no
    /// sparkline.
    pub fn line(&mut self, sample: &LiveSample) -> String {
        if self.marks.len() >= self.width {
            self.marks.pop_front();
        }
        self.marks
            .push_back(share_mark(sample.spin_share(), self.ascii));
        self.any_running |= sample.running_ns.is_some();
        let mut figures = Vec::new();
        match sample.running_ns {
            Some(running) => {
                figures.push(format!("running {}", duration(running)));
                figures.push(format!("spin {}", percent(sample.spin_share())));
                if self.kernel_lock {
                    let share = percent(sample.kernel_lock_share());
                    figures.push(format!("kernel_lock {share}"));
                }
            }
            None => {
                figures.push(format!("spin {}", duration(sample.spin_ns)));
                if self.kernel_lock {
                    figures.push(format!("kernel_lock {}", duration(sample.kernel_lock_ns)));
                }
            }
        }
        figures.push(format!("sleep wait {}", duration(sample.sleep_wait_ns)));
        figures.push(match &sample.top {
            Some((name, _)) => format!(
                "top {} {} of lock time",
                printable(name),
                percent(sample.top_share())
            ),
            None => "no lock waits".to_string(),
        });
        let mut line = format!("sample {}: {}", sample.number, figures.join(", "));
        if self.any_running {
            line.push_str("  ");
            line.extend(self.marks.iter());
        }
        line
    }
}

/// The line on stderr for a sample past an alert's threshold.
pub fn alert_line(label: &str, alert: &Alert, sample: &LiveSample) -> String {
    let value = alert.metric.of(sample).map_or_else(
        || "-".to_string(),
        |value| {
            if alert.metric.is_share() {
                percent(Some(value)).to_string()
            } else {
                duration(value as u64).to_string()
            }
        },
    );
    format!(
        "contend: {label}: alert: sample {}: {} is {value} ({})",
        sample.number,
        alert.metric.name(),
        alert.text
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_gives_the_figures_and_the_spin_so_far() {
        let mut view = LiveView::new(true, true);
        let sample = LiveSample {
            number: 1,
            running_ns: Some(4_384_000),
            spin_ns: 2_188_184,
            kernel_lock_ns: 1_751_151,
            sleep_wait_ns: 12_417_639,
            lock_ns: 14_605_934,
            top: Some(("kernel_map_store".to_string(), 12_417_639)),
        };
        assert_eq!(
            view.line(&sample),
            "sample 1: running 4.384 ms, spin 49.9 %, kernel_lock 39.9 %, sleep wait \
             12.418 ms, top kernel_map_store 85.0 % of lock time  -"
        );
        let idle = LiveSample {
            number: 2,
            ..LiveSample::default()
        };
        assert_eq!(
            view.line(&idle),
            "sample 2: spin 0 ns, kernel_lock 0 ns, sleep wait 0 ns, no lock waits  - "
        );
        let mut perf = LiveView::new(true, false);
        let stateless = LiveSample {
            number: 1,
            spin_ns: 8_300,
            lock_ns: 58_208_300,
            sleep_wait_ns: 58_200_000,
            top: Some(("rwsem:W".to_string(), 58_200_000)),
            ..LiveSample::default()
        };
        assert_eq!(
            perf.line(&stateless),
            "sample 1: spin 8.300 µs, sleep wait 58.200 ms, top rwsem:W 100.0 % of lock time"
        );
        let mut last_two = LiveView::new(true, true).keeping(2);
        for number in 1..=3 {
            let sample = LiveSample {
                number,
                running_ns: Some(100),
                spin_ns: 100 * u64::from(number - 1) / 2,
                ..LiveSample::default()
            };
            last_two.line(&sample);
        }
        assert_eq!(last_two.marks.iter().collect::<String>(), "=#");
    }
}
