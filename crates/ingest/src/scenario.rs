//! Scenario files: a DBV plan as TOML an officer edits by hand (or the same shape as JSON, for the API), read into
//! a valid [`Scenario`] or refused with every fault named by file, line, initiative and field; and written back.
//!
//! Shape (see `examples/exampleshire-dbv-stockton.toml` for a commented example):
//!
//! ```toml
//! name = "DBV plan"
//! [assumptions]
//! horizon_years = 5
//! target_financial_year = "2027-28"
//! [[initiative]]
//! name = "a. Early years support"
//! [[initiative.lever]]
//! kind = "joiner_rate"
//! change = -0.10
//! needs = ["ASD", "SLCN"]
//! ncy = [-1, 2]
//! start = "2025-09"
//! ramp_months = 12
//! cost = { "2025-26" = 120000 }
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use highneeds_domain::scenario::{
    Assumptions, Change, Cohort, Initiative, Lever, LeverKind, Places, Scenario, ScenarioEngine,
    Share, Timing, YearMonth,
};
use highneeds_domain::{CensusYear, FinancialYear, Ncy, Need, Pence, Setting};

use crate::{Issue, Parsed, Severity};

/// The largest scenario file read (a plan is a few kilobytes).
pub const MAX_SCENARIO_BYTES: usize = 1 << 20;

/// The LA's own codes, to check a scenario's needs and settings against.
#[derive(Debug, Clone, Default)]
pub struct ScenarioCodes {
    pub needs: Vec<Need>,
    pub settings: Vec<Setting>,
}

/// The file's shape (TOML or JSON), field for field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub la: Option<String>,
    pub assumptions: AssumptionsFile,
    #[serde(default, rename = "initiative")]
    pub initiatives: Vec<InitiativeFile>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssumptionsFile {
    #[serde(default = "default_horizon")]
    pub horizon_years: u32,
    #[serde(default)]
    pub uplift: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation_growth: Option<f64>,
    pub target_financial_year: String,
    #[serde(default = "default_engine")]
    pub engine: String,
    #[serde(default = "default_sims")]
    pub sims: u32,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Places by setting and census year: the sufficiency baseline.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub places: Vec<PlacesFile>,
}

fn default_horizon() -> u32 {
    5
}
fn default_engine() -> String {
    "monte-carlo".into()
}
fn default_sims() -> u32 {
    1000
}
fn default_seed() -> u64 {
    1
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacesFile {
    pub setting: String,
    pub census_year: i32,
    pub places: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitiativeFile {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, rename = "lever")]
    pub levers: Vec<LeverFile>,
}

/// One lever: `kind` says which fields apply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeverFile {
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ramp_months: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Pounds by financial year.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cost: BTreeMap<String, f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settings: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ncy: Option<[i32; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joiners: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub movers: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setting: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub places: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overflow: Option<String>,
    /// Pounds by financial year (block transfers, grants, contributions).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub amount: BTreeMap<String, f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs_schools_forum_approval: Option<bool>,
}

