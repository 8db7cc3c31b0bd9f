//! The aggregate fallback: a stock-and-flow projection for an LA that has only counts per census (and, where
//! known, new plans per year), not person-level history.
//!
//! With new plans J_t (joiners in the year to census t+1): leavers_t = N_t + J_t − N_{t+1}, so the yearly
//! leaving rate ℓ_t = leavers_t / N_t. The projection is N_{t+1} = N_t (1 − ℓ̄) + J_{t+1}, with ℓ̄ the mean
//! leaving rate and J following a damped log-linear trend fitted to the history (like the transitions model's
//! joiner rate). Without new plans, the log growth rate of N is projected directly, damped towards its mean.
//! Uncertainty: log-normal, from the residual spread of the fitted series (random-walk accumulation) and the
//! uncertainty of its fitted level and trend.

use highneeds_domain::{CensusTotal, CensusYear};

use crate::forecast::{standard_normal_quantile, Summary};
use crate::ModelError;

#[derive(Debug, Clone, Copy)]
struct CensusCount {
    census_year: CensusYear,
    plans: f64,
    new_plans: Option<f64>,
}

/// Which aggregate model ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateModel {
    /// Stock and flow: leaving rate × stock, plus trended new plans.
    StockAndFlow,
    /// Growth rate of the total only (no new-plan counts given).
    Growth,
}

impl AggregateModel {
    pub fn code(self) -> &'static str {
        match self {
            AggregateModel::StockAndFlow => "stock-and-flow",
            AggregateModel::Growth => "growth",
        }
    }
}

/// An aggregate forecast: total plans per projected census.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateForecast {
    pub model: AggregateModel,
    pub base_census: CensusYear,
    pub base_total: f64,
    pub census_years: Vec<(CensusYear, Summary)>,
    pub notes: Vec<String>,
}

/// Least-squares line through (x, y): (intercept at x = 0, slope, residual variance, var(intercept), var(slope)).
fn line(points: &[(f64, f64)]) -> (f64, f64, f64, f64, f64) {
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let intercept = my - slope * mx;
    let dof = (n - 2.0).max(1.0);
    let rss: f64 = points
        .iter()
        .map(|p| (p.1 - intercept - slope * p.0).powi(2))
        .sum();
    let s2 = rss / dof;
    let var_slope = if sxx > 0.0 { s2 / sxx } else { 0.0 };
    (
        intercept,
        slope,
        s2,
        s2 * (1.0 / n + mx * mx / sxx.max(f64::MIN_POSITIVE)),
        var_slope,
    )
}

/// Project `years` censuses ahead from an aggregate history (at least 3 consecutive censuses).
pub fn project(
    history: &[CensusTotal],
    years: u32,
    damping: f64,
    quantiles: &[f64],
) -> Result<AggregateForecast, ModelError> {
    let h = checked_history(history)?;
    let last = h[h.len() - 1];
    let mut notes = Vec::new();
    let flows: Option<Vec<f64>> = h[1..].iter().map(|c| c.new_plans).collect();
    let (model, path) = match flows {
        Some(joiners) if joiners.iter().all(|j| *j >= 0.0) => (
            AggregateModel::StockAndFlow,
            stock_and_flow(&h, &joiners, years, damping, &mut notes),
        ),
        _ => (
            AggregateModel::Growth,
            growth_path(&h, years, damping, &mut notes),
        ),
    };
    let census_years = path
        .into_iter()
        .filter_map(|(k, mean, var_log)| {
            let year = CensusYear::new(last.census_year.year() + k as i32).ok()?;
            Some((year, log_normal_summary(mean, var_log, quantiles)))
        })
        .collect();
    Ok(AggregateForecast {
        model,
        base_census: last.census_year,
        base_total: last.plans,
        census_years,
        notes,
    })
}

