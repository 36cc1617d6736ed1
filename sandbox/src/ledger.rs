//! Where money moves: orders of every payment kind and their refunds, with WeChat Pay's states.
//!
//! An order is created `NOTPAY` by a prepay call (JSAPI, APP, H5, Native, mini-program; direct or
//! partner) or paid at once by a code payment; the test pays it, fails it or lets it expire
//! ([`Sandbox::pay`](crate::Sandbox::pay) and the control endpoints). A refund starts
//! `PROCESSING` and ends `SUCCESS`, `ABNORMAL` or `CLOSED`; the refundable balance (total minus
//! refunds not closed) is enforced.
//!
//! Combined orders keep their sub-orders here as orders of their own merchants.
//!
//! Bounded: at most [`MAX_ORDERS`] orders (and as many combined orders) and [`MAX_REFUNDS`] refunds are kept; past that the
//! oldest settled one (paid, closed, failed; for refunds: finished) goes first, else the oldest.

use std::collections::VecDeque;

use serde_json::{json, Value};

use crate::combine::Combine;
use crate::crypto;
use crate::samples::wechat_id;

/// Orders kept at most.
pub const MAX_ORDERS: usize = 10_000;
/// Refunds kept at most.
pub const MAX_REFUNDS: usize = 10_000;

/// `trade_state` of an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TradeState {
    NotPay,
    Success,
    Refund,
    Closed,
    PayError,
    UserPaying,
}

impl TradeState {
    pub fn as_str(self) -> &'static str {
        match self {
            TradeState::NotPay => "NOTPAY",
            TradeState::Success => "SUCCESS",
            TradeState::Refund => "REFUND",
            TradeState::Closed => "CLOSED",
            TradeState::PayError => "PAYERROR",
            TradeState::UserPaying => "USERPAYING",
        }
    }

    fn description(self) -> &'static str {
        match self {
            TradeState::NotPay => "未支付",
            TradeState::Success => "支付成功",
            TradeState::Refund => "转入退款",
            TradeState::Closed => "订单已关闭",
            TradeState::PayError => "支付失败，请重新下单支付",
            TradeState::UserPaying => "用户支付中",
        }
    }

    fn settled(self) -> bool {
        !matches!(self, TradeState::NotPay | TradeState::UserPaying)
    }
}

/// `status` of a refund.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundStatus {
    Processing,
    Success,
    Abnormal,
    Closed,
}

impl RefundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Processing => "PROCESSING",
            RefundStatus::Success => "SUCCESS",
            RefundStatus::Abnormal => "ABNORMAL",
            RefundStatus::Closed => "CLOSED",
        }
    }

    /// The notification a refund ending in this status sends.
    pub fn event_type(self) -> Option<&'static str> {
        match self {
            RefundStatus::Processing => None,
            RefundStatus::Success => Some("REFUND.SUCCESS"),
            RefundStatus::Abnormal => Some("REFUND.ABNORMAL"),
            RefundStatus::Closed => Some("REFUND.CLOSED"),
        }
    }
}

/// The merchant side of an order: direct (`appid`, `mchid`) or partner (`sp_*` and `sub_*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Parties {
    pub appid: String,
    pub mchid: String,
    /// `Some` for a partner (service provider) order.
    pub sub: Option<(Option<String>, String)>,
}

#[derive(Clone, Debug)]
pub(crate) struct Order {
    pub parties: Parties,
    pub out_trade_no: String,
    pub transaction_id: String,
    /// `JSAPI`, `APP`, `MWEB`, `NATIVE`, `MICROPAY`.
    pub trade_type: &'static str,
    pub description: String,
    pub attach: Option<String>,
    pub notify_url: Option<String>,
    pub total: i64,
    pub currency: String,
    pub openid: Option<String>,
    pub state: TradeState,
    pub success_time: Option<i64>,
    /// Refunded or being refunded (refunds not closed).
    pub refunded: i64,
}

