//! The client's address behind a reverse proxy: `X-Forwarded-For` (or `X-Real-IP`) is believed
//! only from a trusted proxy, and the address it gives replaces the peer's for everything that
//! reads it (the audit log, rate limits, the sign-in lock).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

/// The proxies whose forwarding headers are believed (`--trusted-proxy`, `trusted_proxies`).
/// Empty by default: a header anyone can send must not decide whose bucket a request draws
/// from or what the audit log records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Networks as `127.0.0.1/32`, `10.0.0.0/8` or a bare address (one host). A bad entry is
    /// named in the error.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for entry in entries {
            let entry = entry.as_ref().trim();
            if entry.is_empty() {
                continue;
            }
            let net = entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!("`{entry}` is not an address or a network such as 10.0.0.0/8")
                })?;
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// Who sent the request: the peer, unless the peer is a trusted proxy. Then it is the
    /// right-most address of `X-Forwarded-For` that is not itself a trusted proxy (each proxy
    /// appends the address it saw, so everything left of that is the client's own claim and
    /// may be forged), or `X-Real-IP`. A hop that does not parse stops the walk at the proxy
    /// that passed it on.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let lines: Vec<&axum::http::HeaderValue> =
            headers.get_all("x-forwarded-for").iter().collect();
        // `X-Real-IP` only when no proxy wrote `X-Forwarded-For` at all: a client can send
        // either, and a proxy that appends to the one may pass the other on untouched.
        if lines.is_empty() {
            return headers
                .get("x-real-ip")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_hop)
                .unwrap_or(peer);
        }
        // A line that is not text cannot be split into hops: nothing in it is believed, so
        // the nearest proxy is the client (a client could otherwise hide the hop its proxy
        // appended to the same line).
        let Some(text) = lines
            .iter()
            .map(|v| v.to_str().ok())
            .collect::<Option<Vec<&str>>>()
        else {
            return peer;
        };
        let hops: Vec<&str> = text
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut nearest = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                return nearest;
            };
            if !self.trusts(ip) {
                return ip;
            }
            nearest = ip;
        }
        nearest
    }
}

/// One hop as proxies write it: `203.0.113.9`, `203.0.113.9:4711`, `2001:db8::1` or
/// `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

/// Middleware, outermost: replaces the connection's peer address with the client's where a
/// trusted proxy forwarded the request, so every layer and handler after it reads the client.
pub async fn resolve_client(
    State(trusted): State<Arc<TrustedProxies>>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        let client = trusted.client(peer.ip(), req.headers());
        if client != peer.ip() {
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::new(client, 0)));
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                v.parse().expect("value"),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
        let none = TrustedProxies::default();
        let h = headers(&[("x-forwarded-for", "1.2.3.4"), ("x-real-ip", "5.6.7.8")]);
        assert_eq!(none.client(ip("198.51.100.7"), &h), ip("198.51.100.7"));
        let local = TrustedProxies::parse(&["127.0.0.1/32"]).expect("parse");
        assert_eq!(local.client(ip("198.51.100.7"), &h), ip("198.51.100.7"));
    }

    #[test]
    fn a_trusted_proxy_gives_the_right_most_untrusted_hop() {
        let t = TrustedProxies::parse(&["127.0.0.1", "10.0.0.0/8"]).expect("parse");
        // The client claims 6.6.6.6; nginx appended the address it saw, 203.0.113.9; an inner
        // proxy at 10.1.1.1 passed it on.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.1.1.1")]);
        assert_eq!(t.client(ip("127.0.0.1"), &h), ip("203.0.113.9"));
        // Several header lines are one list, in order.
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "203.0.113.9:5555"),
        ]);
        assert_eq!(t.client(ip("127.0.0.1"), &h), ip("203.0.113.9"));
        let h = headers(&[("x-forwarded-for", "[2001:db8::7]:443")]);
        assert_eq!(t.client(ip("::ffff:127.0.0.1"), &h), ip("2001:db8::7"));
        let h = headers(&[("x-real-ip", "203.0.113.10")]);
        assert_eq!(t.client(ip("127.0.0.1"), &h), ip("203.0.113.10"));
    }

    #[test]
    fn a_hop_that_does_not_parse_stops_at_the_proxy_that_passed_it() {
        let t = TrustedProxies::parse(&["127.0.0.1", "10.0.0.0/8"]).expect("parse");
        let h = headers(&[("x-forwarded-for", "203.0.113.9, unknown, 10.1.1.1")]);
        assert_eq!(t.client(ip("127.0.0.1"), &h), ip("10.1.1.1"));
        let h = headers(&[("x-forwarded-for", "")]);
        assert_eq!(t.client(ip("127.0.0.1"), &h), ip("127.0.0.1"));
    }

    #[test]
    fn a_line_that_is_not_text_or_a_lone_real_ip_changes_nothing() {
        let t = TrustedProxies::parse(&["127.0.0.1"]).expect("parse");
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            axum::http::HeaderValue::from_bytes(b"\x80, 203.0.113.9").expect("value"),
        );
        h.append("x-real-ip", "6.6.6.6".parse().expect("value"));
        assert_eq!(t.client(ip("127.0.0.1"), &h), ip("127.0.0.1"));
        // An empty X-Forwarded-For still means a proxy wrote one: X-Real-IP is not read.
        let h = headers(&[("x-forwarded-for", ""), ("x-real-ip", "6.6.6.6")]);
        assert_eq!(t.client(ip("127.0.0.1"), &h), ip("127.0.0.1"));
    }

    #[test]
    fn a_bad_entry_is_named() {
        let e = TrustedProxies::parse(&["10.0.0.0/8", "nginx"]).expect_err("bad");
        assert!(e.contains("`nginx`"), "{e}");
    }
}
