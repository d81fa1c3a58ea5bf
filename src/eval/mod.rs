//! Evaluation on the bundled notes: does the expected note come back?
//!
//! The dev query set (`tests/data/dev_queries.tsv`) pairs paraphrased study
//! queries with the id of the note that answers them. A passage is relevant
//! when it belongs to that note. For every method this reports:
//!
//! * `hit@1`, `hit@3`: share of queries with a relevant passage in the top 1 / 3;
//! * `mrr@10`: mean reciprocal rank of the first relevant passage (0 past 10);
//! * `abstained`: share of dev queries wrongly abstained on (they are all on-topic);
//! * `offtopic_abstained`: share of off-topic queries (`tests/data/offtopic.txt`)
//!   correctly abstained on;
//! * query latency p50 / p95 (warm, model loaded).

pub mod beir;
pub mod metrics;
pub mod models;
pub mod quality;
pub mod report;

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::config::{Fusion, Mode, SearchParams};
use crate::error::{Error, IoContext, Result};
use crate::retrieval::engine::Engine;

/// One dev query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevQuery {
    /// Expected note id (`qNN`).
    pub expected: String,
    /// The query text.
    pub query: String,
}

/// Reads `expected<TAB>query` lines; `#` lines and blank lines are skipped.
pub fn load_dev_queries(path: &Path) -> Result<Vec<DevQuery>> {
    let text = std::fs::read_to_string(path).ctx("reading", path)?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((id, q)) = line.split_once('\t') else {
            return Err(Error::InvalidParam {
                name: "--queries",
                reason: format!("{}:{}: expected `id<TAB>query`", path.display(), i + 1),
            });
        };
        out.push(DevQuery {
            expected: id.trim().to_string(),
            query: q.trim().to_string(),
        });
    }
    Ok(out)
}

/// Reads one query per line; `#` lines and blank lines are skipped.
pub fn load_lines(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).ctx("reading", path)?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// A named configuration to evaluate.
#[derive(Debug, Clone)]
pub struct Method {
    /// Name shown in the table (`bm25`, `hybrid-mmr`, ...).
    pub name: String,
    /// Its parameters.
    pub params: SearchParams,
}

/// The standard methods, all with `k` passages: each arm alone, both fusions
/// without MMR, and the default (`hybrid-mmr`: `base` as given).
pub fn standard_methods(base: &SearchParams) -> Vec<Method> {
    let plain = SearchParams {
        mmr_lambda: None,
        key_points: 0,
        ..base.clone()
    };
    vec![
        Method {
            name: "bm25".into(),
            params: SearchParams {
                mode: Mode::Bm25,
                ..plain.clone()
            },
        },
        Method {
            name: "dense".into(),
            params: SearchParams {
                mode: Mode::Dense,
                ..plain.clone()
            },
        },
        Method {
            name: "hybrid-rrf".into(),
            params: SearchParams {
                mode: Mode::Hybrid,
                fusion: Fusion::Rrf,
                ..plain.clone()
            },
        },
        Method {
            name: "hybrid-convex".into(),
            params: SearchParams {
                mode: Mode::Hybrid,
                fusion: Fusion::Convex,
                ..plain
            },
        },
        Method {
            name: "hybrid-mmr".into(),
            params: SearchParams {
                mode: Mode::Hybrid,
                ..base.clone()
            },
        },
    ]
}

/// The pseudo-relevance feedback methods (no MMR, `k` passages): RM3 on
/// BM25 alone, Rocchio on dense alone, and each and both in convex fusion
/// (compare with `hybrid-convex`).
pub fn feedback_methods(
    base: &SearchParams,
    rm3: crate::retrieval::feedback::Rm3Params,
    rocchio: crate::retrieval::feedback::RocchioParams,
) -> Vec<Method> {
    let plain = SearchParams {
        mmr_lambda: None,
        key_points: 0,
        ..base.clone()
    };
    let method = |name: &str, mode, rm3, rocchio| Method {
        name: name.into(),
        params: SearchParams {
            mode,
            fusion: Fusion::Convex,
            rm3,
            rocchio,
            ..plain.clone()
        },
    };
    vec![
        method("bm25-rm3", Mode::Bm25, Some(rm3), None),
        method("dense-rocchio", Mode::Dense, None, Some(rocchio)),
        method("hybrid-rm3", Mode::Hybrid, Some(rm3), None),
        method("hybrid-rocchio", Mode::Hybrid, None, Some(rocchio)),
        method("hybrid-prf", Mode::Hybrid, Some(rm3), Some(rocchio)),
    ]
}

/// Scores of one method on the notes.
#[derive(Debug, Clone, Serialize)]
pub struct NotesScore {
    /// Method name.
    pub method: String,
    /// Dev queries scored.
    pub queries: usize,
    /// Share with a relevant passage at rank 1.
    #[serde(rename = "hit@1")]
    pub hit1: f64,
    /// Share with a relevant passage in the top 3.
    #[serde(rename = "hit@3")]
    pub hit3: f64,
    /// Mean reciprocal rank of the first relevant passage, cut at 10.
    #[serde(rename = "mrr@10")]
    pub mrr10: f64,
    /// Share of (on-topic) dev queries abstained on: lower is better.
    pub abstained: f64,
    /// Share of off-topic queries abstained on: higher is better.
    pub offtopic_abstained: f64,
    /// Off-topic queries scored.
    pub offtopic: usize,
    /// Mean pairwise cosine of the passages shown for a query (k of them),
    /// averaged over the dev queries: lower means less repetition.
    pub redundancy: f64,
    /// Share of the k shown passages that come from the expected note.
    pub on_note: f64,
    /// Share of key-point sentences taken from the expected note (methods
    /// that extract key points only).
    pub key_points_on_note: Option<f64>,
    /// Key points shown per query, on average.
    pub key_points_per_query: f64,
    /// Share of answered (not abstained) queries shown 3 to 6 key points,
    /// the range study mode aims for (methods that extract key points only).
    pub key_points_3_to_6: Option<f64>,
    /// Median query latency, ms.
    pub p50_ms: f64,
    /// 95th percentile query latency, ms.
    pub p95_ms: f64,
    /// Dev queries whose note was not in the top 3: `expected<TAB>query<TAB>got`.
    pub misses: Vec<String>,
}

