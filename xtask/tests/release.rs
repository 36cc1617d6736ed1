//! Releasing: `cargo xtask changelog` (release notes from the schema diff) and `cargo xtask
//! semver` (the gate against the last release), on the fixture pages of
//! `tests/fixtures/diff/release/` and temporary git repositories.
//!
//! The release notes are a snapshot (`tests/snapshots/changelog/release.md`, refreshed with
//! `UPDATE_SNAPSHOTS=1`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use clap::Parser;
use tempfile::TempDir;
use xtask::changelog::{BEGIN, END};
use xtask::cli::{Cli, Command};

mod snapshot;

fn fixture(side: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/diff/release").join(side)
}

/// `cargo xtask ARGS…` in `cwd`, for the commands that compare docs trees: exit status, stdout,
/// stderr.
fn xtask(args: &[&str], cwd: &Path) -> (u8, String, String) {
    let command = Cli::try_parse_from(["xtask"].iter().chain(args)).unwrap_or_else(|e| panic!("{args:?}: {e}")).command;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = match command {
        Command::Changelog(args) => xtask::changelog::run(&args, cwd, &mut out, &mut err),
        Command::Diff(args) => xtask::diff::run(&args, cwd, &mut out, &mut err),
        Command::Semver => xtask::release::run(cwd, &mut out, &mut err),
        other => panic!("not a command that compares: {other:?}"),
    };
    (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
}

#[test]
fn release_notes_put_breaking_changes_first_and_match_the_snapshot() {
    let (old, new) = (fixture("old"), fixture("new"));
    let (old, new) = (old.to_str().unwrap(), new.to_str().unwrap());
    let (code, notes, err) = xtask(&["changelog", old, new], Path::new("."));
    assert_eq!(code, 0, "{err}");

    let sections = ["#### Breaking changes", "#### Added", "#### Removed", "#### Other compatible changes"];
    let at: Vec<usize> = sections.iter().map(|s| notes.find(s).unwrap_or_else(|| panic!("no {s}:\n{notes}"))).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{notes}");
    assert!(
        notes.starts_with(
            "**Documented API:** 11 changes in 5 operations (1 shared type): **5 breaking**, 6 compatible.\n"
        ),
        "{notes}"
    );
    // A breaking change names its operation or shared type, its field and why it breaks.
    assert!(
        notes.contains(
            "- `POST /v3/demo/orders`\n  - `json.notify_url`: field added (`string, required`) — required in requests"
        ),
        "{notes}"
    );
    assert!(
        notes.contains("- Type `v3::demo::types::Amount`, used by `POST /v3/demo/orders response.amount`"),
        "{notes}"
    );
    assert!(
        notes.contains(
            "#### Removed\n\nBreaking: code that names them no longer compiles.\n\n- `GET /v3/demo/legacy` (旧接口)\n"
        ),
        "{notes}"
    );
    // Compatible changes: one line per operation, by kind.
    assert!(
        notes.contains(
            "- `POST /v3/demo/orders`: field added `json.goods_tag` (`string, optional`), `json.time_expire`"
        ),
        "{notes}"
    );

    // The same renderer behind the diff's format.
    let (code, diffed, _) = xtask(&["diff", old, new, "--format", "changelog"], Path::new("."));
    assert_eq!((code, diffed.as_str()), (0, notes.as_str()));

    snapshot::assert_snapshot("changelog/release.md", &notes, "the release notes");
}

#[test]
fn write_replaces_the_generated_part_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("CHANGELOG.md");
    let hand_written = "# Changelog\n\n## [Unreleased]\n\nA note by hand.\n\n### Documented API\n\n";
    fs::write(&file, format!("{hand_written}{BEGIN}\nstale notes\n{END}\n\n## [0.1.0]\n")).unwrap();
    let (old, new) = (fixture("old"), fixture("new"));
    let args = ["changelog", old.to_str().unwrap(), new.to_str().unwrap(), "--write", "CHANGELOG.md"];

    let (code, out, err) = xtask(&args, dir.path());
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "CHANGELOG.md: release notes written (11 changes, 5 breaking)\n");
    let written = fs::read_to_string(&file).unwrap();
    let (_, printed, _) = xtask(&args[..3], dir.path());
    assert_eq!(written, format!("{hand_written}{BEGIN}\n\n{printed}\n{END}\n\n## [0.1.0]\n"));
    // Writing again changes nothing.
    assert_eq!(xtask(&args, dir.path()).0, 0);
    assert_eq!(fs::read_to_string(&file).unwrap(), written);

    fs::write(&file, "# Changelog\n").unwrap();
    let (code, _, err) = xtask(&args, dir.path());
    assert_eq!(code, 2);
    assert!(err.contains(&format!("CHANGELOG.md: no `{BEGIN}` line")), "{err}");
    assert_eq!(fs::read_to_string(&file).unwrap(), "# Changelog\n");
}

#[test]
fn no_release_notes_from_pages_that_do_not_load() {
    let dir = tempfile::tempdir().unwrap();
    copy(&fixture("old"), &dir.path().join("old"));
    copy(&fixture("new"), &dir.path().join("new"));
    let page = dir.path().join("new/openapi/v3/demo/refunds.md");
    fs::write(&page, fs::read_to_string(&page).unwrap().replace("| string | 商户退款单号", "| money | 商户退款单号"))
        .unwrap();
    fs::write(dir.path().join("CHANGELOG.md"), format!("{BEGIN}\n{END}\n")).unwrap();

    let (code, out, err) = xtask(&["changelog", "old", "new", "--write", "CHANGELOG.md"], dir.path());
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.contains("new/openapi/v3/demo/refunds.md:14: unknown type `money`"), "{err}");
    assert!(err.contains("no release notes from a partial comparison"), "{err}");
    assert_eq!(fs::read_to_string(dir.path().join("CHANGELOG.md")).unwrap(), format!("{BEGIN}\n{END}\n"));
}

