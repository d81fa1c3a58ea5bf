//! `cram drill`: scripted sittings through stdin with a fixed clock.

use std::path::PathBuf;

use crate::util::{self, Sandbox, json_of};

const T0: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

/// The fixture sandbox, built, with its own progress file.
fn sandbox() -> (Sandbox, PathBuf) {
    let s = Sandbox::fixture();
    s.build();
    let progress = s.dir.path().join("home").join("drill.json");
    (s, progress)
}

fn drill(s: &Sandbox, progress: &PathBuf, now: i64) -> assert_cmd::Command {
    let mut c = s.cram();
    c.arg("drill")
        .env("CRAM_DRILL_PROGRESS", progress)
        .env("CRAM_NOW", now.to_string());
    c
}

fn progress_json(p: &PathBuf) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn a_sitting_saves_each_grade_and_schedules_the_next_review() {
    if !util::require_model() {
        return;
    }
    let (s, progress) = sandbox();
    // q01: typed answer, graded good. q02: revealed at once, graded again,
    // after a wrong grade. q03: quit at the prompt.
    let script = "idf and term frequency\nlonger documents\n\n3\n\nmaybe\n1\nq\n";
    let out = drill(&s, &progress, T0)
        .write_stdin(script)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", util::stderr_of(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    for want in [
        "── 1/3 · q01 · Retrieval · new",
        "How does BM25 rank documents?",
        "Key points:",
        "Short answer (q01):",
        "key terms (a hint, not a grade)",
        "good: back in 2 d",
        "── 2/3 · q02",
        "1, 2, 3 or 4 (again, hard, good, easy), s or q",
        "again: back in 10 min (and once more at the end of this sitting)",
        "── 3/4 · q03",
        "Reviewed 2: 1 again, 0 hard, 1 good, 0 easy.",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    // No hint for q02, where nothing was typed.
    assert_eq!(text.matches("(a hint, not a grade)").count(), 1, "{text}");
    // Key points never repeat the short answer shown above them.
    let first = text.split("── 2/3").next().unwrap();
    let short = first
        .split("Short answer (q01):")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(short.starts_with("BM25 scores a document"), "{short}");
    for bullet in first.split("  • ").skip(1) {
        let sentence = bullet.split(" [").next().unwrap();
        let sentence = sentence.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            !short.contains(&sentence),
            "{sentence:?} repeats the short answer"
        );
    }

    let p = progress_json(&progress);
    assert_eq!(p["schema"], "cram.drill/1");
    assert_eq!(p["cards"]["q01"]["interval_days"], 2.0);
    assert_eq!(p["cards"]["q01"]["due"], T0 + 2 * DAY);
    assert_eq!(p["cards"]["q02"]["due"], T0 + 600);
    assert!(p["cards"].get("q03").is_none(), "q03 was not graded");
    let log = p["log"].as_array().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0]["grade"], "good");
    assert!(log[0]["covered"][1].as_u64().unwrap() > 0);
    assert!(log[1]["covered"].is_null());

    // Eleven minutes later q02 is due and comes first, then the new q03.
    let out = drill(&s, &progress, T0 + 660)
        .args(["--count", "2"])
        .write_stdin("\n4\n\n2\n")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("── 1/2 · q02 · Retrieval · due 1 min ago"),
        "{text}"
    );
    assert!(text.contains("── 2/2 · q03 · Retrieval · new"), "{text}");
    let p = progress_json(&progress);
    assert_eq!(
        p["cards"]["q02"]["interval_days"], 4.0,
        "relearned, then easy"
    );
    assert_eq!(p["cards"]["q03"]["interval_days"], 1.0, "hard");
    assert_eq!(p["log"].as_array().unwrap().len(), 4);

    // Nothing is due now; --ahead reviews early, soonest first.
    let out = drill(&s, &progress, T0 + 700).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("Nothing is due. The next, q03, is due in 1 d."),
        "{text}"
    );
    let out = drill(&s, &progress, T0 + 700)
        .args(["--ahead", "--count", "1"])
        .write_stdin("\ns\n")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("── 1/1 · q03 · Retrieval · early, due in 1 d"),
        "{text}"
    );
    assert!(text.contains("skipped"), "{text}");
    assert_eq!(progress_json(&progress)["log"].as_array().unwrap().len(), 4);
}

