//! The wait of each key in each sample it appears in: what `diff`'s
//! per-group Mann-Whitney tests need, kept only when asked for
//! ([`crate::facts::Fold::detail`]).
//!
//! Pairs are pushed as samples close, sample by sample, and every million
//! of them (or two a key, when there are more than half a million keys) is
//! sorted by key into a segment (a counting sort: one pass to count, one
//! to place, each key's place a cache line that stays hot). A
//! key's waits are then its run in each segment, in sample order: no sort
//! of all the pairs by group after reading (a tenth of a large diff's
//! time: docs/performance.md), and no key id in a pair. A pair in a segment takes
//! 6 bytes when the segment's samples span fewer than 65 536 and its waits
//! fit in 32 bits (a sample's wait past 4.29 s is rare): the sample after
//! the segment's first and the wait, in 16-bit pieces; else 12 bytes: the
//! sample, and the wait in two 32-bit halves.

/// Pairs sorted into a segment at a time, at least: 8 MiB unsorted, 6
/// or 12 sorted.
const SEGMENT_PAIRS: usize = 1 << 20;

/// At least this many pairs a key go into a segment: a segment holds a
/// start for every key, 4 bytes, which must not outweigh its pairs when
/// the keys are millions.
const SEGMENT_PAIRS_PER_KEY: usize = 2;

/// A key a segment does not have, in a key map.
const ABSENT: u32 = u32::MAX;

/// One (sample, wait) pair: the sample, then the wait's low and high
/// halves (a `u64` would align the pair to 16 bytes).
type Pair = [u32; 3];

/// A pair in 6 bytes: the sample after the segment's first, then the
/// wait's low and high 16 bits.
type NarrowPair = [u16; 3];

/// A segment's pairs, in 6 bytes each when they fit.
#[derive(Debug, Clone)]
enum Pairs {
    Narrow(Vec<NarrowPair>),
    Wide(Vec<Pair>),
}

/// Each key's (sample, wait) pairs.
#[derive(Debug, Clone, Default)]
pub struct KeyWaits {
    segments: Vec<Segment>,
    /// Maps of the segments of appended chunks: key index here to key
    /// index in the segment.
    key_maps: Vec<Vec<u32>>,
    /// Pairs not yet in a segment, as pushed.
    unsorted: Unsorted,
    /// One more than the largest key index.
    keys: usize,
}

/// Pairs as pushed, not yet sorted into a segment: 8 bytes a pair, as
/// the counting sort reads them twice and its second pass is bound by
/// those reads (at 16 bytes, with the sample and the whole wait, sealing
/// took twice as long: docs/performance.md).
#[derive(Debug, Clone, Default)]
struct Unsorted {
    /// (key, the wait's low 32 bits) of each pair.
    pairs: Vec<[u32; 2]>,
    /// (first pair, sample) of each run of pairs of one sample: pushes
    /// come sample by sample. A segment holds fewer than 2^32 pairs
    /// (twice the keys at most, past 2^20), so 8 bytes a run.
    samples: Vec<(u32, u32)>,
    /// (pair, the wait's high 32 bits) of each wait past 32 bits, rare.
    highs: Vec<(u32, u32)>,
}

impl Unsorted {
    /// Adds `key`'s wait in `sample`.
    fn push(&mut self, key: u32, sample: u32, wait_ns: u64) {
        let at = self.pairs.len() as u32;
        if self.samples.last().is_none_or(|&(_, last)| last != sample) {
            self.samples.push((at, sample));
        }
        if wait_ns > u64::from(u32::MAX) {
            self.highs.push((at, (wait_ns >> 32) as u32));
        }
        self.pairs.push([key, wait_ns as u32]);
    }

    /// How many pairs.
    fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether it holds no pair.
    fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Forgets every pair, keeping the memory.
    fn clear(&mut self) {
        self.pairs.clear();
        self.samples.clear();
        self.highs.clear();
    }

    /// The least and the greatest sample of the pairs (pushes may come
    /// back to an earlier sample).
    fn sample_span(&self) -> (u32, u32) {
        let samples = self.samples.iter().map(|&(_, sample)| sample);
        let first = samples.clone().min().unwrap_or(0);
        (first, samples.max().unwrap_or(0))
    }

    /// Calls `visit` with each pair's key, sample and wait, in the order
    /// pushed.
    #[inline]
    fn for_each(&self, mut visit: impl FnMut(u32, u32, u64)) {
        let mut highs = self.highs.iter().peekable();
        for (run, &(begin, sample)) in self.samples.iter().enumerate() {
            let begin = begin as usize;
            let end = self
                .samples
                .get(run + 1)
                .map_or(self.len(), |&(end, _)| end as usize);
            for (at, &[key, low]) in (begin..end).zip(&self.pairs[begin..end]) {
                let high = match highs.peek() {
                    Some(&&(pair, high)) if pair as usize == at => {
                        highs.next();
                        high
                    }
                    _ => 0,
                };
                visit(key, sample, u64::from(low) | u64::from(high) << 32);
            }
        }
    }
}

