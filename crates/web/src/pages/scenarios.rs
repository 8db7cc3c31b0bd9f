//! The scenario workspace (issue #13): stored DBV scenarios listed and shown (ledger chart and table, savings by
//! initiative with costs and net, target check, sufficiency), created, copied, edited, imported and exported as
//! the TOML file, every save a new version (who, when) in the audit log; and, for officers, the live what-if: each
//! lever's main figure as a slider or field that redraws the page from the preview API (`assets/workspace.js`).

use axum::extract::{Multipart, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use highneeds_domain::scenario::LeverKind;
use highneeds_domain::Pence;
use highneeds_ingest::scenario::{scenario_to_json, scenario_to_toml};
use highneeds_model::scenario::{LedgerYear, ScenarioResult};
use highneeds_store::ScenarioVersion;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::json;

use crate::auth::Role;
use crate::caller::Caller;
use crate::views::{page, table, AppError};
use crate::{workspace, Shared};

/// The commented template a new scenario starts from (what `highneeds scenario new` writes).
pub const TEMPLATE: &str = include_str!("../../../../examples/scenario-template.toml");

pub(crate) fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub(crate) fn not_found(state: &Shared, caller: &Caller, what: &str) -> Response {
    let body = page(
        "Scenario not found",
        Some(caller),
        &state.la_name,
        html! { p { (what) } p { a href="/scenarios" { "All scenarios" } } },
    );
    (StatusCode::NOT_FOUND, body).into_response()
}

fn officer(caller: &Caller) -> bool {
    caller.role().is_some_and(|r| r >= Role::Officer)
}

#[derive(Deserialize)]
pub struct Pick {
    pub(crate) name: Option<String>,
    pub(crate) version: Option<i64>,
    pub(crate) copy: Option<String>,
}

/// `GET /scenarios`: the list; `?name=N[&version=V]`: one scenario.
pub async fn page_handler(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<Pick>,
) -> Result<Response, AppError> {
    match q.name {
        Some(name) => show(&state, &caller, &name, q.version).await,
        None => Ok(list(&state, &caller).await?.into_response()),
    }
}

async fn list(state: &Shared, caller: &Caller) -> Result<Markup, AppError> {
    let scenarios = state.store.scenarios(&state.la_code).await?;
    let content = html! {
        @if officer(caller) {
            p { a href="/scenarios/form" { "New scenario" } " (in a form, from the template's example; or " a href="/scenarios/edit" { "as a TOML file" } "), or import a file below." }
        }
        @if scenarios.is_empty() { p { "No scenario stored yet." } }
        @else {
            form method="get" action="/scenarios/compare" {
                div class="table-wrap" {
                    table id="scenarios-table" {
                        caption { "Stored scenarios: the latest version of each" }
                        thead { tr { th scope="col" { "scenario" } th scope="col" { "versions" } th scope="col" { "last saved (UTC)" } th scope="col" { "by" } th scope="col" { "side by side" } } }
                        tbody { @for (k, s) in scenarios.iter().enumerate() {
                            tr {
                                th scope="row" { a href=(format!("/scenarios?name={}", enc(&s.name))) { (s.name) } }
                                td { (s.versions) } td { (s.saved_at) } td { (s.saved_by) }
                                td { input type="checkbox" name="name" value=(s.name) id=(format!("cmp-{k}")) aria-label=(format!("compare {}", s.name)); }
                            }
                        } }
                    }
                }
                button type="submit" { "Show the chosen scenarios side by side" }
            }
        }
        @if officer(caller) { (import_form(caller)) }
    };
    Ok(page("Scenarios", Some(caller), &state.la_name, content))
}

fn import_form(caller: &Caller) -> Markup {
    html! {
        section aria-labelledby="import-h" {
            h2 id="import-h" { "Import a scenario file" }
            p { "A TOML scenario file (as " code { "highneeds scenario export" } " writes). It is checked first; if it has an error nothing is stored and every error is listed." }
            form method="post" enctype="multipart/form-data" action=(format!("/scenarios/import?csrf={}", caller.csrf())) class="stack" {
                label for="scenario-file" { "Scenario file (.toml)" }
                input id="scenario-file" name="file" type="file" accept=".toml,.json" required;
                button type="submit" { "Check and import" }
            }
        }
    }
}

fn m(p: Pence) -> String {
    p.to_millions_string()
}

fn pounds(x: f64) -> String {
    Pence::from_pence_rounded(x).map_or("-".to_string(), |p| p.to_millions_string())
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// One line of the in-year chart: its label, its CSS class, (financial year's start year, £m) points.
pub type ChartLine<'a> = (&'a str, &'a str, Vec<(i32, f64)>);

/// The in-year position chart: unmitigated and mitigated by financial year (£m), negative below the zero line.
/// `assets/workspace.js` redraws the same geometry (keep the two in step).
pub fn ledger_chart(id: &str, series: &[ChartLine]) -> Markup {
    const W: f64 = 640.0;
    const H: f64 = 260.0;
    const PAD: f64 = 56.0;
    let xs: Vec<i32> = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.0))
        .collect();
    let (x0, x1) = (
        xs.iter().copied().min().unwrap_or(0),
        xs.iter().copied().max().unwrap_or(1),
    );
    let ys = series.iter().flat_map(|s| s.2.iter().map(|p| p.1));
    let (lo, hi) = ys.fold((0.0f64, 0.0f64), |(a, b), y| (a.min(y), b.max(y)));
    let (lo, hi) = if hi - lo < 1.0 {
        (lo - 1.0, hi + 1.0)
    } else {
        (lo, hi)
    };
    let span = f64::from((x1 - x0).max(1));
    let sx = |x: i32| PAD + f64::from(x - x0) / span * (W - 2.0 * PAD);
    let sy = |y: f64| PAD + (hi - y) / (hi - lo) * (H - 2.0 * PAD);
    let path = |pts: &[(i32, f64)]| {
        pts.iter()
            .enumerate()
            .map(|(i, (x, y))| {
                format!(
                    "{}{:.1},{:.1}",
                    if i == 0 { "M" } else { "L" },
                    sx(*x),
                    sy(*y)
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let summary = series
        .iter()
        .map(|(label, _, pts)| {
            format!(
                "{label}: {}",
                pts.iter()
                    .map(|(x, y)| format!("{x}-{:02} £{y:.1}m", (x + 1) % 100))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join(". ");
    html! {
        figure class="chart" {
            svg id=(id) viewBox=(format!("0 0 {W} {H}")) role="img" aria-labelledby=(format!("{id}-t {id}-d"))
                data-x0=(x0) data-x1=(x1) {
                title id=(format!("{id}-t")) { "In-year DSG high needs position by financial year (£m), without and with the plan" }
                desc id=(format!("{id}-d")) { (summary) ". The ledger table below has every figure." }
                line class="axis" x1=(PAD) y1=(PAD) x2=(PAD) y2=(H - PAD) {}
                line class="axis zero" id=(format!("{id}-zero")) x1=(PAD) y1=(format!("{:.1}", sy(0.0))) x2=(W - PAD) y2=(format!("{:.1}", sy(0.0))) {}
                text class="tick" id=(format!("{id}-hi")) x="4" y=(PAD) { (format!("{hi:.1}")) }
                text class="tick" id=(format!("{id}-lo")) x="4" y=(H - PAD) { (format!("{lo:.1}")) }
                @for x in x0..=x1 { text class="tick" x=(format!("{:.1}", sx(x) - 22.0)) y=(H - PAD + 20.0) { (format!("{x}-{:02}", (x + 1) % 100)) } }
                @for (label, class, pts) in series {
                    path class=(format!("line {class}")) id=(format!("{id}-{class}")) d=(path(pts)) { title { (label) } }
                }
            }
            figcaption { @for (label, class, _) in series { span class=(format!("key {class}")) { (label) } " " } }
        }
    }
}

fn in_year_points(rows: &[LedgerYear]) -> Vec<(i32, f64)> {
    rows.iter()
        .map(|r| {
            (
                r.financial_year.start_year(),
                r.in_year.pence() as f64 / 1e8,
            )
        })
        .collect()
}

/// The ledger table: both sides' spend, the plan's costs and income, in-year and cumulative with the plan.
fn ledger_rows(r: &ScenarioResult) -> Vec<Vec<String>> {
    r.unmitigated
        .ledger
        .iter()
        .zip(&r.mitigated.ledger)
        .map(|(u, x)| {
            vec![
                u.financial_year.to_string(),
                m(u.expenditure),
                m(x.expenditure),
                m(x.initiative_cost),
                m(x.income),
                m(u.in_year),
                m(x.in_year),
                m(x.closing),
            ]
        })
        .collect()
}

const LEDGER_HEAD: [&str; 8] = [
    "financial year",
    "spend without the plan",
    "spend with the plan",
    "initiatives' costs",
    "income with the plan",
    "in-year without",
    "in-year with",
    "cumulative with",
];

fn heads(h: &[&str]) -> Vec<String> {
    h.iter().map(|s| s.to_string()).collect()
}

/// Savings by initiative, to the penny (each cell carries its pence for checking), with the total.
fn savings_table(r: &ScenarioResult) -> Markup {
    let years: Vec<String> = r
        .initiatives
        .first()
        .map(|i| {
            i.saving_by_financial_year
                .iter()
                .map(|(fy, _)| fy.to_string())
                .collect()
        })
        .unwrap_or_default();
    html! {
        // Wide: a scrolling region, so it must be reachable from the keyboard.
        div class="table-wrap" tabindex="0" role="region" aria-labelledby="savings-caption" {
            table id="savings-table" {
                caption id="savings-caption" { "Savings by initiative over the projected years (Shapley values: they add up to the total to the penny, whatever the order initiatives were added), with each initiative's cost, income and net saving" }
                thead { tr {
                    th scope="col" { "initiative" } th scope="col" { "saving" } th scope="col" { "cost" } th scope="col" { "income" } th scope="col" { "net saving" }
                    @for y in &years { th scope="col" { "saving " (y) } }
                } }
                tbody {
                    @for i in &r.initiatives {
                        tr {
                            th scope="row" { (i.name) @if i.needs_schools_forum_approval { " (needs Schools Forum approval)" } }
                            td class="saving" data-pence=(i.saving.pence()) { (i.saving) }
                            td data-pence=(i.cost.pence()) { (i.cost) }
                            td data-pence=(i.income.pence()) { (i.income) }
                            td data-pence=(i.net_saving.pence()) { (i.net_saving) }
                            @for (_, p) in &i.saving_by_financial_year { td data-pence=(p.pence()) { (p) } }
                        }
                    }
                }
                tfoot { tr {
                    th scope="row" { "total saving" }
                    td id="total-saving" data-pence=(r.total_saving.pence()) { (r.total_saving) }
                } }
            }
        }
    }
}

fn balance(y: Option<highneeds_domain::FinancialYear>) -> String {
    y.map_or("not within the forecast".into(), |y| y.to_string())
}

fn target_section(r: &ScenarioResult) -> Markup {
    html! {
        dl class="target" {
            dt { "First year in balance with the plan (mean)" } dd id="balance-year" { (balance(r.mitigated.balance_financial_year)) }
            dt { "Without the plan" } dd id="balance-year-unmitigated" { (balance(r.unmitigated.balance_financial_year)) }
            dt { "Probability of an in-year balance in " (r.target) } dd id="p-balanced" { (pct(r.mitigated.probability_balanced_by_target)) }
            dt { "Probability the cumulative deficit is cleared by the end of " (r.target) } dd id="p-cleared" { (pct(r.mitigated.probability_deficit_cleared_by_target)) }
            dt { "In-year gap in " (r.target) " (mean; negative is a surplus)" } dd id="target-gap" { (pounds(r.mitigated.target_gap.0)) }
            dt { "Total saving over the forecast" } dd id="total-saving-summary" { (r.total_saving) }
        }
        p class="note" { "Probabilities here are the analytic engine's normal approximation; the Monte-Carlo engine (" code { "highneeds scenario run NAME --engine monte-carlo" } ") gives the simulated ones." }
    }
}

fn sufficiency_section(r: &ScenarioResult) -> Markup {
    if r.first_shortfall.is_empty() {
        return html! { p { "No places are set for any setting (no capacity lever and no places in the assumptions): nothing to compare demand with." } };
    }
    let first: Vec<Vec<String>> = r
        .first_shortfall
        .iter()
        .map(|(s, y)| vec![s.clone(), y.map_or("none".into(), |c| c.to_string())])
        .collect();
    let rows: Vec<Vec<String>> = r
        .sufficiency
        .iter()
        .map(|s| {
            vec![
                s.setting.clone(),
                s.census_year.to_string(),
                format!("{:.1}", s.demand),
                s.places.to_string(),
                if s.demand > s.places as f64 + 0.5 {
                    "shortfall".into()
                } else {
                    "".into()
                },
            ]
        })
        .collect();
    html! {
        (table("shortfall-table", &format!("First census where demand exceeds places ({} years ahead)", r.sufficiency_years), &heads(&["setting", "first shortfall"]), &first, None))
        (table("sufficiency-table", "Demand (plans with the plan, mean) against places by setting and census", &heads(&["setting", "census", "demand", "places", ""]), &rows, None))
    }
}

/// One what-if control: lever (i, j), the figure it moves and how.
struct Control {
    i: usize,
    j: usize,
    field: &'static str,
    /// `value` (the figure itself), `scale` (× every amount of the lever) or `month` (YYYY-MM).
    how: &'static str,
    label: String,
    min: f64,
    max: f64,
    step: f64,
    value: f64,
    unit: &'static str,
}

/// A figure a what-if control moves, before it is put on a lever: the field, how it moves, its range and unit.
struct LeverFigure {
    field: &'static str,
    /// `value` (the figure itself), `scale` (× every amount of the lever) or `month` (YYYY-MM).
    how: &'static str,
    /// What the control's label says after the lever's name.
    what: &'static str,
    min: f64,
    max: f64,
    step: f64,
    value: f64,
    unit: &'static str,
}

/// The main figure of a lever by its kind: the change in a rate or cost, the share redirected, the places, or a scale.
fn lever_main_figure(kind: &LeverKind) -> LeverFigure {
    match kind {
        LeverKind::JoinerRate { change, .. }
        | LeverKind::LeaverRate { change, .. }
        | LeverKind::UnitCost { change, .. } => {
            let v = change.get();
            LeverFigure {
                field: "change",
                how: "value",
                what: "change",
                min: v.min(-0.5),
                max: v.max(0.5),
                step: 0.01,
                value: v,
                unit: "%",
            }
        }
        LeverKind::Redirect { share, .. } => LeverFigure {
            field: "share",
            how: "value",
            what: "share redirected",
            min: 0.0,
            max: 1.0,
            step: 0.01,
            value: share.get(),
            unit: "%",
        },
        LeverKind::Capacity { places, .. } => {
            let p = *places as f64;
            LeverFigure {
                field: "places",
                how: "value",
                what: "places",
                min: p.min(0.0),
                max: (p * 3.0).max(100.0),
                step: 1.0,
                value: p,
                unit: "places",
            }
        }
        LeverKind::BlockTransfer { .. }
        | LeverKind::Grant { .. }
        | LeverKind::DeficitContribution { .. } => {
            planned_share_figure("amount", "amount, share of the planned amounts")
        }
        LeverKind::InvestToSave => planned_share_figure("cost", "cost, share of the planned costs"),
    }
}

/// A scale on every planned amount (or cost) of a lever, from none to twice the plan, starting at the plan.
fn planned_share_figure(field: &'static str, what: &'static str) -> LeverFigure {
    LeverFigure {
        field,
        how: "scale",
        what,
        min: 0.0,
        max: 2.0,
        step: 0.05,
        value: 1.0,
        unit: "%",
    }
}

/// The start month of a lever that does not always apply (an invest-to-save lever has none to move).
fn lever_start_figure(lever: &highneeds_domain::scenario::Lever) -> Option<LeverFigure> {
    if lever.timing == highneeds_domain::scenario::Timing::ALWAYS
        || matches!(lever.kind, LeverKind::InvestToSave)
    {
        return None;
    }
    let st = lever.timing.start;
    Some(LeverFigure {
        field: "start",
        how: "month",
        what: "start",
        min: 0.0,
        max: 0.0,
        step: 0.0,
        value: f64::from(st.year()) * 100.0 + f64::from(st.month()),
        unit: "",
    })
}

/// Every what-if control of a scenario, initiative by initiative and lever by lever: the main figure, then the start.
fn controls(s: &highneeds_domain::scenario::Scenario) -> Vec<Control> {
    let mut out = Vec::new();
    for (i, ini) in s.initiatives.iter().enumerate() {
        for (j, lever) in ini.levers.iter().enumerate() {
            let figures =
                std::iter::once(lever_main_figure(&lever.kind)).chain(lever_start_figure(lever));
            out.extend(figures.map(|f| Control {
                i,
                j,
                field: f.field,
                how: f.how,
                label: format!(
                    "{}: lever {} ({}) {}",
                    ini.name,
                    j + 1,
                    lever.kind.code(),
                    f.what
                ),
                min: f.min,
                max: f.max,
                step: f.step,
                value: f.value,
                unit: f.unit,
            }));
        }
    }
    out
}

fn what_if(caller: &Caller, s: &highneeds_domain::scenario::Scenario) -> Markup {
    let controls = controls(s);
    html! {
        section aria-labelledby="whatif-h" {
            h2 id="whatif-h" { "What if" }
            p { "Move a lever's figure: the chart, the ledger and the target check redraw from the analytic engine without reloading the page; the savings by initiative follow when you stop. Nothing is stored until you save." }
            form id="whatif" class="whatif" method="post" action="/scenarios/save" data-scenario=(scenario_to_json(s)) data-csrf=(caller.csrf()) {
                input type="hidden" name="csrf" value=(caller.csrf());
                input type="hidden" name="json" id="whatif-json" value="";
                @for (k, c) in controls.iter().enumerate() {
                    div class="control" {
                        label for=(format!("lever-{k}")) { (c.label) }
                        @if c.how == "month" {
                            input type="month" id=(format!("lever-{k}")) data-i=(c.i) data-j=(c.j) data-field=(c.field) data-how=(c.how)
                                value=(format!("{:04}-{:02}", (c.value / 100.0).floor() as i64, (c.value as i64) % 100));
                        } @else {
                            input type="range" id=(format!("lever-{k}")) data-i=(c.i) data-j=(c.j) data-field=(c.field) data-how=(c.how) data-unit=(c.unit)
                                min=(c.min) max=(c.max) step=(c.step) value=(c.value)
                                aria-valuetext=(if c.unit == "%" { format!("{:.0} %", c.value * 100.0) } else { format!("{} {}", c.value, c.unit) });
                            output for=(format!("lever-{k}")) id=(format!("lever-{k}-out")) {
                                (if c.unit == "%" { format!("{:.0} %", c.value * 100.0) } else { format!("{} {}", c.value, c.unit) })
                            }
                        }
                    }
                }
                p id="whatif-status" role="status" aria-live="polite" { }
                button type="submit" id="whatif-save" { "Save these figures as a new version" }
            }
        }
    }
}

async fn show(
    state: &Shared,
    caller: &Caller,
    name: &str,
    version: Option<i64>,
) -> Result<Response, AppError> {
    let versions = state.store.scenario_versions(&state.la_code, name).await?;
    let Some(pick) = chosen_version(&versions, version) else {
        return Ok(not_found(state, caller, &no_such_scenario(name, version)));
    };
    let run = workspace::stored_run(state, &pick.name, pick.version, &pick.body).await?;
    let (_, data) = workspace::data(state).await?;
    let (_, parsed) = highneeds_usecases::scenario::read_text("stored", &pick.body, &data);
    let simulation = crate::simulation::shown(state, &pick.name, pick.version).await?;
    let content = html! {
        (version_summary(caller, name, pick, &versions))
        @match run.as_ref() {
            Err(why) => { p class="note" role="alert" { "This version could not be run: " (why) } }
            Ok(r) => { (run_sections(caller, pick, r, parsed.as_ref(), &simulation)) }
        }
        (versions_section(&versions))
        script src="/assets/workspace.js" defer {}
    };
    Ok(page(
        &format!("Scenario: {}", pick.name),
        Some(caller),
        &state.la_name,
        content,
    )
    .into_response())
}

/// The scenario version asked for, or the latest when none is given.
fn chosen_version(versions: &[ScenarioVersion], version: Option<i64>) -> Option<&ScenarioVersion> {
    match version {
        Some(v) => versions.iter().find(|x| x.version == v),
        None => versions.last(),
    }
}

/// The message shown when the scenario (or its version) is not stored.
fn no_such_scenario(name: &str, version: Option<i64>) -> String {
    format!(
        "There is no stored scenario {name:?}{}.",
        version.map_or(String::new(), |v| format!(" version {v}"))
    )
}

/// Which version this is, who saved it and when, with its download, edit and copy links.
fn version_summary(
    caller: &Caller,
    name: &str,
    pick: &ScenarioVersion,
    versions: &[ScenarioVersion],
) -> Markup {
    let latest = versions.last().map_or(0, |v| v.version);
    let q = enc(name);
    html! {
        p { "Version " (pick.version) " of " (versions.len()) ", saved " (pick.saved_at) " by " (pick.saved_by) "."
            @if pick.version != latest { " " strong { "This is not the latest version." } } }
        p class="actions" {
            a href=(format!("/scenarios/export?name={q}&version={}", pick.version)) download { "Download this version (TOML)" }
            @if officer(caller) {
                " · " a href=(format!("/scenarios/form?name={q}&version={}", pick.version)) { "Edit" }
                " (" a href=(format!("/scenarios/edit?name={q}&version={}", pick.version)) { "as TOML" } ")"
                " · " a href=(format!("/scenarios/form?copy={q}&version={}", pick.version)) { "Copy" }
            }
        }
    }
}

/// A run scenario's description, target check, simulation, what-if, ledger, savings, sufficiency and notes.
fn run_sections(
    caller: &Caller,
    pick: &ScenarioVersion,
    r: &ScenarioResult,
    parsed: Option<&highneeds_domain::scenario::Scenario>,
    simulation: &crate::simulation::Shown,
) -> Markup {
    html! {
        @if let Some(d) = parsed.map(|s| s.description.clone()).filter(|d| !d.is_empty()) { p { (d) } }
        section aria-labelledby="target-h" {
            h2 id="target-h" { "Target check: an in-year balance by " (r.target) }
            (target_section(r))
        }
        (crate::simulation::section(caller, &pick.name, pick.version, simulation))
        @if officer(caller) { @if let Some(s) = parsed { (what_if(caller, s)) } }
        section aria-labelledby="ledger-h" {
            h2 id="ledger-h" { "DSG high needs ledger" }
            (ledger_chart("ledger-chart", &[("in-year without the plan", "unmitigated", in_year_points(&r.unmitigated.ledger)), ("in-year with the plan", "mitigated", in_year_points(&r.mitigated.ledger))]))
            (table("ledger-table", "DSG high needs ledger by financial year (£m, means; negative is a deficit)", &heads(&LEDGER_HEAD), &ledger_rows(r), None))
        }
        section aria-labelledby="savings-h" {
            h2 id="savings-h" { "Savings by initiative" }
            div id="savings" { (savings_table(r)) }
        }
        section aria-labelledby="sufficiency-h" {
            h2 id="sufficiency-h" { "Sufficiency: demand against places" }
            (sufficiency_section(r))
        }
        @if !r.notes.is_empty() { section aria-labelledby="notes-h" { h2 id="notes-h" { "Notes" } ul { @for n in &r.notes { li { (n) } } } } }
    }
}

/// Every saved version of the scenario, newest first.
fn versions_section(versions: &[ScenarioVersion]) -> Markup {
    let version_rows: Vec<Vec<String>> = versions
        .iter()
        .rev()
        .map(|v| {
            vec![
                v.version.to_string(),
                v.saved_at.clone(),
                v.saved_by.clone(),
            ]
        })
        .collect();
    html! {
        section aria-labelledby="versions-h" {
            h2 id="versions-h" { "Versions" }
            (table("versions-table", "Every saved version, newest first", &heads(&["version", "saved (UTC)", "by"]), &version_rows, None))
        }
    }
}

/// Replace a TOML scenario's top-level `name = "…"` (the first one before any table).
fn renamed(text: &str, name: &str) -> String {
    let mut done = false;
    let mut out = String::with_capacity(text.len() + name.len());
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with('[') {
            done = true;
        }
        if !done && t.starts_with("name") && t[4..].trim_start().starts_with('=') {
            out.push_str(&format!("name = {}\n", json!(name)));
            done = true;
        } else {
            out.push_str(line);
        }
    }
    out
}

fn edit_page(
    state: &Shared,
    caller: &Caller,
    title: &str,
    text: &str,
    issues: &[String],
) -> Markup {
    page(
        title,
        Some(caller),
        &state.la_name,
        html! {
            @if !issues.is_empty() {
                div role="alert" {
                    p { "Not saved: the scenario has errors. Each names the line, the initiative and the field:" }
                    ul class="issues" id="scenario-issues" { @for i in issues { li { code { (i) } } } }
                }
            }
            p { "The scenario as its TOML file: every lever kind (joiner and leaver rates, redirection, places, unit costs, block transfers, grants, deficit contributions, invest-to-save costs) is written as in the " a href="/scenarios/export" download { "commented template" } ". Saving checks it against the LA's needs and settings and stores it as a new version; nothing is stored if it has an error." }
            form method="post" action="/scenarios/save" class="stack" {
                input type="hidden" name="csrf" value=(caller.csrf());
                label for="toml" { "Scenario (TOML)" }
                textarea id="toml" name="toml" rows="30" cols="100" spellcheck="false" { (text) }
                button type="submit" { "Check and save" }
            }
        },
    )
}

/// A stored version of a scenario to edit or copy (the latest without `version`), or the page saying there is none.
pub(crate) async fn stored_version(
    state: &Shared,
    caller: &Caller,
    name: &str,
    version: Option<i64>,
) -> Result<Result<highneeds_store::ScenarioVersion, Response>, AppError> {
    let versions = state.store.scenario_versions(&state.la_code, name).await?;
    let pick = match version {
        Some(v) => versions.into_iter().find(|x| x.version == v),
        None => versions.into_iter().last(),
    };
    Ok(pick.ok_or_else(|| {
        not_found(
            state,
            caller,
            &format!("There is no stored scenario {name:?}."),
        )
    }))
}

/// `GET /scenarios/edit`: a new scenario (the template), `?name=N[&version=V]` to edit, `?copy=N` to copy.
pub async fn edit(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<Pick>,
) -> Result<Response, AppError> {
    let Some(source) = q.name.as_ref().or(q.copy.as_ref()) else {
        return Ok(edit_page(&state, &caller, "New scenario", TEMPLATE, &[]).into_response());
    };
    let pick = match stored_version(&state, &caller, source, q.version).await? {
        Ok(pick) => pick,
        Err(not_found) => return Ok(not_found),
    };
    Ok(match &q.copy {
        Some(c) => edit_page(
            &state,
            &caller,
            &format!("Copy of {c}"),
            &renamed(&pick.body, &format!("Copy of {c}")),
            &[],
        ),
        None => edit_page(&state, &caller, &format!("Edit {source}"), &pick.body, &[]),
    }
    .into_response())
}

#[derive(Deserialize)]
pub struct SaveForm {
    toml: Option<String>,
    json: Option<String>,
}

/// Check a scenario's text and store it as a new version (audited); refused: the form again with every issue.
async fn save_text(
    state: &Shared,
    caller: &Caller,
    label: &str,
    text: &str,
) -> Result<Response, AppError> {
    let refuse = |issues: Vec<String>| {
        let shown = if label.ends_with(".json") {
            String::new()
        } else {
            text.to_string()
        };
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            edit_page(state, caller, "Scenario not saved", &shown, &issues),
        )
            .into_response()
    };
    if text.len() > highneeds_ingest::scenario::MAX_SCENARIO_BYTES {
        return Ok(refuse(vec![format!(
            "{label}: a scenario file may be at most {} bytes",
            highneeds_ingest::scenario::MAX_SCENARIO_BYTES
        )]));
    }
    let (_, data) = workspace::data(state).await?;
    let (issues, scenario) = highneeds_usecases::scenario::read_text(label, text, &data);
    let Some(scenario) = scenario else {
        return Ok(refuse(workspace::errors(&issues)));
    };
    if let Some(why) = highneeds_usecases::scenario::target_refusal(&data, &scenario, label, text) {
        return Ok(refuse(vec![why]));
    }
    if scenario.la.as_ref().is_some_and(|la| *la != state.la_code) {
        return Ok(refuse(vec![format!(
            "{label}: column la: {:?} is another LA's code (this is {})",
            scenario.la.as_deref().unwrap_or(""),
            state.la_code
        )]));
    }
    let body = if label.ends_with(".json") {
        scenario_to_toml(&scenario)
    } else {
        text.to_string()
    };
    store_version(state, caller, &scenario.name, &body).await
}

/// Store a checked scenario's text as a new version of `name` (audited) and go to its page.
pub(crate) async fn store_version(
    state: &Shared,
    caller: &Caller,
    name: &str,
    body: &str,
) -> Result<Response, AppError> {
    let version = state
        .store
        .save_scenario(&state.la_code, name, body, &caller.actor())
        .await?;
    state
        .store
        .audit(
            &state.la_code,
            &caller.actor(),
            "scenario saved",
            &format!("{name} version {version}"),
        )
        .await?;
    Ok(Redirect::to(&format!("/scenarios?name={}", enc(name))).into_response())
}

/// `POST /scenarios/save` (officers): `toml` (the edit form) or `json` (the what-if's figures).
pub async fn save(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Form(form): Form<SaveForm>,
) -> Result<Response, AppError> {
    match (form.json.filter(|j| !j.is_empty()), form.toml) {
        (Some(json), _) => save_text(&state, &caller, "what-if.json", &json).await,
        (None, Some(toml)) => save_text(&state, &caller, "scenario.toml", &toml).await,
        (None, None) => save_text(&state, &caller, "scenario.toml", "").await,
    }
}

/// `POST /scenarios/import` (officers): a scenario file uploaded (multipart, CSRF token in the query).
pub async fn import(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| anyhow::anyhow!("upload: {e}"))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let name = field
            .file_name()
            .unwrap_or("scenario.toml")
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or("scenario.toml")
            .to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| anyhow::anyhow!("upload: {e}"))?;
        let Ok(text) = String::from_utf8(bytes.to_vec()) else {
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                edit_page(
                    &state,
                    &caller,
                    "Scenario not saved",
                    "",
                    &[format!("{name}: not UTF-8 text")],
                ),
            )
                .into_response());
        };
        return save_text(&state, &caller, &name, &text).await;
    }
    Ok((
        StatusCode::BAD_REQUEST,
        edit_page(
            &state,
            &caller,
            "Scenario not saved",
            "",
            &["Choose a scenario file to import.".to_string()],
        ),
    )
        .into_response())
}

