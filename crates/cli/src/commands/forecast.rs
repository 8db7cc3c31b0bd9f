//! `highneeds forecast`.
//!
//! `--witan-dir` may also be a parent folder with one witan.send folder per LA (what `highneeds synth --las N`
//! writes): each LA is fitted and projected on its own and the results are combined into one national
//! forecast (`highneeds_model::national`), in the same output formats.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use highneeds_model::national::{self, MonteCarloSums};
use highneeds_model::{
    analytic, fit, monte_carlo, FitOptions, Forecast, MonteCarloOptions, ProjectionOptions,
};
use rayon::prelude::*;

use crate::args::{EngineArg, ForecastArgs, Format, HistorySource};
use crate::commands::{fit_options, load_history};
use crate::output;

pub fn run(args: ForecastArgs) -> Result<ExitCode> {
    if args.years == 0 || args.years > 25 {
        bail!("--years must be between 1 and 25, not {}", args.years);
    }
    if args.model.sims == 0 || args.model.sims > 1_000_000 {
        bail!(
            "--sims must be between 1 and 1,000,000, not {}",
            args.model.sims
        );
    }
    if let Some(q) = args.quantiles.iter().find(|q| !(**q > 0.0 && **q < 1.0)) {
        bail!("--quantiles must be strictly between 0 and 1, not {q}");
    }
    // Every simulation's yearly figures are kept until summarised: bound that memory (about 40 columns × 8 bytes).
    if u64::from(args.model.sims) * u64::from(args.years) > 2_500_000 {
        bail!(
            "--sims × --years must be at most 2,500,000 (asked {} × {}): use fewer simulations for long horizons",
            args.model.sims,
            args.years
        );
    }
    if !(args.uplift > -1.0 && args.uplift.is_finite()) {
        bail!(
            "--uplift must be a yearly rate above -1 (0.03 = 3 %), not {}",
            args.uplift
        );
    }
    if let Some(dir) = &args.published.published {
        // The all-LA model gives a mean and an 80 % interval (p10, p90) per LA: say so rather than ignore options.
        if !args.quantiles.is_empty() || args.setting_map.is_some() {
            bail!(
                "--published forecasts every LA's plans with p10 and p90 only: --quantiles and --setting-map do not \
                 apply to it"
            );
        }
        return crate::commands::published::forecast(
            dir,
            args.published.origin,
            args.years,
            args.format,
        );
    }
    if let Some(path) = &args.totals.totals {
        return aggregate_forecast(path, &args);
    }
    let map = setting_map(args.setting_map.as_deref())?;
    let projection = ProjectionOptions {
        years: args.years,
        cost_uplift: args.uplift,
        quantiles: args.quantiles.clone(),
    };
    let mc = MonteCarloOptions {
        sims: args.model.sims,
        seed: args.model.seed,
        threads: args.model.threads,
    };
    let fit_opts = fit_options(&args.model)?;
    let la_dirs = match &args.source.witan_dir {
        Some(dir) => la_folders(dir)?,
        None => None,
    };
    let (forecast, source) = match (la_dirs, &args.source.witan_dir) {
        (Some(dirs), Some(parent)) => {
            if args.population_projection.is_some() {
                bail!(
                    "--population-projection is for one LA's forecast; {} holds {} LA folders (put each LA's \
                     projection in its own population.csv)",
                    parent.display(),
                    dirs.len()
                );
            }
            let forecast = in_pool(args.model.threads, || {
                national_forecast(&dirs, args.model.engine, &fit_opts, &projection, &mc)
            })??;
            (
                forecast,
                format!("{} LAs in {}", dirs.len(), parent.display()),
            )
        }
        _ => {
            let (mut history, source) = load_history(&args.source)?;
            let projected = match &args.population_projection {
                Some(file) => Some(add_projection(&mut history, file)?),
                None => None,
            };
            let mut params = fit(&history, &fit_opts)?;
            if let Some(note) = projected {
                params.notes.push(note);
            }
            if params.base_census.year() + args.years as i32 > 2100 {
                bail!(
                    "the forecast would run past 2100 (base census {}, --years {})",
                    params.base_census,
                    args.years
                );
            }
            let forecast = in_pool(args.model.threads, || match args.model.engine {
                EngineArg::Analytic => analytic::project(&params, &projection),
                EngineArg::MonteCarlo => monte_carlo::project(&params, &projection, &mc),
            })?;
            (forecast, source)
        }
    };
    refuse_unrepresentable(&forecast)?;
    let text = match args.format {
        Format::Json => output::forecast_json(&forecast, &map),
        Format::Csv => output::forecast_csv(&forecast),
        Format::Table => output::forecast_table(&forecast, &source, &map),
    };
    println!("{}", text.trim_end());
    Ok(ExitCode::SUCCESS)
}

/// Refuse to show a forecast with a cost beyond what pence can count (it would print as £0), naming the year.
fn refuse_unrepresentable(f: &highneeds_model::Forecast) -> Result<()> {
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

/// Lay a population projection over the history's population: the projection's years replace the history's.
/// Returns a note for the forecast.
fn add_projection(
    history: &mut highneeds_domain::TransitionHistory,
    file: &Path,
) -> Result<String> {
    let parsed = highneeds_ingest::read_population(file);
    crate::commands::print_issues(&parsed.issues);
    let Some(rows) = parsed.value else {
        bail!(
            "the population projection {} has errors (above): fix them and run again",
            file.display()
        );
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
    Ok(format!(
        "population {span} from the projection {}",
        file.display()
    ))
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
    engine: EngineArg,
    fit_opts: &FitOptions,
    projection: &ProjectionOptions,
    mc: &MonteCarloOptions,
) -> Result<Forecast> {
    let inner = MonteCarloOptions {
        threads: None,
        ..mc.clone()
    };
    match engine {
        EngineArg::Analytic => {
            let las = dirs
                .par_iter()
                .map(|dir| {
                    let params = fit_la(dir, fit_opts)?;
                    Ok(national::analytic_la(&params, projection))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(national::combine_analytic(&las, projection)?)
        }
        EngineArg::MonteCarlo => {
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

/// The aggregate fallback: counts per census only.
fn aggregate_forecast(path: &Path, args: &ForecastArgs) -> Result<ExitCode> {
    let parsed = highneeds_ingest::read_totals(path);
    crate::commands::print_issues(&parsed.issues);
    let Some(totals) = parsed.value else {
        bail!("{} has errors: fix them and run again", path.display());
    };
    let projection = ProjectionOptions {
        years: args.years,
        cost_uplift: 0.0,
        quantiles: args.quantiles.clone(),
    };
    let damping = if args.model.stationary {
        0.0
    } else {
        args.model.damping.unwrap_or(0.2)
    };
    let f = highneeds_model::aggregate::project(
        &totals,
        args.years,
        damping,
        &projection.all_quantiles(),
    )?;
    let text = match args.format {
        Format::Json => output::aggregate_json(&f),
        Format::Csv => output::aggregate_csv(&f),
        Format::Table => output::aggregate_table(&f, &path.display().to_string()),
    };
    println!("{}", text.trim_end());
    Ok(ExitCode::SUCCESS)
}

/// The shipped setting map, with the LA's own file (same `source,label,setting` shape) laid over it.
fn setting_map(file: Option<&Path>) -> Result<highneeds_domain::SettingMap> {
    let mut map = highneeds_domain::SettingMap::shipped();
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
