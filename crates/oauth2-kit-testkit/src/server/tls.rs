//! Mutual TLS (RFC 8705, feature `tls`): a second listener over TLS that asks every client for
//! a certificate and accepts any (the handshake still proves the client holds its key), and
//! tells the endpoints which certificate a request came with. The server's certificate (for
//! `127.0.0.1`) and the client certificates [`TestServer::issue_client_certificate`] hands out
//! come from CAs made at start.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2_kit::http::ClientCertificate;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use sha2::{Digest as _, Sha256};
use tokio::net::TcpListener;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use tokio_rustls::rustls::server::danger::{ClientCertVerified, ClientCertVerifier};

/// The request header that carries, from the TLS listener to the endpoints, the thumbprint
/// (`x5t#S256`) of the client certificate of the connection. Removed from every request that did
/// not come over the listener, so a client cannot claim a certificate by sending it.
pub(super) const PEER_CERTIFICATE: &str = "x-testkit-peer-certificate";

/// The request header that says a request came over the TLS listener (set by the listener only,
/// like [`PEER_CERTIFICATE`]): DPoP proofs then name the listener's origin.
pub(super) const OVER_TLS: &str = "x-testkit-over-tls";

/// The thumbprint of a connection's client certificate, set by the TLS listener.
#[derive(Debug, Clone)]
struct PeerCertificate(Option<String>);

/// The CAs and files of a server's mutual TLS.
pub(super) struct Pki {
    /// The server CA, PEM: what clients trust.
    pub(super) root: String,
    client_issuer: Issuer<'static, KeyPair>,
    server_config: Arc<rustls::ServerConfig>,
    dir: PathBuf,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pki").field("dir", &self.dir).finish_non_exhaustive()
    }
}

fn failed(what: &str) -> impl Fn(rcgen::Error) -> io::Error + '_ {
    move |e| io::Error::other(format!("{what}: {e}"))
}

/// The x5t#S256 thumbprint of a certificate's DER (RFC 8705 §3.1).
pub(super) fn thumbprint(der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(der))
}

