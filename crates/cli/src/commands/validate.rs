//! `highneeds validate`.

use std::process::ExitCode;

use std::path::{Path, PathBuf};

use anyhow::Result;
use highneeds_ingest::{FileKind, Parsed, ReadOptions};
use serde::Serialize;

use crate::args::{ReportFormat, ValidateArgs};
use crate::commands::REJECTED;

#[derive(Serialize)]
struct FileReport {
    file: String,
    kind: Option<String>,
    rows: Option<u64>,
    valid: bool,
    /// Every error, including those past the per-file cap that `errors` stands for with one line.
    error_count: usize,
    errors: Vec<String>,
    warnings: Vec<String>,
}

impl FileReport {
    fn new<T>(path: &Path, kind: Option<String>, parsed: &Parsed<T>) -> Self {
        Self {
            file: path.display().to_string(),
            kind,
            rows: parsed.sources.first().map(|s| s.rows),
            valid: !parsed.has_errors(),
            error_count: highneeds_ingest::error_count(&parsed.issues),
            errors: parsed.errors().map(ToString::to_string).collect(),
            warnings: parsed.warnings().map(ToString::to_string).collect(),
        }
    }
}

/// The valid-states file that goes with `path`: one given on the command line in the same folder, or
/// `valid-states.csv` / `.xlsx` beside it — the same one `import` would use.
fn valid_states_for(path: &Path, given: &[PathBuf]) -> Option<PathBuf> {
    let dir = path.parent().unwrap_or(Path::new(""));
    given
        .iter()
        .find(|g| {
            g.parent().unwrap_or(Path::new("")) == dir
                && highneeds_ingest::detect_kind(g) == Some(FileKind::ValidStates)
        })
        .cloned()
        .or_else(|| {
            ["valid-states.csv", "valid-states.xlsx"]
                .iter()
                .map(|n| dir.join(n))
                .find(|p| p.is_file())
        })
}

/// Validate one file with the same rules as `import`: transitions and costs are checked against the
/// valid-states file that goes with them, if there is one.
fn validate_one(path: &Path, given: &[PathBuf], options: &ReadOptions) -> Parsed<FileKind> {
    let kind = highneeds_ingest::detect_kind(path);
    if matches!(kind, Some(FileKind::Transitions | FileKind::Costs)) {
        if let Some(vs_path) = valid_states_for(path, given) {
            let vs = highneeds_ingest::read_valid_states(&vs_path);
            if let Some(valid) = vs.value {
                return match kind {
                    Some(FileKind::Costs) => {
                        highneeds_ingest::read_costs(path, Some(&valid)).map(|_| FileKind::Costs)
                    }
                    _ => highneeds_ingest::read_transitions(path, Some(&valid))
                        .map(|_| FileKind::Transitions),
                };
            }
        }
    }
    highneeds_ingest::validate_file_with(path, options)
}

pub fn run(args: ValidateArgs) -> Result<ExitCode> {
    let mut reports = Vec::new();
    for path in &args.files {
        if highneeds_usecases::sen2::is_sen2(path) {
            let parsed = highneeds_usecases::sen2::validate(path)?;
            reports.push(FileReport::new(path, Some("sen2".into()), &parsed));
            continue;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if highneeds_ingest::published::is_release_file(&name) {
            // A file of the DfE's published statistics (read by `--published DIR`).
            let parsed = highneeds_ingest::published::read_published_file(path);
            let kind = (!parsed.has_errors()).then(|| "published statistics".to_string());
            reports.push(FileReport::new(path, kind, &parsed));
            continue;
        }
        let options = ReadOptions {
            encoding: args.encoding,
        };
        let parsed = validate_one(path, &args.files, &options);
        let kind = parsed.value.as_ref().map(ToString::to_string);
        reports.push(FileReport::new(path, kind, &parsed));
    }
    let all_valid = reports.iter().all(|r| r.valid);
    match args.format {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&reports)?),
        ReportFormat::Table => {
            for r in &reports {
                for e in &r.errors {
                    eprintln!("{e}");
                }
                for w in &r.warnings {
                    eprintln!("{w}");
                }
                let verdict = if r.valid { "valid" } else { "REJECTED" };
                println!(
                    "{}: {} ({}{} rows, {} errors, {} warnings)",
                    r.file,
                    verdict,
                    r.kind
                        .as_deref()
                        .map(|k| format!("{k}, "))
                        .unwrap_or_default(),
                    r.rows.unwrap_or(0),
                    r.error_count,
                    r.warnings.len()
                );
            }
        }
    }
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(REJECTED)
    })
}