/// `GET /scenarios/export?name=N[&version=V]`: a stored version as its TOML file (audited); no name: the template.
pub async fn export(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<Pick>,
) -> Result<Response, AppError> {
    let (file, body) = match &q.name {
        None => ("scenario-template.toml".to_string(), TEMPLATE.to_string()),
        Some(name) => {
            let versions = state.store.scenario_versions(&state.la_code, name).await?;
            let Some(pick) = (match q.version {
                Some(v) => versions.iter().find(|x| x.version == v),
                None => versions.last(),
            }) else {
                return Ok(not_found(
                    &state,
                    &caller,
                    &format!("There is no stored scenario {name:?}."),
                ));
            };
            state
                .store
                .audit(
                    &state.la_code,
                    &caller.actor(),
                    "export",
                    &format!("scenario {} version {}", pick.name, pick.version),
                )
                .await?;
            let safe: String = pick
                .name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            (format!("{safe}-v{}.toml", pick.version), pick.body.clone())
        }
    };
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/toml; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// One ledger line by financial year: the unmitigated forecast's, then each scenario's (matched by year: scenarios
/// may project different years; "-" where one does not reach a year).
fn ledger_side_by_side(
    runs: &[ScenarioResult],
    line: impl Fn(&LedgerYear) -> Pence,
) -> Vec<Vec<String>> {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    first
        .unmitigated
        .ledger
        .iter()
        .map(|u| {
            let mut row = vec![u.financial_year.to_string(), m(line(u))];
            row.extend(runs.iter().map(|r| {
                r.mitigated
                    .ledger
                    .iter()
                    .find(|x| x.financial_year == u.financial_year)
                    .map_or("-".into(), |x| m(line(x)))
            }));
            row
        })
        .collect()
}

/// The scenario names a comparison asks for (`name=`, in order), at most eight.
fn compared_names(raw: Option<String>) -> Vec<String> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == "name")
        .map(|(_, v)| v.into_owned())
        .take(8)
        .collect()
}

