//! The form's HTML: a fieldset per initiative and per lever, each field labelled, its hint and its fault tied to
//! it (`aria-describedby`, `aria-invalid`), a summary of every fault at the top linking to its field.

use std::collections::BTreeMap;

use highneeds_ingest::scenario::{
    lever_fields, InitiativeFile, LeverFile, ScenarioField, ScenarioFile, LEVER_KINDS,
};
use maud::{html, Markup};

use super::fields::{id, key, Action, Fault};
use super::Choices;
use crate::caller::Caller;
use crate::views;
use crate::Shared;

/// A kind's name for people.
pub fn kind_name(kind: &str) -> &'static str {
    match kind {
        "joiner_rate" => "New plans (joiner rate)",
        "leaver_rate" => "Plans ceasing (leaver rate)",
        "redirect" => "Redirection to another setting",
        "capacity" => "Places at a setting",
        "unit_cost" => "Unit costs",
        "block_transfer" => "Block transfer",
        "grant" => "Grant",
        "deficit_contribution" => "Contribution to the deficit",
        "invest_to_save" => "Invest-to-save cost",
        _ => "Unknown kind",
    }
}

/// The faults of a form, found by field key.
struct Faults<'a> {
    by_key: BTreeMap<String, Vec<&'a str>>,
}

impl<'a> Faults<'a> {
    fn of(faults: &'a [Fault], shape: &ScenarioFile) -> Self {
        let mut by_key: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for (field, rule) in faults {
            by_key
                .entry(shown_at(*field, shape))
                .or_default()
                .push(rule);
        }
        Self { by_key }
    }
    fn at(&self, key: &str) -> &[&'a str] {
        self.by_key.get(key).map_or(&[], Vec::as_slice)
    }
}

/// The kind of lever `j` of initiative `i` ("" if there is none).
fn kind_of(shape: &ScenarioFile, i: usize, j: usize) -> &str {
    shape
        .initiatives
        .get(i)
        .and_then(|x| x.levers.get(j))
        .map_or("", |l| l.kind.as_str())
}

/// The key of the element a fault is shown by: its field, or its lever when the form has no such field (the kind,
/// or a field the kind does not take), or the scenario's name for the LA code.
fn shown_at(field: ScenarioField, shape: &ScenarioFile) -> String {
    match field {
        ScenarioField::Lever(i, j, f) => {
            let kind = kind_of(shape, i, j);
            let always = ["description", "start", "ramp_months", "end", "cost"];
            let takes = lever_fields(kind).unwrap_or(&[]);
            if always.contains(&f) || takes.contains(&f) {
                key(field)
            } else {
                format!("i.{i}.l.{j}")
            }
        }
        ScenarioField::Top("la") => "name".into(),
        other => key(other),
    }
}

/// Where a field is, for the summary: "Initiative 2 (Early help), lever 1 (Unit costs): change".
fn place_name(field: ScenarioField, shape: &ScenarioFile) -> String {
    let initiative = |i: usize| {
        let name = shape.initiatives.get(i).map_or("", |x| x.name.trim());
        if name.is_empty() {
            format!("Initiative {}", i + 1)
        } else {
            format!("Initiative {} ({name})", i + 1)
        }
    };
    match field {
        ScenarioField::Top(f) => format!("Scenario: {}", f.replace('_', " ")),
        ScenarioField::Assumption(f) => format!("Assumptions: {}", f.replace('_', " ")),
        ScenarioField::Initiative(i, f) => format!("{}: {}", initiative(i), f.replace('_', " ")),
        ScenarioField::Lever(i, j, f) => {
            let kind = kind_of(shape, i, j);
            format!(
                "{}, lever {} ({}): {}",
                initiative(i),
                j + 1,
                kind_name(kind),
                f.replace('_', " ")
            )
        }
    }
}

