//! Every route, with the least role it needs, in one table: the router is built from it, the guard enforces
//! it on every request, the OpenAPI document lists its API routes and the role-matrix test walks all of it.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::auth::Role;
use crate::caller::Caller;
use crate::{api, pages, Shared};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Signed in with at least this role.
    Least(Role),
}

/// One route: method, path, who may call it, whether it is part of the JSON API, and what it does.
#[derive(Debug, Clone, Copy)]
pub struct RouteInfo {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    pub api: bool,
    pub summary: &'static str,
}

const fn r(
    method: &'static str,
    path: &'static str,
    access: Access,
    api: bool,
    summary: &'static str,
) -> RouteInfo {
    RouteInfo {
        method,
        path,
        access,
        api,
        summary,
    }
}

use Access::{Least, Public};
use Role::{Admin, Analyst, Officer, Viewer};

/// The route table: every route, who may call it, and its handler. Nothing is routed that is not listed here.
#[rustfmt::skip]
fn table() -> Vec<(RouteInfo, MethodRouter<Shared>)> {
    vec![
        (r("GET", "/healthz", Public, false, "liveness: 200 when the server answers"), get(pages::healthz)),
        (r("GET", "/assets/style.css", Public, false, "the stylesheet"), get(pages::stylesheet)),
        (r("GET", "/login", Public, false, "the sign-in form"), get(pages::login::form)),
        (r("POST", "/login", Public, false, "sign in (CSRF token of the form required)"), post(pages::login::sign_in)),
        (r("GET", "/public", Public, false, "the public transparency view: aggregates, small numbers suppressed"), get(pages::public::page_handler)),
        (r("POST", "/logout", Least(Viewer), false, "sign out"), post(pages::login::sign_out)),
        (r("GET", "/", Least(Viewer), false, "overview: plans and spend, history and forecast, target check, DSG ledger"), get(pages::overview::page_handler)),
        (r("GET", "/caseload", Least(Viewer), false, "caseload explorer: by setting, need and age group, joiners and leavers"), get(pages::caseload::page_handler)),
        (r("GET", "/caseload/records", Least(Analyst), false, "person-level plan records at a census"), get(pages::caseload::records)),
        (r("GET", "/accuracy", Least(Viewer), false, "backtest of the LA's own model against naive baselines"), get(pages::accuracy::page_handler)),
        (r("GET", "/diagnose", Least(Viewer), false, "the DBV diagnostic from the published statistics (?la=CODE)"), get(pages::published::diagnose)),
        (r("GET", "/benchmark", Least(Viewer), false, "statistical neighbours from the published statistics (?la=CODE)"), get(pages::published::benchmark)),
        (r("GET", "/data", Least(Viewer), false, "imports and their validation reports"), get(pages::data::page_handler)),
        (r("POST", "/data/upload", Least(Officer), false, "import an uploaded file (all or nothing)"), post(pages::data::upload)),
        (r("GET", "/scenarios", Least(Viewer), false, "DBV scenarios: the list; ?name=N[&version=V]: one (ledger, savings, target check, sufficiency, versions; officers: live what-if)"), get(pages::scenarios::page_handler)),
        (r("GET", "/scenarios/edit", Least(Officer), false, "a new scenario (the template); ?name=N to edit, ?copy=N to copy"), get(pages::scenarios::edit)),
        (r("GET", "/scenarios/form", Least(Officer), false, "a scenario in a form, field by field, every lever kind: new (the template's example); ?name=N[&version=V] to edit, ?copy=N to copy"), get(pages::scenario_form::page_handler)),
        (r("POST", "/scenarios/form", Least(Officer), false, "the scenario form: add or remove an initiative, lever or places row (the form again), or check and save a new version (422 with each fault by its field)"), post(pages::scenario_form::submit)),
        (r("POST", "/scenarios/save", Least(Officer), false, "check a scenario (TOML, or the what-if's JSON) and store it as a new version"), post(pages::scenarios::save)),
        (r("POST", "/scenarios/import", Least(Officer), false, "import a scenario file as a new version (all or nothing)"), post(pages::scenarios::import)),
        (r("GET", "/scenarios/export", Least(Viewer), false, "a stored scenario version as its TOML file (?name=N&version=V); no name: the commented template"), get(pages::scenarios::export)),
        (r("POST", "/scenarios/simulate", Least(Officer), false, "run a stored scenario version's Monte-Carlo simulation in the background (name, version); its result is kept with the version"), post(crate::simulation::simulate)),
        (r("GET", "/scenarios/compare", Least(Viewer), false, "scenarios side by side with the unmitigated forecast (?name=A&name=B)"), get(pages::scenarios::compare)),
        (r("GET", "/assets/workspace.js", Public, false, "the scenario workspace's script (live what-if)"), get(pages::scenarios::script)),
        (r("GET", "/admin", Least(Admin), false, "accounts, API tokens and the audit log"), get(pages::admin::page_handler)),
        (r("POST", "/admin/users", Least(Admin), false, "add an account, change a role, disable or enable"), post(pages::admin::users)),
        (r("POST", "/admin/tokens/revoke", Least(Admin), false, "revoke an API token"), post(pages::admin::revoke_token)),
        (r("GET", "/export/forecast.csv", Least(Viewer), false, "the forecast table as CSV"), get(pages::export::forecast)),
        (r("GET", "/export/caseload.csv", Least(Viewer), false, "the caseload table as CSV"), get(pages::export::caseload)),
        (r("GET", "/export/ledger.csv", Least(Viewer), false, "the DSG ledger as CSV"), get(pages::export::ledger)),
        (r("GET", "/export/accuracy.csv", Least(Viewer), false, "the backtest scores as CSV"), get(pages::export::accuracy)),
        (r("GET", "/export/records.csv", Least(Analyst), false, "person-level plan records as CSV"), get(pages::export::records)),
        (r("GET", "/api/v1/openapi.json", Public, true, "this API, described (OpenAPI 3.1)"), get(api::openapi)),
        (r("GET", "/api/v1/public/caseload", Public, true, "the public view's figures: small numbers suppressed"), get(api::public_caseload)),
        (r("GET", "/api/v1/overview", Least(Viewer), true, "the overview's figures"), get(api::overview)),
        (r("GET", "/api/v1/forecast", Least(Viewer), true, "the forecast: plans by census year and cost by financial year, with intervals"), get(api::forecast)),
        (r("GET", "/api/v1/caseload", Least(Viewer), true, "plans by setting, need and age group per census; joiners and leavers"), get(api::caseload)),
        (r("GET", "/api/v1/ledger", Least(Viewer), true, "the DSG high needs ledger, in pence"), get(api::ledger)),
        (r("GET", "/api/v1/scenario", Least(Viewer), true, "the chosen scenario's target check (the latest saved scenario)"), get(api::scenario)),
        (r("GET", "/api/v1/scenarios", Least(Viewer), true, "stored scenarios with every version (who, when)"), get(pages::scenarios::api_list)),
        (r("GET", "/api/v1/scenarios/simulation", Least(Viewer), true, "a stored scenario version's Monte-Carlo simulation (?name=N&version=V): status none, running (with simulations_done of simulations_total, both sides counted), failed or done, with the result `highneeds scenario run --engine monte-carlo --format json` prints, who ran it and when; without them, every kept run (no results)"), get(crate::simulation::api_status)),
        (r("POST", "/api/v1/scenarios/preview", Least(Officer), true, "run a scenario (the TOML file's shape as JSON) on the analytic engine: what `highneeds scenario run --engine analytic --format json` prints; nothing stored; ?attribution=later leaves the savings' attribution out (pending)"), post(crate::workspace::preview)),
        (r("GET", "/api/v1/accuracy", Least(Viewer), true, "backtest scores: MAPE, bias, interval coverage"), get(api::accuracy)),
        (r("GET", "/api/v1/diagnose", Least(Viewer), true, "the DBV diagnostic of an LA (?la=CODE) from the stored published statistics"), get(api::diagnose)),
        (r("GET", "/api/v1/benchmark", Least(Viewer), true, "an LA's statistical neighbours (?la=CODE) from the stored published statistics"), get(api::benchmark)),
        (r("GET", "/api/v1/imports", Least(Viewer), true, "the import log"), get(api::imports)),
        (r("GET", "/api/v1/records", Least(Analyst), true, "person-level plan records at a census (?census=YYYY)"), get(api::records)),
        (r("GET", "/api/v1/audit", Least(Admin), true, "the audit log, newest first"), get(api::audit)),
        (r("GET", "/api/v1/users", Least(Admin), true, "accounts and their roles"), get(api::users)),
    ]
}

