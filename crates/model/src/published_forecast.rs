//! All-LA aggregate forecast from the published statistics: every LA's plans a few censuses ahead, using what
//! the whole country says about each LA, and a rolling-origin backtest against naive baselines.
//!
//! Model (log scale; `y` = ln plans, `G_t` = England's log growth in year t over LAs present both years):
//! - **England's growth** is carried forward from the origin year (the national series is smooth; its last
//!   step is the best single guess), with uncertainty from a random walk on growth: var = σ²_G · Σ_{k≤h} k²,
//!   σ_G = the root mean square of its yearly changes up to the origin, at least `national_floor`.
//! - **Each LA's deviation** from England, `d_i` = its mean of (g_{i,t} − G_t) over the last `deviation_years`,
//!   shrunk towards England by `shrinkage` (hierarchical pooling: an LA's own few years are noisy) and fading by
//!   `deviation_damping` per year ahead: growth in year k = Ĝ + shrinkage · d_i · damping^(k−1).
//! - **LA noise**: the LA's mean squared deviation over the last 5 years, pooled with the median over all LAs
//!   (3 pseudo-years), accumulated with persistence p: var_h = σ²_i Σ_{k<h} (Σ_{j≤h−1−k} p^j)².
//! - Log-normal: mean = exp(μ + σ²/2), p10/p90 = exp(μ ∓ 1.2816 σ).
//!
//! Only censuses up to the origin are used ([`project`] drops later years itself), and the backtest scores no
//! LA whose origin value is apportioned across a later boundary change, so a backtest cannot leak.
//! How the default parameters were chosen (not purely on early origins) is in docs/decisions.md.

use std::collections::BTreeMap;

use highneeds_domain::LaCode;

use crate::ModelError;

/// z for a central 80 % interval.
const Z80: f64 = 1.281_551_565_544_600_5;

/// Settings of the model (defaults: see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PublishedForecastOptions {
    pub shrinkage: f64,
    pub deviation_damping: f64,
    pub deviation_years: usize,
    pub persistence: f64,
    pub national_floor: f64,
}

impl Default for PublishedForecastOptions {
    fn default() -> Self {
        Self {
            shrinkage: 0.5,
            deviation_damping: 0.7,
            deviation_years: 3,
            persistence: 0.8,
            national_floor: 0.04,
        }
    }
}

/// Plans per census year for each LA (current boundaries; England excluded).
pub type LaHistory = BTreeMap<LaCode, BTreeMap<i32, f64>>;

/// One LA's projection for one census year.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LaProjection {
    pub la: LaCode,
    pub census_year: i32,
    pub mean: f64,
    pub p10: f64,
    pub p90: f64,
}

fn ln_growth(a: f64, b: f64) -> Option<f64> {
    (a > 0.0 && b > 0.0).then(|| (b / a).ln())
}

