//! Facts: rows folded while parsing into one record per (sample, category,
//! symbol, caller), so memory grows with distinct keys, not with rows.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::parse::{InputFormat, ParseStats, Row, Sink, State};

/// One distinct key of one sample, with its rows folded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fact {
    /// 0-based index of the sample within its input.
    pub sample: u32,
    /// Interned category (index into [`InputFacts::strings`]).
    pub category: u32,
    /// Interned symbol.
    pub symbol: u32,
    /// Interned caller.
    pub caller: u32,
    /// Sum of the rows' durations, nanoseconds.
    pub total_ns: u64,
    /// Number of events folded in (row counts).
    pub rows: u64,
    /// Longest single wait, nanoseconds (a row's `max_ns`).
    pub max_ns: u64,
}

/// Everything read from one input, ready for the engine.
#[derive(Debug, Clone, Default)]
pub struct InputFacts {
    /// The input's label (file stem or `--label`).
    pub label: String,
    /// The format it was read as.
    pub format: InputFormat,
    /// The state totals of each sample, in order.
    pub samples: Vec<Vec<State>>,
    /// Interned key strings.
    pub strings: Vec<Box<str>>,
    /// The folded rows.
    pub facts: Vec<Fact>,
    /// Rows read (before folding), counting a row's `count` column.
    pub rows: u64,
    /// What the parser skipped.
    pub stats: ParseStats,
}

impl InputFacts {
    /// The string behind an interned key.
    pub fn key(&self, id: u32) -> &str {
        &self.strings[id as usize]
    }

    /// Appends the facts of the next chunk of the same input, read on
    /// another core. With `continues_last_sample`, the chunk's first sample
    /// is the rest of this one's last (the chunk began inside its table):
    /// its facts fold into that sample. `line_offset` is the number of lines
    /// before the chunk, to number its skipped lines.
    pub fn append(
        &mut self,
        chunk: InputFacts,
        continues_last_sample: bool,
        line_offset: u64,
    ) -> Result<(), String> {
        let mut ids: FxHashMap<Box<str>, u32> = self
            .strings
            .iter()
            .enumerate()
            .map(|(id, text)| (text.clone(), id as u32))
            .collect();
        let remap: Vec<u32> = chunk
            .strings
            .iter()
            .map(|text| {
                *ids.entry(text.clone()).or_insert_with(|| {
                    self.strings.push(text.clone());
                    (self.strings.len() - 1) as u32
                })
            })
            .collect();
        let continues = continues_last_sample && !self.samples.is_empty();
        let first_sample = self.samples.len() - usize::from(continues);
        let mut last_sample: FxHashMap<[u32; 3], usize> = FxHashMap::default();
        if continues {
            for (at, fact) in self.facts.iter().enumerate() {
                if fact.sample as usize == first_sample {
                    last_sample.insert([fact.category, fact.symbol, fact.caller], at);
                }
            }
        }
        for fact in chunk.facts {
            let fact = Fact {
                sample: first_sample as u32 + fact.sample,
                category: remap[fact.category as usize],
                symbol: remap[fact.symbol as usize],
                caller: remap[fact.caller as usize],
                ..fact
            };
            let key = [fact.category, fact.symbol, fact.caller];
            match last_sample.get(&key) {
                Some(&at) if continues && fact.sample as usize == first_sample => {
                    let into = &mut self.facts[at];
                    into.total_ns = into.total_ns.checked_add(fact.total_ns).ok_or_else(|| {
                        format!(
                            "the total wait of {} {} {} overflows 64-bit nanoseconds",
                            self.strings[key[0] as usize],
                            self.strings[key[1] as usize],
                            self.strings[key[2] as usize]
                        )
                    })?;
                    into.rows = into.rows.saturating_add(fact.rows);
                    into.max_ns = into.max_ns.max(fact.max_ns);
                }
                _ => self.facts.push(fact),
            }
        }
        let skip_first = usize::from(continues);
        self.samples
            .extend(chunk.samples.into_iter().skip(skip_first));
        self.rows = self.rows.saturating_add(chunk.rows);
        self.stats.absorb_chunk(&chunk.stats, line_offset);
        Ok(())
    }
}

/// The most key texts the per-sample cache holds.
const BY_TEXT_LIMIT: usize = 1 << 16;

/// The [`Sink`] that folds rows into facts.
#[derive(Debug, Default)]
pub struct FactsBuilder {
    facts: InputFacts,
    /// Ids of `facts.strings`, found by the strings' hashes: each string is
    /// kept once.
    interned: HashTable<u32>,
    /// The facts of the current sample by (category, symbol, caller);
    /// earlier samples take no more rows, so this is cleared at each one.
    index: FxHashMap<[u32; 3], usize>,
    /// The same facts by the row's key text, when the parser gives it: one
    /// hash of the text instead of three interning lookups and this one.
    by_text: FxHashMap<Box<str>, usize>,
    /// The first sample was opened by a row, not by the parser: in a chunk
    /// of a file, that row continues the previous chunk's last sample.
    opened_by_row: bool,
}

