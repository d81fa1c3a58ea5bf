//! BM25 with any k1 and b, scored by `cram` over tantivy's postings.
//!
//! tantivy 0.27 fixes k1 = 1.2 and b = 0.75 inside its `Bm25Weight`. The
//! index stays tantivy's (postings, term frequencies and field norms are the
//! data); the scoring here is our own:
//!
//! ```text
//! score(d) = Σ_t  w_t · idf(t) · (k1 + 1) · tf / (tf + k1 · (1 − b + b · len(d) / avglen))
//! idf(t)   = ln(1 + (N − df + 0.5) / (df + 0.5))
//! ```
//!
//! where `w_t` is how often `t` occurs in the query (a repeated word weighs
//! more, as with Lucene's and tantivy's Boolean queries) or its RM3 weight.
//! The operations are tantivy's, in the same f32 order, so at k1 1.2, b 0.75
//! each term's score is bit-identical to tantivy's; only the order in which a
//! document's term scores are summed differs.
//!
//! **Lengths.** `len(d)` is tantivy's field norm: the token count after the
//! analyzer, stored as one byte per document, exact up to 40 tokens and
//! rounded *down* beyond (steps of 2 from 40, 4 from 56, 8 from 88, ...: at
//! most 7-10% under for 41-1,000 tokens, like Lucene's `SmallFloat`). `avglen`
//! is exact (the index's total token count / N). So longer documents look a
//! little shorter than they are and gain a little; [`Scorer::set_exact_lengths`]
//! swaps in exact lengths to measure what that costs (`cram eval` method
//! `bm25-exact-len`).
//!
//! **Two executors.** [`Scorer::taat`] is exhaustive term at a time: every
//! posting of every query term is added into a dense per-document accumulator,
//! then the top k are selected (`select_nth_unstable`). Its cost is the
//! postings read plus one pass over the accumulator, whatever k and however
//! many terms. tantivy's block-max WAND (document at a time, skipping blocks
//! that cannot enter the top k) is the other; it only exists at tantivy's
//! constants, and wins when it can skip most postings: few of them against
//! the index's size and a small k. [`choose_path`] picks one per query by the
//! rule measured in `benches/bm25_paths.rs`: term at a time once the query's
//! postings reach 10% of the documents (k up to 100) or 2% (k 1,000).

use std::cell::RefCell;
use std::sync::OnceLock;

use serde::Serialize;
use tantivy::fieldnorm::FieldNormReader;
use tantivy::index::InvertedIndexReader;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, Searcher};

use crate::error::{Error, Result};
use crate::index::lexical::Hit;

/// tantivy's fixed k1.
pub const TANTIVY_K1: f32 = 1.2;
/// tantivy's fixed b.
pub const TANTIVY_B: f32 = 0.75;

/// Which executor runs a BM25 query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bm25Path {
    /// Chosen per query by [`choose_path`].
    Auto,
    /// Exhaustive term at a time (any k1, b).
    Taat,
    /// tantivy's block-max WAND (k1 1.2, b 0.75 only).
    Wand,
}

/// BM25's parameters and executor.
///
/// * `k1` is term-frequency saturation: 0 = a term counts once whatever its
///   frequency; larger = repeated occurrences keep adding.
/// * `b` is length normalisation: 0 = none, 1 = scores fully relative to
///   the document's length.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bm25Params {
    /// Term-frequency saturation (>= 0).
    pub k1: f32,
    /// Length normalisation, in [0, 1].
    pub b: f32,
    /// Which executor runs the query.
    pub path: Bm25Path,
}

impl Default for Bm25Params {
    /// tantivy's (and Lucene's classic) k1 1.2, b 0.75, executor chosen per query.
    fn default() -> Self {
        Bm25Params {
            k1: TANTIVY_K1,
            b: TANTIVY_B,
            path: Bm25Path::Auto,
        }
    }
}

impl Bm25Params {
    /// Whether these are tantivy's constants (so block-max WAND can run them).
    pub fn is_tantivy(&self) -> bool {
        self.k1 == TANTIVY_K1 && self.b == TANTIVY_B
    }

