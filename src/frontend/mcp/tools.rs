//! The MCP tools, resources and prompt: their definitions for the model,
//! argument checking, and thin calls into the [`Engine`].

use std::collections::HashMap;
use std::sync::Arc;

use rmcp::model::{
    CallToolResult, ContentBlock, GetPromptRequestParams, GetPromptResult, JsonObject,
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, Prompt, PromptArgument,
    PromptMessage, ReadResourceResult, Resource, ResourceContents, ResourceTemplate, Role,
};
use rmcp::{ErrorData, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Server, drill, invalid};
use crate::index::NoteRecord;
use crate::{Answer, Engine, Mode, SearchParams};

/// What the server tells the client's model about itself.
pub const INSTRUCTIONS: &str = "cram serves a candidate's study notes for AI-engineering interviews: 55 \
reference notes, one per interview question (q01-q55). Use `search` to find what the notes say about a \
question and cite passages by chunk_id and path:lines; when coverage is not `covered`, say the notes do \
not cover it instead of answering from memory. Use `get_note` to read a whole note or one section, and \
`list_questions` to see the questions by section.";

const SEARCH: &str = "Search the interview study notes (hybrid BM25 + embedding retrieval, the same as `cram ask`). \
    Returns `summary` (the verdict line as `cram ask` prints it), `coverage` (covered | mentioned | none: whether the notes \
    cover the question as a topic; when not covered, `results` is empty and `questions` lists the nearest ones), `questions` \
    (closest interview questions), `key_points` (verbatim sentences, each with the rank of its passage), and `results`: cited \
    passages with chunk_id, question_id, path, heading, lines [first, last], text and scores. This is the cram.ask/2 JSON \
    object of `cram ask --json`, plus `summary`. Cite passages as path:first-last.";

const GET_NOTE: &str = "Read one reference note: the whole markdown, or one section of it by heading (e.g. \"Short answer\", \
    \"Traps and follow-ups\"). Returns id, question, section, path, tags, related ids, the note's headings, text, \
    lines [first, last] of text in the file (cite as path:first-last), and outline: each section's heading and lines.";

const LIST_QUESTIONS: &str = "The interview questions the notes answer, grouped by section, each with its id (q01-q55) and path.";

/// A JSON schema object for a tool's input.
pub(super) fn schema(v: Value) -> Arc<JsonObject> {
    Arc::new(match v {
        Value::Object(o) => o,
        _ => JsonObject::new(),
    })
}

fn search_schema() -> Arc<JsonObject> {
    schema(json!({
        "type": "object",
        "properties": {
            "question": {"type": "string", "description": "The question, in plain words (at most 4 KiB)."},
            "k": {"type": "integer", "minimum": 1, "maximum": 100, "default": 5, "description": "Passages to return."},
            "mode": {"type": "string", "enum": ["hybrid", "bm25", "dense"], "default": "hybrid", "description": "Retrieval arms: hybrid (best), bm25 (keywords only) or dense (embeddings only)."},
            "section": {"type": "string", "description": "Only passages and questions from this section: its name, acronym (rag), initials (ml) or a word (backend, safety, cost). See list_questions."}
        },
        "required": ["question"],
        "additionalProperties": false
    }))
}

fn get_note_schema() -> Arc<JsonObject> {
    schema(json!({
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "Question id: q14, Q14 or 14."},
            "path": {"type": "string", "description": "Or the note's path as cited, e.g. corpus/q14-dropout.md."},
            "heading": {"type": "string", "description": "Only this section (case-insensitive; a prefix is enough)."}
        },
        "additionalProperties": false
    }))
}

fn list_questions_schema() -> Arc<JsonObject> {
    schema(json!({
        "type": "object",
        "properties": {
            "section": {"type": "string", "description": "Only this section (name, acronym, initials or a word)."}
        },
        "additionalProperties": false
    }))
}

