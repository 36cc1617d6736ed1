//! The last release, as `release.toml` records it, and the semver gate against it:
//! `cargo xtask semver`.
//!
//! A breaking change to `specs/` is a breaking change of the generated crate, so it needs a
//! version that Cargo does not treat as compatible with the last release. The gate reads both
//! versions; when the new one is not such a bump, it compares `specs/` at the release's commit with
//! the working tree, as `cargo xtask diff --git COMMIT --deny-breaking` would.

use std::io::Write;
use std::path::Path;

use semver::Version;
use serde::Deserialize;

use crate::diff::render::{plural, text};
use crate::diff::{compare_sources, Options, Source};
use crate::git;

/// The file at the repository's top level that records the last release.
pub const FILE: &str = "release.toml";

/// The last release: its version, and the commit it was cut from.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    pub version: Version,
    pub commit: String,
}

impl Release {
    /// `release.toml` at the top level `root`.
    pub fn read(root: &Path) -> Result<Release, String> {
        let path = root.join(FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))
    }

    /// `specs/` at the release's commit, which this clone must have: a shallow clone lacks it,
    /// and passing without comparing would let a breaking change through.
    pub fn source(&self, root: &Path) -> Result<Source, String> {
        if !git::has_commit(root, &self.commit)? {
            return Err(format!(
                "the commit of release {} ({}, from {FILE}) is not in this clone, a shallow one perhaps: \
                 fetch it with `git fetch --unshallow` (or `git fetch origin {}`) and run again",
                self.version, self.commit, self.commit
            ));
        }
        Ok(Source::Git { rev: self.commit.clone() })
    }
}

/// The version in `Cargo.toml` at `root`: `[package] version`, else `[workspace.package]
/// version` (which the package may inherit with `version.workspace = true`).
pub fn workspace_version(root: &Path) -> Result<Version, String> {
    let path = root.join("Cargo.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let manifest: toml::Table = toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))?;
    let workspace = manifest.get("workspace").and_then(|w| w.get("package"));
    let version = version_in(manifest.get("package"))
        .or(version_in(workspace))
        .ok_or_else(|| format!("{}: no version in [package] or [workspace.package]", path.display()))?;
    Version::parse(version).map_err(|e| format!("{}: version `{version}`: {e}", path.display()))
}

/// A table's `version`, when it is a string (not `version.workspace = true`).
fn version_in(table: Option<&toml::Value>) -> Option<&str> {
    table?.get("version")?.as_str()
}

/// Whether `version` may break what `released` offered: Cargo treats two versions as compatible
/// when their left-most non-zero component is the same (1.2 and 1.5, 0.1.0 and 0.1.3).
pub fn allows_breaking(released: &Version, version: &Version) -> bool {
    version > released && compatibility(version) != compatibility(released)
}

/// The left-most non-zero component, in place.
fn compatibility(v: &Version) -> (u64, u64, u64) {
    match (v.major, v.minor) {
        (0, 0) => (0, 0, v.patch),
        (0, minor) => (0, minor, 0),
        (major, _) => (major, 0, 0),
    }
}

/// The first version after `released` that may break.
pub fn next_breaking(released: &Version) -> Version {
    match (released.major, released.minor) {
        (0, 0) => Version::new(0, 0, released.patch + 1),
        (0, minor) => Version::new(0, minor + 1, 0),
        (major, _) => Version::new(major + 1, 0, 0),
    }
}

/// `cargo xtask semver` for the repository that holds `cwd`, writing to `out` and `err`; returns
/// the exit status: 0 nothing breaking or the version allows it, 1 breaking without the bump, 2 when
/// something cannot be read.
pub fn run(cwd: &Path, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match gate(cwd, out, err) {
        Ok(status) => status,
        Err(message) => {
            let _ = writeln!(err, "error: {message}");
            2
        }
    }
}

fn gate(cwd: &Path, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, String> {
    let root = git::toplevel(cwd)?;
    let release = Release::read(&root)?;
    let version = workspace_version(&root)?;
    let released = &release.version;
    if version < *released {
        return Err(format!(
            "the version in Cargo.toml, {version}, is older than the last release, {released} ({FILE})"
        ));
    }
    if allows_breaking(released, &version) {
        let _ = writeln!(
            out,
            "semver: {version} is not compatible with the last release {released}: breaking changes allowed"
        );
        return Ok(0);
    }
    let compared = match compare_sources(&release.source(&root)?, &root, Options::default(), err) {
        Ok(compared) => compared,
        Err(status) => return Ok(status),
    };
    if !compared.unread.is_empty() {
        // A page that does not load could hide a breaking change: no pass on a partial comparison.
        return Err(format!(
            "{} page error{} (above): specs/ not fully compared",
            compared.unread.len(),
            plural(compared.unread.len())
        ));
    }
    let since = format!("{released} ({})", release.commit.get(..12).unwrap_or(&release.commit));
    let breaking: Vec<_> = compared.changes.iter().filter(|c| c.breaking).cloned().collect();
    if breaking.is_empty() {
        let n = compared.changes.len();
        let _ = writeln!(
            out,
            "semver: {n} change{} to specs/ since {since}, none breaking: {version} may stay compatible",
            plural(n)
        );
        return Ok(0);
    }
    let _ = out.write_all(text(&breaking, &[]).as_bytes());
    let _ = writeln!(
        err,
        "error: {} breaking change{} to specs/ since {since}, and the version in Cargo.toml, {version}, is compatible \
         with {released}: set it to {} or later (or undo them)",
        breaking.len(),
        plural(breaking.len()),
        next_breaking(released)
    );
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn a_bump_of_the_left_most_non_zero_component_allows_breaking() {
        for (released, version) in
            [("0.1.0", "0.2.0"), ("0.1.3", "1.0.0"), ("1.4.2", "2.0.0"), ("0.0.3", "0.0.4"), ("0.1.0", "0.2.0-rc.1")]
        {
            assert!(allows_breaking(&v(released), &v(version)), "{released} → {version}");
        }
        for (released, version) in
            [("0.1.0", "0.1.0"), ("0.1.0", "0.1.7"), ("1.4.2", "1.9.0"), ("0.2.0", "0.1.0"), ("2.0.0", "1.0.0")]
        {
            assert!(!allows_breaking(&v(released), &v(version)), "{released} → {version}");
        }
    }

    #[test]
    fn the_next_breaking_version_is_the_next_left_most_non_zero_component() {
        assert_eq!(next_breaking(&v("0.1.4")), v("0.2.0"));
        assert_eq!(next_breaking(&v("1.4.2")), v("2.0.0"));
        assert_eq!(next_breaking(&v("0.0.3")), v("0.0.4"));
    }

    #[test]
    fn the_version_is_the_packages_or_the_workspaces() {
        let dir = tempfile::tempdir().unwrap();
        let version = |manifest: &str| {
            std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
            workspace_version(dir.path())
        };
        assert_eq!(version("[package]\nname = \"a\"\nversion = \"0.3.1\"\n"), Ok(v("0.3.1")));
        let inherited = "[workspace.package]\nversion = \"1.2.0\"\n[package]\nname = \"a\"\nversion.workspace = true\n";
        assert_eq!(version(inherited), Ok(v("1.2.0")));
        assert!(version("[package]\nname = \"a\"\n")
            .unwrap_err()
            .contains("no version in [package] or [workspace.package]"));
        assert!(version("[package]\nversion = \"one\"\n").unwrap_err().contains("version `one`"));
    }
}
