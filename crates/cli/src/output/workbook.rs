//! `--format xlsx --out FILE`: a report written as a workbook, whole or not at all.

use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;
use highneeds_usecases::report::{xlsx, Report};

use crate::args::{Cli, WorkbookOut};

/// `--out` belongs to `--format xlsx`: given with another format it is a usage error (exit 2, as clap's own).
/// With xlsx, an existing file is refused here, before any work, unless `--force`.
pub fn check(out: &WorkbookOut, xlsx: bool) -> Result<()> {
    match (&out.out, xlsx) {
        (Some(_), false) => Cli::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                "--out FILE writes a workbook: it goes with --format xlsx (other formats print to stdout)",
            )
            .exit(),
        (Some(path), true) if !out.force && std::fs::symlink_metadata(path).is_ok() => {
            anyhow::bail!(
                "{} exists: choose another file or add --force to replace it (nothing was written)",
                path.display()
            )
        }
        _ => Ok(()),
    }
}

/// Write the report's workbook to `--out` (the program's version added to its inputs) and say so.
pub fn write(out: &WorkbookOut, mut report: Report) -> Result<()> {
    let path = out
        .out
        .as_deref()
        .context("--format xlsx needs --out FILE")?;
    report.input("highneeds version", env!("CARGO_PKG_VERSION"));
    let bytes = xlsx::workbook(&report).context("could not build the workbook")?;
    write_bytes(path, &bytes, out.force)?;
    println!(
        "wrote {} ({} sheet{}: {}, {})",
        path.display(),
        report.tables.len() + 1,
        if report.tables.is_empty() { "" } else { "s" },
        xlsx::CONTENTS,
        xlsx::sheet_names(&report.tables).join(", ")
    );
    Ok(())
}

fn write_bytes(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    highneeds_ingest::write::write_new_file(path, bytes, force).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => anyhow::anyhow!(
            "{} exists: choose another file or add --force to replace it (nothing was written)",
            path.display()
        ),
        _ => anyhow::Error::new(e).context(format!(
            "could not write {} (nothing was written)",
            path.display()
        )),
    })
}
