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
//! A row edit may set `indent`, `required`, `type`, `rename`, `enum` (the values), `encrypted`
//! (the `data-encrypted` marker of the type cell, e.g. `by-rsa-pubkey`), `format` (the row's
//! `data-format`, where the import's rule for times is wrong: a format, or `text`), `one_of` (the
//! row's `data-one-of` group, which also makes it optional: one field of the group is required),
//! `delete = true`, or `before = LINE` (move the row above another). `accept` lists warnings of the page (by a
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
    /// Replaces a whole table (the response, or a notification's payload) with a shared fragment.
    pub replace: Option<Replace>,
}

/// `replace = { table = "response", method = "get", with = "transaction.md", upstream = "…" }`:
/// the rows of `with` (in `specs/overrides/`) replace the table's rows; `upstream` is the
/// fingerprint of the rows replaced (names, types and attributes, not descriptions), so that an
/// upstream change of them fails the import until the override is reviewed.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replace {
    /// `response` (an operation's response table) or `payload` (a notification's decrypted
    /// resource: the rows under `resource.ciphertext`).
    pub table: String,
    /// The operation's method, on a page with several.
    pub method: Option<String>,
    /// The fragment file, relative to `specs/overrides/`.
    pub with: String,
    pub upstream: String,
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
    /// The type cell's `data-encrypted` marker: `by-rsa-pubkey` (a value encrypted with a public
    /// key: in a response, with the merchant's) or `by-aes-gcm`.
    pub encrypted: Option<String>,
    #[serde(default)]
    pub delete: bool,
    pub before: Option<usize>,
    /// The row's `data-format` (a time format, or `text`: no time), where the import's rule is
    /// wrong.
    pub format: Option<String>,
    /// The row's `data-one-of` group: of the fields of a group, at least one is required (the
    /// row is then not required itself).
    pub one_of: Option<String>,
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
    /// Applies the row edits, insertions and the table replacement to a parsed page; `fragments`
    /// is the folder of replacement tables. An edit that finds no row of its name at its line is
    /// an error: the page changed upstream and the override needs review.
    pub fn apply(&self, page: &mut Page, fragments: &Path) -> Result<(), PageError> {
        let stale = |line: usize, message: String| PageError {
            file: self.file.clone(),
            line,
            message: format!("override no longer applies ({message}): the page changed upstream; review the override"),
        };
        for edit in &self.rows {
            let (table, index) =
                find_row(page, edit.line, false).ok_or_else(|| stale(edit.line, "no row at this line".into()))?;
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
            if let Some(group) = &edit.one_of {
                field.name_attrs.retain(|a| a.key != "data-one-of" && a.key != "data-required");
                field.name_attrs.push(Attr { key: "data-one-of".into(), value: Some(group.clone()) });
            }
            if let Some(ty) = &edit.ty {
                field.ty = ty.clone();
            }
            if let Some(name) = &edit.rename {
                field.name = name.clone();
            }
            if let Some(encrypted) = &edit.encrypted {
                if !matches!(encrypted.as_str(), "by-rsa-pubkey" | "by-aes-gcm") {
                    return Err(PageError {
                        file: self.file.clone(),
                        line: edit.line,
                        message: format!("`encrypted = \"{encrypted}\"`: expected `by-rsa-pubkey` or `by-aes-gcm`"),
                    });
                }
                field.ty_attrs.retain(|a| a.key != "data-encrypted");
                field.ty_attrs.push(Attr { key: "data-encrypted".into(), value: Some(encrypted.clone()) });
            }
            if let Some(format) = &edit.format {
                if crate::ir::TimeFormat::parse(format).is_none() {
                    return Err(PageError {
                        file: self.file.clone(),
                        line: edit.line,
                        message: format!("`format = \"{format}\"` is no data-format (date-time, yyyyMMddHHmmss, yyyy-MM-dd HH:mm:ss, date, yyyyMMdd, HH:mm, text)"),
                    });
                }
                field.ty_attrs.retain(|a| a.key != "data-format");
                field.ty_attrs.push(Attr { key: "data-format".into(), value: Some(format.clone()) });
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
                let target =
                    table.rows.iter().position(|r| row_line(r) == before).ok_or_else(|| {
                        stale(before, format!("no row at line {before} to move `{}` before", edit.name))
                    })?;
                table.rows.insert(target, row);
            }
        }
        for insert in &self.insert {
            let (table, index) = find_row(page, insert.after, true)
                .ok_or_else(|| stale(insert.after, "no row at this line to insert after".into()))?;
            let cells = split_cells(&insert.row);
            let row = parse::read_row(insert.after, &cells).map_err(|message| PageError {
                file: self.file.clone(),
                line: insert.after,
                message: format!("inserted row `{}`: {message}", insert.row),
            })?;
            table.rows.insert(index + 1, row);
        }
        if let Some(replace) = &self.replace {
            self.replace(page, replace, fragments)?;
        }
        Ok(())
    }

    fn replace(&self, page: &mut Page, replace: &Replace, fragments: &Path) -> Result<(), PageError> {
        let error = |message: String| PageError { file: self.file.clone(), line: 0, message };
        let file = fragments.join(&replace.with);
        let text = std::fs::read_to_string(&file).map_err(|e| error(format!("{}: {e}", file.display())))?;
        let (fragment, errors) = parse::parse(&text);
        if let Some(e) = errors.first() {
            return Err(PageError { file: file.display().to_string(), line: e.line, message: e.message.clone() });
        }
        let rows = fragment
            .blocks
            .into_iter()
            .find_map(|block| match block {
                Block::Table(table) => Some(table.rows),
                _ => None,
            })
            .ok_or_else(|| error(format!("{} holds no table", file.display())))?;
        let (table, range, indent) = match replace.table.as_str() {
            "response" => {
                let table = response_table(page, replace.method.as_deref())
                    .ok_or_else(|| error("no response table to replace".into()))?;
                let range = 0..table.rows.len();
                (table, range, 0)
            }
            "payload" => {
                payload_rows(page).ok_or_else(|| error("no `resource.ciphertext` structure to replace".into()))?
            }
            other => return Err(error(format!("`replace.table = \"{other}\"`: expected `response` or `payload`"))),
        };
        let found = fingerprint(&table.rows[range.clone()]);
        if replace.upstream.is_empty() {
            return Err(error(format!(
                "the override has no `upstream` fingerprint yet: the rows it replaces have `{found}`"
            )));
        }
        if found != replace.upstream {
            return Err(error(format!(
                "override no longer applies (the replaced rows changed upstream: their fingerprint is now `{found}`): the page changed upstream; review the override"
            )));
        }
        let line = table.rows.get(range.start).map(row_line).unwrap_or(table.line);
        let shifted = rows.into_iter().map(|mut row| {
            if let Row::Field(field) = &mut row {
                let own: usize = parse::attr(&field.name_attrs, "data-indent")
                    .and_then(|a| a.value.as_deref()?.parse().ok())
                    .unwrap_or(0);
                field.name_attrs.retain(|a| a.key != "data-indent");
                if own + indent > 0 {
                    field.name_attrs.push(Attr { key: "data-indent".into(), value: Some((own + indent).to_string()) });
                }
                field.line = line;
            }
            row
        });
        table.rows.splice(range, shifted.collect::<Vec<_>>());
        Ok(())
    }

    /// Whether a warning of this page was reviewed and accepted.
    pub fn accepts(&self, warning: &str) -> bool {
        self.accept.iter().any(|a| warning.contains(a.as_str()))
    }
}

