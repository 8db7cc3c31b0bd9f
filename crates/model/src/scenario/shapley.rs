//! Order-independent attribution of savings to initiatives: Shapley values, exact in integer pence.
//!
//! With n initiatives and v(S) the saving (pence, per financial year) with the initiatives in S switched on,
//! initiative i's share is Σ_{S ∌ i} |S|! (n − |S| − 1)! / n! × (v(S ∪ {i}) − v(S)). Numerators are summed in
//! i128 and divided once; the shares are then rounded by largest remainder, so they add up to v(N) − v(∅) to the
//! penny (efficiency). Exact up to [`EXACT_MAX`] initiatives (2ⁿ evaluations); beyond, averaged over sampled
//! orders, whose marginal contributions also add up exactly, with the sampling error stated.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

/// The most initiatives attributed exactly (4,096 coalitions).
pub const EXACT_MAX: usize = 12;

/// Orders sampled beyond [`EXACT_MAX`].
pub const SAMPLED_ORDERS: usize = 400;

/// Each initiative's share of the saving, per financial year (`shares[i][fy]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    pub shares: Vec<Vec<i64>>,
    /// True when computed over every coalition.
    pub exact: bool,
    /// When sampled: the standard error of each initiative's total share (pence), and the orders sampled.
    pub standard_error: Option<Vec<f64>>,
    pub orders: usize,
}

/// Shapley shares of `value` (the saving per financial year of a coalition, `active[i]` = initiative i on).
pub fn attribute<F>(n: usize, value: F) -> Attribution
where
    F: Fn(&[bool]) -> Vec<i64> + Sync,
{
    if n <= EXACT_MAX {
        exact(n, &value)
    } else {
        sampled(n, &value, SAMPLED_ORDERS)
    }
}

fn mask_to_active(n: usize, mask: usize) -> Vec<bool> {
    (0..n).map(|i| mask & (1 << i) != 0).collect()
}

fn factorial(n: usize) -> i128 {
    (1..=n as i128).product::<i128>().max(1)
}

fn exact<F>(n: usize, value: &F) -> Attribution
where
    F: Fn(&[bool]) -> Vec<i64> + Sync,
{
    let values: Vec<Vec<i64>> = (0..1usize << n)
        .into_par_iter()
        .map(|mask| value(&mask_to_active(n, mask)))
        .collect();
    let years = values[0].len();
    let weight: Vec<i128> = (0..n)
        .map(|s| factorial(s) * factorial(n - s - 1))
        .collect();
    let denominator = factorial(n);
    let full = (1usize << n) - 1;
    let mut shares = vec![vec![0i64; years]; n];
    for fy in 0..years {
        let numerators: Vec<i128> = (0..n)
            .map(|i| {
                (0..1usize << n)
                    .filter(|mask| mask & (1 << i) == 0)
                    .map(|mask| {
                        let gain =
                            i128::from(values[mask | (1 << i)][fy]) - i128::from(values[mask][fy]);
                        weight[mask.count_ones() as usize] * gain
                    })
                    .sum()
            })
            .collect();
        let total = i128::from(values[full][fy]) - i128::from(values[0][fy]);
        for (i, share) in round_shares(&numerators, denominator, total)
            .into_iter()
            .enumerate()
        {
            shares[i][fy] = share;
        }
    }
    Attribution {
        shares,
        exact: true,
        standard_error: None,
        orders: 0,
    }
}

