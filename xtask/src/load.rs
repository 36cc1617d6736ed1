//! A docs tree → IR: finds the pages, parses and lowers each (in parallel). The IR holds no Rust
//! names: modules, variants, fields' and types' names are the type space's (`TypeSpace::new`),
//! kept beside it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::PageError;
use crate::ir::Api;
use crate::lower::{lower, Lowered};
use crate::parse;

/// Reads every page of a docs tree: `openapi/v3/**`, `webhook/v3/**`, `openapi/v2/**` and
/// `webhook/v2/**` where present, otherwise every `.md` under `dir`. Returns all bad pages' errors at once: generating from a
/// tree with a bad page would ship a crate without its operations.
pub fn load(dir: &Path) -> Result<Api, Vec<PageError>> {
    let Loaded { api, errors } = load_each(dir).map_err(|e| vec![e])?;
    if errors.is_empty() {
        Ok(api)
    } else {
        Err(errors)
    }
}

/// A docs tree read page by page: what every good page holds, and the bad pages' errors.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The operations and notifications of the pages that load.
    pub api: Api,
    /// Every error of the pages that do not; none of their operations is in `api`.
    pub errors: Vec<PageError>,
}

impl Loaded {
    /// The pages with errors, relative to the tree.
    pub fn bad_pages(&self) -> BTreeSet<&str> {
        self.errors.iter().map(|e| e.file.as_str()).collect()
    }
}

/// Reads every page like [`load`], keeping the pages that load when others do not: for
/// `cargo xtask diff`, which compares what it can and reports the rest. `Err` only when the tree
/// cannot be listed.
pub fn load_each(dir: &Path) -> Result<Loaded, PageError> {
    let files =
        pages(dir).map_err(|e| PageError { file: dir.display().to_string(), line: 0, message: e.to_string() })?;
    let results: Vec<(String, Result<Lowered, Vec<PageError>>)> = files
        .par_iter()
        .map(|(relative, path)| {
            let result = match std::fs::read_to_string(path) {
                Ok(text) => read_page(relative, &text),
                Err(e) => Err(vec![PageError { file: relative.clone(), line: 0, message: e.to_string() }]),
            };
            (relative.clone(), result)
        })
        .collect();
    let mut api = Api { pages: files.len(), ..Api::default() };
    let mut errors = Vec::new();
    for (relative, result) in results {
        match result {
            Ok(Lowered::Operations(ops, warnings)) => {
                api.operations.extend(ops);
                api.warnings.extend(warnings);
            }
            Ok(Lowered::Notification(n, warnings)) => {
                api.warnings.extend(warnings);
                api.notifications.push(*n);
            }
            Ok(Lowered::Redirect) => api.redirects.push(relative),
            Err(e) => errors.extend(e),
        }
    }
    // APIv3 first (its order unchanged by the APIv2 pages), each by path then method.
    api.operations
        .sort_by(|a, b| b.protocol.cmp(&a.protocol).then_with(|| (&a.path, a.method).cmp(&(&b.path, b.method))));
    // An operation described twice: the later page is the bad one, and none of its operations is
    // kept (the page is wrong as a whole, or in the wrong place).
    let twice: Vec<PageError> = api
        .operations
        .windows(2)
        .filter(|w| w[0].protocol == w[1].protocol && w[0].path == w[1].path && w[0].method == w[1].method)
        .map(|pair| PageError {
            file: pair[1].file.clone(),
            line: pair[1].line,
            message: format!(
                "{} {} is also described at {}:{}",
                pair[1].method.as_str(),
                pair[1].path,
                pair[0].file,
                pair[0].line
            ),
        })
        .collect();
    let dropped: BTreeSet<String> = twice.iter().map(|e| e.file.clone()).collect();
    api.operations.retain(|op| !dropped.contains(&op.file));
    errors.extend(twice);
    api.notifications.sort_by(|a, b| b.protocol.cmp(&a.protocol).then_with(|| a.event_type.cmp(&b.event_type)));
    Ok(Loaded { api, errors })
}

/// Parses and lowers one page's text.
pub fn read_page(relative: &str, text: &str) -> Result<Lowered, Vec<PageError>> {
    let (page, parse_errors) = parse::parse(text);
    if !parse_errors.is_empty() {
        return Err(parse_errors
            .into_iter()
            .map(|e| PageError { file: relative.to_owned(), line: e.line, message: e.message })
            .collect());
    }
    lower(relative, &page)
}

/// The pages to read, as (path relative to `dir` with `/` separators, full path), sorted.
pub fn pages(dir: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    let roots: Vec<PathBuf> = ["openapi/v3", "webhook/v3", "openapi/v2", "webhook/v2"]
        .iter()
        .map(|r| dir.join(r))
        .filter(|p| p.is_dir())
        .collect();
    let mut found = Vec::new();
    if roots.is_empty() {
        walk(dir, &mut found)?;
    } else {
        for root in roots {
            walk(&root, &mut found)?;
        }
    }
    let mut pages: Vec<(String, PathBuf)> = found
        .into_iter()
        .filter_map(|path| {
            let relative = path
                .strip_prefix(dir)
                .ok()?
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            Some((relative, path))
        })
        .filter(|(relative, _)| !relative.eq_ignore_ascii_case("README.md"))
        .collect();
    pages.sort();
    Ok(pages)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, found)?;
        } else if path.extension().is_some_and(|e| e == "md") {
            found.push(path);
        }
    }
    Ok(())
}
