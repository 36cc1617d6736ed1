//! The main job: a docs tree → the generated crate on disk, and the sandbox's copy of the IR
//! (`sandbox_api`), or a check that they are up to date.

use std::path::{Path, PathBuf};
use std::time::Duration;

pub mod sandbox_api;

use crate::emit::{emit, Files, Options, Package};
use crate::error::PageError;
use crate::fields::{self, Owner, Part};
use crate::files;
use crate::ir::Api;
use crate::typespace::TypeSpace;

/// The name of the generated crate.
pub const CRATE_NAME: &str = "wechatpay-sdk-generated";

/// What a run found.
#[derive(Debug)]
pub struct Summary {
    pub operations: usize,
    pub notifications: usize,
    pub types: usize,
    pub pages: usize,
    pub redirects: usize,
    pub files: usize,
}

impl Summary {
    /// `N operations, M types from K pages in T ms`.
    pub fn line(&self, elapsed: Duration) -> String {
        let mut line = format!(
            "{} operations, {} types from {} pages in {} ms",
            self.operations,
            self.types,
            self.pages,
            elapsed.as_millis()
        );
        if self.notifications > 0 {
            line += &format!(" ({} of them notification pages)", self.notifications);
        }
        if self.redirects > 0 {
            line += &format!(", {} redirect pages skipped", self.redirects);
        }
        line
    }
}

/// How much of one family the crate holds, and how much of it is described in our words.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    pub operations: usize,
    pub notifications: usize,
    /// Field rows (every nesting level; request, response and payload).
    pub rows: usize,
    /// Rows with a description (enum lists aside).
    pub described: usize,
}

/// Coverage per family (`notifications` for the webhook pages), sorted by family.
pub fn coverage(api: &Api) -> std::collections::BTreeMap<String, Coverage> {
    let mut families: std::collections::BTreeMap<String, Coverage> = std::collections::BTreeMap::new();
    for owner in fields::owners(api) {
        let (family, operations, notifications) = match owner {
            Owner::Operation(op) => (op.family.clone(), 1, 0),
            Owner::Notification(_) => ("notifications".to_owned(), 0, 1),
        };
        let entry = families.entry(family).or_default();
        entry.operations += operations;
        entry.notifications += notifications;
        // A notification's payload is within its envelope (`resource.ciphertext`'s structure):
        // each row once.
        for at in owner.fields().filter(|at| at.part != Part::Payload) {
            entry.rows += 1;
            entry.described += usize::from(!crate::lower::own_text(&at.field.description).is_empty());
        }
    }
    families
}

#[derive(Debug)]
pub struct Outcome {
    pub summary: Summary,
    /// What the crate holds per family.
    pub coverage: std::collections::BTreeMap<String, Coverage>,
    /// Which fields hold times, and which look like times but do not (`codegen --stats`).
    pub times: crate::times::TimeStats,
    /// With `check`: files that are stale, missing or extra (empty when up to date).
    pub problems: Vec<String>,
    /// Page defects worked around (`file:line: …`).
    pub warnings: Vec<String>,
}

/// The workspace this generator belongs to.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace").to_path_buf()
}

/// How a crate generated into `out` depends on the runtime crate: by a relative path for the
/// workspace's own `generated/`, else by the runtime's absolute path in this workspace.
pub fn runtime_dependency(out: &Path) -> String {
    let runtime = workspace().join("runtime");
    if is_workspace_crate(out) {
        // The runtime is released with the workspace: the workspace's version.
        // A manifest without a version is a broken checkout, not an input to recover from.
        let version = crate::release::workspace_version(&workspace()).unwrap_or_else(|error| panic!("{error}"));
        format!("{{ path = \"../runtime\", version = \"{version}\" }}")
    } else {
        format!("{{ path = {:?} }}", runtime.display().to_string())
    }
}

/// How the crate written to `out` is packaged: this workspace's `generated/`, or one of its own.
pub fn package(out: &Path, publish: bool) -> Package {
    if is_workspace_crate(out) {
        Package::Workspace
    } else {
        Package::Standalone { publish }
    }
}

fn is_workspace_crate(out: &Path) -> bool {
    let same = |a: &Path, b: &Path| a.canonicalize().ok().zip(b.canonicalize().ok()).is_some_and(|(a, b)| a == b);
    same(out, &workspace().join("generated"))
}

/// Generates the crate for the pages in `specs` into `out`, or with `check` compares instead.
pub fn run(specs: &Path, out: &Path, check: bool) -> Result<Outcome, Vec<PageError>> {
    let runtime = runtime_dependency(out);
    // Writing keeps files whose tokens did not change; checking formats everything anew.
    let previous = |path: &str| std::fs::read_to_string(out.join(path)).ok();
    let previous: Option<crate::emit::Previous<'_>> = if check { None } else { Some(&previous) };
    run_with(
        specs,
        out,
        check,
        &Options { crate_name: CRATE_NAME, runtime: &runtime, package: package(out, true), previous },
    )
}

/// [`run`] with the crate's name and runtime dependency given.
pub fn run_with(specs: &Path, out: &Path, check: bool, options: &Options<'_>) -> Result<Outcome, Vec<PageError>> {
    let api = crate::load(specs)?;
    let space = TypeSpace::new(&api);
    let files = emit(&api, &space, options)
        .map_err(|message| vec![PageError { file: specs.display().to_string(), line: 0, message }])?;
    let summary = summarize(&api, &space, &files);
    let io_error =
        |e: std::io::Error| vec![PageError { file: out.display().to_string(), line: 0, message: e.to_string() }];
    let mut problems = if check {
        files::compare(out, &files).map_err(io_error)?
    } else {
        files::write(out, &files).map_err(io_error)?
    };
    // The workspace's own crate comes with the sandbox's copy of the same pages.
    if matches!(options.package, Package::Workspace) {
        for protocol in [crate::ir::Protocol::V3, crate::ir::Protocol::V2] {
            let copy = sandbox_api::path_of(protocol);
            let io_error = |e: std::io::Error| {
                vec![PageError { file: copy.display().to_string(), line: 0, message: e.to_string() }]
            };
            problems.extend(sandbox_api::sync(&api, &copy, check).map_err(io_error)?);
        }
    }
    Ok(Outcome {
        summary,
        problems,
        coverage: coverage(&api),
        times: crate::times::TimeStats::of(&api),
        warnings: api.warnings,
    })
}

fn summarize(api: &Api, space: &TypeSpace<'_>, files: &Files) -> Summary {
    let requests = api.operations.len();
    Summary {
        operations: api.operations.len(),
        notifications: api.notifications.len(),
        types: space.types().len() + requests,
        pages: api.pages,
        redirects: api.redirects.len(),
        files: files.len(),
    }
}

/// Peak resident memory of this process (Linux), in KiB.
pub fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
