//! `cram mcp`: the notes as a Model Context Protocol server over stdio.
//!
//! One JSON-RPC 2.0 message per line on stdin, one response per line on
//! stdout; nothing else is ever written to stdout (logs go to stderr). The
//! server is a thin layer over the same [`Engine`] that `cram ask` uses: the
//! `search` tool returns the `cram.ask/2` [`crate::Answer`] itself.
//!
//! The protocol layer is written here rather than taken from the official
//! Rust SDK (`rmcp` 3.x) because that SDK's stdio transport closes the
//! connection on a malformed line and gives up when the first request is not
//! `initialize` (rust-sdk issues #825 and #1157); `cram mcp` must answer both
//! with a JSON-RPC error and keep serving. Requests are answered in the order
//! they arrive, each with its own id, so a client may have many in flight.

mod drill;
mod tools;

use std::io::{self, BufRead, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde_json::{Value, json};

use crate::live::Live;
use crate::{Engine, Paths};

/// Protocol versions this server speaks, newest first.
pub const PROTOCOL_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

/// The longest message read (longer lines are answered with an error and skipped).
pub const MAX_MESSAGE_BYTES: usize = 4 << 20;

/// A JSON-RPC error: a code and a message for the client.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} ({code})")]
pub struct RpcError {
    /// JSON-RPC error code.
    pub code: i64,
    /// One line saying what was wrong.
    pub message: String,
}

impl RpcError {
    /// The line is not JSON.
    pub const PARSE: i64 = -32700;
    /// The JSON is not a valid request (or comes before `initialize`).
    pub const INVALID_REQUEST: i64 = -32600;
    /// No such method.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Bad parameters: unknown tool, wrong types, unknown note id, ...
    pub const INVALID_PARAMS: i64 = -32602;
    /// Something failed inside the server.
    pub const INTERNAL: i64 = -32603;
    /// MCP's code for an unknown resource URI.
    pub const RESOURCE_NOT_FOUND: i64 = -32002;

    /// An error with `code` and `message`.
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
        }
    }

    /// Bad parameters.
    pub fn params(message: impl Into<String>) -> RpcError {
        RpcError::new(RpcError::INVALID_PARAMS, message)
    }
}

impl From<crate::Error> for RpcError {
    fn from(e: crate::Error) -> RpcError {
        let code = if e.exit_code() == 2 {
            RpcError::INVALID_PARAMS
        } else {
            RpcError::INTERNAL
        };
        RpcError::new(code, e.to_string())
    }
}

/// The server's state: the engine, and whether `initialize` has happened.
pub struct Server {
    live: Live,
    initialized: bool,
}

impl Server {
    /// A server answering from `engine` (opened from `paths`, which are used
    /// again to reopen it when the notes change).
    pub fn new(engine: Engine, paths: Paths) -> Server {
        Server {
            live: Live::new(engine, paths),
            initialized: false,
        }
    }

    /// Reads messages from `input` until it ends, writing each response to `output`.
    pub fn serve(&mut self, mut input: impl BufRead, mut output: impl Write) -> io::Result<()> {
        loop {
            let reply = match read_frame(&mut input, MAX_MESSAGE_BYTES)? {
                Frame::Eof => return Ok(()),
                Frame::TooLong(n) => Some(error_response(
                    Value::Null,
                    &RpcError::new(
                        RpcError::INVALID_REQUEST,
                        format!(
                            "message of {n} bytes is longer than the limit of {MAX_MESSAGE_BYTES}"
                        ),
                    ),
                )),
                Frame::Line(line) => self.handle_line(&line),
            };
            if let Some(r) = reply {
                serde_json::to_writer(&mut output, &r)?;
                output.write_all(b"\n")?;
                output.flush()?;
            }
        }
    }

    /// Answers one line: a response, or `None` for a notification, a blank
    /// line or a response from the client.
    pub fn handle_line(&mut self, line: &[u8]) -> Option<Value> {
        let line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let msg: Value = match serde_json::from_slice(line) {
            Ok(v) => v,
            Err(e) => {
                let err = RpcError::new(RpcError::PARSE, format!("parse error: {e}"));
                return Some(error_response(Value::Null, &err));
            }
        };
        self.handle(msg)
    }