/// Project every LA with plans at `origin` for `years` censuses, from censuses up to `origin` only.
pub fn project(
    history: &LaHistory,
    origin: i32,
    years: u32,
    options: &PublishedForecastOptions,
) -> Result<Vec<LaProjection>, ModelError> {
    // Nothing after the origin is ever read.
    let past: LaHistory = history
        .iter()
        .map(|(la, s)| (*la, s.range(..=origin).map(|(y, v)| (*y, *v)).collect()))
        .collect();
    let first = past.values().filter_map(|s| s.keys().next()).min().copied();
    let Some(first) = first else {
        return Err(ModelError::Invalid(format!(
            "no published plans up to {origin}"
        )));
    };
    // England's growth over LAs present in both years.
    let mut national: BTreeMap<i32, f64> = BTreeMap::new();
    for y in first + 1..=origin {
        let (mut a, mut b) = (0.0, 0.0);
        for s in past.values() {
            if let (Some(x), Some(z)) = (s.get(&(y - 1)), s.get(&y)) {
                a += x;
                b += z;
            }
        }
        if let Some(g) = ln_growth(a, b) {
            national.insert(y, g);
        }
    }
    let Some(&g_hat) = national.get(&origin) else {
        return Err(ModelError::Invalid(format!(
            "the published plans need the censuses {} and {origin} to project from {origin}",
            origin - 1
        )));
    };
    let changes: Vec<f64> = national
        .iter()
        .filter_map(|(y, g)| national.get(&(y - 1)).map(|p| g - p))
        .collect();
    let rms = if changes.is_empty() {
        0.0
    } else {
        (changes.iter().map(|c| c * c).sum::<f64>() / changes.len() as f64).sqrt()
    };
    let sigma_g = rms.max(options.national_floor);

    // Each LA's deviations from England's growth, most recent last.
    let deviations: BTreeMap<LaCode, Vec<f64>> = past
        .iter()
        .filter(|(_, s)| s.contains_key(&origin))
        .map(|(la, s)| {
            let d = s
                .iter()
                .filter_map(|(y, v)| {
                    let prev = s.get(&(y - 1))?;
                    Some(ln_growth(*prev, *v)? - national.get(y)?)
                })
                .collect();
            (*la, d)
        })
        .collect();
    let noise = |d: &[f64]| -> Option<f64> {
        let recent = &d[d.len().saturating_sub(5)..];
        (!recent.is_empty())
            .then(|| recent.iter().map(|x| x * x).sum::<f64>() / recent.len() as f64)
    };
    let mut all: Vec<f64> = deviations.values().filter_map(|d| noise(d)).collect();
    all.sort_by(f64::total_cmp);
    let pooled = if all.is_empty() {
        0.0
    } else {
        all[all.len() / 2]
    };
    let p = options.persistence;
    let mut out = Vec::new();
    for (la, d) in &deviations {
        let Some(base) = past.get(la).and_then(|s| s.get(&origin)).copied() else {
            continue;
        };
        if base <= 0.0 {
            // Nothing to grow from: a zero stays zero as far as this model can say.
            for h in 1..=years as i32 {
                out.push(LaProjection {
                    la: *la,
                    census_year: origin + h,
                    mean: 0.0,
                    p10: 0.0,
                    p90: 0.0,
                });
            }
            continue;
        }
        let recent = &d[d.len().saturating_sub(options.deviation_years)..];
        let dev = if recent.is_empty() {
            0.0
        } else {
            options.shrinkage * recent.iter().sum::<f64>() / recent.len() as f64
        };
        let n = d.len().min(5) as f64;
        let s2 = (n * noise(d).unwrap_or(pooled) + 3.0 * pooled) / (n + 3.0);
        let mut mu = base.ln();
        for h in 1..=years as i32 {
            mu += g_hat + dev * options.deviation_damping.powi(h - 1);
            let idio: f64 = (0..h)
                .map(|k| (0..h - k).map(|j| p.powi(j)).sum::<f64>().powi(2))
                .sum::<f64>()
                * s2;
            let nat = sigma_g * sigma_g * (1..=h).map(|k| f64::from(k * k)).sum::<f64>();
            let sd = (idio + nat).sqrt();
            out.push(LaProjection {
                la: *la,
                census_year: origin + h,
                mean: (mu + sd * sd / 2.0).exp(),
                p10: (mu - Z80 * sd).exp(),
                p90: (mu + Z80 * sd).exp(),
            });
        }
    }
    Ok(out)
}

/// The methods a published-data backtest compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    /// This module's model.
    Pooled,
    /// The LA's last year's growth carried forward.
    LastGrowth,
    /// The LA's average growth over the last 3 years (geometric).
    ThreeYearGrowth,
    /// A straight line through the LA's last 5 censuses.
    LinearTrend,
}

impl Method {
    pub const ALL: [Method; 4] = [
        Method::Pooled,
        Method::LastGrowth,
        Method::ThreeYearGrowth,
        Method::LinearTrend,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Method::Pooled => "model (pooled growth)",
            Method::LastGrowth => "last year's growth",
            Method::ThreeYearGrowth => "3-year average growth",
            Method::LinearTrend => "linear trend (5 years)",
        }
    }
}

/// The naive baselines for one LA from its censuses up to the origin; `None` without 4 years of history.
fn baselines(s: &BTreeMap<i32, f64>, origin: i32, h: i32) -> Option<[f64; 3]> {
    let at = |y: i32| s.get(&y).copied().filter(|v| *v > 0.0);
    let (t, t1, t3) = (at(origin)?, at(origin - 1)?, at(origin - 3)?);
    let last = t * (t / t1).powi(h);
    let avg3 = t * (t / t3).powf(f64::from(h) / 3.0);
    let points: Vec<(f64, f64)> = (origin - 4..=origin)
        .filter_map(|y| s.get(&y).map(|v| (f64::from(y), *v)))
        .collect();
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let linear = (my + slope * (f64::from(origin + h) - mx)).max(0.0);
    Some([last, avg3, linear])
}

/// One forecast compared with what was published.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BacktestCase {
    pub method: Method,
    pub la: LaCode,
    pub origin: i32,
    pub horizon: u32,
    pub actual: f64,
    pub forecast: f64,
    /// Whether the 80 % interval held the actual (the model only).
    pub covered: Option<bool>,
}

