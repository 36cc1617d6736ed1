//! `jiff`'s timestamps, zoned and civil date-times, dates and times to and from the wire types
//! (feature `jiff`). A value outside the `time` crate's range is kept as its text.

use ::jiff::civil;
use ::jiff::tz::{Offset, TimeZone};
use ::jiff::{Timestamp, Zoned};
use ::time::{OffsetDateTime, UtcOffset};

use super::{Date, DateTime, TimeOfDay, CHINA};

fn instant(timestamp: Timestamp, offset_seconds: i32) -> Option<OffsetDateTime> {
    let nanos = i128::from(timestamp.as_second()) * 1_000_000_000 + i128::from(timestamp.subsec_nanosecond());
    let at = OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?;
    Some(at.to_offset(UtcOffset::from_whole_seconds(offset_seconds).ok()?))
}

/// An instant without an offset: written at `+08:00`.
impl From<Timestamp> for DateTime {
    fn from(value: Timestamp) -> Self {
        match instant(value, 0) {
            Some(at) => DateTime::new(at),
            None => DateTime::from(value.to_string()),
        }
    }
}

/// The instant with its zone's offset then (UTC becomes `+08:00`, as from `time`).
impl From<Zoned> for DateTime {
    fn from(value: Zoned) -> Self {
        DateTime::from(&value)
    }
}

impl From<&Zoned> for DateTime {
    fn from(value: &Zoned) -> Self {
        match instant(value.timestamp(), value.offset().seconds()) {
            Some(at) => DateTime::new(at),
            None => DateTime::from(value.timestamp().to_string()),
        }
    }
}

/// China time.
impl From<civil::DateTime> for DateTime {
    fn from(value: civil::DateTime) -> Self {
        let china = Offset::from_seconds(CHINA.whole_seconds()).ok();
        match china.and_then(|china| value.to_zoned(TimeZone::fixed(china)).ok()) {
            Some(zoned) => DateTime::from(zoned),
            None => DateTime::from(value.to_string()),
        }
    }
}

impl DateTime {
    /// The value as jiff's, in a zone of its fixed offset; `None` when the text is no time.
    pub fn to_jiff(&self) -> Option<Zoned> {
        let value = self.to_time()?;
        let timestamp = Timestamp::new(value.unix_timestamp(), value.nanosecond() as i32).ok()?;
        let offset = Offset::from_seconds(value.offset().whole_seconds()).ok()?;
        Some(timestamp.to_zoned(TimeZone::fixed(offset)))
    }
}

impl From<civil::Date> for Date {
    fn from(value: civil::Date) -> Self {
        let month = ::time::Month::try_from(value.month() as u8).ok();
        match month
            .and_then(|month| ::time::Date::from_calendar_date(value.year().into(), month, value.day() as u8).ok())
        {
            Some(date) => Date::new(date),
            None => Date::from(value.to_string()),
        }
    }
}

impl Date {
    /// The value as jiff's; `None` when the text is no date.
    pub fn to_jiff(&self) -> Option<civil::Date> {
        let value = self.to_time()?;
        civil::Date::new(i16::try_from(value.year()).ok()?, u8::from(value.month()) as i8, value.day() as i8).ok()
    }
}

impl From<civil::Time> for TimeOfDay {
    fn from(value: civil::Time) -> Self {
        match ::time::Time::from_hms(value.hour() as u8, value.minute() as u8, 0) {
            Ok(time) => TimeOfDay::new(time),
            Err(_) => TimeOfDay::from(value.to_string()),
        }
    }
}

impl TimeOfDay {
    /// The value as jiff's; `None` when the text is no time of day.
    pub fn to_jiff(&self) -> Option<civil::Time> {
        let value = self.to_time()?;
        civil::Time::new(value.hour() as i8, value.minute() as i8, 0, 0).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jiff_values_convert_both_ways() {
        let utc: Timestamp = "2018-06-08T02:34:56Z".parse().unwrap();
        let value = DateTime::from(utc);
        assert_eq!(value.to_string(), "2018-06-08T10:34:56+08:00");
        assert_eq!(value.to_jiff().map(|at| at.timestamp()), Some(utc));
        let civil = civil::date(2018, 6, 8).at(10, 34, 56, 0);
        assert_eq!(DateTime::from(civil).to_string(), "2018-06-08T10:34:56+08:00", "a civil date-time is China time");
        let day = Date::from(civil::date(2019, 6, 11));
        assert_eq!((day.to_string(), day.to_jiff()), ("2019-06-11".to_owned(), Some(civil::date(2019, 6, 11))));
        let opening = TimeOfDay::from(civil::time(9, 5, 30, 0));
        assert_eq!((opening.to_string(), opening.to_jiff()), ("09:05".to_owned(), Some(civil::time(9, 5, 0, 0))));
    }
}
