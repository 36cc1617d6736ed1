//! Markdown → headings, tables and rows. Knows the page layout (front matter, method anchors,
//! `{.im-table #request}` tables), nothing of fields or Rust.
//!
//! pulldown-cmark finds the blocks (so a table inside a PHP code sample is never read as one);
//! each table cell is then read from its source range, because the attribute braces, backticks
//! and `<br/>` inside cells carry meaning that inline rendering would blur.

use std::ops::Range;

use pulldown_cmark::{Event, MetadataBlockKind, Options, Parser, Tag, TagEnd};

/// A page, as blocks in document order.
#[derive(Debug, Default)]
pub struct Page {
    pub title: String,
    pub description: String,
    pub blocks: Vec<Block>,
}

#[derive(Debug)]
pub enum Block {
    /// A heading with its `{#anchor}`, if any.
    Heading { line: usize, level: usize, text: String, anchor: Option<String> },
    /// A table closed by `{.im-table #request}` or `{.im-table #response}`.
    Table(Table),
    /// A link to the official documentation (`https://pay.weixin.qq.com/…`) outside tables.
    Link { line: usize, url: String },
}

/// Where the official documentation lives; links elsewhere are not facts of the operation.
pub const OFFICIAL_DOCS: &str = "https://pay.weixin.qq.com/";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableKind {
    Request,
    Response,
}

#[derive(Debug)]
pub struct Table {
    pub line: usize,
    pub kind: TableKind,
    /// An APIv2 download's response table (`异常字典`): it documents only the error answer.
    pub errors_only: bool,
    pub rows: Vec<Row>,
}

/// One body row of a table.
#[derive(Debug)]
pub enum Row {
    /// `| name {attrs} | type {attrs} | description`.
    Field(RawField),
    /// `| {colspan=3 .im-table-line}`: the rows that follow describe the string above.
    SubStructure { line: usize },
    /// `| 空字符串(无返回内容) {colspan=3}`.
    Empty { line: usize },
    /// `| 文件流(…) {colspan=3}`.
    Stream { line: usize },
    /// `` | `30x`跳转(…) {colspan=3} ``: the browser is redirected; nothing comes back to the server.
    Redirect { line: usize },
}

#[derive(Debug)]
pub struct RawField {
    pub line: usize,
    pub name: String,
    pub name_attrs: Vec<Attr>,
    pub ty: String,
    pub ty_attrs: Vec<Attr>,
    /// The description cell, pipes unescaped, `<br/>` kept.
    pub description: String,
}

/// One attribute of a `{…}` block: `data-required`, `data-indent=2`, `.type`, `#request`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attr {
    pub key: String,
    pub value: Option<String>,
}

pub fn attr<'a>(attrs: &'a [Attr], key: &str) -> Option<&'a Attr> {
    attrs.iter().find(|a| a.key == key)
}

