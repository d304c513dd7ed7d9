//! The ranking: lock time grouped at the `--by` level, with shares, as a
//! typed fold over the facts' keys (already one record per distinct key):
//! one hash map keyed by the `--by` projection, one sort, checked sums.

use std::cmp::Ordering;

use super::AnalysisOptions;
use super::classes::LockClass;
use super::model::{Group, GroupKey, KeyValues, SortKey};
use hashbrown::HashTable;

use crate::facts::strings::Strings;
use crate::facts::{InputFacts, KeyIds, NO_KEY};
use crate::hashing::{InputMap, find_position, input_hash, position_or_push};
use crate::vocabulary::KEY_PARTS;

/// The key strings of the inputs, each once, by a global id: groups of
/// several inputs meet by text. The first input's ids are global ids as
/// they are, so one input costs nothing more than its own strings.
#[derive(Debug, Default)]
pub struct KeyNames<'a> {
    /// The first input's strings: ids below its length.
    first: Option<&'a Strings>,
    /// The strings of later inputs that the first lacks, from the first's
    /// length on.
    more: Vec<&'a str>,
    /// Per later input, the global id of each of its strings.
    ids: Vec<Vec<u32>>,
}

impl<'a> KeyNames<'a> {
    /// The strings of these inputs.
    pub fn of(inputs: &'a [InputFacts]) -> Self {
        let Some((first, later)) = inputs.split_first() else {
            return KeyNames::default();
        };
        let mut names = KeyNames {
            first: Some(&first.strings),
            ..KeyNames::default()
        };
        if later.is_empty() {
            return names;
        }
        // Global ids by their texts' hashes: 4 bytes an entry.
        let mut index: HashTable<u32> = HashTable::new();
        let rehash = |names: &KeyNames<'a>, id: u32| input_hash(names.name(id));
        for id in 0..first.strings.len() as u32 {
            let hash = rehash(&names, id);
            index.insert_unique(hash, id, |&id| rehash(&names, id));
        }
        for input in later {
            let own = input
                .strings
                .iter()
                .map(|text| names.global_id(&mut index, text))
                .collect();
            names.ids.push(own);
        }
        names
    }

    /// The global id of `text`, a new one if no input before had it.
    fn global_id(&mut self, index: &mut HashTable<u32>, text: &'a str) -> u32 {
        let hash = input_hash(text);
        if let Some(&id) = index.find(hash, |&id| self.name(id) == text) {
            return id;
        }
        let id = (self.first_len() + self.more.len()) as u32;
        self.more.push(text);
        let names = &*self;
        index.insert_unique(hash, id, |&id| input_hash(names.name(id)));
        id
    }

    fn first_len(&self) -> usize {
        self.first.map_or(0, Strings::len)
    }

    fn name(&self, id: u32) -> &'a str {
        match self.first {
            Some(first) if (id as usize) < first.len() => first.get(id),
            _ => self.more[id as usize - self.first_len()],
        }
    }

    /// The global ids of an input's key ids, at the positions `kept`
    /// (NO_KEY elsewhere).
    fn global(&self, input: usize, ids: KeyIds, kept: [bool; KEY_PARTS]) -> KeyIds {
        let own = input.checked_sub(1).map(|later| &self.ids[later]);
        std::array::from_fn(|at| match own {
            _ if !kept[at] || ids[at] == NO_KEY => NO_KEY,
            Some(own) => own[ids[at] as usize],
            None => ids[at],
        })
    }
}

/// One group's sums over its keys, in every input ranked.
#[derive(Debug, Clone)]
struct GroupSum {
    keys: KeyIds,
    total_ns: u64,
    rows: u64,
    max_ns: u64,
    /// Some key's number of events is unknown.
    uncounted: bool,
    /// Some key is a `count()` map's: events counted with no time.
    counts_only: bool,
    /// The class of its first key, and whether another key has another.
    class: LockClass,
    mixed: bool,
    spin_ns: u64,
    sleep_ns: u64,
    samples_seen: u32,
}

impl GroupSum {
    fn keys(&self) -> &KeyIds {
        &self.keys
    }

    fn add(&mut self, total_ns: u64, rows: u64, max_ns: u64, uncounted: bool, class: LockClass) {
        // check_sums refused inputs whose waits or rows pass 2^64.
        self.total_ns = self.total_ns.saturating_add(total_ns);
        self.rows = self.rows.saturating_add(rows);
        self.max_ns = self.max_ns.max(max_ns);
        self.uncounted |= uncounted;
        self.mixed |= class != self.class;
        match class {
            LockClass::Spin => self.spin_ns = self.spin_ns.saturating_add(total_ns),
            LockClass::Sleep => self.sleep_ns = self.sleep_ns.saturating_add(total_ns),
            _ => {}
        }
    }

