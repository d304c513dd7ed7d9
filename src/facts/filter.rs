//! `--match`, `--exclude` and `--samples`: which rows and samples every
//! command reads, decided while reading, before ranking, diff and export.

use std::fmt;

use regex::Regex;

use crate::vocabulary::GroupKey;

/// One `--match` or `--exclude`: a key and a regular expression its text
/// must (or must not) contain a match of.
#[derive(Debug, Clone)]
pub struct KeyFilter {
    /// The key tested.
    pub key: GroupKey,
    /// The expression, unanchored as in grep.
    pub pattern: Regex,
    /// As the user wrote it, for messages.
    pub text: String,
}

impl KeyFilter {
    /// Reads `KEY=REGEX` (clap's value parser).
    pub fn parse(text: &str) -> Result<KeyFilter, String> {
        let (name, pattern) = text
            .split_once('=')
            .ok_or_else(|| format!("\"{text}\" is not KEY=REGEX (e.g. caller=^reaper$)"))?;
        let key = match name {
            "category" => GroupKey::Category,
            "symbol" => GroupKey::Symbol,
            "caller" => GroupKey::Caller,
            other => {
                return Err(format!(
                    "\"{other}\" is not a key: category, symbol or caller"
                ));
            }
        };
        let pattern = Regex::new(pattern).map_err(|err| format!("{pattern}: {err}"))?;
        Ok(KeyFilter {
            key,
            pattern,
            text: text.to_string(),
        })
    }

    fn matches(&self, keys: [&str; 3]) -> bool {
        self.pattern.is_match(keys[self.key.position()])
    }
}

/// Samples picked by number, 1-based within each input: `2..4,7`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleList {
    /// Inclusive ranges.
    pub ranges: Vec<(u32, u32)>,
    /// As the user wrote it.
    pub text: String,
}

impl SampleList {
    /// Reads `2..4,7`, `4..` (from 4 on), `..3` (up to 3); `all` picks
    /// every sample (no ranges).
    pub fn parse(text: &str) -> Result<SampleList, String> {
        if text == "all" {
            return Ok(SampleList {
                ranges: Vec::new(),
                text: text.to_string(),
            });
        }
        let number = |part: &str| -> Result<u32, String> {
            match part.trim().parse::<u32>() {
                Ok(0) | Err(_) => Err(format!(
                    "\"{part}\" is not a sample number (1, 2, ...; e.g. --samples 2..4,7)"
                )),
                Ok(n) => Ok(n),
            }
        };
        let mut ranges = Vec::new();
        for part in text.split(',') {
            let range = match part.split_once("..") {
                Some((from, "")) => (number(from)?, u32::MAX),
                Some(("", to)) => (1, number(to)?),
                Some((from, to)) => (number(from)?, number(to)?),
                None => (number(part)?, number(part)?),
            };
            if range.0 > range.1 {
                return Err(format!("{part}: the range runs backwards"));
            }
            ranges.push(range);
        }
        Ok(SampleList {
            ranges,
            text: text.to_string(),
        })
    }

    /// Whether every sample is picked (`all`).
    pub fn is_all(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Whether the sample numbered `number` (1-based) is picked.
    pub fn contains(&self, number: u32) -> bool {
        self.ranges
            .iter()
            .any(|&(from, to)| (from..=to).contains(&number))
    }

    /// Whether the list names a sample past `count` (a range to the end,
    /// `4..`, names none).
    pub fn names_past(&self, count: u32) -> bool {
        self.ranges
            .iter()
            .any(|&(_, to)| to != u32::MAX && to > count)
    }

    /// The largest number picked.
    pub fn last(&self) -> u32 {
        self.ranges.iter().map(|&(_, to)| to).max().unwrap_or(0)
    }
}

/// Everything that picks rows and samples.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// `--match`: a row is read only if each matches.
    pub matches: Vec<KeyFilter>,
    /// `--exclude`: a row is left out if any matches.
    pub excludes: Vec<KeyFilter>,
    /// `--samples`: None reads every sample.
    pub samples: Option<SampleList>,
}

impl Filters {
    /// Whether any key filter is set.
    pub fn on_keys(&self) -> bool {
        !self.matches.is_empty() || !self.excludes.is_empty()
    }

    /// Whether `--samples` leaves out the sample numbered `number` (from 1).
    pub fn skips_sample(&self, number: u32) -> bool {
        self.samples
            .as_ref()
            .is_some_and(|picked| !picked.contains(number))
    }

