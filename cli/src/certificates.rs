//! `wechatpay certificates download`: as WeChat Pay's CertificateDownloader does.

use std::path::Path;

use serde_json::{json, Value};
use wechatpay::PlatformCertificate;

use crate::config::Settings;
use crate::failure::Failure;

pub async fn download(settings: Settings, out: &Path) -> Result<(), Failure> {
    let apiv3_key = settings.apiv3_key()?.ok_or_else(|| {
        Failure::usage("downloading certificates needs the APIv3 key (WECHATPAY_APIV3_KEY or --apiv3-key-file)")
    })?;
    let client = settings.client()?;
    let info = wechatpay::registry::find("GET", "/v3/certificates")
        .ok_or_else(|| Failure::failed("no /v3/certificates operation"))?;
    let request = info.request_from_json(json!({})).map_err(|error| Failure::usage(error.to_string()))?;
    // The client verifies the answer's signature before anything is decrypted (with a
    // certificate it carries when none is known yet, as the official downloader does).
    let answer = client.send_erased(request).await?;
    std::fs::create_dir_all(out).map_err(|error| Failure::usage(format!("{}: {error}", out.display())))?;
    let entries = answer.get("data").and_then(Value::as_array).cloned().unwrap_or_default();
    if entries.is_empty() {
        return Err(Failure::failed("WeChat Pay listed no certificate"));
    }
    for entry in entries {
        let text = |path: &str| entry.pointer(path).and_then(Value::as_str).unwrap_or_default().to_owned();
        let serial = text("/serial_no");
        let sealed = |name: &str| text(&format!("/encrypt_certificate/{name}"));
        let pem = apiv3_key.decrypt(&sealed("nonce"), &sealed("associated_data"), &sealed("ciphertext")).map_err(
            |error| Failure::failed(format!("certificate {serial} does not decrypt with the APIv3 key: {error}")),
        )?;
        let pem = String::from_utf8(pem).map_err(|_| Failure::failed(format!("certificate {serial} is not text")))?;
        let certificate = PlatformCertificate::from_pem(&pem)
            .map_err(|error| Failure::failed(format!("certificate {serial}: {error}")))?;
        if !certificate.serial.eq_ignore_ascii_case(&serial) {
            return Err(Failure::failed(format!("certificate listed as {serial} has serial {}", certificate.serial)));
        }
        let path = out.join(format!("wechatpay_{serial}.pem"));
        std::fs::write(&path, pem).map_err(|error| Failure::failed(format!("{}: {error}", path.display())))?;
        println!("{serial} {} (valid until {})", path.display(), text("/expire_time"));
    }
    Ok(())
}
