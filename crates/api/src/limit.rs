//! Request rate limits, per client address and per bearer token: a token bucket each, in this
//! process. Past the limit a request gets 429 with `Retry-After`, before any work is done.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// How many requests a client address, and a token, may make.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Sustained requests per second.
    pub per_second: f64,
    /// How many may come at once.
    pub burst: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_second: 50.0,
            burst: 200.0,
        }
    }
}

/// The buckets, by key (`ip:…` or `token:…`).
#[derive(Debug)]
pub struct RateLimiter {
    limits: Limits,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes one request from `key`'s bucket; `Err(wait)` when it is empty.
    fn take(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        // Forget clients idle long enough to have a full bucket again, so the map stays small.
        if buckets.len() > 10_000 {
            let full =
                Duration::from_secs_f64(self.limits.burst / self.limits.per_second.max(0.001));
            buckets.retain(|_, (_, last)| now.duration_since(*last) < full);
        }
        let (tokens, last) = buckets
            .entry(key.to_string())
            .or_insert((self.limits.burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.limits.per_second)
            .min(self.limits.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - *tokens) / self.limits.per_second.max(0.001),
            ))
        }
    }
}

/// An API request that carries no credentials at all is not counted: its route refuses it with
/// 401 before any work (no token is looked up, nothing is written), so it guesses nothing and
/// costs nothing, and its caller should learn that a token is needed, not that it must slow
/// down. Anything carrying a token, the public document and the pages are counted.
fn unauthenticated_api_call(req: &Request) -> bool {
    let path = req.uri().path();
    path.starts_with("/api/")
        && path != crate::OPENAPI_PATH
        && !req.headers().contains_key(header::AUTHORIZATION)
}

/// The middleware: the client address (the connection's, or the client a trusted proxy
/// forwarded for: `forwarded.rs`, never a header from anyone else) and the bearer token, if
/// any, must both have room.
pub async fn limit(State(limiter): State<Arc<RateLimiter>>, req: Request, next: Next) -> Response {
    if unauthenticated_api_call(&req) {
        return next.run(req).await;
    }
    let now = Instant::now();
    let mut keys = Vec::new();
    if let Some(ConnectInfo(addr)) = req.extensions().get::<ConnectInfo<SocketAddr>>() {
        keys.push(format!("ip:{}", addr.ip()));
    }
    if let Some(token) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        keys.push(format!(
            "token:{}",
            hex::encode(&Sha256::digest(token.as_bytes())[..12])
        ));
    }
    for key in &keys {
        if let Err(wait) = limiter.take(key, now) {
            let seconds = wait.as_secs().max(1);
            // API clients get a problem document; people at the web pages a page to read.
            let mut response = if req.uri().path().starts_with("/api/") {
                ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate-limited",
                    "Too many requests",
                    format!("slow down: try again in {seconds} s"),
                )
                .into_response()
            } else {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    format!(
                        "<!DOCTYPE html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>请求过于频繁</title>\
                         <p>请求过于频繁，请 {seconds} 秒后再试。</p></html>"
                    ),
                )
                    .into_response()
            };
            if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return response;
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_its_rate() {
        let l = RateLimiter::new(Limits {
            per_second: 2.0,
            burst: 3.0,
        });
        let t0 = Instant::now();
        assert!((0..3).all(|_| l.take("ip:1", t0).is_ok()));
        assert!(l.take("ip:1", t0).is_err());
        assert!(
            l.take("ip:2", t0).is_ok(),
            "another client has its own bucket"
        );
        assert!(
            l.take("ip:1", t0 + Duration::from_millis(600)).is_ok(),
            "refilled one after 0.5 s"
        );
    }
}
