//! Pseudo-relevance feedback: RM3 for the BM25 arm, Rocchio for the dense arm.
//!
//! Both assume the first pass's best few documents are relevant and search
//! again with a query moved towards them.
//!
//! **RM3** (Lavrenko & Croft's relevance model, interpolated with the query;
//! Abdul-Jaleel et al., UMass at TREC 2004), as Anserini implements it
//! (`Rm3Reranker`; defaults 10 feedback documents, 10 terms, original query
//! weight 0.5):
//!
//! 1. the query's terms, weighted by count and scaled to sum 1;
//! 2. each of the `fb_docs` best documents' terms with their frequencies,
//!    keeping terms of 2-20 characters from `[a-z0-9]` that occur in at most
//!    10% of the documents, pruned to its `fb_terms` most frequent;
//! 3. a term's feedback weight is `Σ_d tf(t, d) / |d| · score(d)` over those
//!    documents (`|d|` = the sum of its kept frequencies, `score` = its BM25
//!    score), pruned to the `fb_terms` heaviest and scaled to sum 1;
//! 4. the new query is `w · query + (1 − w) · feedback`, each term's BM25
//!    score multiplied by its weight, run over the whole index.
//!
//! tantivy keeps no term vectors, so a document's terms are read back from
//! the postings ([`crate::index::bm25::TermVectors`]): the same stems the index holds.
//!
//! **Rocchio** for dense vectors (Rocchio 1971; as Pyserini's vector PRF,
//! Li et al., "Pseudo Relevance Feedback with Deep Language Models and Dense
//! Retrievers: Successes and Pitfalls", TOIS 2023, arXiv:2108.11044, whose
//! Rocchio setting is 5 documents, alpha 0.4, beta 0.6):
//! `q' = α · q + β · mean(top fb_docs document vectors)`, scaled to unit
//! length, searched again.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::index::bm25::{Bm25Params, TermVectors, WeightedTerm, count_terms};
use crate::index::lexical::{Hit, Lexical};

/// RM3's settings (defaults: Anserini's).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rm3Params {
    /// Feedback documents: the first pass's best.
    pub fb_docs: usize,
    /// Expansion terms kept (per document, then overall).
    pub fb_terms: usize,
    /// Weight of the original query in [0, 1] (1 = no feedback).
    pub original_weight: f32,
}

impl Default for Rm3Params {
    fn default() -> Self {
        Rm3Params {
            fb_docs: 10,
            fb_terms: 10,
            original_weight: 0.5,
        }
    }
}

/// Rocchio's settings for the dense arm (defaults: Pyserini's vector PRF).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RocchioParams {
    /// Feedback documents: the first pass's best.
    pub fb_docs: usize,
    /// Weight of the query vector.
    pub alpha: f32,
    /// Weight of the feedback documents' mean vector.
    pub beta: f32,
}

impl Default for RocchioParams {
    fn default() -> Self {
        RocchioParams {
            fb_docs: 5,
            alpha: 0.4,
            beta: 0.6,
        }
    }
}

impl Rm3Params {
    /// Checks the ranges; the error names the flag.
    pub fn validate(&self) -> Result<()> {
        let ok = (1..=100).contains(&self.fb_docs)
            && (1..=1000).contains(&self.fb_terms)
            && (0.0..=1.0).contains(&self.original_weight);
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidParam {
                name: "--rm3",
                reason: format!(
                    "{},{},{} is out of range: feedback documents 1-100, terms 1-1000, \
                     original query weight in [0, 1] (Anserini's defaults: 10,10,0.5)",
                    self.fb_docs, self.fb_terms, self.original_weight
                ),
            })
        }
    }
}

