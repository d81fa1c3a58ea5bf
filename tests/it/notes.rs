//! The bundled reference notes: format, sections, sizes, links, dev queries.

use std::collections::{BTreeMap, BTreeSet};

use cram::chunk::{ChunkParams, chunk_note, word_count};
use cram::corpus::{self, Source, SourceKind};

use crate::util;

const TECHNICAL: &[&str] = &[
    "Short answer",
    "Intuition",
    "Mechanism",
    "Worked",
    "In production",
    "Traps and follow-ups",
    "References",
];
const BEHAVIOURAL: &[&str] = &[
    "Short answer",
    "What the interviewer is probing",
    "Structure of a strong answer",
    "Example stories",
    "Red flags",
    "Traps and follow-ups",
    "References",
];

fn notes() -> Vec<corpus::Note> {
    let src = Source {
        path: util::root().join("corpus"),
        kind: SourceKind::Bundled,
    };
    corpus::load(&[src]).expect("every bundled note parses").0
}

/// `qNN` -> (section, question) from ../shared/questions.md.
fn question_list() -> Option<BTreeMap<String, (String, String)>> {
    let text = std::fs::read_to_string(util::shared()?.join("questions.md")).ok()?;
    let mut out = BTreeMap::new();
    let mut section = String::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            // "## 5. Retrieval-Augmented Generation (RAG)"
            section = h.split_once(". ").map_or(h, |(_, s)| s).trim().to_string();
        } else if let Some(rest) = line.strip_prefix("- q")
            && let Some((num, q)) = rest.split_once(": ")
        {
            out.insert(format!("q{num}"), (section.clone(), q.trim().to_string()));
        }
    }
    Some(out)
}

#[test]
fn all_55_notes_exist_with_complete_front_matter() {
    let notes = notes();
    let ids: BTreeSet<String> = notes.iter().map(|n| n.id.clone()).collect();
    let want: BTreeSet<String> = (1..=55).map(|i| format!("q{i:02}")).collect();
    assert_eq!(ids, want);
    for n in &notes {
        let m = n.meta.as_ref().unwrap();
        let file = n.display_path.rsplit('/').next().unwrap();
        assert!(
            file.starts_with(&format!("{}-", n.id)) && file.ends_with(".md"),
            "{file}"
        );
        assert!(
            (5..=10).contains(&m.tags.len()),
            "{}: {} tags",
            n.id,
            m.tags.len()
        );
        assert!(!m.related.is_empty(), "{}: no related ids", n.id);
        for r in &m.related {
            assert!(ids.contains(r), "{}: related {r} does not exist", n.id);
            assert_ne!(r, &n.id, "{}: related to itself", n.id);
        }
    }
    match question_list() {
        Some(list) => {
            assert_eq!(list.len(), 55);
            for n in &notes {
                let m = n.meta.as_ref().unwrap();
                let (section, question) = &list[&n.id];
                assert_eq!(&m.section, section, "{}", n.id);
                assert_eq!(&m.question, question, "{}", n.id);
            }
        }
        None => eprintln!("skipping question text check: ../shared/questions.md not present"),
    }
}

#[test]
fn notes_have_the_required_sections_in_order() {
    for n in notes() {
        let behavioural = n.meta.as_ref().unwrap().format.as_deref() == Some("behavioural");
        let required = if behavioural { BEHAVIOURAL } else { TECHNICAL };
        let headings: Vec<&str> = n
            .body
            .lines()
            .filter_map(|l| l.strip_prefix("## "))
            .collect();
        let mut pos = 0;
        for r in required {
            let found = headings[pos..].iter().position(|h| h.starts_with(r));
            assert!(found.is_some(), "{}: missing or out of order: ## {r}", n.id);
            pos += found.unwrap() + 1;
        }
        let title = n
            .body
            .lines()
            .find_map(|l| l.strip_prefix("# "))
            .unwrap_or("");
        assert_eq!(
            title, n.title,
            "{}: title line differs from the question",
            n.id
        );
    }
}

#[test]
fn notes_are_900_to_1600_words_in_6_to_10_passages() {
    for n in notes() {
        let words: usize = n
            .body
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(word_count)
            .sum();
        assert!((900..=1600).contains(&words), "{}: {words} words", n.id);
        let chunks = chunk_note(&n, ChunkParams::default());
        assert!(
            (6..=10).contains(&chunks.len()),
            "{}: {} passages",
            n.id,
            chunks.len()
        );
        for c in &chunks {
            assert!(
                (80..=300).contains(&c.words()),
                "{}: {} words",
                c.id,
                c.words()
            );
        }
        let refs = n.body.split("## References").nth(1).unwrap_or("");
        let items = refs
            .lines()
            .filter(|l| l.starts_with("- ") || l.starts_with("* "))
            .count();
        assert!((2..=5).contains(&items), "{}: {items} references", n.id);
    }
}

#[test]
fn dev_queries_cover_every_question_with_paraphrases() {
    let dev =
        cram::eval::load_dev_queries(&util::root().join("tests/data/dev_queries.tsv")).unwrap();
    let notes = notes();
    let mut per: BTreeMap<String, usize> = BTreeMap::new();
    for q in &dev {
        let n = notes.iter().find(|n| n.id == q.expected);
        assert!(n.is_some(), "dev query for unknown id {}", q.expected);
        let question = n.unwrap().title.to_lowercase();
        assert!(
            !question.contains(&q.query.to_lowercase()),
            "copies the question: {}",
            q.query
        );
        *per.entry(q.expected.clone()).or_default() += 1;
    }
    assert_eq!(per.len(), 55);
    assert!(per.values().all(|&c| c >= 3), "{per:?}");
}