    /// Answers one parsed message.
    pub fn handle(&mut self, msg: Value) -> Option<Value> {
        let invalid = |id: Value, m: &str| {
            Some(error_response(
                id,
                &RpcError::new(RpcError::INVALID_REQUEST, m),
            ))
        };
        let Value::Object(mut obj) = msg else {
            return invalid(
                Value::Null,
                "a message must be one JSON object (batches are not supported)",
            );
        };
        let id = obj.remove("id");
        if let Some(id) = &id
            && !(id.is_string() || id.is_number())
        {
            return invalid(Value::Null, "id must be a string or a number");
        }
        if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return invalid(id.unwrap_or(Value::Null), "jsonrpc must be \"2.0\"");
        }
        let Some(method) = obj
            .get("method")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            if obj.contains_key("result") || obj.contains_key("error") {
                return None; // a response: this server sends no requests
            }
            return invalid(id.unwrap_or(Value::Null), "method must be a string");
        };
        let params = obj.remove("params").unwrap_or(Value::Null);
        let Some(id) = id else {
            self.notification(&method);
            return None;
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| self.request(&method, params)))
            .unwrap_or_else(|_| Err(RpcError::new(RpcError::INTERNAL, "internal error (panic)")));
        Some(match outcome {
            Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
            Err(e) => {
                tracing::info!(method, code = e.code, message = %e.message, "request failed");
                error_response(id, &e)
            }
        })
    }

    fn notification(&mut self, method: &str) {
        tracing::debug!(method, "notification");
        if method == "notifications/initialized" {
            self.initialized = true;
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Result<Value, RpcError> {
        tracing::debug!(method, "request");
        let params = match params {
            Value::Null => serde_json::Map::new(),
            Value::Object(m) => m,
            _ => return Err(RpcError::params("params must be an object")),
        };
        match method {
            "initialize" => return Ok(self.initialize(&params)),
            "ping" => return Ok(json!({})),
            _ if !self.initialized => {
                return Err(RpcError::new(
                    RpcError::INVALID_REQUEST,
                    format!("server not initialized: send `initialize` before `{method}`"),
                ));
            }
            _ => {}
        }
        match method {
            "tools/list" => Ok(json!({"tools": tools::definitions()})),
            "tools/call" => {
                self.live.refresh();
                tools::call(self.live.engine_mut(), &params)
            }
            "resources/list" => Ok(tools::resources(self.live.engine())),
            "resources/templates/list" => Ok(tools::resource_templates()),
            "resources/read" => {
                self.live.refresh();
                tools::read_resource(self.live.engine(), &params)
            }
            "prompts/list" => Ok(tools::prompts()),
            "prompts/get" => tools::get_prompt(self.live.engine(), &params),
            _ => Err(RpcError::new(
                RpcError::METHOD_NOT_FOUND,
                format!("method not found: {method}"),
            )),
        }
    }

    fn initialize(&mut self, params: &serde_json::Map<String, Value>) -> Value {
        let asked = params.get("protocolVersion").and_then(Value::as_str);
        let version = asked
            .filter(|v| PROTOCOL_VERSIONS.contains(v))
            .unwrap_or(PROTOCOL_VERSIONS[0]);
        self.initialized = true;
        json!({
            "protocolVersion": version,
            "capabilities": {
                "tools": {"listChanged": false},
                "resources": {"listChanged": false, "subscribe": false},
                "prompts": {"listChanged": false},
            },
            "serverInfo": {"name": "cram", "title": "cram study notes", "version": env!("CARGO_PKG_VERSION")},
            "instructions": tools::INSTRUCTIONS,
        })
    }
}

fn error_response(id: Value, e: &RpcError) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": e.code, "message": e.message}})
}

/// One line read from the client.
#[derive(Debug, PartialEq)]
enum Frame {
    Line(Vec<u8>),
    /// A line longer than the limit (its length), skipped.
    TooLong(usize),
    Eof,
}

/// Reads one `\n`-terminated line of at most `max` bytes, skipping (and
/// reporting) longer ones without holding them in memory.
fn read_frame(r: &mut impl BufRead, max: usize) -> io::Result<Frame> {
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
    fn bad_input_errors_map_to_invalid_params() {
        let e: RpcError = crate::Error::UnknownQuestion("q99".into()).into();
        assert_eq!(e.code, RpcError::INVALID_PARAMS);
        assert!(e.message.contains("q99"));
    }
}
