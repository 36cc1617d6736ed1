//! Two IRs → a list of classified changes. Knows the IR and what the generated crate makes of it;
//! nothing of markdown or of how the changes are shown.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use crate::ir::{Api, BaseUri, Field, Notification, Operation, Part, Request, Response};

/// One schema change, classified for users of the generated crate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    pub kind: Kind,
    /// `POST /v3/pay/transactions/jsapi`, or `notification TRANSACTION.SUCCESS`.
    pub operation: String,
    /// The field, by its path in the request part or the response (`json.amount.total`,
    /// `query.mchid`, `response.data[].serial_no`, `payload.amount.total`); empty for the
    /// operation or notification itself.
    pub path: String,
    pub breaking: bool,
    /// Why it is (or is not) breaking, for a reviewer.
    pub reason: String,
    /// The old value of what changed (a type, `required`/`optional`, a marker, enum values, …).
    pub old: Value,
    /// The new value.
    pub new: Value,
    /// The page, relative to its docs tree: the new one, or the old one when it is gone.
    pub file: String,
}

/// What changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
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
    /// A member of a request part, set through the builder (`x(impl Into<T>)`, `set_x(Option<T>)`);
    /// `top` for the part's own members.
    Request { part: RequestPart, top: bool },
    /// A member of a response or notification payload, read through a field: `T` when required
    /// (decoded leniently), `Option<T>` when optional.
    Read,
    /// A notification header or envelope member: read by the hand-written notification code
    /// (`src/notify.rs`), held by no generated type.
    HandWritten,
}

impl Place {
    /// The place of a field's members.
    fn nested(self) -> Place {
        match self {
            Place::Request { part, .. } => Place::Request { part, top: false },
            other => other,
        }
    }

    /// Who sets a request field. Only what the builder insists on can break a call.
    fn setter(self, name: &str) -> Setter {
        match self {
            Place::Request { part: RequestPart::Path, .. } => Setter::Always,
            Place::Request { part: RequestPart::Headers, .. } if name.eq_ignore_ascii_case("Wechatpay-Serial") => {
                Setter::Filled("the transport sets it (the serial of the key it encrypts with)")
            }
            Place::Request { part: RequestPart::Query | RequestPart::Json, top: true } if name == "mchid" || name == "sp_mchid" => {
                Setter::Filled("the client fills it with its own merchant id unless the call sets it")
            }
            _ => Setter::User,
        }
    }

    /// Whether `build()` fails without the field (requests only).
    fn must_set(self, field: &Field) -> bool {
        match self.setter(&field.name) {
            Setter::User => field.required,
            Setter::Always => true,
            Setter::Filled(_) => false,
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RequestPart {
    Path,
    Query,
    Headers,
    Json,
    Multipart,
}

impl RequestPart {
    const ALL: [RequestPart; 5] = [RequestPart::Path, RequestPart::Query, RequestPart::Headers, RequestPart::Json, RequestPart::Multipart];

    /// Its name in change paths.
    fn name(self) -> &'static str {
        match self {
            RequestPart::Path => "path",
            RequestPart::Query => "query",
            RequestPart::Headers => "headers",
            RequestPart::Json => "json",
            RequestPart::Multipart => "multipart",
        }
    }

    fn label(self) -> &'static str {
        match self {
            RequestPart::Path => "path",
            RequestPart::Query => "query string",
            RequestPart::Headers => "headers",
            RequestPart::Json => "JSON body",
            RequestPart::Multipart => "multipart body",
        }
    }

    fn fields(self, r: &Request) -> &[Field] {
        fn body(part: &Option<Part>) -> &[Field] {
            part.as_ref().map(|p| p.fields.as_slice()).unwrap_or_default()
        }
        match self {
            RequestPart::Path => &r.path_params,
            RequestPart::Query => &r.query,
            RequestPart::Headers => &r.headers,
            RequestPart::Json => body(&r.json),
            RequestPart::Multipart => body(&r.multipart),
        }
    }
}

/// Why a change to a header or envelope member breaks nothing.
const HAND_WRITTEN: &str = "read by the hand-written notification code, not generated: no generated type changes";

/// Compares two APIs: operations by method and path, notifications by event type, fields by
/// name within their parent. The order is stable: operations by path then method, then
/// notifications by event type; within each, request parts, then the response.
pub fn compare(old: &Api, new: &Api, options: Options) -> Vec<Change> {
    let mut cx = Cx { options, changes: Vec::new(), operation: String::new(), file: String::new() };

    for ((path, method), (olds, news)) in sides(&old.operations, &new.operations, |op| (op.path.as_str(), op.method)) {
        cx.operation = format!("{} {}", method.as_str().to_uppercase(), path);
        for pair in pairs(&olds, &news) {
            match pair {
                (Some(o), Some(n)) => {
                    cx.file = n.file.clone();
                    cx.operation_pair(o, n);
                }
                (Some(o), None) => {
                    cx.file = o.file.clone();
                    let reason = "operation removed: its module, builder and types disappear";
                    cx.push(Delta::new(Kind::OperationRemoved, "", true, reason, o.title.clone().into(), Value::Null));
                }
                (None, Some(n)) => {
                    cx.file = n.file.clone();
                    let reason = "new operation: a new module, nothing existing changes";
                    cx.push(Delta::new(Kind::OperationAdded, "", false, reason, Value::Null, n.title.clone().into()));
                }
                (None, None) => {}
            }
        }
    }

    for (event, (olds, news)) in sides(&old.notifications, &new.notifications, |n| n.event_type.as_str()) {
        cx.operation = format!("notification {event}");
        for pair in pairs(&olds, &news) {
            match pair {
                (Some(o), Some(n)) => {
                    cx.file = n.file.clone();
                    cx.notification_pair(o, n);
                }
                (Some(o), None) => {
                    cx.file = o.file.clone();
                    let reason = "notification removed: its event variant and payload type disappear";
                    cx.push(Delta::new(Kind::NotificationRemoved, "", true, reason, o.title.clone().into(), Value::Null));
                }
                (None, Some(n)) => {
                    cx.file = n.file.clone();
                    let reason = "new notification: a new event variant (the event enum is non_exhaustive)";
                    cx.push(Delta::new(Kind::NotificationAdded, "", false, reason, Value::Null, n.title.clone().into()));
                }
                (None, None) => {}
            }
        }
    }
    cx.changes
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
}

impl Delta {
    fn new(kind: Kind, path: &str, breaking: bool, reason: impl Into<String>, old: Value, new: Value) -> Delta {
        Delta { kind, path: path.to_owned(), breaking, reason: reason.into(), old, new }
    }
}

/// The operation or notification being compared, and the changes found so far.
struct Cx {
    options: Options,
    changes: Vec<Change>,
    /// As shown to the user: `POST /v3/…` or `notification EVENT`.
    operation: String,
    file: String,
}

impl Cx {
    fn push(&mut self, d: Delta) {
        let Delta { kind, path, breaking, reason, old, new } = d;
        self.changes.push(Change { kind, operation: self.operation.clone(), path, breaking, reason, old, new, file: self.file.clone() });
    }

