//! Intervals from the model's own out-of-sample errors at earlier origins, by horizon.
//!
//! At an origin O, the model is rerun at every earlier origin o (on what was published by o) and its log error
//! at each target o + h ≤ O is split into England's error `n` (the same for every LA: a national shock moves
//! every LA together) and the LA's own error `u`, which is divided by the LA's volatility `s` at o. Per horizon:
//! σ²_nat = mean n², k² = mean (u/s)², and an LA's log-scale sd is c · √(σ²_nat + k² s²), where c is chosen by
//! leave-one-origin-out: each earlier origin's errors are judged against the σ and k of the *other* origins,
//! and c is the 80th percentile of |n + u| / (z₈₀ √(σ²_nat + k² s²)) over them, so that 80 % of those
//! left-out cases fall inside. Earlier origins' errors weigh `error_memory` ^ (years between their target and
//! the current origin): 1 treats every past year alike, less forgets old shocks. Horizons with fewer than 2 earlier origins extrapolate from the longest measured
//! one: the national variance as a random walk on growth (× Σk² ratio), the LA sd in proportion to h.

use std::collections::BTreeMap;

use highneeds_domain::LaCode;

use super::{
    point_forecast, volatilities, England, LaRecords, PointForecast, PublishedForecastOptions,
    SD_CAP, Z80,
};
use crate::ModelError;

/// The errors of one earlier origin at one horizon.
#[derive(Debug, Clone, PartialEq)]
struct OriginErrors {
    /// Weight of this origin's errors: `error_memory` ^ (years from its target to the current origin).
    weight: f64,
    national: f64,
    /// (LA error net of England's, LA volatility at the origin).
    las: Vec<(f64, f64)>,
}

/// σ²_nat, k² and the calibration factor c of one horizon.
#[derive(Debug, Clone, Copy, PartialEq)]
struct HorizonSpread {
    national_var: f64,
    la_k2: f64,
    calibration: f64,
}

/// The measured spread of the model's errors by horizon.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Spread {
    by_horizon: BTreeMap<u32, HorizonSpread>,
}

/// The model's point forecasts at every origin before `origin` that has a projection, each on what was
/// published by it, reaching `origin`.
pub(crate) fn earlier_points(
    known: &LaRecords,
    origin: i32,
    options: &PublishedForecastOptions,
) -> BTreeMap<i32, PointForecast> {
    let years = known.census_years();
    years
        .iter()
        .filter(|o| **o < origin)
        .filter_map(|o| {
            let k = known.known_at(*o);
            let e = England::new(&k);
            point_forecast(&k, &e, *o, (origin - o) as u32, options)
                .ok()
                .map(|p| (*o, p))
        })
        .collect()
}

fn errors(
    known: &LaRecords,
    england: &England,
    origin: i32,
    points: &BTreeMap<i32, PointForecast>,
    memory: f64,
) -> BTreeMap<u32, Vec<OriginErrors>> {
    let mut out: BTreeMap<u32, Vec<OriginErrors>> = BTreeMap::new();
    for (o, p) in points.range(..origin) {
        let k = known.known_at(*o);
        let vol = volatilities(&k, &England::new(&k), *o);
        for h in 1..=(origin - o) as u32 {
            let Some(actual_g) = england.growth_between(*o, o + h as i32) else {
                continue;
            };
            let national = actual_g - f64::from(h) * p.england_growth;
            let las: Vec<(f64, f64)> = p
                .log_median
                .iter()
                .filter(|((_, hh), _)| *hh == h)
                .filter_map(|((la, _), mu): (&(LaCode, u32), &f64)| {
                    let y = known.plans_at(*la, o + h as i32)?;
                    let s = vol.get(la).copied().filter(|s| *s > 0.0)?;
                    Some((y.ln() - mu - national, s))
                })
                .collect();
            if !las.is_empty() {
                let weight = memory.powi(origin - o - h as i32);
                out.entry(h).or_default().push(OriginErrors {
                    weight,
                    national,
                    las,
                });
            }
        }
    }
    out
}

/// σ²_nat and k² over a set of origins (weighted means).
fn components<'a>(origins: impl Iterator<Item = &'a OriginErrors>) -> (f64, f64) {
    let (mut n2, mut no, mut z2, mut nz) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for e in origins {
        n2 += e.weight * e.national * e.national;
        no += e.weight;
        for (u, s) in &e.las {
            z2 += e.weight * (u / s).powi(2);
            nz += e.weight;
        }
    }
    let mean = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    (mean(n2, no), mean(z2, nz))
}

/// Leave-one-origin-out calibration of one horizon (needs 2 origins or more).
fn calibrate(origins: &[OriginErrors]) -> Option<HorizonSpread> {
    if origins.len() < 2 {
        return None;
    }
    // (ratio, weight) of every left-out case.
    let mut ratios: Vec<(f64, f64)> = Vec::new();
    for (i, e) in origins.iter().enumerate() {
        let (nv, k2) = components(
            origins
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, e)| e),
        );
        for (u, s) in &e.las {
            let sd = (nv + k2 * s * s).sqrt();
            if sd > 0.0 {
                ratios.push(((e.national + u).abs() / (Z80 * sd), e.weight));
            }
        }
    }
    ratios.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = ratios.iter().map(|r| r.1).sum();
    // The weighted 80th percentile: the first ratio with 80 % of the weight at or below it.
    let mut seen = 0.0;
    let calibration = ratios.iter().find_map(|(r, w)| {
        seen += w;
        (seen >= 0.8 * total - 1e-12).then_some(*r)
    })?;
    let (national_var, la_k2) = components(origins.iter());
    Some(HorizonSpread {
        national_var,
        la_k2,
        calibration,
    })
}

