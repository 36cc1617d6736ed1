//! Every documented operation and notification, served from the IR of the pages (the copy of
//! `specs/` that `cargo xtask codegen` writes into `api/v3.json.gz`, embedded): a request is checked against its tables (method, path values, query,
//! headers, body fields with their JSON types and enum values, no undocumented field, encrypted
//! fields decrypting with the key `Wechatpay-Serial` names) and answered with every documented
//! response field set to a value of its type. The same values are what the tests send
//! ([`request_json`]) and expect back ([`response_json`], [`payload_json`]).

use std::io::Read as _;
use std::sync::{Arc, OnceLock};

use http::{HeaderMap, StatusCode};
use serde_json::{json, Map, Value};
use wechatpay_sdk_ir::{Api, Encoding, Encryption, Field, Filled, Notification, Operation, Response, TimeFormat, Type};

use crate::crypto;
use crate::keys::Held;
use crate::multipart::Part;
use crate::routes::Reply;

/// The pages' IR as `cargo xtask codegen` wrote it for this version of the crate.
const EMBEDDED: &[u8] = include_bytes!("../api/v3.json.gz");

/// The pages of this crate's version, read once per process (a few milliseconds).
pub fn api() -> &'static Api {
    embedded()
}

pub(crate) fn api_arc() -> Arc<Api> {
    embedded().clone()
}

fn embedded() -> &'static Arc<Api> {
    static API: OnceLock<Arc<Api>> = OnceLock::new();
    API.get_or_init(|| Arc::new(unpack(EMBEDDED, "api/v3.json.gz")))
}

/// The IR in an embedded copy `name` (gzip JSON). The file is written by the generator and
/// checked in CI: a failure here is a broken build.
pub(crate) fn unpack(compressed: &[u8], name: &str) -> Api {
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(compressed)
        .read_to_end(&mut json)
        .unwrap_or_else(|error| panic!("{name} is not gzip ({error}): run `cargo xtask codegen`"));
    serde_json::from_slice(&json)
        .unwrap_or_else(|error| panic!("{name} is not the IR ({error}): run `cargo xtask codegen`"))
}

/// The documented operation of `api` for `method` and a concrete path, literal segments preferred.
pub fn find<'a>(api: &'a Api, method: &str, path: &str) -> Option<&'a Operation> {
    let wanted: Vec<&str> = path.split('/').collect();
    api.operations
        .iter()
        .filter(|op| op.method.as_str().eq_ignore_ascii_case(method))
        .filter_map(|op| {
            let template: Vec<&str> = op.path.split('/').collect();
            if template.len() != wanted.len() {
                return None;
            }
            let mut literal = 0;
            for (t, w) in template.iter().zip(&wanted) {
                if t.starts_with('{') {
                    if crate::routes::percent_decode(w).is_empty() {
                        return None;
                    }
                } else if t == w {
                    literal += 1;
                } else {
                    return None;
                }
            }
            Some((literal, op))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, op)| op)
}

/// What a request to a documented operation carries, as the server received it.
pub(crate) struct Received<'a> {
    /// The docs tree the sandbox answers from.
    pub api: &'a Api,
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub parts: Option<&'a [Part]>,
    /// The key `Wechatpay-Serial` names, if the request had one.
    pub key: Option<&'a Held>,
}

/// Checks a request against its operation's tables and answers it; records decrypted fields.
pub(crate) fn answer(request: &Received<'_>, decrypted: &mut Vec<(String, String)>) -> Result<Reply, Reply> {
    let op = check(request, decrypted)?;
    Ok(match &op.response {
        // A signed URL (APIv2) is never requested of an APIv3 server; answered as an empty body.
        Response::Empty | Response::Redirect => Reply::NoContent,
        Response::Stream => Reply::File(crate::respond::Body::Bytes(stream_body(op))),
        Response::Json { fields } => Reply::Json(StatusCode::OK, sample_object(fields, Side::Response)),
    })
}

