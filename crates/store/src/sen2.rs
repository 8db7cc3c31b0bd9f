//! SEN2 returns: the pseudonymised census of each return, its flows, and the transitions derived from all of
//! an LA's returns — written in one transaction through the same import path (log, SHA-256 re-import rule).

use std::collections::BTreeSet;

use highneeds_domain::sen2::{
    CeaseReason, CeasedPlan, CensusPlan, PersonKey, Sen2Census, Sen2Flows,
};
use highneeds_domain::{CanonicalSetting, CensusYear, Ncy, Sen2Need, Transition, Urn};
use sqlx::{Row, SqliteConnection};

use crate::batch::Insert;
use crate::import::{insert_transitions, Begun, Operation, Start};
use crate::{ImportOutcome, ImportedFile, LaRef, Store, StoreError};

/// One return's header, as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sen2ReturnSummary {
    pub census_year: CensusYear,
    /// `YYYY-MM-DD`.
    pub reference_date: String,
    /// The DfE three-digit LA number the return gave.
    pub lea: Option<String>,
    pub persons: u64,
}

/// What an import of SEN2 returns writes.
#[derive(Debug, Clone, Default)]
pub struct Sen2Import<'a> {
    /// The returns imported now (their censuses replace any stored for the same years).
    pub returns: Vec<Sen2ReturnSummary>,
    pub censuses: &'a [Sen2Census],
    pub flows: &'a [Sen2Flows],
    /// Transitions between consecutive SEN2 censuses (stored and new), from census years `transition_years`.
    pub transitions: &'a [Transition],
    /// The starting census years the transitions cover: the LA's stored transitions from these years are
    /// replaced, others (e.g. earlier years from a witan.send import) are kept.
    pub transition_years: BTreeSet<CensusYear>,
    /// The fingerprint of the key that pseudonymised these returns (`PersonKeyer::fingerprint`), stored for
    /// the LA in the same transaction; `None` leaves the stored one as it is.
    pub key_fingerprint: Option<String>,
}

const RETURNS: Insert = Insert {
    head:
        "INSERT INTO sen2_returns (la_code, census_year, reference_date, lea, persons, import_id)",
    columns: 6,
    tail: "",
};
const PEOPLE: Insert = Insert {
    head: "INSERT INTO sen2_people (la_code, census_year, person_key, pupil_key, ncy, need, setting, urn, \
           ceased, cease_reason, import_id)",
    columns: 11,
    tail: "",
};
const FLOWS: Insert = Insert {
    head: "INSERT INTO sen2_flows (la_code, census_year, measure, breakdown, amount, import_id)",
    columns: 6,
    tail: "",
};

/// One person-row of a census: active plan and/or ceased plan.
struct PersonRow<'a> {
    year: i32,
    key: PersonKey,
    pupil_key: Option<PersonKey>,
    plan: Option<&'a CensusPlan>,
    ceased: Option<&'a CeasedPlan>,
}

fn person_rows(census: &Sen2Census) -> Vec<PersonRow<'_>> {
    let year = census.census_year.year();
    let mut rows: Vec<PersonRow<'_>> = census
        .plans
        .iter()
        .map(|p| PersonRow {
            year,
            key: p.key,
            pupil_key: p.pupil_key,
            plan: Some(p),
            ceased: None,
        })
        .collect();
    let index: std::collections::HashMap<PersonKey, usize> =
        rows.iter().enumerate().map(|(i, r)| (r.key, i)).collect();
    for c in &census.ceased {
        match index.get(&c.key) {
            Some(&i) => {
                if let Some(r) = rows.get_mut(i) {
                    r.ceased = Some(c);
                }
            }
            None => rows.push(PersonRow {
                year,
                key: c.key,
                pupil_key: c.pupil_key,
                plan: None,
                ceased: Some(c),
            }),
        }
    }
    rows
}

