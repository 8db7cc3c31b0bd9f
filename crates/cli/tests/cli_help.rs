//! `--help` of the binary and of each subcommand, as insta snapshots; each subcommand's help has an example.

mod common;

use common::run;

const SUBCOMMANDS: [&str; 10] = [
    "synth",
    "validate",
    "import",
    "export",
    "demo",
    "forecast",
    "backtest",
    "diagnose",
    "benchmark",
    "scenario",
];

fn help(args: &[&str]) -> String {
    let r = run(args);
    r.ok().to_string()
}

#[test]
fn top_level_help() {
    let out = help(&["--help"]);
    for sub in SUBCOMMANDS {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(sub)),
            "{sub} not listed"
        );
    }
    insta::assert_snapshot!("help", out);
}

#[test]
fn subcommand_help() {
    for sub in SUBCOMMANDS {
        let out = help(&[sub, "--help"]);
        assert!(
            out.contains(&format!("Usage: highneeds {sub}")),
            "{sub}: no usage line\n{out}"
        );
        assert!(out.contains("Example"), "{sub}: no example\n{out}");
        // Every example line runs this very subcommand.
        let examples: Vec<&str> = out
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("highneeds "))
            .collect();
        assert!(!examples.is_empty(), "{sub}: no example command\n{out}");
        for e in examples {
            assert!(
                e.starts_with(&format!("highneeds {sub}")),
                "{sub}: example {e:?}"
            );
        }
        insta::assert_snapshot!(format!("help_{sub}"), out);
    }
}

#[test]
fn unknown_subcommand_fails_with_usage() {
    let r = run(["frobnicate"]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(2), "{}", r.both());
    assert!(r.stderr.contains("frobnicate"), "{}", r.both());
    assert!(r.stderr.contains("Usage: highneeds"), "{}", r.both());
}
