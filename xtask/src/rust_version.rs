//! `cargo xtask rust-version`: the `rust-version` the workspace declares must be true, at least the
//! highest `rust-version` of any package in the locked dependency closure (`cargo metadata` lists
//! each package's), or users on the declared compiler get a build failure instead of Cargo's
//! clear message.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use semver::Version;
use serde::Deserialize;

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    workspace_members: Vec<String>,
}

#[derive(Deserialize)]
struct Package {
    id: String,
    name: String,
    version: String,
    rust_version: Option<String>,
}

/// Checks the declared `rust-version` against the locked closure; the exit status (0 true, 1 too
/// low, 2 cannot tell).
pub fn run(root: &Path, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match check(root) {
        Ok(report) => {
            let _ = writeln!(out, "{}", report.line());
            if report.declared >= report.needed {
                0
            } else {
                let _ =
                    writeln!(err, "the declared rust-version {} is lower than {} needs", report.declared, report.by);
                1
            }
        }
        Err(message) => {
            let _ = writeln!(err, "{message}");
            2
        }
    }
}

/// What was declared and what the closure needs.
#[derive(Debug, PartialEq, Eq)]
pub struct Report {
    pub declared: Version,
    pub needed: Version,
    /// The package needing it (`name version`).
    pub by: String,
}

impl Report {
    fn line(&self) -> String {
        format!("rust-version {} declared; the locked dependencies need {} ({})", self.declared, self.needed, self.by)
    }
}

fn check(root: &Path) -> Result<Report, String> {
    let declared = declared(root)?;
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    let metadata: Metadata =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("cargo metadata's output: {e}"))?;
    // The workspace's own crates declare what is checked here: only the dependencies count.
    let dependencies: Vec<Package> =
        metadata.packages.into_iter().filter(|package| !metadata.workspace_members.contains(&package.id)).collect();
    let (needed, by) = highest(&dependencies).ok_or("no dependency declares a rust-version")?;
    Ok(Report { declared, needed, by })
}

/// The highest `rust-version` among `packages`, and which package declares it.
fn highest(packages: &[Package]) -> Option<(Version, String)> {
    packages
        .iter()
        .filter_map(|package| {
            let version = parse(package.rust_version.as_deref()?)?;
            Some((version, format!("{} {}", package.name, package.version)))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
}

/// `1.88` or `1.88.0` as a version.
fn parse(text: &str) -> Option<Version> {
    let text = text.trim();
    let full = if text.matches('.').count() == 1 { format!("{text}.0") } else { text.to_owned() };
    Version::parse(&full).ok()
}

/// `[workspace.package] rust-version` of the root manifest.
fn declared(root: &Path) -> Result<Version, String> {
    let path = root.join("Cargo.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let manifest: toml::Table = toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))?;
    let value = manifest
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("rust-version"))
        .and_then(toml::Value::as_str)
        .ok_or_else(|| format!("{}: no [workspace.package] rust-version", path.display()))?;
    parse(value).ok_or_else(|| format!("{}: rust-version {value:?} is not a version", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(name: &str, rust_version: Option<&str>) -> Package {
        let id = format!("{name} 1.0.0");
        Package { id, name: name.into(), version: "1.0.0".into(), rust_version: rust_version.map(str::to_owned) }
    }

    #[test]
    fn the_highest_declared_rust_version_wins_whatever_its_notation() {
        let packages =
            [package("a", Some("1.70")), package("b", None), package("c", Some("1.88.0")), package("d", Some("1.81"))];
        assert_eq!(highest(&packages), Some((Version::new(1, 88, 0), "c 1.0.0".into())));
        assert_eq!(highest(&[package("b", None)]), None);
        assert_eq!(parse("1.88"), Some(Version::new(1, 88, 0)));
        assert_eq!(parse("x"), None);
    }

    #[test]
    fn this_workspace_declares_a_true_rust_version() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let report = check(root).unwrap();
        assert!(report.declared >= report.needed, "{}", report.line());
    }
}
