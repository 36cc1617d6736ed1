//! Canned but realistic payloads, with the field names of the documentation's response tables.

use serde_json::{json, Value};

use crate::crypto;

pub(crate) const APPID: &str = "wxd678efh567hg6787";
pub(crate) const OPENID: &str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";
const NOTIFY_URL: &str = "https://www.weixin.qq.com/wxpay/pay.php";

/// A stable 28-digit WeChat Pay id for a merchant number (`4200…` like real transaction ids).
pub(crate) fn wechat_id(prefix: &str, seed: &str) -> String {
    // FNV-1a, so the same merchant number always maps to the same id.
    let hash = seed
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3));
    let digits = format!("{hash:020}");
    let mut id = format!("{prefix}{digits}");
    id.truncate(28);
    while id.len() < 28 {
        id.push('0');
    }
    id
}

/// A paid JSAPI transaction of merchant `mchid`: the union of the `TRANSACTION.SUCCESS` payload and
/// the query response.
pub fn sample_transaction(out_trade_no: &str, mchid: &str) -> Value {
    transaction(&wechat_id("4200", out_trade_no), out_trade_no, mchid)
}

pub(crate) fn transaction(transaction_id: &str, out_trade_no: &str, mchid: &str) -> Value {
    json!({
        "appid": APPID,
        "mchid": mchid,
        "out_trade_no": out_trade_no,
        "transaction_id": transaction_id,
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "CMC",
        "attach": "自定义数据",
        "success_time": crypto::rfc3339_cst(crypto::unix_now() - 60),
        "description": "Image形象店-深圳腾大-QQ公仔",
        "notify_url": NOTIFY_URL,
        "payer": { "openid": OPENID },
        "amount": { "total": 100, "payer_total": 90, "currency": "CNY", "payer_currency": "CNY" },
        "scene_info": { "device_id": "013467007045764" },
        "promotion_detail": [{
            "coupon_id": "109519",
            "name": "单品惠-6",
            "scope": "SINGLE",
            "type": "CASH",
            "amount": 10,
            "stock_id": "931386",
            "wechatpay_contribute": 0,
            "merchant_contribute": 10,
            "other_contribute": 0,
            "currency": "CNY",
            "goods_detail": [{
                "goods_id": "M1006",
                "quantity": 1,
                "unit_price": 100,
                "discount_amount": 10,
                "goods_remark": "商品备注信息"
            }]
        }]
    })
}

/// A `REFUND.SUCCESS` payload of merchant `mchid` (the fields of the refund notifications).
pub fn sample_refund(out_refund_no: &str, mchid: &str) -> Value {
    let out_trade_no = format!("{out_refund_no}-order");
    json!({
        "mchid": mchid,
        "sp_mchid": mchid,
        "sub_mchid": "1900000110",
        "out_trade_no": out_trade_no,
        "transaction_id": wechat_id("4200", &out_trade_no),
        "out_refund_no": out_refund_no,
        "refund_id": wechat_id("5030", out_refund_no),
        "refund_status": "SUCCESS",
        "success_time": crypto::rfc3339_cst(crypto::unix_now() - 30),
        "user_received_account": "支付用户零钱",
        "amount": { "total": 100, "refund": 100, "payer_total": 90, "payer_refund": 90 }
    })
}

/// A refund as the refund APIs return it (apply, query).
pub(crate) fn refund(
    out_refund_no: &str,
    out_trade_no: &str,
    transaction_id: &str,
    refund: i64,
    total: i64,
    done: bool,
) -> Value {
    let now = crypto::unix_now();
    let mut value = json!({
        "refund_id": wechat_id("5030", out_refund_no),
        "out_refund_no": out_refund_no,
        "transaction_id": transaction_id,
        "out_trade_no": out_trade_no,
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "create_time": crypto::rfc3339_cst(now - 5),
        "status": if done { "SUCCESS" } else { "PROCESSING" },
        "funds_account": "AVAILABLE",
        "amount": {
            "total": total,
            "refund": refund,
            "from": [{ "account": "AVAILABLE", "amount": refund }],
            "payer_total": total,
            "payer_refund": refund,
            "settlement_refund": refund,
            "settlement_total": total,
            "discount_refund": 0,
            "currency": "CNY",
            "refund_fee": 0
        },
        "promotion_detail": []
    });
    if done {
        value["success_time"] = json!(crypto::rfc3339_cst(now));
    }
    value
}

pub(crate) fn payscore_order(mchid: &str, out_order_no: &str, service_id: &str, appid: &str, state: &str) -> Value {
    json!({
        "appid": appid,
        "mchid": mchid,
        "out_order_no": out_order_no,
        "service_id": service_id,
        "service_introduction": "某某酒店",
        "state": state,
        "state_description": "MCH_COMPLETE",
        "total_amount": 40000,
        "need_collection": true,
        "post_payments": [{ "name": "就餐费用", "amount": 40000, "description": "就餐人均100元", "count": 4 }],
        "post_discounts": [{ "name": "满20减1元", "description": "不与其他优惠叠加", "amount": 100, "count": 2 }],
        "risk_fund": { "name": "ESTIMATE_ORDER_COST", "amount": 10000, "description": "就餐的预估费用" },
        "time_range": {
            "start_time": "20091225091010",
            "end_time": "20091225121010",
            "start_time_remark": "备注1",
            "end_time_remark": "备注2"
        },
        "location": { "start_location": "嗨客时尚主题展餐厅", "end_location": "嗨客时尚主题展餐厅" },
        "attach": "Easdfowealsdkjfnlaksjdlfkwqoi&wl3l2sald",
        "notify_url": NOTIFY_URL,
        "openid": OPENID,
        "order_id": wechat_id("1000", out_order_no)
    })
}