/// Runs every method over the dev and off-topic queries.
pub fn evaluate_notes(
    engine: &mut Engine,
    dev: &[DevQuery],
    offtopic: &[String],
    methods: &[Method],
) -> Result<Vec<NotesScore>> {
    // Retrieval depth for hit@k / MRR@10: at least 10 passages.
    let mut out = Vec::new();
    for m in methods {
        // Ranking depth for hit@k / MRR@10: at least 10; latency is retrieval only.
        let params = SearchParams {
            k: m.params.k.max(10),
            key_points: 0,
            ..m.params.clone()
        };
        let (mut kp_from_note, mut kp_total) = (0usize, 0usize);
        let (mut kp_answered, mut kp_in_range) = (0usize, 0usize);
        let (mut hit1, mut hit3, mut mrr, mut abst) = (0usize, 0usize, 0.0f64, 0usize);
        let mut lat = Vec::with_capacity(dev.len());
        let mut misses = Vec::new();
        let mut redundancy = 0.0f64;
        let mut on_note = 0.0f64;
        for q in dev {
            // Redundancy is measured on what a user sees: k passages.
            let shown = engine.ask(&q.query, &m.params)?;
            redundancy += mean_pairwise_cosine(engine, &shown.results);
            let from_note = shown
                .results
                .iter()
                .filter(|r| r.question_id.as_deref() == Some(q.expected.as_str()))
                .count();
            on_note += from_note as f64 / shown.results.len().max(1) as f64;
            let prefix = format!("{}#", q.expected);
            kp_total += shown.key_points.len();
            if !shown.abstained {
                kp_answered += 1;
                kp_in_range += usize::from((3..=6).contains(&shown.key_points.len()));
            }
            kp_from_note += shown
                .key_points
                .iter()
                .filter(|k| k.chunk_id.starts_with(&prefix))
                .count();
            let t = Instant::now();
            let a = engine.ask(&q.query, &params)?;
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
            // Relevance is judged on the ranking, abstention separately, so
            // both failure kinds stay visible.
            let ranked = if a.abstained {
                abst += 1;
                engine.ask_ranked(&q.query, &params)?
            } else {
                a.results.iter().map(|r| r.question_id.clone()).collect()
            };
            let first = ranked
                .iter()
                .position(|id| id.as_deref() == Some(q.expected.as_str()));
            if first == Some(0) {
                hit1 += 1;
            }
            if first.is_some_and(|r| r < 3) {
                hit3 += 1;
            } else {
                let got: Vec<String> = ranked
                    .iter()
                    .take(3)
                    .map(|g| g.clone().unwrap_or_default())
                    .collect();
                misses.push(format!("{}\t{}\t{}", q.expected, q.query, got.join(",")));
            }
            if let Some(r) = first.filter(|&r| r < 10) {
                mrr += 1.0 / (r + 1) as f64;
            }
        }
        let mut off = 0usize;
        for q in offtopic {
            if engine.ask(q, &params)?.abstained {
                off += 1;
            }
        }
        let n = dev.len().max(1) as f64;
        out.push(NotesScore {
            method: m.name.clone(),
            queries: dev.len(),
            hit1: hit1 as f64 / n,
            hit3: hit3 as f64 / n,
            mrr10: mrr / n,
            abstained: abst as f64 / n,
            offtopic_abstained: off as f64 / offtopic.len().max(1) as f64,
            offtopic: offtopic.len(),
            redundancy: redundancy / n,
            on_note: on_note / n,
            key_points_on_note: (kp_total > 0).then(|| kp_from_note as f64 / kp_total as f64),
            key_points_per_query: kp_total as f64 / n,
            key_points_3_to_6: (kp_total > 0 && kp_answered > 0)
                .then(|| kp_in_range as f64 / kp_answered as f64),
            p50_ms: percentile(&mut lat, 0.50),
            p95_ms: percentile(&mut lat, 0.95),
            misses,
        });
    }
    Ok(out)
}

/// Mean cosine over all pairs of the passages (0 for fewer than two).
fn mean_pairwise_cosine(engine: &Engine, results: &[crate::retrieval::answer::Passage]) -> f64 {
    let g = engine.generation();
    let rows: Vec<&[f32]> = results
        .iter()
        .filter_map(|r| g.chunks.iter().position(|c| c.id == r.chunk_id))
        .map(|i| g.vectors.row(i))
        .collect();
    let (mut sum, mut pairs) = (0.0f64, 0usize);
    for i in 0..rows.len() {
        for j in i + 1..rows.len() {
            sum += crate::index::dense::dot(rows[i], rows[j]) as f64;
            pairs += 1;
        }
    }
    if pairs == 0 { 0.0 } else { sum / pairs as f64 }
}

/// The `p` quantile (nearest rank) of `v`; 0 for an empty slice.
pub fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let rank = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

