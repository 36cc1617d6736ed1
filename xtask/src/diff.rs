//! `cargo xtask diff`: what a docs change means for users of the generated crate.
//!
//! Both trees are loaded into the IR (`load`), compared there (`compare`), and the changes shown
//! (`render`). Comparing the IR, not the markdown, is what keeps reworded descriptions, new PHP
//! samples and tooltips out of the report.
//!
//! The command line is [`DiffArgs`] (`cargo xtask diff --help`).
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

pub use compare::{compare, Change, Kind, Options, Subject, TypePair, Use};
pub use render::{Summary, Unread};

use render::plural;

use crate::git::SpecsAt;
use crate::ir::Api;
use crate::load::{load_each, Loaded};

/// `cargo xtask diff`'s arguments (part of the command line, `cli.rs`).
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The old docs tree (or a specs/-like folder)
    #[arg(value_name = "OLD", required_unless_present = "git", conflicts_with = "git")]
    pub old: Option<PathBuf>,
    /// The new docs tree
    #[arg(value_name = "NEW", required_unless_present = "git")]
    pub new: Option<PathBuf>,
    /// Compare specs/ at this git revision with the working tree's specs/ (instead of OLD NEW)
    #[arg(long, value_name = "REV")]
    pub git: Option<String>,
    /// How to print the changes
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit with status 1 when a change is breaking (for CI)
    #[arg(long)]
    pub deny_breaking: bool,
    /// Also report title and description edits (never breaking)
    #[arg(long)]
    pub show_descriptions: bool,
}

/// How to show the changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per change, grouped by operation or shared type, for a terminal
    #[default]
    Text,
    /// A summary and a table per operation, for a pull-request comment
    #[value(alias = "md")]
    Markdown,
    /// Every change with stable keys, for tools
    Json,
    /// Release notes: breaking changes, then added, removed and the other changes (as `cargo xtask changelog`)
    Changelog,
}

impl Format {
    /// The changes, and the pages not compared because they do not load (`tree/file:line: message`).
    pub fn render(self, changes: &[Change], unread: &[Unread]) -> String {
        match self {
            Format::Text => render::text(changes, unread),
            Format::Markdown => render::markdown(changes, unread),
            Format::Json => render::json(changes, unread),
            Format::Changelog => render::changelog(changes, unread),
        }
    }
}

/// Where the two sides of a comparison come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Two docs trees, relative to the working directory.
    Dirs { old: PathBuf, new: PathBuf },
    /// `specs/` at a git revision, and the working tree's `specs/`.
    Git { rev: String },
}

/// The changes between two sides, and the pages not compared because they do not load.
pub struct Compared {
    pub changes: Vec<Change>,
    pub unread: Vec<Unread>,
}

/// `cargo xtask diff` in `cwd`, writing to `out` and `err`; returns the exit status.
pub fn run(args: &DiffArgs, cwd: &Path, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let source = match (&args.git, &args.old, &args.new) {
        (Some(rev), _, _) => Source::Git { rev: rev.clone() },
        (None, Some(old), Some(new)) => Source::Dirs { old: old.clone(), new: new.clone() },
        // The parser requires OLD NEW without --git; a caller building the arguments may not.
        (None, _, _) => {
            let _ = writeln!(err, "error: expected OLD and NEW directories, or --git REV");
            return 2;
        }
    };
    let compared = match compare_sources(&source, cwd, Options { descriptions: args.show_descriptions }, err) {
        Ok(compared) => compared,
        Err(status) => return status,
    };
    let _ = out.write_all(args.format.render(&compared.changes, &compared.unread).as_bytes());
    // Pages that do not load come first: the report is incomplete, whatever it says.
    if !compared.unread.is_empty() {
        return 2;
    }
    let breaking = compared.changes.iter().filter(|c| c.breaking).count();
    if args.deny_breaking && breaking > 0 {
        let _ = writeln!(err, "error: {breaking} breaking change{} (--deny-breaking)", plural(breaking));
        return 1;
    }
    0
}

/// Loads both sides and compares them, printing to `err` the new tree's warnings and each page
/// that does not load; `Err` with exit status 2 when a side cannot be read at all (not a
/// directory, not a revision).
pub fn compare_sources(source: &Source, cwd: &Path, options: Options, err: &mut dyn Write) -> Result<Compared, u8> {
    let checkout;
    let (old, new) = match source {
        Source::Dirs { old, new } => (cwd.join(old), cwd.join(new)),
        Source::Git { rev } => match SpecsAt::extract(cwd, rev) {
            Ok(c) => {
                checkout = c;
                (checkout.specs(), checkout.root.join("specs"))
            }
            Err(message) => {
                let _ = writeln!(err, "error: {message}");
                return Err(2);
            }
        },
    };
    // Trees are named in messages as the user named them.
    let (old_name, new_name) = match source {
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
            return Err(2);
        }
    };
    let report = Report::of(old_tree, new_tree, options);

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
    Ok(Compared { changes: report.changes, unread })
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
            api.operations.retain(|op| !bad.contains(&op.file));
            api.notifications.retain(|n| !bad.contains(&n.file));
            // Module and type names depend on every page (a type shared with the page left out
            // is shared no more): both sides are named without it, or that would look like a
            // rename. The type spaces, names included, are made from what is kept, by `compare`.
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
            return Err(crate::PageError {
                file: dir.display().to_string(),
                line: 0,
                message: "not a directory".into(),
            });
        }
        load_each(dir)
    };
    rayon::join(|| one(old), || one(new))
}
