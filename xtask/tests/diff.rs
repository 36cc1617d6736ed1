//! `cargo xtask diff`, one change kind at a time, on pages small enough to read here.
//!
//! Each test writes an old and a new docs tree (pages in the real table format), diffs them
//! through the loader, and checks the kind, path and classification of what is reported.

use std::fs;
use std::path::Path;
use std::process::Command;

use clap::Parser;
use serde_json::Value;
use xtask::cli::{self, Cli};
use xtask::diff::{diff_dirs, run, Change, Kind, Options, Subject, TypePair};

/// A page with one operation: `rows` of the request table, then of the response table.
fn op(method: &str, request: &str, response: &str) -> String {
    format!(
        "---\ntitle: 示例\ndescription: 一个示例接口\n---\n\n# {{{{ $frontmatter.title }}}} {{#{method}}}\n\n{{{{ $frontmatter.description }}}}\n\n\
         | 请求参数 | 类型 {{.type}} | 描述 {{.desc}}\n| --- | --- | ---\n{}\n\n{{.im-table #request}}\n\n\
         ```php [同步声明式]\n$instance->chain('v3/demo')->post(['json' => []]);\n```\n\n\
         | 返回字典 | 类型 {{.type}} | 描述 {{.desc}}\n| --- | --- | ---\n{}\n\n{{.im-table #response}}\n",
        request.trim(),
        response.trim()
    )
}

/// The rows of a notification's request table: headers, envelope, then the decrypted payload's
/// rows (at indent 3).
fn notification_rows(event: &str, payload: &str) -> String {
    format!(
        "\
| headers {{data-required}} | object | 通知的头参数
| Wechatpay-Serial {{data-required data-indent=1}} | string | 平台证书序列号
| body {{data-required}} | object | 通知的`JSON`数据结构
| id {{data-required data-indent=1}} | string | 通知的唯一ID
| event_type {{data-required data-indent=1}} | string | 通知的类型<br/>`{event}` 枚举值
| resource {{data-required data-indent=1}} | object | 通知资源数据
| algorithm {{data-required data-indent=2}} | string | 加密算法<br/>`AEAD_AES_256_GCM` 枚举值
| ciphertext {{data-required data-indent=2}} | string {{data-encrypted=by-aes-gcm}} | 加密后的密文数据
| {{colspan=3 .im-table-line}}
{}",
        payload.trim()
    )
}

/// A notification page with these request rows.
fn notification_page(rows: &str) -> String {
    format!(
        "---\ntitle: 通知\ndescription: 示例通知\n---\n\n# {{{{ $frontmatter.title }}}} {{#post}}\n\n\
         | 请求参数 | 类型 {{.type}} | 描述 {{.desc}}\n| --- | --- | ---\n{rows}\n\n{{.im-table #request}}\n"
    )
}

/// A notification page whose decrypted payload has these rows (at indent 3).
fn notification(event: &str, payload: &str) -> String {
    notification_page(&notification_rows(event, payload))
}

const ORDERS: &str = "openapi/v3/demo/orders.md";