/// Pairs sorted by key.
#[derive(Debug, Clone)]
struct Segment {
    /// Key `k`'s pairs are `pairs[starts[k]..starts[k + 1]]`, in sample
    /// order.
    pairs: Pairs,
    starts: Vec<u32>,
    /// Added to each sample read back: the samples before its chunk, and
    /// for narrow pairs the segment's first sample.
    shift: u32,
    /// The map in [`KeyWaits::key_maps`] to the segment's key indexes; None
    /// when they are the detail's own.
    key_map: Option<usize>,
}

impl Segment {
    /// Where the pairs of the segment's own key `key` are (none for
    /// [`ABSENT`]).
    fn run(&self, key: u32) -> std::ops::Range<usize> {
        let key = key as usize;
        match (self.starts.get(key), self.starts.get(key + 1)) {
            (Some(&start), Some(&end)) => start as usize..end as usize,
            _ => 0..0,
        }
    }

    /// Calls `visit` with the (sample, wait) pairs of the segment's own
    /// key `key`, in sample order.
    #[inline]
    fn each_pair(&self, key: u32, mut visit: impl FnMut(u32, u64)) {
        let run = self.run(key);
        match &self.pairs {
            Pairs::Narrow(pairs) => {
                for &[sample, low, high] in &pairs[run] {
                    visit(
                        u32::from(sample) + self.shift,
                        u64::from(low) | u64::from(high) << 16,
                    );
                }
            }
            Pairs::Wide(pairs) => {
                for &[sample, low, high] in &pairs[run] {
                    visit(sample + self.shift, u64::from(low) | u64::from(high) << 32);
                }
            }
        }
    }
}

impl KeyWaits {
    /// Keeps `key`'s wait in `sample`. A key's samples come in order.
    pub fn push(&mut self, key: u32, sample: u32, wait_ns: u64) {
        self.unsorted.push(key, sample, wait_ns);
        self.keys = self.keys.max(key as usize + 1);
        if self.unsorted.len() >= SEGMENT_PAIRS.max(SEGMENT_PAIRS_PER_KEY * self.keys) {
            self.seal();
        }
    }

    /// Sorts the last pairs pushed into a segment and lets the buffer go:
    /// the input is read.
    pub fn finish(&mut self) {
        self.seal();
        self.unsorted = Unsorted::default();
    }

    /// Sorts the pairs pushed since the last segment into one.
    fn seal(&mut self) {
        if self.unsorted.is_empty() {
            return;
        }
        let keys = self.keys;
        let mut starts = vec![0u32; keys + 1];
        for &[key, _] in &self.unsorted.pairs {
            starts[key as usize + 1] += 1;
        }
        for key in 0..keys {
            starts[key + 1] += starts[key];
        }
        let (first, last) = self.unsorted.sample_span();
        let narrow = last - first <= u32::from(u16::MAX) && self.unsorted.highs.is_empty();
        let (pairs, shift) = if narrow {
            let pairs = placed(&self.unsorted, &starts, |sample, ns| {
                [(sample - first) as u16, ns as u16, (ns >> 16) as u16]
            });
            (Pairs::Narrow(pairs), first)
        } else {
            let pairs = placed(&self.unsorted, &starts, |sample, ns| {
                [sample, ns as u32, (ns >> 32) as u32]
            });
            (Pairs::Wide(pairs), 0)
        };
        self.unsorted.clear();
        self.segments.push(Segment {
            pairs,
            starts,
            shift,
            key_map: None,
        });
    }

    /// Calls `visit` with `key`'s (sample, wait) pairs in sample order,
    /// once the input is read ([`KeyWaits::finish`]). A key continued
    /// across two chunks of a file comes twice for the sample they share,
    /// one pair after the other: sum them.
    pub fn for_each_wait(&self, key: u32, mut visit: impl FnMut(u32, u64)) {
        debug_assert!(self.unsorted.is_empty(), "waits read before finish");
        for segment in &self.segments {
            let own = match segment.key_map {
                None => key,
                Some(map) => self.key_maps[map]
                    .get(key as usize)
                    .copied()
                    .unwrap_or(ABSENT),
            };
            segment.each_pair(own, &mut visit);
        }
    }

    /// `key`'s (sample, wait) pairs, as [`KeyWaits::for_each_wait`] gives
    /// them.
    pub fn waits(&self, key: u32) -> Vec<(u32, u64)> {
        let mut waits = Vec::new();
        self.for_each_wait(key, |sample, ns| waits.push((sample, ns)));
        waits
    }

