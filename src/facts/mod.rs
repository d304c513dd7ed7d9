//! Facts: rows folded while parsing. What a report needs is kept per
//! distinct key (its totals, the samples it appears in) and per sample (its
//! wait by category), so memory grows with keys plus samples, not with
//! rows nor with their product. The per-(sample, key) detail that `diff`'s
//! per-group tests need is kept only when asked for ([`Fold::detail`]).
//!
//! The fold stage: this module's builder (the parsers' [`Sink`]), the
//! per-(sample, key) [`detail`], the [`text_index`] that spares re-splitting
//! a key's text, and the [`filter`]s applied while folding.

pub mod detail;
pub mod filter;
pub mod recent;
pub mod strings;
pub mod text_index;

use std::sync::Arc;

use hashbrown::HashTable;

use crate::distribution::Histogram;
use crate::error::shorten;
use crate::hashing::{InputMap, InputSet, find_position, position_or_push};
use crate::holders::Holders;
use crate::parse::{InputFormat, ParseStats, Row, RowWaits, Sink, State};
use crate::states::SampleStates;
use crate::vocabulary::{GroupKey, KERNEL_LOCK, KEY_PARTS};
use detail::KeyWaits;
use filter::{Filters, Hits};
use strings::Strings;
use text_index::TextIndex;

/// A key position a grouping leaves out.
pub const NO_KEY: u32 = u32::MAX;

/// A key's interned parts: (category, symbol, caller, holder).
pub type KeyIds = [u32; KEY_PARTS];

/// The key index of rows that `--match` or `--exclude` leave out.
const LEFT_OUT: u32 = u32::MAX;

/// How rows are folded: decided before reading, from the command line.
#[derive(Debug, Clone)]
pub struct Fold {
    /// The ranking's keys: the samples each group appears in are counted
    /// while reading, since they cannot be told from per-key counts.
    pub by: Vec<GroupKey>,
    /// Keep the wait of every key in every sample ([`InputFacts::detail`]).
    pub detail: bool,
    /// Keep `+0x..` offsets on symbols and callers; by default they are
    /// stripped, so that call sites in one function are one key.
    pub keep_offsets: bool,
    /// The rows and samples to read (`--match`, `--exclude`, `--samples`).
    pub filters: Filters,
    /// Read every row without a count as one wait (`--rows-are-waits`),
    /// whatever its format says.
    pub rows_are_waits: bool,
    /// Name holders by their thread's name alone, without its ids: a
    /// diff's two captures give one thread other ids.
    pub holder_names: bool,
}

impl Default for Fold {
    fn default() -> Self {
        Fold {
            by: GroupKey::ALL.to_vec(),
            detail: false,
            keep_offsets: false,
            filters: Filters::default(),
            rows_are_waits: false,
            holder_names: false,
        }
    }
}

/// A folded call stack as the keys read its frames: without their offsets
/// unless `keep_offsets`.
pub fn folded_stack(stack: &str, keep_offsets: bool) -> std::borrow::Cow<'_, str> {
    if keep_offsets {
        return std::borrow::Cow::Borrowed(stack);
    }
    let frames: Vec<&str> = stack.split(';').map(strip_offset).collect();
    std::borrow::Cow::Owned(frames.join(";"))
}

/// A symbol or caller without its offset: `vm_map_lock_ln+0x4f`, Linux's
/// `do_exit+0x1a2/0x9d0` and bpftrace's decimal `xfs_ilock+125` lose
/// everything from the `+`, since offsets move between kernel builds.
pub fn strip_offset(text: &str) -> &str {
    let Some(plus) = text.rfind("+0x") else {
        return strip_decimal_offset(text);
    };
    let offset = &text[plus + 3..];
    let (first, rest) = offset.split_once("/0x").unwrap_or((offset, "0"));
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    if plus > 0 && hex(first) && hex(rest) {
        &text[..plus]
    } else {
        text
    }
}

/// bpftrace's `func+125`: a decimal offset after a function's name.
fn strip_decimal_offset(text: &str) -> &str {
    let Some((function, offset)) = text.rsplit_once('+') else {
        return text;
    };
    // A function's name: it starts as C identifiers do (ppc64's start
    // with a dot) and ends in one of their characters.
    let starts = |c: char| c.is_ascii_alphabetic() || c == '_' || c == '.';
    let ends = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    let named =
        function.chars().next().is_some_and(starts) && function.chars().last().is_some_and(ends);
    if named && !offset.is_empty() && offset.bytes().all(|b| b.is_ascii_digit()) {
        function
    } else {
        text
    }
}

/// A symbol or caller as read: without its `+0x..` offset, which is
/// recorded in `stripped` (for the note), unless `keep_offsets`.
pub fn read_site<'t>(
    text: &'t str,
    keep_offsets: bool,
    stripped: &mut InputSet<Box<str>>,
) -> &'t str {
    if keep_offsets {
        return text;
    }
    let function = strip_offset(text);
    if function.len() < text.len() && !stripped.contains(text) {
        stripped.insert(text.into());
    }
    function
}

/// Which of a key's parts a grouping by `by` keeps. The holder is kept
/// when not grouped by too: every key's is then the same, empty.
pub fn kept_keys(by: &[GroupKey]) -> [bool; KEY_PARTS] {
    let mut kept = [false, false, false, !by.contains(&GroupKey::Holder)];
    for key in by {
        kept[key.position()] = true;
    }
    kept
}

/// The samples in which a key or group appears, counted as they come (in
/// increasing order).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seen {
    /// The first, 0-based within the input.
    pub first: u32,
    /// The last.
    pub last: u32,
    /// How many.
    pub count: u32,
}

impl Seen {
    /// Counts `sample` unless it is the last one counted.
    fn add(&mut self, sample: u32) {
        if self.count > 0 && self.last == sample {
            return;
        }
        if self.count == 0 {
            self.first = sample;
        }
        self.last = sample;
        self.count += 1;
    }

