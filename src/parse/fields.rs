//! Reading one field of a row: durations, counts and keys, with the error
//! messages every format shares.

use super::duration::{DurationError, Unit, parse_duration, parse_u64};
use crate::error::shorten;

/// A duration field in nanoseconds; `unit` applies when the field has no
/// unit suffix. `column` names the field in errors:
/// `dur "12x4" is not a number of nanoseconds`.
pub fn duration(column: &str, field: &str, unit: Unit) -> Result<u64, String> {
    if unit.exponent() == 0 {
        if let Some(ns) = parse_u64(field.as_bytes()) {
            return Ok(ns);
        }
    }
    parse_duration(field, unit).map_err(|err| {
        let field = shorten(field);
        match err {
            DurationError::NotANumber => {
                format!(
                    "{column} \"{field}\" is not a number of {}",
                    unit.long_name()
                )
            }
            DurationError::Negative => format!("{column} \"{field}\" is negative"),
            DurationError::Overflow => {
                format!("{column} \"{field}\" is too large (over 584 years in nanoseconds)")
            }
        }
    })
}

/// A whole-number field (a count of events).
pub fn count(column: &str, field: &str) -> Result<u64, String> {
    let field = field.trim();
    if field.starts_with('-') {
        return Err(format!("{column} \"{}\" is negative", shorten(field)));
    }
    parse_u64(field.as_bytes())
        .ok_or_else(|| format!("{column} \"{}\" is not a whole number", shorten(field)))
}

/// A key field, without surrounding blanks: `NULL` (Perfetto's UI) and
/// `[NULL]` (trace_processor) are an empty key.
pub fn key(field: &str) -> &str {
    match field.trim_ascii() {
        "NULL" | "[NULL]" => "",
        key => key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_counts_and_keys() {
        assert_eq!(duration("dur", "1751151", Unit::Ns), Ok(1_751_151));
        assert_eq!(duration("dur", "1.5", Unit::Us), Ok(1_500));
        assert_eq!(duration("total wait", "493.47 us", Unit::Ns), Ok(493_470));
        assert_eq!(
            duration("dur", "12x4", Unit::Ns).unwrap_err(),
            "dur \"12x4\" is not a number of nanoseconds"
        );
        assert_eq!(
            duration("nsec", "-5", Unit::Ns).unwrap_err(),
            "nsec \"-5\" is negative"
        );
        assert_eq!(count("Count", " 12 "), Ok(12));
        assert_eq!(
            count("contended", "1.5").unwrap_err(),
            "contended \"1.5\" is not a whole number"
        );
        assert_eq!(key("[NULL]"), "");
        assert_eq!(key("NULL"), "");
        assert_eq!(key(" reaper "), "reaper");
    }
}
