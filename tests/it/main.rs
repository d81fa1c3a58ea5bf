//! Integration tests: one binary, several modules, a shared harness (`util`).

mod beir;
mod cli;
mod drill;
mod embedding;
mod index;
mod mcp;
mod models;
mod notes;
#[cfg(unix)]
mod pty;
mod quality;
mod render;
mod util;
