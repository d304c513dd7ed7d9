//! Who held a lock while a chosen thread waited on it, and what the holder
//! was doing meanwhile, from a capture's lock events.
//!
//! lltrace records every operation on a lock (sys/sys/lltrace.h, the
//! `LLTRACE_LK_*` ops; lltextract names them): an acquisition without a
//! wait (`instant-exclusive`, `instant-shared`), a wait and its outcome
//! (`acquire-start`, then `acquired-*` or `acquire-abort`), a release
//! (`release-exclusive`, `release-shared`), a `downgrade` (also written
//! for an upgrade: both are op 6) and a failed try (`instant-fail`). So
//! for each lock, who holds it at any moment is known: a writer, or a set
//! of readers.
//!
//! Holds are rebuilt per lock in time order ([`holds_and_waits`]): an
//! exclusive hold ends at the lock's next `release-exclusive`, whichever
//! thread records it (a mutex belongs to a CPU: `sched_lock` is taken by
//! the thread that switches away and released by the one that comes in,
//! so the hold is the acquirer's until the release); a shared hold ends
//! at the same thread's `release-shared`. A release with no acquisition
//! seen is a hold begun before the capture; an acquisition never released
//! is a hold still open at its end. Both are kept and marked, never
//! stretched or invented.
//!
//! Each wait of a chosen thread is then cut where the set of holders
//! changes ([`Attribution`]): a stretch with no holder is `unknown`; a
//! stretch with several (readers) is shared equally. What each holder was
//! doing in its stretches comes from a second, time-ordered pass over
//! that holder's own events: running (in its innermost slice: a syscall,
//! an interrupt), off the CPU while holding, or itself waiting on another
//! lock, whose holder is named (a chain of two).

use std::collections::BTreeSet;
use std::ops::Range;

use super::sampler::WaitSum;
use crate::hashing::InputMap;
pub use crate::holders::HoldEdge;

/// A lock operation, by lltrace's op code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockOp {
    /// Taken without a wait, for writing.
    InstantExclusive,
    /// Taken without a wait, for reading.
    InstantShared,
    /// A wait begins.
    AcquireStart,
    /// The wait ends with the lock held for writing.
    AcquiredExclusive,
    /// The wait ends with the lock held for reading.
    AcquiredShared,
    /// The wait ends without the lock.
    AcquireAbort,
    /// A writer becomes a reader (or, with the same code, a reader a
    /// writer: an upgrade).
    Downgrade,
    /// A writer lets go.
    ReleaseExclusive,
    /// A reader lets go.
    ReleaseShared,
    /// A try that failed: nothing held.
    InstantFail,
}

/// The ops in code order, with the names lltextract writes.
const OPS: [(LockOp, &str); 10] = [
    (LockOp::InstantExclusive, "instant-exclusive"),
    (LockOp::InstantShared, "instant-shared"),
    (LockOp::AcquireStart, "acquire-start"),
    (LockOp::AcquiredExclusive, "acquired-exclusive"),
    (LockOp::AcquiredShared, "acquired-shared"),
    (LockOp::AcquireAbort, "acquire-abort"),
    (LockOp::Downgrade, "downgrade"),
    (LockOp::ReleaseExclusive, "release-exclusive"),
    (LockOp::ReleaseShared, "release-shared"),
    (LockOp::InstantFail, "instant-fail"),
];

impl LockOp {
    /// The op an event name stands for.
    pub fn from_name(name: &str) -> Option<LockOp> {
        OPS.iter().find(|(_, n)| *n == name).map(|(op, _)| *op)
    }

    /// lltrace's code of the op.
    pub fn code(self) -> u8 {
        OPS.iter().position(|(op, _)| *op == self).unwrap_or(0) as u8
    }

    /// The op of a code from [`LockOp::code`].
    pub fn from_code(code: u8) -> LockOp {
        OPS.get(usize::from(code))
            .map_or(LockOp::InstantFail, |(op, _)| *op)
    }
}

/// A thread id that stands for "no thread known".
pub const NO_THREAD: u64 = u64::MAX;

/// A key id that stands for "no slice" or "no key".
pub const NO_SLICE: u32 = u32::MAX;

/// What a thread was doing at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Activity {
    /// Nothing seen of the thread yet (or the holder is not known).
    Unknown,
    /// On a CPU, inside the slice of this key id ([`NO_SLICE`]: none open).
    Running {
        /// The innermost open slice's key id.
        slice: u32,
    },
    /// Off the CPU, in this scheduler state (an index of the state names).
    OffCpu {
        /// The state's index.
        state: u8,
    },
    /// Waiting on a lock: the (lock, key) pair's id.
    Waiting {
        /// The pair's id.
        pair: u32,
    },
}

