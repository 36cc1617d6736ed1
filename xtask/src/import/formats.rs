//! The rule deciding which strings hold times, and in which format: the `data-format` the import
//! writes on each row whose name looks like a time (`times::looks_like_time`).
//!
//! The pages rarely say a format in words; their PHP samples show one for every request field
//! (`'time_expire' => '2018-06-08T10:34:56+08:00'`). For a string row with such a name (not an
//! enumeration, not encrypted, carrying no structure) and no `data-format` of its own (a reviewed
//! override may set one, `text` included), the first of these that says something decides:
//!
//! 1. its description states a format (`rfc3339`, `yyyyMMddHHmmss`, `yyyy-MM-dd`, …) or a Unix
//!    timestamp (`时间戳`: no time format, `text`);
//! 2. the samples of that name on its page;
//! 3. the samples of that name on the pages under its URL, then under each enclosing folder up to
//!    its family (`openapi/v3/payscore/…`: payscore's `time_range.start_time` is `yyyyMMddHHmmss`,
//!    oversea payscore's RFC 3339); a notification page looks in the family its event names
//!    (`PAYSCORE.USER_PAID` → `openapi/v3/payscore`);
//! 4. its protocol's convention: APIv3 writes date-times in RFC 3339 and dates `yyyy-MM-dd`,
//!    APIv2 `yyyyMMddHHmmss` and `yyyyMMdd`; a name ending in `_at` has none (`text`).
//!
//! Samples decide by majority (a sample that is no time, such as a duration `3600` or a list,
//! counts for `text`); empty samples say nothing. The samples themselves never enter `specs/`.

use std::collections::BTreeMap;

use crate::ir::TimeFormat;
use crate::parse::{attr, Attr, Block, Page, Row};
use crate::times::looks_like_time;

/// The samples of every page of a docs tree, by where they are: page (its path without `.md`)
/// and field name → the formats they show (`Text` for a sample that is no time).
#[derive(Debug, Default)]
pub struct Samples {
    /// (folder or page, name) → (format, count).
    by_place: BTreeMap<(String, String), BTreeMap<TimeFormat, usize>>,
    /// page → name → (format, count): the page's own samples.
    by_page: BTreeMap<String, BTreeMap<String, BTreeMap<TimeFormat, usize>>>,
}

impl Samples {
    /// The samples of the pages `(relative path, text)` of one tree.
    pub fn collect<'a>(pages: impl IntoIterator<Item = (&'a str, &'a str)>) -> Samples {
        let mut samples = Samples::default();
        for (relative, text) in pages {
            let stem = relative.strip_suffix(".md").unwrap_or(relative);
            for (name, value) in php_samples(text) {
                let Some(format) = shown(value) else { continue };
                let own = samples.by_page.entry(stem.to_owned()).or_default();
                *own.entry(name.to_owned()).or_default().entry(format).or_default() += 1;
                for place in places(stem) {
                    let counts = samples.by_place.entry((place.to_owned(), name.to_owned())).or_default();
                    *counts.entry(format).or_default() += 1;
                }
            }
        }
        samples
    }

    /// What the samples say of `name` on the page `stem`, then around it.
    fn of(&self, stem: &str, name: &str) -> Option<TimeFormat> {
        if let Some(found) = self.by_page.get(stem).and_then(|names| names.get(name)).and_then(majority) {
            return Some(found);
        }
        places(&family_page(stem))
            .find_map(|place| self.by_place.get(&(place.to_owned(), name.to_owned())).and_then(majority))
    }
}

/// The page itself (the pages under its URL), then each enclosing folder down to the family's:
/// `openapi/v3/payscore/serviceorder` → itself, `openapi/v3/payscore`.
fn places(stem: &str) -> impl Iterator<Item = &str> {
    let family_depth = 3; // `openapi/v3/<family>`, `webhook/v3/<event>`
    std::iter::successors(Some(stem), |place| place.rsplit_once('/').map(|(folder, _)| folder))
        .take_while(move |place| place.matches('/').count() >= family_depth - 1)
}

/// A notification page's family, where its samples are: `webhook/v3/PAYSCORE.USER_PAID` →
/// `openapi/v3/payscore`; an operation's page is its own.
fn family_page(stem: &str) -> String {
    for protocol in ["v3", "v2"] {
        if let Some(event) = stem.strip_prefix(&format!("webhook/{protocol}/")) {
            let family = event.split('.').next().unwrap_or(event).to_ascii_lowercase().replace('_', "-");
            return format!("openapi/{protocol}/{family}");
        }
    }
    stem.to_owned()
}

