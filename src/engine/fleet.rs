//! A fleet's report: many hosts' runs (each host and build of a dataset)
//! folded one at a time into the fleet's figures, per host and per lock,
//! with the spread of each lock's spin share over the hosts and the hosts
//! that stand out. Memory: a few numbers per host, and per lock one share
//! per host it was seen on.

use serde::Serialize;

use super::{GroupKey, KeyValues, LockClass};
use crate::dataset::Partition;
use crate::distribution::Histogram;
use crate::hashing::{InputMap, position_or_push};

/// A key's id in the fleet's [`KeyNames`]; [`NOT_GROUPED`] for a key
/// column `--by` leaves out.
pub type KeyIds = [u32; 3];

/// The id of a key column not grouped on.
const NOT_GROUPED: u32 = u32::MAX;

/// The names of the fleet's keys, each kept once and known by a 4-byte
/// id: a thousand hosts of 16 000 keys are compared as numbers, not as
/// text.
#[derive(Debug, Default)]
pub struct KeyNames {
    index: hashbrown::HashTable<u32>,
    names: Vec<Box<str>>,
}

impl KeyNames {
    /// The id of `name`, a new one if it was not seen.
    pub fn id(&mut self, name: &str) -> u32 {
        position_or_push(
            &mut self.index,
            &mut self.names,
            name,
            |known| &**known,
            || name.into(),
        )
    }

    /// The name of an id.
    pub fn name(&self, id: u32) -> Option<&str> {
        self.names.get(id as usize).map(|name| &**name)
    }

    /// The key values of ids, a column not grouped on absent.
    fn values(&self, ids: KeyIds) -> KeyValues {
        let name = |at: usize| self.name(ids[at]).map(str::to_string);
        KeyValues {
            category: name(0),
            symbol: name(1),
            caller: name(2),
            holder: None,
        }
    }

    /// The ids' names in key order, for ties: `None` sorts first.
    fn texts(&self, ids: KeyIds) -> [Option<&str>; 3] {
        ids.map(|id| self.name(id))
    }
}

/// Stand-outs named per lock in the JSON (the count says how many more).
const STANDOUTS_KEPT: usize = 10;
/// A host's locks counted as its top ones.
const HOST_TOP: usize = 5;

/// One host's build as the dataset holds it: its totals and lock keys.
#[derive(Debug, Clone, Default)]
pub struct HostRun {
    /// Its host and build.
    pub partition: Partition,
    /// Part files read for it (inputs exported).
    pub parts: usize,
    /// Its samples.
    pub samples: u64,
    /// Its time over every sample.
    pub totals: RunTotals,
    /// Its locks, grouped by every key.
    pub locks: Vec<HostLock>,
}

/// A run's time summed over its samples. A sample without a Running
/// total leaves its spin out of the spin share, as a report does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunTotals {
    /// Time in Running; None when no sample has one.
    pub running_ns: Option<u64>,
    /// Time off the CPU; None when no sample has one.
    pub off_cpu_ns: Option<u64>,
    /// Waits on spin-class locks.
    pub spin_ns: u64,
    /// Of those, in samples with a Running total.
    pub spin_known_ns: u64,
    /// Waits on kernel_lock.
    pub kernel_lock_ns: u64,
    /// Of those, in samples with a Running total.
    pub kernel_lock_known_ns: u64,
    /// Waits on sleep-class locks.
    pub sleep_wait_ns: u64,
}

impl RunTotals {
    /// Adds one sample's figures.
    pub fn add_sample(&mut self, sample: SampleTimes) {
        let known = |ns: u64| if sample.running_ns.is_some() { ns } else { 0 };
        self.add(&RunTotals {
            running_ns: sample.running_ns,
            off_cpu_ns: sample.off_cpu_ns,
            spin_ns: sample.spin_ns,
            spin_known_ns: known(sample.spin_ns),
            kernel_lock_ns: sample.kernel_lock_ns,
            kernel_lock_known_ns: known(sample.kernel_lock_ns),
            sleep_wait_ns: sample.sleep_wait_ns,
        });
    }

