//! Reading generated types from JSON text, one member at a time.
//!
//! Why not `#[derive(Deserialize)]`: over a thousand operations, serde's generic visitors were most
//! of the time `cargo check` spent on the generated crate; these readers are small non-generic
//! functions. Why not through `serde_json::Value`: building the tree (with member order kept) was
//! two thirds of a response's decoding time. The generated code reads straight from the bytes with
//! a pull parser ([jiter](https://docs.rs/jiter), pydantic's: well kept, with a pull API that hands
//! numbers over as their text and untyped values as their raw bytes), matching each key to a member
//! and skipping the rest.
//!
//! Reading is strict (requests built from JSON, serde's `Deserialize`) or lenient (what the service
//! sends, see [`Decode`](crate::Decode)); the lenient corrections happen here, in the one pass that
//! reads, and the JSON path is only written out when an error or a deviation needs it.

use std::borrow::Cow;

use jiter::{Jiter, JiterError, Peek};
use serde_json::{Map, Value};

use crate::report::{DecodeError, Deviation};
use crate::time_format::TimeFormat;
use crate::values::{Encrypted, File, JsonEncoded, Number, Sensitive, UrlEncoded};

/// A value read from JSON.
pub trait FromJson: Sized {
    /// Reads one value at the reader's position. A value of another JSON kind is refused before
    /// anything of it is consumed, so that a lenient reader can skip it whole.
    fn read(r: &mut Reader<'_, '_>) -> Result<Self, DecodeError>;

    /// What a required member the service left out reads as (lenient reading only): by default
    /// what an empty object reads as, i.e. a structure whose own required members are defaulted.
    fn absent(at: &mut Reading) -> Result<Self, DecodeError> {
        Self::read(&mut Reader::new(b"{}", at))
    }
}

/// How values are being read: where (their JSON path, for errors), how strictly, and, reading
/// leniently, where they deviated from the documentation (see [`Deviation`]).
#[derive(Debug, Default)]
pub struct Reading {
    steps: Vec<Step>,
    lenient: bool,
    /// Inside a defaulted value: its own defaulted members are not recorded again.
    quiet: usize,
    deviations: Vec<Deviation>,
    /// Whether the top-level object held a documented member (not `null`).
    documented: bool,
    /// Reading APIv2 XML, where a list of one element is that element alone.
    xml: bool,
    /// Inside a URL-encoded string, whose members are all text: numbers and booleans are read
    /// from their text exactly, however strict the reading.
    text: usize,
    /// The documented format of the time being read (see [`Reader::member_time`]).
    format: Option<TimeFormat>,
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

    /// The documented format of the time being read, if it is one.
    pub(crate) fn format(&self) -> Option<TimeFormat> {
        self.format
    }

    /// Reads with `format` as the documented format of the time (or list of times) being read
    /// (what [`Reader::member_time`] does for a member).
    #[cfg(test)]
    pub(crate) fn with_format<T>(&mut self, format: Option<TimeFormat>, read: impl FnOnce(&mut Self) -> T) -> T {
        let outer = std::mem::replace(&mut self.format, format);
        let result = read(self);
        self.format = outer;
        result
    }

    /// Whether values are read as the service sends them (see [`lenient`](Self::lenient)).
    pub(crate) fn is_lenient(&self) -> bool {
        self.lenient
    }

    /// An error at the path being read.
    pub fn error(&self, message: impl Into<String>) -> DecodeError {
        DecodeError::new(self.path(), message)
    }

    /// Where the values deviated from the documentation, in reading order.
    pub fn into_deviations(self) -> Vec<Deviation> {
        self.deviations
    }

    /// Whether the top-level object read held a documented member.
    pub(crate) fn found_documented(&self) -> bool {
        self.documented
    }

