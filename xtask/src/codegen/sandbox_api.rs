//! The sandbox's copy of the IR: `sandbox/api/v3.json.gz` and `sandbox/api/v2.json.gz`, the IR of
//! `specs/` without its prose ([`Api::without_prose`]) as gzip-compressed JSON, one file per
//! protocol, which the sandbox crate embeds and reads at start to check requests and answer them
//! as the pages say.
//!
//! Written and checked like any generated file. The gzip stream is deterministic (fixed level, no
//! file name or time in the header), and staleness is judged on the JSON inside, so another
//! compressor version producing other bytes for the same JSON does not make the file stale.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use flate2::{read::GzDecoder, Compression, GzBuilder};

use crate::ir::{Api, Protocol};

/// Where the workspace's sandbox crate embeds the APIv3 copy from.
pub fn path() -> PathBuf {
    path_of(Protocol::V3)
}

/// Where the workspace's sandbox crate embeds the copy of one protocol from.
pub fn path_of(protocol: Protocol) -> PathBuf {
    super::workspace().join(format!("sandbox/api/{}.json.gz", protocol.as_str()))
}

/// The JSON the file of `protocol` holds: that protocol's operations and notifications, and the
/// number of its pages.
pub fn json_of(api: &Api, protocol: Protocol) -> Vec<u8> {
    let other = |p: Protocol| p != protocol;
    let mut files: std::collections::BTreeSet<&str> =
        api.operations.iter().filter(|op| other(op.protocol)).map(|op| op.file.as_str()).collect();
    files.extend(api.notifications.iter().filter(|n| other(n.protocol)).map(|n| n.file.as_str()));
    let root = format!("openapi/{}/", protocol.as_str());
    let other_redirects = api.redirects.iter().filter(|r| !r.contains(&root)).count();
    let mut api = api.without_prose();
    api.operations.retain(|op| op.protocol == protocol);
    api.notifications.retain(|n| n.protocol == protocol);
    api.pages -= files.len() + other_redirects;
    // Serialising plain data (no maps with non-string keys, no floats) cannot fail.
    serde_json::to_vec(&api).expect("the IR serialises")
}

/// The JSON the APIv3 file holds.
pub fn json(api: &Api) -> Vec<u8> {
    json_of(api, Protocol::V3)
}

/// `json` compressed: level 9, an empty header (no name, modification time 0).
pub fn compress(json: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzBuilder::new().mtime(0).write(Vec::new(), Compression::best());
    encoder.write_all(json)?;
    encoder.finish()
}

/// The JSON inside the file at `path`, or `None` when it is missing or not gzip.
fn current(path: &Path) -> Option<Vec<u8>> {
    let compressed = std::fs::read(path).ok()?;
    let mut json = Vec::new();
    GzDecoder::new(compressed.as_slice()).read_to_end(&mut json).ok()?;
    Some(json)
}

/// With `check`, the problem with the file (`stale: …`, `missing: …`), if any; else writes it
/// when its JSON differs.
pub fn sync(api: &Api, path: &Path, check: bool) -> std::io::Result<Vec<String>> {
    let protocol = if path.ends_with("v2.json.gz") { Protocol::V2 } else { Protocol::V3 };
    let fresh = json_of(api, protocol);
    let found = current(path);
    if found.as_deref() == Some(fresh.as_slice()) {
        return Ok(Vec::new());
    }
    if check {
        let what = if path.exists() { "stale" } else { "missing" };
        return Ok(vec![format!("{what}: {}", path.display())]);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, compress(&fresh)?)?;
    Ok(Vec::new())
}
