//! `cargo xtask import`: a docs tree → `specs/`, facts only, descriptions ours; pages added,
//! changed and removed; `--check`; reviewed overrides and what makes them stale.

use std::path::Path;

use xtask::import::{self, Report};

const HEAD: &str = "| 请求参数 | 类型 {.type} | 描述 {.desc}\n| --- | --- | ---\n";
const EMPTY_RESPONSE: &str =
    "| 返回字典 | 类型 {.type} | 描述 {.desc}\n| --- | --- | ---\n| 空字符串(无返回内容) {align=center colspan=3}\n\n{.im-table #response}\n";

/// A one-operation page in the docs' format, its descriptions in Chinese (the docs' prose).
fn page(title: &str, rows: &str) -> String {
    format!(
        "---\ntitle: {title}\ndescription: 文档的描述\n---\n\n# {{{{ $frontmatter.title }}}} {{#post}}\n\n{{{{ $frontmatter.description }}}}\n\n{HEAD}{rows}\n{{.im-table #request}}\n\n{EMPTY_RESPONSE}\n参阅 [官方文档](https://pay.weixin.qq.com/doc/v3/merchant/4012791856)\n"
    )
}

const ORDER_ROWS: &str = "| json {data-required} | object | 请求体\n\
| mchid {data-required data-indent=1} | string | 商户号\n\
| out_trade_no {data-required data-indent=1} | string | 商户订单号\n\
| state {data-indent=1} | string | 状态<br/>`A` \\| `B` 枚举值之一\n";

