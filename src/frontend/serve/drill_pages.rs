//! The drill on the page: the sitting of `cram drill` ([`Session`]: due
//! questions first, then new ones by section; "again" comes back once at the
//! end), one question per page, grades saved by [`Progress::record`] to the
//! same progress file with the same lock and atomic write. One sitting at a
//! time lives in the server (one user, like one `cram drill` process); the
//! progress file is re-read on every request, so the CLI and the page can be
//! used on alternate days, or at once.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::pages::{Tab, inline, layout};
use super::{
    Failure, MAX_BODY_BYTES, Needs, Page, State, blocking, encode, note_href, param, query_pairs,
};
use crate::SearchParams;
use crate::render::html::Options as MdOptions;
use crate::study::drill::{self, Card, DeckCard, Hint, Progress, Session};
use crate::study::schedule::{CardState, Grade, describe_delay};

/// Questions in a sitting unless `count` says otherwise (as `cram drill`).
const DEFAULT_COUNT: usize = 10;

/// Key points shown with an answer (as `cram drill`).
const KEY_POINTS: usize = 5;

/// A sitting in progress.
pub(crate) struct Sitting {
    session: Session,
    /// The question on screen (taken from the queue, not yet graded or skipped).
    current: Option<String>,
    sections: Vec<String>,
    /// Questions shown so far.
    shown: usize,
}

/// What the question page needs to know.
struct Asked {
    card: DeckCard,
    why: String,
    n: usize,
    of: usize,
}

/// What the page shows when no question is left.
enum Done {
    /// The sitting is over: its tally, then what is due and new now.
    Sitting {
        tally: [usize; 4],
        due: usize,
        new: usize,
    },
    /// Nothing was due to begin with; the next due question, if any.
    NothingDue { next: Option<(String, String)> },
}

/// `GET /drill`: the current question of the sitting (starting one if
/// needed: `new=1`, `section`, `count`, `ahead=1`; `skip=qNN` passes one by).
pub(crate) async fn question(
    AxumState(state): AxumState<Arc<State>>,
    RawQuery(raw): RawQuery,
) -> Result<Page, Failure> {
    let pairs = query_pairs(raw.as_deref());
    blocking(state, Needs::Engine, move |st| {
        let progress = Progress::load(&st.progress)?;
        let now = drill::now()?;
        let mut g = st.lock();
        let sections: Vec<String> = param(&pairs, "section")
            .filter(|s| !s.trim().is_empty())
            .map(|s| vec![s.to_string()])
            .unwrap_or_default();
        let deck = drill::deck(g.live.engine().notes(), &sections)?;
        let count = match param(&pairs, "count") {
            None => DEFAULT_COUNT,
            Some(c) => c
                .trim()
                .parse()
                .ok()
                .filter(|c| (1..=1000).contains(c))
                .ok_or_else(|| {
                    Failure::new(
                        StatusCode::BAD_REQUEST,
                        "count must be a number from 1 to 1000",
                    )
                })?,
        };
        // A new sitting when asked, when the section changes, or when the
        // last one is over (unless this is the page right after its last grade).
        let over = |s: &Sitting| {
            s.current.is_none() && s.session.remaining() == 0 && param(&pairs, "graded").is_none()
        };
        let restart = param(&pairs, "new").is_some()
            || g.sitting
                .as_ref()
                .is_none_or(|s| over(s) || (!sections.is_empty() && s.sections != sections));
        if restart {
            let ahead = param(&pairs, "ahead").is_some();
            g.sitting = Some(Sitting {
                session: Session::new(drill::plan(&deck, &progress, now, count, ahead)),
                current: None,
                sections: sections.clone(),
                shown: 0,
            });
        }
        let sitting = g.sitting.as_mut().expect("set above");
        if let Some(skip) = param(&pairs, "skip")
            && sitting.current.as_deref() == Some(skip)
        {
            sitting.current = None;
        }
        let flash = param(&pairs, "graded").and_then(|id| graded_line(&progress, id, now));
        // The next question still in the deck (notes may have changed).
        while sitting.current.is_none() {
            match sitting.session.next_question() {
                Some(id) if deck.iter().any(|c| c.id == id) => {
                    sitting.shown += 1;
                    sitting.current = Some(id);
                }
                Some(_) => continue,
                None => break,
            }
        }
        let asked = sitting.current.as_ref().and_then(|id| {
            let card = deck.iter().find(|c| &c.id == id)?.clone();
            Some(Asked {
                why: drill::why(&progress, id, now),
                n: sitting.shown,
                of: sitting.shown + sitting.session.remaining(),
                card,
            })
        });
        let done = match &asked {
            Some(_) => None,
            None => {
                let stats = drill::stats(&deck, &progress, now);
                Some(if sitting.session.reviewed() > 0 {
                    Done::Sitting {
                        tally: sitting.session.tally,
                        due: stats.total.due_now,
                        new: stats.total.new,
                    }
                } else {
                    Done::NothingDue {
                        next: stats
                            .next_due
                            .first()
                            .map(|u| (u.id.clone(), describe_delay(u.due, now))),
                    }
                })
            }
        };
        let token = st.guard.token.clone();
        drop(g);
        let html = match (asked, done) {
            (Some(a), _) => question_page(&a, flash.as_deref(), &token),
            (None, Some(d)) => done_page(&d, flash.as_deref(), &progress),
            (None, None) => unreachable!("either a question or done"),
        };
        Ok(Page::ok(html.into_string()))
    })
    .await
}

