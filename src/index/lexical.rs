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
//! bag of weighted terms: plain bag-of-words BM25 with any k1 and b, scored
//! by [`crate::index::bm25`] term at a time, or by tantivy's block-max WAND over a
//! `BooleanQuery` of `Should` term queries (tantivy's fixed k1 = 1.2,
//! b = 0.75), whichever [`crate::index::bm25::choose_path`] picks.

use std::path::Path;

use std::borrow::Cow;
use std::sync::OnceLock;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions,
};

use regex::Regex;
use tantivy::tokenizer::{SimpleTokenStream, SimpleTokenizer, TextAnalyzer, Tokenizer};
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument, Term};

use crate::error::Result;
use crate::index::bm25::{Bm25Params, Bm25Path, Scorer, WeightedTerm};

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
    use tantivy::tokenizer::{Language, LowerCaser, RemoveLongFilter, Stemmer, StopWordFilter};
    TextAnalyzer::builder(MathAwareTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(StopWordFilter::remove(
            STOPWORDS.iter().map(|w| w.to_string()),
        ))
        .filter(Stemmer::new(Language::English))
        .build()
}

/// tantivy's simple tokenizer over text whose inline math also spells each
/// subscripted symbol as one word and says its operators ([`spell_math`]):
/// the notes write `$\sqrt{d_k}$`, which the simple tokenizer splits into
/// `sqrt`, `d`, `k`, while a candidate types "why divide by sqrt dk" or "the
/// square root of the key dimension". Text without `$` (every question, and
/// BEIR's collections) is tokenized exactly as before.
#[derive(Clone, Default)]
pub struct MathAwareTokenizer {
    inner: SimpleTokenizer,
    rewritten: String,
}

impl Tokenizer for MathAwareTokenizer {
    type TokenStream<'a> = SimpleTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> SimpleTokenStream<'a> {
        match spell_math(text) {
            Cow::Borrowed(_) => self.inner.token_stream(text),
            Cow::Owned(s) => {
                self.rewritten = s;
                self.inner.token_stream(&self.rewritten)
            }
        }
    }
}

/// Words said for math commands, by command name (`\sqrt` -> `sqrt`);
/// `\mathbb{E}` is said "expected value".
pub const SPOKEN: &[(&str, &str)] = &[
    ("sqrt", "square root"),
    ("sum", "sum"),
    ("prod", "product"),
    ("partial", "partial derivative"),
    ("nabla", "gradient"),
    ("int", "integral"),
    ("ln", "natural log"),
    ("exp", "exponential"),
    ("approx", "approximately"),
    ("propto", "proportional"),
    ("infty", "infinity"),
    ("top", "transpose"),
    ("mid", "given"),
];

