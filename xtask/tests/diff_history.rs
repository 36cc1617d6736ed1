//! `cargo xtask diff` on the real documentation history (`../shared/corpus-history/`, one folder
//! per upstream commit with `old/` and `new/` pages), measured as a reviewer would: does the diff
//! say what the tables say, commit by commit?
//!
//! The expectation comes from the table rows themselves, read by a small reader of its own
//! (`rows`, below; it shares no code with the generator), not from the diff: each row is keyed by
//! page, operation and path of names, with the attributes that shape the generated crate (type,
//! required, enum list, markers, host). Every row added, removed or changed in those attributes
//! must be reported by the diff (by the change at its path or at an ancestor, such as an added
//! operation); every change the diff reports must be explained by such a row, at every field it
//! reaches (a change of a shared type, reported once, reaches each field having the type). A
//! commit where either fails is a disagreement; the test prints how many there are, and there
//! must be none.
//!
//! A Rust type rename has no row of its own: type names are decided over every page using a type
//! of that name. It is checked to be at a field on both sides, in a commit where some row differs.
//!
//! Where the diff deliberately says nothing about a row difference, the reason is one of the
//! documented decisions below ([`Decision`]), counted and printed, never filtered silently.
//!
//! The Markdown output of one real pair is snapshot-tested (`tests/snapshots/diff/`, refreshed
//! with `UPDATE_SNAPSHOTS=1`).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use xtask::diff::{diff_dirs, Change, Kind, Options, Subject, Use};

mod snapshot;

fn history() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace");
    let history = root.join("../shared/corpus-history");
    if history.is_dir() {
        Some(history)
    } else {
        println!(
            "skipped: {} not found (the documentation history is test data kept outside the repository)",
            history.display()
        );
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

/// Row differences the diff does not report, by design. Each is a fact about the generated
/// crate (see the README's table), not a blind spot of the reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Decision {
    /// A page that does not load (an old revision's `array[]`, an unclosed table) is an error
    /// of the diff, `file:line: message`, and compared on neither side: its rows are not
    /// expected in the report, and nothing may be reported for it.
    UnreadablePage,
    /// A request part's own row (`json`, `query`, `headers`, `body`; a notification's `headers`
    /// and `body`): the builder has setters for a part's members, which are rows of their own,
    /// never for the part, so its `required` flag reaches no generated code, and the part comes
    /// and goes with its members.
    PartRow,
    /// The `required` flag of a path parameter: the URL needs it, whatever its row says.
    PathParameterFlag,
    /// A notification whose table the loader cannot nest (a row under a string, say) keeps its
    /// payload as untyped JSON, with a warning (`… the payload is kept as untyped JSON`): it is
    /// compared as a whole, typed or untyped, not row by row.
    UntypedPayload,
}

impl Decision {
    fn why(self) -> &'static str {
        match self {
            Decision::UnreadablePage => "rows of pages that do not load (reported as errors, compared on neither side)",
            Decision::PartRow => {
                "a request part's own row (json, query, headers, body): the builder has setters for its members only"
            }
            Decision::PathParameterFlag => "required flag of a path parameter: always required",
            Decision::UntypedPayload => {
                "rows of notifications kept as untyped JSON (compared as typed or untyped only)"
            }
        }
    }
}

