//! Tracing: one span per request with its method, path template, status, Request-ID and
//! duration, and never a key, a signature or a sensitive value. (Its own test binary: tracing
//! caches per call site whether anyone listens, which races with tests on other threads.)

#[path = "server/mod.rs"]
mod server;
#[path = "it/support.rs"]
mod transport_support;

use server::keys;
use transport_support::*;

const APPID: &str = "wxd678efh567hg6787";

#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn each_request_is_traced_without_secrets() {
    use wechatpay::v3::profitsharing::orders::post::{Receivers, Request};
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("wechatpay=debug")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let server = public_key_server().await;
    let client = builder(&server)
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .apiv3_key(apiv3_key())
        .build()
        .unwrap();
    let request = Request::builder()
        .appid(APPID)
        .transaction_id("4208450740201411110007820472")
        .out_order_no("P20150806125346")
        .receivers(vec![Receivers::builder()
            .r#type("PERSONAL_OPENID")
            .account("86693852")
            .name("王小二")
            .amount(10)
            .description("分账")])
        .unfreeze_unsplit(true)
        .build()
        .unwrap();

    client.send(request).await.unwrap();

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("method=\"POST\"") && log.contains("path=\"/v3/profitsharing/orders\""), "{log}");
    assert!(
        log.contains("status=200") && log.contains("request_id=") && log.contains("duration_ms="),
        "{log}"
    );
    assert!(!log.contains("王小二"), "sensitive plaintext in the log: {log}");
    assert!(!log.contains(keys::APIV3_KEY), "the APIv3 key in the log: {log}");
    assert!(!log.contains("WECHATPAY2-SHA256-RSA2048"), "authorization in the log: {log}");
}
