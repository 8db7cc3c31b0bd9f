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
