//! The operation descriptor: everything the transport needs to send an operation without
//! knowing which one it is.

use std::fmt;
use std::future::Future;


use crate::decode::{Decode, DecodeError, Decoded};

/// The HTTP method of an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    /// The method as it appears on the wire and in the signed message.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// What an operation answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResponseKind {
    /// A signed JSON document.
    Json,
    /// A signed empty body (`204 No Content`).
    Empty,
    /// An unsigned byte stream (bill files, images, PDFs).
    Stream,
}

/// The body of a request, ready to be signed and sent.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// No body (the signed body is the empty string).
    Empty,
    /// A JSON document; these exact bytes are signed and sent.
    Json(Vec<u8>),
    /// A `multipart/form-data` upload; the signed body is `meta`.
    Multipart(Multipart),
}

/// A multipart upload: a `meta` JSON part and a file part.
#[derive(Clone, Debug, PartialEq)]
pub struct Multipart {
    /// The JSON text of the `meta` part, exactly as signed and sent.
    pub meta: String,
    /// The name of the file part: `file` on most pages (`submission_file`, … on some).
    pub file_part: &'static str,
    /// The file part.
    pub file: File,
}

/// A file to upload.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct File {
    /// The file name sent in the part's `Content-Disposition`.
    pub filename: String,
    /// The part's content type, e.g. `image/jpeg`.
    pub content_type: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

impl File {
    /// A file part with a content type guessed from the file name's extension.
    pub fn new(filename: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        let filename = filename.into();
        let extension = filename.rsplit('.').next().unwrap_or_default().to_ascii_lowercase();
        let content_type = match extension.as_str() {
            "jpg" | "jpeg" => "image/jpeg",
            "png" => "image/png",
            "bmp" => "image/bmp",
            "gif" => "image/gif",
            "pdf" => "application/pdf",
            "mp4" => "video/mp4",
            _ => "application/octet-stream",
        };
        File { filename, content_type: content_type.to_owned(), bytes: bytes.into() }
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// What the client knows and fills into a request the caller left it unset in.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Merchant<'a> {
    /// The merchant id the client signs as (`mchid`, or `sp_mchid` for a service provider).
    pub mchid: &'a str,
}

impl<'a> Merchant<'a> {
    pub fn new(mchid: &'a str) -> Self {
        Merchant { mchid }
    }
}

/// An operation described by one documentation table: everything the transport needs to send it
/// without knowing which operation it is.
pub trait Operation {
    /// The typed response.
    type Response: Decode;
    /// The HTTP method.
    const METHOD: Method;
    /// The URL path template, e.g. `/v3/pay/transactions/id/{transaction_id}`.
    const PATH: &'static str;
    /// What the response carries.
    const RESPONSE: ResponseKind;
    /// JSON paths (in the JSON body) of fields sent encrypted with the WeChat Pay public key
    /// (`data-encrypted=by-rsa-pubkey`), e.g. `receivers[].name`. The request holds them in
    /// plain text; the transport encrypts them and sets `Wechatpay-Serial`.
    const ENCRYPTED: &'static [&'static str];
    /// The host the documentation names for this operation, when it is not the default one.
    const DEFAULT_BASE_URI: Option<&'static str>;

    /// The path with its parameters filled in, each percent-encoded with its case kept.
    fn path(&self) -> String;
    /// Query pairs, unencoded, in documentation order; unset optional parameters are absent.
    fn query(&self) -> Vec<(&'static str, String)>;
    /// Request headers the operation itself declares (e.g. `Wechatpay-Serial`).
    fn headers(&self) -> Vec<(&'static str, String)>;
    /// The request body.
    fn body(&self) -> Result<Body, serde_json::Error>;
    /// The base URI to send to: the request's own override, else [`Operation::DEFAULT_BASE_URI`].
    fn base_uri(&self) -> Option<&str> {
        Self::DEFAULT_BASE_URI
    }
    /// Fills what the client knows (the merchant id of a required top-level `mchid` or
    /// `sp_mchid`) where the caller left it unset.
    fn fill(&mut self, _merchant: &Merchant<'_>) {}
}

/// Something that sends operations: implemented by the transport crate, used by the generated
/// chain (`client.v3().pay().transactions().jsapi().post(request)`). What a call returns is the
/// transport's choice (the `wechatpay` client answers with the typed response and its
/// Request-ID).
pub trait Transport {
    /// The future of one exchange.
    type Future<'a, O>: Future + 'a
    where
        Self: 'a,
        O: Operation + 'a;

    /// Signs, sends, verifies and decodes one operation.
    fn send_operation<'a, O>(&'a self, operation: O) -> Self::Future<'a, O>
    where
        O: Operation + Send + Sync + 'a;
}

/// The response of a download: the bytes, unsigned, as received.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ByteStream(pub Vec<u8>);

impl fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ByteStream({} bytes)", self.0.len())
    }
}

/// An [`Operation`] behind a trait object: what the registry builds from JSON, and what a
/// transport can send without knowing the type (logging, mocks, dynamic dispatch).
pub trait ErasedOperation: Send + Sync {
    fn method(&self) -> Method;
    /// The URL path template.
    fn template(&self) -> &'static str;
    fn response_kind(&self) -> ResponseKind;
    fn encrypted(&self) -> &'static [&'static str];
    fn path(&self) -> String;
    fn query(&self) -> Vec<(&'static str, String)>;
    fn headers(&self) -> Vec<(&'static str, String)>;
    fn body(&self) -> Result<Body, serde_json::Error>;
    fn base_uri(&self) -> Option<&str>;
    fn fill(&mut self, merchant: &Merchant<'_>);
    /// Decodes a verified answer into the typed response, then back into JSON.
    fn decode_response(&self, body: &[u8]) -> Result<Decoded<serde_json::Value>, DecodeError>;
}

impl<O: Operation + Send + Sync> ErasedOperation for O {
    fn method(&self) -> Method {
        O::METHOD
    }
    fn template(&self) -> &'static str {
        O::PATH
    }
    fn response_kind(&self) -> ResponseKind {
        O::RESPONSE
    }
    fn encrypted(&self) -> &'static [&'static str] {
        O::ENCRYPTED
    }
    fn path(&self) -> String {
        Operation::path(self)
    }
    fn query(&self) -> Vec<(&'static str, String)> {
        Operation::query(self)
    }
    fn headers(&self) -> Vec<(&'static str, String)> {
        Operation::headers(self)
    }
    fn body(&self) -> Result<Body, serde_json::Error> {
        Operation::body(self)
    }
    fn base_uri(&self) -> Option<&str> {
        Operation::base_uri(self)
    }
    fn fill(&mut self, merchant: &Merchant<'_>) {
        Operation::fill(self, merchant)
    }
    fn decode_response(&self, body: &[u8]) -> Result<Decoded<serde_json::Value>, DecodeError> {
        O::Response::decode_value(body)
    }
}