/// What a field is: its input's type and attributes.
#[derive(Clone, Copy)]
enum Input {
    Text,
    /// A number with this step (`any` for shares and rates).
    Number(&'static str),
    Month,
}

/// A labelled input with its hint and faults.
fn field(f: &Faults, key: &str, label: &str, hint: &str, input: Input, value: &str) -> Markup {
    let id = id(key);
    let errs = f.at(key);
    let hint_id = format!("{id}-hint");
    let err_id = format!("{id}-error");
    let mut described = Vec::new();
    if !hint.is_empty() {
        described.push(hint_id.clone());
    }
    if !errs.is_empty() {
        described.push(err_id.clone());
    }
    let described = described.join(" ");
    let (ty, step, mode) = match input {
        Input::Text => ("text", None, None),
        Input::Number(step) => ("number", Some(step), Some("decimal")),
        Input::Month => ("month", None, None),
    };
    html! {
        div class=(if errs.is_empty() { "field" } else { "field invalid" }) {
            label for=(id) { (label) }
            @if !hint.is_empty() { span class="hint" id=(hint_id) { (hint) } }
            @if !errs.is_empty() { (fault_list(&err_id, errs)) }
            input type=(ty) id=(id) name=(key) value=(value) step=[step] inputmode=[mode] placeholder=[matches!(input, Input::Month).then_some("YYYY-MM")]
                aria-describedby=[(!described.is_empty()).then_some(described.as_str())]
                aria-invalid=[(!errs.is_empty()).then_some("true")];
        }
    }
}

fn fault_list(id: &str, errs: &[&str]) -> Markup {
    html! {
        p class="field-error" id=(id) {
            @for (n, e) in errs.iter().enumerate() { @if n > 0 { br; } span class="visually-hidden" { "Error: " } (e) }
        }
    }
}

/// A labelled select; `none`: the label of an empty choice (an optional field).
fn select(
    f: &Faults,
    key: &str,
    label: &str,
    options: &[(String, String)],
    chosen: &str,
    none: Option<&str>,
) -> Markup {
    let id = id(key);
    let errs = f.at(key);
    let err_id = format!("{id}-error");
    let known = options.iter().any(|(v, _)| v == chosen);
    html! {
        div class=(if errs.is_empty() { "field" } else { "field invalid" }) {
            label for=(id) { (label) }
            @if !errs.is_empty() { (fault_list(&err_id, errs)) }
            select id=(id) name=(key) aria-describedby=[(!errs.is_empty()).then_some(err_id.as_str())] aria-invalid=[(!errs.is_empty()).then_some("true")] {
                @if let Some(none) = none { option value="" selected[chosen.is_empty()] { (none) } }
                @else if chosen.is_empty() { option value="" selected { "Choose…" } }
                @if !known && !chosen.is_empty() { option value=(chosen) selected { (chosen) " (not one of the LA's codes)" } }
                @for (v, l) in options { option value=(v) selected[v == chosen] { (l) } }
            }
        }
    }
}

fn checkbox(key: &str, label: &str, checked: bool) -> Markup {
    let id = id(key);
    html! {
        div class="field check" {
            input type="checkbox" id=(id) name=(key) value="true" checked[checked];
            label for=(id) { (label) }
        }
    }
}

/// A group of checkboxes (needs or settings); none ticked means every one.
fn choices_group(
    f: &Faults,
    key: &str,
    legend: &str,
    codes: &[String],
    chosen: &[String],
) -> Markup {
    let gid = id(key);
    let errs = f.at(key);
    let err_id = format!("{gid}-error");
    let unknown: Vec<&String> = chosen.iter().filter(|c| !codes.contains(c)).collect();
    html! {
        fieldset class=(if errs.is_empty() { "group" } else { "group invalid" }) id=(gid) aria-describedby=[(!errs.is_empty()).then_some(err_id.as_str())] {
            legend { (legend) " (none ticked: every one)" }
            @if !errs.is_empty() { (fault_list(&err_id, errs)) }
            div class="checks" {
                @for (n, c) in codes.iter().chain(unknown.iter().copied()).enumerate() {
                    span class="check" {
                        input type="checkbox" id=(format!("{gid}-{n}")) name=(key) value=(c) checked[chosen.contains(c)];
                        label for=(format!("{gid}-{n}")) { (c) }
                    }
                }
            }
        }
    }
}

/// Pounds by financial year: one field per year.
fn money(
    f: &Faults,
    key: &str,
    legend: &str,
    years: &[String],
    amounts: &BTreeMap<String, f64>,
) -> Markup {
    let gid = id(key);
    let errs = f.at(key);
    let err_id = format!("{gid}-error");
    html! {
        fieldset class=(if errs.is_empty() { "group" } else { "group invalid" }) id=(gid) aria-describedby=[(!errs.is_empty()).then_some(err_id.as_str())] {
            legend { (legend) " (£ by financial year; blank: none)" }
            @if !errs.is_empty() { (fault_list(&err_id, errs)) }
            div class="years" {
                @for y in years {
                    @let k = format!("{key}.{y}");
                    div class="field" {
                        label for=(id(&k)) { (y) }
                        input type="text" inputmode="decimal" id=(id(&k)) name=(k) size="10" value=(amounts.get(y).map_or(String::new(), |p| pounds(*p)));
                    }
                }
            }
        }
    }
}

/// Pounds as typed back: whole pounds without a fraction, else two decimals.
fn pounds(p: f64) -> String {
    if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        format!("{p:.2}")
    }
}

