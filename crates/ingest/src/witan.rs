//! witan.send's four input files: `transitions.csv`, `population.csv`, `costs.csv` and `valid-states.csv`.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use highneeds_domain::{
    AgeGroup, CensusYear, Ncy, Need, Pence, PopulationCount, Setting, State, Transition,
    TransitionHistory, UnitCost, ValidSetting,
};

use crate::fields::{self, is_nonsend, Codes};
use crate::issue::{Issue, Report, Severity};
use crate::table::{read_table, Columns, Row};
use crate::{display_name, read_bytes, read_with, source, Parsed, ReadOptions, SourceFile};

pub(crate) const TRANSITION_COLUMNS: [&str; 7] = [
    "calendar-year",
    "setting-1",
    "need-1",
    "academic-year-1",
    "setting-2",
    "need-2",
    "academic-year-2",
];
pub(crate) const POPULATION_COLUMNS: [&str; 3] = ["calendar-year", "academic-year", "population"];
/// `costs.csv`: need, setting, cost (pounds a year) are required (witan.send's file); an LA may add an age
/// group (one of `under_5`, `5_10`, `11_15`, `16_19`, `20_25`; empty = every age) and the split of the cost into
/// place funding and top-up (either or both; they must add up to the cost).
pub(crate) const COST_COLUMNS: [&str; 6] = [
    "need",
    "setting",
    "cost",
    "age-group",
    "place-funding",
    "top-up",
];
pub(crate) const VALID_STATE_COLUMNS: [&str; 6] = [
    "setting",
    "setting-group",
    "min-academic-year",
    "max-academic-year",
    "needs",
    "setting->setting",
];

const ROW: (&str, &str) = ("row", "rows");
/// The dearest annual cost of one plan accepted, in pence: £10 million, ten times the dearest placements. Above
/// it, a forecast's cost (plans × unit cost × uplift) could leave the range money is counted in.
pub const MAX_UNIT_COST_PENCE: i64 = 1_000_000_000;
const RULE_UNIT_COST_MAX: &str =
    "is more than £10,000,000 a year: not the cost of one plan (is it a total, or in pence?)";
/// Population files carry projections: a year up to this many years ahead is not flagged.
const POPULATION_YEARS_AHEAD: i32 = 30;
/// Largest population of one NCY in one LA that is not flagged: England's whole year group is about 700,000.
const PLAUSIBLE_POPULATION: u64 = 1_000_000;
const WARN_NOT_SEN2: &str = "with a need code outside the SEN2 list (ASD HI MLD MSI OTH PD PMLD SEMH SLCN SLD SPLD VI DS NSA UNKNOWN)";

/// The valid-states table indexed for checking other files against it.
pub(crate) struct ValidIndex<'a> {
    name: String,
    settings: HashMap<&'a Setting, &'a ValidSetting>,
    needs: HashSet<&'a Need>,
}

impl<'a> ValidIndex<'a> {
    pub(crate) fn new(name: &str, rows: &'a [ValidSetting]) -> Self {
        Self {
            name: name.to_string(),
            settings: rows.iter().map(|v| (&v.setting, v)).collect(),
            needs: rows.iter().flat_map(|v| v.needs.iter()).collect(),
        }
    }

    /// Check a setting and need against the table (errors) and a state's NCY and need against its setting
    /// (warnings). Without a table, only warn about need codes outside SEN2.
    fn check(
        index: Option<&Self>,
        report: &mut Report,
        line: u64,
        (setting_col, setting): (&str, &Setting),
        (need_col, need): (&str, &Need),
        ncy: Option<Ncy>,
    ) {
        let Some(index) = index else {
            if need.sen2().is_none() {
                report.tally(ROW, WARN_NOT_SEN2, Some(line));
            }
            return;
        };
        let valid = index.settings.get(setting).copied();
        if valid.is_none() {
            report.cell(
                line,
                setting_col,
                setting.as_str(),
                format!("unknown setting: not in {}", index.name),
            );
        }
        if !index.needs.contains(need) {
            report.cell(
                line,
                need_col,
                need.as_str(),
                format!("unknown need: not in {}", index.name),
            );
            return;
        }
        if let Some(v) = valid {
            if let Some(ncy) = ncy {
                if !(v.min_ncy..=v.max_ncy).contains(&ncy) {
                    report.tally(
                        ROW,
                        &format!(
                            "with an NCY outside its setting's min..max range in {}",
                            index.name
                        ),
                        Some(line),
                    );
                }
            }
            if !v.needs.contains(need) {
                report.tally(
                    ROW,
                    &format!("with a need not listed for its setting in {}", index.name),
                    Some(line),
                );
            }
        }
    }
}

