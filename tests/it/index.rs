//! The persisted index: atomic swaps, integrity checks, locking, incremental builds.

use std::path::Path;

use predicates::prelude::*;

use crate::util::{self, Sandbox, json_of};

fn files_of(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn bad_notes_fail_cleanly_and_keep_the_index() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    let gen_before = s.build();
    let cases: Vec<(&str, &[u8], &str)> = vec![
        (
            "q04-nofm.md",
            b"# No front matter\n\nJust text.\n",
            "no front matter",
        ),
        (
            "q04-utf8.md",
            b"---\nid: q04\nsection: s\nquestion: q\n---\nbad \xff\xfe bytes\n",
            "UTF-8",
        ),
        (
            "q04-dup.md",
            b"---\nid: q01\nsection: s\nquestion: q\n---\nsame id\n",
            "duplicate note id q01",
        ),
        ("q04-yaml.md", b"---\nid: [q04\n---\nbody\n", "front matter"),
        (
            "q04-open.md",
            b"---\nid: q04\nbody without a closing fence\n",
            "never closed",
        ),
    ];
    for (name, bytes, expect) in cases {
        s.write_note(name, bytes);
        let out = s.cram().args(["ask", "what is bm25"]).output().unwrap();
        assert_eq!(out.status.code(), Some(5), "{name}");
        let err = util::stderr_of(&out);
        assert_eq!(err.trim().lines().count(), 1, "{name}: {err}");
        assert!(err.contains(expect), "{name}: {err}");
        std::fs::remove_file(s.corpus().join(name)).unwrap();
        assert_eq!(s.current_gen(), gen_before, "{name}: index was replaced");
    }
    // The untouched index is still current and intact.
    s.cram()
        .args(["index"])
        .assert()
        .success()
        .stdout(predicate::str::contains("already up to date"));
}

#[test]
fn every_damaged_file_is_detected_and_rebuilt() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    s.build();
    // tantivy names segment files by UUID, so list the live generation's
    // files afresh each round and damage the i-th one.
    let count = files_of(&s.current_gen()).len();
    assert!(count >= 8, "{count} files");
    for i in 0..count {
        let live = s.current_gen();
        let files: Vec<_> = files_of(&live)
            .into_iter()
            .filter(|p| std::fs::metadata(p).unwrap().len() > 0)
            .collect();
        let Some(target) = files.get(i) else { continue };
        let rel = target.strip_prefix(&live).unwrap().to_path_buf();
        // Every file gets a flipped byte; every other file is also truncated.
        util::flip_byte(target);
        if i % 2 == 1 {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(target)
                .unwrap();
            f.set_len(std::fs::metadata(target).unwrap().len() / 2)
                .unwrap();
        }
        let out = s
            .cram()
            .args(["ask", "--json", "what is bm25"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{rel:?}: {}", util::stderr_of(&out));
        let err = util::stderr_of(&out);
        assert!(
            err.contains("unusable") && err.contains("rebuilding"),
            "{rel:?} not detected: {err}"
        );
        let v = util::json_of(&out);
        assert_eq!(v["results"][0]["question_id"], "q01", "{rel:?}");
        assert_ne!(s.current_gen(), live, "{rel:?}: not rebuilt");
    }
}

#[test]
fn truncated_manifest_and_bad_current_are_recovered() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    let live = s.build();
    std::fs::write(live.join("manifest.json"), b"{\"format\": 1, ").unwrap();
    s.cram().args(["ask", "what is bm25"]).assert().success();
    std::fs::write(s.index().join("CURRENT"), b"../../etc\n").unwrap();
    s.cram().args(["ask", "what is bm25"]).assert().success();
    assert!(
        s.current_gen()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("gen-")
    );
}

