//! The `wechatpay` program as a user runs it: `wechatpay sandbox` started as a process, the other
//! commands run as processes against it (configured by `WECHATPAY_*` variables from what the
//! sandbox printed), their exit statuses and output read; and the interop peers (Node, Python)
//! calling the sandbox program with their own clients.

#[path = "../../tests/interop/peers.rs"]
mod peers;

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

const PROGRAM: &str = env!("CARGO_BIN_EXE_wechatpay");

/// The settings a user may have in the environment, removed so that only the test's count.
const SETTINGS: [&str; 12] = [
    "WECHATPAY_CONFIG",
    "WECHATPAY_MCHID",
    "WECHATPAY_MERCHANT_SERIAL",
    "WECHATPAY_MERCHANT_KEY_FILE",
    "WECHATPAY_PUBLIC_KEY_ID",
    "WECHATPAY_PUBLIC_KEY_FILE",
    "WECHATPAY_APIV3_KEY",
    "WECHATPAY_APIV3_KEY_FILE",
    "WECHATPAY_CERTIFICATES",
    "WECHATPAY_BASE_URL",
    "WECHATPAY_CA_FILE",
    "NO_COLOR",
];

/// `wechatpay sandbox` running as a child process, and what it printed.
struct Sandbox {
    child: Child,
    printed: HashMap<String, String>,
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn start() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(PROGRAM)
            .args(["sandbox", "--listen", "127.0.0.1:0", "--time-scale", "0.001", "--keys"])
            .arg(dir.path().join("keys"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("wechatpay sandbox starts");
        let stdout = child.stdout.take().unwrap();
        let (lines, received) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let mut printed = HashMap::new();
        while !printed.contains_key("apiv3_key_file") {
            let line = received.recv_timeout(Duration::from_secs(60)).expect("the sandbox prints its settings");
            let (name, value) = line.split_once(": ").unwrap_or_else(|| panic!("not `name: value`: {line}"));
            printed.insert(name.to_owned(), value.to_owned());
        }
        Sandbox { child, printed, dir }
    }

    fn get(&self, name: &str) -> &str {
        &self.printed[name]
    }

    /// `wechatpay ARGS` configured for this sandbox by environment variables.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(PROGRAM);
        for name in SETTINGS {
            command.env_remove(name);
        }
        for name in [
            "mchid",
            "merchant_serial",
            "merchant_key_file",
            "public_key_id",
            "public_key_file",
            "apiv3_key_file",
            "base_url",
        ] {
            command.env(format!("WECHATPAY_{}", name.to_ascii_uppercase()), self.get(name));
        }
        command.args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("wechatpay runs")
    }

