//! Where money moves, through the client against the sandbox's ledger: orders follow their state
//! (created, paid, failed, expired, closed), refunds move from PROCESSING to their end with their
//! notifications and the refundable balance enforced, notifications are delivered again until
//! the merchant answers 2xx, and the bills of the day are built from what happened.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use wechatpay::notify::axum::handler;
use wechatpay::v3::pay::transactions::jsapi::post::{Amount, Payer, Request};
use wechatpay::v3::pay::transactions::out_trade_no::by_out_trade_no;
use wechatpay::v3::refund::domestic::refunds::{by_out_refund_no, post as refund};
use wechatpay::webhook::Event;
use wechatpay::{Client, Notification};
use wechatpay_sdk_sandbox::{Config, RefundStatus, Sandbox, Unrecorded};

use crate::support::{apiv3_key, builder};

/// A sandbox that knows only what it was told (no canned orders), and a client with the APIv3 key.
async fn start() -> (Sandbox, Client) {
    let config = Config { unrecorded: Unrecorded::NotFound, ..crate::fixtures::config() };
    let sandbox = Sandbox::start(config).await.expect("sandbox starts");
    let client = builder(&sandbox).apiv3_key(apiv3_key()).build().expect("client");
    (sandbox, client)
}

/// An axum notify_url whose handler passes on each event as text, and fails the first `failures`.
async fn notify_url(client: &Client, failures: usize) -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let (events, received) = tokio::sync::mpsc::unbounded_channel();
    let failed = Arc::new(AtomicUsize::new(0));
    let route = handler(client.notifications().unwrap(), move |notification: Notification| async move {
        if failed.fetch_add(1, Ordering::SeqCst) < failures {
            return Err("not yet");
        }
        let text = match notification.event {
            Event::TransactionSuccess(order) => format!("paid {} {}", order.out_trade_no, order.amount.total),
            Event::RefundSuccess(refund) => format!("refunded {} {}", refund.out_refund_no, refund.amount.refund),
            other => format!("{other:?}"),
        };
        let _ = events.send(text);
        Ok(())
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/notify", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().route("/notify", route)).await });
    (url, received)
}

fn order(out_trade_no: &str, notify_url: &str, total: i64) -> Request {
    Request::builder()
        .appid("wxd678efh567hg6787")
        .description("QQ公仔")
        .out_trade_no(out_trade_no)
        .notify_url(notify_url)
        .amount(Amount::builder().total(total))
        .payer(Payer::builder().openid("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"))
        .build()
        .unwrap()
}

async fn state(client: &Client, out_trade_no: &str) -> Result<String, wechatpay::Error> {
    let query = by_out_trade_no::get::Request::builder().out_trade_no(out_trade_no).build().unwrap();
    Ok(client.send(query).await?.trade_state.to_string())
}

fn refund_of(out_trade_no: &str, out_refund_no: &str, amount: i64, notify_url: &str) -> refund::Request {
    refund::Request::builder()
        .out_trade_no(out_trade_no)
        .out_refund_no(out_refund_no)
        .notify_url(notify_url)
        .amount(refund::Amount::builder().refund(amount).total(100).currency("CNY"))
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_order_follows_its_state_from_creation_to_payment() {
    let (sandbox, client) = start().await;
    let (url, mut events) = notify_url(&client, 0).await;
    assert_eq!(state(&client, "PAY-1").await.unwrap_err().code(), Some("ORDER_NOT_EXIST"), "never created");

    client.send(order("PAY-1", &url, 100)).await.expect("created");
    assert_eq!(state(&client, "PAY-1").await.unwrap(), "NOTPAY");
    sandbox.pay("PAY-1").expect("paid");
    assert_eq!(events.recv().await.unwrap(), "paid PAY-1 100");
    assert_eq!(state(&client, "PAY-1").await.unwrap(), "SUCCESS");
    assert!(sandbox.pay("PAY-1").is_err(), "an order is paid once");

    client.send(order("FAIL-1", &url, 100)).await.unwrap();
    sandbox.fail("FAIL-1").unwrap();
    assert_eq!(state(&client, "FAIL-1").await.unwrap(), "PAYERROR");
    client.send(order("EXPIRE-1", &url, 100)).await.unwrap();
    sandbox.expire("EXPIRE-1").unwrap();
    assert_eq!(state(&client, "EXPIRE-1").await.unwrap(), "CLOSED");
    let deliveries = sandbox.deliveries();
    assert_eq!(deliveries.len(), 1, "only a payment is notified: {deliveries:?}");
    assert!(deliveries[0].delivered && deliveries[0].event_type == "TRANSACTION.SUCCESS");
}

#[tokio::test]
async fn a_closed_order_cannot_be_paid_and_a_paid_one_cannot_be_closed() {
    use wechatpay::v3::pay::transactions::out_trade_no::by_out_trade_no::close;
    let (sandbox, client) = start().await;
    let close = |no: &str| close::post::Request::builder().out_trade_no(no).build().unwrap();
    client.send(order("CLOSE-1", "https://example.com/n", 100)).await.unwrap();
    client.send(close("CLOSE-1")).await.expect("closed");
    assert_eq!(state(&client, "CLOSE-1").await.unwrap(), "CLOSED");
    assert!(sandbox.pay("CLOSE-1").is_err());

    client.send(order("CLOSE-2", "https://example.com/n", 100)).await.unwrap();
    sandbox.pay("CLOSE-2").unwrap();
    let delivery = &sandbox.deliveries()[0];
    let error = delivery.attempts[0].error.as_deref().unwrap_or_default();
    assert!(delivery.given_up && error.contains("example.com is not a loopback address"), "{delivery:?}");
    let error = client.send(close("CLOSE-2")).await.unwrap_err();
    assert_eq!((error.status().map(|s| s.as_u16()), error.code()), (Some(400), Some("ORDER_PAID")));
}

#[tokio::test]
async fn a_notification_is_delivered_again_until_the_merchant_answers_2xx() {
    let (sandbox, client) = start().await;
    let (url, mut events) = notify_url(&client, 2).await;
    client.send(order("RETRY-1", &url, 100)).await.unwrap();
    sandbox.pay("RETRY-1").unwrap();
    assert_eq!(events.recv().await.unwrap(), "paid RETRY-1 100");
    // The handler has answered; the sandbox records the answer right after.
    for _ in 0..200 {
        if sandbox.deliveries()[0].delivered {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let delivery = &sandbox.deliveries()[0];
    let statuses: Vec<Option<u16>> = delivery.attempts.iter().map(|attempt| attempt.status).collect();
    assert_eq!(statuses, [Some(500), Some(500), Some(204)], "{delivery:?}");
    assert!(delivery.delivered);
}

#[tokio::test]
async fn refunds_move_to_their_end_and_never_exceed_the_refundable_balance() {
    let (sandbox, client) = start().await;
    let (url, mut events) = notify_url(&client, 0).await;
    let unpaid = client.send(refund_of("REF-1", "R-0", 10, &url)).await;
    assert_eq!(unpaid.unwrap_err().code(), Some("ORDER_NOT_EXIST"));
    client.send(order("REF-1", &url, 100)).await.unwrap();
    sandbox.pay("REF-1").unwrap();
    assert_eq!(events.recv().await.unwrap(), "paid REF-1 100");

    let first = client.send(refund_of("REF-1", "R-1", 60, &url)).await.expect("refund accepted");
    assert_eq!(first.status.to_string(), "PROCESSING");
    let beyond = client.send(refund_of("REF-1", "R-2", 50, &url)).await.unwrap_err();
    assert_eq!((beyond.status().map(|s| s.as_u16()), beyond.code()), (Some(403), Some("NOT_ENOUGH")));

    sandbox.complete_refund("R-1", RefundStatus::Success).unwrap();
    assert_eq!(events.recv().await.unwrap(), "refunded R-1 60");
    let query = by_out_refund_no::get::Request::builder().out_refund_no("R-1").build().unwrap();
    assert_eq!(client.send(query).await.unwrap().status.to_string(), "SUCCESS");
    assert_eq!(state(&client, "REF-1").await.unwrap(), "REFUND");

    // A closed refund gives its amount back.
    client.send(refund_of("REF-1", "R-3", 40, &url)).await.unwrap();
    sandbox.complete_refund("R-3", RefundStatus::Closed).unwrap();
    client.send(refund_of("REF-1", "R-4", 40, &url)).await.expect("40 refundable again");
}

#[tokio::test]
async fn the_bills_of_the_day_are_built_from_the_ledger_with_their_digest() {
    use wechatpay::v3::bill::{fundflowbill, tradebill};
    let (sandbox, client) = start().await;
    client.send(order("BILL-1", "https://example.com/n", 250)).await.unwrap();
    sandbox.pay("BILL-1").unwrap();
    let today = sandbox.order("BILL-1").unwrap()["success_time"].as_str().unwrap()[..10].to_owned();

    for gzip in [false, true] {
        let mut request = tradebill::get::Request::builder().bill_date(today.as_str());
        if gzip {
            request = request.tar_type("GZIP");
        }
        let bill = client.send(request.build().unwrap()).await.expect("a bill today");
        let file = client.download_bill(&*bill).await.expect("digest checked");
        let text = String::from_utf8(file).unwrap();
        assert!(text.contains("`BILL-1,") && text.contains("`2.50,"), "{text}");
    }
    let flow =
        client.send(fundflowbill::get::Request::builder().bill_date(today.as_str()).build().unwrap()).await.unwrap();
    let text = String::from_utf8(client.download_bill(&*flow).await.unwrap()).unwrap();
    assert!(text.contains("`收入,`2.50,`2.50,"), "{text}");

    let empty = client.send(tradebill::get::Request::builder().bill_date("2001-01-01").build().unwrap()).await;
    assert_eq!(empty.unwrap_err().code(), Some("NO_STATEMENT_EXIST"));
}

#[tokio::test]
async fn the_control_endpoints_pay_and_show_deliveries_over_http() {
    let (sandbox, client) = start().await;
    let (url, mut events) = notify_url(&client, 0).await;
    client.send(order("HTTP-1", &url, 100)).await.unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let paid = http.post(format!("{}sandbox/orders/HTTP-1/pay", sandbox.base_url())).send().await.unwrap();
    assert_eq!(paid.status(), 200);
    let paid: serde_json::Value = paid.json().await.unwrap();
    assert_eq!(paid["trade_state"], "SUCCESS");
    assert_eq!(events.recv().await.unwrap(), "paid HTTP-1 100");
    let missing = http.post(format!("{}sandbox/orders/NOPE/pay", sandbox.base_url())).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let deliveries: serde_json::Value =
        http.get(format!("{}sandbox/deliveries", sandbox.base_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(deliveries[0]["event_type"], "TRANSACTION.SUCCESS");
    assert_eq!(deliveries[0]["delivered"], true);
}

#[tokio::test]
async fn faults_and_key_rotation_are_set_over_http() {
    let (sandbox, client) = start().await;
    client.send(order("FAULT-1", "https://example.com/n", 100)).await.unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let control = |method: reqwest::Method, path: &str| {
        http.request(method, format!("{}sandbox/{path}", sandbox.base_url())).send()
    };

    assert_eq!(control(reqwest::Method::POST, "faults/server-error").await.unwrap().status(), 200);
    let error = state(&client, "FAULT-1").await.unwrap_err();
    assert_eq!((error.status().map(|s| s.as_u16()), error.code()), (Some(500), Some("SYSTEM_ERROR")));
    assert_eq!(state(&client, "FAULT-1").await.unwrap(), "NOTPAY", "once: the next request only");

    let query = "faults/bad-signature?path=/v3/pay/transactions/out-trade-no/FAULT-1";
    assert_eq!(control(reqwest::Method::POST, query).await.unwrap().status(), 200);
    for _ in 0..2 {
        assert!(
            matches!(state(&client, "FAULT-1").await, Err(wechatpay::Error::Verify { .. })),
            "every request to the path"
        );
    }
    assert_eq!(control(reqwest::Method::DELETE, "faults").await.unwrap().status(), 200);
    assert_eq!(state(&client, "FAULT-1").await.unwrap(), "NOTPAY");
    assert_eq!(control(reqwest::Method::POST, "faults/no-such-fault").await.unwrap().status(), 400);
    control(reqwest::Method::POST, "faults/frequency-limited?times=always").await.unwrap();
    let error = state(&client, "FAULT-1").await.unwrap_err();
    assert_eq!((error.status().map(|s| s.as_u16()), error.code()), (Some(429), Some("FREQUENCY_LIMITED")));
    control(reqwest::Method::DELETE, "faults").await.unwrap();

    // The client trusts the platform certificate it downloads: a rotation to the second one is
    // picked up by a new download, as with WeChat Pay.
    let downloads = || sandbox.requests().iter().filter(|r| r.path_and_query == "/v3/certificates").count();
    let before = downloads();
    let rotated: serde_json::Value =
        control(reqwest::Method::POST, "signer/platform2").await.unwrap().json().await.unwrap();
    assert_eq!(rotated["serial"], crate::fixtures::keys::PLATFORM2_SERIAL);
    assert_eq!(state(&client, "FAULT-1").await.unwrap(), "NOTPAY");
    assert_eq!(downloads(), before + 1, "the unknown serial made the client download the certificates");
}

#[tokio::test]
async fn a_combined_order_is_paid_with_its_sub_orders_and_notified_once() {
    let (sandbox, client) = start().await;
    let (url, _events) = notify_url(&client, 0).await;
    let sub_order = |no: &str, total: i64| {
        serde_json::json!({
            "mchid": crate::fixtures::keys::MERCHANT_ID, "sub_mchid": "1900000110", "attach": "a", "description": "QQ公仔",
            "out_trade_no": no, "amount": { "total_amount": total, "currency": "CNY" }
        })
    };
    let body = serde_json::json!({
        "combine_appid": "wxd678efh567hg6787", "combine_mchid": crate::fixtures::keys::MERCHANT_ID,
        "combine_out_trade_no": "C-1", "combine_payer_info": { "openid": "o-1" }, "notify_url": url,
        "sub_orders": [sub_order("C-1-A", 100), sub_order("C-1-B", 250)]
    });
    let send = |method: &str, path: &str, fields: serde_json::Value| {
        let request = wechatpay::registry::find(method, path).unwrap().request_from_json(fields).unwrap();
        client.send_erased(request)
    };
    let prepay = send("POST", "/v3/combine-transactions/jsapi", serde_json::json!({ "json": body })).await.unwrap();
    assert!(prepay["prepay_id"].as_str().is_some_and(|id| id.starts_with("wx")));
    let query = || {
        send(
            "GET",
            "/v3/combine-transactions/out-trade-no/{combine_out_trade_no}",
            serde_json::json!({ "combine_out_trade_no": "C-1" }),
        )
    };
    let states = |combined: &serde_json::Value| -> Vec<String> {
        combined["sub_orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|sub| sub["trade_state"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(states(&query().await.unwrap()), ["NOTPAY", "NOTPAY"]);

    sandbox.pay("C-1").expect("the user pays the combined order");
    assert_eq!(states(&query().await.unwrap()), ["SUCCESS", "SUCCESS"]);
    assert_eq!(state(&client, "C-1-B").await.unwrap(), "SUCCESS", "a sub-order is an order of its own");
    let deliveries = sandbox.deliveries();
    assert_eq!(deliveries.len(), 1, "one notification for the combined order");
    assert_eq!(deliveries[0].payload["combine_out_trade_no"], "C-1");
    assert_eq!(deliveries[0].payload["sub_orders"][1]["amount"]["payer_amount"], 250);
}
