//! The interactive modes through a real pseudo-terminal (rexpect): what a
//! user at a keyboard gets, line editing and history included.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use rexpect::session::{PtySession, spawn_command};

use crate::util::{self, Sandbox};

/// `cram` on a pseudo-terminal, pointed at the sandbox, with its own
/// `$CRAM_HOME` (history, progress) but the provisioned model and runtime.
/// `None` (with a message) where the system has no pseudo-terminals to give.
fn spawn(
    s: &Sandbox,
    home: &Path,
    args: &[&str],
    extra_env: &[(&str, &str)],
) -> Option<PtySession> {
    let defaults = cram::Paths::defaults();
    let model = std::env::var_os("CRAM_MODEL_DIR").map_or(defaults.model_dir, Into::into);
    let runtime = cram::embed::find_runtime(None).expect("runtime provisioned");
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("cram"));
    c.args(args)
        .env("CRAM_CORPUS", s.corpus())
        .env("CRAM_INDEX", s.index())
        .env("CRAM_HOME", home)
        .env("CRAM_MODEL_DIR", model)
        .env("CRAM_ORT_LIB", runtime)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env_remove("CRAM_DRILL_PROGRESS");
    for (k, v) in extra_env {
        c.env(k, v);
    }
    match spawn_command(c, Some(30_000)) {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("skipping: cannot open a pseudo-terminal here ({e})");
            None
        }
    }
}

const UP: &str = "\x1b[A";

#[test]
fn repl_on_a_terminal_edits_lines_and_keeps_history_across_sessions() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    s.build();
    let home = s.dir.path().join("home");
    let Some(mut p) = spawn(&s, &home, &["repl"], &[]) else {
        return;
    };
    p.exp_string("cram: 3 notes").unwrap();
    p.exp_string("cram> ").unwrap();
    let mut warm = Vec::new();
    for q in [
        "how does bm25 rank documents",
        "why are the top passages redundant",
    ] {
        let t = Instant::now();
        p.send_line(q).unwrap();
        p.exp_string("Closest question:").unwrap();
        let (_, ms) = p.exp_regex(r"\(\d+\.\d ms\)").unwrap();
        p.exp_string("cram> ").unwrap();
        warm.push((ms, t.elapsed()));
    }
    // Line editing: Up recalls the last question; Ctrl-U clears a line.
    p.send(UP).unwrap();
    p.send_line("").unwrap();
    p.exp_string("Why does naive top-k retrieval return redundant passages?")
        .unwrap();
    p.exp_string("cram> ").unwrap();
    p.send("half a line that is never asked").unwrap();
    p.send_control('u').unwrap();
    p.send_line(":keypoints 0").unwrap();
    p.exp_string("key points 0").unwrap();
    p.exp_string("cram> ").unwrap();
    // Ctrl-C at the prompt abandons the line, not the session.
    p.send("abandoned").unwrap();
    p.send_control('c').unwrap();
    p.exp_string("cram> ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    for (ms, wall) in &warm {
        eprintln!(
            "warm question through the pty: {ms} in-process; {wall:?} to the next prompt (rexpect polls every 100 ms)"
        );
    }

    let history = std::fs::read_to_string(home.join("history")).unwrap();
    assert!(
        history.contains("how does bm25 rank documents"),
        "{history}"
    );
    assert!(history.contains(":keypoints 0"), "{history}");
    assert!(!history.contains("never asked") && !history.contains("abandoned"));

    // A new session reaches the last one's lines with Up.
    let mut p = spawn(&s, &home, &[], &[]).expect("a pty opened a moment ago");
    p.exp_string("cram> ").unwrap();
    p.send(UP).unwrap();
    p.send(UP).unwrap();
    p.send_line("").unwrap();
    p.exp_string("Why does naive top-k retrieval return redundant passages?")
        .unwrap();
    p.send_line(":quit").unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn drill_on_a_terminal_asks_reveals_and_grades() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    s.build();
    let home = s.dir.path().join("home");
    let Some(mut p) = spawn(
        &s,
        &home,
        &["drill", "--count", "2"],
        &[("CRAM_NOW", "1800000000")],
    ) else {
        return;
    };
    // rexpect reads bytes as Latin-1: match the ASCII parts of "── 1/2 · q01 · ...".
    p.exp_regex(r"1/2 \S+ q01 \S+ Retrieval \S+ new").unwrap();
    p.exp_string("> ").unwrap();
    p.send_line("saturation of term frequency").unwrap();
    p.exp_string(". ").unwrap();
    p.send_line("").unwrap();
    p.exp_string("Short answer (q01):").unwrap();
    p.exp_string("key terms (a hint, not a grade)").unwrap();
    p.exp_string("Grade: ").unwrap();
    p.send_line("good").unwrap();
    p.exp_string("good: back in 2 d").unwrap();
    p.exp_regex(r"2/2 \S+ q02").unwrap();
    p.exp_string("> ").unwrap();
    // Ctrl-C stops the sitting; the first grade is already saved.
    p.send_control('c').unwrap();
    p.exp_string("Reviewed 1: 0 again, 0 hard, 1 good, 0 easy.")
        .unwrap();
    p.exp_eof().unwrap();
    let progress: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.join("drill.json")).unwrap()).unwrap();
    assert_eq!(progress["cards"]["q01"]["last_grade"], "good");
    assert!(progress["cards"].get("q02").is_none());
}
