//! HTTPS beside HTTP, and mutual TLS for the APIv2 calls whose page says `security` (refunds, red
//! packets, transfers, …): WeChat Pay accepts those only over a connection on which the merchant
//! presented its API client certificate (`apiclient_cert.pem`).
//!
//! The sandbox has a certificate authority of its own (`tls/ca.pem`), which issues the server's
//! certificate (for `127.0.0.1`, `::1` and `localhost`) and the merchant's API client certificate
//! (subject CN the merchant id, serial the merchant serial, as WeChat Pay's are). Clients trust the
//! CA; the sandbox verifies a client certificate against it. A certificate is optional at the
//! handshake, so APIv3 and the other APIv2 calls need none; a `security` call is refused
//! ([`refusal`]) without one, with one of another merchant, or over plain HTTP.
//!
//! Certificates are made with RustCrypto's X.509 builder (as the platform certificates are); the
//! TLS itself is rustls on aws-lc-rs, the provider the sandbox's reqwest already brings.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::{RsaPrivateKey, RsaPublicKey};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use sha2::Sha256;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use x509_cert::builder::{Builder as _, CertificateBuilder, Profile};
use x509_cert::der::asn1::{Ia5String, OctetString};
use x509_cert::der::{Decode as _, DecodePem as _, EncodePem as _};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectAltName};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{ObjectIdentifier, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::Certificate;

use crate::conn::{Conn, KillableIo};
use crate::keys::{Keys, KeysError};

/// The merchant's API client certificate, beside its key in the keys folder.
pub const CLIENT_CERTIFICATE_FILE: &str = "apiclient_cert.pem";
/// The sandbox CA's certificate, which clients trust (`tls/ca.pem` in the keys folder).
pub const CA_FILE: &str = "tls/ca.pem";
const CA_KEY_FILE: &str = "tls/ca_key.pem";
const SERVER_CERT_FILE: &str = "tls/server_cert.pem";
const SERVER_KEY_FILE: &str = "tls/server_key.pem";

const SERVER_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");
const CLIENT_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");
const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");

/// A handshake that has not finished by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The TLS half of [`Keys`]: the sandbox CA, the server's certificate and the merchant's API
/// client certificate. (No `Debug`: it holds private keys.)
pub(crate) struct TlsKeys {
    ca_key: RsaPrivateKey,
    ca_key_pem: String,
    ca_pem: String,
    server_key_pem: String,
    server_pem: String,
    client_pem: String,
}

impl TlsKeys {
    /// A fresh CA and server key (RSA-2048), and the merchant's client certificate issued for
    /// `merchant` (the merchant's public key) under `mchid` with serial `merchant_serial`.
    pub(crate) fn generate(mchid: &str, merchant_serial: &str, merchant: &RsaPublicKey) -> Result<TlsKeys, KeysError> {
        let rsa = || {
            RsaPrivateKey::new(&mut rand::thread_rng(), 2048)
                .map_err(|error| KeysError(format!("cannot generate an RSA key: {error}")))
        };
        // The two keys side by side.
        let (ca_key, server_key) = std::thread::scope(|scope| {
            let ca = scope.spawn(rsa);
            let server = rsa();
            let ca = ca.join().unwrap_or_else(|_| Err(KeysError("key generation panicked".into())));
            (ca, server)
        });
        let (ca_key, server_key) = (ca_key?, server_key?);
        let ca_pem = issue(&ca_key, &RsaPublicKey::from(&ca_key), Role::Ca, &ca_name()?, None)?;
        let server_pem = issue(&ca_key, &RsaPublicKey::from(&server_key), Role::Server, &server_name()?, None)?;
        let client_pem = issue(&ca_key, merchant, Role::Client, &client_name(mchid)?, crypto_serial(merchant_serial))?;
        Ok(TlsKeys {
            ca_key_pem: private_pem(&ca_key)?,
            ca_key,
            ca_pem,
            server_key_pem: private_pem(&server_key)?,
            server_pem,
            client_pem,
        })
    }

    /// Whether `dir` holds the TLS files (a folder written before the sandbox spoke TLS does not).
    pub(crate) fn present(dir: &Path) -> bool {
        [CLIENT_CERTIFICATE_FILE, CA_FILE, CA_KEY_FILE, SERVER_CERT_FILE, SERVER_KEY_FILE]
            .iter()
            .all(|name| dir.join(name).exists())
    }

    /// The TLS files of `dir`; `None` when they are not all there.
    pub(crate) fn load(dir: &Path) -> Result<Option<TlsKeys>, KeysError> {
        if !TlsKeys::present(dir) {
            return Ok(None);
        }
        let path = |name: &str| dir.join(name).display().to_string();
        let read =
            |name: &str| std::fs::read_to_string(dir.join(name)).map_err(|e| KeysError(format!("{}: {e}", path(name))));
        let certificate = |name: &str| -> Result<String, KeysError> {
            let pem = read(name)?;
            Certificate::from_pem(pem.as_bytes())
                .map_err(|e| KeysError(format!("{}: not a certificate: {e}", path(name))))?;
            Ok(pem)
        };
        let key = |name: &str| -> Result<(RsaPrivateKey, String), KeysError> {
            let pem = read(name)?;
            let key = RsaPrivateKey::from_pkcs8_pem(&pem).map_err(|e| KeysError(format!("{}: {e}", path(name))))?;
            Ok((key, pem))
        };
        let (ca_key, ca_key_pem) = key(CA_KEY_FILE)?;
        let (_, server_key_pem) = key(SERVER_KEY_FILE)?;
        Ok(Some(TlsKeys {
            ca_key,
            ca_key_pem,
            ca_pem: certificate(CA_FILE)?,
            server_key_pem,
            server_pem: certificate(SERVER_CERT_FILE)?,
            client_pem: certificate(CLIENT_CERTIFICATE_FILE)?,
        }))
    }

    /// Writes the TLS files into `dir` (`tls/` created), readable by their owner only.
    pub(crate) fn write(&self, dir: &Path) -> Result<(), KeysError> {
        let fail = |error: io::Error| KeysError(format!("{}: {error}", dir.display()));
        std::fs::create_dir_all(dir.join("tls")).map_err(fail)?;
        let files = [
            (CLIENT_CERTIFICATE_FILE, &self.client_pem),
            (CA_FILE, &self.ca_pem),
            (CA_KEY_FILE, &self.ca_key_pem),
            (SERVER_CERT_FILE, &self.server_pem),
            (SERVER_KEY_FILE, &self.server_key_pem),
        ];
        for (name, contents) in files {
            crate::keys::write_private(&dir.join(name), contents.as_bytes()).map_err(fail)?;
        }
        Ok(())
    }

    /// What the HTTPS listener accepts with: the server's certificate (then the CA's), client
    /// certificates verified against the CA but optional, HTTP/1.1.
    pub(crate) fn acceptor(&self) -> Result<TlsAcceptor, KeysError> {
        let fail = |error: &dyn std::fmt::Display| KeysError(format!("cannot set up TLS: {error}"));
        let der = |pem: &str| CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|error| fail(&error));
        let ca = der(&self.ca_pem)?;
        let mut roots = RootCertStore::empty();
        roots.add(ca.clone()).map_err(|error| fail(&error))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .allow_unauthenticated()
            .build()
            .map_err(|error| fail(&error))?;
        let key = PrivateKeyDer::from_pem_slice(self.server_key_pem.as_bytes()).map_err(|error| fail(&error))?;
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| fail(&error))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![der(&self.server_pem)?, ca], key)
            .map_err(|error| fail(&error))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

