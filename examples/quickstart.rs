//! A payment from start to refund, against the sandbox (`wechatpay-sdk-sandbox`, in-process, so
//! it runs anywhere): prepay (JSAPI) → the front end's `paySign` → the user pays → query → refund.
//!
//! ```sh
//! cargo run --example quickstart
//! ```
//!
//! Against WeChat Pay, drop the sandbox, leave `base_url` at its default and load your own
//! merchant id, certificate serial, private key and WeChat Pay public key.

use wechatpay::v3::pay::transactions::jsapi::post::{Amount, Payer};
use wechatpay::v3::pay::transactions::out_trade_no::by_out_trade_no::get as query;
use wechatpay::v3::refund::domestic::refunds::post as refund;
use wechatpay::{Client, MerchantKey, PublicKey};
use wechatpay_sdk_sandbox::{Config, Sandbox, Signer};

const APPID: &str = "wxd678efh567hg6787";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG=wechatpay=debug shows one span per request (method, path, status, Request-ID, duration).
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();

    // Fresh keys for both sides, generated at start.
    let sandbox = Sandbox::start(Config { signer: Signer::PublicKey, ..Config::default() }).await?;
    let keys = sandbox.keys();
    println!("sandbox at {} (merchant {})", sandbox.base_url(), keys.mchid());

    let client = Client::builder(keys.mchid(), keys.merchant_serial(), MerchantKey::from_pem(keys.merchant_key_pem())?)
        .wechatpay_public_key(keys.public_key_id(), PublicKey::from_pem(keys.public_key_pem())?)
        .base_url(sandbox.base_url())
        .build()?;
    println!("client: {client:?}");

    // 1. Prepay: create the order, get a prepay_id.
    let out_trade_no = "QUICKSTART-20240301-0001";
    let order = wechatpay::v3::pay::transactions::jsapi::post::Request::builder()
        .appid(APPID)
        .mchid(keys.mchid())
        .description("Image形象店-深圳腾大-QQ公仔")
        .out_trade_no(out_trade_no)
        .notify_url("https://www.weixin.qq.com/wxpay/pay.php")
        .amount(Amount::builder().total(100).currency("CNY"))
        .payer(Payer::builder().openid("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"))
        .build()?;
    let prepay = client.v3().pay().transactions().jsapi().post(order).await?;
    println!("1. prepay_id: {}", prepay.prepay_id);

    // 2. What the mini program passes to wx.requestPayment.
    let params = client.jsapi_pay_params(APPID, &prepay.prepay_id).await?;
    println!("2. wx.requestPayment({})", serde_json::to_string_pretty(&params)?);

    // The user pays (in the sandbox: its control API; WeChat Pay would now notify notify_url).
    sandbox.pay(out_trade_no)?;

    // 3. Query the order by the merchant's order number.
    let request = query::Request::builder().out_trade_no(out_trade_no).mchid(keys.mchid()).build()?;
    let transaction = client.send(request).await?;
    println!(
        "3. order {} is {:?} ({}), transaction {}",
        transaction.out_trade_no,
        transaction.trade_state,
        transaction.trade_state_desc.as_deref().unwrap_or("-"),
        transaction.transaction_id.as_deref().unwrap_or("-")
    );

    // 4. Refund half of it.
    let request = refund::Request::builder()
        .out_trade_no(out_trade_no)
        .out_refund_no("QUICKSTART-REFUND-0001")
        .reason("商品已售完")
        .amount(refund::Amount::builder().refund(50).total(100).currency("CNY"))
        .build()?;
    let refunded = client.v3().refund().domestic().refunds().post(request).await?;
    println!(
        "4. refund {} of {} fen: {} (refund id {})",
        refunded.out_refund_no, refunded.amount.refund, refunded.status, refunded.refund_id
    );

    // Errors keep WeChat Pay's code, message and Request-ID.
    let missing = query::Request::builder().out_trade_no("UNKNOWN-20240301-0002").mchid(keys.mchid()).build()?;
    if let Err(error) = client.send(missing).await {
        println!("5. a missing order: {error} (code {:?}, request id {:?})", error.code(), error.request_id());
    }
    Ok(())
}
