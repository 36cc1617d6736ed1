//! Encrypted bill files, as the bill APIs that answer `encrypt_key` serve them: the bill (gzip'ed
//! first when asked) sealed with AES-256-GCM or SM4-GCM under a fresh file key, ciphertext then
//! the 16-byte tag, encrypted as it streams so that a bill of hundreds of megabytes is never held.
//! The streaming sealer is CTR (`ctr`) and GHASH (`ghash`) assembled here (`aes-gcm` seals in one
//! shot only); the test below checks it against `aes-gcm`'s one-shot GCM over both ciphers.

use aes_gcm::aes::cipher::{BlockEncrypt, InnerIvInit, KeyInit, StreamCipher};
use aes_gcm::aes::Aes256;
use bytes::Bytes;
use ghash::universal_hash::UniversalHash;
use ghash::GHash;

/// The cipher of an encrypted bill, as the request's `algorithm` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BillCipher {
    /// `AEAD_AES_256_GCM`: a 32-byte key.
    Aes256,
    /// `SM4_GCM`: a 16-byte key.
    Sm4,
}

impl BillCipher {
    pub(crate) fn from_algorithm(algorithm: &str) -> Option<Self> {
        match algorithm {
            "AEAD_AES_256_GCM" => Some(BillCipher::Aes256),
            "SM4_GCM" => Some(BillCipher::Sm4),
            _ => None,
        }
    }

    pub(crate) fn key_len(self) -> usize {
        match self {
            BillCipher::Aes256 => 32,
            BillCipher::Sm4 => 16,
        }
    }
}

enum Keystream {
    Aes(Box<ctr::Ctr32BE<Aes256>>),
    Sm4(Box<ctr::Ctr32BE<sm4::Sm4>>),
}

/// A GCM encryption in progress.
struct Sealing {
    keystream: Keystream,
    ghash: GHash,
    tag_mask: [u8; 16],
    partial: Vec<u8>,
    length: u64,
}

impl Sealing {
    fn new(cipher: BillCipher, key: &[u8], nonce: &[u8; 12]) -> Sealing {
        let mut j0 = [0u8; 16];
        j0[..12].copy_from_slice(nonce);
        j0[15] = 1;
        let mut counter = j0;
        counter[15] = 2;
        let (mut h, mut tag_mask) = ([0u8; 16], j0);
        let keystream = match cipher {
            BillCipher::Aes256 => {
                let block = Aes256::new_from_slice(key).expect("a 32-byte key");
                block.encrypt_block((&mut h).into());
                block.encrypt_block((&mut tag_mask).into());
                Keystream::Aes(Box::new(ctr::Ctr32BE::from_core(ctr::CtrCore::inner_iv_init(block, &counter.into()))))
            }
            BillCipher::Sm4 => {
                let block = sm4::Sm4::new_from_slice(key).expect("a 16-byte key");
                block.encrypt_block((&mut h).into());
                block.encrypt_block((&mut tag_mask).into());
                Keystream::Sm4(Box::new(ctr::Ctr32BE::from_core(ctr::CtrCore::inner_iv_init(block, &counter.into()))))
            }
        };
        Sealing { keystream, ghash: GHash::new(&h.into()), tag_mask, partial: Vec::new(), length: 0 }
    }

    fn seal(&mut self, piece: &[u8]) -> Bytes {
        let mut data = piece.to_vec();
        match &mut self.keystream {
            Keystream::Aes(ctr) => ctr.apply_keystream(&mut data),
            Keystream::Sm4(ctr) => ctr.apply_keystream(&mut data),
        }
        self.length += data.len() as u64;
        self.partial.extend_from_slice(&data);
        let whole = self.partial.len() / 16 * 16;
        for block in self.partial[..whole].chunks_exact(16) {
            self.ghash.update(&[ghash::Block::clone_from_slice(block)]);
        }
        self.partial.drain(..whole);
        Bytes::from(data)
    }

    fn tag(mut self) -> Bytes {
        self.ghash.update_padded(&self.partial);
        let mut lengths = [0u8; 16];
        lengths[8..].copy_from_slice(&(self.length * 8).to_be_bytes());
        self.ghash.update(&[lengths.into()]);
        let tag: [u8; 16] = self.ghash.finalize().into();
        Bytes::from(tag.iter().zip(self.tag_mask).map(|(byte, mask)| byte ^ mask).collect::<Vec<u8>>())
    }
}

/// `pieces` sealed as they come, then the tag.
pub(crate) fn seal_stream(
    cipher: BillCipher,
    key: &[u8],
    nonce: &[u8; 12],
    pieces: Box<dyn Iterator<Item = Bytes> + Send>,
) -> Box<dyn Iterator<Item = Bytes> + Send> {
    let mut sealing = Some(Sealing::new(cipher, key, nonce));
    let mut pieces = pieces;
    Box::new(std::iter::from_fn(move || match pieces.next() {
        Some(piece) => Some(sealing.as_mut()?.seal(&piece)),
        None => sealing.take().map(Sealing::tag),
    }))
}

#[cfg(test)]
mod tests {
    use aes_gcm::aead::{Aead, KeyInit};
    use aes_gcm::aes::cipher::consts::U12;

    use super::{seal_stream, BillCipher};

    /// The same bytes as `aes-gcm`'s one-shot GCM over AES-256 and SM4, whatever the pieces.
    #[test]
    fn the_streaming_sealer_is_the_one_shot_gcm_of_aes_gcm() {
        let nonce = *b"43HmZ1bEQ7nT";
        for (cipher, key) in [(BillCipher::Aes256, vec![1u8; 32]), (BillCipher::Sm4, vec![2u8; 16])] {
            for length in [0usize, 1, 15, 16, 17, 1000] {
                let plain: Vec<u8> = (0..length).map(|i| (i * 31 + 7) as u8).collect();
                let pieces: Vec<bytes::Bytes> = plain.chunks(7).map(bytes::Bytes::copy_from_slice).collect();
                let sealed: Vec<u8> =
                    seal_stream(cipher, &key, &nonce, Box::new(pieces.into_iter())).flatten().collect();
                let reference = match cipher {
                    BillCipher::Aes256 => {
                        aes_gcm::Aes256Gcm::new_from_slice(&key).unwrap().encrypt((&nonce).into(), plain.as_slice())
                    }
                    BillCipher::Sm4 => aes_gcm::AesGcm::<sm4::Sm4, U12>::new_from_slice(&key)
                        .unwrap()
                        .encrypt((&nonce).into(), plain.as_slice()),
                };
                assert_eq!(sealed, reference.unwrap(), "{cipher:?}, {length} bytes");
            }
        }
    }
}