/// Checks a request against its operation's tables (404 when no page documents it, 400
/// `PARAM_ERROR` naming every problem); records decrypted fields.
pub(crate) fn check<'a>(request: &Received<'a>, decrypted: &mut Vec<(String, String)>) -> Result<&'a Operation, Reply> {
    let op = find(request.api, request.method, request.path).ok_or_else(|| {
        Reply::error(
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_EXISTS",
            format!("{} {} 无此接口", request.method, request.path),
        )
    })?;
    let mut check = Check { location: "body", first: None, key: request.key, decrypted, problems: Vec::new() };
    check.query(&op.request.query, request.query);
    let mut encrypted = op.request.query.iter().any(|field| {
        field.encrypted == Some(Encryption::RsaPubkey) && request.query.iter().any(|(name, _)| name == &field.name)
    });
    if let Some(json) = &op.request.json {
        match serde_json::from_slice::<Value>(request.body) {
            Ok(body) => {
                encrypted = any_encrypted(&json.fields, &body);
                check.location = "body";
                check.object(&body, &json.fields, "");
            }
            Err(_) if !json.required && request.body.is_empty() => {}
            Err(error) => check.problem("", &format!("the body is not JSON: {error}")),
        }
    }
    if let Some(body) = &op.request.multipart {
        match request.parts {
            None => check.problem("body", "not multipart/form-data"),
            Some(parts) => {
                for field in &body.fields {
                    match parts.iter().find(|part| part.name == field.name) {
                        None if field.required => check.problem(&field.name, "part missing"),
                        None => {}
                        Some(part) if field.ty == Type::Object && field.children.is_empty() => {
                            let named = !part.filename.as_deref().unwrap_or_default().is_empty();
                            if part.data.is_empty() || !named {
                                check.problem(&field.name, "empty, or without a file name");
                            }
                        }
                        Some(part) => match serde_json::from_slice::<Value>(&part.data) {
                            Ok(meta) if !field.children.is_empty() => {
                                encrypted |= any_encrypted(&field.children, &meta);
                                check.object(&meta, &field.children, &field.name);
                            }
                            Ok(_) => {}
                            Err(error) => check.problem(&field.name, &format!("not JSON: {error}")),
                        },
                    }
                }
            }
        }
    }
    check.headers(&op.request.headers, request.headers, encrypted);
    if let Some((location, at, issue)) = check.first {
        // WeChat Pay's PARAM_ERROR names one field in `detail`; the message lists them all.
        let field = format!("/{location}/{}", at.replace(['.', '['], "/").replace(']', ""));
        let detail = json!({ "field": field, "location": location, "issue": issue });
        let body = json!({ "code": "PARAM_ERROR", "message": check.problems.join("; "), "detail": detail });
        return Err(Reply::Json(StatusCode::BAD_REQUEST, body));
    }
    Ok(op)
}

/// The bytes a download operation answers with.
pub fn stream_body(op: &Operation) -> Vec<u8> {
    format!("bytes of {}\n", op.path).into_bytes()
}

struct Check<'a> {
    /// Where the fields being checked are: `query`, `header` or `body`.
    location: &'static str,
    /// The first problem, for the error's `detail`: location, path, issue.
    first: Option<(&'static str, String, String)>,
    key: Option<&'a Held>,
    decrypted: &'a mut Vec<(String, String)>,
    problems: Vec<String>,
}

