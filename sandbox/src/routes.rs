//! From a raw request to a reply: authentication, `Wechatpay-Serial`, sensitive fields, then the route.
//! Nothing here panics on client input: every problem becomes a 4xx reply.

use http::{HeaderMap, StatusCode};
use serde_json::{json, Map, Value};

use crate::crypto;
use crate::encrypted_bills::BillCipher;
use crate::keys::Held;
use crate::ledger::{self, TradeState};
use crate::multipart::{self, Part};
use crate::respond::Body;
use crate::samples;
use crate::{Answers, Shared, Unrecorded};

/// What the handler sends back, before signing.
pub(crate) enum Reply {
    /// A JSON body (success or `{"code","message"}` error), signed.
    Json(StatusCode, Value),
    /// 204 with an empty body, still signed.
    NoContent,
    /// These bytes as a JSON answer, signed (for misbehaviours).
    Raw(StatusCode, Vec<u8>),
    /// A byte stream (bill download): not signed, like the real service.
    File(Body),
}

impl Reply {
    pub fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Reply {
        Reply::Json(status, json!({ "code": code, "message": message.into() }))
    }

    fn param_error(message: impl Into<String>) -> Reply {
        Reply::error(StatusCode::BAD_REQUEST, "PARAM_ERROR", message)
    }

    /// A PARAM_ERROR naming the field, with the `detail` object the real service adds.
    fn field_error(field: &str, location: &str, issue: &str) -> Reply {
        Reply::Json(
            StatusCode::BAD_REQUEST,
            json!({
                "code": "PARAM_ERROR",
                "message": format!("参数错误：{field} {issue}"),
                "detail": { "field": format!("/{location}/{}", field.replace('.', "/")), "location": location, "issue": issue }
            }),
        )
    }

    fn not_found(message: impl Into<String>) -> Reply {
        Reply::error(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", message)
    }
}

pub(crate) struct Processed {
    pub reply: Reply,
    pub authorization_ok: bool,
    pub decrypted: Vec<(String, String)>,
}

pub(crate) fn process(
    shared: &Shared,
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Processed {
    let parts = multipart::boundary(headers).map(|boundary| multipart::parse(body, &boundary));
    // For an upload the signed BODY is the `meta` part's text.
    let signed_body = match &parts {
        Some(Some(parts)) => parts.iter().find(|part| part.name == "meta").map_or(&[][..], |part| &part.data[..]),
        _ => body,
    };
    let guomi = match authenticate(shared, method, path_and_query, headers, signed_body) {
        Ok(guomi) => guomi,
        Err(reason) => {
            return Processed {
                reply: Reply::error(StatusCode::UNAUTHORIZED, "SIGN_ERROR", format!("签名错误：{reason}")),
                authorization_ok: false,
                decrypted: Vec::new(),
            }
        }
    };
    let mut request = Incoming {
        shared,
        guomi,
        path: path_and_query.split_once('?').map_or(path_and_query, |(path, _)| path),
        query: parse_query(path_and_query.split_once('?').map_or("", |(_, query)| query)),
        body,
        parts,
        encryption_key: None,
        decrypted: Vec::new(),
    };
    let route = |request: &mut Incoming<'_>| match shared.answers {
        Answers::Stateful => route(request, method, headers),
        Answers::Pages => from_pages(request, method, headers),
    };
    let reply = match headers.get("Wechatpay-Serial").map(|value| value.to_str().ok()) {
        None => route(&mut request),
        Some(serial) => match serial.and_then(|serial| shared.keys.encryption_key(serial)) {
            Some(key) => {
                request.encryption_key = Some(key);
                route(&mut request)
            }
            None => Err(Reply::param_error(format!(
                "Wechatpay-Serial `{}` 不是有效的微信支付公钥ID或平台证书序列号",
                serial.unwrap_or("(not text)")
            ))),
        },
    };
    Processed { reply: reply.unwrap_or_else(|error| error), authorization_ok: true, decrypted: request.decrypted }
}

fn authenticate(
    shared: &Shared,
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    signed_body: &[u8],
) -> Result<bool, String> {
    let value = headers
        .get(http::header::AUTHORIZATION)
        .ok_or("the Authorization header is missing")?
        .to_str()
        .map_err(|_| "the Authorization header is not text")?;
    let credentials = crate::auth::parse(value)?;
    crate::auth::check(&shared.keys, &credentials, method, path_and_query, signed_body)?;
    if !shared.lock().nonces.insert(credentials.nonce_str.clone()) {
        return Err(format!("nonce_str `{}` was used before (replay)", credentials.nonce_str));
    }
    Ok(credentials.scheme == crate::guomi::SCHEME)
}

struct Incoming<'a> {
    shared: &'a Shared,
    /// The request was signed by a national-cryptography (SM2) merchant.
    guomi: bool,
    /// Raw (still percent-encoded) path.
    path: &'a str,
    query: Vec<(String, String)>,
    body: &'a [u8],
    /// `Some` for a multipart request: its parts, or `None` when they do not parse.
    parts: Option<Option<Vec<Part>>>,
    /// The key named by `Wechatpay-Serial`, when the request had one.
    encryption_key: Option<&'a Held>,
    decrypted: Vec<(String, String)>,
}