// The semver gate, in a repository whose last release (release.toml) has the fixture's old pages.

fn copy(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy(&path, &target);
        } else {
            fs::copy(&path, &target).unwrap();
        }
    }
}

/// `git ARGS…` in `dir`; its stdout.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Process::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn set_version(repo: &Path, version: &str) {
    fs::write(repo.join("Cargo.toml"), format!("[package]\nname = \"demo\"\nversion = \"{version}\"\n")).unwrap();
}

/// A repository whose release 0.1.0 is its first commit, with the fixture's old pages as `specs/`.
fn released() -> TempDir {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    copy(&fixture("old"), &repo.path().join("specs"));
    set_version(repo.path(), "0.1.0");
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "release 0.1.0"]);
    let commit = git(repo.path(), &["rev-parse", "HEAD"]);
    fs::write(repo.path().join("release.toml"), format!("version = \"0.1.0\"\ncommit = \"{}\"\n", commit.trim()))
        .unwrap();
    repo
}

#[test]
fn a_breaking_change_without_a_new_version_fails_the_gate() {
    let repo = released();
    fs::remove_dir_all(repo.path().join("specs")).unwrap();
    copy(&fixture("new"), &repo.path().join("specs"));

    let (code, out, err) = xtask(&["semver"], repo.path());
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("BREAKING    json.notify_url: field added (string, required)"), "{out}");
    assert!(!out.contains("  compatible  "), "only the breaking changes are listed:\n{out}");
    assert!(err.contains("5 breaking changes to specs/ since 0.1.0"), "{err}");
    assert!(err.contains("set it to 0.2.0 or later"), "{err}");

    // A patch release does not allow it either; a new minor before 1.0 does.
    set_version(repo.path(), "0.1.1");
    assert_eq!(xtask(&["semver"], repo.path()).0, 1);
    set_version(repo.path(), "0.2.0");
    let (code, out, err) = xtask(&["semver"], repo.path());
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "semver: 0.2.0 is not compatible with the last release 0.1.0: breaking changes allowed\n");
}

#[test]
fn a_compatible_change_passes_the_gate_and_is_in_the_release_notes() {
    let repo = released();
    let added = "openapi/v3/demo/closes.md";
    fs::copy(fixture("new").join(added), repo.path().join("specs").join(added)).unwrap();

    let (code, out, err) = xtask(&["semver"], repo.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("semver: 1 change to specs/ since 0.1.0 ("), "{out}");
    assert!(out.ends_with("none breaking: 0.1.0 may stay compatible\n"), "{out}");

    // Without OLD or --git, the release notes are those since the last release.
    let (code, notes, err) = xtask(&["changelog"], repo.path());
    assert_eq!(code, 0, "{err}");
    assert!(notes.contains("#### Added\n\n- `POST /v3/demo/closes` (关单)\n"), "{notes}");
}

#[test]
fn a_clone_without_the_release_commit_fails_saying_how_to_fetch_it() {
    let repo = released();
    let release = fs::read_to_string(repo.path().join("release.toml")).unwrap();
    git(repo.path(), &["add", "release.toml"]);
    git(repo.path(), &["commit", "-q", "-m", "after the release"]);
    let clones = tempfile::tempdir().unwrap();
    let origin = format!("file://{}", repo.path().display());
    git(clones.path(), &["clone", "-q", "--depth", "1", &origin, "shallow"]);
    let shallow = clones.path().join("shallow");

    let (code, out, err) = xtask(&["semver"], &shallow);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.contains("is not in this clone") && err.contains("git fetch --unshallow"), "{err}");
    let commit = release.lines().find_map(|l| l.strip_prefix("commit = ")).unwrap().trim_matches('"');
    assert!(err.contains(commit), "{err}");
    assert_eq!(xtask(&["changelog"], &shallow).0, 2);

    git(&shallow, &["fetch", "-q", "--unshallow"]);
    assert_eq!(xtask(&["semver"], &shallow).0, 0);
}

#[test]
fn an_unreadable_release_or_version_is_an_error_not_a_pass() {
    let repo = released();
    set_version(repo.path(), "0.0.9");
    let (code, _, err) = xtask(&["semver"], repo.path());
    assert_eq!(code, 2);
    assert!(err.contains("the version in Cargo.toml, 0.0.9, is older than the last release, 0.1.0"), "{err}");

    set_version(repo.path(), "0.1.0");
    fs::write(repo.path().join("release.toml"), "version = \"0.1\"\n").unwrap();
    let (code, _, err) = xtask(&["semver"], repo.path());
    assert_eq!(code, 2);
    assert!(err.contains("release.toml"), "{err}");

    fs::remove_file(repo.path().join("release.toml")).unwrap();
    let (code, _, err) = xtask(&["semver"], repo.path());
    assert_eq!(code, 2);
    assert!(err.contains("cannot read") && err.contains("release.toml"), "{err}");
}
