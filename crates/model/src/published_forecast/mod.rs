//! All-LA aggregate forecast from the published statistics: every LA's plans a few censuses ahead, using what
//! the whole country and the LA's own leading indicators say, and a rolling-origin backtest against naive
//! baselines (England's growth for every LA among them).
//!
//! Model (log scale; `y` = ln plans; England's log growth `G_t` is chained over the LAs published both years):
//! - **England's growth** ahead = its mean log growth over the last `national_years` censuses.
//! - **Each LA's deviation** from England over h years, `D = ln(y_{o+h}/y_o) − Σ G`, is predicted *directly for
//!   each horizon* by a ridge regression, fitted at each origin on the rows `(LA, o)` whose outcome `o + h` is
//!   already published, on leading indicators known at the origin, each relative to England: the LA's mean
//!   deviation over the last 3 years (its own trend), its new plans in the calendar year before the census per
//!   plan held, and its initial requests for assessment per plan held (logs of the LA's rate over England's).
//!   No intercept: with every coefficient 0 this is England's growth for every LA. Which indicators are used and
//!   how hard they are shrunk (`ridge`) are chosen blind ([`tune`]).
//! - **Intervals** come from the model's own errors at earlier origins, by horizon ([`intervals`]): a national
//!   component (England's error, the same for every LA) plus an LA component scaled by the LA's own volatility,
//!   widened or narrowed by one factor per horizon so that leave-one-origin-out coverage is 80 %.
//! - Log-normal: `median` = exp(μ), `mean` = exp(μ + σ²/2), p10/p90 = exp(μ ∓ 1.2816 σ), σ at most [`SD_CAP`] so
//!   that the mean never passes p90. Which of mean and median is the point forecast is chosen blind too
//!   ([`PointEstimate`]).
//!
//! Only what was published by the origin's census is read ([`LaRecords::known_at`]), and the backtest scores no
//! LA whose origin or target value is apportioned across a boundary change, so a backtest cannot leak.

mod backtest;
mod intervals;
mod regression;

use std::collections::BTreeMap;

use highneeds_domain::LaCode;

use crate::ModelError;

pub use backtest::{
    backtest, tune, tuning_grid, BacktestCase, BacktestScore, Method, PublishedBacktest, Tuning,
    MEMORY_GRID, POINT_GRID, TUNING_GRID,
};

/// z for a central 80 % interval.
pub(crate) const Z80: f64 = 1.281_551_565_544_600_5;

/// The largest log-scale standard deviation reported: beyond it (p90/p10 > e^5 ≈ 170) an interval says nothing,
/// and a log-normal mean would pass its own p90 at σ > 2.56.
pub const SD_CAP: f64 = 2.0;

/// Fewest training rows for a horizon's regression; with fewer, indicators are dropped (requests first).
const MIN_ROWS: usize = 60;

/// LAs with fewer plans than this at an origin are forecast but not used to fit (City of London, Isles of
/// Scilly: a handful of children swing their growth by tens of per cent).
const MIN_TRAINING_PLANS: f64 = 100.0;

/// Plans per year for each LA (current boundaries; England excluded).
pub type LaHistory = BTreeMap<LaCode, BTreeMap<i32, f64>>;

/// What the release says about each LA: plans at each January census, and the flows of each calendar year.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LaRecords {
    /// Plans at each January census.
    pub plans: LaHistory,
    /// New plans made in each calendar year (published with the following January's census).
    pub new_plans: LaHistory,
    /// Initial requests for an EHC needs assessment in each calendar year.
    pub requests: LaHistory,
}

impl LaRecords {
    /// Plans only (no flows): the model then uses the LA's own trend alone.
    pub fn from_plans(plans: LaHistory) -> Self {
        Self {
            plans,
            ..Self::default()
        }
    }

    /// What had been published by the January `census`: plans up to it, flows of the calendar years before it.
    pub fn known_at(&self, census: i32) -> LaRecords {
        let cut = |h: &LaHistory, last: i32| -> LaHistory {
            h.iter()
                .map(|(la, s)| (*la, s.range(..=last).map(|(y, v)| (*y, *v)).collect()))
                .filter(|(_, s): &(LaCode, BTreeMap<i32, f64>)| !s.is_empty())
                .collect()
        };
        LaRecords {
            plans: cut(&self.plans, census),
            new_plans: cut(&self.new_plans, census - 1),
            requests: cut(&self.requests, census - 1),
        }
    }

    fn plans_at(&self, la: LaCode, year: i32) -> Option<f64> {
        positive(self.plans.get(&la)?.get(&year).copied())
    }

    /// Census years with plans for any LA.
    pub fn census_years(&self) -> Vec<i32> {
        let years: std::collections::BTreeSet<i32> = self
            .plans
            .values()
            .flat_map(|s| s.keys().copied())
            .collect();
        years.into_iter().collect()
    }
}

