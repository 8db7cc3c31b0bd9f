//! witan.send's four input files: `transitions.csv`, `population.csv`, `costs.csv` and `valid-states.csv`.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use highneeds_domain::{
    AgeGroup, CensusYear, Ncy, Need, PopulationCount, Setting, State, Transition,
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

pub(crate) fn costs_from_bytes(
    name: &str,
    bytes: &[u8],
    index: Option<&ValidIndex<'_>>,
) -> Parsed<Vec<UnitCost>> {
    let mut report = Report::new(name);
    let mut codes = Codes::default();
    let mut out = Vec::new();
    let mut seen: HashMap<(Need, Setting, Option<AgeGroup>), u64> = HashMap::default();
    let columns = Columns {
        names: &COST_COLUMNS,
        required: 3,
    };
    let rows = read_table(name, bytes, &columns, &mut report, &mut |report, row| {
        let need = codes.need(report, row, 0, "need");
        let setting = codes.setting(report, row, 1, "setting");
        let non_negative =
            |report: &mut Report, k: usize, col: &str| match fields::money(report, row, k, col) {
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
            };
        let cost = non_negative(report, 2, "cost");
        let age_text = row.get(3);
        let age_group = if age_text.is_empty() {
            Some(None)
        } else {
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
        };
        let part = |report: &mut Report, k: usize, col: &str| {
            if row.get(k).is_empty() {
                Some(None)
            } else {
                non_negative(report, k, col).map(Some)
            }
        };
        let place = part(report, 4, "place-funding");
        let top_up = part(report, 5, "top-up");
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
        // The split: either part gives the other; both must add up to the cost.
        let place_funding = match (place, top_up) {
            (None, None) => None,
            (Some(p), None) if p.pence() <= annual.pence() => Some(p),
            (None, Some(t)) if t.pence() <= annual.pence() => Some(annual - t),
            (Some(p), Some(t)) if p.pence() + t.pence() == annual.pence() => Some(p),
            (Some(p), Some(t)) => {
                report.line(
                    row.line,
                    format!(
                        "place-funding {p} + top-up {t} = {} is not the cost {annual}: the two parts must add up to it",
                        p + t
                    ),
                );
                return;
            }
            (Some(_), None) => {
                report.cell(
                    row.line,
                    "place-funding",
                    row.get(4),
                    format!("is more than the cost {annual}"),
                );
                return;
            }
            (None, Some(_)) => {
                report.cell(
                    row.line,
                    "top-up",
                    row.get(5),
                    format!("is more than the cost {annual}"),
                );
                return;
            }
        };
        let key = (need, setting, age_group);
        if let Some(first) = seen.get(&key) {
            let ages = key
                .2
                .map_or(String::new(), |g| format!(" and age group {}", g.code()));
            report.line(
                row.line,
                format!(
                    "duplicate cost for need {} and setting {}{ages} (first at line {first})",
                    key.0, key.1
                ),
            );
            return;
        }
        seen.insert(key.clone(), row.line);
        out.push(UnitCost {
            need: key.0,
            setting: key.1,
            age_group: key.2,
            annual,
            place_funding,
        });
    });
    finish(name, bytes, Some(out), report, rows)
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

/// Parse a `valid-states.csv`: per setting, its NCY range, allowed needs and the settings it may move to.
pub fn parse_valid_states(name: &str, bytes: &[u8]) -> Parsed<Vec<ValidSetting>> {
    let mut report = Report::new(name);
    let mut codes = Codes::default();
    let mut out: Vec<ValidSetting> = Vec::new();
    let mut lines: Vec<u64> = Vec::new();
    let mut seen: HashMap<Setting, u64> = HashMap::default();
    let columns = Columns {
        names: &VALID_STATE_COLUMNS,
        required: 6,
    };
    let rows = read_table(name, bytes, &columns, &mut report, &mut |report, row| {
        let setting = codes.setting(report, row, 0, "setting");
        let group = row.get(1).to_string();
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
        let mut ok = true;
        let mut needs = Vec::new();
        for item in row
            .get(4)
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            match codes.need_str(item) {
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
        let mut moves_to = Vec::new();
        for item in row
            .get(5)
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            match codes.setting_str(item) {
                Some(s) if !moves_to.contains(&s) => moves_to.push(s),
                Some(_) => {}
                None => {
                    report.cell(row.line, "setting->setting", item, fields::RULE_SETTING);
                    ok = false;
                }
            }
        }
        let (Some(setting), Some(min_ncy), Some(max_ncy)) = (setting, min, max) else {
            return;
        };
        if let Some(first) = seen.get(&setting) {
            report.cell(
                row.line,
                "setting",
                setting.as_str(),
                format!("appears twice: a setting has one row (first at line {first})"),
            );
            return;
        }
        seen.insert(setting.clone(), row.line);
        if ok && min_ncy <= max_ncy {
            lines.push(row.line);
            out.push(ValidSetting {
                setting,
                group,
                min_ncy,
                max_ncy,
                needs,
                moves_to,
            });
        }
    });
    // Cross-row checks: moves to settings that are not rows, and settings nobody may move into.
    let known: HashSet<&Setting> = out.iter().map(|v| &v.setting).collect();
    let mut unknown: BTreeSet<&str> = BTreeSet::new();
    let mut first_unknown_line = None;
    for (v, line) in out.iter().zip(&lines) {
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
    let any_moves = out.iter().any(|v| !v.moves_to.is_empty());
    if !any_moves && out.len() > 1 {
        report.warn_file(format!(
            "no setting lists another in setting->setting: all {} settings forbid every move, so a child who \
             changes setting is an error in transitions.csv",
            out.len()
        ));
    }
    if any_moves {
        let reachable: HashSet<&Setting> = out.iter().flat_map(|v| v.moves_to.iter()).collect();
        let unreachable: Vec<&str> = out
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
    finish(name, bytes, Some(out), report, rows)
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

/// Read witan.send's four files from a folder (`transitions` and `population` required, `costs` and
/// `valid-states` optional; each `.csv` or `.xlsx`), check them against each other, and return the history.
pub fn read_witan_dir(dir: &Path) -> Parsed<TransitionHistory> {
    read_witan_dir_with(dir, &ReadOptions::default())
}

/// [`read_witan_dir`], with the text encoding the user stated for its files.
pub fn read_witan_dir_with(dir: &Path, options: &ReadOptions) -> Parsed<TransitionHistory> {
    let mut issues = Vec::new();
    let mut sources = Vec::new();
    let folder = dir.display().to_string();

    // valid-states first: the others are checked against it.
    let mut valid_states = None;
    let mut valid_name = String::from("valid-states.csv");
    match find_file(dir, "valid-states", &mut issues) {
        Some(path) => {
            if let Some((name, bytes, sha256)) = load(&path, options, &mut issues) {
                valid_name = name.clone();
                let parsed = parse_valid_states(&name, &bytes);
                valid_states = absorb(parsed, (&path, &sha256), &mut sources, &mut issues);
            }
        }
        None => issues.push(Issue::about_file(
            "valid-states.csv",
            Severity::Warning,
            format!("not found in {folder}: settings, needs and NCY ranges are not checked"),
        )),
    }
    if let Some(v) = &valid_states {
        if v.is_empty() {
            issues.push(Issue::about_file(
                &valid_name,
                Severity::Warning,
                "has no rows: settings, needs and NCY ranges are not checked".into(),
            ));
        }
    }
    let index = valid_states
        .as_deref()
        .filter(|v| !v.is_empty())
        .map(|v| ValidIndex::new(&valid_name, v));

    let mut transitions = None;
    match find_file(dir, "transitions", &mut issues) {
        Some(path) => {
            if let Some((name, bytes, sha256)) = load(&path, options, &mut issues) {
                let parsed = transitions_from_bytes(&name, &bytes, index.as_ref());
                transitions = absorb(parsed, (&path, &sha256), &mut sources, &mut issues);
            }
        }
        None => issues.push(Issue::about_file(
            "transitions.csv",
            Severity::Error,
            format!("not found in {folder}: transitions.csv or transitions.xlsx is required"),
        )),
    }

    let mut population = None;
    let mut population_name = String::from("population.csv");
    match find_file(dir, "population", &mut issues) {
        Some(path) => {
            if let Some((name, bytes, sha256)) = load(&path, options, &mut issues) {
                population_name = name.clone();
                population = absorb(
                    parse_population(&name, &bytes),
                    (&path, &sha256),
                    &mut sources,
                    &mut issues,
                );
            }
        }
        None => issues.push(Issue::about_file(
            "population.csv",
            Severity::Error,
            format!("not found in {folder}: population.csv or population.xlsx is required"),
        )),
    }

    let mut costs = None;
    let mut costs_name = String::from("costs.csv");
    match find_file(dir, "costs", &mut issues) {
        Some(path) => {
            if let Some((name, bytes, sha256)) = load(&path, options, &mut issues) {
                costs_name = name.clone();
                let parsed = costs_from_bytes(&name, &bytes, index.as_ref());
                costs = absorb(parsed, (&path, &sha256), &mut sources, &mut issues);
            }
        }
        None => {
            issues.push(Issue::about_file(
                "costs.csv",
                Severity::Warning,
                format!("not found in {folder}: no unit costs, so spend cannot be forecast"),
            ));
            costs = Some(Vec::new());
        }
    }
    drop(index);

    // Cross-file checks.
    if let (Some(t), Some(p)) = (&transitions, &population) {
        let have: HashSet<CensusYear> = p.iter().map(|c| c.census_year).collect();
        let missing: BTreeSet<CensusYear> = t
            .iter()
            .map(|t| t.from_census)
            .filter(|y| !have.contains(y))
            .collect();
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().map(|y| y.to_string()).collect();
            issues.push(Issue::about_file(
                &population_name,
                Severity::Warning,
                format!(
                    "no rows for calendar-year {} that transitions start from: joiner rates there have no population",
                    list.join(", ")
                ),
            ));
        }
    }
    if let (Some(t), Some(c)) = (&transitions, &costs) {
        if !c.is_empty() {
            let costed: HashSet<(&Need, &Setting)> =
                c.iter().map(|u| (&u.need, &u.setting)).collect();
            if let Some(last) = t.iter().map(|t| t.from_census).max() {
                let uncosted = t
                    .iter()
                    .filter(|t| t.from_census == last)
                    .filter_map(|t| t.after.as_ref())
                    .filter(|s| !costed.contains(&(&s.need, &s.setting)))
                    .count();
                if uncosted > 0 {
                    issues.push(Issue::about_file(
                        &costs_name,
                        Severity::Warning,
                        format!(
                            "{uncosted} plan{} at census {} {} in a need and setting with no cost (priced at 0)",
                            if uncosted == 1 { "" } else { "s" },
                            last.next(),
                            if uncosted == 1 { "is" } else { "are" },
                        ),
                    ));
                }
            }
        }
    }

    let value = match (transitions, population, costs) {
        (Some(transitions), Some(population), Some(costs)) => Some(TransitionHistory {
            transitions,
            population,
            costs,
            valid_states: valid_states.unwrap_or_default(),
        }),
        _ => None,
    };
    Parsed::new(value, issues, sources)
}
