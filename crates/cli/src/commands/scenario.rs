//! `highneeds scenario new|list|show|run|compare|export|import`: DBV plans as scenarios over the LA's stored data.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use highneeds_domain::scenario::{Scenario, ScenarioEngine};
use highneeds_domain::{BudgetLine, TransitionHistory};
use highneeds_ingest::scenario::{
    read_scenario_json, read_scenario_toml, scenario_to_toml, ScenarioCodes,
};
use highneeds_model::scenario::{self as plan, ScenarioInputs, ScenarioResult};
use highneeds_model::{fit_reaching, FitOptions};
use highneeds_store::Store;

use crate::args::{
    EngineArg, Format, ScenarioArgs, ScenarioCommand, ScenarioCompareArgs, ScenarioExportArgs,
    ScenarioImportArgs, ScenarioNewArgs, ScenarioPickArgs, ScenarioRunArgs, ScenarioStoreArgs,
};
use crate::commands::{only_la, print_issues, runtime, REJECTED};
use crate::output::scenario as render;

/// The Stockton-like worked example (`examples/`), stored by `highneeds demo`.
pub const EXAMPLE: &str = include_str!("../../../../examples/exampleshire-dbv-stockton.toml");

/// The example scenario `new` writes: every lever kind, commented.
pub const TEMPLATE: &str = include_str!("../../../../examples/scenario-template.toml");

pub fn run(args: ScenarioArgs) -> Result<ExitCode> {
    match args.command {
        ScenarioCommand::New(a) => new(a),
        ScenarioCommand::List(a) => list(a),
        ScenarioCommand::Show(a) => show(a),
        ScenarioCommand::Run(a) => run_one(a),
        ScenarioCommand::Compare(a) => compare(a),
        ScenarioCommand::Export(a) => export(a),
        ScenarioCommand::Import(a) => import(a),
    }
}

/// The LA's stored data a scenario runs over.
pub struct LaData {
    pub la: String,
    pub history: TransitionHistory,
    pub budget: Vec<BudgetLine>,
}

/// Open the database and load the LA's history and budget.
fn load(store_args: &ScenarioStoreArgs) -> Result<LaData> {
    let db = &store_args.db;
    if !db.exists() {
        bail!(
            "database {} does not exist: import data first (highneeds import) or run highneeds demo",
            db.display()
        );
    }
    runtime()?.block_on(async {
        let store = Store::open(db).await?;
        let la = match &store_args.la {
            Some(la) => la.clone(),
            None => only_la(&store, db).await?,
        };
        let history = store.load_history(&la).await?.ok_or_else(|| {
            anyhow!(
                "LA {la} has no transition data in {}: import its history first",
                db.display()
            )
        })?;
        let budget = store.load_budget(&la).await?;
        store.close().await;
        Ok(LaData {
            la,
            history,
            budget,
        })
    })
}

/// The LA's needs and settings, as the model sees them.
pub fn codes_of(history: &TransitionHistory) -> ScenarioCodes {
    let mut codes = ScenarioCodes::default();
    for s in history
        .transitions
        .iter()
        .flat_map(|t| [&t.before, &t.after])
        .flatten()
    {
        codes.needs.push(s.need.clone());
        codes.settings.push(s.setting.clone());
    }
    for v in &history.valid_states {
        codes.settings.push(v.setting.clone());
        codes.needs.extend(v.needs.iter().cloned());
    }
    codes.needs.sort();
    codes.needs.dedup();
    codes.settings.sort();
    codes.settings.dedup();
    codes
}