fn num(x: Option<f64>) -> String {
    x.map_or(String::new(), |v| v.to_string())
}

fn button(action: Action, label: &str, class: &str) -> Markup {
    html! { button type="submit" name="action" value=(action.value()) class=(class) { (label) } }
}

/// The whole page.
pub fn page(
    state: &Shared,
    caller: &Caller,
    title: &str,
    shape: &ScenarioFile,
    faults: &[Fault],
    choices: &Choices,
) -> Markup {
    let f = Faults::of(faults, shape);
    let toml_link = if title.starts_with("Edit ") && !shape.name.is_empty() {
        format!(
            "/scenarios/edit?name={}",
            super::super::scenarios::enc(&shape.name)
        )
    } else {
        "/scenarios/edit".to_string()
    };
    let content = html! {
        @if !faults.is_empty() {
            div class="error-summary" role="alert" aria-labelledby="error-summary-h" tabindex="-1" id="error-summary" autofocus {
                h2 id="error-summary-h" { "Not saved: " (faults.len()) (if faults.len() == 1 { " field needs" } else { " fields need" }) " changing" }
                ul { @for (field, rule) in faults {
                    li { a href=(format!("#{}", id(&shown_at(*field, shape)))) { (place_name(*field, shape)) ": " (rule) } }
                } }
            }
        }
        p { "Each initiative is a set of levers; each lever has the fields its kind takes. Saving checks every field against the LA's needs, settings and years and stores a new version; nothing is stored while a field needs changing. Changes are shares (−0.10 = 10 % fewer); amounts are pounds by financial year; months are YYYY-MM. "
            "Or " a href=(toml_link) { "edit the scenario as its TOML file" } " (comments kept)." }
        form method="post" action="/scenarios/form" class="scenario-form" novalidate {
            input type="hidden" name="csrf" value=(caller.csrf());
            @if let Some(la) = &shape.la { input type="hidden" name="la" value=(la); }
            button type="submit" name="action" value=(Action::Save.value()) class="save" { "Check and save" }
            (scenario_part(&f, shape, choices))
            @for (i, ini) in shape.initiatives.iter().enumerate() { (initiative(&f, i, ini, choices)) }
            p { (button(Action::AddInitiative, "Add an initiative", "secondary")) }
            p { button type="submit" name="action" value=(Action::Save.value()) { "Check and save" } }
        }
    };
    views::page(title, Some(caller), &state.la_name, content)
}

