//! `GET /data`: the import log; `POST /data/upload` (officers): import uploaded files through the same readers
//! and the same all-or-nothing store as `highneeds import`, showing every issue (file, line, column, rule).

use std::path::{Path, PathBuf};

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use maud::{html, Markup};

use highneeds_store::{ImportOutcome, ImportedFile, LaRef};
use highneeds_usecases::import::{imported_files, read, store, ImportKind};

use crate::auth::Role;
use crate::caller::Caller;
use crate::views::{page, table, AppError};
use crate::Shared;

/// Largest upload (every request body): 64 MB.
pub const UPLOAD_LIMIT: usize = 64 * 1024 * 1024;

pub async fn page_handler(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
) -> Result<Markup, AppError> {
    let log = state.store.import_log(Some(&state.la_code)).await?;
    let head: Vec<String> = [
        "import",
        "kind",
        "file",
        "rows",
        "SHA-256",
        "when (UTC)",
        "by",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let rows: Vec<Vec<String>> = log
        .iter()
        .rev()
        .map(|e| {
            vec![
                e.import_id.to_string(),
                e.kind.clone(),
                e.file_name.clone(),
                e.rows.to_string(),
                e.sha256.chars().take(12).collect(),
                e.imported_at.clone(),
                e.imported_by.clone(),
            ]
        })
        .collect();
    let content = html! {
        @if caller.role().is_some_and(|r| r >= Role::Officer) { (upload_form(&caller)) }
        (table("imports-table", "Import history, newest first (one row per file)", &head, &rows, None))
    };
    Ok(page("Data", Some(&caller), &state.la_name, content))
}

fn upload_form(caller: &Caller) -> Markup {
    html! {
        section aria-labelledby="upload-h" {
            h2 id="upload-h" { "Import a file" }
            p { "The file is checked first; if any row has an error nothing is imported and every error is listed." }
            form method="post" enctype="multipart/form-data" action=(format!("/data/upload?csrf={}", caller.csrf())) class="stack" {
                label for="kind" { "What it is" }
                select id="kind" name="kind" {
                    option value="plans" { "plans.csv: one row per child per census" }
                    option value="budget" { "hnb-budget.csv: the High Needs budget" }
                    option value="witan" { "witan.send's four files (choose all four)" }
                }
                label for="file" { "File(s)" }
                input id="file" name="file" type="file" multiple required;
                button type="submit" { "Check and import" }
            }
        }
    }
}

/// A file name from an upload reduced to its last component and safe characters.
fn safe_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let s: String = last
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .take(100)
        .collect();
    if s.is_empty() || s.starts_with('.') {
        format!("upload{s}")
    } else {
        s
    }
}

pub async fn upload(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let dir = tempfile::tempdir().map_err(anyhow::Error::from)?;
    let SubmittedUpload { kind, paths } = save_upload_form(&mut multipart, dir.path()).await?;
    let Some(kind) = kind else {
        return Ok(bad_upload(
            &state,
            &caller,
            "Say what the file is (plans, budget or witan).",
        ));
    };
    if paths.is_empty() {
        return Ok(bad_upload(&state, &caller, "Choose a file to import."));
    }
    let paths = if kind == ImportKind::Witan {
        vec![dir.path().to_path_buf()]
    } else {
        paths
    };
    let parsed = tokio::task::spawn_blocking(move || {
        read(kind, &paths, &highneeds_ingest::ReadOptions::default())
    })
    .await
    .map_err(anyhow::Error::from)?;
    let parsed = match parsed {
        Ok(p) => p,
        Err(e) => return Ok(bad_upload(&state, &caller, &format!("{e:#}"))),
    };
    let issues: Vec<String> = parsed.issues.iter().map(ToString::to_string).collect();
    let Some(readied) = parsed.value else {
        return reject_upload_issues(&state, &caller, kind, &issues).await;
    };
    let files = imported_files(kind, &parsed.sources);
    let la = LaRef {
        code: state.la_code.clone(),
        name: state.la_name.clone(),
    };
    let outcome = store(&state.store, &la, &readied, &files, &caller.actor()).await;
    report_import_outcome(&state, &caller, kind, &files, outcome, &issues).await
}