/// A markdown table of the scores (empty when no method ran, as with
/// `--realistic-only`).
pub fn notes_table(scores: &[NotesScore]) -> String {
    if scores.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "| method | hit@1 | hit@3 | MRR@10 | on-note@k | redundancy@k | dev abstained | off-topic abstained | p50 ms | p95 ms |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in scores {
        s.push_str(&format!(
            "| {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} ({}) | {:.2} | {:.2} |\n",
            r.method,
            r.hit1,
            r.hit3,
            r.mrr10,
            r.on_note,
            r.redundancy,
            r.abstained,
            r.offtopic_abstained,
            r.offtopic,
            r.p50_ms,
            r.p95_ms
        ));
    }
    for r in scores.iter().filter(|r| r.key_points_per_query > 0.0) {
        s.push_str(&format!(
            "\nKey points ({}): {:.1} per query, {:.1}% taken from the expected note; \
             {:.1}% of answered queries get 3 to 6.\n",
            r.method,
            r.key_points_per_query,
            100.0 * r.key_points_on_note.unwrap_or(0.0),
            100.0 * r.key_points_3_to_6.unwrap_or(0.0)
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_methods_no_table() {
        assert_eq!(notes_table(&[]), "");
    }

    #[test]
    fn percentile_nearest_rank() {
        let mut v = vec![5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(percentile(&mut v, 0.5), 3.0);
        assert_eq!(percentile(&mut v, 0.95), 5.0);
        assert_eq!(percentile(&mut [], 0.5), 0.0);
    }

    #[test]
    fn dev_file_format() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("q.tsv");
        std::fs::write(&p, "# comment\nq01\tmap vs mle\n\nq02\tbias variance\n").unwrap();
        let q = load_dev_queries(&p).unwrap();
        assert_eq!(q.len(), 2);
        assert_eq!(
            q[1],
            DevQuery {
                expected: "q02".into(),
                query: "bias variance".into()
            }
        );
        std::fs::write(&p, "q01 no tab\n").unwrap();
        assert!(load_dev_queries(&p).is_err());
    }
}

// ---------------------------------------------------------------------------
// Benchmark collections (BEIR layout)
// ---------------------------------------------------------------------------

/// Methods `cram eval --beir` knows, in table order.
pub const BEIR_METHODS: &[&str] = &[
    "bm25",
    "dense-exact",
    "dense-hnsw",
    "hybrid-rrf",
    "hybrid-convex",
    "hybrid-mmr",
    // BM25 executors and lengths (`crate::index::bm25`).
    "bm25-taat",
    "bm25-wand",
    "bm25-exact-len",
    // Pseudo-relevance feedback (`crate::retrieval::feedback`); hybrids are convex, no MMR.
    "bm25-rm3",
    "dense-rocchio",
    "hybrid-rm3",
    "hybrid-rocchio",
    "hybrid-prf",
];

/// Settings of a benchmark run.
#[derive(Debug, Clone)]
pub struct BeirOptions {
    /// Methods to run (names from [`BEIR_METHODS`]).
    pub methods: Vec<String>,
    /// Parameters shared by all methods (fusion weights, MMR lambda, ...).
    pub base: SearchParams,
    /// Documents each arm fetches before fusion (published hybrids fuse the top 1,000).
    pub fetch_k: usize,
    /// Extra convex-fusion weights to sweep (nDCG@10 and Recall@100 per alpha).
    pub alpha_sweep: Vec<f32>,
    /// Bootstrap resamples for the paired comparisons.
    pub resamples: usize,
    /// Where to cache document embeddings.
    pub cache_dir: std::path::PathBuf,
    /// Write TREC run files here.
    pub run_out: Option<std::path::PathBuf>,
    /// RM3 settings of the `*-rm3` and `hybrid-prf` methods.
    pub rm3: crate::retrieval::feedback::Rm3Params,
    /// Rocchio settings of the `*-rocchio` and `hybrid-prf` methods.
    pub rocchio: crate::retrieval::feedback::RocchioParams,
}

/// Latency percentiles, milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
}

impl Latency {
    fn of(v: &[f64]) -> Latency {
        let mut v = v.to_vec();
        Latency {
            p50: percentile(&mut v, 0.50),
            p95: percentile(&mut v, 0.95),
            p99: percentile(&mut v, 0.99),
        }
    }
}

/// One method's results on a collection.
#[derive(Debug, Clone, Serialize)]
pub struct BeirMethod {
    /// Method name.
    pub name: String,
    /// Mean metrics over the scored queries.
    #[serde(flatten)]
    pub scores: crate::eval::metrics::Scores,
    /// Query embedding latency (0 for BM25).
    pub embed_ms: Latency,
    /// Search latency (arms + fusion + MMR).
    pub search_ms: Latency,
    /// Whole query latency (embedding + search).
    pub total_ms: Latency,
    /// Queries per second, one query at a time: search on one thread, query
    /// embedding on ONNX Runtime's default thread pool.
    pub qps_one_thread: f64,
    /// Queries per second with the searches spread over all cores (rayon);
    /// query embedding time as measured one at a time.
    pub qps_all_threads: f64,
    /// Bootstrap 95% confidence interval of the mean nDCG@10.
    pub ndcg10_ci: (f64, f64),
    /// Bootstrap 95% confidence interval of the mean Recall@100.
    pub recall100_ci: (f64, f64),
    /// nDCG@10 per query, in `queries` order (for paired comparisons).
    #[serde(skip)]
    pub per_query_ndcg: Vec<f64>,
    /// Recall@100 per query, in `queries` order (for paired comparisons).
    #[serde(skip)]
    pub per_query_recall100: Vec<f64>,
    /// Whole-query latency per query, ms (for the latency plot).
    #[serde(skip)]
    pub per_query_ms: Vec<f64>,
}

/// A paired comparison `b` vs `a` on nDCG@10.
#[derive(Debug, Clone, Serialize)]
pub struct BeirPaired {
    /// Baseline.
    pub a: String,
    /// Compared method.
    pub b: String,
    /// nDCG@10 difference statistics (`b - a`).
    #[serde(flatten)]
    pub stats: crate::eval::metrics::Paired,
    /// Recall@100 difference statistics (`b - a`).
    pub recall100: crate::eval::metrics::Paired,
}

/// HNSW accuracy at one search breadth.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct EfPoint {
    /// Search breadth.
    pub ef: usize,
    /// Recall@10 against the exact scan, mean over the test queries.
    pub recall_at_10: f64,
}

/// Build and resource figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BeirBuild {
    /// Seconds to build the BM25 index.
    pub bm25_seconds: f64,
    /// Seconds spent embedding documents in this run (0 when all were cached).
    pub embed_seconds: f64,
    /// Documents embedded in this run.
    pub embedded: usize,
    /// Documents per second while embedding (0 when nothing was embedded).
    pub passages_per_second: f64,
    /// Seconds to build the HNSW graph.
    pub hnsw_seconds: f64,
    /// Bytes on disk: BM25 index.
    pub bm25_bytes: u64,
    /// Bytes on disk: document vectors (f32).
    pub vector_bytes: u64,
    /// Bytes on disk: HNSW dump (graph + data).
    pub hnsw_bytes: u64,
    /// Peak resident memory of the process so far, MiB (Linux; 0 elsewhere).
    pub peak_rss_mib: f64,
}

