//! The `cram` command end to end on a small fixture corpus.

use predicates::prelude::*;

use crate::util::{self, Sandbox};

#[test]
fn ask_prints_cited_passages() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    let out = s
        .cram()
        .args(["ask", "how", "does", "bm25", "rank", "documents"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", util::stderr_of(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Closest question: q01 How does BM25 rank documents?"),
        "{text}"
    );
    assert!(text.contains("corpus/q01-bm25.md:"), "{text}");
    assert!(!text.contains('\x1b'), "NO_COLOR output has escapes");
}

#[test]
fn ask_json_is_one_clean_object() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    // First run builds the index (and HNSW): its notices go to stderr only.
    let out = s
        .cram()
        .args([
            "ask",
            "--json",
            "--dense",
            "hnsw",
            "--explain",
            "why are my top passages near-duplicates?",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", util::stderr_of(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "stdout must be one JSON line: {stdout}"
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["schema"], "cram.ask/2");
    assert_eq!(v["coverage"], "covered");
    assert!(v["understood"]["searched"].is_string());
    assert!(v["evidence"]["covered_probability"].as_f64().unwrap() >= 0.0);
    assert_eq!(v["mode"], "hybrid");
    assert_eq!(v["abstained"], false);
    assert_eq!(v["params"]["dense_backend"], "hnsw");
    for key in ["embed", "bm25", "dense", "fuse", "mmr", "total"] {
        assert!(v["timings_ms"][key].as_f64().unwrap() >= 0.0, "{key}");
    }
    let results = v["results"].as_array().unwrap();
    assert!(!results.is_empty() && results.len() <= 5);
    let top = &results[0];
    assert_eq!(top["question_id"], "q03");
    assert!(top["chunk_id"].as_str().unwrap().starts_with("q03#"));
    assert_eq!(top["path"], "corpus/q03-mmr.md");
    let lines = top["lines"].as_array().unwrap();
    assert!(lines[0].as_u64().unwrap() <= lines[1].as_u64().unwrap());
    assert!(top["text"].as_str().unwrap().contains("Maximal marginal"));
    assert!(top["score"].as_f64().unwrap().is_finite());
    assert!(top["mmr"]["relevance"].as_f64().is_some());
    assert_eq!(v["questions"][0]["id"], "q03");
    assert_eq!(v["related"][0]["id"], "q02");
}

#[test]
fn explain_shows_both_arms() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    s.cram()
        .args([
            "ask",
            "--explain",
            "--no-mmr",
            "-k",
            "2",
            "keyword search versus embeddings for synonyms",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("bm25 #").and(predicate::str::contains("dense #")))
        .stdout(predicate::str::contains("fused"));
}

#[test]
fn every_mode_and_fusion_answers() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    s.build();
    for args in [
        vec!["--mode", "bm25"],
        vec!["--mode", "dense"],
        vec!["--fusion", "rrf", "--rrf-k", "10"],
        vec!["--fusion", "convex", "--alpha", "0.2"],
        vec!["--mmr-lambda", "1"],
        vec!["--dense", "exact", "--fetch-k", "3", "-k", "2"],
    ] {
        let mut cmd = s.cram();
        cmd.arg("ask")
            .args(&args)
            .args(["--json", "inverse document frequency and term saturation"]);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", util::stderr_of(&out));
        let v = util::json_of(&out);
        assert_eq!(v["results"][0]["question_id"], "q01", "{args:?}");
    }
}

#[test]
fn show_and_list() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    s.cram()
        .args(["show", "2"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "q02 When do dense embeddings beat keyword search?",
        ))
        .stdout(predicate::str::contains("## Intuition"));
    s.cram()
        .args(["list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Retrieval").and(predicate::str::contains("q03")));
    let out = s.cram().args(["show", "q99"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = util::stderr_of(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("no note q99"), "{err}");
}

#[test]
fn bad_flags_are_one_line_errors() {
    let s = Sandbox::fixture();
    let cases: &[&[&str]] = &[
        &["-k", "0"],
        &["-k", "101"],
        &["-k", "abc"],
        &["--mmr-lambda", "2"],
        &["--mmr-lambda", "-0.5"],
        &["--alpha", "1.5"],
        &["--alpha", "nan"],
        &["--rrf-k", "0"],
        &["--fetch-k", "0"],
        &["--ef", "0"],
        &["--mode", "magic"],
        &["--fusion", "sum"],
        &["--bm25-k1", "-1"],
        &["--bm25-k1", "inf"],
        &["--bm25-b", "1.5"],
        &["--bm25-b", "x"],
    ];
    for args in cases {
        let out = s
            .cram()
            .arg("ask")
            .args(*args)
            .arg("what is bm25")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = util::stderr_of(&out);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!err.trim().is_empty(), "{args:?}");
    }
    // Flag errors are found before any index work.
    assert!(!s.index().exists());
}

