//! Speed benchmarks for the three targets of the engine (run: `make bench` or
//! `cargo bench --bench query`):
//!
//! 1. warm query, hybrid + MMR, k = 5, over the bundled notes: p50 / p95 / p99;
//! 2. cold `cram ask` as a whole process (model load included): median wall time,
//!    and `cram show q18` (no model: index opening and rendering);
//! 3. re-index after editing one note: median wall time of `cram index`.
//!
//! `CRAM_BENCH_MODEL=fp32 make bench` (or a model folder) measures another
//! model; the index is always built from scratch in a temp folder.
//!
//! Plain `harness = false` timing loops: no bench framework, so the crate's
//! dependency features (and build) are the same as for tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use cram::eval::{DevQuery, load_dev_queries, percentile};
use cram::{Engine, OpenOptions, Paths, SearchParams};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().expect("temp dir");
    let (corpus, paths) = private_copy(root, tmp.path());
    let t = Instant::now();
    let (mut engine, _) = match Engine::open(&paths, &OpenOptions::default(), &mut |_| {}) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("bench: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "index build (bundled notes, from scratch): {:.2} s",
        t.elapsed().as_secs_f64()
    );
    engine.load_model().unwrap();
    let dev = load_dev_queries(&root.join("tests/data/dev_queries.tsv")).unwrap();
    warm_retrieval(&mut engine, &dev);
    warm_answers(&mut engine, &dev);
    warm_rendering(&mut engine, &dev);
    processes(&corpus, &paths);
}

/// A private copy of the notes and a private index under `tmp`, so the
/// bench never touches the user's index; `CRAM_BENCH_MODEL=fp32` (or a
/// model folder) benches another model.
fn private_copy(root: &Path, tmp: &Path) -> (PathBuf, Paths) {
    let corpus = tmp.join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    for e in std::fs::read_dir(root.join("corpus")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), corpus.join(e.file_name())).unwrap();
    }
    let model_dir = std::env::var_os("CRAM_BENCH_MODEL").map_or_else(
        || Paths::defaults().model_dir,
        |m| cram::index::model::resolve(Path::new(&m)),
    );
    println!("model: {}", model_dir.display());
    let paths = Paths {
        corpus: corpus.clone(),
        index: tmp.join("index"),
        model_dir,
        ..Paths::defaults()
    };
    (corpus, paths)
}

/// 1. Warm queries: retrieval (hybrid + MMR, k = 5) without key points.
fn warm_retrieval(engine: &mut Engine, dev: &[DevQuery]) {
    let params = SearchParams {
        key_points: 0,
        ..SearchParams::default()
    };
    for q in dev.iter().take(20) {
        engine.ask(&q.query, &params).unwrap(); // warm-up
    }
    let (mut total, mut embed, mut search) = (Vec::new(), Vec::new(), Vec::new());
    for _round in 0..3 {
        for q in dev {
            let t = Instant::now();
            let a = engine.ask(&q.query, &params).unwrap();
            total.push(t.elapsed().as_secs_f64() * 1000.0);
            embed.push(a.timings_ms.embed);
            search.push(
                a.timings_ms.bm25 + a.timings_ms.dense + a.timings_ms.fuse + a.timings_ms.mmr,
            );
        }
    }
    let n = total.len();
    for (name, v) in [
        ("total", &mut total),
        ("query embedding", &mut embed),
        ("search+fuse+mmr", &mut search),
    ] {
        println!(
            "warm query, hybrid+MMR k=5, {name}: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms ({n} queries)",
            percentile(v, 0.50),
            percentile(v, 0.95),
            percentile(v, 0.99)
        );
    }
}

