//! Certificates made at test time (rcgen) for mutual TLS: a server certificate for 127.0.0.1
//! from a server CA, a client certificate (`CN=kit-mtls-client`) from a client CA, and a
//! self-signed client certificate (`CN=kit-mtls-self`), written to a directory of their own for
//! a TLS listener to read.

use std::path::{Path, PathBuf};

use oauth2_kit::http::ClientCertificate;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// A small PKI for one test: the files a TLS server reads, and the identities clients present.
pub struct TestPki {
    dir: PathBuf,
    /// The server CA (PEM): what clients trust.
    pub server_ca: String,
    /// A client certificate of the client CA, subject `CN=kit-mtls-client`.
    pub client: ClientCertificate,
    /// A self-signed client certificate, subject `CN=kit-mtls-self`.
    pub self_signed: ClientCertificate,
    /// A certificate of the client CA with another subject, `CN=someone-else`.
    pub stranger: ClientCertificate,
}

fn ca(name: &str) -> (CertificateParams, KeyPair, String) {
    let mut params = CertificateParams::new(Vec::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate().unwrap();
    let pem = params.self_signed(&key).unwrap().pem();
    (params, key, pem)
}

fn leaf(names: &[&str], subject: &str, issuer: &Issuer<'_, KeyPair>) -> (String, String) {
    let mut params =
        CertificateParams::new(names.iter().map(|name| (*name).to_owned()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, subject);
    let key = KeyPair::generate().unwrap();
    (params.signed_by(&key, issuer).unwrap().pem(), key.serialize_pem())
}

impl TestPki {
    /// Makes the certificates and writes the server's files (`server.pem`, `server.key`,
    /// `client-ca.pem`, `self-signed.pem`) to a new directory under the system's temporary one.
    pub fn new() -> Self {
        let (server_ca_params, server_ca_key, server_ca) = ca("kit test server CA");
        let (client_ca_params, client_ca_key, client_ca) = ca("kit test client CA");
        let server_issuer = Issuer::new(server_ca_params, server_ca_key);
        let client_issuer = Issuer::new(client_ca_params, client_ca_key);
        let (server_cert, server_key) = leaf(&["127.0.0.1", "localhost"], "127.0.0.1", &server_issuer);
        let (client_cert, client_key) = leaf(&[], "kit-mtls-client", &client_issuer);
        let (stranger_cert, stranger_key) = leaf(&[], "someone-else", &client_issuer);
        let mut self_params = CertificateParams::new(Vec::new()).unwrap();
        self_params.distinguished_name.push(DnType::CommonName, "kit-mtls-self");
        let self_key = KeyPair::generate().unwrap();
        let self_cert = self_params.self_signed(&self_key).unwrap().pem();

        let mut random = [0u8; 8];
        getrandom::fill(&mut random).unwrap();
        let dir = std::env::temp_dir().join(format!("kit-pki-{}", u64::from_le_bytes(random)));
        std::fs::create_dir_all(&dir).unwrap();
        let self_key = self_key.serialize_pem();
        for (name, contents) in [
            ("server.pem", &server_cert),
            ("server.key", &server_key),
            ("client-ca.pem", &client_ca),
            ("self-signed.pem", &self_cert),
            ("self-signed.key", &self_key),
            ("client.pem", &client_cert),
            ("client.key", &client_key),
            ("stranger.pem", &stranger_cert),
            ("stranger.key", &stranger_key),
        ] {
            std::fs::write(dir.join(name), contents).unwrap();
        }
        // From files: libcurl over rustls (the isahc adapter's default) reads no other way.
        let identity = |name: &str| {
            ClientCertificate::from_pem_files(
                dir.join(format!("{name}.pem")),
                dir.join(format!("{name}.key")),
            )
            .unwrap()
        };
        Self {
            server_ca,
            client: identity("client"),
            self_signed: identity("self-signed"),
            stranger: identity("stranger"),
            dir,
        }
    }

    /// The directory of the server's files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestPki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
