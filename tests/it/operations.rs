//! The operations end to end, as a merchant calls them: signed requests the sandbox accepts,
//! verified and typed answers.

use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier as _;
use rsa::RsaPublicKey;
use sha2::{Digest as _, Sha256};
use wechatpay::runtime::{Encrypted, File};
use wechatpay::{BillFile, Client, Error};

use crate::fixtures::keys::{self, pem};
use crate::support::*;
use base64::Engine as _;
use wechatpay_sdk_sandbox::Sandbox;

const APPID: &str = "wxd678efh567hg6787";

fn jsapi_order(out_trade_no: &str) -> wechatpay::v3::pay::transactions::jsapi::post::Request {
    use wechatpay::v3::pay::transactions::jsapi::post::{Amount, Payer, Request};
    Request::builder()
        .appid(APPID)
        .mchid(keys::MERCHANT_ID)
        .description("Image形象店-深圳腾大-QQ公仔")
        .out_trade_no(out_trade_no)
        .notify_url("https://www.weixin.qq.com/wxpay/pay.php")
        .amount(Amount::builder().total(100).currency("CNY"))
        .payer(Payer::builder().openid("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"))
        .build()
        .expect("complete order")
}

/// Verifies `signature` over `lines` (each followed by `\n`) with the merchant's public key, using
/// RustCrypto rather than the SDK's own crypto.
fn merchant_signed(lines: &[&str], signature: &str) -> bool {
    let key = RsaPublicKey::from_public_key_pem(&pem("merchant_public.pem")).expect("merchant_public.pem");
    let message: String = lines.iter().map(|line| format!("{line}\n")).collect();
    let signature = base64::engine::general_purpose::STANDARD.decode(signature).expect("Base64 signature");
    let signature = Signature::try_from(signature.as_slice()).expect("signature bytes");
    VerifyingKey::<Sha256>::new(key).verify(message.as_bytes(), &signature).is_ok()
}

#[tokio::test]
async fn catering_sync_status_through_the_chain_answers_204_and_is_signed() {
    use wechatpay::v3::catering::orders::sync_status::post::{DishList, Properties, Request, Status, Unit};
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let request = Request::builder()
        .sp_mchid("1900000100")
        .channel_id("1900000109")
        .sub_mchid("1900000100")
        .sub_appid("wx8888888888888888")
        .out_shop_no("6895")
        .sub_openid("oYobu0Dmn6TdodZnFWKOEkqoRbI8")
        .login_token("071oYFSN19sCH31AyNSN15QDSN1oYFSA")
        .order_entry("http://www.example.com")
        .total_amount(1000)
        .discount_amount(100)
        .user_amount(900)
        .status(Status::CreateDeal)
        .action_time("2018-06-08T10:34:56+08:00")
        .out_order_no("20150806125346")
        .dish_list(
            DishList::builder()
                .out_dish_no("1")
                .name("清汤锅底")
                .price(1)
                .unit(Unit::ByShare)
                .count("1.5".parse::<wechatpay::runtime::Number>().unwrap())
                .discount(100)
                .r#type("FAST_FOOD")
                .priority(1)
                .properties(
                    Properties::builder()
                        .taste("辣")
                        .cuisine("炒")
                        .main_material("猪肝")
                        .ingredients("葱")
                        .others("有机"),
                ),
        )
        .build()
        .expect("complete request");

    client.v3().catering().orders().sync_status().post(request).await.expect("204 accepted");

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert!(sent.authorization_ok, "the server rejected the signature");
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path_and_query, "/v3/catering/orders/sync-status");
    assert_eq!(header(sent, "accept"), Some("application/json"));
    assert_eq!(header(sent, "content-type"), Some("application/json"));
    assert!(header(sent, "user-agent").unwrap_or_default().starts_with("wechatpay-rust/"));
    assert!(header(sent, "authorization").unwrap_or_default().starts_with("WECHATPAY2-SHA256-RSA2048 "));
}

