//! Generated types written as JSON: one line per member, written out by the generator (see
//! [`from_json`](crate::FromJson) for why not serde's derive). Sensitive values are sealed as they
//! are written ([`Writing`]).

use serde_json::{Map, Value};

use crate::time_format::TimeFormat;
use crate::values::{Encrypted, File, JsonEncoded, Number, Sensitive, ToParam, UrlEncoded};
use crate::writing::Writing;

/// A value written as JSON; sensitive values sealed by `out` (see [`Writing`]).
pub trait ToJson {
    fn to_json(&self, out: &mut Writing<'_>) -> Value;
}

/// Writes a member.
pub fn put<T: ToJson + ?Sized>(object: &mut Map<String, Value>, name: &str, value: &T, out: &mut Writing<'_>) {
    object.insert(name.to_owned(), value.to_json(out));
}

/// Writes a member when it is set.
pub fn put_optional<T: ToJson>(object: &mut Map<String, Value>, name: &str, value: &Option<T>, out: &mut Writing<'_>) {
    if let Some(value) = value {
        put(object, name, value, out);
    }
}

/// Writes a member holding a time (or times) in its documented `format`.
pub fn put_time<T: ToJson + ?Sized>(
    object: &mut Map<String, Value>,
    name: &str,
    value: &T,
    format: TimeFormat,
    out: &mut Writing<'_>,
) {
    let written = out.with_time_format(Some(format), |out| value.to_json(out));
    object.insert(name.to_owned(), written);
}

/// Writes a member holding a time when it is set.
pub fn put_time_optional<T: ToJson>(
    object: &mut Map<String, Value>,
    name: &str,
    value: &Option<T>,
    format: TimeFormat,
    out: &mut Writing<'_>,
) {
    if let Some(value) = value {
        put_time(object, name, value, format, out);
    }
}

/// A time (or times) as a path, query or header value, in its documented `format`.
pub fn time_param<T: ToParam + ?Sized>(value: &T, format: TimeFormat, out: &mut Writing<'_>) -> String {
    out.with_time_format(Some(format), |out| value.to_param(out))
}

impl ToJson for String {
    fn to_json(&self, _out: &mut Writing<'_>) -> Value {
        Value::String(self.clone())
    }
}

impl ToJson for i64 {
    fn to_json(&self, _out: &mut Writing<'_>) -> Value {
        Value::from(*self)
    }
}

impl ToJson for bool {
    fn to_json(&self, _out: &mut Writing<'_>) -> Value {
        Value::Bool(*self)
    }
}

impl ToJson for Number {
    fn to_json(&self, _out: &mut Writing<'_>) -> Value {
        Value::Number(self.as_json_number().clone())
    }
}

/// Its ciphertext, sealed by `out`: never the plain text.
impl ToJson for Sensitive {
    fn to_json(&self, out: &mut Writing<'_>) -> Value {
        Value::String(out.seal(self.expose()))
    }
}

impl ToJson for Encrypted {
    fn to_json(&self, _out: &mut Writing<'_>) -> Value {
        Value::String(self.ciphertext().to_owned())
    }
}

impl ToJson for Value {
    fn to_json(&self, _out: &mut Writing<'_>) -> Value {
        self.clone()
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self, out: &mut Writing<'_>) -> Value {
        Value::Array(self.iter().map(|item| item.to_json(out)).collect())
    }
}

impl<T: ToJson> ToJson for JsonEncoded<T> {
    fn to_json(&self, out: &mut Writing<'_>) -> Value {
        Value::String(self.0.to_json(out).to_string())
    }
}

impl<T: ToJson> ToJson for UrlEncoded<T> {
    fn to_json(&self, out: &mut Writing<'_>) -> Value {
        Value::String(url_encode(self.0.to_json(out)))
    }
}

impl ToJson for File {
    fn to_json(&self, out: &mut Writing<'_>) -> Value {
        use base64::Engine as _;
        let mut object = Map::new();
        put(&mut object, "filename", &self.filename, out);
        put(&mut object, "content_type", &self.content_type, out);
        put(&mut object, "base64", &base64::engine::general_purpose::STANDARD.encode(&self.bytes), out);
        Value::Object(object)
    }
}

/// An object's members as `name=value&…` (strings unquoted).
pub(crate) fn url_encode(value: Value) -> String {
    let pairs: Vec<(String, String)> = match value {
        Value::Object(object) => object
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                (k, text)
            })
            .collect(),
        _ => Vec::new(),
    };
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

// A structure carried as a string in a query or header: written as its JSON, or URL-encoded.
impl<T: ToJson> ToParam for JsonEncoded<T> {
    fn to_param(&self, out: &mut Writing<'_>) -> String {
        self.0.to_json(out).to_string()
    }
}

impl<T: ToJson> ToParam for UrlEncoded<T> {
    fn to_param(&self, out: &mut Writing<'_>) -> String {
        url_encode(self.0.to_json(out))
    }
}

/// Implements serde's `Serialize` and `Deserialize` for a generated type through its [`ToJson`]
/// and [`FromJson`](crate::FromJson): `serde_json::from_str::<Response>(…)` builds a response in a
/// test, and any value can be logged or stored as JSON.
#[macro_export]
macro_rules! json_serde {
    ($name:ident) => {
        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let value = $crate::ToJson::to_json(self, &mut $crate::Writing::unsealed());
                $crate::__private::serde::Serialize::serialize(&value, serializer)
            }
        }
        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value =
                    <$crate::__private::serde_json::Value as $crate::__private::serde::Deserialize>::deserialize(
                        deserializer,
                    )?;
                let json = $crate::__private::serde_json::to_vec(&value)
                    .map_err(<D::Error as $crate::__private::serde::de::Error>::custom)?;
                $crate::read_strict(&json).map_err(<D::Error as $crate::__private::serde::de::Error>::custom)
            }
        }
    };
}
