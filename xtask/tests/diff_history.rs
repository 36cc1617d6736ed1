//! `cargo xtask diff` on the real documentation history (`../shared/corpus-history/`, one folder
//! per upstream commit with `old/` and `new/` pages).
//!
//! The expectation comes from the table rows themselves, read by a small reader of its own
//! (below), not from the diff: each row is keyed by page, operation and path of names, with the
//! attributes that shape the generated crate (type, required, enum list, markers). Every row
//! added, removed or changed in those attributes must be reported by the diff (by the change at
//! its path or at an ancestor, such as an added operation); every change the diff reports must
//! be explained by such a row. Pairs whose rows differ only in descriptions, tooltips or PHP
//! samples therefore report nothing.
//!
//! The Markdown output of one real pair is snapshot-tested (`tests/snapshots/diff/`, refreshed
//! with `UPDATE_SNAPSHOTS=1`).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use xtask::diff::{diff_dirs, Change, Kind, Options};

fn history() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace");
    let history = root.join("../shared/corpus-history");
    if history.is_dir() {
        Some(history)
    } else {
        println!("skipped: {} not found (the documentation history is test data kept outside the repository)", history.display());
        None
    }
}

/// The commit folders, sorted by date.
fn pairs(history: &Path) -> Vec<PathBuf> {
    let mut pairs: Vec<PathBuf> = fs::read_dir(history)
        .expect("history is readable")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("old").is_dir() || p.join("new").is_dir())
        .collect();
    pairs.sort();
    pairs
}

/// A pair's side, or an empty directory when the commit only added (or only removed) pages.
fn side(pair: &Path, name: &str, empty: &Path) -> PathBuf {
    let dir = pair.join(name);
    if dir.is_dir() {
        dir
    } else {
        empty.to_owned()
    }
}

#[test]
fn every_significant_row_change_is_reported_and_nothing_else() {
    let Some(history) = history() else { return };
    let empty = tempfile::tempdir().expect("temp dir");
    let pairs = pairs(&history);
    assert!(!pairs.is_empty(), "no commit folders in {}", history.display());

    let (mut with_changes, mut with_breaking, mut silent, mut total_changes) = (0, 0, 0, 0);
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut unloadable = Vec::new();
    let mut unjudged_operations = 0;
    let mut silent_despite_row_edits = 0;
    let mut failures = Vec::new();
    for pair in &pairs {
        let name = pair.file_name().unwrap().to_string_lossy().into_owned();
        let (old, new) = (side(pair, "old", empty.path()), side(pair, "new", empty.path()));
        let report = diff_dirs(&old, &new, Options::default()).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let changes = report.changes;
        let (mut old_rows, mut new_rows) = (rows::read_tree(&old), rows::read_tree(&new));
        // A page that does not load is an error of the diff, compared on neither side.
        let bad: BTreeSet<String> = report.old_errors.iter().chain(&report.new_errors).map(|e| e.file.clone()).collect();
        for e in report.old_errors.iter().chain(&report.new_errors) {
            unloadable.push(format!("{name}: {e}"));
        }
        old_rows.rows.retain(|key, _| !bad.contains(&key.file));
        new_rows.rows.retain(|key, _| !bad.contains(&key.file));

        // Operations this reader cannot judge alone: pages the loader had to work around (it
        // says so in its warnings), and fields described twice as alternatives, which the
        // loader merges. They are counted, not checked.
        let mut unjudged: BTreeSet<(String, String)> = old_rows.ambiguous.union(&new_rows.ambiguous).cloned().collect();
        let worked_around: BTreeSet<&str> =
            report.old_warnings.iter().chain(&report.new_warnings).filter_map(|w| w.split(':').next()).collect();
        for key in old_rows.rows.keys().chain(new_rows.rows.keys()) {
            if worked_around.contains(key.file.as_str()) {
                unjudged.insert((key.file.clone(), key.operation.clone()));
            }
        }
        let judged = |file: &str, operation: &str| {
            !unjudged.iter().any(|(f, o)| {
                f == file && (operation.starts_with(&format!("{o} ")) || (o == "notification" && operation.starts_with("notification ")))
            })
        };
        unjudged_operations += unjudged.len();

        let expected: Vec<Entry> = significant_differences(&old_rows.rows, &new_rows.rows)
            .into_iter()
            .filter(|e| !unjudged.contains(&(e.key.file.clone(), e.key.operation.clone())))
            .collect();
        for entry in &expected {
            if !changes.iter().any(|c| covers(c, entry)) {
                failures.push(format!("{name}: not reported: {entry}"));
            }
        }
        for c in changes.iter().filter(|c| judged(&c.file, &c.operation)) {
            if !expected.iter().any(|entry| covers(c, entry)) {
                failures.push(format!("{name}: reported without a row change: {} {} {:?} ({})", c.operation, c.path, c.kind, c.file));
            }
        }

        let breaking = changes.iter().filter(|c| c.breaking).count();
        println!("  {name}: {} rows differ, {} changes, {breaking} breaking", expected.len(), changes.len());
        if changes.is_empty() {
            silent += 1;
            if table_lines(&old) != table_lines(&new) {
                silent_despite_row_edits += 1;
            }
        } else {
            with_changes += 1;
            total_changes += changes.len();
            if breaking > 0 {
                with_breaking += 1;
            }
        }
        for c in &changes {
            *kinds.entry(format!("{:?}", c.kind)).or_default() += 1;
        }
    }

    println!(
        "corpus history: {} pairs: {} with schema changes ({} with breaking changes), {} silent ({} of them with edited table rows), {} not loadable; {} changes",
        pairs.len(),
        with_changes,
        with_breaking,
        silent,
        silent_despite_row_edits,
        unloadable.len(),
        total_changes
    );
    println!("  operations left to the loader's judgement (worked-around pages, alternative descriptions): {unjudged_operations}");
    for (kind, n) in &kinds {
        println!("  {kind}: {n}");
    }
    for u in &unloadable {
        println!("  not loadable: {u}");
    }
    let shown: Vec<&String> = failures.iter().take(40).collect();
    assert!(
        failures.is_empty(),
        "{} mismatches between the rows and the diff:\n{}",
        failures.len(),
        shown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
    );
}