impl FactsBuilder {
    /// A builder for the input with this label.
    pub fn new(label: &str) -> Self {
        let mut builder = FactsBuilder::default();
        builder.facts.label = label.to_string();
        builder
    }

    /// The facts, with the parser's statistics attached.
    pub fn finish(mut self, stats: ParseStats) -> InputFacts {
        self.facts.stats = stats;
        self.facts
    }

    /// The facts of one chunk of an input, and whether its first sample was
    /// opened by a row (see [`InputFacts::append`]).
    pub fn finish_chunk(self, stats: ParseStats) -> (InputFacts, bool) {
        let opened_by_row = self.opened_by_row;
        (self.finish(stats), opened_by_row)
    }

    fn intern(&mut self, text: &str) -> u32 {
        let strings = &mut self.facts.strings;
        let hash = FxBuildHasher.hash_one(text);
        if let Some(&id) = self
            .interned
            .find(hash, |&id| &*strings[id as usize] == text)
        {
            return id;
        }
        let id = strings.len() as u32;
        strings.push(text.into());
        self.interned.insert_unique(hash, id, |&id| {
            FxBuildHasher.hash_one(&*strings[id as usize])
        });
        id
    }
}

impl Sink for FactsBuilder {
    fn sample(&mut self, states: Vec<State>) -> Result<(), String> {
        self.facts.samples.push(states);
        self.index.clear();
        self.by_text.clear();
        Ok(())
    }

    fn row(&mut self, row: &Row<'_>) -> Result<(), String> {
        if self.facts.samples.is_empty() {
            self.opened_by_row = true;
            self.sample(Vec::new())?;
        }
        self.facts.rows = self
            .facts
            .rows
            .checked_add(row.count)
            .ok_or("the row count overflows a 64-bit counter")?;
        let cached = (!row.key_text.is_empty())
            .then(|| self.by_text.get(row.key_text).copied())
            .flatten();
        let at = match cached {
            Some(at) => at,
            None => {
                let at = self.fact_of(row);
                // Past a bound the keys hardly repeat: a bigger cache would
                // cost a copy of every key text and win nothing.
                if !row.key_text.is_empty() && self.by_text.len() < BY_TEXT_LIMIT {
                    self.by_text.insert(row.key_text.into(), at);
                }
                at
            }
        };
        fold_row(&mut self.facts.facts[at], row)
    }
}

impl FactsBuilder {
    /// The index of the current sample's fact for the row's keys, created
    /// empty if new.
    fn fact_of(&mut self, row: &Row<'_>) -> usize {
        let key = [
            self.intern(row.category),
            self.intern(row.symbol),
            self.intern(row.caller),
        ];
        if let Some(&at) = self.index.get(&key) {
            return at;
        }
        let at = self.facts.facts.len();
        self.index.insert(key, at);
        self.facts.facts.push(Fact {
            sample: (self.facts.samples.len() - 1) as u32,
            category: key[0],
            symbol: key[1],
            caller: key[2],
            total_ns: 0,
            rows: 0,
            max_ns: 0,
        });
        at
    }
}

fn fold_row(fact: &mut Fact, row: &Row<'_>) -> Result<(), String> {
    fact.total_ns = fact.total_ns.checked_add(row.dur_ns).ok_or_else(|| {
        format!(
            "the total wait of {} {} {} overflows 64-bit nanoseconds",
            row.category, row.symbol, row.caller
        )
    })?;
    fact.rows = fact
        .rows
        .checked_add(row.count)
        .ok_or("the row count overflows a 64-bit counter")?;
    fact.max_ns = fact.max_ns.max(row.max_ns);
    Ok(())
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

    #[test]
    fn folds_rows_with_the_same_key_per_sample() {
        let mut builder = FactsBuilder::new("in");
        builder.sample(Vec::new()).unwrap();
        builder
            .row(&row(10, "kernel", "kernel_lock", "reaper"))
            .unwrap();
        builder
            .row(&row(30, "kernel", "kernel_lock", "reaper"))
            .unwrap();
        builder
            .row(&row(5, "mutex", "sched_lock", "wakeup_n"))
            .unwrap();
        builder.sample(Vec::new()).unwrap();
        builder
            .row(&row(7, "kernel", "kernel_lock", "reaper"))
            .unwrap();
        let facts = builder.finish(ParseStats::default());
        assert_eq!(facts.facts.len(), 3);
        let first = facts.facts[0];
        assert_eq!((first.total_ns, first.rows, first.max_ns), (40, 2, 30));
        assert_eq!(facts.facts[2].sample, 1);
        assert_eq!(facts.key(facts.facts[2].caller), "reaper");
        assert_eq!(facts.rows, 4);
        assert_eq!(facts.strings.len(), 6);
    }

    #[test]
    fn overflowing_sum_is_an_error() {
        let mut builder = FactsBuilder::new("in");
        builder
            .row(&row(u64::MAX, "kernel", "kernel_lock", "reaper"))
            .unwrap();
        let err = builder
            .row(&row(1, "kernel", "kernel_lock", "reaper"))
            .unwrap_err();
        assert!(err.contains("overflows"), "{err}");
    }
}
