//! What every generated operation shares: the operation descriptor the transport sends, the
//! builder plumbing that collects every missing field, and the wire types that keep values
//! exactly as WeChat Pay sends them.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The HTTP method of an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    /// The method as it appears on the wire and in the signed message.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// What an operation answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResponseKind {
    /// A signed JSON document.
    Json,
    /// A signed empty body (`204 No Content`).
    Empty,
    /// An unsigned byte stream (bill files, images, PDFs).
    Stream,
}

/// The body of a request, ready to be signed and sent.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// No body (the signed body is the empty string).
    Empty,
    /// A JSON document; these exact bytes are signed and sent.
    Json(Vec<u8>),
    /// A `multipart/form-data` upload; the signed body is `meta`.
    Multipart(Multipart),
}

/// A multipart upload: a `meta` JSON part and a `file` part.
#[derive(Clone, Debug, PartialEq)]
pub struct Multipart {
    /// The JSON text of the `meta` part, exactly as signed and sent.
    pub meta: String,
    /// The file part.
    pub file: File,
}

/// A file to upload.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct File {
    /// The file name sent in the part's `Content-Disposition`.
    pub filename: String,
    /// The part's content type, e.g. `image/jpeg`.
    pub content_type: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

impl File {
    /// A file part with a content type guessed from the file name's extension.
    pub fn new(filename: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        let filename = filename.into();
        let extension = filename.rsplit('.').next().unwrap_or_default().to_ascii_lowercase();
        let content_type = match extension.as_str() {
            "jpg" | "jpeg" => "image/jpeg",
            "png" => "image/png",
            "bmp" => "image/bmp",
            "gif" => "image/gif",
            "pdf" => "application/pdf",
            "mp4" => "video/mp4",
            _ => "application/octet-stream",
        };
        File { filename, content_type: content_type.to_owned(), bytes: bytes.into() }
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// An operation described by one documentation table: everything the transport needs to send it
/// without knowing which operation it is.
pub trait Operation {
    /// The typed response.
    type Response: Decode;
    /// The HTTP method.
    const METHOD: Method;
    /// The URL path template, e.g. `/v3/pay/transactions/id/{transaction_id}`.
    const PATH: &'static str;
    /// What the response carries.
    const RESPONSE: ResponseKind;
    /// JSON paths (in the JSON body) of fields sent encrypted with the WeChat Pay public key
    /// (`data-encrypted=by-rsa-pubkey`), e.g. `receivers[].name`. The request holds them in
    /// plain text; the transport encrypts them and sets `Wechatpay-Serial`.
    const ENCRYPTED: &'static [&'static str];
    /// The host the documentation names for this operation, when it is not the default one.
    const DEFAULT_BASE_URI: Option<&'static str>;

    /// The path with its parameters filled in, each percent-encoded with its case kept.
    fn path(&self) -> String;
    /// Query pairs, unencoded, in documentation order; unset optional parameters are absent.
    fn query(&self) -> Vec<(&'static str, String)>;
    /// Request headers the operation itself declares (e.g. `Wechatpay-Serial`).
    fn headers(&self) -> Vec<(&'static str, String)>;
    /// The request body.
    fn body(&self) -> Result<Body, serde_json::Error>;
    /// The base URI to send to: the request's own override, else [`Operation::DEFAULT_BASE_URI`].
    fn base_uri(&self) -> Option<&str> {
        Self::DEFAULT_BASE_URI
    }
}

/// Something that sends operations: implemented by the transport crate, used by the generated
/// chain (`client.v3().pay().transactions().jsapi().post(request)`).
pub trait Transport {
    /// The transport's error.
    type Error;
    /// The future of one exchange.
    type Future<'a, O>: Future<Output = Result<O::Response, Self::Error>> + 'a
    where
        Self: 'a,
        O: Operation + 'a;

    /// Signs, sends, verifies and decodes one operation.
    fn send_operation<'a, O>(&'a self, operation: O) -> Self::Future<'a, O>
    where
        O: Operation + Send + 'a;
}

/// Decoding of a verified response body.
pub trait Decode: Sized {
    /// Decodes the raw body.
    fn decode(body: &[u8]) -> Result<Self, serde_json::Error>;
}

/// Marks generated JSON response types.
pub trait JsonResponse: DeserializeOwned {}

impl<T: JsonResponse> Decode for T {
    fn decode(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }
}

impl Decode for () {
    fn decode(_body: &[u8]) -> Result<Self, serde_json::Error> {
        Ok(())
    }
}

/// The response of a download: the bytes, unsigned, as received.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ByteStream(pub Vec<u8>);

impl Decode for ByteStream {
    fn decode(body: &[u8]) -> Result<Self, serde_json::Error> {
        Ok(ByteStream(body.to_vec()))
    }
}

impl fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ByteStream({} bytes)", self.0.len())
    }
}

