//! The bills of a day, built from the ledger: the trade bill (a row per payment and per refund
//! finished that day, China Standard Time) and the fund-flow bill (income and expense with the
//! running balance), in the documented CSV layout (values prefixed with a back-quote).

use crate::crypto;
use crate::ledger::{Ledger, RefundStatus};

/// `YYYY-MM-DD` of a Unix time, in China Standard Time.
fn day(unix: i64) -> String {
    crypto::rfc3339_cst(unix)[..10].to_owned()
}

/// `YYYY-MM-DD HH:MM:SS` in China Standard Time.
fn time(unix: i64) -> String {
    crypto::rfc3339_cst(unix)[..19].replace('T', " ")
}

fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// The trade bill of `date` (`ALL`, `SUCCESS` or `REFUND` rows), `None` when nothing happened.
pub(crate) fn trade(ledger: &Ledger, date: &str, bill_type: &str) -> Option<Vec<u8>> {
    let mut rows = Vec::new();
    let (mut paid, mut refunded) = (0, 0);
    if bill_type != "REFUND" {
        for order in ledger.orders() {
            let Some(at) = order.success_time.filter(|at| day(*at) == date) else {
                continue;
            };
            paid += order.total;
            rows.push((at, format!(
                "`{},`{},`{},`{},`,`{},`{},`{},`{},`SUCCESS,`OTHERS,`{},`{},`0.00,`0,`0,`0.00,`0.00,`,`,`{},`{},`0.00000,`0.60%,`{},`0.00,`\r\n",
                time(at), order.parties.appid, order.parties.mchid,
                order.parties.sub.as_ref().map_or("0", |(_, sub)| sub.as_str()),
                order.transaction_id, order.out_trade_no, order.openid.as_deref().unwrap_or_default(), order.trade_type,
                order.currency, yuan(order.total), order.description, order.attach.as_deref().unwrap_or_default(), yuan(order.total),
            )));
        }
    }
    if bill_type != "SUCCESS" {
        for refund in ledger.refunds() {
            let Some(at) = refund.success_time.filter(|at| day(*at) == date && refund.status == RefundStatus::Success)
            else {
                continue;
            };
            refunded += refund.refund;
            let order = ledger.order(Some(&refund.mchid), &refund.out_trade_no);
            rows.push((at, format!(
                "`{},`{},`{},`{},`,`{},`{},`{},`{},`REFUND,`OTHERS,`{},`0.00,`0.00,`{},`{},`{},`0.00,`ORIGINAL,`SUCCESS,`{},`,`0.00000,`0.60%,`{},`{},`\r\n",
                time(at), order.map_or("", |o| o.parties.appid.as_str()), refund.mchid,
                refund.sub_mchid.as_deref().unwrap_or("0"), refund.transaction_id, refund.out_trade_no,
                order.and_then(|o| o.openid.as_deref()).unwrap_or_default(), order.map_or("JSAPI", |o| o.trade_type),
                refund.currency, refund.refund_id, refund.out_refund_no, yuan(refund.refund),
                order.map_or("", |o| o.description.as_str()), yuan(refund.total), yuan(refund.refund),
            )));
        }
    }
    if rows.is_empty() {
        return None;
    }
    rows.sort_by_key(|(at, _)| *at);
    let mut text = String::from(
        "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,\
付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,\
退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n",
    );
    let count = rows.len();
    text.extend(rows.into_iter().map(|(_, row)| row));
    text.push_str("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n");
    text.push_str(&format!(
        "`{count},`{},`{},`0.00,`0.00000,`{},`{}\r\n",
        yuan(paid),
        yuan(refunded),
        yuan(paid),
        yuan(refunded)
    ));
    Some(text.into_bytes())
}

/// The fund-flow bill of `date`, `None` when no money moved.
pub(crate) fn fund_flow(ledger: &Ledger, date: &str) -> Option<Vec<u8>> {
    let mut moves: Vec<(i64, String, String, i64, String)> = Vec::new();
    for order in ledger.orders() {
        if let Some(at) = order.success_time.filter(|at| day(*at) == date) {
            moves.push((at, order.transaction_id.clone(), "交易".into(), order.total, order.out_trade_no.clone()));
        }
    }
    for refund in ledger.refunds() {
        if let Some(at) = refund.success_time.filter(|at| day(*at) == date && refund.status == RefundStatus::Success) {
            moves.push((at, refund.refund_id.clone(), "退款".into(), -refund.refund, refund.out_refund_no.clone()));
        }
    }
    if moves.is_empty() {
        return None;
    }
    moves.sort_by_key(|(at, ..)| *at);
    let mut text = String::from(
        "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,账户结余（元）,\
资金变更提交申请人,备注,业务凭证号\r\n",
    );
    let (mut balance, mut income, mut incomes, mut expense, mut expenses) = (0, 0, 0, 0, 0);
    for (at, id, kind, amount, voucher) in &moves {
        balance += amount;
        let direction = if *amount >= 0 { "收入" } else { "支出" };
        if *amount >= 0 {
            (income, incomes) = (income + amount, incomes + 1);
        } else {
            (expense, expenses) = (expense - amount, expenses + 1);
        }
        text.push_str(&format!(
            "`{},`{id},`{},`{kind},`{kind},`{direction},`{},`{},`system,`,`{voucher}\r\n",
            time(*at),
            crate::samples::wechat_id("5000", id),
            yuan(amount.abs()),
            yuan(balance),
        ));
    }
    text.push_str("资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\r\n");
    text.push_str(&format!("`{},`{incomes},`{},`{expenses},`{}\r\n", moves.len(), yuan(income), yuan(expense)));
    Some(text.into_bytes())
}
