//! `highneeds serve`: the web dashboard, public view and API (`highneeds_web`).

use std::process::ExitCode;

use anyhow::Result;
use highneeds_web::ServeOptions;

use crate::args::ServeArgs;

pub fn run(args: ServeArgs) -> Result<ExitCode> {
    if args.public_threshold < 2 {
        anyhow::bail!(
            "--public-threshold must be at least 2 (counts under it are withheld), not {}",
            args.public_threshold
        );
    }
    let options = ServeOptions {
        db: args.db,
        la: args.la,
        bind: args.bind,
        public_threshold: args.public_threshold,
    };
    highneeds_web::runtime()?.block_on(highneeds_web::serve(&options, |addr| {
        println!("serving http://{addr}/ (Ctrl-C stops)");
    }))?;
    // The server stops only on Ctrl-C (gracefully).
    Ok(ExitCode::from(crate::exit::INTERRUPTED))
}
