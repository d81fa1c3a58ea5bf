//! The sparse arm: BM25 over a tantivy index.
//!
//! Each passage is one document with two fields: `ord` (the passage's
//! position in the chunk store, a u64 FAST field, so results map back without
//! relying on tantivy's internal addresses, which change on merge) and `text`
//! (title + breadcrumb + passage). The analyzer is tantivy's simple tokenizer,
//! a long-token filter (40 bytes), lowercasing, Lucene's 33 English stopwords
//! (as Elasticsearch's and Anserini's English analyzers, behind the BEIR
//! baselines), and the English Snowball stemmer. Dropping stopwords matters
//! for speed: "the" or "of" would otherwise put almost every passage into
//! every question's candidate set.
//!
//! Questions never go through tantivy's `QueryParser`, which errors on or
//! silently rewrites ordinary questions (`C++ vs. Rust: which...`, quotes,
//! `-`, `^`, `AND`). They are run through the field's own analyzer and become a
//! `BooleanQuery` of `Should` term queries: plain bag-of-words BM25, with
//! tantivy's fixed k1 = 1.2, b = 0.75.

use std::path::Path;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument, Term};

use crate::error::{Error, Result};

const F_ORD: &str = "ord";
const F_TEXT: &str = "text";
const TOKENIZER: &str = "cram_en";

/// Lucene's English stopword set (`EnglishAnalyzer.ENGLISH_STOP_WORDS_SET`).
pub const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
];

/// The `text` field's analyzer.
pub fn analyzer() -> TextAnalyzer {
    use tantivy::tokenizer::{
        Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter,
    };
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(StopWordFilter::remove(
            STOPWORDS.iter().map(|w| w.to_string()),
        ))
        .filter(Stemmer::new(Language::English))
        .build()
}

fn register(index: &Index) {
    index.tokenizers().register(TOKENIZER, analyzer());
}

/// A ranked hit from one arm: a passage ordinal and the arm's score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Position of the passage in the chunk store.
    pub ord: u32,
    /// The arm's score (BM25 here; cosine for the dense arm).
    pub score: f32,
}

fn schema() -> (Schema, Field, Field) {
    let mut b = Schema::builder();
    let ord = b.add_u64_field(F_ORD, NumericOptions::default().set_fast());
    let text = b.add_text_field(
        F_TEXT,
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqs),
        ),
    );
    (b.build(), ord, text)
}

/// Writes a new BM25 index of `texts` (passage `i` gets ordinal `i`) into `dir`,
/// which must exist and be empty.
pub fn build(dir: &Path, texts: &[String]) -> Result<()> {
    let (schema, ord, text) = schema();
    let index = Index::create_in_dir(dir, schema)?;
    register(&index);
    // One indexing thread: the result is one segment, deterministic, and at
    // our sizes (thousands of passages) the build takes well under a second.
    let mut writer = index.writer_with_num_threads::<TantivyDocument>(1, 64 * 1024 * 1024)?;
    for (i, t) in texts.iter().enumerate() {
        let mut doc = TantivyDocument::default();
        doc.add_u64(ord, i as u64);
        doc.add_text(text, t);
        writer.add_document(doc)?;
    }
    writer.commit()?;
    writer.wait_merging_threads()?;
    Ok(())
}

/// An open BM25 index.
pub struct Lexical {
    reader: IndexReader,
    text: Field,
    analyzer: TextAnalyzer,
}

