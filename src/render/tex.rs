//! TeX math to plain Unicode, for reading in a terminal, and to MathML for
//! the browser page.
//!
//! The notes write math in TeX (`$x_i$`, `$$ ... $$`). A terminal cannot
//! typeset it, but most of what the notes use can be said in Unicode: Greek
//! letters, operators (∑ ∏ √ ∞ ≤ ≈ × ·), ℝ, ᵀ, the sub- and superscripts that
//! exist as characters, fractions written `a/b`. This module does that in two
//! steps so another output can be added later (MathML for an HTML page): [`parse`]
//! turns the source into a small tree ([`Node`]), and [`to_unicode`] writes the
//! tree as one line of text; [`to_mathml`] writes the same tree as MathML for
//! the browser page (`cram serve`), where fractions, roots, limits and accents
//! are typeset. Anything it cannot say (an environment, an unknown command, an
//! accent over several characters in Unicode) is an [`Unsupported`] error, and
//! callers show the TeX source instead, so nothing is silently dropped.
//!
//! No crate fitted: `unicodeit` replaces symbols by substring (no fractions,
//! roots or grouping, and no way to tell what it could not convert);
//! `mdwright-latex` lays fractions out on several lines and is pre-1.0. For
//! MathML, `math-core` (maintained, MathML Core output) would parse the notes'
//! TeX a second time with its own idea of what is unsupported; writing MathML
//! from this module's tree keeps one parse and one fallback rule for both
//! outputs. The table below covers the notes' vocabulary and a little more;
//! unit tests pin each construct, and an integration test converts every
//! expression in the notes to both.

use std::fmt;

/// A parsed math expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// One symbol: a letter, digit, operator or punctuation, already in its
    /// Unicode form, with its spacing class.
    Sym(char, Class),
    /// A delimiter sized to what it encloses (`\left(`, `\right)`, `\bigl[`):
    /// a plain symbol in Unicode, a stretchy one in MathML.
    Fence(char, Class),
    /// A function name such as `log` or `softmax` (upright, spaced like an operator).
    Name(String),
    /// `\text{...}`: words kept as written, spaces included.
    Text(String),
    /// `{ ... }`: a group (an ordinary atom).
    Group(Vec<Node>),
    /// A base with a subscript and/or a superscript.
    Script {
        base: Box<Node>,
        sub: Option<Box<Node>>,
        sup: Option<Box<Node>>,
    },
    /// `\frac{num}{den}` (also `\tfrac`, `\dfrac`).
    Frac(Box<Node>, Box<Node>),
    /// `\binom{n}{k}`.
    Binom(Box<Node>, Box<Node>),
    /// `\sqrt[degree]{body}`.
    Sqrt(Option<Box<Node>>, Box<Node>),
    /// An accent over its argument (`\hat`, `\bar`, `\tilde`, `\vec`, `\dot`).
    Accent(char, Box<Node>),
    /// A font command's argument in another alphabet (`\mathbb`, `\mathcal`).
    Alphabet(Alphabet, Box<Node>),
    /// Explicit space, in quarter-ems roughly: `\,` 1, `\quad` 4, `\qquad` 8.
    Space(u8),
}

/// How a symbol is spaced, as in TeX: relations and binary operators get a
/// space on each side, punctuation after, ordinary symbols none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Ord,
    Op,
    Bin,
    Rel,
    Open,
    Close,
    Punct,
}

/// Alphabets reached with font commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alphabet {
    DoubleStruck,
    Script,
    /// Upright letters (`\mathrm`): the same characters in Unicode.
    Roman,
}

/// Why an expression stays in TeX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

type Result<T> = std::result::Result<T, Unsupported>;

fn unsupported<T>(what: impl Into<String>) -> Result<T> {
    Err(Unsupported(what.into()))
}

/// Converts TeX math (without its `$` delimiters) to one line of Unicode, or
/// says why it cannot.
pub fn convert(src: &str) -> Result<String> {
    to_unicode(&parse(src)?)
}