    /// Checks the ranges; the error names the flag.
    pub fn validate(&self) -> Result<()> {
        if !(self.k1.is_finite() && (0.0..=100.0).contains(&self.k1)) {
            return Err(Error::InvalidParam {
                name: "--bm25-k1",
                reason: format!(
                    "{} is outside [0, 100] (1.2 is the default; 0.9-2.0 is usual)",
                    self.k1
                ),
            });
        }
        if !(0.0..=1.0).contains(&self.b) {
            return Err(Error::InvalidParam {
                name: "--bm25-b",
                reason: format!(
                    "{} is outside [0, 1] (0 = no length normalisation, 0.75 is the default)",
                    self.b
                ),
            });
        }
        if self.path == Bm25Path::Wand && !self.is_tantivy() {
            return Err(Error::InvalidParam {
                name: "--bm25-k1",
                reason: format!(
                    "block-max WAND runs only tantivy's k1 {TANTIVY_K1}, b {TANTIVY_B} \
                     (got k1 {}, b {}); use the term-at-a-time path",
                    self.k1, self.b
                ),
            });
        }
        Ok(())
    }
}

/// BM25's inverse document frequency, as tantivy computes it (f32).
pub fn idf(doc_freq: u64, num_docs: u64) -> f32 {
    let x = ((num_docs.saturating_sub(doc_freq)) as f32 + 0.5) / (doc_freq as f32 + 0.5);
    (1.0 + x).ln()
}

/// The length part of the denominator, `k1 · (1 − b + b · len / avglen)`.
pub fn length_norm(k1: f32, b: f32, len: u32, avg_len: f32) -> f32 {
    k1 * (1.0 - b + b * len as f32 / avg_len)
}

/// One term's score in one document: `weight · tf / (tf + norm)`, where
/// `weight = w_t · idf · (k1 + 1)` and `norm` = [`length_norm`].
#[inline]
pub fn term_score(weight: f32, tf: u32, norm: f32) -> f32 {
    let tf = tf as f32;
    weight * (tf / (tf + norm))
}

/// [`length_norm`] for every field-norm id (tantivy's lossy length code).
pub fn norm_table(k1: f32, b: f32, avg_len: f32) -> [f32; 256] {
    let mut t = [0.0f32; 256];
    for (id, v) in t.iter_mut().enumerate() {
        *v = length_norm(k1, b, FieldNormReader::id_to_fieldnorm(id as u8), avg_len);
    }
    t
}

/// A query term and its weight (occurrences in the query, or an RM3 weight).
pub type WeightedTerm = (String, f32);

/// Folds analysed query terms into distinct terms weighted by their count,
/// in first-occurrence order.
pub fn count_terms(terms: &[String]) -> Vec<WeightedTerm> {
    let mut out: Vec<WeightedTerm> = Vec::new();
    for t in terms {
        match out.iter_mut().find(|(u, _)| u == t) {
            Some((_, w)) => *w += 1.0,
            None => out.push((t.clone(), 1.0)),
        }
    }
    out
}

/// Share of the documents a query's postings must reach for term at a time
/// to beat block-max WAND, for k up to 100 (`cargo bench --bench
/// bm25_paths`: the best threshold was 0.09-0.17 at k 10 and 0.10-0.12 at
/// k 100 on 100k-1M documents).
pub const TAAT_SHARE_SMALL_K: f64 = 0.1;

/// The same share from k = 1,000 (measured best: 0.011-0.034 on 20k-1M
/// documents; WAND's pruning needs a high k-th score, which a deep k lacks).
pub const TAAT_SHARE_LARGE_K: f64 = 0.02;

/// The postings share above which term at a time runs for a given k:
/// [`TAAT_SHARE_SMALL_K`] up to k 100, [`TAAT_SHARE_LARGE_K`] from k 1,000,
/// log-linear in k between (not measured there).
pub fn taat_share(k: usize) -> f64 {
    let x = ((k.max(1) as f64).log10() - 2.0).clamp(0.0, 1.0);
    TAAT_SHARE_SMALL_K * (TAAT_SHARE_LARGE_K / TAAT_SHARE_SMALL_K).powf(x)
}

