//! TLS for the end-to-end tests: self-signed identities made by rcgen (for the connector's
//! SMPP over TLS and the API's listener), and a TLS-terminating proxy (tokio-rustls) in
//! front of the plain-TCP simulator that counts its handshakes, so a test waits on them
//! instead of sleeping.

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// A self-signed certificate for one DNS name, with its key.
pub struct Identity {
    /// The certificate (its own issuer).
    cert: rcgen::Certificate,
    /// Its key pair.
    key: rcgen::KeyPair,
}

impl Identity {
    /// A new self-signed certificate issued to the DNS name `name`, its subject (and so its
    /// issuer) the common name `subject`.
    pub fn self_signed(name: &str, subject: &str) -> Identity {
        Identity::self_signed_for(&[name], subject)
    }

    /// A new self-signed certificate issued to each of `names` (a name that parses as an IP
    /// address becomes an IP address entry, as for a listener on 127.0.0.1).
    pub fn self_signed_for(names: &[&str], subject: &str) -> Identity {
        Identity::make(names, subject, rcgen::IsCa::NoCa)
    }

    /// Like [`Identity::self_signed_for`], but marked as a CA (basicConstraints CA:TRUE),
    /// as `openssl req -x509` makes them by default.
    pub fn self_signed_ca(names: &[&str], subject: &str) -> Identity {
        Identity::make(
            names,
            subject,
            rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained),
        )
    }

    fn make(names: &[&str], subject: &str, is_ca: rcgen::IsCa) -> Identity {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = rcgen::CertificateParams::new(names).expect("params");
        params.is_ca = is_ca;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, subject);
        let key = rcgen::KeyPair::generate().expect("key pair");
        let cert = params.self_signed(&key).expect("certificate");
        Identity { cert, key }
    }

    /// Writes `STEM.pem` (the certificate) and `STEM.key` (the key) into `dir`, for a
    /// configuration's `ca_file` / `client_cert` / `client_key`; returns both paths.
    pub fn write(&self, dir: &Path, stem: &str) -> (PathBuf, PathBuf) {
        let cert = dir.join(format!("{stem}.pem"));
        let key = dir.join(format!("{stem}.key"));
        std::fs::write(&cert, self.cert.pem()).expect("write certificate");
        std::fs::write(&key, self.key.serialize_pem()).expect("write key");
        (cert, key)
    }

    fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.serialize_der()))
    }
}

/// How the proxy's TLS handshakes went so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Handshakes {
    /// Completed: the connection is forwarded to the simulator.
    pub ok: u64,
    /// Failed (the client refused our certificate, or we refused the client's).
    pub failed: u64,
}

/// A TLS server on 127.0.0.1:0 that forwards the decrypted bytes of each connection to
/// `upstream` and back. Stopped (with every connection) when dropped.
pub struct TlsProxy {
    addr: SocketAddr,
    handshakes: watch::Receiver<Handshakes>,
    task: JoinHandle<()>,
}

impl TlsProxy {
    /// Serves `identity`'s certificate; with `client_ca`, requires a client certificate
    /// issued by it (for carriers that authenticate the ESME).
    pub async fn start(
        upstream: SocketAddr,
        identity: &Identity,
        client_ca: Option<&Identity>,
    ) -> TlsProxy {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("protocol versions");
        let builder = match client_ca {
            None => builder.with_no_client_auth(),
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                roots.add(ca.der()).expect("client CA");
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .expect("client verifier");
                builder.with_client_cert_verifier(verifier)
            }
        };
        let config = builder
            .with_single_cert(vec![identity.der()], identity.key_der())
            .expect("server certificate");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (tx, handshakes) = watch::channel(Handshakes::default());
        let task = tokio::spawn(async move {
            let tx = Arc::new(tx);
            let mut connections = JoinSet::new();
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                connections.spawn(async move {
                    let mut tls = match acceptor.accept(tcp).await {
                        Ok(tls) => tls,
                        Err(_) => {
                            tx.send_modify(|h| h.failed += 1);
                            return;
                        }
                    };
                    tx.send_modify(|h| h.ok += 1);
                    let Ok(mut plain) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    // Either side closing ends the forwarding; its error is the test's
                    // story, not a failure of the proxy.
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        TlsProxy {
            addr,
            handshakes,
            task,
        }
    }

    /// Where the ESME connects.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits until the handshake counts satisfy `pred` (woken by each handshake).
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&Handshakes) -> bool) -> Handshakes {
        let mut rx = self.handshakes.clone();
        super::within(what, async move {
            *rx.wait_for(|h| pred(h)).await.expect("proxy running")
        })
        .await
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