/// What the upload form sent: the kind of file chosen (if recognised) and where each file was saved.
struct SubmittedUpload {
    kind: Option<ImportKind>,
    paths: Vec<PathBuf>,
}

/// Read the upload form's fields in order, saving each file into `dir` as it arrives.
async fn save_upload_form(
    multipart: &mut Multipart,
    dir: &Path,
) -> anyhow::Result<SubmittedUpload> {
    let mut kind = None;
    let mut paths = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| anyhow::anyhow!("upload: {e}"))?
    {
        match field.name() {
            Some("kind") => {
                let text = field
                    .text()
                    .await
                    .map_err(|e| anyhow::anyhow!("upload: {e}"))?;
                kind = match text.as_str() {
                    "plans" => Some(ImportKind::Plans),
                    "budget" => Some(ImportKind::Budget),
                    "witan" => Some(ImportKind::Witan),
                    _ => None,
                };
            }
            Some("file") => {
                let name = safe_name(field.file_name().unwrap_or("upload.csv"));
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| anyhow::anyhow!("upload: {e}"))?;
                let path = dir.join(&name);
                write_private(&path, &bytes)?;
                paths.push(path);
            }
            _ => {}
        }
    }
    Ok(SubmittedUpload { kind, paths })
}

/// An upload refused before anything was read into the store: 400 with the reason.
fn bad_upload(state: &Shared, caller: &Caller, message: &str) -> Response {
    report(state, caller, StatusCode::BAD_REQUEST, message, &[])
}

/// An upload whose files have errors: audit-logged, nothing changed, every issue listed (422).
async fn reject_upload_issues(
    state: &Shared,
    caller: &Caller,
    kind: ImportKind,
    issues: &[String],
) -> Result<Response, AppError> {
    state
        .store
        .audit(
            &state.la_code,
            &caller.actor(),
            "import rejected",
            &format!("{} ({} issues)", kind.code(), issues.len()),
        )
        .await?;
    Ok(report(
        state,
        caller,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Import rejected: nothing was changed. Fix these and upload again:",
        issues,
    ))
}

/// The page for what storing the upload did: imported, already imported, or refused (audit-logged).
async fn report_import_outcome(
    state: &Shared,
    caller: &Caller,
    kind: ImportKind,
    files: &[ImportedFile],
    outcome: anyhow::Result<ImportOutcome>,
    issues: &[String],
) -> Result<Response, AppError> {
    let names = files
        .iter()
        .map(|f| f.file_name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    match outcome {
        Ok(ImportOutcome::Imported { import_id, rows }) => {
            // The import use-case wrote it to the audit log.
            Ok(report(
                state,
                caller,
                StatusCode::OK,
                &format!("Imported {names} (import {import_id}, {rows} rows). Warnings:"),
                issues,
            ))
        }
        Ok(ImportOutcome::AlreadyImported {
            import_id,
            imported_at,
        }) => Ok(report(
            state,
            caller,
            StatusCode::OK,
            &format!("Already imported (import {import_id} at {imported_at}): nothing changed."),
            issues,
        )),
        Err(e) => {
            state
                .store
                .audit(
                    &state.la_code,
                    &caller.actor(),
                    "import rejected",
                    &format!("{} {names}: {e:#}", kind.code()),
                )
                .await?;
            Ok(report(
                state,
                caller,
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("Import rejected, nothing was changed: {e:#}"),
                issues,
            ))
        }
    }
}

/// Write an uploaded file readable by its owner only.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    Ok(())
}

fn report(
    state: &Shared,
    caller: &Caller,
    status: StatusCode,
    message: &str,
    issues: &[String],
) -> Response {
    let body = page(
        "Import",
        Some(caller),
        &state.la_name,
        html! {
            p role="status" { (message) }
            @if !issues.is_empty() { ul class="issues" { @for i in issues { li { code { (i) } } } } }
            p { a href="/data" { "Back to Data" } }
        },
    );
    (status, body).into_response()
}
