//! `highneeds diagnose`: where an LA's plans (and, with its budget, spend) grow and why, from the published
//! statistics. The table is laid out for a Schools Forum paper; the JSON carries the same content.

use std::process::ExitCode;

use anyhow::{bail, Result};
use highneeds_domain::Measure;
use highneeds_model::diagnose::{add_person_level, diagnose};

use highneeds_usecases::diagnose::{report, table, to_json};

use crate::args::{DiagnoseArgs, ReportFormat};
use crate::commands::published::{la_code, lifetime_note, load};
use crate::commands::{print_issues, REJECTED};
use crate::output::workbook;

pub fn run(args: DiagnoseArgs) -> Result<ExitCode> {
    workbook::check(&args.workbook, args.format == ReportFormat::Xlsx)?;
    let (stats, current) = load(&args.published)?;
    let la = la_code(&args.la, &current)?;
    let years = current.years(la, Measure::Plans);
    let latest = years.last().copied().unwrap_or(0);
    let to = args.to.unwrap_or(latest);
    let from = args.from.unwrap_or(to - 5);
    let budget = match &args.budget {
        Some(path) => {
            let parsed = highneeds_ingest::read_budget(path);
            print_issues(&parsed.issues);
            match parsed.value {
                Some(lines) => Some(lines),
                None => {
                    eprintln!(
                        "{} has errors: fix them (see above) and run again",
                        path.display()
                    );
                    return Ok(ExitCode::from(REJECTED));
                }
            }
        }
        None => None,
    };
    let mut d = match diagnose(&current, la, from, to, budget.as_deref()) {
        Ok(d) => d,
        Err(e) => bail!("{e}"),
    };
    if let Some(dir) = &args.witan_dir {
        let source = crate::args::HistorySource {
            db: None,
            la: None,
            witan_dir: Some(dir.clone()),
        };
        let (history, _) = crate::commands::load_history(&source)?;
        add_person_level(&mut d, &history);
    }
    if let Some(n) = lifetime_note(la) {
        d.notes.push(n);
    }
    let name = stats.name(la).unwrap_or("").to_string();
    match args.format {
        ReportFormat::Table => print!("{}", table(&d, &name)),
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&to_json(&d, &name))?),
        ReportFormat::Xlsx => {
            let mut r = report(&d, &name);
            r.input("LA", format!("{la} {name}"));
            r.input("published statistics", args.published.display());
            r.input("from census", from);
            r.input("to census", to);
            if let Some(b) = &args.budget {
                r.input("budget file", b.display());
            }
            if let Some(w) = &args.witan_dir {
                r.input("person-level history", w.display());
            }
            workbook::write(&args.workbook, r)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
