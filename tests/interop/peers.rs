//! The interop peers (npm `wechatpay-axios-plugin`, PyPI `wechatpayv3`) and how to run their
//! driver scripts (`peer.js`, `peer.py` beside this file): shared by `tests/interop.rs` and the
//! command line's process tests (`cli/tests/program.rs`), which run them against the sandbox
//! program.

// Each including test binary uses part of it.
#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::{json, Value};

/// An installed peer and how to run its driver.
pub struct Peer {
    pub name: &'static str,
    program: String,
    script: PathBuf,
    /// `NODE_PATH` or `PYTHONPATH`, pointing into `.ci/peers/`.
    module_path: (&'static str, PathBuf),
}

/// The workspace root (where `.ci/` is), from whichever crate's tests include this file.
pub fn root() -> &'static Path {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .find(|dir| dir.join(".ci/install-peers").exists())
        .unwrap_or(here)
}

impl Peer {
    /// The Node peer, or `None` (after saying why) when it is not installed.
    pub fn node() -> Option<&'static Peer> {
        static NODE: OnceLock<Result<Peer, String>> = OnceLock::new();
        let modules = root().join(".ci/peers/node/node_modules");
        Self::found(NODE.get_or_init(|| {
            Peer::find(
                Peer {
                    name: "node (wechatpay-axios-plugin)",
                    program: std::env::var("NODE").unwrap_or_else(|_| "node".into()),
                    script: root().join("tests/interop/peer.js"),
                    module_path: ("NODE_PATH", modules.clone()),
                },
                &modules.join("wechatpay-axios-plugin/package.json"),
            )
        }))
    }

    /// The Python peer, or `None` (after saying why) when it is not installed.
    pub fn python() -> Option<&'static Peer> {
        static PYTHON: OnceLock<Result<Peer, String>> = OnceLock::new();
        let target = root().join(".ci/peers/python");
        Self::found(PYTHON.get_or_init(|| {
            Peer::find(
                Peer {
                    name: "python (wechatpayv3)",
                    program: std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()),
                    script: root().join("tests/interop/peer.py"),
                    module_path: ("PYTHONPATH", target.clone()),
                },
                &target.join("wechatpayv3/core.py"),
            )
        }))
    }

    /// Checks the peer is installed and runs: its version, or why it is skipped.
    fn find(peer: Peer, installed: &Path) -> Result<Peer, String> {
        if !installed.exists() {
            return Err(format!(
                "{} is not installed ({} missing): run .ci/install-peers",
                peer.name,
                installed.display()
            ));
        }
        match peer.run(&json!({ "op": "version" })) {
            Ok(version) => {
                say(&format!(
                    "interop: {} {} on {}",
                    text(&version["peer"]),
                    text(&version["version"]),
                    text(&version["runtime"])
                ));
                Ok(peer)
            }
            Err(Run::Missing(why)) => Err(format!("{} cannot run: {why}", peer.name)),
            Err(Run::Failed(why)) => {
                panic!("{} is installed but its driver fails: {why}", peer.name)
            }
        }
    }

    fn found(peer: &'static Result<Peer, String>) -> Option<&'static Peer> {
        match peer {
            Ok(peer) => Some(peer),
            Err(why) => {
                let test = std::thread::current().name().unwrap_or("this test").to_owned();
                say(&format!("SKIPPED {test}: {why}"));
                None
            }
        }
    }

    /// Runs one request through the driver; any failure of an installed peer fails the test.
    pub fn call(&self, request: Value) -> Value {
        match self.run(&request) {
            Ok(answer) => answer,
            Err(Run::Missing(why) | Run::Failed(why)) => {
                panic!("{} failed on {}: {why}", self.name, request["op"])
            }
        }
    }

    fn run(&self, request: &Value) -> Result<Value, Run> {
        let mut child = Command::new(&self.program)
            .arg(&self.script)
            .env(self.module_path.0, &self.module_path.1)
            .current_dir(root())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| Run::Missing(format!("cannot start {:?}: {error}", self.program)))?;
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin
            .write_all(request.to_string().as_bytes())
            .expect("write to the driver");
        drop(stdin);
        let output = child.wait_with_output().expect("wait for the driver");
        let stderr = String::from_utf8_lossy(&output.stderr);
        match output.status.code() {
            Some(0) => serde_json::from_slice(&output.stdout).map_err(|error| {
                Run::Failed(format!(
                    "answer is not JSON ({error}): {}",
                    String::from_utf8_lossy(&output.stdout)
                ))
            }),
            Some(77) => Err(Run::Missing(stderr.trim().to_owned())),
            _ => Err(Run::Failed(format!("{} {stderr}", output.status))),
        }
    }
}

enum Run {
    /// The peer or its runtime is not there: skip.
    Missing(String),
    /// The peer is there and failed: fail.
    Failed(String),
}

pub fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("?")
}

/// Writes past the test harness's output capture, so skips show in CI logs.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}
