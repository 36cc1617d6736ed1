//! Rows → IR: nesting by indent, request parts, enums, markers, sub-structures. Knows the
//! meaning of the tables, nothing of Rust.

use crate::error::PageError;
use crate::ir::{
    BaseUri, Encoding, Encryption, Field, Filled, Fragment, Method, Notification, Operation, Part, Protocol, Request,
    Response, TimeFormat, Type,
};
use crate::parse::{attr, Block, Page, RawField, Row, Table, TableKind};

/// What one page holds.
#[derive(Debug, PartialEq)]
pub enum Lowered {
    /// The operations, and the page defects worked around (`file:line: …`).
    Operations(Vec<Operation>, Vec<String>),
    /// The notification, and the page defects worked around (`file:line: …`).
    Notification(Box<Notification>, Vec<String>),
    Redirect,
}

/// Where a page sits in the docs tree, from its path relative to the tree.
#[derive(Debug, PartialEq, Eq)]
pub enum Location {
    /// URL path template, e.g. `/v3/pay/transactions/id/{transaction_id}`; APIv2 paths have no
    /// version segment on the wire (`openapi/v2/pay/orderquery.md` is `/pay/orderquery`).
    Operation(Protocol, String),
    /// Event type, e.g. `TRANSACTION.SUCCESS`, or the APIv2 page's name (`refund-processed`).
    Notification(Protocol, String),
}

pub fn locate(relative: &str) -> Location {
    let stem = relative.strip_suffix(".md").unwrap_or(relative);
    // `a/b/index.md` is the page of the folder's own URL, `/a/b/`.
    let stem = stem.strip_suffix("/index").map(|folder| format!("{folder}/")).unwrap_or_else(|| stem.to_owned());
    let stem = stem.as_str();
    let at = |marker: &str| stem.find(marker).filter(|&i| i == 0 || stem[..i].ends_with('/'));
    if let Some(index) = at("webhook/v3/") {
        return Location::Notification(Protocol::V3, stem[index + "webhook/v3/".len()..].to_owned());
    }
    if let Some(index) = at("webhook/v2/") {
        return Location::Notification(Protocol::V2, stem[index + "webhook/v2/".len()..].to_owned());
    }
    if at("v3/").is_none() {
        if let Some(index) = at("v2/") {
            return Location::Operation(Protocol::V2, format!("/{}", &stem[index + "v2/".len()..]));
        }
    }
    let start = at("v3/").unwrap_or(0);
    Location::Operation(Protocol::V3, format!("/{}", &stem[start..]))
}

/// Lowers one parsed page. `file` names the page in errors.
pub fn lower(file: &str, page: &Page) -> Result<Lowered, Vec<PageError>> {
    if page.title.starts_with("Moved to") {
        return Ok(Lowered::Redirect);
    }
    let mut errors = Vec::new();
    let error = |line: usize, message: String| PageError { file: file.to_owned(), line, message };
    let lowered = match locate(file) {
        Location::Operation(protocol, path) => {
            let mut operations = Vec::new();
            let mut warnings = Vec::new();
            for section in sections(page) {
                let Section { line, method, title, request, response, docs } = section;
                let Some(method) = method else {
                    errors.push(error(line, format!("unknown method anchor `{title}`")));
                    continue;
                };
                let Some(request) = request else {
                    errors.push(error(line, "operation has no request table (`{.im-table #request}`)".into()));
                    continue;
                };
                let Some(response) = response else {
                    errors.push(error(line, "operation has no response table (`{.im-table #response}`)".into()));
                    continue;
                };
                let request = lower_request(protocol, &path, request)
                    .map(|(request, notes)| {
                        warnings.extend(notes.into_iter().map(|(l, m)| format!("{file}:{l}: {m}")));
                        request
                    })
                    .map_err(|(l, m)| error(l, m));
                let response =
                    lower_response(response).map(|r| answer_members(protocol, r)).map_err(|(l, m)| error(l, m));
                match (request, response) {
                    (Ok(request), Ok(response)) => operations.push(Operation {
                        file: file.to_owned(),
                        protocol,
                        line,
                        method,
                        family: family(protocol, &path),
                        path: path.clone(),
                        title: if title.contains("$frontmatter") || title.is_empty() {
                            page.title.clone()
                        } else {
                            title
                        },
                        group: group(page),
                        description: page.description.clone(),
                        docs,
                        request,
                        response,
                    }),
                    (request, response) => errors.extend(request.err().into_iter().chain(response.err())),
                }
            }
            if operations.is_empty() && errors.is_empty() {
                errors.push(error(
                    1,
                    "page has no operation (a heading with `{#get}`, `{#post}`, … followed by a request table)".into(),
                ));
            }
            Lowered::Operations(operations, warnings)
        }
        Location::Notification(protocol, event_type) => match lower_notification(file, protocol, &event_type, page) {
            Ok((notification, warnings)) => Lowered::Notification(Box::new(notification), warnings),
            Err((line, message)) => {
                errors.push(error(line, message));
                Lowered::Redirect
            }
        },
    };
    if errors.is_empty() {
        Ok(lowered)
    } else {
        Err(errors)
    }
}

