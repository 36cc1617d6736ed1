//! Why a command failed, with its exit status: one line on stderr, the cause included.

use std::fmt;

/// A failed command: its exit status and a one-line message.
#[derive(Debug)]
pub struct Failure {
    pub status: u8,
    pub message: String,
}

impl Failure {
    /// The operation failed (refused, not verified): 1.
    pub fn failed(message: impl Into<String>) -> Failure {
        Failure { status: 1, message: message.into() }
    }

    /// Bad arguments or configuration: 2.
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure { status: 2, message: message.into() }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A client error: 3 when the request may have been carried out (query before retrying), 2 for
/// the client's own configuration, else 1.
impl From<wechatpay::Error> for Failure {
    fn from(error: wechatpay::Error) -> Failure {
        let status = match &error {
            _ if error.outcome_unknown() => 3,
            wechatpay::Error::Config(_) => 2,
            _ => 1,
        };
        let message = if status == 3 {
            format!("{error} (the outcome is unknown: query before retrying)")
        } else {
            error.to_string()
        };
        Failure { status, message }
    }
}
