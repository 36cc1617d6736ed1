//! The digests an upload's `meta` carries of its file, computed by the operation's `fill` where
//! the page names them: SHA-256 (`sha256`, media uploads) and SM3 (`digest` with its algorithm
//! `SM3`, invoice files). RustCrypto's `sha2` and `sm3`: small, pure Rust, the same digest traits.

use sha2::Digest as _;

/// The digest of `bytes` with `algorithm` (`SHA256`, or `SM3` / `DIGEST_ALGORITHM_SM3`), lower-case
/// hex; an algorithm neither names gives an empty string, which WeChat Pay refuses with its own
/// message (the generator only emits the two).
pub fn file_digest(algorithm: &str, bytes: &[u8]) -> String {
    let digest = match algorithm {
        "SHA256" | "SHA-256" => sha2::Sha256::digest(bytes).to_vec(),
        "SM3" | "DIGEST_ALGORITHM_SM3" => sm3::Sm3::digest(bytes).to_vec(),
        _ => return String::new(),
    };
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_and_sm3_of_abc() {
        assert_eq!(file_digest("SHA256", b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        // GB/T 32905-2016, appendix A, example 1.
        assert_eq!(file_digest("SM3", b"abc"), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
        assert_eq!(file_digest("DIGEST_ALGORITHM_SM3", b"abc"), file_digest("SM3", b"abc"));
        assert_eq!(file_digest("MD5", b"abc"), "");
    }
}
