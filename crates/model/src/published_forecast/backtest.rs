//! The rolling-origin backtest of the all-LA model against naive baselines, and the blind choice of its
//! settings on early censuses only.

use std::collections::BTreeMap;

use highneeds_domain::LaCode;

use super::{
    assemble, intervals, England, Indicators, LaRecords, PointEstimate, PublishedForecastOptions,
};
use crate::ModelError;

/// The methods a published-data backtest compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    /// This module's model.
    Pooled,
    /// England's last year's growth for every LA.
    EnglandGrowth,
    /// The LA's last year's growth carried forward.
    LastGrowth,
    /// The LA's average growth over the last 3 years (geometric).
    ThreeYearGrowth,
    /// A straight line through the LA's last 5 censuses.
    LinearTrend,
}

impl Method {
    pub const ALL: [Method; 5] = [
        Method::Pooled,
        Method::EnglandGrowth,
        Method::LastGrowth,
        Method::ThreeYearGrowth,
        Method::LinearTrend,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Method::Pooled => "model (pooled growth)",
            Method::EnglandGrowth => "England's growth",
            Method::LastGrowth => "last year's growth",
            Method::ThreeYearGrowth => "3-year average growth",
            Method::LinearTrend => "linear trend (5 years)",
        }
    }
}

/// The naive baselines for one LA from its censuses up to the origin; `None` without 4 years of history.
/// `england` is England's log growth in the origin year.
fn baselines(s: &BTreeMap<i32, f64>, origin: i32, h: i32, england: f64) -> Option<[f64; 4]> {
    let at = |y: i32| s.get(&y).copied().filter(|v| *v > 0.0);
    let (t, t1, t3) = (at(origin)?, at(origin - 1)?, at(origin - 3)?);
    let nation = t * (england * f64::from(h)).exp();
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
    Some([nation, last, avg3, linear])
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
    /// MAPE after each origin's forecasts are rescaled to the true total of the LAs scored (England's own
    /// error removed): the skill in telling LAs apart.
    pub mape_england_removed: f64,
    /// Mean signed error (negative = under-forecast).
    pub bias: f64,
    pub coverage_80: Option<f64>,
}

/// The whole backtest.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedBacktest {
    pub origins: Vec<i32>,
    pub horizon: u32,
    /// Per method and horizon.
    pub scores: Vec<BacktestScore>,
    /// The model at the longest horizon, per origin.
    pub by_origin: Vec<(i32, BacktestScore)>,
    pub cases: Vec<BacktestCase>,
}

fn score(cases: &[&BacktestCase], method: Method, horizon: u32) -> BacktestScore {
    let n = cases.len().max(1) as f64;
    let err = |c: &BacktestCase, f: f64| (c.forecast * f - c.actual) / c.actual;
    // England's error removed: per origin, the factor that makes the forecasts add up to the actual total.
    let mut totals: BTreeMap<i32, (f64, f64)> = BTreeMap::new();
    for c in cases {
        let t = totals.entry(c.origin).or_default();
        t.0 += c.actual;
        t.1 += c.forecast;
    }
    let factor = |o: i32| {
        totals
            .get(&o)
            .map_or(1.0, |(a, f)| if *f > 0.0 { a / f } else { 1.0 })
    };
    let covered: Vec<bool> = cases.iter().filter_map(|c| c.covered).collect();
    BacktestScore {
        method,
        horizon,
        cases: cases.len(),
        mape: cases.iter().map(|c| err(c, 1.0).abs()).sum::<f64>() / n,
        mape_england_removed: cases
            .iter()
            .map(|c| err(c, factor(c.origin)).abs())
            .sum::<f64>()
            / n,
        bias: cases.iter().map(|c| err(c, 1.0)).sum::<f64>() / n,
        coverage_80: (!covered.is_empty())
            .then(|| covered.iter().filter(|c| **c).count() as f64 / covered.len() as f64),
    }
}

impl PublishedBacktest {
    fn from_cases(origins: Vec<i32>, horizon: u32, cases: Vec<BacktestCase>) -> Self {
        let pick = |m: Method, f: &dyn Fn(&BacktestCase) -> bool| -> Vec<&BacktestCase> {
            cases.iter().filter(|c| c.method == m && f(c)).collect()
        };
        let mut scores = Vec::new();
        for h in 1..=horizon {
            for m in Method::ALL {
                scores.push(score(&pick(m, &|c| c.horizon == h), m, h));
            }
        }
        let by_origin = origins
            .iter()
            .map(|&o| {
                let cs = pick(Method::Pooled, &|c| c.horizon == horizon && c.origin == o);
                (o, score(&cs, Method::Pooled, horizon))
            })
            .filter(|(_, s)| s.cases > 0)
            .collect();
        Self {
            origins,
            horizon,
            scores,
            by_origin,
            cases,
        }
    }

