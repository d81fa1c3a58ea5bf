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
    spawn_sized(s, home, args, extra_env, None)
}

/// [`spawn`] on a terminal of `(columns, rows)` (set with `stty` first).
fn spawn_sized(
    s: &Sandbox,
    home: &Path,
    args: &[&str],
    extra_env: &[(&str, &str)],
    size: Option<(u16, u16)>,
) -> Option<PtySession> {
    let defaults = cram::Paths::defaults();
    let model = std::env::var_os("CRAM_MODEL_DIR").map_or(defaults.model_dir, Into::into);
    let runtime = cram::index::embed::find_runtime(None).expect("runtime provisioned");
    let bin = assert_cmd::cargo::cargo_bin("cram");
    let mut c = match size {
        Some((cols, rows)) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(format!(
                    "stty cols {cols} rows {rows} && exec \"$0\" \"$@\""
                ))
                .arg(bin);
            c
        }
        None => Command::new(bin),
    };
    c.args(args)
        .env("CRAM_CORPUS", s.corpus())
        .env("CRAM_INDEX", s.index())
        .env("CRAM_HOME", home)
        .env("CRAM_MODEL_DIR", model)
        .env("CRAM_ORT_LIB", runtime)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env_remove("COLUMNS")
        .env_remove("LINES")
        .env_remove("PAGER")
        .env_remove("CRAM_PAGER")
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

/// What the terminal showed: rexpect hands over bytes as Latin-1 characters;
/// this decodes them as UTF-8, drops carriage returns and ANSI sequences.
fn screen(latin1: &str) -> String {
    let bytes: Vec<u8> = latin1.chars().map(|c| c as u32 as u8).collect();
    cram::render::text::strip_ansi(&String::from_utf8_lossy(&bytes)).replace('\r', "")
}

/// Lines wider than the terminal (none may be, the notes' URLs and code aside).
fn too_wide(text: &str, cols: usize) -> Vec<String> {
    text.lines()
        .filter(|l| cram::render::text::width(l) > cols && !l.contains("://") && !l.contains('`'))
        .map(str::to_string)
        .collect()
}

#[test]
fn ask_show_and_the_session_fit_an_80_column_terminal() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    s.build();
    let home = s.dir.path().join("home");
    // Tall enough that an answer needs no pager.
    let size = Some((80, 60));
    let q = "how does bm25 weigh rare terms and long documents";

    // ask: colour on a terminal (NO_COLOR unset), wrapped at 80.
    let Some(mut p) = spawn_sized(&s, &home, &["ask", q], &[("NO_COLOR", "")], size) else {
        return;
    };
    let raw = p.exp_eof().unwrap();
    assert!(raw.contains("\x1b[1m"), "no colour on a terminal: {raw:?}");
    let out = screen(&raw);
    assert!(out.contains("Closest question: q01"), "{out}");
    assert!(
        out.lines().any(|l| l.chars().count() > 60),
        "not using the width: {out}"
    );
    assert!(too_wide(&out, 80).is_empty(), "{:#?}", too_wide(&out, 80));

    // show: long output goes through the pager; --no-pager prints it directly.
    let pager = [("PAGER", "sed -e s/^/paged:/")];
    let mut p = spawn_sized(&s, &home, &["show", "q01"], &pager, Some((80, 10))).unwrap();
    let out = screen(&p.exp_eof().unwrap());
    assert!(out.lines().all(|l| l.starts_with("paged:")), "{out}");
    assert!(out.contains("paged:## Mechanism"), "{out}");
    let mut p = spawn_sized(
        &s,
        &home,
        &["show", "q01", "--no-pager"],
        &pager,
        Some((80, 10)),
    )
    .unwrap();
    let out = screen(&p.exp_eof().unwrap());
    assert!(
        !out.contains("paged:") && out.contains("## Mechanism"),
        "{out}"
    );
    assert!(too_wide(&out, 80).is_empty(), "{:#?}", too_wide(&out, 80));

    // The session: answers at 80 columns, `:full on`, `:show` paged.
    let mut p = spawn_sized(&s, &home, &["repl"], &pager, size).unwrap();
    p.exp_string("cram> ").unwrap();
    p.send_line(q).unwrap();
    let (answer, _) = p.exp_regex(r"\(\d+\.\d ms\)").unwrap();
    let answer = screen(&answer);
    assert!(
        answer.contains("(trimmed: :full on shows whole passages)"),
        "{answer}"
    );
    assert!(
        too_wide(&answer, 80).is_empty(),
        "{:#?}",
        too_wide(&answer, 80)
    );
    p.exp_string("cram> ").unwrap();
    p.send_line(":full on").unwrap();
    p.exp_string("full passages on").unwrap();
    p.send_line(q).unwrap();
    let (full, _) = p.exp_regex(r"\(\d+\.\d ms\)").unwrap();
    let full = screen(&full);
    assert!(full.lines().count() > answer.lines().count(), "{full}");
    assert!(!full.contains("(trimmed:"), "{full}");
    p.exp_string("cram> ").unwrap();
    // A note that fits the window is printed as it is...
    p.send_line(":show 1").unwrap();
    let note = p.exp_string("cram> ").unwrap();
    let note = screen(&note);
    assert!(
        note.contains("\n## Mechanism") && !note.contains("paged:"),
        "{note}"
    );
    assert!(too_wide(&note, 80).is_empty(), "{:#?}", too_wide(&note, 80));
    p.send_line(":quit").unwrap();
    p.exp_eof().unwrap();
    // ...one taller than the window goes through the pager.
    let mut p = spawn_sized(&s, &home, &["repl"], &pager, Some((80, 12))).unwrap();
    p.exp_string("cram> ").unwrap();
    p.send_line(":show 1").unwrap();
    p.exp_string("paged:## Mechanism").unwrap();
    p.exp_string("cram> ").unwrap();
    p.send_line(":quit").unwrap();
    p.exp_eof().unwrap();

    // The drill's card uses the same renderer.
    let env = [("CRAM_NOW", "1800000000")];
    let mut p = spawn_sized(&s, &home, &["drill", "--count", "1"], &env, size).unwrap();
    p.exp_string("> ").unwrap();
    p.send_line("").unwrap();
    let card = screen(&p.exp_string("Grade: ").unwrap());
    assert!(card.contains("Short answer (q0"), "{card}");
    assert!(too_wide(&card, 80).is_empty(), "{:#?}", too_wide(&card, 80));
    p.send_line("q").unwrap();
    p.exp_eof().unwrap();
}
