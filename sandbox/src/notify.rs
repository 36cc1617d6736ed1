//! Notifications as WeChat Pay POSTs them: resource sealed with the APIv3 key (AES-256-GCM, or
//! SM4-GCM when an SM2 key signs), headers signed like a response, `Wechatpay-Signature-Type`
//! naming the signing key's scheme.

use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};

use crate::crypto;
use crate::keys::Keys;
use crate::respond::{sign_headers, Flaw};
use crate::{Signer, Tamper};

pub(crate) fn build(
    keys: &Keys,
    signer: Signer,
    event_type: &str,
    resource_type: &str,
    payload: &Value,
    tamper: &Tamper,
) -> (HeaderMap, Vec<u8>) {
    let original_type = original_type(event_type);
    let nonce = crypto::random_alphanumeric(12);
    let apiv3_key = match tamper {
        Tamper::WrongApiV3Key => "0123456789abcdefghijklmnopqrstuv",
        _ => keys.apiv3_key(),
    };
    let plaintext = serde_json::to_vec(payload).unwrap_or_default();
    // A national-cryptography merchant's notifications are SM4-GCM sealed and SM2 signed.
    let sm2 = keys.signer(signer).is_sm2();
    let (algorithm, mut ciphertext) = if sm2 {
        let key = crate::guomi::sm4_key(apiv3_key);
        (crate::guomi::SM4_GCM, crate::guomi::sm4_gcm_encrypt(&key, &nonce, &original_type, &plaintext))
    } else {
        ("AEAD_AES_256_GCM", crypto::aes_gcm_encrypt(apiv3_key.as_bytes(), &nonce, &original_type, &plaintext))
    };
    if let Tamper::Ciphertext = tamper {
        if let Some(mut bytes) = crypto::base64_decode(&ciphertext) {
            if let Some(first) = bytes.first_mut() {
                *first ^= 0x01;
            }
            ciphertext = crypto::base64(&bytes);
        }
    }
    let id = match tamper {
        Tamper::Id(id) => id.clone(),
        _ => format!("EV-{}", crypto::hex_upper(&crypto::random_bytes(10))),
    };
    let envelope = json!({
        "id": id,
        "create_time": crypto::rfc3339_cst(crypto::unix_now()),
        "event_type": event_type,
        "resource_type": resource_type,
        "summary": summary(event_type),
        "resource": {
            "original_type": original_type,
            "algorithm": algorithm,
            "ciphertext": ciphertext,
            "associated_data": original_type,
            "nonce": nonce,
        }
    });
    let mut body = serde_json::to_vec(&envelope).unwrap_or_default();
    let flaw = match tamper {
        Tamper::StaleTimestamp => Flaw::StaleTimestamp,
        Tamper::UnknownSerial => Flaw::UnknownSerial,
        Tamper::SignTest => Flaw::SignTest,
        _ => Flaw::None,
    };
    let signed = sign_headers(keys, signer, &body, flaw);
    if let Tamper::Body = tamper {
        tamper_body(&mut body);
    }

    let mut headers = HeaderMap::new();
    let mut insert = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    insert("content-type", "application/json");
    insert("request-id", &crate::respond::request_id());
    // The key's scheme (`sign_headers` named it), or with `WrongSignatureType` the other one.
    let signature_type =
        if sm2 != matches!(tamper, Tamper::WrongSignatureType) { crate::guomi::SCHEME } else { crate::auth::SCHEME };
    for (name, value) in signed {
        insert(name, &value);
    }
    insert("wechatpay-signature-type", signature_type);
    (headers, body)
}

/// Changes one character of the notification id: still valid JSON, no longer the signed bytes.
fn tamper_body(body: &mut [u8]) {
    const ID: &[u8] = b"\"id\":\"";
    let at = body
        .windows(ID.len())
        .position(|window| window == ID)
        .map(|at| at + ID.len())
        .filter(|at| body.get(*at).is_some_and(|byte| byte.is_ascii_alphanumeric()))
        // No usable id (an empty `Tamper::Id`): change the first digit anywhere instead.
        .or_else(|| body.iter().position(u8::is_ascii_digit));
    if let Some(byte) = at.and_then(|at| body.get_mut(at)) {
        *byte = if *byte == b'X' { b'Y' } else { b'X' };
    }
}

/// `resource.original_type` (also the AAD): `transaction` for `TRANSACTION.*`, `refund` for `REFUND.*`,
/// else the event family in lower case.
fn original_type(event_type: &str) -> String {
    event_type.split('.').next().unwrap_or(event_type).to_ascii_lowercase()
}

fn summary(event_type: &str) -> &'static str {
    match event_type {
        "TRANSACTION.SUCCESS" => "支付成功",
        "REFUND.SUCCESS" => "退款成功",
        "REFUND.ABNORMAL" => "退款异常",
        "REFUND.CLOSED" => "退款关闭",
        _ => "通知",
    }
}

/// POSTs a notification to `url`; the status and body of the answer.
pub(crate) async fn post(url: &str, headers: HeaderMap, body: Vec<u8>) -> Result<(u16, String), crate::DeliveryError> {
    let fail = |error: reqwest::Error| crate::DeliveryError(format!("POST {url}: {error}"));
    // No proxy: the receiver is usually local, whatever the environment says.
    let client = reqwest::Client::builder().no_proxy().build().map_err(fail)?;
    let response = client.post(url).headers(headers).body(body).send().await.map_err(fail)?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(fail)?;
    Ok((status, text))
}
