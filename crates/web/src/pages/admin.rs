//! `GET /admin` (admins): accounts, API tokens and the audit log; `POST /admin/users` and
//! `POST /admin/tokens/revoke` change them (each change audited by `crate::accounts`).

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use highneeds_store::{ApiToken, AuditEntry, User};
use maud::{html, Markup};
use serde::Deserialize;

use crate::accounts;
use crate::auth::Role;
use crate::caller::Caller;
use crate::views::{page, table, AppError};
use crate::Shared;

pub async fn page_handler(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
) -> Result<Markup, AppError> {
    let users = state.store.users(&state.la_code).await?;
    let tokens = state.store.api_tokens(&state.la_code).await?;
    let audit = state.store.audit_log(&state.la_code, 200).await?;
    let csrf = caller.csrf().to_string();
    let content = html! {
        (accounts_section(&users, &csrf))
        (tokens_section(&tokens, &csrf))
        (audit_log_section(&audit))
    };
    Ok(page("Admin", Some(&caller), &state.la_name, content))
}

/// A table's column headings as owned strings.
fn column_heads(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect::<Vec<_>>()
}

/// One row per account: username, role, status and when it was made.
fn account_rows(users: &[User]) -> Vec<Vec<String>> {
    users
        .iter()
        .map(|u| {
            vec![
                u.username.clone(),
                u.role.clone(),
                if u.disabled {
                    "disabled".into()
                } else {
                    "active".into()
                },
                u.created_at.clone(),
            ]
        })
        .collect()
}

/// One row per API token: id, user, label, when made and when revoked.
fn token_rows(tokens: &[ApiToken]) -> Vec<Vec<String>> {
    tokens
        .iter()
        .map(|t| {
            vec![
                t.token_id.to_string(),
                t.username.clone(),
                t.label.clone(),
                t.created_at.clone(),
                t.revoked_at.clone().unwrap_or_else(|| "active".into()),
            ]
        })
        .collect()
}

/// One row per audit log entry: sequence, when, who, what and detail.
fn audit_rows(audit: &[AuditEntry]) -> Vec<Vec<String>> {
    audit
        .iter()
        .map(|a| {
            vec![
                a.seq.to_string(),
                a.at.clone(),
                a.actor.clone(),
                a.action.clone(),
                a.detail.clone(),
            ]
        })
        .collect()
}

/// The accounts table and the form that adds an account or changes its role or status.
fn accounts_section(users: &[User], csrf: &str) -> Markup {
    let user_rows = account_rows(users);
    html! {
        section aria-labelledby="users-h" {
            h2 id="users-h" { "Accounts" }
            (table("users-table", "Accounts of this LA", &column_heads(&["username", "role", "status", "created (UTC)"]), &user_rows, None))
            form method="post" action="/admin/users" class="stack" {
                input type="hidden" name="csrf" value=(csrf);
                fieldset {
                    legend { "Add an account, change a role, or disable / enable" }
                    label for="u-name" { "Username" }
                    input id="u-name" name="username" required;
                    label for="u-action" { "Action" }
                    select id="u-action" name="action" {
                        option value="add" { "add (a password is made and shown once)" }
                        option value="set-role" { "set role" }
                        option value="disable" { "disable" }
                        option value="enable" { "enable" }
                    }
                    label for="u-role" { "Role" }
                    select id="u-role" name="role" { @for r in Role::ALL { option value=(r.code()) { (r.code()) } } }
                    button type="submit" { "Apply" }
                }
            }
        }
    }
}

/// The API tokens table and the form that revokes a token.
fn tokens_section(tokens: &[ApiToken], csrf: &str) -> Markup {
    let token_rows = token_rows(tokens);
    html! {
        section aria-labelledby="tokens-h" {
            h2 id="tokens-h" { "API tokens" }
            p { "Tokens are made with " code { "highneeds token create --user NAME" } " and carry their user's role." }
            (table("tokens-table", "API tokens (the tokens themselves are never stored)", &column_heads(&["id", "user", "label", "created (UTC)", "revoked"]), &token_rows, None))
            form method="post" action="/admin/tokens/revoke" class="inline" {
                input type="hidden" name="csrf" value=(csrf);
                label for="t-id" { "Revoke token id" }
                input id="t-id" name="token_id" inputmode="numeric" required;
                button type="submit" { "Revoke" }
            }
        }
    }
}

/// The latest audit log entries, newest first.
fn audit_log_section(audit: &[AuditEntry]) -> Markup {
    let audit_rows = audit_rows(audit);
    html! {
        section aria-labelledby="audit-h" {
            h2 id="audit-h" { "Audit log" }
            (table("audit-table", "Latest 200 entries, newest first", &column_heads(&["#", "when (UTC)", "who", "what", "detail"]), &audit_rows, None))
        }
    }
}

#[derive(Deserialize)]
pub struct UserChange {
    username: String,
    action: String,
    role: Option<String>,
}

fn outcome(state: &Shared, caller: &Caller, result: anyhow::Result<Option<String>>) -> Response {
    match result {
        Ok(None) => Redirect::to("/admin").into_response(),
        Ok(Some(message)) => page("Admin", Some(caller), &state.la_name, html! { p role="status" { (message) } p { a href="/admin" { "Back to Admin" } } }).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, page("Admin", Some(caller), &state.la_name, html! { p class="error" role="alert" { (format!("{e:#}")) } p { a href="/admin" { "Back to Admin" } } })).into_response(),
    }
}

pub async fn users(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Form(change): Form<UserChange>,
) -> Result<Response, AppError> {
    let (store, la, actor) = (&state.store, state.la_code.as_str(), caller.actor());
    let name = change.username.trim();
    let role = change.role.as_deref().map(accounts::role).transpose();
    let result = async {
        match change.action.as_str() {
            "add" => {
                let role = role?.unwrap_or(Role::Viewer);
                let (_, password) = accounts::add_user(store, la, &actor, name, role, None).await?;
                Ok(Some(format!(
                    "Account {name} added as {role}. Its password, shown only now: {password}"
                )))
            }
            "set-role" => {
                let Some(role) = role? else {
                    anyhow::bail!("choose a role")
                };
                accounts::set_role(store, la, &actor, name, role)
                    .await
                    .map(|()| None)
            }
            "disable" => accounts::set_disabled(store, la, &actor, name, true)
                .await
                .map(|()| None),
            "enable" => accounts::set_disabled(store, la, &actor, name, false)
                .await
                .map(|()| None),
            other => anyhow::bail!("unknown action {other:?}"),
        }
    }
    .await;
    Ok(outcome(&state, &caller, result))
}

#[derive(Deserialize)]
pub struct Revoke {
    token_id: String,
}

pub async fn revoke_token(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Form(r): Form<Revoke>,
) -> Result<Response, AppError> {
    let result = match r.token_id.trim().parse::<i64>() {
        Ok(id) => accounts::revoke_token(&state.store, &state.la_code, &caller.actor(), id)
            .await
            .map(|()| None),
        Err(_) => Err(anyhow::anyhow!("token id {:?} is not a number", r.token_id)),
    };
    Ok(outcome(&state, &caller, result))
}
