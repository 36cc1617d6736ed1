//! The README's Rust code, compiled: `tests/readme.rs` checks that each `rust` block of the README
//! appears here line for line, so the README cannot drift from the API. Not meant to be run (the
//! runnable payment is `examples/quickstart.rs`).
//!
//! Not formatted by rustfmt: its lines are the README's, laid out for reading there.
#![cfg_attr(rustfmt, rustfmt::skip)]

// The snippets end where the README stops: what they bind last is not used, nothing is called.
#![allow(dead_code, unused_variables)]

/// Stands for the merchant's own error type.
#[derive(Debug)]
struct MyError;

impl std::fmt::Display for MyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("could not record the payment")
    }
}

impl std::error::Error for MyError {}

impl From<wechatpay::notify::NotifyError> for MyError {
    fn from(_: wechatpay::notify::NotifyError) -> Self {
        MyError
    }
}

/// Stands for the merchant's own bookkeeping.
async fn mark_paid(out_trade_no: &str, total: i64) -> Result<(), MyError> {
    println!("{out_trade_no}: {total} fen paid");
    Ok(())
}

/// "A payment, end to end": the client.
fn the_client() -> Result<wechatpay::Client, Box<dyn std::error::Error>> {
use wechatpay::{ApiV3Key, Client, MerchantKey, PublicKey};

let client = Client::builder("1900000109", "3775B6A45ACD588826D15E583A95F5DD2C6B5C94", MerchantKey::from_pem_file("apiclient_key.pem")?)
    .wechatpay_public_key("PUB_KEY_ID_0114232134912410000000000000", PublicKey::from_pem_file("pub_key.pem")?)
    .apiv3_key(ApiV3Key::new(&std::env::var("WECHATPAY_APIV3_KEY")?)?)
    .build()?;
    Ok(client)
}

/// "A payment, end to end": the order and what the mini-program needs to pay it.
async fn the_order(client: wechatpay::Client) -> Result<(), Box<dyn std::error::Error>> {
use wechatpay::runtime::time::{Duration, OffsetDateTime};
use wechatpay::v3::pay::transactions::jsapi::post::{Amount, Payer, Request};

let order = Request::builder()
    .appid("wxd678efh567hg6787")
    .description("Image形象店-深圳腾大-QQ公仔")
    .out_trade_no("1217752501201407033233368018")
    .notify_url("https://shop.example.com/wechatpay/notify")
    .amount(Amount::builder().total(100))
    .payer(Payer::builder().openid("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"))
    .time_expire(OffsetDateTime::now_utc() + Duration::minutes(30))  // sent as 2026-…T…+08:00
    .build()?;                      // Err names every missing required field by JSON path
let prepay = client.send(order).await?;
let params = client.jsapi_pay_params("wxd678efh567hg6787", &prepay.prepay_id).await?; // for wx.requestPayment
    Ok(())
}

/// "A payment, end to end": the notification route.
fn the_route(client: wechatpay::Client) -> Result<axum::Router, Box<dyn std::error::Error>> {
use wechatpay::notify::{axum::handler, Event, Notification};

let notifications = client.notifications()?;   // verified with the client's keys, opened with the APIv3 key
let app = axum::Router::new().route("/wechatpay/notify", handler(notifications, |notification: Notification| async move {
    let notification = notification.strict()?;  // never act on a defaulted amount
    if let Event::TransactionSuccess(paid) = &notification.event {
        mark_paid(&paid.out_trade_no, paid.amount.total).await?;  // idempotently: it may come twice
    }
    Ok::<_, MyError>(())
}));
    Ok(app)
}

/// "A payment, end to end": the query.
async fn the_query(client: wechatpay::Client) -> Result<(), Box<dyn std::error::Error>> {
use wechatpay::v3::pay::transactions::out_trade_no::by_out_trade_no::get::Request;

let query = Request::builder().out_trade_no("1217752501201407033233368018").build()?;
let order = client.send(query).await?.strict()?;
println!("{} is {} ({} fen)", order.out_trade_no, order.trade_state, order.amount.total);
if let Some(paid) = &order.success_time {    // a DateTime: the text as sent, and its value
    println!("paid at {paid}, Unix time {:?}", paid.to_time().map(|at| at.unix_timestamp()));
}
    Ok(())
}

