#!/usr/bin/env python3
"""Lines per default answer over the dev queries, as a terminal shows them.

Pipes every query of tests/data/dev_queries.tsv into one `cram repl` session
(the model loads once) and counts the lines of each answer (the `(x ms)` line
that ends each one excluded), then prints the median, the 90th percentile and
the longest. Any cram binary works, so an old build gives the "before":

    scripts/answer_lines.py target/release/cram             # piped: 100 columns
    COLUMNS=80 scripts/answer_lines.py target/release/cram  # an 80-column terminal
"""

import os
import re
import statistics
import subprocess
import sys
import unicodedata


def display_width(s: str) -> int:
    """Terminal columns: wide East Asian characters 2, combining marks 0."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in s
    )


def main() -> None:
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/cram"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    queries = []
    with open(os.path.join(root, "tests/data/dev_queries.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                queries.append(line.rstrip("\n").split("\t", 1)[1])
    out = subprocess.run(
        [binary, "repl", "-q"],
        input="\n".join(queries) + "\n",
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "NO_COLOR": "1"},
    ).stdout
    counts = []
    n = 0
    width = 0
    for line in out.splitlines():
        if re.fullmatch(r"\(\d+\.\d ms\)", line):
            counts.append(n)
            n = 0
        else:
            n += 1
            width = max(width, display_width(line))
    if len(counts) != len(queries):
        sys.exit(f"expected {len(queries)} answers, got {len(counts)}")
    counts.sort()
    p90 = counts[min(len(counts) - 1, int(0.9 * len(counts)))]
    print(
        f"{len(counts)} answers: median {statistics.median(counts):g} lines, "
        f"p90 {p90}, max {counts[-1]}; widest line {width} columns"
    )


if __name__ == "__main__":
    main()