/// The history sorted by census, refused if it has fewer than 3 censuses, a gap or a plans figure that is not a
/// positive number.
fn checked_history(history: &[CensusTotal]) -> Result<Vec<CensusCount>, ModelError> {
    let mut h: Vec<CensusCount> = history
        .iter()
        .map(|c| CensusCount {
            census_year: c.census_year,
            plans: c.plans as f64,
            new_plans: c.new_plans.map(|n| n as f64),
        })
        .collect();
    h.sort_by_key(|c| c.census_year);
    if h.len() < 3 {
        return Err(ModelError::Invalid(
            "an aggregate forecast needs at least 3 censuses".into(),
        ));
    }
    if let Some(w) = h
        .windows(2)
        .find(|w| w[1].census_year != w[0].census_year.next())
    {
        return Err(ModelError::CensusYearGap {
            after: w[0].census_year.next(),
            before: w[1].census_year,
        });
    }
    if let Some(c) = h.iter().find(|c| !(c.plans > 0.0 && c.plans.is_finite())) {
        return Err(ModelError::Invalid(format!(
            "{} census: plans must be a positive number, not {}",
            c.census_year, c.plans
        )));
    }
    Ok(h)
}

/// Stock and flow: leaving rates from the stock identity (their mean, with its year-to-year spread), new plans on
/// a damped log-linear trend. (step, mean plans, log variance) for each projected year.
fn stock_and_flow(
    h: &[CensusCount],
    joiners: &[f64],
    years: u32,
    damping: f64,
    notes: &mut Vec<String>,
) -> Vec<(u32, f64, f64)> {
    let last = h[h.len() - 1];
    let damped = |k: u32| -> f64 { (1..=k).map(|i| damping.powi(i as i32)).sum() };
    // Leaving rates from the stock identity.
    let rates: Vec<f64> = h
        .windows(2)
        .zip(joiners)
        .map(|(w, j)| ((w[0].plans + j - w[1].plans) / w[0].plans).clamp(0.0, 1.0))
        .collect();
    let leave = rates.iter().sum::<f64>() / rates.len() as f64;
    // Year-to-year spread of the leaving rate, plus the uncertainty of its mean.
    let nr = rates.len() as f64;
    let leave_var = if rates.len() > 1 {
        rates.iter().map(|r| (r - leave).powi(2)).sum::<f64>() / (nr - 1.0) * (1.0 + 1.0 / nr)
    } else {
        leave * (1.0 - leave) / last.plans
    };
    // New plans: damped log-linear trend, t = 0 at the last census.
    let pts: Vec<(f64, f64)> = h[1..]
        .iter()
        .zip(joiners)
        .map(|(c, j)| {
            (
                f64::from(c.census_year.year() - last.census_year.year()),
                j.max(1.0).ln(),
            )
        })
        .collect();
    let (a, b, s2, va, vb) = line(&pts);
    let mut stock = last.plans;
    let mut var_log = 0.0;
    let mut out = Vec::new();
    for k in 1..=years {
        let d = damped(k);
        let joiners = (a + b * d).exp();
        stock = stock * (1.0 - leave) + joiners;
        // Joiners' log uncertainty (trend + yearly residual), carried into the stock by their share.
        let share = joiners / stock;
        let stayed = 1.0 - share;
        var_log += share * share * (s2 + va + d * d * vb)
            + stayed * stayed * leave_var / (1.0 - leave).powi(2).max(1e-9)
            + joiners / (stock * stock);
        out.push((k, stock, var_log));
    }
    notes.push(format!(
        "stock-and-flow: mean leaving rate {:.1} % a year, new plans trend {:+.1} % a year (damped {damping})",
        leave * 100.0,
        b.exp_m1() * 100.0
    ));
    out
}

/// Growth alone (no new-plan counts): growth moves from the latest year's towards the mean by the damping each
/// year. (step, mean plans, log variance) for each projected year.
fn growth_path(
    h: &[CensusCount],
    years: u32,
    damping: f64,
    notes: &mut Vec<String>,
) -> Vec<(u32, f64, f64)> {
    let last = h[h.len() - 1];
    let pts: Vec<(f64, f64)> = h
        .windows(2)
        .map(|w| {
            (
                f64::from(w[1].census_year.year() - last.census_year.year()),
                (w[1].plans / w[0].plans).ln(),
            )
        })
        .collect();
    let mean_growth = pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64;
    let (_, _, s2, _, _) = line(&pts);
    let latest = pts.last().map_or(mean_growth, |p| p.1);
    let mut log_stock = last.plans.ln();
    let mut var_log = 0.0;
    let mut out = Vec::new();
    for k in 1..=years {
        // Growth moves from the latest rate towards the mean rate, by the damping each year.
        let g = mean_growth + (latest - mean_growth) * damping.powi(k as i32);
        log_stock += g;
        var_log += s2 + s2 / pts.len() as f64;
        out.push((k, log_stock.exp(), var_log));
    }
    notes.push(format!(
        "growth model (no new-plan counts): mean growth {:+.1} % a year",
        mean_growth.exp_m1() * 100.0
    ));
    out
}