/// Everything `cram eval --beir` measured.
#[derive(Debug, Clone, Serialize)]
pub struct BeirReport {
    /// Always `cram.eval.beir/2` (`/2`: paired Recall@100, BM25 and feedback settings, `bm25_paths`).
    pub schema: &'static str,
    /// Collection name.
    pub collection: String,
    /// Documents.
    pub documents: usize,
    /// Scored queries.
    pub queries: usize,
    /// Embedding model fingerprint.
    pub model: String,
    /// Per-arm fetch depth.
    pub fetch_k: usize,
    /// Build figures.
    pub build: BeirBuild,
    /// HNSW recall@10 per ef, and the ef used by `dense-hnsw`.
    pub hnsw_ef: Vec<EfPoint>,
    /// The ef chosen (smallest with recall@10 >= 0.99).
    pub hnsw_ef_chosen: usize,
    /// Per-method results.
    pub methods: Vec<BeirMethod>,
    /// Paired comparisons on nDCG@10.
    pub paired: Vec<BeirPaired>,
    /// Convex fusion sweep: (alpha, nDCG@10, Recall@100).
    pub alpha_sweep: Vec<(f32, f64, f64)>,
    /// The same sweep for each feedback hybrid run (`hybrid-rm3`,
    /// `hybrid-rocchio`, `hybrid-prf`).
    pub feedback_alpha_sweep: Vec<AlphaPoint>,
    /// BM25's k1 and b (all methods).
    pub bm25: crate::index::bm25::Bm25Params,
    /// RM3 settings of the RM3 methods.
    pub rm3: crate::retrieval::feedback::Rm3Params,
    /// Rocchio settings of the Rocchio methods.
    pub rocchio: crate::retrieval::feedback::RocchioParams,
    /// Term at a time against block-max WAND on every query (with `bm25-wand`).
    pub bm25_paths: Option<PathCheck>,
}

/// One point of a feedback hybrid's alpha sweep.
#[derive(Debug, Clone, Serialize)]
pub struct AlphaPoint {
    /// The hybrid method.
    pub method: String,
    /// Weight of the dense arm.
    pub alpha: f32,
    /// Mean nDCG@10.
    #[serde(rename = "ndcg@10")]
    pub ndcg10: f64,
    /// Mean Recall@100.
    #[serde(rename = "recall@100")]
    pub recall100: f64,
}

/// The two BM25 executors on the same queries at the same k1 and b.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PathCheck {
    /// Queries compared.
    pub queries: usize,
    /// Passages each executor returned per query.
    pub depth: usize,
    /// Queries whose two rankings are the same passages in the same order.
    pub identical: usize,
    /// Queries whose rankings differ only in the order of passages whose
    /// scores are within float summation error of each other
    /// ([`crate::index::bm25::summation_tolerance`] of the query's terms).
    pub identical_up_to_ties: usize,
    /// Largest relative score difference at equal rank.
    pub max_relative_score_diff: f64,
}

/// Peak resident set size of this process in MiB (Linux `VmHWM`), else 0.
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Checks method names against [`BEIR_METHODS`].
pub fn check_methods(methods: &[String]) -> Result<()> {
    match methods.iter().find(|m| !BEIR_METHODS.contains(&m.as_str())) {
        Some(bad) => Err(Error::InvalidParam {
            name: "--methods",
            reason: format!(
                "unknown method `{bad}` (known: {})",
                BEIR_METHODS.join(", ")
            ),
        }),
        None if methods.is_empty() => Err(Error::InvalidParam {
            name: "--methods",
            reason: "no method given".into(),
        }),
        None => Ok(()),
    }
}

/// Checks the method names and each method's parameters (e.g. `bm25-wand`
/// needs tantivy's k1 and b) before any work is done.
pub fn check_options(o: &BeirOptions) -> Result<()> {
    check_methods(&o.methods)?;
    for name in &o.methods {
        let p = method_params(name, o, DEPTH)?;
        p.bm25.validate()?;
        p.rm3.map_or(Ok(()), |r| r.validate())?;
        p.rocchio.map_or(Ok(()), |r| r.validate())?;
    }
    Ok(())
}

fn method_params(name: &str, o: &BeirOptions, depth: usize) -> Result<SearchParams> {
    use crate::config::DenseBackend;
    let base = SearchParams {
        k: depth,
        fetch_k: o.fetch_k.max(depth),
        key_points: 0,
        mmr_lambda: None,
        dense_backend: DenseBackend::Exact,
        ..o.base.clone()
    };
    Ok(match name {
        "bm25" => SearchParams {
            mode: Mode::Bm25,
            ..base
        },
        "dense-exact" => SearchParams {
            mode: Mode::Dense,
            ..base
        },
        "dense-hnsw" => SearchParams {
            mode: Mode::Dense,
            dense_backend: DenseBackend::Hnsw,
            ..base
        },
        "hybrid-rrf" => SearchParams {
            mode: Mode::Hybrid,
            fusion: Fusion::Rrf,
            ..base
        },
        "hybrid-convex" => SearchParams {
            mode: Mode::Hybrid,
            fusion: Fusion::Convex,
            ..base
        },
        "hybrid-mmr" => SearchParams {
            mode: Mode::Hybrid,
            mmr_lambda: o.base.mmr_lambda.or(Some(0.85)),
            ..base
        },
        "bm25-taat" | "bm25-wand" | "bm25-exact-len" => SearchParams {
            mode: Mode::Bm25,
            bm25: crate::index::bm25::Bm25Params {
                path: match name {
                    "bm25-taat" | "bm25-exact-len" => crate::index::bm25::Bm25Path::Taat,
                    _ => crate::index::bm25::Bm25Path::Wand,
                },
                ..base.bm25
            },
            ..base
        },
        "bm25-rm3" => SearchParams {
            mode: Mode::Bm25,
            rm3: Some(o.rm3),
            ..base
        },
        "dense-rocchio" => SearchParams {
            mode: Mode::Dense,
            rocchio: Some(o.rocchio),
            ..base
        },
        "hybrid-rm3" | "hybrid-rocchio" | "hybrid-prf" => SearchParams {
            mode: Mode::Hybrid,
            fusion: Fusion::Convex,
            rm3: (name != "hybrid-rocchio").then_some(o.rm3),
            rocchio: (name != "hybrid-rm3").then_some(o.rocchio),
            ..base
        },
        other => {
            return Err(Error::InvalidParam {
                name: "--methods",
                reason: format!(
                    "unknown method `{other}` (known: {})",
                    BEIR_METHODS.join(", ")
                ),
            });
        }
    })
}

