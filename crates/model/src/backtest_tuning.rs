//! `backtest --tune-until Y` for the person-level model (issue #11): the defaults that are constants — the damping
//! assumed when the history is too short to judge its trend, and the spread of the trend's persistence — chosen
//! on what was known by the January Y census only, then scored on the origins after Y.

use highneeds_domain::{CensusYear, TransitionHistory};

use crate::backtest::{backtest, score, BacktestOptions, Method, Report};
use crate::estimate::JoinerTrend;
use crate::ModelError;

/// Fallback dampings tried (first stage: least mean MAPE of the model over the horizons).
pub const FALLBACK_DAMPINGS: [f64; 4] = [0.2, 0.6, 0.8, 0.9];
/// Persistence spreads tried (second stage: least mean |90 % coverage − 90 %|).
pub const PERSISTENCE_SDS: [f64; 5] = [1.0, 1.5, 2.0, 2.5, 3.0];

/// What the tuning chose and how it did on the early origins.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonTuning {
    pub until: CensusYear,
    pub options: BacktestOptions,
    /// The model's mean MAPE and 90 % coverage over the horizons, on the early origins.
    pub early_mape: f64,
    pub early_coverage_90: f64,
    pub tried: usize,
}

/// The history as known at the January `until` census: transitions ending by then, population up to then.
fn known_at(history: &TransitionHistory, until: CensusYear) -> TransitionHistory {
    TransitionHistory {
        transitions: history
            .transitions
            .iter()
            .filter(|t| t.from_census < until)
            .cloned()
            .collect(),
        population: history
            .population
            .iter()
            .filter(|p| p.census_year <= until)
            .copied()
            .collect(),
        ..history.clone()
    }
}

/// The model's (mean MAPE, mean 90 % coverage) over the horizons of a backtest.
fn early_scores(r: &Report) -> Option<(f64, f64)> {
    let s: Vec<_> = r
        .scores
        .iter()
        .filter(|s| s.method == Method::Trended)
        .collect();
    if s.is_empty() {
        return None;
    }
    let n = s.len() as f64;
    let mape = s.iter().map(|s| s.mape).sum::<f64>() / n;
    let cov = s
        .iter()
        .map(|s| s.coverage.map_or(0.0, |c| c[2]))
        .sum::<f64>()
        / n;
    Some((mape, cov))
}

/// Choose the fallback damping, then the persistence spread, on the origins whose outcomes are known by `until`.
/// Refused when `until` is at or after the last census, or leaves no origin to tune on.
pub fn tune(
    history: &TransitionHistory,
    options: &BacktestOptions,
    until: i32,
) -> Result<PersonTuning, ModelError> {
    let (_, last) = history.census_span().ok_or(ModelError::NoTransitions)?;
    if until >= last.year() {
        return Err(ModelError::Invalid(format!(
            "--tune-until {until}: the history's censuses end in {last}, so no origin after {until} would be left to \
             score; tune on an earlier year"
        )));
    }
    let until =
        CensusYear::new(until).map_err(|e| ModelError::Invalid(format!("--tune-until: {e}")))?;
    let window = known_at(history, until);
    let run = |o: &BacktestOptions| -> Result<(f64, f64), ModelError> {
        let r = backtest(&window, o).ok();
        r.as_ref().and_then(early_scores).ok_or_else(|| {
            ModelError::Invalid(format!(
                "--tune-until {until}: no origin has an outcome by {until} to tune on (try a later year or --min-years 1)"
            ))
        })
    };
    let mut best: Option<(f64, BacktestOptions)> = None;
    for damping in FALLBACK_DAMPINGS {
        let mut o = options.clone();
        o.fit.joiner_trend = JoinerTrend::Damped { damping };
        let (mape, _) = run(&o)?;
        if best.as_ref().is_none_or(|(b, _)| mape < b - 1e-12) {
            best = Some((mape, o));
        }
    }
    let (_, mut chosen) = best.ok_or_else(|| ModelError::Invalid("nothing to tune".into()))?;
    let mut best_sd: Option<(f64, f64)> = None;
    for sd in PERSISTENCE_SDS {
        chosen.fit.persistence_sd = sd;
        let (_, cov) = run(&chosen)?;
        let miss = (cov - 0.9).abs();
        if best_sd.is_none_or(|(b, _)| miss < b - 1e-12) {
            best_sd = Some((miss, sd));
        }
    }
    chosen.fit.persistence_sd = best_sd.map_or(chosen.fit.persistence_sd, |b| b.1);
    let (early_mape, early_coverage_90) = run(&chosen)?;
    Ok(PersonTuning {
        until,
        options: chosen,
        early_mape,
        early_coverage_90,
        tried: FALLBACK_DAMPINGS.len() + PERSISTENCE_SDS.len(),
    })
}

/// A backtest report scored only on the origins after `year`.
pub fn origins_after(r: &Report, year: CensusYear, horizon: u32) -> Report {
    let points: Vec<_> = r
        .points
        .iter()
        .filter(|p| p.origin > year)
        .cloned()
        .collect();
    Report {
        scores: score(&points, horizon),
        origins: r.origins.iter().copied().filter(|o| *o > year).collect(),
        points,
        population: r.population,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::Engine;

    #[test]
    fn tuning_reads_nothing_after_its_year_and_refuses_the_future() {
        let h = crate::tests::history(400, 8, 0.08, 5);
        let (_, last) = h.census_span().unwrap();
        let options = BacktestOptions {
            engine: Engine::Analytic,
            min_fit_years: 1,
            ..BacktestOptions::default()
        };
        let until = last.year() - 2;
        let a = tune(&h, &options, until).unwrap();
        // Wild transitions after `until` change nothing.
        let mut wild = h.clone();
        let extra: Vec<_> = wild
            .transitions
            .iter()
            .filter(|t| t.from_census.year() >= until && t.before.is_none())
            .cloned()
            .collect();
        for _ in 0..5 {
            wild.transitions.extend(extra.iter().cloned());
        }
        assert_eq!(tune(&wild, &options, until).unwrap(), a);
        assert_eq!(a.tried, 9);
        assert!(FALLBACK_DAMPINGS
            .iter()
            .any(|d| a.options.fit.joiner_trend == JoinerTrend::Damped { damping: *d }));
        for year in [last.year(), last.year() + 5] {
            let e = tune(&h, &options, year).unwrap_err().to_string();
            assert!(e.contains("no origin after"), "{e}");
        }
    }
}
