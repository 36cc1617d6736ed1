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

use crate::from_json::{FromJson, Reader, Reading};
use crate::report::{DecodeError, Deviation};
use crate::to_json::ToJson;
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
    /// Whether the body is APIv2 XML (`<xml>…</xml>`) rather than JSON.
    const XML: bool = false;
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

/// Reads `body` leniently into `T` (see the module documentation): a value, with every deviation
/// from the documentation recorded. (The error is for a reader that cannot make its own default;
/// the generated ones always can.)
pub fn decode_json<T: JsonResponse>(body: &[u8]) -> Result<Decoded<T>, DecodeError> {
    if T::XML {
        return decode_xml(body);
    }
    read_document(body, Reading::lenient())
}

/// [`decode_json`] for an APIv2 body: the XML read into JSON (text members as strings, indexed
/// members gathered by the names `T` documents), then read leniently. Some APIv2 answers are
/// JSON (`retcode`, …): a body that is not XML is read as JSON.
fn decode_xml<T: JsonResponse>(body: &[u8]) -> Result<Decoded<T>, DecodeError> {
    if !crate::xml::looks_like_xml(body) {
        return read_document(body, Reading::lenient_xml());
    }
    match crate::xml::parse(body) {
        Ok(members) => {
            let json = crate::xml::to_json(members, T::MEMBERS);
            // Serialising a tree of strings, lists and objects cannot fail.
            let json = serde_json::to_vec(&json).map_err(|e| DecodeError::new("", e.to_string()))?;
            read_document(&json, Reading::lenient_xml())
        }
        Err(error) => {
            let mut at = Reading::lenient_xml();
            at.deviate(|_| Deviation::mismatch(String::new(), &error.to_string(), "text"));
            let value = at.quietly_absent()?;
            Ok(Decoded { value, deviations: at.into_deviations() })
        }
    }
}

/// Reads a JSON body into `T` with `at`: a body holding none of the documented members, or not an
/// object, or not JSON, reads as defaults, recorded.
fn read_document<T: JsonResponse>(body: &[u8], mut at: Reading) -> Result<Decoded<T>, DecodeError> {
    let mut reader = Reader::new(body, &mut at);
    let read = T::read(&mut reader).and_then(|value| reader.finish().map(|()| value));
    let value = match read {
        Ok(value) if !T::ANY_REQUIRED || at.found_documented() => value,
        // None of the documented members: not the documented answer (another variant, renamed
        // members). Its members' absences would say nothing more: one deviation says it all.
        Ok(_) => {
            at.forget_deviations();
            at.deviate(|_| Deviation::undocumented());
            at.quietly_absent()?
        }
        Err(error) => {
            at.forget_deviations();
            let found = if error.is_syntax() { "text" } else { "another kind" };
            at.deviate(|_| Deviation::mismatch(String::new(), error.message(), found));
            at.quietly_absent()?
        }
    };
    Ok(Decoded { value, deviations: at.into_deviations() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::from_json::tests::Amount;
    use crate::report::DeviationKind;
    use crate::to_json::{put, put_optional};
    use crate::values::Number;
    use crate::writing::Writing;
    use serde_json::Map;

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
        fn read(r: &mut Reader<'_, '_>) -> Result<Self, DecodeError> {
            fn member(key: &str) -> usize {
                match key {
                    "out_trade_no" => 0,
                    "notify_url" => 1,
                    "amount" => 2,
                    "total_count" => 3,
                    "rate" => 4,
                    "details" => 5,
                    _ => usize::MAX,
                }
            }
            let (mut out_trade_no, mut notify_url, mut amount) = (None, None, None);
            let (mut total_count, mut rate, mut details) = (None, None, None);
            let mut next = r.first_member(member)?;
            while let Some(index) = next {
                match index {
                    0 => r.member_required("out_trade_no", &mut out_trade_no)?,
                    1 => r.member_required("notify_url", &mut notify_url)?,
                    2 => r.member_required("amount", &mut amount)?,
                    3 => r.member("total_count", &mut total_count)?,
                    4 => r.member("rate", &mut rate)?,
                    5 => r.member("details", &mut details)?,
                    _ => r.skip()?,
                }
                next = r.next_member(member)?;
            }
            Ok(Order {
                out_trade_no: r.required(out_trade_no, "out_trade_no")?,
                notify_url: r.required(notify_url, "notify_url")?,
                amount: r.required(amount, "amount")?,
                total_count,
                rate,
                details,
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
        const MEMBERS: &'static [&'static str] =
            &["out_trade_no", "notify_url", "amount", "total_count", "rate", "details"];
        const ANY_REQUIRED: bool = true;
    }

    fn paths(decoded: &Decoded<Order>) -> Vec<&str> {
        decoded.deviations.iter().map(|deviation| deviation.path.as_str()).collect()
    }

    #[test]
    fn absent_required_fields_get_defaults_and_are_recorded() {
        let decoded = decode_json::<Order>(br#"{"out_trade_no": "1217", "amount": {}}"#).unwrap();
        assert_eq!(paths(&decoded), ["amount.total", "notify_url"], "in reading order");
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
        let decoded = decode_json::<Order>(
            br#"{"out_trade_no": "1", "amount": "x", "details": [{}, {"total": []}], "rate": {}}"#,
        )
        .unwrap();
        let found: Vec<String> = decoded.deviations.iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            [
                "`amount`: expected an object, found a string (read as its default)",
                "`details[0].total`: required but absent (read as its default)",
                "`details[1].total`: expected an integer, found an array (read as its default)",
                "`rate`: expected a number, found an object (read as its default)",
                "`notify_url`: required but absent (read as its default)",
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
