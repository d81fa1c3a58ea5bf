//! # cram
//!
//! An offline study assistant for AI-engineering interviews: a local hybrid
//! retriever over reference notes. A question goes through two arms — BM25
//! over a tantivy index ([`index::lexical`]) and all-MiniLM-L6-v2 sentence
//! embeddings searched exactly or with HNSW ([`index::embed`],
//! [`index::dense`]) — whose rankings are fused by reciprocal rank fusion or
//! a min-max convex combination ([`retrieval::fuse`]) and diversified by MMR
//! ([`retrieval::mmr`]). Each passage is cited to its note, heading path and
//! line span ([`retrieval::answer`]), under a few key-point sentences chosen
//! from the passages ([`retrieval::keypoints`]). For study, [`study::drill`]
//! asks the interview questions back in spaced-repetition order;
//! [`frontend::serve`] puts the answers, the notes (with their math as
//! MathML) and the drill on a local web page.
//!
//! The crate is layered; each folder depends only on the ones above it:
//!
//! | module | what it holds |
//! |---|---|
//! | [`error`], [`config`] | typed errors; validated parameters and paths |
//! | [`index`] | notes, passages and sentences cut from them, the persisted BM25 + vector index |
//! | [`retrieval`] | query understanding, search, fusion, MMR, abstention, key points, the [`Answer`] |
//! | [`study`] | drill deck, scheduler, progress file, status |
//! | [`eval`] | `cram eval`: notes and BEIR collections, metrics, reports |
//! | [`render`] | one markdown/TeX parse, terminal and markdown writers |
//! | [`frontend`] | MCP server and study web page (the CLI is the binary, `src/main.rs` + `src/cli/`) |
//!
//! ```no_run
//! use cram::{Engine, OpenOptions, Paths, SearchParams};
//!
//! # fn main() -> cram::Result<()> {
//! let paths = Paths::defaults();
//! let (mut engine, _state) = Engine::open(&paths, &OpenOptions::default(), &mut |_| {})?;
//! let answer = engine.ask("why does dropout hurt transformers?", &SearchParams::default())?;
//! for p in &answer.results {
//!     println!("{} {}:{}-{}", p.chunk_id, p.path, p.lines[0], p.lines[1]);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! See `ARCHITECTURE.md` for the module map and the index invariants.

pub mod config;
pub mod error;
pub mod eval;
pub mod frontend;
pub mod index;
pub mod render;
pub mod retrieval;
pub mod study;

pub use config::{DenseBackend, Fusion, Mode, Paths, SearchParams};
pub use error::{Error, Result};
pub use retrieval::answer::Answer;
pub use retrieval::engine::{Earlier, Engine, Event, ExtraNotes, IndexState, OpenOptions, Rebuild};
