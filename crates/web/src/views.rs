//! The HTML every page shares: the layout (skip link, navigation by role, sign-out form), tables with their
//! CSV link, charts as inline SVG with a text alternative, and the error pages.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use crate::auth::Role;
use crate::caller::Caller;

/// An unexpected failure: logged in full, shown to the user without internals.
#[derive(Debug)]
pub struct AppError(anyhow::Error);

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError(e)
    }
}

impl From<highneeds_store::StoreError> for AppError {
    fn from(e: highneeds_store::StoreError) -> Self {
        AppError(e.into())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        tracing::error!("request failed: {:#}", self.0);
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            message_page(
                "Something went wrong",
                "The server could not answer this request. The details are in the server's log.",
            ),
        )
            .into_response()
    }
}

/// The navigation: (path, label, least role).
const NAV: &[(&str, &str, Role)] = &[
    ("/", "Overview", Role::Viewer),
    ("/caseload", "Caseload", Role::Viewer),
    ("/accuracy", "Accuracy", Role::Viewer),
    ("/diagnose", "Diagnose", Role::Viewer),
    ("/benchmark", "Benchmark", Role::Viewer),
    ("/data", "Data", Role::Viewer),
    ("/admin", "Admin", Role::Admin),
];

/// A whole page: title, navigation for the caller's role, content.
pub fn page(title: &str, caller: Option<&Caller>, la_name: &str, content: Markup) -> Markup {
    let role = caller.and_then(Caller::role);
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · highneeds · " (la_name) }
                link rel="stylesheet" href="/assets/style.css";
            }
            body {
                a class="skip" href="#main" { "Skip to content" }
                header {
                    p class="brand" { "highneeds · " (la_name) }
                    nav aria-label="Main" {
                        ul {
                            @if let Some(role) = role {
                                @for (path, label, least) in NAV {
                                    @if role >= *least { li { a href=(path) { (label) } } }
                                }
                            }
                            li { a href="/public" { "Public view" } }
                        }
                    }
                    @if let Some(c) = caller.filter(|c| c.user.is_some()) {
                        form class="signout" method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(c.csrf());
                            span { "Signed in as " (c.user.as_ref().map(|u| u.username.as_str()).unwrap_or("")) " (" (role.map(Role::code).unwrap_or("")) ") " }
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    h1 { (title) }
                    (content)
                }
                footer { p { "highneeds: open-source forecasting of EHC plans and High Needs spending." } }
            }
        }
    }
}

/// A page with one message (errors, refusals).
pub fn message_page(title: &str, message: &str) -> Markup {
    page(title, None, "", html! { p { (message) } })
}

/// A table: caption, header, rows of cells (already text), and a CSV download link if given.
pub fn table(
    id: &str,
    caption: &str,
    head: &[String],
    rows: &[Vec<String>],
    csv: Option<&str>,
) -> Markup {
    html! {
        div class="table-wrap" {
            table id=(id) {
                caption { (caption) @if let Some(href) = csv { " " a href=(href) download { "Download CSV" } } }
                thead { tr { @for h in head { th scope="col" { (h) } } } }
                tbody {
                    @for row in rows {
                        tr id=(row_id(id, row.first().map_or("", String::as_str))) { @for (i, cell) in row.iter().enumerate() {
                            @if i == 0 { th scope="row" { (cell) } } @else { td { (cell) } }
                        } }
                    }
                }
            }
        }
    }
}

/// The id of a table row (for drill-down links): the table's id and the row's first cell, letters and digits only.
pub fn row_id(table: &str, first: &str) -> String {
    let key: String = first
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("{table}-{key}")
}

