//! The forecast model: estimation from transition histories, the analytic and Monte-Carlo engines, costs per
//! financial year, the DSG ledger and backtesting (DESIGN.md §4).
//!
//! Architecture invariant: pure functions over domain types. No I/O, no printing, no wire formats; the model
//! cannot fail on data the ingest accepted except for histories no forecast can start from ([`ModelError`]).

pub mod aggregate;
pub mod analytic;
pub mod backtest;
pub mod backtest_tuning;
pub mod benchmark;
pub mod decomposition;
pub mod diagnose;
pub mod effects;
pub mod estimate;
pub mod forecast;
mod input_checks;
pub mod ledger;
pub mod monte_carlo;
pub mod national;
pub mod published_forecast;
pub mod scenario;
pub mod space;
#[cfg(test)]
mod tests;
pub mod trend_choice;

pub use effects::Effects;
pub use estimate::{
    fit, fit_reaching, FitOptions, JoinerTrend, Parameters, DEFAULT_FALLBACK_DAMPING,
    DEFAULT_PERSISTENCE_SD,
};
pub use forecast::{Engine, Forecast, ProjectionOptions, Summary};
pub use monte_carlo::MonteCarloOptions;

use highneeds_domain::CensusYear;

/// Why no forecast can be made from a history.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error(
        "no transitions to estimate from (the history needs at least two consecutive censuses)"
    )]
    NoTransitions,
    #[error("census year gap: no transitions from {after} to {before}; the history must have consecutive censuses")]
    CensusYearGap {
        after: CensusYear,
        before: CensusYear,
    },
    #[error("no children with plans at the {census} census: nothing to project")]
    NoPlansAtBase { census: CensusYear },
    #[error("{0}")]
    Invalid(String),
}
