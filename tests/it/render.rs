//! Terminal rendering end to end: snapshots, widths, TeX coverage.

use std::collections::BTreeMap;

use cram::render::tex;

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
