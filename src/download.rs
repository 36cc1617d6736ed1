//! Bill files: the bill APIs (`/v3/bill/tradebill`, `/v3/bill/fundflowbill`, …) answer with a
//! short-lived `download_url` and the file's digest (`hash_type`, `hash_value`). The download is
//! signed like any request (its path and query), its answer is a byte stream WeChat Pay does not
//! sign, so the digest is what proves the file intact: it is computed while the bytes stream in
//! and a mismatch is an [`Error::Digest`]. The digest is `SHA1`, `SHA256` or `SM3`
//! ([`DigestAlgorithm`]); any other is refused before the download starts
//! ([`Error::UnsupportedDigest`], naming it).
//!
//! A download goes only to an allowed origin ([`ClientBuilder::bill_download_origins`], by default
//! WeChat Pay's own https hosts) and never follows a redirect: the request carries the merchant's
//! signature. The body streams with a read-idle timeout ([`ClientBuilder::read_timeout`]) and no
//! overall one, so a large bill downloads as long as data flows; [`Client::download_bill_to`] and
//! [`Client::download_bill_stream`] hold one chunk at a time, [`Client::download_bill`] holds the
//! file, up to [`ClientBuilder::max_body_size`].
//!
//! A bill requested with `tar_type=GZIP` arrives gzip-compressed, and its `hash_value` is the
//! digest of the bill inside (WeChat Pay's own Java SDK checks it the same way). A download that
//! starts with gzip's magic bytes is therefore decompressed as it streams, and every method yields
//! the bill itself; a compressed file that is cut short or corrupt is an [`Error::Gzip`]. (A CSV
//! bill never starts with those bytes: they are not text.)
//!
//! # Encrypted bills
//! Some bill APIs (`/v3/bill/sub-merchant-fundflowbill`, the e-commerce and Pay Score fund-flow
//! bills) encrypt the file: their answer adds `encrypt_key` (the file key, encrypted for the
//! merchant: RSA-OAEP, or SM2 for a national-cryptography merchant) and `nonce`, and the request
//! named the algorithm (`AEAD_AES_256_GCM`, or `SM4_GCM`). A [`BillFile`] with a
//! [`BillEncryption`] is downloaded as any other, and:
//! 1. `encrypt_key` is opened with the merchant key (through the client's
//!    [`Decrypter`](crate::signer::Decrypter)) before the download starts; the opened bytes are
//!    the file key (32 bytes for AES-256-GCM, 16 for SM4-GCM);
//! 2. the file (ciphertext followed by the 16-byte GCM tag, nonce the `nonce` string's bytes, no
//!    associated data) is decrypted as it streams, the last 16 bytes held back;
//! 3. the plaintext is decompressed when it is gzip (WeChat Pay encrypts the compressed file:
//!    decrypt first, then decompress);
//! 4. `hash_value` is checked against **the bill itself**: the decrypted bytes, decompressed when
//!    they were gzip, exactly as for a plain gzip bill.
//!
//! Decrypted bytes are handed on before the tag and the digest can be checked (that is what keeps
//! memory flat): they are provisional until the stream ends. [`BillStream`] ends with the error
//! ([`Error::BillDecrypt`] for a tag that does not match or a file cut short of its tag,
//! [`Error::Digest`], [`Error::Gzip`]); [`Client::download_bill_to`] returns it, and what it wrote
//! must then be discarded; [`Client::download_bill`] returns nothing but the error.
//!
//! [`ClientBuilder::bill_download_origins`]: crate::ClientBuilder::bill_download_origins
//! [`ClientBuilder::read_timeout`]: crate::ClientBuilder::read_timeout
//! [`ClientBuilder::max_body_size`]: crate::ClientBuilder::max_body_size

use std::future::poll_fn;
use std::pin::Pin;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::Stream;
use http::StatusCode;
use reqwest::Url;
use tokio::io::AsyncWrite;
use tracing::Instrument as _;
use wechatpay_generated::runtime::{Encrypted, ResponseKind};

