//! The type space: every structure and enumeration of the IR gets a Rust type, one per shape,
//! decided before anything is emitted (after typify's `TypeSpace`).
//!
//! - **Shape.** Two fields share a type when they have the same name and the same shape: the same
//!   member names, types, required flags, enum values, encryption and encoding markers, all the
//!   way down. Descriptions do not count. A member more or less (even an optional one) is another
//!   shape. An enumeration's shape is its name and its values. A response's or a payload's shape
//!   is its top-level fields, so a query answer and a notification payload with the same fields
//!   are one type. An encrypted field is plain text in a request (`Sensitive`) and ciphertext in
//!   a response (`Encrypted`), so shapes holding one differ by side.
//! - **Home.** A type used by one operation (or notification) is defined in that operation's
//!   module. A type used by several is defined in `v3::<family>::types` when they are all of one
//!   family, in `webhook::types` when they are all notifications, else in the crate's `types`
//!   module, compiled when any of its users' features is on.
//! - **Names.** In an operation's module every type it uses has a name, given in field order by
//!   the first-come rule (the field name in CamelCase; taken → prefixed by the enclosing type's
//!   name; then numbered); a shared type is re-exported there under that name. In a shared
//!   module, shapes of the same name are ranked by number of uses (then by their first use): the
//!   first keeps the name, the others are prefixed by the structure holding their first use
//!   (`IdentityType`), else by their first user's path (`TransactionsIdAmount`).
//!   A shared response or payload is named after the notification's `original_type`
//!   (`transaction` → `Transaction`), or its first operation's path (`…Response`).
//!   A name therefore changes only when a page that uses a type of that name changes.

use std::collections::{BTreeMap, BTreeSet};

use crate::ir::{Api, Encryption, Field, Protocol, Response, TypeDef, TypeKind};
use crate::naming::{camel, enum_values, RESERVED_TYPES};

