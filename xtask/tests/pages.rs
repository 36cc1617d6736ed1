//! Parser and lowering: each construct of the doc tables, and each bad input with its line.

use xtask::ir::{Encoding, Encryption, Method, Response, Type};
use xtask::load::read_page;
use xtask::lower::Lowered;

const HEAD: &str = "| 请求参数 | 类型 {.type} | 描述 {.desc}\n| --- | --- | ---\n";
const RESPONSE_EMPTY: &str = "| 返回字典 | 类型 {.type} | 描述 {.desc}\n| --- | --- | ---\n| 空字符串(无返回内容) {align=center colspan=3}\n\n{.im-table #response}\n";

/// A one-operation page whose request table has `rows` (line 10 is the first row).
fn page(method: &str, rows: &str) -> String {
    format!("---\ntitle: Demo\ndescription: A demo page\n---\n\n# {{{{ $frontmatter.title }}}} {{#{method}}}\n\n{HEAD}{rows}\n{{.im-table #request}}\n\n{RESPONSE_EMPTY}")
}

fn operations(file: &str, text: &str) -> Vec<xtask::ir::Operation> {
    match read_page(file, text) {
        Ok(Lowered::Operations(ops, _)) => ops,
        other => panic!("expected operations, got {other:?}"),
    }
}

