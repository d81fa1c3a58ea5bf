#!/usr/bin/env bash
# Cross-checks against Python tools, in a throwaway venv (nothing is installed
# into the project or $CRAM_HOME):
#   1. trec_check.py: cram's metrics equal pytrec_eval's on cram's own run files (4 decimals),
#      on one collection (all default methods plus the BM25 and feedback methods);
#   2. bm25_vs_bm25s.py: BM25 one thread, top 1000, cram and bm25s in the same run on all four
#      collections: queries per second and nDCG@10, at k1 1.2, b 0.75 (tantivy's constants,
#      cram's default) and at k1 1.5, b 0.75 (bm25s's published setting).
#
# usage: benches/python-baselines.sh [BEIR_DIR]     (default ../shared/benchmarks/scifact)
#        BENCH_COLLECTIONS="dir1 dir2" to choose the collections of step 2.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
shared="$root/../shared/benchmarks"
coll="${1:-$shared/scifact}"
[ -d "$coll" ] || { echo "python-baselines: no collection at $coll" >&2; exit 1; }
read -r -a colls <<< "${BENCH_COLLECTIONS:-$shared/scifact $shared/arguana $shared/cisi $shared/cranfield}"
cram="$root/target/release/cram"
[ -x "$cram" ] || (cd "$root" && cargo build --release --locked)
venv="${TMPDIR:-/tmp}/cram-python-baselines"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet pytrec-eval-terrier==0.5.11 bm25s==0.3.16 PyStemmer==3.1.0 numpy==2.4.6 scipy==1.17.1
fi
runs="$(mktemp -d)"
trap 'rm -rf "$runs"' EXIT
echo "== cram eval --beir $coll (run files in $runs)" >&2
methods="bm25,dense-exact,dense-hnsw,hybrid-rrf,hybrid-convex,hybrid-mmr,bm25-rm3,dense-rocchio,hybrid-prf"
"$cram" eval --beir "$coll" --methods "$methods" --run-out "$runs" --json --resamples 1000 > "$runs/report.json"
"$venv/bin/python" "$here/trec_check.py" "$coll" "$runs"
for kb in "1.2 0.75" "1.5 0.75"; do
  read -r k1 b <<< "$kb"
  echo "== BM25 k1 $k1, b $b: cram and bm25s in one run" >&2
  "$venv/bin/python" "$here/bm25_vs_bm25s.py" "$cram" "$k1" "$b" "${colls[@]}"
  echo
done
