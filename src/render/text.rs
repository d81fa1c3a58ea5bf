//! Styled text for the terminal: spans, word wrapping by display width, and
//! painting with ANSI styles (or without, for a pipe).
//!
//! Widths are Unicode display columns (`unicode-width`): a CJK character is
//! two, a combining accent zero. Wrapping is greedy at spaces; a word wider
//! than the line is split, except a URL or code, which may run past the edge
//! (breaking them would make them wrong to copy).

use std::sync::Arc;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// A set of text styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Sty(u16);

impl Sty {
    pub const PLAIN: Sty = Sty(0);
    pub const BOLD: Sty = Sty(1);
    pub const ITALIC: Sty = Sty(1 << 1);
    pub const CODE: Sty = Sty(1 << 2);
    pub const MATH: Sty = Sty(1 << 3);
    /// TeX shown as written (math that could not be converted).
    pub const TEX: Sty = Sty(1 << 4);
    pub const LINK: Sty = Sty(1 << 5);
    pub const HEADING: Sty = Sty(1 << 6);
    pub const DIM: Sty = Sty(1 << 7);
    pub const CITE: Sty = Sty(1 << 8);
    /// A query term.
    pub const MARK: Sty = Sty(1 << 9);
    pub const STRIKE: Sty = Sty(1 << 10);
    /// Text a terminal adds to stand for what it cannot show (a link's
    /// target after its words); a page, which can show it, leaves it out.
    pub const CUE: Sty = Sty(1 << 11);

    pub const fn with(self, other: Sty) -> Sty {
        Sty(self.0 | other.0)
    }

    pub const fn has(self, other: Sty) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    /// The ANSI SGR parameters for this style ("" for none).
    fn sgr(self) -> String {
        let mut codes: Vec<&str> = Vec::new();
        if self.has(Sty::BOLD) || self.has(Sty::HEADING) || self.has(Sty::MARK) {
            codes.push("1");
        }
        if self.has(Sty::DIM) {
            codes.push("2");
        }
        if self.has(Sty::ITALIC) {
            codes.push("3");
        }
        if self.has(Sty::LINK) {
            codes.push("4");
        }
        if self.has(Sty::STRIKE) {
            codes.push("9");
        }
        // One colour, the most specific wins.
        if self.has(Sty::MARK) {
            codes.push("33");
        } else if self.has(Sty::CODE) {
            codes.push("32");
        } else if self.has(Sty::HEADING) {
            codes.push("34");
        } else if self.has(Sty::CITE) {
            codes.push("36");
        } else if self.has(Sty::TEX) {
            codes.push("35");
        }
        codes.join(";")
    }
}

/// Text in one style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    pub sty: Sty,
    /// What the text stands for, when a page can show more than the text: a
    /// link's target (with [`Sty::LINK`]) or the TeX source of math (with
    /// [`Sty::MATH`] or [`Sty::TEX`]). Terminal layout ignores it.
    pub src: Option<Arc<str>>,
}

impl Span {
    pub fn new(text: impl Into<String>, sty: Sty) -> Span {
        Span {
            text: text.into(),
            sty,
            src: None,
        }
    }

    /// A span standing for `src` (see [`Span::src`]).
    pub fn with_src(text: impl Into<String>, sty: Sty, src: Option<Arc<str>>) -> Span {
        Span {
            text: text.into(),
            sty,
            src,
        }
    }

    pub fn plain(text: impl Into<String>) -> Span {
        Span::new(text, Sty::PLAIN)
    }
}

/// One output line. `verbatim` lines (code) are never wrapped or cut.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line {
    pub spans: Vec<Span>,
    pub verbatim: bool,
}

impl Line {
    pub fn new(spans: Vec<Span>) -> Line {
        Line {
            spans,
            verbatim: false,
        }
    }

    pub fn blank() -> Line {
        Line::default()
    }

    /// Display width.
    pub fn width(&self) -> usize {
        self.spans.iter().map(|s| width(&s.text)).sum()
    }

    /// The text without styles.
    pub fn text(&self) -> String {
        self.spans.iter().map(|s| s.text.as_str()).collect()
    }

    /// `prefix` then this line.
    pub fn prefixed(mut self, prefix: &[Span]) -> Line {
        if !prefix.is_empty() {
            let mut spans = prefix.to_vec();
            spans.append(&mut self.spans);
            self.spans = spans;
        }
        self
    }
}

/// Display width in terminal columns.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// The plain text of spans.
pub fn plain(spans: &[Span]) -> String {
    spans.iter().map(|s| s.text.as_str()).collect()
}

/// A word: the pieces between two spaces, possibly in several styles.
struct Word {
    pieces: Vec<Span>,
    width: usize,
    /// A hard line break comes before this word.
    break_before: bool,
    /// Spaces before it in the source (at least one is kept between words).
    gap: usize,
}

impl Word {
    fn text(&self) -> String {
        plain(&self.pieces)
    }

