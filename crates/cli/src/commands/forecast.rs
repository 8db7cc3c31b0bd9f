//! `highneeds forecast`.

use std::process::ExitCode;

use anyhow::{bail, Result};
use highneeds_model::{analytic, fit, monte_carlo, MonteCarloOptions, ProjectionOptions};

use crate::args::{EngineArg, ForecastArgs, Format};
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
    if let Some(q) = args.quantiles.iter().find(|q| !(0.0..=1.0).contains(*q)) {
        bail!("--quantiles must be between 0 and 1, not {q}");
    }
    if !(args.uplift > -1.0 && args.uplift.is_finite()) {
        bail!(
            "--uplift must be a yearly rate above -1 (0.03 = 3 %), not {}",
            args.uplift
        );
    }
    let (history, source) = load_history(&args.source)?;
    let params = fit(&history, &fit_options(&args.model)?)?;
    let projection = ProjectionOptions {
        years: args.years,
        cost_uplift: args.uplift,
        quantiles: args.quantiles.clone(),
    };
    let forecast = match args.model.engine {
        EngineArg::Analytic => analytic::project(&params, &projection),
        EngineArg::MonteCarlo => monte_carlo::project(
            &params,
            &projection,
            &MonteCarloOptions {
                sims: args.model.sims,
                seed: args.model.seed,
                threads: args.model.threads,
            },
        ),
    };
    let text = match args.format {
        Format::Json => output::forecast_json(&forecast),
        Format::Csv => output::forecast_csv(&forecast),
        Format::Table => output::forecast_table(&forecast, &source),
    };
    println!("{}", text.trim_end());
    Ok(ExitCode::SUCCESS)
}
