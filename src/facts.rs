//! Facts: rows folded while parsing into one record per (sample, category,
//! symbol, caller), so memory grows with distinct keys, not with rows.

use std::collections::HashMap;

use crate::parse::{ParseStats, Row, Sink, State};

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
    /// The name of the format it was read as.
    pub format: &'static str,
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
}

/// The [`Sink`] that folds rows into facts.
#[derive(Debug, Default)]
pub struct FactsBuilder {
    facts: InputFacts,
    interned: HashMap<Box<str>, u32>,
    index: HashMap<[u32; 4], usize>,
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

    fn intern(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.interned.get(text) {
            return id;
        }
        let id = self.facts.strings.len() as u32;
        self.facts.strings.push(text.into());
        self.interned.insert(text.into(), id);
        id
    }
}

impl Sink for FactsBuilder {
    fn sample(&mut self, states: Vec<State>) -> Result<(), String> {
        self.facts.samples.push(states);
        Ok(())
    }

    fn row(&mut self, row: &Row<'_>) -> Result<(), String> {
        if self.facts.samples.is_empty() {
            self.facts.samples.push(Vec::new());
        }
        let sample = (self.facts.samples.len() - 1) as u32;
        let key = [
            sample,
            self.intern(row.category),
            self.intern(row.symbol),
            self.intern(row.caller),
        ];
        self.facts.rows = self
            .facts
            .rows
            .checked_add(row.count)
            .ok_or("the row count overflows a 64-bit counter")?;
        match self.index.get(&key) {
            Some(&at) => fold_row(&mut self.facts.facts[at], row),
            None => {
                self.index.insert(key, self.facts.facts.len());
                self.facts.facts.push(Fact {
                    sample,
                    category: key[1],
                    symbol: key[2],
                    caller: key[3],
                    total_ns: row.dur_ns,
                    rows: row.count,
                    max_ns: row.max_ns,
                });
                Ok(())
            }
        }
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
