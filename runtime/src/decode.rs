//! Decoding what WeChat Pay really sends. The documentation is sometimes wrong about responses
//! (a required field the service omits, an integer sent as `"10"`, a string sent as a number), and
//! a response the service really sends must decode. The policy, after Smithy's client error
//! correction:
//!
//! - a required field that is absent (or `null`) gets its type's default (`""`, `0`, `false`,
//!   `[]`, an object with its own required fields defaulted) and its JSON path is recorded in
//!   [`Decoded::defaulted`], so the absence stays visible (once: not again for the members of a
//!   defaulted object);
//! - integers and numbers accept numeric strings, and integers accept integral floats (`10.0`);
//!   strings accept numbers and booleans; booleans accept `"true"` / `"false"`;
//! - unknown fields are ignored, unknown enum values are kept (`Unknown`);
//! - an object holding none of the documented fields (when some are required) is not the
//!   documented answer: an error, not a value made of defaults;
//! - anything else (an object where a string belongs, …) is an error naming the JSON path.
//!
//! Requests stay strict: builders refuse to build without every required field, and so does a
//! request read from JSON (through the registry) or any type read through serde's `Deserialize`.
//! The corrections are made by the [`FromJson`] conversions themselves, reading with
//! [`Reading::lenient`], in the one pass that builds the typed value.

use std::fmt;

use serde_json::Value;

use crate::json::{FromJson, Reading, ToJson};

use crate::operation::ByteStream;

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

/// A generated JSON response type (a whole response, a notification payload or a type inside one).
pub trait JsonResponse: FromJson + ToJson {
    /// The documented members (JSON keys).
    const MEMBERS: &'static [&'static str];
    /// Whether any member is required: then a body holding none of [`MEMBERS`](Self::MEMBERS) is
    /// not this answer.
    const ANY_REQUIRED: bool;
}

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

/// Parses `body` and reads it leniently into `T` (see the module documentation).
pub fn decode_json<T: JsonResponse>(body: &[u8]) -> Result<Decoded<T>, DecodeError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| DecodeError::new("", e.to_string()))?;
    if let Value::Object(object) = &value {
        let documented = |name: &&str| object.get(*name).is_some_and(|v| !v.is_null());
        if T::ANY_REQUIRED && !T::MEMBERS.iter().any(documented) {
            return Err(DecodeError::new("", "none of the documented fields is present: not the documented answer"));
        }
    }
    let mut at = Reading::lenient();
    let value = T::from_json(value, &mut at)?;
    Ok(Decoded { value, defaulted: at.into_defaulted() })
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
    use crate::json::tests::Amount;
    use crate::json::{object, put, put_optional, take, take_optional};
    use serde_json::Map;
    use crate::values::Number;

    #[derive(Debug, PartialEq)]
    struct Order {
        out_trade_no: String,
        notify_url: String,
        amount: Amount,
        total_count: Option<i64>,
        rate: Option<Number>,
        details: Option<Vec<Amount>>,
    }

    impl FromJson for Order {
        fn from_json(value: Value, at: &mut Reading) -> Result<Self, DecodeError> {
            let mut object = object(value, at)?;
            Ok(Order {
                out_trade_no: take(&mut object, "out_trade_no", at)?,
                notify_url: take(&mut object, "notify_url", at)?,
                amount: take(&mut object, "amount", at)?,
                total_count: take_optional(&mut object, "total_count", at)?,
                rate: take_optional(&mut object, "rate", at)?,
                details: take_optional(&mut object, "details", at)?,
            })
        }
    }

    impl ToJson for Order {
        fn to_json(&self) -> Value {
            let mut object = Map::new();
            put(&mut object, "out_trade_no", &self.out_trade_no);
            put(&mut object, "notify_url", &self.notify_url);
            put(&mut object, "amount", &self.amount);
            put_optional(&mut object, "total_count", &self.total_count);
            put_optional(&mut object, "rate", &self.rate);
            put_optional(&mut object, "details", &self.details);
            Value::Object(object)
        }
    }

    impl JsonResponse for Order {
        const MEMBERS: &'static [&'static str] = &["out_trade_no", "notify_url", "amount", "total_count", "rate", "details"];
        const ANY_REQUIRED: bool = true;
    }

    #[test]
    fn absent_required_fields_get_defaults_and_are_recorded() {
        let decoded = decode_json::<Order>(br#"{"out_trade_no": "1217", "amount": {}}"#).unwrap();
        assert_eq!(decoded.defaulted, ["notify_url", "amount.total"]);
        assert_eq!(decoded.value.notify_url, "");
        assert_eq!(decoded.value.amount.total, 0);
        assert_eq!(decoded.value.total_count, None, "optional fields stay absent");
        let decoded = decode_json::<Order>(br#"{"out_trade_no": "1217", "notify_url": null}"#).unwrap();
        assert_eq!(decoded.defaulted, ["notify_url", "amount"], "a defaulted object's members are not listed again");
        assert_eq!(decoded.value.amount, Amount::default());
    }

    #[test]
    fn numbers_and_strings_are_read_across() {
        let order = decode_json::<Order>(
            br#"{"out_trade_no": 1217, "notify_url": "u", "amount": {"total": "100", "currency": 1},
               "total_count": 10.0, "rate": "6.5", "details": [{"total": " 7 "}]}"#,
        )
        .unwrap()
        .value;
        assert_eq!(order.out_trade_no, "1217");
        assert_eq!(order.amount, Amount { total: 100, currency: Some("1".into()) });
        assert_eq!(order.total_count, Some(10));
        assert_eq!(order.rate.map(|rate| rate.to_json().to_string()), Some("6.5".into()));
        assert_eq!(order.details, Some(vec![Amount { total: 7, currency: None }]));
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
        let error = decode_json::<Order>(br#"{"out_trade_no": "1", "amount": "x"}"#).unwrap_err();
        assert_eq!(error.to_string(), "`amount`: expected an object, found a string");
        let error = decode_json::<Order>(br#"{"out_trade_no": "1", "amount": {}, "details": [{}, {"total": []}]}"#).unwrap_err();
        assert_eq!(error.to_string(), "`details[1].total`: expected an integer, found an array");
        let error = decode_json::<Order>(br#"[1]"#).unwrap_err();
        assert_eq!(error.to_string(), "the body: expected an object, found an array");
    }

    #[test]
    fn decode_value_keeps_what_the_typed_value_holds() {
        let decoded = Order::decode_value(br#"{"out_trade_no": 1, "amount": {"total": "2"}, "extra": true}"#).unwrap();
        assert_eq!(decoded.value, serde_json::json!({"out_trade_no": "1", "notify_url": "", "amount": {"total": 2}}));
        assert_eq!(decoded.defaulted, ["notify_url"]);
    }
}
