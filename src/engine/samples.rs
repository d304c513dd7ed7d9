//! Per-sample figures as plain folds over the facts (each sample's states
//! and its wait per category are already folded while reading), and their
//! sums per input and over everything. A sample costs nothing here beyond
//! what the facts keep of it: its figures, and the [`SampleSummary`] the
//! reports show, are made on the fly, so that millions of samples do not
//! cost a `Metrics` and a map each.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Serialize, Serializer};

use super::classes::{ClassMap, LockClass};
use super::model::{Metrics, RUNNING, SampleSummary, Warning};
use crate::facts::{InputFacts, SampleSum};
use crate::hashing::InputMap;
use crate::states::SampleStates;

/// What one sample is made of; every figure of [`Metrics`] is derived from
/// it. Running and off-CPU time are 0 where `has_running` or
/// `has_off_cpu` say they are unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SampleFigures {
    running_ns: u64,
    off_cpu_ns: u64,
    spin_ns: u64,
    sleep_wait_ns: u64,
    kernel_lock_ns: u64,
    other_wait_ns: u64,
    hold_ns: u64,
    /// A sample that lists other states but no Running line has no
    /// Running time to share out, not a Running time of 0 (which would
    /// make its work negative).
    has_running: bool,
    /// The sample lists some state.
    has_off_cpu: bool,
}

impl SampleFigures {
    fn running(&self) -> Option<u64> {
        self.has_running.then_some(self.running_ns)
    }

    fn off_cpu(&self) -> Option<u64> {
        self.has_off_cpu.then_some(self.off_cpu_ns)
    }

    /// Adds a wait of this class (and on kernel_lock or not).
    fn add_wait(&mut self, class: LockClass, kernel_lock: bool, ns: u64) {
        let figure = match class {
            LockClass::Spin => &mut self.spin_ns,
            LockClass::Sleep => &mut self.sleep_wait_ns,
            LockClass::Other => &mut self.other_wait_ns,
            LockClass::Hold => &mut self.hold_ns,
            // A category has one class; mixed is only a group's.
            LockClass::Mixed => return,
        };
        *figure = figure.saturating_add(ns);
        if kernel_lock {
            self.kernel_lock_ns = self.kernel_lock_ns.saturating_add(ns);
        }
    }
}

/// Figures summed over samples. The shares compare like with like: spin
/// and kernel_lock over the samples with Running time, sleep wait over
/// those with off-CPU time.
#[derive(Debug, Clone, Copy, Default)]
pub struct Totals {
    running_ns: Option<u64>,
    off_cpu_ns: Option<u64>,
    spin_ns: u64,
    sleep_wait_ns: u64,
    kernel_lock_ns: u64,
    other_wait_ns: u64,
    hold_ns: u64,
    spin_known_ns: u64,
    kernel_lock_known_ns: u64,
    sleep_wait_known_ns: u64,
}

impl Totals {
    /// The sum of these samples' figures. The sums cannot pass 2^64:
    /// [`super::check_sums`] refused such inputs first.
    pub fn of(samples: impl IntoIterator<Item = SampleFigures>) -> Totals {
        let mut totals = Totals::default();
        for sample in samples {
            totals.add(&sample);
        }
        totals
    }

    fn add(&mut self, sample: &SampleFigures) {
        let plus = |sum: Option<u64>, part: Option<u64>| match (sum, part) {
            (sum, None) => sum,
            (sum, Some(part)) => Some(sum.unwrap_or(0).saturating_add(part)),
        };
        self.running_ns = plus(self.running_ns, sample.running());
        self.off_cpu_ns = plus(self.off_cpu_ns, sample.off_cpu());
        let add = |sum: &mut u64, part: u64| *sum = sum.saturating_add(part);
        add(&mut self.spin_ns, sample.spin_ns);
        add(&mut self.sleep_wait_ns, sample.sleep_wait_ns);
        add(&mut self.kernel_lock_ns, sample.kernel_lock_ns);
        add(&mut self.other_wait_ns, sample.other_wait_ns);
        add(&mut self.hold_ns, sample.hold_ns);
        if sample.has_running {
            add(&mut self.spin_known_ns, sample.spin_ns);
            add(&mut self.kernel_lock_known_ns, sample.kernel_lock_ns);
        }
        if sample.has_off_cpu {
            add(&mut self.sleep_wait_known_ns, sample.sleep_wait_ns);
        }
    }

