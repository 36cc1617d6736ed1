//! APIv2 notifications (`webhook/v2`): XML POSTed to the merchant, verified, decrypted and typed
//! by the page that documents them ([`webhook::v2::Event`](crate::webhook::v2::Event)).
//!
//! APIv2 notifications name no event type that says which page they are (only the payscore
//! envelope `TRANSACTION.*` / `CHECK.*` carries one): each `notify_url` receives one kind, so the
//! handler names the page, e.g. `refund-processed` or `transaction-success`. Three shapes:
//!
//! - `req_info` (`refund-processed`): AES-256-ECB under the MD5 of the APIv2 key, unsigned (the
//!   key authenticates it); its plaintext is the refund's XML. Opened for that page only: under
//!   any other, a body carrying a `req_info` must be signed like the rest (a refund notification
//!   replayed to a payment `notify_url` is refused, not read as a payment);
//! - `event_ciphertext` (`TRANSACTION.*`, `CHECK.*`): the body is signed (`algorithm`,
//!   HMAC-SHA256 with the APIv2 key), then the ciphertext opens with AES-256-GCM under the APIv3
//!   key (`event_nonce`, `event_associated_data`);
//! - anything else (`transaction-success`, …): the body is signed (`sign_type`, MD5 when absent)
//!   and is the payload.
//!
//! Each is checked before anything is typed, and handled at most once per notification with the
//! same [`ReplayGuard`]s as APIv3's: the id is the `event_id` when
//! there is one, else a SHA-256 of the payload's members (a redelivery carries the same).
//! Answer with [`success_body`] or [`fail_body`] (XML).

use std::future::Future;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use wechatpay_generated::runtime::xml::{self, text_members, Node};
use wechatpay_generated::runtime::{DecodeError, Deviation};
use wechatpay_generated::webhook::v2::Event;

use super::ecb;
use super::sign::{verify, ApiV2Key, SignType};
use crate::keys::{ApiV3Key, CryptoError};
use crate::notify::{ClaimStatus, ClaimToken, InMemoryReplayGuard, NotifyError, ProcessError, Processed, ReplayGuard};
use crate::wechatpay_keys::VerifyError;

/// The page whose payload is a `req_info` (unsigned, authenticated by the key that opens it).
const REQ_INFO_PAGE: &str = "refund-processed";

/// A verified, decrypted APIv2 notification. `Debug` leaves the payload out.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct V2Notification {
    /// The page it is documented by, e.g. `refund-processed`.
    pub page: String,
    /// The id the replay guard knows it by: `event_id`, else `v2:` and the SHA-256 of the
    /// payload's members.
    pub id: String,
    /// The body's own text members (`appid`, `mch_id`, `return_code`, … and the encrypted
    /// member as received), in order.
    pub envelope: Vec<(String, String)>,
    /// The payload, typed by its page.
    pub event: Event,
    /// Where the payload differs from its page (each such value holds its type's default).
    pub deviations: Vec<Deviation>,
}

impl std::fmt::Debug for V2Notification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V2Notification")
            .field("page", &self.page)
            .field("id", &self.id)
            .field("event", &format_args!("<{} payload, redacted>", self.page))
            .field("deviations", &self.deviations)
            .finish_non_exhaustive()
    }
}

/// Verifies, decrypts and types APIv2 notifications. Cheap to clone.
#[derive(Clone)]
pub struct V2Notifications {
    key: ApiV2Key,
    apiv3_key: Option<ApiV3Key>,
    guard: Arc<dyn ReplayGuard>,
}

impl std::fmt::Debug for V2Notifications {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V2Notifications")
            .field("key", &self.key)
            .field("apiv3_key", &self.apiv3_key)
            .finish_non_exhaustive()
    }
}

impl V2Notifications {
    /// Notifications verified with `key` (and `req_info` opened with it); replays remembered in
    /// memory.
    pub fn new(key: ApiV2Key) -> Self {
        V2Notifications { key, apiv3_key: None, guard: Arc::new(InMemoryReplayGuard::new()) }
    }

