//! Retrieval quality floors on the bundled notes (the numbers `cram eval` prints).

use crate::util;

#[test]
fn hybrid_finds_the_expected_note_and_abstains_off_topic() {
    if !util::require_model() {
        return;
    }
    let root = util::root().join("tests/data");
    let dev = cram::eval::load_dev_queries(&root.join("dev_queries.tsv")).unwrap();
    let off = cram::eval::load_lines(&root.join("offtopic.txt")).unwrap();
    assert!(dev.len() >= 110 && off.len() >= 8);
    let mut engine = util::bundled_engine();
    let methods = cram::eval::standard_methods(&cram::SearchParams::default());
    let scores = cram::eval::evaluate_notes(&mut engine, &dev, &off, &methods).unwrap();
    eprintln!("{}", cram::eval::notes_table(&scores));
    let by = |name: &str| scores.iter().find(|s| s.method == name).unwrap();
    let default = by("hybrid-mmr");
    assert!(default.hit3 >= 0.90, "hybrid hit@3 {}", default.hit3);
    assert!(
        default.abstained <= 0.02,
        "abstained on {} of on-topic queries",
        default.abstained
    );
    assert!(
        default.offtopic_abstained >= 0.90,
        "off-topic abstention {}",
        default.offtopic_abstained
    );
    // Fusion should not lose to either arm alone on this set.
    assert!(default.hit3 >= by("bm25").hit3 && default.hit3 >= by("dense").hit3);
    // Key points: 3 to 6 per answered question, mostly from the right note.
    assert!(
        default.key_points_3_to_6.unwrap() >= 0.95,
        "{:?} of answers get 3-6 key points",
        default.key_points_3_to_6
    );
    assert!(
        default.key_points_on_note.unwrap() >= 0.65,
        "key points on note {:?}",
        default.key_points_on_note
    );
}