fn finish<T>(name: &str, bytes: &[u8], value: Option<T>, report: Report, rows: u64) -> Parsed<T> {
    let src = source(name, Path::new(name), bytes, rows);
    Parsed::new(value, report.finish(), vec![src])
}

// ---------------------------------------------------------------------------------------------------------
// transitions.csv

enum Side {
    NoPlan,
    Plan(State),
    Bad,
}

fn side(
    report: &mut Report,
    row: &Row<'_>,
    codes: &mut Codes,
    ks: (usize, usize, usize),
    index: Option<&ValidIndex<'_>>,
) -> Side {
    let (ks_setting, ks_need, ks_ay) = ks;
    let (c_setting, c_need, c_ay) = (
        TRANSITION_COLUMNS[ks_setting],
        TRANSITION_COLUMNS[ks_need],
        TRANSITION_COLUMNS[ks_ay],
    );
    let (s, n) = (row.get(ks_setting), row.get(ks_need));
    match (is_nonsend(s), is_nonsend(n)) {
        (true, true) => {
            let ay = row.get(ks_ay);
            if !fields::parse_int(ay).is_some_and(|v| (-6..=21).contains(&v)) {
                report.cell(row.line, c_ay, ay, "is not a whole number -6..21");
                return Side::Bad;
            }
            Side::NoPlan
        }
        (true, false) => {
            report.cell(
                row.line,
                c_need,
                n,
                format!(
                    "is not NONSEND but {c_setting} is: a side without a plan is NONSEND in both"
                ),
            );
            Side::Bad
        }
        (false, true) => {
            report.cell(
                row.line,
                c_setting,
                s,
                format!("is not NONSEND but {c_need} is: a side without a plan is NONSEND in both"),
            );
            Side::Bad
        }
        (false, false) => {
            let setting = codes.setting(report, row, ks_setting, c_setting);
            let need = codes.need(report, row, ks_need, c_need);
            let ncy = fields::ncy(report, row, ks_ay, c_ay);
            if let (Some(setting), Some(need)) = (&setting, &need) {
                ValidIndex::check(
                    index,
                    report,
                    row.line,
                    (c_setting, setting),
                    (c_need, need),
                    ncy,
                );
            }
            match (setting, need, ncy) {
                (Some(setting), Some(need), Some(ncy)) => Side::Plan(State { ncy, need, setting }),
                _ => Side::Bad,
            }
        }
    }
}

pub(crate) fn transitions_from_bytes(
    name: &str,
    bytes: &[u8],
    index: Option<&ValidIndex<'_>>,
) -> Parsed<Vec<Transition>> {
    let mut report = Report::new(name);
    let mut codes = Codes::default();
    let mut out = Vec::new();
    let columns = Columns {
        names: &TRANSITION_COLUMNS,
        required: TRANSITION_COLUMNS.len(),
    };
    let rows = read_table(name, bytes, &columns, &mut report, &mut |report, row| {
        let year = fields::census_year(report, row, 0, TRANSITION_COLUMNS[0], 0);
        let before = side(report, row, &mut codes, (1, 2, 3), index);
        let after = side(report, row, &mut codes, (4, 5, 6), index);
        let (before, after) = match (before, after) {
            (Side::Bad, _) | (_, Side::Bad) => return,
            (Side::NoPlan, Side::NoPlan) => {
                report.line(
                    row.line,
                    "NONSEND on both sides: a row needs a plan on at least one side",
                );
                return;
            }
            (Side::NoPlan, Side::Plan(a)) => (None, Some(a)),
            (Side::Plan(b), Side::NoPlan) => (Some(b), None),
            (Side::Plan(b), Side::Plan(a)) => {
                if a.ncy.value() != b.ncy.value() + 1 {
                    report.tally(
                        ROW,
                        "where academic-year-2 is not academic-year-1 + 1 (a child ages one NCY a year)",
                        Some(row.line),
                    );
                }
                (Some(b), Some(a))
            }
        };
        if let Some(from_census) = year {
            out.push(Transition {
                from_census,
                before,
                after,
            });
        }
    });
    finish(name, bytes, Some(out), report, rows)
}

