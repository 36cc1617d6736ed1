//! `cargo xtask diff`: what a docs change means for users of the generated crate.
//!
//! Both trees are loaded into the IR (`load`), compared there (`compare`), and the changes shown
//! (`render`). Comparing the IR, not the markdown, is what keeps reworded descriptions, new PHP
//! samples and tooltips out of the report.
//!
//! ```text
//! cargo xtask diff OLD NEW                 # two docs trees (or specs/-like folders)
//! cargo xtask diff --git REV               # specs/ at REV against the working tree's specs/
//!     --format text|markdown|json          # text by default
//!     --deny-breaking                      # exit 1 when anything is breaking (for CI)
//!     --show-descriptions                  # also list title and description edits
//! ```
//!
//! Exit codes: 0 compared, 1 breaking changes with `--deny-breaking`, 2 bad arguments or pages
//! that do not load. A page that does not load on either side costs only itself: it is left out
//! on both sides (the Rust names of both decided without it), its errors printed as
//! `tree/file:line: message`, every other page compared and reported, and the status is 2 at the
//! end (a partial report must not pass CI).

pub mod compare;
pub mod render;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

pub use compare::{compare, Change, Kind, Options, Subject, TypePair, Use};
pub use render::{Summary, Unread};

use crate::ir::Api;
use crate::load::{load_each, Loaded};

/// How to show the changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Text,
    Markdown,
    Json,
}

impl Format {
    /// The changes, and the pages not compared because they do not load (`tree/file:line: message`).
    pub fn render(self, changes: &[Change], unread: &[Unread]) -> String {
        match self {
            Format::Text => render::text(changes, unread),
            Format::Markdown => render::markdown(changes, unread),
            Format::Json => render::json(changes, unread),
        }
    }
}

/// Where the two sides come from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Source {
    Dirs { old: PathBuf, new: PathBuf },
    Git { rev: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Args {
    source: Source,
    format: Format,
    deny_breaking: bool,
    descriptions: bool,
}

const USAGE: &str = "\
usage: cargo xtask diff [OPTIONS] OLD NEW
       cargo xtask diff [OPTIONS] --git REV

Compares two docs trees (or specs/-like folders) and reports each schema change, breaking or
compatible for users of the generated crate. With --git, compares specs/ at git revision REV
with the working tree's specs/.

options:
  --format text|markdown|json   output format (default: text)
  --deny-breaking               exit with status 1 when a change is breaking
  --show-descriptions           also report title and description edits
";

/// Entry point of `cargo xtask diff ARGS…` (`args` excludes `diff`).
pub fn main(args: Vec<String>) -> ExitCode {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    ExitCode::from(run(&args, &cwd, &mut stdout.lock(), &mut stderr.lock()))
}

/// [`main`], with its working directory and output streams given; returns the exit status.
pub fn run(args: &[String], cwd: &Path, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let args = match parse_args(args) {
        Ok(Some(args)) => args,
        Ok(None) => {
            let _ = out.write_all(USAGE.as_bytes());
            return 0;
        }
        Err(message) => {
            let _ = writeln!(err, "error: {message}\n\n{USAGE}");
            return 2;
        }
    };

    let checkout;
    let (old, new) = match &args.source {
        Source::Dirs { old, new } => (cwd.join(old), cwd.join(new)),
        Source::Git { rev } => match GitCheckout::specs_at(cwd, rev) {
            Ok(c) => {
                checkout = c;
                (checkout.specs(), checkout.root.join("specs"))
            }
            Err(message) => {
                let _ = writeln!(err, "error: {message}");
                return 2;
            }
        },
    };
    // Trees are named in messages as the user named them.
    let (old_name, new_name) = match &args.source {
        Source::Dirs { old, new } => (old.display().to_string(), new.display().to_string()),
        Source::Git { rev } => (format!("{rev}:specs"), "specs".to_owned()),
    };

    let (old_tree, new_tree) = match load_both(&old, &new) {
        (Ok(o), Ok(n)) => (o, n),
        (o, n) => {
            for (name, result) in [(&old_name, o), (&new_name, n)] {
                if let Err(e) = result {
                    let _ = writeln!(err, "error: {name}: {}", e.message);
                }
            }
            return 2;
        }
    };
    let report = Report::of(old_tree, new_tree, Options { descriptions: args.descriptions });

    // Defects of the new tree are worth fixing in this change; the old tree's are history.
    for w in &report.new_warnings {
        let _ = writeln!(err, "warning: {new_name}/{w}");
    }
    let mut unread = Vec::new();
    for (name, errors) in [(&old_name, &report.old_errors), (&new_name, &report.new_errors)] {
        if !errors.is_empty() {
            let pages = errors.iter().map(|e| e.file.as_str()).collect::<BTreeSet<_>>().len();
            let _ = writeln!(err, "error: {pages} page{} of {name} not compared (they do not load):", plural(pages));
        }
        for e in errors {
            let page = Unread { tree: name.clone(), error: e.clone() };
            let _ = writeln!(err, "{page}");
            unread.push(page);
        }
    }
    let _ = out.write_all(args.format.render(&report.changes, &unread).as_bytes());
    // Pages that do not load come first: the report is incomplete, whatever it says.
    if !unread.is_empty() {
        return 2;
    }
    let breaking = report.changes.iter().filter(|c| c.breaking).count();
    if args.deny_breaking && breaking > 0 {
        let _ = writeln!(err, "error: {breaking} breaking change{} (--deny-breaking)", plural(breaking));
        return 1;
    }
    0
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// What comparing two docs trees found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// The changes, in report order.
    pub changes: Vec<Change>,
    /// Page defects the loader worked around in the old tree (`file:line: what was assumed`).
    pub old_warnings: Vec<String>,
    /// The same for the new tree.
    pub new_warnings: Vec<String>,
    /// Pages of the old tree that do not load: not compared.
    pub old_errors: Vec<crate::PageError>,
    /// Pages of the new tree that do not load: not compared.
    pub new_errors: Vec<crate::PageError>,
}

impl Report {
    /// Compares two trees read page by page. A page that does not load on either side is left
    /// out on both: its operations would otherwise look removed (or added).
    fn of(old: Loaded, new: Loaded, options: Options) -> Report {
        let bad: BTreeSet<String> = old.bad_pages().into_iter().chain(new.bad_pages()).map(str::to_owned).collect();
        let keep = |mut api: Api| {
            let before = api.operations.len() + api.notifications.len();
            api.operations.retain(|op| !bad.contains(&op.file));
            api.notifications.retain(|n| !bad.contains(&n.file));
            // Module and type names depend on every page (a type shared with the page left out
            // is shared no more): name both sides without it, or that looks like a rename.
            if api.operations.len() + api.notifications.len() != before {
                crate::naming::name(&mut api);
                crate::typespace::assign(&mut api);
            }
            api
        };
        let (old_api, new_api) = (keep(old.api), keep(new.api));
        Report {
            changes: compare(&old_api, &new_api, options),
            old_warnings: old_api.warnings,
            new_warnings: new_api.warnings,
            old_errors: old.errors,
            new_errors: new.errors,
        }
    }
}

/// Compares two docs trees. Pages that do not load are in the report's errors and compared on
/// neither side; `Err` only when a tree is not a directory or cannot be listed.
pub fn diff_dirs(old: &Path, new: &Path, options: Options) -> Result<Report, Vec<crate::PageError>> {
    match load_both(old, new) {
        (Ok(o), Ok(n)) => Ok(Report::of(o, n, options)),
        (o, n) => Err(o.err().into_iter().chain(n.err()).collect()),
    }
}

/// Loads both trees at once: the diff costs about one load of the larger tree.
fn load_both(old: &Path, new: &Path) -> (Result<Loaded, crate::PageError>, Result<Loaded, crate::PageError>) {
    let one = |dir: &Path| {
        if !dir.is_dir() {
            return Err(crate::PageError { file: dir.display().to_string(), line: 0, message: "not a directory".into() });
        }
        load_each(dir)
    };
    rayon::join(|| one(old), || one(new))
}

fn parse_args(args: &[String]) -> Result<Option<Args>, String> {
    let mut positional = Vec::new();
    let mut git = None;
    let mut format = Format::Text;
    let mut deny_breaking = false;
    let mut descriptions = false;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline.clone().or_else(|| iter.next().cloned()).ok_or_else(|| format!("{name} needs a value"))
        };
        match flag {
            "-h" | "--help" => return Ok(None),
            "--git" => git = Some(value("--git")?),
            "--format" => {
                format = match value("--format")?.as_str() {
                    "text" => Format::Text,
                    "markdown" | "md" => Format::Markdown,
                    "json" => Format::Json,
                    other => return Err(format!("unknown format `{other}` (expected text, markdown or json)")),
                }
            }
            "--deny-breaking" => deny_breaking = true,
            "--show-descriptions" => descriptions = true,
            _ if flag.starts_with('-') && flag != "-" => return Err(format!("unknown option `{arg}`")),
            _ => positional.push(PathBuf::from(arg)),
        }
    }
    let source = match (git, positional.len()) {
        (Some(rev), 0) => Source::Git { rev },
        (Some(_), _) => return Err("--git REV compares with the working tree: give no OLD NEW".into()),
        (None, 2) => Source::Dirs { new: positional.pop().unwrap(), old: positional.pop().unwrap() },
        (None, n) => return Err(format!("expected OLD and NEW directories, got {n} argument{}", if n == 1 { "" } else { "s" })),
    };
    Ok(Some(Args { source, format, deny_breaking, descriptions }))
}

