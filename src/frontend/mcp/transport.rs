//! The stdio transport under rmcp: one JSON-RPC message per line in, one per
//! line out.
//!
//! This implements rmcp's [`Transport`] trait in place of its own `stdio()`
//! transport, for two things rmcp (3.11) does not do and `cram mcp` promises
//! (see the experiment in the module docs of [`super`]):
//!
//! - every line that is not a message gets a JSON-RPC error with `"id": null`:
//!   not JSON or not UTF-8 (-32700), JSON that is not one request object, such
//!   as a batch (-32600), a line over [`MAX_MESSAGE_BYTES`] (-32600). rmcp
//!   drops such lines without a word (rust-sdk #938).
//! - before `initialize`, requests other than `initialize` and `ping` are
//!   answered "send `initialize` first" (-32600) and notifications are
//!   ignored. rmcp answers the first with a -32602 about missing request
//!   metadata (its reading of the 2026-07-28 lifecycle) and closes the
//!   connection on the second (rust-sdk #1157).
//!
//! Everything else is handed to rmcp as the message it parsed to, so rmcp
//! does all the protocol work: routing, ids, responses, cancellation.
//!
//! Answers keep the order of the lines they answer: an error this transport
//! writes waits until rmcp has answered every request handed to it before
//! (at most [`ORDER_WAIT`]), since an error without an id can only be matched
//! to its line by its place.
//!
//! Lines are read on a thread of their own (stdin has no non-blocking read
//! that would not change the parent's file description) and passed over a
//! bounded channel. Output has one writer: each message, rmcp's or this
//! transport's, is serialised compactly to one buffer and written with one
//! `write_all` and one flush, so lines never interleave and the client gets a
//! whole message per read.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::time::Duration;

use rmcp::RoleServer;
use rmcp::model::{ClientJsonRpcMessage, ClientNotification, ClientRequest, ErrorData};
use rmcp::model::{JsonRpcMessage, RequestId, ServerJsonRpcMessage};
use rmcp::transport::Transport;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// The longest message read (longer lines are answered with an error and skipped).
pub const MAX_MESSAGE_BYTES: usize = 4 << 20;

/// Lines read ahead of the server.
const READ_AHEAD: usize = 64;

/// The longest an error waits for rmcp's answers to earlier requests.
pub const ORDER_WAIT: Duration = Duration::from_secs(10);

/// One line read from the client.
#[derive(Debug, PartialEq)]
pub(super) enum Frame {
    Line(Vec<u8>),
    /// A line longer than the limit (its length), skipped.
    TooLong(usize),
    Eof,
}

/// Where every outgoing line goes.
struct Output<W: Write> {
    writer: W,
    buf: Vec<u8>,
}

impl<W: Write> Output<W> {
    /// Writes `msg` as one line: serialised to a buffer, then one write and one flush.
    fn line(&mut self, msg: &impl Serialize) -> io::Result<()> {
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, msg)?;
        self.buf.push(b'\n');
        self.writer.write_all(&self.buf)?;
        self.writer.flush()?;
        if self.buf.capacity() > 1 << 20 {
            self.buf = Vec::new(); // do not keep a big answer's buffer
        }
        Ok(())
    }
}

/// A JSON-RPC error response with `"id": null` when the id is unknown (rmcp's
/// own error type leaves the id out then; JSON-RPC 2.0 asks for null).
#[derive(Serialize)]
struct ErrorLine<'a> {
    jsonrpc: &'static str,
    id: Option<&'a RequestId>,
    error: &'a ErrorData,
}

/// What to do with one incoming line.
#[derive(Debug)]
pub(super) enum Admit {
    /// Hand it to rmcp.
    Forward(Box<ClientJsonRpcMessage>),
    /// Answer it here with this error (to this id, if known).
    Reply(Option<RequestId>, ErrorData),
    /// Nothing to answer (a blank line, a notification before `initialize`, a stray response).
    Skip,
}

/// The transport: lines from a reader thread in, lines to `W` out.
pub(super) struct LineTransport<W: Write> {
    lines: mpsc::Receiver<Frame>,
    out: Output<W>,
    initialized: bool,
    /// Ids of the requests handed to rmcp and not answered yet.
    pending: Vec<RequestId>,
    /// An error to write once `pending` is empty (or at the instant given).
    deferred: Option<(Option<RequestId>, ErrorData, Instant)>,
}