#[tokio::test]
async fn payscore_sync_fills_the_path_parameter_and_decodes_the_order() {
    use wechatpay::v3::payscore::serviceorder::by_out_order_no::sync::post::{Detail, Request};
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let request = Request::builder()
        .out_order_no("1234323JKHDFE1243252")
        .appid(APPID)
        .service_id("500001")
        .r#type("Order_Paid")
        .detail(Detail::builder().paid_time("20091225091210"))
        .build()
        .unwrap();

    let order = client.v3().payscore().serviceorder().by_out_order_no().sync().post(request).await.expect("synced");

    assert_eq!(order.out_order_no, "1234323JKHDFE1243252");
    assert_eq!(order.service_id, "500001");
    assert_eq!(order.state, "DONE");
    assert_eq!(server.requests()[0].path_and_query, "/v3/payscore/serviceorder/1234323JKHDFE1243252/sync");
}

#[tokio::test]
async fn prepay_then_pay_sign_for_jsapi_and_app() {
    let server = public_key_server().await;
    let client = public_key_client(&server);

    let prepay =
        client.v3().pay().transactions().jsapi().post(jsapi_order("1217752501201407033233368018")).await.unwrap();
    assert!(prepay.prepay_id.starts_with("wx"), "{}", prepay.prepay_id);

    let jsapi = client.jsapi_pay_params(APPID, &prepay.prepay_id).await.unwrap();
    assert_eq!(jsapi.package, format!("prepay_id={}", prepay.prepay_id));
    assert_eq!(jsapi.sign_type, "RSA");
    assert!(merchant_signed(&[&jsapi.app_id, &jsapi.time_stamp, &jsapi.nonce_str, &jsapi.package], &jsapi.pay_sign));
    let json = serde_json::to_value(&jsapi).unwrap();
    assert_eq!(json["appId"], APPID);
    assert_eq!(json["paySign"], jsapi.pay_sign.as_str());

    let app = client.app_pay_params(APPID, &prepay.prepay_id).await.unwrap();
    assert_eq!((app.partnerid.as_str(), app.package.as_str()), (keys::MERCHANT_ID, "Sign=WXPay"));
    assert!(merchant_signed(&[&app.appid, &app.timestamp, &app.noncestr, &app.prepayid], &app.sign));
}

#[tokio::test]
async fn query_percent_encodes_the_path_parameter_keeping_its_case() {
    use wechatpay::v3::pay::transactions::out_trade_no::by_out_trade_no::get::Request;
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let out_trade_no = "Order/Ab 1+2%中";
    let request = Request::builder().out_trade_no(out_trade_no).mchid(keys::MERCHANT_ID).build().unwrap();

    let transaction = client.send(request).await.expect("query");

    assert_eq!(transaction.out_trade_no, out_trade_no);
    assert_eq!(transaction.mchid.as_deref(), Some(keys::MERCHANT_ID));
    let sent = &server.requests()[0];
    assert_eq!(
        sent.path_and_query,
        "/v3/pay/transactions/out-trade-no/Order%2FAb%201%2B2%25%E4%B8%AD?mchid=1900000109"
    );
    assert!(sent.authorization_ok);
}

#[tokio::test]
async fn query_by_transaction_id_through_the_chain() {
    use wechatpay::v3::pay::transactions::id::by_transaction_id::get::Request;
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let request =
        Request::builder().transaction_id("4200000985202103031441826014").mchid(keys::MERCHANT_ID).build().unwrap();

    let transaction = client.v3().pay().transactions().id().by_transaction_id().get(request).await.unwrap();

    assert_eq!(transaction.appid.as_deref(), Some(APPID));
    assert_eq!(transaction.transaction_id.as_deref(), Some("4200000985202103031441826014"));
}

