//! The figures of each sample as it completes, for `report --follow`: a
//! sink that passes every sample and row on to the facts and sums the
//! sample it is in on the side, so that a line can be printed the moment
//! the next sample begins, long before the input ends.

use crate::engine::classes::ClassMap;
use crate::facts::strip_offset;
use crate::hashing::InputMap;
use crate::holders::HolderShare;
use crate::parse::{InputFormat, LockClass, Row, RowWaits, Sink, State};
use crate::vocabulary::{KERNEL_LOCK, RUNNING};

/// One completed sample's figures, summed from its own rows and states.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveSample {
    /// 1-based, in the order read.
    pub number: u32,
    /// Running time; None where the sample has no Running state.
    pub running_ns: Option<u64>,
    /// Waits on spin-class locks.
    pub spin_ns: u64,
    /// Waits on kernel_lock.
    pub kernel_lock_ns: u64,
    /// Waits on sleep-class locks.
    pub sleep_wait_ns: u64,
    /// Every timed wait of the sample (holds not counted).
    pub lock_ns: u64,
    /// The lock with the most wait (its symbol, or its caller or type where
    /// the format names no symbol), and that wait.
    pub top: Option<(String, u64)>,
}

impl LiveSample {
    /// Spin over Running, 0..1 (None without Running time).
    pub fn spin_share(&self) -> Option<f64> {
        self.share_of_running(self.spin_ns)
    }

    /// kernel_lock over Running, 0..1.
    pub fn kernel_lock_share(&self) -> Option<f64> {
        self.share_of_running(self.kernel_lock_ns)
    }

    /// The top lock's share of the sample's lock time, 0..1.
    pub fn top_share(&self) -> Option<f64> {
        let (_, ns) = self.top.as_ref()?;
        (self.lock_ns > 0).then(|| *ns as f64 / self.lock_ns as f64)
    }

    fn share_of_running(&self, ns: u64) -> Option<f64> {
        self.running_ns
            .filter(|running| *running > 0)
            .map(|running| ns as f64 / running as f64)
    }
}

/// The sample being read: its figures and its waits per lock, each with
/// the order it was first seen in (a tie goes to the first).
#[derive(Debug, Default)]
struct Current {
    sample: LiveSample,
    by_lock: InputMap<String, (usize, u64)>,
}

impl Current {
    fn add_row(&mut self, class: LockClass, row: &Row<'_>, keep_offsets: bool) {
        if matches!(row.waits, RowWaits::Untimed) || class == LockClass::Hold {
            return;
        }
        let ns = row.dur_ns;
        let sample = &mut self.sample;
        sample.lock_ns = sample.lock_ns.saturating_add(ns);
        match class {
            LockClass::Spin => sample.spin_ns = sample.spin_ns.saturating_add(ns),
            LockClass::Sleep => sample.sleep_wait_ns = sample.sleep_wait_ns.saturating_add(ns),
            _ => {}
        }
        if row.symbol == KERNEL_LOCK {
            sample.kernel_lock_ns = sample.kernel_lock_ns.saturating_add(ns);
        }
        // The lock by its symbol; where the format names none (klockstat,
        // perf lock by caller), by what it does name.
        let lock = [row.symbol, row.caller, row.category]
            .into_iter()
            .find(|name| !name.is_empty())
            .unwrap_or_default();
        // As the ranking names it: `xfs_ilock`, not `xfs_ilock+0x2a`.
        let lock = if keep_offsets {
            lock
        } else {
            strip_offset(lock)
        };
        // A map: a btrace interval may print thousands of keys.
        match self.by_lock.get_mut(lock) {
            Some((_, sum)) => *sum = sum.saturating_add(ns),
            None => {
                let order = self.by_lock.len();
                self.by_lock.insert(lock.to_string(), (order, ns));
            }
        }
    }

    /// The sample's figures, its top lock the first with the most wait.
    fn finish(mut self) -> LiveSample {
        self.sample.top = self
            .by_lock
            .into_iter()
            .max_by_key(|(_, (order, ns))| (*ns, std::cmp::Reverse(*order)))
            .map(|(lock, (_, ns))| (lock, ns));
        self.sample
    }
}

/// Passes samples and rows to `inner` and hands each sample's figures to
/// `on_sample` when the next one begins (and at [`LiveSink::finish`]).
pub struct LiveSink<'a> {
    inner: &'a mut dyn Sink,
    classes: &'a ClassMap,
    format: InputFormat,
    current: Option<Current>,
    samples: u32,
    keep_offsets: bool,
    on_sample: &'a mut dyn FnMut(&LiveSample),
}

impl<'a> LiveSink<'a> {
    /// A sink in front of `inner` for an input in `format`.
    pub fn new(
        inner: &'a mut dyn Sink,
        classes: &'a ClassMap,
        format: InputFormat,
        on_sample: &'a mut dyn FnMut(&LiveSample),
    ) -> Self {
        LiveSink {
            inner,
            classes,
            format,
            current: None,
            samples: 0,
            keep_offsets: false,
            on_sample,
        }
    }

