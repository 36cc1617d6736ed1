//! Two IRs → a list of classified changes. Knows the IR and what the generated crate makes of it;
//! nothing of markdown or of how the changes are shown.
//!
//! Each operation and notification is compared field by field, as before shared types existed;
//! every change found inside a Rust type (a structure's member, an enumeration's values, a type's
//! name) remembers that type. Types are matched between the trees through the fields that use
//! them: a field present on both sides (same operation, same JSON path) pairs its old type with
//! its new one, whatever the type space (one per tree, read beside its IR) named or housed them. The same change to the same
//! pair of types at two or more places is then one change of that type, listing every place
//! (`group`); a change found at one place only stays with its operation.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use crate::fields::{self, Part};
use crate::ir::{Api, BaseUri, Field, Filled, Notification, Operation, Request, Response, TimeFormat};
use crate::typespace::TypeSpace;

/// One schema change, classified for users of the generated crate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    pub kind: Kind,
    /// What changed: one operation or notification, or a Rust type several fields use.
    #[serde(flatten)]
    pub subject: Subject,
    /// The field: for an operation, by its path in the request part or the response
    /// (`json.amount.total`, `query.mchid`, `response.data[].serial_no`, `payload.amount.total`);
    /// for a type, by its path in the type (`total`). Empty for the subject itself.
    pub path: String,
    pub breaking: bool,
    /// Why it is (or is not) breaking, for a reviewer.
    pub reason: String,
    /// The old value of what changed (a type, `required`/`optional`, a marker, enum values, …).
    pub old: Value,
    /// The new value.
    pub new: Value,
    /// Where the subject is: the operation itself for a change of an operation; every field
    /// having the type for a change of a type.
    pub uses: Vec<Use>,
}

/// What a change is a change of.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum Subject {
    /// `POST /v3/pay/transactions/jsapi` or `notification TRANSACTION.SUCCESS`, and its page,
    /// relative to its docs tree (the new one, or the old one when it is gone).
    Operation { operation: String, file: String },
    /// A Rust type used at several places, by its path in each tree.
    Type {
        #[serde(rename = "type")]
        ty: TypePair,
    },
}

impl Subject {
    /// The operation or notification, for a change of one.
    pub fn operation(&self) -> Option<&str> {
        match self {
            Subject::Operation { operation, .. } => Some(operation),
            Subject::Type { .. } => None,
        }
    }
}

/// A Rust type in the old and in the new tree, by its path from the crate root
/// (`types::Transaction`), paired through a field that has it on both sides.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct TypePair {
    pub old: String,
    pub new: String,
}

impl std::fmt::Display for TypePair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.old == self.new {
            write!(f, "{}", self.new)
        } else {
            write!(f, "{} (now {})", self.old, self.new)
        }
    }
}

/// Where a change's subject is: an operation or notification (`GET /v3/pay/transactions/id/{transaction_id}`),
/// the field there that has the type (`response.amount`; empty for the operation itself), and
/// its page.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Use {
    pub operation: String,
    pub path: String,
    pub file: String,
}

impl Use {
    /// The path in the operation of a change's field (`path`, relative to the subject):
    /// `response.amount.currency` for `currency` in the type at `response.amount`.
    pub fn field(&self, path: &str) -> String {
        match (self.path.is_empty(), path.is_empty()) {
            (_, true) => self.path.clone(),
            (true, false) => path.to_owned(),
            (false, false) => format!("{}.{path}", self.path),
        }
    }
}

impl std::fmt::Display for Use {
    /// `GET /v3/pay/transactions/id/{transaction_id} response.amount`, as `TypeDef::uses` says it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.operation)
        } else {
            write!(f, "{} {}", self.operation, self.path)
        }
    }
}

/// What changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    OperationAdded,
    OperationRemoved,
    NotificationAdded,
    NotificationRemoved,
    FieldAdded,
    FieldRemoved,
    /// Required ↔ optional.
    RequiredChanged,
    /// The documented type, or whether the field is an enumeration at all.
    TypeChanged,
    EnumValuesAdded,
    EnumValuesRemoved,
    EncryptedChanged,
    EncodedChanged,
    /// A request field left one part (query, JSON body, headers, …) for another.
    FieldMoved,
    /// JSON ↔ empty ↔ byte stream.
    ResponseKindChanged,
    /// The host the operation is served on (`base_uri` row).
    BaseUriChanged,
    /// APIv2: the client certificate, the nonce or a signed URL's fragment.
    TransportChanged,
    /// A string holds a time now, no longer, or in another format (`data-format`).
    FormatChanged,
    /// A field joins or leaves a group of alternatives (`data-one-of`).
    AlternativesChanged,
    /// The Rust type of a field has another name in its operation's module, or is defined
    /// elsewhere (the type space's local name and path).
    TypeRenamed,
    /// Title or description text (only with `--show-descriptions`).
    DescriptionChanged,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::OperationAdded => "operation added",
            Kind::OperationRemoved => "operation removed",
            Kind::NotificationAdded => "notification added",
            Kind::NotificationRemoved => "notification removed",
            Kind::FieldAdded => "field added",
            Kind::FieldRemoved => "field removed",
            Kind::RequiredChanged => "required changed",
            Kind::TypeChanged => "type changed",
            Kind::EnumValuesAdded => "enum values added",
            Kind::EnumValuesRemoved => "enum values removed",
            Kind::EncryptedChanged => "encryption changed",
            Kind::EncodedChanged => "encoding changed",
            Kind::FieldMoved => "field moved",
            Kind::ResponseKindChanged => "response kind changed",
            Kind::BaseUriChanged => "base URI changed",
            Kind::TransportChanged => "transport changed",
            Kind::FormatChanged => "format changed",
            Kind::AlternativesChanged => "alternatives changed",
            Kind::TypeRenamed => "Rust type renamed",
            Kind::DescriptionChanged => "description changed",
        }
    }
}

/// What to compare.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Also report title and description edits (never breaking).
    pub descriptions: bool,
}

