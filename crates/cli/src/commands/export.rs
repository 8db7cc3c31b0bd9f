//! `highneeds export`: the stored data, written in the formats `import` reads (so a database round-trips).

use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use highneeds_store::Store;

use crate::args::{ExportArgs, ExportKind};
use crate::commands::{only_la, runtime};

pub fn run(args: ExportArgs) -> Result<ExitCode> {
    if !args.db.exists() {
        bail!("database {} does not exist", args.db.display());
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("could not create {}", args.out.display()))?;
    let rt = runtime()?;
    let written = rt.block_on(async {
        let db = Store::open(&args.db).await?;
        let la = match &args.la {
            Some(la) => la.clone(),
            None => only_la(&db, &args.db).await?,
        };
        let written = match args.kind {
            ExportKind::Witan => {
                let history = db
                    .load_history(&la)
                    .await?
                    .ok_or_else(|| anyhow!("LA {la} has no transition data to export"))?;
                highneeds_ingest::write::write_witan_dir(&history, &args.out)?;
                "transitions.csv, population.csv, costs.csv, valid-states.csv"
            }
            ExportKind::Plans => {
                let plans = db.load_plans(&la).await?;
                if plans.is_empty() {
                    bail!("LA {la} has no person-level plans to export");
                }
                highneeds_ingest::write::write_plans(&plans, &args.out.join("plans.csv"))?;
                "plans.csv"
            }
            ExportKind::Budget => {
                let lines = db.load_budget(&la).await?;
                if lines.is_empty() {
                    bail!("LA {la} has no budget lines to export");
                }
                highneeds_ingest::write::write_budget(&lines, &args.out.join("hnb-budget.csv"))?;
                "hnb-budget.csv"
            }
        };
        db.close().await;
        anyhow::Ok(written)
    })?;
    println!("wrote {written} to {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}