    /// A control endpoint, over a plain socket.
    fn control(&self, method: &str, path: &str) -> (u16, Value) {
        let address = self.get("base_url").trim_start_matches("http://").trim_end_matches('/');
        let mut stream = TcpStream::connect(address).unwrap();
        write!(stream, "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let status = answer[9..12].parse().unwrap();
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    /// Creates a Native order of 1.00 CNY notifying `notify_url`.
    fn order(&self, out_trade_no: &str, notify_url: &str) {
        let body = json!({
            "appid": "wxd678efh567hg6787", "description": "QQ公仔", "out_trade_no": out_trade_no,
            "notify_url": notify_url, "amount": { "total": 100 }
        });
        let output = self.run(&["call", "POST", "/v3/pay/transactions/native", "--json", &body.to_string()]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert!(json_of(&output)["code_url"].as_str().unwrap().starts_with("weixin://"));
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| panic!("{error}: {}", text(&output.stdout)))
}

fn status(output: &Output) -> i32 {
    output.status.code().expect("exited")
}

#[test]
fn call_sends_any_operation_and_prints_the_verified_answer() {
    let sandbox = Sandbox::start();
    sandbox.order("CLI-1", "http://127.0.0.1:9/notify");
    let query = |no: &str| sandbox.run(&["call", "GET", &format!("/v3/pay/transactions/out-trade-no/{no}")]);
    assert_eq!(json_of(&query("CLI-1"))["trade_state"], "NOTPAY");
    let (code, paid) = sandbox.control("POST", "/sandbox/orders/CLI-1/pay");
    assert_eq!((code, paid["trade_state"].as_str()), (200, Some("SUCCESS")));
    assert_eq!(json_of(&query("CLI-1"))["trade_state"], "SUCCESS");

    let missing = query("CLI-NONE");
    assert_eq!(status(&missing), 1);
    let stderr = text(&missing.stderr);
    assert!(stderr.contains("ORDER_NOT_EXIST") && stderr.lines().count() == 1, "{stderr}");

    let dry = sandbox.run(&["call", "GET", "/v3/pay/transactions/out-trade-no/CLI-1", "--dry-run"]);
    let printed = text(&dry.stdout);
    assert!(printed.starts_with("GET http://127.0.0.1:"), "{printed}");
    assert!(printed.contains("authorization: WECHATPAY2-SHA256-RSA2048 mchid="), "{printed}");
    assert!(printed.contains(&format!("mchid={}", sandbox.get("mchid"))), "the merchant id is filled: {printed}");

    let invalid = sandbox.run(&["call", "POST", "/v3/pay/transactions/native", "--json", r#"{"appid":"wx1"}"#]);
    assert_eq!(status(&invalid), 2, "{}", text(&invalid.stderr));
    assert!(text(&invalid.stderr).contains("`description`"), "named by JSON path: {}", text(&invalid.stderr));
    let unknown = sandbox.run(&["call", "GET", "/v3/no/such/operation"]);
    assert_eq!(status(&unknown), 2);
}

#[test]
fn the_sandbox_serves_https_and_call_trusts_its_ca_file() {
    let sandbox = Sandbox::start();
    assert!(sandbox.get("tls_base_url").starts_with("https://127.0.0.1:"), "{}", sandbox.get("tls_base_url"));
    let certificate = std::fs::read_to_string(sandbox.get("client_certificate_file")).expect("apiclient_cert.pem");
    assert!(certificate.starts_with("-----BEGIN CERTIFICATE-----"), "{certificate}");
    let over_https = |ca_file: Option<&str>| {
        let mut command = sandbox.command(&["call", "GET", "/v3/pay/transactions/out-trade-no/CLI-TLS"]);
        command.env("WECHATPAY_BASE_URL", sandbox.get("tls_base_url"));
        if let Some(ca_file) = ca_file {
            command.env("WECHATPAY_CA_FILE", ca_file);
        }
        command.output().expect("wechatpay runs")
    };
    let untrusted = over_https(None);
    assert!(!untrusted.status.success(), "the sandbox CA is not trusted by default");
    let trusted = over_https(Some(sandbox.get("ca_file")));
    // Reached and answered: the sandbox has no such order.
    assert_eq!(status(&trusted), 1, "{}", text(&trusted.stderr));
    assert!(text(&trusted.stderr).contains("ORDER_NOT_EXIST"), "{}", text(&trusted.stderr));
}

#[test]
fn certificates_are_downloaded_verified_and_decrypted() {
    let sandbox = Sandbox::start();
    let out = sandbox.dir.path().join("certs");
    let output = sandbox.run(&["certificates", "download", "--out", out.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let serial = sandbox.get("platform_serial");
    let written = std::fs::read_to_string(out.join(format!("wechatpay_{serial}.pem"))).unwrap();
    assert_eq!(written, std::fs::read_to_string(sandbox.get("platform_certificate_file")).unwrap());

    let mut without_key = sandbox.command(&["certificates", "download", "--out", out.to_str().unwrap()]);
    let output = without_key.env_remove("WECHATPAY_APIV3_KEY_FILE").output().unwrap();
    assert_eq!(status(&output), 2);
    assert!(text(&output.stderr).contains("APIv3 key"));
}

#[test]
fn a_bill_is_streamed_to_a_file_with_its_digest_checked() {
    let sandbox = Sandbox::start();
    sandbox.order("CLI-BILL", "http://127.0.0.1:9/notify");
    let (_, paid) = sandbox.control("POST", "/sandbox/orders/CLI-BILL/pay");
    let date = &paid["success_time"].as_str().unwrap()[..10];
    for (kind, gzip) in [("trade", false), ("trade", true), ("fundflow", false)] {
        let out = sandbox.dir.path().join(format!("{kind}-{gzip}.csv"));
        let mut args = vec!["bill", "download", "--date", date, "--type", kind, "--out", out.to_str().unwrap()];
        if gzip {
            args.push("--gzip");
        }
        let output = sandbox.run(&args);
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert!(text(&output.stdout).contains("digest checked"));
        let bill = std::fs::read_to_string(&out).unwrap();
        assert!(bill.contains("`1.00"), "{bill}");
    }
    let out = sandbox.dir.path().join("none.csv");
    let output = sandbox.run(&["bill", "download", "--date", "2001-01-01", "--out", out.to_str().unwrap()]);
    assert_eq!(status(&output), 1);
    assert!(text(&output.stderr).contains("NO_STATEMENT_EXIST"));
    assert!(!out.exists() && !out.with_extension("partial").exists());
}

/// Accepts one HTTP request on a free port and hands over its header lines and body.
fn capture_one() -> (String, mpsc::Receiver<(String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/notify", listener.local_addr().unwrap());
    let (sender, received) = mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap();
                }
            }
            head.push_str(&line);
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut stream = stream;
        let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        let _ = sender.send((head, body));
    });
    (url, received)
}

#[test]
fn the_doctor_verifies_a_captured_notification_and_names_what_broke_it() {
    let sandbox = Sandbox::start();
    let (url, captured) = capture_one();
    sandbox.order("CLI-NOTIFY", &url);
    sandbox.control("POST", "/sandbox/orders/CLI-NOTIFY/pay");
    let (headers, body) = captured.recv_timeout(Duration::from_secs(30)).expect("the notification arrives");
    let dir = sandbox.dir.path();
    std::fs::write(dir.join("headers.txt"), &headers).unwrap();
    std::fs::write(dir.join("body.json"), &body).unwrap();
    let headers_file = dir.join("headers.txt");
    let verify = |body: &Path| {
        let args = ["notify", "verify", "--headers", headers_file.to_str().unwrap(), "--body", body.to_str().unwrap()];
        sandbox.run(&args)
    };

    let good = verify(&dir.join("body.json"));
    assert!(good.status.success(), "{}{}", text(&good.stdout), text(&good.stderr));
    assert!(text(&good.stdout).starts_with("verified: signed by the WeChat Pay public key"), "{}", text(&good.stdout));

    let mut altered = body.clone();
    altered.push(b'\n');
    std::fs::write(dir.join("altered.json"), altered).unwrap();
    let bad = verify(&dir.join("altered.json"));
    assert_eq!(status(&bad), 1);
    assert!(text(&bad.stdout).contains("without its trailing newline"), "{}", text(&bad.stdout));

    // Only certificates configured: the doctor says the merchant holds no public key.
    let certificates = dir.join("certs");
    std::fs::create_dir_all(&certificates).unwrap();
    std::fs::copy(sandbox.get("platform_certificate_file"), certificates.join("platform.pem")).unwrap();
    let mut command = sandbox.command(&["notify", "verify", "--headers", dir.join("headers.txt").to_str().unwrap()]);
    command.args(["--body", dir.join("body.json").to_str().unwrap(), "--certificates", certificates.to_str().unwrap()]);
    let output =
        command.env_remove("WECHATPAY_PUBLIC_KEY_ID").env_remove("WECHATPAY_PUBLIC_KEY_FILE").output().unwrap();
    assert_eq!(status(&output), 1);
    assert!(text(&output.stdout).contains("no public key is configured"), "{}", text(&output.stdout));
}

#[test]
fn missing_settings_are_a_usage_error_on_one_line() {
    let mut command = Command::new(PROGRAM);
    for name in SETTINGS {
        command.env_remove(name);
    }
    let output = command.args(["call", "GET", "/v3/pay/transactions/out-trade-no/X"]).output().unwrap();
    assert_eq!(status(&output), 2);
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("WECHATPAY_MCHID"), "{stderr}");
}

#[test]
fn every_command_has_help_with_its_exit_statuses() {
    for command in [
        &["--help"][..],
        &["sandbox", "--help"],
        &["certificates", "download", "--help"],
        &["call", "--help"],
        &["bill", "download", "--help"],
        &["notify", "verify", "--help"],
        &["answer", "verify", "--help"],
    ] {
        let output = Command::new(PROGRAM).args(command).output().unwrap();
        assert!(output.status.success(), "{command:?}");
        assert!(text(&output.stdout).contains("Exit status"), "{command:?}: {}", text(&output.stdout));
    }
    let output = Command::new(PROGRAM).args(["call"]).output().unwrap();
    assert_eq!(status(&output), 2, "a usage error");
}

/// The Node and Python SDKs, with their own clients, against the sandbox program: they sign, the
/// sandbox checks; it signs, they verify.
#[test]
fn the_interop_peers_call_the_sandbox_program() {
    let peers: Vec<&peers::Peer> = [peers::Peer::node(), peers::Peer::python()].into_iter().flatten().collect();
    if peers.is_empty() {
        return;
    }
    let sandbox = Sandbox::start();
    let apiv3_key = std::fs::read_to_string(sandbox.get("apiv3_key_file")).unwrap().trim().to_owned();
    for (index, peer) in peers.into_iter().enumerate() {
        let no = format!("PEER-{index}");
        let config = json!({
            "mchid": sandbox.get("mchid"), "serial": sandbox.get("merchant_serial"),
            "private_key": sandbox.get("merchant_key_file"), "apiv3_key": apiv3_key,
            "public_key": sandbox.get("public_key_file"), "public_key_id": sandbox.get("public_key_id"),
        });
        let call = |method: &str, path: String, body: Value| {
            let mut request = json!({ "op": "call", "base_url": sandbox.get("base_url"), "method": method, "path": path, "body": body, "config": config });
            request.as_object_mut().unwrap().extend(config.as_object().unwrap().clone());
            peer.call(request)
        };
        let body = json!({
            "appid": "wxd678efh567hg6787", "mchid": sandbox.get("mchid"), "description": "QQ公仔",
            "out_trade_no": no, "notify_url": "http://127.0.0.1:9/notify", "amount": { "total": 100, "currency": "CNY" }
        });
        let created = call("POST", "/v3/pay/transactions/native".into(), body);
        assert_eq!(created["status"], 200, "{}: {created}", peer.name);
        assert!(created["body"]["code_url"].as_str().is_some_and(|url| url.starts_with("weixin://")), "{created}");
        let query = format!("/v3/pay/transactions/out-trade-no/{no}?mchid={}", sandbox.get("mchid"));
        let queried = call("GET", query, Value::Null);
        assert_eq!(
            (queried["status"].as_i64(), queried["body"]["trade_state"].as_str()),
            (Some(200), Some("NOTPAY")),
            "{}: {queried}",
            peer.name
        );
    }
}

/// A signed answer captured from the sandbox (the request `call --dry-run` printed, sent as is),
/// verified by the doctor; the same answer re-encoded (pretty-printed) is named as such.
#[test]
fn the_doctor_verifies_a_captured_answer() {
    let sandbox = Sandbox::start();
    sandbox.order("CLI-ANSWER", "http://127.0.0.1:9/notify");
    let dry = sandbox.run(&["call", "GET", "/v3/pay/transactions/out-trade-no/CLI-ANSWER", "--dry-run"]);
    let printed = text(&dry.stdout);
    let mut lines = printed.lines();
    let (method, url) = lines.next().unwrap().split_once(' ').unwrap();
    let address = sandbox.get("base_url").trim_start_matches("http://").trim_end_matches('/');
    let path = url.split_once(address).unwrap().1;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for header in lines.take_while(|line| !line.is_empty()) {
        request.push_str(header);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    let mut stream = TcpStream::connect(address).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let split = answer.windows(4).position(|window| window == b"\r\n\r\n").unwrap();
    let (head, body) = (&answer[..split], &answer[split + 4..]);
    assert!(head.starts_with(b"HTTP/1.1 200"), "{}", text(head));

    let dir = sandbox.dir.path();
    std::fs::write(dir.join("answer-headers.txt"), head).unwrap();
    std::fs::write(dir.join("answer.json"), body).unwrap();
    let pretty = serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(body).unwrap()).unwrap();
    std::fs::write(dir.join("answer-pretty.json"), pretty).unwrap();
    let verify = |body: &str| {
        let headers = dir.join("answer-headers.txt");
        sandbox.run(&[
            "answer",
            "verify",
            "--headers",
            headers.to_str().unwrap(),
            "--body",
            dir.join(body).to_str().unwrap(),
        ])
    };
    let good = verify("answer.json");
    assert!(good.status.success(), "{}{}", text(&good.stdout), text(&good.stderr));
    let bad = verify("answer-pretty.json");
    assert_eq!(status(&bad), 1);
    assert!(text(&bad.stdout).contains("re-encoded"), "{}", text(&bad.stdout));
}

/// The program's APIv2 key is in its keys folder (`apiv2_key_file`), kept across runs: a client in
/// any language signs APIv2 requests the program accepts with it.
#[test]
fn the_sandbox_program_keeps_its_apiv2_key_in_the_keys_folder() {
    let sandbox = Sandbox::start();
    let key = std::fs::read_to_string(sandbox.get("apiv2_key_file")).expect("the APIv2 key file");
    assert_eq!(key.len(), 32, "{key:?}");

    let client = wechatpay::Client::builder(
        sandbox.get("mchid"),
        sandbox.get("merchant_serial"),
        wechatpay::MerchantKey::from_pem_file(sandbox.get("merchant_key_file")).unwrap(),
    )
    .wechatpay_public_key(
        sandbox.get("public_key_id"),
        wechatpay::PublicKey::from_pem_file(sandbox.get("public_key_file")).unwrap(),
    )
    .apiv2_key(wechatpay::ApiV2Key::new(&key).unwrap())
    .base_url(sandbox.get("base_url"))
    .build()
    .unwrap();
    let query = wechatpay::v2::pay::orderquery::post::Request::builder()
        .appid("wxd678efh567hg6787")
        .transaction_id("4200000001")
        .out_trade_no("1217752501201407033233368018")
        .build()
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let answer = runtime.block_on(client.v2().pay().orderquery().post(query)).expect("signed with the program's key");
    assert_eq!(answer.return_code, wechatpay::v2::types::ReturnCode::Success);

    // A second run on the same folder uses the same key.
    let keys = sandbox.dir.path().join("keys");
    let mut again = Command::new(PROGRAM)
        .args(["sandbox", "--listen", "127.0.0.1:0", "--keys"])
        .arg(&keys)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("wechatpay sandbox starts again");
    let mut printed = String::new();
    let mut lines = BufReader::new(again.stdout.take().unwrap()).lines();
    while !printed.contains("apiv3_key_file") {
        printed.push_str(&lines.next().expect("a line").unwrap());
        printed.push('\n');
    }
    let _ = again.kill();
    let _ = again.wait();
    assert!(printed.contains(&format!("apiv2_key_file: {}", keys.join("apiv2_key.txt").display())), "{printed}");
    assert_eq!(std::fs::read_to_string(keys.join("apiv2_key.txt")).unwrap(), key);
}
