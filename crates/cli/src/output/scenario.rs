//! `highneeds scenario run|compare` output. The JSON is a contract other tools read: fields are only ever added.

use std::fmt::Write as _;

use highneeds_domain::scenario::ScenarioEngine;
use highneeds_domain::Pence;
use highneeds_model::scenario::{Outcome, ScenarioResult};
use highneeds_usecases::report::{Cell, Kind, Report, Table};

use highneeds_usecases::scenario_json::{engine_code, ScenarioJson};

/// The run as the JSON contract.
pub fn json(r: &ScenarioResult) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&ScenarioJson(r))
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

fn engine_label(r: &ScenarioResult) -> String {
    format!(
        "{} engine{}",
        engine_code(r.engine),
        if r.engine == ScenarioEngine::MonteCarlo {
            format!(", {} simulations, seed {}", r.sims, r.seed)
        } else {
            String::new()
        }
    )
}

fn ledger_table(r: &ScenarioResult) -> Table {
    let mut t = Table::new(
        "DSG ledger",
        format!(
            "DSG ledger (means; the last actual year is {}, closing {})",
            r.basis.last_actual, r.basis.opening
        ),
    )
    .column("FY", Kind::Text)
    .column("spend unmit.", Kind::MoneyMillions)
    .column("spend mitig.", Kind::MoneyMillions)
    .column("costs", Kind::MoneyMillions)
    .column("income mitig.", Kind::MoneyMillions)
    .column("in-year unmit.", Kind::MoneyMillions)
    .column("in-year mitig.", Kind::MoneyMillions)
    .column("cumulative unmit.", Kind::MoneyMillions)
    .column("cumulative mitig.", Kind::MoneyMillions);
    for (u, mi) in r.unmitigated.ledger.iter().zip(&r.mitigated.ledger) {
        t.push(vec![
            u.financial_year.to_string().into(),
            u.expenditure.into(),
            mi.expenditure.into(),
            mi.initiative_cost.into(),
            mi.income.into(),
            u.in_year.into(),
            mi.in_year.into(),
            u.closing.into(),
            mi.closing.into(),
        ]);
    }
    t
}

fn initiatives_table(r: &ScenarioResult) -> Table {
    let mut t = Table::new(
        "Initiatives",
        format!(
            "Initiatives (savings attributed by Shapley value{}; they add up to the total)",
            if r.attribution.exact {
                ", exact"
            } else {
                ", sampled"
            }
        ),
    )
    .column("initiative", Kind::Text)
    .column("saving", Kind::MoneyMillions)
    .column("cost", Kind::MoneyMillions)
    .column("income", Kind::MoneyMillions)
    .column("net", Kind::MoneyMillions)
    .column("Schools Forum", Kind::Text);
    for i in &r.initiatives {
        t.push(vec![
            i.name.as_str().into(),
            i.saving.into(),
            i.cost.into(),
            i.income.into(),
            i.net_saving.into(),
            if i.needs_schools_forum_approval {
                "needs approval".into()
            } else {
                Cell::Missing
            },
        ]);
    }
    // The total row: the saving as the run gives it (the shares add up to it), costs and income summed.
    let sum = |part: fn(&highneeds_model::scenario::InitiativeResult) -> Pence| {
        r.initiatives
            .iter()
            .try_fold(Pence::ZERO, |acc, i| acc.checked_add(part(i)))
            .map_or(Cell::Missing, Cell::Money)
    };
    t.push(vec![
        "total".into(),
        r.total_saving.into(),
        sum(|i| i.cost),
        sum(|i| i.income),
        sum(|i| i.net_saving),
    ]);
    t
}

