//! APIv2's XML: `<xml><name>value</name>…</xml>`, read into the same JSON values the generated
//! types convert from, and written from them.
//!
//! Members are text on the wire. Reading keeps them as JSON strings (the lenient reading turns
//! `"100"` into an integer where the documentation says one), gathers indexed members
//! (`coupon_id_0`, `coupon_id_1` → `coupon_id_$n: [...]`, `coupon_id_0_1` → `coupon_id_$n_$m`)
//! into lists, and reads nested elements as objects (a repeated element as a list).
//!
//! Why quick-xml, read event by event rather than through serde: its reader never expands a
//! document type's entities (there is no DTD support to abuse), and seeing the events lets this
//! module refuse a `DOCTYPE`, processing instructions and any entity reference outright, so an
//! answer or a notification cannot smuggle in an external entity (XXE) or an entity bomb.

use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::{Map, Value};

/// Why a body is not APIv2 XML. Holds no member values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XmlError(String);

impl XmlError {
    fn new(message: impl Into<String>) -> Self {
        XmlError(message.into())
    }
}

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not APIv2 XML: {}", self.0)
    }
}

impl std::error::Error for XmlError {}

/// One member of a document: text, or (nested elements) its own members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Text(String),
    Elements(Vec<(String, Node)>),
}

impl Node {
    /// The text of a text member.
    pub fn text(&self) -> Option<&str> {
        match self {
            Node::Text(text) => Some(text),
            Node::Elements(_) => None,
        }
    }
}

type Open = (String, Vec<(String, Node)>, String);

/// The deepest nesting read: APIv2 documents are flat, with lists one or two levels down.
const MAX_DEPTH: usize = 8;

/// Reads a document's members, in document order (the root element's name is not checked:
/// `xml` in practice). Refuses a `DOCTYPE`, entity references other than the five XML ones and
/// character references, processing instructions, and anything after the root element.
pub fn parse(body: &[u8]) -> Result<Vec<(String, Node)>, XmlError> {
    let mut reader = Reader::from_reader(body);
    // The open elements: name, members so far, text so far.
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Vec<(String, Node)>> = None;
    let mut buffer = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buffer)
            .map_err(|e| XmlError::new(format!("at byte {}: {}", reader.buffer_position(), unquoted(&e))))?;
        match event {
            Event::Decl(_) | Event::Comment(_) => {}
            Event::DocType(_) => {
                return Err(XmlError::new("a DOCTYPE is refused (no entities, no external references)"))
            }
            Event::PI(_) => return Err(XmlError::new("processing instructions are refused")),
            Event::Start(start) => {
                if root.is_some() {
                    return Err(XmlError::new("content after the root element"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::new(format!("elements nested deeper than {MAX_DEPTH}")));
                }
                let name = String::from_utf8(start.name().as_ref().to_vec())
                    .map_err(|_| XmlError::new("an element name is not UTF-8"))?;
                stack.push((name, Vec::new(), String::new()));
            }
            Event::Empty(start) => {
                let name = String::from_utf8(start.name().as_ref().to_vec())
                    .map_err(|_| XmlError::new("an element name is not UTF-8"))?;
                match stack.last_mut() {
                    Some((_, members, _)) => members.push((name, Node::Text(String::new()))),
                    None if root.is_none() => root = Some(Vec::new()),
                    None => return Err(XmlError::new("content after the root element")),
                }
            }
            Event::Text(text) => {
                let decoded = text.decode().map_err(|e| XmlError::new(e.to_string()))?;
                match stack.last_mut() {
                    Some((_, _, buffer)) => buffer.push_str(&decoded),
                    None if decoded.trim().is_empty() => {}
                    None => return Err(XmlError::new("text outside the root element")),
                }
            }
            Event::GeneralRef(reference) => {
                let name = reference.decode().map_err(|e| XmlError::new(e.to_string()))?;
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => match &*name {
                        "lt" => "<".to_owned(),
                        "gt" => ">".to_owned(),
                        "amp" => "&".to_owned(),
                        "apos" => "'".to_owned(),
                        "quot" => "\"".to_owned(),
                        _ => return Err(XmlError::new("an entity reference other than XML's own is refused")),
                    },
                };
                match stack.last_mut() {
                    Some((_, _, buffer)) => buffer.push_str(&resolved),
                    None => return Err(XmlError::new("text outside the root element")),
                }
            }
            Event::CData(data) => {
                let text = String::from_utf8(data.into_inner().into_owned())
                    .map_err(|_| XmlError::new("CDATA is not UTF-8"))?;
                match stack.last_mut() {
                    Some((_, _, buffer)) => buffer.push_str(&text),
                    None => return Err(XmlError::new("CDATA outside the root element")),
                }
            }
            Event::End(_) => {
                let (name, members, text) = stack.pop().ok_or_else(|| XmlError::new("an end tag without its start"))?;
                // An element with children is their structure (whitespace between them is layout).
                let node = if members.is_empty() { Node::Text(text) } else { Node::Elements(members) };
                match stack.last_mut() {
                    Some((_, parent, _)) => parent.push((name, node)),
                    None => {
                        root = Some(match node {
                            Node::Elements(members) => members,
                            Node::Text(text) if text.trim().is_empty() => Vec::new(),
                            Node::Text(_) => return Err(XmlError::new("the root element holds text, not members")),
                        })
                    }
                }
            }
            Event::Eof => break,
        }
        buffer.clear();
    }
    if !stack.is_empty() {
        return Err(XmlError::new("the document ends inside an element"));
    }
    root.ok_or_else(|| XmlError::new("no root element"))
}