/// Document vectors (through the cache) and query vectors, the queries
/// embedded one at a time to measure latency as a user sees it.
fn embed_collection(
    coll: &crate::eval::beir::Collection,
    embedder: &mut crate::index::embed::Embedder,
    o: &BeirOptions,
    build: &mut BeirBuild,
    on_event: &mut dyn FnMut(crate::retrieval::engine::Event),
) -> Result<(crate::index::dense::Vectors, Vec<Vec<f32>>, Vec<f64>)> {
    use crate::retrieval::engine::Event;
    let mut cache = crate::index::cache::EmbeddingCache::open(&o.cache_dir, embedder.info())?;
    on_event(Event::Notice(format!(
        "{}: {} documents, {} cached vectors in {}",
        coll.name,
        coll.doc_texts.len(),
        cache.len(),
        cache.path().display()
    )));
    let t = Instant::now();
    let (vectors, embedded) = cache.embed_all(&coll.doc_texts, embedder, &mut |done, total| {
        on_event(Event::Embedding { done, total })
    })?;
    if embedded > 0 {
        build.embed_seconds = t.elapsed().as_secs_f64();
        build.embedded = embedded;
        build.passages_per_second = embedded as f64 / build.embed_seconds.max(1e-9);
    }
    build.vector_bytes = (vectors.data.len() * 4) as u64;

    let mut qvecs = Vec::with_capacity(coll.queries.len());
    let mut embed_ms = Vec::with_capacity(coll.queries.len());
    for (_, text) in &coll.queries {
        let t = Instant::now();
        qvecs.push(embedder.embed_query(text)?);
        embed_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }

    Ok((vectors, qvecs, embed_ms))
}

/// Documents scored per query (metrics go to 100).
const DEPTH: usize = 100;

/// One collection's indexes and query vectors, ready to search.
struct Prepared<'a> {
    coll: &'a crate::eval::beir::Collection,
    o: &'a BeirOptions,
    lexical: crate::index::lexical::Lexical,
    /// The same index scored with exact document lengths (`bm25-exact-len`).
    exact_len: Option<crate::index::lexical::Lexical>,
    vectors: crate::index::dense::Vectors,
    qvecs: Vec<Vec<f32>>,
    embed_ms: Vec<f64>,
    graph: Option<crate::index::dense::Graph>,
    ef_chosen: usize,
}

/// Builds the BM25 index in `dir`, and a second reader scored with exact
/// lengths when `bm25-exact-len` is asked for.
fn build_lexical(
    coll: &crate::eval::beir::Collection,
    o: &BeirOptions,
    dir: &Path,
    build: &mut BeirBuild,
) -> Result<(
    crate::index::lexical::Lexical,
    Option<crate::index::lexical::Lexical>,
)> {
    use crate::index::lexical::Lexical;
    let t = Instant::now();
    std::fs::create_dir(dir).ctx("creating", dir)?;
    crate::index::lexical::build(dir, &coll.doc_texts)?;
    let lexical = Lexical::open(dir)?;
    if o.methods
        .iter()
        .any(|m| m.ends_with("rm3") || m == "hybrid-prf")
    {
        // RM3's term vectors are read back from the postings once, here,
        // rather than inside the first query's latency.
        lexical.scorer().term_vectors()?;
    }
    build.bm25_seconds = t.elapsed().as_secs_f64();
    build.bm25_bytes = crate::index::dir_size(dir);
    let exact_len = if o.methods.iter().any(|m| m == "bm25-exact-len") {
        let mut l = Lexical::open(dir)?;
        let lens: Vec<u32> = coll
            .doc_texts
            .iter()
            .map(|t| crate::index::lexical::analyze(t).len() as u32)
            .collect();
        l.scorer_mut().set_exact_lengths(&lens)?;
        Some(l)
    } else {
        None
    };
    Ok((lexical, exact_len))
}

/// HNSW: build, dump (for its size), and pick the smallest ef with
/// recall@10 >= 0.99 against the exact scan.
fn build_graph(
    vectors: &crate::index::dense::Vectors,
    qvecs: &[Vec<f32>],
    dir: &Path,
    build: &mut BeirBuild,
) -> Result<(crate::index::dense::Graph, Vec<EfPoint>, usize)> {
    use crate::index::dense::{Graph, GraphParams};
    let t = Instant::now();
    let g = Graph::build(vectors, GraphParams::default());
    build.hnsw_seconds = t.elapsed().as_secs_f64();
    std::fs::create_dir(dir).ctx("creating", dir)?;
    g.dump(dir)?;
    build.hnsw_bytes = crate::index::dir_size(dir);
    let qs: Vec<&[f32]> = qvecs.iter().map(|v| v.as_slice()).collect();
    let mut points = Vec::new();
    for ef in [16, 32, 64, 128, 256, 512] {
        let r = crate::index::dense::recall_at_k(vectors, &g, &qs, 10, ef);
        points.push(EfPoint {
            ef,
            recall_at_10: r,
        });
        if r >= 0.99 {
            return Ok((g, points, ef));
        }
    }
    Ok((g, points, 512))
}