/// The executor for a query over `num_docs` documents asking for `k`:
/// term at a time when the query's postings (`postings`, called only at
/// tantivy's constants) reach [`taat_share`]`(k)` of the documents, or when
/// k1 and b are not tantivy's; block-max WAND otherwise. A forced path is
/// honoured (WAND only at tantivy's constants).
pub fn choose_path(
    p: &Bm25Params,
    num_docs: u64,
    k: usize,
    postings: impl FnOnce() -> Result<u64>,
) -> Result<Bm25Path> {
    Ok(match p.path {
        Bm25Path::Taat => Bm25Path::Taat,
        Bm25Path::Wand if p.is_tantivy() => Bm25Path::Wand,
        Bm25Path::Wand => Bm25Path::Taat,
        Bm25Path::Auto if !p.is_tantivy() => Bm25Path::Taat,
        Bm25Path::Auto => {
            if postings()? as f64 >= taat_share(k) * num_docs as f64 {
                Bm25Path::Taat
            } else {
                Bm25Path::Wand
            }
        }
    })
}

/// One segment's data, read once when the index is opened.
struct Segment {
    inverted: std::sync::Arc<InvertedIndexReader>,
    /// Field-norm id per document (one byte each).
    norm_ids: Vec<u8>,
    /// Passage ordinal per document.
    ords: Vec<u32>,
    /// Exact lengths per document, when set ([`Scorer::set_exact_lengths`]).
    exact_lengths: Option<Vec<u32>>,
    alive: Option<tantivy::fastfield::AliveBitSet>,
}

/// The BM25 scorer over an open index's segments.
pub struct Scorer {
    segments: Vec<Segment>,
    /// Documents, deleted included (as tantivy's BM25 counts them).
    num_docs: u64,
    /// Tokens in the field over all documents.
    total_tokens: u64,
    field: Field,
    term_vectors: OnceLock<TermVectors>,
}

