//! The intermediate representation: what the documentation says, as plain data.
//!
//! The generator (`xtask`) fills it by parsing and lowering the pages, and nothing else: the Rust
//! names of modules, event variants, fields and types are not here. The generator keeps them
//! beside the IR, in its naming pass's tables and its type space (`naming.rs`, `typespace.rs`).
//! The schema is documented in `docs/ir.md`; `cargo xtask ir` prints it as JSON. The sandbox (`wechatpay-sdk-sandbox`) reads a copy without the prose
//! ([`Api::without_prose`]) to check requests and answer them as the pages say.

use serde::{Deserialize, Serialize};

/// Everything read from one docs tree.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Api {
    /// Pages read (including redirect pages).
    pub pages: usize,
    /// Redirect pages (`title: Moved to …`), which hold no operation.
    pub redirects: Vec<String>,
    /// Operations, sorted by path then method.
    pub operations: Vec<Operation>,
    /// Notifications (`webhook/v3/*.md`), sorted by event type.
    pub notifications: Vec<Notification>,
    /// Page defects the generator worked around, as `file:line: what was assumed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Api {
    /// What a program that checks and answers requests needs, and nothing else: descriptions,
    /// titles, links, line numbers and warnings are dropped. Small enough to embed.
    pub fn without_prose(&self) -> Api {
        fn fields(list: &[Field]) -> Vec<Field> {
            list.iter()
                .map(|field| Field {
                    name: field.name.clone(),
                    line: 0,
                    ty: field.ty,
                    required: field.required,
                    description: String::new(),
                    enum_values: field.enum_values.clone(),
                    encrypted: field.encrypted,
                    encoded: field.encoded,
                    filled: field.filled,
                    indexed: field.indexed,
                    format: field.format,
                    one_of: field.one_of.clone(),
                    children: fields(&field.children),
                })
                .collect()
        }
        let part = |part: &Option<Part>| {
            part.as_ref().map(|part| Part { line: 0, required: part.required, fields: fields(&part.fields) })
        };
        let operations = self
            .operations
            .iter()
            .map(|op| Operation {
                file: op.file.clone(),
                protocol: op.protocol,
                line: 0,
                method: op.method,
                path: op.path.clone(),
                family: op.family.clone(),
                title: String::new(),
                group: None,
                description: String::new(),
                docs: Vec::new(),
                request: Request {
                    path_params: fields(&op.request.path_params),
                    query: fields(&op.request.query),
                    headers: fields(&op.request.headers),
                    json: part(&op.request.json),
                    multipart: part(&op.request.multipart),
                    base_uri: op.request.base_uri.as_ref().map(|base| BaseUri { line: 0, ..base.clone() }),
                    xml: part(&op.request.xml),
                    security: op.request.security,
                    nonceless: op.request.nonceless,
                    fragment: op.request.fragment.as_ref().map(|fragment| Fragment { line: 0, ..fragment.clone() }),
                },
                response: match &op.response {
                    Response::Json { fields: list } => Response::Json { fields: fields(list) },
                    other => other.clone(),
                },
            })
            .collect();
        let notifications = self
            .notifications
            .iter()
            .map(|n| Notification {
                file: n.file.clone(),
                protocol: n.protocol,
                line: 0,
                event_type: n.event_type.clone(),
                event_types: n.event_types.clone(),
                title: String::new(),
                description: String::new(),
                docs: Vec::new(),
                headers: fields(&n.headers),
                envelope: fields(&n.envelope),
                payload: fields(&n.payload),
                untyped: n.untyped.clone(),
            })
            .collect();
        Api { pages: self.pages, redirects: Vec::new(), operations, notifications, warnings: Vec::new() }
    }
}

/// One HTTP operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// Source page, relative to the docs tree, with `/` separators.
    pub file: String,
    /// The protocol: APIv3 (JSON, RSA signatures) unless the page is under `openapi/v2`.
    #[serde(default, skip_serializing_if = "Protocol::is_v3")]
    pub protocol: Protocol,
    /// 1-based line of the operation's heading.
    pub line: usize,
    pub method: Method,
    /// URL path template, e.g. `/v3/pay/transactions/id/{transaction_id}` (APIv2 paths have no
    /// version segment on the wire: `/pay/orderquery`).
    pub path: String,
    /// API family: the first path segment after `v3/` (the cargo feature); for APIv2, the first
    /// segment prefixed `v2-` (`v2-pay`), so that the features of both versions never clash.
    pub family: String,
    pub title: String,
    /// The title of the page when it holds several operations (a `{#mix}` heading), which
    /// then names each operation in its own section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub description: String,
    /// Links to the official documentation (`pay.weixin.qq.com`) given for this operation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub docs: Vec<String>,
    pub request: Request,
    pub response: Response,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn parse(anchor: &str) -> Option<Method> {
        Some(match anchor {
            "get" => Method::Get,
            "post" => Method::Post,
            "put" => Method::Put,
            "patch" => Method::Patch,
            "delete" => Method::Delete,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Put => "put",
            Method::Patch => "patch",
            Method::Delete => "delete",
        }
    }
}

