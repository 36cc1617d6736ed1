//! Entry points for the fuzz targets (`fuzz/`, `cargo +nightly fuzz run <target>`) and for the
//! replay of their corpus on stable (this module's tests): each takes arbitrary bytes, runs them
//! through the same code as the client, and panics only when an invariant breaks. Compiled only
//! under `cfg(fuzzing)` (set by cargo-fuzz) and for the unit tests: it holds the **test** keys of
//! `tests/fixtures/keys/`, and no feature can put them in a build that handles real payments.
//!
//! Inputs, so that a corpus file can be written by hand:
//! - [`notification`]: a mode byte, header lines `Name: value\n`, an empty line, the body. Mode
//!   `S`: the harness signs the body itself (headers from the input are ignored), to get past
//!   verification into the envelope and the decryption; mode `P`: the body is
//!   `EVENT_TYPE\nPLAINTEXT`, which the harness seals in a resource and signs, to reach the typed
//!   payloads; any other mode: headers and body as given, which must never be accepted.
//! - [`response`]: a mode byte (`S` or other, as above), a status byte (an index into
//!   [`STATUSES`]), then header lines and body as above; decoded as a transaction query answer.
//! - [`bill`]: a chunk-size byte, then a bill file.
//! - [`encrypted_bill`]: a cipher byte (even: AES-256-GCM, odd: SM4-GCM), a chunk-size byte, a
//!   tamper byte, then a bill. The harness seals the bill itself (gzip'ed first when the cipher
//!   byte's bit 1 is set), which must come back as itself whatever the chunks, and then flips the
//!   byte the tamper byte points at (or cuts the file there), which must be refused; the input
//!   taken as ciphertext of an unknown key must be refused too.
//! - [`guomi`] (feature `guomi`): a mode byte, then bytes taken as an SM2 signature (DER) of a
//!   fixed message, an SM2 ciphertext for the merchant key, and an `AEAD_SM4_GCM` resource; the
//!   harness's own signature, ciphertext and seal of the same bytes must open.
//! - [`v2_answer`] (feature `v2-pay`): a mode byte, then an APIv2 answer's XML body, judged and
//!   decoded as the answer of `pay/orderquery` (which documents a `sign`). Mode `S` (MD5) or `H`
//!   (HMAC-SHA256): the harness signs the body's text members itself with the test APIv2 key and
//!   puts the `sign` first in the root element, to get past verification into `return_code`,
//!   `result_code` and the typed decode; mode `U`: as given, for a page that documents no `sign`
//!   (accepted only without one); any other mode: as given, which must never be accepted, nor
//!   its `result_code` taken as verified.
//! - [`v2_notification`]: a mode byte, then a body. Mode `S`: an APIv2 payment notification
//!   (`transaction-success`) which the harness signs as above, with the algorithm its
//!   `algorithm` or `sign_type` member names (MD5 when none); mode `R`: the plaintext of a refund
//!   notification's `req_info` (`refund-processed`), which the harness encrypts and wraps in an
//!   envelope; any other mode: a body as given for the page [`V2_PAGES`] holds at the mode byte's
//!   index, which must not be accepted unless it is genuine (a `sign` that verifies, or a
//!   `req_info` of a refund notification that opens).

use std::sync::OnceLock;
use std::time::SystemTime;

use aws_lc_rs::digest;
use bytes::Bytes;
use futures_util::FutureExt as _;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use wechatpay_generated::runtime::xml::{self, text_members};
use wechatpay_generated::runtime::{Decode, ResponseKind};

use crate::apiv2::notify::{seal_req_info, V2Notification, V2Notifications};
use crate::apiv2::{ApiV2Key, SignType};
use crate::bill::{BillParser, BillRow};
use crate::download::{BillBytes, BillFile, Digest};
use crate::error::Error;
use crate::exchange::{conclude, must_verify, Raw};
use crate::keys::{ApiV3Key, MerchantKey};
use crate::notify::{Notifications, NotifyError};
use crate::wechatpay_keys::{unix, VerifyError, WechatpayKeys};