impl Check<'_> {
    fn problem(&mut self, at: &str, what: &str) {
        if self.problems.is_empty() {
            self.first = Some((self.location, at.to_owned(), what.to_owned()));
        }
        self.problems.push(format!("`{at}`: {what}"));
    }

    fn query(&mut self, fields: &[Field], query: &[(String, String)]) {
        self.location = "query";
        for (name, _) in query {
            if !fields.iter().any(|f| &f.name == name) {
                self.problem(name, "not a documented query parameter");
            }
        }
        for field in fields {
            match query.iter().find(|(name, _)| name == &field.name) {
                None if field.required => self.problem(&field.name, "required query parameter missing"),
                None => {}
                Some((_, value)) if field.encrypted == Some(Encryption::RsaPubkey) => {
                    self.decrypt(value, &format!("query.{}", field.name))
                }
                Some((_, value)) => self.text(field, value, &field.name),
            }
        }
    }

    fn headers(&mut self, fields: &[Field], headers: &HeaderMap, encrypted: bool) {
        self.location = "header";
        for field in fields {
            let value = headers.get(field.name.as_str()).and_then(|v| v.to_str().ok());
            let needed = match field.filled {
                // The transport names the key it encrypted with, and only then.
                Some(Filled::WechatpaySerial) => encrypted,
                _ => field.required,
            };
            match value {
                None if needed => self.problem(&field.name, "required header missing"),
                Some(value) if field.encrypted == Some(Encryption::RsaPubkey) => {
                    self.decrypt(value, &format!("headers.{}", field.name))
                }
                Some(value) => self.text(field, value, &field.name),
                None => {}
            }
        }
    }

    /// A sensitive value: it must decrypt with the key `Wechatpay-Serial` names.
    fn decrypt(&mut self, ciphertext: &str, at: &str) {
        match self.key.map(|key| crypto::decrypt_field(key, ciphertext)) {
            None => self.problem(at, "encrypted, but the request has no Wechatpay-Serial"),
            Some(Err(reason)) => self.problem(at, &format!("does not decrypt with the named key: {reason}")),
            Some(Ok(plaintext)) => self.decrypted.push((at.to_owned(), plaintext)),
        }
    }

    /// A query or header value: text of the field's type.
    fn text(&mut self, field: &Field, value: &str, at: &str) {
        let items: Vec<&str> = if field.ty.is_array() { value.split(',').collect() } else { vec![value] };
        for item in items {
            let ok = match field.ty {
                Type::Integer | Type::IntegerArray => item.parse::<i64>().is_ok(),
                Type::Number | Type::NumberArray => item.parse::<f64>().is_ok(),
                Type::Boolean | Type::BooleanArray => item == "true" || item == "false",
                _ => true,
            };
            if !ok {
                self.problem(at, &format!("`{item}` is not {}", field.ty.as_str()));
            } else if let Some(format) = field.time_format().filter(|format| !is_time(item, *format)) {
                self.problem(at, &format!("`{item}` is not a time in {}", format.as_str()));
            } else if !field.enum_values.is_empty() && !field.enum_values.iter().any(|v| v == item) {
                self.problem(at, &format!("`{item}` is not one of the documented values"));
            }
        }
    }

    fn object(&mut self, value: &Value, fields: &[Field], at: &str) {
        let Some(object) = value.as_object() else {
            return self.problem(at, "not an object");
        };
        for key in object.keys() {
            if !fields.iter().any(|f| &f.name == key) {
                self.problem(&join(at, key), "not a documented field");
            }
        }
        for field in fields {
            let path = join(at, &field.name);
            match object.get(&field.name) {
                None | Some(Value::Null) if field.required => self.problem(&path, "required field missing"),
                None | Some(Value::Null) => {}
                Some(value) => self.value(value, field, &path),
            }
        }
    }

    fn value(&mut self, value: &Value, field: &Field, at: &str) {
        if field.ty.is_array() {
            let Some(items) = value.as_array() else {
                return self.problem(at, "not an array");
            };
            for (index, item) in items.iter().enumerate() {
                self.item(item, field, &format!("{at}[{index}]"));
            }
        } else {
            self.item(value, field, at);
        }
    }

    fn item(&mut self, value: &Value, field: &Field, at: &str) {
        match field.ty {
            Type::Object | Type::ObjectArray if field.children.is_empty() => {
                if !value.is_object() {
                    self.problem(at, "not an object");
                }
            }
            Type::Object | Type::ObjectArray => self.object(value, &field.children, at),
            Type::String | Type::StringArray => {
                let Some(text) = value.as_str() else {
                    return self.problem(at, "not a string");
                };
                if field.encrypted == Some(Encryption::RsaPubkey) {
                    self.decrypt(text, at);
                } else if !field.children.is_empty() {
                    let inner = match field.encoded {
                        Some(Encoding::UrlEncode) => {
                            serde_urlencoded::from_str::<Map<String, Value>>(text).map(Value::Object).ok()
                        }
                        _ => serde_json::from_str::<Value>(text).ok(),
                    };
                    match inner {
                        Some(inner) if field.encoded == Some(Encoding::UrlEncode) => {
                            // URL-encoded values are all text: check the keys only.
                            let keys: Vec<Field> = field
                                .children
                                .iter()
                                .map(|c| Field { ty: Type::String, enum_values: Vec::new(), ..c.clone() })
                                .collect();
                            self.object(&inner, &keys, at)
                        }
                        Some(inner) => self.object(&inner, &field.children, at),
                        None => self.problem(at, "does not hold the encoded structure"),
                    }
                } else if !field.enum_values.is_empty() && !field.enum_values.iter().any(|v| v == text) {
                    self.problem(at, &format!("`{text}` is not one of the documented values"));
                } else if let Some(format) = field.time_format().filter(|format| !is_time_at(text, *format, at)) {
                    self.problem(at, &format!("`{text}` is not a time in {}", format.as_str()));
                }
            }
            Type::Integer | Type::IntegerArray => match value.as_i64() {
                None => self.problem(at, "not an integer"),
                Some(n) if !field.enum_values.is_empty() && !field.enum_values.iter().any(|v| v == &n.to_string()) => {
                    self.problem(at, &format!("`{n}` is not one of the documented values"))
                }
                Some(_) => {}
            },
            Type::Number | Type::NumberArray => {
                if !value.is_number() {
                    self.problem(at, "not a number");
                }
            }
            Type::Boolean | Type::BooleanArray => {
                if !value.is_boolean() {
                    self.problem(at, "not a boolean");
                }
            }
        }
    }
}

