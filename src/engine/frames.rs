//! Facts and samples as polars DataFrames, and values read back out of them.

use polars::prelude::*;

use super::classes::ClassMap;
use super::model::GroupKey;
use crate::facts::InputFacts;

/// The key strings behind a facts frame's `category`, `symbol` and
/// `caller` columns, which hold ids numbered in string order: a group-by
/// hashes integers instead of strings, sorting by id sorts by name, and
/// only the groups shown are turned back into text.
#[derive(Debug, Default)]
pub struct KeyNames<'a> {
    names: Vec<&'a str>,
}

impl<'a> KeyNames<'a> {
    /// The name behind an id.
    pub fn name(&self, id: u32) -> &'a str {
        self.names[id as usize]
    }

    /// The names of a column of ids, as Rust values.
    pub fn names_of(&self, frame: &DataFrame, column: &str) -> PolarsResult<Vec<Option<String>>> {
        Ok(u32_values(frame, column)?
            .into_iter()
            .map(|id| id.map(|id| self.name(id).to_string()))
            .collect())
    }

    /// Every key string of the inputs, and per input the id of each of
    /// its strings. One sort of all strings numbers them.
    fn of(inputs: &'a [InputFacts]) -> (Self, Vec<Vec<u32>>) {
        let mut ids: Vec<Vec<u32>> = inputs
            .iter()
            .map(|input| vec![0; input.strings.len()])
            .collect();
        // (text, input, string)
        let mut entries: Vec<(&'a str, u32, u32)> = Vec::new();
        for (index, input) in inputs.iter().enumerate() {
            for (string, text) in input.strings.iter().enumerate() {
                entries.push((text, index as u32, string as u32));
            }
        }
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut names: Vec<&'a str> = Vec::new();
        for (text, input, string) in entries {
            if names.last() != Some(&text) {
                names.push(text);
            }
            ids[input as usize][string as usize] = (names.len() - 1) as u32;
        }
        (KeyNames { names }, ids)
    }
}

/// The frames of a set of inputs, their keys as ids into `names`.
pub struct Frames<'a> {
    /// One row per distinct key of each input: `input category symbol
    /// caller kernel_lock class total_ns rows max_ns uncounted` (1 where
    /// the key's number of events is unknown).
    pub keys: DataFrame,
    /// The key strings.
    pub names: KeyNames<'a>,
    /// Per input, the global id of each of its strings.
    ids: Vec<Vec<u32>>,
    inputs: &'a [InputFacts],
}

impl<'a> Frames<'a> {
    /// The keys and sample sums of the inputs.
    pub fn of(inputs: &'a [InputFacts], classes: &ClassMap) -> PolarsResult<Self> {
        let (names, ids) = KeyNames::of(inputs);
        let keys = keys_frame(inputs, &ids, classes)?;
        Ok(Frames {
            keys,
            names,
            ids,
            inputs,
        })
    }

    /// One row per group of `by` in each input: `input`, the `by` keys,
    /// `samples_seen`. The inputs must have been read grouped by `by`, or
    /// by every key when `by` is every key.
    pub fn groups_seen(&self, by: &[GroupKey]) -> PolarsResult<DataFrame> {
        let positions: Vec<usize> = by.iter().map(|key| key.position()).collect();
        let mut input_index = Vec::new();
        let mut key_ids: Vec<Vec<u32>> = vec![Vec::new(); by.len()];
        let mut samples_seen = Vec::new();
        for (index, (input, ids)) in self.inputs.iter().zip(&self.ids).enumerate() {
            for (group, seen) in input.group_samples() {
                input_index.push(index as u32);
                for (column, &position) in key_ids.iter_mut().zip(&positions) {
                    column.push(ids[group[position] as usize]);
                }
                samples_seen.push(seen);
            }
        }
        let mut columns = vec![Column::new("input".into(), input_index)];
        for (key, values) in by.iter().zip(key_ids) {
            columns.push(Column::new(key.name().into(), values));
        }
        columns.push(Column::new("samples_seen".into(), samples_seen));
        DataFrame::new_infer_height(columns)
    }
}

