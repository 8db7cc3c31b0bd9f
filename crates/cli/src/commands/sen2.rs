//! `highneeds import sen2`: the LA's key, the returns read and derived (`highneeds_usecases::sen2`), printed.

use std::process::ExitCode;

use anyhow::Result;
use highneeds_domain::sen2::TransitionSummary;
use highneeds_domain::SettingMap;
use highneeds_ingest::{Issue, Severity};
use highneeds_store::{ImportOutcome, ImportedFile, LaRef, Store};
use highneeds_usecases::import::la_ref;
use highneeds_usecases::runtime;
use highneeds_usecases::sen2::{
    default_key_path, derive, load_key, mixed_coding, read_returns, refusal, store_returns,
    summary_lines, Derived, Key,
};

use crate::args::ImportArgs;
use crate::commands::{print_issues, REJECTED};

/// `highneeds import sen2 FILE...`.
pub fn run_import(args: &ImportArgs, user: &str) -> Result<ExitCode> {
    let mut key = open_key(args)?;
    let (parsed, register) = read_returns(&args.paths, args.establishments.as_deref(), &key.keyer);
    let mut issues = parsed.issues;
    let Some(read) = parsed.value else {
        return Ok(reject_unreadable_returns(&issues));
    };
    let names: Vec<String> = read.files.iter().map(|f| f.file_name.clone()).collect();
    let derived = derive(&read.returns, &names, &register, &SettingMap::shipped());
    if args.establishments.is_none() && any_plan_placed_at_a_urn(&derived) {
        issues.push(no_register_warning(&names));
    }
    issues.extend(derived.warnings.iter().cloned());
    print_issues(&issues);
    let rt = runtime()?;
    let stored = rt.block_on(store_import(args, user, &mut key, &derived, &read.files))?;
    let (la, outcome, summaries) = match stored {
        Stored::Done(la, outcome, summaries) => (la, outcome, summaries),
        Stored::Refused(why) => {
            eprintln!("import rejected: {why}");
            eprintln!("Nothing was written: the database was not changed.");
            return Ok(ExitCode::from(REJECTED));
        }
    };
    for line in summary_lines(&derived.censuses, &derived.flows, &summaries) {
        println!("{line}");
    }
    print_import_outcome(outcome, args, &names, &la, issues.len());
    Ok(ExitCode::SUCCESS)
}

/// The LA's SEN2 key, from `--key-file` or the default place, with its warning (if any) printed.
fn open_key(args: &ImportArgs) -> Result<Key> {
    let key_path = match &args.key_file {
        Some(p) => p.clone(),
        None => default_key_path(&args.la)?,
    };
    let key = load_key(&key_path)?;
    if let Some(w) = &key.warning {
        eprintln!("warning: {w}");
    }
    Ok(key)
}

/// Print the errors that stopped the SEN2 returns being read, and reject the import.
fn reject_unreadable_returns(issues: &[Issue]) -> ExitCode {
    print_issues(issues);
    let errors = issues.iter().filter(|i| i.is_error()).count();
    eprintln!("import rejected: {errors} error(s); the database was not changed");
    ExitCode::from(REJECTED)
}

/// Whether any census has a plan placed at a URN or UKPRN (which needs the establishment register).
fn any_plan_placed_at_a_urn(derived: &Derived) -> bool {
    derived
        .censuses
        .iter()
        .any(|c| c.plans.iter().any(|p| p.urn.is_some()))
}

/// The warning, on the first return, that no establishment register was given.
fn no_register_warning(names: &[String]) -> Issue {
    Issue::about_file(
        names.first().map(String::as_str).unwrap_or("sen2"),
        Severity::Warning,
        "no --establishments register was given: placements at a URN or UKPRN have setting `other` \
         (give GIAS's all-establishments CSV to place them)"
            .into(),
    )
}

/// Open the database, store the SEN2 returns unless a guard refuses them, and close it again.
async fn store_import(
    args: &ImportArgs,
    user: &str,
    key: &mut Key,
    derived: &Derived,
    files: &[ImportedFile],
) -> Result<Stored> {
    let db = Store::open(&args.db).await?;
    let result = store_unless_refused(&db, args, user, key, derived, files).await;
    db.close().await;
    result
}

/// The guards (key, match rate, less data), then the key saved and the returns written.
async fn store_unless_refused(
    db: &Store,
    args: &ImportArgs,
    user: &str,
    key: &mut Key,
    derived: &Derived,
    files: &[ImportedFile],
) -> Result<Stored> {
    let la = la_ref(db, &args.la, args.la_name.as_deref()).await?;
    if let Some(why) = refusal(db, &la, key, derived, args.replace_with_empty).await? {
        return Ok(Stored::Refused(why));
    }
    if key.save()? {
        eprintln!("{}", key.made_note());
    }
    if let Some(before) = db.load_history(&la.code).await? {
        if let Some(warning) = mixed_coding(&before) {
            eprintln!("warning: {warning}");
        }
    }
    let fingerprint = Some(key.keyer.fingerprint());
    let (outcome, summaries) = store_returns(db, &la, derived, files, user, fingerprint).await?;
    Ok(Stored::Done(la, outcome, summaries))
}

/// Print what the import did: imported (where, for which LA, how many rows) or already imported.
fn print_import_outcome(
    outcome: ImportOutcome,
    args: &ImportArgs,
    names: &[String],
    la: &LaRef,
    warnings: usize,
) {
    match outcome {
        ImportOutcome::Imported { import_id, rows } => println!(
            "imported {} into {} for LA {} (import {import_id}, {rows} rows, {warnings} warnings)",
            names.join(", "),
            args.db.display(),
            la.code,
        ),
        ImportOutcome::AlreadyImported {
            import_id,
            imported_at,
        } => println!("already imported (import {import_id} at {imported_at}): nothing changed"),
    }
}

/// What `import sen2` did once the returns were read.
enum Stored {
    Done(LaRef, ImportOutcome, Vec<TransitionSummary>),
    /// Refused before anything was written, with the reason and what to do.
    Refused(String),
}