    /// Adds another run's totals.
    pub fn add(&mut self, other: &RunTotals) {
        let plus = |sum: Option<u64>, part: Option<u64>| match part {
            None => sum,
            Some(part) => Some(sum.unwrap_or(0).saturating_add(part)),
        };
        self.running_ns = plus(self.running_ns, other.running_ns);
        self.off_cpu_ns = plus(self.off_cpu_ns, other.off_cpu_ns);
        self.spin_ns = self.spin_ns.saturating_add(other.spin_ns);
        self.spin_known_ns = self.spin_known_ns.saturating_add(other.spin_known_ns);
        self.kernel_lock_ns = self.kernel_lock_ns.saturating_add(other.kernel_lock_ns);
        self.kernel_lock_known_ns = self
            .kernel_lock_known_ns
            .saturating_add(other.kernel_lock_known_ns);
        self.sleep_wait_ns = self.sleep_wait_ns.saturating_add(other.sleep_wait_ns);
    }

    /// Spin over Running.
    pub fn spin_share(&self) -> Option<f64> {
        ratio(self.spin_known_ns, self.running_ns)
    }

    /// kernel_lock over Running.
    pub fn kernel_lock_share(&self) -> Option<f64> {
        ratio(self.kernel_lock_known_ns, self.running_ns)
    }
}

/// One sample's figures as a dataset stores them.
#[derive(Debug, Clone, Copy, Default)]
pub struct SampleTimes {
    /// Running, where the sample has it.
    pub running_ns: Option<u64>,
    /// Off-CPU, where the sample has it.
    pub off_cpu_ns: Option<u64>,
    /// Spin-class waits.
    pub spin_ns: u64,
    /// kernel_lock waits.
    pub kernel_lock_ns: u64,
    /// Sleep-class waits.
    pub sleep_wait_ns: u64,
}

/// One lock key of a host's run.
#[derive(Debug, Clone)]
pub struct HostLock {
    /// Category, symbol, caller, by their ids in the fleet's names.
    pub keys: KeyIds,
    /// Its figures.
    pub figures: LockFigures,
}

/// A lock's waits, on one host or summed over several.
#[derive(Debug, Clone)]
pub struct LockFigures {
    /// Its class.
    pub class: LockClass,
    /// Its waits; None for a count() map's events, which have no time.
    pub total_ns: Option<u64>,
    /// Its spin-class waits.
    pub spin_ns: u64,
    /// Rows read (or events counted).
    pub rows: u64,
    /// Waits counted; None where unknown.
    pub events: Option<u64>,
    /// Its longest wait.
    pub max_ns: Option<u64>,
    /// Its single waits, where the input had them.
    pub waits: Option<Histogram>,
}

impl LockFigures {
    /// Adds the same lock's figures from another part or host.
    pub fn merge(&mut self, other: LockFigures) {
        if self.class != other.class {
            self.class = LockClass::Mixed;
        }
        self.total_ns = add_known(self.total_ns, other.total_ns);
        self.spin_ns = self.spin_ns.saturating_add(other.spin_ns);
        self.rows = self.rows.saturating_add(other.rows);
        self.events = self
            .events
            .zip(other.events)
            .map(|(a, b)| a.saturating_add(b));
        self.max_ns = self.max_ns.max(other.max_ns);
        match (&mut self.waits, other.waits) {
            (Some(mine), Some(theirs)) => mine.merge(&theirs),
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
    }
}

/// How the fleet is grouped and how much of it is shown.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// The key columns of its locks.
    pub by: Vec<GroupKey>,
    /// Locks kept (0: all).
    pub top: usize,
}

/// A fleet's report (`report DIR`; its JSON is this).
#[derive(Debug, Clone, Serialize)]
pub struct Fleet {
    /// The dataset schema read.
    pub dataset_version: u64,
    /// The builds in the dataset, sorted.
    pub builds: Vec<String>,
    /// Figures over every host.
    pub fleet: FleetTotal,
    /// Every host's build, by host then build.
    pub hosts: Vec<HostSummary>,
    /// The locks, by total wait over the fleet (`--top`).
    pub locks: Vec<FleetLock>,
    /// Locks before `--top`.
    pub locks_total: usize,
    /// The key columns of the locks.
    #[serde(skip)]
    pub by: Vec<GroupKey>,
}