/// Parse a `transitions.csv` (or `.xlsx`), checking settings, needs and NCY ranges against valid states if given.
pub fn parse_transitions(
    name: &str,
    bytes: &[u8],
    valid_states: Option<&[ValidSetting]>,
) -> Parsed<Vec<Transition>> {
    let index = valid_states.map(|v| ValidIndex::new("valid-states.csv", v));
    transitions_from_bytes(name, bytes, index.as_ref())
}

/// Read a `transitions.csv` (or `.xlsx`) file.
pub fn read_transitions(
    path: &Path,
    valid_states: Option<&[ValidSetting]>,
) -> Parsed<Vec<Transition>> {
    read_with(path, |name, bytes| {
        parse_transitions(name, bytes, valid_states)
    })
}

// ---------------------------------------------------------------------------------------------------------
// population.csv

/// Parse a `population.csv`: resident population by census year and NCY. NCY 21..25 rows are ignored.
pub fn parse_population(name: &str, bytes: &[u8]) -> Parsed<Vec<PopulationCount>> {
    let mut report = Report::new(name);
    let mut out = Vec::new();
    let mut seen: HashMap<(CensusYear, i64), u64> = HashMap::default();
    let columns = Columns {
        names: &POPULATION_COLUMNS,
        required: 3,
    };
    let rows = read_table(name, bytes, &columns, &mut report, &mut |report, row| {
        let year = fields::census_year(report, row, 0, "calendar-year", POPULATION_YEARS_AHEAD);
        let ay_text = row.get(1);
        let ay = fields::parse_int(ay_text).filter(|v| (-5..=25).contains(v));
        if ay.is_none() {
            report.cell(row.line, "academic-year", ay_text, "is not an NCY (-5..25)");
        }
        let pop_text = row.get(2);
        let pop = match fields::parse_int(pop_text) {
            Some(p) if p < 0 => {
                report.cell(
                    row.line,
                    "population",
                    pop_text,
                    "is negative: a population is 0 or more",
                );
                None
            }
            Some(p) => u64::try_from(p).ok(),
            None => {
                report.cell(
                    row.line,
                    "population",
                    pop_text,
                    "is not a whole number of people",
                );
                None
            }
        };
        let (Some(year), Some(ay), Some(population)) = (year, ay, pop) else {
            return;
        };
        if let Some(first) = seen.get(&(year, ay)) {
            report.line(
                row.line,
                format!("duplicate row for calendar-year {year} and academic-year {ay} (first at line {first})"),
            );
            return;
        }
        seen.insert((year, ay), row.line);
        if population > PLAUSIBLE_POPULATION {
            report.tally(
                ROW,
                "with a population above 1,000,000 (England's whole year group is about 700,000): is it one LA's?",
                Some(row.line),
            );
        }
        match i32::try_from(ay).ok().and_then(|a| Ncy::new(a).ok()) {
            Some(ncy) => out.push(PopulationCount {
                census_year: year,
                ncy,
                population,
            }),
            None => report.tally(
                ROW,
                "with academic-year 21..25 ignored (plans end at NCY 20, age 25)",
                Some(row.line),
            ),
        }
    });
    if !out.is_empty() && out.iter().all(|p| p.population == 0) {
        report.file(format!(
            "every population count ({} rows) is 0: joiner rates per head cannot be computed",
            out.len()
        ));
    }
    finish(name, bytes, Some(out), report, rows)
}

/// Read a `population.csv` (or `.xlsx`) file.
pub fn read_population(path: &Path) -> Parsed<Vec<PopulationCount>> {
    read_with(path, parse_population)
}

// ---------------------------------------------------------------------------------------------------------
// costs.csv

/// A need, setting and age group: what one `costs.csv` row prices (one row each).
type CostKey = (Need, Setting, Option<AgeGroup>);

/// The `costs.csv` rows read so far: the codes met, the line each key was first priced at, and the costs.
#[derive(Default)]
struct CostRows {
    codes: Codes,
    first_lines: HashMap<CostKey, u64>,
    costs: Vec<UnitCost>,
}

