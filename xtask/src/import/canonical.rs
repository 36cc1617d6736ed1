//! IR → a page in the docs' own table format, facts only: what `specs/` holds.
//!
//! The page says exactly what the IR says (so reading it back gives the same IR), in one fixed
//! layout: front matter, the method heading, the request table, the response table, the official
//! links. Descriptions come from the caller (our own words), never from the source page.

use std::fmt::Write as _;

use crate::ir::{Encoding, Encryption, Field, Notification, Operation, Response, TimeFormat, Type};

/// Our description of each row, by the row's place (see [`Place`]).
pub trait Describe {
    /// The text for a row, or empty. `place` says where the row sits.
    fn describe(&self, place: &Place<'_>) -> String;
    /// The page's own description (front matter), or empty.
    fn page(&self) -> String;
}

/// Where a row sits: what the describer needs to find its words.
#[derive(Clone, Debug)]
pub struct Place<'a> {
    /// `method` of the operation (`get`), empty for notifications.
    pub method: &'a str,
    /// The row's path from the table's top: `json.amount.total`, `query.mchid`,
    /// `body.resource.ciphertext.amount` (notifications), `response.data.serial_no`.
    pub path: String,
    /// The enclosing field's name, `None` at the top of a part, a response or a payload.
    pub parent: Option<&'a str>,
    pub name: &'a str,
    pub ty: Type,
}

const REQUEST_HEAD: &str = "| 请求参数 | 类型 {.type} | 描述 {.desc}\n| --- | --- | ---\n";
const RESPONSE_HEAD: &str = "| 返回字典 | 类型 {.type} | 描述 {.desc}\n| --- | --- | ---\n";

/// The page of one operation, or of several sharing one URL path (a `{#mix}` page).
pub fn operations_page(ops: &[&Operation], words: &dyn Describe) -> String {
    let first = ops[0];
    // Several operations are sections of a `{#mix}` page, or (as some pages have them) headings
    // of their own; either way each keeps its title.
    let mix = first.group.is_some();
    let title = first.group.clone().unwrap_or_else(|| first.title.clone());
    let mut out = front_matter(&title, &words.page());
    if mix {
        out += "# {{ $frontmatter.title }} {#mix}\n\n";
        out += &intro(words);
    }
    for op in ops {
        let method = op.method.as_str();
        if mix {
            let _ = write!(out, "## {} {{#{method}}}\n\n", op.title);
        } else if op.title == title {
            let _ = write!(out, "# {{{{ $frontmatter.title }}}} {{#{method}}}\n\n");
            out += &intro(words);
        } else {
            let _ = write!(out, "# {} {{#{method}}}\n\n", op.title);
        }
        out += REQUEST_HEAD;
        let request = &op.request;
        let mut rows = Rows { out: String::new(), words, method };
        if let Some(base) = &request.base_uri {
            let text = match &base.default {
                Some(url) => format!("Host this operation is served on: `{url}`."),
                None => "Host this operation is served on.".to_owned(),
            };
            rows.line("base_uri", base.required.into(), 0, "string", "", &text);
        }
        for (flag, set, text) in [
            ("security", request.security, "Sent with the merchant's API client certificate (mutual TLS)."),
            ("nonceless", request.nonceless, "The request carries no `nonce_str`."),
        ] {
            if set {
                rows.line(flag, Need::Required, 0, "`true`", "", text);
            }
        }
        for field in &request.path_params {
            rows.field(field, "path", None, 0);
        }
        if let Some(json) = &request.json {
            rows.part("json", json.required, &json.fields, "json");
        }
        if let Some(body) = &request.multipart {
            rows.part("body", body.required, &body.fields, "body");
        }
        if !request.query.is_empty() {
            rows.part("query", true, &request.query, "query");
        }
        if !request.headers.is_empty() {
            rows.part("headers", true, &request.headers, "headers");
        }
        if let Some(xml) = &request.xml {
            rows.part("xml", xml.required, &xml.fields, "xml");
        }
        if let Some(fragment) = &request.fragment {
            let text = match &fragment.value {
                Some(value) => format!("Fragment the signed URL ends with: `{value}`."),
                None => "Fragment the signed URL ends with.".to_owned(),
            };
            rows.line("fragment", fragment.required.into(), 0, "string", "", &text);
        }
        out += &rows.out;
        out += "\n{.im-table #request}\n\n";
        out += RESPONSE_HEAD;
        match &op.response {
            Response::Empty => out += "| 空字符串(无返回内容) {align=center colspan=3}\n",
            Response::Stream => out += "| 文件流(需解析为对应数据) {align=center colspan=3}\n",
            Response::Redirect => out += "| `30x`跳转 {align=center colspan=3}\n",
            Response::Json { fields } => {
                let mut rows = Rows { out: String::new(), words, method };
                for field in fields {
                    rows.field(field, "response", None, 0);
                }
                out += &rows.out;
            }
        }
        out += "\n{.im-table #response}\n\n";
        out += &links(&op.docs);
    }
    out
}

