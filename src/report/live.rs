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

    /// The line for a sample that just completed, for a log:
    /// `sample 3: running 3.868 ms, spin 75.8 %, kernel_lock 75.3 %, sleep
    /// wait 684 ns, top kernel_lock 99.3 % of lock time  ▄▂▆`; without
    /// Running time, the spin and kernel_lock waits themselves and no
    /// sparkline.
    pub fn line(&mut self, sample: &LiveSample) -> String {
        self.record(sample);
        let shown = self.figures(sample);
        let mut figures = Vec::new();
        if let Some(running) = shown.running {
            figures.push(format!("running {running}"));
        }
        figures.push(format!("spin {}", shown.spin));
        if let Some(kernel_lock) = shown.kernel_lock {
            figures.push(format!("kernel_lock {kernel_lock}"));
        }
        figures.push(format!("sleep wait {}", shown.sleep));
        figures.push(match shown.top {
            Some(top) => format!("top {top} of lock time"),
            None => "no lock waits".to_string(),
        });
        let mut line = format!("sample {}: {}", sample.number, figures.join(", "));
        if self.any_running {
            line.push_str("  ");
            line.push_str(&self.marks());
        }
        line
    }

    /// The header of [`LiveView::row`]'s columns.
    pub fn header(&self) -> String {
        let kernel_lock = if self.kernel_lock { " kernel_lock" } else { "" };
        format!("sample    running       spin{kernel_lock} sleep wait  top lock")
    }

    /// A sample's row for the terminal's view: the line's figures in
    /// columns under [`LiveView::header`].
    pub fn row(&mut self, sample: &LiveSample) -> String {
        self.record(sample);
        let shown = self.figures(sample);
        let kernel_lock = (shown.kernel_lock).map_or_else(String::new, |k| format!(" {k:>11}"));
        format!(
            "{:>6} {:>10} {:>10}{kernel_lock} {:>10}  {}",
            sample.number,
            shown.running.unwrap_or_else(|| "-".to_string()),
            shown.spin,
            shown.sleep,
            shown.top.unwrap_or_else(|| "no lock waits".to_string()),
        )
    }

    /// The spin share of the samples so far, a mark each.
    pub fn marks(&self) -> String {
        self.marks.iter().collect()
    }

    /// Whether any sample so far had Running time (and so a mark).
    pub fn has_marks(&self) -> bool {
        self.any_running
    }

    fn record(&mut self, sample: &LiveSample) {
        if self.marks.len() >= self.width {
            self.marks.pop_front();
        }
        self.marks
            .push_back(share_mark(sample.spin_share(), self.ascii));
        self.any_running |= sample.running_ns.is_some();
    }

    /// Running, spin, kernel_lock, sleep wait and the top lock, as text:
    /// spin and kernel_lock as shares of Running where the sample has it,
    /// else as times; kernel_lock only where the format can show it.
    fn figures(&self, sample: &LiveSample) -> Figures {
        let running = sample.running_ns.map(|ns| duration(ns).to_string());
        let (spin, kernel_lock) = match sample.running_ns {
            Some(_) => (
                percent(sample.spin_share()),
                percent(sample.kernel_lock_share()),
            ),
            None => (duration(sample.spin_ns), duration(sample.kernel_lock_ns)),
        };
        let top = sample
            .top
            .as_ref()
            .map(|(name, _)| format!("{} {}", printable(name), percent(sample.top_share())));
        Figures {
            running,
            spin: spin.to_string(),
            kernel_lock: self.kernel_lock.then(|| kernel_lock.to_string()),
            sleep: duration(sample.sleep_wait_ns).to_string(),
            top,
        }
    }
}

/// A sample's figures as text (see [`LiveView::line`]).
struct Figures {
    running: Option<String>,
    spin: String,
    kernel_lock: Option<String>,
    sleep: String,
    top: Option<String>,
}

/// The live view on a terminal: a title and the latest samples' lines,
/// redrawn in place within the terminal's height, as `top` does, but on
/// the normal screen, so that the report printed after it stays.
#[derive(Debug)]
pub struct Screen {
    lines: std::collections::VecDeque<String>,
    height: usize,
    width: usize,
    drawn: usize,
}

impl Screen {
    /// A view within `height` rows and `width` columns.
    pub fn new(height: u16, width: u16) -> Self {
        Screen {
            lines: std::collections::VecDeque::new(),
            // The title, the header and one sample at least; a row kept for
            // the cursor.
            height: usize::from(height).saturating_sub(3).max(1),
            width: usize::from(width).max(20),
            drawn: 0,
        }
    }

    /// Fits the view to a terminal that now has `height` rows (a window
    /// resized while the tracer runs); rows past it go at the next frame.
    pub fn resize(&mut self, height: u16) {
        self.height = usize::from(height).saturating_sub(3).max(1);
        while self.lines.len() > self.height {
            self.lines.pop_front();
        }
    }

    /// What to write for one more sample's row: the cursor back to the
    /// view's first row, the rest of the screen cleared, the view again
    /// (the title, the columns' header, the latest rows).
    pub fn frame(&mut self, title: &str, header: &str, line: String) -> String {
        if self.lines.len() >= self.height {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
        let mut out = String::new();
        if self.drawn > 0 {
            out.push_str(&format!("\x1b[{}A\r\x1b[J", self.drawn));
        }
        let rows = [title, header]
            .into_iter()
            .chain(self.lines.iter().map(String::as_str));
        self.drawn = 0;
        for row in rows {
            // A row as wide as the terminal could wrap and take two rows,
            // and the cursor would come back short.
            out.extend(row.chars().take(self.width - 1));
            out.push('\n');
            self.drawn += 1;
        }
        out
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

    #[test]
    fn the_screen_redraws_the_latest_lines_in_place() {
        let mut screen = Screen::new(5, 30);
        assert_eq!(
            screen.frame("following", "#", "sample 1".into()),
            "following\n#\nsample 1\n"
        );
        assert_eq!(
            screen.frame("following", "#", "sample 2".into()),
            "\x1b[3A\r\x1b[Jfollowing\n#\nsample 1\nsample 2\n"
        );
        // Five rows: the title, the header and two samples, the oldest
        // gone.
        assert_eq!(
            screen.frame(
                "following",
                "#",
                "sample 3 with a line wider than the terminal".into()
            ),
            "\x1b[4A\r\x1b[Jfollowing\n#\nsample 2\nsample 3 with a line wider th\n"
        );
    }

    #[test]
    fn rows_line_up_under_the_header() {
        let mut view = LiveView::new(true, true);
        let sample = LiveSample {
            number: 3,
            running_ns: Some(3_868_000),
            spin_ns: 2_931_000,
            kernel_lock_ns: 2_911_000,
            sleep_wait_ns: 684,
            lock_ns: 2_931_684,
            top: Some(("kernel_lock".to_string(), 2_911_000)),
        };
        assert_eq!(
            [view.header(), view.row(&sample)],
            [
                "sample    running       spin kernel_lock sleep wait  top lock",
                "     3   3.868 ms     75.8 %      75.3 %     684 ns  kernel_lock 99.3 %",
            ]
        );
    }
}
