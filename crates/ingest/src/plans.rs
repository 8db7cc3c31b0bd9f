//! Our person-level file `plans.csv`: one row per child per census.

use rustc_hash::FxHashMap as HashMap;
use std::path::Path;

use highneeds_domain::{CensusRecord, CensusYear, ChildId, PlanHistory, State, Urn};

use crate::fields::{self, Codes};
use crate::issue::Report;
use crate::table::{read_table, Columns, Row};
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
    let mut child_rows = ChildRows::default();
    let columns = Columns {
        names: &PLAN_COLUMNS,
        required: 5,
    };
    let rows = read_table(name, bytes, &columns, &mut report, &mut |report, row| {
        if let Some((child, record)) = read_plan_row(report, row, &mut codes) {
            child_rows.add(report, row.line, child, record);
        }
    });

    let mut out = Vec::with_capacity(child_rows.children.len());
    for (child, records) in child_rows.children {
        if let Some(history) = child_history(&mut report, child, records) {
            out.push(history);
        }
    }
    let src = source(name, Path::new(name), bytes, rows);
    Parsed::new(Some(out), report.finish(), vec![src])
}

/// One row's cells, each fault reported (and a need outside the SEN2 list tallied): the child and its census
/// record, or `None` when any cell is unusable.
fn read_plan_row(
    report: &mut Report,
    row: &Row<'_>,
    codes: &mut Codes,
) -> Option<(ChildId, CensusRecord)> {
    let child = plan_child_id(report, row);
    let year = fields::census_year(report, row, 1, "census_year", 0);
    let ncy = fields::ncy(report, row, 2, "ncy");
    let need = codes.need(report, row, 3, "need");
    let setting = codes.setting(report, row, 4, "setting");
    let urn = plan_urn(report, row);
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
        return None;
    };
    Some((
        child,
        CensusRecord {
            census_year,
            state: State { ncy, need, setting },
            urn,
        },
    ))
}

/// The `child_id` cell, or `None` (reported) when it is not a child id.
fn plan_child_id(report: &mut Report, row: &Row<'_>) -> Option<ChildId> {
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
    child
}

/// The `urn` cell: `Some(None)` when it is empty or absent, `None` (reported) when it is not a URN or UKPRN.
fn plan_urn(report: &mut Report, row: &Row<'_>) -> Option<Option<Urn>> {
    let urn_text = row.get(5);
    if urn_text.is_empty() {
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
    }
}

/// Each child's census records with the lines they came from, children in order of first appearance.
#[derive(Default)]
struct ChildRows {
    children: Vec<(ChildId, Vec<(u64, CensusRecord)>)>,
    index: HashMap<ChildId, usize>,
    seen: HashMap<(usize, CensusYear), u64>,
}

impl ChildRows {
    /// Add a child's record from this line; a second row for the same child and census year is tallied and
    /// dropped (the first row is kept).
    fn add(&mut self, report: &mut Report, line: u64, child: ChildId, record: CensusRecord) {
        let i = match self.index.get(&child) {
            Some(i) => *i,
            None => {
                let i = self.children.len();
                self.index.insert(child.clone(), i);
                self.children.push((child, Vec::new()));
                i
            }
        };
        let census_year = record.census_year;
        if self.seen.contains_key(&(i, census_year)) {
            report.tally(
                ROW,
                "repeating a child_id already in that census_year (the first row is kept)",
                Some(line),
            );
            return;
        }
        self.seen.insert((i, census_year), line);
        if let Some((_, records)) = self.children.get_mut(i) {
            records.push((line, record));
        }
    }
}

/// A child's records, in census-year order, as a plan history (the NCY and census-year checks tallied first), or
/// `None` (reported at the child's first line) when they do not make one.
fn child_history(
    report: &mut Report,
    child: ChildId,
    mut records: Vec<(u64, CensusRecord)>,
) -> Option<PlanHistory> {
    records.sort_by_key(|(_, r)| r.census_year);
    check_consecutive_censuses(report, &records);
    let first_line = records.first().map(|(l, _)| *l).unwrap_or(0);
    match PlanHistory::new(child, records.into_iter().map(|(_, r)| r).collect()) {
        Ok(h) => Some(h),
        Err(e) => {
            report.line(first_line, e.to_string());
            None
        }
    }
}

/// Tally a child (at the first line it shows) whose NCY does not rise by exactly one between consecutive
/// censuses, and one whose census years have a gap.
fn check_consecutive_censuses(report: &mut Report, records: &[(u64, CensusRecord)]) {
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
}

/// Read a `plans.csv` (or `.xlsx`) file.
pub fn read_plans(path: &Path) -> Parsed<Vec<PlanHistory>> {
    read_plans_with(path, &ReadOptions::default())
}

/// [`read_plans`], with the encoding the user stated.
pub fn read_plans_with(path: &Path, options: &ReadOptions) -> Parsed<Vec<PlanHistory>> {
    read_with_options(path, options, parse_plans)
}