    /// Spinning groups first, then sleeping ones, then the rest; and the
    /// time that orders each tier.
    fn tier(&self) -> (u8, u64) {
        if self.spin_ns > 0 {
            (0, self.spin_ns)
        } else if self.sleep_ns > 0 {
            (1, self.sleep_ns)
        } else {
            (2, self.total_ns)
        }
    }

    /// The mean per sample seen, as the sort by `mean` reads it.
    fn mean(&self) -> f64 {
        self.total_ns as f64 / f64::from(self.samples_seen)
    }
}

/// The groups at the `--by` level of the inputs at `ranked` (indices
/// into `inputs`), sorted by `--sort` (largest first, then by events, then
/// by key); the first `--top` are shown. The inputs must have been read
/// grouped by `--by`.
pub fn rank(
    inputs: &[InputFacts],
    ranked: &[usize],
    names: &KeyNames<'_>,
    options: &AnalysisOptions,
    time: StateTime,
) -> Ranking {
    let AnalysisOptions {
        classes,
        by,
        sort,
        top,
        ..
    } = options;
    let kept = crate::facts::kept_keys(by);
    // Slots of `sums` by their keys' hashes: 4 bytes an entry.
    let mut slots: HashTable<u32> = HashTable::new();
    let mut sums: Vec<GroupSum> = Vec::new();
    for &index in ranked {
        let input = &inputs[index];
        let mut class_of: InputMap<u32, LockClass> = InputMap::default();
        for key in &input.keys {
            let class = *class_of
                .entry(key.category)
                .or_insert_with(|| classes.class_in(input.format, input.key(key.category)));
            let keys = names.global(index, key.ids(), kept);
            let at = slot_of(&mut slots, &mut sums, keys, class);
            sums[at].add(key.total_ns, key.rows, key.max_ns, key.uncounted, class);
            // Only a count() map's keys fold events without a time.
            sums[at].counts_only |= input.stats.counted_events > 0 && key.total_ns == 0;
        }
        // An input's samples are its own: a group's add up over inputs.
        for (ids, seen) in input.group_samples() {
            let keys = names.global(index, ids, kept);
            if let Some(at) = find_position(&slots, &sums, &keys, GroupSum::keys) {
                let sum = &mut sums[at as usize];
                sum.samples_seen = sum.samples_seen.saturating_add(seen);
            }
        }
    }
    // Unstable, without a copy's worth of scratch: no two groups are
    // equal in this order, since their keys differ.
    sums.sort_unstable_by(|a, b| order(a, b, *sort, by, names));
    let all_ns = sums
        .iter()
        .fold(0u64, |all, sum| all.saturating_add(sum.total_ns));
    let shown = if *top == 0 {
        sums.len()
    } else {
        sums.len().min(*top)
    };
    Ranking {
        sums,
        shown,
        all_ns,
        time,
    }
}

/// Groups ranked: their sums in order, and what their shares are of.
#[derive(Debug)]
pub struct Ranking {
    sums: Vec<GroupSum>,
    /// How many are shown (`--top`).
    shown: usize,
    /// All lock time of the groups, shown or not.
    all_ns: u64,
    time: StateTime,
}

impl Ranking {
    /// The number of groups before the `--top` cut.
    pub fn len(&self) -> usize {
        self.sums.len()
    }

    /// Whether no group was ranked.
    pub fn is_empty(&self) -> bool {
        self.sums.is_empty()
    }

    /// The groups shown, as [`Group`]s, at most `size` at a time, in order:
    /// a million groups are not all made at once.
    pub fn pages<'r>(
        &'r self,
        names: &'r KeyNames<'_>,
        by: &'r [GroupKey],
        size: usize,
    ) -> impl Iterator<Item = Vec<Group>> + 'r {
        self.sums[..self.shown]
            .chunks(size.max(1))
            .scan(0.0, move |cumulative, sums| {
                Some(groups_of(sums, names, by, self, cumulative))
            })
    }

    /// Every group shown, at once.
    pub fn groups(&self, names: &KeyNames<'_>, by: &[GroupKey]) -> Vec<Group> {
        self.pages(names, by, usize::MAX).flatten().collect()
    }
}