/// quick-xml's error without the names it quotes from the document: in a broken document, a
/// "name" runs on into the text, which may be a member's value (and [`XmlError`] holds none).
fn unquoted(error: &quick_xml::Error) -> String {
    use quick_xml::errors::IllFormedError;
    match error {
        quick_xml::Error::IllFormed(IllFormedError::MissingDeclVersion(Some(_))) => {
            "an XML declaration must start with `version`".to_owned()
        }
        quick_xml::Error::IllFormed(IllFormedError::MissingEndTag(_)) => "an element is not closed".to_owned(),
        quick_xml::Error::IllFormed(IllFormedError::UnmatchedEndTag(_)) => "an end tag without its start".to_owned(),
        quick_xml::Error::IllFormed(IllFormedError::MismatchedEndTag { .. }) => {
            "an end tag does not match the element open".to_owned()
        }
        other => other.to_string(),
    }
}

/// The top-level text members, for signing and verifying (nested elements are not signed).
pub fn text_members(members: &[(String, Node)]) -> Vec<(&str, &str)> {
    members.iter().filter_map(|(name, node)| node.text().map(|text| (name.as_str(), text))).collect()
}

/// The members as a JSON object, for the generated types: text as strings, nested elements as
/// objects, a repeated element as a list, and the members of an indexed name documented in
/// `documented` (`coupon_id_$n`, `coupon_id_$n_$m`) gathered into lists by their indexes.
pub fn to_json(members: Vec<(String, Node)>, documented: &[&str]) -> Value {
    let indexed: Vec<(&str, usize)> = documented
        .iter()
        .filter_map(|name| {
            name.strip_suffix("_$n_$m").map(|base| (base, 2)).or_else(|| name.strip_suffix("_$n").map(|base| (base, 1)))
        })
        .collect();
    let mut object = Map::new();
    for (name, node) in members {
        let value = node_json(node);
        if let Some((key, indexes)) = index_of(&name, &indexed) {
            place(&mut object, key, &indexes, value);
            continue;
        }
        match object.get_mut(&name) {
            Some(Value::Array(items)) => items.push(value),
            Some(existing) => {
                let first = std::mem::take(existing);
                *existing = Value::Array(vec![first, value]);
            }
            None => {
                object.insert(name, value);
            }
        }
    }
    Value::Object(object)
}