/// Where a field sits, which decides what a change to it means for users of the generated crate
/// (every struct and enum `#[non_exhaustive]`; requests built through builders, responses and
/// payloads read through fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// A member of a request part, or of a structure inside one, set through a builder
    /// (`x(impl Into<T>)`, `set_x(Option<T>)`).
    Request { part: Part },
    /// A member of a response or notification payload, read through a field: `T` when required
    /// (decoded leniently), `Option<T>` when optional.
    Read,
    /// A notification header or envelope member: read by the hand-written notification code
    /// (`src/notify.rs`), held by no generated type.
    HandWritten,
}

impl Place {
    /// Who sets a request field: the IR says which fields the transport or the client fills
    /// (`Field.filled`, decided by `lower`). Only what the builder insists on can break a call.
    fn setter(self, field: &Field) -> Setter {
        match (self, field.filled) {
            (Place::Request { part: Part::Path }, _) => Setter::Always,
            (Place::Request { .. }, Some(Filled::WechatpaySerial)) => {
                Setter::Filled("the transport sets it (the serial of the key it encrypts with)")
            }
            (Place::Request { .. }, Some(Filled::Mchid)) => {
                Setter::Filled("the client fills it with its own merchant id unless the call sets it")
            }
            (Place::Request { .. }, Some(Filled::FileDigest | Filled::FileName | Filled::DigestAlgorithm)) => {
                Setter::Filled("the client computes it from the uploaded file unless the call sets it")
            }
            (Place::Request { .. }, Some(Filled::Signature)) => {
                Setter::Filled("the transport signs the request (APIv2 `sign` and `nonce_str`)")
            }
            _ => Setter::User,
        }
    }

    /// Whether `build()` fails without the field (requests only): the emitter's own rule.
    fn must_set(self, field: &Field) -> bool {
        match self.setter(field) {
            Setter::Always => true,
            Setter::User | Setter::Filled(_) => crate::emit::builder_requires(field),
        }
    }
}

/// Who gives a request field its value.
enum Setter {
    /// The user, through the builder, which insists when the field is required.
    User,
    /// The user, always: a path parameter is part of the URL, whatever its row says.
    Always,
    /// The transport or the client unless the user does (why): never required of the user.
    Filled(&'static str),
}

/// A request part's name in change paths (`multipart` for the body `fields` names `body`).
fn part_name(part: Part) -> &'static str {
    match part {
        Part::Multipart => "multipart",
        other => other.name(),
    }
}

fn part_label(part: Part) -> &'static str {
    match part {
        Part::Query => "query string",
        Part::Json => "JSON body",
        Part::Multipart => "multipart body",
        Part::Xml => "XML body",
        other => other.name(),
    }
}

/// Why a change to a header or envelope member breaks nothing.
const HAND_WRITTEN: &str = "read by the hand-written notification code, not generated: no generated type changes";

/// Compares two APIs: operations by method and path, notifications by event type, fields by
/// name within their parent; then reports a change found at several uses of one type once
/// ([`group`]). The order is stable: changes of types first, by type, then operations by path
/// and method, then notifications by event type; within each, request parts, then the response.
pub fn compare(old: &Api, new: &Api, options: Options) -> Vec<Change> {
    let (old_space, new_space) = rayon::join(|| TypeSpace::new(old), || TypeSpace::new(new));
    let spaces = Spaces { old: &old_space, new: &new_space };
    let mut cx = Cx { options, spaces, found: Vec::new(), owner: Owner::default() };

    for ((path, method), (olds, news)) in sides(&old.operations, &new.operations, |op| (op.path.as_str(), op.method)) {
        let operation = format!("{} {}", method.as_str().to_uppercase(), path);
        for pair in pairs(&olds, &news) {
            match pair {
                (Some(o), Some(n)) => {
                    cx.owner = Owner::new(&operation, &n.file, old_space.names().module(o));
                    cx.operation_pair(o, n);
                }
                (Some(o), None) => {
                    cx.owner = Owner::new(&operation, &o.file, old_space.names().module(o));
                    let reason = "operation removed: its module, builder and types disappear";
                    cx.push(Delta::new(Kind::OperationRemoved, "", true, reason, o.title.clone().into(), Value::Null));
                }
                (None, Some(n)) => {
                    cx.owner = Owner::new(&operation, &n.file, &[]);
                    let reason = "new operation: a new module, nothing existing changes";
                    cx.push(Delta::new(Kind::OperationAdded, "", false, reason, Value::Null, n.title.clone().into()));
                }
                (None, None) => {}
            }
        }
    }

    // APIv3 first; an APIv2 page may share an event type's name (`TRANSACTION.SUCCESS`).
    let key = |n: &'_ crate::ir::Notification| (std::cmp::Reverse(n.protocol), n.event_type.clone());
    for ((std::cmp::Reverse(protocol), event), (olds, news)) in sides(&old.notifications, &new.notifications, key) {
        let operation = match protocol {
            crate::ir::Protocol::V3 => format!("notification {event}"),
            crate::ir::Protocol::V2 => format!("notification v2 {event}"),
        };
        for pair in pairs(&olds, &news) {
            match pair {
                (Some(o), Some(n)) => {
                    cx.owner = Owner::new(&operation, &n.file, old_space.names().module(o));
                    cx.notification_pair(o, n);
                }
                (Some(o), None) => {
                    cx.owner = Owner::new(&operation, &o.file, old_space.names().module(o));
                    let reason = "notification removed: its event variant and payload type disappear";
                    cx.push(Delta::new(
                        Kind::NotificationRemoved,
                        "",
                        true,
                        reason,
                        o.title.clone().into(),
                        Value::Null,
                    ));
                }
                (None, Some(n)) => {
                    cx.owner = Owner::new(&operation, &n.file, &[]);
                    let reason = "new notification: a new event variant (the event enum is non_exhaustive)";
                    cx.push(Delta::new(
                        Kind::NotificationAdded,
                        "",
                        false,
                        reason,
                        Value::Null,
                        n.title.clone().into(),
                    ));
                }
                (None, None) => {}
            }
        }
    }
    group(cx.found)
}

/// Old and new items grouped by key, in key order.
type Sides<'a, K, T> = BTreeMap<K, (Vec<&'a T>, Vec<&'a T>)>;