    /// The figures, without state totals (the caller adds them).
    pub fn metrics(&self) -> Metrics {
        let (work_ns, work_share) = work(self.running_ns, self.spin_known_ns);
        Metrics {
            states_ns: BTreeMap::new(),
            running_ns: self.running_ns,
            off_cpu_ns: self.off_cpu_ns,
            spin_ns: self.spin_ns,
            sleep_wait_ns: self.sleep_wait_ns,
            work_ns,
            spin_share: ratio(self.spin_known_ns, self.running_ns),
            kernel_lock_ns: self.kernel_lock_ns,
            kernel_lock_share: ratio(self.kernel_lock_known_ns, self.running_ns),
            sleep_wait_share: ratio(self.sleep_wait_known_ns, self.off_cpu_ns),
            work_share,
            other_wait_ns: self.other_wait_ns,
            hold_ns: self.hold_ns,
        }
    }
}

/// `part / whole` as a fraction; None when the whole is unknown or zero.
fn ratio(part: u64, whole: Option<u64>) -> Option<f64> {
    whole
        .filter(|&whole| whole > 0)
        .map(|whole| part as f64 / whole as f64)
}

/// Work, Running minus spin, and its share of Running: in integers wide
/// enough for any two 64-bit times (a Running of 1e19 ns is past i64, and
/// its work was printed as unknown); None without Running.
fn work(running_ns: Option<u64>, spin_ns: u64) -> (Option<i128>, Option<f64>) {
    let Some(running) = running_ns else {
        return (None, None);
    };
    let work = i128::from(running) - i128::from(spin_ns);
    let share = (running > 0).then(|| work as f64 / running as f64);
    (Some(work), share)
}

/// The samples of one input: the facts' own states and waits per
/// category, shared, from which each sample's figures are made when asked
/// for (a sample costs what the facts keep of it and nothing more).
#[derive(Debug, Clone, PartialEq)]
struct InputSamples {
    label: String,
    /// The number the input gives each sample (1-based) where
    /// `--samples` left some out; empty when every sample is kept.
    numbers: Vec<u32>,
    states: Arc<SampleStates>,
    /// The waits per (sample, category), in sample order.
    sums: Arc<Vec<SampleSum>>,
    /// The class of each category with waits, by its id.
    classes: Vec<(u32, LockClass)>,
}

impl InputSamples {
    fn of(input: &InputFacts, classes: &ClassMap) -> InputSamples {
        let mut categories: Vec<u32> = input.sample_sums.iter().map(SampleSum::category).collect();
        categories.sort_unstable();
        categories.dedup();
        InputSamples {
            label: input.label.clone(),
            numbers: input.sample_numbers.clone(),
            states: Arc::clone(&input.samples),
            sums: Arc::clone(&input.sample_sums),
            classes: categories
                .into_iter()
                .map(|id| (id, classes.class_in(input.format, input.key(id))))
                .collect(),
        }
    }

    fn len(&self) -> usize {
        self.states.len()
    }

    fn class(&self, category: u32) -> LockClass {
        self.classes
            .binary_search_by_key(&category, |&(id, _)| id)
            .map_or(LockClass::Other, |at| self.classes[at].1)
    }

