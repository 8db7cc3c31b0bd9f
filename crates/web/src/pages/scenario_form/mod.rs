//! The scenario form (issue #13, item 1): a scenario edited field by field, every lever kind with the fields its
//! kind takes, in a page that works without JavaScript (add and remove are buttons that post the form back).
//! Saving checks the scenario with the file's own rules (`ingest::scenario::check_scenario_shape`) and puts each
//! message by its field and in a summary at the top that links to it; nothing is stored while any is left. A saved
//! version is stored as the TOML file `scenario export` writes (the form keeps no comments: the TOML editor at
//! `/scenarios/edit` does).

mod fields;
mod render;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use highneeds_domain::FinancialYear;
use highneeds_ingest::scenario::{
    check_scenario_shape, read_scenario_toml, scenario_file, ScenarioField, ScenarioFile,
};
use highneeds_usecases::scenario::{projected_years, target_rule, LaData};

use super::scenarios::{not_found, store_version, stored_version, Pick, TEMPLATE};
use crate::caller::Caller;
use crate::views::AppError;
use crate::{workspace, Shared};
use fields::{Action, Fault};

/// What the form offers: the LA's codes and the financial years amounts are entered for.
pub struct Choices {
    pub needs: Vec<String>,
    pub settings: Vec<String>,
    /// Columns of every amount-by-year table: the year before the projection to its last, and any other year
    /// the scenario gives an amount for.
    pub years: Vec<String>,
    /// The projected financial years (where the target may be), when the LA's data says.
    pub projected: Option<(FinancialYear, FinancialYear)>,
}

impl Choices {
    fn of(data: &LaData, shape: &ScenarioFile) -> Self {
        let codes = &data.codes;
        let horizon = Some(shape.assumptions.horizon_years)
            .filter(|h| (1..=25).contains(h))
            .unwrap_or(5);
        let projected = projected_years(data, horizon);
        let mut years: std::collections::BTreeSet<String> = shape
            .initiatives
            .iter()
            .flat_map(|i| &i.levers)
            .flat_map(|l| l.cost.keys().chain(l.amount.keys()))
            // Only real years get a column (a form may send any name; the checker names the others).
            .filter(|y| y.parse::<FinancialYear>().is_ok())
            .cloned()
            .collect();
        if let Some((first, last)) = projected {
            let mut y = FinancialYear::starting(first.start_year() - 1).unwrap_or(first);
            while y <= last {
                years.insert(y.to_string());
                y = y.next();
            }
        }
        Self {
            needs: codes.needs.iter().map(ToString::to_string).collect(),
            settings: codes.settings.iter().map(ToString::to_string).collect(),
            years: years.into_iter().collect(),
            projected,
        }
    }
}

/// `GET /scenarios/form`: a new scenario (the template's), `?name=N[&version=V]` to edit, `?copy=N` to copy.
pub async fn page_handler(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<Pick>,
) -> Result<Response, AppError> {
    let (_, data) = workspace::data(&state).await?;
    let Some(source) = q.name.as_ref().or(q.copy.as_ref()) else {
        let shape = new_scenario(&data);
        let choices = Choices::of(&data, &shape);
        return Ok(
            render::page(&state, &caller, "New scenario", &shape, &[], &choices).into_response(),
        );
    };
    let pick = match stored_version(&state, &caller, source, q.version).await? {
        Ok(pick) => pick,
        Err(not_found) => return Ok(not_found),
    };
    let label = format!("{source} (stored version {})", pick.version);
    let Some(mut shape) = read_scenario_toml(&label, &pick.body, None)
        .value
        .map(|s| scenario_file(&s))
    else {
        return Ok(not_found(
            &state,
            &caller,
            &format!("Stored scenario {source:?} version {} cannot be read as a scenario: edit it as its TOML file.", pick.version),
        ));
    };
    let title = match &q.copy {
        Some(c) => {
            shape.name = format!("Copy of {c}");
            format!("Copy of {c}")
        }
        None => format!("Edit {source}"),
    };
    let choices = Choices::of(&data, &shape);
    Ok(render::page(&state, &caller, &title, &shape, &[], &choices).into_response())
}