fn keys_frame(
    inputs: &[InputFacts],
    ids: &[Vec<u32>],
    classes: &ClassMap,
) -> PolarsResult<DataFrame> {
    let height: usize = inputs.iter().map(|input| input.keys.len()).sum();
    let mut input_index = Vec::with_capacity(height);
    let mut category = Vec::with_capacity(height);
    let mut symbol = Vec::with_capacity(height);
    let mut caller = Vec::with_capacity(height);
    let mut kernel_lock = Vec::with_capacity(height);
    let mut class = Vec::with_capacity(height);
    let mut total_ns = Vec::with_capacity(height);
    let mut rows = Vec::with_capacity(height);
    let mut max_ns = Vec::with_capacity(height);
    let mut uncounted = Vec::with_capacity(height);
    for (index, (input, ids)) in inputs.iter().zip(ids).enumerate() {
        for key in &input.keys {
            input_index.push(index as u32);
            category.push(ids[key.category as usize]);
            symbol.push(ids[key.symbol as usize]);
            caller.push(ids[key.caller as usize]);
            kernel_lock.push(key.kernel_lock);
            class.push(class_name(classes, input, key.category));
            total_ns.push(key.total_ns);
            rows.push(key.rows);
            max_ns.push(key.max_ns);
            uncounted.push(u32::from(key.uncounted));
        }
    }
    DataFrame::new_infer_height(vec![
        Column::new("input".into(), input_index),
        Column::new("category".into(), category),
        Column::new("symbol".into(), symbol),
        Column::new("caller".into(), caller),
        Column::new("kernel_lock".into(), kernel_lock),
        Column::new("class".into(), class),
        Column::new("total_ns".into(), total_ns),
        Column::new("rows".into(), rows),
        Column::new("max_ns".into(), max_ns),
        Column::new("uncounted".into(), uncounted),
    ])
}

/// The class of an input's category, by its id, as the frames spell it.
fn class_name(classes: &ClassMap, input: &InputFacts, category: u32) -> &'static str {
    classes.class_in(input.format, input.key(category)).name()
}

/// A symbol or caller without its offset: `vm_map_lock_ln+0x4f` and
/// Linux's `do_exit+0x1a2/0x9d0` lose everything from the `+`, since
/// offsets move between kernel builds.
pub fn strip_offset(text: &str) -> &str {
    let Some(plus) = text.rfind("+0x") else {
        return text;
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

/// `part / whole` as a fraction, null when the whole is null or zero.
pub fn ratio(part: Expr, whole: Expr) -> Expr {
    when(whole.clone().gt(lit(0)))
        .then(part.cast(DataType::Float64) / whole.cast(DataType::Float64))
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// A u64 column as Rust values (nulls as None).
pub fn u64_values(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<u64>>> {
    let column = frame.column(name)?.cast(&DataType::UInt64)?;
    Ok(column.u64()?.iter().collect())
}

/// A u32 column as Rust values.
pub fn u32_values(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<u32>>> {
    let column = frame.column(name)?.cast(&DataType::UInt32)?;
    Ok(column.u32()?.iter().collect())
}

/// An f64 column as Rust values.
pub fn f64_values(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<f64>>> {
    let column = frame.column(name)?.cast(&DataType::Float64)?;
    Ok(column.f64()?.iter().collect())
}

/// A string column as Rust values.
pub fn str_values(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    let column = frame.column(name)?;
    Ok(column
        .str()?
        .iter()
        .map(|value| value.map(str::to_string))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_stripped_only_when_they_are_offsets() {
        assert_eq!(strip_offset("vm_map_lock_ln+0x4f"), "vm_map_lock_ln");
        assert_eq!(strip_offset("do_exit+0x1a2/0x9d0"), "do_exit");
        assert_eq!(strip_offset("reaper"), "reaper");
        assert_eq!(strip_offset("odd+0xzz"), "odd+0xzz");
        assert_eq!(strip_offset("+0x10"), "+0x10");
    }
}
