//! Times on the wire: [`DateTime`], [`Date`] and [`TimeOfDay`], each holding the text that arrived
//! (or that will be sent) and, when that text is a time in one of WeChat Pay's formats, its value.
//!
//! The pages use several formats ([`TimeFormat`]), one per field: RFC 3339 for APIv3
//! (`2018-06-08T10:34:56+08:00`), `yyyyMMddHHmmss` for APIv2 and payscore (`20180608103456`),
//! `yyyy-MM-dd HH:mm:ss`, dates as `yyyy-MM-dd` or `yyyyMMdd`, times of day as `HH:mm`. Every time
//! without an offset is China Standard Time (UTC+8, no daylight saving), the service's zone.
//!
//! - **Reading** (what the service sends): the text is kept as it arrived, so that a value written
//!   back is byte for byte what came; a text that is not a time in the field's format is kept too,
//!   its value absent, and recorded as a [`Deviation`](crate::Deviation) (the lenient policy);
//!   read strictly (a request from JSON, serde), it is an error naming its path.
//! - **Writing** (requests): a value made in the program is written in the field's format, RFC
//!   3339 at `+08:00` unless the value carries another offset (UTC, what `now_utc()` and timestamps
//!   give, is written as the same instant at `+08:00`; formats without an offset are always China
//!   time), to the second, as WeChat Pay writes times. A text given as is (`"OnAccept"`, which
//!   payscore takes where a time belongs) is sent as is.
//!
//! The values are the [`time`](https://docs.rs/time) crate's (already in every build through the
//! certificate parser); `chrono` and `jiff` conversions are behind the features of those names.
//!
//! Why parse by hand rather than with `time`'s format descriptions: the six formats are fixed
//! digit patterns, and the parsers here accept exactly them (RFC 3339's fractional seconds and `Z`
//! included) with the `time` crate's default features only.

use std::borrow::Cow;
use std::fmt;

use ::time::{Month, OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::from_json::{FromJson, Reader, Reading};
use crate::report::{DecodeError, Deviation};
use crate::to_json::ToJson;
use crate::values::ToParam;
use crate::writing::Writing;

pub use crate::time_format::TimeFormat;

#[cfg(feature = "chrono")]
mod chrono;
#[cfg(feature = "jiff")]
mod jiff;

/// A text that is not a time in the format asked for. Never holds the text (answers hold personal
/// data): it says which format was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeError {
    expected: &'static str,
}

impl TimeError {
    /// What was expected, e.g. `a date-time (RFC 3339)`.
    pub fn expected(&self) -> &'static str {
        self.expected
    }
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {}", self.expected)
    }
}

impl std::error::Error for TimeError {}

/// China Standard Time, the offset of every time the pages write without one.
pub const CHINA: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("+08:00 is an offset"),
};

/// What one of the three types holds once its text is read: parsed in a format, or not.
trait Value: Copy + Eq + std::hash::Hash + fmt::Debug + Sized {
    /// `a date-time`, `a date`, `a time of day`.
    const WHAT: &'static str;
    /// The formats a text of this kind may be in, tried in order when none is documented.
    const FORMATS: &'static [TimeFormat];
    fn parse(text: &str, format: TimeFormat) -> Option<Self>;
    fn render(&self, format: TimeFormat) -> String;
}

/// A time's text and, when it is one, its value and the format it was read in.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Wire<V> {
    text: String,
    parsed: Option<(V, TimeFormat)>,
}

impl<V: Value> Wire<V> {
    fn made(value: V, format: TimeFormat) -> Self {
        Wire { text: value.render(format), parsed: Some((value, format)) }
    }

    /// The text in `format`, if it parses as one; else the text in the first format of its kind
    /// it parses in; else the text alone.
    fn detect(text: String, format: Option<TimeFormat>) -> Self {
        let formats = format.into_iter().chain(V::FORMATS.iter().copied());
        let parsed = formats.into_iter().find_map(|format| Some((V::parse(&text, format)?, format)));
        Wire { text, parsed }
    }