/// Fills `api.types` and every field's `rust.type_name` / `rust.type_path`.
pub fn assign(api: &mut Api) {
    let owners = owners(api);
    // What each shape is and who uses it, in traversal order.
    let mut shapes: BTreeMap<String, Shape> = BTreeMap::new();
    let mut order = 0;
    visit(api, &mut |owner, site, node| {
        let shape = shapes.entry(node.key.clone()).or_insert_with(|| {
            order += 1;
            let parent = match node.parent {
                Parent::Type(key) | Parent::Top(_, Some(key)) => Some(key.to_owned()),
                Parent::Top(_, None) => None,
            };
            Shape {
                kind: node.kind,
                base: node.base.clone(),
                first: order,
                uses: Vec::new(),
                request: false,
                response: false,
                parent,
            }
        });
        shape.uses.push((owner, site.to_owned()));
        match node.side {
            Side::Request => shape.request = true,
            Side::Response => shape.response = true,
        }
    });

    // Home and name of every shared shape: in each home, the most used shape of a name keeps it;
    // the others are named after the type holding them (parents first), else their first user.
    let mut homes: BTreeMap<String, (Vec<String>, String)> = BTreeMap::new();
    let mut groups: BTreeMap<(Vec<String>, String), Vec<&String>> = BTreeMap::new();
    for (key, shape) in &shapes {
        let users: BTreeSet<usize> = shape.uses.iter().map(|(o, _)| *o).collect();
        if users.len() > 1 {
            let base = shape.base.clone().unwrap_or_else(|| top_level_base(shape, &owners));
            groups.entry((home(&users, &owners), base)).or_default().push(key);
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
    let mut rest = Vec::new();
    for ((module, base), keys) in &mut groups {
        keys.sort_by_key(|key| (std::cmp::Reverse(shapes[*key].uses.len()), shapes[*key].first));
        match take(module, Box::new(std::iter::once(base.clone()))) {
            Some(name) => {
                homes.insert(keys[0].clone(), (module.clone(), name));
                rest.extend(keys[1..].iter().map(|key| (module, base, *key)));
            }
            None => rest.extend(keys.iter().map(|key| (module, base, *key))),
        }
    }
    rest.sort_by_key(|(_, _, key)| (depth(key, &shapes), shapes[*key].first));
    for (module, base, key) in rest {
        let shape = &shapes[key];
        let parent = shape.parent.as_ref().and_then(|parent| match homes.get(parent) {
            Some((_, name)) => Some(name.clone()),
            None => shapes.get(parent).and_then(|p| p.base.clone()),
        });
        let qualified = format!("{}{base}", owners[shape.uses[0].0].qualifier);
        let candidates = parent
            .map(|parent| format!("{parent}{base}"))
            .into_iter()
            .chain([qualified.clone()])
            .chain((2..).map(move |n| format!("{qualified}{n}")));
        let name = take(module, Box::new(candidates)).expect("numbered names never run out");
        homes.insert(key.clone(), (module.clone(), name));
    }

    // Names in each user's module, in field order; local shapes are defined there.
    let mut local: BTreeMap<(usize, String), String> = BTreeMap::new();
    let mut namers: BTreeMap<usize, TypeNames> = BTreeMap::new();
    visit(api, &mut |owner, _site, node| {
        if local.contains_key(&(owner, node.key.clone())) {
            return;
        }
        let name = match &node.base {
            None => node.fixed.to_owned(),
            Some(_) => {
                let parent = match node.parent {
                    Parent::Top(name, _) => name.to_owned(),
                    Parent::Type(key) => local.get(&(owner, key.to_owned())).cloned().unwrap_or_default(),
                };
                let namer = namers.entry(owner).or_insert_with(TypeNames::new);
                let preferred = homes.get(&node.key).map(|(_, name)| name.as_str());
                namer.take(&node.field_name, &parent, preferred)
            }
        };
        local.insert((owner, node.key.clone()), name);
    });

    let mut types = Vec::new();
    let mut done = BTreeSet::new();
    let mut assigned: BTreeMap<(usize, String), (String, String)> = BTreeMap::new();
    for ((owner, key), local_name) in &local {
        let (module, name) = match homes.get(key) {
            Some((module, name)) => (module.clone(), name.clone()),
            None => (owners[*owner].module.clone(), local_name.clone()),
        };
        let path = TypeDef { name: name.clone(), module: module.clone(), ..placeholder() }.path();
        assigned.insert((*owner, key.clone()), (local_name.clone(), path));
        if done.insert(key.clone()) {
            let shape = &shapes[key];
            let features: BTreeSet<String> = shape.uses.iter().map(|(o, _)| owners[*o].feature.clone()).collect();
            let mut uses: Vec<String> =
                shape.uses.iter().map(|(o, site)| format!("{} {site}", owners[*o].label)).collect();
            uses.sort();
            uses.dedup();
            types.push(TypeDef {
                name,
                module,
                features: features.into_iter().collect(),
                kind: shape.kind,
                uses,
                request: shape.request,
                response: shape.response,
                shape: placeholder().shape,
            });
        }
    }
    fill(api, &assigned);
    // The shape of each type: its first use, with its members' names filled.
    let mut shapes_of: BTreeMap<String, Field> = BTreeMap::new();
    visit_fields(api, &mut |key, field| {
        shapes_of.entry(key.to_owned()).or_insert_with(|| field.clone());
    });
    let keys: BTreeMap<String, String> =
        assigned.iter().map(|((_, key), (_, path))| (path.clone(), key.clone())).collect();
    for def in &mut types {
        if let Some(field) = keys.get(&def.path()).and_then(|key| shapes_of.get(key)) {
            def.shape = field.clone();
        }
    }
    types.sort_by(|a, b| (&a.module, &a.name).cmp(&(&b.module, &b.name)));
    api.types = types;
}

fn placeholder() -> TypeDef {
    TypeDef {
        name: String::new(),
        module: Vec::new(),
        features: Vec::new(),
        kind: TypeKind::Struct,
        uses: Vec::new(),
        request: false,
        response: false,
        shape: Field::new("", crate::ir::Type::Object, false),
    }
}

fn free(taken: &BTreeSet<String>, name: &str) -> bool {
    !taken.contains(name) && !taken.contains(&format!("{name}Builder")) && !name.ends_with("Builder")
}

struct Shape {
    kind: TypeKind,
    /// The name a nested shape starts from (`Amount`); `None` for a response or payload.
    base: Option<String>,
    /// Order of first appearance.
    first: usize,
    /// (owner, site) of every use.
    uses: Vec<(usize, String)>,
    request: bool,
    response: bool,
    /// The shape holding the first use (a structure, or a response or payload), if any.
    parent: Option<String>,
}

/// An operation or a notification: what owns fields.
struct Owner {
    module: Vec<String>,
    /// The cargo feature compiling it.
    feature: String,
    /// `POST /v3/pay/transactions/jsapi` or `TRANSACTION.SUCCESS`.
    label: String,
    /// Prefix that tells its types apart in a shared module (`TransactionsId`).
    qualifier: String,
    /// The family module (`["v3", "pay"]`), for operations.
    family_module: Option<Vec<String>>,
    /// The name a notification's payload type takes when shared (`Transaction`).
    payload_name: Option<String>,
    protocol: Protocol,
}

fn owners(api: &Api) -> Vec<Owner> {
    let mut owners = Vec::new();
    for op in &api.operations {
        let inner: Vec<&str> = op.module[2.min(op.module.len())..op.module.len().saturating_sub(1)]
            .iter()
            .map(String::as_str)
            .filter(|m| !m.starts_with("by_"))
            .collect();
        let qualifier = if inner.is_empty() { camel(&op.family, "T") } else { camel(&inner.join("_"), "T") };
        owners.push(Owner {
            module: op.module.clone(),
            feature: op.family.clone(),
            label: format!("{} {}", op.method.as_str().to_uppercase(), op.path),
            qualifier,
            family_module: Some(op.module[..2.min(op.module.len())].to_vec()),
            payload_name: None,
            protocol: op.protocol,
        });
    }
    for n in &api.notifications {
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
        owners.push(Owner {
            module: n.module.clone(),
            feature: "notifications".to_owned(),
            label: n.event_type.clone(),
            qualifier: camel(&n.event_type, "T"),
            family_module: None,
            payload_name: Some(original.unwrap_or_else(|| camel(prefix, "T"))),
            protocol: n.protocol,
        });
    }
    owners
}

fn home(users: &BTreeSet<usize>, owners: &[Owner]) -> Vec<String> {
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

/// What tells an APIv2 shape from an APIv3 one of the same members: XML members are text on the
/// wire, so the two never share a Rust type (and APIv3's types keep their names and homes).
fn protocol_prefix(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::V3 => "",
        Protocol::V2 => "2|",
    }
}

/// The name of a shared response or payload.
fn top_level_base(shape: &Shape, owners: &[Owner]) -> String {
    shape
        .uses
        .iter()
        .find_map(|(o, _)| owners[*o].payload_name.clone())
        .unwrap_or_else(|| format!("{}Response", owners[shape.uses[0].0].qualifier))
}

/// Which side a field is on: requests get builders, responses decoding schemas.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Request,
    Response,
}

/// A typed field met by [`visit`].
struct Node<'a> {
    key: String,
    kind: TypeKind,
    /// Name base of a nested shape; `None` for a response or payload (named `fixed`).
    base: Option<String>,
    fixed: &'static str,
    field_name: String,
    /// The enclosing type.
    parent: Parent<'a>,
    side: Side,
}

