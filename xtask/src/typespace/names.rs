//! Where each shape is defined and what it is called: the homes and names of shared types, and
//! each type's name in every module that uses it (see the rules in `typespace.rs`).

use std::collections::{BTreeMap, BTreeSet};

use super::uses::{At, Parent, ShapeUses, Use};
use crate::fields::{owners, Owner};
use crate::ir::{Api, Protocol};
use crate::naming::{camel, Names, RESERVED_TYPES};

/// An operation or a notification, as the type space names and houses its types.
pub struct OwnerInfo {
    pub module: Vec<String>,
    /// The cargo feature compiling it.
    pub feature: String,
    /// `POST /v3/pay/transactions/jsapi` or `TRANSACTION.SUCCESS`.
    pub label: String,
    /// Prefix that tells its types apart in a shared module (`TransactionsId`).
    qualifier: String,
    /// The family module (`["v3", "pay"]`), for operations.
    family_module: Option<Vec<String>>,
    /// The name a notification's payload type takes when shared (`Transaction`).
    payload_name: Option<String>,
    protocol: Protocol,
}

/// Every owner's, in the order of [`owners`], housed in the modules naming gave them.
pub fn owner_infos(api: &Api, names: &Names<'_>) -> Vec<OwnerInfo> {
    owners(api)
        .map(|owner| match owner {
            Owner::Operation(op) => {
                let module = names.module(owner);
                let inner: Vec<&str> = module[2.min(module.len())..module.len().saturating_sub(1)]
                    .iter()
                    .map(String::as_str)
                    .filter(|m| !m.starts_with("by_"))
                    .collect();
                let qualifier = if inner.is_empty() { camel(&op.family, "T") } else { camel(&inner.join("_"), "T") };
                OwnerInfo {
                    module: module.to_vec(),
                    feature: op.family.clone(),
                    label: format!("{} {}", op.method.as_str().to_uppercase(), op.path),
                    qualifier,
                    family_module: Some(module[..2.min(module.len())].to_vec()),
                    payload_name: None,
                    protocol: op.protocol,
                }
            }
            Owner::Notification(n) => {
                let original = n
                    .envelope
                    .iter()
                    .find(|f| f.name == "resource")
                    .and_then(|r| r.children.iter().find(|f| f.name == "original_type"))
                    .and_then(|f| match f.enum_values.as_slice() {
                        [one] => Some(camel(one, "T")),
                        _ => None,
                    });
                let prefix = n.event_type.split('.').next().unwrap_or(&n.event_type);
                OwnerInfo {
                    module: names.module(owner).to_vec(),
                    feature: "notifications".to_owned(),
                    label: n.event_type.clone(),
                    qualifier: camel(&n.event_type, "T"),
                    family_module: None,
                    payload_name: Some(original.unwrap_or_else(|| camel(prefix, "T"))),
                    protocol: n.protocol,
                }
            }
        })
        .collect()
}

/// The home (module) and name of every shape used by several owners, by shape: in each home,
/// the most used shape of a name keeps it; the others are named after the type holding them
/// (parents first), else after their first user.
pub fn shared(shapes: &[ShapeUses<'_>], owners: &[OwnerInfo]) -> BTreeMap<usize, (Vec<String>, String)> {
    let mut homes: BTreeMap<usize, (Vec<String>, String)> = BTreeMap::new();
    let mut groups: BTreeMap<(Vec<String>, String), Vec<usize>> = BTreeMap::new();
    for (shape, uses) in shapes.iter().enumerate() {
        let users: BTreeSet<usize> = uses.uses.iter().map(|(o, _)| *o).collect();
        if users.len() > 1 {
            let base = uses.base.clone().unwrap_or_else(|| top_level_base(uses, owners));
            groups.entry((home(&users, owners), base)).or_default().push(shape);
        }
    }
    let mut taken: BTreeMap<Vec<String>, BTreeSet<String>> = BTreeMap::new();
    let mut take = |module: &Vec<String>, candidates: Box<dyn Iterator<Item = String> + '_>| {
        let taken =
            taken.entry(module.clone()).or_insert_with(|| RESERVED_TYPES.iter().map(|s| s.to_string()).collect());
        let name = candidates.into_iter().find(|name| free(taken, name))?;
        taken.insert(name.clone());
        taken.insert(format!("{name}Builder"));
        Some(name)
    };
    // Shapes are numbered in order of first appearance.
    let mut rest = Vec::new();
    for ((module, base), group) in &mut groups {
        group.sort_by_key(|&shape| (std::cmp::Reverse(shapes[shape].uses.len()), shape));
        match take(module, Box::new(std::iter::once(base.clone()))) {
            Some(name) => {
                homes.insert(group[0], (module.clone(), name));
                rest.extend(group[1..].iter().map(|&shape| (module, base, shape)));
            }
            None => rest.extend(group.iter().map(|&shape| (module, base, shape))),
        }
    }
    rest.sort_by_key(|&(_, _, shape)| (depth(shape, shapes), shape));
    for (module, base, shape) in rest {
        let uses = &shapes[shape];
        let parent = uses.parent.and_then(|parent| match homes.get(&parent) {
            Some((_, name)) => Some(name.clone()),
            None => shapes[parent].base.clone(),
        });
        let qualified = format!("{}{base}", owners[uses.uses[0].0].qualifier);
        let candidates = parent
            .map(|parent| format!("{parent}{base}"))
            .into_iter()
            .chain([qualified.clone()])
            .chain((2..).map(move |n| format!("{qualified}{n}")));
        let name = take(module, Box::new(candidates)).expect("numbered names never run out");
        homes.insert(shape, (module.clone(), name));
    }
    homes
}