impl RocchioParams {
    /// Checks the ranges; the error names the flag.
    pub fn validate(&self) -> Result<()> {
        let ok = (1..=100).contains(&self.fb_docs)
            && (0.0..=10.0).contains(&self.alpha)
            && (0.0..=10.0).contains(&self.beta)
            && self.alpha + self.beta > 0.0;
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidParam {
                name: "--rocchio",
                reason: format!(
                    "{},{},{} is out of range: feedback documents 1-100, alpha and beta in \
                     [0, 10], not both 0 (Pyserini's setting: 5,0.4,0.6)",
                    self.fb_docs, self.alpha, self.beta
                ),
            })
        }
    }
}

/// Whether a term may be a feedback term (Anserini's filter): 2-20
/// characters of `[a-z0-9]`, in at most 10% of the documents.
fn feedback_term(term: &str, df: u32, num_docs: u64) -> bool {
    let n = term.chars().count();
    (2..=20).contains(&n)
        && term
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && (df as f32 / num_docs.max(1) as f32) <= 0.1
}

/// Keeps the `n` heaviest entries (ties: term id order, for reproducible runs).
fn prune(v: &mut Vec<(u32, f32)>, n: usize) {
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(n);
}

/// One feedback document's kept terms (term id, frequency; by term id),
/// their total frequency and the document's first-pass score.
struct FeedbackDoc {
    terms: Vec<(u32, f32)>,
    len: f32,
    score: f32,
}