fn family(protocol: Protocol, path: &str) -> String {
    let rest = path.strip_prefix("/v3/").unwrap_or(path.trim_start_matches('/'));
    let first = rest.split('/').next().unwrap_or_default();
    match protocol {
        Protocol::V3 => first.to_owned(),
        Protocol::V2 => format!("v2-{first}"),
    }
}

struct Section<'a> {
    line: usize,
    method: Option<Method>,
    title: String,
    request: Option<&'a Table>,
    response: Option<&'a Table>,
    /// Official documentation links given in the section.
    docs: Vec<String>,
}

/// The title of a page holding several operations: its `{#mix}` heading (or front matter).
fn group(page: &Page) -> Option<String> {
    page.blocks.iter().find_map(|block| match block {
        Block::Heading { text, anchor: Some(anchor), .. } if anchor == "mix" => {
            Some(if text.contains("$frontmatter") || text.is_empty() { page.title.clone() } else { text.clone() })
        }
        _ => None,
    })
}

/// Headings with a method anchor, each with the tables that follow it.
fn sections(page: &Page) -> Vec<Section<'_>> {
    let mut sections: Vec<Section<'_>> = Vec::new();
    for block in &page.blocks {
        match block {
            Block::Heading { line, text, anchor: Some(anchor), .. } if anchor != "mix" => sections.push(Section {
                line: *line,
                method: Method::parse(anchor),
                title: text.clone(),
                request: None,
                response: None,
                docs: Vec::new(),
            }),
            Block::Heading { .. } => {}
            Block::Link { url, .. } => {
                if let Some(section) = sections.last_mut().filter(|s| !s.docs.contains(url)) {
                    section.docs.push(url.clone());
                }
            }
            Block::Table(table) => {
                if let Some(section) = sections.last_mut() {
                    let slot = match table.kind {
                        TableKind::Request => &mut section.request,
                        TableKind::Response => &mut section.response,
                    };
                    slot.get_or_insert(table);
                }
            }
        }
    }
    sections
}

type Located<T> = Result<T, (usize, String)>;

/// The request parts; also the defects worked around, as (line, what was assumed):
/// a `{param}` of the path without a row is a required string; an unknown top-level row,
/// when exactly one path parameter has no row, is that parameter misspelt.
fn lower_request(protocol: Protocol, path: &str, table: &Table) -> Located<(Request, Vec<(usize, String)>)> {
    let roots = tree(table)?;
    if protocol == Protocol::V2 {
        return lower_v2_request(path, roots);
    }
    let params: Vec<&str> =
        path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
    let mut request = Request::default();
    let mut path_params = Vec::new();
    let mut notes = Vec::new();
    let unnamed: Vec<&str> = params.iter().copied().filter(|p| !roots.iter().any(|f| f.name == *p)).collect();
    let unknown = roots
        .iter()
        .filter(|f| {
            !["json", "body", "query", "headers", "base_uri"].contains(&f.name.as_str())
                && !params.contains(&f.name.as_str())
        })
        .count();
    for mut field in roots {
        match field.name.as_str() {
            "json" => request.json = Some(part(field)?),
            "body" => request.multipart = Some(part(field)?),
            "query" => request.query = members(field)?,
            "headers" => request.headers = members(field)?,
            "base_uri" => {
                request.base_uri = Some(BaseUri { line: field.line, required: field.required, default: first_url(&field.description) })
            }
            name if params.contains(&name) => path_params.push(field),
            name if unknown == 1 && unnamed.len() == 1 && field.children.is_empty() => {
                notes.push((field.line, format!("row `{name}` is not a part or a path parameter; taken as the path parameter `{{{}}}`", unnamed[0])));
                field.name = unnamed[0].to_owned();
                field.required = true;
                path_params.push(field);
            }
            name => {
                return Err((field.line, format!("unknown request part `{name}`: not json, query, headers, body, base_uri or a path parameter of `{path}`")))
            }
        }
    }
    for param in &params {
        match path_params.iter().position(|f| f.name == *param) {
            Some(index) => request.path_params.push(path_params.remove(index)),
            None => {
                notes
                    .push((table.line, format!("path parameter `{{{param}}}` has no row; taken as a required string")));
                request.path_params.push(Field {
                    line: table.line,
                    description: "Path parameter (named by the URL path; the table has no row for it).".to_owned(),
                    ..Field::new(*param, Type::String, true)
                });
            }
        }
    }
    mark_filled(&mut request);
    Ok((request, notes))
}

