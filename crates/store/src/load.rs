//! Loading an LA's data back into domain types. Need and setting codes are interned (parsed once each).

use highneeds_domain::{
    AgeGroup, BudgetKind, BudgetLine, CensusRecord, CensusYear, ChildId, DomainError,
    FinancialYear, Ncy, Need, Pence, PlanHistory, PopulationCount, Setting, State, Transition,
    TransitionHistory, UnitCost, Urn, ValidSetting,
};
use sqlx::Row;

use crate::intern::Interner;
use crate::{Store, StoreError};

/// Need and setting interners shared by every table of one load.
struct Codes {
    needs: Interner<Need>,
    settings: Interner<Setting>,
}

impl Codes {
    fn new() -> Self {
        Self {
            needs: Interner::new(),
            settings: Interner::new(),
        }
    }
}

fn unreadable<'a>(
    table: &'static str,
    la_code: &'a str,
) -> impl Fn(DomainError) -> StoreError + 'a {
    move |e| StoreError::Unreadable {
        table,
        detail: format!("LA {la_code}: {e}"),
    }
}

/// Rows of the two big tables come back packed into one text value (fields joined by `,`, rows by
/// [`ROW_SEPARATOR`]): one value crosses from SQLite's worker thread instead of tens of thousands of rows,
/// which makes loading several times faster. Codes and child ids never contain `,` or a newline (the domain
/// types refuse them), so the packing is unambiguous. `string_agg(x, sep ORDER BY ...)` and `||` are
/// understood by SQLite (3.44 and later; the bundled library is newer) and by PostgreSQL alike.
const ROW_SEPARATOR: &str = "\n";

const TRANSITIONS_PACKED: &str = "SELECT string_agg(\
    CAST(calendar_year AS TEXT) || ',' || COALESCE(CAST(ncy_before AS TEXT), '') || ',' || \
    COALESCE(need_before, '') || ',' || COALESCE(setting_before, '') || ',' || \
    COALESCE(CAST(ncy_after AS TEXT), '') || ',' || COALESCE(need_after, '') || ',' || \
    COALESCE(setting_after, ''), ? ORDER BY seq) \
    FROM transitions WHERE la_code = ?";

const PLANS_PACKED: &str = "SELECT string_agg(\
    child_id || ',' || CAST(census_year AS TEXT) || ',' || CAST(ncy AS TEXT) || ',' || need || ',' || \
    setting || ',' || COALESCE(CAST(urn AS TEXT), ''), ? ORDER BY child_id, census_year) \
    FROM plan_records WHERE la_code = ?";

/// The `N` fields of one packed row.
fn fields<'a, const N: usize>(
    line: &'a str,
    table: &'static str,
    la_code: &str,
) -> Result<[&'a str; N], StoreError> {
    let mut out = [""; N];
    let mut parts = line.split(',');
    for slot in &mut out {
        *slot = parts
            .next()
            .ok_or_else(|| malformed(table, la_code, line))?;
    }
    if parts.next().is_some() {
        return Err(malformed(table, la_code, line));
    }
    Ok(out)
}

fn malformed(table: &'static str, la_code: &str, line: &str) -> StoreError {
    StoreError::Unreadable {
        table,
        detail: format!("LA {la_code}: malformed row {line:?}"),
    }
}

fn int(text: &str, table: &'static str, la_code: &str) -> Result<i32, StoreError> {
    text.parse().map_err(|_| StoreError::Unreadable {
        table,
        detail: format!("LA {la_code}: {text:?} is not a whole number"),
    })
}

/// One side of a packed transition: `None` when all three fields are empty (a joiner's before, a leaver's after).
#[allow(clippy::too_many_arguments)]
fn packed_state(
    ncy: &str,
    need: &str,
    setting: &str,
    codes: &mut Codes,
    bad: &impl Fn(DomainError) -> StoreError,
    line: &str,
    la_code: &str,
) -> Result<Option<State>, StoreError> {
    match (ncy, need, setting) {
        ("", "", "") => Ok(None),
        (_, "", _) | (_, _, "") | ("", _, _) => Err(malformed("transitions", la_code, line)),
        _ => Ok(Some(State {
            ncy: Ncy::new(int(ncy, "transitions", la_code)?).map_err(bad)?,
            need: codes.needs.get(need).map_err(bad)?,
            setting: codes.settings.get(setting).map_err(bad)?,
        })),
    }
}

