//! Decoding what WeChat Pay really sends. The documentation is sometimes wrong about responses
//! (a required field the service omits, an integer sent as `"10"`, a string sent as a number), and
//! a response the service really sends must decode. The policy, after Smithy's client error
//! correction:
//!
//! - a required field that is absent (or `null`) gets its type's default (`""`, `0`, `false`,
//!   `[]`, an object with its own required fields defaulted) and its JSON path is recorded in
//!   [`Decoded::defaulted`], so the absence stays visible;
//! - integers and numbers accept numeric strings, and integers accept integral floats (`10.0`);
//!   strings accept numbers and booleans; booleans accept `"true"` / `"false"`;
//! - unknown fields are ignored, unknown enum values are kept (`Unknown`);
//! - an object holding none of the documented fields (when some are required) is not the
//!   documented answer: an error, not a value made of defaults;
//! - anything else (an object where a string belongs, …) is an error naming the JSON path.
//!
//! Requests stay strict: builders refuse to build without every required field.

use std::fmt;

use serde_json::{Map, Value};

use crate::json::{FromJson, ToJson};

use crate::operation::ByteStream;

/// The shape of a decoded JSON type, field by field (generated for every response-side type).
pub trait Schema {
    const FIELDS: &'static [FieldSchema];
}

/// One field of a [`Schema`].
#[derive(Clone, Copy, Debug)]
pub struct FieldSchema {
    /// The JSON key.
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    /// A list of `kind`.
    pub array: bool,
    /// The members, for [`Kind::Object`].
    pub fields: &'static [FieldSchema],
}

/// What a field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    String,
    Integer,
    Number,
    Boolean,
    Object,
    /// Untyped JSON.
    Any,
}

/// A decoded value and the required fields the service left out (filled with defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded<T> {
    pub value: T,
    /// JSON paths of required fields that were absent and got their type's default.
    pub defaulted: Vec<String>,
}

impl<T> Decoded<T> {
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Decoded<U> {
        Decoded { value: f(self.value), defaulted: self.defaulted }
    }
}

/// A body that does not decode, with where: the JSON path (`amount.total`, `data[2].state`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    path: String,
    message: String,
}