/// The parts of an APIv2 request: `xml` (the XML body), `query`, `headers`, `body` (a multipart
/// form), `base_uri`, `fragment` (a signed URL's), and the flags `security` (mutual TLS) and
/// `nonceless`. APIv2 paths have no parameters.
fn lower_v2_request(path: &str, roots: Vec<Field>) -> Located<(Request, Vec<(usize, String)>)> {
    let mut request = Request::default();
    for field in roots {
        match field.name.as_str() {
            "xml" => request.xml = Some(part(field)?),
            "body" => request.multipart = Some(part(field)?),
            "query" => request.query = members(field)?,
            "headers" => request.headers = members(field)?,
            "base_uri" => {
                request.base_uri = Some(BaseUri { line: field.line, required: field.required, default: first_url(&field.description) })
            }
            "fragment" if field.ty == Type::String && field.children.is_empty() => {
                request.fragment = Some(Fragment { line: field.line, required: field.required, value: first_fragment(&field.description) })
            }
            "security" | "nonceless" if is_flag(&field) => {
                if field.name == "security" {
                    request.security = true;
                } else {
                    request.nonceless = true;
                }
            }
            name => {
                return Err((
                    field.line,
                    format!("unknown APIv2 request part `{name}`: not xml, query, headers, body, base_uri, fragment, security or nonceless (`{path}`)"),
                ))
            }
        }
    }
    mark_filled_v2(&mut request);
    Ok((request, Vec::new()))
}

/// A flag row: its type cell is the literal `` `true` `` (`security`, `nonceless`).
fn is_flag(field: &Field) -> bool {
    field.ty == Type::Boolean && field.enum_values == ["true"] && field.children.is_empty()
}

/// The APIv2 members the transport fills: `sign` and `nonce_str` (the signature and its nonce),
/// and a required `mch_id` / `mchid` (the client's merchant id) of the XML body, query or form.
fn mark_filled_v2(request: &mut Request) {
    let parts = request.xml.iter_mut().chain(request.multipart.iter_mut()).flat_map(|part| part.fields.iter_mut());
    for field in parts.chain(request.query.iter_mut()) {
        match field.name.as_str() {
            "sign" | "nonce_str" if field.ty == Type::String => field.filled = Some(Filled::Signature),
            "mch_id" | "mchid" if field.required && field.ty == Type::String => field.filled = Some(Filled::Mchid),
            _ => {}
        }
    }
}

/// The first `#fragment` in backticks of a description.
fn first_fragment(description: &str) -> Option<String> {
    description
        .split('`')
        .skip(1)
        .step_by(2)
        .find(|quoted| quoted.starts_with('#') && quoted.len() > 1)
        .map(str::to_owned)
}

/// The fields the transport fills: `Wechatpay-Serial` (named after the key it encrypts with), a
/// required top-level `mchid` / `sp_mchid` of the query or the JSON body (the client's own
/// merchant id), and in an upload's `meta` what the file decides (see [`mark_file_members`]).
/// Path parameters are never filled: they address the resource.
fn mark_filled(request: &mut Request) {
    for header in &mut request.headers {
        if header.name.eq_ignore_ascii_case("wechatpay-serial") {
            header.filled = Some(Filled::WechatpaySerial);
        }
    }
    let json = request.json.iter_mut().flat_map(|part| part.fields.iter_mut());
    for field in request.query.iter_mut().chain(json) {
        if field.required && field.ty == Type::String && matches!(field.name.as_str(), "mchid" | "sp_mchid") {
            field.filled = Some(Filled::Mchid);
        }
    }
    let meta = request.multipart.iter_mut().flat_map(|part| part.fields.iter_mut()).find(|field| field.name == "meta");
    if let Some(meta) = meta {
        mark_file_members(&mut meta.children);
    }
}