/// Parses TeX math into a tree.
pub fn parse(src: &str) -> Result<Vec<Node>> {
    let mut p = Parser {
        chars: src.chars().collect(),
        pos: 0,
        depth: 0,
    };
    let nodes = p.sequence()?;
    if p.pos < p.chars.len() {
        return unsupported("an unmatched `}`");
    }
    Ok(nodes)
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

/// Nesting deeper than this is not something the notes write; refusing it
/// keeps hostile input from exhausting the stack.
const MAX_DEPTH: usize = 32;

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// Atoms until `}` or the end, each with its scripts.
    fn sequence(&mut self) -> Result<Vec<Node>> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return unsupported("nesting too deep");
        }
        let mut out = Vec::new();
        loop {
            self.skip_space();
            match self.peek() {
                None | Some('}') => break,
                Some('^' | '_') => {
                    // A script with no base: attach to an empty group.
                    let node = self.scripts(Node::Group(Vec::new()))?;
                    out.push(node);
                }
                Some(_) => {
                    if let Some(atom) = self.atom()? {
                        let node = self.scripts(atom)?;
                        out.push(node);
                    }
                }
            }
        }
        self.depth -= 1;
        Ok(out)
    }

    /// `^` and `_` after a base, in either order, at most one of each.
    fn scripts(&mut self, base: Node) -> Result<Node> {
        let (mut sub, mut sup) = (None, None);
        loop {
            self.skip_space();
            let slot = match self.peek() {
                Some('_') => &mut sub,
                Some('^') => &mut sup,
                Some('\'') if sub.is_none() && sup.is_none() => {
                    // x' is x^\prime; x'' two primes.
                    let mut primes = Vec::new();
                    while self.peek() == Some('\'') {
                        self.pos += 1;
                        primes.push(Node::Sym('′', Class::Ord));
                    }
                    sup = Some(Box::new(Node::Group(primes)));
                    continue;
                }
                _ => break,
            };
            if slot.is_some() {
                return unsupported("a double subscript or superscript");
            }
            self.pos += 1;
            *slot = Some(Box::new(self.argument()?));
        }
        Ok(if sub.is_none() && sup.is_none() {
            base
        } else {
            Node::Script {
                base: Box::new(base),
                sub,
                sup,
            }
        })
    }

    /// One argument: a `{group}`, a command or a single character.
    fn argument(&mut self) -> Result<Node> {
        self.skip_space();
        match self.atom()? {
            Some(n) => Ok(n),
            None => unsupported("a missing argument"),
        }
    }

    /// The text of a `{...}` argument, braces balanced, without parsing it.
    fn raw_group(&mut self) -> Result<String> {
        self.skip_space();
        if self.peek() != Some('{') {
            return unsupported("a text argument without braces");
        }
        self.pos += 1;
        let mut depth = 1;
        let mut s = String::new();
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(s);
                    }
                }
                '\\' => {
                    // \{ \} \% \$ \_ \& and `\ ` inside text.
                    if let Some(n) = self.peek() {
                        if "{}%$_&# ".contains(n) {
                            self.pos += 1;
                            s.push(n);
                            continue;
                        }
                        return unsupported(format!("a command inside \\text (\\{n}...)"));
                    }
                }
                _ => {}
            }
            s.push(c);
        }
        unsupported("an unclosed `{`")
    }

    /// One atom, or `None` for something that prints nothing (`\left.`, `\big`).
    fn atom(&mut self) -> Result<Option<Node>> {
        let Some(c) = self.peek() else {
            return unsupported("a missing argument");
        };
        self.pos += 1;
        let node = match c {
            '{' => {
                let inner = self.sequence()?;
                if self.peek() != Some('}') {
                    return unsupported("an unclosed `{`");
                }
                self.pos += 1;
                Node::Group(inner)
            }
            '}' => return unsupported("an unmatched `}`"),
            '\\' => return self.command(),
            '&' => return unsupported("alignment (`&`)"),
            '~' => Node::Space(2),
            '#' | '%' => return unsupported(format!("`{c}` in math")),
            c => Node::Sym(symbol_char(c), char_class(c)),
        };
        Ok(Some(node))
    }

    /// A command after its backslash.
    fn command(&mut self) -> Result<Option<Node>> {
        let Some(first) = self.peek() else {
            return unsupported("a lone backslash");
        };
        self.pos += 1;
        if !first.is_ascii_alphabetic() {
            return Ok(match first {
                ',' | ':' | ';' | ' ' => Some(Node::Space(2)),
                '!' => None,
                '{' | '}' | '%' | '$' | '_' | '&' | '#' => Some(Node::Sym(
                    first,
                    match first {
                        '{' => Class::Open,
                        '}' => Class::Close,
                        _ => Class::Ord,
                    },
                )),
                '|' => Some(Node::Sym('‖', Class::Ord)),
                '\\' => return unsupported("a line break (`\\\\`)"),
                other => return unsupported(format!("\\{other}")),
            });
        }
        let start = self.pos - 1;
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.pos += 1;
        }
        let name: String = self.chars[start..self.pos].iter().collect();
        self.named(&name)
    }

    fn named(&mut self, name: &str) -> Result<Option<Node>> {
        if let Some((c, class)) = symbol(name) {
            return Ok(Some(Node::Sym(c, class)));
        }
        if let Some(word) = function_name(name) {
            return Ok(Some(Node::Name(word.to_string())));
        }
        let node = match name {
            "frac" | "tfrac" | "dfrac" | "cfrac" => {
                let num = self.argument()?;
                Node::Frac(Box::new(num), Box::new(self.argument()?))
            }
            "binom" | "tbinom" | "dbinom" => {
                let n = self.argument()?;
                Node::Binom(Box::new(n), Box::new(self.argument()?))
            }
            "sqrt" => {
                self.skip_space();
                let degree = if self.peek() == Some('[') {
                    self.pos += 1;
                    let start = self.pos;
                    while self.peek().is_some_and(|c| c != ']') {
                        self.pos += 1;
                    }
                    if self.peek() != Some(']') {
                        return unsupported("an unclosed `[` after \\sqrt");
                    }
                    let mut inner = Parser {
                        chars: self.chars[start..self.pos].to_vec(),
                        pos: 0,
                        depth: self.depth,
                    };
                    self.pos += 1;
                    let degree = inner.sequence()?;
                    if inner.pos < inner.chars.len() {
                        return unsupported("an unmatched `}`");
                    }
                    Some(Box::new(Node::Group(degree)))
                } else {
                    None
                };
                Node::Sqrt(degree, Box::new(self.argument()?))
            }
            "text" | "textrm" | "textit" | "textbf" | "textsf" | "texttt" | "mbox"
            | "textnormal" => Node::Text(self.raw_group()?),
            "mathrm" => Node::Alphabet(Alphabet::Roman, Box::new(self.argument()?)),
            "mathit" | "mathbf" | "mathsf" | "mathtt" | "boldsymbol" | "bm" | "mathnormal" => {
                Node::Group(vec![self.argument()?])
            }
            "operatorname" => {
                let arg = self.raw_group()?;
                let word: String = arg.chars().filter(|c| !c.is_whitespace()).collect();
                if word.chars().any(|c| c == '\\') {
                    return unsupported("a command inside \\operatorname");
                }
                Node::Name(word)
            }
            "mathbb" => Node::Alphabet(Alphabet::DoubleStruck, Box::new(self.argument()?)),
            "mathcal" | "mathscr" => Node::Alphabet(Alphabet::Script, Box::new(self.argument()?)),
            "hat" | "widehat" => Node::Accent('\u{0302}', Box::new(self.argument()?)),
            "bar" | "overline" => Node::Accent('\u{0304}', Box::new(self.argument()?)),
            "tilde" | "widetilde" => Node::Accent('\u{0303}', Box::new(self.argument()?)),
            "vec" => Node::Accent('\u{20D7}', Box::new(self.argument()?)),
            "dot" => Node::Accent('\u{0307}', Box::new(self.argument()?)),
            "ddot" => Node::Accent('\u{0308}', Box::new(self.argument()?)),
            "quad" => Node::Space(4),
            "qquad" => Node::Space(8),
            "thinspace" | "enspace" | "medspace" | "thickspace" => Node::Space(2),
            "left" | "right" | "bigl" | "bigr" | "Bigl" | "Bigr" | "biggl" | "biggr" | "Biggl"
            | "Biggr" | "big" | "Big" | "bigg" | "Bigg" | "middle" => return self.delimiter(name),
            "displaystyle" | "textstyle" | "scriptstyle" | "limits" | "nolimits" | "nonumber" => {
                return Ok(None);
            }
            other => return unsupported(format!("\\{other}")),
        };
        Ok(Some(node))
    }

    /// The delimiter after `\left`, `\right` or a size command; `.` is none.
    fn delimiter(&mut self, name: &str) -> Result<Option<Node>> {
        self.skip_space();
        let class = if name == "left" || name.ends_with('l') {
            Some(Class::Open)
        } else if name == "right" || name.ends_with('r') {
            Some(Class::Close)
        } else {
            None
        };
        match self.peek() {
            Some('.') if name == "left" || name == "right" => {
                self.pos += 1;
                Ok(None)
            }
            // A bare size command (\big) sizes whatever follows: let it parse.
            _ if class.is_none() => Ok(None),
            None => unsupported(format!("\\{name} without a delimiter")),
            Some(_) => {
                let Some(node) = self.atom()? else {
                    return Ok(None);
                };
                Ok(Some(match (node, class) {
                    (Node::Sym(c, _), Some(class)) => Node::Fence(c, class),
                    (n, _) => n,
                }))
            }
        }
    }
}

/// A character typed in math mode: `-` is a minus sign, `'` a prime, `*` an asterisk operator.
fn symbol_char(c: char) -> char {
    match c {
        '-' => '−',
        '*' => '∗',
        _ => c,
    }
}

fn char_class(c: char) -> Class {
    match c {
        '+' | '-' | '*' => Class::Bin,
        '=' | '<' | '>' | ':' => Class::Rel,
        '(' | '[' => Class::Open,
        ')' | ']' | '!' => Class::Close,
        ',' | ';' => Class::Punct,
        _ => Class::Ord,
    }
}

/// Greek letters, operators, relations, arrows and other symbols by command name.
fn symbol(name: &str) -> Option<(char, Class)> {
    letter(name).or_else(|| operator(name))
}