use crate::digest::{DigestAlgorithm, Hasher};
use crate::error::Error;
use crate::exchange::{next_chunk, request_span, Fetched, Prepared, Read, Target};
use crate::gcm_stream::{Cipher, GcmError, GcmStream};
use crate::Client;

/// Where a bill file is and what its digest must be: the answer of a bill API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillFile {
    /// The absolute download address.
    pub download_url: String,
    /// The digest algorithm: `SHA1`, `SHA256` or `SM3`.
    pub hash_type: String,
    /// The expected digest of the bill (decrypted and decompressed), hex.
    pub hash_value: String,
    /// How the file is encrypted, for the bill APIs that encrypt it (`None`: a plain file).
    pub encryption: Option<BillEncryption>,
}

/// How an encrypted bill file is sealed: the file key as WeChat Pay encrypted it for the
/// merchant, the nonce, and the algorithm the request named (see [the module](self)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillEncryption {
    /// `AEAD_AES_256_GCM` or `SM4_GCM`, as the bill request's `algorithm` said.
    pub algorithm: String,
    /// The file key, encrypted with the merchant's public key (the answer's `encrypt_key`).
    pub encrypt_key: Encrypted,
    /// The GCM nonce (the answer's `nonce`, 12 characters).
    pub nonce: String,
}

impl BillEncryption {
    /// The three values: the request's algorithm, the answer's `encrypt_key` and `nonce`.
    pub fn new(algorithm: impl Into<String>, encrypt_key: impl Into<Encrypted>, nonce: impl Into<String>) -> Self {
        BillEncryption { algorithm: algorithm.into(), encrypt_key: encrypt_key.into(), nonce: nonce.into() }
    }

    fn cipher(&self) -> Result<Cipher, BillDecryptError> {
        match self.algorithm.trim().to_ascii_uppercase().as_str() {
            "AEAD_AES_256_GCM" | "AES_256_GCM" => Ok(Cipher::Aes256),
            "SM4_GCM" | "AEAD_SM4_GCM" => Ok(Cipher::Sm4),
            _ => Err(BillDecryptError::UnsupportedAlgorithm(self.algorithm.clone())),
        }
    }
}

/// Why an encrypted bill file does not open. Holds lengths and names, never key material.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BillDecryptError {
    /// The algorithm is neither `AEAD_AES_256_GCM` nor `SM4_GCM`: refused before the download.
    #[error("unsupported bill encryption algorithm {0:?} (supported: AEAD_AES_256_GCM, SM4_GCM)")]
    UnsupportedAlgorithm(String),
    /// The opened `encrypt_key` is not a key of the algorithm's length.
    #[error("the opened encrypt_key is {actual} bytes, {algorithm} takes {expected}")]
    KeyLength {
        /// The algorithm.
        algorithm: String,
        /// Its key length.
        expected: usize,
        /// The opened key's length.
        actual: usize,
    },
    /// The nonce is not 12 bytes.
    #[error("the bill's nonce is {0} bytes, GCM takes 12")]
    NonceLength(usize),
    /// The file ended before its 16-byte tag: cut short. Discard what was received.
    #[error("the encrypted bill ends before its 16-byte tag (cut short)")]
    Truncated,
    /// The tag does not match: the file was altered or cut short, or the key is not its key.
    /// Discard what was received.
    #[error("the encrypted bill's tag does not match (altered, cut short, or another key)")]
    Tag,
}

impl BillFile {
    /// A bill file from the three values a bill API returns.
    pub fn new(download_url: impl Into<String>, hash_type: impl Into<String>, hash_value: impl Into<String>) -> Self {
        BillFile {
            download_url: download_url.into(),
            hash_type: hash_type.into(),
            hash_value: hash_value.into(),
            encryption: None,
        }
    }

    /// The same file, encrypted as `encryption` says.
    pub fn encrypted(mut self, encryption: BillEncryption) -> Self {
        self.encryption = Some(encryption);
        self
    }
}