/// A problem found while reading a page's layout.
#[derive(Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Reads one page. Layout errors are collected, not fatal: the caller reports them all.
pub fn parse(text: &str) -> (Page, Vec<ParseError>) {
    let lines = LineIndex::new(text);
    let mut page = Page::default();
    let mut errors = Vec::new();
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_HEADING_ATTRIBUTES);
    options.insert(Options::ENABLE_YAML_STYLE_METADATA_BLOCKS);

    let mut in_metadata = false;
    let mut heading: Option<(usize, usize, String, Option<String>)> = None;
    let mut table: Option<PendingTable> = None;
    let mut pending: Option<PendingTable> = None;
    let mut paragraph: Option<Range<usize>> = None;

    for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
        match event {
            Event::Start(Tag::MetadataBlock(MetadataBlockKind::YamlStyle)) => in_metadata = true,
            Event::End(TagEnd::MetadataBlock(_)) => in_metadata = false,
            Event::Text(body) if in_metadata => read_front_matter(&body, &mut page),
            Event::Start(Tag::Heading { level, id, .. }) => {
                heading = Some((lines.line(range.start), level as usize, String::new(), id.map(|i| i.to_string())));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((line, level, text, anchor)) = heading.take() {
                    page.blocks.push(Block::Heading { line, level, text: text.trim().to_owned(), anchor });
                }
            }
            Event::Text(t) | Event::Code(t) if heading.is_some() => {
                if let Some((_, _, text, _)) = heading.as_mut() {
                    text.push_str(&t);
                }
            }
            Event::Start(Tag::Table(_)) => {
                flush_table(pending.take(), &mut page, &mut errors);
                table = Some(PendingTable {
                    line: lines.line(range.start),
                    cells: Vec::new(),
                    head: Vec::new(),
                    in_head: false,
                });
            }
            Event::Start(Tag::TableHead) => {
                if let Some(t) = table.as_mut() {
                    t.in_head = true;
                }
            }
            Event::End(TagEnd::TableHead) => {
                if let Some(t) = table.as_mut() {
                    t.in_head = false;
                }
            }
            Event::Start(Tag::TableRow) => {
                if let Some(t) = table.as_mut() {
                    t.cells.push((lines.line(range.start), Vec::new()));
                }
            }
            Event::Start(Tag::TableCell) => {
                if let Some(t) = table.as_mut() {
                    let cell = text[range].trim().to_owned();
                    if t.in_head {
                        t.head.push(cell);
                    } else if let Some((_, row)) = t.cells.last_mut() {
                        row.push(cell);
                    }
                }
            }
            Event::End(TagEnd::Table) => pending = table.take(),
            Event::Start(Tag::Link { dest_url, .. }) if table.is_none() && dest_url.starts_with(OFFICIAL_DOCS) => {
                page.blocks.push(Block::Link { line: lines.line(range.start), url: dest_url.to_string() });
            }
            Event::Start(Tag::Paragraph) => paragraph = Some(range),
            Event::End(TagEnd::Paragraph) => {
                let Some(range) = paragraph.take() else { continue };
                let source = text[range.clone()].trim();
                let line = lines.line(range.start);
                if let Some(kind) = closing_marker(source) {
                    match pending.take() {
                        Some(t) => close_table(t, kind, &mut page, &mut errors),
                        None => errors.push(ParseError {
                            line,
                            message: format!("`{source}` closes no table (is the table's header row missing?)"),
                        }),
                    }
                } else if source.starts_with('|') {
                    errors.push(ParseError {
                        line,
                        message:
                            "table rows without a header row (`| 请求参数 | 类型 {.type} | 描述 {.desc}` and `| --- |`)"
                                .into(),
                    });
                }
            }
            _ => {}
        }
    }
    flush_table(pending, &mut page, &mut errors);
    (page, errors)
}

struct PendingTable {
    line: usize,
    head: Vec<String>,
    cells: Vec<(usize, Vec<String>)>,
    in_head: bool,
}

/// A table that is not closed by an `{.im-table …}` line is not an operation table, unless its
/// header says it is.
fn flush_table(table: Option<PendingTable>, _page: &mut Page, errors: &mut Vec<ParseError>) {
    if let Some(t) = table {
        let first = t.head.first().map(String::as_str).unwrap_or_default();
        if first == "请求参数" || first == "返回字典" {
            errors.push(ParseError {
                line: t.line,
                message: format!("`{first}` table is not closed by an `{{.im-table #…}}` line"),
            });
        }
    }
}

fn closing_marker(source: &str) -> Option<TableKind> {
    let inner = source.strip_prefix('{')?.strip_suffix('}')?;
    let attrs = parse_attrs(inner);
    attr(&attrs, ".im-table")?;
    if attr(&attrs, "#request").is_some() {
        Some(TableKind::Request)
    } else if attr(&attrs, "#response").is_some() {
        Some(TableKind::Response)
    } else {
        None
    }
}

fn close_table(t: PendingTable, kind: TableKind, page: &mut Page, errors: &mut Vec<ParseError>) {
    // Notification pages close the merchant's answer (`应答规范`) as a response table too.
    let expected: &[&str] = match kind {
        TableKind::Request => &["请求参数"],
        TableKind::Response => &["返回字典", "应答规范", "异常字典"],
    };
    let first = t.head.first().map(|c| split_attrs(c).0).unwrap_or_default();
    if !expected.contains(&first) {
        let expected = expected[0];
        errors.push(ParseError {
            line: t.line,
            message: format!("table header starts with `{first}`, expected `{expected}`"),
        });
        return;
    }
    let mut rows = Vec::with_capacity(t.cells.len());
    for (line, cells) in t.cells {
        match read_row(line, &cells) {
            Ok(row) => rows.push(row),
            Err(message) => errors.push(ParseError { line, message }),
        }
    }
    page.blocks.push(Block::Table(Table { line: t.line, kind, errors_only: first == "异常字典", rows }));
}