/// The parts of a request, each a list of fields.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Path parameters, in the order the path names them.
    pub path_params: Vec<Field>,
    /// Query-string parameters (`query` row's children).
    pub query: Vec<Field>,
    /// Request headers (`headers` row's children).
    pub headers: Vec<Field>,
    /// The JSON body (`json` row), if any.
    pub json: Option<Part>,
    /// The `multipart/form-data` body (`body` row), if any: its children are `file` and `meta`.
    pub multipart: Option<Part>,
    /// The `base_uri` row, if any: the host the operation is served on.
    pub base_uri: Option<BaseUri>,
    /// APIv2: the XML body (`xml` row), `<xml>…</xml>`; the transport adds `nonce_str` and `sign`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xml: Option<Part>,
    /// APIv2: the call needs the merchant's API client certificate (a `security` row): mutual TLS.
    #[serde(default, skip_serializing_if = "is_false")]
    pub security: bool,
    /// APIv2: the transport adds no `nonce_str` (a `nonceless` row).
    #[serde(default, skip_serializing_if = "is_false")]
    pub nonceless: bool,
    /// A signed URL's fragment (`fragment` row), e.g. `#wechat_redirect`: the page describes a URL
    /// the user's browser opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fragment: Option<Fragment>,
}

fn is_zero(value: &u8) -> bool {
    *value == 0
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// Which protocol an operation or notification speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// APIv2: XML bodies signed with the APIv2 key (MD5 or HMAC-SHA256).
    V2,
    /// APIv3: JSON bodies, RSA signatures.
    #[default]
    V3,
}

impl Protocol {
    pub fn is_v3(&self) -> bool {
        *self == Protocol::V3
    }

    /// `v2` or `v3`: the crate's top module.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::V2 => "v2",
            Protocol::V3 => "v3",
        }
    }
}

/// A `fragment` row: what the signed URL ends with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fragment {
    pub line: usize,
    pub required: bool,
    /// The fragment named in the row's description, e.g. `#wechat_redirect`.
    pub value: Option<String>,
}

/// An APIv2 signature algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SignType {
    #[serde(rename = "MD5")]
    Md5,
    #[serde(rename = "HMAC-SHA256")]
    HmacSha256,
}

impl Operation {
    /// The APIv2 signature algorithms the operation accepts: the values of its `sign_type` member
    /// (XML body, query or multipart form), MD5 alone when it has none.
    pub fn sign_types(&self) -> Vec<SignType> {
        let r = &self.request;
        let members = r.xml.iter().chain(&r.multipart).flat_map(|part| &part.fields).chain(&r.query);
        let values: Vec<SignType> = members
            .filter(|field| field.name == "sign_type")
            .flat_map(|field| &field.enum_values)
            .filter_map(|value| match value.as_str() {
                "MD5" => Some(SignType::Md5),
                "HMAC-SHA256" => Some(SignType::HmacSha256),
                _ => None,
            })
            .collect();
        if values.is_empty() {
            vec![SignType::Md5]
        } else {
            values
        }
    }

    /// A page describing a URL the user's browser opens (answered by a redirect), not a call.
    pub fn is_url_builder(&self) -> bool {
        self.response == Response::Redirect
    }
}

/// A JSON or multipart body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Part {
    pub line: usize,
    pub required: bool,
    pub fields: Vec<Field>,
}

/// A `base_uri` row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaseUri {
    pub line: usize,
    pub required: bool,
    /// The URL named in the row's description, e.g. `https://apihk.mch.weixin.qq.com/`.
    pub default: Option<String>,
}

/// What a response carries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Response {
    /// A JSON document with these top-level fields.
    Json { fields: Vec<Field> },
    /// An empty body.
    Empty,
    /// A byte stream (download), not signed.
    Stream,
    /// A redirect the user's browser follows (`30x`): the operation is a signed URL, not a call.
    Redirect,
}

