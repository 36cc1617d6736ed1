//! What a test does that a user would do at WeChat Pay's end: pay an order, fail it, let it expire,
//! finish a refund. As Rust ([`Sandbox::pay`](crate::Sandbox::pay) …) and as HTTP endpoints under
//! `/sandbox/` (a prefix no WeChat Pay path has), unsigned, for tests in any language:
//!
//! | endpoint | what |
//! | --- | --- |
//! | `POST /sandbox/orders/{out_trade_no}/pay` | the user pays: `SUCCESS`, `TRANSACTION.SUCCESS` sent to the order's `notify_url` (a combined order's number pays all its sub-orders, with one notification) |
//! | `POST /sandbox/orders/{out_trade_no}/fail` | the payment fails: `PAYERROR` (no notification, as WeChat Pay) |
//! | `POST /sandbox/orders/{out_trade_no}/expire` | the order expires unpaid: `CLOSED` |
//! | `GET /sandbox/orders/{out_trade_no}` | the order as the query API shows it |
//! | `POST /sandbox/refunds/{out_refund_no}/{success,abnormal,closed}` | the refund ends so, `REFUND.*` sent to its `notify_url` |
//! | `GET /sandbox/deliveries` | every notification sent and each attempt's outcome |
//! | `POST /sandbox/faults/{fault}` | misbehave: on the next request, `?times=always` on every one, `?path=/v3/…` on every request to that path; `{fault}` is one of [`FAULTS`] (`slow` takes `?millis=`) |
//! | `DELETE /sandbox/faults` | stop misbehaving |
//! | `POST /sandbox/signer/{public-key,platform,platform2,sm2-public-key,sm2-platform}` | sign with that key from now on (rotation; a certificate is also listed by `/v3/certificates`; the `sm2-` ones sign as WeChat Pay does for national-cryptography merchants) |
//!
//! Answers are JSON; an unknown order or refund is 404 with `{"code", "message"}`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{json, Value};

use crate::combine::Combine;
use crate::deliveries;
use crate::ledger::{RefundStatus, TradeState};
use crate::{crypto, Misbehaviour, Shared, Signer};

/// The prefix of the control endpoints.
pub const PREFIX: &str = "/sandbox/";

/// The faults `POST /sandbox/faults/{fault}` takes.
pub const FAULTS: [&str; 11] = [
    "server-error",
    "frequency-limited",
    "bad-signature",
    "stale-timestamp",
    "unknown-serial",
    "sign-test",
    "missing-headers",
    "drop-connection",
    "drop-mid-body",
    "html-page",
    "slow",
];

/// A fault by its name in [`FAULTS`], `millis` for `slow`.
fn fault(name: &str, millis: u64) -> Option<Misbehaviour> {
    Some(match name {
        "server-error" => Misbehaviour::ServerError,
        "frequency-limited" => Misbehaviour::FrequencyLimited,
        "bad-signature" => Misbehaviour::BadSignature,
        "stale-timestamp" => Misbehaviour::StaleTimestamp,
        "unknown-serial" => Misbehaviour::UnknownSerial,
        "sign-test" => Misbehaviour::SignTest,
        "missing-headers" => Misbehaviour::MissingHeaders,
        "drop-connection" => Misbehaviour::DropConnection,
        "drop-mid-body" => Misbehaviour::DropMidBody,
        "html-page" => Misbehaviour::HtmlPage(StatusCode::BAD_GATEWAY),
        "slow" => Misbehaviour::Slow(std::time::Duration::from_millis(millis)),
        _ => return None,
    })
}

/// Sets a fault as the query says: on `path`, always, or on the next request.
fn misbehave(shared: &Shared, name: &str, query: &HashMap<String, String>) -> Result<Value, ControlError> {
    let millis = query.get("millis").and_then(|millis| millis.parse().ok()).unwrap_or(1_000);
    let misbehaviour = fault(name, millis).ok_or_else(|| ControlError {
        code: "INVALID_REQUEST",
        message: format!("no fault `{name}`; one of {}", FAULTS.join(", ")),
    })?;
    let mut state = shared.lock();
    match (query.get("path"), query.get("times").map(String::as_str)) {
        (Some(path), _) => {
            state.on_path.insert(path.clone(), misbehaviour);
        }
        (None, Some("always")) => state.always = Some(misbehaviour),
        (None, None | Some("once")) => state.queue.push_back(misbehaviour),
        (None, Some(other)) => {
            return Err(ControlError { code: "INVALID_REQUEST", message: format!("times={other}: once or always") })
        }
    }
    Ok(json!({ "fault": name }))
}

