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

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::config::{Fusion, Mode, SearchParams};
use crate::engine::Engine;
use crate::error::{Error, IoContext, Result};

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
        let params = SearchParams {
            k: m.params.k.max(10),
            ..m.params.clone()
        };
        let (mut hit1, mut hit3, mut mrr, mut abst) = (0usize, 0usize, 0.0f64, 0usize);
        let mut lat = Vec::with_capacity(dev.len());
        let mut misses = Vec::new();
        for q in dev {
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
            p50_ms: percentile(&mut lat, 0.50),
            p95_ms: percentile(&mut lat, 0.95),
            misses,
        });
    }
    Ok(out)
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

/// A markdown table of the scores.
pub fn notes_table(scores: &[NotesScore]) -> String {
    let mut s = String::from(
        "| method | hit@1 | hit@3 | MRR@10 | dev abstained | off-topic abstained | p50 ms | p95 ms |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in scores {
        s.push_str(&format!(
            "| {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} ({}) | {:.2} | {:.2} |\n",
            r.method,
            r.hit1,
            r.hit3,
            r.mrr10,
            r.abstained,
            r.offtopic_abstained,
            r.offtopic,
            r.p50_ms,
            r.p95_ms
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

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