    /// Forgets what was recorded (the whole body deviates instead).
    pub(crate) fn forget_deviations(&mut self) {
        self.deviations.clear();
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

    /// A required member that is absent (or `null`): an error when reading strictly; leniently,
    /// its default, recorded.
    fn absent<T: FromJson>(&mut self) -> Result<T, DecodeError> {
        if !self.lenient {
            return Err(self.error("missing required field"));
        }
        self.deviate(Deviation::absent);
        self.quietly_absent()
    }
}

/// A JSON text being read, and the [`Reading`] it is read for. Generated readers call its
/// methods; they are not meant to be called by hand.
pub struct Reader<'a, 'r> {
    json: Jiter<'a>,
    at: &'r mut Reading,
}

impl<'a, 'r> Reader<'a, 'r> {
    /// A reader of `json`, for `at`.
    pub fn new(json: &'a [u8], at: &'r mut Reading) -> Self {
        Reader { json: Jiter::new(json), at }
    }

    /// The reading state (path, strictness, deviations).
    pub fn reading(&mut self) -> &mut Reading {
        self.at
    }

    fn is_lenient(&self) -> bool {
        self.at.lenient
    }

    /// Whether text may stand for a number or a boolean here.
    fn reads_text(&self) -> bool {
        self.at.lenient || self.at.text > 0
    }

    /// The error for a parser failure at the path being read: the text is not JSON (or ends
    /// early), and reading cannot go on. (Kinds are checked by peeking before each value is read,
    /// so the parser never meets a value of a kind it was not asked for.)
    fn parse_error(&self, error: JiterError) -> DecodeError {
        syntax(self.at, error)
    }

    fn peek(&mut self) -> Result<Peek, DecodeError> {
        self.json.peek().map_err(|error| self.parse_error(error))
    }

    /// `expected …, found …` for the value about to be read (nothing consumed).
    fn expected(&self, what: &str, found: Peek) -> DecodeError {
        self.at.error(format!("expected {what}, found {}", kind(found)))
    }

    /// Skips the value at the reader's position.
    pub fn skip(&mut self) -> Result<(), DecodeError> {
        self.json.next_skip().map_err(|error| self.parse_error(error))
    }

    /// Opens the object at the reader's position and gives its first key to `member` (which
    /// numbers the keys its type documents); `None` for an empty object. Anything but an object is
    /// refused before it is consumed.
    pub fn first_member(&mut self, member: fn(&str) -> usize) -> Result<Option<usize>, DecodeError> {
        let peek = self.peek()?;
        if peek != Peek::Object {
            return Err(self.expected("an object", peek));
        }
        let key = self.json.known_object().map_err(|error| syntax(self.at, error))?;
        Ok(key.map(member))
    }

    /// The next key of the object being read, given to `member`; `None` at its end.
    pub fn next_member(&mut self, member: fn(&str) -> usize) -> Result<Option<usize>, DecodeError> {
        let key = self.json.next_key().map_err(|error| syntax(self.at, error))?;
        Ok(key.map(member))
    }

    /// An optional member's value, into `slot`: `null` is `None`; leniently, a value that does not
    /// read as `T` is recorded with what arrived, and is `None`. (Into a slot rather than returned:
    /// a generated reader then checks one `Result` per member read, not one per member it has;
    /// the generated crate checks about a tenth faster.)
    pub fn member<T: FromJson>(&mut self, name: &'static str, slot: &mut Option<T>) -> Result<(), DecodeError> {
        *slot = self.within(Step::Key(name), |r| r.value(false))?;
        Ok(())
    }

    /// A required member's value, into `slot`: `null` is `None` (see [`required`](Self::required));
    /// leniently, a value that does not read as `T` is recorded with what arrived and read as its
    /// default.
    pub fn member_required<T: FromJson>(
        &mut self,
        name: &'static str,
        slot: &mut Option<T>,
    ) -> Result<(), DecodeError> {
        *slot = self.within(Step::Key(name), |r| r.value(true))?;
        Ok(())
    }

    /// An optional member holding a time (or times) documented in `format` (see
    /// [`DateTime`](crate::DateTime)), into `slot`.
    pub fn member_time<T: FromJson>(
        &mut self,
        name: &'static str,
        format: TimeFormat,
        slot: &mut Option<T>,
    ) -> Result<(), DecodeError> {
        *slot = self.in_format(format, |r| r.within(Step::Key(name), |r| r.value(false)))?;
        Ok(())
    }