/// "q14 graded good: back in 2 days (and once more in this sitting)".
fn graded_line(progress: &Progress, id: &str, now: i64) -> Option<String> {
    let s = progress.card(id)?;
    let grade = s.last_grade?;
    let again = if grade == Grade::Again {
        " (and once more at the end of this sitting)"
    } else {
        ""
    };
    Some(format!(
        "{id} graded {}: back {}{again}.",
        grade.name(),
        describe_delay(s.due, now)
    ))
}

/// The parsed fields of a drill form, after its token was checked.
struct Form {
    id: String,
    answer: String,
    grade: Option<String>,
}

fn form(
    st: &State,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Form, Failure> {
    let body = body.map_err(|e| {
        Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the form could not be read ({e}); an answer is at most {} KiB",
                MAX_BODY_BYTES >> 10
            ),
        )
    })?;
    if body.len() > MAX_BODY_BYTES {
        return Err(Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the form is larger than {} KiB", MAX_BODY_BYTES >> 10),
        ));
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    st.guard.check_post(headers, param(&pairs, "token"))?;
    let id = crate::index::corpus::normalize_id(param(&pairs, "id").unwrap_or(""));
    Ok(Form {
        id,
        answer: param(&pairs, "answer").unwrap_or("").to_string(),
        grade: param(&pairs, "grade").map(str::to_string),
    })
}

/// The interview question `id` names, or 404.
fn question_note(engine: &crate::Engine, id: &str) -> Result<crate::index::NoteRecord, Failure> {
    engine
        .note(id)
        .ok()
        .filter(|n| n.question_id.is_some())
        .cloned()
        .ok_or_else(|| {
            Failure::new(
                StatusCode::NOT_FOUND,
                format!("{id} is not one of the interview questions"),
            )
        })
}

