//! How keel reaches a PostgreSQL server: in the clear or over TLS, as libpq's `sslmode` means it.
//!
//! | sslmode | over TCP | certificate checked |
//! |---|---|---|
//! | disable | never TLS | — |
//! | allow, prefer | TLS when the server offers it, else in the clear | no |
//! | require | TLS or no connection | no — unless `sslrootcert` is given: then as verify-ca (libpq does the same) |
//! | verify-ca | TLS or no connection | signed by `sslrootcert`'s authority |
//! | verify-full | TLS or no connection | signed by it, and issued for the host named in the URL |
//!
//! On a Unix socket libpq ignores sslmode (the server offers no TLS there, and the kernel is the
//! channel); so does keel. `require` without verification still encrypts and still checks that
//! the server holds the key of the certificate it sent — it only does not ask who signed it.

use super::Error;
use crate::location::{ServerUrl, SslMode};
use postgres::config::{Host, SslMode as WireSslMode};
use postgres::{Client, NoTls};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::Path;
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// What the connection will check of the server's certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// No TLS at all.
    Plain,
    /// TLS, the certificate not checked (the handshake's signatures still are).
    EncryptOnly,
    /// TLS, the certificate chain checked against `sslrootcert`, not the host name.
    Authority,
    /// TLS, the chain and the host name.
    AuthorityAndName,
}

/// The check a URL asks for on its hosts: none on Unix sockets, as libpq.
pub(crate) fn check_for(server: &ServerUrl) -> Check {
    let sockets_only = server.config.get_hosts().iter().all(|h| matches!(h, Host::Unix(_)));
    match server.ssl {
        _ if sockets_only => Check::Plain,
        SslMode::Disable => Check::Plain,
        SslMode::Allow | SslMode::Prefer => Check::EncryptOnly,
        SslMode::Require if server.root_cert.is_some() => Check::Authority,
        SslMode::Require => Check::EncryptOnly,
        SslMode::VerifyCa => Check::Authority,
        SslMode::VerifyFull => Check::AuthorityAndName,
    }
}

/// Connect as the URL says, over TLS where its sslmode asks for it.
pub(crate) fn connect(server: &ServerUrl) -> Result<Client, Error> {
    let failed = |e: postgres::Error| {
        // The server is there but not taking connections for a moment (starting up, in crash
        // recovery after a restart, shutting down): a temporary failure, not a wrong URL.
        if e.code() == Some(&postgres::error::SqlState::CANNOT_CONNECT_NOW) {
            return Error::Lost(format!(
                "{}: the server is starting up, recovering or shutting down. Nothing was changed; try again in a moment",
                connect_error(server, &e)
            ));
        }
        Error::Other(connect_error(server, &e))
    };
    let check = check_for(server);
    if check == Check::Plain {
        let mut config = server.config.clone();
        config.ssl_mode(WireSslMode::Disable);
        return config.connect(NoTls).map_err(failed);
    }
    let tls = MakeRustlsConnect::new(client_config(check, server.root_cert.as_deref())?);
    server.config.connect(tls).map_err(failed)
}

/// The error of a failed connection, with the URL (never a password) and, for TLS, what to do.
fn connect_error(server: &ServerUrl, e: &postgres::Error) -> String {
    // The driver's Display stops at "error performing TLS handshake"; the cause says why.
    let mut why = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !why.contains(&text) {
            why = format!("{why}: {text}");
        }
        source = s.source();
    }
    let hint = match tls_cause(e) {
        Some(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer | CertificateError::BadSignature | CertificateError::BadEncoding,
        )) => " — the server's certificate is not signed by the authority in sslrootcert; give that authority's certificate, or ask the server's administrator which one signed it",
        Some(rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        )) => " — the server's certificate is not issued for the host in the URL; name the host as the certificate does, or use sslmode=verify-ca to check the authority only",
        Some(rustls::Error::InvalidCertificate(CertificateError::Expired | CertificateError::ExpiredContext { .. })) => {
            " — the server's certificate has expired; its administrator must renew it"
        }
        _ if why.contains("does not support TLS") => {
            " — the server offers no TLS; ask its administrator to turn ssl on, or use sslmode=prefer to connect in the clear"
        }
        _ => "",
    };
    format!("cannot connect to the PostgreSQL server {}: {why}{hint}", server.shown)
}