    /// Adds the samples of the next chunk, whose sample numbers are
    /// shifted by `shift`; a sample in both (the chunk continued this one's
    /// last) counts once.
    fn merge(&mut self, later: Seen, shift: u32) {
        if later.count == 0 {
            return;
        }
        let (first, last) = (later.first + shift, later.last + shift);
        let shared = self.count > 0 && self.last == first;
        if self.count == 0 {
            self.first = first;
        }
        self.count += later.count - u32::from(shared);
        self.last = last;
    }
}

/// One distinct key of an input, with all its rows folded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyFact {
    /// Interned category (index into [`InputFacts::strings`]).
    pub category: u32,
    /// Interned symbol.
    pub symbol: u32,
    /// Interned caller.
    pub caller: u32,
    /// Interned holder (empty unless grouped by holder).
    pub holder: u32,
    /// Whether the symbol is `kernel_lock`.
    pub kernel_lock: bool,
    /// Sum of the rows' durations, nanoseconds.
    pub total_ns: u64,
    /// Number of events folded in (row counts).
    pub rows: u64,
    /// Longest single wait, nanoseconds.
    pub max_ns: u64,
    /// The samples it appears in.
    pub seen: Seen,
    /// Some of its rows are sums of an unknown number of waits, so its
    /// number of events is unknown ([`crate::parse::RowWaits::Unknown`]).
    pub uncounted: bool,
}

impl KeyFact {
    /// The key's ids: (category, symbol, caller, holder).
    pub fn ids(&self) -> KeyIds {
        [self.category, self.symbol, self.caller, self.holder]
    }
}

/// The wait of one sample on one category (kernel_lock apart): 16 bytes,
/// since an input of millions of samples keeps one or more a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleSum {
    /// 0-based index of the sample within its input.
    pub sample: u32,
    /// Interned category, and whether the wait is on `kernel_lock` (the
    /// top bit): string ids stay below 2^31, as 2^31 strings would not
    /// fit in memory.
    category_lock: u32,
    /// Sum, nanoseconds.
    pub total_ns: u64,
}

/// The bit of [`SampleSum::category_lock`] that marks `kernel_lock`.
const KERNEL_LOCK_BIT: u32 = 1 << 31;

impl SampleSum {
    /// The wait of `sample` on `category` (on kernel_lock or not).
    pub fn new(sample: u32, category: u32, kernel_lock: bool, total_ns: u64) -> SampleSum {
        let lock = if kernel_lock { KERNEL_LOCK_BIT } else { 0 };
        SampleSum {
            sample,
            category_lock: category | lock,
            total_ns,
        }
    }

    /// The interned category.
    pub fn category(&self) -> u32 {
        self.category_lock & !KERNEL_LOCK_BIT
    }

    /// Whether this is the wait on `kernel_lock`.
    pub fn kernel_lock(&self) -> bool {
        self.category_lock & KERNEL_LOCK_BIT != 0
    }
}

/// Everything read from one input, ready for the engine.
#[derive(Debug, Clone, Default)]
pub struct InputFacts {
    /// The input's label (file stem or `--label`).
    pub label: String,
    /// The format it was read as.
    pub format: InputFormat,
    /// The state totals of each sample, in order; shared with the
    /// analysis, which shows them.
    pub samples: Arc<SampleStates>,
    /// Interned key strings.
    pub strings: Strings,
    /// Every distinct key, in the order first seen.
    pub keys: Vec<KeyFact>,
    /// Each sample's wait per category, in sample order; a (sample,
    /// category) pair may come more than once (sum them). Shared with the
    /// analysis, which makes each sample's figures from them.
    pub sample_sums: Arc<Vec<SampleSum>>,
    /// The samples each group of [`Fold::by`] appears in, by the group's
    /// ids ([`NO_KEY`] where the grouping leaves a key out), each group
    /// once. Empty when the grouping is by every key: then each key's own
    /// [`KeyFact::seen`].
    pub groups_seen: Vec<(KeyIds, Seen)>,
    /// The wait of each key in each sample it appears in, by key index
    /// (with [`Fold::detail`]; empty otherwise). A key continued across
    /// two chunks of a file may come twice for one sample: sum them.
    pub detail: KeyWaits,
    /// Rows read (before folding), counting a row's `count` column.
    pub rows: u64,
    /// How the waits of each key spread, by key index: for the keys whose
    /// rows gave single waits. A key's distribution is whole when it
    /// counts all its events ([`KeyFact::rows`]).
    pub histograms: InputMap<u32, Histogram>,
    /// Symbols and callers read without their `+0x..` offsets, as written.
    pub stripped_offsets: InputSet<Box<str>>,
    /// Which of a key's parts [`InputFacts::groups_seen`] groups by.
    pub grouped_by: [bool; KEY_PARTS],
    /// The number the input gives each sample kept, 1-based, when
    /// `--samples` left some out; empty when every sample is kept.
    pub sample_numbers: Vec<u32>,
    /// Samples the parser read, kept or not.
    pub samples_read: u32,
    /// Which `--match` and `--exclude` filters matched a row.
    pub filter_hits: Hits,
    /// What the parser skipped.
    pub stats: ParseStats,
    /// Who held the locks its thread waited on (captures).
    pub holders: Holders,
    /// The call stacks the waits were recorded with (btrace and bpftrace
    /// `kstack` maps), by (key index, folded stack): their wait in ns, or
    /// their events where the rows count events with no time. Empty for
    /// inputs without stacks.
    pub stacks: InputMap<(u32, Box<str>), u64>,
}

impl InputFacts {
    /// The string behind an interned key.
    pub fn key(&self, id: u32) -> &str {
        self.strings.get(id)
    }

    /// The number the input gives its sample at `index` (1-based).
    pub fn sample_number(&self, index: usize) -> u32 {
        self.sample_numbers
            .get(index)
            .copied()
            .unwrap_or(index as u32 + 1)
    }

