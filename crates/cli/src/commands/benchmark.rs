//! `highneeds benchmark`: an LA against its statistical neighbours and England on published indicators.

use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use highneeds_domain::Measure;
use highneeds_model::benchmark::benchmark;

use highneeds_usecases::benchmark::{report, table, to_json};

use crate::args::{BenchmarkArgs, ReportFormat};
use crate::commands::published::{la_code, load};
use crate::output::workbook;

pub fn run(args: BenchmarkArgs) -> Result<ExitCode> {
    workbook::check(&args.workbook, args.format == ReportFormat::Xlsx)?;
    let (stats, current) = load(&args.published)?;
    let la = la_code(&args.la, &current)?;
    let year = match args.year {
        Some(y) => y,
        None => current
            .years(la, Measure::Plans)
            .last()
            .copied()
            .ok_or_else(|| anyhow!("LA {la} has no published plans"))?,
    };
    if args.count == 0 || args.count > 50 {
        bail!("--count must be between 1 and 50, not {}", args.count);
    }
    let mut given = Vec::new();
    for code in args.neighbours.iter().filter(|c| !c.trim().is_empty()) {
        let n = la_code(code, &current).map_err(|e| anyhow!("--neighbours: {e}"))?;
        if n == la {
            bail!("--neighbours: {n} is the LA itself");
        }
        if !given.contains(&n) {
            given.push(n);
        }
    }
    let b = benchmark(&current, la, year, &given, args.count).map_err(|e| anyhow!("{e}"))?;
    match args.format {
        ReportFormat::Table => print!("{}", table(&b, &stats)),
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&to_json(&b, &stats))?),
        ReportFormat::Xlsx => {
            let mut r = report(&b, &stats);
            r.input("LA", format!("{la} {}", stats.name(la).unwrap_or("")));
            r.input("published statistics", args.published.display());
            r.input("census", year);
            r.input(
                "neighbours",
                if given.is_empty() {
                    format!("the {} nearest", args.count)
                } else {
                    given
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            );
            workbook::write(&args.workbook, r)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