/// The TLS library's own error under a failed connection, if that is what failed: the driver
/// wraps it in an I/O error, whose `source` skips it, so each I/O error is opened by hand.
fn tls_cause(e: &postgres::Error) -> Option<&rustls::Error> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(found) = s.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        if let Some(found) = s.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()?.downcast_ref::<rustls::Error>()) {
            return Some(found);
        }
        source = s.source();
    }
    None
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// rustls's client configuration for a check other than `Plain`.
pub(crate) fn client_config(check: Check, root_cert: Option<&Path>) -> Result<ClientConfig, Error> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Other(format!("TLS: {e}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = match check {
        Check::Plain | Check::EncryptOnly => Arc::new(Lenient { provider, chain: None }),
        Check::Authority | Check::AuthorityAndName => {
            let path = root_cert.ok_or_else(|| Error::Other("TLS: this sslmode needs sslrootcert=PATH".into()))?;
            let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots(path)?), provider.clone())
                .build()
                .map_err(|e| Error::Other(format!("sslrootcert {}: {e}", path.display())))?;
            if check == Check::Authority {
                Arc::new(Lenient { provider, chain: Some(webpki) })
            } else {
                webpki
            }
        }
    };
    Ok(builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth())
}

/// The authorities in a PEM file: at least one, or a clear refusal naming the file.
fn roots(path: &Path) -> Result<RootCertStore, Error> {
    let refuse = |why: String| {
        Error::Other(format!(
            "sslrootcert {}: {why}; give the PEM file of the authority that signed the server's certificate",
            path.display()
        ))
    };
    let bytes = std::fs::read(path).map_err(|e| refuse(format!("cannot read it ({e})")))?;
    let mut store = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&bytes) {
        let cert = cert.map_err(|e| refuse(format!("not a PEM certificate file ({e})")))?;
        store.add(cert).map_err(|e| refuse(format!("a certificate in it cannot be used ({e})")))?;
    }
    if store.is_empty() {
        return Err(refuse("it holds no certificate".into()));
    }
    Ok(store)
}

