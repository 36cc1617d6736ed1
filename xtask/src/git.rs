//! What the diff, the changelog and the semver gate ask of git: the repository around a
//! directory, whether it has a commit, and `specs/` as it was at a revision.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The top level (working tree) of the repository that holds `dir`.
pub fn toplevel(dir: &Path) -> Result<PathBuf, String> {
    let top = git(dir).args(["rev-parse", "--show-toplevel"]).output().map_err(|e| format!("cannot run git: {e}"))?;
    if !top.status.success() {
        return Err(format!("not in a git repository: {}", String::from_utf8_lossy(&top.stderr).trim()));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&top.stdout).trim()))
}

/// Whether the repository at `root` has the commit `rev` (a shallow clone may not).
pub fn has_commit(root: &Path, rev: &str) -> Result<bool, String> {
    let status = git(root)
        .args(["cat-file", "-e", &format!("{rev}^{{commit}}")])
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run git: {e}"))?;
    Ok(status.success())
}

fn git(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command.arg("-C").arg(dir);
    command
}

/// `specs/` of a git revision, extracted into a temporary directory (removed on drop).
pub struct SpecsAt {
    /// The repository's top level (its working tree).
    pub root: PathBuf,
    tmp: PathBuf,
}

impl SpecsAt {
    /// Extracts `specs/` at `rev` from the repository that holds `cwd`.
    pub fn extract(cwd: &Path, rev: &str) -> Result<SpecsAt, String> {
        let root = toplevel(cwd)?;
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let tmp = std::env::temp_dir().join(format!("xtask-diff-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
        let checkout = SpecsAt { root, tmp };

        let mut archive = git(&checkout.root)
            .args(["archive", "--format=tar", rev, "--", "specs"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run git archive: {e}"))?;
        let tar = Command::new("tar")
            .arg("-x")
            .arg("-C")
            .arg(&checkout.tmp)
            .stdin(archive.stdout.take().expect("piped"))
            .output()
            .map_err(|e| format!("cannot run tar: {e}"))?;
        let archived = archive.wait_with_output().map_err(|e| format!("git archive: {e}"))?;
        if !archived.status.success() {
            return Err(format!("cannot read specs/ at `{rev}`: {}", String::from_utf8_lossy(&archived.stderr).trim()));
        }
        if !tar.status.success() {
            return Err(format!("cannot extract specs/ at `{rev}`: {}", String::from_utf8_lossy(&tar.stderr).trim()));
        }
        Ok(checkout)
    }

    /// The extracted `specs/`.
    pub fn specs(&self) -> PathBuf {
        self.tmp.join("specs")
    }
}

impl Drop for SpecsAt {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}