/// The realistic query set: each kind of query, adjacent topics, key
/// points. The floors sit a little under today's numbers (see the README's
/// `cram eval` table): they catch regressions, they are not the targets.
#[test]
fn realistic_queries_reach_their_floors() {
    if !util::require_model() {
        return;
    }
    let root = util::root().join("tests/data");
    let real = util::realistic();
    let off = cram::eval::load_lines(&root.join("offtopic.txt")).unwrap();
    let mut labels = cram::eval::quality::load_labels(&root.join("answer_labels.tsv")).unwrap();
    cram::eval::quality::load_judgments(&root.join("answer_judgments.tsv"), &mut labels).unwrap();
    let mut engine = util::bundled_engine();
    let p = cram::SearchParams::default();
    let alone =
        cram::eval::quality::load_standalone_judgments(&root.join("keypoint_standalone.tsv"))
            .unwrap();
    let r = cram::eval::quality::evaluate_realistic(&mut engine, &real, &off, Some(&alone), &p)
        .unwrap();
    let kp =
        cram::eval::quality::evaluate_key_points(&mut engine, &labels, Some(&alone), &p).unwrap();
    eprintln!(
        "{}",
        cram::eval::quality::realistic_table("Realistic queries", &r, Some(&kp))
    );
    let kind = |k: &str| r.kinds.iter().find(|s| s.kind == k).unwrap();
    // Today 0.913, 0.952, 6.0% and 85.3% (int8 on this round's machine).
    assert_floors(&r, 0.89, 0.93, 0.09, 0.82);
    // Mentions: 37.5% of the adjacent topics a note mentions point there,
    // none of those no note mentions is shown one (34.4% and 9.3% before a
    // mention had to hold the question's words together).
    assert_mentions(&r, 0.33, 0.05);
    // Separation at any threshold (0.972 here; 0.929 before outside topics).
    assert!(r.abstention_auc >= Some(0.95), "{:?}", r.abstention_auc);
    let all = kind("all in-scope");
    assert!(
        kind("typo").closest1 >= 0.90,
        "typo {}",
        kind("typo").closest1
    );
    assert!(
        kind("acronym").closest1 >= 0.93,
        "acronym {}",
        kind("acronym").closest1
    );
    // A wrong abstention still names an acceptable note more often than not.
    assert!(
        all.abstained_pointed.unwrap_or(1.0) >= 0.55,
        "abstained in-scope queries pointing at an acceptable note {:?}",
        all.abstained_pointed
    );
    assert!(
        kind("off-topic").abstained >= 0.90,
        "off-topic {}",
        kind("off-topic").abstained
    );
    // In a session, follow-ups gain and other turns do not lose.
    let dev = cram::eval::load_dev_queries(&root.join("dev_queries.tsv")).unwrap();
    let session =
        cram::eval::quality::evaluate_session(&mut engine, &real, &dev, &off, &p).unwrap();
    let (f, t) = (&session.follow_ups, &session.new_topics);
    assert!(
        f.right > f.right_alone && f.wrong <= f.wrong_alone,
        "{session:?}"
    );
    assert!(
        t.right >= t.right_alone && t.wrong <= t.wrong_alone + 0.01,
        "{session:?}"
    );
    assert!(session.off_topic_abstained >= Some(0.95), "{session:?}");
    // Query understanding helps as a whole.
    let (all_steps, none) = (r.ablation[0].1, r.ablation.last().unwrap().1);
    assert!(all_steps > none, "{:?}", r.ablation);
    assert!(
        kp.answered >= 0.50,
        "answer sentence in key points {}",
        kp.answered
    );
    assert!(kp.behavioural_leaks <= 0.01, "{}", kp.behavioural_leaks);
    // Read on their own, by assessors' verdicts: 84.5% of the realistic
    // answers' key points and 82.3% of the labelled queries' today (77.6%
    // and 74.0% before the fourteenth round's key-point rules).
    let standalone = r.key_points_standalone.unwrap();
    assert!(standalone.reads_alone >= 0.82, "{standalone:?}");
    assert!(
        kp.standalone_judged.unwrap().reads_alone >= 0.79,
        "{:?}",
        kp.standalone_judged
    );
    // "also:" lines: 61.3% of the 75 judged help today.
    let also = cram::eval::quality::load_also_judgments(&root.join("also_judgments.tsv")).unwrap();
    let a = cram::eval::quality::evaluate_also(&mut engine, &also, &p).unwrap();
    assert!(a.judged >= 60 && a.useful >= 0.55, "{a:?}");
    // 90.4% today: 94.0% before worked examples stopped giving key points
    // (fourteenth round), a trade for key points that read on their own.
    assert!(
        kp.judged_answered >= 0.88,
        "a judged answer in key points {}",
        kp.judged_answered
    );
    // Passage [1] answers: 80.6% today, 76.6% before the closest note's
    // short answer could lead (closest::SHORT_ANSWER_LEAD).
    assert!(
        kp.first_passage >= 0.78,
        "passage [1] holds a judged answer {}",
        kp.first_passage
    );
}

/// The held-out set, written blind and never fitted on, keeps floors a
/// little under today's numbers (README, "The held-out set"): a change that
/// only helps the sets the models were fitted on shows up here.
#[test]
fn held_out_queries_reach_their_floors() {
    if !util::require_model() {
        return;
    }
    let path = util::root().join("tests/data/holdout_queries.tsv");
    let held = cram::eval::quality::load_realistic(&path).unwrap();
    let mut engine = util::bundled_engine();
    let p = cram::SearchParams::default();
    let r = cram::eval::quality::evaluate_realistic(&mut engine, &held, &[], None, &p).unwrap();
    // Today 0.984, 0.995, 2.1% and 84.3% (0.948, 0.990, 7.3% and 64.7% when
    // the set was added).
    assert_floors(&r, 0.95, 0.97, 0.07, 0.74);
    // Mentions: 29.4% found, none unfounded (32.4% and 5.9% before a
    // mention had to hold the question's words together).
    assert_mentions(&r, 0.25, 0.05);
    // Separation at any threshold (0.967 here; 0.919 before outside topics).
    assert!(r.abstention_auc >= Some(0.94), "{:?}", r.abstention_auc);
}

