//! `cram serve`: the notes as a local study page in the browser.
//!
//! A thin layer over the same [`Engine`] and [`crate::Answer`] as `cram ask`,
//! loaded once and kept fresh by [`Live`] (reopened when a note changes, as
//! `cram mcp` does). Pages:
//!
//! * `/`: a search box, the questions by section, how many drill questions are due;
//! * `/ask?q=...`: the answer `cram ask` gives (closest questions, key points
//!   with `[n]`, cited passages, "not covered"), each citation a link to the
//!   note at that passage, query terms marked;
//! * `/note/q14`: the whole note, math as MathML written on the server
//!   ([`crate::render::html`], [`crate::render::tex::mathml`]), one anchor per
//!   passage id (`/note/q14#mechanism-and-math`) with its lines;
//! * `/drill`: the sitting of `cram drill` ([`drill::Session`]), grades saved
//!   by [`drill::Progress::record`] to the same file, lock and atomic write.
//!
//! Everything works without JavaScript (links and forms); `cram.js` only adds
//! keyboard shortcuts. Styles, script and icon are compiled into the binary.
//! The security model is in [`security`].

mod assets;
mod drill_pages;
mod note;
mod pages;
mod security;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, TryLockError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, RawQuery, Request, State as AxumState};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::error::{Error, Result};
use crate::frontend::live::Live;
use crate::retrieval::engine::Earlier;
use crate::study::drill::{self, NoteTerms};
use crate::{Engine, Paths, SearchParams};

use security::{Guard, HostRule};

/// Longest request head (request line and headers) read: a longer one is
/// answered by hyper with 431. Large enough for hyper's longest request line
/// (64 KiB), so a long query string reaches [`security::guard`] and gets a
/// page of its own (414).
pub const MAX_HEAD_BYTES: usize = 96 << 10;

/// Longest form body accepted (a typed drill answer and a few fields).
pub const MAX_BODY_BYTES: usize = 64 << 10;

/// How long a client may take to send a request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// What `cram serve` was asked to do, validated.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to listen (port 0: a free one).
    pub addr: SocketAddr,
    /// Open the page in the default browser once listening.
    pub open: bool,
    /// The drill's progress file.
    pub progress: PathBuf,
}

/// Where the server listens, once it does.
#[derive(Debug, Clone)]
pub struct Listening {
    /// The address bound (with the port chosen).
    pub addr: SocketAddr,
    /// The page's URL.
    pub url: String,
}

/// The server's state, shared by every request.
pub(crate) struct State {
    shared: Mutex<Shared>,
    /// One request at a time for the engine, waiting without a thread.
    engine_turn: Arc<tokio::sync::Semaphore>,
    /// The notes and passages, for pages that only read them (home, note):
    /// they never wait behind a question being answered.
    view: RwLock<Arc<NotesView>>,
    pub(crate) guard: Guard,
    pub(crate) progress: PathBuf,
}

/// What requests take turns on: the engine and the drill sitting.
pub(crate) struct Shared {
    pub(crate) live: Live,
    /// The drill's key-term statistics, for the engine generation they were computed on.
    terms: Option<(u64, Arc<NoteTerms>)>,
    /// The sitting in progress, if any.
    pub(crate) sitting: Option<drill_pages::Sitting>,
}

impl Shared {
    /// The drill's key-term statistics over the current notes.
    pub(crate) fn terms(&mut self) -> Arc<NoteTerms> {
        let generation = self.live.generation();
        match &self.terms {
            Some((g, t)) if *g == generation => t.clone(),
            _ => {
                let t = Arc::new(NoteTerms::new(self.live.engine().notes()));
                self.terms = Some((generation, t.clone()));
                t
            }
        }
    }
}

/// The notes and their passages as of one engine generation.
pub(crate) struct NotesView {
    generation: u64,
    pub(crate) notes: Vec<crate::index::NoteRecord>,
    pub(crate) chunks: Vec<crate::index::chunk::Chunk>,
}

impl NotesView {
    fn of(live: &Live) -> NotesView {
        let g = live.engine().generation();
        NotesView {
            generation: live.generation(),
            notes: g.notes.clone(),
            chunks: g.chunks.clone(),
        }
    }

    /// A note by id (`q14`, `14`, `mine/kv.md`).
    pub(crate) fn note(&self, id: &str) -> Option<&crate::index::NoteRecord> {
        let id = crate::index::corpus::normalize_id(id);
        self.notes.iter().find(|n| n.id == id)
    }
}

