//! The peers of the TLS tests, as strict as the real ones: a test CA and certificates it signs,
//! a mail relay that refuses mail before STARTTLS and before a login (as government relays
//! do) and checks every message's headers, and an HTTPS receiver.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A CA of the test's own, and a server certificate it signed for `names`.
pub struct TestCa {
    pub ca_pem: String,
    pub acceptor: TlsAcceptor,
}

// ring's provider, as the channels use (crates/scheduler/src/tls.rs says why).
#[allow(deprecated)]
pub fn test_ca(names: &[&str]) -> TestCa {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "督办测试 CA");
    let ca_cert = ca.self_signed(&ca_key).expect("CA");
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().expect("key");
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let leaf = CertificateParams::new(names)
        .expect("params")
        .signed_by(&key, &issuer)
        .expect("certificate");
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(leaf.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .expect("server config");
    TestCa {
        ca_pem: ca_cert.pem(),
        acceptor: TlsAcceptor::from(Arc::new(config)),
    }
}

async fn line<S: AsyncRead + Unpin>(s: &mut S) -> Option<String> {
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    loop {
        match s.read(&mut b).await {
            Ok(0) | Err(_) => {
                return (!out.is_empty()).then(|| String::from_utf8_lossy(&out).into());
            }
            Ok(_) if b[0] == b'\n' => {
                return Some(String::from_utf8_lossy(&out).trim_end_matches('\r').into());
            }
            Ok(_) => out.push(b[0]),
        }
    }
}

async fn say<S: AsyncWrite + Unpin>(s: &mut S, text: &str) {
    s.write_all(format!("{text}\r\n").as_bytes())
        .await
        .expect("write");
}

/// What the relay saw: the login it accepted, the recipients, the message, and every answer
/// it refused with.
#[derive(Debug, Default)]
pub struct Relayed {
    pub login: Option<String>,
    pub rcpt: Vec<String>,
    pub message: String,
    pub refusals: Vec<String>,
}

/// The headers RFC 5322 and the issue ask every message for, and the problem if one is missing.
pub fn missing_header(message: &str) -> Option<&'static str> {
    let head = message
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let has = |h: &str| head.lines().any(|l| l.starts_with(h));
    [
        ("mime-version: 1.0", "MIME-Version"),
        ("message-id: <", "Message-ID"),
        ("date: ", "Date"),
        ("auto-submitted: auto-generated", "Auto-Submitted"),
    ]
    .into_iter()
    .find(|(h, _)| !has(h))
    .map(|(_, name)| name)
    .or_else(|| {
        // From carries a display name: `From: =?utf-8?b?…?= <duban@…>` or `From: "…" <…>`.
        let from = head.lines().find(|l| l.starts_with("from: "))?;
        (!from.contains(" <")).then_some("From with a display name")
    })
}

/// One SMTP conversation on `s`; `tls` once STARTTLS is done. Returns the plain stream back
/// when the client asked for STARTTLS, so the caller can upgrade it.
async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    tls: bool,
    login: (&str, &str),
    seen: &mut Relayed,
) -> bool {
    while let Some(l) = line(s).await {
        let upper = l.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            if tls {
                say(s, "250-relay.test").await;
                say(s, "250 AUTH PLAIN LOGIN").await;
            } else {
                say(s, "250-relay.test").await;
                say(s, "250 STARTTLS").await;
            }
        } else if upper == "STARTTLS" && !tls {
            say(s, "220 go ahead").await;
            return true;
        } else if upper.starts_with("AUTH PLAIN") && tls {
            let given = l.split_whitespace().nth(2).unwrap_or_default();
            let want = base64(&format!("\0{}\0{}", login.0, login.1));
            if given == want {
                seen.login = Some(login.0.to_string());
                say(s, "235 authenticated").await;
            } else {
                seen.refusals.push("535".into());
                say(s, "535 bad credentials").await;
            }
        } else if upper.starts_with("MAIL FROM") {
            if !tls {
                seen.refusals.push("530 starttls".into());
                say(s, "530 Must issue a STARTTLS command first").await;
            } else if seen.login.is_none() {
                seen.refusals.push("530 auth".into());
                say(s, "530 Authentication required").await;
            } else {
                say(s, "250 OK").await;
            }
        } else if upper.starts_with("RCPT TO") {
            seen.rcpt
                .push(l[8..].trim().trim_matches(['<', '>', ':']).to_string());
            say(s, "250 OK").await;
        } else if upper == "DATA" {
            say(s, "354 go on").await;
            let mut message = String::new();
            while let Some(d) = line(s).await {
                if d == "." {
                    break;
                }
                message.push_str(&d);
                message.push('\n');
            }
            match missing_header(&message) {
                Some(h) => {
                    seen.refusals.push(format!("554 {h}"));
                    say(s, &format!("554 missing {h}")).await;
                }
                None => say(s, "250 queued").await,
            }
            seen.message = message;
        } else if upper.starts_with("QUIT") {
            say(s, "221 bye").await;
            return false;
        } else {
            say(s, "250 OK").await;
        }
    }
    false
}

fn base64(s: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = s.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A relay on 127.0.0.1 that demands STARTTLS, then `login`, and checks each message's
/// headers; it serves one connection and hands back what it saw.
pub async fn strict_relay(
    ca: &TestCa,
    login: (&'static str, &'static str),
) -> (u16, tokio::task::JoinHandle<Relayed>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let acceptor = ca.acceptor.clone();
    let task = tokio::spawn(async move {
        let mut seen = Relayed::default();
        let (mut tcp, _): (TcpStream, _) = listener.accept().await.expect("accept");
        say(&mut tcp, "220 relay.test ESMTP").await;
        if converse(&mut tcp, false, login, &mut seen).await {
            let mut tls = acceptor.accept(tcp).await.expect("TLS handshake");
            converse(&mut tls, true, login, &mut seen).await;
        }
        seen
    });
    (port, task)
}

/// An HTTPS receiver on 127.0.0.1 answering every request with `status`; it hands back each
/// request's head and body, or the handshake's failure.
pub async fn https_receiver(
    ca: &TestCa,
    status: &'static str,
) -> (
    u16,
    tokio::sync::mpsc::UnboundedReceiver<Result<(String, String), String>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let acceptor = ca.acceptor.clone();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let mut tls = match acceptor.accept(tcp).await {
                Ok(t) => t,
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    continue;
                }
            };
            let mut head = String::new();
            while let Some(l) = line(&mut tls).await {
                if l.is_empty() {
                    break;
                }
                head.push_str(&l);
                head.push('\n');
            }
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_string())
                })
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0u8; length];
            let _ = tls.read_exact(&mut body).await;
            let answer = format!(
                "HTTP/1.1 {status}\r\nLocation: https://elsewhere.example/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = tls.write_all(answer.as_bytes()).await;
            let _ = tls.shutdown().await;
            let _ = tx.send(Ok((head, String::from_utf8_lossy(&body).into())));
        }
    });
    (port, rx)
}
