//! DBV scenarios over an LA's stored data: load what a scenario runs on, read a scenario (file or stored
//! version), run it. The command line (`highneeds scenario`) and the server's overview (target check) call these.

use std::path::Path;
use std::sync::atomic::AtomicU64;

use anyhow::{anyhow, bail, Context, Result};
use highneeds_domain::scenario::Scenario;
use highneeds_domain::{BudgetLine, FinancialYear, TransitionHistory};
use highneeds_ingest::scenario::{read_scenario_json, read_scenario_toml, ScenarioCodes};
use highneeds_ingest::Issue;
use highneeds_model::scenario::{self as plan, ScenarioInputs, ScenarioResult};
use highneeds_model::{fit_reaching, FitOptions};
use highneeds_store::Store;

use crate::{only_la, runtime};

/// The Stockton-like worked example (`examples/`), stored by `highneeds demo`.
pub const EXAMPLE: &str = include_str!("../../../examples/exampleshire-dbv-stockton.toml");

/// The LA's stored data a scenario runs over.
pub struct LaData {
    pub la: String,
    pub history: TransitionHistory,
    pub budget: Vec<BudgetLine>,
    /// The LA's needs and settings ([`codes_of`] the history), found once: every scenario read checks against them.
    pub codes: ScenarioCodes,
}

/// Open the database and load the LA's history and budget (`la`: default the database's only LA).
pub fn load(db: &Path, la: Option<&str>) -> Result<LaData> {
    if !db.exists() {
        bail!(
            "database {} does not exist: import data first (highneeds import) or run highneeds demo",
            db.display()
        );
    }
    runtime()?.block_on(async {
        let store = Store::open(db).await?;
        let la = match la {
            Some(la) => la.to_string(),
            None => only_la(&store, db).await?,
        };
        let data = load_from(&store, &la).await;
        store.close().await;
        data
    })
}

/// The LA's history and budget from an open store.
pub async fn load_from(store: &Store, la: &str) -> Result<LaData> {
    let history = store.load_history(la).await?.ok_or_else(|| {
        anyhow!(
            "LA {la} has no transition data in {}: import its history first",
            store.path().display()
        )
    })?;
    let budget = store.load_budget(la).await?;
    Ok(LaData {
        la: la.to_string(),
        codes: codes_of(&history),
        history,
        budget,
    })
}

/// The LA's needs and settings, as the model sees them.
pub fn codes_of(history: &TransitionHistory) -> ScenarioCodes {
    let mut codes = ScenarioCodes::default();
    for s in history
        .transitions
        .iter()
        .flat_map(|t| [&t.before, &t.after])
        .flatten()
    {
        codes.needs.push(s.need.clone());
        codes.settings.push(s.setting.clone());
    }
    for v in &history.valid_states {
        codes.settings.push(v.setting.clone());
        codes.needs.extend(v.needs.iter().cloned());
    }
    codes.needs.sort();
    codes.needs.dedup();
    codes.settings.sort();
    codes.settings.dedup();
    codes
}

/// A scenario's text read against the LA's codes (JSON if the label ends `.json`, else TOML): every issue, and
/// the scenario if there is no error.
pub fn read_text(label: &str, text: &str, data: &LaData) -> (Vec<Issue>, Option<Scenario>) {
    let parsed = if label.ends_with(".json") {
        read_scenario_json(label, text, Some(&data.codes))
    } else {
        read_scenario_toml(label, text, Some(&data.codes))
    };
    (parsed.issues, parsed.value)
}

/// A scenario as read: where from (`label`), its text, every issue, and the scenario if there is no error.
pub struct ScenarioRead {
    pub label: String,
    pub text: String,
    pub issues: Vec<Issue>,
    pub scenario: Option<Scenario>,
}

