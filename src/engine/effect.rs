//! How big a change is and how many samples it takes to see one: the
//! Hodges-Lehmann shift with its distribution-free confidence interval
//! (the estimate that belongs with the Mann-Whitney test of
//! [`crate::engine::stats`]), and the samples a side that a rank test needs to
//! detect a shift of a given size.

use crate::engine::stats::{EXACT_LIMIT, untied_u_counts};

/// The shift of the after values against the before values: the median
/// of every difference after - before (Hodges-Lehmann), and the interval
/// of differences that holds the true shift with the chosen confidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shift {
    /// The median of all n1 x n2 differences.
    pub estimate: f64,
    /// [d(k), d(N+1-k)] of the sorted differences, k from the null
    /// distribution of U; None when even the widest interval, the
    /// smallest difference to the largest, is not that sure (too few
    /// samples).
    pub interval: Option<[f64; 2]>,
}

/// The Hodges-Lehmann shift of `after` against `before` with its
/// `confidence` interval (0.95 for 95 %). None when a side is empty.
///
/// The interval's ranks come from the exact distribution of U without
/// ties up to [`EXACT_LIMIT`] values a side, else from its normal
/// approximation (Hollander and Wolfe, Nonparametric Statistical
/// Methods, 4.3); with ties the untied distribution is the usual
/// approximation, as R's `wilcox.test(conf.int = TRUE)` takes it.
pub fn hodges_lehmann(before: &[f64], after: &[f64], confidence: f64) -> Option<Shift> {
    if before.is_empty() || after.is_empty() {
        return None;
    }
    let (before, after) = (sorted(before), sorted(after));
    let count = before.len() * after.len();
    let kth = |k: usize| kth_difference(&before, &after, k);
    let estimate = if count % 2 == 1 {
        kth(count / 2 + 1)
    } else {
        (kth(count / 2) + kth(count / 2 + 1)) / 2.0
    };
    // `+ 0.0` turns a difference of -0.0 into 0.
    let interval = interval_rank(before.len(), after.len(), confidence)
        .map(|k| [kth(k) + 0.0, kth(count + 1 - k) + 0.0]);
    Some(Shift {
        estimate: estimate + 0.0,
        interval,
    })
}

/// The k of the interval [d(k), d(N+1-k)]: the largest k with
/// P(U <= k - 1) < (1 - confidence) / 2 under no change (strictly, as
/// significance is p < alpha: an interval never leaves out 0 where the
/// untied test at the same alpha finds nothing); None when there is none
/// (k would be 0). Past [`EXACT_LIMIT`] the normal approximation with the
/// continuity correction the test uses, k = floor(mn/2 - z s + 1/2).
pub fn interval_rank(n1: usize, n2: usize, confidence: f64) -> Option<usize> {
    let tail = (1.0 - confidence) / 2.0;
    let k = if n1 <= EXACT_LIMIT && n2 <= EXACT_LIMIT {
        let counts = untied_u_counts(n1, n2);
        let total: f64 = counts.iter().sum();
        let mut below = 0.0;
        let mut k = 0;
        for count in counts.iter() {
            below += count;
            // Relative slack: (1 - 0.9) / 2 is 0.04999..., and P(U <= 0)
            // = 1/20 must count as reaching it.
            if below / total >= tail * (1.0 - 1e-9) {
                break;
            }
            k += 1;
        }
        k
    } else {
        let (m, n) = (n1 as f64, n2 as f64);
        let spread = (m * n * (m + n + 1.0) / 12.0).sqrt();
        (m * n / 2.0 - normal_quantile(1.0 - tail) * spread + 0.5).floor() as usize
    };
    (k >= 1).then_some(k.min(n1 * n2))
}

