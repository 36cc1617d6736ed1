//! What code generated from the WeChat Pay APIv3 documentation needs, written once by hand: the
//! operation descriptor the transport sends ([`Operation`]), the builder plumbing that reports
//! every missing field, lenient decoding of what the service really sends ([`Decode`]), the wire
//! value types that keep values exactly as sent, and the registry of operations.
//!
//! The `wechatpay-generated` crate, and every crate `cargo xtask codegen --out` makes, depends on
//! this crate and re-exports it as `runtime`; the `wechatpay` client sends anything that
//! implements [`Operation`], so a crate generated from newer documentation works with it unchanged.

mod builder;
mod decode;
mod envelope;
mod operation;
mod paging;
mod registry;
mod values;

pub use builder::{finish, join, list, nested, optional, path_value, required, BuildError, Builder, Problems};
pub use decode::{decode_json, lenient, DecodeError, Decode, Decoded, FieldSchema, JsonResponse, Kind, Schema};
pub use envelope::{Envelope, Resource};
pub use operation::{Body, ByteStream, ErasedOperation, File, Merchant, Method, Multipart, Operation, ResponseKind, Transport};
pub use paging::{Page, Paged};
pub use registry::{erased, find, NotificationInfo, OperationInfo};
pub use values::{encode_path_segment, Encrypted, JsonEncoded, Number, Sensitive, ToParam, UrlEncoded};

/// Implements `Serialize`, `Deserialize`, `Display` and [`ToParam`] for a generated enum with
/// `as_str` and `From<&str>`, so that a value the documentation does not list yet round-trips
/// unchanged.
#[macro_export]
macro_rules! string_enum {
    ($name:ident) => {
        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok($name::from(&*text))
            }
        }
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl $crate::ToParam for $name {
            fn to_param(&self) -> String {
                self.as_str().to_owned()
            }
        }
    };
}

/// Like [`string_enum!`] for enums of integers (`as_i64` and `From<i64>`).
#[macro_export]
macro_rules! integer_enum {
    ($name:ident) => {
        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_i64(self.as_i64())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Ok($name::from(<i64 as ::serde::Deserialize>::deserialize(deserializer)?))
            }
        }
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}", self.as_i64())
            }
        }
        impl $crate::ToParam for $name {
            fn to_param(&self) -> String {
                self.as_i64().to_string()
            }
        }
    };
}