/// The most shown format (ties to the first in `TimeFormat` order).
fn majority(counts: &BTreeMap<TimeFormat, usize>) -> Option<TimeFormat> {
    let most = counts.values().max()?;
    counts.iter().find(|(_, n)| *n == most).map(|(format, _)| *format)
}

/// `'name' => 'value'` pairs of a page's PHP samples whose name looks like a time.
fn php_samples(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines().filter_map(|line| {
        let rest = line.trim_start().strip_prefix('\'')?;
        let (name, rest) = rest.split_once('\'')?;
        let rest = rest.trim_start().strip_prefix("=>")?.trim_start().strip_prefix('\'')?;
        let (value, _) = rest.split_once('\'')?;
        looks_like_time(name).then_some((name, value))
    })
}

/// The format a sample shows: `Text` for anything that is no time, `None` for an empty sample or
/// a placeholder.
pub fn shown(sample: &str) -> Option<TimeFormat> {
    let shaped = |pattern: &str| {
        sample.len() == pattern.len()
            && sample.bytes().zip(pattern.bytes()).all(|(c, p)| if p == b'd' { c.is_ascii_digit() } else { c == p })
    };
    let rfc3339 = sample.get(..11).is_some_and(|head| {
        head.bytes().zip("dddd-dd-ddT".bytes()).all(|(c, p)| if p == b'd' { c.is_ascii_digit() } else { c == p })
    });
    Some(match () {
        // A placeholder (`example_goods_listing_time`) shows nothing either.
        _ if sample.trim().is_empty() || sample.starts_with("example_") => return None,
        _ if rfc3339 => TimeFormat::Rfc3339,
        _ if shaped("dddddddddddddd") => TimeFormat::Compact,
        _ if shaped("dddd-dd-dd dd:dd:dd") => TimeFormat::Spaced,
        _ if shaped("dddd-dd-dd") => TimeFormat::Date,
        _ if shaped("dddddddd") => TimeFormat::CompactDate,
        _ if shaped("dd:dd") => TimeFormat::HourMinute,
        _ => TimeFormat::Text,
    })
}

/// The format a description states, if it states one (in the docs' words: `遵循rfc3339标准格式`,
/// `格式为yyyyMMddHHmmss`, `秒级时间戳`).
pub fn stated(description: &str) -> Option<TimeFormat> {
    let text = description.to_ascii_lowercase();
    let says = |words: &str| text.contains(words);
    Some(match () {
        _ if says("rfc3339") || says("rfc 3339") || says("yyyy-mm-ddthh") => TimeFormat::Rfc3339,
        _ if says("yyyymmddhhmmss") => TimeFormat::Compact,
        _ if says("yyyy-mm-dd hh:mm:ss") => TimeFormat::Spaced,
        _ if says("yyyy-mm-dd") => TimeFormat::Date,
        _ if says("yyyymmdd") => TimeFormat::CompactDate,
        _ if says("hh:mm") => TimeFormat::HourMinute,
        _ if says("时间戳") || says("timestamp") => TimeFormat::Text,
        _ => return None,
    })
}

/// The convention of a protocol for a name without other evidence.
fn convention(stem: &str, name: &str) -> TimeFormat {
    let v2 = stem.starts_with("openapi/v2/") || stem.starts_with("webhook/v2/");
    let base = crate::lower::indexed(name).0.to_ascii_lowercase();
    match (v2, base.ends_with("date"), base.ends_with("_at")) {
        (_, _, true) => TimeFormat::Text,
        (false, true, _) => TimeFormat::Date,
        (true, true, _) => TimeFormat::CompactDate,
        (false, false, _) => TimeFormat::Rfc3339,
        (true, false, _) => TimeFormat::Compact,
    }
}

/// Writes the rule's `data-format` on every row of `page` (the page `relative` of the tree
/// `samples` were collected from) whose name looks like a time and that has none.
pub fn mark(page: &mut Page, relative: &str, samples: &Samples) {
    let stem = relative.strip_suffix(".md").unwrap_or(relative);
    for block in &mut page.blocks {
        let Block::Table(table) = block else { continue };
        for index in 0..table.rows.len() {
            // A sub-structure line followed by deeper rows opens the string's structure; followed
            // by a row of the same indent, it separates alternatives (`scene_info` per scene).
            let carries_structure = match (&table.rows[index], table.rows.get(index + 1), table.rows.get(index + 2)) {
                (Row::Field(row), Some(Row::SubStructure { .. }), Some(Row::Field(next))) => indent(next) > indent(row),
                _ => false,
            };
            let Row::Field(row) = &mut table.rows[index] else { continue };
            let candidate = row.ty == "string"
                && looks_like_time(&row.name)
                && !carries_structure
                && attr(&row.ty_attrs, "data-format").is_none()
                && attr(&row.ty_attrs, "data-encrypted").is_none()
                && crate::lower::description(&row.description).1.is_empty();
            if !candidate {
                continue;
            }
            let format = stated(&row.description)
                .or_else(|| samples.of(stem, &row.name))
                .unwrap_or_else(|| convention(stem, &row.name));
            row.ty_attrs.push(Attr { key: "data-format".into(), value: Some(format.as_str().to_owned()) });
        }
    }
}