fn sampled<F>(n: usize, value: &F, orders: usize) -> Attribution
where
    F: Fn(&[bool]) -> Vec<i64> + Sync,
{
    // Each order's marginal contributions per initiative and year (they add up to v(N) − v(∅) in every order).
    let contributions: Vec<Vec<Vec<i64>>> = (0..orders)
        .into_par_iter()
        .map(|k| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x5EED_0000 + k as u64);
            let mut order: Vec<usize> = (0..n).collect();
            order.shuffle(&mut rng);
            let mut active = vec![false; n];
            let mut before = value(&active);
            let mut out = vec![vec![0i64; before.len()]; n];
            for &i in &order {
                active[i] = true;
                let after = value(&active);
                for (fy, slot) in out[i].iter_mut().enumerate() {
                    *slot = after[fy] - before[fy];
                }
                before = after;
            }
            out
        })
        .collect();
    let years = contributions
        .first()
        .map_or(0, |c| c.first().map_or(0, Vec::len));
    let none = value(&vec![false; n]);
    let all = value(&vec![true; n]);
    let mut shares = vec![vec![0i64; years]; n];
    for fy in 0..years {
        let numerators: Vec<i128> = (0..n)
            .map(|i| contributions.iter().map(|c| i128::from(c[i][fy])).sum())
            .collect();
        let total = i128::from(all[fy]) - i128::from(none[fy]);
        for (i, share) in round_shares(&numerators, orders as i128, total)
            .into_iter()
            .enumerate()
        {
            shares[i][fy] = share;
        }
    }
    let standard_error = (0..n)
        .map(|i| {
            let totals: Vec<f64> = contributions
                .iter()
                .map(|c| c[i].iter().map(|&x| x as f64).sum())
                .collect();
            let m = totals.len() as f64;
            let mean = totals.iter().sum::<f64>() / m;
            let var = totals.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (m - 1.0).max(1.0);
            (var / m).sqrt()
        })
        .collect();
    Attribution {
        shares,
        exact: false,
        standard_error: Some(standard_error),
        orders,
    }
}

/// numerators / denominator rounded to integers that add up to `total` exactly (largest remainder; ties to the
/// earlier initiative). Requires Σ numerators = denominator × total.
pub fn round_shares(numerators: &[i128], denominator: i128, total: i128) -> Vec<i64> {
    let mut floor: Vec<i128> = numerators
        .iter()
        .map(|x| x.div_euclid(denominator))
        .collect();
    let remainder: Vec<i128> = numerators
        .iter()
        .map(|x| x.rem_euclid(denominator))
        .collect();
    let short = total - floor.iter().sum::<i128>();
    let mut by_remainder: Vec<usize> = (0..numerators.len()).collect();
    by_remainder.sort_by(|&a, &b| remainder[b].cmp(&remainder[a]).then(a.cmp(&b)));
    for &i in by_remainder.iter().cycle().take(short.max(0) as usize) {
        floor[i] += 1;
    }
    floor
        .into_iter()
        .map(|x| i64::try_from(x).unwrap_or(if x < 0 { i64::MIN } else { i64::MAX }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worked example by hand: v(∅)=0, v{A}=100, v{B}=40, v{A,B}=110 (overlap). Shapley: A = ½·100 + ½·(110−40)
    /// = 85, B = ½·40 + ½·(110−100) = 25; 85 + 25 = 110.
    #[test]
    fn two_initiatives_worked_by_hand() {
        let v = |a: &[bool]| -> Vec<i64> {
            vec![match (a[0], a[1]) {
                (false, false) => 0,
                (true, false) => 100,
                (false, true) => 40,
                (true, true) => 110,
            }]
        };
        let r = attribute(2, v);
        assert_eq!(r.shares, vec![vec![85], vec![25]]);
        assert!(r.exact);
    }

    /// Three initiatives, a saving of 100 pence shared equally: 33⅓ each rounds to 34, 33, 33 (the remainder to
    /// the first by the tie rule), adding to 100.
    #[test]
    fn thirds_round_to_the_penny() {
        let v = |a: &[bool]| vec![if a.iter().all(|&x| x) { 100 } else { 0 }];
        let r = attribute(3, v);
        assert_eq!(r.shares, vec![vec![34], vec![33], vec![33]]);
    }

    #[test]
    fn additive_savings_are_their_own_shares_and_sampling_agrees() {
        let gains: Vec<i64> = (1..=14).map(|i| i * 1_000 + 7).collect();
        let v = |a: &[bool]| {
            vec![a
                .iter()
                .zip(&gains)
                .map(|(&on, &g)| if on { g } else { 0 })
                .sum::<i64>()]
        };
        let exact = attribute(3, |a: &[bool]| v(&[a, &[false; 11]].concat()));
        assert_eq!(exact.shares, vec![vec![1_007], vec![2_007], vec![3_007]]);
        // 14 initiatives: sampled, but additive values give every order the same contributions: exact shares
        // and zero sampling error.
        let sampled = attribute(14, v);
        assert!(!sampled.exact);
        let want: Vec<Vec<i64>> = gains.iter().map(|&g| vec![g]).collect();
        assert_eq!(sampled.shares, want);
        assert!(sampled.standard_error.unwrap().iter().all(|&e| e == 0.0));
    }
}
