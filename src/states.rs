//! The thread-state totals of every sample of an input, in one flat
//! store: a sample costs 8 bytes and its state times 8 each, whatever the
//! input (a `Vec` of named states per sample cost 150 bytes and more a
//! sample: 3 million one-row samples took 4 GB). The names come once per
//! distinct list of names (a sample's shape: `Running`, `Stopped`).

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
    /// Per sample, its shape and the end of its times in `ns`.
    sample_shape: Vec<u32>,
    ends: Vec<u32>,
    ns: Vec<u64>,
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

    /// Adds a sample with these states; an error past 2^32 states in all
    /// (48 GB of them).
    pub fn push(&mut self, states: &[State]) -> Result<(), String> {
        let mut names = std::mem::take(&mut self.scratch);
        names.clear();
        names.extend(states.iter().map(|state| self.name_id(&state.name)));
        let shape = self.shape_id(&names);
        self.scratch = names;
        self.ns.extend(states.iter().map(|state| state.ns));
        self.end_sample(shape)
    }

    fn end_sample(&mut self, shape: u32) -> Result<(), String> {
        let end = u32::try_from(self.ns.len())
            .map_err(|_| "more than 2^32 thread-state totals in one input".to_string())?;
        self.sample_shape.push(shape);
        self.ends.push(end);
        Ok(())
    }

    /// The states of the sample at `index` (0-based), as (name, time).
    pub fn get(&self, index: usize) -> impl Iterator<Item = (&str, u64)> + '_ {
        let begin = index.checked_sub(1).map_or(0, |before| self.ends[before]) as usize;
        let end = self.ends[index] as usize;
        let shape = &self.shapes[self.sample_shape[index] as usize];
        shape
            .iter()
            .zip(&self.ns[begin..end])
            .map(|(&name, &ns)| (&*self.names[name as usize], ns))
    }

    /// Every state time of every sample.
    pub fn all_ns(&self) -> impl Iterator<Item = u64> + '_ {
        self.ns.iter().copied()
    }

    /// Appends the samples of another store, without its first sample
    /// when `skip_first` (it continued this one's last).
    pub fn append(&mut self, other: &SampleStates, skip_first: bool) -> Result<(), String> {
        let first = usize::from(skip_first).min(other.len());
        let begin = first.checked_sub(1).map_or(0, |before| other.ends[before]) as usize;
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
        self.sample_shape.reserve_exact(samples);
        self.ends.reserve_exact(samples);
        self.ns.reserve_exact(other.ns.len() - begin);
        for sample in first..other.len() {
            let end = other.ends[sample] as usize;
            let start = sample.checked_sub(1).map_or(0, |before| other.ends[before]) as usize;
            self.ns.extend_from_slice(&other.ns[start..end]);
            self.end_sample(shapes[other.sample_shape[sample] as usize])?;
        }
        Ok(())
    }

    /// Gives back the room kept for more samples: the store is complete.
    pub fn shrink_to_fit(&mut self) {
        self.sample_shape.shrink_to_fit();
        self.ends.shrink_to_fit();
        self.ns.shrink_to_fit();
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