    /// The APIv3 key, which opens the `event_ciphertext` of `TRANSACTION.*` / `CHECK.*`.
    pub fn apiv3_key(mut self, key: ApiV3Key) -> Self {
        self.apiv3_key = Some(key);
        self
    }

    /// Remembers handled notifications in `guard` instead (shared storage for several processes).
    pub fn replay_guard(mut self, guard: impl ReplayGuard) -> Self {
        self.guard = Arc::new(guard);
        self
    }

    /// Verifies, decrypts and types a notification of the page `page` (its body as received),
    /// without consulting the replay guard.
    pub fn open(&self, page: &str, body: &[u8]) -> Result<V2Notification, NotifyError> {
        let members = xml::parse(body).map_err(|e| NotifyError::Verify(VerifyError::V2Malformed(e.to_string())))?;
        let texts: Vec<(String, String)> =
            text_members(&members).into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        let get = |name: &str| texts.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let plaintext: Vec<u8> = if let Some(req_info) = get("req_info").filter(|_| page == REQ_INFO_PAGE) {
            ecb::decrypt(&self.key, req_info).map_err(NotifyError::Decrypt)?
        } else {
            self.verify(&texts, get("algorithm").or_else(|| get("sign_type")))?;
            match get("event_ciphertext") {
                Some(ciphertext) => {
                    let key = self.apiv3_key.as_ref().ok_or(NotifyError::Decrypt(CryptoError::Decrypt))?;
                    let (nonce, aad) =
                        (get("event_nonce").unwrap_or_default(), get("event_associated_data").unwrap_or_default());
                    key.decrypt(nonce, aad, ciphertext).map_err(NotifyError::Decrypt)?
                }
                None => body.to_vec(),
            }
        };
        let payload_members =
            xml::parse(&plaintext).map_err(|e| NotifyError::Verify(VerifyError::V2Malformed(e.to_string())))?;
        let decoded = match Event::parse(page, &plaintext) {
            Some(decoded) => decoded.map_err(|error: DecodeError| NotifyError::Payload {
                event_type: page.to_owned(),
                source: crate::notify::PayloadError::from_decode(&error),
            })?,
            None => return Err(NotifyError::UnknownPage(page.to_owned())),
        };
        let id = match get("event_id") {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => payload_id(&payload_members),
        };
        Ok(V2Notification {
            page: page.to_owned(),
            id,
            envelope: texts,
            event: decoded.value,
            deviations: decoded.deviations,
        })
    }

    fn verify(&self, texts: &[(String, String)], algorithm: Option<&str>) -> Result<(), NotifyError> {
        let signature = texts.iter().find(|(k, _)| k == "sign").map(|(_, v)| v.as_str());
        let Some(signature) = signature else {
            return Err(NotifyError::Verify(VerifyError::V2Unsigned));
        };
        let sign_type = match algorithm {
            None | Some("") => SignType::Md5,
            Some(value) => SignType::parse(value)
                .ok_or_else(|| NotifyError::Verify(VerifyError::UnsupportedSignatureType(value.to_owned())))?,
        };
        if verify(texts.iter().map(|(k, v)| (k.as_str(), v.as_str())), &self.key, sign_type, signature) {
            Ok(())
        } else {
            Err(NotifyError::Verify(VerifyError::V2BadSignature(sign_type.as_str())))
        }
    }

