//! Shared by the fuzz targets: parse bytes in one format into facts, as
//! `contend` does, with strict and lenient options in turn.

use contend::engine::GroupKey;
use contend::facts::{FactsBuilder, Fold, InputFacts};
use contend::facts::filter::{Filters, KeyFilter, SampleList};
use contend::parse::{self, InputFormat, ParseOptions};

/// The grouping the targets read and rank by: coarser than the keys, so
/// that groups' samples are counted apart from keys'; by holder too, so
/// that captures split their waits over the holders.
pub const FUZZ_BY: [GroupKey; 2] = [GroupKey::Symbol, GroupKey::Holder];

/// Parses `data` in `format`; errors are fine, panics and hangs are not.
pub fn parse_both_ways(data: &[u8], format: InputFormat) -> Option<InputFacts> {
    let mut last = None;
    for strict in [false, true] {
        let mut options = ParseOptions {
            strict,
            ..ParseOptions::default()
        };
        options.capture.lenient = !strict;
        options.capture.window_ns = strict.then_some(1_000_000);
        if strict {
            // Named threads, so that their locks' holders are worked out:
            // small koids and the seed's thread, which inputs can hit.
            options.capture.tids = (1..=16).collect();
            options.capture.threads = vec!["reaper".to_string()];
            options.capture.holders = true;
            options.capture.split_by_holder = true;
        }
        // Grouped by symbol, with detail: every fold path runs.
        let fold = Fold {
            by: FUZZ_BY.to_vec(),
            detail: true,
            keep_offsets: strict,
            // A filter on keys and one on samples: their paths run too.
            filters: Filters {
                excludes: vec![KeyFilter::parse("caller=^x").expect("a valid filter")],
                samples: SampleList::parse("1..3,5").ok(),
                ..Filters::default()
            },
            // Every row a single wait: the histograms' path runs too.
            rows_are_waits: !strict,
            // Holders by name, as diff reads them, in one of the two.
            holder_names: !strict,
        };
        let mut builder = FactsBuilder::new("fuzz", &fold);
        if let Ok(stats) = parse::parse(data, "fuzz", format, &options, &mut builder) {
            last = Some(builder.finish(stats));
        }
    }
    last
}
