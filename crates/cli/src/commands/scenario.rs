//! `highneeds scenario new|list|show|run|compare|export|import`: DBV plans as scenarios over the LA's stored data.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use highneeds_domain::scenario::{Scenario, ScenarioEngine};
use highneeds_ingest::scenario::scenario_to_toml;
use highneeds_store::Store;
use highneeds_usecases::scenario::{self, pick_version, run_scenario, LaData};

use crate::args::{
    EngineArg, Format, ScenarioArgs, ScenarioCommand, ScenarioCompareArgs, ScenarioExportArgs,
    ScenarioImportArgs, ScenarioNewArgs, ScenarioPickArgs, ScenarioRunArgs, ScenarioStoreArgs,
};
use crate::commands::{only_la, print_issues, runtime, REJECTED};
use crate::output::scenario as render;
use crate::output::workbook;
use highneeds_usecases::report::text;
use highneeds_usecases::scenario_json::engine_code;

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

/// Open the database and load the LA's history and budget.
fn load(store_args: &ScenarioStoreArgs) -> Result<LaData> {
    scenario::load(&store_args.db, store_args.la.as_deref())
}

/// A scenario from a file or a stored scenario of that name; its issues printed. `None` means refused.
fn scenario_from(source: &str, data: &LaData, db: &Path) -> Result<Option<(Scenario, String)>> {
    let read = scenario::scenario_from(source, data, db)?;
    print_issues(&read.issues);
    let Some(s) = read.scenario else {
        return Ok(None);
    };
    if let Some(why) = scenario::target_refusal(data, &s, &read.label, &read.text) {
        eprintln!("{why}");
        return Ok(None);
    }
    Ok(Some((s, read.text)))
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
    workbook::check(&args.workbook, args.format == Format::Xlsx)?;
    let data = load(&args.store)?;
    let Some((scenario, _)) = scenario_from(&args.scenario, &data, &args.store.db)? else {
        eprintln!("REJECTED: {} has errors; nothing was run", args.scenario);
        return Ok(ExitCode::from(REJECTED));
    };
    let scenario = with_engine(scenario, args.engine);
    let result = run_scenario(&data, &scenario, args.threads)?;
    let text = match args.format {
        Format::Json => render::json(&result)?,
        Format::Csv => render::csv(&result),
        Format::Table => text::render(&render::report(&result, &data.la)),
        Format::Xlsx => {
            let mut r = render::report(&result, &data.la);
            r.input("scenario", &args.scenario);
            r.input("database", args.store.db.display());
            r.input("LA", &data.la);
            r.input("engine", engine_code(result.engine));
            workbook::write(&args.workbook, r)?;
            return Ok(ExitCode::SUCCESS);
        }
    };
    println!("{}", text.trim_end());
    Ok(ExitCode::SUCCESS)
}

fn compare(args: ScenarioCompareArgs) -> Result<ExitCode> {
    workbook::check(&args.workbook, args.format == Format::Xlsx)?;
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
        Format::Json => render::compare_json(&results)?,
        Format::Csv => render::compare_csv(&results),
        Format::Table => text::render(&render::compare_report(&results)),
        Format::Xlsx => {
            let mut r = render::compare_report(&results);
            for source in &args.scenarios {
                r.input("scenario", source);
            }
            r.input("database", args.store.db.display());
            r.input("LA", &data.la);
            workbook::write(&args.workbook, r)?;
            return Ok(ExitCode::SUCCESS);
        }
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
    highneeds_ingest::scenario::write_scenario_file(&args.out, &text)
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

/// Every stored version of a scenario, and the one asked for (default: the latest).
fn stored_versions(
    store: &ScenarioStoreArgs,
    name: &str,
    version: Option<i64>,
) -> Result<(
    Vec<highneeds_store::ScenarioVersion>,
    highneeds_store::ScenarioVersion,
)> {
    let o = open(store)?;
    let versions = o.rt.block_on(o.store.scenario_versions(&o.la, name))?;
    let la = o.la.clone();
    o.close();
    let pick = pick_version(&versions, version, name, &la)?.clone();
    Ok((versions, pick))
}

fn show(args: ScenarioPickArgs) -> Result<ExitCode> {
    let (versions, pick) = stored_versions(&args.store, &args.name, args.version)?;
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
    let (_, pick) = stored_versions(&args.store, &args.name, args.version)?;
    highneeds_ingest::scenario::write_scenario_file(&args.out, &pick.body)
        .with_context(|| format!("could not write {}", args.out.display()))?;
    println!(
        "wrote version {} of {} to {}",
        pick.version,
        args.name,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
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
    let version = o.rt.block_on(async {
        let version = o
            .store
            .save_scenario(&o.la, &scenario.name, &body, &user)
            .await?;
        o.store
            .audit(
                &o.la,
                &user,
                "scenario saved",
                &format!("{} version {version}", scenario.name),
            )
            .await?;
        anyhow::Ok(version)
    })?;
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
    rt: highneeds_usecases::Runtime,
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