const SIGNER_PEM: &str = include_str!("../tests/fixtures/keys/wechatpay_pub_key_private.pem");
const KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000";
const APIV3_KEY: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
/// The APIv2 key of WeChat Pay's signature guide.
const APIV2_KEY: &str = "192006250b4c09247ec02edce69f6a2d";

/// The statuses [`response`] picks from.
pub const STATUSES: [u16; 8] = [200, 204, 400, 401, 404, 429, 500, 302];

/// The pages [`v2_notification`] opens a body given as is for (by the mode byte).
pub const V2_PAGES: [&str; 4] = ["transaction-success", "refund-processed", "TRANSACTION.SUCCESS", "no-such-page"];

struct Fixture {
    signer: MerchantKey,
    keys: WechatpayKeys,
    apiv3_key: ApiV3Key,
    apiv2_key: ApiV2Key,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let signer = MerchantKey::from_pem(SIGNER_PEM).expect("the test signing key");
        let keys = WechatpayKeys::with_public_key(KEY_ID, signer.public_key());
        Fixture {
            signer,
            keys,
            apiv3_key: ApiV3Key::new(APIV3_KEY).expect("the test APIv3 key"),
            apiv2_key: ApiV2Key::new(APIV2_KEY).expect("the test APIv2 key"),
        }
    })
}

/// Header lines up to an empty line, and the rest.
fn split_message(data: &[u8]) -> (HeaderMap, &[u8]) {
    let mut headers = HeaderMap::new();
    let mut rest = data;
    while let Some(end) = rest.iter().position(|byte| *byte == b'\n') {
        let line = &rest[..end];
        rest = &rest[end + 1..];
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|byte| *byte == b':') else { continue };
        let value = line[colon + 1..].strip_prefix(b" ").unwrap_or(&line[colon + 1..]);
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(&line[..colon]), HeaderValue::from_bytes(value)) {
            headers.append(name, value);
        }
    }
    (headers, rest)
}