/// `specs/` of a git revision, extracted into a temporary directory (removed on drop).
struct GitCheckout {
    /// The repository's top level (its working tree).
    root: PathBuf,
    tmp: PathBuf,
}

impl GitCheckout {
    fn specs_at(cwd: &Path, rev: &str) -> Result<GitCheckout, String> {
        let top = Command::new("git")
            .arg("-C")
            .arg(cwd)
            .args(["rev-parse", "--show-toplevel"])
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if !top.status.success() {
            return Err(format!("not in a git repository: {}", String::from_utf8_lossy(&top.stderr).trim()));
        }
        let root = PathBuf::from(String::from_utf8_lossy(&top.stdout).trim());
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let tmp = std::env::temp_dir().join(format!("xtask-diff-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
        let checkout = GitCheckout { root, tmp };

        let mut archive = Command::new("git")
            .arg("-C")
            .arg(&checkout.root)
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

    fn specs(&self) -> PathBuf {
        self.tmp.join("specs")
    }
}

impl Drop for GitCheckout {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Option<Args>, String> {
        parse_args(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn two_directories_and_flags() {
        let a = args(&["old", "--format=markdown", "new", "--deny-breaking"]).unwrap().unwrap();
        assert_eq!(a.source, Source::Dirs { old: "old".into(), new: "new".into() });
        assert_eq!(a.format, Format::Markdown);
        assert!(a.deny_breaking && !a.descriptions);
    }

    #[test]
    fn git_revision_takes_no_directories() {
        assert_eq!(args(&["--git", "HEAD~1"]).unwrap().unwrap().source, Source::Git { rev: "HEAD~1".into() });
        assert!(args(&["--git", "HEAD", "a"]).is_err());
        assert!(args(&["a"]).is_err());
        assert!(args(&["a", "b", "--format", "yaml"]).is_err());
        assert!(args(&["a", "b", "--frobnicate"]).is_err());
    }
}