    /// URLs and code may exceed the line; anything else is split.
    fn unbreakable(&self) -> bool {
        let t = self.text();
        t.contains("://")
            || t.starts_with("www.")
            || self.pieces.iter().all(|p| p.sty.has(Sty::CODE))
    }
}

/// Splits spans into words at whitespace; `\n` is a hard break.
fn words(spans: &[Span]) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::new();
    let empty = || Word {
        pieces: Vec::new(),
        width: 0,
        break_before: false,
        gap: 0,
    };
    let mut cur = empty();
    let mut pending_break = false;
    let mut gap = 0;
    for s in spans {
        for ch in s.text.chars() {
            // A no-break space (from math) joins; any other space separates.
            if ch.is_whitespace() && ch != '\u{A0}' {
                if !cur.pieces.is_empty() {
                    cur.break_before = std::mem::take(&mut pending_break);
                    out.push(std::mem::replace(&mut cur, empty()));
                }
                if ch == '\n' {
                    pending_break = true;
                    gap = 0;
                } else {
                    gap += 1;
                }
                continue;
            }
            if cur.pieces.is_empty() {
                cur.gap = std::mem::take(&mut gap);
            }
            match cur.pieces.last_mut() {
                Some(p) if p.sty == s.sty => p.text.push(ch),
                _ => cur.pieces.push(Span::new(ch.to_string(), s.sty)),
            }
            cur.width += ch.width().unwrap_or(0);
        }
    }
    if !cur.pieces.is_empty() {
        cur.break_before = pending_break;
        out.push(cur);
    }
    out
}

