//! Where a forecast's history comes from (a database or witan.send's files) and the model settings.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};
use highneeds_domain::TransitionHistory;
use highneeds_model::{Engine, FitOptions, JoinerTrend};
use highneeds_store::Store;

use crate::{runtime, Rejected};

/// Where a forecast or backtest reads the LA's history from.
#[derive(Debug, Clone, Default)]
pub struct HistorySource {
    /// The database, and which LA in it (default: the only one).
    pub db: Option<PathBuf>,
    pub la: Option<String>,
    /// witan.send's four files in this folder, read directly.
    pub witan_dir: Option<PathBuf>,
}

/// Model settings shared by forecast and backtest (the command line's `--engine`, `--sims`, … options).
#[derive(Debug, Clone)]
pub struct ModelSettings {
    pub engine: Engine,
    pub sims: u32,
    pub seed: u64,
    pub threads: Option<usize>,
    pub stationary: bool,
    /// `None`: weighed from the shape of the history's joiner rate (`highneeds_model::trend_choice`;
    /// [`DEFAULT_DAMPING`] when too short to judge).
    pub damping: Option<f64>,
    pub persistence_sd: f64,
    pub prior_strength: f64,
}

impl Default for ModelSettings {
    /// The command line's defaults.
    fn default() -> Self {
        ModelSettings {
            engine: Engine::MonteCarlo,
            sims: 1000,
            seed: 1,
            threads: None,
            stationary: false,
            damping: None,
            persistence_sd: highneeds_model::DEFAULT_PERSISTENCE_SD,
            prior_strength: 1.0,
        }
    }
}

/// The history a forecast or backtest runs on, and a label saying where it came from. A folder with errors
/// is [`Rejected`] with its errors.
pub fn load_history(source: &HistorySource) -> Result<(TransitionHistory, String)> {
    let started = std::time::Instant::now();
    let result = load_history_from(source);
    if let Ok((history, from)) = &result {
        tracing::info!(
            "history: {from}: {} transitions, read in {:.3} s",
            history.transitions.len(),
            started.elapsed().as_secs_f64()
        );
    }
    result
}

fn load_history_from(source: &HistorySource) -> Result<(TransitionHistory, String)> {
    if let Some(dir) = &source.witan_dir {
        let parsed = highneeds_ingest::read_witan_dir(dir);
        let errors: Vec<_> = parsed.errors().cloned().collect();
        if !errors.is_empty() {
            let message = format!(
                "{} has {} error(s): fix them or run `highneeds validate`",
                dir.display(),
                errors.len()
            );
            return Err(Rejected {
                issues: errors,
                message,
            }
            .into());
        }
        let history = parsed
            .value
            .ok_or_else(|| anyhow!("{} could not be read", dir.display()))?;
        return Ok((history, dir.display().to_string()));
    }
    let (db, chosen) = crate::home::database(source.db.as_deref());
    let db = &db;
    if !db.exists() {
        bail!(
            "database {} ({}) does not exist: import data first (highneeds import), run highneeds demo, or \
             read witan.send's files directly with --witan-dir DIR",
            db.display(),
            chosen.describe()
        );
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

/// The database's only LA, or an error saying there is none or which to choose.
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

/// The damping assumed when the history is too short to choose one (chosen blind: docs/decisions.md).
pub const DEFAULT_DAMPING: f64 = highneeds_model::DEFAULT_FALLBACK_DAMPING;

/// The damping of `forecast --totals` (an aggregate model of plans by year; not re-tuned with the person-level one).
pub const TOTALS_DAMPING: f64 = 0.2;

/// Fit options from the model settings, each checked.
pub fn fit_options(model: &ModelSettings) -> Result<FitOptions> {
    if let Some(d) = model.damping.filter(|d| !(0.0..1.0).contains(d)) {
        bail!("--damping must be at least 0 and below 1, not {d}");
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
                damping: model.damping.unwrap_or(DEFAULT_DAMPING),
            }
        },
        base_census: None,
        trend_from_history: !model.stationary && model.damping.is_none(),
    })
}