/// Where a fault is, field by field: initiatives and levers by position (from 0), fields by the file's names. For
/// TOML this gives the line of the field (or of its lever or initiative); a form puts the message by the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScenarioField {
    Top(&'static str),
    Assumption(&'static str),
    Initiative(usize, &'static str),
    Lever(usize, usize, &'static str),
}

use ScenarioField as Place;

/// A table's header line and the line of each of its fields.
type FieldLines = (u64, BTreeMap<String, u64>);

/// Line numbers of a TOML file's fields, found from its array-of-tables headers.
struct Lines {
    top: BTreeMap<String, u64>,
    assumptions: BTreeMap<String, u64>,
    initiatives: Vec<(u64, BTreeMap<String, u64>, Vec<FieldLines>)>,
}

impl Lines {
    fn of(text: &str) -> Self {
        let mut lines = Lines {
            top: BTreeMap::new(),
            assumptions: BTreeMap::new(),
            initiatives: Vec::new(),
        };
        #[derive(PartialEq)]
        enum Section {
            Top,
            Assumptions,
            Initiative,
            Lever,
            Other,
        }
        let mut section = Section::Top;
        for (i, raw) in text.lines().enumerate() {
            let n = i as u64 + 1;
            let line = raw.trim();
            if line.starts_with('[') {
                let header: String = line.chars().filter(|c| !c.is_whitespace()).collect();
                section = match header.split('#').next().unwrap_or("") {
                    "[assumptions]" => Section::Assumptions,
                    "[[initiative]]" => {
                        lines.initiatives.push((n, BTreeMap::new(), Vec::new()));
                        Section::Initiative
                    }
                    "[[initiative.lever]]" => {
                        if let Some(last) = lines.initiatives.last_mut() {
                            last.2.push((n, BTreeMap::new()));
                        }
                        Section::Lever
                    }
                    _ => Section::Other,
                };
                continue;
            }
            let Some((key, _)) = line.split_once('=') else {
                continue;
            };
            let key = key.trim().trim_matches('"').to_string();
            let map = match section {
                Section::Top => Some(&mut lines.top),
                Section::Assumptions => Some(&mut lines.assumptions),
                Section::Initiative => lines.initiatives.last_mut().map(|x| &mut x.1),
                Section::Lever => lines
                    .initiatives
                    .last_mut()
                    .and_then(|x| x.2.last_mut())
                    .map(|x| &mut x.1),
                Section::Other => None,
            };
            if let Some(map) = map {
                map.entry(key).or_insert(n);
            }
        }
        lines
    }

    fn line(&self, place: Place) -> Option<u64> {
        match place {
            Place::Top(f) => self.top.get(f).copied(),
            Place::Assumption(f) => self.assumptions.get(f).copied(),
            Place::Initiative(i, f) => {
                let (n, fields, _) = self.initiatives.get(i)?;
                Some(fields.get(f).copied().unwrap_or(*n))
            }
            Place::Lever(i, j, f) => {
                let (n, fields) = self.initiatives.get(i)?.2.get(j)?;
                Some(fields.get(f).copied().unwrap_or(*n))
            }
        }
    }
}

/// Collects faults with their places while building the scenario.
struct Checker<'a> {
    file: &'a str,
    lines: Option<Lines>,
    file_shape: &'a ScenarioFile,
    issues: Vec<Issue>,
    /// Each issue's field, in the same order.
    places: Vec<ScenarioField>,
}

impl Checker<'_> {
    fn fault(&mut self, place: Place, value: Option<String>, rule: String) {
        let column = match place {
            Place::Top(f) => f.to_string(),
            Place::Assumption(f) => format!("assumptions.{f}"),
            Place::Initiative(i, f) => format!(
                "initiative {} ({:?}) {f}",
                i + 1,
                self.file_shape.initiatives[i].name
            ),
            Place::Lever(i, j, f) => format!(
                "initiative {} ({:?}) lever {} ({}) {f}",
                i + 1,
                self.file_shape.initiatives[i].name,
                j + 1,
                self.file_shape.initiatives[i].levers[j].kind
            ),
        };
        self.places.push(place);
        self.issues.push(Issue {
            file: self.file.to_string(),
            sheet: None,
            line: self.lines.as_ref().and_then(|l| l.line(place)),
            column: Some(column),
            value,
            rule,
            severity: Severity::Error,
        });
    }
}

/// The line of an `[assumptions]` field in a TOML scenario, for faults found once the LA's data is known (a target
/// year outside the projection).
pub fn assumption_line(text: &str, field: &'static str) -> Option<u64> {
    Lines::of(text).line(Place::Assumption(field))
}

/// Read a TOML scenario. `codes`: the LA's needs and settings, when known, to check the scenario's against.
pub fn read_scenario_toml(
    file: &str,
    text: &str,
    codes: Option<&ScenarioCodes>,
) -> Parsed<Scenario> {
    if text.len() > MAX_SCENARIO_BYTES {
        return too_big(file);
    }
    match toml::from_str::<ScenarioFile>(text) {
        Ok(shape) => build(file, &shape, Some(Lines::of(text)), codes),
        Err(e) => {
            let line = e.span().map(|s| line_of(text, s.start));
            let rule = e.message().trim().to_string();
            refused(file, line, format!("not a valid scenario file: {rule}"))
        }
    }
}

/// Read a JSON scenario (the TOML file's shape): what the API's preview takes.
pub fn read_scenario_json(
    file: &str,
    text: &str,
    codes: Option<&ScenarioCodes>,
) -> Parsed<Scenario> {
    if text.len() > MAX_SCENARIO_BYTES {
        return too_big(file);
    }
    match serde_json::from_str::<ScenarioFile>(text) {
        Ok(shape) => build(file, &shape, None, codes),
        Err(e) => refused(
            file,
            Some(e.line() as u64),
            format!("not a valid scenario: {e}"),
        ),
    }
}

fn too_big(file: &str) -> Parsed<Scenario> {
    refused(
        file,
        None,
        format!("a scenario file may be at most {MAX_SCENARIO_BYTES} bytes"),
    )
}

fn refused(file: &str, line: Option<u64>, rule: String) -> Parsed<Scenario> {
    let mut issue = Issue::about_file(file, Severity::Error, rule);
    issue.line = line;
    Parsed::new(None, vec![issue], Vec::new())
}

fn line_of(text: &str, byte: usize) -> u64 {
    text.as_bytes()
        .iter()
        .take(byte)
        .filter(|&&b| b == b'\n')
        .count() as u64
        + 1
}

/// Check a scenario already in the file's shape (a form's fields): the scenario, or every issue with its field.
pub fn check_scenario_shape(
    file: &str,
    shape: &ScenarioFile,
    codes: Option<&ScenarioCodes>,
) -> (Parsed<Scenario>, Vec<ScenarioField>) {
    build_placed(file, shape, None, codes)
}

fn build(
    file: &str,
    shape: &ScenarioFile,
    lines: Option<Lines>,
    codes: Option<&ScenarioCodes>,
) -> Parsed<Scenario> {
    build_placed(file, shape, lines, codes).0
}

fn build_placed(
    file: &str,
    shape: &ScenarioFile,
    lines: Option<Lines>,
    codes: Option<&ScenarioCodes>,
) -> (Parsed<Scenario>, Vec<ScenarioField>) {
    let mut c = Checker {
        file,
        lines,
        file_shape: shape,
        issues: Vec::new(),
        places: Vec::new(),
    };
    if shape.name.trim().is_empty() {
        c.fault(Place::Top("name"), None, "a scenario needs a name".into());
    }
    let assumptions = assumptions(&mut c, &shape.assumptions, codes);
    let mut names: Vec<&str> = Vec::new();
    let mut initiatives = Vec::new();
    for (i, ini) in shape.initiatives.iter().enumerate() {
        if ini.name.trim().is_empty() {
            c.fault(
                Place::Initiative(i, "name"),
                None,
                "an initiative needs a name".into(),
            );
        } else if names.contains(&ini.name.as_str()) {
            c.fault(
                Place::Initiative(i, "name"),
                Some(ini.name.clone()),
                "two initiatives have this name: savings are reported by name".into(),
            );
        }
        names.push(&ini.name);
        let levers = ini
            .levers
            .iter()
            .enumerate()
            .filter_map(|(j, l)| lever(&mut c, i, j, l, codes))
            .collect();
        initiatives.push(Initiative {
            name: ini.name.clone(),
            description: ini.description.clone(),
            levers,
        });
    }
    let value = assumptions.map(|assumptions| Scenario {
        name: shape.name.clone(),
        description: shape.description.clone(),
        la: shape.la.clone(),
        assumptions,
        initiatives,
    });
    (Parsed::new(value, c.issues, Vec::new()), c.places)
}

fn assumptions(
    c: &mut Checker,
    a: &AssumptionsFile,
    codes: Option<&ScenarioCodes>,
) -> Option<Assumptions> {
    let rates_ok = horizon_and_rates_ok(c, a);
    let target = target_financial_year(c, &a.target_financial_year);
    let engine = scenario_engine(c, &a.engine);
    let sims_in_range = sims_ok(c, a.sims);
    let places = assumed_places(c, &a.places, codes);
    Some(Assumptions {
        horizon_years: a.horizon_years,
        uplift: a.uplift,
        allocation_growth: a.allocation_growth,
        target: target?,
        engine: engine?,
        sims: a.sims,
        seed: a.seed,
        places,
    })
    .filter(|_| rates_ok && sims_in_range)
}

/// Whether the horizon, the uplift and any allocation growth are in range, faulting each that is not.
fn horizon_and_rates_ok(c: &mut Checker, a: &AssumptionsFile) -> bool {
    let mut ok = true;
    if !(1..=25).contains(&a.horizon_years) {
        c.fault(
            Place::Assumption("horizon_years"),
            Some(a.horizon_years.to_string()),
            "the horizon must be 1 to 25 years".into(),
        );
        ok = false;
    }
    if !(a.uplift.is_finite() && (-0.5..=1.0).contains(&a.uplift)) {
        c.fault(
            Place::Assumption("uplift"),
            Some(a.uplift.to_string()),
            "the uplift must be a yearly rate between -0.5 and 1 (0.03 = 3 %)".into(),
        );
        ok = false;
    }
    if let Some(g) = a.allocation_growth {
        if !(g.is_finite() && (-0.5..=1.0).contains(&g)) {
            c.fault(
                Place::Assumption("allocation_growth"),
                Some(g.to_string()),
                "allocation growth must be a yearly rate between -0.5 and 1 (0.05 = 5 %)".into(),
            );
            ok = false;
        }
    }
    ok
}

/// The target financial year the assumptions name, faulting one that does not parse.
fn target_financial_year(c: &mut Checker, year: &str) -> Option<FinancialYear> {
    let target = year.parse::<FinancialYear>();
    if let Err(e) = &target {
        c.fault(
            Place::Assumption("target_financial_year"),
            Some(year.to_string()),
            e.to_string(),
        );
    }
    target.ok()
}

/// The scenario's engine by name ("analytic" or "monte-carlo"), faulting any other name.
fn scenario_engine(c: &mut Checker, name: &str) -> Option<ScenarioEngine> {
    match name {
        "analytic" => Some(ScenarioEngine::Analytic),
        "monte-carlo" => Some(ScenarioEngine::MonteCarlo),
        other => {
            c.fault(
                Place::Assumption("engine"),
                Some(other.into()),
                "the engine is \"analytic\" or \"monte-carlo\"".into(),
            );
            None
        }
    }
}

/// Whether the number of simulations is 1 to 100,000, faulting it if not.
fn sims_ok(c: &mut Checker, sims: u32) -> bool {
    if !(1..=100_000).contains(&sims) {
        c.fault(
            Place::Assumption("sims"),
            Some(sims.to_string()),
            "simulations must be 1 to 100,000".into(),
        );
        return false;
    }
    true
}

/// The assumed places by setting and census year, faulting and leaving out any that are wrong.
fn assumed_places(
    c: &mut Checker,
    file: &[PlacesFile],
    codes: Option<&ScenarioCodes>,
) -> Vec<Places> {
    let mut places = Vec::new();
    for p in file {
        let setting = setting_code(c, Place::Assumption("places"), &p.setting, codes);
        let census = CensusYear::new(p.census_year);
        if census.is_err() || p.places < 0 {
            c.fault(
                Place::Assumption("places"),
                Some(format!("{} {} {}", p.setting, p.census_year, p.places)),
                "places are a census year and a number of places of 0 or more".into(),
            );
            continue;
        }
        if let (Some(setting), Ok(census_year)) = (setting, census) {
            places.push(Places {
                setting,
                census_year,
                places: p.places as u64,
            });
        }
    }
    places
}

fn setting_code(
    c: &mut Checker,
    place: Place,
    code: &str,
    codes: Option<&ScenarioCodes>,
) -> Option<Setting> {
    known_code(
        c,
        place,
        code,
        codes.map(|k| k.settings.as_slice()),
        "setting",
    )
}

fn need_code(
    c: &mut Checker,
    place: Place,
    code: &str,
    codes: Option<&ScenarioCodes>,
) -> Option<Need> {
    known_code(c, place, code, codes.map(|k| k.needs.as_slice()), "need")
}

/// A code that parses as a `what` and, when the LA's codes are known, is one of them.
fn known_code<T: std::str::FromStr + PartialEq + std::fmt::Display>(
    c: &mut Checker,
    place: Place,
    code: &str,
    known: Option<&[T]>,
    what: &str,
) -> Option<T> {
    let Ok(value) = code.parse::<T>() else {
        c.fault(place, Some(code.into()), format!("not a {what} code"));
        return None;
    };
    if let Some(known) = known.filter(|k| !k.contains(&value)) {
        c.fault(
            place,
            Some(code.into()),
            format!("unknown {what}: the LA's {what}s are {}", join(known)),
        );
        return None;
    }
    Some(value)
}

fn join<T: std::fmt::Display>(v: &[T]) -> String {
    v.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every lever kind, as the file names them.
pub const LEVER_KINDS: [&str; 9] = [
    "joiner_rate",
    "leaver_rate",
    "redirect",
    "capacity",
    "unit_cost",
    "block_transfer",
    "grant",
    "deficit_contribution",
    "invest_to_save",
];

/// Which optional fields each kind takes (beyond kind, description, start, ramp_months, end, cost).
pub fn lever_fields(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "joiner_rate" | "leaver_rate" => &["change", "needs", "settings", "ncy"],
        "unit_cost" => &["change", "needs", "settings"],
        "redirect" => &["from", "to", "share", "joiners", "movers", "needs", "ncy"],
        "capacity" => &["setting", "places", "overflow"],
        "block_transfer" => &["amount", "needs_schools_forum_approval"],
        "grant" | "deficit_contribution" => &["amount"],
        "invest_to_save" => &[],
        _ => return None,
    })
}