/// A scenario from a file (TOML or JSON by extension) or, if no such file, the stored scenario of that name.
pub fn scenario_from(source: &str, data: &LaData, db: &Path) -> Result<ScenarioRead> {
    let path = Path::new(source);
    let (label, text) = if path.is_file() {
        let meta = std::fs::metadata(path).with_context(|| format!("could not read {source}"))?;
        if meta.len() > highneeds_ingest::scenario::MAX_SCENARIO_BYTES as u64 {
            bail!(
                "{source} is larger than a scenario file can be ({} bytes at most)",
                highneeds_ingest::scenario::MAX_SCENARIO_BYTES
            );
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read {source} as UTF-8 text"))?;
        (source.to_string(), text)
    } else {
        let versions = runtime()?.block_on(async {
            let store = Store::open(db).await?;
            let v = store.scenario_versions(&data.la, source).await?;
            store.close().await;
            anyhow::Ok(v)
        })?;
        let latest = versions.last().ok_or_else(|| {
            anyhow!("{source} is neither a file nor a stored scenario of LA {} (see highneeds scenario list)", data.la)
        })?;
        (
            format!("{source} (stored version {})", latest.version),
            latest.body.clone(),
        )
    };
    let (issues, scenario) = read_text(&label, &text, data);
    Ok(ScenarioRead {
        label,
        text,
        issues,
        scenario,
    })
}

/// The financial years a scenario over `horizon_years` projects (after the budget's last actual year, up to the
/// horizon): where its target may be.
pub fn projected_years(
    data: &LaData,
    horizon_years: u32,
) -> Option<(FinancialYear, FinancialYear)> {
    let base = data
        .history
        .transitions
        .iter()
        .map(|t| t.from_census.next())
        .max()?;
    plan::projected_financial_years(base, horizon_years, &data.budget)
}

/// The rule a scenario's target breaks on this LA's data, if it does: the target must be a projected year, known
/// only with the LA's history (base census) and budget.
pub fn target_rule(data: &LaData, scenario: &Scenario) -> Option<String> {
    let a = &scenario.assumptions;
    let (first, last) = projected_years(data, a.horizon_years)?;
    if a.target >= first && a.target <= last {
        return None;
    }
    Some(format!(
        "\"{}\" is outside the projected years ({first} to {last}: after the budget's last actual year, within \
         horizon_years = {}): choose a year in that range or a longer horizon",
        a.target, a.horizon_years
    ))
}

/// Why a scenario cannot run on this LA's data, if it cannot ([`target_rule`]), naming the file, line and column.
pub fn target_refusal(
    data: &LaData,
    scenario: &Scenario,
    label: &str,
    text: &str,
) -> Option<String> {
    let rule = target_rule(data, scenario)?;
    let line = highneeds_ingest::scenario::assumption_line(text, "target_financial_year")
        .map_or(String::new(), |l| format!("{l}:"));
    Some(format!(
        "{label}:{line} column assumptions.target_financial_year: {rule}"
    ))
}

/// Fit and run a scenario over the LA's data.
pub fn run_scenario(
    data: &LaData,
    scenario: &Scenario,
    threads: Option<usize>,
) -> Result<ScenarioResult> {
    run_scenario_counting(data, scenario, threads, None)
}

/// [`run_scenario`], counting each Monte-Carlo simulation as it finishes into `progress` (2 × the scenario's sims
/// in all: the unmitigated side's and the plan's), for a progress indicator.
pub fn run_scenario_counting(
    data: &LaData,
    scenario: &Scenario,
    threads: Option<usize>,
    progress: Option<&AtomicU64>,
) -> Result<ScenarioResult> {
    let started = std::time::Instant::now();
    let result = run_scenario_once(data, scenario, threads, progress);
    tracing::info!(
        "scenario {:?}: {} initiative(s) run in {:.3} s",
        scenario.name,
        scenario.initiatives.len(),
        started.elapsed().as_secs_f64()
    );
    result
}

fn run_scenario_once(
    data: &LaData,
    scenario: &Scenario,
    threads: Option<usize>,
    progress: Option<&AtomicU64>,
) -> Result<ScenarioResult> {
    let params = fit_reaching(
        &data.history,
        &FitOptions::default(),
        &plan::settings_reached(scenario),
    )
    .context("cannot forecast this LA")?;
    let inputs = ScenarioInputs {
        params: &params,
        history: &data.history,
        budget: &data.budget,
        scenario,
        threads,
        progress,
    };
    plan::run(&inputs).with_context(|| format!("cannot run scenario {:?}", scenario.name))
}

/// A stored scenario's version `version` (default: the latest).
pub fn pick_version<'a>(
    versions: &'a [highneeds_store::ScenarioVersion],
    version: Option<i64>,
    name: &str,
    la: &str,
) -> Result<&'a highneeds_store::ScenarioVersion> {
    match version {
        Some(n) => versions.iter().find(|v| v.version == n),
        None => versions.last(),
    }
    .ok_or_else(|| {
        anyhow!(
            "LA {la} has no stored scenario {name:?}{}",
            version.map_or(String::new(), |n| format!(" version {n}"))
        )
    })
}

/// The fitted model a scenario runs on: fit over the LA's history reaching the scenario's settings. The server
/// keeps these per LA and data version (fitting takes longer than an analytic run).
pub fn fit_for(data: &LaData, scenario: &Scenario) -> Result<highneeds_model::Parameters> {
    fit_reaching(
        &data.history,
        &FitOptions::default(),
        &plan::settings_reached(scenario),
    )
    .context("cannot forecast this LA")
}

/// A run's inputs on already fitted parameters (threads: the global pool).
fn fitted_inputs<'a>(
    data: &'a LaData,
    params: &'a highneeds_model::Parameters,
    scenario: &'a Scenario,
) -> ScenarioInputs<'a> {
    ScenarioInputs {
        params,
        history: &data.history,
        budget: &data.budget,
        scenario,
        threads: None,
        progress: None,
    }
}

/// Run a scenario on already fitted parameters ([`fit_for`]), attributing its savings now or later.
pub fn run_fitted(
    data: &LaData,
    params: &highneeds_model::Parameters,
    scenario: &Scenario,
    when: plan::Attributing,
) -> Result<ScenarioResult> {
    plan::run_attributing(&fitted_inputs(data, params, scenario), when)
        .with_context(|| format!("cannot run scenario {:?}", scenario.name))
}

/// The unmitigated side of a scenario's run on fitted parameters (see [`plan::UnmitigatedSide`]): the same for
/// every variant of the scenario's initiatives, so the workspace computes it once per scenario's assumptions.
pub fn unmitigated_fitted(
    data: &LaData,
    params: &highneeds_model::Parameters,
    scenario: &Scenario,
) -> Result<plan::UnmitigatedSide> {
    plan::unmitigated_side(&fitted_inputs(data, params, scenario))
        .with_context(|| format!("cannot run scenario {:?}", scenario.name))
}

/// [`run_fitted`] with its unmitigated side already computed ([`unmitigated_fitted`]).
pub fn run_fitted_with(
    data: &LaData,
    params: &highneeds_model::Parameters,
    scenario: &Scenario,
    when: plan::Attributing,
    side: &plan::UnmitigatedSide,
) -> Result<ScenarioResult> {
    plan::run_with_unmitigated(&fitted_inputs(data, params, scenario), when, side)
        .with_context(|| format!("cannot run scenario {:?}", scenario.name))
}