fn sides<'a, K: Ord, T>(old: &'a [T], new: &'a [T], key: impl Fn(&'a T) -> K) -> Sides<'a, K, T> {
    let mut sides: Sides<'a, K, T> = BTreeMap::new();
    for item in old {
        sides.entry(key(item)).or_default().0.push(item);
    }
    for item in new {
        sides.entry(key(item)).or_default().1.push(item);
    }
    sides
}

/// The i-th old item with the i-th new one (keys are unique in a loaded tree; this keeps a
/// duplicate from pairing crosswise).
fn pairs<'a, T>(old: &[&'a T], new: &[&'a T]) -> Vec<(Option<&'a T>, Option<&'a T>)> {
    (0..old.len().max(new.len())).map(|i| (old.get(i).copied(), new.get(i).copied())).collect()
}

/// One change found in a tree of fields, not yet attributed to an operation.
struct Delta {
    kind: Kind,
    path: String,
    breaking: bool,
    reason: String,
    old: Value,
    new: Value,
    /// The Rust type the change is in (a structure's member) or of (an enumeration's values, a
    /// type's name); `None` outside any type (an operation's own request, a notification's
    /// envelope).
    within: Option<Within>,
}

/// A Rust type being compared, where it is, and a path in it.
#[derive(Clone)]
struct Within {
    types: TypePair,
    /// The field having the type: `json.amount`, `response.data[]`, `response` (a response type).
    at: String,
    /// The path of the change in the type (`total`); empty for the type itself.
    path: String,
}

impl Delta {
    fn new(kind: Kind, path: &str, breaking: bool, reason: impl Into<String>, old: Value, new: Value) -> Delta {
        Delta { kind, path: path.to_owned(), breaking, reason: reason.into(), old, new, within: None }
    }
}

/// A delta with the operation it was found in.
struct Found {
    delta: Delta,
    at: Use,
}

/// The same change of the same pair of types at two or more places is one change of that type,
/// listing them all, breaking if it breaks at any (a type can serve requests and responses
/// alike); a change found at one place stays with its operation. Types come first, by path;
/// then the operations' changes, in the order found.
fn group(found: Vec<Found>) -> Vec<Change> {
    let mut groups: Vec<Vec<Found>> = Vec::new();
    let mut by_key: HashMap<(TypePair, String, Kind, String, String), usize> = HashMap::new();
    for f in found {
        let Some(within) = &f.delta.within else {
            groups.push(vec![f]);
            continue;
        };
        let key =
            (within.types.clone(), within.path.clone(), f.delta.kind, f.delta.old.to_string(), f.delta.new.to_string());
        match by_key.get(&key) {
            Some(&i) => groups[i].push(f),
            None => {
                by_key.insert(key, groups.len());
                groups.push(vec![f]);
            }
        }
    }
    let (mut types, operations): (Vec<Change>, Vec<Change>) =
        groups.into_iter().flat_map(change_of).partition(|c| matches!(c.subject, Subject::Type { .. }));
    // By type, then by the fields having it (a change found at only some of them, such as a
    // description, is listed apart), each in the order found.
    types.sort_by(|a, b| (&a.subject, &a.uses).cmp(&(&b.subject, &b.uses)));
    types.extend(operations);
    types
}

/// One change of a type for a group found at several places; else each found change with its
/// operation.
fn change_of(group: Vec<Found>) -> Vec<Change> {
    match (group.len(), &group[0].delta.within) {
        (2.., Some(within)) => {
            let breaking = group.iter().any(|f| f.delta.breaking);
            // The reasons of every place (requests and responses say different things), those
            // that break first.
            let mut reasons: Vec<&str> = Vec::new();
            for f in group.iter().filter(|f| f.delta.breaking).chain(group.iter().filter(|f| !f.delta.breaking)) {
                if !reasons.contains(&f.delta.reason.as_str()) {
                    reasons.push(&f.delta.reason);
                }
            }
            let first = &group[0].delta;
            vec![Change {
                kind: first.kind,
                subject: Subject::Type { ty: within.types.clone() },
                path: within.path.clone(),
                breaking,
                reason: reasons.join("; "),
                old: first.old.clone(),
                new: first.new.clone(),
                uses: group
                    .iter()
                    .map(|f| Use {
                        path: f.delta.within.as_ref().map(|w| w.at.clone()).unwrap_or_default(),
                        ..f.at.clone()
                    })
                    .collect(),
            }]
        }
        _ => group
            .into_iter()
            .map(|Found { delta, at }| Change {
                kind: delta.kind,
                subject: Subject::Operation { operation: at.operation.clone(), file: at.file.clone() },
                path: delta.path,
                breaking: delta.breaking,
                reason: delta.reason,
                old: delta.old,
                new: delta.new,
                uses: vec![at],
            })
            .collect(),
    }
}

/// The operation or notification being compared.
#[derive(Default)]
struct Owner {
    /// As shown to the user: `POST /v3/…` or `notification EVENT`.
    operation: String,
    file: String,
    /// Its module in the old tree, as a path prefix (`v3::pay::transactions::jsapi::post::`): the
    /// types defined there were its own.
    old_module: String,
}

impl Owner {
    fn new(operation: &str, file: &str, old_module: &[String]) -> Owner {
        Owner {
            operation: operation.to_owned(),
            file: file.to_owned(),
            old_module: old_module.iter().map(|m| format!("{m}::")).collect(),
        }
    }
}

/// The operation or notification being compared, and the changes found so far.
struct Cx<'s> {
    options: Options,
    spaces: Spaces<'s>,
    found: Vec<Found>,
    owner: Owner,
}

/// The Rust names and types of both trees.
#[derive(Clone, Copy)]
struct Spaces<'s> {
    old: &'s TypeSpace<'s>,
    new: &'s TypeSpace<'s>,
}

impl<'s> Spaces<'s> {
    /// A field's Rust type in the old tree: its name in its operation's module and its path where
    /// defined.
    fn old_type(self, field: &Field) -> Option<(&'s str, &'s str)> {
        type_in(self.old, field)
    }

    /// The same in the new tree.
    fn new_type(self, field: &Field) -> Option<(&'s str, &'s str)> {
        type_in(self.new, field)
    }

