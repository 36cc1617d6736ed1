//! How a field writes its time ([`TimeFormat`]): a fact of the field, below the readers and
//! writers that use it and the time values themselves (`times.rs`).

use std::fmt;

/// How a field writes its time, as its page documents it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeFormat {
    /// An RFC 3339 date-time with its offset: `2018-06-08T10:34:56+08:00` (APIv3).
    Rfc3339,
    /// `yyyyMMddHHmmss`, China time: `20180608103456` (APIv2, payscore).
    Compact,
    /// `yyyy-MM-dd HH:mm:ss`, China time: `2018-06-08 10:34:56` (some APIv2 answers).
    Spaced,
    /// `yyyy-MM-dd`: `2018-06-08`.
    Date,
    /// `yyyyMMdd`: `20180608` (APIv2 bill dates).
    CompactDate,
    /// `HH:mm`, a time of day: `09:30`.
    HourMinute,
}

impl TimeFormat {
    /// What a text in this format looks like, for messages: `yyyyMMddHHmmss`, `RFC 3339`, ….
    pub fn pattern(self) -> &'static str {
        match self {
            TimeFormat::Rfc3339 => "RFC 3339",
            TimeFormat::Compact => "yyyyMMddHHmmss",
            TimeFormat::Spaced => "yyyy-MM-dd HH:mm:ss",
            TimeFormat::Date => "yyyy-MM-dd",
            TimeFormat::CompactDate => "yyyyMMdd",
            TimeFormat::HourMinute => "HH:mm",
        }
    }
}

impl fmt::Display for TimeFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.pattern())
    }
}