    /// The same backtest scored only on the origins after `year` (after a tuning window).
    pub fn origins_after(&self, year: i32) -> Self {
        let origins = self.origins.iter().copied().filter(|o| *o > year).collect();
        let cases = self
            .cases
            .iter()
            .copied()
            .filter(|c| c.origin > year)
            .collect();
        Self::from_cases(origins, self.horizon, cases)
    }

    /// The score of a method at a horizon.
    pub fn score(&self, method: Method, horizon: u32) -> Option<&BacktestScore> {
        self.scores
            .iter()
            .find(|s| s.method == method && s.horizon == horizon && s.cases > 0)
    }
}

/// Rolling origins: every census with 3 years before it (for the baselines) and at least one after it. A
/// case is an LA with plans at the origin, its 4 censuses up to it, and a published (not apportioned)
/// value at the target; every method is scored on the same cases.
pub fn backtest(
    records: &LaRecords,
    observed: &dyn Fn(LaCode, i32) -> bool,
    horizon: u32,
    options: &PublishedForecastOptions,
) -> Result<PublishedBacktest, ModelError> {
    options.check()?;
    let years = records.census_years();
    let (Some(&first), Some(&last)) = (years.first(), years.last()) else {
        return Err(ModelError::Invalid("no published plans to backtest".into()));
    };
    let origins: Vec<i32> = (first + 3..last).collect();
    if origins.is_empty() {
        return Err(ModelError::Invalid(format!(
            "a backtest needs at least 5 censuses (published: {first}-{last})"
        )));
    }
    // Every origin's point forecast once, each on what was published by it, reaching the last census.
    let points = intervals::earlier_points(records, last + 1, options);
    let mut cases = Vec::new();
    for &origin in &origins {
        let Some(here) = points.get(&origin) else {
            continue;
        };
        let known = records.known_at(origin);
        let england = England::new(&known);
        let years = horizon.min((last - origin) as u32);
        let model: BTreeMap<(LaCode, i32), _> =
            assemble(&known, &england, here, years, &points, options.error_memory)?
                .into_iter()
                .map(|p| ((p.la, p.census_year), p))
                .collect();
        let Some(&g) = england.growth.get(&origin) else {
            continue;
        };
        for (la, s) in &records.plans {
            for h in 1..=years {
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
                    (baselines(s, origin, h as i32, g), model.get(&(*la, target)))
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
                    m.point(options.point),
                    Some(m.p10 <= actual && actual <= m.p90),
                );
                for (method, f) in Method::ALL[1..].iter().zip(base) {
                    push(*method, f, None);
                }
            }
        }
    }
    Ok(PublishedBacktest::from_cases(origins, horizon, cases))
}

/// Settings chosen by backtest on what was published up to the tuning year only.
#[derive(Debug, Clone, PartialEq)]
pub struct Tuning {
    /// The last census the tuning read.
    pub until: i32,
    pub horizon: u32,
    pub chosen: PublishedForecastOptions,
    /// The chosen settings' model MAPE and 80 % coverage per horizon on the tuning origins.
    pub early_mape: Vec<f64>,
    pub early_coverage: Vec<f64>,
    /// Parameter sets tried.
    pub tried: usize,
}

/// The settings tried by [`tune`], simplest first (ties go to the simpler): England's growth over 1, 2 or 3
/// years; no indicator, the own trend, + new plans, + requests; ridge 0, 0.3, 1, 3 (not varied without
/// indicators).
pub fn tuning_grid() -> Vec<PublishedForecastOptions> {
    let sets = [
        Indicators::NONE,
        Indicators {
            own_trend: true,
            ..Indicators::NONE
        },
        Indicators {
            own_trend: true,
            new_plans: true,
            requests: false,
        },
        Indicators {
            own_trend: true,
            new_plans: true,
            requests: true,
        },
    ];
    let mut grid = Vec::new();
    for national_years in [1, 2, 3] {
        for indicators in sets {
            let ridges: &[f64] = if indicators == Indicators::NONE {
                &[0.0]
            } else {
                &TUNING_GRID
            };
            for &ridge in ridges {
                grid.push(PublishedForecastOptions {
                    indicators,
                    ridge,
                    national_years,
                    error_memory: 1.0,
                    point: PointEstimate::Mean,
                });
            }
        }
    }
    grid
}

/// Ridge penalties tried by [`tune`].
pub const TUNING_GRID: [f64; 4] = [0.0, 0.3, 1.0, 3.0];

/// Error memories tried by [`tune`] (its second stage).
pub const MEMORY_GRID: [f64; 6] = [1.0, 0.8, 0.6, 0.4, 0.2, 0.1];