/// The tools: each a thin call into the engine under the server's lock.
#[tool_router(vis = "pub(super)")]
impl Server {
    #[tool(name = "search", title = "Search the study notes", description = SEARCH,
        input_schema = search_schema(), annotations(read_only_hint = true, open_world_hint = false))]
    fn search(&self, args: JsonObject) -> Result<CallToolResult, ErrorData> {
        self.with(|s| search(s.live.engine_mut(), args))
    }

    #[tool(name = "get_note", title = "Read a note", description = GET_NOTE,
        input_schema = get_note_schema(), annotations(read_only_hint = true, open_world_hint = false))]
    fn get_note(&self, args: JsonObject) -> Result<CallToolResult, ErrorData> {
        self.with(|s| get_note(s.live.engine(), &s.body_lines, args))
    }

    #[tool(name = "list_questions", title = "List the interview questions", description = LIST_QUESTIONS,
        input_schema = list_questions_schema(), annotations(read_only_hint = true, open_world_hint = false))]
    fn list_questions(&self, args: JsonObject) -> Result<CallToolResult, ErrorData> {
        self.with(|s| list_questions(s.live.engine(), args))
    }

    #[tool(name = "drill_next", title = "Next question to drill", description = drill::NEXT,
        input_schema = drill::next_schema(), annotations(read_only_hint = true, open_world_hint = false))]
    fn drill_next(&self, args: JsonObject) -> Result<CallToolResult, ErrorData> {
        self.with(|s| structured(&drill::next(s.live.engine(), args)?))
    }

    #[tool(name = "drill_grade", title = "Record a drill grade", description = drill::GRADE,
        input_schema = drill::grade_schema(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false))]
    fn drill_grade(&self, args: JsonObject) -> Result<CallToolResult, ErrorData> {
        self.with(|s| structured(&drill::grade(s.live.engine(), args)?))
    }
}

/// A tool's answer: `out` as `structuredContent` and, for clients that only
/// read content, as compact JSON text (each serialised once from `out`).
fn structured(out: &impl Serialize) -> Result<CallToolResult, ErrorData> {
    let internal = |e: serde_json::Error| ErrorData::internal_error(e.to_string(), None);
    let text = serde_json::to_string(out).map_err(internal)?;
    let value = serde_json::to_value(out).map_err(internal)?;
    let mut r = CallToolResult::success(vec![ContentBlock::text(text)]);
    r.structured_content = Some(value);
    Ok(r)
}

/// Typed arguments, or an invalid-params error naming the tool and the problem.
pub(super) fn parse<T: for<'de> Deserialize<'de>>(
    tool: &str,
    args: JsonObject,
) -> Result<T, ErrorData> {
    serde_json::from_value(Value::Object(args))
        .map_err(|e| invalid(format!("{tool}: invalid arguments: {e}")))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchArgs {
    question: String,
    k: Option<usize>,
    mode: Option<String>,
    section: Option<String>,
}

/// The `search` answer: the `cram.ask/2` object plus the verdict lines.
#[derive(Serialize)]
struct SearchOut<'a> {
    #[serde(flatten)]
    answer: &'a Answer,
    summary: String,
}

/// The `search` tool: [`Engine::ask`] with the defaults of `cram ask`.
fn search(engine: &mut Engine, args: JsonObject) -> Result<CallToolResult, ErrorData> {
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
            return Err(invalid(format!(
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
    let mut answer = match &section {
        Some(s) => only_section(answer, engine.notes(), s, shown),
        None => answer,
    };
    let summary = summary(&mut answer);
    structured(&SearchOut {
        answer: &answer,
        summary,
    })
}

/// The lines `cram ask` prints above the key points: the coverage decision
/// and the closest questions, in the same words. Only those are rendered:
/// when the notes cover the question, the key points and passages come after
/// the first blank line, so they are set aside while rendering.
pub fn summary(a: &mut Answer) -> String {
    let head_only = !a.abstained && !a.questions.is_empty();
    let set_aside = head_only.then(|| {
        (
            std::mem::take(&mut a.results),
            std::mem::take(&mut a.key_points),
        )
    });
    let text = crate::render::answer(a, crate::render::Style::default());
    if let Some((results, key_points)) = set_aside {
        a.results = results;
        a.key_points = key_points;
    }
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
    let mut renumber = HashMap::new();
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
fn section_named(notes: &[NoteRecord], wanted: &str) -> Result<String, ErrorData> {
    let mut names: Vec<String> = Vec::new();
    for n in notes {
        if let Some(s) = &n.section
            && !names.contains(s)
        {
            names.push(s.clone());
        }
    }
    crate::study::drill::resolve_section(&names, wanted).map_err(|e| invalid(e.to_string()))
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
) -> Result<&'a NoteRecord, ErrorData> {
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
                .ok_or_else(|| invalid(format!("no note at path {p} (see list_questions)")))
        }
        (None, None) => Err(invalid("get_note needs `id` (e.g. q14) or `path`")),
    }
}

/// A `## ` section of a note body.
#[derive(Debug, PartialEq)]
struct Section<'a> {
    heading: &'a str,
    /// Its text in the body, from its heading line to the next section's.
    text: &'a str,
    /// Its heading line and last non-blank line, 0-based within the body.
    lines: [usize; 2],
}

