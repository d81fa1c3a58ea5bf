//! One question through the pipeline: both arms, fusion, MMR.
//!
//! Shared by [`crate::retrieval::engine`] (questions over the notes) and [`crate::eval`]
//! (benchmark collections), so a benchmark measures exactly what `cram ask`
//! runs.

use std::time::Instant;

use serde::Serialize;

use crate::config::{DenseBackend, EXACT_SCAN_BELOW, Fusion, Mode, SearchParams};
use crate::error::Result;
use crate::index::dense::{self, Flat, Graph, Vectors};
use crate::index::lexical::{Hit, Lexical};
use crate::retrieval::fuse::{self, Fused};
use crate::retrieval::mmr;

/// The indexes one search runs over; passage ordinals index `vectors`.
pub struct Searcher<'a> {
    /// The BM25 index.
    pub lexical: &'a Lexical,
    /// Passage vectors (exact scan, and MMR similarities).
    pub vectors: &'a Vectors,
    /// The HNSW graph, when the dense arm should use it ([`use_graph`]).
    pub graph: Option<&'a Graph>,
}

/// The outcome of one search.
#[derive(Debug, Clone, Default)]
pub struct Ranking {
    /// BM25 hits (empty in dense mode).
    pub bm25: Vec<Hit>,
    /// Dense hits (empty in BM25 mode).
    pub dense: Vec<Hit>,
    /// The fused candidates, best first, at most the per-arm depth.
    pub fused: Vec<Fused>,
    /// Final order: indexes into `fused`, with MMR details when MMR chose them.
    pub order: Vec<(usize, Option<MmrDetail>)>,
    /// Which dense backend ran, if the dense arm ran.
    pub backend: Option<DenseBackend>,
    /// Stage timings (embedding excluded: the caller embeds).
    pub timings: Timings,
}

/// Whether the dense arm searches the HNSW graph for `n` passages.
pub fn use_graph(backend: DenseBackend, n: usize) -> bool {
    match backend {
        DenseBackend::Exact => false,
        DenseBackend::Hnsw => true,
        DenseBackend::Auto => n >= EXACT_SCAN_BELOW,
    }
}

impl Searcher<'_> {
    /// Ranks passages for `q` (text, for BM25) and `qvec` (its embedding, for
    /// the dense arm; required unless the mode is BM25).
    pub fn rank(&self, q: &str, qvec: Option<&[f32]>, p: &SearchParams) -> Result<Ranking> {
        let mut r = Ranking::default();
        let depth = p.pool();
        if p.mode != Mode::Dense {
            let s = Instant::now();
            r.bm25 = self.lexical.search(q, depth)?;
            r.timings.bm25 = ms(s);
        }
        if p.mode != Mode::Bm25
            && let Some(v) = qvec
        {
            let s = Instant::now();
            r.dense = match self.graph {
                Some(g) => {
                    r.backend = Some(DenseBackend::Hnsw);
                    g.search(v, depth, p.ef_search.max(depth))
                }
                None => {
                    r.backend = Some(DenseBackend::Exact);
                    Flat::new(self.vectors).search(v, depth)
                }
            };
            r.timings.dense = ms(s);
        }

        let s = Instant::now();
        r.fused = match p.mode {
            Mode::Bm25 => fuse::single(&r.bm25, false),
            Mode::Dense => fuse::single(&r.dense, true),
            Mode::Hybrid => match p.fusion {
                Fusion::Rrf => fuse::rrf(&r.bm25, &r.dense, p.rrf_k),
                Fusion::Convex => fuse::convex(&r.bm25, &r.dense, p.alpha),
            },
        };
        r.fused.truncate(depth);
        r.timings.fuse = ms(s);

        let s = Instant::now();
        r.order = match p.mmr_lambda {
            Some(lambda) => {
                // MMR re-orders the head of the fused list (the pool); if more
                // than the pool is asked for, the fused order continues after it.
                let pool = p.mmr_pool.min(r.fused.len());
                let scores: Vec<f32> = r.fused[..pool].iter().map(|f| f.score).collect();
                let ords: Vec<usize> = r.fused[..pool].iter().map(|f| f.ord as usize).collect();
                let vecs = self.vectors;
                let mut order: Vec<(usize, Option<MmrDetail>)> =
                    mmr::select(&scores, p.k, lambda, |i, j| {
                        dense::dot(vecs.row(ords[i]), vecs.row(ords[j]))
                    })
                    .into_iter()
                    .map(|m| {
                        let detail = MmrDetail {
                            relevance: m.relevance,
                            redundancy: m.redundancy,
                            score: m.mmr,
                        };
                        (m.index, Some(detail))
                    })
                    .collect();
                order.extend(
                    (pool..r.fused.len())
                        .take(p.k.saturating_sub(order.len()))
                        .map(|i| (i, None)),
                );
                order
            }
            None => (0..r.fused.len().min(p.k)).map(|i| (i, None)).collect(),
        };
        r.timings.mmr = ms(s);
        Ok(r)
    }
}

/// Milliseconds since `s`.
pub fn ms(s: Instant) -> f64 {
    s.elapsed().as_secs_f64() * 1000.0
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