impl<W: Write + Send + 'static> LineTransport<W> {
    /// Reads `input` on a thread of its own and writes to `output`.
    pub fn new(input: impl Read + Send + 'static, output: W) -> LineTransport<W> {
        let (tx, rx) = mpsc::channel(READ_AHEAD);
        let spawned = std::thread::Builder::new()
            .name("mcp-stdin".into())
            .spawn(move || {
                let mut input = BufReader::with_capacity(64 << 10, input);
                loop {
                    let frame = match read_frame(&mut input, MAX_MESSAGE_BYTES) {
                        Ok(Frame::Eof) => break,
                        Ok(f) => f,
                        Err(e) => {
                            tracing::warn!("reading stdin: {e}");
                            break;
                        }
                    };
                    if tx.blocking_send(frame).is_err() {
                        break; // the server has stopped
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!("could not start the stdin reader: {e}"); // rx ends at once
        }
        LineTransport {
            lines: rx,
            out: Output {
                writer: output,
                buf: Vec::with_capacity(64 << 10),
            },
            initialized: false,
            pending: Vec::new(),
            deferred: None,
        }
    }
}

impl<W: Write> LineTransport<W> {
    /// Decides what to do with one line, and notes `initialize` going through.
    pub(super) fn admit(&mut self, frame: Frame) -> Admit {
        let line = match frame {
            Frame::Eof => return Admit::Skip,
            Frame::TooLong(n) => {
                return Admit::Reply(
                    None,
                    ErrorData::invalid_request(
                        format!(
                            "message of {n} bytes is longer than the limit of {MAX_MESSAGE_BYTES}"
                        ),
                        None,
                    ),
                );
            }
            Frame::Line(l) => l,
        };
        let line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return Admit::Skip;
        }
        match serde_json::from_slice::<ClientJsonRpcMessage>(line) {
            Ok(msg) => self.gate(msg),
            Err(e) if e.is_syntax() || e.is_eof() => Admit::Reply(
                None,
                ErrorData::parse_error(format!("parse error: {e}"), None),
            ),
            Err(e) => not_a_message(line, &e),
        }
    }

    /// Before `initialize`: only `initialize` and `ping` go through.
    fn gate(&mut self, msg: ClientJsonRpcMessage) -> Admit {
        if self.initialized {
            return Admit::Forward(Box::new(msg));
        }
        match msg {
            JsonRpcMessage::Request(r) => match &r.request {
                ClientRequest::InitializeRequest(_) => {
                    self.initialized = true;
                    Admit::Forward(Box::new(JsonRpcMessage::Request(r)))
                }
                ClientRequest::PingRequest(_) => {
                    Admit::Forward(Box::new(JsonRpcMessage::Request(r)))
                }
                ClientRequest::CustomRequest(c) if c.method == "initialize" => Admit::Reply(
                    Some(r.id.clone()),
                    super::bad_params("initialize", c.params.clone()),
                ),
                other => Admit::Reply(
                    Some(r.id.clone()),
                    ErrorData::invalid_request(
                        format!(
                            "server not initialized: send `initialize` before `{}`",
                            other.method()
                        ),
                        None,
                    ),
                ),
            },
            other => {
                tracing::debug!(?other, "ignored before initialize");
                Admit::Skip
            }
        }
    }

    /// Notes a message handed to rmcp: a request awaits its answer; a
    /// cancelled request gets none (rmcp drops it).
    fn track(&mut self, msg: &ClientJsonRpcMessage) {
        match msg {
            JsonRpcMessage::Request(r) => self.pending.push(r.id.clone()),
            JsonRpcMessage::Notification(n) => {
                if let ClientNotification::CancelledNotification(c) = &n.notification
                    && let Some(id) = &c.params.request_id
                {
                    self.answered(id);
                }
            }
            _ => {}
        }
    }

    fn answered(&mut self, id: &RequestId) {
        if let Some(i) = self.pending.iter().position(|p| p == id) {
            self.pending.swap_remove(i);
        }
    }

    fn reply(&mut self, id: Option<RequestId>, error: ErrorData) -> io::Result<()> {
        tracing::info!(code = error.code.0, message = %error.message, "bad message");
        self.out.line(&ErrorLine {
            jsonrpc: "2.0",
            id: id.as_ref(),
            error: &error,
        })
    }
}

/// The error for JSON that rmcp cannot read as a client message: what is
/// wrong with it, to its id when it has a usable one.
fn not_a_message(line: &[u8], e: &serde_json::Error) -> Admit {
    let invalid = |id, m: String| Admit::Reply(id, ErrorData::invalid_request(m, None));
    let obj = match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(o)) => o,
        Ok(Value::Array(_)) => {
            return invalid(
                None,
                "batches are not supported: send one JSON object per line".into(),
            );
        }
        _ => return invalid(None, "a message must be one JSON object".into()),
    };
    let id = match obj.get("id") {
        None => None,
        Some(v) => match serde_json::from_value::<RequestId>(v.clone()) {
            Ok(id) => Some(id),
            Err(_) => return invalid(None, "id must be a string or an integer".into()),
        },
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return invalid(id, "jsonrpc must be \"2.0\"".into());
    }
    match (obj.get("method").and_then(Value::as_str), id) {
        (Some(m), Some(id)) => Admit::Reply(
            Some(id),
            ErrorData::invalid_params(format!("invalid params for `{m}`: {e}"), None),
        ),
        (Some(m), None) => {
            tracing::debug!(method = m, "ignored malformed notification: {e}");
            Admit::Skip
        }
        (None, id) if obj.contains_key("result") || obj.contains_key("error") => {
            tracing::debug!(?id, "ignored malformed response: {e}");
            Admit::Skip
        }
        (None, id) => invalid(id, "method must be a string".into()),
    }
}

