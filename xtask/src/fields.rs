//! The one walk over an API's fields: every row of every operation and notification, with the
//! part it is in (query, JSON body, response, payload, …), its side (request or response), its
//! parent row and its site (`json.amount.total`).
//!
//! The type space, the naming pass, `codegen --stats` (coverage and times) and emit all read the
//! fields through it, so they agree on which parts an owner has and in which order they come:
//! operations first (path, query, headers, JSON body, multipart body, XML body, response), then
//! notifications (headers, envelope, payload), each row before its members (pre-order). Which of
//! these a pass looks at (a notification's payload sits inside its envelope's ciphertext, for
//! instance) is the pass's own business.

use std::rc::Rc;

use crate::ir::{Api, Field, Notification, Operation, Protocol, Request, Response};

/// A field's identity, for the tables kept beside the IR (its Rust names, its type): its address.
/// The IR is not changed once loaded, so the address holds while the API it belongs to is
/// borrowed, which the tables' lifetimes make sure of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldKey(usize);

impl FieldKey {
    pub fn of(field: &Field) -> FieldKey {
        FieldKey(field as *const Field as usize)
    }
}

/// Which side of the exchange a field is on: requests get builders, responses (and
/// notifications) decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    Request,
    Response,
}

/// Where in its operation or notification a list of fields is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    /// Path parameters.
    Path,
    /// Query-string parameters.
    Query,
    /// Request headers, or the headers WeChat Pay sends with a notification.
    Headers,
    /// The JSON body.
    Json,
    /// The `multipart/form-data` body (`body` row).
    Multipart,
    /// APIv2's XML body.
    Xml,
    /// A JSON (or APIv2 XML) response.
    Response,
    /// A notification's envelope (`id`, `resource`, …).
    Envelope,
    /// A notification's decrypted payload.
    Payload,
}

impl Part {
    /// A request's parts, in walk order.
    pub const REQUEST: [Part; 6] = [Part::Path, Part::Query, Part::Headers, Part::Json, Part::Multipart, Part::Xml];

    /// Its name at the start of a field's site: `path`, `query`, `headers`, `json`, `body`, `xml`,
    /// `response`, `envelope`, `payload`.
    pub fn name(self) -> &'static str {
        match self {
            Part::Path => "path",
            Part::Query => "query",
            Part::Headers => "headers",
            Part::Json => "json",
            Part::Multipart => "body",
            Part::Xml => "xml",
            Part::Response => "response",
            Part::Envelope => "envelope",
            Part::Payload => "payload",
        }
    }

    /// Whether its fields can hold structures: path, query and header parameters are sent as
    /// text, so an object there stays untyped.
    pub fn structured(self) -> bool {
        !matches!(self, Part::Path | Part::Query | Part::Headers)
    }

    /// The fields of this part of `request`: none when the request has no such body, or for a
    /// part no request has.
    pub fn of_request(self, request: &Request) -> &[Field] {
        match self {
            Part::Path => &request.path_params,
            Part::Query => &request.query,
            Part::Headers => &request.headers,
            Part::Json => body(&request.json),
            Part::Multipart => body(&request.multipart),
            Part::Xml => body(&request.xml),
            Part::Response | Part::Envelope | Part::Payload => &[],
        }
    }
}

fn body(part: &Option<crate::ir::Part>) -> &[Field] {
    part.as_ref().map(|p| p.fields.as_slice()).unwrap_or_default()
}

/// What owns fields: an operation or a notification.
#[derive(Clone, Copy, Debug)]
pub enum Owner<'a> {
    Operation(&'a Operation),
    Notification(&'a Notification),
}

impl<'a> From<&'a Operation> for Owner<'a> {
    fn from(op: &'a Operation) -> Owner<'a> {
        Owner::Operation(op)
    }
}

impl<'a> From<&'a Notification> for Owner<'a> {
    fn from(n: &'a Notification) -> Owner<'a> {
        Owner::Notification(n)
    }
}

/// Every owner of `api`: its operations, then its notifications (the order of every walk).
pub fn owners(api: &Api) -> impl Iterator<Item = Owner<'_>> {
    api.operations.iter().map(Owner::Operation).chain(api.notifications.iter().map(Owner::Notification))
}

