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

/// Fewest values per side with which a two-sided rank test can reach
/// p < 0.05 at all (4 + 4 fully separated gives p = 2/70 = 0.029).
pub const MIN_SAMPLES_FOR_TEST: usize = 4;

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
    let mut below = 0.0;
    let mut k = 0;
    // P(X <= i) for X ~ Binomial(n, 1/2), summed term by term.
    let mut term = 0.5f64.powi(n as i32);
    for i in 0..n {
        below += term;
        if below > 0.025 {
            break;
        }
        k = i + 1;
        term *= (n - i) as f64 / (i + 1) as f64;
    }
    let k = k.max(1);
    Some((sorted[k - 1], sorted[n - k]))
}

/// The result of a Mann-Whitney U test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannWhitney {
    /// U of the first sample: pairs (a, b) with a > b, ties counting 1/2.
    pub u: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// True when p comes from the exact distribution of U, false for the
    /// normal approximation.
    pub exact: bool,
}

/// Largest n1 * n2 for which the exact distribution is computed (counting
/// arrangements stays exact in f64 well beyond it).
const EXACT_LIMIT: usize = 400;

/// The two-sided Mann-Whitney U test of `a` against `b`: exact when there
/// are no ties and n1 * n2 <= 400, else the normal approximation with tie
/// correction and continuity correction (as SciPy's `asymptotic` method).
/// None when a side is empty.
pub fn mann_whitney(a: &[f64], b: &[f64]) -> Option<MannWhitney> {
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let (rank_sum_a, tie_term) = rank_sum_and_ties(a, b);
    let u = rank_sum_a - (n1 * (n1 + 1)) as f64 / 2.0;
    if tie_term == 0.0 && n1 * n2 <= EXACT_LIMIT {
        let p_value = exact_p(u, n1, n2);
        return Some(MannWhitney {
            u,
            p_value,
            exact: true,
        });
    }
    Some(MannWhitney {
        u,
        p_value: asymptotic_p(u, n1, n2, tie_term),
        exact: false,
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

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
}

/// The sum of the ranks of `a` in the pooled sample (ties get their mean
/// rank), and the tie term sum(t^3 - t) over groups of t equal values.
fn rank_sum_and_ties(a: &[f64], b: &[f64]) -> (f64, f64) {
    let mut pooled: Vec<(f64, bool)> = a
        .iter()
        .map(|&v| (v, true))
        .chain(b.iter().map(|&v| (v, false)))
        .collect();
    pooled.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut rank_sum = 0.0;
    let mut tie_term = 0.0;
    let mut start = 0;
    while start < pooled.len() {
        let mut end = start + 1;
        while end < pooled.len() && pooled[end].0 == pooled[start].0 {
            end += 1;
        }
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        let from_a = pooled[start..end].iter().filter(|(_, in_a)| *in_a).count();
        rank_sum += mean_rank * from_a as f64;
        let t = (end - start) as f64;
        tie_term += t * t * t - t;
        start = end;
    }
    (rank_sum, tie_term)
}

/// Two-sided exact p: twice the probability of a U at least as far from
/// its mean, under all C(n1+n2, n1) equally likely arrangements.
fn exact_p(u: f64, n1: usize, n2: usize) -> f64 {
    let counts = u_distribution(n1, n2);
    let total: f64 = counts.iter().sum();
    let tail_u = u.min((n1 * n2) as f64 - u).floor() as usize;
    let tail: f64 = counts[..=tail_u].iter().sum();
    (2.0 * tail / total).min(1.0)
}

/// How many arrangements of n1 and n2 values give each U = 0..=n1*n2, by
/// the recurrence f(m, n, u) = f(m-1, n, u-n) + f(m, n-1, u).
fn u_distribution(n1: usize, n2: usize) -> Vec<f64> {
    let max_u = n1 * n2;
    // table[n][u] for the current m; m = 0 has one arrangement, U = 0.
    let mut table: Vec<Vec<f64>> = (0..=n2)
        .map(|_| {
            let mut row = vec![0.0; max_u + 1];
            row[0] = 1.0;
            row
        })
        .collect();
    for _m in 1..=n1 {
        let mut next: Vec<Vec<f64>> = vec![vec![0.0; max_u + 1]; n2 + 1];
        next[0][0] = 1.0;
        for n in 1..=n2 {
            for u in 0..=max_u {
                let first_largest = if u >= n { table[n][u - n] } else { 0.0 };
                next[n][u] = first_largest + next[n - 1][u];
            }
        }
        table = next;
    }
    table.swap_remove(n2)
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
        assert!(result.exact);
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

    /// The exact p of an arrangement with the given U.
    fn p_for_u(n1: usize, n2: usize, u: usize) -> f64 {
        exact_p(u as f64, n1, n2)
    }

    #[test]
    fn normal_approximation_with_ties_matches_scipy() {
        // scipy.stats.mannwhitneyu(a, b, method="asymptotic"), SciPy
        // 1.17.1: statistic=5.5, pvalue=0.005906938166957391 (ties within
        // and between the samples).
        let a = [1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 5.0, 6.0];
        let b = [4.0, 5.0, 6.0, 6.0, 7.0, 8.0, 9.0, 9.0];
        let result = mann_whitney(&a, &b).unwrap();
        assert!(!result.exact);
        assert_eq!(result.u, 5.5);
        assert!(
            close(result.p_value, 0.005_906_938_166_957_391, 1e-12),
            "{}",
            result.p_value
        );
    }

    #[test]
    fn identical_samples_are_not_different() {
        let same = [3.0, 3.0, 3.0];
        assert_eq!(mann_whitney(&same, &same).unwrap().p_value, 1.0);
        assert_eq!(mann_whitney(&[], &same), None);
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
    }
}
