//! `cram drill`: the prompt loop around [`cram::study::drill`].
//!
//! For each question: show it, read an optional typed answer (lines until an
//! empty one), show the key points, sources and short answer (and the
//! key-term hint if something was typed), read a grade, save it. Ctrl-C,
//! Ctrl-D, `q` or the end of input stop the sitting; every grade given so far
//! is already saved.

use std::io::Write;
use std::path::PathBuf;

use cram::render::{self, Style};
use cram::study::drill::{self, Progress, Session};
use cram::study::schedule::{Grade, describe_delay};
use cram::{Engine, SearchParams};

use crate::cli::line::{Line, Reader};

/// A validated `cram drill`.
pub struct Options {
    pub sections: Vec<String>,
    pub count: usize,
    pub ahead: bool,
    pub key_points: usize,
    pub progress: PathBuf,
}

/// The clock ([`drill::now`]: `$CRAM_NOW` or the system time).
pub fn now() -> anyhow::Result<i64> {
    Ok(drill::now()?)
}

/// `cram drill --stats`.
pub fn stats(
    engine: &Engine,
    opts: &Options,
    json: bool,
    style: Style,
    page: bool,
) -> anyhow::Result<()> {
    let progress = Progress::load(&opts.progress)?;
    let deck = drill::deck(engine.notes(), &opts.sections)?;
    let s = drill::stats(&deck, &progress, now()?);
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, &s)?;
        writeln!(out)?;
    } else {
        drop(out);
        crate::cli::term::emit(&render::drill_stats(&s, style), page)?;
    }
    Ok(())
}

/// What the reader answered at the grade prompt.
enum Choice {
    Grade(Grade),
    Skip,
    Quit,
}

/// The typed answer: lines until an empty one. `None` when the reader quits
/// (`q` or end of input before anything was typed).
fn read_typed_answer(reader: &mut Reader) -> anyhow::Result<Option<Vec<String>>> {
    let mut typed: Vec<String> = Vec::new();
    loop {
        // Piped input is not echoed: prompts would only litter the transcript.
        let prompt = match (reader.interactive(), typed.is_empty()) {
            (false, _) => "",
            (true, true) => "> ",
            (true, false) => ". ",
        };
        match reader.read(prompt)? {
            Line::Text(s) if s.trim().is_empty() => return Ok(Some(typed)),
            Line::Text(s) if typed.is_empty() && matches!(s.trim(), "q" | ":q" | ":quit") => {
                return Ok(None);
            }
            Line::Text(s) => typed.push(s),
            Line::Interrupted | Line::Eof if typed.is_empty() => return Ok(None),
            Line::Interrupted | Line::Eof => return Ok(Some(typed)),
        }
    }
}

/// Asks for a grade until one is given, or a skip, or a quit.
fn read_grade(reader: &mut Reader, out: &mut impl Write) -> anyhow::Result<Choice> {
    loop {
        let prompt = "Grade: 1 again · 2 hard · 3 good · 4 easy (s skips, q quits) > ";
        if !reader.interactive() {
            writeln!(out, "{prompt}")?;
        }
        match reader.read(if reader.interactive() { prompt } else { "" })? {
            Line::Text(s) => {
                let s = s.trim();
                if let Some(g) = Grade::parse(s) {
                    return Ok(Choice::Grade(g));
                }
                match s {
                    "s" | "skip" => return Ok(Choice::Skip),
                    "q" | ":q" | ":quit" => return Ok(Choice::Quit),
                    _ => writeln!(out, "1, 2, 3 or 4 (again, hard, good, easy), s or q")?,
                }
            }
            Line::Interrupted | Line::Eof => return Ok(Choice::Quit),
        }
    }
}

/// One sitting.
pub fn run(engine: &mut Engine, opts: &Options, style: Style) -> anyhow::Result<()> {
    let mut progress = Progress::load(&opts.progress)?;
    let deck = drill::deck(engine.notes(), &opts.sections)?;
    let mut out = std::io::stdout();
    let start = now()?;
    let plan = drill::plan(&deck, &progress, start, opts.count, opts.ahead);
    if plan.is_empty() {
        let s = drill::stats(&deck, &progress, start);
        let next = s
            .next_due
            .first()
            .map(|u| {
                format!(
                    " The next, {}, is due {}.",
                    u.id,
                    describe_delay(u.due, start)
                )
            })
            .unwrap_or_default();
        writeln!(
            out,
            "Nothing is due.{next} `cram drill --ahead` reviews early; `cram drill --stats` shows progress."
        )?;
        return Ok(());
    }
    let params = SearchParams {
        key_points: opts.key_points,
        ..SearchParams::default()
    };
    engine.load_model()?;
    let terms = drill::NoteTerms::new(engine.notes());
    let mut reader = Reader::new(None);
    let planned = plan.len();
    let mut session = Session::new(plan);
    writeln!(
        out,
        "Drill: {planned} question{}. Answer in your head or type it (an empty line ends it); \
         Enter alone shows the answer. q quits; every grade is saved at once.\n",
        if planned == 1 { "" } else { "s" }
    )?;
    let mut shown = 0;
    'sitting: while let Some(id) = session.next_question() {
        shown += 1;
        let Some(card) = deck.iter().find(|c| c.id == id) else {
            continue;
        };
        let why = drill::why(&progress, &id, now()?);
        let of = shown + session.remaining();
        write!(
            out,
            "{}",
            render::drill_question(shown, of, card, &why, style)
        )?;

        let Some(typed) = read_typed_answer(&mut reader)? else {
            break 'sitting;
        };
        let material = drill::card(engine, &id, &params, &terms)?;
        let typed = typed.join("\n");
        let hint = (!typed.trim().is_empty()).then(|| drill::hint(&material.key_terms, &typed));
        writeln!(out)?;
        write!(
            out,
            "{}",
            render::drill_card(&material, hint.as_ref(), style)
        )?;

        let grade = match read_grade(&mut reader, &mut out)? {
            Choice::Grade(g) => g,
            Choice::Skip => {
                writeln!(out, "skipped\n")?;
                continue;
            }
            Choice::Quit => break 'sitting,
        };
        let covered = hint
            .as_ref()
            .map(|h| [h.covered.len(), h.covered.len() + h.missed.len()]);
        let t = now()?;
        let state = progress.record(&id, grade, t, covered)?;
        session.graded(&id, grade);
        let back = describe_delay(state.due, t);
        let again = if grade == Grade::Again {
            " (and once more at the end of this sitting)"
        } else {
            ""
        };
        writeln!(out, "{}: back {back}{again}\n", grade.name())?;
    }
    let t = session.tally;
    let s = drill::stats(&deck, &progress, now()?);
    writeln!(
        out,
        "Reviewed {}: {} again, {} hard, {} good, {} easy. Due now: {}; new: {}. Saved to {}.",
        session.reviewed(),
        t[0],
        t[1],
        t[2],
        t[3],
        s.total.due_now,
        s.total.new,
        progress.path().display()
    )?;
    Ok(())
}