/// Required fields left unset, all of them, by JSON path (e.g. `dish_list[0].properties.taste`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildError {
    missing: Vec<String>,
}

impl BuildError {
    /// The JSON paths of the missing fields, in documentation order.
    pub fn missing(&self) -> &[String] {
        &self.missing
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "missing required field(s): {}", self.missing.join(", "))
    }
}

impl std::error::Error for BuildError {}

/// A builder of a nested request type, validated as part of its parent.
pub trait Builder {
    /// The type built.
    type Output;
    /// Builds at JSON path `at`, recording every missing required field in `missing`.
    fn build_at(self, at: &str, missing: &mut Vec<String>) -> Option<Self::Output>;
}

/// Joins a JSON path and a field name.
pub fn join(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_owned()
    } else {
        format!("{at}.{name}")
    }
}

/// A required value: recorded as missing when unset.
pub fn required<T>(value: Option<T>, at: &str, name: &str, missing: &mut Vec<String>) -> Option<T> {
    if value.is_none() {
        missing.push(join(at, name));
    }
    value
}

/// A nested builder: built at `at.name`; `None` when it (or something inside it) is missing.
pub fn nested<B: Builder>(builder: B, at: &str, name: &str, missing: &mut Vec<String>) -> Option<B::Output> {
    builder.build_at(&join(at, name), missing)
}

/// An optional nested builder: `Some(None)` when unset, `None` when set but incomplete.
pub fn optional<B: Builder>(
    builder: Option<B>,
    at: &str,
    name: &str,
    missing: &mut Vec<String>,
) -> Option<Option<B::Output>> {
    match builder {
        None => Some(None),
        Some(builder) => nested(builder, at, name, missing).map(Some),
    }
}

/// A list of nested builders, each built at `at.name[i]`; every item is checked.
pub fn list<B: Builder>(builders: Vec<B>, at: &str, name: &str, missing: &mut Vec<String>) -> Option<Vec<B::Output>> {
    let base = join(at, name);
    let mut built = Vec::with_capacity(builders.len());
    let mut complete = true;
    for (index, builder) in builders.into_iter().enumerate() {
        match builder.build_at(&format!("{base}[{index}]"), missing) {
            Some(item) => built.push(item),
            None => complete = false,
        }
    }
    complete.then_some(built)
}

/// Ends a top-level build: the value, or every missing field at once.
pub fn finish<T>(value: Option<T>, missing: Vec<String>) -> Result<T, BuildError> {
    match value {
        Some(value) if missing.is_empty() => Ok(value),
        _ => Err(BuildError { missing }),
    }
}

/// Percent-encodes one path parameter (everything but RFC 3986 unreserved characters), keeping case.
pub fn encode_path_segment(value: &str) -> Cow<'_, str> {
    percent_encoding::utf8_percent_encode(value, PATH_SEGMENT).into()
}

const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// How a value is written in a query string or header.
pub trait ToParam {
    /// The value's text.
    fn to_param(&self) -> String;
}

impl ToParam for String {
    fn to_param(&self) -> String {
        self.clone()
    }
}

impl ToParam for i64 {
    fn to_param(&self) -> String {
        self.to_string()
    }
}

impl ToParam for bool {
    fn to_param(&self) -> String {
        self.to_string()
    }
}

impl ToParam for Number {
    fn to_param(&self) -> String {
        self.0.to_string()
    }
}

impl ToParam for Sensitive {
    fn to_param(&self) -> String {
        self.0.clone()
    }
}

/// Untyped values travel as their text (strings unquoted).
impl ToParam for serde_json::Value {
    fn to_param(&self) -> String {
        match self {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        }
    }
}

/// Lists travel comma-separated, as the documentation's samples send them.
impl<T: ToParam> ToParam for Vec<T> {
    fn to_param(&self) -> String {
        self.iter().map(ToParam::to_param).collect::<Vec<_>>().join(",")
    }
}

/// A JSON `number` kept exactly as sent: an amount in cents, a quantity with two decimals, or
/// more digits than `f64` holds.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Number(serde_json::Number);