/// Headers signing `body` as WeChat Pay does, now.
fn signed_headers(body: &[u8]) -> HeaderMap {
    let timestamp = unix(SystemTime::now()).to_string();
    let nonce = crate::keys::nonce();
    let message = [timestamp.as_bytes(), b"\n", nonce.as_bytes(), b"\n", body, b"\n"].concat();
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("wechatpay-timestamp", timestamp),
        ("wechatpay-nonce", nonce),
        ("wechatpay-signature", fixture().signer.sign(&message)),
        ("wechatpay-serial", KEY_ID.to_owned()),
        ("wechatpay-signature-type", "WECHATPAY2-SHA256-RSA2048".to_owned()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    headers
}

/// The notification opener, headers and body: see the [module documentation](self).
pub fn notification(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let (headers, body) = split_message(rest);
    let fixture = fixture();
    let notifications = Notifications::new(fixture.keys.clone(), fixture.apiv3_key.clone());
    let open = |headers: &HeaderMap, body: &[u8]| {
        notifications.open(headers, body).now_or_never().expect("opening needs no I/O without a key refresher")
    };
    match mode {
        b'S' => {
            let result = open(&signed_headers(body), body);
            assert!(!matches!(result, Err(NotifyError::Verify(_))), "a signed body failed verification: {result:?}");
            shown(&result, data);
        }
        b'P' => {
            let text = String::from_utf8_lossy(body);
            let (event_type, plaintext) = text.split_once('\n').unwrap_or((&text, ""));
            let Ok(ciphertext) = fixture.apiv3_key.encrypt("0123456789ab", "transaction", plaintext.as_bytes()) else {
                return;
            };
            let envelope = serde_json::json!({
                "id": "EV-FUZZ", "create_time": "2026-01-01T00:00:00+08:00", "event_type": event_type,
                "resource_type": "encrypt-resource", "summary": "",
                "resource": { "original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                    "ciphertext": ciphertext, "associated_data": "transaction", "nonce": "0123456789ab" }
            })
            .to_string();
            let result = open(&signed_headers(envelope.as_bytes()), envelope.as_bytes());
            assert!(
                matches!(result, Ok(_) | Err(NotifyError::Payload { .. })),
                "a sealed, signed payload failed before its parsing: {result:?}"
            );
            shown(&result, data);
        }
        _ => {
            let result = open(&headers, body);
            assert!(result.is_err(), "a notification the harness did not sign was accepted: {result:?}");
            shown(&result, data);
        }
    }
}

/// The response verifier and decoder: see the [module documentation](self).
pub fn response(data: &[u8]) {
    let [mode, status, rest @ ..] = data else { return };
    let status = StatusCode::from_u16(STATUSES[usize::from(*status) % STATUSES.len()]).expect("valid statuses");
    let (mut headers, body) = split_message(rest);
    if *mode == b'S' {
        headers = signed_headers(body);
    }
    let raw =
        Raw { status, request_id: crate::exchange::request_id(&headers), headers, body: Bytes::copy_from_slice(body) };
    let verification = must_verify(&raw, ResponseKind::Json).then(|| {
        fixture()
            .keys
            .verify(&raw.headers, &raw.body, SystemTime::now())
            .map(drop)
            .map_err(|source| Error::Verify { source, request_id: raw.request_id.clone() })
    });
    let result = conclude(raw, verification).and_then(|raw| {
        type Transaction = wechatpay_generated::v3::pay::transactions::id::by_transaction_id::get::Response;
        Transaction::decode(&raw.body).map_err(|source| crate::exchange::decode_error(&raw, source))
    });
    match (&result, *mode == b'S') {
        (Ok(_), false) => panic!("an answer the harness did not sign was accepted"),
        (Err(Error::Verify { .. }), true) => panic!("a signed answer failed verification: {result:?}"),
        (Err(Error::Api { code, body, .. }), false) => {
            assert!(code.is_empty() && body.is_some(), "an unsigned error was taken as verified: {result:?}")
        }
        (Err(Error::Decode { body, .. }), _) => assert!(body.as_str().len() <= 16 * 1024),
        _ => {}
    }
    if let Err(error) = &result {
        shown_error(error, data);
    }
}

/// The APIv2 answer judge and decoder: see the [module documentation](self).
#[cfg(feature = "v2-pay")]
pub fn v2_answer(data: &[u8]) {
    let Some((&mode, body)) = data.split_first() else { return };
    let key = &fixture().apiv2_key;
    let (sign_type, documents_sign) = match mode {
        b'H' => (SignType::HmacSha256, true),
        b'U' => (SignType::Md5, false),
        _ => (SignType::Md5, true),
    };
    let signed = matches!(mode, b'S' | b'H').then(|| v2_signed(body, |_| sign_type)).flatten();
    let body = signed.as_deref().unwrap_or(body);
    let raw =
        Raw { status: StatusCode::OK, headers: HeaderMap::new(), body: Bytes::copy_from_slice(body), request_id: None };
    let result = crate::apiv2::judge(&raw, "/pay/orderquery", ResponseKind::Json, documents_sign, key, sign_type)
        .and_then(|()| {
            type OrderQuery = wechatpay_generated::v2::pay::orderquery::post::Response;
            OrderQuery::decode(&raw.body).map_err(|source| crate::exchange::decode_error(&raw, source))
        });
    // What may pass as verified: the harness's own signature; on a page that documents none, a
    // body that carries none.
    let carries_sign =
        xml::parse(body).is_ok_and(|members| text_members(&members).iter().any(|(name, _)| *name == "sign"));
    let may_pass = signed.is_some() || (!documents_sign && !carries_sign);
    match &result {
        Err(Error::Verify { source: VerifyError::V2BadSignature(_) | VerifyError::V2Unsigned, .. }) => {
            assert!(signed.is_none(), "an answer the harness signed failed verification: {result:?}")
        }
        Ok(_) => assert!(may_pass, "an answer the harness did not sign was accepted"),
        Err(Error::V2Result { .. }) => {
            assert!(may_pass, "an unsigned business error was taken as verified: {result:?}")
        }
        Err(Error::Decode { body, .. }) => assert!(body.as_str().len() <= 16 * 1024),
        _ => {}
    }
    if let Err(error) = &result {
        shown_error(error, data);
    }
}

/// The APIv2 notification opener: see the [module documentation](self).
pub fn v2_notification(data: &[u8]) {
    let Some((&mode, body)) = data.split_first() else { return };
    let fixture = fixture();
    let notifications = V2Notifications::new(fixture.apiv2_key.clone()).apiv3_key(fixture.apiv3_key.clone());
    let result = match mode {
        b'S' => {
            // An algorithm that is none of APIv2's is signed in MD5 (and refused as unsupported).
            let signed = v2_signed(body, |texts| v2_algorithm(texts).and_then(SignType::parse).unwrap_or_default());
            let result = notifications.open("transaction-success", signed.as_deref().unwrap_or(body));
            if signed.is_some() {
                assert!(
                    !matches!(
                        result,
                        Err(NotifyError::Verify(VerifyError::V2BadSignature(_) | VerifyError::V2Unsigned))
                    ),
                    "a notification the harness signed failed verification: {result:?}"
                );
            }
            result
        }
        b'R' => {
            let req_info = seal_req_info(&fixture.apiv2_key, body);
            let envelope = xml::write([
                ("return_code", "SUCCESS"),
                ("appid", "wx2421b1c4370ec43b"),
                ("mch_id", "10000100"),
                ("nonce_str", "TeqClE3i0mvn3DrK"),
                ("req_info", &req_info),
            ]);
            let result = notifications.open("refund-processed", envelope.as_bytes());
            assert!(
                matches!(
                    result,
                    Ok(_) | Err(NotifyError::Payload { .. } | NotifyError::Verify(VerifyError::V2Malformed(_)))
                ),
                "a sealed req_info failed before its parsing: {result:?}"
            );
            result
        }
        _ => notifications.open(V2_PAGES[usize::from(mode) % V2_PAGES.len()], body),
    };
    if let Ok(notification) = &result {
        assert!(v2_genuine(notification), "a notification neither signed nor sealed with the key was accepted");
    }
    shown(&result, data);
}

/// `body` with the `sign` of its text members (in the algorithm `sign_type` picks from them) put
/// first in its root element; `None` when the body is not APIv2 XML or the `sign` inserted is not
/// the first a reader finds.
fn v2_signed(body: &[u8], sign_type: impl Fn(&[(&str, &str)]) -> SignType) -> Option<Vec<u8>> {
    let members = xml::parse(body).ok()?;
    let texts = text_members(&members);
    let signature = crate::apiv2::sign(texts.iter().copied(), &fixture().apiv2_key, sign_type(&texts));
    // The end of the root element's start tag: past the declaration, comments and blanks.
    let mut at = 0;
    let root = loop {
        let open = at + body[at..].iter().position(|byte| *byte == b'<')?;
        let close = open + body[open..].iter().position(|byte| *byte == b'>')?;
        match body.get(open + 1) {
            Some(b'?' | b'!') => at = close + 1,
            _ if body[close - 1] == b'/' => return None,
            _ => break close + 1,
        }
    };
    let signed = [&body[..root], b"<sign>", signature.as_bytes(), b"</sign>", &body[root..]].concat();
    let reread = xml::parse(&signed).ok()?;
    let reread = text_members(&reread);
    (reread.first() == Some(&("sign", signature.as_str())) && reread[1..] == texts[..] && xml::looks_like_xml(&signed))
        .then_some(signed)
}

/// The algorithm an APIv2 notification names: `algorithm`, else `sign_type` (none: MD5).
fn v2_algorithm<'a>(texts: &[(&str, &'a str)]) -> Option<&'a str> {
    let member = |name: &str| texts.iter().find(|(key, _)| *key == name).map(|(_, value)| *value);
    member("algorithm").or_else(|| member("sign_type")).filter(|value| !value.is_empty())
}