    /// The samples each group of the reading's grouping appears in.
    pub fn group_samples(&self) -> Box<dyn Iterator<Item = (KeyIds, u32)> + '_> {
        if self.grouped_by == [true; KEY_PARTS] {
            Box::new(self.keys.iter().map(|key| (key.ids(), key.seen.count)))
        } else {
            Box::new(
                self.groups_seen
                    .iter()
                    .map(|(ids, seen)| (*ids, seen.count)),
            )
        }
    }

    /// Appends the facts of the next chunk of the same input, read on
    /// another core. With `continues_last_sample`, the chunk's first sample
    /// is the rest of this one's last (the chunk began inside its table):
    /// its rows fold into that sample. `line_offset` is the number of lines
    /// before the chunk, to number its skipped lines.
    pub fn append(
        &mut self,
        chunk: InputFacts,
        continues_last_sample: bool,
        line_offset: u64,
    ) -> Result<(), String> {
        let remap = self.adopt_strings(&chunk.strings)?;
        let remap_key =
            |ids: KeyIds| ids.map(|id| if id == NO_KEY { id } else { remap[id as usize] });
        let continues = continues_last_sample && !self.samples.is_empty();
        let shift = (self.samples.len() - usize::from(continues)) as u32;
        let key_remap = self.append_keys(&chunk.keys, &remap_key, shift)?;
        let sums = Arc::make_mut(&mut self.sample_sums);
        sums.reserve_exact(chunk.sample_sums.len());
        for sum in chunk.sample_sums.iter() {
            sums.push(SampleSum::new(
                sum.sample + shift,
                remap[sum.category() as usize],
                sum.kernel_lock(),
                sum.total_ns,
            ));
        }
        // Distinct groups index themselves as they are added again.
        let mut group_slots = HashTable::new();
        let groups = std::mem::take(&mut self.groups_seen);
        for (ids, seen) in groups {
            slot_of(&mut group_slots, &mut self.groups_seen, ids, seen);
        }
        for (ids, seen) in chunk.groups_seen {
            let at = slot_of(
                &mut group_slots,
                &mut self.groups_seen,
                remap_key(ids),
                Seen::default(),
            );
            self.groups_seen[at as usize].1.merge(seen, shift);
        }
        for (key, histogram) in &chunk.histograms {
            self.histograms
                .entry(key_remap[*key as usize])
                .or_default()
                .merge(histogram);
        }
        for ((key, stack), weight) in chunk.stacks {
            let sum = self
                .stacks
                .entry((key_remap[key as usize], stack))
                .or_default();
            *sum = sum.saturating_add(weight);
        }
        self.detail.append(chunk.detail, &key_remap, shift);
        Arc::make_mut(&mut self.samples).append(&chunk.samples, continues)?;
        self.rows = self.rows.saturating_add(chunk.rows);
        self.stripped_offsets.extend(chunk.stripped_offsets);
        self.filter_hits.merge(&chunk.filter_hits);
        self.samples_read = self.samples.len() as u32;
        self.stats.absorb_chunk(&chunk.stats, line_offset)
    }

    /// Interns another chunk's strings; returns the id of each here.
    fn adopt_strings(&mut self, strings: &Strings) -> Result<Vec<u32>, String> {
        strings
            .iter()
            .map(|text| self.strings.intern(text))
            .collect()
    }

    fn append_keys(
        &mut self,
        keys: &[KeyFact],
        remap_key: &dyn Fn(KeyIds) -> KeyIds,
        shift: u32,
    ) -> Result<Vec<u32>, String> {
        let mut remap = Vec::with_capacity(keys.len());
        let mut index: InputMap<KeyIds, usize> = self
            .keys
            .iter()
            .enumerate()
            .map(|(at, key)| (key.ids(), at))
            .collect();
        for key in keys {
            let ids = remap_key(key.ids());
            let Some(&at) = index.get(&ids) else {
                remap.push(self.keys.len() as u32);
                let mut seen = Seen::default();
                seen.merge(key.seen, shift);
                let [category, symbol, caller, holder] = ids;
                index.insert(ids, self.keys.len());
                self.keys.push(KeyFact {
                    category,
                    symbol,
                    caller,
                    holder,
                    seen,
                    ..*key
                });
                continue;
            };
            remap.push(at as u32);
            let into = &mut self.keys[at];
            into.total_ns = into
                .total_ns
                .checked_add(key.total_ns)
                .ok_or_else(|| overflow(&self.strings, ids))?;
            into.rows = into.rows.saturating_add(key.rows);
            into.max_ns = into.max_ns.max(key.max_ns);
            into.seen.merge(key.seen, shift);
            into.uncounted |= key.uncounted;
        }
        Ok(remap)
    }
}

/// The error of a key whose total passes 2^64 ns, its names cut as any
/// quoted input is (a 500 000-character lock name is not a 500 KB line).
fn overflow(strings: &Strings, ids: KeyIds) -> String {
    let [category, symbol, caller, holder] = ids.map(|id| shorten(strings.get(id)));
    let held = if holder.is_empty() {
        String::new()
    } else {
        format!(" held by {holder}")
    };
    format!("the total wait of {category} {symbol} {caller}{held} overflows 64-bit nanoseconds")
}

/// The most key texts the per-sample cache holds.
const BY_TEXT_LIMIT: usize = 1 << 18;

/// A key's fold, row by row: closing a sample then reads only the keys'
/// totals (a file of 4 000 samples closes 17 M (sample, key) pairs). 32
/// bytes, two to a cache line, so that the records of 16 000 keys stay in
/// a core's L2 cache beside their text index: what a row needs and nothing
/// else. The first sample a key is in is written in its [`KeyFact`] when
/// its first row makes it.
#[derive(Debug, Clone, Copy)]
#[repr(align(32))]
struct KeyState {
    total_ns: u64,
    rows: u64,
    max_ns: u64,
    /// The last sample with a row of the key; [`NO_SAMPLE`] before one.
    last: u32,
    /// How many samples have a row of the key.
    samples: u32,
}