/// A query set's floors over all in-scope queries (closest@1, hit@3, at
/// most this share abstained on) and over adjacent topics (at least this
/// share abstained on).
fn assert_floors(
    r: &cram::eval::quality::RealisticReport,
    closest1: f64,
    hit3: f64,
    in_scope_abstained: f64,
    adjacent_abstained: f64,
) {
    let kind = |k: &str| r.kinds.iter().find(|s| s.kind == k).unwrap();
    let all = kind("all in-scope");
    assert!(all.closest1 >= closest1, "closest@1 {}", all.closest1);
    assert!(all.hit3 >= hit3, "hit@3 {}", all.hit3);
    assert!(
        all.abstained <= in_scope_abstained,
        "in-scope abstained {}",
        all.abstained
    );
    let adjacent = kind("adjacent").abstained;
    assert!(adjacent >= adjacent_abstained, "adjacent {adjacent}");
}

/// Over the adjacent topics: at least `found` of those a note mentions get a
/// mention in such a note, and at most `unfounded` of those no note
/// mentions get one.
fn assert_mentions(r: &cram::eval::quality::RealisticReport, found: f64, unfounded: f64) {
    let adjacent = r.kinds.iter().find(|s| s.kind == "adjacent").unwrap();
    let (f, u) = (
        adjacent.mention_found.unwrap(),
        adjacent.mention_unfounded.unwrap(),
    );
    assert!(f >= found, "mention found for {f} of the mentioned topics");
    assert!(
        u <= unfounded,
        "mention shown for {u} of the unmentioned topics"
    );
}

/// The closest note's short answer is moved up to lead when it nearly ties
/// with the note's best passage (`closest::SHORT_ANSWER_LEAD`), for many dev
/// queries; asked again in a session right after an answer from that note,
/// the short answer the reader has just read is not moved up, and the note's
/// best passage leads.
#[test]
fn the_short_answer_leads_unless_it_was_just_read() {
    if !util::require_model() {
        return;
    }
    let root = util::root().join("tests/data");
    let dev = cram::eval::load_dev_queries(&root.join("dev_queries.tsv")).unwrap();
    let mut engine = util::bundled_engine();
    let p = cram::SearchParams::default();
    let mut led = 0;
    for d in &dev {
        let a = engine.ask(&d.query, &p).unwrap();
        let Some(first) = a.results.first() else {
            continue;
        };
        let closest = a.questions[0].id.clone();
        // Only where the short answer was moved up: a passage of its note
        // below it scores higher.
        let promoted = a.results[1..]
            .iter()
            .any(|r| r.question_id == first.question_id && r.score > first.score);
        if first.heading.first().map(String::as_str) != Some("Short answer")
            || first.question_id.as_deref() != Some(closest.as_str())
            || !promoted
        {
            continue;
        }
        led += 1;
        let earlier = cram::Earlier::of(&a).unwrap();
        let again = engine.ask_following(&d.query, Some(&earlier), &p).unwrap();
        assert_eq!(again.questions[0].id, closest, "{}", d.query);
        let first = &again.results[0];
        assert_eq!(
            first.question_id.as_deref(),
            Some(closest.as_str()),
            "{}",
            d.query
        );
        assert_ne!(
            first.heading.first().map(String::as_str),
            Some("Short answer"),
            "{}",
            d.query
        );
    }
    assert!(
        led >= 30,
        "the short answer was moved up in {led} dev answers"
    );
}

