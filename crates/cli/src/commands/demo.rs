//! `highneeds demo`: build Exampleshire from nothing, through the same files and imports an LA would use.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use highneeds_domain::money::group_thousands;
use highneeds_domain::{CensusYear, Pence};
use highneeds_ingest::scenario::read_scenario_toml;
use highneeds_model::ledger::{budget_by_year, ledger};
use highneeds_model::{analytic, fit, FitOptions, ProjectionOptions};
use highneeds_store::{LaRef, Store};
use highneeds_synth::{generate_la, SynthConfig};
use serde_json::json;

use crate::args::{DemoArgs, ImportKind, ReportFormat};
use crate::commands::import::{imported_files, read, store, user_name};
use crate::commands::{runtime, sen2, synth};

/// Exampleshire's code: not a real ONS code (no E99 LAs exist).
pub const EXAMPLESHIRE: &str = "E99999999";

/// Where the demo keeps its files: $XDG_DATA_HOME/highneeds, ~/.local/share/highneeds, or the temp folder.
fn data_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("highneeds")
}

pub fn run(args: DemoArgs) -> Result<ExitCode> {
    let db_path = match &args.db {
        Some(p) => p.clone(),
        None => data_dir().join("highneeds.db"),
    };
    let files_dir = db_path
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p.to_path_buf()
            }
        })
        .unwrap_or_else(|| PathBuf::from("."))
        .join("exampleshire");
    let config = SynthConfig {
        plans: 2150,
        seed: 7,
        las: 1,
        censuses: 10,
        last_census: CensusYear::new(2024)?,
    };
    let la = generate_la(&config, 0);
    synth::write_la(&la, &files_dir)?;
    // Exampleshire's SEN2 returns for its last three censuses, read back through `import sen2`'s path. The demo's
    // key lives beside the synthetic files (an LA keeps its own key in its configuration folder).
    let sen2_dir = files_dir.join("sen2");
    let sen2_paths = sen2::write_synthetic(&la, 3, config.seed, &sen2_dir)?;
    let mut key = sen2::load_key(&sen2_dir.join("exampleshire.sen2-key"))?;
    let (sen2_parsed, register) = sen2::read_returns(
        &sen2_paths,
        Some(&sen2_dir.join("establishments.csv")),
        &key.keyer,
    );
    if sen2_parsed.has_errors() {
        for e in sen2_parsed.errors() {
            eprintln!("{e}");
        }
        bail!("the demo's SEN2 returns did not validate (a bug: please report it)");
    }
    let Some(sen2_read) = sen2_parsed.value else {
        bail!("the demo's SEN2 returns could not be read (a bug: please report it)");
    };
    let sen2_names: Vec<String> = sen2_read
        .files
        .iter()
        .map(|f| f.file_name.clone())
        .collect();
    let derived = sen2::derive(
        &sen2_read.returns,
        &sen2_names,
        &register,
        &highneeds_domain::SettingMap::shipped(),
    );

    // Read the files back exactly as an LA's files are read, then import them.
    let la_ref = LaRef {
        code: EXAMPLESHIRE.to_string(),
        name: la.name.clone(),
    };
    let user = user_name(None);
    let mut warnings = Vec::new();
    let mut readied = Vec::new();
    for (kind, path) in [
        (ImportKind::Witan, files_dir.clone()),
        (ImportKind::Plans, files_dir.join("plans.csv")),
        (ImportKind::Budget, files_dir.join("hnb-budget.csv")),
    ] {
        let parsed = read(kind, &[path])?;
        if parsed.has_errors() {
            for e in parsed.errors() {
                eprintln!("{e}");
            }
            bail!("the demo files did not validate (a bug: please report it)");
        }
        warnings.extend(parsed.warnings().map(ToString::to_string));
        let files = imported_files(kind, &parsed.sources);
        if let Some(v) = parsed.value {
            readied.push((v, files));
        }
    }
    if let Some(dir) = db_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create {}", dir.display()))?;
    }
    let rt = runtime()?;
    key.save()?;
    let (plans, budget, history, sen2_summaries) = rt.block_on(async {
        let db = Store::open(&db_path).await?;
        // A second demo finds its own imports as the LA's latest four (witan set, plans, budget, SEN2 returns)
        // and changes nothing; otherwise each import runs (the store re-imports anything not its kind's latest).
        let mut wanted: Vec<&[highneeds_store::ImportedFile]> =
            readied.iter().map(|(_, files)| files.as_slice()).collect();
        wanted.push(&sen2_read.files);
        let log = db.import_log(Some(EXAMPLESHIRE)).await?;
        let summaries = if latest_imports_are(&log, &wanted) {
            sen2::transition_summaries(&db, &la_ref, &derived).await?
        } else {
            for (v, files) in &readied {
                store(&db, &la_ref, v, files, &user).await?;
            }
            sen2::store_returns(
                &db,
                &la_ref,
                &derived,
                &sen2_read.files,
                &user,
                Some(key.keyer.fingerprint()),
            )
            .await?
            .1
        };
        let plans = db.load_plans(EXAMPLESHIRE).await?;
        let budget = db.load_budget(EXAMPLESHIRE).await?;
        let history = db.require_history(EXAMPLESHIRE).await?;
        // The worked DBV example is there from the first run (a new version only if the shipped file changed).
        let example = crate::commands::scenario::EXAMPLE;
        if let Some(s) = read_scenario_toml("exampleshire-dbv-stockton.toml", example, None).value {
            let versions = db.scenario_versions(EXAMPLESHIRE, &s.name).await?;
            if versions.last().is_none_or(|v| v.body != example) {
                db.save_scenario(EXAMPLESHIRE, &s.name, example, &user)
                    .await?;
            }
        }
        db.close().await;
        anyhow::Ok((plans, budget, history, summaries))
    })?;
    let sen2_lines = sen2::summary_lines(&derived.censuses, &derived.flows, &sen2_summaries);
    warnings.extend(derived.warnings.iter().map(ToString::to_string));

    // Plans at the last census by setting and need.
    let last = config.last_census;
    let mut by_setting: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_need: BTreeMap<String, u64> = BTreeMap::new();
    let mut total = 0u64;
    for h in &plans {
        if let Some(r) = h.at(last) {
            total += 1;
            *by_setting.entry(r.state.setting.to_string()).or_default() += 1;
            *by_need.entry(r.state.need.to_string()).or_default() += 1;
        }
    }
    // The forecast runs on the stored history: witan.send transitions up to 2022, then the transitions derived
    // from the SEN2 returns (2022 → 2023 → 2024), with the witan set's population and costs.
    let params = fit(&history, &FitOptions::default())?;
    let forecast = analytic::project(&params, &ProjectionOptions::default());
    let (opening, years) = budget_by_year(&budget);
    let rows = ledger(opening.unwrap_or(Pence::ZERO), &years);

    match args.format {
        ReportFormat::Json => {
            let doc = json!({
                "la": {"code": EXAMPLESHIRE, "name": la.name},
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
        ReportFormat::Table => {
            println!(
                "{} ({EXAMPLESHIRE}), a synthetic LA, built into {}",
                la.name,
                db_path.display()
            );
            println!("files: {}\n", files_dir.display());
            println!(
                "EHC plans in January {last}: {}",
                group_thousands(i128::from(total))
            );
            println!("\nby setting:");
            for (k, v) in &by_setting {
                println!(
                    "  {k:<28} {:>6} {:>5.1}%",
                    group_thousands(i128::from(*v)),
                    *v as f64 * 100.0 / total.max(1) as f64
                );
            }
            println!("\nby primary need:");
            for (k, v) in &by_need {
                println!(
                    "  {k:<28} {:>6} {:>5.1}%",
                    group_thousands(i128::from(*v)),
                    *v as f64 * 100.0 / total.max(1) as f64
                );
            }
            println!("\nfrom the SEN2 returns ({}):", sen2_dir.display());
            for l in &sen2_lines {
                println!("  {l}");
            }
            println!("\ndata-quality warnings: {}", warnings.len());
            for w in &warnings {
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
            for r in &rows {
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
            if !args.no_serve {
                println!("(the dashboard is not built yet: this demo prints its figures instead)");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether the LA's latest imports, in order, are exactly these file sets (kind and SHA-256 of each file).
fn latest_imports_are(
    log: &[highneeds_store::ImportLogEntry],
    wanted: &[&[highneeds_store::ImportedFile]],
) -> bool {
    use std::collections::BTreeSet;
    let mut imports: Vec<(i64, BTreeSet<(String, String)>)> = Vec::new();
    for e in log {
        let pair = (e.kind.clone(), e.sha256.clone());
        match imports.last_mut() {
            Some((id, set)) if *id == e.import_id => {
                set.insert(pair);
            }
            _ => imports.push((e.import_id, BTreeSet::from([pair]))),
        }
    }
    if imports.len() < wanted.len() {
        return false;
    }
    imports[imports.len() - wanted.len()..]
        .iter()
        .zip(wanted)
        .all(|((_, got), files)| {
            *got == files
                .iter()
                .map(|f| (f.kind.clone(), f.sha256.to_ascii_lowercase()))
                .collect::<BTreeSet<_>>()
        })
}