fn node_json(node: Node) -> Value {
    match node {
        Node::Text(text) => Value::String(text),
        Node::Elements(members) => to_json(members, &[]),
    }
}

/// `coupon_id_1` → (`coupon_id_$n`, [1]) when `coupon_id` is documented as indexed once.
fn index_of(name: &str, indexed: &[(&str, usize)]) -> Option<(String, Vec<usize>)> {
    for (base, depth) in indexed {
        let Some(rest) = name.strip_prefix(base).and_then(|rest| rest.strip_prefix('_')) else {
            continue;
        };
        let parts: Vec<&str> = rest.split('_').collect();
        if parts.len() != *depth || !parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
            continue;
        }
        let indexes: Option<Vec<usize>> = parts.iter().map(|p| p.parse().ok().filter(|i| *i < MAX_INDEX)).collect();
        let key = if *depth == 1 { format!("{base}_$n") } else { format!("{base}_$n_$m") };
        return indexes.map(|indexes| (key, indexes));
    }
    None
}

/// The highest index gathered: lists are filled up to it, so a forged `coupon_id_4000000000`
/// must not allocate billions of slots.
const MAX_INDEX: usize = 1000;

fn place(object: &mut Map<String, Value>, key: String, indexes: &[usize], value: Value) {
    let mut slot = object.entry(key).or_insert_with(|| Value::Array(Vec::new()));
    for (depth, index) in indexes.iter().enumerate() {
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        let Value::Array(items) = slot else { return };
        if items.len() <= *index {
            let filler = if depth + 1 < indexes.len() { Value::Array(Vec::new()) } else { Value::Null };
            items.resize(*index + 1, filler);
        }
        slot = &mut items[*index];
    }
    *slot = value;
}

/// A JSON object written by a generated request as the members of an XML body: strings as they
/// are, numbers and booleans as their text, lists of indexed members (`coupon_id_$n`) spread over
/// `coupon_id_0`, `coupon_id_1`, …; an absent (`null`) member is left out. Objects and lists
/// elsewhere are written as their JSON text (no APIv2 request nests elements).
pub fn members_of(value: Value) -> Vec<(String, String)> {
    let Value::Object(object) = value else {
        return Vec::new();
    };
    let mut members = Vec::new();
    for (name, value) in object {
        if let Some(base) = name.strip_suffix("_$n_$m") {
            for (n, row) in list(value).into_iter().enumerate() {
                for (m, item) in list(row).into_iter().enumerate() {
                    members.extend(text(item).map(|text| (format!("{base}_{n}_{m}"), text)));
                }
            }
        } else if let Some(base) = name.strip_suffix("_$n") {
            for (n, item) in list(value).into_iter().enumerate() {
                members.extend(text(item).map(|text| (format!("{base}_{n}"), text)));
            }
        } else if let Some(text) = text(value) {
            members.push((name, text));
        }
    }
    members
}

fn list(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn text(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text),
        other => Some(other.to_string()),
    }
}

/// `<xml><name><![CDATA[value]]></name>…</xml>`. Values go in CDATA sections (as WeChat Pay
/// writes them); a value holding `]]>` is split across two sections.
pub fn write<'a>(members: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::from("<xml>");
    for (name, value) in members {
        out.push('<');
        out.push_str(name);
        out.push_str("><![CDATA[");
        out.push_str(&value.replace("]]>", "]]]]><![CDATA[>"));
        out.push_str("]]></");
        out.push_str(name);
        out.push('>');
    }
    out.push_str("</xml>");
    out
}