impl State {
    /// The engine and sitting, refreshed if a note changed. A panic in an
    /// earlier request does not lock the server up: the state it left is
    /// still consistent (every write goes through `Progress::record`).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Shared> {
        let mut g = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        if g.live.refresh() {
            self.publish(&g);
        }
        g
    }

    /// The notes, without waiting for the engine: refreshed first only
    /// when the engine is free (a busy engine is refreshed by its user).
    pub(crate) fn view(&self) -> Arc<NotesView> {
        let free = match self.shared.try_lock() {
            Ok(g) => Some(g),
            Err(TryLockError::Poisoned(e)) => Some(e.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        };
        if let Some(mut g) = free
            && g.live.refresh()
        {
            self.publish(&g);
        }
        self.view
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn publish(&self, g: &Shared) {
        let mut v = self.view.write().unwrap_or_else(PoisonError::into_inner);
        if v.generation != g.live.generation() {
            *v = Arc::new(NotesView::of(&g.live));
        }
    }
}

/// Serves the study page until Ctrl-C; `on_listen` is told the address
/// first (to print it).
pub fn run(
    engine: Engine,
    paths: Paths,
    opts: Options,
    on_listen: impl FnOnce(&Listening),
) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(16)
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the server's runtime", e))?;
    rt.block_on(async move {
        let listener = TcpListener::bind(opts.addr)
            .await
            .map_err(|e| Error::Listen {
                addr: opts.addr.to_string(),
                reason: e.to_string(),
            })?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io("reading the listening address", e))?;
        let live = Live::new(engine, paths);
        let state = Arc::new(State {
            engine_turn: Arc::new(tokio::sync::Semaphore::new(1)),
            view: RwLock::new(Arc::new(NotesView::of(&live))),
            shared: Mutex::new(Shared {
                live,
                terms: None,
                sitting: None,
            }),
            guard: Guard::new(HostRule::for_addr(addr))?,
            progress: opts.progress.clone(),
        });
        let url = match addr {
            SocketAddr::V4(a) if a.ip().is_unspecified() => {
                format!("http://127.0.0.1:{}/", a.port())
            }
            SocketAddr::V6(a) if a.ip().is_unspecified() => format!("http://[::1]:{}/", a.port()),
            a => format!("http://{a}/"),
        };
        on_listen(&Listening {
            addr,
            url: url.clone(),
        });
        if opts.open {
            open_browser(&url);
        }
        accept(listener, router(state), shutdown_signal()).await;
        Ok(())
    })
}

/// The application: routes, then the security guard, then timing.
pub(crate) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/ask", get(ask))
        .route("/note/{*id}", get(note_page))
        .route("/drill", get(drill_pages::question))
        .route("/drill/reveal", post(drill_pages::reveal))
        .route("/drill/grade", post(drill_pages::grade))
        .route("/assets/{name}", get(assets::asset))
        .route("/favicon.ico", get(assets::favicon))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::guard,
        ))
        .layer(middleware::from_fn(timing))
        .with_state(state)
}

/// Accepts connections until `shutdown`, then lets open requests finish (up to 5 s).
async fn accept(
    listener: TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            conn = listener.accept() => match conn {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            if security::overlong_request_line(&stream, HEAD_TIMEOUT).await {
                return security::refuse_overlong(stream).await;
            }
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .max_buf_size(MAX_HEAD_BYTES)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(5)) => {}
    }
}

async fn shutdown_signal() {
    if tokio::signal::ctrl_c().await.is_err() {
        // No signal handling here: serve until killed.
        std::future::pending::<()>().await;
    }
}

/// Opens `url` in the default browser (`xdg-open`, `open` on macOS,
/// `start` on Windows); a failure is a notice, not an error.
fn open_browser(url: &str) {
    let mut cmd = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        let mut c = std::process::Command::new("cmd");
        c.args(["/C", "start", ""]);
        c
    } else {
        std::process::Command::new("xdg-open")
    };
    let spawned = cmd
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        eprintln!("cram: could not open a browser ({e}); open {url} yourself");
    }
}