/// Each named scenario's latest version, run; or the page saying one is not stored or could not be run.
async fn latest_runs(
    state: &Shared,
    caller: &Caller,
    names: &[String],
) -> Result<Result<Vec<ScenarioResult>, Response>, AppError> {
    let mut runs = Vec::new();
    for name in names {
        let versions = state.store.scenario_versions(&state.la_code, name).await?;
        let Some(latest) = versions.last() else {
            return Ok(Err(not_found(
                state,
                caller,
                &format!("There is no stored scenario {name:?}."),
            )));
        };
        let run = workspace::stored_run(state, &latest.name, latest.version, &latest.body).await?;
        match run.as_ref() {
            Ok(r) => runs.push(r.clone()),
            Err(why) => {
                return Ok(Err(page(
                    "Side by side",
                    Some(caller),
                    &state.la_name,
                    html! { p role="alert" { (name) " could not be run: " (why) } },
                )
                .into_response()))
            }
        }
    }
    Ok(Ok(runs))
}

/// The note that "without any plan" is the first scenario's forecast, when others assume other figures.
fn other_assumptions_note(runs: &[ScenarioResult]) -> Markup {
    // "Without any plan" is the first scenario's unmitigated forecast; a scenario assuming other figures
    // (uplift, allocation growth, horizon) has its own, and the page says which.
    let first_in_year = in_year_points(&runs[0].unmitigated.ledger);
    let other_assumptions: Vec<&str> = runs
        .iter()
        .skip(1)
        .filter(|r| in_year_points(&r.unmitigated.ledger) != first_in_year)
        .map(|r| r.scenario.as_str())
        .collect();
    html! {
        @if !other_assumptions.is_empty() {
            p class="note" id="compare-assumptions" {
                "\"Without any plan\" is " (runs[0].scenario) "'s forecast without its initiatives. "
                (other_assumptions.join(", ")) (if other_assumptions.len() == 1 { " assumes" } else { " assume" })
                " other figures (uplift, allocation growth or horizon), so " (if other_assumptions.len() == 1 { "its" } else { "their" })
                " own positions without a plan differ: see " (if other_assumptions.len() == 1 { "its page" } else { "their pages" }) "."
            }
        }
    }
}

