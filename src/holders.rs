//! Who held a lock while an input's thread waited on it: the shares of its
//! waits by holder and by what the holder was doing, as a capture records
//! them (see `parse::fxt::holders` for how they are worked out). Plain
//! data for the engine's JSON and the report's "Who held it" section.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::distribution::Histogram;
use crate::vocabulary::UNKNOWN_HOLDER;

/// A thread as a capture names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct HolderThread {
    /// Its name (a user thread's is its process's), or `tid N`.
    pub thread: String,
    /// Its id (the koid Perfetto shows as tid).
    pub tid: u64,
    /// Its process's id, when the capture gives one (user threads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u64>,
    /// Its process's name, when the capture gives one (user threads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
}

/// What a holder was doing while it held the lock.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Doing {
    /// Not known: no holder, or nothing seen of it.
    Unknown,
    /// On a CPU, inside a slice (category and name: `syscall`, `mmap`),
    /// or in none.
    Running(Option<[String; 2]>),
    /// Off the CPU while holding, in this state (`Stopped`, `Runnable`).
    OffCpu(String),
    /// Itself waiting on another lock (its symbol), held then by a thread
    /// when one is known: a chain.
    Waiting(String, Option<HolderThread>),
    /// In this call stack, innermost frame first, whether on a CPU or not
    /// (perf lock `-o -v` prints the lock owners' stacks).
    InStack(Vec<String>),
}

impl Doing {
    /// The JSON `holding_state`: `running`, `off_cpu`, `waiting`, `unknown`.
    pub fn state(&self) -> &'static str {
        match self {
            Doing::Unknown => "unknown",
            Doing::Running(_) => "running",
            Doing::OffCpu(_) => "off_cpu",
            Doing::Waiting(..) => "waiting",
            Doing::InStack(_) => "unknown",
        }
    }

    /// The call stack it names, innermost frame first (empty for the
    /// others).
    pub fn stack(&self) -> &[String] {
        match self {
            Doing::InStack(frames) => frames,
            _ => &[],
        }
    }

    /// In words, for the terminal: `running in syscall mmap`, `off-CPU
    /// (Stopped) while holding`, `waiting on uvm held by make (tid 5)`.
    pub fn describe(&self) -> String {
        match self {
            Doing::Unknown => "not known".into(),
            Doing::Running(None) => "running".into(),
            Doing::Running(Some([category, name])) => format!("running in {category} {name}"),
            Doing::OffCpu(state) => format!("off-CPU ({state}) while holding"),
            Doing::Waiting(lock, None) => format!("waiting on {lock}"),
            Doing::Waiting(lock, Some(holder)) => {
                format!("waiting on {lock} held by {}", holder.describe())
            }
            Doing::InStack(frames) => {
                let shown: Vec<&str> = frames.iter().take(3).map(String::as_str).collect();
                let more = if frames.len() > 3 { " < ..." } else { "" };
                format!("in {}{more}", shown.join(" < "))
            }
        }
    }
}

/// A holder's name without the ids [`HolderThread::describe`] gives it:
/// `make (tid 100123, pid 23)` is `make`.
pub fn name_of_holder(text: &str) -> &str {
    match text.rfind(" (tid ") {
        Some(at) if text.ends_with(')') => &text[..at],
        _ => text,
    }
}

/// A row's holder as a key's holder part: `unknown` where the input
/// names none.
pub fn holder_or_unknown(holder: &str) -> &str {
    if holder.is_empty() {
        UNKNOWN_HOLDER
    } else {
        holder
    }
}

/// The holder a share names as a key's holder part: its thread, or
/// `unknown`.
pub fn holder_key(holder: Option<&HolderThread>) -> String {
    holder.map_or_else(|| UNKNOWN_HOLDER.to_string(), HolderThread::describe)
}

impl HolderThread {
    /// `make (tid 100123, pid 23)`; a holder's text as a key's part.
    pub fn describe(&self) -> String {
        match self.pid {
            Some(pid) => format!("{} (tid {}, pid {pid})", self.thread, self.tid),
            None => format!("{} (tid {})", self.thread, self.tid),
        }
    }
}

/// How a hold's ends were seen in the capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum HoldEdge {
    /// Taken and released within it.
    #[default]
    Whole,
    /// Released, taken before the capture began.
    BegunBefore,
    /// Taken, not released before the capture ended.
    OpenAtEnd,
}