#[test]
fn the_diff_agrees_with_the_rows_on_every_commit_of_the_history() {
    let Some(history) = history() else { return };
    let empty = tempfile::tempdir().expect("temp dir");
    let pairs = pairs(&history);
    assert!(!pairs.is_empty(), "no commit folders in {}", history.display());

    let (mut with_changes, mut with_breaking, mut silent, mut total_changes) = (0, 0, 0, 0);
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    // Per decision: rows, and the (commit, page) pairs they are in.
    let mut decisions: BTreeMap<Decision, (usize, BTreeSet<(String, String)>)> = BTreeMap::new();
    let mut unreadable = Vec::new();
    let mut silent_despite_row_edits = 0;
    let mut renames = 0;
    // Changes reported once for a shared type, and the fields they stand for.
    let (mut type_changes, mut type_uses) = (0, 0);
    let mut disagreements: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pair in &pairs {
        let name = pair.file_name().unwrap().to_string_lossy().into_owned();
        let (old, new) = (side(pair, "old", empty.path()), side(pair, "new", empty.path()));
        let report = diff_dirs(&old, &new, Options::default()).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let changes = &report.changes;
        let (old_rows, new_rows) = (rows::read_tree(&old), rows::read_tree(&new));

        let bad: BTreeSet<&str> = report.old_errors.iter().chain(&report.new_errors).map(|e| e.file.as_str()).collect();
        for e in report.old_errors.iter().chain(&report.new_errors) {
            assert!(e.line > 0, "{name}: an error without its line: {e}");
            unreadable.push(format!("{name}: {e}"));
        }
        let untyped: BTreeSet<&str> = report
            .old_warnings
            .iter()
            .chain(&report.new_warnings)
            .filter(|w| w.ends_with("the payload is kept as untyped JSON"))
            .filter_map(|w| w.split(':').next())
            .collect();
        let mut failures = Vec::new();
        let mut expected = Vec::new();
        let differences = differences(&old_rows, &new_rows);
        let rows_differ = !differences.is_empty();
        for entry in differences {
            match decision(&entry, &bad, &untyped) {
                Some(d) => {
                    let (rows, pages) = decisions.entry(d).or_default();
                    *rows += 1;
                    pages.insert((name.clone(), entry.key.file.clone()));
                }
                None => expected.push(entry),
            }
        }
        for entry in &expected {
            if !changes.iter().any(|c| c.uses.iter().any(|u| covers(c, u, entry))) {
                failures.push(format!("not reported: {entry}"));
            }
        }
        for c in changes {
            for u in &c.uses {
                if c.kind == Kind::TypeRenamed {
                    // Type names are decided over every page using a type of that name, so a
                    // rename is explained by the rows of other pages: the field is there on
                    // both sides, and some row of the commit differs.
                    renames += 1;
                    if !(rows_differ && on_both_sides(&old_rows, &new_rows, u, &c.path)) {
                        failures.push(format!(
                            "renamed without a row change or a field: {} ({})",
                            u.field(&c.path),
                            u.file
                        ));
                    }
                    continue;
                }
                // An untyped notification is reported only as such, or as added or removed.
                let whole = untyped.contains(u.file.as_str())
                    && (u.field(&c.path) == "payload" && c.kind == Kind::TypeChanged
                        || matches!(c.kind, Kind::NotificationAdded | Kind::NotificationRemoved));
                if !whole && !expected.iter().any(|entry| covers(c, u, entry)) {
                    failures.push(format!(
                        "reported without a row change: {} {} {:?} ({})",
                        u.operation,
                        u.field(&c.path),
                        c.kind,
                        u.file
                    ));
                }
            }
        }
        if !failures.is_empty() {
            disagreements.insert(name.clone(), failures);
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
        for c in changes {
            *kinds.entry(format!("{:?}", c.kind)).or_default() += 1;
            if matches!(c.subject, Subject::Type { .. }) {
                type_changes += 1;
                type_uses += c.uses.len();
            }
        }
    }

    println!(
        "corpus history: {} commits compared: {} with schema changes ({} with breaking changes), {} silent ({} of them with edited table rows); {} changes",
        pairs.len(),
        with_changes,
        with_breaking,
        silent,
        silent_despite_row_edits,
        total_changes
    );
    for (kind, n) in &kinds {
        println!("  {kind}: {n}");
    }
    println!("row differences not reported, by documented decision:");
    for (d, (rows, pages)) in &decisions {
        let commits = pages.iter().map(|(commit, _)| commit).collect::<BTreeSet<_>>().len();
        println!("  {rows:4} rows on {:3} pages in {commits:3} commits: {}", pages.len(), d.why());
    }
    for u in &unreadable {
        println!("  not loadable: {u}");
    }
    println!("changes of shared types, each reported once: {type_changes}, for {type_uses} fields");
    println!("Rust type renames (checked against the rows of the whole commit): {renames} fields");
    println!("disagreements between the diff and the rows: {} of {} commits", disagreements.len(), pairs.len());
    let shown: Vec<String> = disagreements
        .iter()
        .flat_map(|(name, failures)| failures.iter().map(move |f| format!("{name}: {f}")))
        .take(40)
        .collect();
    assert!(disagreements.is_empty(), "{} commits disagree:\n{}", disagreements.len(), shown.join("\n"));
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
        .unwrap_or_else(|e| {
            panic!("pair does not load: {}", e.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))
        });
    let actual = xtask::diff::Format::Markdown.render(&changes, &[]);
    snapshot::assert_snapshot("diff/2026-01-31-e8494021.md", &actual, "the Markdown report");
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
        write!(
            f,
            "{} {} {}: {:?} → {:?}",
            self.key.file,
            self.key.operation,
            self.key.path.join("."),
            self.old,
            self.new
        )
    }
}