/// The time of a run, or of the whole fleet, as the JSON gives it.
#[derive(Debug, Clone, Serialize)]
pub struct TimeFigures {
    /// Samples read.
    pub samples: u64,
    /// Running; null when no sample has it.
    pub running_ns: Option<u64>,
    /// Off-CPU.
    pub off_cpu_ns: Option<u64>,
    /// Spin-class waits.
    pub spin_ns: u64,
    /// Spin over Running (the waits of samples without Running left out).
    pub spin_share: Option<f64>,
    /// kernel_lock waits.
    pub kernel_lock_ns: u64,
    /// kernel_lock over Running.
    pub kernel_lock_share: Option<f64>,
    /// Sleep-class waits.
    pub sleep_wait_ns: u64,
}

impl TimeFigures {
    fn of(totals: &RunTotals, samples: u64) -> Self {
        TimeFigures {
            samples,
            running_ns: totals.running_ns,
            off_cpu_ns: totals.off_cpu_ns,
            spin_ns: totals.spin_ns,
            spin_share: totals.spin_share(),
            kernel_lock_ns: totals.kernel_lock_ns,
            kernel_lock_share: totals.kernel_lock_share(),
            sleep_wait_ns: totals.sleep_wait_ns,
        }
    }
}

/// The fleet's figures.
#[derive(Debug, Clone, Serialize)]
pub struct FleetTotal {
    /// Hosts' builds read (partitions).
    pub hosts: usize,
    /// Their time, summed.
    #[serde(flatten)]
    pub figures: TimeFigures,
    /// How the hosts' spin shares spread.
    pub host_spin_share: Spread,
    /// How the hosts' kernel_lock shares spread.
    pub host_kernel_lock_share: Spread,
    /// Hosts whose spin share stands out, highest first.
    pub standouts: Vec<HostShare>,
}

/// The median and 90th percentile of a figure over hosts (linear
/// interpolation between the two nearest hosts, as SQL's
/// `PERCENTILE_CONT`); null without hosts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Spread {
    /// Hosts the figure is known for.
    pub hosts: usize,
    /// The median over them.
    pub median: Option<f64>,
    /// The 90th percentile over them.
    pub p90: Option<f64>,
}

/// A host's build and one of its shares.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostShare {
    /// The host.
    pub host: String,
    /// Its build.
    pub build: String,
    /// The share.
    pub spin_share: f64,
}

/// One host's build in the fleet.
#[derive(Debug, Clone, Serialize)]
pub struct HostSummary {
    /// The host.
    pub host: String,
    /// Its build.
    pub build: String,
    /// Part files (inputs) exported for it.
    pub parts: usize,
    /// Its time.
    #[serde(flatten)]
    pub figures: TimeFigures,
    /// Its lock of most wait, at the fleet's `--by`.
    pub top_lock: Option<KeyValues>,
    /// That lock's wait.
    pub top_lock_total_ns: Option<u64>,
    /// Its spin share stands out in the fleet.
    pub standout: bool,
}

