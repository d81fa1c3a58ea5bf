//! Terminal rendering end to end: snapshots of `cram show` and of an answer
//! at several widths, a property that no line runs past the width (URLs and
//! code aside), lines per default answer over the dev set, the TeX survey of
//! the notes, help, width and pager flags.
//!
//! Snapshots live in `tests/it/snapshots/`. When a note or the renderer
//! changes on purpose, refresh them with
//! `INSTA_UPDATE=always cargo test --release --test it render` (or
//! `cargo insta review`) and read the diff before committing it.

use std::collections::BTreeMap;

use cram::render::{self, Style, tex, text};
use proptest::prelude::*;

use crate::util::{self, Sandbox};

/// `cram` on the bundled notes and the shared index of them.
fn bundled_cram() -> assert_cmd::Command {
    let p = util::bundled_paths();
    let mut c = assert_cmd::Command::cargo_bin("cram").unwrap();
    c.env("CRAM_CORPUS", &p.corpus)
        .env("CRAM_INDEX", &p.index)
        .env("NO_COLOR", "1")
        .env_remove("CRAM_ORT_LIB");
    c
}

fn stdout(c: &mut assert_cmd::Command) -> String {
    let out = c.output().unwrap();
    assert!(out.status.success(), "{}", util::stderr_of(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// Lines wider than `width` columns that are neither a URL nor code. Code
/// is recognised by its colour (render with colour to check code blocks),
/// its backticks without colour, or the word CODE the generated blocks carry.
fn overflows(text: &str, width: usize) -> Vec<String> {
    text.lines()
        .filter(|l| text::width(&text::strip_ansi(l)) > width)
        .filter(|l| {
            !["://", "`", "[32m", ";32m", "CODE"]
                .iter()
                .any(|m| l.contains(m))
        })
        .map(text::strip_ansi)
        .collect()
}

/// The same command with colour, to check widths (code is marked by colour).
fn colored(c: &mut assert_cmd::Command) -> &mut assert_cmd::Command {
    c.args(["--color", "always"])
}

#[test]
fn show_q18_snapshot() {
    if !util::require_model() {
        return;
    }
    let args = ["show", "q18", "--width", "80"];
    let check = stdout(colored(bundled_cram().args(args)));
    assert!(
        overflows(&check, 80).is_empty(),
        "{:#?}",
        overflows(&check, 80)
    );
    let text = stdout(bundled_cram().args(args));
    assert_eq!(
        text::strip_ansi(&check),
        text,
        "colour must not change the layout"
    );
    insta::assert_snapshot!("show_q18_80", text);
}

/// The render fixture as a note (no index needed).
fn showcase() -> cram::index::NoteRecord {
    let body =
        std::fs::read_to_string(util::root().join("tests/fixtures/render/showcase.md")).unwrap();
    serde_json::from_value(serde_json::json!({
        "id": "q99",
        "question_id": "q99",
        "section": "Rendering",
        "title": "What does the terminal renderer do with every kind of markdown?",
        "tags": ["markdown", "tex"],
        "related": ["q01"],
        "path": "tests/fixtures/render/showcase.md",
        "body": body,
        "title_hash": "",
    }))
    .unwrap()
}

#[test]
fn show_fixture_snapshots_at_60_and_100_columns() {
    for width in [60, 100] {
        let style = Style {
            width,
            ..Style::default()
        };
        let text = render::note(&showcase(), style);
        let check = render::note(
            &showcase(),
            Style {
                color: true,
                ..style
            },
        );
        assert!(
            overflows(&check, width).is_empty(),
            "{:#?}",
            overflows(&check, width)
        );
        insta::assert_snapshot!(format!("show_fixture_{width}"), text);
    }
}

#[test]
fn answer_snapshots_at_60_80_and_120_columns() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    s.build();
    let q = "how does bm25 weigh rare terms and long documents";
    // The snapshots are of the fp32 model: its vectors match the reference to
    // 1e-5 on every machine (tests/it/embedding.rs), while int8's depend on
    // the CPU's integer kernels enough to swap two passages of close score.
    for width in [60, 80, 120] {
        let w = width.to_string();
        let text = stdout(s.cram().args(["--model", "fp32", "ask", "--width", &w, q]));
        let check = stdout(colored(s.cram().args(["ask", "--full", "--width", &w, q])));
        assert!(
            overflows(&check, width).is_empty(),
            "{:#?}",
            overflows(&check, width)
        );
        insta::assert_snapshot!(format!("answer_{width}"), text);
    }
    // Piped, COLUMNS is followed up to the readable measure of 100.
    let wide = stdout(s.cram().env("COLUMNS", "120").args(["ask", q]));
    assert_eq!(wide, stdout(s.cram().args(["ask", "--width", "100", q])));
    let narrow = stdout(s.cram().env("COLUMNS", "70").args(["ask", q]));
    assert_eq!(narrow, stdout(s.cram().args(["ask", "--width", "70", q])));
    // --full shows whole passages: longer, and the trimming note is gone.
    let full = stdout(s.cram().args(["ask", "--full", "--width", "80", q]));
    assert!(
        full.lines().count()
            > stdout(s.cram().args(["ask", "--width", "80", q]))
                .lines()
                .count()
    );
    assert!(!full.contains("(trimmed:"), "{full}");
}

/// Every math expression in the bundled notes, as the renderer's parser finds
/// them: (note, display?, TeX source).
fn corpus_math() -> Vec<(String, bool, String)> {
    use pulldown_cmark::{Event, Parser};
    let mut out = Vec::new();
    let dir = crate::util::root().join("corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        for e in Parser::new_ext(&text, cram::render::markdown::options()) {
            match e {
                Event::InlineMath(s) => out.push((name.clone(), false, s.to_string())),
                Event::DisplayMath(s) => out.push((name.clone(), true, s.to_string())),
                _ => {}
            }
        }
    }
    out
}

#[test]
fn every_tex_construct_in_the_notes_converts_or_falls_back_visibly() {
    let math = corpus_math();
    let (mut ok, mut fallback) = ([0usize; 2], [0usize; 2]);
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut commands: BTreeMap<String, [usize; 2]> = BTreeMap::new();
    for (note, display, src) in &math {
        let d = usize::from(*display);
        let converted = tex::convert(src);
        let cmds: std::collections::BTreeSet<String> = src
            .split('\\')
            .skip(1)
            .map(|s| {
                let name: String = s.chars().take_while(char::is_ascii_alphabetic).collect();
                if name.is_empty() {
                    s.chars().take(1).collect()
                } else {
                    name
                }
            })
            .collect();
        match &converted {
            Ok(u) => {
                ok[d] += 1;
                assert!(!u.contains('\\'), "{note}: `{src}` converted to `{u}`");
            }
            Err(e) => {
                fallback[d] += 1;
                *reasons.entry(format!("{e}")).or_default() += 1;
                eprintln!("fallback in {note}: `{src}` ({e})");
            }
        }
        for c in cmds {
            commands.entry(c).or_default()[usize::from(converted.is_err())] += 1;
        }
    }
    eprintln!(
        "TeX in the notes: {} expressions ({} inline, {} display); converted {} inline + {} display, \
         fell back {} inline + {} display",
        math.len(),
        ok[0] + fallback[0],
        ok[1] + fallback[1],
        ok[0],
        ok[1],
        fallback[0],
        fallback[1]
    );
    let fully: usize = commands.values().filter(|v| v[1] == 0).count();
    eprintln!(
        "{} distinct commands, {fully} always converted; in expressions that fell back: {:?}",
        commands.len(),
        commands
            .iter()
            .filter(|(_, v)| v[1] > 0)
            .map(|(k, v)| format!("\\{k} ×{}", v[1]))
            .collect::<Vec<_>>()
    );
    eprintln!("fallback reasons: {reasons:?}");
    assert!(
        math.len() > 900,
        "the survey found only {} expressions",
        math.len()
    );
}

#[test]
fn every_tex_expression_in_the_notes_becomes_mathml() {
    let math = corpus_math();
    let failed: Vec<String> = math
        .iter()
        .filter_map(|(note, display, src)| {
            let m = tex::mathml(src, *display);
            match m {
                Ok(m) if m.starts_with("<math") && m.ends_with("</math>") => None,
                // Inline math that may wrap: several <math> in a span.
                Ok(m)
                    if m.starts_with("<span class=\"math-run\"")
                        && m.ends_with("</math></span>") =>
                {
                    None
                }
                Ok(m) => Some(format!("{note}: `{src}` gave {m}")),
                Err(e) => Some(format!("{note}: `{src}` ({e})")),
            }
        })
        .collect();
    assert!(math.len() > 900, "the survey found only {}", math.len());
    assert!(failed.is_empty(), "{failed:#?}");
    // Dollar signs used for prices pair up as "math": shown as text instead.
    let prose: Vec<&str> = math
        .iter()
        .filter(|(_, display, src)| !display && cram::render::markdown::is_prose(src))
        .map(|(note, ..)| note.as_str())
        .collect();
    eprintln!(
        "MathML: all {} expressions in the notes convert; {} are prices between dollar signs, shown as text ({prose:?})",
        math.len(),
        prose.len()
    );
    assert!(prose.len() < 10, "{prose:?}");
}

/// Every conversion, for reading them over:
/// `cargo test --release --test it print_every_tex_conversion -- --ignored --nocapture`.
#[test]
#[ignore]
fn print_every_tex_conversion() {
    for (note, _, src) in corpus_math() {
        println!(
            "{note}\t{src}\t{}",
            tex::convert(&src).unwrap().replace('\u{a0}', " ")
        );
    }
}

#[test]
fn default_answers_fit_a_screen() {
    if !util::require_model() {
        return;
    }
    let mut engine = util::bundled_engine();
    engine.load_model().unwrap();
    let dev =
        cram::eval::load_dev_queries(&util::root().join("tests/data/dev_queries.tsv")).unwrap();
    for width in [80, 100] {
        let style = Style {
            width,
            ..Style::default()
        };
        let mut lines: Vec<f64> = Vec::new();
        for q in &dev {
            let a = engine
                .ask(&q.query, &cram::SearchParams::default())
                .unwrap();
            let text = render::answer(&a, style);
            let check = render::answer(
                &a,
                Style {
                    color: true,
                    ..style
                },
            );
            assert!(
                overflows(&check, width).is_empty(),
                "{}: {:#?}",
                q.query,
                overflows(&check, width)
            );
            lines.push(text.lines().count() as f64);
        }
        let median = cram::eval::percentile(&mut lines.clone(), 0.5);
        let p90 = cram::eval::percentile(&mut lines, 0.9);
        eprintln!(
            "lines per default answer at {width} columns over {} dev queries: median {median}, p90 {p90}",
            dev.len()
        );
        assert!(median <= 50.0, "median {median} lines at {width} columns");
    }
}

#[test]
fn ask_help_groups_options_and_ends_with_examples() {
    let out = assert_cmd::Command::cargo_bin("cram")
        .unwrap()
        .args(["ask", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let at = |h: &str| help.find(h).unwrap_or_else(|| panic!("no {h:?} in {help}"));
    assert!(at("What to show:") < at("--full"));
    assert!(at("--full") < at("Retrieval tuning:"));
    assert!(at("Retrieval tuning:") < at("--rrf-k") && at("--rrf-k") < at("Paths and logging:"));
    assert!(at("Paths and logging:") < at("--model-dir"));
    assert!(at("--no-pager") < at("Examples:"));
    assert!(help.contains("cram ask --json"), "{help}");
}

#[test]
fn bad_width_is_one_line_and_exit_2() {
    let out = assert_cmd::Command::cargo_bin("cram")
        .unwrap()
        .args(["list", "--width", "5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = util::stderr_of(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("--width"), "{err}");
}

#[test]
fn piped_output_is_plain_and_never_paged() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    s.build();
    let text = stdout(
        s.cram()
            .env("PAGER", "sed -e s/^/PAGED:/")
            .env_remove("NO_COLOR")
            .args(["show", "q01"]),
    );
    assert!(!text.contains("PAGED:") && !text.contains('\x1b'), "{text}");
    // --color always paints even into a pipe; NO_COLOR keeps auto plain.
    let text = stdout(s.cram().args(["--color", "always", "show", "q01"]));
    assert!(text.contains("\x1b[1;34m## "), "{text}");
}

/// Markdown a note might hold: prose with styles, long words, URLs, code,
/// math (some of it unconvertible), lists, quotes, tables, code blocks.
fn markdown_doc() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        4 => "[a-z]{1,12}",
        1 => Just("supercalifragilisticexpialidociousness".to_string()),
        1 => Just("漢字の幅".to_string()),
        1 => Just("https://example.com/a/long/path/that/must/not/be/broken/when/wrapping".to_string()),
        1 => Just("`code_span_that_is_rather_long_for_a_narrow_terminal`".to_string()),
        1 => Just("$\\frac{QK^\\top}{\\sqrt{d_k}} + \\alpha \\le \\beta$".to_string()),
        1 => Just("$\\begin{x} y$".to_string()),
        1 => Just("**bold words**".to_string()),
    ];
    let sentence = proptest::collection::vec(word, 1..30).prop_map(|w| w.join(" "));
    let block = prop_oneof![
        3 => sentence.clone(),
        1 => sentence.clone().prop_map(|s| format!("## {s}")),
        1 => proptest::collection::vec(sentence.clone(), 1..4)
            .prop_map(|v| v.iter().map(|s| format!("- {s}\n  - nested {s}")).collect::<Vec<_>>().join("\n")),
        1 => sentence.clone().prop_map(|s| format!("> {s}\n>\n> 1. {s}")),
        1 => (sentence.clone(), sentence.clone(), sentence.clone())
            .prop_map(|(a, b, c)| format!("| h1 | h2 | h3 |\n|---|:---:|---:|\n| {a} | {b} | {c} |\n| x | {c} | y |")),
        1 => sentence.clone().prop_map(|s| format!("```\nCODE {s} {s}\n```")),
        1 => Just("$$ \\sum_{i=1}^{n} x_i^2 = \\mathbb{E}[X] \\cdot \\frac{a+b}{c} $$".to_string()),
    ];
    proptest::collection::vec(block, 1..6).prop_map(|b| b.join("\n\n"))
}

fn synthetic_answer(passages: Vec<String>, key_point: String) -> cram::Answer {
    let q = |id: &str| serde_json::json!({"id": id, "section": "Retrieval", "question": "How does BM25 rank documents, and why does length normalisation matter?", "path": "corpus/q01-bm25.md"});
    let results: Vec<serde_json::Value> = passages
        .iter()
        .enumerate()
        .map(|(i, t)| serde_json::json!({
            "rank": i + 1, "chunk_id": format!("q01#p{i}"), "question_id": "q01",
            "path": "corpus/q01-bm25.md", "heading": ["Mechanism", "A rather long sub-heading that needs wrapping"],
            "lines": [10, 20], "text": t, "score": 0.5,
        }))
        .collect();
    let mut a = render_answer_from_json(serde_json::json!({
        "query": "how does bm25 rank documents",
        "questions": [q("q01"), q("q02")],
        "related": [q("q02"), q("q03")],
        "results": results,
    }));
    a.key_points.push(cram::retrieval::keypoints::KeyPoint {
        text: key_point,
        passage: 1,
        chunk_id: "q01#p0".into(),
        cosine: 0.5,
    });
    a
}

/// An [`cram::Answer`] with the given questions and passages (the rest default).
fn render_answer_from_json(v: serde_json::Value) -> cram::Answer {
    let qref = |q: &serde_json::Value| cram::retrieval::answer::QuestionRef {
        id: q["id"].as_str().unwrap().into(),
        section: q["section"].as_str().map(Into::into),
        question: q["question"].as_str().unwrap().into(),
        path: q["path"].as_str().unwrap().into(),
    };
    let list = |k: &str| {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(qref)
            .collect::<Vec<_>>()
    };
    cram::Answer {
        schema: cram::retrieval::answer::SCHEMA,
        query: v["query"].as_str().unwrap().into(),
        mode: cram::Mode::Hybrid,
        params: cram::retrieval::answer::ParamsUsed {
            k: 5,
            fusion: None,
            alpha: 0.5,
            rrf_k: 60.0,
            mmr_lambda: None,
            fetch_k: 50,
            mmr_pool: None,
            dense_backend: None,
            key_points: 5,
        },
        index: cram::retrieval::answer::IndexUsed {
            fingerprint: String::new(),
            chunks: 0,
            notes: 0,
            model: String::new(),
        },
        timings_ms: Default::default(),
        understood: cram::retrieval::query::Understood::verbatim(v["query"].as_str().unwrap()),
        abstained: false,
        coverage: cram::retrieval::answer::Coverage::Covered,
        mention: None,
        evidence: Default::default(),
        questions: list("questions"),
        key_points: Vec::new(),
        results: v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| cram::retrieval::answer::Passage {
                rank: r["rank"].as_u64().unwrap() as usize,
                chunk_id: r["chunk_id"].as_str().unwrap().into(),
                question_id: r["question_id"].as_str().map(Into::into),
                path: r["path"].as_str().unwrap().into(),
                heading: r["heading"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| h.as_str().unwrap().into())
                    .collect(),
                lines: [10, 20],
                text: r["text"].as_str().unwrap().into(),
                score: 0.5,
                bm25: None,
                dense: None,
                mmr: None,
            })
            .collect(),
        related: list("related"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// No line runs past the width except a URL or code, whatever the
    /// markdown, the width and the options.
    #[test]
    fn no_line_exceeds_the_width_but_urls_and_code(
        docs in proptest::collection::vec(markdown_doc(), 1..4),
        width in 30usize..=120,
        color in any::<bool>(),
        full in any::<bool>(),
        explain in any::<bool>(),
    ) {
        let style = Style { width, color, full, explain, session: false };
        let mut note = showcase();
        note.body = docs.join("\n\n");
        let a = synthetic_answer(docs.clone(), docs[0].chars().take(300).collect());
        for out in [render::note(&note, style), render::answer(&a, style)] {
            let bad = overflows(&out, width);
            prop_assert!(bad.is_empty(), "width {width}: {bad:#?}");
        }
    }
}
