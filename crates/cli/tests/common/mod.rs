//! Helpers shared by the black-box tests: run the built binary, make synthetic folders, dump databases.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What one run of the binary gave.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Both streams, for messages.
    pub fn both(&self) -> String {
        format!(
            "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// Fails the test if the process panicked (exit 101 or a panic message on either stream).
    pub fn assert_no_panic(&self) {
        assert_ne!(self.code, Some(101), "exit 101 (panic?)\n{}", self.both());
        assert!(
            !self.stdout.contains("panicked") && !self.stderr.contains("panicked"),
            "panic message\n{}",
            self.both()
        );
        assert!(
            !self.stderr.contains("RUST_BACKTRACE"),
            "panic message\n{}",
            self.both()
        );
    }

    /// Fails the test unless the exit status is 0; returns stdout.
    pub fn ok(&self) -> &str {
        self.assert_no_panic();
        assert_eq!(self.code, Some(0), "expected success\n{}", self.both());
        &self.stdout
    }
}

/// A command for the binary under test, with a neutral environment (no colour, fixed user). `HIGHNEEDS_BIN`
/// names another build to test instead (e.g. an older commit's, to see a fault test fail before its fix).
pub fn command() -> Command {
    let bin =
        std::env::var_os("HIGHNEEDS_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_highneeds").into());
    let mut c = Command::new(bin);
    c.env("NO_COLOR", "1")
        .env("USER", "tester")
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LOG")
        .env_remove("HIGHNEEDS_DB");
    c
}

/// Run the binary with these arguments.
pub fn run<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_cmd(command().args(args))
}

pub fn run_cmd(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("could not start highneeds");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A path in /work/shared (read in place, never copied).
pub fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel)
}

/// The witan.send demo folder.
pub fn witan_demo() -> PathBuf {
    shared("peers/witan-send-demo")
}

/// `highneeds synth --plans N --seed S --out DIR`; returns the plans count it reports.
pub fn synth(dir: &Path, plans: u32, seed: u64) -> u64 {
    let r = run([
        "synth".as_ref(),
        "--plans".as_ref(),
        plans.to_string().as_ref(),
        "--seed".as_ref(),
        seed.to_string().as_ref(),
        "--out".as_ref(),
        dir.as_os_str(),
    ]);
    let out = r.ok();
    // "wrote 1 LA to DIR: 209 plans in January 2024 (asked 200; ...)"
    let after = out
        .split(": ")
        .nth(1)
        .unwrap_or_else(|| panic!("unexpected synth output: {out}"));
    after
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected synth output: {out}"))
}

/// `highneeds import KIND PATH --db DB`.
pub fn import(kind: &str, path: &Path, db: &Path) -> Run {
    run([
        "import".as_ref(),
        kind.as_ref(),
        path.as_os_str(),
        "--db".as_ref(),
        db.as_os_str(),
    ])
}

/// Whether the `sqlite3` shell is installed.
pub fn have_sqlite3() -> bool {
    Command::new("sqlite3")
        .arg("-version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Everything in a database: `sqlite3 DB .dump` if the shell is installed, else the bytes of DB, DB-wal and
/// DB-shm (a missing file counts as empty, and is told apart from an empty file).
pub fn dump(db: &Path) -> Vec<u8> {
    if have_sqlite3() {
        let out = Command::new("sqlite3")
            .arg(db)
            .arg(".dump")
            .output()
            .expect("sqlite3 did not run");
        assert!(
            out.status.success(),
            "sqlite3 .dump failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stdout.is_empty());
        return out.stdout;
    }
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::read(PathBuf::from(p)) {
            Ok(bytes) => {
                all.extend_from_slice(format!("[{suffix} {}]", bytes.len()).as_bytes());
                all.extend_from_slice(&bytes);
            }
            Err(_) => all.extend_from_slice(format!("[{suffix} missing]").as_bytes()),
        }
    }
    all
}

/// Copy a folder's files (not sub-folders) into a new folder.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// A small deterministic generator (SplitMix64), for reproducible "random" bytes.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next_u64() >> 56) as u8).collect()
    }
}