/// The type a field sits in: a request, response or payload (by its fixed name, and its shape's
/// key for the last two), or a nested structure (by its key).
#[derive(Clone, Copy)]
enum Parent<'a> {
    Top(&'static str, Option<&'a str>),
    Type(&'a str),
}

/// How deep a shape's first use is: 0 for a response or payload.
fn depth(key: &str, shapes: &BTreeMap<String, Shape>) -> usize {
    let mut depth = 0;
    let mut at = key;
    while let Some(parent) = shapes.get(at).and_then(|s| s.parent.as_deref()) {
        depth += 1;
        at = parent;
    }
    depth
}

/// Whether a field becomes a structure: an object, an array of objects, or a string carrying one;
/// path, query and header parameters stay untyped.
pub fn has_struct(field: &Field, structured: bool) -> bool {
    structured
        && !field.children.is_empty()
        && matches!(field.ty, crate::ir::Type::Object | crate::ir::Type::ObjectArray | crate::ir::Type::String)
}

fn is_enum(field: &Field) -> bool {
    field.rust.as_ref().is_some_and(|r| !r.variants.is_empty())
}

fn member_key(field: &Field, side: Side, structured: bool) -> String {
    let encrypted = match (field.encrypted, side) {
        (Some(Encryption::RsaPubkey), Side::Request) => "sensitive",
        (Some(Encryption::RsaPubkey), Side::Response) => "encrypted",
        (Some(Encryption::AesGcm), _) => "aes",
        (Some(Encryption::AesEcb), _) => "aes-ecb",
        (None, _) => "",
    };
    let inner =
        if has_struct(field, structured) { struct_key(&field.name, &field.children, side) } else { String::new() };
    let mut key = format!(
        "{}:{}:{}:{}:{}:{:?}:{:?}:{}",
        field.name,
        field.ty.as_str(),
        u8::from(field.required),
        enum_values(field).join("|"),
        encrypted,
        field.encoded,
        field.filled,
        inner
    );
    if field.indexed > 0 {
        key += &format!(":indexed{}", field.indexed);
    }
    // `text` is a plain string, as without a format: no other Rust type.
    if let Some(format) = field.time_format() {
        key += &format!(":format={}", format.as_str());
    }
    key
}

