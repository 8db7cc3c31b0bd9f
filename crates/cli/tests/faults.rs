//! Issue #14, "Nothing lost, nothing silent": the binary against each fault a probe of 800 bad inputs found, and
//! against kill -9 during an import. Every refusal is checked for its exit status, its message, and a database
//! left exactly as it was: every table read back through sqlx (no `sqlite3` shell needed) is byte-identical
//! before and after. Each test here failed before its fix. The long kill -9 campaign is `scripts/kill-campaign`.

#[path = "../../ingest/tests/common/bombs.rs"]
mod bombs;
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{copy_dir, run, run_cmd, synth, Run};
use sqlx::{Connection, Row};

const LA: &str = "E99999999";

/// Every table of the database (schema and rows, in a fixed order), as text: equal dumps mean an equal
/// database. Read through sqlx; the database is opened without creating it.
fn dump(db: &Path) -> String {
    dump_with(db, false)
}

/// [`dump`] with the import times blanked: two runs of the same import at different moments compare equal.
fn dump_without_times(db: &Path) -> String {
    dump_with(db, true)
}

fn dump_with(db: &Path, without_times: bool) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(db);
        let mut conn = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
        let tables = sqlx::query(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let mut out = String::new();
        for t in &tables {
            let name: String = t.get(0);
            let sql: String = t.get(1);
            out.push_str(&format!("== {name}\n{sql}\n"));
            let cols: Vec<String> = sqlx::query("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                .bind(&name)
                .fetch_all(&mut conn)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>(0))
                .collect();
            let expr = cols
                .iter()
                .map(|c| {
                    // Import times, and the audit log's time of each entry (written in the import's transaction).
                    if without_times && (c == "imported_at" || (name == "audit_log" && c == "at")) {
                        "'(time)'".to_string()
                    } else {
                        format!("quote(\"{c}\")")
                    }
                })
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            // Table and column names come from the database's own schema, never from input.
            let sql = format!("SELECT {expr} FROM \"{name}\" ORDER BY rowid");
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut conn)
                .await
                .unwrap();
            for r in rows {
                out.push_str(&r.get::<String, _>(0));
                out.push('\n');
            }
        }
        conn.close().await.unwrap();
        out
    })
}

/// How many rows a table has in a dump ([`dump`]: `== name`, its CREATE statement, then one line per row).
fn rows_of(dump: &str, table: &str) -> usize {
    let head = format!("== {table}\n");
    let Some(start) = dump.find(&head) else {
        return 0;
    };
    let body = &dump[start + head.len()..];
    let body = &body[..body.find("\n== ").map_or(body.len(), |e| e + 1)];
    // Rows of these tables start with their la_code, quoted; no line of a CREATE statement does.
    body.lines().filter(|l| l.starts_with('\'')).count()
}

/// Run a SQL statement on the database (to simulate a database from an older version).
fn execute(db: &Path, sql: &'static str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(db);
        let mut conn = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    });
}

/// Neither a panic (101) nor an abort (134), whatever the input.
fn assert_no_crash(r: &Run) {
    r.assert_no_panic();
    assert_ne!(r.code, Some(134), "abort\n{}", r.both());
    assert!(r.code.is_some(), "killed by a signal\n{}", r.both());
}

/// Refused with `code`, every piece of `expected` in stderr.
fn assert_refused(r: &Run, code: i32, expected: &[&str]) {
    assert_no_crash(r);
    assert_eq!(r.code, Some(code), "{}", r.both());
    for e in expected {
        assert!(r.stderr.contains(e), "stderr lacks {e:?}\n{}", r.both());
    }
}

