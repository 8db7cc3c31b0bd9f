//! The demo: build Exampleshire from nothing, through the same files and imports an LA would use.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use highneeds_domain::{CensusYear, Pence};
use highneeds_ingest::scenario::read_scenario_toml;
use highneeds_model::ledger::{budget_by_year, ledger, LedgerRow};
use highneeds_model::{analytic, fit, FitOptions, Forecast, ProjectionOptions};
use highneeds_store::{LaRef, Store};
use highneeds_synth::{generate_la, SynthConfig};

use crate::import::{imported_files, read, store, user_name, ImportKind, Readied};
use crate::{runtime, sen2, synth, Rejected};
use highneeds_store::ImportedFile;

/// Exampleshire's code: not a real ONS code (no E99 LAs exist).
pub const EXAMPLESHIRE: &str = "E99999999";

/// Where the demo keeps its files: the per-user data folder ([`crate::home`]), beside the per-user database.
pub fn data_dir() -> PathBuf {
    crate::home::data_folder()
}

/// What the demo built, for the caller to show.
pub struct Demo {
    pub la_name: String,
    pub db_path: PathBuf,
    pub files_dir: PathBuf,
    pub sen2_dir: PathBuf,
    pub census_year: CensusYear,
    /// Plans at the last census, in all and by setting and primary need.
    pub plans: u64,
    pub by_setting: BTreeMap<String, u64>,
    pub by_need: BTreeMap<String, u64>,
    pub warnings: Vec<String>,
    pub sen2_lines: Vec<String>,
    /// The analytic engine's 5-year forecast with the default model.
    pub forecast: Forecast,
    /// The DSG high needs ledger from the budget file.
    pub ledger: Vec<LedgerRow>,
    /// Set when a new SEN2 key was made (what to tell the user).
    pub key_note: Option<String>,
}

/// The folder beside the database where the demo writes Exampleshire's files (the `exampleshire/` of the
/// commands' help examples).
pub fn files_dir(db_path: &Path) -> PathBuf {
    db_path
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p.to_path_buf()
            }
        })
        .unwrap_or_else(|| PathBuf::from("."))
        .join("exampleshire")
}

/// A bug in the demo's own files: the issues, and a message asking for a report.
fn demo_bug(issues: impl Iterator<Item = highneeds_ingest::Issue>, what: &str) -> anyhow::Error {
    Rejected {
        issues: issues.collect(),
        message: format!("{what} (a bug: please report it)"),
    }
    .into()
}

/// Build Exampleshire into `db_path` (a second build finds its own imports and changes nothing).
pub fn build(db_path: &Path) -> Result<Demo> {
    let files_dir = files_dir(db_path);
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
    let returns = read_demo_returns(&sen2_paths, &sen2_dir, &key.keyer)?;

    // Read the files back exactly as an LA's files are read, then import them.
    let la_ref = LaRef {
        code: EXAMPLESHIRE.to_string(),
        name: la.name.clone(),
    };
    let (readied, mut warnings) = read_demo_files(&files_dir)?;
    if let Some(dir) = db_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create {}", dir.display()))?;
    }
    let key_note = key.save()?.then(|| key.made_note());
    let stored =
        runtime()?.block_on(store_demo(db_path, &la_ref, &readied, &returns, &key.keyer))?;
    let sen2_lines = sen2::summary_lines(
        &returns.derived.censuses,
        &returns.derived.flows,
        &stored.sen2_summaries,
    );
    warnings.extend(returns.derived.warnings.iter().map(ToString::to_string));

    let last = config.last_census;
    let (plans, by_setting, by_need) = plans_at(&stored.plans, last);
    // The forecast runs on the stored history: witan.send transitions up to 2022, then the transitions derived
    // from the SEN2 returns (2022 → 2023 → 2024), with the witan set's population and costs.
    let params = fit(&stored.history, &FitOptions::default())?;
    let forecast = analytic::project(&params, &ProjectionOptions::default());
    Ok(Demo {
        la_name: la.name.clone(),
        db_path: db_path.to_path_buf(),
        files_dir,
        sen2_dir,
        census_year: last,
        plans,
        by_setting,
        by_need,
        warnings,
        sen2_lines,
        forecast,
        ledger: dsg_ledger(&stored.budget),
        key_note,
    })
}

/// The demo's SEN2 returns, read and derived as `import sen2` does.
struct DemoReturns {
    read: sen2::ReadReturns,
    derived: sen2::Derived,
}

fn read_demo_returns(
    paths: &[PathBuf],
    sen2_dir: &Path,
    keyer: &highneeds_ingest::sen2::PersonKeyer,
) -> Result<DemoReturns> {
    let (parsed, register) =
        sen2::read_returns(paths, Some(&sen2_dir.join("establishments.csv")), keyer);
    if parsed.has_errors() {
        return Err(demo_bug(
            parsed.errors().cloned(),
            "the demo's SEN2 returns did not validate",
        ));
    }
    let Some(read) = parsed.value else {
        bail!("the demo's SEN2 returns could not be read (a bug: please report it)");
    };
    let names: Vec<String> = read.files.iter().map(|f| f.file_name.clone()).collect();
    let derived = sen2::derive(
        &read.returns,
        &names,
        &register,
        &highneeds_domain::SettingMap::shipped(),
    );
    Ok(DemoReturns { read, derived })
}

