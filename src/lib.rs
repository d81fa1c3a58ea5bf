//! # cram
//!
//! An offline study assistant for AI-engineering interviews: a local hybrid
//! retriever over reference notes. A question goes through two arms — BM25
//! over a tantivy index ([`lexical`]) and all-MiniLM-L6-v2 sentence
//! embeddings searched exactly or with HNSW ([`embed`], [`dense`]) — whose
//! rankings are fused by reciprocal rank fusion or a min-max convex
//! combination ([`fuse`]) and diversified by MMR ([`mmr`]). Each passage is
//! cited to its note, heading path and line span ([`answer`]), under a few
//! key-point sentences extracted from the passages ([`keypoints`]). For
//! study, [`drill`] asks the interview questions back in spaced-repetition
//! order ([`schedule`]); [`serve`] puts the answers, the notes (with their
//! math as MathML) and the drill on a local web page.
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

pub mod abstain;
pub mod answer;
pub mod beir;
pub mod cache;
pub mod chunk;
pub mod config;
pub mod corpus;
pub mod dense;
pub mod drill;
pub mod embed;
pub mod engine;
pub mod error;
pub mod eval;
pub mod fuse;
pub mod hash;
pub mod index;
pub mod keypoints;
pub mod lexical;
pub mod live;
pub mod mcp;
pub mod metrics;
pub mod mmr;
pub mod quality;
pub mod query;
pub mod render;
pub mod report;
pub mod schedule;
pub mod search;
pub mod serve;
pub mod status;

pub use answer::Answer;
pub use config::{DenseBackend, Fusion, Mode, Paths, SearchParams};
pub use engine::{Engine, Event, ExtraNotes, IndexState, OpenOptions, Rebuild};
pub use error::{Error, Result};
