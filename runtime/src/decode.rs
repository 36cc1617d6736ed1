//! Decoding what WeChat Pay really sends. The documentation is sometimes wrong about responses
//! (a required field the service omits, an integer sent as `"10"`, an object where the page says
//! array), and the call behind a verified answer happened at WeChat Pay whatever its shape: a
//! verified answer **always decodes**, and nothing it carries is lost. The policy, after Smithy's
//! client error correction (which fills absent required output members with defaults), and going
//! further where real answers need it:
//!
//! - a required member that is absent (or `null`) gets its type's default (`""`, `0`, `false`,
//!   `[]`, an object with its own required members defaulted), recorded as a [`Deviation`] at its
//!   JSON path (once: not again for the members of a defaulted object);
//! - a member whose JSON kind contradicts the page (an object where an array belongs, a list of
//!   strings holding objects, a word where a number belongs, a `data-encoded` string that is not
//!   JSON) gets its default too, recorded with the kind that arrived; Smithy fails the whole
//!   response there, this reads the rest;
//! - a body holding none of the documented members (another variant of the answer) reads as
//!   defaults, recorded as [`DeviationKind::Undocumented`](crate::DeviationKind::Undocumented);
//! - integers and numbers accept numeric strings, and integers accept integral floats (`10.0`);
//!   strings accept numbers and booleans; booleans accept `"true"` / `"false"`: these are exact,
//!   not deviations;
//! - unknown members are ignored by the typed value and unknown enum values kept (`Unknown`); the
//!   transport keeps the whole verified body, so undocumented members stay readable as JSON.
//!
//! Requests stay strict: builders refuse to build without every required field, and so does a
//! request read from JSON (through the registry) or any type read through serde's `Deserialize`.
//! The corrections are made by the [`FromJson`] conversions themselves, reading with
//! [`Reading::lenient`], in the one pass that builds the typed value.

use serde_json::Value;

use crate::json::{FromJson, Reading, ToJson};
use crate::report::{DecodeError, Deviation};
use crate::values::ByteStream;
use crate::writing::Writing;

/// A decoded value and where it deviated from its documentation.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded<T> {
    pub value: T,
    /// Where the answer differed from the documentation; each such value holds its type's default.
    pub deviations: Vec<Deviation>,
}

impl<T> Decoded<T> {
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Decoded<U> {
        Decoded { value: f(self.value), deviations: self.deviations }
    }

    fn exact(value: T) -> Self {
        Decoded { value, deviations: Vec::new() }
    }
}

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
    /// not the documented answer (recorded as [`DeviationKind::Undocumented`](crate::DeviationKind::Undocumented)).
    const ANY_REQUIRED: bool;
}

impl<T: JsonResponse> Decode for T {
    fn decode(body: &[u8]) -> Result<Decoded<Self>, DecodeError> {
        decode_json(body)
    }

    fn decode_value(body: &[u8]) -> Result<Decoded<Value>, DecodeError> {
        let decoded = decode_json::<T>(body)?;
        let value = decoded.value.to_json(&mut Writing::unsealed());
        Ok(decoded.map(|_| value))
    }
}

impl Decode for () {
    fn decode(_body: &[u8]) -> Result<Decoded<Self>, DecodeError> {
        Ok(Decoded::exact(()))
    }

    fn decode_value(_body: &[u8]) -> Result<Decoded<Value>, DecodeError> {
        Ok(Decoded::exact(Value::Null))
    }
}

/// Untyped JSON (a notification whose page cannot be typed).
impl Decode for Value {
    fn decode(body: &[u8]) -> Result<Decoded<Self>, DecodeError> {
        let value = serde_json::from_slice(body).map_err(|e| DecodeError::new("", e.to_string()))?;
        Ok(Decoded::exact(value))
    }

    fn decode_value(body: &[u8]) -> Result<Decoded<Value>, DecodeError> {
        Self::decode(body)
    }
}

impl Decode for ByteStream {
    fn decode(body: &[u8]) -> Result<Decoded<Self>, DecodeError> {
        Ok(Decoded::exact(ByteStream(body.to_vec())))
    }

    /// The bytes in Base64.
    fn decode_value(body: &[u8]) -> Result<Decoded<Value>, DecodeError> {
        use base64::Engine as _;
        Ok(Decoded::exact(Value::String(base64::engine::general_purpose::STANDARD.encode(body))))
    }
}

