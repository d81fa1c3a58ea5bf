//! `cram serve` in a real browser: headless Chromium driven over WebDriver
//! (Debian's `chromium` and `chromium-driver`, through the `fantoccini`
//! client). Search, answer, a citation that scrolls the note to its
//! passage, MathML with a size, a drill card answered and graded into the
//! progress file, a rebound Host refused, a hostile note shown as text, and
//! screenshots of every page at 1280 and 390 pixels into
//! `target/tmp/screenshots/`. Skips without a browser; fails under `CI=true`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use super::serve::{Served, evil_sandbox};
use crate::util::require_model;

/// Chromium and chromedriver, found (`CRAM_CHROMIUM`, `CRAM_CHROMEDRIVER`
/// override), or why not.
fn browser_binaries() -> Result<(PathBuf, PathBuf), String> {
    let find = |var: &str, names: &[&str]| -> Option<PathBuf> {
        if let Some(p) = std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_file())
        {
            return Some(p);
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        names.iter().find_map(|n| {
            std::env::split_paths(&path)
                .chain([
                    PathBuf::from("/usr/bin"),
                    PathBuf::from("/usr/lib/chromium"),
                ])
                .map(|d| d.join(n))
                .find(|p| p.is_file())
        })
    };
    let chromium = find(
        "CRAM_CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    )
    .ok_or("no chromium on PATH (apt-get install chromium chromium-driver)")?;
    let driver = find("CRAM_CHROMEDRIVER", &["chromedriver"])
        .ok_or("no chromedriver on PATH (apt-get install chromium-driver)")?;
    Ok((chromium, driver))
}

/// The binaries, or `None` after saying why the test skips (a failure under CI).
fn require_browser() -> Option<(PathBuf, PathBuf)> {
    match browser_binaries() {
        Ok(b) => Some(b),
        Err(why) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{why}: CI must run the browser tests (.ci/run installs them)");
            }
            eprintln!("skipping the browser test: {why}");
            None
        }
    }
}

/// A chromedriver process and a browser session on it.
struct Browser {
    client: Client,
    driver: Child,
}

/// Chromium's flags: headless, no sandbox (tests run as root in CI), and no
/// traffic anywhere but loopback: background services off, and every name
/// except localhost (and `rebind.example`, pointed at 127.0.0.1 to play a
/// DNS-rebinding page) resolved to nothing.
fn chromium_args(width: u32, height: u32, dark: bool) -> Vec<String> {
    let mut args: Vec<String> = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-domain-reliability",
        "--disable-sync",
        "--disable-extensions",
        "--disable-default-apps",
        "--metrics-recording-only",
        "--no-pings",
        "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
        "--host-resolver-rules=MAP rebind.example 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    ]
    .map(String::from)
    .to_vec();
    args.push(format!("--window-size={width},{height}"));
    if dark {
        args.push("--force-dark-mode".into());
    }
    args
}

impl Browser {
    async fn start(chromium: &Path, driver: &Path, dark: bool) -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = Command::new(driver);
        cmd.arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group, with the browser it starts: a failed test
        // ends them all (see `Drop`).
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                end_group(&mut child);
                panic!("chromedriver did not start on port {port}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": chromium, "args": chromium_args(1280, 900, dark)}),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| {
                end_group(&mut child);
                panic!("no browser session: {e}")
            });
        Browser {
            client,
            driver: child,
        }
    }

    async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(60))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
    }

    /// Clicks the element `css` selects, once it is there.
    async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.unwrap();
    }

    /// Saves a screenshot of the window as `name.png` and checks the page
    /// does not scroll sideways.
    async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
        let overflow = self
            .js("return [document.documentElement.scrollWidth, window.innerWidth]")
            .await;
        let (w, inner) = (overflow[0].as_f64().unwrap(), overflow[1].as_f64().unwrap());
        assert!(
            w <= inner + 1.0,
            "{name}: the page is {w} px wide in a {inner} px window"
        );
    }

    /// Ends the session (the browser quits); `Drop` then ends chromedriver.
    async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        end_group(&mut self.driver);
    }
}