/// The comparison chart: the in-year position without any plan, then with each scenario, one line each.
fn comparison_chart(runs: &[ScenarioResult]) -> Markup {
    let classes = [
        "mitigated",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
    ];
    let mut series = vec![(
        "without any plan".to_string(),
        "unmitigated",
        in_year_points(&runs[0].unmitigated.ledger),
    )];
    for (k, r) in runs.iter().enumerate() {
        series.push((
            r.scenario.clone(),
            classes[k % classes.len()],
            in_year_points(&r.mitigated.ledger),
        ));
    }
    let series_ref: Vec<ChartLine> = series
        .iter()
        .map(|(l, c, p)| (l.as_str(), *c, p.clone()))
        .collect();
    ledger_chart("compare-chart", &series_ref)
}

/// The in-year and cumulative position tables by financial year, without any plan and with each scenario.
fn position_comparison_tables(runs: &[ScenarioResult]) -> Markup {
    let mut head = vec!["financial year".to_string(), "without any plan".to_string()];
    head.extend(runs.iter().map(|r| r.scenario.clone()));
    let rows = ledger_side_by_side(runs, |y| y.in_year);
    // The cumulative position (closing balance), side by side like the in-year position.
    let closing_rows = ledger_side_by_side(runs, |y| y.closing);
    html! {
        (table("compare-table", "In-year position by financial year (£m, means; negative is a deficit)", &head, &rows, None))
        (table("compare-cumulative", "Cumulative position at each financial year's end (£m, means; negative is a deficit)", &head, &closing_rows, None))
    }
}