/// A log-normal with this mean and log variance: its sd and quantiles.
fn log_normal_summary(mean: f64, var_log: f64, quantiles: &[f64]) -> Summary {
    let sigma = var_log.max(0.0).sqrt();
    let mu = mean.ln() - 0.5 * sigma * sigma;
    Summary {
        mean,
        sd: mean * (sigma * sigma).exp_m1().sqrt(),
        quantiles: quantiles
            .iter()
            .map(|&p| (p, (mu + sigma * standard_normal_quantile(p)).exp()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(series: &[(i32, f64, Option<f64>)]) -> Vec<CensusTotal> {
        series
            .iter()
            .map(|&(y, n, j)| CensusTotal {
                census_year: CensusYear::new(y).unwrap(),
                plans: n as u64,
                new_plans: j.map(|j| j as u64),
            })
            .collect()
    }

    #[test]
    fn stock_and_flow_worked_example() {
        // Stock 1,000 → 1,050 → 1,100 with 150 new plans each year: 100 leave each year from 1,000 then
        // 1,050: leaving rates 10 % and 9.52 %, mean 9.762 %. New plans flat at 150 (no trend).
        // Next census: 1,100 × (1 − 0.09762) + 150 = 1,142.62.
        let h = counts(&[
            (2020, 1000.0, None),
            (2021, 1050.0, Some(150.0)),
            (2022, 1100.0, Some(150.0)),
        ]);
        let f = project(&h, 2, 0.8, &[0.05, 0.5, 0.95]).unwrap();
        assert_eq!(f.model, AggregateModel::StockAndFlow);
        let leave = (100.0 / 1000.0 + 100.0 / 1050.0) / 2.0;
        let expected = 1100.0 * (1.0 - leave) + 150.0;
        assert!((f.census_years[0].1.mean - expected).abs() < 1e-6, "{f:?}");
        assert_eq!(f.census_years[0].0.year(), 2023);
    }

    #[test]
    fn growth_model_without_flows_and_intervals_widen() {
        let h = counts(&[
            (2018, 100.0, None),
            (2019, 110.0, None),
            (2020, 121.0, None),
            (2021, 133.0, None),
            (2022, 147.0, None),
        ]);
        let f = project(&h, 3, 0.5, &[0.05, 0.5, 0.95]).unwrap();
        assert_eq!(f.model, AggregateModel::Growth);
        let (lo1, hi1) = (
            f.census_years[0].1.quantile(0.05).unwrap(),
            f.census_years[0].1.quantile(0.95).unwrap(),
        );
        let (lo3, hi3) = (
            f.census_years[2].1.quantile(0.05).unwrap(),
            f.census_years[2].1.quantile(0.95).unwrap(),
        );
        assert!(hi3 - lo3 > hi1 - lo1);
        // About 10 % growth a year carried on.
        assert!((f.census_years[0].1.mean / 147.0 - 1.1).abs() < 0.01);
    }

    #[test]
    fn bad_aggregate_histories_are_refused() {
        assert!(project(
            &counts(&[(2020, 1.0, None), (2021, 2.0, None)]),
            1,
            0.5,
            &[0.5]
        )
        .is_err());
        let gap = counts(&[(2018, 1.0, None), (2019, 2.0, None), (2021, 3.0, None)]);
        assert!(matches!(
            project(&gap, 1, 0.5, &[0.5]),
            Err(ModelError::CensusYearGap { .. })
        ));
        let zero = counts(&[(2018, 1.0, None), (2019, 0.0, None), (2020, 3.0, None)]);
        assert!(project(&zero, 1, 0.5, &[0.5]).is_err());
    }
}
