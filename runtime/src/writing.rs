//! Writing a request for the wire. Sensitive values ([`Sensitive`](crate::Sensitive), the fields
//! the documentation marks `data-encrypted`) are sealed for WeChat Pay as they are written, in
//! the body, the query string or a header alike: the plain text never reaches the wire, and a
//! writer without a key writes nothing of it (it records that a key was needed instead).

use std::fmt;

use crate::time_format::TimeFormat;

/// Encrypts a sensitive value for WeChat Pay (RSA-OAEP with its public key or platform
/// certificate, Base64): the transport's side of [`Writing`].
pub trait Seal {
    /// The ciphertext of `plaintext`, as it goes on the wire.
    fn seal(&self, plaintext: &str) -> Result<String, SealError>;
}

/// Why a sensitive value could not be sealed. Never holds the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SealError {
    /// The writer was given no key: the caller must find one and write again.
    NoKey,
    /// The key could not encrypt the value (e.g. the value is too long for RSA-OAEP).
    Failed(String),
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SealError::NoKey => f.write_str("a sensitive value needs a WeChat Pay key to be encrypted with"),
            SealError::Failed(reason) => write!(f, "encrypting a sensitive value: {reason}"),
        }
    }
}

impl std::error::Error for SealError {}

/// How a request is being written: with the key sensitive values are sealed with, if any, and
/// what sealing came to.
pub struct Writing<'a> {
    seal: Option<&'a dyn Seal>,
    sealed: usize,
    failure: Option<SealError>,
    /// The documented format of the time being written (see [`put_time`](crate::put_time)).
    format: Option<TimeFormat>,
}

impl<'a> Writing<'a> {
    /// Sensitive values are sealed with `seal`.
    pub fn sealing(seal: &'a dyn Seal) -> Self {
        Writing { seal: Some(seal), sealed: 0, failure: None, format: None }
    }

    /// No key: a sensitive value met is written as an empty string and recorded as
    /// [`SealError::NoKey`]. Also how responses are written back to JSON (they hold no
    /// sensitive value: what WeChat Pay encrypts for the merchant is [`Encrypted`](crate::Encrypted)).
    pub fn unsealed() -> Self {
        Writing { seal: None, sealed: 0, failure: None, format: None }
    }

    /// Seals one sensitive value: its ciphertext, or an empty string with the failure recorded.
    pub fn seal(&mut self, plaintext: &str) -> String {
        let result = match self.seal {
            Some(seal) => seal.seal(plaintext),
            None => Err(SealError::NoKey),
        };
        match result {
            Ok(ciphertext) => {
                self.sealed += 1;
                ciphertext
            }
            Err(error) => {
                self.failure.get_or_insert(error);
                String::new()
            }
        }
    }

    /// The documented format of the time being written, if it is one.
    pub(crate) fn time_format(&self) -> Option<TimeFormat> {
        self.format
    }

    /// Writes with `format` as the documented format of the time (or list of times) written.
    pub(crate) fn with_time_format<T>(&mut self, format: Option<TimeFormat>, write: impl FnOnce(&mut Self) -> T) -> T {
        let outer = std::mem::replace(&mut self.format, format);
        let written = write(self);
        self.format = outer;
        written
    }

    /// How many sensitive values were sealed.
    pub fn sealed(&self) -> usize {
        self.sealed
    }

    /// Whether a sensitive value was met without a key to seal it with.
    pub fn needs_key(&self) -> bool {
        self.failure == Some(SealError::NoKey)
    }

    /// The number of values sealed, or the first failure: what was written must not be sent then.
    pub fn finish(self) -> Result<usize, SealError> {
        match self.failure {
            Some(error) => Err(error),
            None => Ok(self.sealed),
        }
    }
}

impl fmt::Debug for Writing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writing")
            .field("has_key", &self.seal.is_some())
            .field("sealed", &self.sealed)
            .field("failure", &self.failure)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Sensitive, ToJson, ToParam};

    struct Reverse;

    impl Seal for Reverse {
        fn seal(&self, plaintext: &str) -> Result<String, SealError> {
            Ok(plaintext.chars().rev().collect())
        }
    }

    #[test]
    fn sensitive_values_are_sealed_wherever_they_are_written() {
        let value = Sensitive::new("张三");
        let mut out = Writing::sealing(&Reverse);
        assert_eq!(value.to_param(&mut out), "三张");
        assert_eq!(value.to_json(&mut out), serde_json::json!("三张"));
        assert_eq!(vec![value.clone()].to_param(&mut out), "三张");
        assert_eq!(out.finish(), Ok(3));
    }

    #[test]
    fn without_a_key_nothing_of_the_value_is_written() {
        let value = Sensitive::new("4111111111111111");
        let mut out = Writing::unsealed();
        assert_eq!(value.to_param(&mut out), "");
        assert_eq!(value.to_json(&mut out), serde_json::json!(""));
        assert!(out.needs_key());
        assert_eq!(out.finish(), Err(SealError::NoKey));
        let mut plain = Writing::unsealed();
        assert_eq!("text".to_owned().to_param(&mut plain), "text");
        assert_eq!(plain.finish(), Ok(0), "values that are not sensitive need no key");
    }
}
