//! The drill tools: `drill_next` and `drill_grade`, on the same progress
//! file as `cram drill` (re-read for every call; grades saved under its lock
//! with an atomic rename by [`Progress::record`]).

use std::sync::Arc;

use rmcp::ErrorData;
use rmcp::model::JsonObject;
use serde::Deserialize;
use serde_json::{Value, json};

use super::invalid;
use super::tools::{normalize_id, parse, schema};
use crate::Engine;
use crate::study::drill::{self, Progress};
use crate::study::schedule::Grade;

/// `drill_next`'s description.
pub const NEXT: &str = "The next interview question to practise in spaced-repetition order (due ones first, then new \
        ones, sections in turn), from the same progress file as `cram drill`. Returns id, section, question, status (due | new | \
        ahead), the note's short_answer (show it only after the user has answered), and counts of due and new questions. id is \
        null when nothing is due (pass ahead: true to practise early).";

/// `drill_grade`'s description.
pub const GRADE: &str = "Record how well the user recalled a question's answer (again, hard, good or easy; or 1-4), as \
        `cram drill` does (SM-2 schedule, saved at once). Returns the question's new schedule: due (Unix seconds), interval_days, \
        ease, reviews, lapses.";

/// `drill_next`'s input schema.
pub fn next_schema() -> Arc<JsonObject> {
    schema(json!({
        "type": "object",
        "properties": {
            "section": {"type": "string", "description": "Only this section (name, acronym, initials or a word)."},
            "ahead": {"type": "boolean", "default": false, "description": "Also offer questions not yet due."}
        },
        "additionalProperties": false
    }))
}

/// `drill_grade`'s input schema.
pub fn grade_schema() -> Arc<JsonObject> {
    schema(json!({
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "Question id: q14 or 14."},
            "grade": {"type": "string", "enum": ["again", "hard", "good", "easy", "1", "2", "3", "4"]}
        },
        "required": ["id", "grade"],
        "additionalProperties": false
    }))
}

/// The clock of `cram drill` ([`drill::now`]).
fn now() -> Result<i64, ErrorData> {
    drill::now().map_err(|e| ErrorData::internal_error(e.to_string(), None))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NextArgs {
    section: Option<String>,
    #[serde(default)]
    ahead: bool,
}

/// The `drill_next` tool.
pub fn next(engine: &Engine, args: JsonObject) -> Result<Value, ErrorData> {
    let a: NextArgs = parse("drill_next", args)?;
    let progress = Progress::load(&Progress::default_path())?;
    let sections: Vec<String> = a.section.into_iter().collect();
    let deck = drill::deck(engine.notes(), &sections)?;
    let now = now()?;
    let due = deck
        .iter()
        .filter(|c| progress.card(&c.id).is_some_and(|s| s.is_due(now)))
        .count();
    let new = deck
        .iter()
        .filter(|c| progress.card(&c.id).is_none())
        .count();
    let base = json!({"due": due, "new": new, "progress_file": progress.path()});
    let Some(id) = drill::plan(&deck, &progress, now, 1, a.ahead)
        .into_iter()
        .next()
    else {
        let mut v = base;
        v["id"] = Value::Null;
        v["message"] = "nothing is due now; pass ahead: true to practise early".into();
        return Ok(v);
    };
    let card = deck.iter().find(|c| c.id == id).ok_or_else(|| {
        ErrorData::internal_error(format!("{id} was planned but is not in the deck"), None)
    })?;
    let note = engine.note(&id)?;
    let status = match progress.card(&id) {
        None => "new",
        Some(s) if s.is_due(now) => "due",
        Some(_) => "ahead",
    };
    let mut v = base;
    v["id"] = id.clone().into();
    v["section"] = card.section.clone().into();
    v["question"] = card.question.clone().into();
    v["status"] = status.into();
    v["short_answer"] = drill::short_answer(&note.body).into();
    Ok(v)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GradeArgs {
    id: String,
    grade: GradeArg,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum GradeArg {
    Word(String),
    Number(u8),
}

/// The `drill_grade` tool.
pub fn grade(engine: &Engine, args: JsonObject) -> Result<Value, ErrorData> {
    let a: GradeArgs = parse("drill_grade", args)?;
    let id = normalize_id(&a.id);
    let note = engine.note(&id)?;
    if note.question_id.is_none() {
        return Err(invalid(format!("{id} is not an interview question")));
    }
    let text = match a.grade {
        GradeArg::Word(w) => w,
        GradeArg::Number(n) => n.to_string(),
    };
    let grade = Grade::parse(&text).ok_or_else(|| {
        invalid(format!(
            "drill_grade: grade `{text}` is not again, hard, good, easy or 1-4"
        ))
    })?;
    let mut progress = Progress::load(&Progress::default_path())?;
    let s = progress.record(&id, grade, now()?, None)?;
    Ok(json!({
        "id": id,
        "grade": grade.name(),
        "due": s.due,
        "interval_days": s.interval_days,
        "ease": s.ease,
        "reviews": s.reviews,
        "lapses": s.lapses,
        "progress_file": progress.path(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_are_words_or_numbers() {
        let a: GradeArgs = parse("drill_grade", args(json!({"id": "q01", "grade": 3}))).unwrap();
        assert!(matches!(a.grade, GradeArg::Number(3)));
        let a: GradeArgs = parse("drill_grade", args(json!({"id": "1", "grade": "easy"}))).unwrap();
        assert!(matches!(a.grade, GradeArg::Word(ref w) if w == "easy"));
        let e = parse::<GradeArgs>("drill_grade", args(json!({"id": "q01"}))).unwrap_err();
        assert!(e.message.contains("grade"), "{}", e.message);
    }

    fn args(v: Value) -> JsonObject {
        v.as_object().cloned().unwrap_or_default()
    }
}
