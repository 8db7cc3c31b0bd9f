//! `highneeds scenario run|compare` output. The JSON is a contract other tools read: fields are only ever added.

use std::fmt::Write as _;

use highneeds_domain::scenario::ScenarioEngine;
use highneeds_domain::Pence;
use highneeds_model::scenario::{LedgerYear, Outcome, ScenarioResult};
use serde_json::{json, Map, Value};

use super::summary_json;

fn engine_code(e: ScenarioEngine) -> &'static str {
    match e {
        ScenarioEngine::Analytic => "analytic",
        ScenarioEngine::MonteCarlo => "monte-carlo",
    }
}

fn ledger_json(row: &LedgerYear, range: Option<&(f64, f64)>) -> Value {
    json!({
        "financial_year": row.financial_year.to_string(),
        "expenditure_pence": row.expenditure.pence(),
        "income_pence": row.income.pence(),
        "in_year_pence": row.in_year.pence(),
        "closing_balance_pence": row.closing.pence(),
        "opening_balance_pence": row.opening.pence(),
        "placement_pence": row.placement.pence(),
        "other_expenditure_pence": row.other_expenditure.pence(),
        "initiative_cost_pence": row.initiative_cost.pence(),
        "allocation_pence": row.allocation.pence(),
        "block_transfer_pence": row.block_transfers.pence(),
        "grant_pence": row.grants.pence(),
        "deduction_pence": row.deductions.pence(),
        "contribution_pence": row.contributions.pence(),
        "total_dsg_pence": row.total_dsg.map(Pence::pence),
        "deficit_share_of_dsg": row.deficit_share_of_dsg,
        "in_year_p05_pence": range.map(|r| r.0.round() as i64),
        "in_year_p95_pence": range.map(|r| r.1.round() as i64),
    })
}

fn means(items: &[(String, highneeds_model::Summary)]) -> Value {
    Value::Object(
        items
            .iter()
            .map(|(k, s)| (k.clone(), summary_json(s)))
            .collect::<Map<String, Value>>(),
    )
}

fn gap_json(g: (f64, f64, f64)) -> Value {
    json!({"mean": g.0.round() as i64, "p05": g.1.round() as i64, "p95": g.2.round() as i64})
}

fn outcome_json(o: &Outcome) -> Value {
    let census_years: Vec<Value> = o
        .forecast
        .census_years
        .iter()
        .map(|c| {
            json!({
                "census_year": c.census_year.year(),
                "total": summary_json(&c.total),
                "by_setting": means(&c.by_setting),
                "by_need": means(&c.by_need),
                "by_age_group": means(&c.by_age_group.iter().map(|(g, s)| (g.code().to_string(), s.clone())).collect::<Vec<_>>()),
            })
        })
        .collect();
    let financial_years: Vec<Value> = o
        .ledger
        .iter()
        .zip(&o.in_year_range)
        .map(|(r, q)| {
            let mut row = ledger_json(r, Some(q));
            // The placement cost's 90 % range that year, from the scenario's engine.
            if let Some(f) = o
                .forecast
                .financial_years
                .iter()
                .find(|f| f.financial_year == r.financial_year)
            {
                row["placement_p05_pence"] = json!(f.quantile(0.05).map(Pence::pence));
                row["placement_p95_pence"] = json!(f.quantile(0.95).map(Pence::pence));
            }
            row
        })
        .collect();
    json!({
        "financial_years": financial_years,
        "census_years": census_years,
        "balance_financial_year": o.balance_financial_year.map(|f| f.to_string()),
        "probability_balanced_by_target": o.probability_balanced_by_target,
        "probability_deficit_cleared_by_target": o.probability_deficit_cleared_by_target,
        "target_gap_pence": gap_json(o.target_gap),
    })
}

/// The run as the JSON contract.
pub fn json(r: &ScenarioResult) -> String {
    serde_json::to_string_pretty(&json_value(r)).unwrap_or_default()
}