    /// A required member holding a time (or times) documented in `format`, into `slot`.
    pub fn member_time_required<T: FromJson>(
        &mut self,
        name: &'static str,
        format: TimeFormat,
        slot: &mut Option<T>,
    ) -> Result<(), DecodeError> {
        *slot = self.in_format(format, |r| r.within(Step::Key(name), |r| r.value(true)))?;
        Ok(())
    }

    /// Runs `read` with `format` as the documented format of the time being read.
    fn in_format<T>(&mut self, format: TimeFormat, read: impl FnOnce(&mut Self) -> T) -> T {
        let outer = self.at.format.replace(format);
        let result = read(self);
        self.at.format = outer;
        result
    }

    /// The value of a required member once the object is read: absent (or `null`) is an error
    /// when reading strictly, and its type's default when reading leniently (its path recorded).
    pub fn required<T: FromJson>(&mut self, value: Option<T>, name: &'static str) -> Result<T, DecodeError> {
        match value {
            Some(value) => Ok(value),
            None => {
                self.at.steps.push(Step::Key(name));
                let value = self.at.absent();
                self.at.steps.pop();
                value
            }
        }
    }

    /// A group of alternatives once the object is read (`set`, in the order of `names`): read
    /// strictly, one of them is required; an answer read leniently is taken as it is.
    pub fn one_of(&mut self, set: &[bool], names: &[&str]) -> Result<(), DecodeError> {
        if self.at.lenient || set.contains(&true) {
            return Ok(());
        }
        let listed: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
        Err(self.at.error(format!("one of {} is required", listed.join(", "))))
    }

    fn within<T>(&mut self, step: Step, read: impl FnOnce(&mut Self) -> T) -> T {
        self.at.steps.push(step);
        let result = read(self);
        self.at.steps.pop();
        result
    }

    /// The value at the reader's position (the path already pushed).
    fn value<T: FromJson>(&mut self, required: bool) -> Result<Option<T>, DecodeError> {
        let peek = self.peek()?;
        if peek == Peek::Null {
            self.json.known_null().map_err(|error| self.parse_error(error))?;
            return Ok(None);
        }
        if self.at.steps.len() == 1 {
            self.at.documented = true;
        }
        if !self.is_lenient() {
            return T::read(self).map(Some);
        }
        let start = self.json.current_index();
        match T::read(self) {
            Ok(read) => Ok(Some(read)),
            Err(error) if error.is_syntax() => Err(error),
            Err(error) => {
                // A reader refuses a value of another kind before consuming it: skip it whole.
                if self.json.current_index() == start {
                    self.skip()?;
                }
                self.at.deviate(|path| Deviation::mismatch(path, error.message(), kind(peek)));
                if required {
                    self.at.quietly_absent().map(Some)
                } else {
                    Ok(None)
                }
            }
        }
    }

    /// A string's text (escapes decoded), or the refusal of another kind.
    fn text(&mut self, what: &str) -> Result<Cow<'_, str>, DecodeError> {
        let peek = self.peek()?;
        if peek != Peek::String {
            return Err(self.expected(what, peek));
        }
        match self.json.known_str() {
            Ok(text) => Ok(Cow::Borrowed(text)),
            Err(error) => Err(DecodeError::syntax(self.at.path(), format!("not JSON: {}", error.error_type))),
        }
    }

    /// A number's exact text.
    fn number_text(&mut self, peek: Peek) -> Result<String, DecodeError> {
        self.number_with(peek, str::to_owned)
    }

    /// `read` of a number's exact text, borrowed from the input (nothing allocated).
    fn number_with<T>(&mut self, peek: Peek, read: impl FnOnce(&str) -> T) -> Result<T, DecodeError> {
        match self.json.known_number_bytes(peek) {
            // jiter has checked the bytes are a JSON number: ASCII digits, sign, point, exponent.
            Ok(bytes) => Ok(read(std::str::from_utf8(bytes).unwrap_or_default())),
            Err(error) => Err(self.parse_error(error)),
        }
    }

    /// After the value: nothing but whitespace may follow.
    pub(crate) fn finish(&mut self) -> Result<(), DecodeError> {
        self.json.finish().map_err(|error| DecodeError::syntax("", format!("not JSON: {}", error.error_type)))
    }
}