/// The members of an upload's `meta` the client computes from the file, when the page makes them
/// required strings: `sha256` (its SHA-256), `filename` (the file part's name), and `digest` when
/// a sibling `digest_algorithm` (or the misspelt `digest_alogrithm`) documents one value, SM3:
/// then the digest is SM3 and the sibling is that value. Other digests (`file_digest`, a `digest`
/// without its algorithm) stay the caller's: the pages do not say how they are computed.
fn mark_file_members(members: &mut [Field]) {
    let required_string = |field: &Field| field.required && field.ty == Type::String;
    let sm3_algorithm = members.iter().position(|field| {
        matches!(field.name.as_str(), "digest_algorithm" | "digest_alogrithm")
            && required_string(field)
            && matches!(field.enum_values.as_slice(), [value] if value == "SM3" || value == "DIGEST_ALGORITHM_SM3")
    });
    for (index, field) in members.iter_mut().enumerate() {
        if !required_string(field) {
            continue;
        }
        field.filled = match field.name.as_str() {
            "sha256" => Some(Filled::FileDigest),
            "filename" => Some(Filled::FileName),
            "digest" if sm3_algorithm.is_some() => Some(Filled::FileDigest),
            _ if Some(index) == sm3_algorithm => Some(Filled::DigestAlgorithm),
            _ => field.filled,
        };
    }
}

fn part(field: Field) -> Located<Part> {
    let line = field.line;
    let required = field.required;
    Ok(Part { line, required, fields: members(field)? })
}

fn members(field: Field) -> Located<Vec<Field>> {
    if field.ty != Type::Object {
        return Err((
            field.line,
            format!("request part `{}` must be an object, not {}", field.name, field.ty.as_str()),
        ));
    }
    Ok(field.children)
}