/// The sandbox's TLS: the CA clients trust and the merchant's API client certificate.
impl Keys {
    /// The sandbox CA's certificate (PEM): what a client trusts to reach
    /// [`Sandbox::tls_base_url`](crate::Sandbox::tls_base_url) (`tls/ca.pem` in the keys folder).
    pub fn ca_certificate_pem(&self) -> &str {
        &self.tls.ca_pem
    }

    /// The merchant's API client certificate (PEM, `apiclient_cert.pem`), for the merchant's key
    /// ([`Keys::merchant_key_pem`]): the identity of the APIv2 calls that need mutual TLS. Issued
    /// by the sandbox CA; its subject CN is the merchant id and its serial the merchant serial.
    pub fn client_certificate_pem(&self) -> &str {
        &self.tls.client_pem
    }

    /// A client certificate of the sandbox CA for the merchant's key but merchant `mchid`: what
    /// another merchant's certificate looks like to the sandbox (tests of a wrong certificate).
    pub fn issue_client_certificate(&self, mchid: &str) -> Result<String, KeysError> {
        let merchant = RsaPublicKey::from_public_key_pem(self.merchant_public_key_pem())
            .map_err(|error| KeysError(format!("the merchant's public key: {error}")))?;
        issue(&self.tls.ca_key, &merchant, Role::Client, &client_name(mchid)?, None)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Ca,
    Server,
    Client,
}

fn ca_name() -> Result<Name, KeysError> {
    parse_name("CN=WeChat Pay Sandbox CA (TEST ONLY),O=wechatpay-sdk-sandbox")
}

fn server_name() -> Result<Name, KeysError> {
    parse_name("CN=localhost,O=wechatpay-sdk-sandbox")
}

/// As WeChat Pay's API client certificates: CN the merchant id.
fn client_name(mchid: &str) -> Result<Name, KeysError> {
    if mchid.is_empty() || !mchid.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
        return Err(KeysError(format!("merchant id {mchid:?} cannot be a certificate's CN")));
    }
    parse_name(&format!("CN={mchid},OU=Sandbox merchant (TEST ONLY),O=Tenpay.com,L=Shenzhen,ST=Guangdong,C=CN"))
}