/// Adds `Server-Timing: ..., total;dur=MS` (the time from the request's
/// arrival in the router to its response, socket I/O excluded).
async fn timing(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let mut res = next.run(req).await;
    let total = format!("total;dur={:.3}", started.elapsed().as_secs_f64() * 1e3);
    let value = match res
        .headers()
        .get(SERVER_TIMING)
        .and_then(|v| v.to_str().ok())
    {
        Some(parts) => format!("{parts}, {total}"),
        None => total,
    };
    if let Ok(v) = HeaderValue::from_str(&value) {
        res.headers_mut().insert(SERVER_TIMING, v);
    }
    res
}

const SERVER_TIMING: &str = "server-timing";

/// An HTML page with its status and the server time of its parts.
pub(crate) struct Page {
    pub(crate) status: StatusCode,
    pub(crate) html: String,
    /// `(name, milliseconds)` for `Server-Timing`.
    pub(crate) timing: Vec<(&'static str, f64)>,
}

impl Page {
    pub(crate) fn ok(html: String) -> Page {
        Page {
            status: StatusCode::OK,
            html,
            timing: Vec::new(),
        }
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut res = (self.status, self.html).into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if !self.timing.is_empty() {
            let parts: Vec<String> = self
                .timing
                .iter()
                .map(|(n, ms)| format!("{n};dur={ms:.3}"))
                .collect();
            if let Ok(v) = HeaderValue::from_str(&parts.join(", ")) {
                h.insert(SERVER_TIMING, v);
            }
        }
        res
    }
}

/// A request that cannot be answered with the page it asked for: an error
/// page with a status and one line saying why and what to do.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let status = match (&e, e.exit_code()) {
            (Error::UnknownQuestion(_), _) => StatusCode::NOT_FOUND,
            (_, 2) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Failure::new(status, e.to_string())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        Page {
            status: self.status,
            html: pages::error(self.status, &self.message).into_string(),
            timing: Vec::new(),
        }
        .into_response()
    }
}

/// Whether a request needs the engine (and so waits its turn for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Needs {
    /// Only the published notes ([`State::view`]) and files.
    View,
    /// The engine or the drill sitting ([`State::lock`]).
    Engine,
}

/// Runs `f` on a blocking thread (the engine embeds, pages read files).
/// Requests for the engine first wait their turn without holding a thread,
/// so pages that only read the notes always find one free.
pub(crate) async fn blocking<T: Send + 'static>(
    state: Arc<State>,
    needs: Needs,
    f: impl FnOnce(&State) -> std::result::Result<T, Failure> + Send + 'static,
) -> std::result::Result<T, Failure> {
    let turn =
        match needs {
            Needs::Engine => Some(state.engine_turn.clone().acquire_owned().await.map_err(
                |_| Failure::new(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping"),
            )?),
            Needs::View => None,
        };
    tokio::task::spawn_blocking(move || {
        let out = f(&state);
        drop(turn);
        out
    })
    .await
    .unwrap_or_else(|e| {
        tracing::error!(error = %e, "a request failed inside the server");
        Err(Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server failed on this request (see its log); other pages still work",
        ))
    })
}

/// The query string's `key=value` pairs (never fails: bad escapes are kept as written).
pub(crate) fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The first value of `key`.
pub(crate) fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// `s` percent-encoded for a query value or (with `keep_slash`) a path.
pub(crate) fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The page of a note, with the passage anchor: `/note/q14#mechanism`.
pub(crate) fn note_href(note_id: &str, chunk_id: Option<&str>) -> String {
    let mut href = format!("/note/{}", encode(note_id, true));
    if let Some(anchor) = chunk_id.and_then(|c| c.split_once('#')).map(|(_, a)| a) {
        href.push('#');
        href.push_str(&encode(anchor, false));
    }
    href
}

async fn home(AxumState(state): AxumState<Arc<State>>) -> std::result::Result<Page, Failure> {
    blocking(state, Needs::View, |st| {
        let progress = drill::Progress::load(&st.progress);
        let view = st.view();
        let notes = &view.notes;
        let due = match &progress {
            Ok(p) => {
                let deck = drill::deck(notes, &[])?;
                Ok(drill::stats(&deck, p, drill::now()?).total)
            }
            Err(e) => Err(e.to_string()),
        };
        Ok(Page::ok(pages::home(notes, &due).into_string()))
    })
    .await
}

/// The longest `k` the page accepts (more passages than a page can show well).
const MAX_PAGE_K: usize = 20;

/// The longest note id `after_note` may hold.
const MAX_NOTE_ID: usize = 1024;

