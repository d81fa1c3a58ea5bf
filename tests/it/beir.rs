//! `cram eval --beir` on a real collection (CISI, small): a smoke run whose
//! metrics must land in a sane range. Full SciFact/ArguAna runs are a
//! documented benchmark command (BENCHMARKS.md), not a test.

use crate::util;

#[test]
fn smoke_eval_on_cisi() {
    if !util::require_model() {
        return;
    }
    let Some(coll) = util::shared_collection("cisi") else {
        return;
    };
    let out_dir = tempfile::tempdir().unwrap();
    let report = out_dir.path().join("report.html");
    let out = assert_cmd::Command::cargo_bin("cram")
        .unwrap()
        .args([
            "eval",
            "--json",
            "--resamples",
            "500",
            "--alpha-sweep",
            "0,0.5,1",
            "--beir",
        ])
        .arg(&coll)
        .arg("--run-out")
        .arg(out_dir.path())
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", util::stderr_of(&out));
    let v = util::json_of(&out);
    assert_eq!(v["schema"], "cram.eval.beir/2");
    assert_eq!(v["documents"], 1460);
    assert_eq!(v["queries"], 76);
    let m = |name: &str| -> serde_json::Value {
        v["methods"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap()
            .clone()
    };
    let ndcg = |name: &str| m(name)["ndcg@10"].as_f64().unwrap();
    eprintln!(
        "CISI nDCG@10: bm25 {:.4}, dense {:.4}, rrf {:.4}, convex {:.4}, mmr {:.4}",
        ndcg("bm25"),
        ndcg("dense-exact"),
        ndcg("hybrid-rrf"),
        ndcg("hybrid-convex"),
        ndcg("hybrid-mmr")
    );
    // Sane ranges (measured: bm25 0.358, dense 0.419, hybrids 0.438-0.443).
    assert!((0.30..0.42).contains(&ndcg("bm25")));
    assert!((0.36..0.48).contains(&ndcg("dense-exact")));
    for h in ["hybrid-rrf", "hybrid-convex", "hybrid-mmr"] {
        assert!(ndcg(h) > ndcg("bm25"), "{h}");
        assert!(
            m(h)["recall@100"].as_f64().unwrap()
                >= m("bm25")["recall@100"].as_f64().unwrap() - 0.01,
            "{h}"
        );
    }
    assert!((ndcg("dense-hnsw") - ndcg("dense-exact")).abs() < 0.01);
    let chosen = v["hnsw_ef_chosen"].as_u64().unwrap();
    let at_chosen = v["hnsw_ef"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["ef"] == chosen)
        .unwrap();
    assert!(at_chosen["recall_at_10"].as_f64().unwrap() >= 0.99);
    for key in ["ndcg@10", "recall@10", "recall@100", "mrr@10", "map@100"] {
        let x = m("hybrid-convex")[key].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&x), "{key}");
    }
    assert!(m("bm25")["search_ms"]["p50"].as_f64().unwrap() > 0.0);
    // Memory bound (documented in BENCHMARKS.md): embedding one text at a
    // time keeps the whole evaluation well under 1 GiB (measured 248-373 MiB
    // in batches of 8).
    let rss = v["build"]["peak_rss_mib"].as_f64().unwrap();
    if cfg!(target_os = "linux") {
        assert!(rss > 0.0 && rss < 1024.0, "peak RSS {rss} MiB");
    }
    assert_eq!(v["alpha_sweep"].as_array().unwrap().len(), 3);
    // Run files: one per method, TREC format, at most 100 per query.
    let run = std::fs::read_to_string(out_dir.path().join("cisi.hybrid-mmr.run")).unwrap();
    let first = run.lines().next().unwrap();
    assert_eq!(first.split_whitespace().count(), 6, "{first}");
    assert!(run.lines().count() <= 76 * 100);
    let page = std::fs::read_to_string(&report).unwrap();
    assert!(page.matches("<svg").count() >= 4);

    // A second run embeds nothing: document vectors come from the cache.
    let out = assert_cmd::Command::cargo_bin("cram")
        .unwrap()
        .args([
            "eval",
            "--json",
            "--methods",
            "bm25,dense-exact",
            "--resamples",
            "10",
            "--beir",
        ])
        .arg(&coll)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", util::stderr_of(&out));
    let v = util::json_of(&out);
    assert_eq!(v["build"]["embedded"], 0);
    assert!((v["methods"][1]["ndcg@10"].as_f64().unwrap() - ndcg("dense-exact")).abs() < 1e-9);
}

#[test]
fn unknown_method_and_bad_folder_are_one_line_errors() {
    let d = tempfile::tempdir().unwrap();
    let out = assert_cmd::Command::cargo_bin("cram")
        .unwrap()
        .args(["eval", "--beir"])
        .arg(d.path().join("missing"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(util::stderr_of(&out).trim().lines().count(), 1);
    let out = assert_cmd::Command::cargo_bin("cram")
        .unwrap()
        .args(["eval", "--methods", "bm25,magic", "--beir"])
        .arg(d.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = util::stderr_of(&out);
    assert!(err.contains("unknown method `magic`"), "{err}");
}

#[test]
fn bad_eval_flags_are_one_line_errors() {
    let d = tempfile::tempdir().unwrap();
    let cases: &[&[&str]] = &[
        &["--fetch-k", "0"],
        &["--alpha-sweep", "0.5,1.5"],
        &["--alpha-sweep", "x"],
        &["--mmr-lambda", "3"],
        &["--alpha", "-1"],
        &["--limit-queries", "0"],
        &["--resamples", "many"],
        &["--methods", ""],
        &["--bm25-b", "2"],
        &["--bm25-k1", "-0.5"],
        &["--rm3", "10,10"],
        &["--rm3", "0,10,0.5"],
        &["--rm3", "10,10,1.5"],
        &["--rocchio", "5,x,0.6"],
        &["--rocchio", "5,0,0"],
        &["--methods", "bm25-wand", "--bm25-k1", "1.5"],
    ];
    for args in cases {
        let out = assert_cmd::Command::cargo_bin("cram")
            .unwrap()
            .arg("eval")
            .args(*args)
            .arg("--beir")
            .arg(d.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = util::stderr_of(&out);
        assert!(
            !err.contains("panicked") && !err.trim().is_empty(),
            "{args:?}: {err}"
        );
    }
}
