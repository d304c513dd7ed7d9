//! Hashing of keys that come from an input (key texts, lock addresses,
//! thread ids): seeded once per run, so that no input can be written to
//! collide. An unseeded hash (FxHash) let 150 000 context switches with
//! crafted thread ids take 100 s.
//!
//! foldhash's fast variant: as fast as FxHash on these keys, and
//! "minimally DoS-resistant" (its authors' words) with a random seed.
//! Every map and hash of a run uses the same seed, so a hash computed in
//! one place finds its entry in another.

use std::hash::BuildHasher;
use std::sync::OnceLock;

use foldhash::SharedSeed;
use foldhash::fast::SeedableRandomState;

/// The hasher of input keys: this run's seed.
#[derive(Clone, Debug)]
pub struct InputState(SeedableRandomState);

impl Default for InputState {
    fn default() -> Self {
        static RUN_SEED: OnceLock<u64> = OnceLock::new();
        let seed = *RUN_SEED.get_or_init(|| foldhash::fast::RandomState::default().hash_one(0u64));
        InputState(SeedableRandomState::with_seed(
            seed,
            SharedSeed::global_random(),
        ))
    }
}

impl BuildHasher for InputState {
    type Hasher = foldhash::fast::FoldHasher<'static>;

    fn build_hasher(&self) -> Self::Hasher {
        self.0.build_hasher()
    }
}

/// A hash map keyed by input.
pub type InputMap<K, V> = std::collections::HashMap<K, V, InputState>;

/// A hash set of input keys.
pub type InputSet<K> = std::collections::HashSet<K, InputState>;

/// The hash of `value` under this run's seed (for hashbrown's raw tables:
/// the row loop's, so the state is made once).
pub fn input_hash<T: std::hash::Hash + ?Sized>(value: &T) -> u64 {
    static STATE: OnceLock<InputState> = OnceLock::new();
    STATE.get_or_init(InputState::default).hash_one(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_seed_a_run_and_maps_that_work() {
        assert_eq!(input_hash("kernel_lock"), input_hash("kernel_lock"));
        assert_ne!(input_hash("kernel_lock"), input_hash("sched_lock"));
        let mut map: InputMap<u64, u32> = InputMap::default();
        map.insert(7, 1);
        assert_eq!(map.get(&7), Some(&1));
    }
}