impl Order {
    /// The order as the query APIs and `TRANSACTION.SUCCESS` show it.
    pub fn to_json(&self) -> Value {
        let paid = self.success_time.is_some();
        let mut value = match &self.parties.sub {
            None => json!({ "appid": self.parties.appid, "mchid": self.parties.mchid }),
            Some((sub_appid, sub_mchid)) => {
                let mut value =
                    json!({ "sp_appid": self.parties.appid, "sp_mchid": self.parties.mchid, "sub_mchid": sub_mchid });
                if let Some(sub_appid) = sub_appid {
                    value["sub_appid"] = json!(sub_appid);
                }
                value
            }
        };
        value["out_trade_no"] = json!(self.out_trade_no);
        value["trade_state"] = json!(self.state.as_str());
        value["trade_state_desc"] = json!(self.state.description());
        value["description"] = json!(self.description);
        if let Some(attach) = &self.attach {
            value["attach"] = json!(attach);
        }
        let mut amount = json!({ "total": self.total, "currency": self.currency });
        if paid {
            value["transaction_id"] = json!(self.transaction_id);
            value["trade_type"] = json!(self.trade_type);
            value["bank_type"] = json!("OTHERS");
            value["success_time"] = json!(self.success_time.map(crypto::rfc3339_cst));
            amount["payer_total"] = json!(self.total);
            amount["payer_currency"] = json!(self.currency);
            if let Some(openid) = &self.openid {
                value["payer"] = match self.parties.sub {
                    None => json!({ "openid": openid }),
                    Some(_) => json!({ "sp_openid": openid }),
                };
            }
        }
        value["amount"] = amount;
        value
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Refund {
    pub mchid: String,
    pub sub_mchid: Option<String>,
    pub out_refund_no: String,
    pub refund_id: String,
    pub out_trade_no: String,
    pub transaction_id: String,
    pub refund: i64,
    pub total: i64,
    pub currency: String,
    pub notify_url: Option<String>,
    pub status: RefundStatus,
    pub created: i64,
    pub success_time: Option<i64>,
}

impl Refund {
    /// The refund as the refund APIs answer it.
    pub fn to_json(&self) -> Value {
        let mut value = json!({
            "refund_id": self.refund_id,
            "out_refund_no": self.out_refund_no,
            "transaction_id": self.transaction_id,
            "out_trade_no": self.out_trade_no,
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "create_time": crypto::rfc3339_cst(self.created),
            "status": self.status.as_str(),
            "funds_account": "AVAILABLE",
            "amount": {
                "total": self.total,
                "refund": self.refund,
                "from": [],
                "payer_total": self.total,
                "payer_refund": self.refund,
                "settlement_refund": self.refund,
                "settlement_total": self.total,
                "discount_refund": 0,
                "currency": self.currency,
                "refund_fee": 0
            },
            "promotion_detail": []
        });
        if let Some(time) = self.success_time {
            value["success_time"] = json!(crypto::rfc3339_cst(time));
        }
        value
    }

    /// The payload of the `REFUND.*` notifications.
    pub fn payload(&self) -> Value {
        let mut value = json!({
            "mchid": self.mchid,
            "out_trade_no": self.out_trade_no,
            "transaction_id": self.transaction_id,
            "out_refund_no": self.out_refund_no,
            "refund_id": self.refund_id,
            "refund_status": self.status.as_str(),
            "user_received_account": "支付用户零钱",
            "amount": { "total": self.total, "refund": self.refund, "payer_total": self.total, "payer_refund": self.refund }
        });
        if let Some(sub_mchid) = &self.sub_mchid {
            value["sp_mchid"] = json!(self.mchid);
            value["sub_mchid"] = json!(sub_mchid);
        }
        if let Some(time) = self.success_time {
            value["success_time"] = json!(crypto::rfc3339_cst(time));
        }
        value
    }
}

#[derive(Default)]
pub(crate) struct Ledger {
    orders: VecDeque<Order>,
    refunds: VecDeque<Refund>,
    combines: VecDeque<Combine>,
}

impl Ledger {
    /// Records a combined order and its sub-orders (each as an order of its own merchant).
    pub fn create_combine(&mut self, combine: Combine, orders: Vec<Order>) -> Result<(), (&'static str, &'static str)> {
        if self.combine(&combine.out_trade_no).is_some() {
            return Err(("INVALID_REQUEST", "合单商户订单号重复"));
        }
        for order in orders {
            self.create(order)?;
        }
        if self.combines.len() >= MAX_ORDERS {
            self.combines.pop_front();
        }
        self.combines.push_back(combine);
        Ok(())
    }

    pub fn combine(&self, combine_out_trade_no: &str) -> Option<&Combine> {
        self.combines.iter().rev().find(|combine| combine.out_trade_no == combine_out_trade_no)
    }

    /// A combined order as its query shows it.
    pub fn combine_json(&self, combine_out_trade_no: &str) -> Option<Value> {
        let combine = self.combine(combine_out_trade_no)?;
        let orders = combine.sub_orders.iter().filter_map(|no| self.order(None, no));
        Some(combine.to_json(orders))
    }

    pub fn order(&self, mchid: Option<&str>, out_trade_no: &str) -> Option<&Order> {
        self.orders
            .iter()
            .rev()
            .find(|order| order.out_trade_no == out_trade_no && mchid.is_none_or(|mchid| order.parties.mchid == mchid))
    }

    pub fn order_mut(&mut self, out_trade_no: &str) -> Option<&mut Order> {
        self.orders.iter_mut().rev().find(|order| order.out_trade_no == out_trade_no)
    }

    /// A paid order by WeChat Pay's number (unpaid orders have none yet).
    pub fn by_transaction_id(&self, transaction_id: &str) -> Option<&Order> {
        self.orders.iter().rev().find(|order| order.success_time.is_some() && order.transaction_id == transaction_id)
    }

    /// Records a new order (or answers the existing unpaid one with the same number).
    pub fn create(&mut self, order: Order) -> Result<&Order, (&'static str, &'static str)> {
        if let Some(at) =
            self.orders.iter().position(|o| o.out_trade_no == order.out_trade_no && o.parties == order.parties)
        {
            let existing = &self.orders[at];
            return match existing.state {
                TradeState::NotPay if existing.total == order.total => Ok(&self.orders[at]),
                TradeState::NotPay => Err(("INVALID_REQUEST", "商户订单号重复，且与原订单金额不一致")),
                TradeState::Closed => Err(("ORDER_CLOSED", "订单已关闭")),
                _ => Err(("ORDER_PAID", "订单已支付")),
            };
        }
        if self.orders.len() >= MAX_ORDERS {
            let at = self.orders.iter().position(|o| o.state.settled()).unwrap_or(0);
            self.orders.remove(at);
        }
        self.orders.push_back(order);
        Ok(self.orders.back().expect("just pushed"))
    }

    pub fn refund(&self, out_refund_no: &str) -> Option<&Refund> {
        self.refunds.iter().rev().find(|refund| refund.out_refund_no == out_refund_no)
    }

    pub fn refund_mut(&mut self, out_refund_no: &str) -> Option<&mut Refund> {
        self.refunds.iter_mut().rev().find(|refund| refund.out_refund_no == out_refund_no)
    }

    pub fn add_refund(&mut self, refund: Refund) -> &Refund {
        if self.refunds.len() >= MAX_REFUNDS {
            let at = self.refunds.iter().position(|r| r.status != RefundStatus::Processing).unwrap_or(0);
            self.refunds.remove(at);
        }
        self.refunds.push_back(refund);
        self.refunds.back().expect("just pushed")
    }

    pub fn orders(&self) -> impl Iterator<Item = &Order> {
        self.orders.iter()
    }

    pub fn refunds(&self) -> impl Iterator<Item = &Refund> {
        self.refunds.iter()
    }
}

/// A new unpaid order from a prepay request's body (direct or partner), or why not.
pub(crate) fn order_from(body: &Value, partner: bool, trade_type: &'static str) -> Option<Order> {
    let text = |path: &str| {
        path.split('.').try_fold(body, |value, key| value.get(key)).and_then(Value::as_str).map(str::to_owned)
    };
    let parties = if partner {
        Parties {
            appid: text("sp_appid")?,
            mchid: text("sp_mchid")?,
            sub: Some((text("sub_appid"), text("sub_mchid")?)),
        }
    } else {
        Parties { appid: text("appid")?, mchid: text("mchid")?, sub: None }
    };
    let out_trade_no = text("out_trade_no")?;
    let now = crypto::unix_now();
    Some(Order {
        transaction_id: wechat_id("4200", &format!("{}/{out_trade_no}/{now}", parties.mchid)),
        parties,
        out_trade_no,
        trade_type,
        description: text("description").unwrap_or_default(),
        attach: text("attach"),
        notify_url: text("notify_url"),
        total: body.get("amount").and_then(|amount| amount.get("total")).and_then(Value::as_i64)?,
        currency: text("amount.currency").unwrap_or_else(|| "CNY".to_owned()),
        openid: text("payer.openid").or_else(|| text("payer.sp_openid")).or_else(|| text("payer.sub_openid")),
        state: TradeState::NotPay,
        success_time: None,
        refunded: 0,
    })
}