fn differences(old: &rows::Tree, new: &rows::Tree) -> Vec<Entry> {
    let keys: BTreeSet<&rows::Key> = old.rows.keys().chain(new.rows.keys()).collect();
    keys.into_iter()
        .map(|key| Entry { key: key.clone(), old: old.rows.get(key).cloned(), new: new.rows.get(key).cloned() })
        .filter(|e| e.old != e.new)
        .collect()
}

/// The documented decision that keeps a row difference out of the report, if any.
fn decision(entry: &Entry, unreadable: &BTreeSet<&str>, untyped: &BTreeSet<&str>) -> Option<Decision> {
    if unreadable.contains(entry.key.file.as_str()) {
        return Some(Decision::UnreadablePage);
    }
    let only_required = match (&entry.old, &entry.new) {
        (Some(o), Some(n)) => rows::Attrs { required: n.required, ..o.clone() } == *n,
        _ => false,
    };
    if untyped.contains(entry.key.file.as_str()) {
        return Some(Decision::UntypedPayload);
    }
    if entry.old.as_ref().or(entry.new.as_ref()).is_some_and(|a| a.part) {
        return Some(Decision::PartRow);
    }
    if only_required && entry.key.path.first().is_some_and(|p| p == "path") {
        return Some(Decision::PathParameterFlag);
    }
    None
}

/// Whether a reported change, at one of the fields it reaches, accounts for a row: same page and
/// operation, and the change's path is the row's path or one of its ancestors (an added
/// operation covers all its rows, a moved field both its old and new place).
fn covers(c: &Change, at: &Use, entry: &Entry) -> bool {
    if at.file != entry.key.file {
        return false;
    }
    let operation_matches = if entry.key.operation == "notification" {
        at.operation.starts_with("notification ")
    } else {
        at.operation.starts_with(&format!("{} ", entry.key.operation))
    };
    if !operation_matches {
        return false;
    }
    let row = entry.key.path.join(".");
    let under = |path: &str| {
        let path = path.replace("[]", "");
        path.is_empty() || row == path || row.starts_with(&format!("{path}."))
    };
    under(&at.field(&c.path)) || (c.kind == Kind::FieldMoved && c.old.as_str().is_some_and(under))
}

/// Whether the field a change reaches at `at` has rows in both trees (for `response` and
/// `payload`, whose own rows are their members: some member on both sides).
fn on_both_sides(old: &rows::Tree, new: &rows::Tree, at: &Use, path: &str) -> bool {
    let operation = match at.operation.split_once(' ') {
        Some(("notification", _)) => "notification",
        Some((method, _)) => method,
        None => return false,
    };
    let field = at.field(path).replace("[]", "");
    let field: Vec<&str> = field.split('.').collect();
    let has = |tree: &rows::Tree| {
        tree.rows.keys().any(|k| {
            k.file == at.file
                && k.operation == operation
                && k.path.len() >= field.len()
                && k.path[..field.len()] == field[..]
        })
    };
    has(old) && has(new)
}