fn write(dir: &Path, pages: &[(&str, &str)]) {
    for (file, text) in pages {
        let path = dir.join(file);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
}

fn diff_with(old: &[(&str, &str)], new: &[(&str, &str)], options: Options) -> Vec<Change> {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write(a.path(), old);
    write(b.path(), new);
    let report = diff_dirs(a.path(), b.path(), options).unwrap_or_else(|e| panic!("trees do not load: {e:?}"));
    let errors: Vec<String> = report.old_errors.iter().chain(&report.new_errors).map(ToString::to_string).collect();
    assert!(errors.is_empty(), "fixture pages do not load:\n{}", errors.join("\n"));
    report.changes
}

fn diff(old: &[(&str, &str)], new: &[(&str, &str)]) -> Vec<Change> {
    diff_with(old, new, Options::default())
}

/// Diffs two versions of `ORDERS` (a POST).
fn diff_op(old: (&str, &str), new: (&str, &str)) -> Vec<Change> {
    diff(&[(ORDERS, &op("post", old.0, old.1))], &[(ORDERS, &op("post", new.0, new.1))])
}

/// The only change, checked for kind, path and classification.
#[track_caller]
fn only(changes: &[Change], kind: Kind, path: &str, breaking: bool) -> Change {
    assert_eq!(changes.len(), 1, "expected one change, got {changes:#?}");
    let c = &changes[0];
    assert_eq!((c.kind, c.path.as_str(), c.breaking), (kind, path, breaking), "{c:#?}");
    assert!(!c.reason.is_empty());
    c.clone()
}

const MCHID: &str = "| mchid {data-required data-indent=1} | string | 商户号";
const RESPONSE: &str = "| code_url {data-required} | string | 二维码链接";

fn json(rows: &str) -> String {
    format!("| json {{data-required}} | object | 请求体\n{MCHID}\n{}", rows.trim())
}

#[test]
fn new_required_request_field_is_breaking() {
    let changes = diff_op(
        (&json(""), RESPONSE),
        (
            &json("| amount {data-required data-indent=1} | object | 金额\n| total {data-required data-indent=2} | integer | 总金额"),
            RESPONSE,
        ),
    );
    let c = only(&changes, Kind::FieldAdded, "json.amount", true);
    assert_eq!(c.subject.operation(), Some("POST /v3/demo/orders"));
    assert_eq!(c.new, "object, required, 1 member");
}

#[test]
fn new_required_field_in_an_existing_object_is_reported_at_its_own_path() {
    let amount = "| amount {data-required data-indent=1} | object | 金额\n| total {data-required data-indent=2} | integer | 总金额";
    let changes = diff_op(
        (&json(amount), RESPONSE),
        (&json(&format!("{amount}\n| currency {{data-required data-indent=2}} | string | 币种")), RESPONSE),
    );
    only(&changes, Kind::FieldAdded, "json.amount.currency", true);
}

#[test]
fn new_optional_request_field_is_compatible() {
    let changes = diff_op((&json(""), RESPONSE), (&json("| attach {data-indent=1} | string | 附加数据"), RESPONSE));
    only(&changes, Kind::FieldAdded, "json.attach", false);
}

#[test]
fn new_response_field_is_compatible_even_when_required() {
    let changes = diff_op(
        (&json(""), RESPONSE),
        (&json(""), &format!("{RESPONSE}\n| prepay_id {{data-required}} | string | 预支付标识")),
    );
    only(&changes, Kind::FieldAdded, "response.prepay_id", false);
}

#[test]
fn removed_fields_are_breaking_in_requests_and_responses() {
    let changes = diff_op((&json("| attach {data-indent=1} | string | 附加数据"), RESPONSE), (&json(""), RESPONSE));
    only(&changes, Kind::FieldRemoved, "json.attach", true);
    let changes =
        diff_op((&json(""), &format!("{RESPONSE}\n| prepay_id | string | 预支付标识")), (&json(""), RESPONSE));
    only(&changes, Kind::FieldRemoved, "response.prepay_id", true);
}

#[test]
fn required_changes_break_requests_one_way_and_responses_both_ways() {
    let optional = json("| attach {data-indent=1} | string | 附加数据");
    let required = json("| attach {data-required data-indent=1} | string | 附加数据");
    let c = only(&diff_op((&optional, RESPONSE), (&required, RESPONSE)), Kind::RequiredChanged, "json.attach", true);
    assert_eq!((c.old.as_str(), c.new.as_str()), (Some("optional"), Some("required")));
    only(&diff_op((&required, RESPONSE), (&optional, RESPONSE)), Kind::RequiredChanged, "json.attach", false);

    let (req, opt) = ("| code_url {data-required} | string | 二维码链接", "| code_url | string | 二维码链接");
    only(&diff_op((&json(""), req), (&json(""), opt)), Kind::RequiredChanged, "response.code_url", true);
    only(&diff_op((&json(""), opt), (&json(""), req)), Kind::RequiredChanged, "response.code_url", true);
}

#[test]
fn type_change_is_breaking() {
    let c = only(
        &diff_op(
            (&json("| total {data-indent=1} | integer | 金额"), RESPONSE),
            (&json("| total {data-indent=1} | string | 金额"), RESPONSE),
        ),
        Kind::TypeChanged,
        "json.total",
        true,
    );
    assert_eq!((c.old.as_str(), c.new.as_str()), (Some("integer"), Some("string")));
}

#[test]
fn request_enum_values_added_are_compatible_and_removed_are_breaking() {
    let two = json("| scene {data-indent=1} | string | 场景<br/>`A` \\| `B` 枚举值之一");
    let three = json("| scene {data-indent=1} | string | 场景<br/>`A` \\| `B` \\| `C` 枚举值之一");
    let c = only(&diff_op((&two, RESPONSE), (&three, RESPONSE)), Kind::EnumValuesAdded, "json.scene", false);
    assert_eq!(c.new, serde_json::json!(["C"]));
    let c = only(&diff_op((&three, RESPONSE), (&two, RESPONSE)), Kind::EnumValuesRemoved, "json.scene", true);
    assert_eq!(c.old, serde_json::json!(["C"]));
}

#[test]
fn response_enum_values_added_are_compatible_and_removed_are_breaking() {
    let two = "| state {data-required} | string | 状态<br/>`A` \\| `B` 枚举值之一";
    let three = "| state {data-required} | string | 状态<br/>`A` \\| `B` \\| `C` 枚举值之一";
    only(&diff_op((&json(""), two), (&json(""), three)), Kind::EnumValuesAdded, "response.state", false);
    // The variant disappears: a `match` naming it no longer compiles.
    only(&diff_op((&json(""), three), (&json(""), two)), Kind::EnumValuesRemoved, "response.state", true);
}

#[test]
fn enum_value_order_and_notation_are_not_changes() {
    let a = "| state {data-required} | string | 状态<br/>`A` \\| `B` 枚举值之一";
    let b = "| state {data-required} | string | 订单状态<br/>`B`\\|`A`枚举值之一";
    assert_eq!(diff_op((&json(""), a), (&json(""), b)), vec![]);
}

#[test]
fn an_enum_list_moved_behind_a_line_break_or_into_labelled_lines_is_no_change() {
    let inline = "| channel {data-required} | string | 充值渠道 `BANK_TRANSFER` \\| `ONLINE_BANK` 枚举值之一";
    let own_line = "| channel {data-required} | string | 充值渠道<br/>`BANK_TRANSFER` \\| `ONLINE_BANK` 枚举值之一";
    let labelled =
        "| channel {data-required} | string | 枚举值：<br/>`BANK_TRANSFER`：银行转账<br/>`ONLINE_BANK`：网银";
    assert_eq!(diff_op((&json(""), inline), (&json(""), own_line)), vec![]);
    assert_eq!(diff_op((&json(""), labelled), (&json(""), own_line)), vec![]);
}

#[test]
fn a_base_uri_is_never_breaking() {
    let hk = format!("| base_uri | string | 声明接入点`https://apihk.mch.weixin.qq.com/`(香港接入)\n{}", json(""));
    let c = only(&diff_op((&json(""), RESPONSE), (&hk, RESPONSE)), Kind::BaseUriChanged, "base_uri", false);
    assert_eq!(c.new.as_str(), Some("https://apihk.mch.weixin.qq.com/"));
    only(&diff_op((&hk, RESPONSE), (&json(""), RESPONSE)), Kind::BaseUriChanged, "base_uri", false);
}

#[test]
fn a_field_becoming_an_enumeration_changes_its_type() {
    let plain = "| state {data-required} | string | 状态";
    let listed = "| state {data-required} | string | 状态<br/>`A` \\| `B` 枚举值之一";
    let c = only(&diff_op((&json(""), plain), (&json(""), listed)), Kind::TypeChanged, "response.state", true);
    assert_eq!(c.new.as_str(), Some("string (enum: A | B)"));
    only(&diff_op((&json(""), listed), (&json(""), plain)), Kind::TypeChanged, "response.state", true);
}

#[test]
fn encryption_and_encoding_markers_are_breaking() {
    let clear = json("| name {data-indent=1} | string | 姓名");
    let encrypted = json("| name {data-indent=1} | string {data-encrypted=by-rsa-pubkey} | 姓名");
    let c = only(&diff_op((&clear, RESPONSE), (&encrypted, RESPONSE)), Kind::EncryptedChanged, "json.name", true);
    assert_eq!((&c.old, c.new.as_str()), (&Value::Null, Some("by-rsa-pubkey")));

    let encoded = json("| name {data-indent=1} | string {data-encoded=by-json_encode} | 姓名");
    only(&diff_op((&clear, RESPONSE), (&encoded, RESPONSE)), Kind::EncodedChanged, "json.name", true);
}

#[test]
fn a_time_format_added_removed_or_changed_is_reported_breaking_when_the_rust_type_changes() {
    let request = |ty: &str| json(&format!("| time_expire {{data-indent=1}} | {ty} | 交易结束时间"));
    let response = |ty: &str| format!("{RESPONSE}\n| success_time | {ty} | 支付完成时间");
    let (plain, rfc3339) = ("string", "string {data-format=date-time}");
    let (compact, date) = ("string {data-format=yyyyMMddHHmmss}", "string {data-format=date}");

    // A string becoming a time: `String` becomes `DateTime`, in a request's setter as in a response.
    let c = only(
        &diff_op((&request(plain), RESPONSE), (&request(rfc3339), RESPONSE)),
        Kind::FormatChanged,
        "json.time_expire",
        true,
    );
    assert_eq!((&c.old, c.new.as_str()), (&Value::Null, Some("date-time")));
    assert!(c.reason.contains("`String` to `DateTime`"), "{}", c.reason);
    let c = only(
        &diff_op((&json(""), &response(rfc3339)), (&json(""), &response(plain))),
        Kind::FormatChanged,
        "response.success_time",
        true,
    );
    assert_eq!((c.old.as_str(), &c.new), (Some("date-time"), &Value::Null));

    // Another format held by the same type: the generated code follows, user code compiles.
    let c = only(
        &diff_op((&json(""), &response(rfc3339)), (&json(""), &response(compact))),
        Kind::FormatChanged,
        "response.success_time",
        false,
    );
    assert_eq!((c.old.as_str(), c.new.as_str()), (Some("date-time"), Some("yyyyMMddHHmmss")));
    // A date-time becoming a date: another type.
    only(
        &diff_op((&json(""), &response(rfc3339)), (&json(""), &response(date))),
        Kind::FormatChanged,
        "response.success_time",
        true,
    );
    // `text` (no time) is a plain string, as no format is.
    assert!(diff_op((&json(""), &response(plain)), (&json(""), &response("string {data-format=text}"))).is_empty());
    // The pages in the changelog's words: a new field says its format.
    let c = only(
        &diff_op((&json(""), RESPONSE), (&json(""), &response(compact))),
        Kind::FieldAdded,
        "response.success_time",
        false,
    );
    assert_eq!(c.new, "string (yyyyMMddHHmmss), optional");
}

#[test]
fn alternatives_joined_or_left_are_reported_breaking_only_when_the_builder_insists_more() {
    let rows = |a: &str, b: &str| {
        json(&format!(
            "| transaction_id {{{a}data-indent=1}} | string | 微信订单号\n| out_trade_no {{{b}data-indent=1}} | string | 商户订单号"
        ))
    };
    let (optional, required, one_of) = ("", "data-required ", "data-one-of=order ");
    // Two optional fields becoming alternatives: a call that set neither no longer builds.
    let changes = diff_op((&rows(optional, optional), RESPONSE), (&rows(one_of, one_of), RESPONSE));
    assert_eq!(changes.len(), 2, "{changes:#?}");
    for (change, path) in changes.iter().zip(["json.transaction_id", "json.out_trade_no"]) {
        assert_eq!((change.kind, change.path.as_str(), change.breaking), (Kind::AlternativesChanged, path, true));
        assert_eq!((&change.old, change.new.as_str()), (&Value::Null, Some("order")));
    }
    // Two required fields becoming alternatives: every call that built still does.
    let changes = diff_op((&rows(required, required), RESPONSE), (&rows(one_of, one_of), RESPONSE));
    let alternatives: Vec<&Change> = changes.iter().filter(|c| c.kind == Kind::AlternativesChanged).collect();
    assert_eq!(alternatives.len(), 2, "{changes:#?}");
    assert!(changes.iter().all(|c| !c.breaking), "{changes:#?}");
    // Leaving the group: the builder insists on nothing.
    let changes = diff_op((&rows(one_of, one_of), RESPONSE), (&rows(optional, optional), RESPONSE));
    assert!(changes.iter().all(|c| c.kind == Kind::AlternativesChanged && !c.breaking), "{changes:#?}");
}

#[test]
fn a_field_moved_between_request_parts_is_one_change_that_keeps_its_setter() {
    let old = "| query {data-required} | object | 查询参数\n| out_trade_no {data-required data-indent=1} | string | 订单号\n| json {data-required} | object | 请求体\n| attach {data-indent=1} | string | 附加数据";
    let new = "| json {data-required} | object | 请求体\n| attach {data-indent=1} | string | 附加数据\n| out_trade_no {data-required data-indent=1} | string | 订单号";
    // Every part's members are setters of one builder: the call is unchanged, the wire is not.
    let c = only(&diff_op((old, RESPONSE), (new, RESPONSE)), Kind::FieldMoved, "json.out_trade_no", false);
    assert_eq!((c.old.as_str(), c.new.as_str()), (Some("query.out_trade_no"), Some("json.out_trade_no")));

    // Into the multipart body, whose members have their own types: breaking.
    let upload = "| body {data-required} | object | 表单\n| file {data-required data-indent=1} | object | 文件";
    let old = format!("| query {{data-required}} | object | 查询参数\n| meta {{data-required data-indent=1}} | string | 元信息\n{upload}");
    let new = format!("{upload}\n| meta {{data-required data-indent=1}} | string | 元信息");
    only(&diff_op((&old, RESPONSE), (&new, RESPONSE)), Kind::FieldMoved, "multipart.meta", true);
}

#[test]
fn response_kind_change_is_breaking() {
    let empty = "| 空字符串(无返回内容) {align=center colspan=3}";
    let c = only(&diff_op((&json(""), RESPONSE), (&json(""), empty)), Kind::ResponseKindChanged, "response", true);
    assert_eq!((c.old.as_str(), c.new.as_str()), (Some("json"), Some("empty")));
}

#[test]
fn paths_name_headers_path_parameters_arrays_and_multipart_members() {
    let file = "openapi/v3/demo/orders/{out_trade_no}.md";
    let old_request = "\
| out_trade_no {data-required} | string | 商户订单号
| headers {data-required} | object | 请求头
| Accept {data-indent=1} | string | 接受类型
| body {data-required} | object | `multipart/form-data` 数据结构
| file {data-required data-indent=1} | object | 文件
| meta {data-required data-indent=1} | string | 媒体文件元信息
| {colspan=3 .im-table-line}
| filename {data-required data-indent=2} | string | 文件名";
    let new_request = "\
| out_trade_no | string | 商户订单号
| headers {data-required} | object | 请求头
| Accept {data-indent=1} | string | 接受类型
| Accept-Language {data-required data-indent=1} | string | 语言
| body {data-required} | object | `multipart/form-data` 数据结构
| file {data-required data-indent=1} | object | 文件
| meta {data-required data-indent=1} | string | 媒体文件元信息
| {colspan=3 .im-table-line}
| filename {data-required data-indent=2} | string | 文件名
| media_type {data-required data-indent=2} | string | 媒体类型";
    let old_response =
        "| data {data-required} | object[] | 列表\n| serial_no {data-required data-indent=1} | string | 序列号";
    let new_response = format!("{old_response}\n| effective_time {{data-indent=1}} | string | 启用时间");

    let changes =
        diff(&[(file, &op("get", old_request, old_response))], &[(file, &op("get", new_request, &new_response))]);
    let found: Vec<(Kind, &str, bool)> = changes.iter().map(|c| (c.kind, c.path.as_str(), c.breaking)).collect();
    assert_eq!(
        found,
        vec![
            (Kind::FieldAdded, "headers.Accept-Language", true),
            (Kind::FieldAdded, "multipart.meta.media_type", true),
            (Kind::FieldAdded, "response.data[].effective_time", false),
        ]
    );
    assert!(changes.iter().all(|c| c.subject.operation() == Some("GET /v3/demo/orders/{out_trade_no}")));
}

#[test]
fn operations_are_matched_by_method_and_path() {
    let get = op(
        "get",
        "| query {data-required} | object | 查询参数\n| mchid {data-required data-indent=1} | string | 商户号",
        RESPONSE,
    );
    let post = op("post", &json(""), RESPONSE);
    let added = only(&diff(&[], &[(ORDERS, &post)]), Kind::OperationAdded, "", false);
    assert_eq!(added.subject, Subject::Operation { operation: "POST /v3/demo/orders".into(), file: ORDERS.into() });
    only(&diff(&[(ORDERS, &post)], &[]), Kind::OperationRemoved, "", true);

    // Same page, other method: the POST is gone, a GET is new.
    let changes = diff(&[(ORDERS, &post)], &[(ORDERS, &get)]);
    let found: Vec<(Kind, Option<&str>)> = changes.iter().map(|c| (c.kind, c.subject.operation())).collect();
    assert_eq!(
        found,
        vec![
            (Kind::OperationAdded, Some("GET /v3/demo/orders")),
            (Kind::OperationRemoved, Some("POST /v3/demo/orders"))
        ]
    );
}

#[test]
fn notifications_are_matched_by_event_type_and_compared_like_responses() {
    let file = "webhook/v3/DEMO.SUCCESS.md";
    let payload = "| out_trade_no {data-required data-indent=3} | string | 商户订单号";
    let more = format!(
        "{payload}\n| amount {{data-required data-indent=3}} | object | 金额\n| total {{data-required data-indent=4}} | integer | 总金额"
    );

    let c = only(&diff(&[], &[(file, &notification("DEMO.SUCCESS", payload))]), Kind::NotificationAdded, "", false);
    assert_eq!(c.subject.operation(), Some("notification DEMO.SUCCESS"));
    only(&diff(&[(file, &notification("DEMO.SUCCESS", payload))], &[]), Kind::NotificationRemoved, "", true);

    let (old, new) = (notification("DEMO.SUCCESS", payload), notification("DEMO.SUCCESS", &more));
    only(&diff(&[(file, &old)], &[(file, &new)]), Kind::FieldAdded, "payload.amount", false);
    only(&diff(&[(file, &new)], &[(file, &old)]), Kind::FieldRemoved, "payload.amount", true);
}

#[test]
fn a_payload_change_is_reported_once_even_when_the_ciphertext_row_has_no_marker() {
    let file = "webhook/v3/DEMO.SUCCESS.md";
    let payload = "| out_trade_no {data-required data-indent=3} | string | 商户订单号";
    let more = format!("{payload}\n| attach {{data-indent=3}} | string | 附加数据");
    // Older pages write the ciphertext row without `data-encrypted`: it still holds the payload.
    let page = |rows: &str| {
        notification_page(&notification_rows("DEMO.SUCCESS", rows).replace(" {data-encrypted=by-aes-gcm}", ""))
    };
    let changes = diff(&[(file, &page(payload))], &[(file, &page(&more))]);
    only(&changes, Kind::FieldAdded, "payload.attach", false);
    let changes = diff(&[(file, &page(&more))], &[(file, &page(payload))]);
    only(&changes, Kind::FieldRemoved, "payload.attach", true);
}

#[test]
fn request_flags_the_builder_does_not_insist_on_are_not_breaking() {
    let get = |rows: &str| op("get", rows, RESPONSE);
    let diff_get = |old: &str, new: &str| diff(&[(ORDERS, &get(old))], &[(ORDERS, &get(new))]);
    let query = |mchid: &str| format!("| query {{data-required}} | object | 查询参数\n| {mchid} | string | 商户号");

    // A part's own flag reaches no generated code: not reported.
    assert_eq!(
        diff_op((&json(""), RESPONSE), (&json("").replace("| json {data-required}", "| json"), RESPONSE)),
        vec![]
    );
    assert_eq!(
        diff_get(
            &query("mchid {data-indent=1}"),
            &query("mchid {data-indent=1}").replace("| query {data-required}", "| query")
        ),
        vec![]
    );

    // A top-level `mchid` / `sp_mchid` is filled by the client: its flag is documentation, and
    // a new required one is a new optional setter.
    let c = only(
        &diff_get(&query("mchid {data-indent=1}"), &query("mchid {data-required data-indent=1}")),
        Kind::RequiredChanged,
        "query.mchid",
        false,
    );
    assert!(c.reason.contains("merchant id"), "{}", c.reason);
    let with_sp = json("| sp_mchid {data-required data-indent=1} | string | 服务商商户号");
    only(&diff_op((&json(""), RESPONSE), (&with_sp, RESPONSE)), Kind::FieldAdded, "json.sp_mchid", false);
    // Deeper down it is the user's like any other field.
    let nested = |rows: &str| json(&format!("| sub_orders {{data-required data-indent=1}} | object[] | 子单\n{rows}"));
    let deep = nested("| mchid {data-required data-indent=2} | string | 子单商户号");
    only(&diff_op((&nested(""), RESPONSE), (&deep, RESPONSE)), Kind::FieldAdded, "json.sub_orders[].mchid", true);

    // `Wechatpay-Serial` is set by the transport.
    let serial = |attrs: &str| {
        format!("| headers | object | 请求头\n| Wechatpay-Serial {{{attrs}}} | string | 平台证书序列号\n{}", json(""))
    };
    let c = only(
        &diff_op((&serial("data-indent=1"), RESPONSE), (&serial("data-required data-indent=1"), RESPONSE)),
        Kind::RequiredChanged,
        "headers.Wechatpay-Serial",
        false,
    );
    assert!(c.reason.contains("transport"), "{}", c.reason);
    only(
        &diff_op((&json(""), RESPONSE), (&serial("data-required data-indent=1"), RESPONSE)),
        Kind::FieldAdded,
        "headers.Wechatpay-Serial",
        false,
    );

    // A path parameter is always required, whatever its row says: not reported.
    let file = "openapi/v3/demo/orders/{out_trade_no}.md";
    let param = |attrs: &str| get(&format!("| out_trade_no {attrs} | string | 订单号"));
    assert_eq!(diff(&[(file, &param(""))], &[(file, &param("{data-required}"))]), vec![]);
}

#[test]
fn notification_headers_and_envelope_are_the_hand_written_codes_but_event_routing_matters() {
    let file = "webhook/v3/DEMO.SUCCESS.md";
    let payload = "| out_trade_no {data-required data-indent=3} | string | 商户订单号";
    let base = notification_rows("DEMO.SUCCESS", payload);
    let diff_rows = |new: &str| diff(&[(file, &notification_page(&base))], &[(file, &notification_page(new))]);

    let optional_serial =
        base.replace("| Wechatpay-Serial {data-required data-indent=1}", "| Wechatpay-Serial {data-indent=1}");
    only(&diff_rows(&optional_serial), Kind::RequiredChanged, "headers.Wechatpay-Serial", false);
    let no_id = base.replace("| id {data-required data-indent=1} | string | 通知的唯一ID\n", "");
    only(&diff_rows(&no_id), Kind::FieldRemoved, "envelope.id", false);
    let numeric_id =
        base.replace("| id {data-required data-indent=1} | string |", "| id {data-required data-indent=1} | integer |");
    only(&diff_rows(&numeric_id), Kind::TypeChanged, "envelope.id", false);
    let other_algorithm = base.replace("`AEAD_AES_256_GCM` 枚举值", "`SM4_GCM` 枚举值");
    let found: Vec<(Kind, bool)> = diff_rows(&other_algorithm).iter().map(|c| (c.kind, c.breaking)).collect();
    assert_eq!(found, [(Kind::EnumValuesAdded, false), (Kind::EnumValuesRemoved, false)]);

    // The event types `event_type` lists reach this notification's variant.
    let two = base.replace("`DEMO.SUCCESS` 枚举值", "`DEMO.SUCCESS` \\| `DEMO.CLOSED` 枚举值之一");
    let c = only(&diff_rows(&two), Kind::EnumValuesAdded, "envelope.event_type", false);
    assert_eq!(c.new, serde_json::json!(["DEMO.CLOSED"]));
    let c = only(
        &diff(&[(file, &notification_page(&two))], &[(file, &notification_page(&base))]),
        Kind::EnumValuesRemoved,
        "envelope.event_type",
        true,
    );
    assert!(c.reason.contains("Event::Unknown"), "{}", c.reason);
    let unlisted = base.replace("<br/>`DEMO.SUCCESS` 枚举值", "");
    only(&diff_rows(&unlisted), Kind::TypeChanged, "envelope.event_type", false);
    only(
        &diff(&[(file, &notification_page(&two))], &[(file, &notification_page(&unlisted))]),
        Kind::TypeChanged,
        "envelope.event_type",
        true,
    );
}

#[test]
fn description_and_sample_edits_are_not_changes_unless_asked_for() {
    let old = op("post", &json("| attach {data-indent=1} | string | 附加数据"), RESPONSE);
    let new = op(
        "post",
        &json("| attach {data-indent=1} | string {data-tooltip=\"对应PHP的string\"} | 附加数据，`128`字节以内"),
        RESPONSE,
    )
    .replace("description: 一个示例接口", "description: 一个改写过的示例接口")
    .replace("'json' => []", "'json' => ['attach' => 'x']");
    assert_eq!(diff(&[(ORDERS, &old)], &[(ORDERS, &new)]), vec![]);

    let shown = diff_with(&[(ORDERS, &old)], &[(ORDERS, &new)], Options { descriptions: true });
    let found: Vec<(Kind, &str, bool)> = shown.iter().map(|c| (c.kind, c.path.as_str(), c.breaking)).collect();
    assert_eq!(found, vec![(Kind::DescriptionChanged, "", false), (Kind::DescriptionChanged, "json.attach", false)]);
}

// Shared types: the type space gives every field of the same shape and name one Rust type.

const REFUNDS: &str = "openapi/v3/demo/refunds.md";
const AMOUNT: &str =
    "| amount {data-required} | object | 金额\n| total {data-required data-indent=1} | integer | 总金额";

/// `ORDERS` and `REFUNDS` with these response rows (besides their own `code_url` and
/// `refund_id`, so that only what the rows share is shared).
fn two_responses(orders: &str, refunds: &str) -> [(&'static str, String); 2] {
    [
        (ORDERS, op("post", &json(""), &format!("{RESPONSE}\n{orders}"))),
        (REFUNDS, op("post", &json(""), &format!("| refund_id {{data-required}} | string | 退款单号\n{refunds}"))),
    ]
}

/// Rows `levels` deeper: `data-indent` raised, or set on top-level rows.
fn indented(rows: &str, levels: usize) -> String {
    let line = |line: &str| match line.split_once("data-indent=") {
        Some((before, after)) => {
            let digits = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
            let level: usize = after[..digits].parse().unwrap();
            format!("{before}data-indent={}{}", level + levels, &after[digits..])
        }
        None if line.contains("} |") => line.replacen("} |", &format!(" data-indent={levels}}} |"), 1),
        None => line.replacen(" | ", &format!(" {{data-indent={levels}}} | "), 1),
    };
    rows.lines().map(line).collect::<Vec<_>>().join("\n")
}

fn diff_pages(old: &[(&str, String)], new: &[(&str, String)]) -> Vec<Change> {
    fn pages<'a>(p: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
        p.iter().map(|(f, t)| (*f, t.as_str())).collect()
    }
    diff(&pages(old), &pages(new))
}

fn shared(path: &str) -> Subject {
    Subject::Type { ty: TypePair { old: path.into(), new: path.into() } }
}

/// `AMOUNT` with a `currency` member, `attrs` besides its indent.
fn with_currency(attrs: &str) -> String {
    format!("{AMOUNT}\n| currency {{{attrs}data-indent=1}} | string | 币种")
}

fn uses(change: &Change) -> Vec<String> {
    change.uses.iter().map(ToString::to_string).collect()
}

/// Each change as (operation, path, kind, breaking).
fn outline(changes: &[Change]) -> Vec<(Option<&str>, &str, Kind, bool)> {
    changes.iter().map(|c| (c.subject.operation(), c.path.as_str(), c.kind, c.breaking)).collect()
}

/// The old and new values of a change, as text.
fn values(change: &Change) -> (Option<&str>, Option<&str>) {
    (change.old.as_str(), change.new.as_str())
}

#[test]
fn a_change_to_a_shared_type_is_reported_once_naming_every_use() {
    let currency = with_currency("");
    let changes = diff_pages(&two_responses(AMOUNT, AMOUNT), &two_responses(&currency, &currency));
    let c = only(&changes, Kind::FieldAdded, "currency", false);
    assert_eq!(c.subject, shared("v3::demo::types::Amount"));
    assert_eq!(uses(&c), ["POST /v3/demo/orders response.amount", "POST /v3/demo/refunds response.amount"]);
    // Where the change is, in each operation.
    assert_eq!(c.uses[1].field(&c.path), "response.amount.currency");
}

#[test]
fn a_response_shared_with_a_notification_payload_is_one_type() {
    let file = "openapi/v3/demo/orders/{out_trade_no}.md";
    let webhook = "webhook/v3/DEMO.SUCCESS.md";
    let rows = "| out_trade_no {data-required} | string | 商户订单号\n| attach | string | 附加数据";
    let more = format!("{rows}\n| success_time | string | 支付完成时间");
    let pages = |rows: &str| {
        vec![
            (file, op("get", "| out_trade_no {data-required} | string | 商户订单号", rows)),
            (webhook, notification("DEMO.SUCCESS", &indented(rows, 3))),
        ]
    };
    let changes = diff_pages(&pages(rows), &pages(&more));
    // A type of an operation and a notification is the crate's, named after the event.
    let c = only(&changes, Kind::FieldAdded, "success_time", false);
    assert_eq!(c.subject, shared("types::Demo"));
    assert_eq!(uses(&c), ["GET /v3/demo/orders/{out_trade_no} response", "notification DEMO.SUCCESS payload"]);
}

#[test]
fn a_type_shared_by_requests_and_responses_breaks_when_either_breaks() {
    let pages = |amount: &str| {
        [(ORDERS, op("post", &json(&indented(amount, 1)), RESPONSE)), (REFUNDS, op("post", &json(""), amount))]
    };
    let currency = with_currency("data-required ");
    let changes = diff_pages(&pages(AMOUNT), &pages(&currency));
    let c = only(&changes, Kind::FieldAdded, "currency", true);
    assert_eq!(uses(&c), ["POST /v3/demo/orders json.amount", "POST /v3/demo/refunds response.amount"]);
    // Both reasons, the breaking one first.
    assert!(c.reason.starts_with("required in requests") && c.reason.contains("; new field to read"), "{}", c.reason);
}

#[test]
fn enum_values_of_a_shared_enum_are_the_enums_change() {
    let state = |values: &str| format!("| state {{data-required}} | string | 状态<br/>{values} 枚举值之一");
    let (two, three) = (state("`A` \\| `B`"), state("`A` \\| `B` \\| `C`"));
    let changes = diff_pages(&two_responses(&two, &two), &two_responses(&three, &three));
    let c = only(&changes, Kind::EnumValuesAdded, "", false);
    assert_eq!(c.subject, shared("v3::demo::types::State"));
    assert_eq!(uses(&c), ["POST /v3/demo/orders response.state", "POST /v3/demo/refunds response.state"]);
}

#[test]
fn a_change_at_one_use_of_a_shared_type_is_that_operations_and_the_type_is_shared_no_more() {
    let currency = with_currency("");
    let changes = diff_pages(&two_responses(AMOUNT, AMOUNT), &two_responses(&currency, AMOUNT));
    // Each amount is its operation's own now: code naming `v3::demo::types::Amount` for either
    // no longer compiles, though each module still names it `Amount`.
    assert_eq!(
        outline(&changes),
        [
            (Some("POST /v3/demo/orders"), "response.amount", Kind::TypeRenamed, true),
            (Some("POST /v3/demo/orders"), "response.amount.currency", Kind::FieldAdded, false),
            (Some("POST /v3/demo/refunds"), "response.amount", Kind::TypeRenamed, true),
        ]
    );
    assert_eq!(values(&changes[0]), (Some("v3::demo::types::Amount"), Some("v3::demo::orders::post::Amount")));
}

#[test]
fn a_type_becoming_shared_under_the_name_it_had_is_compatible() {
    let currency = with_currency("");
    let changes = diff_pages(&two_responses(AMOUNT, &currency), &two_responses(AMOUNT, AMOUNT));
    // `post::Amount` still names it: the module re-exports the shared type as `Amount`.
    assert_eq!(
        outline(&changes),
        [
            (Some("POST /v3/demo/orders"), "response.amount", Kind::TypeRenamed, false),
            (Some("POST /v3/demo/refunds"), "response.amount", Kind::TypeRenamed, false),
            (Some("POST /v3/demo/refunds"), "response.amount.currency", Kind::FieldRemoved, true),
        ]
    );
    assert_eq!(values(&changes[0]), (Some("v3::demo::orders::post::Amount"), Some("v3::demo::types::Amount")));
}

#[test]
fn a_type_taking_another_name_in_its_operation_is_breaking() {
    // A new `detail.amount` comes first and takes the name `Amount`: the existing `amount` is
    // `ResponseAmount` now.
    let detail = "| detail | object | 详情\n| amount {data-indent=1} | object | 金额\n| refund {data-indent=2} | integer | 退款金额";
    let changes = diff_op((&json(""), AMOUNT), (&json(""), &format!("{detail}\n{AMOUNT}")));
    let renamed: Vec<&Change> = changes.iter().filter(|c| c.kind == Kind::TypeRenamed).collect();
    assert_eq!(renamed.len(), 1, "{changes:#?}");
    let c = renamed[0];
    assert_eq!((c.path.as_str(), c.breaking), ("response.amount", true));
    assert_eq!(values(c), (Some("v3::demo::orders::post::Amount"), Some("v3::demo::orders::post::ResponseAmount")));
    assert!(c.reason.contains("no longer `Amount`"), "{}", c.reason);
}

#[test]
fn fields_the_client_fills_are_read_from_the_ir() {
    let get = |rows: &str| op("get", &format!("| query {{data-required}} | object | 查询参数\n{rows}"), RESPONSE);
    let diff_get = |old: &str, new: &str| diff(&[(ORDERS, &get(old))], &[(ORDERS, &get(new))]);
    // Required in the docs, filled before: optional now, and no longer filled; the builder
    // insisted on neither.
    let c = only(
        &diff_get(
            "| mchid {data-required data-indent=1} | string | 商户号",
            "| mchid {data-indent=1} | string | 商户号",
        ),
        Kind::RequiredChanged,
        "query.mchid",
        false,
    );
    assert!(c.reason.contains("documented flag only"), "{}", c.reason);
    // The client fills a merchant id, a string: an integer `mchid` is the user's to set.
    only(
        &diff_get("", "| mchid {data-required data-indent=1} | integer | 商户号"),
        Kind::FieldAdded,
        "query.mchid",
        true,
    );
}

// The command line.

fn fixture(case: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/diff").join(case)
}

/// `cargo xtask diff ARGS…` in `cwd`: its exit status, stdout and stderr. Arguments the parser
/// rejects are its usage error (status 2, the message on stderr).
fn cli(args: &[&str], cwd: &Path) -> (u8, String, String) {
    let args = match Cli::try_parse_from(["xtask", "diff"].iter().chain(args)) {
        Ok(Cli { command: cli::Command::Diff(args) }) => args,
        Ok(other) => panic!("not the diff command: {other:?}"),
        Err(e) => return (e.exit_code() as u8, String::new(), e.to_string()),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run(&args, cwd, &mut out, &mut err);
    (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
}

#[test]
fn deny_breaking_fails_only_when_something_breaks() {
    let dir = fixture("breaking");
    let (code, out, _) = cli(&["old", "new"], &dir);
    assert_eq!(code, 0, "{out}");
    let (code, out, err) = cli(&["old", "new", "--deny-breaking"], &dir);
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("breaking change"), "{err}");
    assert!(out.contains("BREAKING    json.amount.currency: field added (string (enum), required)"), "{out}");
    assert!(out.ends_with("3 changes in 1 operation: 2 breaking, 1 compatible.\n"), "{out}");

    let (code, out, _) = cli(&["old", "new", "--deny-breaking"], &fixture("description-only"));
    assert_eq!((code, out.as_str()), (0, "No schema changes.\n"));
}

#[test]
fn markdown_starts_with_the_summary_and_has_a_table_per_operation() {
    let (code, out, _) = cli(&["old", "new", "--format", "markdown"], &fixture("breaking"));
    assert_eq!(code, 0);
    let expected = fs::read_to_string(fixture("breaking").join("expected.md")).unwrap();
    assert_eq!(out, expected);
}

#[test]
fn json_lists_every_change_with_stable_keys() {
    let (code, out, _) = cli(&["old", "new", "--format=json"], &fixture("breaking"));
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        doc["summary"],
        serde_json::json!({"changes": 3, "breaking": 2, "compatible": 1, "operations": 1, "types": 0})
    );
    let first = &doc["changes"][0];
    // Keys come in a fixed order, so that diffs of reports stay small.
    let keys = ["kind", "operation", "file", "path", "breaking", "reason", "old", "new", "uses"];
    let changes = &out[out.find("\"changes\": [").unwrap()..];
    let positions: Vec<usize> = keys.iter().map(|k| changes.find(&format!("\"{k}\":")).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{out}");
    assert_eq!(first.as_object().unwrap().len(), keys.len());
    assert_eq!(first["kind"], "field_added");
    assert_eq!(first["operation"], "POST /v3/demo/orders");
    assert_eq!(
        first["uses"],
        serde_json::json!([{"operation": "POST /v3/demo/orders", "path": "", "file": "openapi/v3/demo/orders.md"}])
    );
}

#[test]
fn a_shared_type_is_one_group_in_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let currency = with_currency("");
    for (side, amount) in [("old", AMOUNT), ("new", currency.as_str())] {
        for (file, page) in two_responses(amount, amount) {
            write(tmp.path(), &[(&format!("{side}/{file}"), &page)]);
        }
    }

    let (code, out, _) = cli(&["old", "new"], tmp.path());
    assert_eq!(code, 0);
    let expected = "\
type v3::demo::types::Amount
  used by     POST /v3/demo/orders response.amount
  used by     POST /v3/demo/refunds response.amount
  compatible  currency: field added (string, optional) — new field to read: existing code is unaffected (the struct is non_exhaustive)

1 change in 2 operations (1 shared type): 0 breaking, 1 compatible.
";
    assert_eq!(out, expected);

    let (_, out, _) = cli(&["old", "new", "--format", "markdown"], tmp.path());
    assert!(
        out.starts_with("**Schema diff:** 1 change in 2 operations (1 shared type): **0 breaking**, 1 compatible.\n"),
        "{out}"
    );
    assert!(
        out.contains("#### Type `v3::demo::types::Amount`\n\nUsed by `POST /v3/demo/orders response.amount`, `POST /v3/demo/refunds response.amount`.\n"),
        "{out}"
    );
    assert!(out.contains("| compatible | `currency` | field added |"), "{out}");

    let (_, out, _) = cli(&["old", "new", "--format", "json"], tmp.path());
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["summary"]["types"], 1);
    let change = &doc["changes"][0];
    assert_eq!(change["type"], serde_json::json!({"old": "v3::demo::types::Amount", "new": "v3::demo::types::Amount"}));
    assert_eq!(change["path"], "currency");
    assert_eq!(
        change["uses"][1],
        serde_json::json!({"operation": "POST /v3/demo/refunds", "path": "response.amount", "file": REFUNDS})
    );
    assert!(change.get("operation").is_none(), "{change}");
}