    /// Names locks with their `+0x..` offsets (`--keep-offsets`), as the
    /// ranking then does.
    pub fn keeping_offsets(mut self, keep: bool) -> Self {
        self.keep_offsets = keep;
        self
    }

    /// The input ended: its last sample is complete.
    pub fn finish(&mut self) {
        if let Some(current) = self.current.take() {
            (self.on_sample)(&current.finish());
        }
    }

    fn begin_sample(&mut self, states: &[State]) {
        self.finish();
        self.samples += 1;
        let running = states
            .iter()
            .filter(|state| state.name == RUNNING)
            .map(|state| state.ns)
            .reduce(u64::saturating_add);
        self.current = Some(Current {
            sample: LiveSample {
                number: self.samples,
                running_ns: running,
                ..LiveSample::default()
            },
            by_lock: InputMap::default(),
        });
    }
}

impl Sink for LiveSink<'_> {
    fn sample(&mut self, states: Vec<State>) -> Result<(), crate::parse::SinkError> {
        self.begin_sample(&states);
        self.inner.sample(states)
    }

    fn row(&mut self, row: &Row<'_>) -> Result<(), crate::parse::SinkError> {
        // Rows before any sample's start are the first sample's.
        if self.current.is_none() {
            self.begin_sample(&[]);
        }
        let class = self.classes.class_in(self.format, row.category);
        if let Some(current) = &mut self.current {
            current.add_row(class, row, self.keep_offsets);
        }
        self.inner.row(row)
    }

    // Not `row_by_key_text`: every row comes whole, so that its lock is
    // known here.

    fn holder(&mut self, share: HolderShare) -> Result<(), crate::parse::SinkError> {
        self.inner.holder(share)
    }

    fn frame(&mut self, frame: Option<&str>) {
        self.inner.frame(frame);
    }
}

/// A figure of a sample an alert watches (`--alert`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveMetric {
    /// Spin over Running.
    SpinShare,
    /// kernel_lock over Running.
    KernelLockShare,
    /// Running time.
    RunningNs,
    /// Waits on spin-class locks.
    SpinNs,
    /// Waits on kernel_lock.
    KernelLockNs,
    /// Waits on sleep-class locks.
    SleepWaitNs,
}

impl LiveMetric {
    const ALL: [LiveMetric; 6] = [
        LiveMetric::SpinShare,
        LiveMetric::KernelLockShare,
        LiveMetric::RunningNs,
        LiveMetric::SpinNs,
        LiveMetric::KernelLockNs,
        LiveMetric::SleepWaitNs,
    ];

    /// The name `--alert` takes (the JSON's field names).
    pub fn name(self) -> &'static str {
        match self {
            LiveMetric::SpinShare => "spin_share",
            LiveMetric::KernelLockShare => "kernel_lock_share",
            LiveMetric::RunningNs => "running_ns",
            LiveMetric::SpinNs => "spin_ns",
            LiveMetric::KernelLockNs => "kernel_lock_ns",
            LiveMetric::SleepWaitNs => "sleep_wait_ns",
        }
    }

    /// Whether it is a share (0..1) rather than nanoseconds.
    pub fn is_share(self) -> bool {
        matches!(self, LiveMetric::SpinShare | LiveMetric::KernelLockShare)
    }

    /// Its value in a sample: a share 0..1 or nanoseconds; None where the
    /// sample cannot give it (a share without Running time).
    pub fn of(self, sample: &LiveSample) -> Option<f64> {
        match self {
            LiveMetric::SpinShare => sample.spin_share(),
            LiveMetric::KernelLockShare => sample.kernel_lock_share(),
            LiveMetric::RunningNs => sample.running_ns.map(|ns| ns as f64),
            LiveMetric::SpinNs => Some(sample.spin_ns as f64),
            LiveMetric::KernelLockNs => Some(sample.kernel_lock_ns as f64),
            LiveMetric::SleepWaitNs => Some(sample.sleep_wait_ns as f64),
        }
    }
}

/// `--alert 'spin_share>60%'`: a sample whose figure is past a threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// The figure watched.
    pub metric: LiveMetric,
    /// `>` (true) or `<` (false).
    pub above: bool,
    /// The threshold: a share 0..1, or nanoseconds.
    pub threshold: f64,
    /// The condition as the user wrote it, for the alert's line.
    pub text: String,
}

