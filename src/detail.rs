//! The wait of each key in each sample it appears in: what `diff`'s
//! per-group Mann-Whitney tests need, kept only when asked for
//! ([`crate::facts::Fold::detail`]).
//!
//! Pairs are pushed as samples close, sample by sample, and every million
//! of them is sorted by key into a segment (a counting sort: one pass to
//! count, one to place, each key's place a cache line that stays hot). A
//! key's waits are then its run in each segment, in sample order: no sort
//! of all the pairs by group after reading (it took 0.35 s of a 3.4 s diff
//! of two 1 GiB files), and no key id in a pair. A pair in a segment takes
//! 12 bytes: the sample, and the wait in two 32-bit halves.

/// Pairs sorted into a segment at a time: 16 MiB unsorted, 12 sorted.
const SEGMENT_PAIRS: usize = 1 << 20;

/// A key a segment does not have, in a key map.
const ABSENT: u32 = u32::MAX;

/// One (sample, wait) pair: the sample, then the wait's low and high
/// halves (a `u64` would align the pair to 16 bytes).
type Pair = [u32; 3];

/// Each key's (sample, wait) pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detail {
    segments: Vec<Segment>,
    /// Maps of the segments of appended chunks: key index here to key
    /// index in the segment.
    key_maps: Vec<Vec<u32>>,
    /// Pairs not yet in a segment, as pushed: (key, sample, wait).
    unsorted: Vec<(u32, u32, u64)>,
    /// One more than the largest key index.
    keys: usize,
    pairs: usize,
}

/// Pairs sorted by key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    /// Key `k`'s pairs are `pairs[starts[k]..starts[k + 1]]`, in sample
    /// order.
    pairs: Vec<Pair>,
    starts: Vec<u32>,
    /// Added to each sample read back: the samples before its chunk.
    shift: u32,
    /// The map in [`Detail::key_maps`] to the segment's key indexes; None
    /// when they are the detail's own.
    key_map: Option<usize>,
}

impl Segment {
    /// The pairs of the segment's own key `key` (none for [`ABSENT`]).
    fn run(&self, key: u32) -> &[Pair] {
        let key = key as usize;
        match (self.starts.get(key), self.starts.get(key + 1)) {
            (Some(&start), Some(&end)) => &self.pairs[start as usize..end as usize],
            _ => &[],
        }
    }
}

impl Detail {
    /// Keeps `key`'s wait in `sample`. A key's samples come in order.
    pub fn push(&mut self, key: u32, sample: u32, wait_ns: u64) {
        self.unsorted.push((key, sample, wait_ns));
        self.keys = self.keys.max(key as usize + 1);
        self.pairs += 1;
        if self.unsorted.len() >= SEGMENT_PAIRS {
            self.seal();
        }
    }

    /// Sorts the last pairs pushed into a segment and lets the buffer go:
    /// the input is read.
    pub fn finish(&mut self) {
        self.seal();
        self.unsorted = Vec::new();
    }

    /// Sorts the pairs pushed since the last segment into one.
    fn seal(&mut self) {
        if self.unsorted.is_empty() {
            return;
        }
        let keys = self.keys;
        let mut starts = vec![0u32; keys + 1];
        for &(key, ..) in &self.unsorted {
            starts[key as usize + 1] += 1;
        }
        for key in 0..keys {
            starts[key + 1] += starts[key];
        }
        let mut next = starts.clone();
        let mut pairs = vec![[0u32; 3]; self.unsorted.len()];
        for &(key, sample, ns) in &self.unsorted {
            let at = &mut next[key as usize];
            pairs[*at as usize] = [sample, ns as u32, (ns >> 32) as u32];
            *at += 1;
        }
        self.unsorted.clear();
        self.segments.push(Segment {
            pairs,
            starts,
            shift: 0,
            key_map: None,
        });
    }

    /// The number of pairs kept.
    pub fn len(&self) -> usize {
        self.pairs
    }

    /// Whether no pair is kept.
    pub fn is_empty(&self) -> bool {
        self.pairs == 0
    }

