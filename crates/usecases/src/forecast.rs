//! Forecasts: one LA's history, a folder of LA folders (one national forecast), or counts only.
//!
//! A folder with one witan.send folder per LA (what `highneeds synth --las N` writes) is fitted and projected
//! LA by LA and combined into one national forecast (`highneeds_model::national`).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use highneeds_domain::{SettingMap, TransitionHistory};
use highneeds_ingest::Issue;
use highneeds_model::national::{self, MonteCarloSums};
use highneeds_model::{
    analytic, fit, monte_carlo, Engine, FitOptions, Forecast, MonteCarloOptions, ProjectionOptions,
};
use rayon::prelude::*;

use crate::history::{fit_options, load_history, HistorySource, ModelSettings};

/// Monte-Carlo options from the model settings.
pub fn monte_carlo_options(model: &ModelSettings) -> MonteCarloOptions {
    MonteCarloOptions {
        sims: model.sims,
        seed: model.seed,
        threads: model.threads,
    }
}

/// Fit one LA's history and project it with the chosen engine.
pub fn project_history(
    history: &TransitionHistory,
    model: &ModelSettings,
    projection: &ProjectionOptions,
) -> Result<Forecast> {
    project_noted(history, model, projection, None)
}

/// [`project_history`] with a note added to the forecast's (e.g. where its population came from).
fn project_noted(
    history: &TransitionHistory,
    model: &ModelSettings,
    projection: &ProjectionOptions,
    note: Option<String>,
) -> Result<Forecast> {
    let mut params = fit(history, &fit_options(model)?)?;
    if let Some(note) = note {
        params.notes.push(note);
    }
    if params.base_census.year() + projection.years as i32 > 2100 {
        bail!(
            "the forecast would run past 2100 (base census {}, --years {})",
            params.base_census,
            projection.years
        );
    }
    let mc = monte_carlo_options(model);
    in_pool(model.threads, || match model.engine {
        Engine::Analytic => analytic::project(&params, projection),
        Engine::MonteCarlo => monte_carlo::project(&params, projection, &mc),
    })
}

/// A forecast and what it says about itself.
pub struct Forecasted {
    pub forecast: Forecast,
    /// Where the history came from.
    pub source: String,
    /// Warnings about the files read (a population projection's).
    pub warnings: Vec<Issue>,
}

/// The forecast of the history in `source` (one LA, or every LA folder under a witan folder combined). A
/// population projection (witan.send's population.csv shape) replaces the history's population in its years.
pub fn forecast(
    source: &HistorySource,
    model: &ModelSettings,
    projection: &ProjectionOptions,
    population_projection: Option<&Path>,
) -> Result<Forecasted> {
    let started = std::time::Instant::now();
    let result = forecast_from(source, model, projection, population_projection);
    if let Ok(f) = &result {
        tracing::info!(
            "forecast: {} with the {:?} engine in {:.3} s",
            f.source,
            model.engine,
            started.elapsed().as_secs_f64()
        );
    }
    result
}

fn forecast_from(
    source: &HistorySource,
    model: &ModelSettings,
    projection: &ProjectionOptions,
    population_projection: Option<&Path>,
) -> Result<Forecasted> {
    let fit_opts = fit_options(model)?;
    let la_dirs = match &source.witan_dir {
        Some(dir) => la_folders(dir)?,
        None => None,
    };
    match (la_dirs, &source.witan_dir) {
        (Some(dirs), Some(parent)) => {
            if population_projection.is_some() {
                bail!(
                    "--population-projection is for one LA's forecast; {} holds {} LA folders (put each LA's \
                     projection in its own population.csv)",
                    parent.display(),
                    dirs.len()
                );
            }
            let mc = monte_carlo_options(model);
            let forecast = in_pool(model.threads, || {
                national_forecast(&dirs, model.engine, &fit_opts, projection, &mc)
            })??;
            Ok(Forecasted {
                forecast,
                source: format!("{} LAs in {}", dirs.len(), parent.display()),
                warnings: Vec::new(),
            })
        }
        _ => {
            let (mut history, label) = load_history(source)?;
            let (note, warnings) = match population_projection {
                Some(file) => {
                    let (note, warnings) = add_projection(&mut history, file)?;
                    (Some(note), warnings)
                }
                None => (None, Vec::new()),
            };
            Ok(Forecasted {
                forecast: project_noted(&history, model, projection, note)?,
                source: label,
                warnings,
            })
        }
    }
}

/// Lay a population projection over the history's population: the projection's years replace the history's.
/// Returns a note for the forecast and the file's warnings; a file with errors is [`crate::Rejected`].
fn add_projection(history: &mut TransitionHistory, file: &Path) -> Result<(String, Vec<Issue>)> {
    let parsed = highneeds_ingest::read_population(file);
    let Some(rows) = parsed.value else {
        return Err(crate::Rejected {
            issues: parsed.issues,
            message: format!(
                "the population projection {} has errors (above): fix them and run again",
                file.display()
            ),
        }
        .into());
    };
    let years: std::collections::BTreeSet<_> = rows.iter().map(|p| p.census_year).collect();
    history
        .population
        .retain(|p| !years.contains(&p.census_year));
    history.population.extend(rows);
    let span = match (years.first(), years.last()) {
        (Some(a), Some(b)) => format!("{a}-{b}"),
        _ => "no years".into(),
    };
    Ok((
        format!("population {span} from the projection {}", file.display()),
        parsed.issues,
    ))
}