/// The text is not JSON (or ends early) at the path being read: reading cannot go on.
fn syntax(at: &Reading, error: JiterError) -> DecodeError {
    DecodeError::syntax(at.path(), format!("not JSON: {}", error.error_type))
}

/// What a JSON value about to be read is, for messages: `a string`, `an object`, …
fn kind(peek: Peek) -> &'static str {
    match peek {
        Peek::Null => "null",
        Peek::True | Peek::False => "a boolean",
        Peek::String => "a string",
        Peek::Array => "an array",
        Peek::Object => "an object",
        _ if peek.is_num() => "a number",
        _ => "something else",
    }
}

/// Leniently, numbers and booleans are read as their text.
impl FromJson for String {
    fn read(r: &mut Reader<'_, '_>) -> Result<Self, DecodeError> {
        let peek = r.peek()?;
        match peek {
            Peek::String => r.text("a string").map(Cow::into_owned),
            Peek::True | Peek::False if r.is_lenient() => {
                r.json.known_bool(peek).map(|b| b.to_string()).map_err(|error| r.parse_error(error))
            }
            _ if peek.is_num() && r.is_lenient() => r.number_text(peek),
            _ => Err(r.expected("a string", peek)),
        }
    }

    fn absent(_at: &mut Reading) -> Result<Self, DecodeError> {
        Ok(String::new())
    }
}

/// Leniently, numeric strings (`"10"`) and integral floats (`10.0`) are read as integers.
impl FromJson for i64 {
    fn read(r: &mut Reader<'_, '_>) -> Result<Self, DecodeError> {
        let peek = r.peek()?;
        let lenient = r.is_lenient();
        let (text, read) = match peek {
            _ if peek.is_num() => {
                let read = r.number_with(peek, |text| {
                    text.parse::<i64>().ok().or_else(|| {
                        let float = text.parse::<f64>().ok()?;
                        (lenient && float.fract() == 0.0 && float.abs() < 9.0e15).then_some(float as i64)
                    })
                })?;
                ("a number", read)
            }
            Peek::String if r.reads_text() => {
                let read = r.text("an integer")?.trim().parse().ok();
                ("a string", read)
            }
            _ => return Err(r.expected("an integer", peek)),
        };
        read.ok_or_else(|| r.at.error(format!("expected an integer, found {text}")))
    }

    fn absent(_at: &mut Reading) -> Result<Self, DecodeError> {
        Ok(0)
    }
}

/// Leniently, `"true"` and `"false"` are read as booleans.
impl FromJson for bool {
    fn read(r: &mut Reader<'_, '_>) -> Result<Self, DecodeError> {
        let peek = r.peek()?;
        match peek {
            Peek::True | Peek::False => r.json.known_bool(peek).map_err(|error| r.parse_error(error)),
            Peek::String if r.reads_text() => {
                let read = match &*r.text("a boolean")? {
                    "true" => Some(true),
                    "false" => Some(false),
                    _ => None,
                };
                read.ok_or_else(|| r.at.error("expected a boolean, found a string"))
            }
            _ => Err(r.expected("a boolean", peek)),
        }
    }

    fn absent(_at: &mut Reading) -> Result<Self, DecodeError> {
        Ok(false)
    }
}

/// Read from its text, as `serde_json` reads numbers. Leniently, numeric strings (`"6.5"`) are
/// read as numbers.
impl FromJson for Number {
    fn read(r: &mut Reader<'_, '_>) -> Result<Self, DecodeError> {
        let peek = r.peek()?;
        let text = match peek {
            _ if peek.is_num() => r.number_text(peek)?,
            Peek::String if r.reads_text() => r.text("a number")?.trim().to_owned(),
            _ => return Err(r.expected("a number", peek)),
        };
        serde_json::from_str::<serde_json::Number>(&text)
            .map(Number::from_json_number)
            .map_err(|_| r.at.error(format!("expected a number, found {}", kind(peek))))
    }

    fn absent(_at: &mut Reading) -> Result<Self, DecodeError> {
        Ok(Number::from_json_number(0.into()))
    }
}

