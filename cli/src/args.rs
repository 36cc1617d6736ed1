//! The command line: every command and flag, with the help `--help` prints. Parsing only.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub const EXIT_CODES: &str = "Exit status: 0 done (verified); 1 the operation failed: WeChat Pay refused it, a \
signature or digest did not verify, the doctor found a cause; 2 bad arguments or configuration; 3 the outcome is \
unknown (a timeout or a lost answer after the request was sent): query before retrying.";

/// WeChat Pay APIv3 from a shell, and a WeChat Pay sandbox to test against.
///
/// The merchant is configured by flags, WECHATPAY_* environment variables or a TOML file
/// (--config), in that order of precedence. Secrets are read from files or the environment only,
/// and never printed. Results go to stdout, progress and errors to stderr.
#[derive(Debug, Parser)]
#[command(name = "wechatpay", version, arg_required_else_help = true, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a WeChat Pay sandbox: prints its base URL, merchant ids and key files, serves until stopped.
    #[command(after_help = "Control endpoints (unsigned, for tests in any language): POST \
/sandbox/orders/{out_trade_no}/pay|fail|expire, GET /sandbox/orders/{out_trade_no}, POST \
/sandbox/refunds/{out_refund_no}/success|abnormal|closed, GET /sandbox/deliveries, POST \
/sandbox/faults/{fault}[?times=always|?path=/v3/...], DELETE /sandbox/faults, POST \
/sandbox/signer/public-key|platform|platform2.\n\nExit status: 0 stopped (Ctrl-C), 2 the address or keys cannot be \
used.")]
    Sandbox(SandboxArgs),
    /// Platform certificates.
    #[command(subcommand)]
    Certificates(CertificatesCommand),
    /// Call any operation: validated against its type, signed, sent, the answer verified and printed as JSON.
    #[command(after_help = EXIT_CODES)]
    Call(CallArgs),
    /// Bills.
    #[command(subcommand)]
    Bill(BillCommand),
    /// Notifications: the verification doctor.
    #[command(subcommand)]
    Notify(NotifyCommand),
    /// Answers of the API: the verification doctor.
    #[command(subcommand)]
    Answer(AnswerCommand),
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Where to listen
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Where HTTPS listens (mutual TLS for the APIv2 calls that need the API client certificate)
    /// [default: the --listen address's IP, a free port]
    #[arg(long, value_name = "ADDR")]
    pub tls_listen: Option<SocketAddr>,
    /// The keys folder: loaded when it holds keys, else fresh keys are generated and written there
    /// [default: a new folder under the system's temporary directory]
    #[arg(long, value_name = "DIR")]
    pub keys: Option<PathBuf>,
    /// Which key signs answers and notifications
    #[arg(long, value_enum, default_value_t = SignerArg::PublicKey)]
    pub signer: SignerArg,
    /// Multiplies the delays between notification redeliveries (1 is WeChat Pay's schedule)
    #[arg(long, value_name = "FACTOR", default_value = "1")]
    pub time_scale: f64,
    /// Deliver notifications to any host, not only to loopback addresses
    #[arg(long)]
    pub deliver_anywhere: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SignerArg {
    PublicKey,
    Platform,
}