impl Pki {
    pub(super) fn new() -> io::Result<Self> {
        let ca = |name: &str| -> io::Result<(CertificateParams, KeyPair, String)> {
            let mut params = CertificateParams::new(Vec::new()).map_err(failed("CA"))?;
            params.distinguished_name.push(DnType::CommonName, name);
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            let key = KeyPair::generate().map_err(failed("CA key"))?;
            let pem = params.self_signed(&key).map_err(failed("CA"))?.pem();
            Ok((params, key, pem))
        };
        let (server_ca, server_ca_key, root) = ca("oauth2-kit testkit server CA")?;
        let (client_ca, client_ca_key, _) = ca("oauth2-kit testkit client CA")?;
        let server_issuer = Issuer::new(server_ca, server_ca_key);
        let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .map_err(failed("server certificate"))?;
        params.distinguished_name.push(DnType::CommonName, "127.0.0.1");
        let key = KeyPair::generate().map_err(failed("server key"))?;
        let certificate = params.signed_by(&key, &server_issuer).map_err(failed("server certificate"))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = Arc::new(AnyClientCertificate { provider: provider.clone() });
        let server_config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![certificate.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .map_err(io::Error::other)?;
        let dir = private_dir()?;
        Ok(Self {
            root,
            client_issuer: Issuer::new(client_ca, client_ca_key),
            server_config: Arc::new(server_config),
            dir,
        })
    }

    /// A client certificate of the testkit's client CA for `subject` (its common name), with
    /// its thumbprint; written to files too (libcurl over rustls reads no other way).
    pub(super) fn issue(&self, subject: &str) -> io::Result<(ClientCertificate, String)> {
        let mut params = CertificateParams::new(Vec::new()).map_err(failed("client certificate"))?;
        params.distinguished_name.push(DnType::CommonName, subject);
        let key = KeyPair::generate().map_err(failed("client key"))?;
        let certificate =
            params.signed_by(&key, &self.client_issuer).map_err(failed("client certificate"))?;
        let certificate_thumbprint = thumbprint(certificate.der());
        let identity = self.write(&certificate_thumbprint, &certificate.pem(), &key.serialize_pem())?;
        Ok((identity, certificate_thumbprint))
    }

    fn write(&self, name: &str, certificate: &str, key: &str) -> io::Result<ClientCertificate> {
        write_identity(&self.dir, name, certificate, key)
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A self-signed client certificate for `subject`, for a client registered with
/// [`TestClient::self_signed_tls_client_auth`](crate::TestClient::self_signed_tls_client_auth)
/// (`self_signed_tls_client_auth`, RFC 8705 §2.2). Written to files (libcurl over rustls reads
/// client certificates from files only) in a new directory of its own under the system's
/// temporary one, readable by this user only; they stay there (a test certificate, left to the
/// system's temporary-file cleanup).
pub fn self_signed_client_certificate(subject: &str) -> io::Result<ClientCertificate> {
    let mut params = CertificateParams::new(Vec::new()).map_err(failed("certificate"))?;
    params.distinguished_name.push(DnType::CommonName, subject);
    let key = KeyPair::generate().map_err(failed("key"))?;
    let certificate = params.self_signed(&key).map_err(failed("certificate"))?;
    write_identity(&private_dir()?, "self-signed", &certificate.pem(), &key.serialize_pem())
}

/// A new directory under the system's temporary one, with a random name, that only this user
/// may enter (created, never taken over: an existing one is an error).
fn private_dir() -> io::Result<PathBuf> {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).map_err(|_| io::Error::other("no randomness"))?;
    let dir = std::env::temp_dir().join(format!("oauth2-kit-testkit-{}", URL_SAFE_NO_PAD.encode(random)));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&dir)?;
    Ok(dir)
}

/// Writes a certificate and its key (the key readable by this user only) as `name.pem` and
/// `name.key` in `dir`, and reads them back as a client certificate.
fn write_identity(
    dir: &std::path::Path,
    name: &str,
    certificate: &str,
    key: &str,
) -> io::Result<ClientCertificate> {
    use std::io::Write as _;
    let (chain, key_file) = (dir.join(format!("{name}.pem")), dir.join(format!("{name}.key")));
    std::fs::write(&chain, certificate)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(&key_file)?.write_all(key.as_bytes())?;
    ClientCertificate::from_pem_files(chain, key_file).map_err(|e| io::Error::other(e.to_string()))
}

/// Asks for a client certificate, takes any (a test server: who is who is the endpoints' call,
/// by thumbprint), and checks the handshake's signature with it.
#[derive(Debug)]
struct AnyClientCertificate {
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ClientCertVerifier for AnyClientCertificate {
    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        &[]
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// Serves `app` over TLS on `listener`: each connection's client certificate (its thumbprint)
/// goes with each of its requests to the endpoints.
pub(super) async fn serve(listener: TcpListener, app: Router, pki: Arc<Pki>) {
    let acceptor = tokio_rustls::TlsAcceptor::from(pki.server_config.clone());
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            // Out of file descriptors, say: wait a little rather than spin.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else { return };
            let peer = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|der| thumbprint(der));
            let app = app.layer(axum::Extension(PeerCertificate(peer)));
            let service = hyper_util::service::TowerToHyperService::new(app);
            let connection =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            if let Err(error) = connection {
                tracing::debug!(%error, "testkit TLS connection ended");
            }
        });
    }
}

/// The header the endpoints read the client certificate from: set from the TLS listener's
/// extension, removed from anything else.
pub(super) async fn peer_certificate_header(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    request.headers_mut().remove(PEER_CERTIFICATE);
    request.headers_mut().remove(OVER_TLS);
    let peer = request.extensions().get::<PeerCertificate>().map(|peer| peer.0.clone());
    if let Some(peer) = peer {
        request.headers_mut().insert(OVER_TLS, http::HeaderValue::from_static("1"));
        if let Some(value) = peer.and_then(|thumbprint| http::HeaderValue::from_str(&thumbprint).ok()) {
            request.headers_mut().insert(PEER_CERTIFICATE, value);
        }
    }
    next.run(request).await
}