/// One lock operation of a thread, on a lock whose holders matter.
#[derive(Debug, Clone, Copy)]
pub struct LockEvent {
    /// When.
    pub ns: u64,
    /// Who.
    pub thread: u64,
    /// What.
    pub op: LockOp,
    /// The event's key id (category, symbol, caller).
    pub key: u32,
}

/// A stretch of time a thread held a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    /// The holder (the thread that acquired it).
    pub thread: u64,
    /// From.
    pub start: u64,
    /// To (exclusive).
    pub end: u64,
    /// The key of its acquisition (where the holder took it).
    pub key: u32,
    /// How its ends were seen.
    pub edge: HoldEdge,
}

/// A wait of a thread on a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitSpan {
    /// The waiter.
    pub thread: u64,
    /// The window it counts in (the one where it began).
    pub window: u32,
    /// From.
    pub start: u64,
    /// To (exclusive).
    pub end: u64,
    /// The wait's key id.
    pub key: u32,
}

/// What was odd in the holds, for a note.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HoldNotes {
    /// Holds released with no acquisition in the capture.
    pub begun_before: u64,
    /// Holds never released.
    pub open_at_end: u64,
    /// Exclusive holds released by another thread than the acquirer
    /// (a mutex is a CPU's: `sched_lock` across a context switch).
    pub released_by_other: u64,
    /// Exclusive acquisitions while another writer held the lock: its
    /// release was not recorded, so its hold is left out.
    pub lost_releases: u64,
}

#[derive(Debug, Clone, Copy)]
struct OpenHold {
    thread: u64,
    start: u64,
    key: u32,
    edge: HoldEdge,
}

/// Rebuilds one lock's holds from its events, fed in time order
/// ([`HoldBuilder::feed`]); events of one time are taken releases first
/// (the next holder cannot have taken the lock before it was let go),
/// otherwise in the order fed.
#[derive(Debug)]
pub struct HoldBuilder {
    origin: u64,
    writer: Option<OpenHold>,
    // One shared hold a thread: a reader's recursion is recorded (if at
    // all) as another acquisition, which changes nothing.
    readers: InputMap<u64, OpenHold>,
    /// Events of the latest time, not taken yet.
    same_time: Vec<LockEvent>,
}

impl HoldBuilder {
    /// A builder for a capture that begins at `origin`.
    pub fn new(origin: u64) -> Self {
        HoldBuilder {
            origin,
            writer: None,
            readers: InputMap::default(),
            same_time: Vec::new(),
        }
    }

    /// Takes the next event; gives the holds it ends to `out`.
    pub fn feed(&mut self, event: LockEvent, notes: &mut HoldNotes, out: &mut impl FnMut(Hold)) {
        if self
            .same_time
            .first()
            .is_some_and(|first| first.ns != event.ns)
        {
            self.flush(notes, out);
        }
        self.same_time.push(event);
    }

    /// The capture ended at `end`: the holds still open end there, marked.
    pub fn finish(mut self, end: u64, notes: &mut HoldNotes, out: &mut impl FnMut(Hold)) {
        self.flush(notes, out);
        let mut still_open: Vec<OpenHold> = self
            .writer
            .into_iter()
            .chain(self.readers.into_values())
            .collect();
        still_open.sort_by_key(|open| (open.start, open.thread));
        for open in still_open {
            notes.open_at_end += 1;
            let open = OpenHold {
                edge: HoldEdge::OpenAtEnd,
                ..open
            };
            out(hold_of(open, end.max(open.start)));
        }
    }

    fn flush(&mut self, notes: &mut HoldNotes, out: &mut impl FnMut(Hold)) {
        let mut events = std::mem::take(&mut self.same_time);
        events.sort_by_key(|event| {
            !matches!(event.op, LockOp::ReleaseExclusive | LockOp::ReleaseShared)
        });
        for event in events.drain(..) {
            self.take(event, notes, out);
        }
        self.same_time = events;
    }