/// One row of a table, with the rows nested under it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// Name as documented (the JSON key, query name or header name).
    pub name: String,
    /// 1-based line of the row.
    pub line: usize,
    #[serde(rename = "type")]
    pub ty: Type,
    pub required: bool,
    /// Description text (markup removed, enum list kept).
    pub description: String,
    /// Enumerated values, when the description lists them (`枚举值之一` / `枚举值`).
    #[serde(default, skip_serializing_if = "Vec::is_empty", rename = "enum")]
    pub enum_values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<Encryption>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoded: Option<Encoding>,
    /// Set when the transport fills the field itself (unless the caller sets it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filled: Option<Filled>,
    /// APIv2 indexed members: 1 for `coupon_id_$n` (`coupon_id_0`, `coupon_id_1`, … on the wire),
    /// 2 for `coupon_id_$n_$m`; a list (of lists) in Rust. 0 for any other field.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub indexed: u8,
    /// `data-format`: how a string writes the time it holds (RFC 3339, `yyyyMMddHHmmss`, …), or
    /// that a string whose name looks like a time holds none (`text`). Absent for other fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<TimeFormat>,
    /// `data-one-of`: the group of alternatives this optional field belongs to. Of the fields of
    /// one structure (or one request) in a group, at least one must be set: the pages' way of
    /// saying "either the order's number or WeChat Pay's".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_of: Option<String>,
    /// Nested fields: an object's members, an array's item members, or the structure inside an
    /// encrypted/encoded string (after a `{colspan=3 .im-table-line}` row).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Field>,
}

impl Field {
    /// A field with nothing but its name, type and required flag.
    pub fn new(name: impl Into<String>, ty: Type, required: bool) -> Field {
        Field {
            name: name.into(),
            line: 0,
            ty,
            required,
            description: String::new(),
            enum_values: Vec::new(),
            encrypted: None,
            encoded: None,
            filled: None,
            indexed: 0,
            format: None,
            one_of: None,
            children: Vec::new(),
        }
    }

    /// The time format of a string holding a time (`text` is none).
    pub fn time_format(&self) -> Option<TimeFormat> {
        self.format.filter(|format| *format != TimeFormat::Text)
    }
}

/// The groups of alternatives among `items` (see [`Field::one_of`]; `group` gives an item's): each
/// group's items in their order, the groups in the order of their first item.
pub fn alternatives<'a, T>(
    items: impl IntoIterator<Item = &'a T>,
    group: impl Fn(&'a T) -> Option<&'a str>,
) -> Vec<Vec<&'a T>> {
    let mut groups: Vec<(&str, Vec<&T>)> = Vec::new();
    for item in items {
        if let Some(name) = group(item) {
            match groups.iter_mut().find(|(other, _)| *other == name) {
                Some((_, of)) => of.push(item),
                None => groups.push((name, vec![item])),
            }
        }
    }
    groups.into_iter().map(|(_, of)| of).collect()
}

/// How a string writes a time (`data-format`), as the pages document it. Every format without an
/// offset is China Standard Time (UTC+8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TimeFormat {
    /// RFC 3339 with its offset: `2018-06-08T10:34:56+08:00`.
    #[serde(rename = "date-time")]
    Rfc3339,
    /// `20180608103456`.
    #[serde(rename = "yyyyMMddHHmmss")]
    Compact,
    /// `2018-06-08 10:34:56`.
    #[serde(rename = "yyyy-MM-dd HH:mm:ss")]
    Spaced,
    /// `2018-06-08`.
    #[serde(rename = "date")]
    Date,
    /// `20180608`.
    #[serde(rename = "yyyyMMdd")]
    CompactDate,
    /// A time of day, `09:30`.
    #[serde(rename = "HH:mm")]
    HourMinute,
    /// No time: a string whose name looks like one holds something else (a duration, a list).
    #[serde(rename = "text")]
    Text,
}

impl TimeFormat {
    pub const ALL: [TimeFormat; 7] = [
        TimeFormat::Rfc3339,
        TimeFormat::Compact,
        TimeFormat::Spaced,
        TimeFormat::Date,
        TimeFormat::CompactDate,
        TimeFormat::HourMinute,
        TimeFormat::Text,
    ];

    /// The `data-format` value: `date-time`, `yyyyMMddHHmmss`, `date`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            TimeFormat::Rfc3339 => "date-time",
            TimeFormat::Compact => "yyyyMMddHHmmss",
            TimeFormat::Spaced => "yyyy-MM-dd HH:mm:ss",
            TimeFormat::Date => "date",
            TimeFormat::CompactDate => "yyyyMMdd",
            TimeFormat::HourMinute => "HH:mm",
            TimeFormat::Text => "text",
        }
    }

    pub fn parse(text: &str) -> Option<TimeFormat> {
        TimeFormat::ALL.into_iter().find(|format| format.as_str() == text)
    }

    /// What the generated crate holds a value of this format in: `DateTime`, `Date`, `TimeOfDay`
    /// (`None` for `text`).
    pub fn rust_type(self) -> Option<&'static str> {
        match self {
            TimeFormat::Rfc3339 | TimeFormat::Compact | TimeFormat::Spaced => Some("DateTime"),
            TimeFormat::Date | TimeFormat::CompactDate => Some("Date"),
            TimeFormat::HourMinute => Some("TimeOfDay"),
            TimeFormat::Text => None,
        }
    }
}