#[tokio::test]
async fn close_answers_204_no_content() {
    use wechatpay::v3::pay::transactions::out_trade_no::by_out_trade_no::close::post::Request;
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let request =
        Request::builder().out_trade_no("1217752501201407033233368018").mchid(keys::MERCHANT_ID).build().unwrap();

    client.send(request).await.expect("closed");

    let sent = &server.requests()[0];
    assert_eq!(sent.path_and_query, "/v3/pay/transactions/out-trade-no/1217752501201407033233368018/close");
    assert_eq!(String::from_utf8_lossy(&sent.body), r#"{"mchid":"1900000109"}"#);
}

#[tokio::test]
async fn refund_is_created_and_decoded() {
    use wechatpay::v3::refund::domestic::refunds::post::{Amount, Request};
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let request = Request::builder()
        .out_trade_no("1217752501201407033233368018")
        .out_refund_no("1217752501201407033233368019")
        .reason("商品已售完")
        .amount(Amount::builder().refund(50).total(100).currency("CNY"))
        .build()
        .unwrap();

    let refund = client.v3().refund().domestic().refunds().post(request).await.expect("refund");

    assert_eq!(refund.out_refund_no, "1217752501201407033233368019");
    assert_eq!(refund.amount.refund, 50);
    assert_eq!(refund.amount.total, 100);
}

#[tokio::test]
async fn media_upload_signs_the_meta_text_and_sends_both_parts() {
    use wechatpay::v3::merchant::media::upload::post::{Meta, Request};
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let image = b"\x89PNG\r\n\x1a\n not really an image, but bytes".to_vec();
    let sha256: String = Sha256::digest(&image).iter().map(|byte| format!("{byte:02x}")).collect();
    let request = Request::builder()
        .file(File::new("avatar.png", image.clone()))
        .meta(Meta::builder().filename("avatar.png").sha256(&sha256))
        .build()
        .unwrap();

    let uploaded = client.v3().merchant().media().upload().post(request).await.expect("upload");

    assert!(!uploaded.media_id.is_empty());
    let sent = &server.requests()[0];
    assert!(sent.authorization_ok, "the signed body must be the meta JSON");
    assert!(header(sent, "content-type").unwrap_or_default().starts_with("multipart/form-data; boundary="));
    assert!(contains(&sent.body, b"Content-Type: image/png"));
    assert!(contains(&sent.body, b"filename=\"avatar.png\""));
    assert!(contains(&sent.body, &image));
}

#[tokio::test]
async fn an_upload_gets_its_file_name_and_digest_from_the_file() {
    use wechatpay::v3::merchant::media::upload::post::{Meta, Request};
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let image = b"\x89PNG\r\n\x1a\n bytes whose digest the client computes".to_vec();
    let request =
        Request::builder().file(File::new("avatar.png", image.clone())).meta(Meta::builder()).build().unwrap();

    client.send(request).await.expect("the server checked the SHA-256 the client computed");

    let sent = &server.requests()[0];
    let sha256: String = Sha256::digest(&image).iter().map(|byte| format!("{byte:02x}")).collect();
    assert!(contains(&sent.body, format!(r#"{{"sha256":"{sha256}","filename":"avatar.png"}}"#).as_bytes()));
}

/// `new-tax-control-fapiao/…/upload-fapiao-file` requires `digest_alogrithm: SM3` and the file's
/// SM3: both filled by the client, checked by the server.
#[tokio::test]
async fn an_invoice_upload_carries_the_sm3_digest_of_its_file() {
    use wechatpay::v3::new_tax_control_fapiao::fapiao_applications::upload_fapiao_file::post::{
        FileType, Meta, Request,
    };
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let pdf = b"%PDF-1.7 an electronic invoice".to_vec();
    let request = Request::builder()
        .file(File::new("fapiao.pdf", pdf.clone()))
        .meta(Meta::builder().file_type(FileType::Pdf))
        .build()
        .unwrap();

    let uploaded = client.send(request).await.expect("the server checked the SM3 the client computed");

    assert!(!uploaded.fapiao_media_id.is_empty());
    let sent = &server.requests()[0];
    let meta = format!(r#""digest_alogrithm":"SM3","digest":"{}""#, wechatpay::digest::sm3_hex(&pdf));
    assert!(contains(&sent.body, meta.as_bytes()), "{}", String::from_utf8_lossy(&sent.body));
}

#[tokio::test]
async fn bill_download_checks_the_sha1_digest() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let bill = trade_bill(&client).await;
    assert_eq!(bill.hash_type, "SHA1");

    let file = client.download_bill(&bill).await.expect("download");
    assert!(!file.is_empty());

    let mut written = Vec::new();
    let count = client.download_bill_to(&bill, &mut written).await.expect("download to a writer");
    assert_eq!((count as usize, &written), (file.len(), &file));

    let downloads = requests_to(&server, "/v3/billdownload/file");
    assert_eq!(downloads.len(), 2);
    assert!(downloads.iter().all(|request| request.authorization_ok), "downloads are signed with their path and query");
}

#[tokio::test]
async fn a_corrupted_bill_is_a_digest_error() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let bill = trade_bill(&client).await;
    server.corrupt_bill(true);

    let error = client.download_bill(&bill).await.expect_err("corrupted");
    match error {
        Error::Digest { expected, actual } => {
            assert_eq!(expected, bill.hash_value.to_ascii_lowercase());
            assert_ne!(expected, actual);
        }
        other => panic!("expected a digest error, got {other:?}"),
    }

    let mut stream =
        client.download_bill_stream(BillFile::new(&bill.download_url, "SHA1", &bill.hash_value)).await.unwrap();
    let mut last = None;
    while let Some(item) = stream.next_chunk().await {
        last = Some(item);
    }
    assert!(matches!(last, Some(Err(Error::Digest { .. }))), "the stream ends with the digest error");
}

#[tokio::test]
async fn not_found_maps_to_an_api_error_with_code_message_and_request_id() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    use wechatpay::v3::pay::transactions::id::by_transaction_id::get::Request;
    let request = Request::builder()
        .transaction_id(format!("{}4200", wechatpay_sdk_sandbox::MISSING_RESOURCE_PREFIX))
        .mchid(keys::MERCHANT_ID)
        .build()
        .unwrap();

    let error = client.send(request).await.expect_err("404");

    assert_eq!(error.status(), Some(http::StatusCode::NOT_FOUND));
    assert_eq!(error.code(), Some("RESOURCE_NOT_EXISTS"));
    assert!(error.request_id().is_some_and(|id| !id.is_empty()));
    match &error {
        Error::Api { message, body, .. } => {
            assert!(!message.is_empty());
            assert!(body.is_none(), "a verified error document is not kept raw");
        }
        other => panic!("expected Error::Api, got {other:?}"),
    }
    assert!(error.to_string().contains("RESOURCE_NOT_EXISTS"), "{error}");
}

#[tokio::test]
async fn an_order_wechat_pay_never_saw_is_order_not_exist() {
    use wechatpay::v3::pay::transactions::out_trade_no::by_out_trade_no::get::Request;
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let out_trade_no = format!("{}1217752501", wechatpay_sdk_sandbox::UNKNOWN_ORDER_PREFIX);
    let request = Request::builder().out_trade_no(out_trade_no).mchid(keys::MERCHANT_ID).build().unwrap();

    let error = client.send(request).await.expect_err("404");

    assert_eq!(error.status(), Some(http::StatusCode::NOT_FOUND));
    assert_eq!(error.code(), Some("ORDER_NOT_EXIST"));
    assert!(error.to_string().contains("订单不存在"), "{error}");
}

#[tokio::test]
async fn parameter_errors_keep_their_detail() {
    use wechatpay::v3::bill::tradebill::get::Request;
    let server = public_key_server().await;
    let client = public_key_client(&server);

    let error = client.send(Request::builder().bill_date("2024/03/01").build().unwrap()).await.expect_err("400");

    match error {
        Error::Api { status, code, detail: Some(detail), .. } => {
            assert_eq!((status.as_u16(), code.as_str()), (400, "PARAM_ERROR"));
            assert_eq!(detail["location"], "query");
        }
        other => panic!("expected Error::Api with detail, got {other:?}"),
    }
    assert_eq!(
        requests_to(&server, "/v3/bill/tradebill")[0].path_and_query,
        "/v3/bill/tradebill?bill_date=2024%2F03%2F01"
    );
}

#[tokio::test]
async fn sensitive_fields_are_encrypted_with_the_public_key_and_named_in_wechatpay_serial() {
    use wechatpay::v3::profitsharing::orders::post::{Receivers, Request};
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let receiver = |account: &str, name: &str| {
        Receivers::builder().r#type("PERSONAL_OPENID").account(account).name(name).amount(10).description("分给商户")
    };
    let request = Request::builder()
        .appid(APPID)
        .transaction_id("4208450740201411110007820472")
        .out_order_no("P20150806125346")
        .receivers(receiver("86693852", "张三"))
        .receivers(receiver("86693853", "Ada Lovelace"))
        .unfreeze_unsplit(true)
        .build()
        .unwrap();

    client.send(request).await.expect("profit sharing order");

    let sent = &server.requests()[0];
    assert_eq!(
        sent.decrypted,
        vec![
            ("receivers[0].name".to_owned(), "张三".to_owned()),
            ("receivers[1].name".to_owned(), "Ada Lovelace".to_owned())
        ]
    );
    assert_eq!(header(sent, "wechatpay-serial"), Some(keys::PUBLIC_KEY_ID));
    assert!(!contains(&sent.body, "张三".as_bytes()) && !contains(&sent.body, b"Ada Lovelace"));
    assert!(sent.authorization_ok, "the encrypted body is the signed body");
}

#[tokio::test]
async fn a_prepared_request_sent_by_another_http_client_is_accepted() {
    use wechatpay::v3::profitsharing::orders::post::{Receivers, Request};
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let request = Request::builder()
        .appid(APPID)
        .transaction_id("4208450740201411110007820472")
        .out_order_no("P20150806125347")
        .receivers(
            Receivers::builder()
                .r#type("PERSONAL_OPENID")
                .account("86693852")
                .name("张三")
                .amount(10)
                .description("分给商户"),
        )
        .unfreeze_unsplit(true)
        .build()
        .unwrap();

    let prepared = client.prepare(&request).await.unwrap();

    assert_eq!(prepared.url().as_str(), format!("{}v3/profitsharing/orders", server.base_url()));
    assert_eq!(prepared.headers()["wechatpay-serial"], keys::PUBLIC_KEY_ID);
    let body = prepared.body().and_then(|body| body.as_bytes()).unwrap().to_vec();
    assert!(!contains(&body, "张三".as_bytes()), "the name is encrypted before sending");
    let answer = reqwest::Client::new().execute(prepared).await.unwrap();
    let status = answer.status();
    let headers = answer.headers().clone();
    let answer_body = answer.bytes().await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer_body));
    client
        .wechatpay_keys()
        .verify(&headers, &answer_body, std::time::SystemTime::now())
        .expect("the answer verifies with the client's keys");
    let sent = &server.requests()[0];
    assert!(sent.authorization_ok);
    assert_eq!(sent.decrypted, vec![("receivers[0].name".to_owned(), "张三".to_owned())]);
}