/// A control action that cannot be done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlError {
    /// `ORDER_NOT_EXIST`, `RESOURCE_NOT_EXISTS` or `INVALID_REQUEST`.
    pub code: &'static str,
    pub message: String,
}

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ControlError {}

fn no_order(out_trade_no: &str) -> ControlError {
    ControlError { code: "ORDER_NOT_EXIST", message: format!("no order {out_trade_no}") }
}

/// How a test settles an unpaid order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Settle {
    Pay,
    Fail,
    Expire,
}

/// Settles the unpaid order `out_trade_no`; its JSON after.
pub(crate) fn settle(shared: &Arc<Shared>, out_trade_no: &str, how: Settle) -> Result<Value, ControlError> {
    let combine = shared.lock().ledger.combine(out_trade_no).cloned();
    if let Some(combine) = combine {
        return settle_combine(shared, &combine, how);
    }
    let (order, notify) = {
        let mut state = shared.lock();
        let order = state.ledger.order_mut(out_trade_no).ok_or_else(|| no_order(out_trade_no))?;
        if !matches!(order.state, TradeState::NotPay | TradeState::UserPaying) {
            return Err(ControlError {
                code: "INVALID_REQUEST",
                message: format!("order {out_trade_no} is {}, not unpaid", order.state.as_str()),
            });
        }
        order.state = match how {
            Settle::Pay => TradeState::Success,
            Settle::Fail => TradeState::PayError,
            Settle::Expire => TradeState::Closed,
        };
        if how == Settle::Pay {
            order.success_time = Some(crypto::unix_now());
        }
        (order.to_json(), order.notify_url.clone().filter(|_| how == Settle::Pay))
    };
    if let Some(url) = notify {
        deliveries::send(shared, &url, "TRANSACTION.SUCCESS", order.clone());
    }
    Ok(order)
}

/// Settles every sub-order of a combined order; one notification for all of them.
fn settle_combine(shared: &Arc<Shared>, combine: &Combine, how: Settle) -> Result<Value, ControlError> {
    let mut state = shared.lock();
    for no in &combine.sub_orders {
        match state.ledger.order(None, no) {
            Some(order) if matches!(order.state, TradeState::NotPay | TradeState::UserPaying) => {}
            Some(order) => {
                return Err(ControlError {
                    code: "INVALID_REQUEST",
                    message: format!("sub-order {no} is {}, not unpaid", order.state.as_str()),
                })
            }
            None => return Err(no_order(no)),
        }
    }
    let now = crypto::unix_now();
    for no in &combine.sub_orders {
        if let Some(order) = state.ledger.order_mut(no) {
            order.state = match how {
                Settle::Pay => TradeState::Success,
                Settle::Fail => TradeState::PayError,
                Settle::Expire => TradeState::Closed,
            };
            order.success_time = (how == Settle::Pay).then_some(now);
        }
    }
    let value = state.ledger.combine_json(&combine.out_trade_no).unwrap_or_default();
    drop(state);
    if let (Settle::Pay, Some(url)) = (how, &combine.notify_url) {
        deliveries::send(shared, url, "TRANSACTION.SUCCESS", value.clone());
    }
    Ok(value)
}

/// Ends the refund `out_refund_no` in `status`; its JSON after.
pub(crate) fn finish_refund(
    shared: &Arc<Shared>,
    out_refund_no: &str,
    status: RefundStatus,
) -> Result<Value, ControlError> {
    let (refund, payload, notify) = {
        let mut state = shared.lock();
        let refund = state.ledger.refund_mut(out_refund_no).ok_or_else(|| ControlError {
            code: "RESOURCE_NOT_EXISTS",
            message: format!("no refund {out_refund_no}"),
        })?;
        if refund.status != RefundStatus::Processing || status == RefundStatus::Processing {
            return Err(ControlError {
                code: "INVALID_REQUEST",
                message: format!("refund {out_refund_no} is {}, not PROCESSING", refund.status.as_str()),
            });
        }
        refund.status = status;
        if status == RefundStatus::Success {
            refund.success_time = Some(crypto::unix_now());
        }
        let (amount, out_trade_no) = (refund.refund, refund.out_trade_no.clone());
        let out = (refund.to_json(), refund.payload(), refund.notify_url.clone());
        // A closed refund gives its amount back to the order's refundable balance.
        if status == RefundStatus::Closed {
            if let Some(order) = state.ledger.order_mut(&out_trade_no) {
                order.refunded -= amount;
            }
        }
        out
    };
    if let (Some(url), Some(event_type)) = (notify, status.event_type()) {
        deliveries::send(shared, &url, event_type, payload);
    }
    Ok(refund)
}

