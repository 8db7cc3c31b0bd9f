//! The highneeds database: where imported data lives between runs.
//!
//! # Design decisions
//!
//! - **SQLite by default**: one file, created if missing (the CLI puts it next to the user's data,
//!   [`DEFAULT_FILE_NAME`]). It is opened with foreign keys on, WAL journal mode, `synchronous = NORMAL` and a
//!   busy timeout, so a second program waits instead of failing at once.
//! - **One set of migrations** (`crates/store/migrations/`, embedded with `sqlx::migrate!`) written in portable
//!   SQL so that the PostgreSQL backend planned for multi-user deployments runs the very same files: only
//!   `TEXT`, `INTEGER` and `BIGINT` columns, no `AUTOINCREMENT`/`SERIAL`, no `WITHOUT ROWID`, no PRAGMAs, no
//!   date functions (times are RFC 3339 UTC text written by the store). `tests/postgres_portability.rs` guards
//!   this.
//! - **Ids are assigned by the store** inside the import's transaction (`MAX(import_id) + 1`); the primary
//!   key catches two writers racing for the same id (the loser's whole import rolls back). On SQLite imports
//!   take the write lock at the start (`BEGIN IMMEDIATE`), so they queue rather than race.
//! - **Several LAs in one database**: every data table is keyed by `la_code`; nothing an LA imports touches
//!   another LA's rows.
//! - **One transaction per import**: data rows and the import-log rows are written together or not at all.
//!   A rejected import writes nothing, not even an "attempted" row, so a dump of the database after a
//!   rejected import equals the dump before. Opening an up-to-date database writes nothing either.
//! - **Re-imports are recognised** by SHA-256 file hashes, per LA and operation: an import counts as already
//!   imported when its files (kind and hash) are exactly the files of the LA's *latest* import of the same
//!   operation (history, plans or budget) and kind of file (a SEN2 history import is compared with the latest
//!   SEN2 import, a witan.send one with the latest witan.send import). Going back to an older file (A → B → A) is a real change and is
//!   imported again — a witan set replaces the LA's snapshot, plans and budget rows are upserted — so the
//!   database always matches the file the user last gave.
//!
//!   An already-imported import changes nothing and returns [`ImportOutcome::AlreadyImported`].
//! - **Import log**: one row per file: LA, kind, file name, hash, row count, time (UTC) and user.
//! - **Storage**: one row per transition (`calendar_year` = the starting census; NULLs on the absent side of
//!   joiners and leavers) in imported order; population; unit costs in integer pence (`BIGINT`); valid states
//!   with needs and moves-to as comma-joined codes (codes never contain commas); budget lines in integer
//!   pence; person-level plan records `(la_code, child_id, census_year, ncy, need, setting, urn)`.
//! - **Speed**: rows are written with multi-row INSERTs of bound values (never values formatted into SQL),
//!   chunked under the bind limits, the same prepared statement reused per chunk. The two big tables
//!   (transitions, plan records) are loaded packed into one text value with `string_agg(... ORDER BY ...)`
//!   (SQLite 3.44+, the bundled library; PostgreSQL has it too) instead of one row at a time, which is several
//!   times faster through sqlx's SQLite worker thread. On load, need and setting codes are interned: each
//!   distinct code is parsed once and shared by every row that uses it. About 25,000 rows import in well
//!   under a second and a 20,000-transition history loads in a few tens of milliseconds (`tests/speed.rs`).
//! - **Load order**: transitions, population, unit costs and valid states in imported order; plan histories
//!   by child id (byte order), records by census; budget lines by financial year, kind (ledger order), line.
//!
//! # Example
//!
//! ```no_run
//! # async fn run() -> Result<(), highneeds_store::StoreError> {
//! use highneeds_store::{Store, LaRef};
//! let store = Store::open(std::path::Path::new("highneeds.db")).await?;
//! for la in store.las().await? {
//!     println!("{} {}: {} transitions", la.code, la.name, la.transitions);
//! }
//! let history = store.require_history("E06000037").await?;
//! # let _ = history; Ok(()) }
//! ```

mod accounts;
mod batch;
mod error;
mod import;
mod intern;
mod load;
mod published;
mod scenario;
mod sen2;

use std::path::{Path, PathBuf};
use std::time::Duration;

use highneeds_domain::CensusYear;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Row;