fn first_url(description: &str) -> Option<String> {
    let start = description.find("https://").or_else(|| description.find("http://"))?;
    let rest = &description[start..];
    let end = rest
        .find(|c: char| c == '`' || c == ')' || c == '(' || c.is_whitespace() || !c.is_ascii())
        .unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

/// APIv2's business-failure members (`err_code`, `err_code_des`, `error_code`, …) are never part
/// of a decoded answer: an answer carrying one is the transport's error, never decoded. Some pages
/// mark them required; as members of a decoded answer they are optional, whatever the page says.
fn answer_members(protocol: Protocol, mut response: Response) -> Response {
    if let (Protocol::V2, Response::Json { fields }) = (protocol, &mut response) {
        for field in fields
            .iter_mut()
            .filter(|f| matches!(f.name.as_str(), "err_code" | "err_code_des" | "error_code" | "error_code_des"))
        {
            field.required = false;
        }
    }
    response
}

fn lower_response(table: &Table) -> Located<Response> {
    match table.rows.as_slice() {
        [Row::Empty { .. }] => return Ok(Response::Empty),
        [Row::Stream { .. }] => return Ok(Response::Stream),
        [Row::Redirect { .. }] => return Ok(Response::Redirect),
        _ => {}
    }
    if let Some(Row::Empty { line } | Row::Stream { line } | Row::Redirect { line }) =
        table.rows.iter().find(|r| matches!(r, Row::Empty { .. } | Row::Stream { .. } | Row::Redirect { .. }))
    {
        return Err((*line, "an empty, byte-stream or redirect row must be the response table's only row".into()));
    }
    // An APIv2 download documents only its error answer (`异常字典`): the answer is a byte stream.
    if table.errors_only {
        tree(table)?;
        return Ok(Response::Stream);
    }
    Ok(Response::Json { fields: tree(table)? })
}

fn lower_notification(
    file: &str,
    protocol: Protocol,
    event_type: &str,
    page: &Page,
) -> Located<(Notification, Vec<String>)> {
    let sections = sections(page);
    let section = sections.first().ok_or((1, "notification page has no operation heading".to_owned()))?;
    let table = section.request.ok_or((section.line, "notification page has no request table".to_owned()))?;
    let mut headers = Vec::new();
    let mut envelope = Vec::new();
    // The envelope is the protocol's; a payload table WeChat Pay documents badly must not stop
    // the event from being received: it is kept as untyped JSON, and the defect reported.
    let roots = match tree(table) {
        Ok(roots) => roots,
        Err((line, message)) => {
            let untyped = format!("{file}:{line}: {message}; the payload is kept as untyped JSON");
            let notification = Notification {
                file: file.to_owned(),
                protocol,
                line: section.line,
                event_type: event_type.to_owned(),
                event_types: vec![event_type.to_owned()],
                title: page.title.clone(),
                description: page.description.clone(),
                docs: section.docs.clone(),
                headers,
                envelope,
                payload: Vec::new(),
                untyped: Some(untyped.clone()),
            };
            return Ok((notification, vec![untyped]));
        }
    };
    for field in roots {
        match field.name.as_str() {
            "headers" => headers = members(field)?,
            "body" | "json" => envelope = members(field)?,
            name => return Err((field.line, format!("unknown notification part `{name}`: not headers or body"))),
        }
    }
    let mut warnings = Vec::new();
    let payload = match protocol {
        Protocol::V3 => match envelope.iter_mut().find(|f| f.name == "resource") {
            Some(resource) => payload(file, resource, &mut warnings),
            None => Vec::new(),
        },
        // APIv2: the encrypted member's structure (`req_info`, `event_ciphertext`), else the
        // signed body itself.
        Protocol::V2 => match envelope.iter().find(|f| f.encrypted.is_some() && !f.children.is_empty()) {
            Some(encrypted) => encrypted.children.clone(),
            None => envelope.clone(),
        },
    };
    let mut event_types = vec![event_type.to_owned()];
    if let Some(field) = envelope.iter().find(|f| f.name == "event_type") {
        event_types.extend(field.enum_values.iter().filter(|v| v.as_str() != event_type).cloned());
    }
    let notification = Notification {
        file: file.to_owned(),
        protocol,
        line: section.line,
        event_type: event_type.to_owned(),
        event_types,
        title: page.title.clone(),
        description: page.description.clone(),
        docs: section.docs.clone(),
        headers,
        envelope,
        payload,
        untyped: None,
    };
    Ok((notification, warnings))
}

/// The decrypted payload: the structure under `resource.ciphertext`. Some pages write it
/// elsewhere in `resource`, and it is still the ciphertext's (taken there, with a warning,
/// rather than typed as an empty payload and again as envelope members):
/// - after the sub-structure line of another member (`original_type`), as that string's members;
/// - as an object member written after the ciphertext's sub-structure line at the ciphertext's
///   own indent (`original_data`, possibly in alternatives): that row only names the decrypted
///   structure, so its members are the payload and the row is no envelope member.
fn payload(file: &str, resource: &mut Field, warnings: &mut Vec<String>) -> Vec<Field> {
    let has_payload = |f: &Field| f.name == "ciphertext" && !f.children.is_empty();
    if !resource.children.iter().any(has_payload) {
        let ciphertext = resource.children.iter().position(|f| f.name == "ciphertext");
        let misplaced = resource.children.iter().enumerate().position(|(i, f)| {
            f.name != "ciphertext"
                && !f.children.is_empty()
                && (!f.ty.has_members() || ciphertext.is_some_and(|c| i > c))
        });
        if let (Some(from), Some(to)) = (misplaced, ciphertext) {
            let member = &mut resource.children[from];
            let moved = std::mem::take(&mut member.children);
            let (line, name) = (member.line, member.name.clone());
            resource.children[to].children = moved;
            if resource.children[from].ty.has_members() {
                warnings.push(format!(
                    "{file}:{line}: the payload structure is written as `resource.{name}`, after the ciphertext's sub-structure line; taken as the structure of `resource.ciphertext`"
                ));
                resource.children.remove(from);
            } else {
                warnings.push(format!("{file}:{line}: the payload structure follows `resource.{name}`; taken as the structure of `resource.ciphertext`"));
            }
        }
    }
    resource.children.iter().find(|f| f.name == "ciphertext").map(|c| c.children.clone()).unwrap_or_default()
}

/// Nests a table's rows by `data-indent`.
pub fn tree(table: &Table) -> Located<Vec<Field>> {
    // The open chain of ancestors: (indent, field, sub-structure opened).
    let mut open: Vec<(usize, Field, bool)> = Vec::new();
    let mut roots: Vec<Field> = Vec::new();
    let separators: Vec<usize> =
        table.rows.iter().filter_map(|r| if let Row::SubStructure { line } = r { Some(*line) } else { None }).collect();
    for row in &table.rows {
        let raw = match row {
            Row::Field(raw) => raw,
            Row::SubStructure { line } => {
                match open.last_mut() {
                    Some((_, field, opened)) if field.ty == Type::String && field.children.is_empty() => *opened = true,
                    Some((_, field, _)) => {
                        return Err((
                            *line,
                            format!(
                                "sub-structure line after `{}` ({}), which is not a string",
                                field.name,
                                field.ty.as_str()
                            ),
                        ))
                    }
                    None => return Err((*line, "sub-structure line before any field".into())),
                }
                continue;
            }
            Row::Empty { line } | Row::Stream { line } | Row::Redirect { line } => {
                return Err((
                    *line,
                    "an empty, byte-stream or redirect row can only be a response table's only row".into(),
                ))
            }
        };
        let (indent, field) = field(raw)?;
        while open.last().is_some_and(|(i, _, _)| *i >= indent) {
            close(&mut open, &mut roots)?;
        }
        match open.last() {
            None if indent > 0 => {
                return Err((raw.line, format!("indent jumps to {indent} at `{}`; the first row must have indent 0", raw.name)))
            }
            Some((parent_indent, _, _)) if indent > parent_indent + 1 => {
                return Err((raw.line, format!("indent jumps from {parent_indent} to {indent} at `{}`", raw.name)))
            }
            Some((_, parent, opened)) if !parent.ty.has_members() && !opened => {
                return Err((raw.line, format!("`{}` is nested under `{}`, a {} (only objects, or strings followed by a sub-structure line, have members)", raw.name, parent.name, parent.ty.as_str())))
            }
            _ => {}
        }
        let siblings = match open.last() {
            Some((_, parent, _)) => &parent.children,
            None => &roots,
        };
        if let Some(first) = siblings.iter().find(|s| s.name == field.name) {
            // A sub-structure line between two rows of the same name separates alternative
            // descriptions of one field (e.g. per channel); they are merged when closed.
            if !separators.iter().any(|&l| l > first.line && l < raw.line) {
                return Err((raw.line, format!("duplicate field `{}` (first at line {})", field.name, first.line)));
            }
        }
        open.push((indent, field, false));
    }
    while !open.is_empty() {
        close(&mut open, &mut roots)?;
    }
    alternatives(&roots)?;
    Ok(roots)
}

/// Each `data-one-of` group names two fields or more of one structure: a group of one would be
/// a required field under another name.
fn alternatives(fields: &[Field]) -> Located<()> {
    for field in fields {
        if let Some(group) = &field.one_of {
            if fields.iter().filter(|f| f.one_of.as_ref() == Some(group)).count() < 2 {
                return Err((
                    field.line,
                    format!("`{}` is the only field of its `data-one-of={group}` group", field.name),
                ));
            }
        }
        alternatives(&field.children)?;
    }
    Ok(())
}

fn close(open: &mut Vec<(usize, Field, bool)>, roots: &mut Vec<Field>) -> Located<()> {
    if let Some((_, field, _)) = open.pop() {
        let siblings = match open.last_mut() {
            Some((_, parent, _)) => &mut parent.children,
            None => roots,
        };
        match siblings.iter_mut().find(|s| s.name == field.name) {
            Some(first) => merge(first, field)?,
            None => siblings.push(field),
        }
    }
    Ok(())
}

/// Merges an alternative description of a field into the first: members described in only
/// one alternative become optional; enum values are united.
fn merge(first: &mut Field, other: Field) -> Located<()> {
    if first.ty != other.ty {
        return Err((
            other.line,
            format!(
                "`{}` is described as {} here and as {} at line {}",
                other.name,
                other.ty.as_str(),
                first.ty.as_str(),
                first.line
            ),
        ));
    }
    if first.format != other.format {
        let shown = |format: Option<TimeFormat>| format.map_or("no data-format", TimeFormat::as_str);
        return Err((
            other.line,
            format!(
                "`{}` is written as {} here and as {} at line {}",
                other.name,
                shown(other.format),
                shown(first.format),
                first.line
            ),
        ));
    }
    first.required &= other.required;
    for value in other.enum_values {
        if !first.enum_values.contains(&value) {
            first.enum_values.push(value);
        }
    }
    let mut others = other.children;
    for child in &mut first.children {
        match others.iter().position(|o| o.name == child.name) {
            Some(index) => merge(child, others.remove(index))?,
            None => child.required = false,
        }
    }
    for mut child in others {
        child.required = false;
        first.children.push(child);
    }
    Ok(())
}

/// Whether a name cell holds nothing but a name. Real names are JSON keys, query parameters and
/// header names: letters (Chinese ones too), digits, `_`, `-` and `.` (`Wechatpay-Serial`), and
/// in one real page a space inside (`payer _currency`, kept as written). Anything else (braces,
/// backticks, pipes, `»`, an attribute whose braces are missing) means the cell holds more than
/// a name, and reading it as a field would put a wrong key on the wire.
fn plausible_name(name: &str) -> bool {
    let (name, _) = indexed(name);
    let words: Vec<&str> = name.split(' ').collect();
    words.iter().all(|word| {
        !word.is_empty()
            && !word.starts_with("data-")
            && word.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
    })
}

/// An APIv2 indexed name: `coupon_id_$n` is (`coupon_id`, 1), `coupon_id_$n_$m` (`coupon_id`, 2).
pub fn indexed(name: &str) -> (&str, u8) {
    if let Some(base) = name.strip_suffix("_$n_$m") {
        (base, 2)
    } else if let Some(base) = name.strip_suffix("_$n") {
        (base, 1)
    } else {
        (name, 0)
    }
}

fn field(raw: &RawField) -> Located<(usize, Field)> {
    if !plausible_name(&raw.name) {
        return Err((
            raw.line,
            format!("`{}` is not a field name (letters, digits, `_`, `-`, `.`): is an attribute block `{{…}}` or some markup broken?", raw.name),
        ));
    }
    let indent = match attr(&raw.name_attrs, "data-indent").map(|a| a.value.as_deref()) {
        None => 0,
        Some(Some(value)) => value.parse().map_err(|_| (raw.line, format!("`data-indent={value}` is not a number")))?,
        Some(None) => return Err((raw.line, "`data-indent` without a value".into())),
    };
    // A flag row (`security`, `nonceless`) has the literal `` `true` `` for its type.
    let flag = raw.ty == "`true`";
    let ty = if flag { Some(Type::Boolean) } else { Type::parse(&raw.ty) };
    let ty = ty.ok_or_else(|| (raw.line, format!("unknown type `{}` for `{}`", raw.ty, raw.name)))?;
    let encrypted = match attr(&raw.ty_attrs, "data-encrypted").and_then(|a| a.value.as_deref()) {
        None => None,
        Some("by-rsa-pubkey") => Some(Encryption::RsaPubkey),
        Some("by-aes-gcm") => Some(Encryption::AesGcm),
        Some("by-aes-ecb") => Some(Encryption::AesEcb),
        Some(other) => return Err((raw.line, format!("unknown `data-encrypted={other}` on `{}`", raw.name))),
    };
    let encoded = match attr(&raw.ty_attrs, "data-encoded").and_then(|a| a.value.as_deref()) {
        None => None,
        Some("by-json_encode") => Some(Encoding::JsonEncode),
        Some("by-urlencode") => Some(Encoding::UrlEncode),
        Some(other) => return Err((raw.line, format!("unknown `data-encoded={other}` on `{}`", raw.name))),
    };
    let format = match attr(&raw.ty_attrs, "data-format").and_then(|a| a.value.as_deref()) {
        None => None,
        Some(value) if ty == Type::String => Some(
            TimeFormat::parse(value)
                .ok_or_else(|| (raw.line, format!("unknown `data-format={value}` on `{}`", raw.name)))?,
        ),
        Some(_) => {
            return Err((
                raw.line,
                format!("`data-format` on `{}`, a {}: only a string holds a time", raw.name, ty.as_str()),
            ))
        }
    };
    let one_of = match attr(&raw.name_attrs, "data-one-of").map(|a| a.value.as_deref()) {
        None => None,
        Some(Some(group)) if attr(&raw.name_attrs, "data-required").is_none() => Some(group.to_owned()),
        Some(Some(_)) => {
            return Err((raw.line, format!("`{}` is both required and one of a group: which is it?", raw.name)))
        }
        Some(None) => return Err((raw.line, format!("`data-one-of` without a group name on `{}`", raw.name))),
    };
    let (description, mut enum_values) = description(&raw.description);
    if flag {
        enum_values = vec!["true".to_owned()];
    }
    Ok((
        indent,
        Field {
            name: raw.name.clone(),
            line: raw.line,
            ty,
            required: attr(&raw.name_attrs, "data-required").is_some(),
            description,
            enum_values,
            encrypted,
            encoded,
            filled: None,
            indexed: indexed(&raw.name).1,
            format,
            one_of,
            children: Vec::new(),
        },
    ))
}

/// The description as text (`<br/>` → line break) and its enumerated values, if it lists them.
/// The pages write a list in two ways (every shape seen in the corpus and its history):
/// - values in backticks, joined by `|` or blanks, closed by the marker `枚举值之一` (one of) or
///   `枚举值` (this value): on a line of their own (`` 状态<br/>`A` \| `B` 枚举值之一 ``), right
///   after the text (`` 充值渠道 `A` \| `B` 枚举值之一 ``, `` 文件摘要算法 `SM3`枚举值 ``), or
///   with the marker ending a clause (`` `SM2`\|`RSA`枚举值之一，默认为`RSA` ``);
/// - a line `枚举值：` (or `枚举值`) heading one labelled value per line, in backticks or bare:
///   `` 枚举值：<br/>`ADD`：签约<br/>`DELETE`：解约 ``.
///
/// Anything else is documentation: a value mentioned in backticks (`` 默认为`CNY` ``), labelled
/// values without the heading (`` `SUCCESS`：支付成功 ``), the word in a sentence (`并非枚举值`).
/// When a cell holds two lists, the last one counts.
pub fn description(cell: &str) -> (String, Vec<String>) {
    let text = cell.replace("<br/>", "\n").replace("<br>", "\n").replace("<br />", "\n");
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut values = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some(found) = marked_list(line).or_else(|| labelled_list(line, &lines[i + 1..])) {
            values = found;
        }
    }
    (text.trim().to_owned(), values)
}

