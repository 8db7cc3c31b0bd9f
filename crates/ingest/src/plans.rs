//! Our person-level file `plans.csv`: one row per child per census.

use rustc_hash::FxHashMap as HashMap;
use std::path::Path;

use highneeds_domain::{CensusRecord, CensusYear, ChildId, PlanHistory, State, Urn};

use crate::fields::{self, Codes};
use crate::issue::Report;
use crate::table::{read_table, Columns};
use crate::{read_with_options, source, Parsed, ReadOptions};

pub(crate) const PLAN_COLUMNS: [&str; 6] =
    ["child_id", "census_year", "ncy", "need", "setting", "urn"];

const ROW: (&str, &str) = ("row", "rows");
const CHILD: (&str, &str) = ("child", "children");

/// Parse a `plans.csv` (`child_id,census_year,ncy,need,setting,urn`; `urn` may be empty or absent) into one
/// history per child, in order of first appearance.
pub fn parse_plans(name: &str, bytes: &[u8]) -> Parsed<Vec<PlanHistory>> {
    let mut report = Report::new(name);
    let mut codes = Codes::default();
    let mut children: Vec<(ChildId, Vec<(u64, CensusRecord)>)> = Vec::new();
    let mut index: HashMap<ChildId, usize> = HashMap::default();
    let mut seen: HashMap<(usize, CensusYear), u64> = HashMap::default();
    let columns = Columns {
        names: &PLAN_COLUMNS,
        required: 5,
    };
    let rows = read_table(name, bytes, &columns, &mut report, &mut |report, row| {
        let id_text = row.get(0);
        let child = ChildId::parse(id_text).ok();
        if child.is_none() {
            report.cell(
                row.line,
                "child_id",
                id_text,
                "is not a child id (1-64 printable characters without spaces or commas)",
            );
        }
        let year = fields::census_year(report, row, 1, "census_year", 0);
        let ncy = fields::ncy(report, row, 2, "ncy");
        let need = codes.need(report, row, 3, "need");
        let setting = codes.setting(report, row, 4, "setting");
        let urn_text = row.get(5);
        let urn = if urn_text.is_empty() {
            Some(None)
        } else {
            match Urn::parse(urn_text) {
                Ok(u) => Some(Some(u)),
                Err(_) => {
                    report.cell(
                        row.line,
                        "urn",
                        urn_text,
                        "is not a URN (6 digits) or UKPRN (8 digits)",
                    );
                    None
                }
            }
        };
        if let Some(n) = &need {
            if n.sen2().is_none() {
                report.tally(
                    ROW,
                    "with a need code outside the SEN2 list (ASD HI MLD MSI OTH PD PMLD SEMH SLCN SLD SPLD VI DS NSA UNKNOWN)",
                    Some(row.line),
                );
            }
        }
        let (Some(child), Some(census_year), Some(ncy), Some(need), Some(setting), Some(urn)) =
            (child, year, ncy, need, setting, urn)
        else {
            return;
        };
        let i = match index.get(&child) {
            Some(i) => *i,
            None => {
                let i = children.len();
                index.insert(child.clone(), i);
                children.push((child, Vec::new()));
                i
            }
        };
        if seen.contains_key(&(i, census_year)) {
            report.tally(
                ROW,
                "repeating a child_id already in that census_year (the first row is kept)",
                Some(row.line),
            );
            return;
        }
        seen.insert((i, census_year), row.line);
        if let Some((_, records)) = children.get_mut(i) {
            records.push((
                row.line,
                CensusRecord {
                    census_year,
                    state: State { ncy, need, setting },
                    urn,
                },
            ));
        }
    });

    let mut out = Vec::with_capacity(children.len());
    for (child, mut records) in children {
        records.sort_by_key(|(_, r)| r.census_year);
        let mut ageing_line = None;
        let mut gap_line = None;
        for pair in records.windows(2) {
            let [(_, a), (line, b)] = pair else { continue };
            let years = b.census_year.year() - a.census_year.year();
            if years > 1 {
                gap_line.get_or_insert(*line);
            } else if b.state.ncy.value() - a.state.ncy.value() != 1 {
                ageing_line.get_or_insert(*line);
            }
        }
        if let Some(line) = ageing_line {
            report.tally(
                CHILD,
                "whose NCY does not rise by exactly one between consecutive censuses",
                Some(line),
            );
        }
        if let Some(line) = gap_line {
            report.tally(
                CHILD,
                "whose plan vanishes and reappears (a gap in census years)",
                Some(line),
            );
        }
        let first_line = records.first().map(|(l, _)| *l).unwrap_or(0);
        match PlanHistory::new(child, records.into_iter().map(|(_, r)| r).collect()) {
            Ok(h) => out.push(h),
            Err(e) => report.line(first_line, e.to_string()),
        }
    }
    let src = source(name, Path::new(name), bytes, rows);
    Parsed::new(Some(out), report.finish(), vec![src])
}

/// Read a `plans.csv` (or `.xlsx`) file.
pub fn read_plans(path: &Path) -> Parsed<Vec<PlanHistory>> {
    read_plans_with(path, &ReadOptions::default())
}

/// [`read_plans`], with the encoding the user stated.
pub fn read_plans_with(path: &Path, options: &ReadOptions) -> Parsed<Vec<PlanHistory>> {
    read_with_options(path, options, parse_plans)
}