/// Every field of `api`, in walk order.
pub fn fields(api: &Api) -> impl Iterator<Item = FieldAt<'_>> {
    owners(api).flat_map(Owner::fields)
}

impl<'a> Owner<'a> {
    /// Its identity while its API is borrowed (as [`FieldKey`]'s).
    pub fn key(self) -> usize {
        match self {
            Owner::Operation(op) => op as *const Operation as usize,
            Owner::Notification(n) => n as *const Notification as usize,
        }
    }

    pub fn file(self) -> &'a str {
        match self {
            Owner::Operation(op) => &op.file,
            Owner::Notification(n) => &n.file,
        }
    }

    pub fn protocol(self) -> Protocol {
        match self {
            Owner::Operation(op) => op.protocol,
            Owner::Notification(n) => n.protocol,
        }
    }

    /// Its parts, in walk order: an operation's request parts (those it has), then its response
    /// when it is JSON; a notification's headers, envelope and payload.
    pub fn parts(self) -> Vec<PartAt<'a>> {
        let part = |part, side, fields: &'a [Field]| PartAt { owner: self, part, side, fields };
        match self {
            Owner::Operation(op) => {
                let mut parts: Vec<PartAt<'a>> = Part::REQUEST
                    .into_iter()
                    .map(|kind| part(kind, Side::Request, kind.of_request(&op.request)))
                    .collect();
                if let Response::Json { fields } = &op.response {
                    parts.push(part(Part::Response, Side::Response, fields));
                }
                parts
            }
            Owner::Notification(n) => vec![
                part(Part::Headers, Side::Response, &n.headers),
                part(Part::Envelope, Side::Response, &n.envelope),
                part(Part::Payload, Side::Response, &n.payload),
            ],
        }
    }

    /// Its fields, in walk order.
    pub fn fields(self) -> impl Iterator<Item = FieldAt<'a>> {
        self.parts().into_iter().flat_map(PartAt::fields)
    }
}

/// One part of an owner: its top-level fields.
#[derive(Clone, Copy, Debug)]
pub struct PartAt<'a> {
    pub owner: Owner<'a>,
    pub part: Part,
    pub side: Side,
    pub fields: &'a [Field],
}

impl<'a> PartAt<'a> {
    /// Every field of the part, each before its members.
    pub fn fields(self) -> Fields<'a> {
        let at: Rc<str> = Rc::from(self.part.name());
        Fields { part: self, stack: vec![(None, at, self.fields.iter())] }
    }
}

/// One field met by the walk.
#[derive(Clone, Debug)]
pub struct FieldAt<'a> {
    pub owner: Owner<'a>,
    pub part: Part,
    pub side: Side,
    pub field: &'a Field,
    /// The row it is nested under; `None` at the top of its part.
    pub parent: Option<&'a Field>,
    /// The parent's site (the part's name at the top).
    at: Rc<str>,
}

impl FieldAt<'_> {
    /// Where it is in its owner, by names: `json.amount.total`, `response.data.serial_no`.
    pub fn site(&self) -> String {
        format!("{}.{}", self.at, self.field.name)
    }
}

/// The walk over one part (see [`PartAt::fields`]).
pub struct Fields<'a> {
    part: PartAt<'a>,
    /// The lists being walked, innermost last: each with its parent and the parent's site.
    stack: Vec<(Option<&'a Field>, Rc<str>, std::slice::Iter<'a, Field>)>,
}

impl<'a> Iterator for Fields<'a> {
    type Item = FieldAt<'a>;

    fn next(&mut self) -> Option<FieldAt<'a>> {
        loop {
            let (parent, at, list) = self.stack.last_mut()?;
            let Some(field) = list.next() else {
                self.stack.pop();
                continue;
            };
            let met = FieldAt {
                owner: self.part.owner,
                part: self.part.part,
                side: self.part.side,
                field,
                parent: *parent,
                at: at.clone(),
            };
            // Its members come next, before its next sibling.
            if !field.children.is_empty() {
                self.stack.push((Some(field), Rc::from(met.site()), field.children.iter()));
            }
            return Some(met);
        }
    }
}