/// Whether an opened APIv2 notification is one the key vouches for: the `req_info` of a refund
/// notification (which opened), or a `sign` of its members that verifies (any other page, even
/// with a `req_info`).
fn v2_genuine(notification: &V2Notification) -> bool {
    let texts: Vec<(&str, &str)> = notification.envelope.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if notification.page == "refund-processed" && texts.iter().any(|(name, _)| *name == "req_info") {
        return true;
    }
    let signature = texts.iter().find(|(name, _)| *name == "sign").map(|(_, value)| *value);
    let sign_type = v2_algorithm(&texts).map_or(Some(SignType::Md5), SignType::parse);
    match (signature, sign_type) {
        (Some(signature), Some(sign_type)) => {
            crate::apiv2::verify(texts.iter().copied(), &fixture().apiv2_key, sign_type, signature)
        }
        _ => false,
    }
}

/// The bill parser and digest check: the same rows and digest whatever the chunks.
pub fn bill(data: &[u8]) {
    let Some((&size, file)) = data.split_first() else { return };
    let read = |chunk_size: usize| {
        let mut parser = BillParser::new();
        let mut rows: Vec<BillRow> = Vec::new();
        let result = file.chunks(chunk_size.max(1)).try_for_each(|chunk| parser.push(chunk, &mut rows));
        let result = result.and_then(|()| parser.finish(&mut rows));
        (result, rows, parser.columns().map(<[String]>::to_vec))
    };
    let whole = read(file.len());
    let chunked = read(usize::from(size) % 64 + 1);
    assert_eq!(whole, chunked, "chunks of {} changed the reading", usize::from(size) % 64 + 1);

    let hex: String = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, file)
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect();
    let check = |hash_value: &str| {
        let mut digest = Digest::new(&BillFile::new("https://api.mch.weixin.qq.com/", "SHA1", hash_value))?;
        file.chunks(usize::from(size) + 1).for_each(|chunk| digest.update(chunk));
        digest.finish()
    };
    assert!(check(&hex).is_ok(), "the digest of the chunks differs from the whole's");
    let other = if hex.starts_with('0') { hex.replacen('0', "1", 1) } else { format!("0{}", &hex[1..]) };
    assert!(matches!(check(&other), Err(Error::Digest { .. })), "a wrong digest passed");

    // As a download: the input itself (gzip or not, as its first bytes say), and the input
    // gzip-compressed by the harness, which must come back as the input, checked.
    let download = |file: &[u8], chunk_size: usize| -> Result<Vec<u8>, Error> {
        let digest = Digest::new(&BillFile::new("https://api.mch.weixin.qq.com/", "SHA1", &hex))?;
        let (pieces, outcome) = BillBytes::new(digest).read(file, chunk_size);
        outcome.map(|()| pieces.concat())
    };
    let (whole, chunked) = (download(file, file.len()), download(file, usize::from(size) % 64 + 1));
    assert_eq!(whole.as_ref().ok(), chunked.as_ref().ok(), "chunks changed the download");
    if !file.starts_with(&[0x1f, 0x8b]) {
        assert_eq!(whole.ok().as_deref(), Some(file), "a plain file is passed through, checked");
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut encoder, file).expect("in memory");
    let compressed = encoder.finish().expect("in memory");
    let unpacked = download(&compressed, usize::from(size) % 64 + 1);
    assert_eq!(unpacked.ok().as_deref(), Some(file), "a gzip file comes back as the bill inside");
}

