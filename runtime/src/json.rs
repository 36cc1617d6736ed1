//! Generated types to and from JSON values, one line per field written out by the generator.
//!
//! Why not `#[derive(Serialize, Deserialize)]`: over a thousand operations, serde's generic
//! visitors were most of the time `cargo check` spent on the generated crate; these conversions
//! are small non-generic functions over `serde_json::Value`, and name the JSON path of whatever
//! does not convert. Whole responses and notification payloads (and enums) also implement serde's
//! traits, through [`json_serde!`]; the structures inside them convert with these traits alone.
//!
//! Reading is strict (requests built from JSON, serde's `Deserialize`) or lenient (what the
//! service sends, see [`Decode`](crate::Decode)); the lenient corrections happen here, in the one
//! pass that converts, and the JSON path is only written out when an error or a defaulted field
//! needs it (a path string per field was a third of a response's decoding time).

use serde_json::{Map, Value};

use crate::report::{kind_of, DecodeError, Deviation};
use crate::values::{Encrypted, File, JsonEncoded, Number, Sensitive, UrlEncoded};
use crate::writing::Writing;

/// A value read from JSON.
pub trait FromJson: Sized {
    fn from_json(value: Value, at: &mut Reading) -> Result<Self, DecodeError>;

    /// What a required member the service left out reads as (lenient reading only): by default
    /// what an empty object reads as, i.e. a structure whose own required members are defaulted.
    fn absent(at: &mut Reading) -> Result<Self, DecodeError> {
        Self::from_json(Value::Object(Map::new()), at)
    }
}

/// A value written as JSON; sensitive values sealed by `out` (see [`Writing`]).
pub trait ToJson {
    fn to_json(&self, out: &mut Writing<'_>) -> Value;
}

/// How a value is being read: where (its JSON path, for errors), how strictly, and, reading
/// leniently, where the value deviated from the documentation (see [`Deviation`]).
#[derive(Debug, Default)]
pub struct Reading {
    steps: Vec<Step>,
    lenient: bool,
    /// Inside a defaulted value: its own defaulted members are not recorded again.
    quiet: usize,
    /// Reading APIv2 XML, where a list of one element is that element alone.
    xml: bool,
    /// Inside a URL-encoded string, whose members are all text: numbers and booleans are read
    /// from their text exactly, however strict the reading.
    text: usize,
    deviations: Vec<Deviation>,
}

#[derive(Debug)]
enum Step {
    Key(&'static str),
    Index(usize),
}

impl Reading {
    /// As documented: a missing required member or a value of another type is an error.
    pub fn strict() -> Self {
        Reading::default()
    }

    /// As the service sends it: the corrections [`Decode`](crate::Decode) describes.
    pub fn lenient() -> Self {
        Reading { lenient: true, ..Reading::default() }
    }

    /// As [`lenient`](Self::lenient), for what was read from APIv2 XML (see
    /// [`xml::to_json`](crate::xml::to_json)): one element where a list belongs is a list of one
    /// (XML has no lists, only repeated elements).
    pub fn lenient_xml() -> Self {
        Reading { lenient: true, xml: true, ..Reading::default() }
    }

    /// The JSON path being read (`amount.total`, `data[2].state`; empty for the value itself).
    pub fn path(&self) -> String {
        let mut path = String::new();
        for step in &self.steps {
            match step {
                Step::Key(key) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                }
                Step::Index(index) => {
                    path.push('[');
                    path.push_str(&index.to_string());
                    path.push(']');
                }
            }
        }
        path
    }

    /// An error at the path being read.
    pub fn error(&self, message: impl Into<String>) -> DecodeError {
        DecodeError::new(self.path(), message)
    }

    /// Where the value deviated from the documentation, in reading order.
    pub fn into_deviations(self) -> Vec<Deviation> {
        self.deviations
    }

    /// Records a deviation at the path being read (unless inside a defaulted value).
    pub(crate) fn deviate(&mut self, make: impl FnOnce(String) -> Deviation) {
        if self.quiet == 0 {
            let deviation = make(self.path());
            self.deviations.push(deviation);
        }
    }