#[test]
fn bad_questions_are_one_line_errors() {
    let s = Sandbox::fixture();
    let big_word = "a".repeat(100_000);
    let huge: Vec<&str> = vec![big_word.as_str(); 10]; // 1 MB in ten arguments
    let cases: Vec<Vec<&str>> = vec![vec![""], vec!["   "], vec!["\n\t"], huge];
    for q in cases {
        let out = s.cram().arg("ask").args(&q).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = util::stderr_of(&out);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.starts_with("cram: error:"), "{err}");
    }
}

#[test]
fn hostile_but_valid_questions_answer_or_abstain() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    s.build();
    for q in [
        "C++ vs. Rust: which? AND (a OR b) -c ^d \"unclosed",
        "?!?... ---",
        "the of and is to",
        "bm25 🚀🔥 ranking",
        "ما هو BM25",
        "field:value title:\"x\" *",
    ] {
        let out = s.cram().args(["ask", "--json", q]).output().unwrap();
        assert!(out.status.success(), "{q}: {}", util::stderr_of(&out));
        let v = util::json_of(&out);
        assert!(v["abstained"].is_boolean());
    }
}

#[test]
fn off_topic_question_abstains_and_names_nearest_questions() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    let out = s
        .cram()
        .args(["ask", "how long should I boil an egg"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Nothing in the notes answers this question"),
        "{text}"
    );
    assert!(text.contains("q0"), "{text}");
}