impl<W: Write + Send + 'static> Transport<RoleServer> for LineTransport<W> {
    type Error = io::Error;

    fn send(
        &mut self,
        item: ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), io::Error>> + Send + 'static {
        match &item {
            JsonRpcMessage::Response(r) => self.answered(&r.id),
            JsonRpcMessage::Error(e) => {
                if let Some(id) = &e.id {
                    self.answered(id);
                }
            }
            _ => {}
        }
        // Written now, in the order rmcp sends: the future only reports it.
        std::future::ready(self.out.line(&item))
    }

    async fn receive(&mut self) -> Option<ClientJsonRpcMessage> {
        // rmcp polls this in a select! and drops it when an answer is ready
        // to send: everything that must survive that lives in `self`.
        loop {
            if let Some((id, error, until)) = self.deferred.take() {
                if !self.pending.is_empty() && Instant::now() < until {
                    self.deferred = Some((id, error, until));
                    tokio::time::sleep_until(until).await;
                    continue;
                }
                if let Err(e) = self.reply(id, error) {
                    tracing::warn!("writing to stdout: {e}");
                    return None;
                }
            }
            let frame = self.lines.recv().await?;
            match self.admit(frame) {
                Admit::Forward(msg) => {
                    self.track(&msg);
                    return Some(*msg);
                }
                Admit::Reply(id, error) => {
                    self.deferred = Some((id, error, Instant::now() + ORDER_WAIT));
                }
                Admit::Skip => {}
            }
        }
    }

    async fn close(&mut self) -> Result<(), io::Error> {
        self.lines.close();
        self.out.writer.flush()
    }
}

