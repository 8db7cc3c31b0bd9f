//! Progress bars on a terminal, silence when piped (indicatif hides itself when stderr is not a terminal), and
//! what `-v`/`-q` ask of stderr.

use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// `-q`: only errors on stderr. Set once in `main`, before any command runs.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Whether `-q` was given: warnings, notes and progress bars are not shown.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Set up stderr for the run: `-q` silences all but errors; `-v`… turn on `tracing` diagnostics (warnings by
/// default; `RUST_LOG` overrides).
pub fn init_diagnostics(verbose: u8, quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none(),
        )
        .with_target(verbose >= 2)
        .without_time()
        .try_init();
}

/// A bar of `len` steps labelled `what`; invisible unless stderr is a terminal (and `-q` was not given).
pub fn bar(len: u64, what: &str) -> ProgressBar {
    let target = if quiet() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    if let Ok(style) = ProgressStyle::with_template("{msg:12} [{bar:30}] {pos}/{len} {elapsed}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}
