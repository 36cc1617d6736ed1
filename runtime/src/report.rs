//! What reading a value reports: an error when reading strictly ([`DecodeError`]), and, when
//! reading what the service sent, where the value deviated from the documentation
//! ([`Deviation`]). Below the readers, so that every module can name both.

use std::fmt;

/// A value that does not read, with where: the JSON path (`amount.total`, `data[2].state`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    path: String,
    message: String,
    /// The text is not JSON: nothing after this point can be read.
    syntax: bool,
}

impl DecodeError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        DecodeError { path: path.into(), message: message.into(), syntax: false }
    }

    /// The text is not JSON (or ends early) at `path`.
    pub fn syntax(path: impl Into<String>, message: impl Into<String>) -> Self {
        DecodeError { path: path.into(), message: message.into(), syntax: true }
    }

    /// Whether the text itself is not JSON, rather than a value of another type.
    pub fn is_syntax(&self) -> bool {
        self.syntax
    }

    /// The JSON path of the value that does not decode (empty for the body itself).
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "the body: {}", self.message)
        } else {
            write!(f, "`{}`: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for DecodeError {}

/// Where an answer read leniently differs from its documentation, so that the difference stays
/// visible: the value at `path` holds its type's default (`""`, `0`, `false`, `[]`, a structure
/// of defaults) instead of what the documentation promised.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Deviation {
    /// The JSON path (`amount.total`, `data[2].state`; empty for the body itself).
    pub path: String,
    /// What was there instead.
    pub kind: DeviationKind,
}

/// What a [`Deviation`] found. Never a value: answers hold personal data, and the whole verified
/// body stays available to the caller as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeviationKind {
    /// A required member was absent (or `null`).
    Absent,
    /// The value does not read as its documented type: `message` says what was expected and
    /// `found` the JSON kind that arrived (`an array`, `a string`, …).
    Mismatch { message: String, found: &'static str },
    /// The body holds none of the documented members: another variant of the answer, or members
    /// renamed. Every member reads as its default.
    Undocumented,
    /// A time that is not in its documented format (`expected` says which, e.g. `a date-time (RFC
    /// 3339)`): unlike the others, its text is kept as received, without a value (see
    /// [`DateTime`](crate::DateTime)).
    Format { expected: &'static str },
}

impl Deviation {
    pub fn absent(path: String) -> Self {
        Deviation { path, kind: DeviationKind::Absent }
    }

    pub fn mismatch(path: String, message: &str, found: &'static str) -> Self {
        Deviation { path, kind: DeviationKind::Mismatch { message: message.to_owned(), found } }
    }

    pub fn format(path: String, expected: &'static str) -> Self {
        Deviation { path, kind: DeviationKind::Format { expected } }
    }

    pub fn undocumented() -> Self {
        Deviation { path: String::new(), kind: DeviationKind::Undocumented }
    }
}

impl fmt::Display for Deviation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.path.is_empty() { "the body".to_owned() } else { format!("`{}`", self.path) };
        match &self.kind {
            DeviationKind::Absent => write!(f, "{at}: required but absent (read as its default)"),
            DeviationKind::Mismatch { message, .. } => write!(f, "{at}: {message} (read as its default)"),
            DeviationKind::Undocumented => write!(f, "{at}: none of the documented members is present"),
            DeviationKind::Format { expected } => write!(f, "{at}: not {expected} (kept as received)"),
        }
    }
}