/// Point forecasts tried by [`tune`] (its third stage), the mean first.
pub const POINT_GRID: [PointEstimate; 2] = [PointEstimate::Mean, PointEstimate::Median];

/// The model's scores per horizon on the tuning origins.
struct EarlyScores {
    mape: Vec<f64>,
    mape_england_removed: Vec<f64>,
    coverage: Vec<f64>,
}

/// Choose the settings on what was published by the January `until` census only, in three stages, each a
/// backtest on the origins whose targets are all up to `until`: first the point forecast ([`tuning_grid`]:
/// least mean model MAPE over horizons 1..=horizon), then the intervals' error memory ([`MEMORY_GRID`]: least
/// mean |80 % coverage − 80 %|), then whether the mean or the median is the point ([`POINT_GRID`]: least mean
/// MAPE with England's error removed, because the two differ only by how far each LA's interval lifts its
/// mean, while England's own miss, which dominates the raw MAPE in a window holding a national shock,
/// rewards whatever lifts every LA alike). Ties go to the earlier (simpler) grid point. Refused when `until` is at or
/// beyond the last census (nothing left to score) or leaves no origin to tune on.
pub fn tune(
    records: &LaRecords,
    observed: &dyn Fn(LaCode, i32) -> bool,
    horizon: u32,
    until: i32,
) -> Result<Tuning, ModelError> {
    let years = records.census_years();
    let last = years.last().copied().unwrap_or(i32::MIN);
    if until >= last {
        return Err(ModelError::Invalid(format!(
            "--tune-until {until}: the published censuses end in {last}, so no origin after {until} would be left \
             to score; tune on an earlier year (e.g. {})",
            last - 5
        )));
    }
    let window = records.known_at(until);
    let early = |options: &PublishedForecastOptions| -> Result<EarlyScores, ModelError> {
        let r = backtest(&window, observed, horizon, options)
            .map_err(|e| ModelError::Invalid(format!("--tune-until {until}: {e}")))?;
        let scores: Vec<&BacktestScore> = (1..=horizon)
            .filter_map(|h| r.score(Method::Pooled, h))
            .collect();
        if scores.is_empty() {
            return Err(ModelError::Invalid(format!(
                "--tune-until {until}: no origin has an outcome published by {until} to tune on"
            )));
        }
        Ok(EarlyScores {
            mape: scores.iter().map(|s| s.mape).collect(),
            mape_england_removed: scores.iter().map(|s| s.mape_england_removed).collect(),
            coverage: scores.iter().filter_map(|s| s.coverage_80).collect(),
        })
    };
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let grid = tuning_grid();
    let mut best: Option<(f64, PublishedForecastOptions)> = None;
    for options in &grid {
        let m = mean(&early(options)?.mape);
        if best.as_ref().is_none_or(|(b, _)| m < b - 1e-12) {
            best = Some((m, *options));
        }
    }
    let (_, mut chosen) = best.ok_or_else(|| ModelError::Invalid("nothing to tune".into()))?;
    let mut best_memory: Option<(f64, f64)> = None;
    for memory in MEMORY_GRID {
        chosen.error_memory = memory;
        let coverage = early(&chosen)?.coverage;
        let miss = mean(&coverage.iter().map(|c| (c - 0.8).abs()).collect::<Vec<_>>());
        if best_memory.is_none_or(|(b, _)| miss < b - 1e-12) {
            best_memory = Some((miss, memory));
        }
    }
    chosen.error_memory = best_memory.map_or(1.0, |b| b.1);
    let mut best_point: Option<(f64, PointEstimate)> = None;
    for point in POINT_GRID {
        chosen.point = point;
        let m = mean(&early(&chosen)?.mape_england_removed);
        if best_point.is_none_or(|(b, _)| m < b - 1e-12) {
            best_point = Some((m, point));
        }
    }
    chosen.point = best_point.map_or(PointEstimate::Mean, |b| b.1);
    let scores = early(&chosen)?;
    Ok(Tuning {
        until,
        horizon,
        chosen,
        early_mape: scores.mape,
        early_coverage: scores.coverage,
        tried: grid.len() + MEMORY_GRID.len() + POINT_GRID.len(),
    })
}

#[cfg(test)]
pub(super) fn tests_baselines(
    s: &BTreeMap<i32, f64>,
    origin: i32,
    h: i32,
    england: f64,
) -> Option<[f64; 4]> {
    baselines(s, origin, h, england)
}

#[cfg(test)]
pub(super) fn tests_from_cases(cases: Vec<BacktestCase>) -> PublishedBacktest {
    let origins = cases
        .iter()
        .map(|c| c.origin)
        .collect::<std::collections::BTreeSet<_>>();
    PublishedBacktest::from_cases(origins.into_iter().collect(), 1, cases)
}
