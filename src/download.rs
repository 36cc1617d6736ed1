//! Bill files: the bill APIs (`/v3/bill/tradebill`, `/v3/bill/fundflowbill`, …) answer with a
//! short-lived `download_url` and the file's digest (`hash_type`, `hash_value`). The download is
//! signed like any request (its path and query), its answer is a byte stream WeChat Pay does not
//! sign, so the digest is what proves the file intact: it is computed while the bytes stream in
//! and a mismatch is an [`Error::Digest`].
//!
//! A download goes only to an allowed origin ([`ClientBuilder::bill_download_origins`], by default
//! WeChat Pay's own https hosts) and never follows a redirect: the request carries the merchant's
//! signature. The body streams with a read-idle timeout ([`ClientBuilder::read_timeout`]) and no
//! overall one, so a large bill downloads as long as data flows; [`Client::download_bill_to`] and
//! [`Client::download_bill_stream`] hold one chunk at a time, [`Client::download_bill`] holds the
//! file, up to [`ClientBuilder::max_body_size`].
//!
//! [`ClientBuilder::bill_download_origins`]: crate::ClientBuilder::bill_download_origins
//! [`ClientBuilder::read_timeout`]: crate::ClientBuilder::read_timeout
//! [`ClientBuilder::max_body_size`]: crate::ClientBuilder::max_body_size

use std::future::poll_fn;
use std::pin::Pin;
use std::time::{Duration, Instant};

use aws_lc_rs::digest;
use bytes::Bytes;
use futures_util::Stream;
use http::StatusCode;
use reqwest::Url;
use tokio::io::AsyncWrite;
use tracing::Instrument as _;
use wechatpay_generated::runtime::ResponseKind;

use crate::error::Error;
use crate::exchange::{next_chunk, request_span, Fetched, Prepared, Read, Target};
use crate::Client;

/// Where a bill file is and what its digest must be: the answer of a bill API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillFile {
    /// The absolute download address.
    pub download_url: String,
    /// The digest algorithm, `SHA1` (`SHA256` is accepted too).
    pub hash_type: String,
    /// The expected digest, hex.
    pub hash_value: String,
}

impl BillFile {
    /// A bill file from the three values a bill API returns.
    pub fn new(
        download_url: impl Into<String>,
        hash_type: impl Into<String>,
        hash_value: impl Into<String>,
    ) -> Self {
        BillFile {
            download_url: download_url.into(),
            hash_type: hash_type.into(),
            hash_value: hash_value.into(),
        }
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

/// A digest being computed over a download.
pub(crate) struct Digest {
    context: digest::Context,
    expected: String,
}

impl Digest {
    pub(crate) fn new(bill: &BillFile) -> Result<Self, Error> {
        let algorithm = match bill.hash_type.to_ascii_uppercase().as_str() {
            "SHA1" | "SHA-1" => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            "SHA256" | "SHA-256" => &digest::SHA256,
            _ => return Err(Error::UnsupportedDigest(bill.hash_type.clone())),
        };
        Ok(Digest {
            context: digest::Context::new(algorithm),
            expected: bill.hash_value.trim().to_ascii_lowercase(),
        })
    }

    pub(crate) fn update(&mut self, chunk: &[u8]) {
        self.context.update(chunk);
    }

    pub(crate) fn finish(self) -> Result<(), Error> {
        let actual: String =
            self.context.finish().as_ref().iter().map(|byte| format!("{byte:02x}")).collect();
        if actual == self.expected {
            Ok(())
        } else {
            Err(Error::Digest { expected: self.expected, actual })
        }
    }
}

/// The chunks of a bill file as they arrive; the last item is an [`Error::Digest`] when the
/// file does not match its digest (discard what was received then), or the error that cut the
/// download short ([`Error::Timeout`] when no byte came within the read timeout).
pub struct BillStream {
    response: Option<reqwest::Response>,
    digest: Option<Digest>,
    read_timeout: Duration,
    request_id: Option<String>,
}

impl BillStream {
    /// The next chunk, `None` at the end of a file whose digest matched.
    pub async fn next_chunk(&mut self) -> Option<Result<Bytes, Error>> {
        let response = self.response.as_mut()?;
        match next_chunk(response, self.read_timeout).await {
            Ok(Some(chunk)) => {
                if let Some(digest) = &mut self.digest {
                    digest.update(&chunk);
                }
                Some(Ok(chunk))
            }
            Ok(None) => {
                self.response = None;
                self.digest.take().and_then(|digest| digest.finish().err()).map(Err)
            }
            Err(failure) => {
                self.response = None;
                Some(Err(failure.into_error(DOWNLOAD_PATH, StatusCode::OK, 0, self.request_id.clone())))
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

    /// Downloads a bill file into `writer` as it arrives and checks its digest at the end;
    /// returns the number of bytes written. On [`Error::Digest`] the writer has received a file
    /// that must be discarded.
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
        let url = Url::parse(&bill.download_url).map_err(|error| {
            Error::InvalidRequest(format!("download_url {:?}: {error}", bill.download_url))
        })?;
        let origin = url.origin().ascii_serialization();
        if !matches!(url.scheme(), "http" | "https") || !self.inner().bill_download_origins.contains(&origin) {
            return Err(Error::DownloadOrigin { origin });
        }
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
            digest: Some(digest),
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
