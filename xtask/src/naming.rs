//! The naming pass: documentation names → Rust identifiers, deterministic and collision-free.
//!
//! - Modules mirror the URL path: `sync-status` → `sync_status`, `{out_trade_no}` →
//!   `by_out_trade_no`, camelCase → snake_case, a keyword gets a trailing `_` (`type_`);
//!   a segment named like a method module (`get`) or a sibling gets `_2`, `_3` in sorted order. Each
//!   operation is a module named after its method (`post`), holding `Request`,
//!   `RequestBuilder`, `Response` and the nested types.
//! - Notifications: a module per page under `webhook::v3` (`webhook::v2`), the event type in
//!   snake_case (`transaction_success`), and a variant of that version's `Event`, in CamelCase
//!   (`TransactionSuccess`).
//! - Fields: snake_case of the documented name (`Wechatpay-Serial` → `wechatpay_serial`),
//!   keywords as raw identifiers (`r#type`), names without ASCII letters as `field`, collisions
//!   suffixed `_2`…; the wire name is kept for serde.
//! - Types: CamelCase of the field name (`dish_list` → `DishList`); when that is taken (by an
//!   earlier type of the same operation, or a reserved name such as `Request` or `Option`),
//!   the parent type's name is prefixed (`ResponseAmount`), then a number is appended.
//! - Enum variants: CamelCase of the value (`CREATE_DEAL` → `CreateDeal`, `3` → `V3`).
//!
//! Nothing is written into the IR, which stays as the pages say: the names are kept beside it, in
//! [`Names`] (fields' names with every rename that is not the obvious conversion,
//! `FieldName::renamed`; modules and event variants, `modules.rs`), which the type space holds.

mod modules;

use std::collections::{BTreeSet, HashMap};
use std::marker::PhantomData;

pub use modules::{module_path, segments};

use crate::fields::{fields, FieldKey, Owner, Part, Side};
use crate::ir::{Api, Field, Notification, Type};
use modules::Modules;

pub const RESERVED_TYPES: &[&str] = &[
    "Request",
    "RequestBuilder",
    "Response",
    "Payload",
    "Option",
    "Result",
    "String",
    "Vec",
    "Box",
    "Some",
    "None",
    "Ok",
    "Err",
    "Self",
    "Default",
    "Chain",
    "Clone",
    "Debug",
    "PartialEq",
    "Eq",
    "Hash",
    "From",
    "Into",
    "Send",
    "Sync",
    "Sized",
    "Copy",
    "Iterator",
    "IntoIterator",
    "ToString",
    "ToOwned",
    "Drop",
    "Fn",
    "FnMut",
    "FnOnce",
];

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn",
    "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self",
    "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract", "become",
    "box", "do", "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// The Rust names of a field.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldName {
    /// The struct field (or builder setter), e.g. `r#type`.
    pub ident: String,
    /// Why it differs from the obvious name (keyword, collision, non-ASCII name).
    pub renamed: Option<String>,
    /// Enum variants, one per distinct documented value, in the same order; empty for a field
    /// that is no enumeration.
    pub variants: Vec<String>,
}

/// The Rust names of one API, kept beside its IR: every field's, and every operation's and
/// notification's module (and event variant).
pub struct Names<'a> {
    fields: HashMap<FieldKey, FieldName>,
    modules: Modules,
    /// The fields are known by their addresses: the API stays borrowed (unchanged) meanwhile.
    api: PhantomData<&'a Api>,
}

impl<'a> Names<'a> {
    /// Names the modules of `api` and every field of it (requests, responses, notifications: each
    /// row once), each field unique among its siblings: an operation's request parts are one
    /// structure, its response another, a notification's headers, envelope and payload one each;
    /// a structure's members are theirs.
    pub fn new(api: &'a Api) -> Names<'a> {
        let mut scopes: HashMap<(usize, Part, Option<FieldKey>), FieldNames> = HashMap::new();
        let mut names = HashMap::new();
        for at in fields(api) {
            let part = if at.side == Side::Request { Part::Path } else { at.part };
            let scope = (at.owner.key(), part, at.parent.map(FieldKey::of));
            let (ident, renamed) = scopes.entry(scope).or_default().take(&at.field.name);
            names.insert(FieldKey::of(at.field), FieldName { ident, renamed, variants: enum_variants(at.field) });
        }
        Names { fields: names, modules: Modules::new(api), api: PhantomData }
    }

    /// The names of a field of the API these names were made for.
    pub fn of(&self, field: &Field) -> &FieldName {
        &self.fields[&FieldKey::of(field)]
    }

    /// The module of an operation or notification of that API, e.g.
    /// `["v3", "pay", "transactions", "jsapi", "post"]`, `["webhook", "v3", "transaction_success"]`.
    pub fn module<'o>(&self, owner: impl Into<Owner<'o>>) -> &[String] {
        self.modules.of(owner.into())
    }