    fn parse(text: &str, format: TimeFormat) -> Result<Self, TimeError> {
        match V::parse(text, format) {
            Some(value) => Ok(Wire { text: text.to_owned(), parsed: Some((value, format)) }),
            None => Err(TimeError { expected: expected(format) }),
        }
    }

    /// The text in `format`: as held when it is in that format or is no time, else rendered.
    fn text_in(&self, format: Option<TimeFormat>) -> Cow<'_, str> {
        match (self.parsed, format) {
            (Some((value, held)), Some(wanted)) if held != wanted && accepts::<V>(wanted) => {
                Cow::Owned(value.render(wanted))
            }
            _ => Cow::Borrowed(&self.text),
        }
    }

    /// Reads a string as a time in the reading's format: kept whatever it holds; leniently, text
    /// that is not a time in that format is recorded, strictly it is an error.
    fn read(r: &mut Reader<'_, '_>) -> Result<Self, DecodeError> {
        let text = String::read(r)?;
        let Some(format) = r.reading().format().filter(|format| accepts::<V>(*format)) else {
            return Ok(Wire::detect(text, None));
        };
        if let Some(value) = V::parse(&text, format) {
            return Ok(Wire { text, parsed: Some((value, format)) });
        }
        let at = r.reading();
        if !at.is_lenient() {
            return Err(at.error(format!("expected {}", expected(format))));
        }
        at.deviate(|path| Deviation::format(path, expected(format)));
        Ok(Wire::detect(text, None))
    }
}

fn accepts<V: Value>(format: TimeFormat) -> bool {
    V::FORMATS.contains(&format)
}

/// What a text in `format` is, for messages: `a date-time (RFC 3339)`.
fn expected(format: TimeFormat) -> &'static str {
    match format {
        TimeFormat::Rfc3339 => "a date-time (RFC 3339)",
        TimeFormat::Compact => "a date-time (yyyyMMddHHmmss)",
        TimeFormat::Spaced => "a date-time (yyyy-MM-dd HH:mm:ss)",
        TimeFormat::Date => "a date (yyyy-MM-dd)",
        TimeFormat::CompactDate => "a date (yyyyMMdd)",
        TimeFormat::HourMinute => "a time of day (HH:mm)",
    }
}

impl<V> fmt::Debug for Wire<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

/// The shared surface of the three types: reading and writing JSON and parameters (in the format
/// the generated code names), `Display` as the text, serde as the text, `From` a text.
macro_rules! wire_type {
    ($name:ident, $value:ty) => {
        impl $name {
            /// Reads `text` in `format`: an error when it is not a time in that format.
            pub fn parse(text: &str, format: TimeFormat) -> Result<Self, TimeError> {
                Wire::parse(text, format).map($name)
            }

            /// The text, as received or as it was made (what `Display` writes).
            pub fn as_str(&self) -> &str {
                &self.0.text
            }

            /// The format the text is in; `None` when it is no time in any format (kept as received).
            pub fn format(&self) -> Option<TimeFormat> {
                self.0.parsed.map(|(_, format)| format)
            }

            /// The text in `format` (rendered from the value when the text is in another one).
            pub fn text_in(&self, format: TimeFormat) -> Cow<'_, str> {
                self.0.text_in(Some(format))
            }

            /// The value, with the `time` crate; `None` when the text is no time.
            pub fn to_time(&self) -> Option<$value> {
                self.0.parsed.map(|(value, _)| value)
            }
        }

        /// The value (see `new`).
        impl From<$value> for $name {
            fn from(value: $value) -> Self {
                $name::new(value)
            }
        }

        impl From<&$name> for $name {
            fn from(value: &$name) -> Self {
                value.clone()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0.text)
            }
        }

        /// The text, as received or as it was made.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0.text)
            }
        }

        /// A text as is: read in the first of this type's formats it is in, and sent unchanged
        /// when it is none (a value such as payscore's `OnAccept`).
        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                $name(Wire::detect(text.to_owned(), None))
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                $name(Wire::detect(text, None))
            }
        }

        impl std::str::FromStr for $name {
            type Err = TimeError;
            /// A text in any of this type's formats.
            fn from_str(text: &str) -> Result<Self, TimeError> {
                let read = Wire::detect(text.to_owned(), None);
                match read.parsed {
                    Some(_) => Ok($name(read)),
                    None => Err(TimeError { expected: <$value as Value>::WHAT }),
                }
            }
        }

        impl FromJson for $name {
            fn read(r: &mut Reader<'_, '_>) -> Result<Self, DecodeError> {
                Wire::read(r).map($name)
            }

            fn absent(_at: &mut Reading) -> Result<Self, DecodeError> {
                Ok($name(Wire { text: String::new(), parsed: None }))
            }
        }

        impl ToJson for $name {
            fn to_json(&self, out: &mut Writing<'_>) -> serde_json::Value {
                serde_json::Value::String(self.0.text_in(out.time_format()).into_owned())
            }
        }

        impl ToParam for $name {
            fn to_param(&self, out: &mut Writing<'_>) -> String {
                self.0.text_in(out.time_format()).into_owned()
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0.text)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
                Ok($name::from(&*text))
            }
        }
    };
}