/// Wraps spans into lines of at most `width` columns (greedy, at spaces).
/// Spaces between words on a line are kept as written; `\n` forces a break.
pub fn wrap(spans: &[Span], width: usize) -> Vec<Vec<Span>> {
    let width = width.max(1);
    let mut lines: Vec<Vec<Span>> = Vec::new();
    let mut cur: Vec<Span> = Vec::new();
    let mut cur_w = 0;
    for w in words(spans) {
        if w.break_before && !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
            cur_w = 0;
        }
        let gap = w.gap.max(1);
        let fits = if cur.is_empty() {
            w.width <= width
        } else {
            cur_w + gap + w.width <= width
        };
        if fits {
            if !cur.is_empty() {
                push_space(&mut cur, &w.pieces[0], gap);
                cur_w += gap;
            }
            cur_w += w.width;
            append(&mut cur, w.pieces);
            continue;
        }
        if !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
            cur_w = 0;
        }
        if w.width <= width || w.unbreakable() {
            cur_w = w.width;
            append(&mut cur, w.pieces);
            continue;
        }
        // A word wider than the line: cut it into line-sized pieces.
        for chunk in split_word(w.pieces, width) {
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            cur_w = chunk.iter().map(|s| self::width(&s.text)).sum();
            cur = chunk;
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// The space between two words takes the style they share (so an underlined
/// link stays underlined across its words), else none.
fn push_space(cur: &mut Vec<Span>, next: &Span, n: usize) {
    let shared = match cur.last() {
        Some(last) if last.sty == next.sty && !next.sty.has(Sty::MARK) => last.sty,
        _ => Sty::PLAIN,
    };
    push(cur, &" ".repeat(n), shared);
}

/// Appends spans, merging with the last one when the style (and what it
/// stands for) is the same.
pub fn append(cur: &mut Vec<Span>, spans: Vec<Span>) {
    for s in spans {
        push_src(cur, &s.text, s.sty, s.src.as_ref());
    }
}

/// Appends text in a style, merging with the last span when the style is the same.
pub fn push(cur: &mut Vec<Span>, text: &str, sty: Sty) {
    push_src(cur, text, sty, None);
}

/// Appends text in a style standing for `src` (see [`Span::src`]), merging
/// with the last span when both are the same.
pub fn push_src(cur: &mut Vec<Span>, text: &str, sty: Sty, src: Option<&Arc<str>>) {
    match cur.last_mut() {
        Some(last) if last.sty == sty && last.src.as_ref() == src => last.text.push_str(text),
        _ => cur.push(Span::with_src(text, sty, src.cloned())),
    }
}

/// Cuts a word into pieces of at most `width` columns.
fn split_word(pieces: Vec<Span>, width: usize) -> Vec<Vec<Span>> {
    let mut out: Vec<Vec<Span>> = Vec::new();
    let mut cur: Vec<Span> = Vec::new();
    let mut w = 0;
    for p in pieces {
        for ch in p.text.chars() {
            let cw = ch.width().unwrap_or(0);
            if w + cw > width && w > 0 {
                out.push(std::mem::take(&mut cur));
                w = 0;
            }
            push(&mut cur, ch.encode_utf8(&mut [0; 4]), p.sty);
            w += cw;
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Wraps `spans` at `width` with a first-line prefix and a continuation
/// prefix (a hanging indent); the text is wrapped to fit after the wider one.
pub fn wrap_hanging(spans: &[Span], width: usize, first: &[Span], rest: &[Span]) -> Vec<Line> {
    let indent = self::width(&plain(first)).max(self::width(&plain(rest)));
    wrap(spans, width.saturating_sub(indent).max(MIN_MEASURE))
        .into_iter()
        .enumerate()
        .map(|(i, l)| Line::new(l).prefixed(if i == 0 { first } else { rest }))
        .collect()
}

/// The narrowest measure text is wrapped to, however deep the indent.
pub const MIN_MEASURE: usize = 12;

/// `n` spaces.
pub fn spaces(n: usize) -> Span {
    Span::plain(" ".repeat(n))
}

/// Writes lines as text: with ANSI styles when `color`, trailing spaces
/// trimmed, one `\n` per line.
pub fn paint(lines: &[Line], color: bool, out: &mut String) {
    for l in lines {
        paint_line(l, color, out);
        out.push('\n');
    }
}

fn paint_line(l: &Line, color: bool, out: &mut String) {
    // Trailing whitespace is noise in a terminal and in a diff.
    let mut spans = l.spans.clone();
    while let Some(last) = spans.last_mut() {
        let t = last.text.trim_end().len();
        if t == 0 {
            spans.pop();
        } else {
            last.text.truncate(t);
            break;
        }
    }
    for s in &spans {
        let sgr = if color { s.sty.sgr() } else { String::new() };
        if !sgr.is_empty() {
            out.push_str("\x1b[");
            out.push_str(&sgr);
            out.push('m');
        }
        // No-break spaces only steer wrapping: print plain spaces.
        out.extend(s.text.chars().map(|c| if c == '\u{A0}' { ' ' } else { c }));
        if !sgr.is_empty() {
            out.push_str("\x1b[0m");
        }
    }
}

/// Removes ANSI CSI sequences (`ESC [ ... letter`), for measuring what a
/// terminal shows.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.next();
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Vec<Span>]) -> Vec<String> {
        lines.iter().map(|l| plain(l)).collect()
    }

    #[test]
    fn wraps_greedily_at_spaces() {
        let w = wrap(&[Span::plain("one two three four five six")], 9);
        assert_eq!(texts(&w), ["one two", "three", "four five", "six"]);
    }

    #[test]
    fn counts_display_columns_not_characters() {
        // Each CJK character is two columns; the combining accent none.
        let w = wrap(&[Span::plain("漢字漢字 ŷŷŷŷ abc")], 9);
        assert_eq!(texts(&w), ["漢字漢字", "ŷŷŷŷ abc"]);
        assert!(w.iter().all(|l| width(&plain(l)) <= 9));
    }

    #[test]
    fn long_words_split_but_urls_and_code_do_not() {
        let w = wrap(&[Span::plain("aaaaaaaaaaaaaaaaaaaa b")], 8);
        assert_eq!(texts(&w), ["aaaaaaaa", "aaaaaaaa", "aaaa b"]);
        let url = "https://example.com/a/very/long/path";
        let w = wrap(&[Span::plain(format!("see {url} now"))], 12);
        assert_eq!(texts(&w), ["see", url, "now"]);
        let w = wrap(
            &[
                Span::plain("run "),
                Span::new("cargo_build_release_locked", Sty::CODE),
            ],
            12,
        );
        assert_eq!(texts(&w), ["run", "cargo_build_release_locked"]);
    }

    #[test]
    fn styles_survive_wrapping_and_spaces_take_the_shared_style() {
        let spans = [
            Span::plain("a "),
            Span::new("bold words", Sty::BOLD),
            Span::plain(", c"),
        ];
        let w = wrap(&spans, 80);
        assert_eq!(
            w[0],
            vec![
                Span::plain("a "),
                Span::new("bold words", Sty::BOLD),
                Span::plain(", c")
            ]
        );
    }

    #[test]
    fn hard_breaks_and_hanging_indents() {
        let w = wrap(&[Span::plain("one\ntwo three")], 80);
        assert_eq!(texts(&w), ["one", "two three"]);
        let lines = wrap_hanging(
            &[Span::plain("alpha beta gamma delta epsilon")],
            16,
            &[Span::plain("  • ")],
            &[spaces(4)],
        );
        let t: Vec<String> = lines.iter().map(Line::text).collect();
        assert_eq!(t, ["  • alpha beta", "    gamma delta", "    epsilon"]);
    }

    #[test]
    fn paints_styles_only_with_color_and_trims_trailing_space() {
        let l = Line::new(vec![Span::new("x", Sty::BOLD), Span::plain("  ")]);
        let mut s = String::new();
        paint(std::slice::from_ref(&l), true, &mut s);
        assert_eq!(s, "\x1b[1mx\x1b[0m\n");
        let mut s = String::new();
        paint(&[l], false, &mut s);
        assert_eq!(s, "x\n");
        assert_eq!(strip_ansi("\x1b[1;33mab\x1b[0mc"), "abc");
    }
}