#[test]
fn a_running_build_blocks_another_but_not_questions() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    s.build();
    let dir = cram::index::IndexDir::new(s.index());
    let lock = dir.lock().unwrap();
    let out = s.cram().args(["index", "--force"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(util::stderr_of(&out).contains("another `cram index` is running"));
    // A stale index plus a held lock: answer from the previous index.
    let mut edited = std::fs::read(s.corpus().join("q01-bm25.md")).unwrap();
    edited.extend_from_slice(b"\nOne more line makes the index stale.\n");
    s.write_note("q01-bm25.md", &edited);
    let out = s.cram().args(["ask", "what is bm25"]).output().unwrap();
    assert!(out.status.success(), "{}", util::stderr_of(&out));
    assert!(util::stderr_of(&out).contains("previous index"));
    drop(lock);
    // The lock dies with its holder: the next build runs.
    s.cram().args(["index", "-q"]).assert().success();
}

#[test]
fn editing_one_note_embeds_only_its_changed_passages_and_sentences() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    let sentences = |generation: &std::path::Path| -> std::collections::HashSet<String> {
        let lists: Vec<Vec<String>> =
            serde_json::from_slice(&std::fs::read(generation.join("sentences.json")).unwrap())
                .unwrap();
        lists.into_iter().flatten().collect()
    };
    let before = sentences(&s.build());
    let note = s.corpus().join("q02-dense.md");
    let text = std::fs::read_to_string(&note).unwrap();
    std::fs::write(
        &note,
        text.replace("Think of every passage", "Picture every passage"),
    )
    .unwrap();
    let out = s.cram().args(["index", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", util::stderr_of(&out));
    let v = util::json_of(&out);
    assert_eq!(v["rebuilt"], true);
    // The edited passage, plus its key-point sentences that are new.
    let new_sentences = sentences(&s.current_gen()).difference(&before).count();
    assert!(new_sentences <= 1, "one sentence was edited");
    assert_eq!(
        v["embedded"].as_u64(),
        Some(1 + new_sentences as u64),
        "only the edited passage and sentence are embedded: {v}"
    );
    // Nothing changed: nothing rebuilt.
    let out = s.cram().args(["index", "--json"]).output().unwrap();
    let v = util::json_of(&out);
    assert_eq!(v["rebuilt"], false);
}

#[test]
fn killed_builds_never_leave_a_broken_index() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    s.build();
    let note = s.corpus().join("q02-dense.md");
    let original = std::fs::read_to_string(&note).unwrap();
    let dir = cram::index::IndexDir::new(s.index());
    let (mut mid_run, mut points) = (0, 0);
    // How long a rebuild after one edit takes on this machine, so the kill
    // points spread over it whatever the machine's speed.
    std::fs::write(&note, format!("{original}\nA timed edit.\n")).unwrap();
    let started = std::time::Instant::now();
    s.cram().args(["index", "-q"]).assert().success();
    let step = (started.elapsed() / 30).max(std::time::Duration::from_millis(1));
    // 30 kill points from 0 to the end of such a build: before the lock,
    // while loading the model, while embedding the edited passage, while
    // writing, during the swap.
    for i in 0..30u32 {
        std::fs::write(
            &note,
            format!("{original}\nEdit number {i} of the crash test.\n"),
        )
        .unwrap();
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("cram"))
            .env("CRAM_CORPUS", s.corpus())
            .env("CRAM_INDEX", s.index())
            .args(["index", "-q"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(step * i);
        points += 1;
        if child.try_wait().unwrap().is_none() {
            mid_run += 1;
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // The live generation is complete and verifies: the old one or the new one.
        let live = cram::index::Generation::open(&dir);
        assert!(
            live.is_ok(),
            "after a kill at {:?}: {:?}",
            step * i,
            live.err()
        );
    }
    eprintln!("killed `cram index` at {points} points, {mid_run} of them mid-build");
    assert!(mid_run >= 10, "only {mid_run} kills landed mid-build");
    // The next build succeeds and cleans up what the killed ones left.
    s.cram().args(["index", "-q"]).assert().success();
    let leftovers = std::fs::read_dir(s.index())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("tmp-")
        })
        .count();
    assert_eq!(leftovers, 0);
    let out = s
        .cram()
        .args(["ask", "--json", "what is bm25"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", util::stderr_of(&out));
}

/// Rewrites the live generation's manifest as if a cram of index format
/// `format` had written it.
fn pretend_format(s: &Sandbox, format: u32) {
    let manifest = s.current_gen().join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let now = format!("\"format\": {}", cram::index::FORMAT_VERSION);
    assert!(text.contains(&now), "{text}");
    std::fs::write(
        &manifest,
        text.replace(&now, &format!("\"format\": {format}")),
    )
    .unwrap();
}

#[test]
fn an_index_from_an_older_cram_is_rebuilt_with_the_users_folders() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    let mine = s.kv_notes();
    s.cram()
        .args(["index", "-q", "--notes"])
        .arg(&mine)
        .assert()
        .success();
    pretend_format(&s, 2);

    let out = s.cram().args(["index", "--json"]).output().unwrap();
    let err = util::stderr_of(&out);
    assert!(
        err.contains("written by another version of cram") && err.contains("format 2"),
        "{err}"
    );
    let v = json_of(&out);
    assert_eq!(v["rebuilt"], true);
    let sources = v["sources"].to_string();
    assert!(
        sources.contains("mine"),
        "the user's folder is kept: {sources}"
    );
    assert_eq!(v["notes"], 4);
}

#[test]
fn a_rebuild_after_an_upgrade_reuses_the_older_formats_vectors() {
    if !util::require_model() {
        return;
    }
    let s = Sandbox::fixture();
    s.build();
    // The previous format embedded one text at a time too, and cut the
    // fixture's notes the same way: nothing needs embedding again.
    pretend_format(&s, cram::index::FORMAT_VERSION - 1);
    let out = s.cram().args(["index", "--json"]).output().unwrap();
    let v = json_of(&out);
    assert_eq!(v["rebuilt"], true, "{}", util::stderr_of(&out));
    assert_eq!(v["embedded"], 0, "{v}");
    // Format 2 embedded in batches: its vectors are not reused.
    pretend_format(&s, 2);
    let v = json_of(&s.cram().args(["index", "--json"]).output().unwrap());
    assert!(v["embedded"].as_u64().unwrap() > 0, "{v}");
}
