//! A scenario run as JSON: the contract `highneeds scenario run --format json` prints and the web's preview API
//! returns (other tools read it: fields are only ever added).

//!
//! The run is written straight from the model's result ([`ScenarioJson`]), keys in each object in sorted order
//! (as a `serde_json::Value` writes them, which the contract's first form was): the preview answers every slider
//! move with it, and building a `Value` tree first cost about a tenth of the request. The tests check the bytes
//! against that tree, built the plain way.

use std::collections::BTreeMap;

use highneeds_domain::scenario::ScenarioEngine;
use highneeds_domain::Pence;
use highneeds_model::scenario::{LedgerYear, Outcome, ScenarioResult};
use highneeds_model::Summary;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

/// `{"mean": …, "p05": …, "p50": …, "p95": …}` plus any extra quantiles as `pNN`.
pub fn quantile_key(p: f64) -> String {
    let pct = p * 100.0;
    if (pct - pct.round()).abs() < 1e-9 {
        format!("p{:02}", pct.round() as i64)
    } else {
        // Up to 6 decimals of a percent, trailing zeros dropped: distinct quantiles get distinct keys.
        let text = format!("{pct:.6}");
        format!("p{}", text.trim_end_matches('0').replace('.', "_"))
    }
}

/// A summary's mean, quantiles and standard deviation, three decimals.
pub fn summary_json(s: &Summary) -> Value {
    let mut m = Map::new();
    m.insert("mean".into(), round3(s.mean).into());
    for &(p, v) in &s.quantiles {
        m.insert(quantile_key(p), round3(v).into());
    }
    m.insert("sd".into(), round3(s.sd).into());
    Value::Object(m)
}

/// Three decimals are plenty for expected counts and keep the JSON readable.
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

pub fn engine_code(e: ScenarioEngine) -> &'static str {
    match e {
        ScenarioEngine::Analytic => "analytic",
        ScenarioEngine::MonteCarlo => "monte-carlo",
    }
}

/// The run as the JSON contract (`highneeds scenario run --format json`, the web's preview), as a tree. Writing
/// numbers and strings cannot fail; were it to, the error is returned, never a stand-in.
pub fn json_value(r: &ScenarioResult) -> Result<Value, serde_json::Error> {
    serde_json::to_value(ScenarioJson(r))
}

/// The run as the JSON contract, written as it is serialised (`serde_json::to_vec(&ScenarioJson(&r))`).
pub struct ScenarioJson<'a>(pub &'a ScenarioResult);

/// A number rounded to three decimals (a non-finite one is written `null`, as a tree writes it).
struct Round3(f64);

impl Serialize for Round3 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(round3(self.0))
    }
}

/// A summary: `mean`, the quantiles' keys, `sd`, in sorted order.
struct SummaryJson<'a>(&'a Summary);

impl Serialize for SummaryJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // "mean" < every "p…" < "sd"; the quantiles' own keys sorted as text (a later duplicate wins, as in a tree).
        let quantiles: BTreeMap<String, f64> = self
            .0
            .quantiles
            .iter()
            .map(|&(p, v)| (quantile_key(p), v))
            .collect();
        let mut m = s.serialize_map(Some(quantiles.len() + 2))?;
        m.serialize_entry("mean", &Round3(self.0.mean))?;
        for (k, v) in &quantiles {
            m.serialize_entry(k, &Round3(*v))?;
        }
        m.serialize_entry("sd", &Round3(self.0.sd))?;
        m.end()
    }
}

/// Summaries by name, keys sorted (a later duplicate wins).
struct SummariesJson<'a>(BTreeMap<&'a str, &'a Summary>);

impl<'a> SummariesJson<'a> {
    fn of(items: impl Iterator<Item = (&'a str, &'a Summary)>) -> Self {
        Self(items.collect())
    }
}

impl Serialize for SummariesJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, SummaryJson(v))))
    }
}

/// The 90 % ranges a ledger row carries from the scenario's engine: in-year position, then placement cost.
type Ranges = ((f64, f64), (f64, f64));

/// One ledger year with its ranges.
struct LedgerJson<'a>(&'a LedgerYear, Ranges);

