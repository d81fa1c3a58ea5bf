//! Which BM25 executor is faster, and when: term at a time (TAAT, a dense
//! accumulator over all documents) against tantivy's block-max WAND, both at
//! k1 1.2, b 0.75, one thread, on the same analysed queries in the same run.
//! The rule in `cram::bm25::choose_path` comes from this table.
//!
//! run: `cargo bench --bench bm25_paths` (BEIR collections from
//! `../shared/benchmarks`, or the folders given in `CRAM_BENCH_BEIR`, comma-separated),
//! then synthetic Zipf collections of 20k to 1M documents (`CRAM_BENCH_SYNTH_MAX`
//! caps the size; default 1,000,000).
//!
//! Per query, each path runs 3 times and keeps its best time; a query counts
//! as a TAAT win when TAAT's best is lower. Plain `harness = false` timing
//! loops, as in `benches/query.rs`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use cram::bm25::{Bm25Params, Bm25Path};
use cram::lexical::{self, Lexical};

struct Row {
    collection: String,
    docs: usize,
    queries: String,
    k: usize,
    taat_us: f64,
    wand_us: f64,
    taat_wins: f64,
    postings_share: f64,
}

fn best_of_3(f: &mut dyn FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64() * 1e6);
    }
    best
}

fn measure(name: &str, l: &Lexical, queries: &[Vec<String>], kind: &str, k: usize) -> Row {
    let at = |path| Bm25Params {
        path,
        ..Default::default()
    };
    let (taat, wand) = (at(Bm25Path::Taat), at(Bm25Path::Wand));
    let (mut t_sum, mut w_sum, mut wins, mut share) = (0.0, 0.0, 0usize, 0.0);
    let n = l.num_docs() as f64;
    for q in queries {
        let t = best_of_3(&mut || {
            std::hint::black_box(l.search_terms_with(q, k, &taat).unwrap());
        });
        let w = best_of_3(&mut || {
            std::hint::black_box(l.search_terms_with(q, k, &wand).unwrap());
        });
        t_sum += t;
        w_sum += w;
        wins += usize::from(t < w);
        let counted = cram::bm25::count_terms(q);
        share += l.scorer().postings(&counted).unwrap() as f64 / n;
    }
    let m = queries.len().max(1) as f64;
    Row {
        collection: name.to_string(),
        docs: l.num_docs() as usize,
        queries: kind.to_string(),
        k,
        taat_us: t_sum / m,
        wand_us: w_sum / m,
        taat_wins: wins as f64 / m,
        postings_share: share / m,
    }
}

fn beir_dirs() -> Vec<PathBuf> {
    if let Ok(v) = std::env::var("CRAM_BENCH_BEIR") {
        return v.split(',').filter(|s| !s.is_empty()).map(PathBuf::from).collect();
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/benchmarks");
    ["scifact", "arguana", "cisi", "cranfield"]
        .iter()
        .map(|c| root.join(c))
        .filter(|p| p.is_dir())
        .collect()
}

/// xorshift64*: reproducible pseudo-random numbers without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Word ranks drawn from a Zipf distribution (exponent 1) over `vocab` words.
struct Zipf {
    cdf: Vec<f64>,
}
impl Zipf {
    fn new(vocab: usize) -> Zipf {
        let mut cdf = Vec::with_capacity(vocab);
        let mut s = 0.0;
        for r in 1..=vocab {
            s += 1.0 / r as f64;
            cdf.push(s);
        }
        cdf.iter_mut().for_each(|c| *c /= s);
        Zipf { cdf }
    }
    fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }
}

/// A word for rank `r`: letters only, so the analyzer keeps it as one token
/// and the stemmer leaves it alone.
fn word(r: usize) -> String {
    let mut s = String::from("z");
    let mut x = r;
    loop {
        s.push((b'a' + (x % 26) as u8) as char);
        x /= 26;
        if x == 0 {
            break;
        }
    }
    s.push('q');
    s
}

fn synthetic(n: usize, rows: &mut Vec<Row>) {
    let zipf = Zipf::new(50_000);
    let mut rng = Rng(0x5eed_0000 + n as u64);
    let texts: Vec<String> = (0..n)
        .map(|_| {
            let len = 40 + (rng.next() % 120) as usize;
            (0..len)
                .map(|_| word(zipf.sample(&mut rng)))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    lexical::build(dir.path(), &texts).unwrap();
    let l = Lexical::open(dir.path()).unwrap();
    eprintln!("synthetic {n}: built in {:.1} s", t.elapsed().as_secs_f64());
    // Query words: the Zipf tail beyond the 100 most common words (stopword-like).
    let mut query = |len: usize| -> Vec<String> {
        (0..len)
            .map(|_| loop {
                let r = zipf.sample(&mut rng);
                if r >= 100 {
                    break word(r);
                }
            })
            .collect()
    };
    let short: Vec<Vec<String>> = (0..100).map(|_| query(4)).collect();
    let long: Vec<Vec<String>> = (0..40).map(|_| query(60)).collect();
    let name = format!("synthetic {}k", n / 1000);
    for k in [10, 1000] {
        rows.push(measure(&name, &l, &short, "4 terms", k));
        rows.push(measure(&name, &l, &long, "60 terms", k));
    }
}

fn main() {
    let mut rows = Vec::new();
    for dir in beir_dirs() {
        let coll = match cram::beir::Collection::load(&dir) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("skipping {}: {e}", dir.display());
                continue;
            }
        };
        let tmp = tempfile::tempdir().unwrap();
        lexical::build(tmp.path(), &coll.doc_texts).unwrap();
        let l = Lexical::open(tmp.path()).unwrap();
        let queries: Vec<Vec<String>> = coll.queries.iter().map(|(_, q)| l.analyze(q)).collect();
        for k in [10, 100, 1000] {
            rows.push(measure(&coll.name, &l, &queries, "test queries", k));
        }
        eprintln!("{}: done", coll.name);
    }
    let max: usize = std::env::var("CRAM_BENCH_SYNTH_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    for n in [20_000, 100_000, 300_000, 1_000_000] {
        if n <= max {
            synthetic(n, &mut rows);
        }
    }
    println!(
        "| collection | documents | queries | postings / documents | k | TAAT µs | WAND µs | TAAT faster on |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {:.3} | {} | {:.1} | {:.1} | {:.0}% |",
            r.collection,
            r.docs,
            r.queries,
            r.postings_share,
            r.k,
            r.taat_us,
            r.wand_us,
            100.0 * r.taat_wins
        );
    }
}