/// `text` with, after each inline math span (`$...$` on one line), the
/// joined spelling of every single-letter symbol with a plain subscript in
/// it (`$\sqrt{d_k}$` gets `dk`, `$d_{model}$` gets `dmodel`, `$W_Q$` gets
/// `WQ`) and the words a reader says for its operators ([`SPOKEN`]:
/// `$\sqrt{d_k}$` also gets `square root`), so "why scale by the square
/// root of the key dimension" finds the passage that only writes the
/// formula. Subscripts that are not letters and digits (`x_{t-1}`,
/// `d_{\text{ff}}`) are left alone. Borrowed when the text has no math span.
pub fn spell_math(text: &str) -> Cow<'_, str> {
    static MATH: OnceLock<Regex> = OnceLock::new();
    static SUBSCRIPT: OnceLock<Regex> = OnceLock::new();
    if !text.contains('$') {
        return Cow::Borrowed(text);
    }
    let math = MATH.get_or_init(|| Regex::new(r"\$[^$\n]+\$").expect("valid regex"));
    let subscript = SUBSCRIPT.get_or_init(|| {
        Regex::new(r"(?:^|[^A-Za-z0-9\\])([A-Za-z])_(?:\{([A-Za-z0-9]{1,12})\}|([A-Za-z0-9]))")
            .expect("valid regex")
    });
    static COMMAND: OnceLock<Regex> = OnceLock::new();
    let command = COMMAND
        .get_or_init(|| Regex::new(r"\\([A-Za-z]+)(?:\s*\{?\s*(E)\b)?").expect("valid regex"));
    math.replace_all(text, |m: &regex::Captures| {
        let span = &m[0];
        let mut out = span.to_string();
        for c in subscript.captures_iter(span) {
            let sub = c.get(2).or_else(|| c.get(3)).map_or("", |s| s.as_str());
            out.push(' ');
            out.push_str(&c[1]);
            out.push_str(sub);
        }
        for c in command.captures_iter(span) {
            let said = match (&c[1], c.get(2)) {
                ("mathbb", Some(_)) => "expected value",
                (name, _) => match SPOKEN.iter().find(|(n, _)| *n == name) {
                    Some((_, said)) => *said,
                    None => continue,
                },
            };
            out.push(' ');
            out.push_str(said);
        }
        out
    })
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
    scorer: Scorer,
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
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let scorer = Scorer::open(&reader.searcher(), text, F_ORD)?;
        Ok(Lexical {
            reader,
            text,
            analyzer,
            scorer,
        })
    }

    /// The BM25 scorer (term at a time, term vectors).
    pub fn scorer(&self) -> &Scorer {
        &self.scorer
    }

    /// The BM25 scorer, to swap in exact document lengths.
    pub fn scorer_mut(&mut self) -> &mut Scorer {
        &mut self.scorer
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

    /// Top `limit` passages by BM25 at the default k1 and b. A question
    /// with no indexable terms returns no hits (not an error).
    pub fn search(&self, q: &str, limit: usize) -> Result<Vec<Hit>> {
        self.search_with(q, limit, &Bm25Params::default())
    }

    /// Top `limit` passages by BM25 with parameters `p`.
    pub fn search_with(&self, q: &str, limit: usize, p: &Bm25Params) -> Result<Vec<Hit>> {
        let terms = self.analyze(q);
        self.search_terms_with(&terms, limit, p)
    }

    /// Top `limit` passages for already analysed terms, default k1 and b.
    pub fn search_terms(&self, terms: &[String], limit: usize) -> Result<Vec<Hit>> {
        self.search_terms_with(terms, limit, &Bm25Params::default())
    }

    /// Top `limit` passages for already analysed terms (a repeated term
    /// weighs more), on the path [`crate::index::bm25::choose_path`] picks.
    pub fn search_terms_with(
        &self,
        terms: &[String],
        limit: usize,
        p: &Bm25Params,
    ) -> Result<Vec<Hit>> {
        if terms.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let counted = crate::index::bm25::count_terms(terms);
        match self.path(&counted, limit, p)? {
            Bm25Path::Wand => self.wand(terms, limit),
            _ => self.scorer.taat(&counted, limit, p),
        }
    }

    /// Top `limit` passages for weighted terms (RM3's expanded queries),
    /// term at a time.
    pub fn search_weighted(
        &self,
        terms: &[WeightedTerm],
        limit: usize,
        p: &Bm25Params,
    ) -> Result<Vec<Hit>> {
        self.scorer.taat(terms, limit, p)
    }

    /// The executor [`Lexical::search_terms_with`] uses for these terms.
    pub fn path(&self, counted: &[WeightedTerm], limit: usize, p: &Bm25Params) -> Result<Bm25Path> {
        crate::index::bm25::choose_path(p, self.scorer.num_docs(), limit, || {
            self.scorer.postings(counted)
        })
    }

    /// tantivy's block-max WAND over a `BooleanQuery` of `Should` term
    /// queries (k1 1.2, b 0.75; a repeated term is a repeated clause).
    fn wand(&self, terms: &[String], limit: usize) -> Result<Vec<Hit>> {
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
        for (score, addr) in top {
            let ord = self
                .scorer
                .ord(addr.segment_ord as usize, addr.doc_id)
                .ok_or_else(|| crate::error::Error::IndexCorrupt {
                    path: Default::default(),
                    reason: "a BM25 document has no passage ordinal".into(),
                })?;
            hits.push(Hit { ord, score });
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

    #[test]
    fn math_spells_its_subscripts_as_one_word_and_says_its_operators() {
        assert_eq!(
            spell_math(r"Dividing by $\sqrt{d_k}$ keeps unit variance"),
            r"Dividing by $\sqrt{d_k}$ dk square root keeps unit variance"
        );
        assert_eq!(
            spell_math(r"$\mathbb{E}[x] \approx \frac{1}{n}\sum_i x_i$ and $\infty$"),
            r"$\mathbb{E}[x] \approx \frac{1}{n}\sum_i x_i$ xi expected value approximately sum and $\infty$ infinity"
        );
        assert_eq!(
            spell_math(r"width $d_{model}$ and $W_Q x_i$"),
            r"width $d_{model}$ dmodel and $W_Q x_i$ WQ xi"
        );
        // Not math, not a plain subscript, or a longer base: unchanged.
        for t in [
            "snake_case and d_k outside math",
            r"$x_{t-1}$ and $d_{\text{ff}}$",
            r"$\mathrm{max\_len}$ costs $5",
        ] {
            assert!(
                matches!(spell_math(t), Cow::Borrowed(_)) || spell_math(t) == t,
                "{t}"
            );
        }
        let terms = analyze(r"Dividing by $\sqrt{d_k}$");
        assert!(terms.contains(&"dk".to_string()), "{terms:?}");
        assert!(terms.contains(&"squar".to_string()), "{terms:?}");
        assert_eq!(
            analyze("why divide by sqrt dk"),
            ["whi", "divid", "sqrt", "dk"]
        );
    }

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

    use crate::index::bm25::{Bm25Params, Bm25Path, same_up_to_ties};

    fn on(path: Bm25Path) -> Bm25Params {
        Bm25Params {
            path,
            ..Default::default()
        }
    }

    #[test]
    fn term_at_a_time_equals_wand() {
        let (_d, l) = fixture();
        for q in [
            "ranks documents",
            "rust rust fusion",
            "dropout",
            "term frequency rank",
        ] {
            let a = l.search_with(q, 10, &on(Bm25Path::Taat)).unwrap();
            let b = l.search_with(q, 10, &on(Bm25Path::Wand)).unwrap();
            assert_eq!(a.len(), b.len(), "{q}");
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(x.ord, y.ord, "{q}");
                assert!(
                    (x.score - y.score).abs() <= 1e-6 * x.score,
                    "{q}: {x:?} {y:?}"
                );
            }
        }
    }

    #[test]
    fn bm25_score_by_hand_at_other_k1_and_b() {
        let d = tempfile::tempdir().unwrap();
        // Lengths after the analyzer: 2, 4 and 1 tokens; avglen 7/3.
        let texts = vec![
            "apple banana".to_string(),
            "apple apple cherry date".to_string(),
            "elderberry".to_string(),
        ];
        build(d.path(), &texts).unwrap();
        let l = Lexical::open(d.path()).unwrap();
        let p = Bm25Params {
            k1: 1.5,
            b: 0.5,
            path: Bm25Path::Taat,
        };
        let hits = l.search_with("apple", 10, &p).unwrap();
        // idf(apple) = ln(1 + (3 - 2 + 0.5) / (2 + 0.5)) = ln 1.6.
        let (k1, b, avg) = (1.5f64, 0.5f64, 7.0f64 / 3.0);
        let bm25 = |tf: f64, len: f64| {
            1.6f64.ln() * (k1 + 1.0) * tf / (tf + k1 * (1.0 - b + b * len / avg))
        };
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].ord, 1);
        assert!(
            (hits[0].score as f64 - bm25(2.0, 4.0)).abs() < 1e-5,
            "{hits:?}"
        );
        assert!(
            (hits[1].score as f64 - bm25(1.0, 2.0)).abs() < 1e-5,
            "{hits:?}"
        );
        // k1 = 0: frequency and length no longer count: both score idf.
        let flat = Bm25Params { k1: 0.0, ..p };
        let hits = l.search_with("apple", 10, &flat).unwrap();
        assert!((hits[0].score - hits[1].score).abs() < 1e-6);
        assert!((hits[0].score as f64 - 1.6f64.ln()).abs() < 1e-5);
    }

    #[test]
    fn exact_lengths_equal_field_norms_for_short_passages() {
        // Up to 40 tokens the field norm is the exact length.
        let (d, l) = fixture();
        let mut exact = Lexical::open(d.path()).unwrap();
        let texts = [
            "Dropout randomly zeroes activations during training.",
            "BM25 ranks documents by term frequency and inverse document frequency.",
            "Reciprocal rank fusion combines rankings: C++ vs. Rust: which is faster?",
        ];
        let lens: Vec<u32> = texts.iter().map(|t| analyze(t).len() as u32).collect();
        exact.scorer_mut().set_exact_lengths(&lens).unwrap();
        let p = on(Bm25Path::Taat);
        for q in ["documents rank", "fusion rust", "dropout training"] {
            assert_eq!(
                l.search_with(q, 10, &p).unwrap(),
                exact.search_with(q, 10, &p).unwrap()
            );
        }
    }

    #[test]
    fn term_vectors_read_back_the_postings() {
        let (_d, l) = fixture();
        let tv = l.scorer().term_vectors().unwrap();
        let terms: Vec<(&str, u32)> = tv
            .doc(1)
            .iter()
            .map(|&(id, tf)| (tv.terms[id as usize].as_str(), tf))
            .collect();
        // "BM25 ranks documents by term frequency and inverse document frequency."
        for want in [("bm25", 1), ("rank", 1), ("document", 2), ("frequenc", 2)] {
            assert!(terms.contains(&want), "{want:?} in {terms:?}");
        }
        assert_eq!(terms.len(), 6, "{terms:?}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// On random collections and queries (repeated words included), term
        /// at a time and block-max WAND return the same top k, up to the
        /// order of scores that differ only by float summation order.
        #[test]
        fn taat_and_wand_agree_on_random_queries(
            docs in proptest::collection::vec(proptest::collection::vec(0usize..40, 1..60), 1..150),
            queries in proptest::collection::vec(proptest::collection::vec(0usize..45, 1..30), 1..8),
            k in 1usize..200,
        ) {
            let words: Vec<String> = (0..45).map(|i| format!("w{i}x")).collect();
            let texts: Vec<String> = docs
                .iter()
                .map(|d| d.iter().map(|&i| words[i].as_str()).collect::<Vec<_>>().join(" "))
                .collect();
            let dir = tempfile::tempdir().unwrap();
            build(dir.path(), &texts).unwrap();
            let l = Lexical::open(dir.path()).unwrap();
            for q in &queries {
                let q: Vec<String> = q.iter().map(|&i| words[i].clone()).collect();
                let a = l.search_terms_with(&q, k, &on(Bm25Path::Taat)).unwrap();
                let b = l.search_terms_with(&q, k, &on(Bm25Path::Wand)).unwrap();
                proptest::prop_assert!(same_up_to_ties(&a, &b, crate::index::bm25::summation_tolerance(q.len())), "{q:?}\n{a:?}\n{b:?}");
            }
        }
    }

    proptest::proptest! {
        /// Spelling math only adds words: the terms of any text, math or
        /// not, are a subsequence of the terms of its spelled form, and text
        /// without `$` is left as it is.
        #[test]
        fn spelling_math_only_adds_words(text in r"[a-z $\\_{}^kdEx0-9]{0,60}") {
            let spelled = spell_math(&text);
            if !text.contains('$') {
                proptest::prop_assert!(matches!(spelled, Cow::Borrowed(_)));
            }
            let (before, after) = (analyze(&text), analyze(&spelled));
            let mut rest = after.iter();
            for t in &before {
                proptest::prop_assert!(rest.any(|u| u == t), "{text:?} -> {spelled:?}");
            }
        }
    }

    #[test]
    fn analyzer_stems_lowercases_and_drops_stopwords() {
        assert_eq!(analyze("Ranking the Documents"), vec!["rank", "document"]);
    }
}