/// The optional fields a lever gives.
fn given(l: &LeverFile) -> Vec<&'static str> {
    let mut v = Vec::new();
    let mut add = |name: &'static str, present: bool| {
        if present {
            v.push(name);
        }
    };
    add("change", l.change.is_some());
    add("needs", !l.needs.is_empty());
    add("settings", !l.settings.is_empty());
    add("ncy", l.ncy.is_some());
    add("from", l.from.is_some());
    add("to", l.to.is_some());
    add("share", l.share.is_some());
    add("joiners", l.joiners.is_some());
    add("movers", l.movers.is_some());
    add("setting", l.setting.is_some());
    add("places", l.places.is_some());
    add("overflow", l.overflow.is_some());
    add("amount", !l.amount.is_empty());
    add(
        "needs_schools_forum_approval",
        l.needs_schools_forum_approval.is_some(),
    );
    v
}

fn lever(
    c: &mut Checker,
    i: usize,
    j: usize,
    l: &LeverFile,
    codes: Option<&ScenarioCodes>,
) -> Option<Lever> {
    let at = |f: &'static str| Place::Lever(i, j, f);
    let Some(allowed) = lever_fields(&l.kind) else {
        c.fault(
            at("kind"),
            Some(l.kind.clone()),
            "unknown lever kind: joiner_rate, leaver_rate, redirect, capacity, unit_cost, block_transfer, grant, \
             deficit_contribution or invest_to_save"
                .into(),
        );
        return None;
    };
    let before = c.issues.len();
    for f in given(l) {
        if !allowed.contains(&f) {
            c.fault(
                at(f),
                None,
                format!(
                    "a {} lever has no {f}: it takes {}",
                    l.kind,
                    allowed.join(", ")
                ),
            );
        }
    }
    let timing = timing(c, i, j, l);
    let cost = amounts(c, at("cost"), &l.cost);
    let kind = lever_kind(c, i, j, l, codes);
    if c.issues.len() > before {
        return None;
    }
    Some(Lever {
        kind: kind?,
        timing: timing?,
        cost: cost?,
        description: l.description.clone(),
    })
}