/// Greek and other letter-like symbols (ordinary; `\lVert` and `\rVert` open and close).
fn letter(name: &str) -> Option<(char, Class)> {
    use Class::*;
    let greek = match name {
        "alpha" => 'α',
        "beta" => 'β',
        "gamma" => 'γ',
        "delta" => 'δ',
        "epsilon" | "varepsilon" => 'ε',
        "zeta" => 'ζ',
        "eta" => 'η',
        "theta" => 'θ',
        "vartheta" => 'ϑ',
        "iota" => 'ι',
        "kappa" => 'κ',
        "lambda" => 'λ',
        "mu" => 'μ',
        "nu" => 'ν',
        "xi" => 'ξ',
        "pi" => 'π',
        "varpi" => 'ϖ',
        "rho" => 'ρ',
        "varrho" => 'ϱ',
        "sigma" => 'σ',
        "varsigma" => 'ς',
        "tau" => 'τ',
        "upsilon" => 'υ',
        "phi" | "varphi" => 'φ',
        "chi" => 'χ',
        "psi" => 'ψ',
        "omega" => 'ω',
        "Gamma" => 'Γ',
        "Delta" => 'Δ',
        "Theta" => 'Θ',
        "Lambda" => 'Λ',
        "Xi" => 'Ξ',
        "Pi" => 'Π',
        "Sigma" => 'Σ',
        "Upsilon" => 'Υ',
        "Phi" => 'Φ',
        "Psi" => 'Ψ',
        "Omega" => 'Ω',
        "ell" => 'ℓ',
        "infty" => '∞',
        "partial" => '∂',
        "nabla" => '∇',
        "emptyset" | "varnothing" => '∅',
        "forall" => '∀',
        "exists" => '∃',
        "neg" | "lnot" => '¬',
        "top" => '⊤',
        "bot" | "perp" => '⊥',
        "prime" => '′',
        "dots" | "ldots" => '…',
        "cdots" => '⋯',
        "vdots" => '⋮',
        "ddots" => '⋱',
        "hbar" => 'ℏ',
        "Re" => 'ℜ',
        "Im" => 'ℑ',
        "aleph" => 'ℵ',
        "lVert" | "rVert" | "Vert" => '‖',
        "vert" | "lvert" | "rvert" => '|',
        "angle" => '∠',
        "degree" => '°',
        "surd" => '√',
        _ => '\0',
    };
    if greek != '\0' {
        let class = match name {
            "lVert" | "lvert" => Open,
            "rVert" | "rvert" => Close,
            _ => Ord,
        };
        return Some((greek, class));
    }
    None
}

/// Big operators, binary operators, relations, arrows and brackets.
fn operator(name: &str) -> Option<(char, Class)> {
    use Class::*;
    let (c, class) = match name {
        "sum" => ('∑', Op),
        "prod" => ('∏', Op),
        "coprod" => ('∐', Op),
        "int" => ('∫', Op),
        "iint" => ('∬', Op),
        "oint" => ('∮', Op),
        "bigcup" => ('⋃', Op),
        "bigcap" => ('⋂', Op),
        "times" => ('×', Bin),
        "cdot" => ('·', Bin),
        "pm" => ('±', Bin),
        "mp" => ('∓', Bin),
        "div" => ('÷', Bin),
        "ast" => ('∗', Bin),
        "star" => ('⋆', Bin),
        "circ" => ('∘', Bin),
        "bullet" => ('∙', Bin),
        "odot" => ('⊙', Bin),
        "otimes" => ('⊗', Bin),
        "oplus" => ('⊕', Bin),
        "cap" => ('∩', Bin),
        "cup" => ('∪', Bin),
        "setminus" => ('∖', Bin),
        "wedge" | "land" => ('∧', Bin),
        "vee" | "lor" => ('∨', Bin),
        "approx" => ('≈', Rel),
        "sim" => ('∼', Rel),
        "simeq" => ('≃', Rel),
        "cong" => ('≅', Rel),
        "equiv" => ('≡', Rel),
        "propto" => ('∝', Rel),
        "le" | "leq" => ('≤', Rel),
        "ge" | "geq" => ('≥', Rel),
        "ne" | "neq" => ('≠', Rel),
        "ll" => ('≪', Rel),
        "gg" => ('≫', Rel),
        "lesssim" => ('≲', Rel),
        "gtrsim" => ('≳', Rel),
        "in" => ('∈', Rel),
        "notin" => ('∉', Rel),
        "ni" => ('∋', Rel),
        "subset" => ('⊂', Rel),
        "subseteq" => ('⊆', Rel),
        "supset" => ('⊃', Rel),
        "supseteq" => ('⊇', Rel),
        "mid" => ('|', Rel),
        "parallel" => ('∥', Rel),
        "to" | "rightarrow" => ('→', Rel),
        "leftarrow" | "gets" => ('←', Rel),
        "leftrightarrow" => ('↔', Rel),
        "Rightarrow" | "implies" => ('⇒', Rel),
        "Leftarrow" => ('⇐', Rel),
        "Leftrightarrow" | "iff" => ('⇔', Rel),
        "mapsto" => ('↦', Rel),
        "uparrow" => ('↑', Rel),
        "downarrow" => ('↓', Rel),
        "coloneqq" => ('≔', Rel),
        "langle" => ('⟨', Open),
        "rangle" => ('⟩', Close),
        "lfloor" => ('⌊', Open),
        "rfloor" => ('⌋', Close),
        "lceil" => ('⌈', Open),
        "rceil" => ('⌉', Close),
        "lbrace" => ('{', Open),
        "rbrace" => ('}', Close),
        "colon" => (':', Punct),
        _ => return None,
    };
    Some((c, class))
}

/// Upright function names (`\log`, `\max`), spaced like operators.
fn function_name(name: &str) -> Option<&'static str> {
    const NAMES: &[&str] = &[
        "log", "ln", "lg", "exp", "max", "min", "sup", "inf", "lim", "liminf", "limsup", "arg",
        "argmax", "argmin", "det", "dim", "ker", "deg", "gcd", "Pr", "sin", "cos", "tan", "cot",
        "sec", "csc", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan", "sgn", "tr", "Var",
        "Cov", "diag", "rank", "softmax",
    ];
    NAMES.iter().copied().find(|n| *n == name)
}

/// The space before a relation or binary operator: a line may break after
/// `=` or `+` but not before, as in TeX. Shown as an ordinary space.
pub const NBSP: char = '\u{A0}';

/// Writes a parsed expression as one line of Unicode (the space before a
/// relation or operator is [`NBSP`]).
pub fn to_unicode(nodes: &[Node]) -> Result<String> {
    let mut w = Writer::default();
    w.sequence(nodes, false)?;
    Ok(w.finish())
}

/// Output pieces with their spacing class; spaces are decided when joining.
#[derive(Default)]
struct Writer {
    items: Vec<Piece>,
}

struct Piece {
    s: String,
    class: Class,
    /// A fraction: parenthesised when something is written right against it.
    frac: bool,
    /// Ends in a linear script (`x_model`): a space before the next term.
    linear: bool,
}

impl Writer {
    /// Writes `nodes`; `tight` (inside scripts) drops the spaces around
    /// operators, as TeX does at script size.
    fn sequence(&mut self, nodes: &[Node], tight: bool) -> Result<()> {
        for n in nodes {
            let (s, class) = atom(n)?;
            if class == Class::Ord && s.is_empty() {
                continue;
            }
            let linear = matches!(n, Node::Script { .. }) && (s.contains('_') || s.contains('^'));
            self.items.push(Piece {
                s,
                class: if tight { tighten(class) } else { class },
                frac: matches!(n, Node::Frac(..)),
                linear,
            });
        }
        Ok(())
    }

