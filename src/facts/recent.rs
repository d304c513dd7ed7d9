//! The last N samples of an input that never ends (`report --follow
//! --last N`): each kept whole (its states, rows and holders) until N newer
//! ones push it out, then replayed into the facts at the end, so that
//! memory follows N, not the hours a tracer ran.

use std::collections::VecDeque;

use crate::holders::HolderShare;
use crate::parse::{Row, RowWaits, Sink, SinkError, State};

/// A row kept as plain data.
#[derive(Debug, Clone)]
struct KeptRow {
    line: u64,
    dur_ns: u64,
    count: u64,
    max_ns: u64,
    keys: [Box<str>; 4],
    waits: KeptWaits,
    stack: Box<str>,
}

/// What a kept row tells of its single waits. A capture's per-window
/// histograms are not kept: captures are not followed.
#[derive(Debug, Clone, Copy)]
enum KeptWaits {
    Unknown,
    Counted,
    Untimed,
    One,
}

/// One sample as read.
#[derive(Debug, Default)]
struct KeptSample {
    states: Vec<State>,
    rows: Vec<KeptRow>,
    holders: Vec<HolderShare>,
}

/// A sink that keeps the last `limit` samples.
#[derive(Debug)]
pub struct RecentSamples {
    limit: usize,
    samples: VecDeque<KeptSample>,
    /// Samples read, kept or not.
    pub read: u64,
}

impl RecentSamples {
    /// Keeps the last `limit` samples (at least one).
    pub fn new(limit: usize) -> Self {
        RecentSamples {
            limit: limit.max(1),
            samples: VecDeque::new(),
            read: 0,
        }
    }

    /// How many samples are kept.
    pub fn kept(&self) -> usize {
        self.samples.len()
    }

    /// Gives the kept samples to `sink`, oldest first, as a parser would.
    pub fn replay(&self, sink: &mut dyn Sink) -> Result<(), SinkError> {
        for sample in &self.samples {
            sink.sample(sample.states.clone())?;
            for row in &sample.rows {
                sink.row(&row.as_row())?;
            }
            for share in &sample.holders {
                sink.holder(share.clone())?;
            }
        }
        Ok(())
    }

    fn current(&mut self) -> &mut KeptSample {
        if self.samples.is_empty() {
            self.begin(Vec::new());
        }
        self.samples.back_mut().expect("a sample begun")
    }

    fn begin(&mut self, states: Vec<State>) {
        if self.samples.len() == self.limit {
            self.samples.pop_front();
        }
        self.read += 1;
        self.samples.push_back(KeptSample {
            states,
            ..KeptSample::default()
        });
    }
}

impl KeptRow {
    fn of(row: &Row<'_>) -> Self {
        KeptRow {
            line: row.line,
            dur_ns: row.dur_ns,
            count: row.count,
            max_ns: row.max_ns,
            keys: [row.category, row.symbol, row.caller, row.holder].map(Box::from),
            waits: match row.waits {
                RowWaits::Unknown => KeptWaits::Unknown,
                RowWaits::Untimed => KeptWaits::Untimed,
                RowWaits::One => KeptWaits::One,
                RowWaits::Counted | RowWaits::Each(_) => KeptWaits::Counted,
            },
            stack: row.stack.into(),
        }
    }

    fn as_row(&self) -> Row<'_> {
        let [category, symbol, caller, holder] = &self.keys;
        Row {
            line: self.line,
            dur_ns: self.dur_ns,
            count: self.count,
            max_ns: self.max_ns,
            category,
            symbol,
            caller,
            // Replayed rows come whole: no key text to cache on.
            key_text: "",
            key_layout: 0,
            waits: match self.waits {
                KeptWaits::Unknown => RowWaits::Unknown,
                KeptWaits::Counted => RowWaits::Counted,
                KeptWaits::Untimed => RowWaits::Untimed,
                KeptWaits::One => RowWaits::One,
            },
            stack: &self.stack,
            holder,
        }
    }
}

impl Sink for RecentSamples {
    fn sample(&mut self, states: Vec<State>) -> Result<(), crate::parse::SinkError> {
        self.begin(states);
        Ok(())
    }

    fn row(&mut self, row: &Row<'_>) -> Result<(), crate::parse::SinkError> {
        self.current().rows.push(KeptRow::of(row));
        Ok(())
    }

    fn holder(&mut self, share: HolderShare) -> Result<(), crate::parse::SinkError> {
        self.current().holders.push(share);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testing::Collect;

    #[test]
    fn keeps_the_last_samples_and_gives_them_back_as_read() {
        let text = "Running 1ms\ndur category symbol caller\n1 kernel kernel_lock a\n\n\
                    Running 2ms\ndur category symbol caller\n2 kernel kernel_lock b\n\n\
                    Running 3ms\ndur category symbol caller\n3 mutex uvm c\n4 kernel kernel_lock c\n";
        let mut recent = RecentSamples::new(2);
        let options = crate::parse::ParseOptions::default();
        crate::parse::table::parse(text.as_bytes(), "in", &options, &mut recent).unwrap();
        assert_eq!((recent.read, recent.kept()), (3, 2));
        let mut replayed = Collect::default();
        recent.replay(&mut replayed).unwrap();
        let running: Vec<u64> = replayed.samples.iter().map(|(s, _)| s[0].ns).collect();
        assert_eq!(running, [2_000_000, 3_000_000]);
        let callers: Vec<&str> = replayed.samples[1]
            .1
            .iter()
            .map(|row| row.caller.as_str())
            .collect();
        assert_eq!(callers, ["c", "c"]);
        assert_eq!(replayed.samples[1].1[1].dur_ns, 4);
    }
}
