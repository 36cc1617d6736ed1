//! `wechatpay sandbox`: the sandbox as a program, for tests in any language.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use wechatpay_sdk_sandbox::{CertChoice, Config, Keys, Sandbox, Signer};

use crate::args::{SandboxArgs, SignerArg};
use crate::failure::Failure;

pub async fn run(args: SandboxArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let dir =
        args.keys.unwrap_or_else(|| std::env::temp_dir().join(format!("wechatpay-sandbox-{}", std::process::id())));
    let keys_dir = dir.clone();
    let keys = tokio::task::spawn_blocking(move || Keys::load_or_generate(keys_dir))
        .await
        .map_err(|error| Failure::usage(format!("keys: {error}")))?
        .map_err(|error| Failure::usage(format!("keys: {error}")))?;
    let apiv2_key = apiv2_key(&dir)?;
    let config = Config {
        keys: Some(Arc::new(keys)),
        signer: match args.signer {
            SignerArg::PublicKey => Signer::PublicKey,
            SignerArg::Platform => Signer::Platform,
        },
        time_scale: args.time_scale,
        deliver_beyond_loopback: args.deliver_anywhere,
        tls_listen: args.tls_listen,
        apiv2_key: Some(apiv2_key),
        ..Config::default()
    };
    let sandbox = Sandbox::bind(args.listen, config).await.map_err(|error| Failure::usage(error.to_string()))?;
    let keys = sandbox.keys();
    let dir = keys.dir().map(|dir| dir.display().to_string()).unwrap_or_default();
    let file = |name: &str| format!("{dir}/{name}");
    // `name: value` lines on stdout, flushed at once: a test or script reads them, then talks to
    // the sandbox. The same names as the WECHATPAY_* settings, lower case.
    let lines = [
        ("base_url", sandbox.base_url()),
        ("mchid", keys.mchid().to_owned()),
        ("merchant_serial", keys.merchant_serial().to_owned()),
        ("merchant_key_file", file("merchant_key.pem")),
        ("public_key_id", keys.public_key_id().to_owned()),
        ("public_key_file", file("wechatpay_pub_key.pem")),
        ("platform_serial", keys.platform_serial(CertChoice::Platform).to_owned()),
        ("platform_certificate_file", file("platform_cert.pem")),
        // HTTPS: the CA to trust, and the API client certificate (for merchant_key_file) of the
        // APIv2 calls that need mutual TLS.
        ("tls_base_url", sandbox.tls_base_url()),
        ("ca_file", file(wechatpay_sdk_sandbox::CA_FILE)),
        ("client_certificate_file", file(wechatpay_sdk_sandbox::CLIENT_CERTIFICATE_FILE)),
        ("apiv2_key_file", file(APIV2_KEY_FILE)),
        ("apiv3_key_file", file("apiv3_key.txt")),
    ];
    let mut out = std::io::stdout().lock();
    for (name, value) in lines {
        let _ = writeln!(out, "{name}: {value}");
    }
    let _ = out.flush();
    drop(out);
    eprintln!("sandbox ready in {} ms; Ctrl-C stops it", started.elapsed().as_millis());
    tokio::signal::ctrl_c().await.map_err(|error| Failure::failed(format!("cannot wait for Ctrl-C: {error}")))?;
    eprintln!("sandbox stopped");
    Ok(())
}

/// The APIv2 key's file in the keys folder, beside the APIv3 key's.
const APIV2_KEY_FILE: &str = "apiv2_key.txt";

/// The keys folder's APIv2 key, made (32 letters and digits, as WeChat Pay's) and written the first
/// time: the same key on every run with the same folder, as the other keys.
fn apiv2_key(dir: &Path) -> Result<String, Failure> {
    let path = dir.join(APIV2_KEY_FILE);
    let failure = |error: std::io::Error| Failure::usage(format!("keys: {}: {error}", path.display()));
    match std::fs::read_to_string(&path) {
        Ok(key) => Ok(key.trim().to_owned()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let key = wechatpay::keys::nonce();
            write_private(&path, &key).map_err(failure)?;
            Ok(key)
        }
        Err(error) => Err(failure(error)),
    }
}

/// Writes a secret readable by its owner only (where the platform has permissions).
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}
