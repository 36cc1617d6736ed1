//! The seed operation as a user writes it: the catering order sync of the PHP sample on its
//! documentation page, built with the generated builder.

use serde_json::{json, Value};
use wechatpay::runtime::{Body, Number, Operation, Writing};
use wechatpay::v3::catering::orders::sync_status::post::{DishList, Properties, Request, RequestBuilder, Status, Unit};

/// The `json` the page's PHP sample sends, key for key.
fn php_sample() -> Value {
    json!({
        "sp_mchid": "1900000100",
        "sp_appid": "wx8888888888888888",
        "channel_id": "1900000109",
        "sub_mchid": "1900000100",
        "sub_appid": "wx8888888888888888",
        "out_shop_no": "6895",
        "sub_openid": "oYobu0Dmn6TdodZnFWKOEkqoRbI8",
        "login_token": "071oYFSN19sCH31AyNSN15QDSN1oYFSA",
        "order_entry": "http://www.example.com",
        "total_amount": 1000,
        "discount_amount": 100,
        "user_amount": 900,
        "status": "CREATE_DEAL",
        "action_time": "2018-06-08T10:34:56+08:00",
        "pay_time": "2018-06-08T10:34:56+08:00",
        "transaction_id": "1009660380201506130728806387",
        "out_trade_no": "20150806125346",
        "out_order_no": "20150806125346",
        "out_table_no": "1",
        "people_count": 2,
        "dish_list": [{
            "out_dish_no": "1",
            "name": "清汤锅底",
            "price": 1,
            "unit": "BY_SHARE",
            "count": 1.5,
            "discount": 100,
            "type": "FAST_FOOD",
            "priority": 1,
            "properties": {
                "taste": "辣",
                "cuisine": "炒",
                "main_material": "猪肝",
                "ingredients": "青椒 | 辣椒 | 葱 | 八角",
                "others": "有机 | 农家"
            }
        }]
    })
}

fn properties() -> wechatpay::v3::catering::orders::sync_status::post::PropertiesBuilder {
    Properties::builder()
        .cuisine("炒")
        .main_material("猪肝")
        .ingredients("青椒 | 辣椒 | 葱 | 八角")
        .others("有机 | 农家")
}

fn dish() -> wechatpay::v3::catering::orders::sync_status::post::DishListBuilder {
    DishList::builder()
        .out_dish_no("1")
        .name("清汤锅底")
        .price(1)
        .unit(Unit::ByShare)
        .count("1.5".parse::<Number>().unwrap())
        .discount(100)
        .r#type("FAST_FOOD")
        .priority(1)
}

fn order() -> RequestBuilder {
    Request::builder()
        .sp_mchid("1900000100")
        .sp_appid("wx8888888888888888")
        .channel_id("1900000109")
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
        .pay_time("2018-06-08T10:34:56+08:00")
        .transaction_id("1009660380201506130728806387")
        .out_trade_no("20150806125346")
        .out_order_no("20150806125346")
        .out_table_no("1")
        .people_count(2)
}

fn body(request: &Request) -> Vec<u8> {
    match request.body(&mut Writing::unsealed()).unwrap() {
        Body::Json(bytes) => bytes,
        other => panic!("expected a JSON body, got {other:?}"),
    }
}

#[test]
fn builds_the_json_the_php_sample_sends() {
    let request = order()
        .sub_mchid("1900000100")
        .dish_list(dish().properties(properties().taste("辣")))
        .build()
        .expect("every required field is set");
    let sent = body(&request);
    let sent: Value = serde_json::from_slice(&sent).unwrap();
    assert_eq!(sent, php_sample());
    // Keys go out in the documented order, as the PHP array lists them.
    let keys = |value: &Value| value.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&sent), keys(&php_sample()));

    assert_eq!(<Request as Operation>::METHOD.as_str(), "POST");
    assert_eq!(request.path(&mut Writing::unsealed()), "/v3/catering/orders/sync-status");
    assert!(request.query(&mut Writing::unsealed()).is_empty());
}

#[test]
fn one_build_error_names_every_missing_field_by_json_path() {
    let error = order()
        .dish_list(dish().properties(properties()))
        .build()
        .expect_err("sub_mchid and the dish's taste are missing");
    assert_eq!(error.missing(), ["sub_mchid", "dish_list[0].properties.taste"]);
    assert!(error.to_string().contains("dish_list[0].properties.taste"), "{error}");
}

#[test]
fn a_required_field_inside_an_absent_optional_object_is_not_required() {
    let request = order().sub_mchid("1900000100").dish_list(dish()).build();
    assert!(request.is_ok(), "{request:?}");
}

#[test]
fn an_unknown_status_round_trips_unchanged() {
    let status: Status = serde_json::from_value(json!("PARTIALLY_REFUNDED")).unwrap();
    assert!(matches!(&status, Status::Unknown(value) if value.as_str() == "PARTIALLY_REFUNDED"), "{status:?}");
    assert_eq!(status.as_str(), "PARTIALLY_REFUNDED");
    // A documented value is always its variant: `Unknown` cannot be made to hold it.
    assert_eq!(Status::from("PAY_SUCCESS"), Status::PaySuccess);
    assert_eq!(serde_json::to_value(&status).unwrap(), json!("PARTIALLY_REFUNDED"));
    let known: Status = serde_json::from_value(json!("PAY_SUCCESS")).unwrap();
    assert_eq!(known, Status::PaySuccess);

    let request = order()
        .sub_mchid("1900000100")
        .status(status)
        .dish_list(dish().properties(properties().taste("辣")))
        .build()
        .unwrap();
    let sent: Value = serde_json::from_slice(&body(&request)).unwrap();
    let mut expected = php_sample();
    expected["status"] = json!("PARTIALLY_REFUNDED");
    assert_eq!(sent, expected);
}
