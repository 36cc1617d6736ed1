//! The APIv2 notification endpoint for [axum](https://docs.rs/axum) (feature `axum`): XML in,
//! XML out.
//!
//! ```no_run
//! use axum::Router;
//! use wechatpay::apiv2::axum::handler;
//! use wechatpay::apiv2::notify::{V2Notification, V2Notifications};
//! use wechatpay::webhook::v2::Event;
//!
//! # fn app(notifications: V2Notifications) -> Router {
//! // notify_url of the refunds: https://shop.example/wechatpay/v2/refunds
//! Router::new().route(
//!     "/wechatpay/v2/refunds",
//!     handler(notifications, "refund-processed", |notification: V2Notification| async move {
//!         if let Event::RefundProcessed(refund) = &notification.event {
//!             let _ = (&refund.out_refund_no, &refund.refund_status); // record it (idempotently) …
//!         }
//!         Ok::<_, std::io::Error>(())
//!     }),
//! )
//! # }
//! ```
//!
//! Answers `200` with `<xml><return_code>SUCCESS</return_code>…</xml>` when the notification was
//! handled or is a duplicate of one that was; otherwise the status of
//! [`ProcessError::status`](crate::notify::ProcessError::status) with a `FAIL` document naming
//! what was wrong (`processing failed` when the handler failed), and WeChat Pay delivers it again.

use std::fmt;
use std::future::Future;

use axum::body::Bytes;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, MethodRouter};

use super::notify::{fail_body, success_body, V2Notification, V2Notifications};
use crate::notify::ProcessError;

/// A `POST` route for the APIv2 notifications of page `page` (`refund-processed`,
/// `transaction-success`, …), running `handler` once per notification (see
/// [`V2Notifications::process`]).
pub fn handler<S, F, Fut, E>(notifications: V2Notifications, page: &'static str, handler: F) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
    F: FnOnce(V2Notification) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: fmt::Display + Send + 'static,
{
    post(move |body: Bytes| async move {
        let xml = |status: StatusCode, body: String| {
            (status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
        };
        match notifications.process(page, &body, handler).await {
            Ok(_) => xml(StatusCode::OK, success_body()),
            Err(error) => {
                let message = match &error {
                    ProcessError::Handler { id, error } => {
                        tracing::warn!(id, %error, "the APIv2 notification handler failed");
                        "processing failed".to_owned()
                    }
                    ProcessError::Notify(error) => error.to_string(),
                };
                let response: Response = xml(error.status(), fail_body(&message));
                response
            }
        }
    })
}
