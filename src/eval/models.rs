//! `cram eval --beir DIR --models fp32,int8`: embedding models side by side.
//!
//! For each model on one BEIR collection: nDCG@10 of the dense arm alone
//! (`dense-exact`) and of the default fusion (`hybrid-convex`), through the same
//! [`crate::eval::evaluate_beir`] as a one-model run, with paired bootstrap CIs
//! of each model against the first; embedding throughput, measured by
//! interleaving the models batch by batch over the same documents so a busy
//! machine slows them alike; cold start (loading the model, then the first
//! question); sizes of the model file and of the index; and how close each
//! model's document vectors are to the first model's (cosine).

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::eval::beir::Collection;
use crate::eval::{BeirMethod, BeirOptions, BeirPaired, percentile};
use crate::index::embed::{BATCH_SIZE, Embedder};
use crate::retrieval::engine::Event;

/// Methods each model runs: its own arm, and the default fusion.
pub const METHODS: &[&str] = &["dense-exact", "hybrid-convex"];

/// Settings of a comparison.
#[derive(Debug, Clone)]
pub struct ModelsOptions {
    /// The models: name as given (`fp32`, `int8`, a path) and folder.
    pub models: Vec<(String, PathBuf)>,
    /// The ONNX Runtime library (`None`: found as usual).
    pub ort_lib: Option<PathBuf>,
    /// Benchmark settings; `methods` is replaced by [`METHODS`].
    pub beir: BeirOptions,
    /// Documents embedded by every model for the throughput figure.
    pub throughput_docs: usize,
    /// Fresh loads per model for the cold-start figure (median taken).
    pub cold_starts: usize,
}

/// Cold start of one model, milliseconds (medians over the loads).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ColdStart {
    /// Reading the files and building the ONNX Runtime session.
    pub load_ms: f64,
    /// The first question embedded after loading.
    pub first_query_ms: f64,
}

/// Cosine between a model's document vectors and the first model's.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Agreement {
    /// Mean over the collection's documents.
    pub mean: f64,
    /// Lowest.
    pub min: f64,
}

/// One model's figures.
#[derive(Debug, Clone, Serialize)]
pub struct ModelRow {
    /// The name given on the command line.
    pub name: String,
    /// Its folder.
    pub dir: PathBuf,
    /// Its fingerprint (part of the index fingerprint).
    pub fingerprint: String,
    /// Size of `model.onnx`, bytes.
    pub onnx_bytes: u64,
    /// Size of the index of the collection (BM25 + f32 document vectors), bytes.
    pub index_bytes: u64,
    /// Cold start.
    pub cold_start: ColdStart,
    /// Documents per second over the throughput sample (batches of
    /// [`BATCH_SIZE`], interleaved with the other models).
    pub passages_per_second: f64,
    /// Throughput relative to the first model.
    pub speedup: f64,
    /// Median time to embed one question, ms (all test queries, one at a time).
    pub query_embed_p50_ms: f64,
    /// Cosine to the first model's document vectors (null for the first).
    pub cosine_to_first: Option<Agreement>,
    /// `dense-exact` and `hybrid-convex` results.
    pub methods: Vec<BeirMethod>,
}

/// Everything `cram eval --models` measured on one collection.
#[derive(Debug, Clone, Serialize)]
pub struct ModelsReport {
    /// Always `cram.eval.models/1`.
    pub schema: &'static str,
    /// Collection name.
    pub collection: String,
    /// Documents.
    pub documents: usize,
    /// Scored queries.
    pub queries: usize,
    /// Documents in the throughput sample.
    pub throughput_docs: usize,
    /// Per model, in the order given.
    pub models: Vec<ModelRow>,
    /// Each model against the first, per method (`a` = first model's
    /// `name/method`, `b` = the other's): nDCG@10 difference with its CI.
    pub paired: Vec<BeirPaired>,
}