fn json_value(r: &ScenarioResult) -> Value {
    let initiatives: Vec<Value> = r
        .initiatives
        .iter()
        .map(|i| {
            json!({
                "name": i.name,
                "saving_pence": i.saving.pence(),
                "cost_pence": i.cost.pence(),
                "income_pence": i.income.pence(),
                "net_saving_pence": i.net_saving.pence(),
                "saving_by_financial_year": i.saving_by_financial_year.iter().map(|(fy, p)| (fy.to_string(), json!(p.pence()))).collect::<Map<String, Value>>(),
                "needs_schools_forum_approval": i.needs_schools_forum_approval,
            })
        })
        .collect();
    let sufficiency: Vec<Value> = r
        .sufficiency
        .iter()
        .map(|s| json!({"setting": s.setting, "census_year": s.census_year.year(), "demand": (s.demand * 10.0).round() / 10.0, "places": s.places}))
        .collect();
    json!({
        "scenario": r.scenario,
        "target_financial_year": r.target.to_string(),
        "engine": engine_code(r.engine),
        "sims": r.sims,
        "seed": r.seed,
        "unmitigated": outcome_json(&r.unmitigated),
        "mitigated": outcome_json(&r.mitigated),
        "initiatives": initiatives,
        "total_saving_pence": r.total_saving.pence(),
        "balance_financial_year": r.mitigated.balance_financial_year.map(|f| f.to_string()),
        "probability_balanced_by_target": r.mitigated.probability_balanced_by_target,
        "probability_deficit_cleared_by_target": r.mitigated.probability_deficit_cleared_by_target,
        "target_gap_pence": gap_json(r.mitigated.target_gap),
        "attribution": {
            "method": if r.attribution.exact { "shapley-exact" } else { "shapley-sampled" },
            "orders_sampled": r.attribution.orders,
            "standard_error_pence": r.attribution.standard_error,
        },
        "sufficiency": sufficiency,
        "first_shortfall": r.first_shortfall.iter().map(|(s, y)| (s.clone(), json!(y.map(|c| c.year())))).collect::<Map<String, Value>>(),
        "sufficiency_years": r.sufficiency_years,
        "ledger_basis": {
            "last_actual_financial_year": r.basis.last_actual.to_string(),
            "opening_balance_pence": r.basis.opening.pence(),
            "other_expenditure_pence": r.basis.other_expenditure.pence(),
            "allocation_growth": r.basis.allocation_growth,
            "uplift": r.basis.uplift,
        },
        "notes": r.notes,
    })
}

/// Both ledgers as rows.
pub fn csv(r: &ScenarioResult) -> String {
    let mut out = String::from(
        "scenario,side,financial_year,expenditure_pence,initiative_cost_pence,income_pence,in_year_pence,contribution_pence,closing_balance_pence\n",
    );
    for (side, o) in [("unmitigated", &r.unmitigated), ("mitigated", &r.mitigated)] {
        for row in &o.ledger {
            let _ = writeln!(
                out,
                "{},{side},{},{},{},{},{},{},{}",
                csv_text(&r.scenario),
                row.financial_year,
                row.expenditure.pence(),
                row.initiative_cost.pence(),
                row.income.pence(),
                row.in_year.pence(),
                row.contributions.pence(),
                row.closing.pence()
            );
        }
    }
    out
}

