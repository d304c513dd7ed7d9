//! The statistics of `diff`: means, medians with confidence intervals, the
//! two-sided Mann-Whitney U test, and Benjamini-Hochberg adjustment.
//!
//! Plain functions over `f64` slices, no polars: they are checked against
//! published values in the tests below.

/// The mean, None for no values.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The median, None for no values.
pub fn median(values: &[f64]) -> Option<f64> {
    let sorted = sorted(values);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// Fewest values for which [`median_ci`] gives an interval of at least 95 %
/// confidence.
pub const MIN_SAMPLES_FOR_CI: usize = 6;

/// The smallest two-sided p a rank test of `n1` and `n2` values can give:
/// every value of one side above every value of the other, untied, one
/// of C(n1 + n2, n1) deals, counted at both ends.
pub fn least_p(n1: usize, n2: usize) -> f64 {
    let (small, n) = (n1.min(n2), n1 + n2);
    // C(n, small) built up term by term; past 1e300 p is 0 for any use.
    let mut ways = 1.0f64;
    for i in 0..small {
        ways = ways * (n - i) as f64 / (i + 1) as f64;
        if ways > 1e300 {
            return 0.0;
        }
    }
    (2.0 / ways).min(1.0)
}

/// The fewest samples a side with which a rank test can give p below
/// `alpha` at all (4 at 0.05: p = 2/70); 2 with the tests off.
pub fn min_samples_for_alpha(alpha: f64) -> usize {
    if alpha >= 1.0 {
        return 2;
    }
    (2..).find(|&n| least_p(n, n) < alpha).unwrap_or(2)
}

/// A distribution-free confidence interval of at least 95 % for the median,
/// from order statistics (as benchstat does): the k-th smallest and k-th
/// largest values, k the largest with P(Binomial(n, 1/2) < k) <= 2.5 %.
/// None below [`MIN_SAMPLES_FOR_CI`] values.
pub fn median_ci(values: &[f64]) -> Option<(f64, f64)> {
    let n = values.len();
    if n < MIN_SAMPLES_FOR_CI {
        return None;
    }
    let sorted = sorted(values);
    let k = binomial_half_quantile(n, 0.025).max(1);
    Some((sorted[k - 1], sorted[n - k]))
}

/// The largest k with P(X < k) <= `tail` for X ~ Binomial(n, 1/2). The
/// terms are summed from their logarithms: 0.5^n underflows to 0 from
/// n = 1 075, where starting from it would sum nothing but zeros.
fn binomial_half_quantile(n: usize, tail: f64) -> usize {
    let mut log_term = -(n as f64) * std::f64::consts::LN_2; // log P(X = 0)
    let mut below = 0.0;
    for i in 0..n {
        below += log_term.exp();
        if below > tail {
            return i;
        }
        log_term += ((n - i) as f64).ln() - ((i + 1) as f64).ln();
    }
    n
}

/// Which distribution a p-value was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TestMethod {
    /// The exact distribution of U, no tied values.
    Exact,
    /// The exact distribution of U given the ties (every arrangement of
    /// the pooled values, tied ones sharing their mean rank).
    ExactTies,
    /// The normal approximation with tie and continuity corrections.
    Normal,
}

impl TestMethod {
    /// The name the JSON gives it.
    pub fn name(self) -> &'static str {
        match self {
            TestMethod::Exact => "exact",
            TestMethod::ExactTies => "exact-ties",
            TestMethod::Normal => "normal",
        }
    }
}

/// The result of a Mann-Whitney U test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannWhitney {
    /// U of the first sample: pairs (a, b) with a > b, ties counting 1/2.
    pub u: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// The distribution p was taken from.
    pub method: TestMethod,
}

impl MannWhitney {
    /// Whether the second sample tends to the larger values (U of the
    /// first below its mean n1*n2/2), the smaller, or neither: the
    /// direction the test measures.
    pub fn second_is(&self, n1: usize, n2: usize) -> std::cmp::Ordering {
        let middle = (n1 * n2) as f64 / 2.0;
        middle.total_cmp(&self.u)
    }
}

/// Largest sample per side for which the exact distribution is used when
/// no values are tied (benchstat's limit).
pub const EXACT_LIMIT: usize = 50;

/// Largest sample per side for which the exact distribution is used when
/// values are tied (benchstat's limit).
pub const TIES_EXACT_LIMIT: usize = 25;

/// The two-sided Mann-Whitney U test of `a` against `b`, by benchstat's
/// rules: the exact distribution of U up to [`EXACT_LIMIT`] values a side
/// without ties and [`TIES_EXACT_LIMIT`] with ties, else the normal
/// approximation with tie and continuity corrections. Two-sided p is twice
/// the smaller tail of U1's distribution at the observed U1, at most 1.
/// Values are ranked as they compare, so integers past 2^53 stay apart.
/// None when a side is empty.
pub fn mann_whitney<T: Copy + PartialOrd + Default>(a: &[T], b: &[T]) -> Option<MannWhitney> {
    // Each side sorted on its own and then merged: two unstable sorts of
    // plain values cost a fraction of one sort of tagged pairs, and a diff
    // ranks every group (thousands of samples a side).
    let (a, b) = (sorted_copy(a), sorted_copy(b));
    ranked_test(SortedSide::of(&a), SortedSide::of(&b))
}