impl Lexical {
    /// Opens the index in `dir`.
    pub fn open(dir: &Path) -> Result<Lexical> {
        let index = Index::open_in_dir(dir)?;
        register(&index);
        let schema = index.schema();
        let text = schema.get_field(F_TEXT)?;
        let _ord = schema.get_field(F_ORD)?;
        let analyzer = index.tokenizer_for_field(text)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Lexical {
            reader,
            text,
            analyzer,
        })
    }

    /// Number of indexed passages.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The question's terms after the field's analyzer (lowercased, stemmed),
    /// in order, duplicates kept (a repeated word weighs more, as in Lucene).
    pub fn analyze(&self, q: &str) -> Vec<String> {
        analyze_with(&mut self.analyzer.clone(), q)
    }

    /// BM25's inverse document frequency of an analysed term,
    /// `ln(1 + (N - df + 0.5) / (df + 0.5))`; a term absent from the index
    /// gets the largest value (df = 0).
    pub fn idf(&self, term: &str) -> f32 {
        let searcher = self.reader.searcher();
        let n = searcher.num_docs() as f32;
        let df = searcher
            .doc_freq(&Term::from_field_text(self.text, term))
            .unwrap_or(0) as f32;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// Passages containing an analysed term.
    pub fn doc_freq(&self, term: &str) -> u64 {
        self.reader
            .searcher()
            .doc_freq(&Term::from_field_text(self.text, term))
            .unwrap_or(0)
    }

    /// Top `limit` passages by BM25. A question with no indexable terms
    /// returns no hits (not an error).
    pub fn search(&self, q: &str, limit: usize) -> Result<Vec<Hit>> {
        let terms = self.analyze(q);
        self.search_terms(&terms, limit)
    }

    /// Top `limit` passages for already analysed terms.
    pub fn search_terms(&self, terms: &[String], limit: usize) -> Result<Vec<Hit>> {
        if terms.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let clauses: Vec<(Occur, Box<dyn Query>)> = terms
            .iter()
            .map(|t| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(
                    Term::from_field_text(self.text, t),
                    IndexRecordOption::WithFreqs,
                ));
                (Occur::Should, q)
            })
            .collect();
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let top = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score())?;
        let mut hits = Vec::with_capacity(top.len());
        // Open each segment's `ord` column once, not once per hit.
        let mut columns: Vec<Option<tantivy::columnar::Column<u64>>> =
            vec![None; searcher.segment_readers().len()];
        for (score, addr) in top {
            let slot = &mut columns[addr.segment_ord as usize];
            if slot.is_none() {
                *slot = Some(
                    searcher
                        .segment_reader(addr.segment_ord)
                        .fast_fields()
                        .u64(F_ORD)?,
                );
            }
            let col = slot.as_ref().expect("opened above");
            let ord = col.first(addr.doc_id).ok_or_else(|| Error::IndexCorrupt {
                path: Default::default(),
                reason: "a BM25 document has no passage ordinal".into(),
            })?;
            hits.push(Hit {
                ord: ord as u32,
                score,
            });
        }
        // Equal scores: lower ordinal first, so runs are reproducible.
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.ord.cmp(&b.ord)));
        Ok(hits)
    }
}

fn analyze_with(analyzer: &mut TextAnalyzer, q: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut ts = analyzer.token_stream(q);
    while ts.advance() {
        out.push(ts.token().text.clone());
    }
    out
}

/// Analyses `q` with the `text` field's analyzer (built once per thread:
/// highlighting calls this for every word of every passage shown).
pub fn analyze(q: &str) -> Vec<String> {
    thread_local! {
        static ANALYZER: std::cell::RefCell<TextAnalyzer> = std::cell::RefCell::new(analyzer());
    }
    ANALYZER.with(|a| analyze_with(&mut a.borrow_mut(), q))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> (tempfile::TempDir, Lexical) {
        let d = tempfile::tempdir().unwrap();
        let texts = vec![
            "Dropout randomly zeroes activations during training.".to_string(),
            "BM25 ranks documents by term frequency and inverse document frequency.".to_string(),
            "Reciprocal rank fusion combines rankings: C++ vs. Rust: which is faster?".to_string(),
        ];
        build(d.path(), &texts).unwrap();
        let l = Lexical::open(d.path()).unwrap();
        (d, l)
    }

    #[test]
    fn finds_by_stemmed_terms() {
        let (_d, l) = fixture();
        assert_eq!(l.num_docs(), 3);
        let hits = l.search("how are documents ranked", 10).unwrap();
        assert_eq!(hits[0].ord, 1);
        let hits = l.search("dropouts", 10).unwrap();
        assert_eq!(hits[0].ord, 0);
    }

    #[test]
    fn query_syntax_is_just_text() {
        let (_d, l) = fixture();
        for q in [
            "C++ vs. Rust: which",
            "\"unclosed (paren",
            "^boost -minus +plus AND OR NOT",
            "rust:",
            "a:b:c",
        ] {
            let hits = l.search(q, 10).unwrap();
            assert!(
                !hits.is_empty() || q.starts_with('^') || q.starts_with('"'),
                "{q}"
            );
        }
        let hits = l.search("C++ vs. Rust: which", 10).unwrap();
        assert_eq!(hits[0].ord, 2);
        assert!(l.search("?!... ---", 10).unwrap().is_empty());
        assert!(l.search("the of and", 10).unwrap().is_empty());
        assert!(l.search("", 10).unwrap().is_empty());
    }

    #[test]
    fn analyzer_stems_lowercases_and_drops_stopwords() {
        assert_eq!(analyze("Ranking the Documents"), vec!["rank", "document"]);
    }
}