    /// `key`'s (sample, wait) pairs in sample order. A key continued across
    /// two chunks of a file comes twice for the sample they share: sum them.
    pub fn waits(&self, key: u32) -> impl Iterator<Item = (u32, u64)> + '_ {
        let sorted = self.segments.iter().flat_map(move |segment| {
            let own = match segment.key_map {
                None => key,
                Some(map) => self.key_maps[map]
                    .get(key as usize)
                    .copied()
                    .unwrap_or(ABSENT),
            };
            segment.run(own).iter().map(move |&[sample, low, high]| {
                (
                    sample + segment.shift,
                    u64::from(low) | u64::from(high) << 32,
                )
            })
        });
        // Unsorted pairs only before [`Detail::finish`]: read, not lost.
        let unsorted = self
            .unsorted
            .iter()
            .filter(move |&&(of, ..)| of == key)
            .map(|&(_, sample, ns)| (sample, ns));
        sorted.chain(unsorted)
    }

    /// Every pair as (key, sample, wait), key by key.
    pub fn iter(&self) -> impl Iterator<Item = (u32, u32, u64)> + '_ {
        (0..self.keys as u32)
            .flat_map(move |key| self.waits(key).map(move |(sample, ns)| (key, sample, ns)))
    }

    /// Appends the detail of the next chunk of the same input: its key `k`
    /// is key `key_remap[k]` here, its sample `s` sample `s + shift`. Its
    /// segments are kept as they are, with a map of the keys.
    pub fn append(&mut self, mut chunk: Detail, key_remap: &[u32], shift: u32) {
        self.finish();
        chunk.finish();
        let keys = key_remap
            .iter()
            .map(|&key| key as usize + 1)
            .max()
            .unwrap_or(0);
        let mut chunk_key = vec![ABSENT; keys];
        for (own, &here) in key_remap.iter().enumerate() {
            chunk_key[here as usize] = own as u32;
        }
        // The chunk's own maps (a chunk itself appended to) composed with
        // this one, each once.
        let mut composed: Vec<Option<usize>> = vec![None; chunk.key_maps.len()];
        let mut identity_map: Option<usize> = None;
        for segment in chunk.segments {
            let slot = match segment.key_map {
                None => &mut identity_map,
                Some(map) => &mut composed[map],
            };
            let map = *slot.get_or_insert_with(|| {
                let own_map = segment.key_map.map(|map| &chunk.key_maps[map]);
                let map = chunk_key
                    .iter()
                    .map(|&own| match own_map {
                        _ if own == ABSENT => ABSENT,
                        None => own,
                        Some(own_map) => own_map.get(own as usize).copied().unwrap_or(ABSENT),
                    })
                    .collect();
                self.key_maps.push(map);
                self.key_maps.len() - 1
            });
            self.segments.push(Segment {
                shift: segment.shift + shift,
                key_map: Some(map),
                ..segment
            });
        }
        self.keys = self.keys.max(keys);
        self.pairs += chunk.pairs;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_each_keys_waits_in_sample_order_with_all_64_bits() {
        let mut detail = Detail::default();
        detail.push(1, 0, 5);
        detail.push(0, 0, u64::MAX);
        detail.push(1, 3, 1 << 40);
        assert_eq!(detail.len(), 3);
        assert_eq!(detail.waits(0).collect::<Vec<_>>(), [(0, u64::MAX)]);
        assert_eq!(detail.waits(1).collect::<Vec<_>>(), [(0, 5), (3, 1 << 40)]);
        assert_eq!(detail.waits(7).count(), 0);
        assert_eq!(
            detail.iter().collect::<Vec<_>>(),
            [(0, 0, u64::MAX), (1, 0, 5), (1, 3, 1 << 40)]
        );
    }

    #[test]
    fn a_chunk_appends_under_the_keys_and_samples_it_maps_to() {
        let mut first = Detail::default();
        first.push(0, 0, 10);
        first.push(0, 1, 11);
        let mut chunk = Detail::default();
        chunk.push(0, 0, 20);
        chunk.push(1, 0, 30);
        chunk.push(1, 2, 31);
        // The chunk's key 0 is key 2 here, its key 1 key 0; its sample 0
        // continues sample 1 here.
        first.append(chunk, &[2, 0], 1);
        assert_eq!(first.len(), 5);
        assert_eq!(
            first.waits(0).collect::<Vec<_>>(),
            [(0, 10), (1, 11), (1, 30), (3, 31)]
        );
        assert_eq!(first.waits(1).count(), 0);
        assert_eq!(first.waits(2).collect::<Vec<_>>(), [(1, 20)]);
    }

    #[test]
    fn pairs_read_back_the_same_whatever_the_segments_and_chunks() {
        // Key k waits k + s in sample s when (k + s) % 3 != 0.
        let pushed = |samples: std::ops::Range<u32>, detail: &mut Detail, seal_every: u32| {
            for sample in samples {
                for key in (0..5).filter(|key| (key + sample) % 3 != 0) {
                    detail.push(key, sample, u64::from(key + sample));
                }
                if sample % seal_every == 0 {
                    detail.seal();
                }
            }
        };
        let mut whole = Detail::default();
        pushed(0..30, &mut whole, 1000);
        let expected: Vec<(u32, u32, u64)> = whole.iter().collect();
        assert_eq!(expected.len(), 100);
        for seal_every in [1, 4, 7] {
            let mut first = Detail::default();
            pushed(0..10, &mut first, seal_every);
            let mut second = Detail::default();
            pushed(10..20, &mut second, seal_every);
            let mut third = Detail::default();
            pushed(20..30, &mut third, seal_every);
            // Chunks number their keys and samples from 0 on their own:
            // here in reverse, the samples from 0.
            let renumber = |detail: Detail| {
                let mut own = Detail::default();
                for (key, sample, ns) in detail.iter() {
                    own.push(4 - key, sample % 10, ns);
                }
                own
            };
            let reverse = [4, 3, 2, 1, 0];
            // The second chunk appended to the third first: maps composed.
            let mut later = renumber(second);
            later.append(renumber(third), &[0, 1, 2, 3, 4], 10);
            first.append(later, &reverse, 10);
            assert_eq!(first.iter().collect::<Vec<_>>(), expected, "{seal_every}");
            assert_eq!(first.len(), 100);
        }
    }
}
