//! The form's fields read into the scenario file's shape. Pure: no I/O, no store.
//!
//! Field names are the file's, with positions: `name`, `a.uplift`, `p.0.setting` (a sufficiency place row),
//! `i.0.name` (an initiative), `i.0.l.1.change` (a lever), `i.0.l.1.cost.2026-27` (an amount by financial year),
//! `i.0.l.1.ncy_from`/`ncy_to`. Positions in the request may have gaps (a row removed); they are read in order and
//! renumbered from 0, so a fault's [`ScenarioField`] is the position in the form as shown next.
//!
//! A value that is not a number where a number belongs is a fault here, named by field; the scenario file's own
//! checks (ranges, codes, required fields) run afterwards on what was read.

use std::collections::{BTreeMap, BTreeSet};

use highneeds_domain::Pence;
use highneeds_ingest::scenario::{
    lever_fields, AssumptionsFile, InitiativeFile, LeverFile, PlacesFile, ScenarioField,
    ScenarioFile,
};

/// A fault in a field, in plain English (the value quoted).
pub type Fault = (ScenarioField, String);

/// What the form's button asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Check the scenario and store it as a new version.
    Save,
    AddInitiative,
    RemoveInitiative(usize),
    /// A lever of the kind chosen in `i.N.new_kind`.
    AddLever(usize),
    RemoveLever(usize, usize),
    AddPlace,
    RemovePlace(usize),
}

impl Action {
    /// The `action` button's value (`remove-lever.0.1`); anything else is a save (Enter in a field).
    pub fn of(value: Option<&str>) -> Action {
        let Some(v) = value else {
            return Action::Save;
        };
        let mut parts = v.split('.');
        let verb = parts.next().unwrap_or("");
        let nums: Vec<usize> = parts.filter_map(|p| p.parse().ok()).collect();
        match (verb, nums.as_slice()) {
            ("add-initiative", []) => Action::AddInitiative,
            ("remove-initiative", [i]) => Action::RemoveInitiative(*i),
            ("add-lever", [i]) => Action::AddLever(*i),
            ("remove-lever", [i, j]) => Action::RemoveLever(*i, *j),
            ("add-place", []) => Action::AddPlace,
            ("remove-place", [k]) => Action::RemovePlace(*k),
            _ => Action::Save,
        }
    }

    /// The button value for this action.
    pub fn value(self) -> String {
        match self {
            Action::Save => "save".into(),
            Action::AddInitiative => "add-initiative".into(),
            Action::RemoveInitiative(i) => format!("remove-initiative.{i}"),
            Action::AddLever(i) => format!("add-lever.{i}"),
            Action::RemoveLever(i, j) => format!("remove-lever.{i}.{j}"),
            Action::AddPlace => "add-place".into(),
            Action::RemovePlace(k) => format!("remove-place.{k}"),
        }
    }
}

/// The form's name for a field (also its element id, with `-` for `.`, after `f-`).
pub fn key(field: ScenarioField) -> String {
    match field {
        ScenarioField::Top(f) => f.to_string(),
        ScenarioField::Assumption("places") => "p".into(),
        ScenarioField::Assumption(f) => format!("a.{f}"),
        ScenarioField::Initiative(i, f) => format!("i.{i}.{f}"),
        ScenarioField::Lever(i, j, f) => format!("i.{i}.l.{j}.{f}"),
    }
}

/// A form field's element id.
pub fn id(key: &str) -> String {
    format!("f-{}", key.replace('.', "-"))
}

/// The most fields a form may send: a plan of 50 initiatives of 10 levers with every field filled in is a few
/// thousand. More is refused before anything is read.
pub const MAX_FIELDS: usize = 20_000;

/// The request's fields by name (each name's values in the order sent), read one by one; faults collected as they
/// are found. Every lookup is a search of the sorted names, so a form of any size is read in n log n.
struct Reader<'a> {
    by_name: BTreeMap<&'a str, Vec<&'a str>>,
    faults: Vec<Fault>,
}

impl<'a> Reader<'a> {
    fn new(fields: &'a [(String, String)]) -> Self {
        let mut by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (k, v) in fields {
            by_name.entry(k.as_str()).or_default().push(v.trim());
        }
        Self {
            by_name,
            faults: Vec::new(),
        }
    }