/// The whole default answer, and where its time goes.
fn warm_answers(engine: &mut Engine, dev: &[DevQuery]) {
    // The whole default answer, and where its time goes: the query
    // embedding, retrieval (both arms, fusion, MMR), key points, and the rest
    // (query understanding, the abstention evidence, assembling the answer).
    let (mut full, mut parts) = (Vec::new(), [Vec::new(), Vec::new(), Vec::new(), Vec::new()]);
    for q in dev {
        let t = Instant::now();
        let a = engine.ask(&q.query, &SearchParams::default()).unwrap();
        full.push(t.elapsed().as_secs_f64() * 1000.0);
        let tm = &a.timings_ms;
        let retrieval = tm.bm25 + tm.dense + tm.fuse + tm.mmr;
        for (v, x) in parts.iter_mut().zip([
            tm.embed,
            retrieval,
            tm.key_points,
            tm.total - tm.embed - retrieval - tm.key_points,
        ]) {
            v.push(x);
        }
    }
    println!(
        "warm `cram ask` default (retrieval + 5 key points): p50 {:.1} ms, p95 {:.1} ms ({} queries)",
        percentile(&mut full, 0.50),
        percentile(&mut full, 0.95),
        full.len()
    );
    let [e, r, k, rest] = &mut parts;
    println!(
        "  of which (p50 each): query embedding {:.2} ms, retrieval {:.2} ms, key points {:.2} ms, \
         the rest {:.2} ms",
        percentile(e, 0.50),
        percentile(r, 0.50),
        percentile(k, 0.50),
        percentile(rest, 0.50)
    );
}

/// The default answers rendered for a terminal.
fn warm_rendering(engine: &mut Engine, dev: &[DevQuery]) {
    // The same answers rendered for an 80-column terminal (compact, colour
    // and query-term highlighting on: the most work the renderer does).
    let style = cram::render::Style {
        color: true,
        width: 80,
        ..Default::default()
    };
    let (mut with_render, mut render_only) = (Vec::new(), Vec::new());
    for q in dev {
        let t = Instant::now();
        let a = engine.ask(&q.query, &SearchParams::default()).unwrap();
        let r = Instant::now();
        std::hint::black_box(cram::render::answer(&a, style));
        render_only.push(r.elapsed().as_secs_f64() * 1000.0);
        with_render.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "warm `cram ask` default + terminal rendering (80 columns, colour): p50 {:.2} ms, p95 {:.2} ms; \
         rendering alone p50 {:.3} ms, p95 {:.3} ms",
        percentile(&mut with_render, 0.50),
        percentile(&mut with_render, 0.95),
        percentile(&mut render_only, 0.50),
        percentile(&mut render_only, 0.95)
    );
}

/// Cold processes, `cram ask` and `cram show` (2), and re-indexing after an
/// edit (3), each timed as a whole `cram` process.
fn processes(corpus: &Path, paths: &Paths) {
    // 2. Cold process.
    let bin = env!("CARGO_BIN_EXE_cram");
    let run = |args: &[&str]| {
        let t = Instant::now();
        let out = Command::new(bin)
            .env("CRAM_CORPUS", corpus)
            .env("CRAM_INDEX", &paths.index)
            .env("CRAM_MODEL_DIR", &paths.model_dir)
            .args(args)
            .output()
            .expect("run cram");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        t.elapsed().as_secs_f64()
    };
    let mut cold: Vec<f64> = (0..7)
        .map(|_| run(&["ask", "why does dropout hurt transformers"]))
        .collect();
    println!(
        "cold `cram ask` process: median {:.3} s, max {:.3} s (7 runs)",
        percentile(&mut cold, 0.5),
        percentile(&mut cold, 1.0)
    );

    let mut show: Vec<f64> = (0..11).map(|_| run(&["show", "q18"])).collect();
    println!(
        "`cram show q18` process (markdown + TeX rendering included): median {:.1} ms, max {:.1} ms (11 runs)",
        percentile(&mut show, 0.5) * 1000.0,
        percentile(&mut show, 1.0) * 1000.0
    );

    // 3. Re-index after editing one note.
    let note = corpus.join(
        std::fs::read_dir(corpus)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .find(|n| n.to_string_lossy().starts_with("q14-"))
            .expect("q14 note"),
    );
    let original = std::fs::read_to_string(&note).unwrap();
    let mut reindex = Vec::new();
    for i in 0..5 {
        std::fs::write(
            &note,
            format!("{original}\nEdited line {i} for the re-index benchmark.\n"),
        )
        .unwrap();
        reindex.push(run(&["index", "-q"]));
    }
    println!(
        "re-index after editing one note: median {:.3} s, max {:.3} s (5 runs)",
        percentile(&mut reindex, 0.5),
        percentile(&mut reindex, 1.0)
    );
}
