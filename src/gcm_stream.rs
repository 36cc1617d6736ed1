//! GCM decryption as the bytes stream in, for encrypted bill files (`AEAD_AES_256_GCM` and
//! `SM4_GCM`): a bill can be hundreds of megabytes, which a one-shot AEAD would have to hold whole.
//!
//! Written here, on RustCrypto's block ciphers (`aes`, `sm4`), CTR mode (`ctr::Ctr32BE`) and
//! GHASH (`ghash`), because no maintained crate streams GCM over both ciphers: `aes-gcm` and
//! aws-lc-rs open a whole message at once, and RustCrypto's `sm4` has no GCM at all. Only the
//! assembly of GCM (NIST SP 800-38D, 96-bit nonce) is ours: the counter block `J0 = nonce ‖ 1`,
//! the keystream from `inc32(J0)`, GHASH over the ciphertext and the lengths, and the tag
//! `GHASH ⊕ E(J0)` compared in constant time. It is tested against `aes-gcm` (an independent
//! one-shot implementation) and against published GCM test vectors.
//!
//! The last 16 bytes of what has arrived are held back: they may be the tag. Plaintext handed on
//! before [`GcmStream::finish`] is **not authenticated yet**: callers must treat it as provisional
//! until `finish` says the tag matched (the bill stream ends with the error otherwise).

use aes::cipher::{BlockEncrypt, InnerIvInit, KeyInit, StreamCipher};
use aes::Aes256;
use ghash::universal_hash::UniversalHash;
use ghash::GHash;
use sm4::Sm4;

/// GCM's block and tag size.
pub(crate) const TAG_LEN: usize = 16;
/// The only nonce length WeChat Pay uses (and the one GCM defines `J0` for directly).
pub(crate) const NONCE_LEN: usize = 12;

/// The block cipher under GCM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cipher {
    /// AES with a 32-byte key (`AEAD_AES_256_GCM`).
    Aes256,
    /// SM4 with a 16-byte key (`SM4_GCM`, `AEAD_SM4_GCM`).
    Sm4,
}

impl Cipher {
    /// The key length in bytes.
    pub(crate) fn key_len(self) -> usize {
        match self {
            Cipher::Aes256 => 32,
            Cipher::Sm4 => 16,
        }
    }
}

/// Why a stream does not open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GcmError {
    /// The key does not have the cipher's length.
    KeyLength(usize),
    /// The nonce is not 12 bytes.
    NonceLength(usize),
    /// Fewer bytes than a tag arrived.
    Truncated,
    /// The tag does not match: altered, cut at another length, or another key.
    Tag,
}

enum Keystream {
    Aes(Box<ctr::Ctr32BE<Aes256>>),
    Sm4(Box<ctr::Ctr32BE<Sm4>>),
}

/// One GCM decryption in progress.
pub(crate) struct GcmStream {
    keystream: Keystream,
    ghash: GHash,
    /// `E(J0)`, the mask of the tag.
    tag_mask: [u8; TAG_LEN],
    /// Received, not yet decrypted: at most the last [`TAG_LEN`] bytes.
    held: Vec<u8>,
    /// Ciphertext not yet hashed: less than a block.
    partial: Vec<u8>,
    /// Associated data bytes.
    aad_length: u64,
    /// Ciphertext bytes decrypted so far.
    length: u64,
}

impl GcmStream {
    /// A decryption with `key`, `nonce` and associated data `aad` (bill files have none;
    /// notification resources and certificates do).
    pub(crate) fn new(cipher: Cipher, key: &[u8], nonce: &[u8], aad: &[u8]) -> Result<Self, GcmError> {
        if key.len() != cipher.key_len() {
            return Err(GcmError::KeyLength(key.len()));
        }
        if nonce.len() != NONCE_LEN {
            return Err(GcmError::NonceLength(nonce.len()));
        }
        let mut j0 = [0u8; 16];
        j0[..NONCE_LEN].copy_from_slice(nonce);
        j0[15] = 1;
        let mut first = j0;
        first[15] = 2;
        let (mut h, mut tag_mask) = ([0u8; 16], j0);
        let keystream = match cipher {
            Cipher::Aes256 => {
                let block = Aes256::new_from_slice(key).map_err(|_| GcmError::KeyLength(key.len()))?;
                block.encrypt_block((&mut h).into());
                block.encrypt_block((&mut tag_mask).into());
                Keystream::Aes(Box::new(ctr::Ctr32BE::from_core(ctr::CtrCore::inner_iv_init(block, &first.into()))))
            }
            Cipher::Sm4 => {
                let block = Sm4::new_from_slice(key).map_err(|_| GcmError::KeyLength(key.len()))?;
                block.encrypt_block((&mut h).into());
                block.encrypt_block((&mut tag_mask).into());
                Keystream::Sm4(Box::new(ctr::Ctr32BE::from_core(ctr::CtrCore::inner_iv_init(block, &first.into()))))
            }
        };
        let mut ghash = GHash::new(&h.into());
        ghash.update_padded(aad);
        Ok(GcmStream {
            keystream,
            ghash,
            tag_mask,
            held: Vec::with_capacity(TAG_LEN),
            partial: Vec::with_capacity(TAG_LEN),
            aad_length: aad.len() as u64,
            length: 0,
        })
    }