/// One side of a rank test in ascending order: `zeros` values of 0
/// (`T::default()`), then `values`. A diff's group has a 0 for each
/// sample it has no wait in, three in four of a 4 000-sample file's:
/// counted, not written out.
#[derive(Debug, Clone, Copy)]
pub struct SortedSide<'a, T> {
    /// How many 0s come before `values`.
    pub zeros: usize,
    /// The other values, ascending, none below 0 when `zeros` is not 0.
    pub values: &'a [T],
}

impl<'a, T> SortedSide<'a, T> {
    /// A side of `values` alone, no 0 counted apart.
    pub fn of(values: &'a [T]) -> Self {
        SortedSide { zeros: 0, values }
    }

    /// How many values, the 0s counted apart included.
    pub fn len(&self) -> usize {
        self.zeros + self.values.len()
    }

    /// Whether it has no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// [`mann_whitney`] of two sides already sorted in ascending order (a side
/// whose values are not is sorted first).
pub fn mann_whitney_sorted<T: Copy + PartialOrd + Default>(
    a: SortedSide<'_, T>,
    b: SortedSide<'_, T>,
) -> Option<MannWhitney> {
    let ascending = |side: &SortedSide<T>| side.values.is_sorted_by(|x, y| order(x, y).is_le());
    let resorted = |side: &SortedSide<T>| (!ascending(side)).then(|| sorted_copy(side.values));
    let (a_sorted, b_sorted) = (resorted(&a), resorted(&b));
    let a = SortedSide {
        values: a_sorted.as_deref().unwrap_or(a.values),
        ..a
    };
    let b = SortedSide {
        values: b_sorted.as_deref().unwrap_or(b.values),
        ..b
    };
    ranked_test(a, b)
}

/// The test of two sorted sides.
fn ranked_test<T: Copy + PartialOrd + Default>(
    a: SortedSide<'_, T>,
    b: SortedSide<'_, T>,
) -> Option<MannWhitney> {
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let ranks = rank(a, b);
    // Doubled, so that mean ranks of ties stay integers.
    let u_doubled = ranks.rank_sum_doubled - (n1 * (n1 + 1)) as u64;
    let u = u_doubled as f64 / 2.0;
    let limit = if ranks.has_ties {
        TIES_EXACT_LIMIT
    } else {
        EXACT_LIMIT
    };
    let ties = match ranks.ties {
        Some(ties) if n1 <= limit && n2 <= limit => ties,
        _ => {
            return Some(MannWhitney {
                u,
                p_value: asymptotic_p(u, n1, n2, ranks.tie_term),
                method: TestMethod::Normal,
            });
        }
    };
    Some(MannWhitney {
        u,
        p_value: exact_p(u_doubled, n1, &ties),
        method: if ranks.has_ties {
            TestMethod::ExactTies
        } else {
            TestMethod::Exact
        },
    })
}

/// Benjamini-Hochberg adjusted p-values (q-values), in the input's order;
/// None stays None and does not count as a comparison.
pub fn benjamini_hochberg(p_values: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut tested: Vec<(usize, f64)> = p_values
        .iter()
        .enumerate()
        .filter_map(|(index, p)| p.map(|p| (index, p)))
        .collect();
    tested.sort_by(|x, y| x.1.total_cmp(&y.1));
    let m = tested.len() as f64;
    let mut adjusted = vec![None; p_values.len()];
    let mut running_min = 1.0f64;
    for (rank, &(index, p)) in tested.iter().enumerate().rev() {
        running_min = running_min.min(p * m / (rank + 1) as f64);
        adjusted[index] = Some(running_min.min(1.0));
    }
    adjusted
}

/// `values` in ascending order, a copy.
fn sorted_copy<T: Copy + PartialOrd>(values: &[T]) -> Vec<T> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(order);
    sorted
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
}

/// Where the first sample's values fall in the pooled, sorted values.
struct Ranks {
    /// Twice the sum of the first sample's ranks (tied values share their
    /// mean rank).
    rank_sum_doubled: u64,
    /// Whether any two values are equal.
    has_ties: bool,
    /// The sum of t^3 - t over the runs of t equal values, in value order
    /// (the normal approximation's tie correction).
    tie_term: f64,
    /// The sizes of the runs of equal values, in value order (1 for a
    /// value tied with no other); kept only when both sides are small
    /// enough for the exact distribution, which alone needs them.
    ties: Option<Vec<usize>>,
}

/// Values in order; NaN, which never comes from a wait, ties with all.
fn order<T: PartialOrd>(x: &T, y: &T) -> std::cmp::Ordering {
    x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal)
}

/// The ranks of two sorted sides, merged. A diff ranks thousands of
/// values a side for each of thousands of groups: one pass, and no list
/// of runs unless the exact test may use it.
fn rank<T: Copy + PartialOrd + Default>(a: SortedSide<'_, T>, b: SortedSide<'_, T>) -> Ranks {
    let mut ranks = Ranks {
        rank_sum_doubled: 0,
        has_ties: false,
        tie_term: 0.0,
        ties: (a.len() <= EXACT_LIMIT && b.len() <= EXACT_LIMIT).then(Vec::new),
    };
    let (a_zeros, zeros) = (a.zeros, a.zeros + b.zeros);
    let (a, b) = (a.values, b.values);
    let (mut i, mut j) = (0, 0);
    if zeros > 0 {
        // The 0s counted apart and those among the values: the first run.
        let zero = T::default();
        i = run_length(a, &zero);
        j = run_length(b, &zero);
        debug_assert!(
            [a.get(i), b.get(j)]
                .iter()
                .flatten()
                .all(|x| order(*x, &zero).is_gt()),
            "a value below the 0s counted apart"
        );
        ranks.add_run(0, a_zeros + i, zeros + i + j);
    }
    ranks.add_merged(zeros + i + j, &a[i..], &b[j..]);
    ranks
}

