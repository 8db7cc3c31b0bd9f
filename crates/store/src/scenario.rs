//! Scenarios: every saved version of an LA's DBV plan, kept as the TOML text (what the officer edits), with who
//! saved it and when. Versions are only ever added.

use chrono::{SecondsFormat, Utc};
use sqlx::Row;

use crate::{Store, StoreError};

/// One saved version of a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioVersion {
    pub la_code: String,
    pub name: String,
    pub version: i64,
    /// The scenario file (TOML).
    pub body: String,
    pub saved_at: String,
    pub saved_by: String,
}

/// A scenario with its latest version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioSummary {
    pub name: String,
    pub versions: i64,
    pub saved_at: String,
    pub saved_by: String,
}

impl Store {
    /// Save a new version of an LA's scenario (version 1 if new); returns the version number. The LA must exist.
    pub async fn save_scenario(
        &self,
        la_code: &str,
        name: &str,
        body: &str,
        user: &str,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let la: Option<String> = sqlx::query("SELECT la_code FROM las WHERE la_code = ?")
            .bind(la_code)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        if la.is_none() {
            tx.rollback().await?;
            return Err(StoreError::Unreadable {
                table: "las",
                detail: format!("LA {la_code} is not in the database: import its data first"),
            });
        }
        let version: i64 = sqlx::query(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM scenario_versions WHERE la_code = ? AND name = ?",
        )
        .bind(la_code)
        .bind(name)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
        sqlx::query(
            "INSERT INTO scenario_versions (la_code, name, version, body, saved_at, saved_by) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(la_code)
        .bind(name)
        .bind(version)
        .bind(body)
        .bind(now)
        .bind(user)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    /// An LA's scenarios by name, each with its version count and latest save.
    pub async fn scenarios(&self, la_code: &str) -> Result<Vec<ScenarioSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT v.name, v.version, v.saved_at, v.saved_by FROM scenario_versions v \
             WHERE v.la_code = ? AND v.version = \
               (SELECT MAX(w.version) FROM scenario_versions w WHERE w.la_code = v.la_code AND w.name = v.name) \
             ORDER BY v.name",
        )
        .bind(la_code)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ScenarioSummary {
                    name: r.try_get(0)?,
                    versions: r.try_get(1)?,
                    saved_at: r.try_get(2)?,
                    saved_by: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// Every version of one scenario, oldest first.
    pub async fn scenario_versions(
        &self,
        la_code: &str,
        name: &str,
    ) -> Result<Vec<ScenarioVersion>, StoreError> {
        let rows = sqlx::query(
            "SELECT la_code, name, version, body, saved_at, saved_by FROM scenario_versions \
             WHERE la_code = ? AND name = ? ORDER BY version",
        )
        .bind(la_code)
        .bind(name)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ScenarioVersion {
                    la_code: r.try_get(0)?,
                    name: r.try_get(1)?,
                    version: r.try_get(2)?,
                    body: r.try_get(3)?,
                    saved_at: r.try_get(4)?,
                    saved_by: r.try_get(5)?,
                })
            })
            .collect()
    }
}

/// A Monte-Carlo run of one stored scenario version.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioSimulation {
    pub la_code: String,
    pub name: String,
    pub version: i64,
    /// The LA's latest import id when it ran (`None`: no import): a later import makes it stale.
    pub data_version: Option<i64>,
    pub sims: u32,
    pub seed: u64,
    /// RFC 3339, UTC.
    pub run_at: String,
    pub run_by: String,
    /// How long it ran.
    pub milliseconds: u64,
    /// What `highneeds scenario run --engine monte-carlo --format json` prints for it.
    pub result_json: String,
}

/// A Monte-Carlo run marked as going on: when, by whom, and in which server process (so that another process can
/// tell a run its predecessor stopped during from one going on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulationStart {
    /// RFC 3339, UTC.
    pub started_at: String,
    pub started_by: String,
    pub server: String,
}