impl CostRows {
    /// Read one row: its need, setting, cost, age group and split, checked against valid states if given.
    fn read_row(&mut self, report: &mut Report, row: &Row<'_>, index: Option<&ValidIndex<'_>>) {
        let need = self.codes.need(report, row, 0, "need");
        let setting = self.codes.setting(report, row, 1, "setting");
        let cost = cost_cell(report, row, 2, "cost");
        let age_group = age_group_cell(report, row);
        let place = cost_part_cell(report, row, 4, "place-funding");
        let top_up = cost_part_cell(report, row, 5, "top-up");
        let (Some(need), Some(setting)) = (need, setting) else {
            return;
        };
        ValidIndex::check(
            index,
            report,
            row.line,
            ("setting", &setting),
            ("need", &need),
            None,
        );
        let (Some(annual), Some(age_group), Some(place), Some(top_up)) =
            (cost, age_group, place, top_up)
        else {
            return;
        };
        let Some(place_funding) = place_funding_of(report, row, annual, (place, top_up)) else {
            return;
        };
        let key = (need, setting, age_group);
        if let Some(first) = self.first_lines.get(&key) {
            report_duplicate_cost(report, row.line, &key, *first);
            return;
        }
        self.first_lines.insert(key.clone(), row.line);
        self.costs.push(UnitCost {
            need: key.0,
            setting: key.1,
            age_group: key.2,
            annual,
            place_funding,
        });
    }
}

/// A cost cell in pounds: an error if it is not money, negative, or more than one plan could cost.
fn cost_cell(report: &mut Report, row: &Row<'_>, k: usize, col: &str) -> Option<Pence> {
    match fields::money(report, row, k, col) {
        Some(c) if c.is_negative() => {
            report.cell(
                row.line,
                col,
                row.get(k),
                "is negative: a cost is 0 or more",
            );
            None
        }
        Some(c) if c.pence() > MAX_UNIT_COST_PENCE => {
            report.cell(row.line, col, row.get(k), RULE_UNIT_COST_MAX);
            None
        }
        c => c,
    }
}

/// The age-group cell: `Some(None)` if empty (every age), `None` (and an error) if not an age group.
fn age_group_cell(report: &mut Report, row: &Row<'_>) -> Option<Option<AgeGroup>> {
    let age_text = row.get(3);
    if age_text.is_empty() {
        return Some(None);
    }
    let g = AgeGroup::from_code(age_text);
    if g.is_none() {
        report.cell(
            row.line,
            "age-group",
            age_text,
            "is not an age group: under_5, 5_10, 11_15, 16_19 or 20_25 (empty = every age)",
        );
    }
    g.map(Some)
}

/// A place-funding or top-up cell: `Some(None)` if empty, else checked as a [`cost_cell`].
fn cost_part_cell(
    report: &mut Report,
    row: &Row<'_>,
    k: usize,
    col: &str,
) -> Option<Option<Pence>> {
    if row.get(k).is_empty() {
        Some(None)
    } else {
        cost_cell(report, row, k, col).map(Some)
    }
}

/// The place-funding part of the cost: either part gives the other; both must add up to the cost. `None` (and an
/// error) if the split does not fit the cost.
fn place_funding_of(
    report: &mut Report,
    row: &Row<'_>,
    annual: Pence,
    (place, top_up): (Option<Pence>, Option<Pence>),
) -> Option<Option<Pence>> {
    match (place, top_up) {
        (None, None) => Some(None),
        (Some(p), None) if p.pence() <= annual.pence() => Some(Some(p)),
        (None, Some(t)) if t.pence() <= annual.pence() => Some(Some(annual - t)),
        (Some(p), Some(t)) if p.pence() + t.pence() == annual.pence() => Some(Some(p)),
        (Some(p), Some(t)) => {
            report.line(
                row.line,
                format!(
                    "place-funding {p} + top-up {t} = {} is not the cost {annual}: the two parts must add up to it",
                    p + t
                ),
            );
            None
        }
        (Some(_), None) => {
            report.cell(
                row.line,
                "place-funding",
                row.get(4),
                format!("is more than the cost {annual}"),
            );
            None
        }
        (None, Some(_)) => {
            report.cell(
                row.line,
                "top-up",
                row.get(5),
                format!("is more than the cost {annual}"),
            );
            None
        }
    }
}

/// The error for a second row pricing the same need, setting and age group.
fn report_duplicate_cost(report: &mut Report, line: u64, key: &CostKey, first: u64) {
    let ages = key
        .2
        .map_or(String::new(), |g| format!(" and age group {}", g.code()));
    report.line(
        line,
        format!(
            "duplicate cost for need {} and setting {}{ages} (first at line {first})",
            key.0, key.1
        ),
    );
}