/// The commented template's scenario, its target moved into this LA's projected years when it is outside them.
fn new_scenario(data: &LaData) -> ScenarioFile {
    let mut shape = read_scenario_toml("template", TEMPLATE, None)
        .value
        .map(|s| scenario_file(&s))
        .unwrap_or_default();
    shape.name = "New scenario".into();
    let target = shape
        .assumptions
        .target_financial_year
        .parse::<FinancialYear>()
        .ok();
    if let Some((first, last)) = projected_years(data, shape.assumptions.horizon_years) {
        if target.is_none_or(|t| t < first || t > last) {
            shape.assumptions.target_financial_year = last.to_string();
        }
    }
    shape
}

/// `POST /scenarios/form` (officers): an add or remove button shows the form again changed; save checks the
/// scenario and stores it as a new version, or shows the form again with every fault by its field (422).
pub async fn submit(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Form(sent): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    if sent.len() > fields::MAX_FIELDS {
        let body = crate::views::page(
            "Scenario not saved",
            Some(&caller),
            &state.la_name,
            maud::html! { p role="alert" { "The form sent " (sent.len()) " fields; a scenario form has at most " (fields::MAX_FIELDS) ". Nothing was read or stored." } },
        );
        return Ok((StatusCode::PAYLOAD_TOO_LARGE, body).into_response());
    }
    let fields::Sent {
        mut shape,
        mut faults,
        action,
        new_kind,
    } = fields::read(&sent);
    let (_, data) = workspace::data(&state).await?;
    if action != Action::Save {
        fields::apply(&mut shape, action, new_kind.as_deref());
        let choices = Choices::of(&data, &shape);
        let title = title_of(&shape);
        return Ok(
            render::page(&state, &caller, &title, &shape, &faults, &choices).into_response(),
        );
    }
    let scenario = check(&state, &data, &shape, &mut faults);
    match scenario {
        Some(scenario) if faults.is_empty() => {
            let body = highneeds_ingest::scenario::scenario_to_toml(&scenario);
            store_version(&state, &caller, &scenario.name, &body).await
        }
        _ => {
            let choices = Choices::of(&data, &shape);
            let body = render::page(
                &state,
                &caller,
                "Scenario not saved",
                &shape,
                &faults,
                &choices,
            );
            Ok((StatusCode::UNPROCESSABLE_ENTITY, body).into_response())
        }
    }
}

/// The title of the form shown again after a button (the name may not be stored yet, so no "Edit").
fn title_of(shape: &ScenarioFile) -> String {
    if shape.name.trim().is_empty() {
        "New scenario".into()
    } else {
        format!("Scenario: {}", shape.name.trim())
    }
}

/// The file's checks on the form's scenario, then this LA's (target in the projected years, the LA's own code):
/// every fault added, with its field. A field whose value could not be read keeps that fault only.
fn check(
    state: &Shared,
    data: &LaData,
    shape: &ScenarioFile,
    faults: &mut Vec<Fault>,
) -> Option<highneeds_domain::scenario::Scenario> {
    let (parsed, places) = check_scenario_shape("form", shape, Some(&data.codes));
    let unread: Vec<ScenarioField> = faults.iter().map(|f| f.0).collect();
    for (issue, place) in parsed.issues.iter().zip(places) {
        if issue.is_error() && !unread.contains(&place) {
            let rule = match &issue.value {
                Some(v) => format!("{v:?}: {}", issue.rule),
                None => issue.rule.clone(),
            };
            faults.push((place, rule));
        }
    }
    let scenario = parsed.value?;
    if let Some(rule) = target_rule(data, &scenario) {
        faults.push((ScenarioField::Assumption("target_financial_year"), rule));
    }
    if let Some(la) = scenario.la.as_ref().filter(|la| **la != state.la_code) {
        faults.push((
            ScenarioField::Top("la"),
            format!("{la:?} is another LA's code (this is {})", state.la_code),
        ));
    }
    Some(scenario)
}