    fn finish(self) -> String {
        // Pass 1: explicit spaces folded into the piece after them, signs
        // found, the space before each piece decided.
        let mut pieces: Vec<(Piece, usize)> = Vec::new();
        let mut pending = 0usize;
        let mut prev: Option<(Class, bool, bool)> = None; // class, linear, ends in '/'
        for mut p in self.items {
            if p.class == Class::Ord && !p.s.is_empty() && p.s.chars().all(|c| c == ' ') {
                pending = pending.max(p.s.len());
                continue;
            }
            // A binary operator after nothing, an operator, a relation or an
            // opening bracket is a sign: `-x`, `(-1)`, `= -2`.
            let sign = p.class == Class::Bin
                && matches!(
                    prev.map(|x| x.0),
                    None | Some(Class::Bin | Class::Rel | Class::Open | Class::Punct | Class::Op)
                );
            if sign {
                p.class = Class::Ord;
            }
            let starts_term = p.s.chars().next().is_some_and(char::is_alphanumeric);
            let space = match (prev, p.class) {
                (None, _) => 0,
                (Some((_, _, true)), _) => 0,
                (Some((Class::Rel, ..)), Class::Rel) => 0,
                (_, Class::Rel | Class::Bin) | (Some((Class::Rel | Class::Bin, ..)), _) => 1,
                (Some((Class::Punct, ..)), _) => 1,
                (Some((Class::Op, ..)), Class::Ord | Class::Op) => 1,
                (Some((Class::Ord | Class::Close, ..)), Class::Op) => 1,
                (Some((Class::Ord | Class::Close, true, _)), Class::Ord) if starts_term => 1,
                _ => 0,
            };
            // Nothing is spaced after a sign: it acts as an opening.
            let class = if sign { Class::Open } else { p.class };
            prev = Some((class, p.linear, p.s.ends_with('/')));
            pieces.push((p, space.max(pending)));
            pending = 0;
        }
        // Pass 2: write, parenthesising fractions that touch a term.
        let mut out = String::new();
        for i in 0..pieces.len() {
            let (p, space) = &pieces[i];
            if i > 0 && *space > 0 {
                // Break after a relation or operator, never before it.
                let glue = if matches!(p.class, Class::Rel | Class::Bin) {
                    NBSP
                } else {
                    ' '
                };
                out.extend(std::iter::repeat_n(' ', space - 1));
                out.push(glue);
            }
            let touches_before =
                i > 0 && *space == 0 && matches!(pieces[i - 1].0.class, Class::Ord | Class::Close);
            let touches_after = pieces
                .get(i + 1)
                .is_some_and(|(n, sp)| *sp == 0 && matches!(n.class, Class::Ord | Class::Open));
            if p.frac && (touches_before || touches_after) {
                out.push('(');
                out.push_str(&p.s);
                out.push(')');
            } else {
                out.push_str(&p.s);
            }
        }
        out
    }
}

fn tighten(c: Class) -> Class {
    match c {
        Class::Bin | Class::Rel | Class::Punct => Class::Ord,
        c => c,
    }
}

/// One node as text and its class.
fn atom(n: &Node) -> Result<(String, Class)> {
    Ok(match n {
        Node::Sym(c, class) | Node::Fence(c, class) => (c.to_string(), *class),
        Node::Name(s) => (s.clone(), Class::Op),
        Node::Text(s) => (s.clone(), Class::Ord),
        Node::Space(n) => (
            " ".repeat(match n {
                0..=3 => 1,
                4..=7 => 2,
                _ => 3,
            }),
            Class::Ord,
        ),
        Node::Group(inner) => (group(inner, false)?, Class::Ord),
        Node::Script { base, sub, sup } => script(base, sub.as_deref(), sup.as_deref())?,
        Node::Frac(num, den) => (fraction(num, den)?, Class::Ord),
        Node::Binom(n, k) => (
            format!("C({}, {})", group_of(n, false)?, group_of(k, false)?),
            Class::Ord,
        ),
        Node::Sqrt(degree, body) => (root(degree.as_deref(), body)?, Class::Ord),
        Node::Accent(mark, arg) => (accent(*mark, arg)?, Class::Ord),
        Node::Alphabet(a, arg) => (alphabet(*a, arg)?, Class::Ord),
    })
}

fn group(nodes: &[Node], tight: bool) -> Result<String> {
    let mut w = Writer::default();
    w.sequence(nodes, tight)?;
    Ok(w.finish())
}

/// A node as text, groups unwrapped.
fn group_of(n: &Node, tight: bool) -> Result<String> {
    match n {
        Node::Group(inner) => group(inner, tight),
        other => group(std::slice::from_ref(other), tight),
    }
}

/// True when `n` reads as one term: a symbol, a name, a scripted symbol, a
/// root, or a group of one such.
fn is_single_atom(n: &Node) -> bool {
    match n {
        Node::Sym(_, Class::Ord) | Node::Name(_) | Node::Sqrt(..) | Node::Accent(..) => true,
        // \mathrm{x} reads as what it wraps.
        Node::Alphabet(Alphabet::Roman, arg) => is_single_atom(arg),
        Node::Alphabet(..) => true,
        Node::Text(s) => !s.trim().contains(' '),
        Node::Script { base, .. } => is_single_atom(base),
        Node::Group(inner) => match inner.as_slice() {
            [one] => is_single_atom(one),
            // ∂x, ∇f, Δt: one term.
            [Node::Sym('∂' | '∇' | 'Δ' | 'δ', _), x] => is_single_atom(x),
            // A number such as 0.25 or 1{,}000 is one term.
            many => many
                .iter()
                .all(|m| matches!(m, Node::Sym(c, _) if c.is_ascii_digit() || *c == '.')),
        },
        _ => false,
    }
}

/// True when the written form has an operator or space at its top level,
/// so `a + b` needs parentheses to be a numerator.
fn needs_parens(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' | '[' | '{' | '⟨' => depth += 1,
            ')' | ']' | '}' | '⟩' => depth -= 1,
            ' ' | '/' | '+' | '−' | '-' | '×' | '·' | '=' | ',' | '±' if depth == 0 => {
                return true;
            }
            _ => {}
        }
    }
    false
}

fn paren(s: String, needed: bool) -> String {
    if needed { format!("({s})") } else { s }
}

/// `a/b`, with parentheses where the parts need them: `(a + b)/2`, `x/(2σ²)`.
fn fraction(num: &Node, den: &Node) -> Result<String> {
    let n = group_of(num, false)?;
    let d = group_of(den, false)?;
    let n_paren = needs_parens(&n);
    let d_paren = needs_parens(&d) || !is_single_atom(den);
    Ok(format!("{}/{}", paren(n, n_paren), paren(d, d_paren)))
}

/// `√x`, `√(x + y)`, `∛x`, `ⁿ√x`.
fn root(degree: Option<&Node>, body: &Node) -> Result<String> {
    let b = group_of(body, false)?;
    let b = paren(b.clone(), needs_parens(&b) || !is_single_atom(body));
    let sign = match degree.map(|d| group_of(d, true)).transpose()?.as_deref() {
        None => "√".to_string(),
        Some("3") => "∛".to_string(),
        Some("4") => "∜".to_string(),
        Some(d) => match map_all(d, superscript) {
            Some(s) => format!("{s}√"),
            None => return unsupported("a root of that degree"),
        },
    };
    Ok(format!("{sign}{b}"))
}

fn accent(mark: char, arg: &Node) -> Result<String> {
    let s = group_of(arg, false)?;
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(format!("{c}{mark}")),
        _ if mark == '\u{0304}' && !s.is_empty() && !s.contains(' ') => {
            // \bar{xy}: an overline over each character.
            Ok(s.chars().flat_map(|c| [c, '\u{0305}']).collect())
        }
        _ => unsupported("an accent over several characters"),
    }
}

