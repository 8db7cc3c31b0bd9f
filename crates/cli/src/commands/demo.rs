//! `highneeds demo`: build Exampleshire from nothing (`highneeds_usecases::demo`) and print what it holds.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Result;
use highneeds_domain::money::group_thousands;
use highneeds_model::ledger::LedgerRow;
use highneeds_usecases::demo::{build, EXAMPLESHIRE};
use highneeds_usecases::report::{text, Kind, Table};
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
            println!();
            print!(
                "{}",
                text::table(&shares("Plans by setting", "setting", by_setting, total))
            );
            println!();
            print!(
                "{}",
                text::table(&shares("Plans by primary need", "need", by_need, total))
            );
            println!("\nfrom the SEN2 returns ({}):", sen2_dir.display());
            for l in sen2_lines {
                println!("  {l}");
            }
            println!("\ndata-quality warnings: {}", warnings.len());
            for w in warnings {
                println!("  {w}");
            }
            println!();
            print!("{}", text::table(&forecast_table(forecast)));
            println!();
            print!("{}", text::table(&ledger_table(rows)));
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

/// Plans by one breakdown at the last census, with each one's share of all plans.
fn shares(title: &str, key: &str, counts: &BTreeMap<String, u64>, total: u64) -> Table {
    let mut t = Table::new(title, title)
        .column(key, Kind::Text)
        .column("plans", Kind::Count)
        .column("share", Kind::Percent);
    for (k, v) in counts {
        let share = (total > 0).then(|| *v as f64 / total as f64);
        t.push(vec![k.as_str().into(), (*v).into(), share.into()]);
    }
    t
}

fn forecast_table(f: &highneeds_model::Forecast) -> Table {
    let mut t = crate::output::plans_at_censuses(
        "Forecast",
        "Forecast (analytic engine, damped joiner trend): plans at each January census",
    );
    for c in &f.census_years {
        t.push(vec![
            c.census_year.year().into(),
            c.total.mean.into(),
            c.total.quantile(0.05).into(),
            c.total.quantile(0.95).into(),
        ]);
    }
    t
}

fn ledger_table(rows: &[LedgerRow]) -> Table {
    let mut t = Table::new("DSG ledger", "DSG high needs ledger (from hnb-budget.csv)")
        .column("FY", Kind::Text)
        .column("income", Kind::MoneyMillions)
        .column("spend", Kind::MoneyMillions)
        .column("in-year", Kind::MoneyMillions)
        .column("closing", Kind::MoneyMillions);
    for r in rows {
        t.push(vec![
            r.budget.financial_year.to_string().into(),
            r.income.into(),
            r.budget.expenditure.into(),
            r.in_year.into(),
            r.closing.into(),
        ]);
    }
    t
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