/// A key as reading makes it: 16 bytes, its [`KeyFact`] made at the end
/// from this and its [`KeyState`].
#[derive(Debug, Clone, Copy)]
struct NewKey {
    ids: KeyIds,
    /// The sample of its first row.
    first: u32,
}

impl NewKey {
    fn ids(&self) -> &KeyIds {
        &self.ids
    }
}

/// A sample number no input reaches, so that a key's first row is the
/// first of its sample like any other, without a branch.
const NO_SAMPLE: u32 = u32::MAX;

/// What closing a sample needs of a key: one 16-byte record.
#[derive(Debug, Clone, Copy)]
struct Closing {
    /// The key's total when the last sample it was in closed: its wait in
    /// a sample is the difference.
    closed_ns: u64,
    /// Its slot in [`FactsBuilder::sums`] and [`FactsBuilder::groups`]:
    /// found once, when the key is first seen.
    sum_slot: u32,
    group_slot: u32,
}

/// The current sample's wait on one (category, kernel_lock).
#[derive(Debug, Clone, Copy, Default)]
struct SampleSlot {
    total_ns: u64,
    /// Some row of the sample had this class.
    open: bool,
}

/// The [`Sink`] that folds rows into facts.
#[derive(Debug, Default)]
pub struct FactsBuilder {
    facts: InputFacts,
    fold: Fold,
    /// Indices into `facts.keys` by the hashes of their key
    /// ids: 4 bytes an entry.
    index: HashTable<u32>,
    /// The ids of keys that `--match` or `--exclude` leave out.
    left_out: InputSet<KeyIds>,
    /// The id of the empty holder every key has unless grouped by holder.
    no_holder: Option<u32>,
    /// The same by the row's key text, when the parser gives it: one hash
    /// of the text instead of three interning lookups and this one. Valid
    /// for one key layout (`by_text_layout`).
    by_text: TextIndex,
    by_text_layout: u64,
    /// Each key's ids and first sample, by key index, while reading.
    keys: Vec<NewKey>,
    /// Each key's fold, by key index; copied into `facts.keys` at the end.
    states: Vec<KeyState>,
    /// What closing a sample needs of each key, by key index.
    closing: Vec<Closing>,
    /// Per key index, whether some row was a sum of an unknown number of
    /// waits: apart, one byte a key, because such a format says so on
    /// every row (16 000 keys: 16 KiB, in the L1 cache).
    uncounted: Vec<bool>,
    /// The keys with rows in the current sample: the first `touched_len`
    /// entries; one entry more than there are keys, so that a row writes
    /// its key without asking whether it is the key's first in the sample.
    touched: Vec<u32>,
    touched_len: usize,
    /// The index of the current sample within `sample_states`.
    sample: u32,
    /// The current sample's wait by (category, kernel_lock), by slot.
    sums: Vec<((u32, bool), SampleSlot)>,
    sum_slots: HashTable<u32>,
    /// The samples each group of the grouping appears in, by slot (unused
    /// when the grouping is by every key).
    groups: Vec<(KeyIds, Seen)>,
    group_slots: HashTable<u32>,
    /// The first sample was opened by a row, not by the parser: in a chunk
    /// of a file, that row continues the previous chunk's last sample.
    opened_by_row: bool,
    /// The current sample is one `--samples` leaves out.
    skipping: bool,
    /// The state totals of the samples kept so far.
    sample_states: SampleStates,
    /// The waits per category of the samples closed so far.
    closed_sums: Vec<SampleSum>,
}

impl FactsBuilder {
    /// A builder for the input with this label, folding as `fold` says.
    pub fn new(label: &str, fold: &Fold) -> Self {
        let mut builder = FactsBuilder {
            fold: fold.clone(),
            ..FactsBuilder::default()
        };
        builder.facts.label = label.to_string();
        builder.facts.grouped_by = kept_keys(&fold.by);
        builder
    }

    /// The facts, with the parser's statistics attached.
    pub fn finish(mut self, stats: ParseStats) -> InputFacts {
        self.close_sample();
        // The strings' index goes before the keys' records are made.
        self.facts.strings.seal();
        self.write_keys();
        self.facts.detail.finish();
        self.facts.groups_seen = std::mem::take(&mut self.groups);
        self.sample_states.shrink_to_fit();
        self.facts.samples = Arc::new(self.sample_states);
        self.closed_sums.shrink_to_fit();
        self.facts.sample_sums = Arc::new(self.closed_sums);
        self.facts.stats = stats;
        self.facts
    }

    /// The facts of one chunk of an input, and whether its first sample was
    /// opened by a row (see [`InputFacts::append`]).
    pub fn finish_chunk(self, stats: ParseStats) -> (InputFacts, bool) {
        let opened_by_row = self.opened_by_row;
        (self.finish(stats), opened_by_row)
    }

    fn intern(&mut self, text: &str) -> Result<u32, String> {
        self.facts.strings.intern(text)
    }

    /// Interns a symbol or caller, without its offset unless kept.
    fn intern_site(&mut self, text: &str) -> Result<u32, String> {
        let site = read_site(
            text,
            self.fold.keep_offsets,
            &mut self.facts.stripped_offsets,
        );
        self.intern(site)
    }

    /// Interns a row's holder when grouping by holder (by its name alone
    /// with [`Fold::holder_names`]); the empty text otherwise, so that
    /// keys are not split by it.
    fn intern_holder(&mut self, text: &str) -> Result<u32, String> {
        if !self.fold.by.contains(&GroupKey::Holder) {
            // Once, not a lookup a row: rows without a key text come here.
            if let Some(id) = self.no_holder {
                return Ok(id);
            }
            let id = self.intern("")?;
            self.no_holder = Some(id);
            return Ok(id);
        }
        let text = crate::holders::holder_or_unknown(text);
        if self.fold.holder_names {
            return self.intern(crate::holders::name_of_holder(text));
        }
        self.intern(text)
    }

