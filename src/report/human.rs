//! Numbers for people: durations in ns, µs, ms or s, shares in percent.
//! Each is a table cell, short enough to need no heap allocation.

use compact_str::{CompactString, format_compact};

/// A duration in the largest unit that keeps it at 1 or more, three
/// decimals: `21.776 ms`, `2.316 s`, `684 ns`.
pub fn duration(ns: u64) -> CompactString {
    const UNITS: [(&str, f64); 3] = [("µs", 1e3), ("ms", 1e6), ("s", 1e9)];
    if ns < 1_000 {
        return format_compact!("{ns} ns");
    }
    let mut index = UNITS
        .iter()
        .rposition(|unit| ns as f64 >= unit.1)
        .unwrap_or(0);
    // 999.9997 ms would print as 1000.000 ms: say 1.000 s instead.
    if round3(ns as f64 / UNITS[index].1) >= 1000.0 && index + 1 < UNITS.len() {
        index += 1;
    }
    let chosen = UNITS[index];
    format_compact!("{:.3} {}", ns as f64 / chosen.1, chosen.0)
}

/// A duration that may be negative (work when spin exceeds running); its
/// size is a difference of two 64-bit times, so it fits 64 bits.
pub fn signed_duration(ns: i128) -> CompactString {
    let size = u64::try_from(ns.unsigned_abs()).unwrap_or(u64::MAX);
    if ns < 0 {
        format_compact!("-{}", duration(size))
    } else {
        duration(size)
    }
}

/// An optional duration; `-` when unknown.
pub fn maybe_duration(ns: Option<u64>) -> CompactString {
    ns.map_or_else(|| CompactString::const_new("-"), duration)
}

/// A fraction as a percentage with one decimal (`65.1 %`); `-` when
/// unknown.
pub fn percent(share: Option<f64>) -> CompactString {
    share.map_or_else(
        || CompactString::const_new("-"),
        |share| format_compact!("{:.1} %", share * 100.0),
    )
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_unit_that_reads_best() {
        assert_eq!(duration(0), "0 ns");
        assert_eq!(duration(684), "684 ns");
        assert_eq!(duration(1_603), "1.603 µs");
        assert_eq!(duration(21_776_000), "21.776 ms");
        assert_eq!(duration(13_260_228), "13.260 ms");
        assert_eq!(duration(2_315_700_000), "2.316 s");
        assert_eq!(duration(999_999_700), "1.000 s");
        assert_eq!(duration(999_999), "999.999 µs");
    }

    #[test]
    fn signed_and_missing_values() {
        assert_eq!(signed_duration(-1_500), "-1.500 µs");
        assert_eq!(signed_duration(7_600_839), "7.601 ms");
        assert_eq!(maybe_duration(None), "-");
        assert_eq!(percent(Some(0.650_953)), "65.1 %");
        assert_eq!(percent(None), "-");
    }
}