/// The Markdown report of one real commit, as a pull-request comment would show it.
#[test]
fn markdown_report_of_a_real_commit_matches_the_snapshot() {
    let Some(history) = history() else { return };
    let pair = history.join("2026-01-31-e8494021");
    if !pair.is_dir() {
        println!("skipped: {} not found", pair.display());
        return;
    }
    let empty = tempfile::tempdir().expect("temp dir");
    let changes = diff_dirs(&side(&pair, "old", empty.path()), &side(&pair, "new", empty.path()), Options::default())
        .map(|report| report.changes)
        .unwrap_or_else(|e| panic!("pair does not load: {}", e.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")));
    let actual = xtask::diff::Format::Markdown.render(&changes, &[]);
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/diff/2026-01-31-e8494021.md");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        fs::create_dir_all(snapshot.parent().unwrap()).unwrap();
        fs::write(&snapshot, &actual).unwrap();
        return;
    }
    let expected = fs::read_to_string(&snapshot)
        .unwrap_or_else(|_| panic!("{} is missing; run with UPDATE_SNAPSHOTS=1 to write it", snapshot.display()));
    assert!(
        expected == actual,
        "the Markdown report differs from {}; if the change is intended, rerun with UPDATE_SNAPSHOTS=1\n--- actual ---\n{actual}",
        snapshot.display()
    );
}

/// Every table line of every page, by page: to tell edits of rows from edits elsewhere.
fn table_lines(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
        .into_iter()
        .map(|f| {
            let text = fs::read_to_string(&f).unwrap_or_default();
            let lines = text.lines().filter(|l| l.starts_with('|')).map(String::from).collect();
            (f.strip_prefix(dir).unwrap().to_string_lossy().into_owned(), lines)
        })
        .collect()
}

/// One row whose presence or attributes differ between old and new.
#[derive(Debug)]
struct Entry {
    key: rows::Key,
    old: Option<rows::Attrs>,
    new: Option<rows::Attrs>,
}

impl std::fmt::Display for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}: {:?} → {:?}", self.key.file, self.key.operation, self.key.path.join("."), self.old, self.new)
    }
}

fn significant_differences(old: &BTreeMap<rows::Key, rows::Attrs>, new: &BTreeMap<rows::Key, rows::Attrs>) -> Vec<Entry> {
    let keys: BTreeSet<&rows::Key> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let (o, n) = (old.get(key), new.get(key));
            let differs = match (o, n) {
                (Some(o), Some(n)) => o != n,
                // A part row (`json`, `query`, …) only groups its members: their rows count.
                (Some(a), None) | (None, Some(a)) => !a.part,
                (None, None) => false,
            };
            differs.then(|| Entry { key: key.clone(), old: o.cloned(), new: n.cloned() })
        })
        .collect()
}

