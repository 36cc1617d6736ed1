//! The generator: documentation pages → IR → Rust.
//!
//! `parse` reads markdown into rows, `lower` turns rows into the IR, `naming` picks Rust names,
//! `emit` writes tokens. Each stage knows nothing of the next.

pub mod bench;
pub mod codegen;
pub mod diff;
pub mod error;
pub mod fingerprint;
pub mod ir;
pub mod load;
pub mod lower;
pub mod naming;
pub mod parse;
pub mod typespace;
pub mod emit;
pub mod import;

pub use error::PageError;
pub use load::load;
