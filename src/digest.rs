//! The digests the documentation names: SHA-1 and SHA-256 (bill files, media uploads; from
//! aws-lc-rs) and SM3 (GB/T 32905: bill files, electronic receipts and the uploads of invoice
//! files; from RustCrypto's `sm3`, aws-lc-rs has none).
//!
//! ```
//! use wechatpay::digest::{sm3_hex, DigestAlgorithm};
//! assert_eq!(sm3_hex(b"abc"), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
//! assert_eq!(DigestAlgorithm::from_name("SM3"), Some(DigestAlgorithm::Sm3));
//! ```

use aws_lc_rs::digest;
use sm3::Digest as _;

/// A digest algorithm as WeChat Pay names it (`hash_type`, `digest_algorithm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DigestAlgorithm {
    /// `SHA1`: bill files.
    Sha1,
    /// `SHA256`: media uploads.
    Sha256,
    /// `SM3`: bill files and receipts of national-cryptography merchants, invoice file uploads.
    Sm3,
}

impl DigestAlgorithm {
    /// The algorithm a name stands for (`SHA1`, `SHA-1`, `SHA256`, `SHA-256`, `SM3`,
    /// `DIGEST_ALGORITHM_SM3`; any case), `None` for anything else.
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.trim().to_ascii_uppercase();
        match name.strip_prefix("DIGEST_ALGORITHM_").unwrap_or(&name) {
            "SHA1" | "SHA-1" => Some(DigestAlgorithm::Sha1),
            "SHA256" | "SHA-256" => Some(DigestAlgorithm::Sha256),
            "SM3" => Some(DigestAlgorithm::Sm3),
            _ => None,
        }
    }

    /// The digest of `bytes`, lower-case hex.
    pub fn hex(self, bytes: &[u8]) -> String {
        let mut hasher = Hasher::new(self);
        hasher.update(bytes);
        hasher.finish_hex()
    }
}

/// SM3 of `bytes` (32 bytes).
pub fn sm3(bytes: &[u8]) -> [u8; 32] {
    sm3::Sm3::digest(bytes).into()
}

/// SM3 of `bytes`, lower-case hex.
pub fn sm3_hex(bytes: &[u8]) -> String {
    hex(&sm3(bytes))
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    DigestAlgorithm::Sha256.hex(bytes)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A digest computed over bytes that arrive in pieces.
pub(crate) enum Hasher {
    Aws(digest::Context),
    Sm3(Box<sm3::Sm3>),
}

impl Hasher {
    pub(crate) fn new(algorithm: DigestAlgorithm) -> Self {
        match algorithm {
            DigestAlgorithm::Sha1 => Hasher::Aws(digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY)),
            DigestAlgorithm::Sha256 => Hasher::Aws(digest::Context::new(&digest::SHA256)),
            DigestAlgorithm::Sm3 => Hasher::Sm3(Box::default()),
        }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Aws(context) => context.update(bytes),
            Hasher::Sm3(sm3) => sm3.update(bytes),
        }
    }

    pub(crate) fn finish_hex(self) -> String {
        match self {
            Hasher::Aws(context) => hex(context.finish().as_ref()),
            Hasher::Sm3(sm3) => hex(&sm3.finalize()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GB/T 32905-2016, appendix A: examples 1 (`abc`) and 2 (`abcd` sixteen times).
    #[test]
    fn sm3_matches_gb_t_32905() {
        assert_eq!(sm3_hex(b"abc"), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
        assert_eq!(sm3_hex(&b"abcd".repeat(16)), "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
        let mut pieces = Hasher::new(DigestAlgorithm::Sm3);
        for piece in b"abcd".repeat(16).chunks(7) {
            pieces.update(piece);
        }
        assert_eq!(pieces.finish_hex(), "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
    }

    #[test]
    fn names_as_the_documentation_writes_them() {
        for (name, algorithm) in [
            ("SHA1", DigestAlgorithm::Sha1),
            ("sha-1", DigestAlgorithm::Sha1),
            ("SHA256", DigestAlgorithm::Sha256),
            ("SM3", DigestAlgorithm::Sm3),
            ("DIGEST_ALGORITHM_SM3", DigestAlgorithm::Sm3),
        ] {
            assert_eq!(DigestAlgorithm::from_name(name), Some(algorithm), "{name}");
        }
        assert_eq!(DigestAlgorithm::from_name("MD5"), None);
        assert_eq!(
            DigestAlgorithm::Sha256.hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
