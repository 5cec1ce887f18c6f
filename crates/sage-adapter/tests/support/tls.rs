//! A tiny HTTP(S) server for connection tests: a private CA and a leaf certificate for
//! `127.0.0.1`/`localhost` made with `rcgen`, served with `tokio-rustls`, answering every
//! request after an optional delay with the empty customer page a Sage 300 company endpoint
//! answers `GET ARCustomers?$top=1` with. Shared by the adapter's and the CLI's tests.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The body of an empty Sage 300 page.
pub const EMPTY_PAGE: &str = r#"{"value":[]}"#;

/// A private CA and a server certificate it signed for `127.0.0.1` and `localhost`.
pub struct TestPki {
    /// The CA's certificate, PEM (what `--ca-file` holds).
    pub ca_pem: String,
    leaf: CertificateDer<'static>,
    key: Vec<u8>,
}

impl TestPki {
    /// A fresh CA and leaf.
    pub fn new() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "crm2sage test CA");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf_params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "sage300.test");
        let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();
        Self {
            ca_pem: ca.pem(),
            leaf: leaf.der().clone(),
            key: leaf_key.serialize_der(),
        }
    }

    fn acceptor(&self) -> TlsAcceptor {
        let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![self.leaf.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone())),
            )
            .unwrap();
        TlsAcceptor::from(Arc::new(config))
    }
}

/// A running server; it stops when the runtime it was spawned on does.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Requests answered (a TLS handshake that failed is not one).
    answered: Arc<AtomicUsize>,
}

impl TestServer {
    /// `https://127.0.0.1:PORT/Sage300WebApi` (or `http://` for a plain server).
    pub fn url(&self, tls: bool) -> String {
        let scheme = if tls { "https" } else { "http" };
        format!("{scheme}://{}/Sage300WebApi", self.addr)
    }

    /// How many requests it answered.
    pub fn answered(&self) -> usize {
        self.answered.load(Ordering::SeqCst)
    }
}

/// Starts a server on the current Tokio runtime: HTTPS with `pki`'s leaf, or plain HTTP when
/// `pki` is `None`; each answer waits `delay` first.
pub async fn start(pki: Option<&TestPki>, delay: Duration) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = pki.map(TestPki::acceptor);
    let answered = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&answered);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                match acceptor {
                    Some(acceptor) => {
                        if let Ok(tls) = acceptor.accept(tcp).await {
                            answer(tls, delay, &counter).await;
                        }
                    }
                    None => answer(tcp, delay, &counter).await,
                }
            });
        }
    });
    TestServer { addr, answered }
}

/// Reads one request's head and answers it with [`EMPTY_PAGE`] after `delay`.
async fn answer<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    delay: Duration,
    n: &AtomicUsize,
) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&buf[..read]),
        }
        if head.len() > 64 << 10 {
            return;
        }
    }
    tokio::time::sleep(delay).await;
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{EMPTY_PAGE}",
        EMPTY_PAGE.len()
    );
    if stream.write_all(response.as_bytes()).await.is_ok() {
        n.fetch_add(1, Ordering::SeqCst);
    }
    let _ = stream.shutdown().await;
}