fn positive(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite() && *v > 0.0)
}

/// The leading indicators the model may use (each relative to England).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Indicators {
    /// The LA's mean growth over England's in the last 3 years.
    pub own_trend: bool,
    /// New plans in the calendar year before the census, per plan held at the previous census.
    pub new_plans: bool,
    /// Initial requests for assessment in the calendar year before the census, per plan held.
    pub requests: bool,
}

impl Indicators {
    pub const NONE: Self = Self {
        own_trend: false,
        new_plans: false,
        requests: false,
    };
    fn as_array(self) -> [bool; 3] {
        [self.own_trend, self.new_plans, self.requests]
    }
    /// Short names, e.g. "own trend + new plans"; "none" for England's growth alone.
    pub fn describe(self) -> String {
        let names: Vec<&str> = ["own trend", "new plans", "requests"]
            .into_iter()
            .zip(self.as_array())
            .filter_map(|(n, on)| on.then_some(n))
            .collect();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(" + ")
        }
    }
}

/// Which summary of an LA's log-normal forecast is its point forecast (scored by the backtest, shown first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PointEstimate {
    /// exp(μ + σ²/2): what a sum over LAs or a budget needs; lifted above the median as the interval widens.
    #[default]
    Mean,
    /// exp(μ): the middle of the interval, untouched by its width (the best point for an absolute error).
    Median,
}

impl PointEstimate {
    pub fn describe(self) -> &'static str {
        match self {
            PointEstimate::Mean => "mean",
            PointEstimate::Median => "median",
        }
    }
}

/// Settings of the model. The defaults are what `backtest --published DIR --tune-until 2017` chose (censuses
/// up to 2017 only): see docs/decisions.md.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PublishedForecastOptions {
    pub indicators: Indicators,
    /// Ridge penalty per training row on standardised indicators (0 = least squares).
    pub ridge: f64,
    /// England's growth ahead = its mean log growth over this many latest censuses.
    pub national_years: usize,
    /// Weight of an earlier origin's errors per year between its target and the current origin (1 = every
    /// past year alike; smaller forgets old shocks).
    pub error_memory: f64,
    /// The point forecast: the log-normal's mean or its median.
    pub point: PointEstimate,
}

impl Default for PublishedForecastOptions {
    fn default() -> Self {
        Self {
            indicators: Indicators {
                own_trend: true,
                new_plans: true,
                requests: false,
            },
            ridge: 0.0,
            national_years: 1,
            error_memory: 0.4,
            point: PointEstimate::Median,
        }
    }
}

impl PublishedForecastOptions {
    /// Refuse settings the arithmetic cannot use (negative or non-finite ridge, no national years).
    pub fn check(&self) -> Result<(), ModelError> {
        if !(self.ridge.is_finite() && self.ridge >= 0.0) {
            return Err(ModelError::Invalid(format!(
                "the ridge penalty must be a finite number ≥ 0, not {}",
                self.ridge
            )));
        }
        if !(self.error_memory > 0.0 && self.error_memory <= 1.0) {
            return Err(ModelError::Invalid(format!(
                "the error memory must be in (0, 1], not {}",
                self.error_memory
            )));
        }
        if self.national_years == 0 {
            return Err(ModelError::Invalid(
                "England's growth needs at least one year".into(),
            ));
        }
        Ok(())
    }
}

/// One LA's projection for one census year.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LaProjection {
    pub la: LaCode,
    pub census_year: i32,
    pub mean: f64,
    pub median: f64,
    pub p10: f64,
    pub p90: f64,
}

impl LaProjection {
    /// The point forecast the settings ask for.
    pub fn point(&self, estimate: PointEstimate) -> f64 {
        match estimate {
            PointEstimate::Mean => self.mean,
            PointEstimate::Median => self.median,
        }
    }
}

/// England-level facts derived once per set of records: chained log growth by census year and the
/// flow rates (flow in calendar year t per plan at census t) of England.
pub(crate) struct England {
    pub growth: BTreeMap<i32, f64>,
    new_plan_rate: BTreeMap<i32, f64>,
    request_rate: BTreeMap<i32, f64>,
}

impl England {
    pub(crate) fn new(records: &LaRecords) -> Self {
        let years = records.census_years();
        let mut growth = BTreeMap::new();
        for y in years.iter().skip(1) {
            let (mut a, mut b) = (0.0, 0.0);
            for la in records.plans.keys() {
                if let (Some(x), Some(z)) =
                    (records.plans_at(*la, y - 1), records.plans_at(*la, *y))
                {
                    a += x;
                    b += z;
                }
            }
            if a > 0.0 && b > 0.0 {
                growth.insert(*y, (b / a).ln());
            }
        }
        let rate = |flows: &LaHistory| -> BTreeMap<i32, f64> {
            let mut out = BTreeMap::new();
            for y in &years {
                let (mut f, mut p) = (0.0, 0.0);
                for (la, s) in flows {
                    if let (Some(x), Some(q)) =
                        (positive(s.get(y).copied()), records.plans_at(*la, *y))
                    {
                        f += x;
                        p += q;
                    }
                }
                if f > 0.0 && p > 0.0 {
                    out.insert(*y, f / p);
                }
            }
            out
        };
        Self {
            growth,
            new_plan_rate: rate(&records.new_plans),
            request_rate: rate(&records.requests),
        }
    }

