//! The Redis and PostgreSQL servers the replay guards are tested and measured against, run by
//! `.ci/services` on 127.0.0.1: shared ones from the environment (`WECHATPAY_TEST_REDIS_URL`,
//! `WECHATPAY_TEST_POSTGRES_URL`, exported by `.ci/run`) or else started once per test process, and
//! dedicated ones for the tests that slow or crash them.
//!
//! Where a server's programs are not installed, the callers skip with a printed reason; in CI (`CI`
//! set) that is a failure instead. A server started here is stopped when it is dropped, and by
//! `.ci/services`' watcher once this process is gone (statics are never dropped).

// The load benchmark uses part of this module.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/services");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Redis,
    Postgres,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Redis => "redis",
            Kind::Postgres => "postgres",
        }
    }

    fn variable(self) -> &'static str {
        match self {
            Kind::Redis => "WECHATPAY_TEST_REDIS_URL",
            Kind::Postgres => "WECHATPAY_TEST_POSTGRES_URL",
        }
    }
}

/// Whether this is CI, where a missing server is a failure rather than a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !value.is_empty() && value != "false" && value != "0")
}

/// A server of ours in a directory of its own.
pub struct Server {
    kind: Kind,
    dir: PathBuf,
    url: String,
}

impl Server {
    /// Starts a server of `kind` in a new directory. `None`, with the reason printed, when its
    /// programs are not installed (outside CI: there it panics).
    pub fn start(kind: Kind) -> Option<Server> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("wechatpay-{}-{}-{n}", kind.name(), std::process::id()));
        let url = run(kind.name(), &dir)?;
        Some(Server { kind, dir, url })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// SIGKILL: a crash, its data left as it was.
    pub fn kill(&self) {
        run("kill", &self.dir);
    }

    /// Starts it again on the same port and data.
    pub fn restart(&self) {
        let url = run(self.kind.name(), &self.dir);
        assert_eq!(url.as_deref(), Some(self.url.as_str()), "restarted elsewhere");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        run("stop", &self.dir);
    }
}

/// `.ci/services COMMAND DIR OWNER`: its output, `None` when the programs are missing (status 3).
fn run(command: &str, dir: &std::path::Path) -> Option<String> {
    let output = Command::new("bash")
        .arg(SCRIPT)
        .arg(command)
        .arg(dir)
        .arg(std::process::id().to_string())
        .output()
        .unwrap_or_else(|error| panic!("cannot run {SCRIPT}: {error}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    match output.status.code() {
        Some(0) => Some(String::from_utf8_lossy(&output.stdout).trim().to_owned()),
        Some(3) if !in_ci() => {
            eprintln!("skipped: {}", stderr.trim());
            None
        }
        _ => panic!("`.ci/services {command}` failed ({}): {stderr}", output.status),
    }
}

/// The URL of the shared server of `kind`: from the environment, else one started for this
/// process. `None` (reason printed) when it cannot be had outside CI.
pub fn shared(kind: Kind) -> Option<String> {
    static REDIS: OnceLock<Option<Server>> = OnceLock::new();
    static POSTGRES: OnceLock<Option<Server>> = OnceLock::new();
    if let Ok(url) = std::env::var(kind.variable()) {
        return Some(url);
    }
    let server = match kind {
        Kind::Redis => &REDIS,
        Kind::Postgres => &POSTGRES,
    };
    let url = server.get_or_init(|| Server::start(kind)).as_ref().map(|server| server.url.clone());
    if url.is_none() {
        eprintln!("skipped: no {} server (set {} or install it)", kind.name(), kind.variable());
    }
    url
}