#[test]
fn typing_the_short_answer_covers_every_key_term() {
    if !util::require_model() {
        return;
    }
    let (s, progress) = sandbox();
    let note = std::fs::read_to_string(s.corpus().join("q01-bm25.md")).unwrap();
    let short = note
        .split("## Short answer\n")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap()
        .replace('\n', " ");
    let out = drill(&s, &progress, T0)
        .args(["--count", "1", "--key-points", "0"])
        .write_stdin(format!("{short}\n\n3\n"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("Your answer used"))
        .unwrap_or_else(|| panic!("no hint in\n{text}"));
    let nums: Vec<usize> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(nums.len(), 2, "{line}");
    assert!(nums[1] >= 5, "at least five key terms: {line}");
    assert_eq!(nums[0], nums[1], "{line}");
    assert!(text.contains("  missed: —"), "{text}");
    assert!(!text.contains("Key points:"), "--key-points 0: {text}");
    let p = progress_json(&progress);
    assert_eq!(p["log"][0]["covered"][0], p["log"][0]["covered"][1]);
}

#[test]
fn stats_show_due_and_sections_as_text_and_json() {
    if !util::require_model() {
        return;
    }
    let (s, progress) = sandbox();
    // Before any drill: everything is new, nothing is written.
    let out = drill(&s, &progress, T0)
        .args(["--stats", "--json"])
        .output()
        .unwrap();
    let v = json_of(&out);
    assert_eq!(v["schema"], "cram.drill.stats/1");
    assert_eq!(v["total"]["questions"], 3);
    assert_eq!(v["total"]["new"], 3);
    assert!(!progress.exists(), "--stats writes nothing");

    drill(&s, &progress, T0)
        .args(["--count", "2"])
        .write_stdin("\n3\n\n1\nq\n")
        .assert()
        .success();
    let v = json_of(
        &drill(&s, &progress, T0 + 3 * DAY)
            .args(["--stats", "--json"])
            .output()
            .unwrap(),
    );
    let t = &v["total"];
    assert_eq!(
        (t["new"].as_u64(), t["due_now"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(t["reviews"], 2);
    assert_eq!(t["recalled"], 0.5);
    assert_eq!(v["sections"][0]["section"], "Retrieval");
    assert_eq!(v["next_due"][0]["id"], "q02");

    let out = drill(&s, &progress, T0 + 3 * DAY)
        .arg("--stats")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().any(|l| l.starts_with("Retrieval ")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("all ")), "{text}");
    assert!(
        text.contains("Next due:") && text.contains("3 d ago"),
        "{text}"
    );
}

#[test]
fn bad_drill_input_is_one_line_and_never_overwrites_progress() {
    if !util::require_model() {
        return;
    }
    let (s, progress) = sandbox();
    for (args, code, needle) in [
        (vec!["--count", "0"], 2, "invalid --count"),
        (
            vec!["--section", "cooking"],
            2,
            "matches no section; sections: Retrieval",
        ),
        (vec!["--key-points", "99"], 2, "invalid --key-points"),
        (vec!["--json"], 2, "--stats"),
    ] {
        let out = drill(&s, &progress, T0).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}");
        let err = util::stderr_of(&out);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let out = s
        .cram()
        .arg("drill")
        .env("CRAM_DRILL_PROGRESS", &progress)
        .env("CRAM_NOW", "yesterday")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(util::stderr_of(&out).contains("invalid CRAM_NOW"));

    std::fs::create_dir_all(progress.parent().unwrap()).unwrap();
    std::fs::write(&progress, b"{ not json").unwrap();
    for args in [vec![], vec!["--stats"]] {
        let out = drill(&s, &progress, T0)
            .args(&args)
            .write_stdin("\n3\n")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(6), "{args:?}");
        let err = util::stderr_of(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("drill.json is unusable"), "{err}");
    }
    assert_eq!(std::fs::read(&progress).unwrap(), b"{ not json");
    // `cram status` names the file and the fix.
    let out = s
        .cram()
        .args(["status", "--json"])
        .env("CRAM_DRILL_PROGRESS", &progress)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let drill = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "drill")
        .unwrap();
    assert_eq!(drill["ok"], false);
    assert!(drill["fix"].as_str().unwrap().contains("aside"), "{drill}");
}

#[test]
fn sections_of_the_bundled_questions_resolve_by_short_names() {
    if !util::require_model() {
        return;
    }
    let engine = util::bundled_engine();
    let ids = |w: &str| -> Vec<String> {
        cram::study::drill::deck(engine.notes(), &[w.to_string()])
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect()
    };
    assert_eq!(ids("rag"), ["q21", "q22", "q23", "q24", "q25"]);
    assert_eq!(ids("ml").len(), 5);
    assert_eq!(
        cram::study::drill::deck(engine.notes(), &[]).unwrap().len(),
        55
    );
    // Every bundled note has a short answer and at least five key terms.
    let stats = cram::study::drill::NoteTerms::new(engine.notes());
    for n in engine.notes() {
        assert!(
            n.body.contains("## Short answer"),
            "{} has no short answer",
            n.id
        );
        let terms = cram::study::drill::note_key_terms(n, &stats, cram::study::drill::KEY_TERMS);
        assert!(terms.len() >= 5, "{}: {terms:?}", n.id);
    }
}
