//! `highneeds import`: parse everything first; only a file with no errors reaches the database, in one
//! transaction.

use std::process::ExitCode;

use anyhow::{bail, Result};
use highneeds_store::{ImportOutcome, Store};
use highneeds_usecases::import::{
    imported_files, la_ref, read, shrink_refusal, store, user_name, ImportKind as Kind, Readied,
};

use crate::args::{ImportArgs, ImportKind};
use crate::commands::{print_issues, runtime, REJECTED};

/// The use-cases' kind of the command line's (SEN2 has its own path).
fn kind(kind: ImportKind) -> Option<Kind> {
    match kind {
        ImportKind::Witan => Some(Kind::Witan),
        ImportKind::Plans => Some(Kind::Plans),
        ImportKind::Budget => Some(Kind::Budget),
        ImportKind::Sen2 | ImportKind::Published => None,
    }
}

/// Say why an import was refused, and that nothing was written.
fn rejected(why: &str) -> ExitCode {
    eprintln!("import rejected: {why}");
    eprintln!("Nothing was written: the database was not changed. Give --replace-with-empty if that is meant.");
    ExitCode::from(REJECTED)
}

pub fn run(args: ImportArgs) -> Result<ExitCode> {
    // The per-user database's folder is made on first use (a folder the user named must exist).
    highneeds_usecases::home::prepare_per_user_folder(&args.db)?;
    if args.kind == ImportKind::Published {
        return published(&args);
    }
    let Some(kind) = kind(args.kind) else {
        return crate::commands::sen2::run_import(&args, &user_name(args.user.as_deref()));
    };
    if args.establishments.is_some() || args.key_file.is_some() {
        bail!("--establishments and --key-file are for `import sen2` only");
    }
    let options = highneeds_ingest::ReadOptions {
        encoding: args.encoding,
    };
    let parsed = read(kind, &args.paths, &options)?;
    print_issues(&parsed.issues);
    let errors = parsed.errors().count();
    let Some(readied) = parsed.value else {
        eprintln!("import rejected: {errors} error(s); the database was not changed");
        return Ok(ExitCode::from(REJECTED));
    };
    let files = imported_files(kind, &parsed.sources);
    // A file with no data rows is refused before the database is even opened (or created).
    if !args.replace_with_empty {
        if let Some(why) =
            shrink_refusal(&args.la, None, &Readied::Plans(Vec::new()), &parsed.sources)
        {
            return Ok(rejected(&why));
        }
    }
    let user = user_name(args.user.as_deref());
    let rt = runtime()?;
    let result = rt.block_on(async {
        let db = Store::open(&args.db).await?;
        let result = async {
            let la = la_ref(&db, &args.la, args.la_name.as_deref()).await?;
            if !args.replace_with_empty {
                let las = db.las().await?;
                let before = las.iter().find(|l| l.code == la.code);
                if let Some(why) = shrink_refusal(&la.code, before, &readied, &parsed.sources) {
                    return Ok(Err(why));
                }
            }
            let outcome = store(&db, &la, &readied, &files, &user).await?;
            Ok::<_, anyhow::Error>(Ok((la, outcome)))
        }
        .await;
        db.close().await;
        result
    })?;
    let (la, outcome) = match result {
        Ok(done) => done,
        Err(why) => return Ok(rejected(&why)),
    };
    match outcome {
        ImportOutcome::Imported { import_id, rows } => println!(
            "imported {} into {} for LA {} (import {import_id}, {rows} rows, {} warnings)",
            files
                .iter()
                .map(|f| f.file_name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            args.db.display(),
            la.code,
            parsed.issues.len()
        ),
        ImportOutcome::AlreadyImported {
            import_id,
            imported_at,
        } => println!("already imported (import {import_id} at {imported_at}): nothing changed"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `import published DIR`: the release checked as `--published` checks it, stored in one transaction.
fn published(args: &ImportArgs) -> Result<ExitCode> {
    let [dir] = args.paths.as_slice() else {
        bail!("import published takes one folder (the release's CSV files)");
    };
    let user = user_name(args.user.as_deref());
    let result = runtime()?.block_on(async {
        let db = Store::open(&args.db).await?;
        let r = highneeds_usecases::published::import(&db, dir, &args.la, &user).await;
        db.close().await;
        r
    });
    let (rows, warnings) = match result {
        Ok(r) => r,
        Err(e) => {
            if let Some(r) = e.downcast_ref::<highneeds_usecases::Rejected>() {
                print_issues(&r.issues);
                eprintln!(
                    "import rejected: {}; the database was not changed",
                    r.message
                );
                return Ok(ExitCode::from(REJECTED));
            }
            return Err(e);
        }
    };
    print_issues(&warnings);
    println!(
        "imported the published statistics in {} into {} ({rows} figures, {} warnings)",
        dir.display(),
        args.db.display(),
        warnings.len()
    );
    Ok(ExitCode::SUCCESS)
}