#[tokio::test]
async fn payer_identity_of_a_prepay_is_encrypted() {
    use wechatpay::v3::pay::transactions::jsapi::post::{Amount, Identity, Payer, Request};
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let request = Request::builder()
        .appid(APPID)
        .mchid(keys::MERCHANT_ID)
        .description("实名支付")
        .out_trade_no("REAL-NAME-1")
        .notify_url("https://www.weixin.qq.com/wxpay/pay.php")
        .amount(Amount::builder().total(1))
        .payer(
            Payer::builder()
                .openid("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
                .identity(Identity::builder().r#type("IDCARD").number("110101199003070000").name("李四")),
        )
        .build()
        .unwrap();
    assert!(!format!("{request:?}").contains("110101199003070000"), "Debug of the request redacts it");

    client.send(request).await.expect("prepay");

    let sent = &server.requests()[0];
    assert!(!contains(&sent.body, b"110101199003070000") && !contains(&sent.body, "李四".as_bytes()));
    assert_eq!(header(sent, "wechatpay-serial"), Some(keys::PUBLIC_KEY_ID));
}

#[tokio::test]
async fn debug_output_has_no_key_material() {
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let client = builder(&server)
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .apiv3_key(apiv3_key())
        .build()
        .unwrap();
    let printed = format!("{client:?} {:?}", builder(&server).apiv3_key(apiv3_key()));

    assert!(printed.contains(keys::MERCHANT_ID) && printed.contains(keys::PUBLIC_KEY_ID), "{printed}");
    assert!(!printed.contains(keys::APIV3_KEY), "{printed}");
    let private_key = pem("merchant_key.pem");
    for line in private_key.lines().filter(|line| !line.starts_with("-----")) {
        assert!(!printed.contains(line), "private key material in {printed}");
    }
    assert!(!printed.contains("PRIVATE"), "{printed}");
}

#[tokio::test]
async fn several_merchants_share_one_http_client() {
    let server = public_key_server().await;
    let shared = reqwest::Client::new();
    let first = builder(&server)
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .http_client(shared.clone())
        .user_agent("merchant-one/1.0")
        .build()
        .unwrap();
    let second = first.clone();

    let (a, b) = tokio::join!(
        first.send(jsapi_order("SHARED-1")),
        second.v3().pay().transactions().jsapi().post(jsapi_order("SHARED-2"))
    );
    a.unwrap();
    b.unwrap();

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|request| header(request, "user-agent") == Some("merchant-one/1.0")));
    let nonces: std::collections::HashSet<_> =
        requests.iter().map(|request| header(request, "authorization")).collect();
    assert_eq!(nonces.len(), 2, "every request has its own nonce and signature");
}

