//! The verification doctor: why a captured notification or answer does not verify, in words.
//!
//! "验签失败" (the signature does not verify) is the largest class of support questions about every
//! WeChat Pay SDK, and the error alone rarely says what to fix. [`diagnose_notification`] and
//! [`diagnose_answer`] go through the same steps as the client and, at the first that fails, look
//! further: which keys are held when the serial is unknown (and whether the merchant is in the
//! middle of a switch between platform certificates and the public key), by how much the clock
//! is off, whether the body verifies once a trailing newline is removed or once its JSON is
//! written back compactly (a proxy or a framework re-encoded it), whether it is a `SIGNTEST`
//! probe, and whether decryption fails after a good signature (the APIv3 key is wrong).
//!
//! Nothing secret is in a [`Diagnosis`]: serials, key ids, times and the names of what failed.

use std::fmt;
use std::time::SystemTime;

use http::HeaderMap;
use serde_json::Value;

use crate::keys::ApiV3Key;
use crate::wechatpay_keys::{unix, SIGNATURE_TYPE};
use crate::WechatpayKeys;

/// How far a timestamp may be from now, as the client allows.
const WINDOW_SECS: i64 = 300;

/// Which kind of WeChat Pay key a serial names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// The WeChat Pay public key (`PUB_KEY_ID_…`).
    PublicKey,
    /// A platform certificate (a hexadecimal serial).
    Certificate,
}

impl KeyKind {
    fn of(serial: &str) -> KeyKind {
        if serial.starts_with("PUB_KEY_ID_") {
            KeyKind::PublicKey
        } else {
            KeyKind::Certificate
        }
    }
}

/// What changed a body on its way, found because the edited body verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alteration {
    /// A newline (or CR LF) was added at the end.
    TrailingNewline,
    /// The JSON was written again (pretty-printed, re-ordered or with escaped characters): the
    /// compact form verifies.
    ReencodedJson,
}

/// The cause the doctor found, or that everything checks out.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finding {
    /// The signature verifies (and a notification's resource decrypts, when an APIv3 key was given).
    Verified { kind: KeyKind, decrypted: bool },
    /// These `Wechatpay-*` headers are missing.
    MissingHeaders(Vec<&'static str>),
    /// A signature probe (`WECHATPAY/SIGNTEST/…`): WeChat Pay checks that the merchant rejects it.
    SignTest,
    /// `Wechatpay-Signature-Type` is not `WECHATPAY2-SHA256-RSA2048`.
    SignatureType(String),
    /// `Wechatpay-Serial` names no key held. `missing_kind` is set when it names a kind of key
    /// the merchant does not hold at all (a switch between certificates and the public key);
    /// `expired` when it is a certificate held but no longer valid.
    UnknownSerial { missing_kind: Option<KeyKind>, expired: bool },
    /// The signature verifies with the named key only after this edit of the body.
    BodyAltered(Alteration),
    /// The signature does not verify with the named key (nor after the usual alterations);
    /// `verifies_with` is another held key it verifies with, if any.
    BadSignature { verifies_with: Option<String> },
    /// The signature verifies, but the timestamp is this many seconds from now (more than 300).
    ClockSkew { seconds: i64 },
    /// The signature verifies but the resource does not decrypt: the APIv3 key is not the one
    /// WeChat Pay sealed it with.
    DecryptionFailed,
    /// The body is not a notification (not JSON, or without `resource`).
    NotANotification(String),
}

/// A diagnosis with the facts it rests on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnosis {
    pub finding: Finding,
    /// `Wechatpay-Serial`, when present.
    pub serial: Option<String>,
    /// Every key held: the public key's id and the certificates' serials.
    pub known_keys: Vec<String>,
    /// Now minus `Wechatpay-Timestamp`, in seconds, when it is a number.
    pub skew_seconds: Option<i64>,
    /// `Wechatpay-Signature-Type`, when present.
    pub signature_type: Option<String>,
}

