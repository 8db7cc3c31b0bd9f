//! The LA's figures the pages and the API show, computed once per version of its data: on first use and after
//! each import (the latest import id is the version). Computing runs on the blocking pool, never on the async
//! workers; requests meanwhile wait for the one computation rather than starting their own.

use std::sync::Arc;

use anyhow::{Context, Result};
use highneeds_model::backtest::Report;
use highneeds_model::ledger::LedgerRow;
use highneeds_model::{Engine, Forecast, ProjectionOptions};
use highneeds_usecases::caseload::{census_counts, CensusCounts};
use highneeds_usecases::ModelSettings;
use tokio::sync::Mutex;

use crate::Shared;

/// Everything derived from one version of the LA's data.
pub struct Figures {
    /// The latest import id these figures were computed from.
    pub version: Option<i64>,
    pub caseload: Vec<CensusCounts>,
    /// The 5-year forecast (analytic engine, default model), or why there is none.
    pub forecast: Result<Forecast, String>,
    pub ledger: Vec<LedgerRow>,
    /// The rolling-origin backtest (analytic engine, horizon 3, origins with 3 years of transitions), or why
    /// there is none.
    pub backtest: Result<Report, String>,
}

/// The cached figures.
#[derive(Default)]
pub struct Cache {
    current: Mutex<Option<Arc<Figures>>>,
}

/// The model settings of the web's figures: the analytic engine (exact means and intervals, milliseconds),
/// otherwise the command line's defaults.
pub fn model_settings() -> ModelSettings {
    ModelSettings {
        engine: Engine::Analytic,
        ..ModelSettings::default()
    }
}

/// The figures of the LA's current data.
pub async fn get(state: &Shared) -> Result<Arc<Figures>> {
    let version = state.store.latest_import_id(&state.la_code).await?;
    let mut current = state.figures.current.lock().await;
    if let Some(f) = current.as_ref().filter(|f| f.version == version) {
        return Ok(f.clone());
    }
    let history = state.store.load_history(&state.la_code).await?;
    let budget = state.store.load_budget(&state.la_code).await?;
    let figures = tokio::task::spawn_blocking(move || compute(version, history, &budget))
        .await
        .context("the forecast stopped unexpectedly")?;
    let figures = Arc::new(figures);
    *current = Some(figures.clone());
    Ok(figures)
}

fn compute(
    version: Option<i64>,
    history: Option<highneeds_domain::TransitionHistory>,
    budget: &[highneeds_domain::BudgetLine],
) -> Figures {
    let ledger = highneeds_usecases::demo::dsg_ledger(budget);
    let Some(history) = history else {
        let none = "no transition data imported yet".to_string();
        return Figures {
            version,
            caseload: Vec::new(),
            forecast: Err(none.clone()),
            ledger,
            backtest: Err(none),
        };
    };
    let model = model_settings();
    let forecast = highneeds_usecases::forecast::project_history(
        &history,
        &model,
        &ProjectionOptions::default(),
    )
    .and_then(|f| highneeds_usecases::forecast::refuse_unrepresentable(&f).map(|()| f))
    .map_err(|e| format!("{e:#}"));
    let backtest = highneeds_usecases::backtest::run(&history, "the LA's history", 3, 3, &model)
        .map_err(|e| format!("{e:#}"));
    Figures {
        version,
        caseload: census_counts(&history),
        forecast,
        ledger,
        backtest,
    }
}

/// The chosen scenario's run: the LA's most recently saved scenario (latest version), its target check.
pub struct TargetCheck {
    pub scenario: String,
    pub version: i64,
    pub result: Result<highneeds_model::scenario::ScenarioResult, String>,
}

/// What a target check was computed from: the data's version, the scenario and its version.
type ScenarioKey = (Option<i64>, String, i64);

/// The cached target check.
#[derive(Default)]
pub struct ScenarioCache {
    current: Mutex<Option<(ScenarioKey, Arc<TargetCheck>)>>,
}

/// The target check of the chosen scenario (`None` when the LA has no stored scenario), run on the blocking
/// pool through the same use-case as `highneeds scenario run`, cached until the data or the scenario changes.
pub async fn target_check(state: &Shared) -> Result<Option<Arc<TargetCheck>>> {
    let store = &state.store;
    let la = &state.la_code;
    let Some(chosen) = store
        .scenarios(la)
        .await?
        .into_iter()
        .max_by(|a, b| a.saved_at.cmp(&b.saved_at))
    else {
        return Ok(None);
    };
    let versions = store.scenario_versions(la, &chosen.name).await?;
    let Some(latest) = versions.last().cloned() else {
        return Ok(None);
    };
    let key: ScenarioKey = (
        store.latest_import_id(la).await?,
        latest.name.clone(),
        latest.version,
    );
    let mut current = state.scenario.current.lock().await;
    if let Some((k, check)) = current.as_ref() {
        if *k == key {
            return Ok(Some(check.clone()));
        }
    }
    let data = highneeds_usecases::scenario::load_from(store, la).await?;
    let label = format!("{} (stored version {})", latest.name, latest.version);
    let result = tokio::task::spawn_blocking(move || {
        let (issues, scenario) =
            highneeds_usecases::scenario::read_text(&label, &latest.body, &data);
        match scenario {
            Some(s) => {
                match highneeds_usecases::scenario::target_refusal(&data, &s, &label, &latest.body)
                {
                    Some(why) => Err(why),
                    None => highneeds_usecases::scenario::run_scenario(&data, &s, None)
                        .map_err(|e| format!("{e:#}")),
                }
            }
            None => Err(issues
                .iter()
                .filter(|i| i.is_error())
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")),
        }
    })
    .await
    .context("the scenario run stopped unexpectedly")?;
    let check = Arc::new(TargetCheck {
        scenario: key.1.clone(),
        version: key.2,
        result,
    });
    *current = Some((key, check.clone()));
    Ok(Some(check))
}

/// The stored DfE release on current boundaries, cached until another release is imported.
#[derive(Default)]
pub struct PublishedCache {
    current: Mutex<Option<(i64, Arc<highneeds_usecases::published::Loaded>)>>,
}

/// The stored release (`None` if none was imported).
pub async fn published(
    state: &Shared,
) -> Result<Option<Arc<highneeds_usecases::published::Loaded>>> {
    let count = state.store.published_count().await?;
    if count == 0 {
        return Ok(None);
    }
    let mut current = state.published.current.lock().await;
    if let Some((c, loaded)) = current.as_ref() {
        if *c == count {
            return Ok(Some(loaded.clone()));
        }
    }
    let Some(stats) = state.store.load_published().await? else {
        return Ok(None);
    };
    let loaded = tokio::task::spawn_blocking(move || {
        let current = stats.on_current_boundaries();
        highneeds_usecases::published::Loaded {
            stats,
            current,
            warnings: Vec::new(),
        }
    })
    .await
    .context("reading the published statistics stopped unexpectedly")?;
    let loaded = Arc::new(loaded);
    *current = Some((count, loaded.clone()));
    Ok(Some(loaded))
}