/// The k-th smallest (1-based) of the differences `after[j] - before[i]`
/// of two sorted sides, without listing the n1 x n2 of them: a bisection
/// over the doubles between the least and greatest difference, each step
/// counting the differences at or below a value in one merge-like pass.
/// About 64 passes of n1 + n2.
fn kth_difference(before: &[f64], after: &[f64], k: usize) -> f64 {
    let least = after[0] - before[before.len() - 1];
    let greatest = after[after.len() - 1] - before[0];
    if count_at_most(before, after, least) >= k {
        return least;
    }
    // count(low) < k <= count(high); the k-th difference is high when the
    // two are neighbours among the doubles.
    let (mut low, mut high) = (
        i128::from(order_key(least)),
        i128::from(order_key(greatest)),
    );
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if count_at_most(before, after, from_order_key(middle as i64)) >= k {
            high = middle;
        } else {
            low = middle;
        }
    }
    from_order_key(high as i64)
}

/// How many differences `after[j] - before[i]` are at most `x`. A
/// difference computed in floating point falls as before[i] rises and
/// rises with after[j] (rounding keeps order), so the first i whose
/// difference is at most `x` only moves right as j goes up.
fn count_at_most(before: &[f64], after: &[f64], x: f64) -> usize {
    let mut first = 0;
    let mut count = 0;
    for &b in after {
        while first < before.len() && b - before[first] > x {
            first += 1;
        }
        count += before.len() - first;
    }
    count
}

/// A double's place in the order of all doubles, as an integer: adjacent
/// doubles differ by 1 (the sign-magnitude bits turned to two's
/// complement order).
fn order_key(x: f64) -> i64 {
    let bits = x.to_bits() as i64;
    if bits < 0 { bits ^ i64::MAX } else { bits }
}

fn from_order_key(key: i64) -> f64 {
    let bits = if key < 0 { key ^ i64::MAX } else { key };
    f64::from_bits(bits as u64)
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
}

/// The standard normal quantile: the z with P(Z <= z) = `probability`,
/// by bisection on the complementary error function (libm's, exact to
/// the last bits; 200 halvings reach the neighbouring doubles).
pub fn normal_quantile(probability: f64) -> f64 {
    let upper_tail = |z: f64| libm::erfc(z / std::f64::consts::SQRT_2) / 2.0;
    let target = 1.0 - probability;
    let (mut low, mut high) = (-40.0f64, 40.0f64);
    for _ in 0..200 {
        let middle = (low + high) / 2.0;
        if upper_tail(middle) > target {
            low = middle;
        } else {
            high = middle;
        }
    }
    (low + high) / 2.0
}

/// Samples a side beyond which no estimate is given.
pub const MOST_SAMPLES_ESTIMATED: usize = 1_000_000;

/// How many samples a side give a two-sided rank test at `alpha` the
/// chance `power` (0.8) of detecting a rise of `delta` (in the values'
/// unit), estimated from the samples at hand: the before values and the
/// after values moved back by `observed_shift` are taken as one pool of
/// what a sample looks like, and P = P(X + delta > X') + P(X + delta =
/// X') / 2 for two draws X, X' from it is put in Noether's formula,
/// n = (z(1 - alpha/2) + z(power))^2 / (6 (P - 1/2)^2) a side.
///
/// None when `delta` is 0 or moves no value past another (no sample
/// count can see it), or when it would take more than
/// [`MOST_SAMPLES_ESTIMATED`]. At least `least` (the fewest with which
/// the test can reach `alpha` at all).
pub fn samples_needed(
    before: &[f64],
    after: &[f64],
    observed_shift: f64,
    delta: f64,
    alpha: f64,
    power: f64,
    least: usize,
) -> Option<usize> {
    if !(delta.is_finite() && delta > 0.0) || before.is_empty() {
        return None;
    }
    let mut pool: Vec<f64> = before
        .iter()
        .copied()
        .chain(after.iter().map(|&v| v - observed_shift))
        .collect();
    pool.sort_by(f64::total_cmp);
    let superiority = shifted_superiority(&pool, delta);
    if superiority <= 0.5 {
        return None;
    }
    let z = normal_quantile(1.0 - alpha / 2.0) + normal_quantile(power);
    let n = (z * z / (6.0 * (superiority - 0.5).powi(2))).ceil();
    (n <= MOST_SAMPLES_ESTIMATED as f64).then(|| (n as usize).max(least))
}

