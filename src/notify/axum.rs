//! The notification endpoint for [axum](https://docs.rs/axum) (feature `axum`).
//!
//! ```no_run
//! use axum::Router;
//! use wechatpay::notify::{axum::handler, Event, Notification, Notifications};
//!
//! # fn app(notifications: Notifications) -> Router {
//! Router::new().route(
//!     "/wechatpay/notify",
//!     handler(notifications, |notification: Notification| async move {
//!         if let Event::TransactionSuccess(transaction) = &notification.event {
//!             // mark `transaction.out_trade_no` paid (idempotently) …
//!             let _ = transaction;
//!         }
//!         Ok::<_, std::io::Error>(())
//!     }),
//! )
//! # }
//! ```
//!
//! Answers, as WeChat Pay expects: `204 No Content` when the notification was processed or is a
//! duplicate of one that was; otherwise a 4xx/5xx status ([`ProcessError::status`]) with
//! `{"code":"FAIL","message":"…"}`, the message naming what was wrong with the notification, or
//! `processing failed` when the handler failed (the handler's error is logged, not sent).
//!
//! For a handler of your own (with axum `State`, say), call [`Notifications::process`] and return
//! its result: `Processed`, `NotifyError` and `ProcessError` implement [`IntoResponse`].
//!
//! Several merchants in one service: [`merchant_router`] serves `POST /{mchid}` for every merchant
//! of a [`Merchants`] registry, each verified and decrypted with its own keys.

use std::fmt;
use std::future::Future;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, MethodRouter};
use axum::Router;

use super::{fail_body, Notification, Notifications, NotifyError, ProcessError, Processed};
use crate::merchants::Merchants;
use crate::Client;

/// A `POST` route running `handler` once per notification (see [`Notifications::process`]).
///
/// `handler` receives the verified, decrypted notification; `Ok` records it as handled and
/// answers 204, `Err` answers 500 and lets WeChat Pay deliver it again.
pub fn handler<S, F, Fut, E>(notifications: Notifications, handler: F) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
    F: FnOnce(Notification) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: fmt::Display + Send + 'static,
{
    post(move |headers: HeaderMap, body: Bytes| async move { notifications.process(&headers, &body, handler).await })
}

/// `POST /{mchid}` for every merchant of `merchants` (also those added later): the notification
/// is verified and decrypted with that merchant's keys and APIv3 key, and `handler` runs once per
/// notification (see [`Notifications::process`]) with that merchant's client. Nest it where the
/// merchants' `notify_url`s point:
///
/// ```no_run
/// use axum::Router;
/// use wechatpay::merchants::Merchants;
/// use wechatpay::notify::{axum::merchant_router, Notification};
/// use wechatpay::Client;
///
/// # fn app(merchants: Merchants) -> Router {
/// // notify_url: https://shop.example/wechatpay/notify/{mchid}
/// Router::new().nest(
///     "/wechatpay/notify",
///     merchant_router(merchants, |client: Client, notification: Notification| async move {
///         let _ = (client.mchid(), notification.event); // mark the order paid (idempotently) …
///         Ok::<_, std::io::Error>(())
///     }),
/// )
/// # }
/// ```
///
/// A merchant the registry does not hold is answered `404 Not Found` and logged (its id, shortened,
/// and the body's length; never the body); a merchant held without an APIv3 key, `500`.
pub fn merchant_router<S, F, Fut, E>(merchants: Merchants, handler: F) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    F: FnOnce(Client, Notification) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: fmt::Display + Send + 'static,
{
    let route = move |Path(mchid): Path<String>, headers: HeaderMap, body: Bytes| async move {
        let (Some(client), Some(notifications)) = (merchants.client(&mchid), merchants.notifications(&mchid)) else {
            // The path is the sender's: shortened, and quoted by `?`.
            let shown: String = mchid.chars().take(32).collect();
            if merchants.contains(&mchid) {
                tracing::error!(mchid = ?shown, "notification for a merchant held without its APIv3 key: refused");
                return fail(StatusCode::INTERNAL_SERVER_ERROR, "notifications are not configured for this merchant");
            }
            let bytes = body.len();
            tracing::warn!(mchid = ?shown, bytes, "notification for a merchant this service does not know: refused");
            return fail(StatusCode::NOT_FOUND, "unknown merchant");
        };
        let handler = handler.clone();
        notifications.process(&headers, &body, move |notification| handler(client, notification)).await.into_response()
    };
    Router::new().route("/{mchid}", post(route))
}

fn fail(status: StatusCode, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], fail_body(message)).into_response()
}

impl IntoResponse for Processed {
    /// `204 No Content`.
    fn into_response(self) -> Response {
        StatusCode::NO_CONTENT.into_response()
    }
}

impl IntoResponse for NotifyError {
    /// `204` for a duplicate, else [`NotifyError::status`] with `{"code":"FAIL","message":…}`.
    fn into_response(self) -> Response {
        if self.is_duplicate() {
            return StatusCode::NO_CONTENT.into_response();
        }
        let status = self.status();
        // A notification failing verification may be anyone's: such lines are rate-limited.
        let logged = if matches!(self, NotifyError::Verify(_)) { super::REJECTED.allow() } else { Some(0) };
        if let Some(suppressed) = logged {
            tracing::warn!(status = status.as_u16(), error = %self, suppressed, "notification rejected");
        }
        fail(status, &self.to_string())
    }
}

impl<E: fmt::Display> IntoResponse for ProcessError<E> {
    /// [`ProcessError::status`] with `{"code":"FAIL","message":…}`; a handler error is logged, and
    /// answered with `processing failed`.
    fn into_response(self) -> Response {
        match self {
            ProcessError::Notify(error) => error.into_response(),
            ProcessError::Handler { ref id, ref error } => {
                tracing::error!(id, %error, "processing a notification failed");
                fail(self.status(), &self.message())
            }
        }
    }
}
