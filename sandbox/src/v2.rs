//! APIv2: every XML operation and notification of the pages under `openapi/v2` and `webhook/v2`,
//! answered from their IR (`api/v2.json.gz`, written by `cargo xtask codegen`).
//!
//! A request to a documented APIv2 path is checked as WeChat Pay does: its members (XML body,
//! signed query or form) against the page (required members present, no undocumented member,
//! enum values, `nonce_str` unless the page says `nonceless`), the merchant id, and `sign` with the
//! APIv2 key in the algorithm its `sign_type` names (MD5 when it names none), sensitive members
//! opened with the WeChat Pay key. A failed check is answered `return_code` `FAIL` (unsigned);
//! a good request with every documented member set (indexed ones twice), signed when the page
//! documents `sign`. A call whose page says `security` is refused unless it came over HTTPS with
//! the API client certificate of the merchant it names (`tls::refusal`).

pub(crate) mod faults;
pub mod wire;

use std::sync::{Arc, OnceLock};

use serde_json::{json, Map, Value};
use wechatpay_sdk_ir::{Api, Encryption, Field, Filled, Notification, Operation, Response, Type};

use crate::pages::{sample, Side};

const EMBEDDED: &[u8] = include_bytes!("../api/v2.json.gz");

/// The APIv2 pages of this crate's version, read once per process.
pub fn api() -> &'static Api {
    static API: OnceLock<Arc<Api>> = OnceLock::new();
    API.get_or_init(|| Arc::new(crate::pages::unpack(EMBEDDED, "api/v2.json.gz")))
}

/// The APIv2 operation at `method` and `path` (its wire path, e.g. `/pay/orderquery`).
pub fn find(method: &str, path: &str) -> Option<&'static Operation> {
    api().operations.iter().find(|op| op.path == path && op.method.as_str().eq_ignore_ascii_case(method))
}

/// What an APIv2 request came to.
pub(crate) struct Answered {
    /// Status, content type, body.
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// The signature checked out.
    pub signature_ok: bool,
    pub decrypted: Vec<(String, String)>,
}

