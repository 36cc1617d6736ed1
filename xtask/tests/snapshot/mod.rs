//! Expected output kept in `tests/snapshots/`: compared, or rewritten with `UPDATE_SNAPSHOTS=1`.

use std::path::Path;

/// Fails when `actual` differs from the file at `path` (under `tests/snapshots/`), showing
/// `actual`; with `UPDATE_SNAPSHOTS` set, writes it there instead. `what` names it in the message.
#[track_caller]
pub fn assert_snapshot(path: &str, actual: &str, what: &str) {
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(path);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(snapshot.parent().unwrap()).unwrap();
        std::fs::write(&snapshot, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&snapshot)
        .unwrap_or_else(|_| panic!("{} is missing; run with UPDATE_SNAPSHOTS=1 to write it", snapshot.display()));
    assert!(
        expected == actual,
        "{what} differs from {}; if the change is intended, rerun with UPDATE_SNAPSHOTS=1\n--- actual ---\n{actual}",
        snapshot.display()
    );
}
