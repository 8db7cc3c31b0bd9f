//! The HTML pages, by area.

pub mod accuracy;
pub mod admin;
pub mod caseload;
pub mod data;
pub mod export;
pub mod login;
pub mod overview;
pub mod public;
pub mod published;
pub mod scenario_form;
pub mod scenarios;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;

/// `GET /healthz`.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /assets/style.css`: the stylesheet, shipped in the binary.
pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/style.css"),
    )
}

/// Any other path.
pub async fn not_found() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        crate::views::message_page("Not found", "There is no page at this address."),
    )
}