/// A date-time as a field holds it: RFC 3339 (`2018-06-08T10:34:56+08:00`), `yyyyMMddHHmmss` or
/// `yyyy-MM-dd HH:mm:ss` (China time) on the wire, as the field's page documents.
///
/// - **Reading** (what the service sends): the text is kept as it arrived, so that a value
///   written back is byte for byte what came; a text that is not a time in the field's format is
///   kept too, its value absent ([`to_time`](Self::to_time) is `None`), and recorded as a
///   [`Deviation`](crate::Deviation) of kind [`Format`](crate::DeviationKind::Format); read
///   strictly (a request from JSON), it is an error naming its path.
/// - **Writing** (requests): a value made in the program is written in the field's format, RFC
///   3339 at `+08:00` unless the value carries another offset (UTC, what `now_utc()` gives, is
///   written as the same instant at `+08:00`; formats without an offset are China time), to the
///   second. A text given as is (`"OnAccept"`, which payscore takes where a time belongs) is
///   sent unchanged; a text in another of the formats is written in the field's.
///
/// Made from a [`time::OffsetDateTime`](::time::OffsetDateTime) (UTC becomes `+08:00`, any other
/// offset is kept), a [`time::PrimitiveDateTime`](::time::PrimitiveDateTime) (China time), a text,
/// or with the `chrono` and `jiff` features their date-times.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DateTime(Wire<OffsetDateTime>);

wire_type!(DateTime, OffsetDateTime);

impl DateTime {
    /// The instant, at `+08:00` when `value` is in UTC, to the second.
    pub fn new(value: OffsetDateTime) -> Self {
        let value = if value.offset().is_utc() { value.to_offset(CHINA) } else { value };
        let value = value.replace_nanosecond(0).unwrap_or(value);
        DateTime(Wire::made(value, TimeFormat::Rfc3339))
    }

    /// Now, at `+08:00`.
    pub fn now() -> Self {
        DateTime::new(OffsetDateTime::now_utc())
    }
}

/// A date and time without an offset: China time.
impl From<PrimitiveDateTime> for DateTime {
    fn from(value: PrimitiveDateTime) -> Self {
        DateTime::new(value.assume_offset(CHINA))
    }
}

impl Value for OffsetDateTime {
    const WHAT: &'static str = "a date-time";
    const FORMATS: &'static [TimeFormat] = &[TimeFormat::Rfc3339, TimeFormat::Compact, TimeFormat::Spaced];

