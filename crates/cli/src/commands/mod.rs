//! One module per command. Each returns the process exit code; errors are printed by `main`.

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
pub mod synth;
pub mod validate;

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use highneeds_domain::TransitionHistory;
use highneeds_ingest::Issue;
use highneeds_model::{FitOptions, JoinerTrend};
use highneeds_store::Store;

use crate::args::{HistorySource, ModelArgs};

/// Exit status when input was rejected (validation errors).
pub const REJECTED: u8 = 2;

/// A single-threaded async runtime for the store.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the database runtime")
}

/// Print every issue (errors first) to stderr.
pub fn print_issues(issues: &[Issue]) {
    for i in issues.iter().filter(|i| i.is_error()) {
        eprintln!("{i}");
    }
    for i in issues.iter().filter(|i| !i.is_error()) {
        eprintln!("{i}");
    }
}

/// The history a forecast or backtest runs on, and a label saying where it came from.
pub fn load_history(source: &HistorySource) -> Result<(TransitionHistory, String)> {
    if let Some(dir) = &source.witan_dir {
        let parsed = highneeds_ingest::read_witan_dir(dir);
        let errors: Vec<&Issue> = parsed.errors().collect();
        if !errors.is_empty() {
            for e in &errors {
                eprintln!("{e}");
            }
            bail!(
                "{} has {} error(s): fix them or run `highneeds validate`",
                dir.display(),
                errors.len()
            );
        }
        let history = parsed
            .value
            .ok_or_else(|| anyhow!("{} could not be read", dir.display()))?;
        return Ok((history, dir.display().to_string()));
    }
    let Some(db) = &source.db else {
        bail!("say where the history is: --db PATH or --witan-dir DIR");
    };
    if !db.exists() {
        bail!("database {} does not exist: import data first (highneeds import) or run highneeds demo", db.display());
    }
    let rt = runtime()?;
    rt.block_on(async {
        let store = Store::open(db).await?;
        let la = match &source.la {
            Some(la) => la.clone(),
            None => only_la(&store, db).await?,
        };
        let history = store.load_history(&la).await?.ok_or_else(|| {
            anyhow!(
                "LA {la} has no transition data in {}: import witan files first",
                db.display()
            )
        })?;
        store.close().await;
        Ok((history, format!("{la} in {}", db.display())))
    })
}

pub async fn only_la(store: &Store, db: &Path) -> Result<String> {
    let las = store.las().await?;
    match las.as_slice() {
        [one] => Ok(one.code.clone()),
        [] => bail!(
            "database {} holds no LA yet: import data first",
            db.display()
        ),
        many => bail!(
            "database {} holds {} LAs ({}): choose one with --la",
            db.display(),
            many.len(),
            many.iter()
                .map(|l| l.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Fit options from the command line.
pub fn fit_options(model: &ModelArgs) -> Result<FitOptions> {
    if !(0.0..1.0).contains(&model.damping) {
        bail!(
            "--damping must be at least 0 and below 1, not {}",
            model.damping
        );
    }
    if !(model.prior_strength >= 0.0 && model.prior_strength.is_finite()) {
        bail!(
            "--prior-strength must be a number ≥ 0, not {}",
            model.prior_strength
        );
    }
    if !(model.persistence_sd >= 0.0 && model.persistence_sd.is_finite()) {
        bail!(
            "--persistence-sd must be a number ≥ 0, not {}",
            model.persistence_sd
        );
    }
    Ok(FitOptions {
        prior_strength: model.prior_strength,
        persistence_sd: model.persistence_sd,
        joiner_trend: if model.stationary {
            JoinerTrend::Stationary
        } else {
            JoinerTrend::Damped {
                damping: model.damping,
            }
        },
        base_census: None,
    })
}
