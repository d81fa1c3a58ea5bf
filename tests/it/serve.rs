//! `cram serve` over raw HTTP on loopback: pages against `cram ask`, every
//! note's passage anchors, the security checks (Host, CSRF, escaping, path
//! traversal, oversized input), the drill on the shared progress file, the
//! index refresh, and a bounded load test (20 clients, 2,000 requests).
//! Real-browser tests are in `browser.rs`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use super::http::{Resp, load, load_paths, send, summary, timing_total};
use crate::util::{Sandbox, bundled_engine, bundled_paths, require_model, root};

/// A running `cram serve`, killed when dropped.
pub struct Served {
    child: Child,
    pub addr: SocketAddr,
    pub url: String,
    pub progress: PathBuf,
    stderr: PathBuf,
    _dir: tempfile::TempDir,
}

impl Served {
    /// `cram serve` on the shared index of the bundled notes, with a fresh
    /// progress file.
    pub fn bundled() -> Served {
        let p = bundled_paths();
        let mut c = Command::new(env!("CARGO_BIN_EXE_cram"));
        c.env("CRAM_CORPUS", root().join("corpus"))
            .env("CRAM_INDEX", &p.index)
            .env("CRAM_MODEL_DIR", &p.model_dir);
        Served::start(c, &[])
    }

    /// `cram serve` on a sandbox's notes and index.
    pub fn sandbox(s: &Sandbox) -> Served {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cram"));
        c.env("CRAM_CORPUS", s.corpus())
            .env("CRAM_INDEX", s.index());
        Served::start(c, &[])
    }

    /// `c` (`cram` with its environment) run as `cram serve -q EXTRA...`.
    fn start(mut c: Command, extra: &[&str]) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let progress = dir.path().join("drill.json");
        let stderr = dir.path().join("stderr.txt");
        let mut child = c
            .args(["serve", "-q"])
            .args(extra)
            .env("CRAM_DRILL_PROGRESS", &progress)
            .env("NO_COLOR", "1")
            .env_remove("CRAM_ORT_LIB")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().to_string();
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "cram serve printed {url:?}; stderr: {}",
            std::fs::read_to_string(&stderr).unwrap_or_default()
        );
        let addr: SocketAddr = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap();
        Served {
            child,
            addr,
            url,
            progress,
            stderr,
            _dir: dir,
        }
    }

    /// The `Host` header a browser would send.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// A GET with the right `Host`.
    pub fn get(&self, path: &str) -> Resp {
        self.send(&format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.host()
        ))
    }

    /// A raw request (sent as is; the connection is read to its end).
    pub fn send(&self, raw: &str) -> Resp {
        send(self.addr, raw.as_bytes()).unwrap_or_else(|e| panic!("request failed: {e}"))
    }

    /// A form POST with the right `Host` and the given extra headers.
    pub fn post(&self, path: &str, form: &str, extra: &str) -> Resp {
        self.send(&format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\n{extra}Connection: close\r\n\r\n{form}",
            self.host(),
            form.len()
        ))
    }

    /// What the server wrote on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let err = self.stderr();
            assert!(!err.contains("panicked"), "cram serve panicked:\n{err}");
        }
    }
}

/// The `value` of the first `<input name="NAME" ... value="...">` in a page.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let v = tag.split("value=\"").nth(1)?;
    Some(v[..v.find('"')?].to_string())
}

