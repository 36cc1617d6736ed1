//! Times end to end: a typed time in a request goes out in its documented format (RFC 3339 at
//! `+08:00` for APIv3), a time in an answer reads as a value, and a time that is not in its
//! documented format is kept as it came and listed as a deviation, never lost.

use wechatpay::runtime::time::{Duration, OffsetDateTime, UtcOffset};
use wechatpay::runtime::{DateTime, DeviationKind, TimeFormat};
use wechatpay::v3::pay::transactions::jsapi::post::{Amount, Payer, Request};
use wechatpay::v3::pay::transactions::out_trade_no::by_out_trade_no;
use wechatpay::Client;
use wechatpay_sdk_sandbox::{Config, Misbehaviour, Sandbox, Unrecorded};

use crate::support::{apiv3_key, builder};

async fn start() -> (Sandbox, Client) {
    let config = Config { unrecorded: Unrecorded::NotFound, ..crate::fixtures::config() };
    let sandbox = Sandbox::start(config).await.expect("sandbox starts");
    let client = builder(&sandbox).apiv3_key(apiv3_key()).build().expect("client");
    (sandbox, client)
}

fn order(out_trade_no: &str, time_expire: impl Into<DateTime>) -> Request {
    Request::builder()
        .appid("wxd678efh567hg6787")
        .description("QQ公仔")
        .out_trade_no(out_trade_no)
        .notify_url("https://shop.example.com/wechatpay/notify")
        .amount(Amount::builder().total(100))
        .payer(Payer::builder().openid("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"))
        .time_expire(time_expire)
        .build()
        .unwrap()
}

fn query(out_trade_no: &str) -> by_out_trade_no::get::Request {
    by_out_trade_no::get::Request::builder().out_trade_no(out_trade_no).build().unwrap()
}

/// The `time_expire` of the last order the sandbox received, as it arrived.
fn sent_time_expire(sandbox: &Sandbox) -> String {
    let request = sandbox.requests().into_iter().rev().find(|r| r.method == "POST").expect("an order was sent");
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    body["time_expire"].as_str().expect("time_expire is a string").to_owned()
}

#[tokio::test]
async fn a_typed_time_reaches_the_service_as_rfc_3339_at_china_time() {
    let (sandbox, client) = start().await;
    // 2026-08-01 02:00:00 UTC, with a fraction the wire does not carry.
    let utc = OffsetDateTime::from_unix_timestamp(1_785_549_600).unwrap() + Duration::milliseconds(250);
    client.send(order("TIME-1", utc)).await.expect("accepted: the sandbox checks the format");
    assert_eq!(sent_time_expire(&sandbox), "2026-08-01T10:00:00+08:00", "UTC becomes +08:00, to the second");

    // A value with an offset of its own keeps it (the same instant).
    let tokyo = utc.to_offset(UtcOffset::from_hms(9, 0, 0).unwrap());
    client.send(order("TIME-2", tokyo)).await.expect("accepted");
    assert_eq!(sent_time_expire(&sandbox), "2026-08-01T11:00:00+09:00");

    // A text in another of the formats is written in the documented one.
    client.send(order("TIME-3", "20260801100000")).await.expect("accepted");
    assert_eq!(sent_time_expire(&sandbox), "2026-08-01T10:00:00+08:00");

    // A text that is no time goes as given, and the sandbox (as WeChat Pay) refuses it.
    let error = client.send(order("TIME-4", "in half an hour")).await.expect_err("no time");
    assert_eq!((error.status().map(|s| s.as_u16()), error.code()), (Some(400), Some("PARAM_ERROR")));
    assert_eq!(sent_time_expire(&sandbox), "in half an hour");
}

#[tokio::test]
async fn a_time_in_an_answer_reads_as_a_value_with_its_text_kept() {
    let (sandbox, client) = start().await;
    client.send(order("PAID-1", OffsetDateTime::now_utc() + Duration::minutes(30))).await.unwrap();
    let before = OffsetDateTime::now_utc() - Duration::minutes(5);
    sandbox.pay("PAID-1").unwrap();
    let paid = client.send(query("PAID-1")).await.unwrap();
    assert!(paid.deviations().is_empty(), "{:?}", paid.deviations());
    let success_time = paid.success_time.as_ref().expect("a paid order says when");
    let sent = paid.json().unwrap()["success_time"].as_str().unwrap().to_owned();
    assert_eq!(success_time.to_string(), sent, "Display is the text as it came");
    assert_eq!(success_time.format(), Some(TimeFormat::Rfc3339));
    let at = success_time.to_time().expect("a value");
    assert_eq!(at.offset(), UtcOffset::from_hms(8, 0, 0).unwrap(), "China time, as sent");
    assert!(at > before && at <= OffsetDateTime::now_utc(), "{at}");
}

#[tokio::test]
async fn a_malformed_time_in_an_answer_is_kept_and_listed_as_a_deviation() {
    let (sandbox, client) = start().await;
    sandbox.misbehave(Misbehaviour::SignedBody(
        br#"{"out_trade_no": "ODD-1", "mchid": "1230000109", "appid": "wxd678efh567hg6787",
             "trade_state": "SUCCESS", "trade_state_desc": "ok", "amount": {"total": 100},
             "success_time": "2026/08/01 10:00"}"#
            .to_vec(),
    ));
    let reply = client.send(query("ODD-1")).await.expect("a verified answer always decodes");
    let success_time = reply.success_time.as_ref().expect("kept, never lost");
    assert_eq!((success_time.as_str(), success_time.to_time()), ("2026/08/01 10:00", None));
    let deviations = reply.deviations();
    assert_eq!(deviations.len(), 1, "{deviations:?}");
    assert_eq!(deviations[0].path, "success_time");
    assert_eq!(deviations[0].kind, DeviationKind::Format { expected: "a date-time (RFC 3339)" });
    assert_eq!(reply.amount.total, 100, "the rest is typed");
    assert!(reply.strict().is_err(), "strict refuses an answer off its documented shape");
}

/// A payscore service order whose service starts when the user confirms it.
fn service_order(start_time: &str) -> wechatpay::v3::payscore::serviceorder::post::Request {
    use wechatpay::v3::payscore::serviceorder::post::{Request, RiskFund, ServiceorderTimeRange};
    Request::builder()
        .out_order_no("SO-1")
        .appid("wxd678efh567hg6787")
        .service_id("500001")
        .service_introduction("Power bank rental")
        .time_range(ServiceorderTimeRange::builder().start_time(start_time))
        .risk_fund(RiskFund::builder().name("DEPOSIT").amount(9900))
        .notify_url("https://shop.example.com/payscore/notify")
        .build()
        .unwrap()
}

/// Payscore takes `OnAccept` where the start time belongs (the service starts as the user
/// confirms the order): the text goes out as given and the sandbox takes it, as WeChat Pay does;
/// any other word there is refused.
#[tokio::test]
async fn a_payscore_order_starting_on_acceptance_is_sent_and_taken() {
    let (sandbox, client) = start().await;
    client.send(service_order("OnAccept")).await.expect("taken");
    let request = sandbox.requests().into_iter().rev().find(|r| r.method == "POST").expect("sent");
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["time_range"]["start_time"], "OnAccept");
    let error = client.send(service_order("Tomorrow")).await.expect_err("not a time");
    assert_eq!(error.code(), Some("PARAM_ERROR"), "{error}");
}