    /// The index of the row's key, created empty if new.
    fn key_of(&mut self, row: &Row<'_>) -> Result<u32, String> {
        let ids = [
            self.intern(row.category)?,
            self.intern_site(row.symbol)?,
            self.intern_site(row.caller)?,
            self.intern_holder(row.holder)?,
        ];
        if let Some(at) = find_position(&self.index, &self.keys, &ids, NewKey::ids) {
            return Ok(at);
        }
        if self.fold.filters.on_keys() && (self.left_out.contains(&ids) || !self.filter_keeps(ids))
        {
            self.left_out.insert(ids);
            return Ok(LEFT_OUT);
        }
        let first = self.sample;
        let at = position_or_push(&mut self.index, &mut self.keys, &ids, NewKey::ids, || {
            NewKey { ids, first }
        });
        let [category, symbol, ..] = ids;
        let kernel_lock = self.facts.key(symbol) == KERNEL_LOCK;
        self.touched.resize(self.keys.len() + 1, 0);
        let sum_slot = slot_of(
            &mut self.sum_slots,
            &mut self.sums,
            (category, kernel_lock),
            SampleSlot::default(),
        );
        let group_slot = if self.counts_groups() {
            let kept = self.facts.grouped_by;
            let group = std::array::from_fn(|at| if kept[at] { ids[at] } else { NO_KEY });
            slot_of(
                &mut self.group_slots,
                &mut self.groups,
                group,
                Seen::default(),
            )
        } else {
            0
        };
        self.states.push(KeyState {
            total_ns: 0,
            rows: 0,
            max_ns: 0,
            last: NO_SAMPLE,
            samples: 0,
        });
        self.closing.push(Closing {
            closed_ns: 0,
            sum_slot,
            group_slot,
        });
        self.uncounted.push(false);
        Ok(at)
    }

    /// Whether groups are coarser than keys, so count their own samples.
    fn counts_groups(&self) -> bool {
        self.facts.grouped_by != [true; KEY_PARTS]
    }

    /// Whether `--match` and `--exclude` keep the key with these ids.
    fn filter_keeps(&mut self, ids: KeyIds) -> bool {
        let texts = [0, 1, 2].map(|at| self.facts.strings.get(ids[at]));
        self.fold.filters.keeps(texts, &mut self.facts.filter_hits)
    }

    /// Writes the current sample's sums and its keys' waits (detail).
    fn close_sample(&mut self) {
        let sample = self.sample;
        let touched = std::mem::take(&mut self.touched_len);
        let count_groups = self.counts_groups();
        for &at in &self.touched[..touched] {
            let total_ns = self.states[at as usize].total_ns;
            let closing = &mut self.closing[at as usize];
            let wait = total_ns - std::mem::replace(&mut closing.closed_ns, total_ns);
            let (sum_slot, group_slot) = (closing.sum_slot, closing.group_slot);
            let sum = &mut self.sums[sum_slot as usize].1;
            sum.total_ns = sum.total_ns.saturating_add(wait);
            sum.open = true;
            if count_groups {
                self.groups[group_slot as usize].1.add(sample);
            }
            if self.fold.detail {
                self.facts.detail.push(at, sample, wait);
            }
        }
        for ((category, kernel_lock), sum) in &mut self.sums {
            if std::mem::take(&mut sum.open) {
                let total_ns = std::mem::take(&mut sum.total_ns);
                self.closed_sums
                    .push(SampleSum::new(sample, *category, *kernel_lock, total_ns));
            }
        }
    }

    /// Makes each key's [`KeyFact`] from its ids and its fold, once the
    /// records only reading needed are given back: a key is kept once at
    /// a time, not twice.
    fn write_keys(&mut self) {
        self.index = HashTable::new();
        self.by_text = TextIndex::default();
        self.closing = Vec::new();
        self.touched = Vec::new();
        let folds = self.states.iter().zip(&self.uncounted);
        let strings = &self.facts.strings;
        self.facts.keys = std::mem::take(&mut self.keys)
            .into_iter()
            .zip(folds)
            .map(|(key, (state, &uncounted))| {
                let [category, symbol, caller, holder] = key.ids;
                KeyFact {
                    category,
                    symbol,
                    caller,
                    holder,
                    kernel_lock: strings.get(symbol) == KERNEL_LOCK,
                    total_ns: state.total_ns,
                    rows: state.rows,
                    max_ns: state.max_ns,
                    seen: Seen {
                        first: key.first,
                        last: state.last,
                        count: state.samples,
                    },
                    uncounted,
                }
            })
            .collect();
    }
}

/// The slot of `key` in `slots`, a new one holding `empty` if none.
fn slot_of<K: Copy + Eq + std::hash::Hash, V>(
    index: &mut HashTable<u32>,
    slots: &mut Vec<(K, V)>,
    key: K,
    empty: V,
) -> u32 {
    position_or_push(index, slots, &key, |(key, _)| key, || (key, empty))
}

impl Sink for FactsBuilder {
    fn sample(&mut self, states: Vec<State>) -> Result<(), crate::parse::SinkError> {
        self.close_sample();
        self.facts.samples_read += 1;
        let number = self.facts.samples_read;
        self.skipping = self.fold.filters.skips_sample(number);
        if self.skipping {
            return Ok(());
        }
        if self.fold.filters.samples.is_some() {
            self.facts.sample_numbers.push(number);
        }
        self.sample = self.sample_states.len() as u32;
        self.sample_states.push(&states)?;
        Ok(())
    }