/// A share of an input's lock waits: on one key, caused by one holder
/// doing one thing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolderShare {
    /// The wait's key: lock type, symbol, the waiter's caller.
    pub lock: [String; 3],
    /// The holder; None: nobody known held the lock meanwhile.
    pub holder: Option<HolderThread>,
    /// Where the holder took the lock (its acquisition's caller), when
    /// known.
    pub taken_in: String,
    /// How the hold's ends were seen.
    pub edge: HoldEdge,
    /// What the holder was doing.
    pub doing: Doing,
    /// Nanoseconds of waiting.
    pub ns: u64,
}

/// Whether an input can tell holders, and the shares it gives.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Holders {
    /// Its format records no holders (tables, maps).
    #[default]
    NotRecorded,
    /// What its capture tells.
    Known(HolderFacts),
}

/// What a capture tells of the holders of one thread's locks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HolderFacts {
    /// Shares of its waits, largest first.
    pub shares: Vec<HolderShare>,
    /// Lock types waited on whose releases the capture never records:
    /// their waits' holders are unknown, not guessed.
    pub releases_unrecorded: Vec<String>,
    /// Locks held by more threads at once than a wait is split over: those
    /// stretches' holders are unknown.
    pub crowded: Vec<String>,
    /// How long each holder held each lock (type and symbol) the thread
    /// waited on, over the whole capture, like `lockstat -H`.
    pub holds: Vec<HoldTimes>,
}

/// One holder's holds of one lock: complete ones (taken and released in
/// the capture), as `lockstat -H` counts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldTimes {
    /// Lock type.
    pub category: String,
    /// The lock.
    pub symbol: String,
    /// The holder.
    pub holder: HolderThread,
    /// How the holds spread (count, percentiles).
    pub histogram: Histogram,
    /// Their total, ns.
    pub total_ns: u64,
    /// The longest, ns.
    pub max_ns: u64,
}

/// A holder's hold times in the JSON: `lockstat -H`'s figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HoldFigures {
    /// Holds taken and released in the capture.
    pub count: u64,
    /// Their total, ns.
    pub total_ns: u64,
    /// The longest, ns.
    pub max_ns: u64,
    /// Median hold, ns (within 3.2 %, as wait percentiles).
    pub p50_ns: Option<u64>,
    /// 90th percentile.
    pub p90_ns: Option<u64>,
    /// 99th percentile.
    pub p99_ns: Option<u64>,
}

impl HoldFigures {
    /// The figures of a holder's holds.
    pub fn of(times: &HoldTimes) -> Self {
        let percentiles = times.histogram.percentiles();
        HoldFigures {
            count: times.histogram.count(),
            total_ns: times.total_ns,
            max_ns: times.max_ns,
            p50_ns: percentiles.map(|p| p.p50_ns),
            p90_ns: percentiles.map(|p| p.p90_ns),
            p99_ns: percentiles.map(|p| p.p99_ns),
        }
    }
}

/// A holder's shares of the waits on one lock (its type and symbol),
/// summed over callers and doings, for a ranking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HolderSummary {
    /// Lock type.
    pub category: String,
    /// The lock.
    pub symbol: String,
    /// The holder; absent: not known.
    #[serde(flatten)]
    pub holder: Option<HolderThread>,
    /// Wait caused, ns.
    pub wait_ns: u64,
    /// What the holder did for most of that wait: `running`, `off_cpu`,
    /// `waiting`, `unknown`.
    pub holding_state: &'static str,
    /// That doing in words.
    pub doing: String,
    /// Wait caused while the holder was off the CPU, ns.
    pub off_cpu_ns: u64,
    /// Where the holder took the lock most of that time.
    pub taken_in: String,
    /// Some of the holds began before the capture or were open at its end.
    pub partial: bool,
    /// The wait by what the holder was doing, largest first.
    pub doings: Vec<DoingShare>,
    /// How long the holder held the lock over the whole capture (its
    /// complete holds); absent where not known (perf lock owners).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holds: Option<HoldFigures>,
}

/// A part of a holder's wait by what it was doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoingShare {
    /// `running`, `off_cpu`, `waiting`, `unknown`.
    pub holding_state: &'static str,
    /// In words (a chain names the other lock and its holder).
    pub doing: String,
    /// Wait caused meanwhile, ns.
    pub wait_ns: u64,
    /// The holder's call stack meanwhile, innermost frame first, where the
    /// input gives it (perf lock `-o -v`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stack: Vec<String>,
}

/// Hold times by lock (type, symbol) and holder.
pub type HoldIndex<'a> = BTreeMap<(&'a str, &'a str, &'a HolderThread), &'a HoldTimes>;

/// Indexes hold times; the first of a lock and holder stands.
pub fn index_holds<'a>(holds: impl IntoIterator<Item = &'a HoldTimes>) -> HoldIndex<'a> {
    let mut index = HoldIndex::new();
    for times in holds {
        let key = (&*times.category, &*times.symbol, &times.holder);
        index.entry(key).or_insert(times);
    }
    index
}