    /// Runs a comparison of field trees and attributes what it finds to the current operation.
    fn fields(&mut self, inbound: &'static str, compare: impl FnOnce(&mut Fields)) {
        let mut fields = Fields { descriptions: self.options.descriptions, inbound, event_type: None, deltas: Vec::new() };
        compare(&mut fields);
        for d in fields.deltas {
            self.push(d);
        }
    }

    fn text(&mut self, what: &str, old: &str, new: &str) {
        if self.options.descriptions && old != new {
            self.push(Delta::new(Kind::DescriptionChanged, "", false, format!("{what} only: the generated docs change"), old.into(), new.into()));
        }
    }

    fn operation_pair(&mut self, old: &Operation, new: &Operation) {
        self.text("title", &old.title, &new.title);
        self.text("description", &old.description, &new.description);
        self.base_uri(old.request.base_uri.as_ref(), new.request.base_uri.as_ref());
        // The `required` flag of the `json` and `body` rows reaches no generated code: the body
        // is sent whenever the operation has one. It is not reported.
        self.fields("response", |f| f.request(&old.request, &new.request));
        self.response(&old.response, &new.response);
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

    fn response(&mut self, old: &Response, new: &Response) {
        match (old, new) {
            (Response::Json { fields: o }, Response::Json { fields: n }) => {
                self.fields("response", |f| f.list(Place::Read, "response", o, n, &|_| false, &|_| false));
            }
            (Response::Empty, Response::Empty) | (Response::Stream, Response::Stream) => {}
            _ => {
                let label = |r: &Response| match r {
                    Response::Json { .. } => "json",
                    Response::Empty => "empty",
                    Response::Stream => "stream",
                };
                let reason = format!(
                    "the response changes from {} to {}: the operation's output type changes",
                    response_label(old),
                    response_label(new)
                );
                self.push(Delta::new(Kind::ResponseKindChanged, "response", true, reason, label(old).into(), label(new).into()));
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
                self.push(Delta::new(Kind::TypeChanged, "payload", true, reason, "typed".into(), "untyped JSON".into()));
                return;
            }
            (Some(_), None) => {
                let reason = "the payload becomes typed (the page's table can now be read): its Rust type changes from untyped JSON";
                self.push(Delta::new(Kind::TypeChanged, "payload", true, reason, "untyped JSON".into(), "typed".into()));
                return;
            }
        }
        let none = |_: &str| false;
        self.fields("notification", |f| {
            f.event_type = Some(new.event_type.clone());
            f.list(Place::HandWritten, "headers", &old.headers, &new.headers, &none, &none);
            f.list(Place::HandWritten, "envelope", &old.envelope, &new.envelope, &none, &none);
            f.list(Place::Read, "payload", &old.payload, &new.payload, &none, &none);
        });
    }
}

/// Compares trees of fields. Knows what a change means at each place, nothing of the operation
/// the fields belong to: its deltas carry paths from where it was started. (Shared Rust types
/// will be compared once this way, and their deltas attributed to every operation using them.)
struct Fields {
    descriptions: bool,
    /// What inbound data is called in reasons: `response` or `notification`.
    inbound: &'static str,
    /// The notification's own event type, which `envelope.event_type` routes with its values.
    event_type: Option<String>,
    deltas: Vec<Delta>,
}

impl Fields {
    fn push(&mut self, kind: Kind, path: &str, breaking: bool, reason: impl Into<String>, old: Value, new: Value) {
        self.deltas.push(Delta::new(kind, path, breaking, reason, old, new));
    }