/// The encrypted-bill opener: see the [module documentation](self).
pub fn encrypted_bill(data: &[u8]) {
    use crate::download::{decryption, BillEncryption};
    use crate::gcm_stream::{seal, Cipher};
    let [mode, size, tamper, bill @ ..] = data else { return };
    let (cipher, algorithm, key) = if mode % 2 == 0 {
        (Cipher::Aes256, "AEAD_AES_256_GCM", &b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb"[..])
    } else {
        (Cipher::Sm4, "SM4_GCM", &b"a7cde1ZJB1kG2e7V"[..])
    };
    let nonce = "43HmZ1bEQ7nT";
    let encryption = BillEncryption::new(algorithm, "", nonce);
    let chunk = usize::from(*size) % 64 + 1;
    let digest_of = |bill: &[u8]| crate::digest::DigestAlgorithm::Sm3.hex(bill);
    let open = |file: &[u8], chunk: usize| -> Result<Vec<u8>, Error> {
        let digest = Digest::new(&BillFile::new("https://api.mch.weixin.qq.com/", "SM3", digest_of(bill)))?;
        let stream = decryption(&encryption, key).expect("a valid key and nonce");
        let (pieces, outcome) = BillBytes::decrypting(digest, stream).read(file, chunk);
        outcome.map(|()| pieces.concat())
    };
    let plain = if mode & 2 != 0 {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut encoder, bill).expect("in memory");
        encoder.finish().expect("in memory")
    } else {
        bill.to_vec()
    };
    let sealed = seal(cipher, key, nonce.as_bytes(), b"", &plain).expect("a valid key and nonce");
    let gzip_looking = mode & 2 == 0 && bill.starts_with(&[0x1f, 0x8b]);
    if !gzip_looking {
        assert_eq!(open(&sealed, chunk).ok().as_deref(), Some(bill), "a sealed bill comes back as itself");
        assert_eq!(open(&sealed, sealed.len()).ok().as_deref(), Some(bill), "whatever the chunks");
    }
    let at = usize::from(*tamper) % sealed.len();
    let mut flipped = sealed.clone();
    flipped[at] ^= 0x01;
    assert!(open(&flipped, chunk).is_err(), "a flipped byte at {at} was accepted");
    assert!(open(&sealed[..at], chunk).is_err(), "a file cut at {at} was accepted");
    // The input itself taken as a sealed file: refused, unless it is one (then sealing what it
    // opened to gives it back).
    match open(bill, chunk) {
        Ok(opened) => {
            assert_eq!(seal(cipher, key, nonce.as_bytes(), b"", &opened).ok().as_deref(), Some(bill), "a forgery")
        }
        Err(error) => {
            let _ = (error.to_string(), format!("{error:?}"));
        }
    }
}

