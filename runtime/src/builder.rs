//! Builder plumbing: a generated builder records every problem (missing required fields by JSON
//! path, invalid values with the reason) and `build()` reports all of them at once.

use std::fmt;

/// What `build()` found wrong, all of it: missing required fields by JSON path (e.g.
/// `dish_list[0].properties.taste`) and values that cannot be sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildError {
    missing: Vec<String>,
    invalid: Vec<(String, String)>,
}

impl BuildError {
    /// The JSON paths of the missing fields, in documentation order; a group of alternatives of
    /// which one is required is one entry, its paths joined by ` | `.
    pub fn missing(&self) -> &[String] {
        &self.missing
    }

    /// Values that cannot be sent, as (JSON path, reason).
    pub fn invalid(&self) -> &[(String, String)] {
        &self.invalid
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.missing.is_empty() {
            write!(f, "missing required field(s): {}", self.missing.join(", "))?;
        }
        for (index, (path, reason)) in self.invalid.iter().enumerate() {
            let separator = if index == 0 && self.missing.is_empty() { "" } else { "; " };
            write!(f, "{separator}`{path}`: {reason}")?;
        }
        Ok(())
    }
}

impl std::error::Error for BuildError {}

/// Problems found while building, collected from every level of a request.
#[derive(Debug, Default)]
pub struct Problems {
    missing: Vec<String>,
    invalid: Vec<(String, String)>,
}

impl Problems {
    pub fn missing(&mut self, path: String) {
        self.missing.push(path);
    }

    pub fn invalid(&mut self, path: String, reason: impl Into<String>) {
        self.invalid.push((path, reason.into()));
    }

    fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.invalid.is_empty()
    }
}

/// A builder of a nested request type, validated as part of its parent.
pub trait Builder {
    /// The type built.
    type Output;
    /// Builds at JSON path `at`, recording every problem.
    fn build_at(self, at: &str, problems: &mut Problems) -> Option<Self::Output>;
}

/// Joins a JSON path and a field name.
pub fn join(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_owned()
    } else {
        format!("{at}.{name}")
    }
}

/// A group of alternatives (`data-one-of`): when none of them is set (`set`, in the order of
/// `names`), recorded as missing, the names joined by ` | ` (`transaction_id | out_trade_no`).
pub fn one_of(set: &[bool], at: &str, names: &[&str], problems: &mut Problems) {
    if !set.contains(&true) {
        let paths: Vec<String> = names.iter().map(|name| join(at, name)).collect();
        problems.missing(paths.join(" | "));
    }
}

/// A required value: recorded as missing when unset.
pub fn required<T>(value: Option<T>, at: &str, name: &str, problems: &mut Problems) -> Option<T> {
    if value.is_none() {
        problems.missing(join(at, name));
    }
    value
}

/// A path parameter: required, and never empty, `.` or `..`, which would address another
/// endpoint once the URL is normalised (`/v3/refund/domestic/refunds/..` is
/// `/v3/refund/domestic/`).
pub fn path_value<T: crate::ToParam>(value: Option<T>, at: &str, name: &str, problems: &mut Problems) -> Option<T> {
    let value = required(value, at, name, problems)?;
    // Path values are never sensitive: written without a key (a sensitive one would be empty).
    match value.to_param(&mut crate::Writing::unsealed()).as_str() {
        "" => problems.invalid(join(at, name), "a path value cannot be empty"),
        text @ ("." | "..") => problems.invalid(join(at, name), format!("a path value cannot be `{text}`")),
        _ => return Some(value),
    }
    None
}

/// A nested builder: built at `at.name`; `None` when it (or something inside it) is wrong.
pub fn nested<B: Builder>(builder: B, at: &str, name: &str, problems: &mut Problems) -> Option<B::Output> {
    builder.build_at(&join(at, name), problems)
}

/// An optional nested builder: `Some(None)` when unset, `None` when set but wrong.
pub fn optional<B: Builder>(
    builder: Option<B>,
    at: &str,
    name: &str,
    problems: &mut Problems,
) -> Option<Option<B::Output>> {
    match builder {
        None => Some(None),
        Some(builder) => nested(builder, at, name, problems).map(Some),
    }
}

/// A list of nested builders, each built at `at.name[i]`; every item is checked.
pub fn list<B: Builder>(builders: Vec<B>, at: &str, name: &str, problems: &mut Problems) -> Option<Vec<B::Output>> {
    let base = join(at, name);
    let mut built = Vec::with_capacity(builders.len());
    let mut complete = true;
    for (index, builder) in builders.into_iter().enumerate() {
        match builder.build_at(&format!("{base}[{index}]"), problems) {
            Some(item) => built.push(item),
            None => complete = false,
        }
    }
    complete.then_some(built)
}

/// Ends a top-level build: the value, or every problem at once.
pub fn finish<T>(value: Option<T>, problems: Problems) -> Result<T, BuildError> {
    match value {
        Some(value) if problems.is_empty() => Ok(value),
        _ => Err(BuildError { missing: problems.missing, invalid: problems.invalid }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_and_empty_path_values_are_invalid() {
        let mut problems = Problems::default();
        assert_eq!(path_value(Some("..".to_owned()), "", "out_refund_no", &mut problems), None);
        assert_eq!(path_value(Some(".".to_owned()), "", "a", &mut problems), None);
        assert_eq!(path_value(Some(String::new()), "", "b", &mut problems), None);
        assert_eq!(path_value(Some("..x".to_owned()), "", "c", &mut problems), Some("..x".to_owned()));
        let error = finish(None::<()>, problems).unwrap_err();
        assert_eq!(error.invalid().len(), 3);
        assert!(error.to_string().starts_with("`out_refund_no`: a path value cannot be `..`"), "{error}");
    }

    #[test]
    fn every_missing_field_is_reported_with_its_path() {
        let mut problems = Problems::default();
        required::<i64>(None, "amount", "total", &mut problems);
        required::<i64>(None, "", "mchid", &mut problems);
        let error = finish(None::<()>, problems).unwrap_err();
        assert_eq!(error.missing(), ["amount.total", "mchid"]);
        assert_eq!(error.to_string(), "missing required field(s): amount.total, mchid");
    }
}