/// A row's `data-indent` (0 when absent).
fn indent(row: &crate::parse::RawField) -> usize {
    attr(&row.name_attrs, "data-indent").and_then(|a| a.value.as_deref()?.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_shows_its_format() {
        assert_eq!(shown("2018-06-08T10:34:56+08:00"), Some(TimeFormat::Rfc3339));
        assert_eq!(shown("2018-06-08T10:34:56.000+08:00"), Some(TimeFormat::Rfc3339));
        assert_eq!(shown("20091225091010"), Some(TimeFormat::Compact));
        assert_eq!(shown("2020-05-11 10:10:00"), Some(TimeFormat::Spaced));
        assert_eq!(shown("2019-06-11"), Some(TimeFormat::Date));
        assert_eq!(shown("20190611"), Some(TimeFormat::CompactDate));
        assert_eq!(shown("09:00"), Some(TimeFormat::HourMinute));
        assert_eq!(shown("3600"), Some(TimeFormat::Text), "a duration");
        assert_eq!(shown("[\"2019-06-11\",\"长期\"]"), Some(TimeFormat::Text), "a list");
        assert_eq!(shown(""), None, "an empty sample says nothing");
        assert_eq!(shown("example_goods_listing_time"), None, "nor does a placeholder");
    }

    #[test]
    fn a_description_may_state_the_format() {
        assert_eq!(stated("订单生成时间，格式为`yyyyMMddHHmmss`"), Some(TimeFormat::Compact));
        assert_eq!(stated("遵循rfc3339标准格式"), Some(TimeFormat::Rfc3339));
        assert_eq!(stated("支付时间（秒级时间戳）"), Some(TimeFormat::Text));
        assert_eq!(stated("支付完成时间"), None);
    }

    #[test]
    fn samples_decide_from_the_page_then_around_it_then_the_convention() {
        let pages = [
            ("openapi/v3/payscore/serviceorder.md", "    'start_time' => '20091225091010',\n"),
            ("openapi/v3/payscore/partner/serviceorder.md", "    'start_time' => '20091225091010',\n"),
            ("openapi/v3/payscore/oversea/serviceorder.md", "    'start_time' => '2019-11-11T16:00:00+08:00',\n"),
            ("openapi/v3/parking/charge.md", "  'charging_time' => '3600',\n  'start_time' => '',\n"),
        ];
        let samples = Samples::collect(pages);
        let of = |stem: &str, name: &str| samples.of(stem, name);
        assert_eq!(of("openapi/v3/payscore/serviceorder", "start_time"), Some(TimeFormat::Compact));
        assert_eq!(of("openapi/v3/payscore/serviceorder/{out_order_no}", "start_time"), Some(TimeFormat::Compact));
        assert_eq!(of("openapi/v3/payscore/oversea/serviceorder/{id}", "start_time"), Some(TimeFormat::Rfc3339));
        assert_eq!(of("webhook/v3/PAYSCORE.USER_PAID", "start_time"), Some(TimeFormat::Compact), "a notification");
        assert_eq!(of("openapi/v3/parking/charge", "charging_time"), Some(TimeFormat::Text), "a duration");
        assert_eq!(of("openapi/v3/parking/charge", "start_time"), None, "empty samples say nothing");
        assert_eq!(of("openapi/v3/pay/transactions", "start_time"), None, "another family's samples do not count");
        assert_eq!(convention("openapi/v3/pay/transactions", "success_time"), TimeFormat::Rfc3339);
        assert_eq!(convention("openapi/v3/bill/tradebill", "bill_date"), TimeFormat::Date);
        assert_eq!(convention("openapi/v2/pay/orderquery", "time_end"), TimeFormat::Compact);
        assert_eq!(convention("openapi/v2/pay/downloadbill", "bill_date"), TimeFormat::CompactDate);
        assert_eq!(convention("openapi/v3/ecommerce/x", "refund_at"), TimeFormat::Text);
    }
}
