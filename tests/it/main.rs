//! Integration tests: one binary, several modules, a shared harness (`util`).

mod beir;
mod cli;
mod embedding;
mod index;
mod notes;
mod quality;
mod util;
