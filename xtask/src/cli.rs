//! The command line of `cargo xtask`: every command and flag, with the help `--help` prints.
//!
//! Parsing only: `main.rs` and the commands' modules act on these values. A bad argument is
//! clap's usage error, exit status 2.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::codegen;
use crate::diff::DiffArgs;

/// This workspace's `specs/`, where the commands read the docs unless told otherwise.
pub fn workspace_specs() -> PathBuf {
    codegen::workspace().join("specs")
}

/// The generator of the `wechatpay` crate: WeChat Pay's documentation pages in, typed Rust out.
#[derive(Debug, Parser)]
#[command(name = "xtask", bin_name = "cargo xtask", arg_required_else_help = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate the Rust crate from specs/ (or any docs tree) into generated/.
    #[command(after_help = "Exit status: 0 written (or up to date with --check), 1 a page does not load or, with \
                            --check, a generated file is stale, missing or extra, 2 bad arguments.")]
    Codegen(CodegenArgs),
    /// Rewrite specs/ from a checkout of the documentation, listing the pages added, changed and removed.
    #[command(after_help = "Exit status: 0 imported (or up to date with --check), 1 a page does not load or, with \
                            --check, specs/ differs, 2 bad arguments.")]
    Import(ImportArgs),
    /// Print the intermediate representation of the docs as JSON (see docs/ir.md).
    #[command(after_help = "Exit status: 0 printed, 1 a page does not load, 2 bad arguments.")]
    Ir(IrArgs),
    /// Compare two versions of the docs and classify each schema change as breaking or compatible.
    #[command(after_help = "Exit status: 0 compared, 1 a change is breaking and --deny-breaking was given, 2 bad \
                            arguments or pages that do not load (the report is then partial).")]
    Diff(DiffArgs),
    /// Release notes in Markdown from the schema changes: breaking first, then added, removed, the rest.
    #[command(after_help = "Without OLD or --git, compares specs/ at the last release (release.toml) with the \
                            working tree.\n\nExit status: 0 printed or written, 2 bad arguments, pages that do not load (no \
                            notes are written from a partial comparison), or the changelog to --write cannot be read, \
                            written or has no markers.")]
    Changelog(ChangelogArgs),
    /// Fail when specs/ changed in a breaking way since the last release and the version does not say so.
    #[command(after_help = "Reads the last release from release.toml and the version from Cargo.toml \
                            ([package] or [workspace.package]). A new major version (a new minor before 1.0) \
                            passes without comparing; otherwise specs/ at the release's commit is compared with \
                            the working tree.\n\nExit status: 0 nothing breaking, or the version allows it; 1 \
                            breaking changes without that bump; 2 the release, the version or the pages cannot be \
                            read, or the release's commit is not in this clone.")]
    Semver,
    /// Fail when the rust-version the workspace declares is lower than its locked dependencies need.
    #[command(after_help = "Reads [workspace.package] rust-version from Cargo.toml and the rust-version of every \
                            package in the locked closure from `cargo metadata --locked`.\n\nExit status: 0 \
                            declared is enough, 1 declared is too low, 2 cannot tell (no lock, no metadata).")]
    RustVersion,
    /// Time the generator and the build of what it generates (`cargo xtask-bench` runs it in release).
    #[command(after_help = "Exit status: 0 measured, 1 a page does not load or a cargo build fails, 2 bad arguments.")]
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
pub struct CodegenArgs {
    /// The docs tree to read
    #[arg(long, value_name = "DIR", default_value_os_t = workspace_specs())]
    pub specs: PathBuf,
    /// Where to write the crate
    #[arg(long, value_name = "DIR", default_value_os_t = codegen::workspace().join("generated"))]
    pub out: PathBuf,
    /// The generated crate's package name
    #[arg(long, value_name = "CRATE", default_value = codegen::CRATE_NAME)]
    pub name: String,
    /// How the generated crate depends on wechatpay-sdk-runtime, as a Cargo.toml value, e.g. '{ path = "../runtime" }'
    /// [default: this workspace's runtime/]
    #[arg(long, value_name = "DEPENDENCY")]
    pub runtime: Option<String>,
    /// Mark a crate generated outside this workspace `publish = false`
    #[arg(long)]
    pub no_publish: bool,
    /// Write nothing: list each generated file that is stale, missing or extra, and fail if there is one
    #[arg(long)]
    pub check: bool,
    /// Also print how many fields of each family are described, which fields hold times (and which
    /// strings look like times but are not, with the reason), and the peak memory
    #[arg(long)]
    pub stats: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The checkout of the documentation to import from, e.g. ../shared/corpus
    #[arg(value_name = "DOCS")]
    pub docs: PathBuf,
    /// The specs/ folder to rewrite
    #[arg(long, value_name = "DIR", default_value_os_t = workspace_specs())]
    pub specs: PathBuf,
    /// Write nothing: fail if specs/ is not what the import would write
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct IrArgs {
    /// The docs tree to read
    #[arg(long, value_name = "DIR", default_value_os_t = workspace_specs())]
    pub specs: PathBuf,
}

#[derive(Debug, Args)]
pub struct ChangelogArgs {
    /// The old docs tree (or a specs/-like folder) [default: specs/ at the last release]
    #[arg(value_name = "OLD", conflicts_with = "git")]
    pub old: Option<PathBuf>,
    /// The new docs tree [default: this workspace's specs/]
    #[arg(value_name = "NEW", requires = "old")]
    pub new: Option<PathBuf>,
    /// Compare specs/ at this git revision with the working tree's specs/
    #[arg(long, value_name = "REV")]
    pub git: Option<String>,
    /// Put the notes into this changelog, between its `<!-- generated:begin -->` and `<!-- generated:end -->`
    /// lines (the first pair), instead of printing them
    #[arg(long, value_name = "FILE")]
    pub write: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The docs tree to generate from
    #[arg(long, value_name = "DIR", default_value_os_t = workspace_specs())]
    pub specs: PathBuf,
    /// How many times to time loading and generating (the median is printed)
    #[arg(long, value_name = "N", default_value = "5")]
    pub runs: NonZeroUsize,
    /// The family (cargo feature) whose build is timed alone
    #[arg(long, value_name = "NAME", default_value = "pay")]
    pub family: String,
    /// Skip the `cargo check` and `cargo build` timings of the generated crate
    #[arg(long)]
    pub no_cargo: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::diff::Format;