/// Rows as CSV text (RFC 4180 quoting; a leading `=`, `+`, `-` or `@` is quoted with `'` so a spreadsheet
/// never runs a cell as a formula).
pub fn csv(head: &[String], rows: &[Vec<String>]) -> String {
    fn cell(s: &str) -> String {
        let s = if s.starts_with(['=', '+', '@'])
            || (s.starts_with('-') && s.parse::<f64>().is_err())
        {
            format!("'{s}")
        } else {
            s.to_string()
        };
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s
        }
    }
    let mut out = head.iter().map(|h| cell(h)).collect::<Vec<_>>().join(",");
    out.push('\n');
    for r in rows {
        out.push_str(&r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// One series of a line chart: points (x, y), and an optional band (x, low, high).
pub struct Series<'a> {
    pub label: &'a str,
    pub class: &'a str,
    pub points: Vec<(f64, f64)>,
    pub band: Vec<(f64, f64, f64)>,
}

const W: f64 = 640.0;
const H: f64 = 260.0;
const PAD: f64 = 48.0;

/// A line chart as inline SVG, described by `summary` for screen readers (the table beside it has the numbers).
/// With `drill` (a table's id), each point links to that table's row for its year.
pub fn line_chart(
    id: &str,
    title: &str,
    summary: &str,
    series: &[Series],
    drill: Option<&str>,
) -> Markup {
    let xs = series.iter().flat_map(|s| {
        s.points
            .iter()
            .map(|p| p.0)
            .chain(s.band.iter().map(|b| b.0))
    });
    let ys = series.iter().flat_map(|s| {
        s.points
            .iter()
            .map(|p| p.1)
            .chain(s.band.iter().map(|b| b.2))
    });
    let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    let y1 = ys.fold(0.0f64, f64::max).max(1.0) * 1.05;
    let span = (x1 - x0).max(1.0);
    let sx = |x: f64| PAD + (x - x0) / span * (W - 2.0 * PAD);
    let sy = |y: f64| H - PAD + -(y / y1) * (H - 2.0 * PAD);
    let path = |pts: &[(f64, f64)]| -> String {
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
    let band = |b: &[(f64, f64, f64)]| -> String {
        let upper = b
            .iter()
            .map(|(x, _, hi)| format!("{:.1},{:.1}", sx(*x), sy(*hi)));
        let lower = b
            .iter()
            .rev()
            .map(|(x, lo, _)| format!("{:.1},{:.1}", sx(*x), sy(*lo)));
        upper.chain(lower).collect::<Vec<_>>().join(" ")
    };
    let ticks: Vec<i64> = if x0.is_finite() {
        (x0 as i64..=x1 as i64).collect()
    } else {
        Vec::new()
    };
    html! {
        figure class="chart" {
            // A chart whose points are links is a group, not an image (an image may not hold controls).
            svg id=(id) viewBox=(format!("0 0 {W} {H}")) role=(if drill.is_some() { "group" } else { "img" }) aria-labelledby=(format!("{id}-t {id}-d")) {
                title id=(format!("{id}-t")) { (title) }
                desc id=(format!("{id}-d")) { (summary) }
                line class="axis" x1=(PAD) y1=(H - PAD) x2=(W - PAD) y2=(H - PAD) {}
                line class="axis" x1=(PAD) y1=(PAD) x2=(PAD) y2=(H - PAD) {}
                text class="tick" x=(4) y=(PAD) { (format!("{:.0}", y1)) }
                text class="tick" x=(4) y=(H - PAD) { "0" }
                @for t in &ticks { text class="tick" x=(format!("{:.1}", sx(*t as f64) - 14.0)) y=(H - PAD + 18.0) { (t) } }
                @for s in series {
                    @if !s.band.is_empty() { polygon class=(format!("band {}", s.class)) points=(band(&s.band)) {} }
                    path class=(format!("line {}", s.class)) d=(path(&s.points)) {}
                }
                @if let Some(table) = drill {
                    @for s in series { @for (x, y) in &s.points {
                        a href=(format!("#{}", row_id(table, &format!("{x:.0}")))) {
                            circle class=(format!("point {}", s.class)) cx=(format!("{:.1}", sx(*x))) cy=(format!("{:.1}", sy(*y))) r="5" {
                                title { (format!("{x:.0}: {y:.0} ({})", s.label)) }
                            }
                        }
                    } }
                }
            }
            figcaption { @for s in series { span class=(format!("key {}", s.class)) { (s.label) } " " } }
        }
    }
}

/// A horizontal bar chart whose bars link to the table row behind them (the drill-down).
pub fn bar_chart(id: &str, title: &str, bars: &[(String, f64, String)]) -> Markup {
    let max = bars.iter().map(|b| b.1).fold(0.0f64, f64::max).max(1.0);
    let row_h = 22.0;
    let h = row_h * bars.len() as f64 + 8.0;
    let summary = bars
        .iter()
        .map(|(label, v, _)| format!("{label}: {v:.0}"))
        .collect::<Vec<_>>()
        .join("; ");
    html! {
        figure class="chart" {
            // Not role="img": the bars are links (drill-down), and an image may not hold controls.
            svg id=(id) viewBox=(format!("0 0 {W} {h}")) role="group" aria-labelledby=(format!("{id}-t {id}-d")) {
                title id=(format!("{id}-t")) { (title) }
                desc id=(format!("{id}-d")) { (summary) }
                @for (i, (label, v, href)) in bars.iter().enumerate() {
                    a href=(href) {
                        text class="tick" x="4" y=(format!("{:.1}", i as f64 * row_h + 16.0)) { (label) }
                        rect class="bar" x="180" y=(format!("{:.1}", i as f64 * row_h + 4.0)) height="16"
                            width=(format!("{:.1}", (v / max) * (W - 240.0))) {}
                        text class="tick" x=(format!("{:.1}", 186.0 + (v / max) * (W - 240.0))) y=(format!("{:.1}", i as f64 * row_h + 16.0)) { (format!("{v:.0}")) }
                    }
                }
            }
        }
    }
}

/// Whole numbers with thousands separators.
pub fn count(x: f64) -> String {
    highneeds_domain::money::group_thousands(x.round() as i128)
}