/// Reads one `\n`-terminated line of at most `max` bytes, skipping (and
/// reporting) longer ones without holding them in memory.
pub(super) fn read_frame(r: &mut impl BufRead, max: usize) -> io::Result<Frame> {
    let mut line = Vec::new();
    let mut total = 0usize;
    let mut too_long = false;
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(match (total, too_long) {
                (0, _) => Frame::Eof,
                (n, true) => Frame::TooLong(n),
                _ => Frame::Line(line),
            });
        }
        let (end, used, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i, i + 1, true),
            None => (buf.len(), buf.len(), false),
        };
        total += end;
        if !too_long {
            if line.len() + end > max {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(&buf[..end]);
            }
        }
        r.consume(used);
        if done {
            return Ok(if too_long {
                Frame::TooLong(total)
            } else {
                Frame::Line(line)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport() -> LineTransport<Vec<u8>> {
        piped().1
    }

    fn piped() -> (mpsc::Sender<Frame>, LineTransport<Vec<u8>>) {
        let (tx, rx) = mpsc::channel(8);
        let t = LineTransport {
            lines: rx,
            out: Output {
                writer: Vec::new(),
                buf: Vec::new(),
            },
            initialized: false,
            pending: Vec::new(),
            deferred: None,
        };
        (tx, t)
    }

    fn admit(t: &mut LineTransport<Vec<u8>>, line: &str) -> Admit {
        t.admit(Frame::Line(line.as_bytes().to_vec()))
    }

    fn reply_code(a: &Admit) -> Option<(Option<RequestId>, i32)> {
        match a {
            Admit::Reply(id, e) => Some((id.clone(), e.code.0)),
            _ => None,
        }
    }

    const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;

    #[test]
    fn frames_split_at_newlines_and_skip_long_lines() {
        let mut r = io::Cursor::new(b"{\"a\":1}\r\nxxxxxxxxxx\nok\nlast".to_vec());
        assert_eq!(
            read_frame(&mut r, 8).unwrap(),
            Frame::Line(b"{\"a\":1}\r".to_vec())
        );
        assert_eq!(read_frame(&mut r, 8).unwrap(), Frame::TooLong(10));
        assert_eq!(read_frame(&mut r, 8).unwrap(), Frame::Line(b"ok".to_vec()));
        assert_eq!(
            read_frame(&mut r, 8).unwrap(),
            Frame::Line(b"last".to_vec())
        );
        assert_eq!(read_frame(&mut r, 8).unwrap(), Frame::Eof);
    }

    #[test]
    fn only_initialize_and_ping_pass_before_initialize() {
        let mut t = transport();
        let a = admit(&mut t, r#"{"jsonrpc":"2.0","id":7,"method":"tools/list"}"#);
        assert_eq!(reply_code(&a), Some((Some(RequestId::Number(7)), -32600)));
        assert!(matches!(&a, Admit::Reply(_, e) if e.message.contains("initialize")));
        let a = admit(
            &mut t,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        );
        assert!(matches!(a, Admit::Skip));
        let a = admit(&mut t, r#"{"jsonrpc":"2.0","id":"p","method":"ping"}"#);
        assert!(matches!(a, Admit::Forward(_)));
        let a = admit(
            &mut t,
            r#"{"jsonrpc":"2.0","id":2,"method":"initialize","params":{}}"#,
        );
        assert_eq!(reply_code(&a), Some((Some(RequestId::Number(2)), -32602)));
        assert!(!t.initialized);
        assert!(matches!(admit(&mut t, INIT), Admit::Forward(_)));
        let a = admit(&mut t, r#"{"jsonrpc":"2.0","id":8,"method":"tools/list"}"#);
        assert!(matches!(a, Admit::Forward(_)));
    }

    #[test]
    fn lines_that_are_not_messages_get_errors() {
        let mut t = transport();
        assert!(matches!(admit(&mut t, INIT), Admit::Forward(_)));
        for (line, want) in [
            ("this is not json", (None, -32700)),
            ("{\"jsonrpc\":\"2.0\",\"id\":1,", (None, -32700)),
            (
                r#"[{"jsonrpc":"2.0","id":4,"method":"ping"}]"#,
                (None, -32600),
            ),
            ("42", (None, -32600)),
            (
                r#"{"jsonrpc":"2.0","id":[1],"method":"ping"}"#,
                (None, -32600),
            ),
            (
                r#"{"jsonrpc":"1.0","id":3,"method":"ping"}"#,
                (Some(RequestId::Number(3)), -32600),
            ),
            (
                r#"{"jsonrpc":"2.0","id":5}"#,
                (Some(RequestId::Number(5)), -32600),
            ),
        ] {
            assert_eq!(reply_code(&admit(&mut t, line)), Some(want), "{line}");
        }
        let a = t.admit(Frame::Line(b"\xff\xfe{\"jsonrpc\"".to_vec()));
        assert_eq!(reply_code(&a), Some((None, -32700)));
        assert_eq!(
            reply_code(&t.admit(Frame::TooLong(9 << 20))),
            Some((None, -32600))
        );
        assert!(matches!(admit(&mut t, "  \r"), Admit::Skip));
        let bom = format!("\u{feff}{}", r#"{"jsonrpc":"2.0","id":9,"method":"ping"}"#);
        assert!(matches!(admit(&mut t, &bom), Admit::Forward(_)));
    }

    #[test]
    fn error_lines_carry_a_null_id_when_it_is_unknown() {
        let mut t = transport();
        t.reply(None, ErrorData::parse_error("parse error: x", None))
            .unwrap();
        t.reply(
            Some(RequestId::Number(3)),
            ErrorData::invalid_request("no", None),
        )
        .unwrap();
        let out = String::from_utf8(t.out.writer.clone()).unwrap();
        let lines: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(lines[0]["id"].is_null() && lines[0].get("id").is_some());
        assert_eq!(lines[0]["error"]["code"], -32700);
        assert_eq!(lines[1]["id"], 3);
    }

    #[test]
    fn an_error_waits_for_the_answers_to_earlier_requests() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let (tx, mut t) = piped();
            let line = |l: &str| Frame::Line(l.as_bytes().to_vec());
            tx.send(line(INIT)).await.unwrap();
            tx.send(line("not json")).await.unwrap();
            drop(tx);
            let init = t.receive().await.unwrap();
            assert!(matches!(init, JsonRpcMessage::Request(_)));
            // The error for line 2 is not written while request 1 is unanswered.
            let waited = tokio::time::timeout(Duration::from_millis(50), t.receive()).await;
            assert!(waited.is_err());
            assert!(t.out.writer.is_empty());
            let answer = ServerJsonRpcMessage::response(
                rmcp::model::ServerResult::empty(()),
                RequestId::Number(1),
            );
            t.send(answer).await.unwrap();
            assert!(t.receive().await.is_none()); // writes the error, then the input ends
            let out = String::from_utf8(t.out.writer.clone()).unwrap();
            let ids: Vec<Value> = out
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].clone())
                .collect();
            assert_eq!(ids, [Value::from(1), Value::Null], "{out}");
        });
    }
}
