//! `highneeds import` and `highneeds validate` on bad input: rejected cleanly (exit 2, file:line[:column] named,
//! no panic) and the database left exactly as it was.

mod common;

use std::path::{Path, PathBuf};

use common::{copy_dir, dump, import, run, synth, witan_demo, SplitMix64};
use tempfile::TempDir;

/// A temp folder holding a good synthetic LA (`good/`) and a database that already holds its three imports.
struct Fixture {
    tmp: TempDir,
    good: PathBuf,
    db: PathBuf,
    before: Vec<u8>,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good");
    synth(&good, 200, 3);
    let db = tmp.path().join("hn.db");
    for (kind, path) in [
        ("witan", good.clone()),
        ("plans", good.join("plans.csv")),
        ("budget", good.join("hnb-budget.csv")),
    ] {
        let r = import(kind, &path, &db);
        assert!(r.ok().starts_with("imported "), "{}", r.both());
    }
    let before = dump(&db);
    Fixture {
        tmp,
        good,
        db,
        before,
    }
}

impl Fixture {
    /// A copy of the good folder named `name`, with `file` replaced by `f(old contents)`.
    fn corrupt(&self, name: &str, file: &str, f: impl FnOnce(Vec<u8>) -> Vec<u8>) -> PathBuf {
        let dir = self.tmp.path().join(name);
        copy_dir(&self.good, &dir);
        let old = std::fs::read(dir.join(file)).unwrap();
        std::fs::write(dir.join(file), f(old)).unwrap();
        dir
    }

    fn assert_unchanged(&self, what: &str) {
        let after = dump(&self.db);
        assert!(
            after == self.before,
            "{what}: the database changed ({} bytes of dump before, {} after)",
            self.before.len(),
            after.len()
        );
    }

    /// Import `path` as `kind`: rejected with exit 65, every `expected` piece in stderr, nothing written.
    fn assert_import_rejected(&self, kind: &str, path: &Path, expected: &[&str]) {
        let r = import(kind, path, &self.db);
        r.assert_no_panic();
        assert_eq!(r.code, Some(65), "import should be rejected\n{}", r.both());
        for e in expected {
            assert!(r.stderr.contains(e), "stderr lacks {e:?}\n{}", r.both());
        }
        assert!(
            r.stderr.contains("import rejected"),
            "no rejection line\n{}",
            r.both()
        );
        assert!(!r.stdout.contains("imported "), "{}", r.both());
        self.assert_unchanged(&format!("import {kind} {}", path.display()));
    }
}

/// `highneeds validate FILES`: exit 65, every `expected` piece in stderr, REJECTED on stdout.
fn assert_validate_rejects(files: &[PathBuf], expected: &[&str]) {
    let mut args: Vec<std::ffi::OsString> = vec!["validate".into()];
    args.extend(files.iter().map(|f| f.clone().into_os_string()));
    let r = run(args);
    r.assert_no_panic();
    assert_eq!(r.code, Some(65), "validate should reject\n{}", r.both());
    for e in expected {
        assert!(r.stderr.contains(e), "stderr lacks {e:?}\n{}", r.both());
    }
    assert!(r.stdout.contains("REJECTED"), "{}", r.both());
}

/// Replace line `n` (1-based) of a text file.
fn edit_line(bytes: Vec<u8>, n: usize, f: impl FnOnce(&str) -> String) -> Vec<u8> {
    let text = String::from_utf8(bytes).unwrap();
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    lines[n - 1] = f(&lines[n - 1]);
    lines.join("\n").into_bytes()
}

fn fields(line: &str) -> Vec<String> {
    line.split(',').map(str::to_string).collect()
}

