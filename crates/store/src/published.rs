//! The DfE's published statistics in the database (migration 0006): `import_published` replaces the years a
//! release covers, `load_published` gives the release back as the reader made it.

use highneeds_domain::published::Measure;
use highneeds_domain::{AgeGroup, CanonicalSetting, LaCode, PublishedStatistics};
use sqlx::Row;

use crate::{Store, StoreError};

/// A measure's code in the database.
pub fn measure_code(m: Measure) -> String {
    match m {
        Measure::Plans => "plans".into(),
        Measure::Statements => "statements".into(),
        Measure::PlansByAge(a) => format!("plans_by_age:{}", a.code()),
        Measure::PlansBySetting(s) => format!("plans_by_setting:{}", s.code()),
        Measure::NewPlans => "new_plans".into(),
        Measure::NewPlansByAge(a) => format!("new_plans_by_age:{}", a.code()),
        Measure::Requests => "requests".into(),
        Measure::RequestsRefused => "requests_refused".into(),
        Measure::PlansIssued => "plans_issued".into(),
        Measure::IssuedWithin20Weeks => "issued_within_20_weeks".into(),
        Measure::Mediations => "mediations".into(),
        Measure::Tribunals => "tribunals".into(),
    }
}

/// The measure of a code written by [`measure_code`].
pub fn measure_of(code: &str) -> Option<Measure> {
    if let Some(a) = code.strip_prefix("plans_by_age:") {
        return AgeGroup::from_code(a).map(Measure::PlansByAge);
    }
    if let Some(a) = code.strip_prefix("new_plans_by_age:") {
        return AgeGroup::from_code(a).map(Measure::NewPlansByAge);
    }
    if let Some(s) = code.strip_prefix("plans_by_setting:") {
        return s
            .parse::<CanonicalSetting>()
            .ok()
            .map(Measure::PlansBySetting);
    }
    Some(match code {
        "plans" => Measure::Plans,
        "statements" => Measure::Statements,
        "new_plans" => Measure::NewPlans,
        "requests" => Measure::Requests,
        "requests_refused" => Measure::RequestsRefused,
        "plans_issued" => Measure::PlansIssued,
        "issued_within_20_weeks" => Measure::IssuedWithin20Weeks,
        "mediations" => Measure::Mediations,
        "tribunals" => Measure::Tribunals,
        _ => return None,
    })
}

impl Store {
    /// Store a release in one transaction: every stored figure of a year the release covers is replaced.
    /// Returns the rows written.
    pub async fn import_published(&self, stats: &PublishedStatistics) -> Result<u64, StoreError> {
        let years: std::collections::BTreeSet<i32> = stats
            .figures
            .keys()
            .chain(stats.suppressed.iter())
            .map(|(_, _, y)| *y)
            .collect();
        let mut tx = self.pool.begin().await?;
        for y in &years {
            sqlx::query("DELETE FROM published_figures WHERE year = ?")
                .bind(y)
                .execute(&mut *tx)
                .await?;
        }
        let mut rows = 0u64;
        let cells = stats
            .figures
            .iter()
            .map(|(k, v)| (k, Some(*v)))
            .chain(stats.suppressed.iter().map(|k| (k, None)));
        for ((la, m, y), v) in cells {
            let amount = v.map(|v| i64::try_from(v).unwrap_or(i64::MAX));
            sqlx::query(
                "INSERT INTO published_figures (la_code, measure, year, amount) VALUES (?, ?, ?, ?)
                 ON CONFLICT (la_code, measure, year) DO UPDATE SET amount = excluded.amount",
            )
            .bind(la.as_str())
            .bind(measure_code(*m))
            .bind(y)
            .bind(amount)
            .execute(&mut *tx)
            .await?;
            rows += 1;
        }
        for (la, name) in &stats.names {
            sqlx::query(
                "INSERT INTO published_las (la_code, la_name) VALUES (?, ?)
                 ON CONFLICT (la_code) DO UPDATE SET la_name = excluded.la_name",
            )
            .bind(la.as_str())
            .bind(name)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(rows)
    }

    /// How many published figures are stored (what changes when a release is imported).
    pub async fn published_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM published_figures")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?)
    }

    /// The stored release (`None` if nothing was imported).
    pub async fn load_published(&self) -> Result<Option<PublishedStatistics>, StoreError> {
        let rows = sqlx::query("SELECT la_code, measure, year, amount FROM published_figures")
            .fetch_all(&self.pool)
            .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let unreadable = |detail: String| StoreError::Unreadable {
            table: "published_figures",
            detail,
        };
        let mut stats = PublishedStatistics::default();
        for row in &rows {
            let code: String = row.try_get(0)?;
            let la: LaCode = code
                .parse()
                .map_err(|e| unreadable(format!("{code}: {e}")))?;
            let m: String = row.try_get(1)?;
            let measure = measure_of(&m).ok_or_else(|| unreadable(format!("measure {m}")))?;
            let year: i32 = row.try_get(2)?;
            let amount: Option<i64> = row.try_get(3)?;
            match amount {
                Some(v) => {
                    let v = u64::try_from(v)
                        .map_err(|_| unreadable(format!("{code} {m} {year}: {v}")))?;
                    stats.figures.insert((la, measure, year), v);
                }
                None => {
                    stats.suppressed.insert((la, measure, year));
                }
            }
        }
        for row in sqlx::query("SELECT la_code, la_name FROM published_las")
            .fetch_all(&self.pool)
            .await?
        {
            let code: String = row.try_get(0)?;
            let la: LaCode = code
                .parse()
                .map_err(|e| unreadable(format!("{code}: {e}")))?;
            stats.names.insert(la, row.try_get(1)?);
        }
        Ok(Some(stats))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_measure_code_reads_back() {
        let mut all = vec![
            Measure::Plans,
            Measure::Statements,
            Measure::NewPlans,
            Measure::Requests,
            Measure::RequestsRefused,
            Measure::PlansIssued,
            Measure::IssuedWithin20Weeks,
            Measure::Mediations,
            Measure::Tribunals,
        ];
        for a in AgeGroup::ALL {
            all.push(Measure::PlansByAge(a));
            all.push(Measure::NewPlansByAge(a));
        }
        for s in CanonicalSetting::ALL {
            all.push(Measure::PlansBySetting(s));
        }
        for m in all {
            assert_eq!(measure_of(&measure_code(m)), Some(m), "{}", measure_code(m));
        }
        assert_eq!(measure_of("plans_by_age:6_9"), None);
    }
}