/// A CSV field: quoted when needed, and neutralised if a spreadsheet would read it as a formula.
fn csv_text(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn m(p: Pence) -> String {
    p.to_millions_string()
}

/// The report an officer reads.
pub fn table(r: &ScenarioResult, la: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Scenario {:?} for LA {la}: target an in-year balance by {} ({} engine{})",
        r.scenario,
        r.target,
        engine_code(r.engine),
        if r.engine == ScenarioEngine::MonteCarlo {
            format!(", {} simulations, seed {}", r.sims, r.seed)
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        out,
        "\nDSG ledger (means; the last actual year is {}, closing {})",
        r.basis.last_actual, r.basis.opening
    );
    let _ = writeln!(
        out,
        "{:<9} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}",
        "FY",
        "spend unmit.",
        "spend mitig.",
        "costs",
        "income mitig.",
        "in-year mit.",
        "cumulative"
    );
    for (u, mi) in r.unmitigated.ledger.iter().zip(&r.mitigated.ledger) {
        let _ = writeln!(
            out,
            "{:<9} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}",
            u.financial_year.to_string(),
            m(u.expenditure),
            m(mi.expenditure),
            m(mi.initiative_cost),
            m(mi.income),
            m(mi.in_year),
            m(mi.closing)
        );
    }
    let _ = writeln!(
        out,
        "\nInitiatives (savings attributed by Shapley value{}; they add up to the total)",
        if r.attribution.exact {
            ", exact"
        } else {
            ", sampled"
        }
    );
    let _ = writeln!(
        out,
        "{:<44} {:>12} {:>12} {:>12} {:>12}",
        "initiative", "saving", "cost", "income", "net"
    );
    for i in &r.initiatives {
        let name: String = i.name.chars().take(44).collect();
        let _ = writeln!(
            out,
            "{:<44} {:>12} {:>12} {:>12} {:>12}{}",
            name,
            m(i.saving),
            m(i.cost),
            m(i.income),
            m(i.net_saving),
            if i.needs_schools_forum_approval {
                "  (needs Schools Forum approval)"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(out, "{:<44} {:>12}", "total saving", m(r.total_saving));
    let _ = writeln!(out, "\nTarget check");
    let balance = |o: &Outcome| {
        o.balance_financial_year
            .map_or("not within the horizon".to_string(), |f| f.to_string())
    };
    let _ = writeln!(
        out,
        "  first in-year balance: unmitigated {}, mitigated {}",
        balance(&r.unmitigated),
        balance(&r.mitigated)
    );
    let _ = writeln!(
        out,
        "  probability of an in-year balance in {}: {:.0} % (unmitigated {:.0} %)",
        r.target,
        r.mitigated.probability_balanced_by_target * 100.0,
        r.unmitigated.probability_balanced_by_target * 100.0
    );
    let _ = writeln!(
        out,
        "  probability the cumulative deficit is cleared by the end of {}: {:.0} %",
        r.target,
        r.mitigated.probability_deficit_cleared_by_target * 100.0
    );
    let g = r.mitigated.target_gap;
    let pounds =
        |x: f64| Pence::from_pence_rounded(x).map_or("-".to_string(), |p| p.to_millions_string());
    if g.0 > 0.0 {
        let _ = writeln!(
            out,
            "  in-year gap in {}: {} (90 % range {} to {})",
            r.target,
            pounds(g.0),
            pounds(g.1),
            pounds(g.2)
        );
    } else {
        let _ = writeln!(
            out,
            "  in-year surplus in {}: {} (90 % range of the gap {} to {})",
            r.target,
            pounds(-g.0),
            pounds(g.1),
            pounds(g.2)
        );
    }
    if !r.first_shortfall.is_empty() {
        let _ = writeln!(
            out,
            "\nSufficiency ({} years): first census where demand exceeds places",
            r.sufficiency_years
        );
        for (s, y) in &r.first_shortfall {
            let _ = writeln!(
                out,
                "  {s}: {}",
                y.map_or("none".to_string(), |c| c.to_string())
            );
        }
    }
    if !r.notes.is_empty() {
        let _ = writeln!(out, "\nNotes");
        for n in &r.notes {
            let _ = writeln!(out, "  - {n}");
        }
    }
    out
}

/// Several runs side by side.
pub fn compare_json(rs: &[ScenarioResult]) -> String {
    serde_json::to_string_pretty(&Value::Array(rs.iter().map(json_value).collect()))
        .unwrap_or_default()
}

pub fn compare_csv(rs: &[ScenarioResult]) -> String {
    let mut out = String::new();
    for (k, r) in rs.iter().enumerate() {
        let c = csv(r);
        out.push_str(if k == 0 {
            &c
        } else {
            c.split_once('\n').map_or("", |x| x.1)
        });
    }
    out
}

pub fn compare_table(rs: &[ScenarioResult]) -> String {
    let mut out = String::new();
    let Some(first) = rs.first() else { return out };
    let _ = write!(out, "{:<9} {:>14}", "FY", "unmitigated");
    for r in rs {
        let name: String = r.scenario.chars().take(14).collect();
        let _ = write!(out, " {name:>14}");
    }
    let _ = writeln!(out, "   (in-year position, means)");
    for (i, u) in first.unmitigated.ledger.iter().enumerate() {
        let _ = write!(
            out,
            "{:<9} {:>14}",
            u.financial_year.to_string(),
            m(u.in_year)
        );
        for r in rs {
            let _ = write!(
                out,
                " {:>14}",
                r.mitigated
                    .ledger
                    .get(i)
                    .map_or("-".into(), |x| m(x.in_year))
            );
        }
        let _ = writeln!(out);
    }
    for r in rs {
        let _ = writeln!(
            out,
            "{:?}: total saving {}, balance {}, P(balanced in {}) {:.0} %",
            r.scenario,
            m(r.total_saving),
            r.mitigated
                .balance_financial_year
                .map_or("none".into(), |f| f.to_string()),
            r.target,
            r.mitigated.probability_balanced_by_target * 100.0
        );
    }
    out
}