/// A scenario from a file (TOML or JSON by extension) or, if no such file, the stored scenario of that name.
/// Faults are printed; `None` means refused.
fn scenario_from(source: &str, data: &LaData, db: &Path) -> Result<Option<(Scenario, String)>> {
    let codes = codes_of(&data.history);
    let path = Path::new(source);
    let (label, text) = if path.is_file() {
        let meta = std::fs::metadata(path).with_context(|| format!("could not read {source}"))?;
        if meta.len() > highneeds_ingest::scenario::MAX_SCENARIO_BYTES as u64 {
            bail!(
                "{source} is larger than a scenario file can be ({} bytes at most)",
                highneeds_ingest::scenario::MAX_SCENARIO_BYTES
            );
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read {source} as UTF-8 text"))?;
        (source.to_string(), text)
    } else {
        let versions = runtime()?.block_on(async {
            let store = Store::open(db).await?;
            let v = store.scenario_versions(&data.la, source).await?;
            store.close().await;
            anyhow::Ok(v)
        })?;
        let latest = versions.last().ok_or_else(|| {
            anyhow!("{source} is neither a file nor a stored scenario of LA {} (see highneeds scenario list)", data.la)
        })?;
        (
            format!("{source} (stored version {})", latest.version),
            latest.body.clone(),
        )
    };
    let parsed = if label.ends_with(".json") {
        read_scenario_json(&label, &text, Some(&codes))
    } else {
        read_scenario_toml(&label, &text, Some(&codes))
    };
    print_issues(&parsed.issues);
    let Some(scenario) = parsed.value else {
        return Ok(None);
    };
    // The target must be a projected year: known only with the LA's history (base census) and budget.
    let base = data
        .history
        .transitions
        .iter()
        .map(|t| t.from_census.next())
        .max();
    let a = &scenario.assumptions;
    let window =
        base.and_then(|b| plan::projected_financial_years(b, a.horizon_years, &data.budget));
    if let Some((first, last)) = window {
        if a.target < first || a.target > last {
            let line = highneeds_ingest::scenario::assumption_line(&text, "target_financial_year")
                .map_or(String::new(), |l| format!("{l}:"));
            eprintln!(
                "{label}:{line} column assumptions.target_financial_year: \"{}\" is outside the projected years \
                 ({first} to {last}: after the budget's last actual year, within horizon_years = {}): choose a year \
                 in that range or a longer horizon",
                a.target, a.horizon_years
            );
            return Ok(None);
        }
    }
    Ok(Some((scenario, text)))
}

/// Fit and run a scenario over the LA's data.
pub fn run_scenario(
    data: &LaData,
    scenario: &Scenario,
    threads: Option<usize>,
) -> Result<ScenarioResult> {
    let params = fit_reaching(
        &data.history,
        &FitOptions::default(),
        &plan::settings_reached(scenario),
    )
    .context("cannot forecast this LA")?;
    let inputs = ScenarioInputs {
        params: &params,
        history: &data.history,
        budget: &data.budget,
        scenario,
        threads,
    };
    plan::run(&inputs).with_context(|| format!("cannot run scenario {:?}", scenario.name))
}

fn with_engine(mut s: Scenario, engine: Option<EngineArg>) -> Scenario {
    if let Some(e) = engine {
        s.assumptions.engine = match e {
            EngineArg::Analytic => ScenarioEngine::Analytic,
            EngineArg::MonteCarlo => ScenarioEngine::MonteCarlo,
        };
    }
    s
}

fn run_one(args: ScenarioRunArgs) -> Result<ExitCode> {
    if args.threads.is_some_and(|t| t == 0 || t > 256) {
        bail!("--threads must be between 1 and 256");
    }
    let data = load(&args.store)?;
    let Some((scenario, _)) = scenario_from(&args.scenario, &data, &args.store.db)? else {
        eprintln!("REJECTED: {} has errors; nothing was run", args.scenario);
        return Ok(ExitCode::from(REJECTED));
    };
    let scenario = with_engine(scenario, args.engine);
    let result = run_scenario(&data, &scenario, args.threads)?;
    let text = match args.format {
        Format::Json => render::json(&result),
        Format::Csv => render::csv(&result),
        Format::Table => render::table(&result, &data.la),
    };
    println!("{}", text.trim_end());
    Ok(ExitCode::SUCCESS)
}

fn compare(args: ScenarioCompareArgs) -> Result<ExitCode> {
    let data = load(&args.store)?;
    let mut results = Vec::new();
    for source in &args.scenarios {
        let Some((scenario, _)) = scenario_from(source, &data, &args.store.db)? else {
            eprintln!("REJECTED: {source} has errors; nothing was run");
            return Ok(ExitCode::from(REJECTED));
        };
        let scenario = with_engine(scenario, Some(args.engine));
        results.push(run_scenario(&data, &scenario, None)?);
    }
    let text = match args.format {
        Format::Json => render::compare_json(&results),
        Format::Csv => render::compare_csv(&results),
        Format::Table => render::compare_table(&results),
    };
    println!("{}", text.trim_end());
    Ok(ExitCode::SUCCESS)
}

fn new(args: ScenarioNewArgs) -> Result<ExitCode> {
    if args.out.exists() {
        bail!(
            "{} exists: choose another file (nothing was written)",
            args.out.display()
        );
    }
    let target: highneeds_domain::FinancialYear =
        args.target.parse().map_err(|e| anyhow!("--target: {e}"))?;
    let text = TEMPLATE
        .replacen(
            "name = \"Scenario template\"",
            &format!("name = {:?}", args.name),
            1,
        )
        .replacen(
            "target_financial_year = \"2027-28\"",
            &format!("target_financial_year = \"{target}\""),
            1,
        );
    std::fs::write(&args.out, text)
        .with_context(|| format!("could not write {}", args.out.display()))?;
    println!(
        "wrote {} — edit it, then: highneeds scenario run {} --db DB",
        args.out.display(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn list(args: ScenarioStoreArgs) -> Result<ExitCode> {
    let o = open(&args)?;
    let list = o.rt.block_on(o.store.scenarios(&o.la))?;
    let la = o.la.clone();
    o.close();
    if list.is_empty() {
        println!(
            "LA {la} has no stored scenarios: highneeds scenario import FILE --db {}",
            args.db.display()
        );
    }
    for s in list {
        println!(
            "{}  ({} version{}, last saved {} by {})",
            s.name,
            s.versions,
            if s.versions == 1 { "" } else { "s" },
            s.saved_at,
            s.saved_by
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn show(args: ScenarioPickArgs) -> Result<ExitCode> {
    let o = open(&args.store)?;
    let versions =
        o.rt.block_on(o.store.scenario_versions(&o.la, &args.name))?;
    let la = o.la.clone();
    o.close();
    let pick = pick_version(&versions, args.version, &args.name, &la)?;
    for v in &versions {
        println!(
            "# version {} saved {} by {}",
            v.version, v.saved_at, v.saved_by
        );
    }
    println!(
        "# showing version {}\n{}",
        pick.version,
        pick.body.trim_end()
    );
    Ok(ExitCode::SUCCESS)
}

fn export(args: ScenarioExportArgs) -> Result<ExitCode> {
    let o = open(&args.store)?;
    let versions =
        o.rt.block_on(o.store.scenario_versions(&o.la, &args.name))?;
    let la = o.la.clone();
    o.close();
    let pick = pick_version(&versions, args.version, &args.name, &la)?;
    std::fs::write(&args.out, &pick.body)
        .with_context(|| format!("could not write {}", args.out.display()))?;
    println!(
        "wrote version {} of {} to {}",
        pick.version,
        args.name,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn pick_version<'a>(
    versions: &'a [highneeds_store::ScenarioVersion],
    version: Option<i64>,
    name: &str,
    la: &str,
) -> Result<&'a highneeds_store::ScenarioVersion> {
    match version {
        Some(n) => versions.iter().find(|v| v.version == n),
        None => versions.last(),
    }
    .ok_or_else(|| {
        anyhow!(
            "LA {la} has no stored scenario {name:?}{}",
            version.map_or(String::new(), |n| format!(" version {n}"))
        )
    })
}

fn import(args: ScenarioImportArgs) -> Result<ExitCode> {
    let data = load(&args.store)?;
    let source = args.file.display().to_string();
    if !args.file.is_file() {
        bail!("{source} is not a file");
    }
    let Some((scenario, text)) = scenario_from(&source, &data, &args.store.db)? else {
        eprintln!("REJECTED: {source} has errors; nothing was stored");
        return Ok(ExitCode::from(REJECTED));
    };
    if scenario.la.as_ref().is_some_and(|la| *la != data.la) {
        bail!(
            "{source} is for LA {}, not {}: nothing was stored",
            scenario.la.as_deref().unwrap_or(""),
            data.la
        );
    }
    // Stored as the officer wrote it when it came from TOML; a JSON file is stored as TOML.
    let body = if source.ends_with(".json") {
        scenario_to_toml(&scenario)
    } else {
        text
    };
    let user = args
        .user
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into());
    let o = open(&args.store)?;
    let version =
        o.rt.block_on(o.store.save_scenario(&o.la, &scenario.name, &body, &user))?;
    let la = o.la.clone();
    o.close();
    println!(
        "stored {:?} for LA {la} as version {version}",
        scenario.name
    );
    Ok(ExitCode::SUCCESS)
}

/// An open database with the LA chosen.
struct Opened {
    rt: tokio::runtime::Runtime,
    store: Store,
    la: String,
}

fn open(args: &ScenarioStoreArgs) -> Result<Opened> {
    if !args.db.exists() {
        bail!(
            "database {} does not exist: import data first or run highneeds demo",
            args.db.display()
        );
    }
    let rt = runtime()?;
    let (store, la) = rt.block_on(async {
        let store = Store::open(&args.db).await?;
        let la = match &args.la {
            Some(la) => la.clone(),
            None => only_la(&store, &args.db).await?,
        };
        anyhow::Ok((store, la))
    })?;
    Ok(Opened { rt, store, la })
}

impl Opened {
    fn close(self) {
        self.rt.block_on(self.store.close());
    }
}
