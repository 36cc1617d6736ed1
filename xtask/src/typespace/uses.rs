//! The typed uses of an API, read through the one field walk: every field that has a structure or
//! an enumeration, and every JSON response and typed payload, in walk order, each with its shape
//! (found through its key: one shape per key, numbered in order of first appearance).

use std::collections::HashMap;

use super::keys::{enum_key, has_struct, protocol_prefix, struct_key, top_key};
use super::{Shape, TypeKind};
use crate::fields::{owners, FieldKey, Owner, Part, Side};
use crate::ir::Api;
use crate::naming::{camel, is_enum};

/// One use of a shape.
pub struct Use<'a> {
    /// The operation or notification, by its place among [`owners`].
    pub owner: usize,
    pub shape: usize,
    pub at: At<'a>,
    /// The type it sits in.
    pub parent: Parent,
}

/// What has the type.
#[derive(Clone, Copy)]
pub enum At<'a> {
    /// A field, named after it in its owner's module (`Amount`).
    Field(FieldKey, &'a str),
    /// An owner's response or payload, named `Response` or `Payload` in its module.
    Top(Owner<'a>, &'static str),
}

/// The type a use sits in: its owner's request, response or payload (by its fixed name, and for
/// the last two their shape), or a structure (by its shape).
#[derive(Clone, Copy)]
pub enum Parent {
    Top(&'static str, Option<usize>),
    Type(usize),
}

/// A distinct shape: what every use of it has in common.
pub struct ShapeUses<'a> {
    /// The name a nested shape starts from (`Amount`); `None` for a response or payload.
    pub base: Option<String>,
    /// (owner, site) of every use.
    pub uses: Vec<(usize, String)>,
    pub request: bool,
    pub response: bool,
    /// The shape holding the first use (a structure, or a response or payload), if any.
    pub parent: Option<usize>,
    /// The shape as its first use has it.
    pub first: Shape<'a>,
}

/// The uses in walk order, and the shapes in order of first appearance.
pub fn uses(api: &Api) -> (Vec<Use<'_>>, Vec<ShapeUses<'_>>) {
    let mut found = Found::default();
    for (owner, of) in owners(api).enumerate() {
        let prefix = protocol_prefix(of.protocol());
        for part in of.parts() {
            let top = match (part.part, of) {
                (Part::Response, _) => Some(("Response", "response")),
                (Part::Payload, Owner::Notification(n)) if n.untyped.is_none() => Some(("Payload", "payload")),
                _ => None,
            };
            let parent = match (part.side, top) {
                // A notification's headers and envelope are the hand-written code's.
                (Side::Response, None) => continue,
                (Side::Request, _) => Parent::Top("Request", None),
                (Side::Response, Some((fixed, site))) => {
                    let key = top_key(prefix, part.fields, Side::Response);
                    let first = Shape::Struct { name: site, description: "", members: part.fields };
                    let shape = found.shape(key, None, Parent::Top("", None), first);
                    found.add(owner, site.to_owned(), shape, At::Top(of, fixed), Parent::Top("", None), part.side);
                    Parent::Top(fixed, Some(shape))
                }
            };
            for at in part.fields() {
                // Members of a structure only: a row nested under anything else has no type.
                let parent = match at.parent {
                    None => parent,
                    Some(outer) => match found.structures.get(&FieldKey::of(outer)) {
                        Some(&shape) => Parent::Type(shape),
                        None => continue,
                    },
                };
                let field = at.field;
                let (key, kind) = if has_struct(field, part.part.structured() || at.parent.is_some()) {
                    (format!("{prefix}{}", struct_key(&field.name, &field.children, at.side)), TypeKind::Struct)
                } else if is_enum(field) {
                    (format!("{prefix}{}", enum_key(field)), TypeKind::Enum)
                } else {
                    continue;
                };
                let first = match kind {
                    TypeKind::Struct => {
                        Shape::Struct { name: &field.name, description: &field.description, members: &field.children }
                    }
                    TypeKind::Enum => Shape::Enum(field),
                };
                let shape = found.shape(key, Some(camel(&field.name, "T")), parent, first);
                if kind == TypeKind::Struct {
                    found.structures.insert(FieldKey::of(field), shape);
                }
                found.add(owner, at.site(), shape, At::Field(FieldKey::of(field), &field.name), parent, at.side);
            }
        }
    }
    (found.uses, found.shapes)
}

#[derive(Default)]
struct Found<'a> {
    uses: Vec<Use<'a>>,
    shapes: Vec<ShapeUses<'a>>,
    by_key: HashMap<String, usize>,
    /// The shape of each structure met so far, for its members' parent.
    structures: HashMap<FieldKey, usize>,
}

impl<'a> Found<'a> {
    /// The shape of `key`, new when first met.
    fn shape(&mut self, key: String, base: Option<String>, parent: Parent, first: Shape<'a>) -> usize {
        let next = self.shapes.len();
        let shape = *self.by_key.entry(key).or_insert(next);
        if shape == next {
            let parent = match parent {
                Parent::Type(shape) | Parent::Top(_, Some(shape)) => Some(shape),
                Parent::Top(_, None) => None,
            };
            self.shapes.push(ShapeUses { base, uses: Vec::new(), request: false, response: false, parent, first });
        }
        shape
    }

    /// A use of `shape`, at `site` (`json.amount`, `response`) in `owner`.
    fn add(&mut self, owner: usize, site: String, shape: usize, at: At<'a>, parent: Parent, side: Side) {
        let uses = &mut self.shapes[shape];
        uses.uses.push((owner, site));
        match side {
            Side::Request => uses.request = true,
            Side::Response => uses.response = true,
        }
        self.uses.push(Use { owner, shape, at, parent });
    }
}
