//! `wechatpay notify verify` and `wechatpay answer verify`: the verification doctor.

use std::path::Path;
use std::time::SystemTime;

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::config::Settings;
use crate::failure::Failure;

pub fn run(settings: Settings, headers: &Path, body: &Path, notification: bool) -> Result<(), Failure> {
    let text =
        std::fs::read_to_string(headers).map_err(|error| Failure::usage(format!("{}: {error}", headers.display())))?;
    let headers = parse_headers(&text);
    let body = std::fs::read(body).map_err(|error| Failure::usage(format!("{}: {error}", body.display())))?;
    let keys = settings.wechatpay_keys()?;
    let diagnosis = if notification {
        let apiv3_key = settings.apiv3_key()?;
        wechatpay::doctor::diagnose_notification(&keys, apiv3_key.as_ref(), &headers, &body, SystemTime::now())
    } else {
        wechatpay::doctor::diagnose_answer(&keys, &headers, &body, SystemTime::now())
    };
    println!("{diagnosis}");
    if diagnosis.is_verified() {
        Ok(())
    } else {
        Err(Failure { status: 1, message: "not verified".into() })
    }
}

/// `Name: value` lines (a status or request line, blank lines and anything else skipped).
fn parse_headers(text: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for line in text.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name.trim().as_bytes()), HeaderValue::from_str(value.trim()))
        {
            headers.append(name, value);
        }
    }
    headers
}
