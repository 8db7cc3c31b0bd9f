//! The exit statuses `highneeds` ends with: a contract for scripts (README.md, `highneeds --help`).

/// The command did what was asked (the default `ExitCode::SUCCESS`, 0).
#[allow(dead_code)]
pub const SUCCESS: u8 = 0;
/// The program or its environment failed: a file or database that could not be opened or written, a result
/// that cannot be represented, a bug.
pub const FAILURE: u8 = 1;
/// The command line was wrong (clap's own status, 2).
#[allow(dead_code)]
pub const USAGE: u8 = 2;
/// The input data was refused: every issue found is printed, and nothing was written (BSD's `EX_DATAERR`).
pub const REJECTED: u8 = 65;
/// Stopped by Ctrl-C (SIGINT), as shells report it (128 + 2).
pub const INTERRUPTED: u8 = 130;

/// What `--help` says of them.
pub const HELP: &str = "Exit status: 0 success; 1 failure of the program or its environment (a file or database \
                        that cannot be read or written); 2 usage error (a wrong option or argument); 65 rejected \
                        data (every issue is printed, nothing is written); 130 interrupted (Ctrl-C).";