    fn parse(text: &str, format: TimeFormat) -> Option<Self> {
        let b = text.as_bytes();
        let (date, clock, rest) = match format {
            TimeFormat::Rfc3339 => {
                let date = dashed_date(b.get(..10)?)?;
                if !matches!(b.get(10), Some(b'T' | b't')) {
                    return None;
                }
                (date, colon_time(b.get(11..19)?)?, b.get(19..)?)
            }
            TimeFormat::Compact if b.len() == 14 => {
                (compact_date(&b[..8])?, (number(&b[8..10])?, number(&b[10..12])?, number(&b[12..14])?), &b[14..])
            }
            TimeFormat::Spaced if b.len() == 19 && b[10] == b' ' => {
                (dashed_date(&b[..10])?, colon_time(&b[11..])?, &b[19..])
            }
            _ => return None,
        };
        let (hour, minute, second) = clock;
        let (nanos, rest) = fraction(rest)?;
        let offset = match format {
            TimeFormat::Rfc3339 => rfc3339_offset(rest)?,
            _ if rest.is_empty() => CHINA,
            _ => return None,
        };
        let time = ::time::Time::from_hms_nano(hour as u8, minute as u8, second as u8, nanos).ok()?;
        Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
    }

    fn render(&self, format: TimeFormat) -> String {
        let at = match format {
            TimeFormat::Rfc3339 => *self,
            _ => self.to_offset(CHINA),
        };
        let (y, m, d) = (at.year(), u8::from(at.month()), at.day());
        let (hh, mm, ss) = (at.hour(), at.minute(), at.second());
        match format {
            TimeFormat::Compact => format!("{y:04}{m:02}{d:02}{hh:02}{mm:02}{ss:02}"),
            TimeFormat::Spaced => format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}"),
            _ => {
                let nanos = match at.nanosecond() {
                    0 => String::new(),
                    n => format!(".{n:09}").trim_end_matches('0').to_owned(),
                };
                let offset = at.offset();
                let sign = if offset.is_negative() { '-' } else { '+' };
                let (oh, om) = (offset.whole_hours().unsigned_abs(), offset.minutes_past_hour().unsigned_abs());
                format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}{nanos}{sign}{oh:02}:{om:02}")
            }
        }
    }
}

/// A calendar date as a field holds it: `yyyy-MM-dd` or `yyyyMMdd` on the wire, as the field's
/// page documents (kept and written as a [`DateTime`] is). Made from a [`time::Date`](::time::Date), a text, or
/// with the `chrono` and `jiff` features their dates.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Date(Wire<::time::Date>);

wire_type!(Date, ::time::Date);

impl Date {
    /// The date, written in the field's format (`yyyy-MM-dd` when it has none).
    pub fn new(value: ::time::Date) -> Self {
        Date(Wire::made(value, TimeFormat::Date))
    }
}

impl Value for ::time::Date {
    const WHAT: &'static str = "a date";
    const FORMATS: &'static [TimeFormat] = &[TimeFormat::Date, TimeFormat::CompactDate];

    fn parse(text: &str, format: TimeFormat) -> Option<Self> {
        let b = text.as_bytes();
        match format {
            TimeFormat::Date if b.len() == 10 => dashed_date(b),
            TimeFormat::CompactDate if b.len() == 8 => compact_date(b),
            _ => None,
        }
    }

    fn render(&self, format: TimeFormat) -> String {
        let (y, m, d) = (self.year(), u8::from(self.month()), self.day());
        match format {
            TimeFormat::CompactDate => format!("{y:04}{m:02}{d:02}"),
            _ => format!("{y:04}-{m:02}-{d:02}"),
        }
    }
}

/// A time of day as a field holds it: `HH:mm` on the wire (kept and written as a [`DateTime`] is). Made from a
/// [`time::Time`](::time::Time) (to the minute), a text, or with the `chrono` and `jiff` features
/// their times.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TimeOfDay(Wire<::time::Time>);

wire_type!(TimeOfDay, ::time::Time);

impl TimeOfDay {
    /// The time, to the minute.
    pub fn new(value: ::time::Time) -> Self {
        let minute = ::time::Time::from_hms(value.hour(), value.minute(), 0).unwrap_or(value);
        TimeOfDay(Wire::made(minute, TimeFormat::HourMinute))
    }
}