fn timing(c: &mut Checker, i: usize, j: usize, l: &LeverFile) -> Option<Timing> {
    let at = |f: &'static str| Place::Lever(i, j, f);
    let month =
        |c: &mut Checker, f: &'static str, v: &Option<String>| -> Option<Option<YearMonth>> {
            match v {
                None => Some(None),
                Some(s) => match s.parse::<YearMonth>() {
                    Ok(m) => Some(Some(m)),
                    Err(e) => {
                        c.fault(at(f), Some(s.clone()), e.to_string());
                        None
                    }
                },
            }
        };
    let start = month(c, "start", &l.start)?;
    let end = month(c, "end", &l.end)?;
    let money_only = matches!(
        l.kind.as_str(),
        "block_transfer" | "grant" | "deficit_contribution" | "invest_to_save"
    );
    let Some(start) = start else {
        if money_only && end.is_none() && l.ramp_months.is_none() {
            return Some(Timing::ALWAYS);
        }
        c.fault(
            at("start"),
            None,
            "a lever that changes the forecast needs a start month (start = \"2025-09\")".into(),
        );
        return None;
    };
    match Timing::new(start, l.ramp_months.unwrap_or(0), end) {
        Ok(t) => Some(t),
        Err(rule) => {
            let field = if rule.starts_with("end") {
                "end"
            } else {
                "ramp_months"
            };
            c.fault(at(field), None, rule);
            None
        }
    }
}