fn alphabet(a: Alphabet, arg: &Node) -> Result<String> {
    let s = group_of(arg, false)?;
    s.chars()
        .map(|c| match (a, c) {
            (_, ' ') => Ok(c),
            (Alphabet::DoubleStruck, c) => double_struck(c),
            (Alphabet::Script, c) => script_letter(c),
            (Alphabet::Roman, c) => Ok(c),
        })
        .collect()
}

fn double_struck(c: char) -> Result<char> {
    Ok(match c {
        'C' => 'ℂ',
        'H' => 'ℍ',
        'N' => 'ℕ',
        'P' => 'ℙ',
        'Q' => 'ℚ',
        'R' => 'ℝ',
        'Z' => 'ℤ',
        '1' => '𝟙',
        'A'..='Z' => char::from_u32(0x1D538 + (c as u32 - 'A' as u32)).unwrap_or(c),
        _ => return unsupported(format!("\\mathbb{{{c}}}")),
    })
}

fn script_letter(c: char) -> Result<char> {
    Ok(match c {
        'B' => 'ℬ',
        'E' => 'ℰ',
        'F' => 'ℱ',
        'H' => 'ℋ',
        'I' => 'ℐ',
        'L' => 'ℒ',
        'M' => 'ℳ',
        'R' => 'ℛ',
        'A'..='Z' => char::from_u32(0x1D49C + (c as u32 - 'A' as u32)).unwrap_or(c),
        _ => return unsupported(format!("\\mathcal{{{c}}}")),
    })
}

/// A base with its scripts: Unicode sub/superscript characters when every
/// character has one (`x²`, `dₖ`, `Kᵀ`), else a linear `x^(n×d)` / `x_model`.
fn script(base: &Node, sub: Option<&Node>, sup: Option<&Node>) -> Result<(String, Class)> {
    let (b, class) = atom(base)?;
    let mut out = b;
    if let Some(s) = sub {
        let text = group_of(s, true)?;
        match map_all(&text, subscript) {
            Some(m) => out.push_str(&m),
            None => {
                out.push('_');
                out.push_str(&paren(
                    text.clone(),
                    text.chars().count() > 1 && needs_parens(&text),
                ));
            }
        }
    }
    if let Some(s) = sup {
        let text = group_of(s, true)?;
        match map_all(&text, superscript) {
            Some(m) => out.push_str(&m),
            None => {
                out.push('^');
                let single = text.chars().count() == 1;
                out.push_str(&paren(text.clone(), !single));
            }
        }
    }
    Ok((out, class))
}

fn map_all(s: &str, f: fn(char) -> Option<char>) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    s.chars().map(f).collect()
}

/// The superscript form of a character, where Unicode has one.
pub fn superscript(c: char) -> Option<char> {
    Some(match c {
        '0' => '⁰',
        '1' => '¹',
        '2' => '²',
        '3' => '³',
        '4' => '⁴',
        '5' => '⁵',
        '6' => '⁶',
        '7' => '⁷',
        '8' => '⁸',
        '9' => '⁹',
        '+' => '⁺',
        '−' | '-' => '⁻',
        '=' => '⁼',
        '(' => '⁽',
        ')' => '⁾',
        'a' => 'ᵃ',
        'b' => 'ᵇ',
        'c' => 'ᶜ',
        'd' => 'ᵈ',
        'e' => 'ᵉ',
        'f' => 'ᶠ',
        'g' => 'ᵍ',
        'h' => 'ʰ',
        'i' => 'ⁱ',
        'j' => 'ʲ',
        'k' => 'ᵏ',
        'l' => 'ˡ',
        'm' => 'ᵐ',
        'n' => 'ⁿ',
        'o' => 'ᵒ',
        'p' => 'ᵖ',
        'r' => 'ʳ',
        's' => 'ˢ',
        't' => 'ᵗ',
        'u' => 'ᵘ',
        'v' => 'ᵛ',
        'w' => 'ʷ',
        'x' => 'ˣ',
        'y' => 'ʸ',
        'z' => 'ᶻ',
        'A' => 'ᴬ',
        'B' => 'ᴮ',
        'D' => 'ᴰ',
        'E' => 'ᴱ',
        'G' => 'ᴳ',
        'H' => 'ᴴ',
        'I' => 'ᴵ',
        'J' => 'ᴶ',
        'K' => 'ᴷ',
        'L' => 'ᴸ',
        'M' => 'ᴹ',
        'N' => 'ᴺ',
        'O' => 'ᴼ',
        'P' => 'ᴾ',
        'R' => 'ᴿ',
        'T' | '⊤' => 'ᵀ',
        'U' => 'ᵁ',
        'V' => 'ⱽ',
        'W' => 'ᵂ',
        'β' => 'ᵝ',
        'γ' => 'ᵞ',
        'δ' => 'ᵟ',
        'θ' => 'ᶿ',
        'φ' => 'ᵠ',
        'χ' => 'ᵡ',
        '′' => '′',
        '∗' | '*' => '*',
        _ => return None,
    })
}

/// The subscript form of a character, where Unicode has one.
pub fn subscript(c: char) -> Option<char> {
    Some(match c {
        '0' => '₀',
        '1' => '₁',
        '2' => '₂',
        '3' => '₃',
        '4' => '₄',
        '5' => '₅',
        '6' => '₆',
        '7' => '₇',
        '8' => '₈',
        '9' => '₉',
        '+' => '₊',
        '−' | '-' => '₋',
        '=' => '₌',
        '(' => '₍',
        ')' => '₎',
        'a' => 'ₐ',
        'e' => 'ₑ',
        'h' => 'ₕ',
        'i' => 'ᵢ',
        'j' => 'ⱼ',
        'k' => 'ₖ',
        'l' => 'ₗ',
        'm' => 'ₘ',
        'n' => 'ₙ',
        'o' => 'ₒ',
        'p' => 'ₚ',
        'r' => 'ᵣ',
        's' => 'ₛ',
        't' => 'ₜ',
        'u' => 'ᵤ',
        'v' => 'ᵥ',
        'x' => 'ₓ',
        'β' => 'ᵦ',
        'γ' => 'ᵧ',
        'ρ' => 'ᵨ',
        'φ' => 'ᵩ',
        'χ' => 'ᵪ',
        _ => return None,
    })
}

// ---------------------------------------------------------------------------
// MathML: the same tree written for a browser (MathML Core, as Chromium,
// Firefox and Safari lay it out). Spacing around operators comes from the
// browser's operator dictionary, as in TeX; only what the dictionary gets
// differently from TeX is written out (ordinary symbols typed as operators,
// the space after a function name).

/// Converts TeX math (without its delimiters) to a `<math>` element, or
/// says why it cannot. The source rides along as an `application/x-tex`
/// annotation, so copying the formula copies its TeX.
pub fn mathml(src: &str, display: bool) -> Result<String> {
    Ok(to_mathml(&parse(src)?, src, display))
}