/// The verifier for the checks webpki's own does not make as such. Without a chain it is
/// sslmode=require without an authority: any certificate, but the handshake must prove the
/// server holds its key (a passive listener learns nothing; an active one is not kept out). With
/// one it is sslmode=verify-ca: the chain must lead to the authority, and the name in the
/// certificate is not compared with the host (webpki checks the chain first, so a name mismatch
/// means the chain held). Handshake signatures are checked alike in both.
#[derive(Debug)]
struct Lenient {
    provider: Arc<CryptoProvider>,
    chain: Option<Arc<WebPkiServerVerifier>>,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else { return Ok(ServerCertVerified::assertion()) };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. })) => {
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::{PasswordSources, ServerUrl};

    fn url(text: &str) -> ServerUrl {
        ServerUrl::parse(text, "alice", &PasswordSources::default()).unwrap()
    }

    #[test]
    fn the_check_follows_libpq_sslmode() {
        let at = |mode: &str| check_for(&url(&format!("postgres://db.example.org/okr?sslmode={mode}&sslrootcert=/ca.pem")));
        assert_eq!(at("disable"), Check::Plain);
        assert_eq!(at("allow"), Check::EncryptOnly);
        assert_eq!(at("prefer"), Check::EncryptOnly);
        assert_eq!(at("require"), Check::Authority, "require with a root certificate checks it, as libpq");
        assert_eq!(at("verify-ca"), Check::Authority);
        assert_eq!(at("verify-full"), Check::AuthorityAndName);
        assert_eq!(check_for(&url("postgres://db.example.org/okr?sslmode=require")), Check::EncryptOnly);
        assert_eq!(check_for(&url("postgres://db.example.org/okr")), Check::EncryptOnly, "prefer by default");
        assert_eq!(check_for(&url("postgresql:///okr?host=/run/postgresql&sslmode=require")), Check::Plain, "a socket: no TLS");
    }

    #[test]
    fn a_missing_or_empty_or_bad_root_certificate_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nowhere.pem");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n").unwrap();
        for (path, why) in [(&missing, "cannot read it"), (&empty, "holds no certificate"), (&garbage, "sslrootcert")] {
            let e = client_config(Check::AuthorityAndName, Some(path)).unwrap_err().to_string();
            assert!(e.contains(&path.display().to_string()) && e.contains(why) && e.contains("PEM file of the authority"), "{e}");
        }
        assert!(client_config(Check::EncryptOnly, None).is_ok(), "encrypting only needs no authority");
    }

    mod on_a_server {
        use super::super::connect;
        use crate::location::{PasswordSources, ServerUrl};
        use crate::store::engine::tests::tls_server::{TlsServer, ALICE_PASSWORD};

        fn parse(url: &str, password: Option<&str>) -> ServerUrl {
            let sources = PasswordSources { password: password.map(String::from), ..Default::default() };
            ServerUrl::parse(url, "nobody", &sources).unwrap_or_else(|e| panic!("{url}: {e}"))
        }

        /// Whether the session is encrypted, as the server sees it, and who it is.
        fn session(url: &str, password: Option<&str>) -> Result<(bool, String), String> {
            let mut client = connect(&parse(url, password)).map_err(|e| e.to_string())?;
            let row = client
                .query_one("SELECT coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false), session_user::text", &[])
                .map_err(|e| e.to_string())?;
            Ok((row.get(0), row.get(1)))
        }

        #[test]
        fn each_sslmode_connects_or_refuses_as_libpq_would() {
            let Some(server) = TlsServer::start() else { return };
            let (port, owner) = (server.port, &server.owner);
            let (ca, other) = (server.ca.display().to_string(), server.other_ca.display().to_string());
            let at = |host: &str, query: &str| format!("postgresql://{owner}@{host}:{port}/postgres?{query}");

            // Encrypted without checking who signed the certificate.
            for mode in ["require", "prefer", "allow"] {
                assert_eq!(session(&at("localhost", &format!("sslmode={mode}")), None), Ok((true, owner.clone())), "sslmode={mode}");
            }
            // Checked against the authority, and the name.
            assert_eq!(session(&at("localhost", &format!("sslmode=verify-full&sslrootcert={ca}")), None), Ok((true, owner.clone())));
            assert_eq!(session(&at("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={ca}")), None), Ok((true, owner.clone())));

            // Refused: a certificate another authority signed; a name it was not issued for;
            // require with a root certificate checks it, as libpq does.
            let e = session(&at("localhost", &format!("sslmode=verify-full&sslrootcert={other}")), None).unwrap_err();
            assert!(e.contains("not signed by the authority in sslrootcert") && e.contains("localhost"), "{e}");
            let e = session(&at("localhost", &format!("sslmode=require&sslrootcert={other}")), None).unwrap_err();
            assert!(e.contains("not signed by the authority"), "{e}");
            let e = session(&at("127.0.0.1", &format!("sslmode=verify-full&sslrootcert={ca}")), None).unwrap_err();
            assert!(e.contains("not issued for the host") && e.contains("verify-ca"), "{e}");
            // In the clear over TCP the server itself refuses (its pg_hba requires TLS).
            let e = session(&at("localhost", "sslmode=disable"), None).unwrap_err();
            assert!(e.contains("no encryption") || e.contains("pg_hba.conf"), "{e}");
            assert!(!e.contains("password"), "{e}");

            // A Unix socket: sslmode does not apply, as in libpq.
            let socket = format!("postgresql:///postgres?host={}&port={port}&user={owner}&sslmode=require", server.socket_dir().display());
            assert_eq!(session(&socket, None), Ok((false, owner.clone())));
        }

        #[test]
        fn a_password_login_goes_over_tls_and_a_wrong_one_is_refused() {
            let Some(server) = TlsServer::start() else { return };
            let url =
                format!("postgresql://alice@localhost:{}/postgres?sslmode=verify-full&sslrootcert={}", server.port, server.ca.display());
            assert_eq!(session(&url, Some(ALICE_PASSWORD)), Ok((true, "alice".to_string())));
            let e = session(&url, Some("not her password")).unwrap_err();
            assert!(e.contains("password authentication failed") && e.contains("alice"), "{e}");
            assert!(!e.contains("not her password"), "the password is never printed: {e}");
        }
    }
}
