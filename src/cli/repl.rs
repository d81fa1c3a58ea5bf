//! `cram repl` (and `cram` with no command): load the model and index once,
//! then answer question after question.
//!
//! Lines starting with `:` are commands; anything else is a question. A
//! question the notes do not cover on its own is read as a follow-up to the
//! last one answered ([`cram::Engine::ask_following`]), as in a conversation. The
//! session keeps its own history (`:history`, `!N` asks entry N again); on a
//! terminal, the arrow keys and Ctrl-R also reach earlier sessions' lines.

use std::io::Write;
use std::time::Instant;

use cram::render::{self, Style};
use cram::{Engine, Fusion, Mode, SearchParams};

use crate::cli::line::{Line, Reader};

const HELP: &str = "\
Type a question, or a command:
  :show q14          print a question's whole note
  :list              the 55 questions by section
  :k 8               passages per answer (1-100); a setting alone shows them all
  :mode bm25|dense|hybrid
  :fusion convex|rrf
  :mmr 0.85|off      MMR relevance weight (1 = pure relevance)
  :keypoints 5       key-point sentences (0 = none)
  :explain on|off    per-passage scores
  :full on|off       whole passages instead of their best sentences
  :verbatim on|off   search questions as typed (no framing dropped, typo fixed or acronym expanded)
  :history           questions asked so far; !N asks number N again
  :help              this text (also: help)
  :quit              leave (also: exit, quit, Ctrl-D)
";

/// How the session shows things.
pub struct Session {
    /// Colour, explain and full; the width is asked of the terminal before
    /// each answer, so a resized window is followed.
    pub style: Style,
    /// `--width`, when given.
    pub width: Option<usize>,
    /// Whether `:show` may use the pager.
    pub page: bool,
}

/// Runs the session until `:quit` or end of input. On a terminal, lines are
/// edited with rustyline and questions and commands are kept in
/// `$CRAM_HOME/history` for the next session.
pub fn run(
    engine: &mut Engine,
    mut params: SearchParams,
    mut session: Session,
) -> anyhow::Result<()> {
    let mut reader = Reader::new(Some(cram::config::cram_home().join("history")));
    let interactive = reader.interactive();
    let mut out = std::io::stdout();
    let mut history: Vec<String> = Vec::new();
    // The last question answered on its own: a question the notes do not
    // cover alone, but near its note, is read as its follow-up.
    let mut topic: Option<cram::Earlier> = None;
    if interactive {
        writeln!(
            out,
            "cram: {} notes, {} passages. :help for commands.",
            engine.notes().len(),
            engine.generation().chunks.len()
        )?;
    }
    loop {
        let line = match reader.read(if interactive { "cram> " } else { "" })? {
            Line::Text(s) => s,
            Line::Interrupted => continue,
            Line::Eof => break,
        };
        let mut line = line.trim().to_string();
        if line.is_empty() {
            continue;
        }
        if let Some(n) = line.strip_prefix('!') {
            match n
                .trim()
                .parse::<usize>()
                .ok()
                .and_then(|i| history.get(i.wrapping_sub(1)))
            {
                Some(q) => line = q.clone(),
                None => {
                    writeln!(out, "no question {n} in :history")?;
                    continue;
                }
            }
        }
        // Bare `exit`, `quit` and `help` are what people type to leave or
        // ask for help; they are commands, not questions.
        if matches!(line.to_lowercase().as_str(), "exit" | "quit" | "help") {
            line = format!(":{}", line.to_lowercase());
        }
        if let Some(cmd) = line.strip_prefix(':') {
            reader.remember(&line);
            let (name, arg) = cmd
                .split_once(' ')
                .map_or((cmd, ""), |(a, b)| (a, b.trim()));
            session.style.width = crate::cli::term::width(session.width);
            let msg = match command(engine, &mut params, &mut session.style, &history, name, arg) {
                Ok(Flow::Quit) => break,
                Ok(Flow::Say(s)) => s,
                Ok(Flow::Page(s)) => {
                    crate::cli::term::emit(&s, session.page)?;
                    continue;
                }
                Err(e) => format!("error: {e}"),
            };
            write!(out, "{msg}")?;
            if !msg.ends_with('\n') {
                writeln!(out)?;
            }
            continue;
        }
        history.push(line.clone());
        reader.remember(&line);
        let t = Instant::now();
        session.style.width = crate::cli::term::width(session.width);
        match engine.ask_following(&line, topic.as_ref(), &params) {
            Ok(a) => {
                if let Some(e) = cram::Earlier::of(&a) {
                    topic = Some(e);
                }
                write!(out, "{}", render::answer(&a, session.style))?;
                writeln!(out, "({:.1} ms)", t.elapsed().as_secs_f64() * 1000.0)?;
            }
            Err(e) => writeln!(out, "error: {e}")?,
        }
    }
    Ok(())
}