/// The response table of the section of `method` (or the page's first).
fn response_table<'a>(page: &'a mut Page, method: Option<&str>) -> Option<&'a mut parse::Table> {
    let mut in_section = method.is_none();
    for block in &mut page.blocks {
        match block {
            Block::Heading { anchor: Some(anchor), .. } if anchor != "mix" => {
                in_section = method.is_none_or(|m| m == anchor)
            }
            Block::Table(table) if in_section && table.kind == parse::TableKind::Response => return Some(table),
            _ => {}
        }
    }
    None
}

/// The rows of a notification's payload: after the sub-structure line that follows
/// `resource.ciphertext`, as long as they are nested deeper than the ciphertext.
fn payload_rows(page: &mut Page) -> Option<(&mut parse::Table, std::ops::Range<usize>, usize)> {
    let indent = |row: &Row| match row {
        Row::Field(field) => parse::attr(&field.name_attrs, "data-indent")
            .and_then(|a| a.value.as_deref()?.parse::<usize>().ok())
            .unwrap_or(0),
        _ => usize::MAX,
    };
    page.blocks.iter_mut().find_map(|block| {
        let Block::Table(table) = block else { return None };
        let cipher = table.rows.iter().position(|r| matches!(r, Row::Field(f) if f.name == "ciphertext"))?;
        let base = indent(&table.rows[cipher]);
        let start = cipher + 1 + usize::from(matches!(table.rows.get(cipher + 1), Some(Row::SubStructure { .. })));
        let end = (start..table.rows.len()).find(|&i| indent(&table.rows[i]) <= base).unwrap_or(table.rows.len());
        Some((table, start..end, base + 1))
    })
}