/// Refuse to show a forecast with a cost beyond what pence can count (it would print as £0), naming the year.
pub fn refuse_unrepresentable(f: &Forecast) -> Result<()> {
    let years = f
        .financial_years
        .iter()
        .chain(&f.place_funding)
        .chain(&f.top_up);
    if let Some(y) = years.into_iter().find(|y| y.beyond_pence) {
        bail!(
            "the cost in {} is beyond what can be counted in pence (about £90 trillion), so it cannot be shown: \
             check the unit costs (pounds a year per plan) and --uplift",
            y.financial_year
        );
    }
    Ok(())
}

/// Whether `dir` holds witan.send's transitions file itself.
fn has_transitions(dir: &Path) -> bool {
    dir.join("transitions.csv").is_file() || dir.join("transitions.xlsx").is_file()
}

/// The LA sub-folders of a parent folder, sorted by name, or `None` when `dir` is one LA's folder (or has no
/// LA sub-folders, so the single-LA reader reports what is missing).
fn la_folders(dir: &Path) -> Result<Option<Vec<PathBuf>>> {
    if has_transitions(dir) || !dir.is_dir() {
        return Ok(None);
    }
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("could not list {}", dir.display()))?;
    let mut dirs = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("could not list {}", dir.display()))?
            .path();
        if path.is_dir() && has_transitions(&path) {
            dirs.push(path);
        }
    }
    if dirs.is_empty() {
        return Ok(None);
    }
    dirs.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(Some(dirs))
}

/// Run `f` in a pool of `threads` workers (all cores when `None`).
fn in_pool<T: Send>(threads: Option<usize>, f: impl FnOnce() -> T + Send) -> Result<T> {
    match threads {
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n.max(1))
                .build()
                .context("could not start the worker threads")?;
            Ok(pool.install(f))
        }
        None => Ok(f()),
    }
}

/// Read and fit one LA's folder.
fn fit_la(dir: &Path, fit_opts: &FitOptions) -> Result<highneeds_model::Parameters> {
    let source = HistorySource {
        db: None,
        la: None,
        witan_dir: Some(dir.to_path_buf()),
    };
    let (history, _) = load_history(&source)?;
    fit(&history, fit_opts).with_context(|| format!("cannot forecast {}", dir.display()))
}

/// One forecast for every LA folder together. LAs are read, fitted and projected in parallel; Monte-Carlo
/// sums are exact integers, so the result does not depend on which thread finishes first.
fn national_forecast(
    dirs: &[PathBuf],
    engine: Engine,
    fit_opts: &FitOptions,
    projection: &ProjectionOptions,
    mc: &MonteCarloOptions,
) -> Result<Forecast> {
    let inner = MonteCarloOptions {
        threads: None,
        ..mc.clone()
    };
    match engine {
        Engine::Analytic => {
            let las = dirs
                .par_iter()
                .map(|dir| {
                    let params = fit_la(dir, fit_opts)?;
                    Ok(national::analytic_la(&params, projection))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(national::combine_analytic(&las, projection)?)
        }
        Engine::MonteCarlo => {
            let empty = || MonteCarloSums::new(projection, &inner);
            let sums = dirs
                .par_iter()
                .enumerate()
                .try_fold(empty, |mut sums, (position, dir)| -> Result<_> {
                    let params = fit_la(dir, fit_opts)?;
                    let position = u32::try_from(position)
                        .map_err(|_| anyhow!("too many LA folders in one national forecast"))?;
                    sums.add_la(position, &params)
                        .with_context(|| format!("cannot combine {}", dir.display()))?;
                    Ok(sums)
                })
                .try_reduce_with(|a, b| Ok(a.merge(b)?))
                .ok_or_else(|| anyhow!("no LA folders to forecast"))??;
            Ok(sums.finish()?)
        }
    }
}

/// The aggregate fallback (counts per census only): the file's issues, and the forecast if it has no error.
pub fn aggregate(
    path: &Path,
    years: u32,
    damping: f64,
    quantiles: &[f64],
) -> Result<(
    Vec<highneeds_ingest::Issue>,
    highneeds_model::aggregate::AggregateForecast,
)> {
    let parsed = highneeds_ingest::read_totals(path);
    let Some(totals) = parsed.value else {
        return Err(crate::Rejected {
            issues: parsed.issues,
            message: format!("{} has errors: fix them and run again", path.display()),
        }
        .into());
    };
    let f = highneeds_model::aggregate::project(&totals, years, damping, quantiles)?;
    Ok((parsed.issues, f))
}

/// The shipped setting map, with the LA's own file (same `source,label,setting` shape) laid over it.
pub fn setting_map(file: Option<&Path>) -> Result<SettingMap> {
    let mut map = SettingMap::shipped();
    if let Some(path) = file {
        if let Err(rule) = highneeds_ingest::check_regular_file(path) {
            bail!("the setting map {} {rule}", path.display());
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read the setting map {}", path.display()))?;
        let lines = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .count();
        if lines <= 1 {
            bail!(
                "the setting map {} maps nothing (no source,label,setting lines after its header): give the LA's \
                 mappings, e.g. la,B,mainstream, or leave --setting-map out",
                path.display()
            );
        }
        map.overlay(&text).map_err(|e| {
            anyhow!(
                "{}:{}: {} (expected lines source,label,setting, e.g. la,B,mainstream)",
                path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned()
                ),
                e.line,
                e.message
            )
        })?;
    }
    Ok(map)
}
