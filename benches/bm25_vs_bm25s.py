"""BM25 in one run, cram against bm25s, on every collection given: speed and nDCG@10.

usage: python bm25_vs_bm25s.py CRAM_BINARY K1 B BEIR_DIR...

For each collection, in the same process run, the two timed in turns (a bm25s pass, then a cram run,
three times; each keeps its best), so load from other processes falls on both:
  * bm25s 0.3.16 (numpy backend, k1/b as given, method "lucene"), its own tokenizer: the regex
    (?u)\\b\\w\\w+\\b, lowercase, its 33 English stopwords (the same list as cram's, Lucene's), the
    PyStemmer English (Snowball) stemmer; one thread, top 1000, tokenising each query inside the
    timed loop; best of 3 passes over the test queries. One thread is `n_threads=0` (bm25s's default:
    the calling thread); `n_threads=1` starts a thread pool per `retrieve` call, which on a loaded
    2-core machine cost bm25s 2-3 ms a query (cProfile: waiting for the worker thread to start);
  * bm25s on cram's own tokens (tantivy's SimpleTokenizer rules re-implemented below: split on
    non-alphanumeric characters, drop tokens of 40+ bytes, lowercase, the same stopwords, the same
    Snowball stemmer): the same scorer fed the same terms, which isolates scoring from tokenising;
  * `cram eval --beir DIR --methods bm25,bm25-exact-len --bm25-k1 K1 --bm25-b B --json`, 3 runs:
    q/s one thread is the best `qps_one_thread` of the `bm25` method (search on one thread,
    analysing the query included, top 1000 fetched); nDCG@10 of `bm25` (tantivy's lossy field
    norms as lengths) and `bm25-exact-len` (exact lengths).

The load average (1 minute) is printed before and after each collection.

nDCG@10 of the bm25s runs is computed with pytrec_eval under the BEIR protocol cram uses (only
queries with judgments, the query's own id dropped, top 100, all queries averaged).
"""
import json
import os
import re
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import bm25s  # noqa: E402
import pytrec_eval  # noqa: E402
import Stemmer  # noqa: E402
from bm25s.stopwords import STOPWORDS_EN  # noqa: E402

CRAM_STOPWORDS = {
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
}
assert set(STOPWORDS_EN) == CRAM_STOPWORDS, "bm25s's English stopwords are not Lucene's 33"


def load(beir_dir):
    docs = [json.loads(line) for line in open(os.path.join(beir_dir, "corpus.jsonl")) if line.strip()]
    ids = [d["_id"] for d in docs]
    texts = []
    for d in docs:
        title, text = d.get("title", ""), d.get("text", "")
        texts.append(text if not title.strip() else title if not text.strip() else f"{title} {text}")
    qrels = {}
    with open(os.path.join(beir_dir, "qrels", "test.tsv")) as f:
        for i, line in enumerate(f):
            cols = line.rstrip("\n").split("\t")
            if i == 0 and cols[0].startswith("query"):
                continue
            qrels.setdefault(cols[0], {})[cols[1]] = int(cols[2])
    qtext = {q["_id"]: q["text"] for q in map(json.loads, open(os.path.join(beir_dir, "queries.jsonl")))}
    queries = [(qid, qtext[qid]) for qid in sorted(qrels)]
    return ids, texts, queries, qrels


STEMMER = Stemmer.Stemmer("english")
SPLIT = re.compile(r"[^\w]+|_+")


def cram_tokens(text):
    """tantivy SimpleTokenizer + RemoveLongFilter(40) + LowerCaser + stopwords + Snowball English."""
    out = []
    for tok in SPLIT.split(text):
        if not tok or len(tok.encode()) >= 40:
            continue
        tok = tok.lower()
        if tok in CRAM_STOPWORDS:
            continue
        out.append(tok)
    return STEMMER.stemWords(out)


def ndcg10(ids, queries, qrels, results, scores):
    run = {}
    for (qid, _), docs, sc in zip(queries, results, scores):
        ranked = [(ids[d], float(s)) for d, s in zip(docs, sc) if ids[d] != qid][:100]
        run[qid] = {d: s for d, s in ranked}
    per = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10"}).evaluate(run)
    return sum(per.get(qid, {}).get("ndcg_cut_10", 0.0) for qid, _ in queries) / len(queries)