    /// The paths of an owner's response or payload type in the old and the new tree.
    fn tops(self, old: fields::Owner<'_>, new: fields::Owner<'_>) -> Option<(&'s str, &'s str)> {
        let path = |space: &'s TypeSpace<'s>, owner| space.top(owner).map(|id| space.def(id).path.as_str());
        path(self.old, old).zip(path(self.new, new))
    }
}

fn type_in<'s>(space: &'s TypeSpace<'_>, field: &Field) -> Option<(&'s str, &'s str)> {
    let ty = space.type_of(field)?;
    Some((ty.local.as_str(), space.def(ty.id).path.as_str()))
}

impl Cx<'_> {
    fn push(&mut self, delta: Delta) {
        let at = Use { operation: self.owner.operation.clone(), path: String::new(), file: self.owner.file.clone() };
        self.found.push(Found { delta, at });
    }

    /// Runs a comparison of field trees and attributes what it finds to the current operation.
    fn fields(&mut self, compare: impl FnOnce(&mut Fields<'_>)) {
        let mut fields = Fields {
            spaces: self.spaces,
            descriptions: self.options.descriptions,
            own_module: self.owner.old_module.clone(),
            event_type: None,
            within: None,
            deltas: Vec::new(),
        };
        compare(&mut fields);
        for d in fields.deltas {
            self.push(d);
        }
    }

    fn text(&mut self, what: &str, old: &str, new: &str) {
        if self.options.descriptions && old != new {
            self.push(Delta::new(
                Kind::DescriptionChanged,
                "",
                false,
                format!("{what} only: the generated docs change"),
                old.into(),
                new.into(),
            ));
        }
    }

    fn operation_pair(&mut self, old: &Operation, new: &Operation) {
        self.text("title", &old.title, &new.title);
        self.text("description", &old.description, &new.description);
        self.base_uri(old.request.base_uri.as_ref(), new.request.base_uri.as_ref());
        self.transport(&old.request, &new.request);
        // The `required` flag of the `json` and `body` rows reaches no generated code: the body
        // is sent whenever the operation has one. It is not reported.
        self.fields(|f| f.request(&old.request, &new.request));
        self.response(old, new);
    }

    fn base_uri(&mut self, old: Option<&BaseUri>, new: Option<&BaseUri>) {
        let url = |b: Option<&BaseUri>| match b {
            None => Value::Null,
            Some(b) => b.default.clone().map(Value::String).unwrap_or_else(|| Value::String("(unnamed host)".into())),
        };
        let (o, n) = (url(old), url(new));
        if o != n {
            let reason = match (old, new) {
                (None, Some(_)) => {
                    "the operation can be served on another host: the generated operation names it; existing calls are unaffected"
                }
                (Some(_), None) => "the operation is served on the default host again: existing calls are unaffected",
                _ => "the documented host changed: the generated operation follows it",
            };
            self.push(Delta::new(Kind::BaseUriChanged, "base_uri", false, reason, o, n));
        }
    }

    /// APIv2's flags: a call that now needs the API client certificate fails for a client without
    /// one; the nonce and a signed URL's fragment are the transport's, following the page.
    fn transport(&mut self, old: &Request, new: &Request) {
        if old.security != new.security {
            let (breaking, reason) = if new.security {
                (true, "the call now needs the merchant's API client certificate (mutual TLS): a client without one refuses it")
            } else {
                (false, "the call no longer needs the API client certificate: existing calls are unaffected")
            };
            self.push(Delta::new(
                Kind::TransportChanged,
                "security",
                breaking,
                reason,
                old.security.into(),
                new.security.into(),
            ));
        }
        if old.nonceless != new.nonceless {
            let reason = "the transport adds `nonce_str` as the page says: existing calls are unaffected";
            self.push(Delta::new(
                Kind::TransportChanged,
                "nonceless",
                false,
                reason,
                old.nonceless.into(),
                new.nonceless.into(),
            ));
        }
        let fragment =
            |r: &Request| r.fragment.as_ref().and_then(|f| f.value.clone()).map(Value::String).unwrap_or(Value::Null);
        let (o, n) = (fragment(old), fragment(new));
        if o != n {
            let reason = "the signed URL ends as the page says: existing calls are unaffected";
            self.push(Delta::new(Kind::TransportChanged, "fragment", false, reason, o, n));
        }
    }

    fn response(&mut self, old_op: &Operation, new_op: &Operation) {
        let (old, new) = (&old_op.response, &new_op.response);
        match (old, new) {
            (Response::Json { fields: o }, Response::Json { fields: n }) => {
                let types = self.spaces.tops(fields::Owner::Operation(old_op), fields::Owner::Operation(new_op));
                self.fields(|f| f.top("response", "Response", types, o, n));
            }
            (Response::Empty, Response::Empty)
            | (Response::Stream, Response::Stream)
            | (Response::Redirect, Response::Redirect) => {}
            _ => {
                let label = |r: &Response| match r {
                    Response::Json { .. } => "json",
                    Response::Empty => "empty",
                    Response::Stream => "stream",
                    Response::Redirect => "redirect",
                };
                let reason = format!(
                    "the response changes from {} to {}: the operation's output type changes",
                    response_label(old),
                    response_label(new)
                );
                self.push(Delta::new(
                    Kind::ResponseKindChanged,
                    "response",
                    true,
                    reason,
                    label(old).into(),
                    label(new).into(),
                ));
            }
        }
    }

    fn notification_pair(&mut self, old: &Notification, new: &Notification) {
        self.text("title", &old.title, &new.title);
        self.text("description", &old.description, &new.description);
        // A page the generator could not read keeps its payload as untyped JSON: there are no
        // fields to compare, only the switch between typed and untyped.
        match (&old.untyped, &new.untyped) {
            (None, None) => {}
            (Some(_), Some(_)) => return,
            (None, Some(why)) => {
                let reason = format!("the payload becomes untyped JSON (the page's table cannot be read: {why})");
                self.push(Delta::new(
                    Kind::TypeChanged,
                    "payload",
                    true,
                    reason,
                    "typed".into(),
                    "untyped JSON".into(),
                ));
                return;
            }
            (Some(_), None) => {
                let reason = "the payload becomes typed (the page's table can now be read): its Rust type changes from untyped JSON";
                self.push(Delta::new(
                    Kind::TypeChanged,
                    "payload",
                    true,
                    reason,
                    "untyped JSON".into(),
                    "typed".into(),
                ));
                return;
            }
        }
        let none = |_: &str| false;
        let types = self.spaces.tops(fields::Owner::Notification(old), fields::Owner::Notification(new));
        self.fields(|f| {
            f.event_type = Some(new.event_type.clone());
            f.list(Place::HandWritten, "headers", &old.headers, &new.headers, &none, &none);
            f.list(Place::HandWritten, "envelope", &old.envelope, &new.envelope, &none, &none);
            f.top("payload", "Payload", types, &old.payload, &new.payload);
        });
    }
}

