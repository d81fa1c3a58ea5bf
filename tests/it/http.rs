//! A small HTTP/1.1 client for `cram serve` on loopback (raw requests, so
//! tests can send what a browser would not) and the bounded load run.
//! Shared by the integration tests and `benches/serve.rs` (`#[path]`).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

/// One HTTP response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `raw` on a new connection and reads the whole response.
pub fn send(addr: SocketAddr, raw: &[u8]) -> std::io::Result<Resp> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    // A server may answer (and close) before a huge request is all sent.
    let _ = s.write_all(raw);
    let mut bytes = Vec::new();
    let _ = s.read_to_end(&mut bytes);
    parse(&bytes)
        .map(|(r, _)| r)
        .ok_or_else(|| std::io::Error::other(format!("no HTTP response ({} bytes)", bytes.len())))
}

/// Parses one response at the start of `bytes`: the response and its length.
fn parse(bytes: &[u8]) -> Option<(Resp, usize)> {
    let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&bytes[..head_end]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let len = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(bytes.len() - head_end - 4);
    let start = head_end + 4;
    let body = bytes.get(start..start + len)?;
    Some((
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(body).into_owned(),
        },
        start + len,
    ))
}

/// A keep-alive connection for the load test.
pub struct Conn {
    stream: BufReader<TcpStream>,
    host: String,
}

impl Conn {
    pub fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let s = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
        s.set_read_timeout(Some(Duration::from_secs(60)))?;
        s.set_nodelay(true)?;
        Ok(Conn {
            stream: BufReader::new(s),
            host: addr.to_string(),
        })
    }

    /// GET `path`: status, `Server-Timing` value, body length.
    pub fn get(&mut self, path: &str) -> std::io::Result<(u16, String, usize)> {
        let req = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", self.host);
        self.stream.get_mut().write_all(req.as_bytes())?;
        let mut status = 0u16;
        let mut len = 0usize;
        let mut timing = String::new();
        let mut line = String::new();
        loop {
            line.clear();
            if self.stream.read_line(&mut line)? == 0 {
                return Err(std::io::Error::other("connection closed"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if status == 0 {
                status = l
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
            } else if let Some((n, v)) = l.split_once(':') {
                let n = n.trim().to_ascii_lowercase();
                if n == "content-length" {
                    len = v.trim().parse().unwrap_or(0);
                } else if n == "server-timing" {
                    timing = v.trim().to_string();
                }
            }
        }
        let mut body = vec![0u8; len];
        self.stream.read_exact(&mut body)?;
        Ok((status, timing, len))
    }
}

/// `total;dur=1.234` out of a `Server-Timing` value.
pub fn timing_total(v: &str) -> Option<f64> {
    timing_part(v, "total")
}

/// `NAME;dur=MS` out of a `Server-Timing` value.
pub fn timing_part(v: &str, name: &str) -> Option<f64> {
    v.split(',')
        .find_map(|p| p.trim().strip_prefix(name)?.strip_prefix(";dur="))
        .and_then(|d| d.parse().ok())
}

pub fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// Paths for the load test: answers to dev questions, every note, the home page.
pub fn load_paths() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dev = cram::eval::load_dev_queries(&root.join("tests/data/dev_queries.tsv")).unwrap();
    let mut paths: Vec<String> = dev
        .iter()
        .take(60)
        .map(|q| {
            let enc: String = q
                .query
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            format!("/ask?q={enc}")
        })
        .collect();
    paths.extend((1..=55).map(|i| format!("/note/q{i:02}")));
    paths.push("/".into());
    paths
}

/// Runs `clients` keep-alive clients, `per_client` GETs each, cycling through
/// `paths`: (path kind, client ms, server ms) per request and the errors.
pub fn load(
    addr: SocketAddr,
    paths: &[String],
    clients: usize,
    per_client: usize,
) -> (Vec<(char, f64, f64)>, Vec<String>) {
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let paths = paths.to_vec();
            std::thread::spawn(move || {
                let mut out = Vec::new();
                let mut errors = Vec::new();
                let mut conn = Conn::open(addr);
                for i in 0..per_client {
                    let path = &paths[(c * 37 + i * 7) % paths.len()];
                    let kind = path.chars().nth(1).unwrap_or('h');
                    let t = Instant::now();
                    let got = match conn.as_mut() {
                        Ok(k) => k.get(path),
                        Err(e) => Err(std::io::Error::other(e.to_string())),
                    };
                    let ms = t.elapsed().as_secs_f64() * 1e3;
                    match got {
                        Ok((200, timing, len)) if len > 0 => {
                            out.push((kind, ms, timing_total(&timing).unwrap_or(f64::NAN)))
                        }
                        Ok((status, ..)) => errors.push(format!("{path}: status {status}")),
                        Err(e) => {
                            errors.push(format!("{path}: {e}"));
                            conn = Conn::open(addr);
                        }
                    }
                }
                (out, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = Vec::new();
    for t in threads {
        let (o, e) = t.join().unwrap();
        all.extend(o);
        errors.extend(e);
    }
    (all, errors)
}

/// p50 and p99 of the client and server times of the requests of `kind`.
pub fn summary(rows: &[(char, f64, f64)], kind: Option<char>) -> String {
    let pick = |f: fn(&(char, f64, f64)) -> f64| -> Vec<f64> {
        rows.iter()
            .filter(|r| kind.is_none_or(|k| r.0 == k))
            .map(f)
            .collect()
    };
    let mut client = pick(|r| r.1);
    let mut server = pick(|r| r.2);
    format!(
        "{} requests: client p50 {:.1} ms, p99 {:.1} ms; server p50 {:.2} ms, p99 {:.2} ms",
        client.len(),
        percentile(&mut client, 0.5),
        percentile(&mut client, 0.99),
        percentile(&mut server, 0.5),
        percentile(&mut server, 0.99)
    )
}