/// The slot in `sums` of the group with these keys, a new one of `class`
/// if none.
fn slot_of(
    slots: &mut HashTable<u32>,
    sums: &mut Vec<GroupSum>,
    keys: KeyIds,
    class: LockClass,
) -> usize {
    let at = position_or_push(slots, sums, &keys, GroupSum::keys, || GroupSum {
        keys,
        total_ns: 0,
        rows: 0,
        max_ns: 0,
        uncounted: false,
        counts_only: false,
        class,
        mixed: false,
        spin_ns: 0,
        sleep_ns: 0,
        samples_seen: 0,
    });
    at as usize
}

/// The ranking's order: by `sort`, largest first; ties by events, then
/// by the `--by` keys' names.
fn order(
    a: &GroupSum,
    b: &GroupSum,
    sort: SortKey,
    by: &[GroupKey],
    names: &KeyNames<'_>,
) -> Ordering {
    let first = match sort {
        SortKey::Running => {
            let ((a_tier, a_ns), (b_tier, b_ns)) = (a.tier(), b.tier());
            a_tier.cmp(&b_tier).then(b_ns.cmp(&a_ns))
        }
        SortKey::Total => b.total_ns.cmp(&a.total_ns),
        SortKey::Rows => b.rows.cmp(&a.rows),
        SortKey::Max => b.max_ns.cmp(&a.max_ns),
        SortKey::Mean => b.mean().total_cmp(&a.mean()),
    };
    first.then(b.rows.cmp(&a.rows)).then_with(|| {
        by.iter()
            .map(|key| {
                let at = key.position();
                names.name(a.keys[at]).cmp(names.name(b.keys[at]))
            })
            .find(|order| order.is_ne())
            .unwrap_or(Ordering::Equal)
    })
}

/// Ranked sums as groups, with their shares; `cumulative` is the share
/// of the groups before them, and is carried on.
fn groups_of(
    sums: &[GroupSum],
    names: &KeyNames<'_>,
    by: &[GroupKey],
    ranking: &Ranking,
    cumulative: &mut f64,
) -> Vec<Group> {
    let Ranking { all_ns, time, .. } = *ranking;
    sums.iter()
        .map(|sum| {
            let share_of_lock_time = (all_ns > 0).then(|| sum.total_ns as f64 / all_ns as f64);
            let cumulative_share = share_of_lock_time.map(|share| {
                *cumulative += share;
                *cumulative
            });
            let key = |key: GroupKey| {
                by.contains(&key)
                    .then(|| names.name(sum.keys[key.position()]).to_string())
            };
            let events = (!sum.uncounted).then_some(sum.rows);
            // A count() map's events have no time: 0 ns would read as one.
            let timed = !(sum.counts_only && sum.total_ns == 0);
            let timed_ns = |ns: u64| timed.then_some(ns);
            Group {
                input: None,
                input_index: None,
                keys: KeyValues {
                    category: key(GroupKey::Category),
                    symbol: key(GroupKey::Symbol),
                    caller: key(GroupKey::Caller),
                    holder: key(GroupKey::Holder),
                },
                class: if sum.mixed {
                    LockClass::Mixed
                } else {
                    sum.class
                },
                total_ns: timed_ns(sum.total_ns),
                rows: sum.rows,
                samples_seen: sum.samples_seen,
                // In integers: past 2^53 ns a float's mean is off.
                mean_ns: timed_ns(rounded_mean(
                    sum.total_ns.into(),
                    u64::from(sum.samples_seen),
                )),
                max_ns: timed_ns(sum.max_ns),
                share_of_lock_time,
                share_of_running: share_of(sum.spin_ns, time.running_ns),
                share_of_off_cpu: share_of(sum.sleep_ns, time.off_cpu_ns),
                cumulative_share,
                events,
                mean_per_event_ns: mean_per_event(sum.total_ns, events),
                p50_ns: None,
                p90_ns: None,
                p99_ns: None,
                histogram: None,
                holders: None,
            }
        })
        .collect()
}

/// Total over events, where both are known: a count() map's events have
/// no times.
fn mean_per_event(total_ns: u64, events: Option<u64>) -> Option<u64> {
    match events {
        Some(events) if events > 0 && total_ns > 0 => Some(rounded_mean(total_ns.into(), events)),
        _ => None,
    }
}

/// `total / count` rounded half up, in integers (a float's mean past
/// 2^53 is off); 0 for a count of 0. A mean of 64-bit values fits 64
/// bits; a larger quotient saturates.
pub fn rounded_mean(total: u128, count: u64) -> u64 {
    if count == 0 {
        return 0;
    }
    let count = u128::from(count);
    u64::try_from((total + count / 2) / count).unwrap_or(u64::MAX)
}

