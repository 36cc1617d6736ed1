//! Checking a request's `Authorization: WECHATPAY2-SHA256-RSA2048 …` header (or
//! `WECHATPAY2-SM2-WITH-SM3 …` from a national-cryptography merchant).

use std::collections::HashMap;

use crate::crypto;
use crate::keys::Keys;

pub(crate) const SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";
/// How far a request's timestamp may be from the server's clock.
pub(crate) const MAX_SKEW_SECS: i64 = 300;

pub(crate) struct Credentials {
    /// The scheme: `SCHEME`, or `guomi::SCHEME` for an SM2 merchant.
    pub scheme: &'static str,
    pub mchid: String,
    pub nonce_str: String,
    pub signature: String,
    pub timestamp: String,
    pub serial_no: String,
}

/// Reads the header value; the pairs may come in any order, each once.
pub(crate) fn parse(value: &str) -> Result<Credentials, String> {
    let (scheme, rest) = [SCHEME, crate::guomi::SCHEME]
        .into_iter()
        .find_map(|scheme| Some((scheme, value.strip_prefix(scheme).filter(|rest| rest.starts_with(' '))?)))
        .ok_or_else(|| format!("Authorization must start with `{SCHEME} ` or `{} `", crate::guomi::SCHEME))?;
    let mut pairs = HashMap::new();
    let mut rest = rest.trim_start();
    while !rest.is_empty() {
        let (key, after) =
            rest.split_once('=').ok_or_else(|| format!("Authorization: expected key=\"value\" at `{rest}`"))?;
        let after =
            after.strip_prefix('"').ok_or_else(|| format!("Authorization: value of `{}` is not quoted", key.trim()))?;
        let (value, after) =
            after.split_once('"').ok_or_else(|| format!("Authorization: value of `{}` is not closed", key.trim()))?;
        if pairs.insert(key.trim().to_owned(), value.to_owned()).is_some() {
            return Err(format!("Authorization: `{}` appears twice", key.trim()));
        }
        rest = after.trim_start();
        if let Some(after_comma) = rest.strip_prefix(',') {
            rest = after_comma.trim_start();
        } else if !rest.is_empty() {
            return Err(format!("Authorization: expected `,` at `{rest}`"));
        }
    }
    let mut take = |key: &str| pairs.remove(key).ok_or_else(|| format!("Authorization: `{key}` is missing"));
    Ok(Credentials {
        scheme,
        mchid: take("mchid")?,
        nonce_str: take("nonce_str")?,
        signature: take("signature")?,
        timestamp: take("timestamp")?,
        serial_no: take("serial_no")?,
    })
}

/// Everything but the nonce replay check (which needs the server's memory): the merchant, its certificate
/// serial, the clock and the signature over `METHOD\nPATH_AND_QUERY\nTIMESTAMP\nNONCE\nBODY\n`.
pub(crate) fn check(
    keys: &Keys,
    credentials: &Credentials,
    method: &str,
    path_and_query: &str,
    signed_body: &[u8],
) -> Result<(), String> {
    if credentials.mchid != keys.mchid() {
        return Err(format!("mchid `{}` is not the sandbox merchant", credentials.mchid));
    }
    if !credentials.serial_no.eq_ignore_ascii_case(keys.merchant_serial()) {
        return Err(format!("serial_no `{}` is not the merchant certificate's serial", credentials.serial_no));
    }
    if credentials.nonce_str.is_empty() {
        return Err("nonce_str is empty".to_owned());
    }
    let timestamp: i64 =
        credentials.timestamp.parse().map_err(|_| format!("timestamp `{}` is not a number", credentials.timestamp))?;
    if (crypto::unix_now() - timestamp).abs() > MAX_SKEW_SECS {
        return Err(format!("timestamp {timestamp} is more than {MAX_SKEW_SECS} s from now"));
    }
    let mut message =
        format!("{method}\n{path_and_query}\n{}\n{}\n", credentials.timestamp, credentials.nonce_str).into_bytes();
    message.extend_from_slice(signed_body);
    message.push(b'\n');
    let verified = if credentials.scheme == SCHEME {
        crypto::verify_merchant(keys, &message, &credentials.signature)
    } else {
        crate::guomi::verify_merchant(keys, &message, &credentials.signature)
    };
    verified.map_err(str::to_owned)
}