/// Runs the comparison on one collection.
pub fn compare_models(
    coll: &Collection,
    o: &ModelsOptions,
    on_event: &mut dyn FnMut(Event),
) -> Result<ModelsReport> {
    if o.models.len() < 2 {
        return Err(Error::InvalidParam {
            name: "--models",
            reason: "give at least two models to compare, e.g. fp32,int8".into(),
        });
    }
    crate::index::embed::init_runtime(&crate::index::embed::find_runtime(o.ort_lib.as_deref())?)?;
    let cold = cold_starts(o, on_event)?;
    let mut embedders = o
        .models
        .iter()
        .map(|(_, dir)| Embedder::load(dir, o.ort_lib.as_deref()))
        .collect::<Result<Vec<_>>>()?;
    let n = o.throughput_docs.min(coll.doc_texts.len());
    on_event(Event::Notice(format!(
        "throughput: {n} documents through each model, interleaved"
    )));
    let rates = throughput(&mut embedders, &coll.doc_texts[..n])?;
    let beir = BeirOptions {
        methods: METHODS.iter().map(|m| m.to_string()).collect(),
        ..o.beir.clone()
    };
    let mut rows = Vec::new();
    let mut first_vectors = None;
    for (i, ((name, dir), e)) in o.models.iter().zip(embedders.iter_mut()).enumerate() {
        on_event(Event::Notice(format!("{}: model {name}", coll.name)));
        let report = crate::eval::evaluate_beir(coll, e, &beir, on_event)?;
        // Every document vector is in the cache now: read them back.
        let mut cache = crate::index::cache::EmbeddingCache::open(&beir.cache_dir, e.info())?;
        let (vectors, _) = cache.embed_all(&coll.doc_texts, e, &mut |_, _| {})?;
        let cosine_to_first = first_vectors.as_ref().map(|f| agreement(f, &vectors));
        if i == 0 {
            first_vectors = Some(vectors);
        }
        let mut q = report
            .methods
            .iter()
            .find(|m| m.name == "dense-exact")
            .map(|m| m.embed_ms.p50)
            .into_iter()
            .collect::<Vec<_>>();
        rows.push(ModelRow {
            name: name.clone(),
            dir: dir.clone(),
            fingerprint: e.info().fingerprint(),
            onnx_bytes: std::fs::metadata(dir.join("model.onnx")).map_or(0, |m| m.len()),
            index_bytes: report.build.bm25_bytes + report.build.vector_bytes,
            cold_start: cold[i],
            passages_per_second: rates[i],
            speedup: rates[i] / rates[0].max(1e-9),
            query_embed_p50_ms: percentile(&mut q, 0.5),
            cosine_to_first,
            methods: report.methods,
        });
    }
    Ok(ModelsReport {
        schema: "cram.eval.models/1",
        collection: coll.name.clone(),
        documents: coll.doc_ids.len(),
        queries: coll.queries.len(),
        throughput_docs: n,
        paired: paired(&rows, o.beir.resamples),
        models: rows,
    })
}

