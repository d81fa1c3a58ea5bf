#!/usr/bin/env python3
"""How much would exact two-word phrases tell the closest question? An offline check before building phrase
(proximity) evidence into retrieval.

    cram eval --realistic-only --misses > /tmp/misses.txt
    python3 scripts/phrase_evidence.py /tmp/misses.txt

For every in-scope query of tests/data/realistic_queries.tsv, the phrases are its adjacent word pairs with no
stopword in them ("label smoothing", "lost in" is not one); a note "has" a phrase when the phrase occurs verbatim
(case-folded, whitespace collapsed) in its markdown. The notes with the most phrases are the phrase evidence's pick.
Printed per group (the query is a closest@1 miss of that build or not): how often an acceptable note is among the
picks, and whether the pick is unique. A feature is worth building if it is right on misses more often than it is
wrong on queries the build already gets right.
"""
import collections
import glob
import re
import sys

STOP = set(
    "a an the of to in on for and or is are was be do does did what how why when which who with without vs i you we "
    "it its my our your this that these those can could should would will just not no at by from as into about than "
    "then so if".split()
)


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    notes = {}
    for path in glob.glob("corpus/q*.md"):
        qid = re.search(r"q\d\d", path).group(0)
        notes[qid] = re.sub(r"\s+", " ", open(path, encoding="utf-8").read().lower())
    missed = set()
    for line in open(sys.argv[1], encoding="utf-8"):
        parts = line.rstrip("\n").split("\t")
        if len(parts) >= 4 and parts[0] == "realistic" and parts[1] != "adjacent":
            missed.add(parts[2])
    rows = [
        line.rstrip("\n").split("\t")
        for line in open("tests/data/realistic_queries.tsv", encoding="utf-8")
        if line.strip() and not line.startswith("#")
    ]
    stats = collections.Counter()
    for kind, ids, query in rows:
        if kind == "adjacent":
            continue
        want = set(re.findall(r"q\d\d", ids))
        words = re.findall(r"[a-z0-9][a-z0-9'\-]*", query.lower())
        phrases = [f"{a} {b}" for a, b in zip(words, words[1:]) if a not in STOP and b not in STOP]
        hits = collections.Counter(qid for p in phrases for qid, text in notes.items() if p in text)
        if not phrases or not hits:
            stats[("no phrase in any note",)] += 1
            continue
        top = max(hits.values())
        picks = {q for q, n in hits.items() if n == top}
        group = "build misses it" if query in missed else "build gets it right"
        verdict = "acceptable note picked" if picks & want else "wrong note picked"
        stats[(group, verdict, "unique pick" if len(picks) == 1 else "tie")] += 1
    for key, n in sorted(stats.items()):
        print(" / ".join(key), n, sep="\t")
    return 0


if __name__ == "__main__":
    sys.exit(main())
