//! Exact decimal durations: `496.6ms`, `4.384 ms`, `120µs`, `12417639`.
//!
//! Parsed as integers with a decimal exponent, never through `f64`, so that
//! `4.384ms` is exactly 4 384 000 ns and sums reproduce the figures people
//! compute by hand.

/// A time unit for durations written without one (`--unit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unit {
    /// Nanoseconds.
    #[default]
    Ns,
    /// Microseconds.
    Us,
    /// Milliseconds.
    Ms,
    /// Seconds.
    S,
}

impl Unit {
    /// Powers of ten from this unit to nanoseconds.
    pub fn exponent(self) -> u32 {
        match self {
            Unit::Ns => 0,
            Unit::Us => 3,
            Unit::Ms => 6,
            Unit::S => 9,
        }
    }

    /// Nanoseconds in one of this unit.
    pub fn ns(self) -> u64 {
        10u64.pow(self.exponent())
    }

    /// The unit's name in words, for error messages.
    pub fn long_name(self) -> &'static str {
        match self {
            Unit::Ns => "nanoseconds",
            Unit::Us => "microseconds",
            Unit::Ms => "milliseconds",
            Unit::S => "seconds",
        }
    }

    /// Reads a unit suffix as Perfetto and the other tools print them.
    pub fn from_suffix(suffix: &str) -> Option<Unit> {
        match suffix {
            "ns" => Some(Unit::Ns),
            // Perfetto writes U+00B5 MICRO SIGN; U+03BC GREEK MU looks the same.
            "us" | "µs" | "μs" => Some(Unit::Us),
            "ms" => Some(Unit::Ms),
            "s" => Some(Unit::S),
            _ => None,
        }
    }
}

/// Why a duration could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationError {
    /// Not a decimal number (with an optional known unit).
    NotANumber,
    /// A leading minus sign.
    Negative,
    /// More nanoseconds than a u64 holds.
    Overflow,
}

/// Parses a plain unsigned integer fast, the common case for `dur` columns.
/// Leading zeros are allowed, however many (`000000000000012417639`).
pub fn parse_u64(text: &[u8]) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let zeros = text.iter().take_while(|&&b| b == b'0').count();
    let text = if zeros == text.len() {
        &text[zeros - 1..]
    } else {
        &text[zeros..]
    };
    if text.len() > 20 {
        return None;
    }
    let mut value: u64 = 0;
    for &byte in text {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(digit))?;
    }
    Some(value)
}

/// Parses `text` (a decimal number, optionally followed by a unit suffix) to
/// nanoseconds; `default_unit` applies when there is no suffix.
pub fn parse_duration(text: &str, default_unit: Unit) -> Result<u64, DurationError> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err(DurationError::Negative);
    }
    let number_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(number_end);
    let unit = match suffix.trim_start() {
        "" => default_unit,
        suffix => Unit::from_suffix(suffix).ok_or(DurationError::NotANumber)?,
    };
    scale_decimal(number, unit.exponent())
}

/// Parses a state duration, which must carry a unit (`496.6ms`).
pub fn parse_duration_with_unit(text: &str) -> Option<u64> {
    let has_unit = text.ends_with('s');
    if !has_unit {
        return None;
    }
    parse_duration(text, Unit::Ns).ok()
}

/// `digits[.digits]` times 10^exponent, rounded half up to an integer.
fn scale_decimal(number: &str, exponent: u32) -> Result<u64, DurationError> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return Err(DurationError::NotANumber);
    }
    let scale = 10u64.pow(exponent);
    let whole_value = if whole.is_empty() {
        0
    } else {
        parse_u64(whole.as_bytes()).ok_or(DurationError::Overflow)?
    };
    let mut value = whole_value
        .checked_mul(scale)
        .ok_or(DurationError::Overflow)?;
    let kept = fraction.len().min(exponent as usize);
    if kept > 0 {
        let digits = parse_u64(&fraction.as_bytes()[..kept]).ok_or(DurationError::Overflow)?;
        let place = 10u64.pow(exponent - kept as u32);
        value = value
            .checked_add(digits * place)
            .ok_or(DurationError::Overflow)?;
    }
    let rounds_up = fraction.as_bytes().get(kept).is_some_and(|&d| d >= b'5');
    if rounds_up {
        value = value.checked_add(1).ok_or(DurationError::Overflow)?;
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_zeros_are_no_overflow() {
        assert_eq!(parse_u64(b"000000000000012417639"), Some(12_417_639));
        assert_eq!(parse_u64(b"0000"), Some(0));
        assert_eq!(parse_u64(b"018446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(
            parse_duration("000000000000012417639", Unit::Ns),
            Ok(12_417_639)
        );
    }

    #[test]
    fn parses_perfetto_state_durations_exactly() {
        assert_eq!(parse_duration("496.6ms", Unit::Ns), Ok(496_600_000));
        assert_eq!(parse_duration("4.384ms", Unit::Ns), Ok(4_384_000));
        assert_eq!(parse_duration("4.384 ms", Unit::Ns), Ok(4_384_000));
        assert_eq!(parse_duration("120µs", Unit::Ns), Ok(120_000));
        assert_eq!(parse_duration("120μs", Unit::Ns), Ok(120_000));
        assert_eq!(parse_duration("1.5us", Unit::Ns), Ok(1_500));
        assert_eq!(parse_duration("2s", Unit::Ns), Ok(2_000_000_000));
        assert_eq!(parse_duration("37ns", Unit::Ns), Ok(37));
    }

    #[test]
    fn unitless_values_take_the_default_unit() {
        assert_eq!(parse_duration("12417639", Unit::Ns), Ok(12_417_639));
        assert_eq!(parse_duration("12.5", Unit::Us), Ok(12_500));
        assert_eq!(parse_duration("3", Unit::S), Ok(3_000_000_000));
    }

    #[test]
    fn rounds_digits_below_a_nanosecond() {
        assert_eq!(parse_duration("1.0005us", Unit::Ns), Ok(1_001));
        assert_eq!(parse_duration("1.0004us", Unit::Ns), Ok(1_000));
        assert_eq!(parse_duration("0.4", Unit::Ns), Ok(0));
        assert_eq!(parse_duration(".5ms", Unit::Ns), Ok(500_000));
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        assert_eq!(
            parse_duration("12x4", Unit::Ns),
            Err(DurationError::NotANumber)
        );
        assert_eq!(parse_duration("", Unit::Ns), Err(DurationError::NotANumber));
        assert_eq!(
            parse_duration(".", Unit::Ns),
            Err(DurationError::NotANumber)
        );
        assert_eq!(
            parse_duration("1.2.3", Unit::Ns),
            Err(DurationError::NotANumber)
        );
        assert_eq!(
            parse_duration("5 parsecs", Unit::Ns),
            Err(DurationError::NotANumber)
        );
        assert_eq!(parse_duration("-5", Unit::Ns), Err(DurationError::Negative));
        assert_eq!(
            parse_duration("18446744073709551616", Unit::Ns),
            Err(DurationError::Overflow)
        );
        assert_eq!(
            parse_duration("18446744073709551615", Unit::Us),
            Err(DurationError::Overflow)
        );
    }

    #[test]
    fn state_durations_need_a_unit() {
        assert_eq!(parse_duration_with_unit("496.6ms"), Some(496_600_000));
        assert_eq!(parse_duration_with_unit("496.6"), None);
        assert_eq!(parse_duration_with_unit("nanoseconds."), None);
    }

    #[test]
    fn fast_integer_path() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"12a"), None);
        assert_eq!(parse_u64(b""), None);
    }
}