#[test]
fn bad_arguments_and_missing_trees_exit_with_2() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), &[("old/openapi/v3/demo/orders.md", &op("post", &json(""), RESPONSE))]);
    let (code, _, err) = cli(&["old", "missing"], tmp.path());
    assert_eq!(code, 2);
    assert!(err.contains("missing: not a directory"), "{err}");
    assert_eq!(cli(&["old"], tmp.path()).0, 2);
    assert_eq!(cli(&["old", "old", "--format", "yaml"], tmp.path()).0, 2);
}

#[test]
fn a_page_that_does_not_load_is_reported_and_every_other_page_compared() {
    let tmp = tempfile::tempdir().unwrap();
    let other = "openapi/v3/demo/refunds.md";
    let (plain, attach) =
        (op("post", &json(""), RESPONSE), op("post", &json("| attach {data-indent=1} | string | 附加数据"), RESPONSE));
    let broken = op("post", &json("| total {data-indent=1} | money | 金额"), RESPONSE);
    write(tmp.path(), &[("old/openapi/v3/demo/orders.md", &plain), (&format!("old/{other}"), &plain)]);
    write(tmp.path(), &[("new/openapi/v3/demo/orders.md", &broken), (&format!("new/{other}"), &attach)]);

    let (code, out, err) = cli(&["old", "new", "--deny-breaking"], tmp.path());
    // The bad page is an error at its line; the other page is compared; the status says the
    // report is partial, even though nothing in it breaks.
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("new/openapi/v3/demo/orders.md:14: unknown type `money`"), "{err}");
    assert!(out.contains("compatible  json.attach: field added"), "{out}");
    // Not an operation removed: a page that does not load is left out on both sides. Nor a
    // response type renamed: `refunds` shared it with `orders`, on neither side now.
    assert!(!out.contains("orders"), "{out}");
    assert!(!out.contains("renamed"), "{out}");
    assert!(out.ends_with("Not compared: 1 page that does not load (see the errors).\n"), "{out}");

    let (code, out, _) = cli(&["old", "new", "--format", "markdown"], tmp.path());
    assert_eq!(code, 2);
    assert!(out.contains("> **Not compared:** 1 page that does not load:\n> - `new/openapi/v3/demo/orders.md:14: unknown type 'money' for 'total'`"), "{out}");
    let (_, out, _) = cli(&["old", "new", "--format", "json"], tmp.path());
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        doc["unread"],
        serde_json::json!([{"tree": "new", "file": "openapi/v3/demo/orders.md", "line": 14, "message": "unknown type `money` for `total`"}])
    );
    assert_eq!(doc["summary"]["changes"], 1);
}

