//! Shared by the fuzz targets: parse bytes in one format into facts, as
//! `contend` does, with strict and lenient options in turn.

use contend::facts::{FactsBuilder, InputFacts};
use contend::parse::{self, InputFormat, ParseOptions};

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
        let mut builder = FactsBuilder::new("fuzz");
        if let Ok(stats) = parse::parse(data, "fuzz", format, &options, &mut builder) {
            last = Some(builder.finish(stats));
        }
    }
    last
}
