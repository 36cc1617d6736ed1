//! Notifications POSTed to the merchant's `notify_url` by a background task, on WeChat Pay's
//! schedule, until the merchant answers 2xx.
//!
//! The schedule ([`SCHEDULE`]): at once, then 15 s, 15 s, 30 s, 3 min, 10 min, 20 min, 30 min,
//! 30 min, 30 min, 60 min, 3 h, 3 h, 3 h, 6 h and 6 h after the previous attempt (16 attempts
//! over about 24 h 4 min), each delay multiplied by [`Config::time_scale`](crate::Config::time_scale)
//! (`0.001` turns a day into under 90 s, the first retries into milliseconds). Each attempt is
//! signed afresh and carries the same notification `id`.
//!
//! Only to this machine unless told otherwise: a `notify_url` whose host is not a loopback
//! address (`127.0.0.0/8`, `::1`, `localhost`) is recorded as not delivered, so that a test with
//! a sample URL never sends anything to a real host ([`Config::deliver_beyond_loopback`](crate::Config::deliver_beyond_loopback)).
//!
//! Bounded: at most [`MAX_PENDING`] notifications wait for delivery at once (more are refused and
//! recorded as such), and the last [`MAX_RECORDS`] deliveries are kept for [`Sandbox::deliveries`](crate::Sandbox::deliveries).

use std::sync::{Arc, Weak};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::{notify, Shared, Tamper};

/// Seconds before each attempt.
pub const SCHEDULE: [u64; 16] =
    [0, 15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600];
/// Notifications waiting for delivery at most.
pub const MAX_PENDING: usize = 1_000;
/// Delivery records kept at most.
pub const MAX_RECORDS: usize = 1_000;

/// One try to POST a notification.
#[derive(Clone, Debug, Serialize)]
pub struct Attempt {
    /// The merchant's status, when it answered.
    pub status: Option<u16>,
    /// Why the POST failed (nothing listening, a reset), when it did.
    pub error: Option<String>,
}

/// A notification and what became of it.
#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    /// The notification's `id` (the same on every attempt).
    pub id: String,
    pub event_type: String,
    pub url: String,
    /// The decrypted resource.
    pub payload: Value,
    pub attempts: Vec<Attempt>,
    /// The merchant answered 2xx.
    pub delivered: bool,
    /// No attempt is left, or it was refused because [`MAX_PENDING`] were waiting.
    pub given_up: bool,
}

/// Queues `payload` as an `event_type` notification to `url`.
pub(crate) fn send(shared: &Arc<Shared>, url: &str, event_type: &str, payload: Value) {
    let id = format!("EV-{}", crate::crypto::hex_upper(&crate::crypto::random_bytes(10)));
    let record = Delivery {
        id: id.clone(),
        event_type: event_type.to_owned(),
        url: url.to_owned(),
        payload: payload.clone(),
        attempts: Vec::new(),
        delivered: false,
        given_up: false,
    };
    let refusal = match reqwest::Url::parse(url) {
        Err(error) => Some(format!("not delivered: `{url}` is not a URL ({error})")),
        Ok(parsed) if !shared.deliver_beyond_loopback && !is_loopback(&parsed) => Some(format!(
            "not delivered: {} is not a loopback address (Config::deliver_beyond_loopback allows it)",
            parsed.host_str().unwrap_or("the host")
        )),
        Ok(_) => None,
    };
    {
        let mut state = shared.lock();
        let pending = state.deliveries.iter().filter(|d| !d.delivered && !d.given_up).count();
        let refusal =
            refusal.or_else(|| (pending >= MAX_PENDING).then(|| format!("not delivered: {MAX_PENDING} are pending")));
        let refused = refusal.is_some();
        let attempts = refusal.map(|error| vec![Attempt { status: None, error: Some(error) }]).unwrap_or_default();
        if state.deliveries.len() >= MAX_RECORDS {
            state.deliveries.pop_front();
        }
        state.deliveries.push_back(Delivery { given_up: refused, attempts, ..record });
        if refused {
            return;
        }
    }
    let weak = Arc::downgrade(shared);
    let (url, event_type) = (url.to_owned(), event_type.to_owned());
    tokio::spawn(async move { run(weak, id, url, event_type, payload).await });
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

async fn run(shared: Weak<Shared>, id: String, url: String, event_type: String, payload: Value) {
    for (attempt, delay) in SCHEDULE.iter().enumerate() {
        let scale = match shared.upgrade() {
            Some(shared) => shared.time_scale,
            None => return,
        };
        tokio::time::sleep(Duration::from_secs_f64(*delay as f64 * scale)).await;
        // The sandbox was dropped: nobody to deliver for.
        let Some(shared) = shared.upgrade() else { return };
        let signer = shared.lock().signer;
        let resource_type = "encrypt-resource";
        let (headers, body) =
            notify::build(&shared.keys, signer, &event_type, resource_type, &payload, &Tamper::Id(id.clone()));
        let outcome = notify::post(&url, headers, body).await;
        let delivered = matches!(outcome, Ok((status, _)) if (200..300).contains(&status));
        let mut state = shared.lock();
        if let Some(record) = state.deliveries.iter_mut().find(|record| record.id == id) {
            record.attempts.push(match outcome {
                Ok((status, _)) => Attempt { status: Some(status), error: None },
                Err(error) => Attempt { status: None, error: Some(error.0) },
            });
            record.delivered = delivered;
            record.given_up = !delivered && attempt + 1 == SCHEDULE.len();
        }
        if delivered {
            return;
        }
    }
}
