//! `specs/overrides.toml`: reviewed corrections of upstream pages, applied by the import.
//!
//! Each entry names a page, why it is corrected and the evidence, and what changes. Edits act on
//! the page's table rows before they are read, each naming the row by its upstream line *and*
//! field name: when upstream edits the page, the override stops matching and the import fails,
//! so a correction is reviewed again rather than applied to the wrong row.
//!
//! ```toml
//! [[page]]
//! file = "webhook/v3/RECHARGE.CLOSED.md"
//! reason = "`employee_type` belongs to `qr_recharge_info` …"
//! evidence = "…"
//! rows = [{ line = 64, name = "employee_type", indent = 4 }]
//! insert = [{ after = 10, row = "| out_batch_no {data-required} | string |" }]
//! accept = ["the payload structure follows `resource.original_type`"]
//! ```
//!
//! A row edit may set `indent`, `required`, `type`, `rename`, `enum` (the values), `delete = true`,
//! or `before = LINE` (move the row above another). `accept` lists warnings of the page (by a
//! part of their text) whose worked-around reading was reviewed and is right.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::PageError;
use crate::parse::{self, Attr, Block, Page, Row};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    #[serde(default)]
    page: Vec<PageOverride>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageOverride {
    pub file: String,
    pub reason: String,
    pub evidence: String,
    #[serde(default)]
    pub rows: Vec<RowEdit>,
    #[serde(default)]
    pub insert: Vec<Insert>,
    #[serde(default)]
    pub accept: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowEdit {
    pub line: usize,
    pub name: String,
    pub indent: Option<usize>,
    pub required: Option<bool>,
    #[serde(rename = "type")]
    pub ty: Option<String>,
    pub rename: Option<String>,
    #[serde(rename = "enum")]
    pub values: Option<Vec<String>>,
    #[serde(default)]
    pub delete: bool,
    pub before: Option<usize>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Insert {
    pub after: usize,
    pub row: String,
}

impl Overrides {
    /// Reads `file`; an absent file means no overrides. Every entry needs a reason and evidence.
    pub fn read(file: &Path) -> Result<Overrides, PageError> {
        let error = |line, message: String| PageError { file: file.display().to_string(), line, message };
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Overrides::default()),
            Err(e) => return Err(error(0, e.to_string())),
        };
        let overrides: Overrides = toml::from_str(&text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start].lines().count().max(1)).unwrap_or(0);
            error(line, e.message().to_owned())
        })?;
        let mut seen = BTreeMap::new();
        for entry in &overrides.page {
            if entry.reason.trim().is_empty() || entry.evidence.trim().is_empty() {
                return Err(error(0, format!("the override of {} needs a reason and evidence", entry.file)));
            }
            if seen.insert(entry.file.as_str(), ()).is_some() {
                return Err(error(0, format!("{} has two overrides; make them one", entry.file)));
            }
        }
        Ok(overrides)
    }

    pub fn for_page(&self, file: &str) -> Option<&PageOverride> {
        self.page.iter().find(|p| p.file == file)
    }

    pub fn pages(&self) -> impl Iterator<Item = &PageOverride> {
        self.page.iter()
    }

    pub fn len(&self) -> usize {
        self.page.len()
    }

    pub fn is_empty(&self) -> bool {
        self.page.is_empty()
    }
}

impl PageOverride {
    /// Applies the row edits and insertions to a parsed page. An edit that finds no row of its
    /// name at its line is an error: the page changed upstream and the override needs review.
    pub fn apply(&self, page: &mut Page) -> Result<(), PageError> {
        let stale = |line: usize, message: String| PageError {
            file: self.file.clone(),
            line,
            message: format!("override no longer applies ({message}): the page changed upstream; review the override"),
        };
        for edit in &self.rows {
            let (table, index) = find_row(page, edit.line, false).ok_or_else(|| stale(edit.line, "no row at this line".into()))?;
            let Row::Field(field) = &mut table.rows[index] else {
                return Err(stale(edit.line, format!("the row is not the field `{}`", edit.name)));
            };
            if field.name != edit.name {
                return Err(stale(edit.line, format!("the row is `{}`, not `{}`", field.name, edit.name)));
            }
            if let Some(indent) = edit.indent {
                field.name_attrs.retain(|a| a.key != "data-indent");
                if indent > 0 {
                    field.name_attrs.push(Attr { key: "data-indent".into(), value: Some(indent.to_string()) });
                }
            }
            if let Some(required) = edit.required {
                field.name_attrs.retain(|a| a.key != "data-required");
                if required {
                    field.name_attrs.push(Attr { key: "data-required".into(), value: None });
                }
            }
            if let Some(ty) = &edit.ty {
                field.ty = ty.clone();
            }
            if let Some(name) = &edit.rename {
                field.name = name.clone();
            }
            if let Some(values) = &edit.values {
                let list: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
                let marker = if list.len() == 1 { "枚举值" } else { "枚举值之一" };
                field.description = format!("{} {marker}", list.join(" | "));
            }
            if edit.delete {
                table.rows.remove(index);
            } else if let Some(before) = edit.before {
                let row = table.rows.remove(index);
                let target = table
                    .rows
                    .iter()
                    .position(|r| row_line(r) == before)
                    .ok_or_else(|| stale(before, format!("no row at line {before} to move `{}` before", edit.name)))?;
                table.rows.insert(target, row);
            }
        }
        for insert in &self.insert {
            let (table, index) =
                find_row(page, insert.after, true).ok_or_else(|| stale(insert.after, "no row at this line to insert after".into()))?;
            let cells = split_cells(&insert.row);
            let row = parse::read_row(insert.after, &cells).map_err(|message| PageError {
                file: self.file.clone(),
                line: insert.after,
                message: format!("inserted row `{}`: {message}", insert.row),
            })?;
            table.rows.insert(index + 1, row);
        }
        Ok(())
    }

    /// Whether a warning of this page was reviewed and accepted.
    pub fn accepts(&self, warning: &str) -> bool {
        self.accept.iter().any(|a| warning.contains(a.as_str()))
    }
}

fn row_line(row: &Row) -> usize {
    match row {
        Row::Field(field) => field.line,
        Row::SubStructure { line } | Row::Empty { line } | Row::Stream { line } => *line,
    }
}

/// The table and index of the row at `line`: the first such row, or with `last` the last one
/// (rows inserted after a line carry that line, and keep their order).
fn find_row(page: &mut Page, line: usize, last: bool) -> Option<(&mut parse::Table, usize)> {
    page.blocks.iter_mut().find_map(|block| match block {
        Block::Table(table) => {
            let at = |r: &Row| row_line(r) == line;
            let index = if last { table.rows.iter().rposition(at) } else { table.rows.iter().position(at) }?;
            Some((table, index))
        }
        _ => None,
    })
}

/// `| a {x} | string | text` → the cells, split at pipes that are not escaped.
fn split_cells(row: &str) -> Vec<String> {
    let inner = row.trim().trim_start_matches('|');
    let mut cells = Vec::new();
    let mut current = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                current.push_str("\\|");
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut current).trim().to_owned()),
            _ => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        cells.push(current.trim().to_owned());
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_split_at_unescaped_pipes() {
        assert_eq!(split_cells("| a {data-required} | string | x \\| y"), ["a {data-required}", "string", "x \\| y"]);
        assert_eq!(split_cells("| a | string |"), ["a", "string"]);
    }
}
