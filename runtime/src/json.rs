//! Generated types to and from JSON values, one line per field written out by the generator.
//!
//! Why not `#[derive(Serialize, Deserialize)]`: over a thousand operations, serde's generic
//! visitors were most of the time `cargo check` spent on the generated crate; these conversions
//! are small non-generic functions over `serde_json::Value`, and name the JSON path of whatever
//! does not convert. Whole responses and notification payloads (and enums) also implement serde's
//! traits, through [`json_serde!`]; the structures inside them convert with these traits alone.

use serde_json::{Map, Value};

use crate::decode::{kind_of, DecodeError};
use crate::operation::File;
use crate::values::{Encrypted, JsonEncoded, Number, Sensitive, UrlEncoded};

/// A value read from JSON; `at` is its JSON path, for errors.
pub trait FromJson: Sized {
    fn from_json(value: Value, at: &str) -> Result<Self, DecodeError>;
}

/// A value written as JSON.
pub trait ToJson {
    fn to_json(&self) -> Value;
}

fn expected(at: &str, what: &str, found: &Value) -> DecodeError {
    DecodeError::new(at, format!("expected {what}, found {}", kind_of(found)))
}

/// The members of an object.
pub fn object(value: Value, at: &str) -> Result<Map<String, Value>, DecodeError> {
    match value {
        Value::Object(object) => Ok(object),
        other => Err(expected(at, "an object", &other)),
    }
}

fn path(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_owned()
    } else {
        format!("{at}.{name}")
    }
}

/// A required member, taken out of the object (absent or `null` is an error).
pub fn take<T: FromJson>(object: &mut Map<String, Value>, name: &str, at: &str) -> Result<T, DecodeError> {
    match object.remove(name) {
        None | Some(Value::Null) => Err(DecodeError::new(path(at, name), "missing required field")),
        Some(value) => T::from_json(value, &path(at, name)),
    }
}

/// An optional member, taken out of the object (absent or `null` is `None`).
pub fn take_optional<T: FromJson>(object: &mut Map<String, Value>, name: &str, at: &str) -> Result<Option<T>, DecodeError> {
    match object.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => T::from_json(value, &path(at, name)).map(Some),
    }
}

/// Writes a member.
pub fn put<T: ToJson + ?Sized>(object: &mut Map<String, Value>, name: &str, value: &T) {
    object.insert(name.to_owned(), value.to_json());
}

/// Writes a member when it is set.
pub fn put_optional<T: ToJson>(object: &mut Map<String, Value>, name: &str, value: &Option<T>) {
    if let Some(value) = value {
        put(object, name, value);
    }
}

impl FromJson for String {
    fn from_json(value: Value, at: &str) -> Result<Self, DecodeError> {
        match value {
            Value::String(text) => Ok(text),
            other => Err(expected(at, "a string", &other)),
        }
    }
}

impl ToJson for String {
    fn to_json(&self) -> Value {
        Value::String(self.clone())
    }
}

impl FromJson for i64 {
    fn from_json(value: Value, at: &str) -> Result<Self, DecodeError> {
        match value.as_i64() {
            Some(n) => Ok(n),
            None => Err(expected(at, "an integer", &value)),
        }
    }
}

impl ToJson for i64 {
    fn to_json(&self) -> Value {
        Value::from(*self)
    }
}

impl FromJson for bool {
    fn from_json(value: Value, at: &str) -> Result<Self, DecodeError> {
        match value {
            Value::Bool(b) => Ok(b),
            other => Err(expected(at, "a boolean", &other)),
        }
    }
}

impl ToJson for bool {
    fn to_json(&self) -> Value {
        Value::Bool(*self)
    }
}

impl FromJson for Number {
    fn from_json(value: Value, at: &str) -> Result<Self, DecodeError> {
        match value {
            Value::Number(n) => Ok(Number::from_json_number(n)),
            other => Err(expected(at, "a number", &other)),
        }
    }
}

impl ToJson for Number {
    fn to_json(&self) -> Value {
        Value::Number(self.as_json_number().clone())
    }
}

impl FromJson for Sensitive {
    fn from_json(value: Value, at: &str) -> Result<Self, DecodeError> {
        String::from_json(value, at).map(Sensitive::new)
    }
}

/// The plain text: the transport encrypts it on the way out.
impl ToJson for Sensitive {
    fn to_json(&self) -> Value {
        Value::String(self.expose().to_owned())
    }
}

impl FromJson for Encrypted {
    fn from_json(value: Value, at: &str) -> Result<Self, DecodeError> {
        String::from_json(value, at).map(Encrypted::new)
    }
}

impl ToJson for Encrypted {
    fn to_json(&self) -> Value {
        Value::String(self.ciphertext().to_owned())
    }
}

impl FromJson for Value {
    fn from_json(value: Value, _at: &str) -> Result<Self, DecodeError> {
        Ok(value)
    }
}

