//! Signing in and out. The sign-in form carries a CSRF token bound to a cookie set with the form (a signed
//! double-submit); sign-ins are throttled per username and audited, successes and failures alike.

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use axum_extra::extract::cookie::{Cookie, SameSite};
use axum_extra::extract::CookieJar;
use chrono::{Duration, SecondsFormat, Utc};
use highneeds_store::User;
use maud::html;
use serde::Deserialize;

use crate::auth::{login_csrf, random_hex, same_secret, token_hash, verify_password};
use crate::caller::{Caller, Via, SESSION_COOKIE};
use crate::views::{page, AppError};
use crate::Shared;

const LOGIN_COOKIE: &str = "hn_login";
/// How long a session lasts.
pub const SESSION_HOURS: i64 = 8;

fn cookie(
    state: &Shared,
    name: &'static str,
    value: String,
    max_age_seconds: i64,
) -> Cookie<'static> {
    let mut c = Cookie::new(name, value);
    c.set_http_only(true);
    c.set_secure(state.secure_cookies);
    c.set_same_site(SameSite::Strict);
    c.set_path("/");
    c.set_max_age(time::Duration::seconds(max_age_seconds));
    c
}

fn form_page(state: &Shared, csrf: &str, message: Option<&str>) -> maud::Markup {
    page(
        "Sign in",
        None,
        &state.la_name,
        html! {
            @if let Some(m) = message { p class="error" role="alert" { (m) } }
            form method="post" action="/login" class="stack" {
                input type="hidden" name="csrf" value=(csrf);
                label for="username" { "Username" }
                input id="username" name="username" type="text" autocomplete="username" required;
                label for="password" { "Password" }
                input id="password" name="password" type="password" autocomplete="current-password" required;
                button type="submit" { "Sign in" }
            }
            p { "Not signed in? The " a href="/public" { "public view" } " shows the aggregate figures." }
        },
    )
}

/// `GET /login`.
pub async fn form(State(state): State<Shared>, jar: CookieJar) -> Result<Response, AppError> {
    let (jar, value) = match jar.get(LOGIN_COOKIE) {
        Some(c) => (jar.clone(), c.value().to_string()),
        None => {
            let v = random_hex(32)?;
            (jar.add(cookie(&state, LOGIN_COOKIE, v.clone(), 3600)), v)
        }
    };
    let csrf = login_csrf(&state.server_key, &value);
    Ok((jar, form_page(&state, &csrf, None)).into_response())
}

#[derive(Deserialize)]
pub struct SignIn {
    username: Option<String>,
    password: Option<String>,
    csrf: Option<String>,
}

/// `POST /login`.
pub async fn sign_in(
    State(state): State<Shared>,
    jar: CookieJar,
    Form(form): Form<SignIn>,
) -> Result<Response, AppError> {
    let Some(expected) = checked_sign_in_csrf(&state, &jar, form.csrf.as_deref()) else {
        return Ok(crate::caller::Denied::BadCsrf.into_response());
    };
    let username = sign_in_username(form.username);
    let password = form.password.unwrap_or_default();
    if !state.throttle.allowed(&username) {
        return refuse_throttled_sign_in(&state, &username, &expected).await;
    }
    let Some(user) = active_account_matching(&state, &username, password).await? else {
        return fail_sign_in(&state, &username, &expected).await;
    };
    state.throttle.succeeded(&username);
    start_session(&state, jar, &user).await
}

/// The sign-in form's expected CSRF token, if the login cookie is present and the submitted token matches it.
fn checked_sign_in_csrf(
    state: &Shared,
    jar: &CookieJar,
    submitted: Option<&str>,
) -> Option<String> {
    let login = jar.get(LOGIN_COOKIE).map(|c| c.value().to_string())?;
    let expected = login_csrf(&state.server_key, &login);
    if !submitted.is_some_and(|c| same_secret(c, &expected)) {
        return None;
    }
    Some(expected)
}

/// The submitted username, trimmed and cut to 64 characters.
fn sign_in_username(submitted: Option<String>) -> String {
    submitted
        .unwrap_or_default()
        .trim()
        .chars()
        .take(64)
        .collect()
}

/// Audits a sign-in refused by the throttle and answers 429 with the form again.
async fn refuse_throttled_sign_in(
    state: &Shared,
    username: &str,
    expected: &str,
) -> Result<Response, AppError> {
    state
        .store
        .audit(
            &state.la_code,
            username,
            "sign-in refused",
            "too many failed attempts",
        )
        .await?;
    let body = form_page(
        state,
        expected,
        Some("Too many failed sign-ins for this name: wait 15 minutes and try again."),
    );
    Ok((StatusCode::TOO_MANY_REQUESTS, body).into_response())
}

/// The active account with this username whose password matches, checking a decoy hash when there is none.
async fn active_account_matching(
    state: &Shared,
    username: &str,
    password: String,
) -> Result<Option<User>, AppError> {
    let found = state.store.user_with_hash(&state.la_code, username).await?;
    let hash = found
        .as_ref()
        .map_or_else(|| crate::auth::decoy_hash().to_string(), |(_, h)| h.clone());
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(anyhow::Error::from)?;
    Ok(match found {
        Some((user, _)) if matches && !user.disabled => Some(user),
        _ => None,
    })
}

/// Counts a failed sign-in against the throttle, audits it and answers 401 with the form again.
async fn fail_sign_in(
    state: &Shared,
    username: &str,
    expected: &str,
) -> Result<Response, AppError> {
    state.throttle.failed(username);
    state
        .store
        .audit(
            &state.la_code,
            username,
            "sign-in failed",
            "wrong username or password, or account disabled",
        )
        .await?;
    let body = form_page(
        state,
        expected,
        Some("That username and password do not match an active account."),
    );
    Ok((StatusCode::UNAUTHORIZED, body).into_response())
}

/// Creates the signed-in account's session, audits the sign-in, swaps the login cookie for the session cookie and
/// redirects home.
async fn start_session(state: &Shared, jar: CookieJar, user: &User) -> Result<Response, AppError> {
    let token = random_hex(32)?;
    let csrf = random_hex(32)?;
    let expires =
        (Utc::now() + Duration::hours(SESSION_HOURS)).to_rfc3339_opts(SecondsFormat::Secs, true);
    state
        .store
        .create_session(user, &token_hash(&token), &csrf, &expires)
        .await?;
    state
        .store
        .audit(
            &state.la_code,
            &user.username,
            "sign in",
            &format!("role {}", user.role),
        )
        .await?;
    let jar = jar
        .remove(Cookie::build(LOGIN_COOKIE).path("/"))
        .add(cookie(state, SESSION_COOKIE, token, SESSION_HOURS * 3600));
    Ok((jar, Redirect::to("/")).into_response())
}

/// `POST /logout`.
pub async fn sign_out(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    if let Via::Session { token_hash, .. } = &caller.via {
        state.store.end_session(token_hash).await?;
        state
            .store
            .audit(&state.la_code, &caller.actor(), "sign out", "")
            .await?;
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok((jar, Redirect::to("/login")).into_response())
}