/// Running and off-CPU time of what a ranking covers, the wholes of its
/// shares (None without thread states).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateTime {
    /// On-CPU time.
    pub running_ns: Option<u64>,
    /// Off-CPU time.
    pub off_cpu_ns: Option<u64>,
}

/// A part of a group over a state's time; None for groups without that
/// part, or when the state's time is unknown.
fn share_of(part: u64, whole: Option<u64>) -> Option<f64> {
    match whole {
        Some(whole) if whole > 0 && part > 0 => Some(part as f64 / whole as f64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{FactsBuilder, Fold};
    use crate::parse::{InputFormat, ParseStats, Row, Sink};

    /// An input of one sample per list of (dur, category, symbol, caller).
    fn input(label: &str, samples: &[&[(u64, &str, &str, &str)]], by: &[GroupKey]) -> InputFacts {
        let fold = Fold {
            by: by.to_vec(),
            ..Fold::default()
        };
        let mut builder = FactsBuilder::new(label, &fold);
        for rows in samples {
            builder.sample(Vec::new()).unwrap();
            for &(dur_ns, category, symbol, caller) in *rows {
                let row = Row {
                    dur_ns,
                    category,
                    symbol,
                    caller,
                    ..Row::new(1)
                };
                builder.row(&row.with_max()).unwrap();
            }
        }
        let mut facts = builder.finish(ParseStats::default());
        facts.format = InputFormat::Table;
        facts
    }

    #[test]
    fn groups_sum_over_inputs_and_rank_with_ties_by_events_then_name() {
        let by = [GroupKey::Symbol];
        let inputs = [
            input(
                "a",
                &[
                    &[(30, "mutex", "sched_lock", "f"), (10, "rwlock", "vm", "g")],
                    &[(30, "kernel", "kernel_lock", "f")],
                ],
                &by,
            ),
            input(
                "b",
                &[&[(20, "rwlock", "sched_lock", "h"), (10, "rwlock", "vm", "g")]],
                &by,
            ),
        ];
        let names = KeyNames::of(&inputs);
        let options = AnalysisOptions {
            by: by.to_vec(),
            top: 0,
            ..AnalysisOptions::default()
        };
        let time = StateTime {
            running_ns: Some(100),
            off_cpu_ns: None,
        };
        let ranking = rank(&inputs, &[0, 1], &names, &options, time);
        let (groups, count) = (ranking.groups(&names, &options.by), ranking.len());
        assert_eq!(count, 3);
        let shown: Vec<(&str, Option<u64>, u64, u32, LockClass)> = groups
            .iter()
            .map(|g| {
                let symbol = g.keys.symbol.as_deref().unwrap();
                (symbol, g.total_ns, g.rows, g.samples_seen, g.class)
            })
            .collect();
        // sched_lock: 30 spin in a, 20 sleep in b: one group of two
        // classes, seen in a sample of each input.
        assert_eq!(
            shown,
            [
                ("sched_lock", Some(50), 2, 2, LockClass::Mixed),
                ("kernel_lock", Some(30), 1, 1, LockClass::Spin),
                ("vm", Some(20), 2, 2, LockClass::Sleep),
            ]
        );
        let shares: Vec<Option<f64>> = groups.iter().map(|g| g.share_of_lock_time).collect();
        assert_eq!(shares, [Some(0.5), Some(0.3), Some(0.2)]);
        assert_eq!(groups[2].cumulative_share, Some(1.0));
        // Only spin time is a share of Running.
        assert_eq!(groups[0].share_of_running, Some(0.3));
        assert_eq!(groups[2].share_of_running, None);
        // By Running: the spinning groups first, by their spin (30 each:
        // then by events, 2 against 1).
        let by_running = AnalysisOptions {
            sort: SortKey::Running,
            ..options.clone()
        };
        let groups =
            rank(&inputs, &[0, 1], &names, &by_running, time).groups(&names, &by_running.by);
        let order: Vec<&str> = groups
            .iter()
            .map(|g| g.keys.symbol.as_deref().unwrap())
            .collect();
        assert_eq!(order, ["sched_lock", "kernel_lock", "vm"]);
        // Equal totals and events: by name.
        let tied = [input(
            "t",
            &[&[(5, "mutex", "b", "x"), (5, "mutex", "a", "y")]],
            &by,
        )];
        let names = KeyNames::of(&tied);
        let groups = rank(&tied, &[0], &names, &options, time).groups(&names, &options.by);
        let order: Vec<&str> = groups
            .iter()
            .map(|g| g.keys.symbol.as_deref().unwrap())
            .collect();
        assert_eq!(order, ["a", "b"]);
    }
}
