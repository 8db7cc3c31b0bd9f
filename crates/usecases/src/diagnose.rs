//! The DBV diagnostic as a report (table text and JSON), as `highneeds diagnose` prints it and the
//! dashboard shows it: where an LA's plans (and, with its budget, spend) grow and why, from the published
//! statistics. The table is laid out for a Schools Forum paper; the JSON carries the same content.

use highneeds_model::diagnose::{Diagnosis, GrowthLine, TRANSITION_NCYS};
use serde_json::{json, Value};

use crate::report::{text, Cell, Kind, Report, Table};

fn signed(x: Option<f64>) -> String {
    x.map(|v| format!("{:+.1}%", v * 100.0))
        .unwrap_or_else(|| "-".into())
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn growth_table(
    (sheet, title, key): (&str, &str, &str),
    from: i32,
    to: i32,
    lines: &[GrowthLine],
) -> Table {
    let mut t = Table::new(sheet, title)
        .column(key, Kind::Text)
        .column(from.to_string(), Kind::Count)
        .column(to.to_string(), Kind::Count)
        .column("share", Kind::Percent)
        .column("CAGR", Kind::Change)
        .column("contrib", Kind::Percent)
        .column("Eng CAGR", Kind::Change)
        .column("Eng share", Kind::Percent);
    for l in lines {
        t.push(vec![
            l.label.as_str().into(),
            l.before.into(),
            l.after.into(),
            l.share.into(),
            l.cagr.into(),
            l.contribution.into(),
            l.england_cagr.into(),
            l.england_share.into(),
        ]);
    }
    t
}

fn caseload_table(d: &Diagnosis) -> Table {
    let mut t = Table::new("Plans", "EHC plans at each January census")
        .column("census", Kind::Year)
        .column("plans", Kind::Count)
        .column("growth", Kind::Change)
        .column("England", Kind::Change)
        .column("note", Kind::Text);
    for c in &d.caseload {
        t.push(vec![
            c.census_year.into(),
            c.plans.into(),
            c.growth.into(),
            c.england_growth.into(),
            if c.apportioned {
                "(estimated: boundary change)".into()
            } else {
                Cell::Missing
            },
        ]);
    }
    t.note(format!(
        "{} a year over {} years (England {})",
        signed(d.total.cagr),
        d.to - d.from,
        signed(d.total.england_cagr)
    ));
    t
}

fn new_plans_table(n: &highneeds_model::diagnose::NewPlans) -> Table {
    let mut t = Table::new(
        "New plans by age",
        format!(
            "New EHC plans made in {} by age group (published by age group only)",
            n.calendar_year
        ),
    )
    .column("age", Kind::Text)
    .column("plans", Kind::Count)
    .column("share", Kind::Percent)
    .column("England", Kind::Percent);
    for (g, v, sh, e) in &n.by_age {
        t.push(vec![
            g.label().into(),
            (*v).into(),
            (*sh).into(),
            (*e).into(),
        ]);
    }
    t.push(vec!["total".into(), n.total.into()]);
    t.note(format!(
        "{} a year since {} (England {})",
        signed(n.cagr),
        n.since,
        signed(n.england_cagr)
    ));
    t
}

fn person_level_tables(p: &highneeds_model::diagnose::new_plans::NewPlansByNcy) -> [Table; 2] {
    let mut ncy = Table::new(
        "New plans by NCY",
        format!(
            "New plans by NCY at first plan (person-level history, censuses {}-{}: {} new plans)",
            p.first_census, p.last_census, p.total
        ),
    )
    .column("NCY", Kind::Decimal(0))
    .column("plans", Kind::Count)
    .column("share", Kind::Percent)
    .column("note", Kind::Text);
    for (n, c, sh) in &p.by_ncy {
        ncy.push(vec![
            (*n).into(),
            (*c).into(),
            (*sh).into(),
            if TRANSITION_NCYS.contains(n) {
                "transition year".into()
            } else {
                Cell::Missing
            },
        ]);
    }
    ncy.note(format!(
        "at transition years (NCY -1/0, 6/7, 11/12): {}",
        pct(p.transition_share)
    ));
    let mut need = Table::new("New plans by need", "New plans by need at first plan")
        .column("need", Kind::Text)
        .column("plans", Kind::Count)
        .column("share", Kind::Percent);
    for (n, c, sh) in &p.by_need {
        need.push(vec![n.as_str().into(), (*c).into(), (*sh).into()]);
    }
    need.note(format!(
        "the three commonest needs: {}",
        pct(p.top_three_share)
    ));
    [ncy, need]
}

fn process_table(d: &Diagnosis) -> Table {
    let mut t = Table::new(
        "Requests and timeliness",
        "Requests for assessment and timeliness (calendar years)",
    )
    .column("year", Kind::Year)
    .column("requests", Kind::Count)
    .column("refused", Kind::Percent)
    .column("England", Kind::Percent)
    .column("issued", Kind::Count)
    .column("20 weeks", Kind::Percent)
    .column("England", Kind::Percent)
    .column("mediation", Kind::Count)
    .column("tribunal", Kind::Count);
    for p in &d.process {
        t.push(vec![
            p.calendar_year.into(),
            p.requests.into(),
            p.refused_share.into(),
            p.england_refused_share.into(),
            p.plans_issued.into(),
            p.within_20_weeks.into(),
            p.england_within_20_weeks.into(),
            p.mediations.into(),
            p.tribunals.into(),
        ]);
    }
    t
}

fn spend_tables(s: &highneeds_model::diagnose::Spend) -> Vec<Table> {
    let mut years = Table::new("Spend", "High Needs spend (the LA's budget file)")
        .column("FY", Kind::Text)
        .column("expenditure", Kind::Money)
        .column("allocation", Kind::Money)
        .column("plans", Kind::Count)
        .column("per plan", Kind::Money);
    for y in &s.years {
        years.push(vec![
            y.financial_year.as_str().into(),
            Cell::pounds(Some(y.expenditure)),
            Cell::pounds(y.allocation),
            y.plans.into(),
            Cell::pounds(y.unit_cost),
        ]);
    }
    if let Some(g) = &s.decomposition {
        let f = &g.factors;
        years.note(format!(
            "spend {} to {}: ×{:.4} = volume ×{:.4} · mix ×{:.4} · rate ×{:.4}{}",
            g.from,
            g.to,
            f.spend,
            f.volume,
            f.mix,
            f.rate,
            if g.by_setting {
                ""
            } else {
                " (mix and rate together: spend not by setting)"
            }
        ));
    }
    let mut out = vec![years];
    if let Some(first) = s.by_setting.first() {
        let mut t = Table::new(
            "Spend by setting",
            format!(
                "High Needs spend by setting, {} to {}",
                first.from, first.to
            ),
        )
        .column("setting", Kind::Text)
        .column(first.from.clone(), Kind::Money)
        .column(first.to.clone(), Kind::Money)
        .column("share", Kind::Percent)
        .column("CAGR", Kind::Change)
        .column("contrib", Kind::Percent)
        .column(format!("per plan {}", first.from), Kind::Money)
        .column(format!("per plan {}", first.to), Kind::Money);
        for l in &s.by_setting {
            t.push(vec![
                l.setting.label().into(),
                Cell::pounds(Some(l.spend_before)),
                Cell::pounds(Some(l.spend_after)),
                l.share.into(),
                l.cagr.into(),
                l.contribution.into(),
                Cell::pounds(l.unit_cost_before),
                Cell::pounds(l.unit_cost_after),
            ]);
        }
        out.push(t);
    }
    out
}

/// The diagnostic as a report: the tables a Schools Forum paper could use.
pub fn report(d: &Diagnosis, name: &str) -> Report {
    let mut r = Report::new(format!(
        "Diagnostic: {name} ({}), January {} to January {}",
        d.la, d.from, d.to
    ));
    r.summary.push(
        "Source: DfE, Education, health and care plans (SEN2), published statistics; England for comparison"
            .into(),
    );
    r.summary.push(
        "(share = of plans in the later year; CAGR = growth a year; contrib = share of the growth; Eng = England)"
            .into(),
    );
    let mut drivers = Table::new("Drivers", "What drives growth")
        .column("rank", Kind::Count)
        .column("driver", Kind::Text);
    for (i, s) in d.drivers.iter().enumerate() {
        drivers.push(vec![(i + 1).into(), s.as_str().into()]);
    }
    r.tables.push(drivers);
    r.tables.push(caseload_table(d));
    if !d.by_setting.is_empty() {
        r.tables.push(growth_table(
            ("By setting", "EHC plans by setting", "setting"),
            d.from,
            d.to,
            &d.by_setting,
        ));
    }
    if !d.by_age.is_empty() {
        r.tables.push(growth_table(
            (
                "By age group",
                "EHC plans by age group (age on 31 August before the census)",
                "age group",
            ),
            d.from,
            d.to,
            &d.by_age,
        ));
    }
    r.tables.push(growth_table(
        (
            "Specialist and young adults",
            "Specialist places, independent placements and young adults (share and growth of all plans)",
            "plans",
        ),
        d.from,
        d.to,
        &d.focus,
    ));
    if let Some(n) = &d.new_plans {
        r.tables.push(new_plans_table(n));
    }
    if let Some(p) = &d.person_level {
        r.tables.extend(person_level_tables(p));
    }
    if !d.process.is_empty() {
        r.tables.push(process_table(d));
    }
    match &d.spend {
        Some(s) => r.tables.extend(spend_tables(s)),
        None => r
            .summary
            .push("High Needs spend: not available (see notes)".into()),
    }
    r.notes = d.notes.clone();
    r
}

/// The report as text (what `highneeds diagnose` prints and the dashboard shows).
pub fn table(d: &Diagnosis, name: &str) -> String {
    text::render(&report(d, name))
}

fn line_json(l: &GrowthLine) -> Value {
    json!({
        "code": l.code, "label": l.label, "before": l.before, "after": l.after, "share": l.share,
        "cagr": l.cagr, "contribution": l.contribution, "england_cagr": l.england_cagr,
        "england_share": l.england_share,
    })
}

/// The same content as the table, for other tools.
pub fn to_json(d: &Diagnosis, name: &str) -> Value {
    json!({
        "la_code": d.la.as_str(),
        "la_name": name,
        "from": d.from,
        "to": d.to,
        "drivers": d.drivers,
        "caseload": d.caseload.iter().map(|c| json!({
            "census_year": c.census_year, "plans": c.plans, "growth": c.growth,
            "england_growth": c.england_growth, "apportioned": c.apportioned,
        })).collect::<Vec<_>>(),
        "total": line_json(&d.total),
        "by_setting": d.by_setting.iter().map(line_json).collect::<Vec<_>>(),
        "by_age": d.by_age.iter().map(line_json).collect::<Vec<_>>(),
        "focus": d.focus.iter().map(line_json).collect::<Vec<_>>(),
        "new_plans": d.new_plans.as_ref().map(|n| json!({
            "calendar_year": n.calendar_year, "total": n.total, "cagr": n.cagr,
            "england_cagr": n.england_cagr, "since": n.since,
            "by_age": n.by_age.iter().map(|(g, v, sh, e)| json!({
                "age_group": g.code(), "plans": v, "share": sh, "england_share": e,
            })).collect::<Vec<_>>(),
        })),
        "process": d.process.iter().map(|p| json!({
            "calendar_year": p.calendar_year, "requests": p.requests, "refused_share": p.refused_share,
            "england_refused_share": p.england_refused_share, "plans_issued": p.plans_issued,
            "within_20_weeks": p.within_20_weeks, "england_within_20_weeks": p.england_within_20_weeks,
            "mediations": p.mediations, "tribunals": p.tribunals,
        })).collect::<Vec<_>>(),
        "spend": d.spend.as_ref().map(|s| json!({
            "years": s.years.iter().map(|y| json!({
                "financial_year": y.financial_year, "census_year": y.census_year,
                "expenditure_pence": (y.expenditure * 100.0).round() as i64,
                "allocation_pence": y.allocation.map(|a| (a * 100.0).round() as i64),
                "plans": y.plans, "unit_cost_pence": y.unit_cost.map(|u| (u * 100.0).round() as i64),
            })).collect::<Vec<_>>(),
            "by_setting": s.by_setting.iter().map(|l| json!({
                "setting": l.setting.code(), "from": l.from, "to": l.to,
                "spend_before_pence": (l.spend_before * 100.0).round() as i64,
                "spend_after_pence": (l.spend_after * 100.0).round() as i64,
                "share": l.share, "cagr": l.cagr, "contribution": l.contribution,
                "unit_cost_before_pence": l.unit_cost_before.map(|u| (u * 100.0).round() as i64),
                "unit_cost_after_pence": l.unit_cost_after.map(|u| (u * 100.0).round() as i64),
            })).collect::<Vec<_>>(),
            "decomposition": s.decomposition.as_ref().map(|g| json!({
                "from": g.from, "to": g.to, "spend": g.factors.spend, "volume": g.factors.volume,
                "mix": g.factors.mix, "rate": g.factors.rate, "by_setting": g.by_setting,
            })),
        })),
        "person_level_new_plans": d.person_level.as_ref().map(|p| json!({
            "first_census": p.first_census, "last_census": p.last_census, "total": p.total,
            "transition_share": p.transition_share, "top_three_share": p.top_three_share,
            "by_ncy": p.by_ncy.iter().map(|(n, c, sh)| json!({"ncy": n, "plans": c, "share": sh})).collect::<Vec<_>>(),
            "by_need": p.by_need.iter().map(|(d, c, sh)| json!({"need": d, "plans": c, "share": sh})).collect::<Vec<_>>(),
        })),
        "notes": d.notes,
    })
}
