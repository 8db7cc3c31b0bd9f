//! Flows over a calendar year: new plans by age group, and the assessment process (requests, refusals,
//! 20-week timeliness, mediation, tribunals).

use std::collections::BTreeMap;
use std::path::Path;

use highneeds_domain::{AgeGroup, LaCode, Measure, PublishedStatistics};

use super::rows::{count, where_from, Cell, Collector, Place};
use crate::issue::Report;
use crate::table::{read_table, Columns};
use crate::{source, Parsed};

const PLACE: Place = Place {
    year: 0,
    level: 1,
    la: 2,
    name: 3,
};

/// `ehcp_new_plans_by_age_la_2009_2021.csv`: `calendar_year,…,age_group,new_plans` (age group `total` is the
/// LA's total of new plans).
pub fn parse_new_plans(name: &str, bytes: &[u8]) -> Parsed<PublishedStatistics> {
    const COLS: [&str; 6] = [
        "calendar_year",
        "geographic_level",
        "la_code",
        "la_name",
        "age_group",
        "new_plans",
    ];
    let mut report = Report::new(name);
    let mut c = Collector::default();
    let columns = Columns {
        names: &COLS,
        required: 6,
    };
    let rows = read_table(name, bytes, &columns, &mut report, &mut |report, row| {
        let at = where_from(report, row, &COLS, &PLACE);
        let group_text = row.get(4);
        let measure = if group_text.eq_ignore_ascii_case("total") {
            Some(Measure::NewPlans)
        } else if let Some(g) = AgeGroup::from_code(group_text) {
            Some(Measure::NewPlansByAge(g))
        } else {
            report.cell(
                row.line,
                COLS[4],
                group_text,
                "is not an age group (total, under_5, 5_10, 11_15, 16_19, 20_25)",
            );
            None
        };
        let plans = count(report, row, 5, COLS[5]);
        let (Some((year, la, la_name)), Some(measure), Some(plans)) = (at, measure, plans) else {
            return;
        };
        c.name(la, &la_name);
        c.put(report, row.line, la, measure, year, plans);
    });
    let src = source(name, Path::new(name), bytes, rows);
    Parsed::new(Some(c.stats), report.finish(), vec![src])
}

/// The process columns read, and what each is.
const PROCESS_MEASURES: [(&str, Measure); 6] = [
    ("inreq_ehc", Measure::Requests),
    ("ass_refused_ehc", Measure::RequestsRefused),
    ("tot_inc_exc_ehc", Measure::PlansIssued),
    ("inc_exc20week_ehc", Measure::IssuedWithin20Weeks),
    ("new_ehcmediation", Measure::Mediations),
    ("new_ehctribunal", Measure::Tribunals),
];

/// `ehcp_process_mi_la_2014_2021.csv`: the six process counts above (the other 44 columns are not used).
/// A measure that is 0 for England in a year was not collected that year (requests in 2014-2015): it is dropped
/// for every LA that year, with a warning.
pub fn parse_process(name: &str, bytes: &[u8]) -> Parsed<PublishedStatistics> {
    const COLS: [&str; 10] = [
        "calendar_year",
        "geographic_level",
        "la_code",
        "la_name",
        "inreq_ehc",
        "ass_refused_ehc",
        "tot_inc_exc_ehc",
        "inc_exc20week_ehc",
        "new_ehcmediation",
        "new_ehctribunal",
    ];
    let mut report = Report::new(name);
    let mut c = Collector::default();
    let columns = Columns {
        names: &COLS,
        required: 4,
    };
    let mut any_measure = false;
    let rows = read_table(name, bytes, &columns, &mut report, &mut |report, row| {
        let at = where_from(report, row, &COLS, &PLACE);
        let cells: Vec<Option<Cell>> = (0..PROCESS_MEASURES.len())
            .map(|k| count(report, row, 4 + k, COLS[4 + k]))
            .collect();
        let Some((year, la, la_name)) = at else {
            return;
        };
        c.name(la, &la_name);
        for (k, cell) in cells.into_iter().enumerate() {
            if let Some(cell) = cell {
                if cell != Cell::NotApplicable {
                    any_measure = true;
                }
                c.put(report, row.line, la, PROCESS_MEASURES[k].1, year, cell);
            }
        }
    });
    if rows > 0 && !any_measure {
        report.file(format!(
            "has none of the process columns {}",
            PROCESS_MEASURES.map(|m| m.0).join(", ")
        ));
    }
    // Measures England reports as 0 were not collected: drop them for everyone that year.
    let england = LaCode::england();
    let uncollected: Vec<(Measure, i32)> = c
        .stats
        .figures
        .iter()
        .filter(|((la, _, _), v)| *la == england && **v == 0)
        .map(|((_, m, y), _)| (*m, *y))
        .collect();
    let mut dropped: BTreeMap<Measure, Vec<i32>> = BTreeMap::new();
    for (m, y) in uncollected {
        c.stats
            .figures
            .retain(|(_, mm, yy), _| !(*mm == m && *yy == y));
        dropped.entry(m).or_default().push(y);
    }
    for (m, years) in dropped {
        let col = PROCESS_MEASURES
            .iter()
            .find(|(_, mm)| *mm == m)
            .map_or("?", |(c, _)| *c);
        let years: Vec<String> = years.iter().map(ToString::to_string).collect();
        report.warn_file(format!(
            "column {col} is 0 for England in {}: not collected that year, so not used for any LA",
            years.join(", ")
        ));
    }
    let src = source(name, Path::new(name), bytes, rows);
    Parsed::new(Some(c.stats), report.finish(), vec![src])
}