impl Prepared<'_> {
    /// The indexes method `name` searches.
    fn searcher(&self, name: &str) -> crate::retrieval::search::Searcher<'_> {
        crate::retrieval::search::Searcher {
            lexical: match (name, &self.exact_len) {
                ("bm25-exact-len", Some(l)) => l,
                _ => &self.lexical,
            },
            vectors: &self.vectors,
            graph: if name == "dense-hnsw" {
                self.graph.as_ref()
            } else {
                None
            },
        }
    }

    /// One query's top [`DEPTH`] documents (its own id dropped) with
    /// trec_eval-safe scores, and the search time in ms.
    fn run_query(
        &self,
        searcher: &crate::retrieval::search::Searcher,
        params: &SearchParams,
        (qid, q): (&str, &str),
        qv: &[f32],
    ) -> Result<(Vec<(String, f32)>, f64)> {
        let t = Instant::now();
        let p = SearchParams {
            k: DEPTH + 1,
            ..params.clone()
        };
        let r = searcher.rank(q, Some(qv), &p)?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let mmr = params.mmr_lambda.is_some();
        let mut docs: Vec<(String, f32)> = r
            .order
            .iter()
            .enumerate()
            .map(|(rank, &(i, _))| {
                let f = &r.fused[i];
                // MMR's order is not the fused score's: give trec_eval a
                // strictly decreasing score so it keeps our order.
                let score = if mmr {
                    1.0 / (rank + 1) as f32
                } else {
                    f.score
                };
                (self.coll.doc_ids[f.ord as usize].clone(), score)
            })
            .filter(|(d, _)| d != qid)
            .collect();
        docs.truncate(DEPTH);
        if !mmr {
            crate::eval::metrics::trec_order(&mut docs);
        }
        Ok((docs, ms))
    }

    /// Every query through method `name`: metrics, latency, throughput, run file.
    fn run_method(&self, name: &str) -> Result<BeirMethod> {
        use rayon::prelude::*;
        let (coll, o) = (self.coll, self.o);
        let mut params = method_params(name, o, DEPTH)?;
        params.ef_search = self.ef_chosen.max(1);
        let searcher = self.searcher(name);
        let mut per_query = Vec::with_capacity(coll.queries.len());
        let mut search_ms = Vec::with_capacity(coll.queries.len());
        let mut run_lines = String::new();
        for ((qid, text), qv) in coll.queries.iter().zip(&self.qvecs) {
            let (docs, ms) = self.run_query(&searcher, &params, (qid, text), qv)?;
            search_ms.push(ms);
            let ids: Vec<&str> = docs.iter().map(|(d, _)| d.as_str()).collect();
            per_query.push(crate::eval::metrics::score(&ids, &coll.qrels[qid]));
            if o.run_out.is_some() {
                for (rank, (d, s)) in docs.iter().enumerate() {
                    run_lines.push_str(&format!("{qid} Q0 {d} {} {s} cram-{name}\n", rank + 1));
                }
            }
        }
        if let Some(dir) = &o.run_out {
            let p = dir.join(format!("{}.{name}.run", coll.name));
            std::fs::write(&p, run_lines).ctx("writing", &p)?;
        }
        let emb: Vec<f64> = if params.mode != Mode::Bm25 {
            self.embed_ms.clone()
        } else {
            vec![0.0; self.embed_ms.len()]
        };
        let total: Vec<f64> = emb.iter().zip(&search_ms).map(|(a, b)| a + b).collect();
        let mean_total = total.iter().sum::<f64>() / total.len().max(1) as f64;
        // All threads: the searches run in parallel; query embedding already
        // uses ONNX Runtime's thread pool, so its measured time is added as is.
        let t = Instant::now();
        let p = SearchParams {
            k: DEPTH + 1,
            ..params.clone()
        };
        coll.queries
            .par_iter()
            .zip(&self.qvecs)
            .map(|((_, text), qv)| searcher.rank(text, Some(qv), &p).map(|_| ()))
            .collect::<Result<Vec<()>>>()?;
        let all_secs = t.elapsed().as_secs_f64() + emb.iter().sum::<f64>() / 1000.0;
        let ndcgs: Vec<f64> = per_query.iter().map(|s| s.ndcg10).collect();
        let recalls: Vec<f64> = per_query.iter().map(|s| s.recall100).collect();
        Ok(BeirMethod {
            name: name.to_string(),
            scores: crate::eval::metrics::Scores::mean(&per_query),
            ndcg10_ci: crate::eval::metrics::bootstrap_mean_ci(&ndcgs, o.resamples, 0x5eed),
            recall100_ci: crate::eval::metrics::bootstrap_mean_ci(&recalls, o.resamples, 0x5eed),
            per_query_ms: total.clone(),
            embed_ms: Latency::of(&emb),
            search_ms: Latency::of(&search_ms),
            total_ms: Latency::of(&total),
            qps_one_thread: 1000.0 / mean_total.max(1e-9),
            qps_all_threads: coll.queries.len() as f64 / all_secs.max(1e-9),
            per_query_ndcg: ndcgs,
            per_query_recall100: recalls,
        })
    }

    /// nDCG@10 and Recall@100 of a convex hybrid (no MMR) at each swept alpha.
    fn alpha_sweep(&self, method: &str) -> Result<Vec<(f32, f64, f64)>> {
        let mut out = Vec::new();
        let searcher = self.searcher(method);
        for &alpha in &self.o.alpha_sweep {
            let params = SearchParams {
                alpha,
                ..method_params(method, self.o, DEPTH)?
            };
            let mut per_query = Vec::new();
            for ((qid, text), qv) in self.coll.queries.iter().zip(&self.qvecs) {
                let (docs, _) = self.run_query(&searcher, &params, (qid, text), qv)?;
                let ids: Vec<&str> = docs.iter().map(|(d, _)| d.as_str()).collect();
                per_query.push(crate::eval::metrics::score(&ids, &self.coll.qrels[qid]));
            }
            let m = crate::eval::metrics::Scores::mean(&per_query);
            out.push((alpha, m.ndcg10, m.recall100));
        }
        Ok(out)
    }

    /// Term at a time against block-max WAND at `fetch_k` on every query.
    fn path_check(&self) -> Result<PathCheck> {
        use crate::index::bm25::{Bm25Params, Bm25Path};
        let depth = self.o.fetch_k;
        let at = |path| Bm25Params {
            path,
            ..self.o.base.bm25
        };
        let (taat, wand) = (at(Bm25Path::Taat), at(Bm25Path::Wand));
        wand.validate()?;
        let mut c = PathCheck {
            queries: self.coll.queries.len(),
            depth,
            identical: 0,
            identical_up_to_ties: 0,
            max_relative_score_diff: 0.0,
        };
        for (_, text) in &self.coll.queries {
            let terms = self.lexical.analyze(text);
            let a = self.lexical.search_terms_with(&terms, depth, &taat)?;
            let b = self.lexical.search_terms_with(&terms, depth, &wand)?;
            let same = a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x.ord == y.ord);
            c.identical += usize::from(same);
            let tolerance = crate::index::bm25::summation_tolerance(terms.len());
            c.identical_up_to_ties +=
                usize::from(crate::index::bm25::same_up_to_ties(&a, &b, tolerance));
            for (x, y) in a.iter().zip(&b) {
                let rel = (x.score - y.score).abs() / x.score.abs().max(y.score.abs()).max(1e-30);
                c.max_relative_score_diff = c.max_relative_score_diff.max(rel as f64);
            }
        }
        Ok(c)
    }
}