/// Compares trees of fields. Knows what a change means at each place, and which Rust type each
/// change is in, nothing of the operation the fields belong to: its deltas carry paths from
/// where it was started.
struct Fields<'s> {
    spaces: Spaces<'s>,
    descriptions: bool,
    /// The module of the operation or notification in the old tree, as a path prefix: the types
    /// defined there were its own.
    own_module: String,
    /// The notification's own event type, which `envelope.event_type` routes with its values.
    event_type: Option<String>,
    /// The type whose members are being compared (its `path` unused); `None` in an operation's
    /// own request.
    within: Option<Within>,
    deltas: Vec<Delta>,
}

impl Fields<'_> {
    /// A change of a member of the type being compared (or of the request itself).
    fn push(&mut self, kind: Kind, path: &str, breaking: bool, reason: impl Into<String>, old: Value, new: Value) {
        let within = self.within.as_ref().map(|w| Within { path: relative(&w.at, path), ..w.clone() });
        self.deltas.push(Delta { within, ..Delta::new(kind, path, breaking, reason, old, new) });
    }

    /// A change of the field's own type (its values, its name): of that type, when it has one on
    /// both sides.
    fn push_of(&mut self, types: Option<TypePair>, delta: Delta) {
        let within = types.map(|types| Within { types, at: delta.path.clone(), path: String::new() });
        self.deltas.push(Delta { within, ..delta });
    }

    /// The top-level fields of a response or payload (`at`), members of its type when it has one
    /// on both sides (`types`, old and new path); and that type's own name (`local` in the
    /// module: `Response`, `Payload`).
    fn top(&mut self, at: &str, local: &str, types: Option<(&str, &str)>, old: &[Field], new: &[Field]) {
        let none = |_: &str| false;
        if let Some((o, n)) = types {
            self.renamed(at, (local, o), (local, n));
            self.within = Some(Within {
                types: TypePair { old: o.to_owned(), new: n.to_owned() },
                at: at.to_owned(),
                path: String::new(),
            });
        }
        self.list(Place::Read, at, old, new, &none, &none);
        self.within = None;
    }

    fn request(&mut self, old: &Request, new: &Request) {
        // A top-level name that leaves exactly one part and arrives in exactly one other moved.
        let names = |r: &Request, part: Part| -> HashSet<String> {
            part.of_request(r).iter().map(|f| f.name.clone()).collect()
        };
        let mut gone: HashMap<String, Vec<Part>> = HashMap::new();
        let mut came: HashMap<String, Vec<Part>> = HashMap::new();
        for part in Part::REQUEST {
            let (o, n) = (names(old, part), names(new, part));
            for name in o.difference(&n) {
                gone.entry(name.clone()).or_default().push(part);
            }
            for name in n.difference(&o) {
                came.entry(name.clone()).or_default().push(part);
            }
        }
        let mut moved: Vec<(String, Part, Part)> = gone
            .iter()
            .filter_map(|(name, from)| match (from.as_slice(), came.get(name).map(Vec::as_slice)) {
                ([from], Some([to])) => Some((name.clone(), *from, *to)),
                _ => None,
            })
            .collect();
        moved.sort_by_key(|(name, _, to)| (*to as usize, name.clone()));

        for part in Part::REQUEST {
            let skip_old = |name: &str| moved.iter().any(|(n, from, _)| *from == part && n == name);
            let skip_new = |name: &str| moved.iter().any(|(n, _, to)| *to == part && n == name);
            let place = Place::Request { part };
            self.list(place, part_name(part), part.of_request(old), part.of_request(new), &skip_old, &skip_new);
            for (name, from, _) in moved.iter().filter(|m| m.2 == part) {
                let o = from.of_request(old).iter().find(|f| &f.name == name).expect("moved from here");
                let n = part.of_request(new).iter().find(|f| &f.name == name).expect("moved to here");
                let (from_path, to_path) =
                    (format!("{}.{name}", part_name(*from)), format!("{}.{name}", part_name(part)));
                // Every part's members are setters of one builder: a move changes the wire, not
                // the calls, unless it enters or leaves the multipart body, whose members have
                // their own types (a file, JSON metadata).
                let breaking = (*from == Part::Multipart) != (part == Part::Multipart);
                let consequence = if breaking {
                    "its setter's type changes"
                } else {
                    "the builder setter stays, the generated request sends it in its new place"
                };
                let reason = format!("moved from the {} to the {}: {consequence}", part_label(*from), part_label(part));
                self.push(
                    Kind::FieldMoved,
                    &to_path,
                    breaking,
                    reason,
                    Value::String(from_path),
                    Value::String(to_path.clone()),
                );
                self.field(Place::Request { part: *from }, place, &to_path, o, n);
            }
        }
    }

    /// Compares two lists of sibling fields, by name; `skip_old`/`skip_new` leave out fields
    /// reported as moved.
    fn list(
        &mut self,
        place: Place,
        prefix: &str,
        old: &[Field],
        new: &[Field],
        skip_old: &dyn Fn(&str) -> bool,
        skip_new: &dyn Fn(&str) -> bool,
    ) {
        // Pair the i-th field of a name with the i-th of the same name (names are unique in
        // practice; this keeps duplicates from pairing crosswise).
        let mut by_name: HashMap<&str, Vec<&Field>> = HashMap::new();
        for f in old.iter().filter(|f| !skip_old(&f.name)) {
            by_name.entry(f.name.as_str()).or_default().push(f);
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for n in new.iter().filter(|f| !skip_new(&f.name)) {
            let index = seen.entry(n.name.as_str()).or_default();
            let path = join(prefix, &n.name);
            match by_name.get(n.name.as_str()).and_then(|v| v.get(*index)) {
                Some(o) => self.field(place, place, &path, o, n),
                None => self.added(place, &path, n),
            }
            *index += 1;
        }
        let mut used: HashMap<&str, usize> = HashMap::new();
        for f in new.iter().filter(|f| !skip_new(&f.name)) {
            *used.entry(f.name.as_str()).or_default() += 1;
        }
        let mut count: HashMap<&str, usize> = HashMap::new();
        for o in old.iter().filter(|f| !skip_old(&f.name)) {
            let index = count.entry(o.name.as_str()).or_default();
            if *index >= used.get(o.name.as_str()).copied().unwrap_or(0) {
                let (breaking, reason) = match place {
                    Place::Request { .. } => {
                        (true, "its builder setter disappears: calls that set it no longer compile")
                    }
                    Place::Read => (true, "code that reads it no longer compiles"),
                    Place::HandWritten => (false, HAND_WRITTEN),
                };
                self.push(Kind::FieldRemoved, &join(prefix, &o.name), breaking, reason, summary(o).into(), Value::Null);
            }
            *index += 1;
        }
    }

    fn added(&mut self, place: Place, path: &str, new: &Field) {
        let (breaking, reason) = match place {
            Place::Request { .. } if place.must_set(new) => {
                (true, "required in requests: calls that do not set it fail to build".to_owned())
            }
            Place::Request { .. } => match place.setter(new) {
                Setter::Filled(why) if new.required => {
                    (false, format!("required on the wire, but {why}: a new builder setter"))
                }
                _ => (false, "optional in requests: a new builder setter".to_owned()),
            },
            // Said the same way for responses and payloads: a shared type serves both.
            Place::Read => {
                (false, "new field to read: existing code is unaffected (the struct is non_exhaustive)".to_owned())
            }
            Place::HandWritten => (false, HAND_WRITTEN.to_owned()),
        };
        self.push(Kind::FieldAdded, path, breaking, reason, Value::Null, summary(new).into());
    }

    /// Compares one field present on both sides (at `old_place` and `new_place`: they differ
    /// for a field moved between request parts), then its members.
    fn field(&mut self, old_place: Place, new_place: Place, path: &str, old: &Field, new: &Field) {
        let hand_written = new_place == Place::HandWritten;
        if old.ty != new.ty {
            let reason = if hand_written {
                HAND_WRITTEN.to_owned()
            } else {
                format!("the Rust type changes ({} → {})", old.ty.as_str(), new.ty.as_str())
            };
            self.push(Kind::TypeChanged, path, !hand_written, reason, old.ty.as_str().into(), new.ty.as_str().into());
        }
        self.enums(new_place, path, old, new);
        self.required(old_place, new_place, path, old, new);
        if old.encrypted != new.encrypted {
            let marker = |f: &Field| {
                f.encrypted.map(|e| serde_json::to_value(e).expect("enum serializes")).unwrap_or(Value::Null)
            };
            let reason = match (new_place, new.encrypted.is_some()) {
                (Place::HandWritten, _) => HAND_WRITTEN,
                (Place::Request { .. }, true) => {
                    "now sent encrypted (with the WeChat Pay public key, which needs `Wechatpay-Serial`): the setter's type changes"
                }
                (Place::Request { .. }, false) => "no longer encrypted: the setter's type changes and the value is sent in clear",
                (Place::Read, true) => "now arrives encrypted: its Rust type changes, it must be decrypted before use",
                (Place::Read, false) => "no longer encrypted: its Rust type changes, it arrives in clear",
            };
            self.push(Kind::EncryptedChanged, path, !hand_written, reason, marker(old), marker(new));
        }
        if old.encoded != new.encoded {
            let marker =
                |f: &Field| f.encoded.map(|e| serde_json::to_value(e).expect("enum serializes")).unwrap_or(Value::Null);
            let reason = match (hand_written, new.encoded.is_some()) {
                (true, _) => HAND_WRITTEN,
                (false, true) => "the string now carries an encoded structure: its Rust type and encoding change",
                (false, false) => {
                    "the string no longer carries an encoded structure: its Rust type and encoding change"
                }
            };
            self.push(Kind::EncodedChanged, path, !hand_written, reason, marker(old), marker(new));
        }
        self.format(new_place, path, old, new);
        self.alternatives(new_place, path, old, new);
        if let (Some(o), Some(n)) = (self.spaces.old_type(old), self.spaces.new_type(new)) {
            self.renamed(path, o, n);
        }
        if self.descriptions && old.description != new.description {
            let reason = "description only: the generated docs change";
            self.push(
                Kind::DescriptionChanged,
                path,
                false,
                reason,
                old.description.clone().into(),
                new.description.clone().into(),
            );
        }
        // The ciphertext's members are the payload, compared as `payload.…` whether or not the
        // row carries `data-encrypted` (older pages do not): each change is reported once.
        if hand_written && path == "envelope.resource.ciphertext" {
            return;
        }
        let prefix = if new.ty.is_array() { format!("{path}[]") } else { path.to_owned() };
        let none = |_: &str| false;
        // A structure on both sides: its members are those of its type. (One that appears or
        // disappears is a type change; its members stay with the enclosing type.)
        let outer = self.within.clone();
        if !old.children.is_empty() && !new.children.is_empty() {
            if let (Some((_, o)), Some((_, n))) = (self.spaces.old_type(old), self.spaces.new_type(new)) {
                self.within = Some(Within {
                    types: TypePair { old: o.to_owned(), new: n.to_owned() },
                    at: prefix.clone(),
                    path: String::new(),
                });
            }
        }
        self.list(new_place, &prefix, &old.children, &new.children, &none, &none);
        self.within = outer;
    }

    /// A string that holds a time now, no longer, or in another format: its Rust type changes
    /// (`String`, `DateTime`, `Date`, `TimeOfDay`) unless both formats are held by the same type,
    /// whose generated code then reads and writes the new format. `text` (a string whose name looks
    /// like a time, holding none) is a plain string, as no format is.
    fn format(&mut self, place: Place, path: &str, old: &Field, new: &Field) {
        let (o, n) = (old.time_format(), new.time_format());
        if o == n {
            return;
        }
        let shown = |format: Option<TimeFormat>| format.map_or(Value::Null, |f| Value::String(f.as_str().to_owned()));
        let held = |format: Option<TimeFormat>| format.and_then(TimeFormat::rust_type).unwrap_or("String");
        let (breaking, reason) = match place {
            Place::HandWritten => (false, HAND_WRITTEN.to_owned()),
            _ if held(o) == held(n) => (
                false,
                format!(
                    "read and written as `{}` now: its Rust type stays `{}`",
                    n.map_or("text", TimeFormat::as_str),
                    held(n)
                ),
            ),
            _ => (true, format!("its Rust type changes from `{}` to `{}`", held(o), held(n))),
        };
        self.push(Kind::FormatChanged, path, breaking, reason, shown(o), shown(n));
    }

    /// A field joins or leaves a group of alternatives (`data-one-of`), or changes group: in a
    /// request, a field that joins one while optional makes the builder insist on one of the group.
    fn alternatives(&mut self, place: Place, path: &str, old: &Field, new: &Field) {
        if old.one_of == new.one_of {
            return;
        }
        let shown = |f: &Field| f.one_of.clone().map_or(Value::Null, Value::String);
        let (breaking, reason) = match place {
            Place::Request { .. } if new.one_of.is_some() && !old.required => {
                (true, "one of its group is required now: calls that set none of them fail to build")
            }
            Place::Request { .. } if new.one_of.is_some() => {
                (false, "required before, one of its group now: existing calls still build")
            }
            Place::Request { .. } => (false, "no longer one of a group: the builder no longer insists on the group"),
            Place::Read => (false, "documented alternatives only: reading it is unaffected"),
            Place::HandWritten => (false, HAND_WRITTEN),
        };
        self.push(Kind::AlternativesChanged, path, breaking, reason.to_owned(), shown(old), shown(new));
    }

    /// A field's Rust type has another name in the module of its operation or notification
    /// (`type_name`), or is defined elsewhere (`type_path`): after a change of sharing (the
    /// type-space pass gives one type to every field of the same shape and name) or of a
    /// collision. Users name a type either through the operation's module (`post::Amount`) or
    /// where it is defined (`types::Amount`, what sharing is for):
    /// - another name in the module breaks the first;
    /// - the same name, defined elsewhere: the module still names it (it re-exports a shared
    ///   type under the name it always had), so only code naming the old definition's path
    ///   breaks, which is code that could name it only if it was shared.
    fn renamed(&mut self, path: &str, (old_name, old_path): (&str, &str), (new_name, new_path): (&str, &str)) {
        if (old_name, old_path) == (new_name, new_path) {
            return;
        }
        // Said the same way for operations and notifications: a shared type serves both.
        let (breaking, reason) = if old_name != new_name {
            (true, format!("the module using it names it `{new_name}`, no longer `{old_name}`: code naming `{old_name}` there no longer compiles"))
        } else if old_path.starts_with(&self.own_module) {
            (false, format!("now `{new_path}`, still named `{new_name}` in the module using it: code naming it there still compiles"))
        } else {
            (
                true,
                format!("no longer the shared `{old_path}`: code naming that type for this field no longer compiles (the module using it still names it `{new_name}`)"),
            )
        };
        // `types::Transaction as Response`: the type and its name in the module, as re-exported.
        let shown = |name: &str, path: &str| {
            if path.rsplit("::").next() == Some(name) {
                path.to_owned()
            } else {
                format!("{path} as {name}")
            }
        };
        let types = TypePair { old: old_path.to_owned(), new: new_path.to_owned() };
        let delta = Delta::new(
            Kind::TypeRenamed,
            path,
            breaking,
            reason,
            shown(old_name, old_path).into(),
            shown(new_name, new_path).into(),
        );
        self.push_of(Some(types), delta);
    }

    fn enums(&mut self, place: Place, path: &str, old: &Field, new: &Field) {
        if place == Place::HandWritten {
            return self.hand_written_enums(path, old, new);
        }
        let values = |v: &[String]| Value::Array(v.iter().cloned().map(Value::String).collect());
        match (old.enum_values.is_empty(), new.enum_values.is_empty()) {
            (true, true) => {}
            (true, false) => {
                let reason = "becomes an enumeration: the Rust type changes from the plain value to a generated enum";
                self.push(Kind::TypeChanged, path, true, reason, old.ty.as_str().into(), enum_type(new).into());
            }
            (false, true) => {
                let reason = "no longer an enumeration: the Rust type changes from a generated enum to the plain value";
                self.push(Kind::TypeChanged, path, true, reason, enum_type(old).into(), new.ty.as_str().into());
            }
            (false, false) => {
                let (added, removed) = difference(&old.enum_values, &new.enum_values);
                // The values are the enum type's own: a change of that type.
                let types = self
                    .spaces
                    .old_type(old)
                    .zip(self.spaces.new_type(new))
                    .map(|((_, o), (_, n))| TypePair { old: o.to_owned(), new: n.to_owned() });
                if !added.is_empty() {
                    let reason = match place {
                        Place::Request { .. } => "new variants; the enum is non_exhaustive, existing code is unaffected",
                        _ => "new variants; such values already deserialized, into `Unknown` (the enum is non_exhaustive)",
                    };
                    self.push_of(
                        types.clone(),
                        Delta::new(Kind::EnumValuesAdded, path, false, reason, Value::Null, values(&added)),
                    );
                }
                if !removed.is_empty() {
                    let reason = match place {
                        Place::Request { .. } => "variants removed: code that sends them no longer compiles",
                        _ => "variants removed: code that matches on them no longer compiles (the values still deserialize, into `Unknown`)",
                    };
                    self.push_of(
                        types,
                        Delta::new(Kind::EnumValuesRemoved, path, true, reason, values(&removed), Value::Null),
                    );
                }
            }
        }
    }

    /// The envelope's `event_type` routes events to the page's `Event` variant (with the page's
    /// own event type, every value it lists routes there): losing a value sends such events to
    /// `Event::Unknown`, which breaks code matching the variant. Other header and envelope
    /// values are the hand-written code's.
    fn hand_written_enums(&mut self, path: &str, old: &Field, new: &Field) {
        if old.enum_values == new.enum_values {
            return;
        }
        let values = |v: &[String]| Value::Array(v.iter().cloned().map(Value::String).collect());
        let routed = |f: &Field| -> Vec<String> {
            self.event_type.iter().cloned().chain(f.enum_values.iter().cloned()).collect()
        };
        let routes = path == "envelope.event_type";
        let (added, removed) = if routes {
            difference(&routed(old), &routed(new))
        } else {
            difference(&old.enum_values, &new.enum_values)
        };
        if old.enum_values.is_empty() != new.enum_values.is_empty() {
            let (breaking, reason) = if routes && !removed.is_empty() {
                (
                    true,
                    format!(
                        "no longer an enumeration: events of type {} no longer reach this notification's variant",
                        removed.join(", ")
                    ),
                )
            } else if routes {
                (false, "the listed event types reach this notification's variant, as before".to_owned())
            } else {
                (false, HAND_WRITTEN.to_owned())
            };
            let show = |f: &Field| {
                if f.enum_values.is_empty() {
                    f.ty.as_str().to_owned()
                } else {
                    enum_type(f)
                }
            };
            return self.push(Kind::TypeChanged, path, breaking, reason, show(old).into(), show(new).into());
        }
        if !added.is_empty() {
            let reason =
                if routes { "events of these types now reach this notification's variant" } else { HAND_WRITTEN };
            self.push(Kind::EnumValuesAdded, path, false, reason, Value::Null, values(&added));
        }
        if !removed.is_empty() {
            let (breaking, reason) = if routes {
                (true, "events of these types no longer reach this notification's variant: they arrive as `Event::Unknown`")
            } else {
                (false, HAND_WRITTEN)
            };
            self.push(Kind::EnumValuesRemoved, path, breaking, reason, values(&removed), Value::Null);
        }
    }

    /// Requests: whether the builder insists (what users see), and the documented flag where
    /// only the docs change (a field the client fills; a path parameter's flag is not reported:
    /// it is always required). Responses and payloads: `T` ↔ `Option<T>`.
    fn required(&mut self, old_place: Place, new_place: Place, path: &str, old: &Field, new: &Field) {
        let (breaking, reason) = match new_place {
            Place::Request { .. } => {
                let (was, is) = (old_place.must_set(old), new_place.must_set(new));
                if was != is {
                    let reason = if is {
                        "becomes required: calls that do not set it fail to build"
                    } else {
                        "becomes optional: existing calls still build"
                    };
                    return self.push(
                        Kind::RequiredChanged,
                        path,
                        is,
                        reason,
                        required_label(was).into(),
                        required_label(is).into(),
                    );
                }
                // The IR marks a `mchid` filled only when it is required: the flag can change on
                // either side of the marker.
                match (old_place.setter(old), new_place.setter(new)) {
                    (Setter::Filled(why), _) | (_, Setter::Filled(why)) if old.required != new.required => {
                        (false, format!("documented flag only: {why}, the builder never insists"))
                    }
                    _ => return,
                }
            }
            _ if old.required == new.required => return,
            Place::Read if new.required => {
                (true, "becomes required: its Rust type changes from `Option<T>` to `T`".to_owned())
            }
            Place::Read => (true, "becomes optional: its Rust type changes from `T` to `Option<T>`".to_owned()),
            Place::HandWritten => (false, HAND_WRITTEN.to_owned()),
        };
        self.push(
            Kind::RequiredChanged,
            path,
            breaking,
            reason,
            required_label(old.required).into(),
            required_label(new.required).into(),
        );
    }
}