impl Number {
    /// A number from a float; `None` for NaN and infinities, which JSON cannot carry.
    pub fn from_f64(value: f64) -> Option<Self> {
        serde_json::Number::from_f64(value).map(Number)
    }
    /// The value as `f64` (may round).
    pub fn as_f64(&self) -> Option<f64> {
        self.0.as_f64()
    }
    /// The value as `i64`, when it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        self.0.as_i64()
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<i64> for Number {
    fn from(value: i64) -> Self {
        Number(value.into())
    }
}

impl From<i32> for Number {
    fn from(value: i32) -> Self {
        Number(value.into())
    }
}

impl From<u32> for Number {
    fn from(value: u32) -> Self {
        Number(value.into())
    }
}

impl From<u64> for Number {
    fn from(value: u64) -> Self {
        Number(value.into())
    }
}

impl std::str::FromStr for Number {
    type Err = serde_json::Error;
    /// Parses a JSON number such as `1.5` or `1000`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        serde_json::from_str(text)
    }
}

/// A sensitive value (`data-encrypted`): plain text in the program, redacted in `Debug`.
#[derive(Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sensitive(String);

impl Sensitive {
    /// Wraps a plain-text value.
    pub fn new(value: impl Into<String>) -> Self {
        Sensitive(value.into())
    }
    /// The plain text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Sensitive {
    fn from(value: String) -> Self {
        Sensitive(value)
    }
}

impl From<&str> for Sensitive {
    fn from(value: &str) -> Self {
        Sensitive(value.to_owned())
    }
}

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sensitive(<redacted>)")
    }
}

/// A structure carried as a JSON-encoded string (`data-encoded=by-json_encode`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct JsonEncoded<T>(pub T);

impl<T: Serialize> Serialize for JsonEncoded<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(&self.0).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for JsonEncoded<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<str>::deserialize(deserializer)?;
        serde_json::from_str(&text).map(JsonEncoded).map_err(D::Error::custom)
    }
}

impl<T: Serialize> ToParam for JsonEncoded<T> {
    fn to_param(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_default()
    }
}

/// A structure carried as a URL-encoded string (`data-encoded=by-urlencode`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct UrlEncoded<T>(pub T);

impl<T: Serialize> Serialize for UrlEncoded<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = serde_urlencoded::to_string(&self.0).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for UrlEncoded<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<str>::deserialize(deserializer)?;
        serde_urlencoded::from_str(&text).map(UrlEncoded).map_err(D::Error::custom)
    }
}

impl<T: Serialize> ToParam for UrlEncoded<T> {
    fn to_param(&self) -> String {
        serde_urlencoded::to_string(&self.0).unwrap_or_default()
    }
}

/// The envelope every notification arrives in (its `resource` still encrypted).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The notification's unique id.
    pub id: String,
    /// When the notification was created (RFC 3339).
    pub create_time: String,
    /// The event type, e.g. `TRANSACTION.SUCCESS`.
    pub event_type: String,
    /// The resource type, e.g. `encrypt-resource`.
    pub resource_type: String,
    /// A short summary.
    #[serde(default)]
    pub summary: String,
    /// The encrypted payload.
    pub resource: Resource,
}

/// The encrypted payload of a notification (`AEAD_AES_256_GCM` with the APIv3 key).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// The algorithm, `AEAD_AES_256_GCM`.
    pub algorithm: String,
    /// Base64 of the ciphertext followed by the 16-byte tag.
    pub ciphertext: String,
    /// The additional authenticated data (may be empty).
    #[serde(default)]
    pub associated_data: String,
    /// The 12-character nonce.
    pub nonce: String,
    /// The payload's type before encryption, e.g. `transaction`.
    #[serde(default)]
    pub original_type: String,
}

/// Implements `Serialize`, `Deserialize`, `Display` and `ToParam` for an enum with `as_str` and
/// `From<&str>`, so that a value the documentation does not list yet round-trips unchanged.
#[allow(unused_macros)] // unused when the enabled features hold no string enum
macro_rules! string_enum_serde {
    ($name:ident) => {
        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok($name::from(&*text))
            }
        }
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl $crate::runtime::ToParam for $name {
            fn to_param(&self) -> String {
                self.as_str().to_owned()
            }
        }
    };
}
// Unused when the enabled features hold no string enum.
#[allow(unused_imports)]
pub(crate) use string_enum_serde;

/// Like [`string_enum_serde`] for enums of integers (`as_i64` and `From<i64>`).
#[allow(unused_macros)] // unused when the enabled features hold no integer enum
macro_rules! integer_enum_serde {
    ($name:ident) => {
        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_i64(self.as_i64())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Ok($name::from(<i64 as ::serde::Deserialize>::deserialize(deserializer)?))
            }
        }
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}", self.as_i64())
            }
        }
        impl $crate::runtime::ToParam for $name {
            fn to_param(&self) -> String {
                self.as_i64().to_string()
            }
        }
    };
}
// Unused when the enabled features hold no integer enum.
#[allow(unused_imports)]
pub(crate) use integer_enum_serde;
