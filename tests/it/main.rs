//! Integration tests: one binary, several modules, a shared harness (`util`).

mod beir;
mod bm25;
mod browser;
mod cli;
mod drill;
mod embedding;
mod http;
mod index;
mod mcp;
mod models;
mod notes;
#[cfg(unix)]
mod pty;
mod quality;
mod render;
mod serve;
mod util;
