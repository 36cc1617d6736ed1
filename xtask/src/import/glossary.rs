//! `specs/glossary.toml`: our own descriptions of common field names.
//!
//! A row gets the first entry found among, in order: `[family.F]` `"parent.name:type"`,
//! `"parent.name"`, `"name:type"`, `"name"`, then the same four keys in `[names]`. `parent` is
//! the enclosing field's name (none at the top of a part, a response or a payload); `F` is the
//! operation's family, `webhook` for notifications.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::PageError;
use crate::ir::Type;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Glossary {
    #[serde(default)]
    names: BTreeMap<String, String>,
    #[serde(default)]
    family: BTreeMap<String, BTreeMap<String, String>>,
}

impl Glossary {
    /// Reads `file`; an absent file is an empty glossary.
    pub fn read(file: &Path) -> Result<Glossary, PageError> {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Glossary::default()),
            Err(e) => return Err(PageError { file: file.display().to_string(), line: 0, message: e.to_string() }),
        };
        let glossary: Glossary = toml::from_str(&text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start].lines().count().max(1)).unwrap_or(0);
            PageError { file: file.display().to_string(), line, message: e.message().to_owned() }
        })?;
        for (key, text) in glossary.names.iter().chain(glossary.family.values().flatten()) {
            if text.contains(['\n', '|']) {
                return Err(PageError {
                    file: file.display().to_string(),
                    line: 0,
                    message: format!("the description of `{key}` holds a newline or `|` (it goes into a table cell)"),
                });
            }
        }
        Ok(glossary)
    }

    /// The description for a row, if the glossary has one.
    pub fn lookup(&self, family: &str, parent: Option<&str>, name: &str, ty: Type) -> Option<&str> {
        self.lookup_in(&[family], parent, name, ty)
    }

    /// [`lookup`](Self::lookup) trying several family tables in order (an APIv2 page: its own
    /// family's, then `[family.v2]`), then `[names]`.
    pub fn lookup_in(&self, families: &[&str], parent: Option<&str>, name: &str, ty: Type) -> Option<&str> {
        let typed = |key: String| format!("{key}:{}", ty.as_str());
        let mut keys = Vec::with_capacity(4);
        if let Some(parent) = parent {
            let qualified = format!("{parent}.{name}");
            keys.push(typed(qualified.clone()));
            keys.push(qualified);
        }
        keys.push(typed(name.to_owned()));
        keys.push(name.to_owned());
        let tables = families.iter().filter_map(|family| self.family.get(*family)).chain(std::iter::once(&self.names));
        for table in tables {
            if let Some(text) = keys.iter().find_map(|key| table.get(key)) {
                return Some(text);
            }
        }
        None
    }

    pub fn len(&self) -> usize {
        self.names.len() + self.family.values().map(BTreeMap::len).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_specific_key_wins_family_first() {
        let glossary: Glossary = toml::from_str(
            r#"
            [names]
            amount = "generic"
            "amount:integer" = "in fen"
            "detail.amount" = "of the detail"
            [family.marketing]
            amount = "of the coupon"
            "#,
        )
        .unwrap();
        assert_eq!(glossary.lookup("pay", None, "amount", Type::Object), Some("generic"));
        assert_eq!(glossary.lookup("pay", None, "amount", Type::Integer), Some("in fen"));
        assert_eq!(glossary.lookup("pay", Some("detail"), "amount", Type::Integer), Some("of the detail"));
        assert_eq!(glossary.lookup("marketing", Some("detail"), "amount", Type::Integer), Some("of the coupon"));
        assert_eq!(glossary.lookup("pay", None, "other", Type::String), None);
    }
}