/// Loads each model `o.cold_starts` times, alternating between models, and
/// embeds one question after each load; medians per model.
fn cold_starts(o: &ModelsOptions, on_event: &mut dyn FnMut(Event)) -> Result<Vec<ColdStart>> {
    let rounds = o.cold_starts.max(1);
    on_event(Event::Notice(format!(
        "cold start: {rounds} loads of each model"
    )));
    let mut load = vec![Vec::new(); o.models.len()];
    let mut first = vec![Vec::new(); o.models.len()];
    for round in 0..rounds {
        for k in 0..o.models.len() {
            // Alternate the order so neither model always goes first.
            let i = if round % 2 == 0 {
                k
            } else {
                o.models.len() - 1 - k
            };
            let t = Instant::now();
            let mut e = Embedder::load(&o.models[i].1, o.ort_lib.as_deref())?;
            load[i].push(t.elapsed().as_secs_f64() * 1000.0);
            let t = Instant::now();
            e.embed_query("how does the model load before the first question")?;
            first[i].push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    Ok(load
        .iter_mut()
        .zip(first.iter_mut())
        .map(|(l, f)| ColdStart {
            load_ms: percentile(l, 0.5),
            first_query_ms: percentile(f, 0.5),
        })
        .collect())
}

/// Documents per second of each model over `texts`, batch by batch, the
/// models taking turns on every batch (order alternating) so that load from
/// other processes falls on all of them alike.
fn throughput(embedders: &mut [Embedder], texts: &[String]) -> Result<Vec<f64>> {
    let mut secs = vec![0.0f64; embedders.len()];
    for (b, batch) in texts.chunks(BATCH_SIZE).enumerate() {
        for k in 0..embedders.len() {
            let i = if b % 2 == 0 {
                k
            } else {
                embedders.len() - 1 - k
            };
            let t = Instant::now();
            embedders[i].embed(batch)?;
            secs[i] += t.elapsed().as_secs_f64();
        }
    }
    Ok(secs
        .iter()
        .map(|s| texts.len() as f64 / s.max(1e-9))
        .collect())
}

/// Mean and lowest cosine between matching rows (unit vectors: dot products).
fn agreement(a: &crate::index::dense::Vectors, b: &crate::index::dense::Vectors) -> Agreement {
    let n = a.len().min(b.len());
    if n == 0 {
        return Agreement::default();
    }
    let (mut sum, mut min) = (0.0f64, f64::INFINITY);
    for i in 0..n {
        let c = crate::index::dense::dot(a.row(i), b.row(i)) as f64;
        sum += c;
        min = min.min(c);
    }
    Agreement {
        mean: sum / n as f64,
        min,
    }
}

/// Paired bootstrap of nDCG@10: every model against the first, per method.
fn paired(rows: &[ModelRow], resamples: usize) -> Vec<BeirPaired> {
    let mut out = Vec::new();
    let Some(base) = rows.first() else {
        return out;
    };
    for row in &rows[1..] {
        for m in &row.methods {
            if let Some(b) = base.methods.iter().find(|x| x.name == m.name) {
                out.push(BeirPaired {
                    a: format!("{}/{}", base.name, b.name),
                    b: format!("{}/{}", row.name, m.name),
                    stats: crate::eval::metrics::paired_bootstrap(
                        &b.per_query_ndcg,
                        &m.per_query_ndcg,
                        resamples,
                        0x5eed,
                    ),
                });
            }
        }
    }
    out
}

/// The report as markdown tables.
pub fn models_markdown(r: &ModelsReport) -> String {
    let ndcg = |row: &ModelRow, method: &str| {
        row.methods
            .iter()
            .find(|m| m.name == method)
            .map_or_else(|| "-".into(), |m| format!("{:.4}", m.scores.ndcg10))
    };
    let mut s = format!(
        "## {} ({} documents, {} queries): models side by side\n\n\
         | model | dense nDCG@10 | hybrid nDCG@10 | docs/s | speed-up | query embed p50 ms | load ms | first query ms | model MB | index MB | cosine to {} (mean / min) |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
        r.collection,
        r.documents,
        r.queries,
        r.models.first().map_or("", |m| m.name.as_str())
    );
    for m in &r.models {
        s.push_str(&format!(
            "| {} | {} | {} | {:.1} | {:.2}x | {:.2} | {:.0} | {:.1} | {:.1} | {:.1} | {} |\n",
            m.name,
            ndcg(m, "dense-exact"),
            ndcg(m, "hybrid-convex"),
            m.passages_per_second,
            m.speedup,
            m.query_embed_p50_ms,
            m.cold_start.load_ms,
            m.cold_start.first_query_ms,
            m.onnx_bytes as f64 / 1e6,
            m.index_bytes as f64 / 1e6,
            m.cosine_to_first
                .map_or_else(|| "-".into(), |c| format!("{:.4} / {:.4}", c.mean, c.min)),
        ));
    }
    if !r.paired.is_empty() {
        s.push_str("\n| comparison (nDCG@10) | mean diff | 95% CI (bootstrap) | wins / losses / ties |\n|---|---|---|---|\n");
        for p in &r.paired {
            s.push_str(&format!(
                "| {} vs {} | {:+.4} | [{:+.4}, {:+.4}] | {} / {} / {} |\n",
                p.b,
                p.a,
                p.stats.mean_diff,
                p.stats.ci_low,
                p.stats.ci_high,
                p.stats.wins,
                p.stats.losses,
                p.stats.ties
            ));
        }
    }
    s.push_str(&format!(
        "\nThroughput: the first {} documents, batches of {BATCH_SIZE}, models interleaved batch by batch. \
         Index MB: BM25 plus f32 document vectors (the same size for every model of one dimension).\n",
        r.throughput_docs
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_of_unit_rows() {
        let a = crate::index::dense::Vectors::from_rows(2, &[vec![1.0, 0.0], vec![0.0, 1.0]]);
        let b = crate::index::dense::Vectors::from_rows(2, &[vec![1.0, 0.0], vec![0.6, 0.8]]);
        let g = agreement(&a, &b);
        assert!(
            (g.mean - 0.9).abs() < 1e-6 && (g.min - 0.8).abs() < 1e-6,
            "{g:?}"
        );
    }
}