    fn take(&mut self, event: LockEvent, notes: &mut HoldNotes, out: &mut impl FnMut(Hold)) {
        let opened = OpenHold {
            thread: event.thread,
            start: event.ns,
            key: event.key,
            edge: HoldEdge::Whole,
        };
        match event.op {
            LockOp::InstantExclusive | LockOp::AcquiredExclusive => match self.writer {
                // Recursion (kernel_lock records only its outermost level,
                // but an older kernel may record more).
                Some(open) if open.thread == event.thread => {}
                // Its release was not recorded: when it ended is not
                // known, so it is not stretched to this acquisition.
                Some(_) => {
                    notes.lost_releases += 1;
                    self.writer = Some(opened);
                }
                None => self.writer = Some(opened),
            },
            LockOp::InstantShared | LockOp::AcquiredShared => {
                self.readers.entry(event.thread).or_insert(opened);
            }
            LockOp::ReleaseExclusive => match self.writer.take() {
                Some(open) => {
                    notes.released_by_other += u64::from(open.thread != event.thread);
                    out(hold_of(open, event.ns));
                }
                None => {
                    notes.begun_before += 1;
                    out(hold_of(begun_before(opened, self.origin), event.ns));
                }
            },
            LockOp::ReleaseShared => match self.readers.remove(&event.thread) {
                Some(open) => out(hold_of(open, event.ns)),
                None => {
                    notes.begun_before += 1;
                    out(hold_of(begun_before(opened, self.origin), event.ns));
                }
            },
            LockOp::Downgrade => {
                if let Some(open) = self.writer.filter(|open| open.thread == event.thread) {
                    out(hold_of(open, event.ns));
                    self.writer = None;
                    let reader = OpenHold {
                        key: open.key,
                        ..opened
                    };
                    self.readers.insert(event.thread, reader);
                } else if let Some(open) = self.readers.remove(&event.thread) {
                    // An upgrade: lltrace gives it the downgrade's code.
                    out(hold_of(open, event.ns));
                    self.writer = Some(OpenHold {
                        key: open.key,
                        ..opened
                    });
                }
            }
            _ => {}
        }
    }
}

fn hold_of(open: OpenHold, end: u64) -> Hold {
    Hold {
        thread: open.thread,
        start: open.start,
        end,
        key: open.key,
        edge: open.edge,
    }
}

/// Whether `from..to` meets any of `stretches` (sorted, not overlapping).
pub fn meets(stretches: &[(u64, u64)], from: u64, to: u64) -> bool {
    let first = stretches.partition_point(|s| s.1 <= from);
    stretches.get(first).is_some_and(|s| s.0 < to && from < to)
}

/// The most holders a stretch is split over: past it (hundreds of readers
/// at once), the stretch's holders are not told apart and the lock is
/// named as crowded, so that memory stays linear in the holds.
pub const MAX_HOLDERS_AT_ONCE: usize = 256;

/// The hold a release with no acquisition in the capture ends: held since
/// its start.
fn begun_before(released: OpenHold, origin: u64) -> OpenHold {
    OpenHold {
        start: origin,
        edge: HoldEdge::BegunBefore,
        ..released
    }
}

/// A lock's holders over time: stretches in which the set of holds does
/// not change.
#[derive(Debug, Default)]
pub struct HolderTimeline {
    /// The lock's holds, by index.
    pub holds: Vec<Hold>,
    /// (from, to, range of `members`) per stretch, in time order; no
    /// stretch is empty and none holds no hold (a crowded one is listed
    /// with no members).
    stretches: Vec<(u64, u64, Range<u32>)>,
    /// Hold indices of each stretch, by thread.
    members: Vec<u32>,
    /// Some stretch had more than [`MAX_HOLDERS_AT_ONCE`] holders.
    pub crowded: bool,
}

impl HolderTimeline {
    /// The timeline of these holds.
    pub fn new(mut holds: Vec<Hold>) -> Self {
        holds.sort_by_key(|hold| (hold.start, hold.thread));
        let mut edges: Vec<(u64, bool, u32)> = Vec::with_capacity(holds.len() * 2);
        for (index, hold) in holds.iter().enumerate() {
            if hold.end > hold.start {
                edges.push((hold.start, true, index as u32));
                edges.push((hold.end, false, index as u32));
            }
        }
        // Ends before starts at one time: a hold ends where the next begins.
        edges.sort_by_key(|&(at, starts, index)| (at, starts, index));
        let mut timeline = HolderTimeline {
            holds,
            ..Default::default()
        };
        // By (thread, hold): members come out ordered by thread.
        let mut active: BTreeSet<(u64, u32)> = BTreeSet::new();
        let mut since = 0;
        for (at, starts, index) in edges {
            if at > since && !active.is_empty() {
                let first = timeline.members.len() as u32;
                if active.len() <= MAX_HOLDERS_AT_ONCE {
                    timeline.members.extend(active.iter().map(|&(_, i)| i));
                } else {
                    timeline.crowded = true;
                }
                let last = timeline.members.len() as u32;
                timeline.stretches.push((since, at, first..last));
            }
            since = at;
            let entry = (timeline.holds[index as usize].thread, index);
            if starts {
                active.insert(entry);
            } else {
                active.remove(&entry);
            }
        }
        timeline
    }