#[test]
fn pages_are_cram_ask_and_every_note_has_its_passage_anchors() {
    if !require_model() {
        return;
    }
    let s = Served::bundled();
    let mut engine = bundled_engine();
    // The answer page shows what `cram ask` answers: its closest question and
    // every passage, cited and linked into the note at the passage.
    for q in [
        "what is TTFT",
        "why does dropout hurt transformers",
        "how do I cook risotto",
    ] {
        let page = s.get(&format!("/ask?q={}", q.replace(' ', "+")));
        assert_eq!(page.status, 200, "{q}: {}", page.body);
        let a = engine.ask(q, &cram::SearchParams::default()).unwrap();
        for r in &a.results {
            let (note, anchor) = r.chunk_id.split_once('#').unwrap();
            let href = format!("href=\"/note/{note}#{anchor}\"");
            assert!(page.body.contains(&href), "{q}: no link {href}");
            let cite = format!("{}:{}–{}", r.path, r.lines[0], r.lines[1]);
            assert!(page.body.contains(&cite), "{q}: no citation {cite}");
        }
        if a.abstained {
            assert!(
                page.body.contains("Not covered") || page.body.contains("Nothing in the notes"),
                "{q}"
            );
        } else {
            let top = &a.questions[0].id;
            assert!(
                page.body.contains(&format!("href=\"/note/{top}\"")),
                "{q}: closest {top}"
            );
            assert!(page.body.matches("<li>").count() >= a.key_points.len());
        }
        let t = timing_total(page.header("server-timing").unwrap()).unwrap();
        assert!(t > 0.0);
    }
    // The home page lists every question; every note page has one anchor per
    // passage and the passage's lines.
    let home = s.get("/");
    assert_eq!(home.status, 200);
    let notes = engine.notes().to_vec();
    assert_eq!(notes.len(), 55);
    for n in &notes {
        assert!(
            home.body.contains(&format!("href=\"/note/{}\"", n.id)),
            "{}",
            n.id
        );
        let page = s.get(&format!("/note/{}", n.id));
        assert_eq!(page.status, 200, "{}", n.id);
        let chunks: Vec<_> = engine
            .generation()
            .chunks
            .iter()
            .filter(|c| c.note_id == n.id)
            .collect();
        assert!(!chunks.is_empty());
        for c in chunks {
            let anchor = c.id.split_once('#').unwrap().1;
            assert!(
                page.body.contains(&format!("id=\"{anchor}\"")),
                "{}: no anchor {anchor}",
                c.id
            );
            assert!(
                page.body
                    .contains(&format!("{}:{}–{}", c.path, c.line_start, c.line_end)),
                "{}: no line span",
                c.id
            );
        }
        // Math is MathML, and none of it fell back to TeX.
        assert!(
            !page.body.contains("class=\"tex\""),
            "{}: TeX left on the page",
            n.id
        );
    }
    assert!(s.get("/note/q18").body.matches("<math").count() > 10);
}

/// `/ask?q=...` percent-encoded.
fn ask_path(q: &str, extra: &[(&str, &str)]) -> String {
    let mut f = form_urlencoded::Serializer::new(String::new());
    f.append_pair("q", q);
    for (k, v) in extra {
        f.append_pair(k, v);
    }
    format!("/ask?{}", f.finish())
}

/// An attribute value as the page escapes it, back to text.
fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[test]
fn the_page_reads_a_follow_up_like_cram_repl() {
    if !require_model() {
        return;
    }
    let (first, follow_up) = crate::util::follow_up_pair();
    let s = Served::bundled();
    let page = s.get(&ask_path(&first, &[]));
    assert_eq!(page.status, 200, "{}", page.body);
    // The answer's form carries its topic for the next question.
    let after = unescape(&input_value(&page.body, "after").expect("the form carries the topic"));
    let note = unescape(&input_value(&page.body, "after_note").unwrap());
    assert!(note.starts_with('q'), "{note}");
    let next = s.get(&ask_path(
        &follow_up,
        &[("after", &after), ("after_note", &note)],
    ));
    assert_eq!(next.status, 200, "{}", next.body);
    assert!(
        next.body.contains("read as a follow-up to"),
        "{}",
        next.body
    );
    // The follow-up keeps the topic it followed.
    assert_eq!(
        input_value(&next.body, "after_note").map(|v| unescape(&v)),
        Some(note.clone())
    );
    // Alone, or after an off-topic question's topic, it is not a follow-up.
    let alone = s.get(&ask_path(&follow_up, &[]));
    assert!(
        !alone.body.contains("read as a follow-up"),
        "{}",
        alone.body
    );
    // Bad topics: one part only is ignored, an oversized one is refused.
    let half = s.get(&ask_path(&follow_up, &[("after", &after)]));
    assert!(!half.body.contains("read as a follow-up"), "{}", half.body);
    let long = "x".repeat(5000);
    let r = s.get(&ask_path(
        &follow_up,
        &[("after", &long), ("after_note", &note)],
    ));
    assert_eq!(r.status, 400, "{}", r.body);
    let r = s.get(&ask_path(
        &follow_up,
        &[("after", &after), ("after_note", "q99")],
    ));
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("read as a follow-up"), "{}", r.body);
}

