//! `highneeds import sen2` end to end: synth's returns import (history, forecast), a broken return is refused
//! with nothing written, a re-import is recognised, the key is kept, and no name, postcode or UPN reaches any
//! output, the database or an export.

mod common;

use std::path::{Path, PathBuf};

use common::{dump, run, run_cmd, shared, synth};

struct La {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    sen2: PathBuf,
    db: PathBuf,
    key: PathBuf,
    config: PathBuf,
}

fn la(plans: u32, seed: u64) -> La {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ex");
    synth(&dir, plans, seed);
    La {
        sen2: dir.join("sen2"),
        db: tmp.path().join("hn.db"),
        key: tmp.path().join("la.sen2-key"),
        config: tmp.path().join("config"),
        dir,
        _tmp: tmp,
    }
}

impl La {
    fn returns(&self) -> Vec<PathBuf> {
        (2022..=2024)
            .map(|y| self.sen2.join(format!("sen2-{y}.xml")))
            .collect()
    }
    fn import(&self, files: &[PathBuf], extra: &[&str]) -> common::Run {
        let mut cmd = common::command();
        cmd.env("XDG_CONFIG_HOME", &self.config)
            .args(["import", "sen2"])
            .args(files)
            .arg("--db")
            .arg(&self.db)
            .arg("--la")
            .arg("E99999999")
            .arg("--establishments")
            .arg(self.sen2.join("establishments.csv"))
            .args(extra);
        run_cmd(&mut cmd)
    }
}