#[test]
fn non_numeric_ncy_is_rejected_with_file_line_and_column() {
    let fx = fixture();
    let bad = fx.corrupt("bad", "transitions.csv", |b| {
        edit_line(b, 5, |l| {
            let mut f = fields(l);
            assert_eq!(f.len(), 7, "unexpected line {l}");
            f[6] = "abc".into();
            f.join(",")
        })
    });
    let msg = r#"transitions.csv:5: column academic-year-2: "abc" is not an NCY (-5..20)"#;
    fx.assert_import_rejected("witan", &bad, &[msg]);
    assert_validate_rejects(&[bad.join("transitions.csv")], &[msg]);
}

/// Line number (1-based) of the first data row at or after `from` whose setting-1 is a real setting.
fn first_non_joiner(transitions: &Path, from: usize) -> usize {
    let text = std::fs::read_to_string(transitions).unwrap();
    text.lines()
        .enumerate()
        .skip(from - 1)
        .find(|(_, l)| !l.split(',').nth(1).unwrap().eq_ignore_ascii_case("NONSEND"))
        .map(|(i, _)| i + 1)
        .unwrap()
}

/// A copy of the good folder whose transitions.csv has a setting valid-states.csv does not list; and its line.
fn bogus_setting(fx: &Fixture) -> (PathBuf, usize) {
    let line = first_non_joiner(&fx.good.join("transitions.csv"), 7);
    let bad = fx.corrupt("bad", "transitions.csv", |b| {
        edit_line(b, line, |l| {
            let mut f = fields(l);
            f[1] = "bogus_setting".into();
            f.join(",")
        })
    });
    (bad, line)
}

#[test]
fn unknown_setting_is_rejected_by_import() {
    let fx = fixture();
    let (bad, line) = bogus_setting(&fx);
    fx.assert_import_rejected(
        "witan",
        &bad,
        &[
            &format!("transitions.csv:{line}: column setting-1: \"bogus_setting\""),
            "valid-states.csv",
        ],
    );
}

/// `validate` applies the same valid-states.csv cross-check as `import` (it once called such a file valid).
#[test]
fn unknown_setting_is_rejected_by_validate() {
    let fx = fixture();
    let (bad, line) = bogus_setting(&fx);
    assert_validate_rejects(
        &[bad.join("transitions.csv"), bad.join("valid-states.csv")],
        &[&format!("transitions.csv:{line}: column setting-1")],
    );
    // The same for a need valid-states.csv does not allow, in costs.csv.
    let bad = fx.corrupt("bad-costs", "costs.csv", |b| {
        edit_line(b, 3, |l| {
            let mut f = fields(l);
            f[0] = "ZZZ".into();
            f.join(",")
        })
    });
    fx.assert_import_rejected("witan", &bad, &["costs.csv:3: column need"]);
    assert_validate_rejects(
        &[bad.join("costs.csv"), bad.join("valid-states.csv")],
        &["costs.csv:3: column need"],
    );
}

#[test]
fn missing_column_is_rejected_naming_the_header_line() {
    let fx = fixture();
    // Drop academic-year-2 (the last column) from every line.
    let bad = fx.corrupt("bad", "transitions.csv", |b| {
        let text = String::from_utf8(b).unwrap();
        let out: String = text
            .lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
            .collect();
        out.into_bytes()
    });
    let msg = "transitions.csv:1: column academic-year-2: missing from the header line";
    fx.assert_import_rejected("witan", &bad, &[msg]);
    assert_validate_rejects(&[bad.join("transitions.csv")], &[msg]);
}

#[test]
fn empty_file_is_rejected() {
    let fx = fixture();
    for file in ["transitions.csv", "population.csv"] {
        let bad = fx.corrupt(&format!("bad-{file}"), file, |_| Vec::new());
        // An empty file has no line to name: the file and the rule must be there.
        let msg = format!("{file}: empty file");
        fx.assert_import_rejected("witan", &bad, &[&msg]);
        assert_validate_rejects(&[bad.join(file)], &[&msg]);
    }
}