impl Value for ::time::Time {
    const WHAT: &'static str = "a time of day";
    const FORMATS: &'static [TimeFormat] = &[TimeFormat::HourMinute];

    fn parse(text: &str, format: TimeFormat) -> Option<Self> {
        let b = text.as_bytes();
        if format != TimeFormat::HourMinute || b.len() != 5 || b[2] != b':' {
            return None;
        }
        ::time::Time::from_hms(number(&b[..2])? as u8, number(&b[3..])? as u8, 0).ok()
    }

    fn render(&self, _format: TimeFormat) -> String {
        format!("{:02}:{:02}", self.hour(), self.minute())
    }
}

/// ASCII digits as a number (none but digits, at least one).
fn number(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0u32, |n, d| n.checked_mul(10)?.checked_add(u32::from(d - b'0')))
}

fn date(year: u32, month: u32, day: u32) -> Option<::time::Date> {
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    ::time::Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()
}

/// `yyyy-MM-dd`.
fn dashed_date(b: &[u8]) -> Option<::time::Date> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    date(number(&b[..4])?, number(&b[5..7])?, number(&b[8..10])?)
}

/// `yyyyMMdd`.
fn compact_date(b: &[u8]) -> Option<::time::Date> {
    if b.len() != 8 {
        return None;
    }
    date(number(&b[..4])?, number(&b[4..6])?, number(&b[6..8])?)
}

/// `HH:mm:ss`.
fn colon_time(b: &[u8]) -> Option<(u32, u32, u32)> {
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    Some((number(&b[..2])?, number(&b[3..5])?, number(&b[6..8])?))
}

/// An RFC 3339 fraction of a second (`.123`), in nanoseconds, and what follows it.
fn fraction(b: &[u8]) -> Option<(u32, &[u8])> {
    let Some(digits) = b.strip_prefix(b".") else {
        return Some((0, b));
    };
    let count = digits.iter().take_while(|d| d.is_ascii_digit()).count();
    if count == 0 || count > 9 {
        return None;
    }
    let nanos = number(&digits[..count])? * 10u32.pow(9 - count as u32);
    Some((nanos, &digits[count..]))
}