/// One lock over the fleet.
#[derive(Debug, Clone, Serialize)]
pub struct FleetLock {
    /// Its keys at `--by`.
    #[serde(flatten)]
    pub keys: KeyValues,
    /// `spin`, `sleep`, `other` or `mixed`.
    pub class: LockClass,
    /// Its waits over every host; null for count() maps' events.
    pub total_ns: Option<u64>,
    /// Its spin-class waits over every host.
    pub spin_ns: u64,
    /// Rows read.
    pub rows: u64,
    /// Waits counted; null where unknown.
    pub events: Option<u64>,
    /// Its longest wait on any host.
    pub max_ns: Option<u64>,
    /// Hosts where it was waited on.
    pub hosts_seen: usize,
    /// Hosts where it is among the 5 locks of most wait.
    pub hosts_in_top5: usize,
    /// hosts_in_top5 over the fleet's hosts.
    pub top5_share: f64,
    /// Its spin share over the hosts with Running (0 where it is not
    /// waited on).
    pub spin_share: Spread,
    /// Its spin over the fleet's Running.
    pub fleet_spin_share: Option<f64>,
    /// Percentiles of its single waits over every host (merged as within
    /// one input); null where the inputs had none.
    pub p50_ns: Option<u64>,
    /// 90th percentile of the single waits.
    pub p90_ns: Option<u64>,
    /// 99th percentile of the single waits.
    pub p99_ns: Option<u64>,
    /// Hosts where its spin share stands out, highest first (at most 10).
    pub standouts: Vec<HostShare>,
    /// Hosts that stand out, all told.
    pub standouts_total: usize,
}

/// Folds hosts' runs into a fleet, one run at a time.
#[derive(Debug, Default)]
pub struct FleetBuilder {
    by: Vec<GroupKey>,
    /// The names of every key read.
    names: KeyNames,
    /// Each host's run (its locks taken out) and its top lock.
    hosts: Vec<(HostRun, Option<TopLock>)>,
    locks: InputMap<KeyIds, LockSum>,
}

/// A host's lock of most wait, and that wait.
type TopLock = (KeyIds, Option<u64>);

/// A lock's figures so far.
#[derive(Debug)]
struct LockSum {
    figures: LockFigures,
    in_top5: usize,
    hosts_seen: usize,
    /// The hosts it was spun on, by index, and their spin, in two lists
    /// (12 bytes a host where a list of pairs takes 16): a thousand hosts
    /// of 16 000 keys are 16 million of them. Hosts where it did not spin
    /// are not listed: their share is 0.
    spun_on: Vec<u32>,
    spin_ns: Vec<u64>,
}

impl FleetBuilder {
    /// An empty fleet grouped `by`.
    pub fn new(by: &[GroupKey]) -> Self {
        FleetBuilder {
            by: by.to_vec(),
            ..FleetBuilder::default()
        }
    }

    /// The names keys are read into, as ids.
    pub fn names_mut(&mut self) -> &mut KeyNames {
        &mut self.names
    }

    /// Adds one host's build (its keys ids of [`FleetBuilder::names_mut`]).
    pub fn add(&mut self, mut run: HostRun) {
        let index = self.hosts.len() as u32;
        let locks = self.projected(std::mem::take(&mut run.locks));
        let names = &self.names;
        let order = |a: &(KeyIds, LockFigures), b: &(KeyIds, LockFigures)| {
            by_wait(&a.1, &b.1).then_with(|| names.texts(a.0).cmp(&names.texts(b.0)))
        };
        // The host's five locks of most wait, without sorting them all.
        let mut ranked: Vec<(KeyIds, &LockFigures)> = Vec::new();
        if !locks.is_empty() {
            let mut order_of: Vec<usize> = (0..locks.len()).collect();
            let cut = HOST_TOP.min(locks.len()) - 1;
            order_of.select_nth_unstable_by(cut, |&a, &b| order(&locks[a], &locks[b]));
            order_of.truncate(cut + 1);
            order_of.sort_unstable_by(|&a, &b| order(&locks[a], &locks[b]));
            ranked = order_of
                .iter()
                .map(|&at| (locks[at].0, &locks[at].1))
                .collect();
        }
        let top = ranked.first().map(|(keys, lock)| (*keys, lock.total_ns));
        let top5: Vec<KeyIds> = ranked.iter().map(|(keys, _)| *keys).collect();
        for (keys, lock) in locks {
            let in_top5 = top5.contains(&keys);
            match self.locks.get_mut(&keys) {
                Some(sum) => sum.add(index, lock, in_top5),
                None => {
                    self.locks.insert(keys, LockSum::of(index, lock, in_top5));
                }
            }
        }
        self.hosts.push((run, top));
    }