/// The `## ` sections of a note body (headings in code blocks do not count),
/// and the body's last non-blank line (0-based).
fn sections(body: &str) -> (Vec<Section<'_>>, usize) {
    let mut out: Vec<Section> = Vec::new();
    let mut fence = false;
    let (mut offset, mut last_text) = (0, 0);
    for (i, raw) in body.split_inclusive('\n').enumerate() {
        let line = raw.trim_end_matches(['\n', '\r']);
        if line.trim_start().starts_with("```") {
            fence = !fence;
        }
        if !fence && let Some(h) = line.strip_prefix("## ") {
            if let Some(prev) = out.last_mut() {
                prev.text = &body[body.len() - prev.text.len()..offset];
            }
            out.push(Section {
                heading: h.trim(),
                text: &body[offset..],
                lines: [i, i],
            });
        }
        if !line.trim().is_empty() {
            last_text = i;
            if let Some(s) = out.last_mut() {
                s.lines[1] = i;
            }
        }
        offset += raw.len();
    }
    (out, last_text)
}

/// Where each note's body starts in its file (1-based line), for the line
/// spans of `get_note`; a note whose file no longer matches the index is left out.
pub(super) fn body_lines(engine: &Engine) -> HashMap<String, usize> {
    let sources = &engine.generation().manifest.sources;
    let mut out = HashMap::new();
    for n in engine.notes() {
        for s in sources {
            let file = s.path.parent().unwrap_or(&s.path).join(&n.path);
            if let Ok(note) = crate::index::corpus::read_note(&file, &n.path, s.kind)
                && note.body == n.body
            {
                out.insert(n.id.clone(), note.body_first_line);
                break;
            }
        }
    }
    out
}

/// The `get_note` answer (borrowing the note: the text is copied only into the reply).
#[derive(Serialize)]
struct NoteOut<'a> {
    id: &'a str,
    question_id: Option<&'a str>,
    question: &'a str,
    section: Option<&'a str>,
    path: &'a str,
    tags: &'a [String],
    related: &'a [String],
    headings: Vec<&'a str>,
    heading: Option<&'a str>,
    /// File lines [first, last] of `text`; null if the file changed since indexing.
    lines: Option<[usize; 2]>,
    /// Every section's heading and file lines.
    outline: Vec<Outline<'a>>,
    text: &'a str,
}

#[derive(Serialize)]
struct Outline<'a> {
    heading: &'a str,
    lines: Option<[usize; 2]>,
}

/// The `get_note` tool.
fn get_note(
    engine: &Engine,
    body_lines: &HashMap<String, usize>,
    args: JsonObject,
) -> Result<CallToolResult, ErrorData> {
    let a: NoteArgs = parse("get_note", args)?;
    let n = find_note(engine, a.id.as_deref(), a.path.as_deref())?;
    let (secs, last) = sections(&n.body);
    let start = body_lines.get(&n.id).copied();
    let span = |[first, last]: [usize; 2]| start.map(|s| [s + first, s + last]);
    let (text, lines) = match a.heading.as_deref().map(str::trim) {
        None => (n.body.as_str(), span([0, last])),
        Some(h) => {
            let h = h.trim_start_matches('#').trim().to_lowercase();
            let found = secs
                .iter()
                .find(|s| s.heading.to_lowercase() == h)
                .or_else(|| {
                    secs.iter()
                        .find(|s| !h.is_empty() && s.heading.to_lowercase().starts_with(&h))
                });
            match found {
                Some(s) => (s.text, span(s.lines)),
                None => {
                    let headings: Vec<&str> = secs.iter().map(|s| s.heading).collect();
                    return Err(invalid(format!(
                        "{} has no section `{h}`; its sections are: {}",
                        n.id,
                        headings.join(", ")
                    )));
                }
            }
        }
    };
    structured(&NoteOut {
        id: &n.id,
        question_id: n.question_id.as_deref(),
        question: &n.title,
        section: n.section.as_deref(),
        path: &n.path,
        tags: &n.tags,
        related: &n.related,
        headings: secs.iter().map(|s| s.heading).collect(),
        heading: a.heading.as_deref(),
        lines,
        outline: secs
            .iter()
            .map(|s| Outline {
                heading: s.heading,
                lines: span(s.lines),
            })
            .collect(),
        text,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListArgs {
    section: Option<String>,
}

/// The `list_questions` tool.
fn list_questions(engine: &Engine, args: JsonObject) -> Result<CallToolResult, ErrorData> {
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
    structured(&json!({"total": total, "sections": sections}))
}

/// `resources/list`: one resource per question note.
pub fn resources(engine: &Engine) -> ListResourcesResult {
    let list = engine
        .notes()
        .iter()
        .filter(|n| n.question_id.is_some())
        .map(|n| {
            Resource::new(format!("cram://note/{}", n.id), n.id.clone())
                .with_title(n.title.clone())
                .with_description(format!(
                    "{} ({})",
                    n.title,
                    n.section.as_deref().unwrap_or("notes")
                ))
                .with_mime_type("text/markdown")
        })
        .collect();
    ListResourcesResult::with_all_items(list)
}

/// `resources/templates/list`.
pub fn resource_templates() -> ListResourceTemplatesResult {
    ListResourceTemplatesResult::with_all_items(vec![
        ResourceTemplate::new("cram://note/{id}", "note")
            .with_title("A reference note by question id")
            .with_description("The whole note for one interview question, e.g. cram://note/q14")
            .with_mime_type("text/markdown"),
    ])
}

/// `resources/read` for `cram://note/<id>`.
pub fn read_resource(engine: &Engine, uri: &str) -> Result<ReadResourceResult, ErrorData> {
    let not_found = || {
        ErrorData::resource_not_found(
            format!("resource not found: {uri} (try cram://note/q14)"),
            None,
        )
    };
    let id = uri.strip_prefix("cram://note/").ok_or_else(not_found)?;
    let n = engine.note(&normalize_id(id)).map_err(|_| not_found())?;
    let text = crate::render::note_markdown(n);
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(text, uri).with_mime_type("text/markdown"),
    ]))
}