    /// The first value of a field, trimmed; `None` if absent or blank.
    fn get(&self, key: &str) -> Option<&'a str> {
        self.by_name
            .get(key)
            .and_then(|v| v.first().copied())
            .filter(|v| !v.is_empty())
    }

    fn text(&self, key: &str) -> String {
        self.get(key).unwrap_or("").to_string()
    }

    /// Every value of a field (a group of checkboxes).
    fn all(&self, key: &str) -> Vec<String> {
        self.by_name
            .get(key)
            .map(|v| {
                v.iter()
                    .filter(|x| !x.is_empty())
                    .map(|x| x.to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The fields whose names start with `prefix`, with the rest of each name.
    fn under(&self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &[&'a str])> + '_ {
        self.by_name
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .map_while(move |(k, v)| Some((k.strip_prefix(prefix)?, v.as_slice())))
    }

    /// The positions used under a prefix: `i.` gives the `N` of every `i.N.…` field, in order.
    fn positions(&self, prefix: &'a str) -> BTreeSet<usize> {
        self.under(prefix)
            .filter_map(|(rest, _)| rest.split('.').next()?.parse().ok())
            .collect()
    }

    fn ticked(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    fn fault(&mut self, at: ScenarioField, rule: String) {
        self.faults.push((at, rule));
    }

    /// A number (a share or a rate); blank is `None`.
    fn number(&mut self, key: &str, at: ScenarioField) -> Option<f64> {
        let v = self.get(key)?;
        match v.parse::<f64>() {
            Ok(x) if x.is_finite() => Some(x),
            _ => {
                self.fault(at, format!("{v:?} is not a number"));
                None
            }
        }
    }

    /// A whole number; blank is `None`.
    fn whole<T: std::str::FromStr>(&mut self, key: &str, at: ScenarioField) -> Option<T> {
        let v = self.get(key)?;
        match v.parse::<T>() {
            Ok(x) => Some(x),
            Err(_) => {
                self.fault(at, format!("{v:?} is not a whole number in range"));
                None
            }
        }
    }

    /// Pounds by financial year from the fields `PREFIX.YYYY-YY` (blank years left out); `£`, thousands separators
    /// and brackets are read as in a budget file.
    fn pounds_by_year(&mut self, prefix: &str, at: ScenarioField) -> BTreeMap<String, f64> {
        let head = format!("{prefix}.");
        let mut out = BTreeMap::new();
        let mut faults = Vec::new();
        for (year, values) in self.under(&head) {
            let Some(&value) = values.first().filter(|v| !v.is_empty()) else {
                continue;
            };
            match value.parse::<Pence>() {
                Ok(p) => {
                    out.insert(year.to_string(), p.as_pounds_f64());
                }
                Err(_) => faults.push(format!(
                    "{year}: {value:?} is not an amount in pounds (e.g. 100000 or £100,000.50)"
                )),
            }
        }
        for rule in faults {
            self.fault(at, rule);
        }
        out
    }
}

/// What a form sent: the scenario as it gives it, the faults in values that could not be read, the button
/// pressed, and the kind chosen for a lever to add.
pub struct Sent {
    pub shape: ScenarioFile,
    pub faults: Vec<Fault>,
    pub action: Action,
    pub new_kind: Option<String>,
}

/// Read a form's fields (indexed once).
pub fn read(fields: &[(String, String)]) -> Sent {
    let mut r = Reader::new(fields);
    let action = Action::of(r.get("action"));
    let new_kind = match action {
        Action::AddLever(i) => r.get(&format!("i.{i}.new_kind")).map(str::to_string),
        _ => None,
    };
    let assumptions = read_assumptions(&mut r);
    let initiatives = r
        .positions("i.")
        .into_iter()
        .enumerate()
        .map(|(i, n)| read_initiative(&mut r, i, n))
        .collect();
    let shape = ScenarioFile {
        name: r.text("name"),
        description: r.text("description"),
        la: r.get("la").map(str::to_string),
        assumptions,
        initiatives,
    };
    Sent {
        shape,
        faults: r.faults,
        action,
        new_kind,
    }
}

fn read_assumptions(r: &mut Reader) -> AssumptionsFile {
    let at = ScenarioField::Assumption;
    let places = r
        .positions("p.")
        .into_iter()
        .filter_map(|n| {
            let setting = r.text(&format!("p.{n}.setting"));
            let census_year = r.whole(&format!("p.{n}.census_year"), at("places"));
            let places = r.whole(&format!("p.{n}.places"), at("places"));
            match (census_year, places) {
                (Some(census_year), Some(places)) => Some(PlacesFile {
                    setting,
                    census_year,
                    places,
                }),
                _ if setting.is_empty() => None,
                _ => {
                    r.fault(
                        at("places"),
                        format!("{setting}: give the census year and the number of places"),
                    );
                    None
                }
            }
        })
        .collect();
    AssumptionsFile {
        horizon_years: match r.get("a.horizon_years") {
            None => {
                r.fault(
                    at("horizon_years"),
                    "give the census years to project (1 to 25)".into(),
                );
                0
            }
            Some(_) => r.whole("a.horizon_years", at("horizon_years")).unwrap_or(0),
        },
        uplift: r.number("a.uplift", at("uplift")).unwrap_or(0.0),
        allocation_growth: r.number("a.allocation_growth", at("allocation_growth")),
        target_financial_year: r.text("a.target_financial_year"),
        engine: r.get("a.engine").unwrap_or("analytic").to_string(),
        sims: r.whole("a.sims", at("sims")).unwrap_or(1000),
        seed: r.whole("a.seed", at("seed")).unwrap_or(1),
        places,
    }
}

fn read_initiative(r: &mut Reader, i: usize, n: usize) -> InitiativeFile {
    let prefix = format!("i.{n}.l.");
    let levers = r
        .positions(&prefix)
        .into_iter()
        .enumerate()
        .map(|(j, m)| read_lever(r, &format!("i.{n}.l.{m}"), i, j))
        .collect();
    InitiativeFile {
        name: r.text(&format!("i.{n}.name")),
        description: r.text(&format!("i.{n}.description")),
        levers,
    }
}

/// One lever: only the fields its kind takes are read (the form shows no others).
fn read_lever(r: &mut Reader, prefix: &str, i: usize, j: usize) -> LeverFile {
    let at = |f: &'static str| ScenarioField::Lever(i, j, f);
    let k = |f: &str| format!("{prefix}.{f}");
    let kind = r.text(&k("kind"));
    let takes = lever_fields(&kind).unwrap_or(&[]);
    let has = |f: &str| takes.contains(&f);
    let mut lever = LeverFile {
        description: r.text(&k("description")),
        start: r.get(&k("start")).map(str::to_string),
        ramp_months: r.whole(&k("ramp_months"), at("ramp_months")),
        end: r.get(&k("end")).map(str::to_string),
        cost: r.pounds_by_year(&k("cost"), at("cost")),
        ..LeverFile::default()
    };
    if has("change") {
        lever.change = r.number(&k("change"), at("change"));
    }
    if has("needs") {
        lever.needs = r.all(&k("needs"));
    }
    if has("settings") {
        lever.settings = r.all(&k("settings"));
    }
    if has("ncy") {
        lever.ncy = read_ncy(r, prefix, at("ncy"));
    }
    if has("from") {
        lever.from = r.get(&k("from")).map(str::to_string);
        lever.to = r.get(&k("to")).map(str::to_string);
        lever.share = r.number(&k("share"), at("share"));
        lever.joiners = Some(r.ticked(&k("joiners")));
        lever.movers = Some(r.ticked(&k("movers")));
    }
    if has("setting") {
        lever.setting = r.get(&k("setting")).map(str::to_string);
        lever.places = r.whole(&k("places"), at("places"));
        lever.overflow = r.get(&k("overflow")).map(str::to_string);
    }
    if has("amount") {
        lever.amount = r.pounds_by_year(&k("amount"), at("amount"));
    }
    if has("needs_schools_forum_approval") {
        lever.needs_schools_forum_approval = Some(r.ticked(&k("needs_schools_forum_approval")));
    }
    lever.kind = kind;
    lever
}

/// An NCY range from its two ends: both blank is every NCY; one blank is a fault.
fn read_ncy(r: &mut Reader, prefix: &str, at: ScenarioField) -> Option<[i32; 2]> {
    let from = r.whole(&format!("{prefix}.ncy_from"), at);
    let to = r.whole(&format!("{prefix}.ncy_to"), at);
    let given = |end: &str| r.get(&format!("{prefix}.{end}")).is_some();
    match (from, to) {
        (Some(a), Some(b)) => Some([a, b]),
        _ if given("ncy_from") != given("ncy_to") => {
            r.fault(
                at,
                "give both ends of the NCY range (from and to), or neither for every NCY".into(),
            );
            None
        }
        _ => None,
    }
}

/// The form after an add or remove button: the shape changed, nothing checked.
pub fn apply(shape: &mut ScenarioFile, action: Action, new_kind: Option<&str>) {
    match action {
        Action::Save => {}
        Action::AddInitiative => shape.initiatives.push(InitiativeFile::default()),
        Action::RemoveInitiative(i) if i < shape.initiatives.len() => {
            shape.initiatives.remove(i);
        }
        Action::AddLever(i) => {
            let kind = new_kind.filter(|k| lever_fields(k).is_some());
            if let (Some(ini), Some(kind)) = (shape.initiatives.get_mut(i), kind) {
                ini.levers.push(LeverFile {
                    kind: kind.to_string(),
                    ..LeverFile::default()
                });
            }
        }
        Action::RemoveLever(i, j) => {
            if let Some(ini) = shape.initiatives.get_mut(i).filter(|x| j < x.levers.len()) {
                ini.levers.remove(j);
            }
        }
        Action::AddPlace => shape.assumptions.places.push(PlacesFile::default()),
        Action::RemovePlace(k) if k < shape.assumptions.places.len() => {
            shape.assumptions.places.remove(k);
        }
        Action::RemoveInitiative(_) | Action::RemovePlace(_) => {}
    }
}

#[cfg(test)]
mod tests;
