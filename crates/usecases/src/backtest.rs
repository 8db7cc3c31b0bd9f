//! The rolling-origin backtest of an LA's own model.

use anyhow::{bail, Result};
use highneeds_domain::TransitionHistory;
use highneeds_model::backtest::{backtest, BacktestOptions, PopulationUse, Report};

use crate::forecast::monte_carlo_options;
use crate::history::{fit_options, ModelSettings};

/// Backtest `history` (named `source` in messages): fit up to each origin with `min_years` of transitions,
/// forecast `horizon` years ahead, score against what happened. Refuses a history with no origin to score.
pub fn run(
    history: &TransitionHistory,
    source: &str,
    horizon: u32,
    min_years: usize,
    model: &ModelSettings,
) -> Result<Report> {
    if horizon == 0 || horizon > 15 {
        bail!("--horizon must be between 1 and 15, not {horizon}");
    }
    let options = BacktestOptions {
        horizon,
        // Only the population known at each origin: what a forecast made then could have used.
        population: PopulationUse::CarryForward,
        fit: fit_options(model)?,
        engine: model.engine,
        monte_carlo: monte_carlo_options(model),
        min_fit_years: min_years,
    };
    let report = backtest(history, &options)?;
    if report.origins.is_empty() {
        return Err(nothing_to_backtest(history, source, min_years));
    }
    Ok(report)
}

/// Why a backtest scored nothing: the history's span, and what to try.
pub fn nothing_to_backtest(
    history: &TransitionHistory,
    source: &str,
    min_years: usize,
) -> anyhow::Error {
    let years = history
        .census_span()
        .map(|(a, b)| {
            format!(
                "censuses {a}-{b}, {} years of transitions",
                b.year() - a.year()
            )
        })
        .unwrap_or_default();
    anyhow::anyhow!(
        "nothing to backtest in {source}: no origin has {min_years} years of transitions before it and a census \
         after it ({years}); try --min-years 1"
    )
}