    /// `T`'s default for a value that is not there (or not usable), its own members not recorded.
    pub(crate) fn quietly_absent<T: FromJson>(&mut self) -> Result<T, DecodeError> {
        self.quiet += 1;
        let value = T::absent(self);
        self.quiet -= 1;
        value
    }

    /// Reads `value` as `T`. Leniently, a value that does not read as `T` (an array where an
    /// object belongs, a word where a number does, JSON text that is not JSON) is recorded with
    /// what arrived and read as `T`'s default: a verified answer always decodes.
    fn read<T: FromJson>(&mut self, value: Value) -> Result<T, DecodeError> {
        match self.read_optional(value)? {
            Some(read) => Ok(read),
            None => self.quietly_absent(),
        }
    }

    /// [`read`](Self::read) for an optional member, which is `None` when it does not read.
    fn read_optional<T: FromJson>(&mut self, value: Value) -> Result<Option<T>, DecodeError> {
        if !self.lenient {
            return T::from_json(value, self).map(Some);
        }
        let found = kind_of(&value);
        match T::from_json(value, self) {
            Ok(read) => Ok(Some(read)),
            Err(error) => {
                self.deviate(|path| Deviation::mismatch(path, error.message(), found));
                Ok(None)
            }
        }
    }

    /// Whether text may stand for a number or a boolean here.
    fn reads_text(&self) -> bool {
        self.lenient || self.text > 0
    }

    fn within<T>(&mut self, step: Step, read: impl FnOnce(&mut Self) -> T) -> T {
        self.steps.push(step);
        let result = read(self);
        self.steps.pop();
        result
    }

    fn expected(&self, what: &str, found: &Value) -> DecodeError {
        self.error(format!("expected {what}, found {}", kind_of(found)))
    }

    fn absent<T: FromJson>(&mut self) -> Result<T, DecodeError> {
        if !self.lenient {
            return Err(self.error("missing required field"));
        }
        self.deviate(Deviation::absent);
        self.quietly_absent()
    }
}

/// The members of an object.
pub fn object(value: Value, at: &Reading) -> Result<Map<String, Value>, DecodeError> {
    match value {
        Value::Object(object) => Ok(object),
        other => Err(at.expected("an object", &other)),
    }
}

/// A required member, taken out of the object. Absent (or `null`) is an error when reading
/// strictly, and its type's default when reading leniently (its path recorded).
pub fn take<T: FromJson>(
    object: &mut Map<String, Value>,
    name: &'static str,
    at: &mut Reading,
) -> Result<T, DecodeError> {
    at.within(Step::Key(name), |at| match object.remove(name) {
        None | Some(Value::Null) => at.absent(),
        Some(value) => at.read(value),
    })
}

/// An optional member, taken out of the object (absent or `null` is `None`). Leniently, one that
/// does not read as `T` is recorded and is `None`.
pub fn take_optional<T: FromJson>(
    object: &mut Map<String, Value>,
    name: &'static str,
    at: &mut Reading,
) -> Result<Option<T>, DecodeError> {
    match object.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => at.within(Step::Key(name), |at| at.read_optional(value)),
    }
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

/// Leniently, numbers and booleans are read as their text.
impl FromJson for String {
    fn from_json(value: Value, at: &mut Reading) -> Result<Self, DecodeError> {
        match value {
            Value::String(text) => Ok(text),
            Value::Number(n) if at.lenient => Ok(n.to_string()),
            Value::Bool(b) if at.lenient => Ok(b.to_string()),
            other => Err(at.expected("a string", &other)),
        }
    }

