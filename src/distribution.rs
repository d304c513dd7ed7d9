//! Wait distributions: how single waits spread, in bounded memory.
//!
//! A [`Histogram`] counts waits in buckets, 32 per power of two (as
//! HdrHistogram does with two significant decimal digits): a bucket is at
//! most 1/32 of its lower bound wide. A percentile is read as the mean of
//! the waits in its bucket: exact when they are all the same (one wait, a
//! few distinct ones), and always within 3.2 % of the exact one. Only the
//! buckets used are kept, a few hundred per key at most, whatever the
//! number of waits.

use serde::Serialize;

/// Buckets per power of two, as a number of bits.
const SUB_BITS: u32 = 5;
/// Values below this have a bucket each.
const EXACT_BELOW: u64 = 1 << (SUB_BITS + 1);

/// Wait durations counted in buckets of at most 1/32 of their value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    /// The buckets used, sorted by index.
    buckets: Vec<Bucket>,
    count: u64,
    min_ns: u64,
    max_ns: u64,
}

/// The waits in one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bucket {
    index: u16,
    count: u64,
    /// Their sum (saturating), whose mean stands for them.
    sum_ns: u64,
}

/// One power-of-two bucket of a distribution as lockstat `-h` prints it:
/// waits from `from_ns` up to, not including, twice that (0 holds 0 ns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Octave {
    /// The bucket's lower bound, nanoseconds (a power of two, or 0).
    pub from_ns: u64,
    /// Waits in it.
    pub count: u64,
}

/// One bucket of a histogram as a dataset stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredBucket {
    /// The bucket's number (32 per power of two).
    pub index: u16,
    /// The first value it counts, nanoseconds.
    pub low_ns: u64,
    /// The last value it counts.
    pub high_ns: u64,
    /// Waits in it.
    pub count: u64,
    /// Their sum (saturating).
    pub sum_ns: u64,
}

/// The figures of a distribution that a ranking shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percentiles {
    /// Median wait, nanoseconds.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
}

impl Histogram {
    /// A histogram of one wait.
    pub fn of(ns: u64) -> Self {
        let mut histogram = Histogram::default();
        histogram.record(ns);
        histogram
    }

    /// Counts one wait of `ns` nanoseconds.
    pub fn record(&mut self, ns: u64) {
        self.add(
            Bucket {
                index: bucket_of(ns),
                count: 1,
                sum_ns: ns,
            },
            ns,
            ns,
        );
    }

    /// Adds the waits of another histogram.
    pub fn merge(&mut self, other: &Histogram) {
        if other.count == 0 {
            return;
        }
        for &bucket in &other.buckets {
            self.add(bucket, other.min_ns, other.max_ns);
        }
    }

    fn add(&mut self, bucket: Bucket, min_ns: u64, max_ns: u64) {
        if self.count == 0 {
            self.min_ns = min_ns;
            self.max_ns = max_ns;
        } else {
            self.min_ns = self.min_ns.min(min_ns);
            self.max_ns = self.max_ns.max(max_ns);
        }
        self.count = self.count.saturating_add(bucket.count);
        match self
            .buckets
            .binary_search_by_key(&bucket.index, |b| b.index)
        {
            Ok(found) => {
                let slot = &mut self.buckets[found];
                slot.count = slot.count.saturating_add(bucket.count);
                slot.sum_ns = slot.sum_ns.saturating_add(bucket.sum_ns);
            }
            Err(at) => self.buckets.insert(at, bucket),
        }
    }