/// Every value of these elements in the files (names, postcodes, UPNs, dates of birth).
fn personal_values(files: &[PathBuf]) -> Vec<String> {
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        for tag in [
            "Surname",
            "Forename",
            "PostCode",
            "UPN",
            "UniqueLearnerNumber",
            "PersonBirthDate",
        ] {
            let open = format!("<{tag}>");
            let close = format!("</{tag}>");
            let mut rest = text.as_str();
            while let Some(a) = rest.find(&open) {
                let after = &rest[a + open.len()..];
                let Some(b) = after.find(&close) else { break };
                let v = after[..b].trim();
                if v.len() >= 4 {
                    out.push(v.to_string());
                }
                rest = &after[b..];
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn assert_absent(values: &[String], haystack: &[u8], what: &str) {
    let text = String::from_utf8_lossy(haystack);
    for v in values {
        assert!(!text.contains(v.as_str()), "{v:?} appears in {what}");
    }
}

#[test]
fn synthetic_returns_import_and_forecast() {
    let l = la(300, 11);
    let r = l.import(&l.returns(), &["--key-file", l.key.to_str().unwrap()]);
    let out = r.ok();
    assert!(out.contains("census 2024: "), "{}", r.both());
    assert!(out.contains("2023 → 2024: "), "{}", r.both());
    // Messages name the paths as given.
    let given: Vec<String> = l
        .returns()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        out.contains(&format!("imported {}", given.join(", "))),
        "{}",
        r.both()
    );
    assert!(
        r.stderr.contains("made a new SEN2 pseudonymisation key"),
        "{}",
        r.both()
    );
    let key = std::fs::read_to_string(&l.key).unwrap();
    assert_eq!(key.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&l.key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The same files again: recognised, nothing changed, the key unchanged.
    let before = dump(&l.db);
    let again = l.import(&l.returns(), &["--key-file", l.key.to_str().unwrap()]);
    assert!(again.ok().contains("already imported"), "{}", again.both());
    assert_eq!(dump(&l.db), before);
    assert_eq!(std::fs::read_to_string(&l.key).unwrap(), key);

    // The forecast runs on the SEN2-derived history exactly as on witan files.
    let f = run([
        "forecast".as_ref(),
        "--db".as_ref(),
        l.db.as_os_str(),
        "--engine".as_ref(),
        "analytic".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    let json: serde_json::Value = serde_json::from_str(f.ok()).unwrap();
    assert_eq!(json["base_census_year"], 2024);
    // 2024's stock is synth's: the witan transitions into 2024 that have an "after" side.
    let transitions = std::fs::read_to_string(l.dir.join("transitions.csv")).unwrap();
    let plans_2024 = transitions
        .lines()
        .filter(|line| {
            line.starts_with("2023,")
                && !line.ends_with("NONSEND,NONSEND,")
                && !line.contains(",NONSEND,NONSEND,2")
        })
        .count();
    let base = json["base_total"].as_u64().unwrap() as usize;
    assert!(
        base > 0 && base.abs_diff(plans_2024) <= plans_2024 / 20,
        "{base} vs {plans_2024}"
    );

    // Importing one year again (a corrected 2024 return) keeps the other years and re-derives transitions.
    let one = l.import(&l.returns()[2..], &["--key-file", l.key.to_str().unwrap()]);
    assert!(one.ok().contains("2023 → 2024: "), "{}", one.both());
}

#[test]
fn a_broken_return_is_refused_and_nothing_is_written() {
    let l = la(200, 5);
    let ok = l.import(&l.returns()[..2], &[]);
    ok.ok();
    let key_file = l.config.join("highneeds/E99999999.sen2-key");
    assert!(key_file.is_file(), "the default key file was not made");
    let before = dump(&l.db);
    let text = std::fs::read_to_string(&l.returns()[2]).unwrap();
    let cut = l.sen2.join("sen2-2024-cut.xml");
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let r = l.import(&[l.returns()[2].clone(), cut.clone()], &[]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(65), "{}", r.both());
    assert!(r.stderr.contains("sen2-2024-cut.xml:"), "{}", r.both());
    assert!(r.stderr.contains("it is truncated"), "{}", r.both());
    assert!(
        r.stderr.contains("the database was not changed"),
        "{}",
        r.both()
    );
    assert_eq!(dump(&l.db), before, "the database changed");
    let garbage = l.sen2.join("garbage.xml");
    std::fs::write(&garbage, b"\x00\x01PK not xml at all").unwrap();
    let r = l.import(&[garbage], &[]);
    assert_eq!(r.code, Some(65), "{}", r.both());
    assert!(r.stderr.contains("garbage.xml:"), "{}", r.both());
    assert_eq!(dump(&l.db), before, "the database changed");
    // validate says the same, and recognises good returns.
    let v = run([
        "validate".as_ref(),
        cut.as_os_str(),
        l.returns()[0].as_os_str(),
    ]);
    assert_eq!(v.code, Some(65));
    assert!(
        v.stdout.contains("sen2-2022.xml: valid (sen2"),
        "{}",
        v.both()
    );
    // A register that is not GIAS's export: refused, nothing written.
    let notgias = l.sen2.join("notgias.csv");
    std::fs::write(&notgias, "child_id,census_year\nC1,2024\n").unwrap();
    let mut cmd = common::command();
    cmd.env("XDG_CONFIG_HOME", &l.config)
        .args(["import", "sen2"])
        .arg(&l.returns()[2])
        .arg("--db")
        .arg(&l.db)
        .args(["--la", "E99999999", "--establishments"])
        .arg(&notgias);
    let r = run_cmd(&mut cmd);
    assert_eq!(r.code, Some(65), "{}", r.both());
    assert!(
        r.stderr.contains("notgias.csv:1: column URN: missing"),
        "{}",
        r.both()
    );
    assert_eq!(dump(&l.db), before, "the database changed");
    // The key file is missing but the LA has returns made with a key: refused, nothing written.
    std::fs::remove_file(&key_file).unwrap();
    let r = l.import(&l.returns()[2..], &[]);
    assert_eq!(r.code, Some(65), "{}", r.both());
    assert!(r.stderr.contains("restore it"), "{}", r.both());
    assert_eq!(dump(&l.db), before, "the database changed");
}

#[test]
fn no_personal_data_in_any_output_database_or_export() {
    let l = la(200, 9);
    let mut files = l.returns();
    let mockup = shared("formats/sen2-samples/liia-tools_SEN2-2024-mockup.xml");
    let values = personal_values(&[files.clone(), vec![mockup.clone()]].concat());
    assert!(values.len() > 200, "{} values", values.len());
    let r = l.import(&files, &[]);
    r.ok();
    assert_absent(&values, r.stdout.as_bytes(), "import's output");
    assert_absent(&values, r.stderr.as_bytes(), "import's messages");
    // The mock-up (another LA) with its warnings.
    let mut cmd = common::command();
    cmd.env("XDG_CONFIG_HOME", &l.config)
        .args(["import", "sen2"])
        .arg(&mockup)
        .arg("--db")
        .arg(&l.db)
        .args(["--la", "201"]);
    let m = run_cmd(&mut cmd);
    m.ok();
    assert!(
        m.stderr.contains("UPN fails the DfE check letter"),
        "{}",
        m.both()
    );
    assert_absent(&values, m.stdout.as_bytes(), "import's output");
    assert_absent(&values, m.stderr.as_bytes(), "import's messages");
    let v = run([
        "validate".as_ref(),
        mockup.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_absent(&values, v.stdout.as_bytes(), "validate's output");
    files.push(mockup);
    // The whole database, and the raw database file.
    assert_absent(&values, &dump(&l.db), "the database dump");
    assert_absent(&values, &std::fs::read(&l.db).unwrap(), "the database file");
    // Exports.
    let out = l.dir.join("exported");
    for kind in ["witan", "plans"] {
        let e = run([
            "export".as_ref(),
            kind.as_ref(),
            "--db".as_ref(),
            l.db.as_os_str(),
            "--la".as_ref(),
            "E99999999".as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ]);
        e.assert_no_panic();
        assert_absent(&values, e.stdout.as_bytes(), "export's output");
        assert_absent(&values, e.stderr.as_bytes(), "export's messages");
    }
    for entry in std::fs::read_dir(&out).unwrap() {
        let p = entry.unwrap().path();
        assert_absent(
            &values,
            &std::fs::read(&p).unwrap(),
            &p.display().to_string(),
        );
    }
    // Dates of birth are not stored either.
    let dump_text = String::from_utf8_lossy(&dump(&l.db)).into_owned();
    assert!(!dump_text.contains("2002-01-01"));
    let _ = Path::new("");
}

/// Importing SEN2 returns into an LA whose stored witan.send set uses its own codes warns that the two codings
/// will not meet; synth's witan set (SEN2-coded) does not.
#[test]
fn mixing_an_la_s_own_codes_with_sen2_codes_is_warned() {
    let demo = shared("peers/witan-send-demo");
    if !demo.join("transitions.csv").exists() {
        return;
    }
    let l = la(300, 5);
    let witan = |dir: &Path| {
        run([
            "import".as_ref(),
            "witan".as_ref(),
            dir.as_os_str(),
            "--db".as_ref(),
            l.db.as_os_str(),
            "--la".as_ref(),
            "E99999999".as_ref(),
        ])
    };
    witan(&l.dir).ok();
    let r = l.import(&l.returns(), &["--key-file", l.key.to_str().unwrap()]);
    assert!(!r.stderr.contains("uses its own codes"), "{}", r.both());
    witan(&demo).ok();
    let r = l.import(&l.returns(), &["--key-file", l.key.to_str().unwrap()]);
    assert!(
        r.stderr
            .contains("stored history uses its own codes (settings A, B, C"),
        "{}",
        r.both()
    );
}
