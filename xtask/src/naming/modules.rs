//! Where each operation and notification lives in the generated crate, and the `Event` variant
//! of each notification.
//!
//! Decided over the whole API at once (a segment's name depends on its siblings, a variant on the
//! other notifications), so a page left out (`cargo xtask diff` skips pages that do not load)
//! changes them: they are made with the fields' names, from the API the type space borrows, and
//! kept beside the IR, never in it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{camel, snake, unique, unique_camel, KEYWORDS};
use crate::fields::Owner;
use crate::ir::{Api, Notification, Operation, Protocol};

const METHOD_MODULES: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Every operation's and notification's module path, and every notification's event variant, by
/// owner ([`Owner::key`]).
pub struct Modules {
    modules: HashMap<usize, Vec<String>>,
    variants: HashMap<usize, String>,
}

impl Modules {
    /// Names the modules of every operation (its URL path's, then its method) and notification
    /// (`webhook::v3::transaction_success`), and the notifications' variants.
    pub fn new(api: &Api) -> Modules {
        let mut modules = HashMap::new();
        let mut variants = HashMap::new();
        let paths: Vec<String> = api.operations.iter().map(module_path).collect();
        let names = ModuleNames::new(paths.iter().map(String::as_str));
        for op in &api.operations {
            let mut module = names.module(&module_path(op));
            module.push(op.method.as_str().to_owned());
            modules.insert(Owner::Operation(op).key(), module);
        }

        let v3: Vec<&Notification> = api.notifications.iter().filter(|n| n.protocol == Protocol::V3).collect();
        let mut events = BTreeSet::new();
        for n in &v3 {
            let module = unique(snake(&n.event_type), &mut events);
            modules.insert(Owner::Notification(n).key(), vec!["webhook".into(), "v3".into(), module]);
        }
        // Variants are numbered once every module is named, as they always were.
        let mut taken = BTreeSet::from(["Unknown".to_owned()]);
        for n in &v3 {
            variants.insert(Owner::Notification(n).key(), unique_camel(camel(&n.event_type, "Event"), &mut taken));
        }

        // APIv2 pages are named by what they notify (`refund-processed`) or by an event type
        // (`TRANSACTION.SUCCESS`, a payscore envelope): the former take names first, so that
        // `transaction-success`, the payment result, is `transaction_success`.
        let mut v2: Vec<&Notification> = api.notifications.iter().filter(|n| n.protocol == Protocol::V2).collect();
        v2.sort_by_key(|n| (n.event_type.contains('.'), n.event_type.clone()));
        let mut events = BTreeSet::new();
        let mut taken = BTreeSet::from(["Unknown".to_owned()]);
        for n in v2 {
            let module = unique(snake(&n.event_type), &mut events);
            let key = Owner::Notification(n).key();
            variants.insert(key, unique_camel(camel(&module, "Event"), &mut taken));
            modules.insert(key, vec!["webhook".into(), "v2".into(), module]);
        }
        Modules { modules, variants }
    }

    /// The module of an operation or notification of the API these were made for.
    pub fn of(&self, owner: Owner<'_>) -> &[String] {
        &self.modules[&owner.key()]
    }

    /// The `Event` variant of a notification of that API (of `webhook::v3` or `webhook::v2`).
    pub fn variant(&self, notification: &Notification) -> &str {
        &self.variants[&Owner::Notification(notification).key()]
    }
}

/// The URL path the module tree mirrors: the wire path, under `v2` for APIv2 operations (whose
/// paths have no version segment).
pub fn module_path(op: &Operation) -> String {
    match op.protocol {
        Protocol::V3 => op.path.clone(),
        Protocol::V2 => format!("/v2{}", op.path),
    }
}

/// The segments of a URL path; the empty one of a trailing `/` (a folder's `index.md` page) is
/// not a module.
pub fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// Module names for URL path segments, unique among siblings.
struct ModuleNames {
    /// (parent segments joined, segment) → identifier.
    names: BTreeMap<(String, String), String>,
}

impl ModuleNames {
    fn new<'a>(paths: impl Iterator<Item = &'a str>) -> Self {
        let mut children: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for path in paths {
            let segments = segments(path);
            for i in 0..segments.len() {
                children.entry(segments[..i].join("/")).or_default().insert(segments[i].to_owned());
            }
        }
        let mut names = BTreeMap::new();
        for (parent, segments) in children {
            let mut taken: BTreeSet<String> = METHOD_MODULES.iter().map(|s| s.to_string()).collect();
            // A family's module holds its shared types in `types`, and so does `v2` (the types
            // several APIv2 families share).
            if parent.matches('/').count() == 1 || parent == "v2" {
                taken.insert("types".to_owned());
            }
            for segment in segments {
                let ident = unique(module_ident(&segment), &mut taken);
                names.insert((parent.clone(), segment), ident);
            }
        }
        ModuleNames { names }
    }

    fn module(&self, path: &str) -> Vec<String> {
        let segments = segments(path);
        (0..segments.len()).map(|i| self.names[&(segments[..i].join("/"), segments[i].to_owned())].clone()).collect()
    }
}

fn module_ident(segment: &str) -> String {
    let (param, name) = match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        Some(param) => (true, param),
        None => (false, segment),
    };
    let mut ident = snake(name);
    if ident.is_empty() {
        ident = "segment".into();
    }
    if param {
        ident = format!("by_{ident}");
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident = format!("n{ident}");
    }
    if KEYWORDS.contains(&ident.as_str()) {
        ident.push('_');
    }
    ident
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_become_module_identifiers() {
        assert_eq!(module_ident("{out_trade_no}"), "by_out_trade_no");
        assert_eq!(module_ident("sync-status"), "sync_status");
        assert_eq!(module_ident("type"), "type_");
    }
}