impl From<&BillFile> for BillFile {
    fn from(bill: &BillFile) -> Self {
        bill.clone()
    }
}

/// The trade and fund-flow bill APIs answer with one shared type.
#[cfg(feature = "bill")]
type BillResponse = wechatpay_generated::v3::bill::tradebill::get::Response;

#[cfg(feature = "bill")]
impl From<&BillResponse> for BillFile {
    fn from(response: &BillResponse) -> Self {
        BillFile::new(&response.download_url, &response.hash_type, &response.hash_value)
    }
}

#[cfg(feature = "bill")]
impl From<BillResponse> for BillFile {
    fn from(response: BillResponse) -> Self {
        BillFile::new(response.download_url, response.hash_type, response.hash_value)
    }
}

#[cfg(feature = "bill")]
impl From<&crate::Reply<BillResponse>> for BillFile {
    fn from(reply: &crate::Reply<BillResponse>) -> Self {
        BillFile::from(&**reply)
    }
}

#[cfg(feature = "bill")]
impl From<crate::Reply<BillResponse>> for BillFile {
    fn from(reply: crate::Reply<BillResponse>) -> Self {
        BillFile::from(reply.into_inner())
    }
}

#[cfg(feature = "bill")]
use wechatpay_generated::v3::bill::sub_merchant_fundflowbill::get as sub_merchant_fundflowbill;

#[cfg(feature = "bill")]
impl BillFile {
    /// The files of an encrypted sub-merchant fund-flow bill: the answer's `download_bill_list`,
    /// each encrypted with the algorithm the request named.
    ///
    /// ```no_run
    /// # async fn run(client: wechatpay::Client) -> Result<(), wechatpay::Error> {
    /// use wechatpay::v3::bill::sub_merchant_fundflowbill::get::{Algorithm, Request};
    /// use wechatpay::BillFile;
    /// let request = Request::builder().sub_mchid("1900000109").bill_date("2024-03-01")
    ///     .algorithm(Algorithm::AeadAes256Gcm).account_type("BASIC").build()?;
    /// let answer = client.send(request.clone()).await?;
    /// for file in BillFile::sub_merchant_fundflow(&request, &answer) {
    ///     let bill = client.download_bill(file).await?; // decrypted, checked
    /// #   let _ = bill;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn sub_merchant_fundflow(
        request: &sub_merchant_fundflowbill::Request,
        answer: &sub_merchant_fundflowbill::Response,
    ) -> Vec<BillFile> {
        let algorithm = request.algorithm.as_str();
        answer
            .download_bill_list
            .iter()
            .flatten()
            .map(|item| {
                BillFile::new(&item.download_url, &item.hash_type, &item.hash_value).encrypted(BillEncryption::new(
                    algorithm,
                    item.encrypt_key.clone(),
                    &item.nonce,
                ))
            })
            .collect()
    }
}

/// A digest being computed over a download.
pub(crate) struct Digest {
    hasher: Hasher,
    expected: String,
}

impl Digest {
    pub(crate) fn new(bill: &BillFile) -> Result<Self, Error> {
        let algorithm = DigestAlgorithm::from_name(&bill.hash_type)
            .ok_or_else(|| Error::UnsupportedDigest(bill.hash_type.clone()))?;
        Ok(Digest { hasher: Hasher::new(algorithm), expected: bill.hash_value.trim().to_ascii_lowercase() })
    }

    pub(crate) fn update(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
    }

    pub(crate) fn finish(self) -> Result<(), Error> {
        let actual = self.hasher.finish_hex();
        if actual == self.expected {
            Ok(())
        } else {
            Err(Error::Digest { expected: self.expected, actual })
        }
    }
}

impl From<GcmError> for BillDecryptError {
    fn from(error: GcmError) -> Self {
        match error {
            GcmError::Truncated => BillDecryptError::Truncated,
            GcmError::Tag => BillDecryptError::Tag,
            GcmError::NonceLength(length) => BillDecryptError::NonceLength(length),
            // Checked with the algorithm's name before a stream is made.
            GcmError::KeyLength(actual) => {
                BillDecryptError::KeyLength { algorithm: String::new(), expected: 0, actual }
            }
        }
    }
}

