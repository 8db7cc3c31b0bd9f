//! The aggregate file `totals.csv`: `census_year,plans,new_plans` — plans at each January census and, where
//! known, the new plans made in the year up to it. For LAs without person-level history (the forecast's
//! stock-and-flow fallback).

use std::collections::HashMap;
use std::path::Path;

use highneeds_domain::{CensusTotal, CensusYear};

use crate::fields;
use crate::issue::Report;
use crate::table::{read_table, Columns};
use crate::{read_with, source, Parsed};

pub(crate) const TOTALS_COLUMNS: [&str; 3] = ["census_year", "plans", "new_plans"];

/// A count cell: a whole number ≥ 0.
fn count(report: &mut Report, line: u64, col: &str, text: &str) -> Option<u64> {
    match fields::parse_int(text).and_then(|v| u64::try_from(v).ok()) {
        Some(v) => Some(v),
        None => {
            report.cell(
                line,
                col,
                text,
                "is not a whole number of plans (0 or more)",
            );
            None
        }
    }
}

/// Parse a `totals.csv`. `new_plans` may be left empty (then the growth model is used).
pub fn parse_totals(name: &str, bytes: &[u8]) -> Parsed<Vec<CensusTotal>> {
    let mut report = Report::new(name);
    let mut out = Vec::new();
    let mut seen: HashMap<CensusYear, u64> = HashMap::new();
    let columns = Columns {
        names: &TOTALS_COLUMNS,
        required: 2,
    };
    let rows = read_table(name, bytes, &columns, &mut report, &mut |report, row| {
        let year = fields::census_year(report, row, 0, TOTALS_COLUMNS[0], 0);
        let plans = count(report, row.line, TOTALS_COLUMNS[1], row.get(1));
        let new_text = row.get(2);
        let new_plans = if new_text.is_empty() {
            Some(None)
        } else {
            count(report, row.line, TOTALS_COLUMNS[2], new_text).map(Some)
        };
        let (Some(census_year), Some(plans), Some(new_plans)) = (year, plans, new_plans) else {
            return;
        };
        if let Some(first) = seen.insert(census_year, row.line) {
            report.line(
                row.line,
                format!("census {census_year} given twice (first at line {first})"),
            );
            return;
        }
        out.push(CensusTotal {
            census_year,
            plans,
            new_plans,
        });
    });
    out.sort();
    let src = source(name, Path::new(name), bytes, rows);
    Parsed::new(Some(out), report.finish(), vec![src])
}

/// Read a `totals.csv` (or `.xlsx`) file.
pub fn read_totals(path: &Path) -> Parsed<Vec<CensusTotal>> {
    read_with(path, parse_totals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_totals_and_names_bad_cells() {
        let ok = parse_totals(
            "totals.csv",
            b"census_year,plans,new_plans\n2021,100,\n2022,110,20\n",
        );
        let v = ok.value.unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].new_plans, Some(20));
        assert_eq!(v[0].new_plans, None);
        let bad = parse_totals(
            "totals.csv",
            b"census_year,plans\n2021,100\n2022,-5\n2022,7\n",
        );
        assert!(bad.value.is_none());
        let text: Vec<String> = bad.issues.iter().map(ToString::to_string).collect();
        assert!(
            text.iter()
                .any(|t| t.starts_with("totals.csv:3: column plans: \"-5\"")),
            "{text:?}"
        );
    }
}