/// Paired comparisons on nDCG@10 and Recall@100: every method against BM25,
/// hybrids and Rocchio against dense, feedback hybrids against convex fusion.
fn paired_comparisons(methods: &[BeirMethod], resamples: usize) -> Vec<BeirPaired> {
    let find = |n: &str| methods.iter().find(|m| m.name == n);
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for m in methods {
        let b = m.name.as_str();
        if b != "bm25" {
            pairs.push(("bm25", b));
        }
        if b.starts_with("hybrid") || b == "dense-rocchio" {
            pairs.push(("dense-exact", b));
        }
        if matches!(b, "hybrid-rm3" | "hybrid-rocchio" | "hybrid-prf") {
            pairs.push(("hybrid-convex", b));
        }
    }
    let mut out = Vec::new();
    for (a, b) in pairs {
        if let (Some(ma), Some(mb)) = (find(a), find(b)) {
            let boot = |x: &[f64], y: &[f64]| {
                crate::eval::metrics::paired_bootstrap(x, y, resamples, 0x5eed)
            };
            out.push(BeirPaired {
                a: a.to_string(),
                b: b.to_string(),
                stats: boot(&ma.per_query_ndcg, &mb.per_query_ndcg),
                recall100: boot(&ma.per_query_recall100, &mb.per_query_recall100),
            });
        }
    }
    out
}

/// Runs the benchmark on one collection.
pub fn evaluate_beir(
    coll: &crate::eval::beir::Collection,
    embedder: &mut crate::index::embed::Embedder,
    o: &BeirOptions,
    on_event: &mut dyn FnMut(crate::retrieval::engine::Event),
) -> Result<BeirReport> {
    // Validate methods before spending minutes on embeddings.
    check_options(o)?;
    let mut build = BeirBuild::default();
    let tmp = tempfile::tempdir().map_err(|e| Error::io("creating a temporary folder", e))?;
    let (lexical, exact_len) = build_lexical(coll, o, &tmp.path().join("lexical"), &mut build)?;

    // Document and query vectors, only when a method uses them (a BM25-only
    // run needs no model work at all).
    let needs_vectors =
        o.methods.iter().any(|m| !m.starts_with("bm25")) || !o.alpha_sweep.is_empty();
    let (vectors, qvecs, embed_ms) = if needs_vectors {
        embed_collection(coll, embedder, o, &mut build, on_event)?
    } else {
        let n = coll.queries.len();
        (
            crate::index::dense::Vectors::default(),
            vec![Vec::new(); n],
            vec![0.0; n],
        )
    };
    let (graph, hnsw_ef, ef_chosen) = if o.methods.iter().any(|m| m == "dense-hnsw") {
        let (g, points, ef) = build_graph(&vectors, &qvecs, &tmp.path().join("hnsw"), &mut build)?;
        (Some(g), points, ef)
    } else {
        (None, Vec::new(), 0)
    };
    let prepared = Prepared {
        coll,
        o,
        lexical,
        exact_len,
        vectors,
        qvecs,
        embed_ms,
        graph,
        ef_chosen,
    };

    if let Some(dir) = &o.run_out {
        std::fs::create_dir_all(dir).ctx("creating", dir)?;
    }
    let methods = o
        .methods
        .iter()
        .map(|name| prepared.run_method(name))
        .collect::<Result<Vec<_>>>()?;
    let paired = paired_comparisons(&methods, o.resamples);
    let alpha_sweep = prepared.alpha_sweep("hybrid-convex")?;
    let mut feedback_alpha_sweep = Vec::new();
    for m in ["hybrid-rm3", "hybrid-rocchio", "hybrid-prf"] {
        if o.methods.iter().any(|n| n == m) {
            for (alpha, ndcg10, recall100) in prepared.alpha_sweep(m)? {
                feedback_alpha_sweep.push(AlphaPoint {
                    method: m.to_string(),
                    alpha,
                    ndcg10,
                    recall100,
                });
            }
        }
    }
    let bm25_paths = if o.methods.iter().any(|m| m == "bm25-wand") {
        Some(prepared.path_check()?)
    } else {
        None
    };
    build.peak_rss_mib = peak_rss_mib();
    Ok(BeirReport {
        schema: "cram.eval.beir/2",
        collection: coll.name.clone(),
        documents: coll.doc_ids.len(),
        queries: coll.queries.len(),
        model: embedder.info().fingerprint(),
        fetch_k: o.fetch_k,
        build,
        hnsw_ef,
        hnsw_ef_chosen: ef_chosen,
        methods,
        paired,
        alpha_sweep,
        feedback_alpha_sweep,
        bm25: o.base.bm25,
        rm3: o.rm3,
        rocchio: o.rocchio,
        bm25_paths,
    })
}

/// Published nDCG@10 on the test split, for the table printed beside ours.
/// Sources: `../shared/benchmarks/README.md` (BEIR, Thakur et al. 2021,
/// arXiv:2104.08663; Anserini/Pyserini BEIR configs and fusion docs; MTEB
/// results; bm25-benchmarks), and the bm25s + MiniLM Python pipeline measured
/// on a 2-core machine like ours.
pub const PUBLISHED: &[(&str, &str, f64)] = &[
    ("scifact", "BM25, BEIR paper (Elasticsearch)", 0.665),
    ("scifact", "BM25 flat, Anserini (k1=0.9, b=0.4)", 0.6789),
    ("scifact", "BM25, bm25s (k1=1.5, b=0.75)", 0.6874),
    ("scifact", "all-MiniLM-L6-v2, MTEB", 0.6451),
    ("scifact", "Python bm25s+MiniLM, BM25 k1=1.2 b=0.75", 0.6791),
    ("scifact", "Python bm25s+MiniLM, hybrid RRF k=60", 0.7177),
    (
        "scifact",
        "Python bm25s+MiniLM, hybrid convex alpha=0.5",
        0.7269,
    ),
    (
        "scifact",
        "Python bm25s+MiniLM, MMR 0.7 over top-50 of convex",
        0.7227,
    ),
    ("arguana", "BM25, BEIR paper (Elasticsearch)", 0.315),
    ("arguana", "BM25 flat, Anserini (k1=0.9, b=0.4)", 0.3970),
    ("arguana", "BM25, bm25s (k1=1.5, b=0.75)", 0.4928),
    ("arguana", "all-MiniLM-L6-v2, MTEB", 0.5017),
    ("arguana", "Python bm25s+MiniLM, BM25 k1=1.2 b=0.75", 0.4891),
    ("arguana", "Python bm25s+MiniLM, hybrid RRF k=60", 0.5398),
    (
        "arguana",
        "Python bm25s+MiniLM, hybrid convex alpha=0.5",
        0.5423,
    ),
    (
        "arguana",
        "Python bm25s+MiniLM, MMR 0.7 over top-50 of convex",
        0.5348,
    ),
];

