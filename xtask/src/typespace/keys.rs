//! Shape keys: the text that two fields share exactly when they share a Rust type (the shape map
//! of typify's `TypeSpace`). Names, types, required flags, enum values, markers and members count,
//! all the way down; descriptions do not.

use crate::fields::Side;
use crate::ir::{Encryption, Field, Protocol, Type};
use crate::naming::enum_values;

/// Whether a field becomes a structure: an object, an array of objects, or a string carrying one;
/// outside `structured` parts (path, query and header parameters) nothing does.
pub fn has_struct(field: &Field, structured: bool) -> bool {
    structured && !field.children.is_empty() && matches!(field.ty, Type::Object | Type::ObjectArray | Type::String)
}

/// What tells an APIv2 shape from an APIv3 one of the same members: XML members are text on the
/// wire, so the two never share a Rust type (and APIv3's types keep their names and homes).
pub fn protocol_prefix(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::V3 => "",
        Protocol::V2 => "2|",
    }
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
    if let Some(group) = &field.one_of {
        key += &format!(":one_of={group}");
    }
    // `text` is a plain string, as without a format: no other Rust type.
    if let Some(format) = field.time_format() {
        key += &format!(":format={}", format.as_str());
    }
    key
}

/// A structure named `name` with these members.
pub fn struct_key(name: &str, members: &[Field], side: Side) -> String {
    let members: Vec<String> = members.iter().map(|m| member_key(m, side, true)).collect();
    format!("S{name}({})", members.join(","))
}

/// An enumeration: its name, whether it holds integers, its values.
pub fn enum_key(field: &Field) -> String {
    format!(
        "E{}:{}:{}",
        field.name,
        u8::from(matches!(field.ty, Type::Integer | Type::IntegerArray)),
        enum_values(field).join("|")
    )
}

/// A response or payload: its top-level fields.
pub fn top_key(prefix: &str, fields: &[Field], side: Side) -> String {
    format!("{prefix}{}", struct_key("", fields, side))
}
