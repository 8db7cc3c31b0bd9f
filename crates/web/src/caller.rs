//! Who is asking: a session cookie (browsers) or a bearer token (scripts, Power BI), or nobody; and the
//! answers when their role is not enough.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};
use highneeds_store::User;
use serde_json::json;

use crate::auth::{same_secret, token_hash, Role};
use crate::Shared;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "hn_session";

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Via {
    Anonymous,
    /// A browser session, with its CSRF token.
    Session {
        token_hash: String,
        csrf: String,
    },
    /// An API token (no ambient credential, so no CSRF risk).
    Token {
        token_id: i64,
    },
    /// A bearer token was given but is not valid.
    BadToken,
}

/// The caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: Option<User>,
    pub via: Via,
}

/// A refusal, as a page or as JSON.
#[derive(Debug)]
pub enum Denied {
    /// A page asked for by nobody: go and sign in.
    SignIn,
    /// An API call by nobody (or with a bad token).
    Unauthorized,
    /// Signed in, but the role is not enough.
    Forbidden { api: bool },
    /// A state-changing request without the right CSRF token.
    BadCsrf,
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            Denied::SignIn => Redirect::to("/login").into_response(),
            Denied::Unauthorized => {
                let mut r = (
                    StatusCode::UNAUTHORIZED,
                    Json(json!({"error": "sign in or give an API token (Authorization: Bearer …)"})),
                )
                    .into_response();
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer"),
                );
                r
            }
            Denied::Forbidden { api: true } => (
                StatusCode::FORBIDDEN,
                Json(json!({"error": "your role does not allow this"})),
            )
                .into_response(),
            Denied::Forbidden { api: false } => (
                StatusCode::FORBIDDEN,
                crate::views::message_page(
                    "Not allowed",
                    "Your role does not allow this page. Ask an administrator if you need it.",
                ),
            )
                .into_response(),
            Denied::BadCsrf => (
                StatusCode::FORBIDDEN,
                crate::views::message_page(
                    "Form expired",
                    "This form was not sent from this site's own page (or it has expired): go back, reload and try again.",
                ),
            )
                .into_response(),
        }
    }
}

impl Caller {
    /// The caller's role, if signed in.
    pub fn role(&self) -> Option<Role> {
        self.user.as_ref().and_then(|u| Role::parse(&u.role))
    }

    fn allowed(&self, least: Role, api: bool) -> Result<&User, Denied> {
        match (&self.user, self.role()) {
            (Some(user), Some(role)) if role >= least => Ok(user),
            (Some(_), _) => Err(Denied::Forbidden { api }),
            (None, _) if api => Err(Denied::Unauthorized),
            (None, _) => Err(Denied::SignIn),
        }
    }

    /// For a page: the user if their role is at least `least`.
    pub fn page(&self, least: Role) -> Result<&User, Denied> {
        self.allowed(least, false)
    }

    /// For an API call: the user if their role is at least `least`.
    pub fn api(&self, least: Role) -> Result<&User, Denied> {
        self.allowed(least, true)
    }

    /// A state-changing request's CSRF token: a session's must match; a bearer token needs none.
    pub fn check_csrf(&self, given: Option<&str>) -> Result<(), Denied> {
        match &self.via {
            Via::Session { csrf, .. } if given.is_some_and(|g| same_secret(g, csrf)) => Ok(()),
            Via::Token { .. } => Ok(()),
            _ => Err(Denied::BadCsrf),
        }
    }

    /// The session's CSRF token, for forms.
    pub fn csrf(&self) -> &str {
        match &self.via {
            Via::Session { csrf, .. } => csrf,
            _ => "",
        }
    }

    /// The name the audit log records.
    pub fn actor(&self) -> String {
        match (&self.user, &self.via) {
            (Some(u), Via::Token { token_id }) => format!("{} (API token {token_id})", u.username),
            (Some(u), _) => u.username.clone(),
            (None, _) => "anonymous".to_string(),
        }
    }
}

fn expired(expires_at: &str) -> bool {
    DateTime::parse_from_rfc3339(expires_at)
        .map(|t| t.with_timezone(&Utc) <= Utc::now())
        .unwrap_or(true)
}

impl FromRequestParts<Shared> for Caller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Shared,
    ) -> Result<Self, Self::Rejection> {
        let failed = |e: highneeds_store::StoreError| {
            crate::views::AppError::from(anyhow::Error::from(e)).into_response()
        };
        let anonymous = Caller {
            user: None,
            via: Via::Anonymous,
        };
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim);
            let Some(token) = token else {
                return Ok(Caller {
                    user: None,
                    via: Via::BadToken,
                });
            };
            let found = state
                .store
                .api_token_user(&token_hash(token))
                .await
                .map_err(failed)?;
            return match found {
                Some((user, token_id)) if !user.disabled && user.la_code == state.la_code => {
                    let detail = format!("{} {}", parts.method, parts.uri.path());
                    state
                        .store
                        .audit(
                            &state.la_code,
                            &format!("{} (API token {token_id})", user.username),
                            "api token used",
                            &detail,
                        )
                        .await
                        .map_err(failed)?;
                    Ok(Caller {
                        user: Some(user),
                        via: Via::Token { token_id },
                    })
                }
                _ => Ok(Caller {
                    user: None,
                    via: Via::BadToken,
                }),
            };
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(cookie) = jar.get(SESSION_COOKIE) else {
            return Ok(anonymous);
        };
        let hash = token_hash(cookie.value());
        match state.store.session(&hash).await.map_err(failed)? {
            Some(s) if expired(&s.expires_at) => {
                state.store.end_session(&hash).await.map_err(failed)?;
                Ok(anonymous)
            }
            Some(s) if !s.user.disabled && s.user.la_code == state.la_code => Ok(Caller {
                user: Some(s.user),
                via: Via::Session {
                    token_hash: hash,
                    csrf: s.csrf_token,
                },
            }),
            _ => Ok(anonymous),
        }
    }
}
