//! The terminal around the output: how wide to wrap, and the pager.
//!
//! The width is asked of the terminal on every command (and before every
//! answer in the session, so a resized window is followed), capped at a
//! readable measure. Long output on a terminal goes through a pager as git
//! and bat do: `$CRAM_PAGER`, `$PAGER`, or `less` with `LESS=FRX` (raw colour
//! codes, quit if one screen, leave the text on screen) when `LESS` is unset.
//! Never when stdout is not a terminal, never with `--no-pager`.

use std::io::{IsTerminal, Write};
use std::process::{Command, Stdio};

use cram::render::{DEFAULT_WIDTH, MIN_WIDTH};

/// The terminal's size (columns, rows) when stdout is one.
fn size() -> Option<(usize, usize)> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    terminal_size::terminal_size_of(std::io::stdout())
        .map(|(w, h)| (usize::from(w.0), usize::from(h.0)))
        .filter(|&(w, h)| w > 0 && h > 0)
}

/// `$COLUMNS` when set to a number.
fn env_number(name: &str) -> Option<usize> {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|&n: &usize| n > 0)
}

/// The wrap width: `--width` as given; else the terminal's width (or
/// `$COLUMNS`) up to [`DEFAULT_WIDTH`]; else [`DEFAULT_WIDTH`].
pub fn width(explicit: Option<usize>) -> usize {
    if let Some(w) = explicit {
        return w;
    }
    size()
        .map(|(w, _)| w)
        .or_else(|| env_number("COLUMNS"))
        .map_or(DEFAULT_WIDTH, |w| w.clamp(MIN_WIDTH, DEFAULT_WIDTH))
}

/// The pager command, if one applies: `None` for `cat` or an empty value.
fn pager_command() -> Option<String> {
    let cmd = std::env::var("CRAM_PAGER")
        .or_else(|_| std::env::var("PAGER"))
        .unwrap_or_else(|_| "less".to_string());
    let cmd = cmd.trim().to_string();
    (!cmd.is_empty() && cmd != "cat").then_some(cmd)
}

/// Writes `text` to stdout, through the pager when `page` is allowed, stdout
/// is a terminal and the text is taller than it. A pager that cannot start
/// is skipped; a pager the reader quits early is not an error.
pub fn emit(text: &str, page: bool) -> std::io::Result<()> {
    if page
        && let Some((_, rows)) = size()
        && text.lines().count() >= rows
        && let Some(cmd) = pager_command()
        && let Some(mut child) = spawn_pager(&cmd)
    {
        if let Some(mut stdin) = child.stdin.take() {
            match stdin.write_all(text.as_bytes()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => other?,
            }
        }
        child.wait()?;
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

fn spawn_pager(cmd: &str) -> Option<std::process::Child> {
    let mut c = if cfg!(unix) {
        let mut c = Command::new("sh");
        c.arg("-c").arg(cmd);
        c
    } else {
        Command::new(cmd)
    };
    if std::env::var_os("LESS").is_none() {
        c.env("LESS", "FRX");
    }
    if std::env::var_os("LV").is_none() {
        c.env("LV", "-c");
    }
    c.stdin(Stdio::piped()).spawn().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_width_wins() {
        assert_eq!(width(Some(42)), 42);
    }
}
