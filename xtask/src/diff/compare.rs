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

/// Which way data flows, which decides what breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    /// Built by the user (builders): a new requirement breaks, a new option does not.
    Request,
    /// Read by the user (responses, notifications): any change of the Rust type breaks.
    Response,
}

/// Compares two APIs: operations by method and path, notifications by event type, fields by
/// name within their parent. The order is stable: operations by path then method, then
/// notifications by event type; within each, request parts, then the response.
pub fn compare(old: &Api, new: &Api, options: Options) -> Vec<Change> {
    let mut cx = Cx { options, changes: Vec::new(), operation: String::new(), file: String::new(), inbound: "response" };

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
                    cx.push(
                        Kind::OperationRemoved,
                        "",
                        true,
                        "operation removed: its module, builder and types disappear",
                        Value::String(o.title.clone()),
                        Value::Null,
                    );
                }
                (None, Some(n)) => {
                    cx.file = n.file.clone();
                    cx.push(
                        Kind::OperationAdded,
                        "",
                        false,
                        "new operation: a new module, nothing existing changes",
                        Value::Null,
                        Value::String(n.title.clone()),
                    );
                }
                (None, None) => {}
            }
        }
    }

    cx.inbound = "notification";
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
                    cx.push(
                        Kind::NotificationRemoved,
                        "",
                        true,
                        "notification removed: its event variant and payload type disappear",
                        Value::String(o.title.clone()),
                        Value::Null,
                    );
                }
                (None, Some(n)) => {
                    cx.file = n.file.clone();
                    cx.push(
                        Kind::NotificationAdded,
                        "",
                        false,
                        "new notification: a new event variant (the event enum is non_exhaustive)",
                        Value::Null,
                        Value::String(n.title.clone()),
                    );
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

struct Cx {
    options: Options,
    changes: Vec<Change>,
    /// The operation or notification being compared, as shown to the user.
    operation: String,
    file: String,
    /// What inbound data is called: `response` or `notification`.
    inbound: &'static str,
}

fn body(part: &Option<Part>) -> &[Field] {
    part.as_ref().map(|p| p.fields.as_slice()).unwrap_or_default()
}

/// A request part: its name in paths, and its top-level fields.
struct PartFields<'a> {
    name: &'static str,
    fields: &'a [Field],
}

fn request_parts(r: &Request) -> [PartFields<'_>; 5] {
    [
        PartFields { name: "path", fields: &r.path_params },
        PartFields { name: "query", fields: &r.query },
        PartFields { name: "headers", fields: &r.headers },
        PartFields { name: "json", fields: body(&r.json) },
        PartFields { name: "multipart", fields: body(&r.multipart) },
    ]
}

impl Cx {
    fn push(&mut self, kind: Kind, path: &str, breaking: bool, reason: impl Into<String>, old: Value, new: Value) {
        self.changes.push(Change {
            kind,
            operation: self.operation.clone(),
            path: path.to_owned(),
            breaking,
            reason: reason.into(),
            old,
            new,
            file: self.file.clone(),
        });
    }

    fn text(&mut self, path: &str, what: &str, old: &str, new: &str) {
        if self.options.descriptions && old != new {
            self.push(Kind::DescriptionChanged, path, false, format!("{what} only: the generated docs change"), old.into(), new.into());
        }
    }

    fn operation_pair(&mut self, old: &Operation, new: &Operation) {
        self.text("", "title", &old.title, &new.title);
        self.text("", "description", &old.description, &new.description);
        self.request(&old.request, &new.request);
        self.response(&old.response, &new.response);
    }