impl Spread {
    /// Measure the spread at `origin` for horizons 1..=years, from the point forecasts of earlier origins.
    pub(crate) fn measure(
        known: &LaRecords,
        origin: i32,
        years: u32,
        points: &BTreeMap<i32, PointForecast>,
        memory: f64,
    ) -> Result<Self, ModelError> {
        let england = England::new(known);
        let measured: BTreeMap<u32, HorizonSpread> =
            errors(known, &england, origin, points, memory)
                .into_iter()
                .filter_map(|(h, e)| calibrate(&e).map(|s| (h, s)))
                .collect();
        let Some((&longest, &last)) = measured.iter().next_back() else {
            return Err(ModelError::Invalid(format!(
                "the all-LA model measures its intervals on its own errors at earlier origins: projecting from \
                 {origin} needs 4 published censuses up to it"
            )));
        };
        let sum_sq = |h: u32| f64::from(h * (h + 1) * (2 * h + 1)) / 6.0;
        let by_horizon = (1..=years)
            .map(|h| {
                let s = measured.get(&h).copied().unwrap_or_else(|| {
                    let r = f64::from(h) / f64::from(longest);
                    HorizonSpread {
                        national_var: last.national_var * sum_sq(h) / sum_sq(longest),
                        la_k2: last.la_k2 * r * r,
                        calibration: last.calibration,
                    }
                });
                (h, s)
            })
            .collect();
        Ok(Self { by_horizon })
    }

    /// England's share of the error variance of an LA with volatility `s` at horizon `h`: σ²_nat / (σ²_nat +
    /// k² s²) (the calibration factor scales both parts alike, so it cancels). 0 where nothing was measured.
    pub(crate) fn national_share(&self, h: u32, s: f64) -> f64 {
        self.by_horizon.get(&h).map_or(0.0, |x| {
            let total = x.national_var + x.la_k2 * s * s;
            if total > 0.0 {
                x.national_var / total
            } else {
                0.0
            }
        })
    }

    /// The log-scale sd of an LA with volatility `s` at horizon `h` (at most [`SD_CAP`]).
    pub(crate) fn sd(&self, h: u32, s: f64) -> f64 {
        self.by_horizon.get(&h).map_or(SD_CAP, |x| {
            (x.calibration * (x.national_var + x.la_k2 * s * s).sqrt()).min(SD_CAP)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leave_one_origin_out_worked_example() {
        // Three origins, one LA each with s = 1 and no LA error: national errors 0.1, 0.2, 0.3.
        // Leaving out 0.1: σ² = (0.04 + 0.09)/2 = 0.065, ratio 0.1/(z √0.065); leaving out 0.2: σ² = 0.05;
        // leaving out 0.3: σ² = 0.025. c = the 80th percentile (3rd of 3) of the ratios.
        let e = |n: f64| OriginErrors {
            weight: 1.0,
            national: n,
            las: vec![(0.0, 1.0)],
        };
        let s = calibrate(&[e(0.1), e(0.2), e(0.3)]).unwrap();
        let ratios = [
            0.1 / (Z80 * 0.065f64.sqrt()),
            0.2 / (Z80 * 0.05f64.sqrt()),
            0.3 / (Z80 * 0.025f64.sqrt()),
        ];
        let max = ratios.iter().copied().fold(0.0, f64::max);
        assert!((s.calibration - max).abs() < 1e-12, "{s:?}");
        assert!((s.national_var - 0.14 / 3.0).abs() < 1e-12);
        assert_eq!(s.la_k2, 0.0);
        assert_eq!(calibrate(&[e(0.1)]), None, "one origin cannot be left out");
    }

    #[test]
    fn national_share_worked_example() {
        // Two origins: England missed by 0.1 and 0.3 (σ²_nat = (0.01 + 0.09)/2 = 0.05); one LA each, missing by
        // 0.2 net of England with volatility 1, and by 0.4 with volatility 2 (k² = (0.2² + 0.2²)/2 = 0.04). An LA
        // of volatility 1: 0.05 / (0.05 + 0.04) = 5/9; of volatility 0.5: 0.05 / (0.05 + 0.01) = 5/6.
        let origin = |national: f64, u: f64, s: f64| OriginErrors {
            weight: 1.0,
            national,
            las: vec![(u, s)],
        };
        let h1 = calibrate(&[origin(0.1, 0.2, 1.0), origin(0.3, 0.4, 2.0)]).unwrap();
        let spread = Spread {
            by_horizon: [(1, h1)].into(),
        };
        assert!((spread.national_share(1, 1.0) - 5.0 / 9.0).abs() < 1e-12);
        assert!((spread.national_share(1, 0.5) - 5.0 / 6.0).abs() < 1e-12);
        assert_eq!(spread.national_share(2, 1.0), 0.0, "not measured");
    }
}