/// MAPE and coverage of one method at one horizon (or one origin).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BacktestScore {
    pub method: Method,
    pub horizon: u32,
    pub cases: usize,
    pub mape: f64,
    pub coverage_80: Option<f64>,
}

/// The whole backtest.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedBacktest {
    pub origins: Vec<i32>,
    pub horizon: u32,
    /// Per method and horizon.
    pub scores: Vec<BacktestScore>,
    /// The model at the longest horizon, per origin: (origin, cases, MAPE, coverage).
    pub by_origin: Vec<(i32, BacktestScore)>,
    pub cases: Vec<BacktestCase>,
}

/// Rolling origins: every census with 3 years before it (for the baselines) and at least one after it. A
/// case is an LA with plans at the origin, its 4 censuses up to it, and a published (not apportioned)
/// value at the target; every method is scored on the same cases.
pub fn backtest(
    history: &LaHistory,
    observed: &dyn Fn(LaCode, i32) -> bool,
    horizon: u32,
    options: &PublishedForecastOptions,
) -> Result<PublishedBacktest, ModelError> {
    let years: std::collections::BTreeSet<i32> =
        history.values().flat_map(|s| s.keys().copied()).collect();
    let (Some(&first), Some(&last)) = (years.iter().next(), years.iter().next_back()) else {
        return Err(ModelError::Invalid("no published plans to backtest".into()));
    };
    let origins: Vec<i32> = (first + 3..last).collect();
    if origins.is_empty() {
        return Err(ModelError::Invalid(format!(
            "a backtest needs at least 5 censuses (published: {first}-{last})"
        )));
    }
    let mut cases = Vec::new();
    for &origin in &origins {
        let model: BTreeMap<(LaCode, i32), LaProjection> =
            project(history, origin, horizon, options)?
                .into_iter()
                .map(|p| ((p.la, p.census_year), p))
                .collect();
        for (la, s) in history {
            for h in 1..=horizon {
                let target = origin + h as i32;
                // Scored only where the target and the origin are both published as they are: an apportioned
                // origin (before a boundary change) is split by shares first seen after it, which would leak.
                let (Some(actual), true) = (
                    s.get(&target).copied(),
                    observed(*la, target) && observed(*la, origin),
                ) else {
                    continue;
                };
                let (Some(base), Some(m)) =
                    (baselines(s, origin, h as i32), model.get(&(*la, target)))
                else {
                    continue;
                };
                if actual <= 0.0 {
                    continue;
                }
                let mut push = |method, forecast, covered| {
                    cases.push(BacktestCase {
                        method,
                        la: *la,
                        origin,
                        horizon: h,
                        actual,
                        forecast,
                        covered,
                    })
                };
                push(
                    Method::Pooled,
                    m.mean,
                    Some(m.p10 <= actual && actual <= m.p90),
                );
                push(Method::LastGrowth, base[0], None);
                push(Method::ThreeYearGrowth, base[1], None);
                push(Method::LinearTrend, base[2], None);
            }
        }
    }
    let score =
        |method: Method, horizon: u32, pick: &dyn Fn(&BacktestCase) -> bool| -> BacktestScore {
            let cs: Vec<&BacktestCase> = cases
                .iter()
                .filter(|c| c.method == method && pick(c))
                .collect();
            let n = cs.len();
            let mape = cs
                .iter()
                .map(|c| (c.forecast - c.actual).abs() / c.actual)
                .sum::<f64>()
                / n.max(1) as f64;
            let covered: Vec<bool> = cs.iter().filter_map(|c| c.covered).collect();
            BacktestScore {
                method,
                horizon,
                cases: n,
                mape,
                coverage_80: (!covered.is_empty())
                    .then(|| covered.iter().filter(|c| **c).count() as f64 / covered.len() as f64),
            }
        };
    let mut scores = Vec::new();
    for h in 1..=horizon {
        for m in Method::ALL {
            scores.push(score(m, h, &|c| c.horizon == h));
        }
    }
    let by_origin = origins
        .iter()
        .map(|&o| {
            (
                o,
                score(Method::Pooled, horizon, &|c| {
                    c.horizon == horizon && c.origin == o
                }),
            )
        })
        .filter(|(_, s)| s.cases > 0)
        .collect();
    Ok(PublishedBacktest {
        origins,
        horizon,
        scores,
        by_origin,
        cases,
    })
}