/// Whether a reported change accounts for a row: same page and operation, and the change's
/// path is the row's path or one of its ancestors (an added operation covers all its rows, a
/// moved field both its old and new place).
fn covers(c: &Change, entry: &Entry) -> bool {
    if c.file != entry.key.file {
        return false;
    }
    let operation_matches = if entry.key.operation == "notification" {
        c.operation.starts_with("notification ")
    } else {
        c.operation.starts_with(&format!("{} ", entry.key.operation))
    };
    if !operation_matches {
        return false;
    }
    let row = entry.key.path.join(".");
    let under = |path: &str| {
        let path = path.replace("[]", "");
        path.is_empty() || row == path || row.starts_with(&format!("{path}."))
    };
    under(&c.path) || (c.kind == Kind::FieldMoved && c.old.as_str().is_some_and(under))
}

/// A reader of the doc tables for this test alone: rows, their nesting by indent, and the cells
/// that matter to the schema. It follows DOCS-FORMAT.md and shares no code with the generator.
mod rows {
    use std::collections::{BTreeMap, BTreeSet};
    use std::fs;
    use std::path::Path;

    #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
    pub struct Key {
        /// The page, relative to the tree, with `/`.
        pub file: String,
        /// `POST`, `GET`, … or `notification`.
        pub operation: String,
        /// Names from the part (`json`, `query`, `response`, `payload`, …) down to the row.
        pub path: Vec<String>,
    }

    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Attrs {
        pub ty: String,
        pub required: bool,
        pub enum_values: Vec<String>,
        pub encrypted: Option<String>,
        pub encoded: Option<String>,
        /// `base_uri`: the host it names.
        pub url: Option<String>,
        /// A request part row: only its members (and, for bodies, `required`) matter.
        pub part: bool,
    }

    /// A tree's rows, and the (file, operation) pairs where a path occurs twice in one table.
    #[derive(Default)]
    pub struct Tree {
        pub rows: BTreeMap<Key, Attrs>,
        pub ambiguous: BTreeSet<(String, String)>,
    }

    pub fn read_tree(dir: &Path) -> Tree {
        let mut out = Tree::default();
        let mut files = Vec::new();
        walk(dir, &mut files);
        for file in files {
            let relative = file.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
            let text = fs::read_to_string(&file).unwrap();
            if text.lines().take(5).any(|l| l.starts_with("title: Moved to")) {
                continue;
            }
            read_page(&relative, &text, &mut out);
        }
        out
    }

    fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for e in entries {
            let path = e.unwrap().path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|x| x == "md") {
                files.push(path);
            }
        }
    }

    fn read_page(file: &str, text: &str, out: &mut Tree) {
        let webhook = file.starts_with("webhook/");
        let mut method: Option<String> = None;
        let mut in_code = false;
        // Tables already read for the current operation: the first of each kind counts.
        let mut seen_request = false;
        let mut seen_response = false;
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i].trim_end();
            i += 1;
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
                continue;
            }
            if in_code {
                continue;
            }
            if line.starts_with('#') {
                if let Some(anchor) = line.rsplit_once("{#").and_then(|(_, a)| a.strip_suffix('}')) {
                    if ["get", "post", "put", "patch", "delete"].contains(&anchor) {
                        method = Some(anchor.to_uppercase());
                        seen_request = false;
                        seen_response = false;
                    }
                }
                continue;
            }
            if !line.starts_with('|') {
                continue;
            }
            // A table: header, separator, rows.
            let header = cells(line);
            let mut body = Vec::new();
            while i < lines.len() && lines[i].starts_with('|') {
                body.push(lines[i]);
                i += 1;
            }
            let Some(method) = method.clone() else { continue };
            let kind = strip_attrs(header.first().map(String::as_str).unwrap_or("")).0;
            let request = match kind.as_str() {
                "请求参数" if !seen_request => {
                    seen_request = true;
                    true
                }
                "返回字典" if !seen_response && !webhook => {
                    seen_response = true;
                    false
                }
                _ => continue,
            };
            let operation = if webhook { "notification".to_owned() } else { method };
            read_table(file, &operation, request, webhook, &body[1.min(body.len())..], out);
        }
    }

    fn read_table(file: &str, operation: &str, request: bool, webhook: bool, body: &[&str], out: &mut Tree) {
        // The open chain of (indent, name).
        let mut chain: Vec<(usize, String)> = Vec::new();
        for line in body {
            let cells = cells(line);
            let (name, name_attrs) = strip_attrs(cells.first().map(String::as_str).unwrap_or(""));
            if has(&name_attrs, "colspan") {
                if name.starts_with("空字符串") || name.starts_with("文件流") {
                    let ty = if name.starts_with("空字符串") { "empty" } else { "stream" };
                    let key = Key { file: file.into(), operation: operation.into(), path: vec!["response".into()] };
                    out.rows.insert(
                        key,
                        Attrs {
                            ty: ty.into(),
                            required: false,
                            enum_values: vec![],
                            encrypted: None,
                            encoded: None,
                            url: None,
                            part: false,
                        },
                    );
                }
                continue; // the sub-structure line: deeper rows nest by indent anyway
            }
            let indent: usize = value(&name_attrs, "data-indent").and_then(|v| v.parse().ok()).unwrap_or(0);
            while chain.last().is_some_and(|(i, _)| *i >= indent) {
                chain.pop();
            }
            chain.push((indent, name.clone()));
            let names: Vec<&str> = chain.iter().map(|(_, n)| n.as_str()).collect();
            let (ty, ty_attrs) = strip_attrs(cells.get(1).map(String::as_str).unwrap_or(""));
            let description = cells.get(2).cloned().unwrap_or_default();

            let mut path: Vec<String>;
            let mut part = false;
            let mut url = None;
            if !request {
                path = vec!["response".into()];
                path.extend(names.iter().map(|s| s.to_string()));
            } else if webhook {
                path = match names.as_slice() {
                    ["headers", rest @ ..] => std::iter::once("headers").chain(rest.iter().copied()).map(String::from).collect(),
                    ["body", "resource", "ciphertext", rest @ ..] if !rest.is_empty() => {
                        std::iter::once("payload").chain(rest.iter().copied()).map(String::from).collect()
                    }
                    ["body", rest @ ..] => std::iter::once("envelope").chain(rest.iter().copied()).map(String::from).collect(),
                    other => other.iter().map(|s| s.to_string()).collect(),
                };
                part = names.len() == 1;
            } else {
                let (head, rest) = names.split_first().unwrap();
                let top = match *head {
                    "json" | "query" | "headers" => head.to_string(),
                    "body" => "multipart".into(),
                    "base_uri" => "base_uri".into(),
                    other => format!("path.{other}"),
                };
                path = top.split('.').map(String::from).collect();
                path.extend(rest.iter().map(|s| s.to_string()));
                part = rest.is_empty() && ["json", "query", "headers", "body"].contains(head);
                if *head == "base_uri" {
                    url = first_url(&description);
                }
            }
            let required = has(&name_attrs, "data-required");
            let attrs = if part {
                // Only a body's `required` reaches the schema; query and headers are plain groups.
                let required = required && ["json", "body"].contains(&names[0]) && !webhook;
                Attrs { ty: String::new(), required, enum_values: vec![], encrypted: None, encoded: None, url: None, part: true }
            } else if url.is_some() || names == ["base_uri"] && request && !webhook {
                Attrs { ty: String::new(), required: false, enum_values: vec![], encrypted: None, encoded: None, url, part: false }
            } else {
                Attrs {
                    ty,
                    required,
                    enum_values: enum_values(&description),
                    encrypted: value(&ty_attrs, "data-encrypted"),
                    encoded: value(&ty_attrs, "data-encoded"),
                    url: None,
                    part: false,
                }
            };
            if out.rows.insert(Key { file: file.into(), operation: operation.into(), path }, attrs).is_some() {
                out.ambiguous.insert((file.to_owned(), operation.to_owned()));
            }
        }
    }

    /// The cells of a table line, split on unescaped pipes, trimmed.
    fn cells(line: &str) -> Vec<String> {
        let mut cells = Vec::new();
        let mut current = String::new();
        let mut chars = line.trim().trim_start_matches('|').chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&'|') => {
                    current.push('|');
                    chars.next();
                }
                '|' => cells.push(std::mem::take(&mut current).trim().to_owned()),
                c => current.push(c),
            }
        }
        if !current.trim().is_empty() {
            cells.push(current.trim().to_owned());
        }
        cells
    }

    /// `name {a b=c d="e f"}` → (`name`, attributes as (key, value)).
    fn strip_attrs(cell: &str) -> (String, Vec<(String, Option<String>)>) {
        let cell = cell.trim();
        let Some(open) = cell.rfind('{').filter(|_| cell.ends_with('}')) else { return (cell.to_owned(), vec![]) };
        let inner = &cell[open + 1..cell.len() - 1];
        let mut attrs = Vec::new();
        let mut rest = inner;
        loop {
            rest = rest.trim_start();
            if rest.is_empty() {
                break;
            }
            let end = rest.find([' ', '=']).unwrap_or(rest.len());
            let key = rest[..end].to_owned();
            rest = &rest[end..];
            let mut val = None;
            if let Some(after) = rest.strip_prefix('=') {
                if let Some(quoted) = after.strip_prefix('"') {
                    let close = quoted.find('"').unwrap_or(quoted.len());
                    val = Some(quoted[..close].to_owned());
                    rest = quoted.get(close + 1..).unwrap_or("");
                } else {
                    let close = after.find(' ').unwrap_or(after.len());
                    val = Some(after[..close].to_owned());
                    rest = &after[close..];
                }
            }
            attrs.push((key, val));
        }
        (cell[..open].trim().to_owned(), attrs)
    }

    fn has(attrs: &[(String, Option<String>)], key: &str) -> bool {
        attrs.iter().any(|(k, _)| k == key)
    }

    fn value(attrs: &[(String, Option<String>)], key: &str) -> Option<String> {
        attrs.iter().find(|(k, _)| k == key).and_then(|(_, v)| v.clone())
    }

    /// Enumerations as DOCS-FORMAT.md and `lower::description` state them, read here another way
    /// (splitting on backticks): a `<br/>` segment whose backticked values, joined by `|` or
    /// blanks, stand right before the marker `枚举值之一` / `枚举值`, which ends the segment or a
    /// clause; or a segment `枚举值：` heading `VALUE：label` segments. Sorted: the order of values
    /// means nothing.
    fn enum_values(description: &str) -> Vec<String> {
        let segments: Vec<&str> = description.split("<br/>").map(str::trim).collect();
        let mut found = Vec::new();
        for (i, segment) in segments.iter().enumerate() {
            let mut values = if ["枚举值", "枚举值：", "枚举值:"].contains(segment) {
                segments[i + 1..].iter().map_while(|s| labelled(s)).collect()
            } else {
                marked(segment)
            };
            if !values.is_empty() {
                values.sort();
                values.dedup();
                found = values;
            }
        }
        found
    }

    /// The values before the last marker of a segment (ending it or a clause) that has some.
    fn marked(segment: &str) -> Vec<String> {
        let ends_clause = |rest: &str| rest.is_empty() || rest.starts_with(['，', ',', '。', '；', ';']);
        segment
            .rmatch_indices("枚举值")
            .filter(|(at, _)| ends_clause(segment[at + "枚举值".len()..].trim_start_matches("之一").trim_start()))
            .map(|(at, _)| values_at_end(&segment[..at]))
            .find(|values| !values.is_empty())
            .unwrap_or_default()
    }

    /// The backticked values ending `before`, split on backticks: text, v1, sep, v2, …, vn, tail
    /// (values at odd places). An odd count of backticks is a value without its opening one.
    fn values_at_end(before: &str) -> Vec<String> {
        let pieces: Vec<&str> = before.split('`').collect();
        if pieces.len() < 3 || pieces.len().is_multiple_of(2) || !pieces[pieces.len() - 1].trim().is_empty() {
            return vec![];
        }
        let mut values = Vec::new();
        let mut at = pieces.len() - 2;
        loop {
            if pieces[at].trim().is_empty() {
                return vec![];
            }
            values.push(pieces[at].trim().to_owned());
            let separator = pieces[at - 1].trim();
            if at >= 3 && (separator.is_empty() || separator == "|") {
                at -= 2;
            } else if separator.ends_with('|') {
                return vec![]; // a pipe with no value before it
            } else {
                break;
            }
        }
        values
    }

    /// `` `VALUE`：label `` or `VALUE：label`.
    fn labelled(segment: &str) -> Option<String> {
        let (value, label) = segment.split_once('：').or_else(|| segment.split_once(':'))?;
        let value = value.trim().trim_matches('`');
        let ok = !value.is_empty() && !label.trim().is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
        ok.then(|| value.to_owned())
    }

    fn first_url(description: &str) -> Option<String> {
        let start = description.find("http")?;
        let rest = &description[start..];
        let end = rest.find(|c: char| c == '`' || c == '(' || c == ')' || c.is_whitespace() || !c.is_ascii()).unwrap_or(rest.len());
        Some(rest[..end].to_owned())
    }
}
