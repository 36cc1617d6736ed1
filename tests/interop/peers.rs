//! The interop peers (npm `wechatpay-axios-plugin` and `sm-crypto`, PyPI `wechatpayv3` and `gmssl`)
//! and how to run their driver scripts (`peer.js`, `peer.py`, `guomi.js`, `guomi.py` beside this
//! file): shared by `tests/interop.rs` and the command line's process tests (`cli/tests/program.rs`),
//! which run them against the sandbox program.

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
    here.ancestors().find(|dir| dir.join(".ci/install-peers").exists()).unwrap_or(here)
}

impl Peer {
    /// The Node peer, or `None` (after saying why) when it is not installed.
    pub fn node() -> Option<&'static Peer> {
        static NODE: OnceLock<Result<Peer, String>> = OnceLock::new();
        Self::node_driver(
            &NODE,
            "node (wechatpay-axios-plugin)",
            "tests/interop/peer.js",
            "wechatpay-axios-plugin/package.json",
        )
    }

    /// The Python peer, or `None` (after saying why) when it is not installed.
    pub fn python() -> Option<&'static Peer> {
        static PYTHON: OnceLock<Result<Peer, String>> = OnceLock::new();
        Self::python_driver(&PYTHON, "python (wechatpayv3)", "tests/interop/peer.py", "wechatpayv3/core.py")
    }

    /// A driver `script` run by Node with the modules of `.ci/peers/node`, installed when
    /// `package` (a file under them) is there; checked once, in `cell`.
    pub fn node_driver(
        cell: &'static OnceLock<Result<Peer, String>>,
        name: &'static str,
        script: &str,
        package: &str,
    ) -> Option<&'static Peer> {
        let modules = root().join(".ci/peers/node/node_modules");
        let program = std::env::var("NODE").unwrap_or_else(|_| "node".into());
        let peer = Peer { name, program, script: root().join(script), module_path: ("NODE_PATH", modules.clone()) };
        Self::found(cell.get_or_init(|| Peer::find(peer, &modules.join(package))))
    }

    /// A driver `script` run by Python with `.ci/peers/python` on its path, installed when
    /// `module` (a file under it) is there; checked once, in `cell`.
    pub fn python_driver(
        cell: &'static OnceLock<Result<Peer, String>>,
        name: &'static str,
        script: &str,
        module: &str,
    ) -> Option<&'static Peer> {
        let target = root().join(".ci/peers/python");
        let program = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        let peer = Peer { name, program, script: root().join(script), module_path: ("PYTHONPATH", target.clone()) };
        Self::found(cell.get_or_init(|| Peer::find(peer, &target.join(module))))
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
        stdin.write_all(request.to_string().as_bytes()).expect("write to the driver");
        drop(stdin);
        let output = child.wait_with_output().expect("wait for the driver");
        let stderr = String::from_utf8_lossy(&output.stderr);
        match output.status.code() {
            Some(0) => serde_json::from_slice(&output.stdout).map_err(|error| {
                Run::Failed(format!("answer is not JSON ({error}): {}", String::from_utf8_lossy(&output.stdout)))
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