/// [`summarize`], each holder with its hold times on the lock when known.
pub fn summarize_with_holds(shares: &[&HolderShare], holds: &HoldIndex<'_>) -> Vec<HolderSummary> {
    let mut summaries = summarize(shares);
    for summary in &mut summaries {
        if let Some(holder) = &summary.holder {
            let key = (&*summary.category, &*summary.symbol, holder);
            summary.holds = holds.get(&key).map(|times| HoldFigures::of(times));
        }
    }
    summaries
}

/// Shares summed per (lock, holder): locks by their total wait, largest
/// first, and within a lock its holders likewise; each names its main
/// doing.
pub fn summarize(shares: &[&HolderShare]) -> Vec<HolderSummary> {
    type Key<'a> = (&'a str, &'a str, Option<&'a HolderThread>);
    let mut by_holder: BTreeMap<Key, Vec<&HolderShare>> = BTreeMap::new();
    let mut lock_totals: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for share in shares {
        let key = (&*share.lock[0], &*share.lock[1], share.holder.as_ref());
        by_holder.entry(key).or_default().push(share);
        let total = lock_totals.entry((key.0, key.1)).or_default();
        *total = total.saturating_add(share.ns);
    }
    let mut summaries: Vec<(u64, HolderSummary)> = by_holder
        .into_iter()
        .map(|((category, symbol, holder), list)| {
            let lock_total = lock_totals[&(category, symbol)];
            (lock_total, summary(category, symbol, holder, &list))
        })
        .collect();
    summaries.sort_by(|(a_total, a), (b_total, b)| {
        b_total
            .cmp(a_total)
            .then_with(|| (&a.category, &a.symbol).cmp(&(&b.category, &b.symbol)))
            .then_with(|| b.wait_ns.cmp(&a.wait_ns))
            .then_with(|| a.holder.cmp(&b.holder))
    });
    summaries.into_iter().map(|(_, summary)| summary).collect()
}

/// The total wait on a lock (type and symbol) over its holders'
/// summaries.
pub fn lock_wait_of(summaries: &[HolderSummary], category: &str, symbol: &str) -> u64 {
    summaries
        .iter()
        .filter(|s| s.category == category && s.symbol == symbol)
        .map(|s| s.wait_ns)
        .fold(0u64, u64::saturating_add)
}

fn summary(
    category: &str,
    symbol: &str,
    holder: Option<&HolderThread>,
    list: &[&HolderShare],
) -> HolderSummary {
    let total = list.iter().map(|s| s.ns).fold(0u64, u64::saturating_add);
    let off_cpu = list
        .iter()
        .filter(|s| matches!(s.doing, Doing::OffCpu(_)))
        .map(|s| s.ns)
        .fold(0u64, u64::saturating_add);
    // The key with the most wait; the first in order on a tie.
    let largest = |pick: &dyn Fn(&HolderShare) -> String| -> String {
        let mut sums: BTreeMap<String, u64> = BTreeMap::new();
        for share in list {
            let sum = sums.entry(pick(share)).or_default();
            *sum = sum.saturating_add(share.ns);
        }
        let most = sums.values().copied().max().unwrap_or(0);
        sums.into_iter()
            .find(|(_, ns)| *ns == most)
            .map(|(key, _)| key)
            .unwrap_or_default()
    };
    let doings = doing_shares(list);
    let (holding_state, doing) = doings.first().map_or(("unknown", String::new()), |d| {
        (d.holding_state, d.doing.clone())
    });
    HolderSummary {
        category: category.to_string(),
        symbol: symbol.to_string(),
        holder: holder.cloned(),
        wait_ns: total,
        holding_state,
        doing,
        off_cpu_ns: off_cpu,
        taken_in: largest(&|share| share.taken_in.clone()),
        partial: list.iter().any(|s| s.edge != HoldEdge::Whole),
        doings,
        holds: None,
    }
}

/// A holder's wait by doing, largest first (in order of the doings on a
/// tie).
fn doing_shares(list: &[&HolderShare]) -> Vec<DoingShare> {
    let mut sums: BTreeMap<&Doing, u64> = BTreeMap::new();
    for share in list {
        let sum = sums.entry(&share.doing).or_default();
        *sum = sum.saturating_add(share.ns);
    }
    let mut doings: Vec<(&Doing, u64)> = sums.into_iter().collect();
    doings.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    doings
        .into_iter()
        .map(|(doing, wait_ns)| DoingShare {
            holding_state: doing.state(),
            doing: doing.describe(),
            wait_ns,
            stack: doing.stack().to_vec(),
        })
        .collect()
}