impl Diagnosis {
    /// Whether the message verified (and decrypted).
    pub fn is_verified(&self) -> bool {
        matches!(self.finding, Finding::Verified { .. })
    }
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let serial = self.serial.as_deref().unwrap_or("-");
        let known = if self.known_keys.is_empty() { "none".to_owned() } else { self.known_keys.join(", ") };
        match &self.finding {
            Finding::Verified { kind, decrypted } => {
                let kind = match kind {
                    KeyKind::PublicKey => "the WeChat Pay public key",
                    KeyKind::Certificate => "the platform certificate",
                };
                write!(f, "verified: signed by {kind} {serial}")?;
                if *decrypted {
                    write!(f, ", resource decrypted with the APIv3 key")?;
                }
                Ok(())
            }
            Finding::MissingHeaders(names) => write!(
                f,
                "missing headers: {} (a proxy or framework dropped them, or this is not from WeChat Pay)",
                names.join(", ")
            ),
            Finding::SignTest => write!(
                f,
                "a signature probe (WECHATPAY/SIGNTEST/): WeChat Pay checks that it is rejected; reject it and nothing is wrong"
            ),
            Finding::SignatureType(kind) => {
                write!(f, "signature type {kind} is not {SIGNATURE_TYPE} (this merchant is set up for another algorithm)")
            }
            Finding::UnknownSerial { missing_kind: Some(KeyKind::PublicKey), .. } => write!(
                f,
                "signed with the WeChat Pay public key {serial}, but no public key is configured (keys held: {known}): \
                 the merchant is switching to the public key; add it (its id and PEM) alongside the certificates"
            ),
            Finding::UnknownSerial { missing_kind: Some(KeyKind::Certificate), .. } => write!(
                f,
                "signed with the platform certificate {serial}, but no certificate is held (keys held: {known}): \
                 during a switch both kinds sign; configure the APIv3 key so certificates are downloaded"
            ),
            Finding::UnknownSerial { expired: true, .. } => {
                write!(f, "signed with the platform certificate {serial}, which is held but expired: download the certificates again")
            }
            Finding::UnknownSerial { .. } => write!(
                f,
                "unknown serial {serial} (keys held: {known}): download the certificates again, or check the public key id"
            ),
            Finding::BodyAltered(Alteration::TrailingNewline) => write!(
                f,
                "the body was changed on its way: it verifies without its trailing newline; verify the raw bytes as received"
            ),
            Finding::BodyAltered(Alteration::ReencodedJson) => write!(
                f,
                "the body was changed on its way: its JSON was re-encoded (a proxy or framework parsed and wrote it again); \
                 verify the raw bytes as received, before any parsing"
            ),
            Finding::BadSignature { verifies_with: Some(other) } => write!(
                f,
                "the signature does not verify with {serial}, but it does with {other}: the headers and the body come from \
                 different messages, or the serial header was rewritten"
            ),
            Finding::BadSignature { verifies_with: None } => write!(
                f,
                "the signature does not verify with {serial}: the body is not the signed bytes (captured after a change?) \
                 or the key held under {serial} is not WeChat Pay's"
            ),
            Finding::ClockSkew { seconds } => write!(
                f,
                "the signature verifies, but the timestamp is {} s {} (more than {WINDOW_SECS} s): fix this machine's clock \
                 (NTP), or the message was replayed",
                seconds.abs(),
                if *seconds >= 0 { "old" } else { "in the future" }
            ),
            Finding::DecryptionFailed => write!(
                f,
                "the signature verifies (the body is WeChat Pay's), but the resource does not decrypt: the APIv3 key is \
                 wrong (set it again in the merchant platform and here)"
            ),
            Finding::NotANotification(why) => write!(f, "the signature verifies, but the body is not a notification: {why}"),
        }
    }
}

/// Diagnoses a response of the API: its headers and raw body as received.
pub fn diagnose_answer(keys: &WechatpayKeys, headers: &HeaderMap, body: &[u8], now: SystemTime) -> Diagnosis {
    examine(keys, None, headers, body, now, false)
}

/// Diagnoses a notification: its headers and raw body as received, and the APIv3 key (`None`:
/// the signature only).
pub fn diagnose_notification(
    keys: &WechatpayKeys,
    apiv3_key: Option<&ApiV3Key>,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Diagnosis {
    examine(keys, apiv3_key, headers, body, now, true)
}

fn examine(
    keys: &WechatpayKeys,
    apiv3_key: Option<&ApiV3Key>,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
    notification: bool,
) -> Diagnosis {
    let now = unix(now);
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_owned);
    let (timestamp, nonce, signature, serial) = (
        header("Wechatpay-Timestamp"),
        header("Wechatpay-Nonce"),
        header("Wechatpay-Signature"),
        header("Wechatpay-Serial"),
    );
    let mut known_keys: Vec<String> = keys.public_key_id().map(str::to_owned).into_iter().collect();
    known_keys.extend(keys.certificate_serials());
    let mut diagnosis = Diagnosis {
        finding: Finding::MissingHeaders(Vec::new()),
        serial: serial.clone(),
        known_keys,
        skew_seconds: timestamp.as_deref().and_then(|t| t.parse::<i64>().ok()).map(|t| now - t),
        signature_type: header("Wechatpay-Signature-Type"),
    };
    let missing: Vec<&'static str> = [
        ("Wechatpay-Timestamp", &timestamp),
        ("Wechatpay-Nonce", &nonce),
        ("Wechatpay-Signature", &signature),
        ("Wechatpay-Serial", &serial),
    ]
    .into_iter()
    .filter(|(_, value)| value.is_none())
    .map(|(name, _)| name)
    .collect();
    let (Some(timestamp), Some(nonce), Some(signature), Some(serial)) = (timestamp, nonce, signature, serial) else {
        diagnosis.finding = Finding::MissingHeaders(missing);
        return diagnosis;
    };
    diagnosis.finding =
        find(keys, apiv3_key, &diagnosis, (&timestamp, &nonce, &signature, &serial), body, now, notification);
    diagnosis
}