/// "A payment, end to end": the refund, and "Errors": a refund whose answer cannot be trusted is
/// queried, not repeated.
async fn the_refund(client: wechatpay::Client) -> Result<(), Box<dyn std::error::Error>> {
use wechatpay::v3::refund::domestic::refunds::{by_out_refund_no, post};

let refund = post::Request::builder()
    .out_trade_no("1217752501201407033233368018")
    .out_refund_no("R1217752501201407033233368018")
    .amount(post::Amount::builder().refund(100).total(100).currency("CNY"))
    .build()?;
match client.send(refund).await {
    Ok(refund) => println!("refund {} is {:?}", refund.out_refund_no, refund.status),
    // It may have happened: ask before anything else, and retry only with the same number.
    Err(error) if error.outcome_unknown() => {
        let query = by_out_refund_no::get::Request::builder().out_refund_no("R1217752501201407033233368018").build()?;
        let refund = client.send(query).await?;
        println!("refund {} is {:?}", refund.out_refund_no, refund.status);
    }
    Err(error) => return Err(error.into()), // refused by WeChat Pay (verified), or never sent
}
    Ok(())
}

/// "Service providers".
async fn service_provider(client: wechatpay::Client) -> Result<(), Box<dyn std::error::Error>> {
use wechatpay::v3::pay::partner::transactions::jsapi::post::{Amount, Payer, Request};

let order = Request::builder()                 // sp_mchid: the client's merchant id, filled in
    .sp_appid("wx8888888888888888")
    .sub_mchid("1900000109")                    // the sub-merchant the payment is for
    .description("Image形象店-深圳腾大-QQ公仔")
    .out_trade_no("1217752501201407033233368018")
    .notify_url("https://provider.example.com/wechatpay/notify")
    .amount(Amount::builder().total(100))
    .payer(Payer::builder().sp_openid("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"))
    .build()?;
let prepay = client.send(order).await?;
let params = client.jsapi_pay_params("wx8888888888888888", &prepay.prepay_id).await?;
    Ok(())
}

/// "What the service really sends".
async fn deviations(
    client: wechatpay::Client,
    query: wechatpay::v3::pay::transactions::out_trade_no::by_out_trade_no::get::Request,
) -> Result<(), Box<dyn std::error::Error>> {
let order = client.send(query).await?;
for deviation in order.deviations() {
    println!("{deviation}");                   // e.g. `amount.total`: required but absent (read as its default)
}
let everything = order.json()?;                // the whole verified body, documented members or not
let order = order.strict()?;                   // Err(Error::Deviated) unless the answer is as documented
    Ok(())
}

// "One type per concept": one function for a query's answer and a notification's payload.
use wechatpay::types::Transaction;
use wechatpay::v3::pay::transactions::out_trade_no::by_out_trade_no;
use wechatpay::webhook::Event;

async fn record(order: &Transaction) -> Result<(), MyError> {
    println!("{} is {}", order.out_trade_no, order.trade_state);
    Ok(())
}

/// The calls.
async fn one_type(
    client: wechatpay::Client,
    notification: wechatpay::Notification,
) -> Result<(), Box<dyn std::error::Error>> {
// From a query…
let query = by_out_trade_no::get::Request::builder().out_trade_no("1217752501201407033233368018").build()?;
let order = client.send(query).await?;
record(&order).await?;

// …and from a notification.
if let Event::TransactionSuccess(transaction) = &notification.event {
    record(transaction).await?;
}
    Ok(())
}

/// "Responses in your tests".
fn in_tests() -> Result<(), Box<dyn std::error::Error>> {
let order: Transaction = serde_json::from_value(serde_json::json!({
    "out_trade_no": "1217752501201407033233368018",
    "trade_state": "SUCCESS",
    "amount": { "total": 100 },
}))?;
assert_eq!(order.amount.total, 100);
    Ok(())
}

/// "Paging".
async fn paging(client: wechatpay::Client) -> Result<(), Box<dyn std::error::Error>> {
use futures_util::StreamExt as _;
use wechatpay::v3::marketing::favor::stocks::get::Request;

let request = Request::builder().offset(0).limit(10).stock_creator_mchid("1900000109").build()?;
let mut pages = std::pin::pin!(client.pages(request));
while let Some(page) = pages.next().await {
    let page = page?;
    println!("{} of {} stocks", page.data.as_ref().map_or(0, Vec::len), page.total_count);
}
    Ok(())
}