#[test]
fn binary_garbage_is_rejected() {
    let fx = fixture();
    let mut rng = SplitMix64(0x5eed_0001);
    // The whole file is garbage: the header line (line 1) is named.
    let bad = fx.corrupt("bad-all", "transitions.csv", |_| rng.bytes(5000));
    fx.assert_import_rejected("witan", &bad, &["transitions.csv:1:"]);
    assert_validate_rejects(&[bad.join("transitions.csv")], &["transitions.csv:1:"]);

    // A good header and 20 good lines, then garbage: the first garbage line (21) is named, in each witan file.
    for file in [
        "transitions.csv",
        "population.csv",
        "costs.csv",
        "valid-states.csv",
    ] {
        let garbage = rng.bytes(3000);
        let bad = fx.corrupt(&format!("bad-tail-{file}"), file, |b| {
            let text = String::from_utf8(b).unwrap();
            let keep = if file == "valid-states.csv" { 5 } else { 21 };
            let mut out: Vec<u8> = text
                .lines()
                .take(keep)
                .flat_map(|l| format!("{l}\n").into_bytes())
                .collect();
            out.extend_from_slice(&garbage);
            out
        });
        let keep = if file == "valid-states.csv" { 5 } else { 21 };
        let at = format!("{file}:{}:", keep + 1);
        fx.assert_import_rejected("witan", &bad, &[&at]);
        assert_validate_rejects(&[bad.join(file)], &[&at]);
    }

    // The same for the person-level and budget files, through their own imports.
    for (kind, file) in [("plans", "plans.csv"), ("budget", "hnb-budget.csv")] {
        let garbage = rng.bytes(3000);
        let bad = fx.corrupt(&format!("bad-{kind}"), file, |b| {
            let text = String::from_utf8(b).unwrap();
            let mut out: Vec<u8> = text
                .lines()
                .take(3)
                .flat_map(|l| format!("{l}\n").into_bytes())
                .collect();
            out.extend_from_slice(&garbage);
            out
        });
        let at = format!("{file}:4:");
        fx.assert_import_rejected(kind, &bad.join(file), &[&at]);
        assert_validate_rejects(&[bad.join(file)], &[&at]);
    }
}

#[test]
fn over_long_line_is_rejected() {
    let fx = fixture();
    let bad = fx.corrupt("bad", "transitions.csv", |b| {
        edit_line(b, 10, |l| format!("{l}{}", "x".repeat(70_000)))
    });
    let msg = "transitions.csv:10: line is longer than";
    fx.assert_import_rejected("witan", &bad, &[msg]);
    assert_validate_rejects(&[bad.join("transitions.csv")], &[msg]);
    // The over-long line is not echoed back in full.
    let r = import("witan", &bad, &fx.db);
    assert!(
        r.stderr.len() < 10_000,
        "stderr is {} bytes",
        r.stderr.len()
    );
}

#[test]
fn bad_plans_ncy_is_rejected() {
    let fx = fixture();
    let bad = fx.corrupt("bad", "plans.csv", |b| {
        edit_line(b, 4, |l| {
            let mut f = fields(l);
            f[2] = "xyz".into();
            f.join(",")
        })
    });
    let msg = r#"plans.csv:4: column ncy: "xyz" is not an NCY (-5..20)"#;
    fx.assert_import_rejected("plans", &bad.join("plans.csv"), &[msg]);
    assert_validate_rejects(&[bad.join("plans.csv")], &[msg]);
}