/// Answers a request to a documented APIv2 path (`None`: not one).
pub(crate) fn answer(
    keys: &crate::keys::Keys,
    apiv2_key: &str,
    method: &str,
    path_and_query: &str,
    headers: &http::HeaderMap,
    body: &[u8],
    transport: &crate::tls::Transport,
) -> Option<Answered> {
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let op = find(method, path)?;
    let mut decrypted = Vec::new();
    let query: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let fail = |message: String, decrypted: Vec<(String, String)>| Answered {
        status: 200,
        content_type: "text/xml",
        body: wire::write(&[("return_code".into(), "FAIL".into()), ("return_msg".into(), message)]),
        signature_ok: false,
        decrypted,
    };
    // The signed members: the XML body, the form's text fields, else the query.
    let (members, documented, signed): (Vec<(String, String)>, Vec<&Field>, bool) = if let Some(xml) = &op.request.xml {
        match wire::parse(body) {
            Some(members) => (members, xml.fields.iter().collect(), true),
            None => return Some(fail("the body is not an XML document".into(), decrypted)),
        }
    } else if let Some(form) = &op.request.multipart {
        let parts = crate::multipart::boundary(headers).and_then(|b| crate::multipart::parse(body, &b));
        let Some(parts) = parts else { return Some(fail("the body is not a multipart form".into(), decrypted)) };
        let texts = parts
            .iter()
            .filter(|part| part.filename.is_none())
            .map(|part| (part.name.clone(), String::from_utf8_lossy(&part.data).into_owned()))
            .collect();
        let file = form.fields.iter().find(|f| f.ty == Type::Object && f.children.is_empty());
        if file.is_some_and(|file| !parts.iter().any(|part| part.name == file.name && part.filename.is_some())) {
            return Some(fail("the form has no file part".into(), decrypted));
        }
        (texts, form.fields.iter().filter(|f| !(f.ty == Type::Object && f.children.is_empty())).collect(), true)
    } else {
        let signed = op.request.query.iter().any(|f| f.filled == Some(Filled::Signature));
        (query.clone(), op.request.query.iter().collect(), signed)
    };
    let get = |name: &str| members.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if op.request.security {
        // Checked first, as WeChat Pay's gateway does: against the merchant the request names.
        let named = documented.iter().find(|f| f.filled == Some(Filled::Mchid)).and_then(|f| get(&f.name));
        if let Some(refusal) = crate::tls::refusal(transport, named.unwrap_or(keys.mchid())) {
            return Some(fail(refusal, decrypted));
        }
    }
    let hmac = match get("sign_type") {
        None | Some("MD5") => false,
        Some("HMAC-SHA256") => true,
        Some(other) => return Some(fail(format!("sign_type {other} is not supported"), decrypted)),
    };
    let signature_ok = !signed || get("sign").is_some_and(|sign| sign == wire::sign(&members, apiv2_key, hmac));
    if !signature_ok {
        return Some(fail("the signature does not verify".into(), decrypted));
    }
    let mut problems = Vec::new();
    // A group of alternatives (`one_of`): one of its members is required.
    for group in wechatpay_sdk_ir::alternatives(documented.iter().copied(), |field| field.one_of.as_deref()) {
        if group.iter().all(|field| get(&field.name).is_none_or(str::is_empty)) {
            let listed: Vec<String> = group.iter().map(|field| format!("`{}`", field.name)).collect();
            problems.push(format!("one of {} is required", listed.join(", ")));
        }
    }
    for field in &documented {
        let value = get(&field.name);
        match value {
            None | Some("") if field.required && field.filled != Some(Filled::Signature) => {
                problems.push(format!("`{}` is required", field.name))
            }
            Some(value) if !value.is_empty() => {
                if !field.enum_values.is_empty() && !field.enum_values.iter().any(|v| v == value) {
                    problems.push(format!("`{}` is not one of its values", field.name));
                }
                if field.time_format().is_some_and(|format| !crate::pages::is_time(value, format)) {
                    problems.push(format!("`{}` is not a time in its format", field.name));
                }
                if field.filled == Some(Filled::Mchid) && value != keys.mchid() {
                    problems.push(format!("`{}` is not the merchant's", field.name));
                }
                if field.encrypted == Some(Encryption::RsaPubkey) {
                    let key = keys.encryption_key(keys.public_key_id());
                    match key.map(|key| crate::crypto::decrypt_field(key, value)) {
                        Some(Ok(plain)) => decrypted.push((field.name.clone(), plain)),
                        _ => problems.push(format!("`{}` does not decrypt", field.name)),
                    }
                }
            }
            _ => {}
        }
    }
    let transport = |name: &str| (name == "nonce_str" && op.request.xml.is_some()) || (name == "sign" && signed);
    for (name, _) in &members {
        if !documented.iter().any(|f| &f.name == name) && !transport(name) {
            problems.push(format!("`{name}` is not documented"));
        }
    }
    if op.request.xml.is_some() && !op.request.nonceless && get("nonce_str").is_none_or(str::is_empty) {
        problems.push("`nonce_str` is required".into());
    }
    if !problems.is_empty() {
        return Some(fail(problems.join("; "), decrypted));
    }
    let (status, content_type, body) = match &op.response {
        Response::Stream => (200, "text/plain", crate::pages::stream_body(op)),
        Response::Json { fields } if !fields.iter().any(|f| f.name == "return_code") => {
            (200, "application/json", serde_json::to_vec(&response_json(op).unwrap_or_default()).unwrap_or_default())
        }
        Response::Json { fields } => {
            let answer = response_json(op).unwrap_or_default();
            let mut members = members_of(&answer);
            if fields.iter().any(|f| f.name == "sign") {
                let signature = wire::sign(&members, apiv2_key, hmac);
                members.push(("sign".into(), signature));
            }
            // Nested elements (not signed: no signed page has any) follow the text members.
            let mut values: Vec<(String, Value)> = members.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            values.extend(
                answer
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(_, v)| v.is_object())
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
            let lists = fields.iter().filter(|f| f.ty == Type::ObjectArray && f.encoded.is_none());
            values.extend(lists.filter_map(|f| answer.get(&f.name).map(|v| (f.name.clone(), v.clone()))));
            (200, "text/xml", wire::write_value(&values))
        }
        Response::Empty | Response::Redirect => {
            (200, "text/xml", wire::write(&[("return_code".into(), "SUCCESS".into())]))
        }
    };
    Some(Answered { status, content_type, body, signature_ok, decrypted })
}

/// The members written for a sample answer: indexed lists spread (`coupon_id_0`, …), values as text.
fn members_of(value: &Value) -> Vec<(String, String)> {
    let text = |value: &Value| match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let mut members = Vec::new();
    for (name, value) in value.as_object().into_iter().flatten() {
        if let Some(base) = name.strip_suffix("_$n_$m") {
            for (n, row) in value.as_array().into_iter().flatten().enumerate() {
                for (m, item) in row.as_array().into_iter().flatten().enumerate() {
                    members.push((format!("{base}_{n}_{m}"), text(item)));
                }
            }
        } else if let Some(base) = name.strip_suffix("_$n") {
            for (n, item) in value.as_array().into_iter().flatten().enumerate() {
                members.push((format!("{base}_{n}"), text(item)));
            }
        } else if value.is_object() || value.is_array() {
            // A nested structure (a red packet's receipts) is written as elements, not text.
        } else {
            members.push((name.clone(), text(value)));
        }
    }
    members
}

/// A value for every documented member of an answer (or payload): `SUCCESS` for `return_code`
/// and `result_code`, no `err_code`, no `sign` (added when signing), indexed members twice.
pub fn sample_members(fields: &[Field]) -> Value {
    let mut object = Map::new();
    for field in fields {
        let value = match field.name.as_str() {
            "return_code" | "result_code" => json!("SUCCESS"),
            "sign_type" if field.enum_values.is_empty() => json!("HMAC-SHA256"),
            "err_code" | "err_code_des" | "error_code" | "error_code_des" | "sign" => continue,
            _ if field.indexed == 1 => json!([sample(field, Side::Response), sample(field, Side::Response)]),
            _ if field.indexed >= 2 => {
                json!([[sample(field, Side::Response)], [sample(field, Side::Response), sample(field, Side::Response)]])
            }
            _ => sample(field, Side::Response),
        };
        object.insert(field.name.clone(), value);
    }
    Value::Object(object)
}