/// Parameters chosen by backtest on the early origins only.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tuning {
    /// The last origin tuned on (its targets reach `until + horizon`).
    pub until: i32,
    pub horizon: u32,
    pub chosen: PublishedForecastOptions,
    /// The chosen parameters' MAPE and 80 % coverage at `horizon` over the origins up to `until`.
    pub early_mape: f64,
    pub early_coverage: f64,
    /// Parameter sets tried.
    pub tried: usize,
}

/// Choose shrinkage, national floor and persistence on the origins up to `until` only: the grid point with the
/// least MAPE + |coverage − 80 %| at `horizon` (both as fractions), ties to the earlier grid point. Deviation
/// damping and years stay at their defaults.
pub fn tune(
    history: &LaHistory,
    observed: &dyn Fn(LaCode, i32) -> bool,
    horizon: u32,
    until: i32,
) -> Result<Tuning, ModelError> {
    // Only the censuses the early origins' targets can reach are given to the backtest.
    let window: LaHistory = history
        .iter()
        .map(|(la, s)| {
            (
                *la,
                s.range(..=until + horizon as i32)
                    .map(|(y, v)| (*y, *v))
                    .collect(),
            )
        })
        .collect();
    let mut best: Option<Tuning> = None;
    let mut tried = 0;
    for shrinkage in [0.0, 0.25, 0.5, 0.75, 1.0] {
        for national_floor in [0.02, 0.03, 0.04, 0.05, 0.06] {
            for persistence in [0.5, 0.8] {
                let options = PublishedForecastOptions {
                    shrinkage,
                    national_floor,
                    persistence,
                    ..PublishedForecastOptions::default()
                };
                let r = backtest(&window, observed, horizon, &options)?;
                let cases: Vec<&BacktestCase> = r
                    .cases
                    .iter()
                    .filter(|c| {
                        c.method == Method::Pooled && c.horizon == horizon && c.origin <= until
                    })
                    .collect();
                if cases.is_empty() {
                    return Err(ModelError::Invalid(format!(
                        "no origin up to {until} has a {horizon}-year outcome to tune on"
                    )));
                }
                tried += 1;
                let n = cases.len() as f64;
                let mape = cases
                    .iter()
                    .map(|c| (c.forecast - c.actual).abs() / c.actual)
                    .sum::<f64>()
                    / n;
                let coverage = cases.iter().filter(|c| c.covered == Some(true)).count() as f64 / n;
                let score = mape + (coverage - 0.8).abs();
                let better = best
                    .as_ref()
                    .is_none_or(|b| score < b.early_mape + (b.early_coverage - 0.8).abs() - 1e-12);
                if better {
                    best = Some(Tuning {
                        until,
                        horizon,
                        chosen: options,
                        early_mape: mape,
                        early_coverage: coverage,
                        tried: 0,
                    });
                }
            }
        }
    }
    let mut t = best.ok_or_else(|| ModelError::Invalid("nothing to tune".into()))?;
    t.tried = tried;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn la(s: &str) -> LaCode {
        s.parse().unwrap()
    }

    /// Two LAs: A grows 10 % a year, B 20 % a year, 2015-2020.
    fn two_las() -> LaHistory {
        let mut h = LaHistory::new();
        for (code, g) in [("E06000001", 1.1f64), ("E06000002", 1.2)] {
            h.insert(
                la(code),
                (0..6).map(|k| (2015 + k, 100.0 * g.powi(k))).collect(),
            );
        }
        h
    }

    #[test]
    fn worked_example() {
        // England's growth in 2020 = ln((110·1.1⁴ + 120·1.2⁴ … ) ratio); each LA's deviation is its own log growth
        // minus England's; with shrinkage 0.5 and damping 0.7, year 1 growth = Ĝ + 0.5·d̄.
        let h = two_las();
        let o = PublishedForecastOptions::default();
        let p = project(&h, 2020, 2, &o).unwrap();
        assert_eq!(p.len(), 4);
        let a19 = 100.0 * 1.1f64.powi(4);
        let b19 = 100.0 * 1.2f64.powi(4);
        let a20 = a19 * 1.1;
        let b20 = b19 * 1.2;
        let g = ((a20 + b20) / (a19 + b19)).ln();
        // A's deviations over 2018-2020 (its last 3): ln 1.1 − G_t for each t.
        let dev_a: f64 = (2018..=2020)
            .map(|y| {
                let k = y - 2015;
                let (a0, b0) = (100.0 * 1.1f64.powi(k - 1), 100.0 * 1.2f64.powi(k - 1));
                1.1f64.ln() - ((a0 * 1.1 + b0 * 1.2) / (a0 + b0)).ln()
            })
            .sum::<f64>()
            / 3.0;
        let mu1 = a20.ln() + g + 0.5 * dev_a;
        let first = p
            .iter()
            .find(|x| x.la == la("E06000001") && x.census_year == 2021)
            .unwrap();
        // median exp(mu1) sits between p10 and p90 and the mean is above it (log-normal)
        assert!(first.p10 < mu1.exp() && mu1.exp() < first.p90);
        let sd = (first.p90.ln() - first.p10.ln()) / (2.0 * Z80);
        assert!(
            (first.mean - (mu1 + sd * sd / 2.0).exp()).abs() < 1e-9,
            "{first:?}"
        );
        // The year-2 interval is wider than year 1's.
        let second = p
            .iter()
            .find(|x| x.la == la("E06000001") && x.census_year == 2022)
            .unwrap();
        assert!(second.p90 / second.p10 > first.p90 / first.p10);
    }

    #[test]
    fn no_leak_from_after_the_origin() {
        let mut h = two_las();
        let before = project(&h, 2018, 2, &PublishedForecastOptions::default()).unwrap();
        for s in h.values_mut() {
            s.insert(2019, 1.0);
            s.insert(2020, 1e9);
        }
        let after = project(&h, 2018, 2, &PublishedForecastOptions::default()).unwrap();
        assert_eq!(before, after);
    }

    #[test]
    fn baselines_by_hand() {
        // 100, 110, 121, 133.1, 146.41 (2016-2020, +10 %/yr): last growth and 3-year growth both give
        // 146.41 × 1.1² = 177.1561 at h = 2. Linear: x̄ = 2018, ȳ = 122.102, slope = Σ(x−x̄)y/10 = (−200 − 110 + 0 + 133.1 + 292.82)/10
        // = 11.592 → 122.102 + 11.592 × 4 = 168.470.
        let s: BTreeMap<i32, f64> = (0..5).map(|k| (2016 + k, 100.0 * 1.1f64.powi(k))).collect();
        let b = baselines(&s, 2020, 2).unwrap();
        assert!((b[0] - 177.1561).abs() < 1e-9);
        assert!((b[1] - 177.1561).abs() < 1e-9);
        assert!((b[2] - 168.470).abs() < 1e-9, "{}", b[2]);
        assert_eq!(
            baselines(&s, 2018, 1),
            None,
            "needs 3 years before the origin"
        );
    }

    #[test]
    fn backtest_scores_every_method_on_the_same_cases() {
        let h = two_las();
        let r = backtest(&h, &|_, _| true, 1, &PublishedForecastOptions::default()).unwrap();
        assert_eq!(r.origins, vec![2018, 2019]);
        let n: Vec<usize> = r.scores.iter().map(|s| s.cases).collect();
        assert_eq!(n, vec![4, 4, 4, 4]);
        // Constant growth: last-year and 3-year growth are exact.
        let last = r
            .scores
            .iter()
            .find(|s| s.method == Method::LastGrowth)
            .unwrap();
        assert!(last.mape < 1e-12);
    }

    #[test]
    fn tuning_sees_only_the_early_window() {
        // Tuning on origins up to 2018 with horizon 1 reads censuses up to 2019 only: a wild 2020 changes nothing.
        let mut h = two_las();
        let a = tune(&h, &|_, _| true, 1, 2018).unwrap();
        for s in h.values_mut() {
            s.insert(2020, 1e9);
        }
        let b = tune(&h, &|_, _| true, 1, 2018).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.tried, 50);
        assert!(
            tune(&h, &|_, _| true, 1, 2016).is_err(),
            "no origin with 3 years before it"
        );
    }

    proptest::proptest! {
        /// Intervals hold the mean's median, are ordered and positive, for any positive history.
        #[test]
        fn intervals_are_ordered(v in proptest::collection::vec(1.0f64..1e4, 5..10)) {
            let mut h = LaHistory::new();
            h.insert(la("E06000001"), v.iter().enumerate().map(|(k, x)| (2010 + k as i32, *x)).collect());
            h.insert(la("E06000002"), v.iter().rev().enumerate().map(|(k, x)| (2010 + k as i32, *x)).collect());
            let origin = 2010 + v.len() as i32 - 1;
            for p in project(&h, origin, 3, &PublishedForecastOptions::default()).unwrap() {
                proptest::prop_assert!(p.p10 > 0.0 && p.p10 < p.p90 && p.mean > p.p10 && p.mean.is_finite());
            }
        }
    }
}