def bm25s_own(texts, k1, b):
    r = bm25s.BM25(k1=k1, b=b)
    r.index(bm25s.tokenize(texts, stopwords="en", stemmer=STEMMER, show_progress=False), show_progress=False)
    return r


def bm25s_pass(r, queries, k):
    """One timed pass over the queries, one at a time (tokenising included): queries per second."""
    t = time.perf_counter()
    for _, q in queries:
        tok = bm25s.tokenize([q], stopwords="en", stemmer=STEMMER, show_progress=False)
        r.retrieve(tok, k=k, n_threads=0, show_progress=False)
    return len(queries) / (time.perf_counter() - t)


def bm25s_ranked(r, queries, k):
    tok = bm25s.tokenize([q for _, q in queries], stopwords="en", stemmer=STEMMER, show_progress=False)
    return r.retrieve(tok, k=k, n_threads=0, show_progress=False)


def bm25s_cram_tokens(texts, queries, k1, b):
    r = bm25s.BM25(k1=k1, b=b)
    r.index([cram_tokens(t) for t in texts], show_progress=False)
    vocab = r.vocab_dict
    k = min(1000, len(texts))
    docs, scores = [], []
    for _, q in queries:
        toks = [t for t in cram_tokens(q) if t in vocab]
        if not toks:
            docs.append([])
            scores.append([])
            continue
        d, s = r.retrieve([toks], k=k, n_threads=0, show_progress=False)
        docs.append(d[0])
        scores.append(s[0])
    return docs, scores


def cram_run(binary, beir_dir, k1, b):
    """One `cram eval` run: the bm25 method's q/s one thread, and the report."""
    out = subprocess.run(
        [binary, "eval", "--beir", beir_dir, "--methods", "bm25,bm25-exact-len", "--bm25-k1", str(k1),
         "--bm25-b", str(b), "--resamples", "0", "--json", "-q"],
        check=True, capture_output=True, text=True,
    ).stdout
    report = json.loads(out)
    m = next(m for m in report["methods"] if m["name"] == "bm25")
    return m["qps_one_thread"], report


def main(binary, k1, b, dirs):
    k1, b = float(k1), float(b)
    rows = []
    for d in dirs:
        name = os.path.basename(os.path.normpath(d))
        load_before = os.getloadavg()[0]
        ids, texts, queries, qrels = load(d)
        k = min(1000, len(texts))
        r = bm25s_own(texts, k1, b)
        qps_s = qps_c = 0.0
        for _ in range(3):
            qps_s = max(qps_s, bm25s_pass(r, queries, k))
            q, report = cram_run(binary, d, k1, b)
            qps_c = max(qps_c, q)
        docs, scores = bm25s_ranked(r, queries, k)
        nd_s = ndcg10(ids, queries, qrels, docs, scores)
        docs_c, scores_c = bm25s_cram_tokens(texts, queries, k1, b)
        nd_sc = ndcg10(ids, queries, qrels, docs_c, scores_c)
        nd = {m["name"]: m["ndcg@10"] for m in report["methods"]}
        loadavg = f"{load_before:.2f} / {os.getloadavg()[0]:.2f}"
        rows.append((name, qps_c, qps_s, nd["bm25"], nd["bm25-exact-len"], nd_sc, nd_s, loadavg))
        print(f"{name}: done", file=sys.stderr)
    print(f"BM25 k1 {k1}, b {b}, one thread, top 1000; bm25s {bm25s.__version__}\n")
    print("| collection | cram q/s | bm25s q/s | ratio | cram nDCG@10 (field norms) | cram, exact lengths "
          "| bm25s on cram's tokens | bm25s, own tokenizer | cram - bm25s | load before / after |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, qc, qs, nc, nce, nsc, ns, loadavg in rows:
        print(f"| {name} | {qc:,.0f} | {qs:,.0f} | {qc / qs:.2f}x | {nc:.4f} | {nce:.4f} | {nsc:.4f} | {ns:.4f} "
              f"| {nc - ns:+.4f} | {loadavg} |")
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
