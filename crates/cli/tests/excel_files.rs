//! Issue #12: a High Needs budget saved the ways Excel and LibreOffice save it (UTF-8 with a byte-order mark,
//! Windows-1252 with £ amounts and brackets, `.xls`, `.ods`; ingest's committed fixtures) imports to the same
//! stored budget as the plain UTF-8 file: what `export budget` writes back is byte-identical.

mod common;

use std::path::{Path, PathBuf};

use common::{dump, import, run};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ingest/tests/data/excel")
        .join(name)
}

/// Import one budget file into a new database and export the stored budget back.
fn stored_budget(name: &str, dir: &Path) -> String {
    let db = dir.join(format!("{name}.db"));
    let r = import("budget", &fixture(name), &db);
    assert!(r.ok().starts_with("imported "), "{name}: {}", r.both());
    let out = dir.join(format!("{name}.out"));
    run([
        "export".as_ref(),
        "budget".as_ref(),
        "--db".as_ref(),
        db.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ])
    .ok();
    std::fs::read_to_string(out.join("hnb-budget.csv")).expect("export wrote hnb-budget.csv")
}

#[test]
fn every_excel_form_of_the_budget_stores_the_same_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = stored_budget("hnb-budget.utf8.csv", tmp.path());
    // Hand-checked: the en dash survives and the bracketed opening balance is negative.
    assert!(
        reference.contains("Academy recoupment – special"),
        "{reference}"
    );
    assert!(reference.contains("-9528516"), "{reference}");
    for name in [
        "hnb-budget.utf8-bom.csv",
        "hnb-budget.windows-1252.csv",
        "hnb-budget.xls",
        "hnb-budget.ods",
        "hnb-budget.libreoffice.xls",
        "hnb-budget.libreoffice.ods",
        "hnb-budget.libreoffice.xlsx",
    ] {
        assert_eq!(stored_budget(name, tmp.path()), reference, "{name}");
    }
}

#[test]
fn the_guessed_encoding_is_said_on_import() {
    let tmp = tempfile::tempdir().unwrap();
    let r = import(
        "budget",
        &fixture("hnb-budget.windows-1252.csv"),
        &tmp.path().join("hn.db"),
    );
    r.ok();
    assert!(r.stderr.contains("read as Windows-1252"), "{}", r.both());
}

#[test]
fn a_wrongly_stated_encoding_is_refused_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("hn.db");
    import("budget", &fixture("hnb-budget.utf8.csv"), &db).ok();
    let before = dump(&db);
    let r = run([
        "import".as_ref(),
        "budget".as_ref(),
        fixture("hnb-budget.windows-1252.csv").as_os_str(),
        "--db".as_ref(),
        db.as_os_str(),
        "--encoding".as_ref(),
        "utf-8".as_ref(),
    ]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(65), "{}", r.both());
    assert!(
        r.stderr
            .contains("hnb-budget.windows-1252.csv:2: (read as UTF-8) is not UTF-8 text"),
        "{}",
        r.both()
    );
    assert_eq!(dump(&db), before);
}

#[test]
fn a_workbook_that_makes_calamine_panic_is_refused_quietly() {
    // Found by fuzzing: calamine's XLS parser reads a record it has not length-checked and panics. Ingest catches
    // it; the user sees the refusal (exit 65), not a panic message.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ingest/tests/data/fuzz-contained");
    let tmp = tempfile::tempdir().unwrap();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = tmp.path().join("hnb-budget.xls");
        std::fs::copy(entry.unwrap().path(), &path).unwrap();
        let r = run(["validate".as_ref(), path.as_os_str()]);
        r.assert_no_panic();
        assert_eq!(r.code, Some(65), "{}", r.both());
        assert!(r.stderr.contains("corrupt workbook"), "{}", r.both());
        seen += 1;
    }
    assert!(seen >= 1);
}