/// The decryption of an encrypted bill: `encryption` with the opened file `key`.
pub(crate) fn decryption(encryption: &BillEncryption, key: &[u8]) -> Result<GcmStream, BillDecryptError> {
    let cipher = encryption.cipher()?;
    if key.len() != cipher.key_len() {
        return Err(BillDecryptError::KeyLength {
            algorithm: encryption.algorithm.clone(),
            expected: cipher.key_len(),
            actual: key.len(),
        });
    }
    Ok(GcmStream::new(cipher, key, encryption.nonce.as_bytes(), b"")?)
}

/// The chunks of a bill file as they arrive (decompressed when it came gzip-compressed); the last
/// item is an [`Error::Digest`] when the file does not match its digest (discard what was
/// received then), or the error that cut the download short ([`Error::Timeout`] when no byte came
/// within the read timeout).
pub struct BillStream {
    response: Option<reqwest::Response>,
    bill: BillBytes,
    read_timeout: Duration,
    request_id: Option<String>,
}

impl BillStream {
    /// The next chunk, `None` at the end of a file whose digest matched.
    pub async fn next_chunk(&mut self) -> Option<Result<Bytes, Error>> {
        loop {
            match self.bill.next() {
                Ok(Some(piece)) => return Some(Ok(piece)),
                Ok(None) => {}
                Err(error) => {
                    self.response = None;
                    self.bill.abandon();
                    return Some(Err(error));
                }
            }
            let Some(response) = self.response.as_mut() else {
                return self.bill.check().err().map(Err);
            };
            match next_chunk(response, self.read_timeout).await {
                Ok(Some(chunk)) => self.bill.feed(chunk),
                Ok(None) => {
                    self.response = None;
                    if let Err(error) = self.bill.end() {
                        return Some(Err(error));
                    }
                }
                Err(failure) => {
                    self.response = None;
                    self.bill.abandon();
                    return Some(Err(failure.into_error(DOWNLOAD_PATH, StatusCode::OK, 0, self.request_id.clone())));
                }
            }
        }
    }

    /// As a [`Stream`].
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes, Error>> + Send {
        futures_util::stream::unfold(self, |mut stream| async move {
            let item = stream.next_chunk().await?;
            Some((item, stream))
        })
    }
}

/// gzip's first two bytes.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Compressed bytes decompressed per step: deflate expands at most about 1,032 to 1, so one step
/// yields at most about 4 MiB however the file was made.
const GZIP_STEP: usize = 4 * 1024;

/// The bytes of a download as they arrive, turned into the bill: decrypted when the file is
/// encrypted, then passed through, or decompressed when gzip; the digest is computed over the bill.
pub(crate) struct BillBytes {
    /// The decryption of an encrypted file (`None` once finished, or for a plain file).
    decryption: Option<GcmStream>,
    /// Received (and decrypted) and not yet handed on.
    pending: Bytes,
    form: Form,
    /// All bytes have arrived.
    ended: bool,
    /// `None` once checked (or abandoned).
    digest: Option<Digest>,
}

enum Form {
    /// Fewer than two bytes seen yet.
    Undecided,
    Plain,
    Gzip(Box<flate2::write::MultiGzDecoder<Vec<u8>>>),
    /// The gzip stream was finished.
    Done,
}

impl BillBytes {
    pub(crate) fn new(digest: Digest) -> Self {
        BillBytes { decryption: None, pending: Bytes::new(), form: Form::Undecided, ended: false, digest: Some(digest) }
    }

    /// The same for an encrypted file, decrypted by `decryption`.
    pub(crate) fn decrypting(digest: Digest, decryption: GcmStream) -> Self {
        BillBytes { decryption: Some(decryption), ..BillBytes::new(digest) }
    }