    /// Whether a row with these keys is read; `hits` (one per filter,
    /// `--match` first) records which filters matched.
    pub fn keeps(&self, keys: [&str; 3], hits: &mut Hits) -> bool {
        hits.matched
            .resize(self.matches.len() + self.excludes.len(), false);
        hits.checked = true;
        let mut keep = true;
        for (at, filter) in self.matches.iter().enumerate() {
            if filter.matches(keys) {
                hits.matched[at] = true;
            } else {
                keep = false;
            }
        }
        for (at, filter) in self.excludes.iter().enumerate() {
            if filter.matches(keys) {
                hits.matched[self.matches.len() + at] = true;
                keep = false;
            }
        }
        hits.kept |= keep;
        keep
    }

    /// The first filter that matched no row at all: an error that names
    /// it, since a typo would otherwise read as "no such lock".
    pub fn check_hits(&self, hits: &Hits) -> Result<(), String> {
        let flags = |at: usize| hits.matched.get(at).copied().unwrap_or(false);
        let named = self
            .matches
            .iter()
            .map(|f| ("--match", f))
            .chain(self.excludes.iter().map(|f| ("--exclude", f)));
        for (at, (flag, filter)) in named.enumerate() {
            if !flags(at) {
                return Err(format!("{flag} {} matches no row", filter.text));
            }
        }
        // Each filter matched something, and together they left nothing
        // (`--exclude symbol=` matches every row): no figure to show, not
        // a report of 0 %.
        if hits.checked && !hits.kept {
            let flags: Vec<String> = named_flags(self).collect();
            let verb = if flags.len() == 1 { "leaves" } else { "leave" };
            return Err(format!(
                "{} {verb} no row: every row read is filtered out",
                flags.join(" ")
            ));
        }
        Ok(())
    }
}

/// `--match X --exclude Y` as the user wrote them.
fn named_flags(filters: &Filters) -> impl Iterator<Item = String> + '_ {
    let matches = filters
        .matches
        .iter()
        .map(|f| format!("--match {}", f.text));
    let excludes = filters
        .excludes
        .iter()
        .map(|f| format!("--exclude {}", f.text));
    matches.chain(excludes)
}

/// Which key filters matched some row, in [`Filters`]' order, and whether
/// any row got through them all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hits {
    /// One per filter, `--match` first: it matched a row.
    matched: Vec<bool>,
    /// A row was checked.
    checked: bool,
    /// A row was kept.
    kept: bool,
}

impl Hits {
    /// Adds another reading's hits.
    pub fn merge(&mut self, other: &Hits) {
        if self.matched.len() < other.matched.len() {
            self.matched.resize(other.matched.len(), false);
        }
        for (into, &hit) in self.matched.iter_mut().zip(&other.matched) {
            *into |= hit;
        }
        self.checked |= other.checked;
        self.kept |= other.kept;
    }
}

impl fmt::Display for SampleList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_lists_read_ranges_and_numbers() {
        let list = SampleList::parse("2..4,7").unwrap();
        let picked: Vec<u32> = (1..=8).filter(|&n| list.contains(n)).collect();
        assert_eq!(picked, [2, 3, 4, 7]);
        assert_eq!(list.last(), 7);
        assert!(SampleList::parse("all").unwrap().is_all());
        assert!(SampleList::parse("0").is_err());
        assert!(SampleList::parse("4..2").is_err());
        assert!(SampleList::parse("x").is_err());
    }

    #[test]
    fn key_filters_name_their_key() {
        assert!(KeyFilter::parse("caller=^reaper$").is_ok());
        assert!(
            KeyFilter::parse("lock=x")
                .unwrap_err()
                .contains("not a key")
        );
        assert!(
            KeyFilter::parse("caller")
                .unwrap_err()
                .contains("KEY=REGEX")
        );
        assert!(KeyFilter::parse("caller=(").is_err());
    }

    #[test]
    fn a_row_is_kept_when_every_match_and_no_exclude_matches() {
        let filters = Filters {
            matches: vec![KeyFilter::parse("symbol=kernel_lock").unwrap()],
            excludes: vec![KeyFilter::parse("caller=intr").unwrap()],
            samples: None,
        };
        let mut hits = Hits::default();
        assert!(filters.keeps(["kernel", "kernel_lock", "reaper"], &mut hits));
        assert!(
            filters
                .check_hits(&hits)
                .unwrap_err()
                .contains("--exclude caller=intr")
        );
        assert!(!filters.keeps(["kernel", "kernel_lock", "intr_handler"], &mut hits));
        assert!(!filters.keeps(["mutex", "sched_lock", "reaper"], &mut hits));
        assert_eq!(filters.check_hits(&hits), Ok(()));
    }
}