    /// The stretches of holders within `from..to`, with the gaps in which
    /// nobody held the lock: (from, to, holds).
    pub fn within(&self, from: u64, to: u64) -> Vec<(u64, u64, &[u32])> {
        let mut pieces = Vec::new();
        let first = self.stretches.partition_point(|s| s.1 <= from);
        let mut at = from;
        for (start, end, members) in &self.stretches[first..] {
            if *start >= to {
                break;
            }
            if *start > at {
                pieces.push((at, *start, &[][..]));
            }
            let (piece_start, piece_end) = (at.max(*start), to.min(*end));
            let range = members.start as usize..members.end as usize;
            pieces.push((piece_start, piece_end, &self.members[range]));
            at = piece_end;
        }
        if at < to {
            pieces.push((at, to, &[][..]));
        }
        pieces
    }
}

/// A stretch of a wait to be split over what one holder was doing.
#[derive(Debug, Clone, Copy)]
pub struct Query {
    /// The stretch.
    pub from: u64,
    /// Its end.
    pub to: u64,
    /// The holder's share of the stretch, in ns.
    pub share: u64,
    /// Where the result goes: an index of [`Attribution::targets`].
    pub target: u32,
}

/// What a share of a wait is counted under, before the holder's doing is
/// known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Target {
    /// The waiting thread.
    pub waiter: u64,
    /// The wait's key id.
    pub wait_key: u32,
    /// The holder ([`NO_THREAD`]: unknown).
    pub holder: u64,
    /// The key of the holder's acquisition ([`NO_SLICE`] when unknown).
    pub hold_key: u32,
    /// How the hold's ends were seen.
    pub edge: HoldEdge,
}

/// One line of the result: a share of the waits of one waiter and key,
/// caused by one holder doing one thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShareKey {
    /// The wait's key id.
    pub wait_key: u32,
    /// The holder ([`NO_THREAD`]: unknown).
    pub holder: u64,
    /// Where the holder took the lock (key id, [`NO_SLICE`] unknown).
    pub hold_key: u32,
    /// How the hold's ends were seen.
    pub edge: HoldEdge,
    /// What the holder was doing.
    pub doing: Activity,
    /// When the holder itself waited on a lock: that lock's holder then
    /// ([`NO_THREAD`]: none known, or not waiting).
    pub next_holder: u64,
}

/// Where a part of a waiter's wait is counted by holder: (window, wait
/// key, holder ([`NO_THREAD`]: nobody known)).
pub type PartKey = (u32, u32, u64);

/// The waits of one waiter, window and key that the attribution split:
/// how many, their total and the longest, ns.
pub type SplitWaits = (u64, u64, u64);

/// Each wait's parts by holder, summed per window (`--by holder`): a part
/// is a wait of its own in the holder's group, its length what the holder
/// caused.
#[derive(Debug, Default)]
pub struct HolderParts {
    /// The parts' sums, by waiter.
    pub parts: InputMap<u64, InputMap<PartKey, WaitSum>>,
    /// The waits split, by waiter and (window, wait key): the rest of a
    /// window's waits (waits no lock event carried) is nobody's known.
    pub split: InputMap<u64, InputMap<(u32, u32), SplitWaits>>,
}

impl HolderParts {
    /// Adds one wait's parts, (holder, ns) in order of first appearance.
    fn add(&mut self, wait: &WaitSpan, by_holder: &[(u64, u64)]) {
        let parts = self.parts.entry(wait.thread).or_default();
        for &(holder, ns) in by_holder {
            let sum = parts.entry((wait.window, wait.key, holder)).or_default();
            // Within the window's waits of the key, which did not pass
            // 2^64 ns (the sampler refuses that).
            sum.ns = sum.ns.saturating_add(ns);
            sum.count += 1;
            sum.max_ns = sum.max_ns.max(ns);
            sum.histogram.record(ns);
        }
        let split = self
            .split
            .entry(wait.thread)
            .or_default()
            .entry((wait.window, wait.key))
            .or_default();
        let length = wait.end - wait.start;
        split.0 += 1;
        split.1 = split.1.saturating_add(length);
        split.2 = split.2.max(length);
    }
}