fn scenario_part(f: &Faults, shape: &ScenarioFile, choices: &Choices) -> Markup {
    let a = &shape.assumptions;
    let target_hint = match choices.projected {
        Some((first, last)) => format!(
            "the year the in-year position must balance: {first} to {last} with this horizon"
        ),
        None => "the year the in-year position must balance, e.g. 2027-28".into(),
    };
    let engines = [
        (
            "analytic".to_string(),
            "analytic (means and intervals, milliseconds)".to_string(),
        ),
        (
            "monte-carlo".to_string(),
            "Monte-Carlo (simulations)".to_string(),
        ),
    ];
    let settings: Vec<(String, String)> = choices
        .settings
        .iter()
        .map(|s| (s.clone(), s.clone()))
        .collect();
    html! {
        fieldset class="part" {
            legend { "Scenario" }
            (field(f, "name", "Name", "savings and versions are kept by name", Input::Text, &shape.name))
            (field(f, "description", "Description", "", Input::Text, &shape.description))
        }
        fieldset class="part" {
            legend { "Assumptions" }
            div class="row" {
                (field(f, "a.horizon_years", "Horizon (census years)", "1 to 25", Input::Number("1"), &a.horizon_years.to_string()))
                (field(f, "a.target_financial_year", "Target financial year", &target_hint, Input::Text, &a.target_financial_year))
                (field(f, "a.uplift", "Yearly uplift of costs", "a share: 0.03 = 3 %", Input::Number("any"), &a.uplift.to_string()))
                (field(f, "a.allocation_growth", "Yearly growth of the allocation", "a share; blank: the mean of the last three actual years", Input::Number("any"), &num(a.allocation_growth)))
                (select(f, "a.engine", "Engine", &engines, &a.engine, None))
                (field(f, "a.sims", "Simulations (Monte-Carlo)", "1 to 100,000", Input::Number("1"), &a.sims.to_string()))
                (field(f, "a.seed", "Seed (Monte-Carlo)", "the same seed gives the same figures", Input::Number("1"), &a.seed.to_string()))
            }
            fieldset class="group" id="f-p" {
                legend { "Places by setting (the sufficiency baseline)" }
                @if !f.at("p").is_empty() { (fault_list("f-p-error", f.at("p"))) }
                @if a.places.is_empty() { p class="note" { "None given: sufficiency is not checked." } }
                @for (k, p) in a.places.iter().enumerate() {
                    div class="row" {
                        (select(f, &format!("p.{k}.setting"), "Setting", &settings, &p.setting, None))
                        (field(f, &format!("p.{k}.census_year"), "Census year", "", Input::Number("1"), &(if p.census_year == 0 { String::new() } else { p.census_year.to_string() })))
                        (field(f, &format!("p.{k}.places"), "Places", "", Input::Number("1"), &(if p.setting.is_empty() && p.places == 0 { String::new() } else { p.places.to_string() })))
                        (button(Action::RemovePlace(k), &format!("Remove places row {}", k + 1), "secondary"))
                    }
                }
                (button(Action::AddPlace, "Add places at a setting", "secondary"))
            }
        }
    }
}

fn initiative(f: &Faults, i: usize, ini: &InitiativeFile, choices: &Choices) -> Markup {
    let kinds: Vec<(String, String)> = LEVER_KINDS
        .iter()
        .map(|k| (k.to_string(), kind_name(k).to_string()))
        .collect();
    let title = if ini.name.trim().is_empty() {
        format!("Initiative {}", i + 1)
    } else {
        format!("Initiative {}: {}", i + 1, ini.name.trim())
    };
    html! {
        fieldset class="initiative" id=(id(&format!("i.{i}"))) {
            legend { (title) }
            (field(f, &format!("i.{i}.name"), "Name", "savings are attributed by name", Input::Text, &ini.name))
            (field(f, &format!("i.{i}.description"), "Description", "", Input::Text, &ini.description))
            @for (j, l) in ini.levers.iter().enumerate() { (lever(f, i, j, l, choices)) }
            div class="row add-lever" {
                div class="field" {
                    label for=(id(&format!("i.{i}.new_kind"))) { "Kind of lever to add" }
                    select id=(id(&format!("i.{i}.new_kind"))) name=(format!("i.{i}.new_kind")) {
                        @for (v, l) in &kinds { option value=(v) { (l) } }
                    }
                }
                (button(Action::AddLever(i), &format!("Add the lever to initiative {}", i + 1), "secondary"))
                (button(Action::RemoveInitiative(i), &format!("Remove initiative {}", i + 1), "secondary danger"))
            }
        }
    }
}