    /// A host's locks at `--by`: those of keys that differ only in a
    /// column left out summed (at every key, they are the locks as read).
    fn projected(&self, locks: Vec<HostLock>) -> Vec<(KeyIds, LockFigures)> {
        if self.by.len() == 3 {
            return locks
                .into_iter()
                .map(|lock| (lock.keys, lock.figures))
                .collect();
        }
        let mut summed: InputMap<KeyIds, LockFigures> = InputMap::default();
        for lock in locks {
            match summed.get_mut(&self.project(lock.keys)) {
                Some(sum) => sum.merge(lock.figures),
                None => {
                    summed.insert(self.project(lock.keys), lock.figures);
                }
            }
        }
        summed.into_iter().collect()
    }

    fn project(&self, keys: KeyIds) -> KeyIds {
        let kept = |key: GroupKey, at: usize| {
            if self.by.contains(&key) {
                keys[at]
            } else {
                NOT_GROUPED
            }
        };
        [
            kept(GroupKey::Category, 0),
            kept(GroupKey::Symbol, 1),
            kept(GroupKey::Caller, 2),
        ]
    }

    /// The fleet's report, its locks cut to `top` (0: all).
    pub fn finish(self, top: usize) -> Fleet {
        let mut totals = RunTotals::default();
        let mut samples = 0u64;
        for (run, _) in &self.hosts {
            totals.add(&run.totals);
            samples = samples.saturating_add(run.samples);
        }
        let spin_shares: Vec<(u32, f64)> = self.shares(|run| run.totals.spin_share());
        let kernel_lock_shares: Vec<(u32, f64)> = self.shares(|run| run.totals.kernel_lock_share());
        let standout_hosts = standouts(&spin_shares);
        let fleet = FleetTotal {
            hosts: self.hosts.len(),
            figures: TimeFigures::of(&totals, samples),
            host_spin_share: spread(&spin_shares),
            host_kernel_lock_share: spread(&kernel_lock_shares),
            standouts: self.named(&standout_hosts),
        };
        let mut locks: Vec<FleetLock> = self
            .locks
            .iter()
            .map(|(keys, sum)| self.fleet_lock(*keys, sum, &totals))
            .collect();
        locks.sort_by(|a, b| {
            (b.total_ns, b.spin_ns)
                .cmp(&(a.total_ns, a.spin_ns))
                .then_with(|| a.keys.cmp(&b.keys))
        });
        let locks_total = locks.len();
        if top > 0 {
            locks.truncate(top);
        }
        let hosts = self.host_summaries(&standout_hosts);
        let mut builds: Vec<String> = hosts.iter().map(|host| host.build.clone()).collect();
        builds.sort();
        builds.dedup();
        Fleet {
            dataset_version: crate::dataset::VERSION,
            builds,
            fleet,
            hosts,
            locks,
            locks_total,
            by: self.by,
        }
    }

    /// A figure of each host that has it, by host index.
    fn shares(&self, figure: impl Fn(&HostRun) -> Option<f64>) -> Vec<(u32, f64)> {
        self.hosts
            .iter()
            .enumerate()
            .filter_map(|(index, (run, _))| Some((index as u32, figure(run)?)))
            .collect()
    }