fn error(file: &str, text: &str) -> String {
    match read_page(file, text) {
        Err(errors) => errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"),
        Ok(other) => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn single_operation_reads_front_matter_nesting_required_and_enums() {
    let rows = "| json {data-required} | object {data-tooltip=\"对应PHP的array\"} | body\n\
| status {data-required data-indent=1} | string | State<br/>`CREATE_DEAL` \\| `PAY_SUCCESS` 枚举值之一\n\
| dish_list {data-indent=1} | object[] | Dishes\n\
| count {data-required data-indent=2} | number | Count\n\
| period {data-indent=2} | integer | Months<br/>`3` \\| `6` \\| `12` 枚举值之一\n";
    let ops = operations("openapi/v3/demo/sync-status.md", &page("post", rows));
    let op = &ops[0];
    assert_eq!((op.method, op.path.as_str(), op.line), (Method::Post, "/v3/demo/sync-status", 6));
    assert_eq!((op.title.as_str(), op.description.as_str(), op.family.as_str()), ("Demo", "A demo page", "demo"));
    let json = op.request.json.as_ref().unwrap();
    assert!(json.required);
    let status = &json.fields[0];
    assert_eq!((status.ty, status.required, status.line), (Type::String, true, 11));
    assert_eq!(status.enum_values, ["CREATE_DEAL", "PAY_SUCCESS"]);
    let dishes = &json.fields[1];
    assert_eq!((dishes.ty, dishes.required, dishes.children.len()), (Type::ObjectArray, false, 2));
    assert_eq!(dishes.children[0].ty, Type::Number);
    assert_eq!(dishes.children[1].enum_values, ["3", "6", "12"]);
    assert_eq!(op.response, Response::Empty);
}

#[test]
fn single_value_enum_and_escaped_pipes() {
    let rows = "| json | object | body\n| kind {data-indent=1} | string | a \\| b<br/>`ONLY` 枚举值\n";
    let ops = operations("openapi/v3/demo/a.md", &page("post", rows));
    let kind = &ops[0].request.json.as_ref().unwrap().fields[0];
    assert_eq!(kind.enum_values, ["ONLY"]);
    assert!(kind.description.starts_with("a | b\n"), "{:?}", kind.description);
}

#[test]
fn mix_page_holds_one_operation_per_method_section() {
    let text = format!(
        "---\ntitle: Orders\n---\n\n# Orders {{#mix}}\n\n## Create {{#post}}\n\n{HEAD}| json | object | body\n| a {{data-indent=1}} | string | a\n\n{{.im-table #request}}\n\n{RESPONSE_EMPTY}\n## Query {{#get}}\n\n{HEAD}| query | object | q\n| b {{data-indent=1}} | string | b\n\n{{.im-table #request}}\n\n{RESPONSE_EMPTY}"
    );
    let ops = operations("openapi/v3/demo/orders.md", &text);
    assert_eq!(ops.len(), 2);
    assert_eq!((ops[0].method, ops[0].title.as_str()), (Method::Post, "Create"));
    assert_eq!((ops[1].method, ops[1].title.as_str()), (Method::Get, "Query"));
    assert_eq!(ops[1].request.query[0].name, "b");
}

#[test]
fn redirect_pages_hold_no_operation() {
    let text = "---\ntitle: Moved to /openapi/v3/demo/b\n---\n\nSee there.\n";
    assert!(matches!(read_page("openapi/v3/demo/a.md", text), Ok(Lowered::Redirect)));
}

#[test]
fn request_parts_path_query_headers_and_base_uri() {
    let rows = "| base_uri | string | 声明接入点`https://apihk.mch.weixin.qq.com/`(香港接入)\n\
| out_trade_no {data-required} | string | id\n\
| query {data-required} | object | q\n\
| mchid {data-required data-indent=1} | string | m\n\
| headers | object | h\n\
| Wechatpay-Serial {data-required data-indent=1} | string | serial\n";
    let ops = operations("openapi/v3/pay/out-trade-no/{out_trade_no}.md", &page("get", rows));
    let request = &ops[0].request;
    assert_eq!(request.path_params[0].name, "out_trade_no");
    assert_eq!(request.query[0].name, "mchid");
    assert_eq!(request.headers[0].name, "Wechatpay-Serial");
    assert_eq!(request.base_uri.as_ref().unwrap().default.as_deref(), Some("https://apihk.mch.weixin.qq.com/"));
    assert!(request.json.is_none());
}

#[test]
fn multipart_body_with_meta_sub_structure() {
    let rows = "| body {data-required} | object | form\n\
| file {data-required data-indent=1} | object | the image\n\
| meta {data-required data-indent=1} | string | meta JSON\n\
| {colspan=3 .im-table-line}\n\
| filename {data-required data-indent=2} | string | name\n\
| sha256 {data-required data-indent=2} | string | digest\n";
    let ops = operations("openapi/v3/merchant/media/upload.md", &page("post", rows));
    let body = ops[0].request.multipart.as_ref().unwrap();
    assert_eq!(body.fields[0].name, "file");
    let meta = &body.fields[1];
    assert_eq!((meta.ty, meta.children.len()), (Type::String, 2));
    assert_eq!(meta.children[1].name, "sha256");
}

#[test]
fn encryption_and_encoding_markers() {
    let rows = "| json | object | body\n\
| name {data-indent=1} | string {data-encrypted=by-rsa-pubkey} | secret\n\
| extra {data-indent=1} | string {data-encoded=by-json_encode} | encoded\n\
| {colspan=3 .im-table-line}\n\
| inner {data-required data-indent=2} | integer | inner\n\
| form {data-indent=1} | string {data-encoded=by-urlencode} | encoded\n";
    let ops = operations("openapi/v3/demo/a.md", &page("post", rows));
    let fields = &ops[0].request.json.as_ref().unwrap().fields;
    assert_eq!(fields[0].encrypted, Some(Encryption::RsaPubkey));
    assert_eq!(fields[1].encoded, Some(Encoding::JsonEncode));
    assert_eq!(fields[1].children[0].ty, Type::Integer);
    assert_eq!(fields[2].encoded, Some(Encoding::UrlEncode));
}

#[test]
fn byte_stream_and_json_responses() {
    let stream = page("get", "| query | object | q\n| token {data-indent=1} | string | t\n").replace(
        "| 空字符串(无返回内容) {align=center colspan=3}",
        "| 文件流(需解析为对应数据) {align=center colspan=3}",
    );
    assert_eq!(operations("openapi/v3/demo/file.md", &stream)[0].response, Response::Stream);
    let json = page("get", "| query | object | q\n").replace(
        "| 空字符串(无返回内容) {align=center colspan=3}",
        "| media_id {data-required} | string | id\n| items | string[] | list",
    );
    match &operations("openapi/v3/demo/file.md", &json)[0].response {
        Response::Json { fields } => {
            assert_eq!((fields[0].name.as_str(), fields[1].ty), ("media_id", Type::StringArray))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn notification_pages_give_the_decrypted_payload() {
    let rows = "| headers {data-required} | object | h\n\
| Wechatpay-Serial {data-required data-indent=1} | string | s\n\
| body {data-required} | object | b\n\
| id {data-required data-indent=1} | string | id\n\
| event_type {data-required data-indent=1} | string | t<br/>`DEMO.SUCCESS` \\| `DEMO.CLOSED` 枚举值之一\n\
| resource {data-required data-indent=1} | object | r\n\
| ciphertext {data-required data-indent=2} | string {data-encrypted=by-aes-gcm} | c\n\
| {colspan=3 .im-table-line}\n\
| out_trade_no {data-required data-indent=3} | string | o\n";
    match read_page("webhook/v3/DEMO.SUCCESS.md", &page("post", rows)) {
        Ok(Lowered::Notification(n, _)) => {
            assert_eq!(n.event_type, "DEMO.SUCCESS");
            assert_eq!(n.event_types, ["DEMO.SUCCESS", "DEMO.CLOSED"]);
            assert_eq!(n.payload[0].name, "out_trade_no");
            assert_eq!(n.headers[0].name, "Wechatpay-Serial");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn alternatives_separated_by_a_sub_structure_line_are_merged() {
    let rows = "| json | object | body\n\
| detail {data-indent=1} | object | first shape\n\
| a {data-required data-indent=2} | string | a\n\
| b {data-required data-indent=2} | string | b\n\
| {colspan=3 .im-table-line}\n\
| detail {data-indent=1} | object | second shape\n\
| a {data-required data-indent=2} | string | a\n\
| c {data-required data-indent=2} | string | c\n";
    let ops = operations("openapi/v3/demo/a.md", &page("post", rows));
    let detail = &ops[0].request.json.as_ref().unwrap().fields[0];
    let members: Vec<(&str, bool)> = detail.children.iter().map(|f| (f.name.as_str(), f.required)).collect();
    assert_eq!(members, [("a", true), ("b", false), ("c", false)]);
}

#[test]
fn indent_jump_is_an_error_at_its_line() {
    let rows = "| json | object | body\n| a {data-indent=2} | string | a\n";
    assert_eq!(
        error("openapi/v3/demo/a.md", &page("post", rows)),
        "openapi/v3/demo/a.md:11: indent jumps from 0 to 2 at `a`"
    );
}

#[test]
fn unknown_type_is_an_error_at_its_line() {
    let rows = "| json | object | body\n| a {data-indent=1} | strin | a\n";
    assert_eq!(
        error("openapi/v3/demo/a.md", &page("post", rows)),
        "openapi/v3/demo/a.md:11: unknown type `strin` for `a`"
    );
}

#[test]
fn child_under_a_scalar_is_an_error_at_its_line() {
    let rows = "| json | object | body\n| a {data-indent=1} | string | a\n| b {data-indent=2} | string | b\n";
    let message = error("openapi/v3/demo/a.md", &page("post", rows));
    assert!(message.starts_with("openapi/v3/demo/a.md:12: `b` is nested under `a`, a string"), "{message}");
}

#[test]
fn duplicate_field_is_an_error_at_its_line() {
    let rows = "| json | object | body\n| a {data-indent=1} | string | a\n| a {data-indent=1} | string | a\n";
    assert_eq!(
        error("openapi/v3/demo/a.md", &page("post", rows)),
        "openapi/v3/demo/a.md:12: duplicate field `a` (first at line 11)"
    );
}

#[test]
fn alternatives_are_read_and_a_group_must_hold_two_optional_fields() {
    let rows = "| json | object | body\n| a {data-one-of=id data-indent=1} | string | a\n| b {data-one-of=id data-indent=1} | string | b\n";
    let ops = operations("openapi/v3/demo/a.md", &page("post", rows));
    let fields = &ops[0].request.json.as_ref().unwrap().fields;
    let read: Vec<(&str, bool, Option<&str>)> =
        fields.iter().map(|f| (f.name.as_str(), f.required, f.one_of.as_deref())).collect();
    assert_eq!(read, [("a", false, Some("id")), ("b", false, Some("id"))]);

    let alone =
        "| json | object | body\n| a {data-one-of=id data-indent=1} | string | a\n| b {data-indent=1} | string | b\n";
    assert_eq!(
        error("openapi/v3/demo/a.md", &page("post", alone)),
        "openapi/v3/demo/a.md:11: `a` is the only field of its `data-one-of=id` group"
    );
    let both = "| json | object | body\n| a {data-required data-one-of=id data-indent=1} | string | a\n";
    assert_eq!(
        error("openapi/v3/demo/a.md", &page("post", both)),
        "openapi/v3/demo/a.md:11: `a` is both required and one of a group: which is it?"
    );
}

#[test]
fn table_without_header_is_an_error_at_its_line() {
    let text = "---\ntitle: Demo\n---\n\n# {{ $frontmatter.title }} {#post}\n\n| json | object | body\n| a {data-indent=1} | string | a\n\n{.im-table #request}\n";
    let message = error("openapi/v3/demo/a.md", text);
    assert!(message.contains("openapi/v3/demo/a.md:7: table rows without a header row"), "{message}");
}

#[test]
fn unknown_request_part_is_an_error_at_its_line() {
    let rows = "| json | object | body\n| jsn | object | typo\n";
    let message = error("openapi/v3/demo/a.md", &page("post", rows));
    assert!(message.starts_with("openapi/v3/demo/a.md:11: unknown request part `jsn`"), "{message}");
}

#[test]
fn every_bad_page_of_a_tree_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("openapi/v3/demo");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("a.md"), page("post", "| json | object | b\n| x {data-indent=3} | string | x\n")).unwrap();
    std::fs::write(root.join("b.md"), page("post", "| json | object | b\n| y {data-indent=1} | bool | y\n")).unwrap();
    std::fs::write(root.join("c.md"), page("post", "| json | object | b\n| z {data-indent=1} | string | z\n")).unwrap();
    let errors = xtask::load(dir.path()).unwrap_err();
    let files: Vec<&str> = errors.iter().map(|e| e.file.as_str()).collect();
    assert_eq!(files, ["openapi/v3/demo/a.md", "openapi/v3/demo/b.md"]);
}

#[test]
fn no_input_makes_the_reader_panic() {
    let text = page(
        "post",
        "| json | object | b\n| a {data-indent=1} | string {data-encoded=by-json_encode} | x<br/>`A` \\| `B` 枚举值之一\n| {colspan=3 .im-table-line}\n| c {data-indent=2} | integer | c\n",
    );
    // Every truncation and every one-byte corruption of a page yields a value, never a panic.
    for cut in (0..text.len()).filter(|&i| text.is_char_boundary(i)) {
        let _ = read_page("openapi/v3/demo/a.md", &text[..cut]);
    }
    for (i, _) in text.char_indices() {
        for replacement in ["|", "{", "}", "\n", "`", "="] {
            let mut corrupted = text.clone();
            corrupted.replace_range(i..i + text[i..].chars().next().unwrap().len_utf8(), replacement);
            let _ = read_page("openapi/v3/demo/a.md", &corrupted);
        }
    }
}

#[test]
fn a_payload_written_after_original_type_is_still_the_ciphertexts() {
    let rows = "| body {data-required} | object | b\n\
| resource {data-required data-indent=1} | object | r\n\
| ciphertext {data-required data-indent=2} | string | c\n\
| original_type {data-required data-indent=2} | string | t\n\
| {colspan=3 .im-table-line}\n\
| contract_id {data-required data-indent=3} | string | id\n";
    match read_page("webhook/v3/DEMO.SIGN.md", &page("post", rows)) {
        Ok(Lowered::Notification(n, warnings)) => {
            assert_eq!(n.payload.len(), 1);
            assert_eq!(n.payload[0].name, "contract_id");
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            assert!(warnings[0].starts_with("webhook/v3/DEMO.SIGN.md:"), "{}", warnings[0]);
            assert!(warnings[0].contains("resource.original_type"), "{}", warnings[0]);
        }
        other => panic!("{other:?}"),
    }
}

/// The enum values read from one description cell.
fn enum_of(description: &str) -> Vec<String> {
    let rows = format!("| json | object | body\n| a {{data-indent=1}} | string | {description}\n");
    let ops = operations("openapi/v3/demo/a.md", &page("post", &rows));
    ops[0].request.json.as_ref().unwrap().fields[0].enum_values.clone()
}

#[test]
fn enum_lists_are_read_in_every_notation_the_pages_use() {
    // After a line break, one of / this one value, with or without blanks around the pipes.
    assert_eq!(enum_of("状态<br/>`A` \\| `B` 枚举值之一"), ["A", "B"]);
    assert_eq!(enum_of("算法<br/>`SM2`\\|`RSA`\\|`ALL`枚举值之一<br/>默认为`RSA`"), ["SM2", "RSA", "ALL"]);
    assert_eq!(enum_of("`HTTP`状态码<br/>`20X` `4XX` `5XX` 枚举值之一"), ["20X", "4XX", "5XX"]);
    assert_eq!(enum_of("`PENDING` \\| `APPROVED` 枚举值之一"), ["PENDING", "APPROVED"]);
    // Right after the text, with no line break before the list.
    assert_eq!(enum_of("充值渠道 `BANK_TRANSFER` \\| `ONLINE_BANK` 枚举值之一"), ["BANK_TRANSFER", "ONLINE_BANK"]);
    assert_eq!(enum_of("文件摘要算法 `DIGEST_ALGORITHM_SM3`枚举值"), ["DIGEST_ALGORITHM_SM3"]);
    assert_eq!(enum_of("原始回调类型`product_coupon` 枚举值"), ["product_coupon"]);
    // The marker ending a clause.
    assert_eq!(enum_of("算法<br/>`SM2`\\|`RSA`枚举值之一，默认为`RSA`"), ["SM2", "RSA"]);
    // Labelled values under a `枚举值：` heading, backticked or bare, up to the first other line.
    assert_eq!(
        enum_of("枚举值：<br/>`Y`：用户已还款<br/>`N`：用户未还款<br/>注意：使用前先确认`bank_type`"),
        ["Y", "N"]
    );
    assert_eq!(enum_of("枚举值<br/>`GLOBAL`：全场代金券<br/>`SINGLE`：单品优惠"), ["GLOBAL", "SINGLE"]);
    assert_eq!(enum_of("枚举值：<br/>SUCCESS：支付成功<br/>PAY_FAIL：支付失败(其他原因)"), ["SUCCESS", "PAY_FAIL"]);
    // A notation edit is no change: the same list, whatever the layout.
    assert_eq!(
        enum_of("充值渠道<br/>`BANK_TRANSFER` \\| `ONLINE_BANK` 枚举值之一"),
        enum_of("充值渠道 `BANK_TRANSFER` \\| `ONLINE_BANK` 枚举值之一")
    );
}

#[test]
fn values_merely_mentioned_in_backticks_are_not_enums() {
    for description in [
        "枚举类型，符合ISO 4217标准的三位字母代码，默认为`CNY`，目前只支持`CNY`",
        "`COUPON`：代金券<br/>`DISCOUNT`：优惠券",
        "交易场景值，目前支持`PARKING`：车场停车场景",
        "使用时请留意该值为处罚方法的文本内容，并非枚举值。",
        "风险类型`risk_type`枚举值对应的中文描述",
        "订单识别标识：小时购/自提等枚举值",
        "枚举值：<br/>见`trade_state`的说明",
        // A value whose opening backtick is missing: no list, rather than a list without it.
        "no_balance` \\| `no_debit` \\| `balance_only` 枚举值之一",
    ] {
        assert_eq!(enum_of(description), Vec::<String>::new(), "{description}");
    }
}

#[test]
fn several_attribute_blocks_in_a_name_cell_are_one_set() {
    let rows = "| json {data-required} | object | body\n| bank_type {data-required} {data-indent=1} | string {data-tooltip=\"x\"} {data-encrypted=by-rsa-pubkey} | 银行\n";
    let ops = operations("openapi/v3/demo/a.md", &page("post", rows));
    let field = &ops[0].request.json.as_ref().unwrap().fields[0];
    assert_eq!(
        (field.name.as_str(), field.required, field.encrypted),
        ("bank_type", true, Some(Encryption::RsaPubkey))
    );
}

#[test]
fn a_name_cell_that_is_not_a_name_is_an_error_at_its_line() {
    for (cell, shown) in [
        ("bank_type {data-required data-indent=1", "bank_type {data-required data-indent=1"),
        ("`bank_type` {data-indent=1}", "`bank_type`"),
        ("» code {data-indent=1}", "» code"),
        ("bank_type data-required {data-indent=1}", "bank_type data-required"),
        ("**bank_type** {data-indent=1}", "**bank_type**"),
    ] {
        let rows = format!("| json | object | body\n| {cell} | string | 银行\n");
        let message = error("openapi/v3/demo/a.md", &page("post", &rows));
        assert!(message.starts_with(&format!("openapi/v3/demo/a.md:11: `{shown}` is not a field name")), "{message}");
    }
    // Every kind of name the real pages use still reads.
    let rows = "| headers | object | h\n| Wechatpay-Serial {data-indent=1} | string | s\n| json | object | body\n\
| 商户号 {data-indent=1} | string | 中文名\n| payer _currency {data-indent=1} | string | 原样保留\n| sub.field {data-indent=1} | string | 点\n";
    let ops = operations("openapi/v3/demo/a.md", &page("post", rows));
    let names: Vec<&str> = ops[0].request.json.as_ref().unwrap().fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["商户号", "payer _currency", "sub.field"]);
}

#[test]
fn codegen_loading_refuses_a_tree_with_a_bad_page_and_the_diff_loading_keeps_the_good_ones() {
    // A folder without `openapi/v3/`: every page under it is read, so two folders can describe
    // the same operation.
    let dir = tempfile::tempdir().unwrap();
    let write = |file: &str, text: String| {
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("one/v3/demo/a.md", page("post", "| json | object | b\n| x {data-indent=1} | undefined | x\n"));
    write("one/v3/demo/b.md", page("post", "| json | object | b\n| y {data-indent=1} | string | y\n"));
    write("two/v3/demo/b.md", page("post", "| json | object | b\n| y {data-indent=1} | string | y\n"));

    let errors = xtask::load(dir.path()).unwrap_err();
    let loaded = xtask::load::load_each(dir.path()).unwrap();
    assert_eq!(loaded.errors, errors, "both loaders find the same errors");
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "one/v3/demo/a.md:11: unknown type `undefined` for `x`",
            "two/v3/demo/b.md:6: post /v3/demo/b is also described at one/v3/demo/b.md:6",
        ]
    );
    let files: Vec<&str> = loaded.api.operations.iter().map(|op| op.file.as_str()).collect();
    assert_eq!(files, ["one/v3/demo/b.md"]);
}

#[test]
fn a_payload_written_as_an_object_after_the_ciphertext_is_the_ciphertexts_and_no_envelope_member() {
    let rows = "| body {data-required} | object | b\n\
| resource {data-required data-indent=1} | object | r\n\
| ciphertext {data-required data-indent=2} | string {data-encrypted=by-aes-gcm} | c\n\
| {colspan=3 .im-table-line}\n\
| original_data {data-indent=2} | object | 平台结果\n\
| status {data-required data-indent=3} | string | s\n\
| {colspan=3 .im-table-line}\n\
| original_data {data-indent=2} | object | 二级商户结果\n\
| status {data-required data-indent=3} | string | s\n\
| sub_mchid {data-required data-indent=3} | string | m\n";
    match read_page("webhook/v3/DEMO.CHANGE.md", &page("post", rows)) {
        Ok(Lowered::Notification(n, warnings)) => {
            let payload: Vec<(&str, bool)> = n.payload.iter().map(|f| (f.name.as_str(), f.required)).collect();
            assert_eq!(payload, [("status", true), ("sub_mchid", false)]);
            let resource: Vec<&str> = n.envelope[0].children.iter().map(|f| f.name.as_str()).collect();
            assert_eq!(resource, ["ciphertext"]);
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            assert!(
                warnings[0].starts_with(
                    "webhook/v3/DEMO.CHANGE.md:14: the payload structure is written as `resource.original_data`"
                ),
                "{}",
                warnings[0]
            );
        }
        other => panic!("{other:?}"),
    }
}

// APIv2 (`openapi/v2`, `webhook/v2`).

#[test]
fn v2_pages_read_their_xml_body_flags_indexed_members_and_family() {
    let rows = "| security {data-required} | `true` | mutual TLS\n\
| nonceless {data-required} | `true` | no nonce\n\
| xml {data-required} | object | body\n\
| mch_id {data-required data-indent=1} | string | merchant\n\
| sign {data-indent=1} | string | signature\n\
| sign_type {data-indent=1} | string | `MD5` \\| `HMAC-SHA256` 枚举值之一\n";
    let response = "| 返回字典 | 类型 {.type} | 描述 {.desc}\n| --- | --- | ---\n| return_code {data-required} | string | code\n\
| err_code {data-required} | string | error\n| coupon_id_$n | string | ids\n| coupon_fee_$n_$m | integer | fees\n\n{.im-table #response}\n";
    let text = page("post", rows).replace(RESPONSE_EMPTY, response);
    let ops = operations("openapi/v2/pay/orderquery.md", &text);
    let op = &ops[0];
    assert_eq!(
        (op.protocol, op.path.as_str(), op.family.as_str()),
        (xtask::ir::Protocol::V2, "/pay/orderquery", "v2-pay")
    );
    assert!(op.request.security && op.request.nonceless);
    let xml = op.request.xml.as_ref().unwrap();
    assert_eq!(xml.fields[0].filled, Some(xtask::ir::Filled::Mchid), "the client fills the merchant id");
    assert_eq!(xml.fields[1].filled, Some(xtask::ir::Filled::Signature), "the transport signs");
    assert_eq!(op.sign_types(), [xtask::ir::SignType::Md5, xtask::ir::SignType::HmacSha256]);
    let Response::Json { fields } = &op.response else { panic!("{:?}", op.response) };
    assert!(!fields[1].required, "an answer's err_code is never required of a decoded answer");
    assert_eq!((fields[2].indexed, fields[3].indexed), (1, 2));
}

#[test]
fn v2_signed_urls_downloads_and_their_error_tables() {
    let rows = "| query {data-required} | object | q\n| plan_id {data-required data-indent=1} | integer | plan\n\
| fragment {data-required} | string | always `#wechat_redirect`\n";
    let redirect = "| 返回字典 | 类型 {.type} | 描述 {.desc}\n| --- | --- | ---\n| `30x`跳转(无实际返回信息) {align=center colspan=3}\n\n{.im-table #response}\n";
    let op = &operations("openapi/v2/papay/entrustweb.md", &page("get", rows).replace(RESPONSE_EMPTY, redirect))[0];
    assert!(op.is_url_builder());
    assert_eq!(op.request.fragment.as_ref().and_then(|f| f.value.as_deref()), Some("#wechat_redirect"));
    let errors = "| 异常字典 | 类型 {.type} | 描述 {.desc}\n| --- | --- | ---\n| return_code | string | code\n\n{.im-table #response}\n";
    let rows = "| xml {data-required} | object | body\n| bill_date {data-required data-indent=1} | string | day\n";
    let op = &operations("openapi/v2/pay/downloadbill.md", &page("post", rows).replace(RESPONSE_EMPTY, errors))[0];
    assert_eq!(op.response, Response::Stream, "a download documents only its error answer");
}

#[test]
fn v2_notifications_take_the_decrypted_member_or_the_body_as_payload() {
    let head = "---\ntitle: Refund\n---\n\n# {{ $frontmatter.title }} {#post}\n\n";
    let encrypted = format!(
        "{head}{HEAD}| body {{data-required}} | object | b\n| mch_id {{data-required data-indent=1}} | string | m\n\
| req_info {{data-required data-indent=1}} | string {{data-encrypted=by-aes-ecb}} | r\n| {{colspan=3 .im-table-line}}\n\
| refund_id {{data-required data-indent=2}} | string | id\n\n{{.im-table #request}}\n"
    );
    let Ok(Lowered::Notification(n, _)) = read_page("webhook/v2/refund-processed.md", &encrypted) else { panic!() };
    assert_eq!((n.protocol, n.event_type.as_str()), (xtask::ir::Protocol::V2, "refund-processed"));
    assert_eq!(n.envelope[1].encrypted, Some(Encryption::AesEcb));
    assert_eq!(n.payload.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["refund_id"]);
    let plain = format!("{head}{HEAD}| body {{data-required}} | object | b\n| openid {{data-required data-indent=1}} | string | o\n\n{{.im-table #request}}\n");
    let Ok(Lowered::Notification(n, _)) = read_page("webhook/v2/transaction-success.md", &plain) else { panic!() };
    assert_eq!(
        n.payload.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        ["openid"],
        "the signed body is the payload"
    );
}

#[test]
fn v2_bad_parts_and_flags_are_errors_at_their_line() {
    let e = error(
        "openapi/v2/secapi/mch/addInstitutionsub.md",
        &page("post", "| addinstitutionsub {data-required} | string | x\n"),
    );
    assert_eq!(e, "openapi/v2/secapi/mch/addInstitutionsub.md:10: unknown APIv2 request part `addinstitutionsub`: not xml, query, headers, body, base_uri, fragment, security or nonceless (`/secapi/mch/addInstitutionsub`)");
    let e = error("openapi/v2/pay/a.md", &page("post", "| timeout | float | seconds\n"));
    assert_eq!(e, "openapi/v2/pay/a.md:10: unknown type `float` for `timeout`");
    let e = error("openapi/v2/pay/a.md", &page("post", "| security {data-required} | `false` | x\n"));
    assert!(
        e.starts_with("openapi/v2/pay/a.md:10: unknown type") && e.ends_with("for `security`"),
        "a flag is only ever `true`: {e}"
    );
    let e =
        error("openapi/v2/pay/a.md", &page("post", "| xml | object | b\n| coupon_$x {data-indent=1} | string | x\n"));
    assert!(e.starts_with("openapi/v2/pay/a.md:11: `coupon_$x` is not a field name"), "{e}");
}