impl Store {
    /// Import SEN2 returns for one LA in one transaction: each return's census (replacing any stored for the
    /// same census year), its flows, and the transitions derived from every SEN2 census the LA has (replacing
    /// the LA's transitions from the same starting years). Returns [`ImportOutcome::AlreadyImported`] and
    /// changes nothing when `files` are exactly the files of the LA's latest history import.
    pub async fn import_sen2(
        &self,
        la: &LaRef,
        data: &Sen2Import<'_>,
        files: &[ImportedFile],
        user: &str,
    ) -> Result<ImportOutcome, StoreError> {
        let years = return_years(data)?;
        let Begun { mut tx, import_id } = match self
            .start_import(la, files, user, Operation::History)
            .await?
        {
            Start::Already(outcome) => return Ok(outcome),
            Start::Write(begun) => begun,
        };
        let code = la.code.as_str();
        clear_replaced_years(&mut tx, code, &years, &data.transition_years).await?;
        let mut rows = insert_returns_and_people(&mut tx, code, data, import_id).await?;
        rows += insert_flows(&mut tx, code, data, import_id).await?;
        let first_seq: i64 =
            sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM transitions WHERE la_code = ?")
                .bind(code)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        rows += insert_transitions(&mut tx, code, first_seq, data.transitions, import_id).await?;
        if let Some(fingerprint) = &data.key_fingerprint {
            sqlx::query(
                "INSERT INTO sen2_keys (la_code, fingerprint) VALUES (?, ?) \
                 ON CONFLICT (la_code) DO UPDATE SET fingerprint = excluded.fingerprint",
            )
            .bind(code)
            .bind(fingerprint.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(ImportOutcome::Imported { import_id, rows })
    }

    /// The fingerprint of the key that pseudonymised the LA's stored SEN2 returns, if one was recorded (returns
    /// imported before schema version 4 have none).
    pub async fn sen2_key_fingerprint(&self, la_code: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT fingerprint FROM sen2_keys WHERE la_code = ?")
            .bind(la_code)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get(0)?),
            None => None,
        })
    }

    /// The SEN2 returns stored for an LA, by census year.
    pub async fn sen2_returns(&self, la_code: &str) -> Result<Vec<Sen2ReturnSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT census_year, reference_date, lea, persons FROM sen2_returns WHERE la_code = ? \
             ORDER BY census_year",
        )
        .bind(la_code)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let y: i32 = r.try_get(0)?;
                let persons: i64 = r.try_get(3)?;
                Ok(Sen2ReturnSummary {
                    census_year: CensusYear::new(y).map_err(|e| StoreError::Unreadable {
                        table: "sen2_returns",
                        detail: e.to_string(),
                    })?,
                    reference_date: r.try_get(1)?,
                    lea: r.try_get(2)?,
                    persons: u64::try_from(persons).unwrap_or(0),
                })
            })
            .collect()
    }

    /// Every SEN2 census stored for an LA (active plans and ceased plans per census), by census year; people
    /// in the order of their keys.
    pub async fn sen2_censuses(&self, la_code: &str) -> Result<Vec<Sen2Census>, StoreError> {
        let rows = sqlx::query(
            "SELECT census_year, person_key, pupil_key, ncy, need, setting, urn, ceased, cease_reason \
             FROM sen2_people WHERE la_code = ? ORDER BY census_year, person_key",
        )
        .bind(la_code)
        .fetch_all(&self.pool)
        .await?;
        let bad = |detail: String| StoreError::Unreadable {
            table: "sen2_people",
            detail: format!("LA {la_code}: {detail}"),
        };
        let mut out: Vec<Sen2Census> = Vec::new();
        for r in &rows {
            let year: i32 = r.try_get(0)?;
            let census_year = CensusYear::new(year).map_err(|e| bad(e.to_string()))?;
            let key_text: String = r.try_get(1)?;
            let key = PersonKey::from_hex(&key_text)
                .ok_or_else(|| bad("a person key is not 32 hex digits".into()))?;
            let pupil_text: Option<String> = r.try_get(2)?;
            let pupil_key = match pupil_text {
                Some(t) => Some(
                    PersonKey::from_hex(&t)
                        .ok_or_else(|| bad("a pupil key is not 32 hex digits".into()))?,
                ),
                None => None,
            };
            if out.last().is_none_or(|c| c.census_year != census_year) {
                out.push(Sen2Census {
                    census_year,
                    plans: Vec::new(),
                    ceased: Vec::new(),
                });
            }
            let Some(census) = out.last_mut() else {
                continue;
            };
            let ncy: Option<i32> = r.try_get(3)?;
            let need: Option<String> = r.try_get(4)?;
            let setting: Option<String> = r.try_get(5)?;
            let urn: Option<i64> = r.try_get(6)?;
            if let (Some(ncy), Some(need), Some(setting)) = (ncy, need, setting) {
                let ncy = Ncy::new(ncy).map_err(|e| bad(e.to_string()))?;
                let need: Sen2Need = need
                    .parse()
                    .map_err(|e: highneeds_domain::DomainError| bad(e.to_string()))?;
                let setting: CanonicalSetting = setting
                    .parse()
                    .map_err(|e: highneeds_domain::DomainError| bad(e.to_string()))?;
                let urn = match urn {
                    Some(u) => {
                        Some(Urn::parse(&format!("{u:06}")).map_err(|e| bad(e.to_string()))?)
                    }
                    None => None,
                };
                census.plans.push(CensusPlan {
                    key,
                    pupil_key,
                    ncy,
                    need,
                    setting,
                    urn,
                });
            }
            let ceased: i32 = r.try_get(7)?;
            if ceased == 1 {
                let reason: Option<i32> = r.try_get(8)?;
                census.ceased.push(CeasedPlan {
                    key,
                    pupil_key,
                    reason: reason
                        .and_then(|c| u8::try_from(c).ok())
                        .and_then(CeaseReason::from_code),
                });
            }
        }
        Ok(out)
    }

    /// The stored flows of one census: `(measure, breakdown, value)` in measure order.
    pub async fn sen2_flows(
        &self,
        la_code: &str,
        census: CensusYear,
    ) -> Result<Vec<(String, String, u64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT measure, breakdown, amount FROM sen2_flows WHERE la_code = ? AND census_year = ? \
             ORDER BY measure, breakdown",
        )
        .bind(la_code)
        .bind(census.year())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let v: i64 = r.try_get(2)?;
                Ok((r.try_get(0)?, r.try_get(1)?, u64::try_from(v).unwrap_or(0)))
            })
            .collect()
    }
}

