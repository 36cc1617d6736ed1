//! The type space: every structure and enumeration of the IR gets a Rust type, one per shape,
//! decided before anything is emitted (after typify's `TypeSpace`), and every field its Rust
//! names.
//!
//! It sits beside the IR, which stays as the pages say (symbols apart from shapes, as in
//! smithy-rs): [`TypeSpace::new`] borrows a loaded API and holds its Rust names ([`Names`],
//! `naming.rs`: modules, event variants, fields' names), one [`TypeDef`] per shape (its name,
//! home module, path, users and shape, borrowed from its first use) behind an opaque [`TypeId`],
//! and the lookups emit and diff read beside the IR: the type a field has ([`TypeSpace::type_of`]: its `TypeId` and its name in
//! its owner's module) and the type of a response or payload ([`TypeSpace::top`]). Fields and
//! owners are known by their addresses ([`FieldKey`]): the borrow keeps the API unchanged.
//!
//! It is made in three steps, one module each: `uses.rs` reads the typed uses through the one
//! field walk (`fields.rs`), each with its shape found through its key (`keys.rs`: the shape map);
//! `names.rs` decides the homes and names of shared shapes, then each type's name in every module
//! that uses it; this module numbers the definitions and fills the lookups.
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

mod keys;
mod names;
mod uses;

use std::collections::{BTreeSet, HashMap};

pub use keys::has_struct;

use crate::fields::{FieldKey, Owner};
use crate::ir::{Api, Field};
use crate::naming::Names;
use uses::At;

/// A Rust type of the type space: an index into it, meaningful only with the space that gave it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TypeId(u32);

/// One Rust type for a structure or an enumeration: every field of the same shape (names, types,
/// required flags, enum values, markers, nesting) and the same name shares it.
#[derive(Clone, Debug)]
pub struct TypeDef<'a> {
    /// The Rust name, e.g. `Amount`.
    pub name: String,
    /// The module defining it: an operation's or notification's own module when only it uses the
    /// type, else `v3::<family>::types` or, across families, `types`.
    pub module: Vec<String>,
    /// Its path from the crate root, `v3::pay::types::Amount`.
    pub path: String,
    /// Cargo features any of which compiles it (the families of its users; `notifications`).
    pub features: Vec<String>,
    /// Where it is used, e.g. `POST /v3/pay/transactions/jsapi json.amount`, sorted.
    pub uses: Vec<String>,
    /// Used in a request (it gets a builder).
    pub request: bool,
    /// Used in a response or a notification payload (it gets a decoding schema).
    pub response: bool,
    /// The shape, as its first use has it.
    pub shape: Shape<'a>,
}

/// What a type holds, borrowed from the IR (its first use).
#[derive(Clone, Copy, Debug)]
pub enum Shape<'a> {
    /// A structure: an object, an array's items, the structure inside a string, or a response or
    /// payload (named `response` / `payload`, without a description).
    Struct { name: &'a str, description: &'a str, members: &'a [Field] },
    /// An enumeration of strings or integers: the field holding it.
    Enum(&'a Field),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeKind {
    Struct,
    Enum,
}

impl TypeDef<'_> {
    pub fn kind(&self) -> TypeKind {
        match self.shape {
            Shape::Struct { .. } => TypeKind::Struct,
            Shape::Enum(_) => TypeKind::Enum,
        }
    }
}

/// A field's type, as its operation's (or notification's) module names it.
#[derive(Clone, Debug)]
pub struct FieldType {
    pub id: TypeId,
    /// Its name in that module, e.g. `DishList` (defined there, or re-exported under it).
    pub local: String,
}

/// The Rust names and types of one API, beside its IR: what emit and diff read with it.
pub struct TypeSpace<'a> {
    names: Names<'a>,
    /// Sorted by module and name; a [`TypeId`] is a place here.
    types: Vec<TypeDef<'a>>,
    fields: HashMap<FieldKey, FieldType>,
    /// The type of each JSON response and typed payload, by its operation or notification.
    tops: HashMap<usize, TypeId>,
}

impl<'a> TypeSpace<'a> {
    /// Names `api` (`naming.rs`) and gives every structure and enumeration in it a type.
    pub fn new(api: &'a Api) -> TypeSpace<'a> {
        let names = Names::new(api);
        let owners = names::owner_infos(api, &names);
        let (uses, shapes) = uses::uses(api);
        let homes = names::shared(&shapes, &owners);
        let local = names::local(&uses, &homes);

        // One definition per shape: in its shared home, else in its one user's module.
        let mut defs: Vec<(usize, TypeDef<'a>)> = Vec::new();
        let mut done = BTreeSet::new();
        for (&(owner, shape), local_name) in &local {
            if !done.insert(shape) {
                continue;
            }
            let (module, name) = match homes.get(&shape) {
                Some((module, name)) => (module.clone(), name.clone()),
                None => (owners[owner].module.clone(), local_name.clone()),
            };
            let of = &shapes[shape];
            let features: BTreeSet<String> = of.uses.iter().map(|(o, _)| owners[*o].feature.clone()).collect();
            let mut sites: Vec<String> =
                of.uses.iter().map(|(o, site)| format!("{} {site}", owners[*o].label)).collect();
            sites.sort();
            sites.dedup();
            let mut path = module.join("::");
            if !path.is_empty() {
                path.push_str("::");
            }
            path += &name;
            let def = TypeDef {
                name,
                module,
                path,
                features: features.into_iter().collect(),
                uses: sites,
                request: of.request,
                response: of.response,
                shape: of.first,
            };
            defs.push((shape, def));
        }
        defs.sort_by(|(_, a), (_, b)| (&a.module, &a.name).cmp(&(&b.module, &b.name)));
        let ids: HashMap<usize, TypeId> =
            defs.iter().enumerate().map(|(index, (shape, _))| (*shape, TypeId(index as u32))).collect();
        let types = defs.into_iter().map(|(_, def)| def).collect();

        let mut fields = HashMap::new();
        let mut tops = HashMap::new();
        for one in &uses {
            let id = ids[&one.shape];
            match one.at {
                At::Field(field, _) => {
                    fields.insert(field, FieldType { id, local: local[&(one.owner, one.shape)].clone() });
                }
                At::Top(owner, _) => {
                    tops.insert(owner.key(), id);
                }
            }
        }
        TypeSpace { names, types, fields, tops }
    }

    /// The Rust names of the API: its modules, event variants and fields' names.
    pub fn names(&self) -> &Names<'a> {
        &self.names
    }

    /// Every type, sorted by module and name.
    pub fn types(&self) -> &[TypeDef<'a>] {
        &self.types
    }

    pub fn def(&self, id: TypeId) -> &TypeDef<'a> {
        &self.types[id.0 as usize]
    }

    /// The structure or enumeration `field` has, if any (a field of this space's API).
    pub fn type_of(&self, field: &Field) -> Option<&FieldType> {
        self.fields.get(&FieldKey::of(field))
    }

    /// The type of an operation's JSON response or a notification's typed payload.
    pub fn top(&self, owner: Owner<'_>) -> Option<TypeId> {
        self.tops.get(&owner.key()).copied()
    }
}
