#!/usr/bin/env python3
"""Closest question and abstention per kind of tests/data/realistic_queries.tsv, for any cram build.

`cram eval` reports the realistic set for the build it belongs to; this script measures an older build (or
another notes folder) the same way from outside, one `cram ask --json` process per query:

    python3 scripts/realistic_any_build.py PATH/TO/cram [--corpus DIR --index DIR]

closest@1: the first question the answer names is an acceptable id (when the build abstains, the nearest
question it names); abstained: the answer says the notes do not cover the question.
"""
import collections
import json
import subprocess
import sys


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cram, extra = sys.argv[1], sys.argv[2:]
    rows = [
        line.rstrip("\n").split("\t")
        for line in open("tests/data/realistic_queries.tsv", encoding="utf-8")
        if line.strip() and not line.startswith("#")
    ]
    stats = collections.defaultdict(lambda: [0, 0, 0])
    for kind, ids, query in rows:
        out = subprocess.run(
            [cram, "-q", *extra, "ask", "--json", "--key-points", "0", query],
            capture_output=True, text=True, check=True,
        ).stdout
        answer = json.loads(out)
        top = answer["questions"][0]["id"] if answer["questions"] else None
        ok = top in [x.strip() for x in ids.split(",")]
        keys = [kind] if kind == "adjacent" else [kind, "all in-scope"]
        for k in keys:
            s = stats[k]
            s[0] += 1
            s[1] += ok and kind != "adjacent"
            s[2] += bool(answer["abstained"])
    for kind, (n, closest, abstained) in stats.items():
        cell = "-" if kind == "adjacent" else f"{closest / n:.3f}"
        print(f"{kind}\t{n}\tclosest@1 {cell}\tabstained {abstained / n:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
