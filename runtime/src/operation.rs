//! The operation descriptor: everything the transport needs to send an operation without
//! knowing which one it is.

use std::future::Future;

use crate::decode::{Decode, Decoded};
use crate::report::DecodeError;
use crate::values::File;
use crate::writing::Writing;

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

/// Which protocol an operation speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// APIv2: an XML body (or a query, or a form) signed with the APIv2 key.
    V2,
    /// APIv3: JSON, RSA signatures.
    V3,
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
    /// APIv2: the members of an XML body, in order (the transport adds `nonce_str` and `sign`).
    Xml(Vec<(String, String)>),
    /// APIv2: a `multipart/form-data` form of text fields (signed) and one file (not signed).
    Form(Form),
}

/// An APIv2 form upload: text fields and a file part.
#[derive(Clone, Debug, PartialEq)]
pub struct Form {
    /// The text fields, in order (the transport adds `sign`).
    pub fields: Vec<(String, String)>,
    /// The name of the file part, e.g. `media`.
    pub file_part: &'static str,
    pub file: File,
}

impl Body {
    /// The bytes the request signature covers: the JSON document, the `meta` text of an upload,
    /// or nothing.
    pub fn signed(&self) -> &[u8] {
        match self {
            Body::Empty => b"",
            Body::Json(bytes) => bytes,
            Body::Multipart(multipart) => multipart.meta.as_bytes(),
            // APIv2 signs members, not bytes (see the transport).
            Body::Xml(_) | Body::Form(_) => b"",
        }
    }
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
    /// Fields sent encrypted with the WeChat Pay public key (`data-encrypted=by-rsa-pubkey`), as
    /// JSON paths in the body (`receivers[].name`, members of an upload's `meta` alike) and
    /// `query.…` / `headers.…` for parameters. The request holds them as
    /// [`Sensitive`](crate::Sensitive) plain text; they are sealed as the request is written
    /// (see [`Writing`]) and the transport names the key in `Wechatpay-Serial`.
    const ENCRYPTED: &'static [&'static str];
    /// The host the documentation names for this operation, when it is not the default one.
    const DEFAULT_BASE_URI: Option<&'static str>;

    /// The path with its parameters filled in, each percent-encoded with its case kept.
    fn path(&self, out: &mut Writing<'_>) -> String;
    /// Query pairs, unencoded, in documentation order; unset optional parameters are absent.
    fn query(&self, out: &mut Writing<'_>) -> Vec<(&'static str, String)>;
    /// Request headers the operation itself declares (e.g. `Wechatpay-Serial`).
    fn headers(&self, out: &mut Writing<'_>) -> Vec<(&'static str, String)>;
    /// The request body.
    fn body(&self, out: &mut Writing<'_>) -> Result<Body, serde_json::Error>;
    /// The base URI to send to: the request's own override, else [`Operation::DEFAULT_BASE_URI`].
    fn base_uri(&self) -> Option<&str> {
        Self::DEFAULT_BASE_URI
    }
    /// Fills what the client knows (the merchant id of a required top-level `mchid` or
    /// `sp_mchid`) where the caller left it unset.
    fn fill(&mut self, _merchant: &Merchant<'_>) {}

    /// The protocol: APIv3 unless the operation is APIv2's.
    const PROTOCOL: Protocol = Protocol::V3;
    /// APIv2: the call is made with the merchant's API client certificate (mutual TLS).
    const CLIENT_CERTIFICATE: bool = false;
    /// APIv2: the transport adds no `nonce_str` to the XML body.
    const NONCELESS: bool = false;
    /// APIv2: the page describes a URL the user's browser opens (answered by a redirect), not a
    /// call: the transport signs it into a URL instead of sending it.
    const REDIRECT: bool = false;
    /// The fragment such a URL ends with, e.g. `#wechat_redirect`.
    const FRAGMENT: Option<&'static str> = None;
    /// APIv2: the page documents the answer's `sign`: a successful answer without one (or with a
    /// wrong one) is refused. Answers of other pages are unsigned by design (a `sign` they do
    /// carry is still checked).
    const SIGNED_ANSWER: bool = false;
    /// APIv2: the transport signs the request (every APIv2 call; a signed URL whose page has a
    /// `sign` member). `false` for a URL that carries no signature.
    const SIGNED_REQUEST: bool = true;
    /// APIv2: the request's `sign_type` member, which chooses the signature algorithm (`MD5` when
    /// unset).
    fn sign_type(&self) -> Option<&str> {
        None
    }
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

/// An [`Operation`] behind a trait object: what the registry builds from JSON, and what a
/// transport can send without knowing the type (logging, mocks, dynamic dispatch).
pub trait ErasedOperation: Send + Sync {
    fn method(&self) -> Method;
    /// The URL path template.
    fn template(&self) -> &'static str;
    fn response_kind(&self) -> ResponseKind;
    fn encrypted(&self) -> &'static [&'static str];
    fn path(&self, out: &mut Writing<'_>) -> String;
    fn query(&self, out: &mut Writing<'_>) -> Vec<(&'static str, String)>;
    fn headers(&self, out: &mut Writing<'_>) -> Vec<(&'static str, String)>;
    fn body(&self, out: &mut Writing<'_>) -> Result<Body, serde_json::Error>;
    fn base_uri(&self) -> Option<&str>;
    fn fill(&mut self, merchant: &Merchant<'_>);
    /// Decodes a verified answer into the typed response, then back into JSON.
    fn decode_response(&self, body: &[u8]) -> Result<Decoded<serde_json::Value>, DecodeError>;
    fn protocol(&self) -> Protocol;
    fn client_certificate(&self) -> bool;
    fn nonceless(&self) -> bool;
    fn redirect(&self) -> bool;
    fn fragment(&self) -> Option<&'static str>;
    fn signed_answer(&self) -> bool;
    fn signed_request(&self) -> bool;
    fn sign_type(&self) -> Option<&str>;
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
    fn path(&self, out: &mut Writing<'_>) -> String {
        Operation::path(self, out)
    }
    fn query(&self, out: &mut Writing<'_>) -> Vec<(&'static str, String)> {
        Operation::query(self, out)
    }
    fn headers(&self, out: &mut Writing<'_>) -> Vec<(&'static str, String)> {
        Operation::headers(self, out)
    }
    fn body(&self, out: &mut Writing<'_>) -> Result<Body, serde_json::Error> {
        Operation::body(self, out)
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
    fn protocol(&self) -> Protocol {
        O::PROTOCOL
    }
    fn client_certificate(&self) -> bool {
        O::CLIENT_CERTIFICATE
    }
    fn nonceless(&self) -> bool {
        O::NONCELESS
    }
    fn redirect(&self) -> bool {
        O::REDIRECT
    }
    fn fragment(&self) -> Option<&'static str> {
        O::FRAGMENT
    }
    fn signed_answer(&self) -> bool {
        O::SIGNED_ANSWER
    }
    fn signed_request(&self) -> bool {
        O::SIGNED_REQUEST
    }
    fn sign_type(&self) -> Option<&str> {
        Operation::sign_type(self)
    }
}
