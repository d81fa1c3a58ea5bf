"""BM25 search throughput, one thread: bm25s (numpy) vs cram, same machine, same collection.

usage: python bm25s_speed.py BEIR_DIR REPORT_JSON   (REPORT_JSON from `cram eval --beir ... --json`).
bm25s indexes title + " " + text with the English Snowball stemmer (k1=1.2, b=0.75, like tantivy) and
retrieves k=1000 per query, as cram's BM25 arm fetches 1000; time covers tokenising and retrieval.
"""
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import bm25s  # noqa: E402
import Stemmer  # noqa: E402


def main(beir_dir, report_path):
    docs = [json.loads(l) for l in open(os.path.join(beir_dir, "corpus.jsonl"))]
    texts = [(d.get("title", "") + " " + d.get("text", "")).strip() for d in docs]
    qrels = set()
    with open(os.path.join(beir_dir, "qrels", "test.tsv")) as f:
        next(f)
        for line in f:
            qrels.add(line.split("\t")[0])
    queries = [q["text"] for q in map(json.loads, open(os.path.join(beir_dir, "queries.jsonl"))) if q["_id"] in qrels]
    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25(k1=1.2, b=0.75)
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    k = min(1000, len(texts))
    best = 0.0
    for _ in range(3):
        t = time.perf_counter()
        for q in queries:
            tok = bm25s.tokenize([q], stopwords="en", stemmer=stemmer, show_progress=False)
            retriever.retrieve(tok, k=k, n_threads=1, show_progress=False)
        best = max(best, len(queries) / (time.perf_counter() - t))
    report = json.load(open(report_path))
    cram = next(m for m in report["methods"] if m["name"] == "bm25")
    cram_qps = 1000.0 / cram["search_ms"]["p50"]
    print(f"bm25s {bm25s.__version__}: {best:.0f} queries/s (one thread, k={k}, best of 3)")
    print(f"cram bm25: {cram['qps_one_thread']:.0f} queries/s (one thread, fetch 1000, mean); "
          f"{cram_qps:.0f} at the median latency")
    print(f"ratio cram/bm25s: {cram['qps_one_thread'] / best:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