/// `Z` or `±HH:mm`, and nothing after it.
fn rfc3339_offset(b: &[u8]) -> Option<UtcOffset> {
    match b {
        b"Z" | b"z" => Some(UtcOffset::UTC),
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (hours, minutes) = (number(&[*h1, *h2])? as i8, number(&[*m1, *m2])? as i8);
            let sign = if *sign == b'-' { -1 } else { 1 };
            UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::from_json::read_strict;
    use crate::report::DeviationKind;
    use ::time::macros::{date, datetime, time};

    fn lenient<T: FromJson>(json: &str, format: TimeFormat) -> (Result<T, DecodeError>, Vec<Deviation>) {
        let mut at = Reading::lenient();
        let read = at.with_format(Some(format), |at| T::read(&mut Reader::new(json.as_bytes(), at)));
        (read, at.into_deviations())
    }

    fn strict<T: FromJson>(json: &str, format: TimeFormat) -> Result<T, DecodeError> {
        let mut at = Reading::strict();
        at.with_format(Some(format), |at| T::read(&mut Reader::new(json.as_bytes(), at)))
    }

    fn written(value: &impl ToJson, format: TimeFormat) -> String {
        let mut out = Writing::unsealed();
        let json = out.with_time_format(Some(format), |out| value.to_json(out));
        json.as_str().unwrap().to_owned()
    }

    #[test]
    fn each_format_reads_its_text_and_keeps_it() {
        let cases: [(&str, TimeFormat, OffsetDateTime); 5] = [
            ("2018-06-08T10:34:56+08:00", TimeFormat::Rfc3339, datetime!(2018-06-08 10:34:56 +8)),
            ("2018-06-08T02:34:56.250Z", TimeFormat::Rfc3339, datetime!(2018-06-08 02:34:56.25 UTC)),
            ("2018-06-08T10:34:56-05:30", TimeFormat::Rfc3339, datetime!(2018-06-08 10:34:56 -5:30)),
            ("20180608103456", TimeFormat::Compact, datetime!(2018-06-08 10:34:56 +8)),
            ("2018-06-08 10:34:56", TimeFormat::Spaced, datetime!(2018-06-08 10:34:56 +8)),
        ];
        for (text, format, value) in cases {
            let json = format!("\"{text}\"");
            let read: DateTime = strict(&json, format).unwrap();
            assert_eq!((read.to_time(), read.format(), read.as_str()), (Some(value), Some(format), text), "{text}");
            assert_eq!(written(&read, format), text, "written back unchanged");
        }
        let day: Date = strict("\"20190611\"", TimeFormat::CompactDate).unwrap();
        assert_eq!(day.to_time(), Some(date!(2019 - 06 - 11)));
        assert_eq!(written(&day, TimeFormat::Date), "2019-06-11", "another format is rendered from the value");
        let opening: TimeOfDay = strict("\"09:05\"", TimeFormat::HourMinute).unwrap();
        assert_eq!(opening.to_time(), Some(time!(09:05)));
    }

    #[test]
    fn a_value_made_in_the_program_is_written_in_the_fields_format_at_china_time() {
        let utc = DateTime::from(datetime!(2018-06-08 02:34:56.789 UTC));
        assert_eq!(utc.to_string(), "2018-06-08T10:34:56+08:00", "UTC becomes +08:00, to the second");
        assert_eq!(written(&utc, TimeFormat::Rfc3339), "2018-06-08T10:34:56+08:00");
        assert_eq!(written(&utc, TimeFormat::Compact), "20180608103456");
        assert_eq!(written(&utc, TimeFormat::Spaced), "2018-06-08 10:34:56");
        let tokyo = DateTime::from(datetime!(2018-06-08 11:34:56 +9));
        assert_eq!(written(&tokyo, TimeFormat::Rfc3339), "2018-06-08T11:34:56+09:00", "an offset of its own is kept");
        assert_eq!(written(&tokyo, TimeFormat::Compact), "20180608103456", "no offset on the wire: China time");
        let local = DateTime::from(datetime!(2018-06-08 10:34:56));
        assert_eq!(local.to_string(), "2018-06-08T10:34:56+08:00", "a date-time without offset is China time");
        let given = DateTime::from("OnAccept");
        assert_eq!((given.format(), written(&given, TimeFormat::Compact)), (None, "OnAccept".to_owned()));
        let text = DateTime::from("20180608103456");
        assert_eq!(written(&text, TimeFormat::Rfc3339), "2018-06-08T10:34:56+08:00", "a text in another format");
        assert_eq!(written(&Date::from(date!(2019 - 06 - 11)), TimeFormat::CompactDate), "20190611");
        assert_eq!(TimeOfDay::from(time!(09:05:59)).to_string(), "09:05");
        assert_eq!("2018-06-08".parse::<Date>().map(|d| d.format()), Ok(Some(TimeFormat::Date)));
        assert!("soon".parse::<DateTime>().is_err());
    }

    #[test]
    fn text_that_is_no_time_is_kept_and_recorded_leniently_and_refused_strictly() {
        let (read, deviations) = lenient::<DateTime>("\"2018-06-08 10:34\"", TimeFormat::Compact);
        let read = read.unwrap();
        assert_eq!((read.as_str(), read.to_time()), ("2018-06-08 10:34", None), "kept, never lost");
        assert_eq!(deviations.len(), 1);
        assert_eq!(deviations[0].kind, DeviationKind::Format { expected: "a date-time (yyyyMMddHHmmss)" });
        assert_eq!(deviations[0].to_string(), "the body: not a date-time (yyyyMMddHHmmss) (kept as received)");
        let (read, deviations) = lenient::<DateTime>("\"2018-06-08T10:34:56+08:00\"", TimeFormat::Compact);
        let read = read.unwrap();
        assert_eq!(read.format(), Some(TimeFormat::Rfc3339), "another known format still gives the value");
        assert_eq!(deviations.len(), 1, "but the difference from the page is recorded");
        let (read, _) = lenient::<DateTime>("1528425296", TimeFormat::Rfc3339);
        assert_eq!(read.unwrap().as_str(), "1528425296", "a number arrives as its text");
        for bad in [
            "\"2018-02-30T10:34:56+08:00\"",
            "\"2018-06-08T24:00:00+08:00\"",
            "\"2018-06-08T10:34:56\"",
            "\"2018-06-08T10:34:56+8:00\"",
        ] {
            let error = strict::<DateTime>(bad, TimeFormat::Rfc3339).unwrap_err();
            assert_eq!(error.to_string(), "the body: expected a date-time (RFC 3339)", "{bad}");
        }
        assert!(strict::<Date>("\"2019-6-11\"", TimeFormat::Date).is_err());
        assert!(strict::<TimeOfDay>("\"9:05\"", TimeFormat::HourMinute).is_err());
        let plain: DateTime = read_strict(b"\"whenever\"").unwrap();
        assert_eq!(plain.format(), None, "without a documented format, any text is kept");
    }

    /// A member holding a time, as the generated code reads it.
    #[derive(Debug)]
    struct Window {
        start_time: DateTime,
    }

    impl FromJson for Window {
        fn read(reader: &mut Reader<'_, '_>) -> Result<Self, DecodeError> {
            fn member(key: &str) -> usize {
                if key == "start_time" {
                    0
                } else {
                    usize::MAX
                }
            }
            let mut start_time = None;
            let mut next = reader.first_member(member)?;
            while let Some(index) = next {
                match index {
                    0 => reader.member_time_required("start_time", TimeFormat::Compact, &mut start_time)?,
                    _ => reader.skip()?,
                }
                next = reader.next_member(member)?;
            }
            Ok(Window { start_time: reader.required(start_time, "start_time")? })
        }
    }

    #[test]
    fn a_member_out_of_its_format_is_named_by_its_path() {
        let json = br#"[{"start_time": "20180608103456"}, {"start_time": "2018-06-08"}]"#;
        let error = read_strict::<Vec<Window>>(json).unwrap_err();
        assert_eq!(error.to_string(), "`[1].start_time`: expected a date-time (yyyyMMddHHmmss)");

        let mut at = Reading::lenient();
        let read = Vec::<Window>::read(&mut Reader::new(json, &mut at)).unwrap();
        assert_eq!(read[0].start_time.to_time(), Some(::time::macros::datetime!(2018-06-08 10:34:56 +8)));
        assert_eq!((read[1].start_time.as_str(), read[1].start_time.to_time()), ("2018-06-08", None));
        let deviations = at.into_deviations();
        assert_eq!(deviations.len(), 1, "{deviations:?}");
        assert_eq!(deviations[0].path, "[1].start_time");
        assert_eq!(deviations[0].to_string(), "`[1].start_time`: not a date-time (yyyyMMddHHmmss) (kept as received)");

        // The format is the member's only: a string beside it is read as before.
        let plain: Vec<String> = read_strict(br#"["2018-06-08"]"#).unwrap();
        assert_eq!(plain, ["2018-06-08"]);
    }

    #[test]
    fn lists_of_times_read_and_write_in_their_format() {
        let read: Vec<DateTime> = strict(r#"["20180608103456", "20180609103456"]"#, TimeFormat::Compact).unwrap();
        assert_eq!(read[1].to_time(), Some(datetime!(2018-06-09 10:34:56 +8)));
        let mut out = Writing::unsealed();
        let json = out.with_time_format(Some(TimeFormat::Rfc3339), |out| read.to_json(out));
        assert_eq!(json, serde_json::json!(["2018-06-08T10:34:56+08:00", "2018-06-09T10:34:56+08:00"]));
    }
}