#[test]
fn reimport_is_recognised_and_changes_nothing() {
    let fx = fixture();
    for (kind, path) in [
        ("witan", fx.good.clone()),
        ("plans", fx.good.join("plans.csv")),
        ("budget", fx.good.join("hnb-budget.csv")),
    ] {
        let r = import(kind, &path, &fx.db);
        let out = r.ok();
        assert!(out.contains("already imported"), "{}", r.both());
        fx.assert_unchanged(&format!("re-import of {kind}"));
    }
    // The same files copied elsewhere are the same data: recognised by content, not by path.
    let copy = fx.tmp.path().join("copy");
    copy_dir(&fx.good, &copy);
    let r = import("witan", &copy, &fx.db);
    assert!(r.ok().contains("already imported"), "{}", r.both());
    fx.assert_unchanged("re-import of a copy");
    // Control: different data is imported, and the dump sees the change.
    let other = fx.tmp.path().join("other");
    synth(&other, 150, 4);
    let r = import("witan", &other, &fx.db);
    assert!(r.ok().starts_with("imported "), "{}", r.both());
    assert!(
        dump(&fx.db) != fx.before,
        "the dump did not see a real import"
    );
}

#[test]
fn validate_accepts_good_files() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good");
    synth(&good, 200, 3);
    let files = [
        "transitions.csv",
        "population.csv",
        "costs.csv",
        "valid-states.csv",
        "plans.csv",
        "hnb-budget.csv",
    ];
    let mut args: Vec<std::ffi::OsString> = vec!["validate".into()];
    args.extend(files.iter().map(|f| good.join(f).into_os_string()));
    let r = run(&args);
    r.ok();
    for f in files {
        assert!(
            r.stdout
                .lines()
                .any(|l| l.contains(f) && l.contains(": valid (")),
            "{f} not reported valid\n{}",
            r.both()
        );
    }
    assert!(!r.stdout.contains("REJECTED"));

    // JSON report: every file valid, with its kind and row count.
    args.push("--format".into());
    args.push("json".into());
    let r = run(&args);
    let v: serde_json::Value = serde_json::from_str(r.ok()).unwrap();
    let reports = v.as_array().unwrap();
    assert_eq!(reports.len(), files.len());
    for rep in reports {
        assert_eq!(rep["valid"], true, "{rep}");
        assert!(rep["rows"].as_u64().unwrap() > 0, "{rep}");
        assert!(rep["errors"].as_array().unwrap().is_empty(), "{rep}");
    }
}

#[test]
fn witan_send_demo_imports() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("w.db");
    let r = import("witan", &witan_demo(), &db);
    let out = r.ok();
    assert!(out.starts_with("imported "), "{}", r.both());
    assert!(out.contains("transitions.csv"), "{}", r.both());
    // The demo's 8,351 transitions are all stored.
    if common::have_sqlite3() {
        let o = std::process::Command::new("sqlite3")
            .arg(&db)
            .arg("select count(*) from transitions;")
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "8351");
    }
    // A second import of it is recognised.
    let r = import("witan", &witan_demo(), &db);
    assert!(r.ok().contains("already imported"), "{}", r.both());
}

/// Import plans file A, then a corrected B (one record changed), then A again: the third import says
/// "already imported ... nothing changed", yet the database still holds B's record, so exporting gives B, not A.
/// (A witan set in the same sequence is restored to A: its check compares with the latest import only.)
#[test]
fn reimporting_an_earlier_plans_file_restores_it() {
    let fx = fixture();
    let b = fx.corrupt("b", "plans.csv", |bytes| {
        edit_line(bytes, 3, |l| {
            let mut f = fields(l);
            f[4] = if f[4] == "special_maintained" {
                "mainstream".into()
            } else {
                "special_maintained".into()
            };
            f.join(",")
        })
    });
    assert!(import("plans", &b.join("plans.csv"), &fx.db)
        .ok()
        .starts_with("imported "));
    let r = import("plans", &fx.good.join("plans.csv"), &fx.db);
    r.ok();
    let out = fx.tmp.path().join("export");
    let e = run([
        "export".as_ref(),
        "plans".as_ref(),
        "--db".as_ref(),
        fx.db.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    e.ok();
    assert!(
        std::fs::read(out.join("plans.csv")).unwrap()
            == std::fs::read(fx.good.join("plans.csv")).unwrap(),
        "after re-importing A the database does not hold A; the import said: {}",
        r.stdout
    );
}
