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
mod digest;
mod envelope;
mod from_json;
mod operation;
mod paging;
mod registry;
mod report;
mod time_format;
mod times;
mod to_json;
mod values;
mod writing;
pub mod xml;

/// The `time` crate, whose values [`DateTime`], [`Date`] and [`TimeOfDay`] hold.
pub use ::time;
pub use builder::{finish, join, list, nested, one_of, optional, path_value, required, BuildError, Builder, Problems};
pub use decode::{decode_json, Decode, Decoded, JsonResponse};
pub use digest::file_digest;
pub use envelope::{Envelope, Resource};
pub use from_json::{read_strict, FromJson, Reader, Reading};
pub use operation::{
    Body, ErasedOperation, Form, Merchant, Method, Multipart, Operation, Protocol, ResponseKind, Transport,
};
pub use paging::{Page, Paged};
pub use registry::{erased, find, NotificationInfo, OperationInfo};
pub use report::{DecodeError, Deviation, DeviationKind};
pub use times::{Date, DateTime, TimeError, TimeFormat, TimeOfDay, CHINA};
pub use to_json::{put, put_optional, put_time, put_time_optional, time_param, ToJson};
pub use values::{
    encode_path_segment, ByteStream, Encrypted, File, JsonEncoded, Number, Sensitive, ToParam, UrlEncoded,
};
pub use writing::{Seal, SealError, Writing};

/// What generated code reaches through this crate, so that it needs no derive macro.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use serde_json;
}

/// Implements `Serialize`, `Deserialize`, [`FromJson`], [`ToJson`], `Display` and [`ToParam`] for
/// a generated enum with `as_str` and `From<&str>`, so that a value the documentation does not
/// list yet round-trips unchanged.
#[macro_export]
macro_rules! string_enum {
    ($name:ident) => {
        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text =
                    <::std::borrow::Cow<'de, str> as $crate::__private::serde::Deserialize>::deserialize(deserializer)?;
                Ok($name::from(&*text))
            }
        }
        impl $crate::FromJson for $name {
            fn read(r: &mut $crate::Reader<'_, '_>) -> Result<Self, $crate::DecodeError> {
                <String as $crate::FromJson>::read(r).map(|text| $name::from(text.as_str()))
            }
            fn absent(_at: &mut $crate::Reading) -> Result<Self, $crate::DecodeError> {
                Ok($name::from(""))
            }
        }
        impl $crate::ToJson for $name {
            fn to_json(&self, _out: &mut $crate::Writing<'_>) -> $crate::__private::serde_json::Value {
                $crate::__private::serde_json::Value::String(self.as_str().to_owned())
            }
        }
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl $crate::ToParam for $name {
            fn to_param(&self, _out: &mut $crate::Writing<'_>) -> String {
                self.as_str().to_owned()
            }
        }
    };
}

/// Like [`string_enum!`] for enums of integers (`as_i64` and `From<i64>`).
#[macro_export]
macro_rules! integer_enum {
    ($name:ident) => {
        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_i64(self.as_i64())
            }
        }
        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Ok($name::from(<i64 as $crate::__private::serde::Deserialize>::deserialize(deserializer)?))
            }
        }
        impl $crate::FromJson for $name {
            fn read(r: &mut $crate::Reader<'_, '_>) -> Result<Self, $crate::DecodeError> {
                <i64 as $crate::FromJson>::read(r).map($name::from)
            }
            fn absent(_at: &mut $crate::Reading) -> Result<Self, $crate::DecodeError> {
                Ok($name::from(0))
            }
        }
        impl $crate::ToJson for $name {
            fn to_json(&self, _out: &mut $crate::Writing<'_>) -> $crate::__private::serde_json::Value {
                $crate::__private::serde_json::Value::from(self.as_i64())
            }
        }
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}", self.as_i64())
            }
        }
        impl $crate::ToParam for $name {
            fn to_param(&self, _out: &mut $crate::Writing<'_>) -> String {
                self.as_i64().to_string()
            }
        }
    };
}