impl Store {
    /// Keep a Monte-Carlo run of a stored version (replacing an earlier run of that version). The version must
    /// exist.
    pub async fn save_simulation(&self, run: &ScenarioSimulation) -> Result<(), StoreError> {
        // SQLite integers are signed: the seed's 64 bits are stored as they are and read back the same.
        let seed = run.seed as i64;
        sqlx::query(
            "INSERT INTO scenario_simulations
                (la_code, name, version, data_version, sims, seed, run_at, run_by, milliseconds, result_json)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (la_code, name, version) DO UPDATE SET data_version = excluded.data_version,
                sims = excluded.sims, seed = excluded.seed, run_at = excluded.run_at, run_by = excluded.run_by,
                milliseconds = excluded.milliseconds, result_json = excluded.result_json",
        )
        .bind(&run.la_code)
        .bind(&run.name)
        .bind(run.version)
        .bind(run.data_version)
        .bind(i64::from(run.sims))
        .bind(seed)
        .bind(&run.run_at)
        .bind(&run.run_by)
        .bind(i64::try_from(run.milliseconds).unwrap_or(i64::MAX))
        .bind(&run.result_json)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Mark a stored version's Monte-Carlo run as started (when, by whom, in which server process), replacing an
    /// earlier mark.
    pub async fn simulation_started(
        &self,
        la_code: &str,
        (name, version): (&str, i64),
        start: &SimulationStart,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO scenario_simulation_starts (la_code, name, version, started_at, started_by, server)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (la_code, name, version) DO UPDATE SET started_at = excluded.started_at,
                started_by = excluded.started_by, server = excluded.server",
        )
        .bind(la_code)
        .bind(name)
        .bind(version)
        .bind(&start.started_at)
        .bind(&start.started_by)
        .bind(&start.server)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A stored version's run marked as started and not ended.
    pub async fn simulation_start(
        &self,
        la_code: &str,
        name: &str,
        version: i64,
    ) -> Result<Option<SimulationStart>, StoreError> {
        let row = sqlx::query(
            "SELECT started_at, started_by, server FROM scenario_simulation_starts
             WHERE la_code = ? AND name = ? AND version = ?",
        )
        .bind(la_code)
        .bind(name)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok(Some(SimulationStart {
                started_at: row.try_get(0)?,
                started_by: row.try_get(1)?,
                server: row.try_get(2)?,
            })),
            None => Ok(None),
        }
    }

    /// A stored version's run has ended (kept or failed): its start mark goes.
    pub async fn simulation_ended(
        &self,
        la_code: &str,
        name: &str,
        version: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM scenario_simulation_starts WHERE la_code = ? AND name = ? AND version = ?",
        )
        .bind(la_code)
        .bind(name)
        .bind(version)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The kept Monte-Carlo run of a stored version, if any.
    pub async fn simulation(
        &self,
        la_code: &str,
        name: &str,
        version: i64,
    ) -> Result<Option<ScenarioSimulation>, StoreError> {
        let row = sqlx::query(
            "SELECT data_version, sims, seed, run_at, run_by, milliseconds, result_json
             FROM scenario_simulations WHERE la_code = ? AND name = ? AND version = ?",
        )
        .bind(la_code)
        .bind(name)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let unreadable = |detail: String| StoreError::Unreadable {
            table: "scenario_simulations",
            detail,
        };
        let sims: i64 = row.try_get(1)?;
        let seed: i64 = row.try_get(2)?;
        let milliseconds: i64 = row.try_get(5)?;
        Ok(Some(ScenarioSimulation {
            la_code: la_code.to_string(),
            name: name.to_string(),
            version,
            data_version: row.try_get(0)?,
            sims: u32::try_from(sims).map_err(|_| unreadable(format!("sims {sims}")))?,
            seed: seed as u64,
            run_at: row.try_get(3)?,
            run_by: row.try_get(4)?,
            milliseconds: u64::try_from(milliseconds)
                .map_err(|_| unreadable(format!("milliseconds {milliseconds}")))?,
            result_json: row.try_get(6)?,
        }))
    }
}

impl Store {
    /// Every kept Monte-Carlo run of an LA's scenarios, without their results: (name, version, data version,
    /// sims, run at, run by), by name and version.
    pub async fn simulations(&self, la_code: &str) -> Result<Vec<SimulationSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, version, data_version, sims, run_at, run_by FROM scenario_simulations
             WHERE la_code = ? ORDER BY name, version",
        )
        .bind(la_code)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let sims: i64 = row.try_get(3)?;
            out.push(SimulationSummary {
                name: row.try_get(0)?,
                version: row.try_get(1)?,
                data_version: row.try_get(2)?,
                sims: u32::try_from(sims).map_err(|_| StoreError::Unreadable {
                    table: "scenario_simulations",
                    detail: format!("sims {sims}"),
                })?,
                run_at: row.try_get(4)?,
                run_by: row.try_get(5)?,
            });
        }
        Ok(out)
    }
}

/// A kept Monte-Carlo run without its result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulationSummary {
    pub name: String,
    pub version: i64,
    pub data_version: Option<i64>,
    pub sims: u32,
    pub run_at: String,
    pub run_by: String,
}

/// Now, as the store writes times (RFC 3339, UTC, milliseconds).
pub fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}