fn parse_name(text: &str) -> Result<Name, KeysError> {
    text.parse().map_err(|error| KeysError(format!("cannot make the name {text}: {error}")))
}

/// The merchant serial as a certificate serial, when it is one (hex, at most 20 bytes, no sign bit).
fn crypto_serial(merchant_serial: &str) -> Option<Vec<u8>> {
    let hex = merchant_serial.as_bytes();
    if hex.is_empty() || !hex.len().is_multiple_of(2) || hex.len() > 40 {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        hex.chunks(2).map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()).collect();
    bytes.filter(|bytes| bytes[0] != 0 && bytes[0] < 0x80)
}

/// A certificate for `subject_key`, signed by `ca_key` (self-signed when `role` is the CA), valid
/// from yesterday for five years, with a random serial unless `serial` is given.
fn issue(
    ca_key: &RsaPrivateKey,
    subject_key: &RsaPublicKey,
    role: Role,
    subject: &Name,
    serial: Option<Vec<u8>>,
) -> Result<String, KeysError> {
    let fail = |error: &dyn std::fmt::Display| KeysError(format!("cannot make a TLS certificate: {error}"));
    let now = SystemTime::now();
    let validity = Validity {
        not_before: Time::try_from(now - Duration::from_secs(86_400)).map_err(|error| fail(&error))?,
        not_after: Time::try_from(now + Duration::from_secs(5 * 365 * 86_400)).map_err(|error| fail(&error))?,
    };
    let spki_der = subject_key.to_public_key_der().map_err(|error| fail(&error))?;
    let spki = SubjectPublicKeyInfoOwned::try_from(spki_der.as_bytes()).map_err(|error| fail(&error))?;
    let serial = serial.unwrap_or_else(|| {
        let mut bytes = crate::crypto::random_bytes(16);
        bytes[0] = (bytes[0] & 0x7f).max(0x10);
        bytes
    });
    let serial = SerialNumber::new(&serial).map_err(|error| fail(&error))?;
    let profile = match role {
        Role::Ca => Profile::Root,
        Role::Server | Role::Client => {
            Profile::Leaf { issuer: ca_name()?, enable_key_agreement: false, enable_key_encipherment: true }
        }
    };
    let signer = SigningKey::<Sha256>::new(ca_key.clone());
    let mut builder = CertificateBuilder::new(profile, serial, validity, subject.clone(), spki, &signer)
        .map_err(|error| fail(&error))?;
    match role {
        Role::Ca => {}
        Role::Server => {
            let ia5 = |text: &str| Ia5String::new(text).map_err(|error| fail(&error));
            let ip = |octets: &[u8]| OctetString::new(octets).map_err(|error| fail(&error));
            let names = SubjectAltName(vec![
                GeneralName::DnsName(ia5("localhost")?),
                GeneralName::IpAddress(ip(&[127, 0, 0, 1])?),
                GeneralName::IpAddress(ip(&std::net::Ipv6Addr::LOCALHOST.octets())?),
            ]);
            builder.add_extension(&names).map_err(|error| fail(&error))?;
            builder.add_extension(&ExtendedKeyUsage(vec![SERVER_AUTH])).map_err(|error| fail(&error))?;
        }
        Role::Client => builder.add_extension(&ExtendedKeyUsage(vec![CLIENT_AUTH])).map_err(|error| fail(&error))?,
    }
    let cert = builder.build::<rsa::pkcs1v15::Signature>().map_err(|error| fail(&error))?;
    cert.to_pem(x509_cert::der::pem::LineEnding::LF).map_err(|error| fail(&error))
}

