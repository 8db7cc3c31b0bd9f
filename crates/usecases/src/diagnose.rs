//! The DBV diagnostic as a report (table text and JSON), as `highneeds diagnose` prints it and the
//! dashboard shows it: where an LA's plans (and, with its budget, spend) grow and why, from the published
//! statistics. The table is laid out for a Schools Forum paper; the JSON carries the same content.

use std::fmt::Write as _;

use highneeds_model::diagnose::{Diagnosis, GrowthLine, TRANSITION_NCYS};
use serde_json::{json, Value};

fn count(x: f64) -> String {
    highneeds_domain::money::group_thousands(x.round() as i128)
}

fn opt_count(x: Option<f64>) -> String {
    x.map(count).unwrap_or_else(|| "-".into())
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.1}%", v * 100.0))
        .unwrap_or_else(|| "-".into())
}

fn signed(x: Option<f64>) -> String {
    x.map(|v| format!("{:+.1}%", v * 100.0))
        .unwrap_or_else(|| "-".into())
}

fn pounds(x: f64) -> String {
    format!("£{}", count(x))
}

fn growth_table(
    out: &mut String,
    title: &str,
    from: i32,
    to: i32,
    lines: &[GrowthLine],
    total: Option<&GrowthLine>,
) {
    let _ = writeln!(out, "\n{title}");
    let _ = writeln!(
        out,
        "  {:<46} {:>7} {:>7} {:>7} {:>8} {:>8} {:>9} {:>9}",
        "", from, to, "share", "CAGR", "contrib", "Eng CAGR", "Eng share"
    );
    for l in lines.iter().chain(total) {
        let label: String = l.label.chars().take(46).collect();
        let _ = writeln!(
            out,
            "  {:<46} {:>7} {:>7} {:>7} {:>8} {:>8} {:>9} {:>9}",
            label,
            opt_count(l.before),
            opt_count(l.after),
            pct(l.share),
            signed(l.cagr),
            pct(l.contribution),
            signed(l.england_cagr),
            pct(l.england_share)
        );
    }
}