/// The RM3 query: the analysed `query` terms interpolated with the relevance
/// model of the feedback documents, each given as its (term id, frequency)
/// pairs and first-pass score. Heaviest term first.
pub fn rm3_terms(
    query: &[String],
    feedback: &[(&[(u32, u32)], f32)],
    tv: &TermVectors,
    p: &Rm3Params,
) -> Vec<WeightedTerm> {
    // 2. Each document's kept terms, pruned, and their sum.
    let mut docs: Vec<FeedbackDoc> = Vec::new();
    for &(pairs, score) in feedback.iter().take(p.fb_docs) {
        let mut v: Vec<(u32, f32)> = pairs
            .iter()
            .filter(|&&(id, _)| {
                feedback_term(
                    &tv.terms[id as usize],
                    tv.doc_freq[id as usize],
                    tv.num_docs,
                )
            })
            .map(|&(id, tf)| (id, tf as f32))
            .collect();
        prune(&mut v, p.fb_terms);
        v.sort_by_key(|e| e.0);
        let len: f32 = v.iter().map(|e| e.1).sum();
        docs.push(FeedbackDoc {
            terms: v,
            len,
            score,
        });
    }
    // 3. The relevance model over the kept vocabulary.
    let mut vocab: Vec<u32> = docs
        .iter()
        .flat_map(|d| d.terms.iter().map(|e| e.0))
        .collect();
    vocab.sort_unstable();
    vocab.dedup();
    let mut model: Vec<(u32, f32)> = vocab
        .iter()
        .map(|&id| {
            let w = docs
                .iter()
                .filter(|d| d.len > 0.001)
                .map(|d| {
                    let v = &d.terms;
                    let tf = v.binary_search_by_key(&id, |e| e.0).map_or(0.0, |i| v[i].1);
                    tf / d.len * d.score
                })
                .sum();
            (id, w)
        })
        .collect();
    prune(&mut model, p.fb_terms);
    let total: f32 = model.iter().map(|e| e.1).sum();
    // 4. Interpolation with the query scaled to sum 1.
    let q = count_terms(query);
    let q_total: f32 = q.iter().map(|e| e.1).sum();
    let mut out: Vec<WeightedTerm> = q
        .into_iter()
        .map(|(t, c)| (t, p.original_weight * c / q_total))
        .collect();
    if total > 0.0 {
        for (id, w) in model {
            let w = (1.0 - p.original_weight) * w / total;
            let term = &tv.terms[id as usize];
            match out.iter_mut().find(|(t, _)| t == term) {
                Some((_, x)) => *x += w,
                None => out.push((term.clone(), w)),
            }
        }
    }
    out.retain(|(_, w)| *w > 0.0);
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// BM25 with RM3: a first pass for the feedback documents, then the
/// expanded query over the whole index. Returns the hits and the expanded
/// query (empty, with no hits, when the question has no indexable terms).
pub fn rm3_search(
    lexical: &Lexical,
    q: &str,
    limit: usize,
    bm25: &Bm25Params,
    p: &Rm3Params,
) -> Result<(Vec<Hit>, Vec<WeightedTerm>)> {
    let terms = lexical.analyze(q);
    if terms.is_empty() || limit == 0 {
        return Ok((Vec::new(), Vec::new()));
    }
    let first = lexical.search_terms_with(&terms, p.fb_docs, bm25)?;
    let tv = lexical.scorer().term_vectors()?;
    let feedback: Vec<(&[(u32, u32)], f32)> =
        first.iter().map(|h| (tv.doc(h.ord), h.score)).collect();
    let expanded = rm3_terms(&terms, &feedback, tv, p);
    let hits = lexical.search_weighted(&expanded, limit, bm25)?;
    Ok((hits, expanded))
}

/// Rocchio's query vector: `α · q + β · mean(docs)`, scaled to unit length.
pub fn rocchio(q: &[f32], docs: &[&[f32]], p: &RocchioParams) -> Vec<f32> {
    let mut out: Vec<f32> = q.iter().map(|x| p.alpha * x).collect();
    if !docs.is_empty() {
        let s = p.beta / docs.len() as f32;
        for d in docs {
            for (o, x) in out.iter_mut().zip(d.iter()) {
                *o += s * x;
            }
        }
    }
    let norm = out.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        out.iter_mut().for_each(|x| *x /= norm);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// N = 100 documents; terms 0 neural (df 5), 1 network (df 8), 2 the
    /// (df 90: too common), 3 x (too short), 4 deep (df 3), 5 café (not ASCII).
    fn vectors() -> TermVectors {
        TermVectors::from_parts(
            ["neural", "network", "the", "x", "deep", "café"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            vec![5, 8, 90, 3, 3, 2],
            vec![
                vec![(0, 3), (1, 1), (2, 10), (3, 5)],
                vec![(1, 2), (4, 2), (5, 4)],
            ],
            100,
        )
    }

    fn weights(v: &[WeightedTerm]) -> Vec<(&str, f32)> {
        v.iter().map(|(t, w)| (t.as_str(), *w)).collect()
    }

    fn close(got: &[(&str, f32)], want: &[(&str, f32)]) {
        assert_eq!(got.len(), want.len(), "{got:?}");
        for ((gt, gw), (wt, ww)) in got.iter().zip(want) {
            assert_eq!(gt, wt, "{got:?}");
            assert!((gw - ww).abs() < 1e-6, "{gt}: {gw} vs {ww}");
        }
    }

    #[test]
    fn rm3_weights_by_hand() {
        let tv = vectors();
        // Scores 2 and 1. Kept: d0 neural 3, network 1 (sum 4); d1 network 2,
        // deep 2 (sum 4). Model: neural 3/4·2 = 1.5, network 1/4·2 + 2/4·1 = 1,
        // deep 2/4·1 = 0.5; scaled: 1/2, 1/3, 1/6.
        // Query "neural neural search": neural 2/3, search 1/3.
        // Mixed 0.5/0.5: neural 7/12, search 1/6, network 1/6, deep 1/12.
        let q: Vec<String> = ["neural", "neural", "search"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let fb: Vec<(&[(u32, u32)], f32)> = vec![(tv.doc(0), 2.0), (tv.doc(1), 1.0)];
        let out = rm3_terms(&q, &fb, &tv, &Rm3Params::default());
        close(
            &weights(&out),
            &[
                ("neural", 7.0 / 12.0),
                ("network", 1.0 / 6.0),
                ("search", 1.0 / 6.0),
                ("deep", 1.0 / 12.0),
            ],
        );
        assert!((out.iter().map(|e| e.1).sum::<f32>() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn rm3_prunes_and_weighs_the_original_query() {
        let tv = vectors();
        let q = vec!["search".to_string()];
        let fb: Vec<(&[(u32, u32)], f32)> = vec![(tv.doc(0), 2.0), (tv.doc(1), 1.0)];
        // Two terms kept overall: neural 1/2 and network 1/3, rescaled to 0.6, 0.4.
        let p = Rm3Params {
            fb_terms: 2,
            original_weight: 0.0,
            ..Default::default()
        };
        close(
            &weights(&rm3_terms(&q, &fb, &tv, &p)),
            &[("neural", 0.6), ("network", 0.4)],
        );
        // Weight 1: the original query alone.
        let p = Rm3Params {
            original_weight: 1.0,
            ..Default::default()
        };
        close(&weights(&rm3_terms(&q, &fb, &tv, &p)), &[("search", 1.0)]);
        // No feedback documents: the query alone, scaled.
        close(
            &weights(&rm3_terms(&q, &[], &tv, &Rm3Params::default())),
            &[("search", 0.5)],
        );
    }

    #[test]
    fn rm3_finds_a_passage_without_the_query_word() {
        // Three passages use "car" with "automobile"; a fourth only says
        // "automobile". Expansion through the first three reaches it.
        let mut texts = vec![
            "car automobile engine".to_string(),
            "car automobile wheels".to_string(),
            "car automobile driver".to_string(),
            "automobile repair manual".to_string(),
        ];
        texts.extend((0..56).map(|i| format!("filler{i} text{i} words{i}")));
        let d = tempfile::tempdir().unwrap();
        crate::index::lexical::build(d.path(), &texts).unwrap();
        let l = Lexical::open(d.path()).unwrap();
        let bm25 = Bm25Params::default();
        let plain = l.search_with("car", 10, &bm25).unwrap();
        assert!(plain.iter().all(|h| h.ord != 3));
        let (hits, expanded) = rm3_search(&l, "car", 10, &bm25, &Rm3Params::default()).unwrap();
        assert!(
            expanded.iter().any(|(t, _)| t == "automobil"),
            "{expanded:?}"
        );
        assert!((expanded.iter().map(|e| e.1).sum::<f32>() - 1.0).abs() < 1e-5);
        let mut top: Vec<u32> = hits[..3].iter().map(|h| h.ord).collect();
        top.sort_unstable();
        assert_eq!(top, vec![0, 1, 2], "{hits:?}");
        assert!(hits.iter().any(|h| h.ord == 3), "{hits:?}");
        // No indexable terms: nothing, not an error.
        assert!(
            rm3_search(&l, "the of", 10, &bm25, &Rm3Params::default())
                .unwrap()
                .0
                .is_empty()
        );
    }

    #[test]
    fn rocchio_moves_towards_the_feedback() {
        let q = [1.0, 0.0];
        let d1 = [0.0, 1.0];
        let d2 = [0.0, 1.0];
        let p = RocchioParams {
            fb_docs: 2,
            alpha: 0.5,
            beta: 0.5,
        };
        let v = rocchio(&q, &[&d1, &d2], &p);
        let s = 0.5f32.sqrt();
        assert!((v[0] - s).abs() < 1e-6 && (v[1] - s).abs() < 1e-6, "{v:?}");
        // No feedback documents: the query's direction.
        assert_eq!(rocchio(&q, &[], &p), vec![1.0, 0.0]);
    }

    #[test]
    fn params_are_checked() {
        Rm3Params::default().validate().unwrap();
        RocchioParams::default().validate().unwrap();
        assert!(
            Rm3Params {
                original_weight: 1.5,
                ..Default::default()
            }
            .validate()
            .is_err()
        );
        assert!(
            RocchioParams {
                alpha: 0.0,
                beta: 0.0,
                ..Default::default()
            }
            .validate()
            .is_err()
        );
    }
}