    /// The buckets used, in order: each one's index, the first and last
    /// value it counts, its waits and their sum (a dataset's `bucket`
    /// records, which merge across hosts as here).
    pub fn buckets(&self) -> impl Iterator<Item = StoredBucket> + '_ {
        self.buckets.iter().map(|bucket| {
            let (low_ns, high_ns) = bounds_of(bucket.index);
            StoredBucket {
                index: bucket.index,
                low_ns,
                high_ns,
                count: bucket.count,
                sum_ns: bucket.sum_ns,
            }
        })
    }

    /// Adds a bucket read back from a dataset, with the shortest and
    /// longest wait of the histogram it came from. An index no histogram
    /// makes is refused (None), so a foreign file cannot bend percentiles.
    pub fn add_stored(&mut self, bucket: StoredBucket, min_ns: u64, max_ns: u64) -> Option<()> {
        // Checked before its bounds are worked out: past the last bucket
        // they would be shifted beyond 64 bits.
        if bucket.count == 0
            || bucket.index > bucket_of(u64::MAX)
            || bounds_of(bucket.index) != (bucket.low_ns, bucket.high_ns)
        {
            return None;
        }
        self.add(
            Bucket {
                index: bucket.index,
                count: bucket.count,
                sum_ns: bucket.sum_ns,
            },
            min_ns,
            max_ns,
        );
        Some(())
    }

    /// The shortest wait counted (0 when empty).
    pub fn min_ns(&self) -> u64 {
        self.min_ns
    }

    /// The longest wait counted (0 when empty).
    pub fn max_ns(&self) -> u64 {
        self.max_ns
    }

    /// Number of waits counted.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The wait that `fraction` (0..=1) of the waits do not exceed, by
    /// nearest rank: read as the mean of its bucket's waits (the shortest
    /// and longest wait are exact); None when empty.
    pub fn percentile(&self, fraction: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((fraction * self.count as f64).ceil() as u64).clamp(1, self.count);
        if rank == 1 {
            return Some(self.min_ns);
        }
        if rank == self.count {
            return Some(self.max_ns);
        }
        let mut below = 0u64;
        for bucket in &self.buckets {
            below = below.saturating_add(bucket.count);
            if below >= rank {
                let (low, high) = bounds_of(bucket.index);
                // A saturated sum says nothing: the bucket's middle then.
                let mean = match bucket.sum_ns {
                    u64::MAX => low + (high - low) / 2,
                    sum => sum / bucket.count,
                };
                return Some(mean.clamp(low, high));
            }
        }
        Some(self.max_ns)
    }

    /// The median, 90th and 99th percentiles; None when empty.
    pub fn percentiles(&self) -> Option<Percentiles> {
        Some(Percentiles {
            p50_ns: self.percentile(0.50)?,
            p90_ns: self.percentile(0.90)?,
            p99_ns: self.percentile(0.99)?,
        })
    }

    /// The waits by power of two, from the lowest used to the highest,
    /// empty ones between included (as lockstat prints them).
    pub fn octaves(&self) -> Vec<Octave> {
        let mut counts: Vec<(u32, u64)> = Vec::new();
        for bucket in &self.buckets {
            let octave = octave_of(bounds_of(bucket.index).0);
            match counts.last_mut() {
                Some((last, sum)) if *last == octave => *sum = sum.saturating_add(bucket.count),
                _ => counts.push((octave, bucket.count)),
            }
        }
        let (Some(&(first, _)), Some(&(last, _))) = (counts.first(), counts.last()) else {
            return Vec::new();
        };
        (first..=last)
            .map(|octave| Octave {
                from_ns: if octave == 0 { 0 } else { 1 << (octave - 1) },
                count: counts
                    .iter()
                    .find(|(at, _)| *at == octave)
                    .map_or(0, |(_, count)| *count),
            })
            .collect()
    }
}

/// 0 for 0 ns, else 1 + the power of two at or below `ns`.
fn octave_of(ns: u64) -> u32 {
    64 - ns.leading_zeros()
}

/// The bucket that counts `ns`.
fn bucket_of(ns: u64) -> u16 {
    if ns < EXACT_BELOW {
        return ns as u16;
    }
    let power = 63 - ns.leading_zeros();
    let shift = power - SUB_BITS;
    ((u64::from(shift) << SUB_BITS) + (ns >> shift)) as u16
}

