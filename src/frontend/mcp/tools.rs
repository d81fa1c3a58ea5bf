//! The MCP tools, resources and prompts: argument checking and thin calls
//! into the [`Engine`].

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::RpcError;
use crate::index::NoteRecord;
use crate::{Answer, Engine, Mode, SearchParams};

/// What the server tells the client's model about itself.
pub const INSTRUCTIONS: &str = "cram serves a candidate's study notes for AI-engineering interviews: 55 \
reference notes, one per interview question (q01-q55). Use `search` to find what the notes say about a \
question and cite passages by chunk_id and path:lines; when coverage is not `covered`, say the notes do \
not cover it instead of answering from memory. Use `get_note` to read a whole note or one section, and \
`list_questions` to see the questions by section.";

/// The tool list (`tools/list`).
pub fn definitions() -> Value {
    let mut tools = json!([
        {
            "name": "search",
            "title": "Search the study notes",
            "description": "Search the interview study notes (hybrid BM25 + embedding retrieval, the same as `cram ask`). \
    Returns `summary` (the verdict line as `cram ask` prints it), `coverage` (covered | mentioned | none: whether the notes \
    cover the question as a topic; when not covered, `results` is empty and `questions` lists the nearest ones), `questions` \
    (closest interview questions), `key_points` (verbatim sentences, each with the rank of its passage), and `results`: cited \
    passages with chunk_id, question_id, path, heading, lines [first, last], text and scores. This is the cram.ask/2 JSON \
    object of `cram ask --json`, plus `summary`. Cite passages as path:first-last.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "question": {"type": "string", "description": "The question, in plain words (at most 4 KiB)."},
                    "k": {"type": "integer", "minimum": 1, "maximum": 100, "default": 5, "description": "Passages to return."},
                    "mode": {"type": "string", "enum": ["hybrid", "bm25", "dense"], "default": "hybrid", "description": "Retrieval arms: hybrid (best), bm25 (keywords only) or dense (embeddings only)."},
                    "section": {"type": "string", "description": "Only passages and questions from this section: its name, acronym (rag), initials (ml) or a word (backend, safety, cost). See list_questions."}
                },
                "required": ["question"],
                "additionalProperties": false
            }
        },
        {
            "name": "get_note",
            "title": "Read a note",
            "description": "Read one reference note: the whole markdown, or one section of it by heading (e.g. \"Short answer\", \
    \"Traps and follow-ups\"). Returns id, question, section, path, tags, related ids, the note's headings, and text.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "description": "Question id: q14, Q14 or 14."},
                    "path": {"type": "string", "description": "Or the note's path as cited, e.g. corpus/q14-dropout.md."},
                    "heading": {"type": "string", "description": "Only this section (case-insensitive; a prefix is enough)."}
                },
                "additionalProperties": false
            }
        },
        {
            "name": "list_questions",
            "title": "List the interview questions",
            "description": "The interview questions the notes answer, grouped by section, each with its id (q01-q55) and path.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "section": {"type": "string", "description": "Only this section (name, acronym, initials or a word)."}
                },
                "additionalProperties": false
            }
        }
    ]);
    if let Some(list) = tools.as_array_mut() {
        list.extend(super::drill::definitions());
    }
    tools
}

/// Runs `tools/call`.
pub fn call(engine: &mut Engine, params: &Map<String, Value>) -> Result<Value, RpcError> {
    let name = params
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::params("tools/call needs `name`, a string"))?;
    let args = match params.get("arguments") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => return Err(RpcError::params("`arguments` must be an object")),
    };
    let out = match name {
        "search" => search(engine, args)?,
        "get_note" => get_note(engine, args)?,
        "list_questions" => list_questions(engine, args)?,
        "drill_next" => super::drill::next(engine, args)?,
        "drill_grade" => super::drill::grade(engine, args)?,
        other => {
            return Err(RpcError::params(format!(
                "unknown tool `{other}`: the tools are search, get_note, list_questions, drill_next, drill_grade"
            )));
        }
    };
    let text = serde_json::to_string(&out)
        .map_err(|e| RpcError::new(RpcError::INTERNAL, e.to_string()))?;
    Ok(
        json!({"content": [{"type": "text", "text": text}], "structuredContent": out, "isError": false}),
    )
}