impl Serialize for LedgerJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (row, (in_year, placement)) = (self.0, self.1);
        let mut m = s.serialize_map(Some(20))?;
        m.serialize_entry("allocation_pence", &row.allocation.pence())?;
        m.serialize_entry("block_transfer_pence", &row.block_transfers.pence())?;
        m.serialize_entry("closing_balance_pence", &row.closing.pence())?;
        m.serialize_entry("contribution_pence", &row.contributions.pence())?;
        m.serialize_entry("deduction_pence", &row.deductions.pence())?;
        m.serialize_entry("deficit_share_of_dsg", &row.deficit_share_of_dsg)?;
        m.serialize_entry("expenditure_pence", &row.expenditure.pence())?;
        m.serialize_entry("financial_year", &row.financial_year.to_string())?;
        m.serialize_entry("grant_pence", &row.grants.pence())?;
        m.serialize_entry("in_year_p05_pence", &(in_year.0.round() as i64))?;
        m.serialize_entry("in_year_p95_pence", &(in_year.1.round() as i64))?;
        m.serialize_entry("in_year_pence", &row.in_year.pence())?;
        m.serialize_entry("income_pence", &row.income.pence())?;
        m.serialize_entry("initiative_cost_pence", &row.initiative_cost.pence())?;
        m.serialize_entry("opening_balance_pence", &row.opening.pence())?;
        m.serialize_entry("other_expenditure_pence", &row.other_expenditure.pence())?;
        // The placement cost's 90 % range that year, from the scenario's engine.
        m.serialize_entry("placement_p05_pence", &(placement.0.round() as i64))?;
        m.serialize_entry("placement_p95_pence", &(placement.1.round() as i64))?;
        m.serialize_entry("placement_pence", &row.placement.pence())?;
        m.serialize_entry("total_dsg_pence", &row.total_dsg.map(Pence::pence))?;
        m.end()
    }
}

/// The target gap's mean and 90 % range (pence).
struct GapJson((f64, f64, f64));

impl Serialize for GapJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let g = self.0;
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("mean", &(g.0.round() as i64))?;
        m.serialize_entry("p05", &(g.1.round() as i64))?;
        m.serialize_entry("p95", &(g.2.round() as i64))?;
        m.end()
    }
}

/// One census year of a side's forecast.
struct CensusJson<'a>(&'a highneeds_model::forecast::CensusForecast);

impl<'a> Serialize for CensusJson<'a> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let named = |items: &'a [(String, Summary)]| {
            SummariesJson::of(items.iter().map(|(k, v)| (k.as_str(), v)))
        };
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry(
            "by_age_group",
            &SummariesJson::of(c.by_age_group.iter().map(|(g, v)| (g.code(), v))),
        )?;
        m.serialize_entry("by_need", &named(&c.by_need))?;
        m.serialize_entry("by_setting", &named(&c.by_setting))?;
        m.serialize_entry("census_year", &c.census_year.year())?;
        m.serialize_entry("total", &SummaryJson(&c.total))?;
        m.end()
    }
}

/// One side (unmitigated or mitigated) of the run.
struct OutcomeJson<'a>(&'a Outcome);

impl Serialize for OutcomeJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let o = self.0;
        let mut m = s.serialize_map(Some(6))?;
        m.serialize_entry(
            "balance_financial_year",
            &o.balance_financial_year.map(|f| f.to_string()),
        )?;
        m.serialize_entry(
            "census_years",
            &o.forecast
                .census_years
                .iter()
                .map(CensusJson)
                .collect::<Vec<_>>(),
        )?;
        m.serialize_entry(
            "financial_years",
            &o.ledger
                .iter()
                .zip(o.in_year_range.iter().zip(&o.placement_range))
                .map(|(r, (q, p))| LedgerJson(r, (*q, *p)))
                .collect::<Vec<_>>(),
        )?;
        m.serialize_entry(
            "probability_balanced_by_target",
            &o.probability_balanced_by_target,
        )?;
        m.serialize_entry(
            "probability_deficit_cleared_by_target",
            &o.probability_deficit_cleared_by_target,
        )?;
        m.serialize_entry("target_gap_pence", &GapJson(o.target_gap))?;
        m.end()
    }
}

/// One initiative's money; its savings `null` while the attribution is pending (unknown, never zero).
struct InitiativeJson<'a>(&'a highneeds_model::scenario::InitiativeResult, bool);