    fn fleet_lock(&self, keys: KeyIds, sum: &LockSum, totals: &RunTotals) -> FleetLock {
        // Every host with Running counts: 0 where the lock is not waited on.
        let mut shares: Vec<(u32, f64)> = self.shares(|run| run.totals.running_ns.map(|_| 0.0));
        for (&index, &spin_ns) in sum.spun_on.iter().zip(&sum.spin_ns) {
            let running = self.hosts[index as usize].0.totals.running_ns;
            // Both lists are in host order: a binary search finds the slot.
            if let (Some(share), Ok(slot)) = (
                ratio(spin_ns, running),
                shares.binary_search_by_key(&index, |(at, _)| *at),
            ) {
                shares[slot].1 = share;
            }
        }
        let standing_out = standouts(&shares);
        let percentiles = sum.figures.waits.as_ref().and_then(Histogram::percentiles);
        FleetLock {
            keys: self.names.values(keys),
            class: sum.figures.class,
            total_ns: sum.figures.total_ns,
            spin_ns: sum.figures.spin_ns,
            rows: sum.figures.rows,
            events: sum.figures.events,
            max_ns: sum.figures.max_ns,
            hosts_seen: sum.hosts_seen,
            hosts_in_top5: sum.in_top5,
            top5_share: sum.in_top5 as f64 / self.hosts.len().max(1) as f64,
            spin_share: spread(&shares),
            fleet_spin_share: ratio(sum.figures.spin_ns, totals.running_ns),
            p50_ns: percentiles.map(|p| p.p50_ns),
            p90_ns: percentiles.map(|p| p.p90_ns),
            p99_ns: percentiles.map(|p| p.p99_ns),
            standouts: {
                let mut named = self.named(&standing_out);
                named.truncate(STANDOUTS_KEPT);
                named
            },
            standouts_total: standing_out.len(),
        }
    }

    /// The hosts of these shares, highest share first, then by name (so
    /// that the order the hosts were read in does not show).
    fn named(&self, shares: &[(u32, f64)]) -> Vec<HostShare> {
        let mut named: Vec<HostShare> = shares
            .iter()
            .map(|&(index, share)| {
                let partition = &self.hosts[index as usize].0.partition;
                HostShare {
                    host: partition.host.clone(),
                    build: partition.build.clone(),
                    spin_share: share,
                }
            })
            .collect();
        named.sort_by(|a, b| {
            b.spin_share
                .total_cmp(&a.spin_share)
                .then_with(|| (&a.host, &a.build).cmp(&(&b.host, &b.build)))
        });
        named
    }

    fn host_summaries(&self, standing_out: &[(u32, f64)]) -> Vec<HostSummary> {
        let mut hosts: Vec<HostSummary> = self
            .hosts
            .iter()
            .enumerate()
            .map(|(index, (run, top))| HostSummary {
                host: run.partition.host.clone(),
                build: run.partition.build.clone(),
                parts: run.parts,
                figures: TimeFigures::of(&run.totals, run.samples),
                top_lock: top.as_ref().map(|(keys, _)| self.names.values(*keys)),
                top_lock_total_ns: top.as_ref().and_then(|(_, total)| *total),
                standout: standing_out.iter().any(|(at, _)| *at == index as u32),
            })
            .collect();
        hosts.sort_by(|a, b| (&a.host, &a.build).cmp(&(&b.host, &b.build)));
        hosts
    }
}

impl LockSum {
    fn of(host: u32, lock: LockFigures, in_top5: bool) -> Self {
        let mut sum = LockSum {
            figures: LockFigures {
                total_ns: None,
                spin_ns: 0,
                rows: 0,
                events: Some(0),
                max_ns: None,
                waits: None,
                class: lock.class,
            },
            in_top5: 0,
            hosts_seen: 0,
            spun_on: Vec::new(),
            spin_ns: Vec::new(),
        };
        sum.add(host, lock, in_top5);
        sum
    }

    fn add(&mut self, host: u32, lock: LockFigures, in_top5: bool) {
        if lock.spin_ns > 0 {
            self.spun_on.push(host);
            self.spin_ns.push(lock.spin_ns);
        }
        self.figures.merge(lock);
        self.in_top5 += usize::from(in_top5);
        self.hosts_seen += 1;
    }
}

/// A host's locks by most wait first (count() maps' untimed ones last),
/// then most spin.
fn by_wait(a: &LockFigures, b: &LockFigures) -> std::cmp::Ordering {
    (b.total_ns, b.spin_ns).cmp(&(a.total_ns, a.spin_ns))
}

/// A sum where either part may be unknown: known if one of them is.
fn add_known(sum: Option<u64>, part: Option<u64>) -> Option<u64> {
    match (sum, part) {
        (None, part) => part,
        (sum, None) => sum,
        (Some(sum), Some(part)) => Some(sum.saturating_add(part)),
    }
}