fn write(dir: &Path, relative: &str, text: &str) {
    let path = dir.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn read(dir: &Path, relative: &str) -> String {
    std::fs::read_to_string(dir.join(relative)).unwrap()
}

fn run(docs: &Path, specs: &Path, check: bool) -> Report {
    import::run(docs, specs, check)
        .unwrap_or_else(|errors| panic!("{}", errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")))
}

#[test]
fn pages_keep_their_facts_and_get_our_words_not_the_docs_prose() {
    let (docs, specs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write(docs.path(), "openapi/v3/demo/orders.md", &page("下单", ORDER_ROWS));
    write(specs.path(), "glossary.toml", "[names]\nmchid = \"Merchant ID.\"\n");

    let report = run(docs.path(), specs.path(), false);

    assert_eq!(report.added, ["openapi/v3/demo/orders.md"]);
    let written = read(specs.path(), "openapi/v3/demo/orders.md");
    assert!(written.contains("| mchid {data-required data-indent=1} | string | Merchant ID."), "{written}");
    assert!(
        written.contains("| state {data-indent=1} | string | `A` \\| `B` 枚举值之一"),
        "enum values are facts: {written}"
    );
    assert!(written.contains("title: 下单"), "the title is the operation's name: {written}");
    assert!(written.contains("(https://pay.weixin.qq.com/doc/v3/merchant/4012791856)"), "official links are facts");
    for prose in ["商户号", "商户订单号", "请求体", "文档的描述", "状态"] {
        assert!(!written.contains(prose), "the docs' prose `{prose}` entered specs/: {written}");
    }
    assert_eq!((report.rows, report.described), (4, 1), "json, mchid, out_trade_no, state; one described");
}

#[test]
fn our_existing_descriptions_survive_a_reimport_and_it_is_idempotent() {
    let (docs, specs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write(docs.path(), "openapi/v3/demo/orders.md", &page("下单", ORDER_ROWS));
    run(docs.path(), specs.path(), false);
    let ours = read(specs.path(), "openapi/v3/demo/orders.md").replace(
        "| out_trade_no {data-required data-indent=1} | string |",
        "| out_trade_no {data-required data-indent=1} | string | Our order number.",
    );
    write(specs.path(), "openapi/v3/demo/orders.md", &ours);

    let report = run(docs.path(), specs.path(), false);

    assert_eq!((report.changed.len(), report.unchanged), (0, 1), "{report:?}");
    assert!(read(specs.path(), "openapi/v3/demo/orders.md").contains("| string | Our order number."));
    assert!(run(docs.path(), specs.path(), true).up_to_date());
}

#[test]
fn pages_gone_upstream_are_removed_and_check_writes_nothing() {
    let (docs, specs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write(docs.path(), "openapi/v3/demo/orders.md", &page("下单", ORDER_ROWS));
    write(docs.path(), "openapi/v3/demo/refunds.md", &page("退款", ORDER_ROWS));
    run(docs.path(), specs.path(), false);
    std::fs::remove_file(docs.path().join("openapi/v3/demo/refunds.md")).unwrap();
    write(
        docs.path(),
        "openapi/v3/demo/orders.md",
        &page("下单", &ORDER_ROWS.replace("| state {data-indent=1}", "| state {data-required data-indent=1}")),
    );

    let checked = run(docs.path(), specs.path(), true);
    assert_eq!(
        (checked.changed.clone(), checked.removed.clone()),
        (vec!["openapi/v3/demo/orders.md".to_owned()], vec!["openapi/v3/demo/refunds.md".to_owned()])
    );
    assert!(!checked.up_to_date());
    assert!(specs.path().join("openapi/v3/demo/refunds.md").exists(), "--check writes nothing");

    run(docs.path(), specs.path(), false);
    assert!(!specs.path().join("openapi/v3/demo/refunds.md").exists());
    assert!(read(specs.path(), "openapi/v3/demo/orders.md").contains("| state {data-required data-indent=1}"));
}

#[test]
fn a_folder_page_is_the_folders_url_with_a_trailing_slash() {
    let (docs, specs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write(docs.path(), "openapi/v3/applyment4sub/applyment/index.md", &page("提交申请单", ORDER_ROWS));
    run(docs.path(), specs.path(), false);
    let api = xtask::load(specs.path()).unwrap();
    assert_eq!(api.operations[0].path, "/v3/applyment4sub/applyment/");
    let names = xtask::naming::Names::new(&api);
    assert_eq!(names.module(&api.operations[0]), ["v3", "applyment4sub", "applyment", "post"]);
}

#[test]
fn an_override_corrects_a_page_and_goes_stale_when_upstream_changes_the_row() {
    let (docs, specs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // The path names {out_trade_no}, the row misspells it (line 11 of the page).
    let rows = "| out_trade_n {data-required} | string | 订单号\n";
    write(docs.path(), "openapi/v3/demo/orders/{out_trade_no}.md", &page("查单", rows));
    write(
        specs.path(),
        "overrides.toml",
        "[[page]]\nfile = \"openapi/v3/demo/orders/{out_trade_no}.md\"\nreason = \"misspelt\"\nevidence = \"the URL\"\nrows = [{ line = 12, name = \"out_trade_n\", rename = \"out_trade_no\" }]\n",
    );

    let report = run(docs.path(), specs.path(), false);
    assert!(report.unreviewed.is_empty(), "{:?}", report.unreviewed);
    assert!(read(specs.path(), "openapi/v3/demo/orders/{out_trade_no}.md")
        .contains("| out_trade_no {data-required} | string |"));

    // Upstream inserts a row above: the override names a row that is no longer there.
    let rows = "| base_uri | string | 接入点`https://apihk.mch.weixin.qq.com/`\n| out_trade_n {data-required} | string | 订单号\n";
    write(docs.path(), "openapi/v3/demo/orders/{out_trade_no}.md", &page("查单", rows));
    let errors = import::run(docs.path(), specs.path(), false).unwrap_err();
    assert!(errors[0].message.contains("override no longer applies"), "{}", errors[0]);
    assert_eq!(errors[0].line, 12);
}

#[test]
fn a_worked_around_defect_is_reported_until_an_override_reviews_it() {
    let (docs, specs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write(
        docs.path(),
        "openapi/v3/demo/orders/{out_trade_no}.md",
        &page("查单", "| query {data-required} | object | 查询\n| mchid {data-indent=1} | string | 商户号\n"),
    );
    let report = run(docs.path(), specs.path(), false);
    assert_eq!(report.unreviewed.len(), 1, "{:?}", report.unreviewed);
    assert!(report.unreviewed[0].contains("path parameter `{out_trade_no}` has no row"), "{:?}", report.unreviewed);
    // The page written holds the row explicitly: codegen reads it without a warning.
    assert!(xtask::load(specs.path()).unwrap().warnings.is_empty());
}

#[test]
fn a_page_the_import_cannot_represent_is_an_error_not_a_guess() {
    let (docs, specs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // A notification whose payload cannot be read (a row nested under a string).
    let notification = format!(
        "---\ntitle: 通知\n---\n\n# {{{{ $frontmatter.title }}}} {{#post}}\n\n{HEAD}| headers {{data-required}} | object |\n| Wechatpay-Serial {{data-required data-indent=1}} | string |\n| body {{data-required}} | object |\n| id {{data-required data-indent=1}} | string |\n| resource {{data-required data-indent=1}} | object |\n| ciphertext {{data-required data-indent=2}} | string {{data-encrypted=by-aes-gcm}} |\n| {{colspan=3 .im-table-line}}\n| kind {{data-indent=3}} | string |\n| openid {{data-indent=4}} | string |\n\n{{.im-table #request}}\n"
    );
    write(docs.path(), "webhook/v3/DEMO.BROKEN.md", &notification);
    let errors = import::run(docs.path(), specs.path(), false).unwrap_err();
    assert!(errors[0].message.contains("the payload cannot be read"), "{}", errors[0]);
    assert!(!specs.path().join("webhook").exists(), "nothing written");
}

/// A page whose PHP sample shows `values` for the rows it names, as the docs' samples do.
fn with_sample(page: String, values: &[(&str, &str)]) -> String {
    let lines: String = values.iter().map(|(name, value)| format!("  '{name}' => '{value}',\n")).collect();
    format!("{page}\n```php\n$instance->v3->demo->post(['json' => [\n{lines}]]);\n```\n")
}

#[test]
fn the_import_writes_each_times_format_from_the_samples_around_it_or_the_convention() {
    let (docs, specs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let rows = "| json {data-required} | object | 请求体\n\
| time_expire {data-indent=1} | string | 交易结束时间\n\
| start_time {data-indent=1} | string | 服务开始时间\n\
| bill_date {data-indent=1} | string | 账单日期\n\
| free_time {data-indent=1} | string | 免费时长\n\
| sales_at {data-indent=1} | string | 订单金额\n\
| scene_info {data-indent=1} | object | 场景\n\
| begin_time {data-indent=2} | string | 开始\n\
| {colspan=3 .im-table-line}\n\
| scene_info {data-indent=1} | object | 另一场景\n\
| begin_time {data-indent=2} | string | 开始\n";
    // The page's own samples: a duration is no time; `start_time` has none here.
    let orders = with_sample(page("下单", rows), &[("time_expire", "20180608103456"), ("free_time", "1200")]);
    write(docs.path(), "openapi/v3/demo/orders.md", &orders);
    // A neighbour in the family shows `start_time` as a date.
    let other = with_sample(
        page("其他", "| json {data-required} | object | 请求体\n| start_time {data-indent=1} | string | 开始\n"),
        &[("start_time", "2019-06-11")],
    );
    write(docs.path(), "openapi/v3/demo/other.md", &other);
    // Another family's samples do not count.
    let elsewhere = with_sample(
        page("别处", "| json {data-required} | object | 请求体\n| bill_date {data-indent=1} | string | 日期\n"),
        &[("bill_date", "20190611")],
    );
    write(docs.path(), "openapi/v3/another/page.md", &elsewhere);

    run(docs.path(), specs.path(), false);
    let written = read(specs.path(), "openapi/v3/demo/orders.md");
    for (row, format) in [
        ("time_expire {data-indent=1}", "yyyyMMddHHmmss"), // its own sample
        ("start_time {data-indent=1}", "date"),            // a neighbour's sample
        ("bill_date {data-indent=1}", "date"),             // APIv3's convention for a date
        ("free_time {data-indent=1}", "text"),             // a duration
        ("sales_at {data-indent=1}", "text"),              // `_at` holds no time by convention
        ("begin_time {data-indent=2}", "date-time"),       // both alternatives, APIv3's convention
    ] {
        let expected = format!("| {row} | string {{data-format={format}}} |");
        assert!(written.contains(&expected), "{expected} in\n{written}");
    }
    assert!(!written.contains("'time_expire'"), "samples never enter specs/: {written}");
    assert!(import::run(docs.path(), specs.path(), true).is_ok(), "the formats read back: --check passes");

    // A reviewed override puts another format where the rule is wrong (line 16: `free_time`).
    write(
        specs.path(),
        "overrides.toml",
        "[[page]]\nfile = \"openapi/v3/demo/orders.md\"\nreason = \"a time\"\nevidence = \"answers\"\nrows = [{ line = 16, name = \"free_time\", format = \"yyyy-MM-dd HH:mm:ss\" }]\n",
    );
    run(docs.path(), specs.path(), false);
    let written = read(specs.path(), "openapi/v3/demo/orders.md");
    assert!(
        written.contains("| free_time {data-indent=1} | string {data-format=\"yyyy-MM-dd HH:mm:ss\"} |"),
        "{written}"
    );
    // One that is no format is refused, naming the row.
    write(
        specs.path(),
        "overrides.toml",
        "[[page]]\nfile = \"openapi/v3/demo/orders.md\"\nreason = \"a time\"\nevidence = \"answers\"\nrows = [{ line = 16, name = \"free_time\", format = \"seconds\" }]\n",
    );
    let errors = import::run(docs.path(), specs.path(), false).unwrap_err();
    assert!(errors[0].message.contains("`format = \"seconds\"` is no data-format"), "{}", errors[0]);
    assert_eq!(errors[0].line, 16);
}