/// The documented types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Type {
    #[serde(rename = "string")]
    String,
    #[serde(rename = "integer")]
    Integer,
    #[serde(rename = "number")]
    Number,
    #[serde(rename = "boolean")]
    Boolean,
    #[serde(rename = "object")]
    Object,
    #[serde(rename = "object[]")]
    ObjectArray,
    #[serde(rename = "string[]")]
    StringArray,
    #[serde(rename = "integer[]")]
    IntegerArray,
    #[serde(rename = "number[]")]
    NumberArray,
    #[serde(rename = "boolean[]")]
    BooleanArray,
}

impl Type {
    pub fn parse(text: &str) -> Option<Type> {
        Some(match text {
            "string" => Type::String,
            "integer" => Type::Integer,
            "number" => Type::Number,
            "boolean" => Type::Boolean,
            "object" => Type::Object,
            "object[]" => Type::ObjectArray,
            "string[]" => Type::StringArray,
            "integer[]" => Type::IntegerArray,
            "number[]" => Type::NumberArray,
            "boolean[]" => Type::BooleanArray,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Type::String => "string",
            Type::Integer => "integer",
            Type::Number => "number",
            Type::Boolean => "boolean",
            Type::Object => "object",
            Type::ObjectArray => "object[]",
            Type::StringArray => "string[]",
            Type::IntegerArray => "integer[]",
            Type::NumberArray => "number[]",
            Type::BooleanArray => "boolean[]",
        }
    }

    pub fn is_array(self) -> bool {
        matches!(
            self,
            Type::ObjectArray | Type::StringArray | Type::IntegerArray | Type::NumberArray | Type::BooleanArray
        )
    }

    /// Whether rows may nest under a field of this type without a sub-structure line.
    pub fn has_members(self) -> bool {
        matches!(self, Type::Object | Type::ObjectArray)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Encryption {
    /// RSA-OAEP with the WeChat Pay public key (requests) or the merchant's key (responses).
    #[serde(rename = "by-rsa-pubkey")]
    RsaPubkey,
    /// AEAD_AES_256_GCM with the APIv3 key (notification resources).
    #[serde(rename = "by-aes-gcm")]
    AesGcm,
    /// AES-256-ECB (PKCS#7) under the lower-case hex MD5 of the APIv2 key (APIv2 `req_info`).
    #[serde(rename = "by-aes-ecb")]
    AesEcb,
}

/// What the transport fills into a request field the caller left unset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Filled {
    /// The `Wechatpay-Serial` header: the key the sensitive fields were encrypted with.
    WechatpaySerial,
    /// A required top-level `mchid` or `sp_mchid` (query or JSON body; APIv2: `mch_id` or
    /// `mchid` of the XML body, query or form): the client's merchant id.
    Mchid,
    /// A required member of an upload's `meta` that is the digest of the file: `sha256` (SHA-256),
    /// or `digest` beside a [`Filled::DigestAlgorithm`] member (its algorithm, SM3); lower-case hex.
    FileDigest,
    /// The required algorithm member beside a filled `digest` (`digest_algorithm`, spelt
    /// `digest_alogrithm` on one page), documented with a single value: that value.
    DigestAlgorithm,
    /// A required `filename` member of an upload's `meta`: the file part's name.
    FileName,
    /// APIv2: `sign` (the signature of the other members) and `nonce_str`, added by the transport.
    Signature,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Encoding {
    #[serde(rename = "by-json_encode")]
    JsonEncode,
    #[serde(rename = "by-urlencode")]
    UrlEncode,
}

/// A notification (webhook) page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub file: String,
    pub line: usize,
    /// The protocol: an APIv2 notification (`webhook/v2`) is XML signed with the APIv2 key.
    #[serde(default, skip_serializing_if = "Protocol::is_v3")]
    pub protocol: Protocol,
    /// The event type named by the page, e.g. `TRANSACTION.SUCCESS`.
    pub event_type: String,
    /// Every event type the page's `event_type` field enumerates (the page's own first).
    pub event_types: Vec<String>,
    pub title: String,
    pub description: String,
    /// Links to the official documentation (`pay.weixin.qq.com`) given for this notification.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub docs: Vec<String>,
    /// Headers WeChat Pay sends (`Wechatpay-*`).
    pub headers: Vec<Field>,
    /// The envelope's fields (`id`, `create_time`, `event_type`, `resource`, …).
    pub envelope: Vec<Field>,
    /// The decrypted `resource.ciphertext`: the event's payload. For APIv2: the decrypted member
    /// (`req_info`, `event_ciphertext`), or the body's own members when nothing is encrypted.
    pub payload: Vec<Field>,
    /// Set when the page's table could not be understood: why, and the payload is untyped JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub untyped: Option<String>,
}