impl Alert {
    /// Reads `METRIC>VALUE` or `METRIC<VALUE`: a share as `60%` or `0.6`,
    /// a time with its unit (`2ms`).
    pub fn parse(text: &str) -> Result<Alert, String> {
        let names = || {
            LiveMetric::ALL
                .iter()
                .map(|metric| metric.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (at, above) = match (text.find('>'), text.find('<')) {
            (Some(at), None) => (at, true),
            (None, Some(at)) => (at, false),
            _ => {
                return Err(format!(
                    "\"{text}\" is not METRIC>VALUE or METRIC<VALUE (e.g. 'spin_share>60%'); \
                     metrics: {}",
                    names()
                ));
            }
        };
        let name = text[..at].trim();
        let value = text[at + 1..].trim();
        let metric = LiveMetric::ALL
            .into_iter()
            .find(|metric| metric.name() == name)
            .ok_or_else(|| format!("no metric \"{name}\" to alert on; metrics: {}", names()))?;
        let threshold = if metric.is_share() {
            parse_share(value)
        } else {
            crate::parse::duration::parse_duration_with_unit(value).map(|ns| ns as f64)
        }
        .ok_or_else(|| {
            let expected = if metric.is_share() {
                "a share (60%, 0.6)"
            } else {
                "a time with its unit (2ms, 500us)"
            };
            format!("\"{value}\" in --alert {text}: {name} takes {expected}")
        })?;
        Ok(Alert {
            metric,
            above,
            threshold,
            text: text.trim().to_string(),
        })
    }

    /// Whether `sample` is past the threshold (a sample without the figure
    /// never is).
    pub fn fires(&self, sample: &LiveSample) -> bool {
        self.metric.of(sample).is_some_and(|value| {
            if self.above {
                value > self.threshold
            } else {
                value < self.threshold
            }
        })
    }
}

/// `60%` as 0.6, `0.6` as it is.
fn parse_share(text: &str) -> Option<f64> {
    let (number, scale) = match text.strip_suffix('%') {
        Some(number) => (number.trim(), 100.0),
        None => (text, 1.0),
    };
    let value: f64 = number.parse().ok()?;
    (value.is_finite() && value >= 0.0).then_some(value / scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testing::Collect;

    fn state(name: &str, ns: u64) -> State {
        State {
            name: name.to_string(),
            ns,
        }
    }

    fn row<'a>(dur_ns: u64, category: &'a str, symbol: &'a str) -> Row<'a> {
        Row {
            line: 1,
            dur_ns,
            count: 1,
            max_ns: dur_ns,
            category,
            symbol,
            caller: "reaper",
            key_text: "",
            key_layout: 0,
            waits: RowWaits::Unknown,
            stack: "",
            holder: "",
        }
    }

    #[test]
    fn each_sample_is_handed_on_when_the_next_begins() {
        let mut seen = Vec::new();
        let mut on_sample = |sample: &LiveSample| seen.push(sample.clone());
        let mut inner = Collect::default();
        let classes = ClassMap::default();
        let mut sink = LiveSink::new(&mut inner, &classes, InputFormat::Table, &mut on_sample);
        sink.sample(vec![state("Running", 1_000), state("Stopped", 9_000)])
            .unwrap();
        sink.row(&row(300, "kernel", "kernel_lock")).unwrap();
        sink.row(&row(200, "mutex", "sched_lock")).unwrap();
        sink.row(&row(700, "rwlock", "kernel_map_store")).unwrap();
        sink.sample(vec![state("Running", 2_000)]).unwrap();
        sink.row(&row(50, "mutex", "uvm")).unwrap();
        sink.finish();
        drop(sink);
        assert_eq!(inner.samples.len(), 2, "every sample passed on");
        assert_eq!(
            seen[0],
            LiveSample {
                number: 1,
                running_ns: Some(1_000),
                spin_ns: 500,
                kernel_lock_ns: 300,
                sleep_wait_ns: 700,
                lock_ns: 1_200,
                top: Some(("kernel_map_store".to_string(), 700)),
            }
        );
        assert_eq!(seen[0].spin_share(), Some(0.5));
        assert_eq!(seen[0].kernel_lock_share(), Some(0.3));
        assert_eq!(seen[1].number, 2);
        assert_eq!(seen[1].spin_share(), Some(0.025));
        assert_eq!(seen[1].top_share(), Some(1.0));
    }

    #[test]
    fn alerts_read_shares_and_times() {
        let alert = Alert::parse("spin_share>60%").unwrap();
        assert_eq!((alert.metric, alert.above), (LiveMetric::SpinShare, true));
        assert_eq!(alert.threshold, 0.6);
        let sample = LiveSample {
            running_ns: Some(1_000),
            spin_ns: 650,
            ..LiveSample::default()
        };
        assert!(alert.fires(&sample));
        assert!(!Alert::parse("spin_share > 0.7").unwrap().fires(&sample));
        let time = Alert::parse("running_ns<2us").unwrap();
        assert_eq!(time.threshold, 2_000.0);
        assert!(time.fires(&sample));
        let without_running = LiveSample::default();
        assert!(!alert.fires(&without_running), "no Running, no share");
        assert!(
            Alert::parse("spin>60%")
                .unwrap_err()
                .contains("metrics: spin_share")
        );
        assert!(Alert::parse("spin_share=60%").is_err());
        assert!(
            Alert::parse("spin_ns>60%")
                .unwrap_err()
                .contains("a time with its unit")
        );
    }
}
