//! Which BM25 executor is faster, and when: term at a time (TAAT, a dense
//! accumulator over all documents) against tantivy's block-max WAND, both at
//! k1 1.2, b 0.75, one thread, on the same analysed queries in the same run.
//! The rule in `cram::index::bm25::choose_path` comes from this table.
//!
//! run: `cargo bench --bench bm25_paths` (BEIR collections from
//! `../shared/benchmarks`, or the folders given in `CRAM_BENCH_BEIR`, comma-separated),
//! then synthetic Zipf collections of 20k to 1M documents (`CRAM_BENCH_SYNTH_MAX`
//! caps the size; default 300,000; 1,000,000 adds the largest).
//!
//! Per query, each path runs 3 times and keeps its best time; a query counts
//! as a TAAT win when TAAT's best is lower. Plain `harness = false` timing
//! loops, as in `benches/query.rs`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use cram::index::bm25::{Bm25Params, Bm25Path};
use cram::index::lexical::{self, Lexical};

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

/// Best of 3 runs in µs (one run when it takes over 20 ms: those are far
/// from any crossover).
fn best_of_3(f: &mut dyn FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64() * 1e6);
        if best > 20_000.0 {
            break;
        }
    }
    best
}

/// One query's times on both paths.
#[derive(Clone, Copy)]
struct Timed {
    share: f64,
    taat: f64,
    wand: f64,
}

fn time_query(l: &Lexical, q: &[String], k: usize) -> Timed {
    let at = |path| Bm25Params {
        path,
        ..Default::default()
    };
    let (taat, wand) = (at(Bm25Path::Taat), at(Bm25Path::Wand));
    let counted = cram::index::bm25::count_terms(q);
    Timed {
        share: l.scorer().postings(&counted).unwrap() as f64 / l.num_docs() as f64,
        taat: best_of_3(&mut || {
            std::hint::black_box(l.search_terms_with(q, k, &taat).unwrap());
        }),
        wand: best_of_3(&mut || {
            std::hint::black_box(l.search_terms_with(q, k, &wand).unwrap());
        }),
    }
}

fn measure(name: &str, l: &Lexical, queries: &[Vec<String>], kind: &str, k: usize) -> Row {
    let times: Vec<Timed> = queries.iter().map(|q| time_query(l, q, k)).collect();
    row(name, l.num_docs() as usize, kind, k, &times)
}

fn row(name: &str, docs: usize, kind: &str, k: usize, times: &[Timed]) -> Row {
    let m = times.len().max(1) as f64;
    Row {
        collection: name.to_string(),
        docs,
        queries: kind.to_string(),
        k,
        taat_us: times.iter().map(|t| t.taat).sum::<f64>() / m,
        wand_us: times.iter().map(|t| t.wand).sum::<f64>() / m,
        taat_wins: times.iter().filter(|t| t.taat < t.wand).count() as f64 / m,
        postings_share: times.iter().map(|t| t.share).sum::<f64>() / m,
    }
}

/// The threshold τ for "term at a time when postings >= τ · documents" that
/// minimises the total time over `times`, and that total against always
/// TAAT and always WAND.
fn best_threshold(times: &[Timed]) -> (f64, f64, f64, f64) {
    let mut cands: Vec<f64> = times.iter().map(|t| t.share).collect();
    cands.push(f64::INFINITY);
    cands.sort_by(f64::total_cmp);
    let cost = |tau: f64| -> f64 {
        times
            .iter()
            .map(|t| if t.share >= tau { t.taat } else { t.wand })
            .sum()
    };
    let best = cands
        .iter()
        .copied()
        .min_by(|a, b| cost(*a).total_cmp(&cost(*b)))
        .unwrap_or(0.0);
    (
        best,
        cost(best),
        times.iter().map(|t| t.taat).sum(),
        times.iter().map(|t| t.wand).sum(),
    )
}

fn beir_dirs() -> Vec<PathBuf> {
    if let Ok(v) = std::env::var("CRAM_BENCH_BEIR") {
        return v
            .split(',')
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .collect();
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

fn synthetic(n: usize, rows: &mut Vec<Row>, thresholds: &mut Vec<String>) {
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
            .map(|_| {
                loop {
                    let r = zipf.sample(&mut rng);
                    if r >= 100 {
                        break word(r);
                    }
                }
            })
            .collect()
    };
    let lengths: &[usize] = if n >= 1_000_000 {
        &[2, 3, 4, 6, 8, 12, 16]
    } else {
        &[2, 3, 4, 6, 8, 12, 16, 24, 32, 60]
    };
    let queries: Vec<(usize, Vec<String>)> = lengths
        .iter()
        .flat_map(|&len| (0..15).map(move |_| len))
        .map(|len| (len, query(len)))
        .collect();
    let name = format!("synthetic {}k", n / 1000);
    for k in [10, 100, 1000] {
        let times: Vec<(usize, Timed)> = queries
            .iter()
            .map(|(len, q)| (*len, time_query(&l, q, k)))
            .collect();
        for &len in lengths {
            let of_len: Vec<Timed> = times
                .iter()
                .filter(|(m, _)| *m == len)
                .map(|(_, t)| *t)
                .collect();
            rows.push(row(&name, n, &format!("{len} terms"), k, &of_len));
        }
        let all: Vec<Timed> = times.into_iter().map(|(_, t)| t).collect();
        let (tau, rule, taat, wand) = best_threshold(&all);
        thresholds.push(format!(
            "| {n} | {k} | {tau:.3} | {:.0} | {:.0} | {:.0} |",
            rule / all.len() as f64,
            taat / all.len() as f64,
            wand / all.len() as f64
        ));
    }
}

fn main() {
    let mut rows = Vec::new();
    let mut thresholds = Vec::new();
    for dir in beir_dirs() {
        let coll = match cram::eval::beir::Collection::load(&dir) {
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
        .unwrap_or(300_000);
    for n in [20_000, 100_000, 300_000, 1_000_000] {
        if n <= max {
            synthetic(n, &mut rows, &mut thresholds);
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
    if !thresholds.is_empty() {
        println!(
            "\nSynthetic: the best rule \"term at a time when postings >= τ · documents\", mean µs per query\n"
        );
        println!("| documents | k | τ | with the rule | always TAAT | always WAND |");
        println!("|---|---|---|---|---|---|");
        for t in &thresholds {
            println!("{t}");
        }
    }
}