    fn holder(
        &mut self,
        share: crate::holders::HolderShare,
    ) -> Result<(), crate::parse::SinkError> {
        match &mut self.facts.holders {
            Holders::Known(facts) => facts.shares.push(share),
            none => {
                *none = Holders::Known(crate::holders::HolderFacts {
                    shares: vec![share],
                    ..Default::default()
                })
            }
        }
        Ok(())
    }

    fn row(&mut self, row: &Row<'_>) -> Result<(), crate::parse::SinkError> {
        if self.facts.samples_read == 0 {
            self.opened_by_row = true;
            self.sample(Vec::new())?;
        }
        if self.skipping {
            return Ok(());
        }
        if row.key_layout != self.by_text_layout {
            self.by_text.clear();
            self.by_text_layout = row.key_layout;
        }
        // A key text names no holder: rows of one text and other holders
        // are other keys.
        let by_text = !row.key_text.is_empty() && row.holder.is_empty();
        let cached = by_text.then(|| self.by_text.get(row.key_text)).flatten();
        let at = match cached {
            Some(at) => at,
            None => {
                let at = self.key_of(row)?;
                // Past a bound the keys hardly repeat: a bigger cache would
                // cost a copy of every key text and win nothing.
                if by_text && self.by_text.len() < BY_TEXT_LIMIT {
                    self.by_text.insert(row.key_text, at);
                }
                at
            }
        };
        Ok(self.fold_into(at, row)?)
    }

    fn row_by_key_text(&mut self, row: &Row<'_>) -> Result<bool, crate::parse::SinkError> {
        // The whole row where it may be checked or not read at all.
        if self.facts.samples_read == 0
            || self.skipping
            || row.key_layout != self.by_text_layout
            || !row.holder.is_empty()
        {
            return Ok(false);
        }
        let Some((number, at)) = self.by_text.find(row.key_text) else {
            return Ok(false);
        };
        if number != at {
            return Ok(self.fold_into_cold(at, row).map(|()| true)?);
        }
        // The entry's number is its key's index while texts and keys were
        // made one for one: the key's record can be loaded from the number
        // at once, while the entry's line (the text, the value) is still
        // on its way.
        Ok(self.fold_into(number, row).map(|()| true)?)
    }
}

impl FactsBuilder {
    /// [`FactsBuilder::fold_into`] for a text whose entry number is not its
    /// key's index; apart, so that the common path's call is not merged
    /// with it into one that waits for the entry.
    #[cold]
    #[inline(never)]
    fn fold_into_cold(&mut self, at: u32, row: &Row<'_>) -> Result<(), String> {
        self.fold_into(at, row)
    }

    /// Folds a row into the key at `at` (unless filters leave it out).
    fn fold_into(&mut self, at: u32, row: &Row<'_>) -> Result<(), String> {
        if at == LEFT_OUT {
            return Ok(());
        }
        self.facts.rows = self
            .facts
            .rows
            .checked_add(row.count)
            .ok_or("the row count overflows a 64-bit counter")?;
        let sample = self.sample;
        let state = &mut self.states[at as usize];
        let Some(total_ns) = state.total_ns.checked_add(row.dur_ns) else {
            return Err(overflow(&self.facts.strings, self.keys[at as usize].ids));
        };
        state.total_ns = total_ns;
        // Cannot overflow: the input's row count above did not.
        state.rows += row.count;
        state.max_ns = state.max_ns.max(row.max_ns);
        // Without a branch: whether this is the key's first row in the
        // sample is known only once its record is loaded, and in a file of
        // many samples it is half of the rows: a guess missed there would
        // discard the next rows' lookups already under way.
        let first_in_sample = state.last != sample;
        state.samples += u32::from(first_in_sample);
        state.last = sample;
        self.touched[self.touched_len] = at;
        self.touched_len += usize::from(first_in_sample);
        self.fold_waits(at, row);
        if !row.stack.is_empty() {
            self.fold_stack(at, row);
        }
        Ok(())
    }

    /// Adds the row's wait (or, for a count() map, its events) to its call
    /// stack's, the frames without offsets unless kept.
    #[cold]
    fn fold_stack(&mut self, at: u32, row: &Row<'_>) {
        let stack = folded_stack(row.stack, self.fold.keep_offsets);
        let weight = match row.waits {
            RowWaits::Untimed => row.count,
            _ => row.dur_ns,
        };
        let sum = self
            .facts
            .stacks
            .entry((at, stack.into_owned().into()))
            .or_default();
        *sum = sum.saturating_add(weight);
    }