/// Read a `costs.csv` (or `.xlsx`), checking needs and settings against the valid-states index if given.
pub(crate) fn costs_from_bytes(
    name: &str,
    bytes: &[u8],
    index: Option<&ValidIndex<'_>>,
) -> Parsed<Vec<UnitCost>> {
    let mut report = Report::new(name);
    let mut costs = CostRows::default();
    let columns = Columns {
        names: &COST_COLUMNS,
        required: 3,
    };
    let rows = read_table(name, bytes, &columns, &mut report, &mut |report, row| {
        costs.read_row(report, row, index);
    });
    finish(name, bytes, Some(costs.costs), report, rows)
}

/// Parse a `costs.csv`: annual cost per plan by need and setting, in pounds (at most 2 d.p.).
pub fn parse_costs(
    name: &str,
    bytes: &[u8],
    valid_states: Option<&[ValidSetting]>,
) -> Parsed<Vec<UnitCost>> {
    let index = valid_states.map(|v| ValidIndex::new("valid-states.csv", v));
    costs_from_bytes(name, bytes, index.as_ref())
}

/// Read a `costs.csv` (or `.xlsx`) file.
pub fn read_costs(path: &Path, valid_states: Option<&[ValidSetting]>) -> Parsed<Vec<UnitCost>> {
    read_with(path, |name, bytes| parse_costs(name, bytes, valid_states))
}

// ---------------------------------------------------------------------------------------------------------
// valid-states.csv

/// The `valid-states.csv` rows read so far: the codes met, the line each setting was first at, and the settings
/// kept with their lines (for the cross-row checks).
#[derive(Default)]
struct ValidStateRows {
    codes: Codes,
    first_lines: HashMap<Setting, u64>,
    settings: Vec<ValidSetting>,
    lines: Vec<u64>,
}

impl ValidStateRows {
    /// Read one row: its setting, group, NCY range, allowed needs and the settings it may move to.
    fn read_row(&mut self, report: &mut Report, row: &Row<'_>) {
        let setting = self.codes.setting(report, row, 0, "setting");
        let group = row.get(1).to_string();
        let (min, max) = ncy_range_cells(report, row);
        let (needs, needs_ok) = self.allowed_needs(report, row);
        let (moves_to, moves_ok) = self.allowed_moves(report, row);
        let (Some(setting), Some(min_ncy), Some(max_ncy)) = (setting, min, max) else {
            return;
        };
        if let Some(first) = self.first_lines.get(&setting) {
            report.cell(
                row.line,
                "setting",
                setting.as_str(),
                format!("appears twice: a setting has one row (first at line {first})"),
            );
            return;
        }
        self.first_lines.insert(setting.clone(), row.line);
        if needs_ok && moves_ok && min_ncy <= max_ncy {
            self.lines.push(row.line);
            self.settings.push(ValidSetting {
                setting,
                group,
                min_ncy,
                max_ncy,
                needs,
                moves_to,
            });
        }
    }

    /// The needs cell: its distinct need codes, and whether every code is a need and there is at least one.
    fn allowed_needs(&mut self, report: &mut Report, row: &Row<'_>) -> (Vec<Need>, bool) {
        let mut ok = true;
        let mut needs = Vec::new();
        for item in listed_codes(row.get(4)) {
            match self.codes.need_str(item) {
                Some(n) if !needs.contains(&n) => needs.push(n),
                Some(_) => {}
                None => {
                    report.cell(row.line, "needs", item, fields::RULE_NEED);
                    ok = false;
                }
            }
        }
        if needs.is_empty() && ok {
            report.cell(
                row.line,
                "needs",
                row.get(4),
                "lists no needs: a setting allows at least one need",
            );
            ok = false;
        }
        (needs, ok)
    }

    /// The setting->setting cell: the distinct settings a child may move to, and whether every code is a setting.
    fn allowed_moves(&mut self, report: &mut Report, row: &Row<'_>) -> (Vec<Setting>, bool) {
        let mut ok = true;
        let mut moves_to = Vec::new();
        for item in listed_codes(row.get(5)) {
            match self.codes.setting_str(item) {
                Some(s) if !moves_to.contains(&s) => moves_to.push(s),
                Some(_) => {}
                None => {
                    report.cell(row.line, "setting->setting", item, fields::RULE_SETTING);
                    ok = false;
                }
            }
        }
        (moves_to, ok)
    }
}

