//! Changes → text for a terminal, Markdown for a pull-request comment, JSON for tools, release
//! notes for a changelog.

use std::collections::BTreeSet;
use std::fmt::Write;

use serde::Serialize;
use serde_json::Value;

use super::compare::{Change, Kind, Subject, TypePair};
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
    /// Operations and notifications with at least one change, their own or a type's they use.
    pub operations: usize,
    /// Rust types with changes reported once for all their uses.
    pub types: usize,
}

impl Summary {
    pub fn of(changes: &[Change]) -> Summary {
        let breaking = changes.iter().filter(|c| c.breaking).count();
        let operations: BTreeSet<&str> = changes.iter().flat_map(|c| &c.uses).map(|u| u.operation.as_str()).collect();
        let types: BTreeSet<&TypePair> = changes
            .iter()
            .filter_map(|c| match &c.subject {
                Subject::Type { ty } => Some(ty),
                Subject::Operation { .. } => None,
            })
            .collect();
        Summary {
            changes: changes.len(),
            breaking,
            compatible: changes.len() - breaking,
            operations: operations.len(),
            types: types.len(),
        }
    }

    /// `3 changes in 2 operations (1 shared type): **1 breaking**, 2 compatible.`, with the
    /// breaking count as given.
    fn sentence(&self, breaking: &str) -> String {
        let types = match self.types {
            0 => String::new(),
            n => format!(" ({n} shared type{})", plural(n)),
        };
        format!(
            "{} change{} in {} operation{}{types}: {breaking}, {} compatible.",
            self.changes,
            plural(self.changes),
            self.operations,
            plural(self.operations),
            self.compatible
        )
    }
}

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Consecutive changes of one subject (the comparison emits them together); for a type, of the
/// same uses.
fn groups(changes: &[Change]) -> Vec<&[Change]> {
    changes.chunk_by(|a, b| a.subject == b.subject && (a.subject.operation().is_some() || a.uses == b.uses)).collect()
}

/// One line per change, grouped by operation or type, then the counts.
///
/// ```text
/// type types::Amount
///   used by     POST /v3/pay/transactions/app json.amount
///   used by     POST /v3/pay/transactions/jsapi json.amount
///   BREAKING    currency: field added (string, required) — required in requests: …
///
/// POST /v3/pay/transactions/jsapi (openapi/v3/pay/transactions/jsapi.md)
///   BREAKING    json.scene_info.store_id: field added (string, required) — required in requests: …
/// ```
pub fn text(changes: &[Change], unread: &[Unread]) -> String {
    let mut out = String::new();
    for group in groups(changes) {
        let first = &group[0];
        match &first.subject {
            Subject::Operation { operation, file } => writeln!(out, "{operation} ({file})").unwrap(),
            Subject::Type { ty } => {
                writeln!(out, "type {ty}").unwrap();
                for u in &first.uses {
                    writeln!(out, "  used by     {u}").unwrap();
                }
            }
        }
        for c in group {
            let tag = if c.breaking { "BREAKING  " } else { "compatible" };
            writeln!(out, "  {tag}  {}", line(c, "")).unwrap();
        }
        out.push('\n');
    }
    let summary = Summary::of(changes);
    if summary.changes == 0 {
        out.push_str("No schema changes.\n");
    } else {
        writeln!(out, "{}", summary.sentence(&format!("{} breaking", summary.breaking))).unwrap();
    }
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
    let mut out = md_summary("Schema diff", changes, unread);
    for group in groups(changes) {
        let first = &group[0];
        let breaking = group.iter().filter(|c| c.breaking).count();
        let note = if breaking > 0 { format!(" — {breaking} breaking") } else { String::new() };
        match &first.subject {
            Subject::Operation { operation, file } => {
                writeln!(out, "\n#### `{operation}`{note}\n").unwrap();
                writeln!(out, "<sub>{}</sub>\n", cell(file)).unwrap();
            }
            Subject::Type { ty } => {
                writeln!(out, "\n#### Type {}{note}\n", md_type(ty)).unwrap();
                let uses: Vec<String> = first.uses.iter().map(|u| format!("`{}`", cell(&u.to_string()))).collect();
                writeln!(out, "Used by {}.\n", uses.join(", ")).unwrap();
            }
        }
        out.push_str("| | Field | Change | Old | New | Why |\n| --- | --- | --- | --- | --- | --- |\n");
        for c in group {
            let tag = if c.breaking { "**breaking**" } else { "compatible" };
            let path = if c.path.is_empty() { String::new() } else { format!("`{}`", c.path) };
            writeln!(
                out,
                "| {tag} | {path} | {} | {} | {} | {} |",
                c.kind.label(),
                md_value(&c.old),
                md_value(&c.new),
                cell(&c.reason)
            )
            .unwrap();
        }
    }
    out
}

