//! BM25's two executors on a real collection, the bundled notes: term at a
//! time and tantivy's block-max WAND rank every dev query alike at k1 1.2,
//! b 0.75 (no model needed). The BEIR check is `cram eval --methods
//! bm25-taat,bm25-wand` (BENCHMARKS.md).

use cram::index::bm25::{Bm25Params, Bm25Path, same_up_to_ties, summation_tolerance};
use cram::index::lexical::Lexical;

use crate::util;

#[test]
fn taat_and_wand_rank_the_notes_alike() {
    let root = util::root();
    let source = cram::index::corpus::Source {
        path: root.join("corpus"),
        kind: cram::index::corpus::SourceKind::Bundled,
    };
    let (notes, _) = cram::index::corpus::load(&[source]).unwrap();
    let texts: Vec<String> = notes
        .iter()
        .flat_map(|n| cram::index::chunk::chunk_note(n, Default::default()))
        .map(|c| c.context_text())
        .collect();
    assert!(texts.len() > 300, "{} passages", texts.len());
    let dir = tempfile::tempdir().unwrap();
    cram::index::lexical::build(dir.path(), &texts).unwrap();
    let l = Lexical::open(dir.path()).unwrap();
    let dev = cram::eval::load_dev_queries(&root.join("tests/data/dev_queries.tsv")).unwrap();
    let at = |path| Bm25Params {
        path,
        ..Default::default()
    };
    // `cram ask`'s depth (50 per arm) and every passage.
    for k in [50, texts.len()] {
        let mut identical = 0;
        for q in &dev {
            let terms = l.analyze(&q.query);
            let a = l.search_terms_with(&terms, k, &at(Bm25Path::Taat)).unwrap();
            let b = l.search_terms_with(&terms, k, &at(Bm25Path::Wand)).unwrap();
            assert!(!a.is_empty(), "{}", q.query);
            assert!(
                same_up_to_ties(&a, &b, summation_tolerance(terms.len())),
                "{}: {:?} vs {:?}",
                q.query,
                &a[..5.min(a.len())],
                &b[..5.min(b.len())]
            );
            identical += usize::from(a.iter().map(|h| h.ord).eq(b.iter().map(|h| h.ord)));
        }
        eprintln!(
            "k {k}: identical order on {identical} of {} dev queries, the rest up to float ties",
            dev.len()
        );
        // The default search runs the path the rule picks.
        for q in dev.iter().take(20) {
            let counted = cram::index::bm25::count_terms(&l.analyze(&q.query));
            let path = l.path(&counted, k, &Bm25Params::default()).unwrap();
            assert_eq!(
                l.search(&q.query, k).unwrap(),
                l.search_with(&q.query, k, &at(path)).unwrap()
            );
        }
    }
}
