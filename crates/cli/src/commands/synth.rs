//! `highneeds synth`.

use std::process::ExitCode;

use anyhow::{bail, Result};
use highneeds_domain::CensusYear;
use highneeds_synth::{generate_la, la_sizes, SynthConfig};
pub use highneeds_usecases::synth::write_la;

use crate::args::SynthArgs;
use crate::progress;

pub fn config(args: &SynthArgs) -> Result<SynthConfig> {
    if args.plans == 0 {
        bail!("--plans must be at least 1");
    }
    if args.las == 0 || args.las > args.plans {
        bail!(
            "--las must be between 1 and the number of plans ({}), not {}",
            args.plans,
            args.las
        );
    }
    if args.censuses < 8 || args.censuses > 30 {
        bail!("--censuses must be between 8 and 30, not {}", args.censuses);
    }
    Ok(SynthConfig {
        plans: args.plans,
        seed: args.seed,
        las: args.las,
        censuses: args.censuses,
        last_census: CensusYear::new(args.last_census)?,
    })
}

pub fn run(args: SynthArgs) -> Result<ExitCode> {
    let config = config(&args)?;
    let sizes = la_sizes(&config);
    let bar = progress::bar(u64::from(config.las), "synthesising");
    let mut total = 0u64;
    for i in 0..config.las {
        let la = generate_la(&config, i);
        let dir = if config.las == 1 {
            args.out.clone()
        } else {
            args.out.join(&la.code)
        };
        write_la(&la, &dir)?;
        let sen2 = args
            .sen2_returns
            .unwrap_or(if config.las == 1 { 3 } else { 0 });
        highneeds_usecases::sen2::write_synthetic(&la, sen2, config.seed, &dir.join("sen2"))?;
        total += la
            .histories
            .iter()
            .filter(|h| h.at(config.last_census).is_some())
            .count() as u64;
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!(
        "wrote {} LA{} to {}: {} plans in January {} (asked {}; sizes {}…)",
        config.las,
        if config.las == 1 { "" } else { "s" },
        args.out.display(),
        total,
        config.last_census,
        config.plans,
        sizes
            .iter()
            .take(5)
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(ExitCode::SUCCESS)
}