/// "The registry".
async fn registry(client: wechatpay::Client) -> Result<(), Box<dyn std::error::Error>> {
use wechatpay::registry;

let info = registry::find("GET", "/v3/refund/domestic/refunds/R-1217").expect("documented");
assert_eq!(info.path, "/v3/refund/domestic/refunds/{out_refund_no}");
let request = info.request_from_json(serde_json::json!({ "out_refund_no": "R-1217" }))?;
let reply = client.send_erased(request).await?;          // the typed response, as JSON
println!("{}: {}", info.title, reply.into_inner());
let payload = registry::notification("REFUND.SUCCESS").expect("documented");
println!("{}", payload.decode_payload(br#"{"out_refund_no": "R-1217", "refund_status": "SUCCESS"}"#)?);
    Ok(())
}

/// "Notifications in any framework": what a handler does with the request's headers and body.
async fn notifications(
    client: wechatpay::Client,
    headers: http::HeaderMap,
    body: bytes::Bytes,
) -> Result<(u16, String), wechatpay::Error> {
    let answer = {
use wechatpay::notify::{fail_body, Event, Notification};

let notifications = client.notifications()?;      // the client's keys and APIv3 key
// In any framework: the request's http::HeaderMap and its raw body bytes.
let answer = notifications.process(&headers, &body, |notification: Notification| async move {
    if let Event::TransactionSuccess(transaction) = &notification.event {
        record(transaction).await?;  // your code
    }
    Ok::<_, MyError>(())
}).await;
match answer {
    Ok(_) => (204, String::new()),                   // handled, or a duplicate of one handled
    Err(error) => (error.status().as_u16(), fail_body(&error.message())),
}
    };
    Ok(answer)
}

/// "Running on several instances": the replay guard shared on Redis or PostgreSQL.
#[cfg(all(feature = "redis", feature = "postgres"))]
async fn several_instances(client: wechatpay::Client) -> Result<(), Box<dyn std::error::Error>> {
use std::time::Duration;
use wechatpay::notify::{postgres::PostgresReplayGuard, redis::RedisReplayGuard};

// On Redis:
let guard = RedisReplayGuard::connect("redis://10.0.0.5:6379/").await?;
let notifications = client.notifications()?.replay_guard(guard.lease(Duration::from_secs(60)));
// Or on PostgreSQL, its table created where missing:
let guard = PostgresReplayGuard::connect("postgres://app@db/shop").await?;
guard.migrate().await?;
let notifications = client.notifications()?.replay_guard(guard.lease(Duration::from_secs(60)));
    Ok(())
}

/// "When the outcome is unknown": a refund whose answer cannot be trusted is queried, not repeated.
async fn outcome_unknown(
    client: wechatpay::Client,
    refund: wechatpay::v3::refund::domestic::refunds::post::Request,
    out_refund_no: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    use wechatpay::v3::refund::domestic::refunds::by_out_refund_no;
match client.send(refund).await {
    Ok(refund) => println!("refund {} is {:?}", refund.out_refund_no, refund.status),
    // It may have happened: ask before anything else, and retry only with the same number.
    Err(error) if error.outcome_unknown() => {
        let query = by_out_refund_no::get::Request::builder().out_refund_no(out_refund_no).build()?;
        let refund = client.send(query).await?;
        println!("refund {} is {:?}", refund.out_refund_no, refund.status);
    }
    Err(error) => return Err(error.into()), // refused by WeChat Pay (verified), or never sent
}
    Ok(())
}

/// "Guomi (national cryptography)": the client of a merchant with an SM2 key.
fn guomi_client() -> Result<wechatpay::Client, Box<dyn std::error::Error>> {
use wechatpay::{ApiV3Key, Client, MerchantKey};
// The SM2 key of the merchant's SM2 API certificate, and its serial: the key decides the mode.
let client = Client::builder("1900000109", "5E0B1A9C6F8D4E3A2B1C0D9E8F7A6B5C4D3E2F10", MerchantKey::from_pem_file("apiclient_sm2_key.pem")?)
    .apiv3_key(ApiV3Key::new(&std::env::var("WECHATPAY_APIV3_KEY")?)?)
    .build()?;
    Ok(client)
}

/// "Encrypted bills": a sub-merchant's fund-flow bill, decrypted into a file.
async fn encrypted_bills(client: wechatpay::Client) -> Result<(), Box<dyn std::error::Error>> {
use wechatpay::v3::bill::sub_merchant_fundflowbill::get::{Algorithm, Request};
use wechatpay::BillFile;

let request = Request::builder().sub_mchid("1900000109").bill_date("2024-03-01").algorithm(Algorithm::Sm4Gcm).account_type("BASIC").build()?;
let answer = client.send(request.clone()).await?;
for file in BillFile::sub_merchant_fundflow(&request, &answer) {
    let mut out = tokio::fs::File::create("fundflow.csv").await?;
    client.download_bill_to(file, &mut out).await?;   // on Err, delete the file: it is not the bill
}
    Ok(())
}

/// "APIv2": a red packet.
#[cfg(feature = "v2-mmpaymkttransfers")]
async fn apiv2() -> Result<(), Box<dyn std::error::Error>> {
use wechatpay::v2::mmpaymkttransfers::sendredpack::post::Request;
use wechatpay::{ApiV2Key, Client, ClientIdentity, MerchantKey};

let client = Client::builder("1900000109", "MERCHANT_CERT_SERIAL", MerchantKey::from_pem_file("apiclient_key.pem")?)
    .apiv2_key(ApiV2Key::new("APIV2KEY_32_CHARACTERS_LONG_ABCD")?)
    .client_identity(ClientIdentity::from_pem_files("apiclient_cert.pem", "apiclient_key.pem")?)
    .build()?;

let request = Request::builder()
    .mch_billno("10000098201411111234567890")
    .wxappid("wx8888888888888888")
    .send_name("Shop")
    .re_openid("oxTWIuGaIt6gTKsQRLau2M0yL16E")
    .total_amount(1000)                  // fen
    .total_num(1)
    .wishing("Thanks for playing")
    .client_ip("192.168.0.1")
    .act_name("Lantern riddles")
    .remark("The more you guess, the more you get")
    .build()?;                           // mch_id is the client's; nonce_str and sign the transport's
match client.v2().mmpaymkttransfers().sendredpack().post(request).await {
    Ok(sent) => println!("red packet {} sent", sent.send_listid),
    // SYSTEMERROR and the like: the outcome is not known yet; query, then resend with the same mch_billno.
    Err(error) if error.outcome_unknown() => println!("query the red packet, then decide"),
    Err(error) => println!("refused: {:?} {:?}", error.code(), error.message()), // err_code, err_code_des
}
    Ok(())
}

/// "APIv2": a refund notification.
async fn apiv2_notifications(client: wechatpay::Client, body: Vec<u8>) -> Result<String, Box<dyn std::error::Error>> {
use wechatpay::apiv2::notify::{fail_body, success_body, V2Notification};
use wechatpay::webhook::v2::Event;

let notifications = client.notifications_v2()?;  // the APIv2 key (and the APIv3 key, if any)
let answer = notifications.process("refund-processed", &body, |notification: V2Notification| async move {
    if let Event::RefundProcessed(refund) = &notification.event {
        println!("refund {} is {}", refund.out_refund_no, refund.refund_status);  // record it (idempotently)
    }
    Ok::<_, MyError>(())
}).await;
let xml = match answer {
    Ok(_) => success_body(),                       // handled, or a duplicate of one handled
    Err(error) => fail_body(&error.message()),     // WeChat Pay delivers it again
};
    Ok(xml)
}

fn main() {}

/// "Testing your integration": a user's test of a payment and its notification, against the
/// sandbox (run by `cargo test`: this example is built as a test, see Cargo.toml).
#[cfg(test)]
mod testing_your_integration {
use wechatpay::v3::pay::transactions::jsapi::post::{Amount, Payer, Request};
use wechatpay::v3::pay::transactions::out_trade_no::by_out_trade_no;
use wechatpay::notify::axum::handler;
use wechatpay::webhook::Event;
use wechatpay::sandbox::{client_builder, Config, Sandbox};
use wechatpay::Notification;

#[tokio::test]
async fn an_order_is_paid_and_its_notification_handled() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start(Config::default()).await?; // fresh keys for both sides
    let client = client_builder(&sandbox)?.build()?; // its merchant, keys and URL

    // The merchant's notify_url: an axum handler that passes on the orders it is told are paid.
    let (paid, mut notified) = tokio::sync::mpsc::unbounded_channel();
    let route = handler(client.notifications()?, move |notification: Notification| async move {
        if let Event::TransactionSuccess(transaction) = notification.event {
            paid.send(transaction.out_trade_no.clone())?;
        }
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let notify_url = format!("http://{}/notify", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().route("/notify", route)).await });

    let order = Request::builder().appid("wxd678efh567hg6787").description("QQ公仔").out_trade_no("T-1")
        .notify_url(notify_url).amount(Amount::builder().total(100)).payer(Payer::builder().openid("o-1")).build()?;
    client.send(order).await?;
    sandbox.pay("T-1")?; // the user pays: TRANSACTION.SUCCESS is POSTed to notify_url
    assert_eq!(notified.recv().await.as_deref(), Some("T-1"));
    let query = by_out_trade_no::get::Request::builder().out_trade_no("T-1").build()?;
    assert_eq!(client.send(query).await?.trade_state.to_string(), "SUCCESS");
    Ok(())
}
}
