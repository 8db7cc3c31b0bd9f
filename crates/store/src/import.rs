//! Imports: each one a single transaction that writes data rows and import-log rows together, or nothing.

use std::collections::{BTreeSet, HashSet};

use chrono::{SecondsFormat, Utc};
use highneeds_domain::{BudgetLine, CensusRecord, ChildId, PlanHistory, TransitionHistory};
use sqlx::sqlite::{Sqlite, SqliteConnection};
use sqlx::{Row, Transaction};

use crate::batch::Insert;
use crate::{ImportOutcome, ImportedFile, LaRef, Store, StoreError};

/// Which data an import replaces or updates (the `imports.operation` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    /// witan.send's four files: replaces the LA's transitions, population, unit costs and valid states.
    History,
    /// Person-level plan records: upserted by (child, census).
    Plans,
    /// Budget lines: upserted by (financial year, kind, line).
    Budget,
}

impl Operation {
    fn code(self) -> &'static str {
        match self {
            Self::History => "history",
            Self::Plans => "plans",
            Self::Budget => "budget",
        }
    }
}

/// An import that passed its checks: the open transaction and the id its rows carry.
pub(crate) struct Begun {
    pub(crate) tx: Transaction<'static, Sqlite>,
    pub(crate) import_id: i64,
}

pub(crate) enum Start {
    Already(ImportOutcome),
    Write(Begun),
}

const TRANSITIONS: Insert = Insert {
    head: "INSERT INTO transitions (la_code, seq, calendar_year, ncy_before, need_before, setting_before, \
           ncy_after, need_after, setting_after, import_id)",
    columns: 10,
    tail: "",
};
/// Write transitions numbered from `after_seq + 1` (witan.send sets and SEN2 imports share this table).
pub(crate) async fn insert_transitions(
    conn: &mut SqliteConnection,
    code: &str,
    after_seq: i64,
    transitions: &[highneeds_domain::Transition],
    import_id: i64,
) -> Result<u64, StoreError> {
    let mut seq = after_seq;
    TRANSITIONS
        .run(conn, transitions, |q, t| {
            seq += 1;
            let (b, a) = (t.before.as_ref(), t.after.as_ref());
            Ok(q.bind(code)
                .bind(seq)
                .bind(t.from_census.year())
                .bind(b.map(|s| s.ncy.value()))
                .bind(b.map(|s| s.need.as_str()))
                .bind(b.map(|s| s.setting.as_str()))
                .bind(a.map(|s| s.ncy.value()))
                .bind(a.map(|s| s.need.as_str()))
                .bind(a.map(|s| s.setting.as_str()))
                .bind(import_id))
        })
        .await
}

const POPULATION: Insert = Insert {
    head: "INSERT INTO population (la_code, seq, census_year, ncy, population, import_id)",
    columns: 6,
    tail: "",
};
const UNIT_COSTS: Insert = Insert {
    head: "INSERT INTO unit_costs (la_code, seq, need, setting, age_group, annual_pence, \
           place_funding_pence, import_id)",
    columns: 8,
    tail: "",
};
const VALID_STATES: Insert = Insert {
    head: "INSERT INTO valid_states (la_code, seq, setting, setting_group, min_ncy, max_ncy, needs, moves_to, \
           import_id)",
    columns: 9,
    tail: "",
};
const PLAN_RECORDS: Insert = Insert {
    head: "INSERT INTO plan_records (la_code, child_id, census_year, ncy, need, setting, urn, import_id)",
    columns: 8,
    tail: "ON CONFLICT (la_code, child_id, census_year) DO UPDATE SET ncy = excluded.ncy, \
           need = excluded.need, setting = excluded.setting, urn = excluded.urn, import_id = excluded.import_id",
};
const BUDGET_LINES: Insert = Insert {
    head: "INSERT INTO budget_lines (la_code, financial_year, kind, line, amount_pence, import_id)",
    columns: 6,
    tail: "ON CONFLICT (la_code, financial_year, kind, line) DO UPDATE SET \
           amount_pence = excluded.amount_pence, import_id = excluded.import_id",
};