impl FromJson for Sensitive {
    fn read(r: &mut Reader<'_, '_>) -> Result<Self, DecodeError> {
        String::read(r).map(Sensitive::new)
    }

    fn absent(_at: &mut Reading) -> Result<Self, DecodeError> {
        Ok(Sensitive::new(String::new()))
    }
}

impl FromJson for Encrypted {
    fn read(r: &mut Reader<'_, '_>) -> Result<Self, DecodeError> {
        String::read(r).map(Encrypted::new)
    }

    fn absent(_at: &mut Reading) -> Result<Self, DecodeError> {
        Ok(Encrypted::new(String::new()))
    }
}

/// Untyped JSON, as sent (member order kept).
impl FromJson for Value {
    fn read(r: &mut Reader<'_, '_>) -> Result<Self, DecodeError> {
        r.peek()?;
        let start = r.json.current_index();
        r.skip()?;
        let raw = r.json.slice_to_current(start);
        serde_json::from_slice(raw).map_err(|error| DecodeError::syntax(r.at.path(), format!("not JSON: {error}")))
    }

    fn absent(_at: &mut Reading) -> Result<Self, DecodeError> {
        Ok(Value::Null)
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn read(r: &mut Reader<'_, '_>) -> Result<Self, DecodeError> {
        let peek = r.peek()?;
        if peek != Peek::Array && r.at.xml && peek != Peek::Null {
            // One XML element where a list belongs: a list of one.
            return r.within(Step::Index(0), |r| T::read(r)).map(|item| vec![item]);
        }
        if peek != Peek::Array {
            return Err(r.expected("an array", peek));
        }
        let mut items = Vec::new();
        let mut more = r.json.known_array().map_err(|error| r.parse_error(error))?.is_some();
        while more {
            let index = items.len();
            if let Some(item) = r.within(Step::Index(index), |r| r.value(true))? {
                items.push(item);
            } else {
                // `null` where an item belongs: kept in place, as its default, and recorded.
                items.push(r.within(Step::Index(index), |r| r.at.absent())?);
            }
            more = r.json.array_step().map_err(|error| r.parse_error(error))?.is_some();
        }
        Ok(items)
    }

    fn absent(_at: &mut Reading) -> Result<Self, DecodeError> {
        Ok(Vec::new())
    }
}

/// A structure inside a JSON string: the string, then the JSON text it holds.
impl<T: FromJson> FromJson for JsonEncoded<T> {
    fn read(r: &mut Reader<'_, '_>) -> Result<Self, DecodeError> {
        let text = r.text("a string")?.into_owned();
        let mut inner = Reader::new(text.as_bytes(), &mut *r.at);
        match T::read(&mut inner).and_then(|value| inner.finish().map(|()| value)) {
            Ok(value) => Ok(JsonEncoded(value)),
            // Text that is not JSON is this string's fault, not the document's: the member around
            // it may go on reading.
            Err(error) if error.is_syntax() => {
                Err(r.at.error(format!("the JSON inside the string: {}", error.message())))
            }
            Err(error) => Err(error),
        }
    }

    fn absent(at: &mut Reading) -> Result<Self, DecodeError> {
        T::absent(at).map(JsonEncoded)
    }
}

/// The members of a URL-encoded string are text: a member documented as a number or a boolean is
/// read from its text (exactly, strictly or not).
impl<T: FromJson> FromJson for UrlEncoded<T> {
    fn read(r: &mut Reader<'_, '_>) -> Result<Self, DecodeError> {
        let text = r.text("a string")?.into_owned();
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(&text).map_err(|e| r.at.error(format!("the URL-encoded string: {e}")))?;
        let object: Map<String, Value> = pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        let json = serde_json::to_vec(&object).map_err(|e| r.at.error(e.to_string()))?;
        r.at.text += 1;
        let read = T::read(&mut Reader::new(&json, &mut *r.at));
        r.at.text -= 1;
        read.map(UrlEncoded)
    }