/// How many of `values`, from the first, equal `value`.
fn run_length<T: PartialOrd>(values: &[T], value: &T) -> usize {
    values
        .iter()
        .position(|x| !order(x, value).is_eq())
        .unwrap_or(values.len())
}

impl Ranks {
    /// Adds a run of `run` equal values taking the pooled places after
    /// `start`, `run_a` of them the first sample's.
    fn add_run(&mut self, start: usize, run_a: usize, run: usize) {
        // Ranks start+1 ..= start+run; their mean, doubled: 2 start + 1 + run.
        self.rank_sum_doubled += ((2 * start + 1 + run) * run_a) as u64;
        if run > 1 {
            self.has_ties = true;
            // In floating point: a run of millions would overflow t^3.
            let t = run as f64;
            self.tie_term += t * t * t - t;
        }
        if let Some(ties) = &mut self.ties {
            ties.push(run);
        }
    }

    /// Adds sorted sides taking the pooled places after `start`, merged
    /// run by run.
    fn add_merged<T: Copy + PartialOrd>(&mut self, start: usize, a: &[T], b: &[T]) {
        let (mut i, mut j) = (0, 0);
        loop {
            let value = match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) if order(y, x).is_lt() => *y,
                (Some(x), _) => *x,
                (None, Some(y)) => *y,
                (None, None) => break,
            };
            let (start_a, start_b) = (i, j);
            i += run_length(&a[i..], &value);
            j += run_length(&b[j..], &value);
            self.add_run(
                start + start_a + start_b,
                i - start_a,
                i - start_a + j - start_b,
            );
        }
    }
}

/// Two-sided exact p of a doubled U (`u_doubled`) for a first sample of
/// `n1` values, given the runs of tied values: twice the smaller tail of
/// U1's own distribution at the observed U1, min(1, 2 min(P(U1 <= u1),
/// P(U1 >= u1))). With ties and sides of different sizes that
/// distribution is not symmetric, so both tails are counted on it (the
/// reflected point of the other tail is not the same arrangement count):
/// swapping the sides gives the same p, and p is never 0 (the observed
/// arrangement is one of those counted).
fn exact_p(u_doubled: u64, n1: usize, ties: &[usize]) -> f64 {
    let counts = cached_distribution(n1, ties);
    let observed = (u_doubled + (n1 * (n1 + 1)) as u64) as usize;
    let total: f64 = counts.iter().sum();
    let at_most: f64 = counts.iter().take(observed + 1).sum();
    let at_least: f64 = counts.iter().skip(observed).sum();
    (2.0 * at_most.min(at_least) / total).min(1.0)
}

/// How many of the C(n, n1) ways of choosing the first sample from the
/// pooled values give each doubled rank sum, for the given runs of ties:
/// run by run, k of a run's t values go to the first sample in C(t, k)
/// ways and add k times the run's doubled mean rank. Counts are whole
/// numbers below C(50, 25) < 2^53, exact in f64.
fn rank_sum_distribution(n1: usize, ties: &[usize]) -> Vec<f64> {
    let n: usize = ties.iter().sum();
    let largest = 2 * n * n1;
    // table[j][s]: ways to pick j values with doubled rank sum s. Updated
    // in place, j from the top: a run only adds to rows above the one it
    // reads, which are already done. Each row's sums lie in a range of
    // its own, kept as it grows (`ranges[j]`, empty as (1, 0)): a run
    // adds one row's range into another as one slice, a loop the compiler
    // turns into vector adds (a diff of 60 000 groups of tied waits spent
    // its time here).
    let mut table = vec![vec![0.0f64; largest + 1]; n1 + 1];
    let mut ranges = vec![(1usize, 0usize); n1 + 1];
    table[0][0] = 1.0;
    ranges[0] = (0, 0);
    let mut start = 0;
    for &t in ties {
        let rank_doubled = 2 * start + t + 1;
        for j in (0..n1).rev() {
            let (from, to) = ranges[j];
            if from > to {
                continue;
            }
            let mut choose = 1.0; // C(t, k)
            for k in 1..=t.min(n1 - j) {
                choose = choose * (t - k + 1) as f64 / k as f64;
                let shift = k * rank_doubled;
                let (below, above) = table.split_at_mut(j + k);
                let source = &below[j][from..=to];
                let target = &mut above[0][from + shift..=to + shift];
                for (sum, ways) in target.iter_mut().zip(source) {
                    *sum += ways * choose;
                }
                let range = &mut ranges[j + k];
                *range = if range.0 > range.1 {
                    (from + shift, to + shift)
                } else {
                    (range.0.min(from + shift), range.1.max(to + shift))
                };
            }
        }
        start += t;
    }
    table.swap_remove(n1)
}

