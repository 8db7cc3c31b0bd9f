//! `highneeds status`, `highneeds completions`, `highneeds man`: about the tool and its database.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::CommandFactory;
use highneeds_domain::money::group_thousands;
use highneeds_usecases::status::{status, Status};
use serde_json::json;

use crate::args::{Cli, CompletionsArgs, ManArgs, PrintFormat, StatusArgs};

pub fn run(args: StatusArgs) -> Result<ExitCode> {
    let s = status(args.db.as_deref())?;
    match args.format {
        PrintFormat::Table => print!("{}", table(&s)),
        PrintFormat::Json => println!("{}", serde_json::to_string_pretty(&to_json(&s))?),
    }
    Ok(ExitCode::SUCCESS)
}

fn count(n: u64) -> String {
    group_thousands(i128::from(n))
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

/// The status as people read it.
pub fn table(s: &Status) -> String {
    let mut out = format!(
        "database: {}\n  {}\n",
        s.database.display(),
        s.chosen.describe()
    );
    let Some(bytes) = s.bytes else {
        out.push_str("  does not exist yet: `highneeds import` or `highneeds demo` creates it\n");
        return out;
    };
    out.push_str(&format!(
        "  {} bytes, {}\n",
        count(bytes),
        plural(s.las.len() as u64, "LA", "LAs")
    ));
    for la in &s.las {
        let l = &la.summary;
        out.push_str(&format!("\n{} {}\n", l.code, l.name));
        let latest = l
            .latest_census
            .map_or(String::new(), |y| format!(" (latest {})", y.year()));
        out.push_str(&format!("  censuses: {}{latest}\n", count(l.censuses)));
        out.push_str(&format!(
            "  data: {} in plan records, {}, {}, {}\n",
            plural(l.children, "child", "children"),
            plural(l.transitions, "transition", "transitions"),
            plural(l.unit_costs, "unit cost", "unit costs"),
            plural(l.budget_lines, "budget line", "budget lines"),
        ));
        let latest = la
            .latest_import
            .as_ref()
            .map_or(String::new(), |(at, by)| format!(" (latest {at} by {by})"));
        out.push_str(&format!("  imports: {}{latest}\n", count(la.imports)));
        out.push_str(&format!("  scenarios: {}\n", count(la.scenarios)));
        if la.key_present {
            out.push_str("  SEN2 key: in the key folder\n");
        }
    }
    if let Some(folder) = &s.key_folder {
        out.push_str(&format!("\nSEN2 keys are kept in {}\n", folder.display()));
    }
    if let Some(files) = &s.demo_files {
        out.push_str(&format!(
            "the demo's files (the help examples' exampleshire/): {}\n",
            files.display()
        ));
    }
    out
}

fn to_json(s: &Status) -> serde_json::Value {
    json!({
        "database": s.database.display().to_string(),
        "chosen_by": match s.chosen {
            highneeds_usecases::home::Chosen::Option => "option",
            highneeds_usecases::home::Chosen::Environment => "environment",
            highneeds_usecases::home::Chosen::PerUser => "per_user",
        },
        "exists": s.bytes.is_some(),
        "bytes": s.bytes,
        "key_folder": s.key_folder.as_ref().map(|f| f.display().to_string()),
        "demo_files": s.demo_files.as_ref().map(|f| f.display().to_string()),
        "las": s.las.iter().map(|la| json!({
            "la_code": la.summary.code,
            "la_name": la.summary.name,
            "censuses": la.summary.censuses,
            "latest_census": la.summary.latest_census.map(|y| y.year()),
            "children": la.summary.children,
            "plan_records": la.summary.plan_records,
            "transitions": la.summary.transitions,
            "unit_costs": la.summary.unit_costs,
            "budget_lines": la.summary.budget_lines,
            "imports": la.imports,
            "latest_import_at": la.latest_import.as_ref().map(|l| l.0.clone()),
            "latest_import_by": la.latest_import.as_ref().map(|l| l.1.clone()),
            "scenarios": la.scenarios,
            "sen2_key_present": la.key_present,
        })).collect::<Vec<_>>(),
    })
}

pub fn completions(args: CompletionsArgs) -> Result<ExitCode> {
    let mut command = Cli::command();
    clap_complete::generate(
        args.shell,
        &mut command,
        "highneeds",
        &mut std::io::stdout(),
    );
    Ok(ExitCode::SUCCESS)
}

pub fn man(_: ManArgs) -> Result<ExitCode> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    std::io::stdout().write_all(&page)?;
    Ok(ExitCode::SUCCESS)
}