    /// Takes the next ciphertext bytes; returns the plaintext of all but the last [`TAG_LEN`]
    /// bytes received so far (unauthenticated until [`finish`](Self::finish)).
    pub(crate) fn update(&mut self, chunk: &[u8]) -> Vec<u8> {
        if self.held.len() + chunk.len() <= TAG_LEN {
            self.held.extend_from_slice(chunk);
            return Vec::new();
        }
        let mut data = std::mem::take(&mut self.held);
        data.extend_from_slice(chunk);
        self.held = data.split_off(data.len() - TAG_LEN);
        self.hash(&data);
        self.apply_keystream(&mut data);
        data
    }

    fn apply_keystream(&mut self, data: &mut [u8]) {
        match &mut self.keystream {
            Keystream::Aes(ctr) => ctr.apply_keystream(data),
            Keystream::Sm4(ctr) => ctr.apply_keystream(data),
        }
    }

    /// GHASH over ciphertext, whole blocks only; a remainder waits for the next bytes.
    fn hash(&mut self, mut data: &[u8]) {
        self.length += data.len() as u64;
        if !self.partial.is_empty() {
            let take = (TAG_LEN - self.partial.len()).min(data.len());
            self.partial.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.partial.len() < TAG_LEN {
                return;
            }
            self.ghash.update(&[ghash::Block::clone_from_slice(&self.partial)]);
            self.partial.clear();
        }
        let whole = data.len() / TAG_LEN * TAG_LEN;
        let blocks: Vec<ghash::Block> =
            data[..whole].chunks_exact(TAG_LEN).map(ghash::Block::clone_from_slice).collect();
        self.ghash.update(&blocks);
        self.partial.extend_from_slice(&data[whole..]);
    }

    /// The tag of everything hashed: GHASH over the padded ciphertext and the lengths, masked.
    fn tag(mut self) -> [u8; TAG_LEN] {
        self.ghash.update_padded(&self.partial);
        let mut lengths = [0u8; TAG_LEN];
        lengths[..8].copy_from_slice(&(self.aad_length * 8).to_be_bytes());
        lengths[8..].copy_from_slice(&(self.length * 8).to_be_bytes());
        self.ghash.update(&[lengths.into()]);
        let mut tag: [u8; TAG_LEN] = self.ghash.finalize().into();
        for (byte, mask) in tag.iter_mut().zip(self.tag_mask) {
            *byte ^= mask;
        }
        tag
    }

    /// At the end of the input: whether the held-back bytes are the tag of everything before.
    pub(crate) fn finish(mut self) -> Result<(), GcmError> {
        if self.held.len() < TAG_LEN {
            return Err(GcmError::Truncated);
        }
        let received = std::mem::take(&mut self.held);
        let tag = self.tag();
        aws_lc_rs::constant_time::verify_slices_are_equal(&tag, &received).map_err(|_| GcmError::Tag)
    }
}