#[test]
fn hosts_methods_paths_and_sizes_are_refused_with_a_page() {
    if !require_model() {
        return;
    }
    let s = Served::bundled();
    let port = s.addr.port();
    let req = |host: &str| {
        s.send(&format!(
            "GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        ))
        .status
    };
    for ok in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
    ] {
        assert_eq!(req(&ok), 200, "{ok}");
    }
    for bad in [
        format!("evil.example:{port}"),
        format!("evil.localhost:{port}"),
        format!("127.0.0.1.nip.io:{port}"),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        "127.0.0.1".to_string(),
    ] {
        assert_eq!(req(&bad), 403, "{bad}");
    }
    // No Host at all (HTTP/1.0).
    assert_eq!(s.send("GET / HTTP/1.0\r\n\r\n").status, 403);
    let refused = s.send(&format!(
        "GET / HTTP/1.1\r\nHost: rebind.example:{port}\r\nConnection: close\r\n\r\n"
    ));
    assert!(
        refused.body.contains("localhost:") && refused.header("content-security-policy").is_some()
    );

    // Every response carries the CSP and no CORS header, even when asked.
    let r = s.send(&format!(
        "GET /ask?q=rag HTTP/1.1\r\nHost: {}\r\nOrigin: https://evil.example\r\nConnection: close\r\n\r\n",
        s.host()
    ));
    assert_eq!(r.status, 200);
    let csp = r.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(
        r.headers
            .iter()
            .all(|(n, _)| !n.to_ascii_lowercase().starts_with("access-control"))
    );
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));

    // Paths that try to leave the notes: 4xx, never a file.
    for path in [
        "/note/../../etc/passwd",
        "/note/..%2F..%2F..%2Fetc%2Fpasswd",
        "/note/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/note/%252e%252e%252fetc%252fpasswd",
        "/note//etc/passwd",
        "/note/q14/../../../Cargo.toml",
        "/assets/../../Cargo.toml",
        "/assets/..%2F..%2FCargo.toml",
        "/../../etc/passwd",
        "/note/q99",
        "/note/%00",
        "/nothing-here",
    ] {
        let r = s.get(path);
        assert!((400..500).contains(&r.status), "{path}: {}", r.status);
        assert!(
            !r.body.contains("root:") && !r.body.contains("[package]"),
            "{path}"
        );
        assert!(r.body.contains("<title>"), "{path}: not a page");
    }
    // Unknown methods, oversized input.
    let r = s.send(&format!(
        "PUT /drill/grade HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        s.host()
    ));
    assert!(matches!(r.status, 405), "{}", r.status);
    let r = s.get(&format!("/ask?q={}", "x".repeat(5000)));
    assert_eq!(r.status, 400);
    assert!(r.body.contains("4096"), "{}", r.body);
    assert_eq!(s.get("/ask?q=rag&k=0").status, 400);
    assert_eq!(s.get("/ask?q=rag&k=lots").status, 400);
    let megabyte = format!("/ask?q={}", "a".repeat(1 << 20));
    let r = s.get(&megabyte);
    assert_eq!(r.status, 414, "a 1 MB query string");
    assert!(r.body.contains("KiB"));
    let r = s.post(
        "/drill/reveal",
        &format!("id=q01&answer={}", "a".repeat(200_000)),
        "",
    );
    assert_eq!(r.status, 413);
    // Still serving.
    assert_eq!(s.get("/").status, 200);
}

