//! `highneeds validate`.

use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;

use crate::args::{ReportFormat, ValidateArgs};
use crate::commands::REJECTED;

#[derive(Serialize)]
struct FileReport {
    file: String,
    kind: Option<String>,
    rows: Option<u64>,
    valid: bool,
    errors: Vec<String>,
    warnings: Vec<String>,
}

pub fn run(args: ValidateArgs) -> Result<ExitCode> {
    let mut reports = Vec::new();
    for path in &args.files {
        let parsed = highneeds_ingest::validate_file(path);
        reports.push(FileReport {
            file: path.display().to_string(),
            kind: parsed.value.map(|k| k.to_string()),
            rows: parsed.sources.first().map(|s| s.rows),
            valid: !parsed.has_errors(),
            errors: parsed.errors().map(ToString::to_string).collect(),
            warnings: parsed.warnings().map(ToString::to_string).collect(),
        });
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
                    r.errors.len(),
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
