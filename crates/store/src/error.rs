//! What can go wrong with the database, in words an LA officer understands.

use std::path::PathBuf;

/// An error from the store. Every import error means nothing was saved.
///
/// Each message already says what the database reported, so no variant has an error `source`: printed with its
/// chain (`{:#}`, as the CLI does) the database's words would otherwise appear twice.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or created.
    #[error("database file {path} could not be opened: {cause}")]
    Open { path: PathBuf, cause: sqlx::Error },
    /// The database file opened but its tables could not be created or brought up to date.
    #[error("database file {path} could not be brought up to date: {cause}")]
    Migrate {
        path: PathBuf,
        cause: sqlx::migrate::MigrateError,
    },
    /// `load_history` found nothing and the caller needs it (see [`crate::Store::require_history`]).
    #[error("LA {la_code} has no transition data: import witan files first")]
    NoTransitionData { la_code: String },
    /// The LA code or name is not acceptable.
    #[error("{value:?} is not a valid LA {what}: expected {expected}")]
    InvalidLa {
        what: &'static str,
        value: String,
        expected: &'static str,
    },
    /// The import was refused before anything was written (nothing was saved).
    #[error("import refused, nothing was saved: {0}")]
    InvalidImport(String),
    /// The database refused a row (a duplicate key or a broken rule); the whole import was rolled back.
    #[error("import rejected by the database, nothing was saved: {detail}")]
    Rejected { detail: String },
    /// Another program held the database for longer than the busy timeout.
    #[error("the database is busy (another import or program is using it); try again: {0}")]
    Busy(sqlx::Error),
    /// The database holds a value this version of highneeds cannot read.
    #[error("the database holds a value this version cannot read ({table}): {detail}")]
    Unreadable { table: &'static str, detail: String },
    /// Any other database failure.
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

/// Duplicate-key rules an LA officer can act on, by the columns SQLite names in its message.
const KNOWN_DUPLICATES: &[(&str, &str)] = &[
    (
        "population.la_code, population.census_year, population.ncy",
        "the population data has two rows for the same census year and NCY",
    ),
    (
        "unit_costs.la_code, unit_costs.need, unit_costs.setting, unit_costs.age_group",
        "the costs data has two rows for the same need, setting and age group",
    ),
    (
        "valid_states.la_code, valid_states.setting",
        "the valid-states data lists the same setting twice",
    ),
];

impl StoreError {
    /// Classify a database error: constraint violations become [`StoreError::Rejected`], locks [`StoreError::Busy`].
    pub(crate) fn from_db(err: sqlx::Error) -> Self {
        if let Some(db) = err.as_database_error() {
            let message = db.message().to_string();
            let detail = if db.is_unique_violation() {
                let what = KNOWN_DUPLICATES
                    .iter()
                    .find(|(columns, _)| message.contains(columns))
                    .map_or("two rows have the same key", |(_, words)| words);
                Some(format!("{what} ({message})"))
            } else if db.is_check_violation() {
                Some(format!("a value breaks a rule of the database ({message})"))
            } else if db.is_foreign_key_violation() {
                Some(format!(
                    "a row refers to something that does not exist ({message})"
                ))
            } else if matches!(db.kind(), sqlx::error::ErrorKind::NotNullViolation) {
                Some(format!("a required value is missing ({message})"))
            } else {
                None
            };
            if let Some(detail) = detail {
                return StoreError::Rejected { detail };
            }
            // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
            let code = db.code().and_then(|c| c.parse::<i32>().ok());
            if matches!(code.map(|c| c & 0xff), Some(5 | 6)) {
                return StoreError::Busy(err);
            }
        }
        StoreError::Database(err)
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::from_db(err)
    }
}