    fn request(&mut self, old: &Request, new: &Request) {
        // A top-level name that leaves exactly one part and arrives in exactly one other moved.
        let names = |r: &Request, part: RequestPart| -> HashSet<String> { part.fields(r).iter().map(|f| f.name.clone()).collect() };
        let mut gone: HashMap<String, Vec<RequestPart>> = HashMap::new();
        let mut came: HashMap<String, Vec<RequestPart>> = HashMap::new();
        for part in RequestPart::ALL {
            let (o, n) = (names(old, part), names(new, part));
            for name in o.difference(&n) {
                gone.entry(name.clone()).or_default().push(part);
            }
            for name in n.difference(&o) {
                came.entry(name.clone()).or_default().push(part);
            }
        }
        let mut moved: Vec<(String, RequestPart, RequestPart)> = gone
            .iter()
            .filter_map(|(name, from)| match (from.as_slice(), came.get(name).map(Vec::as_slice)) {
                ([from], Some([to])) => Some((name.clone(), *from, *to)),
                _ => None,
            })
            .collect();
        moved.sort_by_key(|(name, _, to)| (*to as usize, name.clone()));

        for part in RequestPart::ALL {
            let skip_old = |name: &str| moved.iter().any(|(n, from, _)| *from == part && n == name);
            let skip_new = |name: &str| moved.iter().any(|(n, _, to)| *to == part && n == name);
            let place = Place::Request { part, top: true };
            self.list(place, part.name(), part.fields(old), part.fields(new), &skip_old, &skip_new);
            for (name, from, _) in moved.iter().filter(|m| m.2 == part) {
                let o = from.fields(old).iter().find(|f| &f.name == name).expect("moved from here");
                let n = part.fields(new).iter().find(|f| &f.name == name).expect("moved to here");
                let (from_path, to_path) = (format!("{}.{name}", from.name()), format!("{}.{name}", part.name()));
                // Every part's members are setters of one builder: a move changes the wire, not
                // the calls, unless it enters or leaves the multipart body, whose members have
                // their own types (a file, JSON metadata).
                let breaking = (*from == RequestPart::Multipart) != (part == RequestPart::Multipart);
                let consequence = if breaking {
                    "its setter's type changes"
                } else {
                    "the builder setter stays, the generated request sends it in its new place"
                };
                let reason = format!("moved from the {} to the {}: {consequence}", from.label(), part.label());
                self.push(Kind::FieldMoved, &to_path, breaking, reason, Value::String(from_path), Value::String(to_path.clone()));
                self.field(Place::Request { part: *from, top: true }, place, &to_path, o, n);
            }
        }
    }

    /// Compares two lists of sibling fields, by name; `skip_old`/`skip_new` leave out fields
    /// reported as moved.
    fn list(&mut self, place: Place, prefix: &str, old: &[Field], new: &[Field], skip_old: &dyn Fn(&str) -> bool, skip_new: &dyn Fn(&str) -> bool) {
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
                    Place::Request { .. } => (true, "its builder setter disappears: calls that set it no longer compile"),
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
            Place::Request { .. } if place.must_set(new) => (true, "required in requests: calls that do not set it fail to build".to_owned()),
            Place::Request { .. } => match place.setter(&new.name) {
                Setter::Filled(why) if new.required => (false, format!("required on the wire, but {why}: a new builder setter")),
                _ => (false, "optional in requests: a new builder setter".to_owned()),
            },
            Place::Read => (false, format!("new {} field: existing code is unaffected (the struct is non_exhaustive)", self.inbound)),
            Place::HandWritten => (false, HAND_WRITTEN.to_owned()),
        };
        self.push(Kind::FieldAdded, path, breaking, reason, Value::Null, summary(new).into());
    }