impl DecodeError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        DecodeError { path: path.into(), message: message.into() }
    }

    /// The JSON path of the value that does not decode (empty for the body itself).
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "the body: {}", self.message)
        } else {
            write!(f, "`{}`: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for DecodeError {}

/// Decoding of a verified response body.
pub trait Decode: Sized {
    /// Decodes the raw body.
    fn decode(body: &[u8]) -> Result<Decoded<Self>, DecodeError>;
    /// Decodes the raw body into the typed value and serialises it back to JSON: what the
    /// typed response keeps of the body.
    fn decode_value(body: &[u8]) -> Result<Decoded<Value>, DecodeError>;
}

/// Marks generated JSON response types.
pub trait JsonResponse: Schema + FromJson + ToJson {}

impl<T: JsonResponse> Decode for T {
    fn decode(body: &[u8]) -> Result<Decoded<Self>, DecodeError> {
        decode_json(body)
    }

    fn decode_value(body: &[u8]) -> Result<Decoded<Value>, DecodeError> {
        let decoded = decode_json::<T>(body)?;
        let value = decoded.value.to_json();
        Ok(decoded.map(|_| value))
    }
}

impl Decode for () {
    fn decode(_body: &[u8]) -> Result<Decoded<Self>, DecodeError> {
        Ok(Decoded { value: (), defaulted: Vec::new() })
    }

    fn decode_value(_body: &[u8]) -> Result<Decoded<Value>, DecodeError> {
        Ok(Decoded { value: Value::Null, defaulted: Vec::new() })
    }
}

/// Untyped JSON (a notification whose page cannot be typed).
impl Decode for Value {
    fn decode(body: &[u8]) -> Result<Decoded<Self>, DecodeError> {
        let value = serde_json::from_slice(body).map_err(|e| DecodeError::new("", e.to_string()))?;
        Ok(Decoded { value, defaulted: Vec::new() })
    }

    fn decode_value(body: &[u8]) -> Result<Decoded<Value>, DecodeError> {
        Self::decode(body)
    }
}

impl Decode for ByteStream {
    fn decode(body: &[u8]) -> Result<Decoded<Self>, DecodeError> {
        Ok(Decoded { value: ByteStream(body.to_vec()), defaulted: Vec::new() })
    }

    /// The bytes in Base64.
    fn decode_value(body: &[u8]) -> Result<Decoded<Value>, DecodeError> {
        use base64::Engine as _;
        Ok(Decoded { value: Value::String(base64::engine::general_purpose::STANDARD.encode(body)), defaulted: Vec::new() })
    }
}

/// Parses `body`, corrects it after the schema of `T` ([`lenient`]) and converts it.
pub fn decode_json<T: Schema + FromJson>(body: &[u8]) -> Result<Decoded<T>, DecodeError> {
    let mut value: Value = serde_json::from_slice(body).map_err(|e| DecodeError::new("", e.to_string()))?;
    if let Value::Object(object) = &value {
        let documented = |field: &FieldSchema| object.get(field.name).is_some_and(|v| !v.is_null());
        if T::FIELDS.iter().any(|f| f.required) && !T::FIELDS.iter().any(documented) {
            return Err(DecodeError::new("", "none of the documented fields is present: not the documented answer"));
        }
    }
    let mut defaulted = Vec::new();
    lenient(&mut value, T::FIELDS, "", &mut defaulted)?;
    let value = T::from_json(value, "")?;
    Ok(Decoded { value, defaulted })
}

/// Corrects `value` (an object described by `fields`) in place, as the module documentation
/// says; `at` is its JSON path, `defaulted` collects the paths of defaulted fields.
pub fn lenient(value: &mut Value, fields: &[FieldSchema], at: &str, defaulted: &mut Vec<String>) -> Result<(), DecodeError> {
    let Value::Object(object) = value else {
        return Err(DecodeError::new(at, format!("expected an object, found {}", kind_of(value))));
    };
    for field in fields {
        let path = if at.is_empty() { field.name.to_owned() } else { format!("{at}.{}", field.name) };
        match object.get_mut(field.name) {
            None | Some(Value::Null) if field.required => {
                object.insert(field.name.to_owned(), default(field));
                defaulted.push(path);
            }
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) if field.array => {
                for (index, item) in items.iter_mut().enumerate() {
                    coerce(item, field, &format!("{path}[{index}]"), defaulted)?;
                }
            }
            Some(item) => coerce(item, field, &path, defaulted)?,
        }
    }
    Ok(())
}

fn coerce(value: &mut Value, field: &FieldSchema, at: &str, defaulted: &mut Vec<String>) -> Result<(), DecodeError> {
    let replacement = match (field.kind, &*value) {
        (Kind::Object, Value::Object(_)) => return lenient(value, field.fields, at, defaulted),
        (Kind::Integer, Value::String(text)) => text.trim().parse::<i64>().ok().map(Value::from),
        (Kind::Integer, Value::Number(n)) if n.as_i64().is_none() && n.as_u64().is_none() => {
            n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| Value::from(f as i64))
        }
        (Kind::Number, Value::String(text)) => serde_json::from_str::<serde_json::Number>(text.trim()).ok().map(Value::Number),
        (Kind::String, Value::Number(n)) => Some(Value::String(n.to_string())),
        (Kind::String, Value::Bool(b)) => Some(Value::String(b.to_string())),
        (Kind::Boolean, Value::String(text)) => match text.as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => None,
    };
    if let Some(replacement) = replacement {
        *value = replacement;
    }
    Ok(())
}

fn default(field: &FieldSchema) -> Value {
    if field.array {
        return Value::Array(Vec::new());
    }
    match field.kind {
        Kind::String => Value::String(String::new()),
        Kind::Integer | Kind::Number => Value::from(0),
        Kind::Boolean => Value::Bool(false),
        Kind::Object => {
            let mut object = Value::Object(Map::new());
            let _ = lenient(&mut object, field.fields, "", &mut Vec::new());
            object
        }
        Kind::Any => Value::Null,
    }
}