async fn ask(
    AxumState(state): AxumState<Arc<State>>,
    RawQuery(raw): RawQuery,
) -> std::result::Result<Response, Failure> {
    let pairs = query_pairs(raw.as_deref());
    let q = param(&pairs, "q").unwrap_or("").to_string();
    if q.trim().is_empty() {
        return Ok(axum::response::Redirect::to("/").into_response());
    }
    let mut params = SearchParams::default();
    if let Some(k) = param(&pairs, "k") {
        params.k = match k.trim().parse::<usize>() {
            Ok(k) if (1..=MAX_PAGE_K).contains(&k) => k,
            _ => {
                return Err(Failure::new(
                    StatusCode::BAD_REQUEST,
                    format!("k must be a number from 1 to {MAX_PAGE_K}"),
                ));
            }
        };
    }
    // The session's topic, carried by the page's form: the next question is
    // read as its follow-up when the notes do not cover it alone (as in
    // `cram repl`). Both parts or neither; each no longer than a question.
    let earlier = match (param(&pairs, "after"), param(&pairs, "after_note")) {
        (Some(s), Some(n)) if !s.trim().is_empty() && !n.trim().is_empty() => {
            if s.len() > crate::config::MAX_QUERY_BYTES || n.len() > MAX_NOTE_ID {
                return Err(Failure::new(
                    StatusCode::BAD_REQUEST,
                    "after and after_note are too long: ask again from the home page",
                ));
            }
            Some(Earlier {
                searched: s.to_string(),
                note: n.to_string(),
            })
        }
        _ => None,
    };
    let page = blocking(state, Needs::Engine, move |st| {
        let mut g = st.lock();
        let t = Instant::now();
        let answer = g
            .live
            .engine_mut()
            .ask_following(&q, earlier.as_ref(), &params)?;
        let engine_ms = t.elapsed().as_secs_f64() * 1e3;
        drop(g);
        // An answer on its own sets the topic; any other keeps the last one.
        let topic = Earlier::of(&answer).or(earlier);
        let t = Instant::now();
        let html = pages::answer(&answer, topic.as_ref()).into_string();
        let mut page = Page::ok(html);
        page.timing = vec![
            ("engine", engine_ms),
            ("render", t.elapsed().as_secs_f64() * 1e3),
        ];
        Ok(page)
    })
    .await?;
    Ok(page.into_response())
}

async fn note_page(
    AxumState(state): AxumState<Arc<State>>,
    Path(id): Path<String>,
) -> std::result::Result<Page, Failure> {
    blocking(state, Needs::View, move |st| {
        let view = st.view();
        let n = view.note(&id).ok_or_else(|| {
            Failure::new(
                StatusCode::NOT_FOUND,
                "no such note: the notes are listed on the home page",
            )
        })?;
        let chunks: Vec<crate::index::chunk::Chunk> = view
            .chunks
            .iter()
            .filter(|c| c.note_id == n.id)
            .cloned()
            .collect();
        let related: Vec<(String, Option<String>)> = n
            .related
            .iter()
            .map(|r| (r.clone(), view.note(r).map(|x| x.title.clone())))
            .collect();
        let t = Instant::now();
        let html = pages::note(n, &chunks, &related).into_string();
        let mut page = Page::ok(html);
        page.timing = vec![("render", t.elapsed().as_secs_f64() * 1e3)];
        Ok(page)
    })
    .await
}

async fn not_found() -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        "there is no page here: start from the home page",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_keeps_only_unreserved_bytes() {
        assert_eq!(encode("a b&c=d/é", false), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(encode("mine/kv.md", true), "mine/kv.md");
        assert_eq!(
            note_href("q14", Some("q14#traps-and-follow-ups")),
            "/note/q14#traps-and-follow-ups"
        );
        assert_eq!(
            note_href("mine/k v.md", Some("mine/k v.md#intro")),
            "/note/mine/k%20v.md#intro"
        );
    }

    #[test]
    fn query_pairs_never_fail() {
        let p = query_pairs(Some("q=a%20b+c&k=%ZZ&q=second"));
        assert_eq!(param(&p, "q"), Some("a b c"));
        assert_eq!(param(&p, "k"), Some("%ZZ"));
        assert_eq!(param(&p, "x"), None);
        assert!(query_pairs(None).is_empty());
    }
}
