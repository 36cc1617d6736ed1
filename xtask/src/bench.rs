//! `cargo xtask bench`: see the README.

use std::process::ExitCode;

pub fn main(_args: Vec<String>) -> ExitCode {
    eprintln!("bench: not yet");
    ExitCode::FAILURE
}