    /// [`open`](Self::open)s a notification and runs `handler` on it at most once per id that
    /// succeeded (as [`Notifications::process`](crate::Notifications::process) does for APIv3):
    /// answer [`success_body`] on `Ok`, [`fail_body`] on `Err`.
    pub async fn process<F, Fut, E>(&self, page: &str, body: &[u8], handler: F) -> Result<Processed, ProcessError<E>>
    where
        F: FnOnce(V2Notification) -> Fut,
        Fut: Future<Output = Result<(), E>>,
    {
        let notification = self.open(page, body).map_err(ProcessError::Notify)?;
        let id = notification.id.clone();
        let token = ClaimToken::new();
        match self.guard.try_claim(&id, &token).await.map_err(|e| ProcessError::Notify(NotifyError::ReplayGuard(e)))? {
            ClaimStatus::Claimed => {}
            ClaimStatus::Handled => return Ok(Processed::Duplicate { id }),
            ClaimStatus::InProgress => return Err(ProcessError::Notify(NotifyError::InProgress { id })),
        }
        match handler(notification).await {
            Ok(()) => {
                if let Err(error) = self.guard.commit(&id, &token).await {
                    tracing::warn!(%error, id, "cannot record the APIv2 notification as handled");
                }
                Ok(Processed::Handled { id })
            }
            Err(error) => {
                if let Err(error) = self.guard.release(&id, &token).await {
                    tracing::warn!(%error, id, "cannot release the APIv2 notification claim; it expires with its lease");
                }
                Err(ProcessError::Handler { id, error })
            }
        }
    }
}

/// `v2:` and the SHA-256 (hex) of the payload's text members other than `sign` and
/// `nonce_str`, sorted: the same for every delivery of one notification.
fn payload_id(members: &[(String, Node)]) -> String {
    let mut texts: Vec<(&str, &str)> =
        text_members(members).into_iter().filter(|(name, _)| !matches!(*name, "sign" | "nonce_str")).collect();
    texts.sort();
    let mut hash = Sha256::new();
    for (name, value) in texts {
        hash.update(name.as_bytes());
        hash.update([0]);
        hash.update(value.as_bytes());
        hash.update([0]);
    }
    let digest = hash.finalize();
    format!("v2:{}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// The answer to a notification handled (or a duplicate): `return_code` `SUCCESS`.
pub fn success_body() -> String {
    xml::write([("return_code", "SUCCESS"), ("return_msg", "OK")])
}

/// The answer to a notification refused: `return_code` `FAIL` and why (WeChat Pay delivers it
/// again).
pub fn fail_body(message: &str) -> String {
    xml::write([("return_code", "FAIL"), ("return_msg", message)])
}

/// Seals a refund notification's `req_info` as WeChat Pay does (tests, local tooling).
pub fn seal_req_info(key: &ApiV2Key, plaintext: &[u8]) -> String {
    ecb::encrypt(key, plaintext)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFUND: &str = "<root><out_refund_no>R1</out_refund_no><out_trade_no>T1</out_trade_no>\
        <refund_fee>3960</refund_fee><total_fee>3960</total_fee><refund_status>SUCCESS</refund_status>\
        <transaction_id>4200000215201811190261405420</transaction_id></root>";

    fn refund_notification(key: &ApiV2Key) -> String {
        xml::write([
            ("return_code", "SUCCESS"),
            ("mch_id", "10000100"),
            ("req_info", &seal_req_info(key, REFUND.as_bytes())),
        ])
    }

    /// Caught by the `v2_notification` fuzz target's invariant (its corpus keeps the input,
    /// `crash-refund-req-info-as-payment`): a genuine refund notification posted to the payment
    /// `notify_url` was opened, unsigned, and typed as a payment of the refund's order and amount.
    #[test]
    fn a_req_info_opens_only_for_the_refund_page() {
        let key = ApiV2Key::new("192006250b4c09247ec02edce69f6a2d").unwrap();
        let notifications = V2Notifications::new(key.clone());
        let body = refund_notification(&key);
        let refund = notifications.open("refund-processed", body.as_bytes()).unwrap();
        assert!(matches!(refund.event, Event::RefundProcessed(_)), "{refund:?}");
        for page in ["transaction-success", "TRANSACTION.SUCCESS", "combined-transactions-success"] {
            let error = notifications.open(page, body.as_bytes()).unwrap_err();
            assert!(matches!(error, NotifyError::Verify(VerifyError::V2Unsigned)), "{page}: {error}");
        }
    }
}