/// One body row from its cells (name, type, description).
pub fn read_row(line: usize, cells: &[String]) -> Result<Row, String> {
    let first = cells.first().map(String::as_str).unwrap_or_default();
    let (name, name_attrs) = split_attrs(first);
    if attr(&name_attrs, "colspan").is_some() {
        if attr(&name_attrs, ".im-table-line").is_some() {
            return Ok(Row::SubStructure { line });
        }
        if name.starts_with("空字符串") {
            return Ok(Row::Empty { line });
        }
        if name.starts_with("文件流") {
            return Ok(Row::Stream { line });
        }
        if name.starts_with("`30x`") {
            return Ok(Row::Redirect { line });
        }
        return Err(format!("unknown full-width row `{name}`"));
    }
    if name.is_empty() {
        return Err("row without a field name".into());
    }
    let (ty, ty_attrs) = split_attrs(cells.get(1).map(String::as_str).unwrap_or_default());
    let description = cells.get(2).map(|c| unescape(c)).unwrap_or_default();
    Ok(Row::Field(RawField { line, name: unescape(name), name_attrs, ty: ty.to_owned(), ty_attrs, description }))
}

fn unescape(cell: &str) -> String {
    cell.replace("\\|", "|")
}

/// Splits `text {attrs}` into the text and its attributes. Several blocks at the end of a cell
/// (`bank_type {data-required} {data-indent=1}`, written when an edit adds an attribute to a
/// row that had a block) are one set of attributes, in written order.
pub fn split_attrs(cell: &str) -> (&str, Vec<Attr>) {
    let mut text = cell.trim();
    let mut blocks = Vec::new();
    while let Some(body) = text.strip_suffix('}') {
        let Some(open) = body.rfind('{') else { break };
        blocks.push(&body[open + 1..]);
        text = text[..open].trim_end();
    }
    let attrs = blocks.iter().rev().flat_map(|block| parse_attrs(block)).collect();
    (text, attrs)
}

/// `data-required data-indent=2 data-tooltip="a b"` → attributes.
pub fn parse_attrs(inner: &str) -> Vec<Attr> {
    let mut attrs = Vec::new();
    let mut rest = inner.trim();
    while !rest.is_empty() {
        let end = rest.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(rest.len());
        let key = rest[..end].to_owned();
        rest = &rest[end..];
        let value = if let Some(after) = rest.strip_prefix('=') {
            let (value, remainder) = match after.chars().next() {
                Some(quote @ ('"' | '\'')) => {
                    let body = &after[1..];
                    let close = body.find(quote).unwrap_or(body.len());
                    (&body[..close], body.get(close + 1..).unwrap_or_default())
                }
                _ => {
                    let close = after.find(char::is_whitespace).unwrap_or(after.len());
                    (&after[..close], &after[close..])
                }
            };
            rest = remainder;
            Some(value.to_owned())
        } else {
            None
        };
        attrs.push(Attr { key, value });
        rest = rest.trim_start();
    }
    attrs
}

/// `title:` and `description:` of the YAML front matter (single-line values, optionally quoted).
fn read_front_matter(body: &str, page: &mut Page) {
    for line in body.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        match key.trim() {
            "title" => page.title = value.to_owned(),
            "description" => page.description = value.to_owned(),
            _ => {}
        }
    }
}

/// Byte offset → 1-based line number.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        LineIndex { starts }
    }

    fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_with_quotes_and_flags() {
        let attrs = parse_attrs(r#"data-required data-indent=2 data-tooltip="对应PHP的 array""#);
        assert_eq!(attrs.len(), 3);
        assert_eq!(attrs[1], Attr { key: "data-indent".into(), value: Some("2".into()) });
        assert_eq!(attrs[2].value.as_deref(), Some("对应PHP的 array"));
    }

    #[test]
    fn several_attribute_blocks_are_one_set() {
        let (name, attrs) = split_attrs("bank_type {data-required} {data-indent=1}");
        assert_eq!(name, "bank_type");
        assert_eq!(
            attrs,
            [
                Attr { key: "data-required".into(), value: None },
                Attr { key: "data-indent".into(), value: Some("1".into()) }
            ]
        );
        let (ty, attrs) = split_attrs("object {data-tooltip=\"对应PHP的array\"}{data-encoded=by-json_encode}");
        assert_eq!((ty, attrs.len()), ("object", 2));
        assert_eq!(split_attrs("plain"), ("plain", Vec::new()));
    }

    #[test]
    fn line_numbers_are_one_based() {
        let index = LineIndex::new("a\nbc\n");
        assert_eq!(index.line(0), 1);
        assert_eq!(index.line(2), 2);
        assert_eq!(index.line(5), 3);
    }
}
