//! The `Authorization` header of a request: `WECHATPAY2-SHA256-RSA2048` (or, for a
//! national-cryptography merchant, `WECHATPAY2-SM2-WITH-SM3`) over
//! `METHOD\nPATH_AND_QUERY\nTIMESTAMP\nNONCE\nBODY\n`.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::error::Error;
use crate::signer::{Decrypter, Signer};

/// The authorization scheme (and signature type) of APIv3 with RSA keys.
pub const SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// The signed message: `METHOD\nPATH_AND_QUERY\nTIMESTAMP\nNONCE\nBODY\n`, each line ending with
/// `\n`, `body` the exact bytes sent (the `meta` text for an upload, empty without a body).
pub fn message(method: &str, path_and_query: &str, timestamp: i64, nonce: &str, body: &[u8]) -> Vec<u8> {
    let timestamp = timestamp.to_string();
    let mut message =
        Vec::with_capacity(method.len() + path_and_query.len() + timestamp.len() + nonce.len() + body.len() + 5);
    for part in [method.as_bytes(), path_and_query.as_bytes(), timestamp.as_bytes(), nonce.as_bytes(), body] {
        message.extend_from_slice(part);
        message.push(b'\n');
    }
    message
}

/// What identifies the merchant in every request.
#[derive(Clone)]
pub(crate) struct Credentials {
    pub mchid: String,
    pub serial: String,
    pub signer: Arc<dyn Signer>,
    pub decrypter: Arc<dyn Decrypter>,
}

impl Credentials {
    /// The `Authorization` header value for one request, signed with `timestamp` and `nonce`:
    /// `SCHEME mchid="…",nonce_str="…",signature="…",timestamp="…",serial_no="…"`, the scheme the
    /// signer's ([`SignatureScheme::as_str`](crate::signer::SignatureScheme::as_str)).
    pub async fn authorization(
        &self,
        method: &str,
        path_and_query: &str,
        timestamp: i64,
        nonce: &str,
        body: &[u8],
    ) -> Result<String, Error> {
        let message = message(method, path_and_query, timestamp, nonce, body);
        let signature = BASE64.encode(self.signer.sign(&message).await.map_err(Error::from_signer)?);
        let Credentials { mchid, serial, .. } = self;
        let scheme = self.signer.scheme();
        Ok(format!(
            "{scheme} mchid=\"{mchid}\",nonce_str=\"{nonce}\",signature=\"{signature}\",timestamp=\"{timestamp}\",serial_no=\"{serial}\""
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_has_five_lines_each_ending_in_newline() {
        let message =
            message("GET", "/v3/certificates?algorithm_type=RSA", 1554208460, "593BEC0C930BF1AFEB40B4A08C8FB242", b"");
        assert_eq!(
            String::from_utf8(message).unwrap(),
            "GET\n/v3/certificates?algorithm_type=RSA\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n"
        );
    }
}