/// For a technical question, a behavioural note's coaching passages (what
/// the interviewer probes, answer structure, red flags) come after every
/// other passage, so among the first five they do not show; its example
/// stories keep their rank and still do. Over the realistic queries (before
/// this rule, coaching showed in 10 of their technical answers).
#[test]
fn coaching_is_not_shown_for_a_technical_question_but_stories_are() {
    if !util::require_model() {
        return;
    }
    let mut engine = util::bundled_engine();
    let behavioural: Vec<String> = engine
        .notes()
        .iter()
        .filter(|n| n.is_behavioural())
        .map(|n| n.id.clone())
        .collect();
    let p = cram::SearchParams::default();
    let mut stories = 0;
    for q in util::realistic() {
        let a = engine.ask(&q.query, &p).unwrap();
        if a.abstained || behavioural.contains(&a.questions[0].id) {
            continue;
        }
        for r in &a.results {
            if !r
                .question_id
                .as_ref()
                .is_some_and(|id| behavioural.contains(id))
            {
                continue;
            }
            assert_eq!(
                r.heading.first().map(String::as_str),
                Some("Example stories"),
                "{}: coaching shown for a technical question",
                q.query
            );
            stories += 1;
        }
    }
    assert!(stories >= 5, "example stories shown only {stories} times");
}

/// How many passages are shown never changes the coverage decision or its
/// evidence: every realistic query asked with one passage and with ten.
#[test]
fn the_number_of_passages_shown_does_not_decide_coverage() {
    if !util::require_model() {
        return;
    }
    let mut engine = util::bundled_engine();
    let with = |k: usize| cram::SearchParams {
        k,
        ..cram::SearchParams::default()
    };
    for q in util::realistic() {
        let one = engine.ask(&q.query, &with(1)).unwrap();
        let ten = engine.ask(&q.query, &with(10)).unwrap();
        let json = |a: &cram::Answer| {
            serde_json::to_value((&a.evidence, a.abstained, &a.questions)).unwrap()
        };
        assert_eq!(json(&one), json(&ten), "{}", q.query);
    }
}

/// An abstaining answer that points at a mention names the mention's note
/// first among the nearest questions, and always names three, over every
/// query of the realistic set that abstains.
#[test]
fn an_abstention_names_its_mentions_note_first() {
    if !util::require_model() {
        return;
    }
    let real = util::realistic();
    let mut engine = util::bundled_engine();
    let p = cram::SearchParams::default();
    let (mut abstained, mut mentioned) = (0, 0);
    for q in &real {
        let a = engine.ask(&q.query, &p).unwrap();
        if !a.abstained {
            continue;
        }
        abstained += 1;
        assert_eq!(a.questions.len(), 3, "{}", q.query);
        if let Some(id) = a.mention.as_ref().and_then(|m| m.question_id.as_ref()) {
            mentioned += 1;
            assert_eq!(&a.questions[0].id, id, "{}", q.query);
        }
    }
    assert!(
        abstained >= 20 && mentioned >= 10,
        "{abstained} {mentioned}"
    );
}

/// The closest-question model names an acceptable question at least as often
/// as the note of the best passage, held out by note, on the dev set and on
/// the realistic set (what `cram eval --fit-closest` prints), and the weights
/// in use are not worse than a fresh fit's held-out rate by much.
#[test]
fn the_closest_question_model_beats_the_best_passage_held_out() {
    if !util::require_model() {
        return;
    }
    let root = util::root().join("tests/data");
    let dev = cram::eval::load_dev_queries(&root.join("dev_queries.tsv")).unwrap();
    let real = util::realistic();
    let mut engine = util::bundled_engine();
    let p = cram::SearchParams::default();
    let ex = cram::eval::quality::closest_examples(&mut engine, &dev, &real, &p).unwrap();
    let fit = cram::eval::quality::cross_validate_closest(&ex);
    eprintln!("{:?}", fit.sets);
    for set in ["dev", "realistic"] {
        let (_, n, fused, held_out, in_use) = fit.sets.iter().find(|s| s.0 == set).unwrap().clone();
        assert!(n >= 200, "{set}: {n} queries");
        assert!(
            held_out >= fused,
            "{set}: held out {held_out} < fused order {fused}"
        );
        assert!(
            in_use >= held_out - 0.01,
            "{set}: weights in use {in_use}, held out {held_out}"
        );
    }
    // Passage [1] comes from the question the answer names first.
    for d in dev.iter().take(40) {
        let a = engine.ask(&d.query, &p).unwrap();
        if let (Some(q), Some(r)) = (a.questions.first(), a.results.first()) {
            assert_eq!(r.question_id.as_deref(), Some(q.id.as_str()), "{}", d.query);
        }
    }
}