fn private_pem(key: &RsaPrivateKey) -> Result<String, KeysError> {
    key.to_pkcs8_pem(LineEnding::LF)
        .map(|pem| pem.to_string())
        .map_err(|error| KeysError(format!("cannot encode a private key: {error}")))
}

/// How a request reached the sandbox: what its connection proves about the sender.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum Transport {
    /// Plain HTTP.
    #[default]
    Plain,
    /// HTTPS; `client` is the subject CN of the client certificate the handshake verified against
    /// the sandbox CA (`None`: the client presented none).
    Tls { client: Option<String> },
}

/// Why an APIv2 `security` call is refused (`None`: its connection carries the certificate of
/// merchant `mchid`). Our words: the pages document no message; `CA_ERROR` is the code WeChat Pay
/// answers a call without its certificate with.
pub(crate) fn refusal(transport: &Transport, mchid: &str) -> Option<String> {
    match transport {
        Transport::Plain => Some(
            "CA_ERROR: this operation needs the merchant API certificate (mutual TLS): send it over HTTPS \
             (the sandbox's TLS base URL) with apiclient_cert.pem"
                .into(),
        ),
        Transport::Tls { client: None } => {
            Some("CA_ERROR: the request carries no merchant API certificate (apiclient_cert.pem)".into())
        }
        Transport::Tls { client: Some(cn) } if cn != mchid => {
            Some(format!("CA_ERROR: the merchant API certificate is merchant {cn}'s, not the request's {mchid}"))
        }
        Transport::Tls { .. } => None,
    }
}

/// The subject CN of a DER certificate.
fn common_name(der: &[u8]) -> Option<String> {
    let cert = Certificate::from_der(der).ok()?;
    let attribute = cert
        .tbs_certificate
        .subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|attribute| attribute.oid == COMMON_NAME)?;
    let value = &attribute.value;
    value.decode_as::<String>().ok().or_else(|| {
        value.decode_as::<x509_cert::der::asn1::PrintableStringRef<'_>>().ok().map(|text| text.as_str().to_owned())
    })
}

/// A TCP listener for `axum::serve` that hands out TLS connections, each carrying its
/// [`Transport`] and a kill switch (as [`KillableListener`](crate::conn::KillableListener)'s do,
/// so that connection-cutting faults work over HTTPS too). Handshakes run side by side, each
/// bounded by [`HANDSHAKE_TIMEOUT`]: a slow or failing client holds up no other.
pub(crate) struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    handshakes: JoinSet<Option<(TlsStream<TcpStream>, Transport)>>,
}

impl TlsListener {
    pub(crate) fn new(tcp: TcpListener, acceptor: TlsAcceptor) -> TlsListener {
        TlsListener { tcp, acceptor, handshakes: JoinSet::new() }
    }
}

impl Listener for TlsListener {
    type Io = KillableIo<TlsStream<TcpStream>>;
    type Addr = Conn;

    async fn accept(&mut self) -> (Self::Io, Conn) {
        loop {
            tokio::select! {
                accepted = self.tcp.accept() => match accepted {
                    Ok((stream, _)) => {
                        let _ = stream.set_nodelay(true);
                        let acceptor = self.acceptor.clone();
                        self.handshakes.spawn(async move {
                            let stream = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await.ok()?.ok()?;
                            let client = stream
                                .get_ref()
                                .1
                                .peer_certificates()
                                .and_then(|chain| chain.first())
                                .map(|cert| common_name(cert).unwrap_or_default());
                            Some((stream, Transport::Tls { client }))
                        });
                    }
                    // Out of file descriptors and the like: wait a little, as axum's own listener does.
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                },
                Some(done) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    if let Ok(Some((stream, transport))) = done {
                        let conn = Conn::over(transport);
                        return (conn.wrap(stream), conn);
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Conn> {
        self.tcp.local_addr().map(|_| Conn::default())
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for Conn {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        stream.remote_addr().clone()
    }
}
