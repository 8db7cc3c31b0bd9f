//! `highneeds import sen2`: the LA's key, the returns read and derived (`highneeds_usecases::sen2`), printed.

use std::process::ExitCode;

use anyhow::Result;
use highneeds_domain::sen2::TransitionSummary;
use highneeds_domain::SettingMap;
use highneeds_ingest::{Issue, Severity};
use highneeds_store::{ImportOutcome, LaRef, Store};
use highneeds_usecases::import::la_ref;
use highneeds_usecases::runtime;
use highneeds_usecases::sen2::{
    default_key_path, derive, load_key, mixed_coding, read_returns, refusal, store_returns,
    summary_lines,
};

use crate::args::ImportArgs;
use crate::commands::{print_issues, REJECTED};

/// `highneeds import sen2 FILE...`.
pub fn run_import(args: &ImportArgs, user: &str) -> Result<ExitCode> {
    let key_path = match &args.key_file {
        Some(p) => p.clone(),
        None => default_key_path(&args.la)?,
    };
    let mut key = load_key(&key_path)?;
    if let Some(w) = &key.warning {
        eprintln!("warning: {w}");
    }
    let (parsed, register) = read_returns(&args.paths, args.establishments.as_deref(), &key.keyer);
    let mut issues = parsed.issues;
    let Some(read) = parsed.value else {
        print_issues(&issues);
        let errors = issues.iter().filter(|i| i.is_error()).count();
        eprintln!("import rejected: {errors} error(s); the database was not changed");
        return Ok(ExitCode::from(REJECTED));
    };
    let names: Vec<String> = read.files.iter().map(|f| f.file_name.clone()).collect();
    let derived = derive(&read.returns, &names, &register, &SettingMap::shipped());
    if args.establishments.is_none()
        && derived
            .censuses
            .iter()
            .any(|c| c.plans.iter().any(|p| p.urn.is_some()))
    {
        issues.push(Issue::about_file(
            names.first().map(String::as_str).unwrap_or("sen2"),
            Severity::Warning,
            "no --establishments register was given: placements at a URN or UKPRN have setting `other` \
             (give GIAS's all-establishments CSV to place them)"
                .into(),
        ));
    }
    issues.extend(derived.warnings.iter().cloned());
    print_issues(&issues);
    let rt = runtime()?;
    let stored = rt.block_on(async {
        let db = Store::open(&args.db).await?;
        let result = async {
            let la = la_ref(&db, &args.la, args.la_name.as_deref()).await?;
            if let Some(why) = refusal(&db, &la, &key, &derived, args.replace_with_empty).await? {
                return Ok::<_, anyhow::Error>(Stored::Refused(why));
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
            let (outcome, summaries) =
                store_returns(&db, &la, &derived, &read.files, user, fingerprint).await?;
            Ok(Stored::Done(la, outcome, summaries))
        }
        .await;
        db.close().await;
        result
    })?;
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
    match outcome {
        ImportOutcome::Imported { import_id, rows } => println!(
            "imported {} into {} for LA {} (import {import_id}, {rows} rows, {} warnings)",
            names.join(", "),
            args.db.display(),
            la.code,
            issues.len()
        ),
        ImportOutcome::AlreadyImported {
            import_id,
            imported_at,
        } => println!("already imported (import {import_id} at {imported_at}): nothing changed"),
    }
    Ok(ExitCode::SUCCESS)
}

/// What `import sen2` did once the returns were read.
enum Stored {
    Done(LaRef, ImportOutcome, Vec<TransitionSummary>),
    /// Refused before anything was written, with the reason and what to do.
    Refused(String),
}