/// What the sandbox answers an APIv2 operation with, as the typed response holds it.
pub fn response_json(op: &Operation) -> Option<Value> {
    match &op.response {
        Response::Json { fields } => Some(sample_members(fields)),
        _ => None,
    }
}

/// The request of an APIv2 operation as `OperationInfo::request_from_json` takes it: `xml`,
/// `query`, `headers`, `body` (a form), `base_uri` at `base_url`; every member set but those the
/// client fills; `sign_type` `HMAC-SHA256` when the page allows it and `hmac`.
pub fn request_json(op: &Operation, base_url: &str, hmac: bool) -> Value {
    let mine = |fields: &[Field]| -> Map<String, Value> {
        fields
            .iter()
            .filter(|f| f.filled.is_none())
            .map(|f| {
                let allows = |value: &str| f.enum_values.is_empty() || f.enum_values.iter().any(|v| v == value);
                let value = if f.name == "sign_type" && hmac && allows("HMAC-SHA256") {
                    json!("HMAC-SHA256")
                } else if f.name == "sign_type" && allows("MD5") {
                    json!("MD5")
                } else if f.name == "sign_type" {
                    json!(f.enum_values[0])
                } else if f.ty == Type::Object && f.children.is_empty() {
                    json!({ "filename": "a.jpg", "base64": crate::crypto::base64(b"an image") })
                } else {
                    sample(f, Side::Request)
                };
                (f.name.clone(), value)
            })
            .collect()
    };
    let mut request = Map::new();
    let r = &op.request;
    if let Some(xml) = &r.xml {
        request.insert("xml".into(), Value::Object(mine(&xml.fields)));
    }
    if let Some(form) = &r.multipart {
        request.insert("body".into(), Value::Object(mine(&form.fields)));
    }
    if !r.query.is_empty() {
        request.insert("query".into(), Value::Object(mine(&r.query)));
    }
    if !r.headers.is_empty() {
        request.insert("headers".into(), Value::Object(mine(&r.headers)));
    }
    if r.base_uri.is_some() {
        request.insert("base_uri".into(), json!(base_url));
    }
    Value::Object(request)
}

/// The APIv2 notification page `name` (`refund-processed`, `TRANSACTION.SUCCESS`, …).
pub fn notification(name: &str) -> Option<&'static Notification> {
    api().notifications.iter().find(|n| n.event_type == name)
}

/// A notification of page `name` as WeChat Pay POSTs it, its payload every documented member:
/// `req_info` sealed with AES-256-ECB, `event_ciphertext` with AES-256-GCM (APIv3 key) and the
/// body signed with HMAC-SHA256, other bodies signed (MD5 unless the page documents
/// `sign_type` `HMAC-SHA256`). Returns the body and the payload as the typed value holds it.
pub fn notification_body(name: &str, apiv2_key: &str, apiv3_key: &str) -> Option<(Vec<u8>, Value)> {
    let page = notification(name)?;
    let payload = sample_members(&page.payload);
    let payload_members = members_of(&payload);
    let encrypted = page.envelope.iter().find(|f| f.encrypted.is_some() && !f.children.is_empty());
    // A body without an encrypted member is the payload itself.
    let mut members: Vec<(String, String)> = if encrypted.is_none() { payload_members.clone() } else { Vec::new() };
    for field in page.envelope.iter().filter(|_| encrypted.is_some()) {
        if matches!(field.name.as_str(), "sign" | "err_code" | "err_code_des") {
            continue;
        }
        let value = match (field.name.as_str(), field.encrypted) {
            (_, Some(Encryption::AesEcb)) => wire::seal_req_info(apiv2_key, &wire::write(&payload_members)),
            (_, Some(Encryption::AesGcm)) => {
                crate::crypto::aes_gcm_encrypt(apiv3_key.as_bytes(), "0123456789ab", "", &wire::write(&payload_members))
            }
            ("event_nonce", _) => "0123456789ab".to_owned(),
            ("event_associated_data", _) => String::new(),
            ("return_code" | "result_code", _) => "SUCCESS".to_owned(),
            _ => match sample(field, Side::Response) {
                Value::String(text) => text,
                other => other.to_string(),
            },
        };
        members.push((field.name.clone(), value));
    }
    if encrypted.is_none_or(|f| f.encrypted == Some(Encryption::AesGcm)) {
        let get = |name: &str| members.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let hmac = get("algorithm").or_else(|| get("sign_type")).is_some_and(|v| v == "HMAC-SHA256");
        let signature = wire::sign(&members, apiv2_key, hmac);
        members.push(("sign".into(), signature));
    }
    Some((wire::write(&members), payload))
}