thread_local! {
    static ACCUMULATOR: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

fn io(e: std::io::Error) -> Error {
    Error::Lexical(tantivy::TantivyError::from(e))
}

impl Scorer {
    /// Reads every segment's field norms and passage ordinals (`ord_field`, a
    /// u64 fast field) for `field`.
    pub fn open(searcher: &Searcher, field: Field, ord_field: &str) -> Result<Scorer> {
        let mut segments = Vec::new();
        let (mut num_docs, mut total_tokens) = (0u64, 0u64);
        for reader in searcher.segment_readers() {
            let max_doc = reader.max_doc();
            let inverted = reader.inverted_index(field)?;
            let norms = reader.get_fieldnorms_reader(field)?;
            let col = reader.fast_fields().u64(ord_field)?;
            let mut ords = Vec::with_capacity(max_doc as usize);
            for d in 0..max_doc {
                let ord = col.first(d).ok_or_else(|| Error::IndexCorrupt {
                    path: Default::default(),
                    reason: "a BM25 document has no passage ordinal".into(),
                })?;
                ords.push(ord as u32);
            }
            num_docs += u64::from(max_doc);
            total_tokens += inverted.total_num_tokens();
            segments.push(Segment {
                norm_ids: (0..max_doc).map(|d| norms.fieldnorm_id(d)).collect(),
                inverted,
                ords,
                exact_lengths: None,
                alive: reader.alive_bitset().cloned(),
            });
        }
        Ok(Scorer {
            segments,
            num_docs,
            total_tokens,
            field,
            term_vectors: OnceLock::new(),
        })
    }

    /// Documents in the index (deleted ones included, as in BM25's N).
    pub fn num_docs(&self) -> u64 {
        self.num_docs
    }

    /// The mean document length in tokens (exact: total tokens / N).
    pub fn avg_len(&self) -> f32 {
        self.total_tokens as f32 / self.num_docs.max(1) as f32
    }

    /// Replaces the lossy field norms by exact lengths, given per passage
    /// ordinal (for measuring what the length encoding costs).
    pub fn set_exact_lengths(&mut self, by_ord: &[u32]) -> Result<()> {
        for s in &mut self.segments {
            let mut lens = Vec::with_capacity(s.ords.len());
            for &o in &s.ords {
                lens.push(*by_ord.get(o as usize).ok_or_else(|| Error::InvalidParam {
                    name: "lengths",
                    reason: format!("no length for passage {o}"),
                })?);
            }
            s.exact_lengths = Some(lens);
        }
        Ok(())
    }

    /// Documents containing `term` (an analysed term), over all segments.
    pub fn doc_freq(&self, term: &str) -> Result<u64> {
        let t = tantivy::Term::from_field_text(self.field, term);
        let mut df = 0u64;
        for s in &self.segments {
            if let Some(ti) = s.inverted.get_term_info(&t).map_err(io)? {
                df += u64::from(ti.doc_freq);
            }
        }
        Ok(df)
    }

    /// Postings the terms hold (the sum of their document frequencies).
    pub fn postings(&self, terms: &[WeightedTerm]) -> Result<u64> {
        let mut n = 0u64;
        for (t, _) in terms {
            n += self.doc_freq(t)?;
        }
        Ok(n)
    }

    /// The top `k` passages for weighted terms, term at a time: best first,
    /// equal scores by lower ordinal.
    pub fn taat(&self, terms: &[WeightedTerm], k: usize, p: &Bm25Params) -> Result<Vec<Hit>> {
        if terms.is_empty() || k == 0 {
            return Ok(Vec::new());
        }
        let avg = self.avg_len();
        let table = norm_table(p.k1, p.b, avg);
        // Each term's postings in each segment (looked up once), and its
        // weight: query weight × idf × (k1 + 1), from global statistics.
        let mut infos: Vec<Vec<Option<tantivy::postings::TermInfo>>> =
            vec![Vec::with_capacity(terms.len()); self.segments.len()];
        let mut weights = Vec::with_capacity(terms.len());
        for (t, w) in terms {
            let term = tantivy::Term::from_field_text(self.field, t);
            let mut df = 0u64;
            for (s, seg_infos) in self.segments.iter().zip(&mut infos) {
                let ti = s.inverted.get_term_info(&term).map_err(io)?;
                df += ti.as_ref().map_or(0, |ti| u64::from(ti.doc_freq));
                seg_infos.push(ti);
            }
            weights.push((idf(df, self.num_docs) * (1.0 + p.k1), *w));
        }
        let mut candidates: Vec<Hit> = Vec::new();
        for (s, seg_infos) in self.segments.iter().zip(&infos) {
            let postings: Vec<_> = seg_infos
                .iter()
                .zip(&weights)
                .filter_map(|(ti, &(weight, qw))| Some((ti.as_ref()?, weight, qw)))
                .filter(|&(_, _, qw)| qw > 0.0)
                .collect();
            ACCUMULATOR.with(|acc| -> Result<()> {
                let mut acc = acc.borrow_mut();
                acc.clear();
                acc.resize(s.ords.len(), 0.0);
                match &s.exact_lengths {
                    None => {
                        let ids = &s.norm_ids;
                        accumulate(s, &postings, &mut acc, |d| table[ids[d as usize] as usize])?
                    }
                    Some(lens) => {
                        let norms: Vec<f32> = lens
                            .iter()
                            .map(|&l| length_norm(p.k1, p.b, l, avg))
                            .collect();
                        accumulate(s, &postings, &mut acc, |d| norms[d as usize])?
                    }
                }
                for (d, &score) in acc.iter().enumerate() {
                    if score > 0.0 && s.alive.as_ref().is_none_or(|a| a.is_alive(d as DocId)) {
                        candidates.push(Hit {
                            ord: s.ords[d],
                            score,
                        });
                    }
                }
                Ok(())
            })?;
        }
        Ok(top_k(candidates, k))
    }

    /// Passage ordinal of a document of segment `segment`.
    pub fn ord(&self, segment: usize, doc: DocId) -> Option<u32> {
        self.segments.get(segment)?.ords.get(doc as usize).copied()
    }

    /// Each passage's terms and frequencies, read back from the postings
    /// (built on first use: RM3 needs them, plain search does not).
    pub fn term_vectors(&self) -> Result<&TermVectors> {
        if let Some(tv) = self.term_vectors.get() {
            return Ok(tv);
        }
        let tv = TermVectors::build(self)?;
        Ok(self.term_vectors.get_or_init(|| tv))
    }
}

/// Adds every posting of the weighted terms (postings, weight, query
/// weight) into `acc`, indexed by doc id.
fn accumulate(
    s: &Segment,
    terms: &[(&tantivy::postings::TermInfo, f32, f32)],
    acc: &mut [f32],
    norm: impl Fn(DocId) -> f32,
) -> Result<()> {
    for &(ti, weight, qw) in terms {
        let mut block = s
            .inverted
            .read_block_postings_from_terminfo(ti, IndexRecordOption::WithFreqs)
            .map_err(io)?;
        while !block.docs().is_empty() {
            for (&d, &tf) in block.docs().iter().zip(block.freqs()) {
                // Per-term score first, as tantivy computes it, then the
                // query weight (exact for the small integer counts of plain BM25).
                acc[d as usize] += term_score(weight, tf, norm(d)) * qw;
            }
            block.advance();
        }
    }
    Ok(())
}

/// The best `k` hits, best first; equal scores by lower ordinal.
pub fn top_k(mut hits: Vec<Hit>, k: usize) -> Vec<Hit> {
    let by_score = |a: &Hit, b: &Hit| b.score.total_cmp(&a.score).then(a.ord.cmp(&b.ord));
    if k == 0 {
        return Vec::new();
    }
    if hits.len() > k {
        hits.select_nth_unstable_by(k - 1, by_score);
        hits.truncate(k);
    }
    hits.sort_unstable_by(by_score);
    hits
}

/// How far apart (relative) two f32 sums of the same `terms` positive
/// scores can be when added in different orders: each order is within
/// (terms − 1) · ε/2 of the exact sum (Higham, *Accuracy and Stability of
/// Numerical Algorithms*, 2nd ed., §4.2), so two orders within
/// (terms − 1) · ε; at least 1e-6.
pub fn summation_tolerance(terms: usize) -> f32 {
    (terms.saturating_sub(1) as f32 * f32::EPSILON).max(1e-6)
}

/// Whether two rankings of the same query agree up to float summation order:
/// equal lengths, scores equal at each rank within `rel` (relative), and
/// the same passages within each run of such near-equal scores (the last run
/// may be cut differently by the depth).
pub fn same_up_to_ties(a: &[Hit], b: &[Hit], rel: f32) -> bool {
    let near = |x: f32, y: f32| (x - y).abs() <= rel * x.abs().max(y.abs());
    if a.len() != b.len() || !a.iter().zip(b).all(|(x, y)| near(x.score, y.score)) {
        return false;
    }
    let mut start = 0;
    while start < a.len() {
        let mut end = start + 1;
        while end < a.len() && near(a[end - 1].score, a[end].score) {
            end += 1;
        }
        if end < a.len() {
            let mut x: Vec<u32> = a[start..end].iter().map(|h| h.ord).collect();
            let mut y: Vec<u32> = b[start..end].iter().map(|h| h.ord).collect();
            x.sort_unstable();
            y.sort_unstable();
            if x != y {
                return false;
            }
        }
        start = end;
    }
    true
}

/// Every passage's analysed terms with their frequencies, reconstructed from
/// the inverted index (tantivy stores no term vectors), and each term's
/// document frequency.
pub struct TermVectors {
    /// Term id -> term text.
    pub terms: Vec<String>,
    /// Term id -> documents containing it.
    pub doc_freq: Vec<u32>,
    /// Passage ordinal -> (term id, frequency), by term id.
    docs: Vec<Vec<(u32, u32)>>,
    /// Documents (N of the df ratio).
    pub num_docs: u64,
}

impl TermVectors {
    fn build(s: &Scorer) -> Result<TermVectors> {
        let n_ords = s
            .segments
            .iter()
            .flat_map(|g| g.ords.iter())
            .map(|&o| o as usize + 1)
            .max()
            .unwrap_or(0);
        let mut tv = TermVectors {
            terms: Vec::new(),
            doc_freq: Vec::new(),
            docs: vec![Vec::new(); n_ords],
            num_docs: s.num_docs,
        };
        let mut ids: std::collections::HashMap<Vec<u8>, u32> = std::collections::HashMap::new();
        for seg in &s.segments {
            let mut stream = seg.inverted.terms().stream().map_err(io)?;
            while stream.advance() {
                let key = stream.key();
                let ti = stream.value().clone();
                let id = *ids.entry(key.to_vec()).or_insert_with(|| {
                    tv.terms.push(String::from_utf8_lossy(key).into_owned());
                    tv.doc_freq.push(0);
                    (tv.terms.len() - 1) as u32
                });
                tv.doc_freq[id as usize] += ti.doc_freq;
                let mut block = seg
                    .inverted
                    .read_block_postings_from_terminfo(&ti, IndexRecordOption::WithFreqs)
                    .map_err(io)?;
                while !block.docs().is_empty() {
                    for (&d, &tf) in block.docs().iter().zip(block.freqs()) {
                        tv.docs[seg.ords[d as usize] as usize].push((id, tf));
                    }
                    block.advance();
                }
            }
        }
        Ok(tv)
    }

    /// Term vectors from their parts (for tests elsewhere in the crate).
    #[cfg(test)]
    pub(crate) fn from_parts(
        terms: Vec<String>,
        doc_freq: Vec<u32>,
        docs: Vec<Vec<(u32, u32)>>,
        num_docs: u64,
    ) -> TermVectors {
        TermVectors {
            terms,
            doc_freq,
            docs,
            num_docs,
        }
    }

    /// A passage's (term id, frequency) pairs.
    pub fn doc(&self, ord: u32) -> &[(u32, u32)] {
        self.docs.get(ord as usize).map_or(&[], |v| v.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bm25_by_hand() {
        // N = 4 documents, df = 1: idf = ln(1 + 3.5 / 1.5) = ln(10/3).
        let i = idf(1, 4);
        assert!((i - (10.0f32 / 3.0).ln()).abs() < 1e-6);
        // k1 1.2, b 0.75, len 10, avglen 5: norm = 1.2 (0.25 + 0.75 * 2) = 2.1.
        let norm = length_norm(1.2, 0.75, 10, 5.0);
        assert!((norm - 2.1).abs() < 1e-6);
        // tf 2: 2.2 · idf · 2 / (2 + 2.1).
        let s = term_score(i * 2.2, 2, norm);
        let by_hand = (10.0f64 / 3.0).ln() * 2.2 * 2.0 / 4.1;
        assert!((s as f64 - by_hand).abs() < 1e-5, "{s} vs {by_hand}");
        // b = 0: no length normalisation; k1 = 0: every tf counts as 1.
        assert_eq!(length_norm(1.2, 0.0, 1000, 5.0), 1.2);
        assert_eq!(term_score(3.0, 7, length_norm(0.0, 0.75, 10, 5.0)), 3.0);
    }

    #[test]
    fn norm_table_follows_tantivys_length_code() {
        let t = norm_table(1.2, 0.75, 20.0);
        // Exact up to 40 tokens.
        assert_eq!(t[40], length_norm(1.2, 0.75, 40, 20.0));
        // Beyond, the code's lengths: id 41 is 42 tokens.
        assert_eq!(FieldNormReader::id_to_fieldnorm(41), 42);
        assert_eq!(t[41], length_norm(1.2, 0.75, 42, 20.0));
        assert!(t.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn repeated_terms_are_counted() {
        let t = count_terms(&["rank".into(), "doc".into(), "rank".into()]);
        assert_eq!(t, vec![("rank".to_string(), 2.0), ("doc".to_string(), 1.0)]);
    }

    #[test]
    fn params_are_checked() {
        Bm25Params::default().validate().unwrap();
        for (p, flag) in [
            (
                Bm25Params {
                    k1: -1.0,
                    ..Default::default()
                },
                "--bm25-k1",
            ),
            (
                Bm25Params {
                    k1: f32::NAN,
                    ..Default::default()
                },
                "--bm25-k1",
            ),
            (
                Bm25Params {
                    b: 1.5,
                    ..Default::default()
                },
                "--bm25-b",
            ),
            (
                Bm25Params {
                    k1: 1.5,
                    path: Bm25Path::Wand,
                    ..Default::default()
                },
                "--bm25-k1",
            ),
        ] {
            match p.validate() {
                Err(Error::InvalidParam { name, .. }) => assert_eq!(name, flag),
                other => panic!("{flag}: {other:?}"),
            }
        }
    }

    #[test]
    fn path_rule() {
        let p = Bm25Params::default();
        let path = |p: &Bm25Params, n: u64, k: usize, postings: u64| {
            choose_path(p, n, k, || Ok(postings)).unwrap()
        };
        // Few postings and a small k: WAND skips most of them.
        assert_eq!(path(&p, 1_000_000, 10, 50_000), Bm25Path::Wand);
        // Many postings (long or common-word queries): term at a time.
        assert_eq!(path(&p, 1_000_000, 10, 200_000), Bm25Path::Taat);
        assert_eq!(path(&p, 5_000, 10, 4_000), Bm25Path::Taat);
        // A deep k lowers the bar.
        assert_eq!(path(&p, 1_000_000, 1000, 50_000), Bm25Path::Taat);
        assert!((taat_share(10) - 0.1).abs() < 1e-9 && (taat_share(5000) - 0.02).abs() < 1e-9);
        assert!(taat_share(300) < 0.1 && taat_share(300) > 0.02);
        // Other constants: WAND cannot run them, even when asked.
        let k15 = Bm25Params {
            k1: 1.5,
            path: Bm25Path::Wand,
            ..Default::default()
        };
        assert_eq!(path(&k15, 1_000_000, 10, 5_000), Bm25Path::Taat);
        let forced = Bm25Params {
            path: Bm25Path::Wand,
            ..Default::default()
        };
        assert_eq!(path(&forced, 10, 10, 10), Bm25Path::Wand);
    }

    #[test]
    fn ties_are_only_forgiven_between_near_equal_scores() {
        let h = |ord, score| Hit { ord, score };
        let a = vec![h(1, 3.0), h(2, 2.0), h(3, 2.0), h(4, 1.0), h(5, 1.0)];
        let swapped = vec![h(1, 3.0), h(3, 2.0), h(2, 2.0), h(4, 1.0), h(6, 1.0)];
        assert!(same_up_to_ties(&a, &swapped, 1e-6));
        let wrong = vec![h(2, 3.0), h(1, 2.0), h(3, 2.0), h(4, 1.0), h(5, 1.0)];
        assert!(!same_up_to_ties(&a, &wrong, 1e-6));
        let other_score = vec![h(1, 3.0), h(2, 2.5), h(3, 2.0), h(4, 1.0), h(5, 1.0)];
        assert!(!same_up_to_ties(&a, &other_score, 1e-6));
        assert!(!same_up_to_ties(&a, &a[..4], 1e-6));
    }

    #[test]
    fn top_k_orders_by_score_then_ordinal() {
        let h = |ord, score| Hit { ord, score };
        let hits = vec![h(3, 1.0), h(1, 2.0), h(2, 1.0), h(0, 0.5)];
        assert_eq!(top_k(hits.clone(), 2), vec![h(1, 2.0), h(2, 1.0)]);
        assert_eq!(top_k(hits.clone(), 10).len(), 4);
        assert!(top_k(hits, 0).is_empty());
    }
}
