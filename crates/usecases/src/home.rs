//! Where `highneeds` keeps its files on each OS: one database per user, and the SEN2 keys beside it, in the
//! platform's own folders (the `directories` crate).
//!
//! | | Linux | macOS | Windows |
//! |---|---|---|---|
//! | database | `$XDG_DATA_HOME/highneeds/highneeds.db` (`~/.local/share/…`) | `~/Library/Application Support/highneeds/highneeds.db` | `%LOCALAPPDATA%\highneeds\data\highneeds.db` |
//! | SEN2 keys | `$XDG_CONFIG_HOME/highneeds/<LA>.sen2-key` (`~/.config/…`) | `~/Library/Application Support/highneeds/<LA>.sen2-key` | `%APPDATA%\highneeds\config\<LA>.sen2-key` |
//!
//! The database a command uses is `--db` if given, else `$HIGHNEEDS_DB`, else the per-user one: so
//! `highneeds import budget FILE` then `highneeds forecast` use the same database with no option at all, and
//! `highneeds status` says which it is.

use std::path::{Path, PathBuf};

use directories::ProjectDirs;

/// The environment variable naming the database when `--db` is not given.
pub const DATABASE_VARIABLE: &str = "HIGHNEEDS_DB";
/// The database's file name in the per-user data folder.
pub const DATABASE_FILE: &str = "highneeds.db";

/// How the database in use was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chosen {
    /// `--db PATH` on the command line.
    Option,
    /// `$HIGHNEEDS_DB`.
    Environment,
    /// The per-user database (neither was given).
    PerUser,
}

impl Chosen {
    pub fn describe(self) -> &'static str {
        match self {
            Chosen::Option => "given with --db",
            Chosen::Environment => "from $HIGHNEEDS_DB",
            Chosen::PerUser => "your own database (neither --db nor $HIGHNEEDS_DB was given)",
        }
    }
}

fn project() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "highneeds")
}

/// The per-user data folder; the temporary folder when the user has no home folder.
pub fn data_folder() -> PathBuf {
    project()
        // The local (not roaming) folder: on Windows %LOCALAPPDATA%, since %APPDATA% is often redirected to a
        // network share, where SQLite's write-ahead log does not work. The same folder elsewhere.
        .map(|p| p.data_local_dir().to_path_buf())
        .unwrap_or_else(|| std::env::temp_dir().join("highneeds"))
}

/// The folder the SEN2 keys live in by default, or `None` when the user has no home folder.
pub fn key_folder() -> Option<PathBuf> {
    project().map(|p| p.config_dir().to_path_buf())
}

/// The database a command uses: `given` (`--db`), else `$HIGHNEEDS_DB` (if set and not empty), else the
/// per-user one.
pub fn database(given: Option<&Path>) -> (PathBuf, Chosen) {
    if let Some(path) = given {
        return (path.to_path_buf(), Chosen::Option);
    }
    match std::env::var_os(DATABASE_VARIABLE).filter(|v| !v.is_empty()) {
        Some(path) => (PathBuf::from(path), Chosen::Environment),
        None => (data_folder().join(DATABASE_FILE), Chosen::PerUser),
    }
}

/// `database(None)`'s path: what a `--db` option defaults to.
pub fn default_database() -> PathBuf {
    database(None).0
}

/// Create the folder a new database goes in (only the per-user one: a folder the user named must exist), readable
/// by its owner only on Unix.
pub fn prepare_folder(db: &Path, chosen: Chosen) -> std::io::Result<()> {
    if chosen != Chosen::PerUser || db.exists() {
        return Ok(());
    }
    let Some(folder) = db.parent() else {
        return Ok(());
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(folder)
}

/// [`prepare_folder`] for a path that may or may not be the per-user database (an option's default value).
pub fn prepare_per_user_folder(db: &Path) -> std::io::Result<()> {
    if db == data_folder().join(DATABASE_FILE) {
        prepare_folder(db, Chosen::PerUser)
    } else {
        Ok(())
    }
}

// Tested from outside, with the environment set as a user sets it: `crates/cli/tests/one_database.rs`.
