//! What an APIv2 answer means: communication failure, verification, business failure, or the
//! answer to decode. Nothing is decoded before this says it is a success.

use wechatpay_generated::runtime::xml::{self, text_members};
use wechatpay_generated::runtime::ResponseKind;

use super::sign::{verify, ApiV2Key, SignType};
use crate::error::Error;
use crate::exchange::{api_error, Raw};
use crate::wechatpay_keys::VerifyError;

/// `Ok` when `raw` is a successful answer to decode (or, for a download, the file); otherwise the
/// error it means. `signed`: the page documents the answer's `sign`.
pub(crate) fn judge(
    raw: &Raw,
    path: &str,
    kind: ResponseKind,
    signed: bool,
    key: &ApiV2Key,
    sign_type: SignType,
) -> Result<(), Error> {
    if !raw.status.is_success() {
        return Err(api_error(raw, false));
    }
    let verify_error = |source| Error::Verify { source, request_id: raw.request_id.clone() };
    if !xml::looks_like_xml(&raw.body) {
        // A download answers the file itself; a few APIv2 answers are JSON (`retcode`): neither
        // is signed. An answer documented as signed must be XML.
        return match kind {
            ResponseKind::Stream => Ok(()),
            _ if signed => Err(verify_error(VerifyError::V2Unsigned)),
            _ if serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&raw.body).is_ok() => Ok(()),
            _ => Err(verify_error(VerifyError::V2Malformed("neither XML nor a JSON object".into()))),
        };
    }
    let members = xml::parse(&raw.body).map_err(|e| verify_error(VerifyError::V2Malformed(e.to_string())))?;
    let texts = text_members(&members);
    let get = |name: &str| texts.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let return_code =
        get("return_code").ok_or_else(|| verify_error(VerifyError::V2Malformed("no `return_code`".into())))?;
    if return_code != "SUCCESS" {
        return Err(Error::V2Return {
            path: path.to_owned(),
            return_code: return_code.to_owned(),
            return_msg: get("return_msg").unwrap_or_default().to_owned(),
        });
    }
    match get("sign") {
        Some(signature) if !verify(texts.iter().copied(), key, sign_type, signature) => {
            return Err(verify_error(VerifyError::V2BadSignature(sign_type.as_str())));
        }
        None if signed => return Err(verify_error(VerifyError::V2Unsigned)),
        _ => {}
    }
    let err_code = get("err_code").or_else(|| get("error_code")).filter(|code| !code.is_empty() && *code != "SUCCESS");
    let failed = match get("result_code") {
        Some(result) => result != "SUCCESS",
        None => err_code.is_some(),
    };
    if failed {
        return Err(Error::V2Result {
            path: path.to_owned(),
            err_code: err_code.or_else(|| get("result_code")).unwrap_or_default().to_owned(),
            err_code_des: get("err_code_des")
                .or_else(|| get("error_code_des"))
                .or_else(|| get("return_msg"))
                .unwrap_or_default()
                .to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http::{HeaderMap, StatusCode};

    fn key() -> ApiV2Key {
        ApiV2Key::new("192006250b4c09247ec02edce69f6a2d").unwrap()
    }

    fn answer(members: &[(&str, &str)], sign_type: Option<SignType>) -> Raw {
        let mut members: Vec<(String, String)> = members.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        if let Some(sign_type) = sign_type {
            let signature =
                super::super::sign(members.iter().map(|(a, b)| (a.as_str(), b.as_str())), &key(), sign_type);
            members.push(("sign".into(), signature));
        }
        let body = xml::write(members.iter().map(|(a, b)| (a.as_str(), b.as_str())));
        Raw { status: StatusCode::OK, headers: HeaderMap::new(), body: Bytes::from(body), request_id: None }
    }

    fn judged(raw: &Raw, signed: bool, sign_type: SignType) -> Result<(), Error> {
        judge(raw, "/pay/orderquery", ResponseKind::Json, signed, &key(), sign_type)
    }

    #[test]
    fn a_signed_success_verifies_in_both_algorithms() {
        for sign_type in [SignType::Md5, SignType::HmacSha256] {
            let raw = answer(
                &[("return_code", "SUCCESS"), ("result_code", "SUCCESS"), ("trade_state", "SUCCESS")],
                Some(sign_type),
            );
            assert!(judged(&raw, true, sign_type).is_ok());
            let other = if sign_type == SignType::Md5 { SignType::HmacSha256 } else { SignType::Md5 };
            assert!(matches!(
                judged(&raw, true, other),
                Err(Error::Verify { source: VerifyError::V2BadSignature(_), .. })
            ));
        }
    }

    #[test]
    fn an_unsigned_or_tampered_success_is_a_verification_error() {
        let unsigned = answer(&[("return_code", "SUCCESS"), ("result_code", "SUCCESS")], None);
        let error = judged(&unsigned, true, SignType::Md5).unwrap_err();
        assert!(matches!(error, Error::Verify { source: VerifyError::V2Unsigned, .. }), "{error}");
        assert!(error.outcome_unknown());
        assert!(
            judged(&unsigned, false, SignType::Md5).is_ok(),
            "a page documenting no sign (red packets) answers unsigned"
        );
        let signed =
            answer(&[("return_code", "SUCCESS"), ("result_code", "SUCCESS"), ("total_fee", "1")], Some(SignType::Md5));
        let tampered =
            Raw { body: Bytes::from(String::from_utf8_lossy(&signed.body).replace("[1]", "[100]")), ..signed };
        assert!(
            matches!(judged(&tampered, false, SignType::Md5), Err(Error::Verify { .. })),
            "a sign carried is checked"
        );
    }

    #[test]
    fn fail_answers_and_err_codes_are_typed_errors() {
        let fail = answer(&[("return_code", "FAIL"), ("return_msg", "签名错误")], None);
        let error = judged(&fail, true, SignType::Md5).unwrap_err();
        assert!(matches!(&error, Error::V2Return { return_code, .. } if return_code == "FAIL"), "{error}");
        assert!(!error.outcome_unknown());
        let business = answer(
            &[
                ("return_code", "SUCCESS"),
                ("result_code", "FAIL"),
                ("err_code", "ORDERNOTEXIST"),
                ("err_code_des", "no"),
            ],
            Some(SignType::Md5),
        );
        let error = judged(&business, true, SignType::Md5).unwrap_err();
        assert_eq!((error.code(), error.message()), (Some("ORDERNOTEXIST"), Some("no")));
        assert!(!error.outcome_unknown());
        for code in ["SYSTEMERROR", "BANKERROR", "USERPAYING"] {
            let unknown =
                answer(&[("return_code", "SUCCESS"), ("result_code", "FAIL"), ("err_code", code)], Some(SignType::Md5));
            assert!(judged(&unknown, true, SignType::Md5).unwrap_err().outcome_unknown(), "{code}");
        }
        let no_result = answer(&[("return_code", "SUCCESS"), ("err_code", "NOAUTH")], None);
        assert_eq!(
            judged(&no_result, false, SignType::Md5).unwrap_err().code(),
            Some("NOAUTH"),
            "an err_code is never a success"
        );
    }

    #[test]
    fn hostile_or_foreign_bodies_are_refused() {
        for body in [
            &b"<!DOCTYPE x [<!ENTITY a \"b\">]><xml><return_code>SUCCESS</return_code></xml>"[..],
            b"<html>gateway</html>x",
            b"<xml><a>1</a></xml>",
        ] {
            let raw = Raw {
                status: StatusCode::OK,
                headers: HeaderMap::new(),
                body: Bytes::copy_from_slice(body),
                request_id: None,
            };
            let error = judged(&raw, false, SignType::Md5).unwrap_err();
            assert!(matches!(error, Error::Verify { .. }) && error.outcome_unknown(), "{error}");
        }
        let html = Raw {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: Bytes::from_static(b"gateway page"),
            request_id: None,
        };
        assert!(judged(&html, false, SignType::Md5).is_err());
        assert!(
            judge(&html, "/pay/downloadbill", ResponseKind::Stream, false, &key(), SignType::Md5).is_ok(),
            "a bill file"
        );
    }
}