/// A stretch of `length` ns shared equally by `count` holders: the first
/// ones take the remainder's nanoseconds.
fn equal_shares(length: u64, count: u64) -> impl Iterator<Item = u64> {
    (0..count).map(move |rank| length / count + u64::from(rank < length % count))
}

/// Adds `ns` to `holder`'s part of a wait.
fn add_part(by_holder: &mut Vec<(u64, u64)>, holder: u64, ns: u64) {
    match by_holder.iter_mut().find(|(known, _)| *known == holder) {
        Some((_, sum)) => *sum += ns,
        None => by_holder.push((holder, ns)),
    }
}

/// The waits of the chosen threads split over the holders: built from
/// each lock's timeline ([`Attribution::add_lock`]), then finished with
/// each holder's doings ([`Attribution::resolve`]).
#[derive(Debug, Default)]
pub struct Attribution {
    /// Each wait's parts by holder per window, when asked for.
    pub parts: Option<HolderParts>,
    /// Where shares go, by index.
    pub targets: Vec<Target>,
    target_ids: InputMap<Target, u32>,
    /// Per holder thread, the stretches whose doings are needed.
    pub queries: InputMap<u64, Vec<Query>>,
    /// Shares with no holder, or whose holder's doing is known already.
    pub shares: InputMap<u64, InputMap<ShareKey, u64>>,
}

impl Attribution {
    /// Splits the chosen threads' waits on one lock over its holders.
    pub fn add_lock(&mut self, timeline: &HolderTimeline, waits: &[WaitSpan]) {
        let mut by_holder: Vec<(u64, u64)> = Vec::new();
        for wait in waits {
            by_holder.clear();
            for (from, to, members) in timeline.within(wait.start, wait.end) {
                let holders: Vec<&Hold> = members
                    .iter()
                    .map(|&i| &timeline.holds[i as usize])
                    .filter(|hold| hold.thread != wait.thread)
                    .collect();
                self.split(wait, from, to, &holders);
                if self.parts.is_some() {
                    let threads = holders.iter().map(|hold| hold.thread);
                    let shares = equal_shares(to - from, holders.len() as u64);
                    for (thread, ns) in threads.zip(shares) {
                        add_part(&mut by_holder, thread, ns);
                    }
                    if holders.is_empty() {
                        add_part(&mut by_holder, NO_THREAD, to - from);
                    }
                }
            }
            if let Some(parts) = &mut self.parts {
                by_holder.retain(|(_, ns)| *ns > 0);
                // A wait of 0 ns (or shared into nothing) is a wait still:
                // nobody's known.
                if by_holder.is_empty() {
                    by_holder.push((NO_THREAD, 0));
                }
                parts.add(wait, &by_holder);
            }
        }
    }

    /// One stretch of a wait, shared equally by `holders` (the first ones
    /// take the remainder's nanoseconds), or unknown without any.
    fn split(&mut self, wait: &WaitSpan, from: u64, to: u64, holders: &[&Hold]) {
        let length = to - from;
        if holders.is_empty() {
            let key = ShareKey {
                wait_key: wait.key,
                holder: NO_THREAD,
                hold_key: NO_SLICE,
                edge: HoldEdge::Whole,
                doing: Activity::Unknown,
                next_holder: NO_THREAD,
            };
            *self
                .shares
                .entry(wait.thread)
                .or_default()
                .entry(key)
                .or_default() += length;
            return;
        }
        let shares = equal_shares(length, holders.len() as u64);
        for (hold, share) in holders.iter().zip(shares) {
            let target = self.target(Target {
                waiter: wait.thread,
                wait_key: wait.key,
                holder: hold.thread,
                hold_key: hold.key,
                edge: hold.edge,
            });
            self.queries.entry(hold.thread).or_default().push(Query {
                from,
                to,
                share,
                target,
            });
        }
    }

    fn target(&mut self, target: Target) -> u32 {
        let next = self.targets.len() as u32;
        let id = *self.target_ids.entry(target).or_insert(next);
        if id == next {
            self.targets.push(target);
        }
        id
    }

