//! The generated crate's file tree on disk: what the generator owns there, how it differs from
//! what it would write, and writing it (stale files removed, unchanged ones left untouched).

use std::collections::BTreeSet;
use std::path::Path;

use crate::emit::Files;

/// Files on disk the generator owns: `Cargo.toml` and every `.rs` under `src/`.
pub(crate) fn existing(out: &Path) -> std::io::Result<BTreeSet<String>> {
    let mut found = BTreeSet::new();
    if out.join("Cargo.toml").is_file() {
        found.insert("Cargo.toml".to_owned());
    }
    let src = out.join("src");
    if src.is_dir() {
        let mut stack = vec![src];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir)? {
                let path = entry?.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let relative = path.strip_prefix(out).unwrap_or(&path);
                    found.insert(
                        relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"),
                    );
                }
            }
        }
    }
    Ok(found)
}

/// What differs between `out` and `files`: stale, missing and extra files.
pub(crate) fn compare(out: &Path, files: &Files) -> std::io::Result<Vec<String>> {
    let mut problems = Vec::new();
    for (path, contents) in files {
        match std::fs::read_to_string(out.join(path)) {
            Ok(current) if &current == contents => {}
            Ok(_) => problems.push(format!("stale: {}", out.join(path).display())),
            Err(_) => problems.push(format!("missing: {}", out.join(path).display())),
        }
    }
    for path in existing(out)? {
        if !files.contains_key(&path) {
            problems.push(format!("extra: {}", out.join(&path).display()));
        }
    }
    Ok(problems)
}

/// Writes `files` under `out`, removing the generated files it no longer has.
pub(crate) fn write(out: &Path, files: &Files) -> std::io::Result<Vec<String>> {
    for path in existing(out)? {
        if !files.contains_key(&path) {
            std::fs::remove_file(out.join(&path))?;
        }
    }
    for (path, contents) in files {
        let target = out.join(path);
        if std::fs::read_to_string(&target).is_ok_and(|current| &current == contents) {
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, contents)?;
    }
    remove_empty_dirs(&out.join("src"))?;
    Ok(Vec::new())
}

/// Removes the empty folders under `dir` (and `dir` itself when it ends up empty).
pub(crate) fn remove_empty_dirs(dir: &Path) -> std::io::Result<bool> {
    if !dir.is_dir() {
        return Ok(false);
    }
    let mut empty = true;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if !(path.is_dir() && remove_empty_dirs(&path)?) {
            empty = false;
        }
    }
    if empty {
        std::fs::remove_dir(dir)?;
    }
    Ok(empty)
}
