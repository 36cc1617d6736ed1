//! The generator: documentation pages → IR → Rust.
//!
//! `parse` reads markdown into rows, `lower` turns rows into the IR, `naming` picks Rust names,
//! `typespace` gives every shape one Rust type (beside the IR, which stays as the pages say),
//! `emit` writes tokens from the IR and the type space. Each stage knows nothing of the next;
//! every pass over fields reads them through `fields`.
//!
//! Around it, the commands of `cargo xtask` (`cli`): `diff` compares two docs trees, `changelog`
//! turns that into release notes, `release` holds the last release and the semver gate.

pub mod bench;
pub mod changelog;
pub mod cli;
pub mod codegen;
pub mod diff;
pub mod emit;
pub mod error;
pub mod fields;
pub mod files;
pub mod fingerprint;
pub mod git;
pub mod import;
// The IR is its own crate (the sandbox reads it too); `crate::ir::…` keeps naming it here.
pub use wechatpay_sdk_ir as ir;
pub mod load;
pub mod lower;
pub mod naming;
pub mod parse;
pub mod release;
pub mod rust_version;
pub mod times;
pub mod typespace;

pub use error::PageError;
pub use load::load;