impl Store {
    /// Import a witan.send set (transitions, population, unit costs, valid states) for one LA.
    ///
    /// A witan set is a snapshot: it **replaces** the LA's previous transitions, population, unit costs and
    /// valid states (other LAs and this LA's plans and budget are untouched). Returns
    /// [`ImportOutcome::AlreadyImported`] and changes nothing when `files` are exactly the files (kind and
    /// SHA-256) of the LA's latest history import. `user` is recorded in the import log (`"unknown"` if blank).
    pub async fn import_history(
        &self,
        la: &LaRef,
        history: &TransitionHistory,
        files: &[ImportedFile],
        user: &str,
    ) -> Result<ImportOutcome, StoreError> {
        let Begun { mut tx, import_id } = match self
            .start_import(la, files, user, Operation::History)
            .await?
        {
            Start::Already(outcome) => return Ok(outcome),
            Start::Write(begun) => begun,
        };
        let code = la.code.as_str();
        for table in [
            "DELETE FROM transitions WHERE la_code = ?",
            "DELETE FROM population WHERE la_code = ?",
            "DELETE FROM unit_costs WHERE la_code = ?",
            "DELETE FROM valid_states WHERE la_code = ?",
        ] {
            sqlx::query(table).bind(code).execute(&mut *tx).await?;
        }
        let conn: &mut SqliteConnection = &mut tx;
        let mut rows = 0;

        rows += insert_transitions(conn, code, 0, &history.transitions, import_id).await?;

        let mut seq = 0_i64;
        rows += POPULATION
            .run(conn, &history.population, |q, p| {
                seq += 1;
                let population = i64::try_from(p.population).map_err(|_| {
                    StoreError::InvalidImport(format!(
                        "population {} for census {} NCY {} is too large",
                        p.population, p.census_year, p.ncy
                    ))
                })?;
                Ok(q.bind(code)
                    .bind(seq)
                    .bind(p.census_year.year())
                    .bind(p.ncy.value())
                    .bind(population)
                    .bind(import_id))
            })
            .await?;

        let mut seq = 0_i64;
        rows += UNIT_COSTS
            .run(conn, &history.costs, |q, c| {
                seq += 1;
                Ok(q.bind(code)
                    .bind(seq)
                    .bind(c.need.as_str())
                    .bind(c.setting.as_str())
                    .bind(c.age_group.map_or("", |g| g.code()))
                    .bind(c.annual.pence())
                    .bind(c.place_funding.map(|p| p.pence()))
                    .bind(import_id))
            })
            .await?;

        let mut seq = 0_i64;
        rows += VALID_STATES
            .run(conn, &history.valid_states, |q, v| {
                seq += 1;
                let needs: Vec<&str> = v.needs.iter().map(|n| n.as_str()).collect();
                let moves_to: Vec<&str> = v.moves_to.iter().map(|s| s.as_str()).collect();
                Ok(q.bind(code)
                    .bind(seq)
                    .bind(v.setting.as_str())
                    .bind(v.group.as_str())
                    .bind(v.min_ncy.value())
                    .bind(v.max_ncy.value())
                    .bind(needs.join(","))
                    .bind(moves_to.join(","))
                    .bind(import_id))
            })
            .await?;

        tx.commit().await?;
        Ok(ImportOutcome::Imported { import_id, rows })
    }

    /// Import person-level plan histories for one LA: each (child, census) record is inserted or, if the LA
    /// already has one for that child and census, replaced. Records not in `histories` are kept.
    ///
    /// A child may appear in only one history of an import. Returns [`ImportOutcome::AlreadyImported`] and
    /// changes nothing when every file's SHA-256 was logged before for this LA and kind.
    pub async fn import_plans(
        &self,
        la: &LaRef,
        histories: &[PlanHistory],
        files: &[ImportedFile],
        user: &str,
    ) -> Result<ImportOutcome, StoreError> {
        let mut seen: HashSet<&ChildId> = HashSet::with_capacity(histories.len());
        if let Some(h) = histories.iter().find(|h| !seen.insert(&h.child)) {
            return Err(StoreError::InvalidImport(format!(
                "child {} appears in two plan histories; each child must appear once",
                h.child
            )));
        }
        let records: Vec<(&ChildId, &CensusRecord)> = histories
            .iter()
            .flat_map(|h| h.records().iter().map(move |r| (&h.child, r)))
            .collect();
        let Begun { mut tx, import_id } =
            match self.start_import(la, files, user, Operation::Plans).await? {
                Start::Already(outcome) => return Ok(outcome),
                Start::Write(begun) => begun,
            };
        let code = la.code.as_str();
        let rows = PLAN_RECORDS
            .run(&mut tx, &records, |q, (child, r)| {
                Ok(q.bind(code)
                    .bind(child.as_str())
                    .bind(r.census_year.year())
                    .bind(r.state.ncy.value())
                    .bind(r.state.need.as_str())
                    .bind(r.state.setting.as_str())
                    .bind(r.urn.map(|u| i64::from(u.value())))
                    .bind(import_id))
            })
            .await?;
        tx.commit().await?;
        Ok(ImportOutcome::Imported { import_id, rows })
    }