/// A fingerprint of rows' facts (names, types, attributes; not descriptions).
fn fingerprint(rows: &[Row]) -> String {
    let mut facts = String::new();
    let mut eat = |text: &str| {
        facts.push_str(text);
        facts.push('\0');
    };
    for row in rows {
        match row {
            Row::Field(field) => {
                eat(&field.name);
                eat(&field.ty);
                for attr in field.name_attrs.iter().chain(&field.ty_attrs).filter(|a| a.key != "data-tooltip") {
                    eat(&attr.key);
                    eat(attr.value.as_deref().unwrap_or_default());
                }
            }
            Row::SubStructure { .. } => eat("|sub"),
            Row::Empty { .. } => eat("|empty"),
            Row::Stream { .. } => eat("|stream"),
            Row::Redirect { .. } => eat("|redirect"),
        }
    }
    format!("fnv1a64:{:016x}", crate::fingerprint::fnv1a64(facts.as_bytes()))
}

fn row_line(row: &Row) -> usize {
    match row {
        Row::Field(field) => field.line,
        Row::SubStructure { line } | Row::Empty { line } | Row::Stream { line } | Row::Redirect { line } => *line,
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
    fn an_edit_marks_a_row_encrypted() {
        let text = "# t {#get}\n\n| 返回字典 | 类型 {.type} | 描述 {.desc}\n| --- | --- | ---\n| encrypt_key {data-required} | string | 加密密钥\n\n{.im-table #response}\n";
        let (mut page, errors) = parse::parse(text);
        assert!(errors.is_empty(), "{errors:?}");
        let edit = |encrypted: &str| PageOverride {
            file: "x.md".into(),
            reason: "r".into(),
            evidence: "e".into(),
            rows: vec![RowEdit {
                line: 5,
                name: "encrypt_key".into(),
                indent: None,
                required: None,
                ty: None,
                rename: None,
                values: None,
                encrypted: Some(encrypted.into()),
                format: None,
                one_of: None,
                delete: false,
                before: None,
            }],
            insert: Vec::new(),
            accept: Vec::new(),
            replace: None,
        };
        edit("by-rsa-pubkey").apply(&mut page, Path::new(".")).unwrap();
        let marker = page.blocks.iter().find_map(|block| match block {
            Block::Table(table) => table.rows.iter().find_map(|row| match row {
                Row::Field(field) => parse::attr(&field.ty_attrs, "data-encrypted").and_then(|a| a.value.clone()),
                _ => None,
            }),
            _ => None,
        });
        assert_eq!(marker.as_deref(), Some("by-rsa-pubkey"));
        let error = edit("by-magic").apply(&mut page, Path::new(".")).unwrap_err();
        assert!(error.message.contains("by-magic"), "{error:?}");
    }

    #[test]
    fn cells_split_at_unescaped_pipes() {
        assert_eq!(split_cells("| a {data-required} | string | x \\| y"), ["a {data-required}", "string", "x \\| y"]);
        assert_eq!(split_cells("| a | string |"), ["a", "string"]);
    }
}