impl Serialize for InitiativeJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (i, pending) = (self.0, self.1);
        let mut m = s.serialize_map(Some(7))?;
        m.serialize_entry("cost_pence", &i.cost.pence())?;
        m.serialize_entry("income_pence", &i.income.pence())?;
        m.serialize_entry("name", &i.name)?;
        m.serialize_entry(
            "needs_schools_forum_approval",
            &i.needs_schools_forum_approval,
        )?;
        if pending {
            m.serialize_entry("net_saving_pence", &None::<i64>)?;
            m.serialize_entry("saving_by_financial_year", &None::<i64>)?;
            m.serialize_entry("saving_pence", &None::<i64>)?;
        } else {
            m.serialize_entry("net_saving_pence", &i.net_saving.pence())?;
            let by_year: BTreeMap<String, i64> = i
                .saving_by_financial_year
                .iter()
                .map(|(fy, p)| (fy.to_string(), p.pence()))
                .collect();
            m.serialize_entry("saving_by_financial_year", &by_year)?;
            m.serialize_entry("saving_pence", &i.saving.pence())?;
        }
        m.end()
    }
}

/// The run's savings attribution: its method, orders sampled, standard errors.
struct AttributionJson<'a>(&'a highneeds_model::scenario::Attribution);

impl Serialize for AttributionJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = self.0;
        let method = if a.pending {
            "pending"
        } else if a.exact {
            "shapley-exact"
        } else {
            "shapley-sampled"
        };
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("method", method)?;
        m.serialize_entry("orders_sampled", &a.orders)?;
        m.serialize_entry("standard_error_pence", &a.standard_error)?;
        m.end()
    }
}

/// Demand against places in one setting and census year (demand to one decimal).
struct SufficiencyJson<'a>(&'a highneeds_model::scenario::SufficiencyRow);

impl Serialize for SufficiencyJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("census_year", &r.census_year.year())?;
        m.serialize_entry("demand", &((r.demand * 10.0).round() / 10.0))?;
        m.serialize_entry("places", &r.places)?;
        m.serialize_entry("setting", &r.setting)?;
        m.end()
    }
}

/// What the ledger's projection rests on.
struct BasisJson<'a>(&'a highneeds_model::scenario::LedgerBasis);

impl Serialize for BasisJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let b = self.0;
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("allocation_growth", &b.allocation_growth)?;
        m.serialize_entry("last_actual_financial_year", &b.last_actual.to_string())?;
        m.serialize_entry("opening_balance_pence", &b.opening.pence())?;
        m.serialize_entry("other_expenditure_pence", &b.other_expenditure.pence())?;
        m.serialize_entry("uplift", &b.uplift)?;
        m.end()
    }
}

impl Serialize for ScenarioJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let pending = r.attribution.pending;
        let first_shortfall: BTreeMap<&str, Option<i32>> = r
            .first_shortfall
            .iter()
            .map(|(s, y)| (s.as_str(), y.map(|c| c.year())))
            .collect();
        let mut m = s.serialize_map(Some(19))?;
        m.serialize_entry("attribution", &AttributionJson(&r.attribution))?;
        m.serialize_entry(
            "balance_financial_year",
            &r.mitigated.balance_financial_year.map(|f| f.to_string()),
        )?;
        m.serialize_entry("engine", engine_code(r.engine))?;
        m.serialize_entry("first_shortfall", &first_shortfall)?;
        m.serialize_entry(
            "initiatives",
            &r.initiatives
                .iter()
                .map(|i| InitiativeJson(i, pending))
                .collect::<Vec<_>>(),
        )?;
        m.serialize_entry("ledger_basis", &BasisJson(&r.basis))?;
        m.serialize_entry("mitigated", &OutcomeJson(&r.mitigated))?;
        m.serialize_entry("notes", &r.notes)?;
        m.serialize_entry(
            "probability_balanced_by_target",
            &r.mitigated.probability_balanced_by_target,
        )?;
        m.serialize_entry(
            "probability_deficit_cleared_by_target",
            &r.mitigated.probability_deficit_cleared_by_target,
        )?;
        m.serialize_entry("scenario", &r.scenario)?;
        m.serialize_entry("seed", &r.seed)?;
        m.serialize_entry("sims", &r.sims)?;
        m.serialize_entry(
            "sufficiency",
            &r.sufficiency
                .iter()
                .map(SufficiencyJson)
                .collect::<Vec<_>>(),
        )?;
        m.serialize_entry("sufficiency_years", &r.sufficiency_years)?;
        m.serialize_entry("target_financial_year", &r.target.to_string())?;
        m.serialize_entry("target_gap_pence", &GapJson(r.mitigated.target_gap))?;
        m.serialize_entry("total_saving_pence", &r.total_saving.pence())?;
        m.serialize_entry("unmitigated", &OutcomeJson(&r.unmitigated))?;
        m.end()
    }
}

#[cfg(test)]
mod tests;