type Answer = Result<Reply, Reply>;

/// Any documented operation, checked against its tables and answered from them.
fn from_pages(request: &mut Incoming<'_>, method: &str, headers: &HeaderMap) -> Answer {
    let mut decrypted = Vec::new();
    let answer = crate::pages::answer(&received(request, method, headers), &mut decrypted);
    request.decrypted.extend(decrypted);
    answer
}

/// What the pages' check reads of a request.
fn received<'a>(request: &'a Incoming<'_>, method: &'a str, headers: &'a HeaderMap) -> crate::pages::Received<'a> {
    crate::pages::Received {
        api: &request.shared.api,
        method,
        path: request.path,
        query: &request.query,
        headers,
        body: request.body,
        parts: match &request.parts {
            Some(Some(parts)) => Some(parts.as_slice()),
            _ => None,
        },
        key: request.encryption_key,
    }
}

fn route(request: &mut Incoming<'_>, method: &str, headers: &HeaderMap) -> Answer {
    // A documented operation is checked against its tables before its own route handles it (the
    // route decrypts and records the sensitive fields itself, so this check's copies are dropped).
    if crate::pages::find(&request.shared.api, method, request.path).is_some() {
        crate::pages::check(&received(request, method, headers), &mut Vec::new())?;
    }
    let path = request.path.to_owned();
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(&path).split('/').collect();
    let param = |raw: &str| {
        let decoded = percent_decode(raw);
        if decoded.is_empty() {
            Err(Reply::not_found("路径参数为空"))
        } else if decoded.starts_with(MISSING_RESOURCE_PREFIX) {
            Err(Reply::not_found("资源不存在"))
        } else {
            Ok(decoded)
        }
    };
    match (method, segments.as_slice()) {
        ("POST", ["v3", "pay", "transactions", kind @ ("jsapi" | "app" | "h5" | "native")]) => {
            create_transaction(request, false, kind)
        }
        (
            "POST",
            ["v3", "pay", "partner", "transactions", kind @ ("jsapi" | "app" | "h5" | "native" | "miniprogram")],
        ) => create_transaction(request, true, kind),
        ("POST", ["v3", "pay", "transactions", "codepay"]) => code_payment(request),
        ("POST", ["v3", "combine-transactions", kind @ ("jsapi" | "app" | "h5" | "native" | "miniprogram")]) => {
            create_combine(request, kind)
        }
        ("GET", ["v3", "combine-transactions", "out-trade-no", no]) => {
            let no = param(no)?;
            let found = request.shared.lock().ledger.combine_json(&no);
            found.map(ok).ok_or_else(|| Reply::error(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "合单订单不存在"))
        }
        ("POST", ["v3", "combine-transactions", "out-trade-no", no, "close"]) => close_combine(request, &param(no)?),
        ("GET", ["v3", "pay", "transactions", "id", id]) => query_transaction(request, false, Some(param(id)?), None),
        ("GET", ["v3", "pay", "transactions", "out-trade-no", no]) => {
            query_transaction(request, false, None, Some(param(no)?))
        }
        ("GET", ["v3", "pay", "partner", "transactions", "id", id]) => {
            query_transaction(request, true, Some(param(id)?), None)
        }
        ("GET", ["v3", "pay", "partner", "transactions", "out-trade-no", no]) => {
            query_transaction(request, true, None, Some(param(no)?))
        }
        ("POST", ["v3", "pay", "transactions", "out-trade-no", no, "close"]) => {
            close_transaction(request, false, &param(no)?)
        }
        ("POST", ["v3", "pay", "partner", "transactions", "out-trade-no", no, "close"]) => {
            close_transaction(request, true, &param(no)?)
        }
        ("POST", ["v3", "refund", "domestic", "refunds"]) => create_refund(request),
        ("GET", ["v3", "refund", "domestic", "refunds", no]) => {
            let no = param(no)?;
            if let Some(refund) = request.shared.lock().ledger.refund(&no) {
                return Ok(ok(refund.to_json()));
            }
            if request.shared.unrecorded == Unrecorded::NotFound {
                return Err(Reply::not_found("退款单不存在"));
            }
            let out_trade_no = format!("{no}-order");
            let transaction_id = samples::wechat_id("4200", &out_trade_no);
            Ok(ok(samples::refund(&no, &out_trade_no, &transaction_id, 100, 100, true)))
        }
        ("GET", ["v3", "bill", kind @ ("tradebill" | "fundflowbill")]) => bill(request, kind),
        ("GET", ["v3", "bill", "sub-merchant-fundflowbill"]) => encrypted_bill(request),
        ("GET", ["v3", "billdownload", "file"]) => bill_download(request),
        ("GET", ["v3", "certificates"]) => certificates(request),
        ("POST", ["v3", "merchant", "media", "upload"]) => media_upload(request),
        ("POST", ["v3", "new-tax-control-fapiao", "fapiao-applications", "upload-fapiao-file"]) => {
            fapiao_upload(request)
        }
        ("POST", ["v3", "catering", "orders", "sync-status"]) => {
            request.json()?;
            Ok(Reply::NoContent)
        }
        ("POST", ["v3", "payscore", "serviceorder"]) => create_payscore(request),
        ("GET", ["v3", "payscore", "serviceorder"]) => query_payscore(request),
        ("POST", ["v3", "payscore", "serviceorder", no, action @ ("cancel" | "complete" | "sync")]) => {
            let no = param(no)?;
            update_payscore(request, &no, action)
        }
        ("POST", ["v3", "profitsharing", "orders"]) => create_profitsharing(request),
        ("GET", ["v3", "profitsharing", "orders", no]) => {
            let no = param(no)?;
            let transaction_id = request.require_query("transaction_id")?;
            Ok(ok(samples::profitsharing_order(&transaction_id, &no, &[json!({})], true)))
        }
        _ => from_pages(request, method, headers),
    }
}