/// The census years of the returns, one return each; every census and flows must belong to one of them.
fn return_years(data: &Sen2Import<'_>) -> Result<BTreeSet<CensusYear>, StoreError> {
    let mut years = BTreeSet::new();
    for r in &data.returns {
        if !years.insert(r.census_year) {
            return Err(StoreError::InvalidImport(format!(
                "two returns for census {}: import one return per census year",
                r.census_year
            )));
        }
    }
    if data
        .censuses
        .iter()
        .any(|c| !years.contains(&c.census_year))
        || data.flows.iter().any(|f| !years.contains(&f.census_year))
    {
        return Err(StoreError::InvalidImport(
            "a census or flows for a year with no return".into(),
        ));
    }
    Ok(years)
}

/// Inside the import's transaction, what the import replaces: the stored returns, people and flows of the census
/// years imported again, and the stored transitions from the years whose transitions it recomputes.
async fn clear_replaced_years(
    conn: &mut SqliteConnection,
    code: &str,
    years: &BTreeSet<CensusYear>,
    transition_years: &BTreeSet<CensusYear>,
) -> Result<(), StoreError> {
    for y in years {
        for table in [
            "DELETE FROM sen2_people WHERE la_code = ? AND census_year = ?",
            "DELETE FROM sen2_flows WHERE la_code = ? AND census_year = ?",
            "DELETE FROM sen2_returns WHERE la_code = ? AND census_year = ?",
        ] {
            sqlx::query(table)
                .bind(code)
                .bind(y.year())
                .execute(&mut *conn)
                .await?;
        }
    }
    for y in transition_years {
        sqlx::query("DELETE FROM transitions WHERE la_code = ? AND calendar_year = ?")
            .bind(code)
            .bind(y.year())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Insert the returns and every person of each census; the rows written.
async fn insert_returns_and_people(
    conn: &mut SqliteConnection,
    code: &str,
    data: &Sen2Import<'_>,
    import_id: i64,
) -> Result<u64, StoreError> {
    let mut rows = RETURNS
        .run(conn, &data.returns, |q, r| {
            Ok(q.bind(code)
                .bind(r.census_year.year())
                .bind(r.reference_date.clone())
                .bind(r.lea.clone())
                .bind(i64::try_from(r.persons).unwrap_or(i64::MAX))
                .bind(import_id))
        })
        .await?;
    let people: Vec<PersonRow<'_>> = data.censuses.iter().flat_map(person_rows).collect();
    rows += PEOPLE
        .run(conn, &people, |q, r| {
            Ok(q.bind(code)
                .bind(r.year)
                .bind(r.key.to_string())
                .bind(r.pupil_key.map(|k| k.to_string()))
                .bind(r.plan.map(|p| p.ncy.value()))
                .bind(r.plan.map(|p| p.need.code()))
                .bind(r.plan.map(|p| p.setting.code()))
                .bind(r.plan.and_then(|p| p.urn).map(|u| i64::from(u.value())))
                .bind(i32::from(r.ceased.is_some()))
                .bind(r.ceased.and_then(|c| c.reason).map(|c| i32::from(c.code())))
                .bind(import_id))
        })
        .await?;
    Ok(rows)
}

/// Insert each census's flows, one row per measure and breakdown; the rows written.
async fn insert_flows(
    conn: &mut SqliteConnection,
    code: &str,
    data: &Sen2Import<'_>,
    import_id: i64,
) -> Result<u64, StoreError> {
    let flows: Vec<(i32, &'static str, String, u64)> = data
        .flows
        .iter()
        .flat_map(|f| {
            let y = f.census_year.year();
            f.measures().into_iter().map(move |(m, b, v)| (y, m, b, v))
        })
        .collect();
    FLOWS
        .run(conn, &flows, |q, (y, m, b, v)| {
            Ok(q.bind(code)
                .bind(*y)
                .bind(*m)
                .bind(b.clone())
                .bind(i64::try_from(*v).unwrap_or(i64::MAX))
                .bind(import_id))
        })
        .await
}
