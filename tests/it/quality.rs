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
