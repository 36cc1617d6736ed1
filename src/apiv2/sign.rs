//! APIv2 signatures: every member with a non-empty value except `sign`, sorted by name, joined
//! as `k1=v1&k2=v2…`, then `&key=APIV2_KEY`; MD5 of that, or HMAC-SHA256 keyed with the APIv2
//! key; upper-case hex.

use std::fmt;

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;

use crate::keys::KeyError;

/// The merchant's APIv2 key (32 characters, set in the merchant platform): it signs APIv2
/// requests and verifies answers and notifications, and its MD5 is the key of a refund
/// notification's `req_info`. Never shown by `Debug`.
#[derive(Clone)]
pub struct ApiV2Key(String);

impl ApiV2Key {
    /// The key as configured (32 ASCII characters).
    pub fn new(key: &str) -> Result<Self, KeyError> {
        if key.len() != 32 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(KeyError::ApiV2KeyLength(key.len()));
        }
        Ok(ApiV2Key(key.to_owned()))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiV2Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiV2Key(<redacted>)")
    }
}

/// An APIv2 signature algorithm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignType {
    /// `MD5`: the default, when a request names none.
    #[default]
    Md5,
    /// `HMAC-SHA256`.
    HmacSha256,
}

impl SignType {
    /// `MD5` or `HMAC-SHA256`; anything else is `None`.
    pub fn parse(value: &str) -> Option<SignType> {
        match value {
            "MD5" => Some(SignType::Md5),
            "HMAC-SHA256" => Some(SignType::HmacSha256),
            _ => None,
        }
    }

    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            SignType::Md5 => "MD5",
            SignType::HmacSha256 => "HMAC-SHA256",
        }
    }
}

/// The text signed: the members with a non-empty value except `sign`, sorted by name (ASCII),
/// `k=v` joined by `&`, then `&key=…`.
fn signed_text<'a>(members: impl IntoIterator<Item = (&'a str, &'a str)>, key: &ApiV2Key) -> String {
    let mut members: Vec<(&str, &str)> =
        members.into_iter().filter(|(name, value)| *name != "sign" && !value.is_empty()).collect();
    members.sort_by(|a, b| a.0.cmp(b.0));
    let mut text = String::new();
    for (name, value) in members {
        text.push_str(name);
        text.push('=');
        text.push_str(value);
        text.push('&');
    }
    text.push_str("key=");
    text.push_str(key.expose());
    text
}

/// The `sign` of `members`.
pub fn sign<'a>(members: impl IntoIterator<Item = (&'a str, &'a str)>, key: &ApiV2Key, sign_type: SignType) -> String {
    let text = signed_text(members, key);
    let digest = match sign_type {
        SignType::Md5 => Md5::digest(text.as_bytes()).to_vec(),
        SignType::HmacSha256 => {
            // HMAC takes a key of any length: `new_from_slice` cannot fail.
            let mut mac =
                <Hmac<Sha256> as Mac>::new_from_slice(key.expose().as_bytes()).expect("HMAC takes any key length");
            mac.update(text.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    upper_hex(&digest)
}

/// Whether `signature` is the `sign` of `members` (compared in constant time, case aside).
pub fn verify<'a>(
    members: impl IntoIterator<Item = (&'a str, &'a str)>,
    key: &ApiV2Key,
    sign_type: SignType,
    signature: &str,
) -> bool {
    let expected = sign(members, key, sign_type);
    let given = signature.trim().to_ascii_uppercase();
    expected.len() == given.len() && expected.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

fn upper_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Lower-case hex MD5: the AES-256-ECB key of `req_info` is the APIv2 key's.
pub(crate) fn md5_lower_hex(text: &str) -> String {
    Md5::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of WeChat Pay's APIv2 signature guide (its key and members), with the values
    /// it publishes for both algorithms.
    #[test]
    fn known_vectors_of_both_algorithms() {
        let key = ApiV2Key::new("192006250b4c09247ec02edce69f6a2d").unwrap();
        let members = [
            ("appid", "wxd930ea5d5a258f4f"),
            ("mch_id", "10000100"),
            ("device_info", "1000"),
            ("body", "test"),
            ("nonce_str", "ibuaiVcKdpRxkhJA"),
        ];
        assert_eq!(sign(members, &key, SignType::Md5), "9A0A8659F005D6984697E2CA0A9CF3B7");
        assert_eq!(
            sign(members, &key, SignType::HmacSha256),
            "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
        );
    }

    #[test]
    fn sign_and_empty_members_are_left_out_and_order_does_not_matter() {
        let key = ApiV2Key::new("192006250b4c09247ec02edce69f6a2d").unwrap();
        let a = sign([("b", "2"), ("a", "1"), ("empty", ""), ("sign", "X")], &key, SignType::Md5);
        let b = sign([("a", "1"), ("b", "2")], &key, SignType::Md5);
        assert_eq!(a, b);
        assert!(verify([("a", "1"), ("b", "2")], &key, SignType::Md5, &a.to_lowercase()));
        assert!(!verify([("a", "1"), ("b", "3")], &key, SignType::Md5, &a));
        assert!(
            !verify([("a", "1"), ("b", "2")], &key, SignType::HmacSha256, &a),
            "the algorithm is part of the check"
        );
        assert!(!verify([("a", "1")], &key, SignType::Md5, ""));
    }

    #[test]
    fn the_key_never_shows() {
        let key = ApiV2Key::new("192006250b4c09247ec02edce69f6a2d").unwrap();
        assert_eq!(format!("{key:?}"), "ApiV2Key(<redacted>)");
        assert!(ApiV2Key::new("short").is_err());
    }
}
