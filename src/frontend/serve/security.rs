//! The security model of `cram serve`. A local server is still a server:
//! any web page the user visits can make the browser send requests to it.
//!
//! * **Loopback only** by default (127.0.0.1); `--listen ADDR` binds
//!   elsewhere, with a warning, for a user who means it.
//! * **DNS rebinding**: a hostile page on `evil.example` can point its name
//!   at 127.0.0.1 and read the answers as same-origin. Every request's `Host`
//!   must be `localhost`, `127.0.0.1` or `[::1]` (any loopback address, or
//!   with `--listen` any IP literal, which no rebinding can produce) with the
//!   server's port; anything else gets 403 before any route runs.
//! * **Cross-site requests**: no CORS headers, so other origins cannot read
//!   responses. The only state-changing request (a drill grade) and the
//!   reveal are POSTs that must carry the server's random token (minted at
//!   start, only ever sent in its own pages) and, when the browser says
//!   where they come from (`Origin`, `Sec-Fetch-Site`), come from this origin.
//! * **Content**: every page has a strict Content-Security-Policy (no inline
//!   script or style, nothing from other origins, no framing, forms only to
//!   itself); note text is escaped and its links filtered
//!   ([`crate::render::html`]), so a note holding `<script>` or a
//!   `javascript:` link shows text, not code.
//! * **Input**: the URI is capped at [`MAX_URI_BYTES`] (414 page; a
//!   request line too long for hyper, over 64 KiB, gets the same page from
//!   [`overlong_request_line`] when it opens a connection), the head at
//!   [`super::MAX_HEAD_BYTES`] (431 from hyper), the body at
//!   [`super::MAX_BODY_BYTES`] (413), questions at 4 KiB (400). Notes are
//!   looked up by id in the index, never by path, so no URL reaches a file.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::Failure;
use crate::error::{Error, Result};

/// Longest request URI answered (a question is at most 4 KiB, escaped).
pub const MAX_URI_BYTES: usize = 16 << 10;

/// The Content-Security-Policy of every response.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                       form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Which `Host` headers the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HostRule {
    /// The port the server listens on.
    pub port: u16,
    /// Also any IP literal (the server listens beyond loopback).
    pub any_ip: bool,
}

impl HostRule {
    /// The rule for a server bound to `addr`.
    pub fn for_addr(addr: SocketAddr) -> HostRule {
        HostRule {
            port: addr.port(),
            any_ip: !addr.ip().is_loopback(),
        }
    }

    /// True when a request with this `Host` header is for this server.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim();
        let (name, port) = match host.strip_prefix('[') {
            // [::1]:8080
            Some(rest) => match rest.split_once(']') {
                Some((ip, tail)) => (ip, tail.strip_prefix(':')),
                None => return false,
            },
            None => match host.rsplit_once(':') {
                Some((n, p)) => (n, Some(p)),
                None => (host, None),
            },
        };
        let port_ok = match port {
            Some(p) => p.parse::<u16>() == Ok(self.port),
            None => self.port == 80,
        };
        if !port_ok {
            return false;
        }
        if name.eq_ignore_ascii_case("localhost") {
            return true;
        }
        match name.parse::<IpAddr>() {
            Ok(ip) => ip.is_loopback() || self.any_ip,
            Err(_) => false,
        }
    }
}

/// The host rule and the form token of one server.
pub(crate) struct Guard {
    /// Which hosts are answered.
    pub hosts: HostRule,
    /// The token every POST must carry (32 hex digits, random per start).
    pub token: String,
}

impl Guard {
    /// A guard with a fresh random token.
    pub fn new(hosts: HostRule) -> Result<Guard> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| {
            Error::io(
                "drawing the form token from the system's random source",
                std::io::Error::other(e.to_string()),
            )
        })?;
        Ok(Guard {
            hosts,
            token: bytes.iter().map(|b| format!("{b:02x}")).collect(),
        })
    }

    /// Checks a POST's token (from its form) and, when the browser sent them,
    /// its `Origin` and `Sec-Fetch-Site`.
    pub fn check_post(
        &self,
        headers: &HeaderMap,
        token: Option<&str>,
    ) -> std::result::Result<(), Failure> {
        let forbidden = |why: &str| Err(Failure::new(StatusCode::FORBIDDEN, why.to_string()));
        if let Some(site) = headers.get("sec-fetch-site")
            && !matches!(site.to_str(), Ok("same-origin" | "none"))
        {
            return forbidden(
                "this form was sent from another site; open the page from cram serve itself",
            );
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("");
            let same = origin
                .to_str()
                .ok()
                .and_then(|o| o.strip_prefix("http://"))
                .is_some_and(|o| o.eq_ignore_ascii_case(host));
            if !same {
                return forbidden(
                    "this form was sent from another origin; open the page from cram serve itself",
                );
            }
        }
        if !token.is_some_and(|t| constant_time_eq(t.as_bytes(), self.token.as_bytes())) {
            return forbidden(
                "the form's token is missing or stale (was cram serve restarted?): reload the page and try again",
            );
        }
        Ok(())
    }
}

/// The longest request line hyper reads; past it hyper answers a bare 414.
const HYPER_MAX_LINE: usize = 64 << 10;