/// SM2 signatures and ciphertexts and SM4-GCM resources from arbitrary bytes: see the
/// [module documentation](self).
#[cfg(feature = "guomi")]
pub fn guomi(data: &[u8]) {
    use base64::Engine as _;
    const MESSAGE: &[u8] = b"1554208460\nnonce\n{}\n";
    let base64 = base64::engine::general_purpose::STANDARD;
    let Some((&mode, rest)) = data.split_first() else { return };
    let key = guomi_key();
    let public = key.public_key();
    // Arbitrary bytes as a signature of a fixed message: refused (a forgery would be a find).
    assert!(!public.verify(MESSAGE, &base64.encode(rest)), "arbitrary bytes verified as an SM2 signature");
    let signature = key.sign(rest);
    assert!(public.verify(rest, &signature), "our own SM2 signature of the input does not verify");
    // Arbitrary bytes as an SM2 ciphertext: an error, never a panic; ours opens.
    let _ = key.decrypt(&base64.encode(rest));
    if let Ok(text) = std::str::from_utf8(rest) {
        if let Ok(sealed) = public.encrypt(text) {
            assert_eq!(key.decrypt(&sealed).as_deref(), Ok(text), "our SM2 ciphertext does not open");
        }
    }
    // An AEAD_SM4_GCM resource: arbitrary ciphertext refused, ours opens.
    let apiv3_key = &fixture().apiv3_key;
    let nonce = if mode % 2 == 0 { "0123456789ab" } else { "short" };
    let opened = apiv3_key.open(crate::keys::AEAD_SM4_GCM, nonce, "transaction", &base64.encode(rest));
    assert!(opened.is_err() || rest.len() >= 16, "a resource shorter than its tag opened");
    let sealed = apiv3_key.seal(crate::keys::AEAD_SM4_GCM, "0123456789ab", "transaction", rest).expect("seals");
    assert_eq!(apiv3_key.open(crate::keys::AEAD_SM4_GCM, "0123456789ab", "transaction", &sealed).as_deref(), Ok(rest));
}