fn ok(value: Value) -> Reply {
    Reply::Json(StatusCode::OK, value)
}

impl Incoming<'_> {
    fn json(&self) -> Result<Value, Reply> {
        serde_json::from_slice(self.body).map_err(|error| Reply::param_error(format!("请求体不是有效的JSON：{error}")))
    }

    fn query(&self, name: &str) -> Option<String> {
        self.query.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone())
    }

    fn require_query(&self, name: &str) -> Result<String, Reply> {
        self.query(name)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| Reply::field_error(name, "query", "必填参数缺失"))
    }

    /// Decrypts every field at `spec` (`receivers[].name`: `[]` walks an array) with the key named by
    /// `Wechatpay-Serial`, and records the plaintexts.
    fn decrypt_fields(&mut self, json: &Value, spec: &str) -> Result<(), Reply> {
        let tokens: Vec<&str> = spec.split('.').collect();
        let mut found = Vec::new();
        collect(json, &tokens, String::new(), &mut found);
        for (path, value) in found {
            let ciphertext = value.as_str().ok_or_else(|| Reply::field_error(&path, "body", "加密字段应为字符串"))?;
            let key = self
                .encryption_key
                .ok_or_else(|| Reply::param_error(format!("{path} 是加密字段，请求须带 Wechatpay-Serial 头")))?;
            let plaintext = crypto::decrypt_field(key, ciphertext)
                .map_err(|reason| Reply::field_error(&path, "body", &format!("解密失败（{reason}）")))?;
            self.decrypted.push((path, plaintext));
        }
        Ok(())
    }
}

fn collect<'v>(value: &'v Value, tokens: &[&str], path: String, out: &mut Vec<(String, &'v Value)>) {
    let Some((token, rest)) = tokens.split_first() else {
        if !value.is_null() {
            out.push((path, value));
        }
        return;
    };
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match token.strip_suffix("[]") {
        Some(key) => {
            if let Some(items) = value.get(key).and_then(Value::as_array) {
                for (index, item) in items.iter().enumerate() {
                    collect(item, rest, format!("{}[{index}]", join(key)), out);
                }
            }
        }
        None => {
            if let Some(child) = value.get(*token) {
                collect(child, rest, join(token), out);
            }
        }
    }
}

/// The value at a dotted path, which must be present and not null.
fn require<'v>(json: &'v Value, path: &str) -> Result<&'v Value, Reply> {
    path.split('.')
        .try_fold(json, |value, key| value.get(key))
        .filter(|value| !value.is_null())
        .ok_or_else(|| Reply::field_error(path, "body", "必填参数缺失"))
}

fn require_str<'v>(json: &'v Value, path: &str) -> Result<&'v str, Reply> {
    require(json, path)?.as_str().ok_or_else(|| Reply::field_error(path, "body", "应为字符串"))
}

fn require_int(json: &Value, path: &str) -> Result<i64, Reply> {
    require(json, path)?.as_i64().ok_or_else(|| Reply::field_error(path, "body", "应为整数"))
}

fn create_transaction(request: &Incoming<'_>, partner: bool, kind: &str) -> Answer {
    let body = request.json()?;
    let ids: &[&str] = if partner { &["sp_appid", "sp_mchid", "sub_mchid"] } else { &["appid", "mchid"] };
    for field in ids.iter().chain(&["description", "out_trade_no", "notify_url"]) {
        require_str(&body, field)?;
    }
    require_int(&body, "amount.total")?;
    match (kind, partner) {
        ("jsapi", false) => {
            require_str(&body, "payer.openid")?;
        }
        ("jsapi", true) => {
            require(&body, "payer")?;
        }
        ("h5", _) => {
            require_str(&body, "scene_info.payer_client_ip")?;
            require_str(&body, "scene_info.h5_info.type")?;
        }
        _ => {}
    }
    let order = ledger::order_from(&body, partner, trade_type(kind))
        .ok_or_else(|| Reply::field_error("out_trade_no", "body", "订单信息不完整"))?;
    request
        .shared
        .lock()
        .ledger
        .create(order)
        .map_err(|(code, message)| Reply::error(StatusCode::BAD_REQUEST, code, message))?;
    Ok(ok(prepay_answer(kind)))
}