/// The min and max academic-year (NCY) cells, with an error if the minimum is above the maximum.
fn ncy_range_cells(report: &mut Report, row: &Row<'_>) -> (Option<Ncy>, Option<Ncy>) {
    let min = fields::ncy(report, row, 2, "min-academic-year");
    let max = fields::ncy(report, row, 3, "max-academic-year");
    if let (Some(a), Some(b)) = (min, max) {
        if a > b {
            report.line(
                row.line,
                format!("min-academic-year {a} is above max-academic-year {b}"),
            );
        }
    }
    (min, max)
}

/// The codes of a comma-separated cell, trimmed, empty ones skipped.
fn listed_codes(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// Cross-row checks: moves to settings that are not rows, and settings nobody may move into.
fn check_moves_across_settings(report: &mut Report, settings: &[ValidSetting], lines: &[u64]) {
    warn_moves_to_unknown_settings(report, settings, lines);
    let any_moves = settings.iter().any(|v| !v.moves_to.is_empty());
    if !any_moves && settings.len() > 1 {
        report.warn_file(format!(
            "no setting lists another in setting->setting: all {} settings forbid every move, so a child who \
             changes setting is an error in transitions.csv",
            settings.len()
        ));
    }
    if any_moves {
        warn_unreachable_settings(report, settings);
    }
}

/// A warning naming the settings in setting->setting lists that are not rows of the file.
fn warn_moves_to_unknown_settings(report: &mut Report, settings: &[ValidSetting], lines: &[u64]) {
    let known: HashSet<&Setting> = settings.iter().map(|v| &v.setting).collect();
    let mut unknown: BTreeSet<&str> = BTreeSet::new();
    let mut first_unknown_line = None;
    for (v, line) in settings.iter().zip(lines) {
        for m in &v.moves_to {
            if !known.contains(m) {
                unknown.insert(m.as_str());
                first_unknown_line.get_or_insert(*line);
            }
        }
    }
    if let Some(line) = first_unknown_line {
        let list: Vec<&str> = unknown.into_iter().collect();
        report.warn_file(format!(
            "setting->setting names {} that {} not a row of the file: {} (first at line {line})",
            if list.len() == 1 {
                "a setting"
            } else {
                "settings"
            },
            if list.len() == 1 { "is" } else { "are" },
            list.join(", ")
        ));
    }
}

/// A warning naming the settings in no setting->setting list, which nobody can move into.
fn warn_unreachable_settings(report: &mut Report, settings: &[ValidSetting]) {
    let reachable: HashSet<&Setting> = settings.iter().flat_map(|v| v.moves_to.iter()).collect();
    let unreachable: Vec<&str> = settings
        .iter()
        .filter(|v| !reachable.contains(&v.setting))
        .map(|v| v.setting.as_str())
        .collect();
    if !unreachable.is_empty() {
        report.warn_file(format!(
            "{} in no setting->setting list, so nobody can move into {}: {}",
            if unreachable.len() == 1 {
                "a setting is"
            } else {
                "settings are"
            },
            if unreachable.len() == 1 { "it" } else { "them" },
            unreachable.join(", ")
        ));
    }
}

/// Parse a `valid-states.csv`: per setting, its NCY range, allowed needs and the settings it may move to.
pub fn parse_valid_states(name: &str, bytes: &[u8]) -> Parsed<Vec<ValidSetting>> {
    let mut report = Report::new(name);
    let mut valid = ValidStateRows::default();
    let columns = Columns {
        names: &VALID_STATE_COLUMNS,
        required: 6,
    };
    let rows = read_table(name, bytes, &columns, &mut report, &mut |report, row| {
        valid.read_row(report, row);
    });
    check_moves_across_settings(&mut report, &valid.settings, &valid.lines);
    finish(name, bytes, Some(valid.settings), report, rows)
}

/// Read a `valid-states.csv` (or `.xlsx`) file.
pub fn read_valid_states(path: &Path) -> Parsed<Vec<ValidSetting>> {
    read_with(path, parse_valid_states)
}

// ---------------------------------------------------------------------------------------------------------
// The four together.

/// `dir/stem.csv` or `dir/stem.xlsx` (CSV preferred; a warning if both exist).
fn find_file(dir: &Path, stem: &str, issues: &mut Vec<Issue>) -> Option<PathBuf> {
    let csv = dir.join(format!("{stem}.csv"));
    let xlsx = dir.join(format!("{stem}.xlsx"));
    match (csv.is_file(), xlsx.is_file()) {
        (true, true) => {
            issues.push(Issue::about_file(
                &format!("{stem}.xlsx"),
                Severity::Warning,
                format!("ignored: {stem}.csv is in the same folder and is read instead"),
            ));
            Some(csv)
        }
        (true, false) => Some(csv),
        (false, true) => Some(xlsx),
        (false, false) => None,
    }
}

/// A file's name as shown, its text (in UTF-8 if an encoding was stated) and the SHA-256 of its own bytes.
fn load(
    path: &Path,
    options: &ReadOptions,
    issues: &mut Vec<Issue>,
) -> Option<(String, Vec<u8>, String)> {
    let name = display_name(path);
    let loaded = read_bytes(path).and_then(|raw| {
        let sha256 = crate::sha256_hex(&raw);
        let text = crate::stated_text(&name, &raw, options)?.into_owned();
        Ok((text, sha256))
    });
    match loaded {
        Ok((text, sha256)) => Some((name, text, sha256)),
        Err(issue) => {
            issues.push(*issue);
            None
        }
    }
}

fn absorb<T>(
    parsed: Parsed<T>,
    (path, sha256): (&Path, &str),
    sources: &mut Vec<SourceFile>,
    issues: &mut Vec<Issue>,
) -> Option<T> {
    issues.extend(parsed.issues);
    for mut s in parsed.sources {
        s.path = path.to_path_buf();
        s.sha256 = sha256.to_string();
        sources.push(s);
    }
    parsed.value
}

/// One of the four files as read from the folder: its name as shown and its rows (`None` if it could not be read
/// or has errors).
struct WitanFile<T> {
    name: String,
    rows: Option<T>,
}

impl<T> WitanFile<T> {
    /// A file not in the folder (or not readable), shown by its CSV name, with `rows` standing in for it.
    fn absent(stem: &str, rows: Option<T>) -> Self {
        Self {
            name: format!("{stem}.csv"),
            rows,
        }
    }
}

/// The folder being read: where it is, the encoding stated, and the issues and sources gathered so far.
struct WitanFolder<'a> {
    dir: &'a Path,
    options: &'a ReadOptions,
    shown: String,
    issues: Vec<Issue>,
    sources: Vec<SourceFile>,
}