    /// Adds what one holder was doing in its queried stretches:
    /// `timeline` is its doings (from, doing) in time order, covering each
    /// query's start; `next_holder` names the holder of a lock the holder
    /// itself waited on (other than the holder), over a stretch.
    pub fn resolve(
        &mut self,
        queries: &[Query],
        timeline: &[(u64, Activity)],
        next_holder: &mut impl FnMut(u32, u64, u64, u64) -> Vec<(u64, u64, u64)>,
    ) {
        for query in queries {
            let target = self.targets[query.target as usize];
            let doings = doings_within(timeline, query.from, query.to);
            let length = query.to - query.from;
            for (from, to, doing) in doings {
                // The holder's share, spread in proportion over its doings,
                // summing exactly to the share.
                let scaled = |at: u64| {
                    (u128::from(at - query.from) * u128::from(query.share) / u128::from(length))
                        as u64
                };
                let ns = scaled(to) - scaled(from);
                if ns == 0 {
                    continue;
                }
                let mut add = |next: u64, ns: u64| {
                    let key = ShareKey {
                        wait_key: target.wait_key,
                        holder: target.holder,
                        hold_key: target.hold_key,
                        edge: target.edge,
                        doing,
                        next_holder: next,
                    };
                    *self
                        .shares
                        .entry(target.waiter)
                        .or_default()
                        .entry(key)
                        .or_default() += ns;
                };
                match doing {
                    Activity::Waiting { pair } => {
                        // Apportioned like the share itself.
                        let pieces = next_holder(pair, from, to, target.holder);
                        let span = (to - from).max(1);
                        let mut given = 0;
                        for (index, (piece_from, piece_to, next)) in pieces.iter().enumerate() {
                            let part = if index + 1 == pieces.len() {
                                ns - given
                            } else {
                                (u128::from(piece_to - piece_from) * u128::from(ns)
                                    / u128::from(span)) as u64
                            };
                            given += part;
                            add(*next, part);
                        }
                        if pieces.is_empty() {
                            add(NO_THREAD, ns);
                        }
                    }
                    _ => add(NO_THREAD, ns),
                }
            }
        }
    }
}

/// The doings of a timeline within `from..to`: (from, to, doing).
fn doings_within(timeline: &[(u64, Activity)], from: u64, to: u64) -> Vec<(u64, u64, Activity)> {
    let mut first = timeline.partition_point(|(at, _)| *at <= from);
    let mut doing = match first {
        0 => Activity::Unknown,
        index => timeline[index - 1].1,
    };
    let mut pieces = Vec::new();
    let mut at = from;
    while first < timeline.len() && timeline[first].0 < to {
        let (next_at, next) = timeline[first];
        if next_at > at {
            pieces.push((at, next_at, doing));
            at = next_at;
        }
        doing = next;
        first += 1;
    }
    pieces.push((at, to, doing));
    pieces
}

/// The stretches in which a holder's doings are needed, merged: where its
/// pass records them.
pub fn needed_stretches(queries: &[Query]) -> Vec<(u64, u64)> {
    merged(queries.iter().map(|query| (query.from, query.to)).collect())
}

