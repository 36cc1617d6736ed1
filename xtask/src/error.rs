//! Errors that name where the documentation is wrong.

use std::fmt;

/// Something a page says that the generator cannot understand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageError {
    /// The page, relative to the docs tree.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for PageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for PageError {}