    /// Takes the next chunk received.
    pub(crate) fn feed(&mut self, chunk: Bytes) {
        let chunk = match &mut self.decryption {
            Some(decryption) => Bytes::from(decryption.update(&chunk)),
            None => chunk,
        };
        if self.pending.is_empty() {
            self.pending = chunk;
        } else {
            // Only while undecided: the first chunk was a single byte.
            let mut joined = Vec::with_capacity(self.pending.len() + chunk.len());
            joined.extend_from_slice(&self.pending);
            joined.extend_from_slice(&chunk);
            self.pending = joined.into();
        }
    }

    /// All bytes have arrived: an encrypted file's tag is checked now (before anything more of
    /// it is handed on, and before its digest).
    pub(crate) fn end(&mut self) -> Result<(), Error> {
        self.ended = true;
        match self.decryption.take() {
            Some(decryption) => decryption.finish().map_err(|error| {
                self.abandon();
                Error::BillDecrypt(error.into())
            }),
            None => Ok(()),
        }
    }

    /// After a failed download: no digest error follows the failure.
    pub(crate) fn abandon(&mut self) {
        self.decryption = None;
        self.digest = None;
        self.pending = Bytes::new();
        self.form = Form::Done;
    }

    /// The next piece of the bill from what was fed; `None` when more must arrive (or, once
    /// ended, when everything was handed on).
    pub(crate) fn next(&mut self) -> Result<Option<Bytes>, Error> {
        if matches!(self.form, Form::Undecided) {
            if self.pending.len() < GZIP_MAGIC.len() && !self.ended {
                return Ok(None);
            }
            self.form = if self.pending.starts_with(&GZIP_MAGIC) {
                Form::Gzip(Box::new(flate2::write::MultiGzDecoder::new(Vec::new())))
            } else {
                Form::Plain
            };
        }
        let piece = match &mut self.form {
            Form::Undecided | Form::Done => return Ok(None),
            Form::Plain => std::mem::take(&mut self.pending),
            Form::Gzip(decoder) => {
                let mut piece = Vec::new();
                while piece.is_empty() && !self.pending.is_empty() {
                    let step = self.pending.len().min(GZIP_STEP);
                    let used = std::io::Write::write(decoder, &self.pending[..step]).map_err(Error::Gzip)?;
                    if used == 0 {
                        return Err(Error::Gzip(std::io::ErrorKind::InvalidData.into()));
                    }
                    let _ = self.pending.split_to(used);
                    piece = std::mem::take(decoder.get_mut());
                }
                if piece.is_empty() && self.ended {
                    decoder.try_finish().map_err(Error::Gzip)?;
                    piece = std::mem::take(decoder.get_mut());
                    self.form = Form::Done;
                }
                Bytes::from(piece)
            }
        };
        if piece.is_empty() {
            return Ok(None);
        }
        if let Some(digest) = &mut self.digest {
            digest.update(&piece);
        }
        Ok(Some(piece))
    }

    /// At the end: whether the bill has its digest (once; `Ok` afterwards).
    pub(crate) fn check(&mut self) -> Result<(), Error> {
        self.digest.take().map_or(Ok(()), Digest::finish)
    }

    /// A whole downloaded `file` arriving in chunks of `size`, as [`BillStream`] reads it: the
    /// pieces handed on, then the outcome (the digest check, or the error that ended it).
    #[cfg(any(test, fuzzing))]
    pub(crate) fn read(mut self, file: &[u8], size: usize) -> (Vec<Bytes>, Result<(), Error>) {
        let mut pieces = Vec::new();
        let mut chunks = file.chunks(size.max(1));
        loop {
            match self.next() {
                Ok(Some(piece)) => pieces.push(piece),
                Ok(None) => match chunks.next() {
                    Some(chunk) => self.feed(Bytes::copy_from_slice(chunk)),
                    None if !self.ended => {
                        if let Err(error) = self.end() {
                            return (pieces, Err(error));
                        }
                    }
                    None => return (pieces, self.check()),
                },
                Err(error) => return (pieces, Err(error)),
            }
        }
    }
}