    /// England's log growth from census `from` to `to` (chained), if every year is known.
    pub(crate) fn growth_between(&self, from: i32, to: i32) -> Option<f64> {
        (from + 1..=to).map(|y| self.growth.get(&y)).sum()
    }

    /// England's expected log growth a year ahead of `origin`: the mean of its last `years` growths.
    pub(crate) fn growth_ahead(&self, origin: i32, years: usize) -> Option<f64> {
        let recent: Vec<f64> = self
            .growth
            .range(..=origin)
            .rev()
            .take(years)
            .map(|(_, g)| *g)
            .collect();
        (self.growth.contains_key(&origin) && !recent.is_empty())
            .then(|| recent.iter().sum::<f64>() / recent.len() as f64)
    }
}

/// The LA's log deviation from England's growth in census year `y`.
fn deviation(records: &LaRecords, england: &England, la: LaCode, y: i32) -> Option<f64> {
    let g = england.growth.get(&y)?;
    Some((records.plans_at(la, y)? / records.plans_at(la, y - 1)?).ln() - g)
}

/// The indicators of one LA at one origin (`None` where the release does not have them).
fn indicators_at(
    records: &LaRecords,
    england: &England,
    la: LaCode,
    origin: i32,
) -> [Option<f64>; 3] {
    let own: Vec<f64> = (origin - 2..=origin)
        .filter_map(|y| deviation(records, england, la, y))
        .collect();
    let own_trend = (!own.is_empty()).then(|| own.iter().sum::<f64>() / own.len() as f64);
    // Flows of calendar year origin − 1 per plan at the January origin − 1 census, over England's.
    let rate = |flows: &LaHistory, national: &BTreeMap<i32, f64>| -> Option<f64> {
        let y = origin - 1;
        let f = positive(flows.get(&la)?.get(&y).copied())?;
        Some((f / records.plans_at(la, y)? / national.get(&y)?).ln())
    };
    [
        own_trend,
        rate(&records.new_plans, &england.new_plan_rate),
        rate(&records.requests, &england.request_rate),
    ]
}

/// The LA's volatility at the origin: the standard deviation of its deviations from England over the last 5
/// years about their own mean, pooled with the median LA's (3 pseudo-years). Used to scale the LA part of its
/// interval. About their mean, not about zero: the point forecast already carries the LA's recent mean deviation
/// (the own-trend indicator: a fitted share of its last 3 years' mean), so what its errors scale with is how much
/// the deviations wander round it (chosen blind: docs/decisions.md).
fn volatilities(records: &LaRecords, england: &England, origin: i32) -> BTreeMap<LaCode, f64> {
    let own: BTreeMap<LaCode, (f64, f64)> = records
        .plans
        .keys()
        .map(|la| {
            let d: Vec<f64> = (origin - 4..=origin)
                .filter_map(|y| deviation(records, england, *la, y))
                .collect();
            (*la, spread_about_mean(&d))
        })
        .collect();
    let mut all: Vec<f64> = own
        .values()
        .filter(|(df, _)| *df > 0.0)
        .map(|(_, v)| *v)
        .collect();
    all.sort_by(f64::total_cmp);
    let pooled = all.get(all.len() / 2).copied().unwrap_or(0.0);
    own.into_iter()
        .map(|(la, (df, v))| (la, ((df * v + 3.0 * pooled) / (df + 3.0)).sqrt()))
        .collect()
}

/// (degrees of freedom, variance about the mean) of `d`: (n − 1, Σ(d − d̄)² / (n − 1)); one value, whose mean is
/// itself, counts as one degree of freedom about zero (d², so a first year is not taken as calm); none, (0, 0).
fn spread_about_mean(d: &[f64]) -> (f64, f64) {
    match d {
        [] => return (0.0, 0.0),
        [x] => return (1.0, x * x),
        _ => {}
    }
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    let ss: f64 = d.iter().map(|x| (x - mean) * (x - mean)).sum();
    (n - 1.0, ss / (n - 1.0))
}

/// Log-scale point forecasts (medians) from `origin`, every LA with plans there, horizons 1..=years.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PointForecast {
    pub origin: i32,
    /// England's expected log growth per year.
    pub england_growth: f64,
    /// (LA, horizon) → ln plans.
    pub log_median: BTreeMap<(LaCode, u32), f64>,
}

