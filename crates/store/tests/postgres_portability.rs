//! The migrations must run unchanged on PostgreSQL (the backend planned for multi-user deployments), so
//! they may use only SQL both databases understand. This test cannot run PostgreSQL; it checks the SQL text
//! for SQLite-only words and for the project's schema rules.

use std::path::Path;

/// SQLite-only (or SQLite-behaving) constructs, matched case-insensitively outside comments.
const SQLITE_ONLY: &[(&str, &str)] = &[
    (
        "AUTOINCREMENT",
        "PostgreSQL has no AUTOINCREMENT: the store assigns ids",
    ),
    ("WITHOUT ROWID", "a SQLite table option"),
    ("ROWID", "SQLite's implicit row id"),
    ("PRAGMA", "SQLite settings belong in the connection options"),
    ("STRICT", "SQLite strict tables"),
    (
        "DATETIME(",
        "a SQLite date function: the store writes RFC 3339 text",
    ),
    ("STRFTIME(", "a SQLite date function"),
    ("JULIANDAY(", "a SQLite date function"),
    ("UNIXEPOCH(", "a SQLite date function"),
    (" DATE(", "a SQLite date function"),
    (" TIME(", "a SQLite date function"),
    ("INSERT OR ", "SQLite conflict syntax: use ON CONFLICT"),
    ("REPLACE INTO", "SQLite conflict syntax: use ON CONFLICT"),
    ("IFNULL(", "use COALESCE"),
    ("GROUP_CONCAT(", "SQLite aggregate"),
    ("INSTR(", "SQLite string function"),
    ("PRINTF(", "SQLite string function"),
    ("TYPEOF(", "SQLite function"),
    ("LAST_INSERT_ROWID(", "SQLite function"),
    ("GLOB", "SQLite operator"),
    ("NOCASE", "SQLite collation"),
    ("BLOB", "PostgreSQL calls it BYTEA"),
    (
        "INTEGER PRIMARY KEY",
        "SQLite turns this into an auto-assigned row id; PostgreSQL does not",
    ),
    ("ATTACH", "SQLite databases"),
    ("VACUUM", "maintenance is not a migration"),
    ("SQLITE_", "SQLite's own tables"),
    ("`", "MySQL/SQLite identifier quotes: use plain names"),
    ("[", "SQL Server/SQLite identifier quotes: use plain names"),
];

/// Types both databases treat the same way.
const PORTABLE_TYPES: &[&str] = &["TEXT", "INTEGER", "BIGINT"];

fn migrations() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no migrations in {}", dir.display());
    files
}

/// The SQL without `--` comments (the comments may name the very words the code must not use).
fn code_only(sql: &str) -> String {
    sql.lines()
        .map(|l| l.split_once("--").map_or(l, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn migrations_use_no_sqlite_only_sql() {
    for (name, sql) in migrations() {
        let code = code_only(&sql).to_uppercase();
        for (word, why) in SQLITE_ONLY {
            assert!(!code.contains(word), "{name} uses {word:?}: {why}");
        }
        assert!(
            !code.contains('"'),
            "{name}: double quotes are identifiers in PostgreSQL, strings in SQLite"
        );
    }
}

#[test]
fn migrations_use_only_portable_column_types() {
    for (name, sql) in migrations() {
        let code = code_only(&sql);
        for statement in code
            .split(';')
            .filter(|s| s.to_uppercase().contains("CREATE TABLE"))
        {
            let body = &statement[statement.find('(').unwrap() + 1..statement.rfind(')').unwrap()];
            for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
                let upper = line.to_uppercase();
                let first = upper.split_whitespace().next().unwrap_or("");
                if [
                    "PRIMARY",
                    "UNIQUE",
                    "CHECK",
                    "FOREIGN",
                    "CONSTRAINT",
                    "OR",
                    "AND",
                    ")",
                ]
                .iter()
                .any(|k| first.starts_with(k))
                {
                    continue;
                }
                let ty = upper
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("")
                    .trim_end_matches(',');
                assert!(
                    PORTABLE_TYPES.contains(&ty),
                    "{name}: column {line:?} has type {ty:?}, not one of {PORTABLE_TYPES:?}"
                );
            }
        }
    }
}

#[test]
fn every_table_is_keyed_by_la_code() {
    for (name, sql) in migrations() {
        let code = code_only(&sql);
        for statement in code
            .split(';')
            .filter(|s| s.to_uppercase().contains("CREATE TABLE"))
        {
            let table = statement
                .split_whitespace()
                .skip_while(|w| !w.eq_ignore_ascii_case("TABLE"))
                .nth(1)
                .unwrap();
            assert!(
                statement.contains("la_code TEXT NOT NULL"),
                "{name}: table {table} has no la_code column"
            );
        }
    }
}

#[test]
fn migration_names_follow_sqlx_versioning() {
    let mut versions = Vec::new();
    for (name, _) in migrations() {
        let (version, rest) = name
            .split_once('_')
            .unwrap_or_else(|| panic!("{name}: expected VERSION_description.sql"));
        assert!(
            version.chars().all(|c| c.is_ascii_digit()),
            "{name}: version must be digits"
        );
        assert!(rest.ends_with(".sql") && rest.len() > 4, "{name}");
        versions.push(version.parse::<i64>().unwrap());
    }
    let mut sorted = versions.clone();
    sorted.dedup();
    assert_eq!(sorted, versions, "migration versions must be unique");
}
