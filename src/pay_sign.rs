//! The signatures a front end needs to start a payment from a `prepay_id`: JSAPI / mini-program
//! `paySign` (`wx.requestPayment`, `WeixinJSBridge.invoke('getBrandWCPayRequest', …)`) and the
//! APP SDK's `sign` (`PayReq`).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::keys::{nonce, MerchantKey};
use crate::signer::SignatureScheme;
use crate::wechatpay_keys::unix;

/// The parameters of a JSAPI or mini-program payment, serialised with the names the front end
/// expects (`appId`, `timeStamp`, `nonceStr`, `package`, `signType`, `paySign`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsapiPayParams {
    /// The app id the order was created for.
    #[serde(rename = "appId")]
    pub app_id: String,
    /// Unix seconds, as a string.
    #[serde(rename = "timeStamp")]
    pub time_stamp: String,
    /// A random string.
    #[serde(rename = "nonceStr")]
    pub nonce_str: String,
    /// `prepay_id=…`.
    pub package: String,
    /// `RSA` (`SM2` for a national-cryptography merchant's SM2 key).
    #[serde(rename = "signType")]
    pub sign_type: String,
    /// Base64 RSA-SHA256 signature of `appId\ntimeStamp\nnonceStr\npackage\n` with the merchant key.
    #[serde(rename = "paySign")]
    pub pay_sign: String,
}

/// The parameters of an APP payment (`PayReq` of the WeChat SDK).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppPayParams {
    /// The app id the order was created for.
    pub appid: String,
    /// The merchant id (the sub-merchant's for a service provider's order).
    pub partnerid: String,
    /// The `prepay_id`.
    pub prepayid: String,
    /// Always `Sign=WXPay`.
    pub package: String,
    /// A random string.
    pub noncestr: String,
    /// Unix seconds, as a string.
    pub timestamp: String,
    /// Base64 RSA-SHA256 signature of `appid\ntimestamp\nnoncestr\nprepayid\n` with the merchant key.
    pub sign: String,
}

/// The lines, each ending with `\n`: the signed message.
fn lines_message(lines: &[&str]) -> String {
    let mut message = String::with_capacity(lines.iter().map(|line| line.len() + 1).sum());
    for line in lines {
        message.push_str(line);
        message.push('\n');
    }
    message
}

fn sign_lines(key: &MerchantKey, lines: &[&str]) -> String {
    key.sign(lines_message(lines).as_bytes())
}

/// `signType` of a scheme.
fn sign_type(scheme: SignatureScheme) -> &'static str {
    match scheme {
        SignatureScheme::Rsa => "RSA",
        SignatureScheme::Sm2 => "SM2",
    }
}

/// JSAPI / mini-program parameters signed with `key` at `timestamp` with `nonce_str`.
pub fn jsapi_pay_params(
    key: &MerchantKey,
    app_id: &str,
    prepay_id: &str,
    timestamp: i64,
    nonce_str: &str,
) -> JsapiPayParams {
    let time_stamp = timestamp.to_string();
    let package = format!("prepay_id={prepay_id}");
    let pay_sign = sign_lines(key, &[app_id, &time_stamp, nonce_str, &package]);
    JsapiPayParams {
        app_id: app_id.to_owned(),
        time_stamp,
        nonce_str: nonce_str.to_owned(),
        package,
        sign_type: sign_type(key.scheme()).to_owned(),
        pay_sign,
    }
}

/// APP parameters signed with `key` at `timestamp` with `nonce_str`.
pub fn app_pay_params(
    key: &MerchantKey,
    appid: &str,
    partnerid: &str,
    prepay_id: &str,
    timestamp: i64,
    nonce_str: &str,
) -> AppPayParams {
    let timestamp = timestamp.to_string();
    let sign = sign_lines(key, &[appid, &timestamp, nonce_str, prepay_id]);
    AppPayParams {
        appid: appid.to_owned(),
        partnerid: partnerid.to_owned(),
        prepayid: prepay_id.to_owned(),
        package: "Sign=WXPay".to_owned(),
        noncestr: nonce_str.to_owned(),
        timestamp,
        sign,
    }
}

impl crate::Client {
    /// The lines signed by the client's [`Signer`](crate::signer::Signer), Base64.
    async fn sign_lines(&self, lines: &[&str]) -> Result<String, Error> {
        let signature = self.signer().sign(lines_message(lines).as_bytes()).await.map_err(Error::from_signer)?;
        Ok(BASE64.encode(signature))
    }

    /// The parameters for `wx.requestPayment` / `getBrandWCPayRequest`, signed now with a fresh
    /// nonce by the client's signer (async: the key may live in a KMS).
    pub async fn jsapi_pay_params(&self, app_id: &str, prepay_id: &str) -> Result<JsapiPayParams, Error> {
        let time_stamp = unix(std::time::SystemTime::now()).to_string();
        let nonce_str = nonce();
        let package = format!("prepay_id={prepay_id}");
        let pay_sign = self.sign_lines(&[app_id, &time_stamp, &nonce_str, &package]).await?;
        Ok(JsapiPayParams {
            app_id: app_id.to_owned(),
            time_stamp,
            nonce_str,
            package,
            sign_type: sign_type(self.signer().scheme()).to_owned(),
            pay_sign,
        })
    }

    /// The parameters for the APP SDK's `PayReq`, with this client's merchant id as `partnerid`,
    /// signed now with a fresh nonce.
    pub async fn app_pay_params(&self, appid: &str, prepay_id: &str) -> Result<AppPayParams, Error> {
        self.app_pay_params_for(appid, self.mchid(), prepay_id).await
    }

    /// Like [`Client::app_pay_params`](crate::Client::app_pay_params) with another `partnerid`
    /// (a service provider passes the sub-merchant's id).
    pub async fn app_pay_params_for(
        &self,
        appid: &str,
        partnerid: &str,
        prepay_id: &str,
    ) -> Result<AppPayParams, Error> {
        let timestamp = unix(std::time::SystemTime::now()).to_string();
        let noncestr = nonce();
        let sign = self.sign_lines(&[appid, &timestamp, &noncestr, prepay_id]).await?;
        Ok(AppPayParams {
            appid: appid.to_owned(),
            partnerid: partnerid.to_owned(),
            prepayid: prepay_id.to_owned(),
            package: "Sign=WXPay".to_owned(),
            noncestr,
            timestamp,
            sign,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_end_names_and_signatures() {
        let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys/merchant_key.pem"))
            .unwrap();
        let key = MerchantKey::from_pem(&pem).unwrap();
        let params = jsapi_pay_params(
            &key,
            "wx8888888888888888",
            "wx201410272009395522657a690389285100",
            1414561699,
            "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        );
        let json = serde_json::to_value(&params).unwrap();
        for name in ["appId", "timeStamp", "nonceStr", "package", "signType", "paySign"] {
            assert!(json.get(name).is_some(), "{name} missing from {json}");
        }
        assert_eq!(params.package, "prepay_id=wx201410272009395522657a690389285100");
        let message = "wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n";
        assert!(key.public_key().verify(message.as_bytes(), &params.pay_sign));

        let app = app_pay_params(
            &key,
            "wx8888888888888888",
            "1900000109",
            "WX1217752501201407033233368018",
            1412000000,
            "abc",
        );
        assert_eq!(app.package, "Sign=WXPay");
        let message = "wx8888888888888888\n1412000000\nabc\nWX1217752501201407033233368018\n";
        assert!(key.public_key().verify(message.as_bytes(), &app.sign));
    }
}