    /// The variant of `webhook::v3::Event` (or `webhook::v2::Event`) of a notification of that
    /// API, e.g. `TransactionSuccess`.
    pub fn variant(&self, notification: &Notification) -> &str {
        self.modules.variant(notification)
    }
}

/// Whether a field is an enumeration: values listed, of a string or of an integer (when they are
/// all integers).
pub fn is_enum(field: &Field) -> bool {
    !field.enum_values.is_empty()
        && match field.ty {
            Type::String | Type::StringArray => true,
            Type::Integer | Type::IntegerArray => field.enum_values.iter().all(|v| v.parse::<i64>().is_ok()),
            _ => false,
        }
}

/// Variants of an enumerated string or integer field; empty when the field is not an enum.
fn enum_variants(field: &Field) -> Vec<String> {
    if !is_enum(field) {
        return Vec::new();
    }
    let mut taken = BTreeSet::from(["Unknown".to_owned(), "Self".to_owned()]);
    let mut seen = BTreeSet::new();
    field
        .enum_values
        .iter()
        .filter(|v| seen.insert(v.as_str()))
        .map(|value| unique_camel(camel(value, "V"), &mut taken))
        .collect()
}

/// Distinct enum values in documentation order (duplicates dropped): the variants' values.
pub fn enum_values(field: &Field) -> Vec<&str> {
    let mut seen = BTreeSet::new();
    field.enum_values.iter().map(String::as_str).filter(|v| seen.insert(*v)).collect()
}

#[derive(Default)]
struct FieldNames {
    taken: BTreeSet<String>,
}

impl FieldNames {
    fn take(&mut self, name: &str) -> (String, Option<String>) {
        let base = snake(name);
        let mut why = None;
        let mut candidate = if base.is_empty() {
            why = Some(format!("`{name}` has no ASCII letters"));
            "field".to_owned()
        } else if base.starts_with(|c: char| c.is_ascii_digit()) {
            format!("n{base}")
        } else {
            base
        };
        if self.taken.contains(&candidate) {
            let unique = unique(candidate.clone(), &mut self.taken.clone());
            why = Some(format!("`{candidate}` is taken by another field"));
            candidate = unique;
        }
        self.taken.insert(candidate.clone());
        if KEYWORDS.contains(&candidate.as_str()) {
            if NOT_RAW.contains(&candidate.as_str()) {
                why = Some(format!("`{candidate}` is a keyword"));
                candidate.push('_');
            } else {
                candidate = format!("r#{candidate}");
            }
        }
        (candidate, why)
    }
}

/// `base`, or `base_2`, `base_3`… — the first not in `taken` (which it joins).
fn unique(base: String, taken: &mut BTreeSet<String>) -> String {
    let mut candidate = base.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{base}_{n}");
        n += 1;
    }
    taken.insert(candidate.clone());
    candidate
}

/// Like [`unique`] for CamelCase names: `Name`, `Name2`, `Name3`…
pub fn unique_camel(base: String, taken: &mut BTreeSet<String>) -> String {
    let mut candidate = base.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{base}{n}");
        n += 1;
    }
    taken.insert(candidate.clone());
    candidate
}

/// Words of a name: split at non-alphanumerics and at lower→upper case changes; non-ASCII dropped.
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous: Option<char> = None;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous = None;
            continue;
        }
        let boundary =
            matches!(previous, Some(p) if (p.is_ascii_lowercase() || p.is_ascii_digit()) && c.is_ascii_uppercase());
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.push(c);
        previous = Some(c);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// snake_case of a documented name.
pub fn snake(name: &str) -> String {
    words(name).iter().map(|w| w.to_ascii_lowercase()).collect::<Vec<_>>().join("_")
}

/// CamelCase of a documented name; `prefix` goes before a leading digit (or stands alone).
pub fn camel(name: &str, prefix: &str) -> String {
    let mut out: String = words(name)
        .iter()
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            let mut chars = lower.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out = format!("{prefix}{out}");
    }
    if out == "Self" {
        out = "SelfValue".into();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_convert_predictably() {
        assert_eq!(snake("Wechatpay-Serial"), "wechatpay_serial");
        assert_eq!(snake("subMchId"), "sub_mch_id");
        assert_eq!(camel("dish_list", "T"), "DishList");
        assert_eq!(camel("CREATE_DEAL", "V"), "CreateDeal");
        assert_eq!(camel("12", "V"), "V12");
    }

    #[test]
    fn keywords_become_raw_or_suffixed() {
        let mut names = FieldNames::default();
        assert_eq!(names.take("type").0, "r#type");
        assert_eq!(names.take("self").0, "self_");
        assert_eq!(names.take("名称").0, "field");
        assert_eq!(names.take("名字").0, "field_2");
    }
}