/// Every route (for the OpenAPI document and the role-matrix test).
pub fn routes() -> Vec<RouteInfo> {
    table().into_iter().map(|(info, _)| info).collect()
}

/// The guard in front of every route: who is calling, whether their role is enough, and for a signed-in
/// browser's state-changing request, its CSRF token (header `X-CSRF-Token`, query `csrf`, or form field
/// `csrf`). The caller is handed to the handler as a request extension.
async fn guard(
    State(state): State<Shared>,
    info: RouteInfo,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let caller = match <Caller as axum::extract::FromRequestParts<Shared>>::from_request_parts(
        &mut parts, &state,
    )
    .await
    {
        Ok(c) => c,
        Err(response) => return response,
    };
    if let Access::Least(role) = info.access {
        let allowed = if info.api {
            caller.api(role)
        } else {
            caller.page(role)
        };
        if let Err(denied) = allowed {
            return denied.into_response();
        }
    }
    let mut request = Request::from_parts(parts, body);
    if request.method() != Method::GET && info.access != Access::Public {
        let (token, rebuilt) = match csrf_token(request).await {
            Ok(pair) => pair,
            Err(response) => return response,
        };
        if let Err(denied) = caller.check_csrf(token.as_deref()) {
            return denied.into_response();
        }
        request = rebuilt;
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// Largest form body the guard reads for its CSRF field (uploads carry the token in the query string): axum's own
/// limit for a form, so a scenario form or TOML editor carrying a large plan is read whole (a bigger file is
/// imported as a file).
const FORM_LIMIT: usize = 2 * 1024 * 1024;

/// The CSRF token a request carries, and the request rebuilt (its body read if it is a form).
async fn csrf_token(request: Request) -> Result<(Option<String>, Request), Response> {
    if let Some(v) = request
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        return Ok((Some(v.to_string()), request));
    }
    let from_query = request.uri().query().and_then(|q| {
        form_urlencoded_pairs(q)
            .into_iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v)
    });
    if from_query.is_some() {
        return Ok((from_query, request));
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((None, request));
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, FORM_LIMIT).await.map_err(|_| {
        (axum::http::StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response()
    })?;
    let token = std::str::from_utf8(&bytes).ok().and_then(|s| {
        form_urlencoded_pairs(s)
            .into_iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v)
    });
    Ok((token, Request::from_parts(parts, Body::from(bytes))))
}

fn form_urlencoded_pairs(s: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(s.as_bytes()).into_owned().collect()
}

/// The Content-Security-Policy of every response: nothing but this server's own files, no inline script.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The whole application.
pub fn router(state: Shared) -> Router {
    let mut app = Router::new();
    for (info, handler) in table() {
        let route = handler.route_layer(middleware::from_fn_with_state(
            state.clone(),
            move |s, req, next| guard(s, info, req, next),
        ));
        app = app.route(info.path, route);
    }
    app.fallback(pages::not_found)
        .layer(RequestBodyLimitLayer::new(pages::data::UPLOAD_LIMIT))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .with_state(state)
}
