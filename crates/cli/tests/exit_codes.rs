//! Issue #12: the exit statuses scripts rely on (README.md, `highneeds --help`): 0 success, 1 failure of the
//! program or environment, 2 usage error, 65 rejected data, 130 interrupted.

mod common;

use common::{run, synth};

#[test]
fn success_is_0() {
    let tmp = tempfile::tempdir().unwrap();
    synth(tmp.path(), 150, 1);
    let r = run([
        "validate".as_ref(),
        tmp.path().join("plans.csv").as_os_str(),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.both());
}

#[test]
fn a_failure_of_the_environment_is_1() {
    // A database in a folder that does not exist cannot be opened: not the user's data, not their syntax.
    let r = run(["forecast", "--db", "/nonexistent-folder/highneeds.db"]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(1), "{}", r.both());
}

#[test]
fn a_usage_error_is_2() {
    let r = run(["forecast", "--no-such-option"]);
    assert_eq!(r.code, Some(2), "{}", r.both());
    let r = run(["import", "spreadsheet", "x.csv"]);
    assert_eq!(r.code, Some(2), "{}", r.both());
}

#[test]
fn rejected_data_is_65_with_every_issue_printed() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("hnb-budget.csv");
    std::fs::write(
        &bad,
        "financial_year,kind,line,amount\n2024-26,allocation,,1\n2024-25,allocation,,\"1,23\"\n",
    )
    .unwrap();
    let r = run(["validate".as_ref(), bad.as_os_str()]);
    assert_eq!(r.code, Some(65), "{}", r.both());
    assert!(
        r.stderr.contains("hnb-budget.csv:2: column financial_year"),
        "{}",
        r.both()
    );
    assert!(
        r.stderr
            .contains("hnb-budget.csv:3: column amount: \"1,23\""),
        "{}",
        r.both()
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_is_130() {
    use std::time::{Duration, Instant};
    let tmp = tempfile::tempdir().unwrap();
    // A synthetic LA of a million plans takes several seconds: long enough to be interrupted.
    let mut child = common::command()
        .args(["synth", "--plans", "1000000", "--seed", "1", "--out"])
        .arg(tmp.path().join("big"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start highneeds");
    std::thread::sleep(Duration::from_millis(700));
    // SAFETY: sending SIGINT to our own child process, whose pid we hold.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "not stopped by Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(130), "{status:?}");
}