/// The model's point forecasts, from records known at `origin` (the caller passes `known_at(origin)`).
pub(crate) fn point_forecast(
    records: &LaRecords,
    england: &England,
    origin: i32,
    years: u32,
    options: &PublishedForecastOptions,
) -> Result<PointForecast, ModelError> {
    let Some(g) = england.growth_ahead(origin, options.national_years) else {
        return Err(ModelError::Invalid(format!(
            "the published plans need the censuses {} and {origin} to project from {origin}",
            origin - 1
        )));
    };
    let features: BTreeMap<LaCode, [Option<f64>; 3]> = records
        .plans
        .keys()
        .map(|la| (*la, indicators_at(records, england, *la, origin)))
        .collect();
    let mut log_median = BTreeMap::new();
    for h in 1..=years {
        let beta = regression::fit(records, england, origin, h, options);
        for (la, x) in &features {
            let Some(base) = records.plans_at(*la, origin) else {
                continue;
            };
            let dev: f64 = beta.iter().zip(x).map(|(b, v)| b * v.unwrap_or(0.0)).sum();
            log_median.insert((*la, h), base.ln() + f64::from(h) * g + dev);
        }
    }
    Ok(PointForecast {
        origin,
        england_growth: g,
        log_median,
    })
}

/// Project every LA with plans at `origin` for `years` censuses, from what was published by `origin` only.
/// Needs 4 censuses up to the origin (the intervals are measured on the model's errors at earlier origins).
pub fn project(
    records: &LaRecords,
    origin: i32,
    years: u32,
    options: &PublishedForecastOptions,
) -> Result<Vec<LaProjection>, ModelError> {
    options.check()?;
    let known = records.known_at(origin);
    if known.plans.is_empty() {
        return Err(ModelError::Invalid(format!(
            "no published plans up to {origin}"
        )));
    }
    let england = England::new(&known);
    let here = point_forecast(&known, &england, origin, years, options)?;
    let earlier = intervals::earlier_points(&known, origin, options);
    assemble(
        &known,
        &england,
        &here,
        years,
        &earlier,
        options.error_memory,
    )
}

/// England's share of the median LA's forecast error variance at horizons 1..=years, measured at `origin` on
/// the model's errors at earlier origins (what was published by `origin` only): how strongly LAs' errors move
/// together. National sums of LA forecasts use it as the correlation of their LAs' errors
/// ([`crate::national`]).
pub fn national_share(
    records: &LaRecords,
    origin: i32,
    years: u32,
    options: &PublishedForecastOptions,
) -> Result<Vec<f64>, ModelError> {
    options.check()?;
    let known = records.known_at(origin);
    let england = England::new(&known);
    let earlier = intervals::earlier_points(&known, origin, options);
    let spread = intervals::Spread::measure(&known, origin, years, &earlier, options.error_memory)?;
    let mut vol: Vec<f64> = volatilities(&known, &england, origin)
        .into_values()
        .filter(|v| *v > 0.0)
        .collect();
    vol.sort_by(f64::total_cmp);
    let median = vol.get(vol.len() / 2).copied().unwrap_or(0.0);
    Ok((1..=years)
        .map(|h| spread.national_share(h, median))
        .collect())
}

/// Intervals around the point forecast `here`, from the errors of the `earlier` origins' forecasts.
pub(crate) fn assemble(
    known: &LaRecords,
    england: &England,
    here: &PointForecast,
    years: u32,
    earlier: &BTreeMap<i32, PointForecast>,
    memory: f64,
) -> Result<Vec<LaProjection>, ModelError> {
    let origin = here.origin;
    let spread = intervals::Spread::measure(known, origin, years, earlier, memory)?;
    let vol = volatilities(known, england, origin);
    let mut out = Vec::new();
    for ((la, h), mu) in here.log_median.range(..) {
        if *h > years {
            continue;
        }
        let sd = spread.sd(*h, vol.get(la).copied().unwrap_or(0.0));
        out.push(LaProjection {
            la: *la,
            census_year: origin + *h as i32,
            mean: (mu + sd * sd / 2.0).exp(),
            median: mu.exp(),
            p10: (mu - Z80 * sd).exp(),
            p90: (mu + Z80 * sd).exp(),
        });
    }
    // A zero stays zero as far as this model can say.
    for (la, s) in &known.plans {
        if s.get(&origin) == Some(&0.0) {
            for h in 1..=years as i32 {
                out.push(LaProjection {
                    la: *la,
                    census_year: origin + h,
                    mean: 0.0,
                    median: 0.0,
                    p10: 0.0,
                    p90: 0.0,
                });
            }
        }
    }
    out.sort_by_key(|p| (p.la, p.census_year));
    Ok(out)
}

#[cfg(test)]
mod tests;
