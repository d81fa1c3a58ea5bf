//! The answer to one question: the `--json` contract.
//!
//! `cram ask --json` prints exactly one [`Answer`] object. Its `schema` field
//! is [`SCHEMA`]; fields are only added within a version, never renamed or
//! removed (a breaking change bumps the version). All scores are finite
//! numbers; absent evidence is `null`.

use serde::Serialize;

use crate::config::{DenseBackend, Fusion, Mode};
use crate::retrieval::fuse::ArmEvidence;

pub use crate::retrieval::abstain::Evidence;
pub use crate::retrieval::search::{MmrDetail, Timings};

/// Name and version of the JSON schema.
pub const SCHEMA: &str = "cram.ask/2";

/// One answer.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The question as asked (trimmed).
    pub query: String,
    /// Which arms ran.
    pub mode: Mode,
    /// The parameters used.
    pub params: ParamsUsed,
    /// The index answered from.
    pub index: IndexUsed,
    /// Milliseconds per stage.
    pub timings_ms: Timings,
    /// What was searched: the question without interview framing, with typos
    /// corrected and short forms expanded (since cram.ask/2).
    pub understood: crate::retrieval::query::Understood,
    /// True when the notes do not cover the question as a topic: `results`
    /// are then empty and `questions` lists the three nearest questions
    /// instead, the mention's note first.
    pub abstained: bool,
    /// `covered`, `mentioned` (not a topic of the notes, but a passage
    /// mentions it: see `mention`) or `none` (since cram.ask/2).
    pub coverage: Coverage,
    /// Where an uncovered topic is mentioned (with `coverage: mentioned`).
    pub mention: Option<Mention>,
    /// The signals the abstention decision used.
    pub evidence: Evidence,
    /// The closest interview questions (best first).
    pub questions: Vec<QuestionRef>,
    /// Sentences from the passages that answer the question, in reading
    /// order, each with the rank of its passage (`[n]`). Empty when abstaining,
    /// in BM25 mode, or with `--key-points 0`.
    pub key_points: Vec<crate::retrieval::keypoints::KeyPoint>,
    /// The passages, in the order to read them.
    pub results: Vec<Passage>,
    /// Questions related to the closest one (from its front matter).
    pub related: Vec<QuestionRef>,
}

/// Parameters of the search, as used.
#[derive(Debug, Clone, Serialize)]
pub struct ParamsUsed {
    /// Passages asked for.
    pub k: usize,
    /// `rrf` or `convex` (hybrid mode only, else null).
    pub fusion: Option<Fusion>,
    /// Dense weight in convex fusion.
    pub alpha: f32,
    /// RRF constant.
    pub rrf_k: f32,
    /// MMR relevance weight (1.0 = pure relevance), null when MMR is off.
    pub mmr_lambda: Option<f32>,
    /// Candidates per arm.
    pub fetch_k: usize,
    /// Fused candidates MMR re-orders (null when MMR is off).
    pub mmr_pool: Option<usize>,
    /// Dense search backend actually used (`exact` or `hnsw`), null in BM25 mode.
    pub dense_backend: Option<DenseBackend>,
    /// Key points asked for.
    pub key_points: usize,
}

/// Which index generation answered.
#[derive(Debug, Clone, Serialize)]
pub struct IndexUsed {
    /// Its fingerprint.
    pub fingerprint: String,
    /// Passages in it.
    pub chunks: usize,
    /// Notes in it.
    pub notes: usize,
    /// Embedding model fingerprint.
    pub model: String,
}

/// Whether the notes cover a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Coverage {
    /// A note covers it: the answer is shown.
    Covered,
    /// No note covers it as a topic, but a passage mentions it.
    Mentioned,
    /// Nothing in the notes is about it.
    None,
}

/// A passage that mentions a topic the notes do not cover.
#[derive(Debug, Clone, Serialize)]
pub struct Mention {
    /// The passage id (`q15#traps-and-follow-ups`).
    pub chunk_id: String,
    /// Its question id, null for a user's note.
    pub question_id: Option<String>,
    /// Its note's path.
    pub path: String,
    /// Its heading path.
    pub heading: Vec<String>,
    /// First and last line in the file.
    pub lines: [usize; 2],
    /// The sentence that mentions the topic, when one stands out.
    pub sentence: Option<String>,
}

/// A reference to an interview question (or a user's note).
#[derive(Debug, Clone, Serialize)]
pub struct QuestionRef {
    /// `qNN`, or the note id for a user's note.
    pub id: String,
    /// Section, when known.
    pub section: Option<String>,
    /// The question text (or the note's title).
    pub question: String,
    /// The note's path.
    pub path: String,
}

/// One retrieved passage.
#[derive(Debug, Clone, Serialize)]
pub struct Passage {
    /// 1-based position in `results`.
    pub rank: usize,
    /// Stable passage id (`q23#mechanism`).
    pub chunk_id: String,
    /// `qNN`, or null for a user's note.
    pub question_id: Option<String>,
    /// The note's path (citation).
    pub path: String,
    /// Heading path inside the note.
    pub heading: Vec<String>,
    /// First and last line in the file (1-based, inclusive).
    pub lines: [usize; 2],
    /// The passage's markdown.
    pub text: String,
    /// The fused score (RRF, convex, or the single arm's score).
    pub score: f32,
    /// BM25 rank and score, when the BM25 arm returned it.
    pub bm25: Option<ArmEvidence>,
    /// Dense rank and cosine, when the dense arm returned it.
    pub dense: Option<ArmEvidence>,
    /// MMR details, when MMR ran.
    pub mmr: Option<MmrDetail>,
}