/// `**Label:** 3 changes in 1 operation: **1 breaking**, 2 compatible.` (or no schema changes),
/// then the pages not compared.
fn md_summary(label: &str, changes: &[Change], unread: &[Unread]) -> String {
    let summary = Summary::of(changes);
    let mut out = match summary.changes {
        0 => format!("**{label}:** no schema changes.\n"),
        _ => format!("**{label}:** {}\n", summary.sentence(&format!("**{} breaking**", summary.breaking))),
    };
    markdown_unread(&mut out, unread);
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

/// Release notes, for a changelog's release section (its level-4 headings go under a level-3
/// one): the summary; breaking changes with their reasons, by operation or shared type;
/// operations and notifications added, then removed; the other compatible changes, one line per
/// operation or type. A section with nothing in it is left out.
///
/// ```text
/// **Documented API:** 3 changes in 1 operation: **2 breaking**, 1 compatible.
///
/// #### Breaking changes
///
/// - `POST /v3/demo/orders`
///   - `json.attach`: field removed (`string, optional`) — its builder setter disappears: …
///
/// #### Other compatible changes
///
/// - `POST /v3/demo/orders`: field added `json.notify_url` (`string, optional`)
/// ```
pub fn changelog(changes: &[Change], unread: &[Unread]) -> String {
    let mut out = md_summary("Documented API", changes, unread);
    let groups = groups(changes);

    // Removals are breaking too; they have a section of their own, as additions do.
    let breaking = |c: &&Change| c.breaking && !whole(c.kind);
    if changes.iter().any(|c| breaking(&c)) {
        out.push_str("\n#### Breaking changes\n\n");
        for group in &groups {
            let mut items = group.iter().filter(breaking).peekable();
            if items.peek().is_none() {
                continue;
            }
            writeln!(out, "- {}", changelog_subject(&group[0], true)).unwrap();
            for c in items {
                writeln!(out, "  - {}", line(c, "`")).unwrap();
            }
        }
    }

    for (heading, kinds, note) in [
        ("Added", [Kind::OperationAdded, Kind::NotificationAdded], ""),
        (
            "Removed",
            [Kind::OperationRemoved, Kind::NotificationRemoved],
            "Breaking: code that names them no longer compiles.\n\n",
        ),
    ] {
        let mut items = changes.iter().filter(|c| kinds.contains(&c.kind)).peekable();
        if items.peek().is_none() {
            continue;
        }
        write!(out, "\n#### {heading}\n\n{note}").unwrap();
        for c in items {
            let title = c.new.as_str().or(c.old.as_str()).filter(|t| !t.is_empty());
            let title = title.map(|t| format!(" ({t})")).unwrap_or_default();
            writeln!(out, "- `{}`{title}", c.subject.operation().unwrap_or_default()).unwrap();
        }
    }

    let other = |c: &&Change| !c.breaking && !whole(c.kind);
    if changes.iter().any(|c| other(&c)) {
        out.push_str("\n#### Other compatible changes\n\n");
        for group in &groups {
            let changes: Vec<&Change> = group.iter().filter(other).collect();
            if !changes.is_empty() {
                writeln!(out, "- {}: {}", changelog_subject(&group[0], false), by_kind(&changes)).unwrap();
            }
        }
    }
    out
}

/// A subject's changes in one line, each kind once in the order found, with the paths and values
/// it was found at: ``field added `a` (`string, optional`), `b` (…); enum values added `c` (`X`)``.
fn by_kind(changes: &[&Change]) -> String {
    let mut kinds: Vec<(Kind, Vec<String>)> = Vec::new();
    for c in changes {
        let values = values(c, "`", " → ");
        let item = match (c.path.is_empty(), values.is_empty()) {
            (true, true) => None,
            (true, false) => Some(format!("({values})")),
            (false, true) => Some(format!("`{}`", c.path)),
            (false, false) => Some(format!("`{}` ({values})", c.path)),
        };
        match kinds.iter_mut().find(|(kind, _)| *kind == c.kind) {
            Some((_, items)) => items.extend(item),
            None => kinds.push((c.kind, item.into_iter().collect())),
        }
    }
    let kinds: Vec<String> = kinds
        .iter()
        .map(|(kind, items)| match items.is_empty() {
            true => kind.label().to_owned(),
            false => format!("{} {}", kind.label(), items.join(", ")),
        })
        .collect();
    kinds.join("; ")
}

/// Whether a change adds or removes an operation or notification as a whole.
fn whole(kind: Kind) -> bool {
    matches!(kind, Kind::OperationAdded | Kind::NotificationAdded | Kind::OperationRemoved | Kind::NotificationRemoved)
}

/// `` `POST /v3/demo/orders` ``, or a type with every field having it (`uses`), else how many
/// operations use it.
fn changelog_subject(c: &Change, uses: bool) -> String {
    match &c.subject {
        Subject::Operation { operation, .. } => format!("`{operation}`"),
        Subject::Type { ty } if uses => {
            let uses: Vec<String> = c.uses.iter().map(|u| format!("`{u}`")).collect();
            format!("Type {}, used by {}", md_type(ty), uses.join(", "))
        }
        Subject::Type { ty } => {
            let operations = c.uses.iter().map(|u| &u.operation).collect::<BTreeSet<_>>().len();
            format!("Type {} (used by {operations} operation{})", md_type(ty), plural(operations))
        }
    }
}

/// `{"summary": {…}, "changes": [{kind, operation, file | type, path, breaking, reason, old, new,
/// uses}], "unread": [{tree, file, line, message}]}`.
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
    let mut s = serde_json::to_string_pretty(&Document { summary: Summary::of(changes), changes, unread })
        .expect("changes serialize");
    s.push('\n');
    s
}

/// `json.amount.total: type changed (integer → string) — why`, the path and values quoted with
/// `quote`.
fn line(c: &Change, quote: &str) -> String {
    let path = if c.path.is_empty() { String::new() } else { format!("{quote}{}{quote}: ", c.path) };
    let values = values(c, quote, " → ");
    let values = if values.is_empty() { values } else { format!(" ({values})") };
    format!("{path}{}{values} — {}", c.kind.label(), c.reason)
}

/// `` `types::Amount` ``, or `` `types::Amount` (now `types::OrderAmount`) ``.
fn md_type(ty: &TypePair) -> String {
    if ty.old == ty.new {
        format!("`{}`", ty.new)
    } else {
        format!("`{}` (now `{}`)", ty.old, ty.new)
    }
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