pub use accounts::{ApiToken, AuditEntry, Session, User};
pub use error::StoreError;
pub use published::{measure_code, measure_of};
pub use scenario::{
    now, ScenarioSimulation, ScenarioSummary, ScenarioVersion, SimulationStart, SimulationSummary,
};
pub use sen2::{Sen2Import, Sen2ReturnSummary};

/// The file name the CLI uses for the database, next to the user's data.
pub const DEFAULT_FILE_NAME: &str = "highneeds.db";

/// How long a write waits for another program's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The embedded migrations (portable SQL, shared with the future PostgreSQL backend).
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
}

/// Which LA an import belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaRef {
    /// The LA's code, e.g. the ONS code `E06000037` or the DfE number `867`.
    pub code: String,
    /// The LA's name, e.g. `West Berkshire`. Updated on each successful import.
    pub name: String,
}

/// One file of an import, as read by ingest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedFile {
    /// What the file is: `"witan"`, `"plans"`, `"budget"`, later `"sen2"`.
    pub kind: String,
    /// The file's name as the user gave it (no directory needed).
    pub file_name: String,
    /// SHA-256 of the file's bytes, 64 hex digits.
    pub sha256: String,
    /// Data rows read from the file.
    pub rows: u64,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    /// The rows were written; `rows` is the number of database rows written.
    Imported { import_id: i64, rows: u64 },
    /// The same files were imported before (by `import_id`, at `imported_at`); nothing changed.
    AlreadyImported { import_id: i64, imported_at: String },
}

/// One row of the import log: one file of one import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportLogEntry {
    pub import_id: i64,
    pub la_code: String,
    pub kind: String,
    pub file_name: String,
    pub sha256: String,
    pub rows: u64,
    /// RFC 3339, UTC, e.g. `2025-01-31T09:15:00.123Z`.
    pub imported_at: String,
    pub imported_by: String,
}

/// What the database holds for one LA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaSummary {
    pub code: String,
    pub name: String,
    /// Transition rows (witan.send transitions).
    pub transitions: u64,
    /// Resident population rows.
    pub population_rows: u64,
    /// Unit cost rows.
    pub unit_costs: u64,
    /// Valid-state rows.
    pub valid_states: u64,
    /// Person-level plan records (one child at one census).
    pub plan_records: u64,
    /// Distinct children in the plan records.
    pub children: u64,
    /// Budget lines.
    pub budget_lines: u64,
    /// Census years with data: those of the plan records and both ends of the transitions.
    pub censuses: u64,
    /// The latest census with data: the latest plan record's census, or the census the latest transitions
    /// end at, whichever is later.
    pub latest_census: Option<CensusYear>,
}

/// Create a missing database file readable and writable by its owner only (0600), like the SEN2 key file: it
/// holds pseudonymised person-level data. SQLite gives the `-wal` and `-shm` files the database file's
/// permissions. An existing file is left as it is; any failure is left for SQLite to report when it opens `path`.
fn create_owner_only(path: &Path) {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let _ = options.open(path);
}

