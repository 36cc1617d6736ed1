//! `chrono`'s date-times, dates and times to and from the wire types (feature `chrono`). A value
//! outside the `time` crate's range (years ±9999) is kept as its RFC 3339 text.

use ::chrono::{Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Timelike};
use ::time::{OffsetDateTime, UtcOffset};

use super::{Date, DateTime, TimeOfDay, CHINA};

/// The instant with its offset (UTC becomes `+08:00`, as from `time`).
impl<Tz: TimeZone> From<::chrono::DateTime<Tz>> for DateTime {
    fn from(value: ::chrono::DateTime<Tz>) -> Self {
        let offset = value.offset().fix().local_minus_utc();
        let instant = OffsetDateTime::from_unix_timestamp(value.timestamp())
            .ok()
            .zip(UtcOffset::from_whole_seconds(offset).ok())
            .map(|(instant, offset)| instant.to_offset(offset));
        match instant {
            Some(instant) => DateTime::new(instant),
            None => DateTime::from(value.to_rfc3339()),
        }
    }
}

/// China time.
impl From<NaiveDateTime> for DateTime {
    fn from(value: NaiveDateTime) -> Self {
        let china = FixedOffset::east_opt(CHINA.whole_seconds());
        match china.and_then(|china| china.from_local_datetime(&value).single()) {
            Some(at) => DateTime::from(at),
            None => DateTime::from(value.to_string()),
        }
    }
}

impl DateTime {
    /// The value as chrono's; `None` when the text is no time.
    pub fn to_chrono(&self) -> Option<::chrono::DateTime<FixedOffset>> {
        let value = self.to_time()?;
        let offset = FixedOffset::east_opt(value.offset().whole_seconds())?;
        offset.timestamp_opt(value.unix_timestamp(), value.nanosecond()).single()
    }
}

impl From<NaiveDate> for Date {
    fn from(value: NaiveDate) -> Self {
        let month = ::time::Month::try_from(value.month() as u8).ok();
        match month.and_then(|month| ::time::Date::from_calendar_date(value.year(), month, value.day() as u8).ok()) {
            Some(date) => Date::new(date),
            None => Date::from(value.to_string()),
        }
    }
}

impl Date {
    /// The value as chrono's; `None` when the text is no date.
    pub fn to_chrono(&self) -> Option<NaiveDate> {
        let value = self.to_time()?;
        NaiveDate::from_ymd_opt(value.year(), u8::from(value.month()).into(), value.day().into())
    }
}

impl From<NaiveTime> for TimeOfDay {
    fn from(value: NaiveTime) -> Self {
        match ::time::Time::from_hms(value.hour() as u8, value.minute() as u8, 0) {
            Ok(time) => TimeOfDay::new(time),
            Err(_) => TimeOfDay::from(value.format("%H:%M").to_string()),
        }
    }
}

impl TimeOfDay {
    /// The value as chrono's; `None` when the text is no time of day.
    pub fn to_chrono(&self) -> Option<NaiveTime> {
        let value = self.to_time()?;
        NaiveTime::from_hms_opt(value.hour().into(), value.minute().into(), 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::chrono::Utc;

    #[test]
    fn chrono_values_convert_both_ways() {
        let utc = Utc.with_ymd_and_hms(2018, 6, 8, 2, 34, 56).unwrap();
        let value = DateTime::from(utc);
        assert_eq!(value.to_string(), "2018-06-08T10:34:56+08:00");
        assert_eq!(value.to_chrono().map(|at| at.timestamp()), Some(utc.timestamp()));
        let naive = NaiveDate::from_ymd_opt(2018, 6, 8).unwrap().and_hms_opt(10, 34, 56).unwrap();
        assert_eq!(DateTime::from(naive).to_string(), "2018-06-08T10:34:56+08:00", "a naive date-time is China time");
        let day = Date::from(NaiveDate::from_ymd_opt(2019, 6, 11).unwrap());
        assert_eq!((day.to_string(), day.to_chrono()), ("2019-06-11".to_owned(), NaiveDate::from_ymd_opt(2019, 6, 11)));
        let opening = TimeOfDay::from(NaiveTime::from_hms_opt(9, 5, 30).unwrap());
        assert_eq!((opening.to_string(), opening.to_chrono()), ("09:05".to_owned(), NaiveTime::from_hms_opt(9, 5, 0)));
    }
}