impl<'a> WitanFolder<'a> {
    /// A folder to read, with no issues or sources yet.
    fn new(dir: &'a Path, options: &'a ReadOptions) -> Self {
        Self {
            dir,
            options,
            shown: dir.display().to_string(),
            issues: Vec::new(),
            sources: Vec::new(),
        }
    }

    /// Find, load and parse `stem.csv` or `stem.xlsx`; `None`, with an issue of `severity` saying `consequence`,
    /// if neither is in the folder.
    fn read<T>(
        &mut self,
        stem: &str,
        (severity, consequence): (Severity, &str),
        parse: impl FnOnce(&str, &[u8]) -> Parsed<T>,
    ) -> Option<WitanFile<T>> {
        let Some(path) = find_file(self.dir, stem, &mut self.issues) else {
            self.issues.push(Issue::about_file(
                &format!("{stem}.csv"),
                severity,
                format!("not found in {}: {consequence}", self.shown),
            ));
            return None;
        };
        let mut file = WitanFile::absent(stem, None);
        if let Some((name, bytes, sha256)) = load(&path, self.options, &mut self.issues) {
            let parsed = parse(&name, &bytes);
            file.rows = absorb(
                parsed,
                (&path, &sha256),
                &mut self.sources,
                &mut self.issues,
            );
            file.name = name;
        }
        Some(file)
    }

    /// `valid-states`, read first: the other files are checked against it (a warning if it is missing or empty).
    fn read_valid_states_file(&mut self) -> WitanFile<Vec<ValidSetting>> {
        let unchecked = "settings, needs and NCY ranges are not checked";
        let file = self
            .read(
                "valid-states",
                (Severity::Warning, unchecked),
                parse_valid_states,
            )
            .unwrap_or_else(|| WitanFile::absent("valid-states", None));
        if file.rows.as_ref().is_some_and(Vec::is_empty) {
            self.issues.push(Issue::about_file(
                &file.name,
                Severity::Warning,
                format!("has no rows: {unchecked}"),
            ));
        }
        file
    }
}

