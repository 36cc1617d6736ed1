//! Combined orders (合单支付): one payment of several sub-orders, each an order of its own
//! merchant in the ledger, paid, closed and notified together.

use serde_json::{json, Value};

use crate::crypto;
use crate::ledger::{Order, Parties, TradeState};
use crate::samples::wechat_id;

/// A combined order: its sub-orders are kept in the ledger as orders.
#[derive(Clone, Debug)]
pub(crate) struct Combine {
    pub appid: String,
    pub mchid: String,
    pub out_trade_no: String,
    pub transaction_id: String,
    pub notify_url: Option<String>,
    pub openid: Option<String>,
    /// The sub-orders' `out_trade_no`, in the request's order.
    pub sub_orders: Vec<String>,
}

impl Combine {
    /// The combined order as its query and its `TRANSACTION.SUCCESS` show it, from its sub-orders.
    pub fn to_json<'a>(&self, sub_orders: impl Iterator<Item = &'a Order>) -> Value {
        let sub_orders: Vec<Value> = sub_orders.map(sub_order).collect();
        let mut value = json!({
            "combine_appid": self.appid,
            "combine_mchid": self.mchid,
            "combine_out_trade_no": self.out_trade_no,
            "combine_transaction_id": self.transaction_id,
            "sub_orders": sub_orders,
        });
        if let Some(openid) = &self.openid {
            value["combine_payer_info"] = json!({ "openid": openid });
        }
        value
    }
}

fn sub_order(order: &Order) -> Value {
    let mut value = json!({
        "mchid": order.parties.mchid,
        "out_trade_no": order.out_trade_no,
        "trade_state": order.state.as_str(),
        "amount": { "total_amount": order.total, "currency": order.currency },
    });
    if let Some((sub_appid, sub_mchid)) = &order.parties.sub {
        value["sub_mchid"] = json!(sub_mchid);
        if let Some(sub_appid) = sub_appid {
            value["sub_appid"] = json!(sub_appid);
        }
    }
    if let Some(attach) = &order.attach {
        value["attach"] = json!(attach);
    }
    if let Some(at) = order.success_time {
        value["trade_type"] = json!(order.trade_type);
        value["bank_type"] = json!("OTHERS");
        value["success_time"] = json!(crypto::rfc3339_cst(at));
        value["transaction_id"] = json!(order.transaction_id);
        value["amount"]["payer_amount"] = json!(order.total);
        value["amount"]["payer_currency"] = json!(order.currency);
    }
    value
}

/// A combined order and its sub-orders from a request's body, or `None` when a required member
/// is missing (the pages' check names it first).
pub(crate) fn from_request(body: &Value, trade_type: &'static str) -> Option<(Combine, Vec<Order>)> {
    let text = |value: &Value, key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    let appid = text(body, "combine_appid")?;
    let openid = body.get("combine_payer_info").and_then(|payer| text(payer, "openid"));
    let now = crypto::unix_now();
    let mut orders = Vec::new();
    for sub in body.get("sub_orders")?.as_array()? {
        let out_trade_no = text(sub, "out_trade_no")?;
        let mchid = text(sub, "mchid")?;
        orders.push(Order {
            transaction_id: wechat_id("4200", &format!("{mchid}/{out_trade_no}/{now}")),
            parties: Parties {
                appid: appid.clone(),
                sub: text(sub, "sub_mchid").map(|sub_mchid| (text(sub, "sub_appid"), sub_mchid)),
                mchid,
            },
            out_trade_no,
            trade_type,
            description: text(sub, "description").unwrap_or_default(),
            attach: text(sub, "attach"),
            notify_url: None,
            total: sub.pointer("/amount/total_amount").and_then(Value::as_i64)?,
            currency: sub.pointer("/amount/currency").and_then(Value::as_str).unwrap_or("CNY").to_owned(),
            openid: openid.clone(),
            state: TradeState::NotPay,
            success_time: None,
            refunded: 0,
        });
    }
    let out_trade_no = text(body, "combine_out_trade_no")?;
    let combine = Combine {
        transaction_id: wechat_id("1217", &format!("{out_trade_no}/{now}")),
        appid,
        mchid: text(body, "combine_mchid")?,
        out_trade_no,
        notify_url: text(body, "notify_url"),
        openid,
        sub_orders: orders.iter().map(|order| order.out_trade_no.clone()).collect(),
    };
    Some((combine, orders))
}