#[test]
fn an_adjacent_topic_is_named_as_a_topic_the_notes_lack() {
    if !util::require_model() {
        return;
    }
    // The fixture's notes are on BM25, dense retrieval and MMR; k-means is
    // on the list of topics no note is about, an egg is on no list.
    let s = Sandbox::fixture();
    let ask = |q: &str| {
        let out = s.cram().args(["ask", "--json", q]).output().unwrap();
        assert!(out.status.success(), "{}", util::stderr_of(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let adjacent = ask("how does k-means clustering choose the number of clusters");
    assert_eq!(adjacent["abstained"], true, "{adjacent}");
    let topic = adjacent["evidence"]["outside_topic"].as_str().unwrap();
    assert!(topic.contains("k-means"), "{topic}");
    let off = ask("how long should I boil an egg");
    assert_eq!(off["abstained"], true, "{off}");
    assert!(off["evidence"].get("outside_topic").is_none(), "{off}");
    let printed = |format: &str| {
        let q = "how does k-means clustering choose the number of clusters";
        let out = s
            .cram()
            .args(["ask", "--format", format, q])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let text = printed("text");
    assert!(
        text.contains(&format!("Closest topic the notes lack: {topic}")),
        "{text}"
    );
    // The markdown sheet says the same.
    let md = printed("md");
    assert!(
        md.contains(&format!("Closest topic the notes lack: {topic}."))
            && md.contains("Nearest questions:"),
        "{md}"
    );
}

#[test]
fn a_word_only_a_notes_tags_hold_finds_the_note() {
    if !util::require_model() {
        return;
    }
    // "pomodoro" is a tag of the new note and a word of none of the notes' texts.
    let s = Sandbox::fixture();
    s.add_note(
        "q04-focus.md",
        "q04",
        "Study habits",
        "How do you keep focus through a long study session?",
        "pomodoro technique, timeboxing",
        "Work in fixed blocks of about twenty-five minutes with a short break after each, and a longer one\n\
         after four blocks. Decide the task of a block before it starts, keep the phone in another room, and\n\
         write down distractions instead of acting on them. Review at the end of the day what each block did.\n",
    );
    let body = std::fs::read_to_string(s.corpus().join("q04-focus.md")).unwrap();
    assert_eq!(body.matches("pomodoro").count(), 1, "only the tag holds it");
    let out = s
        .cram()
        .args(["ask", "--json", "--mode", "bm25", "pomodoro"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", util::stderr_of(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["questions"][0]["id"], "q04", "{v}");
    // No passage holds the word itself, so none is shown as its mention.
    assert!(v["mention"].is_null(), "{v}");
}

#[test]
fn a_topic_the_users_own_notes_cover_is_not_outside_them() {
    if !util::require_model() {
        return;
    }
    // The same question as above, once the notes hold a note on k-means.
    let s = Sandbox::fixture();
    s.add_note(
        "q04-clustering.md",
        "q04",
        "Clustering",
        "How does k-means clustering choose the number of clusters?",
        "k-means, elbow method, silhouette score",
        "K-means does not choose k: you do. Run it for several values of k and plot the within-cluster sum of\n\
         squares against k; the elbow, where adding a cluster stops paying, is a candidate. The silhouette score\n\
         compares each point's distance to its own cluster with its distance to the nearest other cluster and\n\
         peaks at a good k. Check that the clusters are stable across random restarts before trusting them.\n",
    );
    let out = s
        .cram()
        .args([
            "ask",
            "--json",
            "how does k-means clustering choose the number of clusters",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", util::stderr_of(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["abstained"], false, "{v}");
    assert_eq!(v["results"][0]["path"], "corpus/q04-clustering.md", "{v}");
    let topic = v["evidence"]["outside_topic"].as_str().unwrap_or("");
    assert!(!topic.contains("k-means"), "{topic}");
    // The index kept the other listed topics and left out the covered ones.
    let live = std::fs::read_to_string(s.index().join("CURRENT")).unwrap();
    let kept: Vec<String> = serde_json::from_slice(
        &std::fs::read(s.index().join(live.trim()).join("outside.json")).unwrap(),
    )
    .unwrap();
    let listed = cram::index::outside::topics();
    assert!(
        kept.len() > 100 && kept.len() < listed.len(),
        "{} of {}",
        kept.len(),
        listed.len()
    );
    let covered = "k-means clustering and choosing the number of clusters";
    assert!(listed.contains(&covered));
    assert!(!kept.iter().any(|t| t == covered), "{kept:?}");
}

#[test]
fn missing_model_and_runtime_say_how_to_fix() {
    let s = Sandbox::fixture();
    let out = s
        .cram()
        .env("CRAM_MODEL_DIR", "/nonexistent/model")
        .args(["ask", "bm25"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = util::stderr_of(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("make setup") && !err.contains("panicked"),
        "{err}"
    );

    if !util::require_model() {
        return;
    }
    let out = s
        .cram()
        .env("CRAM_ORT_LIB", "/nonexistent/libonnxruntime.so")
        .args(["ask", "bm25"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = util::stderr_of(&out);
    assert!(
        err.contains("ONNX Runtime") && err.contains("make setup"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn user_notes_folder_is_indexed_and_remembered() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    let mine = s.kv_notes();
    std::fs::write(mine.join("binary.md"), b"\x00\x01\x02").unwrap();
    let out = s
        .cram()
        .args(["index", "--notes"])
        .arg(&mine)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", util::stderr_of(&out));
    assert!(
        util::stderr_of(&out).contains("skipped"),
        "binary file is reported"
    );
    let out = s
        .cram()
        .args(["ask", "--json", "paged kv cache blocks"])
        .output()
        .unwrap();
    let v = util::json_of(&out);
    assert_eq!(v["results"][0]["path"], "mine/kv.md");
    assert!(v["results"][0]["question_id"].is_null());
    // Remembered by the next plain `cram index` / `ask`; dropped with --only-bundled.
    s.cram()
        .args(["index", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"rebuilt\":false"));
    s.cram()
        .args(["index", "--only-bundled", "-q"])
        .assert()
        .success();
    let out = s
        .cram()
        .args(["ask", "--json", "paged kv cache blocks"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("mine/kv.md"));
}

#[test]
fn status_reports_each_check_and_the_fix() {
    let s = Sandbox::fixture();
    let out = s
        .cram()
        .env("CRAM_MODEL_DIR", "/nonexistent/model")
        .args(["status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("model       FAIL") && text.contains("fix: run `make setup`"),
        "{text}"
    );
    assert!(
        text.contains("index       FAIL")
            && text.contains("run `cram --model /nonexistent/model index`"),
        "{text}"
    );
    if !util::require_model() {
        return;
    }
    s.build();
    let out = s.cram().args(["status", "--json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v = util::json_of(&out);
    assert_eq!(v["schema"], "cram.status/1");
    let names: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "model",
            "onnxruntime",
            "words",
            "index",
            "notes",
            "freshness",
            "drill"
        ]
    );
    // An edited note makes the index stale: status says so and fails.
    s.write_note(
        "q03-mmr.md",
        &[
            std::fs::read(s.corpus().join("q03-mmr.md")).unwrap(),
            b"\nMore.\n".to_vec(),
        ]
        .concat(),
    );
    let out = s.cram().args(["status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("the notes changed"));
}

#[test]
fn version_names_model_and_index_format() {
    let out = assert_cmd::Command::cargo_bin("cram")
        .unwrap()
        .arg("--version")
        .output()
        .unwrap();
    let v = String::from_utf8(out.stdout).unwrap();
    assert!(
        v.contains("index format") && v.contains("all-MiniLM-L6-v2"),
        "{v}"
    );
}

#[test]
fn completions_and_man_page_come_from_the_flags() {
    let out = assert_cmd::Command::cargo_bin("cram")
        .unwrap()
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("--mmr-lambda") && text.contains("complete"),
        "bash completion lacks flags"
    );
    let out = assert_cmd::Command::cargo_bin("cram")
        .unwrap()
        .arg("man")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with(".ie") || text.contains(".TH"), "not roff");
    assert!(text.contains("cram"));
}

#[test]
fn hostile_note_folders_are_skipped_or_sanitised() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    let mine = s.user_folder("hostile");
    // A note that tries to drive the terminal: clear screen, retitle, colour.
    std::fs::write(
        mine.join("escapes.md"),
        "# Escape sequences\n\nThe quokka handbook \x1b[2J\x1b]0;pwned\x07 says quokkas \x1b[31mlove\x1b[0m leaves and \
         shrubs on Rottnest island.\n",
    )
    .unwrap();
    std::fs::write(mine.join("binary.md"), [0u8, 159, 146, 150, 0, 1]).unwrap();
    std::fs::write(mine.join("latin1.md"), b"caf\xe9 cr\xe8me\n").unwrap();
    let huge = std::fs::File::create(mine.join("huge.md")).unwrap();
    huge.set_len(100 * 1024 * 1024).unwrap(); // 100 MB (sparse)
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&mine, mine.join("loop")).unwrap();
        std::os::unix::fs::symlink(mine.join("gone.md"), mine.join("dangling.md")).unwrap();
    }
    let out = s
        .cram()
        .args(["index", "--notes"])
        .arg(&mine)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", util::stderr_of(&out));
    let err = util::stderr_of(&out);
    for f in ["binary.md", "latin1.md", "huge.md"] {
        assert!(err.contains(f), "{f} not reported: {err}");
    }
    assert!(err.contains("files in your notes folders skipped"), "{err}");
    let out = s
        .cram()
        .args([
            "ask",
            "-k",
            "1",
            "--color",
            "always",
            "quokka handbook leaves shrubs",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("hostile/escapes.md"), "{text}");
    assert!(
        !text.contains("\x1b[2J") && !text.contains("\x1b]0;") && !text.contains('\x07'),
        "{text:?}"
    );
    let out = s
        .cram()
        .args(["ask", "--json", "-k", "1", "quokka handbook leaves shrubs"])
        .output()
        .unwrap();
    let json = String::from_utf8(out.stdout).unwrap();
    assert!(
        !json.contains('\x1b') && json.contains("\\u001b"),
        "JSON must escape control characters"
    );
}

/// Every key point cites a shown passage `[n]` and is a sentence of it.
fn every_key_point_is_in_its_passage(kps: &[serde_json::Value], results: &[serde_json::Value]) {
    for k in kps {
        let n = k["passage"].as_u64().unwrap() as usize;
        assert!((1..=results.len()).contains(&n));
        let passage = &results[n - 1];
        assert_eq!(k["chunk_id"], passage["chunk_id"]);
        let text = k["text"].as_str().unwrap();
        // Extracted, not generated: the sentence is in the passage (modulo line breaks and **).
        let flat = passage["text"]
            .as_str()
            .unwrap()
            .replace('\n', " ")
            .replace("**", "");
        assert!(flat.contains(text), "{text:?} not in passage {n}");
    }
}

#[test]
fn key_points_are_sentences_of_the_cited_passages() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    // Key points may come from passages MMR did not show; theirs are then
    // shown, so every [n] is on screen, with any number of passages.
    for k in ["5", "1", "2"] {
        let out = s
            .cram()
            .args([
                "ask",
                "--json",
                "--k",
                k,
                "how does bm25 weigh rare terms and long documents",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", util::stderr_of(&out));
        let v = util::json_of(&out);
        let results = v["results"].as_array().unwrap();
        assert_eq!(results.len().to_string(), k);
        let kps = v["key_points"].as_array().unwrap();
        assert!(!kps.is_empty() && kps.len() <= 5, "{kps:?}");
        every_key_point_is_in_its_passage(kps, results);
    }
    // Text output shows them with their [n] markers; --key-points 0 and BM25 mode show none.
    s.cram()
        .args(["ask", "how does bm25 weigh rare terms and long documents"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Key points:").and(predicate::str::contains("[1]")));
    for args in [vec!["--key-points", "0"], vec!["--mode", "bm25"]] {
        let out = s
            .cram()
            .arg("ask")
            .args(&args)
            .args(["--json", "bm25 rare terms"])
            .output()
            .unwrap();
        let v = util::json_of(&out);
        assert!(v["key_points"].as_array().unwrap().is_empty(), "{args:?}");
    }
    let out = s
        .cram()
        .args(["ask", "--key-points", "11", "bm25"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn interview_framing_typos_and_short_forms_are_understood_and_shown() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    s.build();
    let ask = |q: &str, extra: &[&str]| {
        let out = s
            .cram()
            .args(["ask", "--json"])
            .args(extra)
            .arg(q)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", util::stderr_of(&out));
        util::json_of(&out)
    };
    let v = ask(
        "if an interviewer asks about maximal marginal relevance how should I answer",
        &[],
    );
    assert_eq!(v["understood"]["searched"], "maximal marginal relevance");
    assert!(!v["understood"]["dropped"].as_array().unwrap().is_empty());
    let v = ask("maximal marginal relevence", &[]);
    let fixes = v["understood"]["corrections"].as_array().unwrap();
    assert_eq!(fixes.len(), 1, "{v}");
    assert_eq!(fixes[0]["from"], "relevence");
    assert_eq!(fixes[0]["to"], "relevance");
    let v = ask("maximal marginal relevence", &["--verbatim"]);
    assert_eq!(v["understood"]["searched"], "maximal marginal relevence");
    // The terminal says what was searched.
    let out = s
        .cram()
        .args(["ask", "maximal marginal relevence"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Searching for: maximal marginal relevance"),
        "{text}"
    );
    assert!(text.contains("relevence → relevance"), "{text}");
}

#[test]
fn repl_takes_bare_exit_quit_help_as_commands_and_shows_settings() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    s.build();
    for word in ["exit", "quit", "QUIT"] {
        let script = format!("{word}\nnot asked after {word}\n");
        let out = s.cram().arg("repl").write_stdin(script).output().unwrap();
        assert!(out.status.success(), "{}", util::stderr_of(&out));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            !text.contains(" ms)"),
            "{word} was asked as a question: {text}"
        );
    }
    let out = s
        .cram()
        .arg("repl")
        .write_stdin("help\n:k\n:mmr\n")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Type a question, or a command"), "{text}");
    assert_eq!(text.matches("k 5, mode hybrid").count(), 2, "{text}");
    assert!(!text.contains("error"), "{text}");
}

#[test]
fn repl_answers_question_after_question_with_commands() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    s.build();
    let script = "how does bm25 rank documents\n:k 1\n:keypoints 0\n:mode bm25\nwhy are top passages redundant\n\
                  :bogus\n:k 0\n:verbatim on\n:verbatim maybe\n:show 2\n:history\n!1\n:quit\nnot asked after quit\n";
    let out = s.cram().arg("repl").write_stdin(script).output().unwrap();
    assert!(out.status.success(), "{}", util::stderr_of(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    // Two questions plus `!1` answered, each timed.
    assert_eq!(text.matches(" ms)\n").count(), 3, "{text}");
    assert!(text.contains("k 1, mode bm25"), "{text}");
    assert!(text.contains("error: unknown command :bogus"), "{text}");
    assert!(text.contains("error: invalid -k: 0"), "{text}");
    assert!(text.contains("key points 0, verbatim on"), "{text}");
    assert!(text.contains("error: verbatim is on or off"), "{text}");
    assert!(
        text.contains("q02 When do dense embeddings beat keyword search?"),
        "{text}"
    );
    assert!(
        text.contains("  1  how does bm25 rank documents\n  2  why are top passages redundant"),
        "{text}"
    );
    assert!(!text.contains("not asked after quit"));
    // After `:k 1` an answer has exactly one passage.
    let last = text.rsplit("Closest question:").next().unwrap();
    assert!(last.contains("[1] ") && !last.contains("[2] "), "{last}");
    // `cram` with no command is the same session.
    let out = s.cram().write_stdin(":help\n").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(":show q14"));
}

/// A question the notes do not cover alone, asked in the session after a
/// question of its note, is answered as a follow-up and says so; asked
/// first, it is not. The pair is the realistic set's first follow-up that
/// the engine reads as one.
#[test]
fn repl_reads_a_question_not_covered_alone_as_a_follow_up() {
    if !util::require_model() {
        return;
    }
    let (first, follow_up) = util::follow_up_pair();
    let repl = |script: String| {
        let out = assert_cmd::Command::cargo_bin("cram")
            .unwrap()
            .env("CRAM_INDEX", &util::bundled_paths().index)
            .env("NO_COLOR", "1")
            .arg("repl")
            .write_stdin(script)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", util::stderr_of(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let text = repl(format!(
        "{first}\n{follow_up}\nhow long should I boil an egg\n"
    ));
    // Wrapped lines are joined before looking for a phrase.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let turns: Vec<&str> = flat.split(" ms)").collect();
    assert_eq!(turns.len(), 4, "{text}");
    assert!(!turns[0].contains("read as a follow-up"), "{text}");
    assert!(turns[1].contains("read as a follow-up to"), "{text}");
    assert!(turns[2].contains("Nothing in the notes answers"), "{text}");
    let alone = repl(format!("{follow_up}\n"));
    assert!(!alone.contains("read as a follow-up"), "{alone}");
}

/// A query file named on the command line must exist (only the project's
/// own sets are skipped when absent), and the error says so once.
#[test]
fn eval_names_a_missing_query_file_on_one_line() {
    let s = Sandbox::fixture();
    for flag in [
        "--realistic",
        "--holdout",
        "--labels",
        "--judgments",
        "--queries",
    ] {
        let missing = s.corpus().join("no-such-file.tsv");
        let out = s
            .cram()
            .args(["eval", "--realistic-only", flag])
            .arg(&missing)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{flag}");
        let err = util::stderr_of(&out);
        assert_eq!(err.trim().lines().count(), 1, "{flag}: {err}");
        assert!(err.contains("no-such-file.tsv"), "{flag}: {err}");
        assert_eq!(err.matches("No such file").count(), 1, "{flag}: {err}");
    }
}

#[test]
fn markdown_study_sheets_for_ask_and_show() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    let out = s
        .cram()
        .args([
            "ask",
            "--format",
            "md",
            "-k",
            "2",
            "how does bm25 rank documents",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", util::stderr_of(&out));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.starts_with("# how does bm25 rank documents\n"), "{md}");
    assert!(md.contains("Closest question: **q01**"), "{md}");
    assert!(
        md.contains("## Key points") && md.contains("## Passages"),
        "{md}"
    );
    assert!(
        md.contains("### [1] ") && md.contains("Source: `corpus/q01-bm25.md:"),
        "{md}"
    );
    // Headings inside passages become bold lines, so the sheet keeps one outline.
    assert!(!md.lines().any(|l| l.starts_with("## References")), "{md}");
    let out = s
        .cram()
        .args(["show", "q02", "--format", "md"])
        .output()
        .unwrap();
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.starts_with("# q02: When do dense embeddings beat keyword search?\n"),
        "{md}"
    );
    assert!(
        md.contains("Source: `corpus/q02-dense.md`") && md.contains("## Intuition"),
        "{md}"
    );
    assert_eq!(
        md.matches("# When do dense").count(),
        0,
        "title line repeated"
    );
}