enum Flow {
    Say(String),
    /// Long text: through the pager on a terminal.
    Page(String),
    Quit,
}

fn command(
    engine: &mut Engine,
    params: &mut SearchParams,
    style: &mut Style,
    history: &[String],
    name: &str,
    arg: &str,
) -> anyhow::Result<Flow> {
    let mut next = params.clone();
    let say = |s: String| Ok(Flow::Say(s));
    let setting = matches!(
        name,
        "k" | "keypoints" | "mode" | "fusion" | "mmr" | "verbatim"
    );
    // A setting without a value shows the current settings.
    match name {
        _ if setting && arg.is_empty() => {}
        "q" | "quit" | "exit" => return Ok(Flow::Quit),
        "h" | "help" => return say(HELP.to_string()),
        "show" => {
            let note = engine.note(&crate::normalize_id(arg))?;
            return Ok(Flow::Page(render::note(note, *style)));
        }
        "list" => return say(render::list(engine.notes(), *style)),
        "history" => {
            let lines: Vec<String> = history
                .iter()
                .enumerate()
                .map(|(i, q)| format!("{:>3}  {q}", i + 1))
                .collect();
            return say(if lines.is_empty() {
                "no questions yet".into()
            } else {
                lines.join("\n")
            });
        }
        "explain" => {
            style.explain = matches!(arg, "on" | "1" | "true" | "");
            return say(format!(
                "explain {}",
                if style.explain { "on" } else { "off" }
            ));
        }
        "full" => {
            style.full = matches!(arg, "on" | "1" | "true" | "");
            return say(format!(
                "full passages {}",
                if style.full { "on" } else { "off" }
            ));
        }
        "verbatim" => {
            next.understand = match arg {
                "on" => cram::config::Steps::NONE,
                "off" => cram::config::Steps::default(),
                _ => anyhow::bail!("verbatim is on or off"),
            }
        }
        "k" => next.k = arg.parse()?,
        "keypoints" => next.key_points = arg.parse()?,
        "mode" => {
            next.mode = match arg {
                "bm25" => Mode::Bm25,
                "dense" => Mode::Dense,
                "hybrid" => Mode::Hybrid,
                _ => anyhow::bail!("mode is bm25, dense or hybrid"),
            }
        }
        "fusion" => {
            next.fusion = match arg {
                "rrf" => Fusion::Rrf,
                "convex" => Fusion::Convex,
                _ => anyhow::bail!("fusion is convex or rrf"),
            }
        }
        "mmr" => {
            next.mmr_lambda = if arg == "off" {
                None
            } else {
                Some(arg.parse()?)
            }
        }
        other => anyhow::bail!("unknown command :{other} (:help lists them)"),
    }
    next.validate()?;
    *params = next;
    say(format!(
        "k {}, mode {:?}, fusion {:?}, mmr {}, key points {}, verbatim {}",
        params.k,
        params.mode,
        params.fusion,
        params.mmr_lambda.map_or("off".into(), |l| l.to_string()),
        params.key_points,
        if params.understand == cram::config::Steps::NONE {
            "on"
        } else {
            "off"
        }
    )
    .to_lowercase())
}
