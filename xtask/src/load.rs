//! A docs tree → IR: finds the pages, parses and lowers each (in parallel), names the result.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::PageError;
use crate::ir::Api;
use crate::lower::{lower, Lowered};
use crate::{naming, parse, typespace};

/// Reads every page of a docs tree: `openapi/v3/**` and `webhook/v3/**` where present,
/// otherwise every `.md` under `dir`. Returns all bad pages' errors at once.
pub fn load(dir: &Path) -> Result<Api, Vec<PageError>> {
    let files = pages(dir).map_err(|e| vec![PageError { file: dir.display().to_string(), line: 0, message: e.to_string() }])?;
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
    if !errors.is_empty() {
        return Err(errors);
    }
    api.operations.sort_by(|a, b| (&a.path, a.method).cmp(&(&b.path, b.method)));
    if let Some(pair) = api.operations.windows(2).find(|w| w[0].path == w[1].path && w[0].method == w[1].method) {
        return Err(vec![PageError {
            file: pair[1].file.clone(),
            line: pair[1].line,
            message: format!("{} {} is also described at {}:{}", pair[1].method.as_str(), pair[1].path, pair[0].file, pair[0].line),
        }]);
    }
    api.notifications.sort_by(|a, b| a.event_type.cmp(&b.event_type));
    naming::name(&mut api);
    typespace::assign(&mut api);
    Ok(api)
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
    let roots: Vec<PathBuf> = ["openapi/v3", "webhook/v3"].iter().map(|r| dir.join(r)).filter(|p| p.is_dir()).collect();
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
            let relative = path.strip_prefix(dir).ok()?.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
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
