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

/// The position in `items` of the item whose key (`key_of`) is `key`,
/// found through `index`: the items' positions by their keys' hashes, 4
/// bytes an entry where a map would keep each key again.
pub fn find_position<T, K: std::hash::Hash + Eq + ?Sized>(
    index: &hashbrown::HashTable<u32>,
    items: &[T],
    key: &K,
    key_of: impl Fn(&T) -> &K,
) -> Option<u32> {
    index
        .find(input_hash(key), |&at| key_of(&items[at as usize]) == key)
        .copied()
}

/// [`find_position`], or the position of `make()` pushed onto `items`
/// and indexed when no item has the key.
pub fn position_or_push<T, K: std::hash::Hash + Eq + ?Sized>(
    index: &mut hashbrown::HashTable<u32>,
    items: &mut Vec<T>,
    key: &K,
    key_of: impl Fn(&T) -> &K,
    make: impl FnOnce() -> T,
) -> u32 {
    let hash = input_hash(key);
    if let Some(&at) = index.find(hash, |&at| key_of(&items[at as usize]) == key) {
        return at;
    }
    let at = items.len() as u32;
    items.push(make());
    index.insert_unique(hash, at, |&at| input_hash(key_of(&items[at as usize])));
    at
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
        let (mut index, mut items) = (hashbrown::HashTable::new(), Vec::new());
        fn key_of(item: &(u32, char)) -> &u32 {
            &item.0
        }
        assert_eq!(
            position_or_push(&mut index, &mut items, &5, key_of, || (5, 'a')),
            0
        );
        assert_eq!(
            position_or_push(&mut index, &mut items, &9, key_of, || (9, 'b')),
            1
        );
        assert_eq!(
            position_or_push(&mut index, &mut items, &5, key_of, || (5, 'c')),
            0
        );
        assert_eq!(items, [(5, 'a'), (9, 'b')]);
        assert_eq!(find_position(&index, &items, &9, key_of), Some(1));
        assert_eq!(find_position(&index, &items, &7, key_of), None);
    }
}