/// A command for the binary with an address-space limit (so a fault that would allocate gigabytes aborts
/// quickly instead of taking the machine's memory), run with a deadline.
fn run_limited(args: &[&std::ffi::OsStr], limit_mb: u64, deadline: Duration) -> Run {
    let mut cmd = common::command();
    cmd.args(args);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let bytes = limit_mb * 1024 * 1024;
        // SAFETY: setrlimit is async-signal-safe and touches only the child's own limits.
        unsafe {
            cmd.pre_exec(move || {
                let lim = libc::rlimit {
                    rlim_cur: bytes,
                    rlim_max: bytes,
                };
                if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    run_with_deadline(&mut cmd, deadline)
}

/// Run a command; kill it and fail the test if it outlives `deadline` (a hang is a fault too).
fn run_with_deadline(cmd: &mut Command, deadline: Duration) -> Run {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("could not start highneeds");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} still running after {deadline:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A synthetic LA imported into a database, in a temporary folder.
struct Fixture {
    tmp: tempfile::TempDir,
    dir: PathBuf,
    db: PathBuf,
}

impl Fixture {
    fn new(plans: u32, seed: u64) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ex");
        synth(&dir, plans, seed);
        let db = tmp.path().join("hn.db");
        Fixture { tmp, dir, db }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    fn import(&self, kind: &str, path: &Path, extra: &[&str]) -> Run {
        let mut cmd = common::command();
        cmd.args(["import", kind])
            .arg(path)
            .arg("--db")
            .arg(&self.db)
            .args(["--la", LA])
            .args(extra);
        run_cmd(&mut cmd)
    }

    /// A copy of the LA's witan folder with `file` replaced by `bytes`.
    fn witan_with(&self, name: &str, file: &str, bytes: &[u8]) -> PathBuf {
        let dir = self.path(name);
        copy_dir(&self.dir, &dir);
        std::fs::write(dir.join(file), bytes).unwrap();
        dir
    }
}

// ---- Fault 1: a wrong SEN2 key ----

fn import_sen2(fx: &Fixture, years: &[i32], key: &Path, extra: &[&str]) -> Run {
    let mut cmd = common::command();
    cmd.env("XDG_CONFIG_HOME", fx.path("config"))
        .args(["import", "sen2"])
        .args(
            years
                .iter()
                .map(|y| fx.dir.join(format!("sen2/sen2-{y}.xml"))),
        )
        .arg("--db")
        .arg(&fx.db)
        .args(["--la", LA, "--key-file"])
        .arg(key)
        .arg("--establishments")
        .arg(fx.dir.join("sen2/establishments.csv"))
        .args(extra);
    run_cmd(&mut cmd)
}

fn write_key(path: &Path, byte: u8) {
    let hex: String = std::iter::repeat_n(format!("{byte:02x}"), 32).collect();
    std::fs::write(path, format!("{hex}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

#[test]
fn fault_1_a_wrong_sen2_key_is_refused_and_nothing_is_written() {
    let fx = Fixture::new(400, 21);
    let (key_a, key_b) = (fx.path("a.sen2-key"), fx.path("b.sen2-key"));
    write_key(&key_a, 0xa1);
    write_key(&key_b, 0xb2);
    import_sen2(&fx, &[2022, 2023], &key_a, &[]).ok();
    let before = dump(&fx.db);

    // Next year's return with another key: refused by the stored fingerprint.
    let r = import_sen2(&fx, &[2024], &key_b, &[]);
    assert_refused(
        &r,
        65,
        &[
            "is not the key that pseudonymised LA E99999999's stored returns (censuses 2022, 2023)",
            "every child would become a leaver and a joiner",
            "--key-file",
            "import every return again in one command",
            "Nothing was written",
        ],
    );
    assert_eq!(
        dump(&fx.db),
        before,
        "a refused import changed the database"
    );

    // A key file that does not exist (a new laptop): refused, and no new key is left behind.
    let missing = fx.path("missing.sen2-key");
    let r = import_sen2(&fx, &[2024], &missing, &[]);
    assert_refused(&r, 65, &["does not exist: restore it from its backup"]);
    assert!(!missing.exists(), "a key was made for a refused import");
    assert_eq!(dump(&fx.db), before);

    // A database from before fingerprints: the match rate between the censuses catches the same fault.
    execute(&fx.db, "DELETE FROM sen2_keys");
    let before = dump(&fx.db);
    let r = import_sen2(&fx, &[2024], &key_b, &[]);
    assert_refused(
        &r,
        65,
        &[
            "children with a plan at census 2023 were found at census 2024",
            "different keys",
        ],
    );
    assert_eq!(dump(&fx.db), before);

    // The right key goes ahead; so does a lost key's way out: every return again, with the new key.
    let r = import_sen2(&fx, &[2024], &key_a, &[]);
    r.ok();
    assert!(r.stdout.contains("2023 → 2024"), "{}", r.both());
    import_sen2(&fx, &[2022, 2023, 2024], &key_b, &[]).ok();
}

// ---- Fault 2: zip bombs ----

#[test]
fn fault_2_zip_bombs_are_refused_by_validate_import_and_forecast() {
    let fx = Fixture::new(300, 22);
    fx.import("witan", &fx.dir, &["--la-name", "Exampleshire"])
        .ok();
    let before = dump(&fx.db);
    // 200,000 rows each with one cell in column AMJ (1,024th): about 1 MB on disk, 200 million cells (gigabytes)
    // if every row were built as a dense array; and a sheet that inflates 1,000-fold past the bound.
    let dense = bombs::far_cells(200_000, 1_023);
    let inflating = bombs::inflating_costs(300 << 20);
    assert!(dense.len() < 4 << 20 && inflating.len() < 2 << 20);
    for (file, bytes, rule) in [
        (
            "transitions.xlsx",
            &dense,
            "cells (counting the empty ones left of a filled cell)",
        ),
        (
            "costs.xlsx",
            &inflating,
            "workbook inflates to more than 268435456 bytes",
        ),
    ] {
        let dir = fx.witan_with(&format!("bomb-{file}"), file, bytes);
        let stem = file.split('.').next().unwrap();
        std::fs::remove_file(dir.join(format!("{stem}.csv"))).unwrap();
        let path = dir.join(file);
        let limit = 3 * 1024;
        let deadline = Duration::from_secs(120);
        let r = run_limited(&["validate".as_ref(), path.as_os_str()], limit, deadline);
        assert_refused(&r, 65, &[rule]);
        assert!(r.stdout.contains("REJECTED"), "{}", r.both());
        let r = run_limited(
            &[
                "import".as_ref(),
                "witan".as_ref(),
                dir.as_os_str(),
                "--db".as_ref(),
                fx.db.as_os_str(),
                "--la".as_ref(),
                LA.as_ref(),
            ],
            limit,
            deadline,
        );
        assert_refused(&r, 65, &[rule, "import rejected"]);
        assert_eq!(dump(&fx.db), before);
        let r = run_limited(
            &["forecast".as_ref(), "--witan-dir".as_ref(), dir.as_os_str()],
            limit,
            deadline,
        );
        assert_refused(&r, 65, &[rule]);
    }
}

// ---- Fault 3: header-only or blank files ----

#[test]
fn fault_3_header_only_files_cannot_wipe_stored_data() {
    let fx = Fixture::new(300, 23);
    fx.import("witan", &fx.dir, &[]).ok();
    fx.import("plans", &fx.dir.join("plans.csv"), &[]).ok();
    let before = dump(&fx.db);
    let header = |file: &str| {
        let text = std::fs::read_to_string(fx.dir.join(file)).unwrap();
        format!("{}\n", text.lines().next().unwrap())
    };
    for (name, file, body) in [
        ("header-only", "transitions.csv", header("transitions.csv")),
        (
            "blank-lines",
            "transitions.csv",
            format!("{}\n\n   \n\r\n", header("transitions.csv")),
        ),
        ("costs-header-only", "costs.csv", header("costs.csv")),
    ] {
        let dir = fx.witan_with(name, file, body.as_bytes());
        let r = run(["validate".as_ref(), dir.join(file).as_os_str()]);
        assert_no_crash(&r);
        assert_eq!(r.code, Some(0), "{}", r.both());
        assert!(
            r.stderr
                .contains("warning: has no data rows, only its header line"),
            "{}",
            r.both()
        );
        let r = fx.import("witan", &dir, &[]);
        assert_refused(
            &r,
            65,
            &[
                &format!("{} has no data rows", dir.join(file).display()),
                "--replace-with-empty",
            ],
        );
        assert_eq!(dump(&fx.db), before, "{name}");
    }
    // A set that removes most of the stored transitions is refused too.
    let text = std::fs::read_to_string(fx.dir.join("transitions.csv")).unwrap();
    let few: String = text.lines().take(20).map(|l| format!("{l}\n")).collect();
    let dir = fx.witan_with("few", "transitions.csv", few.as_bytes());
    let r = fx.import("witan", &dir, &[]);
    assert_refused(&r, 65, &["more than half would be removed"]);
    assert_eq!(dump(&fx.db), before);
    let r = fx.import(
        "plans",
        &fx.witan_with("plans-empty", "plans.csv", header("plans.csv").as_bytes())
            .join("plans.csv"),
        &[],
    );
    assert_refused(&r, 65, &["has no data rows"]);
    assert_eq!(dump(&fx.db), before);
    // Into a new database: refused before the database is created.
    let fresh = fx.path("fresh.db");
    let mut cmd = common::command();
    cmd.args(["import", "witan"])
        .arg(fx.path("header-only"))
        .arg("--db")
        .arg(&fresh);
    assert_refused(&run_cmd(&mut cmd), 65, &["has no data rows"]);
    assert!(!fresh.exists(), "a refused import created the database");
    // Said explicitly, it goes ahead.
    let dir = fx.path("costs-header-only");
    fx.import("witan", &dir, &["--replace-with-empty"]).ok();
    let after = dump(&fx.db);
    assert_eq!(rows_of(&after, "unit_costs"), 0, "{after}");
    assert!(rows_of(&after, "transitions") > 0);
}

// ---- Fault 4: figures never silently 0, null or inf ----

#[test]
fn fault_4_numeric_options_and_money_are_bounded() {
    let fx = Fixture::new(300, 24);
    let dir = fx.dir.as_os_str();
    for (opt, value, rule) in [
        ("--uplift", "100", "must be from -0.5 to 1"),
        ("--prior-strength", "1e308", "must be from 0 to 1000000"),
        ("--persistence-sd", "1e308", "must be from 0 to 10"),
        ("--uplift", "NaN", "must be from -0.5 to 1"),
    ] {
        let r = run([
            "forecast".as_ref(),
            "--witan-dir".as_ref(),
            dir,
            opt.as_ref(),
            value.as_ref(),
        ]);
        assert_refused(
            &r,
            2,
            &[&format!("invalid value '{value}' for '{opt}"), rule],
        );
    }
    // The largest uplift allowed, for long enough, leaves the range of pence: said, never printed as £0.
    let r = run([
        "forecast".as_ref(),
        "--witan-dir".as_ref(),
        dir,
        "--uplift".as_ref(),
        "1".as_ref(),
        "--years".as_ref(),
        "25".as_ref(),
        "--engine".as_ref(),
        "analytic".as_ref(),
    ]);
    assert_refused(&r, 1, &["is beyond what can be counted in pence"]);
    assert!(!r.stdout.contains("£0.00m"), "{}", r.both());
    // Extreme but allowed options give finite figures.
    for opts in [["--prior-strength", "1000000"], ["--persistence-sd", "10"]] {
        let r = run([
            "forecast".as_ref(),
            "--witan-dir".as_ref(),
            dir,
            opts[0].as_ref(),
            opts[1].as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
            "--sims".as_ref(),
            "200".as_ref(),
        ]);
        let out = r.ok();
        assert!(
            !out.contains("null") && !out.contains("inf") && !out.contains("NaN"),
            "{out}"
        );
    }
    // A cost beyond the i64 pence range is an error naming the file, line, column and rule.
    let costs = std::fs::read_to_string(fx.dir.join("costs.csv")).unwrap();
    let mut lines: Vec<String> = costs.lines().map(String::from).collect();
    let cells: Vec<&str> = lines[1].split(',').collect();
    // £92 trillion a year: within the i64 pence range, so it parsed, and every cost line printed £0.
    lines[1] = format!("{},{},92233720368547.58", cells[0], cells[1]);
    let bad = fx.witan_with(
        "huge-cost",
        "costs.csv",
        format!("{}\n", lines.join("\n")).as_bytes(),
    );
    let r = run(["validate".as_ref(), bad.join("costs.csv").as_os_str()]);
    assert_refused(
        &r,
        65,
        &[":2: column cost: \"92233720368547.58\" is more than £10,000,000 a year"],
    );
    fx.import("witan", &fx.dir, &[]).ok();
    let before = dump(&fx.db);
    assert_refused(
        &fx.import("witan", &bad, &[]),
        65,
        &["is more than £10,000,000"],
    );
    assert_eq!(dump(&fx.db), before);
}

// ---- Fault 5: resource bounds ----

#[test]
fn fault_5_threads_plans_and_non_regular_files_are_bounded() {
    let fx = Fixture::new(200, 25);
    let deadline = Duration::from_secs(30);
    let mut cmd = common::command();
    cmd.args(["forecast", "--witan-dir"])
        .arg(&fx.dir)
        .args(["--threads", "4000"]);
    let r = run_with_deadline(&mut cmd, deadline);
    assert_refused(
        &r,
        2,
        &["invalid value '4000' for '--threads", "4 per core"],
    );
    let r = run(["synth", "--plans", "3000000", "--out"]
        .map(std::ffi::OsStr::new)
        .into_iter()
        .chain([fx.path("big").as_os_str()]));
    assert_refused(&r, 2, &["invalid value '3000000' for '--plans"]);
    assert!(!fx.path("big").exists());

    #[cfg(unix)]
    {
        let fifo = fx.path("transitions.csv");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path and a mode.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        for path in [Path::new("/dev/zero"), fifo.as_path()] {
            let mut cmd = common::command();
            cmd.arg("validate").arg(path);
            let r = run_with_deadline(&mut cmd, deadline);
            assert_refused(&r, 65, &["is not a regular file"]);
            let mut cmd = common::command();
            cmd.args(["import", "budget"])
                .arg(path)
                .arg("--db")
                .arg(&fx.db);
            let r = run_with_deadline(&mut cmd, deadline);
            assert_refused(&r, 65, &["is not a regular file"]);
            let mut cmd = common::command();
            cmd.args(["import", "sen2"])
                .arg(fx.dir.join("sen2/sen2-2024.xml"))
                .arg("--db")
                .arg(&fx.db)
                .arg("--key-file")
                .arg(path);
            let r = run_with_deadline(&mut cmd, deadline);
            assert_refused(&r, 1, &["is not a regular file"]);
        }
        assert!(!fx.db.exists(), "a refused import created the database");
    }
}

// ---- Fault 6: plausibility warnings ----

#[test]
fn fault_6_implausible_inputs_are_warned_about_with_counts() {
    let fx = Fixture::new(200, 26);
    // Population projections run years ahead (the synthetic LA's do): only decades ahead is implausible.
    let r = run([
        "validate".as_ref(),
        fx.dir.join("population.csv").as_os_str(),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.both());
    assert!(!r.stderr.contains("after this year"), "{}", r.both());
    let trans = std::fs::read_to_string(fx.dir.join("transitions.csv")).unwrap();
    let future: String = trans
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 1 || i == 2 {
                let rest = l.split_once(',').unwrap().1;
                format!("2099,{rest}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let dir = fx.witan_with("future", "transitions.csv", future.as_bytes());
    let r = run(["validate".as_ref(), dir.join("transitions.csv").as_os_str()]);
    assert_eq!(r.code, Some(0), "{}", r.both());
    assert!(
        r.stderr
            .contains("warning: 2 rows with a calendar-year after this year"),
        "{}",
        r.both()
    );
    let pop = std::fs::read_to_string(fx.dir.join("population.csv")).unwrap();
    let far: String = pop
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 1 {
                let rest = l.split_once(',').unwrap().1;
                format!("2099,{rest}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let dir = fx.witan_with("far", "population.csv", far.as_bytes());
    let r = run(["validate".as_ref(), dir.join("population.csv").as_os_str()]);
    assert_eq!(r.code, Some(0), "{}", r.both());
    assert!(
        r.stderr
            .contains("warning: 1 row with a calendar-year more than 30 years after this year"),
        "{}",
        r.both()
    );

    let map = fx.path("map.csv");
    std::fs::write(&map, "source,label,setting\n").unwrap();
    let r = run([
        "forecast".as_ref(),
        "--witan-dir".as_ref(),
        fx.dir.as_os_str(),
        "--setting-map".as_ref(),
        map.as_os_str(),
        "--sims".as_ref(),
        "50".as_ref(),
    ]);
    assert_refused(&r, 1, &["maps nothing"]);

    // The synthetic register: URN,EstablishmentName,TypeOfEstablishment (name),... : the first school again,
    // with another type.
    let reg = fx.dir.join("sen2/establishments.csv");
    let text = std::fs::read_to_string(&reg).unwrap();
    let cells: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
    let mut other = cells.clone();
    other[2] = "A different type";
    std::fs::write(&reg, format!("{text}{}\n", other.join(","))).unwrap();
    let r = import_sen2(&fx, &[2024], &fx.path("k.sen2-key"), &[]);
    assert!(
        r.stderr
            .contains("1 row repeating a URN or UKPRN with a different TypeOfEstablishment"),
        "{}",
        r.both()
    );
}

// ---- Fault 7: formula injection ----

#[test]
fn fault_7_exports_neutralise_formulas_and_round_trip() {
    let fx = Fixture::new(200, 27);
    let budget = fx.path("hnb-budget.csv");
    std::fs::write(
        &budget,
        "financial_year,kind,line,amount\n2024-25,allocation,=HYPERLINK(\"http://x\"),100.00\n\
         2024-25,expenditure,@SUM(A1),50.00\n2024-25,expenditure,-Special schools,25.00\n",
    )
    .unwrap();
    fx.import("budget", &budget, &[]).ok();
    let out = fx.path("out");
    run([
        "export".as_ref(),
        "budget".as_ref(),
        "--db".as_ref(),
        fx.db.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ])
    .ok();
    let text = std::fs::read_to_string(out.join("hnb-budget.csv")).unwrap();
    for cell in [
        "\"'=HYPERLINK(\"\"http://x\"\")\"",
        "'@SUM(A1)",
        "'-Special schools",
    ] {
        assert!(text.contains(cell), "{cell} not in\n{text}");
    }
    // Imported again, the export is the same data: recognised line by line, nothing changes.
    let before = dump(&fx.db);
    fx.import("budget", &out.join("hnb-budget.csv"), &[]).ok();
    let after = dump(&fx.db);
    let lines = |d: &str| {
        d.lines()
            .filter(|l| l.contains("|'allocation'|") || l.contains("|'expenditure'|"))
            .map(|l| l.rsplit_once('|').unwrap().0.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(lines(&after), lines(&before));
}

/// The forecast's CSV output names an LA's own codes: one starting with - is quoted too.
#[test]
fn fault_7_forecast_csv_neutralises_codes_that_look_like_formulas() {
    let fx = Fixture::new(200, 29);
    let dir = fx.path("minus");
    copy_dir(&fx.dir, &dir);
    for f in ["transitions.csv", "costs.csv", "valid-states.csv"] {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        std::fs::write(dir.join(f), text.replace("ASD", "-ASD")).unwrap();
    }
    let r = run([
        "forecast".as_ref(),
        "--witan-dir".as_ref(),
        dir.as_os_str(),
        "--format".as_ref(),
        "csv".as_ref(),
        "--sims".as_ref(),
        "50".as_ref(),
        "--years".as_ref(),
        "1".as_ref(),
    ]);
    let out = r.ok();
    assert!(out.contains(",need,'-ASD,"), "{out}");
    assert!(!out.contains(",-ASD,"), "{out}");
}

// ---- Fault 8: small things ----

#[test]
fn fault_8_small_things_that_erode_trust() {
    let fx = Fixture::new(200, 28);
    fx.import("witan", &fx.dir, &["--la-name", "Exampleshire"])
        .ok();
    fx.import("budget", &fx.dir.join("hnb-budget.csv"), &[])
        .ok();
    assert!(
        dump(&fx.db).contains("'E99999999'|'Exampleshire'"),
        "the stored LA name was lost"
    );

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let p = PathBuf::from(format!("{}{suffix}", fx.db.display()));
            if let Ok(m) = std::fs::metadata(&p) {
                assert_eq!(m.permissions().mode() & 0o777, 0o600, "{}", p.display());
            }
        }
    }

    // A 0-byte key file (left by a failed creation) is explained.
    let empty = fx.path("empty.sen2-key");
    std::fs::write(&empty, "").unwrap();
    let r = import_sen2(&fx, &[2024], &empty, &[]);
    assert_refused(
        &r,
        1,
        &["is empty (left by a failed creation?)", "delete it"],
    );

    // A database error is said once.
    let r = fx.import("budget", &fx.dir.join("hnb-budget.csv"), &[]);
    r.ok();
    let r = run([
        "import".as_ref(),
        "budget".as_ref(),
        fx.dir.join("hnb-budget.csv").as_os_str(),
        "--db".as_ref(),
        fx.dir.as_os_str(),
    ]);
    assert_refused(&r, 1, &["could not be opened"]);
    assert_eq!(
        r.stderr.matches("unable to open database file").count(),
        1,
        "{}",
        r.both()
    );

    // "REJECTED (rows, errors)" counts every error, not the 100 shown plus one line.
    let text = std::fs::read_to_string(fx.dir.join("transitions.csv")).unwrap();
    let bad: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if (1..=150).contains(&i) {
                format!("{l},x\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let dir = fx.witan_with("bad", "transitions.csv", bad.as_bytes());
    let r = run(["validate".as_ref(), dir.join("transitions.csv").as_os_str()]);
    assert!(r.stdout.contains(", 150 errors,"), "{}", r.both());
    // Messages name the path the user gave, so two files called transitions.csv read apart.
    assert!(
        r.stderr
            .contains(&format!("{}:2:", dir.join("transitions.csv").display())),
        "{}",
        r.both()
    );

    // A very long argument is shortened in messages.
    let long = "E".repeat(100_000);
    let r = run(["import", "budget", "x.csv", "--la", &long]);
    assert_no_crash(&r);
    assert!(r.stderr.len() < 2_000, "{} bytes of stderr", r.stderr.len());

    // `import --help` says what import witan accepts.
    let help = run(["import", "--help"]).ok().to_string();
    assert!(
        help.contains("witan: one folder holding transitions"),
        "{help}"
    );
}

// ---- kill -9 during an import ----

/// A few kill -9 trials during a witan import that replaces another: after each, the database is exactly the
/// old state or exactly the new one (the long campaign: scripts/kill-campaign).
#[test]
fn kill_9_during_an_import_leaves_the_old_or_the_new_state() {
    let a = Fixture::new(2_150, 31);
    let b_dir = a.path("b");
    synth(&b_dir, 2_150, 32);
    a.import("witan", &a.dir, &[]).ok();
    let old = dump_without_times(&a.db);
    let reference = a.path("reference.db");
    std::fs::copy(&a.db, &reference).unwrap();
    let mut cmd = common::command();
    cmd.args(["import", "witan"])
        .arg(&b_dir)
        .arg("--db")
        .arg(&reference)
        .args(["--la", LA]);
    run_cmd(&mut cmd).ok();
    let new = dump_without_times(&reference);
    assert_ne!(old, new);
    let mut seen = (0, 0);
    for (trial, delay_ms) in [5u64, 40, 80, 150, 300].into_iter().enumerate() {
        let db = a.path(&format!("trial{trial}.db"));
        std::fs::copy(&a.db, &db).unwrap();
        let mut child = common::command()
            .args(["import", "witan"])
            .arg(&b_dir)
            .arg("--db")
            .arg(&db)
            .args(["--la", LA])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        let after = dump_without_times(&db);
        assert!(
            after == old || after == new,
            "trial {trial} ({delay_ms} ms): neither the old nor the new state"
        );
        if after == old {
            seen.0 += 1
        } else {
            seen.1 += 1
        }
    }
    eprintln!(
        "kill -9 trials: {} left the old state, {} the new",
        seen.0, seen.1
    );
}