/// The EHC plans table by January census, without any plan and with each scenario ("-" where one does not reach).
fn plans_comparison_table(runs: &[ScenarioResult]) -> Markup {
    let mut plans_head = vec![
        "census (January)".to_string(),
        "without any plan".to_string(),
    ];
    plans_head.extend(runs.iter().map(|r| r.scenario.clone()));
    let plans_rows: Vec<Vec<String>> = runs[0]
        .unmitigated
        .forecast
        .census_years
        .iter()
        .map(|u| {
            let mut row = vec![
                u.census_year.year().to_string(),
                format!("{:.0}", u.total.mean),
            ];
            row.extend(runs.iter().map(|r| {
                r.mitigated
                    .forecast
                    .census_years
                    .iter()
                    .find(|c| c.census_year == u.census_year)
                    .map_or("-".into(), |c| format!("{:.0}", c.total.mean))
            }));
            row
        })
        .collect();
    table(
        "compare-plans",
        "EHC plans at each January census (means)",
        &plans_head,
        &plans_rows,
        None,
    )
}

/// The summary table: each scenario's total saving, first financial year in balance and probability of balance.
fn scenario_summary_table(runs: &[ScenarioResult]) -> Markup {
    let summary: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            vec![
                r.scenario.clone(),
                m(r.total_saving),
                balance(r.mitigated.balance_financial_year),
                pct(r.mitigated.probability_balanced_by_target),
            ]
        })
        .collect();
    html! {
        (table("compare-summary", "Each scenario's total saving, first year in balance and probability of balance in its target year", &heads(&["scenario", "total saving", "first year in balance", "probability of balance"]), &summary, None))
    }
}