#[derive(Debug, Subcommand)]
pub enum CertificatesCommand {
    /// Download the platform certificates, verify the answer's signature, then decrypt them into DIR.
    #[command(after_help = EXIT_CODES)]
    Download {
        #[command(flatten)]
        merchant: MerchantArgs,
        /// Where to write `wechatpay_<serial>.pem`
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct CallArgs {
    #[command(flatten)]
    pub merchant: MerchantArgs,
    /// GET, POST, PUT, PATCH or DELETE
    pub method: String,
    /// The path with its values and query, e.g. /v3/pay/transactions/out-trade-no/T-1?mchid=1900000109
    pub path: String,
    /// The JSON body
    #[arg(long, value_name = "BODY", conflicts_with = "json_file")]
    pub json: Option<String>,
    /// The JSON body, from a file
    #[arg(long, value_name = "FILE")]
    pub json_file: Option<PathBuf>,
    /// Print the signed request instead of sending it
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum BillCommand {
    /// Download the bill of a day, streamed to FILE with its SHA-1 digest checked.
    #[command(after_help = EXIT_CODES)]
    Download {
        #[command(flatten)]
        merchant: MerchantArgs,
        /// The day, YYYY-MM-DD
        #[arg(long, value_name = "DATE")]
        date: String,
        /// Which bill
        #[arg(long = "type", value_enum, default_value_t = BillKind::Trade)]
        kind: BillKind,
        /// Ask for it GZIP-compressed (it is written decompressed)
        #[arg(long)]
        gzip: bool,
        /// Where to write it (written to FILE.partial, renamed once the digest checks)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BillKind {
    Trade,
    Fundflow,
}

#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Verify a captured notification and say exactly why it fails, if it does.
    #[command(after_help = "HEADERS is the request's header lines (`Name: value`, as a log or `curl -D` shows \
them); BODY its raw bytes. Keys: the public key (--public-key-id, --public-key-file), platform certificates \
(--certificates DIR of PEM files) and the APIv3 key (environment or file) to decrypt.\n\nExit status: 0 verified, \
1 not verified (the cause is printed), 2 bad arguments or configuration.")]
    Verify(VerifyArgs),
}

#[derive(Debug, Subcommand)]
pub enum AnswerCommand {
    /// Verify a captured answer of the API and say exactly why it fails, if it does.
    #[command(after_help = "Exit status: 0 verified, 1 not verified (the cause is printed), 2 bad arguments or \
configuration.")]
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub merchant: MerchantArgs,
    /// The captured headers
    #[arg(long, value_name = "FILE")]
    pub headers: PathBuf,
    /// The captured body, byte for byte
    #[arg(long, value_name = "FILE")]
    pub body: PathBuf,
}

/// Who the merchant is. The APIv3 key comes from WECHATPAY_APIV3_KEY or a file, never a flag (a
/// flag shows in the process list).
#[derive(Debug, Args, Default)]
pub struct MerchantArgs {
    /// A TOML file with any of the settings below (snake_case names, e.g. `mchid = "1900000109"`)
    #[arg(long, value_name = "FILE", env = "WECHATPAY_CONFIG")]
    pub config: Option<PathBuf>,
    /// The merchant id
    #[arg(long, env = "WECHATPAY_MCHID")]
    pub mchid: Option<String>,
    /// The merchant API certificate's serial number
    #[arg(long, env = "WECHATPAY_MERCHANT_SERIAL")]
    pub merchant_serial: Option<String>,
    /// The merchant API private key (PEM)
    #[arg(long, value_name = "FILE", env = "WECHATPAY_MERCHANT_KEY_FILE")]
    pub merchant_key_file: Option<PathBuf>,
    /// The WeChat Pay public key's id (PUB_KEY_ID_…)
    #[arg(long, env = "WECHATPAY_PUBLIC_KEY_ID")]
    pub public_key_id: Option<String>,
    /// The WeChat Pay public key (PEM)
    #[arg(long, value_name = "FILE", env = "WECHATPAY_PUBLIC_KEY_FILE")]
    pub public_key_file: Option<PathBuf>,
    /// A file holding the APIv3 key (or set WECHATPAY_APIV3_KEY)
    #[arg(long, value_name = "FILE", env = "WECHATPAY_APIV3_KEY_FILE")]
    pub apiv3_key_file: Option<PathBuf>,
    /// A folder of platform certificates (PEM files)
    #[arg(long, value_name = "DIR", env = "WECHATPAY_CERTIFICATES")]
    pub certificates: Option<PathBuf>,
    /// The API's base URL [default: https://api.mch.weixin.qq.com/]
    #[arg(long, value_name = "URL", env = "WECHATPAY_BASE_URL")]
    pub base_url: Option<String>,
    /// CA certificates to trust besides the system's (PEM), e.g. the sandbox's tls/ca.pem for its
    /// HTTPS URL, or a corporate TLS proxy's; server certificates are still verified
    #[arg(long, value_name = "FILE", env = "WECHATPAY_CA_FILE")]
    pub ca_file: Option<PathBuf>,
}
