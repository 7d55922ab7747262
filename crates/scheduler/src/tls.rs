//! Which certificates the outgoing channels trust: the system's roots, plus a CA the operator
//! names (government intranets run their own). One rustls configuration for webhooks, one
//! certificate list for the mail relay, both from the same PEM file.

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Makes ring the process's TLS provider, for any HTTP client built without a configuration
/// of its own (the bench's, say): reqwest is built without one (docs in `client_config`).
#[allow(deprecated)]
pub fn use_ring_by_default() {
    // Already installed (a second call, or a test harness) is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The certificates of a PEM file: at least one, or why not.
pub fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("the CA file is not PEM: {e}"))?;
    if certs.is_empty() {
        return Err("the CA file holds no certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(certs)
}

/// The system's roots and `extra`.
pub fn roots(extra: &[CertificateDer<'static>]) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    // A system without a certificate bundle still trusts the operator's CA.
    let system = rustls_native_certs::load_native_certs();
    store.add_parsable_certificates(system.certs);
    for cert in extra {
        store
            .add(cert.clone())
            .map_err(|e| format!("the CA file's certificate cannot be used: {e}"))?;
    }
    Ok(store)
}

/// A client configuration over ring (no C toolchain needed) trusting `roots`. rustls marks
/// ring's provider deprecated for lacking post-quantum key exchange; the alternative,
/// aws-lc-rs, needs cmake and a C compiler on every build, and the relays and OA systems these
/// channels reach offer none either.
#[allow(deprecated)]
pub fn client_config(roots: RootCertStore) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_a_certificate_is_refused_with_the_reason() {
        assert!(certificates(b"").unwrap_err().contains("no certificate"));
        assert!(
            certificates(b"hello")
                .unwrap_err()
                .contains("no certificate")
        );
    }
}
