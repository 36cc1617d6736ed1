//! Wire value types: numbers as sent (integers exactly, decimals without an integer cast), sensitive plain text, ciphertext the service
//! encrypted for the merchant, structures carried inside strings, files to upload and bytes
//! downloaded, and how values are written in a path, query string or header.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::writing::Writing;

/// Percent-encodes one path parameter (everything but RFC 3986 unreserved characters), keeping case.
pub fn encode_path_segment(value: &str) -> Cow<'_, str> {
    percent_encoding::utf8_percent_encode(value, PATH_SEGMENT).into()
}

const PATH_SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// How a value is written in a path, a query string or a header.
pub trait ToParam {
    /// The value's text; sensitive values sealed by `out` (see [`Writing`]).
    fn to_param(&self, out: &mut Writing<'_>) -> String;
}

impl ToParam for String {
    fn to_param(&self, _out: &mut Writing<'_>) -> String {
        self.clone()
    }
}

impl ToParam for i64 {
    fn to_param(&self, _out: &mut Writing<'_>) -> String {
        self.to_string()
    }
}

impl ToParam for bool {
    fn to_param(&self, _out: &mut Writing<'_>) -> String {
        self.to_string()
    }
}

impl ToParam for Number {
    fn to_param(&self, _out: &mut Writing<'_>) -> String {
        self.0.to_string()
    }
}

/// Only ever its ciphertext: the plain text cannot reach a URL or a header.
impl ToParam for Sensitive {
    fn to_param(&self, out: &mut Writing<'_>) -> String {
        out.seal(&self.0)
    }
}

/// Untyped values travel as their text (strings unquoted).
impl ToParam for serde_json::Value {
    fn to_param(&self, _out: &mut Writing<'_>) -> String {
        match self {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        }
    }
}

/// Lists travel comma-separated, as the documentation's samples send them.
impl<T: ToParam> ToParam for Vec<T> {
    fn to_param(&self, out: &mut Writing<'_>) -> String {
        self.iter().map(|item| item.to_param(out)).collect::<Vec<_>>().join(",")
    }
}

/// A JSON `number` as `serde_json` holds it: an integer exactly (to 64 bits, signed or not), a
/// decimal as `f64` (`6.5`, a quantity with two decimals), never truncated to an integer type.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Number(serde_json::Number);

impl Number {
    pub(crate) fn from_json_number(number: serde_json::Number) -> Self {
        Number(number)
    }

    pub(crate) fn as_json_number(&self) -> &serde_json::Number {
        &self.0
    }

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

/// A sensitive value (`data-encrypted`): plain text in the program, redacted in `Debug`, and
/// sealed for WeChat Pay wherever a request writes it (body, query string, header): its
/// [`ToJson`](crate::ToJson) and [`ToParam`] write only ciphertext. It deliberately has no serde
/// `Serialize`, which would write the plain text anywhere: [`expose`](Self::expose) says so where
/// the plain text is meant.
#[derive(Clone, PartialEq, Eq, Hash, Default, Deserialize)]
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

/// A value WeChat Pay sent encrypted for the merchant (`data-encrypted` in a response, a bill's
/// `encrypt_key`: RSA-OAEP with the merchant's public key, or SM2 for a national-cryptography
/// merchant; Base64). It is ciphertext, never plain text: the client's `decrypt` opens it with
/// the merchant's private key.
#[derive(Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Encrypted(String);

impl Encrypted {
    /// Wraps a ciphertext (Base64), e.g. to build a response in a test.
    pub fn new(ciphertext: impl Into<String>) -> Self {
        Encrypted(ciphertext.into())
    }

    /// The Base64 ciphertext as received.
    pub fn ciphertext(&self) -> &str {
        &self.0
    }
}

impl From<String> for Encrypted {
    fn from(ciphertext: String) -> Self {
        Encrypted(ciphertext)
    }
}

impl From<&str> for Encrypted {
    fn from(ciphertext: &str) -> Self {
        Encrypted(ciphertext.to_owned())
    }
}

impl fmt::Debug for Encrypted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Encrypted({} bytes of ciphertext)", self.0.len())
    }
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

/// The response of a download: the bytes, unsigned, as received.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ByteStream(pub Vec<u8>);

impl fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ByteStream({} bytes)", self.0.len())
    }
}
