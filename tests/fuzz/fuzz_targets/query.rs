//! Fuzz target: the query analysis path. Any string must validate or fail
//! cleanly, analyse, search a small BM25 index, and render without a panic;
//! rendered text must carry no control characters from the input.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

use cram::index::lexical::{self, Lexical};

fn index() -> &'static Lexical {
    static L: OnceLock<(tempfile::TempDir, Lexical)> = OnceLock::new();
    &L.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        let texts = vec![
            "BM25 ranks documents by term frequency and inverse document frequency.".to_string(),
            "Reciprocal rank fusion combines rankings from sparse and dense retrieval.".to_string(),
            "Maximal marginal relevance trades relevance for diversity.".to_string(),
        ];
        lexical::build(d.path(), &texts).unwrap();
        let l = Lexical::open(d.path()).unwrap();
        (d, l)
    })
    .1
}

fuzz_target!(|data: &[u8]| {
    let Ok(q) = std::str::from_utf8(data) else { return };
    let _ = cram::config::validate_query(q);
    let terms = lexical::analyze(q);
    let hits = index().search_terms(&terms, 10).unwrap();
    assert!(hits.iter().all(|h| h.score.is_finite() && h.ord < 3));
    let _ = cram::retrieval::abstain::content_terms(q);
    let clean = cram::render::sanitize(q);
    assert!(!clean.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
});
