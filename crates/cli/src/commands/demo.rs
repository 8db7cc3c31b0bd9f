//! `highneeds demo`: build Exampleshire from nothing (`highneeds_usecases::demo`) and print what it holds.

use std::process::ExitCode;

use anyhow::Result;
use highneeds_domain::money::group_thousands;
use highneeds_usecases::demo::{build, EXAMPLESHIRE};
use serde_json::json;

use crate::args::{DemoArgs, PrintFormat};
use crate::commands::print_rejected;

pub fn run(args: DemoArgs) -> Result<ExitCode> {
    let (db_path, chosen) = highneeds_usecases::home::database(args.db.as_deref());
    highneeds_usecases::home::prepare_folder(&db_path, chosen)?;
    let demo = build(&db_path).map_err(print_rejected)?;
    if let Some(note) = &demo.key_note {
        eprintln!("{note}");
    }
    let last = demo.census_year;
    let total = demo.plans;
    let (by_setting, by_need, warnings) = (&demo.by_setting, &demo.by_need, &demo.warnings);
    let (forecast, rows, sen2_lines) = (&demo.forecast, &demo.ledger, &demo.sen2_lines);
    let (files_dir, sen2_dir) = (&demo.files_dir, &demo.sen2_dir);

    match args.format {
        PrintFormat::Json => {
            let doc = json!({
                "la": {"code": EXAMPLESHIRE, "name": demo.la_name},
                "database": db_path.display().to_string(),
                "files": files_dir.display().to_string(),
                "census_year": last.year(),
                "plans": total,
                "by_setting": by_setting,
                "by_need": by_need,
                "warnings": warnings,
                "sen2": sen2_lines,
                "forecast": forecast.census_years.iter().map(|c| json!({
                    "census_year": c.census_year.year(),
                    "mean": c.total.mean,
                    "p05": c.total.quantile(0.05),
                    "p95": c.total.quantile(0.95),
                })).collect::<Vec<_>>(),
                "ledger": rows.iter().map(|r| json!({
                    "financial_year": r.budget.financial_year.to_string(),
                    "income_pence": r.income.pence(),
                    "expenditure_pence": r.budget.expenditure.pence(),
                    "closing_pence": r.closing.pence(),
                })).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        PrintFormat::Table => {
            println!(
                "{} ({EXAMPLESHIRE}), a synthetic LA, built into {}",
                demo.la_name,
                db_path.display()
            );
            println!("files: {}\n", files_dir.display());
            println!(
                "EHC plans in January {last}: {}",
                group_thousands(i128::from(total))
            );
            println!("\nby setting:");
            for (k, v) in by_setting {
                println!(
                    "  {k:<28} {:>6} {:>5.1}%",
                    group_thousands(i128::from(*v)),
                    *v as f64 * 100.0 / total.max(1) as f64
                );
            }
            println!("\nby primary need:");
            for (k, v) in by_need {
                println!(
                    "  {k:<28} {:>6} {:>5.1}%",
                    group_thousands(i128::from(*v)),
                    *v as f64 * 100.0 / total.max(1) as f64
                );
            }
            println!("\nfrom the SEN2 returns ({}):", sen2_dir.display());
            for l in sen2_lines {
                println!("  {l}");
            }
            println!("\ndata-quality warnings: {}", warnings.len());
            for w in warnings {
                println!("  {w}");
            }
            println!("\nforecast (analytic engine, damped joiner trend):");
            for c in &forecast.census_years {
                println!(
                    "  January {}: {:>6} plans (90% interval {} – {})",
                    c.census_year,
                    group_thousands(c.total.mean.round() as i128),
                    group_thousands(c.total.quantile(0.05).unwrap_or(0.0).round() as i128),
                    group_thousands(c.total.quantile(0.95).unwrap_or(0.0).round() as i128)
                );
            }
            println!("\nDSG high needs ledger (from hnb-budget.csv):");
            for r in rows {
                println!(
                    "  {}: income {:>9}, spend {:>9}, in-year {:>9}, closing {:>9}",
                    r.budget.financial_year,
                    r.income.to_millions_string(),
                    r.budget.expenditure.to_millions_string(),
                    r.in_year.to_millions_string(),
                    r.closing.to_millions_string()
                );
            }
            println!(
                "\nnext: highneeds forecast --db {} --format table",
                db_path.display()
            );
        }
    }
    if args.no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    serve(&db_path, args.bind)
}

/// Serve the demo's database with a one-time password for `admin`, printing where.
fn serve(db: &std::path::Path, bind: std::net::SocketAddr) -> Result<ExitCode> {
    highneeds_web::runtime()?.block_on(async {
        let state = highneeds_web::state(db, Some(EXAMPLESHIRE), 5).await?;
        let password = highneeds_web::accounts::demo_admin(&state.store, EXAMPLESHIRE).await?;
        highneeds_web::serve_state(state, bind, true, |addr| {
            println!("\ndashboard: http://{addr}/");
            println!("sign in as admin with password {password} (made for this run; shown once)");
            println!("public view: http://{addr}/public   API: http://{addr}/api/v1/openapi.json");
            println!("(Ctrl-C stops the server)");
        })
        .await
    })?;
    // The server stops only on Ctrl-C (gracefully).
    Ok(ExitCode::from(crate::exit::INTERRUPTED))
}