    fn absent(_at: &mut Reading) -> Result<Self, DecodeError> {
        Ok(String::new())
    }
}

impl ToJson for String {
    fn to_json(&self, _out: &mut Writing<'_>) -> Value {
        Value::String(self.clone())
    }
}

/// Leniently, numeric strings (`"10"`) and integral floats (`10.0`) are read as integers.
impl FromJson for i64 {
    fn from_json(value: Value, at: &mut Reading) -> Result<Self, DecodeError> {
        let read = match &value {
            Value::Number(n) => n.as_i64().or_else(|| {
                n.as_f64().filter(|f| at.lenient && f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64)
            }),
            Value::String(text) if at.reads_text() => text.trim().parse().ok(),
            _ => None,
        };
        read.ok_or_else(|| at.expected("an integer", &value))
    }

    fn absent(_at: &mut Reading) -> Result<Self, DecodeError> {
        Ok(0)
    }
}

impl ToJson for i64 {
    fn to_json(&self, _out: &mut Writing<'_>) -> Value {
        Value::from(*self)
    }
}

/// Leniently, `"true"` and `"false"` are read as booleans.
impl FromJson for bool {
    fn from_json(value: Value, at: &mut Reading) -> Result<Self, DecodeError> {
        match value {
            Value::Bool(b) => Ok(b),
            Value::String(text) if at.reads_text() && text == "true" => Ok(true),
            Value::String(text) if at.reads_text() && text == "false" => Ok(false),
            other => Err(at.expected("a boolean", &other)),
        }
    }

    fn absent(_at: &mut Reading) -> Result<Self, DecodeError> {
        Ok(false)
    }
}

impl ToJson for bool {
    fn to_json(&self, _out: &mut Writing<'_>) -> Value {
        Value::Bool(*self)
    }
}

/// Leniently, numeric strings (`"6.5"`) are read as numbers.
impl FromJson for Number {
    fn from_json(value: Value, at: &mut Reading) -> Result<Self, DecodeError> {
        match value {
            Value::Number(n) => Ok(Number::from_json_number(n)),
            Value::String(text) if at.reads_text() => match serde_json::from_str::<serde_json::Number>(text.trim()) {
                Ok(n) => Ok(Number::from_json_number(n)),
                Err(_) => Err(at.expected("a number", &Value::String(text))),
            },
            other => Err(at.expected("a number", &other)),
        }
    }

    fn absent(_at: &mut Reading) -> Result<Self, DecodeError> {
        Ok(Number::from_json_number(0.into()))
    }
}

impl ToJson for Number {
    fn to_json(&self, _out: &mut Writing<'_>) -> Value {
        Value::Number(self.as_json_number().clone())
    }
}

impl FromJson for Sensitive {
    fn from_json(value: Value, at: &mut Reading) -> Result<Self, DecodeError> {
        String::from_json(value, at).map(Sensitive::new)
    }

    fn absent(_at: &mut Reading) -> Result<Self, DecodeError> {
        Ok(Sensitive::new(String::new()))
    }
}

/// Its ciphertext, sealed by `out`: never the plain text.
impl ToJson for Sensitive {
    fn to_json(&self, out: &mut Writing<'_>) -> Value {
        Value::String(out.seal(self.expose()))
    }
}

impl FromJson for Encrypted {
    fn from_json(value: Value, at: &mut Reading) -> Result<Self, DecodeError> {
        String::from_json(value, at).map(Encrypted::new)
    }

    fn absent(_at: &mut Reading) -> Result<Self, DecodeError> {
        Ok(Encrypted::new(String::new()))
    }
}

impl ToJson for Encrypted {
    fn to_json(&self, _out: &mut Writing<'_>) -> Value {
        Value::String(self.ciphertext().to_owned())
    }
}

impl FromJson for Value {
    fn from_json(value: Value, _at: &mut Reading) -> Result<Self, DecodeError> {
        Ok(value)
    }

    fn absent(_at: &mut Reading) -> Result<Self, DecodeError> {
        Ok(Value::Null)
    }
}

impl ToJson for Value {
    fn to_json(&self, _out: &mut Writing<'_>) -> Value {
        self.clone()
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(value: Value, at: &mut Reading) -> Result<Self, DecodeError> {
        let value = match value {
            Value::Array(_) | Value::Null => value,
            single if at.xml => Value::Array(vec![single]),
            other => other,
        };
        match value {
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(index, item)| at.within(Step::Index(index), |at| at.read(item)))
                .collect(),
            other => Err(at.expected("an array", &other)),
        }
    }