/// `POST /drill/reveal`: the short answer, key points, sources and the
/// key-term hint for a typed answer, then the grade buttons.
pub(crate) async fn reveal(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Page, Failure> {
    blocking(state, Needs::Engine, move |st| {
        let f = form(st, &headers, body)?;
        let now = drill::now()?;
        let progress = Progress::load(&st.progress)?;
        let mut g = st.lock();
        question_note(g.live.engine(), &f.id)?;
        let terms = g.terms();
        let params = SearchParams {
            key_points: KEY_POINTS,
            ..SearchParams::default()
        };
        let card = drill::card(g.live.engine_mut(), &f.id, &params, &terms)?;
        let (n, of) = match g.sitting.as_ref() {
            Some(s) if s.current.as_deref() == Some(f.id.as_str()) => {
                (s.shown, s.shown + s.session.remaining())
            }
            _ => (0, 0),
        };
        drop(g);
        let hint = (!f.answer.trim().is_empty()).then(|| drill::hint(&card.key_terms, &f.answer));
        let r = Revealed {
            why: drill::why(&progress, &f.id, now),
            state: progress
                .card(&f.id)
                .cloned()
                .unwrap_or_else(|| CardState::new(now)),
            card,
            answer: f.answer,
            hint,
            n,
            of,
            now,
        };
        Ok(Page::ok(reveal_page(&r, &st.guard.token).into_string()))
    })
    .await
}

/// `POST /drill/grade`: saves the grade (and the key terms the typed answer
/// used) and goes on to the next question.
pub(crate) async fn grade(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    blocking(state, Needs::Engine, move |st| {
        let f = form(st, &headers, body)?;
        let grade = f.grade.as_deref().and_then(Grade::parse).ok_or_else(|| {
            Failure::new(
                StatusCode::BAD_REQUEST,
                "grade must be 1, 2, 3 or 4 (again, hard, good, easy)",
            )
        })?;
        let now = drill::now()?;
        let mut g = st.lock();
        let note = question_note(g.live.engine(), &f.id)?;
        let covered = if f.answer.trim().is_empty() {
            None
        } else {
            let terms = g.terms();
            let key = drill::note_key_terms(&note, &terms, drill::KEY_TERMS);
            let h = drill::hint(&key, &f.answer);
            Some([h.covered.len(), h.covered.len() + h.missed.len()])
        };
        let mut progress = Progress::load(&st.progress)?;
        progress.record(&f.id, grade, now, covered)?;
        if let Some(s) = g.sitting.as_mut()
            && s.current.as_deref() == Some(f.id.as_str())
        {
            s.session.graded(&f.id, grade);
            s.current = None;
        }
        Ok(Redirect::to(&format!("/drill?graded={}", encode(&f.id, false))).into_response())
    })
    .await
}

fn position(n: usize, of: usize, card_id: &str, section: &str, why: &str) -> Markup {
    html! {
        p.position {
            @if of > 0 { "Question " (n) " of " (of) " · " }
            (card_id) " · " (section) " · " (why)
        }
    }
}

fn question_page(a: &Asked, flash: Option<&str>, token: &str) -> Markup {
    let c = &a.card;
    let body = html! {
        @if let Some(f) = flash { p.flash { (f) } }
        section.drill {
            (position(a.n, a.of, &c.id, &c.section, &a.why))
            h1 { (inline(&c.question, None)) }
            form.reveal method="post" action="/drill/reveal" {
                input type="hidden" name="token" value=(token);
                input type="hidden" name="id" value=(c.id);
                label for="answer" { "Your answer " span.dim { "(optional: answer in your head, or type it to see which key terms you used)" } }
                textarea #answer name="answer" rows="7" maxlength="16000" {}
                div.actions {
                    button.primary type="submit" { "Show the answer" }
                    a.button.quiet href={ "/drill?skip=" (encode(&c.id, false)) } { "Skip" }
                }
                p.keys { "Keys: Ctrl+Enter shows the answer · s skips (outside the text box)" }
            }
        }
    };
    layout(&format!("Drill: {}", c.id), "", Tab::Drill, body)
}

/// The grade buttons, each saying when the question would come back.
fn grade_form(card: &Card, answer: &str, state: &CardState, now: i64, token: &str) -> Markup {
    html! {
        form.grade method="post" action="/drill/grade" {
            input type="hidden" name="token" value=(token);
            input type="hidden" name="id" value=(card.id);
            input type="hidden" name="answer" value=(answer);
            p.label { "How well did you recall it?" }
            div.grades {
                @for (i, g) in Grade::ALL.iter().enumerate() {
                    button type="submit" name="grade" value=(i + 1) class={ "g" (i + 1) } {
                        span.num { (i + 1) } " " span.name { (g.name()) }
                        span.when { "back " (describe_delay(state.review(*g, now).due, now)) }
                    }
                }
            }
        }
        div.actions {
            a.button.quiet href={ "/drill?skip=" (encode(&card.id, false)) } { "Skip without grading" }
            a.button.quiet href=(note_href(&card.id, None)) { "The whole note" }
            span.keys { "Keys: 1–4 grade · s skips" }
        }
    }
}

/// What the answer page of a drill card shows.
struct Revealed {
    card: Card,
    /// What the user typed (maybe nothing).
    answer: String,
    hint: Option<Hint>,
    why: String,
    /// Position in the sitting (0 of 0 outside one).
    n: usize,
    of: usize,
    /// The question's schedule now, for "back in ..." on each grade.
    state: CardState,
    now: i64,
}

fn reveal_page(r: &Revealed, token: &str) -> Markup {
    let (card, answer, hint) = (&r.card, r.answer.as_str(), r.hint.as_ref());
    let a = &card.answer;
    let cited: Vec<usize> = a.key_points.iter().map(|k| k.passage).collect();
    let body = html! {
        section.drill.revealed {
            (position(r.n, r.of, &card.id, &card.section, &r.why))
            h1 { (inline(&card.question, None)) }
            @if !answer.trim().is_empty() {
                div.typed { p.label { "Your answer" } p.text { (answer) } }
            }
            section.short {
                h2 { "Short answer" }
                (super::pages::blocks(&card.short_answer, None, &mut MdOptions { heading_shift: 2, ..MdOptions::default() }))
            }
            @if !a.key_points.is_empty() {
                section.keypoints {
                    h2 { "Key points" }
                    ul { @for (k, text) in a.key_points.iter().zip(crate::retrieval::keypoints::as_listed(&a.key_points)) { li { (inline(&text, None)) " " span.ref { "[" (k.passage) "]" } } } }
                    ol.sources {
                        @for r in a.results.iter().filter(|r| cited.contains(&r.rank)) {
                            li {
                                span.ref { "[" (r.rank) "]" } " "
                                a href=(note_href(r.question_id.as_deref().unwrap_or(&r.path), Some(&r.chunk_id))) {
                                    (r.question_id.as_deref().unwrap_or(&r.path)) " › " (r.heading.join(" › "))
                                }
                                " " span.cite { (r.path) ":" (r.lines[0]) "–" (r.lines[1]) }
                            }
                        }
                    }
                }
            }
            @if let Some(h) = hint {
                section.hint {
                    h2 { "Your answer used " (h.covered.len()) " of " (h.covered.len() + h.missed.len()) " key terms " span.dim { "(a hint, not a grade)" } }
                    p { span.label { "used: " } @if h.covered.is_empty() { "—" } @else { (h.covered.join(", ")) } }
                    p { span.label { "missed: " } @if h.missed.is_empty() { "—" } @else { (h.missed.join(", ")) } }
                }
            }
            (grade_form(card, answer, &r.state, r.now, token))
        }
    };
    layout(&format!("Drill: {}", card.id), "", Tab::Drill, body)
}

fn done_page(d: &Done, flash: Option<&str>, progress: &Progress) -> Markup {
    let body = html! {
        @if let Some(f) = flash { p.flash { (f) } }
        section.drill.done {
            @match d {
                Done::Sitting { tally, due, new } => {
                    h1 { "Sitting done" }
                    p {
                        "Reviewed " (tally.iter().sum::<usize>()) ": " (tally[0]) " again, " (tally[1]) " hard, "
                        (tally[2]) " good, " (tally[3]) " easy. Due now: " (due) "; new: " (new) "."
                    }
                }
                Done::NothingDue { next } => {
                    h1 { "Nothing is due" }
                    @if let Some((id, when)) = next { p { "The next, " (id) ", is due " (when) "." } }
                }
            }
            p.saved { "Every grade is saved in " code { (progress.path().display().to_string()) } ", the file " code { "cram drill" } " uses." }
            div.actions {
                a.button.primary href="/drill?new=1" { "Start a sitting" }
                a.button.quiet href="/drill?new=1&ahead=1" { "Practise ahead (questions not yet due)" }
            }
        }
    };
    layout("Drill", "", Tab::Drill, body)
}