    fn absent(at: &mut Reading) -> Result<Self, DecodeError> {
        T::absent(at).map(UrlEncoded)
    }
}

/// As JSON (for requests built from JSON through the registry): the name, the content type and
/// the bytes in Base64.
impl FromJson for File {
    fn read(r: &mut Reader<'_, '_>) -> Result<Self, DecodeError> {
        use base64::Engine as _;
        fn member(key: &str) -> usize {
            match key {
                "filename" => 0,
                "content_type" => 1,
                "base64" => 2,
                _ => usize::MAX,
            }
        }
        let (mut filename, mut content_type, mut encoded) = (None, None, None);
        let mut next = r.first_member(member)?;
        while let Some(index) = next {
            match index {
                0 => r.member_required::<String>("filename", &mut filename)?,
                1 => r.member::<String>("content_type", &mut content_type)?,
                2 => r.member_required::<String>("base64", &mut encoded)?,
                _ => r.skip()?,
            }
            next = r.next_member(member)?;
        }
        let filename = r.required(filename, "filename")?;
        let encoded = r.required(encoded, "base64")?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| r.within(Step::Key("base64"), |r| r.at.error(e.to_string())))?;
        let mut file = File::new(filename, bytes);
        if let Some(content_type) = content_type {
            file.content_type = content_type;
        }
        Ok(file)
    }
}