#[test]
fn drill_forms_need_the_token_and_grades_land_in_the_cli_progress_file() {
    if !require_model() {
        return;
    }
    let s = Served::bundled();
    let q = s.get("/drill?new=1&section=rag");
    assert_eq!(q.status, 200);
    let token = input_value(&q.body, "token").expect("a token in the form");
    let id = input_value(&q.body, "id").expect("a question id");
    // Forged or cross-site posts are refused and save nothing.
    for (form, headers) in [
        (format!("id={id}&grade=3"), String::new()),
        (
            format!("id={id}&grade=3&token=00000000000000000000000000000000"),
            String::new(),
        ),
        (
            format!("id={id}&grade=3&token={token}"),
            "Origin: https://evil.example\r\n".to_string(),
        ),
        (
            format!("id={id}&grade=3&token={token}"),
            "Origin: null\r\n".to_string(),
        ),
        (
            format!("id={id}&grade=3&token={token}"),
            "Sec-Fetch-Site: cross-site\r\n".to_string(),
        ),
    ] {
        let r = s.post("/drill/grade", &form, &headers);
        assert_eq!(r.status, 403, "{form} {headers}");
    }
    assert!(
        !s.progress.exists(),
        "a refused grade wrote the progress file"
    );
    // The reveal shows the short answer and the key-term hint.
    let origin = format!("Origin: http://{}\r\n", s.host());
    let r = s.post(
        "/drill/reveal",
        &format!("token={token}&id={id}&answer=retrieval+grounds+the+answer+in+passages"),
        &origin,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("Short answer") && r.body.contains("key terms"),
        "{}",
        r.body
    );
    assert!(r.body.contains("name=\"grade\" value=\"3\""));
    let r = s.post(
        "/drill/grade",
        &format!("token={token}&id={id}&grade=9"),
        &origin,
    );
    assert_eq!(r.status, 400);
    let r = s.post(
        "/drill/grade",
        &format!("token={token}&id=q99&grade=3"),
        &origin,
    );
    assert_eq!(r.status, 404);
    let r = s.post(
        "/drill/grade",
        &format!("token={token}&id={id}&grade=3&answer=retrieval+grounds+the+answer"),
        &origin,
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.header("location"),
        Some(format!("/drill?graded={id}").as_str())
    );
    let next = s.get(&format!("/drill?graded={id}"));
    assert!(
        next.body.contains(&format!("{id} graded good")),
        "{}",
        next.body
    );
    assert_ne!(input_value(&next.body, "id").as_deref(), Some(id.as_str()));
    // The CLI reads the same file.
    let p: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&s.progress).unwrap()).unwrap();
    assert_eq!(p["cards"][&id]["last_grade"], "good", "{p}");
    assert!(p["log"][0]["covered"].is_array(), "{p}");
    let stats = Command::new(env!("CARGO_BIN_EXE_cram"))
        .args(["drill", "--stats", "--json", "--progress"])
        .arg(&s.progress)
        .env("CRAM_CORPUS", root().join("corpus"))
        .env("CRAM_INDEX", &bundled_paths().index)
        .output()
        .unwrap();
    let st: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(st["total"]["reviews"], 1, "{st}");
}