fn find(
    keys: &WechatpayKeys,
    apiv3_key: Option<&ApiV3Key>,
    facts: &Diagnosis,
    (timestamp, nonce, signature, serial): (&str, &str, &str, &str),
    body: &[u8],
    now: i64,
    notification: bool,
) -> Finding {
    if signature.starts_with("WECHATPAY/SIGNTEST/") {
        return Finding::SignTest;
    }
    if let Some(kind) = facts.signature_type.as_deref().filter(|kind| *kind != SIGNATURE_TYPE) {
        return Finding::SignatureType(kind.to_owned());
    }
    let Some(key) = keys.find(serial, now) else {
        let kind = KeyKind::of(serial);
        let holds_kind = match kind {
            KeyKind::PublicKey => keys.public_key_id().is_some(),
            KeyKind::Certificate => !keys.certificate_serials().is_empty(),
        };
        let expired = keys.certificate_serials().iter().any(|held| held.eq_ignore_ascii_case(serial));
        return Finding::UnknownSerial { missing_kind: (!holds_kind).then_some(kind), expired };
    };
    let message = |body: &[u8]| {
        let mut message = format!("{timestamp}\n{nonce}\n").into_bytes();
        message.extend_from_slice(body);
        message.push(b'\n');
        message
    };
    if !key.verify(&message(body), signature) {
        let trimmed = body.strip_suffix(b"\r\n").or_else(|| body.strip_suffix(b"\n"));
        if trimmed.is_some_and(|trimmed| key.verify(&message(trimmed), signature)) {
            return Finding::BodyAltered(Alteration::TrailingNewline);
        }
        let compact = serde_json::from_slice::<Value>(body).ok().and_then(|value| serde_json::to_vec(&value).ok());
        if compact.is_some_and(|compact| compact != body && key.verify(&message(&compact), signature)) {
            return Finding::BodyAltered(Alteration::ReencodedJson);
        }
        let verifies_with = facts
            .known_keys
            .iter()
            .filter(|other| *other != serial)
            .find(|other| keys.find(other, now).is_some_and(|other| other.verify(&message(body), signature)))
            .cloned();
        return Finding::BadSignature { verifies_with };
    }
    if let Some(seconds) = facts.skew_seconds.filter(|seconds| seconds.abs() > WINDOW_SECS) {
        return Finding::ClockSkew { seconds };
    }
    let kind = KeyKind::of(serial);
    if !notification {
        return Finding::Verified { kind, decrypted: false };
    }
    let resource = match serde_json::from_slice::<Value>(body) {
        Ok(envelope) => match envelope.get("resource") {
            Some(resource) => resource.clone(),
            None => return Finding::NotANotification("no `resource` member".into()),
        },
        Err(error) => return Finding::NotANotification(format!("not JSON ({error})")),
    };
    let Some(apiv3_key) = apiv3_key else {
        return Finding::Verified { kind, decrypted: false };
    };
    let text = |name: &str| resource.get(name).and_then(Value::as_str).unwrap_or_default();
    match apiv3_key.decrypt(text("nonce"), text("associated_data"), text("ciphertext")) {
        Ok(_) => Finding::Verified { kind, decrypted: true },
        Err(_) => Finding::DecryptionFailed,
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;
    use crate::{MerchantKey, PlatformCertificate, PublicKey};

    // WeChat Pay's side, from the fixture keys: the public key pair and a platform certificate.
    const PUBLIC_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000";
    const SIGNER: &str = include_str!("../tests/fixtures/keys/wechatpay_pub_key_private.pem");
    const PUBLIC: &str = include_str!("../tests/fixtures/keys/wechatpay_pub_key.pem");
    const PLATFORM_KEY: &str = include_str!("../tests/fixtures/keys/platform_key.pem");
    const PLATFORM_CERT: &str = include_str!("../tests/fixtures/keys/platform_cert.pem");
    const APIV3: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";

    fn platform_serial() -> String {
        PlatformCertificate::from_pem(PLATFORM_CERT).unwrap().serial
    }

    fn public_key_only() -> WechatpayKeys {
        WechatpayKeys::with_public_key(PUBLIC_KEY_ID, PublicKey::from_pem(PUBLIC).unwrap())
    }

    fn certificates_only() -> WechatpayKeys {
        WechatpayKeys::with_certificates([PlatformCertificate::from_pem(PLATFORM_CERT).unwrap()])
    }

    fn both() -> WechatpayKeys {
        let keys = public_key_only();
        keys.add_certificates([PlatformCertificate::from_pem(PLATFORM_CERT).unwrap()]);
        keys
    }

    /// A notification sealed with `apiv3` and signed by `signer` under `serial`, `age` seconds ago.
    fn notification(signer: &str, serial: &str, apiv3: &str, age: i64) -> (HeaderMap, Vec<u8>) {
        let key = ApiV3Key::new(apiv3).unwrap();
        let ciphertext = key.encrypt("0123456789ab", "transaction", br#"{"out_trade_no":"T-1"}"#).unwrap();
        let body = serde_json::json!({
            "id": "EV-1", "event_type": "TRANSACTION.SUCCESS", "resource_type": "encrypt-resource",
            "resource": { "algorithm": "AEAD_AES_256_GCM", "ciphertext": ciphertext, "nonce": "0123456789ab",
                          "associated_data": "transaction", "original_type": "transaction" }
        });
        let body = serde_json::to_vec(&body).unwrap();
        (signed(signer, serial, &body, age), body)
    }

    fn signed(signer: &str, serial: &str, body: &[u8], age: i64) -> HeaderMap {
        let timestamp = unix(SystemTime::now()) - age;
        let mut message = format!("{timestamp}\nNONCE42\n").into_bytes();
        message.extend_from_slice(body);
        message.push(b'\n');
        let signature = MerchantKey::from_pem(signer).unwrap().sign(&message);
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("Wechatpay-Timestamp", timestamp.to_string()),
            ("Wechatpay-Nonce", "NONCE42".to_owned()),
            ("Wechatpay-Signature", signature),
            ("Wechatpay-Serial", serial.to_owned()),
            ("Wechatpay-Signature-Type", SIGNATURE_TYPE.to_owned()),
        ] {
            headers.insert(name, HeaderValue::from_str(&value).unwrap());
        }
        headers
    }

    fn diagnose(keys: &WechatpayKeys, headers: &HeaderMap, body: &[u8]) -> Diagnosis {
        diagnose_notification(keys, Some(&ApiV3Key::new(APIV3).unwrap()), headers, body, SystemTime::now())
    }

    #[test]
    fn a_good_notification_is_verified_and_decrypted() {
        let (headers, body) = notification(SIGNER, PUBLIC_KEY_ID, APIV3, 0);
        let diagnosis = diagnose(&public_key_only(), &headers, &body);
        assert_eq!(diagnosis.finding, Finding::Verified { kind: KeyKind::PublicKey, decrypted: true });
        assert!(diagnosis.is_verified() && diagnosis.to_string().starts_with("verified"));
    }

    #[test]
    fn missing_headers_are_named() {
        let (mut headers, body) = notification(SIGNER, PUBLIC_KEY_ID, APIV3, 0);
        headers.remove("Wechatpay-Signature");
        headers.remove("Wechatpay-Nonce");
        let diagnosis = diagnose(&public_key_only(), &headers, &body);
        assert_eq!(diagnosis.finding, Finding::MissingHeaders(vec!["Wechatpay-Nonce", "Wechatpay-Signature"]));
    }

    #[test]
    fn a_public_key_signature_without_a_public_key_is_a_switch() {
        let (headers, body) = notification(SIGNER, PUBLIC_KEY_ID, APIV3, 0);
        let diagnosis = diagnose(&certificates_only(), &headers, &body);
        assert_eq!(
            diagnosis.finding,
            Finding::UnknownSerial { missing_kind: Some(KeyKind::PublicKey), expired: false }
        );
        assert_eq!(diagnosis.known_keys, [platform_serial()]);
        assert!(diagnosis.to_string().contains("switching to the public key"), "{diagnosis}");
    }

    #[test]
    fn a_certificate_signature_without_certificates_is_a_switch_too() {
        let (headers, body) = notification(PLATFORM_KEY, &platform_serial(), APIV3, 0);
        let diagnosis = diagnose(&public_key_only(), &headers, &body);
        assert_eq!(
            diagnosis.finding,
            Finding::UnknownSerial { missing_kind: Some(KeyKind::Certificate), expired: false }
        );
        assert!(diagnosis.to_string().contains("configure the APIv3 key"), "{diagnosis}");
    }

    #[test]
    fn an_unknown_serial_lists_the_keys_held() {
        let (headers, body) = notification(PLATFORM_KEY, "1DCE8A9F0A3E2B4C5D6E7F8091A2B3C4D5E6F708", APIV3, 0);
        let diagnosis = diagnose(&both(), &headers, &body);
        assert_eq!(diagnosis.finding, Finding::UnknownSerial { missing_kind: None, expired: false });
        assert!(diagnosis.to_string().contains(PUBLIC_KEY_ID) && diagnosis.to_string().contains(&platform_serial()));
    }

    #[test]
    fn clock_skew_is_measured() {
        let (headers, body) = notification(SIGNER, PUBLIC_KEY_ID, APIV3, 900);
        let diagnosis = diagnose(&public_key_only(), &headers, &body);
        let Finding::ClockSkew { seconds } = diagnosis.finding else { panic!("{diagnosis:?}") };
        assert!((900..905).contains(&seconds), "{seconds}");
    }

    #[test]
    fn a_signtest_probe_is_recognised() {
        let (mut headers, body) = notification(SIGNER, PUBLIC_KEY_ID, APIV3, 0);
        headers.insert("Wechatpay-Signature", HeaderValue::from_static("WECHATPAY/SIGNTEST/AAAA"));
        assert_eq!(diagnose(&public_key_only(), &headers, &body).finding, Finding::SignTest);
    }

    #[test]
    fn another_signature_type_is_named() {
        let (mut headers, body) = notification(SIGNER, PUBLIC_KEY_ID, APIV3, 0);
        headers.insert("Wechatpay-Signature-Type", HeaderValue::from_static("WECHATPAY2-SM2-WITH-SM3"));
        let finding = diagnose(&public_key_only(), &headers, &body).finding;
        assert_eq!(finding, Finding::SignatureType("WECHATPAY2-SM2-WITH-SM3".into()));
    }

    #[test]
    fn a_trailing_newline_added_on_the_way_is_found() {
        let (headers, mut body) = notification(SIGNER, PUBLIC_KEY_ID, APIV3, 0);
        body.push(b'\n');
        let finding = diagnose(&public_key_only(), &headers, &body).finding;
        assert_eq!(finding, Finding::BodyAltered(Alteration::TrailingNewline));
    }

    #[test]
    fn json_re_encoded_by_a_proxy_is_found() {
        let (headers, body) = notification(SIGNER, PUBLIC_KEY_ID, APIV3, 0);
        let value: Value = serde_json::from_slice(&body).unwrap();
        let pretty = serde_json::to_vec_pretty(&value).unwrap();
        let finding = diagnose(&public_key_only(), &headers, &pretty).finding;
        assert_eq!(finding, Finding::BodyAltered(Alteration::ReencodedJson));
    }

    #[test]
    fn a_signature_by_another_held_key_is_named() {
        let (headers, body) = notification(PLATFORM_KEY, PUBLIC_KEY_ID, APIV3, 0);
        let finding = diagnose(&both(), &headers, &body).finding;
        assert_eq!(finding, Finding::BadSignature { verifies_with: Some(platform_serial()) });
        let finding = diagnose(&public_key_only(), &headers, &body).finding;
        assert_eq!(finding, Finding::BadSignature { verifies_with: None });
    }

    #[test]
    fn a_wrong_apiv3_key_fails_after_a_good_signature() {
        let (headers, body) = notification(SIGNER, PUBLIC_KEY_ID, "0123456789abcdefghijklmnopqrstuv", 0);
        let diagnosis = diagnose(&public_key_only(), &headers, &body);
        assert_eq!(diagnosis.finding, Finding::DecryptionFailed);
        assert!(!diagnosis.to_string().contains(APIV3));
    }

    #[test]
    fn an_answer_is_verified_without_decryption() {
        let body = br#"{"prepay_id":"wx1"}"#;
        let headers = signed(SIGNER, PUBLIC_KEY_ID, body, 0);
        let diagnosis = diagnose_answer(&public_key_only(), &headers, body, SystemTime::now());
        assert_eq!(diagnosis.finding, Finding::Verified { kind: KeyKind::PublicKey, decrypted: false });
    }
}
