//! The bundled reference notes: format, sections, sizes, links, dev queries.

use std::collections::{BTreeMap, BTreeSet};

use cram::index::chunk::{ChunkParams, chunk_note, word_count};
use cram::index::corpus::{self, Source, SourceKind};

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
        assert!((2..=8).contains(&items), "{}: {items} references", n.id);
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

/// (key, year) of each reference: the text before the first comma or " (",
/// and the first "(YYYY)".
fn references(body: &str) -> Vec<(String, String, String)> {
    let refs = body.split("## References").nth(1).unwrap_or("");
    let year = regex::Regex::new(r"\((\d{4})[a-z]?\)").unwrap();
    refs.lines()
        .filter_map(|l| l.strip_prefix("- "))
        .map(|item| {
            let key_end = item
                .find([',', '('])
                .map(|i| item[..i].trim_end().len())
                .unwrap_or(item.len());
            let y = year
                .captures(item)
                .map(|c| c[1].to_string())
                .unwrap_or_default();
            (item[..key_end].trim().to_string(), y, item.to_string())
        })
        .collect()
}

#[test]
fn every_citation_is_listed_and_every_reference_is_cited() {
    let cite = regex::Regex::new(r"\((\d{4})[a-z]?\)|, (\d{4})[a-z]?\)").unwrap();
    let mut problems = Vec::new();
    for n in notes() {
        let text = n.body.split("## References").next().unwrap_or("");
        let refs = references(&n.body);
        for (key, year, item) in &refs {
            if year.is_empty() {
                problems.push(format!("{}: reference without (YYYY): {item}", n.id));
                continue;
            }
            let cited =
                regex::Regex::new(&format!(r"(?s){}.{{0,80}}?{}", regex::escape(key), year))
                    .unwrap()
                    .is_match(text);
            if !cited {
                problems.push(format!(
                    "{}: reference never cited as {key} ... {year}",
                    n.id
                ));
            }
        }
        for m in cite.captures_iter(text) {
            let y = m.get(1).or(m.get(2)).unwrap().as_str();
            let at = m.get(0).unwrap().start();
            let mut from = at.saturating_sub(90);
            while !text.is_char_boundary(from) {
                from -= 1;
            }
            let before = &text[from..at];
            if !refs
                .iter()
                .any(|(k, year, _)| year == y && before.contains(k.as_str()))
            {
                problems.push(format!(
                    "{}: citation with no reference: ...{}{}",
                    n.id,
                    before
                        .chars()
                        .rev()
                        .take(50)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect::<String>(),
                    m.get(0).unwrap().as_str()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn notes_are_about_the_field_not_this_tool() {
    let word = regex::Regex::new(r"(?i)\bcram\b").unwrap();
    for n in notes() {
        assert!(!word.is_match(&n.body), "{} mentions the cram tool", n.id);
    }
}

/// The review log names, for every note, its reviewers by pass and a final
/// grade given by a reviewer who did not edit it last.
#[test]
fn every_note_has_an_independent_review_graded_a() {
    let log = std::fs::read_to_string(util::root().join("tests/data/notes-review.md")).unwrap();
    let mut entries: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut cur: Option<String> = None;
    for line in log.lines() {
        if let Some(id) = line
            .strip_prefix("## ")
            .and_then(|h| h.split_whitespace().next())
        {
            cur = Some(id.to_string());
            entries.entry(id.to_string()).or_default();
        } else if let Some(c) = &cur {
            entries.get_mut(c).unwrap().push(line);
        }
    }
    for n in notes() {
        let lines = entries
            .get(&n.id)
            .unwrap_or_else(|| panic!("{}: no review entry", n.id));
        let reviewers: Vec<(&str, u32)> = lines
            .iter()
            .filter_map(|l| l.strip_prefix("- Reviewer: "))
            .filter_map(|r| {
                let (name, pass) = r.split_once(" (pass ")?;
                Some((name.trim(), pass.chars().next()?.to_digit(10)?))
            })
            .collect();
        let passes: BTreeSet<u32> = reviewers.iter().map(|r| r.1).collect();
        assert!(
            passes.contains(&1) && passes.contains(&2),
            "{}: {reviewers:?}",
            n.id
        );
        let names: BTreeSet<&str> = reviewers.iter().map(|r| r.0).collect();
        assert_eq!(
            names.len(),
            reviewers.len(),
            "{}: a reviewer repeats a pass",
            n.id
        );
        let last = lines
            .iter()
            .rev()
            .find_map(|l| {
                l.strip_prefix("- Grade: ")
                    .or(l.strip_prefix("- Grade after: "))
            })
            .unwrap_or_else(|| panic!("{}: no grade", n.id));
        assert!(last.trim().starts_with('A'), "{}: final grade {last}", n.id);
    }
}
