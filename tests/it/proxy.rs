//! Behind a reverse proxy: `X-Forwarded-For` is believed only from a trusted proxy, and then
//! the client it names is who the audit log records and whose rate-limit bucket a request
//! draws from. From anyone else a forged header changes nothing.

use std::process::Stdio;

use crate::common::{Serve, TempDir, duban_ok, http};

/// A request with a bearer token nobody holds, sent as if through proxies that saw `hops`.
fn unknown_token(addr: &str, hops: &str) -> u16 {
    http(
        addr,
        "GET",
        "/api/v1/cases",
        &[
            ("Authorization", "Bearer dbn_not_a_token"),
            ("X-Forwarded-For", hops),
        ],
        None,
    )
    .expect("answer")
    .status
}

/// The sources of the audit log's failed authentications.
fn refused_sources(dir: &TempDir) -> Vec<String> {
    duban_ok(dir.path(), &["audit", "tail", "--limit", "100"])
        .lines()
        .filter(|l| l.contains("auth_failed"))
        .map(|l| l.to_string())
        .collect()
}

#[test]
fn a_trusted_proxy_names_the_client_in_the_audit_log() {
    let dir = TempDir::new("proxy-trusted");
    duban_ok(dir.path(), &["migrate"]);
    let serve = Serve::start(
        dir.path(),
        &["--trusted-proxy", "127.0.0.1/32"],
        &[],
        Stdio::null(),
    );
    // The client claims 6.6.6.6; the proxy appended the address it saw.
    assert_eq!(unknown_token(&serve.addr, "6.6.6.6, 203.0.113.9"), 401);
    drop(serve);
    let lines = refused_sources(&dir);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("203.0.113.9"), "{lines:?}");
    assert!(!lines[0].contains("6.6.6.6"), "{lines:?}");
}

#[test]
fn a_forged_forwarded_header_from_an_untrusted_peer_is_ignored() {
    let dir = TempDir::new("proxy-untrusted");
    duban_ok(dir.path(), &["migrate"]);
    // Trusting a proxy elsewhere does not make this peer one.
    let serve = Serve::start(
        dir.path(),
        &["--trusted-proxy", "10.0.0.0/8"],
        &[],
        Stdio::null(),
    );
    assert_eq!(unknown_token(&serve.addr, "203.0.113.9"), 401);
    drop(serve);
    let lines = refused_sources(&dir);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("127.0.0.1"), "{lines:?}");
    assert!(!lines[0].contains("203.0.113.9"), "{lines:?}");
}

#[test]
fn clients_behind_a_trusted_proxy_have_buckets_of_their_own() {
    let dir = TempDir::new("proxy-buckets");
    duban_ok(dir.path(), &["migrate"]);
    let limits = ["--rate-limit", "0.1", "--rate-burst", "2"];
    let health = |addr: &str, client: &str| {
        http(
            addr,
            "GET",
            "/healthz",
            &[("X-Forwarded-For", client)],
            None,
        )
        .expect("answer")
        .status
    };
    let trusted = Serve::start(
        dir.path(),
        &[&limits[..], &["--trusted-proxy", "127.0.0.1"]].concat(),
        &[],
        Stdio::null(),
    );
    let first: Vec<u16> = (0..3)
        .map(|_| health(&trusted.addr, "203.0.113.9"))
        .collect();
    assert_eq!(first, [200, 200, 429], "one client's burst runs out");
    assert_eq!(
        health(&trusted.addr, "203.0.113.10"),
        200,
        "another's has not"
    );
    drop(trusted);
    // Untrusted, the header is noise: every request is the peer's, in one bucket.
    let untrusted = Serve::start(dir.path(), &limits, &[], Stdio::null());
    let seen: Vec<u16> = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
        .iter()
        .map(|c| health(&untrusted.addr, c))
        .collect();
    assert_eq!(seen, [200, 200, 429]);
}