#[test]
fn bad_flags_exit_2_a_taken_port_exits_7_and_open_without_a_browser_is_a_notice() {
    let bad = Command::new(env!("CARGO_BIN_EXE_cram"))
        .args(["serve", "--listen", "localhost:80"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.starts_with("cram: error: invalid --listen") && err.lines().count() == 1,
        "{err}"
    );
    if !require_model() {
        return;
    }
    let p = bundled_paths();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_cram"))
        .args(["serve", "--port", &port])
        .env("CRAM_CORPUS", root().join("corpus"))
        .env("CRAM_INDEX", &p.index)
        .env("CRAM_MODEL_DIR", &p.model_dir)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("cannot listen on 127.0.0.1:{port}")) && err.contains("--port"),
        "{err}"
    );
    // --open with no opener on PATH: a notice, and the page is served anyway.
    let empty = tempfile::tempdir().unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_cram"));
    c.env("CRAM_CORPUS", root().join("corpus"))
        .env("CRAM_INDEX", &p.index)
        .env("CRAM_MODEL_DIR", &p.model_dir)
        .env("PATH", empty.path());
    let s = Served::start(c, &["--open"]);
    assert_eq!(s.get("/").status, 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !s.stderr().contains("could not open a browser") {
        assert!(Instant::now() < deadline, "no notice: {}", s.stderr());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A note that tries to run script and carry a `javascript:` link.
pub const EVIL_NOTE: &str = "# Evil <script>window.__pwned = 1</script> note\n\n\
<script>window.__pwned = 2; alert('pwned')</script>\n\n\
A [harmless looking link](javascript:window.__pwned=3) and \
<img src=x onerror=\"window.__pwned=4\"> inline, \
[data](data:text/html,<script>alert(1)</script>) and [tab](java\tscript:alert(5)).\n\n\
\"><svg onload=alert(6)> $\\text{</math><script>alert(7)</script>}$ `<b>code</b>`\n";

/// A sandbox with the fixture notes and a user folder `mine/` holding [`EVIL_NOTE`], indexed.
pub fn evil_sandbox() -> Sandbox {
    let sb = Sandbox::fixture();
    let mine = sb.user_folder("mine");
    std::fs::write(mine.join("evil.md"), EVIL_NOTE).unwrap();
    sb.cram()
        .args(["index", "-q", "--notes"])
        .arg(&mine)
        .assert()
        .success();
    sb
}

/// Every `href="..."` value in a page.
fn hrefs(html: &str) -> Vec<&str> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect()
}

#[test]
fn a_note_with_script_and_javascript_links_shows_text_and_notes_refresh() {
    if !require_model() {
        return;
    }
    let sb = evil_sandbox();
    let s = Served::sandbox(&sb);
    let home = s.get("/");
    assert!(
        home.body.contains("href=\"/note/mine/evil.md\""),
        "{}",
        home.body
    );
    let page = s.get("/note/mine/evil.md");
    assert_eq!(page.status, 200);
    let b = &page.body;
    // One script element on the page: ours.
    assert_eq!(b.matches("<script").count(), 1, "{b}");
    assert!(b.contains("<script src=\"/assets/cram.js\" defer></script>"));
    for h in hrefs(b) {
        let l = h.to_ascii_lowercase();
        assert!(
            !l.contains("javascript") && !l.contains("script:") && !l.starts_with("data:"),
            "href {h}"
        );
    }
    // Tags and attributes only as escaped text.
    for bad in ["<img", "<svg", "<b>", "=\"window"] {
        assert!(!b.contains(bad), "{bad} in {b}");
    }
    assert!(
        b.contains("&lt;script&gt;window.__pwned = 2"),
        "the script is shown as text"
    );
    assert!(b.contains("<span class=\"link\">harmless looking link</span>"));
    // The question typed into the search box is escaped too.
    let q = s.get("/ask?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E+bm25");
    assert_eq!(q.body.matches("<script").count(), 1);
    assert!(
        q.body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; bm25")
    );

    // A new note appears without restarting the server (checked at most once a second).
    std::fs::write(
        sb.dir.path().join("mine/new.md"),
        "# Speculative decoding\n\nA small draft model proposes tokens that the large model verifies in one pass.\n",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let home = s.get("/");
        if home.body.contains("/note/mine/new.md") {
            break;
        }
        assert!(Instant::now() < deadline, "the new note never appeared");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn load_20_clients_2000_requests_without_an_error() {
    if !require_model() {
        return;
    }
    let s = Served::bundled();
    let paths = load_paths();
    // Warm up: the model, the note terms, the page cache of the index.
    for p in paths.iter().step_by(5) {
        assert_eq!(s.get(p).status, 200, "{p}");
    }
    let t = Instant::now();
    let (rows, errors) = load(s.addr, &paths, 20, 100);
    let wall = t.elapsed().as_secs_f64();
    eprintln!(
        "cram serve load: 20 clients x 100 requests in {wall:.1} s ({:.0}/s), {} errors\n  all: {}\n  answers: {}\n  notes: {}",
        rows.len() as f64 / wall,
        errors.len(),
        summary(&rows, None),
        summary(&rows, Some('a')),
        summary(&rows, Some('n')),
    );
    assert!(
        errors.is_empty(),
        "{} errors: {:?}",
        errors.len(),
        &errors[..errors.len().min(10)]
    );
    assert_eq!(rows.len(), 2000);
}