fn lever(f: &Faults, i: usize, j: usize, l: &LeverFile, choices: &Choices) -> Markup {
    let k = |field: &str| format!("i.{i}.l.{j}.{field}");
    let takes = lever_fields(&l.kind).unwrap_or(&[]);
    let has = |field: &str| takes.contains(&field);
    let settings: Vec<(String, String)> = choices
        .settings
        .iter()
        .map(|s| (s.clone(), s.clone()))
        .collect();
    let lever_key = format!("i.{i}.l.{j}");
    html! {
        fieldset class="lever" id=(id(&lever_key)) {
            legend { "Lever " (j + 1) ": " (kind_name(&l.kind)) }
            @if !f.at(&lever_key).is_empty() { (fault_list(&format!("{}-error", id(&lever_key)), f.at(&lever_key))) }
            input type="hidden" name=(k("kind")) value=(l.kind);
            div class="row" {
                @if has("change") {
                    (field(f, &k("change"), "Change", "a share: −0.10 = 10 % fewer (or lower), 0.05 = 5 % more", Input::Number("any"), &num(l.change)))
                }
                @if has("from") {
                    (select(f, &k("from"), "From setting", &settings, l.from.as_deref().unwrap_or(""), None))
                    (select(f, &k("to"), "To setting", &settings, l.to.as_deref().unwrap_or(""), None))
                    (field(f, &k("share"), "Share redirected", "0 to 1: 0.5 = half", Input::Number("any"), &num(l.share)))
                }
                @if has("setting") {
                    (select(f, &k("setting"), "Setting", &settings, l.setting.as_deref().unwrap_or(""), None))
                    (field(f, &k("places"), "Places added", "negative: places removed", Input::Number("1"), &l.places.map_or(String::new(), |p| p.to_string())))
                    (select(f, &k("overflow"), "Children above the places go to", &settings, l.overflow.as_deref().unwrap_or(""), Some("nowhere else (no overflow)")))
                }
            }
            @if has("from") {
                div class="row" {
                    (checkbox(&k("joiners"), "acts on new plans (joiners)", l.joiners.unwrap_or(true)))
                    (checkbox(&k("movers"), "acts on children changing setting (movers)", l.movers.unwrap_or(false)))
                }
                @if !f.at(&k("joiners")).is_empty() { (fault_list(&format!("{}-error", id(&k("joiners"))), f.at(&k("joiners")))) }
            }
            @if has("needs") { (choices_group(f, &k("needs"), "Needs", &choices.needs, &l.needs)) }
            @if has("settings") { (choices_group(f, &k("settings"), "Settings", &choices.settings, &l.settings)) }
            @if has("ncy") { (ncy(f, &k("ncy"), l.ncy)) }
            @if has("amount") { (money(f, &k("amount"), "Amount", &choices.years, &l.amount)) }
            @if has("needs_schools_forum_approval") {
                (checkbox(&k("needs_schools_forum_approval"), "needs Schools Forum approval", l.needs_schools_forum_approval.unwrap_or(true)))
            }
            div class="row" {
                (field(f, &k("start"), "Start", "the first month with effect", Input::Month, l.start.as_deref().unwrap_or("")))
                (field(f, &k("ramp_months"), "Months to full effect", "a straight line from the start; blank: at once", Input::Number("1"), &l.ramp_months.map_or(String::new(), |m| m.to_string())))
                (field(f, &k("end"), "End", "the first month without effect; blank: none", Input::Month, l.end.as_deref().unwrap_or("")))
            }
            (money(f, &k("cost"), "Cost to the High Needs Block", &choices.years, &l.cost))
            (field(f, &k("description"), "Description", "", Input::Text, &l.description))
            (button(Action::RemoveLever(i, j), &format!("Remove lever {} of initiative {}", j + 1, i + 1), "secondary danger"))
        }
    }
}

fn ncy(f: &Faults, key: &str, range: Option<[i32; 2]>) -> Markup {
    let gid = id(key);
    let errs = f.at(key);
    let err_id = format!("{gid}-error");
    let (from, to) = range.map_or((String::new(), String::new()), |[a, b]| {
        (a.to_string(), b.to_string())
    });
    let end = |e: &str| key.replace(".ncy", &format!(".ncy_{e}"));
    html! {
        fieldset class=(if errs.is_empty() { "group" } else { "group invalid" }) id=(gid) aria-describedby=[(!errs.is_empty()).then_some(err_id.as_str())] {
            legend { "National curriculum years (NCY, −5 to 20; both blank: every NCY)" }
            @if !errs.is_empty() { (fault_list(&err_id, errs)) }
            div class="row" {
                div class="field" { label for=(id(&end("from"))) { "from" } input type="number" step="1" id=(id(&end("from"))) name=(end("from")) value=(from); }
                div class="field" { label for=(id(&end("to"))) { "to" } input type="number" step="1" id=(id(&end("to"))) name=(end("to")) value=(to); }
            }
        }
    }
}