#[test]
fn client_is_send_sync_and_clone() {
    fn assert_traits<T: Send + Sync + Clone + 'static>() {}
    assert_traits::<Client>();
}

/// An operation written by hand (not generated): `send` takes anything implementing `Operation`,
/// and an operation naming its own host is sent there.
mod custom {
    use wechatpay::runtime::{Body, Method, Operation, ResponseKind, Writing};

    pub struct QueryElsewhere {
        pub host: String,
        pub out_trade_no: String,
    }

    #[derive(Debug)]
    pub struct Found {
        pub out_trade_no: String,
    }

    impl wechatpay::runtime::FromJson for Found {
        fn read(reader: &mut wechatpay::runtime::Reader<'_, '_>) -> Result<Self, wechatpay::runtime::DecodeError> {
            let member = |key: &str| if key == "out_trade_no" { 0 } else { usize::MAX };
            let mut out_trade_no = None;
            let mut next = reader.first_member(member)?;
            while let Some(index) = next {
                match index {
                    0 => reader.member_required("out_trade_no", &mut out_trade_no)?,
                    _ => reader.skip()?,
                }
                next = reader.next_member(member)?;
            }
            Ok(Found { out_trade_no: reader.required(out_trade_no, "out_trade_no")? })
        }
    }
    impl wechatpay::runtime::ToJson for Found {
        fn to_json(&self, _out: &mut wechatpay::runtime::Writing<'_>) -> serde_json::Value {
            serde_json::json!({ "out_trade_no": self.out_trade_no })
        }
    }
    impl wechatpay::runtime::JsonResponse for Found {
        const MEMBERS: &'static [&'static str] = &["out_trade_no"];
        const ANY_REQUIRED: bool = true;
    }

    impl Operation for QueryElsewhere {
        type Response = Found;
        const METHOD: Method = Method::Get;
        const PATH: &'static str = "/v3/pay/transactions/out-trade-no/{out_trade_no}";
        const RESPONSE: ResponseKind = ResponseKind::Json;
        const ENCRYPTED: &'static [&'static str] = &[];
        const DEFAULT_BASE_URI: Option<&'static str> = None;

        fn path(&self, _out: &mut Writing<'_>) -> String {
            format!("/v3/pay/transactions/out-trade-no/{}", wechatpay::runtime::encode_path_segment(&self.out_trade_no))
        }

        fn query(&self, _out: &mut Writing<'_>) -> Vec<(&'static str, String)> {
            vec![("mchid", super::keys::MERCHANT_ID.to_owned())]
        }

        fn headers(&self, _out: &mut Writing<'_>) -> Vec<(&'static str, String)> {
            Vec::new()
        }

        fn body(&self, _out: &mut Writing<'_>) -> Result<Body, serde_json::Error> {
            Ok(Body::Empty)
        }

        fn base_uri(&self) -> Option<&str> {
            Some(&self.host)
        }
    }
}