    fn absent(_at: &mut Reading) -> Result<Self, DecodeError> {
        Ok(Vec::new())
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self, out: &mut Writing<'_>) -> Value {
        Value::Array(self.iter().map(|item| item.to_json(out)).collect())
    }
}

impl<T: FromJson> FromJson for JsonEncoded<T> {
    fn from_json(value: Value, at: &mut Reading) -> Result<Self, DecodeError> {
        let text = String::from_json(value, at)?;
        let inner: Value =
            serde_json::from_str(&text).map_err(|e| at.error(format!("the JSON inside the string: {e}")))?;
        T::from_json(inner, at).map(JsonEncoded)
    }

    fn absent(at: &mut Reading) -> Result<Self, DecodeError> {
        T::absent(at).map(JsonEncoded)
    }
}

impl<T: ToJson> ToJson for JsonEncoded<T> {
    fn to_json(&self, out: &mut Writing<'_>) -> Value {
        Value::String(self.0.to_json(out).to_string())
    }
}

/// The members of a URL-encoded string are text: a member documented as a number or a boolean is
/// read from its text (exactly, strictly or not).
impl<T: FromJson> FromJson for UrlEncoded<T> {
    fn from_json(value: Value, at: &mut Reading) -> Result<Self, DecodeError> {
        let text = String::from_json(value, at)?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(&text).map_err(|e| at.error(format!("the URL-encoded string: {e}")))?;
        let object = pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        at.text += 1;
        let read = T::from_json(Value::Object(object), at);
        at.text -= 1;
        read.map(UrlEncoded)
    }

    fn absent(at: &mut Reading) -> Result<Self, DecodeError> {
        T::absent(at).map(UrlEncoded)
    }
}

impl<T: ToJson> ToJson for UrlEncoded<T> {
    fn to_json(&self, out: &mut Writing<'_>) -> Value {
        Value::String(url_encode(self.0.to_json(out)))
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

/// As JSON (for requests built from JSON through the registry): the name, the content type and
/// the bytes in Base64.
impl FromJson for File {
    fn from_json(value: Value, at: &mut Reading) -> Result<Self, DecodeError> {
        use base64::Engine as _;
        let mut object = object(value, at)?;
        let filename: String = take(&mut object, "filename", at)?;
        let content_type: Option<String> = take_optional(&mut object, "content_type", at)?;
        let encoded: String = take(&mut object, "base64", at)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| at.within(Step::Key("base64"), |at| at.error(e.to_string())))?;
        let mut file = File::new(filename, bytes);
        if let Some(content_type) = content_type {
            file.content_type = content_type;
        }
        Ok(file)
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

/// Implements serde's `Serialize` and `Deserialize` for a generated type through its [`ToJson`]
/// and [`FromJson`]: `serde_json::from_str::<Response>(…)` builds a response in a test, and any
/// value can be logged or stored as JSON.
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
                $crate::FromJson::from_json(value, &mut $crate::Reading::strict())
                    .map_err(<D::Error as $crate::__private::serde::de::Error>::custom)
            }
        }
    };
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// A structure as the generator writes it (also for `decode`'s tests).
    #[derive(Debug, Default, PartialEq)]
    pub(crate) struct Amount {
        pub(crate) total: i64,
        pub(crate) currency: Option<String>,
    }

    impl FromJson for Amount {
        fn from_json(value: Value, at: &mut Reading) -> Result<Self, DecodeError> {
            let mut object = object(value, at)?;
            Ok(Amount { total: take(&mut object, "total", at)?, currency: take_optional(&mut object, "currency", at)? })
        }
    }

