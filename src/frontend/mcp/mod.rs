//! `cram mcp`: the notes as a Model Context Protocol server over stdio.
//!
//! The protocol is the official Rust SDK's, `rmcp`: [`Server`] is an rmcp
//! [`ServerHandler`] whose tools are declared with `#[tool_router]` /
//! `#[tool]` (in [`tools`]), whose resources and prompt are its handler
//! methods, and rmcp does the JSON-RPC work (ids, routing, concurrent
//! requests, cancellation, version negotiation). The server is a thin layer
//! over the same [`Engine`] that `cram ask` uses: the `search` tool returns
//! the `cram.ask/2` [`crate::Answer`] itself.
//!
//! stdout carries only protocol messages; logs go to stderr (`-v`).
//!
//! rmcp's own stdio transport is not used, because with rmcp 3.11.0 (checked
//! by feeding a one-tool rmcp server the raw lines of `tests/it/mcp_client.py`):
//! a line that is not JSON gets no answer at all (deliberately, rust-sdk
//! #938, where #825 had asked for -32700); a request before `initialize`
//! gets -32602 "request _meta is missing ..." and a notification before it
//! ends the session (rust-sdk #1157); `tools/call` whose params are not an
//! object gets -32601 "tools/call". `cram mcp` answers each with a JSON-RPC
//! error that says what was wrong and keeps serving, so [`transport`] puts a
//! thin line filter in rmcp's place: it answers what rmcp cannot parse or
//! should not see yet, and hands every other message to rmcp as parsed.
//!
//! Requests run one at a time on a single-threaded runtime (the engine is
//! behind one lock anyway); a client may have many in flight and each answer
//! carries its request's id.

mod drill;
mod tools;
mod transport;

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, PoisonError};

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CustomRequest, CustomResult, ErrorCode,
    GetPromptRequestParams, GetPromptResponse, Implementation, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, PaginatedRequestParams, ProtocolVersion,
    ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities, ServerConfig,
};
use rmcp::service::{RequestContext, ServerInitializeError};
use rmcp::{ErrorData, RoleServer, ServerHandler, tool_handler};
use serde_json::Value;

pub use transport::MAX_MESSAGE_BYTES;

use crate::frontend::live::Live;
use crate::{Engine, Paths};

/// Protocol versions this server speaks, newest first: those with the
/// `initialize` handshake (a client asking for another gets the newest).
pub const PROTOCOL_VERSIONS: &[ProtocolVersion] = &[
    ProtocolVersion::V_2025_11_25,
    ProtocolVersion::V_2025_06_18,
    ProtocolVersion::V_2025_03_26,
    ProtocolVersion::V_2024_11_05,
];

/// The MCP server: the engine behind a lock, and the tool router.
pub struct Server {
    state: Mutex<State>,
    tool_router: ToolRouter<Server>,
}

/// What the requests share.
struct State {
    live: Live,
    /// Per note id, the file line of its body's first line (for line spans).
    body_lines: HashMap<String, usize>,
}

impl Server {
    /// A server answering from `engine` (opened from `paths`, which are used
    /// again to reopen it when the notes change).
    pub fn new(engine: Engine, paths: Paths) -> Server {
        Server {
            state: Mutex::new(State::new(engine, paths)),
            tool_router: Server::tool_router(),
        }
    }

    /// Serves MCP on `input` / `output` (stdin / stdout) until the input ends.
    pub fn serve(
        self,
        input: impl Read + Send + 'static,
        output: impl Write + Send + 'static,
    ) -> io::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()?;
        runtime.block_on(async move {
            let transport = transport::LineTransport::new(input, output);
            let running = match rmcp::serve_server(self, transport).await {
                Ok(r) => r,
                // The client left before `initialize`: nothing to serve.
                Err(ServerInitializeError::ConnectionClosed(_)) => return Ok(()),
                Err(e) => return Err(io::Error::other(e.to_string())),
            };
            let quit = running.waiting().await.map_err(io::Error::other)?;
            tracing::debug!(?quit, "cram mcp: session ended");
            Ok(())
        })
    }

    /// Runs `f` on the state under the lock, after reopening the engine if
    /// the notes changed; a panic becomes an internal error.
    fn with<T>(&self, f: impl FnOnce(&mut State) -> Result<T, ErrorData>) -> Result<T, ErrorData> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        catch_unwind(AssertUnwindSafe(|| {
            state.refresh();
            f(&mut state)
        }))
        .unwrap_or_else(|_| {
            Err(ErrorData::internal_error(
                "internal error: the request panicked (a bug in cram; see stderr)",
                None,
            ))
        })
    }
}