#[test]
fn git_revision_is_compared_with_the_working_tree() {
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"])
            .args(args)
            .current_dir(repo.path())
            .output()
            .expect("git runs");
        assert!(status.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&status.stderr));
    };
    git(&["init", "-q"]);
    write(repo.path(), &[("specs/openapi/v3/demo/orders.md", &op("post", &json(""), RESPONSE))]);
    git(&["add", "specs"]);
    git(&["commit", "-q", "-m", "specs"]);
    write(
        repo.path(),
        &[(
            "specs/openapi/v3/demo/orders.md",
            &op("post", &json("| attach {data-indent=1} | string | 附加数据"), RESPONSE),
        )],
    );

    let (code, out, err) = cli(&["--git", "HEAD", "--deny-breaking"], repo.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("compatible  json.attach: field added"), "{out}");
    assert_eq!(cli(&["--git", "no-such-revision"], repo.path()).0, 2);
}

/// A `sha256` or SM3 `digest` (with its algorithm) of an upload's `meta` is computed by the
/// client from the file: a new required one asks nothing more of the builder.
#[test]
fn a_file_digest_the_client_computes_is_not_a_builder_break() {
    let file = "openapi/v3/demo/upload.md";
    let upload = "\
| body {data-required} | object | `multipart/form-data` 数据结构
| file {data-required data-indent=1} | object | 文件
| meta {data-required data-indent=1} | string | 媒体文件元信息
| {colspan=3 .im-table-line}
| filename {data-required data-indent=2} | string | 文件名";
    let with_digests = format!(
        "{upload}\n| sha256 {{data-required data-indent=2}} | string | 摘要\n| digest_algorithm {{data-required data-indent=2}} | string | `SM3` 枚举值\n| digest {{data-required data-indent=2}} | string | 摘要"
    );
    let response = "| media_id {data-required} | string | 媒体文件标识";
    let changes = diff(&[(file, &op("post", upload, response))], &[(file, &op("post", &with_digests, response))]);
    let found: Vec<(Kind, &str, bool)> = changes.iter().map(|c| (c.kind, c.path.as_str(), c.breaking)).collect();
    assert_eq!(
        found,
        vec![
            (Kind::FieldAdded, "multipart.meta.sha256", false),
            (Kind::FieldAdded, "multipart.meta.digest_algorithm", false),
            (Kind::FieldAdded, "multipart.meta.digest", false),
        ]
    );
}

/// APIv2 pages are compared too: their XML members as a request part, and their transport flags
/// (a call that now needs the client certificate breaks clients without one).
#[test]
fn v2_xml_members_and_transport_flags_are_compared() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/codegen");
    let old = xtask::load(&fixtures).unwrap();
    let mut new = old.clone();
    let op = new.operations.iter_mut().find(|op| op.path == "/demo/query").unwrap();
    op.request.security = false;
    op.request.xml.as_mut().unwrap().fields.retain(|f| f.name != "out_trade_no");
    let changes = xtask::diff::compare(&new, &old, Options::default());
    let security = changes.iter().find(|c| c.kind == Kind::TransportChanged && c.path == "security").expect("reported");
    assert!(security.breaking, "{}", security.reason);
    let added = changes.iter().find(|c| c.kind == Kind::FieldAdded && c.path == "xml.out_trade_no").expect("reported");
    assert!(added.breaking, "a required XML member added breaks existing builders: {}", added.reason);
}