/// The labelled files stay valid as the notes change: every id exists and
/// every answer label still matches a sentence of its note.
#[test]
fn evaluation_labels_match_the_notes() {
    let root = util::root();
    let real = cram::eval::quality::load_realistic(&root.join("tests/data/realistic_queries.tsv"))
        .unwrap();
    let mut labels =
        cram::eval::quality::load_labels(&root.join("tests/data/answer_labels.tsv")).unwrap();
    cram::eval::quality::load_judgments(&root.join("tests/data/answer_judgments.tsv"), &mut labels)
        .unwrap();
    let src = cram::index::corpus::Source {
        path: root.join("corpus"),
        kind: cram::index::corpus::SourceKind::Bundled,
    };
    let notes = cram::index::corpus::load(&[src]).unwrap().0;
    let body = |id: &str| {
        notes
            .iter()
            .find(|n| n.id == id)
            .map(|n| n.body.to_lowercase().replace("**", ""))
            .unwrap_or_else(|| panic!("no note {id}"))
    };
    let holdout =
        cram::eval::quality::load_realistic(&root.join("tests/data/holdout_queries.tsv")).unwrap();
    for set in [&real, &holdout] {
        for q in set {
            for id in q.ids.iter().chain(&q.mentioned_in) {
                body(id);
            }
        }
        let kinds: std::collections::BTreeSet<&str> = set.iter().map(|q| q.kind.as_str()).collect();
        assert_eq!(kinds.len(), cram::eval::quality::IN_SCOPE_KINDS.len() + 1);
        assert!(set.iter().filter(|q| !q.in_scope()).count() >= 40);
    }
    assert!(real.iter().filter(|q| q.in_scope()).count() >= 150);
    assert!(holdout.iter().filter(|q| q.in_scope()).count() >= 130);
    // The held-out set is not a copy of the realistic one.
    let seen: std::collections::HashSet<&str> = real.iter().map(|q| q.query.as_str()).collect();
    let shared = holdout
        .iter()
        .filter(|q| seen.contains(q.query.as_str()))
        .count();
    assert_eq!(
        shared, 0,
        "held-out queries must not repeat the realistic set"
    );
    // The verdicts on shown key points are about held-out queries.
    let shown = cram::eval::quality::load_shown_judgments(
        &root.join("tests/data/holdout_keypoint_judgments.tsv"),
    )
    .unwrap();
    assert!(shown.by_query.len() >= 150);
    for q in shown.by_query.keys() {
        assert!(
            holdout.iter().any(|h| &h.query == q),
            "{q} is not a held-out query"
        );
    }
    assert!(labels.len() >= 100);
    let mut stale = Vec::new();
    for l in &labels {
        let text = body(&l.expected);
        // One line of a note is one paragraph or list item.
        let found = text.lines().any(|line| l.answered_by(line));
        if !found {
            stale.push(format!("{}\t{}", l.expected, l.query));
        }
        // Every label is judged, and every judged start is still in its note.
        assert!(
            !l.judged.is_empty(),
            "no judgment for {}\t{}",
            l.expected,
            l.query
        );
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for start in &l.judged {
            if !flat.contains(start.as_str()) {
                stale.push(format!("{}\t{}\t{start}", l.expected, l.query));
            }
        }
    }
    let judged: usize = labels.iter().map(|l| l.judged.len()).sum();
    assert!(
        stale.len() * 20 <= labels.len() + judged,
        "labels or judgments no note sentence matches:\n{}",
        stale.join("\n")
    );
}
