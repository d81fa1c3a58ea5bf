//! Reading lines from the user for `cram repl` and `cram drill`.
//!
//! On a terminal, lines come from rustyline: arrow keys, Ctrl-R search,
//! and (for the interactive session) a history file that outlives the
//! process. Otherwise (a pipe, a file, a test) lines are read from stdin as
//! they are and prompts are printed plainly, so sessions can be scripted.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use rustyline::error::ReadlineError;

/// What one read gave.
pub enum Line {
    /// A line, without its newline.
    Text(String),
    /// Ctrl-C at the prompt.
    Interrupted,
    /// Ctrl-D or end of input.
    Eof,
}

/// A line source: rustyline on a terminal, plain stdin otherwise.
pub enum Reader {
    Tty {
        editor: Box<rustyline::DefaultEditor>,
        history: Option<PathBuf>,
    },
    Pipe(std::io::StdinLock<'static>),
}

impl Reader {
    /// A reader; `history` is the file that keeps entries across sessions
    /// (terminal only; `None` keeps none).
    pub fn new(history: Option<PathBuf>) -> Reader {
        if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
            let config = rustyline::Config::builder()
                .auto_add_history(false)
                .max_history_size(1000)
                .and_then(|b| b.history_ignore_dups(true))
                .map(|b| b.build());
            if let Ok(mut editor) = config.and_then(rustyline::DefaultEditor::with_config) {
                if let Some(h) = &history {
                    // A missing file is the first session; a damaged one is
                    // not worth stopping for.
                    let _ = editor.load_history(h);
                }
                return Reader::Tty {
                    editor: Box::new(editor),
                    history,
                };
            }
        }
        Reader::Pipe(std::io::stdin().lock())
    }

    /// True on a terminal.
    pub fn interactive(&self) -> bool {
        matches!(self, Reader::Tty { .. })
    }

    /// Shows `prompt` and reads one line.
    pub fn read(&mut self, prompt: &str) -> std::io::Result<Line> {
        match self {
            Reader::Tty { editor, .. } => match editor.readline(prompt) {
                Ok(s) => Ok(Line::Text(s)),
                Err(ReadlineError::Interrupted) => Ok(Line::Interrupted),
                Err(ReadlineError::Eof) => Ok(Line::Eof),
                Err(ReadlineError::Io(e)) => Err(e),
                Err(e) => Err(std::io::Error::other(e.to_string())),
            },
            Reader::Pipe(stdin) => {
                if !prompt.is_empty() {
                    let mut out = std::io::stdout();
                    write!(out, "{prompt}")?;
                    out.flush()?;
                }
                let mut s = String::new();
                if stdin.read_line(&mut s)? == 0 {
                    return Ok(Line::Eof);
                }
                let s = s.strip_suffix('\n').unwrap_or(&s);
                Ok(Line::Text(s.strip_suffix('\r').unwrap_or(s).to_string()))
            }
        }
    }

    /// Adds a line to the history (and to the history file at once, so a
    /// killed session keeps it).
    pub fn remember(&mut self, line: &str) {
        if let Reader::Tty { editor, history } = self
            && editor.add_history_entry(line).unwrap_or(false)
            && let Some(h) = history
        {
            if let Some(dir) = h.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = editor.append_history(h);
        }
    }
}