/// P(X + delta > X') + P(X + delta = X') / 2 over the ordered pairs of
/// two different draws from the sorted `pool`. A value paired with
/// itself is left out: it always counts as above (delta > 0), which on
/// ten values would add 0.05 to P and take hundreds of samples off the
/// estimate of a small shift.
fn shifted_superiority(pool: &[f64], delta: f64) -> f64 {
    let n = pool.len();
    let (mut below, mut at_most) = (0, 0);
    let mut doubled = 0u128;
    for &x in pool {
        let moved = x + delta;
        while below < n && pool[below] < moved {
            below += 1;
        }
        while at_most < n && pool[at_most] <= moved {
            at_most += 1;
        }
        doubled += (2 * below + (at_most - below)) as u128;
    }
    if n < 2 {
        return 0.5;
    }
    // Each value counted itself as below it moved (2 in the doubled sum).
    let doubled = doubled - 2 * n as u128;
    doubled as f64 / 2.0 / (n * (n - 1)) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every difference listed and sorted: the definition.
    fn differences(before: &[f64], after: &[f64]) -> Vec<f64> {
        let mut all: Vec<f64> = after
            .iter()
            .flat_map(|a| before.iter().map(move |b| a - b))
            .collect();
        all.sort_by(f64::total_cmp);
        all
    }

    use crate::draws::Draws;

    #[test]
    fn the_kth_difference_is_the_kth_of_every_difference_listed() {
        let mut draws = Draws(0x853c_49e6_748f_ea9b);
        for trial in 0..400 {
            let (n1, n2) = (1 + trial % 9, 1 + trial / 9 % 11);
            let scale = [1.0, 0.001, 1e9, 0.37][trial % 4];
            let mut side = |n: usize| -> Vec<f64> {
                let mut values: Vec<f64> = (0..n)
                    .map(|_| (draws.below(40) as f64 - 10.0) * scale)
                    .collect();
                values.sort_by(f64::total_cmp);
                values
            };
            let (before, after) = (side(n1), side(n2));
            let listed = differences(&before, &after);
            for k in 1..=listed.len() {
                assert_eq!(
                    kth_difference(&before, &after, k),
                    listed[k - 1],
                    "{before:?} {after:?} k={k}"
                );
            }
        }
    }

    #[test]
    fn hodges_lehmann_matches_r() {
        // R 4.2.2 (Debian r-base-core): wilcox.test(y, x, conf.int = TRUE) with
        // x = c(0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46),
        // y = c(1.15, 0.88, 0.90, 0.74, 1.21) (the permeability data of
        // R's own wilcox.test examples), exact, no ties: "difference in
        // location -0.305", "95 percent confidence interval: -0.76 0.15".
        let x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
        let y = [1.15, 0.88, 0.90, 0.74, 1.21];
        let shift = hodges_lehmann(&x, &y, 0.95).unwrap();
        assert!((shift.estimate - -0.305).abs() < 1e-9, "{shift:?}");
        let [low, high] = shift.interval.unwrap();
        assert!(
            (low - -0.76).abs() < 1e-9 && (high - 0.15).abs() < 1e-9,
            "{shift:?}"
        );
    }

    #[test]
    fn interval_ranks_from_the_exact_distribution_and_the_approximation() {
        // 5 + 10 at 95 %: P(U <= 8) = 0.0200 <= 2.5 % < P(U <= 9) = 0.0270
        // (the published critical value of U for 5 and 10 is 8): k = 9.
        assert_eq!(interval_rank(5, 10, 0.95), Some(9));
        // 3 + 3: P(U <= 0) = 1/20 > 2.5 %: no 95 % interval; and none
        // at 90 % either, where the test's least p is 0.1, not below it.
        assert_eq!(interval_rank(3, 3, 0.95), None);
        assert_eq!(interval_rank(3, 3, 0.90), None);
        assert_eq!(interval_rank(3, 3, 0.80), Some(1));
        // 4 + 4 at 95 %: P(U <= 0) = 1/70, P(U <= 1) = 2/70: k = 1.
        assert_eq!(interval_rank(4, 4, 0.95), Some(1));
        // Past 50 a side the normal approximation: 100 + 100,
        // 5000 - 1.959964 x sqrt(100 x 100 x 201 / 12) + 0.5 = 4198.35.
        assert_eq!(interval_rank(100, 100, 0.95), Some(4198));
        // It agrees with the exact count where both are defined.
        let exact = interval_rank(50, 50, 0.95).unwrap() as f64;
        let approximate = 1250.5 - 1.959_964 * (50.0f64 * 50.0 * 101.0 / 12.0).sqrt();
        assert!((exact - approximate).abs() <= 2.0, "{exact} {approximate}");
    }

    #[test]
    fn the_interval_leaves_out_zero_exactly_where_the_test_finds_a_change() {
        // Untied sides of 2 to 80 values (the exact distribution up to 50,
        // the normal approximation past it), shifted by chance amounts:
        // p < alpha where, and only where, the 1 - alpha interval of the
        // shift leaves out 0.
        let mut draws = Draws(0x9e37_79b9_7f4a_7c15);
        let mut next = move || draws.bits();
        for trial in 0..300 {
            let (n1, n2) = (2 + next() as usize % 79, 2 + next() as usize % 79);
            let shift = (next() % 60) as f64 / 100.0;
            let alpha = [0.05, 0.1, 0.01][trial % 3];
            // Distinct values: a random fraction plus the value's index.
            let mut side = |n: usize, offset: f64, salt: f64| -> Vec<f64> {
                (0..n)
                    .map(|i| (next() % 1_000_000) as f64 / 1e6 + offset + i as f64 * 1e-9 + salt)
                    .collect()
            };
            let (before, after) = (side(n1, 0.0, 0.0), side(n2, shift, 5e-10));
            let test = crate::engine::stats::mann_whitney(&before, &after).unwrap();
            let interval = hodges_lehmann(&before, &after, 1.0 - alpha)
                .unwrap()
                .interval;
            let leaves_out_zero = interval.is_some_and(|[low, high]| low > 0.0 || high < 0.0);
            assert_eq!(
                test.p_value < alpha,
                leaves_out_zero,
                "{n1}+{n2} at {alpha}: p = {}, interval {interval:?}",
                test.p_value
            );
        }
    }

    #[test]
    fn normal_quantiles() {
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-12);
        assert!((normal_quantile(0.8) - 0.841_621_233_572_914_3).abs() < 1e-12);
        assert!(normal_quantile(0.5).abs() < 1e-12);
    }

    #[test]
    fn samples_needed_follows_noethers_formula() {
        // A pool of 0..100 moved by 50: x' < i + 50 for min(100, i + 50)
        // of the x', summed over i: 3725 + 5000 = 8725 pairs; x' = i + 50
        // for the 50 i below 50. Without the 100 pairs of a value with
        // itself: P = (8725 - 100 + 50 / 2) / (100 x 99) = 0.873737.
        let values: Vec<f64> = (0..100).map(f64::from).collect();
        let pool_superiority = shifted_superiority(&values, 50.0);
        assert!(
            (pool_superiority - 8650.0 / 9900.0).abs() < 1e-12,
            "{pool_superiority}"
        );
        // n = (1.959964 + 0.841621)^2 / (6 x 0.373737^2) = 9.37 -> 10.
        let n = samples_needed(&values, &values, 0.0, 50.0, 0.05, 0.8, 4);
        assert_eq!(n, Some(10));
        assert_eq!(
            samples_needed(&values, &values, 0.0, 0.0, 0.05, 0.8, 4),
            None
        );
        // Sides that never overlap: P = 1, n = 7.849 / 1.5 = 5.2 -> 6
        // (the formula's floor; 4 a side would do, never fewer).
        assert_eq!(
            samples_needed(&values, &values, 0.0, 1e6, 0.05, 0.8, 4),
            Some(6)
        );
        assert_eq!(
            samples_needed(&values, &values, 0.0, 1e6, 0.05, 0.8, 7),
            Some(7)
        );
    }
}