    /// Import budget lines for one LA: each (financial year, kind, line) is inserted or, if the LA already has
    /// it, its amount replaced. Lines not in `lines` are kept.
    ///
    /// A (financial year, kind, line) may appear only once in an import. Returns
    /// [`ImportOutcome::AlreadyImported`] and changes nothing when every file's SHA-256 was logged before for
    /// this LA and kind.
    pub async fn import_budget(
        &self,
        la: &LaRef,
        lines: &[BudgetLine],
        files: &[ImportedFile],
        user: &str,
    ) -> Result<ImportOutcome, StoreError> {
        let mut seen = HashSet::with_capacity(lines.len());
        if let Some(l) = lines
            .iter()
            .find(|l| !seen.insert((l.financial_year, l.kind, l.line.as_str())))
        {
            return Err(StoreError::InvalidImport(format!(
                "budget line {:?} ({}, {}) appears twice",
                l.line, l.kind, l.financial_year
            )));
        }
        let Begun { mut tx, import_id } = match self
            .start_import(la, files, user, Operation::Budget)
            .await?
        {
            Start::Already(outcome) => return Ok(outcome),
            Start::Write(begun) => begun,
        };
        let code = la.code.as_str();
        let rows = BUDGET_LINES
            .run(&mut tx, lines, |q, l| {
                Ok(q.bind(code)
                    .bind(l.financial_year.start_year())
                    .bind(l.kind.code())
                    .bind(l.line.as_str())
                    .bind(l.amount.pence())
                    .bind(import_id))
            })
            .await?;
        tx.commit().await?;
        Ok(ImportOutcome::Imported { import_id, rows })
    }

    /// Check the import, take the write lock, recognise a re-import, and write the LA and import-log rows.
    pub(crate) async fn start_import(
        &self,
        la: &LaRef,
        files: &[ImportedFile],
        user: &str,
        op: Operation,
    ) -> Result<Start, StoreError> {
        check_la(la)?;
        let files = check_files(files)?;
        let user = match user.trim() {
            "" => "unknown",
            u => u,
        };
        // BEGIN IMMEDIATE takes SQLite's write lock now, so a concurrent import waits (busy timeout) instead
        // of failing when it first writes.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        if let Some(outcome) = already_imported(&mut tx, &la.code, &files, op).await? {
            tx.rollback().await?;
            return Ok(Start::Already(outcome));
        }
        sqlx::query(
            "INSERT INTO las (la_code, la_name) VALUES (?, ?) \
             ON CONFLICT (la_code) DO UPDATE SET la_name = excluded.la_name",
        )
        .bind(la.code.as_str())
        .bind(la.name.trim())
        .execute(&mut *tx)
        .await?;
        let import_id: i64 = sqlx::query("SELECT COALESCE(MAX(import_id), 0) + 1 FROM imports")
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
        sqlx::query(
            "INSERT INTO imports (import_id, la_code, operation, imported_at, imported_by) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(import_id)
        .bind(la.code.as_str())
        .bind(op.code())
        .bind(now)
        .bind(user)
        .execute(&mut *tx)
        .await?;
        for (no, f) in files.iter().enumerate() {
            sqlx::query(
                "INSERT INTO import_files (import_id, file_no, la_code, kind, file_name, sha256, row_count) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(import_id)
            .bind(i64::try_from(no + 1).unwrap_or(i64::MAX))
            .bind(la.code.as_str())
            .bind(f.kind.as_str())
            .bind(f.file_name.as_str())
            .bind(f.sha256.as_str())
            .bind(f.rows)
            .execute(&mut *tx)
            .await?;
        }
        // The audit log records the import in the same transaction: both are written, or neither.
        let names: Vec<&str> = files.iter().map(|f| f.file_name.as_str()).collect();
        let kind = files.first().map_or("", |f| f.kind.as_str());
        crate::accounts::audit_in(
            &mut tx,
            &la.code,
            user,
            "import",
            &format!("{kind} {}: import {import_id}", names.join(", ")),
        )
        .await?;
        Ok(Start::Write(Begun { tx, import_id }))
    }
}

/// A file of an import, checked and normalised (hash in lower case, row count as BIGINT).
struct CheckedFile {
    kind: String,
    file_name: String,
    sha256: String,
    rows: i64,
}

/// A value for a message: whole up to 60 characters, else its first 60 and a count of the rest.
fn shorten_for_message(value: &str) -> String {
    let n = value.chars().count();
    if n <= 60 {
        return value.to_string();
    }
    let head: String = value.chars().take(60).collect();
    format!("{head}…({} more characters)", n - 60)
}

fn check_la(la: &LaRef) -> Result<(), StoreError> {
    let code = la.code.as_str();
    if code.is_empty()
        || code.len() > 20
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(StoreError::InvalidLa {
            what: "code",
            value: shorten_for_message(&la.code),
            expected: "1-20 letters, digits, - or _ (e.g. E06000037 or 867)",
        });
    }
    let name = la.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(StoreError::InvalidLa {
            what: "name",
            value: shorten_for_message(&la.name),
            expected: "1-200 characters",
        });
    }
    Ok(())
}

