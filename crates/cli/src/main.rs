//! `highneeds`: the command line. A thin layer over the library crates: it parses arguments, reads and writes
//! files through `ingest`, the database through `store`, runs `model`, and renders results as table, CSV or JSON.
//! Only this crate prints, exits or knows the output formats.

mod args;
mod commands;
mod exit;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

fn main() -> ExitCode {
    restore_default_sigpipe();
    highneeds_ingest::quiet_contained_panics();
    let cli = Cli::parse();
    progress::init_diagnostics(cli.verbose, cli.quiet);
    // The server stops gracefully on Ctrl-C by itself (and then exits INTERRUPTED); any other command stops at
    // once: nothing it was writing is committed (every import is one transaction), so nothing half-written stays.
    if !matches!(cli.command, Command::Serve(_) | Command::Demo(_)) {
        let _ = ctrlc::set_handler(|| {
            eprintln!("\ninterrupted: nothing half-done was kept");
            std::process::exit(i32::from(exit::INTERRUPTED));
        });
    }
    let result = match cli.command {
        Command::Synth(a) => commands::synth::run(a),
        Command::Validate(a) => commands::validate::run(a),
        Command::Import(a) => commands::import::run(a),
        Command::Demo(a) => commands::demo::run(a),
        Command::Export(a) => commands::export::run(a),
        Command::Forecast(a) => commands::forecast::run(a),
        Command::Backtest(a) => commands::backtest::run(a),
        Command::Diagnose(a) => commands::diagnose::run(a),
        Command::Benchmark(a) => commands::benchmark::run(a),
        Command::Scenario(a) => commands::scenario::run(a),
        Command::Serve(a) => commands::serve::run(a),
        Command::User(a) => commands::accounts::user(a),
        Command::Token(a) => commands::accounts::token(a),
        Command::Status(a) => commands::status::run(a),
        Command::Completions(a) => commands::status::completions(a),
        Command::Man(a) => commands::status::man(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // A very long argument (a path, an LA code) is shortened wherever a message repeats it.
            let message = format!("{e:#}")
                .split(' ')
                .map(|w| {
                    highneeds_ingest::shorten_middle(w, highneeds_ingest::MAX_SHOWN_PATH_CHARS)
                })
                .collect::<Vec<_>>()
                .join(" ");
            eprintln!("error: {message}");
            if e.downcast_ref::<highneeds_usecases::Rejected>().is_some() {
                ExitCode::from(exit::REJECTED)
            } else {
                ExitCode::from(exit::FAILURE)
            }
        }
    }
}

/// Rust ignores SIGPIPE, so printing into a closed pipe (`highneeds validate … | head`) would panic. Restore the
/// default so the process ends quietly, like any Unix tool.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; resetting a signal to its default action
    // has no other effect on the program's state.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
