//! An APIv2 request for the wire: its members written (sensitive ones sealed with the RSA key of
//! `risk/getpublickey`), `nonce_str` and `sign` added; and signed URLs.

use reqwest::Url;
use wechatpay_generated::runtime::{Body, ErasedOperation, Seal, SealError, Writing};

use super::sign::{sign, SignType};
use super::V2Config;
use crate::error::Error;
use crate::exchange::{encode_query, Prepared, Target};
use crate::keys::{nonce, PublicKey};

/// The algorithm a request's `sign_type` names (`MD5` when it names none).
pub(crate) fn sign_type_of(operation: &(dyn ErasedOperation + '_)) -> Result<SignType, Error> {
    match operation.sign_type() {
        None | Some("") => Ok(SignType::Md5),
        Some(value) => SignType::parse(value)
            .ok_or_else(|| Error::InvalidRequest(format!("sign_type {value:?} is not MD5 or HMAC-SHA256"))),
    }
}

/// `operation` written and signed for the wire.
pub(crate) fn prepare(operation: &(dyn ErasedOperation + '_), config: &V2Config) -> Result<Prepared, Error> {
    let sign_type = sign_type_of(operation)?;
    let sealer = config.rsa.as_ref().map(Sealer);
    let mut out = match &sealer {
        Some(sealer) => Writing::sealing(sealer),
        None => Writing::unsealed(),
    };
    let mut prepared = Prepared::from_erased(operation, &mut out)?;
    match out.finish() {
        Ok(_) => {}
        Err(SealError::NoKey) => return Err(Error::NoEncryptionKey { serial: None }),
        Err(SealError::Failed(_)) => return Err(Error::Crypto(crate::keys::CryptoError::Encrypt)),
    }
    let key = &config.key;
    match &mut prepared.body {
        Body::Xml(members) => {
            if !operation.nonceless() {
                members.push(("nonce_str".to_owned(), nonce()));
            }
            let signature = sign(members.iter().map(|(k, v)| (k.as_str(), v.as_str())), key, sign_type);
            members.push(("sign".to_owned(), signature));
        }
        Body::Form(form) => {
            let signature = sign(form.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())), key, sign_type);
            form.fields.push(("sign".to_owned(), signature));
        }
        _ if operation.signed_request() => {
            // A GET whose query is signed (`appauth/getaccesstoken`, `papay/h5entrustweb`).
            let mut query = operation.query(&mut Writing::unsealed());
            let signature = sign(query.iter().map(|(k, v)| (*k, v.as_str())), key, sign_type);
            query.push(("sign", signature));
            if let Target::Relative { path_and_query, .. } = &mut prepared.target {
                let path = path_and_query.split('?').next().unwrap_or_default().to_owned();
                *path_and_query = format!("{path}?{}", encode_query(&query));
            }
        }
        _ => {}
    }
    prepared.apiv2 = true;
    prepared.client_certificate = operation.client_certificate();
    Ok(prepared)
}

/// The URL a signed-URL page describes: the query (signed when the page has a `sign` member)
/// under the operation's host (its `base_uri`, else `base`), then the fragment.
pub(crate) fn signed_url(operation: &(dyn ErasedOperation + '_), base: &Url, config: &V2Config) -> Result<Url, Error> {
    let sign_type = sign_type_of(operation)?;
    let mut out = Writing::unsealed();
    let path = operation.path(&mut out);
    let mut query = operation.query(&mut out);
    if out.finish().is_err() {
        return Err(Error::InvalidRequest("a signed URL cannot carry a sensitive value".into()));
    }
    if operation.signed_request() {
        let signature = sign(query.iter().map(|(k, v)| (*k, v.as_str())), &config.key, sign_type);
        query.push(("sign", signature));
    }
    let base = match operation.base_uri() {
        Some(base) => crate::exchange::parse_base_url(base)?,
        None => base.clone(),
    };
    let mut text = format!("{}{}", base.as_str().trim_end_matches('/'), path);
    if !query.is_empty() {
        text.push('?');
        text.push_str(&encode_query(&query));
    }
    if let Some(fragment) = operation.fragment() {
        text.push_str(fragment);
    }
    Url::parse(&text)
        .map_err(|error| Error::InvalidRequest(format!("the signed URL of {}: {error}", operation.template())))
}

/// Seals sensitive APIv2 members (RSA-OAEP with SHA-1, Base64) with the key of
/// `risk/getpublickey`.
struct Sealer<'a>(&'a PublicKey);

impl Seal for Sealer<'_> {
    fn seal(&self, plaintext: &str) -> Result<String, SealError> {
        self.0.encrypt(plaintext).map_err(|error| SealError::Failed(error.to_string()))
    }
}
