//! The thread-state totals of every sample of an input, in one flat
//! store of bytes: a sample costs 4 bytes, one for its shape (its list of
//! state names: `Running`, `Stopped`), and each state time the bytes of
//! its value (7 bits a byte: 4 ms takes 4), whatever the input. A `Vec` of
//! named states per sample cost 150 bytes and more a sample (3 million
//! one-row samples took 4 GB), and fixed-width ids and times 24 bytes a
//! sample of two states where this takes about 14. The names come once
//! per distinct shape.

use crate::hashing::InputMap;
use crate::parse::State;

/// Each sample's states, in the order read.
#[derive(Debug, Clone, Default)]
pub struct SampleStates {
    /// The distinct state names, in the order first seen.
    names: Vec<Box<str>>,
    name_index: InputMap<Box<str>, u32>,
    /// The distinct lists of name ids the samples have.
    shapes: Vec<Box<[u32]>>,
    shape_index: InputMap<Box<[u32]>, u32>,
    /// The name ids of the sample being pushed: one buffer for all, so
    /// that a sample allocates only when its shape is new.
    scratch: Vec<u32>,
    /// Per sample, its shape id and then its times, each a variable-length
    /// integer ([`put_varint`]).
    bytes: Vec<u8>,
    /// Per sample, the end of its bytes.
    ends: Vec<u32>,
}

impl SampleStates {
    /// The number of samples.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is no sample.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Adds a sample with these states; an error past 4 GiB of them.
    pub fn push(&mut self, states: &[State]) -> Result<(), String> {
        let mut names = std::mem::take(&mut self.scratch);
        names.clear();
        names.extend(states.iter().map(|state| self.name_id(&state.name)));
        let shape = self.shape_id(&names);
        self.scratch = names;
        put_varint(&mut self.bytes, u64::from(shape));
        for state in states {
            put_varint(&mut self.bytes, state.ns);
        }
        self.end_sample()
    }

    fn end_sample(&mut self) -> Result<(), String> {
        let end = u32::try_from(self.bytes.len())
            .map_err(|_| "more than 4 GiB of thread-state totals in one input".to_string())?;
        self.ends.push(end);
        Ok(())
    }

    /// The bytes of the sample at `index`.
    fn sample_bytes(&self, index: usize) -> &[u8] {
        let begin = index.checked_sub(1).map_or(0, |before| self.ends[before]) as usize;
        &self.bytes[begin..self.ends[index] as usize]
    }

    /// The states of the sample at `index` (0-based), as (name, time).
    pub fn get(&self, index: usize) -> impl Iterator<Item = (&str, u64)> + '_ {
        let mut bytes = self.sample_bytes(index);
        let shape = &self.shapes[take_varint(&mut bytes) as usize];
        shape
            .iter()
            .map(move |&name| (&*self.names[name as usize], take_varint(&mut bytes)))
    }

    /// Every state time of every sample.
    pub fn all_ns(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.len()).flat_map(|index| self.get(index).map(|(_, ns)| ns))
    }

    /// Appends the samples of another store, without its first sample
    /// when `skip_first` (it continued this one's last).
    pub fn append(&mut self, other: &SampleStates, skip_first: bool) -> Result<(), String> {
        let first = usize::from(skip_first).min(other.len());
        let names: Vec<u32> = other.names.iter().map(|name| self.name_id(name)).collect();
        let shapes: Vec<u32> = other
            .shapes
            .iter()
            .map(|shape| {
                let renamed: Vec<u32> = shape.iter().map(|&id| names[id as usize]).collect();
                self.shape_id(&renamed)
            })
            .collect();
        let samples = other.len() - first;
        self.ends.reserve_exact(samples);
        let skipped = first.checked_sub(1).map_or(0, |last| other.ends[last]) as usize;
        self.bytes.reserve_exact(other.bytes.len() - skipped);
        for sample in first..other.len() {
            let mut bytes = other.sample_bytes(sample);
            let shape = shapes[take_varint(&mut bytes) as usize];
            put_varint(&mut self.bytes, u64::from(shape));
            self.bytes.extend_from_slice(bytes);
            self.end_sample()?;
        }
        Ok(())
    }

    /// Gives back the room kept for more samples: the store is complete.
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    fn name_id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.name_index.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.into());
        self.name_index.insert(name.into(), id);
        id
    }

    fn shape_id(&mut self, names: &[u32]) -> u32 {
        if let Some(&id) = self.shape_index.get(names) {
            return id;
        }
        let id = self.shapes.len() as u32;
        let shape: Box<[u32]> = names.into();
        self.shapes.push(shape.clone());
        self.shape_index.insert(shape, id);
        id
    }
}

