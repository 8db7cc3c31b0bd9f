//! `highneeds forecast`: checks the options, runs `highneeds_usecases::forecast` and prints it.
//!
//! `--witan-dir` may also be a parent folder with one witan.send folder per LA (what `highneeds synth --las N`
//! writes): one national forecast, in the same output formats.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Result};
use highneeds_model::ProjectionOptions;
use highneeds_usecases::forecast::setting_map;
use highneeds_usecases::report::text;

use crate::args::{EngineArg, ForecastArgs, Format};
use crate::commands::{history_source, model_settings, print_issues, print_rejected};
use crate::output;
use crate::output::workbook;

pub fn run(args: ForecastArgs) -> Result<ExitCode> {
    workbook::check(&args.workbook, args.format == Format::Xlsx)?;
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
            &args.workbook,
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
    let done = highneeds_usecases::forecast::forecast(
        &history_source(&args.source),
        &model_settings(&args.model),
        &projection,
        args.population_projection.as_deref(),
    )
    .map_err(print_rejected)?;
    print_issues(&done.warnings);
    let (forecast, source) = (done.forecast, done.source);
    highneeds_usecases::forecast::refuse_unrepresentable(&forecast)?;
    let text = match args.format {
        Format::Json => output::forecast_json(&forecast, &map),
        Format::Csv => output::forecast_csv(&forecast),
        Format::Table => text::render(&output::forecast_report(&forecast, &source, &map)),
        Format::Xlsx => {
            let mut report = output::forecast_report(&forecast, &source, &map);
            report.inputs = inputs(&args, &source);
            workbook::write(&args.workbook, report)?;
            return Ok(ExitCode::SUCCESS);
        }
    };
    println!("{}", text.trim_end());
    Ok(ExitCode::SUCCESS)
}

/// The aggregate fallback: counts per census only.
fn aggregate_forecast(path: &Path, args: &ForecastArgs) -> Result<ExitCode> {
    let projection = ProjectionOptions {
        years: args.years,
        cost_uplift: 0.0,
        quantiles: args.quantiles.clone(),
    };
    let damping = if args.model.stationary {
        0.0
    } else {
        args.model
            .damping
            .unwrap_or(highneeds_usecases::history::TOTALS_DAMPING)
    };
    let (issues, f) = highneeds_usecases::forecast::aggregate(
        path,
        args.years,
        damping,
        &projection.all_quantiles(),
    )
    .map_err(print_rejected)?;
    print_issues(&issues);
    let source = path.display().to_string();
    let text = match args.format {
        Format::Json => output::aggregate_json(&f),
        Format::Csv => output::aggregate_csv(&f),
        Format::Table => text::render(&output::aggregate_report(&f, &source)),
        Format::Xlsx => {
            let mut report = output::aggregate_report(&f, &source);
            report.inputs = vec![
                ("totals".into(), source),
                ("years".into(), args.years.to_string()),
                ("damping".into(), damping.to_string()),
            ];
            workbook::write(&args.workbook, report)?;
            return Ok(ExitCode::SUCCESS);
        }
    };
    println!("{}", text.trim_end());
    Ok(ExitCode::SUCCESS)
}

/// The run's inputs, for the workbook's contents sheet.
fn inputs(args: &ForecastArgs, source: &str) -> Vec<(String, String)> {
    let m = &args.model;
    let mut out: Vec<(String, String)> = vec![
        ("source".into(), source.to_string()),
        ("years".into(), args.years.to_string()),
        (
            "engine".into(),
            match m.engine {
                EngineArg::Analytic => "analytic",
                EngineArg::MonteCarlo => "monte-carlo",
            }
            .to_string(),
        ),
    ];
    if m.engine == EngineArg::MonteCarlo {
        out.push(("simulations".into(), m.sims.to_string()));
        out.push(("seed".into(), m.seed.to_string()));
    }
    out.push(("unit cost uplift a year".into(), args.uplift.to_string()));
    out.push((
        "joiner trend".into(),
        match (m.stationary, m.damping) {
            (true, _) => "constant (--stationary)".to_string(),
            (false, Some(d)) => format!("damping {d}"),
            (false, None) => "chosen from the history".to_string(),
        },
    ));
    out.push(("persistence sd".into(), m.persistence_sd.to_string()));
    out.push(("prior strength".into(), m.prior_strength.to_string()));
    if let Some(p) = &args.population_projection {
        out.push(("population projection".into(), p.display().to_string()));
    }
    if let Some(p) = &args.setting_map {
        out.push(("setting map".into(), p.display().to_string()));
    }
    out
}