/// The page of a notification: its headers and body, the payload under `resource.ciphertext`.
pub fn notification_page(n: &Notification, words: &dyn Describe) -> String {
    let mut out = front_matter(&n.title, &words.page());
    out += "# {{ $frontmatter.title }} {#post}\n\n";
    out += &intro(words);
    out += REQUEST_HEAD;
    let mut rows = Rows { out: String::new(), words, method: "" };
    rows.part("headers", true, &n.headers, "headers");
    rows.part("body", true, &n.envelope, "body");
    out += &rows.out;
    out += "\n{.im-table #request}\n\n";
    out += &links(&n.docs);
    out
}

fn front_matter(title: &str, description: &str) -> String {
    let mut out = format!("---\ntitle: {title}\n");
    if !description.is_empty() {
        let _ = writeln!(out, "description: {}", one_line(description));
    }
    out + "---\n\n"
}

fn intro(words: &dyn Describe) -> String {
    if words.page().is_empty() {
        String::new()
    } else {
        "{{ $frontmatter.description }}\n\n".to_owned()
    }
}

fn links(docs: &[String]) -> String {
    if docs.is_empty() {
        return String::new();
    }
    let list: Vec<String> = docs.iter().map(|url| format!("[official documentation]({url})")).collect();
    format!("See {}\n\n", list.join(" "))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

struct Rows<'a> {
    out: String,
    words: &'a dyn Describe,
    method: &'a str,
}

impl Rows<'_> {
    /// A request part row (`json`, `query`, …) and its members one level down.
    fn part(&mut self, name: &str, required: bool, fields: &[Field], path: &str) {
        let text = self.words.describe(&Place {
            method: self.method,
            path: path.to_owned(),
            parent: None,
            name,
            ty: Type::Object,
        });
        self.line(name, required.into(), 0, "object", "", &text);
        for field in fields {
            self.field(field, path, None, 1);
        }
    }

    fn field(&mut self, field: &Field, at: &str, parent: Option<&str>, indent: usize) {
        let path = format!("{at}.{}", field.name);
        let place = Place { method: self.method, path: path.clone(), parent, name: &field.name, ty: field.ty };
        let mut text = self.words.describe(&place);
        if !field.enum_values.is_empty() {
            let values: Vec<String> = field.enum_values.iter().map(|v| format!("`{v}`")).collect();
            let marker = if values.len() == 1 { "枚举值" } else { "枚举值之一" };
            if !text.is_empty() {
                text.push('\n');
            }
            let _ = write!(text, "{} {marker}", values.join(" | "));
        }
        let mut markers = Vec::new();
        match field.encrypted {
            Some(Encryption::RsaPubkey) => markers.push("data-encrypted=by-rsa-pubkey".to_owned()),
            Some(Encryption::AesGcm) => markers.push("data-encrypted=by-aes-gcm".to_owned()),
            Some(Encryption::AesEcb) => markers.push("data-encrypted=by-aes-ecb".to_owned()),
            None => {}
        }
        match field.encoded {
            Some(Encoding::JsonEncode) => markers.push("data-encoded=by-json_encode".to_owned()),
            Some(Encoding::UrlEncode) => markers.push("data-encoded=by-urlencode".to_owned()),
            None => {}
        }
        if let Some(format) = field.format.map(TimeFormat::as_str) {
            // `yyyy-MM-dd HH:mm:ss` holds a blank: quoted, as attribute values with blanks are.
            markers.push(if format.contains(' ') {
                format!("data-format=\"{format}\"")
            } else {
                format!("data-format={format}")
            });
        }
        let need = match &field.one_of {
            Some(group) => Need::OneOf(group),
            None => field.required.into(),
        };
        self.line(&field.name, need, indent, field.ty.as_str(), &markers.join(" "), &text);
        if !field.children.is_empty() && !field.ty.has_members() {
            // The rows below describe the structure carried inside the string.
            self.out += "| {colspan=3 .im-table-line}\n";
        }
        for child in &field.children {
            self.field(child, &path, Some(&field.name), indent + 1);
        }
    }

    fn line(&mut self, name: &str, need: Need<'_>, indent: usize, ty: &str, ty_attrs: &str, text: &str) {
        let mut attrs = Vec::new();
        match need {
            Need::Required => attrs.push("data-required".to_owned()),
            Need::OneOf(group) => attrs.push(format!("data-one-of={group}")),
            Need::Optional => {}
        }
        if indent > 0 {
            attrs.push(format!("data-indent={indent}"));
        }
        let name_cell = if attrs.is_empty() { name.to_owned() } else { format!("{name} {{{}}}", attrs.join(" ")) };
        let type_cell = if ty_attrs.is_empty() { ty.to_owned() } else { format!("{ty} {{{ty_attrs}}}") };
        let text = text.trim().replace('|', "\\|").replace('\n', "<br/>");
        if text.is_empty() {
            let _ = writeln!(self.out, "| {name_cell} | {type_cell} |");
        } else {
            let _ = writeln!(self.out, "| {name_cell} | {type_cell} | {text}");
        }
    }
}

/// Whether a row must be set: its `data-required`, or its `data-one-of` group.
#[derive(Clone, Copy)]
enum Need<'a> {
    Required,
    Optional,
    /// One of the fields of this group must be set.
    OneOf(&'a str),
}

impl From<bool> for Need<'_> {
    fn from(required: bool) -> Self {
        if required {
            Need::Required
        } else {
            Need::Optional
        }
    }
}