fn amounts(
    c: &mut Checker,
    place: Place,
    m: &BTreeMap<String, f64>,
) -> Option<BTreeMap<FinancialYear, Pence>> {
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (fy, &pounds) in m {
        let year = fy.parse::<FinancialYear>();
        let pence = (pounds * 100.0).round();
        let exact = (pounds * 100.0 - pence).abs() < 1e-6;
        match (year, Pence::from_pence_rounded(pence)) {
            (Ok(year), Some(p)) if exact && pounds.abs() <= 1e12 => {
                out.insert(year, p);
            }
            (Err(e), _) => {
                c.fault(place, Some(fy.clone()), e.to_string());
                ok = false;
            }
            _ => {
                c.fault(
                    place,
                    Some(format!("{fy} = {pounds}")),
                    "an amount in pounds, up to 2 decimal places and at most £1,000,000,000,000"
                        .into(),
                );
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

fn cohort(
    c: &mut Checker,
    i: usize,
    j: usize,
    l: &LeverFile,
    codes: Option<&ScenarioCodes>,
) -> Option<Cohort> {
    let at = |f: &'static str| Place::Lever(i, j, f);
    let needs: Vec<Option<Need>> = l
        .needs
        .iter()
        .map(|n| need_code(c, at("needs"), n, codes))
        .collect();
    let settings: Vec<Option<Setting>> = l
        .settings
        .iter()
        .map(|s| setting_code(c, at("settings"), s, codes))
        .collect();
    let ncy = match l.ncy {
        None => Some(None),
        Some([lo, hi]) => match (Ncy::new(lo), Ncy::new(hi)) {
            (Ok(a), Ok(b)) if a <= b => Some(Some((a, b))),
            _ => {
                c.fault(
                    at("ncy"),
                    Some(format!("[{lo}, {hi}]")),
                    "an NCY range [from, to] within -5..20, from ≤ to".into(),
                );
                None
            }
        },
    };
    Some(Cohort {
        needs: needs.into_iter().collect::<Option<_>>()?,
        settings: settings.into_iter().collect::<Option<_>>()?,
        ncy: ncy?,
    })
}

fn required<T: Clone>(c: &mut Checker, place: Place, v: &Option<T>) -> Option<T> {
    if v.is_none() {
        let field = match place {
            Place::Lever(_, _, f) => f,
            _ => "",
        };
        c.fault(
            place,
            None,
            format!("{field} is required for this kind of lever"),
        );
    }
    v.clone()
}

fn change(c: &mut Checker, place: Place, v: &Option<f64>) -> Option<Change> {
    let x = required(c, place, v)?;
    // The rule names the value itself ("1.25 is not a change …"): not given again.
    Change::new(x)
        .map_err(|rule| c.fault(place, None, rule))
        .ok()
}

fn lever_kind(
    c: &mut Checker,
    i: usize,
    j: usize,
    l: &LeverFile,
    codes: Option<&ScenarioCodes>,
) -> Option<LeverKind> {
    let at = |f: &'static str| Place::Lever(i, j, f);
    Some(match l.kind.as_str() {
        "joiner_rate" => {
            let (change, cohort) = change_and_cohort(c, i, j, l, codes)?;
            LeverKind::JoinerRate { change, cohort }
        }
        "leaver_rate" => {
            let (change, cohort) = change_and_cohort(c, i, j, l, codes)?;
            LeverKind::LeaverRate { change, cohort }
        }
        "unit_cost" => {
            let (change, cohort) = change_and_cohort(c, i, j, l, codes)?;
            LeverKind::UnitCost { change, cohort }
        }
        "redirect" => redirect(c, i, j, l, codes)?,
        "capacity" => capacity(c, i, j, l, codes)?,
        "block_transfer" => LeverKind::BlockTransfer {
            amount: amounts(c, at("amount"), &l.amount)?,
            needs_schools_forum_approval: l.needs_schools_forum_approval.unwrap_or(true),
        },
        "grant" => LeverKind::Grant {
            amount: amounts(c, at("amount"), &l.amount)?,
        },
        "deficit_contribution" => LeverKind::DeficitContribution {
            amount: amounts(c, at("amount"), &l.amount)?,
        },
        _ => LeverKind::InvestToSave,
    })
}

/// A joiner-rate, leaver-rate or unit-cost lever's change and the cohort it acts on.
fn change_and_cohort(
    c: &mut Checker,
    i: usize,
    j: usize,
    l: &LeverFile,
    codes: Option<&ScenarioCodes>,
) -> Option<(Change, Cohort)> {
    let change = change(c, Place::Lever(i, j, "change"), &l.change)?;
    let cohort = cohort(c, i, j, l, codes)?;
    Some((change, cohort))
}

/// A redirection lever: a share of a cohort's joiners and/or movers sent from one setting to another.
fn redirect(
    c: &mut Checker,
    i: usize,
    j: usize,
    l: &LeverFile,
    codes: Option<&ScenarioCodes>,
) -> Option<LeverKind> {
    let at = |f: &'static str| Place::Lever(i, j, f);
    let from = required(c, at("from"), &l.from);
    let to = required(c, at("to"), &l.to);
    let from = from.and_then(|s| setting_code(c, at("from"), &s, codes));
    let to = to.and_then(|s| setting_code(c, at("to"), &s, codes));
    let share = required(c, at("share"), &l.share).and_then(|x| {
        // The rule names the value itself.
        Share::new(x)
            .map_err(|rule| c.fault(at("share"), None, rule))
            .ok()
    });
    let (joiners, movers) = (l.joiners.unwrap_or(true), l.movers.unwrap_or(false));
    if !joiners && !movers {
        c.fault(
            at("joiners"),
            None,
            "a redirection acts on joiners, movers or both".into(),
        );
    }
    if from.is_some() && from == to {
        c.fault(
            at("to"),
            l.to.clone(),
            "a redirection goes to another setting".into(),
        );
    }
    Some(LeverKind::Redirect {
        from: from?,
        to: to?,
        share: share?,
        joiners,
        movers,
        cohort: cohort(c, i, j, l, codes)?,
    })
}

/// A capacity lever: places added to (or taken from) a setting, with any overflow setting.
fn capacity(
    c: &mut Checker,
    i: usize,
    j: usize,
    l: &LeverFile,
    codes: Option<&ScenarioCodes>,
) -> Option<LeverKind> {
    let at = |f: &'static str| Place::Lever(i, j, f);
    let setting = required(c, at("setting"), &l.setting)
        .and_then(|s| setting_code(c, at("setting"), &s, codes));
    let places = required(c, at("places"), &l.places)?;
    if places.unsigned_abs() > 1_000_000 {
        c.fault(
            at("places"),
            Some(places.to_string()),
            "places must be within ±1,000,000".into(),
        );
        return None;
    }
    let overflow = match &l.overflow {
        Some(o) => Some(setting_code(c, at("overflow"), o, codes)?),
        None => None,
    };
    Some(LeverKind::Capacity {
        setting: setting?,
        places,
        overflow,
    })
}

/// A scenario in the file's shape (what `export` writes and the API returns).
pub fn scenario_file(s: &Scenario) -> ScenarioFile {
    let a = &s.assumptions;
    ScenarioFile {
        name: s.name.clone(),
        description: s.description.clone(),
        la: s.la.clone(),
        assumptions: AssumptionsFile {
            horizon_years: a.horizon_years,
            uplift: a.uplift,
            allocation_growth: a.allocation_growth,
            target_financial_year: a.target.to_string(),
            engine: match a.engine {
                ScenarioEngine::Analytic => "analytic".into(),
                ScenarioEngine::MonteCarlo => "monte-carlo".into(),
            },
            sims: a.sims,
            seed: a.seed,
            places: a
                .places
                .iter()
                .map(|p| PlacesFile {
                    setting: p.setting.to_string(),
                    census_year: p.census_year.year(),
                    places: p.places as i64,
                })
                .collect(),
        },
        initiatives: s
            .initiatives
            .iter()
            .map(|i| InitiativeFile {
                name: i.name.clone(),
                description: i.description.clone(),
                levers: i.levers.iter().map(lever_file).collect(),
            })
            .collect(),
    }
}

fn pounds(m: &BTreeMap<FinancialYear, Pence>) -> BTreeMap<String, f64> {
    m.iter()
        .map(|(fy, p)| (fy.to_string(), p.pence() as f64 / 100.0))
        .collect()
}

fn cohort_fields(f: &mut LeverFile, c: &Cohort) {
    f.needs = c.needs.iter().map(|n| n.to_string()).collect();
    f.settings = c.settings.iter().map(|s| s.to_string()).collect();
    f.ncy = c.ncy.map(|(a, b)| [a.value(), b.value()]);
}

fn lever_file(l: &Lever) -> LeverFile {
    let mut f = LeverFile {
        kind: l.kind.code().into(),
        description: l.description.clone(),
        cost: pounds(&l.cost),
        ..LeverFile::default()
    };
    let money_only = matches!(
        l.kind,
        LeverKind::BlockTransfer { .. }
            | LeverKind::Grant { .. }
            | LeverKind::DeficitContribution { .. }
            | LeverKind::InvestToSave
    );
    if l.timing != Timing::ALWAYS || !money_only {
        f.start = Some(l.timing.start.to_string());
        f.ramp_months = (l.timing.ramp_months > 0).then_some(l.timing.ramp_months);
        f.end = l.timing.end.map(|e| e.to_string());
    }
    match &l.kind {
        LeverKind::JoinerRate { change, cohort } | LeverKind::LeaverRate { change, cohort } => {
            f.change = Some(change.get());
            cohort_fields(&mut f, cohort);
        }
        LeverKind::UnitCost { change, cohort } => {
            f.change = Some(change.get());
            cohort_fields(&mut f, cohort);
        }
        LeverKind::Redirect {
            from,
            to,
            share,
            joiners,
            movers,
            cohort,
        } => {
            f.from = Some(from.to_string());
            f.to = Some(to.to_string());
            f.share = Some(share.get());
            f.joiners = Some(*joiners);
            f.movers = Some(*movers);
            cohort_fields(&mut f, cohort);
        }
        LeverKind::Capacity {
            setting,
            places,
            overflow,
        } => {
            f.setting = Some(setting.to_string());
            f.places = Some(*places);
            f.overflow = overflow.as_ref().map(|o| o.to_string());
        }
        LeverKind::BlockTransfer {
            amount,
            needs_schools_forum_approval,
        } => {
            f.amount = pounds(amount);
            f.needs_schools_forum_approval = Some(*needs_schools_forum_approval);
        }
        LeverKind::Grant { amount } | LeverKind::DeficitContribution { amount } => {
            f.amount = pounds(amount);
        }
        LeverKind::InvestToSave => {}
    }
    f
}

/// The scenario as TOML (reads back to the same scenario).
pub fn scenario_to_toml(s: &Scenario) -> String {
    toml::to_string(&scenario_file(s)).unwrap_or_default()
}

/// The scenario as JSON in the file's shape.
pub fn scenario_to_json(s: &Scenario) -> String {
    serde_json::to_string_pretty(&scenario_file(s)).unwrap_or_default()
}

/// Write a scenario file (TOML text) at `path`, readable by its owner only, never over an existing file and never
/// half-written.
pub fn write_scenario_file(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    if path.exists() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!(
                "{} exists: choose another file (nothing was written)",
                path.display()
            ),
        ));
    }
    crate::write::write_file_atomically(path, |w| std::io::Write::write_all(w, text.as_bytes()))
}