/// Bad parameters.
pub(crate) fn invalid(message: impl Into<String>) -> ErrorData {
    ErrorData::invalid_params(message.into(), None)
}

/// Engine errors: bad input (exit code 2) is the caller's, the rest internal.
impl From<crate::Error> for ErrorData {
    fn from(e: crate::Error) -> ErrorData {
        let code = if e.exit_code() == 2 {
            ErrorCode::INVALID_PARAMS
        } else {
            ErrorCode::INTERNAL_ERROR
        };
        ErrorData::new(code, e.to_string(), None)
    }
}

/// The error for a request to a method this server knows whose params do
/// not fit it (rmcp hands such a request over as a custom one).
pub(crate) fn bad_params(method: &str, params: Option<Value>) -> ErrorData {
    use rmcp::model::InitializeRequestParams;
    let params = params.unwrap_or(Value::Null);
    let why = match method {
        "initialize" => serde_json::from_value::<InitializeRequestParams>(params).err(),
        "tools/call" => serde_json::from_value::<CallToolRequestParams>(params).err(),
        "resources/read" => serde_json::from_value::<ReadResourceRequestParams>(params).err(),
        "prompts/get" => serde_json::from_value::<GetPromptRequestParams>(params).err(),
        _ => None,
    };
    match why {
        Some(e) => invalid(format!("invalid params for `{method}`: {e}")),
        None => invalid(format!(
            "invalid params for `{method}` (see the MCP schema)"
        )),
    }
}

/// Methods of MCP that this server answers (a malformed request for one of
/// them is bad params, not an unknown method).
const METHODS: &[&str] = &[
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "prompts/list",
    "prompts/get",
];

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .build(),
        )
        .with_protocol_version(PROTOCOL_VERSIONS[0].clone())
        .with_server_info(
            Implementation::new("cram", env!("CARGO_PKG_VERSION")).with_title("cram study notes"),
        )
        .with_instructions(tools::INSTRUCTIONS)
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(PROTOCOL_VERSIONS)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if !self.tool_router.has_route(&request.name) {
            let names: Vec<String> = self
                .tool_router
                .list_all()
                .into_iter()
                .map(|t| t.name.into_owned())
                .collect();
            return Err(invalid(format!(
                "unknown tool `{}`: the tools are {}",
                request.name,
                names.join(", ")
            )));
        }
        let call = ToolCallContext::new(self, request, context);
        self.tool_router.call(call).await
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        self.with(|s| Ok(tools::resources(s.live.engine())))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(tools::resource_templates())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        self.with(|s| tools::read_resource(s.live.engine(), &request.uri).map(Into::into))
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(tools::prompts())
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        self.with(|s| tools::get_prompt(s.live.engine(), &request).map(Into::into))
    }

    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        let CustomRequest { method, params, .. } = request;
        if METHODS.contains(&method.as_str()) {
            return Err(bad_params(&method, params));
        }
        Err(ErrorData::new(
            ErrorCode::METHOD_NOT_FOUND,
            format!("method not found: {method}"),
            None,
        ))
    }
}

impl State {
    fn new(engine: Engine, paths: Paths) -> State {
        State {
            body_lines: tools::body_lines(&engine),
            live: Live::new(engine, paths),
        }
    }

    /// Reopens the engine when the notes changed ([`Live::refresh`]) and
    /// recomputes what is derived from them.
    fn refresh(&mut self) {
        if self.live.refresh() {
            self.body_lines = tools::body_lines(self.live.engine());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_errors_map_to_invalid_params() {
        let e: ErrorData = crate::Error::UnknownQuestion("q99".into()).into();
        assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
        assert!(e.message.contains("q99"));
    }

    #[test]
    fn malformed_params_of_known_methods_say_what_is_wrong() {
        let e = bad_params("tools/call", None);
        assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
        assert!(e.message.contains("tools/call"), "{}", e.message);
        let e = bad_params(
            "tools/call",
            Some(serde_json::json!({"name": "search", "arguments": "x"})),
        );
        assert!(e.message.contains("invalid type"), "{}", e.message);
    }
}
