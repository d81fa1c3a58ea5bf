//! `cram serve` speed (run: `cargo bench --locked --bench serve`, after
//! `make setup`): server time of the answer and note pages, warm, one
//! request at a time, from each response's `Server-Timing` header (`engine`:
//! `Engine::ask`; `render`: the page; `total`: router in to response out),
//! and client round trips; then the load run of the integration test, 20
//! keep-alive clients x 100 requests on loopback, with its errors. Between the
//! two, the same questions go straight into an `Engine` in the bench's own
//! process, for what the page adds to `Engine::ask` in the same minute.
//!
//! The server runs on the project's index (`corpus/`, `index/`) with a
//! throwaway drill progress file; it listens on 127.0.0.1 only.

#[path = "../tests/it/http.rs"]
mod http;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use http::{Conn, load, load_paths, percentile, summary, timing_part};

/// p50 / p95 / p99 of `v`, in ms.
fn line(name: &str, v: &mut [f64]) {
    println!(
        "  {name:<22} n {:>4}  p50 {:>7.2}  p95 {:>7.2}  p99 {:>7.2}",
        v.len(),
        percentile(v, 0.5),
        percentile(v, 0.95),
        percentile(v, 0.99)
    );
}

/// The server, stopped however the bench ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let child = Command::new(env!("CARGO_BIN_EXE_cram"))
        .args(["serve", "-q"])
        .env("CRAM_DRILL_PROGRESS", tmp.path().join("drill.json"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cram serve starts");
    let mut server = Server(child);
    let mut url = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let addr: SocketAddr = url
        .trim()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|_| panic!("cram serve printed {url:?}"));
    let paths = load_paths();
    let mut conn = Conn::open(addr).unwrap();
    for p in &paths {
        let (status, ..) = conn.get(p).unwrap();
        assert_eq!(status, 200, "{p}");
    }
    // One request at a time, warm: every path three times.
    let mut t: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for _ in 0..3 {
        for p in &paths {
            let started = Instant::now();
            let (status, timing, _) = conn.get(p).unwrap();
            let client = started.elapsed().as_secs_f64() * 1e3;
            assert_eq!(status, 200, "{p}");
            let kind = match p.as_bytes().get(1) {
                Some(b'a') => "answer",
                Some(b'n') => "note",
                _ => "home",
            };
            for part in ["total", "engine", "render"] {
                if let Some(ms) = timing_part(&timing, part) {
                    t.entry(format!("{kind} server {part}"))
                        .or_default()
                        .push(ms);
                }
            }
            t.entry(format!("{kind} client")).or_default().push(client);
        }
    }
    println!("cram serve, warm, one request at a time (ms):");
    for (name, v) in t.iter_mut() {
        line(name, v);
    }
    // The same questions straight into an engine in this process, right
    // after: what the page adds to `Engine::ask` under the same conditions.
    let (mut engine, _) = cram::Engine::open(
        &cram::Paths::defaults(),
        &cram::OpenOptions::default(),
        &mut |_| {},
    )
    .expect("the project's index");
    engine.load_model().expect("the model");
    let questions: Vec<String> = cram::eval::load_dev_queries(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dev_queries.tsv"),
    )
    .unwrap()
    .into_iter()
    .take(60)
    .map(|q| q.query)
    .collect();
    let p = cram::SearchParams::default();
    for q in &questions {
        engine.ask(q, &p).unwrap();
    }
    let mut alone = Vec::new();
    for _ in 0..3 {
        for q in &questions {
            let started = Instant::now();
            engine.ask(q, &p).unwrap();
            alone.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    drop(engine);
    line("Engine::ask in-process", &mut alone);
    let started = Instant::now();
    let (rows, errors) = load(addr, &paths, 20, 100);
    let wall = started.elapsed().as_secs_f64();
    println!(
        "load: 20 clients x 100 requests in {wall:.1} s ({:.0}/s), {} errors",
        rows.len() as f64 / wall,
        errors.len()
    );
    println!("  all: {}", summary(&rows, None));
    println!("  answers: {}", summary(&rows, Some('a')));
    println!("  notes: {}", summary(&rows, Some('n')));
    drop(server);
    assert!(errors.is_empty(), "{errors:?}");
}