/// Stretches (from, to) sorted and merged where they meet or overlap.
pub fn merged(mut stretches: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    stretches.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for (from, to) in stretches {
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    merged
}

/// Records one holder's doings within the stretches asked for, as its
/// events are replayed in time order.
#[derive(Debug, Default)]
pub struct DoingRecorder {
    stretches: Vec<(u64, u64)>,
    next: usize,
    /// (from, doing), in time order.
    pub timeline: Vec<(u64, Activity)>,
    last: Option<Activity>,
}

impl DoingRecorder {
    /// A recorder for these merged stretches.
    pub fn new(stretches: Vec<(u64, u64)>) -> Self {
        DoingRecorder {
            stretches,
            ..Default::default()
        }
    }

    /// The thread does `current` until an event at `at` (not yet
    /// applied): the start of each stretch passed gets it.
    pub fn before(&mut self, at: u64, current: Activity) {
        while let Some(&(from, to)) = self.stretches.get(self.next) {
            if at < from {
                return;
            }
            if self.timeline.last().is_none_or(|last| last.0 < from) {
                self.push(from, current);
            }
            if at < to {
                return;
            }
            self.next += 1;
        }
    }

    /// The thread does `now` from `at` on (an event applied).
    pub fn after(&mut self, at: u64, now: Activity) {
        if let Some(&(from, to)) = self.stretches.get(self.next) {
            if at >= from && at < to {
                self.push(at, now);
            }
        }
    }

    /// The doings recorded, within the stretches asked for: (from, to,
    /// doing).
    pub fn doings(&self) -> Vec<(u64, u64, Activity)> {
        let mut out = Vec::new();
        for &(from, to) in &self.stretches {
            out.extend(doings_within(&self.timeline, from, to));
        }
        out
    }

    /// The thread's events are over: what it did last lasts.
    pub fn finish(&mut self, current: Activity) {
        self.before(u64::MAX, current);
    }

    fn push(&mut self, at: u64, doing: Activity) {
        if self.last == Some(doing) && self.timeline.last().is_some_and(|l| l.0 <= at) {
            return;
        }
        self.last = Some(doing);
        self.timeline.push((at, doing));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Holds and waits of one lock's events, as the sampler gets them.
    fn holds_and_waits(
        events: &[LockEvent],
        origin: u64,
        end: u64,
        notes: &mut HoldNotes,
    ) -> (Vec<Hold>, Vec<WaitSpan>) {
        let mut builder = HoldBuilder::new(origin);
        let mut holds = Vec::new();
        let mut waits = Vec::new();
        let mut pending: InputMap<u64, (u64, u32)> = InputMap::default();
        for event in events {
            match event.op {
                LockOp::AcquireStart => {
                    pending.insert(event.thread, (event.ns, event.key));
                }
                LockOp::AcquiredExclusive | LockOp::AcquiredShared | LockOp::AcquireAbort => {
                    if let Some((start, key)) = pending.remove(&event.thread) {
                        let (thread, end) = (event.thread, event.ns);
                        waits.push(WaitSpan {
                            thread,
                            window: 0,
                            start,
                            end,
                            key,
                        });
                    }
                }
                _ => {}
            }
            builder.feed(*event, notes, &mut |hold| holds.push(hold));
        }
        builder.finish(end, notes, &mut |hold| holds.push(hold));
        (holds, waits)
    }

    fn event(ns: u64, thread: u64, op: LockOp) -> LockEvent {
        LockEvent {
            ns,
            thread,
            op,
            key: 0,
        }
    }

    #[test]
    fn an_exclusive_hold_ends_at_the_next_release_whoever_records_it() {
        let mut notes = HoldNotes::default();
        let events = [
            event(10, 1, LockOp::InstantExclusive),
            event(20, 2, LockOp::AcquireStart),
            event(30, 3, LockOp::ReleaseExclusive),
            event(30, 2, LockOp::AcquiredExclusive),
            event(45, 2, LockOp::ReleaseExclusive),
            event(50, 4, LockOp::ReleaseExclusive),
            event(60, 5, LockOp::InstantExclusive),
        ];
        let (holds, waits) = holds_and_waits(&events, 0, 100, &mut notes);
        let spans: Vec<(u64, u64, u64, HoldEdge)> = holds
            .iter()
            .map(|h| (h.thread, h.start, h.end, h.edge))
            .collect();
        assert_eq!(
            spans,
            [
                (1, 10, 30, HoldEdge::Whole),
                (2, 30, 45, HoldEdge::Whole),
                (4, 0, 50, HoldEdge::BegunBefore),
                (5, 60, 100, HoldEdge::OpenAtEnd),
            ]
        );
        assert_eq!(waits.len(), 1);
        assert_eq!((waits[0].start, waits[0].end), (20, 30));
        assert_eq!(
            notes,
            HoldNotes {
                begun_before: 1,
                open_at_end: 1,
                released_by_other: 1,
                lost_releases: 0,
            }
        );
    }

    #[test]
    fn a_writer_whose_release_is_missing_is_left_out_not_stretched() {
        let mut notes = HoldNotes::default();
        let events = [
            event(10, 1, LockOp::InstantExclusive),
            event(20, 2, LockOp::InstantExclusive),
            event(40, 2, LockOp::ReleaseExclusive),
        ];
        let (holds, _) = holds_and_waits(&events, 0, 100, &mut notes);
        let spans: Vec<(u64, u64, u64)> =
            holds.iter().map(|h| (h.thread, h.start, h.end)).collect();
        assert_eq!(spans, [(2, 20, 40)]);
        assert_eq!(notes.lost_releases, 1);
    }

    #[test]
    fn readers_share_a_wait_and_a_downgrade_makes_a_writer_a_reader() {
        let mut notes = HoldNotes::default();
        let events = [
            event(0, 1, LockOp::InstantExclusive),
            event(10, 1, LockOp::Downgrade),
            event(12, 2, LockOp::InstantShared),
            event(15, 3, LockOp::AcquireStart),
            event(20, 1, LockOp::ReleaseShared),
            event(25, 2, LockOp::ReleaseShared),
            event(25, 3, LockOp::AcquiredExclusive),
            event(30, 3, LockOp::ReleaseExclusive),
        ];
        let (holds, waits) = holds_and_waits(&events, 0, 100, &mut notes);
        let timeline = HolderTimeline::new(holds);
        let mut attribution = Attribution::default();
        attribution.add_lock(&timeline, &waits);
        // 15..20: readers 1 and 2 share 5 ns (3 and 2); 20..25: reader 2.
        let mut by_holder: Vec<(u64, u64)> = attribution
            .queries
            .iter()
            .map(|(thread, queries)| (*thread, queries.iter().map(|q| q.share).sum()))
            .collect();
        by_holder.sort_unstable();
        assert_eq!(by_holder, [(1, 3), (2, 7)]);
    }

    #[test]
    fn a_stretch_nobody_held_is_unknown_and_doings_split_a_share_exactly() {
        let holds = vec![Hold {
            thread: 7,
            start: 100,
            end: 200,
            key: 0,
            edge: HoldEdge::Whole,
        }];
        let timeline = HolderTimeline::new(holds);
        let waits = [WaitSpan {
            thread: 1,
            window: 0,
            start: 50,
            end: 150,
            key: 3,
        }];
        let mut attribution = Attribution::default();
        attribution.add_lock(&timeline, &waits);
        let doings = [
            (0, Activity::Running { slice: NO_SLICE }),
            (120, Activity::OffCpu { state: 3 }),
        ];
        let queries = attribution.queries.remove(&7).unwrap();
        attribution.resolve(&queries, &doings, &mut |_, _, _, _| Vec::new());
        let mut shares: Vec<(u64, Activity, u64)> = attribution.shares[&1]
            .iter()
            .map(|(key, ns)| (key.holder, key.doing, *ns))
            .collect();
        shares.sort();
        assert_eq!(
            shares,
            [
                (7, Activity::Running { slice: NO_SLICE }, 20),
                (7, Activity::OffCpu { state: 3 }, 30),
                (NO_THREAD, Activity::Unknown, 50),
            ]
        );
    }

    #[test]
    fn each_wait_is_parted_per_window_and_holder_and_a_wait_of_0_ns_is_kept() {
        // Readers 7 (100..300) and 8 (200..400) share the lock.
        let hold = |thread, start, end| Hold {
            thread,
            start,
            end,
            key: 0,
            edge: HoldEdge::Whole,
        };
        let timeline = HolderTimeline::new(vec![hold(7, 100, 300), hold(8, 200, 400)]);
        let wait = |window, start, end| WaitSpan {
            thread: 1,
            window,
            start,
            end,
            key: 3,
        };
        // 50..250: 50 nobody's, 100 of 7's, 50 shared (25 each); 250..251
        // (another window): shared, its odd nanosecond the first's; 500: a
        // wait of 0 ns, nobody's.
        let waits = [wait(0, 50, 250), wait(1, 250, 251), wait(1, 500, 500)];
        let mut attribution = Attribution {
            parts: Some(HolderParts::default()),
            ..Attribution::default()
        };
        attribution.add_lock(&timeline, &waits);
        let parts = attribution.parts.unwrap();
        let mut figures: Vec<(PartKey, u64, u64, u64)> = parts.parts[&1]
            .iter()
            .map(|(at, sum)| (*at, sum.ns, sum.count, sum.histogram.count()))
            .collect();
        figures.sort();
        assert_eq!(
            figures,
            [
                ((0, 3, 7), 125, 1, 1),
                ((0, 3, 8), 25, 1, 1),
                ((0, 3, NO_THREAD), 50, 1, 1),
                ((1, 3, 7), 1, 1, 1),
                ((1, 3, NO_THREAD), 0, 1, 1),
            ]
        );
        // Every wait split, once: (waits, ns, longest) per window.
        assert_eq!(parts.split[&1][&(0, 3)], (1, 200, 200));
        assert_eq!(parts.split[&1][&(1, 3)], (2, 1, 1));
    }

    #[test]
    fn a_recorder_keeps_the_doing_at_each_stretch_start_and_changes_inside() {
        let mut recorder = DoingRecorder::new(vec![(100, 200), (300, 400)]);
        let run = Activity::Running { slice: NO_SLICE };
        let off = Activity::OffCpu { state: 2 };
        recorder.before(50, Activity::Unknown);
        recorder.after(50, run);
        recorder.before(150, run);
        recorder.after(150, off);
        recorder.before(250, off);
        recorder.after(250, run);
        recorder.finish(run);
        assert_eq!(recorder.timeline, [(100, run), (150, off), (300, run)]);
    }
}