/// Writes a parsed expression as MathML; `src` is its TeX for the annotation.
///
/// Browsers do not break a line inside `<math>`, so a long inline formula
/// would run off a phone's screen. As TeX (and KaTeX) do, inline math may
/// break after a relation or binary operator at its top level: it is written
/// as one `<math>` per piece, with a break opportunity (`<wbr>`) between
/// them, inside `<span class="math-run">`; the annotation then rides on the
/// span's `title`. Display math is one element (the page lets it scroll).
pub fn to_mathml(nodes: &[Node], src: &str, display: bool) -> String {
    let mut out = String::with_capacity(64 + 40 * nodes.len());
    let pieces = if display {
        vec![nodes]
    } else {
        break_points(nodes)
    };
    if pieces.len() == 1 {
        out.push_str(if display {
            "<math display=\"block\">"
        } else {
            "<math>"
        });
        out.push_str("<semantics><mrow>");
        ml_sequence(nodes, display, &mut out);
        out.push_str("</mrow><annotation encoding=\"application/x-tex\">");
        super::escape_markup(src.trim(), &mut out);
        out.push_str("</annotation></semantics></math>");
        return out;
    }
    out.push_str("<span class=\"math-run\" title=\"");
    super::escape_markup(src.trim(), &mut out);
    out.push_str("\">");
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            out.push_str("<wbr>");
        }
        out.push_str("<math><mrow>");
        let (last, body) = piece.split_last().expect("pieces are not empty");
        ml_sequence(body, false, &mut out);
        match last {
            // The operator a piece ends with keeps the space it has inside a row.
            Node::Sym(c, class @ (Class::Rel | Class::Bin)) if i + 1 < pieces.len() => {
                let space = if *class == Class::Rel {
                    "0.2778em"
                } else {
                    "0.2222em"
                };
                let attrs = format!(" lspace=\"{space}\" rspace=\"{space}\"");
                ml_token("mo", &attrs, &c.to_string(), &mut out);
            }
            other => ml_sequence(std::slice::from_ref(other), false, &mut out),
        }
        out.push_str("</mrow></math>");
    }
    out.push_str("</span>");
    out
}