impl Store {
    /// Open the database file at `path`, creating it if missing, and bring its tables up to date.
    /// Opening a database that is already up to date writes nothing.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        create_owner_only(path);
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            // Let the SQLite worker thread run well ahead of the reader when loading tens of thousands of rows.
            .row_buffer_size(4096);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(BUSY_TIMEOUT + Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(|cause| StoreError::Open {
                path: path.to_path_buf(),
                cause,
            })?;
        if let Err(cause) = MIGRATOR.run(&pool).await {
            pool.close().await;
            return Err(StoreError::Migrate {
                path: path.to_path_buf(),
                cause,
            });
        }
        Ok(Store {
            pool,
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Fold the write-ahead log back into the database file, then close every connection, so that the file alone
    /// holds everything (someone may copy just the `.db`). SQLite folds it by itself only when its last connection
    /// to the file closes: not while another process (a running server) has the file open, and not always when
    /// the pool closes its own connections side by side. Passive: it never waits, so a command does not hang on a
    /// server's read; what a reader mid-read still needs stays in the log, and nothing is lost: the log stays
    /// beside the file until a later checkpoint folds it in.
    pub async fn close(self) {
        let _ = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&self.pool)
            .await;
        self.pool.close().await;
    }

    /// Every LA in the database, by code, with counts of what it holds.
    pub async fn las(&self) -> Result<Vec<LaSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT l.la_code, l.la_name,
                (SELECT COUNT(*) FROM transitions t WHERE t.la_code = l.la_code),
                (SELECT COUNT(*) FROM population p WHERE p.la_code = l.la_code),
                (SELECT COUNT(*) FROM unit_costs c WHERE c.la_code = l.la_code),
                (SELECT COUNT(*) FROM valid_states v WHERE v.la_code = l.la_code),
                (SELECT COUNT(*) FROM plan_records r WHERE r.la_code = l.la_code),
                (SELECT COUNT(DISTINCT r.child_id) FROM plan_records r WHERE r.la_code = l.la_code),
                (SELECT COUNT(*) FROM budget_lines b WHERE b.la_code = l.la_code),
                (SELECT MAX(r.census_year) FROM plan_records r WHERE r.la_code = l.la_code),
                (SELECT MAX(t.calendar_year) FROM transitions t WHERE t.la_code = l.la_code),
                (SELECT COUNT(*) FROM (
                    SELECT r.census_year FROM plan_records r WHERE r.la_code = l.la_code
                    UNION SELECT t.calendar_year FROM transitions t WHERE t.la_code = l.la_code
                    UNION SELECT t.calendar_year + 1 FROM transitions t WHERE t.la_code = l.la_code))
             FROM las l ORDER BY l.la_code",
        )
        .fetch_all(&self.pool)
        .await?;
        let count = |row: &sqlx::sqlite::SqliteRow, i: usize| -> Result<u64, StoreError> {
            let n: i64 = row.try_get(i)?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let code: String = row.try_get(0)?;
            let latest_plan: Option<i32> = row.try_get(9)?;
            let latest_transition: Option<i32> = row.try_get(10)?;
            let latest = latest_plan.max(latest_transition.map(|y| y + 1));
            let latest_census = match latest {
                Some(y) => Some(CensusYear::new(y).map_err(|e| StoreError::Unreadable {
                    table: "plan_records",
                    detail: format!("LA {code}: {e}"),
                })?),
                None => None,
            };
            out.push(LaSummary {
                name: row.try_get(1)?,
                transitions: count(row, 2)?,
                population_rows: count(row, 3)?,
                unit_costs: count(row, 4)?,
                valid_states: count(row, 5)?,
                plan_records: count(row, 6)?,
                children: count(row, 7)?,
                budget_lines: count(row, 8)?,
                censuses: count(row, 11)?,
                latest_census,
                code,
            });
        }
        Ok(out)
    }

    /// The LA's latest import id (`None` before its first import): what changes when its data changes.
    pub async fn latest_import_id(&self, la_code: &str) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT MAX(import_id) FROM imports WHERE la_code = ?")
            .bind(la_code)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }

    /// The import log, oldest first, for one LA or (with `None`) for every LA.
    pub async fn import_log(
        &self,
        la_code: Option<&str>,
    ) -> Result<Vec<ImportLogEntry>, StoreError> {
        const ALL: &str =
            "SELECT f.import_id, f.la_code, f.kind, f.file_name, f.sha256, f.row_count,
                i.imported_at, i.imported_by
             FROM import_files f JOIN imports i ON i.import_id = f.import_id
             ORDER BY f.import_id, f.file_no";
        const ONE: &str =
            "SELECT f.import_id, f.la_code, f.kind, f.file_name, f.sha256, f.row_count,
                i.imported_at, i.imported_by
             FROM import_files f JOIN imports i ON i.import_id = f.import_id
             WHERE f.la_code = ?
             ORDER BY f.import_id, f.file_no";
        let rows = match la_code {
            Some(code) => sqlx::query(ONE).bind(code).fetch_all(&self.pool).await?,
            None => sqlx::query(ALL).fetch_all(&self.pool).await?,
        };
        rows.iter()
            .map(|row| {
                let rows: i64 = row.try_get(5)?;
                Ok(ImportLogEntry {
                    import_id: row.try_get(0)?,
                    la_code: row.try_get(1)?,
                    kind: row.try_get(2)?,
                    file_name: row.try_get(3)?,
                    sha256: row.try_get(4)?,
                    rows: u64::try_from(rows).unwrap_or(0),
                    imported_at: row.try_get(6)?,
                    imported_by: row.try_get(7)?,
                })
            })
            .collect()
    }
}