    fn request(&mut self, old: &Request, new: &Request) {
        self.base_uri(old.base_uri.as_ref(), new.base_uri.as_ref());
        for (name, o, n) in [("json", &old.json, &new.json), ("multipart", &old.multipart, &new.multipart)] {
            if let (Some(o), Some(n)) = (o, n) {
                if o.required != n.required {
                    self.required(Direction::Request, name, o.required, n.required);
                }
            }
        }

        let old_parts = request_parts(old);
        let new_parts = request_parts(new);

        // A top-level name that leaves exactly one part and arrives in exactly one other moved.
        let names = |parts: &[PartFields<'_>; 5], i: usize| -> HashSet<String> { parts[i].fields.iter().map(|f| f.name.clone()).collect() };
        let mut gone: HashMap<String, Vec<usize>> = HashMap::new();
        let mut came: HashMap<String, Vec<usize>> = HashMap::new();
        for i in 0..old_parts.len() {
            let (o, n) = (names(&old_parts, i), names(&new_parts, i));
            for name in o.difference(&n) {
                gone.entry(name.clone()).or_default().push(i);
            }
            for name in n.difference(&o) {
                came.entry(name.clone()).or_default().push(i);
            }
        }
        let mut moved: Vec<(String, usize, usize)> = gone
            .iter()
            .filter_map(|(name, from)| match (from.as_slice(), came.get(name).map(Vec::as_slice)) {
                ([from], Some([to])) => Some((name.clone(), *from, *to)),
                _ => None,
            })
            .collect();
        moved.sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0)));
        let moved_out: HashSet<(usize, &str)> = moved.iter().map(|(name, from, _)| (*from, name.as_str())).collect();
        let moved_in: HashSet<(usize, &str)> = moved.iter().map(|(name, _, to)| (*to, name.as_str())).collect();

        for i in 0..old_parts.len() {
            let skip_old = |name: &str| moved_out.contains(&(i, name));
            let skip_new = |name: &str| moved_in.contains(&(i, name));
            let prefix = old_parts[i].name;
            self.fields_except(Direction::Request, prefix, old_parts[i].fields, new_parts[i].fields, &skip_old, &skip_new, false);
            for (name, from, _) in moved.iter().filter(|m| m.2 == i) {
                let o = old_parts[*from].fields.iter().find(|f| &f.name == name).expect("moved from here");
                let n = new_parts[i].fields.iter().find(|f| &f.name == name).expect("moved to here");
                let (from_path, to_path) = (format!("{}.{name}", old_parts[*from].name), format!("{prefix}.{name}"));
                let reason = format!(
                    "moved from the {} to the {}: the request changes on the wire",
                    part_label(old_parts[*from].name),
                    part_label(prefix)
                );
                self.push(Kind::FieldMoved, &to_path, true, reason, Value::String(from_path), Value::String(to_path.clone()));
                self.field(Direction::Request, &to_path, o, n, false);
            }
        }
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
            self.push(Kind::BaseUriChanged, "base_uri", false, reason, o, n);
        }
    }

    fn response(&mut self, old: &Response, new: &Response) {
        match (old, new) {
            (Response::Json { fields: o }, Response::Json { fields: n }) => {
                self.fields_except(Direction::Response, "response", o, n, &|_| false, &|_| false, false);
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
                self.push(Kind::ResponseKindChanged, "response", true, reason, label(old).into(), label(new).into());
            }
        }
    }

    fn notification_pair(&mut self, old: &Notification, new: &Notification) {
        self.text("", "title", &old.title, &new.title);
        self.text("", "description", &old.description, &new.description);
        // A page the generator could not read keeps its payload as untyped JSON: there are no
        // fields to compare, only the switch between typed and untyped.
        match (&old.untyped, &new.untyped) {
            (None, None) => {}
            (Some(_), Some(_)) => return,
            (None, Some(why)) => {
                let reason = format!("the payload becomes untyped JSON (the page's table cannot be read: {why})");
                self.push(Kind::TypeChanged, "payload", true, reason, "typed".into(), "untyped JSON".into());
                return;
            }
            (Some(_), None) => {
                let reason = "the payload becomes typed (the page's table can now be read): its Rust type changes from untyped JSON";
                self.push(Kind::TypeChanged, "payload", true, reason, "untyped JSON".into(), "typed".into());
                return;
            }
        }
        let none = |_: &str| false;
        self.fields_except(Direction::Response, "headers", &old.headers, &new.headers, &none, &none, false);
        // The envelope's `ciphertext` holds the payload, which is compared on its own.
        self.fields_except(Direction::Response, "envelope", &old.envelope, &new.envelope, &none, &none, true);
        self.fields_except(Direction::Response, "payload", &old.payload, &new.payload, &none, &none, false);
    }

    /// Compares two lists of sibling fields, by name; `skip_old`/`skip_new` leave out fields
    /// reported as moved.
    #[allow(clippy::too_many_arguments)] // one private recursion helper; a struct would only rename the arguments
    fn fields_except(
        &mut self,
        dir: Direction,
        prefix: &str,
        old: &[Field],
        new: &[Field],
        skip_old: &dyn Fn(&str) -> bool,
        skip_new: &dyn Fn(&str) -> bool,
        skip_encrypted_members: bool,
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
                Some(o) => self.field(dir, &path, o, n, skip_encrypted_members),
                None => {
                    let (breaking, reason) = match (dir, n.required) {
                        (Direction::Request, true) => (true, "required in requests: calls that do not set it fail to build".to_owned()),
                        (Direction::Request, false) => (false, "optional in requests: a new builder setter".to_owned()),
                        (Direction::Response, _) => (false, format!("new {} field: existing code is unaffected", self.inbound)),
                    };
                    self.push(Kind::FieldAdded, &path, breaking, reason, Value::Null, summary(n).into());
                }
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
                let reason = match dir {
                    Direction::Request => "its builder setter disappears: calls that set it no longer compile",
                    Direction::Response => "code that reads it no longer compiles",
                };
                self.push(Kind::FieldRemoved, &join(prefix, &o.name), true, reason, summary(o).into(), Value::Null);
            }
            *index += 1;
        }
    }

    /// Compares one field present on both sides, then its members.
    fn field(&mut self, dir: Direction, path: &str, old: &Field, new: &Field, skip_encrypted_members: bool) {
        if old.ty != new.ty {
            let reason = format!("the Rust type changes ({} → {})", old.ty.as_str(), new.ty.as_str());
            self.push(Kind::TypeChanged, path, true, reason, old.ty.as_str().into(), new.ty.as_str().into());
        }
        self.enums(dir, path, old, new);
        if old.required != new.required {
            self.required(dir, path, old.required, new.required);
        }
        if old.encrypted != new.encrypted {
            let marker = |f: &Field| f.encrypted.map(|e| serde_json::to_value(e).expect("enum serializes")).unwrap_or(Value::Null);
            let reason = match (dir, new.encrypted.is_some()) {
                (Direction::Request, true) => {
                    "now sent encrypted (with the WeChat Pay public key, which needs `Wechatpay-Serial`): the request changes on the wire"
                }
                (Direction::Request, false) => "no longer encrypted: the value is sent in clear",
                (Direction::Response, true) => "now arrives encrypted: it must be decrypted before use",
                (Direction::Response, false) => "no longer encrypted: it arrives in clear",
            };
            self.push(Kind::EncryptedChanged, path, true, reason, marker(old), marker(new));
        }
        if old.encoded != new.encoded {
            let marker = |f: &Field| f.encoded.map(|e| serde_json::to_value(e).expect("enum serializes")).unwrap_or(Value::Null);
            let reason = if new.encoded.is_some() {
                "the string now carries an encoded structure: its Rust type and encoding change"
            } else {
                "the string no longer carries an encoded structure: its Rust type and encoding change"
            };
            self.push(Kind::EncodedChanged, path, true, reason, marker(old), marker(new));
        }
        self.text(path, "description", &old.description, &new.description);
        let skip = skip_encrypted_members && (old.encrypted.is_some() || new.encrypted.is_some());
        if !skip {
            let prefix = if new.ty.is_array() { format!("{path}[]") } else { path.to_owned() };
            let none = |_: &str| false;
            self.fields_except(dir, &prefix, &old.children, &new.children, &none, &none, skip_encrypted_members);
        }
    }

    fn enums(&mut self, dir: Direction, path: &str, old: &Field, new: &Field) {
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
                let added: Vec<String> = new.enum_values.iter().filter(|v| !old.enum_values.contains(v)).cloned().collect();
                let removed: Vec<String> = old.enum_values.iter().filter(|v| !new.enum_values.contains(v)).cloned().collect();
                if !added.is_empty() {
                    let reason = match dir {
                        Direction::Request => "new variants; the enum is non_exhaustive, existing code is unaffected",
                        Direction::Response => "new variants; such values already deserialized (the enum is non_exhaustive)",
                    };
                    self.push(Kind::EnumValuesAdded, path, false, reason, Value::Null, values(&added));
                }
                if !removed.is_empty() {
                    let (breaking, reason) = match dir {
                        Direction::Request => (true, "variants removed: code that sends them no longer compiles"),
                        Direction::Response => (true, "variants removed: code that matches on them no longer compiles (the values still deserialize, into `Unknown`)"),
                    };
                    self.push(Kind::EnumValuesRemoved, path, breaking, reason, values(&removed), Value::Null);
                }
            }
        }
    }

    fn required(&mut self, dir: Direction, path: &str, old: bool, new: bool) {
        let (breaking, reason) = match (dir, new) {
            (Direction::Request, true) => (true, "becomes required: calls that do not set it fail to build"),
            (Direction::Request, false) => (false, "becomes optional: existing calls still build"),
            (Direction::Response, true) => (true, "becomes required: its Rust type changes from `Option<T>` to `T`"),
            (Direction::Response, false) => (true, "becomes optional: its Rust type changes from `T` to `Option<T>`"),
        };
        self.push(Kind::RequiredChanged, path, breaking, reason, required_label(old).into(), required_label(new).into());
    }
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

fn part_label(part: &str) -> &'static str {
    match part {
        "path" => "path",
        "query" => "query string",
        "headers" => "headers",
        "json" => "JSON body",
        "multipart" => "multipart body",
        _ => "request",
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