/// Top-level nodes cut after each relation or binary operator that has a
/// term before it (not a sign: `-x`, `= -2`) and is outside brackets
/// (`p(\theta \mid D)` stays whole).
fn break_points(nodes: &[Node]) -> Vec<&[Node]> {
    let is_op = |n: &Node| matches!(n, Node::Sym(_, Class::Rel | Class::Bin));
    let opens = |n: &Node| {
        matches!(
            n,
            Node::Sym(_, Class::Rel | Class::Bin | Class::Open | Class::Punct)
                | Node::Fence(_, Class::Open)
        )
    };
    let mut out = Vec::new();
    let mut start = 0;
    let mut depth = 0i32;
    for i in 0..nodes.len().saturating_sub(1) {
        match &nodes[i] {
            Node::Sym(_, Class::Open) | Node::Fence(_, Class::Open) => depth += 1,
            Node::Sym(_, Class::Close) | Node::Fence(_, Class::Close) => depth -= 1,
            n if depth <= 0 && i > 0 && is_op(n) && !opens(&nodes[i - 1]) => {
                out.push(&nodes[start..=i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&nodes[start..]);
    out
}

fn ml_token(tag: &str, attrs: &str, text: &str, out: &mut String) {
    out.push('<');
    out.push_str(tag);
    out.push_str(attrs);
    out.push('>');
    super::escape_markup(text, out);
    out.push_str("</");
    out.push_str(tag);
    out.push('>');
}

/// Function names written with limits under them in display math (`\max_a`).
fn takes_limits(name: &str) -> bool {
    matches!(
        name,
        "max"
            | "min"
            | "sup"
            | "inf"
            | "lim"
            | "liminf"
            | "limsup"
            | "argmax"
            | "argmin"
            | "det"
            | "gcd"
            | "Pr"
    )
}

/// A run of digits (with `.` or `{,}` between digits) starting at `nodes[i]`:
/// the number's text and how many nodes it took.
fn ml_number(nodes: &[Node]) -> Option<(String, usize)> {
    let digit = |n: &Node| matches!(n, Node::Sym(c, _) if c.is_ascii_digit());
    let joiner = |n: &Node| match n {
        Node::Sym('.', _) => Some('.'),
        Node::Group(g) if matches!(g.as_slice(), [Node::Sym(',', _)]) => Some(','),
        _ => None,
    };
    if !nodes.first().is_some_and(digit) {
        return None;
    }
    let mut s = String::new();
    let mut i = 0;
    while i < nodes.len() {
        match &nodes[i] {
            Node::Sym(c, _) if c.is_ascii_digit() => s.push(*c),
            n => match joiner(n) {
                Some(j) if nodes.get(i + 1).is_some_and(digit) => s.push(j),
                _ => break,
            },
        }
        i += 1;
    }
    Some((s, i))
}

/// Nodes one after another, inside the caller's `<mrow>`.
fn ml_sequence(nodes: &[Node], display: bool, out: &mut String) {
    let mut i = 0;
    while i < nodes.len() {
        if let Some((num, used)) = ml_number(&nodes[i..]) {
            ml_token("mn", "", &num, out);
            i += used;
            continue;
        }
        ml_node(&nodes[i], display, out);
        // TeX puts a thin space between an operator name and a term (`\log
        // x`), none before a bracket (`\log(x)`); the dictionary knows neither.
        let named = match &nodes[i] {
            Node::Name(_) => true,
            Node::Script { base, .. } => matches!(**base, Node::Name(_)),
            _ => false,
        };
        if named
            && nodes.get(i + 1).is_some_and(|n| {
                !matches!(
                    n,
                    Node::Sym(
                        _,
                        Class::Open | Class::Close | Class::Punct | Class::Rel | Class::Bin
                    )
                )
            })
        {
            out.push_str("<mspace width=\"0.1667em\"></mspace>");
        }
        i += 1;
    }
}

/// One node as exactly one MathML element (groups become `<mrow>`).
fn ml_node(n: &Node, display: bool, out: &mut String) {
    match n {
        Node::Sym(c, class) => ml_symbol(*c, *class, out),
        Node::Fence(c, _) => ml_token("mo", " stretchy=\"true\"", &c.to_string(), out),
        Node::Name(s) => ml_token("mi", "", s, out),
        Node::Text(s) => {
            // Spaces at either end would collapse: keep them as no-break spaces.
            let t: String = s.replace(' ', "\u{A0}");
            ml_token("mtext", "", &t, out);
        }
        Node::Group(inner) => {
            out.push_str("<mrow>");
            ml_sequence(inner, display, out);
            out.push_str("</mrow>");
        }
        Node::Script { base, sub, sup } => {
            ml_script(base, sub.as_deref(), sup.as_deref(), display, out)
        }
        Node::Frac(num, den) => ml_elem("mfrac", "", &[num, den], display, out),
        Node::Binom(n, k) => {
            out.push_str("<mrow><mo>(</mo>");
            ml_elem("mfrac", " linethickness=\"0\"", &[n, k], display, out);
            out.push_str("<mo>)</mo></mrow>");
        }
        Node::Sqrt(None, body) => {
            out.push_str("<msqrt>");
            ml_node(body, display, out);
            out.push_str("</msqrt>");
        }
        Node::Sqrt(Some(degree), body) => ml_elem("mroot", "", &[body, degree], display, out),
        Node::Accent(mark, arg) => {
            let (c, stretchy) = match mark {
                '\u{0302}' => ('\u{02C6}', true),
                '\u{0304}' => ('\u{00AF}', true),
                '\u{0303}' => ('\u{02DC}', true),
                '\u{20D7}' => ('\u{2192}', false),
                '\u{0307}' => ('\u{02D9}', false),
                '\u{0308}' => ('\u{00A8}', false),
                other => (*other, false),
            };
            out.push_str("<mover accent=\"true\">");
            ml_node(arg, display, out);
            let attrs = if stretchy { "" } else { " stretchy=\"false\"" };
            ml_token("mo", attrs, &c.to_string(), out);
            out.push_str("</mover>");
        }
        Node::Alphabet(Alphabet::Roman, arg) => match letters(arg) {
            // One upright identifier: `Attention`, `d`.
            Some(s) if s.chars().count() == 1 => ml_token("mi", " mathvariant=\"normal\"", &s, out),
            Some(s) => ml_token("mi", "", &s, out),
            None => ml_node(arg, display, out),
        },
        Node::Alphabet(a, arg) => match alphabet(*a, arg) {
            Ok(s) => ml_token("mi", "", &s, out),
            Err(_) => ml_node(arg, display, out),
        },
        Node::Space(n) => {
            let em = match n {
                0..=2 => "0.1667em",
                3 => "0.2222em",
                4..=7 => "1em",
                _ => "2em",
            };
            out.push_str("<mspace width=\"");
            out.push_str(em);
            out.push_str("\"></mspace>");
        }
    }
}

/// The letters and digits of `n` when that is all it holds (`{Attention}`).
fn letters(n: &Node) -> Option<String> {
    match n {
        Node::Sym(c, _) if c.is_alphanumeric() => Some(c.to_string()),
        Node::Group(inner) if !inner.is_empty() => inner.iter().map(letters).collect(),
        _ => None,
    }
}

/// `<tag attrs>` around each of `parts` as one element.
fn ml_elem(tag: &str, attrs: &str, parts: &[&Node], display: bool, out: &mut String) {
    out.push('<');
    out.push_str(tag);
    out.push_str(attrs);
    out.push('>');
    for p in parts {
        ml_node(p, display, out);
    }
    out.push_str("</");
    out.push_str(tag);
    out.push('>');
}

fn ml_symbol(c: char, class: Class, out: &mut String) {
    let s = c.to_string();
    if c.is_ascii_digit() {
        return ml_token("mn", "", &s, out);
    }
    if c.is_alphabetic() || "∞∂∇∅ℓℏℵ⊤⊥∠°".contains(c) {
        return ml_token("mi", "", &s, out);
    }
    let attrs = match class {
        // Typed as a symbol, spaced as one (`/`, `.`, `|x|`, `'`).
        Class::Ord => " lspace=\"0\" rspace=\"0\"",
        // `\mid` and `:` are relations whatever the dictionary says.
        Class::Rel if matches!(c, '|' | ':' | '∣') => " lspace=\"0.2778em\" rspace=\"0.2778em\"",
        Class::Open | Class::Close => " stretchy=\"false\"",
        _ => "",
    };
    ml_token("mo", attrs, &s, out);
}

/// A base with its scripts: limits under and over a big operator or `\max`
/// in display math, sub- and superscripts otherwise.
fn ml_script(base: &Node, sub: Option<&Node>, sup: Option<&Node>, display: bool, out: &mut String) {
    let limits = display
        && match base {
            Node::Sym(_, Class::Op) => true,
            Node::Name(n) => takes_limits(n),
            _ => false,
        };
    let tag = match (limits, sub.is_some(), sup.is_some()) {
        (true, true, true) => "munderover",
        (true, true, false) => "munder",
        (true, false, _) => "mover",
        (false, true, true) => "msubsup",
        (false, true, false) => "msub",
        (false, false, _) => "msup",
    };
    let parts: Vec<&Node> = std::iter::once(base).chain(sub).chain(sup).collect();
    ml_elem(tag, "", &parts, display, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> String {
        convert(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .replace(NBSP, " ")
    }

    #[test]
    fn greek_operators_and_spacing() {
        assert_eq!(u(r"\lambda"), "λ");
        assert_eq!(u(r"\alpha + \beta \le \gamma"), "α + β ≤ γ");
        assert_eq!(u(r"a \times b \cdot c"), "a × b · c");
        assert_eq!(u(r"x \approx 4.6"), "x ≈ 4.6");
        assert_eq!(u(r"-\log 0.01"), "−log 0.01");
        assert_eq!(
            u(r"p(\theta \mid x) \propto p(x \mid \theta)\,p(\theta)"),
            "p(θ | x) ∝ p(x | θ) p(θ)"
        );
        assert_eq!(u(r"x = [2, 4, 6, 8]"), "x = [2, 4, 6, 8]");
        assert_eq!(u(r"5{,}000"), "5,000");
        assert_eq!(u(r"f(0,0) = 0.10"), "f(0, 0) = 0.10");
        assert_eq!(u(r"p \to 0"), "p → 0");
    }

    #[test]
    fn scripts_use_unicode_characters_when_they_exist() {
        assert_eq!(u("x^2"), "x²");
        assert_eq!(u("d_k"), "dₖ");
        assert_eq!(u(r"K^\top"), "Kᵀ");
        assert_eq!(u("10^{-1}"), "10⁻¹");
        assert_eq!(u("h_{t-1}"), "hₜ₋₁");
        assert_eq!(u("M_{ij}"), "Mᵢⱼ");
        assert_eq!(u(r"\sum_{i=1}^{n} x_i"), "∑ᵢ₌₁ⁿ xᵢ");
        assert_eq!(u("x'"), "x′");
        // No subscript d, b or q: a linear form instead.
        assert_eq!(u("d_{model}"), "d_model");
        assert_eq!(u("x_b"), "x_b");
        assert_eq!(u(r"e^{z_j}"), "e^(zⱼ)");
    }

    #[test]
    fn real_numbers_and_fonts() {
        assert_eq!(
            u(r"X \in \mathbb{R}^{n \times d_{model}}"),
            "X ∈ ℝ^(n×d_model)"
        );
        assert_eq!(u(r"\mathbb{E}[x]"), "𝔼[x]");
        assert_eq!(u(r"\mathcal{L}"), "ℒ");
        assert_eq!(u(r"\mathrm{Attention}(Q, K, V)"), "Attention(Q, K, V)");
        assert_eq!(
            u(r"f = \text{SHA-256}(\text{canon}(\text{body}))"),
            "f = SHA-256(canon(body))"
        );
        assert_eq!(u(r"5\text{k} + 10\text{ tokens}"), "5k + 10 tokens");
        assert_eq!(u(r"\operatorname{softmax}(z)"), "softmax(z)");
    }

    #[test]
    fn fractions_and_roots() {
        assert_eq!(u(r"\frac{1}{n}"), "1/n");
        assert_eq!(u(r"\frac{a+b}{2}"), "(a + b)/2");
        assert_eq!(u(r"\frac{x}{2\sigma^2}"), "x/(2σ²)");
        assert_eq!(u(r"\frac{QK^\top}{\sqrt{d_k}}"), "QKᵀ/√dₖ");
        assert_eq!(u(r"\sqrt{a(1-a)/n}"), "√(a(1 − a)/n)");
        assert_eq!(u(r"\sqrt[3]{x}"), "∛x");
        assert_eq!(u(r"\tfrac{1}{2}"), "1/2");
        // A fraction written against a term is parenthesised.
        assert_eq!(u(r"\frac{1}{2}(p - y)^2"), "(1/2)(p − y)²");
        assert_eq!(u(r"\frac{1}{n}\sum_i x_i"), "1/n ∑ᵢ xᵢ");
        assert_eq!(u(r"\frac{\partial L}{\partial h_k}"), "∂L/∂hₖ");
        assert_eq!(u(r"e^{z_k}/\sum_j e^{z_j}"), "e^(zₖ)/∑ⱼ e^(zⱼ)");
        assert_eq!(u(r"\gamma_c \hat{x}"), "γ_c x\u{302}");
        assert_eq!(u(r"\binom{n}{k}"), "C(n, k)");
        assert_eq!(
            u(
                r"\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left( \frac{QK^\top}{\sqrt{d_k}} + M \right) V"
            ),
            "Attention(Q, K, V) = softmax(QKᵀ/√dₖ + M)V"
        );
    }

    #[test]
    fn accents_and_delimiters() {
        assert_eq!(u(r"\hat y = 0.5"), "y\u{302} = 0.5");
        assert_eq!(u(r"E[\tilde{h}_i] = h_i"), "E[h̃ᵢ] = hᵢ");
        assert_eq!(u(r"\lVert w \rVert_2"), "‖w‖₂");
        assert_eq!(u(r"\big( a \big)"), "(a)");
        assert_eq!(u(r"\{1, 2\}"), "{1, 2}");
        assert_eq!(u(r"50\%"), "50%");
        assert_eq!(u(r"\$0.012"), "$0.012");
        assert_eq!(u(r"\max_a Q(s, a)"), "maxₐ Q(s, a)");
    }

    #[test]
    fn unsupported_constructs_say_why() {
        for (src, why) in [
            (r"\begin{aligned} a &= b \end{aligned}", "\\begin"),
            (r"\frac{a}{b", "unclosed"),
            (r"a}", "unmatched"),
            (r"\hat{xy}", "several characters"),
            (r"\unknowncommand x", "\\unknowncommand"),
            (r"x^2^3", "double"),
        ] {
            let e = convert(src).unwrap_err();
            assert!(e.0.contains(why), "{src}: {e}");
        }
        // Deep nesting is refused, not a stack overflow.
        let deep = "{".repeat(1000) + &"}".repeat(1000);
        assert!(convert(&deep).is_err());
    }

    /// The MathML of `s` between the outer `<mrow>` and the annotation.
    fn ml(s: &str, display: bool) -> String {
        let m = mathml(s, display).unwrap_or_else(|e| panic!("{s}: {e}"));
        let start = m.find("<semantics><mrow>").unwrap() + "<semantics><mrow>".len();
        let end = m.find("</mrow><annotation").unwrap();
        m[start..end].to_string()
    }

    #[test]
    fn mathml_typesets_fractions_roots_and_scripts() {
        assert_eq!(
            ml(r"\frac{QK^\top}{\sqrt{d_k}}", false),
            "<mfrac><mrow><mi>Q</mi><msup><mi>K</mi><mi>⊤</mi></msup></mrow>\
             <mrow><msqrt><mrow><msub><mi>d</mi><mi>k</mi></msub></mrow></msqrt></mrow></mfrac>"
        );
        assert_eq!(
            ml(r"\sqrt[3]{x}", false),
            "<mroot><mrow><mi>x</mi></mrow><mrow><mn>3</mn></mrow></mroot>"
        );
        assert_eq!(
            ml(r"\binom{n}{k}", false),
            "<mrow><mo>(</mo><mfrac linethickness=\"0\"><mrow><mi>n</mi></mrow><mrow><mi>k</mi></mrow></mfrac><mo>)</mo></mrow>"
        );
        assert_eq!(
            ml("x'", false),
            "<msup><mi>x</mi><mrow><mo lspace=\"0\" rspace=\"0\">′</mo></mrow></msup>"
        );
    }

    #[test]
    fn mathml_numbers_operators_and_limits() {
        assert_eq!(
            ml(r"0.25 + 5{,}000", true),
            "<mn>0.25</mn><mo>+</mo><mn>5,000</mn>"
        );
        assert_eq!(
            ml(r"\sum_{i=1}^{n} x_i", true),
            "<munderover><mo>∑</mo><mrow><mi>i</mi><mo>=</mo><mn>1</mn></mrow><mrow><mi>n</mi></mrow></munderover>\
             <msub><mi>x</mi><mi>i</mi></msub>"
        );
        assert!(ml(r"\sum_{i=1}^{n} x_i", false).starts_with("<msubsup><mo>∑</mo>"));
        assert!(
            ml(r"\max_a Q", true).starts_with("<munder><mi>max</mi><mi>a</mi></munder><mspace")
        );
        assert_eq!(
            ml(r"\log x + \log(x)", true),
            "<mi>log</mi><mspace width=\"0.1667em\"></mspace><mi>x</mi><mo>+</mo>\
             <mi>log</mi><mo stretchy=\"false\">(</mo><mi>x</mi><mo stretchy=\"false\">)</mo>"
        );
        assert_eq!(
            ml(r"p(\theta \mid x)", true),
            "<mi>p</mi><mo stretchy=\"false\">(</mo><mi>θ</mi>\
             <mo lspace=\"0.2778em\" rspace=\"0.2778em\">|</mo><mi>x</mi><mo stretchy=\"false\">)</mo>"
        );
    }

    #[test]
    fn long_inline_math_may_break_after_operators() {
        let m = mathml(r"a = b + c", false).unwrap();
        assert_eq!(
            m,
            "<span class=\"math-run\" title=\"a = b + c\">\
             <math><mrow><mi>a</mi><mo lspace=\"0.2778em\" rspace=\"0.2778em\">=</mo></mrow></math><wbr>\
             <math><mrow><mi>b</mi><mo lspace=\"0.2222em\" rspace=\"0.2222em\">+</mo></mrow></math><wbr>\
             <math><mrow><mi>c</mi></mrow></math></span>"
        );
        // Signs, operators inside groups and display math stay whole.
        assert!(mathml(r"-x", false).unwrap().starts_with("<math>"));
        assert!(mathml(r"x = -1", false).unwrap().matches("<math>").count() == 2);
        assert!(
            mathml(r"\frac{a+b}{2}", false)
                .unwrap()
                .starts_with("<math>")
        );
        assert!(
            mathml(r"a = b", true)
                .unwrap()
                .starts_with("<math display=\"block\">")
        );
        // Not inside brackets.
        let m = mathml(r"p(\theta \mid D) = \left[a + b\right]", false).unwrap();
        assert_eq!(m.matches("<math>").count(), 2, "{m}");
    }

    #[test]
    fn mathml_fonts_accents_text_and_escaping() {
        assert_eq!(ml(r"\mathbb{R}", false), "<mi>ℝ</mi>");
        assert_eq!(
            ml(r"\hat{y}", false),
            "<mover accent=\"true\"><mrow><mi>y</mi></mrow><mo>ˆ</mo></mover>"
        );
        // An accent over several letters, which Unicode cannot say, is fine here.
        assert!(mathml(r"\hat{xy}", false).is_ok());
        assert_eq!(ml(r"\text{ tokens}", false), "<mtext>\u{a0}tokens</mtext>");
        let m = mathml(r"a < b \text{<b>}", true).unwrap();
        assert!(m.starts_with("<math display=\"block\">"), "{m}");
        assert!(
            m.contains("<mo>&lt;</mo>") && m.contains("<mtext>&lt;b&gt;</mtext>"),
            "{m}"
        );
        assert!(
            m.contains(
                "<annotation encoding=\"application/x-tex\">a &lt; b \\text{&lt;b&gt;}</annotation>"
            ),
            "{m}"
        );
        assert!(!m.contains("<b>"));
        assert!(mathml(r"\begin{aligned} a \end{aligned}", true).is_err());
    }
}