/// Whether a body looks like an XML document (after blanks and a byte-order mark).
pub fn looks_like_xml(body: &[u8]) -> bool {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_are_read_in_order_with_cdata_and_references() {
        let body = b"<?xml version=\"1.0\"?><xml><return_code><![CDATA[SUCCESS]]></return_code><a>x &amp; y &#20013;</a><b/></xml>";
        let members = parse(body).unwrap();
        assert_eq!(text_members(&members), [("return_code", "SUCCESS"), ("a", "x & y 中"), ("b", "")]);
    }

    #[test]
    fn hostile_documents_are_refused() {
        for body in [
            &b"<!DOCTYPE xml [<!ENTITY a \"aaaa\">]><xml><a>&a;</a></xml>"[..],
            b"<!DOCTYPE xml SYSTEM \"file:///etc/passwd\"><xml/>",
            b"<xml><a>&ext;</a></xml>",
            b"<?php x ?><xml/>",
            b"<xml><a>1</a></xml><xml/>",
            b"<xml><a>1</a>",
            b"not xml",
            b"",
            b"<a><b><c><d><e><f><g><h><i>deep</i></h></g></f></e></d></c></b></a>",
        ] {
            assert!(parse(body).is_err(), "{}", String::from_utf8_lossy(body));
        }
    }

    /// Found by the `v2_answer` fuzz target: a start tag broken before its `>` took the text
    /// after it into its name, and the mismatched end tag's error quoted it (a member's value).
    #[test]
    fn errors_quote_nothing_of_the_document() {
        for body in [
            &b"<xml><nonce_str]<![CDATA[SECRET-VALUE]]></nonce_str></xml>"[..],
            b"<xml><a>1</a></SECRET-VALUE></xml>",
            b"<xml><a>SECRET-VALUE</b></xml>",
        ] {
            let error = parse(body).unwrap_err().to_string();
            assert!(!error.contains("SECRET"), "{error}");
        }
    }

    #[test]
    fn indexed_and_nested_members_become_lists_and_objects() {
        let body = b"<xml><coupon_count>2</coupon_count><coupon_id_1>B</coupon_id_1><coupon_id_0>A</coupon_id_0>\
            <coupon_fee_0_1>5</coupon_fee_0_1><hblist><hbinfo><openid>o1</openid></hbinfo><hbinfo><openid>o2</openid></hbinfo></hblist>\
            <coupon_id_x>kept</coupon_id_x></xml>";
        let value = to_json(parse(body).unwrap(), &["coupon_id_$n", "coupon_fee_$n_$m"]);
        assert_eq!(
            value,
            json!({
                "coupon_count": "2",
                "coupon_id_$n": ["A", "B"],
                "coupon_fee_$n_$m": [[null, "5"]],
                "hblist": { "hbinfo": [{ "openid": "o1" }, { "openid": "o2" }] },
                "coupon_id_x": "kept",
            })
        );
        assert_eq!(
            to_json(parse(b"<xml><coupon_id_99999999999>A</coupon_id_99999999999></xml>").unwrap(), &["coupon_id_$n"]),
            json!({ "coupon_id_99999999999": "A" }),
            "an index past the cap is no list slot"
        );
    }

    #[test]
    fn members_are_written_back_spread_and_in_cdata() {
        let members = members_of(
            json!({ "total_fee": 100, "b": "x]]>y", "coupon_id_$n": ["A", "B"], "c_$n_$m": [["1"], ["2", "3"]], "none": null }),
        );
        assert_eq!(
            members,
            [
                ("total_fee", "100"),
                ("b", "x]]>y"),
                ("coupon_id_0", "A"),
                ("coupon_id_1", "B"),
                ("c_0_0", "1"),
                ("c_1_0", "2"),
                ("c_1_1", "3")
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        let text = write(members.iter().map(|(a, b)| (a.as_str(), b.as_str())));
        assert!(text.starts_with("<xml><total_fee><![CDATA[100]]></total_fee>"), "{text}");
        let back = parse(text.as_bytes()).unwrap();
        assert_eq!(text_members(&back)[1], ("b", "x]]>y"), "a value holding the CDATA end survives");
    }
}