/// Kills chromedriver and everything in its process group (the browser).
fn end_group(driver: &mut Child) {
    #[cfg(unix)]
    if let Ok(pid) = i32::try_from(driver.id()) {
        // SAFETY: kill(2) with a negative pid signals that process group
        // only: the one chromedriver was started in, of its own.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = driver.kill();
    let _ = driver.wait();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Search from the home page, open the first citation, and check that the
/// note is scrolled to that passage.
async fn search_and_follow_a_citation(b: &Browser, s: &Served) {
    b.goto(&s.url).await;
    b.shot("home-1280").await;
    let input = b.wait_for("form.search.big input[name=q]").await;
    input
        .send_keys("why does dropout hurt transformers")
        .await
        .unwrap();
    b.click("form.search.big button").await;
    b.wait_for("article.passage").await;
    assert!(
        b.client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .contains("/ask?q=why+does+dropout")
    );
    b.shot("answer-1280").await;
    let cite = b.wait_for("article.passage a.cite").await;
    let href = cite.attr("href").await.unwrap().unwrap();
    let (_, anchor) = href.split_once('#').expect("a citation names its passage");
    cite.click().await.unwrap();
    b.wait_for("article.note").await;
    let url = b.client.current_url().await.unwrap();
    assert_eq!(url.fragment(), Some(anchor), "{url}");
    let at = b
        .js(
            "const el = document.getElementById(decodeURIComponent(location.hash.slice(1)));\
             if (!el) return null;\
             const r = el.getBoundingClientRect();\
             return [r.top, window.scrollY, window.innerHeight, el.tagName, el.textContent.slice(0, 60)];",
        )
        .await;
    assert!(!at.is_null(), "no element with id {anchor}");
    let (top, scroll, height) = (
        at[0].as_f64().unwrap(),
        at[1].as_f64().unwrap(),
        at[2].as_f64().unwrap(),
    );
    assert!(scroll > 0.0, "the note did not scroll: {at}");
    assert!(
        (0.0..height / 2.0).contains(&top),
        "passage {anchor} is not at the top: {at}"
    );
}

/// A question typed into an answer page's search box is read as a follow-up
/// of that answer's topic, as in `cram repl` (the form carries the topic).
async fn ask_a_follow_up(b: &Browser, s: &Served, first: &str, follow_up: &str) {
    let mut f = form_urlencoded::Serializer::new(String::new());
    f.append_pair("q", first);
    b.goto(&format!("{}ask?{}", s.url, f.finish())).await;
    b.wait_for("article.passage").await;
    let input = b.wait_for("header.top form.search input[name=q]").await;
    input.clear().await.unwrap();
    input.send_keys(follow_up).await.unwrap();
    b.click("header.top form.search button").await;
    let understood = b.wait_for("p.understood").await.text().await.unwrap();
    assert!(
        understood.contains("read as a follow-up to"),
        "{understood}"
    );
    let url = b.client.current_url().await.unwrap();
    assert!(url.as_str().contains("after_note="), "{url}");
}

/// Every formula of q18 is MathML with a size, and a display fraction is
/// typeset on two levels.
async fn math_is_typeset(b: &Browser, s: &Served, shot: &str) {
    b.goto(&format!("{}note/q18", s.url)).await;
    b.wait_for("article.note").await;
    let m = b
        .js(
            "const ms = [...document.querySelectorAll('math')];\
             const sizes = ms.map(m => { const r = m.getBoundingClientRect(); return [m.namespaceURI, r.width, r.height]; });\
             const frac = document.querySelector('math[display=block] mfrac');\
             const mi = document.querySelector('math[display=block] mi');\
             return [sizes, frac ? frac.getBoundingClientRect().height : 0, mi ? mi.getBoundingClientRect().height : 0,\
                     document.querySelectorAll('.tex').length];",
        )
        .await;
    let sizes = m[0].as_array().unwrap();
    assert!(sizes.len() > 10, "{m}");
    for s in sizes {
        assert_eq!(s[0], "http://www.w3.org/1998/Math/MathML", "{s}");
        assert!(
            s[1].as_f64().unwrap() > 0.0 && s[2].as_f64().unwrap() > 0.0,
            "a formula with no size: {s}"
        );
    }
    let (frac, mi) = (m[1].as_f64().unwrap(), m[2].as_f64().unwrap());
    assert!(
        frac > 1.5 * mi,
        "the display fraction is not typeset ({frac} vs {mi} px)"
    );
    assert_eq!(m[3], 0, "TeX fell back on the page");
    b.shot(shot).await;
}

/// A drill card: type, reveal, grade 3; the grade is in the progress file.
async fn drill_a_card(b: &Browser, s: &Served, width: u32, grade: bool) {
    b.goto(&format!("{}drill?new=1", s.url)).await;
    let id = b
        .wait_for("form.reveal input[name=id]")
        .await
        .attr("value")
        .await
        .unwrap()
        .unwrap();
    b.shot(&format!("drill-{width}")).await;
    let text = b.wait_for("textarea[name=answer]").await;
    text.send_keys("the model fits noise in the training data; regularization and more data help")
        .await
        .unwrap();
    b.click("form.reveal button.primary").await;
    b.wait_for("form.grade").await;
    let shown = b
        .js("return document.querySelector('section.short').textContent.length")
        .await;
    assert!(shown.as_u64().unwrap() > 40, "no short answer");
    b.shot(&format!("drill-answer-{width}")).await;
    if !grade {
        return;
    }
    b.click("form.grade button[value='3']").await;
    let flash = b.wait_for("p.flash").await.text().await.unwrap();
    assert!(flash.contains(&format!("{id} graded good")), "{flash}");
    let p: Value = serde_json::from_slice(&std::fs::read(&s.progress).unwrap()).unwrap();
    assert_eq!(p["cards"][&id]["last_grade"], "good", "{p}");
    assert_eq!(p["log"][0]["id"], id.as_str(), "{p}");
    assert!(
        p["log"][0]["covered"].is_array(),
        "the typed answer's key terms: {p}"
    );
}

#[test]
fn browser_search_citation_math_drill_and_screenshots() {
    if !require_model() {
        return;
    }
    let Some((chromium, driver)) = require_browser() else {
        return;
    };
    let (first, follow_up) = crate::util::follow_up_pair();
    let s = Served::bundled();
    runtime().block_on(async {
        let b = Browser::start(&chromium, &driver, false).await;
        b.client.set_window_size(1280, 900).await.unwrap();
        search_and_follow_a_citation(&b, &s).await;
        ask_a_follow_up(&b, &s, &first, &follow_up).await;
        math_is_typeset(&b, &s, "note-1280").await;
        drill_a_card(&b, &s, 1280, true).await;
        // A phone-width window: every page readable without sideways scrolling.
        b.client.set_window_size(390, 844).await.unwrap();
        b.goto(&s.url).await;
        b.shot("home-390").await;
        b.goto(&format!(
            "{}ask?q=why+does+dropout+hurt+transformers",
            s.url
        ))
        .await;
        b.wait_for("article.passage").await;
        b.shot("answer-390").await;
        math_is_typeset(&b, &s, "note-390").await;
        drill_a_card(&b, &s, 390, false).await;
        b.close().await;

        // The system's dark mode.
        let d = Browser::start(&chromium, &driver, true).await;
        d.client.set_window_size(1280, 900).await.unwrap();
        let dark = d
            .js("return matchMedia('(prefers-color-scheme: dark)').matches")
            .await;
        if dark == Value::Bool(true) {
            d.goto(&format!("{}note/q18#mechanism-and-math", s.url))
                .await;
            d.wait_for("article.note").await;
            let bg = d
                .js("return getComputedStyle(document.body).backgroundColor")
                .await;
            assert_eq!(bg, "rgb(22, 23, 25)", "the dark palette");
            d.shot("note-dark-1280").await;
        } else {
            eprintln!("this Chromium ignores --force-dark-mode: no dark screenshot");
        }
        d.close().await;
    });
}

#[test]
fn browser_refuses_a_rebound_host_and_runs_no_note_script() {
    if !require_model() {
        return;
    }
    let Some((chromium, driver)) = require_browser() else {
        return;
    };
    let sb = evil_sandbox();
    let s = Served::sandbox(&sb);
    let port = s.addr.port();
    runtime().block_on(async {
        let b = Browser::start(&chromium, &driver, false).await;
        // A page on another name that resolves to 127.0.0.1 (DNS rebinding).
        b.goto(&format!("http://rebind.example:{port}/")).await;
        let title = b.client.title().await.unwrap();
        assert!(title.starts_with("403"), "{title}");
        let body = b.js("return document.body.textContent").await;
        assert!(body.as_str().unwrap().contains(&format!("localhost:{port}")), "{body}");
        assert!(!body.as_str().unwrap().contains("What do you want to revise"));

        // The hostile note: its script, image and links do nothing.
        b.goto(&format!("{}note/mine/evil.md", s.url)).await;
        b.wait_for("article.note").await;
        let state = b
            .js("return [window.__pwned === undefined, document.scripts.length, document.querySelector('h1').textContent]")
            .await;
        assert_eq!(state[0], true, "note script ran: {state}");
        assert_eq!(state[1], 1, "{state}");
        assert!(state[2].as_str().unwrap().contains("<script>window.__pwned = 1</script>"), "{state}");
        assert!(b.client.get_alert_text().await.is_err(), "an alert opened");
        let before = b.client.current_url().await.unwrap();
        let link = b.wait_for("span.link").await;
        link.click().await.unwrap();
        assert_eq!(b.client.current_url().await.unwrap(), before);
        assert_eq!(b.js("return window.__pwned === undefined").await, true);

        // A hostile question typed into the search box is shown as typed.
        let q = "<img src=x onerror=window.__pwned=9> bm25";
        let input = b.wait_for("header.top input[name=q]").await;
        input.send_keys(q).await.unwrap();
        b.click("header.top form.search button").await;
        let h1 = b.wait_for("h1.query").await.text().await.unwrap();
        assert_eq!(h1, q);
        assert_eq!(b.js("return window.__pwned === undefined").await, true);
        assert!(b.client.get_alert_text().await.is_err());
        b.close().await;
    });
}