fn ratio(part: u64, whole: Option<u64>) -> Option<f64> {
    whole
        .filter(|&whole| whole > 0)
        .map(|whole| part as f64 / whole as f64)
}

/// The median and 90th percentile of the values.
fn spread(values: &[(u32, f64)]) -> Spread {
    let mut sorted: Vec<f64> = values.iter().map(|(_, value)| *value).collect();
    sorted.sort_by(f64::total_cmp);
    Spread {
        hosts: sorted.len(),
        median: percentile_cont(&sorted, 0.5),
        p90: percentile_cont(&sorted, 0.9),
    }
}

/// The `fraction` percentile of sorted values, interpolated linearly
/// between the two nearest (SQL's `PERCENTILE_CONT`).
pub fn percentile_cont(sorted: &[f64], fraction: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let position = fraction * last as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let weight = position - below as f64;
    Some(sorted[below] + (sorted[above] - sorted[below]) * weight)
}

/// The hosts far above the rest (Tukey's far-out values: above the third
/// quartile by three times the interquartile range, and above the
/// median).
fn standouts(values: &[(u32, f64)]) -> Vec<(u32, f64)> {
    let mut sorted: Vec<f64> = values.iter().map(|(_, value)| *value).collect();
    sorted.sort_by(f64::total_cmp);
    let (Some(q1), Some(median), Some(q3)) = (
        percentile_cont(&sorted, 0.25),
        percentile_cont(&sorted, 0.5),
        percentile_cont(&sorted, 0.75),
    ) else {
        return Vec::new();
    };
    let fence = q3 + 3.0 * (q3 - q1);
    values
        .iter()
        .copied()
        .filter(|&(_, value)| value > fence && value > median)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PERCENTILE_CONT from its definition: the value at rank
    /// 1 + p * (n - 1) of the ordered values, interpolated.
    fn by_definition(values: &[f64], p: f64) -> f64 {
        let mut ordered = values.to_vec();
        ordered.sort_by(f64::total_cmp);
        let rank = 1.0 + p * (ordered.len() as f64 - 1.0);
        let low = rank.floor();
        let high = rank.ceil();
        let at = |r: f64| ordered[r as usize - 1];
        at(low) + (rank - low) * (at(high) - at(low))
    }

    #[test]
    fn percentiles_over_hosts_are_sqls() {
        let values = [0.31, 0.05, 0.65, 0.12, 0.4, 0.4, 0.9];
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        for p in [0.0, 0.25, 0.5, 0.75, 0.9, 1.0] {
            let got = percentile_cont(&sorted, p).unwrap();
            assert!((got - by_definition(&values, p)).abs() < 1e-12, "{p}");
        }
        // Seven hosts: the median is the fourth, the 90th percentile
        // 0.4 of the way from the sixth (0.65) to the seventh (0.9).
        assert_eq!(percentile_cont(&sorted, 0.5), Some(0.4));
        assert!((percentile_cont(&sorted, 0.9).unwrap() - 0.75).abs() < 1e-12);
        assert_eq!(percentile_cont(&[], 0.5), None);
        assert_eq!(percentile_cont(&[0.2], 0.9), Some(0.2));
    }

    #[test]
    fn only_far_out_hosts_stand_out() {
        // Nine hosts near 0.2, one at 0.9: quartiles 0.2 and 0.21, fence
        // 0.24.
        let mut values: Vec<(u32, f64)> =
            (0..9).map(|i| (i, 0.2 + 0.01 * f64::from(i % 2))).collect();
        values.push((9, 0.9));
        assert_eq!(standouts(&values), vec![(9, 0.9)]);
        // Spread evenly, none does.
        let even: Vec<(u32, f64)> = (0..10).map(|i| (i, f64::from(i) / 10.0)).collect();
        assert!(standouts(&even).is_empty());
    }

    /// A lock of category `kernel` and caller `f`, by its symbol.
    type Named = (&'static str, LockClass, u64);

    /// Adds host `host` with `running` ns of Running and these locks.
    fn add(builder: &mut FleetBuilder, host: &str, running: u64, locks: &[Named]) {
        let names = builder.names_mut();
        let locks: Vec<HostLock> = locks
            .iter()
            .map(|&(symbol, class, ns)| HostLock {
                keys: [names.id("kernel"), names.id(symbol), names.id("f")],
                figures: LockFigures {
                    class,
                    total_ns: Some(ns),
                    spin_ns: if class == LockClass::Spin { ns } else { 0 },
                    rows: 1,
                    events: Some(1),
                    max_ns: Some(ns),
                    waits: Some(Histogram::of(ns)),
                },
            })
            .collect();
        let spin: u64 = locks.iter().map(|lock| lock.figures.spin_ns).sum();
        let mut totals = RunTotals::default();
        totals.add_sample(SampleTimes {
            running_ns: Some(running),
            spin_ns: spin,
            ..SampleTimes::default()
        });
        builder.add(HostRun {
            partition: Partition {
                host: host.into(),
                build: "b".into(),
            },
            parts: 1,
            samples: 1,
            totals,
            locks,
        });
    }

    #[test]
    fn a_lock_spreads_over_the_hosts_with_zeros_where_absent() {
        let mut builder = FleetBuilder::new(&GroupKey::ALL);
        add(
            &mut builder,
            "a",
            1000,
            &[("kernel_lock", LockClass::Spin, 600)],
        );
        add(
            &mut builder,
            "b",
            1000,
            &[("kernel_lock", LockClass::Spin, 200)],
        );
        add(
            &mut builder,
            "c",
            2000,
            &[("sched_lock", LockClass::Spin, 100)],
        );
        let fleet = builder.finish(0);
        assert_eq!(fleet.fleet.hosts, 3);
        assert_eq!(fleet.fleet.figures.spin_ns, 900);
        assert_eq!(fleet.fleet.figures.spin_share, Some(900.0 / 4000.0));
        let kernel_lock = &fleet.locks[0];
        assert_eq!(kernel_lock.keys.symbol.as_deref(), Some("kernel_lock"));
        assert_eq!(kernel_lock.total_ns, Some(800));
        assert_eq!(kernel_lock.hosts_seen, 2);
        assert_eq!(kernel_lock.hosts_in_top5, 2);
        // Shares 0.6, 0.2 and 0 (host c): median 0.2, p90 0.52.
        assert_eq!(kernel_lock.spin_share.median, Some(0.2));
        assert!((kernel_lock.spin_share.p90.unwrap() - 0.52).abs() < 1e-12);
        assert_eq!(kernel_lock.fleet_spin_share, Some(0.2));
        // Merged single waits: 200 and 600, the median the first.
        assert_eq!(kernel_lock.p50_ns, Some(200));
        assert_eq!(kernel_lock.p99_ns, Some(600));
        let top = fleet.hosts[2].top_lock.as_ref().unwrap();
        assert_eq!(top.symbol.as_deref(), Some("sched_lock"));
    }

    #[test]
    fn the_order_of_hosts_does_not_change_the_fleet() {
        let hosts: [(&str, u64, &[Named]); 3] = [
            (
                "a",
                1000,
                &[
                    ("kernel_lock", LockClass::Spin, 600),
                    ("vfs", LockClass::Sleep, 50),
                ],
            ),
            ("b", 3000, &[("kernel_lock", LockClass::Spin, 200)]),
            (
                "c",
                2000,
                &[
                    ("sched_lock", LockClass::Spin, 100),
                    ("vfs", LockClass::Sleep, 50),
                ],
            ),
        ];
        let json = |order: [usize; 3]| {
            let mut builder = FleetBuilder::new(&[GroupKey::Symbol]);
            for at in order {
                let (host, running, locks) = hosts[at];
                add(&mut builder, host, running, locks);
            }
            serde_json::to_string(&builder.finish(0)).unwrap()
        };
        assert_eq!(json([0, 1, 2]), json([2, 0, 1]));
        assert_eq!(json([0, 1, 2]), json([1, 2, 0]));
    }
}