/// Appends `value` in 7-bit groups, least significant first, each byte's
/// top bit set when more follow (LEB128): 1 to 10 bytes.
fn put_varint(bytes: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        bytes.push(value as u8 | 0x80);
        value >>= 7;
    }
    bytes.push(value as u8);
}

/// Reads a [`put_varint`] value off the front of `bytes`: the store wrote
/// every value whole, so it is there.
fn take_varint(bytes: &mut &[u8]) -> u64 {
    let mut value = 0u64;
    for (at, &byte) in bytes.iter().enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * at);
        if byte < 0x80 {
            *bytes = &bytes[at + 1..];
            return value;
        }
    }
    *bytes = &[];
    value
}

/// Two stores are equal when their samples list the same states, however
/// their names and shapes are numbered.
impl PartialEq for SampleStates {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && (0..self.len()).all(|index| self.get(index).eq(other.get(index)))
    }
}

impl Eq for SampleStates {}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(name: &str, ns: u64) -> State {
        State {
            name: name.to_string(),
            ns,
        }
    }

    fn listed(store: &SampleStates) -> Vec<Vec<(String, u64)>> {
        (0..store.len())
            .map(|index| {
                store
                    .get(index)
                    .map(|(name, ns)| (name.to_string(), ns))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn samples_keep_their_states_in_order_and_empty_samples_stay_empty() {
        let mut store = SampleStates::default();
        store
            .push(&[state("Running", 5), state("Stopped", 7)])
            .unwrap();
        store.push(&[]).unwrap();
        store
            .push(&[
                state("Stopped", 1),
                state("Running", 2),
                state("Running", 3),
            ])
            .unwrap();
        let own = |list: &[(&str, u64)]| -> Vec<(String, u64)> {
            list.iter().map(|&(n, ns)| (n.to_string(), ns)).collect()
        };
        assert_eq!(
            listed(&store),
            [
                own(&[("Running", 5), ("Stopped", 7)]),
                own(&[]),
                own(&[("Stopped", 1), ("Running", 2), ("Running", 3)]),
            ]
        );
        assert_eq!(store.all_ns().sum::<u64>(), 18);
    }

    #[test]
    fn times_of_every_width_come_back_as_written() {
        let widths = [
            0,
            1,
            127,
            128,
            16_383,
            16_384,
            4_000_000,
            1 << 56,
            u64::MAX - 1,
            u64::MAX,
        ];
        let mut store = SampleStates::default();
        for &ns in &widths {
            store
                .push(&[state("Running", ns), state("Stopped", ns / 3)])
                .unwrap();
        }
        for (index, &ns) in widths.iter().enumerate() {
            assert_eq!(
                store.get(index).collect::<Vec<_>>(),
                [("Running", ns), ("Stopped", ns / 3)]
            );
        }
        // 4 ms takes 4 bytes; the shape 1.
        let mut bytes = Vec::new();
        put_varint(&mut bytes, 4_000_000);
        assert_eq!(bytes.len(), 4);
    }

    #[test]
    fn appending_renumbers_names_and_can_skip_a_continued_sample() {
        let mut first = SampleStates::default();
        first.push(&[state("Running", 1)]).unwrap();
        let mut second = SampleStates::default();
        second.push(&[state("Waiting", 9)]).unwrap();
        second
            .push(&[state("Idle", 2), state("Running", 3)])
            .unwrap();
        let mut skipped = first.clone();
        skipped.append(&second, true).unwrap();
        assert_eq!(skipped.len(), 2);
        assert_eq!(
            skipped.get(1).collect::<Vec<_>>(),
            [("Idle", 2), ("Running", 3)]
        );
        first.append(&second, false).unwrap();
        assert_eq!(first.len(), 3);
        assert_eq!(first.get(1).collect::<Vec<_>>(), [("Waiting", 9)]);
        assert_eq!(first.names.len(), 3);
        assert_eq!(first.shapes.len(), 3);
    }
}