pub(crate) fn payscore_collection(out_order_no: &str) -> Value {
    json!({
        "state": "USER_PAID",
        "total_amount": 40000,
        "paying_amount": 0,
        "paid_amount": 40000,
        "details": [{
            "seq": 1,
            "amount": 40000,
            "paid_type": "MCH",
            "paid_time": "20091225091210",
            "transaction_id": wechat_id("4200", out_order_no)
        }]
    })
}

pub(crate) fn profitsharing_order(
    transaction_id: &str,
    out_order_no: &str,
    receivers: &[Value],
    finished: bool,
) -> Value {
    let now = crypto::unix_now();
    let receivers: Vec<Value> = receivers
        .iter()
        .enumerate()
        .map(|(index, receiver)| {
            json!({
                "amount": receiver.get("amount").cloned().unwrap_or(json!(100)),
                "description": receiver.get("description").cloned().unwrap_or(json!("分给商户A")),
                "type": receiver.get("type").cloned().unwrap_or(json!("MERCHANT_ID")),
                "account": receiver.get("account").cloned().unwrap_or(json!("86693852")),
                "result": if finished { "SUCCESS" } else { "PENDING" },
                "detail_id": wechat_id("3600", &format!("{out_order_no}/{index}")),
                "create_time": crypto::rfc3339_cst(now - 10),
                "finish_time": crypto::rfc3339_cst(now)
            })
        })
        .collect();
    json!({
        "transaction_id": transaction_id,
        "out_order_no": out_order_no,
        "order_id": wechat_id("3008", out_order_no),
        "state": if finished { "FINISHED" } else { "PROCESSING" },
        "receivers": receivers
    })
}

/// A trade bill of a few KB in the documented CSV layout (values prefixed with a back-quote).
pub(crate) fn trade_bill(mchid: &str, bill_date: &str) -> Vec<u8> {
    let mut text = String::from(
        "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,\
付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,\
退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n",
    );
    let rows = 24;
    for row in 0..rows {
        let out_trade_no = format!("{}{row:04}", bill_date.replace('-', ""));
        text.push_str(&format!(
            "`{bill_date} {:02}:{:02}:{:02},`{APPID},`{mchid},`0,`,`{},`{out_trade_no},`{OPENID},\
`JSAPI,`SUCCESS,`CMC,`CNY,`1.00,`0.00,`0,`0,`0.00,`0.00,`,`,`Image形象店-深圳腾大-QQ公仔,`,`0.00600,`0.60%,\
`1.00,`0.00,`\r\n",
            8 + row / 4,
            row * 2 % 60,
            row * 7 % 60,
            wechat_id("4200", &out_trade_no),
        ));
    }
    text.push_str("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n");
    text.push_str(&format!("`{rows},`{rows}.00,`0.00,`0.00,`0.14400,`{rows}.00,`0.00\r\n"));
    text.into_bytes()
}

/// A trade bill of about `size` bytes: the header, a block of rows repeated, and the summary. Shared
/// pieces, so that a bill of hundreds of megabytes costs a few kilobytes to hold.
pub(crate) fn large_trade_bill(mchid: &str, bill_date: &str, size: u64) -> crate::respond::Body {
    let small = trade_bill(mchid, bill_date);
    let text = String::from_utf8(small).unwrap_or_default();
    let mut lines: Vec<&str> = text.split_inclusive("\r\n").collect();
    let tail: String = lines.split_off(lines.len().saturating_sub(2)).concat();
    let head = lines.remove(0).to_owned();
    let block = lines.concat();
    let count = size.saturating_sub((head.len() + tail.len()) as u64) / block.len().max(1) as u64;
    crate::respond::Body::Repeated { head: head.into(), block: block.into(), count: count.max(1), tail: tail.into() }
}

/// A fund flow bill in the documented CSV layout.
pub(crate) fn fundflow_bill(bill_date: &str) -> Vec<u8> {
    let mut text = String::from(
        "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,账户结余（元）,\
资金变更提交申请人,备注,业务凭证号\r\n",
    );
    let rows = 20;
    for row in 0..rows {
        let out_trade_no = format!("{}{row:04}", bill_date.replace('-', ""));
        text.push_str(&format!(
            "`{bill_date} {:02}:{:02}:00,`{},`{},`交易,`交易,`收入,`1.00,`{}.00,`system,`,`{out_trade_no}\r\n",
            9 + row / 6,
            row * 3 % 60,
            wechat_id("4200", &out_trade_no),
            wechat_id("5000", &out_trade_no),
            100 + row,
        ));
    }
    text.push_str("资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\r\n");
    text.push_str(&format!("`{rows},`{rows},`{rows}.00,`0,`0.00\r\n"));
    text.into_bytes()
}