/// [`rank_sum_distribution`], kept for the tie structures met again: a
/// diff tests every group on the same samples, and groups without ties
/// (or with the same zeros) share one distribution. The commonest tie
/// structure of all, a run of 0s (samples without the lock) below
/// distinct waits, is put together from untied distributions, which are
/// few and kept: each group's zeros differ in number, so built one by one
/// 60 000 groups took 30 s.
fn cached_distribution(n1: usize, ties: &[usize]) -> std::rc::Rc<Vec<f64>> {
    type Cache = std::collections::HashMap<(usize, Vec<usize>), std::rc::Rc<Vec<f64>>>;
    const KEPT: usize = 256;
    thread_local! {
        static CACHE: std::cell::RefCell<Cache> = Default::default();
    }
    let key = (n1, ties.to_vec());
    if let Some(counts) = CACHE.with(|cache| cache.borrow().get(&key).cloned()) {
        return counts;
    }
    // Built outside the cache's borrow: the bottom run's way asks it for
    // untied distributions.
    let counts = std::rc::Rc::new(match ties {
        [run, rest @ ..] if *run > 1 && rest.iter().all(|&t| t == 1) => {
            bottom_run_distribution(n1, *run, rest.len())
        }
        _ => rank_sum_distribution(n1, ties),
    });
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= KEPT {
            cache.clear();
        }
        cache.insert(key, std::rc::Rc::clone(&counts));
    });
    counts
}

/// [`rank_sum_distribution`] for `run` tied values at the bottom (ranks 1
/// to `run`, each counting their mean, (run + 1) / 2) and `rest` untied
/// values above: k of the run and m = n1 - k of the rest go to the first
/// sample, in C(run, k) ways times those of choosing m untied values,
/// whose ranks are the untied distribution's shifted by `run`.
fn bottom_run_distribution(n1: usize, run: usize, rest: usize) -> Vec<f64> {
    let n = run + rest;
    let mut counts = vec![0.0f64; 2 * n * n1 + 1];
    let mut choose = 1.0; // C(run, k)
    for k in 0..=run.min(n1) {
        if k > 0 {
            choose = choose * (run - k + 1) as f64 / k as f64;
        }
        let m = n1 - k;
        if m > rest {
            continue;
        }
        let untied = cached_distribution(m, &vec![1; rest]);
        let shift = k * (run + 1) + 2 * m * run;
        for (doubled, ways) in untied.iter().enumerate() {
            if *ways != 0.0 {
                counts[shift + doubled] += choose * ways;
            }
        }
    }
    counts
}

/// How many of the C(n1 + n2, n1) ways of dealing untied values into the
/// sides give U1 = 0, 1, ..., n1 x n2: the null distribution of U that
/// the shift's confidence interval is read from ([`crate::engine::effect`]).
pub fn untied_u_counts(n1: usize, n2: usize) -> Vec<f64> {
    let counts = cached_distribution(n1, &vec![1; n1 + n2]);
    let offset = n1 * (n1 + 1);
    (0..=n1 * n2)
        .map(|u| counts.get(2 * u + offset).copied().unwrap_or(0.0))
        .collect()
}