/// Parses `body` and reads it leniently into `T` (see the module documentation): a value, with
/// every deviation from the documentation recorded. (The error is for a reader that cannot make
/// its own default; the generated ones always can.)
pub fn decode_json<T: JsonResponse>(body: &[u8]) -> Result<Decoded<T>, DecodeError> {
    let mut at = Reading::lenient();
    let value = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => {
            let documented = |name: &&str| object.get(*name).is_some_and(|v| !v.is_null());
            if T::ANY_REQUIRED && !T::MEMBERS.iter().any(documented) {
                at.deviate(|_| Deviation::undocumented());
                at.quietly_absent()
            } else {
                T::from_json(Value::Object(object), &mut at)
            }
        }
        Ok(other) => {
            at.deviate(|path| Deviation::mismatch(path, "expected an object", crate::report::kind_of(&other)));
            at.quietly_absent()
        }
        Err(error) => {
            at.deviate(|path| Deviation::mismatch(path, &format!("not JSON: {error}"), "text"));
            at.quietly_absent()
        }
    };
    Ok(Decoded { value: value?, deviations: at.into_deviations() })
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::tests::Amount;
    use crate::report::DeviationKind;
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
        fn to_json(&self, out: &mut Writing<'_>) -> Value {
            let mut object = Map::new();
            put(&mut object, "out_trade_no", &self.out_trade_no, out);
            put(&mut object, "notify_url", &self.notify_url, out);
            put(&mut object, "amount", &self.amount, out);
            put_optional(&mut object, "total_count", &self.total_count, out);
            put_optional(&mut object, "rate", &self.rate, out);
            put_optional(&mut object, "details", &self.details, out);
            Value::Object(object)
        }
    }

    impl JsonResponse for Order {
        const MEMBERS: &'static [&'static str] = &["out_trade_no", "notify_url", "amount", "total_count", "rate", "details"];
        const ANY_REQUIRED: bool = true;
    }

    fn paths(decoded: &Decoded<Order>) -> Vec<&str> {
        decoded.deviations.iter().map(|deviation| deviation.path.as_str()).collect()
    }

    #[test]
    fn absent_required_fields_get_defaults_and_are_recorded() {
        let decoded = decode_json::<Order>(br#"{"out_trade_no": "1217", "amount": {}}"#).unwrap();
        assert_eq!(paths(&decoded), ["notify_url", "amount.total"]);
        assert!(decoded.deviations.iter().all(|deviation| deviation.kind == DeviationKind::Absent));
        assert_eq!(decoded.value.notify_url, "");
        assert_eq!(decoded.value.amount.total, 0);
        assert_eq!(decoded.value.total_count, None, "optional fields stay absent");
        let decoded = decode_json::<Order>(br#"{"out_trade_no": "1217", "notify_url": null}"#).unwrap();
        assert_eq!(paths(&decoded), ["notify_url", "amount"], "a defaulted object's members are not listed again");
        assert_eq!(decoded.value.amount, Amount::default());
    }

    #[test]
    fn numbers_and_strings_are_read_across_exactly() {
        let decoded = decode_json::<Order>(
            br#"{"out_trade_no": 1217, "notify_url": "u", "amount": {"total": "100", "currency": 1},
               "total_count": 10.0, "rate": "6.5", "details": [{"total": " 7 "}]}"#,
        )
        .unwrap();
        assert!(decoded.deviations.is_empty(), "exact readings are not deviations: {:?}", decoded.deviations);
        let order = decoded.value;
        assert_eq!(order.out_trade_no, "1217");
        assert_eq!(order.amount, Amount { total: 100, currency: Some("1".into()) });
        assert_eq!(order.total_count, Some(10));
        assert_eq!(order.rate.map(|rate| rate.to_string()), Some("6.5".into()));
        assert_eq!(order.details, Some(vec![Amount { total: 7, currency: None }]));
    }

    #[test]
    fn a_body_without_any_documented_member_decodes_as_defaults_and_says_so() {
        let decoded = decode_json::<Order>(br#"{"unexpected": 1}"#).unwrap();
        assert_eq!(decoded.deviations, [Deviation::undocumented()], "one deviation, not one per member");
        assert_eq!(decoded.value.amount, Amount::default());
        let partial = decode_json::<Order>(br#"{"out_trade_no": "1217"}"#).unwrap();
        assert_eq!(paths(&partial), ["notify_url", "amount"]);
    }

    #[test]
    fn a_value_of_another_kind_is_defaulted_and_the_rest_is_read() {
        let decoded =
            decode_json::<Order>(br#"{"out_trade_no": "1", "amount": "x", "details": [{}, {"total": []}], "rate": {}}"#)
                .unwrap();
        let found: Vec<String> = decoded.deviations.iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            [
                "`notify_url`: required but absent (read as its default)",
                "`amount`: expected an object, found a string (read as its default)",
                "`rate`: expected a number, found an object (read as its default)",
                "`details[0].total`: required but absent (read as its default)",
                "`details[1].total`: expected an integer, found an array (read as its default)",
            ]
        );
        assert_eq!(decoded.value.out_trade_no, "1", "what fits is typed");
        assert_eq!(decoded.value.rate, None, "an optional member that does not read is absent");
        for body in [&b"[1]"[..], b"<html>", b""] {
            let decoded = decode_json::<Order>(body).unwrap();
            assert_eq!(paths(&decoded), [""], "{:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn decode_value_keeps_what_the_typed_value_holds() {
        let decoded = Order::decode_value(br#"{"out_trade_no": 1, "amount": {"total": "2"}, "extra": true}"#).unwrap();
        assert_eq!(decoded.value, serde_json::json!({"out_trade_no": "1", "notify_url": "", "amount": {"total": 2}}));
        assert_eq!(decoded.deviations, [Deviation::absent("notify_url".into())]);
    }
}
