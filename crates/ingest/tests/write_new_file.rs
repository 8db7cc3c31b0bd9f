//! `write::write_new_file`: whole files only, an existing file kept unless replacing, nothing left behind.

use highneeds_ingest::write::write_new_file;

fn leftovers(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[test]
fn writes_a_new_file_refuses_an_existing_one_and_replaces_on_request() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("book.xlsx");
    write_new_file(&path, b"first", false).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"first");
    let e = write_new_file(&path, b"second", false).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read(&path).unwrap(), b"first", "kept as it was");
    write_new_file(&path, b"third", true).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"third");
    assert!(
        leftovers(tmp.path()).is_empty(),
        "{:?}",
        leftovers(tmp.path())
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn a_folder_that_does_not_exist_is_an_error_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("missing").join("book.xlsx");
    assert!(write_new_file(&path, b"x", false).is_err());
    assert!(write_new_file(&path, b"x", true).is_err());
    assert!(!path.exists());
    assert!(leftovers(tmp.path()).is_empty());
}

#[cfg(unix)]
#[test]
fn a_dangling_symlink_counts_as_existing() {
    // A link to nowhere is refused too: writing through it would create a file wherever it points.
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("book.xlsx");
    std::os::unix::fs::symlink(tmp.path().join("elsewhere"), &path).unwrap();
    let e = write_new_file(&path, b"x", false).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
    assert!(!tmp.path().join("elsewhere").exists());
}
