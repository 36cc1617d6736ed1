//! `cargo xtask changelog`: the release notes of the documented API, from the schema diff
//! (`diff::render::changelog`), printed or put into `CHANGELOG.md` between two marker lines.

use std::io::Write;
use std::path::Path;

use crate::cli::ChangelogArgs;
use crate::diff::render::{self, plural};
use crate::diff::{compare_sources, Options, Source};
use crate::release::Release;

/// The line after which `--write` puts the notes.
pub const BEGIN: &str = "<!-- generated:begin -->";
/// The line before which they end.
pub const END: &str = "<!-- generated:end -->";

/// `cargo xtask changelog` in `cwd`, writing to `out` and `err`; returns the exit status: 0
/// written, 2 when a side, a page or the changelog cannot be read.
pub fn run(args: &ChangelogArgs, cwd: &Path, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match notes(args, cwd, out, err) {
        Ok(status) => status,
        Err(message) => {
            let _ = writeln!(err, "error: {message}");
            2
        }
    }
}

fn notes(args: &ChangelogArgs, cwd: &Path, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, String> {
    let source = match (&args.git, &args.old) {
        (Some(rev), _) => Source::Git { rev: rev.clone() },
        (None, Some(old)) => {
            let new = args.new.clone().unwrap_or_else(crate::cli::workspace_specs);
            Source::Dirs { old: old.clone(), new }
        }
        (None, None) => {
            let root = crate::git::toplevel(cwd)?;
            Release::read(&root)?.source(&root)?
        }
    };
    let compared = match compare_sources(&source, cwd, Options::default(), err) {
        Ok(compared) => compared,
        Err(status) => return Ok(status),
    };
    if !compared.unread.is_empty() {
        // Release notes that leave pages out would tell users less than changed.
        let n = compared.unread.len();
        return Err(format!("{n} page error{} (above): no release notes from a partial comparison", plural(n)));
    }
    let notes = render::changelog(&compared.changes, &[]);
    let Some(file) = &args.write else {
        let _ = out.write_all(notes.as_bytes());
        return Ok(0);
    };
    let path = cwd.join(file);
    let before = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let after = splice(&before, &notes).map_err(|e| format!("{}: {e}", path.display()))?;
    std::fs::write(&path, after).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let breaking = compared.changes.iter().filter(|c| c.breaking).count();
    let changes = compared.changes.len();
    let _ = writeln!(
        out,
        "{}: release notes written ({changes} change{}, {breaking} breaking)",
        file.display(),
        plural(changes)
    );
    Ok(0)
}

/// `changelog` with what lies between its first [`BEGIN`] line and the next [`END`] line
/// replaced by `notes`; running it again with the same notes changes nothing.
pub fn splice(changelog: &str, notes: &str) -> Result<String, String> {
    let missing = |what: &str| format!("no `{what}` line: the notes go between `{BEGIN}` and `{END}`");
    let begin = changelog.find(BEGIN).ok_or_else(|| missing(BEGIN))? + BEGIN.len();
    let end = changelog[begin..].find(END).ok_or_else(|| missing(END))? + begin;
    Ok(format!("{}\n\n{notes}\n{}", &changelog[..begin], &changelog[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notes_replace_what_is_between_the_first_markers_only() {
        let file =
            format!("# Changelog\n\n## [Unreleased]\n\n{BEGIN}\nold notes\n{END}\n\n## [0.1.0]\n\n{BEGIN}\n{END}\n");
        let once = splice(&file, "new notes\n").unwrap();
        assert_eq!(
            once,
            format!(
                "# Changelog\n\n## [Unreleased]\n\n{BEGIN}\n\nnew notes\n\n{END}\n\n## [0.1.0]\n\n{BEGIN}\n{END}\n"
            )
        );
        assert_eq!(splice(&once, "new notes\n").unwrap(), once);
    }

    #[test]
    fn missing_markers_are_an_error_naming_them() {
        assert!(splice("# Changelog\n", "notes\n").unwrap_err().contains(BEGIN));
        assert!(splice(&format!("{END}\n{BEGIN}\n"), "notes\n").unwrap_err().contains(&format!("no `{END}` line")));
    }
}
