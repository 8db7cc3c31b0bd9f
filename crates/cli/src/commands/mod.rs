//! One module per command. Each returns the process exit code; errors are printed by `main`.

pub mod accounts;
pub mod backtest;
pub mod benchmark;
pub mod demo;
pub mod diagnose;
pub mod export;
pub mod forecast;
pub mod import;
pub mod published;
pub mod scenario;
pub mod sen2;
pub mod serve;
pub mod status;
pub mod synth;
pub mod validate;

use anyhow::Result;
use highneeds_domain::TransitionHistory;
use highneeds_ingest::Issue;
use highneeds_model::Engine;
use highneeds_usecases::{ModelSettings, Rejected};

pub use highneeds_usecases::{only_la, runtime};

use crate::args::{EngineArg, HistorySource, ModelArgs};

/// Exit status when input was rejected (validation errors).
pub use crate::exit::REJECTED;

/// Print every issue (errors first) to stderr.
pub fn print_issues(issues: &[Issue]) {
    for i in issues.iter().filter(|i| i.is_error()) {
        eprintln!("{i}");
    }
    if crate::progress::quiet() {
        return;
    }
    for i in issues.iter().filter(|i| !i.is_error()) {
        eprintln!("{i}");
    }
}

/// The history a forecast or backtest runs on, and a label saying where it came from (a rejected folder's
/// errors printed).
pub fn load_history(source: &HistorySource) -> Result<(TransitionHistory, String)> {
    highneeds_usecases::load_history(&history_source(source)).map_err(print_rejected)
}

/// The use-cases' history source from the command line's.
pub fn history_source(source: &HistorySource) -> highneeds_usecases::HistorySource {
    highneeds_usecases::HistorySource {
        db: source.db.clone(),
        la: source.la.clone(),
        witan_dir: source.witan_dir.clone(),
    }
}

/// Print a [`Rejected`] error's issues (errors first), then pass the error on for `main` to print.
pub fn print_rejected(e: anyhow::Error) -> anyhow::Error {
    if let Some(r) = e.downcast_ref::<Rejected>() {
        print_issues(&r.issues);
    }
    e
}

/// Fit options from the command line, each checked.
pub fn fit_options(model: &ModelArgs) -> Result<highneeds_model::FitOptions> {
    highneeds_usecases::fit_options(&model_settings(model))
}

/// The model settings from the command line.
pub fn model_settings(model: &ModelArgs) -> ModelSettings {
    ModelSettings {
        engine: match model.engine {
            EngineArg::Analytic => Engine::Analytic,
            EngineArg::MonteCarlo => Engine::MonteCarlo,
        },
        sims: model.sims,
        seed: model.seed,
        threads: model.threads,
        stationary: model.stationary,
        damping: model.damping,
        persistence_sd: model.persistence_sd,
        prior_strength: model.prior_strength,
    }
}