#[cfg(feature = "guomi")]
fn guomi_key() -> &'static MerchantKey {
    static KEY: OnceLock<MerchantKey> = OnceLock::new();
    KEY.get_or_init(|| {
        MerchantKey::from_pem(include_str!("../tests/fixtures/keys/sm2/merchant_key.pem")).expect("the SM2 test key")
    })
}

/// Formats a result's error both ways: neither may panic, nor show the APIv2 key.
fn shown<T>(result: &Result<T, NotifyError>, input: &[u8]) {
    if let Err(error) = result {
        let _ = error.status();
        key_hidden([&error.to_string(), &format!("{error:?}")], input);
    }
}

/// Formats an error both ways and asks what it means: nothing may panic, nor show the APIv2 key.
fn shown_error(error: &Error, input: &[u8]) {
    let _ = (error.outcome_unknown(), error.code(), error.message());
    key_hidden([&error.to_string(), &format!("{error:?}")], input);
}

/// The APIv2 key shows in no text, unless the input carried it (an error may quote the input).
fn key_hidden(texts: [&str; 2], input: &[u8]) {
    let carried = input.windows(APIV2_KEY.len()).any(|window| window == APIV2_KEY.as_bytes());
    assert!(carried || !texts.iter().any(|text| text.contains(APIV2_KEY)), "the APIv2 key is shown: {texts:?}");
}

/// The fuzz targets' corpus (`fuzz/corpus/<target>/`), replayed on stable through the same
/// functions the targets call (`fuzz/fuzz_targets/`), so that CI checks every input the fuzzer
/// kept, crashes found and fixed included, without nightly or libFuzzer.
#[cfg(test)]
mod corpus {
    use std::path::Path;

    /// Every file of `fuzz/corpus/<target>/`, fed to `run`; the count, so that an empty corpus fails.
    fn replay(target: &str, run: impl Fn(&[u8])) -> usize {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .collect();
        files.sort();
        for file in &files {
            let data = std::fs::read(file).unwrap();
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&data)));
            assert!(
                outcome.is_ok(),
                "{target}: {} fails (reproduce: cargo +nightly fuzz run {target} {})",
                file.display(),
                file.display()
            );
        }
        assert!(!files.is_empty(), "{target}: no corpus in {}", dir.display());
        files.len()
    }

    #[test]
    fn the_page_reader_survives_its_corpus() {
        replay("page", |data| {
            if let Ok(text) = std::str::from_utf8(data) {
                let _ = xtask::load::read_page("openapi/v3/fuzz.md", text);
            }
        });
    }

    #[test]
    fn the_notification_opener_survives_its_corpus() {
        replay("notification", super::notification);
    }

    #[test]
    fn the_response_verifier_survives_its_corpus() {
        replay("response", super::response);
    }

    #[test]
    fn the_bill_parser_survives_its_corpus() {
        replay("bill", super::bill);
    }

    #[test]
    fn the_encrypted_bill_opener_survives_its_corpus() {
        replay("encrypted_bill", super::encrypted_bill);
    }

    #[cfg(feature = "v2-pay")]
    #[test]
    fn the_v2_answer_judge_survives_its_corpus() {
        replay("v2_answer", super::v2_answer);
    }

    #[test]
    fn the_v2_notification_opener_survives_its_corpus() {
        replay("v2_notification", super::v2_notification);
    }

    #[cfg(feature = "guomi")]
    #[test]
    fn the_guomi_openers_survive_their_corpus() {
        replay("guomi", super::guomi);
    }
}