/// What a JSON value is, for messages: `a string`, `an object`, …
pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AMOUNT: &[FieldSchema] = &[
        FieldSchema { name: "total", kind: Kind::Integer, required: true, array: false, fields: &[] },
        FieldSchema { name: "currency", kind: Kind::String, required: false, array: false, fields: &[] },
    ];
    const ORDER: &[FieldSchema] = &[
        FieldSchema { name: "out_trade_no", kind: Kind::String, required: true, array: false, fields: &[] },
        FieldSchema { name: "notify_url", kind: Kind::String, required: true, array: false, fields: &[] },
        FieldSchema { name: "amount", kind: Kind::Object, required: true, array: false, fields: AMOUNT },
        FieldSchema { name: "total_count", kind: Kind::Integer, required: false, array: false, fields: &[] },
        FieldSchema { name: "rate", kind: Kind::Number, required: false, array: false, fields: &[] },
        FieldSchema { name: "details", kind: Kind::Object, required: false, array: true, fields: AMOUNT },
    ];

    fn corrected(json: &str) -> (Value, Vec<String>) {
        let mut value: Value = serde_json::from_str(json).unwrap();
        let mut defaulted = Vec::new();
        lenient(&mut value, ORDER, "", &mut defaulted).unwrap();
        (value, defaulted)
    }

    #[test]
    fn absent_required_fields_get_defaults_and_are_recorded() {
        let (value, defaulted) = corrected(r#"{"out_trade_no": "1217", "amount": {}}"#);
        assert_eq!(defaulted, ["notify_url", "amount.total"]);
        assert_eq!(value["notify_url"], "");
        assert_eq!(value["amount"]["total"], 0);
        assert!(value.get("total_count").is_none(), "optional fields stay absent");
    }

    #[test]
    fn numbers_and_strings_are_read_across() {
        let (value, _) = corrected(
            r#"{"out_trade_no": 1217, "notify_url": "u", "amount": {"total": "100", "currency": 1},
               "total_count": 10.0, "rate": "6.5", "details": [{"total": "7"}]}"#,
        );
        assert_eq!(value["out_trade_no"], "1217");
        assert_eq!(value["amount"]["total"], 100);
        assert_eq!(value["amount"]["currency"], "1");
        assert_eq!(value["total_count"], 10);
        assert_eq!(value["rate"].to_string(), "6.5");
        assert_eq!(value["details"][0]["total"], 7);
    }

    #[derive(Debug)]
    struct Order;

    impl Schema for Order {
        const FIELDS: &'static [FieldSchema] = ORDER;
    }

    impl FromJson for Order {
        fn from_json(_value: Value, _at: &str) -> Result<Self, DecodeError> {
            Ok(Order)
        }
    }

    #[test]
    fn a_body_without_any_documented_field_is_not_decoded_into_defaults() {
        let error = decode_json::<Order>(br#"{"unexpected": 1}"#).unwrap_err();
        assert!(error.message().contains("none of the documented fields"), "{error}");
        let partial = decode_json::<Order>(br#"{"out_trade_no": "1217"}"#).unwrap();
        assert_eq!(partial.defaulted, ["notify_url", "amount"]);
    }

    #[test]
    fn a_wrong_shape_is_an_error_naming_the_path() {
        let mut value: Value = serde_json::from_str(r#"{"amount": "x"}"#).unwrap();
        // Left as is by the correction; deserialising reports it (see decode_json).
        lenient(&mut value, ORDER, "", &mut Vec::new()).unwrap();
        let error = lenient(&mut serde_json::json!([1]), ORDER, "data[0]", &mut Vec::new()).unwrap_err();
        assert_eq!(error.path(), "data[0]");
        assert_eq!(error.to_string(), "`data[0]`: expected an object, found an array");
    }
}