fn join(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_owned()
    } else {
        format!("{at}.{name}")
    }
}

fn any_encrypted(fields: &[Field], value: &Value) -> bool {
    fields.iter().any(|field| {
        let Some(inner) = value.get(&field.name) else {
            return false;
        };
        if field.encrypted == Some(Encryption::RsaPubkey) && !inner.is_null() {
            return true;
        }
        match inner {
            Value::Array(items) => items.iter().any(|item| any_encrypted(&field.children, item)),
            Value::Object(_) => any_encrypted(&field.children, inner),
            _ => false,
        }
    })
}

/// Which side a sample is for: in a request, encrypted fields hold their plain text (the client
/// encrypts them); in a response, any text.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Request,
    Response,
}

/// A value for every field of an object.
pub fn sample_object(fields: &[Field], side: Side) -> Value {
    Value::Object(fields.iter().map(|field| (field.name.clone(), sample(field, side))).collect())
}

/// A value of the field's type: its first enum value, one item for a list, a structure inside
/// a string encoded as the field says.
pub fn sample(field: &Field, side: Side) -> Value {
    let one = |field: &Field| -> Value {
        match field.ty {
            Type::Object | Type::ObjectArray => sample_object(&field.children, side),
            Type::String | Type::StringArray => {
                if let Some(first) = field.enum_values.first() {
                    return json!(first);
                }
                if !field.children.is_empty() {
                    let inner = sample_object(&field.children, side);
                    return json!(match field.encoded {
                        Some(Encoding::UrlEncode) => serde_urlencoded::to_string(&inner).unwrap_or_default(),
                        _ => inner.to_string(),
                    });
                }
                if let Some(format) = field.time_format() {
                    return json!(time_sample(format));
                }
                match (field.encrypted, side) {
                    (Some(Encryption::RsaPubkey), Side::Request) => json!(format!("secret {}", field.name)),
                    _ => json!(format!("{}-1", field.name)),
                }
            }
            Type::Integer | Type::IntegerArray => match field.enum_values.first().and_then(|v| v.parse::<i64>().ok()) {
                Some(first) => json!(first),
                None => json!(7),
            },
            Type::Number | Type::NumberArray => {
                match field.enum_values.first().and_then(|v| v.parse::<serde_json::Number>().ok()) {
                    Some(first) => Value::Number(first),
                    None => json!(2.5),
                }
            }
            Type::Boolean | Type::BooleanArray => json!(true),
        }
    };
    if field.ty.is_array() {
        json!([one(field)])
    } else {
        one(field)
    }
}

/// A time in `format`: the same instant (2018-06-08 10:34:56 China time) in each.
pub fn time_sample(format: TimeFormat) -> &'static str {
    match format {
        TimeFormat::Rfc3339 => "2018-06-08T10:34:56+08:00",
        TimeFormat::Compact => "20180608103456",
        TimeFormat::Spaced => "2018-06-08 10:34:56",
        TimeFormat::Date => "2018-06-08",
        TimeFormat::CompactDate => "20180608",
        TimeFormat::HourMinute => "10:34",
        TimeFormat::Text => "text",
    }
}

