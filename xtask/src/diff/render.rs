//! Changes → text for a terminal, Markdown for a pull-request comment, JSON for tools.

use std::fmt::Write;

use serde::Serialize;
use serde_json::Value;

use super::compare::Change;
use crate::PageError;

/// A page not compared because it does not load: the error, and the tree it is in as the user
/// named it (`old`, `HEAD:specs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unread {
    pub tree: String,
    pub error: PageError,
}

impl std::fmt::Display for Unread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.tree, self.error)
    }
}

/// Counts over a list of changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub changes: usize,
    pub breaking: usize,
    pub compatible: usize,
    /// Operations and notifications with at least one change.
    pub operations: usize,
}

impl Summary {
    pub fn of(changes: &[Change]) -> Summary {
        let breaking = changes.iter().filter(|c| c.breaking).count();
        Summary { changes: changes.len(), breaking, compatible: changes.len() - breaking, operations: groups(changes).len() }
    }

    fn sentence(&self) -> String {
        if self.changes == 0 {
            return "No schema changes.".into();
        }
        format!(
            "{} change{} in {} operation{}: {} breaking, {} compatible.",
            self.changes,
            plural(self.changes),
            self.operations,
            plural(self.operations),
            self.breaking,
            self.compatible
        )
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Consecutive changes of one operation (the comparison emits them together).
fn groups(changes: &[Change]) -> Vec<&[Change]> {
    changes.chunk_by(|a, b| a.operation == b.operation && a.file == b.file).collect()
}

/// One line per change, grouped by operation, then the counts.
///
/// ```text
/// POST /v3/pay/transactions/jsapi (openapi/v3/pay/transactions/jsapi.md)
///   BREAKING    json.scene_info.store_id: field added (string, required) — required in requests: …
/// ```
pub fn text(changes: &[Change], unread: &[Unread]) -> String {
    let mut out = String::new();
    for group in groups(changes) {
        let first = &group[0];
        writeln!(out, "{} ({})", first.operation, first.file).unwrap();
        for c in group {
            let tag = if c.breaking { "BREAKING  " } else { "compatible" };
            let subject = if c.path.is_empty() { String::new() } else { format!("{}: ", c.path) };
            let values = values(c, "", " → ");
            let values = if values.is_empty() { values } else { format!(" ({values})") };
            writeln!(out, "  {tag}  {subject}{}{values} — {}", c.kind.label(), c.reason).unwrap();
        }
        out.push('\n');
    }
    out.push_str(&Summary::of(changes).sentence());
    out.push('\n');
    // The errors themselves go to stderr with the other diagnostics; the report says it is partial.
    if !unread.is_empty() {
        writeln!(out, "Not compared: {} (see the errors).", pages_not_loading(unread)).unwrap();
    }
    out
}

/// `2 pages that do not load`, counting pages, not errors.
fn pages_not_loading(unread: &[Unread]) -> String {
    let pages = unread.iter().map(|u| (&u.tree, &u.error.file)).collect::<std::collections::BTreeSet<_>>().len();
    format!("{pages} page{} that do{} not load", plural(pages), if pages == 1 { "es" } else { "" })
}

/// A summary line, the pages not compared, then a table per operation.
pub fn markdown(changes: &[Change], unread: &[Unread]) -> String {
    let summary = Summary::of(changes);
    let mut out = String::new();
    if summary.changes == 0 {
        out.push_str("**Schema diff:** no schema changes.\n");
        markdown_unread(&mut out, unread);
        return out;
    }
    writeln!(
        out,
        "**Schema diff:** {} change{} in {} operation{}: **{} breaking**, {} compatible.",
        summary.changes,
        plural(summary.changes),
        summary.operations,
        plural(summary.operations),
        summary.breaking,
        summary.compatible
    )
    .unwrap();
    markdown_unread(&mut out, unread);
    for group in groups(changes) {
        let first = &group[0];
        let breaking = group.iter().filter(|c| c.breaking).count();
        let note = if breaking > 0 { format!(" — {breaking} breaking") } else { String::new() };
        writeln!(out, "\n#### `{}`{note}\n", first.operation).unwrap();
        writeln!(out, "<sub>{}</sub>\n", cell(&first.file)).unwrap();
        out.push_str("| | Field | Change | Old | New | Why |\n| --- | --- | --- | --- | --- | --- |\n");
        for c in group {
            let tag = if c.breaking { "**breaking**" } else { "compatible" };
            let path = if c.path.is_empty() { String::new() } else { format!("`{}`", c.path) };
            writeln!(out, "| {tag} | {path} | {} | {} | {} | {} |", c.kind.label(), md_value(&c.old), md_value(&c.new), cell(&c.reason))
                .unwrap();
        }
    }
    out
}

/// A pull request must not read a partial report as a complete one.
fn markdown_unread(out: &mut String, unread: &[Unread]) {
    if unread.is_empty() {
        return;
    }
    writeln!(out, "\n> **Not compared:** {}:", pages_not_loading(unread)).unwrap();
    for e in unread {
        writeln!(out, "> - `{}`", cell(&e.to_string()).replace('`', "'")).unwrap();
    }
}

/// `{"summary": {…}, "changes": [{kind, operation, path, breaking, reason, old, new, file}],
/// "unread": [{tree, file, line, message}]}`.
pub fn json(changes: &[Change], unread: &[Unread]) -> String {
    #[derive(Serialize)]
    struct Document<'a> {
        summary: Summary,
        changes: &'a [Change],
        unread: Vec<UnreadPage<'a>>,
    }
    #[derive(Serialize)]
    struct UnreadPage<'a> {
        tree: &'a str,
        file: &'a str,
        line: usize,
        message: &'a str,
    }
    let unread = unread
        .iter()
        .map(|u| UnreadPage { tree: &u.tree, file: &u.error.file, line: u.error.line, message: &u.error.message })
        .collect();
    let mut s = serde_json::to_string_pretty(&Document { summary: Summary::of(changes), changes, unread }).expect("changes serialize");
    s.push('\n');
    s
}

/// `old → new`, or just one side, as plain text.
fn values(c: &Change, quote: &str, arrow: &str) -> String {
    let one = |v: &Value| plain(v, quote);
    match (&c.old, &c.new) {
        (Value::Null, Value::Null) => String::new(),
        (Value::Null, new) => one(new),
        (old, Value::Null) => one(old),
        (old, new) => format!("{}{arrow}{}", one(old), one(new)),
    }
}

fn plain(v: &Value, quote: &str) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => format!("{quote}{s}{quote}"),
        Value::Array(items) => items.iter().map(|i| plain(i, quote)).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn md_value(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => format!("`{}`", cell(s).replace('`', "'")),
        Value::Array(items) => items.iter().map(md_value).collect::<Vec<_>>().join(", "),
        other => cell(&other.to_string()),
    }
}

/// Text safe inside a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}
