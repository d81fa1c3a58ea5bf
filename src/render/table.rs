//! Markdown tables in a terminal: columns aligned when the table fits; when
//! it does not, the widest columns are narrowed and their cells wrapped; when
//! even that cannot fit, each row is listed as `header: value` lines.

use pulldown_cmark::Alignment;

use super::markdown::Layout;
use super::text::{self, Line, Span, Sty, spaces, wrap};

/// Columns are never narrowed below this (unless their content is narrower).
const MIN_COLUMN: usize = 8;
const SEP: &str = " │ ";

/// Lays out a table (`rows[0]` is the header) at `width` columns.
pub fn layout(l: &Layout, align: &[Alignment], rows: &[Vec<Vec<Span>>], width: usize) -> Vec<Line> {
    let ncols = rows.iter().map(Vec::len).max().unwrap_or(0);
    if ncols == 0 {
        return Vec::new();
    }
    let cells: Vec<Vec<Vec<Span>>> = rows
        .iter()
        .map(|r| {
            (0..ncols)
                .map(|j| r.get(j).map(|c| l.cues(c)).unwrap_or_default())
                .collect()
        })
        .collect();
    let natural: Vec<usize> = (0..ncols)
        .map(|j| {
            cells
                .iter()
                .map(|r| text::width(&text::plain(&r[j])))
                .max()
                .unwrap_or(0)
                .max(1)
        })
        .collect();
    match fit(&natural, width) {
        Some(widths) => grid(&cells, align, &widths),
        None => records(&cells, width),
    }
}

/// Column widths that fit `width` (separators included), narrowing the
/// widest columns first; `None` when the columns cannot be that narrow.
fn fit(natural: &[usize], width: usize) -> Option<Vec<usize>> {
    let seps = text::width(SEP) * natural.len().saturating_sub(1);
    let avail = width.checked_sub(seps)?;
    let mut w = natural.to_vec();
    let min: Vec<usize> = natural.iter().map(|&n| n.min(MIN_COLUMN)).collect();
    if min.iter().sum::<usize>() > avail {
        return None;
    }
    while w.iter().sum::<usize>() > avail {
        // Narrow the widest column that can still give.
        let (j, _) = w
            .iter()
            .enumerate()
            .filter(|&(j, &x)| x > min[j])
            .max_by_key(|&(j, &x)| (x, std::cmp::Reverse(j)))?;
        w[j] -= 1;
    }
    Some(w)
}

fn pad(cell: Vec<Span>, width: usize, align: Alignment) -> Vec<Span> {
    let w = text::width(&text::plain(&cell));
    let gap = width.saturating_sub(w);
    let (left, right) = match align {
        Alignment::Right => (gap, 0),
        Alignment::Center => (gap / 2, gap - gap / 2),
        Alignment::Left | Alignment::None => (0, gap),
    };
    let mut out = Vec::with_capacity(cell.len() + 2);
    if left > 0 {
        out.push(spaces(left));
    }
    out.extend(cell);
    if right > 0 {
        out.push(spaces(right));
    }
    out
}

fn grid(cells: &[Vec<Vec<Span>>], align: &[Alignment], widths: &[usize]) -> Vec<Line> {
    let mut out = Vec::new();
    for (i, row) in cells.iter().enumerate() {
        let wrapped: Vec<Vec<Vec<Span>>> = row
            .iter()
            .zip(widths)
            .map(|(c, &w)| {
                let c: Vec<Span> = if i == 0 {
                    c.iter()
                        .map(|s| Span::new(s.text.clone(), s.sty.with(Sty::BOLD)))
                        .collect()
                } else {
                    c.clone()
                };
                wrap(&c, w)
            })
            .collect();
        let height = wrapped.iter().map(Vec::len).max().unwrap_or(0).max(1);
        for k in 0..height {
            let mut spans = Vec::new();
            for (j, col) in wrapped.iter().enumerate() {
                if j > 0 {
                    spans.push(Span::new(SEP, Sty::DIM));
                }
                let a = align.get(j).copied().unwrap_or(Alignment::None);
                spans.extend(pad(col.get(k).cloned().unwrap_or_default(), widths[j], a));
            }
            out.push(Line::new(spans));
        }
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|&w| "─".repeat(w)).collect();
            out.push(Line::new(vec![Span::new(rule.join("─┼─"), Sty::DIM)]));
        }
    }
    out
}

/// A table too wide for columns: each row as its first cell, then
/// `header: value` lines, rows apart by a blank line.
fn records(cells: &[Vec<Vec<Span>>], width: usize) -> Vec<Line> {
    let Some((head, body)) = cells.split_first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, row) in body.iter().enumerate() {
        if i > 0 {
            out.push(Line::blank());
        }
        for (j, cell) in row.iter().enumerate() {
            let label = text::plain(&head[j]);
            let mut spans = vec![Span::new(format!("{label}: "), Sty::BOLD)];
            spans.extend(cell.iter().cloned());
            let (first, rest) = if j == 0 {
                (vec![], vec![spaces(2)])
            } else {
                (vec![spaces(2)], vec![spaces(4)])
            };
            out.extend(text::wrap_hanging(&spans, width, &first, &rest));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::markdown::parse;
    use super::*;

    fn render(md: &str, width: usize) -> Vec<String> {
        Layout { color: false }
            .blocks(&parse(md), width)
            .iter()
            .map(|l| l.text().trim_end().to_string())
            .collect()
    }

    const TABLE: &str = "| metric | value | note |\n|---|---:|---|\n| recall | 0.9 | higher is better |\n| p50 | 12 | ms |\n";

    #[test]
    fn aligned_when_it_fits() {
        assert_eq!(
            render(TABLE, 80),
            [
                "metric │ value │ note",
                "───────┼───────┼─────────────────",
                "recall │   0.9 │ higher is better",
                "p50    │    12 │ ms",
            ]
        );
    }

    #[test]
    fn wrapped_inside_columns_when_too_wide() {
        let lines = render(TABLE, 32);
        assert!(lines.iter().all(|l| text::width(l) <= 32), "{lines:#?}");
        assert!(lines.iter().any(|l| l.contains("higher is")), "{lines:#?}");
    }

    #[test]
    fn listed_by_row_when_columns_cannot_fit() {
        let md = "| a | b | c | d | e |\n|---|---|---|---|---|\n| one two three | four five six | seven eight | nine ten | eleven twelve |\n";
        let lines = render(md, 30);
        assert_eq!(lines[0], "a: one two three");
        assert_eq!(lines[1], "  b: four five six");
        assert!(lines.iter().all(|l| text::width(l) <= 30), "{lines:#?}");
    }
}