/// [`is_time`], or a word the service takes where a time belongs: a payscore order's
/// `time_range.start_time` is `OnAccept` when the service starts as the user confirms the order.
fn is_time_at(text: &str, format: TimeFormat, at: &str) -> bool {
    is_time(text, format) || (text == "OnAccept" && at.ends_with("time_range.start_time"))
}

/// Whether `text` is a time in `format`, judged by its shape (digits where the format has them,
/// its separators, RFC 3339's fraction and offset), apart from the client's own parser.
pub fn is_time(text: &str, format: TimeFormat) -> bool {
    let shaped = |text: &str, pattern: &str| {
        text.len() == pattern.len()
            && text.bytes().zip(pattern.bytes()).all(|(c, p)| if p == b'd' { c.is_ascii_digit() } else { c == p })
    };
    match format {
        TimeFormat::Rfc3339 => {
            let (Some(head), Some(rest)) = (text.get(..19), text.get(19..)) else { return false };
            let rest = match rest.strip_prefix('.') {
                Some(fraction) => fraction.trim_start_matches(|c: char| c.is_ascii_digit()),
                None => rest,
            };
            shaped(head, "dddd-dd-ddTdd:dd:dd") && (rest == "Z" || shaped(rest, "+dd:dd") || shaped(rest, "-dd:dd"))
        }
        TimeFormat::Compact => shaped(text, "dddddddddddddd"),
        TimeFormat::Spaced => shaped(text, "dddd-dd-dd dd:dd:dd"),
        TimeFormat::Date => shaped(text, "dddd-dd-dd"),
        TimeFormat::CompactDate => shaped(text, "dddddddd"),
        TimeFormat::HourMinute => shaped(text, "dd:dd"),
        TimeFormat::Text => true,
    }
}

/// The request of an operation as `OperationInfo::request_from_json` takes it (the docs'
/// samples' layout): path parameters at the top, then `query`, `headers`, `json`, `body`, and
/// `base_uri` pointing at `base_url`. Every field is set but those the client fills itself.
pub fn request_json(op: &Operation, base_url: &str) -> Value {
    let filled = |fields: &[Field]| -> Vec<Field> { fields.iter().filter(|f| f.filled.is_none()).cloned().collect() };
    let mut request = Map::new();
    for field in &op.request.path_params {
        request.insert(field.name.clone(), sample(field, Side::Request));
    }
    let query = filled(&op.request.query);
    if !query.is_empty() {
        request.insert("query".into(), sample_object(&query, Side::Request));
    }
    let headers = filled(&op.request.headers);
    if !headers.is_empty() {
        request.insert("headers".into(), sample_object(&headers, Side::Request));
    }
    if let Some(json) = &op.request.json {
        request.insert("json".into(), sample_object(&filled(&json.fields), Side::Request));
    }
    if let Some(body) = &op.request.multipart {
        let mut parts = Map::new();
        for field in &body.fields {
            let value = if field.ty == Type::Object && field.children.is_empty() {
                json!({ "filename": "a.jpg", "base64": crypto::base64(b"an image") })
            } else if field.children.is_empty() {
                sample(field, Side::Request)
            } else {
                sample_object(&field.children, Side::Request)
            };
            parts.insert(field.name.clone(), value);
        }
        request.insert("body".into(), Value::Object(parts));
    }
    if op.request.base_uri.is_some() {
        request.insert("base_uri".into(), json!(base_url));
    }
    Value::Object(request)
}

/// What the server answers an operation with (a JSON response), as JSON.
pub fn response_json(op: &Operation) -> Option<Value> {
    match &op.response {
        Response::Json { fields } => Some(sample_object(fields, Side::Response)),
        _ => None,
    }
}

/// The notification page owning an event type (its own page, else the first listing it).
pub fn notification(event_type: &str) -> Option<&'static Notification> {
    let notifications = &api().notifications;
    notifications
        .iter()
        .find(|n| n.event_type == event_type)
        .or_else(|| notifications.iter().find(|n| n.event_types.iter().any(|e| e == event_type)))
}

/// A payload of the event type with every documented field set.
pub fn payload_json(event_type: &str) -> Option<Value> {
    notification(event_type).map(|n| sample_object(&n.payload, Side::Response))
}