fn split_codes<T: Clone + std::str::FromStr<Err = DomainError>>(
    text: &str,
    interner: &mut Interner<T>,
    bad: &impl Fn(DomainError) -> StoreError,
) -> Result<Vec<T>, StoreError> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|c| interner.get(c).map_err(bad))
        .collect()
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl Store {
    /// The LA's transition history, or `None` if it has never had a witan (history) import.
    ///
    /// Transitions, population, unit costs and valid states come back in the order they were imported.
    pub async fn load_history(
        &self,
        la_code: &str,
    ) -> Result<Option<TransitionHistory>, StoreError> {
        let imported = sqlx::query(
            "SELECT 1 FROM imports WHERE la_code = ? AND operation = 'history' LIMIT 1",
        )
        .bind(la_code)
        .fetch_optional(&self.pool)
        .await?;
        if imported.is_none() {
            return Ok(None);
        }
        let mut codes = Codes::new();
        Ok(Some(TransitionHistory {
            transitions: self.load_transitions(la_code, &mut codes).await?,
            population: self.load_population(la_code).await?,
            costs: self.load_unit_costs(la_code, &mut codes).await?,
            valid_states: self.load_valid_states(la_code, &mut codes).await?,
        }))
    }

    /// The LA's transitions, read packed as one string (fast for tens of thousands of rows).
    async fn load_transitions(
        &self,
        la_code: &str,
        codes: &mut Codes,
    ) -> Result<Vec<Transition>, StoreError> {
        let bad = unreadable("transitions", la_code);
        let packed: Option<String> = sqlx::query_scalar(TRANSITIONS_PACKED)
            .bind(ROW_SEPARATOR)
            .bind(la_code)
            .fetch_one(&self.pool)
            .await?;
        let packed = packed.unwrap_or_default();
        let mut transitions =
            Vec::with_capacity(packed.bytes().filter(|b| *b == b'\n').count() + 1);
        for line in packed.split(ROW_SEPARATOR).filter(|l| !l.is_empty()) {
            let f = fields::<7>(line, "transitions", la_code)?;
            let before = packed_state(f[1], f[2], f[3], codes, &bad, line, la_code)?;
            let after = packed_state(f[4], f[5], f[6], codes, &bad, line, la_code)?;
            transitions.push(Transition {
                from_census: CensusYear::new(int(f[0], "transitions", la_code)?).map_err(&bad)?,
                before,
                after,
            });
        }
        Ok(transitions)
    }

    /// The LA's resident population by census year and NCY.
    async fn load_population(&self, la_code: &str) -> Result<Vec<PopulationCount>, StoreError> {
        let bad = unreadable("population", la_code);
        let rows = sqlx::query(
            "SELECT census_year, ncy, population FROM population WHERE la_code = ? ORDER BY seq",
        )
        .bind(la_code)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(PopulationCount {
                    census_year: CensusYear::new(row.try_get(0)?).map_err(&bad)?,
                    ncy: Ncy::new(row.try_get(1)?).map_err(&bad)?,
                    population: count(row.try_get(2)?),
                })
            })
            .collect()
    }

    /// The LA's unit costs by need, setting and (where given) age group.
    async fn load_unit_costs(
        &self,
        la_code: &str,
        codes: &mut Codes,
    ) -> Result<Vec<UnitCost>, StoreError> {
        let bad = unreadable("unit_costs", la_code);
        let rows = sqlx::query(
            "SELECT need, setting, annual_pence, age_group, place_funding_pence FROM unit_costs \
             WHERE la_code = ? ORDER BY seq",
        )
        .bind(la_code)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(UnitCost {
                    need: codes.needs.get(row.try_get(0)?).map_err(&bad)?,
                    setting: codes.settings.get(row.try_get(1)?).map_err(&bad)?,
                    annual: Pence::new(row.try_get(2)?),
                    age_group: match row.try_get::<String, _>(3)?.as_str() {
                        "" => None,
                        code => Some(AgeGroup::from_code(code).ok_or_else(|| StoreError::Unreadable {
                            table: "unit_costs",
                            detail: format!("LA {la_code}: age group {code:?} is not one of under_5, 5_10, 11_15, 16_19, 20_25"),
                        })?),
                    },
                    place_funding: row.try_get::<Option<i64>, _>(4)?.map(Pence::new),
                })
            })
            .collect()
    }

    /// The LA's valid settings: their NCY ranges, needs and moves.
    async fn load_valid_states(
        &self,
        la_code: &str,
        codes: &mut Codes,
    ) -> Result<Vec<ValidSetting>, StoreError> {
        let bad = unreadable("valid_states", la_code);
        let rows = sqlx::query(
            "SELECT setting, setting_group, min_ncy, max_ncy, needs, moves_to \
             FROM valid_states WHERE la_code = ? ORDER BY seq",
        )
        .bind(la_code)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ValidSetting {
                    setting: codes.settings.get(row.try_get(0)?).map_err(&bad)?,
                    group: row.try_get(1)?,
                    min_ncy: Ncy::new(row.try_get(2)?).map_err(&bad)?,
                    max_ncy: Ncy::new(row.try_get(3)?).map_err(&bad)?,
                    needs: split_codes(row.try_get(4)?, &mut codes.needs, &bad)?,
                    moves_to: split_codes(row.try_get(5)?, &mut codes.settings, &bad)?,
                })
            })
            .collect()
    }

    /// Like [`Store::load_history`], but an LA without a history is an error that says what to do.
    pub async fn require_history(&self, la_code: &str) -> Result<TransitionHistory, StoreError> {
        self.load_history(la_code)
            .await?
            .ok_or_else(|| StoreError::NoTransitionData {
                la_code: la_code.to_owned(),
            })
    }

    /// The LA's person-level plan histories, one per child, ordered by child id (byte order); each history's
    /// records in census order. Empty if the LA has none.
    pub async fn load_plans(&self, la_code: &str) -> Result<Vec<PlanHistory>, StoreError> {
        let bad = unreadable("plan_records", la_code);
        let packed: Option<String> = sqlx::query_scalar(PLANS_PACKED)
            .bind(ROW_SEPARATOR)
            .bind(la_code)
            .fetch_one(&self.pool)
            .await?;
        let packed = packed.unwrap_or_default();
        let mut codes = Codes::new();
        let mut out: Vec<PlanHistory> = Vec::new();
        let mut current: Option<(ChildId, Vec<CensusRecord>)> = None;
        for line in packed.split(ROW_SEPARATOR).filter(|l| !l.is_empty()) {
            let f = fields::<6>(line, "plan_records", la_code)?;
            let child = f[0];
            if current.as_ref().is_none_or(|(c, _)| c.as_str() != child) {
                if let Some((c, records)) = current.take() {
                    out.push(PlanHistory::new(c, records).map_err(&bad)?);
                }
                current = Some((ChildId::parse(child).map_err(&bad)?, Vec::new()));
            }
            let urn = match f[5] {
                "" => None,
                u => Some(
                    Urn::parse(&format!("{:06}", int(u, "plan_records", la_code)?))
                        .map_err(&bad)?,
                ),
            };
            let record = CensusRecord {
                census_year: CensusYear::new(int(f[1], "plan_records", la_code)?).map_err(&bad)?,
                state: State {
                    ncy: Ncy::new(int(f[2], "plan_records", la_code)?).map_err(&bad)?,
                    need: codes.needs.get(f[3]).map_err(&bad)?,
                    setting: codes.settings.get(f[4]).map_err(&bad)?,
                },
                urn,
            };
            if let Some((_, records)) = current.as_mut() {
                records.push(record);
            }
        }
        if let Some((c, records)) = current {
            out.push(PlanHistory::new(c, records).map_err(&bad)?);
        }
        Ok(out)
    }

    /// The LA's budget lines, ordered by financial year, then kind in ledger order (opening balance,
    /// allocation, block transfer, deduction, expenditure, total DSG), then line name. Empty if none.
    pub async fn load_budget(&self, la_code: &str) -> Result<Vec<BudgetLine>, StoreError> {
        let bad = unreadable("budget_lines", la_code);
        let rows = sqlx::query(
            "SELECT financial_year, kind, line, amount_pence FROM budget_lines WHERE la_code = ? \
             ORDER BY financial_year, kind, line",
        )
        .bind(la_code)
        .fetch_all(&self.pool)
        .await?;
        let mut lines = rows
            .iter()
            .map(|row| {
                Ok(BudgetLine {
                    financial_year: FinancialYear::starting(row.try_get(0)?).map_err(&bad)?,
                    kind: row
                        .try_get::<&str, _>(1)?
                        .parse::<BudgetKind>()
                        .map_err(&bad)?,
                    line: row.try_get(2)?,
                    amount: Pence::new(row.try_get(3)?),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        lines.sort_by(|a, b| {
            (a.financial_year, a.kind, &a.line).cmp(&(b.financial_year, b.kind, &b.line))
        });
        Ok(lines)
    }
}