    /// Every pair as (key, sample, wait), key by key.
    pub fn iter(&self) -> impl Iterator<Item = (u32, u32, u64)> + '_ {
        (0..self.keys as u32).flat_map(move |key| {
            self.waits(key)
                .into_iter()
                .map(move |(sample, ns)| (key, sample, ns))
        })
    }

    /// Appends the waits of the next chunk of the same input: its key `k`
    /// is key `key_remap[k]` here, its sample `s` sample `s + shift`. Its
    /// segments are kept as they are, with a map of the keys: 4 bytes a
    /// key for each chunk appended.
    pub fn append(&mut self, mut chunk: KeyWaits, key_remap: &[u32], shift: u32) {
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
        // Each map of the chunk's segments (none: the chunk's own keys)
        // becomes one map from the keys here, made once.
        let mut maps_here: Vec<Option<usize>> = vec![None; chunk.key_maps.len() + 1];
        for segment in chunk.segments {
            let slot = segment.key_map.map_or(0, |map| map + 1);
            let map = *maps_here[slot].get_or_insert_with(|| {
                let own_map = segment.key_map.map(|map| chunk.key_maps[map].as_slice());
                self.key_maps.push(composed(&chunk_key, own_map));
                self.key_maps.len() - 1
            });
            self.segments.push(Segment {
                shift: segment.shift + shift,
                key_map: Some(map),
                ..segment
            });
        }
        self.keys = self.keys.max(keys);
    }
}

/// The pairs of `unsorted` grouped by key, each key's in the order pushed,
/// at the places `starts` gives, each made by `pair` from its sample and
/// wait.
fn placed<P: Copy + Default>(
    unsorted: &Unsorted,
    starts: &[u32],
    pair: impl Fn(u32, u64) -> P,
) -> Vec<P> {
    let mut next = starts.to_vec();
    let mut pairs = vec![P::default(); unsorted.len()];
    unsorted.for_each(|key, sample, ns| {
        let at = &mut next[key as usize];
        pairs[*at as usize] = pair(sample, ns);
        *at += 1;
    });
    pairs
}