pub(super) fn parse<T: for<'de> Deserialize<'de>>(tool: &str, args: Value) -> Result<T, RpcError> {
    serde_json::from_value(args)
        .map_err(|e| RpcError::params(format!("{tool}: invalid arguments: {e}")))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchArgs {
    question: String,
    k: Option<usize>,
    mode: Option<String>,
    section: Option<String>,
}

/// The `search` tool: [`Engine::ask`] with the defaults of `cram ask`.
fn search(engine: &mut Engine, args: Value) -> Result<Value, RpcError> {
    let a: SearchArgs = parse("search", args)?;
    let mut p = SearchParams::default();
    if let Some(k) = a.k {
        p.k = k;
    }
    p.mode = match a.mode.as_deref() {
        None | Some("hybrid") => Mode::Hybrid,
        Some("bm25") => Mode::Bm25,
        Some("dense") => Mode::Dense,
        Some(m) => {
            return Err(RpcError::params(format!(
                "search: mode `{m}` is not one of hybrid, bm25, dense"
            )));
        }
    };
    p.validate()?;
    let section = a
        .section
        .as_deref()
        .map(|s| section_named(engine.notes(), s))
        .transpose()?;
    let shown = p.k;
    if section.is_some() {
        // Rank everything the arms fetched, then keep the section's passages.
        p.k = p.fetch_k.max(p.k);
    }
    let answer = engine.ask(&a.question, &p)?;
    let answer = match &section {
        Some(s) => only_section(answer, engine.notes(), s, shown),
        None => answer,
    };
    let mut v = serde_json::to_value(&answer)
        .map_err(|e| RpcError::new(RpcError::INTERNAL, e.to_string()))?;
    v["summary"] = Value::String(summary(&answer));
    Ok(v)
}

/// The lines `cram ask` prints above the key points: the coverage decision
/// and the closest questions, in the same words.
pub fn summary(a: &Answer) -> String {
    let text = crate::render::answer(a, crate::render::Style::default());
    let head: Vec<&str> = text.lines().take_while(|l| !l.trim().is_empty()).collect();
    head.join("\n")
}

/// Keeps the passages, key points and questions of one section (at most `k` passages).
fn only_section(mut a: Answer, notes: &[NoteRecord], section: &str, k: usize) -> Answer {
    let in_section = |id: Option<&str>| {
        id.and_then(|id| notes.iter().find(|n| n.id == id))
            .is_some_and(|n| n.section.as_deref() == Some(section))
    };
    a.results.retain(|r| in_section(r.question_id.as_deref()));
    a.results.truncate(k);
    let mut renumber = std::collections::HashMap::new();
    for (i, r) in a.results.iter_mut().enumerate() {
        renumber.insert(r.rank, i + 1);
        r.rank = i + 1;
    }
    a.key_points
        .retain_mut(|kp| match renumber.get(&kp.passage) {
            Some(&n) => {
                kp.passage = n;
                true
            }
            None => false,
        });
    a.questions.retain(|q| in_section(Some(&q.id)));
    a.params.k = k;
    a
}

/// The section a name, acronym, initials or word stands for.
fn section_named(notes: &[NoteRecord], wanted: &str) -> Result<String, RpcError> {
    let mut names: Vec<String> = Vec::new();
    for n in notes {
        if let Some(s) = &n.section
            && !names.contains(s)
        {
            names.push(s.clone());
        }
    }
    crate::study::drill::resolve_section(&names, wanted)
        .map_err(|e| RpcError::params(e.to_string()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteArgs {
    id: Option<String>,
    path: Option<String>,
    heading: Option<String>,
}

pub use crate::index::corpus::normalize_id;

/// A note by id or cited path.
fn find_note<'a>(
    engine: &'a Engine,
    id: Option<&str>,
    path: Option<&str>,
) -> Result<&'a NoteRecord, RpcError> {
    match (id, path) {
        (Some(id), _) => Ok(engine.note(&normalize_id(id))?),
        (None, Some(p)) => {
            let p = p.trim();
            engine
                .notes()
                .iter()
                .find(|n| {
                    n.path == p || (!p.is_empty() && (n.path.ends_with(p) || p.ends_with(&n.path)))
                })
                .ok_or_else(|| {
                    RpcError::params(format!("no note at path {p} (see list_questions)"))
                })
        }
        (None, None) => Err(RpcError::params("get_note needs `id` (e.g. q14) or `path`")),
    }
}

/// The `## ` sections of a note body: (heading, text including the heading line).
fn sections(body: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut fence = false;
    for line in body.lines() {
        if line.trim_start().starts_with("```") {
            fence = !fence;
        }
        if !fence && let Some(h) = line.strip_prefix("## ") {
            out.push((h.trim().to_string(), String::new()));
        }
        if let Some((_, text)) = out.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    out
}

/// The `get_note` tool.
fn get_note(engine: &mut Engine, args: Value) -> Result<Value, RpcError> {
    let a: NoteArgs = parse("get_note", args)?;
    let n = find_note(engine, a.id.as_deref(), a.path.as_deref())?;
    let secs = sections(&n.body);
    let headings: Vec<&str> = secs.iter().map(|(h, _)| h.as_str()).collect();
    let text = match a.heading.as_deref().map(str::trim) {
        None => n.body.clone(),
        Some(h) => {
            let h = h.trim_start_matches('#').trim().to_lowercase();
            let found = secs
                .iter()
                .find(|(s, _)| s.to_lowercase() == h)
                .or_else(|| {
                    secs.iter()
                        .find(|(s, _)| !h.is_empty() && s.to_lowercase().starts_with(&h))
                });
            match found {
                Some((_, t)) => t.clone(),
                None => {
                    return Err(RpcError::params(format!(
                        "{} has no section `{h}`; its sections are: {}",
                        n.id,
                        headings.join(", ")
                    )));
                }
            }
        }
    };
    Ok(json!({
        "id": n.id,
        "question_id": n.question_id,
        "question": n.title,
        "section": n.section,
        "path": n.path,
        "tags": n.tags,
        "related": n.related,
        "headings": headings,
        "heading": a.heading,
        "text": text,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListArgs {
    section: Option<String>,
}

/// The `list_questions` tool.
fn list_questions(engine: &mut Engine, args: Value) -> Result<Value, RpcError> {
    let a: ListArgs = parse("list_questions", args)?;
    let notes = engine.notes();
    let only = a
        .section
        .as_deref()
        .map(|s| section_named(notes, s))
        .transpose()?;
    let mut sections: Vec<(String, Vec<Value>)> = Vec::new();
    let mut total = 0;
    for n in notes.iter().filter(|n| n.question_id.is_some()) {
        let s = n.section.clone().unwrap_or_default();
        if only.as_ref().is_some_and(|o| *o != s) {
            continue;
        }
        let q = json!({"id": n.id, "question": n.title, "path": n.path});
        total += 1;
        match sections.iter_mut().find(|(name, _)| *name == s) {
            Some((_, v)) => v.push(q),
            None => sections.push((s, vec![q])),
        }
    }
    let sections: Vec<Value> = sections
        .into_iter()
        .map(|(s, q)| json!({"section": s, "questions": q}))
        .collect();
    Ok(json!({"total": total, "sections": sections}))
}

/// `resources/list`: one resource per question note.
pub fn resources(engine: &Engine) -> Value {
    let list: Vec<Value> = engine
        .notes()
        .iter()
        .filter(|n| n.question_id.is_some())
        .map(|n| {
            json!({
                "uri": format!("cram://note/{}", n.id),
                "name": n.id,
                "title": n.title,
                "description": format!("{} ({})", n.title, n.section.as_deref().unwrap_or("notes")),
                "mimeType": "text/markdown",
            })
        })
        .collect();
    json!({"resources": list})
}

/// `resources/templates/list`.
pub fn resource_templates() -> Value {
    json!({"resourceTemplates": [{
        "uriTemplate": "cram://note/{id}",
        "name": "note",
        "title": "A reference note by question id",
        "description": "The whole note for one interview question, e.g. cram://note/q14",
        "mimeType": "text/markdown",
    }]})
}

/// `resources/read` for `cram://note/<id>`.
pub fn read_resource(engine: &Engine, params: &Map<String, Value>) -> Result<Value, RpcError> {
    let uri = params
        .get("uri")
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::params("resources/read needs `uri`, a string"))?;
    let not_found = || {
        RpcError::new(
            RpcError::RESOURCE_NOT_FOUND,
            format!("resource not found: {uri} (try cram://note/q14)"),
        )
    };
    let id = uri.strip_prefix("cram://note/").ok_or_else(not_found)?;
    let n = engine.note(&normalize_id(id)).map_err(|_| not_found())?;
    Ok(json!({"contents": [{
        "uri": uri,
        "mimeType": "text/markdown",
        "text": crate::render::note_markdown(n),
    }]}))
}

/// `prompts/list`.
pub fn prompts() -> Value {
    json!({"prompts": [{
        "name": "quiz",
        "title": "Quiz me on a section",
        "description": "Quiz me on one section of the interview questions, one at a time, grading my answers against the notes.",
        "arguments": [{"name": "section", "description": "Section: name, acronym (rag), initials (ml) or a word (backend); empty for all", "required": false}],
    }]})
}

/// `prompts/get` for `quiz`.
pub fn get_prompt(engine: &Engine, params: &Map<String, Value>) -> Result<Value, RpcError> {
    let name = params
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if name != "quiz" {
        return Err(RpcError::params(format!(
            "unknown prompt `{name}`: the prompts are quiz"
        )));
    }
    let wanted = match params.get("arguments").and_then(|a| a.get("section")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(section_named(engine.notes(), s)?),
        Some(_) => return Err(RpcError::params("quiz: `section` must be a string")),
    };
    let mut lines = Vec::new();
    for n in engine.notes().iter().filter(|n| n.question_id.is_some()) {
        if wanted.is_none() || n.section == wanted {
            lines.push(format!("- {} {}", n.id, n.title));
        }
    }
    let scope = wanted.as_deref().unwrap_or("all sections");
    let text = format!(
        "Quiz me on {scope} using my cram notes. Ask me one of these interview questions at a time:\n{}\n\n\
After I answer, call `get_note` with the question's id and heading \"Short answer\" (and `search` for anything I \
got wrong), then grade my answer against the note: what I covered, what I missed, each point cited as path:lines. \
Do not answer from memory what the notes do not say.",
        lines.join("\n")
    );
    Ok(json!({
        "description": format!("Quiz on {scope}"),
        "messages": [{"role": "user", "content": {"type": "text", "text": text}}],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_normalize() {
        assert_eq!(normalize_id("14"), "q14");
        assert_eq!(normalize_id("Q4"), "q04");
        assert_eq!(normalize_id(" q14 "), "q14");
        assert_eq!(normalize_id("mine/kv.md"), "mine/kv.md");
    }

    #[test]
    fn sections_split_at_level_two_headings_outside_code() {
        let body = "intro\n## Short answer\nyes\n```\n## not a heading\n```\n## Traps\nno\n";
        let s = sections(body);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].0, "Short answer");
        assert!(s[0].1.contains("## not a heading"));
        assert_eq!(s[1].1, "## Traps\nno\n");
    }

    #[test]
    fn search_arguments_are_typed() {
        let e = parse::<SearchArgs>("search", json!({"question": 3})).unwrap_err();
        assert_eq!(e.code, RpcError::INVALID_PARAMS);
        assert!(e.message.contains("invalid type"), "{}", e.message);
        let e = parse::<SearchArgs>("search", json!({"question": "x", "kk": 3})).unwrap_err();
        assert!(e.message.contains("unknown field"), "{}", e.message);
        let a = parse::<SearchArgs>("search", json!({"question": "x", "k": 3})).unwrap();
        assert_eq!(a.k, Some(3));
    }

    #[test]
    fn tool_definitions_have_object_schemas() {
        for t in definitions().as_array().unwrap() {
            assert_eq!(t["inputSchema"]["type"], "object", "{}", t["name"]);
            assert!(t["description"].as_str().unwrap().len() > 40);
        }
    }
}