/// The table a Schools Forum paper could use.
pub fn table(d: &Diagnosis, name: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Diagnostic: {name} ({}), January {} to January {}",
        d.la, d.from, d.to
    );
    let _ = writeln!(
        out,
        "Source: DfE, Education, health and care plans (SEN2), published statistics; England for comparison"
    );
    let _ = writeln!(
        out,
        "(share = of plans in the later year; CAGR = growth a year; contrib = share of the growth; Eng = England)"
    );
    let _ = writeln!(out, "\nWhat drives growth");
    for (i, s) in d.drivers.iter().enumerate() {
        let _ = writeln!(out, "  {}. {s}", i + 1);
    }
    let _ = writeln!(out, "\nEHC plans at each January census");
    let _ = writeln!(
        out,
        "  {:<8} {:>7} {:>8} {:>8}",
        "census", "plans", "growth", "England"
    );
    for c in &d.caseload {
        let _ = writeln!(
            out,
            "  {:<8} {:>7} {:>8} {:>8}{}",
            c.census_year,
            count(c.plans),
            signed(c.growth),
            signed(c.england_growth),
            if c.apportioned {
                "  (estimated: boundary change)"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(
        out,
        "  {} a year over {} years (England {})",
        signed(d.total.cagr),
        d.to - d.from,
        signed(d.total.england_cagr)
    );
    if !d.by_setting.is_empty() {
        growth_table(
            &mut out,
            "EHC plans by setting",
            d.from,
            d.to,
            &d.by_setting,
            None,
        );
    }
    if !d.by_age.is_empty() {
        growth_table(
            &mut out,
            "EHC plans by age group (age on 31 August before the census)",
            d.from,
            d.to,
            &d.by_age,
            None,
        );
    }
    growth_table(
        &mut out,
        "Specialist places, independent placements and young adults (share and growth of all plans)",
        d.from,
        d.to,
        &d.focus,
        None,
    );
    if let Some(n) = &d.new_plans {
        let _ = writeln!(
            out,
            "\nNew EHC plans made in {} by age group (published by age group only)",
            n.calendar_year
        );
        let _ = writeln!(
            out,
            "  {:<12} {:>6} {:>7} {:>9}",
            "age", "plans", "share", "England"
        );
        for (g, v, sh, e) in &n.by_age {
            let _ = writeln!(
                out,
                "  {:<12} {:>6} {:>7} {:>9}",
                g.label(),
                count(*v),
                pct(Some(*sh)),
                pct(*e)
            );
        }
        let _ = writeln!(
            out,
            "  {:<12} {:>6}   {} a year since {} (England {})",
            "total",
            count(n.total),
            signed(n.cagr),
            n.since,
            signed(n.england_cagr)
        );
    }
    if let Some(p) = &d.person_level {
        let _ = writeln!(
            out,
            "\nNew plans by NCY at first plan (person-level history, censuses {}-{}: {} new plans)",
            p.first_census,
            p.last_census,
            count(p.total as f64)
        );
        let _ = writeln!(out, "  {:<6} {:>6} {:>7}", "NCY", "plans", "share");
        for (n, c, sh) in &p.by_ncy {
            let mark = if TRANSITION_NCYS.contains(n) {
                "  transition year"
            } else {
                ""
            };
            let _ = writeln!(out, "  {:<6} {:>6} {:>7}{mark}", n, c, pct(Some(*sh)));
        }
        let _ = writeln!(
            out,
            "  at transition years (NCY -1/0, 6/7, 11/12): {}",
            pct(Some(p.transition_share))
        );
        let _ = writeln!(out, "  by need at first plan:");
        for (need, c, sh) in &p.by_need {
            let _ = writeln!(out, "  {:<6} {:>6} {:>7}", need, c, pct(Some(*sh)));
        }
        let _ = writeln!(
            out,
            "  the three commonest needs: {}",
            pct(Some(p.top_three_share))
        );
    }
    if !d.process.is_empty() {
        let _ = writeln!(
            out,
            "\nRequests for assessment and timeliness (calendar years)"
        );
        let _ = writeln!(
            out,
            "  {:<6} {:>8} {:>8} {:>8} {:>7} {:>9} {:>8} {:>9} {:>9}",
            "year",
            "requests",
            "refused",
            "England",
            "issued",
            "20 weeks",
            "England",
            "mediation",
            "tribunal"
        );
        for p in &d.process {
            let _ = writeln!(
                out,
                "  {:<6} {:>8} {:>8} {:>8} {:>7} {:>9} {:>8} {:>9} {:>9}",
                p.calendar_year,
                opt_count(p.requests),
                pct(p.refused_share),
                pct(p.england_refused_share),
                opt_count(p.plans_issued),
                pct(p.within_20_weeks),
                pct(p.england_within_20_weeks),
                opt_count(p.mediations),
                opt_count(p.tribunals)
            );
        }
    }
    match &d.spend {
        Some(s) => {
            let _ = writeln!(out, "\nHigh Needs spend (the LA's budget file)");
            let _ = writeln!(
                out,
                "  {:<8} {:>14} {:>14} {:>7} {:>10}",
                "FY", "expenditure", "allocation", "plans", "per plan"
            );
            for y in &s.years {
                let _ = writeln!(
                    out,
                    "  {:<8} {:>14} {:>14} {:>7} {:>10}",
                    y.financial_year,
                    pounds(y.expenditure),
                    y.allocation.map(pounds).unwrap_or_else(|| "-".into()),
                    opt_count(y.plans),
                    y.unit_cost.map(pounds).unwrap_or_else(|| "-".into())
                );
            }
            if !s.by_setting.is_empty() {
                let first = &s.by_setting[0];
                let _ = writeln!(
                    out,
                    "  by setting, {} to {}:\n  {:<40} {:>13} {:>13} {:>7} {:>8} {:>8} {:>9} {:>9}",
                    first.from,
                    first.to,
                    "",
                    first.from,
                    first.to,
                    "share",
                    "CAGR",
                    "contrib",
                    "per plan",
                    "per plan"
                );
                for l in &s.by_setting {
                    let _ = writeln!(
                        out,
                        "  {:<40} {:>13} {:>13} {:>7} {:>8} {:>8} {:>9} {:>9}",
                        l.setting.label(),
                        pounds(l.spend_before),
                        pounds(l.spend_after),
                        pct(Some(l.share)),
                        signed(l.cagr),
                        pct(l.contribution),
                        l.unit_cost_before.map(pounds).unwrap_or_else(|| "-".into()),
                        l.unit_cost_after.map(pounds).unwrap_or_else(|| "-".into())
                    );
                }
            }
            if let Some(g) = &s.decomposition {
                let f = &g.factors;
                let _ = writeln!(
                    out,
                    "  spend {} to {}: ×{:.4} = volume ×{:.4} · mix ×{:.4} · rate ×{:.4}{}",
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
                );
            }
        }
        None => {
            let _ = writeln!(out, "\nHigh Needs spend: not available (see notes)");
        }
    }
    if !d.notes.is_empty() {
        let _ = writeln!(out, "\nNotes");
        for n in &d.notes {
            let _ = writeln!(out, "  - {n}");
        }
    }
    out
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