impl ToJson for Value {
    fn to_json(&self) -> Value {
        self.clone()
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(value: Value, at: &str) -> Result<Self, DecodeError> {
        match value {
            Value::Array(items) => {
                items.into_iter().enumerate().map(|(index, item)| T::from_json(item, &format!("{at}[{index}]"))).collect()
            }
            other => Err(expected(at, "an array", &other)),
        }
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self) -> Value {
        Value::Array(self.iter().map(ToJson::to_json).collect())
    }
}

impl<T: FromJson> FromJson for JsonEncoded<T> {
    fn from_json(value: Value, at: &str) -> Result<Self, DecodeError> {
        let text = String::from_json(value, at)?;
        let inner: Value =
            serde_json::from_str(&text).map_err(|e| DecodeError::new(at, format!("the JSON inside the string: {e}")))?;
        T::from_json(inner, at).map(JsonEncoded)
    }
}

impl<T: ToJson> ToJson for JsonEncoded<T> {
    fn to_json(&self) -> Value {
        Value::String(self.0.to_json().to_string())
    }
}

/// The members of a URL-encoded string are text; a member documented as a number is read from it.
impl<T: FromJson> FromJson for UrlEncoded<T> {
    fn from_json(value: Value, at: &str) -> Result<Self, DecodeError> {
        let text = String::from_json(value, at)?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(&text).map_err(|e| DecodeError::new(at, format!("the URL-encoded string: {e}")))?;
        let object = pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        T::from_json(Value::Object(object), at).map(UrlEncoded)
    }
}

impl<T: ToJson> ToJson for UrlEncoded<T> {
    fn to_json(&self) -> Value {
        let pairs: Vec<(String, String)> = match self.0.to_json() {
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
        Value::String(serde_urlencoded::to_string(pairs).unwrap_or_default())
    }
}

/// As JSON (for requests built from JSON through the registry): the name, the content type and
/// the bytes in Base64.
impl FromJson for File {
    fn from_json(value: Value, at: &str) -> Result<Self, DecodeError> {
        use base64::Engine as _;
        let mut object = object(value, at)?;
        let filename: String = take(&mut object, "filename", at)?;
        let content_type: Option<String> = take_optional(&mut object, "content_type", at)?;
        let encoded: String = take(&mut object, "base64", at)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| DecodeError::new(path(at, "base64"), e.to_string()))?;
        let mut file = File::new(filename, bytes);
        if let Some(content_type) = content_type {
            file.content_type = content_type;
        }
        Ok(file)
    }
}

impl ToJson for File {
    fn to_json(&self) -> Value {
        use base64::Engine as _;
        let mut object = Map::new();
        put(&mut object, "filename", &self.filename);
        put(&mut object, "content_type", &self.content_type);
        put(&mut object, "base64", &base64::engine::general_purpose::STANDARD.encode(&self.bytes));
        Value::Object(object)
    }
}

/// Implements serde's `Serialize` and `Deserialize` for a generated type through its [`ToJson`]
/// and [`FromJson`]: `serde_json::from_str::<Response>(…)` builds a response in a test, and any
/// value can be logged or stored as JSON.
#[macro_export]
macro_rules! json_serde {
    ($name:ident) => {
        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                $crate::__private::serde::Serialize::serialize(&$crate::ToJson::to_json(self), serializer)
            }
        }
        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <$crate::__private::serde_json::Value as $crate::__private::serde::Deserialize>::deserialize(deserializer)?;
                $crate::FromJson::from_json(value, "").map_err(<D::Error as $crate::__private::serde::de::Error>::custom)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_mistyped_member_names_its_path() {
        let mut members = object(serde_json::json!({ "total": "ten", "currency": null }), "amount").unwrap();
        let error = take::<i64>(&mut members, "total", "amount").unwrap_err();
        assert_eq!(error.to_string(), "`amount.total`: expected an integer, found a string");
        assert_eq!(take_optional::<String>(&mut members, "currency", "amount").unwrap(), None);
        let error = take::<String>(&mut members, "currency", "amount").unwrap_err();
        assert_eq!(error.path(), "amount.currency");
        let error = Vec::<i64>::from_json(serde_json::json!([1, "x"]), "list").unwrap_err();
        assert_eq!(error.path(), "list[1]");
    }

    #[test]
    fn structures_inside_strings_round_trip() {
        let encoded = JsonEncoded(serde_json::json!({ "b": 1, "a": [true] }));
        let text = encoded.to_json();
        assert_eq!(text, Value::String(r#"{"b":1,"a":[true]}"#.to_owned()), "member order is kept");
        assert_eq!(JsonEncoded::<Value>::from_json(text, "x").unwrap(), encoded);
        let url = UrlEncoded(serde_json::json!({ "name": "a b", "n": 2 }));
        assert_eq!(url.to_json(), Value::String("name=a+b&n=2".to_owned()));
    }
}