fn target_table(r: &ScenarioResult) -> Table {
    let mut t = Table::new(
        "Target check",
        format!("Target check: an in-year balance by {}", r.target),
    )
    .column("measure", Kind::Text)
    .column("unmitigated", Kind::MoneyMillions)
    .column("mitigated", Kind::MoneyMillions);
    let balance = |o: &Outcome| {
        o.balance_financial_year
            .map_or("not within the horizon".to_string(), |f| f.to_string())
    };
    t.push(vec![
        "first in-year balance".into(),
        balance(&r.unmitigated).into(),
        balance(&r.mitigated).into(),
    ]);
    let share = |x: f64| Cell::typed(Some(x), Kind::Percent);
    t.push(vec![
        format!("probability of an in-year balance in {}", r.target).into(),
        share(r.unmitigated.probability_balanced_by_target),
        share(r.mitigated.probability_balanced_by_target),
    ]);
    t.push(vec![
        format!(
            "probability the cumulative deficit is cleared by the end of {}",
            r.target
        )
        .into(),
        share(r.unmitigated.probability_deficit_cleared_by_target),
        share(r.mitigated.probability_deficit_cleared_by_target),
    ]);
    let money = |x: f64| Pence::from_pence_rounded(x).map_or(Cell::Missing, Cell::Money);
    let (gu, gm) = (r.unmitigated.target_gap, r.mitigated.target_gap);
    for (label, u, m) in [
        ("mean", gu.0, gm.0),
        ("5th percentile", gu.1, gm.1),
        ("95th percentile", gu.2, gm.2),
    ] {
        t.push(vec![
            format!("in-year gap in {} ({label}; below 0 = a surplus)", r.target).into(),
            money(u),
            money(m),
        ]);
    }
    t
}

/// The run for an officer: the ledgers, the savings by initiative, the target check, sufficiency.
pub fn report(r: &ScenarioResult, la: &str) -> Report {
    let mut out = Report::new(format!(
        "Scenario {:?} for LA {la}: target an in-year balance by {} ({})",
        r.scenario,
        r.target,
        engine_label(r)
    ));
    out.tables.push(ledger_table(r));
    out.tables.push(initiatives_table(r));
    out.tables.push(target_table(r));
    if !r.first_shortfall.is_empty() {
        let mut t = Table::new(
            "Sufficiency",
            format!(
                "Sufficiency ({} years): first census where demand exceeds places",
                r.sufficiency_years
            ),
        )
        .column("setting", Kind::Text)
        .column("first shortfall", Kind::Year);
        for (s, y) in &r.first_shortfall {
            t.push(vec![
                s.as_str().into(),
                y.map_or_else(|| "none".into(), |c| c.year().into()),
            ]);
        }
        out.tables.push(t);
    }
    out.notes = r.notes.clone();
    out
}

/// Several runs side by side.
pub fn compare_json(rs: &[ScenarioResult]) -> serde_json::Result<String> {
    let runs: Vec<ScenarioJson> = rs.iter().map(ScenarioJson).collect();
    serde_json::to_string_pretty(&runs)
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

/// Several runs side by side: the in-year position each year, and each scenario's saving and target check.
pub fn compare_report(rs: &[ScenarioResult]) -> Report {
    let mut out = Report::new("Scenarios compared");
    let Some(first) = rs.first() else { return out };
    let mut t = Table::new("In-year position", "In-year position (means)")
        .column("FY", Kind::Text)
        .column("unmitigated", Kind::MoneyMillions);
    for r in rs {
        t = t.column(r.scenario.as_str(), Kind::MoneyMillions);
    }
    for (i, u) in first.unmitigated.ledger.iter().enumerate() {
        let mut row = vec![u.financial_year.to_string().into(), u.in_year.into()];
        for r in rs {
            row.push(
                r.mitigated
                    .ledger
                    .get(i)
                    .map_or(Cell::Missing, |x| x.in_year.into()),
            );
        }
        t.push(row);
    }
    out.tables.push(t);
    let mut s = Table::new(
        "Savings and target",
        "Each scenario's saving and target check",
    )
    .column("scenario", Kind::Text)
    .column("total saving", Kind::MoneyMillions)
    .column("balance", Kind::Text)
    .column("target", Kind::Text)
    .column("P(balanced in target)", Kind::Percent);
    for r in rs {
        s.push(vec![
            r.scenario.as_str().into(),
            r.total_saving.into(),
            r.mitigated
                .balance_financial_year
                .map_or("none".to_string(), |f| f.to_string())
                .into(),
            r.target.to_string().into(),
            r.mitigated.probability_balanced_by_target.into(),
        ]);
    }
    out.tables.push(s);
    out
}