    /// Every sample's figures, in order: one pass over the waits.
    fn figures(&self) -> impl Iterator<Item = SampleFigures> + '_ {
        let mut sums = self.sums.iter().peekable();
        (0..self.len()).map(move |index| {
            let mut figures = state_figures(&self.states, index);
            while let Some(sum) = sums.next_if(|sum| sum.sample as usize <= index) {
                if sum.sample as usize == index {
                    figures.add_wait(self.class(sum.category()), sum.kernel_lock(), sum.total_ns);
                }
            }
            figures
        })
    }

    fn number(&self, index: usize) -> u32 {
        self.numbers.get(index).copied().unwrap_or(index as u32 + 1)
    }

    fn summaries(&self) -> impl Iterator<Item = SampleSummary> + '_ {
        self.figures().enumerate().map(|(index, figures)| {
            let mut metrics = Totals::of([figures]).metrics();
            for (name, ns) in self.states.get(index) {
                let sum = metrics.states_ns.entry(name.to_string()).or_default();
                *sum = sum.saturating_add(ns);
            }
            SampleSummary {
                input: self.label.clone(),
                sample: self.number(index),
                metrics,
            }
        })
    }

    /// The state totals summed over every sample.
    fn states_total(&self) -> BTreeMap<String, u64> {
        let mut by_name: InputMap<&str, u64> = InputMap::default();
        for index in 0..self.states.len() {
            for (name, ns) in self.states.get(index) {
                let sum = by_name.entry(name).or_default();
                *sum = sum.saturating_add(ns);
            }
        }
        by_name
            .into_iter()
            .map(|(name, ns)| (name.to_string(), ns))
            .collect()
    }
}

/// Running and off-CPU time of a sample from its states.
fn state_figures(states: &SampleStates, index: usize) -> SampleFigures {
    let mut figures = SampleFigures::default();
    for (name, ns) in states.get(index) {
        figures.has_off_cpu = true;
        if name == RUNNING {
            figures.has_running = true;
            figures.running_ns = figures.running_ns.saturating_add(ns);
        } else {
            figures.off_cpu_ns = figures.off_cpu_ns.saturating_add(ns);
        }
    }
    figures
}

/// Every sample of every input, in input order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Samples {
    inputs: Vec<InputSamples>,
}

impl Samples {
    /// The samples of these inputs, their waits classed by `classes`.
    pub fn of(inputs: &[InputFacts], classes: &ClassMap) -> Samples {
        Samples {
            inputs: inputs
                .iter()
                .map(|input| InputSamples::of(input, classes))
                .collect(),
        }
    }

    /// The number of samples of every input.
    pub fn len(&self) -> usize {
        self.inputs.iter().map(InputSamples::len).sum()
    }

    /// Whether there is no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of inputs.
    pub fn inputs(&self) -> usize {
        self.inputs.len()
    }