const DOWNLOAD_PATH: &str = "/v3/billdownload/file";

impl Client {
    /// Downloads a bill file whole and checks its digest.
    ///
    /// ```no_run
    /// # async fn run(client: wechatpay::Client) -> Result<(), wechatpay::Error> {
    /// use wechatpay::v3::bill::tradebill::get::Request;
    /// let bill = client.send(Request::builder().bill_date("2024-03-01").build()?).await?;
    /// let csv = client.download_bill(&bill).await?;
    /// # let _ = csv; Ok(()) }
    /// ```
    ///
    /// The file is held in memory, up to [`ClientBuilder::max_body_size`](crate::ClientBuilder::max_body_size)
    /// (16 MiB by default; beyond it [`Error::BodyTooLarge`]): write larger bills to a file with
    /// [`Client::download_bill_to`].
    pub async fn download_bill(&self, bill: impl Into<BillFile>) -> Result<Vec<u8>, Error> {
        let limit = self.inner().exchange.limits.max_body;
        let mut stream = self.download_bill_stream(bill).await?;
        let too_large = |stream: &BillStream| Error::BodyTooLarge {
            path: DOWNLOAD_PATH.to_owned(),
            status: StatusCode::OK,
            limit: limit as u64,
            request_id: stream.request_id.clone(),
        };
        let announced = stream.response.as_ref().and_then(reqwest::Response::content_length);
        if announced.is_some_and(|length| length > limit as u64) {
            return Err(too_large(&stream));
        }
        let mut file = Vec::with_capacity(announced.map_or(0, |length| length as usize));
        while let Some(chunk) = stream.next_chunk().await {
            let chunk = chunk?;
            if file.len() + chunk.len() > limit {
                return Err(too_large(&stream));
            }
            file.extend_from_slice(&chunk);
        }
        Ok(file)
    }

    /// Downloads a bill file into `writer` as it arrives (decrypted when encrypted, decompressed
    /// when it came gzip-compressed) and checks its tag and digest at the end; returns the number
    /// of bytes written. On any error ([`Error::Digest`], [`Error::BillDecrypt`], [`Error::Gzip`],
    /// a download cut short) the writer has received a file that must be discarded.
    pub async fn download_bill_to<W>(&self, bill: impl Into<BillFile>, writer: &mut W) -> Result<u64, Error>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        let mut stream = self.download_bill_stream(bill).await?;
        let mut written = 0u64;
        while let Some(chunk) = stream.next_chunk().await {
            let chunk = chunk?;
            write_all(writer, &chunk).await?;
            written += chunk.len() as u64;
        }
        poll_fn(|context| Pin::new(&mut *writer).poll_flush(context)).await?;
        Ok(written)
    }

    /// Starts downloading a bill file: the address is checked against the allowed origins, the
    /// answer's head is checked, the chunks are read from the returned [`BillStream`].
    pub async fn download_bill_stream(&self, bill: impl Into<BillFile>) -> Result<BillStream, Error> {
        let bill = bill.into();
        let digest = Digest::new(&bill)?;
        if let Some(encryption) = &bill.encryption {
            encryption.cipher()?;
        }
        let url = Url::parse(&bill.download_url)
            .map_err(|error| Error::InvalidRequest(format!("download_url {:?}: {error}", bill.download_url)))?;
        let origin = url.origin().ascii_serialization();
        if !matches!(url.scheme(), "http" | "https") || !self.inner().bill_download_origins.contains(&origin) {
            return Err(Error::DownloadOrigin { origin });
        }
        // The file key is opened before anything is sent: a key that does not open (or a bill
        // whose algorithm is unknown) costs no download.
        let bytes = match &bill.encryption {
            Some(encryption) => {
                let key = self.decrypter().decrypt(encryption.encrypt_key.ciphertext()).await?;
                BillBytes::decrypting(digest, decryption(encryption, &key)?)
            }
            None => BillBytes::new(digest),
        };
        let prepared = Prepared::get(DOWNLOAD_PATH, ResponseKind::Stream, Target::Absolute(url));
        let span = request_span("GET", DOWNLOAD_PATH);
        let started = Instant::now();
        let result = async {
            match self.inner().exchange.execute(&prepared, Read::Stream).await? {
                Fetched::Stream { response, request_id } => Ok((response, request_id)),
                Fetched::Raw(raw) => Err(self.error_response(raw).await),
            }
        }
        .instrument(span.clone())
        .await;
        span.record("duration_ms", started.elapsed().as_millis() as u64);
        let (response, request_id) = result?;
        Ok(BillStream {
            response: Some(response),
            bill: bytes,
            read_timeout: self.inner().exchange.limits.read_timeout,
            request_id,
        })
    }
}