    fn diff(args: &[&str]) -> Result<DiffArgs, clap::Error> {
        match Cli::try_parse_from(["xtask", "diff"].iter().chain(args))?.command {
            Command::Diff(args) => Ok(args),
            other => panic!("not the diff command: {other:?}"),
        }
    }

    #[test]
    fn clap_accepts_the_definition() {
        Cli::command().debug_assert();
    }

    #[test]
    fn diff_takes_two_directories_and_flags_in_any_order() {
        let a = diff(&["old", "--format=markdown", "new", "--deny-breaking"]).unwrap();
        assert_eq!((a.old, a.new, a.git), (Some("old".into()), Some("new".into()), None));
        assert_eq!(a.format, Format::Markdown);
        assert!(a.deny_breaking && !a.show_descriptions);
        assert_eq!(diff(&["a", "b", "--format", "md"]).unwrap().format, Format::Markdown);
        assert_eq!(diff(&["a", "b"]).unwrap().format, Format::Text);
    }

    #[test]
    fn a_git_revision_takes_no_directories() {
        assert_eq!(diff(&["--git", "HEAD~1"]).unwrap().git.as_deref(), Some("HEAD~1"));
        for bad in [&["--git", "HEAD", "a"][..], &["a"], &["a", "b", "--format", "yaml"], &["a", "b", "--frobnicate"]] {
            assert_eq!(diff(bad).unwrap_err().exit_code(), 2, "{bad:?}");
        }
    }
}