/// One kind of file read, with the files it came from.
type ReadFiles = (Readied, Vec<ImportedFile>);

/// The demo's witan.send set, plans and budget, read as an LA's files are read: each with the files it came
/// from, and the readers' warnings.
fn read_demo_files(files_dir: &Path) -> Result<(Vec<ReadFiles>, Vec<String>)> {
    let mut warnings = Vec::new();
    let mut readied = Vec::new();
    for (kind, path) in [
        (ImportKind::Witan, files_dir.to_path_buf()),
        (ImportKind::Plans, files_dir.join("plans.csv")),
        (ImportKind::Budget, files_dir.join("hnb-budget.csv")),
    ] {
        let parsed = read(kind, &[path], &highneeds_ingest::ReadOptions::default())?;
        if parsed.has_errors() {
            return Err(demo_bug(
                parsed.errors().cloned(),
                "the demo files did not validate",
            ));
        }
        warnings.extend(parsed.warnings().map(ToString::to_string));
        let files = imported_files(kind, &parsed.sources);
        if let Some(v) = parsed.value {
            readied.push((v, files));
        }
    }
    Ok((readied, warnings))
}

/// What the demo reads back from the store.
struct StoredDemo {
    plans: Vec<highneeds_domain::PlanHistory>,
    budget: Vec<highneeds_domain::BudgetLine>,
    history: highneeds_domain::TransitionHistory,
    sen2_summaries: Vec<highneeds_domain::sen2::TransitionSummary>,
}

/// Import the demo's files and SEN2 returns (unless they are already the LA's latest imports), save the worked
/// DBV example if the shipped one changed, and read back what the demo shows.
async fn store_demo(
    db_path: &Path,
    la_ref: &LaRef,
    readied: &[ReadFiles],
    returns: &DemoReturns,
    keyer: &highneeds_ingest::sen2::PersonKeyer,
) -> Result<StoredDemo> {
    let user = user_name(None);
    let db = Store::open(db_path).await?;
    // A second demo finds its own imports as the LA's latest four (witan set, plans, budget, SEN2 returns)
    // and changes nothing; otherwise each import runs (the store re-imports anything not its kind's latest).
    let mut wanted: Vec<&[ImportedFile]> =
        readied.iter().map(|(_, files)| files.as_slice()).collect();
    wanted.push(&returns.read.files);
    let log = db.import_log(Some(EXAMPLESHIRE)).await?;
    let sen2_summaries = if latest_imports_are(&log, &wanted) {
        sen2::transition_summaries(&db, la_ref, &returns.derived).await?
    } else {
        for (v, files) in readied {
            store(&db, la_ref, v, files, &user).await?;
        }
        sen2::store_returns(
            &db,
            la_ref,
            &returns.derived,
            &returns.read.files,
            &user,
            Some(keyer.fingerprint()),
        )
        .await?
        .1
    };
    let plans = db.load_plans(EXAMPLESHIRE).await?;
    let budget = db.load_budget(EXAMPLESHIRE).await?;
    let history = db.require_history(EXAMPLESHIRE).await?;
    // The worked DBV example is there from the first run (a new version only if the shipped file changed).
    let example = crate::scenario::EXAMPLE;
    let Some(s) = read_scenario_toml("exampleshire-dbv-stockton.toml", example, None).value else {
        bail!("the shipped example scenario does not read (a bug: please report it)");
    };
    let versions = db.scenario_versions(EXAMPLESHIRE, &s.name).await?;
    if versions.last().is_none_or(|v| v.body != example) {
        let version = db
            .save_scenario(EXAMPLESHIRE, &s.name, example, &user)
            .await?;
        db.audit(
            EXAMPLESHIRE,
            &user,
            "scenario saved",
            &format!("{} version {version}", s.name),
        )
        .await?;
    }
    db.close().await;
    Ok(StoredDemo {
        plans,
        budget,
        history,
        sen2_summaries,
    })
}

/// Plans at census `last`: in all, by setting and by primary need.
fn plans_at(
    plans: &[highneeds_domain::PlanHistory],
    last: CensusYear,
) -> (u64, BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let mut by_setting: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_need: BTreeMap<String, u64> = BTreeMap::new();
    let mut total = 0u64;
    for h in plans {
        if let Some(r) = h.at(last) {
            total += 1;
            *by_setting.entry(r.state.setting.to_string()).or_default() += 1;
            *by_need.entry(r.state.need.to_string()).or_default() += 1;
        }
    }
    (total, by_setting, by_need)
}

/// The DSG high needs ledger of an LA's budget lines: income, spend, in-year and cumulative balance per
/// financial year, from the opening balance (zero when the file gives none).
pub fn dsg_ledger(budget: &[highneeds_domain::BudgetLine]) -> Vec<LedgerRow> {
    let (opening, years) = budget_by_year(budget);
    ledger(opening.unwrap_or(Pence::ZERO), &years)
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