async fn write_all<W: AsyncWrite + Unpin + ?Sized>(writer: &mut W, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        let written = poll_fn(|context| Pin::new(&mut *writer).poll_write(context, bytes)).await?;
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        bytes = &bytes[written..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn sha1_hex(bytes: &[u8]) -> String {
        DigestAlgorithm::Sha1.hex(bytes)
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn run(file: &[u8], size: usize, bill: &[u8]) -> (Vec<Bytes>, Result<(), Error>) {
        let digest = Digest::new(&BillFile::new("", "SHA1", sha1_hex(bill))).unwrap();
        BillBytes::new(digest).read(file, size)
    }

    #[test]
    fn plain_and_gzip_files_yield_the_bill_in_chunks_of_any_size() {
        let bill: Vec<u8> = (0..20_000).flat_map(|i| format!("`2024-03-01,`{i},`1.00\r\n").into_bytes()).collect();
        let compressed = gzip(&bill);
        for size in [1, 2, 3, 1000, 4096, 65_536, usize::MAX] {
            for file in [&bill, &compressed] {
                let (pieces, check) = run(file, size, &bill);
                assert!(check.is_ok(), "{size}: {check:?}");
                assert!(pieces.concat() == bill, "chunks of {size}");
            }
        }
        for tiny in [&b""[..], b"a", b"\x1f"] {
            let (pieces, check) = run(tiny, 1, tiny);
            assert!(check.is_ok() && pieces.concat() == tiny, "{tiny:?} is a (plain) file of its own");
        }
    }

    #[test]
    fn a_gzip_file_is_checked_against_the_bill_inside_it() {
        let bill = b"`2024-03-01,`1,`1.00\r\n".repeat(100);
        let (_, check) = run(&gzip(&bill), 100, b"another bill");
        assert!(matches!(check, Err(Error::Digest { .. })), "{check:?}");
        let compressed = gzip(&bill);
        let (_, check) = run(&compressed[..compressed.len() - 3], 100, &bill);
        assert!(matches!(check, Err(Error::Gzip(_))), "cut short: {check:?}");
        let mut corrupt = compressed.clone();
        let at = corrupt.len() - 6;
        corrupt[at] ^= 0x55;
        let (_, check) = run(&corrupt, 100, &bill);
        assert!(matches!(check, Err(Error::Gzip(_))), "checksum: {check:?}");
    }

    #[test]
    fn a_highly_compressed_chunk_is_handed_on_in_bounded_pieces() {
        let bill = vec![b'0'; 16 << 20];
        let compressed = gzip(&bill);
        assert!(compressed.len() < 64 << 10, "{}", compressed.len());
        let (pieces, check) = run(&compressed, usize::MAX, &bill);
        assert!(check.is_ok());
        assert_eq!(pieces.iter().map(Bytes::len).sum::<usize>(), bill.len());
        let largest = pieces.iter().map(Bytes::len).max().unwrap();
        assert!(largest <= GZIP_STEP * 1100, "{largest} bytes from one step");
        assert!(pieces.len() >= 4, "{} pieces", pieces.len());
    }

    fn encrypted(
        cipher: Cipher,
        algorithm: &str,
        key: &[u8],
        file: &[u8],
        size: usize,
        bill: &[u8],
        hash_type: &str,
    ) -> (Vec<Bytes>, Result<(), Error>) {
        let nonce = "43HmZ1bEQ7nT";
        let sealed = crate::gcm_stream::seal(cipher, key, nonce.as_bytes(), b"", file).unwrap();
        let digest =
            Digest::new(&BillFile::new("", hash_type, DigestAlgorithm::from_name(hash_type).unwrap().hex(bill)))
                .unwrap();
        let encryption = BillEncryption::new(algorithm, Encrypted::new(""), nonce);
        BillBytes::decrypting(digest, decryption(&encryption, key).unwrap()).read(&sealed, size)
    }

    #[test]
    fn encrypted_files_are_decrypted_then_decompressed_then_checked_against_the_bill() {
        let bill: Vec<u8> = (0..5_000).flat_map(|i| format!("`2024-03-01,`{i},`1.00\r\n").into_bytes()).collect();
        let compressed = gzip(&bill);
        for (cipher, algorithm, key) in
            [(Cipher::Aes256, "AEAD_AES_256_GCM", &[3u8; 32][..]), (Cipher::Sm4, "SM4_GCM", &[5u8; 16][..])]
        {
            for file in [&bill, &compressed] {
                for size in [1, 15, 16, 17, 4096, usize::MAX] {
                    for hash_type in ["SHA1", "SM3"] {
                        let (pieces, check) = encrypted(cipher, algorithm, key, file, size, &bill, hash_type);
                        assert!(check.is_ok(), "{algorithm} {size} {hash_type}: {check:?}");
                        assert!(pieces.concat() == bill, "{algorithm}, chunks of {size}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_tampered_or_truncated_encrypted_file_is_a_typed_error_before_its_digest() {
        let bill = b"`2024-03-01,`1,`1.00\r\n".repeat(50);
        let key = [9u8; 32];
        let nonce = "43HmZ1bEQ7nT";
        let sealed = crate::gcm_stream::seal(Cipher::Aes256, &key, nonce.as_bytes(), b"", &bill).unwrap();
        let encryption = BillEncryption::new("AEAD_AES_256_GCM", Encrypted::new(""), nonce);
        let run = |file: &[u8]| {
            let digest = Digest::new(&BillFile::new("", "SHA1", sha1_hex(&bill))).unwrap();
            BillBytes::decrypting(digest, decryption(&encryption, &key).unwrap()).read(file, 100).1
        };
        assert!(run(&sealed).is_ok());
        let mut tampered = sealed.clone();
        tampered[7] ^= 0x20;
        assert!(matches!(run(&tampered), Err(Error::BillDecrypt(BillDecryptError::Tag))), "a flipped bit");
        assert!(
            matches!(run(&sealed[..sealed.len() - 1]), Err(Error::BillDecrypt(BillDecryptError::Tag))),
            "one byte short"
        );
        assert!(
            matches!(run(&sealed[..9]), Err(Error::BillDecrypt(BillDecryptError::Truncated))),
            "shorter than a tag"
        );
        assert!(matches!(
            decryption(&encryption, &key[..16]),
            Err(BillDecryptError::KeyLength { expected: 32, actual: 16, .. })
        ));
        let unknown = BillEncryption::new("AEAD_CHACHA20", Encrypted::new(""), nonce);
        assert!(
            matches!(decryption(&unknown, &key), Err(BillDecryptError::UnsupportedAlgorithm(name)) if name == "AEAD_CHACHA20")
        );
    }

    #[test]
    fn an_unknown_digest_algorithm_is_refused_by_name() {
        let error = Digest::new(&BillFile::new("", "MD5", "00")).err().unwrap();
        assert!(matches!(&error, Error::UnsupportedDigest(name) if name == "MD5"));
        assert!(error.to_string().contains("\"MD5\""), "{error}");
    }
}