#[tokio::test]
async fn an_operation_naming_its_own_host_is_sent_there_when_the_client_trusts_it() {
    let usual = public_key_server().await;
    let elsewhere = public_key_server().await;
    // Not a WeChat Pay host: allowed because the client was configured with it.
    let client = builder(&usual)
        .backup_url(Some(&elsewhere.base_url()))
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .build()
        .unwrap();

    let found = client
        .send(custom::QueryElsewhere { host: elsewhere.base_url(), out_trade_no: "HK-1".into() })
        .await
        .expect("answered by the operation's host");

    assert_eq!(found.out_trade_no, "HK-1");
    assert_eq!((usual.requests().len(), elsewhere.requests().len()), (0, 1));
    assert!(elsewhere.requests()[0].authorization_ok);
}

#[tokio::test]
async fn a_base_uri_outside_wechatpay_and_the_clients_hosts_is_refused_before_sending() {
    let usual = public_key_server().await;
    let elsewhere = public_key_server().await;
    let client = public_key_client(&usual);
    for host in [elsewhere.base_url(), "http://api.mch.weixin.qq.com/".to_owned(), "https://example.com/".to_owned()] {
        let error = client
            .send(custom::QueryElsewhere { host: host.clone(), out_trade_no: "HK-1".into() })
            .await
            .expect_err("not a host for signed requests");
        assert!(matches!(&error, Error::BaseUri { .. }), "{host}: {error:?}");
        assert!(!error.outcome_unknown(), "nothing was sent");
    }
    // The same through the registry's JSON, where `base_uri` is any string a caller passes on.
    let info = wechatpay::registry::find("GET", "/v3/global/refund/recharge-balance").expect("documented");
    let op =
        wechatpay_sdk_sandbox::pages::find(wechatpay_sdk_sandbox::pages::api(), "GET", info.path).expect("documented");
    let fields = wechatpay_sdk_sandbox::pages::request_json(op, "http://attacker.example/");
    let request = info.request_from_json(fields).expect("builds");
    let error = client.send_erased(request).await.expect_err("refused");
    assert!(matches!(&error, Error::BaseUri { origin } if origin == "http://attacker.example"), "{error:?}");
    assert!(usual.requests().is_empty() && elsewhere.requests().is_empty(), "nothing reached either server");
}