/// Reads `json` as `T`, strictly: a request from JSON, serde's `Deserialize`.
pub fn read_strict<T: FromJson>(json: &[u8]) -> Result<T, DecodeError> {
    let mut at = Reading::strict();
    let mut reader = Reader::new(json, &mut at);
    let value = T::read(&mut reader)?;
    reader.finish()?;
    Ok(value)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::to_json::{put, put_optional, ToJson};
    use crate::writing::Writing;
    use serde_json::json;

    /// A structure as the generator writes it (also for `decode`'s tests).
    #[derive(Debug, Default, PartialEq)]
    pub(crate) struct Amount {
        pub(crate) total: i64,
        pub(crate) currency: Option<String>,
    }

    impl FromJson for Amount {
        fn read(r: &mut Reader<'_, '_>) -> Result<Self, DecodeError> {
            fn member(key: &str) -> usize {
                match key {
                    "total" => 0,
                    "currency" => 1,
                    _ => usize::MAX,
                }
            }
            let mut total = None;
            let mut currency = None;
            let mut next = r.first_member(member)?;
            while let Some(index) = next {
                match index {
                    0 => r.member_required("total", &mut total)?,
                    1 => r.member("currency", &mut currency)?,
                    _ => r.skip()?,
                }
                next = r.next_member(member)?;
            }
            Ok(Amount { total: r.required(total, "total")?, currency })
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

    fn strict<T: FromJson>(value: Value) -> Result<T, DecodeError> {
        read_strict(&serde_json::to_vec(&value).unwrap())
    }

    fn lenient<T: FromJson>(value: Value) -> (Result<T, DecodeError>, Vec<Deviation>) {
        let json = serde_json::to_vec(&value).unwrap();
        let mut at = Reading::lenient();
        let read = T::read(&mut Reader::new(&json, &mut at));
        (read, at.into_deviations())
    }

    #[test]
    fn a_missing_or_mistyped_member_names_its_path() {
        let read = |value: Value| strict::<Vec<Amount>>(value);
        let error = read(json!([{ "total": 1 }, { "total": "ten" }])).unwrap_err();
        assert_eq!(error.to_string(), "`[1].total`: expected an integer, found a string");
        let error = read(json!([{ "total": null, "currency": "CNY" }])).unwrap_err();
        assert_eq!(error.to_string(), "`[0].total`: missing required field");
        let error = read(json!([{ "total": 1, "currency": 7 }])).unwrap_err();
        assert_eq!(error.path(), "[0].currency", "strictly, a number is not a string");
        assert_eq!(read(json!([{ "total": 1, "currency": null }])).unwrap(), [Amount { total: 1, currency: None }]);
        assert_eq!(read(json!({})).unwrap_err().to_string(), "the body: expected an array, found an object");
        let error = read_strict::<Vec<Amount>>(b"[{\"total\": 1}] x").unwrap_err();
        assert!(error.to_string().contains("not JSON"), "{error}");
    }

    #[test]
    fn leniently_absent_members_are_defaulted_once_and_recorded() {
        let (amounts, deviations) = lenient::<Vec<Amount>>(json!([{ "total": "12", "currency": 1 }, {}]));
        let amounts = amounts.unwrap();
        assert_eq!(amounts, [Amount { total: 12, currency: Some("1".into()) }, Amount { total: 0, currency: None }]);
        assert_eq!(deviations, [Deviation::absent("[1].total".into())]);
        assert_eq!(lenient::<i64>(json!(10.0)).0, Ok(10));
        assert!(lenient::<i64>(json!(10.5)).0.is_err());
        assert!(strict::<i64>(json!(10.0)).is_err());
        assert_eq!(lenient::<bool>(json!("true")).0, Ok(true));
        assert!(lenient::<bool>(json!("yes")).0.is_err());
    }

    #[test]
    fn leniently_a_value_of_another_kind_is_defaulted_and_recorded_with_what_arrived() {
        let (amounts, deviations) = lenient::<Vec<Amount>>(json!([
            { "total": "ten" },
            [1, 2],
            { "total": 3, "currency": { "code": "CNY" } },
            "x"
        ]));
        let expected = [
            Amount { total: 0, currency: None },
            Amount::default(),
            Amount { total: 3, currency: None },
            Amount::default(),
        ];
        assert_eq!(amounts.unwrap(), expected);
        let deviations: Vec<String> = deviations.iter().map(ToString::to_string).collect();
        assert_eq!(
            deviations,
            [
                "`[0].total`: expected an integer, found a string (read as its default)",
                "`[1]`: expected an object, found an array (read as its default)",
                "`[2].currency`: expected a string, found an object (read as its default)",
                "`[3]`: expected an object, found a string (read as its default)",
            ]
        );
        let (encoded, _) = lenient::<JsonEncoded<Amount>>(json!("{not json"));
        assert!(encoded.is_err(), "a value that does not read is its reader's error; the member around it records it");
    }

    #[test]
    fn numbers_and_untyped_values_are_read_from_their_text() {
        let json = br#"{"rate": 12345678901234567, "any": {"b": 1.5, "a": [true, null, "x\u4e2d"]}}"#;
        #[derive(Debug)]
        struct Both {
            rate: Number,
            any: Value,
        }
        impl FromJson for Both {
            fn read(r: &mut Reader<'_, '_>) -> Result<Self, DecodeError> {
                fn member(key: &str) -> usize {
                    ["rate", "any"].iter().position(|name| *name == key).unwrap_or(usize::MAX)
                }
                let (mut rate, mut any) = (None, None);
                let mut next = r.first_member(member)?;
                while let Some(index) = next {
                    match index {
                        0 => r.member_required("rate", &mut rate)?,
                        1 => r.member_required("any", &mut any)?,
                        _ => r.skip()?,
                    }
                    next = r.next_member(member)?;
                }
                Ok(Both { rate: r.required(rate, "rate")?, any: r.required(any, "any")? })
            }
        }
        let both: Both = read_strict(json).unwrap();
        assert_eq!(both.rate.to_string(), "12345678901234567", "an integer past f64's 53 bits, exactly");
        assert_eq!(both.any.to_string(), r#"{"b":1.5,"a":[true,null,"x中"]}"#, "member order kept, escapes decoded");
    }

    #[test]
    fn structures_inside_strings_round_trip() {
        let encoded = JsonEncoded(json!({ "b": 1, "a": [true] }));
        let text = encoded.to_json(&mut Writing::unsealed());
        assert_eq!(text, Value::String(r#"{"b":1,"a":[true]}"#.to_owned()), "member order is kept");
        assert_eq!(strict::<JsonEncoded<Value>>(text).unwrap(), encoded);
        let url = UrlEncoded(json!({ "name": "a b", "n": 2 }));
        assert_eq!(url.to_json(&mut Writing::unsealed()), Value::String("name=a+b&n=2".to_owned()));
        let (read, deviations) = lenient::<UrlEncoded<Amount>>(json!("total=12&currency=CNY"));
        assert_eq!(read.unwrap().0, Amount { total: 12, currency: Some("CNY".into()) });
        assert!(deviations.is_empty());
    }
}