    /// Every sample's summary, in order, made as it is asked for.
    pub fn iter(&self) -> impl Iterator<Item = SampleSummary> + '_ {
        (0..self.inputs.len()).flat_map(|input| self.of_input(input))
    }

    /// The summaries of the input at `index`.
    pub fn of_input(&self, index: usize) -> impl Iterator<Item = SampleSummary> + '_ {
        self.inputs[index].summaries()
    }

    /// The figures of each sample of the input at `index`, without state
    /// totals (what `diff` compares).
    pub fn metrics_of_input(&self, index: usize) -> impl Iterator<Item = Metrics> + '_ {
        self.inputs[index]
            .figures()
            .map(|sample| Totals::of([sample]).metrics())
    }

    /// The figures of the input at `index` over its samples, with their
    /// state totals.
    pub fn input_total(&self, index: usize) -> Metrics {
        let input = &self.inputs[index];
        let mut total = Totals::of(input.figures()).metrics();
        total.states_ns = input.states_total();
        total
    }

    /// The figures over every sample of every input.
    pub fn total(&self) -> Metrics {
        let figures = self.inputs.iter().flat_map(InputSamples::figures);
        let mut total = Totals::of(figures).metrics();
        for input in &self.inputs {
            for (name, ns) in input.states_total() {
                let sum = total.states_ns.entry(name).or_default();
                *sum = sum.saturating_add(ns);
            }
        }
        total
    }

    /// The figures of the samples table's `all` row, for the input at
    /// `index` or (None) over every input: where some samples have no
    /// Running (or no off-CPU) total, their lock waits are left out of the
    /// row's spin, kernel_lock (and sleep wait), so that the row adds up:
    /// spin + work = Running. A warning names those samples; the JSON's
    /// totals keep every sample's waits.
    pub fn table_total(&self, index: Option<usize>) -> Metrics {
        let (mut metrics, totals) = match index {
            Some(index) => {
                let totals = Totals::of(self.inputs[index].figures());
                let mut metrics = totals.metrics();
                metrics.states_ns = self.inputs[index].states_total();
                (metrics, totals)
            }
            None => (
                self.total(),
                Totals::of(self.inputs.iter().flat_map(InputSamples::figures)),
            ),
        };
        if totals.running_ns.is_some() {
            metrics.spin_ns = totals.spin_known_ns;
            metrics.kernel_lock_ns = totals.kernel_lock_known_ns;
        }
        if totals.off_cpu_ns.is_some() {
            metrics.sleep_wait_ns = totals.sleep_wait_known_ns;
        }
        metrics
    }

    /// The samples whose spin passes their Running time: the class
    /// mapping or the data is wrong.
    pub fn spin_exceeding_running(&self) -> Vec<Warning> {
        let mut warnings = Vec::new();
        for input in &self.inputs {
            for (index, sample) in input.figures().enumerate() {
                if sample.has_running && sample.spin_ns > sample.running_ns {
                    warnings.push(Warning::SpinExceedsRunning {
                        input: input.label.clone(),
                        sample: input.number(index),
                        spin_ns: sample.spin_ns,
                        running_ns: sample.running_ns,
                    });
                }
            }
        }
        warnings
    }

    /// The warning for the input at `index` if samples have no Running
    /// total: some of them, or all of an input that lists other thread
    /// states (an input without any says so elsewhere).
    pub fn missing_running(&self, index: usize) -> Option<Warning> {
        let input = &self.inputs[index];
        let missing: Vec<u32> = input
            .figures()
            .enumerate()
            .filter(|(_, sample)| !sample.has_running)
            .map(|(index, _)| input.number(index))
            .collect();
        let has_states = input.figures().any(|sample| sample.has_off_cpu);
        let count = input.len();
        let some = !missing.is_empty() && missing.len() < count;
        (some || (!missing.is_empty() && has_states)).then(|| Warning::MissingRunning {
            input: input.label.clone(),
            without: missing.len(),
            of: count,
            samples: missing,
        })
    }
}

impl Serialize for Samples {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(running: Option<u64>, off_cpu: Option<u64>, spin: u64, sleep: u64) -> SampleFigures {
        SampleFigures {
            running_ns: running.unwrap_or(0),
            off_cpu_ns: off_cpu.unwrap_or(0),
            spin_ns: spin,
            sleep_wait_ns: sleep,
            has_running: running.is_some(),
            has_off_cpu: running.is_some() || off_cpu.is_some(),
            ..SampleFigures::default()
        }
    }

    #[test]
    fn shares_over_samples_leave_out_the_waits_of_samples_without_states() {
        // The seed's first window: 65.1 % of 400 ms spun.
        let seed = sample(Some(400), Some(100), 260, 30);
        let without = sample(None, None, 999, 999);
        let metrics = Totals::of([seed, without]).metrics();
        assert_eq!(metrics.running_ns, Some(400));
        assert_eq!(metrics.spin_ns, 1259);
        assert_eq!(metrics.spin_share, Some(0.65));
        assert_eq!(metrics.sleep_wait_share, Some(0.3));
        assert_eq!(metrics.work_ns, Some(140));
        assert_eq!(metrics.work_share, Some(0.35));
    }

    #[test]
    fn no_running_anywhere_gives_no_share_and_no_work() {
        let metrics = Totals::of([sample(None, Some(5), 3, 1)]).metrics();
        assert_eq!(metrics.running_ns, None);
        assert_eq!((metrics.spin_share, metrics.work_ns), (None, None));
        assert_eq!(metrics.off_cpu_ns, Some(5));
        assert_eq!(metrics.sleep_wait_share, Some(0.2));
        let zero = Totals::of([sample(Some(0), Some(0), 0, 0)]).metrics();
        assert_eq!(
            (zero.spin_share, zero.work_ns, zero.work_share),
            (None, Some(0), None)
        );
    }
}