    impl ToJson for Amount {
        fn to_json(&self, out: &mut Writing<'_>) -> Value {
            let mut object = Map::new();
            put(&mut object, "total", &self.total, out);
            put_optional(&mut object, "currency", &self.currency, out);
            Value::Object(object)
        }
    }

    #[test]
    fn a_missing_or_mistyped_member_names_its_path() {
        let read = |value: Value| Vec::<Amount>::from_json(value, &mut Reading::strict());
        let error = read(json!([{ "total": 1 }, { "total": "ten" }])).unwrap_err();
        assert_eq!(error.to_string(), "`[1].total`: expected an integer, found a string");
        let error = read(json!([{ "total": null, "currency": "CNY" }])).unwrap_err();
        assert_eq!(error.to_string(), "`[0].total`: missing required field");
        let error = read(json!([{ "total": 1, "currency": 7 }])).unwrap_err();
        assert_eq!(error.path(), "[0].currency", "strictly, a number is not a string");
        assert_eq!(read(json!([{ "total": 1, "currency": null }])).unwrap(), [Amount { total: 1, currency: None }]);
        assert_eq!(read(json!({})).unwrap_err().to_string(), "the body: expected an array, found an object");
    }

    #[test]
    fn leniently_absent_members_are_defaulted_once_and_recorded() {
        let mut at = Reading::lenient();
        let amounts = Vec::<Amount>::from_json(json!([{ "total": "12", "currency": 1 }, {}]), &mut at).unwrap();
        assert_eq!(amounts, [Amount { total: 12, currency: Some("1".into()) }, Amount { total: 0, currency: None }]);
        assert_eq!(at.into_deviations(), [Deviation::absent("[1].total".into())]);
        assert_eq!(i64::from_json(json!(10.0), &mut Reading::lenient()), Ok(10));
        assert!(i64::from_json(json!(10.5), &mut Reading::lenient()).is_err());
        assert!(i64::from_json(json!(10.0), &mut Reading::strict()).is_err());
        assert_eq!(bool::from_json(json!("true"), &mut Reading::lenient()), Ok(true));
        assert!(bool::from_json(json!("yes"), &mut Reading::lenient()).is_err());
    }

    #[test]
    fn leniently_a_value_of_another_kind_is_defaulted_and_recorded_with_what_arrived() {
        let mut at = Reading::lenient();
        let amounts = Vec::<Amount>::from_json(
            json!([{ "total": "ten" }, [1, 2], { "total": 3, "currency": { "code": "CNY" } }, "x"]),
            &mut at,
        )
        .unwrap();
        let expected = [
            Amount { total: 0, currency: None },
            Amount::default(),
            Amount { total: 3, currency: None },
            Amount::default(),
        ];
        assert_eq!(amounts, expected);
        let deviations: Vec<String> = at.into_deviations().iter().map(ToString::to_string).collect();
        assert_eq!(
            deviations,
            [
                "`[0].total`: expected an integer, found a string (read as its default)",
                "`[1]`: expected an object, found an array (read as its default)",
                "`[2].currency`: expected a string, found an object (read as its default)",
                "`[3]`: expected an object, found a string (read as its default)",
            ]
        );
        let mut at = Reading::lenient();
        let encoded = JsonEncoded::<Amount>::from_json(json!("{not json"), &mut at);
        assert!(encoded.is_err(), "a value that does not read is its reader's error; the member around it records it");
    }

    #[test]
    fn structures_inside_strings_round_trip() {
        let encoded = JsonEncoded(json!({ "b": 1, "a": [true] }));
        let text = encoded.to_json(&mut Writing::unsealed());
        assert_eq!(text, Value::String(r#"{"b":1,"a":[true]}"#.to_owned()), "member order is kept");
        assert_eq!(JsonEncoded::<Value>::from_json(text, &mut Reading::strict()).unwrap(), encoded);
        let url = UrlEncoded(json!({ "name": "a b", "n": 2 }));
        assert_eq!(url.to_json(&mut Writing::unsealed()), Value::String("name=a+b&n=2".to_owned()));
    }
}