/// True when a new connection starts with a request line longer than hyper
/// reads. Looks (`peek`) without taking anything from the stream, so a
/// normal request goes to hyper untouched; waits at most `wait` for a line.
pub(crate) async fn overlong_request_line(stream: &TcpStream, wait: std::time::Duration) -> bool {
    let mut buf = vec![0u8; HYPER_MAX_LINE + 1024];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let n = match tokio::time::timeout_at(deadline, stream.peek(&mut buf)).await {
            Ok(Ok(n)) => n,
            _ => return false,
        };
        if n == 0 || buf[..n].contains(&b'\n') {
            return false;
        }
        if n == buf.len() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        // Part of a line so far: wait for more.
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}

/// Answers an over-long request line with the 414 page, then reads what is
/// left of the request (so closing does not reset the connection before the
/// client reads the answer) for at most a few seconds.
pub(crate) async fn refuse_overlong(mut stream: TcpStream) {
    let page = super::pages::error(
        StatusCode::URI_TOO_LONG,
        &format!(
            "the address is longer than {} KiB; a question is at most 4 KiB",
            MAX_URI_BYTES >> 10
        ),
    )
    .into_string();
    let mut head = format!(
        "HTTP/1.1 414 URI Too Long\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\
         connection: close\r\n",
        page.len()
    );
    for (name, value) in HEADERS {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    if stream.write_all(head.as_bytes()).await.is_err()
        || stream.write_all(page.as_bytes()).await.is_err()
    {
        return;
    }
    let _ = stream.shutdown().await;
    let mut sink = vec![0u8; 64 << 10];
    let drain = async {
        let mut total = 0usize;
        while let Ok(n) = stream.read(&mut sink).await {
            total += n;
            if n == 0 || total > (8 << 20) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), drain).await;
}

/// The security headers of every response.
const HEADERS: [(&str, &str); 6] = [
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    // Not no-referrer: with it Chromium sends `Origin: null` on form posts,
    // which the origin check must refuse. Same-origin keeps note URLs from
    // the sites a note links to.
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
];

/// Compares without stopping at the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Every request passes here first: the `Host` check and the URI cap; every
/// response leaves with the security headers.
pub(crate) async fn guard(
    State(state): State<Arc<super::State>>,
    req: Request,
    next: Next,
) -> Response {
    let host_ok = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| state.guard.hosts.allows(h));
    let mut res = if !host_ok {
        Failure::new(
            StatusCode::FORBIDDEN,
            format!(
                "this server answers only requests addressed to localhost:{0} or 127.0.0.1:{0} \
                 (a page that renamed itself to reach it is refused)",
                state.guard.hosts.port
            ),
        )
        .into_response()
    } else if req.uri().to_string().len() > MAX_URI_BYTES {
        Failure::new(
            StatusCode::URI_TOO_LONG,
            format!(
                "the address is longer than {} KiB; a question is at most 4 KiB",
                MAX_URI_BYTES >> 10
            ),
        )
        .into_response()
    } else if !matches!(*req.method(), Method::GET | Method::HEAD | Method::POST) {
        Failure::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET and POST are answered",
        )
        .into_response()
    } else {
        next.run(req).await
    };
    let h = res.headers_mut();
    for (name, value) in HEADERS {
        h.insert(name, HeaderValue::from_static(value));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_loopback_names_with_the_port() {
        let r = HostRule {
            port: 8123,
            any_ip: false,
        };
        for ok in [
            "127.0.0.1:8123",
            "localhost:8123",
            "LOCALHOST:8123",
            "[::1]:8123",
            "127.0.0.2:8123",
        ] {
            assert!(r.allows(ok), "{ok}");
        }
        for bad in [
            "evil.example:8123",
            "127.0.0.1.nip.io:8123",
            "localhost.evil.example:8123",
            "evil.localhost:8123",
            "127.0.0.1:8124",
            "127.0.0.1",
            "192.168.1.10:8123",
            "[::1]",
            "[::1:8123",
            "",
            "localhost:8123:1",
        ] {
            assert!(!r.allows(bad), "{bad}");
        }
        let lan = HostRule {
            port: 80,
            any_ip: true,
        };
        assert!(lan.allows("192.168.1.10") && lan.allows("[fe80::1]:80"));
        assert!(!lan.allows("rebind.example"));
    }

    #[test]
    fn posts_need_the_token_and_the_same_origin() {
        let g = Guard::new(HostRule {
            port: 9,
            any_ip: false,
        })
        .unwrap();
        assert_eq!(g.token.len(), 32);
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:9"));
        assert!(g.check_post(&h, Some(&g.token)).is_ok());
        assert!(g.check_post(&h, None).is_err());
        assert!(g.check_post(&h, Some("0".repeat(32).as_str())).is_err());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:9"),
        );
        assert!(g.check_post(&h, Some(&g.token)).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(g.check_post(&h, Some(&g.token)).is_err());
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(g.check_post(&h, Some(&g.token)).is_err());
        h.remove(header::ORIGIN);
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(g.check_post(&h, Some(&g.token)).is_err());
    }
}