/// `trade_type` of an order made by the prepay API of `kind` (the last path segment).
fn trade_type(kind: &str) -> &'static str {
    match kind {
        "app" => "APP",
        "h5" => "MWEB",
        "native" => "NATIVE",
        _ => "JSAPI",
    }
}

/// What a prepay API of `kind` answers: an H5 URL, a QR code URL, or a `prepay_id`.
fn prepay_answer(kind: &str) -> Value {
    let prepay_id = format!(
        "wx{}{}",
        crypto::rfc3339_cst(crypto::unix_now()).get(..19).unwrap_or_default().replace(['-', 'T', ':'], ""),
        crypto::hex_lower(&crypto::random_bytes(10))
    );
    match kind {
        "h5" => json!({
            "h5_url": format!("https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id={prepay_id}&package=2150917749")
        }),
        "native" => json!({ "code_url": format!("weixin://wxpay/bizpayurl?pr={}", crypto::random_alphanumeric(7)) }),
        _ => json!({ "prepay_id": prepay_id }),
    }
}

/// A path parameter starting with this names nothing (404 `RESOURCE_NOT_EXISTS`).
pub const MISSING_RESOURCE_PREFIX: &str = "MISSING-";

/// Orders whose `out_trade_no` starts with this do not exist (404 `ORDER_NOT_EXIST`).
pub const UNKNOWN_ORDER_PREFIX: &str = "UNKNOWN-";