/// A warning on the population file if it has no rows for a census year that transitions start from.
fn missing_population_years(
    transitions: &[Transition],
    population: &[PopulationCount],
    population_name: &str,
) -> Option<Issue> {
    let have: HashSet<CensusYear> = population.iter().map(|c| c.census_year).collect();
    let missing: BTreeSet<CensusYear> = transitions
        .iter()
        .map(|t| t.from_census)
        .filter(|y| !have.contains(y))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let list: Vec<String> = missing.iter().map(|y| y.to_string()).collect();
    Some(Issue::about_file(
        population_name,
        Severity::Warning,
        format!(
            "no rows for calendar-year {} that transitions start from: joiner rates there have no population",
            list.join(", ")
        ),
    ))
}

/// A warning on the costs file if plans at the latest census are in a need and setting it gives no cost for.
fn uncosted_plans(
    transitions: &[Transition],
    costs: &[UnitCost],
    costs_name: &str,
) -> Option<Issue> {
    if costs.is_empty() {
        return None;
    }
    let costed: HashSet<(&Need, &Setting)> = costs.iter().map(|u| (&u.need, &u.setting)).collect();
    let last = transitions.iter().map(|t| t.from_census).max()?;
    let uncosted = transitions
        .iter()
        .filter(|t| t.from_census == last)
        .filter_map(|t| t.after.as_ref())
        .filter(|s| !costed.contains(&(&s.need, &s.setting)))
        .count();
    if uncosted == 0 {
        return None;
    }
    Some(Issue::about_file(
        costs_name,
        Severity::Warning,
        format!(
            "{uncosted} plan{} at census {} {} in a need and setting with no cost (priced at 0)",
            if uncosted == 1 { "" } else { "s" },
            last.next(),
            if uncosted == 1 { "is" } else { "are" },
        ),
    ))
}

/// Read witan.send's four files from a folder (`transitions` and `population` required, `costs` and
/// `valid-states` optional; each `.csv` or `.xlsx`), check them against each other, and return the history.
pub fn read_witan_dir(dir: &Path) -> Parsed<TransitionHistory> {
    read_witan_dir_with(dir, &ReadOptions::default())
}

/// [`read_witan_dir`], with the text encoding the user stated for its files.
pub fn read_witan_dir_with(dir: &Path, options: &ReadOptions) -> Parsed<TransitionHistory> {
    let mut folder = WitanFolder::new(dir, options);
    // valid-states first: the others are checked against it.
    let valid = folder.read_valid_states_file();
    let index = valid
        .rows
        .as_deref()
        .filter(|v| !v.is_empty())
        .map(|v| ValidIndex::new(&valid.name, v));
    let required = "transitions.csv or transitions.xlsx is required";
    let transitions = folder
        .read("transitions", (Severity::Error, required), |name, bytes| {
            transitions_from_bytes(name, bytes, index.as_ref())
        })
        .and_then(|file| file.rows);
    let required = "population.csv or population.xlsx is required";
    let population = folder
        .read("population", (Severity::Error, required), parse_population)
        .unwrap_or_else(|| WitanFile::absent("population", None));
    let no_costs = "no unit costs, so spend cannot be forecast";
    let costs = folder
        .read("costs", (Severity::Warning, no_costs), |name, bytes| {
            costs_from_bytes(name, bytes, index.as_ref())
        })
        .unwrap_or_else(|| WitanFile::absent("costs", Some(Vec::new())));
    drop(index);

    // Cross-file checks.
    if let (Some(t), Some(p)) = (&transitions, &population.rows) {
        folder
            .issues
            .extend(missing_population_years(t, p, &population.name));
    }
    if let (Some(t), Some(c)) = (&transitions, &costs.rows) {
        folder.issues.extend(uncosted_plans(t, c, &costs.name));
    }

    let value = match (transitions, population.rows, costs.rows) {
        (Some(transitions), Some(population), Some(costs)) => Some(TransitionHistory {
            transitions,
            population,
            costs,
            valid_states: valid.rows.unwrap_or_default(),
        }),
        _ => None,
    };
    Parsed::new(value, folder.issues, folder.sources)
}