/// A reader of the doc tables for this test alone: rows, their nesting by indent, and the cells
/// that matter to the schema. It follows DOCS-FORMAT.md and docs/ir.md, and shares no code with
/// the generator. Where a page is defective, it reads it as documented (each rule at its place):
/// rows under any `resource` member after the sub-structure line are the payload; a path
/// parameter without a row is a string; fields described twice as alternatives are one field.
mod rows {
    use std::collections::BTreeMap;
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
        /// A request part's own row (`json`, `query`, `headers`, `body`).
        pub part: bool,
    }

    /// A tree's rows.
    #[derive(Default)]
    pub struct Tree {
        pub rows: BTreeMap<Key, Attrs>,
    }

    /// A row with the rows nested under it.
    struct Node {
        name: String,
        attrs: Attrs,
        children: Vec<Node>,
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
            let mut put = |path: Vec<String>, attrs: Attrs| {
                out.rows.insert(Key { file: file.into(), operation: operation.clone(), path }, attrs);
            };
            let roots = nest(&body[1.min(body.len())..], &mut put);
            let mut flat = Vec::new();
            match (request, webhook) {
                (false, _) => flatten(&["response"], &roots, &mut flat),
                (true, true) => notification_rows(&roots, &mut flat),
                (true, false) => request_rows(file, roots, &mut flat),
            }
            for (path, attrs) in flat {
                put(path, attrs);
            }
        }
    }

    /// Rows → nodes by `data-indent`. A field described again under the same parent (an
    /// alternative, after a sub-structure line) is one field (docs/ir.md): flags hold only if
    /// both say so, a member described in one alternative only is optional, enums are united.
    /// The empty and byte-stream rows go straight to `put`.
    fn nest(body: &[&str], put: &mut dyn FnMut(Vec<String>, Attrs)) -> Vec<Node> {
        let mut open: Vec<(usize, Node)> = Vec::new();
        let mut roots = Vec::new();
        for line in body {
            let cells = cells(line);
            let (name, name_attrs) = strip_attrs(cells.first().map(String::as_str).unwrap_or(""));
            if has(&name_attrs, "colspan") {
                if name.starts_with("空字符串") || name.starts_with("文件流") {
                    let ty = if name.starts_with("空字符串") { "empty" } else { "stream" };
                    put(vec!["response".into()], attrs(ty, false, vec![], None, None));
                }
                continue; // the sub-structure line: deeper rows nest by indent anyway
            }
            let indent: usize = value(&name_attrs, "data-indent").and_then(|v| v.parse().ok()).unwrap_or(0);
            while open.last().is_some_and(|(i, _)| *i >= indent) {
                close(&mut open, &mut roots);
            }
            let (ty, ty_attrs) = strip_attrs(cells.get(1).map(String::as_str).unwrap_or(""));
            let description = cells.get(2).cloned().unwrap_or_default();
            let mut node = Node {
                name,
                attrs: attrs(
                    &ty,
                    has(&name_attrs, "data-required"),
                    enum_values(&description),
                    value(&ty_attrs, "data-encrypted"),
                    value(&ty_attrs, "data-encoded"),
                ),
                children: vec![],
            };
            if node.name == "base_uri" {
                node.attrs.url = first_url(&description);
            }
            open.push((indent, node));
        }
        while !open.is_empty() {
            close(&mut open, &mut roots);
        }
        roots
    }

    fn attrs(
        ty: &str,
        required: bool,
        enum_values: Vec<String>,
        encrypted: Option<String>,
        encoded: Option<String>,
    ) -> Attrs {
        Attrs { ty: ty.into(), required, enum_values, encrypted, encoded, url: None, part: false }
    }

    fn close(open: &mut Vec<(usize, Node)>, roots: &mut Vec<Node>) {
        let Some((_, node)) = open.pop() else { return };
        let siblings = match open.last_mut() {
            Some((_, parent)) => &mut parent.children,
            None => roots,
        };
        match siblings.iter_mut().find(|s| s.name == node.name) {
            Some(first) => merge(first, node),
            None => siblings.push(node),
        }
    }

    fn merge(first: &mut Node, other: Node) {
        first.attrs.required &= other.attrs.required;
        first.attrs.enum_values.extend(other.attrs.enum_values);
        first.attrs.enum_values.sort();
        first.attrs.enum_values.dedup();
        let mut others = other.children;
        for child in &mut first.children {
            match others.iter().position(|o| o.name == child.name) {
                Some(i) => merge(child, others.remove(i)),
                None => child.attrs.required = false,
            }
        }
        for mut child in others {
            child.attrs.required = false;
            first.children.push(child);
        }
    }

    fn flatten(prefix: &[&str], nodes: &[Node], out: &mut Vec<(Vec<String>, Attrs)>) {
        for node in nodes {
            let path: Vec<String> =
                prefix.iter().map(|s| s.to_string()).chain(std::iter::once(node.name.clone())).collect();
            out.push((path.clone(), node.attrs.clone()));
            let prefix: Vec<&str> = path.iter().map(String::as_str).collect();
            flatten(&prefix, &node.children, out);
        }
    }

    /// Request parts by their top-level row; any other top-level row is a path parameter. A
    /// `{param}` of the page's path without a row is a string; when exactly one has no row and
    /// exactly one top-level row is neither a part nor a parameter, that row is the parameter,
    /// misspelt (the loader warns about both).
    fn request_rows(file: &str, mut roots: Vec<Node>, out: &mut Vec<(Vec<String>, Attrs)>) {
        let parts = ["json", "query", "headers", "body", "base_uri"];
        let params: Vec<String> = file
            .split('/')
            .filter_map(|s| s.trim_end_matches(".md").strip_prefix('{')?.strip_suffix('}').map(String::from))
            .collect();
        let missing: Vec<&String> = params.iter().filter(|p| !roots.iter().any(|r| &r.name == *p)).collect();
        let unknown: Vec<usize> = (0..roots.len())
            .filter(|&i| !parts.contains(&roots[i].name.as_str()) && !params.contains(&roots[i].name))
            .collect();
        if let ([param], [row]) = (missing.as_slice(), unknown.as_slice()) {
            if roots[*row].children.is_empty() {
                roots[*row].name = (*param).clone();
            }
        }
        for param in &params {
            if !roots.iter().any(|r| &r.name == param) {
                out.push((vec!["path".into(), param.clone()], attrs("string", true, vec![], None, None)));
            }
        }
        for root in &roots {
            match root.name.as_str() {
                "json" | "query" | "headers" | "body" => {
                    let part = if root.name == "body" { "multipart" } else { root.name.as_str() };
                    out.push((vec![part.into()], Attrs { part: true, ..root.attrs.clone() }));
                    flatten(&[part], &root.children, out);
                }
                "base_uri" => {
                    let url = Attrs {
                        ty: String::new(),
                        required: false,
                        enum_values: vec![],
                        encrypted: None,
                        encoded: None,
                        url: root.attrs.url.clone(),
                        part: false,
                    };
                    out.push((vec!["base_uri".into()], url));
                }
                _ => flatten(&["path"], std::slice::from_ref(root), out),
            }
        }
    }

    /// `headers.…`, `envelope.…` (the `body` row's members), and `payload.…`: the rows nested
    /// under a member of `resource`, which describe the decrypted ciphertext (DOCS-FORMAT.md),
    /// whichever member the sub-structure line follows (some pages put it after
    /// `original_type`, one writes it as an object `original_data` beside the ciphertext).
    fn notification_rows(roots: &[Node], out: &mut Vec<(Vec<String>, Attrs)>) {
        for root in roots {
            match root.name.as_str() {
                "headers" => {
                    out.push((vec!["headers".into()], Attrs { part: true, ..root.attrs.clone() }));
                    flatten(&["headers"], &root.children, out);
                }
                "body" => {
                    out.push((vec!["envelope".into()], Attrs { part: true, ..root.attrs.clone() }));
                    for member in &root.children {
                        if member.name != "resource" {
                            flatten(&["envelope"], std::slice::from_ref(member), out);
                            continue;
                        }
                        out.push((vec!["envelope".into(), "resource".into()], member.attrs.clone()));
                        for field in &member.children {
                            // An object written at the ciphertext's level with rows under it only
                            // names the decrypted structure (`original_data`).
                            let names_payload =
                                field.name != "ciphertext" && field.attrs.ty == "object" && !field.children.is_empty();
                            if !names_payload {
                                out.push((
                                    vec!["envelope".into(), "resource".into(), field.name.clone()],
                                    field.attrs.clone(),
                                ));
                            }
                            flatten(&["payload"], &field.children, out);
                        }
                    }
                }
                other => flatten(&[other], std::slice::from_ref(root), out),
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

    /// `name {a b=c} {d="e f"}` → (`name`, attributes as (key, value)); several blocks at the
    /// end of a cell are one set.
    fn strip_attrs(cell: &str) -> (String, Vec<(String, Option<String>)>) {
        let mut cell = cell.trim();
        let mut blocks = Vec::new();
        while let Some(open) = cell.rfind('{').filter(|_| cell.ends_with('}')) {
            blocks.push(&cell[open + 1..cell.len() - 1]);
            cell = cell[..open].trim_end();
        }
        let mut attrs = Vec::new();
        for block in blocks.into_iter().rev() {
            let mut rest = block;
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
        }
        (cell.to_owned(), attrs)
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
        let ok = !value.is_empty()
            && !label.trim().is_empty()
            && value.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
        ok.then(|| value.to_owned())
    }

    fn first_url(description: &str) -> Option<String> {
        let start = description.find("http")?;
        let rest = &description[start..];
        let end = rest
            .find(|c: char| c == '`' || c == '(' || c == ')' || c.is_whitespace() || !c.is_ascii())
            .unwrap_or(rest.len());
        Some(rest[..end].to_owned())
    }
}