/// Values only in `new`, and values only in `old`, each in its list's order.
fn difference(old: &[String], new: &[String]) -> (Vec<String>, Vec<String>) {
    let added = new.iter().filter(|v| !old.contains(v)).cloned().collect();
    let removed = old.iter().filter(|v| !new.contains(v)).cloned().collect();
    (added, removed)
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// `path` from where the type at `base` starts: `total` for `json.amount.total` in
/// `json.amount`, `serial_no` for `response.data[].serial_no` in `response.data[]`, empty for
/// the type itself.
fn relative(base: &str, path: &str) -> String {
    if path == base {
        return String::new();
    }
    path.strip_prefix(base).and_then(|rest| rest.strip_prefix('.')).unwrap_or(path).to_owned()
}

fn required_label(required: bool) -> &'static str {
    if required {
        "required"
    } else {
        "optional"
    }
}

fn response_label(r: &Response) -> &'static str {
    match r {
        Response::Json { .. } => "a JSON document",
        Response::Empty => "an empty body",
        Response::Stream => "a byte stream",
        Response::Redirect => "a redirect (a signed URL)",
    }
}

/// `string, required, enum, encrypted (3 members)`: what an added or removed field was.
fn summary(f: &Field) -> String {
    let mut s = String::from(f.ty.as_str());
    if !f.enum_values.is_empty() {
        s.push_str(" (enum)");
    }
    if let Some(format) = f.time_format() {
        s.push_str(&format!(" ({})", format.as_str()));
    }
    s.push_str(", ");
    s.push_str(required_label(f.required));
    if f.encrypted.is_some() {
        s.push_str(", encrypted");
    }
    if f.encoded.is_some() {
        s.push_str(", encoded");
    }
    let members = count(&f.children);
    if members > 0 {
        s.push_str(&format!(", {members} member{}", if members == 1 { "" } else { "s" }));
    }
    s
}

/// `string (enum: A | B)`.
fn enum_type(f: &Field) -> String {
    format!("{} (enum: {})", f.ty.as_str(), f.enum_values.join(" | "))
}

fn count(fields: &[Field]) -> usize {
    fields.iter().map(|f| 1 + count(&f.children)).sum()
}