/// Two-sided p from the normal approximation with tie and continuity
/// corrections.
fn asymptotic_p(u: f64, n1: usize, n2: usize, tie_term: f64) -> f64 {
    let (n1, n2) = (n1 as f64, n2 as f64);
    let n = n1 + n2;
    let mean = n1 * n2 / 2.0;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if variance <= 0.0 {
        return 1.0;
    }
    let distance = ((u - mean).abs() - 0.5).max(0.0);
    let z = distance / variance.sqrt();
    (libm::erfc(z / std::f64::consts::SQRT_2)).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, tolerance: f64) -> bool {
        (actual - expected).abs() <= tolerance
    }

    #[test]
    fn means_and_medians() {
        assert_eq!(mean(&[1.0, 2.0, 6.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(mean(&[]), None);
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn scipy_documentation_example_exact() {
        // SciPy's mannwhitneyu documentation: males vs females,
        // "U1 = 17", exact two-sided "p = 0.1111".
        let males = [19.0, 22.0, 16.0, 29.0, 24.0];
        let females = [20.0, 11.0, 17.0, 12.0];
        let result = mann_whitney(&males, &females).unwrap();
        assert_eq!(result.u, 17.0);
        assert_eq!(result.method, TestMethod::Exact);
        assert!(close(result.p_value, 0.111_111, 1e-6), "{}", result.p_value);
    }

    #[test]
    fn fully_separated_samples_match_the_counting_argument() {
        // Only the two extreme arrangements of C(n1+n2, n1) are as far
        // apart: p = 2 / C(n1+n2, n1).
        let four = [1.0, 2.0, 3.0, 4.0];
        let four_high = [5.0, 6.0, 7.0, 8.0];
        let p = mann_whitney(&four, &four_high).unwrap().p_value;
        assert!(close(p, 2.0 / 70.0, 1e-12), "{p}");
        let p = mann_whitney(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0])
            .unwrap()
            .p_value;
        assert!(close(p, 0.1, 1e-12), "{p}");
        let five: Vec<f64> = (1..=5).map(f64::from).collect();
        let five_high: Vec<f64> = (6..=10).map(f64::from).collect();
        let p = mann_whitney(&five_high, &five).unwrap().p_value;
        assert!(close(p, 2.0 / 252.0, 1e-12), "{p}");
    }

    #[test]
    fn exact_critical_values_from_published_tables() {
        // Two-sided alpha = 0.05 critical values of U (the standard table,
        // e.g. Siegel & Castellan, Nonparametric Statistics for the
        // Behavioral Sciences, Table J): n1 = n2 = 5 -> 2, n1 = n2 = 8 -> 13,
        // n1 = 6, n2 = 9 -> 10. U at the critical value is significant, one
        // above is not. The p-values were checked by enumerating every
        // arrangement (itertools.combinations, SciPy 1.17.1's Python).
        for (n1, n2, critical, p_at, p_above) in [
            (5, 5, 2, 0.031_746_031_746, 0.055_555_555_556),
            (8, 8, 13, 0.049_883_449_883, 0.064_957_264_957),
            (6, 9, 10, 0.049_550_449_550, 0.066_333_666_334),
        ] {
            let at = p_for_u(n1, n2, critical);
            let above = p_for_u(n1, n2, critical + 1);
            assert!(close(at, p_at, 1e-9), "n={n1}+{n2} U={critical}: p={at}");
            assert!(close(above, p_above, 1e-9), "n={n1}+{n2}: p={above}");
            assert!(at <= 0.05 && above > 0.05);
        }
    }

    /// The exact p of an arrangement with the given U, no ties.
    fn p_for_u(n1: usize, n2: usize, u: usize) -> f64 {
        exact_p(2 * u as u64, n1, &vec![1; n1 + n2])
    }

    #[test]
    fn normal_approximation_with_ties_matches_scipy() {
        // scipy.stats.mannwhitneyu(a, b, method="asymptotic"), SciPy
        // 1.17.1: statistic=5.5, pvalue=0.005906938166957391 (ties within
        // and between the samples). contend takes the exact distribution
        // at this size; the approximation is what it uses past 25 a side.
        let a = [1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 5.0, 6.0];
        let b = [4.0, 5.0, 6.0, 6.0, 7.0, 8.0, 9.0, 9.0];
        let p = asymptotic_p(
            5.5,
            8,
            8,
            rank(SortedSide::of(&a), SortedSide::of(&b)).tie_term,
        );
        assert!(close(p, 0.005_906_938_166_957_391, 1e-12), "{p}");
        let result = mann_whitney(&a, &b).unwrap();
        assert_eq!(result.method, TestMethod::ExactTies);
        assert_eq!(result.u, 5.5);
        assert_eq!(result.p_value, enumerated_p(&a, &b));
    }

    /// The two-sided p from its definition, by listing every way of
    /// choosing the first sample from the pooled values: U of each choice
    /// counted pair by pair (ties 1/2), then twice the smaller of the
    /// shares of choices with U at most and at least the observed U, at
    /// most 1. Written apart from `exact_p`: no rank sums, no reflection.
    fn enumerated_p(a: &[f64], b: &[f64]) -> f64 {
        let pooled: Vec<f64> = a.iter().chain(b).copied().collect();
        let (n1, n) = (a.len(), pooled.len());
        let u_of = |first: &[usize]| -> f64 {
            let mut u = 0.0;
            for &i in first {
                for j in (0..n).filter(|j| !first.contains(j)) {
                    u += if pooled[i] > pooled[j] {
                        1.0
                    } else if pooled[i] == pooled[j] {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
            u
        };
        let observed = u_of(&(0..n1).collect::<Vec<_>>());
        let (mut at_most, mut at_least, mut all) = (0u64, 0u64, 0u64);
        for mask in 0u32..(1 << n) {
            if mask.count_ones() as usize != n1 {
                continue;
            }
            let first: Vec<usize> = (0..n).filter(|i| mask & (1 << i) != 0).collect();
            let u = u_of(&first);
            all += 1;
            at_most += u64::from(u <= observed);
            at_least += u64::from(u >= observed);
        }
        (2.0 * at_most.min(at_least) as f64 / all as f64).min(1.0)
    }

    use crate::draws::Draws;

    /// Zero-heavy waits: 0 half the time (the lock absent from the
    /// sample), else one of `levels` values.
    fn waits(draws: &mut Draws, count: usize, levels: u64) -> Vec<f64> {
        (0..count)
            .map(|_| match draws.below(2) {
                0 => 0.0,
                _ => (1 + draws.below(levels)) as f64 * 1000.0,
            })
            .collect()
    }

    #[test]
    fn exact_p_values_equal_an_enumeration_of_every_arrangement() {
        let mut draws = Draws(0x2545_f491_4f6c_dd1d);
        let mut with_ties = 0;
        for round in 0..300 {
            let n1 = 1 + draws.below(8) as usize;
            let n2 = 1 + draws.below(8) as usize;
            let levels = [1, 2, 3, 50][round % 4];
            let (a, b) = (waits(&mut draws, n1, levels), waits(&mut draws, n2, levels));
            let result = mann_whitney(&a, &b).unwrap();
            assert_ne!(result.method, TestMethod::Normal);
            with_ties += usize::from(result.method == TestMethod::ExactTies);
            let expected = enumerated_p(&a, &b);
            assert!(
                close(result.p_value, expected, 1e-12),
                "{a:?} vs {b:?}: {} != {expected}",
                result.p_value
            );
            let swapped = mann_whitney(&b, &a).unwrap();
            assert!(
                close(swapped.p_value, result.p_value, 1e-12),
                "{a:?} vs {b:?}: swapped {} != {}",
                swapped.p_value,
                result.p_value
            );
            assert!(result.p_value > 0.0);
        }
        assert!(with_ties > 200, "mostly tied data: {with_ties}");
    }

    #[test]
    fn falls_with_ties_and_unequal_sides_get_both_tails() {
        // The issue's cases; the reference p-values were enumerated in
        // Python (itertools.combinations over the pooled values, U pair by
        // pair, twice the smaller tail), in both orders of the sides.
        let cases: [(&[f64], &[f64], f64); 4] = [
            (
                &[60.0, 60.0, 40.0, 50.0, 50.0, 50.0],
                &[30.0, 20.0, 30.0, 10.0],
                2.0 / 210.0,
            ),
            // A lock in 1 of 9 samples before, in none of 10 after.
            (
                &[5.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                &[0.0; 10],
                18.0 / 19.0,
            ),
            (&[9000.0; 2], &[7000.0; 3], 0.2),
            // Ties at the top end: the higher values tied across the sides.
            (
                &[9.0, 9.0, 9.0, 1.0],
                &[9.0, 2.0, 3.0, 4.0, 5.0, 9.0],
                f64::NAN,
            ),
        ];
        for (before, after, published) in cases {
            let expected = enumerated_p(before, after);
            if !published.is_nan() {
                assert!(close(expected, published, 1e-12), "{expected}");
            }
            for (a, b) in [(before, after), (after, before)] {
                let p = mann_whitney(a, b).unwrap().p_value;
                assert!(
                    close(p, expected, 1e-12),
                    "{a:?} vs {b:?}: {p} != {expected}"
                );
            }
        }
    }

    /// The distribution counted the plain way, value by value, every
    /// choice of k of a run's t values added cell by cell: the reference
    /// the sliced version must equal.
    fn distribution_cell_by_cell(n1: usize, ties: &[usize]) -> Vec<f64> {
        let n: usize = ties.iter().sum();
        let mut table = vec![vec![0.0f64; 2 * n * n1 + 1]; n1 + 1];
        table[0][0] = 1.0;
        let mut start = 0;
        for &t in ties {
            let rank_doubled = 2 * start + t + 1;
            let before = table.clone();
            for j in 0..n1 {
                for (s, &ways) in before[j].iter().enumerate() {
                    let mut choose = 1.0;
                    for k in 1..=t.min(n1 - j) {
                        choose = choose * (t - k + 1) as f64 / k as f64;
                        if ways != 0.0 {
                            table[j + k][s + k * rank_doubled] += ways * choose;
                        }
                    }
                }
            }
            start += t;
        }
        table.swap_remove(n1)
    }

    #[test]
    fn the_distribution_by_slices_equals_the_one_cell_by_cell() {
        let mut draws = Draws(0x3c6e_f372_fe94_f82b);
        for _ in 0..400 {
            let runs = 1 + draws.below(12) as usize;
            let ties: Vec<usize> = (0..runs).map(|_| 1 + draws.below(4) as usize).collect();
            let n: usize = ties.iter().sum();
            let n1 = draws.below(n as u64 + 1) as usize;
            assert_eq!(
                rank_sum_distribution(n1, &ties),
                distribution_cell_by_cell(n1, &ties),
                "n1={n1} ties={ties:?}"
            );
        }
    }

    #[test]
    fn a_bottom_run_of_ties_gives_the_distribution_built_run_by_run() {
        // 0s (a lock absent from some samples) below distinct waits: put
        // together from untied distributions, as counted run by run.
        for n1 in 0..=9 {
            for run in 2..=8 {
                for rest in 0..=9 {
                    if n1 > run + rest {
                        continue;
                    }
                    let mut ties = vec![run];
                    ties.extend(std::iter::repeat_n(1, rest));
                    assert_eq!(
                        bottom_run_distribution(n1, run, rest),
                        rank_sum_distribution(n1, &ties),
                        "n1={n1} run={run} rest={rest}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_issues_small_tied_cases_get_their_exact_p() {
        // 3+3 samples, constant within each side: the most lopsided
        // arrangement of 20, twice: p = 0.1 (the approximation gave 0.047).
        let p = mann_whitney(&[5.0; 3], &[9.0; 3]).unwrap().p_value;
        assert!(close(p, 0.1, 1e-12), "{p}");
        // A lock present in 2 of 8 samples of one build only.
        let before = [0.0; 8];
        let after = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 700.0, 900.0];
        let result = mann_whitney(&before, &after).unwrap();
        assert_eq!(result.method, TestMethod::ExactTies);
        // U1 = 24 (all zeros: 48 ties), the lowest U1 any choice gives:
        // it comes whenever the first sample takes no non-zero value, in
        // C(14, 8) = 3003 of C(16, 8) = 12870 choices. The normal
        // approximation says 0.171.
        let expected = 2.0 * 3003.0 / 12870.0;
        assert!(close(result.p_value, expected, 1e-12), "{}", result.p_value);
        assert!(result.p_value > 0.05);
    }

    #[test]
    fn large_integers_keep_their_order() {
        // Past 2^53 as f64, these would be ties.
        let base = 1u64 << 60;
        let before = [base, base + 1, base + 2, base + 3];
        let after = [base + 4, base + 5, base + 6, base + 7];
        let result = mann_whitney(&before, &after).unwrap();
        assert_eq!(result.method, TestMethod::Exact);
        assert!(close(result.p_value, 2.0 / 70.0, 1e-12));
    }

    #[test]
    fn the_method_follows_benchstats_limits() {
        let ramp = |from: usize, count: usize| -> Vec<f64> {
            (from..from + count).map(|v| v as f64).collect()
        };
        let exact = mann_whitney(&ramp(0, 50), &ramp(50, 50)).unwrap();
        assert_eq!(exact.method, TestMethod::Exact);
        assert_eq!(
            mann_whitney(&ramp(0, 51), &ramp(50, 50)).unwrap().method,
            TestMethod::Normal
        );
        let tied = |count: usize| -> Vec<f64> { (0..count).map(|v| (v / 2) as f64).collect() };
        assert_eq!(
            mann_whitney(&tied(25), &tied(25)).unwrap().method,
            TestMethod::ExactTies
        );
        assert_eq!(
            mann_whitney(&tied(26), &tied(25)).unwrap().method,
            TestMethod::Normal
        );
    }

    #[test]
    fn ranks_by_merging_sorted_sides_match_ranks_of_the_pooled_sort() {
        // The pooled ranking rank() replaced, from its definition: every
        // value of both sides sorted together, runs of equal values
        // sharing their mean rank.
        fn pooled(a: &[f64], b: &[f64]) -> (u64, Vec<usize>) {
            let mut values: Vec<(f64, bool)> = a.iter().map(|&v| (v, true)).collect();
            values.extend(b.iter().map(|&v| (v, false)));
            values.sort_by(|x, y| x.0.total_cmp(&y.0));
            let (mut sum, mut ties, mut start) = (0, Vec::new(), 0);
            while start < values.len() {
                let end = start
                    + values[start..]
                        .iter()
                        .take_while(|v| v.0 == values[start].0)
                        .count();
                let from_a = values[start..end].iter().filter(|v| v.1).count();
                sum += ((start + 1 + end) * from_a) as u64;
                ties.push(end - start);
                start = end;
            }
            (sum, ties)
        }
        let mut draws = Draws(0x2545_f491_4f6c_dd1d);
        for trial in 0..2_000 {
            // Past 50 values a side (one trial in 10) the runs are not
            // kept: only their tie term.
            let large = if trial % 10 == 0 { 60 } else { 0 };
            let (n1, n2) = (1 + trial % 13 + large, 1 + (trial / 13) % 17);
            let levels = [1, 2, 5, 1000][trial % 4];
            let (a, b) = (waits(&mut draws, n1, levels), waits(&mut draws, n2, levels));
            let (a_sorted, b_sorted) = (sorted(&a), sorted(&b));
            let ranks = rank(SortedSide::of(&a_sorted), SortedSide::of(&b_sorted));
            let (rank_sum_doubled, ties) = pooled(&a, &b);
            let tie_term: f64 = ties.iter().map(|&t| (t * t * t - t) as f64).sum();
            assert_eq!(ranks.rank_sum_doubled, rank_sum_doubled, "{a:?} {b:?}");
            assert_eq!(ranks.tie_term, tie_term, "{a:?} {b:?}");
            assert_eq!(ranks.has_ties, ties.iter().any(|&t| t > 1));
            assert_eq!(ranks.ties, (large == 0).then_some(ties), "{a:?} {b:?}");
        }
    }

    #[test]
    fn zeros_counted_apart_rank_as_zeros_written_out() {
        // Some of each side's 0s counted apart, the others left among the
        // values: what the diff hands the test, against the whole side.
        let mut draws = Draws(0x6a09_e667_f3bc_c908);
        for trial in 0..2_000 {
            let large = if trial % 10 == 0 { 60 } else { 0 };
            let (n1, n2) = (1 + trial % 11 + large, 1 + (trial / 11) % 19);
            let levels = [1, 2, 5, 1000][trial % 4];
            let (a, b) = (
                sorted(&waits(&mut draws, n1, levels)),
                sorted(&waits(&mut draws, n2, levels)),
            );
            let mut apart = |side: &[f64]| {
                let zeros = side.iter().filter(|&&v| v == 0.0).count();
                zeros - draws.below(zeros as u64 + 1) as usize
            };
            let (a_apart, b_apart) = (apart(&a), apart(&b));
            let a_apart = SortedSide {
                zeros: a_apart,
                values: &a[a_apart..],
            };
            let b_apart = SortedSide {
                zeros: b_apart,
                values: &b[b_apart..],
            };
            let (whole_a, whole_b) = (SortedSide::of(&a[..]), SortedSide::of(&b[..]));
            let (ranks, whole) = (rank(a_apart, b_apart), rank(whole_a, whole_b));
            assert_eq!(
                ranks.rank_sum_doubled, whole.rank_sum_doubled,
                "{a:?} {b:?}"
            );
            assert_eq!(ranks.tie_term, whole.tie_term, "{a:?} {b:?}");
            assert_eq!(ranks.has_ties, whole.has_ties);
            assert_eq!(ranks.ties, whole.ties, "{a:?} {b:?}");
            assert_eq!(mann_whitney_sorted(a_apart, b_apart), mann_whitney(&a, &b));
        }
        // Nothing but 0s on one side, none on the other.
        let only_zeros = SortedSide::<u64> {
            zeros: 4,
            values: &[],
        };
        let test = mann_whitney_sorted(only_zeros, SortedSide::of(&[1, 2, 3, 4]));
        assert_eq!(test, mann_whitney(&[0u64; 4], &[1, 2, 3, 4]));
        assert_eq!(test.map(|test| test.u), Some(0.0));
        // Waits as the diff hands them: 0s counted on both sides and
        // among the values, an empty side of 0s alone.
        let apart = |zeros: usize, values: &'static [u64]| SortedSide { zeros, values };
        let test = mann_whitney_sorted(apart(3, &[0, 3, 7, 7]), apart(1, &[2, 7, 9]));
        assert_eq!(test, mann_whitney(&[0u64, 0, 0, 0, 3, 7, 7], &[0, 2, 7, 9]));
        let test = mann_whitney_sorted(apart(3, &[]), SortedSide::of(&[0, 5]));
        assert_eq!(test, mann_whitney(&[0u64; 3], &[0, 5]));
    }

    /// How often p < 0.05 when both sides come from the same zero-heavy
    /// distribution, for 2..=12 samples a side: (n, rate of the test as
    /// `diff` runs it, rate of the normal approximation on the same data).
    fn false_alarm_rates(trials: usize) -> Vec<(usize, f64, f64)> {
        let mut draws = Draws(0x9e37_79b9_7f4a_7c15);
        (2..=12)
            .map(|n| {
                let (mut alarms, mut approximate_alarms) = (0, 0);
                for trial in 0..trials {
                    let levels = [1, 3][trial % 2];
                    let (a, b) = (waits(&mut draws, n, levels), waits(&mut draws, n, levels));
                    let test = mann_whitney(&a, &b).unwrap();
                    alarms += usize::from(test.p_value < 0.05);
                    let (a_sorted, b_sorted) = (sorted(&a), sorted(&b));
                    let sides = (SortedSide::of(&a_sorted), SortedSide::of(&b_sorted));
                    let tie_term = rank(sides.0, sides.1).tie_term;
                    approximate_alarms += usize::from(asymptotic_p(test.u, n, n, tie_term) < 0.05);
                }
                let rate = |count: usize| count as f64 / trials as f64;
                (n, rate(alarms), rate(approximate_alarms))
            })
            .collect()
    }

    #[test]
    fn false_alarms_under_no_change_stay_at_or_below_alpha() {
        let rates = false_alarm_rates(4000);
        for &(n, rate, _) in &rates {
            assert!(rate <= 0.05, "{n}+{n}: {rate}");
        }
        // The figures docs/diff.md records (cargo test -- --nocapture).
        println!("false alarm rates at alpha 0.05 (n, exact, normal): {rates:?}");
    }

    #[test]
    fn identical_samples_are_not_different() {
        let same = [3.0, 3.0, 3.0];
        assert_eq!(mann_whitney(&same, &same).unwrap().p_value, 1.0);
        assert_eq!(mann_whitney(&[], &same), None);
    }

    #[test]
    fn sides_given_as_sorted_that_are_not_get_sorted() {
        // Merged unsorted, [9, 1] against [5] would count 9 and 1 both
        // above 5 (U = 2): 9 is, 1 is not.
        let test = mann_whitney_sorted(SortedSide::of(&[9u64, 1]), SortedSide::of(&[5]));
        assert_eq!(test.map(|test| test.u), Some(1.0));
        assert_eq!(test, mann_whitney(&[1u64, 9], &[5]));
        // With 0s counted apart: they stay before the values sorted.
        let unsorted = SortedSide {
            zeros: 2,
            values: &[9u64, 1],
        };
        let test = mann_whitney_sorted(unsorted, SortedSide::of(&[5]));
        assert_eq!(test.map(|test| test.u), Some(1.0));
        assert_eq!(test, mann_whitney(&[0u64, 0, 1, 9], &[5]));
    }

    #[test]
    fn benjamini_hochberg_matches_the_textbook_example() {
        // scipy.stats.false_discovery_control([0.01, 0.04, 0.03, 0.005])
        // (SciPy 1.17.1, method "bh") = [0.02, 0.04, 0.04, 0.02]
        let q = benjamini_hochberg(&[Some(0.01), Some(0.04), Some(0.03), Some(0.005), None]);
        let expected = [0.02, 0.04, 0.04, 0.02];
        for (q, e) in q.iter().zip(expected) {
            assert!(close(q.unwrap(), e, 1e-12), "{q:?} vs {e}");
        }
        assert_eq!(q[4], None);
    }

    #[test]
    fn median_interval_from_order_statistics() {
        assert_eq!(median_ci(&[1.0, 2.0, 3.0, 4.0, 5.0]), None);
        // n = 6: P(X <= 0) = 1/64 <= 2.5 % < P(X <= 1): k = 1, the extremes.
        let six = [6.0, 1.0, 5.0, 2.0, 4.0, 3.0];
        assert_eq!(median_ci(&six), Some((1.0, 6.0)));
        // n = 12: P(X <= 2) = 79/4096 = 1.9 % <= 2.5 % < P(X <= 3): k = 3.
        let twelve: Vec<f64> = (1..=12).map(f64::from).collect();
        assert_eq!(median_ci(&twelve), Some((3.0, 10.0)));
        // Past 1 074 values 0.5^n underflows; the interval stays ordered.
        // k from the binomial's lower tail, the first k with pbinom(k, n,
        // 0.5) > 0.025 in R 4.2.2: 1 075 -> 505, 4 000 -> 1 938,
        // 100 000 -> 49 690.
        for (n, k) in [(1_075usize, 505usize), (4_000, 1_938), (100_000, 49_690)] {
            let values: Vec<f64> = (1..=n).map(|v| v as f64).collect();
            let expected = (k as f64, (n + 1 - k) as f64);
            assert_eq!(median_ci(&values), Some(expected), "n={n}");
        }
    }

    #[test]
    fn the_least_p_and_the_fewest_samples_that_can_reach_alpha() {
        assert!(close(least_p(4, 4), 2.0 / 70.0, 1e-15));
        assert!(close(least_p(2, 3), 0.2, 1e-15));
        assert!(close(least_p(1, 1), 1.0, 1e-15));
        assert_eq!(min_samples_for_alpha(0.05), 4);
        assert_eq!(min_samples_for_alpha(0.01), 5);
        assert_eq!(min_samples_for_alpha(1.0), 2);
    }
}