/// The name of each shape in each module using it, by (owner, shape): given in walk order, first
/// come first served, a shared type's own name when free.
pub fn local(uses: &[Use<'_>], homes: &BTreeMap<usize, (Vec<String>, String)>) -> BTreeMap<(usize, usize), String> {
    let mut local: BTreeMap<(usize, usize), String> = BTreeMap::new();
    let mut namers: BTreeMap<usize, TypeNames> = BTreeMap::new();
    for one in uses {
        if local.contains_key(&(one.owner, one.shape)) {
            continue;
        }
        let name = match one.at {
            At::Top(_, fixed) => fixed.to_owned(),
            At::Field(_, field_name) => {
                let parent = match one.parent {
                    Parent::Top(name, _) => name.to_owned(),
                    Parent::Type(shape) => local.get(&(one.owner, shape)).cloned().unwrap_or_default(),
                };
                let namer = namers.entry(one.owner).or_insert_with(TypeNames::new);
                let preferred = homes.get(&one.shape).map(|(_, name)| name.as_str());
                namer.take(field_name, &parent, preferred)
            }
        };
        local.insert((one.owner, one.shape), name);
    }
    local
}

fn home(users: &BTreeSet<usize>, owners: &[OwnerInfo]) -> Vec<String> {
    let families: BTreeSet<Option<&Vec<String>>> = users.iter().map(|&o| owners[o].family_module.as_ref()).collect();
    // APIv2 shapes are never shared with APIv3 ones (their keys differ): their homes are under
    // `v2` (and `webhook::v2`).
    let v2 = users.iter().any(|&o| owners[o].protocol == Protocol::V2);
    let strings = |names: &[&str]| names.iter().map(|name| name.to_string()).collect::<Vec<_>>();
    match families.into_iter().collect::<Vec<_>>().as_slice() {
        [Some(family)] => {
            let mut module = (*family).clone();
            module.push("types".to_owned());
            module
        }
        [None] if v2 => strings(&["webhook", "v2", "types"]),
        [None] => vec!["webhook".to_owned(), "types".to_owned()],
        _ if v2 => strings(&["v2", "types"]),
        _ => vec!["types".to_owned()],
    }
}

/// The name of a shared response or payload.
fn top_level_base(shape: &ShapeUses<'_>, owners: &[OwnerInfo]) -> String {
    shape
        .uses
        .iter()
        .find_map(|(o, _)| owners[*o].payload_name.clone())
        .unwrap_or_else(|| format!("{}Response", owners[shape.uses[0].0].qualifier))
}

/// How deep a shape's first use is: 0 for a response or payload.
fn depth(shape: usize, shapes: &[ShapeUses<'_>]) -> usize {
    let mut depth = 0;
    let mut at = shape;
    while let Some(parent) = shapes[at].parent {
        depth += 1;
        at = parent;
    }
    depth
}

fn free(taken: &BTreeSet<String>, name: &str) -> bool {
    !taken.contains(name) && !taken.contains(&format!("{name}Builder")) && !name.ends_with("Builder")
}

/// Type names inside one operation's (or notification's) module, first come first served.
struct TypeNames {
    taken: BTreeSet<String>,
}

impl TypeNames {
    fn new() -> Self {
        TypeNames { taken: RESERVED_TYPES.iter().map(|s| s.to_string()).collect() }
    }

    /// A name for the field `field` inside type `parent`; `preferred` is the shared type's own
    /// name, used when free (so that a shared type keeps one name wherever possible).
    fn take(&mut self, field: &str, parent: &str, preferred: Option<&str>) -> String {
        let base = camel(field, "T");
        let prefixed = format!("{parent}{base}");
        let name = preferred
            .into_iter()
            .map(str::to_owned)
            .chain([base, prefixed.clone()])
            .chain((2..).map(|n| format!("{prefixed}{n}")))
            .find(|name| free(&self.taken, name))
            .expect("numbered names never run out");
        self.taken.insert(name.clone());
        self.taken.insert(format!("{name}Builder"));
        name
    }
}