/// A whole message opened at once (a notification resource, a certificate): the plaintext only
/// once its tag matched.
pub(crate) fn open(cipher: Cipher, key: &[u8], nonce: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, GcmError> {
    let mut stream = GcmStream::new(cipher, key, nonce, aad)?;
    let plaintext = stream.update(sealed);
    stream.finish()?;
    Ok(plaintext)
}

/// One-shot GCM encryption with the same construction: ciphertext and tag. For sealing as
/// WeChat Pay does (tests, peers and local tooling, as [`crate::ApiV3Key::encrypt`]).
pub(crate) fn seal(
    cipher: Cipher,
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, GcmError> {
    let mut stream = GcmStream::new(cipher, key, nonce, aad)?;
    let mut sealed = plaintext.to_vec();
    stream.apply_keystream(&mut sealed);
    stream.hash(&sealed);
    sealed.extend_from_slice(&stream.tag());
    Ok(sealed)
}

#[cfg(test)]
mod tests {
    use aes_gcm::aead::{Aead, KeyInit as _};

    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len()).step_by(2).map(|at| u8::from_str_radix(&text[at..at + 2], 16).unwrap()).collect()
    }

    fn open(cipher: Cipher, key: &[u8], nonce: &[u8], sealed: &[u8], chunk: usize) -> Result<Vec<u8>, GcmError> {
        let mut stream = GcmStream::new(cipher, key, nonce, b"")?;
        let mut plaintext = Vec::new();
        for piece in sealed.chunks(chunk.max(1)) {
            plaintext.extend(stream.update(piece));
        }
        stream.finish().map(|()| plaintext)
    }

    /// NIST's GCM test cases 13 to 15 (AES-256, 96-bit IV, no AAD), as published with the
    /// specification ("The Galois/Counter Mode of Operation", McGrew and Viega).
    #[test]
    fn published_aes_256_gcm_vectors_open_in_any_chunks() {
        let key15 = hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
        let cases = [
            (vec![0u8; 32], vec![0u8; 12], Vec::new(), hex("530f8afbc74536b9a963b4f1c4cb738b")),
            (vec![0u8; 32], vec![0u8; 12], vec![0u8; 16], hex("cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919")),
            (
                key15,
                hex("cafebabefacedbaddecaf888"),
                hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"),
                hex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad\
                     b094dac5d93471bdec1a502270e3cc6c"),
            ),
        ];
        for (key, nonce, plaintext, sealed) in cases {
            for chunk in [1, 7, 16, 17, 64, usize::MAX] {
                assert_eq!(
                    open(Cipher::Aes256, &key, &nonce, &sealed, chunk),
                    Ok(plaintext.clone()),
                    "chunks of {chunk}"
                );
            }
            assert_eq!(seal(Cipher::Aes256, &key, &nonce, b"", &plaintext), Ok(sealed));
        }
    }

    #[test]
    fn aes_gcm_agrees_with_the_aes_gcm_crate_at_every_length() {
        let key = b"0123456789abcdef0123456789abcdef";
        let nonce = b"fdasflkja484";
        let reference = aes_gcm::Aes256Gcm::new_from_slice(key).unwrap();
        for length in [0, 1, 15, 16, 17, 31, 32, 33, 1000, 4099] {
            let plaintext: Vec<u8> = (0..length).map(|i| (i * 7 + 3) as u8).collect();
            let sealed = reference.encrypt(nonce.into(), plaintext.as_slice()).unwrap();
            assert_eq!(seal(Cipher::Aes256, key, nonce, b"", &plaintext).as_ref(), Ok(&sealed), "length {length}");
            let with_aad = reference
                .encrypt(nonce.into(), aes_gcm::aead::Payload { msg: &plaintext, aad: b"transaction" })
                .unwrap();
            assert_eq!(super::open(Cipher::Aes256, key, nonce, b"transaction", &with_aad), Ok(plaintext.clone()));
            for chunk in [1, 5, 16, 100, usize::MAX] {
                assert_eq!(open(Cipher::Aes256, key, nonce, &sealed, chunk).as_deref(), Ok(&plaintext[..]));
            }
        }
    }

    /// SM4-GCM from RFC 8998 (ShangMi cipher suites for TLS 1.3), appendix A.1.
    #[test]
    fn sm4_gcm_matches_rfc_8998() {
        let key = hex("0123456789ABCDEFFEDCBA9876543210");
        let nonce = hex("00001234567800000000ABCD");
        let aad = hex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
        let plaintext = hex(
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDDEEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
        );
        let sealed = hex(
            "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D\
             83DE3541E4C2B58177E065A9BF7B62EC",
        );
        assert_eq!(seal(Cipher::Sm4, &key, &nonce, &aad, &plaintext), Ok(sealed.clone()));
        assert_eq!(super::open(Cipher::Sm4, &key, &nonce, &aad, &sealed), Ok(plaintext.clone()));
        assert_eq!(super::open(Cipher::Sm4, &key, &nonce, b"", &sealed), Err(GcmError::Tag));
        let without_aad = seal(Cipher::Sm4, &key, &nonce, b"", &plaintext).unwrap();
        for chunk in [1, 16, 33, usize::MAX] {
            assert_eq!(open(Cipher::Sm4, &key, &nonce, &without_aad, chunk), Ok(plaintext.clone()));
        }
    }

    /// GB/T 32907-2016, appendix A, example 1: the SM4 block cipher under the GCM here.
    #[test]
    fn sm4_matches_gb_t_32907() {
        let key = hex("0123456789abcdeffedcba9876543210");
        let mut block = hex("0123456789abcdeffedcba9876543210");
        Sm4::new_from_slice(&key).unwrap().encrypt_block(block.as_mut_slice().into());
        assert_eq!(block, hex("681edf34d206965e86b3e94f536e4246"));
    }

    #[test]
    fn tampered_truncated_and_wrongly_keyed_streams_fail() {
        let key = [7u8; 32];
        let nonce = [1u8; 12];
        let sealed = seal(Cipher::Aes256, &key, &nonce, b"", b"`2024-03-01,`1,`1.00\r\n").unwrap();
        let mut tampered = sealed.clone();
        tampered[3] ^= 1;
        assert_eq!(open(Cipher::Aes256, &key, &nonce, &tampered, 5), Err(GcmError::Tag));
        assert_eq!(open(Cipher::Aes256, &key, &nonce, &sealed[..sealed.len() - 1], 5), Err(GcmError::Tag));
        assert_eq!(open(Cipher::Aes256, &key, &nonce, &sealed[..10], 5), Err(GcmError::Truncated));
        assert_eq!(open(Cipher::Aes256, &[8u8; 32], &nonce, &sealed, 5), Err(GcmError::Tag));
        assert!(matches!(GcmStream::new(Cipher::Sm4, &key, &nonce, b""), Err(GcmError::KeyLength(32))));
        assert!(matches!(GcmStream::new(Cipher::Aes256, &key, &nonce[..8], b""), Err(GcmError::NonceLength(8))));
    }
}