/// The values a bucket counts: from the first to the last, inclusive.
fn bounds_of(bucket: u16) -> (u64, u64) {
    let bucket = u64::from(bucket);
    if bucket < EXACT_BELOW {
        return (bucket, bucket);
    }
    let shift = (bucket >> SUB_BITS) - 1;
    let leading = (bucket & ((1 << SUB_BITS) - 1)) | (1 << SUB_BITS);
    let low = leading << shift;
    let width = 1u64 << shift;
    (low, low + (width - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_falls_in_its_own_bucket() {
        let values = [
            0,
            1,
            31,
            63,
            64,
            65,
            127,
            128,
            1_000,
            1_751_151,
            6_552_644,
            u64::MAX / 3,
            u64::MAX,
        ];
        for ns in values {
            let (low, high) = bounds_of(bucket_of(ns));
            assert!(low <= ns && ns <= high, "{ns} not in {low}..={high}");
            // A bucket is at most 1/32 of its lower bound wide.
            assert!((high - low) <= low / 32, "{ns}: {low}..={high}");
        }
        assert_eq!(bucket_of(u64::MAX), bucket_of(u64::MAX - 1));
        assert!(bucket_of(u64::MAX) < u16::MAX);
    }

    #[test]
    fn buckets_follow_each_other_without_gaps() {
        let mut next = 0u64;
        for bucket in 0..bucket_of(1 << 20) {
            let (low, high) = bounds_of(bucket);
            assert_eq!(low, next, "bucket {bucket}");
            next = high + 1;
        }
    }

    #[test]
    fn stored_buckets_merge_as_the_histograms_they_came_from() {
        let waits = [
            70, 1_751_151, 155_688, 2_910_000, 6_552_644, 1_725_415, 1_751_000,
        ];
        let (mut first, mut second, mut whole) = (
            Histogram::default(),
            Histogram::default(),
            Histogram::default(),
        );
        for (at, &ns) in waits.iter().enumerate() {
            whole.record(ns);
            if at % 2 == 0 {
                first.record(ns)
            } else {
                second.record(ns)
            }
        }
        let mut read_back = Histogram::default();
        for part in [&second, &first] {
            for bucket in part.buckets() {
                read_back
                    .add_stored(bucket, part.min_ns(), part.max_ns())
                    .unwrap();
            }
        }
        assert_eq!(read_back, whole);
        assert_eq!(read_back.percentiles(), whole.percentiles());
        // A bucket whose bounds are not its number's is refused.
        let mut bucket = whole.buckets().next().unwrap();
        bucket.high_ns += 1;
        assert_eq!(Histogram::default().add_stored(bucket, 0, 0), None);
        bucket.index = u16::MAX;
        assert_eq!(Histogram::default().add_stored(bucket, 0, 0), None);
    }

    #[test]
    fn percentiles_of_waits_alone_in_their_buckets_are_exact() {
        // The seed capture's kernel_lock waits in reaper, in ns.
        let mut histogram = Histogram::default();
        for ns in [1_751_151, 155_688, 2_910_000, 6_552_644, 1_725_415] {
            histogram.record(ns);
        }
        assert_eq!(histogram.count(), 5);
        // Nearest rank: the 3rd of 5 is the median; the 5th the 90th.
        // Each is alone in its bucket, so read exactly.
        assert_eq!(histogram.percentile(0.5), Some(1_751_151));
        assert_eq!(histogram.percentile(0.4), Some(1_725_415));
        assert_eq!(histogram.percentile(0.9), Some(6_552_644));
        assert_eq!(histogram.percentile(0.0), Some(155_688));
    }

    #[test]
    fn percentiles_of_many_waits_are_within_their_bucket() {
        let mut histogram = Histogram::default();
        for ns in 1..=100_000u64 {
            histogram.record(ns * 10);
        }
        for (fraction, exact) in [(0.5, 500_000u64), (0.9, 900_000), (0.99, 990_000)] {
            let read = histogram.percentile(fraction).unwrap();
            assert!(
                read.abs_diff(exact) * 32 <= exact,
                "p{fraction}: {read} vs {exact}"
            );
        }
    }

    #[test]
    fn merging_adds_counts_and_keeps_extremes() {
        let mut a = Histogram::of(100);
        a.record(100);
        let mut b = Histogram::of(5_000);
        b.record(3);
        a.merge(&b);
        assert_eq!(a.count(), 4);
        assert_eq!(a.percentile(0.0), Some(3));
        assert_eq!(a.percentile(1.0), Some(5_000));
        a.merge(&Histogram::default());
        assert_eq!(a.count(), 4);
    }

    #[test]
    fn octaves_are_powers_of_two_with_empty_ones_between() {
        let mut histogram = Histogram::default();
        for ns in [300, 400, 600, 20_000] {
            histogram.record(ns);
        }
        let octaves = histogram.octaves();
        let shown: Vec<(u64, u64)> = octaves.iter().map(|o| (o.from_ns, o.count)).collect();
        assert_eq!(
            shown,
            [
                (256, 2),
                (512, 1),
                (1024, 0),
                (2048, 0),
                (4096, 0),
                (8192, 0),
                (16384, 1)
            ]
        );
        assert_eq!(
            Histogram::of(0).octaves()[0],
            Octave {
                from_ns: 0,
                count: 1
            }
        );
        assert!(Histogram::default().octaves().is_empty());
    }
}