    /// Compares one field present on both sides (at `old_place` and `new_place`: they differ
    /// for a field moved between request parts), then its members.
    fn field(&mut self, old_place: Place, new_place: Place, path: &str, old: &Field, new: &Field) {
        let hand_written = new_place == Place::HandWritten;
        if old.ty != new.ty {
            let reason =
                if hand_written { HAND_WRITTEN.to_owned() } else { format!("the Rust type changes ({} → {})", old.ty.as_str(), new.ty.as_str()) };
            self.push(Kind::TypeChanged, path, !hand_written, reason, old.ty.as_str().into(), new.ty.as_str().into());
        }
        self.enums(new_place, path, old, new);
        self.required(old_place, new_place, path, old, new);
        if old.encrypted != new.encrypted {
            let marker = |f: &Field| f.encrypted.map(|e| serde_json::to_value(e).expect("enum serializes")).unwrap_or(Value::Null);
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
            let marker = |f: &Field| f.encoded.map(|e| serde_json::to_value(e).expect("enum serializes")).unwrap_or(Value::Null);
            let reason = match (hand_written, new.encoded.is_some()) {
                (true, _) => HAND_WRITTEN,
                (false, true) => "the string now carries an encoded structure: its Rust type and encoding change",
                (false, false) => "the string no longer carries an encoded structure: its Rust type and encoding change",
            };
            self.push(Kind::EncodedChanged, path, !hand_written, reason, marker(old), marker(new));
        }
        if self.descriptions && old.description != new.description {
            let reason = "description only: the generated docs change";
            self.push(Kind::DescriptionChanged, path, false, reason, old.description.clone().into(), new.description.clone().into());
        }
        // The ciphertext's members are the payload, compared as `payload.…` whether or not the
        // row carries `data-encrypted` (older pages do not): each change is reported once.
        if hand_written && path == "envelope.resource.ciphertext" {
            return;
        }
        let prefix = if new.ty.is_array() { format!("{path}[]") } else { path.to_owned() };
        let none = |_: &str| false;
        self.list(new_place.nested(), &prefix, &old.children, &new.children, &none, &none);
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
                if !added.is_empty() {
                    let reason = match place {
                        Place::Request { .. } => "new variants; the enum is non_exhaustive, existing code is unaffected",
                        _ => "new variants; such values already deserialized, into `Unknown` (the enum is non_exhaustive)",
                    };
                    self.push(Kind::EnumValuesAdded, path, false, reason, Value::Null, values(&added));
                }
                if !removed.is_empty() {
                    let reason = match place {
                        Place::Request { .. } => "variants removed: code that sends them no longer compiles",
                        _ => "variants removed: code that matches on them no longer compiles (the values still deserialize, into `Unknown`)",
                    };
                    self.push(Kind::EnumValuesRemoved, path, true, reason, values(&removed), Value::Null);
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
        let (added, removed) = if routes { difference(&routed(old), &routed(new)) } else { difference(&old.enum_values, &new.enum_values) };
        if old.enum_values.is_empty() != new.enum_values.is_empty() {
            let (breaking, reason) = if routes && !removed.is_empty() {
                (true, format!("no longer an enumeration: events of type {} no longer reach this notification's variant", removed.join(", ")))
            } else if routes {
                (false, "the listed event types reach this notification's variant, as before".to_owned())
            } else {
                (false, HAND_WRITTEN.to_owned())
            };
            let show = |f: &Field| if f.enum_values.is_empty() { f.ty.as_str().to_owned() } else { enum_type(f) };
            return self.push(Kind::TypeChanged, path, breaking, reason, show(old).into(), show(new).into());
        }
        if !added.is_empty() {
            let reason = if routes { "events of these types now reach this notification's variant" } else { HAND_WRITTEN };
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
                    return self.push(Kind::RequiredChanged, path, is, reason, required_label(was).into(), required_label(is).into());
                }
                match new_place.setter(&new.name) {
                    Setter::Filled(why) if old.required != new.required => (false, format!("documented flag only: {why}, the builder never insists")),
                    _ => return,
                }
            }
            _ if old.required == new.required => return,
            Place::Read if new.required => (true, "becomes required: its Rust type changes from `Option<T>` to `T`".to_owned()),
            Place::Read => (true, "becomes optional: its Rust type changes from `T` to `Option<T>`".to_owned()),
            Place::HandWritten => (false, HAND_WRITTEN.to_owned()),
        };
        self.push(Kind::RequiredChanged, path, breaking, reason, required_label(old.required).into(), required_label(new.required).into());
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
    }
}

/// `string, required, enum, encrypted (3 members)`: what an added or removed field was.
fn summary(f: &Field) -> String {
    let mut s = String::from(f.ty.as_str());
    if !f.enum_values.is_empty() {
        s.push_str(" (enum)");
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