/// The report as markdown tables.
pub fn beir_markdown(r: &BeirReport) -> String {
    let mut s = format!(
        "## {} ({} documents, {} queries, fetch {} per arm, model {})\n\n\
         BM25 k1 {}, b {}; RM3 {} documents, {} terms, original weight {}; \
         Rocchio {} documents, alpha {}, beta {}\n\n",
        r.collection,
        r.documents,
        r.queries,
        r.fetch_k,
        r.model,
        r.bm25.k1,
        r.bm25.b,
        r.rm3.fb_docs,
        r.rm3.fb_terms,
        r.rm3.original_weight,
        r.rocchio.fb_docs,
        r.rocchio.alpha,
        r.rocchio.beta
    );
    s.push_str("| method | nDCG@10 | R@10 | R@100 | MRR@10 | MAP@100 | embed p50 ms | search p50/p95/p99 ms | q/s 1 thread | q/s all |\n");
    s.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
    for m in &r.methods {
        s.push_str(&format!(
            "| {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.2} | {:.2} / {:.2} / {:.2} | {:.0} | {:.0} |\n",
            m.name,
            m.scores.ndcg10,
            m.scores.recall10,
            m.scores.recall100,
            m.scores.mrr10,
            m.scores.map100,
            m.embed_ms.p50,
            m.search_ms.p50,
            m.search_ms.p95,
            m.search_ms.p99,
            m.qps_one_thread,
            m.qps_all_threads
        ));
    }
    s.push_str(&comparisons_markdown(r));
    if !r.hnsw_ef.is_empty() {
        s.push_str(&format!(
            "\nHNSW (M=16, ef_construction=200) recall@10 vs exact, by ef (chosen: {}): ",
            r.hnsw_ef_chosen
        ));
        let pts: Vec<String> = r
            .hnsw_ef
            .iter()
            .map(|p| format!("ef {} -> {:.4}", p.ef, p.recall_at_10))
            .collect();
        s.push_str(&pts.join(", "));
        s.push('\n');
    }
    let b = &r.build;
    s.push_str(&format!(
        "\nBuild: BM25 {:.2} s ({:.1} MB); embedded {} documents in {:.1} s ({:.1}/s); vectors {:.1} MB; HNSW {:.1} s ({:.1} MB); peak RSS {:.0} MiB\n",
        b.bm25_seconds,
        b.bm25_bytes as f64 / 1e6,
        b.embedded,
        b.embed_seconds,
        b.passages_per_second,
        b.vector_bytes as f64 / 1e6,
        b.hnsw_seconds,
        b.hnsw_bytes as f64 / 1e6,
        b.peak_rss_mib
    ));
    let published: Vec<_> = PUBLISHED
        .iter()
        .filter(|(c, _, _)| *c == r.collection)
        .collect();
    if !published.is_empty() {
        s.push_str("\nPublished nDCG@10 (see BENCHMARKS.md for sources):\n\n| system | nDCG@10 |\n|---|---|\n");
        for (_, name, v) in published {
            s.push_str(&format!("| {name} | {v:.4} |\n"));
        }
    }
    s
}

/// The paired comparisons, the executors' check and the alpha sweeps of a
/// BEIR report, as markdown.
fn comparisons_markdown(r: &BeirReport) -> String {
    let mut s = String::new();
    if !r.paired.is_empty() {
        s.push_str("\n| comparison | nDCG@10 diff [95% CI] | wins / losses / ties | R@100 diff [95% CI] |\n|---|---|---|---|\n");
        for p in &r.paired {
            let (n, rc) = (&p.stats, &p.recall100);
            s.push_str(&format!(
                "| {} vs {} | {:+.4} [{:+.4}, {:+.4}] | {} / {} / {} | {:+.4} [{:+.4}, {:+.4}] |\n",
                p.b,
                p.a,
                n.mean_diff,
                n.ci_low,
                n.ci_high,
                n.wins,
                n.losses,
                n.ties,
                rc.mean_diff,
                rc.ci_low,
                rc.ci_high
            ));
        }
    }
    if let Some(c) = &r.bm25_paths {
        s.push_str(&format!(
            "\nBM25 term at a time vs block-max WAND (top {}): identical rankings on {} of {} queries, \
             identical up to float summation ties on {}; largest relative score difference {:.1e}\n",
            c.depth, c.identical, c.queries, c.identical_up_to_ties, c.max_relative_score_diff
        ));
    }
    if !r.alpha_sweep.is_empty() {
        s.push_str("\n| alpha (dense weight) | nDCG@10 | R@100 |\n|---|---|---|\n");
        for (a, n, rc) in &r.alpha_sweep {
            s.push_str(&format!("| {a:.2} | {n:.4} | {rc:.4} |\n"));
        }
    }
    if !r.feedback_alpha_sweep.is_empty() {
        s.push_str("\n| method | alpha (dense weight) | nDCG@10 | R@100 |\n|---|---|---|---|\n");
        for p in &r.feedback_alpha_sweep {
            s.push_str(&format!(
                "| {} | {:.2} | {:.4} | {:.4} |\n",
                p.method, p.alpha, p.ndcg10, p.recall100
            ));
        }
    }
    s
}