/// `prompts/list`.
pub fn prompts() -> ListPromptsResult {
    let section = PromptArgument::new("section")
        .with_description(
            "Section: name, acronym (rag), initials (ml) or a word (backend); empty for all",
        )
        .with_required(false);
    ListPromptsResult::with_all_items(vec![
        Prompt::new(
            "quiz",
            Some("Quiz me on one section of the interview questions, one at a time, grading my answers against the notes."),
            Some(vec![section]),
        )
        .with_title("Quiz me on a section"),
    ])
}

/// `prompts/get` for `quiz`.
pub fn get_prompt(
    engine: &Engine,
    request: &GetPromptRequestParams,
) -> Result<GetPromptResult, ErrorData> {
    if request.name != "quiz" {
        return Err(invalid(format!(
            "unknown prompt `{}`: the prompts are quiz",
            request.name
        )));
    }
    let wanted = match request.arguments.as_ref().and_then(|a| a.get("section")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(section_named(engine.notes(), s)?),
        Some(_) => return Err(invalid("quiz: `section` must be a string")),
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
    Ok(
        GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
            .with_description(format!("Quiz on {scope}")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: Value) -> JsonObject {
        match v {
            Value::Object(o) => o,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn ids_normalize() {
        assert_eq!(normalize_id("14"), "q14");
        assert_eq!(normalize_id("Q4"), "q04");
        assert_eq!(normalize_id(" q14 "), "q14");
        assert_eq!(normalize_id("mine/kv.md"), "mine/kv.md");
    }

    #[test]
    fn sections_split_at_level_two_headings_outside_code() {
        let body = "intro\n## Short answer\nyes\n\n```\n## not a heading\n```\n## Traps\nno\n\n";
        let (s, last) = sections(body);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].heading, "Short answer");
        assert_eq!(
            s[0].text,
            "## Short answer\nyes\n\n```\n## not a heading\n```\n"
        );
        assert_eq!(s[0].lines, [1, 6]);
        assert_eq!(s[1].text, "## Traps\nno\n\n");
        assert_eq!(s[1].lines, [7, 8]);
        assert_eq!(last, 8);
        let concatenated: String = s.iter().map(|s| s.text).collect();
        assert_eq!(format!("intro\n{concatenated}"), body);
    }

    #[test]
    fn search_arguments_are_typed() {
        let e = parse::<SearchArgs>("search", args(json!({"question": 3}))).unwrap_err();
        assert_eq!(e.code, rmcp::model::ErrorCode::INVALID_PARAMS);
        assert!(e.message.contains("invalid type"), "{}", e.message);
        let e = parse::<SearchArgs>("search", args(json!({"question": "x", "kk": 3}))).unwrap_err();
        assert!(e.message.contains("unknown field"), "{}", e.message);
        let a = parse::<SearchArgs>("search", args(json!({"question": "x", "k": 3}))).unwrap();
        assert_eq!(a.k, Some(3));
    }

    #[test]
    fn tool_definitions_have_object_schemas_and_descriptions() {
        let tools = Server::tool_router().list_all();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(
            names,
            [
                "drill_grade",
                "drill_next",
                "get_note",
                "list_questions",
                "search"
            ]
        );
        for t in &tools {
            assert_eq!(t.input_schema["type"], "object", "{}", t.name);
            assert_eq!(t.input_schema["additionalProperties"], false, "{}", t.name);
            assert!(
                t.description.as_deref().unwrap_or_default().len() > 40,
                "{}",
                t.name
            );
            assert!(t.title.is_some(), "{}", t.name);
        }
    }
}