/// For each key here, its key in a segment: `chunk_key` takes it to the
/// chunk's key, and `segment_key` (the segment's own map, if any) on.
fn composed(chunk_key: &[u32], segment_key: Option<&[u32]>) -> Vec<u32> {
    chunk_key
        .iter()
        .map(|&own| match segment_key {
            _ if own == ABSENT => ABSENT,
            None => own,
            Some(map) => map.get(own as usize).copied().unwrap_or(ABSENT),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_each_keys_waits_in_sample_order_with_all_64_bits() {
        let mut waits = KeyWaits::default();
        waits.push(1, 0, 5);
        waits.push(0, 0, u64::MAX);
        waits.push(1, 3, 1 << 40);
        waits.finish();
        assert_eq!(waits.waits(0), [(0, u64::MAX)]);
        assert_eq!(waits.waits(1), [(0, 5), (3, 1 << 40)]);
        assert_eq!(waits.waits(7).len(), 0);
    }

    #[test]
    fn pairs_pushed_read_back_in_order_with_their_samples_and_high_bits() {
        // Runs of one sample, a sample pushed again after another, and
        // waits past 32 bits between and at the ends of runs, on the
        // first pair and on the last; the first and last samples pushed
        // are neither the least nor the greatest.
        let pushed: Vec<(u32, u32, u64)> = (0..200u32)
            .map(|at| {
                let sample = [5, 5, 1, 1, 1, 4, 2, 1, 9, 8][at as usize % 10] + at / 10 * 10;
                let high = if at % 7 == 0 || at == 199 {
                    u64::from(at + 1) << 32
                } else {
                    0
                };
                (at % 13, sample, high | u64::from(at * 31))
            })
            .collect();
        let mut unsorted = Unsorted::default();
        for &(key, sample, ns) in &pushed {
            unsorted.push(key, sample, ns);
        }
        let mut read = Vec::new();
        unsorted.for_each(|key, sample, ns| read.push((key, sample, ns)));
        assert_eq!(read, pushed);
        assert_eq!(unsorted.sample_span(), (1, 199));
        assert_eq!(unsorted.highs.len(), 30);
    }

    #[test]
    fn segments_narrow_or_wide_read_back_every_sample_and_wait() {
        // One segment each: (sample, wait) pairs of key 0; key 1 waits
        // half as long.
        let segments: [&[(u32, u64)]; 4] = [
            // 6-byte pairs: the widest wait that fits.
            &[(0, 0), (3, u64::from(u32::MAX))],
            // 12-byte pairs: a wait past 32 bits.
            &[(10, 1), (11, u64::from(u32::MAX) * 2 + 2)],
            // 6-byte pairs: the longest span of samples that fits.
            &[(20, 5), (20 + 65_535, 6)],
            // 12-byte pairs: a span one longer.
            &[(70_000, 7), (70_000 + 65_536, 8)],
        ];
        let mut waits = KeyWaits::default();
        for pairs in segments {
            for &(sample, ns) in pairs {
                waits.push(0, sample, ns);
                waits.push(1, sample, ns / 2);
            }
            waits.seal();
        }
        waits.finish();
        let narrow: Vec<bool> = waits
            .segments
            .iter()
            .map(|segment| matches!(segment.pairs, Pairs::Narrow(_)))
            .collect();
        assert_eq!(narrow, [true, false, true, false]);
        let expected: Vec<(u32, u64)> = segments.concat();
        assert_eq!(waits.waits(0), expected);
        let halves: Vec<(u32, u64)> = expected.iter().map(|&(s, ns)| (s, ns / 2)).collect();
        assert_eq!(waits.waits(1), halves);
    }

    #[test]
    fn a_chunk_appends_under_the_keys_and_samples_it_maps_to() {
        let mut first = KeyWaits::default();
        first.push(0, 0, 10);
        first.push(0, 1, 11);
        let mut chunk = KeyWaits::default();
        chunk.push(0, 0, 20);
        chunk.push(1, 0, 30);
        chunk.push(1, 2, 31);
        // The chunk's key 0 is key 2 here, its key 1 key 0; its sample 0
        // continues sample 1 here.
        first.append(chunk, &[2, 0], 1);
        assert_eq!(first.waits(0), [(0, 10), (1, 11), (1, 30), (3, 31)]);
        assert_eq!(first.waits(1).len(), 0);
        assert_eq!(first.waits(2), [(1, 20)]);
    }

    #[test]
    fn millions_of_keys_seen_once_make_no_segment_of_starts_alone() {
        let keys = SEGMENT_PAIRS as u32 * 3 / 2;
        let mut waits = KeyWaits::default();
        for key in 0..keys {
            waits.push(key, 0, u64::from(key));
        }
        waits.finish();
        // One segment: a second would hold a start for each of the keys
        // and fewer pairs than keys.
        assert_eq!(waits.segments.len(), 1);
        assert_eq!(waits.waits(keys - 1), [(0, u64::from(keys - 1))]);
    }

    /// Key k's wait in sample s, when it has one: past 2^32 (so that both
    /// halves count) after sample 0 when `wide`, else under 2^16.
    fn wait(key: u32, sample: u32, wide: bool) -> Option<u64> {
        let high = if wide { u64::from(sample) << 40 } else { 0 };
        ((key + sample) % 3 != 0).then(|| u64::from(key + sample) | high)
    }

    /// A chunk of samples `from..to` of the 5 keys, numbered from 0, its
    /// key `k` numbered `own(k)`, sealed after every `seal_every` samples;
    /// waits as [`wait`] makes them.
    fn chunk(from: u32, to: u32, own: fn(u32) -> u32, seal_every: u32, wide: bool) -> KeyWaits {
        let mut waits = KeyWaits::default();
        for sample in from..to {
            for key in 0..5 {
                if let Some(ns) = wait(key, sample, wide) {
                    waits.push(own(key), sample - from, ns);
                }
            }
            if sample % seal_every == 0 {
                waits.seal();
            }
        }
        waits
    }

    #[test]
    fn pairs_read_back_the_same_whatever_the_segments_and_chunks() {
        // Wide waits, then narrow ones: narrow segments that begin after
        // a chunk's first sample keep that sample in their shift, and a
        // chunk appended adds its own.
        for wide in [true, false] {
            let expected: Vec<(u32, u32, u64)> = (0..5)
                .flat_map(|key| {
                    (0..30).filter_map(move |s| wait(key, s, wide).map(|ns| (key, s, ns)))
                })
                .collect();
            assert_eq!(expected.len(), 100);
            for seal_every in [1, 4, 7, 1000] {
                let mut first = chunk(0, 10, |key| key, seal_every, wide);
                // The second chunk numbers the keys in reverse, the third
                // rotated by two; the third is appended to the second
                // first, so that its maps are composed.
                let mut later = chunk(10, 20, |key| 4 - key, seal_every, wide);
                let third = chunk(20, 30, |key| (key + 2) % 5, seal_every, wide);
                let third_to_second = [0, 1, 2, 3, 4].map(|own| 4 - (own + 3) % 5);
                later.append(third, &third_to_second, 10);
                first.append(later, &[4, 3, 2, 1, 0], 10);
                let read: Vec<(u32, u32, u64)> = first.iter().collect();
                assert_eq!(read, expected, "sealed every {seal_every}, wide {wide}");
                let narrow = first
                    .segments
                    .iter()
                    .filter(|segment| matches!(segment.pairs, Pairs::Narrow(_)))
                    .count();
                if !wide {
                    assert_eq!(narrow, first.segments.len());
                }
            }
        }
    }
}