/// Answers a request under [`PREFIX`].
pub(crate) fn handle(shared: &Arc<Shared>, method: &str, path: &str, query: Option<&str>) -> Response {
    let segments: Vec<&str> = path.trim_start_matches(PREFIX).split('/').collect();
    let query: HashMap<String, String> = serde_urlencoded::from_str(query.unwrap_or_default()).unwrap_or_default();
    let result = match (method, segments.as_slice()) {
        ("POST", ["orders", no, action @ ("pay" | "fail" | "expire")]) => {
            let how = match *action {
                "pay" => Settle::Pay,
                "fail" => Settle::Fail,
                _ => Settle::Expire,
            };
            settle(shared, &crate::routes::percent_decode(no), how)
        }
        ("GET", ["orders", no]) => {
            let no = crate::routes::percent_decode(no);
            shared.lock().ledger.order(None, &no).map(|order| order.to_json()).ok_or_else(|| no_order(&no))
        }
        ("POST", ["refunds", no, action @ ("success" | "abnormal" | "closed")]) => {
            let status = match *action {
                "success" => RefundStatus::Success,
                "abnormal" => RefundStatus::Abnormal,
                _ => RefundStatus::Closed,
            };
            finish_refund(shared, &crate::routes::percent_decode(no), status)
        }
        ("GET", ["deliveries"]) => Ok(json!(shared.lock().deliveries.iter().collect::<Vec<_>>())),
        ("POST", ["faults", name]) => misbehave(shared, name, &query),
        ("DELETE", ["faults"]) => {
            let mut state = shared.lock();
            state.queue.clear();
            state.always = None;
            state.on_path.clear();
            Ok(json!({ "faults": [] }))
        }
        ("POST", ["signer", name]) => {
            let signer = match *name {
                "public-key" => Some(Signer::PublicKey),
                "platform" => Some(Signer::Platform),
                "platform2" => Some(Signer::Platform2),
                "sm2-public-key" => Some(Signer::Sm2PublicKey),
                "sm2-platform" => Some(Signer::Sm2Platform),
                _ => None,
            };
            match signer {
                Some(signer) => {
                    let mut state = shared.lock();
                    state.signer = signer;
                    // A rotation: the new certificate is listed by /v3/certificates too.
                    let listed = match signer {
                        Signer::Platform => Some(crate::CertChoice::Platform),
                        Signer::Platform2 => Some(crate::CertChoice::Platform2),
                        Signer::Sm2Platform => Some(crate::CertChoice::Sm2Platform),
                        Signer::PublicKey | Signer::Sm2PublicKey => None,
                    };
                    if let Some(listed) = listed.filter(|listed| !state.certificates.contains(listed)) {
                        state.certificates.push(listed);
                    }
                    drop(state);
                    Ok(json!({ "signer": name, "serial": shared.keys.signer_id(signer) }))
                }
                None => Err(ControlError { code: "INVALID_REQUEST", message: format!("no signer `{name}`") }),
            }
        }
        _ => Err(ControlError {
            code: "RESOURCE_NOT_EXISTS",
            message: format!("{method} {path}: no such control endpoint"),
        }),
    };
    match result {
        Ok(value) => (StatusCode::OK, axum::Json(value)).into_response(),
        Err(error) => {
            let status = match error.code {
                "INVALID_REQUEST" => StatusCode::BAD_REQUEST,
                _ => StatusCode::NOT_FOUND,
            };
            (status, axum::Json(json!({ "code": error.code, "message": error.message }))).into_response()
        }
    }
}
