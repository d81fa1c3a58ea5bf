//! The answer to one question: the `--json` contract.
//!
//! `cram ask --json` prints exactly one [`Answer`] object. Its `schema` field
//! is [`SCHEMA`]; fields are only added within a version, never renamed or
//! removed (a breaking change bumps the version). All scores are finite
//! numbers; absent evidence is `null`.

use serde::Serialize;

use crate::config::{DenseBackend, Fusion, Mode};
use crate::fuse::ArmEvidence;

/// Name and version of the JSON schema.
pub const SCHEMA: &str = "cram.ask/1";

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
    /// True when the notes hold nothing relevant: `results` are then empty and
    /// `questions` lists the nearest questions instead.
    pub abstained: bool,
    /// The signals the abstention decision used.
    pub evidence: Evidence,
    /// The closest interview questions (best first).
    pub questions: Vec<QuestionRef>,
    /// Sentences from the passages that answer the question, in reading
    /// order, each with the rank of its passage (`[n]`). Empty when abstaining,
    /// in BM25 mode, or with `--key-points 0`.
    pub key_points: Vec<crate::keypoints::KeyPoint>,
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

/// Wall-clock milliseconds per stage of one question.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    /// Embedding the question.
    pub embed: f64,
    /// BM25 search.
    pub bm25: f64,
    /// Dense search.
    pub dense: f64,
    /// Fusion.
    pub fuse: f64,
    /// MMR re-ranking.
    pub mmr: f64,
    /// Extracting key points (embedding the candidate sentences).
    pub key_points: f64,
    /// Loading the embedding model, when this question loaded it (first
    /// question of a process); 0 otherwise.
    pub model_load: f64,
    /// Everything from question to answer, model loading included, index
    /// opening excluded.
    pub total: f64,
}

/// What the abstention decision looked at.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Evidence {
    /// Best cosine between the question and any passage (null in BM25 mode).
    pub top_cosine: Option<f32>,
    /// IDF-weighted share of the question's content words (stopwords
    /// removed) that occur in the best BM25 passage, in [0, 1].
    pub term_coverage: f32,
    /// Content words in the question.
    pub content_terms: usize,
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

/// How MMR chose a passage.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MmrDetail {
    /// Relevance normalised over the pool, in [0, 1].
    pub relevance: f32,
    /// Largest cosine to a passage shown above it (the penalty's input).
    pub redundancy: f32,
    /// The winning MMR score.
    pub score: f32,
}