    /// Counts the row's single waits in its key's distribution, or marks
    /// the key's event count unknown.
    fn fold_waits(&mut self, at: u32, row: &Row<'_>) {
        let waits = match row.waits {
            RowWaits::Unknown | RowWaits::Counted if self.fold.rows_are_waits && row.count == 1 => {
                RowWaits::One
            }
            waits => waits,
        };
        match waits {
            RowWaits::Unknown => self.uncounted[at as usize] = true,
            RowWaits::Counted | RowWaits::Untimed => {}
            RowWaits::One => self
                .facts
                .histograms
                .entry(at)
                .or_default()
                .record(row.dur_ns),
            RowWaits::Each(histogram) => self
                .facts
                .histograms
                .entry(at)
                .or_default()
                .merge(histogram),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(dur_ns: u64, category: &'a str, symbol: &'a str, caller: &'a str) -> Row<'a> {
        Row {
            category,
            symbol,
            caller,
            dur_ns,
            ..Row::new(1)
        }
        .with_max()
    }

    /// Each sample's sums as (sample, wait), in order.
    fn sums_by_sample(facts: &InputFacts) -> Vec<(u32, u64)> {
        facts
            .sample_sums
            .iter()
            .map(|sum| (sum.sample, sum.total_ns))
            .collect()
    }

    fn by(keys: &[GroupKey]) -> Fold {
        Fold {
            by: keys.to_vec(),
            detail: true,
            keep_offsets: false,
            filters: Default::default(),
            rows_are_waits: false,
            holder_names: false,
        }
    }

    #[test]
    fn folds_rows_per_key_and_counts_the_samples_each_appears_in() {
        let mut builder = FactsBuilder::new("in", &by(&[GroupKey::Symbol]));
        builder.sample(Vec::new()).unwrap();
        builder
            .row(&row(10, "kernel", "kernel_lock", "reaper"))
            .unwrap();
        builder
            .row(&row(30, "kernel", "kernel_lock", "reaper+0x1c"))
            .unwrap();
        builder
            .row(&row(5, "mutex", "sched_lock", "wakeup_n"))
            .unwrap();
        builder.sample(Vec::new()).unwrap();
        builder
            .row(&row(7, "kernel", "kernel_lock", "exit1"))
            .unwrap();
        let facts = builder.finish(ParseStats::default());
        assert_eq!(facts.keys.len(), 3);
        let reaper = facts.keys[0];
        assert_eq!((reaper.total_ns, reaper.rows, reaper.max_ns), (40, 2, 30));
        assert_eq!((reaper.seen.count, reaper.kernel_lock), (1, true));
        assert_eq!(facts.key(facts.keys[2].caller), "exit1");
        assert_eq!(facts.rows, 4);
        // Six texts, and the empty holder of every key.
        assert_eq!(facts.strings.len(), 8);
        let kernel_lock = facts.keys[0].symbol;
        let by_symbol: Vec<(KeyIds, u32)> = facts
            .groups_seen
            .iter()
            .map(|(ids, seen)| (*ids, seen.count))
            .collect();
        // Not grouped by holder: every key's is the same, empty, and kept.
        let no_holder = facts.keys[0].holder;
        assert_eq!(facts.key(no_holder), "");
        assert_eq!(by_symbol[0], ([NO_KEY, kernel_lock, NO_KEY, no_holder], 2));
        let sums = sums_by_sample(&facts);
        assert_eq!(sums, [(0, 40), (0, 5), (1, 7)]);
        // reaper's two rows are one wait of sample 0.
        let detail: Vec<(u32, u32, u64)> = facts.detail.iter().collect();
        assert_eq!(detail, [(0, 0, 40), (1, 0, 5), (2, 1, 7)]);
        let stripped: Vec<&str> = facts.stripped_offsets.iter().map(|s| &**s).collect();
        assert_eq!(stripped, ["reaper+0x1c"]);
    }

    #[test]
    fn a_key_absent_from_some_samples_counts_and_sums_only_its_own() {
        let every_key = [GroupKey::Category, GroupKey::Symbol, GroupKey::Caller];
        let mut builder = FactsBuilder::new("in", &by(&every_key));
        for (sample, rows) in [
            &[(3, "lock_a"), (4, "lock_a")][..],
            &[(20, "lock_b")],
            &[(100, "lock_a"), (1, "lock_b"), (2, "lock_b")],
        ]
        .into_iter()
        .enumerate()
        {
            builder.sample(Vec::new()).unwrap();
            for &(dur, symbol) in rows {
                builder.row(&row(dur, "mutex", symbol, "f")).unwrap();
            }
            assert_eq!(builder.sample, sample as u32);
        }
        let facts = builder.finish(ParseStats::default());
        let seen: Vec<(u64, u64, Seen)> = facts
            .keys
            .iter()
            .map(|key| (key.total_ns, key.rows, key.seen))
            .collect();
        let seen_in = |first, last, count| Seen { first, last, count };
        assert_eq!(
            seen,
            [(107, 3, seen_in(0, 2, 2)), (23, 3, seen_in(1, 2, 2))]
        );
        let sums = sums_by_sample(&facts);
        assert_eq!(sums, [(0, 7), (1, 20), (2, 103)]);
        let mut detail: Vec<(u32, u32, u64)> = facts.detail.iter().collect();
        detail.sort_unstable();
        assert_eq!(detail, [(0, 0, 7), (0, 2, 100), (1, 1, 20), (1, 2, 3)]);
    }

    #[test]
    fn chunks_that_share_a_sample_count_it_once() {
        let read = |dur_ns: u64, new_sample_after: bool| {
            let mut builder = FactsBuilder::new("in", &by(&[GroupKey::Category]));
            builder
                .row(&row(dur_ns, "kernel", "kernel_lock", "reaper"))
                .unwrap();
            if new_sample_after {
                builder.sample(Vec::new()).unwrap();
                builder
                    .row(&row(1, "kernel", "kernel_lock", "reaper"))
                    .unwrap();
            }
            builder.finish(ParseStats::default())
        };
        let mut all = read(10, false);
        all.append(read(20, true), true, 0).unwrap();
        assert_eq!(all.samples.len(), 2);
        assert_eq!(all.keys.len(), 1);
        assert_eq!((all.keys[0].total_ns, all.keys[0].seen.count), (31, 2));
        assert_eq!(all.groups_seen[0].1.count, 2);
        let detail: Vec<(u32, u32, u64)> = all.detail.iter().collect();
        // The continued sample 0 comes twice, once from each chunk.
        assert_eq!(detail, [(0, 0, 10), (0, 0, 20), (0, 1, 1)]);
        all.append(read(5, false), false, 0).unwrap();
        assert_eq!((all.keys[0].total_ns, all.keys[0].seen.count), (36, 3));
    }

    #[test]
    fn offsets_are_kept_when_asked() {
        let fold = Fold {
            keep_offsets: true,
            ..Fold::default()
        };
        let mut builder = FactsBuilder::new("in", &fold);
        builder
            .row(&row(10, "kernel", "kernel_lock", "reaper+0x1c"))
            .unwrap();
        builder
            .row(&row(10, "kernel", "kernel_lock", "reaper+0x24"))
            .unwrap();
        let facts = builder.finish(ParseStats::default());
        assert_eq!(facts.keys.len(), 2);
        assert!(facts.stripped_offsets.is_empty());
        assert!(facts.groups_seen.is_empty());
    }

    /// A sink that never takes the parser's key-text path.
    struct WholeRows(FactsBuilder);

    impl Sink for WholeRows {
        fn sample(&mut self, states: Vec<State>) -> Result<(), crate::parse::SinkError> {
            self.0.sample(states)
        }
        fn row(&mut self, row: &Row<'_>) -> Result<(), crate::parse::SinkError> {
            self.0.row(row)
        }
    }

    #[test]
    fn rows_read_by_key_text_fold_as_whole_rows() {
        let text = "Running 5ms\ndur category symbol caller\n10 kernel kernel_lock reaper\n\
                    20 kernel kernel_lock reaper\n5 mutex sched_lock wakeup_n\n\n\
                    Running 3ms\ndur caller symbol category\n7 reaper kernel_lock kernel\n\
                    8 reaper kernel_lock kernel\n1 x y z\n";
        let fold = Fold {
            filters: Filters {
                excludes: vec![filter::KeyFilter::parse("caller=^x$").unwrap()],
                ..Filters::default()
            },
            ..Fold::default()
        };
        let options = crate::parse::ParseOptions::default();
        let mut fast = FactsBuilder::new("in", &fold);
        crate::parse::table::parse(text.as_bytes(), "in", &options, &mut fast).unwrap();
        let mut whole = WholeRows(FactsBuilder::new("in", &fold));
        crate::parse::table::parse(text.as_bytes(), "in", &options, &mut whole).unwrap();
        let (fast, whole) = (
            fast.finish(ParseStats::default()),
            whole.0.finish(ParseStats::default()),
        );
        assert_eq!(fast.keys, whole.keys);
        assert_eq!(fast.sample_sums, whole.sample_sums);
        assert_eq!(fast.rows, 5);
        let reaper = fast.keys[0];
        assert_eq!((reaper.total_ns, reaper.rows, reaper.max_ns), (45, 4, 20));
        // A known text with a bad dur is still an error.
        let bad = "dur category symbol caller\n10 kernel kernel_lock reaper\n1x kernel kernel_lock reaper\n";
        let mut fast = FactsBuilder::new("in", &Fold::default());
        let err =
            crate::parse::table::parse(bad.as_bytes(), "in", &options, &mut fast).unwrap_err();
        assert!(err.to_string().contains(":3:"), "{err}");
    }

    #[test]
    fn texts_of_one_key_and_texts_after_them_fold_into_their_keys() {
        // Two texts of one key (the offset is dropped): from the second
        // on, entry numbers and key indices differ.
        let text = "dur category symbol caller\n10 kernel kernel_lock reaper+0x1c\n\
                    20 kernel kernel_lock reaper\n5 mutex sched_lock wakeup_n\n\
                    7 mutex sched_lock wakeup_n\n1 kernel kernel_lock reaper+0x1c\n\
                    2 kernel kernel_lock reaper\n3 spin sched_lock exit1\n4 spin sched_lock exit1\n";
        let options = crate::parse::ParseOptions::default();
        let mut fast = FactsBuilder::new("in", &Fold::default());
        crate::parse::table::parse(text.as_bytes(), "in", &options, &mut fast).unwrap();
        let mut whole = WholeRows(FactsBuilder::new("in", &Fold::default()));
        crate::parse::table::parse(text.as_bytes(), "in", &options, &mut whole).unwrap();
        let (fast, whole) = (
            fast.finish(ParseStats::default()),
            whole.0.finish(ParseStats::default()),
        );
        assert_eq!(fast.keys, whole.keys);
        let totals: Vec<(u64, u64)> = fast.keys.iter().map(|k| (k.total_ns, k.rows)).collect();
        assert_eq!(totals, [(33, 4), (12, 2), (7, 2)]);
    }

    #[test]
    fn offsets_are_stripped_only_when_they_are_offsets() {
        assert_eq!(strip_offset("vm_map_lock_ln+0x4f"), "vm_map_lock_ln");
        assert_eq!(strip_offset("do_exit+0x1a2/0x9d0"), "do_exit");
        assert_eq!(strip_offset("reaper"), "reaper");
        assert_eq!(strip_offset("odd+0xzz"), "odd+0xzz");
        assert_eq!(strip_offset("+0x10"), "+0x10");
        // bpftrace prints decimal offsets.
        assert_eq!(strip_offset("xfs_ilock+125"), "xfs_ilock");
        assert_eq!(strip_offset("rmqueue_bulk+76"), "rmqueue_bulk");
        assert_eq!(strip_offset("+76"), "+76");
        assert_eq!(strip_offset("a b+"), "a b+");
        assert_eq!(strip_offset("c++"), "c++");
        assert_eq!(strip_offset("x+1y"), "x+1y");
        assert_eq!(strip_offset("-2+3"), "-2+3");
    }

    #[test]
    fn overflowing_sum_is_an_error() {
        let mut builder = FactsBuilder::new("in", &Fold::default());
        builder
            .row(&row(u64::MAX, "kernel", "kernel_lock", "reaper"))
            .unwrap();
        let err = builder
            .row(&row(1, "kernel", "kernel_lock", "reaper"))
            .unwrap_err();
        assert!(err.to_string().contains("overflows"), "{err}");
    }

    #[test]
    fn overflow_across_samples_is_an_error() {
        let mut builder = FactsBuilder::new("in", &Fold::default());
        builder
            .row(&row(u64::MAX, "kernel", "kernel_lock", "reaper"))
            .unwrap();
        builder.sample(Vec::new()).unwrap();
        // At the row that overflows, so that the parser names its line.
        let err = builder
            .row(&row(1, "kernel", "kernel_lock", "reaper"))
            .unwrap_err();
        assert!(err.to_string().contains("overflows"), "{err}");
    }
}
