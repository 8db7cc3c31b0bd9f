//! `highneeds status`: which database is in use, how it was chosen, and what it holds.

use std::path::{Path, PathBuf};

use anyhow::Result;
use highneeds_store::{LaSummary, Store};

use crate::home::{self, Chosen};
use crate::runtime;

/// One LA in the database.
#[derive(Debug, Clone)]
pub struct LaStatus {
    pub summary: LaSummary,
    /// Imports recorded for the LA (each may hold several files).
    pub imports: u64,
    /// When and by whom the latest import was made.
    pub latest_import: Option<(String, String)>,
    /// Stored scenarios (each with its versions).
    pub scenarios: u64,
    /// Whether the LA's SEN2 key is in the default key folder.
    pub key_present: bool,
}

/// The database in use and what it holds.
#[derive(Debug, Clone)]
pub struct Status {
    pub database: PathBuf,
    pub chosen: Chosen,
    /// `None` when the database does not exist yet.
    pub bytes: Option<u64>,
    pub las: Vec<LaStatus>,
    /// Where SEN2 keys are kept by default.
    pub key_folder: Option<PathBuf>,
    /// The demo's files beside the database (the help examples' `exampleshire/`), if `highneeds demo` wrote them.
    pub demo_files: Option<PathBuf>,
}

/// Look at the database `given` (`--db`) or the one chosen by the usual rule; a missing database is described,
/// never created.
pub fn status(given: Option<&Path>) -> Result<Status> {
    let (database, chosen) = home::database(given);
    let key_folder = home::key_folder();
    let bytes = std::fs::metadata(&database).ok().map(|m| m.len());
    let demo_files =
        Some(crate::demo::files_dir(&database)).filter(|d| d.join("plans.csv").is_file());
    let mut status = Status {
        database,
        chosen,
        bytes,
        las: Vec::new(),
        key_folder,
        demo_files,
    };
    if status.bytes.is_none() {
        return Ok(status);
    }
    status.las = runtime()?.block_on(async {
        let store = Store::open(&status.database).await?;
        let las = las(&store, status.key_folder.as_deref()).await;
        store.close().await;
        las
    })?;
    Ok(status)
}

async fn las(store: &Store, key_folder: Option<&Path>) -> Result<Vec<LaStatus>> {
    let log = store.import_log(None).await?;
    let mut out = Vec::new();
    for summary in store.las().await? {
        let mine: Vec<_> = log.iter().filter(|e| e.la_code == summary.code).collect();
        let mut ids: Vec<i64> = mine.iter().map(|e| e.import_id).collect();
        ids.dedup();
        let latest_import = mine
            .last()
            .map(|e| (e.imported_at.clone(), e.imported_by.clone()));
        let scenarios = store.scenarios(&summary.code).await?.len() as u64;
        let key_present =
            key_folder.is_some_and(|f| f.join(format!("{}.sen2-key", summary.code)).is_file());
        out.push(LaStatus {
            imports: ids.len() as u64,
            latest_import,
            scenarios,
            key_present,
            summary,
        });
    }
    Ok(out)
}