#[tokio::test]
async fn a_pkcs1_merchant_key_signs_the_same() {
    let server = public_key_server().await;
    let key = wechatpay::MerchantKey::from_pem(&pem("merchant_key_pkcs1.pem")).unwrap();
    let client = Client::builder(keys::MERCHANT_ID, keys::MERCHANT_SERIAL, key)
        .base_url(server.base_url())
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .build()
        .unwrap();
    client.send(jsapi_order("PKCS1-1")).await.expect("accepted");
    assert!(server.requests()[0].authorization_ok);
}

#[tokio::test]
async fn fields_encrypted_for_the_merchant_are_decrypted_with_its_key() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let ciphertext = merchant_key().public_key().encrypt("13800138000").unwrap();

    let plaintext = client.decrypt(&Encrypted::new(ciphertext)).await.expect("decrypted");

    assert_eq!(plaintext.expose(), "13800138000");
    assert_eq!(format!("{plaintext:?}"), "Sensitive(<redacted>)");
    assert!(matches!(client.decrypt(&Encrypted::new("not base64!")).await, Err(Error::Crypto(_))));
}

#[tokio::test]
async fn dot_segments_and_empty_path_values_are_refused_before_sending() {
    use wechatpay::v3::refund::domestic::refunds::by_out_refund_no::get::Request;
    let server = public_key_server().await;
    let client = public_key_client(&server);
    for value in ["..", ".", ""] {
        let message = match Request::builder().out_refund_no(value).build() {
            Err(error) => error.to_string(),
            Ok(request) => client.send(request).await.expect_err("refused").to_string(),
        };
        assert!(message.contains("out_refund_no"), "{value:?}: {message}");
    }
    assert!(server.requests().is_empty(), "nothing sent: {:?}", server.requests());
}

#[tokio::test]
async fn the_authorization_of_a_prepared_request_is_sensitive_and_not_in_its_debug() {
    let server = public_key_server().await;
    let client = public_key_client(&server);

    let prepared = client.prepare(&query(ORDER)).await.unwrap();

    let authorization = &prepared.headers()["authorization"];
    assert!(authorization.is_sensitive());
    let signature = authorization.to_str().unwrap().split("signature=\"").nth(1).unwrap()[..40].to_owned();
    let shown = format!("{prepared:?}");
    assert!(!shown.contains(&signature) && !shown.contains("WECHATPAY2"), "{shown}");
}

#[tokio::test]
async fn api_calls_do_not_follow_redirects() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    server.misbehave(wechatpay_sdk_sandbox::Misbehaviour::Redirect(format!(
        "/v3/pay/transactions/out-trade-no/{ORDER}?mchid=1900000109"
    )));

    let error = client.send(query("REDIRECTED")).await.expect_err("a redirect is not an answer");

    assert_eq!(server.requests().len(), 1, "not followed: {error:?}");
    assert!(error.outcome_unknown());
}