fn check_files(files: &[ImportedFile]) -> Result<Vec<CheckedFile>, StoreError> {
    if files.is_empty() {
        return Err(StoreError::InvalidImport(
            "no files were given: an import must name the file(s) it came from".into(),
        ));
    }
    files
        .iter()
        .map(|f| {
            let kind = f.kind.trim();
            if kind.is_empty() || kind.len() > 40 {
                return Err(StoreError::InvalidImport(format!(
                    "file {:?} has no kind (expected e.g. witan, plans, budget)",
                    f.file_name
                )));
            }
            if f.file_name.trim().is_empty() {
                return Err(StoreError::InvalidImport("a file has no name".into()));
            }
            if f.sha256.len() != 64 || !f.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(StoreError::InvalidImport(format!(
                    "file {:?}: {:?} is not a SHA-256 hash (64 hexadecimal digits)",
                    f.file_name, f.sha256
                )));
            }
            let rows = i64::try_from(f.rows).map_err(|_| {
                StoreError::InvalidImport(format!(
                    "file {:?}: row count {} is too large",
                    f.file_name, f.rows
                ))
            })?;
            Ok(CheckedFile {
                kind: kind.to_owned(),
                file_name: f.file_name.clone(),
                sha256: f.sha256.to_ascii_lowercase(),
                rows,
            })
        })
        .collect()
}

/// Whether these files are what the LA's latest import of this operation already holds: the same set of
/// (kind, SHA-256). Only the latest counts — of any kind of file, since a witan.send set and SEN2 returns both
/// replace transitions — so re-importing an older file after a newer one (A → B → A, or witan → SEN2 → witan)
/// imports it again and the database ends up matching the files the user just gave.
async fn already_imported(
    conn: &mut SqliteConnection,
    la_code: &str,
    files: &[CheckedFile],
    op: Operation,
) -> Result<Option<ImportOutcome>, StoreError> {
    let latest = sqlx::query(
        "SELECT i.import_id, i.imported_at FROM imports i \
         WHERE i.la_code = ? AND i.operation = ? \
         ORDER BY i.import_id DESC LIMIT 1",
    )
    .bind(la_code)
    .bind(op.code())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(latest) = latest else {
        return Ok(None);
    };
    let import_id: i64 = latest.try_get(0)?;
    let logged: BTreeSet<(String, String)> =
        sqlx::query("SELECT kind, sha256 FROM import_files WHERE import_id = ?")
            .bind(import_id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()?;
    let given: BTreeSet<(String, String)> = files
        .iter()
        .map(|f| (f.kind.clone(), f.sha256.clone()))
        .collect();
    Ok((logged == given).then(|| ImportOutcome::AlreadyImported {
        import_id,
        imported_at: latest.try_get(1).unwrap_or_default(),
    }))
}
