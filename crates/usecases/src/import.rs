//! Importing an LA's files: parse everything first; only files with no errors reach the database, in one
//! transaction.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use highneeds_domain::{BudgetLine, PlanHistory, TransitionHistory};
use highneeds_ingest::{Parsed, ReadOptions, SourceFile};
use highneeds_store::{ImportOutcome, ImportedFile, LaRef, LaSummary, Store};

/// The kinds of file an LA imports (SEN2 returns are read with the LA's key: see [`crate::sen2`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    /// witan.send's four files (a folder, or the files themselves).
    Witan,
    /// Our person-level file: one row per child per census.
    Plans,
    /// The High Needs Block budget file.
    Budget,
}

impl ImportKind {
    /// The kind's name in the import log.
    pub fn code(self) -> &'static str {
        match self {
            ImportKind::Witan => "witan",
            ImportKind::Plans => "plans",
            ImportKind::Budget => "budget",
        }
    }
}

/// What was read, ready to store.
pub enum Readied {
    Witan(TransitionHistory),
    Plans(Vec<PlanHistory>),
    Budget(Vec<BudgetLine>),
}

/// Read and validate files of one kind. Issues are returned, not printed.
/// `options` carries the text encoding the user stated (`--encoding`); without one it is detected.
pub fn read(kind: ImportKind, paths: &[PathBuf], options: &ReadOptions) -> Result<Parsed<Readied>> {
    let started = std::time::Instant::now();
    let result = read_files(kind, paths, options);
    if let Ok(parsed) = &result {
        let rows: u64 = parsed.sources.iter().map(|s| s.rows).sum();
        tracing::info!(
            "read {} file(s), {rows} rows, {} error(s), {} warning(s) in {:.3} s",
            parsed.sources.len(),
            parsed.errors().count(),
            parsed.warnings().count(),
            started.elapsed().as_secs_f64()
        );
    }
    result
}

fn read_files(
    kind: ImportKind,
    paths: &[PathBuf],
    options: &ReadOptions,
) -> Result<Parsed<Readied>> {
    let one = |what: &str| -> Result<&Path> {
        match paths {
            [p] => Ok(p),
            _ => bail!("import {what} takes one file, not {}", paths.len()),
        }
    };
    Ok(match kind {
        ImportKind::Witan => {
            let is_transitions = |p: &Path| {
                p.is_file()
                    && p.file_stem()
                        .is_some_and(|s| s.eq_ignore_ascii_case("transitions"))
            };
            let dir = match paths {
                [p] if p.is_dir() => p.clone(),
                [p] if is_transitions(p) => p.parent().map(Path::to_path_buf).unwrap_or_default(),
                [p] => bail!(
                    "{} is not a folder holding witan.send's files (nor its transitions.csv)",
                    p.display()
                ),
                _ => bail!(
                    "import witan takes one folder holding transitions.csv, population.csv, costs.csv and valid-states.csv"
                ),
            };
            highneeds_ingest::read_witan_dir_with(&dir, options).map(Readied::Witan)
        }
        ImportKind::Plans => {
            highneeds_ingest::read_plans_with(one("plans")?, options).map(Readied::Plans)
        }
        ImportKind::Budget => {
            highneeds_ingest::read_budget_with(one("budget")?, options).map(Readied::Budget)
        }
    })
}

/// The import-log rows of what was read.
pub fn imported_files(kind: ImportKind, sources: &[SourceFile]) -> Vec<ImportedFile> {
    sources
        .iter()
        .map(|s| ImportedFile {
            kind: kind.code().to_string(),
            file_name: s.name.clone(),
            sha256: s.sha256.clone(),
            rows: s.rows,
        })
        .collect()
}

/// Store what was read (the store writes the import to the audit log in the same transaction).
pub async fn store(
    store: &Store,
    la: &LaRef,
    readied: &Readied,
    files: &[ImportedFile],
    user: &str,
) -> Result<ImportOutcome> {
    let outcome = match readied {
        Readied::Witan(h) => store.import_history(la, h, files, user).await?,
        Readied::Plans(p) => store.import_plans(la, p, files, user).await?,
        Readied::Budget(b) => store.import_budget(la, b, files, user).await?,
    };
    Ok(outcome)
}

/// The LA an import writes to: its name as given, else the name stored for it (an import without --la-name
/// keeps it), else its code.
pub async fn la_ref(db: &Store, code: &str, name: Option<&str>) -> Result<LaRef> {
    let name = match name {
        Some(n) => n.to_string(),
        None => db
            .las()
            .await?
            .into_iter()
            .find(|l| l.code == code)
            .map_or_else(|| code.to_string(), |l| l.name),
    };
    Ok(LaRef {
        code: code.to_string(),
        name,
    })
}

/// Why an import would replace an LA's stored data with nothing or with much less, if it would: a file with no
/// data rows, or (a witan.send set replaces the LA's snapshot) a table left empty or cut by more than half.
pub fn shrink_refusal(
    code: &str,
    before: Option<&LaSummary>,
    readied: &Readied,
    sources: &[SourceFile],
) -> Option<String> {
    if let Some(empty) = sources.iter().find(|s| s.rows == 0) {
        return Some(format!(
            "{} has no data rows: importing it would replace stored data with nothing",
            empty.path.display()
        ));
    }
    let Readied::Witan(h) = readied else {
        return None;
    };
    let stored = |f: fn(&LaSummary) -> u64| before.map_or(0, f);
    let tables = [
        (
            "transitions",
            h.transitions.len(),
            stored(|l| l.transitions),
        ),
        (
            "population rows",
            h.population.len(),
            stored(|l| l.population_rows),
        ),
        ("unit costs", h.costs.len(), stored(|l| l.unit_costs)),
        (
            "valid states",
            h.valid_states.len(),
            stored(|l| l.valid_states),
        ),
    ];
    for (table, new, old) in tables {
        let new = new as u64;
        if new == 0 && (old > 0 || table == "transitions") {
            return Some(format!(
                "this witan.send set would leave LA {code} with no {table} (it has {old} stored)"
            ));
        }
        if new * 2 < old {
            return Some(format!(
                "this witan.send set would replace LA {code}'s {old} stored {table} with {new}: more than half \
                 would be removed"
            ));
        }
    }
    None
}

/// Who is importing: the name given, else $USER (or %USERNAME%), else "unknown".
pub fn user_name(given: Option<&str>) -> String {
    given
        .map(str::to_string)
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("USERNAME").ok())
        .unwrap_or_else(|| "unknown".to_string())
}