#[tokio::test]
async fn the_client_fills_the_merchant_id_left_unset_and_keeps_one_set() {
    use wechatpay::v3::pay::transactions::out_trade_no::by_out_trade_no::get::Request;
    let server = public_key_server().await;
    let client = public_key_client(&server);

    let request = Request::builder().out_trade_no(ORDER).build().expect("mchid is the client's to fill");
    let reply = client.send(request).await.unwrap();

    let sent = &server.requests()[0];
    assert_eq!(sent.path_and_query, format!("/v3/pay/transactions/out-trade-no/{ORDER}?mchid={}", keys::MERCHANT_ID));
    assert_eq!(reply.status(), http::StatusCode::OK);
    assert!(reply.headers().contains_key("wechatpay-signature"));
    assert_eq!(reply.request_id(), reply.headers().get("request-id").and_then(|v| v.to_str().ok()));

    let request = Request::builder().out_trade_no(ORDER).mchid("1230000109").build().unwrap();
    client.send(request).await.unwrap();
    assert!(server.requests()[1].path_and_query.ends_with("?mchid=1230000109"), "a value set is sent as set");
}

/// What the service really sends, off the documented shape, through the client: the order query's
/// answer with a required field left out, numbers as strings and a string as a number decodes,
/// the defaulted field is named; a value of the wrong kind is an error naming its JSON path.
#[tokio::test]
async fn an_answer_off_the_documented_shape_decodes_leniently_through_the_client() {
    use wechatpay::types::TradeState;
    use wechatpay_sdk_sandbox::Misbehaviour;

    let server = public_key_server().await;
    let client = public_key_client(&server);
    server.misbehave(Misbehaviour::SignedBody(
        br#"{"out_trade_no": 1217, "mchid": "1230000109",
             "amount": {"total": "100", "payer_total": 100.0, "currency": "CNY"},
             "promotion_detail": [{"coupon_id": 109519, "amount": "5"}]}"#
            .to_vec(),
    ));
    let order = client.send(query("1217")).await.expect("decodes leniently");
    let paths: Vec<&str> = order.deviations().iter().map(|deviation| deviation.path.as_str()).collect();
    assert_eq!(paths, ["trade_state"], "the absence stays visible");
    assert_eq!(order.out_trade_no, "1217");
    assert_eq!((order.amount.total, order.amount.payer_total), (100, Some(100)));
    assert!(!matches!(order.trade_state, TradeState::Success), "a defaulted state is no state");
    let promotion = &order.promotion_detail.as_ref().expect("kept")[0];
    assert_eq!((promotion.coupon_id.as_str(), promotion.amount), ("109519", 5));

    // A value of another kind: the verified answer still decodes (the call happened at WeChat
    // Pay); the value is defaulted and named, the whole body stays readable, and `strict` refuses.
    server.misbehave(Misbehaviour::SignedBody(
        br#"{"out_trade_no": "1217", "trade_state": "SUCCESS", "amount": {"total": 100}, "undocumented": {"x": 1},
             "promotion_detail": [{"coupon_id": "1", "amount": 5}, {"coupon_id": "2", "amount": "five"}]}"#
            .to_vec(),
    ));
    let order = client.send(query("1217")).await.expect("a verified answer always decodes");
    assert_eq!(order.deviations().len(), 1, "{:?}", order.deviations());
    assert_eq!(order.deviations()[0].path, "promotion_detail[1].amount");
    assert_eq!(order.promotion_detail.as_ref().expect("kept")[1].amount, 0, "defaulted");
    assert!(matches!(order.trade_state, TradeState::Success), "what fits is typed");
    let json = order.json().expect("the verified body");
    assert_eq!(
        (json["promotion_detail"][1]["amount"].as_str(), json["undocumented"]["x"].as_i64()),
        (Some("five"), Some(1))
    );
    let error = order.strict().expect_err("strict refuses a defaulted value");
    assert!(matches!(&error, Error::Deviated { deviations, .. } if deviations.len() == 1), "{error:?}");
    assert!(error.outcome_unknown(), "the request succeeded: never a definite failure");
    assert!(error.to_string().contains("promotion_detail[1].amount"), "{error}");
}
