//! The contract's writer against the plain `Value` tree it replaced: the same bytes, compact and pretty.

use highneeds_domain::Pence;
use highneeds_model::scenario::{Attributing, LedgerYear, Outcome, ScenarioResult};
use highneeds_synth::{generate_la, SynthConfig};
use serde_json::{json, Map, Value};

use super::{engine_code, summary_json, ScenarioJson};
use crate::scenario::{codes_of, fit_for, read_text, run_fitted, LaData};

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
        .zip(&o.placement_range)
        .map(|((r, q), p)| {
            let mut row = ledger_json(r, Some(q));
            // The placement cost's 90 % range that year, from the scenario's engine.
            row["placement_p05_pence"] = json!(p.0.round() as i64);
            row["placement_p95_pence"] = json!(p.1.round() as i64);
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

/// The contract built as a `Value` tree, the plain way (the writer's first form): the oracle for its bytes.
fn tree(r: &ScenarioResult) -> Value {
    let pending = r.attribution.pending;
    let initiatives: Vec<Value> = r
        .initiatives
        .iter()
        .map(|i| {
            if pending {
                // Not attributed yet: the savings are unknown, never zero.
                return json!({
                    "name": i.name,
                    "saving_pence": null,
                    "cost_pence": i.cost.pence(),
                    "income_pence": i.income.pence(),
                    "net_saving_pence": null,
                    "saving_by_financial_year": null,
                    "needs_schools_forum_approval": i.needs_schools_forum_approval,
                });
            }
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
            "method": if pending { "pending" } else if r.attribution.exact { "shapley-exact" } else { "shapley-sampled" },
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

fn exampleshire() -> LaData {
    let la = generate_la(
        &SynthConfig {
            plans: 2_150,
            seed: 7,
            ..SynthConfig::default()
        },
        0,
    );
    let history = la.transition_history();
    LaData {
        la: "Exampleshire".into(),
        codes: codes_of(&history),
        history,
        budget: la.budget,
    }
}

fn run(data: &LaData, text: &str, when: Attributing) -> ScenarioResult {
    let (issues, scenario) = read_text("example", text, data);
    let Some(scenario) = scenario else {
        panic!("the example does not read: {issues:?}");
    };
    let params = match fit_for(data, &scenario) {
        Ok(p) => p,
        Err(e) => panic!("{e:#}"),
    };
    match run_fitted(data, &params, &scenario, when) {
        Ok(r) => r,
        Err(e) => panic!("{e:#}"),
    }
}

fn assert_same_bytes(r: &ScenarioResult) {
    let written = serde_json::to_string(&ScenarioJson(r)).ok();
    assert_eq!(written, Some(tree(r).to_string()));
    let pretty = serde_json::to_string_pretty(&ScenarioJson(r)).ok();
    assert_eq!(pretty, serde_json::to_string_pretty(&tree(r)).ok());
    assert_eq!(super::json_value(r).ok(), Some(tree(r)));
}

#[test]
fn the_writer_gives_the_trees_bytes_for_the_shipped_examples() {
    let data = exampleshire();
    let stockton = include_str!("../../../../examples/exampleshire-dbv-stockton.toml");
    let template = include_str!("../../../../examples/scenario-template.toml");
    for (text, when) in [
        (stockton, Attributing::Now),
        (stockton, Attributing::Later),
        (template, Attributing::Now),
    ] {
        let r = run(&data, text, when);
        assert!(r.mitigated.forecast.census_years.len() >= 5);
        assert_same_bytes(&r);
    }
}

#[test]
fn the_writer_gives_the_trees_bytes_for_odd_figures() {
    let data = exampleshire();
    let stockton = include_str!("../../../../examples/exampleshire-dbv-stockton.toml");
    let mut r = run(&data, stockton, Attributing::Now);
    // Non-finite figures (written null), negative zero, an extra quantile whose key sorts between the usual ones,
    // and names out of order.
    let year = &mut r.mitigated.forecast.census_years[0];
    year.total.mean = f64::NAN;
    year.total.sd = -0.0001;
    year.total.quantiles.push((0.025, 1.5));
    year.by_setting.reverse();
    r.unmitigated.ledger[0].deficit_share_of_dsg = Some(f64::INFINITY);
    r.mitigated.ledger[0].total_dsg = None;
    r.first_shortfall.reverse();
    r.notes.push("a note with \"quotes\" and ünïcödé".into());
    assert_same_bytes(&r);
}
