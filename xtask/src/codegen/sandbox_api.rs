//! The sandbox's copy of the IR: `sandbox/api/v3.json.gz`, the IR of `specs/` without its prose
//! ([`Api::without_prose`]) as gzip-compressed JSON, which the sandbox crate embeds and reads at
//! start to check requests and answer them as the pages say.
//!
//! Written and checked like any generated file. The gzip stream is deterministic (fixed level, no
//! file name or time in the header), and staleness is judged on the JSON inside, so another
//! compressor version producing other bytes for the same JSON does not make the file stale.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use flate2::{read::GzDecoder, Compression, GzBuilder};

use crate::ir::Api;

/// Where the workspace's sandbox crate embeds it from.
pub fn path() -> PathBuf {
    super::workspace().join("sandbox/api/v3.json.gz")
}

/// The JSON the file holds.
pub fn json(api: &Api) -> Vec<u8> {
    // Serialising plain data (no maps with non-string keys, no floats) cannot fail.
    serde_json::to_vec(&api.without_prose()).expect("the IR serialises")
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
    let fresh = json(api);
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
