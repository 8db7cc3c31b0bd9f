//! What highneeds does, written once: load an LA's history, import files, forecast, backtest, read the
//! published statistics, build the demo LA. The command line (`crates/cli`) and the web server (`crates/web`)
//! both call these functions and only render what they return.
//!
//! **Invariant:** nothing here prints or exits. Input that is refused comes back as [`Rejected`], carrying
//! every issue (file, line, column, rule) for the caller to show.

pub mod backtest;
pub mod benchmark;
pub mod caseload;
pub mod demo;
pub mod diagnose;
pub mod disclosure;
pub mod forecast;
pub mod history;
pub mod home;
pub mod import;
pub mod published;
pub mod report;
pub mod scenario;
pub mod scenario_json;
pub mod sen2;
pub mod status;
pub mod synth;

use anyhow::{Context, Result};
use highneeds_ingest::Issue;

pub use history::{fit_options, load_history, only_la, HistorySource, ModelSettings};
/// The async runtime the store runs on.
pub use tokio::runtime::Runtime;

/// Input refused by validation: every issue found, and one sentence saying what to do.
#[derive(Debug)]
pub struct Rejected {
    pub issues: Vec<Issue>,
    pub message: String,
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rejected {}

/// A single-threaded async runtime for the store (the command line's; the server has its own).
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the database runtime")
}
