//! Which fields hold times: the names that look like one (what the import's rule considers and
//! what `codegen --stats` counts), and those counts.
//!
//! A field holds a time when its row carries a time `data-format` (RFC 3339, `yyyyMMddHHmmss`, …,
//! see `docs/ir.md`); the import decides it (`import/formats.rs`). A field whose name looks like a
//! time but that holds none (an integer timestamp, a duration, an enumeration) says why here.

use std::collections::BTreeMap;

use crate::fields::{fields, Part};
use crate::ir::{Api, Field, TimeFormat, Type};

/// Whether a name reads as a time: `time`, `date`, `…_time`, `…_date`, `time_…` (`time_expire`),
/// `…time` (`createtime`), `…_at` (`refund_at`); an APIv2 indexed name by its base
/// (`refund_success_time_$n`).
pub fn looks_like_time(name: &str) -> bool {
    let base = crate::lower::indexed(name).0.to_ascii_lowercase();
    base.ends_with("time") || base.ends_with("date") || base.starts_with("time_") || base.ends_with("_at")
}

/// What `codegen --stats` says of times.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TimeStats {
    /// Fields holding a time, by format.
    pub typed: BTreeMap<TimeFormat, usize>,
    /// Fields whose name looks like a time but that hold none: (where, why), where is
    /// `file:line name`.
    pub untyped: Vec<(String, String)>,
}

impl TimeStats {
    /// Every field of `api` (requests, responses, notifications: each row once).
    pub fn of(api: &Api) -> TimeStats {
        let mut stats = TimeStats::default();
        // A notification's payload is within its envelope (`resource.ciphertext`'s structure):
        // each row once, as the coverage counts them.
        for at in fields(api).filter(|at| at.part != Part::Payload) {
            let field = at.field;
            if let Some(format) = field.time_format() {
                *stats.typed.entry(format).or_default() += 1;
            } else if looks_like_time(&field.name) {
                let why = why_not(field);
                stats.untyped.push((format!("{}:{} {}", at.owner.file(), field.line, field.name), why));
            }
        }
        stats
    }

    /// Fields holding a time.
    pub fn total(&self) -> usize {
        self.typed.values().sum()
    }

    /// `1,234 fields hold times (date-time 900, …); 56 names look like times but are not`, then
    /// one line per such field with its reason.
    pub fn report(&self) -> String {
        let formats: Vec<String> = self.typed.iter().map(|(format, n)| format!("{} {n}", format.as_str())).collect();
        let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, why) in &self.untyped {
            *reasons.entry(why).or_default() += 1;
        }
        let mut out = format!(
            "times: {} field(s) typed as times ({}); {} field(s) look like times but are not ({})\n",
            self.total(),
            formats.join(", "),
            self.untyped.len(),
            reasons.iter().map(|(why, n)| format!("{n} {why}")).collect::<Vec<_>>().join(", ")
        );
        for (at, why) in &self.untyped {
            out += &format!("  {at}: {why}\n");
        }
        out
    }
}

/// Why a field whose name looks like a time holds none.
fn why_not(field: &Field) -> String {
    match field.ty {
        Type::Integer | Type::Number => {
            return format!("documented as {}: a timestamp, a duration or a count", field.ty.as_str())
        }
        Type::String => {}
        _ => return format!("documented as {}: its members are typed", field.ty.as_str()),
    }
    if !field.enum_values.is_empty() {
        "an enumeration".to_owned()
    } else if field.encrypted.is_some() {
        "encrypted".to_owned()
    } else if !field.children.is_empty() {
        "carries a structure (its members are typed)".to_owned()
    } else if field.format == Some(TimeFormat::Text) && crate::lower::indexed(&field.name).0.ends_with("_at") {
        "`data-format=text`: a name ending in `_at` holds no time by the convention (`sales_at` is an amount)"
            .to_owned()
    } else if field.format == Some(TimeFormat::Text) {
        "`data-format=text`: its samples or description show no time (a duration, a timestamp, a list), or a reviewed override".to_owned()
    } else {
        "no `data-format` recorded (a page not imported)".to_owned()
    }
}