fn struct_key(name: &str, members: &[Field], side: Side) -> String {
    let members: Vec<String> = members.iter().map(|m| member_key(m, side, true)).collect();
    format!("S{name}({})", members.join(","))
}

fn enum_key(field: &Field) -> String {
    format!(
        "E{}:{}:{}",
        field.name,
        u8::from(matches!(field.ty, crate::ir::Type::Integer | crate::ir::Type::IntegerArray)),
        enum_values(field).join("|")
    )
}

fn top_key(prefix: &str, fields: &[Field], side: Side) -> String {
    format!("{prefix}{}", struct_key("", fields, side))
}

/// Calls `f(owner, site, node)` for every typed field of the API, in a fixed order: operations
/// (path, query, headers, JSON body, multipart body, response), then notifications (payload).
fn visit(api: &Api, f: &mut dyn FnMut(usize, &str, &Node<'_>)) {
    let mut owner = 0;
    for op in &api.operations {
        let r = &op.request;
        let p = protocol_prefix(op.protocol);
        for (part, fields) in [("path", &r.path_params), ("query", &r.query), ("headers", &r.headers)] {
            walk(owner, p, part, fields, Side::Request, false, Parent::Top("Request", None), f);
        }
        if let Some(json) = &r.json {
            walk(owner, p, "json", &json.fields, Side::Request, true, Parent::Top("Request", None), f);
        }
        if let Some(body) = &r.multipart {
            walk(owner, p, "body", &body.fields, Side::Request, true, Parent::Top("Request", None), f);
        }
        if let Some(xml) = &r.xml {
            walk(owner, p, "xml", &xml.fields, Side::Request, true, Parent::Top("Request", None), f);
        }
        if let Response::Json { fields } = &op.response {
            let node = Node {
                key: top_key(p, fields, Side::Response),
                kind: TypeKind::Struct,
                base: None,
                fixed: "Response",
                field_name: String::new(),
                parent: Parent::Top("", None),
                side: Side::Response,
            };
            f(owner, "response", &node);
            walk(owner, p, "response", fields, Side::Response, true, Parent::Top("Response", Some(&node.key)), f);
        }
        owner += 1;
    }
    for n in &api.notifications {
        let p = protocol_prefix(n.protocol);
        if n.untyped.is_none() {
            let node = Node {
                key: top_key(p, &n.payload, Side::Response),
                kind: TypeKind::Struct,
                base: None,
                fixed: "Payload",
                field_name: String::new(),
                parent: Parent::Top("", None),
                side: Side::Response,
            };
            f(owner, "payload", &node);
            walk(owner, p, "payload", &n.payload, Side::Response, true, Parent::Top("Payload", Some(&node.key)), f);
        }
        owner += 1;
    }
}

#[allow(clippy::too_many_arguments)] // one walk, its context spelled out
fn walk(
    owner: usize,
    prefix: &str,
    at: &str,
    fields: &[Field],
    side: Side,
    structured: bool,
    parent: Parent<'_>,
    f: &mut dyn FnMut(usize, &str, &Node<'_>),
) {
    for field in fields {
        let site = format!("{at}.{}", field.name);
        if has_struct(field, structured) {
            let key = format!("{prefix}{}", struct_key(&field.name, &field.children, side));
            let node = Node {
                key: key.clone(),
                kind: TypeKind::Struct,
                base: Some(camel(&field.name, "T")),
                fixed: "",
                field_name: field.name.clone(),
                parent,
                side,
            };
            f(owner, &site, &node);
            walk(owner, prefix, &site, &field.children, side, true, Parent::Type(&key), f);
        } else if is_enum(field) {
            let node = Node {
                key: format!("{prefix}{}", enum_key(field)),
                kind: TypeKind::Enum,
                base: Some(camel(&field.name, "T")),
                fixed: "",
                field_name: field.name.clone(),
                parent,
                side,
            };
            f(owner, &site, &node);
        }
    }
}

/// Sets `rust.type_name` and `rust.type_path` of every typed field.
fn fill(api: &mut Api, assigned: &BTreeMap<(usize, String), (String, String)>) {
    let set = |owner: usize, key: String, field: &mut Field| {
        if let (Some((name, path)), Some(rust)) = (assigned.get(&(owner, key)), field.rust.as_mut()) {
            rust.type_name = Some(name.clone());
            rust.type_path = Some(path.clone());
        }
    };
    type Set<'a> = &'a dyn Fn(usize, String, &mut Field);
    fn walk_mut(owner: usize, prefix: &str, fields: &mut [Field], side: Side, structured: bool, set: Set<'_>) {
        for field in fields {
            if has_struct(field, structured) {
                let key = format!("{prefix}{}", struct_key(&field.name, &field.children, side));
                walk_mut(owner, prefix, &mut field.children, side, true, set);
                set(owner, key, field);
            } else if is_enum(field) {
                let key = format!("{prefix}{}", enum_key(field));
                set(owner, key, field);
            }
        }
    }
    let mut owner = 0;
    for op in &mut api.operations {
        let p = protocol_prefix(op.protocol);
        if let Response::Json { fields } = &op.response {
            op.response_type = assigned.get(&(owner, top_key(p, fields, Side::Response))).map(|(_, path)| path.clone());
        }
        let r = &mut op.request;
        for fields in [&mut r.path_params, &mut r.query, &mut r.headers] {
            walk_mut(owner, p, fields, Side::Request, false, &set);
        }
        for part in [&mut r.json, &mut r.multipart, &mut r.xml].into_iter().flatten() {
            walk_mut(owner, p, &mut part.fields, Side::Request, true, &set);
        }
        if let Response::Json { fields } = &mut op.response {
            walk_mut(owner, p, fields, Side::Response, true, &set);
        }
        owner += 1;
    }
    for n in &mut api.notifications {
        let p = protocol_prefix(n.protocol);
        if n.untyped.is_none() {
            n.payload_type =
                assigned.get(&(owner, top_key(p, &n.payload, Side::Response))).map(|(_, path)| path.clone());
        }
        walk_mut(owner, p, &mut n.payload, Side::Response, true, &set);
        owner += 1;
    }
}

/// Calls `f(key, field)` for every typed field, with its names filled (members first).
fn visit_fields(api: &Api, f: &mut dyn FnMut(&str, &Field)) {
    fn walk(prefix: &str, fields: &[Field], side: Side, structured: bool, f: &mut dyn FnMut(&str, &Field)) {
        for field in fields {
            if has_struct(field, structured) {
                f(&format!("{prefix}{}", struct_key(&field.name, &field.children, side)), field);
                walk(prefix, &field.children, side, true, f);
            } else if is_enum(field) {
                f(&format!("{prefix}{}", enum_key(field)), field);
            }
        }
    }
    for op in &api.operations {
        let r = &op.request;
        let p = protocol_prefix(op.protocol);
        for fields in [&r.path_params, &r.query, &r.headers] {
            walk(p, fields, Side::Request, false, f);
        }
        for part in [&r.json, &r.multipart, &r.xml].into_iter().flatten() {
            walk(p, &part.fields, Side::Request, true, f);
        }
        if let Response::Json { fields } = &op.response {
            let top = Field { name: "response".into(), children: fields.clone(), ..placeholder().shape };
            f(&top_key(p, fields, Side::Response), &top);
            walk(p, fields, Side::Response, true, f);
        }
    }
    for n in &api.notifications {
        let p = protocol_prefix(n.protocol);
        if n.untyped.is_none() {
            let top = Field { name: "payload".into(), children: n.payload.clone(), ..placeholder().shape };
            f(&top_key(p, &n.payload, Side::Response), &top);
            walk(p, &n.payload, Side::Response, true, f);
        }
    }
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