/// The values of a `` `A` \| `B` 枚举值之一 `` list in this line, if it has one.
fn marked_list(line: &str) -> Option<Vec<String>> {
    let mut found = None;
    for (at, _) in line.match_indices("枚举值") {
        let after = &line[at + "枚举值".len()..];
        let after = after.strip_prefix("之一").unwrap_or(after).trim_start();
        // The marker ends the line or a clause; `枚举值对应的…` is a sentence about values.
        if !(after.is_empty() || after.starts_with(['，', ',', '。', '；', ';'])) {
            continue;
        }
        if let Some(list) = values_before(&line[..at]) {
            found = Some(list);
        }
    }
    found
}

/// The backticked values that end `text`, read backwards: `` `A` \| `B` `` or `` `A` `B` ``.
/// `None` when `text` does not end in one, or when its backticks do not pair up (a value whose
/// opening backtick is missing must not turn the rest of the list into another list).
fn values_before(text: &str) -> Option<Vec<String>> {
    let mut rest = text.trim_end();
    let mut values = Vec::new();
    loop {
        let body = rest.strip_suffix('`')?;
        let open = body.rfind('`')?;
        let value = &body[open + 1..];
        if value.trim().is_empty() {
            return None;
        }
        values.push(value.trim().to_owned());
        rest = body[..open].trim_end();
        match rest.strip_suffix('|') {
            Some(before) => rest = before.trim_end(),
            None if rest.ends_with('`') => {}
            None => break,
        }
    }
    if !rest.matches('`').count().is_multiple_of(2) {
        return None;
    }
    values.reverse();
    Some(values)
}

/// The values under a heading line `枚举值：`: the lines that follow, each `` `VALUE`：label ``
/// or `VALUE：label`, up to the first line that is not one.
fn labelled_list(line: &str, following: &[&str]) -> Option<Vec<String>> {
    if !["枚举值", "枚举值：", "枚举值:"].contains(&line) {
        return None;
    }
    let values: Vec<String> = following.iter().map_while(|l| labelled_value(l)).collect();
    (!values.is_empty()).then_some(values)
}

fn labelled_value(line: &str) -> Option<String> {
    let (value, label) = line.split_once(['：', ':'])?;
    let value = value.trim();
    let value = value.strip_prefix('`').and_then(|v| v.strip_suffix('`')).unwrap_or(value);
    let bare = !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    (bare && !label.trim().is_empty()).then(|| value.to_owned())
}

/// A description without its enum-list lines (the import writes the list from the facts).
pub fn own_text(text: &str) -> String {
    text.lines().filter(|line| description(line).1.is_empty()).collect::<Vec<_>>().join("\n").trim().to_owned()
}