fn query_transaction(
    request: &Incoming<'_>,
    partner: bool,
    transaction_id: Option<String>,
    out_trade_no: Option<String>,
) -> Answer {
    let mchid = request.query(if partner { "sp_mchid" } else { "mchid" });
    let recorded = {
        let state = request.shared.lock();
        match (&transaction_id, &out_trade_no) {
            (Some(id), _) => state.ledger.by_transaction_id(id).map(ledger::Order::to_json),
            (None, Some(no)) => state.ledger.order(mchid.as_deref(), no).map(ledger::Order::to_json),
            (None, None) => None,
        }
    };
    if let Some(order) = recorded {
        request.require_query(if partner { "sp_mchid" } else { "mchid" })?;
        return Ok(ok(order));
    }
    if request.shared.unrecorded == Unrecorded::NotFound {
        return Err(Reply::error(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在"));
    }
    let (transaction_id, out_trade_no) = match (transaction_id, out_trade_no) {
        (Some(id), _) => (id, "1217752501201407033233368018".to_owned()),
        (None, Some(no)) => (samples::wechat_id("4200", &no), no),
        (None, None) => return Err(Reply::not_found("订单不存在")),
    };
    // Every order exists here, except those whose number says otherwise: the way to ask for WeChat
    // Pay's answer to an order it never saw.
    if out_trade_no.starts_with(UNKNOWN_ORDER_PREFIX) {
        return Err(Reply::error(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在"));
    }
    if !partner {
        let mchid = request.require_query("mchid")?;
        return Ok(ok(samples::transaction(&transaction_id, &out_trade_no, &mchid)));
    }
    let sp_mchid = request.require_query("sp_mchid")?;
    let sub_mchid = request.require_query("sub_mchid")?;
    let mut value = samples::transaction(&transaction_id, &out_trade_no, &sp_mchid);
    if let Some(object) = value.as_object_mut() {
        object.remove("appid");
        object.remove("mchid");
        object.insert("sp_appid".into(), json!(samples::APPID));
        object.insert("sp_mchid".into(), json!(sp_mchid));
        object.insert("sub_appid".into(), json!("wxd678efh567hg6999"));
        object.insert("sub_mchid".into(), json!(sub_mchid));
        object.insert(
            "payer".into(),
            json!({ "sp_openid": samples::OPENID, "sub_openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6p" }),
        );
    }
    Ok(ok(value))
}

/// A combined order (合单): recorded with its sub-orders, answered like a prepay of its kind.
fn create_combine(request: &Incoming<'_>, kind: &str) -> Answer {
    let body = request.json()?;
    let (combine, orders) = crate::combine::from_request(&body, trade_type(kind))
        .ok_or_else(|| Reply::field_error("sub_orders", "body", "合单信息不完整"))?;
    request
        .shared
        .lock()
        .ledger
        .create_combine(combine, orders)
        .map_err(|(code, message)| Reply::error(StatusCode::BAD_REQUEST, code, message))?;
    Ok(ok(prepay_answer(kind)))
}

/// Closes every unpaid sub-order of a combined order.
fn close_combine(request: &Incoming<'_>, combine_out_trade_no: &str) -> Answer {
    let mut state = request.shared.lock();
    let combine = state
        .ledger
        .combine(combine_out_trade_no)
        .cloned()
        .ok_or_else(|| Reply::error(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "合单订单不存在"))?;
    for no in &combine.sub_orders {
        if let Some(order) = state.ledger.order_mut(no) {
            match order.state {
                TradeState::NotPay => order.state = TradeState::Closed,
                TradeState::Closed => {}
                _ => return Err(Reply::error(StatusCode::BAD_REQUEST, "ORDER_PAID", "子单已支付，不能关闭")),
            }
        }
    }
    Ok(Reply::NoContent)
}

/// A code payment (付款码): the user's code is scanned, the order is paid at once.
fn code_payment(request: &Incoming<'_>) -> Answer {
    let body = request.json()?;
    for field in ["appid", "mchid", "description", "out_trade_no", "payer.auth_code"] {
        require_str(&body, field)?;
    }
    require_int(&body, "amount.total")?;
    let mut order = ledger::order_from(&body, false, "MICROPAY")
        .ok_or_else(|| Reply::field_error("out_trade_no", "body", "订单信息不完整"))?;
    order.state = TradeState::Success;
    order.success_time = Some(crypto::unix_now());
    order.openid = Some(samples::OPENID.to_owned());
    let mut state = request.shared.lock();
    let order =
        state.ledger.create(order).map_err(|(code, message)| Reply::error(StatusCode::BAD_REQUEST, code, message))?;
    Ok(ok(order.to_json()))
}

fn close_transaction(request: &Incoming<'_>, partner: bool, out_trade_no: &str) -> Answer {
    let body = request.json()?;
    if partner {
        require_str(&body, "sp_mchid")?;
        require_str(&body, "sub_mchid")?;
    } else {
        require_str(&body, "mchid")?;
    }
    let mut state = request.shared.lock();
    match state.ledger.order_mut(out_trade_no) {
        Some(order) if order.state == TradeState::NotPay => {
            order.state = TradeState::Closed;
            Ok(Reply::NoContent)
        }
        Some(order) if order.state == TradeState::Closed => Ok(Reply::NoContent),
        Some(_) => Err(Reply::error(StatusCode::BAD_REQUEST, "ORDER_PAID", "订单已支付，不能关闭")),
        None if request.shared.unrecorded == Unrecorded::Samples => Ok(Reply::NoContent),
        None => Err(Reply::error(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在")),
    }
}

fn create_refund(request: &Incoming<'_>) -> Answer {
    let body = request.json()?;
    let out_refund_no = require_str(&body, "out_refund_no")?;
    let refund = require_int(&body, "amount.refund")?;
    let total = require_int(&body, "amount.total")?;
    require_str(&body, "amount.currency")?;
    let transaction_id = body.get("transaction_id").and_then(Value::as_str);
    let out_trade_no = body.get("out_trade_no").and_then(Value::as_str);
    let (transaction_id, out_trade_no) = match (transaction_id, out_trade_no) {
        (Some(id), Some(no)) => (id.to_owned(), no.to_owned()),
        (Some(id), None) => (id.to_owned(), "1217752501201407033233368018".to_owned()),
        (None, Some(no)) => (samples::wechat_id("4200", no), no.to_owned()),
        (None, None) => {
            return Err(Reply::field_error("transaction_id", "body", "transaction_id 与 out_trade_no 须填其一"))
        }
    };
    if refund > total || refund <= 0 {
        return Err(Reply::error(StatusCode::FORBIDDEN, "NOT_ENOUGH", "退款金额不合法"));
    }
    let mut state = request.shared.lock();
    if let Some(existing) = state.ledger.refund(out_refund_no) {
        // The same refund asked again: its current state, as WeChat Pay answers a retry.
        return Ok(ok(existing.to_json()));
    }
    let order = match body.get("transaction_id").and_then(Value::as_str) {
        Some(id) => state.ledger.by_transaction_id(id),
        None => state.ledger.order(None, &out_trade_no),
    };
    let Some(order) = order.cloned() else {
        if request.shared.unrecorded == Unrecorded::NotFound {
            return Err(Reply::error(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在"));
        }
        drop(state);
        return Ok(ok(samples::refund(out_refund_no, &out_trade_no, &transaction_id, refund, total, false)));
    };
    if !matches!(order.state, TradeState::Success | TradeState::Refund) {
        return Err(Reply::error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            format!("订单状态为{}，不能退款", order.state.as_str()),
        ));
    }
    if total != order.total {
        return Err(Reply::error(StatusCode::BAD_REQUEST, "INVALID_REQUEST", "订单金额与原订单金额不一致"));
    }
    if refund > order.total - order.refunded {
        return Err(Reply::error(
            StatusCode::FORBIDDEN,
            "NOT_ENOUGH",
            format!("可退金额不足：订单可退 {} 分，申请退款 {refund} 分", order.total - order.refunded),
        ));
    }
    if let Some(order) = state.ledger.order_mut(&order.out_trade_no) {
        order.refunded += refund;
        order.state = TradeState::Refund;
    }
    let now = crypto::unix_now();
    let recorded = state.ledger.add_refund(ledger::Refund {
        mchid: order.parties.mchid.clone(),
        sub_mchid: body.get("sub_mchid").and_then(Value::as_str).map(str::to_owned),
        out_refund_no: out_refund_no.to_owned(),
        refund_id: samples::wechat_id("5030", &format!("{out_refund_no}/{now}")),
        out_trade_no: order.out_trade_no.clone(),
        transaction_id: order.transaction_id.clone(),
        refund,
        total,
        currency: body.pointer("/amount/currency").and_then(Value::as_str).unwrap_or("CNY").to_owned(),
        notify_url: body.get("notify_url").and_then(Value::as_str).map(str::to_owned),
        status: ledger::RefundStatus::Processing,
        created: now,
        success_time: None,
    });
    Ok(ok(recorded.to_json()))
}

fn bill(request: &Incoming<'_>, kind: &str) -> Answer {
    let body = bill_of_the_day(request, kind)?;
    let (hash_type, hash_value, body) = digested(request, body)?;
    let token = crypto::random_alphanumeric(40);
    request.shared.keep_bill(token.clone(), body);
    Ok(ok(json!({
        "hash_type": hash_type,
        "hash_value": hash_value,
        "download_url": format!("{}v3/billdownload/file?token={token}", request.shared.base_url),
    })))
}

/// The `kind` bill (`tradebill` or `fundflowbill`) of the query's `bill_date`: from the ledger, of
/// the size [`crate::Sandbox::bill_size`] set, or a sample one for a day without payments.
fn bill_of_the_day(request: &Incoming<'_>, kind: &str) -> Result<Body, Reply> {
    let bill_date = request.require_query("bill_date")?;
    let well_formed = bill_date.len() == 10
        && bill_date.bytes().enumerate().all(|(index, byte)| match index {
            4 | 7 => byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    if !well_formed {
        return Err(Reply::field_error("bill_date", "query", "日期格式应为 YYYY-MM-DD"));
    }
    let (size, recorded) = {
        let state = request.shared.lock();
        let recorded = match kind {
            "tradebill" => {
                crate::bills::trade(&state.ledger, &bill_date, request.query("bill_type").as_deref().unwrap_or("ALL"))
            }
            _ => crate::bills::fund_flow(&state.ledger, &bill_date),
        };
        (state.bill_size, recorded)
    };
    let body = match (size, recorded) {
        (Some(size), _) => samples::large_trade_bill(request.shared.keys.mchid(), &bill_date, size),
        (None, Some(bill)) => Body::Bytes(bill),
        (None, None) if request.shared.unrecorded == Unrecorded::NotFound => {
            return Err(Reply::error(StatusCode::BAD_REQUEST, "NO_STATEMENT_EXIST", "账单文件不存在"));
        }
        (None, None) if kind == "tradebill" => {
            Body::Bytes(samples::trade_bill(request.shared.keys.mchid(), &bill_date))
        }
        (None, None) => Body::Bytes(samples::fundflow_bill(&bill_date)),
    };
    Ok(body)
}

/// The digest of a bill (SHA1, or SM3 for a national-cryptography merchant) and the file served:
/// the bill, gzip-compressed with `tar_type=GZIP` (the digest stays the bill's).
fn digested(request: &Incoming<'_>, body: Body) -> Result<(&'static str, String, Body), Reply> {
    let (hash_type, hash_value) = if request.guomi {
        ("SM3", crate::guomi::sm3_hex_of(body.chunks()))
    } else {
        ("SHA1", crypto::sha1_hex_of(body.chunks()))
    };
    let body = match request.query("tar_type").as_deref() {
        None => body,
        Some("GZIP") => {
            use std::io::Write as _;
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            for chunk in body.chunks() {
                encoder.write_all(&chunk).expect("in memory");
            }
            Body::Bytes(encoder.finish().expect("in memory"))
        }
        Some(_) => return Err(Reply::field_error("tar_type", "query", "压缩类型无效")),
    };
    Ok((hash_type, hash_value, body))
}

/// `GET /v3/bill/sub-merchant-fundflowbill`: the fund-flow bill of the day (as `fundflowbill`
/// serves it), encrypted with the requested algorithm under a fresh file key, which is encrypted
/// for the merchant (RSA-OAEP, or SM2 for a national-cryptography merchant) as `encrypt_key`.
fn encrypted_bill(request: &Incoming<'_>) -> Answer {
    request.require_query("sub_mchid")?;
    request.require_query("account_type")?;
    let algorithm = request.require_query("algorithm")?;
    let cipher = BillCipher::from_algorithm(&algorithm)
        .ok_or_else(|| Reply::field_error("algorithm", "query", "加密算法无效"))?;
    let body = bill_of_the_day(request, "fundflowbill")?;
    let (hash_type, hash_value, body) = digested(request, body)?;
    // A file key of ASCII letters and digits, as the APIv3 key is.
    let key = crypto::random_alphanumeric(cipher.key_len()).into_bytes();
    let nonce = crypto::random_alphanumeric(12);
    let encrypt_key = if request.guomi {
        crate::guomi::encrypt_for_merchant(&request.shared.keys, &key)
    } else {
        crypto::encrypt_for_merchant(&request.shared.keys, &key)
    };
    let mut nonce_bytes = [0u8; 12];
    nonce_bytes.copy_from_slice(nonce.as_bytes());
    let sealed = Body::Sealed { plain: Box::new(body), cipher, key, nonce: nonce_bytes };
    let token = crypto::random_alphanumeric(40);
    request.shared.keep_bill(token.clone(), sealed);
    Ok(ok(json!({
        "download_bill_count": 1,
        "download_bill_list": [{
            "bill_sequence": 1,
            "download_url": format!("{}v3/billdownload/file?token={token}", request.shared.base_url),
            "encrypt_key": encrypt_key,
            "hash_type": hash_type,
            "hash_value": hash_value,
            "nonce": nonce,
        }],
    })))
}

fn bill_download(request: &Incoming<'_>) -> Answer {
    let token = request.require_query("token")?;
    let state = request.shared.lock();
    let body = state
        .bills
        .iter()
        .find(|(held, _)| *held == token)
        .map(|(_, body)| body.clone())
        .ok_or_else(|| Reply::param_error("token 无效或已过期"))?;
    if !state.corrupt_bill && !state.truncate_bill {
        return Ok(Reply::File(body));
    }
    let mut bytes = body.to_vec();
    if state.corrupt_bill {
        // Change the last digit: still text, no longer the hashed bytes.
        if let Some(byte) = bytes.iter_mut().rev().find(|byte| byte.is_ascii_digit()) {
            *byte = if *byte == b'9' { b'0' } else { *byte + 1 };
        }
    }
    if state.truncate_bill {
        bytes.truncate(bytes.len() / 2);
    }
    Ok(Reply::File(Body::Bytes(bytes)))
}

fn certificates(request: &Incoming<'_>) -> Answer {
    let (available, choices) = {
        let state = request.shared.lock();
        (state.certificates_available, state.certificates.clone())
    };
    if !available {
        return Err(Reply::not_found("无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥"));
    }
    // `?algorithm_type=SM2` lists the SM2 certificates, sealed with SM4-GCM; otherwise the RSA ones.
    let sm2 = request.query("algorithm_type").as_deref() == Some("SM2");
    let data: Vec<Value> = choices
        .into_iter()
        .filter_map(|choice| {
            let held = request.shared.keys.certificate(choice);
            if held.is_sm2() != sm2 {
                return None;
            }
            let cert = held.cert.as_ref()?;
            let nonce = crypto::random_alphanumeric(12);
            let apiv3_key = request.shared.keys.apiv3_key();
            let (algorithm, ciphertext) = if sm2 {
                let key = crate::guomi::sm4_key(apiv3_key);
                let sealed = crate::guomi::sm4_gcm_encrypt(&key, &nonce, "certificate", cert.pem.as_bytes());
                (crate::guomi::SM4_GCM, sealed)
            } else {
                let sealed = crypto::aes_gcm_encrypt(apiv3_key.as_bytes(), &nonce, "certificate", cert.pem.as_bytes());
                ("AEAD_AES_256_GCM", sealed)
            };
            Some(json!({
                "serial_no": held.id,
                "effective_time": crypto::rfc3339_cst(cert.not_before),
                "expire_time": crypto::rfc3339_cst(cert.not_after),
                "encrypt_certificate": {
                    "algorithm": algorithm,
                    "nonce": nonce,
                    "associated_data": "certificate",
                    "ciphertext": ciphertext,
                }
            }))
        })
        .collect();
    Ok(ok(json!({ "data": data })))
}

fn media_upload(request: &Incoming<'_>) -> Answer {
    let (meta, file) = upload(request)?;
    require_str(&meta, "filename")?;
    let sha256 = require_str(&meta, "sha256")?;
    if !crypto::sha256_hex(&file.data).eq_ignore_ascii_case(sha256) {
        return Err(Reply::field_error("meta.sha256", "body", "与文件内容的 SHA-256 不符"));
    }
    Ok(ok(json!({
        "media_id": format!("H1ihR9JUtVj-J7CJqBUY5ZOrG_Je75H-rKhaQpLB_{}", crypto::random_alphanumeric(32))
    })))
}

/// An electronic invoice file: `meta.digest_alogrithm` must be `SM3` and `meta.digest` the file's SM3.
fn fapiao_upload(request: &Incoming<'_>) -> Answer {
    let (meta, file) = upload(request)?;
    require_str(&meta, "file_type")?;
    if require_str(&meta, "digest_alogrithm")? != "SM3" {
        return Err(Reply::field_error("meta.digest_alogrithm", "body", "摘要算法应为 SM3"));
    }
    let digest = require_str(&meta, "digest")?;
    if !crate::guomi::sm3_hex(&file.data).eq_ignore_ascii_case(digest) {
        return Err(Reply::field_error("meta.digest", "body", "与文件内容的 SM3 摘要不符"));
    }
    Ok(ok(json!({ "fapiao_media_id": format!("FP{}", crypto::random_alphanumeric(30)) })))
}

/// An upload's `meta` (JSON) and its `file` part, which must have a name and bytes.
fn upload<'r>(request: &'r Incoming<'_>) -> Result<(Value, &'r Part), Reply> {
    let parts = match &request.parts {
        Some(Some(parts)) => parts,
        Some(None) => return Err(Reply::param_error("multipart/form-data 请求体格式错误")),
        None => return Err(Reply::param_error("请求须为 multipart/form-data")),
    };
    let part = |name: &str| {
        parts.iter().find(|part| part.name == name).ok_or_else(|| Reply::field_error(name, "body", "缺少该部分"))
    };
    let meta: Value = serde_json::from_slice(&part("meta")?.data)
        .map_err(|error| Reply::param_error(format!("meta 不是有效的JSON：{error}")))?;
    let file = part("file")?;
    if file.filename.as_deref().unwrap_or_default().is_empty() {
        return Err(Reply::field_error("file", "body", "文件部分须带 filename"));
    }
    if file.data.is_empty() {
        return Err(Reply::field_error("file", "body", "文件为空"));
    }
    Ok((meta, file))
}

fn create_payscore(request: &Incoming<'_>) -> Answer {
    let body = request.json()?;
    let out_order_no = require_str(&body, "out_order_no")?;
    let service_id = require_str(&body, "service_id")?;
    let appid = require_str(&body, "appid")?;
    let mchid = request.shared.keys.mchid();
    let mut order = samples::payscore_order(mchid, out_order_no, service_id, appid, "CREATED");
    echo(
        &body,
        &mut order,
        &[
            "service_introduction",
            "post_payments",
            "post_discounts",
            "risk_fund",
            "time_range",
            "location",
            "attach",
            "notify_url",
        ],
    );
    if let Some(object) = order.as_object_mut() {
        object.remove("state_description");
        object.insert("package".into(), json!(format!("DJIOSQPYWDxsa{}", crypto::random_alphanumeric(24))));
    }
    Ok(ok(order))
}

fn query_payscore(request: &Incoming<'_>) -> Answer {
    let service_id = request.require_query("service_id")?;
    let appid = request.require_query("appid")?;
    let out_order_no = match (request.query("out_order_no"), request.query("query_id")) {
        (Some(no), _) if !no.is_empty() => no,
        (_, Some(query_id)) if !query_id.is_empty() => format!("order-of-{query_id}"),
        _ => return Err(Reply::field_error("out_order_no", "query", "out_order_no 与 query_id 须填其一")),
    };
    let mut order = samples::payscore_order(request.shared.keys.mchid(), &out_order_no, &service_id, &appid, "DOING");
    order["collection"] = samples::payscore_collection(&out_order_no);
    Ok(ok(order))
}

fn update_payscore(request: &Incoming<'_>, out_order_no: &str, action: &str) -> Answer {
    let body = request.json()?;
    let appid = require_str(&body, "appid")?;
    let service_id = require_str(&body, "service_id")?;
    match action {
        "cancel" => {
            require_str(&body, "reason")?;
            Ok(ok(json!({
                "appid": appid,
                "mchid": request.shared.keys.mchid(),
                "out_order_no": out_order_no,
                "service_id": service_id,
                "order_id": samples::wechat_id("1000", out_order_no),
            })))
        }
        "complete" => {
            require(&body, "post_payments")?;
            require_int(&body, "total_amount")?;
            let mut order =
                samples::payscore_order(request.shared.keys.mchid(), out_order_no, service_id, appid, "DOING");
            echo(&body, &mut order, &["post_payments", "post_discounts", "total_amount", "time_range", "location"]);
            Ok(ok(order))
        }
        _ => {
            require_str(&body, "type")?;
            let mut order =
                samples::payscore_order(request.shared.keys.mchid(), out_order_no, service_id, appid, "DONE");
            order["collection"] = samples::payscore_collection(out_order_no);
            Ok(ok(order))
        }
    }
}

fn create_profitsharing(request: &mut Incoming<'_>) -> Answer {
    let body = request.json()?;
    request.decrypt_fields(&body, "receivers[].name")?;
    require_str(&body, "appid")?;
    let transaction_id = require_str(&body, "transaction_id")?;
    let out_order_no = require_str(&body, "out_order_no")?;
    let receivers =
        require(&body, "receivers")?.as_array().ok_or_else(|| Reply::field_error("receivers", "body", "应为数组"))?;
    require(&body, "unfreeze_unsplit")?;
    let mut order = samples::profitsharing_order(transaction_id, out_order_no, receivers, false);
    if let Some(sub_mchid) = body.get("sub_mchid") {
        order["sub_mchid"] = sub_mchid.clone();
    }
    Ok(ok(order))
}

/// Copies the request's values of `fields` into the reply.
fn echo(request: &Value, reply: &mut Value, fields: &[&str]) {
    if let (Some(from), Some(to)) = (request.as_object(), reply.as_object_mut()) {
        let copied: Map<String, Value> =
            fields.iter().filter_map(|field| Some(((*field).to_owned(), from.get(*field)?.clone()))).collect();
        to.extend(copied);
    }
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// `%XX` sequences to bytes (malformed ones kept as they are), then UTF-8 (lossy).
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|byte| (*byte as char).to_digit(16));
        match (bytes[index], hex(index + 1), hex(index + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                index += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