/// `GET /scenarios/compare?name=A&name=B`: the unmitigated forecast and each scenario's in-year position on one
/// chart and one table.
pub async fn compare(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    raw: axum::extract::RawQuery,
) -> Result<Response, AppError> {
    let names = compared_names(raw.0);
    if names.is_empty() {
        return Ok(page("Side by side", Some(&caller), &state.la_name, html! {
            p { "Choose two or more scenarios on the " a href="/scenarios" { "scenarios page" } " to see them side by side." }
        }).into_response());
    }
    let runs = match latest_runs(&state, &caller, &names).await? {
        Ok(runs) => runs,
        Err(refused) => return Ok(refused),
    };
    Ok(page(
        "Side by side",
        Some(&caller),
        &state.la_name,
        html! {
            (other_assumptions_note(&runs))
            (comparison_chart(&runs))
            (position_comparison_tables(&runs))
            (plans_comparison_table(&runs))
            (scenario_summary_table(&runs))
        },
    )
    .into_response())
}

/// `GET /api/v1/scenarios`: the stored scenarios and every version (who, when).
pub async fn api_list(State(state): State<Shared>) -> Result<Json<serde_json::Value>, AppError> {
    let mut out = Vec::new();
    for s in state.store.scenarios(&state.la_code).await? {
        let versions = state
            .store
            .scenario_versions(&state.la_code, &s.name)
            .await?;
        out.push(json!({
            "name": s.name,
            "versions": versions.iter().map(|v| json!({"version": v.version, "saved_at": v.saved_at, "saved_by": v.saved_by})).collect::<Vec<_>>(),
        }));
    }
    Ok(Json(json!(out)))
}

/// `GET /assets/workspace.js`: the live what-if, shipped in the binary.
pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/workspace.js"),
    )
}
